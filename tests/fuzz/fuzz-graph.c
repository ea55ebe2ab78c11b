/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: netdctl graph's renderer (netdctl/graph.c) on any JSON document of netd's
 * answers, whose names and hostnames may come from a hostile guest. Whatever they hold, the DOT
 * text keeps them inside its strings: outside them only the renderer's own syntax (no '&', no
 * control byte, no backslash, quotes balanced); inside, a backslash only before '"', '\' or the
 * renderer's 'n', and '&' only as "&amp;". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_contained(const char *dot)
{
	int in = 0;

	for (const char *p = dot; *p; p++) {
		unsigned char c = *p;

		if (!in) {
			/* the renderer's syntax is ASCII: ids, numbers, punctuation, spaces, tabs, lines */
			if (c == '\\' || c == '&' || c >= 0x7f || (c < 0x20 && c != '\n' && c != '\t'))
				abort();
			in = c == '"';
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			abort();
		if (c == '"')
			in = 0;
		else if (c == '\\' && (!p[1] || !strchr("\"\\n", *++p)))
			abort();
		else if (c == '&' && strncmp(p, "&amp;", 5))
			abort();
	}
	if (in)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_tokener *tok = json_tokener_new();
	json_object *host = tok ? json_tokener_parse_ex(tok, (const char *)data, (int)size) : NULL;
	char *dot = NULL;

	if (host && graph_render(host, &dot) == 0) {
		check_contained(dot);
		free(dot);
	}
	json_object_put(host);
	json_tokener_free(tok);
	return 0;
}
