/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control socket's limits (control-limits.c): who is admitted, which deadline applies, the
 * output queue, a monitor's bound and the rate limit of repeated complaints. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <stdlib.h>

#include "control-limits.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admit),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_outq),
		cmocka_unit_test(test_monitor_fits),
		cmocka_unit_test(test_ratelimit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
