/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest's settings, one row each: [guest] holds the machine, [nic0] .. [nic7] one NIC each,
 * [disk0] .. [disk7] one disk each. The
 * definition file, the request, netdctl's options and show/--json come from these tables
 * (common/schema.h); a new setting is one row: a typed row for a plain value (SCHEMA_*_AT), parse
 * and format functions for a special one. Values are checked one at a time here; guest_validate()
 * checks what depends on several (one boot source).
 */
#include "guest-schema.h"
#include "guest-tune.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "disk.h"
#include "names.h"

#define G(p) struct guest *g = (p)
#define CG(p) const struct guest *g = (p)

#define fmt schema_format_text

#define invalid schema_invalid

/* ---- [guest] ---- */

static int parse_memory(void *obj, const char *v, char *err, size_t errlen)
{
	G(obj);

	if (guest_memory_parse(v, &g->memory_mib) < 0)
		return invalid(err, errlen, "memory", v, "expected a size like 512M or 2G");
	return 0;
}

static int format_memory(const void *obj, size_t i, char *buf, size_t size)
{
	CG(obj);

	snprintf(buf, size, "%" PRIu64 "M", g->memory_mib);
	return 1;
}

/* 0 (unset) is not written: the maximum is then vcpus, memory. */
static int parse_max_vcpus(void *obj, const char *v, char *err, size_t errlen)
{
	G(obj);

	return schema_parse_uint_range("max-vcpus", v, 1, GUEST_VCPUS_MAX, &g->max_vcpus, err, errlen);
}

static int format_max_vcpus(const void *obj, size_t i, char *buf, size_t size)
{
	CG(obj);

	if (!g->max_vcpus)
		return 0;
	snprintf(buf, size, "%u", g->max_vcpus);
	return 1;
}

static int parse_max_memory(void *obj, const char *v, char *err, size_t errlen)
{
	G(obj);

	if (guest_memory_parse(v, &g->max_memory_mib) < 0 || !g->max_memory_mib)
		return invalid(err, errlen, "max-memory", v, "expected a size like 1G or 2048M");
	return 0;
}

static int format_max_memory(const void *obj, size_t i, char *buf, size_t size)
{
	CG(obj);

	if (!g->max_memory_mib)
		return 0;
	snprintf(buf, size, "%" PRIu64 "M", g->max_memory_mib);
	return 1;
}

/*
 * The single disk of older definitions, in [guest]: disk, disk-format, disk-cache read as disk 0
 * (never written: a definition is written back with [disk0]). A definition that also has [disk0]
 * is refused rather than one of them dropped.
 */
static struct guest_disk *legacy_disk(struct guest *g)
{
	if (g->n_disks == 0) {
		guest_disk_init(&g->disks[0]);
		g->n_disks = 1;
	}
	return &g->disks[0];
}

static int parse_legacy_disk(void *obj, const char *v, char *err, size_t errlen)
{
	struct guest_disk *d = legacy_disk(obj);

	if (d->path[0])
		return schema_error(err, errlen, "disk 0 is given twice ('disk' in [guest] and [disk0])");
	if (strlen(v) >= sizeof(d->path))
		return schema_error(err, errlen, "--disk is too long (at most %zu bytes)",
				    sizeof(d->path) - 1);
	snprintf(d->path, sizeof(d->path), "%s", v);
	d->legacy_keys = true;
	return 0;
}

/* The request's single "disk" of an older netdctl: PATH[,format=..][,cache=..] as disk 0. */
static int parse_legacy_disk_spec(void *obj, const char *v, char *err, size_t errlen)
{
	struct guest_disk *d = legacy_disk(obj);

	if (d->path[0])
		return schema_error(err, errlen, "disk 0 is given twice ('disk' and 'disks')");
	return guest_disk_parse(d, v, err, errlen);
}

static int parse_disk_format(void *obj, const char *v, char *err, size_t errlen)
{
	struct guest_disk *d = obj;

	d->format = disk_format_from_string(v);
	d->format_given = true;
	return (int)d->format < 0 ? invalid(err, errlen, "disk format", v, "expected raw or qcow2") : 0;
}

static int format_disk_format(const void *obj, size_t i, char *buf, size_t size)
{
	const struct guest_disk *d = obj;

	return fmt(buf, size, disk_format_to_string(d->format));
}

