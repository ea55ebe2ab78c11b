/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * open: libvirt's forward mode 'open'. The subnet is forwarded as it is, in and out, with no
 * filtering and no NAT: the outside must route the subnet back to this host, and may reach the
 * guests. Other netd networks still cannot reach it (nat/DESIGN.md), the host's input chain and
 * port security guard the host and the other guests as on every network.
 */
#include "mode.h"

const struct net_mode mode_open = {
	.name = "open",
	.summary = "the subnet forwarded in and out, no filtering, no NAT: the outside routes it back",
	.owns_bridge = true,
	.has_subnet = true,
	.forwards = true,
	.dhcp_router = true,
	.fw = FW_OPEN,
	.port_level = PS_LEVEL_FULL,
};
