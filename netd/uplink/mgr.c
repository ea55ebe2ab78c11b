/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network manager drivers' registry, and the originals of the files they change. */
#include "mgr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "manager.h"
#include "procfs.h"

/* Asked in this order: the first that manages the port (or refuses) answers. */
static const struct mgr_driver *const drivers[] = { &mgr_networkmanager, &mgr_networkd, &mgr_ifupdown };

int mgr_detect(const struct mgr_ctx *c, const struct mgr_driver **ret, char *err, size_t errlen)
{
	*ret = NULL;
	if (!c->root)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(drivers); i++) {
		int r = drivers[i]->detect(c, err, errlen);

		if (r < 0)
			return r;
		if (r > 0) {
			*ret = drivers[i];
			return 0;
		}
	}
	return 0;
}

const struct mgr_driver *mgr_driver_find(const char *name)
{
	for (size_t i = 0; name && i < ELEMENTSOF(drivers); i++)
		if (!strcmp(drivers[i]->name, name))
			return drivers[i];
	return NULL;
}

char *mgr_path(const struct mgr_ctx *c, const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", strcmp(c->root, "/") ? c->root : "", rel) < 0)
		return NULL;
	return p;
}

static char *save_path(const char *save_dir, const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s%s%s%s%s", save_dir, a ? "/" : "", a ? a : "", b ? "/" : "", b ? b : "") < 0)
		return NULL;
	return p;
}

const struct mgr_driver *mgr_saved_driver(const char *save_dir)
{
	_cleanup_free_ char *path = save_path(save_dir, "driver", NULL), *text = NULL;

	if (!path || read_file(path, &text, NULL) < 0)
		return NULL;
	text[strcspn(text, "\n")] = 0;
	return mgr_driver_find(text);
}

int mgr_save_driver(const char *save_dir, const struct mgr_driver *drv)
{
	_cleanup_free_ char *path = save_path(save_dir, "driver", NULL);
	char text[64];
	int r;

	if (!path)
		return -ENOMEM;
	r = mkdir_p(save_dir, 0700);
	if (r < 0)
		return r;
	snprintf(text, sizeof(text), "%s\n", drv->name);
	return write_file_atomic(path, text, strlen(text), 0600);
}

bool mgr_persisted(const char *save_dir)
{
	_cleanup_free_ char *path = save_path(save_dir, "persisted", NULL);

	return path && access(path, F_OK) == 0;
}

