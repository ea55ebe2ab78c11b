/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nat/nft.c against the real kernel, in a network namespace of its own (unshare): a script that
 * fails in the kernel leaves the previous table in force and comes back with libnftables'
 * message; the marker tells an intact table from a flushed one. Exit 77 without privileges.
 * "test-nft-apply owned": all of it with netd's tables owned (fw_nft_open_owned: scripts turned
 * into commands that leave the table itself alone), and another socket's change refused; exit 77
 * where the kernel cannot keep an owned table. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "firewall.h"
#include "macro.h"
#include "portsec.h"

static size_t strcount(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

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

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every set of the table as "NAME: e1 | e2 | ..." with the elements sorted, and the rules. */
static char *table_text(void)
{
	FILE *p = popen("nft -j list table inet netd", "r");
	_cleanup_free_ char *out = NULL;
	size_t cap = 0, len = 0;
	json_object *root, *a;
	char *text = NULL;
	size_t tlen;
	FILE *t;

	CHECK(p, "popen nft");
	for (;;) {
		if (len + 4096 > cap) {
			cap = (cap + 4096) * 2;
			out = realloc(out, cap);
			CHECK(out, "no memory");
		}
		size_t k = fread(out + len, 1, cap - len - 1, p);
		if (!k)
			break;
		len += k;
	}
	out[len] = 0;
	pclose(p);
	root = json_tokener_parse(out);
	CHECK(root && json_object_object_get_ex(root, "nftables", &a), "nft -j: %s", out);
	t = open_memstream(&text, &tlen);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *item = json_object_array_get_idx(a, i), *o, *elem, *name;
		const char *e[4096];
		size_t n = 0;

		if (json_object_object_get_ex(item, "rule", &o)) {
			json_object *expr;

			json_object_object_get_ex(o, "expr", &expr);
			fprintf(t, "rule %s\n", json_object_to_json_string(expr));
			continue;
		}
		if (!json_object_object_get_ex(item, "set", &o) && !json_object_object_get_ex(item, "map", &o))
			continue;
		json_object_object_get_ex(o, "name", &name);
		if (json_object_object_get_ex(o, "elem", &elem))
			for (size_t j = 0; j < json_object_array_length(elem) && n < ELEMENTSOF(e); j++)
				e[n++] = json_object_to_json_string(json_object_array_get_idx(elem, j));
		qsort(e, n, sizeof(e[0]), strcmp_ptr);
		fprintf(t, "set %s:", json_object_get_string(name));
		for (size_t j = 0; j < n; j++)
			fprintf(t, " %s", e[j]);
		fputc('\n', t);
	}
	fclose(t);
	json_object_put(root);
	return text;
}

static struct fw_network network(const char *bridge, const char *subnet, enum fw_mode mode,
				 const char *uplink)
{
	struct fw_network n = { .mode = mode };

	snprintf(n.bridge, sizeof(n.bridge), "%s", bridge);
	snprintf(n.uplink, sizeof(n.uplink), "%s", uplink ?: "");
	ip_prefix_parse(subnet, &n.subnet);
	ip_prefix_first_host(&n.subnet, &n.gateway);
	return n;
}

/* The network with an IPv6 prefix too ("none": IPv6 only); its gateway the prefix's ::1. */
static struct fw_network network6(const char *bridge, const char *subnet, const char *subnet6, bool nat6,
				  enum fw_mode mode, const char *uplink)
{
	struct fw_network n = network(bridge, strcmp(subnet, "none") ? subnet : "0.0.0.0/0", mode, uplink);

	if (!strcmp(subnet, "none"))
		n.subnet = (struct ip_prefix){}, n.gateway = (union in_addr_union){};
	ip_prefix_parse(subnet6, &n.subnet6);
	n.gateway6 = n.subnet6.addr;
	n.gateway6.bytes[15] |= 1;
	n.nat6 = nat6;
	return n;
}

/* Networks come, go and change by set elements alone (fw_render_change): after each change the
 * kernel's table is the one fw_render makes of the new networks, element for element. elems: the
 * change as netd sends it, a netlink batch of elements (apply_elems), else as an nft script. */
