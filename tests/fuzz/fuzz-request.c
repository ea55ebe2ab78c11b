/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: one control request line, as netd reads it from its socket, and its params as
 * each kind's schema reads them (network.create, vm.create, uplink.convert): whatever a request
 * defines is written to a file that reads back the same (schema-walk.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"
#include "schema-kinds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_json_ json_object *req = NULL;
	json_object *params;
	const char *method, *s;
	char err[256];
	unsigned u;
	bool b;

	if (protocol_request_parse((const char *)data, size, &req, &method, &params, err, sizeof(err)) < 0)
		return 0;
	/* The typed accessors the methods use on what the parser let through. */
	(void)protocol_param_string(params, "name", &s);
	(void)protocol_param_string(params, "subnet", &s);
	(void)protocol_param_bool(params, "autostart", &b);
	(void)protocol_param_uint(params, "mtu", 65535, &u);
	for (size_t i = 0; i < ELEMENTSOF(walk_kinds); i++) {
		void *obj = walk_kinds[i]->new();

		if (!obj)
			return 0;
		if (schema_json_parse(walk_kinds[i]->schema, obj, params, err, sizeof(err)) >= 0)
			walk_roundtrip(walk_kinds[i], obj);
		walk_kinds[i]->free(obj);
	}
	return 0;
}
