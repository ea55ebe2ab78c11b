/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vm attach-disk / vm detach-disk: a disk added to or taken from a guest's definition, and, while
 * QEMU runs, from QEMU too, through QMP, one step after the other:
 *
 *   attach: remove-fd (the slot's fd set, of a disk that was there before), add-fd (the file netd
 *           opened with the requester's rights, passed over the QMP socket; a read-write disk's
 *           read-only fd too), blockdev-add diskS-file and diskS, for a qcow2 disk another user
 *           than root gave query-named-block-nodes (it opened nothing by path), device_add diskS-dev
 *   detach: device_del diskS-dev, DEVICE_DELETED (the guest let it go), blockdev-del, remove-fd
 *
 * S is the disk's slot: a virtio disk's PCIe root port disk-port<S> (qemu-argv.c), its fd set
 * 10 + S. A step that fails undoes the steps before it. The definition is written once QEMU has
 * done it all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "vm-files.h"
#include "vm-store.h"
#include "vm.h"

#define DETACH_TIMEOUT_USEC (15 * 1000 * 1000ull) /* the guest acknowledges a PCIe unplug */

enum disk_op_kind { DISK_OP_ATTACH, DISK_OP_DETACH };

struct disk_op {
	struct vm *v;
	struct call *c;
	enum disk_op_kind kind;
	struct guest_disk disk;
	size_t index; /* detach: def.disks[index] */
	unsigned slot;
	int fd, fd_ro;
	bool check_files; /* a qcow2 disk of another user than root */
	bool file_node, format_node, device; /* what QEMU has of it so far */
	bool deleted; /* DEVICE_DELETED came */
	sd_event_source *timer;
};

static void op_free(struct disk_op *op)
{
	if (!op)
		return;
	if (op->fd >= 0)
		close(op->fd);
	if (op->fd_ro >= 0)
		close(op->fd_ro);
	sd_event_source_disable_unref(op->timer);
	free(op);
}

void vm_disk_op_free(struct vm *v)
{
	struct disk_op *op = TAKE_PTR(v->disk_op);

	if (op && op->c)
		call_reply_error(op->c, -ECANCELED, "guest '%s' went away during the disk change",
				 v->def.name);
	op_free(op);
}

static char *slots_path(struct vm *v)
{
	_cleanup_free_ char *dir = store_guest_run_dir(&v->daemon->paths, v->def.name);

	return dir ? path_join(dir, "disk-slots") : NULL;
}

static void slots_save(struct vm *v)
{
	_cleanup_free_ char *path = slots_path(v);
	char buf[128];
	size_t len;

	len = snprintf(buf, sizeof(buf), "scsi %d", v->has_scsi);
	for (size_t i = 0; i < v->def.n_disks && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, " %u", v->disk_slot[i]);
	if (len < sizeof(buf) - 1)
		buf[len++] = '\n';
	if (!path || write_runtime_file(path, buf, len, 0644) < 0)
		log_warning(
			"guest '%s': cannot write its disk slots (a restarted netd assumes disk N in slot N)",
			v->def.name);
}

void vm_disk_slots_init(struct vm *v, bool adopted)
{
	_cleanup_free_ char *path = slots_path(v), *text = NULL;
	char *save = NULL, *tok;
	size_t i = 0;

	for (size_t k = 0; k < GUEST_DISKS_MAX; k++)
		v->disk_slot[k] = k;
	v->has_scsi = false;
	for (size_t k = 0; k < v->def.n_disks; k++)
		v->has_scsi |= v->def.disks[k].bus == DISK_BUS_SCSI;
	if (!adopted) {
		slots_save(v);
		return;
	}
	if (!path || read_file(path, &text, NULL) < 0)
		return;
	tok = strtok_r(text, " \n", &save);
	if (!tok || strcmp(tok, "scsi") || !(tok = strtok_r(NULL, " \n", &save)))
		return;
	v->has_scsi = atoi(tok) == 1;
	while ((tok = strtok_r(NULL, " \n", &save)) && i < GUEST_DISKS_MAX)
		v->disk_slot[i++] = (unsigned)atoi(tok) % GUEST_DISKS_MAX;
}

