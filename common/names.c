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

const char *text_escape(const char *s, char *buf, size_t size)
{
	size_t o = 0;

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
		else
			buf[o++] = c;
	}
	buf[o] = 0;
	return buf;
}
