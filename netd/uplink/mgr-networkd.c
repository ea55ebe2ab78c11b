/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd-networkd: eth0 managed (/run/systemd/netif/links/IFINDEX, not "unmanaged"). networkd
 * drops the addresses and routes of a link, and sends its DHCP RELEASE, whenever a reload changes
 * the link's .network (also to Unmanaged=yes, also with KeepConfiguration=yes in the new one:
 * the old one's rules apply to the stop), while a networkd that starts keeps what it finds on a
 * link and renews it (measured, 252). So netd never reloads it: it writes the files, then
 * SIGKILLs networkd (no stop actions run) and lets its supervisor start it again (systemd:
 * Restart=on-failure), which reads them.
 *   release    runtime /run/systemd/network/00-0netd-BR.network: port and bridge Unmanaged=yes;
 *   adopt      /run/systemd/network/00-netd-BR.{netdev,network}, 00-netd-BR-port.network: the
 *              bridge with the port's MAC (the same lease), STP off, forward delay 0, the port's
 *              original .network moved onto it (its DHCP, its IPv6AcceptRA, with the port's DHCP
 *              client identifier), the port Bridge=BR; the hold gone: networkd runs the bridge
 *              and renews the lease there;
 *   take_back  netd's files in /run gone: networkd manages the port again and renews its lease
 *              there;
 *   persist    the same files in /etc/systemd/network, those in /run gone;
 *   restore    the files in /etc gone (the hold of the release that precedes a revert keeps
 *              networkd off both links during the kernel step; take_back then drops it).
 */
#include "mgr-networkd.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "manager.h"
#include "mgr.h"
#include "names.h"
#include "procfs.h"

#define RUN_DIR "run/systemd/network"
#define ETC_DIR "etc/systemd/network"
/* The next step (a rollback's kernel step) waits for the restarted networkd: one that came up
 * after it would create the bridge again from a .netdev still there. */
#define NETWORKD_RESPAWN_MS 5000

/* ---- pure ---- */

const char *networkd_names_invalid_reason(const char *port, const char *bridge)
{
	if (!ifname_valid(port) || !ifname_valid(bridge))
		return "is not a valid interface name";
	/* networkd's Name= is a list of globs: none of these characters is one. */
	if (strpbrk(port, "*?[]!") || strpbrk(bridge, "*?[]!"))
		return "has a glob character";
	return NULL;
}

static int render(char **ret, const char *fmt, ...) _printf_(2, 3);
static int render(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	return n < 0 ? -ENOMEM : 0;
}

int networkd_render_hold(const char *port, const char *bridge, char **ret)
{
	if (networkd_names_invalid_reason(port, bridge))
		return -EINVAL;
	return render(
		ret,
		"# netd: %s is being converted into %s; networkd leaves both alone until it is confirmed or\n"
		"# rolled back (netd removes this file then).\n"
		"[Match]\nName=%s %s\n\n[Link]\nUnmanaged=yes\n",
		port, bridge, port, bridge);
}

int networkd_render_netdev(const char *bridge, const struct mac *mac, char **ret)
{
	char m[MAC_STRLEN];

	if (networkd_names_invalid_reason(bridge, bridge))
		return -EINVAL;
	return render(
		ret,
		"# netd: the bridge of 'netdctl uplink convert'; 'netdctl uplink revert %s' removes it.\n"
		"[NetDev]\nName=%s\nKind=bridge\nMACAddress=%s\n\n[Bridge]\nSTP=no\nForwardDelaySec=0\n",
		bridge, bridge, mac_format(mac, m, sizeof(m)));
}

int networkd_render_port(const char *port, const char *bridge, char **ret)
{
	if (networkd_names_invalid_reason(port, bridge))
		return -EINVAL;
	return render(
		ret,
		"# netd: %s is the port of %s (netdctl uplink revert %s gives it its own config back).\n"
		"[Match]\nName=%s\n\n[Network]\nBridge=%s\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n",
		port, bridge, bridge, port, bridge);
}

/* The section a line opens ("[Match]" → "Match"), into buf; false for any other line. */
static bool section_of(const char *line, size_t len, char *buf, size_t size)
{
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	if (len < 2 || line[0] != '[' || line[len - 1] != ']' || len - 2 >= size)
		return false;
	snprintf(buf, size, "%.*s", (int)(len - 2), line + 1);
	return true;
}

