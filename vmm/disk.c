/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "disk.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *disk_name_invalid_reason(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "a disk name must not be empty";
	if (len > NAME_MAX)
		return "a disk name is at most 255 bytes";
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != len)
		return "a disk name is a file name in the pool: letters, digits, '.', '_' and '-' only";
	if (name[0] == '.')
		return "a disk name must not start with '.'";
	return NULL;
}

int disk_size_parse(const char *s, bool allow_plus, uint64_t *ret, bool *ret_grow, char *err, size_t errlen)
{
	const char *p = s;
	bool grow = false;
	unsigned shift = 0;
	uint64_t v = 0;

	if (allow_plus && *p == '+') {
		grow = true;
		p++;
	}
	if (*p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (DISK_SIZE_MAX - (*p - '0')) / 10)
			goto too_big;
		v = v * 10 + (*p - '0');
	}
	if (*p) {
		const char *suffixes = "KMGT", *at = strchr(suffixes, *p);

		if (!at || p[1])
			goto bad;
		shift = 10 * (unsigned)(at - suffixes + 1);
	}
	if (v > DISK_SIZE_MAX >> shift)
		goto too_big;
	v <<= shift;
	if (v == 0) {
		snprintf(err, errlen, "invalid size '%s': it must be more than 0", s);
		return -EINVAL;
	}
	*ret = v;
	if (ret_grow)
		*ret_grow = grow;
	return 0;
bad:
	snprintf(err, errlen, "invalid size '%.64s': expected a number with K, M, G or T", s);
	return -EINVAL;
too_big:
	snprintf(err, errlen, "invalid size '%.64s': at most 64T", s);
	return -EINVAL;
}

static void argv_start(struct disk_argv *a, const char *qemu_img, const char *verb, enum disk_format f,
		       int fd)
{
	size_t n = 0;

	snprintf(a->path, sizeof(a->path), "/dev/fd/%d", fd);
	a->argv[n++] = (char *)qemu_img;
	a->argv[n++] = (char *)verb;
	a->argv[n++] = "-f";
	a->argv[n++] = (char *)disk_format_to_string(f);
	a->argv[n] = NULL;
}

static void argv_add(struct disk_argv *a, const char *s)
{
	size_t n = 0;

	while (a->argv[n])
		n++;
	a->argv[n++] = (char *)s;
	a->argv[n] = NULL;
}

/* qemu-img VERB -f F -q PATH SIZE: the size in bytes (no suffix for qemu-img to read); -q: no
 * "Formatting ..." line. */
static void argv_sized(struct disk_argv *a, const char *qemu_img, const char *verb, enum disk_format f, int fd,
		       uint64_t size)
{
	argv_start(a, qemu_img, verb, f, fd);
	argv_add(a, "-q");
	argv_add(a, a->path);
	snprintf(a->size, sizeof(a->size), "%" PRIu64, size);
	argv_add(a, a->size);
}

void disk_argv_create(struct disk_argv *a, const char *qemu_img, enum disk_format f, int fd, uint64_t size)
{
	argv_sized(a, qemu_img, "create", f, fd, size);
}

void disk_argv_resize(struct disk_argv *a, const char *qemu_img, enum disk_format f, int fd, uint64_t size)
{
	if (f == DISK_FORMAT_QCOW2)
		disk_argv_resize_overlay(a, qemu_img, fd, size);
	else
		argv_sized(a, qemu_img, "resize", f, fd, size);
}

void disk_argv_info(struct disk_argv *a, const char *qemu_img, enum disk_format f, int fd)
{
	if (f == DISK_FORMAT_QCOW2) {
		/* its json: options, "backing": null: no name in the header is followed */
		a->argv[0] = (char *)qemu_img;
		a->argv[1] = "info";
		a->argv[2] = NULL;
		disk_chain_opts(a->opts, sizeof(a->opts), &f, &fd, 1);
	} else {
		argv_start(a, qemu_img, "info", f, fd);
	}
	/* -U: a running guest holds the image's lock; info only reads. No --backing-chain: the
	 * backing file is named, never opened. */
	argv_add(a, "-U");
	argv_add(a, "--output=json");
	argv_add(a, f == DISK_FORMAT_QCOW2 ? a->opts : a->path);
}

