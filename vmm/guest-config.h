/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest definition files: INI text <-> struct guest. Pure. */
#pragma once

#include <stddef.h>

#include "guest.h"

int guest_config_parse(const char *name, const char *text, struct guest *ret, char *err, size_t errlen);
/* Caller frees. */
char *guest_config_render(const struct guest *g);
