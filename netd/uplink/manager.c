/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "manager.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
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
#include "names.h"
#include "procfs.h"

static const char *const manager_kind_table[_MANAGER_KIND_MAX] = {
	[MANAGER_NONE] = "none",
	[MANAGER_NETWORKMANAGER] = "NetworkManager",
	[MANAGER_NETWORKD] = "systemd-networkd",
	[MANAGER_IFUPDOWN] = "ifupdown",
	[MANAGER_DHCP_CLIENT] = "dhcp-client",
};

const char *manager_kind_to_string(enum manager_kind k)
{
	return k < _MANAGER_KIND_MAX ? manager_kind_table[k] : NULL;
}

static const char *const dhcp_clients[] = { "dhclient", "udhcpc", "dhcpcd" };

/* ---- command lines (pure) ---- */

#define DHCPCD_TITLE "dhcpcd: "
#define DHCPCD_PROXY "[privileged proxy] "

static int fail(char *why, size_t whylen, int r, const char *fmt, ...) _printf_(4, 5);
static int fail(char *why, size_t whylen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return r;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static const char *client_table_name(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(dhcp_clients); i++)
		if (!strcmp(name, dhcp_clients[i]))
			return dhcp_clients[i];
	return NULL;
}

static bool argv_valid(const char *argv, size_t len)
{
	return len > 0 && argv[len - 1] == 0;
}

/* The argument after p, NULL after the last. */
static const char *argv_next(const char *argv, size_t len, const char *p)
{
	p += strlen(p) + 1;
	return p < argv + len ? p : NULL;
}

int manager_argv_count(const char *argv, size_t len)
{
	size_t n = 0;

	if (!argv_valid(argv, len))
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		n += argv[i] == 0;
	return n > MANAGER_ARGS_MAX ? -E2BIG : (int)n;
}

/* The applet busybox runs for argv: argv[0]'s basename, or argv[1]'s when that is "busybox". */
static const char *busybox_applet(const char *argv, size_t len)
{
	const char *p = argv;

	if (!strcmp(base_name(p), "busybox") && !(p = argv_next(argv, len, p)))
		return "";
	return base_name(p);
}

/*
 * dhcpcd's rewritten title, "dhcpcd: eth0 [ip4] [ip6]", a command line of one argument: the
 * interface and the families. With privilege separation (Debian's build) that process runs as
 * dhcpcd's own user and its root helper, the one that changes addresses and routes, is titled
 * "dhcpcd: [privileged proxy] eth0 [ip4] [ip6]" (*ret_proxy). Its manager mode ("dhcpcd:
 * [manager] ...") and its other helpers ("dhcpcd: [BPF ARP] eth0 ...", "[network proxy]") name no
 * interface here.
 */
static bool dhcpcd_title(const char *argv, size_t len, char *ifname, size_t size, bool *ret_ip4,
			 bool *ret_ip6, bool *ret_proxy)
{
	const char *p, *end;
	bool proxy;

	if (!argv_valid(argv, len) || strlen(argv) + 1 != len ||
	    strncmp(argv, DHCPCD_TITLE, strlen(DHCPCD_TITLE)))
		return false;
	p = argv + strlen(DHCPCD_TITLE);
	proxy = !strncmp(p, DHCPCD_PROXY, strlen(DHCPCD_PROXY));
	if (proxy)
		p += strlen(DHCPCD_PROXY);
	end = strchrnul(p, ' ');
	if (end == p || (size_t)(end - p) >= size)
		return false;
	snprintf(ifname, size, "%.*s", (int)(end - p), p);
	/* An interface name, never an option when netd starts "dhcpcd IFACE". */
	if (!ifname_valid(ifname) || ifname[0] == '-' || ifname[0] == '[')
		return false;
	if (ret_ip4)
		*ret_ip4 = strstr(end, " [ip4]") != NULL;
	if (ret_ip6)
		*ret_ip6 = strstr(end, " [ip6]") != NULL;
	if (ret_proxy)
		*ret_proxy = proxy;
	return true;
}

bool manager_argv_dhcpcd_manager(const char *argv, size_t len)
{
	const char *p;

	if (!argv_valid(argv, len) || strlen(argv) + 1 != len ||
	    strncmp(argv, DHCPCD_TITLE, strlen(DHCPCD_TITLE)))
		return false;
	p = argv + strlen(DHCPCD_TITLE);
	if (!strncmp(p, "[manager]", 9))
		return true;
	/* Its privileged proxy: "[privileged proxy]", then no interface (only "[ip4]" and the like). */
	if (strncmp(p, DHCPCD_PROXY, strlen(DHCPCD_PROXY) - 1))
		return false;
	p += strlen(DHCPCD_PROXY) - 1;
	return !*p || (p[0] == ' ' && p[1] == '[');
}

