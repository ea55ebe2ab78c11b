/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The uplink conversion planner (pure): a snapshot becomes a link plan (steps.h) and its rollback. */
#include "convert.h"

#include <errno.h>
#include <stdarg.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "names.h"

/* Flags an IPv6 address can be given; the others (temporary, permanent, tentative...) are state. */
#define ADDR_FLAGS_SETTABLE                                                                      \
	(IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE | IFA_F_OPTIMISTIC)
#define ADDR_FLAGS_SKIP (IFA_F_TENTATIVE | IFA_F_DADFAILED)
/* IPv4 keeps the flags it is given but these, which it works out itself. */
#define ADDR4_FLAGS_DERIVED (IFA_F_SECONDARY | IFA_F_PERMANENT | IFA_F_DEPRECATED | ADDR_FLAGS_SKIP)
#define RP_FILTER_LOOSE "2"

static const char *const convert_phase_table[_CONVERT_PHASE_MAX] = {
	[CONVERT_PHASE_PREPARE] = "prepare",
	[CONVERT_PHASE_CUTOVER] = "cut-over",
	[CONVERT_PHASE_FINISH] = "finish",
};

const char *convert_phase_to_string(enum convert_phase p)
{
	return p < _CONVERT_PHASE_MAX ? convert_phase_table[p] : NULL;
}

static const struct convert_sysctl_def convert_sysctl_table[_CONVERT_SYSCTL_MAX] = {
	[CONVERT_SYSCTL_DISABLE_IPV6] = { AF_INET6, "disable_ipv6" },
	[CONVERT_SYSCTL_ACCEPT_RA] = { AF_INET6, "accept_ra" },
	[CONVERT_SYSCTL_AUTOCONF] = { AF_INET6, "autoconf" },
	[CONVERT_SYSCTL_RP_FILTER] = { AF_INET, "rp_filter" },
/* One short row of names after another. */
/* clang-format off */
#define V6(k) { AF_INET6, k }
#define V4(k) { AF_INET, k }
	/* Copied: the addresses the bridge makes itself (link-local, privacy) and how. */
	V6("stable_secret"), V6("addr_gen_mode"), V6("use_tempaddr"), V6("temp_valid_lft"),
	V6("temp_prefered_lft"), V6("max_desync_factor"), V6("regen_max_retry"), V6("regen_min_advance"),
	V6("max_addresses"),
	/* Duplicate address detection and router advertisements. */
	V6("accept_dad"), V6("dad_transmits"), V6("enhanced_dad"), V6("optimistic_dad"), V6("use_optimistic"),
	V6("accept_ra_defrtr"), V6("accept_ra_from_local"), V6("accept_ra_min_hop_limit"), V6("accept_ra_min_lft"),
	V6("accept_ra_mtu"), V6("accept_ra_pinfo"), V6("accept_ra_rt_info_max_plen"), V6("accept_ra_rt_info_min_plen"),
	V6("accept_ra_rtr_pref"), V6("ra_defrtr_metric"), V6("ra_honor_pio_life"), V6("ra_honor_pio_pflag"),
	V6("router_solicitations"), V6("router_solicitation_delay"), V6("router_solicitation_interval"),
	V6("router_solicitation_max_interval"), V6("router_probe_interval"),
	/* The rest of the link's IPv6 behaviour. */
	V6("forwarding"), V6("hop_limit"), V6("mtu"), V6("accept_redirects"), V6("accept_source_route"),
	V6("accept_untracked_na"), V6("drop_unicast_in_l2_multicast"), V6("drop_unsolicited_na"), V6("proxy_ndp"),
	V6("ndisc_notify"), V6("ndisc_tclass"), V6("ndisc_evict_nocarrier"), V6("keep_addr_on_down"),
	V6("ignore_routes_with_linkdown"), V6("suppress_frag_ndisc"), V6("use_oif_addrs_only"), V6("force_tllao"),
	V6("force_mld_version"), V6("disable_policy"),
	/* IPv4. */
	V4("promote_secondaries"), V4("forwarding"), V4("accept_local"), V4("accept_redirects"),
	V4("accept_source_route"), V4("secure_redirects"), V4("send_redirects"), V4("shared_media"),
	V4("arp_accept"), V4("arp_announce"), V4("arp_filter"), V4("arp_ignore"), V4("arp_notify"),
	V4("arp_evict_nocarrier"), V4("drop_gratuitous_arp"), V4("drop_unicast_in_l2_multicast"), V4("proxy_arp"),
	V4("proxy_arp_pvlan"), V4("route_localnet"), V4("src_valid_mark"), V4("log_martians"),
	V4("ignore_routes_with_linkdown"), V4("bootp_relay"), V4("bc_forwarding"), V4("disable_policy"),
	V4("disable_xfrm"), V4("force_igmp_version"), V4("medium_id"), V4("tag"),
#undef V6
#undef V4
	/* clang-format on */
};

const struct convert_sysctl_def *convert_sysctl_get(enum convert_sysctl s)
{
	return s < _CONVERT_SYSCTL_MAX && convert_sysctl_table[s].key ? &convert_sysctl_table[s] : NULL;
}

static const char *family_name(int family)
{
	return family == AF_INET ? "ipv4" : "ipv6";
}

void convert_snapshot_free(struct convert_snapshot *s)
{
	if (!s)
		return;
	free(s->addrs);
	free(s->routes);
	free(s->neighs);
	*s = (struct convert_snapshot){};
}

static int refuse(char *err, size_t errlen, int error, const char *fmt, ...) _printf_(4, 5);
static int refuse(char *err, size_t errlen, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return error;
}

