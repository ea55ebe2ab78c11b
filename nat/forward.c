/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Port forwards: their text, their map elements and table inet netd_fwd (forward.h). Pure. */
#include "forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *const maps[2][3] = {
	/* by listen kind: any, address, uplink */
	{ "fwd4_any", "fwd4", "fwd4_if" },
	{ "fwd6_any", "fwd6", "fwd6_if" },
};

const char *nat_fwd_protos_to_string(unsigned protos)
{
	return protos == (NAT_FWD_TCP | NAT_FWD_UDP) ? "tcp,udp" : protos == NAT_FWD_UDP ? "udp" : "tcp";
}

/* A decimal port 1-65535, no sign or leading zero. */
static int port_parse(const char *s, size_t len, uint16_t *ret)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* "P" or "P-Q" (Q > P). */
static int ports_parse(const char *s, uint16_t *lo, uint16_t *hi)
{
	const char *dash = strchr(s, '-');

	if (!dash)
		return port_parse(s, strlen(s), lo) < 0 ? -EINVAL : (*hi = *lo, 0);
	if (port_parse(s, dash - s, lo) < 0 || port_parse(dash + 1, strlen(dash + 1), hi) < 0 || *hi <= *lo)
		return -EINVAL;
	return 0;
}

/* A guest name or a DHCP hostname: letters, digits, '-', '_' and '.', starting with a letter or
 * digit (nothing nft or a log could read otherwise). */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > NAT_FWD_NAME_MAX || s[0] == '-' || s[0] == '.' || s[0] == '_')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static int protos_parse(const char *s, unsigned *ret)
{
	if (!strcmp(s, "tcp"))
		*ret = NAT_FWD_TCP;
	else if (!strcmp(s, "udp"))
		*ret = NAT_FWD_UDP;
	else if (!strcmp(s, "tcp,udp") || !strcmp(s, "udp,tcp"))
		*ret = NAT_FWD_TCP | NAT_FWD_UDP;
	else
		return -EINVAL;
	return 0;
}

static int id_parse(const char *s, unsigned *ret)
{
	uint16_t v;

	/* 1..65535 is plenty for NAT_FWD_MAX forwards */
	if (port_parse(s, strlen(s), &v) < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* TO[:PORTS]: "[v6]:P", "v6", "v4:P", "v4", "name:P", "name". */
static int to_parse(const char *s, struct nat_forward *f, int *family, char *err, size_t errlen)
{
	char host[NAT_FWD_NAME_MAX + 48];
	const char *ports = NULL;
	uint16_t hi;
	size_t n;

	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e || (e[1] && e[1] != ':'))
			return fail(err, errlen, "invalid target '%s': expected [IPv6]:PORT", s);
		n = e - s - 1;
		ports = e[1] ? e + 2 : NULL;
		s++;
	} else if (strchr(s, ':') != strrchr(s, ':')) {
		n = strlen(s); /* a bare IPv6 address */
	} else {
		ports = strchr(s, ':');
		n = ports ? (size_t)(ports - s) : strlen(s);
		ports = ports ? ports + 1 : NULL;
	}
	if (n >= sizeof(host))
		return fail(err, errlen, "invalid target: too long");
	memcpy(host, s, n);
	host[n] = 0;
	if (ports && ports_parse(ports, &f->to_port, &hi) < 0)
		return fail(err, errlen, "invalid target port '%s': expected PORT or PORT-PORT (1-65535)",
			    ports);
	if (ports && hi - f->to_port != f->port_end - f->port)
		return fail(err, errlen, "target ports '%s' are not as many as the forwarded ones (%u)",
			    ports, f->port_end - f->port + 1u);
	if (ip_addr_parse(host, family, &f->to_addr) >= 0)
		return 0;
	*family = 0;
	if (!name_ok(host))
		return fail(err, errlen,
			    "invalid target '%s': expected a guest name, a hostname or an address", host);
	snprintf(f->to_name, sizeof(f->to_name), "%s", host);
	return 0;
}

