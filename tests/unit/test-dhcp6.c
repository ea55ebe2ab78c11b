/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DHCPv6 and router advertisements of dhcp/: settings, dnsmasq config, leases. dhcp/ alone. */
#include "golden.h"

#include <errno.h>

#include "dhcp.h"
#include "fileio.h"
#include "lease.h"
#include "macro.h"

struct net6 {
	struct dhcp_settings s;
	struct ip_prefix subnet, subnet6;
	union in_addr_union gateway, gateway6;
	enum dhcp_ipv6_mode mode;
};

static void net6_init(struct net6 *n, const char *subnet, const char *subnet6, enum dhcp_ipv6_mode mode)
{
	memset(n, 0, sizeof(*n));
	dhcp_settings_init(&n->s);
	if (subnet) {
		assert_int_equal(ip_prefix_parse(subnet, &n->subnet), 0);
		ip_prefix_first_host(&n->subnet, &n->gateway);
	}
	if (subnet6) {
		assert_int_equal(ip_prefix_parse(subnet6, &n->subnet6), 0);
		n->gateway6 = n->subnet6.addr;
		n->gateway6.bytes[15] |= 1;
	}
	n->mode = mode;
}

static void add_host(struct net6 *n, const char *spec)
{
	struct dhcp_host h;
	char err[512] = "";

	if (dhcp_host_parse(spec, &h, err, sizeof(err)) < 0)
		fail_msg("%s: %s", spec, err);
	assert_int_equal(dhcp_host_add(&n->s, &h), 0);
}

static void add_range6(struct net6 *n, const char *spec)
{
	char err[256];

	assert_int_equal(dhcp_range6_parse(spec, &n->s.ranges6[n->s.n_ranges6++], err, sizeof(err)), 0);
}

static int validate(const struct net6 *n, char *err, size_t errlen)
{
	return dhcp_settings_validate(&n->s, &n->subnet, &n->gateway, err, errlen) ?:
		       dhcp_settings_validate6(&n->s, &n->subnet6, &n->gateway6, n->mode, err, errlen);
}

/* Each form of reservation reads back as it was written (the definition file stores that text). */
static void test_host_forms(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "52:54:00:00:00:01,10.0.0.5", "52:54:00:00:00:01,10.0.0.5" },
		{ "52:54:00:00:00:01,fd00::5,web", "52:54:00:00:00:01,fd00::5,web" },
		{ "52:54:00:00:00:01,[fd00::5],web", "52:54:00:00:00:01,fd00::5,web" },
		{ "52:54:00:00:00:01,10.0.0.5,FD00:0::5,web", "52:54:00:00:00:01,10.0.0.5,fd00::5,web" },
		{ "id:00:01:00:01:2C:AB:CD:EF:52:54:00:00:00:01,fd00::6",
		  "id:00:01:00:01:2c:ab:cd:ef:52:54:00:00:00:01,fd00::6" },
		{ "id:0:3:0:1:52:54:0:0:0:2,fd00::7,db", "id:00:03:00:01:52:54:00:00:00:02,fd00::7,db" },
	};
	char buf[DHCP_HOST_STRLEN], err[512];
	struct dhcp_host h, h2;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		assert_int_equal(dhcp_host_parse(cases[i].in, &h, err, sizeof(err)), 0);
		assert_string_equal(dhcp_host_format(&h, buf, sizeof(buf)), cases[i].out);
		assert_int_equal(dhcp_host_parse(buf, &h2, err, sizeof(err)), 0);
		assert_string_equal(dhcp_host_format(&h2, buf, sizeof(buf)), cases[i].out);
	}
	/* The longest DUID, 130 octets, fits everywhere its text goes. */
	char duid[3 + DHCP_DUID_STRLEN + sizeof(",fd00::ffff,") + DNS_LABEL_MAX] = "id:00";
	for (int i = 1; i < DHCP_DUID_MAX; i++)
		strcat(duid, ":ab");
	strcat(duid, ",fd00::ffff,"
		     "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk");
	assert_int_equal(dhcp_host_parse(duid, &h, err, sizeof(err)), 0);
	assert_int_equal(h.duid.len, DHCP_DUID_MAX);
	assert_string_equal(dhcp_host_format(&h, buf, sizeof(buf)), duid);
}

