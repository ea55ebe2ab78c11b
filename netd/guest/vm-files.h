/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a guest's QEMU gets from netd instead of paths (vm-files.c): its user, the guest's files
 * opened with the rights of the user who asked, its run dir (0750 root:netd) with the QMP and
 * console sockets and the logs netd creates.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon.h"
#include "guest-files.h"
#include "process.h"
#include "vm.h"

void vm_cred_from_peer(const struct peer_cred *p, struct process_cred *ret);
void vm_peer_from_cred(const struct process_cred *c, struct peer_cred *ret);
/* Open each file g uses with who's rights: fds[k] is -1 where g has none. A disk of the pool that
 * netd recorded as an overlay gets its layers below (netd's record, never the header), each opened
 * read-only with who's rights, into layers (NULL: opened to check, then closed). On failure
 * nothing stays open and err is the whole message ("guest 'x': cdrom /root/secret: permission
 * denied ..."). */
int vm_files_open(struct daemon *d, const struct guest *g, const struct process_cred *who,
		  int fds[VM_FILES_MAX], struct vm_layers *layers, char *err, size_t errlen);
void vm_files_close(int fds[VM_FILES_MAX]);
void vm_layers_init(struct vm_layers *l);
void vm_layers_close(struct vm_layers *l);
/* One disk of g, the same way (vm attach-disk); its layers into layers->...[0]. */
int vm_file_open_disk(struct daemon *d, const struct guest *g, const struct guest_disk *disk,
		      const struct process_cred *who, int *ret_fd, struct vm_layers *layers, char *err,
		      size_t errlen);

/* The disk pool for vm create (netd/guest/disk.c). A --disk NAME (no '/'): the pool's file's path,
 * its format the one netd made it with (a different format= is refused). */
int disk_pool_resolve(struct daemon *d, struct call *c, struct guest_disk *disk);
/* --disk-size: a new file NAME of the pool (refused when it exists); its path into ret_path. */
int disk_pool_create(struct daemon *d, struct call *c, const char *name, enum disk_format f, uint64_t size,
		     char *ret_path, size_t path_size);
void disk_pool_remove(struct daemon *d, const char *name);

/* The group of operators ('netd'), 0 when there is none. */
gid_t vm_netd_gid(void);
/* <run>/guests and <run>/guests/NAME: 0750 root:netd, also when they existed with other modes. */
int vm_run_dir_prepare(struct daemon *d, const char *name, char *err, size_t errlen);
/* A log QEMU writes into (appending): 0640 root:netd. */
int vm_log_open(const char *path, int *ret_fd);
/* A listening unix socket at path, mode (0600 or 0660) and owner root:netd from the start. */
int vm_socket_listen(const char *path, mode_t mode, int *ret_fd);
/* A random VNC password (VNC uses 8 characters at most). */
int vm_vnc_password(char ret[static 9]);