static int parse_disk_cache(void *obj, const char *v, char *err, size_t errlen)
{
	struct guest_disk *d = obj;

	d->cache = disk_cache_from_string(v);
	return (int)d->cache < 0 ? invalid(err, errlen, "disk cache", v,
					   "expected none, writeback, writethrough, directsync or unsafe") :
				   0;
}

static int format_disk_cache(const void *obj, size_t i, char *buf, size_t size)
{
	const struct guest_disk *d = obj;

	return fmt(buf, size, disk_cache_to_string(d->cache));
}

/* [guest]'s disk-format / disk-cache next to a [disk0] (read before or after it) are refused as
 * 'disk' is: one of them would be dropped or mixed into the other. */
static int legacy_key(struct guest_disk *d, char *err, size_t errlen)
{
	if (d->path[0] && !d->legacy_keys)
		return schema_error(err, errlen, "disk 0 is given twice ([guest]'s disk keys and [disk0])");
	d->legacy_keys = true;
	return 0;
}

static int parse_legacy_format(void *obj, const char *v, char *err, size_t errlen)
{
	struct guest_disk *d = legacy_disk(obj);

	return legacy_key(d, err, errlen) ?: parse_disk_format(d, v, err, errlen);
}

static int parse_legacy_cache(void *obj, const char *v, char *err, size_t errlen)
{
	struct guest_disk *d = legacy_disk(obj);

	return legacy_key(d, err, errlen) ?: parse_disk_cache(d, v, err, errlen);
}

static int section_key(struct guest_disk *d, char *err, size_t errlen)
{
	if (d->legacy_keys)
		return schema_error(err, errlen, "disk 0 is given twice ([guest]'s disk keys and [disk0])");
	return 0;
}

static int parse_section_format(void *obj, const char *v, char *err, size_t errlen)
{
	return section_key(obj, err, errlen) ?: parse_disk_format(obj, v, err, errlen);
}

static int parse_section_cache(void *obj, const char *v, char *err, size_t errlen)
{
	return section_key(obj, err, errlen) ?: parse_disk_cache(obj, v, err, errlen);
}

static int parse_boot(void *obj, const char *v, char *err, size_t errlen)
{
	G(obj);

	g->boot = guest_boot_from_string(v);
	return (int)g->boot < 0 ? invalid(err, errlen, "--boot", v, "expected cdrom,disk or disk,cdrom") : 0;
}

static int format_boot(const void *obj, size_t i, char *buf, size_t size)
{
	CG(obj);

	return g->boot == GUEST_BOOT_AUTO ? 0 : fmt(buf, size, guest_boot_to_string(g->boot));
}

/* vm.create only: the size of a new qcow2 disk of the pool; never in the file. */
static int parse_disk_size(void *obj, const char *v, char *err, size_t errlen)
{
	G(obj);
	char why[256];

	if (disk_size_parse(v, false, &g->disk_size_new, NULL, why, sizeof(why)) < 0)
		return schema_error(err, errlen, "invalid --disk-size: %s", why);
	return 0;
}

static int parse_accel(void *obj, const char *v, char *err, size_t errlen)
{
	G(obj);
	char e[256];

	g->accel = guest_accel_from_string(v);
	if ((int)g->accel >= 0)
		return 0;
	return schema_error(err, errlen, "unknown accel '%s' (known: auto, kvm, tcg)",
			    text_escape(v, e, sizeof(e)));
}

static int format_accel(const void *obj, size_t i, char *buf, size_t size)
{
	CG(obj);

	return fmt(buf, size, guest_accel_to_string(g->accel));
}

static int parse_vnc(void *obj, const char *v, char *err, size_t errlen)
{
	G(obj);

	if (guest_vnc_parse(v, g->vnc, sizeof(g->vnc)) < 0)
		return invalid(err, errlen, "VNC display", v, "expected [ADDR:]DISPLAY");
	return 0;
}

static int format_vnc(const void *obj, size_t i, char *buf, size_t size)
{
	CG(obj);

	return fmt(buf, size, g->vnc);
}

/* Written by netd only: a uid, without sign or leading zeros. */
static int parse_owner(void *obj, const char *v, char *err, size_t errlen)
{
	G(obj);
	unsigned u;

	if ((v[0] == '0' && v[1]) || schema_parse_uint("owner", v, UINT32_MAX - 1, &u, err, errlen) < 0)
		return invalid(err, errlen, "owner", v, "expected a uid");
	g->owner = u;
	g->has_owner = true;
	return 0;
}

static int format_owner(const void *obj, size_t i, char *buf, size_t size)
{
	CG(obj);

	if (!g->has_owner)
		return 0;
	snprintf(buf, size, "%" PRIu32, g->owner);
	return 1;
}

