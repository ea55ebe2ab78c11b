/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The uplink conversion: eth0 -> br0 without losing a packet, and its mirror-image rollback.
 *
 * A snapshot of the port (addresses with flags and lifetimes, the routes of every table that use
 * it, MTU, MAC, its sysctls) becomes a list of steps in three phases: prepare (a bridge with the
 * port's MAC and MTU, STP off, forward delay 0, its sysctls, up, the addresses pre-added (IPv6
 * with NODAD and NOPREFIXROUTE, IPv4 as they are), static neighbours, loose rp_filter), cut-over
 * (one burst: enslave, replace every route to point at the bridge, delete the port's addresses,
 * secondaries first, and neighbours; then IPv6 off on the port) and finish (IPv6 address flags
 * restored, rp_filter restored, gratuitous ARP / unsolicited NA). The rollback plan is
 * computed from the snapshot and what the kernel holds now, so it can run after a failure at any
 * step, or after a restart, and is idempotent.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "link.h"
#include "steps.h"

#define CONVERT_ALIAS_PREFIX "netd-uplink:"

enum convert_phase {
	CONVERT_PHASE_PREPARE,
	CONVERT_PHASE_CUTOVER,
	CONVERT_PHASE_FINISH,
	_CONVERT_PHASE_MAX,
};

const char *convert_phase_to_string(enum convert_phase p);

/*
 * The per-interface sysctls a snapshot keeps, in this order (the order the bridge gets them in:
 * stable_secret before addr_gen_mode, which it would change). The first ones are named: netd
 * changes them on the port or the bridge itself; the others are only copied onto the bridge,
 * and only when the port's value differs from the namespace's default (what a new bridge has).
 */
enum convert_sysctl {
	CONVERT_SYSCTL_DISABLE_IPV6,
	CONVERT_SYSCTL_ACCEPT_RA,
	CONVERT_SYSCTL_AUTOCONF,
	CONVERT_SYSCTL_RP_FILTER,
	_CONVERT_SYSCTL_NAMED,
	_CONVERT_SYSCTL_MAX = _CONVERT_SYSCTL_NAMED + 80,
};

struct convert_sysctl_def {
	int family;
	const char *key;
};

/* NULL past the last one (a table may hold fewer than _CONVERT_SYSCTL_MAX). */
const struct convert_sysctl_def *convert_sysctl_get(enum convert_sysctl s);

/* What a bridge's snapshot needs; sysctls are read apart (convert_snapshot_read_sysctls). The
 * links as the kernel has them now, not the backend's cache: a conversion is rare and moves
 * the host's own uplink, and it looks at what the cache follows least directly (the lower link
 * of macvlans and the like, carrier). */
#define CONVERT_DUMP (LINK_DUMP_ALL | LINK_DUMP_RULES | LINK_DUMP_NEIGHS | LINK_DUMP_FRESH)

struct convert_snapshot {
	char port[IFNAMSIZ];
	char bridge[IFNAMSIZ];
	struct mac mac;
	uint32_t mtu;
	char sysctl[_CONVERT_SYSCTL_MAX][48]; /* "": not known, or (copied ones) the default */
	/* ifindex 0: they belong to whichever link holds them. An IPv4 label is kept as what follows
	 * the link's name ("eth0:1" -> ":1", "" for the name alone). IPv6 temporary (privacy)
	 * addresses go to the bridge as deprecated copies and are not brought back: the kernel makes
	 * new ones on the link that holds the address they derive from (use_tempaddr is copied). */
	struct addr_info *addrs;
	size_t n_addrs;
	struct route_info *routes; /* ifindex 0: the port (or the bridge, after the cut-over) */
	size_t n_routes;
	struct neigh_info *neighs; /* static entries (permanent, noarp) to unicast addresses; ifindex 0 */
	size_t n_neighs;
};

void convert_snapshot_free(struct convert_snapshot *s);

/*
 * Check that port can become a port of a new bridge named bridge and take the snapshot from a
 * dump (CONVERT_DUMP). The sysctls are left empty (convert_snapshot_read_sysctls).
 * On refusal returns a negative errno and a message for the user in err.
 */
int convert_snapshot_take(const struct link_dump *dump, const char *port, const char *bridge,
			  struct convert_snapshot *ret, char *err, size_t errlen);
int convert_snapshot_read_sysctls(struct convert_snapshot *s, struct link_backend *b);
/* After a confirmed conversion: take the addresses, routes and static neighbours the bridge holds
 * now (a DHCP renewal or an operator may have changed them), so a revert moves those back. */
int convert_snapshot_refresh(struct convert_snapshot *s, const struct link_dump *now);

/* Text form kept in the state dir; parse is the inverse of format. Caller frees the text. */
char *convert_snapshot_format(const struct convert_snapshot *s);
int convert_snapshot_parse(const char *text, struct convert_snapshot *ret);

/* The steps (steps.h) of a conversion, each of a phase (enum convert_phase). A forward plan stops
 * at the first failure (the caller then rolls back); a rollback plan is best effort. */
int convert_plan_forward(const struct convert_snapshot *s, struct link_plan *ret);
/* Back to the snapshot from whatever the kernel holds now (dump: links and addresses). */
int convert_plan_rollback(const struct convert_snapshot *s, const struct link_dump *now,
			  struct link_plan *ret);

/* Called before the first step of each phase; a negative return stops the apply there. */
typedef int (*convert_phase_fn)(enum convert_phase phase, void *userdata);

/*
 * Apply a plan (link_plan_apply) and time it: ret_cutover_usec is how long the cut-over phase
 * took. A forward plan returns its first failure with a message in err; a rollback plan runs
 * every step and returns the first real failure.
 */
int convert_apply(const struct link_plan *p, struct link_backend *b, convert_phase_fn on_phase,
		  void *userdata, uint64_t *ret_cutover_usec, char *err, size_t errlen);
