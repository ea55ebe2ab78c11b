/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "protocol.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int protocol_request_parse(const char *line, size_t len, json_object **ret_request, const char **ret_method,
			   json_object **ret_params, char *err, size_t errlen)
{
	json_tokener *tok;
	json_object *req, *method, *params = NULL;
	enum json_tokener_error jerr;

	if (len > PROTOCOL_MAX_LINE) {
		snprintf(err, errlen, "malformed request: longer than %d bytes", PROTOCOL_MAX_LINE);
		return -EMSGSIZE;
	}
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	req = json_tokener_parse_ex(tok, line, len);
	jerr = json_tokener_get_error(tok);
	if (req && jerr == json_tokener_success && tok->char_offset < (int)len) {
		/* Only whitespace may follow the object. */
		for (size_t i = tok->char_offset; i < len; i++)
			if (!strchr(" \t\r\n", line[i]))
				jerr = json_tokener_error_parse_unexpected;
	}
	json_tokener_free(tok);
	if (!req || jerr != json_tokener_success) {
		snprintf(err, errlen, "malformed request: %s",
			 jerr == json_tokener_success || jerr == json_tokener_continue ? "incomplete JSON" :
											  json_tokener_error_desc(jerr));
		json_object_put(req);
		return -EBADMSG;
	}
	if (!json_object_is_type(req, json_type_object) || !json_object_object_get_ex(req, "method", &method) ||
	    !json_object_is_type(method, json_type_string)) {
		snprintf(err, errlen, "malformed request: expected an object with a string \"method\"");
		json_object_put(req);
		return -EBADMSG;
	}
	if (json_object_object_get_ex(req, "params", &params) && !json_object_is_type(params, json_type_object) &&
	    !json_object_is_type(params, json_type_null)) {
		snprintf(err, errlen, "malformed request: \"params\" must be an object");
		json_object_put(req);
		return -EBADMSG;
	}
	if (params && json_object_is_type(params, json_type_null))
		params = NULL;
	*ret_request = req;
	*ret_method = json_object_get_string(method);
	*ret_params = params;
	return 0;
}

static int param_get(json_object *params, const char *key, json_type type, json_object **ret)
{
	json_object *v;

	if (!params || !json_object_object_get_ex(params, key, &v) || json_object_is_type(v, json_type_null))
		return -ENOENT;
	if (!json_object_is_type(v, type))
		return -EINVAL;
	*ret = v;
	return 0;
}

int protocol_param_string(json_object *params, const char *key, const char **ret)
{
	json_object *v;
	int r = param_get(params, key, json_type_string, &v);

	if (r < 0)
		return r;
	/* JSON allows "\u0000"; C strings end there, so a value with one would be silently cut. */
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return -EINVAL;
	*ret = json_object_get_string(v);
	return 0;
}

int protocol_param_bool(json_object *params, const char *key, bool *ret)
{
	json_object *v;
	int r = param_get(params, key, json_type_boolean, &v);

	if (r < 0)
		return r;
	*ret = json_object_get_boolean(v);
	return 0;
}

int protocol_param_uint(json_object *params, const char *key, unsigned max, unsigned *ret)
{
	json_object *v;
	int64_t i;
	int r = param_get(params, key, json_type_int, &v);

	if (r < 0)
		return r;
	i = json_object_get_int64(v);
	if (i < 0 || (uint64_t)i > max)
		return -ERANGE;
	*ret = i;
	return 0;
}

bool protocol_array_has(json_object *array, const char *s)
{
	for (size_t i = 0; i < json_object_array_length(array); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(array, i)) ?: "", s))
			return true;
	return false;
}
