/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A short-lived program run to its end through the process ops, its output captured. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "proc.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left > 0 ? (int)left : 0;
}

/* Until end of file or the deadline; returns whether end of file came. */
static bool read_all(int fd, int64_t deadline, char *out, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	char drop[512];

	for (;;) {
		ssize_t k;

		if (poll(&p, 1, left_ms(deadline)) <= 0)
			break;
		k = n + 1 < size ? read(fd, out + n, size - 1 - n) : read(fd, drop, sizeof(drop));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			out[n] = 0;
			return k == 0;
		}
		if (n + 1 < size)
			n += k;
	}
	out[n] = 0;
	return false;
}

int proc_run(const struct proc_backend *proc, struct proc_spawn *spec, int timeout_ms, char *out, size_t size,
	     int *ret_status)
{
	_cleanup_close_ int rd = -1, wr = -1, pidfd = -1;
	int64_t deadline = now_ms() + timeout_ms;
	struct pollfd p = { .events = POLLIN };
	int pipefd[2], r;
	bool done;
	pid_t pid;

	if (size == 0)
		return -EINVAL;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return negative_errno();
	rd = pipefd[0];
	wr = pipefd[1];
	spec->stdio[1] = (struct proc_io){ PROC_IO_FD, wr };
	r = proc->ops->spawn(proc->userdata, spec, &pid, &pidfd);
	if (r < 0)
		return r;
	close(TAKE_FD(wr));
	done = read_all(rd, deadline, out, size);
	p.fd = pidfd;
	if (!done || poll(&p, 1, left_ms(deadline)) <= 0) {
		proc->ops->kill(proc->userdata, pid, pidfd, SIGKILL);
		poll(&p, 1, 1000); /* SIGKILL: gone in a moment */
		proc->ops->reap(proc->userdata, pid, pidfd, &(int){ 0 });
		return -ETIMEDOUT;
	}
	return proc->ops->reap(proc->userdata, pid, pidfd, ret_status);
}

int proc_run_check(const struct proc_backend *proc, struct proc_spawn *spec, int timeout_ms, char *out,
		   size_t size, char *err, size_t errlen)
{
	_cleanup_close_ int efd = memfd_create("netd-child-stderr", MFD_CLOEXEC);
	const char *path = spec->exe ?: spec->argv[0],
		   *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char line[512];
	ssize_t n;
	int status = 0, r;

	if (efd < 0) {
		r = negative_errno();
		snprintf(err, errlen, "%s: cannot make a file for its errors: %s", name, strerror(-r));
		return r;
	}
	spec->stdio[2] = (struct proc_io){ PROC_IO_FD, efd };
	r = proc_run(proc, spec, timeout_ms, out, size, &status);
	if (r == -ETIMEDOUT)
		snprintf(err, errlen, "%s did not finish within %d %s", name,
			 timeout_ms % 1000 ? timeout_ms : timeout_ms / 1000, timeout_ms % 1000 ? "ms" : "s");
	else if (r < 0)
		snprintf(err, errlen, "%s: %s", name, proc->ops->last_error(proc->userdata));
	if (r < 0)
		return r;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	n = pread(efd, line, sizeof(line) - 1, 0);
	line[n > 0 ? n : 0] = 0;
	line[strcspn(line, "\n")] = 0;
	if (line[0])
		snprintf(err, errlen, "%s: %s", name, line);
	else
		snprintf(err, errlen, "%s exited with status %d", name,
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return -EIO;
}