static void test_parse_errors6(void **state)
{
	static const struct {
		int kind; /* 0 range6, 1 host */
		const char *in, *err;
	} cases[] = {
		{ 0, "fd00::5",
		  "invalid DHCPv6 range 'fd00::5': expected START-END with IPv6 addresses, like fd00:1::100-fd00:1::1ff" },
		{ 0, "fd00::5-10.0.0.1",
		  "invalid DHCPv6 range 'fd00::5-10.0.0.1': expected START-END with IPv6 addresses, like fd00:1::100-fd00:1::1ff" },
		{ 0, "fd00::5-fd00::9\ndhcp-range=::",
		  "invalid DHCPv6 range 'fd00::5-fd00::9\\ndhcp-range=::': expected START-END with IPv6 addresses, like fd00:1::100-fd00:1::1ff" },
		{ 1, "id:00:01,fd00::5",
		  "invalid DUID '00:01' in a host reservation: expected 3 to 130 hex octets with colons, like id:00:03:00:01:52:54:00:12:34:56" },
		{ 1, "id:clientastext,fd00::5",
		  "invalid DUID 'clientastext' in a host reservation: expected 3 to 130 hex octets with colons, like id:00:03:00:01:52:54:00:12:34:56" },
		{ 1, "id:00:01:002,fd00::5",
		  "invalid DUID '00:01:002' in a host reservation: expected 3 to 130 hex octets with colons, like id:00:03:00:01:52:54:00:12:34:56" },
		{ 1, "id:00:01:02:,fd00::5",
		  "invalid DUID '00:01:02:' in a host reservation: expected 3 to 130 hex octets with colons, like id:00:03:00:01:52:54:00:12:34:56" },
		{ 1, "id:00::01:02,fd00::5",
		  "invalid DUID '00::01:02' in a host reservation: expected 3 to 130 hex octets with colons, like id:00:03:00:01:52:54:00:12:34:56" },
		{ 1, "id:*,fd00::5",
		  "invalid DUID '*' in a host reservation: expected 3 to 130 hex octets with colons, like id:00:03:00:01:52:54:00:12:34:56" },
		{ 1, "id:00:01:02,10.0.0.5",
		  "invalid IP '10.0.0.5' in host 'id:00:01:02,10.0.0.5': expected an IPv6 address (a DUID is DHCPv6 only)" },
		{ 1, "52:54:00:00:00:01,fd00::5,10.0.0.5",
		  "invalid host '52:54:00:00:00:01,fd00::5,10.0.0.5': expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]" },
		{ 1, "52:54:00:00:00:01,fd00::5,fd00::6",
		  "invalid host '52:54:00:00:00:01,fd00::5,fd00::6': expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]" },
		{ 1, "52:54:00:00:00:01,[fd00::5",
		  "invalid IP '[fd00::5' in host '52:54:00:00:00:01,[fd00::5': expected an IPv4 or IPv6 address" },
		{ 1, "52:54:00:00:00:01,fd00::5/64",
		  "invalid IP 'fd00::5/64' in host '52:54:00:00:00:01,fd00::5/64': expected an IPv4 or IPv6 address" },
		{ 1, "52:54:00:00:00:01,fd00::5,ignore",
		  "invalid hostname 'ignore' in a host reservation: dnsmasq reads 'ignore' as 'never give this MAC a lease', not as a name" },
		{ 1, "52:54:00:00:00:01,fd00::5,12h,1h",
		  "invalid hostname '12h' in a host reservation: dnsmasq reads a number (with an optional s, m, h, d or w) as a lease time, not as a name" },
	};
	struct dhcp_range6 r;
	struct dhcp_host h;
	char err[512];
	int k;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		err[0] = 0;
		k = cases[i].kind == 0 ? dhcp_range6_parse(cases[i].in, &r, err, sizeof(err)) :
					 dhcp_host_parse(cases[i].in, &h, err, sizeof(err));
		assert_true(k < 0);
		assert_string_equal(err, cases[i].err);
	}
	/* 131 octets: one too many. */
	char duid[3 + DHCP_DUID_STRLEN + sizeof(",fd00::ffff,") + DNS_LABEL_MAX] = "id:00";
	for (int i = 1; i <= DHCP_DUID_MAX; i++)
		strcat(duid, ":ab");
	strcat(duid, ",fd00::5");
	assert_int_equal(dhcp_host_parse(duid, &h, err, sizeof(err)), -EINVAL);
	if (!strstr(err, "expected 3 to 130 hex octets"))
		fail_msg("%s", err);
}

