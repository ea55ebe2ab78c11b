/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt network XML -> network.create parameters (libvirt-import.h). One handler per element of
 * <network>, each taking the attributes and children it knows and listing every other one as
 * dropped: what is not understood is never passed over in silence. The values are copied as text
 * and left to netd's schema, which checks them on every path (file, request, netdctl).
 * Element names and meanings: https://libvirt.org/formatnetwork.html
 */
#include "libvirt-import.h"
#include "names.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#define DNSMASQ_NS "http://libvirt.org/schemas/network/dnsmasq/1.0"

struct ctx {
	json_object *params, *dropped, *ignored;
	xmlChar **keep; /* attribute and text values handed out, freed at the end */
	size_t n_keep, cap_keep;
	unsigned seen; /* second()'s elements met */
	const char *forward_mode; /* NULL: no <forward> (isolated) */
	bool no_mode /* a <forward> netd has no mode for */, nat6, have_ip4, have_ip6, dhcp4, dhcp6;
	bool nat_address, nat_port; /* <nat><address>, <nat><port> met */
	const char *fatal; /* why nothing can be imported, not even with --partial */
};

/* A terminal reads C1 controls (U+0080-U+009F) and bidi overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069) as commands or a reordering of what follows: each becomes one '?', as do the C0
 * controls and DEL. The text is the file's (UTF-8, checked before parsing). */
static void printable(char *s)
{
	char *p = s, *w = s;

	while (*p) {
		size_t skip = terminal_control_len(p);

		if (skip) {
			*w++ = '?';
			p += skip;
		} else {
			*w++ = *p++;
		}
	}
	*w = 0;
}

static void drop(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void drop(struct ctx *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* netdctl prints these on a terminal: no control characters (escape sequences) from the file */
	printable(buf);
	json_object_array_add(c->dropped, json_object_new_string(buf));
}

static void ignore(struct ctx *c, const char *what)
{
	json_object_array_add(c->ignored, json_object_new_string(what));
}

static const char *keep(struct ctx *c, xmlChar *s)
{
	if (!s)
		return NULL;
	if (c->n_keep == c->cap_keep) {
		size_t cap = c->cap_keep ? c->cap_keep * 2 : 64;
		xmlChar **k = realloc(c->keep, cap * sizeof(*k));

		if (!k) {
			xmlFree(s);
			return NULL;
		}
		c->keep = k;
		c->cap_keep = cap;
	}
	c->keep[c->n_keep++] = s;
	return (const char *)s;
}

/* An attribute without a namespace, or NULL. */
static const char *attr(struct ctx *c, xmlNode *n, const char *name)
{
	return keep(c, xmlGetNoNsProp(n, (const xmlChar *)name));
}

/* A text element's text; NULL (and dropped) when it has elements inside, which libvirt would not
 * read as its text either. */
static const char *text(struct ctx *c, xmlNode *n)
{
	for (xmlNode *k = n->children; k; k = k->next)
		if (k->type == XML_ELEMENT_NODE) {
			drop(c, "<%s> with an element <%s> inside its text", n->name, k->name);
			return NULL;
		}
	return keep(c, xmlNodeGetContent(n));
}

static bool is(xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !n->ns && !strcmp((const char *)n->name, name);
}

static bool attr_is(struct ctx *c, xmlNode *n, const char *name, const char *value)
{
	const char *v = attr(c, n, name);

	return v && !strcmp(v, value);
}

/* A yes/no (or on/off) attribute: 1, 0, -1 when absent; a value libvirt would refuse is dropped,
 * and the handler then treats the element as not understood (-2). */
static int yes_no(struct ctx *c, xmlNode *n, const char *name, const char *yes, const char *no)
{
	const char *v = attr(c, n, name);

	if (!v)
		return -1;
	if (!strcmp(v, yes))
		return 1;
	if (!strcmp(v, no))
		return 0;
	drop(c, "<%s %s='%s'> (%s or %s)", n->name, name, v, yes, no);
	return -2;
}

/* The values of n that netd reads as one field of a list ("MAC,IP,NAME", "START-END",
 * "/DOMAIN/IP#PORT"): a separator inside one would make it other fields. The names end with
 * NULL; false (and dropped, naming the element and attribute) when one has any of seps. */
static bool single(struct ctx *c, xmlNode *n, const char *seps, const char *const *names)
{
	for (size_t i = 0; names[i]; i++) {
		const char *v = attr(c, n, names[i]);

		if (v && strpbrk(v, seps)) {
			drop(c, "<%s %s='%s'> (netd reads one of '%s' in it as a separator)", n->name,
			     names[i], v, seps);
			return false;
		}
	}
	return true;
}

/* Every attribute of n not in known (NULL-terminated) is dropped, by name and value. */
static void check_attrs(struct ctx *c, xmlNode *n, const char *const *known)
{
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const char *v;
		size_t i;

		for (i = 0; known[i] && (a->ns || strcmp((const char *)a->name, known[i])); i++)
			;
		if (known[i])
			continue;
		v = keep(c, xmlNodeListGetString(n->doc, a->children, 1));
		drop(c, "<%s %s%s%s='%s'>", n->name,
		     a->ns && a->ns->prefix ? (const char *)a->ns->prefix : "",
		     a->ns && a->ns->prefix ? ":" : "", a->name, v ?: "");
	}
}

