/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 'netdctl doctor [NETWORK | --guest NAME]' (the method network.doctor): why a guest has no lease, no
 * DNS or no Internet, step by step, each step {name, status ok|fail|warn|skip, detail, fix} with a fix
 * an operator can paste. Read-only: it changes nothing of the network; its one action is the probe
 * (hostprobe.h: a scratch port in a namespace of its own, a DHCPDISCOVER that takes no lease, a DNS
 * query), which takes no parameter but the network's name, and runs one at a time.
 *
 * The steps of a network, in order:
 *   1. each guest NIC's TAP (with --guest): exists, a port of the bridge, up;
 *   2. the bridge: exists, up, carrier, its gateway (and gateway6);
 *   3. dnsmasq: running, bound (UDP 67, 547 with DHCPv6, 53 on the gateway); the DHCP and DNS probe;
 *   4. reachability through the firewall (step_reach: nat/reach.c's judgement of the other tables,
 *      the iptables-legacy tables, netd's own rules applied);
 *   5. forwarding sysctls, rp_filter on the bridge;
 *   6. the default route (with --uplink: through that link, which is up);
 *   7. the conntrack table's fill;
 *   8. the bridge's MTU against the uplink's;
 *   9. conflicting routes and addresses (network_check_conflicts, as the conflict watch);
 *  10. the features' own steps (net.h feature doctor(): a mode evpn network's VXLAN device and
 *      underlay, its BGP sessions and the other hosts that carry its VNI).
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "macro.h"
#include "hostprobe.h"
#include "protocol.h"
#include "server.h"
#include "vm.h"

extern const struct feature feature_doctor; /* this file's, at its end */
extern const struct feature feature_firewall;

/* netd kills a probe that has not ended by then. It ends itself PROBE_TIMEOUT_MS after its own
 * start, which a loaded machine delays: 500 ms of margin was missed (the probe killed, its "no
 * answer" lost), 2 s is not. */
#define DOCTOR_PROBE_KILL_USEC ((PROBE_TIMEOUT_MS + 2000) * 1000ull)
#define DOCTOR_NETS_MAX 8 /* a guest's networks */
#define DOCTOR_TEXT_MAX 512

struct doctor {
	struct doctor_call *probing; /* the one call whose probe runs */
};

/* One doctor request: its networks (one, or the guest's), worked through one after the other. */
struct doctor_call {
	struct daemon *d;
	struct call *call;
	char guest[NAME_MAX_LEN + 1];
	char nets[DOCTOR_NETS_MAX][NAME_MAX_LEN + 1];
	size_t n_nets, at;
	json_object *steps;
	bool failed;
	int probe_fd;
	sd_event_source *probe_io, *probe_timer;
	struct link_dump dump; /* of the network at hand: links, addresses, routes */
};

#define DOCTOR(d) ((struct doctor *)*daemon_feature_state((d), &feature_doctor))

static void doctor_next(struct doctor_call *dc);

static void step(struct doctor_call *dc, const char *net, const char *name, const char *status,
		 const char *fix, const char *fmt, ...) _printf_(6, 7);
static void step(struct doctor_call *dc, const char *net, const char *name, const char *status,
		 const char *fix, const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	char detail[DOCTOR_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "network", json_object_new_string(net));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	json_object_object_add(
		o, "fix",
		fix && strcmp(status, "ok") && strcmp(status, "skip") ? json_object_new_string(fix) : NULL);
	json_object_array_add(dc->steps, o);
	if (!strcmp(status, "fail"))
		dc->failed = true;
}

static const char *fixf(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
static const char *fixf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}

static const char *addr_str(int family, const union in_addr_union *a, char *buf, size_t size)
{
	return ip_addr_format(family, a, buf, size);
}

static bool link_has_addr(const struct link_dump *dump, int ifindex, int family, const union in_addr_union *a)
{
	for (size_t i = 0; i < dump->n_addrs; i++)
		if (dump->addrs[i].ifindex == ifindex && dump->addrs[i].prefix.family == family &&
		    ip_addr_equal(family, &dump->addrs[i].prefix.addr, a))
			return true;
	return false;
}

/* 1. A guest NIC's TAP. */
static void step_tap(struct doctor_call *dc, const struct network *n, const struct link_info *br,
		     const char *guest, unsigned nic, const char *tap)
{
	const struct link_info *l = tap[0] ? link_dump_find_name(&dc->dump, tap) : NULL;
	char name[64], fix[DOCTOR_TEXT_MAX];

	snprintf(name, sizeof(name), "tap (nic %u)", nic);
	if (!l) {
		step(dc, n->name, name, "fail",
		     fixf(fix, sizeof(fix), "netdctl vm destroy %s && netdctl vm start %s", guest, guest),
		     "guest '%s' NIC %u: its TAP %s does not exist", guest, nic, tap[0] ? tap : "(none)");
		return;
	}
	if (!br || l->master != br->ifindex) {
		step(dc, n->name, name, "fail",
		     fixf(fix, sizeof(fix), "ip link set %s master %s up", tap, n->bridge),
		     "TAP %s of guest '%s' is not a port of bridge %s (%s)", tap, guest, n->bridge,
		     l->master ? link_dump_ifname(&dc->dump, l->master) : "no bridge");
		return;
	}
	if (!l->up) {
		step(dc, n->name, name, "fail", fixf(fix, sizeof(fix), "ip link set %s up", tap),
		     "TAP %s of guest '%s' is down", tap, guest);
		return;
	}
	step(dc, n->name, name, "ok", NULL, "TAP %s of guest '%s' is up, a port of %s%s", tap, guest,
	     n->bridge, l->running ? "" : " (no carrier: QEMU does not hold it open)");
}

