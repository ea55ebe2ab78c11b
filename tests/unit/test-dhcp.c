/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "golden.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "config.h"
#include "dhcp.h"
#include "inifile.h"
#include "lease.h"
#include "macro.h"
#include "network.h"
#include "proc.h"
#include "server.h"

#define LONG_LABEL "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk" /* 63 */

static struct network make(const char *name, const char *subnet)
{
	struct network n;

	network_init(&n, name);
	assert_int_equal(ip_prefix_parse(subnet, &n.subnet), 0);
	network_fill_defaults(&n);
	return n;
}

static void add_range(struct network *n, const char *s)
{
	char err[256];

	assert_int_equal(dhcp_range_parse(s, &n->dhcp.ranges[n->dhcp.n_ranges++], err, sizeof(err)), 0);
}

static void add_host(struct network *n, const char *s)
{
	struct dhcp_host h;
	char err[256];

	assert_int_equal(dhcp_host_parse(s, &h, err, sizeof(err)), 0);
	assert_int_equal(dhcp_host_add(&n->dhcp, &h), 0);
}

static void add_dns_host(struct network *n, const char *s)
{
	struct dns_host h;
	char err[256];

	assert_int_equal(dns_host_parse(s, &h, err, sizeof(err)), 0);
	assert_int_equal(dns_host_add(&n->dhcp, &h), 0);
}

static void golden_config(const char *file, const struct network *n)
{
	struct dhcp_render_ctx ctx = {
		.network = n->name, .bridge = n->bridge, .subnet = n->subnet, .gateway = n->gateway,
		.router = n->dhcp_router, .dns_forward = n->dhcp_router,
		.lease_file = "/var/lib/netd/networks/lab/leases", .hosts_file = "/run/netd/dnsmasq/lab.hosts",
		.addn_hosts_file = "/run/netd/dnsmasq/lab.addnhosts", .script = "/usr/libexec/netd-lease-event",
	};
	char *text = NULL, err[256];

	assert_int_equal(network_validate(n, err, sizeof(err)), 0);
	assert_int_equal(dhcp_config_render(&n->dhcp, &ctx, &text), 0);
	assert_golden(file, text);
	free(text);
}

static void test_config_golden(void **state)
{
	struct network n = make("lab", "10.60.0.0/24");
	char *text;

	golden_config("dnsmasq-defaults.conf", &n);

	n = make("lab", "10.60.0.0/24");
	add_range(&n, "10.60.0.10-10.60.0.99");
	add_range(&n, "10.60.0.150-10.60.0.200");
	n.dhcp.lease_time = 1800;
	golden_config("dnsmasq-ranges.conf", &n);

	n = make("lab", "10.60.0.0/24");
	add_host(&n, "52:54:00:00:00:0a,10.60.0.10,web");
	add_host(&n, "52:54:00:00:00:0b,10.60.0.11");
	add_dns_host(&n, "10.60.0.200,printer");
	add_dns_host(&n, "10.60.0.201,nas.lab.example");
	golden_config("dnsmasq-hosts.conf", &n);
	assert_int_equal(dhcp_hosts_render(&n.dhcp, &text), 0);
	assert_golden("dnsmasq-hosts.hosts", text);
	free(text);
	assert_int_equal(dhcp_addn_hosts_render(&n.dhcp, &text), 0);
	assert_golden("dnsmasq-hosts.addnhosts", text);
	free(text);
	network_done(&n);

	n = make("lab", "10.60.0.0/24");
	n.dhcp.dns = false;
	golden_config("dnsmasq-no-dns.conf", &n);

	n = make("lab", "10.60.0.0/24");
	snprintf(n.dhcp.domain, sizeof(n.dhcp.domain), "lab.example");
	golden_config("dnsmasq-domain.conf", &n);

	/* The gateway in the middle of the subnet splits the default range in two. */
	n = make("lab", "10.60.0.0/24");
	ip4_from_host(ip4_to_host(&n.subnet.addr) + 100, &n.gateway);
	golden_config("dnsmasq-gateway-middle.conf", &n);

	/* What the nat mode will flip: the router option and upstream DNS. */
	n = make("lab", "10.60.0.0/24");
	n.dhcp_router = true;
	golden_config("dnsmasq-router.conf", &n);

	n = make("lab", "10.60.0.0/24");
	n.dhcp.dhcp = false;
	golden_config("dnsmasq-dns-only.conf", &n);
}

static void test_isolated_has_no_router(void **state)
{
	struct network n = make("lab", "10.60.0.0/24");

	assert_false(n.dhcp_router);
}