/* A child element no handler knows: dropped by name (and, for one that matters, its key attribute). */
static void drop_element(struct ctx *c, xmlNode *n)
{
	if (n->ns && n->ns->prefix)
		drop(c, "<%s:%s>", n->ns->prefix, n->name);
	else
		drop(c, "<%s>", n->name);
}

#define KNOWN(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void set_string(struct ctx *c, const char *key, const char *v)
{
	if (v)
		json_object_object_add(c->params, key, json_object_new_string(v));
}

/* A setting netd has once a network, from an element that may come on several <ip>: a second,
 * different value is dropped. */
static void set_once(struct ctx *c, xmlNode *n, const char *key, const char *v)
{
	json_object *have;

	if (!v)
		return;
	if (json_object_object_get_ex(c->params, key, &have) && strcmp(json_object_get_string(have), v))
		drop(c, "a second <%s> (%s): netd has one %s a network", n->name, v, key);
	else
		set_string(c, key, v);
}

static void set_bool(struct ctx *c, const char *key, bool v)
{
	json_object_object_add(c->params, key, json_object_new_boolean(v));
}

static void append(struct ctx *c, const char *key, const char *v)
{
	json_object *a;

	if (!json_object_object_get_ex(c->params, key, &a)) {
		a = json_object_new_array();
		json_object_object_add(c->params, key, a);
	}
	json_object_array_add(a, json_object_new_string(v));
}

/* "1h", "30m", "90s" or "infinite" (expiry 0) from <lease expiry unit>; NULL when not understood. */
static const char *lease_text(struct ctx *c, xmlNode *lease, char *buf, size_t size)
{
	const char *expiry = attr(c, lease, "expiry"), *unit = attr(c, lease, "unit") ?: "minutes";
	static const struct {
		const char *name, *suffix;
	} units[] = { { "seconds", "s" }, { "minutes", "m" }, { "hours", "h" } };
	char *end;
	unsigned long v;

	check_attrs(c, lease, KNOWN("expiry", "unit"));
	if (!expiry || !*expiry || strspn(expiry, "0123456789") != strlen(expiry)) {
		drop(c, "<lease expiry='%s'>", expiry ?: "");
		return NULL;
	}
	v = strtoul(expiry, &end, 10);
	if (v == 0) {
		snprintf(buf, size, "infinite");
		return buf;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(unit, units[i].name)) {
			snprintf(buf, size, "%lu%s", v, units[i].suffix);
			return buf;
		}
	drop(c, "<lease unit='%s'>", unit);
	return NULL;
}

/* ---- <forward> ---- */

static void forward_nat(struct ctx *c, xmlNode *nat)
{
	check_attrs(c, nat, KNOWN("ipv6"));
	c->nat6 = yes_no(c, nat, "ipv6", "yes", "no") == 1;
	for (xmlNode *k = nat->children; k; k = k->next) {
		const char *start, *end;
		char buf[128];

		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (!is(k, "address") && !is(k, "port")) {
			drop_element(c, k);
			continue;
		}
		check_attrs(c, k, KNOWN("start", "end"));
		start = attr(c, k, "start");
		end = attr(c, k, "end");
		if (!start) {
			drop(c, "<nat><%s> without start", k->name);
			continue;
		}
		/* netd has one NAT address range and one port range */
		if (is(k, "address") ? c->nat_address : c->nat_port) {
			drop(c, "a second <nat><%s start='%s'> (netd has one %s range)", k->name, start,
			     is(k, "address") ? "address" : "port");
			continue;
		}
		*(is(k, "address") ? &c->nat_address : &c->nat_port) = true;
		if (!single(c, k, "-,/# ", KNOWN("start", "end")))
			continue;
		/* one port is the range X-X (netd's nat-ports is a range); one address is itself */
		if ((end && strcmp(start, end)) || !is(k, "address"))
			snprintf(buf, sizeof(buf), "%s-%s", start, end ?: start);
		else
			snprintf(buf, sizeof(buf), "%s", start);
		set_string(c, is(k, "address") ? "nat_address" : "nat_ports", buf);
	}
}

