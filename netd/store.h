/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Files netd keeps: definitions in the config dir (<config>/networks/NAME.conf), generated
 * values in the state dir (<state>/networks/NAME/mac), and runtime markers in the run dir
 * (<run>/networks/NAME.active: the network should be running, so a restarted netd adopts it).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

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

int store_active_set(const struct netd_paths *p, const char *name, bool active);
bool store_active_get(const struct netd_paths *p, const char *name);
/* Whether the run dir already has markers (netd restarted since boot) or is fresh (boot). */
bool store_active_known(const struct netd_paths *p);
int store_active_init(const struct netd_paths *p);
