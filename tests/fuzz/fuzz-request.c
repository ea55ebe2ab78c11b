/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: one control request line, as netd reads it from its socket. */
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

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
	return 0;
}
