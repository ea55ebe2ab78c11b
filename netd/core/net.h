/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A network at run time, and the interface every feature of a network implements.
 *
 * struct net is one network as netd runs it: its definition (struct network, pure), whether it
 * runs (written through to <run>/networks/NAME.active, which a restarted netd adopts), its users
 * (running guests' NICs) and one slot per feature for that feature's state.
 *
 * A feature (the bridge and its links, the firewall, DHCP/DNS, port security, the conflict watch;
 * later router advertisements, port forwards, ...) is a struct feature in a file of its own and one
 * line in daemon.c's table. The daemon brings a network up by calling every feature's up() in the
 * table's order and takes it down in the reverse order; when an up() fails on a network that was
 * down, the features already up and the failed one are taken down again, in reverse, so a network
 * is never left half up. up() makes the kernel
 * and the children match the definition as it is now: it is called again when the definition
 * changes (reload, a reservation) and at adoption, and must change only what differs.
 */
#pragma once

#include <json-c/json.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "link.h"
#include "mac.h"
#include "names.h"
#include "network.h"

struct daemon;

/* How many features daemon.c's table may list. */
#define DAEMON_FEATURES_MAX 16

/* A running guest's NIC on a network: its TAP is a port of the network's bridge. */
struct net_user {
	char guest[NAME_MAX_LEN + 1];
	unsigned nic;
	char tap[IFNAMSIZ];
	struct mac mac; /* the guest's side */
};

/* What a network's show() (not full) reads besides its definition, as bytes: 'network list' keeps
 * an entry while they stay the same. */
#define NET_SHOW_KEY_MAX 96
struct net_show_key {
	size_t len;
	bool overflow;
	unsigned char bytes[NET_SHOW_KEY_MAX];
};
void net_show_key_add(struct net_show_key *k, const void *p, size_t size);
bool net_show_key_equal(const struct net_show_key *a, const struct net_show_key *b);

struct net {
	struct network *def; /* owned; never changed in place: daemon.c replaces it (def_gen) */
	unsigned long def_gen; /* counts the replacements of def */
	bool active;
	struct net_user *users;
	size_t n_users;
	void *slot[DAEMON_FEATURES_MAX]; /* net_slot(): each feature's state of this network */
	/* 'network list' (network-methods.c): the network's entry up to its state, as JSON text, and
	 * the key it was made for (daemon_net_show_key). */
	char *list_text;
	struct net_show_key list_key;
};

/* What show and problem() may look at: one kernel dump for every network of a request. */
struct net_view {
	const struct link_dump *dump; /* links and addresses */
	bool full; /* 'network show' (kernel details) rather than 'network list' */
};

/* One step of 'netdctl doctor' (network/doctor.c): status "ok", "warn", "fail" or "skip", fix a
 * command an operator can paste (or NULL), detail what was found. */
typedef void (*doctor_step_fn)(void *ctx, const char *name, const char *status, const char *fix,
			       const char *detail);

struct feature {
	const char *name;
	int (*init)(struct daemon *d);
	void (*done)(struct daemon *d);
	/* Make the network's part of the kernel and children match n->def (n->active is already
	 * true); idempotent. err gets a message for the user. */
	int (*up)(struct daemon *d, struct net *n, char *err, size_t errlen);
	/* Take it away (n->active is already false); idempotent. */
	int (*down)(struct daemon *d, struct net *n, char *err, size_t errlen);
	/* Why the network does not work as it should, or NULL (asked only while it is active). */
	const char *(*problem)(struct daemon *d, const struct net *n, const struct net_view *v, char *buf,
			       size_t size);
	/* Its part of 'network show' and --json. */
	void (*show)(struct daemon *d, const struct net *n, const struct net_view *v, json_object *o);
	/* Required with show(): into k, everything show() reads when !v->full other than n->def
	 * (its slot's state, a file): 'network list' reuses a network's entry while the key stays
	 * the same. show() must not read the kernel dump then (problem() may: it runs every time). */
	void (*show_key)(struct daemon *d, const struct net *n, struct net_show_key *k);
	/* After the networks were reconciled together (start, reload): what no single network owns
	 * (a bridge, a dnsmasq, rules of a network whose definition is gone). While
	 * daemon_reconcile_all() walks every network (d->reconciling_all), up() and down() may leave
	 * what is the same for every network (one table of them all, a kernel dump) to one call in
	 * the walk or to settle(), which always ends it: a restart of 1000 networks then costs 1000
	 * adoptions, not 1000 times the work of 1000 networks. */
	void (*settle)(struct daemon *d);
	/* A guest's NIC registered with the network (a start, an adoption, set-network): what the
	 * feature gives a user, e.g. its TAP becomes a port of the bridge. Idempotent. */
	int (*user_add)(struct daemon *d, struct net *n, const struct net_user *u, char *err, size_t errlen);
	/* Whether down() left work for the network name that ends later (a dnsmasq exiting): the
	 * event loop never waits for it. The feature calls daemon_net_settled() when it ended. */
	bool (*pending)(struct daemon *d, const char *name);
	/* Daemon-wide, not per network: netd's own settings were read again (SIGHUP, daemon.reload;
	 * before the networks): take them; -errno with err when they are refused (the old ones stay). */
	int (*reload)(struct daemon *d, char *err, size_t errlen);
	/* Its part of daemon.status (netdctl status), into o. */
	void (*status)(struct daemon *d, json_object *o);
	/* Its steps of 'netdctl doctor NETWORK', after the common ones, through step(ctx, ...); dump
	 * holds every link, address and route (read-only: doctor changes nothing). */
	void (*doctor)(struct daemon *d, const struct net *n, const struct link_dump *dump,
		       doctor_step_fn step, void *ctx);
};

/* A feature's own state: for the daemon (its context: a socket, a table, a list) and for one
 * network (e.g. its dnsmasq). Only the feature itself looks inside. */
void **daemon_feature_state(struct daemon *d, const struct feature *f);
void **net_slot(struct net *n, const struct feature *f);

struct net *daemon_net_find(struct daemon *d, const char *name);
struct net *daemon_net_find_bridge(struct daemon *d, const char *bridge);
/* A new network object for def (taken), inactive, in the daemon's list. */
int daemon_net_add(struct daemon *d, struct network *def, struct net **ret);
/* Out of the list and freed (down already: down() leaves nothing of it behind). */
void daemon_net_remove(struct daemon *d, struct net *n);
/* The definitions of every network, for the pure checks (network_check_conflicts); free() it. */
struct network **daemon_net_defs(struct daemon *d);

/* Whether a feature still finishes what a down() of the network name started (net.h pending). */
bool daemon_net_pending(struct daemon *d, const char *name);
/* Call done(d, userdata) once nothing is pending for name any more: 0 when nothing is (done is
 * not called), 1 when it will be, from the event loop. */
int daemon_net_when_settled(struct daemon *d, const char *name,
			    void (*done)(struct daemon *d, void *userdata), void *userdata);
/* A feature's pending work for name ended (see pending): the waiters run when none is left. */
void daemon_net_settled(struct daemon *d, const char *name);

/* Bring n up (every feature, in order; undone in reverse on failure) or down; the marker follows. */
int daemon_net_up(struct daemon *d, struct net *n, char *err, size_t errlen);
int daemon_net_down(struct daemon *d, struct net *n, char *err, size_t errlen);
/* Replace n's definition by def (taken) and apply it when n runs; on failure the previous
 * definition is applied again and kept, and def is freed. */
int daemon_net_redefine(struct daemon *d, struct net *n, struct network *def, char *err, size_t errlen);
/* Into o: every feature's show(), then "state" and "problem". */
void daemon_net_show(struct daemon *d, const struct net *n, const struct net_view *v, json_object *o);
/* The same in two parts: every feature's show(), then the state ("inactive", "degraded" or
 * "active") and into *ret_problem what is wrong (NULL: nothing; it may point into buf). */
void daemon_net_show_features(struct daemon *d, const struct net *n, const struct net_view *v,
			      json_object *o);
const char *daemon_net_state(struct daemon *d, const struct net *n, const struct net_view *v, char *buf,
			     size_t size, const char **ret_problem);
/* Into k: what daemon_net_show_features() of n (not full) depends on: its definition's generation
 * and every feature's show_key(). */
void daemon_net_show_key(struct daemon *d, const struct net *n, struct net_show_key *k);
/* Every feature's doctor() steps of n (net.h feature). */
void daemon_net_doctor(struct daemon *d, const struct net *n, const struct link_dump *dump,
		       doctor_step_fn step, void *ctx);

/* Users: a running guest's NIC registers with its network; every feature's user_add() gives it
 * what it needs (links: a port of the bridge, once the network runs), and again whenever the
 * network comes up (the bridge made anew). On failure it is not registered. */
int daemon_net_user_add(struct daemon *d, struct net *n, const struct net_user *u, char *err, size_t errlen);
void net_user_remove(struct net *n, const char *guest, unsigned nic);
/* "'a', 'b'" into names: the guests with a NIC on n. */
size_t net_user_names(const struct net *n, char *names, size_t size);
