/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "names.h"

#include <stdio.h>
#include <string.h>

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

const char *object_name_invalid_reason(const char *s)
{
	size_t n;

	if (!s || !*s)
		return "must not be empty";
	n = strlen(s);
	if (n > NAME_MAX_LEN)
		return "is longer than 32 characters";
	if (!is_alnum(s[0]))
		return "must start with a letter or digit";
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_')
			return "may contain only letters, digits, '-' and '_'";
	return NULL;
}

bool object_name_valid(const char *s)
{
	return !object_name_invalid_reason(s);
}

const char *ifname_invalid_reason(const char *s)
{
	size_t n;

	if (!s || !*s)
		return "must not be empty";
	n = strlen(s);
	if (n > IFNAME_MAX_LEN)
		return "is longer than 15 bytes";
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return "must not be '.' or '..'";
	/* the kernel refuses them: they name the per-interface settings in /proc/sys/net/ipv4/conf */
	if (!strcmp(s, "all") || !strcmp(s, "default"))
		return "must not be 'all' or 'default' (the kernel reserves them)";
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return "may contain only letters, digits, '-', '_' and '.'";
	return NULL;
}

bool ifname_valid(const char *s)
{
	return !ifname_invalid_reason(s);
}

/* The code point of a UTF-8 C1 control (U+0080-U+009F) or bidi control (U+202A-U+202E,
 * U+2066-U+2069) at s, else 0. */
static unsigned terminal_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return p[1];
	if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
		return 0x2000 | (p[2] & 0x3f);
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 0x2040 | (p[2] & 0x3f);
	return 0;
}

size_t terminal_control_len(const char *s)
{
	unsigned char c = *s;
	unsigned cp;

	if (c && (c < 0x20 || c == 0x7f))
		return 1;
	cp = terminal_control(s);
	return !cp ? 0 : cp < 0x100 ? 2 : 3;
}

const char *text_escape(const char *s, char *buf, size_t size)
{
	size_t o = 0;
	unsigned cp;

	if (!size)
		return buf;
	for (; *s && o + 5 < size; s++) {
		unsigned char c = *s;

		if (c == '\n')
			o += snprintf(buf + o, size - o, "\\n");
		else if (c == '\\')
			o += snprintf(buf + o, size - o, "\\\\");
		else if (c < 0x20 || c == 0x7f)
			o += snprintf(buf + o, size - o, "\\x%02x", c);
		else if ((cp = terminal_control(s)) && o + 7 < size) {
			/* a C1 control or a bidi override: as dangerous to a terminal as ESC */
			o += snprintf(buf + o, size - o, "\\u%04x", cp);
			s += cp < 0x100 ? 1 : 2;
		} else if (cp)
			break;
		else
			buf[o++] = c;
	}
	buf[o] = 0;
	return buf;
}
