/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control socket's limits (control-limits.c): who is admitted, which deadline applies, the
 * output queue, a monitor's bound and the rate limit of repeated complaints; the method tables'
 * declared privileges and their one check (control.c's method_call). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <stdlib.h>

#include "control-limits.h"
#include "daemon.h"

#define SEC CONTROL_USEC_PER_SEC

static void test_admit(void **state)
{
	assert_true(control_admit(1000, 0));
	assert_true(control_admit(1000, CONTROL_CLIENTS_MAX - 1));
	assert_false(control_admit(1000, CONTROL_CLIENTS_MAX));
	/* root (dnsmasq's lease helper) is never refused for the others' connections */
	assert_true(control_admit(0, CONTROL_CLIENTS_MAX));
	assert_true(control_admit(0, 100000));
}

static void test_deadline(void **state)
{
	struct control_conn c = { .progress = 100 * SEC, .partial_since = 130 * SEC };
	uint64_t t = 0;

	/* nothing asked, nothing pending: idle */
	assert_int_equal(control_conn_deadline(&c, &t), CONTROL_DEADLINE_IDLE);
	assert_true(t == 100 * SEC + CONTROL_IDLE_TIMEOUT_USEC);
	/* half a request: counted from its first byte, not the last (no trickling) */
	c.partial = true;
	assert_int_equal(control_conn_deadline(&c, &t), CONTROL_DEADLINE_PARTIAL);
	assert_true(t == 130 * SEC + CONTROL_PARTIAL_TIMEOUT_USEC);
	/* a reply not taken yet: reading it (progress) is what counts */
	c.output = true;
	assert_int_equal(control_conn_deadline(&c, &t), CONTROL_DEADLINE_IDLE);
	/* a call in flight (vm shutdown --timeout 600, a monitor) has none */
	c.call = true;
	t = 7;
	assert_int_equal(control_conn_deadline(&c, &t), CONTROL_DEADLINE_NONE);
	assert_true(t == 7);
	/* a monitor that fell behind must read its last lines in time */
	c.overflow = true;
	assert_int_equal(control_conn_deadline(&c, &t), CONTROL_DEADLINE_DRAIN);
	assert_true(t == 100 * SEC + CONTROL_DRAIN_TIMEOUT_USEC);
	c.dead = true;
	assert_int_equal(control_conn_deadline(&c, &t), CONTROL_DEADLINE_CLOSE);
	assert_true(t == 0);

	for (int i = 0; i < _CONTROL_DEADLINE_MAX; i++)
		assert_non_null(control_deadline_to_string(i));
	assert_null(control_deadline_to_string(_CONTROL_DEADLINE_MAX));
	assert_string_equal(control_deadline_to_string(CONTROL_DEADLINE_PARTIAL), "partial");
}

static void test_outq(void **state)
{
	struct outq q = {};
	size_t big = 3 * 1024 * 1024 + 17;
	char *reply = malloc(big);

	assert_int_equal(outq_pending(&q), 0);
	assert_int_equal(outq_appendv(&q, (struct iovec[]){ { "{\"a\":1}", 7 }, { "\n", 1 } }, 2), 0);
	assert_int_equal(outq_pending(&q), 8);
	outq_consume(&q, 3);
	assert_int_equal(outq_pending(&q), 5);
	assert_memory_equal(outq_head(&q), "\":1}\n", 5);
	/* a large reply is queued whole, behind what is left */
	assert_non_null(reply);
	memset(reply, 'x', big);
	assert_int_equal(outq_appendv(&q, (struct iovec[]){ { reply, big }, { "\n", 1 } }, 2), 0);
	assert_int_equal(outq_pending(&q), 5 + big + 1);
	assert_memory_equal(outq_head(&q), "\":1}\nx", 6);
	outq_consume(&q, 5 + big);
	assert_int_equal(outq_pending(&q), 1);
	assert_memory_equal(outq_head(&q), "\n", 1);
	/* consumed to the end: the memory goes back */
	outq_consume(&q, 10);
	assert_int_equal(outq_pending(&q), 0);
	assert_null(q.data);
	assert_int_equal(q.cap, 0);
	/* space at the front is reused before growing */
	assert_int_equal(outq_appendv(&q, (struct iovec[]){ { reply, 4000 } }, 1), 0);
	outq_consume(&q, 3000);
	assert_int_equal(outq_appendv(&q, (struct iovec[]){ { "y", 1 } }, 1), 0);
	assert_int_equal(q.cap, 4096);
	assert_int_equal(outq_pending(&q), 1001);
	assert_memory_equal(outq_head(&q) + 1000, "y", 1);
	outq_free(&q);
	outq_free(&q);
	free(reply);
}

static void test_monitor_fits(void **state)
{
	assert_true(control_monitor_fits(0, 200));
	assert_true(control_monitor_fits(CONTROL_MONITOR_QUEUE_MAX - 200, 200));
	assert_false(control_monitor_fits(CONTROL_MONITOR_QUEUE_MAX - 199, 200));
	assert_false(control_monitor_fits(0, CONTROL_MONITOR_QUEUE_MAX + 1));
	assert_false(control_monitor_fits(SIZE_MAX, 2));
}

static void test_ratelimit(void **state)
{
	struct control_ratelimit rl = {};
	unsigned more = 99;

	/* the first of a burst is logged, even at time 0 */
	assert_true(control_ratelimit_check(&rl, 0, &more));
	assert_int_equal(more, 0);
	for (int i = 0; i < 1099; i++)
		assert_false(control_ratelimit_check(&rl, i * 1000, &more));
	assert_false(control_ratelimit_check(&rl, CONTROL_LOG_INTERVAL_USEC - 1, &more));
	assert_true(control_ratelimit_check(&rl, CONTROL_LOG_INTERVAL_USEC, &more));
	assert_int_equal(more, 1100);
	assert_true(control_ratelimit_check(&rl, 10 * CONTROL_LOG_INTERVAL_USEC, &more));
	assert_int_equal(more, 0);
}

static bool method_reads(const char *name)
{
	static const char *const suffixes[] = { ".list", ".show", ".status", ".leases", ".doctor" };
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (len > strlen(suffixes[i]) && !strcmp(name + len - strlen(suffixes[i]), suffixes[i]))
			return true;
	return false;
}

/* Every method of every area is found by its name, and what it declares fits what it is called. */
static void test_method_tables(void **state)
{
	const struct method_area *areas[] = { &network_methods, &guest_methods, &uplink_methods,
					      &daemon_methods, &doctor_methods };
	size_t total = 0;

	for (size_t a = 0; a < sizeof(areas) / sizeof(areas[0]); a++)
		for (size_t i = 0; i < areas[a]->n; i++) {
			const struct method *m = &areas[a]->methods[i];

			assert_ptr_equal(method_find(m->name), m); /* a name in two tables is found once */
			assert_non_null(m->fn);
			if (method_reads(m->name))
				assert_int_equal(m->flags & (METHOD_CHANGE | METHOD_ROOT), 0);
			else if (strcmp(m->name, "daemon.monitor"))
				assert_true(m->flags & METHOD_CHANGE);
			total++;
		}
	assert_true(total >= 28); /* as many as before the tables */
	assert_null(method_find("network.nope"));
	assert_true(method_find("lease.event")->flags & METHOD_ROOT);
	assert_int_equal(method_find("network.create")->flags & METHOD_ROOT, 0);
	assert_int_equal(method_find("network.doctor")->flags & (METHOD_CHANGE | METHOD_ROOT), 0); /* operators */
}

/* A root-only method from an operator: refused before the method runs, with one message. */
static void test_method_root_only(void **state)
{
	struct daemon d = {};
	struct call call = { .uid = 1000 };

	assert_int_equal(method_call(&d, method_find("lease.event"), &call, NULL), -EPERM);
	assert_string_equal(call.err, "'lease.event' is accepted from root only (uid 1000 asked)");
}

/* A reply past CONTROL_REPLY_MAX goes out as an EMSGSIZE error; one at the bound goes out. */
static json_object *grabbed;

static void grab(struct call *call, json_object *reply)
{
	grabbed = json_object_get(reply);
}

static void reply_of(size_t len)
{
	struct call *call = calloc(1, sizeof(*call));
	json_object *o = json_object_new_object();
	char *big = malloc(len + 1);

	assert_non_null(call);
	memset(big, '/', len); /* not escaped in replies */
	big[len] = 0;
	json_object_object_add(o, "data", json_object_new_string(big));
	free(big);
	call->on_reply = grab;
	json_object_put(grabbed);
	grabbed = NULL;
	call_reply(call, o);
	assert_non_null(grabbed);
}

static void test_reply_max(void **state)
{
	const size_t frame = strlen("{\"ok\":true,\"result\":{\"data\":\"\"}}");

	assert_true(control_reply_fits(CONTROL_REPLY_MAX));
	assert_false(control_reply_fits(CONTROL_REPLY_MAX + 1));
	reply_of(CONTROL_REPLY_MAX - frame);
	assert_true(json_object_get_boolean(json_object_object_get(grabbed, "ok")));
	reply_of(CONTROL_REPLY_MAX - frame + 1);
	assert_false(json_object_get_boolean(json_object_object_get(grabbed, "ok")));
	assert_string_equal(json_object_get_string(json_object_object_get(grabbed, "errno")), "EMSGSIZE");
	json_object_put(grabbed);
	grabbed = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admit),	      cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_outq),	      cmocka_unit_test(test_monitor_fits),
		cmocka_unit_test(test_reply_max),     cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_method_tables), cmocka_unit_test(test_method_root_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