/* These take over the lower link's receive path, which a bridge port needs (EBUSY). */
static bool is_upper_with_rx_handler(const char *kind)
{
	static const char *const kinds[] = { "macvlan", "macvtap", "ipvlan", "ipvtap" };

	for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

static const char *master_kind(const struct link_dump *dump, int master)
{
	const struct link_info *m = link_dump_find_index(dump, master);

	return m && m->kind[0] ? m->kind : "link";
}

static bool master_is_bridge(const struct link_dump *dump, int master)
{
	return !strcmp(master_kind(dump, master), "bridge");
}

static int check_port(const struct link_dump *dump, const struct link_info *l, const char *port, char *err,
		      size_t errlen)
{
	if (!l)
		return refuse(err, errlen, -ENODEV, "interface '%s' does not exist", port);
	if (l->loopback)
		return refuse(err, errlen, -EINVAL, "'%s' is the loopback interface; only an Ethernet uplink can be bridged",
			      port);
	if (!strcmp(l->kind, "bridge"))
		return refuse(err, errlen, -EINVAL, "'%s' is a bridge itself; attach guests to it with "
			      "'netdctl network create NAME --mode bridge --bridge %s'", port, port);
	if (l->master && !master_is_bridge(dump, l->master))
		return refuse(err, errlen, -EBUSY, "'%s' is a slave of %s '%s'; convert '%s' instead", port,
			      master_kind(dump, l->master), link_dump_ifname(dump, l->master),
			      link_dump_ifname(dump, l->master));
	if (l->master)
		return refuse(err, errlen, -EBUSY, "'%s' is already a port of '%s'; release it first (ip link set %s nomaster)",
			      port, link_dump_ifname(dump, l->master), port);
	for (size_t i = 0; i < dump->n_links; i++)
		if (dump->links[i].lower == l->ifindex && is_upper_with_rx_handler(dump->links[i].kind))
			return refuse(err, errlen, -EBUSY, "'%s' carries %s '%s', and the kernel cannot make it a bridge port "
				      "then; remove '%s' first (and recreate it on the bridge)", port, dump->links[i].kind,
				      dump->links[i].name, dump->links[i].name);
	if (mac_is_zero(&l->mac))
		return refuse(err, errlen, -EINVAL, "'%s' has no Ethernet address and cannot be a bridge port", port);
	return 0;
}

static int check_bridge_name(const struct link_dump *dump, const char *port, const char *bridge, char *err,
			     size_t errlen)
{
	const char *why = ifname_invalid_reason(bridge);

	if (why)
		return refuse(err, errlen, -EINVAL, "invalid bridge name '%s': %s", bridge, why);
	if (!strcmp(port, bridge))
		return refuse(err, errlen, -EINVAL, "the bridge needs a name other than '%s' (e.g. --bridge br0)", port);
	if (link_dump_find_name(dump, bridge))
		return refuse(err, errlen, -EEXIST, "interface '%s' already exists; choose another name with --bridge",
			      bridge);
	return 0;
}

static int check_rules(const struct link_dump *dump, const char *port, char *err, size_t errlen)
{
	for (size_t i = 0; i < dump->n_rules; i++) {
		const struct rule_info *r = &dump->rules[i];

		if (strcmp(r->iif, port) && strcmp(r->oif, port))
			continue;
		return refuse(err, errlen, -EOPNOTSUPP,
			      "policy rule %u (%s) names '%s'; netd does not rewrite rules: change it to the bridge "
			      "name after converting, or remove it first",
			      r->priority, !strcmp(r->iif, port) ? "iif" : "oif", port);
	}
	return 0;
}

/* fe80::/64, which the kernel gives every link with IPv6 on, and takes away with it. */
static bool route_is_linklocal_prefix(const struct route_info *rt)
{
	static const uint8_t fe80[2] = { 0xfe, 0x80 };

	return rt->dst.family == AF_INET6 && rt->dst.len == 64 && rt->protocol == RTPROT_KERNEL &&
	       !memcmp(rt->dst.addr.bytes, fe80, 2) && !memcmp(rt->dst.addr.bytes + 2, "\0\0\0\0\0\0", 6);
}

static bool route_moves(const struct route_info *rt, int port)
{
	/* The local table and fe80::/64 follow the addresses and the link by themselves: moving
	 * them would leave a duplicate once the kernel adds its own. */
	return rt->ifindex == port && rt->table != RT_TABLE_LOCAL && !route_is_linklocal_prefix(rt);
}

/* IPv6 temporary (privacy) addresses: userspace cannot give that flag, the kernel makes them. */
static bool addr_is_temporary(const struct addr_info *a)
{
	return a->prefix.family == AF_INET6 && (a->flags & IFA_F_TEMPORARY);
}

static bool addr_same(const struct addr_info *a, const struct addr_info *b)
{
	return a->prefix.family == b->prefix.family &&
	       ip_addr_equal(a->prefix.family, &a->prefix.addr, &b->prefix.addr);
}

/* The bridge's deprecated copy of a privacy address the port had (prev's) is one still. */
static bool was_temporary(const struct convert_snapshot *prev, const struct addr_info *a)
{
	for (size_t i = 0; prev && i < prev->n_addrs; i++)
		if (addr_is_temporary(&prev->addrs[i]) && addr_same(&prev->addrs[i], a))
			return true;
	return false;
}

static bool label_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr(":._-", c);
}

static bool label_suffix_ok(const char *s)
{
	for (; *s; s++)
		if (!label_char_ok(*s))
			return false;
	return true;
}

/* "eth0:1" on eth0 is kept as ":1"; a label that does not start with the link's name is not kept. */
static void label_to_suffix(char label[IFNAMSIZ], const char *ifname)
{
	size_t n = strlen(ifname);
	char suffix[IFNAMSIZ];

	if (strncmp(label, ifname, n) || !label_suffix_ok(label + n)) {
		label[0] = 0;
		return;
	}
	snprintf(suffix, sizeof(suffix), "%s", label + n);
	memcpy(label, suffix, IFNAMSIZ);
}

/* Static entries people add (permanent, noarp, with a link-layer address) to unicast addresses;
 * the kernel makes the noarp ones of multicast and broadcast addresses itself, on whichever link
 * sends there. */
static bool neigh_moves(const struct neigh_info *n, const struct link_dump *dump, int port)
{
	if (n->ifindex != port || !(n->state & (NUD_PERMANENT | NUD_NOARP)) || !n->has_lladdr)
		return false;
	if (n->family == AF_INET6)
		return n->dst.bytes[0] != 0xff;
	if ((n->dst.bytes[0] & 0xf0) == 0xe0 || ip4_to_host(&n->dst) == UINT32_MAX)
		return false;
	for (size_t i = 0; i < dump->n_addrs; i++)
		if (dump->addrs[i].ifindex == port && dump->addrs[i].broadcast_family == AF_INET &&
		    ip_addr_equal(AF_INET, &dump->addrs[i].broadcast, &n->dst))
			return false;
	return true;
}

