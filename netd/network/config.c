/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network definition files: the network's schema table (network-schema.c) read and written as INI. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "network-schema.h"

int config_network_parse(const char *name, const char *text, struct network *ret, char *err, size_t errlen)
{
	struct network n;
	int r;

	network_init(&n, name);
	r = schema_ini_parse(&network_schema, &n, text, err, errlen);
	if (r < 0) {
		network_done(&n);
		return r;
	}
	network_fill_defaults(&n);
	*ret = n;
	return 0;
}

char *config_network_render(const struct network *n)
{
	char comment[128];

	snprintf(comment, sizeof(comment), "# netd network '%s'. Edit, then run 'netdctl reload' (or send SIGHUP to netd).",
		 n->name);
	return schema_ini_render_text(&network_schema, n, comment);
}
