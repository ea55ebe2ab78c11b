/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "golden.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fileio.h"
#include "link.h"
#include "macro.h"
#include "network.h"
#include "network-index.h"
#include "store.h"
#include "vm-store.h"

static struct network make(const char *name, const char *subnet)
{
	struct network n;

	network_init(&n, name);
	assert_int_equal(ip_prefix_parse(subnet, &n.subnet), 0);
	network_fill_defaults(&n);
	return n;
}

static void test_mode_roundtrip(void **state)
{
	const struct net_mode *const all[] = { net_mode_from_string("nat"), net_mode_from_string("routed"),
					       net_mode_from_string("isolated"), net_mode_from_string("bridge"),
					       net_mode_from_string("open") };

	for (size_t i = 0; i < ELEMENTSOF(all); i++)
		assert_ptr_equal(net_mode_from_string(all[i]->name), all[i]);
	assert_null(net_mode_from_string("bogus"));
	assert_null(net_mode_from_string(NULL));
	assert_string_equal(net_mode_names(), "nat, routed, isolated, bridge, open, evpn");
}

static void test_default_bridge(void **state)
{
	char a[IFNAMSIZ], b[IFNAMSIZ];

	network_default_bridge("lab", a);
	assert_string_equal(a, "nd-lab");
	network_default_bridge("twelve-chars", a);
	assert_string_equal(a, "nd-twelve-chars");
	network_default_bridge("a-rather-long-network-name", a);
	network_default_bridge("a-rather-long-network-name2", b);
	assert_true(strlen(a) <= 15 && strlen(b) <= 15);
	assert_string_not_equal(a, b);
	assert_true(ifname_valid(a));
	network_default_bridge("a-rather-long-network-name", b);
	assert_string_equal(a, b); /* stable */
}

static void test_defaults(void **state)
{
	struct network n = make("lab", "10.20.0.0/16");
	char buf[64];

	assert_string_equal(n.bridge, "nd-lab");
	assert_string_equal(ip_addr_format(AF_INET, &n.gateway, buf, sizeof(buf)), "10.20.0.1");
	assert_true(n.autostart);
}

struct bad_case {
	const char *name, *subnet, *gateway, *bridge;
	unsigned mtu;
	const char *error;
};

static void test_validate(void **state)
{
	static const struct bad_case cases[] = {
		{ "-x", "10.0.0.0/24", NULL, NULL, 0, "invalid network name '-x': must start with a letter or digit" },
		{ "a b", "10.0.0.0/24", NULL, "br0", 0, "invalid network name 'a b': may contain only letters, digits, '-' and '_'" },
		{ "lab", "10.0.0.0/24", NULL, "br:0", 0, "network 'lab': invalid bridge name 'br:0': may contain only letters, digits, '-', '_' and '.'" },
		{ "lab", "10.0.0.5/24", NULL, NULL, 0, "network 'lab': subnet 10.0.0.5/24 has host bits set; did you mean 10.0.0.0/24?" },
		{ "lab", "10.0.0.0/31", NULL, NULL, 0, "network 'lab': subnet 10.0.0.0/31 must have a prefix length between /8 and /30" },
		{ "lab", "fd00::/64", NULL, NULL, 0, "network 'lab': subnet fd00::/64 is not IPv4; an IPv6 prefix goes in --subnet6" },
		{ "lab", "10.0.0.0/24", "10.0.1.1", NULL, 0, "network 'lab': gateway 10.0.1.1 is outside subnet 10.0.0.0/24" },
		{ "lab", "10.0.0.0/24", "10.0.0.0", NULL, 0, "network 'lab': gateway 10.0.0.0 is the network address of 10.0.0.0/24" },
		{ "lab", "10.0.0.0/24", "10.0.0.255", NULL, 0, "network 'lab': gateway 10.0.0.255 is the broadcast address of 10.0.0.0/24" },
		{ "lab", "10.0.0.0/24", NULL, NULL, 67, "network 'lab': MTU 67 is out of range (68-65535)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		struct network n;
		char err[256] = "";

		network_init(&n, c->name);
		assert_int_equal(ip_prefix_parse(c->subnet, &n.subnet), 0);
		if (c->bridge)
			snprintf(n.bridge, sizeof(n.bridge), "%s", c->bridge);
		if (c->gateway) {
			assert_int_equal(ip_addr_parse(c->gateway, &(int){ 0 }, &n.gateway), 0);
			n.has_gateway = true;
		}
		n.mtu = c->mtu;
		network_fill_defaults(&n);
		assert_true(network_validate(&n, err, sizeof(err)) < 0);
		assert_string_equal(err, c->error);
	}
	struct network ok = make("lab", "10.0.0.0/24");
	char err[256];
	assert_int_equal(network_validate(&ok, err, sizeof(err)), 0);

	/* Mode bridge: an uplink was accepted and ignored (fuzz-config found it: it did not even
	 * have to be a valid name, so the file did not read back the same). */
	struct network br;
	network_init(&br, "lan");
	br.mode = net_mode_from_string("bridge");
	snprintf(br.bridge, sizeof(br.bridge), "br0");
	network_fill_defaults(&br);
	assert_int_equal(network_validate(&br, err, sizeof(err)), 0);
	snprintf(br.uplink, sizeof(br.uplink), "; e");
	assert_true(network_validate(&br, err, sizeof(err)) < 0);
	assert_string_equal(err, "network 'lan': mode bridge takes no --uplink: guests reach the LAN through the "
				 "bridge's own ports");
}

/* --subnet auto: the first free /24; whether the host's addresses or routes refused one on the way
 * (the daemon then chooses again on a fresh view of the kernel). */
static void test_choose_subnet(void **state)
{
	struct network a = make("a", "10.5.0.0/24"), c = make("c", "10.5.0.0/24");
	struct network *others[] = { &a };
	struct ip_prefix pool;
	struct link_backend be;
	struct link_fake *fake;
	struct link_dump dump = {};
	char err[256], s[IP_PREFIX_STRLEN];
	bool refused = false;
	int eth1;

	assert_int_equal(ip_prefix_parse("10.5.0.0/16", &pool), 0);
	assert_int_equal(link_fake_new(&fake, &be), 0);
	assert_int_equal(link_fake_add_link(fake, "eth1", "veth", &eth1), 0);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);
	c.subnet = (struct ip_prefix){};
	c.has_gateway = false;
	assert_int_equal(network_choose_subnet(&c, &pool, others, 1, &dump, &refused, err, sizeof(err)), 0);
	assert_string_equal(ip_prefix_format(&c.subnet, s, sizeof(s)), "10.5.1.0/24");
	assert_false(refused); /* only another network took 10.5.0.0/24 */
	link_dump_free(&dump);

	assert_int_equal(link_fake_add_addr(fake, eth1, "10.5.1.9/24"), 0);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);
	c.subnet = (struct ip_prefix){};
	c.has_gateway = false;
	assert_int_equal(network_choose_subnet(&c, &pool, others, 1, &dump, &refused, err, sizeof(err)), 0);
	assert_string_equal(ip_prefix_format(&c.subnet, s, sizeof(s)), "10.5.2.0/24");
	assert_string_equal(ip_addr_format(AF_INET, &c.gateway, s, sizeof(s)), "10.5.2.1");
	assert_true(refused);
	link_dump_free(&dump);
	link_fake_free(fake);
}

/* A network with an IPv6 prefix as netdctl gives it: "" for no IPv4 (--subnet none). */
static struct network make6(const char *name, const char *mode, const char *subnet, const char *subnet6)
{
	struct network n;

	network_init(&n, name);
	n.mode = net_mode_from_string(mode);
	if (subnet[0])
		assert_int_equal(ip_prefix_parse(subnet, &n.subnet), 0);
	n.subnet_none = !subnet[0];
	assert_int_equal(ip_prefix_parse(subnet6, &n.subnet6), 0);
	network_fill_defaults(&n);
	return n;
}

static void test_ipv6_defaults(void **state)
{
	struct network n = make6("lab", "nat", "10.0.0.0/24", "fd12:3456:789a:1::/64");
	char buf[IP_PREFIX_STRLEN];

	assert_string_equal(ip_addr_format(AF_INET6, &n.gateway6, buf, sizeof(buf)), "fd12:3456:789a:1::1");
	network_gateway6_prefix(&n, &(struct ip_prefix){});
	assert_true(n.nat6); /* nat + ULA */
	assert_int_equal(n.ipv6_mode, IPV6_MODE_SLAAC);
	n = make6("lab", "nat", "10.0.0.0/24", "2001:db8:1::/64");
	assert_false(n.nat6); /* nat + global: routed */
	n.nat6_given = 1;
	network_fill_defaults(&n);
	assert_true(n.nat6);
	n = make6("lab", "nat", "", "fd00:1::/64");
	n.nat6_given = 0;
	network_fill_defaults(&n);
	assert_false(n.nat6);
	assert_false(n.has_gateway);
	for (const char *const *m = (const char *const[]){ "routed", "isolated", "open", NULL }; *m; m++) {
		n = make6("lab", *m, "10.0.0.0/24", "fd00:1::/64");
		assert_false(n.nat6);
	}
	for (int i = 0; i < _IPV6_MODE_MAX; i++) {
		enum ipv6_mode m;

		assert_int_equal(ipv6_mode_from_string(ipv6_mode_to_string(i), &m), 0);
		assert_int_equal(m, i);
	}
	assert_int_equal(ipv6_mode_from_string("slaac+", &(enum ipv6_mode){ 0 }), -EINVAL);
}

