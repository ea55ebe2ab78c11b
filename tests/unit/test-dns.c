/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dhcp/dns.c: DNS records, forwarders, local-only and register, the dnsmasq escape hatch. */
#include "golden.h"

#include <errno.h>

#include "config.h"
#include "dhcp.h"
#include "macro.h"
#include "network.h"

static struct network make(const char *name, const char *subnet)
{
	struct network n;

	network_init(&n, name);
	assert_int_equal(ip_prefix_parse(subnet, &n.subnet), 0);
	network_fill_defaults(&n);
	return n;
}

/* A definition file's [network] part, then the text given. */
static int parse(const char *extra, struct network *n, char *err, size_t errlen)
{
	char text[4096];

	snprintf(text, sizeof(text), "[network]\nmode = nat\nsubnet = 10.60.0.0/24\n%s", extra);
	return config_network_parse("lab", text, n, err, errlen);
}

static char *render_conf(const struct network *n)
{
	struct dhcp_render_ctx ctx = {
		.network = n->name,
		.bridge = n->bridge,
		.bridge_ifindex = 7,
		.subnet = n->subnet,
		.gateway = n->gateway,
		.router = n->dhcp_router,
		.dns_forward = n->dhcp_router,
		.lease_file = "/var/lib/netd/networks/lab/leases",
		.hosts_file = "/run/netd/dnsmasq/lab.hosts",
		.addn_hosts_file = "/run/netd/dnsmasq/lab.addnhosts",
		.script = "/usr/libexec/netd-lease-event",
		.servers_file = "/run/netd/dnsmasq/upstream.servers",
	};
	char *text = NULL;

	assert_int_equal(dhcp_config_render(&n->dhcp, &ctx, &text), 0);
	return text;
}

/* Every new key through the file, rendered for dnsmasq, written back the same. */
static void test_records_golden(void **state)
{
	struct network n, back;
	char err[512], *text, *again;

	assert_int_equal(parse("[dns]\n"
			       "domain = Lab.Example\n"
			       "local-only = yes\n"
			       "host = 10.60.0.200,printer\n"
			       "host = fd00:60::c8,printer6.lab.example\n"
			       "srv = _ldap._tcp.lab.example,ldap.lab.example,389,1,10\n"
			       "srv = _kerberos._udp,kdc.lab.example,88\n"
			       "srv = _gone._tcp\n"
			       "txt = _dmarc.lab.example,v=DMARC1; p=none, rua=\"a\\b\" #x\n"
			       "txt = empty.lab.example,\n"
			       "cname = www.lab.example,web.lab.example\n"
			       "ptr = 200.0.60.10.in-addr.arpa,printer.lab.example\n"
			       "forwarder = 192.0.2.53\n"
			       "forwarder = /corp.example/2001:db8::53#5353\n"
			       "forwarder = /local.lab.example/\n"
			       "forwarder = /usual.example/#\n"
			       "[dnsmasq]\n"
			       "option = dhcp-option=42,10.60.0.1\n"
			       "option = address=/blocked.example/0.0.0.0\n"
			       "option = domain-needed\n",
			       &n, err, sizeof(err)),
			 0);
	network_fill_defaults(&n);
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	text = render_conf(&n);
	assert_golden("dnsmasq-dns-records.conf", text);
	free(text);
	assert_int_equal(dhcp_addn_hosts_render(&n.dhcp, &text), 0);
	assert_string_equal(text, "10.60.0.200 printer\nfd00:60::c8 printer6.lab.example\n");
	free(text);
	text = config_network_render(&n);
	assert_golden("network-dns-records.conf", text);
	assert_int_equal(config_network_parse("lab", text, &back, err, sizeof(err)), 0);
	assert_true(network_equal(&n, &back));
	again = config_network_render(&back);
	assert_string_equal(text, again);
	free(again);
	free(text);
	network_done(&back);
	network_done(&n);
}

/* The domain's meaning: forwarded unless local-only, or unless nothing is upstream. */
static void test_local_only(void **state)
{
	struct network n = make("lab", "10.60.0.0/24");
	char *text, err[256];

	snprintf(n.dhcp.domain, sizeof(n.dhcp.domain), "lab.example");
	n.dhcp_router = true;
	text = render_conf(&n);
	assert_null(strstr(text, "local=/lab.example/"));
	assert_non_null(strstr(text, "servers-file="));
	free(text);

	n.dhcp.dnscfg.local_only = true;
	text = render_conf(&n);
	assert_non_null(strstr(text, "local=/lab.example/\n"));
	free(text);

	/* Isolated, no forwarder: nothing upstream, the domain's unknown names are NXDOMAIN. */
	n.dhcp.dnscfg.local_only = false;
	n.dhcp_router = false;
	text = render_conf(&n);
	assert_non_null(strstr(text, "local=/lab.example/\n"));
	assert_null(strstr(text, "strict-order"));
	free(text);

	/* --no-resolv: not the host's resolvers; a forwarder for every name: not them either. */
	n.dhcp_router = true;
	n.dhcp.dnscfg.no_resolv = true;
	text = render_conf(&n);
	assert_null(strstr(text, "servers-file="));
	assert_non_null(strstr(text, "local=/lab.example/\n"));
	free(text);
	n.dhcp.dnscfg.no_resolv = false;
	assert_int_equal(dns_forwarder_add(&n.dhcp.dnscfg, "192.0.2.1", err, sizeof(err)), 0);
	text = render_conf(&n);
	assert_null(strstr(text, "servers-file="));
	assert_non_null(strstr(text, "server=192.0.2.1\nstrict-order\n"));
	assert_null(strstr(text, "local=/lab.example/"));
	free(text);
	network_done(&n);
}

