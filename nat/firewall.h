/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netd's nftables table ("table inet netd"): rendered from the networks by a pure function,
 * applied through libnftables in one transaction, watched for changes made by others. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

#define FW_FAMILY "inet"
#define FW_TABLE "netd"

enum fw_mode {
	FW_ISOLATED, /* no forwarding in or out of the bridge */
	FW_ROUTED,   /* the subnet is forwarded as it is */
	FW_NAT,	     /* the subnet is masqueraded to everything outside it */
	FW_OPEN,     /* anything in and out between the bridge and the outside, unfiltered, no NAT */
};

#define FW_HOST_PORTS_MAX 33 /* a network's 32 (NETWORK_HOST_PORTS_MAX) and TFTP's udp/69 */
#define FW_ADDRESSES_MAX 7

/* One active network as the rules see it. */
struct fw_network {
	char bridge[IFNAMSIZ];
	struct ip_prefix subnet; /* IPv4, masked; family 0: no IPv4 (an IPv6-only network) */
	union in_addr_union gateway; /* IPv4: the only host address its guests reach */
	struct ip_prefix subnet6; /* IPv6, masked, at most /127; family 0: no IPv6 */
	union in_addr_union gateway6; /* IPv6: the host's global address its guests reach */
	bool nat6; /* mode nat: subnet6 masqueraded (NAT66); else routed as it is */
	enum fw_mode mode;
	char uplink[IFNAMSIZ]; /* "": egress through any interface */
	/* Host services on the gateway its guests may reach besides DHCP, DNS and ICMP. */
	struct l4_port host_ports[FW_HOST_PORTS_MAX];
	size_t n_host_ports;
	/* More IPv4 subnets on the bridge, each its gateway with the subnet's length (10.1.1.1/24):
	 * filtered, masqueraded or routed as subnet is, each a gateway its guests reach. */
	struct ip_prefix addresses[FW_ADDRESSES_MAX];
	size_t n_addresses;
};

/* The whole table as an nft script that replaces netd's table in one transaction (or removes it
 * when there are no networks). Pure. *ret_marker gets the marker that the applied table carries
 * (see fw_table_marker), NULL on allocation failure. */
char *fw_render(const struct fw_network *nets, size_t n, char **ret_marker);
/* The marker is made of shares, one per network and one of the rules, so that netd computes it
 * for a change from the networks that changed alone: the same networks give the same marker
 * whatever order they come in and whatever changes led to them. A network's share is a hash of its
 * set elements (as a change adds them) and their number; the table's is their sum (mod 2^64) plus
 * the share of the rules and the empty sets, which depend on the subnets' prefix lengths in use. */
struct fw_share {
	uint64_t hash;
	unsigned objects; /* set elements (the rules' share: rules) */
	uint64_t lens; /* the IPv4 prefix lengths of its subnets that have rules (bit L) */
	uint64_t lens6[2]; /* the IPv6 ones (bit L of the 128: lens6[L / 64] bit L % 64) */
};
/* What the rules see of a network is the same (then so are its elements and its share). */
bool fw_network_equal(const struct fw_network *a, const struct fw_network *b);
int fw_network_share(const struct fw_network *w, struct fw_share *ret);
void fw_share_add(struct fw_share *sum, const struct fw_share *s);
/* The marker of a table of n networks whose shares add up to *sum ("" for none), as fw_render
 * gives it. */
int fw_marker(const struct fw_share *sum, size_t n, char *buf, size_t size);

/* The same change as a few set elements: the elements of the networks that went or changed
 * deleted, of those that came or changed added, and the marker replaced. The rules depend only on
 * the prefix lengths in use, so while those stay the same this is the whole difference between the
 * tables fw_render made of old and of new. "" when the table comes or goes, when the lengths in
 * use differ (or nothing changed): use fw_render. NULL: no memory. */
char *fw_render_change(const struct fw_network *old, size_t n_old, const char *old_marker,
		       const struct fw_network *new, size_t n_new, const char *new_marker);

/* One element added to or deleted from a set, as the kernel takes it: nft.c sends a change of
 * these to the kernel itself, so that libnftables does not first read the table into its cache on
 * every change. netd's sets have no ranges: an element is its key. */
struct fw_elem {
	bool add; /* or delete */
	char set[32];
	uint8_t key[64]; /* each field padded to 4 bytes, as nft lays out a concatenation */
	size_t len;
};
/* fw_render_change, and the same change as elements into *ret_elems (free()), *ret_n. */
char *fw_render_change_elems(const struct fw_network *old, size_t n_old, const char *old_marker,
			     const struct fw_network *new, size_t n_new, const char *new_marker,
			     struct fw_elem **ret_elems, size_t *ret_n);
/* The same change made from the networks that differ alone: gone, the old versions of those that
 * went or changed, came, the new versions of those that came or changed (each in any order). The
 * caller knows what fw_render_change checks on the whole lists: the table neither comes nor goes
 * (n_old and n_new > 0) and the prefix lengths in use are the same before and after (the sum of
 * the shares' lens). Then it is what fw_render_change_elems gives for the whole lists. */
char *fw_render_change_only(const struct fw_network *gone, size_t n_gone, const char *old_marker,
			    const struct fw_network *came, size_t n_came, const char *new_marker,
			    struct fw_elem **ret_elems, size_t *ret_n);

/* The marker ("netd:HASH:COUNT", HASH 16 hex digits, COUNT the rules and set elements) is the one
 * element of set "marker": four names, since a name holds at most 15 characters. */
