/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fakelog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fake_log *mirror;

static void append(struct fake_log *l, const char *line, int n)
{
	char *p = realloc(l->text, l->len + n + 2);

	if (!p)
		return;
	l->text = p;
	memcpy(l->text + l->len, line, n);
	l->len += n;
	l->text[l->len++] = '\n';
	l->text[l->len] = 0;
}

void fake_log_add(struct fake_log *l, const char *fmt, ...)
{
	_cleanup_free_ char *line = NULL, *named = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	append(l, line, n);
	if (mirror && mirror != l) {
		n = asprintf(&named, "%s: %s", l->name ?: "fake", line);
		if (n >= 0)
			append(mirror, named, n);
	}
}

void fake_log_mirror(struct fake_log *all)
{
	mirror = all;
}

const char *fake_log_text(const struct fake_log *l)
{
	return l->text ? l->text : "";
}

void fake_log_clear(struct fake_log *l)
{
	free(l->text);
	*l = (struct fake_log){ .name = l->name };
}