/* 2. The bridge and its gateway addresses. Returns the bridge when it exists. */
static const struct link_info *step_bridge(struct doctor_call *dc, struct net *net)
{
	const struct network *n = net->def;
	const struct link_info *br = link_dump_find_name(&dc->dump, n->bridge);
	char fix[DOCTOR_TEXT_MAX], a[INET6_ADDRSTRLEN], p[64];
	struct ip_prefix gw;

	if (!br) {
		if (n->mode->owns_bridge)
			fixf(fix, sizeof(fix), "netdctl network stop %s && netdctl network start %s", n->name,
			     n->name);
		else
			fixf(fix, sizeof(fix), "create bridge %s again (netd does not own it)", n->bridge);
		step(dc, n->name, "bridge", "fail", fix, "bridge %s does not exist", n->bridge);
		return NULL;
	}
	if (!br->up) {
		step(dc, n->name, "bridge", "fail", fixf(fix, sizeof(fix), "ip link set %s up", n->bridge),
		     "bridge %s is down", n->bridge);
		return br;
	}
	/* Every IPv4 subnet's gateway (--subnet's, each --address). */
	struct ip_prefix gws[NETWORK_SUBNETS4_MAX];
	size_t n_gws = n->mode->owns_bridge ? network_gateways4(n, gws) : 0;

	for (size_t i = 0; i < n_gws; i++) {
		if (link_has_addr(&dc->dump, br->ifindex, AF_INET, &gws[i].addr))
			continue;
		step(dc, n->name, "bridge", "fail",
		     fixf(fix, sizeof(fix), "ip addr add %s dev %s", ip_prefix_format(&gws[i], p, sizeof(p)),
			  n->bridge),
		     "bridge %s lacks its gateway address %s", n->bridge,
		     addr_str(AF_INET, &gws[i].addr, a, sizeof(a)));
		return br;
	}
	if (n->mode->owns_bridge && n->subnet6.family &&
	    !link_has_addr(&dc->dump, br->ifindex, AF_INET6, &n->gateway6)) {
		network_gateway6_prefix(n, &gw);
		step(dc, n->name, "bridge", "fail",
		     fixf(fix, sizeof(fix), "ip addr add %s dev %s nodad",
			  ip_prefix_format(&gw, p, sizeof(p)), n->bridge),
		     "bridge %s lacks its IPv6 gateway address %s", n->bridge,
		     addr_str(AF_INET6, &n->gateway6, a, sizeof(a)));
		return br;
	}
	if (!br->running) {
		/* No port with carrier: nothing to talk to yet; a guest that starts brings it. */
		step(dc, n->name, "bridge", net->n_users ? "fail" : "warn",
		     net->n_users ? "check the guests' TAPs above (each must be up, a port of the bridge)" :
				    "start a guest on the network (netdctl vm start NAME)",
		     "bridge %s is up but has no carrier (no port is up)", n->bridge);
		return br;
	}
	step(dc, n->name, "bridge", "ok", NULL, "bridge %s is up, has carrier%s%s%s", n->bridge,
	     n->subnet.family ? ", and its gateway " : "",
	     n->subnet.family ? addr_str(AF_INET, &n->gateway, a, sizeof(a)) : "",
	     n->n_addresses ? " (and those of its other subnets)" : "");
	return br;
}

static bool bound(const struct probe_udp *s, size_t n, int family, const union in_addr_union *a,
		  uint16_t port)
{
	union in_addr_union any = {};

	for (size_t i = 0; i < n; i++) {
		if (s[i].port != port)
			continue;
		/* An IPv6 socket bound to :: takes IPv4 too unless v6only (dnsmasq's are not). */
		if (s[i].family == family &&
		    (!a || ip_addr_equal(family, &s[i].addr, a) || ip_addr_equal(family, &s[i].addr, &any)))
			return true;
		if (s[i].family == AF_INET6 && family == AF_INET && ip_addr_equal(AF_INET6, &s[i].addr, &any))
			return true;
	}
	return false;
}

