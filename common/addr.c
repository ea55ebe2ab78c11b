/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned ip_family_bits(int family)
{
	return family == AF_INET6 ? 128 : 32;
}

int ip_addr_parse(const char *s, int *ret_family, union in_addr_union *ret)
{
	union in_addr_union a = {};

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a.in) == 1) {
		*ret_family = AF_INET;
		*ret = a;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a.in6) == 1) {
		*ret_family = AF_INET6;
		*ret = a;
		return 0;
	}
	return -EINVAL;
}

int ip_prefix_parse(const char *s, struct ip_prefix *ret)
{
	char buf[IP_PREFIX_STRLEN];
	struct ip_prefix p = {};
	const char *slash;
	char *end;
	long len;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, slash - s);
	buf[slash - s] = 0;
	if (ip_addr_parse(buf, &p.family, &p.addr) < 0)
		return -EINVAL;
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end || len < 0 || len > (long)ip_family_bits(p.family))
		return -ERANGE;
	p.len = len;
	*ret = p;
	return 0;
}

const char *ip_addr_format(int family, const union in_addr_union *a, char *buf, size_t size)
{
	if (!inet_ntop(family, a, buf, size))
		snprintf(buf, size, "?");
	return buf;
}

const char *ip_prefix_format(const struct ip_prefix *p, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, size, "%s/%u", ip_addr_format(p->family, &p->addr, a, sizeof(a)), p->len);
	return buf;
}

static void mask_bytes(uint8_t *b, unsigned bits, unsigned len)
{
	for (unsigned i = 0; i < bits / 8; i++) {
		unsigned keep = len >= (i + 1) * 8 ? 8 : len > i * 8 ? len - i * 8 : 0;
		b[i] &= keep ? (uint8_t)(0xff << (8 - keep)) : 0;
	}
}

void ip_prefix_mask(struct ip_prefix *p)
{
	mask_bytes(p->addr.bytes, ip_family_bits(p->family), p->len);
}

bool ip_prefix_is_masked(const struct ip_prefix *p)
{
	struct ip_prefix m = *p;

	ip_prefix_mask(&m);
	return memcmp(&m.addr, &p->addr, ip_family_bits(p->family) / 8) == 0;
}

bool ip_addr_equal(int family, const union in_addr_union *a, const union in_addr_union *b)
{
	return memcmp(a, b, ip_family_bits(family) / 8) == 0;
}

bool ip_prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return a->family == b->family && a->len == b->len && ip_addr_equal(a->family, &a->addr, &b->addr);
}

bool ip_prefix_contains(const struct ip_prefix *p, int family, const union in_addr_union *a)
{
	struct ip_prefix net = *p, other = { .family = family, .addr = *a, .len = p->len };

	if (family != p->family)
		return false;
	ip_prefix_mask(&net);
	ip_prefix_mask(&other);
	return ip_addr_equal(family, &net.addr, &other.addr);
}

bool ip_prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b)
{
	/* Two prefixes overlap when the shorter one contains the other's address. */
	if (a->family != b->family)
		return false;
	if (a->len <= b->len)
		return ip_prefix_contains(a, b->family, &b->addr);
	return ip_prefix_contains(b, a->family, &a->addr);
}

uint32_t ip4_to_host(const union in_addr_union *a)
{
	return ntohl(a->in.s_addr);
}

void ip4_from_host(uint32_t h, union in_addr_union *ret)
{
	*ret = (union in_addr_union){};
	ret->in.s_addr = htonl(h);
}

void ip_prefix_first_host(const struct ip_prefix *p, union in_addr_union *ret)
{
	struct ip_prefix net = *p;

	ip_prefix_mask(&net);
	*ret = net.addr;
	if (p->family == AF_INET) {
		if (p->len < 31)
			ip4_from_host(ip4_to_host(&net.addr) + 1, ret);
	} else if (p->len < 128) {
		ret->bytes[15] |= 1;
	}
}

void ip_prefix_broadcast(const struct ip_prefix *p, union in_addr_union *ret)
{
	uint32_t host_mask = p->len >= 32 ? 0 : 0xffffffffu >> p->len;

	ip4_from_host(ip4_to_host(&p->addr) | host_mask, ret);
}

size_t ip4_range_prefixes(uint32_t first, uint32_t last, struct ip_prefix *ret)
{
	uint64_t at = first;
	size_t n = 0;

	while (at <= last) {
		unsigned bits = 0; /* the block's host bits: aligned at `at`, ending by `last` */

		while (bits < 32 && !(at & ((2ull << bits) - 1)) && at + (2ull << bits) - 1 <= last)
			bits++;
		ret[n] = (struct ip_prefix){ .family = AF_INET, .len = 32 - bits };
		ip4_from_host((uint32_t)at, &ret[n].addr);
		n++;
		at += 1ull << bits;
	}
	return n;
}

const char *l4_proto_to_string(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : NULL;
}

int l4_port_parse(const char *s, struct l4_port *ret)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	unsigned long port = 0;
	const char *p;

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(protos); i++) {
		const char *name = l4_proto_to_string(protos[i]);
		size_t n = strlen(name);

		if (strncmp(s, name, n) || s[n] != '/')
			continue;
		/* Digits only: strtoul would take signs, spaces and "0x". */
		for (p = s + n + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
			port = port * 10 + (*p - '0');
		if (*p || p == s + n + 1 || s[n + 1] == '0' || port < 1 || port > 65535)
			return -EINVAL;
		*ret = (struct l4_port){ .proto = protos[i], .port = port };
		return 0;
	}
	return -EINVAL;
}

const char *l4_port_format(const struct l4_port *p, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%u", l4_proto_to_string(p->proto) ?: "?", p->port);
	return buf;
}
