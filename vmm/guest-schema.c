/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest's settings, one row each: [guest] holds the machine, [nic0] .. [nic7] one NIC each. The
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

/* The request's and the command line's --disk PATH[,format=..][,cache=..]: three keys of the file. */
static int parse_disk_spec(void *obj, const char *v, char *err, size_t errlen)
{
	return guest_disk_parse(obj, v, err, errlen);
}

static int parse_disk_format(void *obj, const char *v, char *err, size_t errlen)
{
	G(obj);

	g->disk_format = disk_format_from_string(v);
	return (int)g->disk_format < 0 ? invalid(err, errlen, "disk format", v, "expected raw or qcow2") : 0;
}

static int format_disk_format(const void *obj, size_t i, char *buf, size_t size)
{
	CG(obj);

	return g->disk[0] ? fmt(buf, size, disk_format_to_string(g->disk_format)) : 0;
}

static int parse_disk_cache(void *obj, const char *v, char *err, size_t errlen)
{
	G(obj);

	g->disk_cache = disk_cache_from_string(v);
	return (int)g->disk_cache < 0 ?
		       invalid(err, errlen, "disk cache", v,
			       "expected none, writeback, writethrough, directsync or unsafe") :
		       0;
}

static int format_disk_cache(const void *obj, size_t i, char *buf, size_t size)
{
	CG(obj);

	return g->disk[0] ? fmt(buf, size, disk_cache_to_string(g->disk_cache)) : 0;
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
	{ .key = "kernel", .json = "kernel", .flag = "kernel", .metavar = "PATH", .label = "--kernel",
	  SCHEMA_STRING_AT(struct guest, kernel) },
	{ .key = "initrd", .json = "initrd", .flag = "initrd", .metavar = "PATH", .label = "--initrd",
	  SCHEMA_STRING_AT(struct guest, initrd) },
	{ .key = "append", .json = "append", .flag = "append", .metavar = "ARGS", .label = "--append",
	  SCHEMA_STRING_AT(struct guest, append) },
	{ .key = "disk", .label = "--disk", SCHEMA_STRING_AT(struct guest, disk) },
	{ .json = "disk", .flag = "disk", .metavar = "PATH[,format=raw|qcow2][,cache=MODE]",
	  .label = "--disk", .parse = parse_disk_spec },
	{ .key = "disk-format", .label = "disk format", .parse = parse_disk_format,
	  .format = format_disk_format },
	{ .key = "disk-cache", .label = "disk cache", .parse = parse_disk_cache,
	  .format = format_disk_cache },
	{ .key = "cdrom", .json = "cdrom", .flag = "cdrom", .metavar = "ISO", .label = "--cdrom",
	  SCHEMA_STRING_AT(struct guest, cdrom) },
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
	{ .key = "owner", .label = "owner", .parse = parse_owner, .format = format_owner },
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
	{ .key = "security", .json = "nic_security", .flag = "nic-security", .metavar = "on|off",
	  .label = "--nic-security", .def = "on", .flags = SCHEMA_ALL_ITEMS | SCHEMA_OMIT_DEFAULT,
	  .parse = parse_nic_security, .format = format_nic_security },
	/* clang-format on */
};

static const struct schema_section guest_sections[] = {
	{ "guest", guest_fields, ELEMENTSOF(guest_fields) },
	{ "nic", nic_fields, ELEMENTSOF(nic_fields), GUEST_NICS_MAX, nic_item, nic_count },
};

const struct schema guest_schema = { "guest", guest_sections, ELEMENTSOF(guest_sections) };
