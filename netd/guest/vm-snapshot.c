/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshots (netdctl vm snapshot create|list|revert|delete; issue 16): internal snapshots of a
 * guest's qcow2 disks, all of them under one name.
 *
 * A running guest: QMP jobs snapshot-save / snapshot-load / snapshot-delete (QEMU >= 6) with
 * "devices" every writable qcow2 disk's node (disk<slot>) and "vmstate" the first of them: the
 * guest's memory goes with the disks, and QEMU pauses the guest while it saves or loads (it resumes
 * it after, when it ran). netd waits for the job's JOB_STATUS_CHANGE "concluded", reads its error
 * with query-jobs, then job-dismiss. Existence is checked first (query-named-block-nodes).
 *
 * A job netd stops waiting for (timeout, destroy of the call) is "left": its id is kept (a few) until
 * its "concluded" comes, then dismissed; only those are dismissed (a QEMU sending events for other
 * ids gets nothing back), and disks are not attached or detached while one is in QEMU. Job ids carry
 * netd's run (netd-snap-RUN-N): after a restart, adoption asks QEMU for its jobs (query-jobs) and
 * dismisses concluded netd-snap-* ones (or keeps those still running as left).
 *
 * Only root or the guest's owner (a guest without one is root's) creates, reverts or deletes
 * snapshots; anyone who may read the guest lists them. A disk that is the base of an overlay (vm
 * clone, disk create --backing) is not written: refused as vm start refuses it.
 *
 * A live snapshot records the machine's shape (vCPUs present, memory, each disk's slot and path) in
 * <state>/guests/NAME/snapshot-shapes; a live revert into a guest whose shape changed since (set-vcpus,
 * attach/detach-disk) is refused: QEMU would load part of it and fail, leaving a mix.
 *
 * A stopped guest: qemu-img snapshot -c/-a/-d on each disk, opened by netd with the requester's
 * rights as a start opens them (vm_file_open_disk) and given to a confined qemu-img as /dev/fd/3 in
 * the json: form with "backing": null (no name in a header is followed). Such a snapshot has no
 * memory state. Reverting a stopped guest to a snapshot taken live restores its disks only: the
 * guest boots from them (as after a power loss at that moment); the answer says so.
 *
 * Raw disks cannot hold a snapshot: a guest with a writable raw disk is refused. Readonly disks are
 * skipped (they cannot change, so every snapshot has them as they are). Descriptions (QEMU's
 * snapshots have none) are kept in <state>/guests/NAME/snapshots, "SNAP<TAB>TEXT" a line, 0600 (they
 * are served through netd to whoever may read the guest); a list drops the lines of snapshots gone.
 *
 * The stopped path runs qemu-img synchronously (up to 30 s a disk, as disk.c): netd's loop waits
 * meanwhile. A disk holds at most 64 snapshots for netd (create refused at 64; a list of more is
 * marked truncated).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "disk-pool.h"
#include "disk.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "store.h"
#include "vm-files.h"
#include "vm.h"

#define SNAP_JOB_TIMEOUT_SEC_DEFAULT 600
#define SNAP_QEMU_IMG_TIMEOUT_MS 30000
#define SNAP_DESCRIPTION_MAX 256
#define SNAP_ROWS_MAX DISK_SNAPSHOTS_MAX
#define SNAP_FILE "snapshots"
#define SHAPE_FILE "snapshot-shapes"
#define SNAP_LEFT_MAX 4
#define SNAP_JOB_ID_MAX 48

enum snap_op {
	SNAP_CREATE,
	SNAP_REVERT,
	SNAP_DELETE,
	SNAP_LIST,
};

static const char *const op_job[] = {
	[SNAP_CREATE] = "snapshot-save",
	[SNAP_REVERT] = "snapshot-load",
	[SNAP_DELETE] = "snapshot-delete",
};

static const char *const op_doing[] = {
	[SNAP_CREATE] = "saving",
	[SNAP_REVERT] = "loading",
	[SNAP_DELETE] = "deleting",
};

/* A snapshot name on the guest's disks: the disks (bit i: definition disk i) that have it. */
struct snap_row {
	char name[DISK_SNAPSHOT_NAME_MAX + 64];
	int64_t date_sec;
	uint64_t vm_state_size;
	unsigned disks;
};

struct snap_list {
	struct snap_row rows[SNAP_ROWS_MAX];
	size_t n;
	unsigned disks; /* the disks a snapshot goes on */
	bool full; /* a disk has DISK_SNAPSHOTS_MAX: no more */
	bool truncated; /* rows were left out (or may be: a disk with DISK_SNAPSHOTS_MAX) */
};

/* One request on a running guest, from its call until the call is answered. */
struct snap_req {
	struct call *call; /* v->pending while it is under way */
	enum snap_op op;
	bool waiting; /* a command's answer has not come yet */
	bool job_running; /* the job was accepted; its JOB_STATUS_CHANGE concluded has not come */
	bool concluded; /* its JOB_STATUS_CHANGE concluded came (maybe before the command's return) */
	bool job_sent; /* the job's command went to QEMU: its id is QEMU's until dismissed */
	bool dismissed; /* job-dismiss sent */
	char tag[DISK_SNAPSHOT_NAME_MAX + 1];
	char description[SNAP_DESCRIPTION_MAX + 1];
	char shape[17]; /* the machine's shape when asked (shape_hash) */
	char job[SNAP_JOB_ID_MAX];
	unsigned disks;
	unsigned timeout_sec;
	sd_event_source *timer;
};

struct vm_snap {
	/* Answers QEMU owes to requests answered otherwise (destroy, timeout): QMP answers in order. */
	unsigned stale;
	unsigned next_job;
	struct snap_req *req;
	/* Jobs whose call was answered before they concluded: dismissed when they do. */
	char left[SNAP_LEFT_MAX][SNAP_JOB_ID_MAX];
	size_t n_left;
	bool adopted; /* QEMU was adopted: ask it for left jobs once QMP is up */
};

/* This netd run's part of job ids: a restarted netd does not take a job of the one before for its
 * own. */
