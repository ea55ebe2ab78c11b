/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A network's DNS beyond its domain and hosts: SRV, TXT, CNAME and PTR records, upstream
 * forwarders, local-only and register, and the raw dnsmasq options of the escape hatch. Parsers of
 * user text and the checks between them. Pure.
 */
#include "dhcp.h"
#include "dhcp-array.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "names.h"

void dns_config_done(struct dns_config *c)
{
	free(c->srv);
	free(c->txt);
	free(c->cname);
	free(c->ptr);
	free(c->fwd);
	free(c->opts);
	*c = (struct dns_config){ .local_only = c->local_only,
				  .register_dns = c->register_dns,
				  .no_resolv = c->no_resolv };
}

int dns_config_copy(struct dns_config *dst, const struct dns_config *src)
{
	*dst = *src;
	dst->srv = dhcp_array_dup(src->srv, src->n_srv, sizeof(*src->srv));
	dst->txt = dhcp_array_dup(src->txt, src->n_txt, sizeof(*src->txt));
	dst->cname = dhcp_array_dup(src->cname, src->n_cname, sizeof(*src->cname));
	dst->ptr = dhcp_array_dup(src->ptr, src->n_ptr, sizeof(*src->ptr));
	dst->fwd = dhcp_array_dup(src->fwd, src->n_fwd, sizeof(*src->fwd));
	dst->opts = dhcp_array_dup(src->opts, src->n_opts, sizeof(*src->opts));
	if ((src->n_srv && !dst->srv) || (src->n_txt && !dst->txt) || (src->n_cname && !dst->cname) ||
	    (src->n_ptr && !dst->ptr) || (src->n_fwd && !dst->fwd) || (src->n_opts && !dst->opts)) {
		dns_config_done(dst);
		return -ENOMEM;
	}
	return 0;
}

#define SAME(a, b, m) \
	((a)->n_##m == (b)->n_##m && (!(a)->n_##m || !memcmp((a)->m, (b)->m, (a)->n_##m * sizeof(*(a)->m))))

bool dns_config_equal(const struct dns_config *a, const struct dns_config *b)
{
	return a->local_only == b->local_only && a->register_dns == b->register_dns &&
	       a->no_resolv == b->no_resolv && SAME(a, b, srv) && SAME(a, b, txt) && SAME(a, b, cname) &&
	       SAME(a, b, ptr) && SAME(a, b, fwd) && SAME(a, b, opts);
}

/* src into dst (checked to fit already: names are at most DNS_NAME_MAX, texts DNS_TXT_MAX). */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

/* ---- names ---- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

/*
 * A record's owner name or target: a DNS name whose labels may also hold '_' (_ldap._tcp,
 * _dmarc): dnsmasq takes letters, digits, '-' and '_' in names (util.c check_name). Nothing else
 * reaches its config: no ',' (its field separator), no blank, no '#', no quote.
 */
static const char *record_name_invalid_reason(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "must not be empty";
	if (n > DNS_NAME_MAX)
		return "is longer than 253 characters";
	for (const char *p = s;;) {
		size_t len = strcspn(p, ".");

		if (len == 0)
			return "has an empty label (two dots, or a leading or trailing dot)";
		if (len > DNS_LABEL_MAX)
			return "has a label longer than 63 characters";
		for (size_t i = 0; i < len; i++)
			if (!name_char(p[i]))
				return "may contain only letters, digits, '-', '_' and dots";
		if (p[0] == '-' || p[len - 1] == '-')
			return "has a label that starts or ends with '-'";
		p += len;
		if (!*p++)
			return NULL;
	}
}

static int check_name(const char *what, const char *name, const char *whole, char *err, size_t errlen)
{
	const char *why = record_name_invalid_reason(name);
	char e[128], e2[128];

	if (!why)
		return 0;
	snprintf(err, errlen, "invalid name '%s' in %s '%s': %s", text_escape(name, e, sizeof(e)), what,
		 text_escape(whole, e2, sizeof(e2)), why);
	return -EINVAL;
}

/* A copy of s cut at the first comma: *ret_rest is what follows it (NULL without one). */
static int cut(const char *s, char *buf, size_t size, char **ret_rest)
{
	char *comma;

	if (strlen(s) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, s);
	comma = strchr(buf, ',');
	if (comma)
		*comma++ = 0;
	*ret_rest = comma;
	return 0;
}

static int parse_u16(const char *s, unsigned min, unsigned *ret)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9' || strlen(s) > 5)
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end || v < min || v > 65535)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* ---- SRV ---- */

