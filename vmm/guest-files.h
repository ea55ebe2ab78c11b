/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The files a guest uses (kernel, initrd, disk, cdrom), opened by netd with the rights of the
 * user who asked and handed to QEMU as fds: QEMU itself needs no access to any path.
 *
 * A file is opened with O_PATH first (nothing is really opened yet: a device node's driver is not
 * called), checked (its type; its canonical path against the image directories unless the
 * requester is root), then opened for real through /proc/self/fd/N, so the permission check is
 * made with the requester's rights on exactly the file that was checked. For a requester other
 * than root, all of it happens in a forked child that took the requester's uid, gid and groups
 * and sends the fd back (SCM_RIGHTS).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest.h"
#include "process.h"

#define GUEST_BOOT_FILE_MAX (1024ull * 1024 * 1024) /* a kernel or initrd is copied into memory */

enum guest_file_kind {
	GUEST_FILE_KERNEL,
	GUEST_FILE_INITRD,
	GUEST_FILE_DISK,
	GUEST_FILE_CDROM,
	GUEST_FILE_DISK_RO, /* a readonly disk: opened read-only */
	_GUEST_FILE_MAX,
};
const char *guest_file_kind_to_string(enum guest_file_kind k);
/* The guest's path for k, "" when it has none (a disk: the first one's). */
const char *guest_file_path(const struct guest *g, enum guest_file_kind k);

/* What a requester may use: root anything; others regular files under the image directories. */
struct guest_file_rules {
	const char *const *image_dirs; /* canonical paths */
	size_t n_image_dirs;
	bool privileged; /* root: block devices, and paths outside the image directories */
};

enum guest_file_verdict {
	GUEST_FILE_OK,
	GUEST_FILE_NOT_REGULAR, /* a directory, a character device, a FIFO, a socket */
	GUEST_FILE_BLOCK_DEVICE, /* fine for a root requester's disk or cdrom only */
	GUEST_FILE_OUTSIDE, /* not under an image directory, and the requester is not root */
	_GUEST_FILE_VERDICT_MAX,
};
/* Pure (and async-signal-safe: it runs in the forked child). */
enum guest_file_verdict guest_file_check(enum guest_file_kind k, mode_t mode, const char *canonical,
					 const struct guest_file_rules *rules);
/* The first bytes of a qcow2 image name other files QEMU would open by path (a backing file, an
 * external data file). Pure. */
bool guest_qcow2_refers_to_files(const uint8_t *header, size_t len);

/*
 * Open path for k (read-only; a disk read-write) with cred's rights, under rules. On failure err
 * says why, starting with the path: "/root/x: permission denied for uid 1001 (...)", "/dev/sda is
 * a block device: ...". The fd is O_CLOEXEC.
 */
int guest_file_open(const struct process_cred *cred, enum guest_file_kind k, const char *path,
		    const struct guest_file_rules *rules, int *ret_fd, char *err, size_t errlen);
/* A kernel or initrd copied into a sealed memfd (no more writes, no growing): ret_fd is the
 * owner's (it may still truncate it), ret_ro_fd a read-only fd of it for QEMU. */
int guest_file_memfd(int fd, const char *name, int *ret_fd, int *ret_ro_fd);