bool manager_argv_looks_like_client(const char *argv, size_t len)
{
	char ifname[IFNAMSIZ];

	if (!argv_valid(argv, len))
		return false;
	if (dhcpcd_title(argv, len, ifname, sizeof(ifname), NULL, NULL, NULL))
		return true;
	return client_table_name(busybox_applet(argv, len)) != NULL;
}

const char *manager_client_name(const char *exe, const char *argv, size_t len)
{
	if (!argv_valid(argv, len))
		return NULL;
	if (strcmp(base_name(exe), "busybox"))
		return client_table_name(base_name(exe));
	return !strcmp(busybox_applet(argv, len), "udhcpc") ? "udhcpc" : NULL;
}

bool manager_argv_names(const char *argv, size_t len, const char *ifname)
{
	char opt[64], lopt[64], title[IFNAMSIZ];

	if (!argv_valid(argv, len) || !ifname[0])
		return false;
	if (dhcpcd_title(argv, len, title, sizeof(title), NULL, NULL, NULL))
		return !strcmp(title, ifname);
	snprintf(opt, sizeof(opt), "-i%s", ifname);
	snprintf(lopt, sizeof(lopt), "--interface=%s", ifname);
	for (const char *p = argv; p; p = argv_next(argv, len, p))
		if (!strcmp(p, ifname) || !strcmp(p, opt) || !strcmp(p, lopt))
			return true;
	return false;
}

static int argv_append(char *buf, size_t size, size_t *len, const char *arg)
{
	size_t n = strlen(arg) + 1;

	if (*len + n > size)
		return -E2BIG;
	memcpy(buf + *len, arg, n);
	*len += n;
	return 0;
}

/* dhcpcd started again from its title: "dhcpcd [-4|-6] IFACE". Its other options are not in the
 * title; its dhcpcd.conf still applies. */
static int retarget_title(const char *argv, size_t len, const char *from, const char *to, char *buf,
			  size_t size, size_t *n)
{
	char ifname[IFNAMSIZ];
	bool ip4 = false, ip6 = false;
	int r;

	(void)dhcpcd_title(argv, len, ifname, sizeof(ifname), &ip4, &ip6, NULL);
	r = argv_append(buf, size, n, "dhcpcd");
	if (r >= 0 && ip4 != ip6)
		r = argv_append(buf, size, n, ip4 ? "-4" : "-6");
	if (r >= 0)
		r = argv_append(buf, size, n, strcmp(ifname, from) ? ifname : to);
	return r;
}

int manager_argv_retarget(const char *argv, size_t len, const char *from, const char *to, const char *ip,
			  char *buf, size_t size, size_t *ret_len)
{
	char opt_from[64], lopt_from[64], arg[128], title[IFNAMSIZ];
	bool has_r = false;
	size_t n = 0;
	int r = 0;

	if (manager_argv_count(argv, len) < 0)
		return -EINVAL;
	if (dhcpcd_title(argv, len, title, sizeof(title), NULL, NULL, NULL)) {
		r = retarget_title(argv, len, from, to, buf, size, &n);
		goto done;
	}
	snprintf(opt_from, sizeof(opt_from), "-i%s", from);
	snprintf(lopt_from, sizeof(lopt_from), "--interface=%s", from);
	for (const char *p = argv; r >= 0 && p; p = argv_next(argv, len, p)) {
		has_r |= !strncmp(p, "-r", 2) || !strncmp(p, "--request", 9);
		if (!strcmp(p, from))
			r = argv_append(buf, size, &n, to);
		else if (!strcmp(p, opt_from) || !strcmp(p, lopt_from)) {
			snprintf(arg, sizeof(arg), "%s%s", p[1] == 'i' ? "-i" : "--interface=", to);
			r = argv_append(buf, size, &n, arg);
		} else
			r = argv_append(buf, size, &n, p);
	}
	/* Ask for the address we hold, so the server grants it again at once (only udhcpc: dhclient's
	 * -r is a release). */
	if (r >= 0 && !strcmp(busybox_applet(argv, len), "udhcpc") && !has_r && ip && ip[0]) {
		r = argv_append(buf, size, &n, "-r");
		if (r >= 0)
			r = argv_append(buf, size, &n, ip);
	}
done:
	if (r >= 0 && manager_argv_count(buf, n) < 0)
		r = -E2BIG;
	if (r < 0)
		return r;
	*ret_len = n;
	return 0;
}

/* Whether argv has one of the arguments of the NULL-terminated list, or one starting with a prefix
 * of it ending in '=' ("--metric="), or glued to a short option of it ("-m1002"). */
static bool argv_has_option(const char *argv, size_t len, const char *const *opts)
{
	for (const char *p = argv_next(argv, len, argv); p; p = argv_next(argv, len, p))
		for (size_t i = 0; opts[i]; i++) {
			size_t n = strlen(opts[i]);

			if (!strcmp(p, opts[i]) ||
			    ((opts[i][n - 1] == '=' || n == 2) && !strncmp(p, opts[i], n)))
				return true;
		}
	return false;
}

