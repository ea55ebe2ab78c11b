/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "control-limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool control_admit(uid_t uid, unsigned n_unprivileged)
{
	return uid == 0 || n_unprivileged < CONTROL_CLIENTS_MAX;
}

static const char *const deadline_names[_CONTROL_DEADLINE_MAX] = {
	[CONTROL_DEADLINE_NONE] = "none",   [CONTROL_DEADLINE_CLOSE] = "close",
	[CONTROL_DEADLINE_DRAIN] = "drain", [CONTROL_DEADLINE_PARTIAL] = "partial",
	[CONTROL_DEADLINE_IDLE] = "idle",
};

const char *control_deadline_to_string(enum control_deadline d)
{
	return d >= 0 && d < _CONTROL_DEADLINE_MAX ? deadline_names[d] : NULL;
}

enum control_deadline control_conn_deadline(const struct control_conn *c, uint64_t *ret_usec)
{
	if (c->dead) {
		*ret_usec = 0;
		return CONTROL_DEADLINE_CLOSE;
	}
	if (c->overflow) {
		*ret_usec = c->progress + CONTROL_DRAIN_TIMEOUT_USEC;
		return CONTROL_DEADLINE_DRAIN;
	}
	/* A call may last minutes (vm shutdown --timeout 600); a monitor's lasts until it hangs up. */
	if (c->call)
		return CONTROL_DEADLINE_NONE;
	/* A reply being read, however slowly, is progress; a reply not read at all is idleness. */
	if (c->partial && !c->output) {
		*ret_usec = c->partial_since + CONTROL_PARTIAL_TIMEOUT_USEC;
		return CONTROL_DEADLINE_PARTIAL;
	}
	*ret_usec = c->progress + CONTROL_IDLE_TIMEOUT_USEC;
	return CONTROL_DEADLINE_IDLE;
}

int outq_appendv(struct outq *q, const struct iovec *iov, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (q->cap - q->end < len && q->start > 0) {
		memmove(q->data, q->data + q->start, q->end - q->start);
		q->end -= q->start;
		q->start = 0;
	}
	if (q->cap - q->end < len) {
		size_t cap = q->cap ? q->cap : 4096;
		char *p;

		while (cap - q->end < len)
			cap *= 2;
		p = realloc(q->data, cap);
		if (!p)
			return -ENOMEM;
		q->data = p;
		q->cap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(q->data + q->end, iov[i].iov_base, iov[i].iov_len);
		q->end += iov[i].iov_len;
	}
	return 0;
}

void outq_consume(struct outq *q, size_t n)
{
	q->start += n < outq_pending(q) ? n : outq_pending(q);
	if (q->start == q->end)
		outq_free(q); /* an idle connection holds no buffer, even after a large reply */
}

void outq_free(struct outq *q)
{
	free(q->data);
	*q = (struct outq){};
}

bool control_reply_fits(size_t len)
{
	return len <= CONTROL_REPLY_MAX;
}

bool control_monitor_fits(size_t queued, size_t len)
{
	return len <= CONTROL_MONITOR_QUEUE_MAX && queued <= CONTROL_MONITOR_QUEUE_MAX - len;
}

bool control_ratelimit_check(struct control_ratelimit *rl, uint64_t now, unsigned *ret_suppressed)
{
	if (rl->logged && now - rl->last < CONTROL_LOG_INTERVAL_USEC) {
		rl->suppressed++;
		return false;
	}
	*ret_suppressed = rl->suppressed;
	rl->suppressed = 0;
	rl->last = now;
	rl->logged = true;
	return true;
}
