/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* isolated: a bridge with a gateway address; nothing forwarded in or out. */
#include "mode.h"

const struct net_mode mode_isolated = {
	.name = "isolated",
	.summary = "a bridge with a gateway address; no forwarding; DHCP gives no default route",
	.owns_bridge = true,
	.has_subnet = true,
	.fw = FW_ISOLATED,
	.port_level = PS_LEVEL_FULL,
};