#define FW_MARKER_SET "marker"
#define FW_MARKER_TYPE "ifname . ifname . ifname . ifname"
#define FW_MARKER_MAX 96
/* The set element of a marker, as nft reads it; -EINVAL if marker is not one. */
int fw_marker_element(const char *marker, char *buf, size_t size);
/* The marker from the element's four names, as a listing gives them back. */
int fw_marker_from_names(const char *const names[4], char *buf, size_t size);

/* libnftables (nft.c). */
struct fw_nft;
struct fw_nft *fw_nft_new(void);
void fw_nft_free(struct fw_nft *f);
/* Run an nft script as one transaction; on failure err gets libnftables' message. */
int fw_nft_apply(struct fw_nft *f, const char *script, char *err, size_t errlen);
/* Add and delete elements of table FAMILY TABLE in one transaction, a netlink batch of netd's own
 * (no libnftables cache to fill first); -E2BIG when there are too many for one batch. */
int fw_nft_apply_elems(struct fw_nft *f, const char *family, const char *table, const struct fw_elem *elems,
		       size_t n, char *err, size_t errlen);

/* The comment of set marker_set in table FAMILY TABLE, and how many rules and set elements the
 * table holds; -ENOENT when the table does not exist. */
int fw_nft_table_state(struct fw_nft *f, const char *family, const char *table, const char *marker_set,
		       char *marker, size_t size, size_t *ret_rules, size_t *ret_elements);

/* The tables of other processes that can filter a network's traffic (families ip, ip6 and inet, not
 * netd's own) as one libnftables JSON listing, {"nftables": [...]}, for reach_ruleset_parse()
 * (reach.h). "" when there is no ruleset to list. */
int fw_nft_foreign_ruleset(struct fw_nft *f, char **ret_json);

/* nftables change notifications (monitor.c): a netlink socket in group NFNLGRP_NFTABLES. */
int fw_monitor_open(void);
/* Drain the socket: 2 when a transaction by another process than self touched a table named like
 * netd's ("netd", "netd_ports"; or events were lost), 1 when it touched only other tables, 0 when
 * only self's own were seen, negative errno on error. */
int fw_monitor_read(int fd, pid_t self);

/*
 * How the daemon reaches nftables: the real backend (libnftables and the netlink group above,
 * fw_nft_open) or the recording fake (fw-fake.c), so a whole daemon runs in a unit test.
 */
struct fw_ops {
	const char *name;
	int (*apply)(void *userdata, const char *script, char *err, size_t errlen);
	/* A change of netd's table as elements (fw_render_change_elems); NULL: only scripts. */
	int (*apply_elems)(void *userdata, const struct fw_elem *elems, size_t n, char *err, size_t errlen);
	int (*table_state)(void *userdata, const char *family, const char *table, const char *marker_set,
			   char *marker, size_t size, size_t *ret_rules, size_t *ret_elements);
	/* fw_nft_foreign_ruleset() */
	int (*ruleset)(void *userdata, char **ret_json);
	/* A pollable fd that becomes readable on ruleset changes, or negative errno. */
	int (*monitor_open)(void *userdata);
	int (*monitor_read)(void *userdata, int fd, pid_t self);
	void (*close)(void *userdata);
};

struct fw_backend {
	const struct fw_ops *ops; /* NULL: no nftables (no libnftables context could be made) */
	void *userdata;
};

/* The real backend; its tables are made as libnftables makes them (no flags). */
int fw_nft_open(struct fw_backend *ret);
/* The same, with netd's tables owned by it (want, and the kernel has both flags): made with
 * NFT_TABLE_F_OWNER | NFT_TABLE_F_PERSIST, so that another process's "nft flush ruleset" skips
 * them and its "delete table" fails (EPERM), and they stay when netd exits or is killed, for the
 * next netd to take over (a table left by a killed netd is taken over here). 1: owned; 0: not, why
 * says why (a table such a netd left is deleted then, as no script could replace it); -errno: no
 * backend, or a table could not be taken over (*ret is set all the same, why says what failed). */
int fw_nft_open_owned(struct fw_backend *ret, bool want, char *why, size_t whylen);
void fw_backend_close(struct fw_backend *b);
/* The marker of netd's table in the kernel into buf: -ENOENT when the table is missing, and an
 * empty marker when the table does not look like the one netd applied (rules or set elements
 * removed). */
int fw_kernel_marker(const struct fw_backend *b, char *buf, size_t size);

/*
 * The recording fake: an applied script is logged ("apply <first line> (N lines)") and remembered
 * per table, so that table_state answers with the marker the script carried (as the kernel
 * would); fail_at = N makes the N-th apply fail. No monitor. The other tables' listing is what
 * fw_fake_set_ruleset() last gave ("" at first).
 */
struct fw_fake;
int fw_fake_new(struct fw_fake **ret, struct fw_backend *ret_backend);
void fw_fake_free(struct fw_fake *f);
const char *fw_fake_log(struct fw_fake *f);
void fw_fake_clear_log(struct fw_fake *f);
/* The last whole script that named table name ("FAMILY TABLE"), or NULL. */
const char *fw_fake_table(struct fw_fake *f, const char *name);
/* Someone else's "nft flush ruleset": every table gone. */
void fw_fake_flush(struct fw_fake *f);
void fw_fake_fail_at(struct fw_fake *f, unsigned n);
/* The JSON listing of the other tables from now on (copied; NULL: none). */
int fw_fake_set_ruleset(struct fw_fake *f, const char *json);
