/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure part of the NetworkManager driver (mgr-nm.c): its keyfiles and device state files. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "mac.h"

#define NM_KEYFILE_DIR "etc/NetworkManager/system-connections"
/* in-memory profiles: NetworkManager loads them, a reboot forgets them */
#define NM_RUN_KEYFILE_DIR "run/NetworkManager/system-connections"
/* netd's profiles of the bridge and of its port, in NM_KEYFILE_DIR */
#define NM_BRIDGE_FMT "netd-%s.nmconnection"
#define NM_PORT_FMT "netd-%s-port.nmconnection"
#define NM_UUID_LEN 36

/* What the keyfiles of a bridge and its port are made of. */
struct nm_names {
	const char *port, *bridge;
	const char *bridge_uuid, *port_uuid;
	struct mac mac; /* the port's, which the bridge carries: the same DHCP client and lease */
	const char *metric; /* the port's route metric (its state's route-metric-default-effective), or NULL
			     */
};

/* Whether NetworkManager's state file of a device (/run/NetworkManager/devices/IFINDEX) says it
 * manages it: "managed=true" in its [device] group. */
bool nm_device_managed(const char *text);
/* The value of key in group of a keyfile (GKeyFile syntax: blanks around '=' dropped) into buf;
 * -ENOENT when there is none, -ENAMETOOLONG when it does not fit. */
int nm_keyfile_get(const char *text, const char *group, const char *key, char *buf, size_t size);
/* 8-4-4-4-12 hex digits. */
bool nm_uuid_valid(const char *s);
/* NULL when the profile (a keyfile) is one netd can move onto a bridge, else why not. */
const char *nm_profile_invalid_reason(const char *keyfile);
/*
 * The bridge's profile: type bridge with the port's MAC and STP off, the [connection] keys of the
 * port's profile that are not about its identity (zone, autoconnect, permissions...), its [ipv4],
 * [ipv6], [proxy] and [hostname] groups copied line by line, and the port's route metric where
 * the profile leaves it to the default (a bridge's default differs: 425, not 100).
 */
int nm_render_bridge(const struct nm_names *n, const char *orig, char **ret);
/* The port's profile: a port of the bridge, with every group of the port's profile that is about
 * the link ([ethernet], [ethtool], [802-1x], ...) copied line by line, no IP configuration. */
int nm_render_port(const struct nm_names *n, const char *orig, char **ret);
/* The port's original profile with autoconnect=false: it no longer competes for the port at boot. */
int nm_render_no_autoconnect(const char *orig, char **ret);
