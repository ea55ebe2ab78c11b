/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vm attach-nic / vm detach-nic: a NIC added to or taken from a guest's definition, and, while QEMU
 * runs, from QEMU too, through QMP, one step after the other:
 *
 *   attach: the TAP (tap ops, named as at start after its slot: vm-<guest>-<S> or vnetN), the host
 *           keeps off it (port guard), port security entries, a port of the network's bridge with
 *           the host-side MAC, up (the network's user_add); vhost-net fds where /dev/vhost-net
 *           exists; then QMP: netdev_del netS (a leftover; errors ignored), getfd tapS (one per
 *           queue: tapS-Q; vhost: vhostS, vhostS-Q) with the fd over the QMP socket, netdev_add
 *           {type tap, id netS, fd(s) tapS, vhost, vhostfd(s)}, device_add virtio-net-pci
 *           {id nicS, netdev netS, mac, bus nic-portS}
 *   detach: device_del nicS, DEVICE_DELETED (the guest let it go; 15 s at most), netdev_del netS
 *           (QEMU closes the TAP's fds: the TAP goes; netd deletes it if it is still there), port
 *           security entries removed, the network's user removed
 *
 * S is the NIC's slot: its PCIe root port nic-port<S> (qemu-argv.c). A step that fails undoes the
 * steps before it (closefd / netdev_del in QEMU, the TAP closed, its entries removed). Once QEMU has
 * done it all: netd's view of the guest, then <run>/guests/NAME/{taps,nic-slots} (a restarted netd
 * knows the TAPs and slots), then the MACs file and the definition. Only root or the guest's owner
 * changes its NICs (as its disks: --nic-security off is then the owner's choice, as at vm create).
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "net.h"
#include "protocol.h"
#include "store.h"
#include "vm-store.h"
#include "vm.h"

#define NIC_DETACH_TIMEOUT_USEC (15 * 1000 * 1000ull) /* the guest acknowledges a PCIe unplug */
#define NIC_OP_TIMEOUT_USEC (30 * 1000 * 1000ull) /* QEMU answers the whole change */

enum nic_op_kind { NIC_OP_ATTACH, NIC_OP_DETACH };

enum nic_step {
	NSTEP_CLEAR, /* netdev_del of a netdev left in the slot (errors ignored) */
	NSTEP_GETFD, /* one per fd: op->n_sent of op->n_fds */
	NSTEP_NETDEV,
	NSTEP_DEVICE,
	NSTEP_DONE,
};

struct nic_op {
	struct vm *v;
	struct call *c;
	enum nic_op_kind kind;
	struct guest_nic nic; /* MAC resolved */
	size_t index; /* def.nics[index]: the new one (attach) or the one that goes */
	unsigned slot;
	char tap[IFNAMSIZ];
	unsigned queues;
	bool vhost;
	int fds[2 * GUEST_QUEUES_MAX]; /* TAP fds, then vhost fds; netd's copies, closed at the end */
	size_t n_fds, n_sent; /* fds; how many getfd QEMU took */
	bool portsec, user, netdev; /* what is in place so far */
	enum nic_step step;
	bool deleted; /* DEVICE_DELETED came */
	bool timed_out; /* the call failed after NIC_OP_TIMEOUT_USEC: undo at QEMU's next answer */
	sd_event_source *timer; /* detach: the guest's DEVICE_DELETED */
	sd_event_source *deadline; /* the whole change */
};

static void fds_close(struct nic_op *op)
{
	for (size_t i = 0; i < op->n_fds; i++)
		if (op->fds[i] >= 0)
			close(op->fds[i]);
	op->n_fds = 0;
}

static void op_free(struct nic_op *op)
{
	if (!op)
		return;
	fds_close(op);
	sd_event_source_disable_unref(op->timer);
	sd_event_source_disable_unref(op->deadline);
	free(op);
}

static void op_freep(struct nic_op **op)
{
	op_free(*op);
}

static void op_reply_error(struct nic_op *op, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void op_reply_error(struct nic_op *op, int error, const char *fmt, ...)
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

/* The host's side of an attach undone: netd's fds closed, the TAP deleted (QEMU may still hold a
 * copy of its fd: a QEMU that ignored closefd/netdev_del, or whose QMP went, must not keep a bridge
 * port), then its entries. Were the TAP still there, its entries stay: a port without entries is a
 * port without port security. */
static void attach_undo_local(struct nic_op *op)
{
	struct daemon *d = op->v->daemon;
	struct net *n = daemon_net_find(d, op->nic.network);
	int ifindex;

	fds_close(op);
	ifindex = op->tap[0] ? (int)if_nametoindex(op->tap) : 0;
	if (ifindex > 0 && d->link.ops->links_del(d->link.userdata, &ifindex, 1) < 0 &&
	    if_nametoindex(op->tap) > 0) {
		log_guest(LOG_ERR, op->v->def.name,
			  "guest '%s': cannot delete TAP %s of a NIC that was not attached: its port "
			  "security entries stay",
			  op->v->def.name, op->tap);
		op->portsec = false;
	}
	if (op->user && n)
		net_user_remove(n, op->v->def.name, op->index);
	if (op->portsec)
		daemon_portsec_port_remove(d, op->tap);
	op->user = op->portsec = false;
}

void vm_nic_op_free(struct vm *v)
{
	struct nic_op *op = TAKE_PTR(v->nic_op);

	if (!op)
		return;
	if (op->c)
		call_reply_error(op->c, -ECANCELED, "guest '%s' went away during the NIC change",
				 v->def.name);
	if (op->kind == NIC_OP_ATTACH)
		attach_undo_local(op);
	op_free(op);
}

/* ---- the run files: taps (one a line, the definition's order) and nic-slots ---- */

static char *run_file(struct vm *v, const char *name)
{
	_cleanup_free_ char *dir = store_guest_run_dir(&v->daemon->paths, v->def.name);

	return dir ? path_join(dir, name) : NULL;
}

void vm_nic_slots_save(struct vm *v)
{
	_cleanup_free_ char *taps = run_file(v, "taps"), *slots = run_file(v, "nic-slots");
	char list[GUEST_NICS_MAX * (IFNAMSIZ + 1) + 1] = "", buf[GUEST_NICS_MAX * 4 + 2] = "";
	size_t len = 0;

	for (size_t i = 0; i < v->def.n_nics; i++) {
		strcat(list, v->nics[i].tap);
		strcat(list, "\n");
		len += snprintf(buf + len, sizeof(buf) - len, "%s%u", i ? " " : "", v->nics[i].slot);
	}
	snprintf(buf + len, sizeof(buf) - len, "\n");
	if (!taps || !slots || write_runtime_file(taps, list, strlen(list), 0644) < 0 ||
	    write_runtime_file(slots, buf, strlen(buf), 0644) < 0)
		log_guest(
			LOG_WARNING, v->def.name,
			"guest '%s': cannot write its TAPs and NIC slots (a restarted netd would not know them)",
			v->def.name);
}

void vm_nic_slots_load(struct vm *v)
{
	_cleanup_free_ char *path = run_file(v, "nic-slots"), *text = NULL;
	char *save = NULL, *tok;
	size_t i = 0;

	for (size_t k = 0; k < GUEST_NICS_MAX; k++)
		v->nics[k].slot = k;
	if (!path || read_file(path, &text, NULL) < 0) /* a QEMU an older netd started: NIC i in slot i */
		return;
	for (tok = strtok_r(text, " \n", &save); tok && i < GUEST_NICS_MAX;
	     tok = strtok_r(NULL, " \n", &save))
		v->nics[i++].slot = (unsigned)atoi(tok) % GUEST_NICS_MAX;
}

static int free_slot(struct vm *v)
{
	for (unsigned s = 0; s < GUEST_NICS_MAX; s++) {
		bool used = false;

		for (size_t i = 0; i < v->def.n_nics; i++)
			used |= v->nics[i].slot == s;
		if (!used)
			return s;
	}
	return -ENOSPC;
}

static int macs_save(struct vm *v, const struct guest *g)
{
	struct mac macs[GUEST_NICS_MAX];

	for (size_t i = 0; i < g->n_nics; i++)
		macs[i] = g->nics[i].mac;
	return store_macs_save(&v->daemon->paths, "guests", g->name, "macs", macs, g->n_nics);
}

/* The change in netd's view (QEMU has it), the run files, the MACs file, then the definition. */
static void op_done(struct nic_op *op)
{
	struct vm *v = op->v;
	struct daemon *d = v->daemon;
	struct guest g = v->def;
	bool alive = vm_alive(v);
	int r;

	if (op->kind == NIC_OP_ATTACH) {
		g.nics[g.n_nics++] = op->nic;
		if (alive) {
			struct vm_nic *vn = &v->nics[op->index];

			memset(vn, 0, sizeof(*vn));
			snprintf(vn->tap, sizeof(vn->tap), "%s", op->tap);
			vn->vhost = op->vhost;
			vn->slot = op->slot;
		}
		fds_close(op); /* QEMU has its own: the TAP lives as long as they do */
	} else {
		size_t k = op->index;

		if (alive) {
			/* the network users are numbered by the NIC's index: the ones after it move down */
			for (size_t j = k; j < g.n_nics; j++) {
				struct net *n = daemon_net_find(d, g.nics[j].network);

				if (n)
					net_user_remove(n, g.name, j);
			}
			if (op->tap[0])
				daemon_portsec_port_remove(d, op->tap);
			memmove(&v->nics[k], &v->nics[k + 1], (g.n_nics - k - 1) * sizeof(v->nics[0]));
			memset(&v->nics[g.n_nics - 1], 0, sizeof(v->nics[0]));
		}
		memmove(&g.nics[k], &g.nics[k + 1], (g.n_nics - k - 1) * sizeof(g.nics[0]));
		g.n_nics--;
		if (alive)
			for (size_t j = k; j < g.n_nics; j++) {
				struct net *n = daemon_net_find(d, g.nics[j].network);
				struct net_user u = { .nic = j, .mac = g.nics[j].mac };
				char err[256];

				snprintf(u.guest, sizeof(u.guest), "%s", g.name);
				snprintf(u.tap, sizeof(u.tap), "%s", v->nics[j].tap);
				if (n && daemon_net_user_add(d, n, &u, err, sizeof(err)) < 0)
					log_guest(LOG_ERR, g.name, "guest '%s': NIC %zu: %s", g.name, j, err);
			}
	}
	v->def = g;
	if (alive)
		vm_nic_slots_save(v);
	if (macs_save(v, &g) < 0)
		log_guest(LOG_WARNING, g.name, "guest '%s': cannot write its MACs file", g.name);
	r = store_guest_save(&d->paths, &g);
	if (r < 0) {
		op_reply_error(op, r, "cannot write the definition of guest '%s': %s%s", g.name, strerror(-r),
			       alive ? " (the running guest has the change; its definition file does not)" :
				       "");
		log_guest(LOG_WARNING, g.name, "guest '%s': cannot write its definition: %s", g.name,
			  strerror(-r));
	} else if (op->c) {
		call_reply(TAKE_PTR(op->c), vm_to_json(v));
	}
	log_obj(LOG_INFO, LOG_OBJ(.guest = g.name, .network = op->nic.network),
		"guest '%s': NIC on network '%s' %s", g.name, op->nic.network,
		op->kind == NIC_OP_ATTACH ? "attached" : "detached");
	vm_notify(v, op->kind == NIC_OP_ATTACH ? "nic attached" : "nic detached");
	v->nic_op = NULL;
	op_free(op);
}

/* ---- QMP arguments ---- */

static void fd_name(const struct nic_op *op, size_t k, char *buf, size_t size)
{
	bool vhost = k >= op->queues;
	size_t q = vhost ? k - op->queues : k;

	if (op->queues == 1)
		snprintf(buf, size, "%s%u", vhost ? "vhost" : "tap", op->slot);
	else
		snprintf(buf, size, "%s%u-%zu", vhost ? "vhost" : "tap", op->slot, q);
}

static json_object *one(const char *key, const char *fmt, unsigned slot)
{
	json_object *a = json_object_new_object();
	char s[40];

	snprintf(s, sizeof(s), fmt, slot);
	json_object_object_add(a, key, json_object_new_string(s));
	return a;
}

static json_object *getfd_args(const struct nic_op *op, size_t k)
{
	json_object *a = json_object_new_object();
	char s[32];

	fd_name(op, k, s, sizeof(s));
	json_object_object_add(a, "fdname", json_object_new_string(s));
	return a;
}

/* fd names joined with ':' for the queues (fds, vhostfds), or the one name (fd, vhostfd). */
static json_object *fd_names(const struct nic_op *op, bool vhost)
{
	char buf[256] = "", s[32];
	size_t len = 0;

	for (unsigned q = 0; q < op->queues; q++) {
		fd_name(op, vhost ? op->queues + q : q, s, sizeof(s));
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s", q ? ":" : "", s);
	}
	return json_object_new_string(buf);
}

static json_object *netdev_args(const struct nic_op *op)
{
	json_object *a = json_object_new_object();
	bool mq = op->queues > 1;
	char s[32];

	json_object_object_add(a, "type", json_object_new_string("tap"));
	snprintf(s, sizeof(s), "net%u", op->slot);
	json_object_object_add(a, "id", json_object_new_string(s));
	json_object_object_add(a, mq ? "fds" : "fd", fd_names(op, false));
	json_object_object_add(a, "vhost", json_object_new_boolean(op->vhost));
	if (op->vhost)
		json_object_object_add(a, mq ? "vhostfds" : "vhostfd", fd_names(op, true));
	return a;
}

static json_object *device_args(const struct nic_op *op)
{
	json_object *a = json_object_new_object();
	char s[32], m[MAC_STRLEN];

	json_object_object_add(a, "driver", json_object_new_string("virtio-net-pci"));
	snprintf(s, sizeof(s), "nic%u", op->slot);
	json_object_object_add(a, "id", json_object_new_string(s));
	snprintf(s, sizeof(s), "net%u", op->slot);
	json_object_object_add(a, "netdev", json_object_new_string(s));
	json_object_object_add(a, "mac", json_object_new_string(mac_format(&op->nic.mac, m, sizeof(m))));
	snprintf(s, sizeof(s), "nic-port%u", op->slot);
	json_object_object_add(a, "bus", json_object_new_string(s));
	if (op->queues > 1) {
		json_object_object_add(a, "mq", json_object_new_boolean(true));
		json_object_object_add(a, "vectors", json_object_new_int((int)(2 * op->queues + 2)));
	}
	return a;
}

/* The whole change has NIC_OP_TIMEOUT_USEC: then the call fails; QEMU's late answer undoes an
 * attach, and completes a detach whose device is gone (the guest stays busy with the change until
 * QEMU answers or exits). */
static int on_op_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct nic_op *op = userdata;

	op->deadline = sd_event_source_disable_unref(op->deadline);
	op->timed_out = true;
	op_reply_error(op, -ETIMEDOUT,
		       "guest '%s': QEMU did not %s the NIC within 30 s (%s when QEMU answers)",
		       op->v->def.name, op->kind == NIC_OP_ATTACH ? "attach" : "detach",
		       op->kind == NIC_OP_ATTACH ? "the change is undone" : "the detach completes");
	log_guest(LOG_WARNING, op->v->def.name, "guest '%s': NIC change: QEMU did not answer within 30 s",
		  op->v->def.name);
	return 0;
}

static int op_arm(struct nic_op *op, struct call *c)
{
	int r = sd_event_add_time_relative(op->v->daemon->event, &op->deadline, CLOCK_MONOTONIC,
					   NIC_OP_TIMEOUT_USEC, 0, on_op_deadline, op);

	return r < 0 ? call_errorf(c, r, "cannot change a NIC of guest '%s': no timer", op->v->def.name) : 0;
}

/* ---- attach ---- */

static void attach_step(struct nic_op *op, enum nic_step step);

static void attach_fail(struct nic_op *op, int error, const char *detail)
{
	struct vm *v = op->v;

	if (v->qmp) {
		if (op->netdev)
			qmp_client_command(v->qmp, "netdev_del", one("id", "net%u", op->slot), NULL, NULL);
		for (size_t k = 0; k < op->n_sent; k++)
			qmp_client_command(v->qmp, "closefd", getfd_args(op, k), NULL, NULL);
	}
	attach_undo_local(op);
	op_reply_error(op, error, "guest '%s': cannot attach a NIC on network '%s': %s", v->def.name,
		       op->nic.network, detail);
	log_obj(LOG_WARNING, LOG_OBJ(.guest = v->def.name, .network = op->nic.network),
		"guest '%s': NIC on network '%s': %s", v->def.name, op->nic.network, detail);
	v->nic_op = NULL;
	op_free(op);
}

static void on_attach_reply(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct nic_op *op = userdata;

	if (!m) {
		attach_fail(op, -EIO, "QEMU's QMP connection closed");
		return;
	}
	if (op->timed_out) {
		attach_fail(op, -ETIMEDOUT, "timed out");
		return;
	}
	if (m->type == QMP_MESSAGE_ERROR && op->step != NSTEP_CLEAR) {
		attach_fail(op, -EIO, m->error_desc ? m->error_desc : "QEMU says: an error");
		return;
	}
	switch (op->step) {
	case NSTEP_CLEAR:
		return attach_step(op, NSTEP_GETFD);
	case NSTEP_GETFD:
		op->n_sent++;
		return attach_step(op, op->n_sent < op->n_fds ? NSTEP_GETFD : NSTEP_NETDEV);
	case NSTEP_NETDEV:
		op->netdev = true;
		return attach_step(op, NSTEP_DEVICE);
	default:
		return attach_step(op, NSTEP_DONE);
	}
}

static void attach_step(struct nic_op *op, enum nic_step step)
{
	struct qmp_client *q = op->v->qmp;
	int r;

	op->step = step;
	switch (step) {
	case NSTEP_CLEAR:
		r = qmp_client_command(q, "netdev_del", one("id", "net%u", op->slot), on_attach_reply, op);
		break;
	case NSTEP_GETFD:
		r = qmp_client_command_fd(q, "getfd", getfd_args(op, op->n_sent), op->fds[op->n_sent],
					  on_attach_reply, op);
		break;
	case NSTEP_NETDEV:
		r = qmp_client_command(q, "netdev_add", netdev_args(op), on_attach_reply, op);
		break;
	case NSTEP_DEVICE:
		r = qmp_client_command(q, "device_add", device_args(op), on_attach_reply, op);
		break;
	default:
		op_done(op);
		return;
	}
	if (r < 0)
		attach_fail(op, r, strerror(-r));
}

/* The TAP, its entries, the bridge port, vhost fds: everything before QEMU. */
static int attach_host(struct nic_op *op, struct call *c)
{
	struct vm *v = op->v;
	struct daemon *d = v->daemon;
	struct net *n = daemon_net_find(d, op->nic.network);
	struct link_dump dump = {};
	struct net_user u = { .nic = op->index, .mac = op->nic.mac };
	void *ctx[2] = { d, &dump };
	char err[512];
	int ifindex, r;

	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, &dump);
	if (r < 0)
		return call_errorf(c, r, "cannot read links: %s", strerror(-r));
	if (!n || (n->def->mode->owns_bridge && !n->active) || !link_dump_find_name(&dump, n->def->bridge)) {
		link_dump_free(&dump);
		return call_errorf(c, -ENETDOWN, "network '%s' is not running (netdctl network start %s)",
				   op->nic.network, op->nic.network);
	}
	r = guest_tap_name(&v->def, op->slot, vm_tap_in_use, ctx, op->tap, sizeof(op->tap));
	link_dump_free(&dump);
	if (r < 0)
		return call_errorf(c, -EADDRINUSE, "no free TAP name for the NIC");
	r = d->tap.ops->tap_open(d->tap.userdata, op->tap, op->queues, op->fds, &ifindex);
	if (r < 0)
		return call_errorf(c, r, "cannot create TAP %s: %s", op->tap, strerror(-r));
	op->n_fds = op->queues;
	r = daemon_port_guard(d, op->tap, err, sizeof(err));
	if (r >= 0) {
		r = daemon_portsec_port_set(d, op->tap, op->nic.network, &op->nic.mac,
					    op->nic.security_off ? PS_LEVEL_OFF : PS_LEVEL_FULL, err,
					    sizeof(err));
		op->portsec = r >= 0;
	}
	if (r >= 0) {
		snprintf(u.guest, sizeof(u.guest), "%s", v->def.name);
		snprintf(u.tap, sizeof(u.tap), "%s", op->tap);
		r = daemon_net_user_add(d, n, &u, err, sizeof(err));
		op->user = r >= 0;
	}
	if (r < 0) {
		attach_undo_local(op);
		return call_errorf(c, r, "cannot attach a NIC to guest '%s': %s", v->def.name, err);
	}
	if (access("/dev/vhost-net", R_OK | W_OK) == 0 &&
	    d->tap.ops->vhost_open(d->tap.userdata, op->queues, op->fds + op->n_fds) >= 0) {
		op->vhost = true;
		op->n_fds += op->queues;
	}
	return 0;
}

static int param_name(struct daemon *d, struct call *c, json_object *params, struct vm **ret)
{
	const char *name;

	if (protocol_param_string(params, "name", &name) < 0)
		return call_errorf(c, -EINVAL, "missing guest name");
	*ret = vm_find(d, name);
	if (!*ret)
		return call_errorf(c, -ENOENT, "no guest named '%s'", name);
	return 0;
}

int method_vm_attach_nic(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_(op_freep) struct nic_op *op = calloc(1, sizeof(*op));
	const char *network, *mac = NULL, *security = NULL;
	struct mac taken[1024];
	size_t n_taken = 0;
	struct guest g;
	struct vm *v;
	int r;

	if (!op)
		return -ENOMEM;
	if ((r = param_name(d, c, params, &v)) < 0)
		return r;
	if (protocol_param_string(params, "network", &network) < 0)
		return call_errorf(c, -EINVAL, "missing network");
	(void)protocol_param_string(params, "mac", &mac);
	(void)protocol_param_string(params, "nic_security", &security);
	if ((r = vm_owner_check(v, c, "attach its NICs")) < 0 || (r = vm_change_busy(v, c, "NICs")) < 0)
		return r;
	if (v->def.n_nics >= GUEST_NICS_MAX)
		return call_errorf(c, -E2BIG, "guest '%s' has %d NICs already (at most %d)", v->def.name,
				   GUEST_NICS_MAX, GUEST_NICS_MAX);
	if (strlen(network) >= sizeof(op->nic.network) || !daemon_network_find(d, network))
		return call_errorf(c, -ENOENT, "network '%s' does not exist (see 'netdctl network list')",
				   network);
	snprintf(op->nic.network, sizeof(op->nic.network), "%s", network);
	if (security && !strcmp(security, "off"))
		op->nic.security_off = true;
	else if (security && strcmp(security, "on"))
		return call_errorf(c, -EINVAL, "invalid --nic-security '%s': expected on or off", security);
	if (mac) {
		const char *why = NULL;
		char m[MAC_STRLEN];

		if (mac_parse(mac, &op->nic.mac) < 0 || !guest_mac_valid(&op->nic.mac, &why))
			return call_errorf(c, -EINVAL, "invalid MAC '%s'%s%s", mac, why ? ": " : "",
					   why ? why : "");
		op->nic.has_mac = true;
		for (size_t i = 0; i < v->def.n_nics; i++)
			if (mac_equal(&v->def.nics[i].mac, &op->nic.mac))
				return call_errorf(c, -EEXIST, "guest '%s' has MAC %s already (NIC %zu)",
						   v->def.name, mac_format(&op->nic.mac, m, sizeof(m)), i);
	}
	g = v->def;
	g.nics[g.n_nics++] = op->nic;
	if ((r = vm_conflicts_check(d, &g, c->err, sizeof(c->err))) < 0 ||
	    guest_validate(&g, c->err, sizeof(c->err)) < 0)
		return r < 0 ? r : -EINVAL;
	if (!mac) { /* generated, kept in the MACs file (as at vm create) */
		for (size_t i = 0; i < d->n_vms; i++)
			for (size_t j = 0; j < d->vms[i]->def.n_nics && n_taken < ELEMENTSOF(taken); j++)
				if (d->vms[i] != v)
					taken[n_taken++] = d->vms[i]->def.nics[j].mac;
		r = store_guest_macs(&d->paths, &g, taken, n_taken);
		if (r < 0)
			return call_errorf(c, r, "cannot store the guest's MACs: %s", strerror(-r));
		op->nic.mac = g.nics[g.n_nics - 1].mac;
	}
	op->v = v;
	op->c = c;
	op->kind = NIC_OP_ATTACH;
	op->index = v->def.n_nics;
	if (!vm_alive(v)) {
		v->nic_op = op;
		op_done(TAKE_PTR(op));
		return 0;
	}
	if (!v->qmp || !qmp_client_ready(v->qmp))
		return call_errorf(c, -EAGAIN, "guest '%s' is %s and its QMP does not answer yet; try again",
				   v->def.name, vm_state_to_string(v->state));
	r = free_slot(v);
	if (r < 0)
		return call_errorf(c, -ENOSPC, "guest '%s' has no free NIC slot", v->def.name);
	op->slot = r;
	op->queues = v->def.queues ? v->def.queues : 1;
	if ((r = op_arm(op, c)) < 0)
		return r;
	r = attach_host(op, c);
	if (r < 0)
		return r;
	v->nic_op = op;
	attach_step(TAKE_PTR(op), NSTEP_CLEAR);
	return 0;
}

/* ---- detach ---- */

static void detach_fail(struct nic_op *op, int error, const char *detail)
{
	struct vm *v = op->v;

	op_reply_error(op, error, "guest '%s': cannot detach NIC %zu: %s", v->def.name, op->index, detail);
	log_guest(LOG_WARNING, v->def.name, "guest '%s': NIC %zu: %s", v->def.name, op->index, detail);
	v->nic_op = NULL;
	op_free(op);
}

static void on_netdev_del(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct nic_op *op = userdata;
	struct daemon *d = op->v->daemon;
	int ifindex;

	if (m && m->type == QMP_MESSAGE_ERROR)
		log_guest(LOG_WARNING, op->v->def.name, "guest '%s': netdev_del net%u: %s", op->v->def.name,
			  op->slot, m->error_desc ? m->error_desc : "an error");
	/* QEMU closed the TAP's fds: the kernel removed it. One still there (an fd QEMU kept) goes now. */
	ifindex = op->tap[0] ? (int)if_nametoindex(op->tap) : 0;
	if (ifindex > 0) {
		log_guest(LOG_INFO, op->v->def.name,
			  "guest '%s': TAP %s still there after netdev_del: deleting it", op->v->def.name,
			  op->tap);
		if (d->link.ops->links_del(d->link.userdata, &ifindex, 1) < 0)
			log_guest(LOG_WARNING, op->v->def.name, "guest '%s': cannot delete TAP %s",
				  op->v->def.name, op->tap);
	}
	op_done(op);
}

static void detach_device_gone(struct nic_op *op)
{
	int r;

	op->timer = sd_event_source_disable_unref(op->timer);
	op->step = NSTEP_NETDEV;
	r = qmp_client_command(op->v->qmp, "netdev_del", one("id", "net%u", op->slot), on_netdev_del, op);
	if (r < 0)
		detach_fail(op, r, strerror(-r));
}

static int on_detach_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct nic_op *op = userdata;

	op->timer = sd_event_source_disable_unref(op->timer);
	detach_fail(
		op, -ETIMEDOUT,
		"the guest did not release the NIC within 15 s (does it handle PCI hot-unplug?); it stays "
		"attached (detach it again, or while the guest is stopped)");
	return 0;
}

