/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Link plans: a list of steps (one change each to a link, an address, a route or a sysctl) and
 * the one engine that applies them through the link ops. Both planners of this module produce
 * them: a network's bridge (reconcile.c) and the uplink conversion (convert.c). A plan says what
 * a failure means: undo what was done in reverse, stop (the caller has its own way back), or carry
 * on (a rollback, where "already so" is no error). The text form is the same for logs, the
 * conversion's progress lines and golden files.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "link.h"

enum link_step_type {
	LINK_STEP_BRIDGE_ADD, /* mac, mtu, alias, STP and forward delay; not brought up */
	LINK_STEP_LINK_DEL,
	LINK_STEP_LINK_UP,
	LINK_STEP_LINK_DOWN,
	LINK_STEP_LINK_SET_MTU,
	LINK_STEP_LINK_SET_MAC,
	LINK_STEP_SYSCTL_SET, /* net.ipv{4,6}.conf.IFNAME.KEY: by name, the link need not exist yet */
	LINK_STEP_ADDR_ADD,
	LINK_STEP_ADDR_REPLACE, /* always with the address's flags, scope and lifetimes */
	LINK_STEP_ADDR_DEL,
	LINK_STEP_PORT_ATTACH,
	LINK_STEP_PORT_RELEASE,
	LINK_STEP_ROUTE_REPLACE,
	LINK_STEP_BURST_BEGIN, /* the steps up to BURST_END go to the kernel in one write */
	LINK_STEP_BURST_END,
	LINK_STEP_ANNOUNCE, /* gratuitous ARP / unsolicited NA for addr from mac */
	LINK_STEP_NEIGH_REPLACE, /* a neighbour entry, created or replaced */
	LINK_STEP_NEIGH_DEL,
	LINK_STEP_ROUTE_DEL,
	LINK_STEP_BRIDGE_SET_STP, /* STP on or off and the forward delay of a bridge */
	_LINK_STEP_MAX,
};

const char *link_step_type_to_string(enum link_step_type t);

struct link_step {
	enum link_step_type type;
	unsigned phase; /* the planner's grouping (the conversion's prepare, cut-over, finish) */
	char ifname[IFNAMSIZ];
	/* The link acted on; 0: found by ifname when applied, first among the bridges this plan
	 * made, then in a dump of the links taken before the first step. */
	int ifindex;
	char master[IFNAMSIZ]; /* PORT_ATTACH, found the same way */
	char alias[64]; /* BRIDGE_ADD */
	struct mac mac; /* BRIDGE_ADD, LINK_SET_MAC, ANNOUNCE */
	struct mac old_mac; /* LINK_SET_MAC: what an undo puts back */
	uint32_t mtu, old_mtu; /* BRIDGE_ADD (0: the kernel's), LINK_SET_MTU */
	bool stp, old_stp; /* BRIDGE_ADD, BRIDGE_SET_STP (old: what an undo puts back) */
	unsigned forward_delay, old_forward_delay; /* the same, seconds */
	struct addr_info addr; /* ADDR_*, ANNOUNCE; its ifindex is the step's, set when applied */
	/* ADDR_ADD, ADDR_DEL: the address with its flags, scope and lifetimes (addr_add_full, and so
	 * in the text form); otherwise the prefix alone. */
	bool full;
	struct route_info route; /* ROUTE_REPLACE, ROUTE_DEL; its ifindex is the step's */
	struct neigh_info neigh; /* NEIGH_*; its ifindex is the step's */
	int family; /* SYSCTL_SET */
	char key[40];   /* the longest, router_solicitation_max_interval, has 32 */
	char value[48]; /* a stable_secret has 39 */
};

/* What applying a plan does when a step fails. Inside a burst the rest of the burst is sent
 * anyway (the kernel applies the requests after a failed one): the plan stops after it. */
enum link_plan_on_failure {
	LINK_PLAN_UNDO, /* stop, undo the steps done, in reverse (best effort), return the error */
	LINK_PLAN_STOP, /* stop and return the error: the caller has its own way back */
	/* Run every step; errors that mean "already so" (EEXIST, ENOENT, ESRCH, EADDRNOTAVAIL,
	 * ENODEV) are none; return the first other error. */
	LINK_PLAN_BEST_EFFORT,
};

struct link_plan {
	struct link_step *steps;
	size_t n_steps;
	enum link_plan_on_failure on_failure;
	/* Names of the phases: the text form then heads each with "[name]" and indents its steps. */
	const char *const *phase_names;
	unsigned phase; /* while planning: the phase of the steps pushed next */
};

void link_plan_free(struct link_plan *p);
/* Appends a step of the current phase, zeroed but for type, ifname and ifindex; NULL: no memory. */
struct link_step *link_plan_push(struct link_plan *p, enum link_step_type type, const char *ifname,
				 int ifindex);

/* One line per step ("addr-add nd-lab 10.0.0.1/24"); caller frees. */
void link_step_describe(const struct link_step *s, char *buf, size_t size);
char *link_plan_format(const struct link_plan *p);

/* Called before the first step of each phase; a negative return stops the apply there. */
typedef int (*link_phase_fn)(unsigned phase, void *userdata);

/*
 * Apply the steps in order through b; see enum link_plan_on_failure. On failure err says which
 * step failed and why, with the kernel's extended-ACK text when there is one.
 */
int link_plan_apply(const struct link_plan *p, struct link_backend *b, link_phase_fn on_phase, void *userdata,
		    char *err, size_t errlen);
/* link_plan_apply() without phases; *ret_made: the ifindex of the bridge its first BRIDGE_ADD
 * made, 0 when it made none. */
int link_plan_apply_made(const struct link_plan *p, struct link_backend *b, int *ret_made, char *err,
			 size_t errlen);
