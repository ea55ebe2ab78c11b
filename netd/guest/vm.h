/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guests at run time: one QEMU child each, its TAPs, its QMP connection, its state. The state
 * follows QEMU: the process (pidfd) and QMP (query-status, events).
 */
#pragma once

#include <net/if.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "guest-files.h"
#include "guest.h"
#include "process.h"
#include "qemu-argv.h"
#include "qmp.h"

struct daemon;
struct call;

enum vm_state {
	VM_STATE_STOPPED,
	VM_STATE_STARTING,
	VM_STATE_RUNNING,
	VM_STATE_PAUSED,
	VM_STATE_SHUTTING_DOWN,
	VM_STATE_CRASHED, /* QEMU died unexpectedly, or while netd was down */
	_VM_STATE_MAX,
};

/* The files of one start, opened with the requester's rights: v->files[VM_FILE_*], -1 for none. */
enum {
	VM_FILE_KERNEL,
	VM_FILE_INITRD,
	VM_FILE_CDROM,
	VM_FILE_DISK0, /* disk i is VM_FILE_DISK0 + i */
	VM_FILES_MAX = VM_FILE_DISK0 + GUEST_DISKS_MAX,
};

struct vm_nic {
	char tap[IFNAMSIZ];
	bool vhost;
	unsigned slot; /* QEMU's netS/nicS on nic-port<S>: i at start; attach-nic takes a free one */
};

/* The layers below each disk of a guest (an overlay of the pool), as QEMU gets them: fds[i][k - 1]
 * is disk i's layer k (read-only, opened with the requester's rights); n[i] of them. */
struct vm_layers {
	size_t n[GUEST_DISKS_MAX];
	int fds[GUEST_DISKS_MAX][QEMU_LAYERS_MAX];
	enum disk_format formats[GUEST_DISKS_MAX][QEMU_LAYERS_MAX];
};

struct vm {
	struct daemon *daemon;
	struct guest def; /* MACs resolved (generated ones filled in) */
	struct guest *next_def; /* reloaded while the guest ran: becomes def when QEMU exits */
	enum vm_state state;
	pid_t pid;
	sd_event_source *pid_source; /* owns the pidfd */
	struct qmp_client *qmp;
	struct vm_nic nics[GUEST_NICS_MAX];
	enum qemu_accel accel;
	char note[200];	     /* how it runs: accelerator, vhost; or why it stopped */
	struct call *pending; /* start/shutdown/destroy waiting for QEMU */
	bool waiting_probe;   /* a start waiting for the KVM probe */
	sd_event_source *timer;
	sd_event_source *link_timer; /* brings back the links set-network took down */
	unsigned links_down; /* bit S: QEMU's nicS (slot S) is down for a set-network flap */
	int files[VM_FILES_MAX]; /* opened with the requester's rights for the start under way, or -1 */
	int kernel_memfd; /* netd's fd of QEMU's kernel copy, emptied once QMP answers; -1 */
	bool paused;	  /* started with -S: QMP's query-block decides whether it may 'cont' */
	bool disk_unchecked; /* a qcow2 disk given by another user than root: start it paused */
	bool cdrom_once; /* boot auto with cdrom and disks: the cdrom goes last once QEMU runs */
	/* While QEMU runs: def.disks[i] is QEMU's node disk<disk_slot[i]> (i at start; attach-disk
	 * takes a free slot, detach-disk leaves a hole); kept in <run>/guests/NAME/disk-slots. */
	unsigned disk_slot[GUEST_DISKS_MAX];
	bool has_scsi; /* QEMU has the virtio-scsi controller (a scsi disk at start) */
	unsigned slot_layers[GUEST_DISKS_MAX]; /* slot S's overlay layers below it (nodes diskS-lK) */
	bool disk_slots_unknown; /* adopted without a disk-slots file: no live disk change till restart */
	struct disk_op *disk_op; /* an attach-disk or detach-disk under way */
	struct vm_layers layers; /* the overlay layers below each disk, for the start under way */
	char vnc_password[9]; /* set at each start (and adoption) when VNC is off the loopback */
	struct vm_live *live; /* vm-live.c: vCPUs present, the balloon, a set-vcpus under way; or NULL */
	pid_t vcpu_tids[GUEST_VCPUS_MAX]; /* vCPU N's thread (QMP query-cpus-fast), 0: unknown */
	unsigned n_vcpu_tids;
	struct vm_snap *snap; /* vm-snapshot.c: a snapshot job under way; or NULL */
	struct nic_op *nic_op; /* vm-nic-live.c: an attach-nic or detach-nic under way; or NULL */
};

