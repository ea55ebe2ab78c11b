/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the disk pool's files share (disk.c: the pool and its methods; disk-convert.c: conversions
 * run asynchronously). Errors are answered on the call (call_errorf) and returned.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "daemon.h"
#include "disk.h"

#define QEMU_IMG "/usr/bin/qemu-img"

/* A disk and the layers below it, from netd's records (.netd/NAME), each opened by netd:
 * layer 0 is the disk itself. */
struct disk_chain {
	size_t n;
	int fds[DISK_CHAIN_MAX];
	enum disk_format formats[DISK_CHAIN_MAX];
	char names[DISK_CHAIN_MAX][NAME_MAX + 1];
};

/* Who qemu-img runs as for the request c: its sender, with its groups (an operator is in group
 * netd and may open the pool's 0660 root:netd files itself; qemu-img reopens its fds by
 * /dev/fd/N), so that it has no root right; NULL (root) for a request of root's. buf holds it. */
/* Run qemu-img (argv a) on fd as its fd 3, as disk.c runs it: as c's requester, confined to its own
 * files and that fd, killed with netd; out gets its stdout, err its first stderr line on failure. */
int disk_qemu_img(struct daemon *d, const struct call *c, struct disk_argv *a, int fd, int timeout_ms,
		  char *out, size_t size, char *err, size_t errlen);
const struct process_cred *disk_qemu_img_cred(const struct call *c, struct process_cred *buf);
const char *disk_pool_path(struct daemon *d);
/* The pool's fd; made 0750 root:netd when it is not there and create is set. */
int disk_pool_open(struct daemon *d, struct call *c, bool create);
/* An existing disk of the pool made by netd, opened (never through a symlink), its qcow2 header
 * checked (disk_qcow2_refuse_reason). */
int disk_open(struct call *c, int pool, const char *name, int flags, struct stat *st,
	      enum disk_format *ret_format);
/* The chain under the disk name, open as fd in format f (the chain takes fd, also on failure). */
int disk_chain_open(struct call *c, int pool, const char *name, int fd, enum disk_format f,
		    struct disk_chain *ch);
void disk_chain_close(struct disk_chain *ch);
/* Reply with the disk's info (qemu-img info, netd's chain, its users). */
int disk_reply_info(struct daemon *d, struct call *c, int pool, const char *name, int fd, enum disk_format f,
		    const struct stat *st);
/* params' "format" (qcow2 when absent). */
int disk_parse_format(struct call *c, json_object *params, enum disk_format *ret);
/* Record the disk name (the file fd, made by netd) in the pool's root-only .netd/: its format and
 * the base it is an overlay on (NULL: none). */
int disk_record_put(struct call *c, int pool, const char *name, int fd, enum disk_format f,
		    const char *backing);
void disk_record_remove(int pool, const char *name);
int disk_method_convert(struct daemon *d, struct call *c, json_object *params);
int disk_method_import(struct daemon *d, struct call *c, json_object *params);
/* qemu-img convert of pool disk src's chain into the new pool disk dst, started on the event loop,
 * its progress sent on c. done (NULL: c is answered with dst's info) is called once at the end: r 0
 * (dst made and recorded) or a negative errno and the message (nothing made). */
typedef void (*disk_convert_done_fn)(void *userdata, int r, const char *msg);
int disk_convert_start(struct daemon *d, struct call *c, const char *src, const char *dst,
		       enum disk_format format, disk_convert_done_fn done, void *userdata);
/* A new pool disk name, a qcow2 overlay on the pool disk base (its size); ret_path: its path. */
int disk_pool_overlay(struct daemon *d, struct call *c, const char *name, const char *base, char *ret_path,
		      size_t path_size);
/* The pool disk's name when path is a file directly in the pool, else NULL (a pointer into path). */
const char *disk_pool_name_of(struct daemon *d, const char *path);
/* path is a pool disk that another pool disk is an overlay on (netd's records): its name into
 * ret_overlay. Written, it would change what the overlay reads. */
bool disk_pool_is_base(struct daemon *d, const char *path, char *ret_overlay, size_t size);