static char run_id[24];

void vm_snapshot_run_id_set(const char *id)
{
	snprintf(run_id, sizeof(run_id), "%s", id);
}

static const char *run_id_get(void)
{
	if (!run_id[0])
		snprintf(run_id, sizeof(run_id), "%llx%04x", (unsigned long long)time(NULL),
			 (unsigned)getpid() & 0xffff);
	return run_id;
}

/* ---- names, descriptions, the disks a snapshot covers ---- */

static int param_tag(struct call *c, json_object *params, const char **ret)
{
	const char *why;

	if (protocol_param_string(params, "snapshot", ret) < 0)
		return call_errorf(c, -EINVAL, "missing snapshot name");
	why = disk_snapshot_name_invalid_reason(*ret);
	if (why)
		return call_errorf(c, -EINVAL, "invalid snapshot name '%.64s': %s", *ret, why);
	return 0;
}

/* Printable text on one line (UTF-8 bytes pass; no control characters, no tab). */
static const char *description_invalid_reason(const char *s)
{
	if (strlen(s) > SNAP_DESCRIPTION_MAX)
		return "at most 256 bytes";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "control characters (newline, tab, ...) are not allowed";
	return NULL;
}

/*
 * The disks a snapshot of g goes on: its writable qcow2 disks (bit i: disk i). A writable raw disk
 * refuses the whole guest (raw has no room for a snapshot, and a snapshot without it would not be
 * the guest's); readonly disks are skipped.
 */
static int snap_disks(struct call *c, const struct guest *g, unsigned *ret)
{
	unsigned disks = 0;

	if (g->n_disks == 0)
		return call_errorf(c, -EMEDIUMTYPE, "guest '%s' has no disk: nothing to snapshot", g->name);
	for (size_t i = 0; i < g->n_disks; i++) {
		if (g->disks[i].readonly)
			continue;
		if (g->disks[i].format != DISK_FORMAT_QCOW2)
			return call_errorf(
				c, -EMEDIUMTYPE,
				"guest '%s': disk%zu (%s) is raw: a raw disk cannot hold a snapshot; convert "
				"it to qcow2 (netdctl disk convert) or make it readonly",
				g->name, i, g->disks[i].path);
		disks |= 1u << i;
	}
	if (!disks)
		return call_errorf(c, -EMEDIUMTYPE,
				   "guest '%s' has only readonly disks: nothing a snapshot would keep",
				   g->name);
	*ret = disks;
	return 0;
}

static struct snap_row *list_find(struct snap_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->rows[i].name, name))
			return &l->rows[i];
	return NULL;
}

/* Disk i's snapshots into the list (n: how many it has; may be more than DISK_SNAPSHOTS_MAX). */
static void list_add(struct snap_list *l, size_t disk, const struct disk_snapshot *s, size_t n)
{
	if (n >= DISK_SNAPSHOTS_MAX)
		l->full = l->truncated = true;
	for (size_t k = 0; k < n; k++) {
		struct snap_row *r = list_find(l, s[k].name);

		if (!r && l->n == SNAP_ROWS_MAX) {
			l->truncated = true;
			continue;
		}
		if (!r) {
			r = &l->rows[l->n++];
			*r = (struct snap_row){ .date_sec = s[k].date_sec };
			snprintf(r->name, sizeof(r->name), "%s", s[k].name);
		}
		r->disks |= 1u << disk;
		r->vm_state_size += s[k].vm_state_size;
	}
}

/* The text kept for tag in guest name's state file (descriptions, shapes), into buf ("" when none). */
static void line_get(struct daemon *d, const char *name, const char *file, const char *tag, char *buf,
		     size_t size)
{
	_cleanup_free_ char *text = NULL;
	size_t n = strlen(tag);

	buf[0] = 0;
	if (store_state_read(&d->paths, "guests", name, file, &text) < 0)
		return;
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (!*line)
			continue;
		if (!strncmp(line, tag, n) && line[n] == '\t') {
			snprintf(buf, size, "%s", line + n + 1);
			return;
		}
	}
}

/* root's only (0600): what an operator sees of it goes through netd. */
static int lines_write(struct daemon *d, const char *name, const char *file, const char *text)
{
	_cleanup_free_ char *dir = store_pathf("%s/guests/%s", d->paths.state_dir, name);
	_cleanup_free_ char *path = store_pathf("%s/guests/%s/%s", d->paths.state_dir, name, file);
	int r;

	if (!dir || !path)
		return -ENOMEM;
	r = mkdir_p(dir, 0755);
	return r < 0 ? r : write_file_atomic(path, text, strlen(text), 0600);
}

/*
 * Sets (text non-empty) or removes tag's line (tag NULL: keeps only the lines of l's rows); the other
 * lines stay. A file with nothing to change is not written.
 */
static int line_put(struct daemon *d, const char *name, const char *file, const char *tag, const char *text,
		    const struct snap_list *l)
{
	_cleanup_free_ char *old = NULL, *out = NULL;
	size_t n = tag ? strlen(tag) : 0, len = 0, cap;
	bool changed = false;

	if (store_state_read(&d->paths, "guests", name, file, &old) < 0 && !(text && text[0]))
		return 0;
	cap = (old ? strlen(old) : 0) + n + (text ? strlen(text) : 0) + 4;
	out = calloc(1, cap);
	if (!out)
		return -ENOMEM;
	for (char *line = old, *next; line; line = next) {
		char *tab;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (!*line)
			continue;
		tab = strchr(line, '\t');
		if ((tag && !strncmp(line, tag, n) && line[n] == '\t') ||
		    (!tag && (!tab || (*tab = 0, !list_find((struct snap_list *)l, line))))) {
			changed = true;
			continue;
		}
		if (tab && !tag)
			*tab = '\t';
		len += snprintf(out + len, cap - len, "%s\n", line);
	}
	if (tag && text && text[0]) {
		snprintf(out + len, cap - len, "%s\t%s\n", tag, text);
		changed = true;
	}
	return changed ? lines_write(d, name, file, out) : 0;
}

