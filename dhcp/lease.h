/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Leases as dnsmasq records them, one a line: "EXPIRY MAC IP HOSTNAME CLIENT-ID" (EXPIRY in
 * seconds since the epoch, 0 for never; "*" for no hostname or client-id), then, when it serves
 * DHCPv6, "duid SERVER-DUID" and "EXPIRY [T]IAID IPv6 HOSTNAME CLIENT-DUID" (T: a temporary
 * address). The parser reads outside input: it never trusts a field, and a bad line costs only
 * that line. Pure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp.h"

#define DHCP_CLIENT_ID_MAX 128
/* How many DHCPv6 leases of one MAC count: port security lets its port send from the newest ones
 * (latest expiry first, then table order), and lease6-macs records only those. A guest may ask for
 * leases under any number of DUIDs and IAIDs; one needs one or two (an IA_NA, an IA_TA, a
 * renumbering). */
#define DHCP_LEASES6_PER_MAC 8

struct dhcp_lease {
	int family; /* AF_INET or AF_INET6 */
	uint64_t expiry; /* seconds since the epoch; 0: never */
	struct mac mac; /* IPv6: zero unless dnsmasq knew it (lease events; the file has none) */
	union in_addr_union ip;
	uint32_t iaid; /* IPv6 */
	bool temporary; /* IPv6: an IA_TA address */
	struct dhcp_duid duid; /* IPv6: the client's, len 0 when unusable */
	char hostname[DNS_LABEL_MAX + 1];      /* "" when none or not a valid name */
	char client_id[DHCP_CLIENT_ID_MAX + 1]; /* "" when none or unusable */
	/* IPv6: dnsmasq ended it ("del") before the expiry its owner (its MAC) was last given: kept,
	 * for that MAC alone, until then (dhcp_lease_table_remove) */
	bool ended;
};

struct dhcp_lease_table {
	struct dhcp_lease *leases;
	size_t n;
};

/*
 * One lease from its fields, as the lease file or dnsmasq's --dhcp-script give them: EXPIRY
 * (decimal seconds; NULL: 0, never), MAC, IP, HOSTNAME and CLIENT-ID ("*" or NULL for none).
 * -ENOENT: not an IPv4 lease of an Ethernet client; -EINVAL: a malformed expiry, MAC or IP.
 * A hostname that is not a DNS label and a client id that is not hex are dropped.
 */
int dhcp_lease_from_fields(const char *expiry, const char *mac, const char *ip, const char *hostname,
			   const char *client_id, struct dhcp_lease *ret);
/*
 * A DHCPv6 lease from its fields, as the lease file or --dhcp-script (DNSMASQ_IAID, DNSMASQ_MAC)
 * give them: EXPIRY, IAID ("T" first for a temporary address), IPv6, HOSTNAME, DUID, MAC (NULL or
 * "" for unknown). -ENOENT: not an IPv6 address; -EINVAL: a malformed expiry, IAID or address. A
 * hostname that is not a DNS label, a DUID that is not 3 to 130 hex octets and a bad MAC are dropped.
 */
int dhcp_lease6_from_fields(const char *expiry, const char *iaid, const char *ip, const char *hostname,
			    const char *duid, const char *mac, struct dhcp_lease *ret);
/* One line (without its newline), IPv4 or IPv6. -ENOENT: a line that is not a lease ("duid",
 * "vendorclass", "agent-info", non-Ethernet IPv4 clients); -EINVAL: malformed. */
int dhcp_lease_parse_line(const char *line, size_t len, struct dhcp_lease *ret);
/* A whole lease file; malformed lines are skipped and counted in *ret_bad (may be NULL). */
int dhcp_lease_file_parse(const char *text, size_t len, struct dhcp_lease_table *ret, size_t *ret_bad);