static int snapshot_objects(const struct link_dump *dump, int port, const char *ifname,
			    const struct convert_snapshot *prev, struct convert_snapshot *s)
{
	s->addrs = calloc(dump->n_addrs + 1, sizeof(*s->addrs));
	s->routes = calloc(dump->n_routes + 1, sizeof(*s->routes));
	s->neighs = calloc(dump->n_neighs + 1, sizeof(*s->neighs));
	if (!s->addrs || !s->routes || !s->neighs)
		return -ENOMEM;
	for (size_t i = 0; i < dump->n_addrs; i++) {
		const struct addr_info *a = &dump->addrs[i];
		struct addr_info *c;

		if (a->ifindex != port || (a->flags & ADDR_FLAGS_SKIP))
			continue;
		c = &s->addrs[s->n_addrs++];
		*c = *a;
		c->ifindex = 0;
		if (was_temporary(prev, a))
			c->flags = IFA_F_TEMPORARY;
		label_to_suffix(c->label, ifname);
	}
	for (size_t i = 0; i < dump->n_routes; i++) {
		if (!route_moves(&dump->routes[i], port))
			continue;
		s->routes[s->n_routes] = dump->routes[i];
		s->routes[s->n_routes++].ifindex = 0;
	}
	for (size_t i = 0; i < dump->n_neighs; i++) {
		if (!neigh_moves(&dump->neighs[i], dump, port))
			continue;
		s->neighs[s->n_neighs] = dump->neighs[i];
		s->neighs[s->n_neighs++].ifindex = 0;
	}
	return 0;
}

int convert_snapshot_take(const struct link_dump *dump, const char *port, const char *bridge,
			  struct convert_snapshot *ret, char *err, size_t errlen)
{
	const struct link_info *l = link_dump_find_name(dump, port);
	struct convert_snapshot s = {};
	int r;

	r = check_port(dump, l, port, err, errlen);
	if (r >= 0)
		r = check_bridge_name(dump, port, bridge, err, errlen);
	if (r >= 0)
		r = check_rules(dump, port, err, errlen);
	if (r < 0)
		return r;
	snprintf(s.port, sizeof(s.port), "%s", port);
	snprintf(s.bridge, sizeof(s.bridge), "%s", bridge);
	s.mac = l->mac;
	s.mtu = l->mtu;
	r = snapshot_objects(dump, l->ifindex, port, NULL, &s);
	if (r < 0) {
		convert_snapshot_free(&s);
		return refuse(err, errlen, r, "cannot take a snapshot of '%s': %s", port, strerror(-r));
	}
	*ret = s;
	return 0;
}

/* A sysctl this kernel lacks, or stable_secret while unset (EIO): not known, left alone. */
static int sysctl_read(struct link_backend *b, int family, const char *ifname, const char *key, char *buf,
		       size_t size)
{
	int r = b->ops->sysctl_get(b->userdata, family, ifname, key, buf, size);

	if (r == -ENOENT || r == -EIO) {
		buf[0] = 0;
		return 0;
	}
	return r;
}

int convert_snapshot_read_sysctls(struct convert_snapshot *s, struct link_backend *b)
{
	for (int i = 0; i < _CONVERT_SYSCTL_MAX && convert_sysctl_table[i].key; i++) {
		const struct convert_sysctl_def *def = &convert_sysctl_table[i];
		char dflt[sizeof(s->sysctl[i])];
		int r;

		r = sysctl_read(b, def->family, s->port, def->key, s->sysctl[i], sizeof(s->sysctl[i]));
		if (r >= 0 && i >= _CONVERT_SYSCTL_NAMED)
			r = sysctl_read(b, def->family, "default", def->key, dflt, sizeof(dflt));
		if (r < 0)
			return r;
		/* A new bridge has the default already; but writing stable_secret turns addr_gen_mode to
		 * stable privacy, so the mode that follows it in the table is always written then. */
		if (i >= _CONVERT_SYSCTL_NAMED && !strcmp(s->sysctl[i], dflt) &&
		    !(!strcmp(def->key, "addr_gen_mode") && s->sysctl[i - 1][0]))
			s->sysctl[i][0] = 0;
	}
	return 0;
}

int convert_snapshot_refresh(struct convert_snapshot *s, const struct link_dump *now)
{
	const struct link_info *br = link_dump_find_name(now, s->bridge);
	struct convert_snapshot fresh = {};
	int r;

	if (!br)
		return -ENODEV;
	r = snapshot_objects(now, br->ifindex, s->bridge, s, &fresh);
	if (r < 0) {
		convert_snapshot_free(&fresh);
		return r;
	}
	free(s->addrs);
	free(s->routes);
	free(s->neighs);
	s->addrs = fresh.addrs;
	s->n_addrs = fresh.n_addrs;
	s->routes = fresh.routes;
	s->n_routes = fresh.n_routes;
	s->neighs = fresh.neighs;
	s->n_neighs = fresh.n_neighs;
	return 0;
}

/* ---- text form ---- */

static void hex_format(const uint8_t *b, size_t n, char *buf)
{
	if (n == 0) {
		strcpy(buf, "-");
		return;
	}
	for (size_t i = 0; i < n; i++)
		sprintf(buf + 2 * i, "%02x", b[i]);
}

static int hex_parse(const char *s, uint8_t *b, size_t max, uint8_t *ret_len)
{
	size_t n = strlen(s);

	if (!strcmp(s, "-")) {
		*ret_len = 0;
		return 0;
	}
	if (n % 2 || n / 2 > max)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		b[i] = v;
	}
	*ret_len = n / 2;
	return 0;
}

static const char *addr_or_dash(int family, const union in_addr_union *a, char *buf, size_t size)
{
	return family ? ip_addr_format(family, a, buf, size) : "-";
}

static int append(char **text, size_t *len, const char *fmt, ...) _printf_(3, 4);
static int append(char **text, size_t *len, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	p = realloc(*text, *len + n + 1);
	if (!p)
		return -ENOMEM;
	memcpy(p + *len, line, n + 1);
	*text = p;
	*len += n;
	return 0;
}

static int format_route(char **text, size_t *len, const struct route_info *rt)
{
	char dst[IP_PREFIX_STRLEN], gw[INET6_ADDRSTRLEN], src[INET6_ADDRSTRLEN], m[2 * LINK_METRICS_MAX + 1];

	hex_format(rt->metrics, rt->metrics_len, m);
	return append(text, len, "route %s %u %u %u %u %u %u %s %s %u %s %u\n", ip_prefix_format(&rt->dst, dst, sizeof(dst)),
		      rt->table, rt->type, rt->protocol, rt->scope, rt->flags, rt->priority,
		      addr_or_dash(rt->gw_family, &rt->gw, gw, sizeof(gw)),
		      addr_or_dash(rt->prefsrc_family, &rt->prefsrc, src, sizeof(src)), rt->pref, m, rt->expires);
}

