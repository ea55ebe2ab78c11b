/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An uplink conversion's settings, one typed row each (common/schema.h): a new one is one row here. */
#include "uplink-schema.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "names.h"

void uplink_def_init(struct uplink_def *u)
{
	*u = (struct uplink_def){ .bridge = "br0",
				  .confirm_timeout = UPLINK_CONFIRM_TIMEOUT_DEFAULT,
				  .verify = true };
}

/* The port is netdctl's IFACE argument; the others in the order --help lists them. */
static const struct schema_field uplink_fields[] = {
	/* clang-format off */
	{ .key = "port", .json = "port", .label = "interface name", SCHEMA_STRING_AT(struct uplink_def, port),
	  .check = ifname_invalid_reason },
	{ .key = "bridge", .json = "bridge", .flag = "bridge", .metavar = "br0", .label = "bridge name",
	  SCHEMA_STRING_AT(struct uplink_def, bridge), .check = ifname_invalid_reason },
	{ .json = "confirm_timeout", .flag = "confirm-timeout", .metavar = "60s", .label = "confirm timeout",
	  SCHEMA_DURATION_AT(struct uplink_def, confirm_timeout),
	  .min = 1, .max = UPLINK_CONFIRM_TIMEOUT_MAX },
	{ .json = "verify", .flag = "no-verify", .flag_value = "no", .label = "verify",
	  SCHEMA_BOOL_AT(struct uplink_def, verify) },
	/* clang-format on */
};

static const struct schema_section uplink_sections[] = {
	{ "uplink", uplink_fields, ELEMENTSOF(uplink_fields) },
};

const struct schema uplink_schema = { "uplink", uplink_sections, ELEMENTSOF(uplink_sections) };

int uplink_config_parse(const char *text, struct uplink_def *ret, char *err, size_t errlen)
{
	struct uplink_def u;
	int r;

	uplink_def_init(&u);
	r = schema_ini_parse(&uplink_schema, &u, text, err, errlen);
	if (r < 0)
		return r;
	if (!u.port[0]) {
		snprintf(err, errlen, "no 'port = IFNAME' in [uplink]");
		return -EINVAL;
	}
	*ret = u;
	return 0;
}

char *uplink_config_render(const struct uplink_def *u)
{
	char comment[128];

	snprintf(comment, sizeof(comment),
		 "# Written by netd: %s is a port of bridge %s, which carries its addresses.", u->port,
		 u->bridge);
	return schema_ini_render_text(&uplink_schema, u, comment);
}
