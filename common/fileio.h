/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Write through a temporary file in the same directory, fsync, rename: readers see old or new. */
int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode);
/* The same without the fsync, for files under the run dir (tmpfs on a host, gone at a reboot):
 * a crashed netd loses nothing of them, and a start does not wait for the disk. */
int write_runtime_file(const char *path, const char *data, size_t len, mode_t mode);
/* Read a whole (small) file; *ret is NUL-terminated. */
int read_file(const char *path, char **ret, size_t *ret_len);
/* mkdir -p */
int mkdir_p(const char *path, mode_t mode);
/* rm -rf of a directory netd owns (one level of files and dirs below it is enough for us). */
int rm_rf(const char *path);
/* Give fd (path when fd < 0) to root and group gid ((gid_t)-1 keeps the group). A process that is
 * not root (the whole daemon of the unit tests) cannot, and keeps it its own: 0 then. */
int give_to_root(int fd, const char *path, gid_t gid);
char *path_join(const char *a, const char *b);
