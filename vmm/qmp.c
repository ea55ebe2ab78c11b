/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QMP message parser. Pure. */
#include "qmp.h"

#include "qemu-argv.h"

#include <errno.h>
#include <stdlib.h>
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

/* /dev/fdset/N of a layer below a disk, which netd passed (qemu-argv.h: 100 + 16 slot + layer). */
static bool netd_layer_file(const char *filename)
{
	char *end;
	long n;

	if (!filename || strncmp(filename, "/dev/fdset/", 11))
		return false;
	n = strtol(filename + 11, &end, 10);
	return !*end && end != filename + 11 && n > QEMU_FDSET_LAYER0 &&
	       n < QEMU_FDSET_LAYER0 + 16 * GUEST_DISKS_MAX && n % 16 != QEMU_FDSET_LAYER0 % 16;
}

/* A node QEMU describes as json:{...} (an explicit backing= differs from the header): only files
 * netd passed for layers, nodes by name, and the drivers netd uses. */
static bool netd_layer_json(json_object *o, int depth)
{
	if (depth > 2 * (QEMU_LAYERS_MAX + 2) || !json_object_is_type(o, json_type_object))
		return false;
	json_object_object_foreach(o, key, v) {
		if (!strcmp(key, "filename")) {
			if (!json_object_is_type(v, json_type_string) ||
			    !netd_layer_file(json_object_get_string(v)))
				return false;
		} else if (!strcmp(key, "driver")) {
			const char *d = json_object_get_string(v);

			if (!json_object_is_type(v, json_type_string) ||
			    (strcmp(d, "file") && strcmp(d, "raw") && strcmp(d, "qcow2")))
				return false;
		} else if (!strcmp(key, "file") || !strcmp(key, "backing")) {
			if (!json_object_is_type(v, json_type_string) && !netd_layer_json(v, depth + 1))
				return false;
		} else {
			return false;
		}
	}
	return true;
}

static bool netd_layer(const char *filename)
{
	json_object *o;
	bool ok;

	if (!filename || strncmp(filename, "json:", 5))
		return netd_layer_file(filename);
	o = json_tokener_parse(filename + 5);
	ok = o && netd_layer_json(o, 0);
	json_object_put(o);
	return ok;
}