/* 3a. dnsmasq runs and holds its sockets. Returns whether it runs. */
static bool step_dnsmasq(struct doctor_call *dc, const struct network *n)
{
	struct daemon *d = dc->d;
	struct dhcp_server *srv = daemon_dhcp_find(d, n->name);
	_cleanup_free_ struct probe_udp *socks = NULL;
	char fix[DOCTOR_TEXT_MAX], missing[256] = "", a[INET6_ADDRSTRLEN];
	size_t n_socks = 0, len = 0;
	int r;

	if (!network_wants_dnsmasq(n)) {
		step(dc, n->name, "dnsmasq", "skip", NULL, "the network serves neither DHCP nor DNS");
		return false;
	}
	fixf(fix, sizeof(fix), "netdctl network stop %s && netdctl network start %s", n->name, n->name);
	if (!srv || srv->state != DHCP_SERVER_RUNNING || srv->pid <= 0) {
		step(dc, n->name, "dnsmasq", "fail", fix,
		     "dnsmasq of network '%s' is not running (%s)%s%s; netd's log says why", n->name,
		     srv ? dhcp_server_state_to_string(srv->state) : "none",
		     srv && srv->last_exit[0] ? ": " : "", srv ? srv->last_exit : "");
		return false;
	}
	r = d->probe.ops ? d->probe.ops->udp_sockets(d->probe.userdata, srv->pid, &socks, &n_socks) :
			   -EOPNOTSUPP;
	if (r == -ENOENT || r == -ESRCH) {
		step(dc, n->name, "dnsmasq", "fail", fix, "dnsmasq (pid %d) is gone", (int)srv->pid);
		return false;
	}
	if (r < 0) {
		step(dc, n->name, "dnsmasq", "warn", NULL,
		     "dnsmasq runs (pid %d); its sockets cannot be read: %s", (int)srv->pid, strerror(-r));
		return true;
	}
#define MISSING(...)                                                                                \
	do {                                                                                        \
		if (len < sizeof(missing))                                                          \
			len += (size_t)snprintf(missing + len, sizeof(missing) - len, __VA_ARGS__); \
	} while (0)
	if (n->dhcp.dhcp && n->subnet.family && !bound(socks, n_socks, AF_INET, NULL, 67))
		MISSING("%sUDP 67 (DHCP)", len ? ", " : "");
	if (n->dhcp.dhcp && n->subnet6.family && n->ipv6_mode != IPV6_MODE_SLAAC &&
	    !bound(socks, n_socks, AF_INET6, NULL, 547))
		MISSING("%sUDP 547 (DHCPv6)", len ? ", " : "");
	struct ip_prefix gws[NETWORK_SUBNETS4_MAX];
	size_t n_gws = network_gateways4(n, gws);

	for (size_t i = 0; n->dhcp.dns && i < n_gws; i++)
		if (!bound(socks, n_socks, AF_INET, &gws[i].addr, 53))
			MISSING("%sUDP %s:53 (DNS)", len ? ", " : "",
				addr_str(AF_INET, &gws[i].addr, a, sizeof(a)));
	if (n->dhcp.dns && n->subnet6.family && !bound(socks, n_socks, AF_INET6, &n->gateway6, 53))
		MISSING("%sUDP [%s]:53 (DNS)", len ? ", " : "",
			addr_str(AF_INET6, &n->gateway6, a, sizeof(a)));
#undef MISSING
	if (len) {
		/* bind-interfaces: dnsmasq binds the bridge's addresses at its start only. */
		step(dc, n->name, "dnsmasq", "fail",
		     fixf(fix, sizeof(fix), "netdctl network stop %s && netdctl network start %s", n->name,
			  n->name),
		     "dnsmasq (pid %d) runs but is not bound to %s (it binds the bridge's addresses at its start: "
		     "were they added later?)",
		     (int)srv->pid, missing);
		return true;
	}
	step(dc, n->name, "dnsmasq", "ok", NULL, "dnsmasq runs (pid %d) and is bound to its ports",
	     (int)srv->pid);
	return true;
}

static void probe_stop(struct doctor_call *dc)
{
	dc->probe_io = sd_event_source_disable_unref(dc->probe_io);
	dc->probe_timer = sd_event_source_disable_unref(dc->probe_timer);
	if (DOCTOR(dc->d) && DOCTOR(dc->d)->probing == dc)
		DOCTOR(dc->d)->probing = NULL;
}

/* 3b. What the probe found. */
static void probe_steps(struct doctor_call *dc, const struct network *n, const struct probe_result *res)
{
	char fix[DOCTOR_TEXT_MAX], a[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN];

	fixf(fix, sizeof(fix), "netdctl network stop %s && netdctl network start %s", n->name, n->name);
	switch (res->dhcp) {
	case PROBE_ANSWERED:
		step(dc, n->name, "dhcp probe", "ok", NULL,
		     "DHCPDISCOVER from a scratch port: offered %s by %s in %u ms",
		     addr_str(AF_INET, (const union in_addr_union *)&res->offered, a, sizeof(a)),
		     addr_str(AF_INET, (const union in_addr_union *)&res->server, s, sizeof(s)),
		     res->dhcp_ms);
		break;
	case PROBE_NO_ANSWER:
		step(dc, n->name, "dhcp probe", "fail", fix,
		     "DHCPDISCOVER from a scratch port on %s: no DHCPOFFER within %u ms (dnsmasq wedged? if the "
		     "firewall step fails, fix that first)",
		     n->bridge, res->dhcp_ms);
		break;
	case PROBE_FAILED:
		step(dc, n->name, "dhcp probe", "warn", NULL, "the DHCP probe could not run: %s", res->error);
		return;
	default:
		if (n->dhcp.dhcp && n->subnet.family)
			step(dc, n->name, "dhcp probe", "skip", NULL, "not run: %s",
			     res->error[0] ? res->error : "no bridge");
	}
	if (!n->dhcp.dns || !n->subnet.family)
		return;
	switch (res->dns) {
	case PROBE_ANSWERED:
		step(dc, n->name, "dns probe", "ok", NULL,
		     "the gateway answered a DNS query (rcode %d) in %u ms", res->dns_rcode, res->dns_ms);
		break;
	case PROBE_NO_ANSWER:
		step(dc, n->name, "dns probe", "fail", fix, "a DNS query to %s:53 from %s: %s",
		     addr_str(AF_INET, &n->gateway, a, sizeof(a)),
		     addr_str(AF_INET, (const union in_addr_union *)&res->offered, s, sizeof(s)),
		     res->error[0] ? res->error : "no answer");
		break;
	case PROBE_FAILED:
		step(dc, n->name, "dns probe", "warn", NULL, "the DNS probe could not run: %s", res->error);
		break;
	default:
		step(dc, n->name, "dns probe", "skip", NULL,
		     "not run: the DNS probe asks from an offered address");
	}
}

