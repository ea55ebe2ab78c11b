/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reachability through other firewalls: whether the ruleset lets a given packet through, judged by
 * what its rules do (nat/DESIGN.md "Other firewalls"). Pure: it reads a libnftables JSON listing
 * (`nft -j list ruleset`, or the tables of one) and evaluates an abstract packet against every base
 * chain of a hook, following jumps, gotos and verdict maps. No I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "firewall.h"

struct reach_ruleset;

/* Parse a listing ({"nftables": [...]}, NULL or "" for none). Tables of other families than ip,
 * ip6 and inet are left out, and so are netd's own (inet netd, inet netd_ports). -EINVAL when it
 * is not such a listing, -ENOMEM. */
int reach_ruleset_parse(const char *json, struct reach_ruleset **ret);
void reach_ruleset_free(struct reach_ruleset *rs);
/* The tables listed (netd's own left out): their number, and the i-th one's family and name. */
size_t reach_ruleset_n_tables(const struct reach_ruleset *rs);
void reach_ruleset_table(const struct reach_ruleset *rs, size_t i, const char **ret_family,
			 const char **ret_name);
/* Whether table family table (as "ip", "filter") has chain. */
bool reach_ruleset_has_chain(const struct reach_ruleset *rs, const char *family, const char *table,
			     const char *chain);
/* Whether chain of table family table is on a packet's path: a base chain of the table jumps or
 * goes to it, directly or through other chains. */
bool reach_chain_reachable(const struct reach_ruleset *rs, const char *family, const char *table,
			   const char *chain);
/* Whether any base chain is at the forward or input hook: if none, every packet passes. */
bool reach_ruleset_has_hooks(const struct reach_ruleset *rs);

enum reach_hook {
	REACH_HOOK_FORWARD,
	REACH_HOOK_INPUT,
};

enum reach_ct {
	REACH_CT_NEW,
	REACH_CT_ESTABLISHED,
};

/* Fields left open (-1, family 0) stand for any value: a rule that needs a particular one applies
 * to part of the traffic only and is passed over (its accept does not let the traffic through, its
 * drop does not block it). */
struct reach_packet {
	int family; /* AF_INET or AF_INET6 */
	enum reach_hook hook;
	/* NULL: "any other interface", one that no rule names (no name or wildcard matches it). */
	const char *iifname, *oifname;
	int saddr_family, daddr_family; /* 0: unknown address */
	union in_addr_union saddr, daddr;
	int l4proto; /* IPPROTO_UDP, ...; -1 unknown */
	int sport, dport; /* -1 unknown */
	int icmp_type; /* -1 unknown */
	int hoplimit; /* -1 unknown */
	int pkttype; /* PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST; -1 unknown */
	enum reach_ct ct;
};

/* A match netd cannot decide (an unknown field of the packet, an expression it does not model:
 * marks, limits, "xt" matches, fib) is taken as not matching: an accept that needs it does not let
 * the packet through; a drop or reject that needs it "may block". */
enum reach_verdict {
	REACH_ACCEPT, /* every base chain accepts it */
	REACH_DROP, /* a base chain drops or rejects it (by a rule or its policy) */
	REACH_MAYBE, /* every base chain accepts it unless a rule netd cannot decide drops it */
};

const char *reach_verdict_to_string(enum reach_verdict v);

#define REACH_TEXT_MAX 160

/* A rule, or with handle 0 a base chain's policy. */
struct reach_rule {
	char family[8];
	char table[64];
	char chain[64];
	uint64_t handle; /* 0: the policy of chain */
	bool reject; /* rejects rather than drops */
	char text[REACH_TEXT_MAX]; /* a short form of the rule ("iifname \"nd-x\" drop"), "" for a policy */
};

struct reach_result {
	enum reach_verdict verdict;
	/* Not REACH_ACCEPT: the base chain (family, table, chain; handle 0) ... */
	struct reach_rule base;
	/* ... and the rule (or policy) in it or in a chain it jumps to that drops the packet. */
	struct reach_rule by;
	/* A rule netd could not decide that the verdict depends on (REACH_MAYBE; REACH_DROP when it
	 * might have let the packet through): the first one met. */
	bool has_unknown;
	struct reach_rule unknown;
};

