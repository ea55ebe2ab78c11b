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
	bool loopback;		/* IFF_LOOPBACK */
	int master;		/* ifindex of the bridge this link is a port of, 0 if none */
	int lower;		/* IFLA_LINK in this namespace (a macvlan's parent, a veth's peer), 0 if none */
	int stp_state;		/* bridges only: IFLA_BR_STP_STATE, -1 if not a bridge */
	uint32_t forward_delay; /* bridges only: IFLA_BR_FORWARD_DELAY (centiseconds) */
	/* VXLAN devices only: the VNI, the local address (family 0: none), the UDP port. */
	uint32_t vxlan_id;
	int vxlan_local_family;
	union in_addr_union vxlan_local;
	uint16_t vxlan_port;
};

struct addr_info {
	int ifindex;
	struct ip_prefix prefix; /* the address itself, with its prefix length */
	uint8_t scope;		 /* RT_SCOPE_* */
	uint32_t flags;		 /* IFA_F_* */
	uint32_t valid_lft;	 /* remaining seconds (IFA_CACHEINFO); LINK_LFT_FOREVER if none */
	uint32_t preferred_lft;
	/* addr_add_full sends these as they are; a dump fills them in. */
	int peer_family; /* IFA_ADDRESS when it differs from IFA_LOCAL ("peer"), else AF_UNSPEC */
	union in_addr_union peer;
	int broadcast_family; /* IPv4 IFA_BROADCAST, AF_UNSPEC when the address has none */
	union in_addr_union broadcast;
	char label[IFNAMSIZ]; /* IPv4 IFA_LABEL ("eth0:1"); "" means the link's name */
	uint32_t rt_priority; /* IFA_RT_PRIORITY: the metric of the address's prefix route */
	uint8_t proto; /* IFA_PROTO (IFAPROT_*), 0 if unset */
};

/* A neighbour entry (ARP or NDP) on a link; the conversion moves the static ones. */
struct neigh_info {
	int ifindex;
	int family;
	union in_addr_union dst;
	struct mac lladdr;
	bool has_lladdr;
	uint16_t state; /* NUD_* */
	uint8_t flags; /* NTF_* (NTF_ROUTER, ...) */
	uint8_t protocol; /* NDA_PROTOCOL, 0 if unset */
	/* A bridge FDB entry (family AF_BRIDGE, LINK_DUMP_FDB): lladdr is the MAC; on a VXLAN port
	 * dst is the remote VTEP (NDA_DST) of dst_family, AF_UNSPEC when there is none. */
	int dst_family;
};

#define LINK_LFT_FOREVER UINT32_MAX
#define LINK_METRICS_MAX 64

struct route_info {
	int ifindex; /* RTA_OIF, 0 if none (blackhole, multipath) */
	uint32_t table;
	uint8_t type;	  /* RTN_* */
	uint8_t protocol; /* RTPROT_* */
	struct ip_prefix dst;
	int gw_family; /* AF_UNSPEC when there is no gateway */
	union in_addr_union gw;
	uint8_t scope;	   /* RT_SCOPE_* */
	uint32_t flags;	   /* rtm_flags, e.g. RTNH_F_ONLINK */
	uint32_t priority; /* RTA_PRIORITY: the metric */
	int prefsrc_family; /* AF_UNSPEC when there is no preferred source */
	union in_addr_union prefsrc;
	uint8_t pref;	   /* RTA_PREF (IPv6 router preference), 0 if none */
	uint8_t metrics_len; /* RTA_METRICS, kept as the kernel's bytes */
	uint8_t metrics[LINK_METRICS_MAX];
	/* IPv6: seconds until the kernel drops it (an RA-learnt route), 0 if never. Kept on a move:
	 * only a route with an expiry is refreshed (and expired) by the router's advertisements. */
	uint32_t expires;
};

/* A policy routing rule; only what decides whether it names an interface. */
struct rule_info {
	int family;
	uint32_t priority;
	uint32_t table;
	uint8_t action; /* FR_ACT_* */
	char iif[IFNAMSIZ];
	char oif[IFNAMSIZ];
};

