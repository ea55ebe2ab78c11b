/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Prints every key of the definition files, from the schema tables themselves, one line each:
 *   FILE SECTION ITEMS KEY TYPE DEFAULT MIN MAX FLAGS OPTION (separated by tabs)
 * FILE is the schema's kind (network, guest, uplink); ITEMS is 0 for a plain section, else how many
 * [SECTION0].. it may have; TYPE is the engine's (string, number, boolean, duration) for a typed
 * row and "text" for a row with a parse function of its own; DEFAULT is the row's written default
 * ("-" when it has none); FLAGS is "repeatable" or "-"; OPTION is netdctl's --option that sets
 * it ("-" for none). tests/man/test-man.py compares this with netd.conf(5), so that the man page
 * cannot drift from the tables. Rows without a file key (request or command line only) are not
 * listed.
 */
#include <stdio.h>

#include "guest-schema.h"
#include "network-schema.h"
#include "uplink-schema.h"

static const char *type_name(const struct schema_field *f)
{
	static const char *const names[] = {
		[SCHEMA_STRING] = "string",
		[SCHEMA_UINT] = "number",
		[SCHEMA_BOOL] = "boolean",
		[SCHEMA_DURATION] = "duration",
	};

	return f->parse ? "text" : names[f->type];
}

static void dump(const struct schema *s)
{
	for (size_t i = 0; i < s->n_sections; i++) {
		const struct schema_section *sec = &s->sections[i];

		for (size_t j = 0; j < sec->n_fields; j++) {
			const struct schema_field *f = &sec->fields[j];

			if (!f->key)
				continue;
			printf("%s\t%s\t%zu\t%s\t%s\t%s\t%u\t%u\t%s\t%s%s\n", s->kind, sec->name,
			       sec->max_items, f->key, type_name(f), f->def ? f->def : "-", f->min, f->max,
			       f->flags & SCHEMA_REPEATABLE ? "repeatable" : "-", f->flag ? "--" : "-",
			       f->flag ? f->flag : "");
		}
	}
}

int main(void)
{
	dump(&network_schema);
	dump(&guest_schema);
	dump(&uplink_schema);
	return ferror(stdout) ? 1 : 0;
}