/* Keys that tie a .network to the port itself: moved onto the bridge they would mean another thing. */
static const char *port_only_key(const char *section, const char *line, size_t len)
{
	static const char *const keys[] = { "Bridge",  "Bond",	  "VRF",    "VLAN",
					    "MACVLAN", "IPVLAN",  "IPVTAP", "VXLAN",
					    "Tunnel",  "MACVTAP", "Xfrm",   "BatmanAdvanced" };
	size_t k = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");

	if (strcmp(section, "Network") || k == len)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (k == strlen(keys[i]) && !strncmp(line, keys[i], k) && strchr(" \t=", line[k]))
			return keys[i];
	return NULL;
}

int networkd_render_bridge(const char *bridge, const char *orig, const struct networkd_client_id *id,
			   char **ret, char *err, size_t errlen)
{
	char section[64] = "", *out = NULL;
	size_t size = 0;
	FILE *f;

	if (networkd_names_invalid_reason(bridge, bridge))
		return -EINVAL;
	f = open_memstream(&out, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# netd: the port's .network, moved onto %s by 'netdctl uplink confirm'.\n[Match]\nName=%s\n\n",
		bridge, bridge);
	for (const char *p = orig; *p;) {
		const char *end = strchrnul(p, '\n'), *key;
		size_t len = end - p, skip = strspn(p, " \t");

		if (section_of(p + skip, len - skip, section, sizeof(section))) {
			/* continue below */
		} else if ((key = port_only_key(section, p + skip, len - skip))) {
			fclose(f);
			free(out);
			snprintf(err, errlen, "its .network has %s=, which means something else on a bridge",
				 key);
			return -EINVAL;
		}
		if (strcmp(section, "Match"))
			fprintf(f, "%.*s\n", (int)len, p);
		p = *end ? end + 1 : end;
	}
	if (id->kind == NETWORKD_CLIENT_ID_MAC)
		fprintf(f, "\n# netd: the port's DHCPv4 client identifier, so the lease stays.\n"
			   "[DHCPv4]\nClientIdentifier=mac\n");
	else if (id->kind == NETWORKD_CLIENT_ID_DUID)
		fprintf(f,
			"\n# netd: the port's DHCPv4 client identifier, so the lease stays.\n"
			"[DHCPv4]\nClientIdentifier=duid\nIAID=%" PRIu32 "\n",
			id->iaid);
	if (fclose(f) != 0) {
		free(out);
		return -ENOMEM;
	}
	*ret = out;
	return 0;
}

static const char *const networkd_dirs[] = { "/etc/systemd/network/", "/run/systemd/network/",
					     "/usr/local/lib/systemd/network/", "/usr/lib/systemd/network/",
					     "/lib/systemd/network/" };

const char *networkd_network_file_invalid_reason(const char *path)
{
	const char *const *dirs = networkd_dirs;
	size_t n = strlen(path);

	if (n < 8 || strcmp(path + n - 8, ".network"))
		return "does not end in .network";
	for (size_t i = 0; i < ELEMENTSOF(networkd_dirs); i++) {
		size_t k = strlen(dirs[i]);

		if (!strncmp(path, dirs[i], k))
			return strchr(path + k, '/') || path[k] == '.' ? "is not a file of that directory" : NULL;
	}
	return "is not in one of systemd-networkd's directories";
}

int networkd_state_value(const char *text, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = text; *p;) {
		const char *end = strchrnul(p, '\n');

		if (!strncmp(p, key, klen) && p[klen] == '=') {
			if ((size_t)(end - p - klen - 1) >= size)
				return -E2BIG;
			snprintf(buf, size, "%.*s", (int)(end - p - klen - 1), p + klen + 1);
			return 0;
		}
		p = *end ? end + 1 : end;
	}
	return -ENOENT;
}