enum kvm_probe_state {
	KVM_PROBE_UNKNOWN,
	KVM_PROBE_RUNNING,
	KVM_PROBE_OK,
	KVM_PROBE_BROKEN,
};

struct vm *vm_find(struct daemon *d, const char *name);
bool vm_alive(const struct vm *v);
const char *vm_state_to_string(enum vm_state s);
json_object *vm_json(struct vm *v);
/* A disk of g that another guest's definition names (the same inode) is refused unless both have
 * it readonly: the call's error is set. */
int vm_check_disks_shared(struct daemon *d, struct call *c, const struct guest *g);
/* The same against the guests other than g's name (vm define replacing a definition). */
int vm_check_disks_shared_others(struct daemon *d, struct call *c, const struct guest *g);

/* Live disks (vm-disk-live.c): vm.attach-disk, vm.detach-disk; QMP events (DEVICE_DELETED); the
 * slots of a guest QEMU started or netd adopted. */
int method_vm_attach_disk(struct daemon *d, struct call *c, json_object *params);
int method_vm_detach_disk(struct daemon *d, struct call *c, json_object *params);
void vm_disk_on_event(struct vm *v, const struct qmp_message *m);
void vm_disk_slots_init(struct vm *v, bool adopted);
void vm_disk_op_free(struct vm *v);

/* Live NICs (vm-nic-live.c): vm.attach-nic, vm.detach-nic; QMP events (DEVICE_DELETED); the NICs'
 * slots and TAPs in <run>/guests/NAME/{taps,nic-slots} (save: start and each change; load:
 * adoption, after the TAPs are read). */
int method_vm_attach_nic(struct daemon *d, struct call *c, json_object *params);
int method_vm_detach_nic(struct daemon *d, struct call *c, json_object *params);
void vm_nic_on_event(struct vm *v, const struct qmp_message *m);
void vm_nic_op_free(struct vm *v);
void vm_nic_slots_save(struct vm *v);
void vm_nic_slots_load(struct vm *v);

/* vm-look.c: screenshots and the serial log. gone: v's QEMU exited (its screenshots fail);
 * watch: v's QEMU runs (its serial log is kept bounded); done: netd stops. rotate: serial.log to
 * serial.log.1 when larger than GUEST_SERIAL_LOG_MAX (or force): 1 rotated, 0 not, negative errno. */
void vm_look_gone(struct vm *v);
void vm_look_watch(struct vm *v);
void vm_look_done(struct daemon *d);
int vm_serial_log_rotate(struct daemon *d, const char *name);

/* vm-tune.c: check: pinned CPUs exist (and at_start: enough free huge pages), err says why not;
 * qmp_ready: QMP answers (start, adoption): find the vCPU threads and pin them and QEMU's others;
 * json: vm show's "tuning" (the affinity read back from the threads). */
int vm_tune_check(struct daemon *d, const struct guest *g, bool at_start, char *err, size_t errlen);
void vm_tune_qmp_ready(struct vm *v);
/* query-cpus-fast's answer (userdata: the vm): records and pins the vCPU threads that are QEMU's. */
void vm_tune_on_cpus(struct qmp_client *q, const struct qmp_message *m, void *userdata);
/* adopted: an adopted QEMU (its start was another netd's) is asked which accelerator it uses
 * (QMP query-kvm; on_kvm its answer): v->accel, which vm show's CPU model follows. */
void vm_tune_adopted(struct vm *v);
void vm_tune_on_kvm(struct qmp_client *q, const struct qmp_message *m, void *userdata);
json_object *vm_tune_json(struct vm *v);
extern const char *vm_tune_cpus_online_path, *vm_tune_meminfo_path;

/* Load definitions, adopt guests that survived a netd restart. */
int vm_load_all(struct daemon *d);
void vm_free_all(struct daemon *d);
/* Reload: load new, changed and removed definitions; returns the report's "guests" part
 * ({"added", "changed", "removed", "errors"}). A changed definition of a running guest applies
 * when QEMU exits; a removed one's guest keeps running (an error); nothing is started. */