/* The attributes after the first five came later, each as "key value"; IPv4 always has "brd". */
static int format_addr(char **text, size_t *len, const struct addr_info *a)
{
	char p[IP_PREFIX_STRLEN], brd[INET6_ADDRSTRLEN + 8] = "", peer[INET6_ADDRSTRLEN + 8] = "",
							 ip[INET6_ADDRSTRLEN];
	char extra[80] = "";

	if (a->prefix.family == AF_INET)
		snprintf(brd, sizeof(brd), " brd %s",
			 addr_or_dash(a->broadcast_family, &a->broadcast, ip, sizeof(ip)));
	if (a->peer_family)
		snprintf(peer, sizeof(peer), " peer %s",
			 ip_addr_format(a->peer_family, &a->peer, ip, sizeof(ip)));
	if (a->label[0])
		snprintf(extra, sizeof(extra), " label %s", a->label);
	if (a->rt_priority)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " metric %u", a->rt_priority);
	if (a->proto)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " proto %u", a->proto);
	return append(text, len, "addr %s %u %u %u %u%s%s%s\n", ip_prefix_format(&a->prefix, p, sizeof(p)),
		      a->scope, a->flags, a->valid_lft, a->preferred_lft, brd, peer, extra);
}

static int format_neigh(char **text, size_t *len, const struct neigh_info *n)
{
	char ip[INET6_ADDRSTRLEN], m[MAC_STRLEN] = "-";

	if (n->has_lladdr)
		mac_format(&n->lladdr, m, sizeof(m));
	return append(text, len, "neigh %s %s %u %u %u\n", ip_addr_format(n->family, &n->dst, ip, sizeof(ip)),
		      m, n->state, n->flags, n->protocol);
}

/* The named sysctls as "sysctl KEY VALUE" (always, "-" if not known); the copied ones, which came
 * later, as "sysctl ipv6/KEY VALUE" when known. */
static int format_sysctl(char **text, size_t *len, const struct convert_snapshot *s, int i)
{
	const struct convert_sysctl_def *def = &convert_sysctl_table[i];

	if (i < _CONVERT_SYSCTL_NAMED)
		return append(text, len, "sysctl %s %s\n", def->key, s->sysctl[i][0] ? s->sysctl[i] : "-");
	if (!s->sysctl[i][0])
		return 0;
	return append(text, len, "sysctl %s/%s %s\n", family_name(def->family), def->key, s->sysctl[i]);
}

