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
};

/* Append one line (the newline is added). */
void fake_log_add(struct fake_log *l, const char *fmt, ...) _printf_(2, 3);
/* Everything so far; "" when nothing was logged. */
const char *fake_log_text(const struct fake_log *l);
void fake_log_clear(struct fake_log *l);