static void forward(struct ctx *c, xmlNode *f)
{
	const char *mode = attr(c, f, "mode") ?: "nat", *dev = attr(c, f, "dev");
	static const struct {
		const char *libvirt, *netd;
	} modes[] = { { "nat", "nat" }, { "route", "routed" }, { "open", "open" }, { "bridge", "bridge" } };
	size_t i;

	check_attrs(c, f, KNOWN("mode", "dev"));
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]) && strcmp(mode, modes[i].libvirt); i++)
		;
	if (i == sizeof(modes) / sizeof(modes[0])) {
		drop(c, "<forward mode='%s'>", mode);
		c->no_mode = true; /* not isolated: guests would lose what the network gave them */
		return;
	}
	c->forward_mode = modes[i].netd;
	/* bridge with a device: macvtap on a host interface, not a bridge's port */
	if (!strcmp(mode, "bridge") && dev) {
		drop(c, "<forward mode='bridge' dev='%s'> (macvtap)", dev);
		c->no_mode = true;
	} else if (dev) {
		set_string(c, "uplink", dev);
	}
	for (xmlNode *k = f->children; k; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (is(k, "nat") && !strcmp(mode, "nat")) {
			forward_nat(c, k);
		} else if (is(k, "interface") && dev && attr_is(c, k, "dev", dev) && strcmp(mode, "bridge")) {
			check_attrs(c, k, KNOWN("dev", "connections")); /* the live XML repeats dev= */
		} else if (is(k, "interface")) {
			drop(c, "<forward><interface dev='%s'>%s", attr(c, k, "dev") ?: "",
			     strcmp(mode, "bridge") ? "" : " (macvtap)");
			c->no_mode = c->no_mode || !strcmp(mode, "bridge");
		} else {
			drop(c, "<forward><%s>", k->name);
		}
	}
	if (c->no_mode)
		c->forward_mode = NULL;
}

/* ---- <bridge>, <mtu>, <mac>, <domain> ---- */

/* libvirt's stp defaults to on with delay 0: the ports forward at once, as on netd's bridges with
 * STP off (netd's default). Only a delay asks for what STP changes for guests. */
static void bridge(struct ctx *c, xmlNode *b)
{
	const char *stp = attr(c, b, "stp"), *delay = attr(c, b, "delay"),
		   *mtm = attr(c, b, "macTableManager");
	bool stp_on = !stp || !strcmp(stp, "on");

	check_attrs(c, b, KNOWN("name", "stp", "delay", "macTableManager"));
	set_string(c, "bridge", attr(c, b, "name"));
	if (stp && strcmp(stp, "on") && strcmp(stp, "off"))
		drop(c, "<bridge stp='%s'> (on or off)", stp);
	if (c->forward_mode && !strcmp(c->forward_mode, "bridge")) {
		/* an existing bridge: its STP is its owner's; libvirt ignores both here too */
		if (stp || delay)
			ignore(c, "<bridge stp delay> of <forward mode='bridge'>: the bridge's STP is its "
				  "owner's (libvirt ignores them too)");
	} else if (stp_on && delay && strcmp(delay, "0")) {
		set_bool(c, "stp", true);
		set_string(c, "forward_delay", delay);
	} else if (stp_on) {
		ignore(c, "<bridge stp='on' delay='0'>: netd's bridges run without STP; with delay 0 a "
			  "port forwards at once either way");
	}
	if (mtm && strcmp(mtm, "kernel"))
		drop(c, "<bridge macTableManager='%s'>", mtm);
}

static void domain(struct ctx *c, xmlNode *d)
{
	int local = yes_no(c, d, "localOnly", "yes", "no"), reg = yes_no(c, d, "register", "yes", "no");

	check_attrs(c, d, KNOWN("name", "localOnly", "register"));
	set_string(c, "domain", attr(c, d, "name"));
	/* explicit either way: netd's default for a domain is not libvirt's (forwarded unless
	 * localOnly='yes') in every netd */
	if (local >= -1)
		set_bool(c, "domain_local_only", local == 1);
	if (reg >= 0)
		set_bool(c, "register_dns", reg == 1);
}

/* ---- <dns> ---- */

static void dns_forwarder(struct ctx *c, xmlNode *f, bool *no_resolv)
{
	const char *addr = attr(c, f, "addr"), *dom = attr(c, f, "domain");
	char buf[512];

	check_attrs(c, f, KNOWN("addr", "domain"));
	if (!addr && !dom) {
		drop(c, "<forwarder> without addr or domain");
		return;
	}
	if (!single(c, f, ",/# ", KNOWN("addr", "domain")))
		return;
	/* a domain without addr: libvirt's server=/D/# (the usual servers), netd's /D/# */
	snprintf(buf, sizeof(buf), "%s%s%s%s", dom ? "/" : "", dom ?: "", dom ? "/" : "", addr ?: "#");
	append(c, "dns_forwarders", buf);
	/* libvirt's dnsmasq stops reading resolv.conf when a forwarder serves every domain */
	if (addr && !dom)
		*no_resolv = true;
}

