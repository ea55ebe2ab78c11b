/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * FRR's whole configuration (frr.conf) for netd's EVPN: iBGP in one AS, the l2vpn evpn address
 * family with advertise-all-vni, the host's VTEP as router-id and update-source; a route reflector
 * listens on a prefix (bgp listen range + a peer-group of route-reflector clients), the others
 * peer with the addresses given. Pure: the settings are numbers and addresses, validated here, so
 * the text FRR reads back is exactly what was meant (evpn/DESIGN.md).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define FRR_ASN_DEFAULT 65000u
#define FRR_PEERS_MAX 64
/* The peer-group a reflector's listen range puts its clients in. */
#define FRR_PEER_GROUP "netd-evpn"

struct frr_peer {
	int family;
	union in_addr_union addr;
};

struct frr_conf {
	int vtep_family; /* AF_INET or AF_INET6 */
	union in_addr_union vtep;
	uint32_t asn; /* 1..4294967295 */
	struct frr_peer peers[FRR_PEERS_MAX];
	size_t n_peers;
	bool reflector;
	/* A reflector's bgp listen range (masked, the VTEP's family): the underlay's subnet. */
	struct ip_prefix listen_range;
};

/* "N": 1..4294967295, decimal, no sign, no leading zero. */
int frr_asn_parse(const char *s, uint32_t *ret);
/* Whether an address may be a VTEP or a BGP peer: unicast (not unspecified, loopback, multicast,
 * IPv4 broadcast, IPv6 link-local). */
bool frr_addr_usable(int family, const union in_addr_union *a);
/* "ADDR[,ADDR...]" into ret[] (at most FRR_PEERS_MAX, each usable, none twice): the count, or
 * -EINVAL with why in err. */
int frr_peers_parse(const char *s, struct frr_peer *ret, size_t max, char *err, size_t errlen);
/* "ADDR,ADDR" back. */
int frr_peers_format(const struct frr_peer *p, size_t n, char *buf, size_t size);
/* Whether c can be rendered: -EINVAL with why in err (a peer of another family than the VTEP, the
 * VTEP among the peers, a reflector without a listen range or one that does not hold the VTEP). */
int frr_conf_validate(const struct frr_conf *c, char *err, size_t errlen);
/* The whole frr.conf for c (validated first); *ret is malloc'ed, NUL-terminated. */
int frr_conf_render(const struct frr_conf *c, char **ret, char *err, size_t errlen);
