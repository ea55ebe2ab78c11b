/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netd's EVPN settings (network/evpn.c): the command line over netd.conf's [evpn], and refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "daemon.h"
#include "macro.h"

static struct daemon_evpn cmdline(const char *vtep, unsigned given)
{
	struct daemon_evpn e = { .asn = FRR_ASN_DEFAULT, .given = given };

	if (vtep) {
		assert_int_equal(ip_addr_parse(vtep, &e.vtep_family, &e.vtep), 0);
		e.given |= EVPN_GIVEN_VTEP;
	}
	return e;
}

static void test_defaults(void **state)
{
	struct daemon_evpn c = cmdline(NULL, 0), e;
	char err[512];

	assert_int_equal(daemon_evpn_merge(&c, NULL, "netd.conf", &e, err, sizeof(err)), 0);
	assert_int_equal(e.vtep_family, 0);
	assert_int_equal(e.asn, 65000);
	assert_string_equal(e.vtysh, NETD_VTYSH_DEFAULT);
	assert_string_equal(e.frr_reload, NETD_FRR_RELOAD_DEFAULT);
}

static void test_file(void **state)
{
	struct daemon_evpn c = cmdline(NULL, 0), e;
	char err[512], a[64];

	assert_int_equal(
		daemon_evpn_merge(&c,
				  "# netd's own\n[evpn]\nvtep = 192.0.2.2\npeers = 192.0.2.1, 192.0.2.9\n"
				  "reflector = yes\nasn = 4200000000\n",
				  "netd.conf", &e, err, sizeof(err)),
		-EINVAL); /* a space after the comma */
	assert_non_null(strstr(err, "netd.conf: line 4: invalid peers"));
	assert_int_equal(
		daemon_evpn_merge(&c,
				  "[evpn]\nvtep = 192.0.2.2\npeers = 192.0.2.1,192.0.2.9\nreflector = yes\n"
				  "asn = 4200000000\n",
				  "netd.conf", &e, err, sizeof(err)),
		0);
	assert_string_equal(ip_addr_format(e.vtep_family, &e.vtep, a, sizeof(a)), "192.0.2.2");
	assert_int_equal(e.n_peers, 2);
	assert_true(e.reflector);
	assert_int_equal(e.asn, 4200000000u);
}

/* What the command line gave wins; the rest comes from the file. */
static void test_cmdline_wins(void **state)
{
	struct daemon_evpn c = cmdline("192.0.2.3", EVPN_GIVEN_ASN), e;
	char err[512], a[64];

	c.asn = 65010;
	assert_int_equal(frr_peers_parse("192.0.2.7", c.peers, FRR_PEERS_MAX, err, sizeof(err)), 1);
	c.n_peers = 1;
	c.given |= EVPN_GIVEN_PEERS;
	assert_int_equal(daemon_evpn_merge(
				 &c,
				 "[evpn]\nvtep = 192.0.2.2\npeers = 192.0.2.1\nasn = 65001\nreflector = no\n",
				 "netd.conf", &e, err, sizeof(err)),
			 0);
	assert_string_equal(ip_addr_format(e.vtep_family, &e.vtep, a, sizeof(a)), "192.0.2.3");
	assert_int_equal(e.n_peers, 1);
	assert_string_equal(ip_addr_format(e.peers[0].family, &e.peers[0].addr, a, sizeof(a)), "192.0.2.7");
	assert_int_equal(e.asn, 65010);
	assert_false(e.reflector);
}

static void test_refused(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "[evpn]\nasn = 0\n", "netd.conf: line 2: invalid asn '0'" },
		{ "[evpn]\nasn = 4294967296\n", "invalid asn '4294967296'" },
		{ "[evpn]\nasn = 65000 ; comment\nvtep = x\n", "line 3: invalid vtep 'x'" },
		{ "[evpn]\nreflector = maybe\n", "invalid reflector 'maybe'" },
		{ "[evpn]\nvtep = 127.0.0.1\n", "invalid vtep '127.0.0.1'" },
		{ "[evpn]\nvtpe = 192.0.2.1\n", "unknown key 'vtpe'" },
		{ "[bgp]\nasn = 1\n", "unknown section [bgp]" },
		{ "asn = 1\n", "unknown section []" },
		{ "[evpn]\npeers = 192.0.2.1\n", "--evpn-peers needs a VTEP" },
		{ "[evpn]\nreflector = yes\n", "--evpn-reflector needs a VTEP" },
		{ "[evpn]\nvtep = 192.0.2.1\npeers = 2001:db8::1\n", "not of the VTEP's address family" },
		{ "[evpn]\nvtep = 192.0.2.1\npeers = 192.0.2.1\n", "this host's own VTEP" },
		{ "[evpn\n", "line 1: syntax error" },
	};
	struct daemon_evpn c = cmdline(NULL, 0), e = { .asn = 7 };
	char err[512];

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		err[0] = 0;
		assert_int_equal(daemon_evpn_merge(&c, bad[i].text, "netd.conf", &e, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, bad[i].want))
			fail_msg("'%s': expected '%s' in '%s'", bad[i].text, bad[i].want, err);
		assert_int_equal(e.asn, 7); /* untouched */
	}
}

static void test_pathspace(void **state)
{
	assert_true(daemon_frr_pathspace_valid("netdt-123-h1"));
	assert_true(daemon_frr_pathspace_valid("a.b_c"));
	assert_false(daemon_frr_pathspace_valid(""));
	assert_false(daemon_frr_pathspace_valid("."));
	assert_false(daemon_frr_pathspace_valid(".."));
	assert_false(daemon_frr_pathspace_valid("../x"));
	assert_false(daemon_frr_pathspace_valid("a/b"));
	assert_false(daemon_frr_pathspace_valid("-N"));
	assert_false(daemon_frr_pathspace_valid("a b"));
	assert_false(daemon_frr_pathspace_valid(
		"0123456789012345678901234567890123456789012345678901234567890123x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),     cmocka_unit_test(test_file),
		cmocka_unit_test(test_cmdline_wins), cmocka_unit_test(test_refused),
		cmocka_unit_test(test_pathspace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