static void test_validate6(void **state)
{
	static const struct {
		const char *subnet, *subnet6;
		enum dhcp_ipv6_mode mode;
		bool no_dhcp;
		const char *ranges6[2], *hosts[2];
		const char *err;
	} cases[] = {
		{ "10.0.0.0/24",
		  NULL,
		  0,
		  false,
		  { "fd00::10-fd00::20" },
		  {},
		  "DHCPv6 range fd00::10-fd00::20: the network has no IPv6 subnet (subnet6)" },
		{ "10.0.0.0/24",
		  NULL,
		  0,
		  false,
		  {},
		  { "52:54:00:00:00:01,10.0.0.5,fd00::5" },
		  "host 52:54:00:00:00:01: IPv6 address fd00::5: the network has no IPv6 subnet (subnet6)" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_DHCPV6,
		  false,
		  {},
		  { "52:54:00:00:00:01,10.0.0.5" },
		  "host 52:54:00:00:00:01: address 10.0.0.5 is IPv4, but the network has no IPv4 subnet" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_SLAAC,
		  false,
		  { "fd00::10-fd00::20" },
		  {},
		  "DHCPv6 range fd00::10-fd00::20: ipv6-mode slaac leases no addresses (use dhcpv6 or slaac+dhcpv6)" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_SLAAC,
		  false,
		  {},
		  { "id:00:01:02,fd00::5" },
		  "host id:00:01:02: IPv6 address fd00::5: ipv6-mode slaac leases no addresses (use dhcpv6 or slaac+dhcpv6)" },
		{ NULL,
		  "fd00::/80",
		  DHCP_IPV6_MODE_SLAAC_DHCPV6,
		  false,
		  {},
		  {},
		  "IPv6 prefix fd00::/80 is longer than /64: SLAAC needs a /64 (use ipv6-mode dhcpv6)" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_DHCPV6,
		  true,
		  {},
		  {},
		  "ipv6-mode dhcpv6 needs DHCP, which is off on this network" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_DHCPV6,
		  false,
		  { "fd00::20-fd00::10" },
		  {},
		  "DHCPv6 range fd00::20-fd00::10: start is after end" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_DHCPV6,
		  false,
		  { "fd00::10-fd00:0:0:1::20" },
		  {},
		  "DHCPv6 range fd00::10-fd00:0:0:1::20 is not inside the hosts of fd00::/64 (dnsmasq serves DHCPv6 on one /64 at most)" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_DHCPV6,
		  false,
		  { "fd00::-fd00::20" },
		  {},
		  "DHCPv6 range fd00::-fd00::20 is not inside the hosts of fd00::/64 (dnsmasq serves DHCPv6 on one /64 at most)" },
		{ NULL,
		  "fd00::/56",
		  DHCP_IPV6_MODE_DHCPV6,
		  false,
		  { "fd00:0:0:2::10-fd00:0:0:2::20" },
		  {},
		  "DHCPv6 range fd00:0:0:2::10-fd00:0:0:2::20 is not inside the hosts of fd00::/64 (dnsmasq serves DHCPv6 on one /64 at most)" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_DHCPV6,
		  false,
		  { "fd00::1-fd00::20" },
		  {},
		  "DHCPv6 range fd00::1-fd00::20 is not inside the hosts of fd00::/64 (dnsmasq serves DHCPv6 on one /64 at most)" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_DHCPV6,
		  false,
		  { "fd00::10-fd00::20", "fd00::20-fd00::30" },
		  {},
		  "DHCPv6 ranges fd00::10-fd00::20 and fd00::20-fd00::30 overlap" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_DHCPV6,
		  false,
		  {},
		  { "52:54:00:00:00:01,fd01::5" },
		  "host 52:54:00:00:00:01: IPv6 address fd01::5 is outside fd00::/64" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_DHCPV6,
		  false,
		  {},
		  { "52:54:00:00:00:01,fd00::1" },
		  "host 52:54:00:00:00:01: IPv6 address fd00::1 is the gateway of fd00::/64" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_DHCPV6,
		  false,
		  {},
		  { "id:00:01:02,fd00::" },
		  "host id:00:01:02: IPv6 address fd00:: is the subnet-router anycast address of fd00::/64" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_DHCPV6,
		  false,
		  {},
		  { "id:00:01:02,fd00::5", "52:54:00:00:00:01,fd00::5" },
		  "address fd00::5 is reserved for both id:00:01:02 and 52:54:00:00:00:01" },
		{ NULL,
		  "fd00::/64",
		  DHCP_IPV6_MODE_DHCPV6,
		  false,
		  {},
		  { "id:00:01:02,fd00::5,a", "id:00:01:03,fd00::6,A" },
		  "hostname 'A' is reserved for both id:00:01:02 and id:00:01:03" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct net6 n;
		char err[512] = "";

		net6_init(&n, cases[i].subnet, cases[i].subnet6, cases[i].mode);
		n.s.dhcp = !cases[i].no_dhcp;
		for (size_t j = 0; j < 2 && cases[i].ranges6[j]; j++)
			add_range6(&n, cases[i].ranges6[j]);
		for (size_t j = 0; j < 2 && cases[i].hosts[j]; j++)
			add_host(&n, cases[i].hosts[j]);
		assert_true(validate(&n, err, sizeof(err)) < 0);
		assert_string_equal(err, cases[i].err);
		dhcp_settings_done(&n.s);
	}
}

static void test_validate6_good(void **state)
{
	struct dhcp_range6 r[DHCP_RANGES_MAX];
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], err[512] = "";
	struct net6 n;

	net6_init(&n, "10.0.0.0/24", "fd00:1:2:3::/64", DHCP_IPV6_MODE_SLAAC_DHCPV6);
	add_host(&n, "52:54:00:00:00:01,10.0.0.5,fd00:1:2:3::5,web");
	add_host(&n, "id:00:03:00:01:52:54:00:00:00:02,fd00:1:2:3::6,db");
	add_host(&n, "52:54:00:00:00:03,10.0.0.7");
	assert_int_equal(validate(&n, err, sizeof(err)), 0);
	/* A DUID and a MAC are two keys: the same MAC twice, or the same DUID twice, is refused. */
	struct dhcp_host h;
	assert_int_equal(
		dhcp_host_parse("id:00:03:00:01:52:54:00:00:00:02,fd00:1:2:3::9", &h, err, sizeof(err)), 0);
	assert_int_equal(dhcp_host_add(&n.s, &h), -EEXIST);
	assert_int_equal(dhcp_host_parse("52:54:00:00:00:01,fd00:1:2:3::9", &h, err, sizeof(err)), 0);
	assert_int_equal(dhcp_host_add(&n.s, &h), -EEXIST);
	assert_non_null(dhcp_host_find_duid(&n.s, &n.s.hosts[1].duid));
	assert_int_equal(dhcp_host_remove_duid(&n.s, &n.s.hosts[1].duid), 0);
	assert_int_equal(n.s.n_hosts, 2);
	assert_null(dhcp_host_find(&n.s, &(struct mac){}));

	/* The default DHCPv6 range: ::2 to ::ffff; on a short prefix, clipped. */
	assert_int_equal(dhcp_ranges6_effective(&n.s, &n.subnet6, r), 1);
	assert_string_equal(ip_addr_format(AF_INET6, &r[0].start, a, sizeof(a)), "fd00:1:2:3::2");
	assert_string_equal(ip_addr_format(AF_INET6, &r[0].end, b, sizeof(b)), "fd00:1:2:3::ffff");
	assert_int_equal(ip_prefix_parse("fd00::100/120", &n.subnet6), 0);
	assert_int_equal(dhcp_ranges6_effective(&n.s, &n.subnet6, r), 1);
	assert_string_equal(ip_addr_format(AF_INET6, &r[0].end, b, sizeof(b)), "fd00::1ff");
	assert_int_equal(ip_prefix_parse("fd00::100/127", &n.subnet6), 0);
	assert_int_equal(dhcp_ranges6_effective(&n.s, &n.subnet6, r), 0);
	dhcp_settings_done(&n.s);

	/* IPv6 only: no IPv4 subnet, a DHCPv6 network with its ranges. */
	net6_init(&n, NULL, "2001:db8:5::/64", DHCP_IPV6_MODE_DHCPV6);
	add_range6(&n, "2001:db8:5::100-2001:db8:5::1ff");
	add_range6(&n, "2001:db8:5::1000-2001:db8:5::10ff");
	add_host(&n, "52:54:00:00:00:01,2001:db8:5::5");
	assert_int_equal(validate(&n, err, sizeof(err)), 0);
	dhcp_settings_done(&n.s);
}

static void test_equal6(void **state)
{
	struct net6 a, b;
	struct dhcp_settings c;

	net6_init(&a, NULL, "fd00::/64", DHCP_IPV6_MODE_DHCPV6);
	net6_init(&b, NULL, "fd00::/64", DHCP_IPV6_MODE_DHCPV6);
	add_range6(&a, "fd00::10-fd00::20");
	assert_false(dhcp_settings_equal_but_hosts(&a.s, &b.s));
	add_range6(&b, "fd00::10-fd00::20");
	assert_true(dhcp_settings_equal(&a.s, &b.s));
	add_host(&a, "id:00:01:02,fd00::5");
	add_host(&b, "id:00:01:03,fd00::5");
	assert_true(dhcp_settings_equal_but_hosts(&a.s, &b.s));
	assert_false(dhcp_settings_equal(&a.s, &b.s));
	assert_int_equal(dhcp_settings_copy(&c, &a.s), 0);
	assert_true(dhcp_settings_equal(&c, &a.s));
	dhcp_settings_done(&c);
	dhcp_settings_done(&a.s);
	dhcp_settings_done(&b.s);
}

static struct dhcp_render_ctx ctx_of(const struct net6 *n, bool router)
{
	return (struct dhcp_render_ctx){
		.network = "lab",
		.bridge = "nd-lab",
		.bridge_ifindex = 7,
		.subnet = n->subnet,
		.gateway = n->gateway,
		.router = router,
		.dns_forward = router,
		.subnet6 = n->subnet6,
		.gateway6 = n->gateway6,
		.ipv6_mode = n->mode,
		.ra_router = router,
		.lease_file = "/var/lib/netd/networks/lab/leases",
		.hosts_file = "/run/netd/dnsmasq/lab.hosts",
		.addn_hosts_file = "/run/netd/dnsmasq/lab.addnhosts",
		.script = "/usr/libexec/netd-lease-event",
		.servers_file = "/run/netd/dnsmasq/upstream.servers",
	};
}

