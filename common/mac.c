/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mac.h"
#include "macro.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int mac_parse(const char *s, struct mac *ret)
{
	struct mac m;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hex_value(s[i * 3]), lo = hex_value(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -EINVAL;
		m.b[i] = hi << 4 | lo;
	}
	*ret = m;
	return 0;
}

const char *mac_format(const struct mac *m, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m->b[0], m->b[1], m->b[2], m->b[3],
		 m->b[4], m->b[5]);
	return buf;
}

bool mac_is_zero(const struct mac *m)
{
	static const struct mac zero;

	return mac_equal(m, &zero);
}

bool mac_is_multicast(const struct mac *m)
{
	return m->b[0] & 1;
}

bool mac_equal(const struct mac *a, const struct mac *b)
{
	return memcmp(a->b, b->b, 6) == 0;
}

int mac_random(struct mac *ret)
{
	struct mac m;

	if (getrandom(m.b, sizeof(m.b), 0) != sizeof(m.b))
		return -errno;
	m.b[0] = (m.b[0] & 0xfe) | 0x02;
	*ret = m;
	return 0;
}