/* Bad values: one message each, the same from every path (the file's adds "line N: "). */
static void test_bad_values(void **state)
{
	static const struct {
		const char *line, *err;
	} cases[] = {
		{ "[dns]\nsrv = ldap._tcp",
		  "line 5: invalid SRV name 'ldap._tcp': expected _SERVICE._PROTO" },
		{ "[dns]\nsrv = _ldap", "line 5: invalid SRV name '_ldap': expected _SERVICE._PROTO" },
		{ "[dns]\nsrv = _ldap._tcp,ldap", "line 5: invalid SRV record '_ldap._tcp,ldap': expected" },
		{ "[dns]\nsrv = _ldap._tcp,ldap,0",
		  "line 5: invalid SRV record '_ldap._tcp,ldap,0': the port is 1-65535" },
		{ "[dns]\nsrv = _ldap._tcp,ldap,389,1,70000", "line 5: invalid SRV record" },
		{ "[dns]\nsrv = _ldap._tcp,ldap,389,1,1,1", "line 5: invalid SRV record" },
		{ "[dns]\nsrv = _ldap._tcp,ld ap,389", "line 5: invalid name 'ld ap' in SRV record" },
		{ "[dns]\ntxt = name", "line 5: invalid TXT record 'name': expected NAME,TEXT" },
		{ "[dns]\ntxt = a b,text", "line 5: invalid name 'a b' in TXT record" },
		{ "[dns]\ntxt = n,caf\xc3\xa9", "line 5: invalid text in TXT record" },
		{ "[dns]\ncname = www", "line 5: invalid CNAME 'www': expected ALIAS,TARGET" },
		{ "[dns]\ncname = www,web,x", "line 5: invalid CNAME 'www,web,x': expected ALIAS,TARGET" },
		{ "[dns]\ncname = www,3600",
		  "line 5: invalid CNAME 'www,3600': dnsmasq reads a target of digits as a TTL" },
		{ "[dns]\ncname = www,WWW", "line 5: invalid CNAME 'www,WWW': an alias of itself" },
		{ "[dns]\ncname = www,a\ncname = WWW,b", "line 6: CNAME alias 'WWW' is given twice" },
		{ "[dns]\nptr = 1.0.60.10.in-addr.arpa", "line 5: invalid PTR record" },
		{ "[dns]\nptr = x,a..b", "line 5: invalid name 'a..b' in PTR record" },
		{ "[dns]\nforwarder = 192.0.2.1#0", "line 5: invalid DNS forwarder '192.0.2.1#0'" },
		{ "[dns]\nforwarder = 192.0.2.1#65536", "line 5: invalid DNS forwarder" },
		{ "[dns]\nforwarder = /corp/", "" }, /* fine: local only */
		{ "[dns]\nforwarder = /corp/#", "" }, /* fine: the usual servers */
		{ "[dns]\nforwarder = #", "line 5: invalid DNS forwarder '#'" },
		{ "[dns]\nforwarder = /corp/##", "line 5: invalid DNS forwarder" },
		{ "[dns]\nforwarder = /corp/#53", "line 5: invalid DNS forwarder" },
		{ "[dns]\nforwarder = //192.0.2.1", "line 5: invalid domain '' in forwarder" },
		{ "[dns]\nforwarder = /a b/192.0.2.1", "line 5: invalid domain 'a b' in forwarder" },
		{ "[dns]\nforwarder = fe80::1%eth0", "line 5: invalid DNS forwarder" },
		{ "[dns]\nforwarder = server=1.2.3.4", "line 5: invalid DNS forwarder" },
		{ "[dns]\nforwarder = /corp/1.2.3.4,5.6.7.8", "line 5: invalid DNS forwarder" },
		{ "[dns]\nhost = fd00::1",
		  "line 5: invalid DNS host 'fd00::1': expected IP,HOSTNAME with an IPv4 or IPv6" },
		{ "[dns]\nlocal-only = maybe",
		  "line 5: invalid domain-local-only 'maybe': expected yes or no" },
		{ "[dnsmasq]\noption = conf-file=/etc/shadow",
		  "line 5: dnsmasq option 'conf-file=/etc/shadow' is not an option netd passes on" },
		{ "[dnsmasq]\noption = dhcp-script=/tmp/x", "is not an option netd passes on" },
		{ "[dnsmasq]\noption = user=root", "is not an option netd passes on" },
		{ "[dnsmasq]\noption = nftset=/x/4#inet#netd#s", "is not an option netd passes on" },
		{ "[dnsmasq]\noption = Address=/x/1.2.3.4", "must be NAME or NAME=VALUE" },
		{ "[dnsmasq]\noption = address =/x/1.2.3.4", "must be NAME or NAME=VALUE" },
		{ "[dnsmasq]\noption = address=\"/x/\"", "must not contain '\"'" },
		{ "[dnsmasq]\noption = txt-record=a, #b",
		  "must not contain '#' at its start or after a blank" },
		{ "[dnsmasq]\noption = address=", "has an empty value" },
		/* Guests would decide how much netd's log grows. */
		{ "[dnsmasq]\noption = log-queries", "is not an option netd passes on" },
		{ "[dnsmasq]\noption = log-dhcp", "is not an option netd passes on" },
		/* Forwarders: never a service on the host's loopback, nor no one host. */
		{ "[dns]\nforwarder = 127.0.0.1#6379",
		  "line 5: invalid DNS forwarder '127.0.0.1#6379': is a loopback address on a port other than 53" },
		{ "[dns]\nforwarder = 127.0.0.53", "" },
		{ "[dns]\nforwarder = 127.0.0.53#53", "" },
		{ "[dns]\nforwarder = ::1#6380", "is a loopback address on a port other than 53" },
		{ "[dns]\nforwarder = ::1", "" },
		{ "[dns]\nforwarder = ::#6380", "is the unspecified address (::)" },
		{ "[dns]\nforwarder = ::", "is the unspecified address (::)" },
		{ "[dns]\nforwarder = ::ffff:127.0.0.1#6379",
		  "is a loopback address on a port other than 53" },
		{ "[dns]\nforwarder = ::ffff:0.0.0.0", "is an unspecified address" },
		{ "[dns]\nforwarder = ::127.0.0.1", "is an IPv4-compatible address" },
		{ "[dns]\nforwarder = 0.0.0.0", "is an unspecified address" },
		{ "[dns]\nforwarder = /corp/224.0.0.251#5353", "is a multicast address" },
		{ "[dns]\nforwarder = ff02::fb", "is a multicast address" },
		{ "[dns]\nforwarder = 255.255.255.255", "is the broadcast address" },
		{ "[dns]\nforwarder = fe80::1", "is a link-local address (it needs a scope" },
		{ "[dns]\nforwarder = 192.0.2.1#5353", "" },
		{ "[dns]\nforwarder = 2001:db8::53", "" },
	};
	struct network n;
	char err[512];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int r;

		err[0] = 0;
		r = parse(cases[i].line, &n, err, sizeof(err));
		if (!cases[i].err[0]) {
			assert_int_equal(r, 0);
			network_done(&n);
			continue;
		}
		if (r >= 0 || !strstr(err, cases[i].err)) {
			print_error("case %zu: '%s' gave '%s'\n", i, cases[i].line, err);
			fail();
		}
	}
	/* An option with a new line cannot come through the file: the other paths take it whole. */
	struct dns_config c = {};
	assert_int_equal(dnsmasq_option_add(&c, "address=/x/1.2.3.4\nconf-file=/etc/shadow", err,
					    sizeof(err)),
			 -EINVAL);
	assert_int_equal(dnsmasq_option_add(&c, "domain-needed", err, sizeof(err)), 0);
	assert_int_equal(dns_txt_add(&c, "a,x\ny", err, sizeof(err)), -EINVAL);
	assert_int_equal(dns_cname_add(&c, "a,b\nport=0", err, sizeof(err)), -EINVAL);
	for (int i = 0; i < DNSMASQ_OPTIONS_MAX - 1; i++)
		assert_int_equal(dnsmasq_option_add(&c, "domain-needed", err, sizeof(err)), 0);
	assert_int_equal(dnsmasq_option_add(&c, "domain-needed", err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "too many dnsmasq options (at most 64)");
	dns_config_done(&c);
}

