/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU processes: the one file that forks. The child gets exactly the fds in the map, at
 * QEMU_FIRST_FD.., stdin from /dev/null, stdout/stderr to a log file, its own session (so it
 * outlives netd: no PDEATHSIG, no shared process group), everything else closed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

int process_spawn(char *const *argv, const int *fds, size_t n_fds, const char *log_path, pid_t *ret_pid);
/* A pidfd for pid (child or not); O_CLOEXEC. */
int process_pidfd(pid_t pid);
/* Whether /proc/PID/cmdline is a QEMU whose arguments contain needle (the QMP socket path). */
bool process_is_qemu_with(pid_t pid, const char *needle);
/* Reap a child that exited, if it is ours; returns the exit code or 128+signal, -ECHILD if not ours. */
int process_reap(pid_t pid);
