/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guests: definitions (vm-store.c), and at run time one QEMU child each (see vm.h).
 *
 * start: TAP per NIC (tap ops; host side MAC fe:..., a port of the network's bridge, up) and
 * vhost-net fds where /dev/vhost-net exists, then QEMU with exactly those fds, then QMP; the call
 * is answered once QMP reports the guest running. Our copies of the fds are closed right after
 * the spawn: the TAPs live as long as QEMU holds them and vanish with it.
 * QEMU runs as its own user (vm-files.c) and opens no path: the guest's files, opened with the
 * rights of the user who asked for the start, its sockets and logs are fds too.
 * <run>/guests/NAME/{pid,taps} let a restarted netd find QEMU again (adoption).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "guest-config.h"
#include "guest-schema.h"
#include "lease.h"
#include "log.h"
#include "macro.h"
#include "process.h"
#include "protocol.h"
#include "disk-pool.h"
#include "vm-clone.h"
#include "vm-cloud-init.h"
#include "vm-files.h"
#include "vm-ipv6.h"
#include "vm-store.h"
#include "vm.h"

#define QMP_CONNECT_USEC (10 * 1000 * 1000)
#define SHUTDOWN_TIMEOUT_SEC_DEFAULT 60
#define LINK_FLAP_USEC (1000 * 1000)

static const char *const vm_state_table[_VM_STATE_MAX] = {
	[VM_STATE_STOPPED] = "stopped",	  [VM_STATE_STARTING] = "starting",
	[VM_STATE_RUNNING] = "running",	  [VM_STATE_PAUSED] = "paused",
	[VM_STATE_SHUTTING_DOWN] = "shutting-down", [VM_STATE_CRASHED] = "crashed",
};

struct vm *vm_find(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_vms; i++)
		if (!strcmp(d->vms[i]->def.name, name))
			return d->vms[i];
	return NULL;
}

bool vm_alive(const struct vm *v)
{
	return v->pid > 0;
}

const char *vm_state_to_string(enum vm_state s)
{
	return s < _VM_STATE_MAX ? vm_state_table[s] : "?";
}

/* SIGKILL through the pidfd netd watches QEMU with: an adopted QEMU is not netd's child, and its
 * pid could be another process's by now. */
static int vm_kill(struct vm *v)
{
	const struct proc_backend *proc = &v->daemon->proc;
	int fd = v->pid_source ? sd_event_source_get_io_fd(v->pid_source) : -1;

	return proc->ops->kill(proc->userdata, v->pid, fd, SIGKILL);
}

static char *run_path(struct vm *v, const char *file)
{
	_cleanup_free_ char *dir = store_guest_run_dir(&v->daemon->paths, v->def.name);

	return dir ? path_join(dir, file) : NULL;
}

static void vm_event(struct vm *v, const char *action)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "guest", json_object_new_string(v->def.name));
	json_object_object_add(e, "action", json_object_new_string(action));
	json_object_object_add(e, "state", json_object_new_string(vm_state_table[v->state]));
	daemon_event(v->daemon, "guest", e);
}

static void pending_reply(struct vm *v, json_object *result)
{
	struct call *c = TAKE_PTR(v->pending);

	vm_live_call_done(v, c);
	vm_snapshot_call_done(v, c);
	if (c)
		call_reply(c, result);
	else
		json_object_put(result);
}

static void pending_fail(struct vm *v, int error, const char *msg)
{
	struct call *c = TAKE_PTR(v->pending);

	vm_live_call_done(v, c);
	vm_snapshot_call_done(v, c);
	if (c)
		call_reply_error(c, error, "%s", msg);
}

static enum ps_level nic_level(const struct guest_nic *n)
{
	return n->security_off ? PS_LEVEL_OFF : PS_LEVEL_FULL;
}

/* The TAPs are gone (with QEMU) or never became ports: their filters go too, before another
 * guest's TAP could get the same name. */
static void ports_forget(struct vm *v)
{
	for (size_t i = 0; i < v->def.n_nics; i++) {
		struct net *n = daemon_net_find(v->daemon, v->def.nics[i].network);

		if (n)
			net_user_remove(n, v->def.name, i);
		if (v->nics[i].tap[0])
			daemon_portsec_port_remove(v->daemon, v->nics[i].tap);
	}
	memset(v->nics, 0, sizeof(v->nics));
}

/* NIC i's TAP registers with its network as a user: the network plugs it into its bridge (now,
 * and again whenever the bridge is made anew) and refuses to stop under it. */
static int nic_register(struct vm *v, size_t i, char *err, size_t errlen)
{
	struct net *n = daemon_net_find(v->daemon, v->def.nics[i].network);
	struct net_user u = { .nic = i, .mac = v->def.nics[i].mac };

	if (!n) {
		snprintf(err, errlen, "network '%s' does not exist", v->def.nics[i].network);
		return -ENOENT;
	}
	snprintf(u.guest, sizeof(u.guest), "%s", v->def.name);
	snprintf(u.tap, sizeof(u.tap), "%s", v->nics[i].tap);
	return daemon_net_user_add(v->daemon, n, &u, err, errlen);
}

/* A definition reloaded while QEMU ran (or was being started) is the one from now on. */
static void apply_next_def(struct vm *v)
{
	if (!v->next_def)
		return;
	v->def = *v->next_def;
	free(TAKE_PTR(v->next_def));
	log_guest(LOG_INFO, v->def.name,
		  "guest '%s': the definition reloaded while it ran applies from now on", v->def.name);
}

/* QEMU is gone: bookkeeping follows (the kernel removed the TAPs with QEMU's fds). */
static void vm_exited(struct vm *v, int code)
{
	bool expected = v->state == VM_STATE_SHUTTING_DOWN || v->state == VM_STATE_STOPPED;
	_cleanup_free_ char *pidf = run_path(v, "pid"), *taps = run_path(v, "taps");

	v->pid_source = sd_event_source_disable_unref(v->pid_source);
	v->timer = sd_event_source_disable_unref(v->timer);
	v->link_timer = sd_event_source_disable_unref(v->link_timer);
	v->links_down = 0;
	qmp_client_free(TAKE_PTR(v->qmp));
	vm_live_exited(v);
	vm_look_gone(v); /* a screenshot under way fails */
	vm_snapshot_exited(v);
	v->pid = 0;
	if (v->kernel_memfd >= 0)
		close(TAKE_FD(v->kernel_memfd));
	v->vnc_password[0] = 0;
	if (pidf)
		unlink(pidf);
	if (taps)
		unlink(taps);
	ports_forget(v);
	if (expected || code == 0) {
		snprintf(v->note, sizeof(v->note), "%s", v->state == VM_STATE_STOPPED ? "destroyed" : "powered off");
		v->state = VM_STATE_STOPPED;
		log_guest(LOG_INFO, v->def.name, "guest '%s': QEMU exited (%d)", v->def.name, code);
	} else {
		v->state = VM_STATE_CRASHED;
		snprintf(v->note, sizeof(v->note), "QEMU exited unexpectedly (%s %d); see %s/guests/%s/qemu.log",
			 code > 128 ? "signal" : "code", code > 128 ? code - 128 : code, v->daemon->paths.run_dir,
			 v->def.name);
		log_guest(LOG_WARNING, v->def.name, "guest '%s': %s", v->def.name, v->note);
	}
	apply_next_def(v);
	vm_event(v, "exited");
	if (v->pending)
		pending_reply(v, vm_json(v));
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct vm *v = userdata;
	int code = process_reap(&v->daemon->proc, v->pid, fd);

	if (code == -EAGAIN)
		return 0;
	vm_disk_op_free(v); /* a disk change under way fails with its QEMU */
	vm_nic_op_free(v);
	vm_exited(v, code == -ECHILD ? 0 : code);
	return 0;
}

static void on_block_checked(struct qmp_client *c, const struct qmp_message *m, void *userdata);

static void on_announce(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;

	if (m && m->type == QMP_MESSAGE_RETURN)
		log_guest(LOG_DEBUG, v->def.name, "guest '%s': announced (QMP announce-self)", v->def.name);
	else
		log_guest(LOG_WARNING, v->def.name,
			  "guest '%s': QEMU did not announce it (announce-self: %s); the other hosts find it "
			  "again when it sends a frame",
			  v->def.name, m && m->error_desc ? m->error_desc : "no answer");
}

/*
 * A guest with a NIC on a network that spans hosts (mode evpn) may have run on another host a
 * moment ago (destroyed there, started here with the same MAC): QEMU's announce-self (what it
 * sends after a migration: RARPs from every NIC's MAC, 5 rounds 50-350 ms apart) brings the
 * switches on the way to this host at once. EVPN itself already has the MAC from the static FDB
 * entry the vxlan feature added on the TAP (user_add). Once, when QEMU first runs.
 */
static void announce(struct vm *v)
{
	bool spans = false;
	json_object *args;

	for (size_t i = 0; i < v->def.n_nics && !spans; i++) {
		const struct net *n = daemon_net_find(v->daemon, v->def.nics[i].network);

		spans = n && n->def->mode->vxlan;
	}
	if (!spans)
		return;
	args = json_object_new_object();
	json_object_object_add(args, "initial", json_object_new_int(50));
	json_object_object_add(args, "max", json_object_new_int(550));
	json_object_object_add(args, "rounds", json_object_new_int(5));
	json_object_object_add(args, "step", json_object_new_int(100));
	qmp_client_command(v->qmp, "announce-self", args, on_announce, v);
}

static void on_qmp_status(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	const char *status;
	bool running;

	if (!m || m->type != QMP_MESSAGE_RETURN || qmp_status_parse(m->data, &status, &running) < 0)
		return;
	/* Still waiting for its first 'cont' (netd died before it checked): check it now, never resume
	 * it unchecked. */
	if (!strcmp(status, "prelaunch")) {
		vm_live_prelaunch(v);
		qmp_client_command(c, "query-block", NULL, on_block_checked, v);
		return;
	}
	if (v->state == VM_STATE_STARTING || v->state == VM_STATE_RUNNING || v->state == VM_STATE_PAUSED) {
		bool starting = v->state == VM_STATE_STARTING;

		v->state = running ? VM_STATE_RUNNING : !strcmp(status, "paused") ? VM_STATE_PAUSED : v->state;
		if (starting && v->state == VM_STATE_RUNNING)
			announce(v);
		if (v->pending && v->state != VM_STATE_STARTING) {
			vm_event(v, "started");
			pending_reply(v, vm_json(v));
		}
	}
}