static void test_render_refuses_injection(void **state)
{
	struct network n = make("lab", "10.60.0.0/24");
	struct dhcp_render_ctx ctx = { .network = "lab", .bridge = "nd-lab", .subnet = n.subnet, .gateway = n.gateway,
				       .lease_file = "/x\nport=99", .hosts_file = "/h", .addn_hosts_file = "/a" };
	char *text = NULL;

	assert_int_equal(dhcp_config_render(&n.dhcp, &ctx, &text), -EINVAL);
	/* What dnsmasq's config reader would cut: a comment, quotes, blanks at the ends. */
	static const char *const cut[] = { "/run/a #b", "#x", "/run/\"a\"", " /run/a", "/run/a " };
	for (size_t i = 0; i < ELEMENTSOF(cut); i++) {
		ctx.lease_file = cut[i];
		assert_int_equal(dhcp_config_render(&n.dhcp, &ctx, &text), -EINVAL);
	}
	ctx.lease_file = "/run/a#b c";
	assert_int_equal(dhcp_config_render(&n.dhcp, &ctx, &text), 0);
	free(text);
	ctx.lease_file = "/l";
	snprintf(n.dhcp.domain, sizeof(n.dhcp.domain), "a\nport=99");
	assert_int_equal(dhcp_config_render(&n.dhcp, &ctx, &text), -EINVAL);
	n.dhcp.domain[0] = 0;
	add_host(&n, "52:54:00:00:00:0a,10.60.0.10,web");
	strcpy(n.dhcp.hosts[0].hostname, "a\nb");
	assert_int_equal(dhcp_hosts_render(&n.dhcp, &text), -EINVAL);
	strcpy(n.dhcp.hosts[0].hostname, "a,b");
	assert_int_equal(dhcp_hosts_render(&n.dhcp, &text), -EINVAL);
	network_done(&n);
}

static void test_lease_time(void **state)
{
	static const struct {
		const char *in;
		uint32_t secs;
		const char *out;
	} good[] = { { "3600", 3600, "1h" }, { "1h", 3600, "1h" }, { "30m", 1800, "30m" }, { "90m", 5400, "90m" },
		     { "2m", 120, "2m" },     { "30d", 2592000, "30d" }, { "125s", 125, "125s" } };
	static const struct {
		const char *in, *err;
	} bad[] = {
		{ "1m", "lease time '1m' is out of range (2m to 30d)" },
		{ "31d", "lease time '31d' is out of range (2m to 30d)" },
		{ "99999999999999999999", "lease time '99999999999999999999' is out of range (2m to 30d)" },
		{ "", "invalid lease time '': expected a number of seconds or a duration like 30m, 1h, 7d" },
		{ "1x", "invalid lease time '1x': expected a number of seconds or a duration like 30m, 1h, 7d" },
		{ "1hh", "invalid lease time '1hh': expected a number of seconds or a duration like 30m, 1h, 7d" },
		{ "-5", "invalid lease time '-5': expected a number of seconds or a duration like 30m, 1h, 7d" },
		{ "1h\n", "invalid lease time '1h\\n': expected a number of seconds or a duration like 30m, 1h, 7d" },
	};
	char buf[16], err[256];
	uint32_t v;

	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		assert_int_equal(dhcp_lease_time_parse(good[i].in, &v, err, sizeof(err)), 0);
		assert_int_equal(v, good[i].secs);
		assert_string_equal(dhcp_lease_time_format(v, buf, sizeof(buf)), good[i].out);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		assert_true(dhcp_lease_time_parse(bad[i].in, &v, err, sizeof(err)) < 0);
		assert_string_equal(err, bad[i].err);
	}
}

