/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure part of the systemd-networkd driver (mgr-networkd.c): the files netd writes for it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mac.h"

/* File names: the hold sorts before the bridge's files, which sort before any other name a host
 * is likely to use ("10-netplan-eth0.network", "50-dhcp.network"): networkd takes the first
 * .network file (by name, across /etc, /run and /usr/lib) whose [Match] fits. */
#define NETWORKD_HOLD_FMT "00-0netd-%s.network"
#define NETWORKD_NETDEV_FMT "00-netd-%s.netdev"
#define NETWORKD_NETWORK_FMT "00-netd-%s.network"
#define NETWORKD_PORT_FMT "00-netd-%s-port.network"

/* How the bridge's DHCPv4 client identifies itself: the port's, so the lease stays. */
struct networkd_client_id {
	enum { NETWORKD_CLIENT_ID_UNKNOWN, NETWORKD_CLIENT_ID_MAC, NETWORKD_CLIENT_ID_DUID } kind;
	uint32_t iaid; /* with DUID */
};

/* NULL when port and bridge can be written into a .network/.netdev file (and a file name),
 * else why not. */
const char *networkd_names_invalid_reason(const char *port, const char *bridge);
/* Runtime: networkd leaves both port and bridge alone (Unmanaged=yes). */
int networkd_render_hold(const char *port, const char *bridge, char **ret);
/* br0 itself: a bridge with the port's MAC, STP off, forward delay 0. */
int networkd_render_netdev(const char *bridge, const struct mac *mac, char **ret);
/* The port: a port of the bridge, no addresses of its own. */
int networkd_render_port(const char *port, const char *bridge, char **ret);
/*
 * The bridge's .network: the port's original .network (orig) without its [Match] sections, under
 * [Match] Name=BRIDGE, and the DHCPv4 client identifier of the port's lease. -EINVAL (err says
 * why) when orig cannot be moved: a key that only means something on the port (Bridge=, Bond=,
 * VRF=, VLAN=, MACVLAN=...).
 */
int networkd_render_bridge(const char *bridge, const char *orig, const struct networkd_client_id *id,
			   char **ret, char *err, size_t errlen);
/* NULL when path can be the .network file networkd's state names (NETWORK_FILE=): a file of one
 * of networkd's directories (/etc, /run, /usr/local/lib, /usr/lib, /lib + /systemd/network/)
 * ending in .network. networkd's own unprivileged user writes that state. */
const char *networkd_network_file_invalid_reason(const char *path);
/* What networkd's state file of a link says (links/IFINDEX): "ADMIN_STATE=" and "NETWORK_FILE="
 * into buf; -ENOENT without that key. */
int networkd_state_value(const char *text, const char *key, char *buf, size_t size);
/* The client identifier of a lease file (leases/IFINDEX, "CLIENTID=ff<IAID><DUID>" or "01<MAC>"). */
int networkd_lease_client_id(const char *text, struct networkd_client_id *ret);