static void on_qmp_event(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;

	log_guest(LOG_DEBUG, v->def.name, "guest '%s': QMP event %s", v->def.name, m->event);
	vm_disk_on_event(v, m);
	vm_nic_on_event(v, m);
	if (!strcmp(m->event, "STOP") && v->state == VM_STATE_RUNNING)
		v->state = VM_STATE_PAUSED;
	else if (!strcmp(m->event, "RESUME") && v->state == VM_STATE_PAUSED)
		v->state = VM_STATE_RUNNING;
	else if (!strcmp(m->event, "SHUTDOWN") && v->state != VM_STATE_STOPPED)
		v->state = VM_STATE_SHUTTING_DOWN;
	vm_live_event(v, m);
	vm_snapshot_event(v, m);
}

static void on_vnc_password(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;

	if (m && m->type == QMP_MESSAGE_RETURN)
		return;
	log_guest(LOG_WARNING, v->def.name,
		  "guest '%s': cannot set the VNC password (%s); the display refuses every viewer",
		  v->def.name, m && m->error_desc ? m->error_desc : "QMP connection lost");
	v->vnc_password[0] = 0;
}

/* Every display asks for a password (on the loopback too: any local user can connect there); a
 * new one at each start and adoption. */
static void vnc_password_set(struct vm *v)
{
	struct qemu_vnc vnc;
	json_object *args;

	v->vnc_password[0] = 0;
	if (!v->def.vnc[0] || qemu_vnc_parse(v->def.vnc, &vnc) < 0)
		return;
	if (vm_vnc_password(v->vnc_password) < 0) {
		log_guest(LOG_ERR, v->def.name,
			  "guest '%s': cannot make a VNC password; the display refuses every viewer",
			  v->def.name);
		return;
	}
	args = json_object_new_object();
	json_object_object_add(args, "protocol", json_object_new_string("vnc"));
	json_object_object_add(args, "password", json_object_new_string(v->vnc_password));
	if (qmp_client_command(v->qmp, "set_password", args, on_vnc_password, v) < 0)
		v->vnc_password[0] = 0;
}

static void on_cdrom_last(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;

	if (!m || m->type == QMP_MESSAGE_ERROR)
		log_guest(LOG_WARNING, v->def.name,
			  "guest '%s': cannot put the cdrom after the disks in the boot order (its next boot "
			  "starts from the cdrom again): %s",
			  v->def.name, m && m->error_desc ? m->error_desc : "no answer");
	else
		log_guest(LOG_DEBUG, v->def.name, "guest '%s': cdrom after the disks from the next reset on",
			  v->def.name);
}

/*
 * --boot auto with a cdrom and disks: the firmware read its boot order (the cdrom first) when QEMU
 * reset the machine at its start, before QMP answered. From now on the cdrom's bootindex is after
 * the disks'; QEMU makes the firmware's "bootorder" again at each reset, so the guest's first
 * reboot (the end of an install) boots from the disk.
 */
static void cdrom_last(struct vm *v)
{
	json_object *args;

	if (!v->cdrom_once)
		return;
	v->cdrom_once = false;
	args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string("/machine/peripheral/cdrom"));
	json_object_object_add(args, "property", json_object_new_string("bootindex"));
	json_object_object_add(args, "value", json_object_new_int(GUEST_DISKS_MAX + 1));
	qmp_client_command(v->qmp, "qom-set", args, on_cdrom_last, v);
}

/*
 * QMP answers only once QEMU's main loop runs, after machine init read the kernel into QEMU's own
 * memory: our copy can go. (The initrd stays: QEMU maps it, and reads it again at each reset.)
 */
static void kernel_copy_release(struct vm *v)
{
	if (v->kernel_memfd < 0)
		return;
	if (ftruncate(v->kernel_memfd, 0) < 0)
		log_guest(LOG_DEBUG, v->def.name, "guest '%s': cannot empty the kernel's copy: %m",
			  v->def.name);
	close(TAKE_FD(v->kernel_memfd));
}

static void on_cont(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;

	if (!m || m->type == QMP_MESSAGE_ERROR) {
		v->state = VM_STATE_STOPPED;
		vm_kill(v); /* on_pidfd does the rest */
		pending_fail(v, -EIO, m && m->error_desc ? m->error_desc : "QEMU did not start the guest (cont)");
		return;
	}
	vm_live_running(v);
	qmp_client_command(c, "query-status", NULL, on_qmp_status, v);
}

/*
 * A qcow2 disk names its backing and data files in its own header, which QEMU reads again after
 * netd checked it: a user who may write the image could add one in between, and QEMU would open
 * it by path. So a guest whose qcow2 disk another user than root gave starts paused (-S), and runs
 * only once query-block shows that QEMU opened nothing but the fds netd passed.
 */
static void on_block_checked(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	char what[GUEST_PATH_MAX + 64], msg[GUEST_PATH_MAX + 256];
	int r = m && m->type == QMP_MESSAGE_RETURN ? qmp_block_external_files(m->data, what, sizeof(what)) : -EIO;

	if (r == 0) {
		v->paused = false;
		qmp_client_command(c, "cont", NULL, on_cont, v);
		return;
	}
	snprintf(msg, sizeof(msg), "guest '%s': %s%s; refused (a qcow2 image may name other files only when root "
		 "gives it)", v->def.name, r > 0 ? "QEMU opened another file than netd passed: " : "cannot check "
		 "what QEMU opened", r > 0 ? what : "");
	log_guest(LOG_WARNING, v->def.name, "%s", msg);
	v->state = VM_STATE_STOPPED; /* refused, not crashed: on_pidfd finds it expected */
	vm_kill(v);
	pending_fail(v, -EPERM, msg);
}

static void on_qmp_state(struct qmp_client *c, int error, void *userdata)
{
	struct vm *v = userdata;

	if (error == 0) {
		kernel_copy_release(v);
		vnc_password_set(v);
		cdrom_last(v);
		vm_live_qmp_ready(v, v->state == VM_STATE_STARTING);
		vm_snapshot_qmp_ready(v);
		vm_tune_qmp_ready(v); /* pinning, again after an adoption */
		if (v->paused)
			qmp_client_command(c, "query-block", NULL, on_block_checked, v);
		else
			qmp_client_command(c, "query-status", NULL, on_qmp_status, v);
		return;
	}
	if (v->state == VM_STATE_SHUTTING_DOWN || v->state == VM_STATE_STOPPED)
		log_guest(LOG_DEBUG, v->def.name, "guest '%s': QMP connection closed: %s", v->def.name,
			  strerror(-error));
	else
		log_guest(LOG_WARNING, v->def.name, "guest '%s': QMP connection lost: %s", v->def.name,
			  strerror(-error));
	if (v->state == VM_STATE_STARTING && vm_alive(v)) {
		vm_kill(v); /* an unusable QEMU: on_pidfd does the rest */
		pending_fail(v, error, "QEMU started but its QMP socket did not answer; see qemu.log in the run dir");
	}
}

static int watch_qemu(struct vm *v)
{
	struct daemon *d = v->daemon;
	_cleanup_free_ char *qmp = run_path(v, "qmp.sock");
	int fd = process_pidfd(&d->proc, v->pid), r;

	if (fd < 0)
		return fd;
	r = sd_event_add_io(d->event, &v->pid_source, fd, EPOLLIN, on_pidfd, v);
	if (r < 0) {
		close(fd);
		return r;
	}
	sd_event_source_set_io_fd_own(v->pid_source, true);
	vm_look_watch(v); /* the serial log's bound */
	if (!qmp)
		return -ENOMEM;
	return qmp_client_new(d->event, qmp, QMP_CONNECT_USEC, on_qmp_event, on_qmp_state, v, &v->qmp);
}

/* guest_tap_name's in_use: userdata is { struct daemon *, const struct link_dump * }. */
bool vm_tap_in_use(const char *name, void *userdata)
{
	struct daemon *d = ((void **)userdata)[0];
	const struct link_dump *dump = ((void **)userdata)[1];

	if (link_dump_find_name(dump, name))
		return true;
	for (size_t i = 0; i < d->n_vms; i++)
		for (size_t j = 0; j < d->vms[i]->def.n_nics; j++)
			if (!strcmp(d->vms[i]->nics[j].tap, name))
				return true;
	return false;
}

