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
 *   broadcast and traffic that stays inside the subnet.
 * input (filter, policy accept: only traffic from netd's bridges is looked at): what guests reach
 *   on the host. Replies to what the host started; DHCP broadcasts; nothing from a source not
 *   routed back through the bridge; DHCP, DNS, ICMP essentials and the ports the
 *   network allows, on that network's own gateway address; IPv6 neighbour discovery, MLD, ICMPv6
 *   errors and echo to link-local, DHCPv6. Everything else from a bridge is rejected: the host's
 *   other addresses and other networks' gateways included.
 * The sets of concatenated ranges are sharded by bridge name, each shard behind a verdict map
 * (see FW_SHARDS), so that removing a network's elements stays cheap with many networks.
 * The set "bridges" holds every netd bridge; the one element of set "marker" is the table's
 * marker: a hash of the script and the number of rules and set elements, which tells netd whether
 * the table in the kernel is the one it applied. Every set and rule is always there (a set may be
 * empty), so networks that come and go are set elements only (fw_render_change). */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall.h"
#include "macro.h"

/* Shards of the sets of concatenated ranges (pipapo in the kernel): removing an element from a
 * pipapo set costs time that grows with the set's size (nat/DESIGN.md, "Shards"), so each of those
 * sets is FW_SHARDS sets, a network's elements go to the shard of its bridge name, and verdict maps
 * keyed by one field (hash, or one interval: cheap to change) jump to the shard's chain. */
#define FW_SHARDS 8
/* In those sets the address comes first: removing an element compares it with every element before
 * it, field by field, and an address (4 bytes) is compared 4 times faster than an interface name
 * (16 bytes). */

enum set_id {
	SET_SELF,	 /* every network: bridge . bridge */
	SET_REPLIES,	 /* nat: subnet . bridge (sharded) */
	SET_ROUTED_IN,	 /* routed: subnet . bridge (sharded) */
	SET_OUT,	 /* nat, routed: subnet . bridge (sharded) */
	SET_OUT_UPLINK,	 /* nat, routed with an uplink: subnet . bridge . uplink (sharded) */
	SET_INSIDE,	 /* nat: subnet . subnet (sharded) */
	SET_MASQ,	 /* nat: subnet */
	SET_MASQ_UPLINK, /* nat with an uplink: subnet . uplink (sharded) */
	SET_OPEN,	 /* open: bridge */
	SET_OPEN_UPLINK, /* open with an uplink: bridge . uplink */
	SET_GATEWAYS,	 /* every network: bridge . gateway */
	SET_HOST_PORTS,	 /* allowed host services: bridge . protocol . port */
	MAP_OIF,	 /* nat, routed: bridge : jump to_bridge_K (replies, routed_in) */
	MAP_IIF,	 /* nat, routed: bridge : jump from_bridge_K (out, out_uplink) */
	MAP_SRC,	 /* nat: subnet : jump from_subnet_K (inside, masq_uplink) */
	_SET_MAX,
};

static const struct {
	const char *name, *type;
	bool interval, sharded, map;
} set_defs[_SET_MAX] = {
	[SET_SELF] = { "self", "ifname . ifname" },
	[SET_REPLIES] = { "replies", "ipv4_addr . ifname", true, true },
	[SET_ROUTED_IN] = { "routed_in", "ipv4_addr . ifname", true, true },
	[SET_OUT] = { "out", "ipv4_addr . ifname", true, true },
	[SET_OUT_UPLINK] = { "out_uplink", "ipv4_addr . ifname . ifname", true, true },
	[SET_INSIDE] = { "inside", "ipv4_addr . ipv4_addr", true, true },
	[SET_MASQ] = { "masq", "ipv4_addr", true },
	[SET_MASQ_UPLINK] = { "masq_uplink", "ipv4_addr . ifname", true, true },
	[SET_OPEN] = { "open", "ifname" },
	[SET_OPEN_UPLINK] = { "open_uplink", "ifname . ifname" },
	[SET_GATEWAYS] = { "gateways", "ifname . ipv4_addr" },
	[SET_HOST_PORTS] = { "host_ports", "ifname . inet_proto . inet_service" },
	[MAP_OIF] = { "oif_shard", "ifname : verdict", .map = true },
	[MAP_IIF] = { "iif_shard", "ifname : verdict", .map = true },
	/* Subnets of netd networks never overlap (network create checks), so one interval each. */
	[MAP_SRC] = { "src_shard", "ipv4_addr : verdict", true, .map = true },
};

/* The elements of one set (of one shard of a sharded set), as text. */
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
	unsigned shard;	  /* the shard of the network being filled */
	bool failed;	  /* a stream could not be opened */
	struct set_text set[_SET_MAX][FW_SHARDS]; /* [s][0] only for a set that is not sharded */
	struct elem_list *elems; /* NULL, or where each element goes besides its text */
	bool add; /* ... to be added (or deleted) */
};

