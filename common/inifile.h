/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netd's INI definitions (networks, guests) as inih reads them, and the values that survive the
 * trip: what netd writes as "key = value" must come back as exactly that value.
 *
 * What Debian's libinih (55) does to a value, measured (tests/unit/test-common.c):
 * - strips leading and trailing whitespace;
 * - cuts it at a ';' that follows whitespace (an inline comment): "kernel = ;x" reads back empty,
 *   "append = a ;b" as "a". A ';' not after whitespace stays ("a;b"), and "kernel =;x" gives ";x";
 * - '#' (and ';') start a comment only at the start of a line, which a value never is;
 * - splits a line longer than ini_max_line (200 by default) and reads the rest as a line of its
 *   own, which could be a [section] or a key of its own making;
 * - with multi-line values on, reads an indented line as more of the previous value.
 */
#pragma once

#include <ini.h>
#include <stddef.h>

/* The longest line of a definition, without its newline. */
#define INIFILE_LINE_MAX 4000

struct inifile {
	const char *next; /* the text not yet read */
	int line; /* the number of the line last handed to inih */
	int too_long; /* the first line longer than INIFILE_LINE_MAX, 0 if none */
};

/*
 * Parse text with inih: one line per value (no continuation lines), lines up to INIFILE_LINE_MAX
 * (never split), f->line telling the handler where it is. Returns 0, or the number of the first
 * line that failed: refused by the handler, bad syntax, or too long (then f->too_long is that line).
 */
int inifile_parse(struct inifile *f, const char *text, ini_handler handler, void *user);

/* Why "key = v" would not read back as v (nor stay one line); NULL when it would. v is not empty. */
const char *inifile_value_invalid_reason(const char *v);
