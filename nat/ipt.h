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

/* A rule: accept what comes in from the bridge (-i) or goes out to it (-o), in chain. */
struct ipt_rule {
	const char *chain;
	bool out;
};

#define IPT_RULES_MAX 3

/* Manager m's rules for family (AF_INET, AF_INET6) into ret; their number. Docker: DOCKER-USER
 * both ways (Docker documents that chain for the host's own rules); ufw: its user input chain
 * inbound and its user forward chain both ways (where `ufw allow in on` / `ufw route allow`
 * would put them). */
size_t ipt_manager_rules(enum ipt_manager m, int family, struct ipt_rule ret[static IPT_RULES_MAX]);
/* The chain whose presence in table filter says m runs ("DOCKER-USER", "ufw-user-input",
 * "ufw6-user-input"). */
const char *ipt_manager_chain(enum ipt_manager m, int family);

/* The rule as `iptables -S` prints it, tagged ("-A CHAIN -i BR -m comment --comment netd:BR -j
 * ACCEPT") or not (as the advice tells an operator to add it). -ENOBUFS when it does not fit. */
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
/* The bridge a line of netd's tags (an "-A" line whose comment is netd:BRIDGE) into buf, or NULL. */
const char *ipt_line_tagged_bridge(const char *line, char *buf, size_t size);
