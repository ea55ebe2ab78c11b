/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "network.h"

#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "mode.h"
#include "network-index.h"
#include "reconcile.h"

/* The modes: one file each (mode-NAME.c), one line here. */
extern const struct net_mode mode_nat, mode_routed, mode_isolated, mode_bridge, mode_open;
static const struct net_mode *const modes[] = {
	&mode_nat,
	&mode_routed,
	&mode_isolated,
	&mode_bridge,
	&mode_open,
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

void network_init(struct network *n, const char *name)
{
	memset(n, 0, sizeof(*n));
	n->mode = &mode_isolated;
	n->autostart = true;
	dhcp_settings_init(&n->dhcp);
	snprintf(n->name, sizeof(n->name), "%s", name);
}

void network_done(struct network *n)
{
	dhcp_settings_done(&n->dhcp);
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
}

bool network_wants_dnsmasq(const struct network *n)
{
	/* A bridge-mode network's guests are served by the LAN's own DHCP server. */
	return n->mode->has_subnet && (n->dhcp.dhcp || n->dhcp.dns);
}

void network_gateway_prefix(const struct network *n, struct ip_prefix *ret)
{
	*ret = (struct ip_prefix){ .family = n->subnet.family, .addr = n->gateway, .len = n->subnet.len };
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

	if (n->subnet.family == 0) {
		snprintf(err, errlen, "network '%s' needs a subnet (--subnet CIDR)", n->name);
		return -EINVAL;
	}
	if (n->subnet.family != AF_INET) {
		snprintf(err, errlen, "network '%s': subnet %s is not IPv4; only IPv4 subnets are supported",
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

static int check_dhcp(const struct network *n, char *err, size_t errlen)
{
	char msg[512];
	int r = dhcp_settings_validate(&n->dhcp, &n->subnet, &n->gateway, msg, sizeof(msg));

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
	if (!n->mode->has_subnet)
		return 0;
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
	if (n->mtu && (n->mtu < NETWORK_MTU_MIN || n->mtu > NETWORK_MTU_MAX)) {
		snprintf(err, errlen, "network '%s': MTU %u is out of range (%d-%d)", n->name, n->mtu,
			 NETWORK_MTU_MIN, NETWORK_MTU_MAX);
		return -ERANGE;
	}
	if (n->has_mac && (mac_is_multicast(&n->mac) || mac_is_zero(&n->mac))) {
		snprintf(err, errlen, "network '%s': bridge MAC must be a unicast, non-zero address", n->name);
		return -EINVAL;
	}
	return check_dhcp(n, err, errlen);
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
		snprintf(err, errlen, "network '%s': uplink '%s' is the bridge of network '%s'; an uplink must "
			 "lead out of the host, not into another network", n->name, n->uplink, o->name);
		return -EINVAL;
	}
	/* The same, the other way round: the network that names the bridge came first. */
	if (o->uplink[0] && n->mode->owns_bridge && !strcmp(o->uplink, n->bridge)) {
		snprintf(err, errlen, "network '%s': bridge '%s' is the uplink of network '%s'; change that "
			 "network's uplink first", n->name, n->bridge, o->name);
		return -EINVAL;
	}
	if (n->subnet.family && o->subnet.family && ip_prefix_overlaps(&n->subnet, &o->subnet)) {
		snprintf(err, errlen, "network '%s' overlaps network '%s' (%s)", n->name, o->name,
			 ip_prefix_format(&o->subnet, s, sizeof(s)));
		return -EADDRINUSE;
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

	if ((!f->with_self && !strcmp(e->def->name, f->n->name)) || (f->owns_bridge && !e->def->mode->owns_bridge))
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
	if (n->subnet.family == AF_INET)
		network_index_each_overlap4(x, ip4_to_host(&n->subnet.addr), n->subnet.len, note_other, &f);
	return f.first ? check_other_network(n, f.first->def, err, errlen) : 0;
}

/* Objects on links netd owns are netd's networks, checked above with better names. */
static bool link_is_netd_owned(const struct link_dump *host, int ifindex)
{
	const struct link_info *l = link_dump_find_index(host, ifindex);

	return l && network_alias_owner(l->alias);
}

static int check_host_addresses(const struct network *n, const struct link_dump *host, char *err,
				size_t errlen)
{
	char s[IP_PREFIX_STRLEN];

	for (size_t i = 0; i < host->n_addrs; i++) {
		const struct addr_info *a = &host->addrs[i];

		/* The overlap first: the owner is a search of the links (1000 networks: 2000 addresses). */
		if (!ip_prefix_overlaps(&n->subnet, &a->prefix) || link_is_netd_owned(host, a->ifindex))
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

static int check_host_routes(const struct network *n, const struct link_dump *host, char *err,
			     size_t errlen)
{
	char s[IP_PREFIX_STRLEN];

	for (size_t i = 0; i < host->n_routes; i++) {
		const struct route_info *r = &host->routes[i];

		if (!route_counts(r) || !ip_prefix_overlaps(&n->subnet, &r->dst) ||
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
			   const struct network_index *x, const struct link_dump *host, char *err, size_t errlen)
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
	r = check_host_addresses(n, host, err, errlen);
	if (r < 0)
		return r;
	return check_host_routes(n, host, err, errlen);
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

bool network_equal(const struct network *a, const struct network *b)
{
	return !strcmp(a->name, b->name) && a->mode == b->mode && !strcmp(a->bridge, b->bridge) &&
	       a->subnet.family == b->subnet.family && a->subnet.len == b->subnet.len &&
	       ip_addr_equal(AF_INET, &a->subnet.addr, &b->subnet.addr) &&
	       a->has_gateway == b->has_gateway && ip_addr_equal(AF_INET, &a->gateway, &b->gateway) &&
	       a->mtu == b->mtu && a->autostart == b->autostart && a->has_mac == b->has_mac &&
	       (!a->has_mac || mac_equal(&a->mac, &b->mac)) && a->dhcp_router == b->dhcp_router &&
	       !strcmp(a->uplink, b->uplink) && dhcp_settings_equal(&a->dhcp, &b->dhcp) && host_ports_equal(a, b);
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
			taken = strcmp(others[j]->name, n->name) && others[j]->subnet.family &&
				ip_prefix_overlaps(&n->subnet, &others[j]->subnet);
		if (taken)
			continue;
		if (check_host_addresses(n, host, err, errlen) == 0 &&
		    check_host_routes(n, host, err, errlen) == 0)
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