/* ---- [diskN] ---- */

static void *disk_item(void *obj, size_t i, bool add)
{
	G(obj);

	if (i < g->n_disks)
		return &g->disks[i];
	if (!add || i >= GUEST_DISKS_MAX)
		return NULL;
	for (size_t k = g->n_disks; k <= i; k++)
		guest_disk_init(&g->disks[k]);
	g->n_disks = i + 1; /* the file may skip one: guest_validate() refuses a disk without path */
	return &g->disks[i];
}

static size_t disk_count(const void *obj)
{
	CG(obj);

	return g->n_disks;
}

/* --disk PATH|NAME[,opts]: a new item each */
static int parse_disk_spec(void *obj, const char *v, char *err, size_t errlen)
{
	struct guest_disk *d = obj;

	if (d->path[0])
		return schema_error(err, errlen, "disk 0 is given twice ('disk' and 'disks')");
	return guest_disk_parse(d, v, err, errlen);
}

static int parse_disk_path(void *obj, const char *v, char *err, size_t errlen)
{
	struct guest_disk *d = obj;

	if (d->path[0]) /* the engine refuses a key twice in one section: this was [guest]'s 'disk' */
		return schema_error(err, errlen, "disk 0 is given twice ('disk' in [guest] and [disk0])");
	if (d->legacy_keys)
		return section_key(d, err, errlen);
	if (strlen(v) >= sizeof(d->path))
		return schema_error(err, errlen, "disk path is too long (at most %zu bytes)",
				    sizeof(d->path) - 1);
	snprintf(d->path, sizeof(d->path), "%s", v);
	return 0;
}

static int format_disk_path(const void *obj, size_t i, char *buf, size_t size)
{
	const struct guest_disk *d = obj;

	return fmt(buf, size, d->path);
}

static int parse_disk_bus(void *obj, const char *v, char *err, size_t errlen)
{
	struct guest_disk *d = obj;

	d->bus = disk_bus_from_string(v);
	return (int)d->bus < 0 ? invalid(err, errlen, "disk bus", v, "expected virtio, scsi or sata") : 0;
}

static int format_disk_bus(const void *obj, size_t i, char *buf, size_t size)
{
	const struct guest_disk *d = obj;

	return fmt(buf, size, disk_bus_to_string(d->bus));
}

/* Identity (a dump's, for vm define; never in a definition file): QEMU's -uuid. */
static int parse_uuid(void *obj, const char *v, char *err, size_t errlen)
{
	G(obj);

	if (!guest_uuid_valid(v))
		return invalid(err, errlen, "uuid", v, "expected 8-4-4-4-12 lowercase hex digits");
	snprintf(g->uuid, sizeof(g->uuid), "%s", v);
	return 0;
}

static int format_uuid(const void *obj, size_t i, char *buf, size_t size)
{
	CG(obj);

	return fmt(buf, size, g->uuid);
}

/* ---- [nicN] ---- */

static void *nic_item(void *obj, size_t i, bool add)
{
	G(obj);

	if (i < g->n_nics)
		return &g->nics[i];
	if (!add || i >= GUEST_NICS_MAX)
		return NULL;
	g->n_nics = i + 1; /* the file may skip one: guest_config_parse() refuses a NIC without network */
	return &g->nics[i];
}

static size_t nic_count(const void *obj)
{
	CG(obj);

	return g->n_nics;
}

static int parse_nic_mac(void *obj, const char *v, char *err, size_t errlen)
{
	struct guest_nic *n = obj;

	if (mac_parse(v, &n->mac) < 0)
		return invalid(err, errlen, "MAC", v, "expected six hex pairs like 52:54:00:12:34:56");
	n->has_mac = true;
	return 0;
}

static int format_nic_mac(const void *obj, size_t i, char *buf, size_t size)
{
	const struct guest_nic *n = obj;

	return n->has_mac ? fmt(buf, size, mac_format(&n->mac, buf, size)) : 0;
}

static int parse_nic_generated_mac(void *obj, const char *v, char *err, size_t errlen)
{
	struct guest_nic *n = obj;

	if (mac_parse(v, &n->generated_mac) < 0)
		return invalid(err, errlen, "generated-mac", v,
			       "expected six hex pairs like 52:54:00:12:34:56");
	n->has_generated_mac = true;
	return 0;
}

