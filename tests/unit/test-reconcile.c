/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "golden.h"

#include <errno.h>
#include <poll.h>

#include "link.h"
#include "reconcile.h"

static struct desired_bridge want(const char *owner, const char *ifname, const char *addr)
{
	struct desired_bridge w = { .n_addrs = 1 };

	snprintf(w.owner, sizeof(w.owner), "netd:%s", owner);
	snprintf(w.ifname, sizeof(w.ifname), "%s", ifname);
	assert_int_equal(mac_parse("52:54:00:aa:bb:01", &w.mac), 0);
	assert_int_equal(ip_prefix_parse(addr, &w.addrs[0]), 0);
	return w;
}

/* Plan against the fake kernel, apply, return the plan text. */
static char *plan_and_apply(struct link_backend *be, const struct desired_bridge *w, size_t n, const char *scope,
			    int expect)
{
	struct link_dump dump;
	struct link_plan plan;
	char err[512] = "", *text;

	assert_int_equal(be->ops->dump(be->userdata, LINK_DUMP_ALL, &dump), 0);
	assert_int_equal(reconcile_plan(w, n, &dump, scope, &plan), 0);
	link_dump_free(&dump);
	text = link_plan_format(&plan);
	assert_int_equal(link_plan_apply(&plan, be, NULL, NULL, err, sizeof(err)), expect);
	link_plan_free(&plan);
	return text;
}

static void test_create_adopt_delete(void **state)
{
	struct link_fake *fake;
	struct link_backend be;
	struct desired_bridge w = want("lab", "nd-lab", "10.0.0.1/24");
	char *text;

	assert_int_equal(link_fake_new(&fake, &be), 0);
	text = plan_and_apply(&be, &w, 1, "netd:lab", 0);
	assert_golden("plan-create.txt", text);
	free(text);
	assert_golden("fake-create.log", link_fake_log(fake));

	/* The same desired state again: adoption, nothing to do. */
	text = plan_and_apply(&be, &w, 1, "netd:lab", 0);
	assert_string_equal(text, "");
	free(text);

	/* Subnet changed by a reload: the new address goes on before the old one comes off. */
	link_fake_clear_log(fake);
	w = want("lab", "nd-lab", "10.0.1.1/24");
	w.mtu = 9000;
	text = plan_and_apply(&be, &w, 1, "netd:lab", 0);
	assert_golden("plan-change.txt", text);
	free(text);

	/* Stop: nothing wanted in scope, the bridge goes. */
	text = plan_and_apply(&be, NULL, 0, "netd:lab", 0);
	assert_string_equal(text, "link-del nd-lab\n");
	free(text);
	link_fake_free(fake);
}

/* An IPv6 gateway: IPv6 turned on first, the address without DAD; on adoption only a missing
 * address brings the sysctl back. */
static void test_ipv6_gateway(void **state)
{
	struct link_fake *fake;
	struct link_backend be;
	struct desired_bridge w = want("lab", "nd-lab", "10.0.0.1/24"),
			      v6only = want("v6", "nd-v6", "fd00:1::1/64");
	char *text;

	assert_int_equal(ip_prefix_parse("fd00:1:2:3::1/64", &w.addrs[1]), 0);
	w.n_addrs = 2;
	assert_int_equal(link_fake_new(&fake, &be), 0);
	text = plan_and_apply(&be, &w, 1, "netd:lab", 0);
	assert_string_equal(
		text, "bridge-add nd-lab mac=52:54:00:aa:bb:01 mtu=0 stp=off forward_delay=0 alias=netd:lab\n"
		      "addr-add nd-lab 10.0.0.1/24\n"
		      "sysctl net.ipv6.conf.nd-lab.disable_ipv6=0\n"
		      "addr-add nd-lab fd00:1:2:3::1/64 scope 0 flags 0x2 valid forever preferred forever\n"
		      "link-up nd-lab\n");
	free(text);
	text = plan_and_apply(&be, &w, 1, "netd:lab", 0);
	assert_string_equal(text, ""); /* adopted as it is */
	free(text);
	/* A new prefix: the new address (after the sysctl) before the old one goes. */
	assert_int_equal(ip_prefix_parse("fd00:1:2:4::1/64", &w.addrs[1]), 0);
	text = plan_and_apply(&be, &w, 1, "netd:lab", 0);
	assert_string_equal(
		text, "sysctl net.ipv6.conf.nd-lab.disable_ipv6=0\n"
		      "addr-add nd-lab fd00:1:2:4::1/64 scope 0 flags 0x2 valid forever preferred forever\n"
		      "addr-del nd-lab fd00:1:2:3::1/64\n");
	free(text);
	/* IPv6 only. */
	text = plan_and_apply(&be, &v6only, 1, "netd:v6", 0);
	assert_non_null(strstr(
		text,
		"sysctl net.ipv6.conf.nd-v6.disable_ipv6=0\naddr-add nd-v6 fd00:1::1/64 scope 0 flags 0x2 valid forever preferred forever\n"));
	assert_null(strstr(text, "10.0.0.1"));
	free(text);
	link_fake_free(fake);
}

