/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The IPv6 half of the DHCP settings: DHCPv6 ranges and IPv6 reservations against the prefix. */
#include "dhcp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"

typedef unsigned __int128 u128;

static u128 ip6_to_u128(const union in_addr_union *a)
{
	u128 v = 0;

	for (size_t i = 0; i < 16; i++)
		v = v << 8 | a->bytes[i];
	return v;
}

static void ip6_from_u128(u128 v, union in_addr_union *ret)
{
	for (size_t i = 16; i-- > 0; v >>= 8)
		ret->bytes[i] = v & 0xff;
}

/*
 * The prefix dnsmasq serves DHCPv6 and RAs on: dnsmasq's dhcp-range takes a prefix length of 64
 * or more (dnsmasq(8)), so on a shorter prefix it is the first /64, the one with the gateway.
 */
static struct ip_prefix served_prefix(const struct ip_prefix *subnet6)
{
	struct ip_prefix p = *subnet6;

	if (p.len < 64) {
		p.len = 64;
		ip_prefix_mask(&p);
	}
	return p;
}

static u128 prefix_last(const struct ip_prefix *p)
{
	return ip6_to_u128(&p->addr) | (p->len ? ((u128)1 << (128 - p->len)) - 1 : ~(u128)0);
}

size_t dhcp_ranges6_effective(const struct dhcp_settings *s, const struct ip_prefix *subnet6,
			      struct dhcp_range6 ret[DHCP_RANGES_MAX])
{
	struct ip_prefix p = served_prefix(subnet6);
	u128 first = ip6_to_u128(&p.addr), last = prefix_last(&p);

	if (s->n_ranges6) {
		memcpy(ret, s->ranges6, s->n_ranges6 * sizeof(ret[0]));
		return s->n_ranges6;
	}
	/* PREFIX::2 to PREFIX::ffff: after the gateway (::1), readable, 65534 addresses, and far from
	 * the subnet anycast addresses at the top of a /64 (RFC 2526). */
	if (last - first < 2)
		return 0;
	ip6_from_u128(first + 2, &ret[0].start);
	ip6_from_u128(last - first > 0xffff ? first + 0xffff : last, &ret[0].end);
	return 1;
}

/* An address that may be handed out: in the served prefix, not its first (the subnet-router
 * anycast) nor the gateway. */
static const char *address_invalid_reason(const struct ip_prefix *p, const union in_addr_union *a,
					  const union in_addr_union *gateway6)
{
	if (!ip_prefix_contains(p, AF_INET6, a))
		return "is outside";
	if (ip_addr_equal(AF_INET6, a, &p->addr))
		return "is the subnet-router anycast address of";
	if (ip_addr_equal(AF_INET6, a, gateway6))
		return "is the gateway of";
	return NULL;
}

static int check_range6(const struct dhcp_range6 *r, const struct ip_prefix *p, const union in_addr_union *gw,
			char *err, size_t errlen)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], sn[IP_PREFIX_STRLEN], g[INET6_ADDRSTRLEN];
	u128 s = ip6_to_u128(&r->start), e = ip6_to_u128(&r->end), gv = ip6_to_u128(gw);
	const char *why;

	ip_addr_format(AF_INET6, &r->start, a, sizeof(a));
	ip_addr_format(AF_INET6, &r->end, b, sizeof(b));
	ip_prefix_format(p, sn, sizeof(sn));
	if (s > e) {
		snprintf(err, errlen, "DHCPv6 range %s-%s: start is after end", a, b);
		return -EINVAL;
	}
	why = address_invalid_reason(p, &r->start, gw) ?: address_invalid_reason(p, &r->end, gw);
	if (why) {
		snprintf(
			err, errlen,
			"DHCPv6 range %s-%s is not inside the hosts of %s (dnsmasq serves DHCPv6 on one /64 at most)",
			a, b, sn);
		return -EINVAL;
	}
	if (gv >= s && gv <= e) {
		snprintf(err, errlen, "DHCPv6 range %s-%s covers the gateway %s", a, b,
			 ip_addr_format(AF_INET6, gw, g, sizeof(g)));
		return -EINVAL;
	}
	return 0;
}

