/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest definition files: INI text <-> struct guest. Pure. */
#pragma once

#include <stddef.h>

#include "guest.h"

int guest_config_parse(const char *name, const char *text, struct guest *ret, char *err, size_t errlen);
/* Caller frees. NULL with errno EINVAL when a value would not read back as itself (guest_validate
 * refuses those before), ENOMEM without memory. */
char *guest_config_render(const struct guest *g);
