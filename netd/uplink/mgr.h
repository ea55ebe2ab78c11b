/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's network manager, one driver each (mgr-ifupdown.c, mgr-networkd.c, mgr-nm.c): the
 * conversion keeps netd's hitless cut-over as the kernel step and has the manager that configured
 * the port step aside before it and take the bridge over after the confirmation.
 *
 *   detect     does it manage the port? 1 yes, 0 no, negative: refused (err says what to change)
 *   release    before the cut-over: let go of the port without touching the kernel state it made
 *   adopt      after the cut-over (verified): run the bridge and its port from runtime config, as
 *              it ran the port: its DHCP client renews the lease on the bridge until the confirm
 *   take_back  after a rollback's kernel step: manage the port again, as before the release
 *   persist    after confirm: the manager's own config describes the bridge with the port in it
 *   restore    its original config back, byte for byte
 *
 * Convert is release … cut-over … adopt; confirm is persist. Every rollback (no confirm, a
 * failure, a crash, a revert) is restore and the runtime files put back (the manager, restarted
 * by the release, must find no config of the bridge: it would build it again after the kernel
 * step), release again (the manager off the bridge and the port: after adopt, a confirm or a
 * reboot it had them) … kernel rollback … take_back. Each hook may run twice (a crash in
 * between): idempotent.
 *
 * Every file a driver changes or creates is saved first (mgr_file_save) in the uplink's state dir
 * (root's, 0700), under <state>/uplinks/BR/manager/{runtime,config}/, and put back from there:
 * runtime files (the manager's /run state) at take_back, config files at restore. A driver never
 * writes what it did not validate: names are interface names (ifname_valid), MACs are formatted
 * by netd, text copied from the manager's own config is copied whole and checked to parse as it
 * did (the unit tests render and parse back).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "mac.h"
#include "proc.h"

#define MGR_ERR_MAX 1024

struct mgr_ctx {
	const char *root; /* the managers' files live under it: "/" on a host */
	const char *port;
	const char *bridge;
	int ifindex; /* the port's */
	struct mac mac; /* the port's, which the bridge carries */
	const char *save_dir; /* <state>/uplinks/BR/manager */
	const struct proc_backend *proc;
};

typedef int (*mgr_op)(const struct mgr_ctx *c, char *err, size_t errlen);

struct mgr_driver {
	const char *name;
	mgr_op detect, release, adopt, take_back, persist, restore;
};

extern const struct mgr_driver mgr_networkmanager, mgr_networkd, mgr_ifupdown;

/* The driver of the manager that manages c->port (ret NULL: none), or the refusal (err set). */
int mgr_detect(const struct mgr_ctx *c, const struct mgr_driver **ret, char *err, size_t errlen);
const struct mgr_driver *mgr_driver_find(const char *name);

/* The driver an uplink's state dir names (<save_dir>/driver), NULL when none; and whether it
 * persisted (<save_dir>/persisted). */
const struct mgr_driver *mgr_saved_driver(const char *save_dir);
int mgr_save_driver(const char *save_dir, const struct mgr_driver *drv);
bool mgr_persisted(const char *save_dir);
int mgr_set_persisted(const char *save_dir, bool on);

/* The path of rel (a path below the root, no leading '/') under c->root. */
char *mgr_path(const struct mgr_ctx *c, const char *rel);

/* Save <root>/rel into the set ("runtime" or "config") unless it was saved already: its bytes and
 * mode, or that it did not exist. */
int mgr_file_save(const struct mgr_ctx *c, const char *set, const char *rel);
/* Put every file of the set back as it was saved (or remove it, if it did not exist), then
 * forget the set. The first failure is returned (err says which file); the others are tried. */
int mgr_files_restore(const struct mgr_ctx *c, const char *set, char *err, size_t errlen);
/* Save, then write <root>/rel atomically. */
int mgr_file_write(const struct mgr_ctx *c, const char *set, const char *rel, const char *text, size_t len,
		   mode_t mode);
/* Save, then remove <root>/rel (absent already: fine). */
int mgr_file_remove(const struct mgr_ctx *c, const char *set, const char *rel);

/*
 * Restart the manager: its running processes in our network namespace whose executable is named
 * exe_name ("/systemd-networkd") and is a genuine system binary, running as root or user (the one
 * it drops to; NULL: root only), are stopped (SIGSTOP, waited for: they write nothing more),
 * while_stopped runs (may be NULL; its failure lets them go on, SIGCONT), then they are SIGKILLed
 * and waited for: no stop action of theirs runs. Their supervisor starts them again (systemd:
 * Restart=on-failure); with respawn_ms, a new one must run within that long (-ETIMEDOUT: err says
 * to start it). None running: while_stopped alone.
 */
int mgr_daemon_restart(const struct mgr_ctx *c, const char *exe_name, const char *user, mgr_op while_stopped,
		       int respawn_ms, char *err, size_t errlen);

/* Set names, as mgr_file_save() takes them. */
#define MGR_SET_RUNTIME "runtime"
#define MGR_SET_CONFIG "config"