enum route_change {
	ROUTE_ADD,
	ROUTE_REPLACE, /* create, or replace the route with the same key (dst, table, metric) */
	ROUTE_DEL,
};

enum {
	LINK_DUMP_LINKS = 1 << 0,
	LINK_DUMP_ADDRS = 1 << 1,
	LINK_DUMP_ROUTES = 1 << 2, /* IPv4 and IPv6, every table */
	LINK_DUMP_RULES = 1 << 3, /* IPv4 and IPv6 policy rules */
	LINK_DUMP_NEIGHS = 1 << 4, /* IPv4 and IPv6 neighbour entries */
	/* The links as the kernel dumps them now, not the backend's cache of them (link-nl.c keeps
	 * one from the kernel's notifications; see bridge/DESIGN.md). */
	LINK_DUMP_FRESH = 1 << 5,
	/* With LINK_DUMP_LINKS: addresses and routes only of links that are not netd's networks'
	 * (alias "netd:<name>", reconcile_tag_owner), and routes without a link: the host's own,
	 * which the checks against the host look at (at 1000 networks, a few among ~10000). */
	LINK_DUMP_FOREIGN = 1 << 6,
	/* Bridge FDB entries (neighs of family AF_BRIDGE, from the kernel, never with dump_of). */
	LINK_DUMP_FDB = 1 << 7,
	LINK_DUMP_ALL = LINK_DUMP_LINKS | LINK_DUMP_ADDRS | LINK_DUMP_ROUTES,
};

struct link_dump {
	struct link_info *links;
	size_t n_links;
	struct addr_info *addrs;
	size_t n_addrs;
	struct route_info *routes;
	size_t n_routes;
	struct rule_info *rules;
	size_t n_rules;
	struct neigh_info *neighs;
	size_t n_neighs;
	/* link_dump_index(): links sorted by ifindex, by_name sorted by name, addresses grouped by
	 * ifindex (each link's in the kernel's order): the lookups below are then O(log n). */
	bool indexed;
	const struct link_info **by_name;
};

void link_dump_free(struct link_dump *d);
/* Index a dump that is only looked at (a view: 'network list' of 1000 networks does 1000
 * lookups): it reorders links and addresses. -ENOMEM leaves it as it was. */
int link_dump_index(struct link_dump *d);
/* The addresses of ifindex: a run of *ret_n from the returned one (an indexed dump), or NULL. */
const struct addr_info *link_dump_addrs_of(const struct link_dump *d, int ifindex, size_t *ret_n);
const struct link_info *link_dump_find_index(const struct link_dump *d, int ifindex);
const struct link_info *link_dump_find_name(const struct link_dump *d, const char *name);
const char *link_dump_ifname(const struct link_dump *d, int ifindex); /* "?" if unknown */
/* Drops the addresses and routes of netd's networks' links (LINK_DUMP_FOREIGN). -ENOMEM leaves
 * the dump as it was. */
int link_dump_keep_foreign(struct link_dump *d);
/* Keeps the addresses, routes and neighbours of ifindex alone (0: none). */
void link_dump_keep_of(struct link_dump *d, int ifindex);

struct bridge_spec {
	const char *name;
	struct mac mac; /* set at creation so the bridge never inherits a port's MAC */
	uint32_t mtu;	/* 0: kernel default */
	const char *alias;
	/* Spanning tree: off (the default, a new port forwards at once) or on with a forward delay
	 * of 2-30 s (the kernel's range with STP; 0 with STP off). */
	bool stp;
	unsigned forward_delay; /* seconds */
};

/* A VXLAN device (a network across hosts, mode evpn): its VNI, this host's tunnel endpoint as the
 * source, the UDP port, no learning of remote MACs (BGP EVPN installs them), its MTU. */
struct vxlan_spec {
	const char *name;
	uint32_t vni;
	int local_family; /* AF_INET or AF_INET6 */
	union in_addr_union local;
	uint16_t dstport;
	uint32_t mtu; /* 0: the kernel's */
	const char *alias;
};

#define VXLAN_PORT 4789 /* IANA's */

