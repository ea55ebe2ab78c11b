/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest definition: what <config>/guests/NAME.conf says. Pure: no kernel, no processes.
 * vmm/ knows networks only by name; the daemon tells it which exist and which MACs they hold.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mac.h"
#include "names.h"

#define GUEST_NICS_MAX 8
#define GUEST_QUEUES_MAX 8
#define GUEST_MEMORY_MIN_MIB 64
#define GUEST_MEMORY_MAX_MIB (1024 * 1024)
#define GUEST_VCPUS_MAX 64
#define GUEST_PATH_MAX 1024
#define GUEST_DISKS_MAX 8
#define GUEST_SATA_PORTS 6 /* q35's AHCI: ide.0 .. ide.5; a cdrom takes ide.0 */

enum guest_accel {
	GUEST_ACCEL_AUTO,
	GUEST_ACCEL_KVM,
	GUEST_ACCEL_TCG,
	_GUEST_ACCEL_MAX,
	_GUEST_ACCEL_INVALID = -1,
};

enum disk_format {
	DISK_FORMAT_RAW,
	DISK_FORMAT_QCOW2,
	_DISK_FORMAT_MAX,
	_DISK_FORMAT_INVALID = -1,
};

enum disk_cache {
	DISK_CACHE_NONE,
	DISK_CACHE_WRITEBACK,
	DISK_CACHE_WRITETHROUGH,
	DISK_CACHE_DIRECTSYNC,
	DISK_CACHE_UNSAFE,
	_DISK_CACHE_MAX,
	_DISK_CACHE_INVALID = -1,
};

enum disk_bus {
	DISK_BUS_VIRTIO, /* virtio-blk-pci */
	DISK_BUS_SCSI, /* scsi-hd on one virtio-scsi-pci controller */
	DISK_BUS_SATA, /* ide-hd on q35's AHCI */
	_DISK_BUS_MAX,
	_DISK_BUS_INVALID = -1,
};

/* Which drive the firmware tries first (bootindex): auto is the cdrom until the first reboot. */
enum guest_boot {
	GUEST_BOOT_AUTO,
	GUEST_BOOT_CDROM_DISK,
	GUEST_BOOT_DISK_CDROM,
	_GUEST_BOOT_MAX,
	_GUEST_BOOT_INVALID = -1,
};

const char *guest_accel_to_string(enum guest_accel a);
enum guest_accel guest_accel_from_string(const char *s);
const char *disk_format_to_string(enum disk_format f);
enum disk_format disk_format_from_string(const char *s);
const char *disk_cache_to_string(enum disk_cache c);
enum disk_cache disk_cache_from_string(const char *s);
const char *disk_bus_to_string(enum disk_bus b);
enum disk_bus disk_bus_from_string(const char *s);
const char *guest_boot_to_string(enum guest_boot b);
enum guest_boot guest_boot_from_string(const char *s);

/* One disk: [diskN] in the file, one --disk on the command line. QEMU's node is "diskN". */
struct guest_disk {
	char path[GUEST_PATH_MAX];
	enum disk_format format;
	enum disk_cache cache;
	enum disk_bus bus;
	bool readonly;
	bool format_given; /* the spec named a format (a pool disk without one takes the pool's) */
	bool legacy_keys; /* parsing only: [guest]'s disk, disk-format or disk-cache gave it */
};

struct guest_nic {
	char network[NAME_MAX_LEN + 1];
	bool has_mac; /* pinned in the definition; otherwise generated once and kept in the state dir */
	struct mac mac;
	bool security_off; /* port security opted out: the NIC may send anything (a router guest) */
	/* Identity, only in a dump ('netdctl vm dump') and a file given to 'vm define': the MAC netd
	 * generated for this NIC (kept in the state dir, never in the definition file). */
	bool has_generated_mac;
	struct mac generated_mac;
};