int manager_argv_adapt(const char *exe, const char *argv, size_t len, bool foreground, uint32_t metric,
		       char *buf, size_t size, size_t *ret_len)
{
	static const char *const udhcpc_bg[] = { "-b", "--background", NULL };
	static const char *const dhcpcd_metric[] = { "-m", "--metric", "--metric=", NULL };
	const char *name = manager_client_name(exe, argv, len), *first = argv, *fg = NULL;
	char num[16];
	size_t n = 0;
	int r = 0;

	if (!name || manager_argv_count(argv, len) < 0)
		return -EINVAL;
	if (foreground)
		fg = !strcmp(name, "dhclient") ? "-d" : !strcmp(name, "dhcpcd") ? "-B" : "-f";
	/* Options go right after the program ("busybox udhcpc"): before a "--" or an interface. */
	if (!strcmp(base_name(argv), "busybox"))
		first = argv_next(argv, len, argv);
	for (const char *p = argv; r >= 0 && p; p = argv_next(argv, len, p)) {
		/* udhcpc -b forks when the first attempt fails, whatever -f says. */
		if (foreground && !strcmp(name, "udhcpc") && p > first &&
		    (!strcmp(p, udhcpc_bg[0]) || !strcmp(p, udhcpc_bg[1])))
			continue;
		r = argv_append(buf, size, &n, p);
		if (r < 0 || p != first)
			continue;
		if (fg)
			r = argv_append(buf, size, &n, fg);
		if (r >= 0 && metric && !strcmp(name, "dhcpcd") &&
		    !argv_has_option(argv, len, dhcpcd_metric)) {
			snprintf(num, sizeof(num), "%u", metric);
			r = argv_append(buf, size, &n, "-m");
			if (r >= 0)
				r = argv_append(buf, size, &n, num);
		}
	}
	if (r >= 0 && manager_argv_count(buf, n) < 0)
		r = -E2BIG;
	if (r < 0)
		return r;
	*ret_len = n;
	return 0;
}

void manager_argv_format(const char *argv, size_t len, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = 0;
	if (!argv_valid(argv, len))
		return;
	for (const char *p = argv; p && o + 1 < size; p = argv_next(argv, len, p))
		o += snprintf(buf + o, size - o, "%s%s", o ? " " : "", p);
}

/* ---- system binaries ---- */

/* Where distributions install DHCP clients; all root's. Not /usr/local or /opt: what an admin
 * drops there is not vetted by a package manager, and such trees are often group-writable. */
static const char *const system_dirs[] = { "/usr/sbin/", "/usr/bin/", "/usr/libexec/", "/usr/lib/",
					   "/sbin/",	 "/bin/",     "/lib/" };

/* Absolute, with no empty, "." or ".." component and no trailing slash: what /proc/PID/exe
 * gives, and what a prefix comparison can be trusted on. */
static bool path_canonical(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *s = p; *s; s++) {
		if (*s != '/')
			continue;
		if (s[1] == '/' || s[1] == 0)
			return false;
		if (s[1] == '.' && (s[2] == '/' || s[2] == 0))
			return false;
		if (s[1] == '.' && s[2] == '.' && (s[3] == '/' || s[3] == 0))
			return false;
	}
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static int check_component(const char *path, const char *shown, bool file, uid_t owner, char *why,
			   size_t whylen)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return fail(why, whylen, negative_errno(), "cannot look at %s: %s", shown, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return fail(why, whylen, -EPERM, "%s is a symbolic link", shown);
	if (file && (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)))
		return fail(why, whylen, -EPERM, "%s is not an executable file", shown);
	if (!file && !S_ISDIR(st.st_mode))
		return fail(why, whylen, -EPERM, "%s is not a directory", shown);
	if (st.st_uid != owner)
		return fail(why, whylen, -EPERM, "%s is owned by uid %u, not %u", shown, (unsigned)st.st_uid,
			    (unsigned)owner);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return fail(why, whylen, -EPERM, "%s is writable by %s (mode %04o)", shown,
			    st.st_mode & S_IWOTH ? "others" : "its group", (unsigned)(st.st_mode & 07777));
	return 0;
}

