/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nat: the subnet masqueraded to everything outside it (libvirt's default network); its IPv6 prefix
 * too when it is a ULA one (or with --nat6), else routed. */
#include "mode.h"

const struct net_mode mode_nat = {
	.name = "nat",
	.summary = "the subnet masqueraded to the outside; DHCP gives the gateway as router",
	.owns_bridge = true,
	.has_subnet = true,
	.forwards = true,
	.dhcp_router = true,
	.nat6 = true,
	.fw = FW_NAT,
	.port_level = PS_LEVEL_FULL,
};
