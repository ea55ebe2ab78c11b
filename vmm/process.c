/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "procfs.h"
#include "qemu-argv.h"
#include "rlimit.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

int process_cred_from_user(const char *name, struct process_cred *ret)
{
	struct passwd *pw = getpwnam(name);
	struct process_cred c = {};
	int n = PROCESS_GROUPS_MAX;

	if (!pw)
		return -ENOENT;
	c.uid = pw->pw_uid;
	c.gid = pw->pw_gid;
	if (getgrouplist(name, pw->pw_gid, c.groups, &n) < 0)
		return -E2BIG;
	c.n_groups = n;
	*ret = c;
	return 0;
}

static bool cred_in_group(const struct process_cred *c, gid_t gid)
{
	if (c->gid == gid)
		return true;
	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

bool process_cred_may_access(const struct process_cred *cred, mode_t mode, uid_t uid, gid_t gid, int access)
{
	mode_t want = ((access & R_OK) ? 4 : 0) | ((access & W_OK) ? 2 : 0);
	mode_t have = cred->uid == uid	       ? (mode >> 6) & 7 :
		      cred_in_group(cred, gid) ? (mode >> 3) & 7 :
						 mode & 7;

	return cred->uid == 0 || (have & want) == want;
}

/* Into the log (stderr is the log by now): only async-signal-safe calls, between fork and exec. */
static _Noreturn void child_fail(const char *what)
{
	struct iovec iov[] = {
		{ (char *)"netd: cannot start the child: ", 30 },
		{ (char *)what, strlen(what) },
		{ (char *)"\n", 1 },
	};

	writev(2, iov, ELEMENTSOF(iov));
	_exit(127);
}

int process_landlock_abi(void)
{
	static int abi = -1;

	if (abi < 0) {
		long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
		abi = v > 0 ? (int)v : 0;
	}
	return abi;
}

/*
 * A Landlock domain of its own. QEMUs all run as one user, so without it each could open every
 * other QEMU's /proc/PID/fd (another guest's disks, its initrd memfd) and /proc/PID/mem. Landlock
 * lets a process reach into (ptrace, /proc/PID/fd, /proc/PID/mem) only processes of its own
 * domain or of domains nested in it: each QEMU restricted on its own is alone in its domain. The
 * ruleset handles one right QEMU never uses (making block device nodes): nothing else of QEMU's is
 * restricted. netd, outside any domain, still reads QEMU's /proc. Skipped where the kernel has no
 * Landlock (netd says so when it starts a guest).
 */
static void child_isolate(void)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs = LANDLOCK_ACCESS_FS_MAKE_BLOCK };
	int fd;

	if (process_landlock_abi() <= 0)
		return;
	fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0 || syscall(SYS_landlock_restrict_self, fd, 0) < 0)
		child_fail("cannot enter a Landlock domain of its own");
	close(fd);
}

/* Groups first (they need privileges), then the group, then the user; no way back afterwards. */
static void child_drop_privileges(const struct process_cred *cred)
{
	if (cred && cred->uid != 0) {
		if (setgroups(cred->n_groups, cred->groups) < 0)
			child_fail("setgroups failed");
		if (setresgid(cred->gid, cred->gid, cred->gid) < 0)
			child_fail("setresgid failed");
		if (setresuid(cred->uid, cred->uid, cred->uid) < 0)
			child_fail("setresuid failed");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail("PR_SET_NO_NEW_PRIVS failed");
	child_isolate();
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static _Noreturn void child(char *const *argv, const int *fds, size_t n_fds, int log_fd,
			    const struct process_cred *cred)
{
	int high = QEMU_FIRST_FD + (int)n_fds + 8, tmp[64];
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setsid();
	/* Move everything above the target range first, so no dup2 overwrites a source. */
	for (size_t i = 0; i < n_fds; i++)
		tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, high);
	log_fd = fcntl(log_fd, F_DUPFD_CLOEXEC, high);
	if (dup2(open("/dev/null", O_RDONLY), 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
		_exit(127);
	for (size_t i = 0; i < n_fds; i++)
		if (tmp[i] < 0 || dup2(tmp[i], QEMU_FIRST_FD + (int)i) < 0) /* dup2 clears CLOEXEC */
			_exit(127);
	syscall(SYS_close_range, QEMU_FIRST_FD + n_fds, ~0U, 0);
	rlimit_nofile_restore();
	child_drop_privileges(cred);
	/* netd's environment is not QEMU's business: a fixed one. */
	execve(argv[0], argv, (char *const[]){ "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL });
	child_fail("exec failed");
}

int process_spawn(char *const *argv, const int *fds, size_t n_fds, int log_fd,
		  const struct process_cred *cred, pid_t *ret_pid)
{
	pid_t pid;

	if (n_fds > 64)
		return -E2BIG;
	if (access(argv[0], X_OK) < 0)
		return -errno;
	process_landlock_abi(); /* asked here, not in the child */
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(argv, fds, n_fds, log_fd, cred);
	log_debug("spawn %s pid=%d fds=%zu uid=%d", argv[0], (int)pid, n_fds,
		  cred ? (int)cred->uid : (int)getuid());
	*ret_pid = pid;
	return 0;
}

int process_pidfd(pid_t pid)
{
	int fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd; /* pidfds are always close-on-exec */
}

/* /proc/PID/exe is the binary (" (deleted)" after a package upgrade replaced it). */
static bool exe_is(int dfd, const char *binary)
{
	char exe[PATH_MAX + 16], want[PATH_MAX];
	size_t len;

	if (procfs_exe(dfd, exe, sizeof(exe)) < 0 || !realpath(binary, want))
		return false;
	len = strlen(want);
	return !strncmp(exe, want, len) && (!exe[len] || !strcmp(exe + len, " (deleted)"));
}

bool process_is_qemu(pid_t pid, const char *binary, const char *const *args)
{
	_cleanup_close_ int dfd = procfs_open(pid);
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (dfd < 0 || !exe_is(dfd, binary) || procfs_cmdline_alloc(dfd, &text, &len) < 0)
		return false;
	for (size_t i = 0; args[i]; i++)
		if (!procfs_argv_has(text, len, args[i]))
			return false;
	return true;
}

int process_reap(pid_t pid)
{
	int status;
	pid_t r = waitpid(pid, &status, WNOHANG);

	if (r < 0)
		return -errno;
	if (r == 0)
		return -EAGAIN;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
