/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest ports the way netd makes and removes them, without QEMU: the link and TAP ops of
 * 'vm start' (vmm/tap-linux.c tap_open, then bridge/link-nl.c port_plug: MAC, port of BRIDGE,
 * up in one request) and of 'vm destroy' (links_del: all in one kernel transaction).
 * Prints "create_ms teardown_ms open_ms", open_ms being the part of create spent opening the
 * TAPs. With --limit it then adds ports until the kernel refuses one and prints netd's error.
 * Run inside a namespace that has BRIDGE.
 * Usage: bench-taps BRIDGE N [--limit]
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "tap.h"

#define PORTS_MAX 2048

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double open_ms;

static int plug(struct link_backend *l, int i, int br, int *fd, int *ifindex)
{
	struct mac mac = { { 0xfe, 0x54, 0x00, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff } };
	char name[IFNAMSIZ];
	double t = now_ms();
	int r;

	snprintf(name, sizeof(name), "vnet%d", i);
	r = tap_linux_ops.tap_open(NULL, name, 1, fd, ifindex);
	open_ms += now_ms() - t;
	return r < 0 ? r : l->ops->port_plug(l->userdata, *ifindex, br, &mac);
}

int main(int argc, char **argv)
{
	static int fds[PORTS_MAX], ifindexes[PORTS_MAX];
	struct link_backend l;
	int n, br, i, r = 0;
	double t0, t1, t2;

	if (argc < 3 || (n = atoi(argv[2])) <= 0 || n > 1023 || !(br = if_nametoindex(argv[1]))) {
		fprintf(stderr, "usage: bench-taps BRIDGE N [--limit] (BRIDGE must exist, N <= 1023)\n");
		return 2;
	}
	if (link_nl_open(&l) < 0)
		return 1;
	t0 = now_ms();
	for (i = 0; i < n; i++)
		if ((r = plug(&l, i, br, &fds[i], &ifindexes[i])) < 0) {
			fprintf(stderr, "port %d: %s\n", i, strerror(-r));
			return 1;
		}
	t1 = now_ms();
	r = l.ops->links_del(l.userdata, ifindexes, n);
	for (i = 0; i < n; i++)
		close(fds[i]);
	t2 = now_ms();
	if (r < 0) {
		fprintf(stderr, "links_del: %s\n", strerror(-r));
		return 1;
	}
	printf("%.1f %.1f %.1f\n", t1 - t0, t2 - t1, open_ms);
	if (argc > 3 && !strcmp(argv[3], "--limit")) {
		for (i = 0; i < PORTS_MAX; i++)
			if ((r = plug(&l, i, br, &fds[i], &ifindexes[i])) < 0)
				break;
		/* The message netd's 'vm start' gives (netd/network/links.c plug_user). */
		if (r == -EXFULL || r == -EBUSY)
			printf("port %d: bridge %s has the kernel's maximum of 1023 ports; cannot add vnet%d (%s)\n", i + 1,
			       argv[1], i, strerror(-r));
		else
			printf("port %d: %s\n", i + 1, r < 0 ? strerror(-r) : "no limit hit");
		l.ops->links_del(l.userdata, ifindexes, i);
		for (int k = 0; k <= i && k < PORTS_MAX; k++)
			if (fds[k] > 0)
				close(fds[k]);
	}
	link_nl_close(&l);
	return 0;
}
