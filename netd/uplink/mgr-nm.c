/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NetworkManager: detected (/run/NetworkManager/devices/IFINDEX says managed=true) and refused
 * with what to change; 'nmcli device set eth0 managed no' makes it leave eth0 with its addresses,
 * routes and lease (no RELEASE: 1.42, measured), after which the conversion goes ahead.
 * Handing eth0 over needs its D-Bus API (a bridge and a port connection profile, activated
 * without a re-DHCP); that path is not built yet, and an untested one would be worse than the
 * refusal.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "macro.h"
#include "mgr.h"

/*
 * Whether NetworkManager's state file of a device says it manages it: "managed=true" in its
 * [device] section. NetworkManager keeps the file of a device it was told to leave alone
 * ('nmcli device set eth0 managed no'), with "managed=false" (1.42, measured).
 */
bool nm_device_managed(const char *text)
{
	bool in_device = false;

	for (const char *p = text; *p;) {
		const char *end = strchrnul(p, '\n');
		size_t len = end - p;

		if (len && p[0] == '[')
			in_device = len == 8 && !strncmp(p, "[device]", 8);
		else if (in_device && len == 12 && !strncmp(p, "managed=true", 12))
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

static int nm_detect(const struct mgr_ctx *c, char *err, size_t errlen)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	char rel[64];

	snprintf(rel, sizeof(rel), "run/NetworkManager/devices/%d", c->ifindex);
	path = mgr_path(c, rel);
	if (!path)
		return -ENOMEM;
	if (read_file(path, &text, NULL) < 0 || !nm_device_managed(text))
		return 0;
	snprintf(err, errlen,
		 "NetworkManager manages '%s'; make it leave the interface first "
		 "(nmcli device set %s managed no), or let NetworkManager build the bridge",
		 c->port, c->port);
	return -EBUSY;
}

const struct mgr_driver mgr_networkmanager = {
	.name = "NetworkManager",
	.detect = nm_detect,
};
