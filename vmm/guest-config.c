/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest definition files: the guest's schema table (guest-schema.c) read and written as INI. */
#include "guest-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "guest-schema.h"
#include "macro.h"

int guest_config_parse(const char *name, const char *text, struct guest *ret, char *err, size_t errlen)
{
	_cleanup_free_ struct guest *g = malloc(sizeof(*g));
	int r;

	if (!g)
		return -ENOMEM;
	guest_init(g, name);
	r = schema_ini_parse(&guest_schema, g, text, err, errlen);
	if (r < 0)
		return r;
	for (size_t i = 0; i < g->n_nics; i++)
		if (!g->nics[i].network[0]) {
			snprintf(err, errlen, "[nic%zu] has no 'network'", i);
			return -EINVAL;
		}
	*ret = *g;
	return 0;
}

char *guest_config_render(const struct guest *g)
{
	char comment[128];

	for (size_t i = 0; i < g->n_nics; i++)
		if (!object_name_valid(g->nics[i].network)) {
			errno = EINVAL;
			return NULL;
		}
	if (!object_name_valid(g->name)) {
		errno = EINVAL;
		return NULL;
	}
	snprintf(comment, sizeof(comment),
		 "# netd guest '%s'. Edit, then run 'netdctl reload'; changes apply at its next start.", g->name);
	return schema_ini_render_text(&guest_schema, g, comment);
}
