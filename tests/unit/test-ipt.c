/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nat/ipt.c: the rules netd puts in Docker's and ufw's chains, and the `iptables -S` listings it
 * reads them back from. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>

#include "ipt.h"
#include "macro.h"

/* As iptables-nft 1.8.9 prints table filter with Docker's and ufw's chains and netd's rules. */
static const char listing_text[] =
	"-P INPUT DROP\n"
	"-P FORWARD DROP\n"
	"-P OUTPUT ACCEPT\n"
	"-N DOCKER-USER\n"
	"-N ufw-user-input\n"
	"-A FORWARD -j DOCKER-USER\n"
	"-A DOCKER-USER -o nd-x -m comment --comment \"netd:nd-x\" -j ACCEPT\n"
	"-A DOCKER-USER -i nd-x -m comment --comment \"netd:nd-x\" -j ACCEPT\n"
	"-A DOCKER-USER -i nd-y -j ACCEPT\n"
	"-A DOCKER-USER -i nd-z -m comment --comment \"netd:nd-z is mine\" -j ACCEPT\n"
	"-A DOCKER-USER -j RETURN\n";

static void test_rules(void **state)
{
	struct ipt_rule r[IPT_RULES_MAX];
	char line[160];

	assert_int_equal(ipt_manager_rules(IPT_DOCKER, AF_INET, r), 4);
	/* Docker's own bridges are Docker's to allow (published ports only): handed back first */
	assert_int_equal(ipt_rule_line(&r[0], "nd-x", true, line, sizeof(line)), 0);
	assert_string_equal(line, "-A DOCKER-USER -i nd-x -o docker0 -m comment --comment netd:nd-x -j RETURN");
	assert_int_equal(ipt_rule_line(&r[1], "nd-x", true, line, sizeof(line)), 0);
	assert_string_equal(line, "-A DOCKER-USER -i nd-x -o br-+ -m comment --comment netd:nd-x -j RETURN");
	assert_int_equal(ipt_rule_line(&r[3], "nd-x", true, line, sizeof(line)), 0);
	assert_string_equal(line, "-A DOCKER-USER -o nd-x -m comment --comment netd:nd-x -j ACCEPT");
	assert_int_equal(ipt_rule_line(&r[2], "nd-x", false, line, sizeof(line)), 0);
	assert_string_equal(line, "-A DOCKER-USER -i nd-x -j ACCEPT");
	assert_int_equal(ipt_manager_rules(IPT_UFW, AF_INET6, r), 3);
	assert_string_equal(r[0].chain, "ufw6-user-input");
	assert_string_equal(r[2].chain, "ufw6-user-forward");
	assert_true(r[2].out);
	assert_string_equal(ipt_manager_chain(IPT_UFW, AF_INET), "ufw-user-input");
	/* a name iptables would read apart is refused, never written */
	assert_int_equal(ipt_rule_line(&r[0], "nd x", true, line, sizeof(line)), -EINVAL);
	assert_int_equal(ipt_rule_line(&r[0], "nd-\"x", true, line, sizeof(line)), -EINVAL);
	assert_int_equal(ipt_rule_line(&r[0], "nd-x", true, line, 10), -ENOBUFS);
}

/* Where netd's rules go: after the others (an admin's deny first), before a last RETURN, counted
 * without netd's own for that bridge. */
static void test_position(void **state)
{
	struct ipt_listing l;

	assert_int_equal(ipt_listing_parse("-N DOCKER-USER\n"
					   "-A DOCKER-USER -i nd-x -d 10.0.0.0/8 -j DROP\n"
					   "-A DOCKER-USER -i nd-x -m comment --comment \"netd:nd-x\" -j ACCEPT\n"
					   "-A DOCKER-USER -i nd-y -m comment --comment \"netd:nd-y\" -j ACCEPT\n"
					   "-A DOCKER-USER -j RETURN\n"
					   "-N ufw-user-forward\n"
					   "-A ufw-user-forward -i nd-x -j DROP\n",
					   &l),
			 0);
	assert_int_equal(ipt_insert_position(&l, "DOCKER-USER", "nd-x"), 3);
	assert_int_equal(ipt_insert_position(&l, "DOCKER-USER", "nd-z"), 4);
	assert_int_equal(ipt_insert_position(&l, "ufw-user-forward", "nd-x"), 2);
	assert_int_equal(ipt_insert_position(&l, "ufw-user-input", "nd-x"), 1);
	ipt_listing_done(&l);
}

static void test_listing(void **state)
{
	struct ipt_listing l;
	struct ipt_rule r[IPT_RULES_MAX];
	char buf[32];

	assert_int_equal(ipt_listing_parse(listing_text, &l), 0);
	assert_int_equal(l.n, 11);
	assert_true(ipt_listing_has_chain(&l, "DOCKER-USER"));
	assert_true(ipt_listing_has_chain(&l, "FORWARD"));
	assert_false(ipt_listing_has_chain(&l, "DOCKER"));
	assert_false(ipt_listing_has_chain(&l, "ufw-user-forward"));
	assert_string_equal(ipt_listing_policy(&l, "FORWARD", buf, sizeof(buf)), "DROP");
	assert_null(ipt_listing_policy(&l, "DOCKER-USER", buf, sizeof(buf)));
	ipt_listing_done(&l);
	/* a policy line cut short (found by fuzz-ipt: read past the line's end) */
	assert_int_equal(ipt_listing_parse("-P FORWARD\n-P INPUT \n", &l), 0);
	assert_null(ipt_listing_policy(&l, "FORWARD", buf, sizeof(buf)));
	assert_null(ipt_listing_policy(&l, "INPUT", buf, sizeof(buf)));
	ipt_listing_done(&l);
	assert_int_equal(ipt_listing_parse(listing_text, &l), 0);
	ipt_manager_rules(IPT_DOCKER, AF_INET, r);
	/* tagged (printed in quotes), as the advice gives it, or not there */
	assert_true(ipt_listing_has_rule(&l, &r[2], "nd-x"));
	assert_true(ipt_listing_has_rule(&l, &r[3], "nd-x"));
	assert_false(ipt_listing_has_rule(&l, &r[0], "nd-x")); /* its RETURN for docker0 is not there */
	assert_true(ipt_listing_has_rule(&l, &r[2], "nd-y"));
	assert_false(ipt_listing_has_rule(&l, &r[3], "nd-y"));
	assert_false(ipt_listing_has_rule(&l, &r[2], "nd-"));
	assert_string_equal(ipt_line_tagged_bridge(l.lines[6], buf, sizeof(buf)), "nd-x");
	assert_null(ipt_line_tagged_bridge(l.lines[8], buf, sizeof(buf)));
	/* a comment with a blank stays quoted: not netd's */
	assert_null(ipt_line_tagged_bridge(l.lines[9], buf, sizeof(buf)));
	assert_null(ipt_line_tagged_bridge("-N netd:x", buf, sizeof(buf)));
	ipt_listing_done(&l);
	assert_int_equal(ipt_listing_parse("", &l), 0);
	assert_int_equal(l.n, 0);
	ipt_listing_done(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_position),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
