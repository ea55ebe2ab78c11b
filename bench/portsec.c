/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Port security and the input chain the way the daemon applies them (nat/portsec.c and
 * nat/render.c, applied with nat/nft.c). Run inside a network namespace.
 *
 *   bench-portsec scale N REPS   the bridge table for N guest ports in one transaction (prints
 *                                "full MS"), then REPS changes of one port's lease with the N
 *                                ports in place ("change MS" each): what a lease event costs
 *   bench-portsec ports IFNAME,MAC,ADDR...   the bridge table for these ports (level on)
 *   bench-portsec inet BRIDGE SUBNET PORT    table inet netd for one NAT network on BRIDGE whose
 *                                            guests may also reach TCP PORT on its gateway
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firewall.h"
#include "portsec.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int apply(struct fw_nft *f, const char *script, double *ret_ms)
{
	char err[512];
	double t0 = now_ms();

	if (!script || fw_nft_apply(f, script, err, sizeof(err)) < 0) {
		fprintf(stderr, "apply: %s\n", script ? err : "no memory");
		return -1;
	}
	if (ret_ms)
		*ret_ms = now_ms() - t0;
	return 0;
}

/* Guest i: "vnet<i>", 52:54:00:xx:xx:xx, 10.<i / 250>.<i % 250>.10 on network 10.x.0.0/16. */
static void guest(struct ps_port *p, struct ip_prefix *a, int i)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->ifname, sizeof(p->ifname), "vnet%d", i);
	p->mac = (struct mac){ { 0x52, 0x54, 0x00, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i } };
	p->level = PS_LEVEL_FULL;
	a->family = AF_INET;
	a->len = 32;
	a->addr.in.s_addr = htonl(0x0a000000u | (uint32_t)(i / 250) << 16 | (uint32_t)(i % 250) << 8 | 10);
	p->addrs = a;
	p->n_addrs = 1;
}

static int scale(struct fw_nft *f, int n, int reps)
{
	struct ps_port *ports = calloc(n, sizeof(*ports));
	struct ip_prefix *addrs = calloc(n, sizeof(*addrs)), moved;
	char *marker = NULL;
	double ms;

	if (!ports || !addrs)
		return 1;
	for (int i = 0; i < n; i++)
		guest(&ports[i], &addrs[i], i);
	if (apply(f, ps_render(ports, n, &marker), &ms) < 0)
		return 1;
	printf("full %.2f\n", ms);
	for (int r = 0; r < reps; r++) {
		/* The middle guest's lease moves to another address and back: one port's elements. */
		struct ps_port now = ports[n / 2];
		struct ps_change c = { .gone = &ports[n / 2], .n_gone = 1, .added = &now, .n_added = 1 };

		moved = addrs[n / 2];
		moved.addr.in.s_addr ^= htonl(r % 2 ? 0 : 1);
		now.addrs = &moved;
		if (apply(f, ps_render_change(&c), &ms) < 0)
			return 1;
		printf("change %.2f\n", ms);
		addrs[n / 2] = moved;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct fw_nft *f = fw_nft_new();
	char *marker;

	if (!f)
		return 1;
	if (argc == 4 && !strcmp(argv[1], "scale"))
		return scale(f, atoi(argv[2]), atoi(argv[3]));
	if (argc >= 2 && !strcmp(argv[1], "ports")) {
		struct ps_port *p = calloc(argc, sizeof(*p));
		struct ip_prefix *a = calloc(argc, sizeof(*a));

		for (int i = 2; p && a && i < argc; i++) {
			char *ifname = strtok(argv[i], ","), *mac = strtok(NULL, ","),
			     *addr = strtok(NULL, ",");

			if (!ifname || !mac || !addr || mac_parse(mac, &p[i - 2].mac) < 0 ||
			    ip_prefix_parse(addr, &a[i - 2]) < 0)
				return 2;
			snprintf(p[i - 2].ifname, IFNAMSIZ, "%s", ifname);
			p[i - 2].level = PS_LEVEL_FULL;
			p[i - 2].addrs = &a[i - 2];
			p[i - 2].n_addrs = 1;
		}
		return p && a ? -apply(f, ps_render(p, argc - 2, &marker), NULL) : 1;
	}
	if (argc == 5 && !strcmp(argv[1], "inet")) {
		struct fw_network n = { .mode = FW_NAT, .n_host_ports = 1 };

		snprintf(n.bridge, sizeof(n.bridge), "%s", argv[2]);
		if (ip_prefix_parse(argv[3], &n.subnet) < 0)
			return 2;
		ip_prefix_first_host(&n.subnet, &n.gateway);
		n.host_ports[0] = (struct l4_port){ IPPROTO_TCP, (uint16_t)atoi(argv[4]) };
		return -apply(f, fw_render(&n, 1, &marker), NULL);
	}
	fprintf(stderr,
		"usage: bench-portsec scale N REPS | ports IFNAME,MAC,ADDR... | inet BRIDGE SUBNET PORT\n");
	return 2;
}
