/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Port security for guest NICs (nat/portsec.h has the rules): netd's tables "bridge netd" and
 * "inet netd_ports", with one entry per guest port that netd keeps in step with what the port may
 * send. Every guest port has an entry, level off included: the host never takes IP packets on
 * the port itself (only through its bridge).
 *
 * - A guest NIC's TAP gets its entry before QEMU starts (vm.c), and loses it when QEMU is gone;
 *   a NIC moved to another network gets that network's addresses.
 * - A port on a network with DHCP may send from the addresses dnsmasq leased to its MAC (host
 *   addresses of one of the network's IPv4 subnets) and the one reserved for it; a lease event, a
 *   reservation or a reload changes the port's addresses in one small transaction (that port's
 *   elements only). Without DHCP on the network, every subnet's host addresses except the
 *   gateways. On a network of mode bridge (the LAN's
 *   addresses), the MAC only.
 * - The whole table is applied when netd starts (adopted as it is when it matches), and again
 *   when someone else's change removed or emptied it, or when a small transaction fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "daemon.h"
#include "firewall.h"
#include "lease.h"
#include "log.h"
#include "macro.h"
#include "portsec.h"

extern const struct feature feature_portsec; /* this file's, at its end */

struct secured_port {
	struct ps_port p; /* p.addrs owned; p.level what applies on its network */
	enum ps_level want; /* what the NIC asks for: FULL or OFF */
	char network[NAME_MAX_LEN + 1];
	size_t leases6_over; /* DHCPv6 leases of its MAC past PORTSEC_LEASES6_MAX, as last computed */
};

/* How many DHCPv6 leases of one MAC its port may send from: the newest ones (latest expiry). A
 * guest may ask for a lease under any number of DUIDs and IAIDs, and dnsmasq leases each an address
 * with the guest's MAC; the port's addresses (and every lease event's cost here, which walks the
 * network's leases for each of its ports) stay bounded. dhcp/ records the MACs of those alone
 * (lease6-macs). */
#define PORTSEC_LEASES6_MAX DHCP_LEASES6_PER_MAC

struct portsec {
	struct secured_port *ports;
	size_t n_ports;
	char *marker; /* of the table netd applied; NULL until the first apply */
	bool in_kernel;
	bool started; /* after startup: changes go to the kernel at once */
};

#define PS(d) ((struct portsec *)*daemon_feature_state((d), &feature_portsec))

static void port_done(struct secured_port *s)
{
	free(s->p.addrs);
	s->p.addrs = NULL;
	s->p.n_addrs = 0;
}

static bool addrs_has(const struct ps_port *p, const struct ip_prefix *a)
{
	for (size_t i = 0; i < p->n_addrs; i++)
		if (ip_prefix_equal(&p->addrs[i], a))
			return true;
	return false;
}

static int addrs_push(struct ps_port *p, const struct ip_prefix *a)
{
	struct ip_prefix *l;

	if (addrs_has(p, a))
		return 0;
	l = reallocarray(p->addrs, p->n_addrs + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	p->addrs = l;
	p->addrs[p->n_addrs++] = *a;
	return 0;
}

static int push_range(struct ps_port *p, uint32_t first, uint32_t last)
{
	struct ip_prefix blocks[IP4_RANGE_PREFIXES_MAX];
	size_t n = first <= last ? ip4_range_prefixes(first, last, blocks) : 0;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = addrs_push(p, &blocks[i]);
	return r;
}

/* A network without DHCP: its guests choose their addresses, any host address of one of its
 * subnets but the gateways (a guest must not answer for them). An IPv6-only network has none: no
 * IPv4 source is a guest's. */
static int push_subnet_hosts(struct ps_port *p, const struct network *n)
{
	struct ip_prefix gws[NETWORK_SUBNETS4_MAX];
	size_t n_gws = network_gateways4(n, gws);
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n_gws; i++) {
		struct ip_prefix sub = gws[i];
		union in_addr_union bcast;
		uint32_t first, last, gw = ip4_to_host(&gws[i].addr);

		ip_prefix_mask(&sub);
		ip_prefix_broadcast(&sub, &bcast);
		first = ip4_to_host(&sub.addr) + 1;
		last = ip4_to_host(&bcast) - 1;
		if (gw < first || gw > last) {
			r = push_range(p, first, last);
			continue;
		}
		r = gw > first ? push_range(p, first, gw - 1) : 0;
		if (r >= 0 && gw < last)
			r = push_range(p, gw + 1, last);
	}
	return r;
}

