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
 * A stopped guest: qemu-img snapshot -c/-a/-d on each disk, opened by netd with the requester's
 * rights as a start opens them (vm_file_open_disk) and given to a confined qemu-img as /dev/fd/3 in
 * the json: form with "backing": null (no name in a header is followed). Such a snapshot has no
 * memory state. Reverting a stopped guest to a snapshot taken live restores its disks only: the
 * guest boots from them (as after a power loss at that moment); the answer says so.
 *
 * Raw disks cannot hold a snapshot: a guest with a writable raw disk is refused. Readonly disks are
 * skipped (they cannot change, so every snapshot has them as they are). Descriptions (QEMU's
 * snapshots have none) are kept in <state>/guests/NAME/snapshots, "SNAP<TAB>TEXT" a line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "disk-pool.h"
#include "disk.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "store.h"
#include "vm-files.h"
#include "vm.h"

#define SNAP_JOB_TIMEOUT_SEC_DEFAULT 600
#define SNAP_QEMU_IMG_TIMEOUT_MS 60000
#define SNAP_DESCRIPTION_MAX 256
#define SNAP_ROWS_MAX DISK_SNAPSHOTS_MAX
#define SNAP_FILE "snapshots"

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
};

/* One request on a running guest, from its call until the call is answered. */
struct snap_req {
	struct call *call; /* v->pending while it is under way */
	enum snap_op op;
	bool waiting; /* a command's answer has not come yet */
	bool job_running; /* the job was accepted; its JOB_STATUS_CHANGE concluded has not come */
	bool concluded; /* its JOB_STATUS_CHANGE concluded came (maybe before the command's return) */
	bool was_running; /* the guest ran: a failed snapshot-load leaves it paused (QEMU 7.2) */
	char tag[DISK_SNAPSHOT_NAME_MAX + 1];
	char description[SNAP_DESCRIPTION_MAX + 1];
	char job[48];
	unsigned disks;
	unsigned timeout_sec;
	sd_event_source *timer;
};

struct vm_snap {
	/* Answers QEMU owes to requests answered otherwise (destroy, timeout): QMP answers in order. */
	unsigned stale;
	unsigned next_job;
	struct snap_req *req;
};

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

/* Disk i's snapshots into the list. */
static void list_add(struct snap_list *l, size_t disk, const struct disk_snapshot *s, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct snap_row *r = list_find(l, s[k].name);

		if (!r && l->n == SNAP_ROWS_MAX)
			continue;
		if (!r) {
			r = &l->rows[l->n++];
			*r = (struct snap_row){ .date_sec = s[k].date_sec };
			snprintf(r->name, sizeof(r->name), "%s", s[k].name);
		}
		r->disks |= 1u << disk;
		r->vm_state_size += s[k].vm_state_size;
	}
}

/* The description of tag kept for guest name, into buf ("" when none). */
static void description_get(struct daemon *d, const char *name, const char *tag, char *buf, size_t size)
{
	_cleanup_free_ char *text = NULL;
	size_t n = strlen(tag);

	buf[0] = 0;
	if (store_state_read(&d->paths, "guests", name, SNAP_FILE, &text) < 0)
		return;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (!strncmp(line, tag, n) && line[n] == '\t') {
			snprintf(buf, size, "%s", line + n + 1);
			return;
		}
	}
}

