/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nat/forward.c: port forwards' text, checks, map elements and table inet netd_fwd (golden files),
 * the /proc/net socket check; the definition's [forwards], nat-address and nat-ports. */
#include <arpa/inet.h>
#include <errno.h>

#include "forward.h"
#include "golden.h"
#include "macro.h"
#include "network-schema.h"
#include "network.h"

static struct nat_forward parse_ok(const char *s)
{
	struct nat_forward f;
	char err[256] = "", back[NAT_FWD_STRLEN];

	if (nat_forward_parse(s, &f, err, sizeof(err)) < 0)
		fail_msg("'%s' refused: %s", s, err);
	assert_string_equal(nat_forward_format(&f, back, sizeof(back)), s);
	return f;
}

static void test_parse(void **state)
{
	static const char *const good[] = {
		"1 tcp any 8080 web:80",
		"2 udp 192.0.2.1 53 10.0.0.5",
		"3 tcp,udp uplink 5000-5009 10.0.0.5:6000-6009",
		"4 tcp fd00::1 443 [fd00:1::5]:8443",
		"5 tcp any 22 fd00:1::5",
		"65535 udp any 1-1024 host-1.example",
	};
	static const struct {
		const char *in, *err;
	} bad[] = {
		{ "1 tcp any 80", "invalid forward '1 tcp any 80': expected ID PROTO LISTEN PORTS TO" },
		{ "1 tcp any 80 web extra",
		  "invalid forward '1 tcp any 80 web extra': expected ID PROTO LISTEN PORTS TO" },
		{ "0 tcp any 80 web", "invalid forward ID '0': expected a number 1-65535" },
		{ "x tcp any 80 web", "invalid forward ID 'x': expected a number 1-65535" },
		{ "1 sctp any 80 web", "invalid protocol 'sctp': expected tcp, udp or tcp,udp" },
		{ "1 tcp,tcp any 80 web", "invalid protocol 'tcp,tcp': expected tcp, udp or tcp,udp" },
		{ "1 tcp here 80 web", "invalid listen address 'here': expected an address, any or uplink" },
		{ "1 tcp 127.0.0.1 80 web",
		  "invalid listen address '127.0.0.1': not a loopback or wildcard address (use any)" },
		{ "1 tcp 0.0.0.0 80 web",
		  "invalid listen address '0.0.0.0': not a loopback or wildcard address (use any)" },
		{ "1 tcp ::1 80 fd00::5",
		  "invalid listen address '::1': not a loopback, multicast or wildcard address (use any)" },
		{ "1 tcp any 0 web", "invalid port '0': expected PORT or PORT-PORT (1-65535)" },
		{ "1 tcp any 65536 web", "invalid port '65536': expected PORT or PORT-PORT (1-65535)" },
		{ "1 tcp any 080 web", "invalid port '080': expected PORT or PORT-PORT (1-65535)" },
		{ "1 tcp any 90-80 web", "invalid port '90-80': expected PORT or PORT-PORT (1-65535)" },
		{ "1 tcp any 80-80 web", "invalid port '80-80': expected PORT or PORT-PORT (1-65535)" },
		{ "1 tcp any -80 web", "invalid port '-80': expected PORT or PORT-PORT (1-65535)" },
		{ "1 tcp any 1-2000 web", "port range '1-2000' is too large (at most 1024 ports)" },
		{ "1 tcp any 80 web:", "invalid target port '': expected PORT or PORT-PORT (1-65535)" },
		{ "1 tcp any 80 web:81-82",
		  "target ports '81-82' are not as many as the forwarded ones (1)" },
		{ "1 tcp any 80-81 web:81", "target ports '81' are not as many as the forwarded ones (2)" },
		{ "1 tcp any 80 -web",
		  "invalid target '-web': expected a guest name, a hostname or an address" },
		{ "1 tcp any 80 w\"b",
		  "invalid target 'w\"b': expected a guest name, a hostname or an address" },
		{ "1 tcp any 80 [fd00::5", "invalid target '[fd00::5': expected [IPv6]:PORT" },
		{ "1 tcp 192.0.2.1 80 fd00::5",
		  "forward '1 tcp 192.0.2.1 80 fd00::5': the listen address and the target are not of one family" },
	};
	struct nat_forward f;
	char err[256];

	for (size_t i = 0; i < ELEMENTSOF(good); i++)
		parse_ok(good[i]);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		err[0] = 0;
		assert_int_equal(nat_forward_parse(bad[i].in, &f, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].err);
	}
	f = parse_ok("3 tcp,udp uplink 5000-5009 10.0.0.5:6000-6009");
	assert_int_equal(f.protos, NAT_FWD_TCP | NAT_FWD_UDP);
	assert_int_equal(f.listen, NAT_FWD_LISTEN_UPLINK);
	assert_int_equal(f.port_end, 5009);
	assert_int_equal(f.to_port, 6000);
	assert_int_equal(f.family, AF_INET);
	f = parse_ok("4 tcp fd00::1 443 [fd00:1::5]:8443");
	assert_int_equal(f.family, AF_INET6);
}