int mgr_set_persisted(const char *save_dir, bool on)
{
	_cleanup_free_ char *path = save_path(save_dir, "persisted", NULL);

	if (!path)
		return -ENOMEM;
	if (on)
		return write_file_atomic(path, "", 0, 0600);
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

/*
 * A saved file is named by the hex of its path below the root (any path, one flat directory, no
 * escaping to get wrong), and holds "present MODE\n" and the bytes, or "absent\n".
 */
#define SAVED_ABSENT "absent\n"

static char *saved_name(const char *rel)
{
	size_t n = strlen(rel);
	char *s = malloc(2 * n + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", (unsigned char)rel[i]);
	s[2 * n] = 0;
	return s;
}

static char *saved_rel(const char *name)
{
	size_t n = strlen(name);
	char *s;

	if (n == 0 || n % 2 || strspn(name, "0123456789abcdef") != n)
		return NULL;
	s = malloc(n / 2 + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		sscanf(name + 2 * i, "%2x", &v);
		s[i] = (char)v;
	}
	s[n / 2] = 0;
	/* Only what mgr_file_save() names: relative, no "..", no NUL inside. */
	if (strlen(s) != n / 2 || s[0] == '/' || strstr(s, "..")) {
		free(s);
		return NULL;
	}
	return s;
}

int mgr_file_save(const struct mgr_ctx *c, const char *set, const char *rel)
{
	_cleanup_free_ char *name = saved_name(rel), *dir = save_path(c->save_dir, set, NULL);
	_cleanup_free_ char *saved = NULL, *path = mgr_path(c, rel), *text = NULL, *out = NULL;
	size_t len = 0, head;
	struct stat st;
	int r;

	if (!name || !dir || !path)
		return -ENOMEM;
	if (rel[0] == '/' || strstr(rel, ".."))
		return -EINVAL;
	saved = save_path(dir, name, NULL);
	if (!saved)
		return -ENOMEM;
	if (access(saved, F_OK) == 0)
		return 0;
	r = mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return -errno;
		return write_file_atomic(saved, SAVED_ABSENT, strlen(SAVED_ABSENT), 0600);
	}
	/* Put back as a file, a link would not be what was there. */
	if (!S_ISREG(st.st_mode))
		return -ELOOP;
	r = read_file(path, &text, &len);
	if (r < 0)
		return r;
	out = malloc(len + 32);
	if (!out)
		return -ENOMEM;
	head = snprintf(out, 32, "present %04o\n", (unsigned)(st.st_mode & 07777));
	memcpy(out + head, text, len);
	return write_file_atomic(saved, out, head + len, 0600);
}

static int restore_one(const struct mgr_ctx *c, const char *dir, const char *name, char *err, size_t errlen)
{
	_cleanup_free_ char *rel = saved_rel(name), *saved = save_path(dir, name, NULL), *text = NULL;
	_cleanup_free_ char *path = NULL;
	unsigned mode;
	size_t len;
	int r, n = 0;

	if (!rel || !saved) {
		snprintf(err, errlen, "%s/%s is not a file netd saved", dir, name);
		return -EINVAL;
	}
	path = mgr_path(c, rel);
	r = path ? read_file(saved, &text, &len) : -ENOMEM;
	if (r >= 0 && !strcmp(text, SAVED_ABSENT))
		r = unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	else if (r >= 0 && sscanf(text, "present %4o\n%n", &mode, &n) == 1 && n > 0)
		r = write_file_atomic(path, text + n, len - n, mode & 07777);
	else if (r >= 0)
		r = -EINVAL;
	if (r < 0)
		snprintf(err, errlen, "cannot put back /%s as it was (saved in %s): %s", rel, saved,
			 strerror(-r));
	else
		unlink(saved);
	return r;
}

int mgr_files_restore(const struct mgr_ctx *c, const char *set, char *err, size_t errlen)
{
	_cleanup_free_ char *dir = save_path(c->save_dir, set, NULL);
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (!dir)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char e[512];
		int r;

		if (de->d_name[0] == '.')
			continue;
		r = restore_one(c, dir, de->d_name, e, sizeof(e));
		if (r < 0 && ret == 0) {
			ret = r;
			snprintf(err, errlen, "%s", e);
		}
	}
	closedir(d);
	if (ret == 0)
		rmdir(dir);
	return ret;
}

int mgr_file_write(const struct mgr_ctx *c, const char *set, const char *rel, const char *text, size_t len,
		   mode_t mode)
{
	_cleanup_free_ char *path = mgr_path(c, rel);
	int r;

	if (!path)
		return -ENOMEM;
	r = mgr_file_save(c, set, rel);
	if (r < 0)
		return r;
	return write_file_atomic(path, text, len, mode);
}

int mgr_file_remove(const struct mgr_ctx *c, const char *set, const char *rel)
{
	_cleanup_free_ char *path = mgr_path(c, rel);
	int r;

	if (!path)
		return -ENOMEM;
	r = mgr_file_save(c, set, rel);
	if (r < 0)
		return r;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

/* ---- restarting a manager ---- */

#define RESTART_MAX 8
#define RESTART_EXIT_TIMEOUT_MS 2000
#define RESTART_STOP_TIMEOUT_MS 1000

/*
 * The pids of our network namespace's processes that run exe_name ("/systemd-networkd"), a
 * genuine system binary, as root or as user (the one the daemon drops to; NULL: root only), with
 * a pidfd each, except those in skip. A local user may run the same binary, but not as these:
 * theirs are not looked at. -E2BIG when there are more than RESTART_MAX.
 */
static int daemons_find(const struct mgr_ctx *c, const char *exe_name, const char *user, const pid_t *skip,
			size_t n_skip, pid_t *pids, int *pidfds)
{
	struct passwd *pw = user ? getpwnam(user) : NULL;
	uid_t ok_uid = pw ? pw->pw_uid : 0;
	ino_t self = procfs_netns("self");
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		_cleanup_close_ int dfd = -1, pidfd = -1;
		pid_t pid = atoi(de->d_name);
		char exe[PATH_MAX], why[256];
		bool skipped = false, owned = true;
		uid_t uids[3];

		for (size_t i = 0; i < n_skip; i++)
			skipped |= skip[i] == pid;
		if (pid <= 0 || skipped || procfs_netns(de->d_name) != self)
			continue;
		if ((dfd = procfs_open(pid)) < 0 || procfs_exe(dfd, exe, sizeof(exe)) < 0 ||
		    strcmp(strrchr(exe, '/') ?: exe, exe_name) || procfs_uids(dfd, uids) < 0)
			continue;
		for (int i = 0; i < 3; i++)
			owned &= uids[i] == 0 || uids[i] == ok_uid;
		if (!owned || manager_exe_check("/", exe, 0, why, sizeof(why)) < 0 ||
		    c->proc->ops->open(c->proc->userdata, pid, &pidfd) < 0)
			continue;
		if (n == RESTART_MAX) {
			n = -E2BIG;
			break;
		}
		pids[n] = pid;
		pidfds[n++] = TAKE_FD(pidfd);
	}
	closedir(d);
	if (n < 0)
		for (int i = 0; i < RESTART_MAX; i++)
			close(pidfds[i]);
	return n;
}