int manager_exe_check(const char *root, const char *exe, uid_t owner, char *why, size_t whylen)
{
	char path[2 * PATH_MAX], shown[PATH_MAX];
	size_t rootlen = strcmp(root, "/") ? strlen(root) : 0;
	bool under = false;
	int r;

	if (strlen(exe) >= PATH_MAX || !path_canonical(exe) || ends_with(exe, " (deleted)"))
		return fail(why, whylen, -EPERM,
			    "'%s' is not the canonical path of an executable that exists", exe);
	for (size_t i = 0; i < ELEMENTSOF(system_dirs); i++)
		under |= !strncmp(exe, system_dirs[i], strlen(system_dirs[i]));
	if (!under)
		return fail(
			why, whylen, -EPERM,
			"%s is not in a system directory (/usr/sbin, /usr/bin, /usr/libexec, /usr/lib, /sbin, /bin, /lib)",
			exe);
	/* "/", then each directory down, then the file itself. */
	for (size_t i = 0;; i++) {
		if (i > 0 && exe[i] != '/' && exe[i] != 0)
			continue;
		snprintf(shown, sizeof(shown), "%.*s", (int)(i ? i : 1), exe);
		snprintf(path, sizeof(path), "%.*s%s", (int)rootlen, root, shown);
		r = check_component(path, shown, exe[i] == 0, owner, why, whylen);
		if (r < 0 || exe[i] == 0)
			return r;
	}
}

int manager_client_check(const char *exe, const char *argv, size_t len, char *why, size_t whylen)
{
	int r = manager_exe_check("/", exe, 0, why, whylen);

	if (r < 0)
		return r;
	if (manager_argv_count(argv, len) < 0)
		return fail(why, whylen, -EINVAL, "its command line is empty or has more than %d arguments",
			    MANAGER_ARGS_MAX);
	if (!manager_client_name(exe, argv, len))
		return fail(why, whylen, -EPERM,
			    "%s does not run a DHCP client (dhclient, udhcpc, dhcpcd, busybox udhcpc)", exe);
	return 0;
}

/* ---- the saved client ---- */

int manager_client_format(const struct manager *m, char *buf, size_t size, size_t *ret_len)
{
	int r, count = manager_argv_count(m->argv, m->argv_len);
	char num[16];
	size_t n = 0;

	if (m->exe[0] != '/' || count < 0)
		return -EINVAL;
	snprintf(num, sizeof(num), "%d", count);
	r = argv_append(buf, size, &n, MANAGER_CLIENT_MAGIC);
	if (r >= 0)
		r = argv_append(buf, size, &n, m->exe);
	if (r >= 0)
		r = argv_append(buf, size, &n, num);
	if (r >= 0 && n + m->argv_len > size)
		r = -E2BIG;
	if (r < 0)
		return r;
	memcpy(buf + n, m->argv, m->argv_len);
	*ret_len = n + m->argv_len;
	return 0;
}

/* The next NUL-terminated field of data[*pos..len); NULL when there is none. */
static const char *field_next(const char *data, size_t len, size_t *pos)
{
	const char *f = data + *pos;
	size_t n;

	if (*pos >= len)
		return NULL;
	n = strnlen(f, len - *pos);
	if (n == len - *pos)
		return NULL;
	*pos += n + 1;
	return f;
}

int manager_client_parse(const char *data, size_t len, struct manager *ret)
{
	struct manager m = { .kind = MANAGER_DHCP_CLIENT };
	const char *magic, *exe, *count;
	size_t pos = 0;
	char num[16];

	magic = field_next(data, len, &pos);
	if (!magic || strcmp(magic, MANAGER_CLIENT_MAGIC))
		return -EPROTONOSUPPORT;
	exe = field_next(data, len, &pos);
	count = field_next(data, len, &pos);
	if (!exe || !count || exe[0] != '/' || strlen(exe) >= sizeof(m.exe))
		return -EINVAL;
	memcpy(m.exe, exe, strlen(exe) + 1);
	data += pos;
	len -= pos;
	/* The count tells a whole file from one cut after an argument. */
	if (len > sizeof(m.argv) || manager_argv_count(data, len) < 0)
		return -EINVAL;
	snprintf(num, sizeof(num), "%d", manager_argv_count(data, len));
	if (strcmp(count, num))
		return -EINVAL;
	memcpy(m.argv, data, len);
	m.argv_len = len;
	*ret = m;
	return 0;
}

int manager_client_read(const char *path, uid_t owner, struct manager *ret, char *why, size_t whylen)
{
	char buf[sizeof(MANAGER_CLIENT_MAGIC) + PATH_MAX + MANAGER_ARGV_MAX + 1];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int r;

	if (fd < 0 && errno == ENOENT)
		return -ENOENT;
	if (fd < 0 || fstat(fd, &st) < 0)
		return fail(why, whylen, negative_errno(), "cannot open %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(why, whylen, -EPERM, "%s is not a regular file", path);
	if (st.st_uid != owner)
		return fail(why, whylen, -EPERM, "%s is owned by uid %u, not %u", path, (unsigned)st.st_uid,
			    (unsigned)owner);
	if (st.st_mode & 077)
		return fail(why, whylen, -EPERM,
			    "%s has mode %04o; it must not be open to group or others (0600)", path,
			    (unsigned)(st.st_mode & 07777));
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n < 0)
			return fail(why, whylen, negative_errno(), "cannot read %s: %s", path,
				    strerror(errno));
		len += n;
	}
	if (len == sizeof(buf))
		return fail(why, whylen, -EFBIG, "%s is too large", path);
	r = manager_client_parse(buf, len, ret);
	if (r == -EPROTONOSUPPORT)
		return fail(why, whylen, r, "%s has no executable recorded (an older netd wrote it)", path);
	if (r < 0)
		return fail(why, whylen, r, "%s is malformed", path);
	return 0;
}

