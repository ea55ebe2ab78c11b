/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A network's settings as one table (network-schema.c): file, request, netdctl options, show. */
#pragma once

#include "network.h"
#include "schema.h"

/* Its object is a struct network (network_init() it first). */
extern const struct schema network_schema;
