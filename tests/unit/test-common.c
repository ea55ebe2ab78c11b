/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>

#include "addr.h"
#include "mac.h"
#include "names.h"

static void test_prefix_parse(void **state)
{
	struct ip_prefix p;
	char buf[IP_PREFIX_STRLEN];

	assert_int_equal(ip_prefix_parse("10.1.2.0/24", &p), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 24);
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), "10.1.2.0/24");
	assert_int_equal(ip_prefix_parse("fd00::/64", &p), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), "fd00::/64");

	static const char *const bad[] = { "", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
					   "10.0.0/24", "10.0.0.0/24x", "/24", "fd00::/129", "x/8", "10.0.0.0/+8" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(ip_prefix_parse(bad[i], &p) < 0);
}

static void test_prefix_math(void **state)
{
	struct ip_prefix a, b;
	union in_addr_union x;
	char buf[64];

	ip_prefix_parse("10.0.0.0/8", &a);
	ip_prefix_parse("10.1.0.0/16", &b);
	assert_true(ip_prefix_overlaps(&a, &b));
	assert_true(ip_prefix_overlaps(&b, &a));
	ip_prefix_parse("11.0.0.0/16", &b);
	assert_false(ip_prefix_overlaps(&a, &b));
	ip_prefix_parse("fd00::/8", &b);
	assert_false(ip_prefix_overlaps(&a, &b));

	ip_prefix_parse("192.168.122.0/24", &a);
	assert_true(ip_prefix_is_masked(&a));
	ip_prefix_first_host(&a, &x);
	assert_string_equal(ip_addr_format(AF_INET, &x, buf, sizeof(buf)), "192.168.122.1");
	ip_prefix_broadcast(&a, &x);
	assert_string_equal(ip_addr_format(AF_INET, &x, buf, sizeof(buf)), "192.168.122.255");
	ip_prefix_parse("192.168.122.7/24", &a);
	assert_false(ip_prefix_is_masked(&a));
	ip_prefix_mask(&a);
	assert_string_equal(ip_prefix_format(&a, buf, sizeof(buf)), "192.168.122.0/24");
	ip_prefix_parse("10.0.0.0/20", &a);
	ip_addr_parse("10.0.15.255", &(int){ 0 }, &x);
	assert_true(ip_prefix_contains(&a, AF_INET, &x));
	ip_addr_parse("10.0.16.0", &(int){ 0 }, &x);
	assert_false(ip_prefix_contains(&a, AF_INET, &x));
}

static void test_mac(void **state)
{
	struct mac m;
	char buf[MAC_STRLEN];

	assert_int_equal(mac_parse("52:54:00:AB:cd:0f", &m), 0);
	assert_string_equal(mac_format(&m, buf, sizeof(buf)), "52:54:00:ab:cd:0f");
	assert_false(mac_is_multicast(&m));
	assert_true(mac_parse("52:54:00:ab:cd", &m) < 0);
	assert_true(mac_parse("52-54-00-ab-cd-0f", &m) < 0);
	assert_true(mac_parse("52:54:00:ab:cd:0g", &m) < 0);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(mac_random(&m), 0);
		assert_false(mac_is_multicast(&m));
		assert_true(m.b[0] & 2);
		assert_false(mac_is_zero(&m));
	}
}

static void test_names(void **state)
{
	assert_true(object_name_valid("default"));
	assert_true(object_name_valid("lab-1_a"));
	assert_true(object_name_valid("0"));
	assert_false(object_name_valid(""));
	assert_false(object_name_valid("-lab"));
	assert_false(object_name_valid("la b"));
	assert_false(object_name_valid("lab\n"));
	assert_false(object_name_valid("lab/x"));
	assert_false(object_name_valid("a234567890123456789012345678901234"));
	assert_true(ifname_valid("virbr0"));
	assert_true(ifname_valid("br-lan.10"));
	assert_true(ifname_valid("a23456789012345"));
	assert_false(ifname_valid("a234567890123456"));
	assert_false(ifname_valid(".."));
	assert_false(ifname_valid("br 0"));
	assert_false(ifname_valid("br:0"));
	assert_false(ifname_valid("br/0"));
	assert_false(ifname_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_prefix_math),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