static void golden6(const char *file, const struct net6 *n, const struct dhcp_render_ctx *ctx)
{
	char *text = NULL, err[512] = "";

	if (validate(n, err, sizeof(err)) < 0)
		fail_msg("%s: %s", file, err);
	assert_int_equal(dhcp_config_render(&n->s, ctx, &text), 0);
	assert_golden(file, text);
	free(text);
}

/* One golden per IPv6 mode, isolated, IPv6 only, and the options around them. */
static void test_config_golden6(void **state)
{
	struct dhcp_render_ctx ctx;
	struct net6 n;
	char *text = NULL;

	/* The default dual-stack NAT network: SLAAC, RDNSS and stateless DHCPv6 for DNS. */
	net6_init(&n, "10.60.0.0/24", "fd12:3456:789a:1::/64", DHCP_IPV6_MODE_SLAAC);
	ctx = ctx_of(&n, true);
	golden6("dnsmasq6-slaac.conf", &n, &ctx);

	/* Isolated: router lifetime 0 and no router option, no upstream DNS. */
	ctx = ctx_of(&n, false);
	golden6("dnsmasq6-isolated.conf", &n, &ctx);

	/* DHCPv6: the default range, then explicit ranges, a domain and an MTU. */
	net6_init(&n, "10.60.0.0/24", "fd12:3456:789a:1::/64", DHCP_IPV6_MODE_DHCPV6);
	ctx = ctx_of(&n, true);
	golden6("dnsmasq6-dhcpv6.conf", &n, &ctx);
	net6_init(&n, "10.60.0.0/24", "2001:db8:7::/64", DHCP_IPV6_MODE_SLAAC_DHCPV6);
	add_range6(&n, "2001:db8:7::100-2001:db8:7::1ff");
	add_range6(&n, "2001:db8:7::1:0-2001:db8:7::ffff:ffff");
	snprintf(n.s.domain, sizeof(n.s.domain), "Lab.Example");
	n.s.lease_time = 7200;
	ctx = ctx_of(&n, true);
	ctx.mtu = 1400;
	golden6("dnsmasq6-slaac-dhcpv6.conf", &n, &ctx);

	/* --lease-time infinite: IPv4's range only; the IPv6 ones (the RA prefix's valid lifetime)
	 * keep the default hour. */
	net6_init(&n, "10.60.0.0/24", "fd12:3456:789a:1::/64", DHCP_IPV6_MODE_SLAAC_DHCPV6);
	n.s.lease_time = DHCP_LEASE_TIME_INFINITE;
	ctx = ctx_of(&n, true);
	golden6("dnsmasq6-infinite.conf", &n, &ctx);

	/* IPv6 only: no DHCPv4 range, no router option; a /56 served as its first /64. */
	net6_init(&n, NULL, "fd00:aa:bb::/56", DHCP_IPV6_MODE_DHCPV6);
	ctx = ctx_of(&n, true);
	golden6("dnsmasq6-ipv6-only.conf", &n, &ctx);

	/* DNS off: no RDNSS. DHCP off: RAs only, and dnsmasq's lease file is still netd's. */
	net6_init(&n, "10.60.0.0/24", "fd12:3456:789a:1::/64", DHCP_IPV6_MODE_SLAAC);
	n.s.dns = false;
	n.s.dhcp = false;
	ctx = ctx_of(&n, true);
	golden6("dnsmasq6-ra-only.conf", &n, &ctx);

	/* Nothing for IPv6 changes an IPv4-only config: no subnet6, no IPv6 line. */
	net6_init(&n, "10.60.0.0/24", NULL, 0);
	ctx = ctx_of(&n, true);
	assert_int_equal(dhcp_config_render(&n.s, &ctx, &text), 0);
	assert_null(strstr(text, "enable-ra"));
	assert_null(strstr(text, "option6"));
	assert_null(strstr(text, "gateway6"));
	free(text);
}

static void test_hosts_render6(void **state)
{
	struct net6 n;
	char *text = NULL;

	net6_init(&n, "10.60.0.0/24", "fd00::/64", DHCP_IPV6_MODE_DHCPV6);
	add_host(&n, "52:54:00:00:00:01,10.60.0.5");
	add_host(&n, "52:54:00:00:00:02,10.60.0.6,fd00::6,Web");
	add_host(&n, "52:54:00:00:00:03,fd00::7");
	add_host(&n, "id:00:03:00:01:52:54:00:00:00:04,fd00::8,db");
	assert_int_equal(dhcp_hosts_render(&n.s, &text), 0);
	assert_string_equal(text, "52:54:00:00:00:01,10.60.0.5\n"
				  "52:54:00:00:00:02,10.60.0.6,[fd00::6],web\n"
				  "52:54:00:00:00:03,[fd00::7]\n"
				  "id:00:03:00:01:52:54:00:00:00:04,[fd00::8],db\n");
	free(text);
	/* What validation refuses never reaches the file either. */
	n.s.hosts[3].has_ip = true;
	assert_int_equal(dhcp_hosts_render(&n.s, &text), -EINVAL);
	n.s.hosts[3].has_ip = false;
	n.s.hosts[3].duid.len = 2;
	assert_int_equal(dhcp_hosts_render(&n.s, &text), -EINVAL);
	n.s.hosts[3].duid.len = 14;
	n.s.hosts[2].has_ip6 = false;
	assert_int_equal(dhcp_hosts_render(&n.s, &text), -EINVAL);
	dhcp_settings_done(&n.s);
}

