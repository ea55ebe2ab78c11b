/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mac {
	uint8_t b[6];
};

#define MAC_STRLEN 18

int mac_parse(const char *s, struct mac *ret);
const char *mac_format(const struct mac *m, char *buf, size_t size);
bool mac_is_zero(const struct mac *m);
bool mac_is_multicast(const struct mac *m);
bool mac_equal(const struct mac *a, const struct mac *b);
/* A random unicast, locally administered address. */
int mac_random(struct mac *ret);