/* An IPv4 lease counts only for a host address of one of the network's subnets, never a gateway:
 * a lease file from before a redefinition may hold others. */
static bool lease4_in_network(const struct network *n, const union in_addr_union *a)
{
	struct ip_prefix gws[NETWORK_SUBNETS4_MAX];
	size_t n_gws = network_gateways4(n, gws);

	for (size_t i = 0; i < n_gws; i++) {
		struct ip_prefix sub = gws[i];
		union in_addr_union bcast;

		if (!ip_prefix_contains(&sub, AF_INET, a))
			continue;
		ip_prefix_mask(&sub);
		ip_prefix_broadcast(&sub, &bcast);
		return !ip_addr_equal(AF_INET, a, &gws[i].addr) && !ip_addr_equal(AF_INET, a, &sub.addr) &&
		       !ip_addr_equal(AF_INET, a, &bcast);
	}
	return false;
}

/* Whether lease a ends later than b (0: never). */
static bool expiry_later(const struct dhcp_lease *a, const struct dhcp_lease *b)
{
	return b->expiry && (!a->expiry || a->expiry > b->expiry);
}

/* The IPv6 addresses of a port: its SLAAC one (EUI-64 in a /64 prefix, unless the network leases
 * addresses by DHCPv6 alone; the first /64 of a shorter prefix), its DHCPv6 reservation, and its
 * newest PORTSEC_LEASES6_MAX DHCPv6 leases (*ret_over: how many more it has). The link-local one
 * the renderer adds by itself. A guest that makes its SLAAC address otherwise (privacy or
 * stable-privacy identifiers) sends IPv6 only from link-local and DHCPv6 addresses while filtered. */
static int push_ipv6(struct ps_port *p, const struct network *n, const struct dhcp_host *h,
		     const struct dhcp_server *srv, size_t *ret_over)
{
	const struct dhcp_lease *newest[PORTSEC_LEASES6_MAX];
	size_t n_newest = 0, n_leases = 0, over = 0;
	struct mac m;
	int r = 0;

	*ret_over = 0;

	if (n->subnet6.family != AF_INET6)
		return 0;
	/* A prefix up to /64: the RAs advertise its first /64 (dhcp/render.c). */
	if (n->subnet6.len <= 64 && n->ipv6_mode != IPV6_MODE_DHCPV6) {
		struct ip_prefix a = ps_eui64_address(&p->mac, &n->subnet6);

		r = addrs_push(p, &a);
	}
	if (r >= 0 && h && h->has_ip6)
		r = addrs_push(p, &(struct ip_prefix){ .family = AF_INET6, .addr = h->ip6, .len = 128 });
	for (size_t i = 0; srv && i < srv->leases.n; i++) {
		const struct dhcp_lease *l = &srv->leases.leases[i];
		size_t j;

		if (l->family != AF_INET6 || !dhcp_lease6_mac(l, &m) || !mac_equal(&m, &p->mac))
			continue;
		/* The newest PORTSEC_LEASES6_MAX, newest first (0: never expires, the newest). */
		for (j = n_newest; j > 0 && expiry_later(l, newest[j - 1]); j--)
			if (j < PORTSEC_LEASES6_MAX)
				newest[j] = newest[j - 1];
		if (j < PORTSEC_LEASES6_MAX) {
			newest[j] = l;
			n_newest += n_newest < PORTSEC_LEASES6_MAX;
		}
		over += n_leases++ >= PORTSEC_LEASES6_MAX;
	}
	for (size_t i = 0; r >= 0 && i < n_newest; i++)
		r = addrs_push(p,
			       &(struct ip_prefix){ .family = AF_INET6, .addr = newest[i]->ip, .len = 128 });
	*ret_over = over;
	return r;
}

/* What a port on network n with that MAC may send from now; *ret_over: its DHCPv6 leases past
 * the bound. */