/* "_service._proto[.domain]": two labels with a leading '_', then a domain. */
static const char *srv_name_invalid_reason(const char *s)
{
	const char *why = record_name_invalid_reason(s), *dot = strchr(s, '.');

	if (why)
		return why;
	if (s[0] != '_' || s[1] == 0 || !dot || dot[1] != '_' || dot[2] == 0 || dot[2] == '.')
		return "expected _SERVICE._PROTO or _SERVICE._PROTO.DOMAIN, like _ldap._tcp";
	return NULL;
}

int dns_srv_add(struct dns_config *c, const char *s, char *err, size_t errlen)
{
	char buf[2 * DNS_NAME_MAX + 32], e[160], *f[6] = {}, *rest;
	struct dns_srv r;
	const char *why;
	int n = 0;
	void *p;

	memset(&r, 0, sizeof(r));
	if (cut(s, buf, sizeof(buf), &rest) < 0)
		goto bad;
	f[n++] = buf;
	while (rest && n < 6) {
		f[n++] = rest;
		rest = strchr(rest, ',');
		if (rest)
			*rest++ = 0;
	}
	if (rest || n == 2 || n > 5)
		goto bad;
	why = srv_name_invalid_reason(f[0]);
	if (why) {
		snprintf(err, errlen, "invalid SRV name '%s': %s", text_escape(f[0], e, sizeof(e)), why);
		return -EINVAL;
	}
	copy_str(r.name, sizeof(r.name), f[0]);
	if (n > 1) {
		if (check_name("SRV record", f[1], s, err, errlen) < 0)
			return -EINVAL;
		copy_str(r.target, sizeof(r.target), f[1]);
		if (parse_u16(f[2], 1, &r.port) < 0 || (f[3] && parse_u16(f[3], 0, &r.priority) < 0) ||
		    (f[4] && parse_u16(f[4], 0, &r.weight) < 0)) {
			snprintf(
				err, errlen,
				"invalid SRV record '%s': the port is 1-65535, the priority and weight 0-65535",
				text_escape(s, e, sizeof(e)));
			return -EINVAL;
		}
	}
	if (c->n_srv >= DNS_RECORDS_MAX) {
		snprintf(err, errlen, "too many SRV records (at most %d)", DNS_RECORDS_MAX);
		return -E2BIG;
	}
	if (!(p = dhcp_array_push(c->srv, &c->n_srv, &r, sizeof(r))))
		return -ENOMEM;
	c->srv = p;
	return 0;
bad:
	snprintf(
		err, errlen,
		"invalid SRV record '%s': expected _SERVICE._PROTO[.DOMAIN][,TARGET,PORT[,PRIORITY[,WEIGHT]]]",
		text_escape(s, e, sizeof(e)));
	return -EINVAL;
}

const char *dns_srv_format(const struct dns_srv *r, char *buf, size_t size)
{
	int n = r->target[0] ? snprintf(buf, size, "%s,%s,%u,%u,%u", r->name, r->target, r->port, r->priority,
					r->weight) :
			       snprintf(buf, size, "%s", r->name);

	if ((n < 0 || (size_t)n >= size) && size)
		buf[0] = 0;
	return buf;
}

/* ---- TXT ---- */

/* Printable ASCII: the record's bytes are what was typed, and the config line stays one line. */
static bool text_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

