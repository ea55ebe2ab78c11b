/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The nft script of netd's table. Pure: text in memory, nothing else.
 *
 * What differs between networks lives in named sets; the rules are a fixed handful that look
 * packets up in them, so applying 100 networks costs set elements, not 100 times the rules
 * (nf_tables_newrule and the commit's per-rule work dominated that: nat/DESIGN.md).
 * forward (filter, priority filter, policy accept: traffic of other interfaces is not ours):
 *   replies into a nat subnet; anything into a routed subnet from outside netd's bridges; a
 *   subnet out, to anything but another netd bridge (or only through its uplink); anything
 *   between an open bridge and the outside (not another netd bridge; only its uplink when it has
 *   one); port to port on the same bridge; last, reject whatever else enters or leaves a netd
 *   bridge.
 * postrouting (nat, priority srcnat): the nat subnets masqueraded, except multicast and
 *   broadcast and traffic that stays on the network's bridge (its subnets among themselves).
 * input (filter, policy accept: only traffic from netd's bridges is looked at): what guests reach
 *   on the host. Replies to what the host started; DHCP broadcasts; nothing from a source not
 *   routed back through the bridge; DHCP, DNS, ICMP essentials and the ports the
 *   network allows, on that network's own gateway address; IPv6 neighbour discovery, MLD, ICMPv6
 *   errors and echo to link-local, DHCPv6. Everything else from a bridge is rejected: the host's
 *   other addresses and other networks' gateways included.
 * A subnet is looked up as an exact key: the packet's address masked to the prefix length, in the
 * sets of that length ("out_24"), with one rule per length in use (see FW_LEN_MAX). Sets of exact
 * keys are hashes in the kernel, so adding or removing a network's elements costs the same
 * whatever the number of networks. IPv6 prefixes alike, in sets of their own ("out6_64", rules
 * "ip6 saddr & ffff:ffff:ffff:ffff:: . iifname @out6_64"): a nat network's IPv6 prefix is
 * masqueraded with nat6 (NAT66, a ULA), else routed as it is (a global prefix); a network may have
 * either family or both.
 * The set "bridges" holds every netd bridge; the one element of set "marker" is the table's
 * marker: a hash of the script and the number of rules and set elements, which tells netd whether
 * the table in the kernel is the one it applied. Every set is always there (a set may be empty) and
 * the rules depend only on the prefix lengths in use, so networks that come and go are set elements
 * only, unless a length comes or goes (fw_render_change). */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall.h"
#include "forward.h"
#include "macro.h"

/* The sets keyed by a subnet come once per IPv4 prefix length that a nat or routed network has, and
 * a rule of each kind per such length: "ip saddr & 255.255.255.0 . iifname @out_24". Ranges of
 * addresses (sets with "flags interval") would need no mask, but the kernel keeps a concatenation
 * with ranges in its pipapo backend, where removing an element walks the elements before it
 * (nat/DESIGN.md, "Exact keys"). Subnets never overlap, so an address masked to another length
 * matches no element of that length's sets. */
#define FW_LEN_MAX 32
/* IPv6: lengths 0..127 (a /128 has no room for a guest beside its gateway), bit L of lens6. */
#define FW_LEN6_MAX 127

enum set_id {
	SET_SELF, /* every network: bridge . bridge */
	SET_REPLIES, /* nat: subnet . bridge (per length) */
	SET_ROUTED_IN, /* routed: subnet . bridge (per length) */
	SET_OUT, /* nat, routed: subnet . bridge (per length) */
	SET_OUT_UPLINK, /* nat, routed with an uplink: subnet . bridge . uplink (per length) */
	SET_INSIDE, /* nat: subnet . its own bridge (per length) */
	SET_MASQ, /* nat: subnet (per length) */
	SET_MASQ_UPLINK, /* nat with an uplink: subnet . uplink (per length) */
	SET_OPEN, /* open: bridge */
	SET_OPEN_UPLINK, /* open with an uplink: bridge . uplink */
	SET_GATEWAYS, /* every network: bridge . gateway */
	SET_HOST_PORTS, /* allowed host services: bridge . protocol . port */
	/* IPv6: nat with nat6 as nat, nat without it (a global prefix) and routed as routed */
	SET_REPLIES6,
	SET_ROUTED_IN6,
	SET_OUT6,
	SET_OUT_UPLINK6,
	SET_INSIDE6,
	SET_MASQ6,
	SET_MASQ_UPLINK6,
	SET_GATEWAYS6, /* every network with IPv6: bridge . gateway6 */
	SET_GATEWAY_ADDRS, /* every network: its gateway addresses (input from elsewhere) */
	SET_GATEWAY_ADDRS6,
	_SET_MAX,
};

static const struct {
	const char *name, *type;
	int per_len; /* keyed by a subnet of this family: one set per prefix length; 0: not */
} set_defs[_SET_MAX] = {
	[SET_SELF] = { "self", "ifname . ifname" },
	[SET_REPLIES] = { "replies", "ipv4_addr . ifname", AF_INET },
	[SET_ROUTED_IN] = { "routed_in", "ipv4_addr . ifname", AF_INET },
	[SET_OUT] = { "out", "ipv4_addr . ifname", AF_INET },
	[SET_OUT_UPLINK] = { "out_uplink", "ipv4_addr . ifname . ifname", AF_INET },
	[SET_INSIDE] = { "inside", "ipv4_addr . ifname", AF_INET },
	[SET_MASQ] = { "masq", "ipv4_addr", AF_INET },
	[SET_MASQ_UPLINK] = { "masq_uplink", "ipv4_addr . ifname", AF_INET },
	[SET_OPEN] = { "open", "ifname" },
	[SET_OPEN_UPLINK] = { "open_uplink", "ifname . ifname" },
	[SET_GATEWAYS] = { "gateways", "ifname . ipv4_addr" },
	[SET_HOST_PORTS] = { "host_ports", "ifname . inet_proto . inet_service" },
	[SET_REPLIES6] = { "replies6", "ipv6_addr . ifname", AF_INET6 },
	[SET_ROUTED_IN6] = { "routed_in6", "ipv6_addr . ifname", AF_INET6 },
	[SET_OUT6] = { "out6", "ipv6_addr . ifname", AF_INET6 },
	[SET_OUT_UPLINK6] = { "out_uplink6", "ipv6_addr . ifname . ifname", AF_INET6 },
	[SET_INSIDE6] = { "inside6", "ipv6_addr . ipv6_addr", AF_INET6 },
	[SET_MASQ6] = { "masq6", "ipv6_addr", AF_INET6 },
	[SET_MASQ_UPLINK6] = { "masq_uplink6", "ipv6_addr . ifname", AF_INET6 },
	[SET_GATEWAYS6] = { "gateways6", "ifname . ipv6_addr" },
	[SET_GATEWAY_ADDRS] = { "gateway_addrs", "ipv4_addr" },
	[SET_GATEWAY_ADDRS6] = { "gateway_addrs6", "ipv6_addr" },
};

/* The elements of one set (of one length's set), as text. */
struct set_text {
	FILE *f;
	char *text;
	size_t len;
	unsigned n;
};

/* Elements as the kernel takes them (fw_change_elems). */
struct elem_list {
	struct fw_elem *e;
	size_t n, allocated;
};

struct out {
	FILE *f;
	unsigned objects; /* rules and set elements */
	unsigned len, len6; /* the prefix lengths of the network being filled */
	uint64_t lens; /* the IPv4 prefix lengths that have sets and rules (bit L) */
	uint64_t lens6[2]; /* the IPv6 ones */
	bool failed;	  /* a stream could not be opened */
	struct set_text set[_SET_MAX][FW_LEN6_MAX + 1]; /* [s][0] only for a set not per length */
	struct elem_list *elems; /* NULL, or where each element goes besides its text */
	bool add; /* ... to be added (or deleted) */
};

static void set_name(enum set_id s, unsigned k, char *buf, size_t size)
{
	if (set_defs[s].per_len)
		snprintf(buf, size, "%s_%u", set_defs[s].name, k);
	else
		snprintf(buf, size, "%s", set_defs[s].name);
}

/* The fields of an element, each a type and its value, ended by F_END. */
enum {
	F_END,
	F_IF, /* const char *: an interface name */
	F_ADDR, /* const union in_addr_union *: an IPv4 address */
	F_ADDR6, /* const union in_addr_union *: an IPv6 address */
	F_PROTO, /* int: an IP protocol number */
	F_PORT, /* unsigned: a TCP or UDP port */
};

static struct fw_elem *elem_new(struct elem_list *l)
{
	if (l->n == l->allocated) {
		size_t a = l->allocated ? 2 * l->allocated : 16;
		struct fw_elem *e = reallocarray(l->e, a, sizeof(*e));

		if (!e)
			return NULL;
		l->e = e;
		l->allocated = a;
	}
	l->e[l->n] = (struct fw_elem){};
	return &l->e[l->n++];
}

/* One field's bytes, as nft lays a concatenation out: each field padded to 4 bytes. */
static bool elem_field(struct fw_elem *e, int type, va_list *ap, char *text, size_t size)
{
	uint8_t *k = e->key + e->len;
	size_t w;

	switch (type) {
	case F_IF: {
		const char *name = va_arg(*ap, const char *);

		snprintf(text, size, "\"%s\"", name);
		w = IFNAMSIZ;
		if (e->len + w > sizeof(e->key))
			return false;
		strncpy((char *)k, name, IFNAMSIZ);
		break;
	}
	case F_ADDR: {
		const union in_addr_union *a = va_arg(*ap, const union in_addr_union *);

		ip_addr_format(AF_INET, a, text, size);
		w = 4;
		if (e->len + w > sizeof(e->key))
			return false;
		memcpy(k, &a->in, 4);
		break;
	}
	case F_ADDR6: {
		const union in_addr_union *a = va_arg(*ap, const union in_addr_union *);

		ip_addr_format(AF_INET6, a, text, size);
		w = 16;
		if (e->len + w > sizeof(e->key))
			return false;
		memcpy(k, &a->in6, 16);
		break;
	}
	case F_PROTO: {
		int proto = va_arg(*ap, int);

		snprintf(text, size, "%s", l4_proto_to_string(proto));
		w = 4;
		if (e->len + w > sizeof(e->key))
			return false;
		k[0] = (uint8_t)proto;
		break;
	}
	case F_PORT: {
		unsigned port = va_arg(*ap, unsigned);

		snprintf(text, size, "%u", port);
		w = 4;
		if (e->len + w > sizeof(e->key))
			return false;
		k[0] = (uint8_t)(port >> 8);
		k[1] = (uint8_t)port;
		break;
	}
	default:
		return false;
	}
	e->len += w;
	return true;
}

/* An element of set s: its text in the set's list, and (o->elems) the element as the kernel takes
 * it. A set keyed by a subnet: the one of the prefix length of the network being filled. */
static void element(struct out *o, enum set_id s, ...)
{
	unsigned k = set_defs[s].per_len == AF_INET ? o->len : set_defs[s].per_len == AF_INET6 ? o->len6 : 0;
	struct set_text *t = &o->set[s][k];
	struct fw_elem *e = NULL, scratch;
	unsigned fields = 0;
	char text[IP_PREFIX_STRLEN + 8];
	va_list ap;
	int type;

	/* Opened on the first element: a network has elements in a handful of the sets. */
	if (!t->f && !(t->f = open_memstream(&t->text, &t->len))) {
		o->failed = true;
		return;
	}
	if (o->elems && !(e = elem_new(o->elems))) {
		o->failed = true;
		return;
	}
	if (!e) {
		scratch = (struct fw_elem){};
		e = &scratch;
	}
	if (t->n++)
		fputs(", ", t->f);
	va_start(ap, s);
	while ((type = va_arg(ap, int)) != F_END) {
		if (!elem_field(e, type, &ap, text, sizeof(text)))
			o->failed = true;
		fprintf(t->f, "%s%s", fields++ ? " . " : "", text);
	}
	va_end(ap);
	o->objects++;

	e->add = o->add;
	set_name(s, k, e->set, sizeof(e->set));
}

/* Close every stream; false if one failed. The texts stay until out_free(). */
static bool out_close_sets(struct out *o)
{
	bool ok = !o->failed;

	for (int s = 0; s < _SET_MAX; s++)
		for (unsigned k = 0; k <= FW_LEN6_MAX; k++) {
			if (o->set[s][k].f && fclose(o->set[s][k].f) != 0)
				ok = false;
			o->set[s][k].f = NULL;
		}
	return ok;
}

static void out_free(struct out *o)
{
	if (!o)
		return;
	out_close_sets(o);
	for (int s = 0; s < _SET_MAX; s++)
		for (unsigned k = 0; k <= FW_LEN6_MAX; k++)
			free(o->set[s][k].text);
	free(o);
}

static void out_freep(struct out **o)
{
	out_free(*o);
}

static void rule(struct out *o, const char *fmt, ...) _printf_(2, 3);
static void rule(struct out *o, const char *fmt, ...)
{
	va_list ap;

	fputs("\t\t", o->f);
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
	fputc('\n', o->f);
	o->objects++;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

/* The subnets the sets keyed by a subnet (and their index) take: an IPv4 one or none (and more
 * IPv4 ones only with a first), an IPv6 one up to /127 or none (a network with neither has only its
 * bridge in the sets). */
static bool subnet_ok(const struct fw_network *w)
{
	if (w->n_addresses > FW_ADDRESSES_MAX || (w->n_addresses && w->subnet.family != AF_INET))
		return false;
	for (size_t i = 0; i < w->n_addresses; i++)
		if (w->addresses[i].family != AF_INET || w->addresses[i].len > FW_LEN_MAX)
			return false;
	return (w->subnet.family == 0 || (w->subnet.family == AF_INET && w->subnet.len <= FW_LEN_MAX)) &&
	       (w->subnet6.family == 0 || (w->subnet6.family == AF_INET6 && w->subnet6.len <= FW_LEN6_MAX));
}

static bool forwards(const struct fw_network *w)
{
	return w->mode == FW_NAT || w->mode == FW_ROUTED;
}

/* A nat or routed network has elements in the sets of its prefix lengths (each of its subnets'). */
static uint64_t network_lens(const struct fw_network *w)
{
	uint64_t lens;

	if (!forwards(w) || !subnet_ok(w) || w->subnet.family != AF_INET)
		return 0;
	lens = UINT64_C(1) << w->subnet.len;
	for (size_t i = 0; i < w->n_addresses; i++)
		lens |= UINT64_C(1) << w->addresses[i].len;
	return lens;
}

static void network_lens6(const struct fw_network *w, uint64_t lens6[static 2])
{
	lens6[0] = lens6[1] = 0;
	if (forwards(w) && subnet_ok(w) && w->subnet6.family == AF_INET6)
		lens6[w->subnet6.len / 64] = UINT64_C(1) << w->subnet6.len % 64;
}

/* The elements of a network's IPv6 subnet: NAT66 (mode nat with nat6) as a nat subnet, a routed
 * network's and a nat network's without nat6 (a global prefix) as a routed one. */
static void fill_sets6(struct out *o, const struct fw_network *w)
{
	const char *b = w->bridge, *u = w->uplink;
	const union in_addr_union *s = &w->subnet6.addr; /* masked */

	element(o, SET_GATEWAYS6, F_IF, b, F_ADDR6, &w->gateway6, F_END);
	element(o, SET_GATEWAY_ADDRS6, F_ADDR6, &w->gateway6, F_END);
	if (!forwards(w))
		return;
	o->len6 = w->subnet6.len;
	if (w->mode == FW_NAT && w->nat6) {
		element(o, SET_REPLIES6, F_ADDR6, s, F_IF, b, F_END);
		element(o, SET_INSIDE6, F_ADDR6, s, F_ADDR6, s, F_END);
		if (u[0])
			element(o, SET_MASQ_UPLINK6, F_ADDR6, s, F_IF, u, F_END);
		else
			element(o, SET_MASQ6, F_ADDR6, s, F_END);
	} else {
		element(o, SET_ROUTED_IN6, F_ADDR6, s, F_IF, b, F_END);
	}
	if (u[0])
		element(o, SET_OUT_UPLINK6, F_ADDR6, s, F_IF, b, F_IF, u, F_END);
	else
		element(o, SET_OUT6, F_ADDR6, s, F_IF, b, F_END);
}

/* The elements of one IPv4 subnet of a network (s masked, g its gateway): each of a network's
 * subnets is filtered, masqueraded or routed as the first. Traffic that stays on the network's
 * bridge is never masqueraded, also between two of its subnets (it leaves the bridge and comes
 * back through the host): inside_L holds each subnet with its own bridge, as with --uplink
 * (masqueraded only out of the uplink) and in mode routed (never). */
static void fill_sets4(struct out *o, const struct fw_network *w, const struct ip_prefix *subnet,
		       const union in_addr_union *g)
{
	const char *b = w->bridge, *u = w->uplink;
	const union in_addr_union *s = &subnet->addr;

	o->len = subnet->len;
	element(o, SET_GATEWAYS, F_IF, b, F_ADDR, g, F_END);
	element(o, SET_GATEWAY_ADDRS, F_ADDR, g, F_END);
	if (w->mode == FW_NAT) {
		element(o, SET_REPLIES, F_ADDR, s, F_IF, b, F_END);
		element(o, SET_INSIDE, F_ADDR, s, F_IF, b, F_END);
		if (u[0])
			element(o, SET_MASQ_UPLINK, F_ADDR, s, F_IF, u, F_END);
		else
			element(o, SET_MASQ, F_ADDR, s, F_END);
	} else if (w->mode == FW_ROUTED) {
		element(o, SET_ROUTED_IN, F_ADDR, s, F_IF, b, F_END);
	}
	if (forwards(w)) {
		if (u[0])
			element(o, SET_OUT_UPLINK, F_ADDR, s, F_IF, b, F_IF, u, F_END);
		else
			element(o, SET_OUT, F_ADDR, s, F_IF, b, F_END);
	}
}

/* Each network's elements. */
static void fill_sets(struct out *o, const struct fw_network *nets, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct fw_network *w = &nets[i];
		const char *b = w->bridge, *u = w->uplink;

		if (!subnet_ok(w)) {
			o->failed = true; /* validated definitions never get here */
			return;
		}
		o->len = w->subnet.len;
		element(o, SET_SELF, F_IF, b, F_IF, b, F_END);
		for (size_t j = 0; j < w->n_host_ports; j++)
			element(o, SET_HOST_PORTS, F_IF, b, F_PROTO, (int)w->host_ports[j].proto, F_PORT,
				(unsigned)w->host_ports[j].port, F_END);
		if (w->mode == FW_OPEN) {
			if (u[0])
				element(o, SET_OPEN_UPLINK, F_IF, b, F_IF, u, F_END);
			else
				element(o, SET_OPEN, F_IF, b, F_END);
		}
		if (w->subnet6.family == AF_INET6)
			fill_sets6(o, w);
		if (w->subnet.family != AF_INET)
			continue;
		fill_sets4(o, w, &w->subnet, &w->gateway); /* subnet is masked */
		for (size_t j = 0; j < w->n_addresses; j++) {
			struct ip_prefix sub = w->addresses[j];

			ip_prefix_mask(&sub);
			fill_sets4(o, w, &sub, &w->addresses[j].addr);
		}
	}
}

/* One set with its elements. */
static void render_set(struct out *o, enum set_id s, unsigned k)
{
	const struct set_text *t = &o->set[s][k];
	char name[32];

	set_name(s, k, name, sizeof(name));
	fprintf(o->f, "\tset %s {\n\t\ttype %s\n", name, set_defs[s].type);
	if (t->n)
		fprintf(o->f, "\t\telements = { %s }\n", t->text);
	fprintf(o->f, "\t}\n\n");
}

static bool in_use(const struct out *o, int family, unsigned len)
{
	if (family == AF_INET6)
		return len <= FW_LEN6_MAX && o->lens6[len / 64] & UINT64_C(1) << len % 64;
	return len <= FW_LEN_MAX && o->lens & UINT64_C(1) << len;
}

/* Every set, empty or not, and those keyed by a subnet once per length in use: the rules are the
 * same whatever the networks are but for those lengths, so a network that comes or goes changes
 * set elements only, unless its length is new or was the last of its kind (fw_render_change). */
static void render_sets(struct out *o)
{
	for (int s = 0; s < _SET_MAX; s++) {
		if (!set_defs[s].per_len)
			render_set(o, s, 0);
		else
			for (unsigned k = 0; k <= FW_LEN6_MAX; k++)
				if (in_use(o, set_defs[s].per_len, k))
					render_set(o, s, k);
	}
}

/* The mask of prefix length len, as nft writes an address of the family. */
static const char *mask_text(int family, unsigned len, char buf[static INET6_ADDRSTRLEN])
{
	struct ip_prefix m = { .family = family, .len = len };

	memset(&m.addr, 0xff, sizeof(m.addr));
	ip_prefix_mask(&m);
	return ip_addr_format(family, &m.addr, buf, INET6_ADDRSTRLEN);
}

/* The rules of the sets keyed by a subnet come once per length in use: all accepts, so their
 * order among themselves does not matter, and they come before the rejects. */
static void render_forward(struct out *o)
{
	char m[INET6_ADDRSTRLEN];

	fprintf(o->f, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
	/* A guest is no router or DHCPv6 server, for the host's other networks or the outside either
	 * (on its own bridge: port security's guest_ip6, portsec.c). */
	rule(o, "iifname @bridges icmpv6 type { nd-router-advert, nd-redirect } drop");
	rule(o, "iifname @bridges udp sport 547 drop");
	for (unsigned k = 0; k <= FW_LEN_MAX; k++) {
		if (!in_use(o, AF_INET, k))
			continue;
		mask_text(AF_INET, k, m);
		rule(o, "ip daddr & %s . oifname @replies_%u ct state established,related accept", m, k);
		rule(o, "iifname != @bridges ip daddr & %s . oifname @routed_in_%u accept", m, k);
		rule(o, "ip saddr & %s . iifname @out_%u oifname != @bridges accept", m, k);
		rule(o, "ip saddr & %s . iifname . oifname @out_uplink_%u accept", m, k);
	}
	for (unsigned k = 0; k <= FW_LEN6_MAX; k++) {
		if (!in_use(o, AF_INET6, k))
			continue;
		mask_text(AF_INET6, k, m);
		rule(o, "ip6 daddr & %s . oifname @replies6_%u ct state established,related accept", m, k);
		rule(o, "iifname != @bridges ip6 daddr & %s . oifname @routed_in6_%u accept", m, k);
		rule(o, "ip6 saddr & %s . iifname @out6_%u oifname != @bridges accept", m, k);
		rule(o, "ip6 saddr & %s . iifname . oifname @out_uplink6_%u accept", m, k);
	}
	rule(o, "iifname @open oifname != @bridges accept");
	rule(o, "oifname @open iifname != @bridges accept");
	rule(o, "iifname . oifname @open_uplink accept");
	rule(o, "oifname . iifname @open_uplink accept");
	rule(o, "iifname . oifname @self accept");
	/* port forwards: the connections table inet netd_fwd translated (its mark, nat/forward.h) into
	 * a network's bridge, and their replies out of it; no other DNAT (Docker's, a foreign table's)
	 * passes netd's isolation here */
	rule(o, "ct direction original ct status dnat ct mark & " NAT_FWD_CT_MARK " == " NAT_FWD_CT_MARK
		" oifname @bridges accept");
	rule(o, "ct direction reply ct status dnat ct mark & " NAT_FWD_CT_MARK " == " NAT_FWD_CT_MARK
		" iifname @bridges accept");
	rule(o, "iifname @bridges reject with icmpx type admin-prohibited");
	rule(o, "oifname @bridges reject with icmpx type admin-prohibited");
	fprintf(o->f, "\t}\n");
}
static void render_input(struct out *o)
{
	fprintf(o->f, "\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n");
	rule(o, "iifname @bridges jump guest_in");
	/* A network's DHCP, DNS and TFTP answer its own bridge only (guest_in, which ends every packet
	 * from a bridge): from anywhere else (an uplink neighbour with a route through the host, a
	 * bridge that is not netd's, a local user) they are dropped, except DNS from the host itself
	 * (lo), which --register-dns hands to systemd-resolved. */
	rule(o, "ip daddr @gateway_addrs jump elsewhere_to_gateway");
	rule(o, "ip6 daddr @gateway_addrs6 jump elsewhere_to_gateway");
	fprintf(o->f, "\t}\n\n\tchain elsewhere_to_gateway {\n");
	rule(o, "iifname \"lo\" meta l4proto { tcp, udp } th dport 53 accept");
	rule(o, "udp dport { 53, 67, 69, 547 } drop");
	rule(o, "tcp dport 53 drop");
	fprintf(o->f, "\t}\n\n\tchain guest_in {\n");
	/* DHCPv6 messages a guest never sends for itself, dropped before anything that accepts (a
	 * Solicit's answer makes the next datagram from port 546 an established one): a relay's
	 * (12 Relay-forward, 13 Relay-reply, the first octet after the UDP header), where dnsmasq
	 * would take the client MAC a Relay-forward names (option 79), so a guest could claim another's
	 * reservation; and 8 Release, 9 Decline, which end a lease whoever sends them with its DUID and
	 * IAID (seen in its multicast Solicits), so a guest could end another's lease and ask for its
	 * address. A lease then ends at its expiry (dhcp/DESIGN.md). */
	rule(o, "udp dport 547 @th,64,8 { 8, 9, 12, 13 } drop");
	rule(o, "ct state established,related accept");
	rule(o, "udp dport 67 ip daddr 255.255.255.255 accept");
	/* Duplicate address detection and MLD come from "::", which no route leads back to: the host
	 * answers a guest's DAD for the gateway's address. */
	rule(o,
	     "ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld-listener-report, mld2-listener-report } accept");
	/* Reverse-path filtering whatever the sysctls say (the kernel takes the larger of "all" and
	 * the bridge's rp_filter, and IPv6 has none): a source not routed back through the bridge. */
	rule(o, "fib saddr . iif oif missing drop");
	rule(o, "iifname . ip daddr @gateways jump guest_to_gateway");
	rule(o, "iifname . ip6 daddr @gateways6 jump guest_to_gateway6");
	rule(o, "meta nfproto ipv6 jump guest_in6");
	rule(o, "reject with icmpx type admin-prohibited");
	fprintf(o->f, "\t}\n\n\tchain guest_to_gateway {\n");
	rule(o, "udp dport { 53, 67 } accept");
	rule(o, "tcp dport 53 accept");
	rule(o, "icmp type { echo-request, destination-unreachable, time-exceeded, parameter-problem } accept");
	rule(o, "iifname . meta l4proto . th dport @host_ports accept");
	rule(o, "reject with icmpx type admin-prohibited");
	fprintf(o->f, "\t}\n\n\tchain guest_to_gateway6 {\n");
	rule(o, "udp dport { 53, 547 } accept");
	rule(o, "tcp dport 53 accept");
	rule(o,
	     "icmpv6 type { echo-request, destination-unreachable, packet-too-big, time-exceeded, parameter-problem, "
	     "nd-neighbor-solicit, nd-neighbor-advert } accept");
	rule(o, "iifname . meta l4proto . th dport @host_ports accept");
	rule(o, "reject with icmpx type admin-prohibited");
	fprintf(o->f, "\t}\n\n\tchain guest_in6 {\n");
	/* A guest's router advertisement, redirect or DHCPv6 answer configures nothing here (the
	 * bridge's accept_ra=0 too: bridge-guard.c); dropped without an answer. */
	rule(o, "icmpv6 type { nd-router-advert, nd-redirect } drop");
	rule(o, "udp sport 547 drop");
	rule(o, "icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, "
		"mld2-listener-report, mld-listener-done } accept");
	rule(o, "ip6 daddr fe80::/10 icmpv6 type { echo-request, destination-unreachable, packet-too-big, "
		"time-exceeded, parameter-problem } accept");
	rule(o, "ip6 daddr { ff02::1:2, fe80::/10 } udp dport 547 accept");
	rule(o, "reject with icmpx type admin-prohibited");
	fprintf(o->f, "\t}\n");
}

/* Traffic that stays on its network's bridge (inside its subnet, or to another subnet of the
 * network) is accepted (not masqueraded) before any masquerade. A forward's hairpin (a guest to a
 * forward of its own network) is masqueraded before, at srcnat - 1 (table inet netd_fwd). */
static void render_postrouting(struct out *o)
{
	char m[INET6_ADDRSTRLEN];

	fprintf(o->f, "\n\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	rule(o, "ip daddr { 224.0.0.0/4, 255.255.255.255 } return");
	rule(o, "ip6 daddr ff00::/8 return");
	for (unsigned k = 0; k <= FW_LEN_MAX; k++)
		if (in_use(o, AF_INET, k))
			rule(o, "ip saddr & %s . oifname @inside_%u accept", mask_text(AF_INET, k, m), k);
	for (unsigned k = 0; k <= FW_LEN_MAX; k++)
		if (in_use(o, AF_INET, k))
			rule(o, "ip saddr & %s . oifname @masq_uplink_%u masquerade",
			     mask_text(AF_INET, k, m), k);
	for (unsigned k = 0; k <= FW_LEN_MAX; k++)
		if (in_use(o, AF_INET, k))
			rule(o, "ip saddr & %s @masq_%u masquerade", mask_text(AF_INET, k, m), k);
	for (unsigned k = 0; k <= FW_LEN6_MAX; k++)
		if (in_use(o, AF_INET6, k))
			rule(o, "ip6 saddr & %s . ip6 daddr & %s @inside6_%u accept",
			     mask_text(AF_INET6, k, m), m, k);
	for (unsigned k = 0; k <= FW_LEN6_MAX; k++)
		if (in_use(o, AF_INET6, k))
			rule(o, "ip6 saddr & %s . oifname @masq_uplink6_%u masquerade",
			     mask_text(AF_INET6, k, m), k);
	for (unsigned k = 0; k <= FW_LEN6_MAX; k++)
		if (in_use(o, AF_INET6, k))
			rule(o, "ip6 saddr & %s @masq6_%u masquerade", mask_text(AF_INET6, k, m), k);
	fprintf(o->f, "\t}\n");
}

int fw_marker_element(const char *marker, char *buf, size_t size)
{
	char hash[17];
	unsigned count;
	int n = 0;

	/* "netd:HASH:COUNT" (16 hex digits): four names of at most 15 characters */
	if (sscanf(marker, "netd:%16[0-9a-f]:%u%n", hash, &count, &n) != 2 || marker[n] || strlen(hash) != 16)
		return -EINVAL;
	snprintf(buf, size, "\"netd\" . \"%.8s\" . \"%.8s\" . \"%u\"", hash, hash + 8, count);
	return 0;
}

int fw_marker_from_names(const char *const names[4], char *buf, size_t size)
{
	if (strcmp(names[0], "netd") || strlen(names[1]) != 8 || strlen(names[2]) != 8)
		return -EINVAL;
	snprintf(buf, size, "netd:%s%s:%s", names[1], names[2], names[3]);
	return 0;
}

static int by_bridge(const void *a, const void *b)
{
	return strcmp(((const struct fw_network *)a)->bridge, ((const struct fw_network *)b)->bridge);
}

/* The rules and the sets' declarations: the text of the table that is the same whatever the
 * networks are, but for the sets' elements (which o holds). */
static void render_body(struct out *o)
{
	render_sets(o);
	render_forward(o);
	render_input(o);
	render_postrouting(o);
}

char *fw_render(const struct fw_network *in, size_t n, char **ret_marker)
{
	_cleanup_free_ struct fw_network *nets = NULL;
	_cleanup_free_ char *body = NULL, *bridges = NULL;
	size_t len, blen;
	_cleanup_(out_freep) struct out *o = NULL;
	struct fw_share sum = {}, share;
	FILE *b = NULL;
	char *script = NULL, marker[FW_MARKER_MAX], m[FW_MARKER_MAX];
	bool ok;

	*ret_marker = NULL;
	/* "table X" first so that "delete table X" never fails: the pair empties the table inside
	 * the same transaction that fills it again, so no packet sees it half-built. */
	if (n == 0) {
		*ret_marker = strdup("");
		if (!*ret_marker || asprintf(&script, "table %s %s\ndelete table %s %s\n", FW_FAMILY, FW_TABLE, FW_FAMILY,
					     FW_TABLE) < 0) {
			free(*ret_marker);
			*ret_marker = NULL;
			return NULL;
		}
		return script;
	}
	/* Sorted by bridge: the same networks give the same script whatever order they come in. */
	nets = malloc(n * sizeof(*nets));
	if (!nets)
		return NULL;
	memcpy(nets, in, n * sizeof(*nets));
	qsort(nets, n, sizeof(*nets), by_bridge);

	/* The marker is made the way netd makes it for a change (fw_marker), so that a restarted
	 * netd recognises the table whatever history led to it. */
	for (size_t i = 0; i < n; i++) {
		if (fw_network_share(&nets[i], &share) < 0)
			return NULL;
		fw_share_add(&sum, &share);
	}
	if (fw_marker(&sum, n, marker, sizeof(marker)) < 0 || fw_marker_element(marker, m, sizeof(m)) < 0)
		return NULL;

	o = calloc(1, sizeof(*o));
	b = open_memstream(&bridges, &blen);
	ok = o && b;
	if (ok) {
		for (size_t i = 0; i < n; i++)
			fprintf(b, "%s\"%s\"", i ? ", " : "", nets[i].bridge);
		fill_sets(o, nets, n);
		ok = out_close_sets(o);
	}
	if (b && fclose(b) != 0)
		ok = false;
	if (ok && (o->f = open_memstream(&body, &len))) {
		o->lens = sum.lens;
		memcpy(o->lens6, sum.lens6, sizeof(o->lens6));
		render_body(o);
		ok = fclose(o->f) == 0;
		o->f = NULL;
	} else {
		ok = false;
	}
	if (!ok || asprintf(&script,
			    "table %s %s\n"
			    "delete table %s %s\n"
			    "table %s %s {\n"
			    "\tset marker {\n\t\ttype %s\n\t\telements = { %s }\n\t}\n\n"
			    "\tset bridges {\n\t\ttype ifname\n\t\telements = { %s }\n\t}\n\n"
			    "%s"
			    "}\n",
			    FW_FAMILY, FW_TABLE, FW_FAMILY, FW_TABLE, FW_FAMILY, FW_TABLE, FW_MARKER_TYPE, m,
			    bridges, body) < 0)
		return NULL;
	*ret_marker = strdup(marker);
	if (!*ret_marker) {
		free(script);
		return NULL;
	}
	return script;
}

static bool addresses_equal(const struct fw_network *a, const struct fw_network *b)
{
	if (a->n_addresses != b->n_addresses)
		return false;
	for (size_t i = 0; i < a->n_addresses && i < FW_ADDRESSES_MAX; i++)
		if (!ip_prefix_equal(&a->addresses[i], &b->addresses[i]))
			return false;
	return true;
}

/* What the rules see of a network is the same (then so are its elements). */
bool fw_network_equal(const struct fw_network *a, const struct fw_network *b)
{
	return !strcmp(a->bridge, b->bridge) && ip_prefix_equal(&a->subnet, &b->subnet) &&
	       !memcmp(&a->gateway.in, &b->gateway.in, sizeof(a->gateway.in)) &&
	       ip_prefix_equal(&a->subnet6, &b->subnet6) &&
	       !memcmp(&a->gateway6.in6, &b->gateway6.in6, sizeof(a->gateway6.in6)) && a->nat6 == b->nat6 &&
	       a->mode == b->mode && !strcmp(a->uplink, b->uplink) && a->n_host_ports == b->n_host_ports &&
	       !memcmp(a->host_ports, b->host_ports, a->n_host_ports * sizeof(a->host_ports[0])) &&
	       addresses_equal(a, b);
}

/* "VERB element FAMILY TABLE SET { ... }" for each set and map a network has elements in; how
 * many elements that is into *ret_objects (optional). */
static int element_lines(FILE *f, const char *verb, const struct fw_network *w, unsigned *ret_objects,
			 struct elem_list *elems)
{
	_cleanup_(out_freep) struct out *o = calloc(1, sizeof(*o));
	char name[32];

	if (!o)
		return -ENOMEM;
	o->elems = elems;
	o->add = !strcmp(verb, "add");
	if (elems) {
		struct fw_elem *e = elem_new(elems);

		if (!e)
			return -ENOMEM;
		*e = (struct fw_elem){ .add = o->add, .set = "bridges", .len = IFNAMSIZ };
		strncpy((char *)e->key, w->bridge, IFNAMSIZ);
	}
	fill_sets(o, w, 1);
	if (!out_close_sets(o))
		return -ENOMEM;
	if (ret_objects)
		*ret_objects = o->objects + 1; /* + its element of "bridges" */
	fprintf(f, "%s element %s %s bridges { \"%s\" }\n", verb, FW_FAMILY, FW_TABLE, w->bridge);
	for (int s = 0; s < _SET_MAX; s++)
		for (unsigned k = 0; k <= FW_LEN6_MAX; k++) {
			if (!o->set[s][k].n)
				continue;
			set_name(s, k, name, sizeof(name));
			fprintf(f, "%s element %s %s %s { %s }\n", verb, FW_FAMILY, FW_TABLE, name,
				o->set[s][k].text);
		}
	return 0;
}

int fw_network_share(const struct fw_network *w, struct fw_share *ret)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	unsigned objects = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return -ENOMEM;
	r = element_lines(f, "add", w, &objects, NULL);
	if (fclose(f) != 0 || r < 0)
		return -ENOMEM;
	*ret = (struct fw_share){ .hash = fnv1a(text), .objects = objects, .lens = network_lens(w) };
	network_lens6(w, ret->lens6);
	return 0;
}

void fw_share_add(struct fw_share *sum, const struct fw_share *s)
{
	sum->hash += s->hash;
	sum->objects += s->objects;
	sum->lens |= s->lens;
	sum->lens6[0] |= s->lens6[0];
	sum->lens6[1] |= s->lens6[1];
}

/* The rules and the empty sets: the share of the table itself. The same text for the same
 * prefix lengths in use. */
static int fixed_share(const struct fw_share *lens, struct fw_share *ret)
{
	_cleanup_(out_freep) struct out *o = calloc(1, sizeof(*o));
	_cleanup_free_ char *body = NULL;
	size_t len;
	bool ok;

	if (!o || !(o->f = open_memstream(&body, &len)))
		return -ENOMEM;
	o->lens = lens->lens;
	memcpy(o->lens6, lens->lens6, sizeof(o->lens6));
	render_body(o);
	ok = fclose(o->f) == 0;
	o->f = NULL;
	if (!ok)
		return -ENOMEM;
	*ret = (struct fw_share){ .hash = fnv1a(body), .objects = o->objects };
	return 0;
}

int fw_marker(const struct fw_share *sum, size_t n, char *buf, size_t size)
{
	struct fw_share t;
	int r;

	if (n == 0) {
		snprintf(buf, size, "%s", "");
		return 0;
	}
	r = fixed_share(sum, &t);
	if (r < 0)
		return r;
	fw_share_add(&t, sum);
	/* + 1: the marker's own element */
	if (snprintf(buf, size, "netd:%016" PRIx64 ":%u", t.hash, t.objects + 1) >= (int)size)
		return -ENOBUFS;
	return 0;
}

/* nets sorted by bridge: nets itself when it is (netd's firewall keeps them so), else a sorted
 * copy into *copy (free()). NULL: no memory. */
static const struct fw_network *sorted(const struct fw_network *nets, size_t n, struct fw_network **copy)
{
	size_t i = 1;

	while (i < n && by_bridge(&nets[i - 1], &nets[i]) <= 0)
		i++;
	if (i >= n)
		return nets;
	*copy = malloc(n * sizeof(**copy));
	if (!*copy)
		return NULL;
	memcpy(*copy, nets, n * sizeof(**copy));
	qsort(*copy, n, sizeof(**copy), by_bridge);
	return *copy;
}

/* The marker's element: four names. */
static int marker_elem(struct elem_list *l, bool add, const char *marker)
{
	char hash[17];
	unsigned count;
	struct fw_elem *e;
	int n = 0;

	if (sscanf(marker, "netd:%16[0-9a-f]:%u%n", hash, &count, &n) != 2 || marker[n] || strlen(hash) != 16)
		return -EINVAL;
	e = elem_new(l);
	if (!e)
		return -ENOMEM;
	*e = (struct fw_elem){ .add = add, .set = FW_MARKER_SET, .len = 4 * IFNAMSIZ };
	memcpy(e->key, "netd", 4);
	memcpy(e->key + IFNAMSIZ, hash, 8);
	memcpy(e->key + 2 * IFNAMSIZ, hash + 8, 8);
	snprintf((char *)e->key + 3 * IFNAMSIZ, IFNAMSIZ, "%u", count);
	return 0;
}

static void elem_list_free(struct elem_list *l)
{
	free(l->e);
	*l = (struct elem_list){};
}

static int elem_list_append(struct elem_list *to, const struct elem_list *from)
{
	for (size_t i = 0; i < from->n; i++) {
		struct fw_elem *e = elem_new(to);

		if (!e)
			return -ENOMEM;
		*e = from->e[i];
	}
	return 0;
}

/* The prefix lengths in use of both families are the same (then so are the rules). */
static bool same_lens(const struct fw_network *a, size_t n_a, const struct fw_network *b, size_t n_b)
{
	uint64_t l[2][3] = {};
	const struct fw_network *nets[2] = { a, b };
	size_t n[2] = { n_a, n_b };

	for (size_t x = 0; x < 2; x++)
		for (size_t i = 0; i < n[x]; i++) {
			uint64_t l6[2];

			network_lens6(&nets[x][i], l6);
			l[x][0] |= network_lens(&nets[x][i]);
			l[x][1] |= l6[0];
			l[x][2] |= l6[1];
		}
	return !memcmp(l[0], l[1], sizeof(l[0]));
}

/* The change from old to new, which differ only in the networks that went, came or changed, as
 * the text of fw_render_change (and its elements into elems, optional). old and new may be the
 * whole lists or only the networks that differ: the change is the same. */
static char *render_diff(const struct fw_network *old, size_t n_old, const char *old_marker,
			 const struct fw_network *new, size_t n_new, const char *new_marker,
			 struct elem_list *elems)
{
	_cleanup_free_ struct fw_network *a_copy = NULL, *b_copy = NULL;
	const struct fw_network *a, *b;
	char om[FW_MARKER_MAX], nm[FW_MARKER_MAX], *text = NULL;
	size_t len, changed = 0, i = 0, j = 0;
	struct elem_list dels = {}, adds_elems = {};
	FILE *f, *adds;
	char *add_text = NULL;
	size_t add_len;
	int r = 0;

	if (fw_marker_element(old_marker, om, sizeof(om)) < 0 ||
	    fw_marker_element(new_marker, nm, sizeof(nm)) < 0)
		return strdup("");
	/* Both sorted by bridge, walked together: O(n) for n networks sorted already. */
	a = sorted(old, n_old, &a_copy);
	b = sorted(new, n_new, &b_copy);
	if ((!a && n_old) || (!b && n_new))
		return NULL;
	f = open_memstream(&text, &len);
	adds = open_memstream(&add_text, &add_len);
	if (!f || !adds) {
		if (f)
			fclose(f);
		if (adds)
			fclose(adds);
		free(text);
		free(add_text);
		return NULL;
	}
	fprintf(f, "delete element %s %s marker { %s }\n", FW_FAMILY, FW_TABLE, om);
	if (elems)
		r = marker_elem(&dels, false, old_marker);
	while (r >= 0 && (i < n_old || j < n_new)) {
		int c = i == n_old ? 1 : j == n_new ? -1 : strcmp(a[i].bridge, b[j].bridge);

		if (c == 0 && fw_network_equal(&a[i], &b[j])) {
			i++, j++;
			continue;
		}
		changed++;
		/* went, or changed: its old elements; came, or changed: its new elements */
		if (c <= 0)
			r = element_lines(f, "delete", &a[i++], NULL, elems ? &dels : NULL);
		if (r >= 0 && c >= 0)
			r = element_lines(adds, "add", &b[j++], NULL, elems ? &adds_elems : NULL);
	}
	fclose(adds);
	if (add_text)
		fputs(add_text, f);
	free(add_text);
	fprintf(f, "add element %s %s marker { %s }\n", FW_FAMILY, FW_TABLE, nm);
	if (r >= 0 && elems) {
		r = elem_list_append(elems, &dels);
		if (r >= 0)
			r = elem_list_append(elems, &adds_elems);
		if (r >= 0)
			r = marker_elem(elems, true, new_marker);
	}
	elem_list_free(&dels);
	elem_list_free(&adds_elems);
	if (fclose(f) != 0 || r < 0) {
		free(text);
		return NULL;
	}
	if (!changed || !strcmp(old_marker, new_marker)) {
		text[0] = 0; /* nothing to do */
		if (elems)
			elem_list_free(elems);
	}
	return text;
}

static char *render_change(const struct fw_network *old, size_t n_old, const char *old_marker,
			   const struct fw_network *new, size_t n_new, const char *new_marker,
			   struct elem_list *elems)
{
	if (!n_old || !n_new || !same_lens(old, n_old, new, n_new))
		return strdup(""); /* the table comes or goes, or its rules change: fw_render */
	return render_diff(old, n_old, old_marker, new, n_new, new_marker, elems);
}

char *fw_render_change(const struct fw_network *old, size_t n_old, const char *old_marker,
		       const struct fw_network *new, size_t n_new, const char *new_marker)
{
	return render_change(old, n_old, old_marker, new, n_new, new_marker, NULL);
}

/* A change's text, and its elements into *ret_elems (taken from l), none when there is no change. */
static char *take_elems(char *text, struct elem_list *l, struct fw_elem **ret_elems, size_t *ret_n)
{
	if (!text || !text[0]) {
		elem_list_free(l);
		*ret_elems = NULL;
		*ret_n = 0;
		return text;
	}
	*ret_elems = l->e;
	*ret_n = l->n;
	return text;
}

char *fw_render_change_elems(const struct fw_network *old, size_t n_old, const char *old_marker,
			     const struct fw_network *new, size_t n_new, const char *new_marker,
			     struct fw_elem **ret_elems, size_t *ret_n)
{
	struct elem_list l = {};

	return take_elems(render_change(old, n_old, old_marker, new, n_new, new_marker, &l), &l, ret_elems,
			  ret_n);
}

char *fw_render_change_only(const struct fw_network *gone, size_t n_gone, const char *old_marker,
			    const struct fw_network *came, size_t n_came, const char *new_marker,
			    struct fw_elem **ret_elems, size_t *ret_n)
{
	struct elem_list l = {};

	return take_elems(render_diff(gone, n_gone, old_marker, came, n_came, new_marker, &l), &l, ret_elems,
			  ret_n);
}
