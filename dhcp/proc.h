/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process ops table: how netd starts, signals, reaps and inspects the processes it
 * supervises. proc-real.c is the only file that forks; proc-fake.c records one line per
 * operation for unit tests. A process is held through a pidfd (O_CLOEXEC), which works for a
 * child and for an adopted process alike: it becomes readable when the process exits.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct proc_ops {
	const char *name;
	/* Run argv[0] (a path) with exactly envp, stdin on /dev/null, stdout and stderr
	 * inherited, no other fd, default signal mask and dispositions. */
	int (*spawn)(void *userdata, char *const argv[], char *const envp[], pid_t *ret_pid, int *ret_pidfd);
	int (*kill)(void *userdata, pid_t pid, int pidfd, int sig);
	/* Once the pidfd is readable: the exit status of a child; -ECHILD for an adopted process. */
	int (*reap)(void *userdata, pid_t pid, int pidfd, int *ret_status);
	/* A pidfd for a running process that is not (or no longer known to be) our child. */
	int (*open)(void *userdata, pid_t pid, int *ret_pidfd);
	/* The process's argv, NUL-separated; caller frees. */
	int (*cmdline)(void *userdata, pid_t pid, char **ret, size_t *ret_len);
};

struct proc_backend {
	const struct proc_ops *ops;
	void *userdata;
};

void proc_real_init(struct proc_backend *ret);

struct proc_fake;
int proc_fake_new(struct proc_fake **ret, struct proc_backend *ret_backend);
void proc_fake_free(struct proc_fake *f);
/* Everything done so far, one line per operation. */
const char *proc_fake_log(struct proc_fake *f);
void proc_fake_log_clear(struct proc_fake *f);
/* The next spawn fails with error (negative errno). */
void proc_fake_fail_spawn(struct proc_fake *f, int error);
/* The process exits with that wait status (its pidfd becomes readable). */
int proc_fake_exit(struct proc_fake *f, pid_t pid, int status);
/* A running process that is not our child, with this cmdline (NUL-separated), to adopt. */
int proc_fake_add_foreign(struct proc_fake *f, pid_t pid, const char *cmdline, size_t len);