static void test_ipv6_validate(void **state)
{
	static const struct {
		const char *mode, *subnet, *subnet6;
		int ipv6_mode, nat6_given;
		const char *error; /* NULL: valid */
	} cases[] = {
		{ "nat", "10.0.0.0/24", "fd00:1::/64", 0, -1, NULL },
		{ "nat", "", "fd00:1::/64", 0, -1, NULL },
		{ "routed", "", "2001:db8::/48", 0, -1, NULL },
		{ "nat", "10.0.0.0/24", "fd00:1::/112", IPV6_MODE_DHCPV6, -1, NULL },
		{ "nat", "10.0.0.0/24", "2001:db8::/64", 0, 1, NULL },
		{ "routed", "10.0.0.0/24", "2001:db8::/64", 0, 0, NULL },
		{ "nat", "10.0.0.0/24", "fd00:1::/80", 0, -1,
		  "network 'lab': IPv6 prefix fd00:1::/80 is longer than /64, which SLAAC needs; use a /64 or --ipv6-mode dhcpv6" },
		{ "nat", "10.0.0.0/24", "fd00:1::/80", IPV6_MODE_SLAAC_DHCPV6, -1,
		  "network 'lab': IPv6 prefix fd00:1::/80 is longer than /64, which SLAAC needs; use a /64 or --ipv6-mode dhcpv6" },
		{ "nat", "10.0.0.0/24", "fe80::/64", 0, -1,
		  "network 'lab': IPv6 prefix fe80::/64 is link-local (every link has its own); use a global or a unique local (fd00::/8) prefix" },
		{ "nat", "10.0.0.0/24", "ff02::/64", 0, -1,
		  "network 'lab': IPv6 prefix ff02::/64 is multicast; use a global or a unique local (fd00::/8) prefix" },
		{ "nat", "10.0.0.0/24", "::/64", 0, -1,
		  "network 'lab': IPv6 prefix ::/64 holds the unspecified and the loopback address; use a global or a unique local (fd00::/8) prefix" },
		{ "nat", "10.0.0.0/24", "::1/128", 0, -1,
		  "network 'lab': IPv6 prefix ::1/128 holds the unspecified and the loopback address; use a global or a unique local (fd00::/8) prefix" },
		{ "nat", "10.0.0.0/24", "::ffff:10.0.0.0/120", IPV6_MODE_DHCPV6, -1,
		  "network 'lab': IPv6 prefix ::ffff:10.0.0.0/120 is an IPv4-mapped prefix; use a global or a unique local (fd00::/8) prefix" },
		{ "nat", "10.0.0.0/24", "fd00:1::1/64", 0, -1,
		  "network 'lab': IPv6 prefix fd00:1::1/64 has host bits set; did you mean fd00:1::/64?" },
		{ "nat", "10.0.0.0/24", "fd00::/8", 0, -1,
		  "network 'lab': IPv6 prefix fd00::/8 must have a prefix length between /16 and /120" },
		{ "nat", "10.0.0.0/24", "fd00:1::/124", IPV6_MODE_DHCPV6, -1,
		  "network 'lab': IPv6 prefix fd00:1::/124 must have a prefix length between /16 and /120" },
		{ "routed", "10.0.0.0/24", "2001:db8::/64", 0, 1,
		  "network 'lab': --nat6 needs mode nat (mode routed never masquerades)" },
		{ "isolated", "10.0.0.0/24", "fd00:1::/64", 0, 1,
		  "network 'lab': --nat6 needs mode nat (mode isolated never masquerades)" },
		{ "open", "10.0.0.0/24", "fd00:1::/64", 0, 1,
		  "network 'lab': --nat6 needs mode nat (mode open never masquerades)" },
		{ "nat", "", "", 0, -1,
		  "network 'lab': --subnet none needs --subnet6 PREFIX (a network needs IPv4, IPv6 or both)" },
		{ "nat", "10.0.0.0/24", "", IPV6_MODE_DHCPV6, -1,
		  "network 'lab': --ipv6-mode dhcpv6 needs an IPv6 prefix (--subnet6)" },
		{ "nat", "10.0.0.0/24", "", 0, 1, "network 'lab': --nat6 needs an IPv6 prefix (--subnet6)" },
		{ "nat", "10.0.0.0/24", "", 0, 0,
		  "network 'lab': --no-nat6 needs an IPv6 prefix (--subnet6)" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct network n;
		char err[256] = "";
		int r;

		network_init(&n, "lab");
		n.mode = net_mode_from_string(cases[i].mode);
		if (cases[i].subnet[0])
			assert_int_equal(ip_prefix_parse(cases[i].subnet, &n.subnet), 0);
		n.subnet_none = !cases[i].subnet[0];
		if (cases[i].subnet6[0])
			assert_int_equal(ip_prefix_parse(cases[i].subnet6, &n.subnet6), 0);
		n.ipv6_mode = cases[i].ipv6_mode;
		n.nat6_given = cases[i].nat6_given;
		network_fill_defaults(&n);
		r = network_validate(&n, err, sizeof(err));
		if (!cases[i].error) {
			if (r < 0)
				fail_msg("case %zu: %s", i, err);
			continue;
		}
		assert_true(r < 0);
		assert_string_equal(err, cases[i].error);
	}

	/* A gateway without an IPv4 subnet; subnet6 auto left in a file. */
	struct network n = make6("lab", "nat", "", "fd00:1::/64");
	char err[256];

	assert_int_equal(ip_addr_parse("10.0.0.1", &(int){ 0 }, &n.gateway), 0);
	n.has_gateway = true;
	assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "network 'lab': gateway 10.0.0.1 needs an IPv4 subnet (--subnet none has none)");
	n = make6("lab", "nat", "10.0.0.0/24", "fd00:1::/64");
	n.subnet6 = (struct ip_prefix){};
	n.subnet6_auto = true;
	assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err, "network 'lab': subnet6 auto is picked by 'network create'; a definition file needs "
		     "the prefix itself");
	/* An MTU IPv6 cannot work with. */
	n = make6("lab", "nat", "10.0.0.0/24", "fd00:1::/64");
	n.mtu = 1279;
	assert_int_equal(network_validate(&n, err, sizeof(err)), -ERANGE);
	assert_string_equal(err, "network 'lab': MTU 1279 is below 1280, the least IPv6 needs (RFC 8200); "
				 "raise --mtu or leave out --subnet6");
	n.mtu = 1280;
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	/* Mode bridge takes none of it. */
	network_init(&n, "lan");
	n.mode = net_mode_from_string("bridge");
	strcpy(n.bridge, "br0");
	assert_int_equal(ip_prefix_parse("fd00:1::/64", &n.subnet6), 0);
	assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err, "network 'lan': mode bridge takes no subnet, IPv6 prefix, gateway, MTU or MAC: the "
		     "bridge and the LAN behind it decide those");
}

static void test_ipv6_conflicts(void **state)
{
	struct network a = make6("a", "nat", "10.1.0.0/24", "fd00:1::/64"),
		       b = make6("b", "routed", "10.2.0.0/24", "fd00::/16"),
		       c = make6("c", "nat", "", "fd00:2::/64");
	struct network *others[] = { &a };
	struct link_fake *fake;
	struct link_backend be;
	struct link_dump dump;
	char err[256];
	int eth1;

	assert_int_equal(network_check_conflicts(&b, others, 1, NULL, err, sizeof(err)), -EADDRINUSE);
	assert_string_equal(err, "network 'b' overlaps network 'a' (fd00:1::/64)");
	assert_int_equal(network_check_conflicts(&c, others, 1, NULL, err, sizeof(err)), 0);

	assert_int_equal(link_fake_new(&fake, &be), 0);
	assert_int_equal(link_fake_add_link(fake, "eth1", "veth", &eth1), 0);
	assert_int_equal(link_fake_add_addr(fake, eth1, "2001:db8:5::7/64"), 0);
	assert_int_equal(link_fake_add_route(fake, eth1, "fd00:9::/48"), 0);
	assert_int_equal(link_fake_add_route(fake, eth1, "::/0"), 0);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);
	c = make6("lab", "routed", "", "2001:db8:5::/64");
	assert_int_equal(network_check_conflicts(&c, NULL, 0, &dump, err, sizeof(err)), -EADDRINUSE);
	assert_string_equal(err, "network 'lab' overlaps address 2001:db8:5::7/64 on eth1");
	c = make6("lab", "nat", "10.3.0.0/24", "fd00:9:0:1::/64");
	assert_int_equal(network_check_conflicts(&c, NULL, 0, &dump, err, sizeof(err)), -EADDRINUSE);
	assert_string_equal(err, "network 'lab' overlaps route fd00:9::/48 dev eth1");
	c = make6("lab", "nat", "10.3.0.0/24", "fd00:a::/64"); /* the default route does not count */
	assert_int_equal(network_check_conflicts(&c, NULL, 0, &dump, err, sizeof(err)), 0);
	link_dump_free(&dump);
	link_fake_free(fake);
}

