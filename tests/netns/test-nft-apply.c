/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nat/nft.c against the real kernel, in a network namespace of its own (unshare): a script that
 * fails in the kernel leaves the previous table in force and comes back with libnftables'
 * message; the marker tells an intact table from a flushed one. Exit 77 without privileges. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall.h"
#include "macro.h"
#include "portsec.h"

#define CHECK(cond, ...)                                  \
	do {                                              \
		if (!(cond)) {                            \
			fprintf(stderr, "FAIL: " __VA_ARGS__); \
			fputc('\n', stderr);              \
			exit(1);                          \
		}                                         \
	} while (0)

/* The bridge table of port security: applied whole, then changed by one small transaction; the
 * listing's counts are what netd compares after someone else's change. */
static void portsec(const struct fw_backend *f)
{
	struct ip_prefix a[2], b[1], leased[1];
	struct ps_port p[2] = { { .ifname = "vm-a-0", .level = PS_LEVEL_FULL, .addrs = a, .n_addrs = 2 },
				{ .ifname = "vnet3", .level = PS_LEVEL_FULL, .addrs = b, .n_addrs = 1 } };
	struct ps_port now;
	_cleanup_free_ char *marker = NULL, *script = NULL, *change = NULL;
	char err[512] = "", have[128];
	size_t rules, elements;
	const char *colon;

	ip_prefix_parse("10.1.0.5/32", &a[0]);
	ip_prefix_parse("fd00::5/128", &a[1]);
	ip_prefix_parse("10.2.0.0/24", &b[0]);
	mac_parse("52:54:00:00:00:01", &p[0].mac);
	mac_parse("52:54:00:00:00:02", &p[1].mac);
	script = ps_render(p, 2, &marker);
	CHECK(script && marker, "no memory");
	CHECK(f->ops->apply(f->userdata, script, err, sizeof(err)) == 0, "apply the bridge table: %s", err);
	CHECK(ps_kernel_state(f, have, sizeof(have), &rules, &elements) == 0, "port security tables missing");
	colon = strrchr(marker, ':');
	CHECK(!strcmp(have, marker) && rules == strtoul(colon + 1, NULL, 10) && elements == ps_elements(p, 2),
	      "bridge table reads back as marker '%s' %zu rules %zu elements, want '%s' %zu elements", have, rules,
	      elements, marker, ps_elements(p, 2));
	printf("ok - port security table applied: %zu rules, %zu elements read back\n", rules, elements);

	/* vnet3 moves to a network with DHCP and gets a lease: its prefix goes, the address comes. */
	now = p[1];
	now.addrs = leased;
	ip_prefix_parse("10.3.0.9/32", &leased[0]);
	struct ps_change c = { .gone = &p[1], .n_gone = 1, .added = &now, .n_added = 1 };
	change = ps_render_change(&c);
	p[1] = now;
	CHECK(change && f->ops->apply(f->userdata, change, err, sizeof(err)) == 0, "apply a change: %s\n%s",
	      err, change);
	CHECK(ps_kernel_state(f, have, sizeof(have), &rules, &elements) == 0 && elements == ps_elements(p, 2),
	      "after the change: %zu elements", elements);
	CHECK(f->ops->apply(f->userdata, change, err, sizeof(err)) < 0,
	      "deleting elements that are gone succeeded");
	printf("ok - a change applied in one transaction; replaying it fails (netd then applies the table)\n");
}

int main(void)
{
	/* Every kind of rule: nat, and an isolated network with host ports (the input chain's set). */
	struct fw_network n[2] = { { .bridge = "nd-a", .mode = FW_NAT },
				   { .bridge = "nd-b", .mode = FW_ISOLATED, .n_host_ports = 2,
				     .host_ports = { { IPPROTO_TCP, 22 }, { IPPROTO_UDP, 53 } } } };
	char err[512] = "", marker[128];
	_cleanup_free_ char *want = NULL;
	_cleanup_free_ char *script = NULL;
	struct fw_backend nft, *f = &nft;

	if (unshare(CLONE_NEWNET) < 0) {
		printf("SKIP: cannot create a network namespace: %s\n", strerror(errno));
		return 77;
	}
	ip_prefix_parse("10.1.0.0/24", &n[0].subnet);
	ip_prefix_parse("10.2.0.0/24", &n[1].subnet);
	ip_prefix_first_host(&n[0].subnet, &n[0].gateway);
	ip_prefix_first_host(&n[1].subnet, &n[1].gateway);
	script = fw_render(n, ELEMENTSOF(n), &want);
	CHECK(fw_nft_open(f) == 0, "no libnftables context");
	CHECK(fw_kernel_marker(f, marker, sizeof(marker)) == -ENOENT, "a fresh namespace has netd's table");
	CHECK(f->ops->apply(f->userdata, script, err, sizeof(err)) == 0, "apply: %s", err);
	CHECK(fw_kernel_marker(f, marker, sizeof(marker)) == 0 && !strcmp(marker, want), "marker %s, want %s",
	      marker, want);
	printf("ok - applied, marker %s read back\n", marker);

	/* Valid syntax, refused by the kernel half-way (a set that does not exist): one transaction,
	 * so the delete at its start is undone too. */
	const char *bad = "table inet netd\ndelete table inet netd\n"
			  "table inet netd {\n\tchain forward {\n\t\ttype filter hook forward priority filter;\n"
			  "\t\tiifname @nosuchset accept\n\t}\n}\n";
	CHECK(f->ops->apply(f->userdata, bad, err, sizeof(err)) < 0, "a bad script applied");
	CHECK(err[0], "no error message");
	printf("ok - refused with libnftables' message: %s\n", err);
	CHECK(fw_kernel_marker(f, marker, sizeof(marker)) == 0 && !strcmp(marker, want),
	      "the previous table is not intact after a failed apply: marker '%s'", marker);
	printf("ok - the previous table is still in force\n");

	CHECK(f->ops->apply(f->userdata, "flush table inet netd", err, sizeof(err)) == 0, "flush: %s", err);
	CHECK(fw_kernel_marker(f, marker, sizeof(marker)) == 0 && !marker[0],
	      "a flushed table still looks intact: '%s'", marker);
	printf("ok - a flushed table (rules gone, set kept) is told from an intact one\n");
	portsec(f);
	fw_backend_close(f);
	return 0;
}