/* Sets (text non-NULL) or removes tag's description; the other lines stay. */
static int description_put(struct daemon *d, const char *name, const char *tag, const char *text)
{
	_cleanup_free_ char *old = NULL, *out = NULL;
	size_t n = strlen(tag), len = 0, cap;

	store_state_read(&d->paths, "guests", name, SNAP_FILE, &old);
	cap = (old ? strlen(old) : 0) + n + (text ? strlen(text) : 0) + 4;
	out = calloc(1, cap);
	if (!out)
		return -ENOMEM;
	for (char *line = old, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (!strncmp(line, tag, n) && line[n] == '\t')
			continue;
		len += snprintf(out + len, cap - len, "%s\n", line);
	}
	if (text && text[0])
		snprintf(out + len, cap - len, "%s\t%s\n", tag, text);
	return store_state_write(&d->paths, "guests", name, SNAP_FILE, out);
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
		description_get(v->daemon, v->def.name, r->name, desc, sizeof(desc));
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
	unsigned done = 0;

	for (size_t i = 0; i < v->def.n_disks; i++) {
		struct disk_argv a;
		char err[512];
		int r;

		if (fds[i] < 0 || (op != SNAP_CREATE && !(have & (1u << i))))
			continue;
		disk_argv_snapshot(&a, QEMU_IMG, img_op[op], tag, 3);
		log_debug("guest '%s': qemu-img snapshot %s %s on disk%zu", v->def.name, a.argv[3], tag, i);
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
					disk_qemu_img(v->daemon, c, &a, fds[k], SNAP_QEMU_IMG_TIMEOUT_MS, NULL, 0, ignored,
						      sizeof(ignored));
				}
		return call_errorf(c, r, "guest '%s': qemu-img snapshot on disk%zu (%s) failed: %s%s",
				   v->def.name, i, v->def.disks[i].path, err,
				   op == SNAP_CREATE ? "; no snapshot was made" :
				   done		     ? "; the disks before it were done already" :
						       "; nothing changed");
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
		offline_list(c, v, fds, l);
	}
	offline_close(fds);
	if (r < 0)
		return r;
	if (op == SNAP_CREATE && description && description[0] &&
	    description_put(d, v->def.name, tag, description) < 0)
		log_warning("guest '%s': cannot keep the description of snapshot '%s'", v->def.name, tag);
	if (op == SNAP_DELETE)
		description_put(d, v->def.name, tag, NULL);
	if (op != SNAP_LIST) {
		log_info("guest '%s': snapshot '%s' %s (stopped: its disks)", v->def.name, tag,
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
	log_warning("%s", msg);
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
	struct disk_snapshot s[DISK_SNAPSHOTS_MAX];

	if (!m || m->type != QMP_MESSAGE_RETURN)
		return -EIO;
	for (size_t i = 0; i < v->def.n_disks; i++) {
		char node[32];
		size_t n;
		int r;

		if (!(l->disks & (1u << i)))
			continue;
		snprintf(node, sizeof(node), "disk%u", v->disk_slot[i]);
		r = qmp_node_snapshots(m->data, node, s, ELEMENTSOF(s), &n);
		if (r < 0)
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
	}
	o = list_json(v, l);
	vm_pending_reply(v, o);
}

static void on_job_dismissed(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;

	if (m && m->type == QMP_MESSAGE_ERROR)
		log_debug("guest '%s': job-dismiss: %s", v->def.name, m->error_desc ?: "");
}

static void job_dismiss(struct vm *v, const char *job)
{
	json_object *args = json_object_new_object();

	json_object_object_add(args, "id", json_object_new_string(job));
	qmp_client_command(v->qmp, "job-dismiss", args, on_job_dismissed, v);
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
	job_dismiss(v, req->job);
	if (r < 0)
		return req_fail(v, -EIO, "guest '%s': cannot read how job %s ended (query-jobs): %s",
				v->def.name, req->job, m && m->error_desc ? m->error_desc : strerror(-r));
	if (r > 0 && req->op == SNAP_REVERT && req->was_running) {
		/* QEMU 7.2 stops the guest for a load and leaves it stopped when the load fails: part
		 * of the snapshot may be in it already, so netd does not resume it either */
		return req_fail(
			v, -EIO,
			"guest '%s': QEMU failed %s snapshot '%s': %s; the guest is left paused (part "
			"of the snapshot may be loaded): revert again, or 'vm resume' or 'vm destroy' it",
			v->def.name, op_doing[req->op], req->tag, error);
	}
	if (r > 0)
		return req_fail(v, -EIO, "guest '%s': QEMU failed %s snapshot '%s': %s", v->def.name,
				op_doing[req->op], req->tag, error);
	log_info("guest '%s': snapshot '%s' %s (live, with its memory)", v->def.name, req->tag,
		 req->op == SNAP_CREATE ? "created" :
		 req->op == SNAP_REVERT ? "reverted to" :
					  "deleted");
	if (req->op == SNAP_CREATE && req->description[0] &&
	    description_put(v->daemon, v->def.name, req->tag, req->description) < 0)
		log_warning("guest '%s': cannot keep the description of snapshot '%s'", v->def.name,
			    req->tag);
	if (req->op == SNAP_DELETE)
		description_put(v->daemon, v->def.name, req->tag, NULL);
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
		/* a job whose call was answered otherwise (timeout): QEMU keeps it until dismissed */
		if (!strcmp(status, "concluded"))
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
	if (!m || m->type != QMP_MESSAGE_RETURN)
		return req_fail(v, -EIO, "guest '%s': QEMU refused %s '%s': %s", v->def.name, op_job[req->op],
				req->tag, m && m->error_desc ? m->error_desc : "QMP connection lost");
	req->job_running = true;
	if (req->concluded)
		return job_concluded(v, req);
	if (sd_event_add_time_relative(v->daemon->event, &req->timer, CLOCK_MONOTONIC,
				       req->timeout_sec * 1000000ull, 0, on_timeout, v) < 0)
		log_warning("guest '%s': no timer for snapshot job %s", v->def.name, req->job);
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
		req_fail(v, -EIO, "guest '%s': cannot send %s", v->def.name, op_job[req->op]);
}

static int live_start(struct call *c, struct vm *v, enum snap_op op, const char *tag, const char *description,
		      unsigned disks, unsigned timeout_sec)
{
	struct snap_req *req;
	int r;

	if (!snap_get(v) || !(req = calloc(1, sizeof(*req))))
		return call_errorf(c, -ENOMEM, "out of memory");
	*req = (struct snap_req){ .call = c,
				  .op = op,
				  .disks = disks,
				  .timeout_sec = timeout_sec,
				  .was_running = v->state == VM_STATE_RUNNING };
	snprintf(req->tag, sizeof(req->tag), "%s", tag ?: "");
	snprintf(req->description, sizeof(req->description), "%s", description ?: "");
	if (op != SNAP_LIST)
		snprintf(req->job, sizeof(req->job), "netd-snap-%u", v->snap->next_job++);
	v->snap->req = req;
	r = req_send(v, "query-named-block-nodes", nodes_args(), op == SNAP_LIST ? on_list_done : on_nodes);
	if (r < 0) {
		req_free(TAKE_PTR(v->snap->req));
		return call_errorf(c, r, "cannot send query-named-block-nodes: %s", strerror(-r));
	}
	v->pending = c;
	return 0;
}

/* ---- requests ---- */

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
	if (vm_running(v)) {
		r = vm_qmp_check(c, v);
		if (r < 0)
			return r;
		/* its disks are changing: a snapshot would miss one or name one that goes */
		if (v->disk_op)
			return call_errorf(
				c, -EBUSY,
				"guest '%s' is attaching or detaching a disk: try again once it is done",
				v->def.name);
		return live_start(c, v, op, tag, description, disks, timeout);
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
