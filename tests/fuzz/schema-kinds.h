/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The three kinds of definition for the fuzzers' schema walks (schema-walk.h). */
#pragma once

#include "guest-schema.h"
#include "network-schema.h"
#include "schema-walk.h"
#include "uplink-schema.h"

_unused_ static void *new_network(void)
{
	struct network *n = malloc(sizeof(*n));

	if (n)
		network_init(n, "fuzz");
	return n;
}

_unused_ static void free_network(void *obj)
{
	network_free(obj);
}

_unused_ static void *new_guest(void)
{
	struct guest *g = malloc(sizeof(*g));

	if (g)
		guest_init(g, "fuzz");
	return g;
}

_unused_ static void *new_uplink(void)
{
	struct uplink_def *u = malloc(sizeof(*u));

	if (u)
		uplink_def_init(u);
	return u;
}

_unused_ static const struct walk_kind network_kind = { &network_schema, new_network, free_network };
_unused_ static const struct walk_kind guest_kind = { &guest_schema, new_guest, free };
_unused_ static const struct walk_kind uplink_kind = { &uplink_schema, new_uplink, free };
_unused_ static const struct walk_kind *const walk_kinds[] = { &network_kind, &guest_kind, &uplink_kind };
