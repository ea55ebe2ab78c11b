/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bridges netd makes for networks: desired bridges + a kernel dump -> a link plan (steps.h)
 * that creates the missing ones, changes only what differs on the ones netd owns already (same
 * ifindex, same MAC) and deletes the ones no longer desired. Pure; the plan undoes itself in
 * reverse when a step fails, so nothing is left half-applied.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "link.h"
#include "steps.h"

/* netd tags each bridge it makes for a network with the alias "netd:<network>". */
#define RECONCILE_TAG_PREFIX "netd:"
/* The owner a tag names (a valid object name after the prefix), or NULL: not netd's. */
const char *reconcile_tag_owner(const char *alias);

/* A network's IPv4 gateways (one per subnet, NETWORK_SUBNETS4_MAX) and its IPv6 one. */
#define DESIRED_MAX_ADDRS 12

struct desired_bridge {
	char owner[64]; /* alias tag, "netd:<network>" */
	char ifname[IFNAMSIZ];
	struct mac mac;
	uint32_t mtu; /* 0: leave the kernel's */
	/* IPv4 ones as they are; IPv6 ones without duplicate address detection (IFA_F_NODAD: usable at
	 * once, not tentative for 1-2 s), after net.ipv6.conf.IFNAME.disable_ipv6=0. */
	struct ip_prefix addrs[DESIRED_MAX_ADDRS];
	size_t n_addrs;
	/* Spanning tree: off (a new port forwards at once; forward delay 0), or on with a forward
	 * delay of 2-30 s. Changed in place on a bridge netd owns, kept as it is when adopted. */
	bool stp;
	unsigned forward_delay; /* seconds */
};

/*
 * scope: NULL considers every bridge netd owns (any "netd:<name>" alias): the ones not desired
 * are deleted. Otherwise only the bridge tagged with that owner alias is considered.
 * The plan undoes itself on failure (LINK_PLAN_UNDO); apply it with link_plan_apply().
 */
int reconcile_plan(const struct desired_bridge *want, size_t n_want, const struct link_dump *observed,
		   const char *scope, struct link_plan *ret);