int networkd_lease_client_id(const char *text, struct networkd_client_id *ret)
{
	char id[512];
	unsigned v;

	if (networkd_state_value(text, "CLIENTID", id, sizeof(id)) < 0)
		return -ENOENT;
	if (strspn(id, "0123456789abcdefABCDEF") != strlen(id))
		return -EINVAL;
	if (!strncmp(id, "01", 2) && strlen(id) == 14) {
		*ret = (struct networkd_client_id){ .kind = NETWORKD_CLIENT_ID_MAC };
		return 0;
	}
	/* RFC 4361: 0xff, the IAID (4 bytes), the DUID (at least a type of 2 bytes). */
	if ((strncmp(id, "ff", 2) && strncmp(id, "FF", 2)) || strlen(id) < 14 || strlen(id) % 2 ||
	    sscanf(id + 2, "%8x", &v) != 1)
		return -EINVAL;
	*ret = (struct networkd_client_id){ .kind = NETWORKD_CLIENT_ID_DUID, .iaid = v };
	return 0;
}

/* ---- networkd's files ---- */

static char *rel_fmt(const char *dir, const char *fmt, const char *a)
{
	char name[64], *p;

	snprintf(name, sizeof(name), fmt, a);
	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

static int link_state(const struct mgr_ctx *c, const char *key, char *buf, size_t size)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	char rel[64];

	snprintf(rel, sizeof(rel), "run/systemd/netif/links/%d", c->ifindex);
	path = mgr_path(c, rel);
	if (!path)
		return -ENOMEM;
	if (read_file(path, &text, NULL) < 0)
		return -ENOENT;
	return networkd_state_value(text, key, buf, size);
}

/* networkd SIGKILLed: no stop action runs (no RELEASE, no address dropped); its supervisor starts
 * it again. None running: 0 (it reads the files when it starts). */
static int networkd_restart(const struct mgr_ctx *c, char *err, size_t errlen)
{
	return mgr_daemon_restart(c, "/systemd-networkd", "systemd-network", NULL, NETWORKD_RESPAWN_MS, err, errlen);
}

/* A drop-in of the .network file base ("50-eth0.network") in any of networkd's directories:
 * its path below the root into buf, or 0 when there is none. */
static int find_dropin(const struct mgr_ctx *c, const char *base, char *buf, size_t size)
{
	for (size_t i = 0; i < ELEMENTSOF(networkd_dirs); i++) {
		_cleanup_free_ char *rel = NULL, *dir = NULL;
		struct dirent *de;
		DIR *d;

		if (asprintf(&rel, "%s%s.d", networkd_dirs[i] + 1, base) < 0 || !(dir = mgr_path(c, rel)))
			return -ENOMEM;
		d = opendir(dir);
		while (d && (de = readdir(d))) {
			size_t n = strlen(de->d_name);

			if (n > 5 && !strcmp(de->d_name + n - 5, ".conf")) {
				snprintf(buf, size, "/%s/%s", rel, de->d_name);
				closedir(d);
				return 1;
			}
		}
		if (d)
			closedir(d);
	}
	return 0;
}

static int networkd_detect(const struct mgr_ctx *c, char *err, size_t errlen)
{
	char state[64], file[PATH_MAX], hold[64], dropin[PATH_MAX + 64];
	int r;
	const char *why, *base;

	if (link_state(c, "ADMIN_STATE", state, sizeof(state)) < 0 || !strcmp(state, "unmanaged"))
		return 0;
	why = networkd_names_invalid_reason(c->port, c->bridge);
	if (why) {
		snprintf(
			err, errlen,
			"systemd-networkd manages '%s'; the bridge name '%s' %s; choose another with --bridge",
			c->port, c->bridge, why);
		return -EINVAL;
	}
	if (link_state(c, "NETWORK_FILE", file, sizeof(file)) < 0 || file[0] != '/') {
		snprintf(err, errlen,
			 "systemd-networkd manages '%s' (%s) but names no .network file for it; "
			 "wait until it configured it, or give it a .network file with [Link] Unmanaged=yes",
			 c->port, state);
		return -EBUSY;
	}
	why = networkd_network_file_invalid_reason(file);
	if (why) {
		snprintf(err, errlen, "systemd-networkd's state names %s as the .network file of '%s', which %s",
			 file, c->port, why);
		return -EPERM;
	}
	base = strrchr(file, '/') + 1;
	r = find_dropin(c, base, dropin, sizeof(dropin));
	if (r < 0)
		return r;
	if (r > 0) {
		snprintf(err, errlen,
			 "systemd-networkd configures '%s' from %s and the drop-in %s, which netd does not "
			 "carry onto the bridge; merge the drop-ins into %s first",
			 c->port, file, dropin, file);
		return -EBUSY;
	}
	snprintf(hold, sizeof(hold), NETWORKD_HOLD_FMT, c->bridge);
	if (strcmp(hold, base) >= 0) {
		snprintf(err, errlen,
			 "systemd-networkd configures '%s' from %s, which sorts before netd's own files "
			 "(%s); rename it",
			 c->port, file, hold);
		return -EBUSY;
	}
	return 1;
}

