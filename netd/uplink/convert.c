/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The uplink conversion planner (pure): a snapshot becomes a link plan (steps.h) and its rollback. */
#include "convert.h"

#include <errno.h>
#include <stdarg.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "names.h"

/* Flags an address can be given; the others (secondary, permanent, tentative...) are state. */
#define ADDR_FLAGS_SETTABLE                                                                      \
	(IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE | IFA_F_OPTIMISTIC)
#define ADDR_FLAGS_SKIP (IFA_F_TENTATIVE | IFA_F_DADFAILED)
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
};

const struct convert_sysctl_def *convert_sysctl_get(enum convert_sysctl s)
{
	return s < _CONVERT_SYSCTL_MAX ? &convert_sysctl_table[s] : NULL;
}

void convert_snapshot_free(struct convert_snapshot *s)
{
	if (!s)
		return;
	free(s->addrs);
	free(s->routes);
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

static int snapshot_objects(const struct link_dump *dump, int port, struct convert_snapshot *s)
{
	s->addrs = calloc(dump->n_addrs + 1, sizeof(*s->addrs));
	s->routes = calloc(dump->n_routes + 1, sizeof(*s->routes));
	if (!s->addrs || !s->routes)
		return -ENOMEM;
	for (size_t i = 0; i < dump->n_addrs; i++) {
		const struct addr_info *a = &dump->addrs[i];

		if (a->ifindex != port || (a->flags & ADDR_FLAGS_SKIP))
			continue;
		s->addrs[s->n_addrs] = *a;
		s->addrs[s->n_addrs++].ifindex = 0;
	}
	for (size_t i = 0; i < dump->n_routes; i++) {
		if (!route_moves(&dump->routes[i], port))
			continue;
		s->routes[s->n_routes] = dump->routes[i];
		s->routes[s->n_routes++].ifindex = 0;
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
	r = snapshot_objects(dump, l->ifindex, &s);
	if (r < 0) {
		convert_snapshot_free(&s);
		return refuse(err, errlen, r, "cannot take a snapshot of '%s': %s", port, strerror(-r));
	}
	*ret = s;
	return 0;
}

int convert_snapshot_read_sysctls(struct convert_snapshot *s, struct link_backend *b)
{
	for (int i = 0; i < _CONVERT_SYSCTL_MAX; i++) {
		int r = b->ops->sysctl_get(b->userdata, convert_sysctl_table[i].family, s->port, convert_sysctl_table[i].key,
					   s->sysctl[i], sizeof(s->sysctl[i]));
		if (r < 0)
			return r;
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
	r = snapshot_objects(now, br->ifindex, &fresh);
	if (r < 0) {
		convert_snapshot_free(&fresh);
		return r;
	}
	free(s->addrs);
	free(s->routes);
	s->addrs = fresh.addrs;
	s->n_addrs = fresh.n_addrs;
	s->routes = fresh.routes;
	s->n_routes = fresh.n_routes;
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

char *convert_snapshot_format(const struct convert_snapshot *s)
{
	char *text = NULL, m[MAC_STRLEN], p[IP_PREFIX_STRLEN];
	size_t len = 0;
	int r;

	r = append(&text, &len, "port %s\nbridge %s\nmac %s\nmtu %u\n", s->port, s->bridge,
		   mac_format(&s->mac, m, sizeof(m)), s->mtu);
	for (int i = 0; r >= 0 && i < _CONVERT_SYSCTL_MAX; i++)
		r = append(&text, &len, "sysctl %s %s\n", convert_sysctl_table[i].key, s->sysctl[i][0] ? s->sysctl[i] : "-");
	for (size_t i = 0; r >= 0 && i < s->n_addrs; i++) {
		const struct addr_info *a = &s->addrs[i];
		r = append(&text, &len, "addr %s %u %u %u %u\n", ip_prefix_format(&a->prefix, p, sizeof(p)), a->scope,
			   a->flags, a->valid_lft, a->preferred_lft);
	}
	for (size_t i = 0; r >= 0 && i < s->n_routes; i++)
		r = format_route(&text, &len, &s->routes[i]);
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

static int parse_addr(const char *line, struct addr_info *a)
{
	char p[64];
	unsigned scope;

	*a = (struct addr_info){};
	if (sscanf(line, "addr %63s %u %u %u %u", p, &scope, &a->flags, &a->valid_lft, &a->preferred_lft) != 5)
		return -EINVAL;
	a->scope = scope;
	return ip_prefix_parse(p, &a->prefix);
}

static int parse_sysctl(const char *line, struct convert_snapshot *s)
{
	char key[32], value[16];

	if (sscanf(line, "sysctl %31s %15s", key, value) != 2)
		return -EINVAL;
	for (int i = 0; i < _CONVERT_SYSCTL_MAX; i++)
		if (!strcmp(key, convert_sysctl_table[i].key)) {
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
	if (!s.addrs || !s.routes)
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

static int push_sysctl(struct link_plan *p, const char *ifname, enum convert_sysctl which, const char *value)
{
	struct link_step *s;

	if (!value || !value[0])
		return 0; /* not known (a kernel without IPv6, say): leave it */
	s = link_plan_push(p, LINK_STEP_SYSCTL_SET, ifname, 0);
	if (!s)
		return -ENOMEM;
	s->family = convert_sysctl_table[which].family;
	snprintf(s->key, sizeof(s->key), "%s", convert_sysctl_table[which].key);
	snprintf(s->value, sizeof(s->value), "%s", value);
	return 0;
}

/* Addresses keep their flags, scope and lifetimes: the conversion moves them as they are. */
static int push_addr(struct link_plan *p, enum link_step_type type, const char *ifname,
		     const struct addr_info *a, uint32_t flags)
{
	struct link_step *s = link_plan_push(p, type, ifname, 0);

	if (!s)
		return -ENOMEM;
	s->addr = *a;
	s->addr.flags = flags;
	s->full = true;
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

/* Pre-add on `to` every address of the snapshot: no DAD (it is ours already), no prefix route. */
static int plan_preadd(struct link_plan *p, const struct convert_snapshot *s, const char *to,
		       const struct link_dump *now, int to_ifindex)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < s->n_addrs; i++) {
		const struct addr_info *a = &s->addrs[i];
		bool present = false;

		if (a->prefix.family == AF_INET6 && ipv6_off(s))
			continue;
		for (size_t j = 0; now && j < now->n_addrs; j++)
			present |= now->addrs[j].ifindex == to_ifindex && now->addrs[j].prefix.family == a->prefix.family &&
				   ip_addr_equal(a->prefix.family, &now->addrs[j].prefix.addr, &a->prefix.addr);
		if (!present)
			r = push_addr(p, LINK_STEP_ADDR_ADD, to, a,
				      (a->flags & ADDR_FLAGS_SETTABLE) | IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
	}
	return r;
}

/* The burst: attach or release the port, every route to `to`, the old addresses off. */
static int plan_burst(struct link_plan *p, const struct convert_snapshot *s, bool attach, const char *to,
		      const struct addr_info *old, size_t n_old, const char *from)
{
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
		for (size_t i = 0; r >= 0 && i < s->n_routes; i++)
			if (!(s->routes[i].dst.family == AF_INET6 && ipv6_off(s)) && !!s->routes[i].gw_family == pass)
				r = push_route(p, to, &s->routes[i]);
	/*
	 * Released after the routes moved: a port sends by itself while still enslaved, but a bridge
	 * without its port drops what is routed to it, and the release waits for an RCU grace period
	 * (milliseconds) before the routes would follow. Frames it receives meanwhile still reach the
	 * bridge, which keeps the addresses until the end of the burst.
	 */
	if (r >= 0 && !attach)
		r = push_simple(p, LINK_STEP_PORT_RELEASE, s->port);
	for (size_t i = 0; r >= 0 && i < n_old; i++)
		r = push_addr(p, LINK_STEP_ADDR_DEL, from, &old[i], old[i].flags);
	if (r >= 0)
		r = push_simple(p, LINK_STEP_BURST_END, "");
	return r;
}

/* IPv6 applies flags on replace: give back the prefix route and the original flags. */
static int plan_restore_flags(struct link_plan *p, const struct convert_snapshot *s, const char *on)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < s->n_addrs; i++) {
		const struct addr_info *a = &s->addrs[i];

		if (a->prefix.family == AF_INET6 && !ipv6_off(s) && !(a->flags & IFA_F_NOPREFIXROUTE))
			r = push_addr(p, LINK_STEP_ADDR_REPLACE, on, a, a->flags & ADDR_FLAGS_SETTABLE);
	}
	return r;
}

static int plan_announce(struct link_plan *p, const struct convert_snapshot *s, const char *on)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < s->n_addrs; i++)
		if (!(s->addrs[i].prefix.family == AF_INET6 && ipv6_off(s)))
			r = push_announce(p, on, &s->mac, &s->addrs[i]);
	return r;
}

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
	p.phase = CONVERT_PHASE_CUTOVER;
	if (r >= 0)
		r = plan_burst(&p, s, true, s->bridge, s->addrs, s->n_addrs, s->port);
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

/* Addresses the bridge holds now: they all go (the bridge is deleted at the end anyway). */
static size_t bridge_addrs(const struct link_dump *now, int bridge, struct addr_info *out)
{
	size_t n = 0;

	for (size_t i = 0; bridge && i < now->n_addrs; i++)
		if (now->addrs[i].ifindex == bridge)
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
	p.phase = CONVERT_PHASE_CUTOVER;
	if (r >= 0)
		r = plan_burst(&p, s, false, s->port, old, n_old, br ? s->bridge : "");
	p.phase = CONVERT_PHASE_FINISH;
	if (r >= 0)
		r = plan_restore_flags(&p, s, s->port);
	for (int i = CONVERT_SYSCTL_ACCEPT_RA; r >= 0 && i < _CONVERT_SYSCTL_MAX; i++)
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
