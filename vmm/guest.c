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

void guest_init(struct guest *g, const char *name)
{
	*g = (struct guest){ .memory_mib = 512, .vcpus = 1, .accel = GUEST_ACCEL_AUTO, .queues = 1,
			     .autostart = true };
	snprintf(g->name, sizeof(g->name), "%s", name);
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

int guest_disk_parse(struct guest *g, const char *spec, char *err, size_t errlen)
{
	_cleanup_free_ char *copy = strdup(spec);
	char *save = NULL, *tok;

	if (!copy)
		return -ENOMEM;
	tok = strtok_r(copy, ",", &save);
	if (!tok || copy_path(g->disk, tok) < 0) {
		snprintf(err, errlen, "invalid disk '%s': expected PATH[,format=raw|qcow2][,cache=MODE]", spec);
		return -EINVAL;
	}
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (!strncmp(tok, "format=", 7) && (int)(g->disk_format = disk_format_from_string(tok + 7)) >= 0)
			continue;
		if (!strncmp(tok, "cache=", 6) && (int)(g->disk_cache = disk_cache_from_string(tok + 6)) >= 0)
			continue;
		snprintf(err, errlen,
			 "invalid disk option '%s': expected format=raw|qcow2 or "
			 "cache=none|writeback|writethrough|directsync|unsafe",
			 tok);
		return -EINVAL;
	}
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
		{ "--disk", offsetof(struct guest, disk) },
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
	if (g->queues < 1 || g->queues > GUEST_QUEUES_MAX)
		return schema_error(err, errlen, "queues %u is out of range (1..%d)", g->queues, GUEST_QUEUES_MAX);
	if (!!g->kernel[0] == !!g->disk[0])
		return schema_error(err, errlen, "guest '%s' needs exactly one boot source: --kernel PATH or --disk PATH",
			    g->name);
	if (!g->kernel[0] && (g->initrd[0] || g->append[0]))
		return schema_error(err, errlen, "--initrd and --append need --kernel");
	if (guest_tune_validate(g, err, errlen) < 0)
		return -EINVAL;
	for (size_t i = 0; i < g->n_nics; i++) {
		if (g->nics[i].has_mac && !guest_mac_valid(&g->nics[i].mac, &why))
			return schema_error(err, errlen, "invalid MAC %s for NIC %zu: %s",
				    mac_format(&g->nics[i].mac, m, sizeof(m)), i, why);
	}
	return 0;
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
