/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A network definition: what the config says. Pure: no kernel, no files. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "dhcp.h"
#include "forward.h"
#include "link.h"
#include "mac.h"
#include "mode.h"
#include "names.h"

#define NETWORK_HOST_PORTS_MAX 32 /* FW_HOST_PORTS_MAX too */
/* More IPv4 subnets besides the first (--address): FW_ADDRESSES_MAX too. */
#define NETWORK_ADDRESSES_MAX 7
#define NETWORK_SUBNETS4_MAX (NETWORK_ADDRESSES_MAX + 1)

/* How a network's IPv6 guests get their addresses (router advertisements always go out). */
enum ipv6_mode {
	IPV6_MODE_SLAAC, /* the default: the guests make their own from the RA's prefix */
	IPV6_MODE_DHCPV6, /* leased from the DHCPv6 ranges; the RA says "managed" */
	IPV6_MODE_SLAAC_DHCPV6, /* both */
	_IPV6_MODE_MAX,
};

const char *ipv6_mode_to_string(enum ipv6_mode m);
/* -EINVAL for an unknown name. */
int ipv6_mode_from_string(const char *s, enum ipv6_mode *ret);

/* An IPv6 prefix of a network: at least /16, at most /120 (/64 with SLAAC). */
#define NETWORK_PREFIX6_LEN_MIN 16
#define NETWORK_PREFIX6_LEN_MAX 120
#define NETWORK_PREFIX6_LEN_SLAAC 64

struct network_index;

struct network {
	char name[NAME_MAX_LEN + 1];
	const struct net_mode *mode; /* mode.h: what the mode needs */
	char bridge[IFNAMSIZ];
	struct ip_prefix subnet; /* masked, IPv4; family 0: none yet (auto), or no IPv4 (subnet_none) */
	union in_addr_union gateway;
	bool has_gateway;
	bool subnet_none; /* --subnet none: no IPv4 at all (an IPv6-only network) */
	struct ip_prefix subnet6; /* masked, IPv6; family 0: no IPv6 */
	bool subnet6_auto; /* --subnet6 auto: network create picks a /64 of the host's ULA /48 */
	union in_addr_union gateway6; /* the prefix's first address (::1 of a /64), set by fill_defaults */
	enum ipv6_mode ipv6_mode;
	/* Masquerade subnet6 (NAT66): resolved by network_fill_defaults() from nat6_given, the mode
	 * (n->mode->nat6) and the prefix (ULA: yes, global: no); false without IPv6. */
	bool nat6;
	int nat6_given; /* -1 not given, 0 --no-nat6, 1 --nat6 (what the file keeps) */
	uint32_t mtu; /* 0: kernel default */
	/* The bridge's spanning tree: off by default (a new port forwards at once); on, a new port
	 * listens and learns for forward_delay seconds (2-30; 0: NETWORK_FORWARD_DELAY_DEFAULT) first.
	 * Only on a bridge netd owns. */
	bool stp;
	unsigned forward_delay;
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
	/* More IPv4 subnets on the bridge (--address): each its gateway with the subnet's prefix
	 * length (10.1.1.1/24: gateway 10.1.1.1 of 10.1.1.0/24); the first subnet is subnet. */
	struct ip_prefix addresses[NETWORK_ADDRESSES_MAX];
	size_t n_addresses;
	/* nat: source NAT to this IPv4 address range instead of masquerade (--nat-address), and the
	 * source ports of the NAT (--nat-ports; 0: the kernel's choice); the forward feature's table. */
	bool has_nat_address;
	union in_addr_union nat_address_first, nat_address_last;
	uint16_t nat_port_lo, nat_port_hi;
	/* Port forwards into its guests (nat/forward.h; [forwards], the forward feature). */
	struct nat_forward *forwards;
	size_t n_forwards;
	/* evpn ([evpn]): the VXLAN network identifier, the same on every host (0: none), and whether
	 * the subnet is routed as it is (--routed) instead of masqueraded. */
	unsigned vni;
	bool routed;
};

/* A VXLAN network identifier: 24 bits, 0 reserved. */
#define NETWORK_VNI_MIN 1
#define NETWORK_VNI_MAX 16777215