int dns_txt_add(struct dns_config *c, const char *s, char *err, size_t errlen)
{
	char buf[DNS_NAME_MAX + DNS_TXT_MAX + 4], e[160], *text;
	struct dns_txt r;
	void *p;

	memset(&r, 0, sizeof(r));
	if (cut(s, buf, sizeof(buf), &text) < 0 || !text) {
		snprintf(err, errlen,
			 "invalid TXT record '%s': expected NAME,TEXT (TEXT at most %d characters)",
			 text_escape(s, e, sizeof(e)), DNS_TXT_MAX);
		return -EINVAL;
	}
	if (check_name("TXT record", buf, s, err, errlen) < 0)
		return -EINVAL;
	if (strlen(text) > DNS_TXT_MAX || !text_printable(text)) {
		snprintf(err, errlen,
			 "invalid text in TXT record '%s': at most %d printable ASCII characters",
			 text_escape(s, e, sizeof(e)), DNS_TXT_MAX);
		return -EINVAL;
	}
	copy_str(r.name, sizeof(r.name), buf);
	copy_str(r.text, sizeof(r.text), text);
	if (c->n_txt >= DNS_RECORDS_MAX) {
		snprintf(err, errlen, "too many TXT records (at most %d)", DNS_RECORDS_MAX);
		return -E2BIG;
	}
	if (!(p = dhcp_array_push(c->txt, &c->n_txt, &r, sizeof(r))))
		return -ENOMEM;
	c->txt = p;
	return 0;
}

const char *dns_txt_format(const struct dns_txt *r, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s,%s", r->name, r->text);

	if ((n < 0 || (size_t)n >= size) && size)
		buf[0] = 0;
	return buf;
}

/* ---- CNAME and PTR ---- */

static int pair_parse(const char *what, const char *s, struct dns_pair *r, char *err, size_t errlen)
{
	char buf[2 * DNS_NAME_MAX + 4], e[160], *target;

	memset(r, 0, sizeof(*r));
	if (cut(s, buf, sizeof(buf), &target) < 0 || !target || strchr(target, ',')) {
		snprintf(err, errlen, "invalid %s '%s': expected %s", what, text_escape(s, e, sizeof(e)),
			 !strcmp(what, "CNAME") ? "ALIAS,TARGET" : "NAME,TARGET");
		return -EINVAL;
	}
	if (check_name(what, buf, s, err, errlen) < 0 || check_name(what, target, s, err, errlen) < 0)
		return -EINVAL;
	copy_str(r->name, sizeof(r->name), buf);
	copy_str(r->target, sizeof(r->target), target);
	return 0;
}

int dns_cname_add(struct dns_config *c, const char *s, char *err, size_t errlen)
{
	char e[160];
	struct dns_pair r;
	void *p;

	if (pair_parse("CNAME", s, &r, err, errlen) < 0)
		return -EINVAL;
	/* dnsmasq reads a last field of digits as the record's TTL, not as its target. */
	if (strspn(r.target, "0123456789") == strlen(r.target)) {
		snprintf(err, errlen, "invalid CNAME '%s': dnsmasq reads a target of digits as a TTL",
			 text_escape(s, e, sizeof(e)));
		return -EINVAL;
	}
	if (!strcasecmp(r.name, r.target)) {
		snprintf(err, errlen, "invalid CNAME '%s': an alias of itself", text_escape(s, e, sizeof(e)));
		return -EINVAL;
	}
	/* dnsmasq does not start with one alias twice ("duplicate CNAME"). */
	for (size_t i = 0; i < c->n_cname; i++)
		if (!strcasecmp(c->cname[i].name, r.name)) {
			snprintf(err, errlen, "CNAME alias '%s' is given twice", r.name);
			return -EEXIST;
		}
	if (c->n_cname >= DNS_RECORDS_MAX) {
		snprintf(err, errlen, "too many CNAME records (at most %d)", DNS_RECORDS_MAX);
		return -E2BIG;
	}
	if (!(p = dhcp_array_push(c->cname, &c->n_cname, &r, sizeof(r))))
		return -ENOMEM;
	c->cname = p;
	return 0;
}

int dns_ptr_add(struct dns_config *c, const char *s, char *err, size_t errlen)
{
	struct dns_pair r;
	void *p;

	if (pair_parse("PTR record", s, &r, err, errlen) < 0)
		return -EINVAL;
	if (c->n_ptr >= DNS_RECORDS_MAX) {
		snprintf(err, errlen, "too many PTR records (at most %d)", DNS_RECORDS_MAX);
		return -E2BIG;
	}
	if (!(p = dhcp_array_push(c->ptr, &c->n_ptr, &r, sizeof(r))))
		return -ENOMEM;
	c->ptr = p;
	return 0;
}

const char *dns_pair_format(const struct dns_pair *r, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s,%s", r->name, r->target);

	if ((n < 0 || (size_t)n >= size) && size)
		buf[0] = 0;
	return buf;
}

