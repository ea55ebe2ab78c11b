/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "guest.h"
#include "guest-tune.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inifile.h"
#include "macro.h"
#include "schema.h"

static const char *const accel_names[_GUEST_ACCEL_MAX] = {
	[GUEST_ACCEL_AUTO] = "auto", [GUEST_ACCEL_KVM] = "kvm", [GUEST_ACCEL_TCG] = "tcg",
};
static const char *const format_names[_DISK_FORMAT_MAX] = {
	[DISK_FORMAT_RAW] = "raw", [DISK_FORMAT_QCOW2] = "qcow2",
};
static const char *const cache_names[_DISK_CACHE_MAX] = {
	[DISK_CACHE_NONE] = "none",		[DISK_CACHE_WRITEBACK] = "writeback",
	[DISK_CACHE_WRITETHROUGH] = "writethrough", [DISK_CACHE_DIRECTSYNC] = "directsync",
	[DISK_CACHE_UNSAFE] = "unsafe",
};

static const char *const bus_names[_DISK_BUS_MAX] = {
	[DISK_BUS_VIRTIO] = "virtio",
	[DISK_BUS_SCSI] = "scsi",
	[DISK_BUS_SATA] = "sata",
};
static const char *const boot_names[_GUEST_BOOT_MAX] = {
	[GUEST_BOOT_AUTO] = "auto",
	[GUEST_BOOT_CDROM_DISK] = "cdrom,disk",
	[GUEST_BOOT_DISK_CDROM] = "disk,cdrom",
};

static int lookup(const char *const *table, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (!strcmp(table[i], s))
			return i;
	return -1;
}

const char *guest_accel_to_string(enum guest_accel a)
{
	return a >= 0 && a < _GUEST_ACCEL_MAX ? accel_names[a] : NULL;
}

enum guest_accel guest_accel_from_string(const char *s)
{
	return lookup(accel_names, _GUEST_ACCEL_MAX, s);
}

const char *disk_format_to_string(enum disk_format f)
{
	return f >= 0 && f < _DISK_FORMAT_MAX ? format_names[f] : NULL;
}

enum disk_format disk_format_from_string(const char *s)
{
	return lookup(format_names, _DISK_FORMAT_MAX, s);
}

const char *disk_cache_to_string(enum disk_cache c)
{
	return c >= 0 && c < _DISK_CACHE_MAX ? cache_names[c] : NULL;
}

enum disk_cache disk_cache_from_string(const char *s)
{
	return lookup(cache_names, _DISK_CACHE_MAX, s);
}

const char *disk_bus_to_string(enum disk_bus b)
{
	return b >= 0 && b < _DISK_BUS_MAX ? bus_names[b] : NULL;
}

enum disk_bus disk_bus_from_string(const char *s)
{
	return lookup(bus_names, _DISK_BUS_MAX, s);
}

const char *guest_boot_to_string(enum guest_boot b)
{
	return b >= 0 && b < _GUEST_BOOT_MAX ? boot_names[b] : NULL;
}

enum guest_boot guest_boot_from_string(const char *s)
{
	return lookup(boot_names, _GUEST_BOOT_MAX, s);
}

void guest_init(struct guest *g, const char *name)
{
	*g = (struct guest){ .memory_mib = 512, .vcpus = 1, .accel = GUEST_ACCEL_AUTO, .queues = 1,
			     .autostart = true };
	snprintf(g->name, sizeof(g->name), "%s", name);
}

unsigned guest_max_vcpus(const struct guest *g)
{
	return g->max_vcpus > g->vcpus ? g->max_vcpus : g->vcpus;
}

uint64_t guest_max_memory_mib(const struct guest *g)
{
	return g->max_memory_mib > g->memory_mib ? g->max_memory_mib : g->memory_mib;
}

uint64_t guest_balloon_floor_mib(const struct guest *g)
{
	uint64_t eighth = guest_max_memory_mib(g) / 8;

	return eighth > GUEST_MEMORY_MIN_MIB ? eighth : GUEST_MEMORY_MIN_MIB;
}

