/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * evpn: one subnet across hosts. Each host's bridge has a VXLAN port (the vxlan feature, vx<VNI>)
 * whose neighbours BGP EVPN (FRR, netd --vtep) learns, and the same gateway address and MAC (an
 * anycast gateway): each host routes its own guests, masqueraded out of its own uplink (as nat)
 * or, with --routed, as they are (as routed). netd/DESIGN.md, "Networks across hosts".
 */
#include <errno.h>
#include <stdio.h>

#include "mode.h"
#include "network.h"

static enum fw_mode fw_of(const struct network *n)
{
	return n->routed ? FW_ROUTED : FW_NAT;
}

/* The anycast gateway's MAC, the same on every host. */
static bool bridge_mac(const struct network *n, struct mac *ret)
{
	network_anycast_mac(n->vni, ret);
	return true;
}

static int validate(const struct network *n, char *err, size_t errlen)
{
	if (!n->vni) {
		snprintf(err, errlen,
			 "network '%s': mode evpn needs --vni N (%u-%u), the same on every host of the "
			 "network",
			 n->name, NETWORK_VNI_MIN, NETWORK_VNI_MAX);
		return -EINVAL;
	}
	if (n->has_mac || n->mtu) {
		snprintf(err, errlen,
			 "network '%s': mode evpn takes no MAC or MTU: its bridge has the anycast "
			 "gateway's MAC and the MTU of its VXLAN device (the underlay's less 50)",
			 n->name);
		return -EINVAL;
	}
	if (n->subnet_none || n->subnet6.family || n->subnet6_auto) {
		snprintf(err, errlen,
			 "network '%s': mode evpn takes an IPv4 subnet and no IPv6 prefix (not yet: "
			 "every host would send router advertisements from the same link-local address)",
			 n->name);
		return -EINVAL;
	}
	return 0;
}

const struct net_mode mode_evpn = {
	.name = "evpn",
	.summary = "one subnet across hosts: VXLAN with BGP EVPN, a gateway on each (netd --vtep)",
	.owns_bridge = true,
	.has_subnet = true,
	.forwards = true,
	.dhcp_router = true,
	.fw = FW_NAT,
	.fw_of = fw_of,
	.port_level = PS_LEVEL_FULL,
	.vxlan = true,
	.bridge_mac = bridge_mac,
	.validate = validate,
};
