/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The uplink conversion planner: golden plans, refusals, and rollback after a failure at every step. */
#include "golden.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "convert.h"
#include "link.h"
#include "macro.h"

#define ETH0_MAC "52:54:00:12:34:56"

struct lab {
	struct link_fake *fake;
	struct link_backend be;
	int eth0;
};

static void add_addr(struct lab *l, const char *prefix, uint8_t scope, uint32_t flags, uint32_t valid, uint32_t pref)
{
	struct addr_info a = { .ifindex = l->eth0, .scope = scope, .flags = flags, .valid_lft = valid,
			       .preferred_lft = pref };

	assert_int_equal(ip_prefix_parse(prefix, &a.prefix), 0);
	assert_int_equal(link_fake_add_addr_full(l->fake, &a), 0);
}

static void add_route(struct lab *l, const char *dst, const char *gw, uint32_t table, uint8_t proto, uint8_t scope,
		      uint32_t metric, const char *src)
{
	struct route_info rt = { .ifindex = l->eth0, .table = table, .type = RTN_UNICAST, .protocol = proto,
				 .scope = scope, .priority = metric };

	assert_int_equal(ip_prefix_parse(dst, &rt.dst), 0);
	if (gw)
		assert_int_equal(ip_addr_parse(gw, &rt.gw_family, &rt.gw), 0);
	if (src)
		assert_int_equal(ip_addr_parse(src, &rt.prefsrc_family, &rt.prefsrc), 0);
	/* RA-learnt routes expire unless the router advertises again. */
	if (proto == RTPROT_RA && rt.dst.len == 0)
		rt.expires = 1800;
	assert_int_equal(link_fake_add_route_full(l->fake, &rt), 0);
}

static void add_neigh(struct lab *l, const char *dst, const char *lladdr, uint16_t state, uint8_t flags)
{
	struct neigh_info n = { .ifindex = l->eth0, .state = state, .flags = flags, .has_lladdr = true };

	assert_int_equal(ip_addr_parse(dst, &n.family, &n.dst), 0);
	assert_int_equal(mac_parse(lladdr, &n.lladdr), 0);
	assert_int_equal(link_fake_add_neigh(l->fake, &n), 0);
}

/*
 * What hosts add by hand or their tools do: a secondary address in the DHCP subnet with a label,
 * IPv4 with noprefixroute, with a metric and broadcast, with a peer; IPv6 with nodad and the
 * privacy address the kernel made for the SLAAC one (use_tempaddr 2); static neighbours (and a
 * multicast one the kernel made, which stays).
 */
static void add_extras(struct lab *l)
{
	struct addr_info a = { .ifindex = l->eth0,
			       .flags = IFA_F_SECONDARY | IFA_F_PERMANENT,
			       .label = "eth0:1",
			       .valid_lft = LINK_LFT_FOREVER,
			       .preferred_lft = LINK_LFT_FOREVER };

	assert_int_equal(ip_prefix_parse("192.168.50.11/24", &a.prefix), 0);
	assert_int_equal(link_fake_add_addr_full(l->fake, &a), 0);
	add_addr(l, "10.55.0.2/24", RT_SCOPE_UNIVERSE, IFA_F_NOPREFIXROUTE | IFA_F_PERMANENT,
		 LINK_LFT_FOREVER, LINK_LFT_FOREVER);
	a = (struct addr_info){ .ifindex = l->eth0,
				.flags = IFA_F_PERMANENT,
				.rt_priority = 50,
				.proto = 4,
				.broadcast_family = AF_INET,
				.valid_lft = LINK_LFT_FOREVER,
				.preferred_lft = LINK_LFT_FOREVER };
	assert_int_equal(ip_prefix_parse("10.56.0.2/24", &a.prefix), 0);
	assert_int_equal(ip_addr_parse("10.56.0.255", &a.broadcast_family, &a.broadcast), 0);
	assert_int_equal(link_fake_add_addr_full(l->fake, &a), 0);
	add_route(l, "10.56.0.0/24", NULL, RT_TABLE_MAIN, RTPROT_KERNEL, RT_SCOPE_LINK, 50, "10.56.0.2");
	a = (struct addr_info){ .ifindex = l->eth0,
				.flags = IFA_F_PERMANENT,
				.peer_family = AF_INET,
				.valid_lft = LINK_LFT_FOREVER,
				.preferred_lft = LINK_LFT_FOREVER };
	assert_int_equal(ip_prefix_parse("10.57.0.1/32", &a.prefix), 0);
	assert_int_equal(ip_addr_parse("10.57.0.2", &a.peer_family, &a.peer), 0);
	assert_int_equal(link_fake_add_addr_full(l->fake, &a), 0);
	add_route(l, "10.57.0.2/32", NULL, RT_TABLE_MAIN, RTPROT_KERNEL, RT_SCOPE_LINK, 0, "10.57.0.1");
	add_addr(l, "2001:db8:55::2/64", RT_SCOPE_UNIVERSE, IFA_F_NODAD | IFA_F_PERMANENT, LINK_LFT_FOREVER,
		 LINK_LFT_FOREVER);
	add_route(l, "2001:db8:55::/64", NULL, RT_TABLE_MAIN, RTPROT_KERNEL, RT_SCOPE_UNIVERSE, 256, NULL);
	add_addr(l, "2001:db8:1:0:7e4d:7e4d:7e4d:7e02/64", RT_SCOPE_UNIVERSE, IFA_F_TEMPORARY, 7200, 3600);
	add_neigh(l, "192.168.50.50", "02:00:00:00:00:50", NUD_PERMANENT, 0);
	add_neigh(l, "192.168.50.51", "02:00:00:00:00:51", NUD_NOARP, 0);
	add_neigh(l, "2001:db8:1::50", "02:00:00:00:00:52", NUD_PERMANENT, NTF_ROUTER);
	add_neigh(l, "224.0.0.22", "01:00:5e:00:00:16", NUD_NOARP, 0);
}