/*
 * <root>/rel (rel with a leading '/' or not) into <save_dir>/name; -ENOENT when rel is not there.
 * With trusted, only a regular file of netd's own user (root), writable by nobody else: the
 * .network file comes from networkd's state file, which its own unprivileged user writes, and
 * netd copies it into /etc (world-readable).
 */
static int keep_copy(const struct mgr_ctx *c, const char *rel, const char *name, bool trusted)
{
	_cleanup_free_ char *path = mgr_path(c, rel + (rel[0] == '/')), *copy = NULL, *text = NULL;
	struct stat st;
	int r;

	if (!path || asprintf(&copy, "%s/%s", c->save_dir, name) < 0)
		return -ENOMEM;
	if (trusted && (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
			(st.st_mode & (S_IWGRP | S_IWOTH))))
		return -EPERM;
	if (read_file(path, &text, NULL) < 0)
		return -ENOENT;
	r = mkdir_p(c->save_dir, 0700);
	return r < 0 ? r : write_file_atomic(copy, text, strlen(text), 0600);
}

/* The port's .network and the lease (its client identifier), kept for persist: once released,
 * networkd no longer names them. Kept once: a revert's release finds them there. */
static int save_network_file(const struct mgr_ctx *c, char *err, size_t errlen)
{
	_cleanup_free_ char *kept = NULL;
	char file[PATH_MAX], lease[64];
	int r;

	if (asprintf(&kept, "%s/networkd-port.network", c->save_dir) < 0)
		return -ENOMEM;
	if (access(kept, F_OK) == 0)
		return 0;
	r = link_state(c, "NETWORK_FILE", file, sizeof(file));
	if (r >= 0 && networkd_network_file_invalid_reason(file))
		r = -EPERM;
	if (r >= 0)
		r = keep_copy(c, file, "networkd-port.network", true);
	snprintf(lease, sizeof(lease), "run/systemd/netif/leases/%d", c->ifindex);
	if (r >= 0 && keep_copy(c, lease, "networkd-port.lease", false) == -ENOMEM)
		r = -ENOMEM;
	if (r < 0)
		snprintf(err, errlen,
			 "cannot keep the .network file systemd-networkd configures '%s' with: %s", c->port,
			 strerror(-r));
	return r;
}

static int networkd_release(const struct mgr_ctx *c, char *err, size_t errlen)
{
	_cleanup_free_ char *text = NULL, *rel = rel_fmt(RUN_DIR, NETWORKD_HOLD_FMT, c->bridge), *dir = NULL;
	int r;

	if (!rel || !(dir = mgr_path(c, RUN_DIR)))
		return -ENOMEM;
	err[0] = 0;
	r = save_network_file(c, err, errlen);
	if (r >= 0)
		r = networkd_render_hold(c->port, c->bridge, &text);
	if (r >= 0)
		r = mkdir_p(dir, 0755);
	if (r >= 0)
		r = mgr_file_write(c, MGR_SET_RUNTIME, rel, text, strlen(text), 0644);
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "cannot write /%s: %s", rel, strerror(-r));
		return r;
	}
	return networkd_restart(c, err, errlen);
}

static int networkd_take_back(const struct mgr_ctx *c, char *err, size_t errlen)
{
	int r = mgr_files_restore(c, MGR_SET_RUNTIME, err, errlen);

	return r < 0 ? r : networkd_restart(c, err, errlen);
}