static bool route_is_default(const struct route_info *rt, int family)
{
	return rt->dst.family == family && rt->dst.len == 0 && rt->table == RT_TABLE_MAIN &&
	       rt->type == RTN_UNICAST;
}

/* 4. Input and forward reachability through every table's rules: netd's own applied (the
 * firewall's problem), then the first rule or policy of another table that drops the guests'
 * traffic (forwarding both ways; DHCP, DNS, ND and DHCPv6 to the gateway), by the evaluator of
 * nat/reach.c, with the way to let it through in that firewall's own place. */
static void step_reach(struct doctor_call *dc, struct net *net)
{
	struct daemon *d = dc->d;
	const struct network *n = net->def;
	struct net_view v = { .dump = &dc->dump, .full = true };
	char buf[DOCTOR_TEXT_MAX], problem[DOCTOR_TEXT_MAX], advice[DOCTOR_TEXT_MAX];
	const char *own;
	int r;

	if (!n->mode->has_subnet) {
		step(dc, n->name, "firewall", "skip", NULL, "netd does not filter a mode %s network",
		     n->mode->name);
		return;
	}
	/* first: it lists the other tables again if they changed, which the problem below reflects */
	r = daemon_reach_network(d, net, problem, sizeof(problem), advice, sizeof(advice));
	own = feature_firewall.problem(d, net, &v, buf, sizeof(buf));
	if (r > 0) {
		step(dc, n->name, "firewall", "fail", advice, "%s", problem);
		return;
	}
	/* iptables-legacy tables send no notification: looked at afresh */
	daemon_fwint_legacy_judge(d);
	if (daemon_fwint_problem(d, net, problem, sizeof(problem), advice, sizeof(advice)) > 0) {
		step(dc, n->name, "firewall", "fail", advice, "%s", problem);
		return;
	}
	if (own) {
		step(dc, n->name, "firewall", "fail",
		     fixf(advice, sizeof(advice), "netdctl network stop %s && netdctl network start %s", n->name,
			  n->name),
		     "%s (netd's log says more)", own);
		return;
	}
	step(dc, n->name, "firewall", r == 0 ? "ok" : "skip", NULL,
	     r == 0 ? "netd's rules are applied; no other table drops the guests' traffic"
		    : "netd's rules are applied; the other tables could not be listed");
}

static int sysctl_int(struct daemon *d, int family, const char *ifname, const char *key)
{
	char v[32];

	if (d->link.ops->sysctl_get(d->link.userdata, family, ifname, key, v, sizeof(v)) < 0)
		return -1;
	return atoi(v);
}

/* 5. Forwarding and rp_filter. */
/* Whether rt leads to (part of) one of n's IPv4 subnets. */
static bool route_within_subnets(const struct network *n, const struct route_info *rt)
{
	struct ip_prefix subs[NETWORK_SUBNETS4_MAX];
	size_t k = network_subnets4(n, subs);

	for (size_t i = 0; i < k; i++)
		if (rt->dst.len >= subs[i].len && ip_prefix_overlaps(&rt->dst, &subs[i]))
			return true;
	return false;
}