int nat_forward_parse(const char *s, struct nat_forward *ret, char *err, size_t errlen)
{
	char buf[NAT_FWD_STRLEN * 2], *w[6], *save = NULL;
	struct nat_forward f = {};
	int n = 0, lf = 0, tf = 0;

	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "invalid forward: too long");
	strcpy(buf, s);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 5)
			return fail(err, errlen, "invalid forward '%s': expected ID PROTO LISTEN PORTS TO",
				    s);
		w[n++] = t;
	}
	if (n != 5)
		return fail(err, errlen, "invalid forward '%s': expected ID PROTO LISTEN PORTS TO", s);
	if (id_parse(w[0], &f.id) < 0)
		return fail(err, errlen, "invalid forward ID '%s': expected a number 1-65535", w[0]);
	if (protos_parse(w[1], &f.protos) < 0)
		return fail(err, errlen, "invalid protocol '%s': expected tcp, udp or tcp,udp", w[1]);
	if (!strcmp(w[2], "any"))
		f.listen = NAT_FWD_LISTEN_ANY;
	else if (!strcmp(w[2], "uplink"))
		f.listen = NAT_FWD_LISTEN_UPLINK;
	else if (ip_addr_parse(w[2], &lf, &f.listen_addr) >= 0)
		f.listen = NAT_FWD_LISTEN_ADDR;
	else
		return fail(err, errlen, "invalid listen address '%s': expected an address, any or uplink",
			    w[2]);
	if (ports_parse(w[3], &f.port, &f.port_end) < 0)
		return fail(err, errlen, "invalid port '%s': expected PORT or PORT-PORT (1-65535)", w[3]);
	if (f.port_end - f.port >= NAT_FWD_RANGE_MAX)
		return fail(err, errlen, "port range '%s' is too large (at most %d ports)", w[3],
			    NAT_FWD_RANGE_MAX);
	if (to_parse(w[4], &f, &tf, err, errlen) < 0)
		return -EINVAL;
	if (lf && tf && lf != tf)
		return fail(err, errlen,
			    "forward '%s': the listen address and the target are not of one "
			    "family",
			    s);
	f.family = lf ?: tf ?: AF_INET;
	if (f.listen == NAT_FWD_LISTEN_ADDR && f.family == AF_INET &&
	    (ntohl(f.listen_addr.in.s_addr) >> 24 == 127 || !f.listen_addr.in.s_addr))
		return fail(err, errlen,
			    "invalid listen address '%s': not a loopback or wildcard "
			    "address (use any)",
			    w[2]);
	if (f.listen == NAT_FWD_LISTEN_ADDR && f.family == AF_INET6 &&
	    (IN6_IS_ADDR_LOOPBACK(&f.listen_addr.in6) || IN6_IS_ADDR_UNSPECIFIED(&f.listen_addr.in6) ||
	     IN6_IS_ADDR_MULTICAST(&f.listen_addr.in6)))
		return fail(err, errlen,
			    "invalid listen address '%s': not a loopback, multicast or "
			    "wildcard address (use any)",
			    w[2]);
	*ret = f;
	return 0;
}

const char *nat_fwd_ports_format(unsigned lo, unsigned hi, char *buf, size_t size)
{
	if (lo == hi)
		snprintf(buf, size, "%u", lo);
	else
		snprintf(buf, size, "%u-%u", lo, hi);
	return buf;
}

const char *nat_forward_format(const struct nat_forward *f, char *buf, size_t size)
{
	char listen[INET6_ADDRSTRLEN], a6[INET6_ADDRSTRLEN], to[NAT_FWD_NAME_MAX + 4], ports[16],
		tports[16] = "";

	if (f->listen == NAT_FWD_LISTEN_ADDR)
		ip_addr_format(f->family, &f->listen_addr, listen, sizeof(listen));
	else
		snprintf(listen, sizeof(listen), "%s", f->listen == NAT_FWD_LISTEN_ANY ? "any" : "uplink");
	if (f->to_name[0])
		snprintf(to, sizeof(to), "%s", f->to_name);
	else if (f->family == AF_INET6 && f->to_port)
		snprintf(to, sizeof(to), "[%s]", ip_addr_format(AF_INET6, &f->to_addr, a6, sizeof(a6)));
	else
		ip_addr_format(f->family, &f->to_addr, to, sizeof(to));
	nat_fwd_ports_format(f->port, f->port_end, ports, sizeof(ports));
	if (f->to_port)
		nat_fwd_ports_format(f->to_port, f->to_port + (f->port_end - f->port), tports,
				     sizeof(tports));
	snprintf(buf, size, "%u %s %s %s %s%s%s", f->id, nat_fwd_protos_to_string(f->protos), listen, ports,
		 to, tports[0] ? ":" : "", tports);
	return buf;
}