/* ---- forwarders ---- */

/*
 * Where dnsmasq may send the guests' queries (dhcp/DESIGN.md, "DNS beyond hosts", Upstream): somewhere out on
 * a network, never at a service of the host's own (127.0.0.1#6379: guests would talk to it through dnsmasq),
 * nor to an address that is no one host. The host's own resolver stub (loopback, port 53) is fine. IPv6
 * link-local needs a scope, which dnsmasq's server= would take but netd's value does not (a '%' is refused).
 */
static const char *forwarder_addr4_invalid_reason(const uint8_t *b, unsigned port)
{
	if (b[0] == 0)
		return "is an unspecified address (0.0.0.0/8)";
	if (b[0] == 127 && port && port != 53)
		return "is a loopback address on a port other than 53 (a service of the host's, not a DNS "
		       "resolver)";
	if (b[0] >= 224 && b[0] <= 239)
		return "is a multicast address";
	if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
		return "is the broadcast address";
	return NULL;
}

static const char *forwarder_addr_invalid_reason(int family, const union in_addr_union *a, unsigned port)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t zero[15] = {};
	const uint8_t *b = a->bytes;

	if (family == AF_INET)
		return forwarder_addr4_invalid_reason(b, port);
	if (family != AF_INET6)
		return "is not an IPv4 or IPv6 address";
	if (!memcmp(b, mapped, sizeof(mapped)))
		return forwarder_addr4_invalid_reason(b + 12, port);
	if (!memcmp(b, zero, sizeof(zero))) {
		if (b[15] == 0)
			return "is the unspecified address (::)";
		if (b[15] == 1 && port && port != 53)
			return "is a loopback address on a port other than 53 (a service of the host's, not "
			       "a DNS resolver)";
		if (b[15] != 1)
			return "is an IPv4-compatible address (::/96, deprecated)";
		return NULL;
	}
	if (!memcmp(b, zero, 12))
		return "is an IPv4-compatible address (::/96, deprecated)";
	if (b[0] == 0xff)
		return "is a multicast address";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "is a link-local address (it needs a scope, which a forwarder cannot have)";
	return NULL;
}

/* "[/DOMAIN/]IP[#PORT]", "/DOMAIN/" or "/DOMAIN/#" (dnsmasq's '#': the usual servers). */
int dns_forwarder_add(struct dns_config *c, const char *s, char *err, size_t errlen)
{
	char buf[DNS_NAME_MAX + INET6_ADDRSTRLEN + 16], e[160], *addr = buf, *hash;
	struct dns_forwarder r;
	const char *why;
	void *p;

	memset(&r, 0, sizeof(r));
	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	if (buf[0] == '/') {
		char *end = strchr(buf + 1, '/');

		if (!end)
			goto bad;
		*end = 0;
		why = dns_name_invalid_reason(buf + 1);
		if (why) {
			char e2[160];

			snprintf(err, errlen, "invalid domain '%s' in forwarder '%s': %s",
				 text_escape(buf + 1, e, sizeof(e)), text_escape(s, e2, sizeof(e2)), why);
			return -EINVAL;
		}
		copy_str(r.domain, sizeof(r.domain), buf + 1);
		addr = end + 1;
	}
	if (r.domain[0] && !strcmp(addr, "#")) {
		r.usual = true;
	} else if (*addr) {
		hash = strchr(addr, '#');
		if (hash) {
			*hash++ = 0;
			if (parse_u16(hash, 1, &r.port) < 0)
				goto bad;
		}
		if (ip_addr_parse(addr, &r.family, &r.addr) < 0)
			goto bad;
		why = forwarder_addr_invalid_reason(r.family, &r.addr, r.port);
		if (why) {
			snprintf(err, errlen, "invalid DNS forwarder '%s': %s", text_escape(s, e, sizeof(e)),
				 why);
			return -EINVAL;
		}
	} else if (!r.domain[0]) {
		goto bad;
	}
	if (c->n_fwd >= DNS_RECORDS_MAX) {
		snprintf(err, errlen, "too many DNS forwarders (at most %d)", DNS_RECORDS_MAX);
		return -E2BIG;
	}
	if (!(p = dhcp_array_push(c->fwd, &c->n_fwd, &r, sizeof(r))))
		return -ENOMEM;
	c->fwd = p;
	return 0;
bad:
	snprintf(err, errlen,
		 "invalid DNS forwarder '%s': expected [/DOMAIN/]IP[#PORT] (an IPv4 or IPv6 address, port "
		 "1-65535), /DOMAIN/ or /DOMAIN/#",
		 text_escape(s, e, sizeof(e)));
	return -EINVAL;
}