/* ---- processes ---- */

/* Whether exe (what the process of dfd runs) passes manager_client_check and is the file at that
 * path: not replaced since, not another mount namespace's. */
static int exe_genuine(int dfd, const struct manager *m, char *why, size_t whylen)
{
	struct stat running, installed;
	int r = manager_client_check(m->exe, m->argv, m->argv_len, why, whylen);

	if (r < 0)
		return r;
	if (fstatat(dfd, "exe", &running, 0) < 0 || lstat(m->exe, &installed) < 0 ||
	    running.st_dev != installed.st_dev || running.st_ino != installed.st_ino)
		return fail(why, whylen, -EACCES, "it no longer runs the file %s", m->exe);
	return 0;
}

/*
 * What process dfd (its /proc directory) is, for ifname (NULL: any): 0 when not a DHCP client on
 * ifname, or gone; 1 when a genuine one (m filled). 2 (m filled) when it runs the genuine dhcpcd
 * binary but not as root: the unprivileged part of a dhcpcd with privilege separation, whose root
 * helper (dhcpcd_title's privileged proxy) is what counts, or a user's harmless copy. A process
 * named like a client that is not genuine (m, *ret_uid and why filled): -EPERM when it does not
 * run as root (anyone can start that: a look-alike), -EACCES when it runs as root but netd cannot
 * verify or restart it (a client whose binary was upgraded since, or one run from /usr/local).
 */
static int classify(int dfd, pid_t pid, const char *ifname, struct manager *m, uid_t *ret_uid, char *why,
		    size_t whylen)
{
	uid_t uids[3];
	bool truncated;
	int exe_error;

	*m = (struct manager){ .kind = MANAGER_DHCP_CLIENT, .pid = pid };
	if (procfs_cmdline(dfd, m->argv, sizeof(m->argv), &m->argv_len, &truncated) < 0)
		return 0;
	exe_error = procfs_exe(dfd, m->exe, sizeof(m->exe));
	if (exe_error < 0)
		m->exe[0] = 0;
	if (!manager_argv_looks_like_client(m->argv, m->argv_len) &&
	    !manager_client_name(m->exe, m->argv, m->argv_len))
		return 0;
	if ((ifname && !manager_argv_names(m->argv, m->argv_len, ifname)) || procfs_uids(dfd, uids) < 0)
		return 0;
	*ret_uid = uids[0];
	if (exe_error < 0)
		snprintf(m->exe, sizeof(m->exe), "?");
	if ((uids[0] || uids[1] || uids[2]) && !truncated && exe_error >= 0 &&
	    !strcmp(base_name(m->exe), "dhcpcd") && exe_genuine(dfd, m, why, whylen) >= 0)
		return 2;
	if (uids[0] == uids[1] && uids[0] == uids[2] && uids[0])
		return fail(why, whylen, -EPERM, "it runs as uid %u", (unsigned)uids[0]);
	if (uids[0] || uids[1] || uids[2])
		return fail(why, whylen, -EPERM,
			    "its real, effective and saved uids are %u, %u, %u, not all root",
			    (unsigned)uids[0], (unsigned)uids[1], (unsigned)uids[2]);
	if (exe_error < 0)
		return fail(why, whylen, -EACCES, "cannot read its executable: %s", strerror(-exe_error));
	if (truncated)
		return fail(why, whylen, -EACCES, "its command line is longer than %d bytes",
			    MANAGER_ARGV_MAX - 1);
	return exe_genuine(dfd, m, why, whylen) < 0 ? -EACCES : 1;
}

static bool is_dhcpcd_proxy(const struct manager *m)
{
	char ifname[IFNAMSIZ];
	bool proxy = false;

	return dhcpcd_title(m->argv, m->argv_len, ifname, sizeof(ifname), NULL, NULL, &proxy) && proxy;
}

