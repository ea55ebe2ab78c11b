/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IP addresses and prefixes, IPv4 and IPv6, as plain values. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

union in_addr_union {
	struct in_addr in;
	struct in6_addr in6;
	uint8_t bytes[16];
};

struct ip_prefix {
	int family; /* AF_INET or AF_INET6 */
	union in_addr_union addr;
	uint8_t len;
};

/* Longest text of an address or prefix, with the "/128". */
#define IP_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)

int ip_addr_parse(const char *s, int *ret_family, union in_addr_union *ret);
int ip_prefix_parse(const char *s, struct ip_prefix *ret);
const char *ip_addr_format(int family, const union in_addr_union *a, char *buf, size_t size);
const char *ip_prefix_format(const struct ip_prefix *p, char *buf, size_t size);

unsigned ip_family_bits(int family);
void ip_prefix_mask(struct ip_prefix *p);
bool ip_prefix_is_masked(const struct ip_prefix *p);
bool ip_prefix_contains(const struct ip_prefix *p, int family, const union in_addr_union *a);
bool ip_prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b);
bool ip_addr_equal(int family, const union in_addr_union *a, const union in_addr_union *b);
/* Same family, length and address (host bits included). */
bool ip_prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b);

/* IPv4 helpers on a masked prefix. */
void ip_prefix_first_host(const struct ip_prefix *p, union in_addr_union *ret);
void ip_prefix_broadcast(const struct ip_prefix *p, union in_addr_union *ret);
uint32_t ip4_to_host(const union in_addr_union *a);
void ip4_from_host(uint32_t h, union in_addr_union *ret);

/* The IPv4 addresses first..last (host order, inclusive) as the fewest prefixes, in order; at most
 * IP4_RANGE_PREFIXES_MAX. Returns how many were written to ret. */
#define IP4_RANGE_PREFIXES_MAX 62
size_t ip4_range_prefixes(uint32_t first, uint32_t last, struct ip_prefix *ret);

/* A transport port: "tcp/22", "udp/53". */
struct l4_port {
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port; /* 1-65535 */
};

#define L4_PORT_STRLEN sizeof("tcp/65535")

/* "tcp/22" or "udp/5353" (lower case, decimal, no leading zeros or signs). */
int l4_port_parse(const char *s, struct l4_port *ret);
const char *l4_port_format(const struct l4_port *p, char *buf, size_t size);
const char *l4_proto_to_string(uint8_t proto);