const char *dns_forwarder_format(const struct dns_forwarder *r, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "", port[16] = "";
	int n;

	if (r->family)
		ip_addr_format(r->family, &r->addr, a, sizeof(a));
	if (r->family && r->port)
		snprintf(port, sizeof(port), "#%u", r->port);
	n = snprintf(buf, size, "%s%s%s%s%s", r->domain[0] ? "/" : "", r->domain, r->domain[0] ? "/" : "",
		     r->usual ? "#" : a, port);
	if ((n < 0 || (size_t)n >= size) && size)
		buf[0] = 0;
	return buf;
}

/* ---- the escape hatch ---- */

/*
 * The dnsmasq options an operator may add (dhcp/DESIGN.md, "The escape hatch"). dnsmasq reads its
 * config as root: an option that names a file or a program (conf-file, addn-hosts, dhcp-script,
 * pid-file, log-facility, dumpfile, tftp-root, servers-file...), changes who it runs as or where it
 * listens (user, interface, port, bind-*), or gives it the host's firewall (ipset, nftset: it
 * keeps CAP_NET_ADMIN for them and could fill netd's own sets) would make an operator root. So a
 * deny-list cannot be complete (each new dnsmasq may add such an option); these only change what
 * dnsmasq answers on the network: DNS data and DHCP options and matching. Not log-queries nor
 * log-dhcp: guests would decide how much netd's log (dnsmasq's goes there) grows.
 */
static const char *const allowed_options[] = {
	"address",	     "alias",
	"bogus-nxdomain",    "bogus-priv",
	"caa-record",	     "dhcp-broadcast",
	"dhcp-circuitid",    "dhcp-client-update",
	"dhcp-fqdn",	     "dhcp-generate-names",
	"dhcp-ignore-names", "dhcp-mac",
	"dhcp-match",	     "dhcp-name-match",
	"dhcp-option",	     "dhcp-option-force",
	"dhcp-rapid-commit", "dhcp-remoteid",
	"dhcp-subscrid",     "dhcp-userclass",
	"dhcp-vendorclass",  "dns-rr",
	"domain-needed",     "filterwin2k",
	"host-record",	     "ignore-address",
	"local-ttl",	     "max-cache-ttl",
	"max-ttl",	     "min-cache-ttl",
	"mx-host",	     "mx-target",
	"naptr-record",	     "neg-ttl",
	"no-negcache",	     "ptr-record",
	"rebind-domain-ok",  "rebind-localhost-ok",
	"srv-host",	     "stop-dns-rebind",
	"synth-domain",	     "tag-if",
	"txt-record",
};

static bool option_allowed(const char *name, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(allowed_options); i++)
		if (strlen(allowed_options[i]) == len && !strncmp(allowed_options[i], name, len))
			return true;
	return false;
}

const char *dnsmasq_option_invalid_reason(const char *s)
{
	size_t n = strlen(s), name = strcspn(s, "=");

	if (n == 0)
		return "must not be empty";
	if (n > DNSMASQ_OPTION_MAX)
		return "is longer than 512 characters";
	/* What dnsmasq's config reader would not read back as one option as written (render.c's
	 * value_safe): a new line or control character, a quote, a comment, blanks at the ends. */
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return "may contain only printable ASCII characters";
		if (s[i] == '"')
			return "must not contain '\"' (dnsmasq's quoting)";
		if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t'))
			return "must not contain '#' at its start or after a blank (a comment to dnsmasq)";
	}
	if (s[0] == ' ' || s[n - 1] == ' ')
		return "must not start or end with a blank";
	for (size_t i = 0; i < name; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return "must be NAME or NAME=VALUE with a dnsmasq option's long name, like dhcp-option=42,10.0.0.1";
	if (!option_allowed(s, name))
		return "is not an option netd passes on: netd owns it, or it reads or writes files or runs programs as root (the options allowed: README, [dnsmasq])";
	if (s[name] == '=' && s[name + 1] == 0)
		return "has an empty value";
	return NULL;
}

