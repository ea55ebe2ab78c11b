/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: netdctl network import's reading of a libvirt network XML (a file a user got
 * from anywhere) and what netd makes of the parameters it maps to. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "libvirt-import.h"
#include "network-schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool known(const char *key)
{
	for (size_t i = 0; i < network_schema.n_sections; i++)
		for (size_t k = 0; k < network_schema.sections[i].n_fields; k++)
			if (network_schema.sections[i].fields[k].json &&
			    !strcmp(network_schema.sections[i].fields[k].json, key))
				return true;
	return false;
}

static void check_strings(json_object *a)
{
	if (!json_object_is_type(a, json_type_array))
		abort();
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (!json_object_is_type(json_object_array_get_idx(a, i), json_type_string))
			abort();
}

/* Whatever netd accepts of the parameters is a definition that its file gives back. */
static void through_netd(json_object *params)
{
	json_object *p = json_object_new_object();
	struct network n, again;
	char err[1024], *text;

	json_object_object_foreach(params, key, val) {
		if (json_object_is_type(val, json_type_array))
			check_strings(val);
		else if (!json_object_is_type(val, json_type_string) &&
			 !json_object_is_type(val, json_type_boolean) &&
			 !json_object_is_type(val, json_type_int))
			abort();
		if (known(key))
			json_object_object_add(p, key, json_object_get(val));
	}
	network_init(&n, "fuzz");
	if (schema_json_parse(&network_schema, &n, p, err, sizeof(err)) >= 0) {
		network_fill_defaults(&n);
		if (n.mode && network_validate(&n, err, sizeof(err)) >= 0) {
			text = config_network_render(&n);
			if (!text || config_network_parse("fuzz", text, &again, err, sizeof(err)) < 0)
				abort();
			network_done(&again);
			free(text);
		}
	}
	network_done(&n);
	json_object_put(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct libvirt_import imp;
	char err[512];

	if (libvirt_import_parse((const char *)data, size, &imp, err, sizeof(err)) < 0)
		return 0;
	if (!json_object_is_type(imp.params, json_type_object))
		abort();
	check_strings(imp.dropped);
	check_strings(imp.ignored);
	through_netd(imp.params);
	libvirt_import_done(&imp);
	return 0;
}
