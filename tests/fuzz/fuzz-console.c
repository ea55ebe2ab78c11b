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

static bool line_safe(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x20 && s[i] != '\t')
			return false;
		if (s[i] == 0x7f)
			return false;
		/* a C1 control in UTF-8: C2 80..C2 9F */
		if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return false;
	}
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
