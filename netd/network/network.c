/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "network.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "mode.h"
#include "network-index.h"
#include "reconcile.h"
#include "schema.h"

/* The modes: one file each (mode-NAME.c), one line here. */
extern const struct net_mode mode_nat, mode_routed, mode_isolated, mode_bridge, mode_open, mode_evpn;
static const struct net_mode *const modes[] = {
	&mode_nat,
	&mode_routed,
	&mode_isolated,
	&mode_bridge,
	&mode_open,
	&mode_evpn,
};

const struct net_mode *net_mode_from_string(const char *s)
{
	for (size_t i = 0; s && i < ELEMENTSOF(modes); i++)
		if (!strcmp(s, modes[i]->name))
			return modes[i];
	return NULL;
}

const struct net_mode *net_mode_at(size_t i)
{
	return i < ELEMENTSOF(modes) ? modes[i] : NULL;
}

enum fw_mode net_mode_fw(const struct network *n)
{
	return n->mode->fw_of ? n->mode->fw_of(n) : n->mode->fw;
}

const char *net_mode_names(void)
{
	static char names[128];

	if (!names[0])
		for (size_t i = 0; i < ELEMENTSOF(modes); i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "",
				 modes[i]->name);
	return names;
}

/* "nat or routed": the modes that forward, for messages. */
static const char *forwarding_modes(void)
{
	static char names[128];
	size_t n = 0, k = 0;

	if (names[0])
		return names;
	for (size_t i = 0; i < ELEMENTSOF(modes); i++)
		n += modes[i]->forwards;
	for (size_t i = 0; i < ELEMENTSOF(modes); i++)
		if (modes[i]->forwards)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 !k++ ? "" : k == n ? " or " : ", ", modes[i]->name);
	return names;
}

bool network_forwards(const struct network *n)
{
	return n->mode->forwards;
}

static const char *const ipv6_mode_names[_IPV6_MODE_MAX] = {
	[IPV6_MODE_SLAAC] = "slaac",
	[IPV6_MODE_DHCPV6] = "dhcpv6",
	[IPV6_MODE_SLAAC_DHCPV6] = "slaac+dhcpv6",
};

const char *ipv6_mode_to_string(enum ipv6_mode m)
{
	return (unsigned)m < _IPV6_MODE_MAX ? ipv6_mode_names[m] : NULL;
}