int qmp_block_external_files(json_object *ret, char *what, size_t size)
{
	if (!json_object_is_type(ret, json_type_array))
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(ret); i++) {
		json_object *dev = json_object_array_get_idx(ret, i), *inserted, *image, *spec, *data, *v,
			    *below;
		const char *name = get_string(dev, "device") ?: get_string(dev, "qdev") ?: "?";

		if (!json_object_object_get_ex(dev, "inserted", &inserted))
			continue;
		if (!json_object_object_get_ex(inserted, "image", &image)) {
			snprintf(what, size, "%s: no image information", name);
			return 1; /* not what netd passed: refuse rather than guess */
		}
		/* Down the chain: a layer below that netd passed (its own fd set: the node was linked
		 * explicitly) is fine, whatever the header above it says; a name QEMU followed is not. */
		for (int depth = 0; image && depth <= QEMU_LAYERS_MAX + 1; depth++) {
			if (json_object_object_get_ex(image, "format-specific", &spec) &&
			    json_object_object_get_ex(spec, "data", &data) &&
			    json_object_object_get_ex(data, "data-file", &v)) {
				snprintf(what, size, "%s: a data file (%s)", name,
					 json_object_is_type(v, json_type_string) ?
						 json_object_get_string(v) :
						 "?");
				return 1;
			}
			if (json_object_object_get_ex(image, "backing-image", &below)) {
				const char *file = get_string(below, "filename");

				if (!netd_layer(file)) {
					snprintf(what, size, "%s: a backing file (%s)", name,
						 file ?: "an image");
					return 1;
				}
				image = below;
				continue;
			}
			if ((depth == 0 && json_object_object_get_ex(inserted, "backing_file", &v)) ||
			    json_object_object_get_ex(image, "backing-filename", &v)) {
				snprintf(what, size, "%s: a backing file (%s)", name,
					 json_object_is_type(v, json_type_string) ?
						 json_object_get_string(v) :
						 "an image");
				return 1;
			}
			image = NULL;
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

/* The props that place a vCPU, in the order that numbers them. */
static const char *const cpu_prop_order[] = { "node-id", "drawer-id",  "book-id", "socket-id",
					      "die-id",	 "cluster-id", "core-id", "thread-id" };

/* A prop's place in cpu_prop_order; -1 for any other name (which device_add never gets: a prop
 * named "driver" or "id" would replace netd's own arguments). */
static int cpu_prop_rank(const char *name)
{
	for (size_t i = 0; i < sizeof(cpu_prop_order) / sizeof(cpu_prop_order[0]); i++)
		if (!strcmp(name, cpu_prop_order[i]))
			return (int)i;
	return -1;
}

/* A CPU type as QEMU names them ("qemu64-x86_64-cpu"): device_add makes one of those, nothing else. */
static bool cpu_type_valid(const char *type)
{
	size_t n = strlen(type);

	return n > 4 && n < sizeof(((struct qmp_cpu_slot *)0)->type) && !strcmp(type + n - 4, "-cpu") &&
	       strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int cpu_slot_parse(json_object *o, struct qmp_cpu_slot *ret)
{
	struct qmp_cpu_slot s = { .vcpus = 1 };
	const char *type = get_string(o, "type");
	json_object *props, *v;

	if (!type || !cpu_type_valid(type) || !json_object_object_get_ex(o, "props", &props) ||
	    !json_object_is_type(props, json_type_object))
		return -EBADMSG;
	snprintf(s.type, sizeof(s.type), "%s", type);
	if (json_object_object_get_ex(o, "vcpus-count", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
		    json_object_get_int64(v) > 1024)
			return -EBADMSG;
		s.vcpus = (unsigned)json_object_get_int64(v);
	}
	s.plugged = json_object_object_get_ex(o, "qom-path", NULL);
	json_object_object_foreach(props, key, val) {
		size_t k = s.n_props;

		if (k == QMP_CPU_PROPS_MAX || cpu_prop_rank(key) < 0 ||
		    !json_object_is_type(val, json_type_int))
			return -EBADMSG;
		/* Insertion by rank: the props end up in placing order. */
		while (k > 0 && cpu_prop_rank(s.props[k - 1].name) > cpu_prop_rank(key)) {
			s.props[k] = s.props[k - 1];
			k--;
		}
		snprintf(s.props[k].name, sizeof(s.props[k].name), "%s", key);
		s.props[k].value = json_object_get_int64(val);
		s.n_props++;
	}
	*ret = s;
	return 0;
}

static int cpu_slot_cmp(const void *a, const void *b)
{
	const struct qmp_cpu_slot *x = a, *y = b;

	for (size_t i = 0; i < x->n_props && i < y->n_props; i++) {
		int c = strcmp(x->props[i].name, y->props[i].name);

		if (c)
			return c;
		if (x->props[i].value != y->props[i].value)
			return x->props[i].value < y->props[i].value ? -1 : 1;
	}
	return (int)x->n_props - (int)y->n_props;
}

int qmp_cpu_slots_parse(json_object *ret, struct qmp_cpu_slot *slots, size_t max, size_t *ret_n)
{
	size_t n;

	if (!json_object_is_type(ret, json_type_array))
		return -EBADMSG;
	n = json_object_array_length(ret);
	if (n > max)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if (cpu_slot_parse(json_object_array_get_idx(ret, i), &slots[i]) < 0)
			return -EBADMSG;
	qsort(slots, n, sizeof(*slots), cpu_slot_cmp);
	/* Two slots in one place: device_add could not tell them apart. */
	for (size_t i = 1; i < n; i++)
		if (cpu_slot_cmp(&slots[i - 1], &slots[i]) == 0)
			return -EBADMSG;
	*ret_n = n;
	return 0;
}

unsigned qmp_cpu_slots_present(const struct qmp_cpu_slot *slots, size_t n)
{
	unsigned present = 0;

	for (size_t i = 0; i < n; i++)
		if (slots[i].plugged)
			present += slots[i].vcpus;
	return present;
}

int qmp_cpu_plan(const struct qmp_cpu_slot *slots, size_t n, unsigned want, size_t *ret)
{
	unsigned have = qmp_cpu_slots_present(slots, n);
	int k = 0;

	if (want < have)
		return -EBUSY;
	for (size_t i = 0; i < n && have < want; i++) {
		if (slots[i].plugged || have + slots[i].vcpus > want)
			continue;
		ret[k++] = i;
		have += slots[i].vcpus;
	}
	return have == want ? k : -ERANGE;
}

json_object *qmp_cpu_device_add_args(const struct qmp_cpu_slot *slot, const char *id)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "driver", json_object_new_string(slot->type));
	json_object_object_add(o, "id", json_object_new_string(id));
	for (size_t i = 0; i < slot->n_props; i++)
		if (cpu_prop_rank(slot->props[i].name) >= 0) /* never "driver" or "id" */
			json_object_object_add(o, slot->props[i].name,
					       json_object_new_int64(slot->props[i].value));
	return o;
}

int qmp_cpus_count(json_object *ret)
{
	if (!json_object_is_type(ret, json_type_array))
		return -EBADMSG;
	return (int)json_object_array_length(ret);
}

int qmp_balloon_actual(json_object *o, uint64_t *ret_bytes)
{
	json_object *v;

	if (!json_object_object_get_ex(o, "actual", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return -EBADMSG;
	*ret_bytes = (uint64_t)json_object_get_int64(v);
	return 0;
}

static int snapshot_parse(json_object *s, struct disk_snapshot *ret)
{
	const char *name = get_string(s, "name"), *id = get_string(s, "id");
	json_object *v;

	if (!name || !id)
		return -EBADMSG;
	*ret = (struct disk_snapshot){};
	snprintf(ret->id, sizeof(ret->id), "%s", id);
	snprintf(ret->name, sizeof(ret->name), "%s", name);
	if (json_object_object_get_ex(s, "vm-state-size", &v) && json_object_is_type(v, json_type_int))
		ret->vm_state_size = (uint64_t)json_object_get_int64(v);
	if (json_object_object_get_ex(s, "date-sec", &v) && json_object_is_type(v, json_type_int))
		ret->date_sec = json_object_get_int64(v);
	return 0;
}

int qmp_node_snapshots(json_object *ret, const char *node, struct disk_snapshot *snaps, size_t max,
		       size_t *ret_n)
{
	size_t n = 0;

	if (!json_object_is_type(ret, json_type_array))
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(ret); i++) {
		json_object *b = json_object_array_get_idx(ret, i), *image, *list;
		const char *name = get_string(b, "node-name");

		if (!name || strcmp(name, node))
			continue;
		if (!json_object_object_get_ex(b, "image", &image))
			return -EBADMSG;
		/* no "snapshots" key: none */
		if (json_object_object_get_ex(image, "snapshots", &list)) {
			if (!json_object_is_type(list, json_type_array))
				return -EBADMSG;
			for (size_t k = 0; k < json_object_array_length(list); k++) {
				if (n == max)
					return -E2BIG;
				if (snapshot_parse(json_object_array_get_idx(list, k), &snaps[n]) < 0)
					return -EBADMSG;
				n++;
			}
		}
		*ret_n = n;
		return 0;
	}
	return -ENOENT;
}

int qmp_job_status(json_object *ret, const char *id, char *status, size_t status_size, char *error,
		   size_t error_size)
{
	if (!json_object_is_type(ret, json_type_array))
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(ret); i++) {
		json_object *j = json_object_array_get_idx(ret, i);
		const char *jid = get_string(j, "id"), *st = get_string(j, "status"), *err;

		if (!jid || strcmp(jid, id))
			continue;
		if (!st)
			return -EBADMSG;
		snprintf(status, status_size, "%s", st);
		err = get_string(j, "error");
		snprintf(error, error_size, "%s", err ?: "");
		return err ? 1 : 0;
	}
	return -ENOENT;
}

int qmp_job_event(const struct qmp_message *m, const char **ret_id, const char **ret_status)
{
	const char *id, *st;

	if (m->type != QMP_MESSAGE_EVENT || !m->event || strcmp(m->event, "JOB_STATUS_CHANGE") || !m->data)
		return -EBADMSG;
	id = get_string(m->data, "id");
	st = get_string(m->data, "status");
	if (!id || !st)
		return -EBADMSG;
	*ret_id = id;
	*ret_status = st;
	return 0;
}
