/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reconcile: desired bridges + observed kernel state -> a plan (list of operations), then apply
 * it through the link ops. The planner is pure. A plan that fails half-way is undone in reverse
 * order, so nothing is left half-applied.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "link.h"

#define DESIRED_MAX_ADDRS 4

struct desired_bridge {
	char owner[64];	 /* alias tag, "netd:<network>" */
	char ifname[IFNAMSIZ];
	struct mac mac;
	uint32_t mtu; /* 0: leave the kernel's */
	struct ip_prefix addrs[DESIRED_MAX_ADDRS];
	size_t n_addrs;
};

enum plan_op_type {
	PLAN_BRIDGE_ADD,
	PLAN_LINK_DEL,
	PLAN_LINK_SET_UP,
	PLAN_LINK_SET_MTU,
	PLAN_LINK_SET_MAC,
	PLAN_ADDR_ADD,
	PLAN_ADDR_DEL,
	_PLAN_OP_MAX,
};

const char *plan_op_type_to_string(enum plan_op_type t);

struct plan_op {
	enum plan_op_type type;
	char ifname[IFNAMSIZ];
	int ifindex; /* 0: the bridge this plan creates under ifname */
	char alias[64];
	struct mac mac, old_mac;
	uint32_t mtu, old_mtu;
	bool up;
	struct ip_prefix addr;
};

struct plan {
	struct plan_op *ops;
	size_t n_ops;
};

void plan_free(struct plan *p);
/* One line per op, for logs and golden tests; caller frees. */
char *plan_format(const struct plan *p);

/*
 * scope: NULL considers every bridge netd owns (any "netd:<name>" alias): the ones not desired
 * are deleted. Otherwise only the bridge tagged with that owner alias is considered.
 */
int reconcile_plan(const struct desired_bridge *want, size_t n_want, const struct link_dump *observed,
		   const char *scope, struct plan *ret);

/*
 * Apply in order; on failure undo what was done, in reverse, and return the error. The
 * message (with the kernel's extended ACK text when there is one) is written into err.
 */
int plan_apply(const struct plan *p, struct link_backend *b, char *err, size_t errlen);
