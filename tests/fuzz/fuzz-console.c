/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a guest's serial log (the guest is hostile) as 'vm console --log' turns it into
 * lines: every line is valid UTF-8 without control characters but tab (no escape sequence, no C1
 * control reaches the operator's terminal), no line holds a newline, and --lines N gives at most N
 * lines, the last ones of all.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest-look.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The length of the strict UTF-8 sequence at s (RFC 3629: no overlong form, no surrogate, nothing
 * past U+10FFFF), written independently of guest-look.c's; 0 when none. */
static size_t utf8_strict(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* the second byte's range (Unicode Table 3-7) */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static bool line_safe(const unsigned char *s, size_t n)
{
	for (size_t i = 0, u; i < n; i += u) {
		u = utf8_strict(s + i, n - i);
		if (!u)
			return false;
		if (u > 1)
			continue;
		if (s[i] < 0x20 && s[i] != '\t')
			return false;
		if (s[i] == 0x7f)
			return false;
	}
	/* a C1 control in UTF-8: C2 80..C2 9F */
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == 0xc2 && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *all = guest_console_lines((const char *)data, size, 0);
	size_t n = json_object_array_length(all), want = size % 7 + 1;
	json_object *last = guest_console_lines((const char *)data, size, want);
	size_t m = json_object_array_length(last);

	for (size_t i = 0; i < n; i++) {
		json_object *l = json_object_array_get_idx(all, i);

		if (!line_safe((const unsigned char *)json_object_get_string(l),
			       json_object_get_string_len(l)) ||
		    memchr(json_object_get_string(l), '\n', json_object_get_string_len(l)))
			abort();
	}
	if (m > want || m > n || (n >= want && m != want))
		abort();
	for (size_t i = 0; i < m; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(last, i)),
			   json_object_get_string(json_object_array_get_idx(all, n - m + i))))
			abort();
	json_object_put(all);
	json_object_put(last);
	return 0;
}
