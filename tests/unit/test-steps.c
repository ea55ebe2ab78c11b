/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The link plan engine on the fake kernel: what a failure does in each mode, bursts, names, phases. */
#include "golden.h"

#include <errno.h>

#include "link.h"
#include "macro.h"
#include "steps.h"

static const char *const phases[] = { "one", "two" };

static struct link_step *push(struct link_plan *p, enum link_step_type type, const char *ifname)
{
	struct link_step *s = link_plan_push(p, type, ifname, 0);

	assert_non_null(s);
	return s;
}

static void push_addr(struct link_plan *p, enum link_step_type type, const char *ifname, const char *prefix)
{
	assert_int_equal(ip_prefix_parse(prefix, &push(p, type, ifname)->addr.prefix), 0);
}

/* A bridge made and configured by the plan, then eth0 (by name) changed. */
static void plan_bridge(struct link_plan *p)
{
	struct link_step *s = push(p, LINK_STEP_BRIDGE_ADD, "br9");

	assert_int_equal(mac_parse("52:54:00:00:00:09", &s->mac), 0);
	snprintf(s->alias, sizeof(s->alias), "test");
	push_addr(p, LINK_STEP_ADDR_ADD, "br9", "10.9.0.1/24");
	push(p, LINK_STEP_LINK_UP, "br9");
	s = push(p, LINK_STEP_LINK_SET_MTU, "eth0");
	s->mtu = 9000;
	s->old_mtu = 1500;
}

/* Steps that find nothing to act on, then two that fail for real. */
static void plan_already_so(struct link_plan *p)
{
	push_addr(p, LINK_STEP_ADDR_DEL, "eth0", "10.9.0.2/24"); /* not there */
	push(p, LINK_STEP_LINK_DEL, "gone0"); /* no such link: ENODEV */
	push(p, LINK_STEP_LINK_UP, "eth0");
	push(p, LINK_STEP_LINK_UP, "eth0");
}

/* A burst with a step on a link that does not exist. */
static void plan_burst(struct link_plan *p)
{
	push(p, LINK_STEP_BURST_BEGIN, "");
	push(p, LINK_STEP_LINK_UP, "eth9");
	push(p, LINK_STEP_LINK_UP, "eth0");
	push(p, LINK_STEP_BURST_END, "");
	push(p, LINK_STEP_LINK_DEL, "eth0");
}

struct lab {
	struct link_fake *fake;
	struct link_backend be;
	int eth0;
};

static void lab_new(struct lab *l)
{
	assert_int_equal(link_fake_new(&l->fake, &l->be), 0);
	assert_int_equal(link_fake_add_link(l->fake, "eth0", "veth", &l->eth0), 0);
}