/* The rules between the settings, from network_validate(). */
static void test_validate_rules(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "[dns]\nlocal-only = yes\n", "--domain-local-only needs --domain" },
		{ "[dns]\ndomain = lab\nregister = yes\n",
		  "--register-dns needs DNS, --domain and --domain-local-only" },
		{ "[dns]\nenabled = no\nsrv = _a._tcp\n", "need DNS (the network has --no-dns)" },
		{ "[dns]\nforwarder = 10.60.0.1\n",
		  "DNS forwarder 10.60.0.1 is the network's own DNS server (a loop)" },
		{ "[dns]\nforwarder = 10.60.0.1#5353\n", "" },
		{ "[dns]\ndomain = lab.test\nlocal-only = yes\nregister = yes\n", "" },
		/* register: never a whole top-level domain, nor the reverse trees. */
		{ "[dns]\ndomain = com\nlocal-only = yes\nregister = yes\n",
		  "--register-dns needs a domain of two labels or more, not 'com'" },
		{ "[dns]\ndomain = lab\nlocal-only = yes\nregister = yes\n",
		  "--register-dns needs a domain of two labels or more" },
		{ "[dns]\ndomain = 10.in-addr.arpa\nlocal-only = yes\nregister = yes\n",
		  "--register-dns cannot register '10.in-addr.arpa'" },
		{ "[dns]\ndomain = ip6.ARPA\nlocal-only = yes\nregister = yes\n",
		  "--register-dns cannot register 'ip6.ARPA'" },
		{ "[dns]\ndomain = arpa.test\nlocal-only = yes\nregister = yes\n", "" },
		/* local-only: a forwarder with an address for the domain or below would beat it. */
		{ "[dns]\ndomain = lab.test\nlocal-only = yes\nforwarder = /lab.test/192.0.2.1\n",
		  "DNS forwarder '/lab.test/192.0.2.1' sends names of the domain lab.test upstream" },
		{ "[dns]\ndomain = lab.test\nlocal-only = yes\nforwarder = /A.Lab.Test/192.0.2.1#5353\n",
		  "DNS forwarder '/A.Lab.Test/192.0.2.1#5353' sends names of the domain lab.test" },
		{ "[dns]\ndomain = lab.test\nlocal-only = yes\nforwarder = /a.lab.test/\n", "" },
		{ "[dns]\ndomain = lab.test\nlocal-only = yes\nforwarder = /xlab.test/192.0.2.1\n", "" },
		{ "[dns]\ndomain = lab.test\nforwarder = /lab.test/192.0.2.1\n", "" },
		/* CNAME loops: dnsmasq would exit, and be restarted for ever. */
		{ "[dns]\ncname = a,b\ncname = b,c\ncname = C,A\n", "is part of a loop of aliases" },
		{ "[dns]\ncname = a,b\ncname = b,a\n", "CNAME 'a,b' is part of a loop of aliases" },
		{ "[dns]\ncname = a,b\ncname = b,c\ncname = x,a\n", "" },
	};
	struct network n;
	char err[512];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		assert_int_equal(parse(cases[i].text, &n, err, sizeof(err)), 0);
		network_fill_defaults(&n);
		err[0] = 0;
		if (cases[i].err[0]) {
			assert_true(network_validate(&n, err, sizeof(err)) < 0);
			if (!strstr(err, cases[i].err)) {
				print_error("case %zu gave '%s'\n", i, err);
				fail();
			}
		} else {
			assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
		}
		network_done(&n);
	}
}