/* Values that would not parse back as meant are refused, not written. */
static void test_render_refuses6(void **state)
{
	struct dhcp_render_ctx ctx;
	struct net6 n;
	char *text = NULL;

	net6_init(&n, NULL, "fd00::/64", DHCP_IPV6_MODE_SLAAC);
	ctx = ctx_of(&n, true);
	assert_int_equal(dhcp_config_render(&n.s, &ctx, &text), 0);
	free(text);
	static const uint32_t bad_mtu[] = { 1, 576, 1279, 65536, UINT32_MAX };
	for (size_t i = 0; i < ELEMENTSOF(bad_mtu); i++) {
		ctx = ctx_of(&n, true);
		ctx.mtu = bad_mtu[i];
		assert_int_equal(dhcp_config_render(&n.s, &ctx, &text), -EINVAL);
	}
	ctx = ctx_of(&n, true);
	ctx.ipv6_mode = 3;
	assert_int_equal(dhcp_config_render(&n.s, &ctx, &text), -EINVAL);
	ctx.ipv6_mode = -1;
	assert_int_equal(dhcp_config_render(&n.s, &ctx, &text), -EINVAL);
	ctx = ctx_of(&n, true);
	assert_int_equal(ip_addr_parse("fd01::1", &(int){ 0 }, &ctx.gateway6), 0);
	assert_int_equal(dhcp_config_render(&n.s, &ctx, &text), -EINVAL);
	ctx = ctx_of(&n, true);
	ctx.subnet6.addr.bytes[15] = 1; /* not masked */
	assert_int_equal(dhcp_config_render(&n.s, &ctx, &text), -EINVAL);
	ctx = ctx_of(&n, true);
	ctx.subnet6.family = AF_INET;
	assert_int_equal(dhcp_config_render(&n.s, &ctx, &text), -EINVAL);
	ctx = ctx_of(&n, true);
	ctx.subnet6.family = 0; /* neither IPv4 nor IPv6 */
	assert_int_equal(dhcp_config_render(&n.s, &ctx, &text), -EINVAL);
	ctx = ctx_of(&n, true);
	ctx.bridge = "nd-lab\nra-param=*,0,9000";
	assert_int_equal(dhcp_config_render(&n.s, &ctx, &text), -EINVAL);
	ctx = ctx_of(&n, true);
	snprintf(n.s.domain, sizeof(n.s.domain), "lab\ndhcp-option=option6:dns-server,[::1]");
	assert_int_equal(dhcp_config_render(&n.s, &ctx, &text), -EINVAL);
	dhcp_settings_done(&n.s);
}

/* dnsmasq's lease file with DHCPv6 leases: IPv4 lines, the server's DUID, then EXPIRY IAID IPv6
 * HOSTNAME CLIENT-DUID (lease.c, lease_update_file; the file tests/data/dnsmasq6.leases was written
 * by dnsmasq 2.90 for dhclient -6 in test-dhcp6-dnsmasq.sh). */
static void test_lease_file6(void **state)
{
	char long_duid[600] = "00", text[2048], ip[INET6_ADDRSTRLEN], d[DHCP_DUID_STRLEN];
	struct dhcp_lease_table t;
	struct dhcp_lease l;
	size_t bad;

	for (int i = 1; i <= DHCP_DUID_MAX; i++)
		strcat(long_duid, ":ab"); /* 131 octets */
	snprintf(text, sizeof(text),
		 "1700000000 52:54:00:00:00:0a 10.60.0.10 web *\n"
		 "duid 00:01:00:01:2c:5b:2e:8f:52:54:00:00:00:01\n"
		 "1700003600 1272202356 fd00::5 web6 00:01:00:01:2c:5b:2e:90:52:54:00:00:00:0a\n"
		 "0 T77 fd00::6 * 00:03:00:01:52:54:00:00:00:0b\n"
		 "1700003600 4294967295 fd00::7 bad_name! %s\n"
		 "1700003600 4294967296 fd00::8 * 00:01:02\n"
		 "1700003600 12x fd00::9 * 00:01:02\n"
		 "1700003600 1 fd00::zz * 00:01:02\n"
		 "vendorclass fd00::5 00:00:01\n"
		 "agent-info 10.60.0.10 01:02\n",
		 long_duid);
	assert_int_equal(dhcp_lease_file_parse(text, strlen(text), &t, &bad), 0);
	assert_int_equal(t.n, 4);
	assert_int_equal(bad, 3); /* IAID out of range, IAID not a number, address */
	assert_int_equal(t.leases[0].family, AF_INET);
	assert_int_equal(t.leases[1].family, AF_INET6);
	assert_string_equal(ip_addr_format(AF_INET6, &t.leases[1].ip, ip, sizeof(ip)), "fd00::5");
	assert_int_equal(t.leases[1].iaid, 1272202356);
	assert_false(t.leases[1].temporary);
	assert_int_equal(t.leases[1].expiry, 1700003600);
	assert_string_equal(t.leases[1].hostname, "web6");
	assert_string_equal(dhcp_duid_format(&t.leases[1].duid, d, sizeof(d)),
			    "00:01:00:01:2c:5b:2e:90:52:54:00:00:00:0a");
	assert_true(mac_is_zero(&t.leases[1].mac)); /* the file has no MAC for DHCPv6 */
	assert_int_equal(t.leases[2].iaid, 77);
	assert_true(t.leases[2].temporary);
	assert_string_equal(t.leases[3].hostname, ""); /* not a DNS label: dropped */
	assert_int_equal(t.leases[3].duid.len, 0); /* 131 octets: dropped, the lease kept */
	assert_int_equal(t.leases[3].iaid, UINT32_MAX);
	/* The same address in both families are two leases; a new lease of an address replaces it. */
	assert_int_equal(dhcp_lease6_from_fields("1", "5", "fd00::5", "other", "00:01:02",
						 "52:54:00:00:00:0c", &l),
			 0);
	assert_int_equal(dhcp_lease_table_put(&t, &l), 0);
	assert_int_equal(t.n, 4);
	assert_string_equal(t.leases[1].hostname, "other");
	assert_false(mac_is_zero(&t.leases[1].mac));
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET, &t.leases[1].ip, 2), -ENOENT);
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET6, &t.leases[1].ip, 2), 0); /* expired at 1 */
	assert_int_equal(t.n, 3);
	dhcp_lease_table_clear(&t);

	/* A file dnsmasq 2.90 wrote for three dhclient -6 clients (two reserved, one dynamic). */
	char *real = NULL, path[512];
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/dnsmasq6.leases", TEST_DATA_DIR);
	assert_int_equal(read_file(path, &real, &len), 0);
	assert_int_equal(dhcp_lease_file_parse(real, len, &t, &bad), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(bad, 0);
	assert_int_equal(t.leases[0].family, AF_INET6);
	assert_string_equal(ip_addr_format(AF_INET6, &t.leases[0].ip, ip, sizeof(ip)), "fd42:6:1::60");
	assert_int_equal(t.leases[0].iaid, 6684691);
	assert_string_equal(t.leases[0].hostname, "gthree");
	assert_string_equal(dhcp_duid_format(&t.leases[0].duid, d, sizeof(d)),
			    "00:03:00:01:52:54:00:66:00:13");
	assert_string_equal(t.leases[1].hostname, "");
	dhcp_lease_table_clear(&t);
	free(real);

	/* Events: the fields netd-lease-event passes on. */
	assert_int_equal(dhcp_lease6_from_fields("1", "5", "10.0.0.1", NULL, "00:01:02", NULL, &l), -ENOENT);
	assert_int_equal(dhcp_lease6_from_fields("1", "", "fd00::1", NULL, "00:01:02", NULL, &l), -EINVAL);
	assert_int_equal(dhcp_lease6_from_fields("1", "T", "fd00::1", NULL, "00:01:02", NULL, &l), -EINVAL);
	assert_int_equal(dhcp_lease6_from_fields("-1", "5", "fd00::1", NULL, "00:01:02", NULL, &l), -EINVAL);
	assert_int_equal(dhcp_lease6_from_fields(NULL, "5", "fd00::1", "a\nb", "zz", "junk", &l), 0);
	assert_int_equal(l.expiry, 0);
	assert_string_equal(l.hostname, "");
	assert_int_equal(l.duid.len, 0);
	assert_true(mac_is_zero(&l.mac));
	/* An IPv4 event never reads an IPv6 address, as before. */
	assert_int_equal(dhcp_lease_from_fields("1", "52:54:00:00:00:0a", "fd00::1", NULL, NULL, &l),
			 -ENOENT);
}