static int description_put(struct daemon *d, const char *name, const char *tag, const char *text)
{
	return line_put(d, name, SNAP_FILE, tag, text, NULL);
}

/* A complete list: the descriptions and shapes of snapshots no longer there go. */
static void lines_prune(struct daemon *d, const char *name, const struct snap_list *l)
{
	if (l->truncated)
		return;
	line_put(d, name, SNAP_FILE, NULL, NULL, l);
	line_put(d, name, SHAPE_FILE, NULL, NULL, l);
}

/* Created (text: its description, maybe empty) or deleted (NULL): its lines follow. */
static void lines_update(struct vm *v, const char *tag, const char *description, const char *shape)
{
	if (description_put(v->daemon, v->def.name, tag, description) < 0 ||
	    line_put(v->daemon, v->def.name, SHAPE_FILE, tag, shape, NULL) < 0)
		log_guest(LOG_WARNING, v->def.name,
			  "guest '%s': cannot keep the description of snapshot '%s'", v->def.name, tag);
}

/*
 * What a memory state loads into: vCPUs present, memory, each disk's slot, path and mode (FNV-1a
 * of it, in hex). A running guest's; QEMU fails a snapshot-load into another shape part-way.
 */
static void shape_hash(struct vm *v, char buf[17])
{
	json_object *o = json_object_new_object(), *present = NULL;
	char text[GUEST_DISKS_MAX * 300 + 128];
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned vcpus = v->def.vcpus;
	size_t len;

	vm_live_json(v, o);
	if (json_object_object_get_ex(o, "vcpus_present", &present) && present)
		vcpus = (unsigned)json_object_get_int(present);
	json_object_put(o);
	len = snprintf(text, sizeof(text), "vcpus=%u max=%u memory=%" PRIu64 "/%" PRIu64, vcpus,
		       guest_max_vcpus(&v->def), v->def.memory_mib, v->def.max_memory_mib);
	for (size_t i = 0; i < v->def.n_disks && len < sizeof(text); i++)
		len += snprintf(text + len, sizeof(text) - len, " %u:%s:%d:%d", v->disk_slot[i],
				v->def.disks[i].path, v->def.disks[i].readonly, (int)v->def.disks[i].format);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	snprintf(buf, 17, "%016" PRIx64, h);
}

static json_object *list_json(struct vm *v, const struct snap_list *l)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	for (size_t i = 0; i < l->n; i++) {
		const struct snap_row *r = &l->rows[i];
		json_object *s = json_object_new_object(), *disks = json_object_new_array();
		char date[64] = "", desc[SNAP_DESCRIPTION_MAX + 1];
		struct tm tm;
		time_t t = (time_t)r->date_sec;

		if (gmtime_r(&t, &tm))
			strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
		line_get(v->daemon, v->def.name, SNAP_FILE, r->name, desc, sizeof(desc));
		for (size_t k = 0; k < v->def.n_disks; k++)
			if (r->disks & (1u << k))
				json_object_array_add(disks, json_object_new_string(v->def.disks[k].path));
		json_object_object_add(s, "name", json_object_new_string(r->name));
		json_object_object_add(s, "date", json_object_new_string(date));
		json_object_object_add(s, "date_sec", json_object_new_int64(r->date_sec));
		json_object_object_add(s, "vm_state_size", json_object_new_int64((int64_t)r->vm_state_size));
		json_object_object_add(s, "memory", json_object_new_boolean(r->vm_state_size > 0));
		json_object_object_add(s, "description", json_object_new_string(desc));
		/* on every disk a snapshot goes on now (a disk attached since lacks it) */
		json_object_object_add(s, "complete",
				       json_object_new_boolean((r->disks & l->disks) == l->disks));
		json_object_object_add(s, "disks", disks);
		json_object_array_add(a, s);
	}
	json_object_object_add(o, "guest", json_object_new_string(v->def.name));
	json_object_object_add(o, "state", json_object_new_string(vm_state_to_string(v->state)));
	json_object_object_add(o, "snapshots", a);
	json_object_object_add(o, "truncated", json_object_new_boolean(l->truncated));
	return o;
}

/* Whether tag may be created (absent), reverted to or deleted (present) with list l; c's error set. */
static int check_tag(struct call *c, struct vm *v, const struct snap_list *l, enum snap_op op,
		     const char *tag)
{
	struct snap_row *r = list_find((struct snap_list *)l, tag);

	if (op == SNAP_CREATE && r)
		return call_errorf(
			c, -EEXIST,
			"guest '%s' has a snapshot '%s' already: delete it first or choose another name",
			v->def.name, tag);
	if (op == SNAP_CREATE && l->full)
		return call_errorf(c, -ENOSPC,
				   "guest '%s': a disk has %d snapshots, the most netd keeps on one: delete "
				   "one first",
				   v->def.name, DISK_SNAPSHOTS_MAX);
	if (op != SNAP_CREATE && !r)
		return call_errorf(c, -ENOENT,
				   "guest '%s' has no snapshot '%s' (netdctl vm snapshot list %s)",
				   v->def.name, tag, v->def.name);
	if (op == SNAP_REVERT && (r->disks & l->disks) != l->disks)
		return call_errorf(c, -ENOENT,
				   "guest '%s': snapshot '%s' is not on all of its disks (one was attached "
				   "after it was taken): reverting would mix states; detach that disk first",
				   v->def.name, tag);
	if (op == SNAP_REVERT && vm_running(v) && r->vm_state_size == 0)
		return call_errorf(
			c, -EOPNOTSUPP,
			"guest '%s': snapshot '%s' was taken while the guest was stopped and has no "
			"memory state: a running guest cannot go back to it; stop the guest, then "
			"revert (its disks)",
			v->def.name, tag);
	return 0;
}

/* ---- a stopped guest: qemu-img on each disk ---- */