static void dns_host(struct ctx *c, xmlNode *h)
{
	const char *ip = attr(c, h, "ip");
	char buf[512];
	bool any = false;

	check_attrs(c, h, KNOWN("ip"));
	if (!single(c, h, ",/# ", KNOWN("ip")))
		return;
	for (xmlNode *k = h->children; k; k = k->next) {
		const char *name;

		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (!is(k, "hostname")) {
			drop(c, "<dns><host><%s>", k->name);
			continue;
		}
		name = text(c, k);
		if (!name)
			continue;
		if (strpbrk(name, ",/# ")) {
			drop(c, "<hostname>%s</hostname> (netd reads one of ',/# ' in it as a separator)",
			     name);
			continue;
		}
		snprintf(buf, sizeof(buf), "%s,%s", ip ?: "", name);
		append(c, "dns_hosts", buf);
		any = true;
	}
	if (!any)
		drop(c, "<dns><host ip='%s'> without <hostname>", ip ?: "");
}

/* _SERVICE._PROTO[.DOMAIN][,TARGET,PORT[,PRIORITY[,WEIGHT]]] */
static void dns_srv(struct ctx *c, xmlNode *s)
{
	const char *service = attr(c, s, "service"), *proto = attr(c, s, "protocol"),
		   *dom = attr(c, s, "domain"), *target = attr(c, s, "target"), *port = attr(c, s, "port"),
		   *prio = attr(c, s, "priority"), *weight = attr(c, s, "weight");
	char buf[768];
	int n;

	check_attrs(c, s, KNOWN("service", "protocol", "domain", "target", "port", "priority", "weight"));
	if (!service || !proto) {
		drop(c, "<srv> without service or protocol");
		return;
	}
	if (!single(c, s, ",/# ",
		    KNOWN("service", "protocol", "domain", "target", "port", "priority", "weight")))
		return;
	n = snprintf(buf, sizeof(buf), "_%s._%s%s%s", service, proto, dom ? "." : "", dom ?: "");
	if (target && port && n > 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - n, ",%s,%s%s%s%s%s", target, port, prio || weight ? "," : "",
			 prio ?: (weight ? "0" : ""), weight ? "," : "", weight ?: "");
	else if (target || port)
		drop(c, "<srv service='%s'> with only one of target and port", service);
	append(c, "dns_srv", buf);
}

static void dns(struct ctx *c, xmlNode *d)
{
	int enable = yes_no(c, d, "enable", "yes", "no"),
	    fpn = yes_no(c, d, "forwardPlainNames", "yes", "no");
	bool no_resolv = false;
	char buf[512];

	check_attrs(c, d, KNOWN("enable", "forwardPlainNames"));
	if (fpn == 0)
		drop(c, "<dns forwardPlainNames='no'>");
	if (enable == 0) {
		set_bool(c, "dns", false);
		/* libvirt runs no DNS then, and reads none of what is inside */
		for (xmlNode *k = d->children; k; k = k->next)
			if (k->type == XML_ELEMENT_NODE) {
				ignore(c, "what is inside <dns enable='no'>: libvirt ignores it too");
				break;
			}
		return;
	}
	for (xmlNode *k = d->children; k; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (is(k, "forwarder")) {
			dns_forwarder(c, k, &no_resolv);
		} else if (is(k, "host")) {
			dns_host(c, k);
		} else if (is(k, "srv")) {
			dns_srv(c, k);
		} else if (is(k, "txt")) {
			check_attrs(c, k, KNOWN("name", "value"));
			if (!single(c, k, ",/# ", KNOWN("name")))
				continue;
			snprintf(buf, sizeof(buf), "%s,%s", attr(c, k, "name") ?: "",
				 attr(c, k, "value") ?: "");
			append(c, "dns_txt", buf);
		} else {
			drop(c, "<dns><%s>", k->name);
		}
	}
	if (no_resolv)
		set_bool(c, "no_resolv", true);
}

/* ---- <ip> ---- */

struct ip {
	int family;
	unsigned char addr[16];
	unsigned prefix;
	const char *text; /* the address as written */
};

/* address plus prefix= or netmask= (contiguous); family= when given must agree. */
static int ip_read(struct ctx *c, xmlNode *n, struct ip *ret)
{
	const char *a = attr(c, n, "address"), *fam = attr(c, n, "family"), *prefix = attr(c, n, "prefix"),
		   *mask = attr(c, n, "netmask");
	struct ip ip = { .text = a };
	unsigned char m[4];

	if (!a)
		return -EINVAL;
	ip.family = inet_pton(AF_INET, a, ip.addr) == 1	 ? AF_INET :
		    inet_pton(AF_INET6, a, ip.addr) == 1 ? AF_INET6 :
							   0;
	if (!ip.family || (fam && strcmp(fam, ip.family == AF_INET ? "ipv4" : "ipv6")))
		return -EINVAL;
	if (prefix) {
		char *end;
		unsigned long p = strtoul(prefix, &end, 10);

		if (!*prefix || *end || p > (ip.family == AF_INET ? 32u : 128u))
			return -EINVAL;
		ip.prefix = p;
	} else if (mask && ip.family == AF_INET && inet_pton(AF_INET, mask, m) == 1) {
		uint32_t v = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];

		if (~v & (~v + 1))
			return -EINVAL; /* not contiguous */
		ip.prefix = v ? 32 - __builtin_ctz(v) : 0;
	} else if (!mask) {
		/* libvirt's defaults: the address's class for IPv4, /64 for IPv6 */
		ip.prefix = ip.family == AF_INET6 ? 64 : ip.addr[0] < 128 ? 8 : ip.addr[0] < 192 ? 16 : 24;
	} else {
		return -EINVAL;
	}
	*ret = ip;
	return 0;
}

