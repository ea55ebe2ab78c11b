/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "golden.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "config.h"
#include "dhcp.h"
#include "inifile.h"
#include "lease.h"
#include "macro.h"
#include "network.h"
#include "hostprobe.h"
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
		.network = n->name,
		.bridge = n->bridge,
		.bridge_ifindex = 7,
		.subnet = n->subnet,
		.gateway = n->gateway,
		.addresses = n->addresses,
		.n_addresses = n->n_addresses,
		.router = n->dhcp_router,
		.dns_forward = n->dhcp_router,
		.mtu = n->mtu,
		.lease_file = "/var/lib/netd/networks/lab/leases",
		.hosts_file = "/run/netd/dnsmasq/lab.hosts",
		.addn_hosts_file = "/run/netd/dnsmasq/lab.addnhosts",
		.script = "/usr/libexec/netd-lease-event",
		.servers_file = "/run/netd/dnsmasq/upstream.servers",
	};
	char *text = NULL, err[256];

	assert_int_equal(network_validate(n, err, sizeof(err)), 0);
	assert_int_equal(dhcp_config_render(&n->dhcp, &ctx, &text), 0);
	assert_golden(file, text);
	free(text);
}

/* A network across hosts: the remote guests' hosts file (sorted, one line per address, refused
 * for a MAC or address that could not be a guest's) and the config naming it, without no-ping. */
static void test_remote_hosts(void **state)
{
	struct dhcp_remote_host h[4] = {};
	struct network n = make("lab", "10.60.0.0/24");
	struct dhcp_render_ctx ctx = {
		.network = "lab",
		.bridge = "nd-lab",
		.bridge_ifindex = 7,
		.subnet = n.subnet,
		.gateway = n.gateway,
		.router = true,
		.lease_file = "/l",
		.hosts_file = "/h",
		.addn_hosts_file = "/a",
		.remote_hosts_file = "/run/netd/dnsmasq/lab.remote",
	};
	char *text = NULL;

	assert_int_equal(mac_parse("52:54:00:00:00:02", &h[0].mac), 0);
	assert_int_equal(inet_pton(AF_INET, "10.60.0.12", &h[0].ip.in), 1);
	assert_int_equal(mac_parse("52:54:00:00:00:01", &h[1].mac), 0);
	assert_int_equal(inet_pton(AF_INET, "10.60.0.3", &h[1].ip.in), 1);
	/* the same address twice (a guest moving): the lower MAC's line alone */
	assert_int_equal(mac_parse("52:54:00:00:00:09", &h[2].mac), 0);
	h[2].ip = h[0].ip;
	assert_int_equal(dhcp_remote_hosts_render(h, 3, &text), 0);
	assert_string_equal(text, "52:54:00:00:00:01,10.60.0.3\n52:54:00:00:00:02,10.60.0.12\n");
	free(text);
	assert_int_equal(dhcp_remote_hosts_render(h, 0, &text), 0);
	assert_string_equal(text, "");
	free(text);
	/* multicast or zero MAC, address 0.0.0.0: nothing written */
	assert_int_equal(mac_parse("01:00:5e:00:00:01", &h[3].mac), 0);
	h[3].ip = h[0].ip;
	assert_int_equal(dhcp_remote_hosts_render(h, 4, &text), -EINVAL);
	h[3].mac = (struct mac){};
	assert_int_equal(dhcp_remote_hosts_render(h, 4, &text), -EINVAL);
	h[3].mac = h[0].mac;
	h[3].ip = (union in_addr_union){};
	assert_int_equal(dhcp_remote_hosts_render(h, 4, &text), -EINVAL);

	/* Any MAC and address the kernel may hold read back as exactly what they were, one per line. */
	{
		struct dhcp_remote_host many[512];
		size_t lines = 0;

		srand(18);
		for (size_t i = 0; i < ELEMENTSOF(many); i++) {
			for (size_t k = 0; k < sizeof(many[i].mac.b); k++)
				many[i].mac.b[k] = rand();
			many[i].mac.b[0] &= 0xfe; /* unicast */
			many[i].mac.b[5] |= 1; /* never zero */
			ip4_from_host(0x0a000001u + (rand() % 400), &many[i].ip);
		}
		assert_int_equal(dhcp_remote_hosts_render(many, ELEMENTSOF(many), &text), 0);
		for (char *line = text, *end; *line; line = end + 1, lines++) {
			char m[MAC_STRLEN], a[INET_ADDRSTRLEN];
			struct mac mac;
			union in_addr_union ip;
			bool found = false;

			end = strchr(line, '\n');
			assert_non_null(end);
			*end = '\0';
			assert_int_equal(sscanf(line, "%17[^,],%15s", m, a), 2);
			assert_int_equal(mac_parse(m, &mac), 0);
			assert_int_equal(inet_pton(AF_INET, a, &ip.in), 1);
			for (size_t i = 0; i < ELEMENTSOF(many) && !found; i++)
				found = mac_equal(&many[i].mac, &mac) &&
					ip_addr_equal(AF_INET, &many[i].ip, &ip);
			assert_true(found);
		}
		for (size_t i = 1; i < ELEMENTSOF(many); i++)
			lines -= ip4_to_host(&many[i].ip) != ip4_to_host(&many[i - 1].ip);
		assert_int_equal(lines, 1); /* one line per distinct address (many is sorted now) */
		free(text);
	}

	assert_int_equal(dhcp_config_render(&n.dhcp, &ctx, &text), 0);
	assert_non_null(strstr(text, "dhcp-hostsfile=/h\ndhcp-hostsfile=/run/netd/dnsmasq/lab.remote\n"));
	assert_null(strstr(text, "no-ping"));
	free(text);
	ctx.remote_hosts_file = NULL;
	assert_int_equal(dhcp_config_render(&n.dhcp, &ctx, &text), 0);
	assert_null(strstr(text, "lab.remote"));
	assert_non_null(strstr(text, "no-ping\n"));
	free(text);
	network_done(&n);
}

