/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NetworkManager: detected (/run/NetworkManager/devices/IFINDEX) and refused with what to change.
 * Handing eth0 over needs its D-Bus API (a bridge and a port connection profile, activated
 * without a re-DHCP); that path is not built yet, and an untested one would be worse than the
 * refusal.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "macro.h"
#include "mgr.h"

static int nm_detect(const struct mgr_ctx *c, char *err, size_t errlen)
{
	_cleanup_free_ char *path = NULL;
	char rel[64];

	snprintf(rel, sizeof(rel), "run/NetworkManager/devices/%d", c->ifindex);
	path = mgr_path(c, rel);
	if (!path)
		return -ENOMEM;
	if (access(path, F_OK) < 0)
		return 0;
	snprintf(err, errlen, "NetworkManager manages '%s'; make it leave the interface first "
		 "(nmcli device set %s managed no), or let NetworkManager build the bridge", c->port, c->port);
	return -EBUSY;
}

const struct mgr_driver mgr_networkmanager = {
	.name = "NetworkManager",
	.detect = nm_detect,
};
