/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control protocol: one JSON object per line over a unix stream socket.
 *   request:  {"method": "network.create", "params": {...}}
 *   progress: {"progress": "text"}            (zero or more, for slow methods)
 *   reply:    {"ok": true, "result": ...} or {"ok": false, "error": "text", "errno": "EINVAL"}
 * Parsing is pure and fuzzed.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define PROTOCOL_MAX_LINE (64 * 1024)

/* Parse one request line. On success *ret_request holds the parsed object (caller puts it),
 * *ret_method and *ret_params point into it (*ret_params may be NULL). */
int protocol_request_parse(const char *line, size_t len, json_object **ret_request, const char **ret_method,
			   json_object **ret_params, char *err, size_t errlen);

/* Typed access to request parameters; absent keys return -ENOENT, wrong types -EINVAL. */
int protocol_param_string(json_object *params, const char *key, const char **ret);
int protocol_param_bool(json_object *params, const char *key, bool *ret);
int protocol_param_uint(json_object *params, const char *key, unsigned max, unsigned *ret);
/* Whether the array of strings holds s (a reload report's list of names). */
bool protocol_array_has(json_object *array, const char *s);

static inline void json_object_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(json_object_putp)))
