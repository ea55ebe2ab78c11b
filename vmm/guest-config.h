/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest definition files: INI text <-> struct guest. Pure. */
#pragma once

#include <stddef.h>

#include "guest.h"

/* The largest definition text 'vm define' takes (it travels in one request line, JSON-escaped:
 * PROTOCOL_MAX_LINE is 64 KiB); a definition with every path at its longest is about 8 KiB. */
#define GUEST_CONFIG_TEXT_MAX (32 * 1024)

int guest_config_parse(const char *name, const char *text, struct guest *ret, char *err, size_t errlen);
/* Caller frees. NULL with errno EINVAL when a value would not read back as itself (guest_validate
 * refuses those before), ENOMEM without memory. */
char *guest_config_render(const struct guest *g);
