/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The iptables rules netd puts in other firewall managers' chains (Docker's DOCKER-USER, ufw's
 * user chains) so that they let a netd bridge's traffic through, and the listings (`iptables -S`)
 * it reads them back from. Pure: netd/network/fwint-ipt.c runs the binaries.
 *
 * Each rule is tagged with the comment netd:BRIDGE, so that netd finds its own rules again (after
 * a restart, or when the network went away while netd was down) and never touches another's.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum ipt_manager {
	IPT_DOCKER,
	IPT_UFW,
	_IPT_MANAGER_MAX,
};

/* "docker", "ufw" (JSON, logs) and "Docker", "ufw" (messages). */
const char *ipt_manager_to_string(enum ipt_manager m);
const char *ipt_manager_label(enum ipt_manager m);

/* A rule: what comes in from the bridge (-i; with oif: and goes out there) or goes out to it (-o),
 * accepted, or handed back to the manager's own rules (ret: -j RETURN). */
struct ipt_rule {
	const char *chain;
	bool out;
	const char *oif; /* with !out: -o OIF too; NULL: any */
	bool ret;
};

#define IPT_RULES_MAX 4

/* Manager m's rules for family (AF_INET, AF_INET6) into ret, in the order they go in a chain; their
 * number. Docker: in DOCKER-USER (Docker documents that chain for the host's own rules), what goes
 * to Docker's bridges (docker0, br-*) back to Docker's rules (its containers are reached on their
 * published ports only, as from anywhere else), the rest from the bridge accepted, and what goes to
 * it; ufw: its user input chain inbound and its user forward chain both ways (where `ufw allow in
 * on` / `ufw route allow` would put them). */
size_t ipt_manager_rules(enum ipt_manager m, int family, struct ipt_rule ret[static IPT_RULES_MAX]);
/* The chain whose presence in table filter says m runs ("DOCKER-USER", "ufw-user-input",
 * "ufw6-user-input"). */
const char *ipt_manager_chain(enum ipt_manager m, int family);

/* The rule as `iptables -S` prints it, tagged ("-A CHAIN -i BR -m comment --comment netd:BR -j
 * ACCEPT") or not (as the advice tells an operator to add it). -EINVAL for a bridge name iptables
 * would read apart, -ENOBUFS when it does not fit. */
int ipt_rule_line(const struct ipt_rule *r, const char *bridge, bool tagged, char *buf, size_t size);

/* An `iptables -S` listing of table filter: its lines, as printed. */
struct ipt_listing {
	char *text; /* owned: the lines point into it */
	const char **lines;
	size_t n;
};

int ipt_listing_parse(const char *text, struct ipt_listing *ret);
void ipt_listing_done(struct ipt_listing *l);
bool ipt_listing_has(const struct ipt_listing *l, const char *line);
/* A "-N CHAIN" line, or one of the built-in chains' "-P CHAIN POLICY". */
bool ipt_listing_has_chain(const struct ipt_listing *l, const char *chain);
/* The policy of a built-in chain ("ACCEPT", "DROP"), NULL when the listing has none. */
const char *ipt_listing_policy(const struct ipt_listing *l, const char *chain, char *buf, size_t size);
/* Whether rule r for bridge is there, tagged or as the advice gives it. */
bool ipt_listing_has_rule(const struct ipt_listing *l, const struct ipt_rule *r, const char *bridge);
/* Where netd's rules for bridge go in chain (the 1-based position for `iptables -I CHAIN POS`),
 * counted without netd's own rules for bridge: after every other rule (an admin's own rule for the
 * bridge, a deny, comes first), but before a last `-j RETURN` (Docker's DOCKER-USER ends so). */
unsigned ipt_insert_position(const struct ipt_listing *l, const char *chain, const char *bridge);
/* The bridge a line of netd's tags (an "-A" line whose comment is netd:BRIDGE) into buf, or NULL. */
const char *ipt_line_tagged_bridge(const char *line, char *buf, size_t size);