/* The upstream resolvers from resolv.conf: nameserver lines with a valid address, nothing else. */
static void test_servers_render(void **state)
{
	char *text = NULL;

	assert_int_equal(
		dhcp_servers_render("# comment\nsearch lab\nnameserver 192.0.2.53\n"
				    "nameserver\t2001:db8::53  \nnameserver fe80::1%eth0\r\n"
				    "nameserver fe80::1%bad/if\nnameserver 10.0.0.1%eth0\n"
				    "nameserver 1.2.3.4 extra\nnameserver 1.2.3.4\nserver=6.6.6.6\n"
				    " nameserver 9.9.9.9\nnameserver 300.1.1.1\nnameserver 10.1.1.1#53\n"
				    "options edns0\nnameserver 127.0.0.53",
				    &text),
		0);
	assert_string_equal(
		text,
		"# Generated by netd from the host's resolv.conf: the upstream resolvers of the "
		"networks\n"
		"server=192.0.2.53\nserver=2001:db8::53\nserver=fe80::1%eth0\nserver=1.2.3.4\nserver=1.2.3.4\n"
		"server=9.9.9.9\nserver=127.0.0.53\n");
	free(text);
	assert_int_equal(dhcp_servers_render("", &text), 0);
	assert_string_equal(text,
			    "# Generated by netd from the host's resolv.conf: the upstream resolvers of the "
			    "networks\n");
	free(text);
}