/* The renderer's last line of defence: a value that got past the parsers is not written. */
static void test_render_refuses(void **state)
{
	struct network n = make("lab", "10.60.0.0/24");
	struct dhcp_render_ctx ctx = { .network = "lab",
				       .bridge = "nd-lab",
				       .subnet = n.subnet,
				       .gateway = n.gateway,
				       .lease_file = "/l",
				       .hosts_file = "/h",
				       .addn_hosts_file = "/a" };
	char err[256], *text = NULL;

	assert_int_equal(dns_txt_add(&n.dhcp.dnscfg, "t,ok", err, sizeof(err)), 0);
	strcpy(n.dhcp.dnscfg.txt[0].text, "a\nport=0");
	assert_int_equal(dhcp_config_render(&n.dhcp, &ctx, &text), -EINVAL);
	strcpy(n.dhcp.dnscfg.txt[0].text, "ok");
	assert_int_equal(dnsmasq_option_add(&n.dhcp.dnscfg, "domain-needed", err, sizeof(err)), 0);
	strcpy(n.dhcp.dnscfg.opts[0].text, "conf-file=/etc/shadow");
	assert_int_equal(dhcp_config_render(&n.dhcp, &ctx, &text), -EINVAL);
	strcpy(n.dhcp.dnscfg.opts[0].text, "domain-needed");
	assert_int_equal(dhcp_config_render(&n.dhcp, &ctx, &text), 0);
	free(text);
	network_done(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_golden), cmocka_unit_test(test_local_only),
		cmocka_unit_test(test_bad_values),     cmocka_unit_test(test_validate_rules),
		cmocka_unit_test(test_render_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