/* Whether the running file of the process of dfd is the one of odfd's. */
static bool same_exe(int dfd, int odfd)
{
	struct stat a, b;

	return fstatat(dfd, "exe", &a, 0) >= 0 && fstatat(odfd, "exe", &b, 0) >= 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Whether the dhcpcd of dfd (classify() 2) has a genuine root privileged proxy for ifname among its
 * children: then it is a genuine client's main process. */
static bool dhcpcd_has_proxy(int dfd, pid_t pid, const char *ifname)
{
	pid_t kids[64];
	int n = procfs_children(dfd, pid, kids, ELEMENTSOF(kids));

	for (int i = 0; i < n; i++) {
		_cleanup_close_ int kfd = procfs_open(kids[i]);
		struct manager k;
		char why[512];
		pid_t ppid;
		uid_t uid;

		if (kfd >= 0 && classify(kfd, kids[i], ifname, &k, &uid, why, sizeof(why)) == 1 &&
		    is_dhcpcd_proxy(&k) && procfs_ppid(kfd, &ppid) >= 0 && ppid == pid && same_exe(kfd, dfd))
			return true;
	}
	return false;
}

/*
 * A DHCP client for ifname in our network namespace (another namespace's eth0 is not ours).
 * -ENOTUNIQ: two genuine ones; -EACCES: a root one netd cannot hand over (err says which).
 */
static int detect_client(const char *ifname, manager_ignored_fn on_ignored, void *userdata,
			 struct manager *ret, char *err, size_t errlen)
{
	DIR *d = opendir("/proc");
	ino_t self = procfs_netns("self");
	struct dirent *de;
	bool found = false;
	int refused = 0;

	if (!d)
		return negative_errno();
	while ((de = readdir(d))) {
		_cleanup_close_ int dfd = -1;
		struct manager m;
		char why[512];
		uid_t uid = 0;
		int r;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || procfs_netns(de->d_name) != self ||
		    atoi(de->d_name) == getpid())
			continue;
		dfd = procfs_open(atoi(de->d_name));
		if (dfd < 0)
			continue;
		r = classify(dfd, atoi(de->d_name), ifname, &m, &uid, why, sizeof(why));
		/* dhcpcd's unprivileged part: its privileged proxy is the one handed over. */
		if (r == 2)
			continue;
		/* A dhcpcd for every interface puts the port's address back on the port when netd
		 * moves it (measured with 9.4: within seconds); it cannot be handed over. */
		if (r == 0 && !refused && manager_argv_dhcpcd_manager(m.argv, m.argv_len) &&
		    classify(dfd, atoi(de->d_name), NULL, &m, &uid, why, sizeof(why)) == 1)
			refused = fail(
				err, errlen, -EACCES,
				"dhcpcd runs in manager mode (pid %d), for every interface, '%s' among them: "
				"it would put the address back on '%s' once it is a bridge port; stop it, or "
				"run it for the interface alone (dhcpcd %s), before converting",
				(int)m.pid, ifname, ifname, ifname);
		if (r == -EPERM && on_ignored)
			on_ignored(&m, uid, why, userdata);
		/* Left running on the port, it would put the address back there at its next renewal. */
		if (r == -EACCES && !refused)
			refused = fail(
				err, errlen, -EACCES,
				"pid %d (%s) runs as root like a DHCP client on '%s', but netd cannot hand "
				"it over: %s; stop it, or restart it from its package's binary",
				(int)m.pid, m.exe, ifname, why);
		if (r <= 0)
			continue;
		if (found) {
			closedir(d);
			return -ENOTUNIQ;
		}
		*ret = m;
		found = true;
	}
	closedir(d);
	return refused;
}

int manager_detect(const char *ifname, manager_ignored_fn on_ignored, void *userdata, struct manager *ret,
		   char *err, size_t errlen)
{
	struct manager m = { .kind = MANAGER_NONE };
	int r;

	r = detect_client(ifname, on_ignored, userdata, &m, err, errlen);
	if (r == -EACCES)
		return -EBUSY;
	if (r == -ENOTUNIQ) {
		snprintf(err, errlen, "more than one DHCP client runs on '%s'; stop all but one first", ifname);
		return -EBUSY;
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot look for DHCP clients on '%s': %s", ifname, strerror(-r));
		return r;
	}
	*ret = m;
	return 0;
}

const char *manager_root_default(void)
{
	ino_t self = procfs_netns("self"), init = procfs_netns("1");

	/* The managers' files name interfaces by ifindex in the namespace they run in, the
	 * initial one: in another namespace the same number is another interface. */
	return self && self == init ? "/" : NULL;
}

/* How long a stop waits for the killed client to be gone. */
#define CLIENT_EXIT_TIMEOUT_MS 1000

/*
 * The pidfd of pid, if pid is a genuine DHCP client on ifname (NULL: any) whose command line is
 * was's (NULL: any), or the main process of a genuine dhcpcd with privilege separation. The pidfd
 * is opened first, then the /proc directory that is checked: if the pid is reused in between, the
 * pidfd's process is a dead one that no signal reaches.
 */