static void set_name(enum set_id s, unsigned k, char *buf, size_t size)
{
	if (set_defs[s].sharded)
		snprintf(buf, size, "%s_%u", set_defs[s].name, k);
	else
		snprintf(buf, size, "%s", set_defs[s].name);
}

/* The fields of an element, each a type and its value, ended by F_END. */
enum {
	F_END,
	F_IF, /* const char *: an interface name */
	F_PREFIX, /* const struct ip_prefix *: an IPv4 prefix (a range in an interval set) */
	F_ADDR, /* const union in_addr_union *: an IPv4 address */
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

/* One field's bytes, as nft lays a concatenation out: each field padded to 4 bytes; a prefix's
 * range in key (first address) and key_end (last). */
static bool elem_field(struct fw_elem *e, int type, va_list *ap, char *text, size_t size)
{
	uint8_t *k = e->key + e->len, *ke = e->key_end + e->len;
	size_t w;

	switch (type) {
	case F_IF: {
		const char *name = va_arg(*ap, const char *);

		snprintf(text, size, "\"%s\"", name);
		w = IFNAMSIZ;
		if (e->len + w > sizeof(e->key))
			return false;
		strncpy((char *)k, name, IFNAMSIZ);
		memcpy(ke, k, IFNAMSIZ);
		break;
	}
	case F_PREFIX: {
		const struct ip_prefix *p = va_arg(*ap, const struct ip_prefix *);
		struct ip_prefix first = *p;
		union in_addr_union last;

		ip_prefix_format(p, text, size);
		w = 4;
		if (p->family != AF_INET || e->len + w > sizeof(e->key))
			return false;
		ip_prefix_mask(&first);
		ip_prefix_broadcast(p, &last);
		memcpy(k, &first.addr.in, 4);
		memcpy(ke, &last.in, 4);
		break;
	}
	case F_ADDR: {
		const union in_addr_union *a = va_arg(*ap, const union in_addr_union *);

		ip_addr_format(AF_INET, a, text, size);
		w = 4;
		if (e->len + w > sizeof(e->key))
			return false;
		memcpy(k, &a->in, 4);
		memcpy(ke, &a->in, 4);
		break;
	}
	case F_PROTO: {
		int proto = va_arg(*ap, int);

		snprintf(text, size, "%s", l4_proto_to_string(proto));
		w = 4;
		if (e->len + w > sizeof(e->key))
			return false;
		k[0] = ke[0] = (uint8_t)proto;
		break;
	}
	case F_PORT: {
		unsigned port = va_arg(*ap, unsigned);

		snprintf(text, size, "%u", port);
		w = 4;
		if (e->len + w > sizeof(e->key))
			return false;
		k[0] = ke[0] = (uint8_t)(port >> 8);
		k[1] = ke[1] = (uint8_t)port;
		break;
	}
	default:
		return false;
	}
	e->len += w;
	return true;
}

/* An element of set s: its text in the set's list, and (o->elems) the element as the kernel takes
 * it. jump: the chain a verdict map's element jumps to, NULL for a set. */
static void element(struct out *o, enum set_id s, const char *jump, ...)
{
	unsigned k = set_defs[s].sharded ? o->shard : 0;
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
	va_start(ap, jump);
	while ((type = va_arg(ap, int)) != F_END) {
		if (!elem_field(e, type, &ap, text, sizeof(text)))
			o->failed = true;
		fprintf(t->f, "%s%s", fields++ ? " . " : "", text);
	}
	va_end(ap);
	if (jump)
		fprintf(t->f, " : jump %s", jump);
	o->objects++;

	e->add = o->add;
	set_name(s, k, e->set, sizeof(e->set));
	e->kind = !set_defs[s].interval ? FW_ELEM_KEY : fields > 1 ? FW_ELEM_CONCAT_RANGE : FW_ELEM_RANGE;
	if (jump)
		snprintf(e->jump, sizeof(e->jump), "%s", jump);
}

/* Close every stream; false if one failed. The texts stay until out_free(). */
static bool out_close_sets(struct out *o)
{
	bool ok = !o->failed;

	for (int s = 0; s < _SET_MAX; s++)
		for (unsigned k = 0; k < FW_SHARDS; k++) {
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
		for (unsigned k = 0; k < FW_SHARDS; k++)
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

/* Each network's elements. Its shard follows from its bridge name alone, so the same networks
 * always give the same script (a restarted netd recognises its table by the marker). */
static void fill_sets(struct out *o, const struct fw_network *nets, size_t n)
{
	char c[32];

	for (size_t i = 0; i < n; i++) {
		const struct fw_network *w = &nets[i];
		const char *b = w->bridge, *u = w->uplink;
		const struct ip_prefix *s = &w->subnet;
		unsigned k = o->shard = fnv1a(b) % FW_SHARDS;

		element(o, SET_SELF, NULL, F_IF, b, F_IF, b, F_END);
		element(o, SET_GATEWAYS, NULL, F_IF, b, F_ADDR, &w->gateway, F_END);
		for (size_t j = 0; j < w->n_host_ports; j++)
			element(o, SET_HOST_PORTS, NULL, F_IF, b, F_PROTO, (int)w->host_ports[j].proto,
				F_PORT, (unsigned)w->host_ports[j].port, F_END);
		if (w->mode == FW_NAT) {
			element(o, SET_REPLIES, NULL, F_PREFIX, s, F_IF, b, F_END);
			element(o, SET_INSIDE, NULL, F_PREFIX, s, F_PREFIX, s, F_END);
			snprintf(c, sizeof(c), "from_subnet_%u", k);
			element(o, MAP_SRC, c, F_PREFIX, s, F_END);
			if (u[0])
				element(o, SET_MASQ_UPLINK, NULL, F_PREFIX, s, F_IF, u, F_END);
			else
				element(o, SET_MASQ, NULL, F_PREFIX, s, F_END);
		} else if (w->mode == FW_ROUTED) {
			element(o, SET_ROUTED_IN, NULL, F_PREFIX, s, F_IF, b, F_END);
		} else if (w->mode == FW_OPEN) {
			if (u[0])
				element(o, SET_OPEN_UPLINK, NULL, F_IF, b, F_IF, u, F_END);
			else
				element(o, SET_OPEN, NULL, F_IF, b, F_END);
		}
		if (w->mode == FW_NAT || w->mode == FW_ROUTED) {
			snprintf(c, sizeof(c), "to_bridge_%u", k);
			element(o, MAP_OIF, c, F_IF, b, F_END);
			snprintf(c, sizeof(c), "from_bridge_%u", k);
			element(o, MAP_IIF, c, F_IF, b, F_END);
			if (u[0])
				element(o, SET_OUT_UPLINK, NULL, F_PREFIX, s, F_IF, b, F_IF, u, F_END);
			else
				element(o, SET_OUT, NULL, F_PREFIX, s, F_IF, b, F_END);
		}
	}
}

/* One set (or map) with its elements. A shard's set holds a few networks' elements: one line. */
static void render_set(struct out *o, enum set_id s, unsigned k)
{
	const struct set_text *t = &o->set[s][k];
	char name[32];

	set_name(s, k, name, sizeof(name));
	if (set_defs[s].sharded) {
		fprintf(o->f, "\tset %s { type %s; flags interval;%s%s%s }\n", name, set_defs[s].type,
			t->n ? " elements = { " : "", t->n ? t->text : "", t->n ? " }" : "");
		return;
	}
	fprintf(o->f, "\t%s %s {\n\t\ttype %s\n%s", set_defs[s].map ? "map" : "set", name, set_defs[s].type,
		set_defs[s].interval ? "\t\tflags interval\n" : "");
	if (t->n)
		fprintf(o->f, "\t\telements = { %s }\n", t->text);
	fprintf(o->f, "\t}\n\n");
}

/* Every set, empty or not: the rules are the same whatever the networks are, so a network that
 * comes or goes changes set and map elements only (fw_render_change). */
static void render_sets(struct out *o)
{
	for (int s = 0; s < _SET_MAX; s++) {
		if (!set_defs[s].sharded) {
			render_set(o, s, 0);
			continue;
		}
		for (unsigned k = 0; k < FW_SHARDS; k++)
			render_set(o, s, k);
		fputc('\n', o->f);
	}
}

/* The verdict maps jump to a shard's chain for the packets that can match its sets; the rules
 * there are the ones of an unsharded set, all accepts, so they may run in any order before the
 * rejects. */
static void render_forward(struct out *o)
{
	fprintf(o->f, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
	rule(o, "oifname vmap @oif_shard");
	rule(o, "iifname vmap @iif_shard");
	rule(o, "iifname @open oifname != @bridges accept");
	rule(o, "oifname @open iifname != @bridges accept");
	rule(o, "iifname . oifname @open_uplink accept");
	rule(o, "oifname . iifname @open_uplink accept");
	rule(o, "iifname . oifname @self accept");
	rule(o, "iifname @bridges reject with icmpx type admin-prohibited");
	rule(o, "oifname @bridges reject with icmpx type admin-prohibited");
	fprintf(o->f, "\t}\n");
}
static void render_input(struct out *o)
{
	fprintf(o->f, "\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n");
	rule(o, "iifname @bridges jump guest_in");
	fprintf(o->f, "\t}\n\n\tchain guest_in {\n");
	rule(o, "ct state established,related accept");
	rule(o, "udp dport 67 ip daddr 255.255.255.255 accept");
	/* Reverse-path filtering whatever the sysctls say (the kernel takes the larger of "all" and
	 * the bridge's rp_filter, and IPv6 has none): a source not routed back through the bridge. */
	rule(o, "fib saddr . iif oif missing drop");
	rule(o, "iifname . ip daddr @gateways jump guest_to_gateway");
	rule(o, "meta nfproto ipv6 jump guest_in6");
	rule(o, "reject with icmpx type admin-prohibited");
	fprintf(o->f, "\t}\n\n\tchain guest_to_gateway {\n");
	rule(o, "udp dport { 53, 67 } accept");
	rule(o, "tcp dport 53 accept");
	rule(o, "icmp type { echo-request, destination-unreachable, time-exceeded, parameter-problem } accept");
	rule(o, "iifname . meta l4proto . th dport @host_ports accept");
	rule(o, "reject with icmpx type admin-prohibited");
	fprintf(o->f, "\t}\n\n\tchain guest_in6 {\n");
	rule(o, "icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, "
		"mld2-listener-report, mld-listener-done } accept");
	rule(o, "ip6 daddr fe80::/10 icmpv6 type { echo-request, destination-unreachable, packet-too-big, "
		"time-exceeded, parameter-problem } accept");
	rule(o, "ip6 daddr { ff02::1:2, fe80::/10 } udp dport 547 accept");
	rule(o, "reject with icmpx type admin-prohibited");
	fprintf(o->f, "\t}\n");
}

/* Inside a jumped chain "return" would go on to the masquerade: traffic that stays in its subnet
 * is accepted there instead, which ends the chain's work the same way. */
static void render_postrouting(struct out *o)
{
	fprintf(o->f, "\n\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	rule(o, "ip daddr { 224.0.0.0/4, 255.255.255.255 } return");
	rule(o, "ip saddr vmap @src_shard");
	rule(o, "ip saddr @masq masquerade");
	fprintf(o->f, "\t}\n");
}

/* The chains the verdict maps jump to, one of each per shard. */
static void render_shard_chains(struct out *o)
{
	for (unsigned k = 0; k < FW_SHARDS; k++) {
		fprintf(o->f, "\n\tchain to_bridge_%u {\n", k);
		rule(o, "ip daddr . oifname @replies_%u ct state established,related accept", k);
		rule(o, "iifname != @bridges ip daddr . oifname @routed_in_%u accept", k);
		fprintf(o->f, "\t}\n\n\tchain from_bridge_%u {\n", k);
		rule(o, "ip saddr . iifname @out_%u oifname != @bridges accept", k);
		rule(o, "ip saddr . iifname . oifname @out_uplink_%u accept", k);
		fprintf(o->f, "\t}\n\n\tchain from_subnet_%u {\n", k);
		rule(o, "ip saddr . ip daddr @inside_%u accept", k);
		rule(o, "ip saddr . oifname @masq_uplink_%u masquerade", k);
		fprintf(o->f, "\t}\n");
	}
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
	render_shard_chains(o);
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

/* What the rules see of a network is the same (then so are its elements). */
bool fw_network_equal(const struct fw_network *a, const struct fw_network *b)
{
	return !strcmp(a->bridge, b->bridge) && ip_prefix_equal(&a->subnet, &b->subnet) &&
	       !memcmp(&a->gateway.in, &b->gateway.in, sizeof(a->gateway.in)) && a->mode == b->mode &&
	       !strcmp(a->uplink, b->uplink) && a->n_host_ports == b->n_host_ports &&
	       !memcmp(a->host_ports, b->host_ports, a->n_host_ports * sizeof(a->host_ports[0]));
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
		*e = (struct fw_elem){ .add = o->add, .kind = FW_ELEM_KEY, .set = "bridges", .len = IFNAMSIZ };
		strncpy((char *)e->key, w->bridge, IFNAMSIZ);
	}
	fill_sets(o, w, 1);
	if (!out_close_sets(o))
		return -ENOMEM;
	if (ret_objects)
		*ret_objects = o->objects + 1; /* + its element of "bridges" */
	fprintf(f, "%s element %s %s bridges { \"%s\" }\n", verb, FW_FAMILY, FW_TABLE, w->bridge);
	for (int s = 0; s < _SET_MAX; s++)
		for (unsigned k = 0; k < FW_SHARDS; k++) {
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
	*ret = (struct fw_share){ .hash = fnv1a(text), .objects = objects };
	return 0;
}

void fw_share_add(struct fw_share *sum, const struct fw_share *s)
{
	sum->hash += s->hash;
	sum->objects += s->objects;
}

void fw_share_sub(struct fw_share *sum, const struct fw_share *s)
{
	sum->hash -= s->hash;
	sum->objects -= s->objects;
}

/* The rules and the empty sets: the share of the table itself. The same text every time. */
static int fixed_share(struct fw_share *ret)
{
	_cleanup_(out_freep) struct out *o = calloc(1, sizeof(*o));
	_cleanup_free_ char *body = NULL;
	size_t len;
	bool ok;

	if (!o || !(o->f = open_memstream(&body, &len)))
		return -ENOMEM;
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
	r = fixed_share(&t);
	if (r < 0)
		return r;
	fw_share_add(&t, sum);
	/* + 1: the marker's own element */
	if (snprintf(buf, size, "netd:%016" PRIx64 ":%u", t.hash, t.objects + 1) >= (int)size)
		return -ENOBUFS;
	return 0;
}

static struct fw_network *sorted_copy(const struct fw_network *nets, size_t n)
{
	struct fw_network *c = malloc((n + 1) * sizeof(*c));

	if (c) {
		memcpy(c, nets, n * sizeof(*c));
		qsort(c, n, sizeof(*c), by_bridge);
	}
	return c;
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
	*e = (struct fw_elem){ .add = add, .kind = FW_ELEM_KEY, .set = FW_MARKER_SET, .len = 4 * IFNAMSIZ };
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

static char *render_change(const struct fw_network *old, size_t n_old, const char *old_marker,
			   const struct fw_network *new, size_t n_new, const char *new_marker,
			   struct elem_list *elems)
{
	_cleanup_free_ struct fw_network *a = NULL, *b = NULL;
	char om[FW_MARKER_MAX], nm[FW_MARKER_MAX], *text = NULL;
	size_t len, changed = 0, i = 0, j = 0;
	struct elem_list dels = {}, adds_elems = {};
	FILE *f, *adds;
	char *add_text = NULL;
	size_t add_len;
	int r = 0;

	if (!n_old || !n_new || fw_marker_element(old_marker, om, sizeof(om)) < 0 ||
	    fw_marker_element(new_marker, nm, sizeof(nm)) < 0)
		return strdup(""); /* the table comes or goes: fw_render */
	/* Both sorted by bridge, walked together: O(n log n) for n networks. */
	a = sorted_copy(old, n_old);
	b = sorted_copy(new, n_new);
	if (!a || !b)
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

char *fw_render_change(const struct fw_network *old, size_t n_old, const char *old_marker,
		       const struct fw_network *new, size_t n_new, const char *new_marker)
{
	return render_change(old, n_old, old_marker, new, n_new, new_marker, NULL);
}

char *fw_render_change_elems(const struct fw_network *old, size_t n_old, const char *old_marker,
			     const struct fw_network *new, size_t n_new, const char *new_marker,
			     struct fw_elem **ret_elems, size_t *ret_n)
{
	struct elem_list l = {};
	char *text = render_change(old, n_old, old_marker, new, n_new, new_marker, &l);

	if (!text || !text[0]) {
		elem_list_free(&l);
		*ret_elems = NULL;
		*ret_n = 0;
		return text;
	}
	*ret_elems = l.e;
	*ret_n = l.n;
	return text;
}
