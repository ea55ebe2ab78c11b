/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Port security: what each guest port may send, as two tables of netd's. The rules are a fixed
 * handful; what differs per port lives in sets keyed by the port's interface name, so a port or a
 * lease that comes or goes is a few set elements, applied in one small transaction
 * (ps_render_change), and the whole tables are rendered only when netd (re)applies them
 * (ps_render). Pure: text in memory, nothing else.
 *
 * "table bridge netd" filters what a port sends into its bridge. A FULL port may send only from
 * its MAC; IPv4 from its addresses (leases, reservations) or, with prefixes, from inside them (a
 * network without DHCP), and DHCP discovery from 0.0.0.0; DHCP only with its own MAC as the
 * client's hardware address; ARP only for its addresses; IPv6 from its EUI-64 link-local address
 * (derived from its MAC) and its IPv6 addresses, neighbour advertisements only for those; never
 * as a DHCP or DHCPv6 server (from their ports or to their clients' ports) or an IPv6 router; no
 * other ethertype (VLAN tags included). A MAC port (a network of mode bridge, whose addresses come
 * from the LAN) may send only from its MAC.
 *
 * "table inet netd_ports" drops every IP packet the host receives or would forward *on a guest
 * port itself* rather than on its bridge, whatever the port's level (OFF included): the bridge
 * hands frames addressed to the IEEE link-local groups (01:80:c2:00:00:0X, LLDP's above all)
 * to the port's own stack without its hooks, and a port whose bridge is gone is a bare interface.
 */
#pragma once

#include <net/if.h>
#include <stddef.h>

#include "addr.h"
#include "mac.h"

#define PS_FAMILY "bridge"
#define PS_TABLE "netd"
#define PS_INET_FAMILY "inet"
#define PS_INET_TABLE "netd_ports"

enum ps_level {
	PS_LEVEL_OFF, /* not filtered (only kept from the host's stack, as every port) */
	PS_LEVEL_MAC, /* only its MAC */
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

/* Both tables, each emptied and refilled in one transaction with every port's elements; with no
 * port both are removed. *ret_marker gets the comment the bridge table carries (a hash of the
 * rules of both and their count), which does not change with the ports. NULL without memory. */
char *ps_render(const struct ps_port *ports, size_t n, char **ret_marker);
/* How many set elements ps_render() puts in for these ports, both tables together. */
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

/* The address a MAC's EUI-64 interface identifier (RFC 4291, appendix A) makes in a /64 (NULL:
 * fe80::/64, the link-local one): what Linux and most guests use for SLAAC. */
struct ip_prefix ps_eui64_address(const struct mac *m, const struct ip_prefix *prefix64);

/* Both tables in the kernel (nft.c): the bridge table's marker and the rules and set elements of
 * both; -ENOENT when neither exists. */
struct fw_backend;
int ps_kernel_state(const struct fw_backend *b, char *marker, size_t size, size_t *ret_rules,
		    size_t *ret_elements);
