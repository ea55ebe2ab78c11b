/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A network definition: what the config says. Pure: no kernel, no files. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "dhcp.h"
#include "link.h"
#include "mac.h"
#include "mode.h"
#include "names.h"

#define NETWORK_HOST_PORTS_MAX 32 /* FW_HOST_PORTS_MAX too */



struct network_index;

struct network {
	char name[NAME_MAX_LEN + 1];
	const struct net_mode *mode; /* mode.h: what the mode needs */
	char bridge[IFNAMSIZ];
	struct ip_prefix subnet; /* masked, IPv4 */
	union in_addr_union gateway;
	bool has_gateway;
	uint32_t mtu; /* 0: kernel default */
	bool autostart;
	bool has_mac; /* mac pinned in the config file */
	struct mac mac;
	struct dhcp_settings dhcp;
	char uplink[IFNAMSIZ]; /* nat/routed: egress only through this interface ("": any) */
	/* DHCP hands out the gateway as default route; set from the mode (not for isolated). */
	bool dhcp_router;
	/* Host services the network's guests may reach on its gateway, beyond DHCP, DNS and ICMP. */
	struct l4_port host_ports[NETWORK_HOST_PORTS_MAX];
	size_t n_host_ports;
};

#define NETWORK_MTU_MIN 68
#define NETWORK_MTU_MAX 65535

/* A fresh definition with defaults (isolated, autostart). Owns memory: network_done() it. */
void network_init(struct network *n, const char *name);
void network_done(struct network *n);
/* network_done() and free(); returns NULL. */
struct network *network_free(struct network *n);
static inline void network_freep(struct network **n)
{
	network_free(*n);
}
#define _cleanup_network_ __attribute__((cleanup(network_freep)))
/* dst (uninitialised) becomes a deep copy of src; -ENOMEM leaves it initialised, without hosts. */
int network_copy(struct network *dst, const struct network *src);
/* A deep copy on the heap (network_free() it); NULL without memory. */
struct network *network_dup(const struct network *n);
void network_swap(struct network *a, struct network *b);
/* The stable default bridge name derived from a network name: "nd-<name>" or a hashed form. */
void network_default_bridge(const char *name, char ret[IFNAMSIZ]);
/* Fill the defaults that derive from other fields (bridge, gateway, dhcp_router). */
void network_fill_defaults(struct network *n);
/* Check one definition on its own; on failure writes a message for the user into err. */
int network_validate(const struct network *n, char *err, size_t errlen);
/* Check against the other definitions and what the host already has (addresses, routes,
 * interfaces netd does not own). */
int network_check_conflicts(const struct network *n, struct network *const *others, size_t n_others,
			    const struct link_dump *host, char *err, size_t errlen);
/* The same, with the other networks from an index (network-index.h): the same checks in the same
 * order, the same messages, at O(log n) each. */
int network_check_conflicts_index(const struct network *n, const struct network_index *x,
				  const struct link_dump *host, char *err, size_t errlen);
/* --subnet auto: the first /24 of pool that passes network_check_conflicts(); sets n->subnet and
 * the gateway (when not given). -EADDRNOTAVAIL with a message when every one is taken.
 * *ret_host_refused (may be NULL): whether host's addresses or routes refused a /24 on the way. */
int network_choose_subnet(struct network *n, const struct ip_prefix *pool, struct network *const *others,
			  size_t n_others, const struct link_dump *host, bool *ret_host_refused, char *err,
			  size_t errlen);
/* Mode bridge: the bridge must exist, be a bridge, and not be another network's. */
int network_check_bridge_exists(const struct network *n, const struct link_dump *host, char *err, size_t errlen);
/* The gateway address with the subnet's prefix length, as put on the bridge. */
void network_gateway_prefix(const struct network *n, struct ip_prefix *ret);
/* "netd:<name>": the alias netd tags its bridges with. */
void network_alias(const struct network *n, char *buf, size_t size);
/* If alias is a netd network tag, the network name it carries; NULL otherwise. */
const char *network_alias_owner(const char *alias);
bool network_equal(const struct network *a, const struct network *b);
/* Whether the network forwards traffic in and out of its subnet (nat, routed). */
bool network_forwards(const struct network *n);
/* Add "tcp/22" to the host ports; -EEXIST, -E2BIG, -EINVAL (with a message). */
int network_host_port_add(struct network *n, const char *spec, char *err, size_t errlen);
/* Whether the network needs a dnsmasq at all (DHCP or DNS on). */
bool network_wants_dnsmasq(const struct network *n);