bool nat_forward_overlaps(const struct nat_forward *a, const struct nat_forward *b)
{
	if (!(a->protos & b->protos) || a->family != b->family)
		return false;
	if (a->port_end < b->port || b->port_end < a->port)
		return false;
	if (a->listen == NAT_FWD_LISTEN_ADDR && b->listen == NAT_FWD_LISTEN_ADDR)
		return ip_addr_equal(a->family, &a->listen_addr, &b->listen_addr);
	return true;
}

bool nat_forward_equal(const struct nat_forward *a, const struct nat_forward *b)
{
	return a->id == b->id && a->protos == b->protos && a->listen == b->listen && a->family == b->family &&
	       (a->listen != NAT_FWD_LISTEN_ADDR ||
		ip_addr_equal(a->family, &a->listen_addr, &b->listen_addr)) &&
	       a->port == b->port && a->port_end == b->port_end && !strcmp(a->to_name, b->to_name) &&
	       (a->to_name[0] || ip_addr_equal(a->family, &a->to_addr, &b->to_addr)) &&
	       a->to_port == b->to_port;
}

static int elem_push(struct nat_fwd_elem **elems, size_t *n, const struct nat_fwd_elem *e)
{
	struct nat_fwd_elem *l;

	if ((*n & (*n - 1)) == 0) { /* grow at powers of two */
		l = reallocarray(*elems, *n ? *n * 2 : 4, sizeof(*l));
		if (!l)
			return -ENOMEM;
		*elems = l;
	}
	(*elems)[(*n)++] = *e;
	return 0;
}

int nat_forward_elements(const struct nat_forward *f, const union in_addr_union *to, const char *uplink,
			 struct nat_fwd_elem **elems, size_t *n)
{
	char la[INET6_ADDRSTRLEN], ta[INET6_ADDRSTRLEN];
	bool v6 = f->family == AF_INET6;
	int r = 0;

	if (f->listen == NAT_FWD_LISTEN_UPLINK && (!uplink || !uplink[0]))
		return 0;
	ip_addr_format(f->family, to, ta, sizeof(ta));
	if (f->listen == NAT_FWD_LISTEN_ADDR)
		ip_addr_format(f->family, &f->listen_addr, la, sizeof(la));
	for (unsigned p = NAT_FWD_TCP; p <= NAT_FWD_UDP && r >= 0; p <<= 1) {
		if (!(f->protos & p))
			continue;
		for (unsigned port = f->port; port <= f->port_end && r >= 0; port++) {
			struct nat_fwd_elem e = {};
			const char *proto = p == NAT_FWD_TCP ? "tcp" : "udp";
			unsigned tport = f->to_port ? f->to_port + (port - f->port) : port;

			snprintf(e.map, sizeof(e.map), "%s", maps[v6][f->listen]);
			if (f->listen == NAT_FWD_LISTEN_ANY)
				snprintf(e.key, sizeof(e.key), "%s . %u", proto, port);
			else if (f->listen == NAT_FWD_LISTEN_ADDR)
				snprintf(e.key, sizeof(e.key), "%s . %s . %u", la, proto, port);
			else
				snprintf(e.key, sizeof(e.key), "\"%s\" . %s . %u", uplink, proto, port);
			snprintf(e.data, sizeof(e.data), "%s . %u", ta, tport);
			r = elem_push(elems, n, &e);
		}
	}
	return r;
}

void nat_fwd_hairpin_element(const char *bridge, const struct ip_prefix *subnet, struct nat_fwd_elem *ret)
{
	char p[IP_PREFIX_STRLEN];

	*ret = (struct nat_fwd_elem){};
	snprintf(ret->map, sizeof(ret->map), "%s", subnet->family == AF_INET6 ? "hairpin6" : "hairpin4");
	snprintf(ret->key, sizeof(ret->key), "\"%s\" . %s", bridge, ip_prefix_format(subnet, p, sizeof(p)));
}

