/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Leases as dnsmasq records them, one a line: "EXPIRY MAC IP HOSTNAME CLIENT-ID" (EXPIRY in
 * seconds since the epoch, 0 for never; "*" for no hostname or client-id). The parser reads
 * outside input: it never trusts a field, and a bad line costs only that line. Pure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp.h"

#define DHCP_CLIENT_ID_MAX 128

struct dhcp_lease {
	uint64_t expiry; /* seconds since the epoch; 0: never */
	struct mac mac;
	union in_addr_union ip;
	char hostname[DNS_LABEL_MAX + 1];      /* "" when none or not a valid name */
	char client_id[DHCP_CLIENT_ID_MAX + 1]; /* "" when none or unusable */
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
/* One line (without its newline). -ENOENT: a line that is not an IPv4 lease (DHCPv6 "duid"
 * and IAID lines, non-Ethernet clients); -EINVAL: malformed. */
int dhcp_lease_parse_line(const char *line, size_t len, struct dhcp_lease *ret);
/* A whole lease file; malformed lines are skipped and counted in *ret_bad (may be NULL). */
int dhcp_lease_file_parse(const char *text, size_t len, struct dhcp_lease_table *ret, size_t *ret_bad);

/* Insert or replace the lease of that address. */
int dhcp_lease_table_put(struct dhcp_lease_table *t, const struct dhcp_lease *l);
/* Remove the lease of that address; -ENOENT when there is none. */
int dhcp_lease_table_remove(struct dhcp_lease_table *t, const union in_addr_union *ip);
void dhcp_lease_table_clear(struct dhcp_lease_table *t);
