/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NetworkManager: eth0 managed (/run/NetworkManager/devices/IFINDEX says managed=true) with a
 * keyfile profile. What 1.42 does, measured (tests/netns/test-uplink-nm.sh):
 *   - activating a bridge profile on the live br0 (D-Bus ActivateConnection, nmcli connection up)
 *     is never hitless: NM releases the port, toggles disable_ipv6 (every IPv6 address gone) and
 *     deletes the IPv4 addresses before its DHCP client runs again (5 IPv4 and 197 IPv6 probes of
 *     100 Hz lost, with an instant DHCP server); unmanaging by configuration (unmanaged-devices)
 *     takes the device down;
 *   - 'nmcli device set eth0 managed no' leaves everything in place (no RELEASE), and so does an
 *     NM that is SIGKILLed; an NM that starts "assumes" a device whose state file names a profile
 *     that fits what the device has: it keeps every address and route and renews the lease from
 *     its lease file (0 lost), and leaves a device alone whose state file says managed=false.
 * So, like systemd-networkd's driver, netd never asks NM to reconfigure a live device: it writes
 * the files NM reads when it starts, with NM stopped (SIGSTOP: it overwrites its state files
 * otherwise), then SIGKILLs it and its supervisor (systemd: Restart=on-failure) starts it again.
 *   release    the port's (and the bridge's, if there is one) state file: managed=false;
 *   adopt      netd-BR.nmconnection (the bridge, the port profile's IP configuration) and
 *              netd-BR-port.nmconnection (the port) in /run/NetworkManager/system-connections
 *              (in-memory profiles), the port's lease file copied to the bridge's profile, and
 *              state files that name the new profiles: NM assumes them (0 lost) and renews the
 *              lease on the bridge;
 *   take_back  the state files as they were, netd's /run files gone: NM assumes the port's
 *              profile on the port again;
 *   persist    the same two keyfiles in /etc/NetworkManager/system-connections instead, the port's
 *              profile with autoconnect=false (a boot brings up the bridge);
 *   restore    the keyfiles in /etc as they were.
 * The profiles are keyfiles because the restart reads them from disk; D-Bus would have written the
 * same files. Only keyfile profiles are handled: an ifcfg-rh or in-memory profile is refused with
 * what to do. The device state files are NetworkManager's runtime state, named by ifindex: written
 * directly, never saved for a restore (see netd/DESIGN.md).
 */
#include "mgr-nm.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "mgr.h"
#include "names.h"

#define NM_EXE "/NetworkManager"
#define NM_RESPAWN_MS 5000
#define NM_GROUP_MAX 64
#define NM_KEY_MAX 128

/* ---- keyfiles ---- */

/* One line of a keyfile: the group it is in (the last "[...]" before it), whether it is that
 * header, and for a "key=value" line the key and where the value starts. */
struct kf_line {
	const char *start;
	size_t len; /* without the '\n' */
	char group[NM_GROUP_MAX];
	bool header;
	bool invalid; /* GKeyFile would refuse the file (or a name is longer than netd reads) */
	char key[NM_KEY_MAX];
	const char *value; /* NULL: a blank line or a comment */
	size_t value_len;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool copy_name(char *buf, size_t size, const char *from, size_t n)
{
	if (n >= size)
		return false;
	memcpy(buf, from, n);
	buf[n] = 0;
	return true;
}

/*
 * The next line at *pos as GKeyFile reads it (l->group carries over from the previous one): a
 * '\r' before the '\n' dropped, blanks before anything and after a group's ']' ignored, a key's
 * trailing blanks and a value's leading ones dropped. false at the end.
 */
static bool kf_next(const char **pos, struct kf_line *l)
{
	const char *p = *pos, *end, *s, *e, *eq, *k_end, *close;

	if (!*p)
		return false;
	end = strchrnul(p, '\n');
	*pos = *end ? end + 1 : end;
	*l = (struct kf_line){ .start = p, .len = end - p };
	e = end > p && end[-1] == '\r' ? end - 1 : end;
	for (s = p; s < e && is_space(*s);)
		s++;
	if (s == e || *s == '#')
		return true;
	if (*s == '[') {
		close = memchr(s, ']', e - s);
		l->header = true;
		l->invalid = !close || !copy_name(l->group, sizeof(l->group), s + 1, close - s - 1);
		for (const char *q = close ? close + 1 : e; q < e; q++)
			l->invalid |= *q != ' ' && *q != '\t';
		return true;
	}
	eq = memchr(s, '=', e - s);
	if (!eq) {
		l->invalid = true;
		return true;
	}
	for (k_end = eq; k_end > s && is_space(k_end[-1]);)
		k_end--;
	l->invalid = k_end == s || !copy_name(l->key, sizeof(l->key), s, k_end - s);
	for (l->value = eq + 1; l->value < e && is_space(*l->value);)
		l->value++;
	l->value_len = e - l->value;
	return true;
}

/* Iterate over a keyfile's lines: the group is kept from line to line. */
#define KF_FOREACH(l, text) for (const char *_p = (text); kf_next_keep(&_p, &(l));)

static bool kf_next_keep(const char **pos, struct kf_line *l)
{
	char group[NM_GROUP_MAX];

	memcpy(group, l->group, sizeof(group));
	if (!kf_next(pos, l))
		return false;
	if (!l->header)
		memcpy(l->group, group, sizeof(group));
	return true;
}

int nm_keyfile_get(const char *text, const char *group, const char *key, char *buf, size_t size)
{
	struct kf_line l = {};
	int r = -ENOENT;

	/* The last one counts, as in GKeyFile. */
	KF_FOREACH(l, text)
	{
		if (l.header || !l.value || l.invalid || strcmp(l.group, group) || strcmp(l.key, key))
			continue;
		r = l.value_len >= size ? -ENAMETOOLONG : 0;
		if (r == 0) {
			memcpy(buf, l.value, l.value_len);
			buf[l.value_len] = 0;
		}
	}
	return r;
}

bool nm_device_managed(const char *text)
{
	char v[16];

	return nm_keyfile_get(text, "device", "managed", v, sizeof(v)) == 0 && !strcmp(v, "true");
}

bool nm_uuid_valid(const char *s)
{
	if (strlen(s) != NM_UUID_LEN)
		return false;
	for (size_t i = 0; i < NM_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

const char *nm_profile_invalid_reason(const char *keyfile)
{
	static const char *const port_keys[] = { "master", "controller", "slave-type", "port-type" };
	struct kf_line l = {};
	char v[64];

	KF_FOREACH(l, keyfile)
	{
		if (l.invalid || (l.value && !l.group[0]))
			return "has a line NetworkManager would not read";
	}
	if (nm_keyfile_get(keyfile, "connection", "type", v, sizeof(v)) < 0 ||
	    (strcmp(v, "ethernet") && strcmp(v, "802-3-ethernet")))
		return "is not an ethernet profile";
	for (size_t i = 0; i < ELEMENTSOF(port_keys); i++)
		if (nm_keyfile_get(keyfile, "connection", port_keys[i], v, sizeof(v)) != -ENOENT)
			return "makes the interface a port of another (master=)";
	return NULL;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* The [connection] keys about which profile this is: never copied from the port's profile. */
static const char *const identity_keys[] = { "id",
					     "uuid",
					     "type",
					     "interface-name",
					     "master",
					     "controller",
					     "slave-type",
					     "port-type",
					     "timestamp",
					     "autoconnect-slaves",
					     "autoconnect-ports",
					     NULL };
/* The groups about IP, which go to the bridge. */
static const char *const ip_groups[] = { "ipv4", "ipv6", "proxy", "hostname", NULL };

/* A key's line as GKeyFile reads it back the same: "key=value". A value that ends in '\r' gets one
 * more, since the reader drops a '\r' before the '\n'. */
static void put_line(FILE *f, const struct kf_line *l)
{
	bool cr = l->value_len && l->value[l->value_len - 1] == '\r';

	fprintf(f, "%s=%.*s%s\n", l->key, (int)l->value_len, l->value, cr ? "\r" : "");
}

/* Every key of orig's group, in order (the last of a key counts, as it did there). */
static bool copy_group_lines(FILE *f, const char *orig, const char *group, const char *const *skip_keys,
			     const char *find_key)
{
	struct kf_line l = {};
	bool found = false;

	KF_FOREACH(l, orig)
	{
		if (l.header || !l.value || strcmp(l.group, group) ||
		    (skip_keys && in_list(l.key, skip_keys)))
			continue;
		found |= find_key && !strcmp(l.key, find_key);
		put_line(f, &l);
	}
	return found;
}

static bool has_group(const char *orig, const char *group)
{
	struct kf_line l = {};

	KF_FOREACH(l, orig)
	{
		if (l.header && !strcmp(l.group, group))
			return true;
	}
	return false;
}

static int memstream_done(FILE *f, char **text, char **ret)
{
	if (fclose(f) != 0) {
		free(*text);
		return -ENOMEM;
	}
	*ret = *text;
	return 0;
}

static bool names_valid(const struct nm_names *n)
{
	return ifname_valid(n->port) && ifname_valid(n->bridge) && nm_uuid_valid(n->bridge_uuid) &&
	       nm_uuid_valid(n->port_uuid) &&
	       (!n->metric || (n->metric[0] && strspn(n->metric, "0123456789") == strlen(n->metric)));
}

/* A memory stream for a render of n's keyfiles; NULL with *r set when n is not valid or no memory. */
static FILE *render_open(const struct nm_names *n, char **text, size_t *len, int *r)
{
	FILE *f = NULL;

	*r = !names_valid(n) ? -EINVAL : !(f = open_memstream(text, len)) ? -ENOMEM : 0;
	return f;
}

int nm_render_bridge(const struct nm_names *n, const char *orig, char **ret)
{
	char *text = NULL, mac[MAC_STRLEN];
	size_t len;
	int r;
	FILE *f = render_open(n, &text, &len, &r);

	if (!f)
		return r;
	mac_format(&n->mac, mac, sizeof(mac));
	fprintf(f, "# netd: the bridge %s, with the IP configuration of %s's profile\n", n->bridge, n->port);
	fprintf(f, "[connection]\nid=%s\nuuid=%s\ntype=bridge\ninterface-name=%s\n", n->bridge,
		n->bridge_uuid, n->bridge);
	(void)copy_group_lines(f, orig, "connection", identity_keys, NULL);
	fprintf(f, "\n[ethernet]\ncloned-mac-address=%s\n\n[bridge]\nstp=false\n", mac);
	for (const char *const *g = ip_groups; *g; g++) {
		bool family = !strcmp(*g, "ipv4") || !strcmp(*g, "ipv6");

		if (!has_group(orig, *g) && !(family && n->metric))
			continue;
		fprintf(f, "\n[%s]\n", *g);
		if (!copy_group_lines(f, orig, *g, NULL, "route-metric") && family && n->metric)
			fprintf(f, "route-metric=%s\n", n->metric);
	}
	return memstream_done(f, &text, ret);
}

int nm_render_port(const struct nm_names *n, const char *orig, char **ret)
{
	struct kf_line l = {};
	char *text = NULL, v[16];
	bool copying = false;
	size_t len;
	int r;
	FILE *f = render_open(n, &text, &len, &r);

	if (!f)
		return r;
	fprintf(f, "# netd: %s, a port of the bridge %s\n", n->port, n->bridge);
	fprintf(f,
		"[connection]\nid=%s-port-%s\nuuid=%s\ntype=ethernet\ninterface-name=%s\nmaster=%s\n"
		"slave-type=bridge\n",
		n->bridge, n->port, n->port_uuid, n->port, n->bridge);
	if (nm_keyfile_get(orig, "connection", "autoconnect", v, sizeof(v)) == 0)
		fprintf(f, "autoconnect=%s\n", v);
	KF_FOREACH(l, orig)
	{
		if (l.header) {
			copying = strcmp(l.group, "connection") && !in_list(l.group, ip_groups);
			if (copying)
				fprintf(f, "\n[%s]\n", l.group);
		} else if (copying && l.value)
			put_line(f, &l);
	}
	return memstream_done(f, &text, ret);
}

int nm_render_no_autoconnect(const char *orig, char **ret)
{
	struct kf_line l = {};
	char *text = NULL;
	bool done = false;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -ENOMEM;
	KF_FOREACH(l, orig)
	{
		bool in_connection = !strcmp(l.group, "connection");

		if (in_connection && l.value && !strcmp(l.key, "autoconnect")) {
			if (!done)
				fputs("autoconnect=false\n", f);
			done = true;
			continue;
		}
		fprintf(f, "%.*s\n", (int)l.len, l.start);
		if (in_connection && l.header && !done) {
			fputs("autoconnect=false\n", f);
			done = true;
		}
	}
	if (!done)
		fputs("[connection]\nautoconnect=false\n", f);
	return memstream_done(f, &text, ret);
}

/* ---- the driver ---- */

static char *rel_fmt(const char *fmt, ...) _printf_(1, 2);
static char *rel_fmt(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : p;
}

static char *state_rel(int ifindex)
{
	return rel_fmt("run/NetworkManager/devices/%d", ifindex);
}

static int read_rel(const struct mgr_ctx *c, const char *rel, char **ret)
{
	_cleanup_free_ char *path = mgr_path(c, rel);

	if (!path)
		return -ENOMEM;
	return read_file(path, ret, NULL) < 0 ? -ENOENT : 0;
}

/* A keyfile NetworkManager would load: a regular file of root's that nobody else may write. */
static int read_keyfile(const struct mgr_ctx *c, const char *rel, char **ret)
{
	_cleanup_free_ char *path = mgr_path(c, rel);
	_cleanup_close_ int fd = -1;
	char self[64];
	struct stat st;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	return read_file(self, ret, NULL) < 0 ? -EIO : 0;
}

/* The file names NetworkManager's keyfile plugin skips (backups, editors', packagers'), and any
 * netd would not write into its own state: only these characters. */
static bool keyfile_name_loaded(const char *name)
{
	static const char *const suffixes[] = { "~", ".bak", ".orig", ".rej", ".swp", ".tmp", ".rpm", NULL };
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-+@,:=";
	size_t n = strlen(name);

	if (name[0] == '.' || strstr(name, ".dpkg-") || strstr(name, ".rpm") || strspn(name, chars) != n)
		return false;
	for (const char *const *x = suffixes; *x; x++)
		if (n >= strlen(*x) && !strcmp(name + n - strlen(*x), *x))
			return false;
	return true;
}

/* The keyfiles of dir (below the root) whose [connection] uuid is uuid: how many, the first's path. */
static int find_profiles(const struct mgr_ctx *c, const char *kdir, const char *uuid, char **ret_rel)
{
	_cleanup_free_ char *dir = mgr_path(c, kdir);
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (!dir)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		_cleanup_free_ char *rel = NULL, *text = NULL;
		char v[NM_UUID_LEN + 1];

		if (!keyfile_name_loaded(de->d_name))
			continue;
		rel = rel_fmt("%s/%s", kdir, de->d_name);
		if (!rel) {
			n = -ENOMEM;
			break;
		}
		if (read_keyfile(c, rel, &text) < 0 ||
		    nm_keyfile_get(text, "connection", "uuid", v, sizeof(v)) < 0 || strcasecmp(v, uuid))
			continue;
		if (n++ == 0 && ret_rel)
			*ret_rel = TAKE_PTR(rel);
	}
	closedir(d);
	return n;
}

/*
 * The profile NetworkManager runs on the port: its keyfile's path (below the root) and text, from
 * the port's state file. 0, or the refusal (err says what to do).
 */
static int port_profile(const struct mgr_ctx *c, char **ret_rel, char **ret_text, char *err, size_t errlen)
{
	_cleanup_free_ char *srel = state_rel(c->ifindex), *state = NULL, *rel = NULL, *text = NULL;
	char uuid[NM_UUID_LEN + 1];
	const char *why;
	int r;

	if (!srel)
		return -ENOMEM;
	if (read_rel(c, srel, &state) < 0 ||
	    nm_keyfile_get(state, "device", "connection-uuid", uuid, sizeof(uuid)) < 0 ||
	    !nm_uuid_valid(uuid)) {
		snprintf(err, errlen,
			 "NetworkManager manages '%s' but runs no profile on it; wait until it connected it, "
			 "or make it leave the interface (nmcli device set %s managed no)",
			 c->port, c->port);
		return -EBUSY;
	}
	r = find_profiles(c, NM_RUN_KEYFILE_DIR, uuid, NULL);
	if (r < 0)
		return r;
	if (r > 0) {
		snprintf(
			err, errlen,
			"NetworkManager runs profile %s on '%s' with changes not saved to disk (an in-memory "
			"profile in /%s); save them (nmcli connection modify %s connection.autoconnect yes "
			"writes the profile to /etc), or make it leave the interface (nmcli device set %s "
			"managed no)",
			uuid, c->port, NM_RUN_KEYFILE_DIR, uuid, c->port);
		return -EBUSY;
	}
	r = find_profiles(c, NM_KEYFILE_DIR, uuid, &rel);
	if (r < 0)
		return r;
	if (r == 0) {
		snprintf(err, errlen,
			 "NetworkManager runs profile %s on '%s', which is not a keyfile of /%s (an ifcfg-rh "
			 "profile: nmcli connection migrate %s; a keyfile without a uuid= line: add "
			 "uuid=%s to its [connection] group), or make it leave the interface (nmcli device "
			 "set %s managed no)",
			 uuid, c->port, NM_KEYFILE_DIR, uuid, uuid, c->port);
		return -EBUSY;
	}
	if (r > 1) {
		snprintf(err, errlen,
			 "%d keyfiles of /%s say uuid=%s (the profile NetworkManager runs on '%s'); "
			 "keep one",
			 r, NM_KEYFILE_DIR, uuid, c->port);
		return -EBUSY;
	}
	r = read_keyfile(c, rel, &text);
	if (r < 0)
		return r;
	why = nm_profile_invalid_reason(text);
	if (why) {
		snprintf(err, errlen,
			 "NetworkManager's profile of '%s' (/%s) %s; netd cannot move it onto a bridge",
			 c->port, rel, why);
		return -EINVAL;
	}
	*ret_rel = TAKE_PTR(rel);
	if (ret_text)
		*ret_text = TAKE_PTR(text);
	return 0;
}

static int nm_detect(const struct mgr_ctx *c, char *err, size_t errlen)
{
	_cleanup_free_ char *srel = state_rel(c->ifindex), *state = NULL, *rel = NULL;
	int r;

	if (!srel)
		return -ENOMEM;
	if (read_rel(c, srel, &state) < 0 || !nm_device_managed(state))
		return 0;
	r = port_profile(c, &rel, NULL, err, errlen);
	return r < 0 ? r : 1;
}

static char *save_file(const struct mgr_ctx *c, const char *name)
{
	return rel_fmt("%s/%s", c->save_dir, name);
}

/*
 * What the later steps need once NetworkManager no longer names it, kept at the first release:
 * nm-port (the profile's path and the port's route metric) and nm-port.nmconnection (the profile
 * as it was: every render starts from it, also a persist that runs again).
 */
static int keep_port(const struct mgr_ctx *c, char *err, size_t errlen)
{
	_cleanup_free_ char *kept = save_file(c, "nm-port"), *copy = save_file(c, "nm-port.nmconnection");
	_cleanup_free_ char *rel = NULL, *srel = state_rel(c->ifindex), *state = NULL, *text = NULL,
			    *info = NULL;
	char metric[16] = "";
	int r;

	if (!kept || !copy || !srel)
		return -ENOMEM;
	if (access(kept, F_OK) == 0)
		return 0;
	r = port_profile(c, &rel, &text, err, errlen);
	if (r < 0)
		return r;
	if (read_rel(c, srel, &state) == 0 &&
	    nm_keyfile_get(state, "device", "route-metric-default-effective", metric, sizeof(metric)) == 0 &&
	    (!metric[0] || strspn(metric, "0123456789") != strlen(metric)))
		metric[0] = 0;
	if (asprintf(&info, "%s\n%s\n", rel, metric) < 0)
		return -ENOMEM;
	r = mkdir_p(c->save_dir, 0700);
	if (r >= 0)
		r = write_file_atomic(copy, text, strlen(text), 0600);
	return r < 0 ? r : write_file_atomic(kept, info, strlen(info), 0600);
}

/* What keep_port kept: the profile's path (below the root), the port's metric ("" if unknown),
 * the profile's text and its uuid. */
struct kept_port {
	char *info, *rel, *metric, *text;
	char uuid[NM_UUID_LEN + 1];
};

static void kept_port_done(struct kept_port *k)
{
	free(k->info);
	free(k->text);
}

static int kept_port_read(const struct mgr_ctx *c, struct kept_port *k)
{
	_cleanup_free_ char *kept = save_file(c, "nm-port"), *copy = save_file(c, "nm-port.nmconnection");

	*k = (struct kept_port){};
	if (!kept || !copy)
		return -ENOMEM;
	if (read_file(kept, &k->info, NULL) < 0 || read_file(copy, &k->text, NULL) < 0)
		return -ENOENT;
	k->rel = k->info;
	k->metric = strchr(k->info, '\n');
	if (!k->metric)
		return -EINVAL;
	*k->metric++ = 0;
	k->metric[strcspn(k->metric, "\n")] = 0;
	if (nm_keyfile_get(k->text, "connection", "uuid", k->uuid, sizeof(k->uuid)) < 0 ||
	    !nm_uuid_valid(k->uuid))
		return -EINVAL;
	return 0;
}

/* NetworkManager's state of a device, written directly: it is NetworkManager's own runtime state,
 * which it rewrites as it runs; take_back writes what it needs to assume the port's profile. */
static int write_state(const struct mgr_ctx *c, int ifindex, const char *uuid)
{
	_cleanup_free_ char *rel = state_rel(ifindex), *dir = mgr_path(c, "run/NetworkManager/devices"),
			    *path = NULL;
	char text[128];
	int r;

	if (!rel || !dir || !(path = mgr_path(c, rel)))
		return -ENOMEM;
	if (uuid)
		snprintf(text, sizeof(text), "[device]\nmanaged=true\nconnection-uuid=%s\n", uuid);
	else
		snprintf(text, sizeof(text), "[device]\nmanaged=false\n");
	r = mkdir_p(dir, 0755);
	return r < 0 ? r : write_file_atomic(path, text, strlen(text), 0644);
}

/* While NetworkManager is stopped: it leaves the port and the bridge alone when it starts. */
static int hold(const struct mgr_ctx *c, char *err, size_t errlen)
{
	int bridge = (int)if_nametoindex(c->bridge), r;

	r = write_state(c, c->ifindex, NULL);
	if (r >= 0 && bridge > 0)
		r = write_state(c, bridge, NULL);
	if (r < 0)
		snprintf(err, errlen, "cannot write NetworkManager's device state: %s", strerror(-r));
	return r;
}

static int nm_release(const struct mgr_ctx *c, char *err, size_t errlen)
{
	int r = keep_port(c, err, errlen);

	if (r < 0) {
		if (r == -ENOMEM || !err[0])
			snprintf(err, errlen, "cannot keep NetworkManager's profile of '%s': %s", c->port,
				 strerror(-r));
		return r;
	}
	return mgr_daemon_restart(c, NM_EXE, NULL, hold, NM_RESPAWN_MS, err, errlen);
}

/* While NetworkManager is stopped: netd's in-memory profiles and lease copy gone, the port's
 * state naming its own profile again (the bridge's state goes with the bridge: NetworkManager
 * drops the state of a device that is not there when it starts). */
static int give_back(const struct mgr_ctx *c, char *err, size_t errlen)
{
	struct kept_port k;
	int r = kept_port_read(c, &k);

	if (r >= 0 && c->ifindex > 0)
		r = write_state(c, c->ifindex, k.uuid);
	kept_port_done(&k);
	if (r < 0) {
		snprintf(err, errlen, "cannot write NetworkManager's device state of '%s': %s", c->port,
			 strerror(-r));
		return r;
	}
	return mgr_files_restore(c, MGR_SET_RUNTIME, err, errlen);
}

static int nm_take_back(const struct mgr_ctx *c, char *err, size_t errlen)
{
	_cleanup_free_ char *kept = save_file(c, "nm-port");

	if (!kept)
		return -ENOMEM;
	if (access(kept, F_OK) < 0) /* never released: nothing to give back */
		return mgr_files_restore(c, MGR_SET_RUNTIME, err, errlen);
	return mgr_daemon_restart(c, NM_EXE, NULL, give_back, NM_RESPAWN_MS, err, errlen);
}

/* The uuids of netd's two profiles, made once (a persist that runs again writes the same). */
static int profile_uuids(const struct mgr_ctx *c, char bridge[NM_UUID_LEN + 1], char port[NM_UUID_LEN + 1])
{
	_cleanup_free_ char *kept = save_file(c, "nm-uuids"), *text = NULL;
	int r;

	if (!kept)
		return -ENOMEM;
	if (read_file(kept, &text, NULL) < 0) {
		_cleanup_free_ char *a = NULL, *b = NULL;

		r = mkdir_p(c->save_dir, 0700);
		if (r < 0)
			return r;
		if (read_file("/proc/sys/kernel/random/uuid", &a, NULL) < 0 ||
		    read_file("/proc/sys/kernel/random/uuid", &b, NULL) < 0)
			return -EIO;
		if (asprintf(&text, "%.36s\n%.36s\n", a, b) < 0)
			return -ENOMEM;
		r = write_file_atomic(kept, text, strlen(text), 0600);
		if (r < 0)
			return r;
	}
	if (sscanf(text, "%36s %36s", bridge, port) != 2 || !nm_uuid_valid(bridge) || !nm_uuid_valid(port))
		return -EINVAL;
	return 0;
}

/*
 * netd's profiles of the bridge and the port, rendered from the port's profile as it was at the
 * release: in /run (adopt: NetworkManager loads them as in-memory profiles, gone at a reboot,
 * with the lease copied for the bridge's) or in /etc (persist, with the port's old profile no
 * longer autoconnecting).
 */
static int write_profiles(const struct mgr_ctx *c, bool persistent, char *err, size_t errlen)
{
	_cleanup_free_ char *br = NULL, *port = NULL, *off = NULL, *lease = NULL, *r_br = NULL,
			    *r_port = NULL;
	_cleanup_free_ char *r_lease = NULL, *r_new_lease = NULL, *dir = NULL;
	char bu[NM_UUID_LEN + 1], pu[NM_UUID_LEN + 1];
	const char *set = persistent ? MGR_SET_CONFIG : MGR_SET_RUNTIME;
	const char *kdir = persistent ? NM_KEYFILE_DIR : NM_RUN_KEYFILE_DIR;
	struct nm_names n = {
		.port = c->port, .bridge = c->bridge, .bridge_uuid = bu, .port_uuid = pu, .mac = c->mac
	};
	struct kept_port k;
	int r;

	r = kept_port_read(c, &k);
	if (r < 0) {
		kept_port_done(&k);
		snprintf(err, errlen, "NetworkManager's profile of '%s' was not kept in %s", c->port,
			 c->save_dir);
		return r;
	}
	n.metric = k.metric[0] ? k.metric : NULL;
	r = profile_uuids(c, bu, pu);
	if (r >= 0)
		r = nm_render_bridge(&n, k.text, &br);
	if (r >= 0)
		r = nm_render_port(&n, k.text, &port);
	if (r >= 0)
		r = nm_render_no_autoconnect(k.text, &off);
	if (r >= 0 &&
	    (!(r_br = rel_fmt("%s/" NM_BRIDGE_FMT, kdir, c->bridge)) ||
	     !(r_port = rel_fmt("%s/" NM_PORT_FMT, kdir, c->bridge)) ||
	     !(r_lease = rel_fmt("var/lib/NetworkManager/internal-%s-%s.lease", k.uuid, c->port)) ||
	     !(r_new_lease = rel_fmt("var/lib/NetworkManager/internal-%s-%s.lease", bu, c->bridge)) ||
	     !(dir = mgr_path(c, kdir))))
		r = -ENOMEM;
	if (r >= 0)
		r = mkdir_p(dir, 0755);
	if (r >= 0)
		r = mgr_file_write(c, set, r_br, br, strlen(br), 0600);
	if (r >= 0)
		r = mgr_file_write(c, set, r_port, port, strlen(port), 0600);
	if (r >= 0 && persistent)
		r = mgr_file_write(c, set, k.rel, off, strlen(off), 0600);
	/* The lease: the bridge's DHCP client asks for it again (INIT-REBOOT) rather than anew. */
	if (r >= 0 && !persistent && read_rel(c, r_lease, &lease) == 0)
		r = mgr_file_write(c, MGR_SET_RUNTIME, r_new_lease, lease, strlen(lease), 0644);
	if (r < 0)
		snprintf(err, errlen, "cannot write NetworkManager's profiles for '%s' in /%s: %s", c->bridge,
			 kdir, strerror(-r));
	kept_port_done(&k);
	return r;
}

/* While NetworkManager is stopped: it assumes netd's profiles on the bridge and the port. */
static int assume(const struct mgr_ctx *c, char *err, size_t errlen)
{
	char bu[NM_UUID_LEN + 1], pu[NM_UUID_LEN + 1];
	int bridge = (int)if_nametoindex(c->bridge), r;

	if (bridge <= 0) {
		snprintf(err, errlen, "the bridge '%s' is gone", c->bridge);
		return -ENODEV;
	}
	r = profile_uuids(c, bu, pu);
	if (r >= 0)
		r = write_state(c, bridge, bu);
	if (r >= 0)
		r = write_state(c, c->ifindex, pu);
	if (r < 0)
		snprintf(err, errlen, "cannot write NetworkManager's device state: %s", strerror(-r));
	return r;
}

/* persist's: as assume, and netd's in-memory profiles gone (those in /etc replace them). */
static int assume_persisted(const struct mgr_ctx *c, char *err, size_t errlen)
{
	_cleanup_free_ char *run_br = rel_fmt("%s/" NM_BRIDGE_FMT, NM_RUN_KEYFILE_DIR, c->bridge);
	_cleanup_free_ char *run_port = rel_fmt("%s/" NM_PORT_FMT, NM_RUN_KEYFILE_DIR, c->bridge);
	int r = assume(c, err, errlen);

	if (r < 0)
		return r;
	r = run_br && run_port ? 0 : -ENOMEM;
	if (r >= 0)
		r = mgr_file_remove(c, MGR_SET_RUNTIME, run_br);
	if (r >= 0)
		r = mgr_file_remove(c, MGR_SET_RUNTIME, run_port);
	if (r < 0)
		snprintf(err, errlen, "cannot remove netd's profiles in /%s: %s", NM_RUN_KEYFILE_DIR,
			 strerror(-r));
	return r;
}

static int nm_adopt(const struct mgr_ctx *c, char *err, size_t errlen)
{
	int r = write_profiles(c, false, err, errlen);

	return r < 0 ? r : mgr_daemon_restart(c, NM_EXE, NULL, assume, NM_RESPAWN_MS, err, errlen);
}

static int nm_persist(const struct mgr_ctx *c, char *err, size_t errlen)
{
	int r = write_profiles(c, true, err, errlen);

	return r < 0 ? r : mgr_daemon_restart(c, NM_EXE, NULL, assume_persisted, NM_RESPAWN_MS, err, errlen);
}

static int nm_restore(const struct mgr_ctx *c, char *err, size_t errlen)
{
	return mgr_files_restore(c, MGR_SET_CONFIG, err, errlen);
}

const struct mgr_driver mgr_networkmanager = {
	.name = "NetworkManager",
	.detect = nm_detect,
	.release = nm_release,
	.adopt = nm_adopt,
	.take_back = nm_take_back,
	.persist = nm_persist,
	.restore = nm_restore,
};
