/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU processes, started through the process ops (common/proc.h, netd's one spawner). The child
 * gets exactly the fds in the map, at QEMU_FIRST_FD.., stdin from /dev/null, stdout/stderr to a
 * log file, its own session (so it outlives netd: no PDEATHSIG, no shared process group), a fixed
 * environment, everything else closed, and runs as the user it is given (never root unless
 * asked), with no way to gain privileges back, in a Landlock domain of its own (QEMUs share one
 * user: the domain keeps each out of the others' /proc/PID).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proc.h"

/* The credentials of user name (getpwnam, getgrouplist): -ENOENT when there is no such user,
 * -E2BIG when it has more groups than we keep. */
int process_cred_from_user(const char *name, struct process_cred *ret);
/* Whether cred may open a file of mode st_mode, owner uid and group gid for access (R_OK|W_OK):
 * the classic owner/group/other check, as the kernel makes it (ACLs aside). Root may. */
bool process_cred_may_access(const struct process_cred *cred, mode_t mode, uid_t uid, gid_t gid, int access);

/* Start QEMU's argv as cred (NULL: netd's own user, i.e. root) with fds at QEMU_FIRST_FD.. and
 * stdout/stderr to log_fd. A failure in the child is the return value, and is also written into
 * the log ("netd: cannot start ...: setresuid: ..."). */
int process_spawn(const struct proc_backend *proc, char *const *argv, const int *fds, size_t n_fds,
		  int log_fd, const struct process_cred *cred, pid_t *ret_pid);
/* A pidfd for pid (child or not); O_CLOEXEC. */
int process_pidfd(const struct proc_backend *proc, pid_t pid);
/* Whether pid runs the QEMU binary (its /proc/PID/exe) with every one of args among its
 * arguments (args is NULL-terminated). */
bool process_is_qemu(const struct proc_backend *proc, pid_t pid, const char *binary, const char *const *args);
/* Reap a child that exited, if it is ours (pidfd -1: by pid); returns the exit code or
 * 128+signal, -ECHILD if not ours, -EAGAIN while it runs. */
int process_reap(const struct proc_backend *proc, pid_t pid, int pidfd);
