/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one reader of /proc/PID: command line, executable, uids, network namespace. A process is
 * read through its /proc/PID directory fd: once that process is gone every read through it fails,
 * also when its pid has been reused meanwhile, so two reads never mix two processes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The /proc/PID directory of pid, O_CLOEXEC; negative errno (-ENOENT: no such process). */
int procfs_open(pid_t pid);
/* Read the file name of dfd: at most size bytes into buf (not terminated); *ret_more when the
 * file holds more. */
int procfs_read(int dfd, const char *name, char *buf, size_t size, size_t *ret_len, bool *ret_more);
/*
 * The command line, NUL-separated, at most size - 1 bytes, with its last argument terminated
 * (*ret_len counts that NUL); *ret_truncated when it is longer. -ESRCH for a kernel thread or a
 * zombie (an empty command line).
 */
int procfs_cmdline(int dfd, char *buf, size_t size, size_t *ret_len, bool *ret_truncated);
/* The same, whole (up to PROCFS_CMDLINE_MAX: -E2BIG), in a buffer the caller frees. */
#define PROCFS_CMDLINE_MAX (1024 * 1024)
int procfs_cmdline_alloc(int dfd, char **ret, size_t *ret_len);
/* Where exe points ("/usr/sbin/dnsmasq", with " (deleted)" once the file was replaced); -ENAMETOOLONG
 * when it does not fit. */
int procfs_exe(int dfd, char *buf, size_t size);
/* Real, effective and saved uid, from the "Uid:" line of its status. */
int procfs_uids(int dfd, uid_t ret[3]);
/* That line, parsed from the text of a status file. Pure (outside input: fuzzed). */
int procfs_status_uids(const char *text, uid_t ret[3]);
/* The parent's pid, from the "PPid:" line of its status (0 for a process whose parent is in another
 * pid namespace). */
int procfs_ppid(int dfd, pid_t *ret);
/* That line, parsed from the text of a status file. Pure (outside input). */
int procfs_status_ppid(const char *text, pid_t *ret);
/* The children of process pid (its main thread's, task/PID/children: the kernel lists a child
 * there until it exits or is reparented), at most n into ret; the number found. */
int procfs_children(int dfd, pid_t pid, pid_t *ret, size_t n);
/* The inode of /proc/PID/ns/net (PID a number or "self"): which network namespace; 0 if unknown. */
ino_t procfs_netns(const char *pid);
/* Whether arg is one of the arguments of a NUL-separated command line. Pure. */
bool procfs_argv_has(const char *argv, size_t len, const char *arg);