/* The lowest slot no disk of the running guest holds. */
static int free_slot(struct vm *v)
{
	for (unsigned s = 0; s < GUEST_DISKS_MAX; s++) {
		bool used = false;

		for (size_t i = 0; i < v->def.n_disks; i++)
			used |= v->disk_slot[i] == s;
		if (!used)
			return s;
	}
	return -ENOSPC;
}

/* The change in g (a definition that may differ from the one QEMU runs: reloaded meanwhile). */
static void def_change(const struct disk_op *op, struct guest *g)
{
	if (op->kind == DISK_OP_ATTACH) {
		if (g->n_disks < GUEST_DISKS_MAX)
			g->disks[g->n_disks++] = op->disk;
		return;
	}
	for (size_t i = 0; i < g->n_disks; i++)
		if (!strcmp(g->disks[i].path, op->disk.path)) {
			memmove(&g->disks[i], &g->disks[i + 1], (g->n_disks - i - 1) * sizeof(g->disks[0]));
			g->n_disks--;
			return;
		}
}

/* The definition with the change, written; v->def follows (and a definition reloaded during the
 * change, which is what the file holds, gets it too). */
static int def_commit(struct disk_op *op, char *err, size_t errlen)
{
	struct vm *v = op->v;
	struct guest g = v->def;
	int r;

	if (op->kind == DISK_OP_ATTACH) {
		g.disks[g.n_disks++] = op->disk;
	} else {
		memmove(&g.disks[op->index], &g.disks[op->index + 1],
			(g.n_disks - op->index - 1) * sizeof(g.disks[0]));
		g.n_disks--;
	}
	if (v->next_def)
		def_change(op, v->next_def);
	r = store_guest_save(&v->daemon->paths, v->next_def ?: &g);
	if (r < 0) {
		snprintf(err, errlen, "cannot write the definition of guest '%s': %s", v->def.name,
			 strerror(-r));
		return r;
	}
	if (op->kind == DISK_OP_ATTACH) {
		v->disk_slot[v->def.n_disks] = op->slot;
	} else {
		memmove(&v->disk_slot[op->index], &v->disk_slot[op->index + 1],
			(v->def.n_disks - op->index - 1) * sizeof(v->disk_slot[0]));
	}
	v->def = g;
	return 0;
}

static void op_done(struct disk_op *op)
{
	struct vm *v = op->v;
	char err[256];
	int r;

	r = def_commit(op, err, sizeof(err));
	if (vm_alive(v))
		slots_save(v);
	if (r < 0)
		call_reply_error(op->c, r, "%s (QEMU has the change: it is lost at the guest's next start)",
				 err);
	else
		call_reply(op->c, vm_json(v));
	log_info("guest '%s': disk %s %s", v->def.name, op->disk.path,
		 op->kind == DISK_OP_ATTACH ? "attached" : "detached");
	v->disk_op = NULL;
	op_free(op);
}

/* ---- QMP arguments ---- */

static json_object *fdset_args(unsigned slot)
{
	json_object *a = json_object_new_object();

	json_object_object_add(a, "fdset-id", json_object_new_int(QEMU_FDSET_DISK0 + (int)slot));
	return a;
}

static json_object *node_args(const struct guest_disk *disk, unsigned slot, bool format)
{
	json_object *a = json_object_new_object(), *cache = json_object_new_object();
	char name[32], file[40], fdset[32];

	snprintf(name, sizeof(name), "disk%u", slot);
	snprintf(file, sizeof(file), "disk%u-file", slot);
	snprintf(fdset, sizeof(fdset), "/dev/fdset/%d", QEMU_FDSET_DISK0 + (int)slot);
	json_object_object_add(a, "driver",
			       json_object_new_string(format ? disk_format_to_string(disk->format) : "file"));
	json_object_object_add(a, "node-name", json_object_new_string(format ? name : file));
	json_object_object_add(a, format ? "file" : "filename",
			       json_object_new_string(format ? file : fdset));
	json_object_object_add(cache, "direct",
			       json_object_new_boolean(disk->cache == DISK_CACHE_NONE ||
						       disk->cache == DISK_CACHE_DIRECTSYNC));
	json_object_object_add(cache, "no-flush", json_object_new_boolean(disk->cache == DISK_CACHE_UNSAFE));
	json_object_object_add(a, "cache", cache);
	json_object_object_add(a, "read-only", json_object_new_boolean(disk->readonly));
	return a;
}