/* The prefix's network address, as text. */
static void ip_network(const struct ip *ip, char *buf, size_t size)
{
	unsigned char a[16];
	char s[INET6_ADDRSTRLEN];
	unsigned len = ip->family == AF_INET ? 4 : 16;

	memcpy(a, ip->addr, len);
	for (unsigned i = 0; i < len; i++) {
		unsigned bits = ip->prefix > i * 8 ? ip->prefix - i * 8 : 0;

		a[i] &= bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
	}
	inet_ntop(ip->family, a, s, sizeof(s));
	snprintf(buf, size, "%s/%u", s, ip->prefix);
}

/* netd's IPv6 gateway is its prefix's ::1 */
static bool ip6_is_first(const struct ip *ip)
{
	struct ip net = *ip;

	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = ip->prefix > i * 8 ? ip->prefix - i * 8 : 0;

		net.addr[i] &= bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
	}
	net.addr[15] |= 1;
	return ip->prefix < 128 && !memcmp(net.addr, ip->addr, 16);
}

static void dhcp_range(struct ctx *c, xmlNode *r, int family)
{
	const char *start = attr(c, r, "start"), *end = attr(c, r, "end");
	char buf[256], lease[32];

	check_attrs(c, r, KNOWN("start", "end"));
	if (!single(c, r, "-,/# ", KNOWN("start", "end")))
		return;
	snprintf(buf, sizeof(buf), "%s-%s", start ?: "", end ?: "");
	append(c, family == AF_INET ? "dhcp_ranges" : "dhcp6_ranges", buf);
	for (xmlNode *k = r->children; k; k = k->next) {
		json_object *have;
		const char *l;

		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (!is(k, "lease")) {
			drop(c, "<range><%s>", k->name);
			continue;
		}
		l = lease_text(c, k, lease, sizeof(lease));
		if (!l)
			continue;
		/* netd has one lease time a network */
		if (json_object_object_get_ex(c->params, "lease_time", &have) &&
		    strcmp(json_object_get_string(have), l))
			drop(c,
			     "<range start='%s'><lease> %s (another range's lease time, %s, is the network's)",
			     start ?: "", l, json_object_get_string(have));
		else
			set_string(c, "lease_time", l);
	}
}

/* MAC|id:DUID,IP[,NAME][,LEASE] */
static void dhcp_host(struct ctx *c, xmlNode *h, int family)
{
	const char *mac = attr(c, h, "mac"), *id = attr(c, h, "id"), *name = attr(c, h, "name"),
		   *ip = attr(c, h, "ip"), *l = NULL;
	char buf[512], lease[32];

	check_attrs(c, h, KNOWN("mac", "id", "name", "ip"));
	if (!single(c, h, ",/# ", KNOWN("mac", "id", "name", "ip")))
		return;
	for (xmlNode *k = h->children; k; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (is(k, "lease"))
			l = lease_text(c, k, lease, sizeof(lease));
		else
			drop(c, "<dhcp><host><%s>", k->name);
	}
	if (family == AF_INET && id) {
		drop(c, "<host id='%s'> on IPv4 (netd matches an IPv4 reservation by MAC)", id);
		return;
	}
	if (!ip || (!mac && !id)) {
		drop(c, "<host %s='%s'> without %s (netd reserves an address for a MAC or DUID)",
		     mac ? "mac" :
		     id	 ? "id" :
			   "name",
		     mac	  ?:
			     id	  ?:
			     name ?:
				    "",
		     ip ? "mac or id" : "ip");
		return;
	}
	snprintf(buf, sizeof(buf), "%s%s,%s%s%s%s%s", mac ? "" : "id:", mac ?: id, ip, name ? "," : "",
		 name ?: "", l ? "," : "", l ?: "");
	append(c, "hosts", buf);
}

static void dhcp(struct ctx *c, xmlNode *d, int family)
{
	bool ranges = false, hosts = false;

	check_attrs(c, d, KNOWN(NULL));
	for (xmlNode *k = d->children; k; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (is(k, "range")) {
			dhcp_range(c, k, family);
			ranges = true;
		} else if (is(k, "host")) {
			dhcp_host(c, k, family);
			hosts = true;
		} else if (is(k, "bootp") && family == AF_INET) {
			check_attrs(c, k, KNOWN("file", "server"));
			set_once(c, k, "pxe_boot", attr(c, k, "file"));
			set_once(c, k, "next_server", attr(c, k, "server"));
		} else {
			drop(c, "<dhcp><%s>", k->name);
		}
	}
	if (family == AF_INET6)
		c->dhcp6 = c->dhcp6 || ranges || hosts;
	if (family == AF_INET) {
		c->dhcp4 = c->dhcp4 || ranges || hosts;
		/* reservations without a range: libvirt answers those hosts only */
		if (hosts && !ranges)
			append(c, "dhcp_ranges", "static");
	}
}

