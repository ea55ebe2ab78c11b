/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network definition files: INI text <-> struct network. Pure. */
#pragma once

#include <stddef.h>

#include "network.h"

/* Parse one definition; the network's name is given (it comes from the file name). On success
 * *ret owns memory (network_done() it); on failure *ret is untouched. */
int config_network_parse(const char *name, const char *text, struct network *ret, char *err, size_t errlen);
/* Render a definition as the human-readable file netd writes; caller frees. */
char *config_network_render(const struct network *n);