/* An iptables-nft match ("xt match NAME" in a listing, which leaves its options out) as the
 * native statement it stands for, JSON text to put in its place (free()), from the expression's
 * revision and info blob as the kernel holds them: conntrack --ctstate (ct state), icmp/icmp6
 * --icmp-type (icmp type), addrtype --dst-type (fib daddr type), comment (a counter: it matches everything).
 * NULL when netd cannot tell (other options, another match). */
char *reach_xt_match_json(const char *name, unsigned rev, const void *info, size_t len);

/* Evaluate p at its hook: every base chain of ip/ip6/inet tables for p's family, in priority order
 * (lower first); the packet passes only if each accepts it. *ret: REACH_ACCEPT, or the first base
 * chain that drops it (else the first one that may). If ret_chains, each base chain's own result
 * (at most max_chains) in that order, and their number in *ret_n. */
int reach_evaluate(const struct reach_ruleset *rs, const struct reach_packet *p, struct reach_result *ret,
		   struct reach_result *ret_chains, size_t max_chains, size_t *ret_n);

/* What a network's guests need (see reach_network_checks). */
enum reach_check_kind {
	REACH_CHECK_FORWARD_OUT, /* guest -> outside, a new connection */
	REACH_CHECK_FORWARD_REPLY, /* outside -> guest, its replies (established) */
	REACH_CHECK_DHCP, /* guest -> 255.255.255.255 udp 67 */
	REACH_CHECK_DNS_UDP, /* guest -> gateway udp 53 */
	REACH_CHECK_DNS_TCP, /* guest -> gateway tcp 53 */
	REACH_CHECK_ND, /* guest -> gateway ICMPv6 neighbour solicitation/advertisement */
	REACH_CHECK_RS, /* guest -> ff02::2 ICMPv6 router solicitation */
	REACH_CHECK_DHCP6, /* guest -> ff02::1:2 udp 547 */
};

struct reach_check {
	enum reach_check_kind kind;
	int family;
	struct reach_packet packet;
	struct reach_result result;
};

/* "forwarding", "forwarded replies", "DHCP", "DNS", ... ("IPv6 forwarding" for AF_INET6). */
const char *reach_check_name(const struct reach_check *c, char *buf, size_t size);

/* What to check for a network: the services its gateway gives (flags). */
#define REACH_SERVES_DHCP 1u
#define REACH_SERVES_DNS 2u

/* 16 for the first IPv4 subnet and IPv6, 4 for each further IPv4 subnet. */
#define REACH_CHECKS_MAX (16 + 4 * FW_ADDRESSES_MAX)

/* Every check of network w (forwarding both ways unless isolated, then DHCP, DNS, ND and DHCPv6 to
 * the gateway as it serves them) into ret (REACH_CHECKS_MAX), evaluated. Returns their number. The
 * packets' interface names point into w. */
size_t reach_network_checks(const struct reach_ruleset *rs, const struct fw_network *w, unsigned serves,
			    struct reach_check ret[static REACH_CHECKS_MAX]);
/* The first check that fails (a drop before a maybe), NULL when all pass. */
const struct reach_check *reach_checks_first_failure(const struct reach_check *c, size_t n);

/* "forwarding blocked by table ip filter chain FORWARD (hook forward, policy drop)": the failed
 * check c as a user reads it. */
const char *reach_check_problem(const struct reach_check *c, char *buf, size_t size);
/* How to let the traffic of c through there, in the documented place of the firewall that owns the
 * table (Docker's DOCKER-USER, ufw's route/allow rules, firewalld zones, else an nft rule). */
const char *reach_check_advice(const struct reach_ruleset *rs, const struct reach_check *c,
			       const char *bridge, char *buf, size_t size);
/* The same as commands to paste into a root shell (netdctl doctor's fix). */
const char *reach_check_fix(const struct reach_ruleset *rs, const struct reach_check *c, const char *bridge,
			    char *buf, size_t size);