/* A host as DHCP and SLAAC leave it: an address of each kind, routes in main, a policy table and local. */
static void lab_new(struct lab *l)
{
	struct mac mac;
	char v[8];

	assert_int_equal(link_fake_new(&l->fake, &l->be), 0);
	assert_int_equal(link_fake_add_link(l->fake, "eth0", "veth", &l->eth0), 0);
	assert_int_equal(mac_parse(ETH0_MAC, &mac), 0);
	assert_int_equal(link_fake_set_mac(l->fake, l->eth0, &mac), 0);
	add_addr(l, "192.168.50.10/24", RT_SCOPE_UNIVERSE, IFA_F_PERMANENT, LINK_LFT_FOREVER, LINK_LFT_FOREVER);
	add_addr(l, "2001:db8:1:0:5054:ff:fe12:3456/64", RT_SCOPE_UNIVERSE, IFA_F_MANAGETEMPADDR, 86400, 14400);
	add_addr(l, "fe80::5054:ff:fe12:3456/64", RT_SCOPE_LINK, IFA_F_PERMANENT, LINK_LFT_FOREVER, LINK_LFT_FOREVER);
	add_route(l, "192.168.50.0/24", NULL, RT_TABLE_MAIN, RTPROT_KERNEL, RT_SCOPE_LINK, 0, "192.168.50.10");
	add_route(l, "0.0.0.0/0", "192.168.50.1", RT_TABLE_MAIN, RTPROT_DHCP, RT_SCOPE_UNIVERSE, 0, NULL);
	add_route(l, "0.0.0.0/0", "192.168.50.1", 100, RTPROT_STATIC, RT_SCOPE_UNIVERSE, 0, NULL);
	add_route(l, "2001:db8:1::/64", NULL, RT_TABLE_MAIN, RTPROT_RA, RT_SCOPE_UNIVERSE, 256, NULL);
	add_route(l, "fe80::/64", NULL, RT_TABLE_MAIN, RTPROT_KERNEL, RT_SCOPE_UNIVERSE, 256, NULL); /* the
													link's
												      */
	add_route(l, "fe80::/64", NULL, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, 512, NULL); /* not the kernel's */
	add_route(l, "::/0", "fe80::1", RT_TABLE_MAIN, RTPROT_RA, RT_SCOPE_UNIVERSE, 1024, NULL);
	add_route(l, "192.168.50.10/32", NULL, RT_TABLE_LOCAL, RTPROT_KERNEL, RT_SCOPE_HOST, 0, "192.168.50.10");
	add_extras(l);
	assert_int_equal(l->be.ops->sysctl_set(l->be.userdata, AF_INET, "eth0", "rp_filter", "1"), 0);
	assert_int_equal(l->be.ops->sysctl_set(l->be.userdata, AF_INET6, "eth0", "use_tempaddr", "2"), 0);
	assert_int_equal(l->be.ops->sysctl_set(l->be.userdata, AF_INET, "eth0", "arp_ignore", "1"), 0);
	assert_int_equal(link_fake_sysctl(l->fake, AF_INET, "eth0", "rp_filter", v, sizeof(v)), 0);
	link_fake_clear_log(l->fake);
}

static void snapshot_of(struct lab *l, const char *port, struct convert_snapshot *s)
{
	struct link_dump d;
	char err[512] = "";

	assert_int_equal(l->be.ops->dump(l->be.userdata, CONVERT_DUMP, &d), 0);
	if (convert_snapshot_take(&d, port, "br0", s, err, sizeof(err)) < 0)
		fail_msg("snapshot of %s: %s", port, err);
	assert_int_equal(convert_snapshot_read_sysctls(s, &l->be), 0);
	link_dump_free(&d);
}