int guest_balloon_check(const struct guest *g, uint64_t mib, char *err, size_t errlen)
{
	uint64_t max = guest_max_memory_mib(g), floor = guest_balloon_floor_mib(g);

	if (!g->max_memory_mib)
		return schema_error(err, errlen,
				    "guest '%s' has no balloon (it was made without --max-memory): its "
				    "memory changes with --config and a restart",
				    g->name);
	if (mib > max)
		return schema_error(err, errlen,
				    "memory %" PRIu64 "M is above the guest's maximum of %" PRIu64
				    "M (--max-memory: the memory QEMU gave it at start)",
				    mib, max);
	if (mib < floor)
		return schema_error(
			err, errlen,
			"memory %" PRIu64 "M is below the balloon's floor of %" PRIu64
			"M (an eighth of --max-memory, at least %dM: a guest left less cannot run its "
			"kernel)",
			mib, floor, GUEST_MEMORY_MIN_MIB);
	return 0;
}

int guest_memory_parse(const char *s, uint64_t *ret_mib)
{
	static const struct {
		const char *suffix;
		uint64_t mib;
	} units[] = { { "", 1 }, { "M", 1 }, { "MiB", 1 }, { "G", 1024 }, { "GiB", 1024 } };
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (v > UINT64_MAX / units[i].mib / 2)
			return -ERANGE;
		*ret_mib = v * units[i].mib;
		return 0;
	}
	return -EINVAL;
}

static int copy_path(char *dst, const char *src)
{
	if (strlen(src) >= GUEST_PATH_MAX)
		return -ENAMETOOLONG;
	snprintf(dst, GUEST_PATH_MAX, "%s", src);
	return 0;
}

void guest_disk_init(struct guest_disk *d)
{
	*d = (struct guest_disk){ .format = DISK_FORMAT_RAW,
				  .cache = DISK_CACHE_NONE,
				  .bus = DISK_BUS_VIRTIO };
}

/* One option of a --disk spec into d; false when it is not one. */
static bool disk_option(struct guest_disk *d, const char *tok)
{
	if (!strncmp(tok, "format=", 7)) {
		d->format = disk_format_from_string(tok + 7);
		d->format_given = true;
		return (int)d->format >= 0;
	}
	if (!strncmp(tok, "cache=", 6))
		return (int)(d->cache = disk_cache_from_string(tok + 6)) >= 0;
	if (!strncmp(tok, "bus=", 4))
		return (int)(d->bus = disk_bus_from_string(tok + 4)) >= 0;
	if (!strcmp(tok, "readonly") || !strcmp(tok, "readonly=on") || !strcmp(tok, "readonly=yes"))
		return (d->readonly = true);
	return false;
}

int guest_disk_parse(struct guest_disk *ret, const char *spec, char *err, size_t errlen)
{
	_cleanup_free_ char *copy = strdup(spec);
	char *save = NULL, *tok, e[256];
	struct guest_disk d;

	if (!copy)
		return -ENOMEM;
	guest_disk_init(&d);
	tok = strtok_r(copy, ",", &save);
	if (!tok || spec[0] == ',' || copy_path(d.path, tok) < 0)
		return schema_error(
			err, errlen,
			"invalid --disk '%s': expected PATH or NAME[,format=raw|qcow2][,cache=MODE]"
			"[,bus=virtio|scsi|sata][,readonly]",
			text_escape(spec, e, sizeof(e)));
	while ((tok = strtok_r(NULL, ",", &save)))
		if (!disk_option(&d, tok))
			return schema_error(
				err, errlen,
				"invalid disk option '%s' in --disk %s: expected format=raw|qcow2, "
				"cache=none|writeback|writethrough|directsync|unsafe, "
				"bus=virtio|scsi|sata or readonly",
				text_escape(tok, e, sizeof(e)), d.path);
	*ret = d;
	return 0;
}

