/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the host takes from its guests: nothing. A netd bridge is the host's interface on a
 * network of untrusted guests, so the kernel must not configure the host from what arrives on it:
 * no router advertisements (a guest's RA would install a default route and a SLAAC address on the
 * host), no ICMP redirects (they rewrite the host's next hops), and strict reverse-path filtering
 * (a packet whose source is not routed back through the bridge is dropped). The bridge keeps IPv6
 * and its link-local address: netd's own router advertisements go out through it; a network with
 * an IPv6 prefix gets disable_ipv6=0 on its bridge (only there) whatever the host's default.
 *
 * Its own link-local address skips duplicate address detection (see bridge_sysctls).
 *
 * Bridges netd does not own (mode bridge) are left alone: such a bridge is the host's LAN (a
 * converted uplink), where router advertisements and redirects come from the LAN's routers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "macro.h"

static const struct {
	int family;
	const char *key, *value;
} bridge_sysctls[] = {
	{ AF_INET6, "accept_ra", "0" },
	{ AF_INET6, "autoconf", "0" },
	{ AF_INET6, "accept_redirects", "0" },
	{ AF_INET, "accept_redirects", "0" },
	{ AF_INET, "rp_filter", "1" },
	/* No duplicate address detection for the bridge's link-local address, made when its first
	 * port comes (carrier): a guest could not answer it away (the RAs go out from it), and it is
	 * usable at once, not after a second or more, so the first RA already comes from it. */
	{ AF_INET6, "accept_dad", "0" },
};

/* A guest's TAP is a port, never an interface of the host's own: no IPv6 on it (no link-local
 * address, no router advertisement or neighbour discovery taken from the guest through it). The
 * IPv4 side is table inet netd_ports' (portsec.c): the kernel has no switch to turn IPv4 off. */
int daemon_port_guard(struct daemon *d, const char *ifname, char *err, size_t errlen)
{
	int r = d->link.ops->sysctl_set(d->link.userdata, AF_INET6, ifname, "disable_ipv6", "1");

	if (r < 0 && r != -ENOENT) { /* ENOENT: a host without IPv6 */
		snprintf(err, errlen, "cannot set net.ipv6.conf.%s.disable_ipv6=1: %s", ifname, strerror(-r));
		return r;
	}
	return 0;
}

/* key=value on the bridge unless it is so already. optional: a host without IPv6 has no IPv6
 * sysctls, and nothing to learn from guests there. */
static int guard_one(struct daemon *d, const struct network *n, int family, const char *key,
		     const char *value, bool optional, char *err, size_t errlen)
{
	const struct link_ops *ops = d->link.ops;
	char have[16] = "";
	int r = ops->sysctl_get(d->link.userdata, family, n->bridge, key, have, sizeof(have));

	if (r == -ENOENT && optional)
		return 0;
	if (r >= 0 && !strcmp(have, value))
		return 0;
	r = ops->sysctl_set(d->link.userdata, family, n->bridge, key, value);
	if (r < 0)
		snprintf(err, errlen, "cannot set net.%s.conf.%s.%s=%s: %s",
			 family == AF_INET ? "ipv4" : "ipv6", n->bridge, key, value, strerror(-r));
	return r;
}

int daemon_bridge_guard(struct daemon *d, const struct network *n, char *err, size_t errlen)
{
	int r;

	if (!n->mode->owns_bridge)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(bridge_sysctls); i++) {
		int family = bridge_sysctls[i].family;

		r = guard_one(d, n, family, bridge_sysctls[i].key, bridge_sysctls[i].value,
			      family == AF_INET6, err, errlen);
		if (r < 0)
			return r;
	}
	/* A network with an IPv6 prefix needs IPv6 on its bridge, whatever the host's default
	 * (the plan turned it on before the address; this puts it back if someone turned it off). */
	return n->subnet6.family ? guard_one(d, n, AF_INET6, "disable_ipv6", "0", false, err, errlen) : 0;
}