json_object *vm_reload(struct daemon *d);
/* At boot: start the guests marked autostart. */
void vm_autostart_all(struct daemon *d);
int vm_kvm_probe_start(struct daemon *d);
/* The user QEMU runs as (netd --qemu-user, default netd-qemu); err says what to do when it is missing. */
int vm_qemu_cred(struct daemon *d, struct process_cred *ret, char *err, size_t errlen);
/* Whether QEMU's user may open /dev/kvm; err says why not. */
bool vm_qemu_may_use_kvm(const struct process_cred *qemu, const char *user, char *err, size_t errlen);
void vm_kvm_probe_done(struct daemon *d);

/* For the method files beside vm.c (vm-live.c): the guest a request names (or an error answered),
 * its show/--json, whether QMP can take a command now (or an error answered), whether QEMU runs,
 * and the answer to the request it keeps in pending. */
int vm_lookup(struct daemon *d, struct call *c, json_object *params, struct vm **ret);
json_object *vm_to_json(struct vm *v);
int vm_qmp_check(struct call *c, struct vm *v);
bool vm_running(const struct vm *v);
void vm_pending_reply(struct vm *v, json_object *result);
void vm_pending_fail(struct vm *v, int error, const char *msg);
void vm_changed(struct vm *v, const char *action);

/* vm-live.c's hooks: QMP answers (start: a fresh QEMU, not an adopted one), a QMP event, the
 * show/--json fields, QEMU gone or the guest forgotten. */
void vm_live_qmp_ready(struct vm *v, bool start);
void vm_live_event(struct vm *v, const struct qmp_message *m);
void vm_live_json(struct vm *v, json_object *o);
void vm_live_reset(struct vm *v);
/* The guest's pending call c was answered (by whoever): a live request that kept it is over. */
void vm_live_call_done(struct vm *v, struct call *c);
/* QEMU exited: a live request under way fails ("QEMU exited before ..."), then vm_live_reset. */
void vm_live_exited(struct vm *v);
/* An adopted QEMU that never ran (prelaunch): its balloon's target is set when it first runs. */
void vm_live_prelaunch(struct vm *v);
void vm_live_running(struct vm *v);
/* vm-snapshot.c's hooks, as vm-live.c's: the pending call c answered, a QMP event (its jobs'
 * JOB_STATUS_CHANGE), QEMU exited, the guest forgotten. */
void vm_snapshot_call_done(struct vm *v, struct call *c);
void vm_snapshot_event(struct vm *v, const struct qmp_message *m);
void vm_snapshot_exited(struct vm *v);
void vm_snapshot_reset(struct vm *v);
/* An adopted QEMU: once QMP is up, the snapshot jobs an earlier netd left are dismissed. */
void vm_snapshot_adopted(struct vm *v);
void vm_snapshot_qmp_ready(struct vm *v);
/* A snapshot request under way, or a job of one still in QEMU: no disk may come or go. */
bool vm_snapshot_busy(const struct vm *v);
/* Tests: the run part of job ids (netd-snap-RUN-N), else from the time and pid at first use. */
void vm_snapshot_run_id_set(const char *id);
/* For vm-define.c (vm dump, vm define). */
struct vm *vm_named(struct daemon *d, const char *name);
/* QEMU runs or is about to: the definition is in use. */
bool vm_in_use(const struct vm *v);
/* g against the networks and the other guests' MACs. */
int vm_conflicts_check(struct daemon *d, const struct guest *g, char *err, size_t errlen);
/* The MACs of the guests but except (up to max), for guest_mac_generate. */
size_t vm_taken_macs(struct daemon *d, const char *except, struct mac *ret, size_t max);
void vm_notify(struct vm *v, const char *action);
/* Takes g, whose file is written: adds it as a new guest, or makes it the definition of the
 * stopped guest of that name; the MACs it lacks are resolved (generated and kept). */
struct vm *vm_definition_put(struct daemon *d, struct guest *g);

/* Only the guest's owner (none: root) or root may change what the guest is made of; else an
 * error answered on c ("only its owner or root may WHAT"). */
int vm_owner_check(struct vm *v, struct call *c, const char *what);
/* -EBUSY with the call's error while another change of the guest's devices, a snapshot job, a
 * reload or a start or shutdown is under way; what: "disks", "NICs". */
int vm_change_busy(struct vm *v, struct call *c, const char *what);
/* A TAP name the kernel (the dump) or a guest of netd holds: guest_tap_name's in_use, userdata
 * { struct daemon *, const struct link_dump * }. */
bool vm_tap_in_use(const char *name, void *userdata);
