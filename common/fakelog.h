/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a recording fake (link-fake.c, tap-fake.c, proc-fake.c) did: one line per operation, for
 * unit tests to compare with what they expect. Out of memory drops the line (tests then fail).
 */
#pragma once

#include <stddef.h>

#include "macro.h"

struct fake_log {
	char *text;
	size_t len;
	const char *name; /* the fake's, for the mirror ("link", "nft", "tap", "proc") */
};

/* Append one line (the newline is added). */
void fake_log_add(struct fake_log *l, const char *fmt, ...) _printf_(2, 3);
/* Everything so far; "" when nothing was logged. */
const char *fake_log_text(const struct fake_log *l);
void fake_log_clear(struct fake_log *l);
/* Every fake's lines also go to all (NULL: nowhere), as "NAME: line", in the order they were
 * made: what a whole daemon asked of all its backends (tests/unit/test-daemon.c). */
void fake_log_mirror(struct fake_log *all);
