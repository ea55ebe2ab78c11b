/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vm attach-disk / vm detach-disk: a disk added to or taken from a guest's definition, and, while
 * QEMU runs, from QEMU too, through QMP, one step after the other:
 *
 *   attach: blockdev-del of nodes left in the slot (netd died during an attach, a detach's
 *           blockdev-del failed; errors ignored) and remove-fd of its sets (of a disk that was
 *           there before); an overlay of the pool: each layer below it, bottom up: add-fd of its
 *           own set 100 + 16 S + K, blockdev-add diskS-lK-file and diskS-lK (read-only, linked
 *           to the one below); add-fd (the file netd opened with the requester's rights, passed
 *           over the QMP socket; a read-write disk's read-only fd too), blockdev-add diskS-file
 *           and diskS (a qcow2: "backing" the layer below, or null), for a qcow2 disk another user
 *           than root gave query-named-block-nodes (it opened nothing by path), device_add diskS-dev
 *   detach: device_del diskS-dev, DEVICE_DELETED (the guest let it go), blockdev-del (the disk's
 *           nodes, then its layers' from the top down), remove-fd
 *
 * S is the disk's slot: a virtio disk's PCIe root port disk-port<S> (qemu-argv.c), its fd set
 * 10 + S. A step that fails undoes the steps before it; so does QEMU's late answer after the whole
 * change took more than 30 s (the call failed then). Once QEMU has done it all: netd's view of the
 * guest, then the disk-slots file, then the definition. Only root or the guest's owner changes its
 * disks; the guest without the disk a detach takes must still be valid (a boot source, --boot's).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "disk-pool.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "vm-files.h"
#include "vm-store.h"
#include "vm.h"

#define DETACH_TIMEOUT_USEC (15 * 1000 * 1000ull) /* the guest acknowledges a PCIe unplug */
#define OP_TIMEOUT_USEC (30 * 1000 * 1000ull) /* QEMU answers the whole change */

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
	struct vm_layers layers; /* attach: an overlay's layers below it (in [0]) */
	size_t layer; /* the layer the step is about (1..n) */
	unsigned layer_files, layer_formats; /* bit k: QEMU has layer k's file / format node */
	bool deleted; /* DEVICE_DELETED came */
	int step; /* attach: the step whose answer is awaited (enum attach_step) */
	bool timed_out; /* the call failed after OP_TIMEOUT_USEC: undo at QEMU's next answer */
	sd_event_source *timer; /* detach: the guest's DEVICE_DELETED */
	sd_event_source *deadline; /* the whole change */
};

static void op_free(struct disk_op *op)
{
	if (!op)
		return;
	if (op->fd >= 0)
		close(op->fd);
	if (op->fd_ro >= 0)
		close(op->fd_ro);
	vm_layers_close(&op->layers);
	sd_event_source_disable_unref(op->timer);
	sd_event_source_disable_unref(op->deadline);
	free(op);
}

static void op_freep(struct disk_op **op)
{
	op_free(*op);
}

/* The call's answer, once (a change that timed out was answered then). */
static void op_reply_error(struct disk_op *op, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void op_reply_error(struct disk_op *op, int error, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (!op->c)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	call_reply_error(TAKE_PTR(op->c), error, "%s", text);
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
	char buf[256];
	size_t len;

	len = snprintf(buf, sizeof(buf), "scsi %d", v->has_scsi);
	for (size_t i = 0; i < v->def.n_disks && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, " %u", v->disk_slot[i]);
	/* then the layers below each slot (an overlay's nodes diskS-lK, for a detach) */
	for (size_t s = 0; s < GUEST_DISKS_MAX && len < sizeof(buf); s++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%u", s ? " " : " layers ",
				v->slot_layers[s]);
	if (len < sizeof(buf) - 1)
		buf[len++] = '\n';
	if (!path || write_runtime_file(path, buf, len, 0644) < 0)
		log_guest(
			LOG_WARNING, v->def.name,
			"guest '%s': cannot write its disk slots (a restarted netd assumes disk N in slot N)",
			v->def.name);
}

void vm_disk_slots_init(struct vm *v, bool adopted)
{
	_cleanup_free_ char *path = slots_path(v), *text = NULL;
	char *save = NULL, *tok;
	size_t i = 0;

	for (size_t k = 0; k < GUEST_DISKS_MAX; k++) {
		v->disk_slot[k] = k;
		v->slot_layers[k] = adopted ? 0 : v->layers.n[k];
	}
	v->has_scsi = false;
	for (size_t k = 0; k < v->def.n_disks; k++)
		v->has_scsi |= v->def.disks[k].bus == DISK_BUS_SCSI;
	v->disk_slots_unknown = false;
	if (!adopted) {
		slots_save(v);
		return;
	}
	/* A QEMU an older netd started (or a lost file): which node is which disk is not known, and a
	 * DeviceNotFound could be a disk netd never had; no live disk change until its next start. */
	v->disk_slots_unknown = true;
	if (!path || read_file(path, &text, NULL) < 0)
		return;
	tok = strtok_r(text, " \n", &save);
	if (!tok || strcmp(tok, "scsi") || !(tok = strtok_r(NULL, " \n", &save)))
		return;
	v->disk_slots_unknown = false;
	v->has_scsi = atoi(tok) == 1;
	while ((tok = strtok_r(NULL, " \n", &save)) && i < GUEST_DISKS_MAX && strcmp(tok, "layers"))
		v->disk_slot[i++] = (unsigned)atoi(tok) % GUEST_DISKS_MAX;
	if (tok && !strcmp(tok, "layers"))
		for (size_t s = 0; s < GUEST_DISKS_MAX && (tok = strtok_r(NULL, " \n", &save)); s++)
			v->slot_layers[s] = (unsigned)atoi(tok) % (QEMU_LAYERS_MAX + 1);
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

/* The change in netd's view first (QEMU has it: v->def and the slots follow QEMU whatever happens to
 * the file), then the slots file, then the definition (a definition reloaded during the change,
 * which is what the file holds, gets it too, when it stays valid). A definition that cannot be
 * written is reported: the running guest keeps the disk, netd's view has it, the file is stale
 * (the change is lost when the definition is read again: netd's restart, a reload). */
static int def_commit(struct disk_op *op, char *err, size_t errlen)
{
	struct vm *v = op->v;
	struct guest g = v->def, next;
	char why[256];
	int r;

	if (op->kind == DISK_OP_ATTACH) {
		g.disks[g.n_disks++] = op->disk;
		v->disk_slot[v->def.n_disks] = op->slot;
		v->slot_layers[op->slot] = op->layers.n[0];
	} else {
		memmove(&g.disks[op->index], &g.disks[op->index + 1],
			(g.n_disks - op->index - 1) * sizeof(g.disks[0]));
		g.n_disks--;
		memmove(&v->disk_slot[op->index], &v->disk_slot[op->index + 1],
			(v->def.n_disks - op->index - 1) * sizeof(v->disk_slot[0]));
	}
	v->def = g;
	if (vm_alive(v))
		slots_save(v);
	if (v->next_def) {
		next = *v->next_def;
		def_change(op, &next);
		if (guest_validate(&next, why, sizeof(why)) < 0) {
			snprintf(
				err, errlen,
				"the definition of guest '%s' reloaded meanwhile is not valid with this change "
				"(%s): its file stays as it is, without the change",
				v->def.name, why);
			return -EINVAL;
		}
		*v->next_def = next;
	}
	r = store_guest_save(&v->daemon->paths, v->next_def ?: &g);
	if (r < 0) {
		snprintf(err, errlen, "cannot write the definition of guest '%s': %s", v->def.name,
			 strerror(-r));
		return r;
	}
	return 0;
}

static void op_done(struct disk_op *op)
{
	struct vm *v = op->v;
	bool alive = vm_alive(v);
	char err[512];
	int r;

	r = def_commit(op, err, sizeof(err));
	if (r < 0) {
		op_reply_error(op, r, "%s%s", err,
			       alive ? " (the running guest has the change; its definition file does not)" :
				       "");
		log_guest(LOG_WARNING, v->def.name, "guest '%s': %s", v->def.name, err);
	} else if (op->c) {
		call_reply(TAKE_PTR(op->c), vm_json(v));
	}
	log_guest(LOG_INFO, v->def.name, "guest '%s': disk %s %s", v->def.name, op->disk.path,
		  op->kind == DISK_OP_ATTACH ? "attached" : "detached");
	v->disk_op = NULL;
	op_free(op);
}

/* ---- QMP arguments ---- */

static json_object *fdset_args(unsigned slot, size_t layer)
{
	json_object *a = json_object_new_object();

	json_object_object_add(a, "fdset-id", json_object_new_int(qemu_layer_fdset(slot, layer)));
	return a;
}

static json_object *node_name_args(unsigned slot, size_t layer, bool file)
{
	json_object *a = json_object_new_object();
	char name[48];

	qemu_layer_node(name, sizeof(name), slot, layer, file);
	json_object_object_add(a, "node-name", json_object_new_string(name));
	return a;
}

static json_object *node_args(const struct disk_op *op, size_t layer, bool format)
{
	size_t n = op->layers.n[0];
	enum disk_format f = layer ? op->layers.formats[0][layer - 1] : op->disk.format;

	return format ? qemu_format_node(&op->disk, op->slot, layer, f, layer < n) :
			qemu_file_node(&op->disk, op->slot, layer);
}

static json_object *device_args(const struct guest_disk *disk, unsigned slot, unsigned io_threads)
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
		if (io_threads) /* as at start (qemu-argv.c): slot mod --io-threads */
			json_object_object_add(a, "iothread",
					       json_object_new_string(qemu_disk_iothread(slot, io_threads)));
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

/* The nodes and fds QEMU got for the slot, taken away (after a failed attach, or a detach): the
 * disk's nodes, then its layers' from the top down (a node goes once nothing uses it), then the
 * fd sets. Bit k of the masks: layer k (0: the disk itself). */
static void qemu_release(struct vm *v, unsigned slot, size_t n_layers, unsigned formats, unsigned files)
{
	if (!v->qmp)
		return;
	for (size_t k = 0; k <= n_layers; k++) {
		if (formats & (1u << k))
			qmp_client_command(v->qmp, "blockdev-del", node_name_args(slot, k, false), NULL,
					   NULL);
		if (files & (1u << k))
			qmp_client_command(v->qmp, "blockdev-del", node_name_args(slot, k, true), NULL, NULL);
	}
	for (size_t k = 0; k <= n_layers; k++)
		qmp_client_command(v->qmp, "remove-fd", fdset_args(slot, k), NULL, NULL);
}

static void op_fail(struct disk_op *op, int error, const char *fmt, const char *detail)
{
	struct vm *v = op->v;

	if (op->kind == DISK_OP_ATTACH)
		qemu_release(v, op->slot, op->layers.n[0], op->layer_formats | op->format_node,
			     op->layer_files | op->file_node);
	op_reply_error(op, error, fmt, v->def.name, op->disk.path, detail);
	log_guest(LOG_WARNING, v->def.name, "guest '%s': disk %s: %s", v->def.name, op->disk.path, detail);
	v->disk_op = NULL;
	op_free(op);
}

/* The whole change has OP_TIMEOUT_USEC: then the call fails; QEMU's late answer undoes an attach
 * (the guest stays busy with the change until QEMU answers or exits). */
static int on_op_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct disk_op *op = userdata;

	op->deadline = sd_event_source_disable_unref(op->deadline);
	op->timed_out = true;
	op_reply_error(op, -ETIMEDOUT,
		       "guest '%s': QEMU did not %s disk %s within 30 s (the change is undone when QEMU "
		       "answers)",
		       op->v->def.name, op->kind == DISK_OP_ATTACH ? "attach" : "detach", op->disk.path);
	log_guest(LOG_WARNING, op->v->def.name, "guest '%s': disk %s: QEMU did not answer within 30 s",
		  op->v->def.name, op->disk.path);
	return 0;
}

static int op_arm(struct disk_op *op)
{
	return sd_event_add_time_relative(op->v->daemon->event, &op->deadline, CLOCK_MONOTONIC,
					  OP_TIMEOUT_USEC, 0, on_op_deadline, op);
}

/* ---- attach ---- */

enum attach_step {
	STEP_CLEAR_FORMAT, /* nodes left in the slot: netd died during an attach, a blockdev-del failed */
	STEP_CLEAR_FILE,
	STEP_CLEAR,
	STEP_CLEAR_LAYER_FORMAT, /* the same for each layer the overlay has, 1..n */
	STEP_CLEAR_LAYER_FILE,
	STEP_CLEAR_LAYER_FD,
	STEP_LAYER_FD, /* each layer from the bottom (n) up: fd, file node, format node */
	STEP_LAYER_FILE,
	STEP_LAYER_FORMAT,
	STEP_FD,
	STEP_FD_RO,
	STEP_FILE,
	STEP_FORMAT,
	STEP_CHECK,
	STEP_DEVICE,
	STEP_DONE,
};

static void attach_step(struct disk_op *op, enum attach_step step);

/* One command at a time: the step its reply answers is op->step. */
static void on_attach_reply(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct disk_op *op = userdata;
	enum attach_step step = op->step;
	char what[GUEST_PATH_MAX + 64];

	if (!m) {
		op_fail(op, -EIO, "guest '%s': cannot attach disk %s: %s", "QEMU's QMP connection closed");
		return;
	}
	if (op->timed_out) {
		op->file_node |= step == STEP_FILE && m->type != QMP_MESSAGE_ERROR;
		op->format_node |= step == STEP_FORMAT && m->type != QMP_MESSAGE_ERROR;
		if (step == STEP_LAYER_FILE && m->type != QMP_MESSAGE_ERROR)
			op->layer_files |= 1u << op->layer;
		if (step == STEP_LAYER_FORMAT && m->type != QMP_MESSAGE_ERROR)
			op->layer_formats |= 1u << op->layer;
		op_fail(op, -ETIMEDOUT, "guest '%s': cannot attach disk %s: %s", "timed out");
		return;
	}
	/* nodes and a set nobody had are fine to clear */
	if (m->type == QMP_MESSAGE_ERROR && step > STEP_CLEAR_LAYER_FD) {
		op_fail(op, -EIO, "guest '%s': cannot attach disk %s: QEMU says: %s",
			m->error_desc ? m->error_desc : "an error");
		return;
	}
	op->file_node |= step == STEP_FILE;
	op->format_node |= step == STEP_FORMAT;
	if (step == STEP_LAYER_FILE)
		op->layer_files |= 1u << op->layer;
	if (step == STEP_LAYER_FORMAT)
		op->layer_formats |= 1u << op->layer;
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
	/* the layers: cleared 1..n, then added n..1 */
	if (step == STEP_CLEAR_LAYER_FD && op->layer < op->layers.n[0]) {
		op->layer++;
		return attach_step(op, STEP_CLEAR_LAYER_FORMAT);
	}
	if (step == STEP_CLEAR_LAYER_FD)
		op->layer = op->layers.n[0];
	if (step == STEP_LAYER_FORMAT && op->layer > 1) {
		op->layer--;
		return attach_step(op, STEP_LAYER_FD);
	}
	attach_step(op, step + 1);
}

static void command(struct disk_op *op, enum attach_step step, const char *cmd, json_object *args, int fd)
{
	int r;

	op->step = step;
	r = fd >= 0 ? qmp_client_command_fd(op->v->qmp, cmd, args, fd, on_attach_reply, op) :
		      qmp_client_command(op->v->qmp, cmd, args, on_attach_reply, op);
	if (r < 0)
		op_fail(op, r, "guest '%s': cannot attach disk %s: %s", strerror(-r));
}

static void attach_step(struct disk_op *op, enum attach_step step)
{
	switch (step) {
	case STEP_CLEAR_FORMAT:
		return command(op, step, "blockdev-del", named_args("node-name", "disk%u", op->slot), -1);
	case STEP_CLEAR_FILE:
		return command(op, step, "blockdev-del", named_args("node-name", "disk%u-file", op->slot),
			       -1);
	case STEP_CLEAR:
		op->layer = 1;
		return command(op, step, "remove-fd", fdset_args(op->slot, 0), -1);
	case STEP_CLEAR_LAYER_FORMAT:
		if (op->layers.n[0] == 0)
			return attach_step(op, STEP_FD);
		return command(op, step, "blockdev-del", node_name_args(op->slot, op->layer, false), -1);
	case STEP_CLEAR_LAYER_FILE:
		return command(op, step, "blockdev-del", node_name_args(op->slot, op->layer, true), -1);
	case STEP_CLEAR_LAYER_FD:
		return command(op, step, "remove-fd", fdset_args(op->slot, op->layer), -1);
	case STEP_LAYER_FD:
		return command(op, step, "add-fd", fdset_args(op->slot, op->layer),
			       op->layers.fds[0][op->layer - 1]);
	case STEP_LAYER_FILE:
		return command(op, step, "blockdev-add", node_args(op, op->layer, false), -1);
	case STEP_LAYER_FORMAT:
		return command(op, step, "blockdev-add", node_args(op, op->layer, true), -1);
	case STEP_FD:
		return command(op, step, "add-fd", fdset_args(op->slot, 0), op->fd);
	case STEP_FD_RO:
		if (op->fd_ro < 0)
			return attach_step(op, step + 1);
		return command(op, step, "add-fd", fdset_args(op->slot, 0), op->fd_ro);
	case STEP_FILE:
		return command(op, step, "blockdev-add", node_args(op, 0, false), -1);
	case STEP_FORMAT:
		return command(op, step, "blockdev-add", node_args(op, 0, true), -1);
	case STEP_CHECK:
		if (!op->check_files)
			return attach_step(op, step + 1);
		return command(op, step, "query-named-block-nodes", NULL, -1);
	case STEP_DEVICE:
		return command(op, step, "device_add",
			       device_args(&op->disk, op->slot, op->v->def.io_threads), -1);
	default:
		op_done(op);
	}
}

/* What a running guest can take, and the slot it goes to. */
static int slots_known(struct vm *v, struct call *c)
{
	if (!v->disk_slots_unknown)
		return 0;
	return call_errorf(c, -EOPNOTSUPP,
			   "guest '%s' runs in a QEMU netd adopted without its disk slots (started by an "
			   "older netd): its disks change live only after its next start; change them while "
			   "it is stopped",
			   v->def.name);
}

static int attach_live_check(struct vm *v, struct call *c, const struct guest_disk *disk)
{
	int r;

	if (!v->qmp || !qmp_client_ready(v->qmp))
		return call_errorf(c, -EAGAIN, "guest '%s' is %s and its QMP does not answer yet; try again",
				   v->def.name, vm_state_to_string(v->state));
	if ((r = slots_known(v, c)) < 0)
		return r;
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

int method_vm_attach_disk(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_(op_freep) struct disk_op *op = calloc(1, sizeof(*op));
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
	if ((r = param_disk(d, c, params, &spec)) < 0 ||
	    (r = vm_owner_check(
		     v, c, "attach its disks (its files are opened with its owner's rights at each start)")) <
		    0 ||
	    (r = vm_change_busy(v, c, "disks")) < 0)
		return r;
	r = guest_disk_parse(&op->disk, spec, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	if (!strchr(op->disk.path, '/') && (r = disk_pool_resolve(d, c, &op->disk)) < 0)
		return r;
	if (v->def.n_disks >= GUEST_DISKS_MAX)
		return call_errorf(c, -E2BIG, "guest '%s' has %d disks already (at most %d)", v->def.name,
				   GUEST_DISKS_MAX, GUEST_DISKS_MAX);
	if (!op->disk.readonly) { /* as vm start refuses it */
		char overlay[NAME_MAX + 1];

		if (disk_pool_is_base(d, op->disk.path, overlay, sizeof(overlay)))
			return call_errorf(
				c, -EBUSY,
				"cannot attach disk %s: it is the base of overlay '%s' (a clone's, or "
				"'disk create --backing'): writing it would change what the overlay "
				"reads; attach it readonly, or convert or delete '%s'",
				op->disk.path, overlay, overlay);
	}
	g = v->def;
	g.disks[g.n_disks++] = op->disk;
	if (guest_validate(&g, c->err, sizeof(c->err)) < 0)
		return -EINVAL;
	if (vm_alive(v) && (r = attach_live_check(v, c, &op->disk)) < 0)
		return r;
	/* The requester may use the file (checked again at each start), and no other guest writes it. */
	vm_cred_from_peer(&c->peer, &who);
	r = vm_file_open_disk(d, &g, &op->disk, &who, &op->fd, &op->layers, c->err, sizeof(c->err));
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
	if ((r = op_arm(op)) < 0)
		return call_errorf(c, r, "cannot attach disk %s: no timer", op->disk.path);
	v->disk_op = op;
	attach_step(TAKE_PTR(op), STEP_CLEAR_FORMAT);
	return 0;
}

/* ---- detach ---- */

static void detach_finish(struct disk_op *op)
{
	unsigned n = op->v->slot_layers[op->slot], all = (2u << n) - 1;

	qemu_release(op->v, op->slot, n, all, all);
	op->v->slot_layers[op->slot] = 0;
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

	if (m && op->timed_out) {
		op_fail(op, -ETIMEDOUT, "guest '%s': cannot detach disk %s: %s", "timed out");
		return;
	}
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
	    !json_object_object_get_ex(m->data, "device", &dev) ||
	    !json_object_is_type(dev, json_type_string))
		return; /* (a hostile QEMU's "device": null must not reach strcmp) */
	snprintf(id, sizeof(id), "disk%u-dev", op->slot);
	if (strcmp(json_object_get_string(dev), id))
		return;
	op->deleted = true;
	if (op->timer) { /* device_del answered: waiting for this */
		op->timer = sd_event_source_disable_unref(op->timer);
		detach_finish(op);
	}
}

/* DISK: the node name vm show gives (disk1), a path, or a NAME of the pool. A pool disk may be named
 * like a node (disk0): when the node is one disk and the name another, -EEXIST (ambiguous). */
static int find_disk(struct daemon *d, struct vm *v, const char *which, size_t *ret)
{
	_cleanup_free_ char *pooled = strchr(which, '/') ? NULL : path_join(d->image_dirs[0], which);
	ssize_t by_node = -1, by_path = -1;

	for (size_t i = 0; i < v->def.n_disks; i++) {
		char node[16];

		snprintf(node, sizeof(node), "disk%u", vm_alive(v) ? v->disk_slot[i] : (unsigned)i);
		if (!strcmp(which, node))
			by_node = i;
		if (by_path < 0 && (!strcmp(which, v->def.disks[i].path) ||
				    (pooled && !strcmp(pooled, v->def.disks[i].path))))
			by_path = i;
	}
	if (by_node >= 0 && by_path >= 0 && by_node != by_path)
		return -EEXIST;
	if (by_node < 0 && by_path < 0)
		return -ENOENT;
	*ret = by_node >= 0 ? (size_t)by_node : (size_t)by_path;
	return 0;
}

int method_vm_detach_disk(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_(op_freep) struct disk_op *op = calloc(1, sizeof(*op));
	const char *name, *which;
	struct guest g;
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
	if ((r = param_disk(d, c, params, &which)) < 0 ||
	    (r = vm_owner_check(
		     v, c, "detach its disks (its files are opened with its owner's rights at each start)")) <
		    0 ||
	    (r = vm_change_busy(v, c, "disks")) < 0)
		return r;
	r = find_disk(d, v, which, &op->index);
	if (r == -EEXIST)
		return call_errorf(
			c, -EINVAL,
			"'%s' is both the node of one disk of guest '%s' and the path or pool name of "
			"another: give the other's full path, or the node",
			which, v->def.name);
	if (r < 0)
		return call_errorf(c, -ENOENT,
				   "guest '%s' has no disk '%s' (vm show lists its disks and their nodes)",
				   v->def.name, which);
	op->disk = v->def.disks[op->index];
	op->v = v;
	op->c = c;
	op->kind = DISK_OP_DETACH;
	/* The guest without it must still be one netd loads and starts (a running guest too: it is
	 * what the file will hold). */
	g = v->def;
	memmove(&g.disks[op->index], &g.disks[op->index + 1],
		(g.n_disks - op->index - 1) * sizeof(g.disks[0]));
	g.n_disks--;
	if (guest_validate(&g, c->err, sizeof(c->err)) < 0)
		return -EINVAL;
	if (!vm_alive(v)) {
		v->disk_op = op;
		op_done(TAKE_PTR(op));
		return 0;
	}
	if (!v->qmp || !qmp_client_ready(v->qmp))
		return call_errorf(c, -EAGAIN, "guest '%s' is %s and its QMP does not answer yet; try again",
				   v->def.name, vm_state_to_string(v->state));
	if ((r = slots_known(v, c)) < 0)
		return r;
	if (op->disk.bus == DISK_BUS_SATA)
		return call_errorf(
			c, -EOPNOTSUPP,
			"a SATA disk cannot be detached from a running guest (QEMU's AHCI has no hotplug): "
			"detach it while guest '%s' is stopped",
			v->def.name);
	op->slot = v->disk_slot[op->index];
	if ((r = op_arm(op)) < 0)
		return call_errorf(c, r, "cannot detach disk %s: no timer", op->disk.path);
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