int nat_fwd_elem_cmp(const struct nat_fwd_elem *a, const struct nat_fwd_elem *b)
{
	int c = strcmp(a->map, b->map);

	return c ? c : strcmp(a->key, b->key);
}

/* The rules, fixed. The maps are looked up in prerouting (from outside, from guests) and output
 * (the host itself), every one only for a destination the kernel finds local (fib daddr type
 * local): a forward's listen address that is not (or no longer) the host's would otherwise take
 * the host's own traffic to it, routed traffic and other guests'; "any" only for local addresses
 * that are not loopback ones (a DNAT of
 * 127.0.0.1 would need route_localnet). Hairpinned connections (a guest to a forward of its own
 * network) are masqueraded to the gateway before netd's own masquerade (priority srcnat - 1):
 * the target's replies must come back through the host to be translated back. They are told by
 * their source being in the subnet of the bridge they leave by: postrouting has no input
 * interface. Each DNAT is preceded by the same key's lookup that sets NAT_FWD_CT_MARK (a map
 * looked up as a set), so the mark is on the connections netd_fwd translated and no others: a
 * NAT hook's chains stop at the first that binds, so another table's earlier DNAT leaves it unset. */
static const char rules_text[] =
	"\tchain prerouting {\n"
	"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	"\t\tfib daddr type local jump lookup_local\n"
	"\t}\n"
	"\tchain output {\n"
	"\t\ttype nat hook output priority -100; policy accept;\n"
	"\t\tfib daddr type local jump lookup_local\n"
	"\t}\n"
	"\tchain lookup_local {\n"
	"\t\tip daddr . meta l4proto . th dport @fwd4 ct mark set ct mark | " NAT_FWD_CT_MARK "\n"
	"\t\tdnat ip to ip daddr . meta l4proto . th dport map @fwd4\n"
	"\t\tip6 daddr . meta l4proto . th dport @fwd6 ct mark set ct mark | " NAT_FWD_CT_MARK "\n"
	"\t\tdnat ip6 to ip6 daddr . meta l4proto . th dport map @fwd6\n"
	"\t\tiifname . meta l4proto . th dport @fwd4_if ct mark set ct mark | " NAT_FWD_CT_MARK "\n"
	"\t\tdnat ip to iifname . meta l4proto . th dport map @fwd4_if\n"
	"\t\tiifname . meta l4proto . th dport @fwd6_if ct mark set ct mark | " NAT_FWD_CT_MARK "\n"
	"\t\tdnat ip6 to iifname . meta l4proto . th dport map @fwd6_if\n"
	"\t\tip daddr != 127.0.0.0/8 meta l4proto . th dport @fwd4_any ct mark set ct mark | " NAT_FWD_CT_MARK
	"\n"
	"\t\tip daddr != 127.0.0.0/8 dnat ip to meta l4proto . th dport map @fwd4_any\n"
	"\t\tip6 daddr != ::1 meta l4proto . th dport @fwd6_any ct mark set ct mark | " NAT_FWD_CT_MARK "\n"
	"\t\tip6 daddr != ::1 dnat ip6 to meta l4proto . th dport map @fwd6_any\n"
	"\t}\n"
	"\tchain postrouting {\n"
	"\t\ttype nat hook postrouting priority srcnat - 1; policy accept;\n"
	"\t\tct status dnat oifname . ip saddr @hairpin4 masquerade\n"
	"\t\tct status dnat oifname . ip6 saddr @hairpin6 masquerade\n";
/* (then the networks' source NAT, and the chain's end) */

/* The rules of one network's source NAT: with ports, TCP and UDP get them and the rest the address
 * alone (or netd's masquerade, without an address). Into f when not NULL; how many. */
