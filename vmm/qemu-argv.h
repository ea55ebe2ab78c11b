/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QEMU command line, rendered by a pure function from a guest definition, the fds netd
 * opened for it and what the installed QEMU supports. Golden-file tested. QEMU opens no path of
 * its own: every file and socket it uses is an inherited fd, so the command line names none.
 */
#pragma once

#include <json-c/json.h>
#include <net/if.h>
#include <stdbool.h>

#include "disk.h"
#include "guest.h"

/* How the accelerator was chosen for this start. */
enum qemu_accel {
	QEMU_ACCEL_KVM,	    /* -accel kvm */
	QEMU_ACCEL_TCG,	    /* -accel tcg */
	QEMU_ACCEL_KVM_TCG, /* -accel kvm -accel tcg: QEMU falls back if KVM cannot initialise */
	_QEMU_ACCEL_MAX,
};
const char *qemu_accel_to_string(enum qemu_accel a);

struct qemu_caps {
	int major, minor;
	bool sandbox; /* built with seccomp: -sandbox on */
};

/* One NIC as started: its TAP and the fd numbers QEMU inherits (tap fds, then vhost fds). */
struct qemu_nic {
	char tap[IFNAMSIZ];
	struct mac mac;
	unsigned queues;
	bool vhost;
	int first_fd;
};

#define QEMU_LAYERS_MAX (DISK_CHAIN_MAX - 1) /* an overlay's layers below the disk itself */
/* Files and sockets QEMU inherits: fd numbers in its table, -1 when there is none. */
struct qemu_files {
	int qmp, console; /* listening unix sockets netd created */
	int serial_log; /* write-only, appending */
	/* Each disk: read-write (read-only for a readonly disk), and for a read-write disk also a
	 * read-only fd in its set (QEMU reopens an image read-only for some operations). */
	int disks[GUEST_DISKS_MAX], disks_ro[GUEST_DISKS_MAX];
	int cdrom; /* read-only */
	int seed; /* read-only: the cloud-init seed, a virtio disk of its own at QEMU_SEED_ADDR */
	int kernel, initrd; /* read-only memfds: -kernel/-initrd read a path, /proc/self/fd/N */
	/* Disk i's layers below it, from netd's record of a pool overlay (never from the header):
	 * layer k (1..n_layers[i]) is layers[i][k - 1], read-only, in format layer_formats[i][k - 1]. */
	size_t n_layers[GUEST_DISKS_MAX];
	int layers[GUEST_DISKS_MAX][QEMU_LAYERS_MAX];
	enum disk_format layer_formats[GUEST_DISKS_MAX][QEMU_LAYERS_MAX];
};
#define QEMU_FILES_NONE                                                       \
	((struct qemu_files){ .qmp = -1,                                      \
			      .console = -1,                                  \
			      .serial_log = -1,                               \
			      .disks = { -1, -1, -1, -1, -1, -1, -1, -1 },    \
			      .disks_ro = { -1, -1, -1, -1, -1, -1, -1, -1 }, \
			      .cdrom = -1,                                    \
			      .seed = -1,                                     \
			      .kernel = -1,                                   \
			      .initrd = -1 })
/* The fd sets (-add-fd) files are passed in; /dev/fdset/N names them. */
enum {
	QEMU_FDSET_CDROM = 2,
	QEMU_FDSET_SERIAL_LOG = 3,
	QEMU_FDSET_SEED = 4,
	QEMU_FDSET_DISK0 = 10, /* disk i: 10 + i */
	QEMU_FDSET_LAYER0 = 100, /* disk i's layer k below it: 100 + 16 i + k (k = 1..15) */
};
#define QEMU_FDSET_LAYER(slot, k) (QEMU_FDSET_LAYER0 + 16 * (int)(slot) + (int)(k))
_Static_assert(QEMU_LAYERS_MAX < 16, "a disk's layers' fd sets are 16 apart");