/* Kinds of kernel change notifications (events_open): a trigger to read the kernel again. */
enum {
	LINK_EVENT_LINKS = 1 << 0,
	LINK_EVENT_ADDRS4 = 1 << 1,
	LINK_EVENT_ADDRS6 = 1 << 2,
	LINK_EVENT_ROUTES4 = 1 << 3,
	LINK_EVENT_ROUTES6 = 1 << 4,
	/* Notifications were dropped (the socket overran): anything subscribed to may have changed. */
	LINK_EVENT_LOST = 1 << 5,
	/* IPv4 and IPv6 neighbour entries and bridge FDB entries (RTNLGRP_NEIGH) */
	LINK_EVENT_NEIGHS = 1 << 6,
};

/*
 * All functions return 0 or a positive value on success, negative errno on failure.
 * After a failure, last_error() returns the kernel's extended-ACK text if there was one.
 */
/* The link group links_del borrows for a moment ("netd" in ASCII); nothing else should use it. */
#define LINK_SCRATCH_GROUP 0x6e657464u

struct link_ops {
	const char *name;
	/* Bridge with the given MAC, MTU, alias and STP (off: forward delay 0); not brought up. */
	int (*bridge_add)(void *userdata, const struct bridge_spec *spec, int *ret_ifindex);
	/* A bridge's STP on or off and its forward delay in seconds (2-30 with STP on; the kernel
	 * refuses a delay out of that range while STP is on, so off is set before the delay). */
	int (*bridge_set_stp)(void *userdata, int ifindex, bool stp, unsigned forward_delay);
	int (*link_del)(void *userdata, int ifindex);
	int (*link_set_up)(void *userdata, int ifindex, bool up);
	int (*link_set_mtu)(void *userdata, int ifindex, uint32_t mtu);
	int (*link_set_mac)(void *userdata, int ifindex, const struct mac *mac);
	int (*link_set_alias)(void *userdata, int ifindex, const char *alias);
	int (*addr_add)(void *userdata, int ifindex, const struct ip_prefix *addr);
	int (*addr_del)(void *userdata, int ifindex, const struct ip_prefix *addr);
	int (*dump)(void *userdata, unsigned what, struct link_dump *ret);
	/* As dump, but the addresses, routes and neighbours only of the link named ifname (none if
	 * there is no such link): one network's view without a copy of every bridge's (1000
	 * networks: 3000 addresses). Optional: link_dump_of() filters a whole dump without it. */
	int (*dump_of)(void *userdata, unsigned what, const char *ifname, struct link_dump *ret);
	/* A VXLAN device as spec says (learning off), with its alias; not brought up. Optional. */
	int (*vxlan_add)(void *userdata, const struct vxlan_spec *spec, int *ret_ifindex);
	/* A bridge port's flags: whether the bridge learns source MACs on it, and whether ARP and
	 * neighbour solicitations to it are answered from the bridge's neighbour entries
	 * (neigh_suppress). Optional. */
	int (*port_set_flags)(void *userdata, int ifindex, bool learning, bool neigh_suppress);
	/* A static entry of the bridge's forwarding table for mac on the bridge port ifindex ('bridge
	 * fdb replace MAC dev PORT master static'): add (or replace) when add, else delete. The kernel
	 * drops a port's entries when it leaves its bridge. Optional. */
	int (*fdb_change)(void *userdata, int ifindex, const struct mac *mac, bool add);
	/* Make ifindex a port of master, or release it from its bridge when master is 0. */
	int (*port_set)(void *userdata, int ifindex, int master);
	/* A new port in one request: its MAC (unless mac is NULL), a port of master, up. */
	int (*port_plug)(void *userdata, int ifindex, int master, const struct mac *mac);
	/*
	 * Deletes n links in one kernel transaction: one RCU grace period for all of them instead of
	 * one each (they are moved into link group LINK_SCRATCH_GROUP, then the group is deleted).
	 */
	int (*links_del)(void *userdata, const int *ifindexes, size_t n);
	/* Address with its flags (IFA_F_NODAD, IFA_F_NOPREFIXROUTE, ...), scope, lifetimes, peer,
	 * broadcast, label, metric and protocol; replace updates an existing one (IPv6 applies new
	 * flags; IPv4 changes lifetimes and metric, keeps flags, label and broadcast). */
	int (*addr_add_full)(void *userdata, const struct addr_info *a, bool replace);
	/* Neighbour entry with its state, flags and protocol: add (or replace) when add, else delete. */
	int (*neigh_change)(void *userdata, const struct neigh_info *n, bool add);
	/* Any table, keeping protocol, scope, type, metric, gateway, source and metrics. */
	int (*route_change)(void *userdata, enum route_change op, const struct route_info *rt);
	/* Per-interface sysctl net.ipv{4,6}.conf.IFNAME.KEY; value without the newline. */
	int (*sysctl_get)(void *userdata, int family, const char *ifname, const char *key, char *buf,
			  size_t size);
	int (*sysctl_set)(void *userdata, int family, const char *ifname, const char *key,
			  const char *value);
	/* Gratuitous ARP (IPv4) or unsolicited neighbour advertisement (IPv6) for addr. */
	int (*announce)(void *userdata, int ifindex, const struct mac *mac, const struct ip_prefix *addr);
	/*
	 * A burst: after batch_begin, port, address and route changes are queued and return 0;
	 * batch_commit sends them in one write and collects every ACK. It returns the first
	 * error; the kernel still applies the requests after a failed one.
	 */
	int (*batch_begin)(void *userdata);
	int (*batch_commit)(void *userdata);
	const char *(*last_error)(void *userdata);
	/*
	 * Change notifications: subscribe to what (LINK_EVENT_*); *ret_fd (O_CLOEXEC, non-blocking)
	 * becomes readable when one arrives, for the caller's event loop to watch. events_read takes
	 * every pending one without blocking and says which kinds came (0: none); events_close ends
	 * the subscription.
	 */
	int (*events_open)(void *userdata, unsigned what, int *ret_fd);
	int (*events_read)(void *userdata, int fd, unsigned *ret_what);
	void (*events_close)(void *userdata, int fd);
};