static void step_sysctls(struct doctor_call *dc, const struct network *n, const struct link_info *br)
{
	struct daemon *d = dc->d;
	char fix[DOCTOR_TEXT_MAX], p[64];
	int rp, rp_all;

	if (!network_forwards(n)) {
		step(dc, n->name, "forwarding", "skip", NULL, "a mode %s network does not forward",
		     n->mode->name);
	} else if (n->subnet.family && sysctl_int(d, AF_INET, "all", "forwarding") == 0) {
		step(dc, n->name, "forwarding", "fail", "sysctl -w net.ipv4.ip_forward=1",
		     "IPv4 forwarding is off (net.ipv4.ip_forward=0): guests reach nothing beyond the host");
	} else if (n->subnet6.family && sysctl_int(d, AF_INET6, "all", "forwarding") == 0) {
		step(dc, n->name, "forwarding", "fail", "sysctl -w net.ipv6.conf.all.forwarding=1",
		     "IPv6 forwarding is off (net.ipv6.conf.all.forwarding=0)");
	} else {
		step(dc, n->name, "forwarding", "ok", NULL, "forwarding is on%s",
		     n->subnet6.family ? " (IPv4 and IPv6)" : "");
	}
	if (!n->mode->owns_bridge || !n->subnet.family || !br) {
		step(dc, n->name, "rp_filter", "skip", NULL, "%s",
		     !br ? "no bridge" : "netd does not set rp_filter on this bridge");
		return;
	}
	rp = sysctl_int(d, AF_INET, n->bridge, "rp_filter");
	rp_all = sysctl_int(d, AF_INET, "all", "rp_filter");
	if (rp_all > rp)
		rp = rp_all; /* the kernel takes the larger */
	if (rp == 0) {
		step(dc, n->name, "rp_filter", "warn",
		     fixf(fix, sizeof(fix), "sysctl -w net.ipv4.conf.%s.rp_filter=1", n->bridge),
		     "rp_filter is off on %s: guests' packets with forged sources are not dropped",
		     n->bridge);
		return;
	}
	/* Strict: a guest's packets are dropped when the route back to their source (in any of the
	 * network's subnets) is not the bridge. */
	for (size_t i = 0; rp == 1 && i < dc->dump.n_routes; i++) {
		const struct route_info *rt = &dc->dump.routes[i];

		if (rt->table != RT_TABLE_MAIN || rt->dst.family != AF_INET || rt->ifindex == br->ifindex ||
		    !route_within_subnets(n, rt))
			continue;
		step(dc, n->name, "rp_filter", "fail",
		     fixf(fix, sizeof(fix), "ip route del %s dev %s",
			  ip_prefix_format(&rt->dst, p, sizeof(p)), link_dump_ifname(&dc->dump, rt->ifindex)),
		     "strict rp_filter on %s drops guests' packets from %s: the route back goes via %s",
		     n->bridge, ip_prefix_format(&rt->dst, p, sizeof(p)),
		     link_dump_ifname(&dc->dump, rt->ifindex));
		return;
	}
	step(dc, n->name, "rp_filter", "ok", NULL, "rp_filter=%d on %s, the subnet%s routed back through it",
	     rp, n->bridge, n->n_addresses ? "s" : "");
}

/* The link that carries traffic out: --uplink, else the main table's IPv4 default route's. */
static const struct link_info *uplink_of(struct doctor_call *dc, const struct network *n,
					 const struct route_info **ret_rt)
{
	const struct route_info *best = NULL;

	for (size_t i = 0; i < dc->dump.n_routes; i++) {
		const struct route_info *rt = &dc->dump.routes[i];

		if (!route_is_default(rt, AF_INET) || !rt->ifindex)
			continue;
		if (n->uplink[0] && strcmp(link_dump_ifname(&dc->dump, rt->ifindex), n->uplink))
			continue;
		if (!best || rt->priority < best->priority)
			best = rt;
	}
	*ret_rt = best;
	if (n->uplink[0])
		return link_dump_find_name(&dc->dump, n->uplink);
	return best ? link_dump_find_index(&dc->dump, best->ifindex) : NULL;
}

/* 6. The default route. */
/* 6, IPv6: a default route for a network that forwards an IPv6 prefix (a warning: IPv4 may be all
 * its guests need). */
static void step_route6(struct doctor_call *dc, const struct network *n)
{
	const struct route_info *rt = NULL;
	char fix[DOCTOR_TEXT_MAX];

	if (!network_forwards(n) || !n->subnet6.family)
		return;
	for (size_t i = 0; i < dc->dump.n_routes && !rt; i++)
		if (route_is_default(&dc->dump.routes[i], AF_INET6) &&
		    (!n->uplink[0] ||
		     !strcmp(link_dump_ifname(&dc->dump, dc->dump.routes[i].ifindex), n->uplink)))
			rt = &dc->dump.routes[i];
	if (!rt)
		step(dc, n->name, "default route6", "warn",
		     fixf(fix, sizeof(fix), "ip -6 route add default via GATEWAY dev %s",
			  n->uplink[0] ? n->uplink : "IFACE"),
		     "the host has no IPv6 default route%s%s: guests' IPv6 reaches nothing beyond the host",
		     n->uplink[0] ? " through " : "", n->uplink);
	else
		step(dc, n->name, "default route6", "ok", NULL, "IPv6 default route via %s",
		     link_dump_ifname(&dc->dump, rt->ifindex));
}

static void step_route(struct doctor_call *dc, const struct network *n)
{
	const struct route_info *rt = NULL, *any = NULL;
	const struct link_info *up;
	char fix[DOCTOR_TEXT_MAX], gw[INET6_ADDRSTRLEN];

	if (!network_forwards(n) || !n->subnet.family) {
		step(dc, n->name, "default route", "skip", NULL, "the network does not forward IPv4");
		return;
	}
	up = uplink_of(dc, n, &rt);
	for (size_t i = 0; i < dc->dump.n_routes && !any; i++)
		if (route_is_default(&dc->dump.routes[i], AF_INET))
			any = &dc->dump.routes[i];
	if (n->uplink[0] && !up) {
		step(dc, n->name, "default route", "fail",
		     fixf(fix, sizeof(fix),
			  "bring %s back, or set 'uplink =' in %s/networks/%s.conf and run netdctl reload",
			  n->uplink, dc->d->paths.config_dir, n->name),
		     "the network's uplink %s does not exist", n->uplink);
		return;
	}
	if (n->uplink[0] && (!up->up || !up->running)) {
		step(dc, n->name, "default route", "fail",
		     fixf(fix, sizeof(fix), "ip link set %s up (and check its cable)", n->uplink),
		     "the network's uplink %s is %s", n->uplink, up->up ? "up without carrier" : "down");
		return;
	}
	if (!rt) {
		if (n->uplink[0] && any)
			step(dc, n->name, "default route", "fail",
			     fixf(fix, sizeof(fix), "ip route replace default via GATEWAY dev %s", n->uplink),
			     "the default route goes via %s, but the network lets guests out only through %s",
			     link_dump_ifname(&dc->dump, any->ifindex), n->uplink);
		else
			step(dc, n->name, "default route", "fail",
			     fixf(fix, sizeof(fix), "ip route add default via GATEWAY dev %s",
				  n->uplink[0] ? n->uplink : "IFACE"),
			     "the host has no IPv4 default route: guests reach nothing beyond its own networks");
		return;
	}
	step(dc, n->name, "default route", "ok", NULL, "default route via %s%s%s",
	     link_dump_ifname(&dc->dump, rt->ifindex), rt->gw_family ? " gateway " : "",
	     rt->gw_family ? addr_str(rt->gw_family, &rt->gw, gw, sizeof(gw)) : "");
}

