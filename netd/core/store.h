/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Files netd keeps: definitions in the config dir (<config>/networks/NAME.conf), generated
 * values in the state dir (<state>/networks/NAME/mac), and runtime markers in the run dir
 * (<run>/networks/NAME.active: the network should be running, so a restarted netd adopts it).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "macro.h"
#include "network.h"

struct netd_paths {
	char *config_dir;
	char *state_dir;
	char *run_dir;
	char *socket;
	/* where NetworkManager, systemd-networkd and ifupdown keep their runtime files (their
	 * /run); NULL: don't look for them (netd is not in their network namespace) */
	const char *manager_root;
};

/* Load every definition; a file that does not parse is reported through the callback and skipped. */
typedef void (*store_error_fn)(const char *file, const char *msg, void *userdata);
int store_networks_load(const struct netd_paths *p, struct network ***ret, size_t *ret_n,
			store_error_fn on_error, void *userdata);
int store_network_save(const struct netd_paths *p, const struct network *n);
int store_network_remove(const struct netd_paths *p, const char *name);
char *store_network_path(const struct netd_paths *p, const char *name);

/* The bridge MAC: pinned in the definition, or generated once and kept in the state dir. */
int store_network_mac(const struct netd_paths *p, const struct network *n, struct mac *ret);
int store_network_state_remove(const struct netd_paths *p, const char *name);

/* The host's IPv6 ULA /48 (RFC 4193, a random global ID), <state>/ula-prefix: generated once, then
 * read back. -EBADMSG when the file holds something else (it is left alone, for the operator).
 * !save (a dry run): a missing file is not made, the prefix is a random one of this call only. */
int store_ula_prefix(const struct netd_paths *p, bool save, struct ip_prefix *ret);

int store_active_set(const struct netd_paths *p, const char *name, bool active);
bool store_active_get(const struct netd_paths *p, const char *name);
/* Whether the run dir already has markers (netd restarted since boot) or is fresh (boot). */
bool store_active_known(const struct netd_paths *p);
int store_active_init(const struct netd_paths *p);

/*
 * What the stores of networks (above) and guests (vm-store.c) share. KIND is the folder
 * ("networks", "guests") under each dir.
 */
char *store_pathf(const char *fmt, ...) _printf_(1, 2);
/* A kind of definition: <config>/FOLDER/NAME.conf, read into an object of size bytes. */
struct store_kind {
	const char *folder; /* "networks" */
	const char *noun; /* "network", for messages */
	size_t size;
	/* Fill obj (zeroed) from NAME's text, checked; err says why not. */
	int (*parse)(const char *name, const char *text, void *obj, char *err, size_t errlen);
	/* Free obj, filled or not. */
	void (*free)(void *obj);
};
/*
 * Every definition of k that is not hidden, in name order, into *ret_list, an array of pointers
 * to k's objects (the caller's struct network ***, say). A file that cannot be read, whose name is
 * too long for a name or that parse refuses is reported through on_error and skipped; only
 * -ENOMEM stops the load (nothing is returned then).
 */
int store_config_load(const struct netd_paths *p, const struct store_kind *k, void *ret_list, size_t *ret_n,
		      store_error_fn on_error, void *userdata);
/* <config>/KIND/NAME.conf, written atomically (the folder made if needed), or removed. */
int store_config_save(const struct netd_paths *p, const char *kind, const char *name, const char *text,
		      mode_t mode);
int store_config_remove(const struct netd_paths *p, const char *kind, const char *name);
/* A small file of generated values, <state>/KIND/NAME/FILE: read; written atomically (0644, the
 * folder made if needed); the whole <state>/KIND/NAME removed. */
int store_state_read(const struct netd_paths *p, const char *kind, const char *name, const char *file,
		     char **ret);
int store_state_write(const struct netd_paths *p, const char *kind, const char *name, const char *file,
		      const char *text);
int store_state_remove(const struct netd_paths *p, const char *kind, const char *name);
/* MACs one a line in such a file: at most max read (a line that is no MAC reads as all zeros);
 * returns how many lines, -ENOENT when there is no file. */
int store_macs_load(const struct netd_paths *p, const char *kind, const char *name, const char *file,
		    struct mac *ret, size_t max);
int store_macs_save(const struct netd_paths *p, const char *kind, const char *name, const char *file,
		    const struct mac *macs, size_t n);
