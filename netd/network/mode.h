/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Network modes as drivers: what a mode needs, answered by one file each (mode-nat.c, ...), and its
 * line in network.c's table. Nothing outside a mode file tests which mode a network has: it asks
 * the mode (n->mode->...). Others find a mode by its name (net_mode_from_string).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "firewall.h"
#include "portsec.h"

struct network;
struct mac;

struct net_mode {
	const char *name;
	const char *summary; /* one line for --help */
	/* netd creates the bridge (with the gateway address) and deletes it; otherwise the bridge is
	 * someone else's (a converted uplink) and must exist. */
	bool owns_bridge;
	/* A subnet and a gateway of its own: DHCP and DNS, netd's firewall facts, conflicts. */
	bool has_subnet;
	/* Traffic goes in and out of the subnet (--uplink allowed). */
	bool forwards;
	/* DHCP hands out the gateway as default route. */
	bool dhcp_router;
	/* May masquerade its IPv6 prefix (NAT66): by default for a ULA prefix, with --nat6 for a
	 * global one. Without it --nat6 is refused and IPv6 is never masqueraded. */
	bool nat6;
	/* How nat/ filters it (has_subnet modes only); read through net_mode_fw(). */
	enum fw_mode fw;
	/* A treatment that depends on the definition (evpn: --routed or NAT): it instead of fw;
	 * NULL: fw. */
	enum fw_mode (*fw_of)(const struct network *n);
	/* A VXLAN port on its bridge spans hosts (the vxlan feature): --vni is required, --routed
	 * allowed; other modes refuse both. */
	bool vxlan;
	/* The bridge's MAC, when the mode fixes it (evpn: the anycast gateway's): true and *ret;
	 * NULL or false: the pinned MAC, else one generated once. */
	bool (*bridge_mac)(const struct network *n, struct mac *ret);
	/* The most port security can check on its guests' ports. */
	enum ps_level port_level;
	/* Rules of its own on a definition (called after the common ones); NULL: none. */
	int (*validate)(const struct network *n, char *err, size_t errlen);
};

/* The mode of that name, or NULL; the names joined by ", " for messages; the i-th mode of the
 * table (NULL past the last), for --help. */
const struct net_mode *net_mode_from_string(const char *s);
const char *net_mode_names(void);
const struct net_mode *net_mode_at(size_t i);
/* How nat/ filters network n: its mode's fw_of(n), or its fw. */
enum fw_mode net_mode_fw(const struct network *n);