int dnsmasq_option_add(struct dns_config *c, const char *s, char *err, size_t errlen)
{
	const char *why = dnsmasq_option_invalid_reason(s);
	struct dnsmasq_option o;
	char e[160];
	void *p;

	if (why) {
		snprintf(err, errlen, "dnsmasq option '%s' %s", text_escape(s, e, sizeof(e)), why);
		return -EINVAL;
	}
	if (c->n_opts >= DNSMASQ_OPTIONS_MAX) {
		snprintf(err, errlen, "too many dnsmasq options (at most %d)", DNSMASQ_OPTIONS_MAX);
		return -E2BIG;
	}
	memset(&o, 0, sizeof(o));
	copy_str(o.text, sizeof(o.text), s);
	if (!(p = dhcp_array_push(c->opts, &c->n_opts, &o, sizeof(o))))
		return -ENOMEM;
	c->opts = p;
	return 0;
}

/* ---- between them ---- */

bool dns_config_uses_host_resolvers(const struct dhcp_settings *s, bool dns_forward)
{
	if (!dns_forward || s->dnscfg.no_resolv)
		return false;
	/* A forwarder for every name replaces the host's resolvers (as libvirt's does). */
	for (size_t i = 0; i < s->dnscfg.n_fwd; i++)
		if (s->dnscfg.fwd[i].family && !s->dnscfg.fwd[i].domain[0])
			return false;
	return true;
}

static int validate_records(const struct dns_config *c, char *err, size_t errlen)
{
	char e[160];

	/* What the parsers checked, again: a definition may come from anywhere (a copy, a test). */
	for (size_t i = 0; i < c->n_srv; i++)
		if (srv_name_invalid_reason(c->srv[i].name) ||
		    (c->srv[i].target[0] &&
		     (record_name_invalid_reason(c->srv[i].target) || !c->srv[i].port ||
		      c->srv[i].port > 65535 || c->srv[i].priority > 65535 || c->srv[i].weight > 65535)))
			goto bad;
	for (size_t i = 0; i < c->n_txt; i++)
		if (record_name_invalid_reason(c->txt[i].name) || !text_printable(c->txt[i].text))
			goto bad;
	for (size_t i = 0; i < c->n_cname; i++)
		if (record_name_invalid_reason(c->cname[i].name) ||
		    record_name_invalid_reason(c->cname[i].target))
			goto bad;
	for (size_t i = 0; i < c->n_ptr; i++)
		if (record_name_invalid_reason(c->ptr[i].name) ||
		    record_name_invalid_reason(c->ptr[i].target))
			goto bad;
	for (size_t i = 0; i < c->n_fwd; i++)
		if ((c->fwd[i].domain[0] && dns_name_invalid_reason(c->fwd[i].domain)) ||
		    (!c->fwd[i].family && !c->fwd[i].domain[0]) || c->fwd[i].port > 65535 ||
		    (c->fwd[i].family &&
		     forwarder_addr_invalid_reason(c->fwd[i].family, &c->fwd[i].addr, c->fwd[i].port)) ||
		    (c->fwd[i].usual && (c->fwd[i].family || !c->fwd[i].domain[0])))
			goto bad;
	for (size_t i = 0; i < c->n_opts; i++)
		if (dnsmasq_option_invalid_reason(c->opts[i].text)) {
			snprintf(err, errlen, "dnsmasq option '%s' %s",
				 text_escape(c->opts[i].text, e, sizeof(e)),
				 dnsmasq_option_invalid_reason(c->opts[i].text));
			return -EINVAL;
		}
	return 0;
bad:
	snprintf(err, errlen, "invalid DNS record");
	return -EINVAL;
}

/* name is domain or under it (no case). */
bool dns_name_under(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (!d || n < d || strcasecmp(name + n - d, domain))
		return false;
	return n == d || name[n - d - 1] == '.';
}

/*
 * A CNAME chain among the network's aliases that comes back to where it started: dnsmasq exits
 * ("CNAME loop") and would be restarted for ever. Each alias leads to at most one other (aliases
 * are unique), so a walk of n_cname steps finds it.
 */