/* An IPv6 lease keeps its MAC: a renewal with another guest's DUID reports the renewer's MAC, and
 * changes nothing of the lease (a short lifetime would end it early: F2 of the second review). */
static void test_lease_keeps_mac6(void **state)
{
	struct dhcp_lease_table t = {};
	struct dhcp_lease l = { .family = AF_INET6, .expiry = 1700003600, .iaid = 7 }, owner, *got;

	assert_int_equal(ip_addr_parse("fd00:1::150", &(int){ 0 }, &l.ip), 0);
	assert_int_equal(mac_parse("52:54:00:00:00:01", &l.mac), 0);
	assert_int_equal(dhcp_duid_parse("00:02:00:00:ab:11:01", &l.duid), 0);
	snprintf(l.hostname, sizeof(l.hostname), "victim");
	assert_int_equal(dhcp_lease_table_put(&t, &l), 0);
	owner = l;
	assert_int_equal(mac_parse("52:54:00:00:00:66", &l.mac), 0); /* the attacker's */
	l.expiry = 1700000120;
	l.iaid = 8;
	snprintf(l.hostname, sizeof(l.hostname), "attacker");
	assert_int_equal(dhcp_lease_table_put(&t, &l), 1);
	l.mac = (struct mac){}; /* an event without a MAC */
	assert_int_equal(dhcp_lease_table_put(&t, &l), 0);
	got = &t.leases[0];
	assert_int_equal(t.n, 1);
	assert_memory_equal(got, &owner, sizeof(owner));
	/* neither is a renewal of the owner's lease (monitor's "renew"): not the table's lease, which
	 * did not change, nor the event, another client's */
	assert_false(dhcp_lease_renewed(&owner, got));
	assert_false(dhcp_lease_renewed(&owner, &l));
	/* the owner's own renewal changes it, and is one */
	l = owner;
	owner.expiry = 1700007200;
	assert_int_equal(dhcp_lease_table_put(&t, &owner), 0);
	assert_int_equal(t.leases[0].expiry, 1700007200);
	assert_true(dhcp_lease_renewed(&l, &t.leases[0]));
	/* IPv4 leases follow dnsmasq (its MAC checks are port security's chaddr rule). */
	l = (struct dhcp_lease){ .family = AF_INET };
	assert_int_equal(ip_addr_parse("10.0.0.5", &(int){ 0 }, &l.ip), 0);
	assert_int_equal(mac_parse("52:54:00:00:00:01", &l.mac), 0);
	assert_int_equal(dhcp_lease_table_put(&t, &l), 0);
	assert_int_equal(mac_parse("52:54:00:00:00:02", &l.mac), 0);
	assert_int_equal(dhcp_lease_table_put(&t, &l), 0);
	dhcp_lease_table_clear(&t);
}

/* A "del" before the expiry the owner was given keeps the lease, ended, for its MAC: another MAC's
 * lease of the address until then is "moved"; after it, a new lease replaces it; purge drops it. */
static void test_lease_ended6(void **state)
{
	struct dhcp_lease_table t = {}, file = {};
	struct dhcp_lease l = { .family = AF_INET6, .expiry = 1000 }, owner, v4 = { .family = AF_INET };

	assert_int_equal(ip_addr_parse("fd00:1::150", &(int){ 0 }, &l.ip), 0);
	assert_int_equal(mac_parse("52:54:00:00:00:01", &l.mac), 0);
	assert_int_equal(dhcp_lease_table_put(&t, &l), 0);
	owner = l;
	/* dnsmasq ends it at 120 (another guest's renewal with a short lifetime, or a Release) */
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET6, &l.ip, 120), 1);
	assert_int_equal(t.n, 1);
	assert_true(t.leases[0].ended);
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET6, &l.ip, 121), 1); /* again: the same */
	assert_int_equal(dhcp_lease_table_purge(&t, 999), 0);
	/* the attacker leases it under its DUID: moved, the owner's */
	assert_int_equal(mac_parse("52:54:00:00:00:66", &l.mac), 0);
	l.expiry = 5000;
	assert_int_equal(dhcp_lease_table_put(&t, &l), 1);
	assert_true(mac_equal(&t.leases[0].mac, &owner.mac));
	assert_true(t.leases[0].ended);
	assert_int_equal(t.leases[0].expiry, 1000);
	/* a table read anew (dnsmasq restarted: the attacker's lease without a MAC) keeps it */
	assert_int_equal(dhcp_lease_table_put(&file, &(struct dhcp_lease){ .family = AF_INET6, .ip = l.ip }),
			 0);
	assert_int_equal(dhcp_lease_table_keep_ended(&file, &t, 999), 1);
	assert_true(mac_equal(&file.leases[0].mac, &owner.mac) && file.leases[0].ended);
	assert_int_equal(dhcp_lease_table_keep_ended(&file, &t, 1000), 0); /* expired: not kept */
	dhcp_lease_table_clear(&file);
	assert_int_equal(dhcp_lease_table_keep_ended(&file, &t, 999), 1); /* not in the file: added */
	assert_int_equal(file.n, 1);
	dhcp_lease_table_clear(&file);
	/* the owner's own renewal takes it back */
	assert_int_equal(dhcp_lease_table_put(&t, &owner), 0);
	assert_false(t.leases[0].ended);
	/* past its expiry: removed, and purged once ended */
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET6, &l.ip, 1000), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(dhcp_lease_table_put(&t, &owner), 0);
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET6, &l.ip, 500), 1);
	assert_int_equal(dhcp_lease_table_purge(&t, 1000), 1);
	assert_int_equal(t.n, 0);
	/* one without a MAC (read from the file) has no owner to keep it for; IPv4 follows dnsmasq */
	l = owner;
	l.mac = (struct mac){};
	assert_int_equal(dhcp_lease_table_put(&t, &l), 0);
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET6, &l.ip, 500), 0);
	v4.mac = owner.mac;
	v4.expiry = 1000;
	assert_int_equal(dhcp_lease_table_put(&t, &v4), 0);
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET, &v4.ip, 500), 0);
	assert_int_equal(t.n, 0);
	dhcp_lease_table_clear(&t);
}