static void test_choose_subnet6(void **state)
{
	static const uint8_t id[5] = { 0x12, 0x34, 0x56, 0x78, 0x9a };
	struct network a = make6("a", "nat", "10.5.0.0/24", "fd12:3456:789a::/64"), c;
	struct network *others[] = { &a };
	struct ip_prefix ula;
	struct link_backend be;
	struct link_fake *fake;
	struct link_dump dump = {};
	char err[256], s[IP_PREFIX_STRLEN];
	bool refused = false;
	int eth1;

	network_ula_prefix(id, &ula);
	assert_string_equal(ip_prefix_format(&ula, s, sizeof(s)), "fd12:3456:789a::/48");
	assert_true(ip6_prefix_is_ula(&ula));
	assert_false(ip6_prefix_is_ula(&(struct ip_prefix){ .family = AF_INET6, .len = 64 }));
	assert_int_equal(link_fake_new(&fake, &be), 0);
	assert_int_equal(link_fake_add_link(fake, "eth1", "veth", &eth1), 0);
	assert_int_equal(link_fake_add_addr(fake, eth1, "fd12:3456:789a:1::5/64"), 0);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);
	c = make6("c", "nat", "10.6.0.0/24", "fd00::/64");
	c.subnet6 = (struct ip_prefix){};
	c.subnet6_auto = true;
	assert_int_equal(network_choose_subnet6(&c, &ula, others, 1, &dump, &refused, err, sizeof(err)), 0);
	assert_string_equal(ip_prefix_format(&c.subnet6, s, sizeof(s)), "fd12:3456:789a:2::/64");
	assert_string_equal(ip_addr_format(AF_INET6, &c.gateway6, s, sizeof(s)), "fd12:3456:789a:2::1");
	assert_false(c.subnet6_auto);
	assert_true(c.nat6);
	assert_true(refused); /* the host's address took :1 */
	assert_int_equal(network_validate(&c, err, sizeof(err)), 0);
	link_dump_free(&dump);

	/* A route over the whole /48: no /64 is free, said at once. */
	assert_int_equal(link_fake_add_route(fake, eth1, "fd12::/16"), 0);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);
	c.subnet6 = (struct ip_prefix){};
	c.subnet6_auto = true;
	assert_int_equal(network_choose_subnet6(&c, &ula, others, 1, &dump, NULL, err, sizeof(err)),
			 -EADDRNOTAVAIL);
	assert_string_equal(
		err, "network 'c': no free /64 left in this host's IPv6 ULA prefix fd12:3456:789a::/48: "
		     "each overlaps a network, an address or a route (give --subnet6 PREFIX)");
	assert_true(c.subnet6_auto);
	assert_int_equal(c.subnet6.family, 0);
	link_dump_free(&dump);
	link_fake_free(fake);
}

/* LINK_DUMP_FOREIGN: the host's own addresses and routes, not those of netd's networks' bridges. */
static void test_dump_foreign(void **state)
{
	struct link_backend be;
	struct link_fake *fake;
	struct link_dump all = {}, host = {};
	struct ip_prefix gw;
	int eth1, br;

	assert_int_equal(link_fake_new(&fake, &be), 0);
	assert_int_equal(link_fake_add_link(fake, "eth1", "veth", &eth1), 0);
	assert_int_equal(link_fake_add_addr(fake, eth1, "192.168.5.7/24"), 0);
	assert_int_equal(link_fake_add_route(fake, 0, "10.77.0.0/16"), 0);
	assert_int_equal(be.ops->bridge_add(be.userdata,
					    &(struct bridge_spec){ .name = "nd-lab", .alias = "netd:lab" },
					    &br),
			 0);
	assert_int_equal(ip_prefix_parse("10.5.0.1/24", &gw), 0);
	assert_int_equal(be.ops->addr_add(be.userdata, br, &gw), 0);
	assert_int_equal(link_fake_add_route(fake, br, "10.5.0.0/24"), 0);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &all), 0);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL | LINK_DUMP_FOREIGN, &host), 0);
	assert_int_equal(host.n_links, all.n_links);
	assert_int_equal(all.n_addrs, 2);
	assert_int_equal(host.n_addrs, 1);
	assert_int_equal(host.addrs[0].ifindex, eth1);
	assert_int_equal(all.n_routes, 2);
	assert_int_equal(host.n_routes, 1); /* not the bridge's, the one without a link */
	assert_int_equal(host.routes[0].ifindex, 0);
	link_dump_free(&all);
	link_dump_free(&host);
	link_fake_free(fake);
}

/* Two networks registering one domain, or one under the other, with systemd-resolved. */
static void test_register_dns_conflicts(void **state)
{
	struct network a = make("a", "10.1.0.0/24"), b = make("b", "10.2.0.0/24");
	struct network *others[] = { &a };
	struct network_index x = {};
	char err[256];

	for (int i = 0; i < 2; i++) {
		struct network *n = i ? &b : &a;

		n->dhcp.dnscfg.register_dns = n->dhcp.dnscfg.local_only = true;
	}
	strcpy(a.dhcp.domain, "lab.test");
	strcpy(b.dhcp.domain, "Lab.Test");
	assert_int_equal(network_index_reserve(&x, 1), 0);
	network_index_add(&x, &a, &a, 1);
	assert_int_equal(network_check_conflicts(&b, others, 1, NULL, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "network 'b': the domain Lab.Test is registered with systemd-resolved by "
				 "network 'a' (lab.test) already");
	err[0] = 0;
	assert_int_equal(network_check_conflicts_index(&b, &x, NULL, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "by network 'a' (lab.test) already"));
	strcpy(b.dhcp.domain, "a.lab.test"); /* under it */
	assert_int_equal(network_check_conflicts_index(&b, &x, NULL, err, sizeof(err)), -EEXIST);
	strcpy(b.dhcp.domain, "test"); /* above it */
	assert_int_equal(network_check_conflicts(&b, others, 1, NULL, err, sizeof(err)), -EEXIST);
	strcpy(b.dhcp.domain, "xlab.test");
	assert_int_equal(network_check_conflicts(&b, others, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(network_check_conflicts_index(&b, &x, NULL, err, sizeof(err)), 0);
	/* The same domain without register on one of them: no conflict of this kind. */
	strcpy(b.dhcp.domain, "lab.test");
	b.dhcp.dnscfg.register_dns = false;
	assert_int_equal(network_check_conflicts(&b, others, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(network_check_conflicts_index(&b, &x, NULL, err, sizeof(err)), 0);
	network_index_done(&x);
	network_done(&a);
	network_done(&b);
}

/* Port forwards of two networks with one map key: refused by the definition checks (create, reload,
 * a hand-edited file at start), with and without the index; and every --listen ADDR must be the
 * host's. */
/* --nat-address, --nat-ports and forwards in a mode without NAT (bridge: no subnet of its own, its
 * checks end early) are refused, not taken silently. */
static void test_nat_only(void **state)
{
	static const char *const modes[] = { "bridge", "routed", "isolated", "open" };
	char err[256];

	for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
		struct network n;
		struct nat_forward f;
		char want[128];

		network_init(&n, "lab");
		n.mode = net_mode_from_string(modes[i]);
		assert_non_null(n.mode);
		if (n.mode->has_subnet)
			assert_int_equal(ip_prefix_parse("10.0.0.0/24", &n.subnet), 0);
		else
			snprintf(n.bridge, sizeof(n.bridge), "br0");
		network_fill_defaults(&n);
		assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
		n.nat_port_lo = 1024;
		n.nat_port_hi = 65535;
		assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want),
			 "network 'lab': --nat-address and --nat-ports need mode nat (mode %s)", modes[i]);
		assert_string_equal(err, want);
		n.nat_port_lo = n.nat_port_hi = 0;
		n.has_nat_address = true;
		assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, want);
		n.has_nat_address = false;
		assert_int_equal(nat_forward_parse("1 tcp any 80 10.0.0.5", &f, err, sizeof(err)), 0);
		assert_int_equal(nat_forwards_add(&n.forwards, &n.n_forwards, &f, err, sizeof(err)), 0);
		assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want), "network 'lab': port forwards need mode nat (mode %s)",
			 modes[i]);
		assert_string_equal(err, want);
		network_done(&n);
	}
}