int guest_vnc_parse(const char *s, char *ret, size_t size)
{
	const char *colon = strrchr(s, ':'), *disp = colon ? colon + 1 : s;
	char *end;
	long d;

	if (!*disp || strlen(s) >= size || strpbrk(s, ", \t\n="))
		return -EINVAL;
	d = strtol(disp, &end, 10);
	if (*end || d < 0 || d > 99)
		return -EINVAL;
	snprintf(ret, size, "%s", s);
	return 0;
}

static bool mac_taken(const struct mac *m, const struct mac *taken, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (mac_equal(m, &taken[i]))
			return true;
	return false;
}

int guest_mac_generate(const struct mac *taken, size_t n_taken, int (*rand_bytes)(uint8_t *buf, size_t n),
		       struct mac *ret)
{
	struct mac m = { { 0x52, 0x54, 0x00 } };

	for (int tries = 0; tries < 1000; tries++) {
		int r = rand_bytes(m.b + 3, 3);

		if (r < 0)
			return r;
		if (mac_is_zero(&(struct mac){ { 0, 0, 0, m.b[3], m.b[4], m.b[5] } }) ||
		    mac_taken(&m, taken, n_taken))
			continue;
		*ret = m;
		return 0;
	}
	return -EADDRINUSE;
}

bool guest_mac_valid(const struct mac *m, const char **ret_reason)
{
	const char *why = mac_is_zero(m) ? "the all-zero address" :
			  mac_is_multicast(m) ? "a multicast address (first byte odd)" :
			  m->b[0] == 0xfe ? "reserved for the host side of a TAP (first byte fe)" :
					    NULL;

	if (ret_reason)
		*ret_reason = why;
	return !why;
}

void guest_mac_host_side(const struct mac *guest, struct mac *ret)
{
	*ret = *guest;
	ret->b[0] = 0xfe;
}

/*
 * The free-text values: each becomes one "key = value" line of the definition file, which must
 * read back as the same value (no newline starting a [nic1] of its own, no ';' comment cutting it
 * short: see common/inifile.h). The same rules hold for a request and a hand-written file.
 */
static int check_text_values(const struct guest *g, char *err, size_t errlen)
{
	static const struct {
		const char *flag;
		size_t offset;
	} values[] = {
		{ "--kernel", offsetof(struct guest, kernel) },
		{ "--initrd", offsetof(struct guest, initrd) },
		{ "--append", offsetof(struct guest, append) },
		{ "--cdrom", offsetof(struct guest, cdrom) },
		{ "--vnc", offsetof(struct guest, vnc) },
	};

	for (size_t i = 0; i < ELEMENTSOF(values); i++) {
		const char *v = (const char *)g + values[i].offset, *why;
		char e[256];

		if (!*v)
			continue;
		why = inifile_value_invalid_reason(v);
		if (why)
			return schema_error(err, errlen, "invalid %s '%s': %s", values[i].flag,
				    text_escape(v, e, sizeof(e)), why);
	}
	for (size_t i = 0; i < g->n_disks; i++) {
		const char *why = g->disks[i].path[0] ? inifile_value_invalid_reason(g->disks[i].path) : NULL;
		char e[256];

		if (why)
			return schema_error(err, errlen, "invalid --disk '%s': %s",
					    text_escape(g->disks[i].path, e, sizeof(e)), why);
	}
	return 0;
}