static void ip_element(struct ctx *c, xmlNode *n)
{
	struct ip ip;
	char net[INET6_ADDRSTRLEN + 8], buf[INET6_ADDRSTRLEN + 8];

	check_attrs(c, n, KNOWN("address", "family", "prefix", "netmask", "localPtr"));
	if (attr(c, n, "prefix") && attr(c, n, "netmask")) {
		drop(c, "<ip address='%s'> with both prefix and netmask (libvirt refuses it too)",
		     attr(c, n, "address") ?: "");
		return;
	}
	if (ip_read(c, n, &ip) < 0) {
		drop(c, "<ip address='%s'> (not an address and prefix netd can read)",
		     attr(c, n, "address") ?: "");
		return;
	}
	if (yes_no(c, n, "localPtr", "yes", "no") == 1)
		drop(c, "<ip address='%s' localPtr='yes'>", ip.text);
	ip_network(&ip, net, sizeof(net));
	if (ip.family == AF_INET6) {
		if (c->have_ip6) {
			drop(c, "<ip family='ipv6' address='%s'> (netd has one IPv6 prefix a network)",
			     ip.text);
			return;
		}
		if (!ip6_is_first(&ip)) {
			drop(c, "<ip family='ipv6' address='%s'> (netd's IPv6 gateway is its prefix's ::1)",
			     ip.text);
			return;
		}
		c->have_ip6 = true;
		set_string(c, "subnet6", net);
	} else if (!c->have_ip4) {
		c->have_ip4 = true;
		set_string(c, "subnet", net);
		set_string(c, "gateway", ip.text);
	} else {
		snprintf(buf, sizeof(buf), "%s/%u", ip.text, ip.prefix);
		append(c, "addresses", buf);
	}
	for (xmlNode *k = n->children; k; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (is(k, "dhcp")) {
			dhcp(c, k, ip.family);
		} else if (is(k, "tftp") && ip.family == AF_INET) {
			check_attrs(c, k, KNOWN("root"));
			set_once(c, k, "tftp_root", attr(c, k, "root"));
		} else {
			drop(c, "<ip address='%s'><%s>", ip.text, k->name);
		}
	}
}

/* ---- <dnsmasq:options> ---- */

static void dnsmasq_options(struct ctx *c, xmlNode *o)
{
	check_attrs(c, o, KNOWN(NULL));
	for (xmlNode *k = o->children; k; k = k->next) {
		const char *v;

		if (k->type != XML_ELEMENT_NODE)
			continue;
		v = attr(c, k, "value");
		if (!k->ns || strcmp((const char *)k->ns->href, DNSMASQ_NS) ||
		    strcmp((const char *)k->name, "option") || !v) {
			drop_element(c, k);
			continue;
		}
		check_attrs(c, k, KNOWN("value"));
		append(c, "dnsmasq_options", v);
	}
}

/* ---- <network> ---- */

static void network_attrs(struct ctx *c, xmlNode *n)
{
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const char *v = keep(c, xmlNodeListGetString(n->doc, a->children, 1)) ?: "";

		if (a->ns)
			drop(c, "<network %s='%s'>", a->name, v);
		else if (!strcmp((const char *)a->name, "connections"))
			; /* the live XML's count of guests */
		else if (!strcmp((const char *)a->name, "trustGuestRxFilters") && !strcmp(v, "no"))
			;
		else if (!strcmp((const char *)a->name, "ipv6") && !strcmp(v, "no"))
			;
		else if (!strcmp((const char *)a->name, "ipv6") && !strcmp(v, "yes"))
			drop(c, "<network ipv6='yes'> (guest-to-guest IPv6 without an IPv6 address)");
		else
			drop(c, "<network %s='%s'>", a->name, v);
	}
}

/* Elements libvirt has once: a second is dropped, not mixed into the first. */
static bool second(struct ctx *c, xmlNode *k)
{
	static const char *const once[] = { "name", "uuid", "bridge", "mtu", "mac", "domain", "dns" };

	for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++)
		if (is(k, once[i])) {
			if (!(c->seen & 1u << i)) {
				c->seen |= 1u << i;
				return false;
			}
			drop(c, "a second <%s>", once[i]);
			return true;
		}
	return false;
}

