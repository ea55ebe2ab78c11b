/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "qemu-argv.h"
#include "rlimit.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/* In the child, between fork and exec: only async-signal-safe calls. */
static _Noreturn void child(char *const *argv, const int *fds, size_t n_fds, int log_fd)
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
	execv(argv[0], argv);
	_exit(127);
}

int process_spawn(char *const *argv, const int *fds, size_t n_fds, const char *log_path, pid_t *ret_pid)
{
	_cleanup_close_ int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	pid_t pid;

	if (log_fd < 0)
		return -errno;
	if (n_fds > 64)
		return -E2BIG;
	if (access(argv[0], X_OK) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(argv, fds, n_fds, log_fd);
	log_debug("spawn %s pid=%d fds=%zu", argv[0], (int)pid, n_fds);
	*ret_pid = pid;
	return 0;
}

int process_pidfd(pid_t pid)
{
	int fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd; /* pidfds are always close-on-exec */
}

bool process_is_qemu_with(pid_t pid, const char *needle)
{
	_cleanup_free_ char *text = NULL;
	char path[64];
	size_t len;
	bool qemu;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (read_file(path, &text, &len) < 0 || len == 0)
		return false;
	qemu = strstr(text, "qemu") != NULL;
	for (size_t off = 0; qemu && off < len; off += strlen(text + off) + 1)
		if (strstr(text + off, needle))
			return true;
	return false;
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