/* The bridge of network name, if the network runs. */
static const struct link_info *network_bridge(struct daemon *d, const char *name, const struct link_dump *dump,
					      char *err, size_t errlen)
{
	const struct net *n = daemon_net_find(d, name);
	const struct link_info *l;

	if (!n) {
		snprintf(err, errlen, "network '%s' does not exist", name);
		return NULL;
	}
	l = link_dump_find_name(dump, n->def->bridge);
	if ((n->def->mode->owns_bridge && !n->active) || !l) {
		snprintf(err, errlen, "network '%s' is not running (netdctl network start %s)", name, name);
		return NULL;
	}
	return l;
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int write_run_files(struct vm *v)
{
	_cleanup_free_ char *pidf = run_path(v, "pid"), *taps = run_path(v, "taps");
	char buf[32], list[GUEST_NICS_MAX * (IFNAMSIZ + 1) + 1] = "";
	int r;

	if (!pidf || !taps)
		return -ENOMEM;
	for (size_t i = 0; i < v->def.n_nics; i++) {
		strcat(list, v->nics[i].tap);
		strcat(list, "\n");
	}
	snprintf(buf, sizeof(buf), "%d\n", (int)v->pid);
	r = write_runtime_file(pidf, buf, strlen(buf), 0644);
	if (r >= 0)
		vm_nic_slots_save(v); /* nic-slots too */
	return r < 0 ? r : write_runtime_file(taps, list, strlen(list), 0644);
}

/* What QEMU gets besides its NICs and the guest's files, made for one launch; closed once QEMU
 * has its copies (the kernel's copy is kept in v->kernel_memfd until QMP answers). */
struct launch_files {
	struct process_cred user;
	char uuid[37];
	int qemu_log, serial_log, qmp, console, kernel_ro, initrd, initrd_ro;
	int disks_ro[GUEST_DISKS_MAX];
	int seed; /* the cloud-init seed, netd's own file */
};

static void launch_files_close(struct launch_files *f)
{
	int *all[] = { &f->qemu_log,  &f->serial_log, &f->qmp,	     &f->console,
		       &f->kernel_ro, &f->initrd,     &f->initrd_ro, &f->seed };

	for (size_t i = 0; i < ELEMENTSOF(all); i++)
		if (*all[i] >= 0)
			close(TAKE_FD(*all[i]));
	for (size_t i = 0; i < GUEST_DISKS_MAX; i++)
		if (f->disks_ro[i] >= 0)
			close(TAKE_FD(f->disks_ro[i]));
}

/* -kernel and -initrd take paths: sealed copies QEMU reads through /proc/self/fd/N. */
static int boot_copies(struct vm *v, struct launch_files *f, char *err, size_t errlen)
{
	int r = 0;

	if (v->files[VM_FILE_KERNEL] >= 0)
		r = guest_file_memfd(v->files[VM_FILE_KERNEL], "netd-kernel", &v->kernel_memfd,
				     &f->kernel_ro);
	if (r < 0) {
		snprintf(err, errlen, "guest '%s': cannot copy kernel %s: %s", v->def.name, v->def.kernel,
			 r == -EFBIG ? "larger than 1 GiB" : strerror(-r));
		return r;
	}
	if (v->files[VM_FILE_INITRD] >= 0)
		r = guest_file_memfd(v->files[VM_FILE_INITRD], "netd-initrd", &f->initrd, &f->initrd_ro);
	if (r < 0)
		snprintf(err, errlen, "guest '%s': cannot copy initrd %s: %s", v->def.name, v->def.initrd,
			 r == -EFBIG ? "larger than 1 GiB" : strerror(-r));
	return r;
}

/* Each read-write disk read-only too, in the same fd set: QEMU reopens an image read-only for some
 * operations, and takes from the set the fd whose access mode it asks for. */
static int disk_read_only(struct vm *v, struct launch_files *f)
{
	char proc[64];

	for (size_t i = 0; i < v->def.n_disks; i++) {
		int fd = v->files[VM_FILE_DISK0 + i];

		if (fd < 0 || v->def.disks[i].readonly)
			continue;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		f->disks_ro[i] = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (f->disks_ro[i] < 0)
			return -errno;
	}
	return 0;
}

static int launch_files_make(struct vm *v, struct launch_files *f, char *err, size_t errlen)
{
	struct daemon *d = v->daemon;
	_cleanup_free_ char *log = run_path(v, "qemu.log"), *serial = run_path(v, "serial.log");
	_cleanup_free_ char *qmp = run_path(v, "qmp.sock"), *console = run_path(v, "console.sock");
	int r;

	if (!log || !serial || !qmp || !console)
		return -ENOMEM;
	r = vm_qemu_cred(d, &f->user, err, errlen);
	if (r >= 0)
		r = vm_run_dir_prepare(d, v->def.name, err, errlen);
	if (r < 0)
		return r;
	r = store_guest_uuid(&d->paths, v->def.name, f->uuid);
	if (r < 0) {
		snprintf(err, errlen, "cannot read or make the guest's UUID: %s", strerror(-r));
		return r;
	}
	r = vm_log_open(log, &f->qemu_log);
	if (r >= 0 && vm_serial_log_rotate(d, v->def.name) < 0)
		log_guest(LOG_WARNING, v->def.name, "guest '%s': cannot rotate its serial log", v->def.name);
	if (r >= 0)
		r = vm_log_open(serial, &f->serial_log);
	if (r >= 0)
		r = vm_socket_listen(qmp, 0600, &f->qmp);
	if (r >= 0)
		r = vm_socket_listen(console, 0660, &f->console); /* operators: 'netdctl vm console' */
	if (r >= 0)
		r = disk_read_only(v, f);
	if (r < 0) {
		snprintf(err, errlen, "cannot prepare the run dir of guest '%s': %s", v->def.name,
			 strerror(-r));
		return r;
	}
	if (v->def.cloud_init) {
		r = vm_cloud_init_seed_open(d, &v->def, &f->seed, err, errlen);
		if (r < 0)
			return r;
	}
	return boot_copies(v, f, err, errlen);
}

/* fd becomes the next inherited fd; its number in QEMU's table, -1 for none. */
static int pass_fd(int *fds, size_t *n, int fd)
{
	if (fd < 0)
		return -1;
	fds[*n] = fd;
	return QEMU_FIRST_FD + (int)(*n)++;
}

static void pass_files(struct vm *v, const struct launch_files *f, int *fds, size_t *n,
		       struct qemu_files *ret)
{
	*ret = QEMU_FILES_NONE;
	ret->qmp = pass_fd(fds, n, f->qmp);
	ret->console = pass_fd(fds, n, f->console);
	ret->serial_log = pass_fd(fds, n, f->serial_log);
	for (size_t i = 0; i < v->def.n_disks; i++) {
		ret->disks[i] = pass_fd(fds, n, v->files[VM_FILE_DISK0 + i]);
		ret->disks_ro[i] = pass_fd(fds, n, f->disks_ro[i]);
		ret->n_layers[i] = v->layers.n[i];
		for (size_t k = 0; k < v->layers.n[i]; k++) {
			ret->layers[i][k] = pass_fd(fds, n, v->layers.fds[i][k]);
			ret->layer_formats[i][k] = v->layers.formats[i][k];
		}
	}
	ret->cdrom = pass_fd(fds, n, v->files[VM_FILE_CDROM]);
	ret->seed = pass_fd(fds, n, f->seed);
	ret->kernel = pass_fd(fds, n, f->kernel_ro);
	ret->initrd = pass_fd(fds, n, f->initrd_ro);
}

/* TAPs, QEMU, QMP. On failure nothing is left: the fds close, the TAPs go, QEMU is killed. */
static int vm_launch(struct vm *v, char *err, size_t errlen)
{
	struct daemon *d = v->daemon;
	struct guest *g = &v->def;
	struct launch_files f = { .qemu_log = -1,
				  .serial_log = -1,
				  .qmp = -1,
				  .console = -1,
				  .disks_ro = { -1, -1, -1, -1, -1, -1, -1, -1 },
				  .kernel_ro = -1,
				  .initrd = -1,
				  .initrd_ro = -1,
				  .seed = -1 };
	struct qemu_launch l = { .guest = g,
				 .binary = d->qemu_binary,
				 .uuid = f.uuid,
				 .caps = d->qemu_caps,
				 .accel = v->accel,
				 .n_nics = g->n_nics,
				 .paused = v->disk_unchecked };
	int fds[GUEST_NICS_MAX * GUEST_QUEUES_MAX * 2 + 9 + 2 * GUEST_DISKS_MAX +
		GUEST_DISKS_MAX * QEMU_LAYERS_MAX];
	size_t n_fds = 0, n_all;
	struct link_dump dump = {};
	struct qemu_boot_order order;
	bool vhost = access("/dev/vhost-net", R_OK | W_OK) == 0;
	char **argv = NULL;
	int r;

	r = launch_files_make(v, &f, err, errlen);
	if (r < 0)
		goto fail;
	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, &dump);
	if (r < 0) {
		snprintf(err, errlen, "cannot read links: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < g->n_nics; i++) {
		const struct link_info *br = network_bridge(d, g->nics[i].network, &dump, err, errlen);
		void *ctx[2] = { d, &dump };
		unsigned q = g->queues ? g->queues : 1;
		int ifindex;

		if (!br) {
			r = -ENETDOWN;
			goto fail;
		}
		r = guest_tap_name(g, i, vm_tap_in_use, ctx, v->nics[i].tap, sizeof(v->nics[i].tap));
		if (r < 0) {
			snprintf(err, errlen, "no free TAP name for NIC %zu", i);
			goto fail;
		}
		r = d->tap.ops->tap_open(d->tap.userdata, v->nics[i].tap, q, fds + n_fds, &ifindex);
		if (r < 0) {
			snprintf(err, errlen, "cannot create TAP %s: %s", v->nics[i].tap, strerror(-r));
			goto fail;
		}
		n_fds += q;
		/* The host takes nothing on the TAP itself (IPv6 off on it), and the port's filter is in
		 * place, before QEMU can send a frame through it. */
		r = daemon_port_guard(d, v->nics[i].tap, err, errlen);
		if (r < 0)
			goto fail;
		r = daemon_portsec_port_set(d, v->nics[i].tap, g->nics[i].network, &g->nics[i].mac, nic_level(&g->nics[i]),
					    err, errlen);
		if (r < 0)
			goto fail;
		r = nic_register(v, i, err, errlen);
		if (r < 0)
			goto fail;
		v->nics[i].vhost = false;
		v->nics[i].slot = i;
		if (vhost && d->tap.ops->vhost_open(d->tap.userdata, q, fds + n_fds) >= 0) {
			v->nics[i].vhost = true;
			n_fds += q;
		}
		snprintf(l.nics[i].tap, sizeof(l.nics[i].tap), "%s", v->nics[i].tap);
		l.nics[i].mac = g->nics[i].mac;
		l.nics[i].queues = q;
		l.nics[i].vhost = v->nics[i].vhost;
	}
	qemu_fds_layout(l.nics, l.n_nics);
	n_all = n_fds;
	pass_files(v, &f, fds, &n_all, &l.files);
	v->paused = l.paused;
	qemu_boot_order(g, l.files.kernel >= 0, &order);
	v->cdrom_once = order.cdrom_once;
	vm_disk_slots_init(v, false);
	r = qemu_argv_render(&l, &argv);
	if (r < 0) {
		snprintf(err, errlen, "cannot render the QEMU command line: %s", strerror(-r));
		goto fail;
	}
	if (log_get_max_level() >= LOG_DEBUG) {
		_cleanup_free_ char *text = qemu_argv_format(argv);
		log_guest(LOG_DEBUG, g->name, "guest '%s': QEMU command line:\n%s", g->name, strna(text));
	}
	r = process_spawn(&d->proc, argv, fds, n_all, f.qemu_log, &f.user, &v->pid);
	strv_free(argv);
	if (r < 0) {
		snprintf(err, errlen, "cannot start %s: %s", d->qemu_binary, strerror(-r));
		goto fail;
	}
	close_fds(fds, n_fds);
	n_fds = 0;
	launch_files_close(&f);
	r = write_run_files(v);
	if (r >= 0)
		r = watch_qemu(v);
	if (r < 0) {
		snprintf(err, errlen, "cannot watch QEMU (pid %d): %s", (int)v->pid, strerror(-r));
		d->proc.ops->kill(d->proc.userdata, v->pid, -1, SIGKILL);
		process_reap(&d->proc, v->pid, -1);
		v->pid = 0;
		goto fail;
	}
	link_dump_free(&dump);
	log_guest(LOG_INFO, g->name, "guest '%s': QEMU pid %d as uid %u, %s", g->name, (int)v->pid,
		  (unsigned)f.user.uid, v->note);
	return 0;
fail:
	close_fds(fds, n_fds);
	launch_files_close(&f);
	if (v->kernel_memfd >= 0)
		close(TAKE_FD(v->kernel_memfd));
	ports_forget(v);
	link_dump_free(&dump);
	return r;
}

static void vm_start_now(struct vm *v)
{
	char err[GUEST_PATH_MAX + 512];
	const char *accel = v->accel == QEMU_ACCEL_KVM ? "KVM" : "TCG";
	bool vhost = access("/dev/vhost-net", R_OK | W_OK) == 0;

	bool fallback = v->def.accel == GUEST_ACCEL_AUTO && v->accel == QEMU_ACCEL_TCG;
	char why[128] = "";
	int r;

	static bool told;

	if (!told && proc_landlock_abi() <= 0)
		log_warning("this kernel has no Landlock: QEMU processes, which share one user, are not kept out of "
			    "each other's /proc (a guest that escapes into its QEMU could reach the other guests' QEMUs)");
	told = true;
	if (fallback)
		snprintf(why, sizeof(why), " (KVM unusable: %.100s)", v->daemon->kvm_note);
	snprintf(v->note, sizeof(v->note), "%s%s; virtio-net %s", accel, why,
		 vhost ? "with vhost-net" : "in userspace (no /dev/vhost-net)");
	v->state = VM_STATE_STARTING;
	r = vm_launch(v, err, sizeof(err));
	vm_files_close(v->files); /* QEMU has its copies */
	vm_layers_close(&v->layers);
	if (r < 0) {
		v->state = VM_STATE_STOPPED;
		pending_fail(v, -EIO, err);
		return;
	}
}

void vm_kvm_probe_done(struct daemon *d)
{
	for (size_t i = 0; i < d->n_vms; i++) {
		struct vm *v = d->vms[i];

		if (!v->waiting_probe)
			continue;
		v->waiting_probe = false;
		v->accel = d->kvm_probe == KVM_PROBE_OK ? QEMU_ACCEL_KVM : QEMU_ACCEL_TCG;
		if (v->accel == QEMU_ACCEL_TCG)
			log_guest(
				LOG_WARNING, v->def.name,
				"guest '%s': KVM is not usable (%s); running with TCG, which is much slower",
				v->def.name, d->kvm_note);
		vm_start_now(v);
	}
}

static int check_qemu(struct daemon *d, struct call *c)
{
	if (access(d->qemu_binary, X_OK) < 0)
		return call_errorf(c, -ENOENT, "QEMU binary %s not found: install qemu-system-x86 or start netd with "
				   "--qemu PATH", d->qemu_binary);
	return 0;
}

/* QEMU, its user, the networks. */
static int check_guest_conflicts(struct daemon *d, const struct guest *g, char *err, size_t errlen);

static int start_check(struct daemon *d, struct call *c, struct vm *v, struct process_cred *ret_qemu)
{
	char err[512];
	int r = check_qemu(d, c);

	if (r < 0)
		return r;
	if (vm_clone_copying(v->def.name))
		return call_errorf(
			c, -EBUSY,
			"cannot start guest '%s': vm clone is copying its disks (the copy would be "
			"torn): wait for it, or interrupt it",
			v->def.name);
	r = vm_qemu_cred(d, ret_qemu, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot start guest '%s': %s", v->def.name, err);
	for (size_t i = 0; i < v->def.n_disks; i++) {
		char overlay[NAME_MAX + 1];

		if (!v->def.disks[i].readonly &&
		    disk_pool_is_base(d, v->def.disks[i].path, overlay, sizeof(overlay)))
			return call_errorf(
				c, -EBUSY,
				"cannot start guest '%s': its disk %s is the base of overlay '%s' (a clone's, "
				"or 'disk create --backing'): writing it would change what the overlay reads; "
				"give the guest the disk readonly, or convert or delete '%s'",
				v->def.name, v->def.disks[i].path, overlay, overlay);
	}
	for (size_t i = 0; i < v->def.n_nics; i++) {
		struct link_dump dump = {};

		r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, &dump);
		if (r >= 0 && !network_bridge(d, v->def.nics[i].network, &dump, err, sizeof(err)))
			r = -ENETDOWN;
		link_dump_free(&dump);
		if (r < 0)
			return call_errorf(c, r, "cannot start guest '%s': %s", v->def.name, err);
	}
	if (v->def.accel == GUEST_ACCEL_KVM && !vm_qemu_may_use_kvm(ret_qemu, d->qemu_user, err, sizeof(err)))
		return call_errorf(c, -ENODEV, "guest '%s' asks for --accel kvm but %s", v->def.name, err);
	r = vm_tune_check(d, &v->def, true, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot start guest '%s': %s", v->def.name, err);
	/* A hand-written definition may pin a MAC another guest uses on the same network. */
	r = check_guest_conflicts(d, &v->def, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot start guest '%s': %s", v->def.name, err);
	return 0;
}

/*
 * Start v and answer c when QMP says it runs (or when it failed). The guest's files are opened
 * now, with the rights of c's peer (at boot: of the guest's owner), whoever wrote the definition.
 */
static int vm_start(struct daemon *d, struct call *c, struct vm *v)
{
	struct process_cred qemu, who;
	int r;

	if (vm_alive(v) || v->state == VM_STATE_STARTING)
		return call_errorf(c, -EBUSY, "guest '%s' is already %s", v->def.name,
				   vm_state_table[v->state]);
	apply_next_def(v); /* reloaded during a start that did not happen (the KVM probe failed) */
	r = start_check(d, c, v, &qemu);
	if (r < 0)
		return r;
	vm_cred_from_peer(&c->peer, &who);
	vm_files_close(v->files);
	vm_layers_close(&v->layers);
	r = vm_files_open(d, &v->def, &who, v->files, &v->layers, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	/* Root may give qcow2 images that name other files; anyone else's is checked again once QEMU
	 * opened it (on_block_checked). */
	v->disk_unchecked = false;
	for (size_t i = 0; i < v->def.n_disks; i++)
		v->disk_unchecked |= who.uid != 0 && v->def.disks[i].format == DISK_FORMAT_QCOW2;
	v->pending = c;
	switch (v->def.accel) {
	case GUEST_ACCEL_TCG:
		v->accel = QEMU_ACCEL_TCG;
		break;
	case GUEST_ACCEL_KVM:
		v->accel = QEMU_ACCEL_KVM;
		break;
	default:
		if (d->kvm_probe == KVM_PROBE_UNKNOWN || d->kvm_probe == KVM_PROBE_RUNNING) {
			v->waiting_probe = true;
			v->state = VM_STATE_STARTING;
			call_progress(c, "checking whether KVM runs guests here (at most 2 s)");
			r = vm_kvm_probe_start(d);
			if (r < 0) {
				v->waiting_probe = false;
				v->state = VM_STATE_STOPPED;
				v->pending = NULL;
				vm_files_close(v->files);
				vm_layers_close(&v->layers);
				return call_errorf(c, r, "cannot probe KVM: %s", strerror(-r));
			}
			return 0;
		}
		v->accel = d->kvm_probe == KVM_PROBE_OK ? QEMU_ACCEL_KVM : QEMU_ACCEL_TCG;
	}
	vm_start_now(v);
	return 0;
}

/* Where the display listens and how to reach it: through an ssh tunnel when it is local. */
static json_object *vnc_json(struct vm *v)
{
	json_object *o;
	struct qemu_vnc vnc;
	char addr[96], how[320], host[128] = "HOST";

	if (!v->def.vnc[0] || qemu_vnc_parse(v->def.vnc, &vnc) < 0)
		return NULL;
	o = json_object_new_object();
	snprintf(addr, sizeof(addr), "%s:%u", vnc.host, vnc.port);
	if (vnc.local) {
		if (gethostname(host, sizeof(host)) < 0 || !host[0])
			snprintf(host, sizeof(host), "HOST");
		snprintf(how, sizeof(how),
			 "local only: ssh -L %u:%s:%u %s, then a VNC viewer on localhost:%u with the "
			 "password (a new one at each start)", vnc.port, vnc.host, vnc.port, host, vnc.port);
	} else if (!strcmp(vnc.host, "0.0.0.0") || !strcmp(vnc.host, "[::]")) {
		snprintf(how, sizeof(how),
			 "a VNC viewer on any address of this host, port %u, with the password (a new one at "
			 "each start)",
			 vnc.port);
	} else {
		snprintf(how, sizeof(how), "a VNC viewer on %s with the password (a new one at each start)",
			 addr);
	}
	json_object_object_add(o, "address", json_object_new_string(addr));
	json_object_object_add(o, "local", json_object_new_boolean(vnc.local));
	json_object_object_add(o, "password",
			       vm_alive(v) && v->vnc_password[0] ? json_object_new_string(v->vnc_password) :
								   NULL);
	json_object_object_add(o, "connect", json_object_new_string(how));
	return o;
}

/* Each disk as QEMU gets it: its node (-blockdev node-name, also the device's drive). */
static json_object *disks_json(const struct vm *v)
{
	const struct guest *g = &v->def;
	json_object *a = json_object_new_array();
	char node[16];

	for (size_t i = 0; i < g->n_disks; i++) {
		const struct guest_disk *disk = &g->disks[i];
		json_object *j = json_object_new_object();

		snprintf(node, sizeof(node), "disk%u", vm_alive(v) ? v->disk_slot[i] : (unsigned)i);
		json_object_object_add(j, "node", json_object_new_string(node));
		json_object_object_add(j, "path", json_object_new_string(disk->path));
		json_object_object_add(j, "format",
				       json_object_new_string(disk_format_to_string(disk->format)));
		json_object_object_add(j, "bus", json_object_new_string(disk_bus_to_string(disk->bus)));
		json_object_object_add(j, "cache", json_object_new_string(disk_cache_to_string(disk->cache)));
		json_object_object_add(j, "readonly", json_object_new_boolean(disk->readonly));
		json_object_array_add(a, j);
	}
	return a;
}

json_object *vm_json(struct vm *v)
{
	struct daemon *d = v->daemon;
	json_object *o = json_object_new_object(), *nics = json_object_new_array();
	_cleanup_free_ char *dir = store_guest_run_dir(&d->paths, v->def.name);
	char m[MAC_STRLEN], ip[INET_ADDRSTRLEN];

	json_object_object_add(o, "name", json_object_new_string(v->def.name));
	json_object_object_add(o, "state", json_object_new_string(vm_state_table[v->state]));
	json_object_object_add(o, "pid", v->pid ? json_object_new_int(v->pid) : NULL);
	json_object_object_add(o, "note", v->note[0] ? json_object_new_string(v->note) : NULL);
	json_object_object_add(o, "memory_mib", json_object_new_int64(v->def.memory_mib));
	schema_json_show(&guest_schema, &v->def, o); /* vcpus, accel, autostart */
	vm_live_json(v, o);
	if (vm_alive(v))
		json_object_object_add(o, "running_with", json_object_new_string(qemu_accel_to_string(v->accel)));
	for (size_t i = 0; i < v->def.n_nics; i++) {
		const struct guest_nic *n = &v->def.nics[i];
		json_object *j = json_object_new_object();
		struct dhcp_server *srv = daemon_dhcp_find(d, n->network);
		const struct dhcp_lease *lease = NULL;

		for (size_t k = 0; srv && k < srv->leases.n && !lease; k++)
			if (srv->leases.leases[k].family == AF_INET &&
			    mac_equal(&srv->leases.leases[k].mac, &n->mac))
				lease = &srv->leases.leases[k];
		json_object_object_add(j, "network", json_object_new_string(n->network));
		json_object_object_add(j, "mac", json_object_new_string(mac_format(&n->mac, m, sizeof(m))));
		json_object_object_add(j, "tap", v->nics[i].tap[0] ? json_object_new_string(v->nics[i].tap) : NULL);
		json_object_object_add(j, "vhost", vm_alive(v) ? json_object_new_boolean(v->nics[i].vhost) : NULL);
		/* What the port is filtered at now (running), or will be (stopped). */
		json_object_object_add(j, "security",
				       json_object_new_string(ps_level_to_string(
					       vm_alive(v) ? daemon_portsec_level(d, v->nics[i].tap)
							   : n->security_off ? PS_LEVEL_OFF : PS_LEVEL_FULL)));
		if (!vm_alive(v))
			lease = NULL; /* the lease may still run, but nobody answers at it */
		json_object_object_add(j, "ip", lease ? json_object_new_string(ip_addr_format(AF_INET, &lease->ip, ip,
											     sizeof(ip)))
						      : NULL);
		json_object_array_add(nics, j);
	}
	json_object_object_add(o, "nics", nics);
	json_object_object_add(o, "disks", disks_json(v));
	json_object_object_add(o, "cdrom", v->def.cdrom[0] ? json_object_new_string(v->def.cdrom) : NULL);
	json_object_object_add(o, "boot", json_object_new_string(guest_boot_to_string(v->def.boot)));
	json_object_object_add(o, "vnc", vnc_json(v));
	json_object_object_add(o, "tuning", vm_tune_json(v));
	json_object_object_add(o, "cloud_init", vm_cloud_init_json(d, &v->def));
	if (dir) {
		_cleanup_free_ char *console = path_join(dir, "console.sock"), *serial = path_join(dir, "serial.log");
		json_object_object_add(o, "console", console ? json_object_new_string(console) : NULL);
		json_object_object_add(o, "serial_log", serial ? json_object_new_string(serial) : NULL);
	}
	return o;
}

/* ---- methods ---- */

static int lookup(struct daemon *d, struct call *c, json_object *params, struct vm **ret)
{
	const char *name;

	if (protocol_param_string(params, "name", &name) < 0)
		return call_errorf(c, -EINVAL, "missing guest name");
	*ret = vm_find(d, name);
	if (!*ret)
		return call_errorf(c, -ENOENT, "no guest named '%s'", name);
	return 0;
}

static bool network_exists(const char *name, void *userdata)
{
	return daemon_network_find(userdata, name) != NULL;
}

/* Every MAC of the other guests, for generating new ones. */
size_t vm_taken_macs(struct daemon *d, const char *except, struct mac *ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_vms; i++)
		for (size_t j = 0; j < d->vms[i]->def.n_nics && n < max; j++)
			if (strcmp(d->vms[i]->def.name, except))
				ret[n++] = d->vms[i]->def.nics[j].mac;
	return n;
}

/* An optional number in [min, max]: 1 when given, 0 when not, negative (message set) when bad. */
static int opt_uint(struct call *c, json_object *params, const char *key, const char *what, unsigned min,
		    unsigned max, unsigned *ret)
{
	int r = protocol_param_uint(params, key, 1u << 30, ret);

	if (r == -ENOENT || r == -ENODATA)
		return 0;
	if (r >= 0 && *ret >= min && *ret <= max)
		return 1;
	if (r == -EINVAL)
		return call_errorf(c, -EINVAL, "%s must be a number", what);
	return call_errorf(c, -ERANGE, "%s is out of range (%u-%u)", what, min, max);
}

/* The guest's schema (vmm/guest-schema.c): the same messages as a definition file's. */
static int guest_from_params(struct call *c, json_object *params, struct guest *g)
{
	const char *name;

	if (protocol_param_string(params, "name", &name) < 0)
		return call_errorf(c, -EINVAL, "missing guest name");
	if (strlen(name) > NAME_MAX_LEN)
		return call_errorf(c, -EINVAL, "invalid guest name '%s': is longer than %d characters", name, NAME_MAX_LEN);
	guest_init(g, name);
	/* vm.create's own: the name, and the cloud-init seed (vm-cloud-init.c) */
	return schema_json_parse_strict(&guest_schema, g, params,
					(const char *const[]){ "name", "cloud_init_files", "ssh_key",
							       "hostname", NULL },
					c->err, sizeof(c->err));
}

static int vm_add(struct daemon *d, struct vm *v)
{
	struct vm **l = reallocarray(d->vms, d->n_vms + 1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	d->vms = l;
	d->vms[d->n_vms++] = v;
	return 0;
}

static struct vm *vm_new(struct daemon *d)
{
	struct vm *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->daemon = d;
	v->kernel_memfd = -1;
	for (int k = 0; k < VM_FILES_MAX; k++)
		v->files[k] = -1;
	return v;
}

static void vm_free(struct vm *v)
{
	if (!v)
		return;
	vm_disk_op_free(v);
	vm_nic_op_free(v);
	vm_files_close(v->files);
	vm_layers_close(&v->layers);
	if (v->kernel_memfd >= 0)
		close(v->kernel_memfd);
	sd_event_source_disable_unref(v->pid_source);
	sd_event_source_disable_unref(v->timer);
	sd_event_source_disable_unref(v->link_timer);
	qmp_client_free(v->qmp);
	vm_live_reset(v);
	vm_snapshot_reset(v);
	if (v->pending)
		call_reply_error(v->pending, -ECANCELED, "netd is stopping");
	free(v->next_def);
	free(v);
}

static void vm_remove(struct daemon *d, struct vm *v)
{
	for (size_t i = 0; i < d->n_vms; i++)
		if (d->vms[i] == v) {
			memmove(d->vms + i, d->vms + i + 1, (d->n_vms - i - 1) * sizeof(*d->vms));
			d->n_vms--;
			break;
		}
	vm_free(v);
}

/* The creator may use every file the guest names (checked again at each start) and QEMU's user exists. */
static int create_check_files(struct daemon *d, struct call *c, struct vm *v, struct process_cred *ret_who)
{
	struct process_cred qemu;
	int fds[VM_FILES_MAX], r;
	char err[512];

	vm_cred_from_peer(&c->peer, ret_who);
	r = vm_files_open(d, &v->def, ret_who, fds, NULL, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	vm_files_close(fds);
	r = vm_qemu_cred(d, &qemu, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot create guest '%s': %s", v->def.name, err);
	return 0;
}

/* g against the networks and every other guest (a MAC twice on one network: two guests' ports
 * would be allowed the same lease). */
static int check_guest_conflicts(struct daemon *d, const struct guest *g, char *err, size_t errlen)
{
	_cleanup_free_ const struct guest **others = calloc(d->n_vms + 1, sizeof(*others));
	struct guest_context ctx = { .network_exists = network_exists, .userdata = d, .others = others };

	if (!others)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_vms; i++)
		others[ctx.n_others++] = &d->vms[i]->def;
	return guest_check_conflicts(g, &ctx, err, errlen);
}

/* --disk NAME: the pool's file; --disk-size: a new first disk, a qcow2 of the pool named after the
 * guest (ret_new; made once the definition is known good). */
static int create_disks_resolve(struct daemon *d, struct call *c, struct guest *g, char *ret_new, size_t size)
{
	_cleanup_free_ char *path = NULL;
	struct guest_disk *nd;
	int r;

	for (size_t i = 0; i < g->n_disks; i++)
		if (g->disks[i].path[0] && !strchr(g->disks[i].path, '/')) {
			r = disk_pool_resolve(d, c, &g->disks[i]);
			if (r < 0)
				return r;
		}
	if (!g->disk_size_new)
		return 0;
	if (g->n_disks >= GUEST_DISKS_MAX)
		return call_errorf(c, -E2BIG,
				   "--disk-size adds a disk, and guest '%s' has %d already (at most %d)",
				   g->name, GUEST_DISKS_MAX, GUEST_DISKS_MAX);
	/* The new disk is the first: the one the guest boots from (after an install from the cdrom). */
	snprintf(ret_new, size, "%s-disk0.qcow2", g->name);
	path = path_join(d->image_dirs[0], ret_new);
	if (!path || strlen(path) >= GUEST_PATH_MAX)
		return call_errorf(c, -ENAMETOOLONG, "the path of the new disk '%s' is too long", ret_new);
	memmove(&g->disks[1], &g->disks[0], g->n_disks * sizeof(g->disks[0]));
	g->n_disks++;
	nd = &g->disks[0];
	guest_disk_init(nd);
	nd->format = DISK_FORMAT_QCOW2;
	nd->format_given = true;
	snprintf(nd->path, sizeof(nd->path), "%s", path);
	return 0;
}

/* A disk another guest's definition names (the same file): two guests writing one image corrupt it;
 * both readonly may share it. */
static int disks_shared(struct daemon *d, struct call *c, const struct guest *g, bool others_only)
{
	for (size_t i = 0; i < g->n_disks; i++) {
		const struct guest_disk *disk = &g->disks[i];
		struct stat st, ost;

		if (stat(disk->path, &st) < 0)
			continue; /* opening it says why */
		for (size_t k = 0; k < d->n_vms; k++) {
			const struct guest *o = &d->vms[k]->def;

			if (others_only && !strcmp(o->name, g->name))
				continue;
			for (size_t j = 0; j < o->n_disks; j++)
				if ((!disk->readonly || !o->disks[j].readonly) &&
				    stat(o->disks[j].path, &ost) >= 0 && ost.st_dev == st.st_dev &&
				    ost.st_ino == st.st_ino)
					return call_errorf(
						c, -EBUSY,
						"disk %s is already disk %zu of guest '%s' (only one guest may "
						"write a disk; two may share it when both have it readonly)",
						disk->path, j, o->name);
		}
	}
	return 0;
}

int vm_check_disks_shared(struct daemon *d, struct call *c, const struct guest *g)
{
	return disks_shared(d, c, g, false);
}

int vm_check_disks_shared_others(struct daemon *d, struct call *c, const struct guest *g)
{
	return disks_shared(d, c, g, true);
}

static int vm_create_checked(struct daemon *d, struct call *c, struct vm *v, const char *new_disk,
			     const struct vm_cloud_init *ci, bool *ret_made)
{
	struct mac taken[1024];
	struct process_cred who;
	int r;

	if (new_disk[0]) {
		struct guest_disk *nd = &v->def.disks[0];

		r = disk_pool_create(d, c, new_disk, DISK_FORMAT_QCOW2, v->def.disk_size_new, nd->path,
				     sizeof(nd->path));
		if (r < 0)
			return r;
		*ret_made = true;
		v->def.disk_size_new = 0;
	}
	r = create_check_files(d, c, v, &who);
	if (r >= 0) /* after the files: the requester may open each of them */
		r = vm_check_disks_shared(d, c, &v->def);
	if (r < 0)
		return r;
	r = store_guest_macs(&d->paths, &v->def, taken,
			     vm_taken_macs(d, v->def.name, taken, ELEMENTSOF(taken)));
	if (r < 0)
		return call_errorf(c, r, "cannot store the guest's MACs: %s", strerror(-r));
	v->def.has_owner = true; /* the definition says who may autostart it with which rights */
	v->def.owner = c->peer.uid;
	r = store_guest_save(&d->paths, &v->def);
	if (r < 0) {
		store_guest_remove(&d->paths, v->def.name);
		return call_errorf(c, r, "cannot write the guest definition: %s", strerror(-r));
	}
	if (ci) {
		r = vm_cloud_init_save(d, v->def.name, ci, c->peer.uid, c->err, sizeof(c->err));
		if (r < 0) {
			store_guest_remove(&d->paths, v->def.name);
			return r;
		}
	}
	r = vm_add(d, v);
	if (r < 0)
		store_guest_remove(&d->paths, v->def.name);
	return r;
}

static int method_vm_create(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_free_ struct vm *v = vm_new(d);
	_cleanup_(vm_cloud_init_freep) struct vm_cloud_init *ci = NULL;
	char new_disk[NAME_MAX + 1] = "";
	bool made = false;
	int r;

	if (!v)
		return -ENOMEM;
	r = guest_from_params(c, params, &v->def);
	if (r >= 0)
		r = vm_cloud_init_from_params(c, params, &v->def, &ci);
	if (r < 0)
		return r;
	if (vm_find(d, v->def.name))
		return call_errorf(c, -EEXIST, "guest '%s' already exists", v->def.name);
	r = create_disks_resolve(d, c, &v->def, new_disk, sizeof(new_disk));
	if (r < 0)
		return r;
	if (guest_validate(&v->def, c->err, sizeof(c->err)) < 0)
		return -EINVAL;
	r = vm_tune_check(d, &v->def, false, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	r = check_guest_conflicts(d, &v->def, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	r = check_qemu(d, c);
	if (r < 0)
		return r;
	r = vm_create_checked(d, c, v, new_disk, ci, &made);
	if (r < 0) {
		if (made)
			disk_pool_remove(d, new_disk); /* nothing half-made stays */
		return r;
	}
	struct vm *vm = TAKE_PTR(v); /* d->vms owns it now */

	log_guest(LOG_INFO, vm->def.name, "guest '%s' created", vm->def.name);
	vm_event(vm, "created");
	if (!vm->def.autostart) {
		call_reply(c, vm_json(vm));
		return 0;
	}
	r = vm_start(d, c, vm);
	if (r < 0) {
		/* Nothing was started: the definition goes too, as if create had never been asked. */
		store_guest_remove(&d->paths, vm->def.name);
		vm_remove(d, vm);
		if (made)
			disk_pool_remove(d, new_disk);
	}
	return r;
}

static int method_vm_start(struct daemon *d, struct call *c, json_object *params)
{
	struct vm *v;
	int r = lookup(d, c, params, &v);

	return r < 0 ? r : vm_start(d, c, v);
}

static int on_shutdown_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct vm *v = userdata;

	v->timer = sd_event_source_disable_unref(v->timer);
	if (v->state == VM_STATE_SHUTTING_DOWN)
		v->state = VM_STATE_RUNNING;
	pending_fail(v, -ETIMEDOUT, "the guest did not power off in time (does it handle the ACPI power button?); "
				    "'netdctl vm destroy' kills it");
	return 0;
}

static int need_qmp(struct call *c, struct vm *v)
{
	if (!vm_alive(v))
		return call_errorf(c, -ENOTCONN, "guest '%s' is not running", v->def.name);
	if (!v->qmp || !qmp_client_ready(v->qmp))
		return call_errorf(c, -ENOTCONN, "guest '%s': no QMP connection to QEMU yet", v->def.name);
	if (v->pending)
		return call_errorf(c, -EBUSY, "guest '%s' is busy with another request", v->def.name);
	return 0;
}

static int method_vm_shutdown(struct daemon *d, struct call *c, json_object *params)
{
	struct vm *v;
	unsigned timeout = SHUTDOWN_TIMEOUT_SEC_DEFAULT;
	int r = lookup(d, c, params, &v);

	if (r >= 0)
		r = opt_uint(c, params, "timeout", "timeout", 1, 3600, &timeout);
	if (r >= 0)
		r = need_qmp(c, v);
	if (r < 0)
		return r;
	r = qmp_client_command(v->qmp, "system_powerdown", NULL, NULL, NULL);
	if (r < 0)
		return call_errorf(c, r, "cannot send system_powerdown: %s", strerror(-r));
	v->state = VM_STATE_SHUTTING_DOWN;
	v->pending = c;
	sd_event_add_time_relative(d->event, &v->timer, CLOCK_MONOTONIC, timeout * 1000000ull, 0, on_shutdown_timeout, v);
	call_progress(c, "ACPI power button pressed; waiting up to %u s for the guest to power off", timeout);
	return 0;
}

/*
 * The guest's TAPs go in one transaction before QEMU is killed; left to QEMU's exit, the kernel
 * would pay an RCU grace period for each fd it closes.
 */
static void delete_taps(struct daemon *d, struct vm *v)
{
	int ifindexes[GUEST_NICS_MAX];
	size_t n = 0;

	for (size_t i = 0; i < v->def.n_nics; i++) {
		int ifindex = v->nics[i].tap[0] ? (int)if_nametoindex(v->nics[i].tap) : 0;

		if (ifindex > 0)
			ifindexes[n++] = ifindex;
	}
	/* (TAPs that cannot be deleted go with QEMU's fds) */
	if (n > 0 && d->link.ops->links_del(d->link.userdata, ifindexes, n) < 0)
		log_guest(LOG_DEBUG, v->def.name, "guest %s: TAPs left to QEMU's exit", v->def.name);
}

static int method_vm_destroy(struct daemon *d, struct call *c, json_object *params)
{
	struct vm *v;
	int r = lookup(d, c, params, &v);

	if (r < 0)
		return r;
	if (!vm_alive(v))
		return call_errorf(c, -ENOTCONN, "guest '%s' is not running", v->def.name);
	if (v->pending)
		pending_fail(v, -ECANCELED, "the guest was destroyed");
	v->timer = sd_event_source_disable_unref(v->timer);
	v->state = VM_STATE_STOPPED;
	delete_taps(d, v);
	r = vm_kill(v);
	if (r < 0 && r != -ESRCH)
		return call_errorf(c, r, "cannot kill QEMU (pid %d): %s", (int)v->pid, strerror(-r));
	v->pending = c; /* answered when the pidfd says QEMU is gone */
	return 0;
}

static void on_simple_reply(struct qmp_client *q, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;

	if (!m)
		pending_fail(v, -ECONNRESET, "QMP connection lost");
	else if (m->type == QMP_MESSAGE_ERROR)
		pending_fail(v, -EIO, m->error_desc ? m->error_desc : "QMP error");
	else {
		qmp_client_command(v->qmp, "query-status", NULL, on_qmp_status, v);
		pending_reply(v, vm_json(v));
	}
}

static int simple_command(struct daemon *d, struct call *c, json_object *params, const char *cmd, const char *what)
{
	struct vm *v;
	int r = lookup(d, c, params, &v);

	if (r >= 0)
		r = need_qmp(c, v);
	if (r < 0)
		return r;
	r = qmp_client_command(v->qmp, cmd, NULL, on_simple_reply, v);
	if (r < 0)
		return call_errorf(c, r, "cannot send %s: %s", cmd, strerror(-r));
	v->pending = c;
	log_guest(LOG_INFO, v->def.name, "guest '%s': %s", v->def.name, what);
	return 0;
}

static int method_vm_reboot(struct daemon *d, struct call *c, json_object *params)
{
	return simple_command(d, c, params, "system_reset", "reset");
}

static int method_vm_suspend(struct daemon *d, struct call *c, json_object *params)
{
	return simple_command(d, c, params, "stop", "paused");
}

static int method_vm_resume(struct daemon *d, struct call *c, json_object *params)
{
	return simple_command(d, c, params, "cont", "resumed");
}

static int method_vm_delete(struct daemon *d, struct call *c, json_object *params)
{
	struct vm *v;
	json_object *o;
	int r = lookup(d, c, params, &v);

	if (r < 0)
		return r;
	if (vm_alive(v))
		return call_errorf(c, -EBUSY, "guest '%s' is %s: shut it down or destroy it first", v->def.name,
				   vm_state_table[v->state]);
	if (vm_clone_copying(v->def.name))
		return call_errorf(
			c, -EBUSY,
			"guest '%s' is being cloned (vm clone --copy copies its disks): wait for the "
			"clone to end, or stop it",
			v->def.name);
	r = store_guest_remove(&d->paths, v->def.name);
	if (r < 0)
		return call_errorf(c, r, "cannot remove the guest's files: %s", strerror(-r));
	log_guest(LOG_INFO, v->def.name, "guest '%s' deleted", v->def.name);
	vm_event(v, "deleted");
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(v->def.name));
	vm_remove(d, v);
	call_reply(c, o);
	return 0;
}

static int method_vm_list(struct daemon *d, struct call *c, json_object *params)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < d->n_vms; i++)
		json_object_array_add(a, vm_json(d->vms[i]));
	call_reply(c, a);
	return 0;
}

static int method_vm_show(struct daemon *d, struct call *c, json_object *params)
{
	struct vm *v;
	json_object *o;
	int r = lookup(d, c, params, &v);

	if (r < 0)
		return r;
	o = vm_json(v);
	/* Its IPv6 addresses cost a neighbour dump of each NIC's bridge: here, not in vm list. */
	r = vm_ipv6_show(d, &v->def, vm_alive(v), json_object_object_get(o, "nics"));
	if (r < 0)
		log_guest(
			LOG_WARNING, v->def.name,
			"guest '%s': cannot read its networks' neighbour tables for its IPv6 addresses: %s; "
			"vm show lists its DHCPv6 leases alone",
			v->def.name, strerror(-r));
	call_reply(c, o);
	return 0;
}

/* slot: QEMU's device nic<slot> (the NIC's index at start; attach-nic / detach-nic move them apart) */
static void nic_link_set(struct vm *v, unsigned slot, bool up)
{
	json_object *args = json_object_new_object();
	char id[16];

	snprintf(id, sizeof(id), "nic%u", slot);
	json_object_object_add(args, "name", json_object_new_string(id));
	json_object_object_add(args, "up", json_object_new_boolean(up));
	if (v->qmp)
		qmp_client_command(v->qmp, "set_link", args, NULL, NULL);
	else
		json_object_put(args);
}

/* Every NIC that set-network took down comes back: two moves within a flap are two NICs. */
static int on_link_back(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct vm *v = userdata;

	v->link_timer = sd_event_source_disable_unref(v->link_timer);
	for (unsigned i = 0; i < GUEST_NICS_MAX; i++)
		if (v->links_down & (1u << i))
			nic_link_set(v, i, true);
	v->links_down = 0;
	return 0;
}

/* Only the guest's owner (a definition without one: root's) or root changes what the guest is made
 * of (its disks, NICs, networks, snapshots): at its next start its files are opened with its
 * owner's rights, and root's rules (any path, block devices) must not apply to what an operator
 * chose. what: "attach its disks", "move its NICs", ... */
int vm_owner_check(struct vm *v, struct call *c, const char *what)
{
	uid_t owner = v->def.has_owner ? (uid_t)v->def.owner : 0;

	if (c->uid == 0 || c->uid == owner)
		return 0;
	return call_errorf(c, -EPERM, "guest '%s' belongs to uid %u: only its owner or root may %s",
			   v->def.name, (unsigned)owner, what);
}

/* A live change of the guest's devices (its disks, NICs: what) waits for any other one, a snapshot
 * job (it names the disks it saves; its memory state must match the devices a load finds), a
 * definition reloaded while it runs, and a start or shutdown under way. */
int vm_change_busy(struct vm *v, struct call *c, const char *what)
{
	const char *name = v->def.name;

	if (v->disk_op)
		return call_errorf(c, -EBUSY, "guest '%s' is changing a disk; try again", name);
	if (v->nic_op)
		return call_errorf(c, -EBUSY, "guest '%s' is changing a NIC; try again", name);
	if (vm_snapshot_busy(v))
		return call_errorf(c, -EBUSY, "guest '%s' is taking or reverting a snapshot; try again",
				   name);
	if (v->next_def)
		return call_errorf(c, -EBUSY,
				   "guest '%s''s definition was reloaded while it runs (it applies when it "
				   "stops): change its %s after that",
				   name, what);
	if (v->state == VM_STATE_STARTING || v->state == VM_STATE_SHUTTING_DOWN || v->waiting_probe)
		return call_errorf(c, -EBUSY, "guest '%s' is %s; try again", name,
				   vm_state_to_string(v->state));
	return 0;
}

static int method_vm_set_network(struct daemon *d, struct call *c, json_object *params)
{
	struct vm *v;
	const char *net;
	unsigned nic = 0;
	char err[512];
	struct guest copy;
	int r = lookup(d, c, params, &v);

	if (r < 0)
		return r;
	if (protocol_param_string(params, "network", &net) < 0)
		return call_errorf(c, -EINVAL, "missing network");
	if ((r = vm_owner_check(v, c, "move its NICs")) < 0)
		return r;
	if (protocol_param_uint(params, "nic", 1u << 30, &nic) >= 0 && nic >= v->def.n_nics)
		return call_errorf(c, -ERANGE, "guest '%s' has no NIC %u (it has %zu)", v->def.name, nic, v->def.n_nics);
	if (!daemon_network_find(d, net))
		return call_errorf(c, -ENOENT, "network '%s' does not exist", net);
	if (v->nic_op)
		return call_errorf(c, -EBUSY, "guest '%s' is attaching or detaching a NIC; try again",
				   v->def.name);
	copy = v->def;
	snprintf(copy.nics[nic].network, sizeof(copy.nics[nic].network), "%s", net);
	r = check_guest_conflicts(d, &copy, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	if (vm_alive(v)) {
		struct net *to = daemon_net_find(d, net), *from = daemon_net_find(d, v->def.nics[nic].network);
		struct guest old = v->def;
		char undo[256];

		if (to->def->mode->owns_bridge && !to->active)
			return call_errorf(c, -ENETDOWN, "network '%s' is not running (netdctl network start %s)", net,
					   net);
		/* The new network's addresses first: its DHCP lease must get through the filter. Then
		 * unregistered there, registered here (plugged into the new bridge). */
		r = daemon_portsec_port_set(d, v->nics[nic].tap, net, &v->def.nics[nic].mac,
					    nic_level(&v->def.nics[nic]), err, sizeof(err));
		if (r < 0)
			return call_errorf(c, r, "%s", err);
		if (from)
			net_user_remove(from, v->def.name, nic);
		v->def = copy;
		r = nic_register(v, nic, err, sizeof(err));
		if (r < 0) {
			v->def = old;
			if (daemon_portsec_port_set(d, v->nics[nic].tap, old.nics[nic].network, &old.nics[nic].mac,
						    nic_level(&old.nics[nic]), undo, sizeof(undo)) < 0 ||
			    nic_register(v, nic, undo, sizeof(undo)) < 0)
				log_obj(LOG_ERR,
					LOG_OBJ(.guest = v->def.name, .network = old.nics[nic].network),
					"guest '%s': NIC %u: cannot put it back on network '%s': %s",
					v->def.name, nic, old.nics[nic].network, undo);
			return call_errorf(c, r, "%s", err);
		}
		/* Flap the guest's link so that its DHCP client asks again, in the new subnet. */
		if (v->qmp && qmp_client_ready(v->qmp)) {
			nic_link_set(v, v->nics[nic].slot, false);
			v->links_down |= 1u << v->nics[nic].slot;
			v->link_timer = sd_event_source_disable_unref(v->link_timer);
			sd_event_add_time_relative(d->event, &v->link_timer, CLOCK_MONOTONIC, LINK_FLAP_USEC, 0,
						   on_link_back, v);
		}
	}
	v->def = copy;
	/* A definition reloaded while the guest runs is what the file holds: it moves too. */
	if (v->next_def && nic < v->next_def->n_nics)
		snprintf(v->next_def->nics[nic].network, sizeof(v->next_def->nics[nic].network), "%s", net);
	r = store_guest_save(&d->paths, v->next_def ? v->next_def : &v->def);
	if (r < 0)
		log_guest(LOG_ERR, v->def.name,
			  "guest '%s': moved, but the definition could not be saved: %s", v->def.name,
			  strerror(-r));
	log_obj(LOG_INFO, LOG_OBJ(.guest = v->def.name, .network = net),
		"guest '%s': NIC %u now on network '%s'", v->def.name, nic, net);
	vm_event(v, "network changed");
	call_reply(c, vm_json(v));
	return 0;
}

/* ---- load and adopt ---- */

static void load_error(const char *file, const char *msg, void *userdata)
{
	log_error("guest definition %s: %s; skipped", file, msg);
}

/*
 * Whether pid (from the guest's pid file) is still this guest's QEMU: the QEMU binary, with our
 * -name and the guest's -uuid (a netd from before fds were passed: our QMP socket's path).
 */
static bool is_our_qemu(struct vm *v, pid_t pid)
{
	_cleanup_free_ char *dir = store_guest_run_dir(&v->daemon->paths, v->def.name), *legacy = NULL;
	char name[NAME_MAX_LEN + 8], uuid[37];
	const char *args[] = { name, uuid, NULL };

	snprintf(name, sizeof(name), "guest=%s", v->def.name);
	if (store_guest_uuid(&v->daemon->paths, v->def.name, uuid) >= 0 &&
	    process_is_qemu(&v->daemon->proc, pid, v->daemon->qemu_binary, args))
		return true;
	if (!dir || asprintf(&legacy, "socket,id=qmp,path=%s/qmp.sock,server=on,wait=off", dir) < 0)
		return false;
	args[1] = legacy;
	return process_is_qemu(&v->daemon->proc, pid, v->daemon->qemu_binary, args);
}

static void adopt(struct vm *v)
{
	_cleanup_free_ char *pidf = run_path(v, "pid"), *taps = run_path(v, "taps");
	_cleanup_free_ char *text = NULL, *list = NULL;
	char *save = NULL;
	size_t i = 0;
	int pid;

	if (!pidf || !taps || read_file(pidf, &text, NULL) < 0)
		return;
	pid = atoi(text);
	if (pid <= 0 || !is_our_qemu(v, pid)) {
		v->state = VM_STATE_CRASHED;
		snprintf(v->note, sizeof(v->note), "QEMU (pid %d) exited while netd was not running", pid);
		log_guest(LOG_WARNING, v->def.name, "guest '%s': %s", v->def.name, v->note);
		unlink(pidf);
		unlink(taps);
		return;
	}
	v->pid = pid;
	if (read_file(taps, &list, NULL) >= 0)
		for (char *t = strtok_r(list, "\n", &save); t && i < GUEST_NICS_MAX; t = strtok_r(NULL, "\n", &save))
			snprintf(v->nics[i++].tap, IFNAMSIZ, "%s", t);
	vm_nic_slots_load(v);
	v->state = VM_STATE_RUNNING;
	snprintf(v->note, sizeof(v->note), "adopted after a netd restart");
	vm_disk_slots_init(v, true);
	for (size_t j = 0; j < v->def.n_nics && j < i; j++) {
		char err[256];

		if (daemon_port_guard(v->daemon, v->nics[j].tap, err, sizeof(err)) < 0)
			log_guest(LOG_ERR, v->def.name, "guest '%s': %s", v->def.name, err);
		if (daemon_portsec_port_set(v->daemon, v->nics[j].tap, v->def.nics[j].network, &v->def.nics[j].mac,
					    nic_level(&v->def.nics[j]), err, sizeof(err)) < 0)
			log_guest(LOG_ERR, v->def.name, "guest '%s': %s", v->def.name, err);
	}
	for (size_t j = 0; j < v->def.n_nics && j < i; j++) {
		char err[256];

		if (nic_register(v, j, err, sizeof(err)) < 0)
			log_guest(LOG_ERR, v->def.name, "guest '%s': NIC %zu: %s", v->def.name, j, err);
	}
	if (watch_qemu(v) < 0) {
		log_guest(LOG_ERR, v->def.name, "guest '%s': cannot watch QEMU pid %d", v->def.name, pid);
		return;
	}
	vm_tune_adopted(v); /* which accelerator it runs with */
	vm_snapshot_adopted(v); /* the jobs an earlier netd left */
	log_guest(LOG_INFO, v->def.name, "guest '%s': adopted running QEMU (pid %d)", v->def.name, pid);
}

static void resolve_macs(struct daemon *d, struct guest *g)
{
	struct mac taken[1024];

	if (store_guest_macs(&d->paths, g, taken, vm_taken_macs(d, g->name, taken, ELEMENTSOF(taken))) < 0)
		log_guest(LOG_ERR, g->name, "guest '%s': cannot read its MACs", g->name);
}

/* Takes g: a guest netd did not know, whose QEMU may run already (a restart). */
static struct vm *vm_add_loaded(struct daemon *d, struct guest *g)
{
	struct vm *v = vm_new(d);

	if (!v || vm_add(d, v) < 0) {
		free(v);
		free(g);
		return NULL;
	}
	v->def = *g;
	free(g);
	resolve_macs(d, &v->def);
	adopt(v);
	return v;
}

int vm_load_all(struct daemon *d)
{
	struct guest **list = NULL;
	size_t n = 0;
	int r;

	vm_clone_recover(d); /* a clone's disks, when netd was killed in its middle */
	r = store_guests_load(&d->paths, &list, &n, load_error, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		vm_add_loaded(d, list[i]);
	free(list);
	return 0;
}

/* ---- reload ---- */

struct reload_report {
	json_object *added, *changed, *removed, *errors;
	json_object *failed; /* guests whose file did not load: they stay as they are */
};

static void reload_error(const char *file, const char *msg, void *userdata)
{
	struct reload_report *rep = userdata;
	size_t len = strlen(file);
	char line[1024];

	log_error("guest definition %s: %s; skipped", file, msg);
	snprintf(line, sizeof(line), "%s: %s", file, msg);
	json_object_array_add(rep->errors, json_object_new_string(line));
	if (len > 5)
		json_object_array_add(rep->failed, json_object_new_string_len(file, len - 5));
}

/* Whether QEMU runs or is about to: its definition is in use. */
static bool vm_busy(const struct vm *v)
{
	return vm_alive(v) || v->state == VM_STATE_STARTING || v->pending;
}

static bool guest_same(const struct guest *a, const struct guest *b)
{
	_cleanup_free_ char *x = guest_config_render(a), *y = guest_config_render(b);

	return x && y && !strcmp(x, y);
}

/* Definitions gone from the config dir: stopped guests are forgotten, running ones kept. */
static void reload_removed(struct daemon *d, struct guest **list, size_t n, struct reload_report *rep)
{
	for (size_t i = 0; i < d->n_vms;) {
		struct vm *v = d->vms[i];
		bool found = protocol_array_has(rep->failed, v->def.name);
		char err[512];

		for (size_t k = 0; k < n && !found; k++)
			found = !strcmp(list[k]->name, v->def.name);
		if (found) {
			i++;
			continue;
		}
		if (vm_busy(v)) {
			snprintf(err, sizeof(err), "guest '%s': definition removed, but the guest is %s; it keeps "
				 "running, and the first reload after it stopped forgets it", v->def.name,
				 vm_state_table[v->state]);
			log_guest(LOG_ERR, v->def.name, "%s", err);
			json_object_array_add(rep->errors, json_object_new_string(err));
			free(TAKE_PTR(v->next_def));
			i++;
			continue;
		}
		log_guest(LOG_INFO, v->def.name, "guest '%s': definition removed, forgetting the guest",
			  v->def.name);
		json_object_array_add(rep->removed, json_object_new_string(v->def.name));
		vm_remove(d, v);
	}
}

/* Takes g: a new guest, or a changed definition (of a running guest: for its next start). */
static void reload_one(struct daemon *d, struct guest *g, struct reload_report *rep)
{
	struct vm *v = vm_find(d, g->name);

	if (!v) {
		json_object_array_add(rep->added, json_object_new_string(g->name));
		log_guest(LOG_INFO, g->name,
			  "guest '%s': new definition loaded ('netdctl vm start %s' starts it)", g->name,
			  g->name);
		vm_add_loaded(d, g);
		return;
	}
	if (guest_same(v->next_def ? v->next_def : &v->def, g)) {
		free(g);
		return;
	}
	json_object_array_add(rep->changed, json_object_new_string(g->name));
	resolve_macs(d, g);
	free(TAKE_PTR(v->next_def));
	if (!vm_busy(v)) {
		log_guest(LOG_INFO, g->name, "guest '%s': definition changed", g->name);
		v->def = *g;
		free(g);
	} else if (guest_same(&v->def, g)) {
		free(g); /* back to what runs */
	} else {
		log_guest(LOG_INFO, g->name,
			  "guest '%s': definition changed; it applies when the guest next starts", g->name);
		v->next_def = g;
	}
}

json_object *vm_reload(struct daemon *d)
{
	json_object *o = json_object_new_object();
	_cleanup_json_ json_object *failed = json_object_new_array();
	struct reload_report rep = {
		.added = json_object_new_array(), .changed = json_object_new_array(),
		.removed = json_object_new_array(), .errors = json_object_new_array(), .failed = failed,
	};
	struct guest **list = NULL;
	size_t n = 0;
	int r;

	json_object_object_add(o, "added", rep.added);
	json_object_object_add(o, "changed", rep.changed);
	json_object_object_add(o, "removed", rep.removed);
	json_object_object_add(o, "errors", rep.errors);
	r = store_guests_load(&d->paths, &list, &n, reload_error, &rep);
	if (r < 0) {
		char err[512];

		snprintf(err, sizeof(err), "cannot read %s/guests: %s; guests unchanged", d->paths.config_dir,
			 strerror(-r));
		log_error("%s", err);
		json_object_array_add(rep.errors, json_object_new_string(err));
		return o;
	}
	reload_removed(d, list, n, &rep);
	for (size_t i = 0; i < n; i++)
		reload_one(d, list[i], &rep);
	free(list);
	return o;
}

/* The rights a guest starts with at boot: its owner's as they are now (groups looked up again:
 * someone who left group netd is no operator any more); a definition without an owner was
 * written by root. */
static int autostart_cred(struct daemon *d, const struct guest *g, struct process_cred *ret, char *err,
			  size_t errlen)
{
	struct passwd *pw;
	gid_t netd = vm_netd_gid();
	bool member = false;
	int r;

	*ret = (struct process_cred){};
	if (!g->has_owner || g->owner == 0)
		return 0;
	pw = getpwuid(g->owner);
	if (!pw) {
		snprintf(err, errlen, "its owner, uid %u, no longer exists", (unsigned)g->owner);
		return -ESRCH;
	}
	r = process_cred_from_user(pw->pw_name, ret);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the groups of its owner %s: %s", pw->pw_name, strerror(-r));
		return r;
	}
	member = netd && ret->gid == netd;
	for (size_t i = 0; i < ret->n_groups && !member; i++)
		member = netd && ret->groups[i] == netd;
	if (!member) {
		snprintf(err, errlen, "its owner %s is no longer in group netd", pw->pw_name);
		return -EPERM;
	}
	return 0;
}

void vm_autostart_all(struct daemon *d)
{
	for (size_t i = 0; i < d->n_vms; i++) {
		struct vm *v = d->vms[i];
		struct process_cred owner;
		char err[256];
		struct call *c;

		if (!v->def.autostart || vm_alive(v))
			continue;
		if (autostart_cred(d, &v->def, &owner, err, sizeof(err)) < 0) {
			log_guest(LOG_ERR, v->def.name, "guest '%s': not started at boot: %s", v->def.name,
				  err);
			continue;
		}
		c = calloc(1, sizeof(*c)); /* no client: the reply goes nowhere, the log says it */
		if (!c)
			return;
		vm_peer_from_cred(&owner, &c->peer);
		c->uid = c->peer.uid;
		log_guest(LOG_INFO, v->def.name, "guest '%s': autostart as uid %u", v->def.name,
			  (unsigned)c->peer.uid);
		if (vm_start(d, c, v) < 0) {
			log_guest(LOG_ERR, v->def.name, "guest '%s': autostart failed: %s", v->def.name,
				  c->err);
			call_reply_error(c, -EIO, "%s", c->err);
		}
	}
}

void vm_free_all(struct daemon *d)
{
	vm_look_done(d);
	for (size_t i = 0; i < d->n_vms; i++)
		vm_free(d->vms[i]);
	free(d->vms);
	d->vms = NULL;
	d->n_vms = 0;
}

/* ---- for vm-live.c ---- */

int vm_lookup(struct daemon *d, struct call *c, json_object *params, struct vm **ret)
{
	return lookup(d, c, params, ret);
}

/* ---- for vm-define.c ---- */

struct vm *vm_named(struct daemon *d, const char *name)
{
	return vm_find(d, name);
}

bool vm_in_use(const struct vm *v)
{
	return vm_busy(v);
}

int vm_conflicts_check(struct daemon *d, const struct guest *g, char *err, size_t errlen)
{
	return check_guest_conflicts(d, g, err, errlen);
}

void vm_notify(struct vm *v, const char *action)
{
	vm_event(v, action);
}

json_object *vm_to_json(struct vm *v)
{
	return vm_json(v);
}

int vm_qmp_check(struct call *c, struct vm *v)
{
	return need_qmp(c, v);
}

bool vm_running(const struct vm *v)
{
	return vm_alive(v);
}

void vm_pending_reply(struct vm *v, json_object *result)
{
	pending_reply(v, result);
}

void vm_pending_fail(struct vm *v, int error, const char *msg)
{
	pending_fail(v, error, msg);
}

void vm_changed(struct vm *v, const char *action)
{
	vm_event(v, action);
}

/* Takes g (its file written): a new guest, or the new definition of a stopped one. */
struct vm *vm_definition_put(struct daemon *d, struct guest *g)
{
	struct vm *v = vm_find(d, g->name);

	if (!v)
		return vm_add_loaded(d, g);
	resolve_macs(d, g);
	free(TAKE_PTR(v->next_def));
	v->def = *g;
	free(g);
	return v;
}

static const struct method guest_table[] = {
	{ "vm.create", method_vm_create, METHOD_CHANGE | METHOD_ASYNC }, /* with --start */
	{ "vm.start", method_vm_start, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.shutdown", method_vm_shutdown, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.destroy", method_vm_destroy, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.reboot", method_vm_reboot, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.suspend", method_vm_suspend, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.resume", method_vm_resume, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.delete", method_vm_delete, METHOD_CHANGE },
	{ "vm.list", method_vm_list, METHOD_READ },
	{ "vm.show", method_vm_show, METHOD_READ },
	{ "vm.set-network", method_vm_set_network, METHOD_CHANGE },
	{ "vm.attach-disk", method_vm_attach_disk, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.detach-disk", method_vm_detach_disk, METHOD_CHANGE | METHOD_ASYNC },
};

const struct method_area guest_methods = METHOD_AREA(guest_table);
