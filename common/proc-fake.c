/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A recording process backend for unit tests: nothing runs. Each process gets a pipe whose
 * read end plays the pidfd; proc_fake_exit() (or a fatal signal) closes the write end, which
 * makes the "pidfd" readable just as a real exit would. A process keeps copies of the fds it was
 * given (spec->fds) until it exits, as a real child would: a test can play the program on them
 * (proc_fake_child_fd), e.g. answer on QEMU's QMP socket.
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
	char *exe;
	int fds[PROC_FDS_MAX]; /* what it got as first_fd + i, -1 once it exited */
	size_t n_fds;
	int first_fd;
};

#define FAKE_RUNS_MAX 8

/* A program that runs to its end at once (proc_fake_set_run). */
struct fake_run {
	char *exe;
	char *out;
	int status;
};

struct proc_fake {
	struct fake_run runs[FAKE_RUNS_MAX];
	size_t n_runs;
	struct fake_proc procs[FAKE_PROCS_MAX];
	size_t n;
	pid_t next_pid;
	int fail_spawn;
	bool kill_deferred;
	int fail_kill;
	char error[128];
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

static const char *const io_table[] = {
	[PROC_IO_NULL] = "null",
	[PROC_IO_INHERIT] = "inherit",
	[PROC_IO_FD] = "fd",
};

/* What the spec asks beyond the defaults, each with a blank before it; "" for none. */
static void spawn_extras(const struct proc_spawn *spec, FILE *m)
{
	static const char *const stdio_names[] = { "stdin", "stdout", "stderr" };

	if (spec->exe && strcmp(spec->exe, spec->argv[0]))
		fprintf(m, " exe=%s", spec->exe);
	for (size_t i = 0; i < 3; i++)
		if (spec->stdio[i].kind != PROC_IO_NULL)
			fprintf(m, " %s=%s", stdio_names[i], io_table[spec->stdio[i].kind]);
	if (spec->n_fds)
		fprintf(m, " fds=%zu@%d", spec->n_fds, spec->first_fd);
	if (spec->cred)
		fprintf(m, " uid=%u gid=%u groups=%zu", (unsigned)spec->cred->uid, (unsigned)spec->cred->gid,
			spec->cred->n_groups);
	fprintf(m, "%s%s%s%s%s%s", spec->no_new_privs ? " nnp" : "", spec->landlock ? " landlock" : "",
		spec->confine_files ? " confined" : "", spec->new_session ? " session" : "",
		spec->detached ? " detached" : "", spec->die_with_parent ? " pdeathsig" : "");
}

/* "spawn ARGV... [EXTRAS]" */
static void log_spawn(struct proc_fake *f, const struct proc_spawn *spec)
{
	_cleanup_free_ char *args = NULL, *extras = NULL;
	size_t n_args = 0, n_extras = 0;
	FILE *a = open_memstream(&args, &n_args), *e = open_memstream(&extras, &n_extras);
	int ra, re;

	if (!a || !e) {
		if (a)
			fclose(a);
		if (e)
			fclose(e);
		return;
	}
	for (size_t i = 0; spec->argv[i]; i++)
		fprintf(a, "%s%s", i ? " " : "", spec->argv[i]);
	spawn_extras(spec, e);
	ra = fclose(a);
	re = fclose(e);
	if (ra == 0 && re == 0)
		fake_log_add(&f->log, "spawn %s%s%s%s", args, *extras ? " [" : "", *extras ? extras + 1 : "",
			     *extras ? "]" : "");
}

/* What /proc/PID/cmdline would say: the arguments, each NUL-terminated. */
static int argv_join(char *const *argv, char **ret, size_t *ret_len)
{
	size_t len = 0;
	char *s;

	for (size_t i = 0; argv[i]; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	*ret = s;
	*ret_len = len;
	for (size_t i = 0; argv[i]; i++)
		s = stpcpy(s, argv[i]) + 1;
	return 0;
}

static const struct fake_run *run_find(const struct proc_fake *f, const char *exe)
{
	for (size_t i = 0; exe && i < f->n_runs; i++)
		if (!strcmp(f->runs[i].exe, exe))
			return &f->runs[i];
	return NULL;
}

static void exit_proc(struct fake_proc *p, int status);

/* A canned run: what its stdin held goes to the log, its output to its stdout, and it exits. */
static void run_play(struct proc_fake *f, const struct fake_run *run, const struct proc_spawn *spec,
		     struct fake_proc *p)
{
	char in[4096];
	ssize_t n = 0;

	if (spec->stdio[0].kind == PROC_IO_FD)
		n = pread(spec->stdio[0].fd, in, sizeof(in) - 1, 0);
	in[n > 0 ? n : 0] = 0;
	if (in[0])
		fake_log_add(&f->log, "stdin %s", in);
	if (spec->stdio[1].kind == PROC_IO_FD && run->out)
		(void)!write(spec->stdio[1].fd, run->out, strlen(run->out));
	exit_proc(p, run->status);
}

int proc_fake_set_run(struct proc_fake *f, const char *exe, const char *out, int status)
{
	struct fake_run *r = (struct fake_run *)run_find(f, exe);

	if (!r) {
		if (f->n_runs >= FAKE_RUNS_MAX)
			return -ENOSPC;
		r = &f->runs[f->n_runs++];
		*r = (struct fake_run){ .exe = strdup(exe) };
		if (!r->exe)
			return -ENOMEM;
	}
	free(r->out);
	r->out = out ? strdup(out) : NULL;
	r->status = status;
	return out && !r->out ? -ENOMEM : 0;
}

static int fake_spawn(void *userdata, const struct proc_spawn *spec, pid_t *ret_pid, int *ret_pidfd)
{
	struct proc_fake *f = userdata;
	struct fake_proc *p;
	int pidfd, r;

	log_spawn(f, spec);
	f->error[0] = 0;
	if (f->fail_spawn) {
		r = f->fail_spawn;
		f->fail_spawn = 0;
		snprintf(f->error, sizeof(f->error), "execve: %s", strerror(-r));
		return r;
	}
	if (spec->detached && ret_pidfd)
		return -EINVAL;
	r = add_proc(f, f->next_pid, !spec->detached, &pidfd, &p);
	if (r < 0)
		return r;
	if (ret_pidfd)
		*ret_pidfd = pidfd;
	else
		close(pidfd);
	p->first_fd = spec->first_fd;
	for (size_t i = 0; i < spec->n_fds && i < PROC_FDS_MAX; i++) {
		p->fds[i] = fcntl(spec->fds[i], F_DUPFD_CLOEXEC, 3);
		p->n_fds++;
	}
	p->exe = strdup(spec->exe ?: spec->argv[0]);
	if (!p->exe || argv_join(spec->argv, &p->cmdline, &p->cmdline_len) < 0)
		return -ENOMEM;
	if (run_find(f, p->exe))
		run_play(f, run_find(f, p->exe), spec, p);
	*ret_pid = f->next_pid++;
	return 0;
}

static void close_child_fds(struct fake_proc *p)
{
	for (size_t i = 0; i < p->n_fds; i++)
		if (p->fds[i] >= 0)
			close(TAKE_FD(p->fds[i]));
	p->n_fds = 0;
}

static void exit_proc(struct fake_proc *p, int status)
{
	if (p->write_fd < 0)
		return;
	close_child_fds(p);
	p->status = status;
	close(p->write_fd);
	p->write_fd = -1;
}

static int fake_kill(void *userdata, pid_t pid, int pidfd, int sig)
{
	struct proc_fake *f = userdata;
	struct fake_proc *p = find(f, pid);

	fake_log_add(&f->log, "kill %d %s", (int)pid, sigabbrev_np(sig) ?: "?");
	if (f->fail_kill) {
		int r = f->fail_kill;

		f->fail_kill = 0;
		return r;
	}
	if (!p || p->write_fd < 0)
		return -ESRCH;
	if ((sig == SIGTERM || sig == SIGKILL) && !f->kill_deferred)
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

static int fake_exe(void *userdata, pid_t pid, char *buf, size_t size)
{
	struct proc_fake *f = userdata;
	struct fake_proc *p = find(f, pid);

	if (!p || p->write_fd < 0 || !p->exe)
		return -ENOENT;
	if (strlen(p->exe) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, p->exe);
	return 0;
}

static const char *fake_last_error(void *userdata)
{
	struct proc_fake *f = userdata;

	return f->error;
}

/* Not logged: when the caller's retry timer fires depends on the clock, and the log is compared
 * with golden files. A running fake process has its socket bound at once. */
static int fake_rtnl_unsubscribe(void *userdata, pid_t pid, int pidfd, uint64_t groups)
{
	struct proc_fake *f = userdata;
	struct fake_proc *p = find(f, pid);

	return p && p->write_fd >= 0 ? 1 : -ESRCH;
}

static const struct proc_ops fake_ops = {
	.name = "fake",
	.spawn = fake_spawn,
	.kill = fake_kill,
	.reap = fake_reap,
	.open = fake_open,
	.cmdline = fake_cmdline,
	.exe = fake_exe,
	.last_error = fake_last_error,
	.rtnl_unsubscribe = fake_rtnl_unsubscribe,
};

void proc_fake_defer_kill(struct proc_fake *f, bool deferred)
{
	f->kill_deferred = deferred;
}

void proc_fake_fail_kill(struct proc_fake *f, int error)
{
	f->fail_kill = error;
}

int proc_fake_new(struct proc_fake **ret, struct proc_backend *ret_backend)
{
	struct proc_fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->log.name = "proc";
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
		close_child_fds(&f->procs[i]);
		free(f->procs[i].cmdline);
		free(f->procs[i].exe);
	}
	for (size_t i = 0; i < f->n_runs; i++) {
		free(f->runs[i].exe);
		free(f->runs[i].out);
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

int proc_fake_set_exe(struct proc_fake *f, pid_t pid, const char *exe)
{
	struct fake_proc *p = find(f, pid);
	char *copy;

	if (!p)
		return -ESRCH;
	copy = strdup(exe);
	if (!copy)
		return -ENOMEM;
	free(p->exe);
	p->exe = copy;
	return 0;
}

int proc_fake_child_fd(struct proc_fake *f, pid_t pid, int child_fd)
{
	struct fake_proc *p = find(f, pid);

	if (!p || child_fd < p->first_fd || (size_t)(child_fd - p->first_fd) >= p->n_fds)
		return -ENOENT;
	return p->fds[child_fd - p->first_fd];
}
