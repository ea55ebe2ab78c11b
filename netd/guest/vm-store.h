/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest files: <config>/guests/NAME.conf (the definition), <state>/guests/NAME/macs (the MACs
 * generated once for NICs without a pinned one, one a line), <state>/guests/NAME/uuid (QEMU's
 * -uuid, generated once), <run>/guests/NAME/ (runtime: pid, taps, qmp.sock, console.sock,
 * serial.log, qemu.log). The definition is 0640 root:netd and names its creator (owner = UID).
 */
#pragma once

#include "guest.h"
#include "process.h"
#include "store.h"

int store_guests_load(const struct netd_paths *p, struct guest ***ret, size_t *ret_n, store_error_fn on_error,
		      void *userdata);
int store_guest_save(const struct netd_paths *p, const struct guest *g);
/* Config, state and run dir of a guest. */
int store_guest_remove(const struct netd_paths *p, const char *name);
/* Fill the MAC of each NIC without a pinned one from the state dir, generating (and keeping)
 * the missing ones, none of them in taken. */
int store_guest_macs(const struct netd_paths *p, struct guest *g, const struct mac *taken, size_t n_taken);
char *store_guest_run_dir(const struct netd_paths *p, const char *name);
/* The guest's UUID ("xxxxxxxx-xxxx-4xxx-..."), generated once and kept. */
int store_guest_uuid(const struct netd_paths *p, const char *name, char ret[static 37]);
/* Who created the guest: the rights its files are opened with when it starts at boot.
 * load: -ENOENT when none is recorded (a hand-written definition: root's). */
