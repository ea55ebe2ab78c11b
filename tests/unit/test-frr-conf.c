/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* evpn/frr-conf.c: FRR's configuration against golden files (tests/data/frr/), and every setting's
 * refusals. */
#include "golden.h"

#include "frr-conf.h"
#include "macro.h"

static struct frr_conf conf(const char *vtep, const char *peers, bool reflector, const char *range)
{
	struct frr_conf c = { .asn = FRR_ASN_DEFAULT, .reflector = reflector };
	char err[256];

	assert_int_equal(ip_addr_parse(vtep, &c.vtep_family, &c.vtep), 0);
	if (peers) {
		int n = frr_peers_parse(peers, c.peers, FRR_PEERS_MAX, err, sizeof(err));

		assert_true(n > 0);
		c.n_peers = (size_t)n;
	}
	if (range)
		assert_int_equal(ip_prefix_parse(range, &c.listen_range), 0);
	return c;
}

static void render_golden(const char *golden, const struct frr_conf *c)
{
	_cleanup_free_ char *text = NULL;
	char err[256] = "";

	assert_int_equal(frr_conf_render(c, &text, err, sizeof(err)), 0);
	assert_golden(golden, text);
}

static void test_reflector(void **state)
{
	struct frr_conf c = conf("192.0.2.1", NULL, true, "192.0.2.0/24");

	render_golden("frr/reflector.conf", &c);
}

static void test_client(void **state)
{
	struct frr_conf c = conf("192.0.2.2", "192.0.2.1", false, NULL);

	render_golden("frr/client.conf", &c);
	c = conf("192.0.2.2", "192.0.2.1,192.0.2.3", false, NULL);
	c.asn = 4294967295u;
	render_golden("frr/client-two-peers.conf", &c);
}

static void test_reflector_with_peer(void **state)
{
	struct frr_conf c = conf("192.0.2.1", "192.0.2.9", true, "192.0.2.0/24");

	render_golden("frr/reflector-peer.conf", &c);
}

static void test_alone_and_ipv6(void **state)
{
	struct frr_conf c = conf("192.0.2.5", NULL, false, NULL);

	render_golden("frr/alone.conf", &c);
	c = conf("2001:db8::a:1", "2001:db8::a:2", true, "2001:db8::/64");
	render_golden("frr/ipv6.conf", &c);
}

static void test_asn(void **state)
{
	uint32_t v = 7;

	assert_int_equal(frr_asn_parse("1", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(frr_asn_parse("4294967295", &v), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(frr_asn_parse("65000", &v), 0);
	assert_int_equal(v, 65000);
	v = 7;
	assert_int_equal(frr_asn_parse("0", &v), -ERANGE);
	assert_int_equal(frr_asn_parse("4294967296", &v), -ERANGE);
	assert_int_equal(frr_asn_parse("99999999999", &v), -EINVAL);
	assert_int_equal(frr_asn_parse("", &v), -EINVAL);
	assert_int_equal(frr_asn_parse("-1", &v), -EINVAL);
	assert_int_equal(frr_asn_parse("+1", &v), -EINVAL);
	assert_int_equal(frr_asn_parse("065000", &v), -EINVAL);
	assert_int_equal(frr_asn_parse("65000 ", &v), -EINVAL);
	assert_int_equal(frr_asn_parse("1.2", &v), -EINVAL);
	assert_int_equal(frr_asn_parse("0x10", &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void test_peers(void **state)
{
	static const char *const bad[] = { "",
					   ",",
					   "192.0.2.1,",
					   ",192.0.2.1",
					   "192.0.2.1,,192.0.2.2",
					   "192.0.2.1 ",
					   "host.example",
					   "192.0.2.1,192.0.2.1",
					   "127.0.0.1",
					   "0.0.0.0",
					   "224.0.0.5",
					   "255.255.255.255",
					   "fe80::1",
					   "::1",
					   "::",
					   "192.0.2.1\nrouter bgp 1",
					   "192.0.2.0/24",
					   "192.0.2.1;neighbor" };
	struct frr_peer p[FRR_PEERS_MAX];
	char err[256], text[128], many[FRR_PEERS_MAX * 16 + 32] = "";

	assert_int_equal(frr_peers_parse("192.0.2.1,2001:db8::1", p, FRR_PEERS_MAX, err, sizeof(err)), 2);
	assert_int_equal(frr_peers_format(p, 2, text, sizeof(text)), 0);
	assert_string_equal(text, "192.0.2.1,2001:db8::1");
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		err[0] = 0;
		assert_int_equal(frr_peers_parse(bad[i], p, FRR_PEERS_MAX, err, sizeof(err)), -EINVAL);
		assert_true(err[0]);
	}
	for (int i = 0; i <= FRR_PEERS_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s10.0.%d.%d", i ? "," : "",
			 i / 200, i % 200 + 1);
	assert_int_equal(frr_peers_parse(many, p, FRR_PEERS_MAX, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at most"));
}

static void test_validate(void **state)
{
	_cleanup_free_ char *text = NULL;
	struct frr_conf c;
	char err[256];

	c = conf("192.0.2.2", "2001:db8::1", false, NULL);
	assert_int_equal(frr_conf_render(&c, &text, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "address family"));
	c = conf("192.0.2.2", "192.0.2.1,192.0.2.2", false, NULL);
	assert_int_equal(frr_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "own VTEP"));
	c = conf("192.0.2.1", NULL, true, NULL);
	assert_int_equal(frr_conf_validate(&c, err, sizeof(err)), -EINVAL);
	c = conf("192.0.2.1", NULL, true, "198.51.100.0/24");
	assert_int_equal(frr_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "listen range"));
	c = conf("192.0.2.1", NULL, true, "192.0.2.0/24");
	c.asn = 0;
	assert_int_equal(frr_conf_validate(&c, err, sizeof(err)), -EINVAL);
	c = conf("192.0.2.1", NULL, false, NULL);
	c.vtep_family = AF_UNSPEC;
	assert_int_equal(frr_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_null(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reflector),
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_reflector_with_peer),
		cmocka_unit_test(test_alone_and_ipv6),
		cmocka_unit_test(test_asn),
		cmocka_unit_test(test_peers),
		cmocka_unit_test(test_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