/* 7. conntrack. */
static void step_conntrack(struct doctor_call *dc, const struct network *n)
{
	struct daemon *d = dc->d;
	uint64_t count = 0, max = 0;
	char fix[DOCTOR_TEXT_MAX];
	int r = d->probe.ops ? d->probe.ops->conntrack(d->probe.userdata, &count, &max) : -EOPNOTSUPP;

	if (r < 0) {
		step(dc, n->name, "conntrack", "skip", NULL, "%s",
		     r == -ENOENT ? "connection tracking is not loaded" : strerror(-r));
		return;
	}
	fixf(fix, sizeof(fix), "sysctl -w net.netfilter.nf_conntrack_max=%lu",
	     (unsigned long)(max < 65536 ? 262144 : max * 2));
	if (max && count >= max)
		step(dc, n->name, "conntrack", "fail", fix,
		     "the conntrack table is full (%lu of %lu): new connections are dropped",
		     (unsigned long)count, (unsigned long)max);
	else if (max && count * 10 > max * 9)
		step(dc, n->name, "conntrack", "warn", fix, "the conntrack table is %lu%% full (%lu of %lu)",
		     (unsigned long)(count * 100 / max), (unsigned long)count, (unsigned long)max);
	else
		step(dc, n->name, "conntrack", "ok", NULL, "%lu of %lu conntrack entries in use",
		     (unsigned long)count, (unsigned long)max);
}

/* 8. MTU. */
static void step_mtu(struct doctor_call *dc, const struct network *n, const struct link_info *br)
{
	const struct route_info *rt;
	const struct link_info *up;
	char fix[DOCTOR_TEXT_MAX];

	if (!network_forwards(n) || !br) {
		step(dc, n->name, "mtu", "skip", NULL, "%s",
		     br ? "the network does not forward" : "no bridge");
		return;
	}
	if (n->mode->vxlan) {
		/* not the operator's to set: the underlay's less VXLAN's overhead (step "vxlan") */
		step(dc, n->name, "mtu", "skip", NULL,
		     "a mode %s network's MTU is its underlay's less VXLAN's overhead (step vxlan)",
		     n->mode->name);
		return;
	}
	up = uplink_of(dc, n, &rt);
	if (!up) {
		step(dc, n->name, "mtu", "skip", NULL, "no uplink to compare with");
		return;
	}
	if (br->mtu > up->mtu) {
		step(dc, n->name, "mtu", "warn",
		     fixf(fix, sizeof(fix),
			  "set 'mtu = %u' in [network] of %s/networks/%s.conf, then netdctl reload", up->mtu,
			  dc->d->paths.config_dir, n->name),
		     "bridge %s has MTU %u, its uplink %s %u: guests' large packets need fragmenting or are dropped "
		     "(broken path MTU discovery)",
		     n->bridge, br->mtu, up->name, up->mtu);
		return;
	}
	step(dc, n->name, "mtu", "ok", NULL, "bridge MTU %u, uplink %s MTU %u", br->mtu, up->name, up->mtu);
}

/* 9. Conflicts with the host's routes and addresses (as the conflict watch checks them). */
static void step_conflicts(struct doctor_call *dc, const struct network *n)
{
	struct daemon *d = dc->d;
	struct link_dump host = {};
	char reason[DOCTOR_TEXT_MAX];
	int r;

	if (!n->mode->has_subnet) {
		step(dc, n->name, "conflicts", "skip", NULL, "a mode %s network has no subnet of its own",
		     n->mode->name);
		return;
	}
	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_ALL | LINK_DUMP_FOREIGN | LINK_DUMP_FRESH, &host);
	if (r < 0) {
		step(dc, n->name, "conflicts", "warn", NULL, "cannot read the host's routes: %s",
		     strerror(-r));
		return;
	}
	(void)link_dump_index(&host);
	r = network_check_conflicts(n, NULL, 0, &host, reason, sizeof(reason));
	link_dump_free(&host);
	if (r < 0)
		step(dc, n->name, "conflicts", "fail",
		     "remove that route or address (ip route del ROUTE / ip addr del ADDR dev IFACE), or give the "
		     "network a free subnet",
		     "%s", reason);
	else
		step(dc, n->name, "conflicts", "ok", NULL,
		     "no route or address of the host overlaps the network");
}