/* Paths, buses and the boot order of the disks together. */
static int check_disks(const struct guest *g, char *err, size_t errlen)
{
	size_t sata = g->cdrom[0] ? 1 : 0;

	for (size_t i = 0; i < g->n_disks; i++) {
		const struct guest_disk *d = &g->disks[i];

		if (!d->path[0])
			return schema_error(err, errlen, "disk %zu has no path", i);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(g->disks[k].path, d->path))
				return schema_error(err, errlen, "disk %s is given twice (disks %zu and %zu)",
						    d->path, k, i);
		if (g->cdrom[0] && !strcmp(g->cdrom, d->path))
			return schema_error(err, errlen, "%s is both a disk and the cdrom", d->path);
		if (d->bus == DISK_BUS_SATA && d->readonly)
			return schema_error(
				err, errlen,
				"disk %s: a SATA disk cannot be readonly (QEMU's ide-hd refuses it); "
				"use bus=virtio or bus=scsi",
				d->path);
		if (d->bus == DISK_BUS_SATA && ++sata > GUEST_SATA_PORTS)
			return schema_error(err, errlen,
					    "at most %d SATA drives (the machine's AHCI has %d ports%s)",
					    GUEST_SATA_PORTS - (g->cdrom[0] ? 1 : 0), GUEST_SATA_PORTS,
					    g->cdrom[0] ? ", the cdrom takes one" : "");
	}
	if (g->boot != GUEST_BOOT_AUTO && (!g->cdrom[0] || g->n_disks == 0))
		return schema_error(err, errlen, "--boot %s needs both --cdrom and --disk",
				    guest_boot_to_string(g->boot));
	if (g->boot != GUEST_BOOT_AUTO && g->kernel[0])
		return schema_error(err, errlen, "--boot does not go with --kernel (QEMU boots the kernel)");
	return 0;
}

int guest_validate(const struct guest *g, char *err, size_t errlen)
{
	const char *why = object_name_invalid_reason(g->name);
	char m[MAC_STRLEN];

	if (why)
		return schema_error(err, errlen, "invalid guest name '%s': %s", g->name, why);
	if (check_text_values(g, err, errlen) < 0)
		return -EINVAL;
	if (g->n_nics == 0)
		return schema_error(err, errlen, "guest '%s' has no network (add --network NET)", g->name);
	if (g->memory_mib < GUEST_MEMORY_MIN_MIB || g->memory_mib > GUEST_MEMORY_MAX_MIB)
		return schema_error(err, errlen, "memory %" PRIu64 "M is out of range (%dM..%dG)", g->memory_mib,
			    GUEST_MEMORY_MIN_MIB, GUEST_MEMORY_MAX_MIB / 1024);
	if (g->vcpus < 1 || g->vcpus > GUEST_VCPUS_MAX)
		return schema_error(err, errlen, "vcpus %u is out of range (1..%d)", g->vcpus, GUEST_VCPUS_MAX);
	if (g->max_vcpus && g->max_vcpus < g->vcpus)
		return schema_error(err, errlen,
				    "max-vcpus %u is below vcpus %u (a guest starts with vcpus and may "
				    "grow to max-vcpus)",
				    g->max_vcpus, g->vcpus);
	if (g->max_vcpus > GUEST_VCPUS_MAX)
		return schema_error(err, errlen, "max-vcpus %u is out of range (1..%d)", g->max_vcpus,
				    GUEST_VCPUS_MAX);
	if (g->max_memory_mib && g->max_memory_mib < g->memory_mib)
		return schema_error(err, errlen,
				    "max-memory %" PRIu64 "M is below memory %" PRIu64 "M (memory is "
				    "what the balloon leaves the guest of max-memory)",
				    g->max_memory_mib, g->memory_mib);
	if (g->max_memory_mib > GUEST_MEMORY_MAX_MIB)
		return schema_error(err, errlen, "max-memory %" PRIu64 "M is out of range (..%dG)",
				    g->max_memory_mib, GUEST_MEMORY_MAX_MIB / 1024);
	if (g->max_memory_mib && guest_balloon_check(g, g->memory_mib, err, errlen) < 0)
		return -EINVAL;
	if (g->queues < 1 || g->queues > GUEST_QUEUES_MAX)
		return schema_error(err, errlen, "queues %u is out of range (1..%d)", g->queues, GUEST_QUEUES_MAX);
	if (!g->kernel[0] && !g->n_disks && !g->cdrom[0] && !g->disk_size_new)
		return schema_error(
			err, errlen,
			"guest '%s' needs a boot source: --kernel PATH, --disk PATH or --cdrom ISO", g->name);
	if (g->n_disks > GUEST_DISKS_MAX)
		return schema_error(err, errlen, "at most %d disks", GUEST_DISKS_MAX);
	if (check_disks(g, err, errlen) < 0)
		return -EINVAL;
	if (!g->kernel[0] && (g->initrd[0] || g->append[0]))
		return schema_error(err, errlen, "--initrd and --append need --kernel");
	if (guest_tune_validate(g, err, errlen) < 0)
		return -EINVAL;
	for (size_t i = 0; i < g->n_nics; i++) {
		if (g->nics[i].has_mac && !guest_mac_valid(&g->nics[i].mac, &why))
			return schema_error(err, errlen, "invalid MAC %s for NIC %zu: %s",
				    mac_format(&g->nics[i].mac, m, sizeof(m)), i, why);
		if (g->nics[i].has_generated_mac && g->nics[i].has_mac)
			return schema_error(err, errlen,
					    "[nic%zu] has both 'mac' and 'generated-mac': keep one", i);
		if (g->nics[i].has_generated_mac && !guest_mac_valid(&g->nics[i].generated_mac, &why))
			return schema_error(err, errlen, "invalid generated-mac %s for NIC %zu: %s",
					    mac_format(&g->nics[i].generated_mac, m, sizeof(m)), i, why);
	}
	return 0;
}