static void child(struct ctx *c, xmlNode *k)
{
	if (second(c, k))
		return;
	if (k->ns && !strcmp((const char *)k->ns->href, DNSMASQ_NS) &&
	    !strcmp((const char *)k->name, "options"))
		dnsmasq_options(c, k);
	else if (is(k, "name"))
		set_string(c, "name", text(c, k));
	else if (is(k, "uuid"))
		ignore(c, "<uuid>: libvirt's identity of the network; netd's is its name");
	else if (is(k, "title") || is(k, "description") || is(k, "metadata"))
		ignore(c, is(k, "title")       ? "<title>: a note for people" :
			  is(k, "description") ? "<description>: a note for people" :
						 "<metadata>: other applications' data");
	else if (is(k, "forward"))
		forward(c, k);
	else if (is(k, "bridge"))
		bridge(c, k);
	else if (is(k, "mtu")) {
		const char *size = attr(c, k, "size");

		check_attrs(c, k, KNOWN("size"));
		if (size && *size && strspn(size, "0123456789") == strlen(size) && strlen(size) < 10)
			json_object_object_add(c->params, "mtu", json_object_new_int(atoi(size)));
		else
			drop(c, "<mtu size='%s'>", size ?: "");
	} else if (is(k, "mac")) {
		check_attrs(c, k, KNOWN("address"));
		set_string(c, "mac", attr(c, k, "address"));
	} else if (is(k, "domain"))
		domain(c, k);
	else if (is(k, "dns"))
		dns(c, k);
	else if (is(k, "ip"))
		ip_element(c, k);
	else if (is(k, "virtualport")) {
		/* guests would be plugged into another kind of port (Open vSwitch, 802.1Qbh) */
		drop_element(c, k);
		c->fatal = "<virtualport>: guests would be attached to another kind of port";
	} else
		drop_element(c, k);
}

/* The mode, and what libvirt does by default that netd does otherwise. */
static void finish(struct ctx *c)
{
	bool bridged = c->forward_mode && !strcmp(c->forward_mode, "bridge");

	if (c->no_mode)
		return;
	set_string(c, "mode", c->forward_mode ?: "isolated");
	if (bridged)
		return;
	if (!c->have_ip4 && !c->have_ip6) {
		/* as an L3 network it would get a pool subnet, DHCP and DNS: not what libvirt ran */
		drop(c, "a network without <ip> (netd's %s networks have an address)",
		     c->forward_mode ?: "isolated");
		c->fatal = "a network without <ip>: netd would give it a subnet, DHCP and DNS";
		return;
	}
	if (!c->have_ip4)
		set_string(c, "subnet", "none");
	/* libvirt serves DHCPv4 only on an <ip> with <dhcp>; netd by default on the whole subnet.
	 * netd's dhcp switch is both families': with DHCPv6 on, there is no "no DHCPv4". */
	if (c->have_ip4 && !c->dhcp4 && c->dhcp6)
		drop(c, "an IPv4 <ip> without <dhcp> beside an IPv6 <dhcp> (netd's DHCP switch is both "
			"families': it would serve DHCPv4 on the whole subnet)");
	else if (c->have_ip4 && !c->dhcp4)
		set_bool(c, "dhcp", false);
	if (c->dhcp6)
		set_string(c, "ipv6_mode", "dhcpv6");
	/* libvirt routes a nat network's IPv6 unless <nat ipv6='yes'>; netd would masquerade a ULA */
	if (c->have_ip6 && c->forward_mode && !strcmp(c->forward_mode, "nat"))
		set_bool(c, "nat6", c->nat6);
}

/* The same parameters, "name" and "mode" first (as netd's file and netdctl write them). */
static json_object *name_mode_first(json_object *params)
{
	json_object *o = json_object_new_object(), *v;

	if (json_object_object_get_ex(params, "name", &v))
		json_object_object_add(o, "name", json_object_get(v));
	if (json_object_object_get_ex(params, "mode", &v))
		json_object_object_add(o, "mode", json_object_get(v));
	json_object_object_foreach(params, key, val)
		if (strcmp(key, "name") && strcmp(key, "mode"))
			json_object_object_add(o, key, json_object_get(val));
	json_object_put(params);
	return o;
}

static xmlParserInputPtr no_entity_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	return NULL; /* nothing outside the text given is ever read */
}

/* The offset of the first byte that is not UTF-8 (overlong forms, surrogates and code points
 * past U+10FFFF included), or len. */
static size_t utf8_valid_len(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char b = s[i];
		size_t n = b < 0x80	      ? 1 :
			   (b & 0xe0) == 0xc0 ? 2 :
			   (b & 0xf0) == 0xe0 ? 3 :
			   (b & 0xf8) == 0xf0 ? 4 :
						0;
		uint32_t cp;

		if (!n || i + n > len)
			return i;
		cp = n == 1 ? b : b & (0x7f >> n);
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n;
	}
	return len;
}