static struct vm *guest_find(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_vms; i++)
		if (!strcmp(d->vms[i]->def.name, name))
			return d->vms[i];
	return NULL;
}

/* 10. A feature's step (daemon_net_doctor). */
static void feature_step(void *ctx, const char *name, const char *status, const char *fix, const char *detail)
{
	struct doctor_call *dc = ctx;

	step(dc, dc->nets[dc->at], name, status, fix, "%s", detail);
}

/* Steps 4 to 10 of the network at hand, then the next network. */
static void doctor_rest(struct doctor_call *dc)
{
	struct net *net = daemon_net_find(dc->d, dc->nets[dc->at]);
	const struct link_info *br;

	if (net) {
		br = link_dump_find_name(&dc->dump, net->def->bridge);
		step_reach(dc, net);
		step_sysctls(dc, net->def, br);
		step_route(dc, net->def);
		step_route6(dc, net->def);
		step_conntrack(dc, net->def);
		step_mtu(dc, net->def, br);
		step_conflicts(dc, net->def);
		daemon_net_doctor(dc->d, net, &dc->dump, feature_step, dc);
	}
	link_dump_free(&dc->dump);
	dc->at++;
	doctor_next(dc);
}

static int on_probe(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct doctor_call *dc = userdata;
	struct daemon *d = dc->d;
	struct probe_result res = {};
	struct net *net = daemon_net_find(d, dc->nets[dc->at]);
	int r;

	probe_stop(dc); /* the source first: finish() closes the fd it watches */
	r = d->probe.ops->finish(d->probe.userdata, fd, &res);
	dc->probe_fd = -1;
	if (r < 0) {
		res = (struct probe_result){ .dhcp = PROBE_FAILED };
		snprintf(res.error, sizeof(res.error), "%s", strerror(-r));
	}
	if (net)
		probe_steps(dc, net->def, &res);
	doctor_rest(dc);
	return 0;
}

static int on_probe_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct doctor_call *dc = userdata;

	return on_probe(NULL, dc->probe_fd, 0, dc);
}

/* 3b: start the probe (the rest follows when it ends), or say why not and go on. */
static void doctor_probe(struct doctor_call *dc, const struct network *n, const struct link_info *br)
{
	struct daemon *d = dc->d;
	struct probe_spec spec = { .bridge_ifindex = br ? br->ifindex : 0,
				   .dhcp = n->dhcp.dhcp && n->subnet.family,
				   .dns = n->dhcp.dns && n->subnet.family && n->has_gateway,
				   .gateway = n->gateway.in,
				   .subnet = n->subnet.addr.in,
				   .prefixlen = n->subnet.len };
	struct probe_result res = {};
	int r;

	snprintf(spec.bridge, sizeof(spec.bridge), "%s", n->bridge);
	if (!spec.dhcp && !spec.dns)
		goto rest;
	if (!br || !br->up)
		snprintf(res.error, sizeof(res.error), "the bridge is not up");
	else if (!spec.dhcp)
		snprintf(res.error, sizeof(res.error), "the network has no DHCP to take an address from");
	else if (!d->probe.ops)
		snprintf(res.error, sizeof(res.error), "netd cannot probe here");
	else if (DOCTOR(d)->probing)
		snprintf(res.error, sizeof(res.error),
			 "another doctor's probe is running; try again in a moment");
	if (res.error[0])
		goto done;
	r = d->probe.ops->start(d->probe.userdata, &spec, &dc->probe_fd);
	if (r < 0) {
		res.dhcp = PROBE_FAILED;
		snprintf(res.error, sizeof(res.error), "cannot start the probe: %s", strerror(-r));
		goto done;
	}
	r = sd_event_add_io(d->event, &dc->probe_io, dc->probe_fd, EPOLLIN, on_probe, dc);
	if (r >= 0)
		r = sd_event_add_time_relative(d->event, &dc->probe_timer, CLOCK_MONOTONIC,
					       DOCTOR_PROBE_KILL_USEC, 0, on_probe_timeout, dc);
	if (r < 0) {
		on_probe(NULL, dc->probe_fd, 0, dc);
		return;
	}
	DOCTOR(d)->probing = dc;
	log_net(LOG_DEBUG, n->name, "network '%s': doctor probes DHCP and DNS from a scratch port", n->name);
	return;
done:
	probe_steps(dc, n, &res);
rest:
	doctor_rest(dc);
}

static void doctor_reply(struct doctor_call *dc)
{
	json_object *o = json_object_new_object();

	if (dc->guest[0])
		json_object_object_add(o, "guest", json_object_new_string(dc->guest));
	else
		json_object_object_add(o, "network", json_object_new_string(dc->nets[0]));
	json_object_object_add(o, "ok", json_object_new_boolean(!dc->failed));
	json_object_object_add(o, "steps", TAKE_PTR(dc->steps));
	call_reply(dc->call, o);
	free(dc);
}