/* STP on request: made with it, changed in place on a redefinition (off before the delay goes to 0,
 * as the kernel wants), kept on adoption, and a failed change undone. */
static void test_stp(void **state)
{
	struct link_fake *fake;
	struct link_backend be;
	struct desired_bridge w = want("lab", "nd-lab", "10.0.0.1/24");
	struct link_dump dump;
	const struct link_info *l;
	char *text;

	w.stp = true;
	w.forward_delay = 4;
	assert_int_equal(link_fake_new(&fake, &be), 0);
	text = plan_and_apply(&be, &w, 1, "netd:lab", 0);
	assert_string_equal(
		text, "bridge-add nd-lab mac=52:54:00:aa:bb:01 mtu=0 stp=on forward_delay=4 alias=netd:lab\n"
		      "addr-add nd-lab 10.0.0.1/24\n"
		      "link-up nd-lab\n");
	free(text);
	assert_non_null(strstr(link_fake_log(fake), "alias=netd:lab stp=on forward_delay=4\n"));
	/* adopted as it is (a netd restart) */
	text = plan_and_apply(&be, &w, 1, "netd:lab", 0);
	assert_string_equal(text, "");
	free(text);
	/* a new delay */
	w.forward_delay = 20;
	text = plan_and_apply(&be, &w, 1, "netd:lab", 0);
	assert_string_equal(text, "bridge-set-stp nd-lab stp=on forward_delay=20\n");
	free(text);
	/* off: the delay goes back to 0 with it */
	w.stp = false;
	w.forward_delay = 0;
	text = plan_and_apply(&be, &w, 1, "netd:lab", 0);
	assert_string_equal(text, "bridge-set-stp nd-lab stp=off forward_delay=0\n");
	free(text);
	/* on again, and a failure after it: the undo puts off back */
	w.stp = true;
	w.forward_delay = 15;
	w.mtu = 9000;
	link_fake_clear_log(fake);
	link_fake_fail_op(fake, "link_set_mtu", EINVAL);
	free(plan_and_apply(&be, &w, 1, "netd:lab", -EINVAL));
	assert_string_equal(link_fake_log(fake), "link_set_mtu FAILED Invalid argument\n");
	link_fake_fail_op(fake, NULL, 0);
	w.mtu = 0;
	link_fake_clear_log(fake);
	link_fake_fail_op(fake, "addr_add", EBUSY);
	assert_int_equal(ip_prefix_parse("10.0.9.1/24", &w.addrs[0]), 0);
	free(plan_and_apply(&be, &w, 1, "netd:lab", -EBUSY));
	assert_string_equal(link_fake_log(fake), "bridge_set_stp nd-lab stp=on forward_delay=15\n"
						 "addr_add FAILED Device or resource busy\n"
						 "bridge_set_stp nd-lab stp=off forward_delay=0\n");
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);
	l = link_dump_find_name(&dump, "nd-lab");
	assert_non_null(l);
	assert_int_equal(l->stp_state, 0);
	assert_int_equal(l->forward_delay, 0);
	link_dump_free(&dump);
	/* a forward delay learnt from a BPDU (250 s, out of the settable range): the undo of a failed
	 * change sets 30 s, not 250 (which the kernel would refuse, leaving the change in place) */
	link_fake_fail_op(fake, NULL, 0);
	assert_int_equal(ip_prefix_parse("10.0.0.1/24", &w.addrs[0]), 0);
	free(plan_and_apply(&be, &w, 1, "netd:lab", 0));
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);
	l = link_dump_find_name(&dump, "nd-lab");
	assert_non_null(l);
	assert_int_equal(link_fake_set_forward_delay(fake, l->ifindex, 25000), 0);
	link_dump_free(&dump);
	w.forward_delay = 10;
	assert_int_equal(ip_prefix_parse("10.0.9.1/24", &w.addrs[0]), 0);
	link_fake_clear_log(fake);
	link_fake_fail_op(fake, "addr_add", EBUSY);
	free(plan_and_apply(&be, &w, 1, "netd:lab", -EBUSY));
	assert_string_equal(link_fake_log(fake), "bridge_set_stp nd-lab stp=on forward_delay=10\n"
						 "addr_add FAILED Device or resource busy\n"
						 "bridge_set_stp nd-lab stp=on forward_delay=30\n");
	link_fake_fail_op(fake, NULL, 0);
	link_fake_free(fake);
}