static int format_nic_generated_mac(const void *obj, size_t i, char *buf, size_t size)
{
	const struct guest_nic *n = obj;

	return n->has_generated_mac ? fmt(buf, size, mac_format(&n->generated_mac, buf, size)) : 0;
}

static int parse_nic_security(void *obj, const char *v, char *err, size_t errlen)
{
	struct guest_nic *n = obj;
	bool on;

	if (schema_parse_bool("--nic-security", v, &on, err, errlen) < 0)
		return invalid(err, errlen, "--nic-security", v, "expected on or off");
	n->security_off = !on;
	return 0;
}

static int format_nic_security(const void *obj, size_t i, char *buf, size_t size)
{
	const struct guest_nic *n = obj;

	return fmt(buf, size, n->security_off ? "off" : "on");
}

/* In the order the file is written and --help lists the options. */
static const struct schema_field guest_fields[] = {
	/* clang-format off */
	{ .key = "memory", .json = "memory", .flag = "memory", .metavar = "512M", .label = "memory",
	  .parse = parse_memory, .format = format_memory },
	{ .key = "vcpus", .json = "vcpus", .flag = "vcpus", .metavar = "N", .label = "vcpus",
	  .flags = SCHEMA_SHOW, SCHEMA_UINT_AT(struct guest, vcpus), .min = 1, .max = GUEST_VCPUS_MAX },
	{ .key = "max-vcpus", .json = "max_vcpus", .flag = "max-vcpus", .metavar = "N", .label = "max-vcpus",
	  .type = SCHEMA_UINT, .parse = parse_max_vcpus, .format = format_max_vcpus },
	{ .key = "max-memory", .json = "max_memory", .flag = "max-memory", .metavar = "SIZE",
	  .label = "max-memory", .parse = parse_max_memory, .format = format_max_memory },
	{ .key = "kernel", .json = "kernel", .flag = "kernel", .metavar = "PATH", .label = "--kernel",
	  SCHEMA_STRING_AT(struct guest, kernel) },
	{ .key = "initrd", .json = "initrd", .flag = "initrd", .metavar = "PATH", .label = "--initrd",
	  SCHEMA_STRING_AT(struct guest, initrd) },
	{ .key = "append", .json = "append", .flag = "append", .metavar = "ARGS", .label = "--append",
	  SCHEMA_STRING_AT(struct guest, append) },
	{ .key = "disk", .label = "--disk", .parse = parse_legacy_disk },
	{ .json = "disk", .label = "--disk", .parse = parse_legacy_disk_spec },
	{ .key = "disk-format", .label = "disk format", .parse = parse_legacy_format },
	{ .key = "disk-cache", .label = "disk cache", .parse = parse_legacy_cache },
	{ .json = "disk_size", .flag = "disk-size", .metavar = "SIZE", .label = "--disk-size",
	  .parse = parse_disk_size },
	{ .key = "cdrom", .json = "cdrom", .flag = "cdrom", .metavar = "ISO", .label = "--cdrom",
	  SCHEMA_STRING_AT(struct guest, cdrom) },
	{ .key = "boot", .json = "boot", .flag = "boot", .metavar = "cdrom,disk|disk,cdrom", .label = "--boot",
	  .parse = parse_boot, .format = format_boot },
	{ .key = "accel", .json = "accel", .flag = "accel", .metavar = "auto|kvm|tcg", .label = "accel",
	  .flags = SCHEMA_SHOW, .parse = parse_accel, .format = format_accel },
	{ .key = "vnc", .json = "vnc", .flag = "vnc", .metavar = "[ADDR:]DISPLAY", .label = "VNC display",
	  .parse = parse_vnc, .format = format_vnc },
	{ .key = "queues", .json = "queues", .flag = "queues", .metavar = "N", .label = "queues",
	  SCHEMA_UINT_AT(struct guest, queues), .min = 1, .max = GUEST_QUEUES_MAX },
	{ .key = "autostart", .json = "autostart", .flag = "no-autostart", .flag_value = "no",
	  .label = "autostart", .flags = SCHEMA_SHOW, SCHEMA_BOOL_AT(struct guest, autostart) },
	{ .key = "cpu", .json = "cpu", .flag = "cpu", .metavar = "host|MODEL", .label = "--cpu",
	  SCHEMA_STRING_AT(struct guest, cpu), .check = guest_cpu_model_invalid_reason },
	{ .key = "vcpu-pin", .json = "vcpu_pin", .flag = "vcpu-pin", .metavar = "VCPU:CPU,...",
	  .label = "--vcpu-pin", SCHEMA_STRING_AT(struct guest, vcpu_pin), .check = guest_vcpu_pin_invalid_reason },
	{ .key = "emulator-pin", .json = "emulator_pin", .flag = "emulator-pin", .metavar = "CPUS",
	  .label = "--emulator-pin", SCHEMA_STRING_AT(struct guest, emulator_pin),
	  .check = guest_cpulist_invalid_reason },
	{ .key = "hugepages", .json = "hugepages", .flag = "hugepages", .flag_value = "yes", .label = "hugepages",
	  .def = "no", .flags = SCHEMA_OMIT_DEFAULT, SCHEMA_BOOL_AT(struct guest, hugepages) },
	{ .key = "io-threads", .json = "io_threads", .flag = "io-threads", .metavar = "N", .label = "--io-threads",
	  .flags = SCHEMA_ZERO_UNSET, SCHEMA_UINT_AT(struct guest, io_threads), .max = GUEST_IO_THREADS_MAX },
	{ .key = "cloud-init", .label = "cloud-init", .def = "no", .flags = SCHEMA_OMIT_DEFAULT,
	  SCHEMA_BOOL_AT(struct guest, cloud_init) },
	{ .key = "owner", .label = "owner", .parse = parse_owner, .format = format_owner },
	/* Identity: in a dump and vm define's file only (netd keeps it in the state dir). */
	{ .key = "uuid", .label = "uuid", .parse = parse_uuid, .format = format_uuid },
	/* clang-format on */
};