static void test_config_golden(void **state)
{
	struct network n = make("lab", "10.60.0.0/24");
	char *text, err[256];

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

	/* Several subnets (--address): each range with its subnet's netmask; the first subnet keeps
	 * its default range without one of its own; the comment names every gateway (a new one
	 * restarts dnsmasq, bound to the bridge's addresses at start). */
	n = make("lab", "10.60.0.0/24");
	n.dhcp_router = true;
	assert_int_equal(network_address_add(&n, "10.61.0.1/25", err, sizeof(err)), 0);
	assert_int_equal(network_address_add(&n, "172.16.4.1/22", err, sizeof(err)), 0);
	add_range(&n, "10.61.0.10-10.61.0.99");
	add_range(&n, "172.16.5.1-172.16.6.0");
	golden_config("dnsmasq-subnets.conf", &n);

	/* 'static' on several subnets: reserved hosts only, on each subnet with its netmask. */
	n = make("lab", "10.60.0.0/24");
	n.dhcp_router = true;
	assert_int_equal(network_address_add(&n, "10.61.0.1/25", err, sizeof(err)), 0);
	n.dhcp.static_only = true;
	add_host(&n, "52:54:00:00:00:0e,10.61.0.20,web");
	golden_config("dnsmasq-subnets-static.conf", &n);
	network_done(&n);

	/* A subnet without a range of its own (172.16.4.1/22): dnsmasq answers its reserved host
	 * only with a static range there; the others keep their dynamic ranges. */
	n = make("lab", "10.60.0.0/24");
	n.dhcp_router = true;
	assert_int_equal(network_address_add(&n, "10.61.0.1/25", err, sizeof(err)), 0);
	assert_int_equal(network_address_add(&n, "172.16.4.1/22", err, sizeof(err)), 0);
	add_range(&n, "10.61.0.10-10.61.0.99");
	add_host(&n, "52:54:00:00:00:0e,172.16.4.20,web");
	golden_config("dnsmasq-subnets-reserved.conf", &n);
	network_done(&n);
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
	} good[] = { { "3600", 3600, "1h" },
		     { "1h", 3600, "1h" },
		     { "30m", 1800, "30m" },
		     { "90m", 5400, "90m" },
		     { "2m", 120, "2m" },
		     { "30d", 2592000, "30d" },
		     { "125s", 125, "125s" },
		     { "infinite", DHCP_LEASE_TIME_INFINITE, "infinite" },
		     { "INFINITE", DHCP_LEASE_TIME_INFINITE, "infinite" },
		     { "2w", 14 * 86400, "14d" },
		     { "2H", 7200, "2h" } };
	static const struct {
		const char *in, *err;
	} bad[] = {
		{ "1m", "lease time '1m' is out of range (2m to 30d)" },
		{ "31d", "lease time '31d' is out of range (2m to 30d)" },
		{ "99999999999999999999", "lease time '99999999999999999999' is out of range (2m to 30d)" },
		{ "",
		  "invalid lease time '': expected a number of seconds, a duration like 30m, 1h, 7d, or infinite" },
		{ "1x",
		  "invalid lease time '1x': expected a number of seconds, a duration like 30m, 1h, 7d, or infinite" },
		{ "1hh",
		  "invalid lease time '1hh': expected a number of seconds, a duration like 30m, 1h, 7d, or infinite" },
		{ "-5",
		  "invalid lease time '-5': expected a number of seconds, a duration like 30m, 1h, 7d, or infinite" },
		{ "1h\n",
		  "invalid lease time '1h\\n': expected a number of seconds, a duration like 30m, 1h, 7d, or infinite" },
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
		{ 0, "10.0.0.5",
		  "invalid DHCP range '10.0.0.5': expected START-END with IPv4 addresses, like 10.0.0.10-10.0.0.99" },
		{ 0, "10.0.0.5-fd00::1",
		  "invalid DHCP range '10.0.0.5-fd00::1': expected START-END with IPv4 addresses, like 10.0.0.10-10.0.0.99" },
		{ 1, "52:54:00:00:00:01",
		  "invalid host '52:54:00:00:00:01': expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]" },
		{ 1, "52:54:00:00:00,10.0.0.5",
		  "invalid MAC '52:54:00:00:00' in host '52:54:00:00:00,10.0.0.5': expected six hex pairs like 52:54:00:12:34:56" },
		{ 1, "01:00:5e:00:00:01,10.0.0.5",
		  "invalid MAC '01:00:5e:00:00:01': a reservation needs a unicast, non-zero MAC" },
		{ 1, "00:00:00:00:00:00,10.0.0.5",
		  "invalid MAC '00:00:00:00:00:00': a reservation needs a unicast, non-zero MAC" },
		{ 1, "52:54:00:00:00:01,10.0.0",
		  "invalid IP '10.0.0' in host '52:54:00:00:00:01,10.0.0': expected an IPv4 or IPv6 address" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,a_b",
		  "invalid hostname 'a_b' in a host reservation: may contain only letters, digits and '-'" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,web\nport=1",
		  "invalid hostname 'web\\nport=1' in a host reservation: may contain only letters, digits and '-'" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,a,b",
		  "invalid host '52:54:00:00:00:01,10.0.0.5,a,b': expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,web..lab",
		  "invalid hostname 'web..lab' in a host reservation: has an empty label (two dots, or a leading or trailing dot)" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,web.lab.",
		  "invalid hostname 'web.lab.' in a host reservation: has an empty label (two dots, or a leading or trailing dot)" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,ignore.example.com",
		  "invalid hostname 'ignore.example.com' in a host reservation: dnsmasq reads 'ignore' as 'never give this MAC a lease', not as a name" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,120.example.com",
		  "invalid hostname '120.example.com' in a host reservation: dnsmasq reads a number (with an optional s, m, h, d or w) as a lease time, not as a name" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,web.example.123",
		  "invalid hostname 'web.example.123' in a host reservation: its last label is a number: dnsmasq would read an address, and no top-level domain is all digits" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,web,1y",
		  "invalid host '52:54:00:00:00:01,10.0.0.5,web,1y': expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,web,0", "lease time '0' is out of range (2m to 30d)" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,web,60", "lease time '60' is out of range (2m to 30d)" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,31d", "lease time '31d' is out of range (2m to 30d)" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,1h,web",
		  "invalid host '52:54:00:00:00:01,10.0.0.5,1h,web': expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,web,1h,2h",
		  "invalid host '52:54:00:00:00:01,10.0.0.5,web,1h,2h': expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,web,ignore",
		  "invalid host '52:54:00:00:00:01,10.0.0.5,web,ignore': expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]" },
		{ 1, "52:54:00:00:00:01,10.0.0.5,-web",
		  "invalid hostname '-web' in a host reservation: must not start or end with '-'" },
		{ 2, "10.0.0.5",
		  "invalid DNS host '10.0.0.5': expected IP,HOSTNAME with an IPv4 or IPv6 address" },
		{ 2, "10.0.0.5,a=b",
		  "invalid hostname 'a=b' in a DNS host: may contain only letters, digits and '-'" },
		{ 2, "10.0.0.5,a..b",
		  "invalid hostname 'a..b' in a DNS host: has an empty label (two dots, or a leading or trailing dot)" },
		{ 3, "lab example",
		  "invalid domain 'lab example': may contain only letters, digits and '-'" },
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
		{ { "10.60.1.10-10.60.1.20" },
		  {},
		  "network 'lab': DHCP range 10.60.1.10-10.60.1.20 is not inside the hosts of subnet 10.60.0.0/24" },
		{ { "10.60.0.0-10.60.0.20" },
		  {},
		  "network 'lab': DHCP range 10.60.0.0-10.60.0.20 is not inside the hosts of subnet 10.60.0.0/24" },
		{ { "10.60.0.200-10.60.0.255" },
		  {},
		  "network 'lab': DHCP range 10.60.0.200-10.60.0.255 is not inside the hosts of subnet 10.60.0.0/24" },
		{ { "10.60.0.1-10.60.0.20" },
		  {},
		  "network 'lab': DHCP range 10.60.0.1-10.60.0.20 covers the gateway 10.60.0.1" },
		{ { "10.60.0.30-10.60.0.20" },
		  {},
		  "network 'lab': DHCP range 10.60.0.30-10.60.0.20: start is after end" },
		{ { "10.60.0.10-10.60.0.50", "10.60.0.50-10.60.0.60" },
		  {},
		  "network 'lab': DHCP ranges 10.60.0.10-10.60.0.50 and 10.60.0.50-10.60.0.60 overlap" },
		{ {},
		  { "52:54:00:00:00:01,10.60.1.5" },
		  "network 'lab': host 52:54:00:00:00:01: address 10.60.1.5 is not a host address of subnet 10.60.0.0/24" },
		{ {},
		  { "52:54:00:00:00:01,10.60.0.255" },
		  "network 'lab': host 52:54:00:00:00:01: address 10.60.0.255 is not a host address of subnet 10.60.0.0/24" },
		{ {},
		  { "52:54:00:00:00:01,10.60.0.1" },
		  "network 'lab': host 52:54:00:00:00:01: address 10.60.0.1 is the gateway" },
		{ {},
		  { "52:54:00:00:00:01,10.60.0.5", "52:54:00:00:00:02,10.60.0.5" },
		  "network 'lab': address 10.60.0.5 is reserved for both 52:54:00:00:00:01 and 52:54:00:00:00:02" },
		{ {},
		  { "52:54:00:00:00:01,10.60.0.5,web", "52:54:00:00:00:02,10.60.0.6,WEB" },
		  "network 'lab': hostname 'WEB' is reserved for both 52:54:00:00:00:01 and 52:54:00:00:00:02" },
		{ {},
		  { "52:54:00:00:00:01,10.60.0.5,web.a.example",
		    "52:54:00:00:00:02,10.60.0.6,web.b.example" },
		  "network 'lab': hostname 'web' is reserved for both 52:54:00:00:00:01 and 52:54:00:00:00:02 (dnsmasq names a lease by its first label)" },
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
	n.dhcp.lease_time = DHCP_LEASE_TIME_INFINITE;
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
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
	struct dns_host dh = { .family = AF_INET };

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
		int r;

		if (!why)
			fail_msg("'%s' accepted as a hostname", refused[i]);
		assert_non_null(strstr(why, "dnsmasq reads"));
		/* After the address it is the LEASE field (as dnsmasq reads it), never a name; "ignore"
		 * is refused. The same word as a name before a lease is refused as a name. */
		snprintf(spec, sizeof(spec), "52:54:00:00:00:01,10.0.0.5,%s", refused[i]);
		r = dhcp_host_parse(spec, &h, err, sizeof(err));
		assert_true(r < 0 || (!h.hostname[0] && h.lease_time));
		snprintf(spec, sizeof(spec), "52:54:00:00:00:01,10.0.0.5,%s,1h", refused[i]);
		assert_int_equal(dhcp_host_parse(spec, &h, err, sizeof(err)), -EINVAL);
		/* And as the first label of a full name. */
		snprintf(spec, sizeof(spec), "%s.example.com", refused[i]);
		assert_non_null(dhcp_hostname_invalid_reason(spec));
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
	snprintf(spec, sizeof(spec), "52:54:00:00:00:01,10.0.0.5,120,1h");
	assert_int_equal(dhcp_host_parse(spec, &h, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid hostname '120' in a host reservation: dnsmasq reads a number (with an "
				 "optional s, m, h, d or w) as a lease time, not as a name");
}

/* Issue 17's options: full names, lease times per host, infinite, static, MTU, PXE and TFTP. */
static void test_issue17_golden(void **state)
{
	struct network n = make("lab", "10.60.0.0/24");
	char *text;

	add_host(&n, "52:54:00:00:00:0a,10.60.0.10,Web.Example.COM,90m");
	add_host(&n, "52:54:00:00:00:0b,10.60.0.11,db,infinite");
	add_host(&n, "52:54:00:00:00:0c,10.60.0.12,2h");
	add_host(&n, "52:54:00:00:00:0d,10.60.0.13,mail.lab.example,121");
	n.dhcp.static_only = true;
	n.dhcp.lease_time = DHCP_LEASE_TIME_INFINITE;
	snprintf(n.dhcp.domain, sizeof(n.dhcp.domain), "lab.example");
	golden_config("dnsmasq-static.conf", &n);
	assert_int_equal(dhcp_hosts_render(&n.dhcp, &text), 0);
	assert_golden("dnsmasq-fqdn.hosts", text);
	free(text);
	assert_int_equal(dhcp_addn_hosts_render(&n.dhcp, &text), 0);
	assert_golden("dnsmasq-fqdn.addnhosts", text);
	free(text);
	/* What the definition file says, read back as it was. */
	struct network back;
	char err[256];
	text = config_network_render(&n);
	assert_non_null(strstr(text, "range = static\n"));
	assert_non_null(strstr(text, "lease-time = infinite\n"));
	assert_non_null(strstr(text, "host = 52:54:00:00:00:0a,10.60.0.10,Web.Example.COM,90m\n"));
	assert_non_null(strstr(text, "host = 52:54:00:00:00:0c,10.60.0.12,2h\n"));
	assert_int_equal(config_network_parse("lab", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	free(text);
	network_done(&back);
	network_done(&n);

	n = make("lab", "10.60.0.0/24");
	n.mtu = 1400;
	snprintf(n.dhcp.pxe_boot, sizeof(n.dhcp.pxe_boot), "pxelinux.0");
	snprintf(n.dhcp.tftp_root, sizeof(n.dhcp.tftp_root), "/srv/tftp");
	golden_config("dnsmasq-pxe.conf", &n);
	text = config_network_render(&n);
	assert_int_equal(config_network_parse("lab", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	free(text);
	network_done(&back);
	n.dhcp.has_next_server = true;
	assert_int_equal(ip_addr_parse("10.60.0.5", &(int){ 0 }, &n.dhcp.next_server), 0);
	n.dhcp.tftp_root[0] = 0;
	golden_config("dnsmasq-pxe-next-server.conf", &n);
	text = config_network_render(&n);
	assert_int_equal(config_network_parse("lab", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	free(text);
	network_done(&back);
}

/* Bad values of issue 17's options, each with the message every path gives. */
static void test_issue17_bad(void **state)
{
	static const struct {
		const char *text, *err;
	} files[] = {
		{ "[dhcp]\nrange = static\nrange = static\n", "line 3: DHCP range 'static' is given twice" },
		{ "[dhcp]\nrange = Static\n",
		  "line 2: invalid DHCP range 'Static': expected START-END with IPv4 addresses, like 10.0.0.10-10.0.0.99" },
		{ "[dhcp]\nlease-time = infinity\n",
		  "line 2: invalid lease time 'infinity': expected a number of seconds, a duration like 30m, 1h, 7d, or infinite" },
		{ "[dhcp]\npxe-boot = a,b\n",
		  "line 2: invalid PXE boot file 'a,b': may not contain blanks, control characters, ',', '\"', '#' or '\\'" },
		{ "[dhcp]\npxe-boot = tag:x\n",
		  "line 2: invalid PXE boot file 'tag:x': may not start with 'tag:' or 'net:' (dnsmasq reads a tag there)" },
		{ "[dhcp]\npxe-boot = NET:lab\n",
		  "line 2: invalid PXE boot file 'NET:lab': may not start with 'tag:' or 'net:' (dnsmasq reads a tag there)" },
		{ "[dhcp]\npxe-boot = ../etc/shadow\n",
		  "line 2: invalid PXE boot file '../etc/shadow': may not contain a '..' component" },
		{ "[dhcp]\npxe-boot = " LONG_LABEL LONG_LABEL LONG_LABEL "\n",
		  "line 2: invalid PXE boot file '" LONG_LABEL LONG_LABEL LONG_LABEL
		  "': is longer than the 127 bytes of the DHCP boot file field" },
		{ "[dhcp]\nnext-server = fd00::1\n",
		  "line 2: invalid next server 'fd00::1': expected an IPv4 address" },
		{ "[dhcp]\ntftp-root = srv/tftp\n",
		  "line 2: invalid TFTP root 'srv/tftp': must be an absolute path" },
		{ "[dhcp]\ntftp-root = /srv/a b\n",
		  "line 2: invalid TFTP root '/srv/a b': may not contain blanks, control characters, ',', '\"', '#' or '\\'" },
		{ "[dhcp]\ntftp-root = /srv/tftp,eth0\n",
		  "line 2: invalid TFTP root '/srv/tftp,eth0': may not contain blanks, control characters, ',', '\"', '#' or '\\'" },
		{ "[dhcp]\ntftp-root = /srv/../etc\n",
		  "line 2: invalid TFTP root '/srv/../etc': may not contain a '..' component" },
		{ "[dhcp]\nhost = 52:54:00:00:00:01,10.0.0.5,web,99999999999w\n",
		  "line 2: lease time '99999999999w' is out of range (2m to 30d)" },
	};
	static const struct {
		const char *set, *err;
	} defs[] = {
		{ "range = static\nrange = 10.60.0.10-10.60.0.20",
		  "network 'lab': DHCP range 'static' (reserved hosts only) cannot go with START-END ranges" },
		{ "next-server = 10.60.0.5",
		  "network 'lab': --next-server needs --pxe-boot (it is the server of the boot file)" },
		{ "pxe-boot = a.0\nnext-server = 0.0.0.0",
		  "network 'lab': invalid next server 0.0.0.0: expected a unicast IPv4 address" },
		{ "pxe-boot = a.0\nnext-server = 224.0.0.1",
		  "network 'lab': invalid next server 224.0.0.1: expected a unicast IPv4 address" },
		{ "pxe-boot = a.0\nnext-server = 255.255.255.255",
		  "network 'lab': invalid next server 255.255.255.255: expected a unicast IPv4 address" },
		{ "enabled = no\npxe-boot = a.0",
		  "network 'lab': --pxe-boot needs DHCP on an IPv4 subnet (--no-dhcp turns it off)" },
		{ "enabled = no\ntftp-root = /srv",
		  "network 'lab': --tftp-root needs DHCP on an IPv4 subnet (--no-dhcp turns it off)" },
	};
	struct network back;
	char err[512], text[512];

	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		err[0] = 0;
		if (config_network_parse("lab", files[i].text, &back, err, sizeof(err)) >= 0)
			fail_msg("accepted: %s", files[i].text);
		assert_string_equal(err, files[i].err);
	}
	for (size_t i = 0; i < ELEMENTSOF(defs); i++) {
		snprintf(text, sizeof(text),
			 "[network]\nmode = isolated\nsubnet = 10.60.0.0/24\n[dhcp]\n%s\n", defs[i].set);
		assert_int_equal(config_network_parse("lab", text, &back, err, sizeof(err)), 0);
		network_fill_defaults(&back);
		err[0] = 0;
		assert_true(network_validate(&back, err, sizeof(err)) < 0);
		assert_string_equal(err, defs[i].err);
		network_done(&back);
	}
	/* Mode bridge: the LAN's DHCP server serves the guests. */
	static const char *const bridge_sets[] = { "range = static", "pxe-boot = a.0", "tftp-root = /srv" };
	for (size_t i = 0; i < ELEMENTSOF(bridge_sets); i++) {
		snprintf(text, sizeof(text), "[network]\nmode = bridge\nbridge = br0\n[dhcp]\n%s\n",
			 bridge_sets[i]);
		assert_int_equal(config_network_parse("lan", text, &back, err, sizeof(err)), 0);
		network_fill_defaults(&back);
		assert_true(network_validate(&back, err, sizeof(err)) < 0);
		assert_non_null(strstr(err, "mode bridge takes no DHCP or DNS settings"));
		network_done(&back);
	}
	/* An IPv6-only network has no subnet for a static range nor PXE. */
	struct network n;
	network_init(&n, "v6");
	n.subnet_none = true;
	assert_int_equal(ip_prefix_parse("fd00:1::/64", &n.subnet6), 0);
	network_fill_defaults(&n);
	n.dhcp.static_only = true;
	assert_true(network_validate(&n, err, sizeof(err)) < 0);
	assert_string_equal(err,
			    "network 'v6': DHCP range 'static' needs an IPv4 subnet: the network has none");
	network_done(&n);
	/* The renderers refuse what validation would (the last line of defence). */
	n = make("lab", "10.60.0.0/24");
	struct dhcp_render_ctx ctx = { .network = "lab",
				       .bridge = "nd-lab",
				       .subnet = n.subnet,
				       .gateway = n.gateway,
				       .lease_file = "/l",
				       .hosts_file = "/h",
				       .addn_hosts_file = "/a" };
	char *out = NULL;
	snprintf(n.dhcp.pxe_boot, sizeof(n.dhcp.pxe_boot), "a,b");
	assert_int_equal(dhcp_config_render(&n.dhcp, &ctx, &out), -EINVAL);
	n.dhcp.pxe_boot[0] = 0;
	snprintf(n.dhcp.tftp_root, sizeof(n.dhcp.tftp_root), "/srv\ntftp-root=/");
	assert_int_equal(dhcp_config_render(&n.dhcp, &ctx, &out), -EINVAL);
	n.dhcp.tftp_root[0] = 0;
	add_host(&n, "52:54:00:00:00:01,10.60.0.5,web");
	n.dhcp.hosts[0].lease_time = 60;
	assert_int_equal(dhcp_hosts_render(&n.dhcp, &out), -EINVAL);
	n.dhcp.hosts[0].lease_time = 0;
	snprintf(n.dhcp.hosts[0].hostname, sizeof(n.dhcp.hosts[0].hostname), "ignore.lab");
	assert_int_equal(dhcp_hosts_render(&n.dhcp, &out), -EINVAL);
	assert_null(out);
	network_done(&n);
	/* The boot file dnsmasq's TFTP serves (what netd checks it may read). */
	n = make("lab", "10.60.0.0/24");
	snprintf(n.dhcp.pxe_boot, sizeof(n.dhcp.pxe_boot), "boot/pxelinux.0");
	assert_null(dhcp_boot_file_local(&n.dhcp, &n.gateway));
	snprintf(n.dhcp.tftp_root, sizeof(n.dhcp.tftp_root), "/srv/tftp");
	assert_string_equal(dhcp_boot_file_local(&n.dhcp, &n.gateway), "boot/pxelinux.0");
	n.dhcp.has_next_server = true;
	n.dhcp.next_server = n.gateway;
	assert_non_null(dhcp_boot_file_local(&n.dhcp, &n.gateway));
	ip4_from_host(ip4_to_host(&n.gateway) + 1, &n.dhcp.next_server);
	assert_null(dhcp_boot_file_local(&n.dhcp, &n.gateway));
	n.dhcp.has_next_server = false;
	snprintf(n.dhcp.pxe_boot, sizeof(n.dhcp.pxe_boot), "http://10.60.0.1/boot.ipxe");
	assert_null(dhcp_boot_file_local(&n.dhcp, &n.gateway));
	network_done(&n);
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
	struct dns_host h = { .family = AF_INET };
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
	assert_int_equal(t.n, 5);
	assert_int_equal(bad, 3); /* garbage, 17x, extra field */
	assert_string_equal(ip_addr_format(AF_INET, &t.leases[0].ip, ip, sizeof(ip)), "10.60.0.10");
	assert_string_equal(t.leases[0].hostname, "web2");
	assert_string_equal(t.leases[0].client_id, "");
	assert_int_equal(t.leases[1].expiry, 0);
	assert_string_equal(t.leases[1].hostname, "");
	assert_int_equal(t.leases[2].family, AF_INET6); /* test-dhcp6.c reads IPv6 leases */
	assert_int_equal(t.leases[2].duid.len, 0); /* "00:01" is too short for a DUID */
	assert_string_equal(t.leases[3].hostname, ""); /* a name with an escape sequence is dropped */
	assert_string_equal(t.leases[4].client_id, "");
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET6, &t.leases[1].ip, 0), -ENOENT);
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET, &t.leases[1].ip, 0), 0);
	assert_int_equal(t.n, 4);
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET, &t.leases[0].ip, 0), 0);
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET6, &t.leases[0].ip, 0), 0);
	assert_int_equal(dhcp_lease_table_remove(&t, AF_INET, &t.leases[0].ip, 0), 0);
	assert_int_equal(t.n, 1);
	dhcp_lease_table_clear(&t);

	assert_int_equal(dhcp_lease_parse_line("1 52:54:00:00:00:01 10.0.0.1 a", 30, &l), 0);
	assert_int_equal(dhcp_lease_parse_line("1 52:54:00:00:00:01 10.0.0.1 a\0b *", 34, &l), -EINVAL);
	assert_int_equal(dhcp_lease_parse_line("99999999999999999999 52:54:00:00:00:01 10.0.0.1 a *", 51, &l), -EINVAL);
	assert_int_equal(dhcp_lease_file_parse("", 0, &t, &bad), 0);
	assert_int_equal(t.n, 0);
	dhcp_lease_table_clear(&t);
}

