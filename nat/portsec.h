/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Port security: what each guest port may send, as netd's bridge-family table ("table bridge
 * netd"). The rules are a fixed handful; what differs per port lives in sets keyed by the port's
 * interface name, so a port or a lease that comes or goes is one or two set elements, applied in
 * one small transaction (ps_render_change), and the whole table is rendered only when netd (re)
 * applies it (ps_render). Pure: text in memory, nothing else.
 *
 * A FULL port may send only from its MAC; IPv4 from its addresses (leases, reservations) or, with
 * an address prefix, from inside it (a network without DHCP), and DHCP discovery from 0.0.0.0;
 * ARP only for those addresses; IPv6 from link-local (and its IPv6 addresses); never as a DHCP or
 * DHCPv6 server or an IPv6 router; no other ethertype (VLAN tags included). A MAC port (a network
 * of mode bridge, whose addresses come from the LAN) may send only from its MAC.
 */
#pragma once

#include <net/if.h>
#include <stddef.h>

#include "addr.h"
#include "mac.h"

#define PS_FAMILY "bridge"
#define PS_TABLE "netd"

enum ps_level {
	PS_LEVEL_OFF,  /* not filtered */
	PS_LEVEL_MAC,  /* only its MAC */
	PS_LEVEL_FULL, /* MAC, addresses, no DHCP server or router */
	_PS_LEVEL_MAX,
	_PS_LEVEL_INVALID = -1,
};

const char *ps_level_to_string(enum ps_level l);
enum ps_level ps_level_from_string(const char *s);

struct ps_port {
	char ifname[IFNAMSIZ];
	struct mac mac;
	enum ps_level level;
	/* FULL: addresses (/32, /128) and prefixes (a network without DHCP) it may send from. */
	struct ip_prefix *addrs;
	size_t n_addrs;
};

/* The whole table: "table bridge netd" + "delete table bridge netd" + the table with every port's
 * elements, replacing it in one transaction; with no port the table is removed. *ret_marker gets
 * the comment the table carries (a hash of its rules and their count), which does not change with
 * the ports. NULL without memory. */
char *ps_render(const struct ps_port *ports, size_t n, char **ret_marker);
/* How many set elements ps_render() puts in for these ports (what a listing must show). */
size_t ps_elements(const struct ps_port *ports, size_t n);

/* One transaction's worth of changes: ports whose elements go, then ports whose elements come.
 * A port that changes (a lease, a move to another network) is in both: the kernel applies the
 * whole transaction at once, so no packet sees the port without its elements. "" when nothing
 * changes; NULL without memory. */
struct ps_change {
	const struct ps_port *gone, *added;
	size_t n_gone, n_added;
};
char *ps_render_change(const struct ps_change *c);
