/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * [guest] holds the machine, [nic0] .. [nic7] one NIC each (network, optional pinned mac).
 * Keys are a table: (section, key, parser, renderer).
 */
#include "guest-config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inifile.h"
#include "macro.h"

static int parse_bool(const char *v, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (!strcmp(v, yes[i]) || !strcmp(v, no[i])) {
			*ret = !strcmp(v, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_uint(const char *v, unsigned max, unsigned *ret)
{
	char *end;
	unsigned long u;

	errno = 0;
	u = strtoul(v, &end, 10);
	if (errno || *end || !*v || v[0] == '-' || u > max)
		return -ERANGE;
	*ret = u;
	return 0;
}

static int path_set(char *dst, const char *v)
{
	if (strlen(v) >= GUEST_PATH_MAX)
		return -ENAMETOOLONG;
	snprintf(dst, GUEST_PATH_MAX, "%s", v);
	return 0;
}

typedef int (*guest_key_parser)(struct guest *g, const char *v);

static int p_memory(struct guest *g, const char *v)
{
	return guest_memory_parse(v, &g->memory_mib);
}
static int p_vcpus(struct guest *g, const char *v)
{
	return parse_uint(v, 1024, &g->vcpus);
}
static int p_kernel(struct guest *g, const char *v)
{
	return path_set(g->kernel, v);
}
static int p_initrd(struct guest *g, const char *v)
{
	return path_set(g->initrd, v);
}
static int p_append(struct guest *g, const char *v)
{
	return path_set(g->append, v);
}
static int p_disk(struct guest *g, const char *v)
{
	return path_set(g->disk, v);
}
static int p_disk_format(struct guest *g, const char *v)
{
	g->disk_format = disk_format_from_string(v);
	return (int)g->disk_format < 0 ? -EINVAL : 0;
}
static int p_disk_cache(struct guest *g, const char *v)
{
	g->disk_cache = disk_cache_from_string(v);
	return (int)g->disk_cache < 0 ? -EINVAL : 0;
}
static int p_cdrom(struct guest *g, const char *v)
{
	return path_set(g->cdrom, v);
}
static int p_accel(struct guest *g, const char *v)
{
	g->accel = guest_accel_from_string(v);
	return (int)g->accel < 0 ? -EINVAL : 0;
}
static int p_vnc(struct guest *g, const char *v)
{
	return guest_vnc_parse(v, g->vnc, sizeof(g->vnc));
}
static int p_queues(struct guest *g, const char *v)
{
	return parse_uint(v, 1024, &g->queues);
}
static int p_owner(struct guest *g, const char *v)
{
	unsigned long u;
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	u = strtoul(v, &end, 10);
	if (errno || *end || u >= UINT32_MAX || (v[0] == '0' && v[1]))
		return -ERANGE;
	g->owner = u;
	g->has_owner = true;
	return 0;
}

static int p_autostart(struct guest *g, const char *v)
{
	return parse_bool(v, &g->autostart);
}

static const struct {
	const char *key;
	guest_key_parser parse;
} guest_keys[] = {
	{ "memory", p_memory },	      { "vcpus", p_vcpus },	      { "kernel", p_kernel },
	{ "initrd", p_initrd },	      { "append", p_append },	      { "disk", p_disk },
	{ "disk-format", p_disk_format }, { "disk-cache", p_disk_cache }, { "cdrom", p_cdrom },
	{ "accel", p_accel },	      { "vnc", p_vnc },		      { "queues", p_queues },
	{ "autostart", p_autostart }, { "owner", p_owner },
};

typedef int (*nic_key_parser)(struct guest_nic *n, const char *v);

static int n_network(struct guest_nic *n, const char *v)
{
	if (!object_name_valid(v))
		return -EINVAL;
	snprintf(n->network, sizeof(n->network), "%s", v);
	return 0;
}

static int n_mac(struct guest_nic *n, const char *v)
{
	int r = mac_parse(v, &n->mac);

	n->has_mac = r >= 0;
	return r;
}

static int n_security(struct guest_nic *n, const char *v)
{
	bool on;
	int r = parse_bool(v, &on);

	n->security_off = r >= 0 && !on;
	return r;
}

static const struct {
	const char *key;
	nic_key_parser parse;
} nic_keys[] = {
	{ "network", n_network },
	{ "mac", n_mac },
	{ "security", n_security },
};

struct parse_ctx {
	struct guest *g;
	struct inifile file;
	char *err;
	size_t errlen;
	int r;
};

/* "nic0".."nic7" -> index, or -1. */
static int nic_section(const char *section)
{
	if (strncmp(section, "nic", 3) || strlen(section) != 4 || section[3] < '0' ||
	    section[3] >= '0' + GUEST_NICS_MAX)
		return -1;
	return section[3] - '0';
}

/* Unknown keys first (-ENOKEY), then values the definition file cannot hold (why: -EINVAL). */
static int handle_nic(struct parse_ctx *c, int idx, const char *key, const char *value, const char *why)
{
	for (size_t i = 0; i < ELEMENTSOF(nic_keys); i++) {
		if (strcmp(key, nic_keys[i].key))
			continue;
		if (why)
			return -EINVAL;
		if ((size_t)idx >= c->g->n_nics)
			c->g->n_nics = idx + 1;
		return nic_keys[i].parse(&c->g->nics[idx], value);
	}
	return -ENOKEY;
}

static int handle_guest(struct parse_ctx *c, const char *key, const char *value, const char *why)
{
	for (size_t i = 0; i < ELEMENTSOF(guest_keys); i++)
		if (!strcmp(key, guest_keys[i].key))
			return why ? -EINVAL : guest_keys[i].parse(c->g, value);
	return -ENOKEY;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse_ctx *c = user;
	int idx = nic_section(section), r;
	/* What netd writes reads back unchanged; a hand-written value is held to the same rules
	 * ("kernel = ;x" reads as "", "kernel =;x" as ";x": both refused). */
	const char *why = inifile_value_invalid_reason(value);
	char e[256];

	if (c->r < 0)
		return 0;
	if (!strcmp(section, "guest"))
		r = handle_guest(c, key, value, why);
	else if (idx >= 0)
		r = handle_nic(c, idx, key, value, why);
	else
		r = -ENOKEY;
	if (r == -ENOKEY)
		snprintf(c->err, c->errlen, "unknown key '%s' in section [%s]", key, section);
	else if (r < 0)
		snprintf(c->err, c->errlen, "invalid value '%s' for '%s'%s%s",
			 text_escape(value, e, sizeof(e)), key, why ? ": " : "", why ?: "");
	c->r = r < 0 ? r : 0;
	return r >= 0;
}

int guest_config_parse(const char *name, const char *text, struct guest *ret, char *err, size_t errlen)
{
	_cleanup_free_ struct guest *g = malloc(sizeof(*g));
	char msg[256] = "";
	struct parse_ctx c = { .err = msg, .errlen = sizeof(msg) };
	int line;

	if (!g)
		return -ENOMEM;
	c.g = g;
	guest_init(g, name);
	line = inifile_parse(&c.file, text, handler, &c);
	if (line != 0) {
		if (c.file.too_long)
			snprintf(msg, sizeof(msg), "longer than %d characters", INIFILE_LINE_MAX);
		snprintf(err, errlen, "line %d: %s", line, c.r < 0 || c.file.too_long ? msg : "syntax error");
		return c.r < 0 ? (c.r == -ENOKEY ? -EINVAL : c.r) : -EINVAL;
	}
	for (size_t i = 0; i < g->n_nics; i++)
		if (!g->nics[i].network[0]) {
			snprintf(err, errlen, "[nic%zu] has no 'network'", i);
			return -EINVAL;
		}
	*ret = *g;
	return 0;
}

/* A value that would not read back as itself is not written: it fails the render (*bad). */
static void add_line(FILE *f, const char *key, const char *value, bool *bad)
{
	if (!value || !*value)
		return;
	if (inifile_value_invalid_reason(value))
		*bad = true;
	else
		fprintf(f, "%s = %s\n", key, value);
}

char *guest_config_render(const struct guest *g)
{
	char *buf = NULL, m[MAC_STRLEN];
	size_t len = 0;
	bool bad = !object_name_valid(g->name);
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "# netd guest '%s'. Edit, then run 'netdctl reload'; changes apply at its next start.\n[guest]\n", g->name);
	fprintf(f, "memory = %" PRIu64 "M\nvcpus = %u\n", g->memory_mib, g->vcpus);
	add_line(f, "kernel", g->kernel, &bad);
	add_line(f, "initrd", g->initrd, &bad);
	add_line(f, "append", g->append, &bad);
	add_line(f, "disk", g->disk, &bad);
	if (g->disk[0]) {
		add_line(f, "disk-format", disk_format_to_string(g->disk_format), &bad);
		add_line(f, "disk-cache", disk_cache_to_string(g->disk_cache), &bad);
	}
	add_line(f, "cdrom", g->cdrom, &bad);
	add_line(f, "accel", guest_accel_to_string(g->accel), &bad);
	add_line(f, "vnc", g->vnc, &bad);
	fprintf(f, "queues = %u\nautostart = %s\n", g->queues, g->autostart ? "yes" : "no");
	if (g->has_owner)
		fprintf(f, "owner = %u\n", (unsigned)g->owner);
	for (size_t i = 0; i < g->n_nics; i++) {
		bad = bad || !object_name_valid(g->nics[i].network);
		fprintf(f, "\n[nic%zu]\nnetwork = %s\n", i, g->nics[i].network);
		if (g->nics[i].has_mac)
			fprintf(f, "mac = %s\n", mac_format(&g->nics[i].mac, m, sizeof(m)));
		if (g->nics[i].security_off)
			fprintf(f, "security = off\n");
	}
	if (fclose(f) != 0 || bad) {
		free(buf);
		errno = bad ? EINVAL : ENOMEM;
		return NULL;
	}
	return buf;
}
