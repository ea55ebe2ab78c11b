/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The link ops table: every kernel change to links, addresses and routes goes through it.
 * Exactly one backend (link-nl.c, rtnetlink via libmnl) talks to the kernel; tests use the
 * recording fake (link-fake.c), which writes one line per operation and can inject failures.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "mac.h"

struct link_info {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[16];	 /* IFLA_INFO_KIND: "bridge", "veth", ... or "" */
	char alias[128]; /* IFLA_IFALIAS; netd tags what it owns with "netd:<owner>" */
	struct mac mac;
	uint32_t mtu;
	bool up;		/* administratively up (IFF_UP) */
	bool running;		/* IFF_RUNNING / lower up */
	int master;		/* ifindex of the bridge this link is a port of, 0 if none */
	int stp_state;		/* bridges only: IFLA_BR_STP_STATE, -1 if not a bridge */
	uint32_t forward_delay; /* bridges only: IFLA_BR_FORWARD_DELAY (centiseconds) */
};

struct addr_info {
	int ifindex;
	struct ip_prefix prefix; /* the address itself, with its prefix length */
	uint8_t scope;		 /* RT_SCOPE_* */
	uint32_t flags;		 /* IFA_F_* */
};

struct route_info {
	int ifindex; /* RTA_OIF, 0 if none (blackhole, multipath) */
	uint32_t table;
	uint8_t type;	  /* RTN_* */
	uint8_t protocol; /* RTPROT_* */
	struct ip_prefix dst;
	int gw_family; /* AF_UNSPEC when there is no gateway */
	union in_addr_union gw;
};

enum {
	LINK_DUMP_LINKS = 1 << 0,
	LINK_DUMP_ADDRS = 1 << 1,
	LINK_DUMP_ROUTES = 1 << 2, /* IPv4 and IPv6, every table */
	LINK_DUMP_ALL = LINK_DUMP_LINKS | LINK_DUMP_ADDRS | LINK_DUMP_ROUTES,
};

struct link_dump {
	struct link_info *links;
	size_t n_links;
	struct addr_info *addrs;
	size_t n_addrs;
	struct route_info *routes;
	size_t n_routes;
};

void link_dump_free(struct link_dump *d);
const struct link_info *link_dump_find_index(const struct link_dump *d, int ifindex);
const struct link_info *link_dump_find_name(const struct link_dump *d, const char *name);
const char *link_dump_ifname(const struct link_dump *d, int ifindex); /* "?" if unknown */

struct bridge_spec {
	const char *name;
	struct mac mac; /* set at creation so the bridge never inherits a port's MAC */
	uint32_t mtu;	/* 0: kernel default */
	const char *alias;
};

/*
 * All functions return 0 or a positive value on success, negative errno on failure.
 * After a failure, last_error() returns the kernel's extended-ACK text if there was one.
 */
struct link_ops {
	const char *name;
	/* Bridge with STP off and forward delay 0, the given MAC, MTU and alias; not brought up. */
	int (*bridge_add)(void *userdata, const struct bridge_spec *spec, int *ret_ifindex);
	int (*link_del)(void *userdata, int ifindex);
	int (*link_set_up)(void *userdata, int ifindex, bool up);
	int (*link_set_mtu)(void *userdata, int ifindex, uint32_t mtu);
	int (*link_set_mac)(void *userdata, int ifindex, const struct mac *mac);
	int (*link_set_alias)(void *userdata, int ifindex, const char *alias);
	/* Make ifindex a port of the bridge master_ifindex (0: release it from its bridge). */
	int (*link_set_master)(void *userdata, int ifindex, int master_ifindex);
	int (*addr_add)(void *userdata, int ifindex, const struct ip_prefix *addr);
	int (*addr_del)(void *userdata, int ifindex, const struct ip_prefix *addr);
	int (*dump)(void *userdata, unsigned what, struct link_dump *ret);
	const char *(*last_error)(void *userdata);
};

struct link_backend {
	const struct link_ops *ops;
	void *userdata;
};

/* The rtnetlink backend (link-nl.c). */
int link_nl_open(struct link_backend *ret);
void link_nl_close(struct link_backend *b);

/*
 * The recording fake (link-fake.c): an in-memory kernel. Every mutation appends one line to
 * the log ("bridge_add name=nd-lab mac=... mtu=0 alias=netd:lab"). fail_at = N makes the N-th
 * mutation (1-based) fail with fail_errno; fail_op = "addr_add" fails every call of that op.
 */
struct link_fake;
int link_fake_new(struct link_fake **ret, struct link_backend *ret_backend);
void link_fake_free(struct link_fake *f);
const char *link_fake_log(struct link_fake *f);
void link_fake_clear_log(struct link_fake *f);
void link_fake_fail_at(struct link_fake *f, unsigned n, int err);
void link_fake_fail_op(struct link_fake *f, const char *op, int err);
/* Plant kernel objects netd does not own, e.g. a host route or an interface. */
int link_fake_add_link(struct link_fake *f, const char *name, const char *kind, int *ret_ifindex);
int link_fake_add_route(struct link_fake *f, int ifindex, const char *dst);
int link_fake_add_addr(struct link_fake *f, int ifindex, const char *prefix);