static void on_device_del(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct nic_op *op = userdata;

	/* Gone already: the guest let it go after an earlier detach had timed out. */
	if (m && m->type == QMP_MESSAGE_ERROR && m->error_class &&
	    !strcmp(m->error_class, "DeviceNotFound")) {
		detach_device_gone(op);
		return;
	}
	if (!m || m->type == QMP_MESSAGE_ERROR) {
		detach_fail(op, -EIO, m && m->error_desc ? m->error_desc : "QEMU's QMP connection closed");
		return;
	}
	if (op->deleted) {
		detach_device_gone(op);
		return;
	}
	op->step = NSTEP_DEVICE;
	if (sd_event_add_time_relative(op->v->daemon->event, &op->timer, CLOCK_MONOTONIC,
				       NIC_DETACH_TIMEOUT_USEC, 0, on_detach_timeout, op) < 0)
		detach_fail(op, -ENOMEM, "no timer");
}

void vm_nic_on_event(struct vm *v, const struct qmp_message *m)
{
	struct nic_op *op = v->nic_op;
	json_object *dev;
	char id[32];

	if (!op || op->kind != NIC_OP_DETACH || strcmp(m->event, "DEVICE_DELETED") || !m->data ||
	    !json_object_object_get_ex(m->data, "device", &dev) ||
	    !json_object_is_type(dev, json_type_string))
		return; /* (a hostile QEMU's "device": null must not reach strcmp) */
	snprintf(id, sizeof(id), "nic%u", op->slot);
	if (strcmp(json_object_get_string(dev), id))
		return;
	op->deleted = true;
	if (op->timer) /* device_del answered: waiting for this */
		detach_device_gone(op);
}

