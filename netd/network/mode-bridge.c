/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bridge: guests straight onto an existing bridge (a converted uplink): the LAN's addresses and DHCP,
 * no subnet, firewall or dnsmasq of netd's. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "mode.h"
#include "network.h"

/* Any [dns] record, forwarder or flag, or a [dnsmasq] option: all are the network's dnsmasq's. */
static bool dns_config_given(const struct dns_config *c)
{
	return c->local_only || c->register_dns || c->no_resolv || c->n_srv || c->n_txt || c->n_cname ||
	       c->n_ptr || c->n_fwd || c->n_opts;
}

static int validate(const struct network *n, char *err, size_t errlen)
{
	const char *why;

	if (!n->bridge[0]) {
		snprintf(err, errlen,
			 "network '%s': mode bridge needs the bridge to attach to (--bridge br0)", n->name);
		return -EINVAL;
	}
	why = ifname_invalid_reason(n->bridge);
	if (why) {
		snprintf(err, errlen, "network '%s': invalid bridge name '%s': %s", n->name, n->bridge, why);
		return -EINVAL;
	}
	if (n->subnet.family || n->subnet_none || n->has_gateway || n->mtu || n->has_mac ||
	    n->subnet6.family || n->subnet6_auto || n->ipv6_mode != IPV6_MODE_SLAAC || n->nat6_given >= 0) {
		snprintf(err, errlen,
			 "network '%s': mode bridge takes no subnet, IPv6 prefix, gateway, MTU or MAC: "
			 "the bridge and the LAN behind it decide those",
			 n->name);
		return -EINVAL;
	}
	if (n->uplink[0]) {
		snprintf(err, errlen,
			 "network '%s': mode bridge takes no --uplink: guests reach the LAN through the "
			 "bridge's own ports",
			 n->name);
		return -EINVAL;
	}
	if (n->n_host_ports) {
		snprintf(err, errlen,
			 "network '%s': mode bridge takes no --allow-host-port: netd does not filter "
			 "what the LAN reaches on the host",
			 n->name);
		return -EINVAL;
	}
	if (n->dhcp.n_ranges || n->dhcp.lease_time || n->dhcp.n_hosts || n->dhcp.domain[0] ||
	    n->dhcp.n_dns_hosts || n->dhcp.static_only || n->dhcp.pxe_boot[0] || n->dhcp.has_next_server ||
	    n->dhcp.tftp_root[0] || dns_config_given(&n->dhcp.dnscfg)) {
		snprintf(err, errlen,
			 "network '%s': mode bridge takes no DHCP or DNS settings: the LAN's own "
			 "DHCP server serves its guests",
			 n->name);
		return -EINVAL;
	}
	return 0;
}

const struct net_mode mode_bridge = {
	.name = "bridge",
	.summary = "an existing bridge, e.g. a converted uplink; the LAN's DHCP serves guests",
	.port_level = PS_LEVEL_MAC,
	.validate = validate,
};