int ipv6_mode_from_string(const char *s, enum ipv6_mode *ret)
{
	for (size_t i = 0; s && i < _IPV6_MODE_MAX; i++)
		if (!strcmp(s, ipv6_mode_names[i])) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

void network_anycast_mac(unsigned vni, struct mac *ret)
{
	*ret = (struct mac){ { 0x0a, 0x4e, 0x44, (vni >> 16) & 0xff, (vni >> 8) & 0xff, vni & 0xff } };
}

bool network_fixed_mac(const struct network *n, struct mac *ret)
{
	if (n->has_mac) {
		*ret = n->mac;
		return true;
	}
	return n->mode && n->mode->bridge_mac && n->mode->bridge_mac(n, ret);
}

void network_init(struct network *n, const char *name)
{
	memset(n, 0, sizeof(*n));
	n->mode = &mode_isolated;
	n->autostart = true;
	n->nat6_given = -1;
	dhcp_settings_init(&n->dhcp);
	snprintf(n->name, sizeof(n->name), "%s", name);
}

void network_done(struct network *n)
{
	dhcp_settings_done(&n->dhcp);
	free(n->forwards);
	n->forwards = NULL;
	n->n_forwards = 0;
}

struct network *network_free(struct network *n)
{
	if (n) {
		network_done(n);
		free(n);
	}
	return NULL;
}

int network_copy(struct network *dst, const struct network *src)
{
	*dst = *src;
	if (nat_forwards_copy(&dst->forwards, src->forwards, src->n_forwards) < 0) {
		dst->n_forwards = 0;
		(void)dhcp_settings_copy(&dst->dhcp, &src->dhcp);
		return -ENOMEM;
	}
	return dhcp_settings_copy(&dst->dhcp, &src->dhcp);
}

struct network *network_dup(const struct network *n)
{
	struct network *copy = malloc(sizeof(*copy));

	if (copy && network_copy(copy, n) < 0)
		return network_free(copy);
	return copy;
}

void network_swap(struct network *a, struct network *b)
{
	struct network t = *a;

	*a = *b;
	*b = t;
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

void network_default_bridge(const char *name, char ret[IFNAMSIZ])
{
	/* "nd-" + name when it fits; else a prefix of the name and a hash, so that two long names
	 * sharing a prefix still get different, stable bridges. */
	if (strlen(name) <= IFNAME_MAX_LEN - 3)
		snprintf(ret, IFNAMSIZ, "nd-%s", name);
	else
		snprintf(ret, IFNAMSIZ, "nd-%.7s-%04x", name, fnv1a(name) & 0xffff);
}

void network_fill_defaults(struct network *n)
{
	if (!n->mode || !n->mode->owns_bridge)
		return; /* the bridge exists already and must be named; there is no gateway */
	if (!n->bridge[0])
		network_default_bridge(n->name, n->bridge);
	if (!n->has_gateway && n->subnet.family == AF_INET) {
		ip_prefix_first_host(&n->subnet, &n->gateway);
		n->has_gateway = true;
	}
	n->dhcp_router = n->mode->dhcp_router;
	n->gateway6 = (union in_addr_union){};
	n->nat6 = false;
	if (n->subnet6.family != AF_INET6)
		return;
	ip_prefix_first_host(&n->subnet6, &n->gateway6);
	/* A ULA prefix cannot be routed beyond the site: masqueraded unless told not to; a global
	 * one is routed unless told to masquerade. */
	if (n->mode->nat6)
		n->nat6 = n->nat6_given >= 0 ? n->nat6_given : ip6_prefix_is_ula(&n->subnet6);
}

bool network_wants_dnsmasq(const struct network *n)
{
	/* A bridge-mode network's guests are served by the LAN's own DHCP server. With an IPv6
	 * prefix, dnsmasq sends the router advertisements even without DHCP and DNS. */
	return n->mode->has_subnet && (n->dhcp.dhcp || n->dhcp.dns || n->subnet6.family);
}

int network_dhcp_ipv6_mode(const struct network *n)
{
	switch (n->ipv6_mode) {
	case IPV6_MODE_DHCPV6:
		return DHCP_IPV6_MODE_DHCPV6;
	case IPV6_MODE_SLAAC_DHCPV6:
		return DHCP_IPV6_MODE_SLAAC_DHCPV6;
	default:
		return DHCP_IPV6_MODE_SLAAC;
	}
}

void network_gateway_prefix(const struct network *n, struct ip_prefix *ret)
{
	*ret = (struct ip_prefix){ .family = n->subnet.family, .addr = n->gateway, .len = n->subnet.len };
}

size_t network_gateways4(const struct network *n, struct ip_prefix ret[NETWORK_SUBNETS4_MAX])
{
	size_t k = 0;

	if (n->subnet.family == AF_INET && n->has_gateway)
		network_gateway_prefix(n, &ret[k++]);
	for (size_t i = 0; i < n->n_addresses && k < NETWORK_SUBNETS4_MAX; i++)
		ret[k++] = n->addresses[i];
	return k;
}

size_t network_subnets4(const struct network *n, struct ip_prefix ret[NETWORK_SUBNETS4_MAX])
{
	size_t k = 0;

	if (n->subnet.family == AF_INET)
		ret[k++] = n->subnet;
	for (size_t i = 0; i < n->n_addresses && k < NETWORK_SUBNETS4_MAX; i++) {
		ret[k] = n->addresses[i];
		ip_prefix_mask(&ret[k++]);
	}
	return k;
}

int network_address_add(struct network *n, const char *spec, char *err, size_t errlen)
{
	struct ip_prefix p;
	char e[64];

	if (ip_prefix_parse(spec, &p) < 0 || p.family != AF_INET) {
		snprintf(err, errlen,
			 "invalid address '%s': expected GATEWAY/PREFIX like 10.1.1.1/24 (the "
			 "gateway of another IPv4 subnet)",
			 text_escape(spec, e, sizeof(e)));
		return -EINVAL;
	}
	if (n->n_addresses >= NETWORK_ADDRESSES_MAX) {
		snprintf(err, errlen, "too many addresses (at most %d more IPv4 subnets)",
			 NETWORK_ADDRESSES_MAX);
		return -E2BIG;
	}
	n->addresses[n->n_addresses++] = p;
	return 0;
}

void network_gateway6_prefix(const struct network *n, struct ip_prefix *ret)
{
	*ret = (struct ip_prefix){ .family = n->subnet6.family, .addr = n->gateway6, .len = n->subnet6.len };
}

void network_alias(const struct network *n, char *buf, size_t size)
{
	snprintf(buf, size, RECONCILE_TAG_PREFIX "%s", n->name);
}

const char *network_alias_owner(const char *alias)
{
	return reconcile_tag_owner(alias);
}

static int check_subnet(const struct network *n, char *err, size_t errlen)
{
	char s[IP_PREFIX_STRLEN], m[IP_PREFIX_STRLEN];
	struct ip_prefix masked = n->subnet;

	if (n->subnet.family == 0 && n->subnet_none) {
		if (n->subnet6.family || n->subnet6_auto)
			return 0;
		snprintf(err, errlen,
			 "network '%s': --subnet none needs --subnet6 PREFIX (a network needs IPv4, IPv6 "
			 "or both)",
			 n->name);
		return -EINVAL;
	}
	if (n->subnet.family == 0) {
		snprintf(err, errlen,
			 "network '%s' needs a subnet (--subnet CIDR, or --subnet none with --subnet6)",
			 n->name);
		return -EINVAL;
	}
	if (n->subnet.family != AF_INET) {
		snprintf(err, errlen, "network '%s': subnet %s is not IPv4; an IPv6 prefix goes in --subnet6",
			 n->name, ip_prefix_format(&n->subnet, s, sizeof(s)));
		return -EAFNOSUPPORT;
	}
	if (n->subnet.len < 8 || n->subnet.len > 30) {
		snprintf(err, errlen, "network '%s': subnet %s must have a prefix length between /8 and /30",
			 n->name, ip_prefix_format(&n->subnet, s, sizeof(s)));
		return -ERANGE;
	}
	ip_prefix_mask(&masked);
	if (!ip_prefix_is_masked(&n->subnet)) {
		snprintf(err, errlen, "network '%s': subnet %s has host bits set; did you mean %s?", n->name,
			 ip_prefix_format(&n->subnet, s, sizeof(s)), ip_prefix_format(&masked, m, sizeof(m)));
		return -EINVAL;
	}
	return 0;
}

static int check_gateway(const struct network *n, char *err, size_t errlen)
{
	char g[INET6_ADDRSTRLEN], s[IP_PREFIX_STRLEN];
	union in_addr_union bcast;

	if (!n->has_gateway)
		return 0;
	ip_addr_format(AF_INET, &n->gateway, g, sizeof(g));
	if (!n->subnet.family) {
		snprintf(err, errlen,
			 "network '%s': gateway %s needs an IPv4 subnet (--subnet none has none)", n->name,
			 g);
		return -EINVAL;
	}
	ip_prefix_format(&n->subnet, s, sizeof(s));
	if (!ip_prefix_contains(&n->subnet, AF_INET, &n->gateway)) {
		snprintf(err, errlen, "network '%s': gateway %s is outside subnet %s", n->name, g, s);
		return -EINVAL;
	}
	if (ip_addr_equal(AF_INET, &n->gateway, &n->subnet.addr)) {
		snprintf(err, errlen, "network '%s': gateway %s is the network address of %s", n->name, g, s);
		return -EINVAL;
	}
	ip_prefix_broadcast(&n->subnet, &bcast);
	if (ip_addr_equal(AF_INET, &n->gateway, &bcast)) {
		snprintf(err, errlen, "network '%s': gateway %s is the broadcast address of %s", n->name, g, s);
		return -EINVAL;
	}
	return 0;
}

const char *network_prefix6_invalid_reason(const struct ip_prefix *p)
{
	static const struct {
		const char *prefix, *why;
	} special[] = {
		{ "::/127", "holds the unspecified and the loopback address" },
		{ "::ffff:0:0/96", "is an IPv4-mapped prefix" },
		{ "fe80::/10", "is link-local (every link has its own)" },
		{ "ff00::/8", "is multicast" },
	};

	if (p->family != AF_INET6)
		return "is not an IPv6 prefix";
	for (size_t i = 0; i < ELEMENTSOF(special); i++) {
		struct ip_prefix q;

		(void)ip_prefix_parse(special[i].prefix, &q);
		if (ip_prefix_overlaps(p, &q))
			return special[i].why;
	}
	return NULL;
}

bool ip6_prefix_is_ula(const struct ip_prefix *p)
{
	return p->family == AF_INET6 && p->len >= 7 && (p->addr.bytes[0] & 0xfe) == 0xfc;
}

void network_ula_prefix(const uint8_t global_id[5], struct ip_prefix *ret)
{
	*ret = (struct ip_prefix){ .family = AF_INET6, .len = 48 };
	ret->addr.bytes[0] = 0xfd; /* fc00::/7 with the L bit: locally assigned */
	memcpy(&ret->addr.bytes[1], global_id, 5);
}

/* The IPv6 options without a prefix to apply to are refused rather than kept unused. */
static int check_no_ipv6(const struct network *n, char *err, size_t errlen)
{
	if (n->ipv6_mode != IPV6_MODE_SLAAC) {
		snprintf(err, errlen, "network '%s': --ipv6-mode %s needs an IPv6 prefix (--subnet6)",
			 n->name, ipv6_mode_to_string(n->ipv6_mode));
		return -EINVAL;
	}
	if (n->nat6_given >= 0) {
		snprintf(err, errlen, "network '%s': --%s needs an IPv6 prefix (--subnet6)", n->name,
			 n->nat6_given ? "nat6" : "no-nat6");
		return -EINVAL;
	}
	return 0;
}

static int check_subnet6(const struct network *n, char *err, size_t errlen)
{
	char s[IP_PREFIX_STRLEN], m[IP_PREFIX_STRLEN];
	struct ip_prefix masked = n->subnet6;
	const char *why;

	if (n->subnet6_auto) {
		snprintf(err, errlen,
			 "network '%s': subnet6 auto is picked by 'network create'; a definition file "
			 "needs the prefix itself",
			 n->name);
		return -EINVAL;
	}
	if (!n->subnet6.family)
		return check_no_ipv6(n, err, errlen);
	ip_prefix_format(&n->subnet6, s, sizeof(s));
	why = network_prefix6_invalid_reason(&n->subnet6);
	if (why) {
		snprintf(err, errlen,
			 "network '%s': IPv6 prefix %s %s; use a global or a unique local (fd00::/8) "
			 "prefix",
			 n->name, s, why);
		return -EINVAL;
	}
	if (n->subnet6.len < NETWORK_PREFIX6_LEN_MIN || n->subnet6.len > NETWORK_PREFIX6_LEN_MAX) {
		snprintf(err, errlen,
			 "network '%s': IPv6 prefix %s must have a prefix length between /%d and /%d",
			 n->name, s, NETWORK_PREFIX6_LEN_MIN, NETWORK_PREFIX6_LEN_MAX);
		return -ERANGE;
	}
	ip_prefix_mask(&masked);
	if (!ip_prefix_is_masked(&n->subnet6)) {
		snprintf(err, errlen, "network '%s': IPv6 prefix %s has host bits set; did you mean %s?",
			 n->name, s, ip_prefix_format(&masked, m, sizeof(m)));
		return -EINVAL;
	}
	if (n->subnet6.len > NETWORK_PREFIX6_LEN_SLAAC && n->ipv6_mode != IPV6_MODE_DHCPV6) {
		snprintf(err, errlen,
			 "network '%s': IPv6 prefix %s is longer than /%d, which SLAAC needs; use a /%d "
			 "or --ipv6-mode dhcpv6",
			 n->name, s, NETWORK_PREFIX6_LEN_SLAAC, NETWORK_PREFIX6_LEN_SLAAC);
		return -EINVAL;
	}
	if (n->mtu && n->mtu < NETWORK_MTU6_MIN) {
		snprintf(err, errlen,
			 "network '%s': MTU %u is below %u, the least IPv6 needs (RFC 8200); "
			 "raise --mtu or leave out --subnet6",
			 n->name, n->mtu, NETWORK_MTU6_MIN);
		return -ERANGE;
	}
	if (n->nat6_given == 1 && !n->mode->nat6) {
		snprintf(err, errlen, "network '%s': --nat6 needs mode nat (mode %s never masquerades)",
			 n->name, n->mode->name);
		return -EINVAL;
	}
	return 0;
}

/* The more IPv4 subnets (--address): each a host address of a subnet of /8 to /30 that overlaps no
 * other subnet of the network, on a network that has an IPv4 subnet of its own. */
static int check_addresses(const struct network *n, char *err, size_t errlen)
{
	struct ip_prefix subnets[NETWORK_SUBNETS4_MAX];
	char a[IP_PREFIX_STRLEN], s[IP_PREFIX_STRLEN];
	size_t k = network_subnets4(n, subnets), first = k - n->n_addresses;

	if (n->n_addresses && n->subnet.family != AF_INET) {
		snprintf(err, errlen, "network '%s': --address %s needs an IPv4 --subnet (the first subnet)",
			 n->name, ip_prefix_format(&n->addresses[0], a, sizeof(a)));
		return -EINVAL;
	}
	for (size_t i = 0; i < n->n_addresses; i++) {
		const struct ip_prefix *g = &n->addresses[i], *sub = &subnets[first + i];
		union in_addr_union bcast;

		ip_prefix_format(g, a, sizeof(a));
		ip_prefix_format(sub, s, sizeof(s));
		if (g->family != AF_INET || g->len < 8 || g->len > 30) {
			snprintf(
				err, errlen,
				"network '%s': address %s must be IPv4 with a prefix length between /8 and /30",
				n->name, a);
			return -ERANGE;
		}
		ip_prefix_broadcast(sub, &bcast);
		if (ip_addr_equal(AF_INET, &g->addr, &sub->addr) ||
		    ip_addr_equal(AF_INET, &g->addr, &bcast)) {
			snprintf(err, errlen,
				 "network '%s': address %s is not a host address of %s; give the gateway's "
				 "address with the prefix length (e.g. 10.1.1.1/24)",
				 n->name, a, s);
			return -EINVAL;
		}
		for (size_t j = 0; j < first + i; j++) {
			char o[IP_PREFIX_STRLEN];

			if (!ip_prefix_overlaps(sub, &subnets[j]))
				continue;
			snprintf(err, errlen, "network '%s': address %s (subnet %s) overlaps its subnet %s",
				 n->name, a, s, ip_prefix_format(&subnets[j], o, sizeof(o)));
			return -EADDRINUSE;
		}
	}
	return 0;
}

static int check_dhcp(const struct network *n, char *err, size_t errlen)
{
	struct ip_prefix gws[NETWORK_SUBNETS4_MAX];
	size_t n_gws = network_gateways4(n, gws);
	char msg[512];
	int r = dhcp_settings_validate_subnets(&n->dhcp, gws, n_gws, msg, sizeof(msg)) ?:
			dhcp_settings_validate6(&n->dhcp, &n->subnet6, &n->gateway6, network_dhcp_ipv6_mode(n), msg, sizeof(msg)) ?:
			dns_config_validate(&n->dhcp, n->subnet.family ? &n->gateway : NULL,
					    n->subnet6.family ? &n->gateway6 : NULL, msg, sizeof(msg));

	if (r < 0)
		snprintf(err, errlen, "network '%s': %s", n->name, msg);
	return r;
}

int network_host_port_add(struct network *n, const char *spec, char *err, size_t errlen)
{
	struct l4_port p;

	if (l4_port_parse(spec, &p) < 0) {
		snprintf(err, errlen, "invalid host port '%.40s': expected PROTO/PORT like tcp/22 or udp/5353", spec);
		return -EINVAL;
	}
	for (size_t i = 0; i < n->n_host_ports; i++)
		if (n->host_ports[i].proto == p.proto && n->host_ports[i].port == p.port) {
			snprintf(err, errlen, "host port %s is given twice", spec);
			return -EEXIST;
		}
	if (n->n_host_ports >= NETWORK_HOST_PORTS_MAX) {
		snprintf(err, errlen, "too many host ports (at most %d)", NETWORK_HOST_PORTS_MAX);
		return -E2BIG;
	}
	n->host_ports[n->n_host_ports++] = p;
	return 0;
}

unsigned network_forward_delay(const struct network *n)
{
	return n->stp ? n->forward_delay ?: NETWORK_FORWARD_DELAY_DEFAULT : 0;
}

/* The range is the schema row's; a delay means nothing without STP, and only a bridge netd makes
 * is netd's to change. */
static int check_stp(const struct network *n, char *err, size_t errlen)
{
	if ((n->stp || n->forward_delay) && !n->mode->owns_bridge) {
		snprintf(err, errlen,
			 "network '%s': mode %s takes no --stp or --forward-delay: netd does not own its "
			 "bridge",
			 n->name, n->mode->name);
		return -EINVAL;
	}
	if (n->forward_delay && !n->stp) {
		snprintf(err, errlen,
			 "network '%s': --forward-delay needs --stp on (with STP off a new port forwards "
			 "at once)",
			 n->name);
		return -EINVAL;
	}
	return 0;
}

/* Whether a is in one of the network's IPv4 subnets (--subnet or an --address). */
static bool in_subnets4(const struct network *n, const union in_addr_union *a)
{
	struct ip_prefix subnets[NETWORK_SUBNETS4_MAX];
	size_t count = network_subnets4(n, subnets);

	for (size_t i = 0; i < count; i++)
		if (ip_prefix_contains(&subnets[i], AF_INET, a))
			return true;
	return false;
}

/* --nat-address, --nat-ports and forwards are nat's alone: checked for every mode (before the
 * return of the modes without a subnet of their own, which would take them silently). */
static int check_nat_only(const struct network *n, char *err, size_t errlen)
{
	if (net_mode_fw(n) == FW_NAT)
		return 0;
	if (n->has_nat_address || n->nat_port_lo)
		return schema_error(err, errlen,
				    "network '%s': --nat-address and --nat-ports need mode nat (mode %s)",
				    n->name, n->mode->name);
	if (n->n_forwards)
		return schema_error(err, errlen, "network '%s': port forwards need mode nat (mode %s)",
				    n->name, n->mode->name);
	return 0;
}

/* Forwards lead into a masqueraded subnet (mode nat); an IPv6 one into a NAT66 prefix. */
static int check_forwards(const struct network *n, char *err, size_t errlen)
{
	char f[NAT_FWD_STRLEN];

	if ((n->has_nat_address || n->nat_port_lo) && n->subnet.family != AF_INET)
		return schema_error(err, errlen,
				    "network '%s': --nat-address and --nat-ports need an IPv4 subnet",
				    n->name);

	for (size_t i = 0; i < n->n_forwards; i++) {
		const struct nat_forward *w = &n->forwards[i];

		if (w->family == AF_INET && n->subnet.family != AF_INET)
			return schema_error(err, errlen,
					    "network '%s': forward %s: the network has no IPv4 subnet",
					    n->name, nat_forward_format(w, f, sizeof(f)));
		if (w->family == AF_INET6 && (n->subnet6.family != AF_INET6 || !n->nat6))
			return schema_error(
				err, errlen,
				"network '%s': forward %s: IPv6 forwards need a masqueraded IPv6 prefix "
				"(nat6)",
				n->name, nat_forward_format(w, f, sizeof(f)));
		if (w->listen == NAT_FWD_LISTEN_UPLINK && !n->uplink[0])
			return schema_error(err, errlen,
					    "network '%s': forward %s listens on the uplink: the network "
					    "has no --uplink",
					    n->name, nat_forward_format(w, f, sizeof(f)));
		if (!w->to_name[0] &&
		    !(w->family == AF_INET ? in_subnets4(n, &w->to_addr) :
					     ip_prefix_contains(&n->subnet6, AF_INET6, &w->to_addr)))
			return schema_error(err, errlen,
					    "network '%s': forward %s: the target is not in the network's "
					    "subnets",
					    n->name, nat_forward_format(w, f, sizeof(f)));
	}
	return 0;
}

int network_validate(const struct network *n, char *err, size_t errlen)
{
	const char *why;
	int r;

	why = object_name_invalid_reason(n->name);
	if (why) {
		snprintf(err, errlen, "invalid network name '%s': %s", n->name, why);
		return -EINVAL;
	}
	if (!n->mode) {
		snprintf(err, errlen, "network '%s': unknown mode", n->name);
		return -EINVAL;
	}
	if (n->mode->validate) {
		r = n->mode->validate(n, err, errlen);
		if (r < 0)
			return r;
	}
	r = check_stp(n, err, errlen);
	if (r >= 0)
		r = check_nat_only(n, err, errlen);
	if (r < 0)
		return r;
	if ((n->vni || n->routed) && !n->mode->vxlan)
		return schema_error(err, errlen, "network '%s': --vni and --routed need mode evpn (mode %s)",
				    n->name, n->mode->name);
	if (!n->mode->has_subnet) {
		if (!n->n_addresses)
			return 0;
		snprintf(err, errlen, "network '%s': mode %s takes no --address: it has no subnet of its own",
			 n->name, n->mode->name);
		return -EINVAL;
	}
	why = ifname_invalid_reason(n->bridge);
	if (why) {
		snprintf(err, errlen, "network '%s': invalid bridge name '%s': %s", n->name, n->bridge, why);
		return -EINVAL;
	}
	if (n->uplink[0]) {
		if (!network_forwards(n)) {
			snprintf(err, errlen, "network '%s': --uplink needs mode %s (mode %s forwards nothing)", n->name,
				 forwarding_modes(), n->mode->name);
			return -EINVAL;
		}
		why = ifname_invalid_reason(n->uplink);
		if (why) {
			snprintf(err, errlen, "network '%s': invalid uplink name '%s': %s", n->name, n->uplink, why);
			return -EINVAL;
		}
		if (!strcmp(n->uplink, n->bridge)) {
			snprintf(err, errlen, "network '%s': the uplink cannot be the network's own bridge", n->name);
			return -EINVAL;
		}
	}
	r = check_subnet(n, err, errlen);
	if (r < 0)
		return r;
	r = check_gateway(n, err, errlen);
	if (r < 0)
		return r;
	r = check_addresses(n, err, errlen);
	if (r < 0)
		return r;
	r = check_subnet6(n, err, errlen);
	if (r < 0)
		return r;
	if (n->mtu && (n->mtu < NETWORK_MTU_MIN || n->mtu > NETWORK_MTU_MAX)) {
		snprintf(err, errlen, "network '%s': MTU %u is out of range (%d-%d)", n->name, n->mtu,
			 NETWORK_MTU_MIN, NETWORK_MTU_MAX);
		return -ERANGE;
	}
	if (n->has_mac && (mac_is_multicast(&n->mac) || mac_is_zero(&n->mac))) {
		snprintf(err, errlen, "network '%s': bridge MAC must be a unicast, non-zero address", n->name);
		return -EINVAL;
	}
	r = check_forwards(n, err, errlen);
	if (r < 0)
		return r;
	return check_dhcp(n, err, errlen);
}

static bool registers_dns(const struct network *n)
{
	return n->dhcp.dnscfg.register_dns && n->dhcp.dns && n->dhcp.domain[0];
}

/* Whether o, another network, stands in n's way, in the order the checks are reported. */
static int check_other_network(const struct network *n, const struct network *o, char *err, size_t errlen)
{
	char s[IP_PREFIX_STRLEN];

	if (!strcmp(o->bridge, n->bridge)) {
		snprintf(err, errlen, "network '%s': bridge '%s' is already used by network '%s'", n->name,
			 n->bridge, o->name);
		return -EEXIST;
	}
	/* Out through another network's bridge would be a way into that network (a bridge-mode
	 * network's bridge is the host's LAN: a fine uplink). */
	if (n->uplink[0] && o->mode->owns_bridge && !strcmp(o->bridge, n->uplink)) {
		snprintf(err, errlen,
			 "network '%s': uplink '%s' is the bridge of network '%s'; an uplink must "
			 "lead out of the host, not into another network",
			 n->name, n->uplink, o->name);
		return -EINVAL;
	}
	/* The same, the other way round: the network that names the bridge came first. */
	if (o->uplink[0] && n->mode->owns_bridge && !strcmp(o->uplink, n->bridge)) {
		snprintf(err, errlen,
			 "network '%s': bridge '%s' is the uplink of network '%s'; change that "
			 "network's uplink first",
			 n->name, n->bridge, o->name);
		return -EINVAL;
	}
	/* Every IPv4 subnet of each (--subnet and --address): the first pair that overlaps. */
	struct ip_prefix mine[NETWORK_SUBNETS4_MAX], theirs[NETWORK_SUBNETS4_MAX];
	size_t n_mine = network_subnets4(n, mine), n_theirs = network_subnets4(o, theirs);

	for (size_t i = 0; i < n_mine; i++)
		for (size_t j = 0; j < n_theirs; j++) {
			if (!ip_prefix_overlaps(&mine[i], &theirs[j]))
				continue;
			snprintf(err, errlen, "network '%s' overlaps network '%s' (%s)", n->name, o->name,
				 ip_prefix_format(&theirs[j], s, sizeof(s)));
			return -EADDRINUSE;
		}
	if (n->subnet6.family && o->subnet6.family && ip_prefix_overlaps(&n->subnet6, &o->subnet6)) {
		snprintf(err, errlen, "network '%s' overlaps network '%s' (%s)", n->name, o->name,
			 ip_prefix_format(&o->subnet6, s, sizeof(s)));
		return -EADDRINUSE;
	}
	/* One VNI is one network across the hosts: two local networks cannot share it. */
	if (n->vni && n->vni == o->vni) {
		snprintf(err, errlen, "network '%s': VNI %u is already used by network '%s'", n->name, n->vni,
			 o->name);
		return -EEXIST;
	}
	/* Port forwards with one map key in two networks: table netd_fwd would refuse the second. */
	for (size_t i = 0; i < n->n_forwards; i++)
		for (size_t j = 0; j < o->n_forwards; j++) {
			char t[NAT_FWD_STRLEN];

			if (!nat_forward_overlaps(&n->forwards[i], &o->forwards[j]))
				continue;
			snprintf(err, errlen,
				 "network '%s': the ports overlap those of forward %s of network '%s'",
				 n->name, nat_forward_format(&o->forwards[j], t, sizeof(t)), o->name);
			return -EEXIST;
		}
	/* Two networks registering one domain (or one under the other) with resolved: the host's
	 * lookups of the other's names would go to this one's dnsmasq. */
	if (registers_dns(n) && registers_dns(o) &&
	    (dns_name_under(n->dhcp.domain, o->dhcp.domain) ||
	     dns_name_under(o->dhcp.domain, n->dhcp.domain))) {
		snprintf(err, errlen,
			 "network '%s': the domain %s is registered with systemd-resolved by network '%s' "
			 "(%s) already",
			 n->name, n->dhcp.domain, o->name, o->dhcp.domain);
		return -EEXIST;
	}
	return 0;
}

static int check_other_networks(const struct network *n, struct network *const *others, size_t n_others,
				char *err, size_t errlen)
{
	for (size_t i = 0; i < n_others; i++) {
		int r = strcmp(others[i]->name, n->name) ? check_other_network(n, others[i], err, errlen) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

/* The first network (in the order they were added) that one of check_other_network()'s tests
 * finds, through the index: each test has its lookup here (a new test needs one too). */
struct first_other {
	const struct network *n;
	const struct network_index_entry *first;
	bool owns_bridge; /* only networks whose mode owns their bridge count */
	bool with_self; /* a definition named as n counts too */
};

static bool note_other(const struct network_index_entry *e, const void *userdata)
{
	struct first_other *f = (struct first_other *)userdata;

	if ((!f->with_self && !strcmp(e->def->name, f->n->name)) ||
	    (f->owns_bridge && !e->def->mode->owns_bridge))
		return false;
	if (!f->first || e->seq < f->first->seq)
		f->first = e;
	return false;
}

static int check_other_networks_index(const struct network *n, const struct network_index *x, char *err,
				      size_t errlen)
{
	struct first_other f = { .n = n };

	network_index_each_key(&x->bridge, n->bridge, note_other, &f);
	if (n->uplink[0]) {
		f.owns_bridge = true;
		network_index_each_key(&x->bridge, n->uplink, note_other, &f);
		f.owns_bridge = false;
	}
	if (n->mode->owns_bridge)
		network_index_each_key(&x->uplink, n->bridge, note_other, &f);
	struct ip_prefix subnets[NETWORK_SUBNETS4_MAX];
	size_t n_subnets = network_subnets4(n, subnets);

	for (size_t i = 0; i < n_subnets; i++)
		network_index_each_overlap4(x, ip4_to_host(&subnets[i].addr), subnets[i].len, note_other, &f);
	/* IPv6 prefixes have no index of their own yet: a walk, only for a network that has one. */
	for (size_t i = 0; n->subnet6.family && i < x->name.n; i++) {
		const struct network_index_entry *e = &x->name.e[i];

		if (e->def->subnet6.family && ip_prefix_overlaps(&n->subnet6, &e->def->subnet6))
			note_other(e, &f);
	}
	/* Nor for VNIs (few networks have one): a walk, only for a network with one. */
	for (size_t i = 0; n->vni && i < x->name.n; i++)
		if (x->name.e[i].def->vni == n->vni)
			note_other(&x->name.e[i], &f);
	/* Nor for registered domains: a walk, only for a network that registers one. */
	for (size_t i = 0; registers_dns(n) && i < x->name.n; i++) {
		const struct network_index_entry *e = &x->name.e[i];

		if (registers_dns(e->def) && (dns_name_under(n->dhcp.domain, e->def->dhcp.domain) ||
					      dns_name_under(e->def->dhcp.domain, n->dhcp.domain)))
			note_other(e, &f);
	}
	/* Nor for port forwards (few networks have some, each few): a walk, only for a network with
	 * forwards. */
	for (size_t i = 0; n->n_forwards && i < x->name.n; i++) {
		const struct network_index_entry *e = &x->name.e[i];

		for (size_t a = 0; a < n->n_forwards; a++)
			for (size_t b = 0; b < e->def->n_forwards; b++)
				if (nat_forward_overlaps(&n->forwards[a], &e->def->forwards[b]))
					note_other(e, &f);
	}
	return f.first ? check_other_network(n, f.first->def, err, errlen) : 0;
}

/* Objects on links netd owns are netd's networks, checked above with better names. */
static bool link_is_netd_owned(const struct link_dump *host, int ifindex)
{
	const struct link_info *l = link_dump_find_index(host, ifindex);

	return l && network_alias_owner(l->alias);
}

/* The host's addresses and routes against one of the network's prefixes (family 0: none). */
static int check_host_addresses(const struct network *n, const struct ip_prefix *p,
				const struct link_dump *host, char *err, size_t errlen)
{
	char s[IP_PREFIX_STRLEN];

	for (size_t i = 0; p->family && i < host->n_addrs; i++) {
		const struct addr_info *a = &host->addrs[i];

		/* The overlap first: the owner is a search of the links (1000 networks: 2000 addresses). */
		if (!ip_prefix_overlaps(p, &a->prefix) || link_is_netd_owned(host, a->ifindex))
			continue;
		snprintf(err, errlen, "network '%s' overlaps address %s on %s", n->name,
			 ip_prefix_format(&a->prefix, s, sizeof(s)), link_dump_ifname(host, a->ifindex));
		return -EADDRINUSE;
	}
	return 0;
}

static bool route_counts(const struct route_info *r)
{
	/* A default route overlaps everything and says nothing; broadcast, multicast and anycast
	 * entries of the local table follow addresses, checked on their own. */
	enum { UNICAST = 1, LOCAL = 2, BROADCAST = 3, ANYCAST = 4, MULTICAST = 5 };

	if (r->dst.len == 0)
		return false;
	return r->type != BROADCAST && r->type != ANYCAST && r->type != MULTICAST;
}

static int check_host_routes(const struct network *n, const struct ip_prefix *p, const struct link_dump *host,
			     char *err, size_t errlen)
{
	char s[IP_PREFIX_STRLEN];

	for (size_t i = 0; p->family && i < host->n_routes; i++) {
		const struct route_info *r = &host->routes[i];

		if (!route_counts(r) || !ip_prefix_overlaps(p, &r->dst) ||
		    link_is_netd_owned(host, r->ifindex))
			continue;
		if (r->ifindex)
			snprintf(err, errlen, "network '%s' overlaps route %s dev %s", n->name,
				 ip_prefix_format(&r->dst, s, sizeof(s)), link_dump_ifname(host, r->ifindex));
		else
			snprintf(err, errlen, "network '%s' overlaps route %s (table %u)", n->name,
				 ip_prefix_format(&r->dst, s, sizeof(s)), r->table);
		return -EADDRINUSE;
	}
	return 0;
}

static int check_bridge_name(const struct network *n, const struct link_dump *host, char *err, size_t errlen)
{
	const struct link_info *l = link_dump_find_name(host, n->bridge);
	const char *owner;

	if (!l)
		return 0;
	owner = network_alias_owner(l->alias);
	if (owner && !strcmp(owner, n->name))
		return 0;
	if (owner)
		snprintf(err, errlen, "network '%s': interface '%s' already exists and belongs to network '%s'",
			 n->name, n->bridge, owner);
	else
		snprintf(err, errlen, "network '%s': interface '%s' already exists and is not managed by netd",
			 n->name, n->bridge);
	return -EEXIST;
}

int network_check_bridge_exists(const struct network *n, const struct link_dump *host, char *err, size_t errlen)
{
	const struct link_info *l = link_dump_find_name(host, n->bridge);
	const char *owner;

	if (!l) {
		snprintf(err, errlen, "network '%s': bridge '%s' does not exist; convert an uplink into it first "
			 "(netdctl uplink convert eth0 --bridge %s) or create it", n->name, n->bridge, n->bridge);
		return -ENODEV;
	}
	if (strcmp(l->kind, "bridge")) {
		snprintf(err, errlen, "network '%s': '%s' is not a bridge", n->name, n->bridge);
		return -EINVAL;
	}
	owner = network_alias_owner(l->alias);
	if (owner && strcmp(owner, n->name)) {
		snprintf(err, errlen, "network '%s': bridge '%s' belongs to network '%s'", n->name, n->bridge, owner);
		return -EEXIST;
	}
	return 0;
}

/* The uplink must not be a bridge netd owns or a port of one (a guest's TAP, say). */
static int check_uplink(const struct network *n, struct network *const *others, size_t n_others,
			const struct network_index *x, const struct link_dump *host, char *err, size_t errlen)
{
	const struct link_info *l = n->uplink[0] ? link_dump_find_name(host, n->uplink) : NULL;
	const struct link_info *master;
	const char *owner;

	if (!l)
		return 0;
	owner = network_alias_owner(l->alias);
	if (owner) {
		snprintf(err, errlen, "network '%s': uplink '%s' is the bridge of network '%s'; an uplink must lead "
			 "out of the host, not into another network", n->name, n->uplink, owner);
		return -EINVAL;
	}
	master = l->master ? link_dump_find_index(host, l->master) : NULL;
	if (!master)
		return 0;
	owner = network_alias_owner(master->alias);
	for (size_t i = 0; !owner && i < n_others; i++)
		if (others[i]->mode->owns_bridge && !strcmp(others[i]->bridge, master->name))
			owner = others[i]->name;
	if (!owner && x) {
		struct first_other f = { .n = n, .owns_bridge = true, .with_self = true };

		network_index_each_key(&x->bridge, master->name, note_other, &f);
		owner = f.first ? f.first->def->name : NULL;
	}
	if (!owner && strcmp(master->name, n->bridge))
		return 0;
	snprintf(err, errlen, "network '%s': uplink '%s' is a port of bridge '%s' (network '%s'); an uplink must "
		 "lead out of the host, not into a network", n->name, n->uplink, master->name, owner ? owner : n->name);
	return -EINVAL;
}

static int check_conflicts(const struct network *n, struct network *const *others, size_t n_others,
			   const struct network_index *x, const struct link_dump *host, char *err,
			   size_t errlen)
{
	int r;

	if (x)
		r = check_other_networks_index(n, x, err, errlen);
	else
		r = check_other_networks(n, others, n_others, err, errlen);
	if (r < 0 || !host)
		return r;
	if (!n->mode->owns_bridge)
		return network_check_bridge_exists(n, host, err, errlen);
	r = check_bridge_name(n, host, err, errlen);
	if (r < 0)
		return r;
	r = check_uplink(n, others, n_others, x, host, err, errlen);
	if (r < 0)
		return r;
	struct ip_prefix prefixes[NETWORK_SUBNETS4_MAX + 1];
	size_t k = network_subnets4(n, prefixes);

	prefixes[k++] = n->subnet6; /* family 0: none */
	for (size_t i = 0; i < k; i++) {
		r = check_host_addresses(n, &prefixes[i], host, err, errlen);
		if (r >= 0)
			r = check_host_routes(n, &prefixes[i], host, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

int network_check_forward_listen(const struct network *n, const struct link_dump *host, char *err,
				 size_t errlen)
{
	for (size_t i = 0; i < n->n_forwards; i++) {
		const struct nat_forward *f = &n->forwards[i];
		char a[INET6_ADDRSTRLEN];
		bool found = false;

		if (f->listen != NAT_FWD_LISTEN_ADDR)
			continue;
		for (size_t j = 0; j < host->n_addrs && !found; j++)
			found = host->addrs[j].prefix.family == f->family &&
				ip_addr_equal(f->family, &host->addrs[j].prefix.addr, &f->listen_addr);
		if (found)
			continue;
		snprintf(err, errlen,
			 "network '%s': listen address %s is not an address of the host (see 'ip address')",
			 n->name, ip_addr_format(f->family, &f->listen_addr, a, sizeof(a)));
		return -EADDRNOTAVAIL;
	}
	return 0;
}

int network_check_conflicts(const struct network *n, struct network *const *others, size_t n_others,
			    const struct link_dump *host, char *err, size_t errlen)
{
	return check_conflicts(n, others, n_others, NULL, host, err, errlen);
}

int network_check_conflicts_index(const struct network *n, const struct network_index *x,
				  const struct link_dump *host, char *err, size_t errlen)
{
	return check_conflicts(n, NULL, 0, x, host, err, errlen);
}

/* Field by field: struct l4_port has a padding byte that its parser leaves unset. */
static bool host_ports_equal(const struct network *a, const struct network *b)
{
	if (a->n_host_ports != b->n_host_ports)
		return false;
	for (size_t i = 0; i < a->n_host_ports; i++)
		if (a->host_ports[i].proto != b->host_ports[i].proto || a->host_ports[i].port != b->host_ports[i].port)
			return false;
	return true;
}

static bool addresses_equal(const struct network *a, const struct network *b)
{
	if (a->n_addresses != b->n_addresses)
		return false;
	for (size_t i = 0; i < a->n_addresses; i++)
		if (!ip_prefix_equal(&a->addresses[i], &b->addresses[i]))
			return false;
	return true;
}

static bool forwards_equal(const struct network *a, const struct network *b)
{
	if (a->n_forwards != b->n_forwards)
		return false;
	for (size_t i = 0; i < a->n_forwards; i++)
		if (!nat_forward_equal(&a->forwards[i], &b->forwards[i]))
			return false;
	return true;
}

bool network_equal(const struct network *a, const struct network *b)
{
	return !strcmp(a->name, b->name) && a->mode == b->mode && !strcmp(a->bridge, b->bridge) &&
	       a->subnet.family == b->subnet.family && a->subnet.len == b->subnet.len &&
	       ip_addr_equal(AF_INET, &a->subnet.addr, &b->subnet.addr) && a->has_gateway == b->has_gateway &&
	       ip_addr_equal(AF_INET, &a->gateway, &b->gateway) && a->subnet_none == b->subnet_none &&
	       ip_prefix_equal(&a->subnet6, &b->subnet6) && a->subnet6_auto == b->subnet6_auto &&
	       ip_addr_equal(AF_INET6, &a->gateway6, &b->gateway6) && a->ipv6_mode == b->ipv6_mode &&
	       a->nat6 == b->nat6 && a->nat6_given == b->nat6_given && a->mtu == b->mtu && a->stp == b->stp &&
	       a->forward_delay == b->forward_delay && a->autostart == b->autostart &&
	       a->has_mac == b->has_mac && (!a->has_mac || mac_equal(&a->mac, &b->mac)) &&
	       a->dhcp_router == b->dhcp_router && !strcmp(a->uplink, b->uplink) &&
	       dhcp_settings_equal(&a->dhcp, &b->dhcp) && host_ports_equal(a, b) && addresses_equal(a, b) &&
	       forwards_equal(a, b) && a->has_nat_address == b->has_nat_address &&
	       ip_addr_equal(AF_INET, &a->nat_address_first, &b->nat_address_first) &&
	       ip_addr_equal(AF_INET, &a->nat_address_last, &b->nat_address_last) &&
	       a->nat_port_lo == b->nat_port_lo && a->nat_port_hi == b->nat_port_hi && a->vni == b->vni &&
	       a->routed == b->routed;
}

/* Whether p overlaps one of o's IPv4 subnets. */
static bool overlaps_subnets4(const struct ip_prefix *p, const struct network *o)
{
	struct ip_prefix subnets[NETWORK_SUBNETS4_MAX];
	size_t k = network_subnets4(o, subnets);

	for (size_t i = 0; i < k; i++)
		if (ip_prefix_overlaps(p, &subnets[i]))
			return true;
	return false;
}

int network_choose_subnet(struct network *n, const struct ip_prefix *pool, struct network *const *others,
			  size_t n_others, const struct link_dump *host, bool *ret_host_refused, char *err,
			  size_t errlen)
{
	uint32_t first = ip4_to_host(&pool->addr), count = pool->len <= 24 ? 1u << (24 - pool->len) : 0;
	bool had_gateway = n->has_gateway;
	char p[IP_PREFIX_STRLEN];

	for (uint32_t i = 0; i < count; i++) {
		n->subnet = (struct ip_prefix){ .family = AF_INET, .len = 24 };
		ip4_from_host(first + (i << 8), &n->subnet.addr);
		bool taken = false;

		if (!had_gateway)
			n->has_gateway = false;
		network_fill_defaults(n);
		/* Only what the subnet overlaps: other problems (the bridge name, say) are reported as
		 * themselves by the checks after the choice, not as "no free subnet". */
		for (size_t j = 0; j < n_others && !taken; j++)
			taken = strcmp(others[j]->name, n->name) && overlaps_subnets4(&n->subnet, others[j]);
		/* nor one of its own further subnets (--address) */
		for (size_t j = 0; j < n->n_addresses && !taken; j++)
			taken = ip_prefix_overlaps(&n->subnet, &n->addresses[j]);
		if (taken)
			continue;
		if (check_host_addresses(n, &n->subnet, host, err, errlen) == 0 &&
		    check_host_routes(n, &n->subnet, host, err, errlen) == 0)
			return 0;
		if (ret_host_refused)
			*ret_host_refused = true;
	}
	n->subnet = (struct ip_prefix){};
	if (!had_gateway)
		n->has_gateway = false;
	snprintf(err, errlen, "network '%s': no free /24 left in the subnet pool %s: each overlaps a network, an "
		 "address or a route (netd --subnet-pool sets another pool)",
		 n->name, ip_prefix_format(pool, p, sizeof(p)));
	return -EADDRNOTAVAIL;
}

/* Something of at most /48 over the whole pool: no /64 of it is free, said at once rather than after
 * 65536 tries. */
static bool pool_taken_whole(const struct ip_prefix *pool, struct network *const *others, size_t n_others,
			     const struct link_dump *host)
{
	for (size_t j = 0; j < n_others; j++)
		if (others[j]->subnet6.family && others[j]->subnet6.len <= pool->len &&
		    ip_prefix_overlaps(pool, &others[j]->subnet6))
			return true;
	for (size_t i = 0; i < host->n_addrs; i++)
		if (host->addrs[i].prefix.len <= pool->len &&
		    ip_prefix_overlaps(pool, &host->addrs[i].prefix) &&
		    !link_is_netd_owned(host, host->addrs[i].ifindex))
			return true;
	for (size_t i = 0; i < host->n_routes; i++)
		if (route_counts(&host->routes[i]) && host->routes[i].dst.len <= pool->len &&
		    ip_prefix_overlaps(pool, &host->routes[i].dst) &&
		    !link_is_netd_owned(host, host->routes[i].ifindex))
			return true;
	return false;
}

int network_choose_subnet6(struct network *n, const struct ip_prefix *ula48, struct network *const *others,
			   size_t n_others, const struct link_dump *host, bool *ret_host_refused, char *err,
			   size_t errlen)
{
	uint32_t count = ula48->len <= 48 ? 1u << 16 : ula48->len <= 64 ? 1u << (64 - ula48->len) : 0;
	char p[IP_PREFIX_STRLEN];

	if (pool_taken_whole(ula48, others, n_others, host)) {
		count = 0;
		if (ret_host_refused)
			*ret_host_refused = true; /* perhaps: a fresh view decides */
	}
	for (uint32_t i = 0; i < count; i++) {
		bool taken = false;

		/* Subnet IDs 0, 1, ...: bytes 6 and 7 of the address (a /48 pool: all 16 bits). */
		n->subnet6 = (struct ip_prefix){ .family = AF_INET6, .addr = ula48->addr, .len = 64 };
		n->subnet6.addr.bytes[6] |= i >> 8;
		n->subnet6.addr.bytes[7] |= i & 0xff;
		n->subnet6_auto = false;
		network_fill_defaults(n);
		for (size_t j = 0; j < n_others && !taken; j++)
			taken = strcmp(others[j]->name, n->name) && others[j]->subnet6.family &&
				ip_prefix_overlaps(&n->subnet6, &others[j]->subnet6);
		if (taken)
			continue;
		if (check_host_addresses(n, &n->subnet6, host, err, errlen) == 0 &&
		    check_host_routes(n, &n->subnet6, host, err, errlen) == 0)
			return 0;
		if (ret_host_refused)
			*ret_host_refused = true;
	}
	n->subnet6 = (struct ip_prefix){};
	n->subnet6_auto = true;
	network_fill_defaults(n);
	snprintf(err, errlen,
		 "network '%s': no free /64 left in this host's IPv6 ULA prefix %s: each overlaps a "
		 "network, an address or a route (give --subnet6 PREFIX)",
		 n->name, ip_prefix_format(ula48, p, sizeof(p)));
	return -EADDRNOTAVAIL;
}