/* A format node's -blockdev / blockdev-add options (JSON: QEMU's keyval cannot say "backing":
 * null): node disk<slot> (layer 0) or disk<slot>-l<k> on its file node, cache and read-only as
 * the disk says (a lower layer: read-only); a qcow2 node links the layer below explicitly
 * (backing = its node), or none ("backing": null) at the bottom, so that QEMU never follows a
 * name in the image's header. */
json_object *qemu_format_node(const struct guest_disk *d, unsigned slot, size_t layer, enum disk_format f,
			      bool has_below);
/* The file node under it: driver file on /dev/fdset/N. */
json_object *qemu_file_node(const struct guest_disk *d, unsigned slot, size_t layer);
/* Node names of disk slot's layer (0: the disk itself). */
void qemu_layer_node(char *buf, size_t size, unsigned slot, size_t layer, bool file);
int qemu_layer_fdset(unsigned slot, size_t layer);
_Static_assert(GUEST_DISKS_MAX == 8, "QEMU_FILES_NONE sets 8 disks, one PCI slot holds 8 ports");
/* Disk i's PCIe root port disk-port<i>: function i of this slot of pcie.0, chassis QEMU_DISK_CHASSIS + i. */
#define QEMU_DISK_PORTS_SLOT 0x10
/* The cloud-init seed: on pcie.0 (never hot-unplugged), the slot after the disk ports. */
#define QEMU_SEED_ADDR "0x11"

#define QEMU_DISK_CHASSIS 1

/* NIC slot i's PCIe root port nic-port<i> (vm attach-nic / detach-nic hotplug there): function i
 * of this slot of pcie.0, chassis QEMU_NIC_CHASSIS + i. */
_Static_assert(GUEST_NICS_MAX == 8, "one PCI slot holds 8 ports");
#define QEMU_NIC_PORTS_SLOT 0x12
#define QEMU_NIC_CHASSIS 17

/* The bootindex each drive gets (-1: none: a -kernel boot) and whether the cdrom goes last once
 * QEMU runs (boot auto: cdrom first until the first reboot). Pure. */
struct qemu_boot_order {
	int cdrom, disks[GUEST_DISKS_MAX];
	bool cdrom_once;
};
void qemu_boot_order(const struct guest *g, bool kernel, struct qemu_boot_order *ret);

struct qemu_launch {
	const struct guest *guest;
	const char *binary;
	const char *uuid; /* the guest's, also how a restarted netd recognises its QEMU */
	struct qemu_caps caps;
	enum qemu_accel accel;
	struct qemu_nic nics[GUEST_NICS_MAX];
	size_t n_nics;
	struct qemu_files files;
	/* -S: the guest waits for 'cont', after netd looked at what QEMU opened (a qcow2 image that
	 * named a backing or data file after netd checked it). */
	bool paused;
};

/* The balloon device's id (-device virtio-balloon-pci), for a guest with --max-memory. */
#define QEMU_BALLOON_ID "balloon0"

#define QEMU_FIRST_FD 3
/* Assign the fixed fd numbers: NIC by NIC, queues tap fds then queues vhost fds; returns the count.
 * Other files follow them. */
int qemu_fds_layout(struct qemu_nic *nics, size_t n_nics);

/* Where a guest's VNC server listens: its "[ADDR:]DISPLAY" with 127.0.0.1 when no address is given.
 * A display anywhere but on the loopback (127.0.0.0/8, [::1], localhost) needs a password. */
struct qemu_vnc {
	char host[64];
	unsigned port; /* 5900 + display */
	bool local;
};
int qemu_vnc_parse(const char *vnc, struct qemu_vnc *ret);
/* The iothread (-object iothread,id=iothreadK of --io-threads N) that serves virtio disk slot i:
 * K = i mod N. Static buffer. */
const char *qemu_disk_iothread(size_t slot, unsigned io_threads);
/* NULL-terminated argv; free with strv_free(). */
int qemu_argv_render(const struct qemu_launch *l, char ***ret);
/* One option with its value per line, for golden files and logs. Caller frees. */
char *qemu_argv_format(char *const *argv);
void strv_free(char **v);