void disk_argv_create_overlay(struct disk_argv *a, const char *qemu_img, int fd, const char *base,
			      enum disk_format base_format, uint64_t size)
{
	argv_start(a, qemu_img, "create", DISK_FORMAT_QCOW2, fd);
	argv_add(a, "-q");
	argv_add(a, "-u");
	argv_add(a, "-b");
	argv_add(a, base);
	argv_add(a, "-F");
	argv_add(a, disk_format_to_string(base_format));
	argv_add(a, a->path);
	snprintf(a->size, sizeof(a->size), "%" PRIu64, size);
	argv_add(a, a->size);
}

/* One layer and, nested in it, the ones below: the last qcow2 one with "backing": null. */
static json_object *chain_layer(const enum disk_format *formats, const int *fds, size_t n)
{
	json_object *o = json_object_new_object(), *file = json_object_new_object();
	char path[32];

	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	json_object_object_add(o, "driver", json_object_new_string(disk_format_to_string(formats[0])));
	json_object_object_add(file, "driver", json_object_new_string("file"));
	json_object_object_add(file, "filename", json_object_new_string(path));
	json_object_object_add(o, "file", file);
	if (n > 1)
		json_object_object_add(o, "backing", chain_layer(formats + 1, fds + 1, n - 1));
	else if (formats[0] == DISK_FORMAT_QCOW2)
		json_object_object_add(o, "backing", NULL); /* none, whatever the header names */
	return o;
}