#define NETWORK_MTU_MIN 68
#define NETWORK_MTU_MAX 65535
#define NETWORK_MTU6_MIN 1280 /* a network with an IPv6 prefix */
/* The kernel's range of a forward delay with STP on, and its default (IEEE 802.1D's) */
#define NETWORK_FORWARD_DELAY_MIN 2
#define NETWORK_FORWARD_DELAY_MAX 30
#define NETWORK_FORWARD_DELAY_DEFAULT 15

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
/* The bridge's forward delay in seconds: 0 with STP off, else the one given or the default. */
unsigned network_forward_delay(const struct network *n);
/* Fill the defaults that derive from other fields (bridge, gateway, gateway6, nat6, dhcp_router). */
void network_fill_defaults(struct network *n);
/* Check one definition on its own; on failure writes a message for the user into err. */
int network_validate(const struct network *n, char *err, size_t errlen);
/* Check against the other definitions and what the host already has (addresses, routes,
 * interfaces netd does not own). */
int network_check_conflicts(const struct network *n, struct network *const *others, size_t n_others,
			    const struct link_dump *host, char *err, size_t errlen);
/* The same, with the other networks from an index (network-index.h): the same checks in the same
 * order, the same messages, at O(log n) each. */
/* Every forward's --listen ADDR is one of the host's addresses in host (a dump with addresses):
 * else -EADDRNOTAVAIL and why. A listen address that is not the host's would take traffic that is
 * not the host's (nat/forward.c matches local destinations alone too). */
int network_check_forward_listen(const struct network *n, const struct link_dump *host, char *err,
				 size_t errlen);
int network_check_conflicts_index(const struct network *n, const struct network_index *x,
				  const struct link_dump *host, char *err, size_t errlen);
/* --subnet auto: the first /24 of pool that passes network_check_conflicts(); sets n->subnet and
 * the gateway (when not given). -EADDRNOTAVAIL with a message when every one is taken.
 * *ret_host_refused (may be NULL): whether host's addresses or routes refused a /24 on the way. */
int network_choose_subnet(struct network *n, const struct ip_prefix *pool, struct network *const *others,
			  size_t n_others, const struct link_dump *host, bool *ret_host_refused, char *err,
			  size_t errlen);
/* --subnet6 auto: the first /64 of ula48 (a /48, see network_ula_prefix) that overlaps no other
 * network's subnet6 and none of host's addresses and routes; sets n->subnet6 (and gateway6, nat6).
 * -EADDRNOTAVAIL with a message when every one is taken. */
int network_choose_subnet6(struct network *n, const struct ip_prefix *ula48, struct network *const *others,
			   size_t n_others, const struct link_dump *host, bool *ret_host_refused, char *err,
			   size_t errlen);
/* RFC 4193: the ULA /48 fdXX:XXXX:XXXX::/48 with the 40 bits of global_id (random, made once per
 * host and kept: see store_ula_prefix()). */
void network_ula_prefix(const uint8_t global_id[5], struct ip_prefix *ret);
/* Whether p lies in fc00::/7 (a unique local prefix). */
bool ip6_prefix_is_ula(const struct ip_prefix *p);
/* Why p cannot be a network's IPv6 prefix (link-local, multicast, ...), NULL when it can be. */
const char *network_prefix6_invalid_reason(const struct ip_prefix *p);
/* Mode bridge: the bridge must exist, be a bridge, and not be another network's. */
int network_check_bridge_exists(const struct network *n, const struct link_dump *host, char *err, size_t errlen);
/* The gateway address with the subnet's prefix length, as put on the bridge. */
void network_gateway_prefix(const struct network *n, struct ip_prefix *ret);
/* Every IPv4 subnet's gateway with its prefix length: the first subnet's, then the addresses.
 * Returns how many were written to ret. */
size_t network_gateways4(const struct network *n, struct ip_prefix ret[NETWORK_SUBNETS4_MAX]);
/* The same subnets, masked (10.1.1.0/24). */
size_t network_subnets4(const struct network *n, struct ip_prefix ret[NETWORK_SUBNETS4_MAX]);
/* Add "10.1.1.1/24" to the addresses; -E2BIG, -EINVAL (with a message). */
int network_address_add(struct network *n, const char *spec, char *err, size_t errlen);
/* The same for IPv6: gateway6 with subnet6's length (family 0 without IPv6). */
void network_gateway6_prefix(const struct network *n, struct ip_prefix *ret);
/* The anycast gateway's MAC of a VNI: 0a:4e:44 (locally administered, unicast) and the VNI's three
 * bytes, the same on every host. */
void network_anycast_mac(unsigned vni, struct mac *ret);
/* The bridge's MAC when the definition fixes it (pinned, or the mode's): true and *ret. */
bool network_fixed_mac(const struct network *n, struct mac *ret);
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
/* n->ipv6_mode as the dhcp module names it (enum dhcp_ipv6_mode). */
int network_dhcp_ipv6_mode(const struct network *n);
