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
 * The set "bridges" holds every netd bridge; its comment is the table's marker: a hash of the
 * script and the number of rules and set elements, which tells netd whether the table in the
 * kernel is the one it applied. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall.h"
#include "macro.h"

enum set_id {
	SET_SELF,	 /* every network: bridge . bridge */
	SET_REPLIES,	 /* nat: bridge . subnet */
	SET_ROUTED_IN,	 /* routed: bridge . subnet */
	SET_OUT,	 /* nat, routed: bridge . subnet */
	SET_OUT_UPLINK,	 /* nat, routed with an uplink: bridge . subnet . uplink */
	SET_INSIDE,	 /* nat: subnet . subnet */
	SET_MASQ,	 /* nat: subnet */
	SET_MASQ_UPLINK, /* nat with an uplink: subnet . uplink */
	SET_OPEN,	 /* open: bridge */
	SET_OPEN_UPLINK, /* open with an uplink: bridge . uplink */
	SET_GATEWAYS,	 /* every network: bridge . gateway */
	SET_HOST_PORTS,	 /* allowed host services: bridge . protocol . port */
	_SET_MAX,
};

static const struct {
	const char *name, *type;
	bool interval;
} set_defs[_SET_MAX] = {
	[SET_SELF] = { "self", "ifname . ifname", false },
	[SET_REPLIES] = { "replies", "ifname . ipv4_addr", true },
	[SET_ROUTED_IN] = { "routed_in", "ifname . ipv4_addr", true },
	[SET_OUT] = { "out", "ifname . ipv4_addr", true },
	[SET_OUT_UPLINK] = { "out_uplink", "ifname . ipv4_addr . ifname", true },
	[SET_INSIDE] = { "inside", "ipv4_addr . ipv4_addr", true },
	[SET_MASQ] = { "masq", "ipv4_addr", true },
	[SET_MASQ_UPLINK] = { "masq_uplink", "ipv4_addr . ifname", true },
	[SET_OPEN] = { "open", "ifname", false },
	[SET_OPEN_UPLINK] = { "open_uplink", "ifname . ifname", false },
	[SET_GATEWAYS] = { "gateways", "ifname . ipv4_addr", false },
	[SET_HOST_PORTS] = { "host_ports", "ifname . inet_proto . inet_service", false },
};

struct out {
	FILE *f;
	unsigned objects; /* rules and set elements */
	FILE *set[_SET_MAX];
	char *set_text[_SET_MAX];
	size_t set_len[_SET_MAX];
	unsigned set_n[_SET_MAX];
};