/* Steps 1 to 3 of the next network, or the reply. */
static void doctor_next(struct doctor_call *dc)
{
	struct daemon *d = dc->d;
	struct net *net;
	const struct link_info *br;
	int r;

	for (; dc->at < dc->n_nets; dc->at++) {
		net = daemon_net_find(d, dc->nets[dc->at]);
		if (!net) {
			step(dc, dc->nets[dc->at], "network", "fail", "netdctl network list",
			     "no network named '%s'", dc->nets[dc->at]);
			continue;
		}
		if (!net->active) {
			char fix[DOCTOR_TEXT_MAX];

			step(dc, net->def->name, "network", "fail",
			     fixf(fix, sizeof(fix), "netdctl network start %s", net->def->name),
			     "network '%s' is not running", net->def->name);
			continue;
		}
		r = d->link.ops->dump(d->link.userdata, LINK_DUMP_ALL | LINK_DUMP_FRESH, &dc->dump);
		if (r < 0) {
			step(dc, net->def->name, "network", "fail", NULL,
			     "cannot read links from the kernel: %s", strerror(-r));
			continue;
		}
		br = link_dump_find_name(&dc->dump, net->def->bridge);
		if (dc->guest[0]) {
			struct vm *v = guest_find(d, dc->guest);

			for (size_t i = 0; v && i < v->def.n_nics; i++)
				if (!strcmp(v->def.nics[i].network, net->def->name))
					step_tap(dc, net->def, br, dc->guest, (unsigned)i, v->nics[i].tap);
		}
		br = step_bridge(dc, net);
		step_dnsmasq(dc, net->def);
		doctor_probe(dc, net->def, br);
		return; /* doctor_rest() goes on */
	}
	doctor_reply(dc);
}

static int method_doctor(struct daemon *d, struct call *c, json_object *params)
{
	const char *name = NULL, *guest = NULL;
	struct doctor_call *dc;
	int r = protocol_param_string(params, "name", &name);

	if (r < 0 && r != -ENOENT)
		return call_errorf(c, r, "parameter 'name' must be a string");
	r = protocol_param_string(params, "guest", &guest);
	if (r < 0 && r != -ENOENT)
		return call_errorf(c, r, "parameter 'guest' must be a string");
	if (!name == !guest)
		return call_errorf(c, -EINVAL, "expected a network NAME or --guest NAME");
	if (!DOCTOR(d))
		return call_errorf(c, -ENOMEM, "the doctor did not start (out of memory)");
	dc = calloc(1, sizeof(*dc));
	if (!dc)
		return -ENOMEM;
	*dc = (struct doctor_call){ .d = d, .call = c, .probe_fd = -1, .steps = json_object_new_array() };
	if (name) {
		if (!daemon_net_find(d, name)) {
			json_object_put(dc->steps);
			free(dc);
			return call_errorf(c, -ENOENT, "no network named '%s' (see 'netdctl network list')",
					   name);
		}
		snprintf(dc->nets[0], sizeof(dc->nets[0]), "%s", name);
		dc->n_nets = 1;
	} else {
		struct vm *v = guest_find(d, guest);

		if (!v) {
			json_object_put(dc->steps);
			free(dc);
			return call_errorf(c, -ENOENT, "no guest named '%s' (see 'netdctl vm list')", guest);
		}
		snprintf(dc->guest, sizeof(dc->guest), "%s", guest);
		if (v->state != VM_STATE_RUNNING && v->state != VM_STATE_PAUSED) {
			char fix[DOCTOR_TEXT_MAX];

			step(dc, "", "guest", "fail", fixf(fix, sizeof(fix), "netdctl vm start %s", guest),
			     "guest '%s' is not running", guest);
			doctor_reply(dc);
			return 0;
		}
		for (size_t i = 0; i < v->def.n_nics; i++) {
			bool seen = false;

			for (size_t j = 0; j < dc->n_nets && !seen; j++)
				seen = !strcmp(dc->nets[j], v->def.nics[i].network);
			if (!seen && dc->n_nets < DOCTOR_NETS_MAX)
				snprintf(dc->nets[dc->n_nets++], sizeof(dc->nets[0]), "%s",
					 v->def.nics[i].network);
		}
	}
	doctor_next(dc);
	return 0;
}

static const struct method doctor_table[] = {
	/* Read-only; its probe takes no parameter but the name, and runs one at a time. */
	{ "network.doctor", method_doctor, METHOD_READ | METHOD_ASYNC },
};

const struct method_area doctor_methods = METHOD_AREA(doctor_table);

static int doctor_init(struct daemon *d)
{
	struct doctor *doc = calloc(1, sizeof(*doc));

	if (!doc)
		return -ENOMEM;
	*daemon_feature_state(d, &feature_doctor) = doc;
	return 0;
}

/* A call still probing when netd stops: its probe is ended, the call dropped (netd exits). */
static void doctor_done(struct daemon *d)
{
	struct doctor *doc = DOCTOR(d);
	struct doctor_call *dc = doc ? doc->probing : NULL;

	if (dc) {
		struct probe_result res;

		probe_stop(dc);
		(void)d->probe.ops->finish(d->probe.userdata, dc->probe_fd, &res);
		link_dump_free(&dc->dump);
		json_object_put(dc->steps);
		free(dc);
	}
	free(doc);
	*daemon_feature_state(d, &feature_doctor) = NULL;
}

const struct feature feature_doctor = {
	.name = "doctor",
	.init = doctor_init,
	.done = doctor_done,
};