static int port_compute(struct daemon *d, const struct network *n, struct ps_port *p, size_t *ret_over)
{
	struct dhcp_server *srv;
	const struct dhcp_host *h;
	int r = 0;

	p->n_addrs = 0;
	*ret_over = 0;
	if (p->level != PS_LEVEL_FULL)
		return 0;
	if (n->mode->port_level != PS_LEVEL_FULL) {
		p->level = n->mode->port_level; /* the LAN hands out its addresses; netd does not know them */
		return 0;
	}
	srv = daemon_dhcp_find(d, n->name);
	if (!n->dhcp.dhcp) {
		r = push_subnet_hosts(p, n);
		return r < 0 ? r : push_ipv6(p, n, NULL, NULL, ret_over);
	}
	h = dhcp_host_find(&n->dhcp, &p->mac);
	if (h && h->has_ip)
		r = addrs_push(p, &(struct ip_prefix){ .family = AF_INET, .addr = h->ip, .len = 32 });
	for (size_t i = 0; r >= 0 && srv && i < srv->leases.n; i++)
		if (srv->leases.leases[i].family == AF_INET &&
		    mac_equal(&srv->leases.leases[i].mac, &p->mac) &&
		    lease4_in_network(n, &srv->leases.leases[i].ip))
			r = addrs_push(p, &(struct ip_prefix){ .family = AF_INET,
							       .addr = srv->leases.leases[i].ip,
							       .len = 32 });
	return r < 0 ? r : push_ipv6(p, n, h, srv, ret_over);
}

static struct ps_port *ports_view(struct portsec *ps)
{
	struct ps_port *v = calloc(ps->n_ports + 1, sizeof(*v));

	for (size_t i = 0; v && i < ps->n_ports; i++)
		v[i] = ps->ports[i].p;
	return v;
}

/* The whole table, from every port netd knows. */
static int apply_full(struct daemon *d, char *err, size_t errlen)
{
	struct portsec *ps = PS(d);
	_cleanup_free_ struct ps_port *v = ports_view(ps);
	_cleanup_free_ char *script = NULL, *marker = NULL;
	int r;

	if (!v)
		return -ENOMEM;
	script = ps_render(v, ps->n_ports, &marker);
	if (!script || !marker)
		return -ENOMEM;
	r = daemon_nft_apply(d, script, err, errlen);
	if (r < 0) {
		ps->in_kernel = false;
		return r;
	}
	free(ps->marker);
	ps->marker = TAKE_PTR(marker);
	ps->in_kernel = true;
	log_debug("nftables: applied table %s %s (%zu port(s))", PS_FAMILY, PS_TABLE, ps->n_ports);
	return 0;
}

/* A small transaction; when it fails (the kernel's table is not what netd thinks), the whole
 * table instead. The first port creates the table and the last one removes it. */
static int apply_change(struct daemon *d, const struct ps_change *c, char *err, size_t errlen)
{
	struct portsec *ps = PS(d);
	_cleanup_free_ char *script = NULL;
	int r;

	if (!ps->started)
		return 0; /* daemon_portsec_start() applies everything at once */
	if (ps->in_kernel && ps->marker && ps->marker[0] && ps->n_ports > 0) {
		script = ps_render_change(c);
		if (!script)
			return -ENOMEM;
		if (!script[0])
			return 0;
		r = daemon_nft_apply(d, script, err, errlen);
		if (r >= 0)
			return 0;
		log_warning("port security: a change did not apply (%s); applying the whole table", err);
	}
	return apply_full(d, err, errlen);
}

static ssize_t port_index(struct portsec *ps, const char *ifname)
{
	for (size_t i = 0; i < ps->n_ports; i++)
		if (!strcmp(ps->ports[i].p.ifname, ifname))
			return i;
	return -1;
}

/* Take entry i out of the list (the caller owns it then). */
static struct secured_port port_take(struct portsec *ps, size_t i)
{
	struct secured_port s = ps->ports[i];

	memmove(&ps->ports[i], &ps->ports[i + 1], (ps->n_ports - i - 1) * sizeof(s));
	ps->n_ports--;
	return s;
}

