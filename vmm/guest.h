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

const char *guest_accel_to_string(enum guest_accel a);
enum guest_accel guest_accel_from_string(const char *s);
const char *disk_format_to_string(enum disk_format f);
enum disk_format disk_format_from_string(const char *s);
const char *disk_cache_to_string(enum disk_cache c);
enum disk_cache disk_cache_from_string(const char *s);

struct guest_nic {
	char network[NAME_MAX_LEN + 1];
	bool has_mac; /* pinned in the definition; otherwise generated once and kept in the state dir */
	struct mac mac;
	bool security_off; /* port security opted out: the NIC may send anything (a router guest) */
};

struct guest {
	char name[NAME_MAX_LEN + 1];
	struct guest_nic nics[GUEST_NICS_MAX];
	size_t n_nics;
	uint64_t memory_mib;
	unsigned vcpus;
	char kernel[GUEST_PATH_MAX];
	char initrd[GUEST_PATH_MAX];
	char append[GUEST_PATH_MAX];
	char disk[GUEST_PATH_MAX];
	enum disk_format disk_format;
	enum disk_cache disk_cache;
	char cdrom[GUEST_PATH_MAX];
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
};

/* Defaults: 512 MiB, 1 vCPU, accel auto, 1 queue, raw/none disk, autostart. */
void guest_init(struct guest *g, const char *name);
/* "512M", "2G", "1024" (MiB) -> MiB. */
int guest_memory_parse(const char *s, uint64_t *ret_mib);
/* "PATH[,format=raw|qcow2][,cache=MODE]" */
int guest_disk_parse(struct guest *g, const char *spec, char *err, size_t errlen);
int guest_vnc_parse(const char *s, char *ret, size_t size);

/* A guest MAC: 52:54:00 and three random bytes, none of the taken ones. */
int guest_mac_generate(const struct mac *taken, size_t n_taken, int (*rand_bytes)(uint8_t *buf, size_t n),
		       struct mac *ret);
bool guest_mac_valid(const struct mac *m, const char **ret_reason);
/* The TAP's host side: the guest MAC with first byte 0xfe (libvirt's convention). */
void guest_mac_host_side(const struct mac *guest, struct mac *ret);

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
