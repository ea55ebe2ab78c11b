/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest's cloud-init NoCloud seed (vm create --cloud-init/--hostname/--ssh-key): what the request
 * brought, kept in the guest's state dir (root's, 0600), and the seed image made from it at start.
 * vmm/DESIGN.md, "Cloud-init".
 */
#pragma once

#include <json-c/json.h>
#include <sys/types.h>

#include "cloud-init.h"
#include "daemon.h"
#include "guest.h"

struct vm_cloud_init {
	char *files[_CLOUD_INIT_FILE_MAX]; /* the texts (user-data: netd's for --ssh-key); NULL: none */
	char hostname[CLOUD_INIT_HOSTNAME_MAX + 1]; /* "": the guest's name */
};

void vm_cloud_init_free(struct vm_cloud_init *ci);
static inline void vm_cloud_init_freep(struct vm_cloud_init **p)
{
	vm_cloud_init_free(*p);
}
/* The request's cloud_init_files, hostname, ssh_key, checked (each bad one a clear error on c):
 * *ret NULL when it has none; g->cloud_init set when it has. */
int vm_cloud_init_from_params(struct call *c, json_object *params, struct guest *g,
			      struct vm_cloud_init **ret);
/* Into the guest's state dir, with a new instance-id, as owner's (cloud-init-owner). */
int vm_cloud_init_save(struct daemon *d, const char *guest, const struct vm_cloud_init *ci, uid_t owner,
		       char *err, size_t errlen);
/* vm clone: src's files for dst, a new instance-id, no --hostname (the clone's name is its host
 * name). NULL when dst's name is a host name, else why not. */
const char *vm_cloud_init_clone_refuse_reason(const char *dst);
/* src's texts (refused unless they are src's owner's), read when the clone is admitted. */
int vm_cloud_init_texts_read(struct daemon *d, const struct guest *src, char *texts[_CLOUD_INIT_FILE_MAX],
			     char *err, size_t errlen);
void vm_cloud_init_texts_free(char *texts[_CLOUD_INIT_FILE_MAX]);
/* The texts into dst's state dir as owner's, with a new instance-id. */
int vm_cloud_init_clone(struct daemon *d, char *const texts[_CLOUD_INIT_FILE_MAX], const char *dst,
			uid_t owner, char *err, size_t errlen);
/* The seed of g, (re)made when it is missing or made for another instance-id, opened read-only. */
int vm_cloud_init_seed_open(struct daemon *d, const struct guest *g, int *ret_fd, char *err, size_t errlen);
/* instance-id and hostname for vm show (NULL when g has no seed). */
json_object *vm_cloud_init_json(struct daemon *d, const struct guest *g);