static int client_open(const struct proc_backend *proc, pid_t pid, const char *ifname,
		       const struct manager *was, int *ret_pidfd)
{
	_cleanup_close_ int pidfd = -1, dfd = -1;
	struct manager m;
	char why[512];
	uid_t uid;
	int r;

	if (pid <= 0 || proc->ops->open(proc->userdata, pid, &pidfd) < 0)
		return -ESRCH;
	dfd = procfs_open(pid);
	if (dfd < 0)
		return -ESRCH;
	r = classify(dfd, pid, ifname, &m, &uid, why, sizeof(why));
	if (r != 1 && !(r == 2 && dhcpcd_has_proxy(dfd, pid, ifname)))
		return -ESRCH;
	if (was &&
	    (strcmp(m.exe, was->exe) || m.argv_len != was->argv_len || memcmp(m.argv, was->argv, m.argv_len)))
		return -ESRCH;
	*ret_pidfd = TAKE_FD(pidfd);
	return 0;
}

/*
 * The pidfd of the parent of a dhcpcd privileged proxy (pid, held by pidfd): dhcpcd's main process,
 * running the same file. The proxy's parent is read again once the parent's pidfd is open: a
 * process keeps its parent's pid only while that parent lives, so the pidfd is that parent's.
 */
static int dhcpcd_main_open(const struct proc_backend *proc, pid_t pid, int *ret_pidfd, pid_t *ret_pid)
{
	_cleanup_close_ int dfd = procfs_open(pid), mfd = -1, pidfd = -1;
	pid_t ppid, again;

	if (dfd < 0 || procfs_ppid(dfd, &ppid) < 0 || ppid <= 1 ||
	    proc->ops->open(proc->userdata, ppid, &pidfd) < 0)
		return -ESRCH;
	mfd = procfs_open(ppid);
	if (mfd < 0 || procfs_ppid(dfd, &again) < 0 || again != ppid || !same_exe(dfd, mfd))
		return -ESRCH;
	*ret_pidfd = TAKE_FD(pidfd);
	*ret_pid = ppid;
	return 0;
}

/* SIGKILL the process of pidfd, or its whole process group when group. */
static int kill_one(const struct proc_backend *proc, int pidfd, pid_t pid, bool group)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	pid_t pgid = group ? getpgid(pid) : -1;

	/* While the process runs its pid is not reused: pgid is its group. */
	if (pgid > 1 && pgid != getpgrp() && poll(&p, 1, 0) == 0)
		return proc->ops->kill(proc->userdata, -pgid, -1, SIGKILL);
	return proc->ops->kill(proc->userdata, pid, pidfd, SIGKILL);
}

static int wait_gone(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, CLIENT_EXIT_TIMEOUT_MS) == 0 ? -ETIMEDOUT : 0;
}

/*
 * SIGKILL the process of pidfd, or its whole process group when group (a client netd started has
 * a session of its own: its script and the commands that script runs go with it), and wait until
 * it is gone. A client that just got a lease may be running its script: until it is gone, that
 * script can still put the address or a default route back where the caller is about to move
 * them from.
 */
static int kill_wait(const struct proc_backend *proc, int pidfd, pid_t pid, bool group)
{
	int r = kill_one(proc, pidfd, pid, group);

	return r < 0 ? r : wait_gone(pidfd);
}

/* A dhcpcd's processes: its main one and every descendant running the same file. */
#define DHCPCD_PROCS_MAX 64
struct dhcpcd_tree {
	pid_t pid[DHCPCD_PROCS_MAX];
	int pidfd[DHCPCD_PROCS_MAX];
	size_t n;
};

static void dhcpcd_tree_done(struct dhcpcd_tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		close(t->pidfd[i]);
	t->n = 0;
}

/*
 * Add the children of t->pid[i] that run the file of mfd (dhcpcd's main process). A child's pidfd
 * is its own when, read after the pidfd was opened, its parent is still t->pid[i], which t holds:
 * a process keeps its parent's pid only while that parent lives.
 */
static void dhcpcd_tree_children(const struct proc_backend *proc, struct dhcpcd_tree *t, size_t i, int mfd)
{
	_cleanup_close_ int dfd = procfs_open(t->pid[i]);
	pid_t kids[DHCPCD_PROCS_MAX];
	int n = dfd < 0 ? 0 : procfs_children(dfd, t->pid[i], kids, ELEMENTSOF(kids));

	for (int k = 0; k < n && t->n < DHCPCD_PROCS_MAX; k++) {
		_cleanup_close_ int pidfd = -1, kfd = -1;
		pid_t ppid;

		if (proc->ops->open(proc->userdata, kids[k], &pidfd) < 0)
			continue;
		kfd = procfs_open(kids[k]);
		if (kfd < 0 || procfs_ppid(kfd, &ppid) < 0 || ppid != t->pid[i] || !same_exe(kfd, mfd))
			continue;
		t->pid[t->n] = kids[k];
		t->pidfd[t->n++] = TAKE_FD(pidfd);
	}
}