static int port_append(struct portsec *ps, struct secured_port *s)
{
	struct secured_port *l = reallocarray(ps->ports, ps->n_ports + 1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	ps->ports = l;
	ps->ports[ps->n_ports++] = *s;
	return 0;
}

/* Replace the entry of ifname (if any) by new (NULL: none), in memory and in the kernel. On
 * failure both are as before. Takes new's addresses. */
static int port_replace(struct daemon *d, const char *ifname, struct secured_port *new, char *err,
			size_t errlen)
{
	struct portsec *ps = PS(d);
	ssize_t i = port_index(ps, ifname);
	struct secured_port old = {};
	bool add = new != NULL;
	struct ps_change c = {};
	int r;

	if (i >= 0) {
		old = port_take(ps, i);
		c.gone = &old.p;
		c.n_gone = 1;
	}
	if (add) {
		r = port_append(ps, new);
		if (r < 0)
			goto undo;
		c.added = &ps->ports[ps->n_ports - 1].p;
		c.n_added = 1;
	}
	r = apply_change(d, &c, err, errlen);
	if (r >= 0) {
		port_done(&old);
		return 0;
	}
	if (add)
		ps->n_ports--; /* the caller still owns new's addresses */
undo:
	if (i >= 0 && port_append(ps, &old) < 0)
		port_done(&old);
	return r;
}

/* Once a port's MAC has more DHCPv6 leases than it may send from (until it has no more again). */
static void leases6_over_note(const struct secured_port *s, size_t was)
{
	if (s->leases6_over && !was)
		log_warning(
			"port security: the guest on %s (MAC %s) holds %zu DHCPv6 leases on network '%s'; "
			"its port may send from the newest %d only (a guest asking under many DUIDs or "
			"IAIDs?)",
			s->p.ifname, mac_format(&s->p.mac, (char[MAC_STRLEN]){}, MAC_STRLEN),
			s->leases6_over + PORTSEC_LEASES6_MAX, s->network, PORTSEC_LEASES6_MAX);
}

/* The network need not exist (an adopted guest whose network went while netd was down). */
int daemon_portsec_port_set(struct daemon *d, const char *ifname, const char *network, const struct mac *mac,
			    enum ps_level level, char *err, size_t errlen)
{
	const struct network *n = daemon_network_find(d, network);
	struct secured_port new = { .p = { .mac = *mac, .level = level }, .want = level };
	int r;

	snprintf(new.p.ifname, sizeof(new.p.ifname), "%s", ifname);
	snprintf(new.network, sizeof(new.network), "%s", network);
	/* A guest adopted on a network that was removed while netd was down: its port is filtered
	 * with no address at all (and kept from the host) rather than forgotten. */
	r = n ? port_compute(d, n, &new.p, &new.leases6_over) : 0;
	if (r >= 0)
		r = port_replace(d, ifname, &new, err, errlen);
	if (r < 0) {
		port_done(&new);
		return r;
	}
	leases6_over_note(&new, 0);
	return 0;
}

void daemon_portsec_port_remove(struct daemon *d, const char *ifname)
{
	char err[512];

	if (!PS(d) || port_index(PS(d), ifname) < 0)
		return;
	if (port_replace(d, ifname, NULL, err, sizeof(err)) < 0)
		log_error("port security: cannot remove the rules of %s: %s", ifname, err);
}

static bool port_same(const struct ps_port *a, const struct ps_port *b)
{
	if (a->level != b->level || a->n_addrs != b->n_addrs)
		return false;
	for (size_t i = 0; i < a->n_addrs; i++)
		if (!addrs_has(b, &a->addrs[i]))
			return false;
	return true;
}

/* Bring one port up to date with its network; 1 when it changed. */
static int port_refresh(struct daemon *d, const struct network *n, const char *ifname)
{
	struct portsec *ps = PS(d);
	ssize_t i = port_index(ps, ifname);
	struct secured_port new;
	size_t was;
	char err[512];
	int r;

	if (i < 0)
		return 0;
	new = (struct secured_port){ .p = { .mac = ps->ports[i].p.mac, .level = ps->ports[i].want },
				     .want = ps->ports[i].want };
	memcpy(new.p.ifname, ifname, sizeof(new.p.ifname));
	memcpy(new.network, ps->ports[i].network, sizeof(new.network));
	r = port_compute(d, n, &new.p, &new.leases6_over);
	was = ps->ports[i].leases6_over;
	if (r < 0 || port_same(&new.p, &ps->ports[i].p)) {
		if (r >= 0) {
			ps->ports[i].leases6_over = new.leases6_over;
			leases6_over_note(&new, was);
		}
		port_done(&new);
		return r;
	}
	r = port_replace(d, ifname, &new, err, sizeof(err));
	if (r < 0) {
		log_error("port security: cannot update the rules of %s: %s", ifname, err);
		port_done(&new);
		return r;
	}
	leases6_over_note(&new, was);
	log_debug("port security: %s may now send from %zu address(es)", ifname, new.p.n_addrs);
	return 1;
}

void daemon_portsec_network_changed(struct daemon *d, const char *network)
{
	struct portsec *ps = PS(d);
	const struct network *n = daemon_network_find(d, network);
	char(*names)[IFNAMSIZ];
	size_t k = 0;

	if (!ps || !n || !ps->n_ports)
		return;
	/* By name: a refresh moves the port's entry in the list. */
	names = calloc(ps->n_ports, sizeof(*names));
	if (!names)
		return;
	for (size_t i = 0; i < ps->n_ports; i++)
		if (!strcmp(ps->ports[i].network, network))
			memcpy(names[k++], ps->ports[i].p.ifname, IFNAMSIZ);
	for (size_t i = 0; i < k; i++)
		port_refresh(d, n, names[i]);
	free(names);
}

enum ps_level daemon_portsec_level(struct daemon *d, const char *ifname)
{
	ssize_t i = PS(d) ? port_index(PS(d), ifname) : -1;

	return i < 0 ? PS_LEVEL_OFF : PS(d)->ports[i].p.level;
}

static int portsec_init(struct daemon *d)
{
	struct portsec *ps = calloc(1, sizeof(*ps));

	*daemon_feature_state(d, &feature_portsec) = ps;
	return ps ? 0 : -ENOMEM;
}

static void portsec_done(struct daemon *d)
{
	struct portsec *ps = PS(d);

	if (!ps)
		return;
	for (size_t i = 0; i < ps->n_ports; i++)
		port_done(&ps->ports[i]);
	free(ps->ports);
	free(ps->marker);
	free(ps);
	*daemon_feature_state(d, &feature_portsec) = NULL;
}

/* After the guests are adopted: the whole table, in one transaction. Not adopted as it is (the
 * inet table is): leases may have changed while netd was down, and an identical table replaced
 * atomically disturbs no packet. */
int daemon_portsec_start(struct daemon *d)
{
	struct portsec *ps = PS(d);
	char err[512];
	int r;

	ps->started = true;
	if (!ps->n_ports && !daemon_nft(d))
		return 0;
	r = apply_full(d, err, sizeof(err));
	if (r < 0)
		log_error("port security: cannot apply table %s %s: %s", PS_FAMILY, PS_TABLE, err);
	else if (ps->n_ports)
		log_info("port security: %zu guest port(s) filtered", ps->n_ports);
	return r;
}

/* After someone else's nftables transaction: re-apply when netd's table is gone or changed. */
void daemon_portsec_check(struct daemon *d)
{
	struct portsec *ps = PS(d);
	const struct fw_backend *nft = daemon_nft(d);
	_cleanup_free_ struct ps_port *v = NULL;
	char marker[128] = "", err[512];
	size_t rules = 0, elements = 0;
	const char *p;
	int r;

	if (!ps || !ps->started || !ps->marker || !nft)
		return;
	r = ps_kernel_state(nft, marker, sizeof(marker), &rules, &elements);
	if (r == -ENOENT && !ps->marker[0])
		return;
	v = ports_view(ps);
	p = strrchr(ps->marker, ':');
	if (r >= 0 && v && !strcmp(marker, ps->marker) && p && strtoul(p + 1, NULL, 10) == rules &&
	    elements == ps_elements(v, ps->n_ports))
		return;
	log_warning("nftables: table %s %s was %s by another process; re-applying it", PS_FAMILY, PS_TABLE,
		    r == -ENOENT ? "removed" : "changed");
	if (apply_full(d, err, sizeof(err)) < 0)
		log_error("nftables: cannot re-apply table %s %s: %s", PS_FAMILY, PS_TABLE, err);
}

/* After the DHCP feature (leases loaded, reservations written): the ports of the network follow. */
static int portsec_up(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	daemon_portsec_network_changed(d, n->def->name);
	return 0;
}

const struct feature feature_portsec = {
	.name = "port security",
	.init = portsec_init,
	.done = portsec_done,
	.up = portsec_up,
};