/*
 * Insert or replace the lease of that address (family and address). An IPv6 lease that has a MAC
 * is its owner's while it lasts: any DHCPv6 client may renew a lease with another's DUID and IAID
 * (a guest sees them in the other's multicast Solicit), and the MAC dnsmasq then reports is the
 * renewer's (none when dnsmasq does not know it). Such an event ("moved") changes nothing of the
 * lease: not its MAC, nor its expiry (a renewal with a short lifetime would end it early), its
 * hostname, DUID or IAID. Ended leases past their expiry are the caller's to purge first
 * (dhcp_lease_table_purge): one still there keeps its address for its owner. Returns 1 when it
 * kept the lease against another MAC, 0 otherwise (also against an event without a MAC).
 */
int dhcp_lease_table_put(struct dhcp_lease_table *t, const struct dhcp_lease *l);
/* The lease of that address (family and address), or NULL. */
const struct dhcp_lease *dhcp_lease_table_get(const struct dhcp_lease_table *t, int family,
					      const union in_addr_union *ip);
/*
 * Whether after is before renewed: the same address of the same client (IPv4: its MAC; IPv6: its
 * DUID and IAID) with another expiry. dnsmasq runs the script with "old" for a renewal (with
 * script-on-renewal), and also for a new name or MAC and for each lease a restarted dnsmasq reads
 * back: netd tells a renewal from the rest by what changed.
 */
bool dhcp_lease_renewed(const struct dhcp_lease *before, const struct dhcp_lease *after);
/* Give each IPv6 lease of t without a MAC the one from's lease of the same address has, when that
 * lease is the same client's (DUID and IAID). Returns how many it gave. O(n log n). */
size_t dhcp_lease_table_take_macs(struct dhcp_lease_table *t, const struct dhcp_lease_table *from);
/* Bring the ended leases of from that have not expired at NOW (seconds since the epoch) into t (a
 * table read anew from dnsmasq's file or netd's record), over a lease of the same address there
 * with another MAC or none. Returns how many, or -ENOMEM. */
int dhcp_lease_table_keep_ended(struct dhcp_lease_table *t, const struct dhcp_lease_table *from,
				uint64_t now);
/* Remove the ended leases whose expiry is NOW or past. Returns how many. */
size_t dhcp_lease_table_purge(struct dhcp_lease_table *t, uint64_t now);

/*
 * netd's own record of the MACs of DHCPv6 leases ("lease6-macs" beside the lease file): dnsmasq's
 * lease file has none, and a netd that reads it back after a restart would otherwise not know a
 * lease's MAC. One line a lease with a MAC and a DUID, "IPv6 MAC DUID [T]IAID", and for an ended
 * one " EXPIRY" after it; only the DHCP_LEASES6_PER_MAC newest leases of each MAC (what port
 * security uses), so its size is bounded by the guests' MACs, not by what they ask for. The parser
 * takes a line only in the form the renderer writes; any other line (malformed, cut short, an
 * address seen before) is skipped and counted in *ret_bad (may be NULL). Pure.
 */
char *dhcp_lease_macs_render(const struct dhcp_lease_table *t);
int dhcp_lease_macs_parse(const char *text, size_t len, struct dhcp_lease_table *ret, size_t *ret_bad);

/* Remove the lease of that address; -ENOENT when there is none. An IPv6 lease with a MAC whose
 * expiry is after NOW (or never) is kept instead, marked ended (returns 1): dnsmasq ends a lease
 * early when a client renews it with a short lifetime or releases it, and any client can do that
 * with the owner's DUID and IAID, then ask for the address. */
int dhcp_lease_table_remove(struct dhcp_lease_table *t, int family, const union in_addr_union *ip,
			    uint64_t now);
void dhcp_lease_table_clear(struct dhcp_lease_table *t);
/* The MAC a DHCPv6 lease is for: dnsmasq's word in a lease event (or netd's record of it). Not the
 * one inside a DUID-LLT or DUID-LL: a guest whose MAC dnsmasq does not learn (it answers no
 * neighbour solicitation) chooses its DUID freely, another guest's MAC in it too. false: not known. */
bool dhcp_lease6_mac(const struct dhcp_lease *l, struct mac *ret);