static void test_foreign_links_untouched(void **state)
{
	struct link_fake *fake;
	struct link_backend be;
	char *text;
	int idx;

	assert_int_equal(link_fake_new(&fake, &be), 0);
	assert_int_equal(link_fake_add_link(fake, "br-user", "bridge", &idx), 0);
	assert_int_equal(link_fake_add_link(fake, "eth0", "veth", &idx), 0);
	text = plan_and_apply(&be, NULL, 0, NULL, 0);
	assert_string_equal(text, ""); /* an unscoped prune deletes only bridges netd tagged */
	free(text);
	link_fake_free(fake);
}

static void test_prune_orphans(void **state)
{
	struct link_fake *fake;
	struct link_backend be;
	struct desired_bridge a = want("a", "nd-a", "10.0.0.1/24"), b = want("b", "nd-b", "10.0.1.1/24");
	struct desired_bridge both[] = { a, b };
	char *text;

	assert_int_equal(link_fake_new(&fake, &be), 0);
	free(plan_and_apply(&be, both, 2, NULL, 0));
	text = plan_and_apply(&be, &a, 1, NULL, 0);
	assert_string_equal(text, "link-del nd-b\n");
	free(text);
	link_fake_free(fake);
}

/* A failure at every step of a create leaves the fake kernel as it was. */
static void test_rollback_every_step(void **state)
{
	for (unsigned step = 1; step <= 3; step++) {
		struct link_fake *fake;
		struct link_backend be;
		struct desired_bridge w = want("lab", "nd-lab", "10.0.0.1/24");
		struct link_dump dump;
		char name[64];

		assert_int_equal(link_fake_new(&fake, &be), 0);
		link_fake_fail_at(fake, step, EBUSY);
		free(plan_and_apply(&be, &w, 1, "netd:lab", -EBUSY));
		snprintf(name, sizeof(name), "rollback-step%u.log", step);
		assert_golden(name, link_fake_log(fake));
		assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);
		assert_int_equal(dump.n_links, 1); /* only lo */
		assert_int_equal(dump.n_addrs, 0);
		link_dump_free(&dump);
		link_fake_free(fake);
	}
}

static void test_error_message(void **state)
{
	struct link_fake *fake;
	struct link_backend be;
	struct desired_bridge w = want("lab", "nd-lab", "10.0.0.1/24");
	struct link_dump dump;
	struct link_plan plan;
	char err[512];

	assert_int_equal(link_fake_new(&fake, &be), 0);
	link_fake_fail_op(fake, "addr_add", EADDRNOTAVAIL);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_ALL, &dump), 0);
	assert_int_equal(reconcile_plan(&w, 1, &dump, NULL, &plan), 0);
	assert_int_equal(link_plan_apply(&plan, &be, NULL, NULL, err, sizeof(err)), -EADDRNOTAVAIL);
	assert_string_equal(err, "addr-add nd-lab 10.0.0.1/24 failed: Cannot assign requested address");
	link_plan_free(&plan);
	link_dump_free(&dump);
	link_fake_free(fake);
}

static void test_step_names(void **state)
{
	for (int t = 0; t < _LINK_STEP_MAX; t++)
		assert_non_null(link_step_type_to_string(t));
}