static const struct dns_pair *cname_loop(const struct dns_config *c)
{
	for (size_t i = 0; i < c->n_cname; i++) {
		const char *at = c->cname[i].target;

		for (size_t step = 0; step < c->n_cname; step++) {
			size_t j;

			for (j = 0; j < c->n_cname; j++)
				if (!strcasecmp(c->cname[j].name, at))
					break;
			if (j == c->n_cname)
				break;
			if (j == i)
				return &c->cname[i];
			at = c->cname[j].target;
		}
	}
	return NULL;
}

int dns_config_validate(const struct dhcp_settings *s, const union in_addr_union *gateway,
			const union in_addr_union *gateway6, char *err, size_t errlen)
{
	const struct dns_config *c = &s->dnscfg;
	char a[INET6_ADDRSTRLEN], a2[DNS_NAME_MAX + INET6_ADDRSTRLEN + 16];

	if (c->local_only && !s->domain[0]) {
		snprintf(err, errlen, "--domain-local-only needs --domain");
		return -EINVAL;
	}
	/* libvirt's rule too: resolved sends the domain's names to dnsmasq, which must not send
	 * them back upstream (to resolved). */
	if (c->register_dns && (!s->domain[0] || !c->local_only || !s->dns)) {
		snprintf(
			err, errlen,
			"--register-dns needs DNS, --domain and --domain-local-only (else the host's resolver "
			"and dnsmasq would send the domain's names to each other)");
		return -EINVAL;
	}
	/* resolved sends every name under the domain to the network's dnsmasq, whose answers the
	 * network's operator and guests control: never a top-level domain (com), nor the reverse
	 * trees (arpa). Who may ask for it at all (root) is the request's business. */
	if (c->register_dns && !strchr(s->domain, '.')) {
		snprintf(err, errlen,
			 "--register-dns needs a domain of two labels or more, not '%s' (the host would "
			 "send every name under it to this network)",
			 s->domain);
		return -EINVAL;
	}
	if (c->register_dns && dns_name_under(s->domain, "arpa")) {
		snprintf(err, errlen,
			 "--register-dns cannot register '%s': the host's reverse lookups are not a "
			 "network's to answer",
			 s->domain);
		return -EINVAL;
	}
	/* server=/DOMAIN/ beats local=/DOMAIN/ in dnsmasq: a forwarder for the domain or below it
	 * would send its names upstream after all (to resolved, when registered: a loop). */
	for (size_t i = 0; c->local_only && i < c->n_fwd; i++)
		if (c->fwd[i].family && c->fwd[i].domain[0] && dns_name_under(c->fwd[i].domain, s->domain)) {
			snprintf(err, errlen,
				 "DNS forwarder '%s' sends names of the domain %s upstream, which "
				 "--domain-local-only answers locally only (/%s/ without an address is "
				 "fine)",
				 dns_forwarder_format(&c->fwd[i], a2, sizeof(a2)), s->domain,
				 c->fwd[i].domain);
			return -EINVAL;
		}
	{
		const struct dns_pair *loop = cname_loop(c);

		if (loop) {
			snprintf(err, errlen, "CNAME '%s,%s' is part of a loop of aliases", loop->name,
				 loop->target);
			return -ELOOP;
		}
	}
	if (!s->dns &&
	    (c->n_srv || c->n_txt || c->n_cname || c->n_ptr || c->n_fwd || c->no_resolv || c->local_only)) {
		snprintf(err, errlen,
			 "DNS records, forwarders and --no-resolv need DNS (the network has --no-dns)");
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_fwd; i++) {
		const struct dns_forwarder *f = &c->fwd[i];

		if ((f->family == AF_INET && gateway && ip_addr_equal(AF_INET, &f->addr, gateway) &&
		     (!f->port || f->port == 53)) ||
		    (f->family == AF_INET6 && gateway6 && ip_addr_equal(AF_INET6, &f->addr, gateway6) &&
		     (!f->port || f->port == 53))) {
			snprintf(err, errlen, "DNS forwarder %s is the network's own DNS server (a loop)",
				 ip_addr_format(f->family, &f->addr, a, sizeof(a)));
			return -EINVAL;
		}
	}
	return validate_records(c, err, errlen);
}