char *convert_snapshot_format(const struct convert_snapshot *s)
{
	char *text = NULL, m[MAC_STRLEN];
	size_t len = 0;
	int r;

	r = append(&text, &len, "port %s\nbridge %s\nmac %s\nmtu %u\n", s->port, s->bridge,
		   mac_format(&s->mac, m, sizeof(m)), s->mtu);
	for (int i = 0; r >= 0 && i < _CONVERT_SYSCTL_MAX && convert_sysctl_table[i].key; i++)
		r = format_sysctl(&text, &len, s, i);
	for (size_t i = 0; r >= 0 && i < s->n_addrs; i++)
		r = format_addr(&text, &len, &s->addrs[i]);
	for (size_t i = 0; r >= 0 && i < s->n_routes; i++)
		r = format_route(&text, &len, &s->routes[i]);
	for (size_t i = 0; r >= 0 && i < s->n_neighs; i++)
		r = format_neigh(&text, &len, &s->neighs[i]);
	if (r < 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int parse_opt_addr(const char *s, int *ret_family, union in_addr_union *ret)
{
	if (!strcmp(s, "-")) {
		*ret_family = AF_UNSPEC;
		return 0;
	}
	return ip_addr_parse(s, ret_family, ret);
}

static int parse_route(const char *line, struct route_info *rt)
{
	char dst[64], gw[64], src[64], m[2 * LINK_METRICS_MAX + 2];
	unsigned type, proto, scope, pref;
	int n;

	*rt = (struct route_info){};
	/* The expiry came later: a snapshot written before has 11 fields. */
	n = sscanf(line, "route %63s %u %u %u %u %u %u %63s %63s %u %129s %u", dst, &rt->table, &type, &proto, &scope,
		   &rt->flags, &rt->priority, gw, src, &pref, m, &rt->expires);
	if (n != 11 && n != 12)
		return -EINVAL;
	rt->type = type;
	rt->protocol = proto;
	rt->scope = scope;
	rt->pref = pref;
	if (ip_prefix_parse(dst, &rt->dst) < 0 || parse_opt_addr(gw, &rt->gw_family, &rt->gw) < 0 ||
	    parse_opt_addr(src, &rt->prefsrc_family, &rt->prefsrc) < 0)
		return -EINVAL;
	return hex_parse(m, rt->metrics, sizeof(rt->metrics), &rt->metrics_len);
}

static int parse_u32(const char *s, uint32_t max, uint32_t *ret)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_addr_family(const char *s, int family, int *ret_family, union in_addr_union *ret)
{
	int r = parse_opt_addr(s, ret_family, ret);

	return r < 0 || (*ret_family && *ret_family != family) ? -EINVAL : 0;
}

/* One "key value" pair after the first five fields of an addr line. */
static int parse_addr_attr(const char *key, const char *value, struct addr_info *a, bool *ret_brd)
{
	uint32_t v;
	int r;

	if (!strcmp(key, "brd") && a->prefix.family == AF_INET) {
		*ret_brd = true;
		return parse_addr_family(value, AF_INET, &a->broadcast_family, &a->broadcast);
	}
	if (!strcmp(key, "peer"))
		return parse_addr_family(value, a->prefix.family, &a->peer_family, &a->peer) < 0 ||
				       !a->peer_family ?
			       -EINVAL :
			       0;
	if (!strcmp(key, "label")) {
		if (strlen(value) >= sizeof(a->label) || !label_suffix_ok(value) ||
		    a->prefix.family != AF_INET)
			return -EINVAL;
		snprintf(a->label, sizeof(a->label), "%s", value);
		return 0;
	}
	if (!strcmp(key, "metric"))
		return parse_u32(value, UINT32_MAX, &a->rt_priority) < 0 || !a->rt_priority ? -EINVAL : 0;
	if (!strcmp(key, "proto")) {
		r = parse_u32(value, UINT8_MAX, &v);
		a->proto = v;
		return r < 0 || !v ? -EINVAL : 0;
	}
	return -EINVAL;
}

static int parse_addr(const char *line, struct addr_info *a)
{
	char p[64], key[16], value[64];
	unsigned scope;
	bool brd = false;
	int n, r;

	*a = (struct addr_info){};
	if (sscanf(line, "addr %63s %u %u %u %u%n", p, &scope, &a->flags, &a->valid_lft, &a->preferred_lft,
		   &n) != 5 ||
	    scope > UINT8_MAX)
		return -EINVAL;
	a->scope = scope;
	r = ip_prefix_parse(p, &a->prefix);
	for (line += n; r >= 0 && *line;) {
		int m;

		if (sscanf(line, " %15s %63s%n", key, value, &m) != 2)
			return -EINVAL;
		r = parse_addr_attr(key, value, a, &brd);
		line += m;
	}
	/* Written before netd kept the broadcast address: it added the subnet's. */
	if (r >= 0 && !brd && a->prefix.family == AF_INET && a->prefix.len < 31) {
		a->broadcast_family = AF_INET;
		ip_prefix_broadcast(&a->prefix, &a->broadcast);
	}
	return r;
}

static int parse_neigh(const char *line, struct neigh_info *n)
{
	char dst[64], m[32];
	unsigned state, flags, proto;

	*n = (struct neigh_info){};
	if (sscanf(line, "neigh %63s %31s %u %u %u", dst, m, &state, &flags, &proto) != 5 ||
	    state > UINT16_MAX || flags > UINT8_MAX || proto > UINT8_MAX ||
	    ip_addr_parse(dst, &n->family, &n->dst) < 0)
		return -EINVAL;
	n->state = state;
	n->flags = flags;
	n->protocol = proto;
	if (!strcmp(m, "-"))
		return 0;
	n->has_lladdr = true;
	return mac_parse(m, &n->lladdr);
}

static int parse_sysctl(const char *line, struct convert_snapshot *s)
{
	char key[48], value[64];
	const char *name = key;
	int family = 0;

	if (sscanf(line, "sysctl %47s %63s", key, value) != 2)
		return -EINVAL;
	if (strlen(value) >= sizeof(s->sysctl[0]))
		return -EINVAL;
	if (!strncmp(key, "ipv4/", 5) || !strncmp(key, "ipv6/", 5)) {
		family = key[3] == '4' ? AF_INET : AF_INET6;
		name = key + 5;
	}
	for (int i = 0; i < _CONVERT_SYSCTL_MAX && convert_sysctl_table[i].key; i++) {
		const struct convert_sysctl_def *def = &convert_sysctl_table[i];

		/* The named ones without a family, the copied ones with it. */
		if ((i < _CONVERT_SYSCTL_NAMED) != !family || (family && family != def->family) ||
		    strcmp(name, def->key))
			continue;
		if (family && !strcmp(value, "-"))
			return -EINVAL;
		snprintf(s->sysctl[i], sizeof(s->sysctl[i]), "%s", strcmp(value, "-") ? value : "");
		return 0;
	}
	return 0; /* a key from a newer netd: ignored */
}

static int parse_line(const char *line, struct convert_snapshot *s)
{
	char word[32];

	if (sscanf(line, "port %15s", s->port) == 1 || sscanf(line, "bridge %15s", s->bridge) == 1 ||
	    sscanf(line, "mtu %u", &s->mtu) == 1)
		return 0;
	if (sscanf(line, "mac %31s", word) == 1)
		return mac_parse(word, &s->mac);
	if (!strncmp(line, "sysctl ", 7))
		return parse_sysctl(line, s);
	if (!strncmp(line, "addr ", 5))
		return parse_addr(line, &s->addrs[s->n_addrs++]);
	if (!strncmp(line, "route ", 6))
		return parse_route(line, &s->routes[s->n_routes++]);
	if (!strncmp(line, "neigh ", 6))
		return parse_neigh(line, &s->neighs[s->n_neighs++]);
	return line[0] ? -EINVAL : 0;
}

int convert_snapshot_parse(const char *text, struct convert_snapshot *ret)
{
	_cleanup_free_ char *copy = strdup(text);
	struct convert_snapshot s = {};
	size_t lines = 1;
	char *save = NULL;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	s.addrs = calloc(lines, sizeof(*s.addrs));
	s.routes = calloc(lines, sizeof(*s.routes));
	s.neighs = calloc(lines, sizeof(*s.neighs));
	if (!s.addrs || !s.routes || !s.neighs)
		r = -ENOMEM;
	for (char *line = strtok_r(copy, "\n", &save); line && r >= 0; line = strtok_r(NULL, "\n", &save))
		r = parse_line(line, &s);
	if (r >= 0 && (!s.port[0] || !s.bridge[0]))
		r = -EINVAL;
	if (r < 0) {
		convert_snapshot_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

/* ---- plans ---- */

static int push_simple(struct link_plan *p, enum link_step_type type, const char *ifname)
{
	return link_plan_push(p, type, ifname, 0) ? 0 : -ENOMEM;
}

static int push_sysctl(struct link_plan *p, const char *ifname, int which, const char *value)
{
	struct link_step *s;

	if (!value || !value[0])
		return 0; /* not known (a kernel without IPv6, say), or the default: leave it */
	s = link_plan_push(p, LINK_STEP_SYSCTL_SET, ifname, 0);
	if (!s)
		return -ENOMEM;
	s->family = convert_sysctl_table[which].family;
	snprintf(s->key, sizeof(s->key), "%s", convert_sysctl_table[which].key);
	snprintf(s->value, sizeof(s->value), "%s", value);
	return 0;
}

/* The address as it is on the link ifname: its label is the link's name and the kept suffix. */
static struct addr_info addr_on(const struct addr_info *a, const char *ifname)
{
	struct addr_info c = *a;
	size_t n = strlen(ifname);

	c.label[0] = 0;
	if (a->prefix.family == AF_INET && a->label[0] && n + strlen(a->label) < sizeof(c.label)) {
		memcpy(c.label, ifname, n);
		memcpy(c.label + n, a->label, strlen(a->label) + 1);
	}
	return c;
}

/* Addresses keep their flags, scope, lifetimes and the rest: the conversion moves them as they are. */
static int push_addr(struct link_plan *p, enum link_step_type type, const char *ifname,
		     const struct addr_info *a, uint32_t flags)
{
	struct link_step *s = link_plan_push(p, type, ifname, 0);

	if (!s)
		return -ENOMEM;
	s->addr = addr_on(a, ifname);
	s->addr.flags = flags;
	s->full = true;
	return 0;
}

static int push_neigh(struct link_plan *p, enum link_step_type type, const char *ifname,
		      const struct neigh_info *n)
{
	struct link_step *s = link_plan_push(p, type, ifname, 0);

	if (!s)
		return -ENOMEM;
	s->neigh = *n;
	return 0;
}

static int push_route(struct link_plan *p, const char *ifname, const struct route_info *rt)
{
	struct link_step *s = link_plan_push(p, LINK_STEP_ROUTE_REPLACE, ifname, 0);

	if (!s)
		return -ENOMEM;
	s->route = *rt;
	return 0;
}

/* A route learnt from router advertisements: the kernel's own, or one moved beside it. */
static bool route_is_ra(const struct route_info *rt)
{
	return rt->protocol == RTPROT_RA && rt->expires;
}

/* `now` has the RA route `rt` through `ifindex` already, at whatever metric. */
static bool route_ra_present(const struct link_dump *now, int ifindex, const struct route_info *rt)
{
	for (size_t i = 0; now && i < now->n_routes; i++) {
		const struct route_info *o = &now->routes[i];

		if (o->ifindex == ifindex && route_is_ra(o) && o->table == rt->table &&
		    ip_prefix_equal(&o->dst, &rt->dst) && o->gw_family == rt->gw_family &&
		    (!o->gw_family || ip_addr_equal(o->gw_family, &o->gw, &rt->gw)))
			return true;
	}
	return false;
}

/*
 * A route the kernel learnt from router advertisements (proto ra, with a lifetime) moves one
 * metric up when the link takes them (accept_ra not 0). Added by netlink it lacks the kernel's RA
 * flag (RTF_ADDRCONF): at the next advertisement the kernel does not find it as its own, fails to
 * add its own default route beside it at the same metric (EEXIST) and drops the rest of that
 * advertisement (prefix lifetimes, MTU, RDNSS), so the SLAAC address expires. One metric up, the
 * kernel's own goes in at the next advertisement and wins; the moved one expires with its lifetime.
 * None goes where `now` (a rollback) has it already: a copy would only pile up beside it.
 */
static int push_route_moved(struct link_plan *p, const struct convert_snapshot *s, const char *to,
			    const struct link_dump *now, int to_ifindex, const struct route_info *rt)
{
	struct route_info moved = *rt;

	if (!route_is_ra(rt) || !strcmp(s->sysctl[CONVERT_SYSCTL_ACCEPT_RA], "0"))
		return push_route(p, to, rt);
	if (route_ra_present(now, to_ifindex, rt))
		return 0;
	moved.priority++;
	return push_route(p, to, &moved);
}

static int push_announce(struct link_plan *p, const char *ifname, const struct mac *mac,
			 const struct addr_info *a)
{
	struct link_step *s = link_plan_push(p, LINK_STEP_ANNOUNCE, ifname, 0);

	if (!s)
		return -ENOMEM;
	s->mac = *mac;
	s->addr = *a;
	return 0;
}

static bool ipv6_off(const struct convert_snapshot *s)
{
	return !strcmp(s->sysctl[CONVERT_SYSCTL_DISABLE_IPV6], "1");
}

static bool skipped(const struct convert_snapshot *s, int family)
{
	return family == AF_INET6 && ipv6_off(s);
}

/*
 * The flags an address is pre-added with. IPv6: no DAD (it is ours already), no prefix route (it
 * would compete with the port's); the finish gives back its own flags, which IPv6 takes on a
 * replace. IPv4 takes no flag on a replace, so it gets its own at once: its prefix route comes
 * after the port's in the kernel's list and takes over only when the port's goes.
 */
static uint32_t flags_preadd(const struct addr_info *a)
{
	if (a->prefix.family == AF_INET)
		return a->flags & ~ADDR4_FLAGS_DERIVED;
	/* Without MANAGETEMPADDR until the finish: the privacy address the kernel makes for it at
	 * once needs DAD, which a bridge without carrier (no port yet) fails, and after three
	 * failures the kernel turns privacy addresses off on the link (use_tempaddr -1). */
	return (a->flags & ADDR_FLAGS_SETTABLE & ~IFA_F_MANAGETEMPADDR) | IFA_F_NODAD | IFA_F_NOPREFIXROUTE;
}

static uint32_t flags_final(const struct addr_info *a)
{
	return a->prefix.family == AF_INET ? a->flags & ~ADDR4_FLAGS_DERIVED : a->flags & ADDR_FLAGS_SETTABLE;
}

/* The IPv4 subnet (or peer) route the kernel adds with a primary address (not a secondary)
 * without NOPREFIXROUTE: added anew on the other link with the address, so never moved. */
static bool route_made_by_kernel(const struct convert_snapshot *s, const struct route_info *rt)
{
	if (rt->dst.family != AF_INET || rt->protocol != RTPROT_KERNEL || rt->table != RT_TABLE_MAIN ||
	    rt->type != RTN_UNICAST || rt->gw_family || rt->prefsrc_family != AF_INET)
		return false;
	for (size_t i = 0; i < s->n_addrs; i++) {
		const struct addr_info *a = &s->addrs[i];
		struct ip_prefix subnet = a->prefix;

		if (a->prefix.family != AF_INET || (a->flags & (IFA_F_SECONDARY | IFA_F_NOPREFIXROUTE)) ||
		    (a->prefix.len == 32 && !a->peer_family))
			continue;
		if (a->peer_family)
			subnet.addr = a->peer;
		ip_prefix_mask(&subnet);
		if (ip_prefix_equal(&subnet, &rt->dst) &&
		    ip_addr_equal(AF_INET, &rt->prefsrc, &a->prefix.addr) && rt->priority == a->rt_priority)
			return true;
	}
	return false;
}

/*
 * A privacy address moves to the bridge as an ordinary one (the kernel refuses the flag),
 * deprecated so that new connections take the one the kernel makes on the bridge, valid as long
 * as the original was: the connections that use it carry on over the cut-over. The rollback
 * brings none back: the kernel makes new ones on the port, and copies would pile up.
 */
static int push_temporary_copy(struct link_plan *p, const char *to, const struct addr_info *a)
{
	struct addr_info c = *a;

	c.preferred_lft = 0;
	return push_addr(p, LINK_STEP_ADDR_ADD, to, &c, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
}

/* Pre-add on `to` every address of the snapshot that is not there yet. */
static int plan_preadd(struct link_plan *p, const struct convert_snapshot *s, const char *to,
		       const struct link_dump *now, int to_ifindex)
{
	bool forward = !now;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < s->n_addrs; i++) {
		const struct addr_info *a = &s->addrs[i];
		bool present = false;

		if (skipped(s, a->prefix.family) || (addr_is_temporary(a) && !forward))
			continue;
		if (addr_is_temporary(a)) {
			r = push_temporary_copy(p, to, a);
			continue;
		}
		for (size_t j = 0; now && j < now->n_addrs; j++)
			present |= now->addrs[j].ifindex == to_ifindex && now->addrs[j].prefix.family == a->prefix.family &&
				   ip_addr_equal(a->prefix.family, &now->addrs[j].prefix.addr, &a->prefix.addr);
		if (!present)
			r = push_addr(p, LINK_STEP_ADDR_ADD, to, a, flags_preadd(a));
	}
	return r;
}

static int plan_neighs(struct link_plan *p, const struct convert_snapshot *s, enum link_step_type type,
		       const char *on)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < s->n_neighs; i++)
		if (!skipped(s, s->neighs[i].family))
			r = push_neigh(p, type, on, &s->neighs[i]);
	return r;
}

/* The old addresses off, IPv4 secondaries first: deleting a primary takes its secondaries with it
 * (promote_secondaries=0) or turns one into the primary, and either way a later delete fails. The
 * same bit marks IPv6 privacy addresses, which go with the address they derive from. */
static int plan_addr_del(struct link_plan *p, const char *from, const struct addr_info *old, size_t n_old)
{
	int r = 0;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; r >= 0 && i < n_old; i++) {
			bool secondary = old[i].flags & (IFA_F_SECONDARY | IFA_F_TEMPORARY);

			struct addr_info a = old[i];

			a.label[0] = 0; /* a delete names the address alone */
			if (secondary == !pass)
				r = push_addr(p, LINK_STEP_ADDR_DEL, from, &a, a.flags);
		}
	return r;
}

/* A route replace of the plan has the key of `rt` (table, destination, metric): the kernel's
 * IPv6 replace takes the first route with that key, whatever its device, so `rt` has moved. */
static bool route_replaced(const struct link_plan *p, const struct route_info *rt)
{
	for (size_t i = 0; i < p->n_steps; i++)
		if (p->steps[i].type == LINK_STEP_ROUTE_REPLACE &&
		    route_info_same_key(&p->steps[i].route, rt))
			return true;
	return false;
}

/*
 * A rollback deletes the bridge's RA routes that did not move (their copies went one metric up):
 * the kernel's own on the bridge would win over the copies on the port and take the traffic to a
 * bridge without its port until the bridge goes down. (Forward, the port's serve through the
 * port, which sends by itself while enslaved, until disable_ipv6 takes them.)
 */
static int plan_ra_routes_del(struct link_plan *p, const struct convert_snapshot *s,
			      const struct link_dump *now, const char *from)
{
	const struct link_info *l = link_dump_find_name(now, from);

	if (!l || !strcmp(s->sysctl[CONVERT_SYSCTL_ACCEPT_RA], "0"))
		return 0;
	for (size_t i = 0; i < now->n_routes; i++) {
		const struct route_info *rt = &now->routes[i];
		struct link_step *st;

		if (rt->ifindex != l->ifindex || !route_is_ra(rt) || route_replaced(p, rt))
			continue;
		st = link_plan_push(p, LINK_STEP_ROUTE_DEL, from, 0);
		if (!st)
			return -ENOMEM;
		st->route = *rt;
		st->route.ifindex = 0;
	}
	return 0;
}

/* The burst: attach or release the port, every route to `to`, the old addresses and static
 * neighbours (forward: the port's) off. `now`: the links as they are (a rollback), else NULL. */
static int plan_burst(struct link_plan *p, const struct convert_snapshot *s, bool attach, const char *to,
		      const struct link_dump *now, const struct addr_info *old, size_t n_old,
		      const char *from)
{
	const struct link_info *to_link = now ? link_dump_find_name(now, to) : NULL;
	int to_ifindex = to_link ? to_link->ifindex : 0;
	struct link_step *st;
	int r;

	r = push_simple(p, LINK_STEP_BURST_BEGIN, "");
	if (r < 0)
		return r;
	if (attach) {
		st = link_plan_push(p, LINK_STEP_PORT_ATTACH, s->port, 0);
		if (!st)
			return -ENOMEM;
		snprintf(st->master, sizeof(st->master), "%s", s->bridge);
	}
	/* Routes on the link first: a gateway is only valid once its subnet is reachable. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; r >= 0 && i < s->n_routes; i++) {
			const struct route_info *rt = &s->routes[i];

			if (!skipped(s, rt->dst.family) && !!rt->gw_family == pass &&
			    !route_made_by_kernel(s, rt))
				r = push_route_moved(p, s, to, now, to_ifindex, rt);
		}
	/*
	 * Released after the routes moved: a port sends by itself while still enslaved, but a bridge
	 * without its port drops what is routed to it, and the release waits for an RCU grace period
	 * (milliseconds) before the routes would follow. Frames it receives meanwhile still reach the
	 * bridge, which keeps the addresses until the end of the burst.
	 */
	if (r >= 0 && now && from[0])
		r = plan_ra_routes_del(p, s, now, from);
	if (r >= 0 && !attach)
		r = push_simple(p, LINK_STEP_PORT_RELEASE, s->port);
	/* Before the addresses: the last IPv4 address takes the link's neighbours with it. */
	if (r >= 0 && attach)
		r = plan_neighs(p, s, LINK_STEP_NEIGH_DEL, from);
	if (r >= 0)
		r = plan_addr_del(p, from, old, n_old);
	if (r >= 0)
		r = push_simple(p, LINK_STEP_BURST_END, "");
	return r;
}

/* IPv6 applies flags on replace: give back the prefix route, DAD, the management of privacy
 * addresses (the kernel makes them now) and the original flags. */
static int plan_restore_flags(struct link_plan *p, const struct convert_snapshot *s, const char *on)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < s->n_addrs; i++) {
		const struct addr_info *a = &s->addrs[i];

		if (a->prefix.family == AF_INET6 && !ipv6_off(s) && !addr_is_temporary(a) &&
		    flags_final(a) != flags_preadd(a))
			r = push_addr(p, LINK_STEP_ADDR_REPLACE, on, a, flags_final(a));
	}
	return r;
}

