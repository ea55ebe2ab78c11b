/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A recording process backend for unit tests: nothing runs. Each process gets a pipe whose
 * read end plays the pidfd; proc_fake_exit() (or a fatal signal) closes the write end, which
 * makes the "pidfd" readable just as a real exit would.
 */
#include "proc.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakelog.h"
#include "macro.h"

#define FAKE_PROCS_MAX 64

struct fake_proc {
	pid_t pid;
	int write_fd; /* -1 once exited */
	int status;
	bool child;
	char *cmdline;
	size_t cmdline_len;
};

struct proc_fake {
	struct fake_proc procs[FAKE_PROCS_MAX];
	size_t n;
	pid_t next_pid;
	int fail_spawn;
	struct fake_log log;
};

static struct fake_proc *find(struct proc_fake *f, pid_t pid)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->procs[i].pid == pid)
			return &f->procs[i];
	return NULL;
}

static int add_proc(struct proc_fake *f, pid_t pid, bool child, int *ret_pidfd, struct fake_proc **ret)
{
	int fds[2];

	if (f->n == FAKE_PROCS_MAX)
		return -EAGAIN;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	f->procs[f->n] = (struct fake_proc){ .pid = pid, .write_fd = fds[1], .child = child };
	*ret = &f->procs[f->n++];
	*ret_pidfd = fds[0];
	return 0;
}

static int fake_spawn(void *userdata, char *const argv[], char *const envp[], pid_t *ret_pid, int *ret_pidfd)
{
	struct proc_fake *f = userdata;
	char line[1024] = "";
	struct fake_proc *p;
	size_t o = 0;
	int r;

	for (size_t i = 0; argv[i]; i++)
		o += snprintf(line + o, o < sizeof(line) ? sizeof(line) - o : 0, "%s%s", i ? " " : "", argv[i]);
	fake_log_add(&f->log, "spawn %s", line);
	if (f->fail_spawn) {
		r = f->fail_spawn;
		f->fail_spawn = 0;
		return r;
	}
	r = add_proc(f, f->next_pid, true, ret_pidfd, &p);
	if (r < 0)
		return r;
	*ret_pid = f->next_pid++;
	return 0;
}

static void exit_proc(struct fake_proc *p, int status)
{
	if (p->write_fd < 0)
		return;
	p->status = status;
	close(p->write_fd);
	p->write_fd = -1;
}

static int fake_kill(void *userdata, pid_t pid, int pidfd, int sig)
{
	struct proc_fake *f = userdata;
	struct fake_proc *p = find(f, pid);

	fake_log_add(&f->log, "kill %d %s", (int)pid, sigabbrev_np(sig) ?: "?");
	if (!p || p->write_fd < 0)
		return -ESRCH;
	if (sig == SIGTERM || sig == SIGKILL)
		exit_proc(p, sig);
	return 0;
}

static int fake_reap(void *userdata, pid_t pid, int pidfd, int *ret_status)
{
	struct proc_fake *f = userdata;
	struct fake_proc *p = find(f, pid);

	if (!p)
		return -ECHILD;
	if (p->write_fd >= 0)
		return -EAGAIN;
	fake_log_add(&f->log, "reap %d", (int)pid);
	if (!p->child)
		return -ECHILD;
	*ret_status = p->status;
	return 0;
}

static int fake_open(void *userdata, pid_t pid, int *ret_pidfd)
{
	struct proc_fake *f = userdata;
	struct fake_proc *p = find(f, pid);
	int fds[2];

	fake_log_add(&f->log, "open %d", (int)pid);
	if (!p || p->write_fd < 0)
		return -ESRCH;
	/* A second pidfd to the same process: a fresh pipe whose write end the process keeps. */
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	close(p->write_fd);
	p->write_fd = fds[1];
	*ret_pidfd = fds[0];
	return 0;
}

static int fake_cmdline(void *userdata, pid_t pid, char **ret, size_t *ret_len)
{
	struct proc_fake *f = userdata;
	struct fake_proc *p = find(f, pid);
	char *s;

	if (!p || p->write_fd < 0 || !p->cmdline)
		return -ENOENT;
	s = malloc(p->cmdline_len + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, p->cmdline, p->cmdline_len);
	s[p->cmdline_len] = 0;
	*ret = s;
	*ret_len = p->cmdline_len;
	return 0;
}

static const struct proc_ops fake_ops = {
	.name = "fake",
	.spawn = fake_spawn,
	.kill = fake_kill,
	.reap = fake_reap,
	.open = fake_open,
	.cmdline = fake_cmdline,
};

int proc_fake_new(struct proc_fake **ret, struct proc_backend *ret_backend)
{
	struct proc_fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->next_pid = 1000;
	*ret = f;
	*ret_backend = (struct proc_backend){ .ops = &fake_ops, .userdata = f };
	return 0;
}

void proc_fake_free(struct proc_fake *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		if (f->procs[i].write_fd >= 0)
			close(f->procs[i].write_fd);
		free(f->procs[i].cmdline);
	}
	fake_log_clear(&f->log);
	free(f);
}

const char *proc_fake_log(struct proc_fake *f)
{
	return fake_log_text(&f->log);
}

void proc_fake_log_clear(struct proc_fake *f)
{
	fake_log_clear(&f->log);
}

void proc_fake_fail_spawn(struct proc_fake *f, int error)
{
	f->fail_spawn = error;
}

int proc_fake_exit(struct proc_fake *f, pid_t pid, int status)
{
	struct fake_proc *p = find(f, pid);

	if (!p)
		return -ESRCH;
	exit_proc(p, status);
	return 0;
}

int proc_fake_add_foreign(struct proc_fake *f, pid_t pid, const char *cmdline, size_t len)
{
	struct fake_proc *p;
	int pidfd, r = add_proc(f, pid, false, &pidfd, &p);

	if (r < 0)
		return r;
	close(pidfd);
	p->cmdline = malloc(len);
	if (!p->cmdline)
		return -ENOMEM;
	memcpy(p->cmdline, cmdline, len);
	p->cmdline_len = len;
	return 0;
}
