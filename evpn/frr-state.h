/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * FRR's BGP/EVPN state as vtysh prints it in JSON (FRR 8.4): `show bgp l2vpn evpn summary json`
 * (the sessions) and `show evpn vni json` (the VNIs zebra knows, with the remote VTEPs EVPN
 * taught it). Pure; FRR's output is outside input: every value is checked (addresses parsed and
 * formatted again, names and states of limited characters), counts are bounded, and whatever is
 * missing or odd is left out rather than trusted (tests/fuzz/fuzz-frr-state.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "addr.h"

#define FRR_STATE_PEERS_MAX 1024
#define FRR_STATE_VNIS_MAX 4096
#define FRR_STATE_VTEPS_MAX 256
#define FRR_STATE_OUTPUT_MAX (4u << 20) /* more of vtysh's output is not read */

struct frr_bgp_peer {
	int family;
	union in_addr_union addr;
	char state[16]; /* "Established", "Active", "Connect", "Idle", ... */
	bool dynamic; /* came through a listen range */
	uint64_t uptime_msec; /* of the session, 0 when not established */
	int64_t established; /* connectionsEstablished, -1 when FRR did not say */
};

struct frr_vni {
	uint32_t vni;
	char vxlan_if[IFNAMSIZ];
	struct frr_peer_addr {
		int family;
		union in_addr_union addr;
	} * vteps;
	size_t n_vteps;
};

struct frr_state {
	/* The summary lists peers. FRR 8.4 prints "{}" both without a BGP instance and for one that
	 * has no peer yet (a reflector before its first client): false says only "no peers". */
	bool bgp;
	uint32_t asn;
	struct frr_bgp_peer *peers;
	size_t n_peers;
	struct frr_vni *vnis;
	size_t n_vnis;
};

/* The summary's JSON into s's BGP part; -EINVAL when it is not JSON of that shape. */
int frr_state_parse_summary(const char *text, size_t len, struct frr_state *s);
/* `show evpn vni json` into s's VNIs (empty text: none). */
int frr_state_parse_vnis(const char *text, size_t len, struct frr_state *s);
/* The output of one vtysh with both commands, in that order (two JSON texts one after the other;
 * the second may be missing when zebra has no EVPN), after the lines of vtysh's warnings, which
 * start with '%' (its stderr goes into the same pipe). */
int frr_state_parse(const char *text, size_t len, struct frr_state *s);
void frr_state_clear(struct frr_state *s);
/* Whether a peer's session is up. */
bool frr_bgp_peer_up(const struct frr_bgp_peer *p);
