/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small driver of dhcp/ for test-dhcp6-dnsmasq.sh: renders a network's dnsmasq files from the
 * same settings and context netd builds, and prints the lease table parsed from a lease file.
 *   dhcp6-render render DIR BRIDGE MODE ROUTER SUBNET6 SUBNET4|-
 * [host=SPEC|range6=R|domain=D|mtu=N|script=PATH]... dhcp6-render leases FILE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp.h"
#include "fileio.h"
#include "lease.h"

static const char *const modes[] = { "slaac", "dhcpv6", "slaac+dhcpv6" };

static int die(const char *what, const char *err)
{
	fprintf(stderr, "dhcp6-render: %s: %s\n", what, err);
	return 1;
}

static int write_to(const char *dir, const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return write_file_atomic(path, text, strlen(text), 0644);
}

static int option(struct dhcp_settings *s, struct dhcp_render_ctx *ctx, const char *arg, char *err,
		  size_t errlen)
{
	if (!strncmp(arg, "host=", 5)) {
		struct dhcp_host h;

		return dhcp_host_parse(arg + 5, &h, err, errlen) ?: dhcp_host_add(s, &h);
	}
	if (!strncmp(arg, "range6=", 7) && s->n_ranges6 < DHCP_RANGES_MAX)
		return dhcp_range6_parse(arg + 7, &s->ranges6[s->n_ranges6++], err, errlen);
	if (!strncmp(arg, "domain=", 7)) {
		snprintf(s->domain, sizeof(s->domain), "%s", arg + 7);
		return dhcp_domain_check(s->domain, err, errlen);
	}
	if (!strncmp(arg, "mtu=", 4)) {
		ctx->mtu = strtoul(arg + 4, NULL, 10);
		return 0;
	}
	if (!strncmp(arg, "script=", 7)) {
		ctx->script = arg + 7;
		return 0;
	}
	snprintf(err, errlen, "unknown option '%s'", arg);
	return -EINVAL;
}

static int render(int argc, char **argv)
{
	static char lease[512], hosts[512], addn[512];
	const char *dir = argv[2];
	struct dhcp_render_ctx ctx = { .network = "lab", .bridge = argv[3], .bridge_ifindex = 1 };
	struct dhcp_settings s;
	char err[512] = "", *conf = NULL, *hs = NULL, *as = NULL;
	size_t m;

	dhcp_settings_init(&s);
	for (m = 0; m < 3 && strcmp(argv[4], modes[m]); m++)
		;
	if (m == 3)
		return die("mode", argv[4]);
	ctx.ipv6_mode = m;
	ctx.router = ctx.ra_router = ctx.dns_forward = !strcmp(argv[5], "router");
	if (ip_prefix_parse(argv[6], &ctx.subnet6) < 0 || ctx.subnet6.family != AF_INET6)
		return die("subnet6", argv[6]);
	ctx.gateway6 = ctx.subnet6.addr;
	ctx.gateway6.bytes[15] |= 1;
	if (strcmp(argv[7], "-")) {
		if (ip_prefix_parse(argv[7], &ctx.subnet) < 0 || ctx.subnet.family != AF_INET)
			return die("subnet", argv[7]);
		ip_prefix_first_host(&ctx.subnet, &ctx.gateway);
	}
	for (int i = 8; i < argc; i++)
		if (option(&s, &ctx, argv[i], err, sizeof(err)) < 0)
			return die(argv[i], err);
	if (dhcp_settings_validate(&s, &ctx.subnet, &ctx.gateway, err, sizeof(err)) < 0 ||
	    dhcp_settings_validate6(&s, &ctx.subnet6, &ctx.gateway6, m, err, sizeof(err)) < 0)
		return die("settings", err);
	snprintf(lease, sizeof(lease), "%s/leases", dir);
	snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
	snprintf(addn, sizeof(addn), "%s/addnhosts", dir);
	ctx.lease_file = lease;
	ctx.hosts_file = hosts;
	ctx.addn_hosts_file = addn;
	ctx.servers_file = "/dev/null";
	if (dhcp_config_render(&s, &ctx, &conf) < 0 || dhcp_hosts_render(&s, &hs) < 0 ||
	    dhcp_addn_hosts_render(&s, &as) < 0)
		return die("render", "refused");
	if (write_to(dir, "dnsmasq.conf", conf) < 0 || write_to(dir, "hosts", hs) < 0 ||
	    write_to(dir, "addnhosts", as) < 0)
		return die("write", dir);
	free(conf);
	free(hs);
	free(as);
	dhcp_settings_done(&s);
	return 0;
}

/* One line a lease: "6 ADDRESS IAID DUID HOSTNAME" or "4 ADDRESS MAC HOSTNAME", "-" for none. */
static int leases(const char *path)
{
	struct dhcp_lease_table t;
	char *text = NULL, a[INET6_ADDRSTRLEN], d[DHCP_DUID_STRLEN], mac[MAC_STRLEN];
	size_t len = 0, bad = 0;

	if (read_file(path, &text, &len) < 0 || dhcp_lease_file_parse(text, len, &t, &bad) < 0)
		return die("leases", path);
	for (size_t i = 0; i < t.n; i++) {
		const struct dhcp_lease *l = &t.leases[i];

		ip_addr_format(l->family, &l->ip, a, sizeof(a));
		if (l->family == AF_INET6)
			printf("6 %s %s%u %s %s\n", a, l->temporary ? "T" : "", l->iaid,
			       l->duid.len ? dhcp_duid_format(&l->duid, d, sizeof(d)) : "-",
			       l->hostname[0] ? l->hostname : "-");
		else
			printf("4 %s %s %s\n", a, mac_format(&l->mac, mac, sizeof(mac)),
			       l->hostname[0] ? l->hostname : "-");
	}
	printf("bad %zu\n", bad);
	dhcp_lease_table_clear(&t);
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 8 && !strcmp(argv[1], "render"))
		return render(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "leases"))
		return leases(argv[2]);
	fprintf(stderr,
		"usage: dhcp6-render render DIR BRIDGE MODE router|isolated SUBNET6 SUBNET4|- [OPTION]...\n"
		"       dhcp6-render leases FILE\n");
	return 2;
}