static void test_parse_errors(void **state)
{
	static const struct {
		int kind; /* 0 range, 1 host, 2 dns host, 3 domain */
		const char *in, *err;
	} cases[] = {
		{ 0, "10.0.0.5", "invalid DHCP range '10.0.0.5': expected START-END with IPv4 addresses, like 10.0.0.10-10.0.0.99" },
		{ 0, "10.0.0.5-fd00::1", "invalid DHCP range '10.0.0.5-fd00::1': expected START-END with IPv4 addresses, like 10.0.0.10-10.0.0.99" },
		{ 1, "52:54:00:00:00:01", "invalid host '52:54:00:00:00:01': expected MAC,IP[,HOSTNAME]" },
		{ 1, "52:54:00:00:00,10.0.0.5", "invalid MAC '52:54:00:00:00' in host '52:54:00:00:00,10.0.0.5': expected six hex pairs like 52:54:00:12:34:56" },
		{ 1, "01:00:5e:00:00:01,10.0.0.5", "invalid MAC '01:00:5e:00:00:01': a reservation needs a unicast, non-zero MAC" },
		{ 1, "00:00:00:00:00:00,10.0.0.5", "invalid MAC '00:00:00:00:00:00': a reservation needs a unicast, non-zero MAC" },
		{ 1, "52:54:00:00:00:01,10.0.0", "invalid IP '10.0.0' in host '52:54:00:00:00:01,10.0.0': expected an IPv4 address" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,a_b", "invalid hostname 'a_b' in a host reservation: may contain only letters, digits and '-'" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,web\nport=1", "invalid hostname 'web\\nport=1' in a host reservation: may contain only letters, digits and '-'" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,a,b", "invalid host '52:54:00:00:00:01,10.0.0.5,a,b': expected MAC,IP[,HOSTNAME]" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,web.lab", "invalid hostname 'web.lab' in a host reservation: may contain only letters, digits and '-'" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,-web", "invalid hostname '-web' in a host reservation: must not start or end with '-'" },
		{ 2, "10.0.0.5", "invalid DNS host '10.0.0.5': expected IP,HOSTNAME with an IPv4 address" },
		{ 2, "10.0.0.5,a=b", "invalid hostname 'a=b' in a DNS host: may contain only letters, digits and '-'" },
		{ 2, "10.0.0.5,a..b", "invalid hostname 'a..b' in a DNS host: has an empty label (two dots, or a leading or trailing dot)" },
		{ 3, "lab example", "invalid domain 'lab example': may contain only letters, digits and '-'" },
		{ 3, "lab.\x01", "invalid domain 'lab.\\x01': may contain only letters, digits and '-'" },
	};
	struct dhcp_range r;
	struct dhcp_host h;
	struct dns_host d;
	char err[512];
	int k = 0;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		err[0] = 0;
		switch (cases[i].kind) {
		case 0:
			k = dhcp_range_parse(cases[i].in, &r, err, sizeof(err));
			break;
		case 1:
			k = dhcp_host_parse(cases[i].in, &h, err, sizeof(err));
			break;
		case 2:
			k = dns_host_parse(cases[i].in, &d, err, sizeof(err));
			break;
		case 3:
			k = dhcp_domain_check(cases[i].in, err, sizeof(err));
			break;
		}
		assert_true(k < 0);
		assert_string_equal(err, cases[i].err);
	}
}