struct link_backend {
	const struct link_ops *ops;
	void *userdata;
};

/* ops->dump_of, or ops->dump and link_dump_keep_of. */
int link_dump_of(const struct link_backend *be, unsigned what, const char *ifname, struct link_dump *ret);

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
int link_fake_add_addr_full(struct link_fake *f, const struct addr_info *a);
int link_fake_add_route_full(struct link_fake *f, const struct route_info *rt);
int link_fake_add_rule(struct link_fake *f, const struct rule_info *rule);
int link_fake_add_neigh(struct link_fake *f, const struct neigh_info *n);
/* Make ifindex a slave of master whatever master is (a bond, say); port_set takes bridges only. */
int link_fake_set_master(struct link_fake *f, int ifindex, int master);
int link_fake_set_mac(struct link_fake *f, int ifindex, const struct mac *mac);
int link_fake_set_lower(struct link_fake *f, int ifindex, int lower);
/* A bridge's forward delay as the kernel reports it (hundredths of a second): one learnt from a
 * BPDU may lie outside what can be set (2-30 s). */
int link_fake_set_forward_delay(struct link_fake *f, int ifindex, uint32_t forward_delay);
/* The kernel notifies what (LINK_EVENT_*): every subscription to one of them becomes readable. */
void link_fake_notify(struct link_fake *f, unsigned what);
/* Sysctls of the fake: "IFNAME/KEY" per family; unset ones read as "0" (accept_ra "1"). */
int link_fake_sysctl(struct link_fake *f, int family, const char *ifname, const char *key, char *buf,
		     size_t size);

/* Text forms for logs, plans and golden files. */
char *route_info_format(const struct route_info *rt, const struct link_dump *names, char *buf, size_t size);
char *addr_info_format(const struct addr_info *a, char *buf, size_t size);
char *neigh_info_format(const struct neigh_info *n, char *buf, size_t size);
bool route_info_same_key(const struct route_info *a, const struct route_info *b);