/* A renewal reaches the table: dnsmasq's "old" with the new expiry (script-on-renewal) replaces the
 * lease, and only the same client's lease with another expiry counts as renewed (not a new name, not
 * another MAC's lease of the address, not a restarted dnsmasq telling the lease back as it was). The
 * client id comes from either source, as dnsmasq gives it. */
static void test_lease_renewal(void **state)
{
	static const char file[] = "1700000000 52:54:00:00:00:0a 10.60.0.10 web 01:52:54:00:00:00:0a\n";
	struct dhcp_lease_table t;
	struct dhcp_lease old, ev;
	const struct dhcp_lease *l;

	assert_int_equal(dhcp_lease_file_parse(file, strlen(file), &t, NULL), 0);
	l = dhcp_lease_table_get(&t, AF_INET, &t.leases[0].ip);
	assert_non_null(l);
	assert_string_equal(l->client_id, "01:52:54:00:00:00:0a");
	old = *l;
	assert_null(dhcp_lease_table_get(&t, AF_INET6, &t.leases[0].ip));

	/* the renewal: the same MAC and address, a later expiry */
	assert_int_equal(dhcp_lease_from_fields("1700000060", "52:54:00:00:00:0a", "10.60.0.10", "web",
						"01:52:54:00:00:00:0a", &ev),
			 0);
	assert_true(dhcp_lease_renewed(&old, &ev));
	assert_int_equal(dhcp_lease_table_put(&t, &ev), 0);
	assert_int_equal(t.n, 1);
	l = dhcp_lease_table_get(&t, AF_INET, &ev.ip);
	assert_int_equal(l->expiry, 1700000060);
	assert_string_equal(l->client_id, "01:52:54:00:00:00:0a");
	assert_true(dhcp_lease_renewed(&old, l));
	old = *l;

	/* told back unchanged (a restarted dnsmasq), or a new name only: no renewal */
	assert_false(dhcp_lease_renewed(&old, &ev));
	assert_int_equal(dhcp_lease_from_fields("1700000060", "52:54:00:00:00:0a", "10.60.0.10", "web2", NULL,
						&ev),
			 0);
	assert_false(dhcp_lease_renewed(&old, &ev));
	/* the address leased to another MAC: a new client, not a renewal */
	assert_int_equal(
		dhcp_lease_from_fields("1700000999", "52:54:00:00:00:0b", "10.60.0.10", NULL, NULL, &ev), 0);
	assert_false(dhcp_lease_renewed(&old, &ev));
	/* another address of the same MAC */
	assert_int_equal(
		dhcp_lease_from_fields("1700000999", "52:54:00:00:00:0a", "10.60.0.11", NULL, NULL, &ev), 0);
	assert_false(dhcp_lease_renewed(&old, &ev));
	/* a lease that never expires, renewed into one that does (and back) */
	assert_int_equal(dhcp_lease_from_fields(NULL, "52:54:00:00:00:0a", "10.60.0.10", NULL, NULL, &ev), 0);
	assert_true(dhcp_lease_renewed(&old, &ev));

	/* client ids: hex with or without colons, up to DHCP_CLIENT_ID_MAX characters; else dropped */
	assert_int_equal(dhcp_lease_from_fields("1", "52:54:00:00:00:0a", "10.60.0.10", NULL, "ff00AB", &ev),
			 0);
	assert_string_equal(ev.client_id, "ff00AB");
	char id[DHCP_CLIENT_ID_MAX + 2];
	memset(id, 'a', sizeof(id));
	id[DHCP_CLIENT_ID_MAX] = 0;
	assert_int_equal(dhcp_lease_from_fields("1", "52:54:00:00:00:0a", "10.60.0.10", NULL, id, &ev), 0);
	assert_string_equal(ev.client_id, id);
	id[DHCP_CLIENT_ID_MAX] = 'a';
	id[DHCP_CLIENT_ID_MAX + 1] = 0;
	assert_int_equal(dhcp_lease_from_fields("1", "52:54:00:00:00:0a", "10.60.0.10", NULL, id, &ev), 0);
	assert_string_equal(ev.client_id, "");
	assert_int_equal(dhcp_lease_from_fields("1", "52:54:00:00:00:0a", "10.60.0.10", NULL, "01 02", &ev),
			 0);
	assert_string_equal(ev.client_id, "");
	assert_int_equal(dhcp_lease_parse_line("1 52:54:00:00:00:0a 10.60.0.10 * 01:aa", 38, &ev), 0);
	assert_string_equal(ev.client_id, "01:aa");
	assert_string_equal(ev.hostname, "");
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

/* A DHCPv6 lease's MAC across netd's restart (a new server reading the files again) and dnsmasq's
 * (the same server loading the lease file again): dnsmasq's file has none, netd's lease6-macs does.
 * A MAC file anyone but netd's user could write is not believed. */
static struct dhcp_server *macs_server(const char *d)
{
	char leases[128], macs[128], conf[128], pid[128];
	char *env[] = { NULL };
	struct dhcp_server_spec spec = { .network = "lab",
					 .dnsmasq = "/usr/sbin/dnsmasq",
					 .conf_path = conf,
					 .pid_path = pid,
					 .lease_path = leases,
					 .lease_macs_path = macs,
					 .env = env };
	struct dhcp_server *s;

	snprintf(conf, sizeof(conf), "%s/lab.conf", d);
	snprintf(pid, sizeof(pid), "%s/lab.pid", d);
	snprintf(leases, sizeof(leases), "%s/leases", d);
	snprintf(macs, sizeof(macs), "%s/lease6-macs", d);
	assert_int_equal(dhcp_server_new(NULL, &(struct proc_backend){}, &spec, &s), 0);
	assert_int_equal(dhcp_server_leases_load(s), 0);
	return s;
}

static void test_lease_macs_server(void **state)
{
	static const char file[] = "duid 00:01:00:01:2c:5b:2e:8f:52:54:00:00:00:01\n"
				   "1700003600 7 fd00::150 * 00:02:00:00:ab:11:de:ad:be:ef:00:01\n";
	static const char record[] = "fd00::150 52:54:00:00:00:0a 00:02:00:00:ab:11:de:ad:be:ef:00:01 7\n";
	char d[] = "/tmp/netd-unit-XXXXXX", path[128], macs[128];
	const struct mac want = { { 0x52, 0x54, 0, 0, 0, 0x0a } };
	_cleanup_free_ char *text = NULL;
	struct dhcp_server *s;
	struct dhcp_lease l;
	struct stat st;

	assert_non_null(mkdtemp(d));
	snprintf(path, sizeof(path), "%s/leases", d);
	snprintf(macs, sizeof(macs), "%s/lease6-macs", d);
	assert_int_equal(write_file_atomic(path, file, strlen(file), 0644), 0);
	s = macs_server(d);
	assert_int_equal(s->leases.n, 1);
	assert_true(mac_is_zero(&s->leases.leases[0].mac)); /* a DUID-EN: no MAC to be had */
	assert_int_equal(access(macs, F_OK), -1); /* nothing to record: no file */

	/* The lease event names the MAC: recorded, root's (the user's here) alone. */
	assert_int_equal(dhcp_lease6_from_fields("1700003600", "7", "fd00::150", "*",
						 "00:02:00:00:ab:11:de:ad:be:ef:00:01", "52:54:00:00:00:0a",
						 &l),
			 0);
	assert_int_equal(dhcp_lease_table_put(&s->leases, &l), 0);
	assert_int_equal(dhcp_server_lease_macs_save(s), 0);
	assert_int_equal(read_file(macs, &text, NULL), 0);
	assert_string_equal(text, record);
	assert_int_equal(stat(macs, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* dnsmasq restarted: the table keeps the MAC (the file gone meanwhile is written again). */
	assert_int_equal(unlink(macs), 0);
	assert_int_equal(dhcp_server_leases_load(s), 0);
	assert_true(mac_equal(&s->leases.leases[0].mac, &want));
	assert_int_equal(access(macs, F_OK), 0);
	dhcp_server_free(s);

	/* netd restarted (a new server): the MAC comes from the record. */
	s = macs_server(d);
	assert_true(mac_equal(&s->leases.leases[0].mac, &want));
	dhcp_server_free(s);

	/* A record others may write is ignored (and replaced from the table); so is a bad one. */
	assert_int_equal(chmod(macs, 0620), 0);
	s = macs_server(d);
	assert_true(mac_is_zero(&s->leases.leases[0].mac));
	dhcp_server_free(s);
	free(text);
	assert_int_equal(read_file(macs, &text, NULL), 0);
	assert_string_equal(text, "");
	assert_int_equal(write_file_atomic(macs, "fd00::150 52:54:00:00:00:0a x 7\n", 32, 0600), 0);
	s = macs_server(d);
	assert_true(mac_is_zero(&s->leases.leases[0].mac));
	dhcp_server_free(s);

	/* A bad line, and a record past its size cap, cost only those lines (F3 of the second
	 * review): the good line still gives the MAC, and the record is written anew. */
	{
		size_t big = (4 << 20) + 4096, len;
		_cleanup_free_ char *junk = malloc(big);

		assert_non_null(junk);
		len = snprintf(junk, big, "fd00::150 52:54:00:00:00:0a x 7\n%s", record);
		memset(junk + len, 'x', big - len - 1);
		junk[big - 1] = '\n';
		assert_int_equal(write_file_atomic(macs, junk, big, 0600), 0);
	}
	s = macs_server(d);
	assert_true(mac_equal(&s->leases.leases[0].mac, &want));
	dhcp_server_free(s);
	free(text);
	assert_int_equal(read_file(macs, &text, NULL), 0);
	assert_string_equal(text, record);

	/* A lease dnsmasq ended early (gone from its file) stays its owner's across a restart of
	 * netd until its expiry (F2). */
	s = macs_server(d);
	assert_int_equal(dhcp_lease6_from_fields("4000000000", "7", "fd00::150", "*",
						 "00:02:00:00:ab:11:de:ad:be:ef:00:01", "52:54:00:00:00:0a",
						 &l),
			 0);
	assert_int_equal(dhcp_lease_table_put(&s->leases, &l), 0);
	assert_int_equal(dhcp_lease_table_remove(&s->leases, AF_INET6, &l.ip, time(NULL)), 1);
	assert_int_equal(dhcp_server_lease_macs_save(s), 0);
	dhcp_server_free(s);
	assert_int_equal(write_file_atomic(path, file, strchr(file, '\n') + 1 - file, 0644), 0);
	s = macs_server(d);
	assert_int_equal(s->leases.n, 1);
	assert_true(s->leases.leases[0].ended);
	assert_int_equal(s->leases.leases[0].expiry, 4000000000);
	assert_true(mac_equal(&s->leases.leases[0].mac, &want));
	dhcp_server_free(s);
	rm_rf(d);
}

/* Writes of lease6-macs are DHCP_LEASE_MACS_GAP_USEC apart: the first at once, the next one held
 * back on the event loop, and one still held back written when the server goes (netd exiting). */
static void test_lease_macs_coalesce(void **state)
{
	char d[] = "/tmp/netd-unit-XXXXXX", leases[128], macs[128], conf[128], pid[128], ip[32];
	char *env[] = { NULL };
	struct dhcp_server_spec spec = { .network = "lab",
					 .dnsmasq = "/usr/sbin/dnsmasq",
					 .conf_path = conf,
					 .pid_path = pid,
					 .lease_path = leases,
					 .lease_macs_path = macs,
					 .env = env };
	_cleanup_free_ char *text = NULL;
	struct dhcp_server *s;
	struct dhcp_lease l;
	sd_event *e;

	assert_non_null(mkdtemp(d));
	snprintf(conf, sizeof(conf), "%s/lab.conf", d);
	snprintf(pid, sizeof(pid), "%s/lab.pid", d);
	snprintf(leases, sizeof(leases), "%s/leases", d);
	snprintf(macs, sizeof(macs), "%s/lease6-macs", d);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(dhcp_server_new(e, &(struct proc_backend){}, &spec, &s), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(ip, sizeof(ip), "fd00::%d", 150 + i);
		assert_int_equal(dhcp_lease6_from_fields("1", "7", ip, "*", "00:02:00:00:ab:11:01",
							 "52:54:00:00:00:0a", &l),
				 0);
		assert_true(dhcp_lease_table_put(&s->leases, &l) >= 0);
		assert_int_equal(dhcp_server_lease_macs_save(s), 0);
		free(text);
		text = NULL;
		assert_int_equal(read_file(macs, &text, NULL), 0);
		/* the first at once; the second and third held back */
		assert_int_equal(strlen(text), (size_t)(i == 0 ? 1 : i) * 51);
		if (i == 1) {
			for (int k = 0; k < 50 && s->lease_macs_timer; k++)
				assert_true(sd_event_run(e, 10 * 1000) >= 0);
			assert_null(s->lease_macs_timer);
			free(text);
			text = NULL;
			assert_int_equal(read_file(macs, &text, NULL), 0);
			assert_int_equal(strlen(text), 2 * 51);
		}
	}
	assert_non_null(s->lease_macs_timer); /* the third, held back */
	dhcp_server_free(s);
	free(text);
	text = NULL;
	assert_int_equal(read_file(macs, &text, NULL), 0);
	assert_int_equal(strlen(text), 3 * 51);
	sd_event_unref(e);
	rm_rf(d);
}


/* The doctor's probe packets: a DHCPDISCOVER is a whole IPv4/UDP datagram (checksummed header,
 * broadcast flag); an OFFER for that transaction and MAC is taken, anything else refused; a DNS
 * query and the response code of its answer. */
static void test_probe_packets(void **state)
{
	struct mac mac = { { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 } }, other = { { 0x02 } };
	uint8_t buf[PROBE_DHCP_MAX], offer[PROBE_DHCP_MAX], q[128];
	struct in_addr yiaddr, server;
	uint8_t prefixlen;
	uint32_t sum = 0;
	size_t len = probe_dhcp_discover(buf, sizeof(buf), &mac, 0x12345678), qlen;

	assert_true(len >= 20 + 8 + 300);
	assert_int_equal(buf[0], 0x45);
	for (size_t i = 0; i < 20; i += 2)
		sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(sum, 0xffff); /* the header's checksum holds */
	assert_int_equal(buf[28 + 10], 0x80); /* broadcast */
	assert_memory_equal(buf + 28 + 28, mac.b, 6);
	assert_int_equal(probe_dhcp_discover(buf, 100, &mac, 1), 0);

	/* The OFFER: the DISCOVER turned around (op 2, yiaddr, options 53=2, 54, 1). */
	memcpy(offer, buf, len);
	offer[20 + 2] = 0, offer[20 + 3] = 68; /* to port 68 */
	offer[28] = 2;
	memcpy(offer + 28 + 16, (uint8_t[]){ 10, 73, 0, 23 }, 4);
	memcpy(offer + 28 + 240, (uint8_t[]){ 53, 1, 2, 54, 4, 10, 73, 0, 1, 1, 4, 255, 255, 255, 0, 255 }, 16);
	assert_int_equal(probe_dhcp_offer_parse(offer, len, &mac, 0x12345678, &yiaddr, &server, &prefixlen), 0);
	assert_int_equal(ntohl(yiaddr.s_addr), 0x0a490017);
	assert_int_equal(ntohl(server.s_addr), 0x0a490001);
	assert_int_equal(prefixlen, 24);
	assert_int_equal(probe_dhcp_offer_parse(offer, len, &mac, 0x12345679, &yiaddr, &server, &prefixlen), -EINVAL);
	assert_int_equal(probe_dhcp_offer_parse(offer, len, &other, 0x12345678, &yiaddr, &server, &prefixlen), -EINVAL);
	assert_int_equal(probe_dhcp_offer_parse(offer, 60, &mac, 0x12345678, &yiaddr, &server, &prefixlen), -EINVAL);
	offer[28 + 240 + 2] = 5; /* an ACK is not an OFFER */
	assert_int_equal(probe_dhcp_offer_parse(offer, len, &mac, 0x12345678, &yiaddr, &server, &prefixlen), -EINVAL);
	offer[28 + 240 + 2] = 2;
	offer[28 + 240 + 4] = 200; /* an option running past the end */
	assert_int_equal(probe_dhcp_offer_parse(offer, len, &mac, 0x12345678, &yiaddr, &server, &prefixlen), -EINVAL);

	assert_int_equal(probe_dns_query(q, 20, 1, "netd-doctor.invalid"), 0);
	assert_int_equal(probe_dns_query(q, sizeof(q), 1, "a..b"), 0);
	qlen = probe_dns_query(q, sizeof(q), 0xbeef, "netd-doctor.invalid");
	assert_int_equal(qlen, 12 + 1 + 11 + 1 + 7 + 1 + 4);
	assert_memory_equal(q + 12, "\x0bnetd-doctor\x07invalid\x00\x00\x10\x00\x03", 25); /* TXT, CHAOS */
	q[2] |= 0x80;
	q[3] = 3; /* NXDOMAIN */
	assert_int_equal(probe_dns_response_parse(q, qlen, 0xbeef), 3);
	assert_int_equal(probe_dns_response_parse(q, qlen, 0xbeee), -EINVAL);
	q[2] &= 0x7f; /* a query is no response */
	assert_int_equal(probe_dns_response_parse(q, qlen, 0xbeef), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_golden),
		cmocka_unit_test(test_servers_render),
		cmocka_unit_test(test_isolated_has_no_router),
		cmocka_unit_test(test_render_refuses_injection),
		cmocka_unit_test(test_lease_time),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_definition_roundtrip),
		cmocka_unit_test(test_lease_parser),
		cmocka_unit_test(test_lease_renewal),
		cmocka_unit_test(test_supervisor),
		cmocka_unit_test(test_hosts_grow_and_copy),
		cmocka_unit_test(test_hostname_keywords),
		cmocka_unit_test(test_render_lower_case),
		cmocka_unit_test(test_issue17_golden),
		cmocka_unit_test(test_issue17_bad),
		cmocka_unit_test(test_definition_long_values),
		cmocka_unit_test(test_lease_fields),
		cmocka_unit_test(test_lease_macs_server),
		cmocka_unit_test(test_lease_macs_coalesce),
		cmocka_unit_test(test_probe_packets),
		cmocka_unit_test(test_remote_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