static void changes(const struct fw_backend *f, bool elems)
{
	/* Subnets of two prefix lengths of each family throughout: a change that brings the first
	 * subnet of a length or takes the last one is a whole table (fw_render_change says so). IPv6:
	 * NAT66 (nat6), a global prefix of a nat network routed, routed, IPv6 only, with uplinks. */
	struct fw_network s0[3] = { network6("nd-a", "10.1.0.0/24", "fd00:1::/64", true, FW_NAT, NULL),
				    network6("nd-b", "10.2.0.0/24", "fd00:2::/64", false, FW_ISOLATED, NULL),
				    network6("nd-h", "10.64.0.0/16", "2001:db8:6400::/56", false, FW_NAT,
					     "eth9") };
	struct fw_network s1[9] = { s0[0],
				    s0[1],
				    network6("nd-c", "10.3.0.0/24", "2001:db8:3::/64", false, FW_ROUTED,
					     NULL),
				    network6("nd-d", "10.4.0.0/24", "fd00:4::/64", true, FW_NAT, "eth9"),
				    network("nd-e", "10.5.0.0/24", FW_OPEN, NULL),
				    network6("nd-f", "10.6.0.0/24", "fd00:6::/64", false, FW_OPEN, "eth9"),
				    network("nd-g", "255.255.255.0/24", FW_NAT, NULL),
				    s0[2],
				    network6("nd-i", "none", "fd00:9::/64", true, FW_NAT, NULL) };
	struct fw_network s2[7] = {
		network6("nd-a", "10.11.0.0/24", "fd00:11::/64", true, FW_NAT, NULL),
		s1[2],
		s1[3],
		s1[4],
		s1[5],
		network6("nd-h", "10.64.0.0/16", "2001:db8:6400::/56", false, FW_ROUTED, NULL),
		network6("nd-i", "none", "fd00:9::/64", false, FW_NAT, NULL), /* nat6 off: routed */
	};
	const struct {
		const struct fw_network *nets;
		size_t n;
	} steps[] = { { s0, 3 }, { s1, 9 }, { s2, 7 }, { s0, 3 } };
	_cleanup_free_ char *marker = NULL;
	char err[512] = "", have[128];

	s0[1].host_ports[s0[1].n_host_ports++] = (struct l4_port){ IPPROTO_TCP, 22 };
	s1[1] = s0[1];
	free(fw_render(steps[0].nets, steps[0].n, &marker));
	{
		_cleanup_free_ char *m = NULL, *full = fw_render(steps[0].nets, steps[0].n, &m);

		CHECK(f->ops->apply(f->userdata, full, err, sizeof(err)) == 0, "apply: %s", err);
	}
	for (size_t i = 1; i < ELEMENTSOF(steps); i++) {
		_cleanup_free_ char *m = NULL, *full = fw_render(steps[i].nets, steps[i].n, &m);
		_cleanup_free_ struct fw_elem *e = NULL;
		size_t n_e = 0;
		_cleanup_free_ char *change = fw_render_change_elems(
			steps[i - 1].nets, steps[i - 1].n, marker, steps[i].nets, steps[i].n, m, &e, &n_e);
		_cleanup_free_ char *after_change = NULL, *after_full = NULL;

		CHECK(change && change[0] && n_e, "step %zu: no change rendered", i);
		if (elems)
			CHECK(f->ops->apply_elems(f->userdata, e, n_e, err, sizeof(err)) == 0,
			      "step %zu: %s\n%s", i, err, change);
		else
			CHECK(f->ops->apply(f->userdata, change, err, sizeof(err)) == 0, "step %zu: %s\n%s",
			      i, err, change);
		CHECK(fw_kernel_marker(f, have, sizeof(have)) == 0 && !strcmp(have, m),
		      "step %zu: marker '%s', want '%s'", i, have, m);
		after_change = table_text();
		CHECK(f->ops->apply(f->userdata, full, err, sizeof(err)) == 0, "step %zu: %s", i, err);
		after_full = table_text();
		CHECK(!strcmp(after_change, after_full),
		      "step %zu: the changed table differs from the rendered one:\n%s\n---\n%s", i,
		      after_change, after_full);
		free(marker);
		marker = TAKE_PTR(m);
		printf("ok - step %zu: %zu networks by a change of %zu %s, the same table as a whole apply\n",
		       i, steps[i].n, elems ? n_e : (size_t)strcount(change, '\n'),
		       elems ? "elements" : "lines");
	}
	if (elems) {
		/* The kernel's table is not what the change expects (an element is missing): the whole
		 * batch fails and changes nothing. */
		_cleanup_free_ char *before = table_text(), *after = NULL;
		_cleanup_free_ struct fw_elem *e = NULL;
		size_t n_e = 0;
		_cleanup_free_ char *change = fw_render_change_elems(steps[1].nets, steps[1].n, marker,
								     steps[2].nets, steps[2].n,
								     "netd:0123456789abcdef:1", &e, &n_e);

		CHECK(change && n_e, "no change rendered");
		CHECK(f->ops->apply_elems(f->userdata, e, n_e, err, sizeof(err)) < 0,
		      "a stale change applied");
		after = table_text();
		CHECK(!strcmp(before, after), "a failed change left the table changed:\n%s\n---\n%s", before,
		      after);
		printf("ok - a change that does not fit the table fails as a whole (%s)\n", err);
	}
}