/* Mode evpn: its VNI (required, its range in the schema, unique), --routed, what it refuses, its
 * firewall treatment and its bridge MAC. */
static void test_evpn(void **state)
{
	struct network n, o, *others[1] = { &o };
	struct network_index x = {};
	struct mac m;
	char err[256], s[MAC_STRLEN];

	n = make("lab", "10.77.0.0/24");
	n.mode = net_mode_from_string("evpn");
	assert_non_null(n.mode);
	assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "network 'lab': mode evpn needs --vni N (1-16777215), the same on every "
				 "host of the network");
	n.vni = 100;
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	assert_int_equal(net_mode_fw(&n), FW_NAT);
	n.routed = true;
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	assert_int_equal(net_mode_fw(&n), FW_ROUTED);
	/* the anycast gateway's MAC, whatever the state dir has */
	assert_true(network_fixed_mac(&n, &m));
	assert_string_equal(mac_format(&m, s, sizeof(s)), "0a:4e:44:00:00:64");
	network_anycast_mac(16777215, &m);
	assert_string_equal(mac_format(&m, s, sizeof(s)), "0a:4e:44:ff:ff:ff");
	n.mtu = 1400;
	assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "network 'lab': mode evpn takes no MAC or MTU: its bridge has the anycast "
				 "gateway's MAC and the MTU of its VXLAN device (the underlay's less 50)");
	n.mtu = 0;
	assert_int_equal(ip_prefix_parse("fd00:77::/64", &n.subnet6), 0);
	assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "network 'lab': mode evpn takes an IPv4 subnet and no IPv6 prefix (not "
				 "yet: every host would send router advertisements from the same "
				 "link-local address)");
	n.subnet6 = (struct ip_prefix){};

	/* --vni and --routed with another mode */
	o = make("other", "10.78.0.0/24");
	o.mode = net_mode_from_string("nat");
	o.vni = 100;
	assert_int_equal(network_validate(&o, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "network 'other': --vni and --routed need mode evpn (mode nat)");
	o.vni = 0;
	o.routed = true;
	assert_int_equal(network_validate(&o, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "network 'other': --vni and --routed need mode evpn (mode nat)");
	o.routed = false;
	assert_false(network_fixed_mac(&o, &m));

	/* one VNI, one network: the list and the index say the same */
	o.mode = n.mode;
	o.vni = 100;
	assert_int_equal(network_check_conflicts(&n, others, 1, NULL, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "network 'lab': VNI 100 is already used by network 'other'");
	assert_int_equal(network_index_reserve(&x, 1), 0);
	network_index_add(&x, &o, &o, 1);
	err[0] = 0;
	assert_int_equal(network_check_conflicts_index(&n, &x, NULL, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "network 'lab': VNI 100 is already used by network 'other'");
	network_index_remove(&x, &o, &o);
	o.vni = 101;
	network_index_add(&x, &o, &o, 1);
	assert_int_equal(network_check_conflicts(&n, others, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(network_check_conflicts_index(&n, &x, NULL, err, sizeof(err)), 0);
	network_index_remove(&x, &o, &o);
	network_index_done(&x);
	assert_false(network_equal(&n, &o));
	network_done(&n);
	network_done(&o);
}

static void test_forward_conflicts(void **state)
{
	struct network a = make("a", "10.1.0.0/24"), b = make("b", "10.2.0.0/24");
	struct network *others[] = { &a };
	struct network_index x = {};
	struct nat_forward f;
	struct link_dump host = {};
	struct addr_info ai = {};
	char err[256];

	assert_int_equal(nat_forward_parse("1 tcp any 8080-8081 10.1.0.5:80-81", &f, err, sizeof(err)), 0);
	assert_int_equal(nat_forwards_add(&a.forwards, &a.n_forwards, &f, err, sizeof(err)), 0);
	assert_int_equal(nat_forward_parse("1 tcp,udp 192.0.2.1 8081 10.2.0.5", &f, err, sizeof(err)), 0);
	assert_int_equal(nat_forwards_add(&b.forwards, &b.n_forwards, &f, err, sizeof(err)), 0);
	assert_int_equal(network_index_reserve(&x, 1), 0);
	network_index_add(&x, &a, &a, 1);
	assert_int_equal(network_check_conflicts(&b, others, 1, NULL, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "network 'b': the ports overlap those of forward 1 tcp any 8080-8081 "
				 "10.1.0.5:80-81 of network 'a'");
	err[0] = 0;
	assert_int_equal(network_check_conflicts_index(&b, &x, NULL, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "of network 'a'"));
	/* another port, or UDP alone: no overlap */
	b.forwards[0].protos = NAT_FWD_UDP;
	assert_int_equal(network_check_conflicts(&b, others, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(network_check_conflicts_index(&b, &x, NULL, err, sizeof(err)), 0);
	/* the listen address: one of the host's, or refused */
	assert_int_equal(network_check_forward_listen(&b, &host, err, sizeof(err)), -EADDRNOTAVAIL);
	assert_string_equal(err, "network 'b': listen address 192.0.2.1 is not an address of the host "
				 "(see 'ip address')");
	assert_int_equal(ip_prefix_parse("192.0.2.1/24", &ai.prefix), 0);
	host.addrs = &ai;
	host.n_addrs = 1;
	assert_int_equal(network_check_forward_listen(&b, &host, err, sizeof(err)), 0);
	assert_int_equal(network_check_forward_listen(&a, &(struct link_dump){}, err, sizeof(err)), 0);
	network_index_done(&x);
	network_done(&a);
	network_done(&b);
}

static void test_conflicts(void **state)
{
	struct network a = make("a", "10.1.0.0/24"), b = make("b", "10.1.0.0/16"), c = make("c", "10.9.0.0/24");
	struct network *others[] = { &a };
	struct link_fake *fake;
	struct link_backend be;
	struct link_dump dump;
	char err[256];
	int eth1;

	assert_int_equal(network_check_conflicts(&b, others, 1, NULL, err, sizeof(err)), -EADDRINUSE);
	assert_string_equal(err, "network 'b' overlaps network 'a' (10.1.0.0/24)");
	assert_int_equal(network_check_conflicts(&c, others, 1, NULL, err, sizeof(err)), 0);
	strcpy(c.bridge, a.bridge);
	assert_int_equal(network_check_conflicts(&c, others, 1, NULL, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "network 'c': bridge 'nd-a' is already used by network 'a'");

	assert_int_equal(link_fake_new(&fake, &be), 0);
	assert_int_equal(link_fake_add_link(fake, "eth1", "veth", &eth1), 0);
	assert_int_equal(link_fake_add_route(fake, eth1, "10.0.0.0/8"), 0);
	assert_int_equal(link_fake_add_route(fake, eth1, "0.0.0.0/0"), 0);
	assert_int_equal(link_fake_add_addr(fake, eth1, "192.168.5.7/24"), 0);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);

	c = make("lab", "10.9.0.0/24");
	assert_int_equal(network_check_conflicts(&c, NULL, 0, &dump, err, sizeof(err)), -EADDRINUSE);
	assert_string_equal(err, "network 'lab' overlaps route 10.0.0.0/8 dev eth1");
	c = make("lab", "192.168.5.0/25");
	assert_int_equal(network_check_conflicts(&c, NULL, 0, &dump, err, sizeof(err)), -EADDRINUSE);
	assert_string_equal(err, "network 'lab' overlaps address 192.168.5.7/24 on eth1");
	c = make("lab", "172.16.0.0/24"); /* the default route does not count */
	assert_int_equal(network_check_conflicts(&c, NULL, 0, &dump, err, sizeof(err)), 0);
	strcpy(c.bridge, "eth1");
	assert_int_equal(network_check_conflicts(&c, NULL, 0, &dump, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "network 'lab': interface 'eth1' already exists and is not managed by netd");
	link_dump_free(&dump);
	link_fake_free(fake);
}

/* The index gives what the lists give: the same first conflict, the same message, the same owner. */
static void random_network(struct network *n, unsigned *seed)
{
	static const char *const modes[] = { "nat", "routed", "isolated", "bridge" };
	static const char *const ifs[] = { "", "eth0", "nd-n1", "nd-n2", "br0", "nd-n3" };
	static const uint8_t lens[] = { 8, 16, 23, 24, 24, 24, 25, 30, 32 };
	char name[16], subnet[32];

	snprintf(name, sizeof(name), "n%d", rand_r(seed) % 12);
	*n = make(name, "10.0.0.0/24");
	n->mode = net_mode_from_string(modes[rand_r(seed) % ELEMENTSOF(modes)]);
	if (rand_r(seed) % 3)
		snprintf(n->bridge, sizeof(n->bridge), "%s", ifs[rand_r(seed) % ELEMENTSOF(ifs)]);
	snprintf(n->uplink, sizeof(n->uplink), "%s", ifs[rand_r(seed) % ELEMENTSOF(ifs)]);
	snprintf(subnet, sizeof(subnet), "10.%d.%d.%d/%d", rand_r(seed) % 3, rand_r(seed) % 3,
		 rand_r(seed) % 256, lens[rand_r(seed) % ELEMENTSOF(lens)]);
	assert_int_equal(ip_prefix_parse(subnet, &n->subnet), 0);
	ip_prefix_mask(&n->subnet);
	if (rand_r(seed) % 8 == 0)
		n->subnet = (struct ip_prefix){};
	/* More IPv4 subnets (--address): the index must find each of them. */
	for (int k = rand_r(seed) % 4; k > 0 && n->subnet.family; k--) {
		snprintf(subnet, sizeof(subnet), "10.%d.%d.%d/%d", rand_r(seed) % 3, rand_r(seed) % 3,
			 rand_r(seed) % 256, lens[rand_r(seed) % (ELEMENTSOF(lens) - 1)]);
		assert_int_equal(network_address_add(n, subnet, NULL, 0), 0);
	}
	/* A VNI, unique among the networks: the index's walk must find the same one. */
	if (rand_r(seed) % 4 == 0) {
		n->mode = net_mode_from_string("evpn");
		n->vni = 1 + rand_r(seed) % 3;
	}
}

static void test_index(void **state)
{
	enum { N = 40 };
	struct network defs[N], *others[N], c;
	struct network_index x = {};
	unsigned seed = 20;
	char err[256], err_index[256];

	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < N; i++) {
			random_network(&defs[i], &seed);
			others[i] = &defs[i];
		}
		assert_int_equal(network_index_reserve(&x, N), 0);
		for (size_t i = 0; i < N; i++)
			network_index_add(&x, &defs[i], &defs[i], i + 1);
		/* Out and in again with its seq, as a redefinition: it keeps its place. */
		for (size_t i = 0; i < N; i += 7)
			network_index_add(&x, &defs[i], &defs[i],
					  network_index_remove(&x, &defs[i], &defs[i]));
		for (int k = 0; k < 200; k++) {
			int r, r_index;

			if (k < N)
				c = defs[k];
			else
				random_network(&c, &seed);
			err[0] = err_index[0] = 0;
			r = network_check_conflicts(&c, others, N, NULL, err, sizeof(err));
			r_index = network_check_conflicts_index(&c, &x, NULL, err_index, sizeof(err_index));
			assert_int_equal(r, r_index);
			assert_string_equal(err, err_index);
			for (size_t i = 0; i <= N; i++) {
				if (i == N) {
					assert_null(network_index_find_bridge(&x, c.bridge));
					break;
				}
				if (!strcmp(defs[i].bridge, c.bridge)) {
					assert_ptr_equal(network_index_find_bridge(&x, c.bridge), &defs[i]);
					break;
				}
			}
			if (k >= N)
				network_done(&c);
		}
		for (size_t i = 0; i < N; i++) {
			network_index_remove(&x, &defs[i], &defs[i]);
			network_done(&defs[i]);
		}
		assert_int_equal(x.name.n + x.bridge.n + x.uplink.n + x.subnet4.n, 0);
	}
	network_index_done(&x);
}

/* An uplink leads out of the host: not into another network's bridge or one of its ports. */
static void test_uplink_conflicts(void **state)
{
	struct network iso = make("iso", "10.50.0.0/24"), lan, c = make("c", "10.60.0.0/24");
	struct network *others[] = { &iso, &lan };
	struct bridge_spec spec = { .name = "nd-iso", .alias = "netd:iso" };
	struct link_fake *fake;
	struct link_backend be;
	struct link_dump dump;
	int br, tap, eth0, br0;
	char err[256];

	network_init(&lan, "lan");
	lan.mode = net_mode_from_string("bridge");
	strcpy(lan.bridge, "br0");
	c.mode = net_mode_from_string("nat");
	assert_int_equal(link_fake_new(&fake, &be), 0);
	assert_int_equal(be.ops->bridge_add(be.userdata, &spec, &br), 0);
	assert_int_equal(link_fake_add_link(fake, "vm-a-0", "tun", &tap), 0);
	assert_int_equal(be.ops->port_set(be.userdata, tap, br), 0);
	assert_int_equal(link_fake_add_link(fake, "br0", "bridge", &br0), 0);
	assert_int_equal(link_fake_add_link(fake, "eth0", "veth", &eth0), 0);
	assert_int_equal(be.ops->port_set(be.userdata, eth0, br0), 0);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);

	strcpy(c.uplink, "nd-iso");
	assert_int_equal(network_check_conflicts(&c, others, 2, &dump, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "network 'c': uplink 'nd-iso' is the bridge of network 'iso'; an uplink must lead "
				 "out of the host, not into another network");
	/* The same when the definitions are not known (a reload): the kernel's tag says it. */
	assert_int_equal(network_check_conflicts(&c, NULL, 0, &dump, err, sizeof(err)), -EINVAL);
	strcpy(c.uplink, "vm-a-0");
	assert_int_equal(network_check_conflicts(&c, others, 2, &dump, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "network 'c': uplink 'vm-a-0' is a port of bridge 'nd-iso' (network 'iso'); an "
				 "uplink must lead out of the host, not into a network");
	/* The other order: c first, with nd-iso as its uplink, then iso. */
	struct network *c_first[] = { &c };
	strcpy(c.uplink, "nd-iso");
	assert_int_equal(network_check_conflicts(&iso, c_first, 1, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "network 'iso': bridge 'nd-iso' is the uplink of network 'c'; change that network's "
				 "uplink first");
	/* A bridge-mode network's bridge is the host's LAN: a fine way out. */
	strcpy(c.uplink, "br0");
	assert_int_equal(network_check_conflicts(&c, others, 2, &dump, err, sizeof(err)), 0);
	link_dump_free(&dump);

	/* A bridge without netd's tag: its network is found in the definitions, listed or indexed. */
	struct network_index x = {};
	int bare, port;

	assert_int_equal(link_fake_add_link(fake, "nd-bare", "bridge", &bare), 0);
	assert_int_equal(link_fake_add_link(fake, "vm-b-0", "tun", &port), 0);
	assert_int_equal(be.ops->port_set(be.userdata, port, bare), 0);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);
	strcpy(iso.bridge, "nd-bare");
	assert_int_equal(network_index_reserve(&x, 2), 0);
	network_index_add(&x, &iso, &iso, 1);
	network_index_add(&x, &lan, &lan, 2);
	strcpy(c.uplink, "vm-b-0");
	assert_int_equal(network_check_conflicts(&c, others, 2, &dump, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "network 'c': uplink 'vm-b-0' is a port of bridge 'nd-bare' (network 'iso'); an "
			    "uplink must lead out of the host, not into a network");
	err[0] = 0;
	assert_int_equal(network_check_conflicts_index(&c, &x, &dump, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "network 'c': uplink 'vm-b-0' is a port of bridge 'nd-bare' (network 'iso'); an "
			    "uplink must lead out of the host, not into a network");
	strcpy(c.uplink, "nd-bare");
	assert_int_equal(network_check_conflicts_index(&c, &x, &dump, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err, "network 'c': uplink 'nd-bare' is the bridge of network 'iso'; an uplink must lead "
		     "out of the host, not into another network");
	network_index_done(&x);
	link_dump_free(&dump);
	link_fake_free(fake);
	network_done(&lan);
}

static void test_host_ports(void **state)
{
	static const char *const bad[] = { "tcp/0", "tcp/65536", "sctp/22", "tcp/022", "tcp/ 22", "tcp/+22", "TCP/22",
					   "tcp", "tcp/", "/22", "tcp/22/x", "tcp/0x16" };
	struct network n = make("lab", "10.30.0.0/24");
	char err[256];

	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_int_equal(network_host_port_add(&n, bad[i], err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid host port 'tcp/0x16': expected PROTO/PORT like tcp/22 or udp/5353");
	assert_int_equal(network_host_port_add(&n, "tcp/22", err, sizeof(err)), 0);
	assert_int_equal(network_host_port_add(&n, "udp/22", err, sizeof(err)), 0);
	assert_int_equal(network_host_port_add(&n, "tcp/22", err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "host port tcp/22 is given twice");
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	n.mode = net_mode_from_string("bridge");
	n.subnet = (struct ip_prefix){};
	n.has_gateway = false;
	assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "network 'lab': mode bridge takes no --allow-host-port: netd does not filter what "
				 "the LAN reaches on the host");
}

/* Several IPv4 subnets: --address GATEWAY/PREFIX, checked against each other, the mode, the DHCP
 * settings and the other networks (listed and indexed alike). */
static void test_addresses(void **state)
{
	static const struct {
		const char *mode, *subnet, *addresses[3], *error;
	} bad[] = {
		{ "nat",
		  "10.0.0.0/24",
		  { "10.1.1.0/24" },
		  "network 'lab': address 10.1.1.0/24 is not a host address of 10.1.1.0/24; give the gateway's address with the prefix length (e.g. 10.1.1.1/24)" },
		{ "nat",
		  "10.0.0.0/24",
		  { "10.1.1.255/24" },
		  "network 'lab': address 10.1.1.255/24 is not a host address of 10.1.1.0/24; give the gateway's address with the prefix length (e.g. 10.1.1.1/24)" },
		{ "nat",
		  "10.0.0.0/24",
		  { "10.1.1.1/31" },
		  "network 'lab': address 10.1.1.1/31 must be IPv4 with a prefix length between /8 and /30" },
		{ "nat",
		  "10.0.0.0/24",
		  { "10.0.0.9/16" },
		  "network 'lab': address 10.0.0.9/16 (subnet 10.0.0.0/16) overlaps its subnet 10.0.0.0/24" },
		{ "routed",
		  "10.0.0.0/24",
		  { "10.1.1.1/24", "10.1.1.200/25" },
		  "network 'lab': address 10.1.1.200/25 (subnet 10.1.1.128/25) overlaps its subnet 10.1.1.0/24" },
		{ "isolated",
		  "10.0.0.0/24",
		  { "10.1.1.1/24", "10.1.1.1/24" },
		  "network 'lab': address 10.1.1.1/24 (subnet 10.1.1.0/24) overlaps its subnet 10.1.1.0/24" },
		{ "bridge",
		  NULL,
		  { "10.1.1.1/24" },
		  "network 'lab': mode bridge takes no --address: it has no subnet of its own" },
		{ "nat",
		  "none",
		  { "10.1.1.1/24" },
		  "network 'lab': --address 10.1.1.1/24 needs an IPv4 --subnet (the first subnet)" },
	};
	char err[256];

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		struct network n;

		network_init(&n, "lab");
		n.mode = net_mode_from_string(bad[i].mode);
		if (!bad[i].subnet)
			strcpy(n.bridge, "br0");
		else if (!strcmp(bad[i].subnet, "none")) {
			n.subnet_none = true;
			assert_int_equal(ip_prefix_parse("fd00:9::/64", &n.subnet6), 0);
		} else
			assert_int_equal(ip_prefix_parse(bad[i].subnet, &n.subnet), 0);
		for (size_t j = 0; j < 3 && bad[i].addresses[j]; j++)
			assert_int_equal(network_address_add(&n, bad[i].addresses[j], err, sizeof(err)), 0);
		network_fill_defaults(&n);
		err[0] = 0;
		assert_true(network_validate(&n, err, sizeof(err)) < 0);
		assert_string_equal(err, bad[i].error);
		network_done(&n);
	}

	/* The parser: IPv4 GATEWAY/PREFIX, at most NETWORK_ADDRESSES_MAX. */
	struct network n = make("lab", "10.0.0.0/24");
	assert_int_equal(network_address_add(&n, "10.1.1.1", err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err, "invalid address '10.1.1.1': expected GATEWAY/PREFIX like 10.1.1.1/24 (the gateway of "
		     "another IPv4 subnet)");
	assert_int_equal(network_address_add(&n, "fd00::1/64", err, sizeof(err)), -EINVAL);
	for (int i = 0; i < NETWORK_ADDRESSES_MAX; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.1.%d.1/24", i);
		assert_int_equal(network_address_add(&n, a, err, sizeof(err)), 0);
	}
	assert_int_equal(network_address_add(&n, "10.2.0.1/24", err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "too many addresses (at most 7 more IPv4 subnets)");
	n.mode = net_mode_from_string("nat");
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	network_done(&n);

	/* DHCP ranges and reservations in any of the subnets. */
	n = make("lab", "10.0.0.0/24");
	n.mode = net_mode_from_string("nat");
	assert_int_equal(network_address_add(&n, "10.1.1.1/24", err, sizeof(err)), 0);
	assert_int_equal(dhcp_range_parse("10.1.1.100-10.1.1.200", &n.dhcp.ranges[n.dhcp.n_ranges++], err,
					  sizeof(err)),
			 0);
	struct dhcp_host h;
	assert_int_equal(dhcp_host_parse("52:54:00:00:00:07,10.1.1.7", &h, err, sizeof(err)), 0);
	assert_int_equal(dhcp_host_add(&n.dhcp, &h), 0);
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	assert_int_equal(dhcp_range_parse("10.1.2.100-10.1.2.200", &n.dhcp.ranges[n.dhcp.n_ranges++], err,
					  sizeof(err)),
			 0);
	assert_true(network_validate(&n, err, sizeof(err)) < 0);
	assert_string_equal(err,
			    "network 'lab': DHCP range 10.1.2.100-10.1.2.200 is not inside the hosts of any "
			    "subnet of the network (10.0.0.0/24, 10.1.1.0/24)");
	assert_int_equal(dhcp_range_parse("10.1.1.1-10.1.1.20", &n.dhcp.ranges[n.dhcp.n_ranges - 1], err,
					  sizeof(err)),
			 0);
	assert_true(network_validate(&n, err, sizeof(err)) < 0);
	assert_string_equal(err, "network 'lab': DHCP range 10.1.1.1-10.1.1.20 covers the gateway 10.1.1.1");
	n.dhcp.n_ranges--;
	assert_int_equal(dhcp_host_parse("52:54:00:00:00:08,10.1.1.1", &h, err, sizeof(err)), 0);
	assert_int_equal(dhcp_host_add(&n.dhcp, &h), 0);
	assert_true(network_validate(&n, err, sizeof(err)) < 0);
	assert_string_equal(err, "network 'lab': host 52:54:00:00:00:08: address 10.1.1.1 is the gateway");
	network_done(&n);

	/* The ranges dnsmasq serves: the first subnet keeps its default without a range of its own. */
	n = make("lab", "10.0.0.0/24");
	struct dhcp_range eff[DHCP_RANGES_EFFECTIVE_MAX];
	char x[INET_ADDRSTRLEN], y[INET_ADDRSTRLEN];
	assert_int_equal(dhcp_range_parse("10.1.1.100-10.1.1.200", &n.dhcp.ranges[n.dhcp.n_ranges++], err,
					  sizeof(err)),
			 0);
	assert_int_equal(dhcp_ranges_effective(&n.dhcp, &n.subnet, &n.gateway, eff), 2);
	assert_string_equal(ip_addr_format(AF_INET, &eff[0].start, x, sizeof(x)), "10.0.0.2");
	assert_string_equal(ip_addr_format(AF_INET, &eff[1].end, y, sizeof(y)), "10.1.1.200");
	assert_int_equal(dhcp_range_parse("10.0.0.10-10.0.0.20", &n.dhcp.ranges[n.dhcp.n_ranges++], err,
					  sizeof(err)),
			 0);
	assert_int_equal(dhcp_ranges_effective(&n.dhcp, &n.subnet, &n.gateway, eff), 2);
	assert_string_equal(ip_addr_format(AF_INET, &eff[0].start, x, sizeof(x)), "10.1.1.100");
	network_done(&n);

	/* Conflicts: each subnet against each of the other networks', listed and indexed. */
	struct network a = make("a", "10.5.0.0/24"), b = make("b", "10.6.0.0/24"), c;
	struct network *others[] = { &a };
	struct network_index idx = {};
	char err_index[256];
	assert_int_equal(network_address_add(&a, "10.7.0.1/24", err, sizeof(err)), 0);
	assert_int_equal(network_index_reserve(&idx, 1), 0);
	network_index_add(&idx, &a, &a, 1);
	assert_int_equal(network_check_conflicts(&b, others, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(network_address_add(&b, "10.7.0.129/25", err, sizeof(err)), 0);
	assert_int_equal(network_check_conflicts(&b, others, 1, NULL, err, sizeof(err)), -EADDRINUSE);
	assert_string_equal(err, "network 'b' overlaps network 'a' (10.7.0.0/24)");
	assert_int_equal(network_check_conflicts_index(&b, &idx, NULL, err_index, sizeof(err_index)),
			 -EADDRINUSE);
	assert_string_equal(err_index, err);
	c = make("c", "10.7.0.0/16");
	assert_int_equal(network_check_conflicts_index(&c, &idx, NULL, err_index, sizeof(err_index)),
			 -EADDRINUSE);
	assert_string_equal(err_index, "network 'c' overlaps network 'a' (10.7.0.0/24)");
	network_index_remove(&idx, &a, &a);
	assert_int_equal(idx.subnet4.n, 0);
	network_index_done(&idx);

	/* The host's addresses and routes against every subnet. */
	struct link_backend be;
	struct link_fake *fake;
	struct link_dump dump;
	int eth1;
	assert_int_equal(link_fake_new(&fake, &be), 0);
	assert_int_equal(link_fake_add_link(fake, "eth1", "veth", &eth1), 0);
	assert_int_equal(link_fake_add_addr(fake, eth1, "10.7.0.9/24"), 0);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);
	assert_int_equal(network_check_conflicts(&a, NULL, 0, &dump, err, sizeof(err)), -EADDRINUSE);
	assert_string_equal(err, "network 'a' overlaps address 10.7.0.9/24 on eth1");

	/* --subnet auto passes over the network's own further subnets and the other networks'. */
	struct ip_prefix pool;
	c = make("c", "10.7.0.0/24");
	c.subnet = (struct ip_prefix){};
	c.has_gateway = false;
	assert_int_equal(network_address_add(&c, "10.8.0.1/24", err, sizeof(err)), 0);
	assert_int_equal(ip_prefix_parse("10.7.0.0/15", &pool), 0);
	link_dump_free(&dump);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);
	assert_int_equal(network_choose_subnet(&c, &pool, NULL, 0, &dump, NULL, err, sizeof(err)), 0);
	assert_string_equal(ip_prefix_format(&c.subnet, x, sizeof(x)), "10.7.1.0/24");
	struct network *a_only[] = { &a };
	a.subnet = (struct ip_prefix){ .family = AF_INET, .len = 24 };
	assert_int_equal(ip_prefix_parse("10.9.0.0/24", &a.subnet), 0);
	assert_int_equal(ip_prefix_parse("10.7.1.1/24", &a.addresses[0]), 0);
	assert_int_equal(network_choose_subnet(&c, &pool, a_only, 1, &dump, NULL, err, sizeof(err)), 0);
	assert_string_equal(ip_prefix_format(&c.subnet, x, sizeof(x)), "10.7.2.0/24");
	link_dump_free(&dump);
	link_fake_free(fake);

	/* network_equal sees them; the file keeps them (golden). */
	struct network back;
	char *text;
	n = make("multi", "10.40.0.0/24");
	n.mode = net_mode_from_string("nat");
	network_fill_defaults(&n);
	assert_int_equal(network_address_add(&n, "10.41.0.1/24", err, sizeof(err)), 0);
	assert_int_equal(network_address_add(&n, "10.42.0.254/23", err, sizeof(err)), 0);
	assert_int_equal(dhcp_range_parse("10.41.0.100-10.41.0.150", &n.dhcp.ranges[n.dhcp.n_ranges++], err,
					  sizeof(err)),
			 0);
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	text = config_network_render(&n);
	assert_non_null(text);
	assert_golden("network-subnets.conf", text);
	assert_int_equal(config_network_parse("multi", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	back.n_addresses--;
	assert_false(network_equal(&n, &back));
	free(text);
	network_done(&back);
	network_done(&n);
}

static void test_config_roundtrip(void **state)
{
	struct network n = make("lab", "10.30.0.0/24"), back;
	char *text, err[256];

	n.mtu = 9000;
	assert_int_equal(network_host_port_add(&n, "tcp/22", err, sizeof(err)), 0);
	assert_int_equal(network_host_port_add(&n, "udp/5353", err, sizeof(err)), 0);
	assert_int_equal(mac_parse("52:54:00:00:00:01", &n.mac), 0);
	n.has_mac = true;
	text = config_network_render(&n);
	assert_non_null(text);
	assert_golden("network-lab.conf", text);
	assert_int_equal(config_network_parse("lab", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	free(text);

	n = make("plain", "10.31.0.0/24");
	n.autostart = false;
	text = config_network_render(&n);
	assert_golden("network-plain.conf", text);
	assert_int_equal(config_network_parse("plain", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	free(text);

	n = make6("dual", "nat", "10.32.0.0/24", "2001:db8:32::/64");
	n.ipv6_mode = IPV6_MODE_SLAAC_DHCPV6;
	n.nat6_given = 1;
	network_fill_defaults(&n);
	text = config_network_render(&n);
	assert_golden("network-dual.conf", text);
	assert_int_equal(config_network_parse("dual", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	assert_true(back.nat6);
	free(text);

	n = make6("v6only", "routed", "", "2001:db8:33::/64");
	text = config_network_render(&n);
	assert_golden("network-v6only.conf", text);
	assert_int_equal(config_network_parse("v6only", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	assert_int_equal(network_validate(&back, err, sizeof(err)), 0);
	free(text);

	/* [evpn]: the VNI, routed only when yes */
	for (int routed = 0; routed < 2; routed++) {
		n = make("span", "10.77.0.0/24");
		n.mode = net_mode_from_string("evpn");
		n.vni = 100;
		n.routed = routed;
		network_fill_defaults(&n);
		text = config_network_render(&n);
		assert_golden(routed ? "network-evpn-routed.conf" : "network-evpn.conf", text);
		assert_int_equal(config_network_parse("span", text, &back, err, sizeof(err)), 0);
		assert_true(network_equal(&n, &back));
		assert_int_equal(network_validate(&back, err, sizeof(err)), 0);
		network_done(&back);
		free(text);
	}
}

static void test_config_errors(void **state)
{
	static const struct {
		const char *text, *error;
	} cases[] = {
		{ "[network]\nmode = bogus\n",
		  "line 2: unknown mode 'bogus' (known: %s)" }, /* net_mode_names()
								 */
		{ "[network]\nsubnet = 10.0.0.0/24\ncolour = blue\n",
		  "line 3: unknown key 'colour' in section [network]" },
		{ "[network]\nsubnet 10.0.0.0/24\n", "line 2: syntax error" },
		{ "[network]\nmtu = -5\n", "line 2: invalid MTU '-5': expected a number" },
		{ "[network]\nautostart = maybe\n", "line 2: invalid autostart 'maybe': expected yes or no" },
		{ "[network]\ngateway = fd00::1\n",
		  "line 2: invalid gateway 'fd00::1': expected an IPv4 address" },
		{ "[network]\nbridge = x\n  continued = 1\n",
		  "line 3: unknown key 'continued' in section [network]" },
		{ "[network\nmode = isolated\n", "line 1: syntax error" },
		{ "[network]\nallow-host-port = tcp/99999\n",
		  "line 2: invalid host port 'tcp/99999': expected PROTO/PORT like tcp/22 or udp/5353" },
		{ "[network]\nsubnet6 = 10.0.0.0/24\n",
		  "line 2: invalid IPv6 prefix '10.0.0.0/24': expected an IPv6 prefix like fd00:1:2:3::/64, or auto" },
		{ "[network]\nsubnet6 = fd00::\n",
		  "line 2: invalid IPv6 prefix 'fd00::': expected an IPv6 prefix like fd00:1:2:3::/64, or auto" },
		{ "[network]\nipv6-mode = stateful\n",
		  "line 2: invalid IPv6 mode 'stateful': expected slaac, dhcpv6 or slaac+dhcpv6" },
		{ "[network]\nnat6 = maybe\n", "line 2: invalid nat6 'maybe': expected yes or no" },
		{ "[network]\nsubnet = nothing\n",
		  "line 2: invalid subnet 'nothing': expected CIDR notation like 10.0.0.0/24, auto or none" },
		{ "[network]\ngateway6 = fd00::1\n", "line 2: unknown key 'gateway6' in section [network]" },
		{ "[network]\naddress = 10.1.1.1\n",
		  "line 2: invalid address '10.1.1.1': expected GATEWAY/PREFIX like 10.1.1.1/24 (the gateway of another IPv4 subnet)" },
		{ "[network]\naddress = fd00::1/64\n",
		  "line 2: invalid address 'fd00::1/64': expected GATEWAY/PREFIX like 10.1.1.1/24 (the gateway of another IPv4 subnet)" },
		{ "[network]\nmode = evpn\n[evpn]\nvni = 0\n", "line 4: VNI is out of range (1-16777215)" },
		{ "[network]\nmode = evpn\n[evpn]\nvni = 16777216\n",
		  "line 4: VNI is out of range (1-16777215)" },
		{ "[network]\nmode = evpn\n[evpn]\nrouted = perhaps\n",
		  "line 4: invalid routed 'perhaps': expected yes or no" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct network n;
		char err[256] = "", want[256];

		snprintf(want, sizeof(want), cases[i].error, net_mode_names());
		assert_true(config_network_parse("lab", cases[i].text, &n, err, sizeof(err)) < 0);
		assert_string_equal(err, want);
	}
}

/* STP on request: the file keeps it, a delay needs STP on and lies in the kernel's range with STP
 * (2-30 s), only a bridge netd owns takes it, and the delay in force is the default when unset. */
static void test_stp(void **state)
{
	static const struct {
		const char *text, *error;
	} bad[] = {
		{ "[network]\nstp = maybe\n", "line 2: invalid STP 'maybe': expected yes or no" },
		{ "[network]\nstp = on\nforward-delay = 1\n",
		  "line 3: forward delay is out of range (2-30)" },
		{ "[network]\nstp = on\nforward-delay = 31\n",
		  "line 3: forward delay is out of range (2-30)" },
		{ "[network]\nstp = on\nforward-delay = 0\n",
		  "line 3: forward delay is out of range (2-30)" },
		{ "[network]\nstp = on\nforward-delay = 5s\n",
		  "line 3: invalid forward delay '5s': expected a number" },
		{ "[network]\nstp = on\nstp = off\n",
		  "line 3: 'stp' is given twice in [network] (first on line 2); it takes one value" },
	};
	struct network n = make("lab", "10.30.0.0/24"), back;
	char *text, err[256];

	assert_int_equal(network_forward_delay(&n), 0);
	n.stp = true;
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	assert_int_equal(network_forward_delay(&n), NETWORK_FORWARD_DELAY_DEFAULT);
	n.forward_delay = 4;
	assert_int_equal(network_forward_delay(&n), 4);
	text = config_network_render(&n);
	assert_non_null(strstr(text, "\nstp = yes\nforward-delay = 4\n"));
	assert_int_equal(config_network_parse("lab", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	assert_true(back.stp);
	assert_int_equal(back.forward_delay, 4);
	network_done(&back);
	free(text);
	/* off is the default and is not written */
	n.stp = false;
	n.forward_delay = 0;
	text = config_network_render(&n);
	assert_null(strstr(text, "stp"));
	assert_null(strstr(text, "forward-delay"));
	free(text);

	n.forward_delay = 10;
	assert_true(network_validate(&n, err, sizeof(err)) < 0);
	assert_string_equal(err, "network 'lab': --forward-delay needs --stp on (with STP off a new port "
				 "forwards at once)");
	network_done(&n);

	assert_int_equal(config_network_parse("br", "[network]\nmode = bridge\nbridge = br0\nstp = on\n", &n,
					      err, sizeof(err)),
			 0);
	assert_true(network_validate(&n, err, sizeof(err)) < 0);
	assert_string_equal(err, "network 'br': mode bridge takes no --stp or --forward-delay: netd does not "
				 "own its bridge");
	network_done(&n);

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		err[0] = 0;
		assert_true(config_network_parse("lab", bad[i].text, &n, err, sizeof(err)) < 0);
		assert_string_equal(err, bad[i].error);
	}
}

/* Mode bridge has no dnsmasq of netd's: every DNS record, forwarder and flag and every raw dnsmasq
 * option is refused, never kept and ignored. */
static void test_bridge_mode_dns(void **state)
{
	static const char *const sets[] = {
		"[dns]\nsrv = _ldap._tcp,ldap.example.com,389",
		"[dns]\ntxt = info,v=1",
		"[dns]\ncname = www,web",
		"[dns]\nptr = 10.0.60.10.in-addr.arpa,web.example.com",
		"[dns]\nforwarder = 192.0.2.53",
		"[dns]\nforwarder = /corp.example/",
		"[dns]\nno-resolv = yes",
		"[dns]\nlocal-only = yes",
		"[dns]\nregister = yes",
		"[dnsmasq]\noption = dhcp-option=42,192.0.2.1",
	};
	struct network n;
	char text[256], err[512];

	for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
		snprintf(text, sizeof(text), "[network]\nmode = bridge\nbridge = br0\n%s\n", sets[i]);
		assert_int_equal(config_network_parse("lan", text, &n, err, sizeof(err)), 0);
		network_fill_defaults(&n);
		err[0] = 0;
		assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
		assert_string_equal(err,
				    "network 'lan': mode bridge takes no DHCP or DNS settings: the LAN's "
				    "own DHCP server serves its guests");
		network_done(&n);
	}
	/* and without them it is fine */
	assert_int_equal(config_network_parse("lan", "[network]\nmode = bridge\nbridge = br0\n", &n, err,
					      sizeof(err)),
			 0);
	network_fill_defaults(&n);
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	network_done(&n);
}

static void count_error(const char *file, const char *msg, void *userdata)
{
	char *seen = userdata;

	strcat(seen, file);
	strcat(seen, ";");
}

/* The definitions and generated values on disk (store.c, vm-store.c): load order, what is skipped,
 * what is reported, and values that are generated once. */
static void test_store(void **state)
{
	char dir[] = "/tmp/netd-store-XXXXXX", path[256], uuid[37], again[37], seen[256] = "";
	static const char plain[] = "[network]\nmode = isolated\nsubnet = 10.31.0.0/24\n";
	struct netd_paths p;
	struct network **list = NULL, n;
	struct mac mac, mac2;
	size_t count = 0;
	_cleanup_free_ char *text = NULL;

	assert_non_null(mkdtemp(dir));
	p = (struct netd_paths){ .config_dir = dir, .state_dir = dir, .run_dir = dir };
	assert_int_equal(store_networks_load(&p, &list, &count, count_error, seen), 0); /* no folder yet */
	assert_int_equal(count, 0);
	snprintf(path, sizeof(path), "%s/networks", dir);
	assert_int_equal(mkdir_p(path, 0755), 0);
	for (const char *const *f =
		     (const char *const[]){ "b.conf", "a.conf", ".hidden.conf", "c.conf~", NULL };
	     *f; f++) {
		snprintf(path, sizeof(path), "%s/networks/%s", dir, *f);
		assert_int_equal(write_file_atomic(path, plain, strlen(plain), 0644), 0);
	}
	snprintf(path, sizeof(path), "%s/networks/bad.conf", dir);
	assert_int_equal(write_file_atomic(path, "[network]\nmode = nope\n", 22, 0644), 0);
	assert_int_equal(store_networks_load(&p, &list, &count, count_error, seen), 0);
	assert_int_equal(count, 2);
	assert_string_equal(list[0]->name, "a");
	assert_string_equal(list[1]->name, "b");
	assert_string_equal(seen, "bad.conf;");
	for (size_t i = 0; i < count; i++)
		network_free(list[i]);
	free(list);

	/* The bridge MAC: generated once, then read back. */
	n = make("a", "10.31.0.0/24");
	assert_int_equal(store_network_mac(&p, &n, &mac), 0);
	assert_int_equal(store_network_mac(&p, &n, &mac2), 0);
	assert_true(mac_equal(&mac, &mac2));
	assert_int_equal(store_state_read(&p, "networks", "a", "mac", &text), 0);
	assert_int_equal(strlen(text), MAC_STRLEN);
	assert_int_equal(store_network_state_remove(&p, "a"), 0);
	assert_int_equal(store_state_read(&p, "networks", "a", "mac", &text), -ENOENT);
	network_done(&n);

	/* The ULA prefix: generated once (a ULA /48), then read back; a bad file is left alone. */
	struct ip_prefix ula, ula2;
	/* a dry run makes no file: the prefix is of that call only */
	snprintf(path, sizeof(path), "%s/ula-prefix", dir);
	assert_int_equal(store_ula_prefix(&p, false, &ula), 0);
	assert_int_equal(ula.len, 48);
	assert_true(ip6_prefix_is_ula(&ula));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(store_ula_prefix(&p, true, &ula), 0);
	assert_int_equal(ula.len, 48);
	assert_true(ip6_prefix_is_ula(&ula));
	assert_int_equal(ula.addr.bytes[0], 0xfd);
	assert_int_equal(store_ula_prefix(&p, true, &ula2), 0);
	assert_true(ip_prefix_equal(&ula, &ula2));
	snprintf(path, sizeof(path), "%s/ula-prefix", dir);
	assert_int_equal(write_file_atomic(path, "2001:db8::/48\n", 14, 0644), 0);
	assert_int_equal(store_ula_prefix(&p, true, &ula2), -EBADMSG);
	assert_int_equal(unlink(path), 0);

	assert_int_equal(store_guest_uuid(&p, "g", uuid), 0);
	assert_int_equal(store_guest_uuid(&p, "g", again), 0);
	assert_string_equal(uuid, again);
	assert_int_equal(uuid[14], '4');
	assert_int_equal(rm_rf(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_roundtrip),
		cmocka_unit_test(test_default_bridge),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_register_dns_conflicts),
		cmocka_unit_test(test_forward_conflicts),
		cmocka_unit_test(test_nat_only),
		cmocka_unit_test(test_evpn),
		cmocka_unit_test(test_choose_subnet),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_dump_foreign),
		cmocka_unit_test(test_config_roundtrip),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_stp),
		cmocka_unit_test(test_bridge_mode_dns),
		cmocka_unit_test(test_uplink_conflicts),
		cmocka_unit_test(test_host_ports),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_ipv6_defaults),
		cmocka_unit_test(test_ipv6_validate),
		cmocka_unit_test(test_ipv6_conflicts),
		cmocka_unit_test(test_choose_subnet6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
