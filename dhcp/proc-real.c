/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The real process backend: fork/exec, pidfds, /proc. The only file of netd that forks. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "procfs.h"
#include "rlimit.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int pidfd_open_(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/* Only async-signal-safe calls between fork and exec. */
static _Noreturn void child(char *const argv[], char *const envp[], int null_fd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	/* netd blocks the signals its event loop takes through signalfd; a blocked mask would
	 * survive exec and leave dnsmasq deaf to SIGHUP and SIGTERM. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < _NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	if (dup2(null_fd, STDIN_FILENO) < 0)
		_exit(127);
	/* Everything else netd holds is O_CLOEXEC; close_range makes "exactly 0, 1, 2" explicit. */
	syscall(SYS_close_range, 3, ~0u, 0);
	rlimit_nofile_restore();
	execve(argv[0], argv, envp);
	_exit(127);
}

static int real_spawn(void *userdata, char *const argv[], char *const envp[], pid_t *ret_pid, int *ret_pidfd)
{
	_cleanup_close_ int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int pidfd;
	pid_t pid;

	if (null_fd < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(argv, envp, null_fd);
	/* Our child cannot be reaped before we wait for it, so the pid cannot be reused here. */
	pidfd = pidfd_open_(pid);
	if (pidfd < 0) {
		int r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r;
	}
	log_debug("spawn %s pid %d pidfd %d", argv[0], (int)pid, pidfd);
	*ret_pid = pid;
	*ret_pidfd = pidfd;
	return 0;
}

static int real_kill(void *userdata, pid_t pid, int pidfd, int sig)
{
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return -errno;
	log_debug("kill pid %d signal %s", (int)pid, sigabbrev_np(sig) ?: "?");
	return 0;
}

static int real_reap(void *userdata, pid_t pid, int pidfd, int *ret_status)
{
	siginfo_t si = {};

	if (waitid(P_PIDFD, pidfd, &si, WEXITED | WNOHANG) < 0)
		return -errno;
	if (si.si_pid == 0)
		return -EAGAIN;
	*ret_status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status;
	return 0;
}

static int real_open(void *userdata, pid_t pid, int *ret_pidfd)
{
	int fd = pidfd_open_(pid);

	if (fd < 0)
		return -errno;
	*ret_pidfd = fd;
	return 0;
}

static int real_cmdline(void *userdata, pid_t pid, char **ret, size_t *ret_len)
{
	_cleanup_close_ int dfd = procfs_open(pid);

	return dfd < 0 ? dfd : procfs_cmdline_alloc(dfd, ret, ret_len);
}

static const struct proc_ops real_ops = {
	.name = "real",
	.spawn = real_spawn,
	.kill = real_kill,
	.reap = real_reap,
	.open = real_open,
	.cmdline = real_cmdline,
};

void proc_real_init(struct proc_backend *ret)
{
	*ret = (struct proc_backend){ .ops = &real_ops };
}
