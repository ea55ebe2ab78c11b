/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QMP message parser. Pure. */
#include "qmp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[_QMP_MESSAGE_MAX] = {
	[QMP_MESSAGE_GREETING] = "greeting", [QMP_MESSAGE_RETURN] = "return",
	[QMP_MESSAGE_ERROR] = "error",	     [QMP_MESSAGE_EVENT] = "event",
};

const char *qmp_message_type_to_string(enum qmp_message_type t)
{
	return t < _QMP_MESSAGE_MAX ? type_names[t] : NULL;
}

static const char *get_string(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int parse_greeting(json_object *qmp, struct qmp_message *m)
{
	json_object *v, *q;

	if (!json_object_object_get_ex(qmp, "version", &v) || !json_object_object_get_ex(v, "qemu", &q))
		return -EBADMSG;
	m->version_major = json_object_get_int(json_object_object_get(q, "major"));
	m->version_minor = json_object_get_int(json_object_object_get(q, "minor"));
	m->version_micro = json_object_get_int(json_object_object_get(q, "micro"));
	m->type = QMP_MESSAGE_GREETING;
	return 0;
}

static int parse_error(json_object *err, struct qmp_message *m)
{
	m->type = QMP_MESSAGE_ERROR;
	m->error_class = get_string(err, "class");
	m->error_desc = get_string(err, "desc");
	return m->error_class ? 0 : -EBADMSG;
}

static int parse_id(json_object *root, struct qmp_message *m)
{
	json_object *id;

	if (!json_object_object_get_ex(root, "id", &id))
		return 0;
	if (!json_object_is_type(id, json_type_int) || json_object_get_int64(id) < 0)
		return -EBADMSG;
	m->has_id = true;
	m->id = json_object_get_uint64(id);
	return 0;
}

static int parse_root(json_object *root, struct qmp_message *m)
{
	json_object *v;

	if (json_object_object_get_ex(root, "QMP", &v))
		return parse_greeting(v, m);
	if (parse_id(root, m) < 0)
		return -EBADMSG;
	if (json_object_object_get_ex(root, "return", &v)) {
		m->type = QMP_MESSAGE_RETURN;
		m->data = v;
		return 0;
	}
	if (json_object_object_get_ex(root, "error", &v))
		return parse_error(v, m);
	m->event = get_string(root, "event");
	if (!m->event)
		return -EBADMSG;
	m->type = QMP_MESSAGE_EVENT;
	m->data = json_object_object_get(root, "data");
	return 0;
}

int qmp_message_parse(const char *line, size_t len, struct qmp_message *ret)
{
	struct json_tokener *tok = json_tokener_new();
	struct qmp_message m = {};
	json_object *root;
	int r;

	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, line, (int)len);
	r = json_tokener_get_error(tok) == json_tokener_success && root &&
			    json_object_is_type(root, json_type_object) ?
		    0 :
		    -EBADMSG;
	/* One object per line, nothing after it. */
	for (size_t i = json_tokener_get_parse_end(tok); r >= 0 && i < len; i++)
		if (!strchr(" \t\r", line[i]))
			r = -EBADMSG;
	json_tokener_free(tok);
	if (r >= 0)
		r = parse_root(root, &m);
	if (r < 0) {
		json_object_put(root);
		return r;
	}
	m.root = root;
	*ret = m;
	return 0;
}

void qmp_message_done(struct qmp_message *m)
{
	json_object_put(m->root);
	*m = (struct qmp_message){};
}

int qmp_block_external_files(json_object *ret, char *what, size_t size)
{
	if (!json_object_is_type(ret, json_type_array))
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(ret); i++) {
		json_object *dev = json_object_array_get_idx(ret, i), *inserted, *image, *spec, *data, *v;
		const char *name = get_string(dev, "device") ?: get_string(dev, "qdev") ?: "?";

		if (!json_object_object_get_ex(dev, "inserted", &inserted))
			continue;
		if (!json_object_object_get_ex(inserted, "image", &image)) {
			snprintf(what, size, "%s: no image information", name);
			return 1; /* not what netd passed: refuse rather than guess */
		}
		if (json_object_object_get_ex(inserted, "backing_file", &v) ||
		    json_object_object_get_ex(image, "backing-filename", &v) ||
		    json_object_object_get_ex(image, "backing-image", &v)) {
			snprintf(what, size, "%s: a backing file (%s)", name,
				 json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "an image");
			return 1;
		}
		if (json_object_object_get_ex(image, "format-specific", &spec) &&
		    json_object_object_get_ex(spec, "data", &data) && json_object_object_get_ex(data, "data-file", &v)) {
			snprintf(what, size, "%s: a data file (%s)", name,
				 json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "?");
			return 1;
		}
	}
	return 0;
}

int qmp_status_parse(json_object *ret, const char **ret_status, bool *ret_running)
{
	const char *status = get_string(ret, "status");
	json_object *running;

	if (!status || !json_object_object_get_ex(ret, "running", &running) ||
	    !json_object_is_type(running, json_type_boolean))
		return -EBADMSG;
	*ret_status = status;
	*ret_running = json_object_get_boolean(running);
	return 0;
}
