/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A guest's settings as one table (guest-schema.c): file, request, netdctl options, show. */
#pragma once

#include "guest.h"
#include "schema.h"

/* Its object is a struct guest (guest_init() it first); [nicN] are its NICs. */
extern const struct schema guest_schema;