static json_object *device_args(const struct guest_disk *disk, unsigned slot)
{
	json_object *a = json_object_new_object();
	bool wc = disk->cache != DISK_CACHE_WRITETHROUGH && disk->cache != DISK_CACHE_DIRECTSYNC;
	char s[32];

	json_object_object_add(a, "driver",
			       json_object_new_string(disk->bus == DISK_BUS_SCSI ? "scsi-hd" :
										   "virtio-blk-pci"));
	snprintf(s, sizeof(s), "disk%u", slot);
	json_object_object_add(a, "drive", json_object_new_string(s));
	snprintf(s, sizeof(s), "disk%u-dev", slot);
	json_object_object_add(a, "id", json_object_new_string(s));
	json_object_object_add(a, "write-cache", json_object_new_string(wc ? "on" : "off"));
	if (disk->bus == DISK_BUS_SCSI) {
		json_object_object_add(a, "bus", json_object_new_string("scsi0.0"));
		json_object_object_add(a, "channel", json_object_new_int(0));
		json_object_object_add(a, "scsi-id", json_object_new_int((int)slot));
		json_object_object_add(a, "lun", json_object_new_int(0));
	} else {
		snprintf(s, sizeof(s), "disk-port%u", slot);
		json_object_object_add(a, "bus", json_object_new_string(s));
	}
	return a;
}

static json_object *named_args(const char *key, const char *fmt, unsigned slot)
{
	json_object *a = json_object_new_object();
	char s[40];

	snprintf(s, sizeof(s), fmt, slot);
	json_object_object_add(a, key, json_object_new_string(s));
	return a;
}

/* The nodes and fds QEMU got for the slot, taken away (after a failed attach, or a detach). */
static void qemu_release(struct vm *v, unsigned slot, bool format_node, bool file_node)
{
	if (!v->qmp)
		return;
	if (format_node)
		qmp_client_command(v->qmp, "blockdev-del", named_args("node-name", "disk%u", slot), NULL,
				   NULL);
	if (file_node)
		qmp_client_command(v->qmp, "blockdev-del", named_args("node-name", "disk%u-file", slot), NULL,
				   NULL);
	qmp_client_command(v->qmp, "remove-fd", fdset_args(slot), NULL, NULL);
}

static void op_fail(struct disk_op *op, int error, const char *fmt, const char *detail)
{
	struct vm *v = op->v;

	if (op->kind == DISK_OP_ATTACH)
		qemu_release(v, op->slot, op->format_node, op->file_node);
	call_reply_error(op->c, error, fmt, v->def.name, op->disk.path, detail);
	log_warning("guest '%s': disk %s: %s", v->def.name, op->disk.path, detail);
	v->disk_op = NULL;
	op_free(op);
}

/* ---- attach ---- */

enum attach_step {
	STEP_CLEAR,
	STEP_FD,
	STEP_FD_RO,
	STEP_FILE,
	STEP_FORMAT,
	STEP_CHECK,
	STEP_DEVICE,
	STEP_DONE,
};

static void attach_step(struct disk_op *op, enum attach_step step);

/* Which step a reply answers is in its userdata: the op and the step, packed. */
struct step_ref {
	struct disk_op *op;
	enum attach_step step;
};

static void on_attach_reply(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct step_ref *ref = userdata;
	struct disk_op *op = ref->op;
	enum attach_step step = ref->step;
	char what[GUEST_PATH_MAX + 64];

	free(ref);
	if (!m) {
		op_fail(op, -EIO, "guest '%s': cannot attach disk %s: %s", "QEMU's QMP connection closed");
		return;
	}
	if (m->type == QMP_MESSAGE_ERROR && step != STEP_CLEAR) { /* a set nobody had is fine to clear */
		op_fail(op, -EIO, "guest '%s': cannot attach disk %s: QEMU says: %s",
			m->error_desc ? m->error_desc : "an error");
		return;
	}
	op->file_node |= step == STEP_FILE;
	op->format_node |= step == STEP_FORMAT;
	if (step == STEP_CHECK) {
		json_object *list = json_object_new_array();
		char node[16];
		int r;

		/* query-block's shape for qmp_block_external_files(): this disk's format node */
		snprintf(node, sizeof(node), "disk%u", op->slot);
		for (size_t i = 0;
		     json_object_is_type(m->data, json_type_array) && i < json_object_array_length(m->data);
		     i++) {
			json_object *n = json_object_array_get_idx(m->data, i), *name, *dev;

			if (!json_object_object_get_ex(n, "node-name", &name) ||
			    strcmp(json_object_get_string(name), node))
				continue;
			dev = json_object_new_object();
			json_object_object_add(dev, "device", json_object_new_string(node));
			json_object_object_add(dev, "inserted", json_object_get(n));
			json_object_array_add(list, dev);
		}
		r = json_object_array_length(list) ? qmp_block_external_files(list, what, sizeof(what)) :
						     -EBADMSG;
		json_object_put(list);
		if (r != 0) {
			op_fail(op, -EPERM,
				"guest '%s': disk %s refused: %s (a qcow2 image may name other files only when root "
				"gives it)",
				r > 0 ? what : "cannot check what QEMU opened");
			return;
		}
	}
	attach_step(op, step + 1);
}

