/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "manager.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "process.h"

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

static int detect_nm(const char *root, const char *ifname, int ifindex, char *err, size_t errlen)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/run/NetworkManager/devices/%d", root, ifindex);
	if (access(path, F_OK) < 0)
		return 0;
	snprintf(err, errlen, "NetworkManager manages '%s'; make it leave the interface first "
		 "(nmcli device set %s managed no), or let NetworkManager build the bridge", ifname, ifname);
	return -EBUSY;
}

static int detect_networkd(const char *root, const char *ifname, int ifindex, char *err, size_t errlen)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/run/systemd/netif/links/%d", root, ifindex);
	if (read_file(path, &text, NULL) < 0 || strstr(text, "ADMIN_STATE=unmanaged"))
		return 0;
	snprintf(err, errlen, "systemd-networkd manages '%s'; give it a .network file with [Link] Unmanaged=yes "
		 "(networkctl reload), or define the bridge in networkd", ifname);
	return -EBUSY;
}

static int detect_ifupdown(const char *root, const char *ifname, int ifindex, char *err, size_t errlen)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX], needle[32];

	snprintf(path, sizeof(path), "%s/run/network/ifstate", root);
	if (read_file(path, &text, NULL) < 0)
		return 0;
	snprintf(needle, sizeof(needle), "%s=", ifname);
	for (char *p = text; (p = strstr(p, needle)); p++)
		if (p == text || p[-1] == '\n') {
			snprintf(err, errlen, "ifupdown configured '%s' (/run/network/ifstate); move its stanza in "
				 "/etc/network/interfaces to a bridge, or 'ifdown %s' before converting", ifname, ifname);
			return -EBUSY;
		}
	return 0;
}

static bool is_dhcp_client(const char *argv, size_t len)
{
	/* argv[0], or argv[1] after a multi-call "busybox". */
	for (int i = 0; i < 2 && len; i++) {
		const char *base = strrchr(argv, '/') ? strrchr(argv, '/') + 1 : argv;

		for (size_t j = 0; j < ELEMENTSOF(dhcp_clients); j++)
			if (!strcmp(base, dhcp_clients[j]))
				return true;
		if (strcmp(base, "busybox"))
			return false;
		len -= strlen(argv) + 1;
		argv += strlen(argv) + 1;
	}
	return false;
}

static bool argv_names(const char *argv, size_t len, const char *ifname)
{
	char opt[64], lopt[64];

	snprintf(opt, sizeof(opt), "-i%s", ifname);
	snprintf(lopt, sizeof(lopt), "--interface=%s", ifname);
	for (const char *p = argv; p < argv + len; p += strlen(p) + 1)
		if (!strcmp(p, ifname) || !strcmp(p, opt) || !strcmp(p, lopt))
			return true;
	return false;
}

static ino_t netns_of(const char *pid)
{
	char path[300];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
	return stat(path, &st) < 0 ? 0 : st.st_ino;
}

static int read_cmdline(pid_t pid, char *buf, size_t size, size_t *ret_len)
{
	char path[64];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	n = read(fd, buf, size - 1);
	if (n <= 0)
		return n < 0 ? negative_errno() : -ESRCH;
	buf[n] = 0;
	if (buf[n - 1])
		n++; /* keep the last argument terminated */
	*ret_len = n;
	return 0;
}

/* A DHCP client for ifname in our network namespace (another namespace's eth0 is not ours). */
static int detect_client(const char *ifname, struct manager *ret)
{
	DIR *d = opendir("/proc");
	ino_t self = netns_of("self");
	struct dirent *de;

	if (!d)
		return negative_errno();
	while ((de = readdir(d))) {
		struct manager m = { .kind = MANAGER_DHCP_CLIENT };

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || netns_of(de->d_name) != self)
			continue;
		m.pid = atoi(de->d_name);
		if (m.pid == getpid() || read_cmdline(m.pid, m.argv, sizeof(m.argv), &m.argv_len) < 0 ||
		    !is_dhcp_client(m.argv, m.argv_len) || !argv_names(m.argv, m.argv_len, ifname))
			continue;
		if (ret->kind == MANAGER_DHCP_CLIENT) {
			closedir(d);
			return -ENOTUNIQ;
		}
		*ret = m;
	}
	closedir(d);
	return 0;
}