static size_t snat_rules(FILE *f, const struct nat_snat *w)
{
	char net[IP_PREFIX_STRLEN], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], match[256], to[64] = "";
	size_t n = 0;

	ip_prefix_format(&w->subnet, net, sizeof(net));
	/* not what stays on the bridge (the network's subnets among themselves: netd's table
	 * accepts it unmasqueraded); with an uplink, only what leaves through it */
	snprintf(match, sizeof(match),
		 "ip saddr %s ip daddr != { %s, 224.0.0.0/4, 255.255.255.255 } oifname %s\"%s\"", net, net,
		 w->uplink[0] ? "" : "!= ", w->uplink[0] ? w->uplink : w->bridge);
	if (w->has_addr) {
		ip_addr_format(AF_INET, &w->first, a, sizeof(a));
		ip_addr_format(AF_INET, &w->last, b, sizeof(b));
		if (ip_addr_equal(AF_INET, &w->first, &w->last))
			snprintf(to, sizeof(to), "%s", a);
		else
			snprintf(to, sizeof(to), "%s-%s", a, b);
	}
	if (w->port_lo) {
		if (f && w->has_addr)
			fprintf(f, "\t\tmeta l4proto { tcp, udp } %s snat ip to %s:%u-%u\n", match, to,
				w->port_lo, w->port_hi);
		else if (f)
			fprintf(f, "\t\tmeta l4proto { tcp, udp } %s masquerade to :%u-%u\n", match,
				w->port_lo, w->port_hi);
		n++;
	}
	if (w->has_addr) {
		if (f)
			fprintf(f, "\t\t%s snat ip to %s\n", match, to);
		n++;
	}
	return n;
}

bool nat_snat_equal(const struct nat_snat *a, const struct nat_snat *b)
{
	return !strcmp(a->bridge, b->bridge) && ip_prefix_equal(&a->subnet, &b->subnet) &&
	       !strcmp(a->uplink, b->uplink) && a->has_addr == b->has_addr &&
	       (!a->has_addr || (ip_addr_equal(AF_INET, &a->first, &b->first) &&
				 ip_addr_equal(AF_INET, &a->last, &b->last))) &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi;
}

size_t nat_fwd_rules(const struct nat_snat *snats, size_t n_snats)
{
	size_t n = 0;

	/* every line of a chain that is not its type line or its end */
	for (const char *p = rules_text; (p = strstr(p, "\n\t\t")); p++)
		if (strncmp(p + 3, "type ", 5))
			n++;
	for (size_t i = 0; i < n_snats; i++)
		n += snat_rules(NULL, &snats[i]);
	return n;
}

static void sets_render(FILE *f, size_t rules)
{
	static const char *const decl[][2] = {
		{ "fwd4", "ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service" },
		{ "fwd4_any", "inet_proto . inet_service : ipv4_addr . inet_service" },
		{ "fwd4_if", "ifname . inet_proto . inet_service : ipv4_addr . inet_service" },
		{ "fwd6", "ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service" },
		{ "fwd6_any", "inet_proto . inet_service : ipv6_addr . inet_service" },
		{ "fwd6_if", "ifname . inet_proto . inet_service : ipv6_addr . inet_service" },
	};

	fprintf(f, "\tset %s {\n\t\ttype ifname\n\t\tcomment \"netd:fwd:%zu\"\n\t}\n", NAT_FWD_MARKER_SET,
		rules);
	/* a network's subnets, few elements: an interval set is cheap at that size */
	fprintf(f, "\tset hairpin4 {\n\t\ttype ifname . ipv4_addr\n\t\tflags interval\n\t}\n");
	fprintf(f, "\tset hairpin6 {\n\t\ttype ifname . ipv6_addr\n\t\tflags interval\n\t}\n");
	for (size_t i = 0; i < ELEMENTSOF(decl); i++)
		fprintf(f, "\tmap %s {\n\t\ttype %s\n\t}\n", decl[i][0], decl[i][1]);
}

static void elem_line(FILE *f, const char *verb, const struct nat_fwd_elem *e)
{
	bool add = verb[0] == 'a';

	fprintf(f, "%s element %s %s %s { %s%s%s }\n", verb, FWD_FAMILY, FWD_TABLE, e->map, e->key,
		add && e->data[0] ? " : " : "", add ? e->data : "");
}

char *nat_fwd_render(const struct nat_fwd_elem *elems, size_t n, const struct nat_snat *snats, size_t n_snats)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f, "table %s %s\ndelete table %s %s\n", FWD_FAMILY, FWD_TABLE, FWD_FAMILY, FWD_TABLE);
	fprintf(f, "table %s %s {\n", FWD_FAMILY, FWD_TABLE);
	sets_render(f, nat_fwd_rules(snats, n_snats));
	fputs(rules_text, f);
	/* before netd's masquerade (table inet netd, priority srcnat), after the hairpin */
	for (size_t i = 0; i < n_snats; i++)
		snat_rules(f, &snats[i]);
	fputs("\t}\n}\n", f);
	for (size_t i = 0; i < n; i++)
		elem_line(f, "add", &elems[i]);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

