/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An uplink conversion's settings as one table (uplink-schema.c): the confirmed conversion's file
 * <config>/uplinks/BR.conf ([uplink] port, bridge), the uplink.convert request and netdctl's
 * options. Pure.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>

#include "schema.h"

#define UPLINK_CONFIRM_TIMEOUT_DEFAULT 60
#define UPLINK_CONFIRM_TIMEOUT_MAX 3600

struct uplink_def {
	char port[IFNAMSIZ]; /* the interface converted ("eth0") */
	char bridge[IFNAMSIZ]; /* the bridge it becomes a port of ("br0") */
	unsigned confirm_timeout; /* seconds until an unconfirmed conversion rolls back (request only) */
	bool verify; /* probe the gateways from the bridge (request only) */
};

/* Defaults: bridge br0, 60 s, verify. */
void uplink_def_init(struct uplink_def *u);

extern const struct schema uplink_schema;

/* The confirmed conversion's file; a port is required. */
int uplink_config_parse(const char *text, struct uplink_def *ret, char *err, size_t errlen);
/* Caller frees; NULL with errno set. */
char *uplink_config_render(const struct uplink_def *u);