int main(int argc, char **argv)
{
	/* Every kind of rule: nat, and an isolated network with host ports (the input chain's set). */
	struct fw_network n[2] = { { .bridge = "nd-a", .mode = FW_NAT, .nat6 = true },
				   { .bridge = "nd-b",
				     .mode = FW_ISOLATED,
				     .n_host_ports = 2,
				     .host_ports = { { IPPROTO_TCP, 22 }, { IPPROTO_UDP, 53 } } } };
	char err[512] = "", marker[128];
	_cleanup_free_ char *want = NULL;
	_cleanup_free_ char *script = NULL;
	struct fw_backend nft, *f = &nft;
	bool owned = argc > 1 && !strcmp(argv[1], "owned");

	if (unshare(CLONE_NEWNET) < 0) {
		printf("SKIP: cannot create a network namespace: %s\n", strerror(errno));
		return 77;
	}
	ip_prefix_parse("10.1.0.0/24", &n[0].subnet);
	ip_prefix_parse("10.2.0.0/24", &n[1].subnet);
	ip_prefix_first_host(&n[0].subnet, &n[0].gateway);
	ip_prefix_first_host(&n[1].subnet, &n[1].gateway);
	ip_prefix_parse("fd00:1::/64", &n[0].subnet6);
	ip_addr_parse("fd00:1::1", &(int){ 0 }, &n[0].gateway6);
	script = fw_render(n, ELEMENTSOF(n), &want);
	if (owned) {
		char why[512];
		int r = fw_nft_open_owned(f, true, why, sizeof(why));

		if (r == 0) {
			printf("SKIP: %s\n", why);
			return 77;
		}
		CHECK(r == 1, "fw_nft_open_owned: %s", why);
	} else {
		CHECK(fw_nft_open(f) == 0, "no libnftables context");
	}
	CHECK(fw_kernel_marker(f, marker, sizeof(marker)) == -ENOENT, "a fresh namespace has netd's table");
	CHECK(f->ops->apply(f->userdata, script, err, sizeof(err)) == 0, "apply: %s", err);
	CHECK(fw_kernel_marker(f, marker, sizeof(marker)) == 0 && !strcmp(marker, want), "marker %s, want %s",
	      marker, want);
	printf("ok - applied, marker %s read back\n", marker);
	if (owned) {
		struct fw_backend other;

		CHECK(fw_nft_open(&other) == 0, "no second libnftables context");
		CHECK(other.ops->apply(other.userdata, "flush table inet netd", err, sizeof(err)) < 0 &&
			      strstr(err, "Operation not permitted"),
		      "another socket flushed the owned table: '%s'", err);
		fw_backend_close(&other);
		printf("ok - owned: another netlink socket's change is refused (%s)\n", err);
	}

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
	changes(f, false);
	changes(f, true);
	fw_backend_close(f);
	return 0;
}
