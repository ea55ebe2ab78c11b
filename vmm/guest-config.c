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
	char *buf = NULL;
	size_t len = 0;
	bool bad = !object_name_valid(g->name);
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return NULL;
	for (size_t i = 0; i < g->n_nics; i++)
		bad = bad || !object_name_valid(g->nics[i].network);
	fprintf(f, "# netd guest '%s'. Edit, then run 'netdctl reload'; changes apply at its next start.\n", g->name);
	r = bad ? -EINVAL : schema_ini_render(&guest_schema, g, f);
	if (fclose(f) != 0 || r < 0) {
		free(buf);
		errno = r < 0 ? -r : ENOMEM;
		return NULL;
	}
	return buf;
}