static void test_list(void **state)
{
	struct nat_forward *l = NULL, *copy = NULL;
	size_t n = 0;
	char err[256];

	struct nat_forward a = parse_ok("1 tcp any 8000-8010 web:80-90");
	struct nat_forward b = parse_ok("2 udp any 8000-8010 web:80-90"); /* another protocol */
	struct nat_forward c = parse_ok("3 tcp 192.0.2.1 8010 web"); /* any overlaps every address */
	struct nat_forward d = parse_ok("3 tcp 192.0.2.1 8011 web");
	struct nat_forward e = parse_ok("4 tcp 192.0.2.2 8011 web"); /* another address */
	struct nat_forward g = parse_ok("2 tcp any 9000 web"); /* ID taken */
	struct nat_forward h = parse_ok("5 tcp,udp uplink 8011 web"); /* uplink overlaps addresses */

	assert_int_equal(nat_forwards_add(&l, &n, &a, err, sizeof(err)), 0);
	assert_int_equal(nat_forwards_add(&l, &n, &b, err, sizeof(err)), 0);
	assert_int_equal(nat_forwards_add(&l, &n, &c, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "the ports overlap those of forward 1 tcp any 8000-8010 web:80-90");
	assert_int_equal(nat_forwards_add(&l, &n, &d, err, sizeof(err)), 0);
	assert_int_equal(nat_forwards_add(&l, &n, &e, err, sizeof(err)), 0);
	assert_int_equal(nat_forwards_add(&l, &n, &g, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "forward ID 2 is taken");
	assert_int_equal(nat_forwards_add(&l, &n, &h, err, sizeof(err)), -EEXIST);
	assert_int_equal(n, 4);
	assert_int_equal(nat_forwards_next_id(l, n), 5);
	assert_int_equal(nat_forwards_copy(&copy, l, n), 0);
	assert_true(nat_forward_equal(&copy[3], &e));
	assert_int_equal(nat_forwards_remove(l, &n, 3), 0);
	assert_int_equal(nat_forwards_remove(l, &n, 3), -ENOENT);
	assert_int_equal(n, 3);
	assert_true(nat_forward_equal(&l[2], &e));
	free(l);
	free(copy);
}

static int elements(const char *spec, const char *to, const char *uplink, struct nat_fwd_elem **l, size_t *n)
{
	struct nat_forward f = parse_ok(spec);
	union in_addr_union a;
	int family;

	assert_int_equal(ip_addr_parse(to, &family, &a), 0);
	return nat_forward_elements(&f, &a, uplink, l, n);
}

/* The whole table: elements of every kind of forward, a hairpin subnet of each family, the source
 * NAT of two networks; then a change. */
static void test_render(void **state)
{
	struct nat_fwd_elem *l = NULL;
	size_t n = 0;
	struct nat_snat sn[2] = {
		{ .bridge = "nd-a", .uplink = "eth0", .has_addr = true, .port_lo = 1024, .port_hi = 65535 },
		{ .bridge = "nd-b", .port_lo = 40000, .port_hi = 40009 },
	};
	struct ip_prefix p4, p6;
	_cleanup_free_ char *script = NULL, *change = NULL;

	assert_int_equal(elements("1 tcp any 8080 web:80", "10.0.0.5", "", &l, &n), 0);
	assert_int_equal(elements("2 udp 192.0.2.1 53 web", "10.0.0.5", "", &l, &n), 0);
	assert_int_equal(elements("3 tcp,udp uplink 5000-5002 web:6000-6002", "10.0.0.6", "eth0", &l, &n), 0);
	assert_int_equal(elements("4 tcp uplink 22 web", "10.0.0.6", "", &l, &n), 0); /* no uplink: none */
	assert_int_equal(elements("5 tcp fd00::1 443 [fd00:1::5]:8443", "fd00:1::5", "", &l, &n), 0);
	assert_int_equal(elements("6 udp any 500 fd00:1::5", "fd00:1::5", "", &l, &n), 0);
	assert_int_equal(n, 1 + 1 + 6 + 0 + 1 + 1);
	assert_int_equal(ip_prefix_parse("10.0.0.0/24", &p4), 0);
	assert_int_equal(ip_prefix_parse("fd00:1::/64", &p6), 0);
	l = reallocarray(l, n + 2, sizeof(*l));
	assert_non_null(l);
	nat_fwd_hairpin_element("nd-a", &p4, &l[n++]);
	nat_fwd_hairpin_element("nd-a", &p6, &l[n++]);
	sn[0].subnet = p4;
	assert_int_equal(ip_addr_parse("192.0.2.10", &(int){ 0 }, &sn[0].first), 0);
	assert_int_equal(ip_addr_parse("192.0.2.12", &(int){ 0 }, &sn[0].last), 0);
	assert_int_equal(ip_prefix_parse("10.0.1.0/24", &sn[1].subnet), 0);
	script = nat_fwd_render(l, n, sn, ELEMENTSOF(sn));
	assert_non_null(script);
	assert_golden("nft-forward.txt", script);
	/* the marker counts the rules: 16 fixed, 2 + 1 of the networks */
	assert_int_equal(nat_fwd_rules(NULL, 0), 16);
	assert_int_equal(nat_fwd_rules(sn, ELEMENTSOF(sn)), 19);
	assert_non_null(strstr(script, "comment \"netd:fwd:19\""));
	/* every map is looked up for local destinations alone (a listen address the host lost would
	 * otherwise take traffic to it), and each DNAT marks its connection for netd's forward chain */
	assert_non_null(strstr(script, "type nat hook prerouting priority dstnat; policy accept;\n"
				       "\t\tfib daddr type local jump lookup_local\n\t}\n"));
	assert_non_null(strstr(script, "type nat hook output priority -100; policy accept;\n"
				       "\t\tfib daddr type local jump lookup_local\n\t}\n"));
	assert_null(strstr(script, "jump lookup\n"));
	assert_non_null(strstr(script,
			       "\t\tip daddr . meta l4proto . th dport @fwd4 ct mark set ct mark | "
			       "0x00800000\n\t\tdnat ip to ip daddr . meta l4proto . th dport map @fwd4\n"));
	change = nat_fwd_render_change(&l[0], 1, &l[1], 2);
	assert_non_null(change);
	assert_golden("nft-forward-change.txt", change);
	assert_true(nat_fwd_elem_cmp(&l[0], &l[0]) == 0);
	free(l);
}

static void test_sockets(void **state)
{
	/* 127.0.0.1:8080 and *:22 listening, 192.0.2.1:9000 established (not listening) */
	static const char tcp[] =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
		"   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1\n"
		"   2: 010200C0:2328 020200C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1\n";
	/* [::]:53 */
	static const char udp6[] =
		"  sl  local_address                         remote_address                        st\n"
		"   0: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07\n";
	union in_addr_union a, any = {};
	int family;

	assert_int_equal(ip_addr_parse("192.0.2.1", &family, &a), 0);
	assert_int_equal(nat_fwd_socket_port(tcp, true, false, NULL, 8000, 8100), 8080);
	assert_int_equal(nat_fwd_socket_port(tcp, true, false, &a, 8000, 8100), 0); /* only on 127.0.0.1 */
	assert_int_equal(nat_fwd_socket_port(tcp, true, false, &a, 20, 30), 22); /* the wildcard */
	assert_int_equal(nat_fwd_socket_port(tcp, true, false, &a, 9000, 9000), 0); /* not listening */
	assert_int_equal(nat_fwd_socket_port(tcp, false, false, &a, 9000, 9000), 9000); /* udp: any state */
	assert_int_equal(nat_fwd_socket_port(udp6, false, true, &any, 53, 53), 53);
	assert_int_equal(nat_fwd_socket_port(udp6, false, true, &any, 54, 60), 0);
	assert_int_equal(nat_fwd_socket_port("", true, false, NULL, 1, 65535), 0);
	assert_int_equal(nat_fwd_socket_port("header\ngarbage\n   0: 0100:1F90 x 0A\n", true, false, NULL, 1,
					     65535),
			 0);
}

/* The definition file: [forwards] and nat-address/nat-ports read back as written; bad lines say
 * which. */
static void test_definition(void **state)
{
	static const char text[] = "[network]\n"
				   "mode = nat\n"
				   "subnet = 10.5.0.0/24\n"
				   "nat-address = 192.0.2.10-192.0.2.12\n"
				   "nat-ports = 1024-65535\n"
				   "\n"
				   "[forwards]\n"
				   "forward = 1 tcp any 8080 web:80\n"
				   "forward = 7 tcp,udp 192.0.2.1 5000-5009 10.5.0.9:6000-6009\n";
	static const struct {
		const char *text, *err;
	} bad[] = {
		{ "[network]\nmode = nat\n[forwards]\nforward = 1 tcp any 80 web\nforward = 1 udp any 80 web\n",
		  "line 5: forward '1 udp any 80 web': forward ID 1 is taken" },
		{ "[network]\nmode = nat\n[forwards]\nforward = 1 tcp any 80 web\nforward = 2 tcp,udp any 80 web\n",
		  "line 5: forward '2 tcp,udp any 80 web': the ports overlap those of forward 1 tcp any 80 web" },
		{ "[network]\nmode = nat\n[forwards]\nforward = 1 tcp any 80\n",
		  "line 4: invalid forward '1 tcp any 80': expected ID PROTO LISTEN PORTS TO" },
		{ "[network]\nmode = nat\nnat-ports = 9-8\n",
		  "line 3: invalid NAT ports '9-8': expected a range LO-HI like 1024-65535" },
		{ "[network]\nmode = nat\nnat-address = 10.0.0.1-x\n",
		  "line 3: invalid NAT address '10.0.0.1-x': expected an IPv4 address or a range like 192.0.2.10-192.0.2.20" },
	};
	struct network n;
	char err[SCHEMA_MSG_MAX];
	_cleanup_free_ char *back = NULL;

	network_init(&n, "x");
	assert_int_equal(schema_ini_parse(&network_schema, &n, text, err, sizeof(err)), 0);
	network_fill_defaults(&n);
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	assert_int_equal(n.n_forwards, 2);
	assert_int_equal(n.nat_port_hi, 65535);
	back = schema_ini_render_text(&network_schema, &n, "# c");
	assert_non_null(back);
	assert_non_null(strstr(back, "nat-address = 192.0.2.10-192.0.2.12\nnat-ports = 1024-65535\n"));
	assert_non_null(strstr(back, "[forwards]\nforward = 1 tcp any 8080 web:80\n"
				     "forward = 7 tcp,udp 192.0.2.1 5000-5009 10.5.0.9:6000-6009\n"));
	/* the copy is deep and equal; a forward less is not */
	{
		struct network *c = network_dup(&n);

		assert_non_null(c);
		assert_true(network_equal(c, &n));
		assert_int_equal(nat_forwards_remove(c->forwards, &c->n_forwards, 7), 0);
		assert_false(network_equal(c, &n));
		network_free(c);
	}
	network_done(&n);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		network_init(&n, "x");
		err[0] = 0;
		assert_true(schema_ini_parse(&network_schema, &n, bad[i].text, err, sizeof(err)) < 0);
		assert_string_equal(err, bad[i].err);
		network_done(&n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),	   cmocka_unit_test(test_list),
		cmocka_unit_test(test_render),	   cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_definition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
