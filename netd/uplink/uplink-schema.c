/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An uplink conversion's settings, one row each (common/schema.h): a new one is one row here. */
#include "uplink-schema.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "names.h"

#define U(p) struct uplink_def *u = (p)
#define CU(p) const struct uplink_def *u = (p)

void uplink_def_init(struct uplink_def *u)
{
	*u = (struct uplink_def){ .bridge = "br0",
				  .confirm_timeout = UPLINK_CONFIRM_TIMEOUT_DEFAULT,
				  .verify = true };
}

#define fmt schema_format_text

static int parse_port(void *obj, const char *v, char *err, size_t errlen)
{
	U(obj);

	return schema_parse_ifname("interface name", v, u->port, err, errlen);
}

static int format_port(const void *obj, size_t i, char *buf, size_t size)
{
	CU(obj);

	return fmt(buf, size, u->port);
}

static int parse_bridge(void *obj, const char *v, char *err, size_t errlen)
{
	U(obj);

	return schema_parse_ifname("bridge name", v, u->bridge, err, errlen);
}

static int format_bridge(const void *obj, size_t i, char *buf, size_t size)
{
	CU(obj);

	return fmt(buf, size, u->bridge);
}

/* Seconds (a request's number), or a duration like 2m. */
static int parse_confirm_timeout(void *obj, const char *v, char *err, size_t errlen)
{
	U(obj);
	unsigned t;
	int r;

	if (*v && strspn(v, "0123456789") == strlen(v))
		r = schema_parse_uint("confirm timeout", v, UINT32_MAX, &t, err, errlen);
	else
		r = schema_parse_duration(v, &t, err, errlen);
	if (r < 0)
		return r;
	if (t < 1 || t > UPLINK_CONFIRM_TIMEOUT_MAX) {
		snprintf(err, errlen, "confirm timeout must be between 1 and %d seconds",
			 UPLINK_CONFIRM_TIMEOUT_MAX);
		return -EINVAL;
	}
	u->confirm_timeout = t;
	return 0;
}

static int parse_verify(void *obj, const char *v, char *err, size_t errlen)
{
	U(obj);

	return schema_parse_bool("verify", v, &u->verify, err, errlen);
}

/* The port is netdctl's IFACE argument; the others in the order --help lists them. */
static const struct schema_field uplink_fields[] = {
	{ .key = "port",
	  .json = "port",
	  .label = "interface name",
	  .parse = parse_port,
	  .format = format_port },
	{ .key = "bridge",
	  .json = "bridge",
	  .flag = "bridge",
	  .metavar = "br0",
	  .label = "bridge name",
	  .parse = parse_bridge,
	  .format = format_bridge },
	{ .json = "confirm_timeout",
	  .flag = "confirm-timeout",
	  .metavar = "60s",
	  .label = "confirm timeout",
	  .type = SCHEMA_DURATION,
	  .parse = parse_confirm_timeout },
	{ .json = "verify",
	  .flag = "no-verify",
	  .flag_value = "no",
	  .label = "verify",
	  .type = SCHEMA_BOOL,
	  .parse = parse_verify },
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
