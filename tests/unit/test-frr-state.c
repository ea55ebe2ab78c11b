/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* evpn/frr-state.c: vtysh's JSON as FRR 8.4 printed it on this kind of machine (tests/data/frr/,
 * captured from three namespaces with zebra and bgpd each), and what hostile or broken output
 * gives. */
#include "golden.h"

#include "fileio.h"
#include "frr-state.h"
#include "macro.h"

static char *data(const char *name)
{
	char path[512], *text = NULL;

	snprintf(path, sizeof(path), "%s/frr/%s", TEST_DATA_DIR, name);
	assert_int_equal(read_file(path, &text, NULL), 0);
	return text;
}

static const struct frr_bgp_peer *peer(const struct frr_state *s, const char *addr)
{
	char a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < s->n_peers; i++)
		if (!strcmp(ip_addr_format(s->peers[i].family, &s->peers[i].addr, a, sizeof(a)), addr))
			return &s->peers[i];
	return NULL;
}

static void test_reflector(void **state)
{
	_cleanup_free_ char *sum = data("summary-reflector.json"), *vni = data("vni-reflector.json");
	struct frr_state s = {};
	const struct frr_bgp_peer *p;
	char a[INET6_ADDRSTRLEN];

	assert_int_equal(frr_state_parse_summary(sum, strlen(sum), &s), 0);
	assert_true(s.bgp);
	assert_int_equal(s.asn, 65000);
	assert_int_equal(s.n_peers, 2);
	p = peer(&s, "192.0.2.2");
	assert_non_null(p);
	assert_string_equal(p->state, "Established");
	assert_true(frr_bgp_peer_up(p));
	assert_true(p->dynamic);
	assert_int_equal(p->uptime_msec, 7000);
	assert_int_equal(p->established, 1);
	assert_non_null(peer(&s, "192.0.2.3"));
	assert_int_equal(frr_state_parse_vnis(vni, strlen(vni), &s), 0);
	assert_int_equal(s.n_vnis, 1);
	assert_int_equal(s.vnis[0].vni, 100);
	assert_string_equal(s.vnis[0].vxlan_if, "vx100");
	assert_int_equal(s.vnis[0].n_vteps, 1);
	assert_string_equal(ip_addr_format(s.vnis[0].vteps[0].family, &s.vnis[0].vteps[0].addr, a, sizeof(a)),
			    "192.0.2.2");
	frr_state_clear(&s);
}

static void test_client_new_peer(void **state)
{
	_cleanup_free_ char *sum = data("summary-new-peer.json");
	struct frr_state s = {};
	const struct frr_bgp_peer *p;

	assert_int_equal(frr_state_parse_summary(sum, strlen(sum), &s), 0);
	assert_int_equal(s.n_peers, 2);
	p = peer(&s, "192.0.2.1");
	assert_true(frr_bgp_peer_up(p));
	assert_false(p->dynamic);
	assert_int_equal(p->established, 1);
	p = peer(&s, "192.0.2.3");
	assert_string_equal(p->state, "Active");
	assert_false(frr_bgp_peer_up(p));
	assert_int_equal(p->uptime_msec, 0);
	assert_int_equal(p->established, 0);
	frr_state_clear(&s);
}

/* FRR running with nothing configured: "{}" and, from zebra without EVPN, no text at all. */
static void test_empty(void **state)
{
	_cleanup_free_ char *sum = data("summary-no-bgp.json"), *none = data("vni-none.json"),
			    *noevpn = data("vni-no-evpn.json"), *both = data("both-no-bgp.json");
	struct frr_state s = {};

	assert_int_equal(frr_state_parse_summary(sum, strlen(sum), &s), 0);
	assert_false(s.bgp);
	assert_int_equal(s.n_peers, 0);
	assert_int_equal(frr_state_parse_vnis(none, strlen(none), &s), 0);
	assert_int_equal(s.n_vnis, 0);
	assert_int_equal(frr_state_parse_vnis(noevpn, strlen(noevpn), &s), 0);
	assert_int_equal(frr_state_parse(both, strlen(both), &s), 0);
	assert_false(s.bgp);
	frr_state_clear(&s);
}