static void test_validate(void **state)
{
	static const struct {
		const char *ranges[3], *hosts[3];
		const char *err;
	} cases[] = {
		{ { "10.60.1.10-10.60.1.20" }, {}, "network 'lab': DHCP range 10.60.1.10-10.60.1.20 is not inside the hosts of subnet 10.60.0.0/24" },
		{ { "10.60.0.0-10.60.0.20" }, {}, "network 'lab': DHCP range 10.60.0.0-10.60.0.20 is not inside the hosts of subnet 10.60.0.0/24" },
		{ { "10.60.0.200-10.60.0.255" }, {}, "network 'lab': DHCP range 10.60.0.200-10.60.0.255 is not inside the hosts of subnet 10.60.0.0/24" },
		{ { "10.60.0.1-10.60.0.20" }, {}, "network 'lab': DHCP range 10.60.0.1-10.60.0.20 covers the gateway 10.60.0.1" },
		{ { "10.60.0.30-10.60.0.20" }, {}, "network 'lab': DHCP range 10.60.0.30-10.60.0.20: start is after end" },
		{ { "10.60.0.10-10.60.0.50", "10.60.0.50-10.60.0.60" }, {}, "network 'lab': DHCP ranges 10.60.0.10-10.60.0.50 and 10.60.0.50-10.60.0.60 overlap" },
		{ {}, { "52:54:00:00:00:01,10.60.1.5" }, "network 'lab': host 52:54:00:00:00:01: address 10.60.1.5 is not a host address of subnet 10.60.0.0/24" },
		{ {}, { "52:54:00:00:00:01,10.60.0.255" }, "network 'lab': host 52:54:00:00:00:01: address 10.60.0.255 is not a host address of subnet 10.60.0.0/24" },
		{ {}, { "52:54:00:00:00:01,10.60.0.1" }, "network 'lab': host 52:54:00:00:00:01: address 10.60.0.1 is the gateway" },
		{ {}, { "52:54:00:00:00:01,10.60.0.5", "52:54:00:00:00:02,10.60.0.5" }, "network 'lab': address 10.60.0.5 is reserved for both 52:54:00:00:00:01 and 52:54:00:00:00:02" },
		{ {}, { "52:54:00:00:00:01,10.60.0.5,web", "52:54:00:00:00:02,10.60.0.6,WEB" }, "network 'lab': hostname 'WEB' is reserved for both 52:54:00:00:00:01 and 52:54:00:00:00:02" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct network n = make("lab", "10.60.0.0/24");
		char err[512] = "";

		for (size_t j = 0; j < 3 && cases[i].ranges[j]; j++)
			add_range(&n, cases[i].ranges[j]);
		for (size_t j = 0; j < 3 && cases[i].hosts[j]; j++)
			add_host(&n, cases[i].hosts[j]);
		assert_true(network_validate(&n, err, sizeof(err)) < 0);
		assert_string_equal(err, cases[i].err);
		network_done(&n);
	}
	struct network n = make("lab", "10.60.0.0/24");
	char err[512];
	n.dhcp.lease_time = 60;
	assert_int_equal(network_validate(&n, err, sizeof(err)), -ERANGE);
	assert_string_equal(err, "network 'lab': lease time 60s is out of range (2m to 30d)");
	/* The same MAC twice is refused when added. */
	add_host(&n, "52:54:00:00:00:01,10.60.0.5");
	struct dhcp_host h = n.dhcp.hosts[0];
	assert_int_equal(dhcp_host_add(&n.dhcp, &h), -EEXIST);
	network_done(&n);
}

/* Hosts live in arrays that grow; copies are deep and keep room to grow too. */
static void test_hosts_grow_and_copy(void **state)
{
	struct network n = make("lab", "10.60.0.0/22"), copy;
	struct dhcp_host h = {};
	struct dns_host dh = {};

	for (unsigned i = 0; i < DHCP_HOSTS_MAX; i++) {
		h.mac = (struct mac){ { 0x52, 0x54, 0, 0, i >> 8, i & 0xff } };
		ip4_from_host(ip4_to_host(&n.subnet.addr) + 10 + i, &h.ip);
		snprintf(h.hostname, sizeof(h.hostname), "h%u", i);
		assert_int_equal(dhcp_host_add(&n.dhcp, &h), 0);
	}
	h.mac.b[2] = 0x99; /* a MAC not yet reserved: the limit, not the duplicate, refuses it */
	assert_int_equal(dhcp_host_add(&n.dhcp, &h), -E2BIG);
	for (unsigned i = 0; i < DNS_HOSTS_MAX; i++) {
		ip4_from_host(ip4_to_host(&n.subnet.addr) + 500 + i, &dh.ip);
		snprintf(dh.hostname, sizeof(dh.hostname), "d%u.lab", i);
		assert_int_equal(dns_host_add(&n.dhcp, &dh), 0);
	}
	assert_int_equal(dns_host_add(&n.dhcp, &dh), -E2BIG);

	/* Remove down to 5 (room for 8 left), copy (room for 8 made), grow both past 8 again. */
	while (n.dhcp.n_hosts > 5)
		assert_int_equal(dhcp_host_remove(&n.dhcp, &n.dhcp.hosts[n.dhcp.n_hosts - 1].mac), 0);
	assert_int_equal(network_copy(&copy, &n), 0);
	assert_true(network_equal(&n, &copy));
	assert_ptr_not_equal(copy.dhcp.hosts, n.dhcp.hosts);
	for (unsigned i = 0; i < 20; i++) {
		h.mac = (struct mac){ { 0x52, 0x54, 1, 0, 0, i } };
		assert_int_equal(dhcp_host_add(&copy.dhcp, &h), 0);
		assert_int_equal(dhcp_host_add(&n.dhcp, &h), 0);
	}
	assert_true(network_equal(&n, &copy));
	assert_int_equal(copy.dhcp.n_hosts, 25);
	assert_non_null(dhcp_host_find(&copy.dhcp, &h.mac));
	network_done(&copy);
	network_done(&n);
	assert_int_equal(n.dhcp.n_hosts, 0);
	assert_null(n.dhcp.hosts);
}

static void test_definition_roundtrip(void **state)
{
	struct network n = make("lab", "10.60.0.0/24"), back;
	char *text, err[256];

	add_range(&n, "10.60.0.10-10.60.0.99");
	add_range(&n, "10.60.0.150-10.60.0.200");
	n.dhcp.lease_time = 7200;
	add_host(&n, "52:54:00:00:00:0a,10.60.0.10,web");
	add_host(&n, "52:54:00:00:00:0b,10.60.0.11");
	add_dns_host(&n, "10.60.0.201,nas.lab.example");
	snprintf(n.dhcp.domain, sizeof(n.dhcp.domain), "lab.example");
	text = config_network_render(&n);
	assert_golden("network-dhcp.conf", text);
	assert_int_equal(config_network_parse("lab", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	free(text);
	network_done(&back);

	n.dhcp.dhcp = false;
	n.dhcp.dns = false;
	text = config_network_render(&n);
	assert_int_equal(config_network_parse("lab", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	assert_false(network_wants_dnsmasq(&back));
	free(text);
	network_done(&back);
	network_done(&n);

	/* A hand-written file gets the message the CLI gives for the same value. */
	assert_true(config_network_parse("lab", "[dhcp]\nhost = 52:54:00:00:00:01,10.0.0.5,a=b\n", &back, err,
					 sizeof(err)) < 0);
	assert_string_equal(err,
			    "line 2: invalid hostname 'a=b' in a host reservation: may contain only letters, digits and '-'");
	assert_true(config_network_parse("lab", "[dhcp]\nhost = 52:54:00:00:00:01,10.0.0.5,ignore\n", &back, err,
					 sizeof(err)) < 0);
	assert_string_equal(err, "line 2: invalid hostname 'ignore' in a host reservation: dnsmasq reads 'ignore' as "
				 "'never give this MAC a lease', not as a name");
	assert_true(config_network_parse("lab", "[dhcp]\nlease-time = 1s\n", &back, err, sizeof(err)) < 0);
	assert_string_equal(err, "line 2: lease time '1s' is out of range (2m to 30d)");
	assert_true(config_network_parse("lab",
					 "[dhcp]\nhost = 52:54:00:00:00:01,10.0.0.5\n"
					 "host = 52:54:00:00:00:01,10.0.0.6\n",
					 &back, err, sizeof(err)) < 0);
	assert_string_equal(err, "line 3: host 52:54:00:00:00:01 is reserved twice");
	assert_true(config_network_parse("lab", "[dns]\nport = 5353\n", &back, err, sizeof(err)) < 0);
	assert_string_equal(err, "line 2: unknown key 'port' in section [dns]");
}

/* What dnsmasq reads as a hostname in a dhcp-host field (its option.c, measured with a real client in
 * tests/netns/test-dhcp-hostnames.sh): keywords and lease times are refused, names close to them kept. */
static void test_hostname_keywords(void **state)
{
	static const char *const refused[] = { "ignore", "IGNORE", "Ignore", "infinite", "INFINITE", "0", "5",
					       "120", "007", "45m", "45M", "12h", "2d", "1w", "90s", "99999999999W" };
	static const char *const kept[] = { "web1", "ignore-me", "ignored", "xignore", "infinity", "infinite1",
					     "m", "w", "s", "1x", "5m5", "5mm", "1-2", "a1", "m5", "ab--cd", "xn--abc",
					     "Web-2", "h1m" };
	struct dhcp_host h;
	char spec[128], err[256];

	for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
		const char *why = dhcp_hostname_invalid_reason(refused[i]);

		if (!why)
			fail_msg("'%s' accepted as a hostname", refused[i]);
		assert_non_null(strstr(why, "dnsmasq reads"));
		snprintf(spec, sizeof(spec), "52:54:00:00:00:01,10.0.0.5,%s", refused[i]);
		assert_int_equal(dhcp_host_parse(spec, &h, err, sizeof(err)), -EINVAL);
	}
	for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
		if (dhcp_hostname_invalid_reason(kept[i]))
			fail_msg("'%s' refused: %s", kept[i], dhcp_hostname_invalid_reason(kept[i]));
		snprintf(spec, sizeof(spec), "52:54:00:00:00:01,10.0.0.5,%s", kept[i]);
		assert_int_equal(dhcp_host_parse(spec, &h, err, sizeof(err)), 0);
		assert_string_equal(h.hostname, kept[i]);
	}
	/* Not labels at all: also what dnsmasq would read as a client id, a tag or an address. */
	assert_non_null(dhcp_hostname_invalid_reason("id:01"));
	assert_non_null(dhcp_hostname_invalid_reason("set:x"));
	assert_non_null(dhcp_hostname_invalid_reason("10.0.0.6"));
	assert_non_null(dhcp_hostname_invalid_reason(""));
	snprintf(spec, sizeof(spec), "52:54:00:00:00:01,10.0.0.5,120");
	assert_int_equal(dhcp_host_parse(spec, &h, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid hostname '120' in a host reservation: dnsmasq reads a number (with an "
				 "optional s, m, h, d or w) as a lease time, not as a name");
}

/* Names reach dnsmasq in lower case: an upper-case one goes through IDN there, which refuses some
 * ASCII labels ("AB--CD": the reservation was dropped; as the domain, dnsmasq did not start). */
static void test_render_lower_case(void **state)
{
	struct network n = make("lab", "10.60.0.0/24");
	struct dhcp_render_ctx ctx = { .network = "lab", .bridge = "nd-lab", .subnet = n.subnet,
				       .gateway = n.gateway, .lease_file = "/l", .hosts_file = "/h",
				       .addn_hosts_file = "/a" };
	char *text = NULL;

	add_host(&n, "52:54:00:00:00:0a,10.60.0.10,AB--CD");
	add_host(&n, "52:54:00:00:00:0b,10.60.0.11,Web1");
	add_dns_host(&n, "10.60.0.12,NS1.Lab.Example");
	snprintf(n.dhcp.domain, sizeof(n.dhcp.domain), "XN--Lab.Example");
	assert_int_equal(dhcp_hosts_render(&n.dhcp, &text), 0);
	assert_string_equal(text, "52:54:00:00:00:0a,10.60.0.10,ab--cd\n52:54:00:00:00:0b,10.60.0.11,web1\n");
	free(text);
	assert_int_equal(dhcp_addn_hosts_render(&n.dhcp, &text), 0);
	assert_string_equal(text, "10.60.0.12 ns1.lab.example\n");
	free(text);
	assert_int_equal(dhcp_config_render(&n.dhcp, &ctx, &text), 0);
	assert_non_null(strstr(text, "\ndomain=xn--lab.example\n"));
	assert_non_null(strstr(text, "\nlocal=/xn--lab.example/\n"));
	free(text);
	/* The definition keeps the name as typed. */
	assert_string_equal(n.dhcp.hosts[1].hostname, "Web1");
	/* Last line of defence: a keyword that got into the settings is not rendered. */
	strcpy(n.dhcp.hosts[1].hostname, "ignore");
	assert_int_equal(dhcp_hosts_render(&n.dhcp, &text), -EINVAL);
	network_done(&n);
}

/* Values as long as the types allow fit on a line of the definition file, which inih read in
 * 200-byte pieces before: a 253-character domain came back as a syntax error. */
static void test_definition_long_values(void **state)
{
	struct network n = make("lab", "10.60.0.0/24"), back;
	char name[DNS_NAME_MAX + 1], *text, *big, err[256], want[300];

	/* 3 labels of 63 and one of 61: 253 characters */
	snprintf(name, sizeof(name), "%.63s.%.63s.%.63s.%.61s", LONG_LABEL, LONG_LABEL, LONG_LABEL, LONG_LABEL);
	assert_int_equal(strlen(name), DNS_NAME_MAX);
	assert_null(dns_name_invalid_reason(name));
	snprintf(n.dhcp.domain, sizeof(n.dhcp.domain), "%s", name);
	struct dns_host h = {};
	ip4_from_host(ip4_to_host(&n.subnet.addr) + 9, &h.ip);
	snprintf(h.hostname, sizeof(h.hostname), "%s", name);
	assert_int_equal(dns_host_add(&n.dhcp, &h), 0);
	text = config_network_render(&n);
	assert_non_null(text);
	assert_int_equal(config_network_parse("lab", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	network_done(&back);
	free(text);
	network_done(&n);

	/* A hand-written line too long to hold any value is refused as a whole, with its number. */
	big = malloc(INIFILE_LINE_MAX + 64);
	assert_non_null(big);
	snprintf(big, INIFILE_LINE_MAX + 64, "[network]\nmode = nat\nbridge = %0*d\n", INIFILE_LINE_MAX, 0);
	assert_true(config_network_parse("lab", big, &back, err, sizeof(err)) < 0);
	assert_string_equal(err, "line 3: longer than 4000 characters");
	free(big);
	/* An earlier error is the one reported. */
	assert_true(config_network_parse("lab", "[network]\nmode = bogus\n", &back, err, sizeof(err)) < 0);
	snprintf(want, sizeof(want), "line 2: unknown mode 'bogus' (known: %s)", net_mode_names());
	assert_string_equal(err, want);
	assert_true(config_network_parse("lab", "[network]\nmode = nat\x1b[2J\n", &back, err, sizeof(err)) < 0);
	snprintf(want, sizeof(want), "line 2: unknown mode 'nat\\x1b[2J' (known: %s)", net_mode_names());
	assert_string_equal(err, want);
}

static void test_lease_fields(void **state)
{
	struct dhcp_lease l;

	assert_int_equal(dhcp_lease_from_fields("1700000000", "52:54:00:00:00:0a", "10.60.0.10", "web",
						 "01:52:54:00:00:00:0a", &l), 0);
	assert_int_equal(l.expiry, 1700000000);
	assert_string_equal(l.hostname, "web");
	assert_string_equal(l.client_id, "01:52:54:00:00:00:0a");
	/* No expiry (a --dhcp-script event without DNSMASQ_LEASE_EXPIRES): never. */
	assert_int_equal(dhcp_lease_from_fields(NULL, "52:54:00:00:00:0a", "10.60.0.10", NULL, NULL, &l), 0);
	assert_int_equal(l.expiry, 0);
	/* The guest's choices are dropped, not the lease. */
	assert_int_equal(dhcp_lease_from_fields("1", "52:54:00:00:00:0a", "10.60.0.10", "a\x1b[2Jb", "zz", &l), 0);
	assert_string_equal(l.hostname, "");
	assert_string_equal(l.client_id, "");
	assert_int_equal(dhcp_lease_from_fields("1", "52:54:00:00:00:0a", "10.60.0.10", LONG_LABEL "x", "*", &l), 0);
	assert_string_equal(l.hostname, "");
	/* What the event carries must parse as the lease file's fields do. */
	static const char *const bad_expiry[] = { "-1", "12abc", "", " 1", "99999999999999999999" };
	for (size_t i = 0; i < ELEMENTSOF(bad_expiry); i++)
		assert_int_equal(dhcp_lease_from_fields(bad_expiry[i], "52:54:00:00:00:0a", "10.60.0.10", NULL, NULL, &l),
				 -EINVAL);
	assert_int_equal(dhcp_lease_from_fields("1", "52:54:00:00:00", "10.60.0.10", NULL, NULL, &l), -EINVAL);
	assert_int_equal(dhcp_lease_from_fields("1", "52:54:00:00:00:0a", "10.60.0", NULL, NULL, &l), -EINVAL);
	assert_int_equal(dhcp_lease_from_fields("1", "52:54:00:00:00:0a", "fd00::1", NULL, NULL, &l), -ENOENT);
}

static void test_lease_parser(void **state)
{
	static const char text[] =
		"1700000000 52:54:00:00:00:0a 10.60.0.10 web 01:52:54:00:00:00:0a\n"
		"0 52:54:00:00:00:0b 10.60.0.11 * *\n"
		"duid 00:01:00:01:2c:5b:2e:8f:52:54:00:00:00:01\n"
		"1700000000 1234 fd00::5 web6 00:01\n"
		"1700000000 06-aa:bb 10.60.0.12 * *\n"
		"garbage\n"
		"\n"
		"1700000000 52:54:00:00:00:0c 10.60.0.13 bad_name!\x1b[2J *\n"
		"17x 52:54:00:00:00:0d 10.60.0.14 * *\n"
		"1700000000 52:54:00:00:00:0e 10.60.0.15 * * extra\n"
		"1700000000 52:54:00:00:00:0f 10.60.0.16 host zz:zz\n"
		"1700000000 52:54:00:00:00:0a 10.60.0.10 web2 *"; /* no final newline; replaces line 1 */
	struct dhcp_lease_table t;
	struct dhcp_lease l;
	size_t bad;
	char ip[INET_ADDRSTRLEN];

	assert_int_equal(dhcp_lease_file_parse(text, strlen(text), &t, &bad), 0);
	assert_int_equal(t.n, 4);
	assert_int_equal(bad, 3); /* garbage, 17x, extra field */
	assert_string_equal(ip_addr_format(AF_INET, &t.leases[0].ip, ip, sizeof(ip)), "10.60.0.10");
	assert_string_equal(t.leases[0].hostname, "web2");
	assert_string_equal(t.leases[0].client_id, "");
	assert_int_equal(t.leases[1].expiry, 0);
	assert_string_equal(t.leases[1].hostname, "");
	assert_string_equal(t.leases[2].hostname, ""); /* a name with an escape sequence is dropped */
	assert_string_equal(t.leases[3].client_id, "");
	assert_int_equal(dhcp_lease_table_remove(&t, &t.leases[1].ip), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(dhcp_lease_table_remove(&t, &t.leases[0].ip), 0);
	assert_int_equal(dhcp_lease_table_remove(&t, &t.leases[0].ip), 0);
	assert_int_equal(t.n, 1);
	dhcp_lease_table_clear(&t);

	assert_int_equal(dhcp_lease_parse_line("1 52:54:00:00:00:01 10.0.0.1 a", 30, &l), 0);
	assert_int_equal(dhcp_lease_parse_line("1 52:54:00:00:00:01 10.0.0.1 a\0b *", 34, &l), -EINVAL);
	assert_int_equal(dhcp_lease_parse_line("99999999999999999999 52:54:00:00:00:01 10.0.0.1 a *", 51, &l), -EINVAL);
	assert_int_equal(dhcp_lease_file_parse("", 0, &t, &bad), 0);
	assert_int_equal(t.n, 0);
	dhcp_lease_table_clear(&t);
}

/* The supervisor against the recording fake: start, SIGHUP, crash and restart, adopt, stop. */
static sd_event *event;
static struct proc_fake *fake;
static struct proc_backend proc;
static char dir[] = "/tmp/netd-unit-XXXXXX";

static struct dhcp_server *server_make(void)
{
	char conf[128], pid[128], leases[128];
	char *env[] = { "NETD_NETWORK=lab", NULL };
	struct dhcp_server_spec spec = { .network = "lab", .dnsmasq = "/usr/sbin/dnsmasq", .user = "dnsmasq",
					 .group = "nogroup", .conf_path = conf, .pid_path = pid,
					 .lease_path = leases, .env = env };
	struct dhcp_server *s;

	snprintf(conf, sizeof(conf), "%s/lab.conf", dir);
	snprintf(pid, sizeof(pid), "%s/lab.pid", dir);
	snprintf(leases, sizeof(leases), "%s/leases", dir);
	assert_int_equal(dhcp_server_new(event, &proc, &spec, &s), 0);
	return s;
}

static void run_until(struct dhcp_server *s, enum dhcp_server_state want)
{
	for (int i = 0; i < 200 && s->state != want; i++)
		assert_true(sd_event_run(event, 100 * 1000) >= 0);
	assert_int_equal(s->state, want);
}

static void test_supervisor(void **state)
{
	struct dhcp_server *s;
	char line[512], pidtext[32];
	pid_t first;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(sd_event_new(&event), 0);
	assert_int_equal(proc_fake_new(&fake, &proc), 0);
	s = server_make();
	snprintf(line, sizeof(line), "%s/leases", dir);
	assert_int_equal(write_file_atomic(line, "0 52:54:00:00:00:0a 10.60.0.10 web *\n", 37, 0644), 0);

	assert_int_equal(dhcp_server_start(s), 0);
	assert_int_equal(s->state, DHCP_SERVER_RUNNING);
	assert_int_equal(s->leases.n, 1); /* read back from the lease file */
	first = s->pid;
	snprintf(line, sizeof(line),
		 "spawn /usr/sbin/dnsmasq --keep-in-foreground --conf-file=%s/lab.conf --pid-file=%s/lab.pid "
		 "--user=dnsmasq --group=nogroup --log-facility=- [stdout=inherit stderr=inherit]\n",
		 dir, dir);
	assert_string_equal(proc_fake_log(fake), line);
	proc_fake_log_clear(fake);

	assert_int_equal(dhcp_server_reload(s), 0);
	snprintf(line, sizeof(line), "kill %d HUP\n", (int)first);
	assert_string_equal(proc_fake_log(fake), line);
	assert_int_equal(s->pid, first);
	proc_fake_log_clear(fake);

	/* It dies: noticed through the pidfd, restarted after the backoff; a failed spawn
	 * doubles the backoff and tries again. */
	assert_int_equal(proc_fake_exit(fake, first, W_EXITCODE(3, 0)), 0);
	run_until(s, DHCP_SERVER_BACKOFF);
	assert_int_equal(s->backoff_usec, 2 * DHCP_BACKOFF_MIN_USEC);
	proc_fake_fail_spawn(fake, -ENOENT);
	run_until(s, DHCP_SERVER_RUNNING);
	assert_int_not_equal(s->pid, first);
	assert_int_equal(s->restarts, 2);
	assert_true(strstr(proc_fake_log(fake), "reap 1000\nspawn") != NULL);
	proc_fake_log_clear(fake);

	/* Stop: SIGTERM, then reaped, and the pid file goes. */
	snprintf(pidtext, sizeof(pidtext), "%d\n", (int)s->pid);
	snprintf(line, sizeof(line), "%s/lab.pid", dir);
	assert_int_equal(write_file_atomic(line, pidtext, strlen(pidtext), 0644), 0);
	assert_int_equal(dhcp_server_stop(s), 0);
	assert_int_equal(s->state, DHCP_SERVER_STOPPED);
	snprintf(line, sizeof(line), "kill %d TERM\nreap %d\n", atoi(pidtext), atoi(pidtext));
	assert_string_equal(proc_fake_log(fake), line);
	snprintf(line, sizeof(line), "%s/lab.pid", dir);
	assert_int_equal(access(line, F_OK), -1);
	dhcp_server_free(s);

	/* Adoption: only a dnsmasq with our config file is taken over. */
	static const char other[] = "/usr/sbin/dnsmasq\0--conf-file=/etc/dnsmasq.conf";
	char ours[256];
	int len = snprintf(ours, sizeof(ours), "dnsmasq%c--keep-in-foreground%c--conf-file=%s/lab.conf", 0, 0, dir);
	assert_int_equal(proc_fake_add_foreign(fake, 4242, other, sizeof(other)), 0);
	assert_int_equal(proc_fake_add_foreign(fake, 4343, ours, len + 1), 0);
	s = server_make();
	assert_int_equal(write_file_atomic(line, "4242\n", 5, 0644), 0);
	assert_int_equal(dhcp_server_adopt(s), -ESRCH);
	assert_int_equal(write_file_atomic(line, "4343\n", 5, 0644), 0);
	assert_int_equal(dhcp_server_adopt(s), 0);
	assert_true(s->adopted);
	assert_int_equal(s->pid, 4343);
	/* An adopted dnsmasq that dies is restarted too (its status is unknown: not our child). */
	proc_fake_log_clear(fake);
	assert_int_equal(proc_fake_exit(fake, 4343, 0), 0);
	run_until(s, DHCP_SERVER_BACKOFF);
	run_until(s, DHCP_SERVER_RUNNING);
	assert_false(s->adopted);
	assert_true(strstr(proc_fake_log(fake), "reap 4343\nspawn /usr/sbin/dnsmasq") != NULL);
	dhcp_server_free(s);

	proc_fake_free(fake);
	sd_event_unref(event);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_golden),	      cmocka_unit_test(test_isolated_has_no_router),
		cmocka_unit_test(test_render_refuses_injection), cmocka_unit_test(test_lease_time),
		cmocka_unit_test(test_parse_errors),	      cmocka_unit_test(test_validate),
		cmocka_unit_test(test_definition_roundtrip), cmocka_unit_test(test_lease_parser),
		cmocka_unit_test(test_supervisor),	      cmocka_unit_test(test_hosts_grow_and_copy),
		cmocka_unit_test(test_hostname_keywords),     cmocka_unit_test(test_render_lower_case),
		cmocka_unit_test(test_definition_long_values), cmocka_unit_test(test_lease_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