static void snapshot(struct lab *l, struct convert_snapshot *s)
{
	snapshot_of(l, "eth0", s);
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines in order, so that the same objects in another order compare equal. */
static char *sort_lines(char *text)
{
	char *lines[256], *save = NULL, *out;
	size_t n = 0, len = strlen(text) + 1;

	for (char *l = strtok_r(text, "\n", &save); l && n < 256; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(char *), line_cmp);
	out = calloc(1, len + 1);
	for (size_t i = 0; i < n; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
	}
	free(text);
	return out;
}

/* Everything the conversion may touch, as text: links, addresses with every attribute, routes,
 * neighbours and the sysctls of the port and the bridge. The metric of a route learnt from router
 * advertisements is left out: each move takes it one up, beside the kernel's own (convert.c,
 * push_route_moved; the plans show it). */
static char *state_text(struct lab *l)
{
	struct link_dump d;
	char *text = NULL, line[512], buf[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_int_equal(l->be.ops->dump(l->be.userdata, LINK_DUMP_ALL | LINK_DUMP_NEIGHS, &d), 0);
	for (size_t i = 0; i < d.n_links; i++)
		fprintf(f, "link %s kind=%s mac=%s mtu=%u master=%s up=%d\n", d.links[i].name, d.links[i].kind,
			mac_format(&d.links[i].mac, buf, sizeof(buf)), d.links[i].mtu,
			d.links[i].master ? link_dump_ifname(&d, d.links[i].master) : "-", d.links[i].up);
	for (size_t i = 0; i < d.n_addrs; i++)
		fprintf(f, "addr %s %s\n", link_dump_ifname(&d, d.addrs[i].ifindex),
			addr_info_format(&d.addrs[i], buf, sizeof(buf)));
	for (size_t i = 0; i < d.n_routes; i++) {
		struct route_info rt = d.routes[i];

		if (rt.protocol == RTPROT_RA && rt.expires)
			rt.priority = 0;
		fprintf(f, "route %s\n", route_info_format(&rt, &d, line, sizeof(line)));
	}
	for (size_t i = 0; i < d.n_neighs; i++)
		fprintf(f, "neigh %s %s\n", link_dump_ifname(&d, d.neighs[i].ifindex),
			neigh_info_format(&d.neighs[i], buf, sizeof(buf)));
	for (int i = 0; convert_sysctl_get(i); i++) {
		const struct convert_sysctl_def *def = convert_sysctl_get(i);
		for (size_t j = 0; j < d.n_links; j++) {
			if (!strcmp(d.links[j].name, "lo") ||
			    link_fake_sysctl(l->fake, def->family, d.links[j].name, def->key, buf,
					     sizeof(buf)) < 0)
				continue;
			/* Unchanged defaults would only make the golden files long. */
			if (i >= _CONVERT_SYSCTL_NAMED && !strcmp(buf, "0"))
				continue;
			fprintf(f, "sysctl %s %s/%s=%s\n", d.links[j].name,
				def->family == AF_INET ? "ipv4" : "ipv6", def->key, buf);
		}
	}
	fclose(f);
	link_dump_free(&d);
	return sort_lines(text);
}

static int convert_run(struct lab *l, const struct convert_snapshot *s, char *err, size_t errlen)
{
	struct link_plan p;
	int r;

	assert_int_equal(convert_plan_forward(s, &p), 0);
	r = convert_apply(&p, &l->be, NULL, NULL, NULL, err, errlen);
	link_plan_free(&p);
	return r;
}

static int rollback_run(struct lab *l, const struct convert_snapshot *s, char **ret_plan)
{
	struct link_dump now;
	struct link_plan p;
	char err[512] = "";
	int r;

	assert_int_equal(l->be.ops->dump(l->be.userdata, LINK_DUMP_ALL, &now), 0);
	assert_int_equal(convert_plan_rollback(s, &now, &p), 0);
	link_dump_free(&now);
	if (ret_plan)
		*ret_plan = link_plan_format(&p);
	r = convert_apply(&p, &l->be, NULL, NULL, NULL, err, sizeof(err));
	if (r < 0)
		print_error("rollback: %s\n", err);
	link_plan_free(&p);
	return r;
}

static void test_plan_golden(void **state)
{
	struct lab l;
	struct convert_snapshot s;
	struct link_plan p;
	char *text, err[512];

	lab_new(&l);
	snapshot(&l, &s);
	assert_int_equal(convert_plan_forward(&s, &p), 0);
	text = link_plan_format(&p);
	assert_golden("convert-plan.txt", text);
	free(text);
	link_plan_free(&p);

	assert_int_equal(convert_run(&l, &s, err, sizeof(err)), 0);
	assert_golden("convert-apply.log", link_fake_log(l.fake));
	assert_int_equal(rollback_run(&l, &s, &text), 0);
	assert_golden("convert-rollback-plan.txt", text);
	free(text);
	convert_snapshot_free(&s);
	link_fake_free(l.fake);
}

/* After the conversion the bridge holds everything and the port only forwards. */
static void test_converted_state(void **state)
{
	struct lab l;
	struct convert_snapshot s;
	char *text, err[512];

	lab_new(&l);
	snapshot(&l, &s);
	assert_int_equal(convert_run(&l, &s, err, sizeof(err)), 0);
	text = state_text(&l);
	assert_golden("convert-state-after.txt", text);
	free(text);
	convert_snapshot_free(&s);
	link_fake_free(l.fake);
}

/* A failure at each mutation of the conversion: the rollback gives back exactly the snapshot. */
static void test_rollback_every_step(void **state)
{
	unsigned steps, failed = 0;
	struct lab l;
	struct convert_snapshot s;
	char *before, *after, err[512];

	/* Count the mutations of a full run. */
	lab_new(&l);
	snapshot(&l, &s);
	assert_int_equal(convert_run(&l, &s, err, sizeof(err)), 0);
	steps = 0;
	for (const char *p = link_fake_log(l.fake); *p; p++)
		steps += *p == '\n';
	convert_snapshot_free(&s);
	link_fake_free(l.fake);

	for (unsigned k = 1; k <= steps; k++) {
		int r;

		lab_new(&l);
		before = state_text(&l);
		snapshot(&l, &s);
		link_fake_fail_at(l.fake, k, EBUSY);
		r = convert_run(&l, &s, err, sizeof(err));
		if (r < 0) {
			assert_int_equal(r, -EBUSY);
			assert_non_null(strstr(err, "failed: Device or resource busy"));
			failed++;
		}
		link_fake_fail_at(l.fake, 0, 0);
		assert_int_equal(rollback_run(&l, &s, NULL), 0);
		after = state_text(&l);
		if (strcmp(before, after))
			fprintf(stderr, "after a failure at mutation %u:\n--- before\n%s--- after\n%s", k,
				before, after);
		assert_string_equal(before, after);
		free(before);
		free(after);
		convert_snapshot_free(&s);
		link_fake_free(l.fake);
	}
	/* The markers (batch begin/commit) count as mutations in the log but cannot fail. */
	assert_true(failed >= steps - 2);
}

/* Rolling back twice (a restart in the middle of a rollback) changes nothing more. */
static void test_rollback_idempotent(void **state)
{
	struct lab l;
	struct convert_snapshot s;
	char *before, *after, err[512];

	lab_new(&l);
	before = state_text(&l);
	snapshot(&l, &s);
	assert_int_equal(convert_run(&l, &s, err, sizeof(err)), 0);
	assert_int_equal(rollback_run(&l, &s, NULL), 0);
	assert_int_equal(rollback_run(&l, &s, NULL), 0);
	after = state_text(&l);
	if (strcmp(before, after))
		fprintf(stderr, "--- before\n%s--- after\n%s", before, after);
	assert_string_equal(before, after);
	free(before);
	free(after);
	convert_snapshot_free(&s);
	link_fake_free(l.fake);
}

static void test_snapshot_roundtrip(void **state)
{
	struct lab l;
	struct convert_snapshot s, t;
	char *a, *b;

	lab_new(&l);
	snapshot(&l, &s);
	a = convert_snapshot_format(&s);
	assert_golden("convert-snapshot.txt", a);
	assert_int_equal(convert_snapshot_parse(a, &t), 0);
	b = convert_snapshot_format(&t);
	assert_string_equal(a, b);
	assert_int_equal(convert_snapshot_parse("port eth0\nbogus\n", &t), -EINVAL);
	free(a);
	free(b);
	convert_snapshot_free(&s);
	convert_snapshot_free(&t);
	link_fake_free(l.fake);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *port, *bridge;
		int error;
		const char *message;
	} cases[] = {
		{ "eth9", "br0", -ENODEV, "interface 'eth9' does not exist" },
		{ "lo", "br0", -EINVAL, "'lo' is the loopback interface" },
		{ "brx", "br0", -EINVAL, "'brx' is a bridge itself" },
		{ "eth1", "br0", -EBUSY, "'eth1' is already a port of 'brx'" },
		{ "eth0", "brx", -EEXIST, "interface 'brx' already exists" },
		{ "eth0", "a-very-long-bridge", -EINVAL, "invalid bridge name 'a-very-long-bridge': is longer than 15 bytes" },
		{ "eth0", "br/0", -EINVAL, "invalid bridge name 'br/0'" },
		{ "eth0", "eth0", -EINVAL, "needs a name other than 'eth0'" },
		{ "eth2", "br0", -EOPNOTSUPP, "policy rule 100 (iif) names 'eth2'" },
		{ "eth3", "br0", -EBUSY, "'eth3' carries macvlan 'mv0'" },
	};
	struct lab l;
	struct link_dump d;
	struct mac mac;
	struct rule_info rule = { .family = AF_INET, .priority = 100, .table = 100, .iif = "eth2" };
	int brx, eth1, eth2, eth3, mv0;

	lab_new(&l);
	assert_int_equal(link_fake_add_link(l.fake, "brx", "bridge", &brx), 0);
	assert_int_equal(link_fake_add_link(l.fake, "eth1", "veth", &eth1), 0);
	assert_int_equal(link_fake_add_link(l.fake, "eth2", "veth", &eth2), 0);
	assert_int_equal(mac_parse("52:54:00:00:00:02", &mac), 0);
	assert_int_equal(link_fake_set_mac(l.fake, eth2, &mac), 0);
	assert_int_equal(link_fake_add_rule(l.fake, &rule), 0);
	assert_int_equal(link_fake_add_link(l.fake, "eth3", "veth", &eth3), 0);
	assert_int_equal(link_fake_set_mac(l.fake, eth3, &mac), 0);
	assert_int_equal(link_fake_add_link(l.fake, "mv0", "macvlan", &mv0), 0);
	assert_int_equal(link_fake_set_lower(l.fake, mv0, eth3), 0);
	assert_int_equal(l.be.ops->port_set(l.be.userdata, eth1, brx), 0);
	assert_int_equal(l.be.ops->dump(l.be.userdata, LINK_DUMP_ALL | LINK_DUMP_RULES, &d), 0);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct convert_snapshot s;
		char err[512] = "";

		assert_int_equal(convert_snapshot_take(&d, cases[i].port, cases[i].bridge, &s, err, sizeof(err)),
				 cases[i].error);
		if (!strstr(err, cases[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].message);
	}
	link_dump_free(&d);
	link_fake_free(l.fake);
}

/* The fake deletes secondaries with their primary as the kernel does (promote_secondaries=0), or
 * promotes one: the conversion must work either way, and the bridge gets the port's setting. */
static void test_secondaries(void **state)
{
	struct addr_info a = { .flags = 0, .valid_lft = LINK_LFT_FOREVER, .preferred_lft = LINK_LFT_FOREVER };
	struct convert_snapshot s;
	struct link_dump d;
	struct lab l;
	char *before, *after, err[512], v[8];
	int eth9;

	for (int promote = 0; promote < 2; promote++) {
		/* The kernel's rule, on a link of its own. */
		lab_new(&l);
		assert_int_equal(link_fake_add_link(l.fake, "eth9", "veth", &eth9), 0);
		if (promote)
			assert_int_equal(l.be.ops->sysctl_set(l.be.userdata, AF_INET, "eth9",
							      "promote_secondaries", "1"),
					 0);
		a.ifindex = eth9;
		assert_int_equal(ip_prefix_parse("10.9.0.1/24", &a.prefix), 0);
		assert_int_equal(l.be.ops->addr_add_full(l.be.userdata, &a, false), 0);
		assert_int_equal(ip_prefix_parse("10.9.0.2/24", &a.prefix), 0);
		assert_int_equal(l.be.ops->addr_add_full(l.be.userdata, &a, false), 0);
		assert_int_equal(ip_prefix_parse("10.9.0.1/24", &a.prefix), 0);
		assert_int_equal(l.be.ops->addr_del(l.be.userdata, eth9, &a.prefix), 0);
		assert_int_equal(l.be.ops->dump(l.be.userdata, LINK_DUMP_ADDRS, &d), 0);
		size_t left = 0;
		for (size_t i = 0; i < d.n_addrs; i++)
			if (d.addrs[i].ifindex == eth9) {
				left++;
				assert_false(d.addrs[i].flags & IFA_F_SECONDARY);
			}
		assert_int_equal(left, promote);
		link_dump_free(&d);
		assert_int_equal(l.be.ops->link_del(l.be.userdata, eth9), 0);

		/* The conversion and its rollback. */
		if (promote)
			assert_int_equal(l.be.ops->sysctl_set(l.be.userdata, AF_INET, "eth0",
							      "promote_secondaries", "1"),
					 0);
		before = state_text(&l);
		snapshot(&l, &s);
		assert_int_equal(convert_run(&l, &s, err, sizeof(err)), 0);
		assert_int_equal(
			link_fake_sysctl(l.fake, AF_INET, "br0", "promote_secondaries", v, sizeof(v)), 0);
		assert_string_equal(v, promote ? "1" : "0");
		assert_int_equal(rollback_run(&l, &s, NULL), 0);
		after = state_text(&l);
		assert_string_equal(before, after);
		free(before);
		free(after);
		convert_snapshot_free(&s);
		link_fake_free(l.fake);
	}
}

/* What the bridge has after the conversion, attribute by attribute. */
static void test_attributes_on_bridge(void **state)
{
	struct convert_snapshot s;
	struct link_dump d;
	struct lab l;
	char err[512], v[8];
	int br0;
	unsigned temporaries = 0, neighs = 0;

	lab_new(&l);
	snapshot(&l, &s);
	assert_int_equal(convert_run(&l, &s, err, sizeof(err)), 0);
	assert_int_equal(l.be.ops->dump(l.be.userdata, CONVERT_DUMP, &d), 0);
	br0 = link_dump_find_name(&d, "br0")->ifindex;
	for (size_t i = 0; i < d.n_addrs; i++) {
		const struct addr_info *a = &d.addrs[i];
		char p[IP_PREFIX_STRLEN];

		assert_int_equal(a->ifindex, br0); /* eth0 keeps none */
		ip_prefix_format(&a->prefix, p, sizeof(p));
		if (a->prefix.family == AF_INET)
			assert_false(a->flags & IFA_F_NODAD); /* IPv4 gets no flag of the conversion */
		if (!strcmp(p, "10.55.0.2/24"))
			assert_true(a->flags & IFA_F_NOPREFIXROUTE);
		else if (a->prefix.family == AF_INET)
			assert_false(a->flags & IFA_F_NOPREFIXROUTE);
		if (!strcmp(p, "192.168.50.11/24")) {
			assert_string_equal(a->label, "br0:1");
			assert_true(a->flags & IFA_F_SECONDARY);
		}
		if (!strcmp(p, "10.56.0.2/24")) {
			assert_int_equal(a->rt_priority, 50);
			assert_int_equal(a->proto, 4);
			assert_int_equal(a->broadcast_family, AF_INET);
		}
		if (!strcmp(p, "192.168.50.10/24"))
			assert_int_equal(a->broadcast_family, AF_UNSPEC); /* it had none */
		if (!strcmp(p, "10.57.0.1/32"))
			assert_int_equal(a->peer_family, AF_INET);
		if (!strcmp(p, "2001:db8:55::2/64"))
			assert_int_equal(a->flags & (IFA_F_NODAD | IFA_F_NOPREFIXROUTE), IFA_F_NODAD);
		/* eth0's privacy address: a deprecated copy, for the connections that use it */
		if (!strcmp(p, "2001:db8:1:0:7e4d:7e4d:7e4d:7e02/64")) {
			assert_int_equal(a->preferred_lft, 0);
			assert_false(a->flags & IFA_F_TEMPORARY);
		}
		temporaries += a->prefix.family == AF_INET6 && (a->flags & IFA_F_TEMPORARY);
	}
	/* The kernel's new one, not a copy of eth0's turned into an ordinary address. */
	assert_int_equal(temporaries, 1);
	assert_int_equal(link_fake_sysctl(l.fake, AF_INET6, "br0", "use_tempaddr", v, sizeof(v)), 0);
	assert_string_equal(v, "2");
	for (size_t i = 0; i < d.n_neighs; i++) {
		if (d.neighs[i].ifindex == br0)
			neighs++;
		else /* the kernel's multicast entry stays */
			assert_int_equal(d.neighs[i].dst.bytes[0], 224);
	}
	assert_int_equal(neighs, 3);
	link_dump_free(&d);
	convert_snapshot_free(&s);
	link_fake_free(l.fake);
}

/* A revert after a confirmation moves back what the bridge holds then (convert_snapshot_refresh):
 * the same state as before, with no copy of a privacy address left on the port. */
static void test_refresh_revert(void **state)
{
	struct convert_snapshot s;
	struct link_dump now;
	struct lab l;
	char *before, *after, err[512];

	lab_new(&l);
	before = state_text(&l);
	snapshot(&l, &s);
	assert_int_equal(convert_run(&l, &s, err, sizeof(err)), 0);
	assert_int_equal(l.be.ops->dump(l.be.userdata, CONVERT_DUMP, &now), 0);
	assert_int_equal(convert_snapshot_refresh(&s, &now), 0);
	link_dump_free(&now);
	/* The copy of eth0's privacy address is known for what it is. */
	for (size_t i = 0; i < s.n_addrs; i++)
		if (s.addrs[i].prefix.family == AF_INET6 && s.addrs[i].prefix.addr.bytes[15] == 0x02 &&
		    s.addrs[i].prefix.addr.bytes[8] == 0x7e)
			assert_true(s.addrs[i].flags & IFA_F_TEMPORARY);
	assert_int_equal(s.n_neighs, 3);
	assert_int_equal(rollback_run(&l, &s, NULL), 0);
	after = state_text(&l);
	assert_string_equal(before, after);
	free(before);
	free(after);
	convert_snapshot_free(&s);
	link_fake_free(l.fake);
}

/* A snapshot written by an older netd (no broadcast, labels, neighbours or copied sysctls) still
 * parses and rolls back as that netd would have; malformed new fields are refused. */
static void test_snapshot_legacy(void **state)
{
	static const char *const bad[] = {
		"port eth0\nbridge br0\naddr 10.0.0.1/24 0 128 1 1 label a/b\n",
		"port eth0\nbridge br0\naddr 10.0.0.1/24 0 128 1 1 brd 2001:db8::1\n",
		"port eth0\nbridge br0\naddr 2001:db8::1/64 0 128 1 1 brd -\n",
		"port eth0\nbridge br0\naddr 10.0.0.1/24 0 128 1 1 metric 0\n",
		"port eth0\nbridge br0\naddr 10.0.0.1/24 0 128 1 1 proto 256\n",
		"port eth0\nbridge br0\naddr 10.0.0.1/24 0 128 1 1 colour blue\n",
		"port eth0\nbridge br0\nneigh 10.0.0.9 zz 128 0 0\n",
		"port eth0\nbridge br0\nneigh 10.0.0.9 - 65536 0 0\n",
		"port eth0\nbridge br0\nsysctl ipv6/use_tempaddr -\n",
	};
	_cleanup_free_ char *rollback = NULL;
	struct convert_snapshot s;
	struct link_dump now = {};
	struct link_plan p;

	assert_int_equal(
		convert_snapshot_parse("port eth0\nbridge br0\nmac 52:54:00:12:34:56\nmtu 1500\n"
				       "sysctl disable_ipv6 0\nsysctl accept_ra 1\nsysctl autoconf 1\n"
				       "sysctl rp_filter 1\nsysctl ipv6/frobnicate 1\n"
				       "addr 192.168.50.10/24 0 128 4294967295 4294967295\n"
				       "route 0.0.0.0/0 254 1 16 0 0 0 192.168.50.1 - 0 -\n",
				       &s),
		0);
	assert_int_equal(s.n_addrs, 1);
	assert_int_equal(s.n_neighs, 0);
	assert_int_equal(s.addrs[0].broadcast_family, AF_INET);
	assert_int_equal(convert_plan_rollback(&s, &now, &p), 0);
	rollback = link_plan_format(&p);
	assert_non_null(
		strstr(rollback, "addr-add eth0 192.168.50.10/24 brd 192.168.50.255 scope 0 flags 0x0"));
	link_plan_free(&p);
	convert_snapshot_free(&s);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		if (convert_snapshot_parse(bad[i], &s) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
}

static void plant_addr(struct lab *l, int ifindex, const char *prefix)
{
	struct addr_info a = { .ifindex = ifindex,
			       .flags = IFA_F_PERMANENT,
			       .valid_lft = LINK_LFT_FOREVER,
			       .preferred_lft = LINK_LFT_FOREVER };

	struct route_info rt = { .ifindex = ifindex,
				 .table = RT_TABLE_MAIN,
				 .type = RTN_UNICAST,
				 .protocol = RTPROT_KERNEL,
				 .scope = RT_SCOPE_LINK,
				 .prefsrc_family = AF_INET };

	assert_int_equal(ip_prefix_parse(prefix, &a.prefix), 0);
	assert_int_equal(link_fake_add_addr_full(l->fake, &a), 0);
	/* and the kernel's subnet route */
	rt.dst = a.prefix;
	ip_prefix_mask(&rt.dst);
	rt.prefsrc = a.prefix.addr;
	assert_int_equal(link_fake_add_route_full(l->fake, &rt), 0);
}

/*
 * Bonds and VLANs: this kernel has neither driver (tests/netns cannot make one), so the planner's
 * handling is checked here. A bond or a VLAN link is converted like any port; a slave of a bond
 * (or team) is refused with the link to convert instead; a port that carries VLANs is converted,
 * its VLANs stay on it with their addresses.
 */
static void test_bond_vlan(void **state)
{
	static const char *const ports[] = { "bond0", "eth0.100", "eth0" };
	struct lab l;
	struct convert_snapshot s;
	struct link_dump d;
	struct mac mac;
	char *before, *after, err[512] = "";
	int bond0, eth1, eth2, team0, vlan;

	for (size_t i = 0; i < ELEMENTSOF(ports); i++) {
		lab_new(&l);
		assert_int_equal(link_fake_add_link(l.fake, "bond0", "bond", &bond0), 0);
		assert_int_equal(link_fake_add_link(l.fake, "eth1", "veth", &eth1), 0);
		assert_int_equal(mac_parse("52:54:00:00:00:b0", &mac), 0);
		assert_int_equal(link_fake_set_mac(l.fake, bond0, &mac), 0);
		assert_int_equal(link_fake_set_mac(l.fake, eth1, &mac), 0);
		assert_int_equal(link_fake_set_master(l.fake, eth1, bond0), 0);
		plant_addr(&l, bond0, "10.70.0.2/24");
		assert_int_equal(link_fake_add_link(l.fake, "eth0.100", "vlan", &vlan), 0);
		assert_int_equal(link_fake_set_lower(l.fake, vlan, l.eth0), 0);
		assert_int_equal(mac_parse(ETH0_MAC, &mac), 0);
		assert_int_equal(link_fake_set_mac(l.fake, vlan, &mac), 0);
		plant_addr(&l, vlan, "10.100.0.2/24");
		before = state_text(&l);
		snapshot_of(&l, ports[i], &s);
		assert_int_equal(convert_run(&l, &s, err, sizeof(err)), 0);
		assert_int_equal(l.be.ops->dump(l.be.userdata, LINK_DUMP_ALL, &d), 0);
		assert_int_equal(link_dump_find_name(&d, ports[i])->master,
				 link_dump_find_name(&d, "br0")->ifindex);
		assert_int_equal(link_dump_find_name(&d, "eth1")->master, bond0); /* the bond keeps its slave
										   */
		for (size_t j = 0; j < d.n_addrs; j++) {
			const char *on = link_dump_ifname(&d, d.addrs[j].ifindex);
			/* Only the port's addresses moved; the VLAN's and the bond's stay where they were. */
			if (d.addrs[j].prefix.addr.bytes[1] == 100)
				assert_string_equal(on, i == 1 ? "br0" : "eth0.100");
			if (d.addrs[j].prefix.addr.bytes[1] == 70)
				assert_string_equal(on, i == 0 ? "br0" : "bond0");
		}
		link_dump_free(&d);
		assert_int_equal(rollback_run(&l, &s, NULL), 0);
		after = state_text(&l);
		if (strcmp(before, after))
			fprintf(stderr, "--- before\n%s--- after\n%s", before, after);
		assert_string_equal(before, after);
		free(before);
		free(after);
		convert_snapshot_free(&s);
		link_fake_free(l.fake);
	}

	/* Slaves are refused with what to convert instead. */
	lab_new(&l);
	assert_int_equal(link_fake_add_link(l.fake, "bond0", "bond", &bond0), 0);
	assert_int_equal(link_fake_add_link(l.fake, "team0", "team", &team0), 0);
	assert_int_equal(link_fake_add_link(l.fake, "eth1", "veth", &eth1), 0);
	assert_int_equal(link_fake_add_link(l.fake, "eth2", "veth", &eth2), 0);
	assert_int_equal(link_fake_set_mac(l.fake, eth1, &mac), 0);
	assert_int_equal(link_fake_set_mac(l.fake, eth2, &mac), 0);
	assert_int_equal(link_fake_set_master(l.fake, eth1, bond0), 0);
	assert_int_equal(link_fake_set_master(l.fake, eth2, team0), 0);
	assert_int_equal(l.be.ops->dump(l.be.userdata, CONVERT_DUMP, &d), 0);
	assert_int_equal(convert_snapshot_take(&d, "eth1", "br0", &s, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "'eth1' is a slave of bond 'bond0'; convert 'bond0' instead");
	assert_int_equal(convert_snapshot_take(&d, "eth2", "br0", &s, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "'eth2' is a slave of team 'team0'; convert 'team0' instead");
	link_dump_free(&d);
	link_fake_free(l.fake);
}

static void test_names(void **state)
{
	int n = 0;

	for (int p = 0; p < _CONVERT_PHASE_MAX; p++)
		assert_non_null(convert_phase_to_string(p));
	for (int s = 0; convert_sysctl_get(s); s++) {
		struct link_step step;

		/* Writing stable_secret sets addr_gen_mode: the mode is written right after it. */
		if (!strcmp(convert_sysctl_get(s)->key, "stable_secret"))
			assert_string_equal(convert_sysctl_get(s + 1)->key, "addr_gen_mode");
		n++;
		assert_true(strlen(convert_sysctl_get(s)->key) < sizeof(step.key));
		assert_true(strlen("2001:0db8:05ec:07e7:0000:0000:0000:0001") < sizeof(step.value));
	}
	/* The table fills the named ones and fits (one NULL at least marks its end). */
	assert_true(n > _CONVERT_SYSCTL_NAMED && n < _CONVERT_SYSCTL_MAX);
}

/*
 * RA-learnt routes move one metric up (convert.c, push_route_moved): the kernel adds its own at the
 * next advertisement on the bridge; a rollback moves them up again and deletes the kernel's own on
 * the bridge, which would win over them until the bridge goes down. Not when the port takes no
 * advertisements (accept_ra 0: a client such as dhcpcd made them, and makes them again).
 */
static void test_ra_routes(void **state)
{
	const char *moved =
		"route-replace unicast ::/0 via fe80::1 dev br0 table 254 proto 9 scope 0 metric 1025";
	const char *deleted =
		"route-del unicast ::/0 via fe80::1 dev br0 table 254 proto 9 scope 0 metric 1024";
	const char *back =
		"route-replace unicast ::/0 via fe80::1 dev eth0 table 254 proto 9 scope 0 metric 1025";
	struct convert_snapshot s;
	struct link_plan p;
	struct link_dump d;
	struct route_info rt;
	struct lab l;
	char *text, *before, *after, err[512];

	lab_new(&l);
	before = state_text(&l);
	snapshot(&l, &s);
	assert_int_equal(convert_plan_forward(&s, &p), 0);
	text = link_plan_format(&p);
	assert_non_null(strstr(text, moved));
	free(text);
	link_plan_free(&p);
	assert_int_equal(convert_run(&l, &s, err, sizeof(err)), 0);
	/* The kernel's own, at the next advertisement on the bridge. */
	assert_int_equal(l.be.ops->dump(l.be.userdata, LINK_DUMP_ALL, &d), 0);
	rt = (struct route_info){ .ifindex = link_dump_find_name(&d, "br0")->ifindex,
				  .table = RT_TABLE_MAIN,
				  .type = RTN_UNICAST,
				  .protocol = RTPROT_RA,
				  .priority = 1024,
				  .expires = 1800 };
	link_dump_free(&d);
	assert_int_equal(ip_prefix_parse("::/0", &rt.dst), 0);
	assert_int_equal(ip_addr_parse("fe80::1", &rt.gw_family, &rt.gw), 0);
	assert_int_equal(link_fake_add_route_full(l.fake, &rt), 0);
	assert_int_equal(rollback_run(&l, &s, &text), 0);
	assert_non_null(strstr(text, back));
	assert_non_null(strstr(text, deleted));
	free(text);
	after = state_text(&l);
	assert_string_equal(before, after);
	free(before);
	free(after);
	convert_snapshot_free(&s);
	link_fake_free(l.fake);

	lab_new(&l);
	assert_int_equal(l.be.ops->sysctl_set(l.be.userdata, AF_INET6, "eth0", "accept_ra", "0"), 0);
	snapshot(&l, &s);
	assert_int_equal(convert_plan_forward(&s, &p), 0);
	text = link_plan_format(&p);
	assert_null(strstr(text, moved));
	assert_non_null(strstr(
		text,
		"route-replace unicast ::/0 via fe80::1 dev br0 table 254 proto 9 scope 0 metric 1024"));
	free(text);
	link_plan_free(&p);
	convert_snapshot_free(&s);
	link_fake_free(l.fake);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_golden),
		cmocka_unit_test(test_converted_state),
		cmocka_unit_test(test_rollback_every_step),
		cmocka_unit_test(test_rollback_idempotent),
		cmocka_unit_test(test_snapshot_roundtrip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_secondaries),
		cmocka_unit_test(test_attributes_on_bridge),
		cmocka_unit_test(test_snapshot_legacy),
		cmocka_unit_test(test_bond_vlan),
		cmocka_unit_test(test_refresh_revert),
		cmocka_unit_test(test_ra_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