int manager_detect(const char *root, const char *ifname, int ifindex, struct manager *ret, char *err, size_t errlen)
{
	static int (*const detectors[])(const char *, const char *, int, char *, size_t) = { detect_nm, detect_networkd,
											     detect_ifupdown };
	struct manager m = { .kind = MANAGER_NONE };
	int r;

	for (size_t i = 0; root && i < ELEMENTSOF(detectors); i++) {
		r = detectors[i](root, ifname, ifindex, err, errlen);
		if (r < 0)
			return r;
	}
	r = detect_client(ifname, &m);
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
	ino_t self = netns_of("self"), init = netns_of("1");

	/* The managers' files name interfaces by ifindex in the namespace they run in, the
	 * initial one: in another namespace the same number is another interface. */
	return self && self == init ? "/" : NULL;
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

int manager_argv_retarget(const struct manager *m, const char *from, const char *to, const char *ip, char *buf,
			  size_t size, size_t *ret_len)
{
	char opt_from[64], lopt_from[64], arg[128];
	bool udhcpc = false, has_r = false;
	size_t len = 0;
	int r = 0;

	snprintf(opt_from, sizeof(opt_from), "-i%s", from);
	snprintf(lopt_from, sizeof(lopt_from), "--interface=%s", from);
	for (const char *p = m->argv; r >= 0 && p < m->argv + m->argv_len; p += strlen(p) + 1) {
		udhcpc |= strstr(p, "udhcpc") != NULL;
		has_r |= !strcmp(p, "-r") || !strncmp(p, "--request", 9);
		if (!strcmp(p, from))
			r = argv_append(buf, size, &len, to);
		else if (!strcmp(p, opt_from) || !strcmp(p, lopt_from)) {
			snprintf(arg, sizeof(arg), "%s%s", p[1] == 'i' ? "-i" : "--interface=", to);
			r = argv_append(buf, size, &len, arg);
		} else
			r = argv_append(buf, size, &len, p);
	}
	/* Ask for the address we hold, so the server grants it again at once. */
	if (r >= 0 && udhcpc && !has_r && ip && ip[0]) {
		r = argv_append(buf, size, &len, "-r");
		if (r >= 0)
			r = argv_append(buf, size, &len, ip);
	}
	if (r < 0)
		return r;
	*ret_len = len;
	return 0;
}

void manager_argv_format(const char *argv, size_t len, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = 0;
	for (const char *p = argv; p < argv + len && o + 1 < size; p += strlen(p) + 1)
		o += snprintf(buf + o, size - o, "%s%s", o ? " " : "", p);
}

/* How long a stop waits for the killed client to be gone. */
#define CLIENT_EXIT_TIMEOUT_MS 1000

/*
 * SIGKILL pid, or its whole process group when group (a client netd started has a session of its
 * own: its script and the commands that script runs go with it), and wait until pid is gone. A
 * client that just got a lease may be running its script: until it is gone, that script can still
 * put the address or a default route back where the caller is about to move them from.
 */
static int kill_wait(pid_t pid, bool group)
{
	_cleanup_close_ int fd = process_pidfd(pid);
	pid_t pgid = group ? getpgid(pid) : -1;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	if (pgid > 1 && pgid != getpgrp())
		r = kill(-pgid, SIGKILL);
	else
		r = kill(pid, SIGKILL);
	if (r < 0)
		return negative_errno();
	if (fd >= 0 && poll(&p, 1, CLIENT_EXIT_TIMEOUT_MS) == 0)
		return -ETIMEDOUT;
	return 0;
}

int manager_client_stop(const struct manager *m)
{
	char argv[MANAGER_ARGV_MAX];
	size_t len;

	/* Make sure the pid still is that client before killing it. */
	if (read_cmdline(m->pid, argv, sizeof(argv), &len) < 0 || len != m->argv_len || memcmp(argv, m->argv, len))
		return -ESRCH;
	return kill_wait(m->pid, false);
}

int manager_client_kill(pid_t pid, const char *ifname)
{
	if (!manager_client_running(pid, ifname))
		return -ESRCH;
	return kill_wait(pid, true);
}

bool manager_client_running(pid_t pid, const char *ifname)
{
	char argv[MANAGER_ARGV_MAX];
	size_t len;

	return pid > 0 && read_cmdline(pid, argv, sizeof(argv), &len) >= 0 && is_dhcp_client(argv, len) &&
	       argv_names(argv, len, ifname);
}

static void exec_detached(char *const *args, int report_fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t pid;

	setsid();
	pid = fork();
	if (pid != 0) {
		(void)!write(report_fd, &pid, sizeof(pid));
		_exit(pid < 0 ? 1 : 0);
	}
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	execvp(args[0], args);
	_exit(127);
}

int manager_client_start(const char *argv, size_t len, pid_t *ret_pid)
{
	char *args[128], copy[MANAGER_ARGV_MAX];
	int pipefd[2], status, n = 0;
	pid_t child, pid = -1;

	if (len == 0 || len > sizeof(copy))
		return -EINVAL;
	memcpy(copy, argv, len);
	for (char *p = copy; p < copy + len && n < 127; p += strlen(p) + 1)
		args[n++] = p;
	args[n] = NULL;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return negative_errno();
	child = fork();
	if (child < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return negative_errno();
	}
	if (child == 0) {
		close(pipefd[0]);
		exec_detached(args, pipefd[1]);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = -1;
	close(pipefd[0]);
	waitpid(child, &status, 0);
	if (pid <= 0)
		return -ECHILD;
	*ret_pid = pid;
	return 0;
}