/* A DHCPv6 lease's MAC: dnsmasq's alone; not the one in a DUID-LL or DUID-LLT (a guest dnsmasq finds
 * no MAC for chooses its DUID freely: F4 of the second review). */
static void test_lease6_mac(void **state)
{
	static const struct {
		const char *mac, *duid, *want;
	} cases[] = {
		{ "52:54:00:00:00:01", "00:03:00:01:52:54:00:00:00:02", "52:54:00:00:00:01" },
		{ NULL, "00:03:00:01:52:54:00:00:00:02", NULL },
		{ NULL, "00:01:00:01:2c:4d:5e:6f:52:54:00:00:00:03", NULL },
		{ NULL, "00:02:00:00:ab:11:01:02:03:04:05:06", NULL },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct dhcp_lease l = { .family = AF_INET6 };
		struct mac m, want;

		if (cases[i].mac)
			assert_int_equal(mac_parse(cases[i].mac, &l.mac), 0);
		assert_int_equal(dhcp_duid_parse(cases[i].duid, &l.duid), 0);
		assert_int_equal(dhcp_lease6_mac(&l, &m), cases[i].want != NULL);
		if (cases[i].want) {
			assert_int_equal(mac_parse(cases[i].want, &want), 0);
			assert_true(mac_equal(&m, &want));
		}
	}
}

/* netd's record of the DHCPv6 leases' MACs: what the renderer writes parses back to the same, and
 * gives a lease read back from dnsmasq's file (no MAC) the MAC of the same client's lease only. */
#define EN_DUID "00:02:00:00:ab:11:de:ad:be:ef:00:01" /* DUID-EN: no MAC inside */

static const char macs_text[] =
	"fd00:1::150 52:54:00:00:00:01 " EN_DUID " 7\n"
	"fd00:1::151 52:54:00:00:00:02 00:04:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19 T4294967295\n";

static void lease6(struct dhcp_lease_table *t, const char *ip, const char *iaid, const char *duid,
		   const char *mac)
{
	struct dhcp_lease l;

	assert_int_equal(dhcp_lease6_from_fields("1700000000", iaid, ip, "*", duid, mac, &l), 0);
	assert_true(dhcp_lease_table_put(t, &l) >= 0);
}

static void test_lease_macs_roundtrip(void **state)
{
	struct dhcp_lease_table t = {}, back, file = {};
	struct dhcp_lease v4;
	char *text;

	lease6(&t, "fd00:1::150", "7", EN_DUID, "52:54:00:00:00:01");
	lease6(&t, "fd00:1::151", "T4294967295", "00:04:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19",
	       "52:54:00:00:00:02");
	lease6(&t, "fd00:1::152", "8", EN_DUID, NULL); /* no MAC known: not recorded */
	lease6(&t, "fd00:1::153", "9", "zz", "52:54:00:00:00:03"); /* no DUID: could not be matched */
	assert_int_equal(dhcp_lease_from_fields("0", "52:54:00:00:00:04", "10.0.0.4", "*", "*", &v4), 0);
	assert_int_equal(dhcp_lease_table_put(&t, &v4), 0);
	text = dhcp_lease_macs_render(&t);
	assert_non_null(text);
	assert_string_equal(text, macs_text);
	assert_int_equal(dhcp_lease_macs_parse(text, strlen(text), &back, NULL), 0);
	assert_int_equal(back.n, 2);
	free(text);
	text = dhcp_lease_macs_render(&back);
	assert_string_equal(text, macs_text);
	free(text);

	/* The lease file's view after a restart: the same clients, another client at ::152's place,
	 * and the same DUID with another IAID at ::151's. */
	lease6(&file, "fd00:1::150", "7", EN_DUID, NULL);
	lease6(&file, "fd00:1::151", "T4294967294", "00:04:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19",
	       NULL);
	lease6(&file, "fd00:1::152", "8", "00:02:00:00:ab:11:01", NULL);
	assert_int_equal(dhcp_lease_table_take_macs(&file, &back), 1);
	assert_true(mac_equal(&file.leases[0].mac, &(struct mac){ { 0x52, 0x54, 0, 0, 0, 1 } }));
	assert_true(mac_is_zero(&file.leases[1].mac));
	assert_true(mac_is_zero(&file.leases[2].mac));
	/* A MAC a lease has is not replaced. */
	lease6(&back, "fd00:1::152", "8", "00:02:00:00:ab:11:01", "52:54:00:00:00:09");
	file.leases[2].mac = (struct mac){ { 0x52, 0x54, 0, 0, 0, 8 } };
	assert_int_equal(dhcp_lease_table_take_macs(&file, &back), 0);
	assert_true(mac_equal(&file.leases[2].mac, &(struct mac){ { 0x52, 0x54, 0, 0, 0, 8 } }));

	dhcp_lease_table_clear(&back);
	assert_int_equal(dhcp_lease_macs_parse("", 0, &back, NULL), 0);
	assert_int_equal(back.n, 0);
	dhcp_lease_table_clear(&t);
	dhcp_lease_table_clear(&file);
}