int disk_chain_opts(char *buf, size_t size, const enum disk_format *formats, const int *fds, size_t n)
{
	json_object *o;
	int k;

	if (n == 0 || n > DISK_CHAIN_MAX)
		return -E2BIG;
	o = chain_layer(formats, fds, n);
	k = snprintf(buf, size, "json:%s",
		     json_object_to_json_string_ext(o,
						    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return k < 0 || (size_t)k >= size ? -E2BIG : 0;
}

void disk_argv_resize_overlay(struct disk_argv *a, const char *qemu_img, int fd, uint64_t size)
{
	a->argv[0] = (char *)qemu_img;
	a->argv[1] = "resize";
	a->argv[2] = NULL;
	argv_add(a, "-q");
	disk_chain_opts(a->opts, sizeof(a->opts), (enum disk_format[]){ DISK_FORMAT_QCOW2 }, &fd, 1);
	argv_add(a, a->opts);
	snprintf(a->size, sizeof(a->size), "%" PRIu64, size);
	argv_add(a, a->size);
}

int disk_argv_convert(struct disk_argv *a, const char *qemu_img, const enum disk_format *formats,
		      const int *fds, size_t n, enum disk_format out_format, int out_fd)
{
	int r = disk_chain_opts(a->opts, sizeof(a->opts), formats, fds, n);

	if (r < 0)
		return r;
	snprintf(a->path, sizeof(a->path), "/dev/fd/%d", out_fd);
	a->argv[0] = (char *)qemu_img;
	a->argv[1] = "convert";
	a->argv[2] = NULL;
	argv_add(a, "-p");
	argv_add(a, "-O");
	argv_add(a, disk_format_to_string(out_format));
	argv_add(a, a->opts);
	argv_add(a, a->path);
	return 0;
}

double disk_progress_parse(const char *text)
{
	double last = -1;

	for (size_t i = 0; text[i]; i++) {
		double v;
		int end = 0;

		if (text[i] != '(')
			continue;
		/* "(12.50/100%)": a complete one only */
		if (sscanf(text + i, "(%lf/100%%)%n", &v, &end) == 1 && end > 0 && v >= 0 && v <= 100)
			last = v;
	}
	return last;
}

static bool get_u64(json_object *o, const char *key, uint64_t *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = (uint64_t)json_object_get_int64(v);
	return json_object_get_int64(v) >= 0;
}

static void get_str(json_object *o, const char *key, char *buf, size_t size)
{
	json_object *v;

	buf[0] = 0;
	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(buf, size, "%s", json_object_get_string(v));
}

static int parse_snapshots(json_object *o, struct disk_info *ret)
{
	json_object *a;

	if (!json_object_object_get_ex(o, "snapshots", &a))
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return -EINVAL;
	for (size_t i = 0; i < json_object_array_length(a) && ret->n_snapshots < DISK_SNAPSHOTS_MAX; i++) {
		json_object *s = json_object_array_get_idx(a, i);
		struct disk_snapshot *d = &ret->snapshots[ret->n_snapshots++];
		uint64_t date = 0;

		if (!json_object_is_type(s, json_type_object))
			return -EINVAL;
		get_str(s, "id", d->id, sizeof(d->id));
		get_str(s, "name", d->name, sizeof(d->name));
		get_u64(s, "vm-state-size", &d->vm_state_size);
		get_u64(s, "date-sec", &date);
		d->date_sec = (int64_t)date;
	}
	return 0;
}

int disk_info_parse(const char *json, struct disk_info *ret, char *err, size_t errlen)
{
	json_object *o = json_tokener_parse(json), *v;
	struct disk_info *info = calloc(1, sizeof(*info));
	int r = -EINVAL;

	if (!info) {
		json_object_put(o);
		return -ENOMEM;
	}
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "qemu-img info did not answer JSON");
		goto out;
	}
	get_str(o, "format", info->format, sizeof(info->format));
	if (!info->format[0] || !get_u64(o, "virtual-size", &info->virtual_size)) {
		snprintf(err, errlen, "qemu-img info gave no format or virtual size");
		goto out;
	}
	get_u64(o, "actual-size", &info->actual_size);
	get_str(o, "backing-filename", info->backing_file, sizeof(info->backing_file));
	if (json_object_object_get_ex(o, "dirty-flag", &v))
		info->dirty = json_object_get_boolean(v);
	if (parse_snapshots(o, info) < 0) {
		snprintf(err, errlen, "qemu-img info gave a malformed snapshot list");
		goto out;
	}
	*ret = *info;
	r = 0;
out:
	free(info);
	json_object_put(o);
	return r;
}

bool disk_qcow2_virtual_size(const uint8_t *h, size_t len, uint64_t *ret)
{
	static const uint8_t magic[4] = { 'Q', 'F', 'I', 0xfb };
	uint64_t v = 0;

	if (len < 32 || memcmp(h, magic, sizeof(magic)))
		return false;
	for (int i = 24; i < 32; i++)
		v = v << 8 | h[i];
	*ret = v;
	return true;
}

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

bool disk_qcow2_header_parse(const uint8_t *h, size_t len, struct disk_qcow2_header *ret)
{
	struct disk_qcow2_header q = {};

	if (!disk_qcow2_virtual_size(h, len, &q.virtual_size) || len < 72)
		return false;
	q.version = (uint32_t)be(h + 4, 4);
	q.backing_offset = be(h + 8, 8);
	q.backing_len = (uint32_t)be(h + 16, 4);
	if (q.version >= 3) {
		if (len < DISK_QCOW2_HEADER_LEN)
			return false;
		q.incompatible = be(h + 72, 8);
	}
	*ret = q;
	return true;
}

const char *disk_qcow2_refuse_reason(const struct disk_qcow2_header *h, bool has_backing)
{
	if (h->incompatible & DISK_QCOW2_INCOMPAT_DATA_FILE)
		return "its qcow2 header names an external data file (netd never makes one: the header "
		       "was changed outside netd)";
	if (h->backing_offset && !has_backing)
		return "its qcow2 header names a backing file netd did not record (the header was changed "
		       "outside netd)";
	return NULL;
}

