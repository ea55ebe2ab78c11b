/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A running guest's IPv6 addresses, for `vm show`: per NIC, the DHCPv6 leases of its network whose
 * MAC is the NIC's, then the global and unique local addresses its network's bridge has a
 * neighbour entry for with the NIC's MAC as link-layer address. A guest that configured itself by
 * SLAAC is known only there, once it sent from its address (the host, answering, learns it); the
 * entry says "slaac" when it is the EUI-64 address of the NIC's MAC in the prefix, "neighbour"
 * otherwise (a privacy or static address: port security lets one through only when the NIC's
 * security is off). One neighbour dump of that bridge alone (link_dump_of) per NIC.
 */
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <netinet/in.h>

#include "daemon.h"
#include "lease.h"
#include "network.h"
#include "portsec.h"
#include "vm-ipv6.h"

static const char *const source_table[_VM_IPV6_SOURCE_MAX] = {
	[VM_IPV6_DHCPV6] = "dhcpv6",
	[VM_IPV6_SLAAC] = "slaac",
	[VM_IPV6_NEIGHBOUR] = "neighbour",
};

const char *vm_ipv6_source_to_string(enum vm_ipv6_source s)
{
	return s >= 0 && s < _VM_IPV6_SOURCE_MAX ? source_table[s] : NULL;
}

static bool listed(const struct vm_ipv6 *a, size_t n, const struct in6_addr *addr)
{
	for (size_t i = 0; i < n; i++)
		if (IN6_ARE_ADDR_EQUAL(&a[i].addr, addr))
			return true;
	return false;
}

/* An entry that says where the guest is now: a link-layer address the kernel holds valid. */
static bool neigh_counts(const struct neigh_info *nb, const struct mac *mac)
{
	const struct in6_addr *a = &nb->dst.in6;

	if (nb->family != AF_INET6 || !nb->has_lladdr || !mac_equal(&nb->lladdr, mac) ||
	    !(nb->state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE)))
		return false;
	return !IN6_IS_ADDR_LINKLOCAL(a) && !IN6_IS_ADDR_MULTICAST(a) && !IN6_IS_ADDR_UNSPECIFIED(a) &&
	       !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_V4MAPPED(a);
}

size_t vm_ipv6_collect(const struct mac *mac, const struct ip_prefix *subnet6,
		       const struct dhcp_lease_table *leases, const struct neigh_info *neighs,
		       size_t n_neighs, struct vm_ipv6 *ret, size_t max)
{
	struct ip_prefix slaac = {};
	size_t n = 0;
	struct mac m;

	if (subnet6 && subnet6->family == AF_INET6 && subnet6->len <= 64)
		slaac = ps_eui64_address(mac, subnet6);
	/* Half the room at most for leases: a guest may lease under many DUIDs, and they should not
	 * hide its SLAAC address. */
	for (size_t i = 0; leases && i < leases->n && n < max / 2; i++) {
		const struct dhcp_lease *l = &leases->leases[i];

		if (l->family == AF_INET6 && dhcp_lease6_mac(l, &m) && mac_equal(&m, mac) &&
		    !listed(ret, n, &l->ip.in6))
			ret[n++] = (struct vm_ipv6){ .addr = l->ip.in6, .source = VM_IPV6_DHCPV6 };
	}
	for (size_t i = 0; i < n_neighs && n < max; i++) {
		const struct in6_addr *a = &neighs[i].dst.in6;

		if (!neigh_counts(&neighs[i], mac) || listed(ret, n, a))
			continue;
		ret[n++] = (struct vm_ipv6){
			.addr = *a,
			.source = slaac.family && IN6_ARE_ADDR_EQUAL(a, &slaac.addr.in6) ? VM_IPV6_SLAAC :
											   VM_IPV6_NEIGHBOUR,
		};
	}
	return n;
}

static json_object *nic_ipv6_json(struct daemon *d, const struct guest_nic *nic, const struct link_dump *dump)
{
	const struct network *net = daemon_network_find(d, nic->network);
	struct dhcp_server *srv = daemon_dhcp_find(d, nic->network);
	struct vm_ipv6 a[VM_IPV6_MAX];
	json_object *arr = json_object_new_array();
	char ip[INET6_ADDRSTRLEN];
	size_t n;

	n = vm_ipv6_collect(&nic->mac, net ? &net->subnet6 : NULL, srv ? &srv->leases : NULL, dump->neighs,
			    dump->n_neighs, a, ELEMENTSOF(a));
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(
			o, "address",
			json_object_new_string(inet_ntop(AF_INET6, &a[i].addr, ip, sizeof(ip))));
		json_object_object_add(o, "source",
				       json_object_new_string(vm_ipv6_source_to_string(a[i].source)));
		json_object_array_add(arr, o);
	}
	return arr;
}

int vm_ipv6_show(struct daemon *d, const struct guest *g, bool alive, json_object *nics)
{
	int err = 0;

	for (size_t i = 0; i < g->n_nics && i < json_object_array_length(nics); i++) {
		const struct network *net = daemon_network_find(d, g->nics[i].network);
		struct link_dump dump = {};
		int r = 0;

		/* Stopped: the leases may still run, but nobody answers at them (as the IPv4 "ip"). */
		if (alive && net)
			r = link_dump_of(&d->link, LINK_DUMP_NEIGHS, net->bridge, &dump);
		if (r < 0 && !err)
			err = r;
		json_object_object_add(json_object_array_get_idx(nics, i), "ipv6",
				       alive ? nic_ipv6_json(d, &g->nics[i], &dump) :
					       json_object_new_array());
		link_dump_free(&dump);
	}
	return err;
}