int method_vm_detach_nic(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_(op_freep) struct nic_op *op = calloc(1, sizeof(*op));
	struct guest g;
	unsigned nic;
	struct vm *v;
	int r;

	if (!op)
		return -ENOMEM;
	if ((r = param_name(d, c, params, &v)) < 0)
		return r;
	r = protocol_param_uint(params, "nic", GUEST_NICS_MAX * 4, &nic);
	if (r == -ENOENT || r == -ENODATA)
		return call_errorf(c, -EINVAL, "missing --nic N (vm show lists the NICs: nic0, nic1, ...)");
	if (r < 0)
		return call_errorf(c, -EINVAL,
				   "--nic must be a NIC number (vm show lists them: nic0, nic1, ...)");
	if ((r = vm_owner_check(v, c, "detach its NICs")) < 0 || (r = vm_change_busy(v, c, "NICs")) < 0)
		return r;
	if (nic >= v->def.n_nics)
		return call_errorf(c, -ERANGE, "guest '%s' has no NIC %u (it has %zu)", v->def.name, nic,
				   v->def.n_nics);
	g = v->def;
	memmove(&g.nics[nic], &g.nics[nic + 1], (g.n_nics - nic - 1) * sizeof(g.nics[0]));
	g.n_nics--;
	if (guest_validate(&g, c->err, sizeof(c->err)) < 0)
		return -EINVAL;
	op->v = v;
	op->c = c;
	op->kind = NIC_OP_DETACH;
	op->index = nic;
	op->nic = v->def.nics[nic];
	if (!vm_alive(v)) {
		v->nic_op = op;
		op_done(TAKE_PTR(op));
		return 0;
	}
	if (!v->qmp || !qmp_client_ready(v->qmp))
		return call_errorf(c, -EAGAIN, "guest '%s' is %s and its QMP does not answer yet; try again",
				   v->def.name, vm_state_to_string(v->state));
	op->slot = v->nics[nic].slot;
	snprintf(op->tap, sizeof(op->tap), "%s", v->nics[nic].tap);
	if ((r = op_arm(op, c)) < 0)
		return r;
	v->nic_op = op;
	r = qmp_client_command(v->qmp, "device_del", one("id", "nic%u", op->slot), on_device_del, op);
	if (r < 0) {
		v->nic_op = NULL;
		return call_errorf(c, r, "cannot detach NIC %u: %s", nic, strerror(-r));
	}
	TAKE_PTR(op);
	return 0;
}

static const struct method nic_table[] = {
	{ "vm.attach-nic", method_vm_attach_nic, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.detach-nic", method_vm_detach_nic, METHOD_CHANGE | METHOD_ASYNC },
};

const struct method_area vm_nic_methods = METHOD_AREA(nic_table);