const char *disk_qcow2_file_refuse_reason(const uint8_t *start, size_t n, bool has_backing)
{
	uint8_t h[DISK_QCOW2_HEADER_LEN] = {};
	struct disk_qcow2_header q;

	/* What QEMU reads of a short file: its bytes, then zeros (a short read is zero-padded). */
	memcpy(h, start, n < sizeof(h) ? n : sizeof(h));
	if (!disk_qcow2_header_parse(h, sizeof(h), &q))
		return NULL; /* not qcow2: qemu-img, told qcow2, refuses it */
	return disk_qcow2_refuse_reason(&q, has_backing);
}

int disk_record_parse(const char *text, struct disk_record *ret)
{
	struct disk_record r = { .format = _DISK_FORMAT_INVALID };
	bool have_inode = false;

	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		char key[16], value[256];
		const char *eq = memchr(line, '=', len);
		size_t klen = eq ? (size_t)(eq - line) : 0, vlen = eq ? len - klen - 1 : 0;

		if (!eq || klen >= sizeof(key) || vlen >= sizeof(value))
			return -EINVAL;
		memcpy(key, line, klen);
		key[klen] = 0;
		memcpy(value, eq + 1, vlen);
		value[vlen] = 0;
		if (!strcmp(key, "format")) {
			r.format = disk_format_from_string(value);
		} else if (!strcmp(key, "backing")) {
			if (disk_name_invalid_reason(value))
				return -EINVAL;
			snprintf(r.backing, sizeof(r.backing), "%s", value);
		} else if (!strcmp(key, "inode") || !strcmp(key, "born")) {
			uint64_t *v = key[0] == 'i' ? &r.inode : &r.born_ns;
			char *end;

			errno = 0;
			*v = strtoull(value, &end, 10);
			if (!vlen || *end || value[0] == '-' || errno)
				return -EINVAL;
			have_inode |= key[0] == 'i';
		} /* other keys: a later netd's, ignored */
		line += len;
		if (*line)
			line++;
	}
	if (r.format == _DISK_FORMAT_INVALID || !have_inode)
		return -EINVAL;
	*ret = r;
	return 0;
}

int disk_record_format(const struct disk_record *r, char *buf, size_t size)
{
	int k = snprintf(buf, size, "format=%s\n%s%s%sinode=%" PRIu64 "\nborn=%" PRIu64 "\n",
			 disk_format_to_string(r->format), r->backing[0] ? "backing=" : "", r->backing,
			 r->backing[0] ? "\n" : "", r->inode, r->born_ns);

	return k < 0 || (size_t)k >= size ? -E2BIG : 0;
}

const char *disk_snapshot_name_invalid_reason(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > DISK_SNAPSHOT_NAME_MAX)
		return "a snapshot name has 1 to 64 characters";
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return "only letters, digits, '.', '_' and '-' are allowed";
	if (name[0] == '-')
		return "a name must not start with '-' (it would look like an option)";
	/* qemu-img snapshot -a/-d and qcow2 match a snapshot's numeric ID before its name */
	if (strspn(name, "0123456789") == n)
		return "a name of digits only is taken for a snapshot's numeric ID by qemu-img";
	return NULL;
}

void disk_argv_snapshot(struct disk_argv *a, const char *qemu_img, enum disk_snapshot_op op, const char *tag,
			int fd)
{
	static const char *const flags[] = {
		[DISK_SNAPSHOT_CREATE] = "-c",
		[DISK_SNAPSHOT_APPLY] = "-a",
		[DISK_SNAPSHOT_DELETE] = "-d",
	};

	a->argv[0] = (char *)qemu_img;
	a->argv[1] = "snapshot";
	a->argv[2] = NULL;
	argv_add(a, "-q");
	argv_add(a, flags[op]);
	argv_add(a, tag);
	/* The top layer alone, "backing": null: no name in its header is followed (internal
	 * snapshots live in this file; an overlay's clusters below it are never read). */
	disk_chain_opts(a->opts, sizeof(a->opts), (enum disk_format[]){ DISK_FORMAT_QCOW2 }, &fd, 1);
	argv_add(a, a->opts);
}