static void element(struct out *o, enum set_id s, const char *fmt, ...) _printf_(3, 4);
static void element(struct out *o, enum set_id s, const char *fmt, ...)
{
	va_list ap;

	if (o->set_n[s]++)
		fputs(", ", o->set[s]);
	va_start(ap, fmt);
	vfprintf(o->set[s], fmt, ap);
	va_end(ap);
	o->objects++;
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

/* Each network's elements; the caller has opened the set streams. */
static void fill_sets(struct out *o, const struct fw_network *nets, size_t n)
{
	char s[IP_PREFIX_STRLEN], g[INET_ADDRSTRLEN];

	for (size_t i = 0; i < n; i++) {
		const struct fw_network *w = &nets[i];
		const char *b = w->bridge, *u = w->uplink;

		ip_prefix_format(&w->subnet, s, sizeof(s));
		element(o, SET_SELF, "\"%s\" . \"%s\"", b, b);
		element(o, SET_GATEWAYS, "\"%s\" . %s", b, ip_addr_format(AF_INET, &w->gateway, g, sizeof(g)));
		for (size_t j = 0; j < w->n_host_ports; j++)
			element(o, SET_HOST_PORTS, "\"%s\" . %s . %u", b, l4_proto_to_string(w->host_ports[j].proto),
				w->host_ports[j].port);
		if (w->mode == FW_NAT) {
			element(o, SET_REPLIES, "\"%s\" . %s", b, s);
			element(o, SET_INSIDE, "%s . %s", s, s);
			if (u[0])
				element(o, SET_MASQ_UPLINK, "%s . \"%s\"", s, u);
			else
				element(o, SET_MASQ, "%s", s);
		} else if (w->mode == FW_ROUTED) {
			element(o, SET_ROUTED_IN, "\"%s\" . %s", b, s);
		} else if (w->mode == FW_OPEN) {
			if (u[0])
				element(o, SET_OPEN_UPLINK, "\"%s\" . \"%s\"", b, u);
			else
				element(o, SET_OPEN, "\"%s\"", b);
		}
		if (w->mode == FW_NAT || w->mode == FW_ROUTED) {
			if (u[0])
				element(o, SET_OUT_UPLINK, "\"%s\" . %s . \"%s\"", b, s, u);
			else
				element(o, SET_OUT, "\"%s\" . %s", b, s);
		}
	}
}

static void render_sets(struct out *o)
{
	for (int s = 0; s < _SET_MAX; s++) {
		if (!o->set_n[s])
			continue;
		fprintf(o->f, "\tset %s {\n\t\ttype %s\n%s\t\telements = { %s }\n\t}\n\n", set_defs[s].name,
			set_defs[s].type, set_defs[s].interval ? "\t\tflags interval\n" : "", o->set_text[s]);
	}
}

/* Rules only for sets that exist: a rule naming a missing set fails the whole script. */
static void render_forward(struct out *o)
{
	fprintf(o->f, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
	if (o->set_n[SET_REPLIES])
		rule(o, "oifname . ip daddr @replies ct state established,related accept");
	if (o->set_n[SET_ROUTED_IN])
		rule(o, "iifname != @bridges oifname . ip daddr @routed_in accept");
	if (o->set_n[SET_OUT])
		rule(o, "iifname . ip saddr @out oifname != @bridges accept");
	if (o->set_n[SET_OUT_UPLINK])
		rule(o, "iifname . ip saddr . oifname @out_uplink accept");
	if (o->set_n[SET_OPEN]) {
		rule(o, "iifname @open oifname != @bridges accept");
		rule(o, "oifname @open iifname != @bridges accept");
	}
	if (o->set_n[SET_OPEN_UPLINK]) {
		rule(o, "iifname . oifname @open_uplink accept");
		rule(o, "oifname . iifname @open_uplink accept");
	}
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
	if (o->set_n[SET_HOST_PORTS])
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

static void render_postrouting(struct out *o)
{
	if (!o->set_n[SET_INSIDE])
		return;
	fprintf(o->f, "\n\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	rule(o, "ip daddr { 224.0.0.0/4, 255.255.255.255 } return");
	rule(o, "ip saddr . ip daddr @inside return");
	if (o->set_n[SET_MASQ])
		rule(o, "ip saddr @masq masquerade");
	if (o->set_n[SET_MASQ_UPLINK])
		rule(o, "ip saddr . oifname @masq_uplink masquerade");
	fprintf(o->f, "\t}\n");
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

static int by_bridge(const void *a, const void *b)
{
	return strcmp(((const struct fw_network *)a)->bridge, ((const struct fw_network *)b)->bridge);
}

char *fw_render(const struct fw_network *in, size_t n, char **ret_marker)
{
	_cleanup_free_ struct fw_network *nets = NULL;
	_cleanup_free_ char *body = NULL, *bridges = NULL;
	size_t len, blen;
	struct out o = {};
	FILE *b = NULL;
	char *script = NULL;
	bool ok = true;

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
	/* Sorted by bridge: the same networks give the same script whatever order they come in, so
	 * a restarted netd that reads the config dir in another order still recognises its table. */
	nets = malloc(n * sizeof(*nets));
	if (!nets)
		return NULL;
	memcpy(nets, in, n * sizeof(*nets));
	qsort(nets, n, sizeof(*nets), by_bridge);

	for (int s = 0; s < _SET_MAX; s++)
		ok &= (o.set[s] = open_memstream(&o.set_text[s], &o.set_len[s])) != NULL;
	ok &= (b = open_memstream(&bridges, &blen)) != NULL;
	if (ok) {
		for (size_t i = 0; i < n; i++)
			fprintf(b, "%s\"%s\"", i ? ", " : "", nets[i].bridge);
		o.objects += n;
		fill_sets(&o, nets, n);
	}
	for (int s = 0; s < _SET_MAX; s++)
		if (o.set[s] && fclose(o.set[s]) != 0)
			ok = false;
	if (b && fclose(b) != 0)
		ok = false;
	if (ok && (o.f = open_memstream(&body, &len))) {
		render_sets(&o);
		render_forward(&o);
		render_input(&o);
		render_postrouting(&o);
		ok = fclose(o.f) == 0;
	} else {
		ok = false;
	}
	if (ok && asprintf(ret_marker, "netd:%016" PRIx64 ":%u", fnv1a(body) ^ fnv1a(bridges), o.objects) < 0)
		*ret_marker = NULL;
	if (*ret_marker && asprintf(&script,
				    "table %s %s\n"
				    "delete table %s %s\n"
				    "table %s %s {\n"
				    "\tset bridges {\n\t\ttype ifname\n\t\tcomment \"%s\"\n\t\telements = { %s }\n\t}\n\n"
				    "%s"
				    "}\n",
				    FW_FAMILY, FW_TABLE, FW_FAMILY, FW_TABLE, FW_FAMILY, FW_TABLE, *ret_marker, bridges,
				    body) < 0) {
		free(*ret_marker);
		*ret_marker = NULL;
		script = NULL;
	}
	for (int s = 0; s < _SET_MAX; s++)
		free(o.set_text[s]);
	return script;
}