/* The disks a snapshot goes on, opened with the requester's rights: fds[i] (-1 for the others). */
static int offline_open(struct call *c, struct vm *v, unsigned disks, int fds[GUEST_DISKS_MAX])
{
	struct process_cred who;
	char err[1024];

	vm_cred_from_peer(&c->peer, &who);
	for (size_t i = 0; i < GUEST_DISKS_MAX; i++)
		fds[i] = -1;
	for (size_t i = 0; i < v->def.n_disks; i++) {
		struct vm_layers layers;
		int r;

		if (!(disks & (1u << i)))
			continue;
		/* internal snapshots live in the top layer: an overlay's lower layers are not needed */
		vm_layers_init(&layers);
		r = vm_file_open_disk(v->daemon, &v->def, &v->def.disks[i], &who, &fds[i], &layers, err,
				      sizeof(err));
		vm_layers_close(&layers);
		if (r < 0) {
			for (size_t k = 0; k < i; k++)
				if (fds[k] >= 0)
					close(fds[k]);
			return call_errorf(c, r, "%s", err);
		}
	}
	return 0;
}

static void offline_close(int fds[GUEST_DISKS_MAX])
{
	for (size_t i = 0; i < GUEST_DISKS_MAX; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The snapshots on each disk (qemu-img info: reads the file only, no backing file opened). */
static int offline_list(struct call *c, struct vm *v, const int fds[GUEST_DISKS_MAX], struct snap_list *l)
{
	_cleanup_free_ char *out = malloc(65536);
	_cleanup_free_ struct disk_info *info = malloc(sizeof(*info));

	if (!out || !info)
		return call_errorf(c, -ENOMEM, "out of memory");
	for (size_t i = 0; i < v->def.n_disks; i++) {
		struct disk_argv a;
		char err[512];
		int r;

		if (fds[i] < 0)
			continue;
		disk_argv_info(&a, QEMU_IMG, DISK_FORMAT_QCOW2, 3);
		r = disk_qemu_img(v->daemon, c, &a, fds[i], SNAP_QEMU_IMG_TIMEOUT_MS, out, 65536, err, sizeof(err));
		if (r >= 0)
			r = disk_info_parse(out, info, err, sizeof(err));
		if (r < 0)
			return call_errorf(c, r, "guest '%s': cannot read disk%zu (%s): %s", v->def.name, i,
					   v->def.disks[i].path, err);
		list_add(l, i, info->snapshots, info->n_snapshots);
	}
	return 0;
}

/* op on every disk; a create that fails part-way deletes what it made. */
static int offline_apply(struct call *c, struct vm *v, const int fds[GUEST_DISKS_MAX], enum snap_op op,
			 const char *tag, unsigned have)
{
	static const enum disk_snapshot_op img_op[] = {
		[SNAP_CREATE] = DISK_SNAPSHOT_CREATE,
		[SNAP_REVERT] = DISK_SNAPSHOT_APPLY,
		[SNAP_DELETE] = DISK_SNAPSHOT_DELETE,
	};
	unsigned done = 0, left = 0;

	for (size_t i = 0; i < v->def.n_disks; i++) {
		struct disk_argv a;
		char err[512], kept[256] = "";
		int r;

		if (fds[i] < 0 || (op != SNAP_CREATE && !(have & (1u << i))))
			continue;
		disk_argv_snapshot(&a, QEMU_IMG, img_op[op], tag, 3);
		log_guest(LOG_DEBUG, v->def.name, "guest '%s': qemu-img snapshot %s %s on disk%zu",
			  v->def.name, a.argv[3], tag, i);
		r = disk_qemu_img(v->daemon, c, &a, fds[i], SNAP_QEMU_IMG_TIMEOUT_MS, NULL, 0, err, sizeof(err));
		if (r >= 0) {
			done |= 1u << i;
			continue;
		}
		if (op == SNAP_CREATE)
			for (size_t k = 0; k < i; k++)
				if (done & (1u << k)) {
					char ignored[256];

					disk_argv_snapshot(&a, QEMU_IMG, DISK_SNAPSHOT_DELETE, tag, 3);
					if (disk_qemu_img(v->daemon, c, &a, fds[k], SNAP_QEMU_IMG_TIMEOUT_MS,
							  NULL, 0, ignored, sizeof(ignored)) < 0) {
						left |= 1u << k;
						snprintf(kept + strlen(kept), sizeof(kept) - strlen(kept),
							 " disk%zu", k);
					}
				}
		return call_errorf(c, r, "guest '%s': qemu-img snapshot on disk%zu (%s) failed: %s%s%s%s",
				   v->def.name, i, v->def.disks[i].path, err,
				   op == SNAP_CREATE && !left ? "; no snapshot was made" :
				   op == SNAP_CREATE ? "; removing it again failed: these disks still "
						       "have it:" :
				   done		     ? "; the disks before it were done already" :
						       "; nothing changed",
				   left ? kept : "", left ? " (vm snapshot delete)" : "");
	}
	return 0;
}

static int offline_run(struct daemon *d, struct call *c, struct vm *v, enum snap_op op, const char *tag,
		       const char *description)
{
	_cleanup_free_ struct snap_list *l = calloc(1, sizeof(*l));
	int fds[GUEST_DISKS_MAX];
	struct snap_row *row;
	json_object *o;
	unsigned have = 0;
	bool memory = false;
	int r;

	if (!l)
		return call_errorf(c, -ENOMEM, "out of memory");
	r = snap_disks(c, &v->def, &l->disks);
	if (r < 0)
		return r;
	r = offline_open(c, v, l->disks, fds);
	if (r < 0)
		return r;
	r = offline_list(c, v, fds, l);
	if (r >= 0 && op != SNAP_LIST)
		r = check_tag(c, v, l, op, tag);
	if (r >= 0 && op != SNAP_LIST) {
		row = list_find(l, tag);
		have = row ? row->disks : 0;
		memory = row && row->vm_state_size > 0;
		r = offline_apply(c, v, fds, op, tag, have);
	}
	if (r >= 0 && op != SNAP_LIST) {
		*l = (struct snap_list){ .disks = l->disks };
		/* done: a list that cannot be read now is not the request's error */
		if (offline_list(c, v, fds, l) < 0) {
			log_guest(LOG_WARNING, v->def.name, "guest '%s': %s", v->def.name, c->err);
			c->err[0] = 0;
			l->truncated = true;
		}
	}
	offline_close(fds);
	if (r < 0)
		return r;
	/* a stopped snapshot has no memory state: no shape */
	if (op == SNAP_CREATE || op == SNAP_DELETE)
		lines_update(v, tag, op == SNAP_CREATE ? description : NULL, NULL);
	if (op == SNAP_LIST)
		lines_prune(d, v->def.name, l);
	if (op != SNAP_LIST) {
		log_guest(LOG_INFO, v->def.name, "guest '%s': snapshot '%s' %s (stopped: its disks)",
			  v->def.name, tag,
			  op == SNAP_CREATE ? "created" :
			  op == SNAP_REVERT ? "reverted to" :
					      "deleted");
		vm_changed(v, op == SNAP_CREATE ? "snapshot created" :
			      op == SNAP_REVERT ? "snapshot reverted" :
						  "snapshot deleted");
	}
	o = list_json(v, l);
	if (op == SNAP_REVERT && memory)
		json_object_object_add(
			o, "warning",
			json_object_new_string(
				"the snapshot was taken while the guest ran: its disks went back, "
				"its memory state did not (a stopped guest boots from its disks, "
				"as after a power loss at that moment); start the guest and revert "
				"again to get its memory back"));
	call_reply(c, o);
	return 0;
}

/* ---- a running guest: QMP jobs ---- */

static struct vm_snap *snap_get(struct vm *v)
{
	if (!v->snap)
		v->snap = calloc(1, sizeof(*v->snap));
	return v->snap;
}

static void req_free(struct snap_req *req)
{
	if (!req)
		return;
	sd_event_source_disable_unref(req->timer);
	free(req);
}

bool vm_snapshot_busy(const struct vm *v)
{
	return v->snap && (v->snap->req || v->snap->n_left);
}

static void on_job_dismissed(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;

	if (m && m->type == QMP_MESSAGE_ERROR)
		log_guest(LOG_DEBUG, v->def.name, "guest '%s': job-dismiss: %s", v->def.name,
			  m->error_desc ?: "");
}

static void job_dismiss(struct vm *v, const char *job)
{
	json_object *args = json_object_new_object();

	json_object_object_add(args, "id", json_object_new_string(job));
	if (qmp_client_command(v->qmp, "job-dismiss", args, on_job_dismissed, v) < 0)
		log_guest(LOG_WARNING, v->def.name, "guest '%s': cannot send job-dismiss for %s", v->def.name,
			  job);
}

/* A job netd no longer waits for: dismissed when its "concluded" comes. */
static void left_add(struct vm *v, const char *job)
{
	struct vm_snap *s = v->snap;

	for (size_t i = 0; i < s->n_left; i++)
		if (!strcmp(s->left[i], job))
			return;
	if (s->n_left == SNAP_LEFT_MAX) {
		log_guest(LOG_WARNING, v->def.name,
			  "guest '%s': snapshot job %s left in QEMU undismissed (%d left already)",
			  v->def.name, job, SNAP_LEFT_MAX);
		return;
	}
	snprintf(s->left[s->n_left++], sizeof(s->left[0]), "%s", job);
}

static bool left_take(struct vm *v, const char *job)
{
	struct vm_snap *s = v->snap;

	for (size_t i = 0; s && i < s->n_left; i++)
		if (!strcmp(s->left[i], job)) {
			memmove(s->left[i], s->left[i + 1], (s->n_left - i - 1) * sizeof(s->left[0]));
			s->n_left--;
			return true;
		}
	return false;
}

void vm_snapshot_reset(struct vm *v)
{
	if (v->snap)
		req_free(v->snap->req);
	free(TAKE_PTR(v->snap));
}

void vm_snapshot_call_done(struct vm *v, struct call *c)
{
	struct vm_snap *s = v->snap;

	if (!s || !s->req || s->req->call != c)
		return;
	if (s->req->waiting)
		s->stale++;
	/* its job is QEMU's until dismissed: now if it concluded, else when it does */
	if (s->req->job_sent && !s->req->dismissed && v->qmp) {
		if (s->req->concluded)
			job_dismiss(v, s->req->job);
		else
			left_add(v, s->req->job);
	}
	req_free(TAKE_PTR(s->req));
}

void vm_snapshot_exited(struct vm *v)
{
	struct vm_snap *s = v->snap;
	char msg[512];

	if (s && s->req && v->pending == s->req->call) {
		snprintf(msg, sizeof(msg), "guest '%s': QEMU exited while %s snapshot '%s'%s", v->def.name,
			 op_doing[s->req->op], s->req->tag,
			 s->req->op == SNAP_CREATE ?
				 "; the snapshot may be incomplete: see vm snapshot list" :
				 "");
		vm_pending_fail(v, -ECONNRESET, msg);
	}
	vm_snapshot_reset(v);
}

static struct snap_req *req_answered(struct vm *v)
{
	struct vm_snap *s = v->snap;

	if (!s)
		return NULL;
	if (s->stale) {
		s->stale--;
		return NULL;
	}
	if (!s->req || v->pending != s->req->call)
		return NULL;
	s->req->waiting = false;
	return s->req;
}

static int req_send(struct vm *v, const char *cmd, json_object *args, qmp_reply_fn fn)
{
	int r = qmp_client_command(v->qmp, cmd, args, fn, v);

	if (r >= 0)
		v->snap->req->waiting = true;
	return r;
}

static void req_fail(struct vm *v, int error, const char *fmt, ...) _printf_(3, 4);
static void req_fail(struct vm *v, int error, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_guest(LOG_WARNING, v->def.name, "%s", msg);
	vm_pending_fail(v, error, msg);
}

static json_object *nodes_args(void)
{
	json_object *args = json_object_new_object();

	json_object_object_add(args, "flat", json_object_new_boolean(true));
	return args;
}

/* The snapshots of the running guest's disks, from a query-named-block-nodes return. */
static int nodes_list(struct vm *v, const struct qmp_message *m, struct snap_list *l)
{
	/* more than DISK_SNAPSHOTS_MAX on a disk (made by hand): listed (truncated), not an error */
	enum { MANY = 16 * DISK_SNAPSHOTS_MAX };
	_cleanup_free_ struct disk_snapshot *s = calloc(MANY, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (!m || m->type != QMP_MESSAGE_RETURN)
		return -EIO;
	for (size_t i = 0; i < v->def.n_disks; i++) {
		char node[32];
		size_t n;
		int r;

		if (!(l->disks & (1u << i)))
			continue;
		snprintf(node, sizeof(node), "disk%u", v->disk_slot[i]);
		r = qmp_node_snapshots(m->data, node, s, MANY, &n);
		if (r == -E2BIG) {
			l->full = l->truncated = true;
			n = MANY;
		} else if (r < 0)
			return r;
		list_add(l, i, s, n);
	}
	return 0;
}

static void on_list_done(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	struct snap_req *req = req_answered(v);
	_cleanup_free_ struct snap_list *l = calloc(1, sizeof(*l));
	json_object *o;

	if (!req)
		return;
	if (!l)
		return req_fail(v, -ENOMEM, "out of memory");
	l->disks = req->disks;
	if (nodes_list(v, m, l) < 0) {
		if (req->op == SNAP_LIST)
			return req_fail(
				v, -EIO,
				"guest '%s': cannot read its disks' snapshots (query-named-block-nodes): %s",
				v->def.name,
				m && m->error_desc ? m->error_desc : "an answer netd cannot read");
		/* the job went through: answer with what is known */
		l->n = 0;
		l->truncated = true;
	} else if (req->op == SNAP_LIST)
		lines_prune(v->daemon, v->def.name, l);
	o = list_json(v, l);
	vm_pending_reply(v, o);
}

static void on_jobs(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	struct snap_req *req = req_answered(v);
	char status[32], error[512];
	int r;

	if (!req)
		return;
	r = m && m->type == QMP_MESSAGE_RETURN ?
		    qmp_job_status(m->data, req->job, status, sizeof(status), error, sizeof(error)) :
		    -EIO;
	if (r >= 0 && strcmp(status, "concluded")) {
		/* its event said concluded, QEMU's list does not: wait for one that is true (left) */
		req->concluded = false;
		return req_fail(v, -EIO,
				"guest '%s': QEMU's job %s is '%s', not concluded, after its event said so: "
				"how %s snapshot '%s' ends is unknown; see vm snapshot list later",
				v->def.name, req->job, status, op_doing[req->op], req->tag);
	}
	if (r != -ENOENT)
		job_dismiss(v, req->job);
	req->dismissed = true;
	if (r < 0)
		return req_fail(v, -EIO, "guest '%s': cannot read how job %s ended (query-jobs): %s",
				v->def.name, req->job, m && m->error_desc ? m->error_desc : strerror(-r));
	if (r > 0 && req->op == SNAP_REVERT) {
		/* QEMU 7.2 stops the guest for a load and leaves it stopped when the load fails (a paused
		 * guest stays paused): part of the snapshot may be in it already, so netd does not resume
		 * it, and only a destroy gets rid of the mix */
		return req_fail(
			v, -EIO,
			"guest '%s': QEMU failed %s snapshot '%s': %s; the guest is left paused: part "
			"of the snapshot may be loaded, a mix of two states: 'vm destroy' it (do not "
			"resume it)",
			v->def.name, op_doing[req->op], req->tag, error);
	}
	if (r > 0)
		return req_fail(v, -EIO, "guest '%s': QEMU failed %s snapshot '%s': %s", v->def.name,
				op_doing[req->op], req->tag, error);
	log_guest(LOG_INFO, v->def.name, "guest '%s': snapshot '%s' %s (live, with its memory)", v->def.name,
		  req->tag,
		  req->op == SNAP_CREATE ? "created" :
		  req->op == SNAP_REVERT ? "reverted to" :
					   "deleted");
	if (req->op == SNAP_CREATE || req->op == SNAP_DELETE)
		lines_update(v, req->tag, req->op == SNAP_CREATE ? req->description : NULL,
			     req->op == SNAP_CREATE ? req->shape : NULL);
	vm_changed(v, req->op == SNAP_CREATE ? "snapshot created" :
		      req->op == SNAP_REVERT ? "snapshot reverted" :
					       "snapshot deleted");
	if (req_send(v, "query-named-block-nodes", nodes_args(), on_list_done) < 0)
		req_fail(v, -EIO, "guest '%s': snapshot '%s' done, but QMP is gone", v->def.name, req->tag);
}

static void job_concluded(struct vm *v, struct snap_req *req)
{
	req->job_running = false;
	req->timer = sd_event_source_disable_unref(req->timer);
	if (req_send(v, "query-jobs", NULL, on_jobs) < 0)
		req_fail(v, -EIO, "guest '%s': cannot send query-jobs", v->def.name);
}

void vm_snapshot_event(struct vm *v, const struct qmp_message *m)
{
	struct snap_req *req = v->snap ? v->snap->req : NULL;
	const char *id, *status;

	if (qmp_job_event(m, &id, &status) < 0 || strncmp(id, "netd-snap-", 10))
		return;
	if (!req || strcmp(id, req->job) || v->pending != req->call) {
		/* a job whose call was answered otherwise (timeout): QEMU keeps it until dismissed; any
		 * other id is not netd's to dismiss (a QEMU streaming such events gets nothing back) */
		if (!strcmp(status, "concluded") && left_take(v, id))
			job_dismiss(v, id);
		return;
	}
	if (strcmp(status, "concluded")) {
		if (!strcmp(status, "running"))
			call_progress(req->call, "%s snapshot '%s' of running guest '%s'%s",
				      op_doing[req->op], req->tag, v->def.name,
				      req->op == SNAP_DELETE ?
					      "" :
					      " with its memory (QEMU pauses the guest meanwhile)");
		return;
	}
	req->concluded = true;
	/* QEMU may conclude a job that fails at once before it returns the command: query-jobs goes
	 * after that return (on_job_started) */
	if (req->job_running)
		job_concluded(v, req);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct vm *v = userdata;
	struct snap_req *req = v->snap->req;

	req->timer = sd_event_source_disable_unref(req->timer);
	req_fail(v, -ETIMEDOUT,
		 "guest '%s': %s snapshot '%s' took more than %u s; QEMU's job %s goes on (netd dismisses "
		 "it when it ends): see vm snapshot list later",
		 v->def.name, op_doing[req->op], req->tag, req->timeout_sec, req->job);
	return 0;
}

static void on_job_started(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	struct snap_req *req = req_answered(v);

	if (!req)
		return;
	if (!m || m->type != QMP_MESSAGE_RETURN) {
		req->job_sent = false; /* refused: QEMU made no job (nothing left to dismiss) */
		return req_fail(v, -EIO, "guest '%s': QEMU refused %s '%s': %s", v->def.name, op_job[req->op],
				req->tag, m && m->error_desc ? m->error_desc : "QMP connection lost");
	}
	req->job_running = true;
	if (req->concluded)
		return job_concluded(v, req);
	if (sd_event_add_time_relative(v->daemon->event, &req->timer, CLOCK_MONOTONIC,
				       req->timeout_sec * 1000000ull, 0, on_timeout, v) < 0)
		log_guest(LOG_WARNING, v->def.name, "guest '%s': no timer for snapshot job %s", v->def.name,
			  req->job);
}

static json_object *job_args(struct vm *v, const struct snap_req *req)
{
	json_object *args = json_object_new_object(), *devices = json_object_new_array();
	char node[32];
	bool first = true;

	json_object_object_add(args, "job-id", json_object_new_string(req->job));
	json_object_object_add(args, "tag", json_object_new_string(req->tag));
	for (size_t i = 0; i < v->def.n_disks; i++) {
		if (!(req->disks & (1u << i)))
			continue;
		snprintf(node, sizeof(node), "disk%u", v->disk_slot[i]);
		if (first && req->op != SNAP_DELETE)
			json_object_object_add(args, "vmstate", json_object_new_string(node));
		first = false;
		json_object_array_add(devices, json_object_new_string(node));
	}
	json_object_object_add(args, "devices", devices);
	return args;
}

static void on_nodes(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	struct snap_req *req = req_answered(v);
	_cleanup_free_ struct snap_list *l = calloc(1, sizeof(*l));
	int r;

	if (!req)
		return;
	if (!l)
		return req_fail(v, -ENOMEM, "out of memory");
	l->disks = req->disks;
	r = nodes_list(v, m, l);
	if (r < 0)
		return req_fail(v, -EIO,
				"guest '%s': cannot read its disks' snapshots (query-named-block-nodes): %s",
				v->def.name, m && m->error_desc ? m->error_desc : strerror(-r));
	r = check_tag(req->call, v, l, req->op, req->tag);
	if (r < 0) {
		char msg[sizeof(req->call->err)];

		snprintf(msg, sizeof(msg), "%s", req->call->err);
		return vm_pending_fail(v, r, msg);
	}
	if (req_send(v, op_job[req->op], job_args(v, req), on_job_started) < 0)
		return req_fail(v, -EIO, "guest '%s': cannot send %s", v->def.name, op_job[req->op]);
	req->job_sent = true;
}

static int live_start(struct call *c, struct vm *v, enum snap_op op, const char *tag, const char *description,
		      unsigned disks, unsigned timeout_sec)
{
	struct snap_req *req;
	int r;

	if (!snap_get(v) || !(req = calloc(1, sizeof(*req))))
		return call_errorf(c, -ENOMEM, "out of memory");
	*req = (struct snap_req){ .call = c, .op = op, .disks = disks, .timeout_sec = timeout_sec };
	snprintf(req->tag, sizeof(req->tag), "%s", tag ?: "");
	snprintf(req->description, sizeof(req->description), "%s", description ?: "");
	if (op != SNAP_LIST)
		snprintf(req->job, sizeof(req->job), "netd-snap-%s-%u", run_id_get(), v->snap->next_job++);
	if (op == SNAP_CREATE)
		shape_hash(v, req->shape);
	v->snap->req = req;
	r = req_send(v, "query-named-block-nodes", nodes_args(), op == SNAP_LIST ? on_list_done : on_nodes);
	if (r < 0) {
		req_free(TAKE_PTR(v->snap->req));
		return call_errorf(c, r, "cannot send query-named-block-nodes: %s", strerror(-r));
	}
	v->pending = c;
	return 0;
}

/* Adopted (netd restarted): the jobs an earlier netd left in QEMU. */
static void on_adopt_jobs(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	unsigned dismissed = 0;

	if (!m || m->type != QMP_MESSAGE_RETURN || !json_object_is_type(m->data, json_type_array))
		return;
	/* a few: an earlier netd left at most SNAP_LEFT_MAX per QEMU it ran (more: not netd's doing) */
	for (size_t i = 0; i < json_object_array_length(m->data) && dismissed < 4 * SNAP_LEFT_MAX; i++) {
		json_object *j = json_object_array_get_idx(m->data, i), *id, *status;
		const char *job;

		if (!json_object_object_get_ex(j, "id", &id) ||
		    !json_object_object_get_ex(j, "status", &status))
			continue;
		job = json_object_get_string(id);
		if (!job || strncmp(job, "netd-snap-", 10) || strlen(job) >= SNAP_JOB_ID_MAX)
			continue;
		if (!strcmp(json_object_get_string(status) ?: "", "concluded")) {
			log_guest(LOG_INFO, v->def.name,
				  "guest '%s': dismissing snapshot job %s an earlier netd left", v->def.name,
				  job);
			job_dismiss(v, job);
			dismissed++;
		} else if (snap_get(v)) {
			left_add(v, job);
		}
	}
}

void vm_snapshot_adopted(struct vm *v)
{
	if (snap_get(v))
		v->snap->adopted = true;
}

void vm_snapshot_qmp_ready(struct vm *v)
{
	if (!v->snap || !v->snap->adopted)
		return;
	v->snap->adopted = false;
	if (qmp_client_command(v->qmp, "query-jobs", NULL, on_adopt_jobs, v) < 0)
		log_guest(LOG_WARNING, v->def.name,
			  "guest '%s': cannot ask QEMU for snapshot jobs left behind", v->def.name);
}

/* ---- requests ---- */

/* A disk an overlay reads from is not written (vm start refuses it too). */
static int base_check(struct daemon *d, struct call *c, struct vm *v, unsigned disks)
{
	char overlay[NAME_MAX + 1];

	for (size_t i = 0; i < v->def.n_disks; i++)
		if ((disks & (1u << i)) &&
		    disk_pool_is_base(d, v->def.disks[i].path, overlay, sizeof(overlay)))
			return call_errorf(
				c, -EBUSY,
				"cannot change snapshots of guest '%s': its disk %s is the base of overlay "
				"'%s' (a clone's, or 'disk create --backing'): writing it would change what the "
				"overlay reads; give the guest the disk readonly, or convert or delete '%s'",
				v->def.name, v->def.disks[i].path, overlay, overlay);
	return 0;
}

/* A live revert loads a memory state: only into the machine it was taken of. */
static int shape_check(struct call *c, struct vm *v, const char *tag)
{
	char was[32], now[17];

	line_get(v->daemon, v->def.name, SHAPE_FILE, tag, was, sizeof(was));
	if (!was[0]) /* taken by an older netd or by hand: QEMU checks what it can */
		return 0;
	shape_hash(v, now);
	if (!strcmp(was, now))
		return 0;
	return call_errorf(
		c, -EBUSY,
		"guest '%s' changed since snapshot '%s' was taken (vCPUs, memory or disks): its memory "
		"state would not load into it; stop the guest, then revert: disks only",
		v->def.name, tag);
}

/* What a running guest must be for a live request. */
static int live_check(struct call *c, struct vm *v, enum snap_op op, const char *tag)
{
	int r = vm_qmp_check(c, v);

	if (r < 0)
		return r;
	/* its disks are changing: a snapshot would miss one or name one that goes */
	if (v->disk_op)
		return call_errorf(c, -EBUSY,
				   "guest '%s' is attaching or detaching a disk: try again once it is done",
				   v->def.name);
	/* its devices are changing: the memory state would not match the devices a load finds */
	if (v->nic_op)
		return call_errorf(c, -EBUSY,
				   "guest '%s' is attaching or detaching a NIC: try again once it is done",
				   v->def.name);
	if (v->disk_slots_unknown)
		return call_errorf(
			c, -EBUSY,
			"guest '%s' was adopted without its disk slots record: netd does not know QEMU's "
			"names of its disks; live snapshots work again after its next start (stopped: "
			"disks only)",
			v->def.name);
	if (op != SNAP_LIST && v->snap && v->snap->n_left)
		return call_errorf(c, -EBUSY,
				   "guest '%s': QEMU still runs snapshot job %s of an earlier request: try "
				   "again once it ends (vm snapshot list)",
				   v->def.name, v->snap->left[0]);
	return op == SNAP_REVERT ? shape_check(c, v, tag) : 0;
}

static int snapshot_request(struct daemon *d, struct call *c, json_object *params, enum snap_op op)
{
	const char *tag = NULL, *description = NULL, *why;
	unsigned disks, timeout = SNAP_JOB_TIMEOUT_SEC_DEFAULT;
	struct vm *v;
	int r = vm_lookup(d, c, params, &v);

	if (r < 0)
		return r;
	if (op != SNAP_LIST && (r = param_tag(c, params, &tag)) < 0)
		return r;
	if (op == SNAP_CREATE && protocol_param_string(params, "description", &description) >= 0 &&
	    (why = description_invalid_reason(description)))
		return call_errorf(c, -EINVAL, "invalid description: %s", why);
	if (json_object_object_get_ex(params, "timeout", NULL) &&
	    (protocol_param_uint(params, "timeout", 86400, &timeout) < 0 || timeout < 1))
		return call_errorf(c, -EINVAL, "timeout must be a number of seconds from 1 to 86400");
	r = snap_disks(c, &v->def, &disks);
	if (r < 0)
		return r;
	if (v->state == VM_STATE_STARTING || v->state == VM_STATE_SHUTTING_DOWN)
		return call_errorf(c, -EBUSY, "guest '%s' is %s: try again once it runs or is stopped",
				   v->def.name, v->state == VM_STATE_STARTING ? "starting" : "shutting down");
	if (op != SNAP_LIST && ((r = vm_owner_check(v, c, "change its snapshots")) < 0 || (r = base_check(d, c, v, disks)) < 0))
		return r;
	if (vm_running(v)) {
		r = live_check(c, v, op, tag);
		return r < 0 ? r : live_start(c, v, op, tag, description, disks, timeout);
	}
	if (vm_in_use(v))
		return call_errorf(c, -EBUSY, "guest '%s' is busy with another request", v->def.name);
	return offline_run(d, c, v, op, tag, description);
}

static int method_vm_snapshot_create(struct daemon *d, struct call *c, json_object *params)
{
	return snapshot_request(d, c, params, SNAP_CREATE);
}

static int method_vm_snapshot_revert(struct daemon *d, struct call *c, json_object *params)
{
	return snapshot_request(d, c, params, SNAP_REVERT);
}

static int method_vm_snapshot_delete(struct daemon *d, struct call *c, json_object *params)
{
	return snapshot_request(d, c, params, SNAP_DELETE);
}

static int method_vm_snapshot_list(struct daemon *d, struct call *c, json_object *params)
{
	return snapshot_request(d, c, params, SNAP_LIST);
}

static const struct method snapshot_table[] = {
	{ "vm.snapshot.create", method_vm_snapshot_create, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.snapshot.revert", method_vm_snapshot_revert, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.snapshot.delete", method_vm_snapshot_delete, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.snapshot.list", method_vm_snapshot_list, METHOD_READ | METHOD_ASYNC },
};

const struct method_area vm_snapshot_methods = METHOD_AREA(snapshot_table);