char *nat_fwd_render_change(const struct nat_fwd_elem *gone, size_t n_gone, const struct nat_fwd_elem *added,
			    size_t n_added)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n_gone; i++)
		elem_line(f, "delete", &gone[i]);
	for (size_t i = 0; i < n_added; i++)
		elem_line(f, "add", &added[i]);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* "0100007F:1F90" (IPv4, the address in network order as one host-order hex word) or 32 hex digits
 * (IPv6, four such words). */
static int proc_addr_parse(const char *s, bool v6, union in_addr_union *a, unsigned *port)
{
	size_t words = v6 ? 4 : 1;
	char hex[9];

	*a = (union in_addr_union){};
	for (size_t i = 0; i < words; i++) {
		uint32_t w;

		memcpy(hex, s + i * 8, 8);
		hex[8] = 0;
		if (strspn(hex, "0123456789ABCDEFabcdef") != 8)
			return -EINVAL;
		w = strtoul(hex, NULL, 16);
		memcpy(&a->bytes[i * 4], &w, 4); /* the kernel printed it in host order */
	}
	s += words * 8;
	if (*s != ':' || strspn(s + 1, "0123456789ABCDEFabcdef") != 4)
		return -EINVAL;
	*port = strtoul(s + 1, NULL, 16);
	return 0;
}

unsigned nat_fwd_socket_port(const char *proc_text, bool tcp, bool v6, const union in_addr_union *a,
			     unsigned lo, unsigned hi)
{
	static const union in_addr_union zero;
	const char *line = strchr(proc_text, '\n'); /* the header */

	while (line && *++line) {
		char local[64], rem[64], st[8];
		union in_addr_union la;
		unsigned port;

		if (sscanf(line, "%*s %63s %63s %7s", local, rem, st) == 3 &&
		    proc_addr_parse(local, v6, &la, &port) >= 0 && port >= lo && port <= hi &&
		    (!tcp || !strcmp(st, "0A")) &&
		    (!a || ip_addr_equal(v6 ? AF_INET6 : AF_INET, &la, a) ||
		     ip_addr_equal(v6 ? AF_INET6 : AF_INET, &la, &zero)))
			return port;
		line = strchr(line, '\n');
	}
	return 0;
}

int nat_forwards_add(struct nat_forward **l, size_t *n, const struct nat_forward *f, char *err, size_t errlen)
{
	char a[NAT_FWD_STRLEN];
	struct nat_forward *g;

	for (size_t i = 0; i < *n; i++) {
		if ((*l)[i].id == f->id) {
			snprintf(err, errlen, "forward ID %u is taken", f->id);
			return -EEXIST;
		}
		if (nat_forward_overlaps(&(*l)[i], f)) {
			snprintf(err, errlen, "the ports overlap those of forward %s",
				 nat_forward_format(&(*l)[i], a, sizeof(a)));
			return -EEXIST;
		}
	}
	if (*n >= NAT_FWD_MAX) {
		snprintf(err, errlen, "too many forwards (at most %d)", NAT_FWD_MAX);
		return -E2BIG;
	}
	g = reallocarray(*l, *n + 1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	*l = g;
	g[(*n)++] = *f;
	return 0;
}

int nat_forwards_remove(struct nat_forward *l, size_t *n, unsigned id)
{
	for (size_t i = 0; i < *n; i++)
		if (l[i].id == id) {
			memmove(&l[i], &l[i + 1], (*n - i - 1) * sizeof(*l));
			(*n)--;
			return 0;
		}
	return -ENOENT;
}

int nat_forwards_copy(struct nat_forward **dst, const struct nat_forward *src, size_t n)
{
	*dst = NULL;
	if (!n)
		return 0;
	*dst = reallocarray(NULL, n, sizeof(*src));
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, n * sizeof(*src));
	return 0;
}

unsigned nat_forwards_next_id(const struct nat_forward *l, size_t n)
{
	unsigned id = 0;

	for (size_t i = 0; i < n; i++)
		if (l[i].id > id)
			id = l[i].id;
	return id + 1;
}