/* What a failure does under each policy: the result, the message and what the fake kernel was asked. */
static void test_failures(void **state)
{
	static const struct {
		enum link_plan_on_failure on_failure;
		void (*plan)(struct link_plan *p);
		unsigned fail_at; /* or every call of fail_op */
		const char *fail_op;
		int error;
		const char *message, *log;
	} cases[] = {
		/* The failed step is not undone, the others are, in reverse. */
		{ LINK_PLAN_UNDO, plan_bridge, 4, NULL, -EBUSY,
		  "link-set-mtu eth0 9000 failed: Device or resource busy",
		  "bridge_add name=br9 mac=52:54:00:00:00:09 mtu=0 alias=test\n"
		  "addr_add br9 10.9.0.1/24\n"
		  "link_set_up br9 up\n"
		  "link_set_mtu FAILED Device or resource busy\n"
		  "link_set_up br9 down\n"
		  "addr_del br9 10.9.0.1/24\n"
		  "link_del br9\n" },
		/* Nothing undone: the caller has its own way back. */
		{ LINK_PLAN_STOP, plan_bridge, 2, NULL, -EBUSY,
		  "addr-add br9 10.9.0.1/24 failed: Device or resource busy",
		  "bridge_add name=br9 mac=52:54:00:00:00:09 mtu=0 alias=test\n"
		  "addr_add FAILED Device or resource busy\n" },
		/* "Already so" is no error; every step is tried, the first other error returned. */
		{ LINK_PLAN_BEST_EFFORT, plan_already_so, 0, "link_set_up", -EPERM,
		  "link-up eth0 failed: Operation not permitted",
		  "link_set_up FAILED Operation not permitted\n"
		  "link_set_up FAILED Operation not permitted\n" },
		/* The burst is sent to its end all the same, then the plan stops. */
		{ LINK_PLAN_STOP, plan_burst, 0, NULL, -ENODEV, "link-up eth9 failed: No such device",
		  "batch_begin\nlink_set_up eth0 up\nbatch_commit\n" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct link_plan p = { .on_failure = cases[i].on_failure };
		struct lab l;
		char err[512] = "";

		lab_new(&l);
		cases[i].plan(&p);
		if (cases[i].fail_at)
			link_fake_fail_at(l.fake, cases[i].fail_at, -cases[i].error);
		if (cases[i].fail_op)
			link_fake_fail_op(l.fake, cases[i].fail_op, -cases[i].error);
		assert_int_equal(link_plan_apply(&p, &l.be, NULL, NULL, err, sizeof(err)), cases[i].error);
		assert_string_equal(err, cases[i].message);
		assert_string_equal(link_fake_log(l.fake), cases[i].log);
		link_plan_free(&p);
		link_fake_free(l.fake);
	}
}

struct phase_log {
	char text[64];
	int fail_at;
};

static int on_phase(unsigned phase, void *userdata)
{
	struct phase_log *pl = userdata;

	snprintf(pl->text + strlen(pl->text), sizeof(pl->text) - strlen(pl->text), "%s;", phases[phase]);
	return (int)phase == pl->fail_at ? -ECANCELED : 0;
}

static void test_phases(void **state)
{
	struct link_plan p = { .on_failure = LINK_PLAN_STOP, .phase_names = phases };
	struct phase_log pl = { .fail_at = -1 };
	struct lab l;
	char err[512] = "", *text;

	lab_new(&l);
	push(&p, LINK_STEP_LINK_UP, "eth0");
	push(&p, LINK_STEP_LINK_UP, "eth0");
	p.phase = 1;
	push(&p, LINK_STEP_LINK_DEL, "eth0");
	text = link_plan_format(&p);
	assert_string_equal(text, "[one]\n  link-up eth0\n  link-up eth0\n[two]\n  link-del eth0\n");
	free(text);
	/* A phase call that fails stops the plan before the phase's first step. */
	pl.fail_at = 1;
	assert_int_equal(link_plan_apply(&p, &l.be, on_phase, &pl, err, sizeof(err)), -ECANCELED);
	assert_string_equal(pl.text, "one;two;");
	assert_string_equal(link_fake_log(l.fake), "link_set_up eth0 up\nlink_set_up eth0 up\n");
	link_plan_free(&p);
	link_fake_free(l.fake);
}

static void test_format(void **state)
{
	struct link_plan p = {};
	struct link_step *s;
	char *text;

	plan_bridge(&p);
	push_addr(&p, LINK_STEP_ADDR_DEL, "br9", "10.9.0.1/24");
	s = push(&p, LINK_STEP_ADDR_REPLACE, "br9");
	assert_int_equal(ip_prefix_parse("2001:db8::1/64", &s->addr.prefix), 0);
	s->addr.valid_lft = s->addr.preferred_lft = LINK_LFT_FOREVER;
	s = push(&p, LINK_STEP_PORT_ATTACH, "eth0");
	snprintf(s->master, sizeof(s->master), "br9");
	s = push(&p, LINK_STEP_SYSCTL_SET, "br9");
	s->family = AF_INET;
	snprintf(s->key, sizeof(s->key), "rp_filter");
	snprintf(s->value, sizeof(s->value), "2");
	text = link_plan_format(&p);
	assert_string_equal(
		text, "bridge-add br9 mac=52:54:00:00:00:09 mtu=0 stp=off forward_delay=0 alias=test\n"
		      "addr-add br9 10.9.0.1/24\n"
		      "link-up br9\n"
		      "link-set-mtu eth0 9000\n"
		      "addr-del br9 10.9.0.1/24\n"
		      "addr-replace br9 2001:db8::1/64 scope 0 flags 0x0 valid forever preferred forever\n"
		      "port-attach eth0 master br9\n"
		      "sysctl net.ipv4.conf.br9.rp_filter=2\n");
	free(text);
	link_plan_free(&p);
	text = link_plan_format(&p);
	assert_string_equal(text, "");
	free(text);
}

static void test_names(void **state)
{
	for (int t = 0; t < _LINK_STEP_MAX; t++)
		assert_non_null(link_step_type_to_string(t));
	assert_null(link_step_type_to_string(_LINK_STEP_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_phases),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