struct guest {
	char name[NAME_MAX_LEN + 1];
	struct guest_nic nics[GUEST_NICS_MAX];
	size_t n_nics;
	uint64_t memory_mib;
	unsigned vcpus;
	/* Live changes (netd/guest/vm-live.c). max_vcpus: -smp maxcpus, the most set-vcpus may plug in;
	 * 0: vcpus (none). max_memory_mib: 0 for no balloon; else -m is this and a virtio-balloon
	 * gives the guest memory_mib of it (set-memory moves the balloon's target). */
	unsigned max_vcpus;
	uint64_t max_memory_mib;
	char kernel[GUEST_PATH_MAX];
	char initrd[GUEST_PATH_MAX];
	char append[GUEST_PATH_MAX];
	struct guest_disk disks[GUEST_DISKS_MAX];
	size_t n_disks;
	char cdrom[GUEST_PATH_MAX];
	enum guest_boot boot;
	uint64_t disk_size_new; /* vm.create --disk-size: make a new pool disk; not in the file */
	enum guest_accel accel;
	char vnc[64]; /* "[ADDR:]DISPLAY" or "" */
	unsigned queues;
	bool autostart;
	/* Tuning (guest-tune.h): "" / false / 0 when not asked for. */
	char cpu[64]; /* -cpu: "host" or a QEMU model */
	char vcpu_pin[256]; /* "VCPU:CPUS,...": each vCPU thread's affinity */
	char emulator_pin[128]; /* "CPUS": QEMU's other threads' affinity */
	bool hugepages; /* guest memory from hugetlbfs (memory-backend-memfd,hugetlb=on) */
	unsigned io_threads; /* -object iothread,id=iothreadN for virtio disks */
	/* Who created it (uid), written by netd: autostart uses that user's rights. Only root writes the
	 * config dir, so a definition without one was written by root. */
	bool has_owner;
	uint32_t owner;
	/* Identity, only in a dump and a file given to 'vm define': QEMU's -uuid (kept in the state
	 * dir, never in the definition file); "" when not given. */
	char uuid[37];
	/* A cloud-init NoCloud seed is made for it (its texts in the state dir, netd/guest/
	 * vm-cloud-init.c) and attached read-only. */
	bool cloud_init;
};

/* Defaults: 512 MiB, 1 vCPU, accel auto, 1 queue, raw/none disk, autostart. */
void guest_init(struct guest *g, const char *name);
/* "512M", "2G", "1024" (MiB) -> MiB. */
int guest_memory_parse(const char *s, uint64_t *ret_mib);
/* "PATH|NAME[,format=raw|qcow2][,cache=MODE][,bus=virtio|scsi|sata][,readonly]" into d (which
 * starts as a default disk: raw, none, virtio, read-write). */
int guest_disk_parse(struct guest_disk *d, const char *spec, char *err, size_t errlen);
void guest_disk_init(struct guest_disk *d);
int guest_vnc_parse(const char *s, char *ret, size_t size);

/* The most vCPUs a running guest may have (-smp maxcpus). */
unsigned guest_max_vcpus(const struct guest *g);
/* -m: the most memory a running guest may have; with a balloon, its target is memory_mib. */
uint64_t guest_max_memory_mib(const struct guest *g);
/* The least a balloon may leave a guest: an eighth of its maximum, at least GUEST_MEMORY_MIN_MIB.
 * (QEMU takes any target; a balloon that takes nearly all of it starves the guest's kernel.) */
uint64_t guest_balloon_floor_mib(const struct guest *g);
/* Whether memory mib is a target the guest's balloon may be set to; err says why not. */
int guest_balloon_check(const struct guest *g, uint64_t mib, char *err, size_t errlen);

/* A guest MAC: 52:54:00 and three random bytes, none of the taken ones. */
int guest_mac_generate(const struct mac *taken, size_t n_taken, int (*rand_bytes)(uint8_t *buf, size_t n),
		       struct mac *ret);
bool guest_mac_valid(const struct mac *m, const char **ret_reason);
/* The TAP's host side: the guest MAC with first byte 0xfe (libvirt's convention). */
void guest_mac_host_side(const struct mac *guest, struct mac *ret);

/* Whether the definition carries identity (uuid, generated-mac): a dump's, not a definition file's. */
bool guest_has_identity(const struct guest *g);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lowercase hex. */
bool guest_uuid_valid(const char *s);

/* Check one definition on its own (ranges, one boot source, MACs). */
int guest_validate(const struct guest *g, char *err, size_t errlen);

/* What the daemon knows: which networks exist, and the other guests (with their MACs resolved). */
struct guest_context {
	bool (*network_exists)(const char *name, void *userdata);
	void *userdata;
	const struct guest *const *others;
	size_t n_others;
};
int guest_check_conflicts(const struct guest *g, const struct guest_context *ctx, char *err, size_t errlen);

/*
 * The TAP name of NIC idx: "vm-<guest>-<idx>" when it fits in 15 bytes and is free, otherwise
 * the lowest free "vnetN". in_use says whether a name is held (kernel or netd's bookkeeping).
 */
int guest_tap_name(const struct guest *g, size_t idx, bool (*in_use)(const char *name, void *userdata),
		   void *userdata, char *ret, size_t size);