static void command(struct disk_op *op, enum attach_step step, const char *cmd, json_object *args, int fd)
{
	struct step_ref *ref = malloc(sizeof(*ref));
	int r;

	if (!ref) {
		json_object_put(args);
		op_fail(op, -ENOMEM, "guest '%s': cannot attach disk %s: %s", "out of memory");
		return;
	}
	*ref = (struct step_ref){ op, step };
	r = fd >= 0 ? qmp_client_command_fd(op->v->qmp, cmd, args, fd, on_attach_reply, ref) :
		      qmp_client_command(op->v->qmp, cmd, args, on_attach_reply, ref);
	if (r < 0) {
		free(ref);
		op_fail(op, r, "guest '%s': cannot attach disk %s: %s", strerror(-r));
	}
}

static void attach_step(struct disk_op *op, enum attach_step step)
{
	switch (step) {
	case STEP_CLEAR:
		return command(op, step, "remove-fd", fdset_args(op->slot), -1);
	case STEP_FD:
		return command(op, step, "add-fd", fdset_args(op->slot), op->fd);
	case STEP_FD_RO:
		if (op->fd_ro < 0)
			return attach_step(op, step + 1);
		return command(op, step, "add-fd", fdset_args(op->slot), op->fd_ro);
	case STEP_FILE:
		return command(op, step, "blockdev-add", node_args(&op->disk, op->slot, false), -1);
	case STEP_FORMAT:
		return command(op, step, "blockdev-add", node_args(&op->disk, op->slot, true), -1);
	case STEP_CHECK:
		if (!op->check_files)
			return attach_step(op, step + 1);
		return command(op, step, "query-named-block-nodes", NULL, -1);
	case STEP_DEVICE:
		return command(op, step, "device_add", device_args(&op->disk, op->slot), -1);
	default:
		op_done(op);
	}
}

/* What a running guest can take, and the slot it goes to. */
static int attach_live_check(struct vm *v, struct call *c, const struct guest_disk *disk)
{
	if (!v->qmp || !qmp_client_ready(v->qmp))
		return call_errorf(c, -EAGAIN, "guest '%s' is %s and its QMP does not answer yet; try again",
				   v->def.name, vm_state_to_string(v->state));
	if (disk->bus == DISK_BUS_SATA)
		return call_errorf(
			c, -EOPNOTSUPP,
			"a SATA disk cannot be attached to a running guest (QEMU's AHCI has no hotplug): "
			"use bus=virtio or bus=scsi, or attach it while guest '%s' is stopped",
			v->def.name);
	if (disk->bus == DISK_BUS_SCSI && !v->has_scsi)
		return call_errorf(
			c, -EOPNOTSUPP,
			"guest '%s' has no SCSI controller (it had no scsi disk when it started): use "
			"bus=virtio, or attach it while the guest is stopped",
			v->def.name);
	return free_slot(v) < 0 ? call_errorf(c, -ENOSPC, "guest '%s' has no free disk slot", v->def.name) :
				  0;
}

static int param_disk(struct daemon *d, struct call *c, json_object *params, const char **ret)
{
	if (protocol_param_string(params, "disk", ret) < 0)
		return call_errorf(c, -EINVAL, "missing disk");
	return 0;
}