bool guest_has_identity(const struct guest *g)
{
	for (size_t i = 0; i < g->n_nics; i++)
		if (g->nics[i].has_generated_mac)
			return true;
	return g->uuid[0];
}

bool guest_uuid_valid(const char *s)
{
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]) || !s[i])
			return false;
	}
	return s[36] == 0;
}

int guest_check_conflicts(const struct guest *g, const struct guest_context *ctx, char *err, size_t errlen)
{
	char m[MAC_STRLEN];

	for (size_t i = 0; i < g->n_nics; i++) {
		const struct guest_nic *nic = &g->nics[i];

		if (!ctx->network_exists(nic->network, ctx->userdata))
			return schema_error(err, errlen, "unknown network '%s' (see 'netdctl network list')", nic->network);
		for (size_t j = 0; j < g->n_nics; j++)
			if (j != i && nic->has_mac && g->nics[j].has_mac && mac_equal(&nic->mac, &g->nics[j].mac))
				return schema_error(err, errlen, "MAC %s is given twice", mac_format(&nic->mac, m, sizeof(m)));
		for (size_t k = 0; k < ctx->n_others; k++) {
			const struct guest *o = ctx->others[k];

			if (!strcmp(o->name, g->name))
				continue;
			for (size_t j = 0; j < o->n_nics; j++)
				if (nic->has_mac && mac_equal(&nic->mac, &o->nics[j].mac) &&
				    !strcmp(nic->network, o->nics[j].network))
					return schema_error(err, errlen, "MAC %s is already used on network '%s' by guest '%s'",
						    mac_format(&nic->mac, m, sizeof(m)), nic->network, o->name);
		}
	}
	return 0;
}

int guest_tap_name(const struct guest *g, size_t idx, bool (*in_use)(const char *name, void *userdata),
		   void *userdata, char *ret, size_t size)
{
	char name[32];

	if (snprintf(name, sizeof(name), "vm-%s-%zu", g->name, idx) <= IFNAME_MAX_LEN && ifname_valid(name) &&
	    !in_use(name, userdata)) {
		snprintf(ret, size, "%s", name);
		return 0;
	}
	for (unsigned n = 0; n < 100000; n++) {
		snprintf(name, sizeof(name), "vnet%u", n);
		if (!in_use(name, userdata)) {
			snprintf(ret, size, "%s", name);
			return 0;
		}
	}
	return -EADDRINUSE;
}