static int check_ranges6(const struct dhcp_settings *set, const struct ip_prefix *p,
			 const union in_addr_union *gw, char *err, size_t errlen)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], c[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < set->n_ranges6; i++) {
		const struct dhcp_range6 *r = &set->ranges6[i];
		int k = check_range6(r, p, gw, err, errlen);

		if (k < 0)
			return k;
		for (size_t j = 0; j < i; j++) {
			const struct dhcp_range6 *o = &set->ranges6[j];

			if (ip6_to_u128(&r->start) > ip6_to_u128(&o->end) ||
			    ip6_to_u128(&r->end) < ip6_to_u128(&o->start))
				continue;
			snprintf(err, errlen, "DHCPv6 ranges %s-%s and %s-%s overlap",
				 ip_addr_format(AF_INET6, &o->start, a, sizeof(a)),
				 ip_addr_format(AF_INET6, &o->end, b, sizeof(b)),
				 ip_addr_format(AF_INET6, &r->start, c, sizeof(c)),
				 ip_addr_format(AF_INET6, &r->end, d, sizeof(d)));
			return -EINVAL;
		}
	}
	return 0;
}

static const char *host_who(const struct dhcp_host *h, char *buf, size_t size)
{
	if (!h->duid.len)
		return mac_format(&h->mac, buf, size);
	snprintf(buf, size, "id:");
	dhcp_duid_format(&h->duid, buf + 3, size - 3);
	return buf;
}

/* The first IPv6 reservation, or NULL. */
static const struct dhcp_host *first_host6(const struct dhcp_settings *s)
{
	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].has_ip6)
			return &s->hosts[i];
	return NULL;
}

/* What an IPv6 setting may not be without a prefix, or with a mode that leases no addresses. */
static int check_nothing6(const struct dhcp_settings *s, const char *why, char *err, size_t errlen)
{
	const struct dhcp_host *h = first_host6(s);
	char who[DHCP_DUID_STRLEN + 3], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (s->n_ranges6) {
		snprintf(err, errlen, "DHCPv6 range %s-%s: %s",
			 ip_addr_format(AF_INET6, &s->ranges6[0].start, a, sizeof(a)),
			 ip_addr_format(AF_INET6, &s->ranges6[0].end, b, sizeof(b)), why);
		return -EINVAL;
	}
	if (h) {
		snprintf(err, errlen, "host %s: IPv6 address %s: %s", host_who(h, who, sizeof(who)),
			 ip_addr_format(AF_INET6, &h->ip6, a, sizeof(a)), why);
		return -EINVAL;
	}
	return 0;
}

int dhcp_settings_validate6(const struct dhcp_settings *s, const struct ip_prefix *subnet6,
			    const union in_addr_union *gateway6, enum dhcp_ipv6_mode mode, char *err,
			    size_t errlen)
{
	char who[DHCP_DUID_STRLEN + 3], a[INET6_ADDRSTRLEN], sn[IP_PREFIX_STRLEN];
	struct ip_prefix p;
	int r;

	if (subnet6->family != AF_INET6)
		return check_nothing6(s, "the network has no IPv6 subnet (subnet6)", err, errlen);
	if ((unsigned)mode >= _DHCP_IPV6_MODE_MAX) {
		snprintf(err, errlen, "unknown IPv6 mode %d", (int)mode);
		return -EINVAL;
	}
	if (mode != DHCP_IPV6_MODE_DHCPV6 && subnet6->len > 64) {
		snprintf(err, errlen,
			 "IPv6 prefix %s is longer than /64: SLAAC needs a /64 (use ipv6-mode dhcpv6)",
			 ip_prefix_format(subnet6, sn, sizeof(sn)));
		return -EINVAL;
	}
	if (mode == DHCP_IPV6_MODE_SLAAC)
		return check_nothing6(s, "ipv6-mode slaac leases no addresses (use dhcpv6 or slaac+dhcpv6)",
				      err, errlen);
	if (!s->dhcp) {
		snprintf(err, errlen, "ipv6-mode %s needs DHCP, which is off on this network",
			 mode == DHCP_IPV6_MODE_DHCPV6 ? "dhcpv6" : "slaac+dhcpv6");
		return -EINVAL;
	}
	p = served_prefix(subnet6);
	r = check_ranges6(s, &p, gateway6, err, errlen);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_hosts; i++) {
		const struct dhcp_host *h = &s->hosts[i];
		const char *why = h->has_ip6 ? address_invalid_reason(&p, &h->ip6, gateway6) : NULL;

		if (!why)
			continue;
		snprintf(err, errlen, "host %s: IPv6 address %s %s %s", host_who(h, who, sizeof(who)),
			 ip_addr_format(AF_INET6, &h->ip6, a, sizeof(a)), why,
			 ip_prefix_format(&p, sn, sizeof(sn)));
		return -EINVAL;
	}
	return 0;
}
