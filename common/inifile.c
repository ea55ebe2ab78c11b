/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* INI definitions: inih fed one whole line at a time, and the values that read back unchanged. */
#include "inifile.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Keys are short words: a value this long still leaves room for "key = " on the line. */
#define INIFILE_VALUE_MAX (INIFILE_LINE_MAX - 100)

/* inih's line reader: whole lines only. A longer line stops the parse (inih sees the end of the
 * text) instead of reaching inih in pieces, the second of which it would read as a line. */
static char *read_line(char *str, int num, void *stream)
{
	struct inifile *f = stream;
	size_t len;

	if (!*f->next || f->too_long)
		return NULL;
	len = strcspn(f->next, "\n");
	f->line++;
	if (len > INIFILE_LINE_MAX || len + 2 > (size_t)num) {
		f->too_long = f->line;
		return NULL;
	}
	if (f->next[len] == '\n')
		len++;
	memcpy(str, f->next, len);
	str[len] = 0;
	f->next += len;
	return str;
}

int inifile_parse(struct inifile *f, const char *text, ini_handler handler, void *user)
{
	int line;

	*f = (struct inifile){ .next = text };
	/* Debian's inih takes these at run time. Continuation lines would let a value span lines; a
	 * definition never needs that. The line buffer is a VLA of ini_max_line bytes. */
	ini_allow_multiline = false;
	ini_max_line = INIFILE_LINE_MAX + 2;
	line = ini_parse_stream(read_line, f, handler, user);
	if (line != 0) {
		f->too_long = 0; /* the parse stopped at the long line: this one came before it */
		return line;
	}
	return f->too_long;
}

const char *inifile_value_invalid_reason(const char *v)
{
	size_t n = strlen(v);

	if (n == 0)
		return "is empty";
	if (n > INIFILE_VALUE_MAX)
		return "is too long for a line of the definition file";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return "contains a control character (a definition file holds one value per line)";
	/* The control characters are out: ' ' is the only blank left that inih strips. */
	if (v[0] == ' ' || v[n - 1] == ' ')
		return "starts or ends with a space, which the definition file would drop";
	for (size_t i = 0; i < n; i++)
		if (v[i] == ';' && (i == 0 || v[i - 1] == ' '))
			return "has a ';' at its start or after a space, which starts a comment in the definition file";
	return NULL;
}