static int plan_announce(struct link_plan *p, const struct convert_snapshot *s, const char *on)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < s->n_addrs; i++)
		if (!skipped(s, s->addrs[i].prefix.family) && !addr_is_temporary(&s->addrs[i]))
			r = push_announce(p, on, &s->mac, &s->addrs[i]);
	return r;
}

/* The bridge gets the port's sysctls before its first address: the kernel reads them then
 * (addr_gen_mode and stable_secret for its link-local address, use_tempaddr for privacy ones). */
static int plan_prepare_bridge(struct link_plan *p, const struct convert_snapshot *s)
{
	struct link_step *st = link_plan_push(p, LINK_STEP_BRIDGE_ADD, s->bridge, 0);
	int r;

	if (!st)
		return -ENOMEM;
	st->mac = s->mac;
	st->mtu = s->mtu;
	snprintf(st->alias, sizeof(st->alias), CONVERT_ALIAS_PREFIX "%s", s->port);
	r = push_sysctl(p, s->bridge, CONVERT_SYSCTL_DISABLE_IPV6, s->sysctl[CONVERT_SYSCTL_DISABLE_IPV6]);
	for (int i = _CONVERT_SYSCTL_NAMED; r >= 0 && i < _CONVERT_SYSCTL_MAX && convert_sysctl_table[i].key;
	     i++)
		if (!skipped(s, convert_sysctl_table[i].family))
			r = push_sysctl(p, s->bridge, i, s->sysctl[i]);
	if (r >= 0)
		r = push_sysctl(p, s->bridge, CONVERT_SYSCTL_ACCEPT_RA, s->sysctl[CONVERT_SYSCTL_ACCEPT_RA]);
	if (r >= 0)
		r = push_sysctl(p, s->bridge, CONVERT_SYSCTL_AUTOCONF, s->sysctl[CONVERT_SYSCTL_AUTOCONF]);
	if (r >= 0)
		r = push_sysctl(p, s->bridge, CONVERT_SYSCTL_RP_FILTER, RP_FILTER_LOOSE);
	if (r >= 0)
		r = push_simple(p, LINK_STEP_LINK_UP, s->bridge);
	return r;
}