static int busy(struct vm *v, struct call *c)
{
	if (v->disk_op)
		return call_errorf(c, -EBUSY, "guest '%s' is changing a disk already; try again",
				   v->def.name);
	if (v->next_def)
		return call_errorf(
			c, -EBUSY,
			"guest '%s''s definition was reloaded while it runs (it applies when it stops): "
			"change its disks after that",
			v->def.name);
	if (v->state == VM_STATE_STARTING || v->state == VM_STATE_SHUTTING_DOWN || v->waiting_probe)
		return call_errorf(c, -EBUSY, "guest '%s' is %s; try again", v->def.name,
				   vm_state_to_string(v->state));
	return 0;
}

int method_vm_attach_disk(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_free_ struct disk_op *op = calloc(1, sizeof(*op));
	struct process_cred who;
	struct guest g;
	const char *name, *spec;
	struct vm *v;
	int r;

	if (!op)
		return -ENOMEM;
	op->fd = op->fd_ro = -1;
	if (protocol_param_string(params, "name", &name) < 0)
		return call_errorf(c, -EINVAL, "missing guest name");
	v = vm_find(d, name);
	if (!v)
		return call_errorf(c, -ENOENT, "no guest named '%s'", name);
	if ((r = param_disk(d, c, params, &spec)) < 0 || (r = busy(v, c)) < 0)
		return r;
	r = guest_disk_parse(&op->disk, spec, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	if (!strchr(op->disk.path, '/') && (r = disk_pool_resolve(d, c, &op->disk)) < 0)
		return r;
	if (v->def.n_disks >= GUEST_DISKS_MAX)
		return call_errorf(c, -E2BIG, "guest '%s' has %d disks already (at most %d)", v->def.name,
				   GUEST_DISKS_MAX, GUEST_DISKS_MAX);
	g = v->def;
	g.disks[g.n_disks++] = op->disk;
	if (guest_validate(&g, c->err, sizeof(c->err)) < 0)
		return -EINVAL;
	if (vm_alive(v) && (r = attach_live_check(v, c, &op->disk)) < 0)
		return r;
	/* The requester may use the file (checked again at each start), and no other guest writes it. */
	vm_cred_from_peer(&c->peer, &who);
	r = vm_file_open_disk(d, &g, &op->disk, &who, &op->fd, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	g.n_disks = 1;
	g.disks[0] = op->disk;
	r = vm_check_disks_shared(d, c, &g);
	if (r < 0)
		return r;
	op->v = v;
	op->c = c;
	op->kind = DISK_OP_ATTACH;
	if (!vm_alive(v)) {
		v->disk_op = op;
		op_done(TAKE_PTR(op));
		return 0;
	}
	if (!op->disk.readonly) {
		char proc[64];

		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", op->fd);
		op->fd_ro = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (op->fd_ro < 0)
			return call_errorf(c, -errno, "cannot open disk %s read-only: %m", op->disk.path);
	}
	op->slot = free_slot(v);
	op->check_files = who.uid != 0 && op->disk.format == DISK_FORMAT_QCOW2;
	v->disk_op = op;
	attach_step(TAKE_PTR(op), STEP_CLEAR);
	return 0;
}

/* ---- detach ---- */

static void detach_finish(struct disk_op *op)
{
	qemu_release(op->v, op->slot, true, true);
	op_done(op);
}

static int on_detach_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct disk_op *op = userdata;

	op->timer = sd_event_source_disable_unref(op->timer);
	op_fail(op, -ETIMEDOUT,
		"guest '%s': disk %s: %s; it stays attached (QEMU removes it when the guest lets it go: "
		"detach it again then, or while the guest is stopped)",
		"the guest did not release the disk within 15 s (does it handle PCI hot-unplug?)");
	return 0;
}

static void on_device_del(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct disk_op *op = userdata;

	/* Gone already: the guest let it go after an earlier detach had timed out. */
	if (m && m->type == QMP_MESSAGE_ERROR && m->error_class &&
	    !strcmp(m->error_class, "DeviceNotFound")) {
		detach_finish(op);
		return;
	}
	if (!m || m->type == QMP_MESSAGE_ERROR) {
		op_fail(op, -EIO, "guest '%s': cannot detach disk %s: %s",
			m && m->error_desc ? m->error_desc : "QEMU's QMP connection closed");
		return;
	}
	if (op->deleted) { /* a SCSI disk goes at once: the event came before the answer */
		detach_finish(op);
		return;
	}
	if (sd_event_add_time_relative(op->v->daemon->event, &op->timer, CLOCK_MONOTONIC, DETACH_TIMEOUT_USEC,
				       0, on_detach_timeout, op) < 0)
		op_fail(op, -ENOMEM, "guest '%s': cannot detach disk %s: %s", "no timer");
}

void vm_disk_on_event(struct vm *v, const struct qmp_message *m)
{
	struct disk_op *op = v->disk_op;
	json_object *dev;
	char id[32];

	if (!op || op->kind != DISK_OP_DETACH || strcmp(m->event, "DEVICE_DELETED") || !m->data ||
	    !json_object_object_get_ex(m->data, "device", &dev))
		return;
	snprintf(id, sizeof(id), "disk%u-dev", op->slot);
	if (strcmp(json_object_get_string(dev), id))
		return;
	op->deleted = true;
	if (op->timer) { /* device_del answered: waiting for this */
		op->timer = sd_event_source_disable_unref(op->timer);
		detach_finish(op);
	}
}

/* DISK: the node name vm show gives (disk1), a path, or a NAME of the pool. */
static int find_disk(struct daemon *d, struct vm *v, const char *which, size_t *ret)
{
	_cleanup_free_ char *pooled = strchr(which, '/') ? NULL : path_join(d->image_dirs[0], which);

	for (size_t i = 0; i < v->def.n_disks; i++) {
		char node[16];

		snprintf(node, sizeof(node), "disk%u", vm_alive(v) ? v->disk_slot[i] : (unsigned)i);
		if (!strcmp(which, node) || !strcmp(which, v->def.disks[i].path) ||
		    (pooled && !strcmp(pooled, v->def.disks[i].path))) {
			*ret = i;
			return 0;
		}
	}
	return -ENOENT;
}

int method_vm_detach_disk(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_free_ struct disk_op *op = calloc(1, sizeof(*op));
	const char *name, *which;
	struct vm *v;
	int r;

	if (!op)
		return -ENOMEM;
	op->fd = op->fd_ro = -1;
	if (protocol_param_string(params, "name", &name) < 0)
		return call_errorf(c, -EINVAL, "missing guest name");
	v = vm_find(d, name);
	if (!v)
		return call_errorf(c, -ENOENT, "no guest named '%s'", name);
	if ((r = param_disk(d, c, params, &which)) < 0 || (r = busy(v, c)) < 0)
		return r;
	if (find_disk(d, v, which, &op->index) < 0)
		return call_errorf(c, -ENOENT,
				   "guest '%s' has no disk '%s' (vm show lists its disks and their nodes)",
				   v->def.name, which);
	op->disk = v->def.disks[op->index];
	op->v = v;
	op->c = c;
	op->kind = DISK_OP_DETACH;
	if (!vm_alive(v)) {
		struct guest g = v->def;

		memmove(&g.disks[op->index], &g.disks[op->index + 1],
			(g.n_disks - op->index - 1) * sizeof(g.disks[0]));
		g.n_disks--;
		if (guest_validate(&g, c->err, sizeof(c->err)) < 0)
			return -EINVAL;
		v->disk_op = op;
		op_done(TAKE_PTR(op));
		return 0;
	}
	if (!v->qmp || !qmp_client_ready(v->qmp))
		return call_errorf(c, -EAGAIN, "guest '%s' is %s and its QMP does not answer yet; try again",
				   v->def.name, vm_state_to_string(v->state));
	if (op->disk.bus == DISK_BUS_SATA)
		return call_errorf(
			c, -EOPNOTSUPP,
			"a SATA disk cannot be detached from a running guest (QEMU's AHCI has no hotplug): "
			"detach it while guest '%s' is stopped",
			v->def.name);
	op->slot = v->disk_slot[op->index];
	v->disk_op = op;
	r = qmp_client_command(v->qmp, "device_del", named_args("id", "disk%u-dev", op->slot), on_device_del,
			       op);
	if (r < 0) {
		v->disk_op = NULL;
		return call_errorf(c, r, "cannot detach disk %s: %s", op->disk.path, strerror(-r));
	}
	TAKE_PTR(op);
	return 0;
}
