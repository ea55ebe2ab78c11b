/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A running guest's IPv6 addresses for `vm show` (vm-ipv6.c): DHCPv6 leases and the bridge's neighbours. */
#pragma once

#include <json-c/json.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "guest.h"
#include "link.h"
#include "mac.h"

struct daemon;
struct dhcp_lease_table;

#define VM_IPV6_MAX 32 /* per NIC: more is a guest playing games; vm show lists the first ones */

enum vm_ipv6_source {
	VM_IPV6_DHCPV6, /* a DHCPv6 lease of the network with the NIC's MAC */
	VM_IPV6_SLAAC, /* the bridge's neighbour at the EUI-64 address of the NIC's MAC in the prefix */
	VM_IPV6_NEIGHBOUR, /* the bridge's neighbour at another global or unique local address */
	_VM_IPV6_SOURCE_MAX,
};

struct vm_ipv6 {
	struct in6_addr addr;
	enum vm_ipv6_source source;
};

const char *vm_ipv6_source_to_string(enum vm_ipv6_source s);
/* Pure: the addresses of the NIC with that MAC, each once, at most max: leases first (at most
 * max / 2 of them), then neighbours. subnet6 (NULL or family 0: none) tells SLAAC addresses;
 * neighbours count in a valid state (reachable, stale, delay, probe) with that link-layer address,
 * link-local and multicast ones never. */
size_t vm_ipv6_collect(const struct mac *mac, const struct ip_prefix *subnet6,
		       const struct dhcp_lease_table *leases, const struct neigh_info *neighs,
		       size_t n_neighs, struct vm_ipv6 *ret, size_t max);
/* Adds "ipv6" (an array of {"address", "source"}) to each NIC of nics, vm_json's array of g's NICs
 * (empty while the guest is not alive). The first error of a neighbour dump is returned; that NIC
 * then lists its leases alone. */
int vm_ipv6_show(struct daemon *d, const struct guest *g, bool alive, json_object *nics);