/* A line that is not what the renderer writes is skipped, and only it: the others are kept. */
static void test_lease_macs_strict(void **state)
{
	static const char good[] = "fd00:1::199 52:54:00:00:00:01 " EN_DUID " 7\n";
	static const char *const bad[] = {
		"\n",
		"fd00:1::150 52:54:00:00:00:01 " EN_DUID " 7 x\n",
		"fd00:1::150 52:54:00:00:00:01 " EN_DUID " 7 07\n",
		"fd00:1::150 52:54:00:00:00:01 " EN_DUID " 7 1 2\n",
		"fd00:1::150 52:54:00:00:00:01 " EN_DUID "\n",
		"fd00:1::150  52:54:00:00:00:01 " EN_DUID " 7\n",
		"fd00:1::150\t52:54:00:00:00:01 " EN_DUID " 7\n",
		" fd00:1::150 52:54:00:00:00:01 " EN_DUID " 7\n",
		"fd00:1::150 52:54:00:00:00:01 " EN_DUID " 7 \n",
		"fd00:1:0::150 52:54:00:00:00:01 " EN_DUID " 7\n", /* not the canonical form */
		"FD00:1::150 52:54:00:00:00:01 " EN_DUID " 7\n",
		"fd00:1::150 52:54:00:00:00:0A " EN_DUID " 7\n",
		"fd00:1::150 00:00:00:00:00:00 " EN_DUID " 7\n",
		"fd00:1::150 52:54:00:00:00:01 00:02 7\n", /* too short a DUID */
		"fd00:1::150 52:54:00:00:00:01 " EN_DUID " 07\n",
		"fd00:1::150 52:54:00:00:00:01 " EN_DUID " 4294967296\n",
		"fd00:1::150 52:54:00:00:00:01 " EN_DUID " -1\n",
		"10.0.0.1 52:54:00:00:00:01 " EN_DUID " 7\n",
		"# a comment\n",
		"fd00:1::199 52:54:00:00:00:02 " EN_DUID " 8\n", /* good's address again: the first counts */
		"fd00:1::150 52:54:00:00:00:01 " EN_DUID " 7", /* no newline (last): cut short */
	};
	struct dhcp_lease_table t;
	char text[1024], nul[] = "fd00:1::150 52:54:00:00:00:01 " EN_DUID " 7\n";
	size_t bad_n;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		snprintf(text, sizeof(text), "%s%s", good, bad[i]);
		bad_n = 0;
		assert_int_equal(dhcp_lease_macs_parse(text, strlen(text), &t, &bad_n), 0);
		if (t.n != 1 || bad_n != 1)
			fail_msg("%zu leases, %zu bad lines from: %s", t.n, bad_n, text);
		assert_true(mac_equal(&t.leases[0].mac, &(struct mac){ { 0x52, 0x54, 0, 0, 0, 1 } }));
		dhcp_lease_table_clear(&t);
	}
	nul[11] = 0;
	assert_int_equal(dhcp_lease_macs_parse(nul, sizeof(nul) - 1, &t, &bad_n), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(bad_n, 1);
	assert_int_equal(dhcp_lease_macs_parse(macs_text, sizeof(macs_text) - 1, &t, &bad_n), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(bad_n, 0);
	dhcp_lease_table_clear(&t);
}

/* The record holds what port security uses: the DHCP_LEASES6_PER_MAC newest leases of each MAC (a
 * guest asking under many DUIDs, with long DUIDs, cannot make it big: F3), and an ended lease with
 * its expiry, which parses back. */
static void test_lease_macs_bounded(void **state)
{
	struct dhcp_lease_table t = {}, back;
	char ip[64], exp[32], *text, *line;
	size_t lines = 0, bad;

	for (int i = 0; i < 200; i++) {
		struct dhcp_lease l;

		snprintf(ip, sizeof(ip), "fd00:1::%x", 0x1000 + i);
		snprintf(exp, sizeof(exp), "%d", 1700000000 + i * 7 % 200); /* all different, not in order */
		assert_int_equal(dhcp_lease6_from_fields(exp, "1", ip, "*", EN_DUID, "52:54:00:00:00:66", &l),
				 0);
		assert_int_equal(dhcp_lease_table_put(&t, &l), 0);
	}
	lease6(&t, "fd00:1::150", "7", EN_DUID, "52:54:00:00:00:01");
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET6, &t.leases[200].ip, 1600000000), 1);
	text = dhcp_lease_macs_render(&t);
	assert_non_null(text);
	for (line = text; (line = strchr(line, '\n')); line++)
		lines++;
	assert_int_equal(lines, DHCP_LEASES6_PER_MAC + 1);
	for (int e = 199; e > 199 - DHCP_LEASES6_PER_MAC; e--) {
		for (int i = 0; i < 200; i++)
			if (i * 7 % 200 == e)
				snprintf(ip, sizeof(ip), "fd00:1::%x ", 0x1000 + i);
		if (!strstr(text, ip))
			fail_msg("the lease expiring at +%d is not in: %s", e, text);
	}
	assert_non_null(strstr(text, "fd00:1::150 52:54:00:00:00:01 " EN_DUID " 7 1700000000\n"));
	assert_int_equal(dhcp_lease_macs_parse(text, strlen(text), &back, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(back.n, DHCP_LEASES6_PER_MAC + 1);
	assert_true(back.leases[0].ended);
	assert_int_equal(back.leases[0].expiry, 1700000000);
	free(text);
	dhcp_lease_table_clear(&back);
	dhcp_lease_table_clear(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_forms),
		cmocka_unit_test(test_parse_errors6),
		cmocka_unit_test(test_validate6),
		cmocka_unit_test(test_validate6_good),
		cmocka_unit_test(test_equal6),
		cmocka_unit_test(test_config_golden6),
		cmocka_unit_test(test_hosts_render6),
		cmocka_unit_test(test_render_refuses6),
		cmocka_unit_test(test_lease_file6),
		cmocka_unit_test(test_lease_keeps_mac6),
		cmocka_unit_test(test_lease_ended6),
		cmocka_unit_test(test_lease6_mac),
		cmocka_unit_test(test_lease_macs_roundtrip),
		cmocka_unit_test(test_lease_macs_strict),
		cmocka_unit_test(test_lease_macs_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