/* Whether every thread of pid is stopped (SIGSTOP is delivered asynchronously). */
static bool all_stopped(pid_t pid)
{
	char path[64];
	struct dirent *de;
	bool stopped = true;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return true; /* gone */
	while (stopped && (de = readdir(d))) {
		_cleanup_free_ char *stat = NULL, *p = NULL;
		const char *state;

		if (de->d_name[0] == '.' || asprintf(&p, "%s/%s/stat", path, de->d_name) < 0 ||
		    read_file(p, &stat, NULL) < 0)
			continue;
		state = strrchr(stat, ')');
		stopped = !state || state[1] != ' ' || state[2] == 'T' || state[2] == 't' || state[2] == 'Z';
	}
	closedir(d);
	return stopped;
}

int mgr_daemon_restart(const struct mgr_ctx *c, const char *exe_name, const char *user, mgr_op while_stopped,
		       int respawn_ms, char *err, size_t errlen)
{
	pid_t pids[RESTART_MAX], again[RESTART_MAX];
	int pidfds[RESTART_MAX], r = 0, n, m = 0;

	n = daemons_find(c, exe_name, user, NULL, 0, pids, pidfds);
	if (n < 0) {
		snprintf(err, errlen, "more than %d processes run %s here; not restarting any", RESTART_MAX,
			 exe_name + 1);
		return n;
	}
	for (int i = 0; i < n && while_stopped; i++)
		(void)c->proc->ops->kill(c->proc->userdata, pids[i], pidfds[i], SIGSTOP);
	for (int i = 0, waited = 0; i < n && while_stopped && waited < RESTART_STOP_TIMEOUT_MS;)
		if (all_stopped(pids[i]))
			i++;
		else {
			(void)poll(NULL, 0, 10);
			waited += 10;
		}
	if (while_stopped)
		r = while_stopped(c, err, errlen);
	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = pidfds[i], .events = POLLIN };
		int k;

		if (r < 0) { /* nothing written: it goes on as it was */
			(void)c->proc->ops->kill(c->proc->userdata, pids[i], pidfds[i], SIGCONT);
			continue;
		}
		k = c->proc->ops->kill(c->proc->userdata, pids[i], pidfds[i], SIGKILL);
		if (k >= 0 && poll(&p, 1, RESTART_EXIT_TIMEOUT_MS) == 0)
			k = -ETIMEDOUT;
		if (k < 0) {
			snprintf(err, errlen, "cannot restart %s (pid %d): %s", exe_name + 1, (int)pids[i],
				 strerror(-k));
			r = k;
		}
	}
	for (int i = 0; i < n; i++)
		close(pidfds[i]);
	if (r < 0 || !n || !respawn_ms)
		return r;
	/* Its supervisor starts it again: wait for that, so that a next step stops the new one. */
	for (int waited = 0; waited < respawn_ms && m == 0; waited += 50) {
		m = daemons_find(c, exe_name, user, pids, n, again, pidfds);
		for (int i = 0; i < m; i++)
			close(pidfds[i]);
		if (m == 0)
			(void)poll(NULL, 0, 50);
	}
	if (m == 0) {
		snprintf(err, errlen,
			 "%s did not start again within %d s; start it (systemd: 'systemctl reset-failed %s; "
			 "systemctl start %s' if its start limit was hit)",
			 exe_name + 1, respawn_ms / 1000, exe_name + 1, exe_name + 1);
		return -ETIMEDOUT;
	}
	return 0;
}
