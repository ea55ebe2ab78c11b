/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The nft script of port security (see portsec.h). Pure. */
#include "portsec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

static const char *const level_names[_PS_LEVEL_MAX] = {
	[PS_LEVEL_OFF] = "off",
	[PS_LEVEL_MAC] = "mac",
	[PS_LEVEL_FULL] = "on",
};

const char *ps_level_to_string(enum ps_level l)
{
	return l >= 0 && l < _PS_LEVEL_MAX ? level_names[l] : NULL;
}

enum ps_level ps_level_from_string(const char *s)
{
	for (int i = 0; s && i < _PS_LEVEL_MAX; i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return _PS_LEVEL_INVALID;
}

enum ps_set {
	PS_PORTS, /* FULL ports */
	PS_PORTS_MAC, /* MAC-only ports */
	PS_PORT_MAC, /* port . its MAC */
	PS_PORT_CHADDR, /* port . its MAC as DHCP's chaddr field reads it (a 48-bit number) */
	PS_PORT_IP4, /* port . an IPv4 address it holds */
	PS_PORT_NET4, /* port . an IPv4 prefix it may use (no DHCP on its network) */
	PS_PORT_IP6, /* port . an IPv6 address it holds (its EUI-64 link-local one at least) */
	PS_PORT_NET6,
	PS_PORT_ND, /* port . an IPv6 address it holds, as ND's target field reads it */
	PS_TAPS, /* every guest port, in the inet table */
	_PS_SET_MAX,
};

static const struct {
	const char *name, *type;
	bool interval, inet;
} ps_sets[_PS_SET_MAX] = {
	[PS_PORTS] = { "ports", "type ifname" },
	[PS_PORTS_MAC] = { "ports_mac", "type ifname" },
	[PS_PORT_MAC] = { "port_mac", "type ifname . ether_addr" },
	[PS_PORT_CHADDR] = { "port_chaddr", "typeof iifname . @th,288,48" },
	[PS_PORT_IP4] = { "port_ip4", "type ifname . ipv4_addr" },
	[PS_PORT_NET4] = { "port_net4", "type ifname . ipv4_addr", true },
	[PS_PORT_IP6] = { "port_ip6", "type ifname . ipv6_addr" },
	[PS_PORT_NET6] = { "port_net6", "type ifname . ipv6_addr", true },
	[PS_PORT_ND] = { "port_nd", "typeof iifname . @th,64,128" },
	[PS_TAPS] = { "taps", "type ifname", false, true },
};

/* The rules: fixed, whatever the ports. DHCP's chaddr is at byte 28 of the BOOTP message, after
 * the 8 bytes of UDP header (bit 288); an ND message's target address at byte 8 (bit 64). A DHCP
 * message in fragments could hide its chaddr in a later one, which has no UDP header to match:
 * its first fragment (more-fragments set, offset 0, the UDP header in it) is dropped.
 *
 * ND's link-layer address option (RFC 4861 4.6.1) sets the neighbour entries of whoever receives
 * it (the host's, which dnsmasq reads for a DHCPv6 client's MAC, and other guests'): a guest's NS
 * and NA carry at most that one option, right after the target (byte 24: type, length 1, the MAC
 * at byte 26, bit 208; ip6 length 32), and it must be the port's MAC; an RS likewise after its
 * 8 bytes (the MAC at bit 80; length 16). A DAD probe (from ::) carries none but may carry a nonce.
 * ND is never fragmented (RFC 6980): an ICMPv6 fragment could hide its target and options from
 * these rules, so a guest's ICMPv6 fragments are dropped (a ping larger than the MTU with them).
 * Every rule above needs the packet's transport protocol, which the kernel cannot tell for a
 * fragment cut inside its extension headers (a first fragment that ends between two of them, a
 * later one whose next header is another extension header): such a packet matches none of them,
 * so the accepts ask for a known protocol too (`meta l4proto` fails to load otherwise; 255 is
 * reserved) and it ends at the drop. A guest's IGMP and MLD queries are dropped: the bridge's
 * snooping would take it as the querier. */
static const char ps_chains[] =
	"\tchain prerouting {\n"
	"\t\ttype filter hook prerouting priority filter; policy accept;\n"
	"\t\tiifname @ports jump guest\n"
	"\t\tiifname @ports_mac iifname . ether saddr != @port_mac drop\n"
	"\t}\n"
	"\n"
	"\tchain guest {\n"
	"\t\tiifname . ether saddr != @port_mac drop\n"
	"\t\tether type arp jump guest_arp\n"
	"\t\tether type ip jump guest_ip4\n"
	"\t\tether type ip6 jump guest_ip6\n"
	"\t\tdrop\n"
	"\t}\n"
	"\n"
	"\tchain guest_arp {\n"
	"\t\tiifname . arp saddr ether != @port_mac drop\n"
	"\t\tarp saddr ip 0.0.0.0 accept\n"
	"\t\tiifname . arp saddr ip @port_ip4 accept\n"
	"\t\tiifname . arp saddr ip @port_net4 accept\n"
	"\t\tdrop\n"
	"\t}\n"
	"\n"
	"\tchain guest_ip4 {\n"
	"\t\tip protocol igmp @th,0,8 0x11 drop\n"
	"\t\tudp sport 67 drop\n"
	"\t\tudp dport 68 drop\n"
	"\t\tip frag-off & 0x2000 != 0 udp dport 67 drop\n"
	"\t\tudp dport 67 iifname . @th,288,48 != @port_chaddr drop\n"
	"\t\tip saddr 0.0.0.0 udp sport 68 udp dport 67 accept\n"
	"\t\tiifname . ip saddr @port_ip4 accept\n"
	"\t\tiifname . ip saddr @port_net4 accept\n"
	"\t\tdrop\n"
	"\t}\n"
	"\n"
	"\tchain guest_ip6 {\n"
	"\t\texthdr frag exists meta l4proto ipv6-icmp drop\n"
	"\t\ticmpv6 type { nd-router-advert, nd-redirect, mld-listener-query } drop\n"
	"\t\tudp sport 547 drop\n"
	"\t\tudp dport 546 drop\n"
	"\t\ticmpv6 type nd-neighbor-advert iifname . @th,64,128 != @port_nd drop\n"
	"\t\tip6 saddr != :: icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 length != { 24, 32 } drop\n"
	"\t\tip6 saddr != :: icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 length 32 iifname . @th,208,48 != @port_chaddr drop\n"
	"\t\ticmpv6 type nd-router-solicit ip6 length != { 8, 16 } drop\n"
	"\t\ticmpv6 type nd-router-solicit ip6 length 16 iifname . @th,80,48 != @port_chaddr drop\n"
	"\t\tip6 saddr :: icmpv6 type nd-neighbor-solicit iifname . @th,64,128 @port_nd accept\n"
	"\t\tip6 saddr :: icmpv6 type { mld-listener-report, mld2-listener-report } accept\n"
	"\t\tiifname . ip6 saddr @port_ip6 meta l4proto != 255 accept\n"
	"\t\tiifname . ip6 saddr @port_net6 meta l4proto != 255 accept\n"
	"\t\tdrop\n"
	"\t}\n";

/* The host's side: IP packets received or forwarded on a guest port itself, never legitimate
 * (a guest's traffic reaches the stack through its bridge), go before any other chain sees them. */
static const char ps_inet_chains[] = "\tchain input {\n"
				     "\t\ttype filter hook input priority filter - 10; policy accept;\n"
				     "\t\tiifname @taps drop\n"
				     "\t}\n"
				     "\n"
				     "\tchain forward {\n"
				     "\t\ttype filter hook forward priority filter - 10; policy accept;\n"
				     "\t\tiifname @taps drop\n"
				     "\t}\n";

static unsigned chain_rules(const char *chains)
{
	unsigned n = 0;

	/* Every line that is not a chain's opening, its type line or its closing brace. */
	for (const char *l = chains; *l; l = strchr(l, '\n') + 1)
		if (!strncmp(l, "\t\t", 2) && strncmp(l, "\t\ttype ", 7))
			n++;
	return n;
}

struct ip_prefix ps_eui64_address(const struct mac *m, const struct ip_prefix *prefix64)
{
	struct ip_prefix a = { .family = AF_INET6, .len = 128 };
	uint8_t *b = a.addr.in6.s6_addr;

