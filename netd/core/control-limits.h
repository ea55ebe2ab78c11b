/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The limits of the control socket as pure functions: how many peers, how long a connection may
 * stay without doing anything, how much a monitor may fall behind, and each connection's output
 * queue. control.c applies them; tests/unit/test-control.c checks them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define CONTROL_USEC_PER_SEC 1000000ull

/* Concurrent connections of peers other than root; root (dnsmasq's lease helper among them) is
 * never refused for this. */
#define CONTROL_CLIENTS_MAX 256
/* A request line must be complete (end with a newline) this long after its first byte. */
#define CONTROL_PARTIAL_TIMEOUT_USEC (5 * CONTROL_USEC_PER_SEC)
/* A connection with no call in flight that neither sends a request nor reads its reply. */
#define CONTROL_IDLE_TIMEOUT_USEC (60 * CONTROL_USEC_PER_SEC)
/* An overflowed monitor that reads nothing of its last lines. */
#define CONTROL_DRAIN_TIMEOUT_USEC (10 * CONTROL_USEC_PER_SEC)
/* The largest reply line (its JSON, without the newline) netd sends: a method that would answer
 * more (a bug, or what a guest or QEMU made large) fails with EMSGSIZE instead, so no peer makes
 * netd queue an unbounded reply. Methods that carry bulk data bound it below this (vm screenshot:
 * GUEST_SCREENSHOT_MAX in base64; vm console --log: GUEST_CONSOLE_TEXT_MAX and its lines). */
#define CONTROL_REPLY_MAX (8 * 1024 * 1024)
/* Event bytes queued for a monitor beyond what the kernel holds for it. */
#define CONTROL_MONITOR_QUEUE_MAX (1024 * 1024)
/* accept4() failed for lack of fds or memory: listen again after this, or when a client closes. */
#define CONTROL_ACCEPT_PAUSE_USEC (200 * 1000ull)
/* The same complaint (refused connections, a paused accept) is logged at most this often. */
#define CONTROL_LOG_INTERVAL_USEC (60 * CONTROL_USEC_PER_SEC)

bool control_admit(uid_t uid, unsigned n_unprivileged);

enum control_deadline {
	CONTROL_DEADLINE_NONE, /* a call in flight (a monitor's lasts until it hangs up) */
	CONTROL_DEADLINE_CLOSE, /* close now */
	CONTROL_DEADLINE_DRAIN, /* overflowed monitor: its last lines must be read by then */
	CONTROL_DEADLINE_PARTIAL, /* the request line must be complete by then */
	CONTROL_DEADLINE_IDLE, /* a request, or reading the reply, must happen by then */
	_CONTROL_DEADLINE_MAX,
};

const char *control_deadline_to_string(enum control_deadline d);

/* What the deadline of a connection depends on. */
struct control_conn {
	bool dead; /* the peer is gone or broke the protocol */
	bool overflow; /* a monitor that fell behind */
	bool call; /* a call in flight (monitors have one) */
	bool output; /* bytes queued for the peer */
	bool partial; /* input without a newline */
	uint64_t partial_since; /* the first byte of that input */
	uint64_t progress; /* accepted, last reply queued, last byte the peer took */
};

/* Which deadline applies to the connection now, and when (*ret_usec, unset for NONE). */
enum control_deadline control_conn_deadline(const struct control_conn *c, uint64_t *ret_usec);

/* A bytes queue: lines are appended whole or not at all, sent from the head. */
struct outq {
	char *data;
	size_t start, end, cap;
};

static inline size_t outq_pending(const struct outq *q)
{
	return q->end - q->start;
}

static inline const char *outq_head(const struct outq *q)
{
	return q->data + q->start;
}

/* Append all pieces, or nothing (-ENOMEM). */
int outq_appendv(struct outq *q, const struct iovec *iov, size_t n);
/* n bytes of the head were sent. An empty queue gives its memory back. */
void outq_consume(struct outq *q, size_t n);
void outq_free(struct outq *q);

/* Whether a reply line of len bytes may be sent (len <= CONTROL_REPLY_MAX). */
bool control_reply_fits(size_t len);

/* Whether a monitor with `queued` bytes waiting may take an event line of len bytes. */
bool control_monitor_fits(size_t queued, size_t len);

/* One complaint that may repeat in bursts (1100 connections refused): log the first, then at
 * most one per CONTROL_LOG_INTERVAL_USEC saying how many were not logged. */
struct control_ratelimit {
	uint64_t last;
	unsigned suppressed;
	bool logged;
};

/* Whether to log this occurrence; *ret_suppressed: the occurrences not logged before it. */
bool control_ratelimit_check(struct control_ratelimit *rl, uint64_t now, unsigned *ret_suppressed);