/* The bridge's files: in /run (adopt: gone at a reboot) or in /etc (persist). */
static int bridge_files(const struct mgr_ctx *c, bool persistent, char *err, size_t errlen)
{
	const char *kdir = persistent ? ETC_DIR : RUN_DIR,
		   *set = persistent ? MGR_SET_CONFIG : MGR_SET_RUNTIME;
	_cleanup_free_ char *orig = NULL, *lease = NULL, *p_orig = NULL, *p_lease = NULL;
	_cleanup_free_ char *netdev = NULL, *network = NULL, *port = NULL, *dir = mgr_path(c, kdir);
	_cleanup_free_ char *r_netdev = rel_fmt(kdir, NETWORKD_NETDEV_FMT, c->bridge);
	_cleanup_free_ char *r_network = rel_fmt(kdir, NETWORKD_NETWORK_FMT, c->bridge);
	_cleanup_free_ char *r_port = rel_fmt(kdir, NETWORKD_PORT_FMT, c->bridge);
	struct networkd_client_id id = {};
	char e[256];
	int r;

	if (!dir || !r_netdev || !r_network || !r_port ||
	    asprintf(&p_orig, "%s/networkd-port.network", c->save_dir) < 0 ||
	    asprintf(&p_lease, "%s/networkd-port.lease", c->save_dir) < 0)
		return -ENOMEM;
	if (read_file(p_orig, &orig, NULL) < 0) {
		snprintf(err, errlen, "the .network file of '%s' was not kept in %s", c->port, c->save_dir);
		return -ENOENT;
	}
	if (read_file(p_lease, &lease, NULL) >= 0)
		(void)networkd_lease_client_id(lease, &id);
	r = networkd_render_bridge(c->bridge, orig, &id, &network, e, sizeof(e));
	if (r < 0) {
		snprintf(err, errlen, "cannot move the .network of '%s' onto '%s': %s", c->port, c->bridge,
			 e);
		return r;
	}
	r = networkd_render_netdev(c->bridge, &c->mac, &netdev);
	if (r >= 0)
		r = networkd_render_port(c->port, c->bridge, &port);
	if (r >= 0)
		r = mkdir_p(dir, 0755);
	if (r >= 0)
		r = mgr_file_write(c, set, r_netdev, netdev, strlen(netdev), 0644);
	if (r >= 0)
		r = mgr_file_write(c, set, r_network, network, strlen(network), 0644);
	if (r >= 0)
		r = mgr_file_write(c, set, r_port, port, strlen(port), 0644);
	if (r < 0)
		snprintf(err, errlen, "cannot write systemd-networkd's files for '%s' in /%s: %s", c->bridge,
			 kdir, strerror(-r));
	return r;
}

/* netd's files in /run go (the hold, and with persistent the bridge's runtime files): the
 * restarted networkd takes the bridge and the port from the others. */
static int drop_runtime(const struct mgr_ctx *c, bool persistent, char *err, size_t errlen)
{
	const char *fmts[] = { NETWORKD_HOLD_FMT, NETWORKD_NETDEV_FMT, NETWORKD_NETWORK_FMT,
			       NETWORKD_PORT_FMT };
	int r = 0;

	for (size_t i = 0; r >= 0 && i < (persistent ? ELEMENTSOF(fmts) : 1); i++) {
		_cleanup_free_ char *rel = rel_fmt(RUN_DIR, fmts[i], c->bridge);

		r = rel ? mgr_file_remove(c, MGR_SET_RUNTIME, rel) : -ENOMEM;
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot remove netd's files in /%s: %s", RUN_DIR, strerror(-r));
		return r;
	}
	return networkd_restart(c, err, errlen);
}

static int networkd_adopt(const struct mgr_ctx *c, char *err, size_t errlen)
{
	int r = bridge_files(c, false, err, errlen);

	return r < 0 ? r : drop_runtime(c, false, err, errlen);
}

static int networkd_persist(const struct mgr_ctx *c, char *err, size_t errlen)
{
	int r = bridge_files(c, true, err, errlen);

	return r < 0 ? r : drop_runtime(c, true, err, errlen);
}

static int networkd_restore(const struct mgr_ctx *c, char *err, size_t errlen)
{
	return mgr_files_restore(c, MGR_SET_CONFIG, err, errlen);
}

const struct mgr_driver mgr_networkd = {
	.name = "systemd-networkd",
	.detect = networkd_detect,
	.release = networkd_release,
	.adopt = networkd_adopt,
	.take_back = networkd_take_back,
	.persist = networkd_persist,
	.restore = networkd_restore,
};