	if (prefix64)
		memcpy(b, prefix64->addr.in6.s6_addr, 8);
	else
		b[0] = 0xfe, b[1] = 0x80;
	b[8] = m->b[0] ^ 0x02;
	b[9] = m->b[1];
	b[10] = m->b[2];
	b[11] = 0xff;
	b[12] = 0xfe;
	b[13] = m->b[3];
	b[14] = m->b[4];
	b[15] = m->b[5];
	return a;
}

/* Which set an address of a FULL port goes to. */
static enum ps_set addr_set(const struct ip_prefix *a)
{
	bool host = a->len == ip_family_bits(a->family);

	if (a->family == AF_INET)
		return host ? PS_PORT_IP4 : PS_PORT_NET4;
	return host ? PS_PORT_IP6 : PS_PORT_NET6;
}

/* The element of port p in set s, as nft writes it; for the address sets, address a. */
static void element(FILE *f, enum ps_set s, const struct ps_port *p, const struct ip_prefix *a)
{
	char m[MAC_STRLEN], x[IP_PREFIX_STRLEN];

	switch (s) {
	case PS_PORTS:
	case PS_PORTS_MAC:
	case PS_TAPS:
		fprintf(f, "\"%s\"", p->ifname);
		break;
	case PS_PORT_MAC:
		fprintf(f, "\"%s\" . %s", p->ifname, mac_format(&p->mac, m, sizeof(m)));
		break;
	case PS_PORT_CHADDR:
		fprintf(f, "\"%s\" . 0x", p->ifname);
		for (size_t i = 0; i < sizeof(p->mac.b); i++)
			fprintf(f, "%02x", p->mac.b[i]);
		break;
	case PS_PORT_ND:
		fprintf(f, "\"%s\" . 0x", p->ifname);
		for (size_t i = 0; i < 16; i++)
			fprintf(f, "%02x", a->addr.in6.s6_addr[i]);
		break;
	case PS_PORT_IP4:
	case PS_PORT_IP6:
		fprintf(f, "\"%s\" . %s", p->ifname, ip_addr_format(a->family, &a->addr, x, sizeof(x)));
		break;
	default:
		fprintf(f, "\"%s\" . %s", p->ifname, ip_prefix_format(a, x, sizeof(x)));
	}
}

/* Calls fn for every element of port p; returns how many. */
typedef void (*element_fn)(FILE *f, enum ps_set s, const struct ps_port *p, const struct ip_prefix *a,
			   void *u);

static size_t port_elements(FILE *f, const struct ps_port *p, element_fn fn, void *u)
{
	struct ip_prefix ll = ps_eui64_address(&p->mac, NULL);
	size_t n = 1;

	fn(f, PS_TAPS, p, NULL, u);
	if (p->level == PS_LEVEL_MAC) {
		fn(f, PS_PORTS_MAC, p, NULL, u);
		fn(f, PS_PORT_MAC, p, NULL, u);
		return n + 2;
	}
	if (p->level != PS_LEVEL_FULL)
		return n;
	fn(f, PS_PORTS, p, NULL, u);
	fn(f, PS_PORT_MAC, p, NULL, u);
	fn(f, PS_PORT_CHADDR, p, NULL, u);
	fn(f, PS_PORT_IP6, p, &ll, u);
	fn(f, PS_PORT_ND, p, &ll, u);
	n += 5;
	for (size_t i = 0; i < p->n_addrs; i++, n++) {
		const struct ip_prefix *a = &p->addrs[i];

		if (a->family == AF_INET6 && a->len == 128 && !memcmp(&a->addr.in6, &ll.addr.in6, 16))
			continue; /* the link-local one is there already */
		fn(f, addr_set(a), p, a, u);
		if (addr_set(a) == PS_PORT_IP6) {
			fn(f, PS_PORT_ND, p, a, u);
			n++;
		}
	}
	return n;
}

static void count_element(FILE *f, enum ps_set s, const struct ps_port *p, const struct ip_prefix *a, void *u)
{
}

size_t ps_elements(const struct ps_port *ports, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += port_elements(NULL, &ports[i], count_element, NULL);
	return total;
}

/* Full render: one stream per set collects its elements. */
struct set_streams {
	FILE *f[_PS_SET_MAX];
	char *text[_PS_SET_MAX];
	size_t len[_PS_SET_MAX];
	unsigned n[_PS_SET_MAX];
};

static void collect(FILE *unused, enum ps_set s, const struct ps_port *p, const struct ip_prefix *a, void *u)
{
	struct set_streams *ss = u;

	if (ss->n[s]++)
		fputs(", ", ss->f[s]);
	element(ss->f[s], s, p, a);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

/* "table X" before "delete table X", so that the delete never fails: the pair empties a table
 * inside the transaction that fills it again. */
static const char tables_reset[] =
	"table " PS_FAMILY " " PS_TABLE "\ndelete table " PS_FAMILY " " PS_TABLE "\n"
	"table " PS_INET_FAMILY " " PS_INET_TABLE "\ndelete table " PS_INET_FAMILY " " PS_INET_TABLE "\n";

static char *render_table(const struct ps_port *ports, size_t n, const char *marker)
{
	struct set_streams ss = {};
	char *script = NULL;
	size_t len;
	FILE *f = NULL;
	bool ok = true;

	for (int s = 0; s < _PS_SET_MAX; s++)
		ok &= (ss.f[s] = open_memstream(&ss.text[s], &ss.len[s])) != NULL;
	for (size_t i = 0; ok && i < n; i++)
		port_elements(NULL, &ports[i], collect, &ss);
	for (int s = 0; s < _PS_SET_MAX; s++)
		if (ss.f[s] && fclose(ss.f[s]) != 0)
			ok = false;
	if (ok)
		f = open_memstream(&script, &len);
	if (f) {
		fprintf(f, "%s", tables_reset);
		for (int inet = 0; inet < 2; inet++) {
			fprintf(f, "table %s %s {\n", inet ? PS_INET_FAMILY : PS_FAMILY,
				inet ? PS_INET_TABLE : PS_TABLE);
			for (int s = 0; s < _PS_SET_MAX; s++) {
				if (ps_sets[s].inet != inet)
					continue;
				fprintf(f, "\tset %s {\n\t\t%s\n%s", ps_sets[s].name, ps_sets[s].type,
					ps_sets[s].interval ? "\t\tflags interval\n" : "");
				if (s == PS_PORTS)
					fprintf(f, "\t\tcomment \"%s\"\n", marker);
				if (ss.n[s])
					fprintf(f, "\t\telements = { %s }\n", ss.text[s]);
				fprintf(f, "\t}\n\n");
			}
			fprintf(f, "%s}\n", inet ? ps_inet_chains : ps_chains);
		}
		if (fclose(f) != 0) {
			free(script);
			script = NULL;
		}
	}
	for (int s = 0; s < _PS_SET_MAX; s++)
		free(ss.text[s]);
	return script;
}

char *ps_render(const struct ps_port *ports, size_t n, char **ret_marker)
{
	char *script = NULL, *marker = NULL;

	*ret_marker = NULL;
	if (n == 0) {
		script = strdup(tables_reset);
		*ret_marker = strdup("");
		if (!script || !*ret_marker) {
			free(script);
			free(*ret_marker);
			*ret_marker = NULL;
			return NULL;
		}
		return script;
	}
	if (asprintf(&marker, "netd:%016" PRIx64 ":%u", fnv1a(ps_chains) ^ fnv1a(ps_inet_chains),
		     chain_rules(ps_chains) + chain_rules(ps_inet_chains)) < 0)
		return NULL;
	script = render_table(ports, n, marker);
	if (!script) {
		free(marker);
		return NULL;
	}
	*ret_marker = marker;
	return script;
}

struct change_ctx {
	const char *verb;
};

static void change_line(FILE *f, enum ps_set s, const struct ps_port *p, const struct ip_prefix *a, void *u)
{
	const struct change_ctx *c = u;

	fprintf(f, "%s element %s %s %s { ", c->verb, ps_sets[s].inet ? PS_INET_FAMILY : PS_FAMILY,
		ps_sets[s].inet ? PS_INET_TABLE : PS_TABLE, ps_sets[s].name);
	element(f, s, p, a);
	fputs(" }\n", f);
}

char *ps_render_change(const struct ps_change *c)
{
	struct change_ctx del = { "delete" }, add = { "add" };
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	/* Deletions first: a port that goes and comes back under the same name (a restarted guest)
	 * ends with its new elements. */
	for (size_t i = 0; i < c->n_gone; i++)
		port_elements(f, &c->gone[i], change_line, &del);
	for (size_t i = 0; i < c->n_added; i++)
		port_elements(f, &c->added[i], change_line, &add);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