/*
 * A dhcpcd with privilege separation, found by its privileged proxy (m): the proxy's parent (its
 * main process) and all their helpers. Killed all: the proxy first (the one that changes addresses
 * and routes and runs the hooks), then the others. Left alone, the unprivileged helpers (network
 * proxies, BPF readers) outlive the two, holding their sockets (seen with dhcpcd 9.4).
 */
static int dhcpcd_stop(const struct proc_backend *proc, const struct manager *m, int pidfd)
{
	struct dhcpcd_tree t = {};
	_cleanup_close_ int mfd = -1;
	int r, mainfd;
	pid_t main_pid;

	r = dhcpcd_main_open(proc, m->pid, &mainfd, &main_pid);
	if (r < 0)
		return kill_wait(proc, pidfd, m->pid, false);
	t.pid[0] = main_pid;
	t.pidfd[0] = mainfd;
	t.n = 1;
	mfd = procfs_open(main_pid);
	for (size_t i = 0; mfd >= 0 && i < t.n; i++)
		dhcpcd_tree_children(proc, &t, i, mfd);
	r = kill_one(proc, pidfd, m->pid, false);
	for (size_t i = 0; r >= 0 && i < t.n; i++)
		if (t.pid[i] != m->pid)
			r = kill_one(proc, t.pidfd[i], t.pid[i], false);
	if (r >= 0)
		r = wait_gone(pidfd);
	for (size_t i = 0; r >= 0 && i < t.n; i++)
		r = wait_gone(t.pidfd[i]);
	dhcpcd_tree_done(&t);
	return r;
}

/*
 * The client found on the port: a daemon (dhclient and udhcpc without -d/-f) leads a process group
 * of its own, where its script runs too: that group goes. A dhcpcd found by its privileged proxy:
 * dhcpcd_stop.
 */
int manager_client_stop(const struct proc_backend *proc, const struct manager *m)
{
	_cleanup_close_ int pidfd = -1;
	int r = client_open(proc, m->pid, NULL, m, &pidfd);

	if (r < 0)
		return r;
	if (is_dhcpcd_proxy(m))
		return dhcpcd_stop(proc, m, pidfd);
	return kill_wait(proc, pidfd, m->pid, getpgid(m->pid) == m->pid);
}

int manager_clients_stop(const struct proc_backend *proc, const char *ifname)
{
	DIR *d = opendir("/proc");
	ino_t self = procfs_netns("self");
	struct dirent *de;
	int n = 0;

	if (!d)
		return negative_errno();
	while ((de = readdir(d))) {
		_cleanup_close_ int dfd = -1;
		struct manager m;
		char why[512];
		uid_t uid;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || procfs_netns(de->d_name) != self ||
		    atoi(de->d_name) == getpid())
			continue;
		dfd = procfs_open(atoi(de->d_name));
		/* A dhcpcd's main process goes with its privileged proxy (classify 1). */
		if (dfd >= 0 && classify(dfd, atoi(de->d_name), ifname, &m, &uid, why, sizeof(why)) == 1 &&
		    manager_client_stop(proc, &m) >= 0)
			n++;
	}
	closedir(d);
	return n;
}

int manager_client_kill(const struct proc_backend *proc, pid_t pid, const char *ifname)
{
	_cleanup_close_ int pidfd = -1;
	int r = client_open(proc, pid, ifname, NULL, &pidfd);

	return r < 0 ? r : kill_wait(proc, pidfd, pid, true);
}

bool manager_client_running(const struct proc_backend *proc, pid_t pid, const char *ifname)
{
	_cleanup_close_ int pidfd = -1;

	return client_open(proc, pid, ifname, NULL, &pidfd) >= 0;
}

int manager_client_start(const struct proc_backend *proc, const char *exe, const char *argv, size_t len,
			 pid_t *ret_pid, char *why, size_t whylen)
{
	char *args[MANAGER_ARGS_MAX + 1], copy[MANAGER_ARGV_MAX];
	/* Detached in a session of its own: it outlives netd, and a stop takes its script along. The
	 * verified file, never a PATH lookup of argv[0]; netd's environment, as it had. */
	struct proc_spawn spec = {
		.exe = exe,
		.argv = args,
		.envp = environ,
		.new_session = true,
		.detached = true,
	};
	int n = 0, r;

	r = manager_client_check(exe, argv, len, why, whylen);
	if (r < 0)
		return r;
	if (len > sizeof(copy))
		return fail(why, whylen, -E2BIG, "its command line is longer than %d bytes",
			    MANAGER_ARGV_MAX);
	memcpy(copy, argv, len);
	for (char *p = copy; p < copy + len; p += strlen(p) + 1)
		args[n++] = p;
	args[n] = NULL;
	r = proc->ops->spawn(proc->userdata, &spec, ret_pid, NULL);
	if (r < 0)
		return fail(why, whylen, r, "%s", proc->ops->last_error(proc->userdata));
	return 0;
}