/* A request's networks[i] and macs[i] are NIC i's; its one nic_security is every NIC's. */
static const struct schema_field nic_fields[] = {
	/* clang-format off */
	{ .key = "network", .json = "networks", .flag = "network", .metavar = "NET", .label = "network name",
	  .flags = SCHEMA_PER_ITEM | SCHEMA_ADDS_ITEM | SCHEMA_REQUIRED,
	  SCHEMA_STRING_AT(struct guest_nic, network), .check = object_name_invalid_reason },
	{ .key = "mac", .json = "macs", .flag = "mac", .metavar = "MAC", .label = "MAC",
	  .flags = SCHEMA_PER_ITEM, .parse = parse_nic_mac, .format = format_nic_mac },
	/* Identity: in a dump and vm define's file only (netd keeps it in the state dir). */
	{ .key = "generated-mac", .label = "generated-mac", .parse = parse_nic_generated_mac,
	  .format = format_nic_generated_mac },
	{ .key = "security", .json = "nic_security", .flag = "nic-security", .metavar = "on|off",
	  .label = "--nic-security", .def = "on", .flags = SCHEMA_ALL_ITEMS | SCHEMA_OMIT_DEFAULT,
	  .parse = parse_nic_security, .format = format_nic_security },
	/* clang-format on */
};

/* A request's disks[i] is disk i's --disk spec; the file has one key per setting. */
static const struct schema_field disk_fields[] = {
	/* clang-format off */
	{ .json = "disks", .flag = "disk",
	  .metavar = "PATH|NAME[,format=raw|qcow2][,cache=MODE][,bus=virtio|scsi|sata][,readonly]",
	  .label = "disks", .flags = SCHEMA_PER_ITEM | SCHEMA_ADDS_ITEM, .parse = parse_disk_spec },
	{ .key = "path", .label = "disk path", .parse = parse_disk_path, .format = format_disk_path },
	{ .key = "format", .label = "disk format", .parse = parse_section_format, .format = format_disk_format },
	{ .key = "cache", .label = "disk cache", .parse = parse_section_cache, .format = format_disk_cache },
	{ .key = "bus", .label = "disk bus", .parse = parse_disk_bus, .format = format_disk_bus },
	{ .key = "readonly", .label = "readonly", .def = "no", .flags = SCHEMA_OMIT_DEFAULT,
	  SCHEMA_BOOL_AT(struct guest_disk, readonly) },
	/* clang-format on */
};

static const struct schema_section guest_sections[] = {
	{ "guest", guest_fields, ELEMENTSOF(guest_fields) },
	{ "nic", nic_fields, ELEMENTSOF(nic_fields), GUEST_NICS_MAX, nic_item, nic_count },
	{ "disk", disk_fields, ELEMENTSOF(disk_fields), GUEST_DISKS_MAX, disk_item, disk_count },
};

const struct schema guest_schema = { "guest", guest_sections, ELEMENTSOF(guest_sections) };