static int xml_read(const char *xml, size_t len, xmlDoc **ret, char *err, size_t errlen)
{
	size_t bad;

	xmlParserCtxt *p;
	xmlDoc *doc;

	if (len > LIBVIRT_XML_MAX) {
		snprintf(err, errlen, "is larger than %d bytes: not a libvirt network definition",
			 LIBVIRT_XML_MAX);
		return -EFBIG;
	}
	/* libvirt writes UTF-8: a NUL is another encoding (UTF-16 would hide a DOCTYPE from the check
	 * below) or no XML at all */
	if (memchr(xml, 0, len)) {
		snprintf(err, errlen, "holds a NUL byte: not a UTF-8 libvirt network definition");
		return -EINVAL;
	}
	bad = utf8_valid_len((const unsigned char *)xml, len);
	if (bad < len) {
		snprintf(err, errlen,
			 "is not UTF-8 (byte %zu, 0x%02x): libvirt writes UTF-8; convert the file, e.g. "
			 "with 'iconv -f LATIN1 -t UTF-8'",
			 bad, (unsigned char)xml[bad]);
		return -EINVAL;
	}
	/* libvirt writes no DOCTYPE; one is where entities (XXE, "billion laughs") come from */
	if (memmem(xml, len, "<!DOCTYPE", 9) || memmem(xml, len, "<!ENTITY", 8)) {
		snprintf(
			err, errlen,
			"has a DOCTYPE or an entity declaration: not accepted in a libvirt network definition");
		return -EINVAL;
	}
	xmlSetExternalEntityLoader(no_entity_loader);
	p = xmlNewParserCtxt();
	if (!p)
		return -ENOMEM;
	doc = xmlCtxtReadMemory(p, xml, (int)len, "network.xml", "UTF-8",
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
					XML_PARSE_NOCDATA);
	if (!doc || !p->wellFormed) {
		const xmlError *e = xmlCtxtGetLastError(p);
		size_t l;

		/* libxml2's own advice (XML_PARSE_HUGE) is not the user's to follow */
		if (e && e->message && strstr(e->message, "XML_PARSE_HUGE"))
			snprintf(err, errlen,
				 "has elements nested deeper than %d (line %d): not a libvirt network "
				 "definition",
				 LIBVIRT_XML_DEPTH, e->line);
		else if (e && e->message)
			snprintf(err, errlen, "is not well-formed XML: line %d: %s", e->line, e->message);
		else
			snprintf(err, errlen, "is not well-formed XML");
		l = strlen(err);
		if (l && err[l - 1] == '\n')
			err[l - 1] = 0;
		printable(err); /* libxml2 quotes the file's bytes */
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(p);
		return -EINVAL;
	}
	xmlFreeParserCtxt(p);
	if (doc->intSubset || doc->extSubset) {
		xmlFreeDoc(doc);
		snprintf(err, errlen, "has a DOCTYPE: not accepted in a libvirt network definition");
		return -EINVAL;
	}
	*ret = doc;
	return 0;
}

int libvirt_import_parse(const char *xml, size_t len, struct libvirt_import *ret, char *err, size_t errlen)
{
	struct ctx c = {};
	xmlDoc *doc;
	xmlNode *root;
	int r = xml_read(xml, len, &doc, err, errlen);

	if (r < 0)
		return r;
	root = xmlDocGetRootElement(doc);
	if (root && root->ns && !strcmp((const char *)root->name, "network")) {
		snprintf(err, errlen,
			 "is no libvirt network definition: its root element <network> is in namespace "
			 "'%s' (libvirt's has none)",
			 (const char *)root->ns->href);
		printable(err);
		xmlFreeDoc(doc);
		return -EINVAL;
	}
	if (!root || !is(root, "network")) {
		snprintf(err, errlen,
			 "is no libvirt network definition: its root element is <%s>, not <network>",
			 root ? (const char *)root->name : "");
		printable(err);
		xmlFreeDoc(doc);
		return -EINVAL;
	}
	c.params = json_object_new_object();
	c.dropped = json_object_new_array();
	c.ignored = json_object_new_array();
	/* <forward> decides what <bridge> means: read it first */
	for (xmlNode *k = root->children; k; k = k->next)
		if (is(k, "forward") && !c.forward_mode && !c.no_mode)
			forward(&c, k);
		else if (is(k, "forward"))
			drop(&c, "a second <forward>");
	network_attrs(&c, root);
	for (xmlNode *k = root->children; k; k = k->next)
		if (k->type == XML_ELEMENT_NODE && !is(k, "forward"))
			child(&c, k);
	finish(&c);
	c.params = name_mode_first(c.params);
	for (size_t i = 0; i < c.n_keep; i++)
		xmlFree(c.keep[i]);
	free(c.keep);
	xmlFreeDoc(doc);
	*ret = (struct libvirt_import){ c.params, c.dropped, c.ignored, c.fatal };
	return 0;
}

void libvirt_import_done(struct libvirt_import *imp)
{
	json_object_put(imp->params);
	json_object_put(imp->dropped);
	json_object_put(imp->ignored);
	*imp = (struct libvirt_import){};
}