/* The fake kernel's change notifications: only what a subscription asked for wakes it up. */
static void test_link_events(void **state)
{
	struct link_backend be;
	struct link_fake *fake;
	unsigned what = 99;
	int fd, other;

	assert_int_equal(link_fake_new(&fake, &be), 0);
	assert_int_equal(be.ops->events_open(be.userdata, LINK_EVENT_ADDRS4 | LINK_EVENT_ROUTES4, &fd), 0);
	assert_int_equal(be.ops->events_open(be.userdata, LINK_EVENT_LINKS, &other), 0);
	assert_int_equal(be.ops->events_read(be.userdata, fd, &what), 0);
	assert_int_equal(what, 0);
	link_fake_notify(fake, LINK_EVENT_LINKS | LINK_EVENT_ADDRS6);
	assert_int_equal(be.ops->events_read(be.userdata, fd, &what), 0);
	assert_int_equal(what, 0);
	link_fake_notify(fake, LINK_EVENT_ROUTES4 | LINK_EVENT_ROUTES6);
	link_fake_notify(fake, LINK_EVENT_ADDRS4);
	assert_true(poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 0) == 1);
	assert_int_equal(be.ops->events_read(be.userdata, fd, &what), 0);
	assert_int_equal(what, LINK_EVENT_ROUTES4 | LINK_EVENT_ADDRS4);
	assert_true(poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 0) == 0);
	link_fake_notify(fake, LINK_EVENT_LOST);
	assert_int_equal(be.ops->events_read(be.userdata, fd, &what), 0);
	assert_int_equal(what, LINK_EVENT_LOST);
	assert_int_equal(be.ops->events_read(be.userdata, other, &what), 0);
	assert_int_equal(what, LINK_EVENT_LINKS | LINK_EVENT_LOST);
	be.ops->events_close(be.userdata, fd);
	assert_int_equal(be.ops->events_read(be.userdata, fd, &what), -EBADF);
	link_fake_free(fake); /* closes the other */
}

/* An indexed dump finds the same links and addresses as a plain one, in the kernel's order per link. */
static void test_dump_index(void **state)
{
	struct link_fake *fake;
	struct link_backend be;
	struct link_dump plain, idx;
	const struct addr_info *a;
	int ifindex[40];
	size_t n;

	assert_int_equal(link_fake_new(&fake, &be), 0);
	for (int i = 39; i >= 0; i--) {
		char name[16], addr[32];

		snprintf(name, sizeof(name), "br%02d", (i * 7) % 40);
		assert_int_equal(link_fake_add_link(fake, name, "bridge", &ifindex[i]), 0);
		snprintf(addr, sizeof(addr), "10.%d.0.1/24", i);
		assert_int_equal(link_fake_add_addr(fake, ifindex[i], addr), 0);
		snprintf(addr, sizeof(addr), "10.%d.0.2/24", i);
		assert_int_equal(link_fake_add_addr(fake, ifindex[i], addr), 0);
	}
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS, &plain), 0);
	assert_int_equal(be.ops->dump(be.userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS, &idx), 0);
	assert_int_equal(link_dump_index(&idx), 0);
	for (int i = 0; i < 40; i++) {
		char name[16], want[32], got[64];

		snprintf(name, sizeof(name), "br%02d", (i * 7) % 40);
		assert_int_equal(link_dump_find_name(&idx, name)->ifindex,
				 link_dump_find_name(&plain, name)->ifindex);
		assert_string_equal(link_dump_find_index(&idx, ifindex[i])->name, name);
		a = link_dump_addrs_of(&idx, ifindex[i], &n);
		assert_int_equal(n, 2);
		snprintf(want, sizeof(want), "10.%d.0.1/24", i);
		assert_string_equal(ip_prefix_format(&a[0].prefix, got, sizeof(got)), want);
		snprintf(want, sizeof(want), "10.%d.0.2/24", i);
		assert_string_equal(ip_prefix_format(&a[1].prefix, got, sizeof(got)), want);
	}
	assert_null(link_dump_find_name(&idx, "nosuch"));
	assert_null(link_dump_find_name(&idx, "br00-much-too-long-a-name"));
	assert_null(link_dump_find_index(&idx, 9999));
	assert_null(link_dump_addrs_of(&idx, 9999, &n));
	assert_int_equal(n, 0);
	assert_null(link_dump_addrs_of(&plain, ifindex[0], &n)); /* not indexed */
	link_dump_free(&plain);
	link_dump_free(&idx);
	link_fake_free(fake);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_adopt_delete), cmocka_unit_test(test_foreign_links_untouched),
		cmocka_unit_test(test_ipv6_gateway),	    cmocka_unit_test(test_prune_orphans),
		cmocka_unit_test(test_rollback_every_step), cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_step_names),	    cmocka_unit_test(test_link_events),
		cmocka_unit_test(test_dump_index),	    cmocka_unit_test(test_stp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