int convert_plan_forward(const struct convert_snapshot *s, struct link_plan *ret)
{
	struct link_plan p = { .on_failure = LINK_PLAN_STOP, .phase_names = convert_phase_table };
	int r;

	r = plan_prepare_bridge(&p, s);
	if (r >= 0)
		r = plan_preadd(&p, s, s->bridge, NULL, 0);
	if (r >= 0)
		r = plan_neighs(&p, s, LINK_STEP_NEIGH_REPLACE, s->bridge);
	p.phase = CONVERT_PHASE_CUTOVER;
	if (r >= 0)
		r = plan_burst(&p, s, true, s->bridge, NULL, s->addrs, s->n_addrs, s->port);
	if (r >= 0 && !ipv6_off(s))
		r = push_sysctl(&p, s->port, CONVERT_SYSCTL_DISABLE_IPV6, "1");
	p.phase = CONVERT_PHASE_FINISH;
	if (r >= 0)
		r = plan_restore_flags(&p, s, s->bridge);
	if (r >= 0)
		r = push_sysctl(&p, s->bridge, CONVERT_SYSCTL_RP_FILTER, s->sysctl[CONVERT_SYSCTL_RP_FILTER]);
	if (r >= 0)
		r = plan_announce(&p, s, s->bridge);
	if (r < 0) {
		link_plan_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

/* Addresses the bridge holds now: they all go (the bridge is deleted at the end anyway); its
 * privacy addresses go with the addresses they derive from. */
static size_t bridge_addrs(const struct link_dump *now, int bridge, struct addr_info *out)
{
	size_t n = 0;

	for (size_t i = 0; bridge && i < now->n_addrs; i++)
		if (now->addrs[i].ifindex == bridge && !addr_is_temporary(&now->addrs[i]))
			out[n++] = now->addrs[i];
	return n;
}

int convert_plan_rollback(const struct convert_snapshot *s, const struct link_dump *now,
			  struct link_plan *ret)
{
	const struct link_info *port = link_dump_find_name(now, s->port), *br = link_dump_find_name(now, s->bridge);
	_cleanup_free_ struct addr_info *old = calloc(now->n_addrs + 1, sizeof(*old));
	struct link_plan p = { .on_failure = LINK_PLAN_BEST_EFFORT, .phase_names = convert_phase_table };
	size_t n_old;
	int r;

	if (!old)
		return -ENOMEM;
	/* Only a bridge this conversion made is touched. */
	if (br && (strncmp(br->alias, CONVERT_ALIAS_PREFIX, strlen(CONVERT_ALIAS_PREFIX)) ||
		   strcmp(br->alias + strlen(CONVERT_ALIAS_PREFIX), s->port)))
		br = NULL;
	n_old = bridge_addrs(now, br ? br->ifindex : 0, old);
	r = push_sysctl(&p, s->port, CONVERT_SYSCTL_DISABLE_IPV6, s->sysctl[CONVERT_SYSCTL_DISABLE_IPV6]);
	/* As forward: a frame the port receives before its routes are back must pass a strict
	 * reverse-path check (the finish restores the snapshot's value). */
	if (r >= 0)
		r = push_sysctl(&p, s->port, CONVERT_SYSCTL_RP_FILTER, RP_FILTER_LOOSE);
	/* The bridge receives for the port until the release, with the routes already on the port. */
	if (r >= 0 && br)
		r = push_sysctl(&p, s->bridge, CONVERT_SYSCTL_RP_FILTER, RP_FILTER_LOOSE);
	if (r >= 0)
		r = plan_preadd(&p, s, s->port, now, port ? port->ifindex : 0);
	/* Replaced whether or not they are there still: the same entry again changes nothing. */
	if (r >= 0)
		r = plan_neighs(&p, s, LINK_STEP_NEIGH_REPLACE, s->port);
	p.phase = CONVERT_PHASE_CUTOVER;
	if (r >= 0)
		r = plan_burst(&p, s, false, s->port, now, old, n_old, br ? s->bridge : "");
	/* Down at once, which takes every route still through it (one a DHCP client added late, the
	 * subnet route an older netd moved there as a route): the port's own serve from now on. */
	if (r >= 0 && br)
		r = push_simple(&p, LINK_STEP_LINK_DOWN, s->bridge);
	p.phase = CONVERT_PHASE_FINISH;
	if (r >= 0)
		r = plan_restore_flags(&p, s, s->port);
	for (int i = CONVERT_SYSCTL_ACCEPT_RA; r >= 0 && i < _CONVERT_SYSCTL_NAMED; i++)
		r = push_sysctl(&p, s->port, i, s->sysctl[i]);
	if (r >= 0)
		r = plan_announce(&p, s, s->port);
	if (r >= 0 && br)
		r = push_simple(&p, LINK_STEP_LINK_DEL, s->bridge);
	if (r < 0) {
		link_plan_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

/* ---- apply ---- */

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

struct phase_clock {
	convert_phase_fn on_phase;
	void *userdata;
	bool running;
	uint64_t start, usec;
};

static void clock_stop(struct phase_clock *c)
{
	if (c->running)
		c->usec = now_usec() - c->start;
	c->running = false;
}

/* Times the cut-over: from before its phase call to before the next phase's, or the end. */
static int clock_phase(unsigned phase, void *userdata)
{
	struct phase_clock *c = userdata;

	clock_stop(c);
	if (phase == CONVERT_PHASE_CUTOVER) {
		c->running = true;
		c->start = now_usec();
	}
	return c->on_phase ? c->on_phase(phase, c->userdata) : 0;
}

int convert_apply(const struct link_plan *p, struct link_backend *b, convert_phase_fn on_phase,
		  void *userdata, uint64_t *ret_cutover_usec, char *err, size_t errlen)
{
	struct phase_clock c = { .on_phase = on_phase, .userdata = userdata };
	int r = link_plan_apply(p, b, clock_phase, &c, err, errlen);

	clock_stop(&c);
	if (ret_cutover_usec)
		*ret_cutover_usec = c.usec;
	return r;
}
