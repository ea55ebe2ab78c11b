/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* routed: the subnet forwarded as it is; the outside must route it back to this host. */
#include "mode.h"

const struct net_mode mode_routed = {
	.name = "routed",
	.summary = "the same without masquerade: the outside must route the subnet back",
	.owns_bridge = true,
	.has_subnet = true,
	.forwards = true,
	.dhcp_router = true,
	.fw = FW_ROUTED,
	.port_level = PS_LEVEL_FULL,
};