/* One vtysh with both commands prints both texts one after the other. */
static void test_both(void **state)
{
	_cleanup_free_ char *sum = data("summary-client.json"), *both = data("both-client.json"),
			    *warned = NULL;
	struct frr_state s = {};
	char a[INET6_ADDRSTRLEN];

	assert_int_equal(frr_state_parse(both, strlen(both), &s), 0);
	assert_true(s.bgp);
	assert_int_equal(s.n_peers, 1);
	assert_int_equal(s.peers[0].uptime_msec, 11000);
	frr_state_clear(&s);
	/* vtysh's warning first, as it printed it on stderr without its vtysh.conf */
	free(warned);
	assert_true(asprintf(&warned,
			     "%% Can't open configuration file /etc/frr/x/vtysh.conf due to 'No such file "
			     "or directory'.\n%s",
			     both) > 0);
	assert_int_equal(frr_state_parse(warned, strlen(warned), &s), 0);
	assert_int_equal(s.n_peers, 1);
	assert_int_equal(s.n_vnis, 1);
	assert_int_equal(s.n_vnis, 1);
	assert_string_equal(ip_addr_format(s.vnis[0].vteps[0].family, &s.vnis[0].vteps[0].addr, a, sizeof(a)),
			    "192.0.2.1");
	frr_state_clear(&s);
	assert_int_equal(frr_state_parse(sum, strlen(sum), &s), 0);
	assert_int_equal(s.n_peers, 1);
	assert_int_equal(s.n_vnis, 0);
	frr_state_clear(&s);
}

static void test_hostile(void **state)
{
	static const char *const bad[] = {
		"",	  "not json",
		"[]",	  "\"x\"",
		"{",	  "% Unknown command: show",
		"%\n%\n", "% Can't open configuration file\nExiting: failed to connect to any daemons.\n"
	};
	static const char *const odd =
		"{\"as\":-5,\"peers\":{"
		"\"192.0.2.9\":{\"state\":\"Est\\nablished\"},"
		"\"not-an-address\":{\"state\":\"Established\"},"
		"\"192.0.2.8\":{\"state\":42},"
		"\"192.0.2.7\":[],"
		"\"192.0.2.6\":{\"state\":\"Idle\",\"peerUptimeMsec\":-3,"
		"\"connectionsEstablished\":\"1\"}}}"
		"{\"5\":{\"vni\":0},\"6\":{\"vni\":16777216},\"7\":{\"vni\":\"7\"},"
		"\"8\":{\"vni\":8,\"vxlanIf\":\"a/b\",\"remoteVteps\":[\"192.0.2.1\",5,"
		"\"x\",\"2001:db8::1\"]},\"9\":{\"vni\":9,\"remoteVteps\":{}}}";
	struct frr_state s = {};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_int_equal(frr_state_parse(bad[i], strlen(bad[i]), &s), -EINVAL);
	assert_int_equal(frr_state_parse(odd, strlen(odd), &s), 0);
	assert_int_equal(s.asn, 0);
	assert_int_equal(s.n_peers, 1);
	assert_string_equal(s.peers[0].state, "Idle");
	assert_int_equal(s.peers[0].uptime_msec, 0);
	assert_int_equal(s.peers[0].established, -1);
	assert_int_equal(s.n_vnis, 2);
	assert_int_equal(s.vnis[0].vni, 8);
	assert_string_equal(s.vnis[0].vxlan_if, "");
	assert_int_equal(s.vnis[0].n_vteps, 2);
	assert_int_equal(s.vnis[1].vni, 9);
	assert_int_equal(s.vnis[1].n_vteps, 0);
	/* The VNIs' text is not JSON: an error, the peers kept. */
	assert_int_equal(frr_state_parse("{\"peers\":{}} junk", 17, &s), -EINVAL);
	assert_true(s.bgp);
	frr_state_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reflector), cmocka_unit_test(test_client_new_peer),
		cmocka_unit_test(test_empty),	  cmocka_unit_test(test_both),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
