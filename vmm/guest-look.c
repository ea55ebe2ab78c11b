/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "guest-look.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int guest_png_size(const uint8_t *buf, size_t len, uint32_t *ret_width, uint32_t *ret_height)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	/* signature, then the first chunk: length 13, "IHDR", width, height */
	if (len < 24 || memcmp(buf, sig, sizeof(sig)) || be32(buf + 8) != 13 || memcmp(buf + 12, "IHDR", 4))
		return -EBADMSG;
	if (be32(buf + 16) == 0 || be32(buf + 20) == 0)
		return -EBADMSG;
	*ret_width = be32(buf + 16);
	*ret_height = be32(buf + 20);
	return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *guest_base64_encode(const uint8_t *buf, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1), *p = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)buf[i] << 16 | (i + 1 < len ? buf[i + 1] << 8 : 0) |
			     (i + 2 < len ? buf[i + 2] : 0);

		*p++ = b64[v >> 18 & 63];
		*p++ = b64[v >> 12 & 63];
		*p++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*p++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*p = 0;
	return out;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

int guest_base64_decode(const char *s, uint8_t **ret, size_t *ret_len)
{
	size_t len = strlen(s), n = 0;
	uint8_t *out;

	if (len % 4)
		return -EINVAL;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;

		for (int k = 0; k < 4; k++) {
			bool last = i + 4 == len;

			v[k] = b64_value(s[i + k]);
			if (v[k] < 0 && last && k >= 2 && s[i + k] == '=' && (k == 3 || s[i + 3] == '=')) {
				v[k] = 0;
				pad++;
			} else if (v[k] < 0 || pad) {
				free(out);
				return -EINVAL;
			}
		}
		out[n++] = v[0] << 2 | v[1] >> 4;
		if (pad < 2)
			out[n++] = (v[1] & 15) << 4 | v[2] >> 2;
		if (pad < 1)
			out[n++] = (v[2] & 3) << 6 | v[3];
	}
	*ret = out;
	*ret_len = n;
	return 0;
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), 0 when there is none. C1 controls
 * (U+0080..U+009F) count as none: some terminals act on them. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	/* lead bytes: C2-DF two bytes, E0-EF three, F0-F4 four; 80-C1 and F5-FF none */
	size_t want = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 :
		      s[0] >= 0xe0 && s[0] <= 0xef ? 3 :
		      s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 :
						     0;
	uint32_t cp;

	if (!want || want > n)
		return 0;
	for (size_t i = 1; i < want; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	cp = want == 2 ? (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f) :
	     want == 3 ? (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f) :
			 (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
				 (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	if ((want == 2 && cp < 0xa0) || (want == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (want == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return want;
}

/* One line (without its newline) made safe: appended to a as a string. */
static void add_line(json_object *a, const unsigned char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (!out)
		return;
	for (size_t i = 0; i < n;) {
		size_t u = s[i] >= 0x80 ? utf8_len(s + i, n - i) : 0;

		if (u) {
			memcpy(out + o, s + i, u);
			o += u;
			i += u;
			continue;
		}
		if (s[i] >= 0x80)
			out[o++] = '?';
		else if (s[i] == '\t' || (s[i] >= 0x20 && s[i] != 0x7f))
			out[o++] = s[i];
		i++;
	}
	json_object_array_add(a, json_object_new_string_len(out, o));
	free(out);
}

json_object *guest_console_lines(const char *text, size_t len, size_t max_lines)
{
	const unsigned char *t = (const unsigned char *)text;
	json_object *a = json_object_new_array();
	size_t start, lines = 0;

	if (!max_lines || max_lines > GUEST_CONSOLE_LINES_MAX)
		max_lines = GUEST_CONSOLE_LINES_MAX;
	if (len > GUEST_CONSOLE_TEXT_MAX) {
		const unsigned char *nl;

		t += len - GUEST_CONSOLE_TEXT_MAX;
		len = GUEST_CONSOLE_TEXT_MAX;
		/* from the first whole line, unless the text is one long line */
		nl = t[-1] == '\n' ? NULL : memchr(t, '\n', len - 1);
		if (nl) {
			len -= nl + 1 - t;
			t = nl + 1;
		}
	}
	/* Walk back to the start of the max_lines-th line from the end. */
	start = len;
	if (len > 0 && t[len - 1] == '\n')
		start = len - 1;
	while (start > 0) {
		if (t[start - 1] == '\n' && ++lines == max_lines)
			break;
		start--;
	}
	for (size_t i = start; i < len;) {
		const unsigned char *nl = memchr(t + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - t) : len;

		add_line(a, t + i, end - i);
		i = end + 1;
	}
	return a;
}
