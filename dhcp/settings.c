/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DHCP/DNS settings: parsing user values and validating them against the subnet. */
#include "dhcp.h"
#include "dhcp-array.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "names.h"

void dhcp_settings_init(struct dhcp_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->dhcp = true;
	s->dns = true;
}

void dhcp_settings_done(struct dhcp_settings *s)
{
	free(s->hosts);
	s->hosts = NULL;
	s->n_hosts = 0;
	free(s->dns_hosts);
	s->dns_hosts = NULL;
	s->n_dns_hosts = 0;
	dns_config_done(&s->dnscfg);
}

/* The room an array of n elements has: 0, 4, 8, 16, ... (at least n). Copies and growth both keep
 * at least this much, so the room never needs storing. */
static size_t array_capacity(size_t n)
{
	size_t c = 4;

	if (!n)
		return 0;
	while (c < n)
		c *= 2;
	return c;
}

void *dhcp_array_push(void *p, size_t *n, const void *elem, size_t size)
{
	if (*n >= array_capacity(*n)) {
		p = realloc(p, (*n ? *n * 2 : 4) * size);
		if (!p)
			return NULL;
	}
	memcpy((char *)p + *n * size, elem, size);
	(*n)++;
	return p;
}

void *dhcp_array_dup(const void *p, size_t n, size_t size)
{
	void *q;

	if (!n)
		return NULL;
	q = malloc(array_capacity(n) * size);
	if (q)
		memcpy(q, p, n * size);
	return q;
}

int dhcp_settings_copy(struct dhcp_settings *dst, const struct dhcp_settings *src)
{
	*dst = *src;
	dst->hosts = dhcp_array_dup(src->hosts, src->n_hosts, sizeof(src->hosts[0]));
	dst->dns_hosts = dhcp_array_dup(src->dns_hosts, src->n_dns_hosts, sizeof(src->dns_hosts[0]));
	if (dns_config_copy(&dst->dnscfg, &src->dnscfg) < 0 || (src->n_hosts && !dst->hosts) ||
	    (src->n_dns_hosts && !dst->dns_hosts)) {
		dhcp_settings_done(dst);
		return -ENOMEM;
	}
	return 0;
}

static bool ranges_equal(const struct dhcp_settings *a, const struct dhcp_settings *b)
{
	if (a->n_ranges != b->n_ranges || a->n_ranges6 != b->n_ranges6)
		return false;
	for (size_t i = 0; i < a->n_ranges; i++)
		if (!ip_addr_equal(AF_INET, &a->ranges[i].start, &b->ranges[i].start) ||
		    !ip_addr_equal(AF_INET, &a->ranges[i].end, &b->ranges[i].end))
			return false;
	for (size_t i = 0; i < a->n_ranges6; i++)
		if (!ip_addr_equal(AF_INET6, &a->ranges6[i].start, &b->ranges6[i].start) ||
		    !ip_addr_equal(AF_INET6, &a->ranges6[i].end, &b->ranges6[i].end))
			return false;
	return true;
}

bool dhcp_settings_equal_but_hosts(const struct dhcp_settings *a, const struct dhcp_settings *b)
{
	return a->dhcp == b->dhcp && a->dns == b->dns && a->lease_time == b->lease_time &&
	       !strcmp(a->domain, b->domain) && ranges_equal(a, b) && a->static_only == b->static_only &&
	       !strcmp(a->pxe_boot, b->pxe_boot) && a->has_next_server == b->has_next_server &&
	       (!a->has_next_server || ip_addr_equal(AF_INET, &a->next_server, &b->next_server)) &&
	       !strcmp(a->tftp_root, b->tftp_root) && dns_config_equal(&a->dnscfg, &b->dnscfg);
}

bool dhcp_duid_equal(const struct dhcp_duid *a, const struct dhcp_duid *b)
{
	return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

static bool host_equal(const struct dhcp_host *a, const struct dhcp_host *b)
{
	return mac_equal(&a->mac, &b->mac) && dhcp_duid_equal(&a->duid, &b->duid) && a->has_ip == b->has_ip &&
	       a->has_ip6 == b->has_ip6 && (!a->has_ip || ip_addr_equal(AF_INET, &a->ip, &b->ip)) &&
	       (!a->has_ip6 || ip_addr_equal(AF_INET6, &a->ip6, &b->ip6)) &&
	       !strcmp(a->hostname, b->hostname) && a->lease_time == b->lease_time;
}

bool dhcp_settings_equal(const struct dhcp_settings *a, const struct dhcp_settings *b)
{
	if (!dhcp_settings_equal_but_hosts(a, b) || a->n_hosts != b->n_hosts || a->n_dns_hosts != b->n_dns_hosts)
		return false;
	for (size_t i = 0; i < a->n_hosts; i++)
		if (!host_equal(&a->hosts[i], &b->hosts[i]))
			return false;
	for (size_t i = 0; i < a->n_dns_hosts; i++)
		if (a->dns_hosts[i].family != b->dns_hosts[i].family ||
		    !ip_addr_equal(a->dns_hosts[i].family, &a->dns_hosts[i].ip, &b->dns_hosts[i].ip) ||
		    strcmp(a->dns_hosts[i].hostname, b->dns_hosts[i].hostname))
			return false;
	return true;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

const char *dns_label_invalid_reason(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "must not be empty";
	if (n > DNS_LABEL_MAX)
		return "is longer than 63 characters";
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return "may contain only letters, digits and '-'";
	if (s[0] == '-' || s[n - 1] == '-')
		return "must not start or end with '-'";
	return NULL;
}

const char *dns_name_invalid_reason(const char *s)
{
	char label[DNS_NAME_MAX + 2];
	const char *p = s;

	if (strlen(s) > DNS_NAME_MAX)
		return "is longer than 253 characters";
	if (!*s)
		return "must not be empty";
	do {
		size_t len = strcspn(p, ".");
		const char *why;

		if (len == 0)
			return "has an empty label (two dots, or a leading or trailing dot)";
		memcpy(label, p, len);
		label[len] = 0;
		why = dns_label_invalid_reason(label);
		if (why)
			return why;
		p += len;
	} while (*p++ == '.');
	return NULL;
}

int dhcp_domain_check(const char *s, char *err, size_t errlen)
{
	const char *why = dns_name_invalid_reason(s);
	char e[128];

	if (!why)
		return 0;
	snprintf(err, errlen, "invalid domain '%s': %s", text_escape(s, e, sizeof(e)), why);
	return -EINVAL;
}

static int parse_ip4(const char *s, union in_addr_union *ret)
{
	int family;

	if (ip_addr_parse(s, &family, ret) < 0 || family != AF_INET)
		return -EINVAL;
	return 0;
}

int dhcp_range_parse(const char *s, struct dhcp_range *ret, char *err, size_t errlen)
{
	char buf[64], e[128];
	struct dhcp_range r = {};
	char *dash;

	if (strlen(s) >= sizeof(buf) || !(dash = strchr(strcpy(buf, s), '-')))
		goto bad;
	*dash = 0;
	if (parse_ip4(buf, &r.start) < 0 || parse_ip4(dash + 1, &r.end) < 0)
		goto bad;
	*ret = r;
	return 0;
bad:
	snprintf(err, errlen, "invalid DHCP range '%s': expected START-END with IPv4 addresses, like 10.0.0.10-10.0.0.99",
		 text_escape(s, e, sizeof(e)));
	return -EINVAL;
}

static int parse_ip6(const char *s, union in_addr_union *ret)
{
	int family;

	if (ip_addr_parse(s, &family, ret) < 0 || family != AF_INET6)
		return -EINVAL;
	return 0;
}

int dhcp_range6_parse(const char *s, struct dhcp_range6 *ret, char *err, size_t errlen)
{
	char buf[2 * INET6_ADDRSTRLEN + 2], e[128];
	struct dhcp_range6 r = {};
	char *dash;

	if (strlen(s) >= sizeof(buf) || !(dash = strchr(strcpy(buf, s), '-')))
		goto bad;
	*dash = 0;
	if (parse_ip6(buf, &r.start) < 0 || parse_ip6(dash + 1, &r.end) < 0)
		goto bad;
	*ret = r;
	return 0;
bad:
	snprintf(
		err, errlen,
		"invalid DHCPv6 range '%s': expected START-END with IPv6 addresses, like fd00:1::100-fd00:1::1ff",
		text_escape(s, e, sizeof(e)));
	return -EINVAL;
}

/* Octets of one or two hex digits with a colon between two octets, nothing else: dnsmasq would
 * read anything else after "id:" as a client id in text, not as the DUID meant. */
int dhcp_duid_parse(const char *s, struct dhcp_duid *ret)
{
	struct dhcp_duid d = {};

	for (const char *p = s;;) {
		int hi = hex_value(p[0]), lo;

		if (hi < 0 || d.len == DHCP_DUID_MAX)
			return -EINVAL;
		lo = hex_value(p[1]);
		d.bytes[d.len++] = lo < 0 ? hi : hi * 16 + lo;
		p += lo < 0 ? 1 : 2;
		if (!*p)
			break;
		if (*p++ != ':')
			return -EINVAL;
	}
	if (d.len < DHCP_DUID_MIN)
		return -EINVAL;
	*ret = d;
	return 0;
}

const char *dhcp_duid_format(const struct dhcp_duid *d, char *buf, size_t size)
{
	if (!size)
		return buf;
	buf[0] = 0;
	if (size < (size_t)d->len * 3)
		return buf;
	for (size_t i = 0; i < d->len; i++)
		sprintf(buf + i * 3 - (i > 0), "%s%02x", i ? ":" : "", d->bytes[i]);
	return buf;
}

/* Split s at commas into at most max fields (in buf); returns the field count. */
static int split_commas(const char *s, char *buf, size_t size, char **fields, int max)
{
	int n = 0;
	char *p;

	if (strlen(s) >= size)
		return -ENAMETOOLONG;
	p = strcpy(buf, s);
	for (;;) {
		if (n == max)
			return -E2BIG;
		fields[n++] = p;
		p = strchr(p, ',');
		if (!p)
			return n;
		*p++ = 0;
	}
}

/* dnsmasq's time suffixes after a number in a dhcp-host field: seconds to weeks, either case. */
static bool is_time_suffix(char c)
{
	return c && strchr("smhdwSMHDW", c);
}

/* Why the first label of a reservation's name cannot be one (see below). */
static const char *first_label_invalid_reason(const char *s)
{
	size_t n = strlen(s), digits = strspn(s, "0123456789");

	if (!strcasecmp(s, "ignore"))
		return "dnsmasq reads 'ignore' as 'never give this MAC a lease', not as a name";
	if (!strcasecmp(s, "infinite"))
		return "dnsmasq reads 'infinite' as a lease time, not as a name";
	if (digits > 0 && (digits == n || (digits + 1 == n && is_time_suffix(s[n - 1]))))
		return "dnsmasq reads a number (with an optional s, m, h, d or w) as a lease time, not as a name";
	return NULL;
}

/*
 * dnsmasq (option.c, --dhcp-host, also for each line of --dhcp-hostsfile) reads each
 * comma-separated field by its look, not by its position: with a ':' it is a hardware address, a
 * client id ("id:"), a tag ("set:", "tag:", "net:") or "[IPv6]"; with a '.' and an IPv4 form, the
 * address; "infinite" and digits with an optional time suffix (120, 45m, 12h, 2d, 1w) are the
 * lease time; "ignore" means never answer that MAC. Only what is left is the hostname. A name has
 * no ':', so the keywords and times are what remain to refuse, and a last label of digits (an
 * IPv4 form: 1.2.3.4); dnsmasq compares the words case-sensitively, netd refuses every case because
 * DNS names are case-insensitive. Only the first label goes into the hosts file (dnsmasq keeps
 * just that as the DHCP name: dhcp/DESIGN.md, "Reservation names with a domain"), so it is held to
 * the same rules as a name of one label.
 */
const char *dhcp_hostname_invalid_reason(const char *s)
{
	char first[DNS_LABEL_MAX + 1];
	const char *why = dns_name_invalid_reason(s), *last = strrchr(s, '.');
	size_t n = strcspn(s, ".");

	if (why)
		return why;
	if (last && !last[1 + strspn(last + 1, "0123456789")])
		return "its last label is a number: dnsmasq would read an address, and no top-level domain is all digits";
	memcpy(first, s, n);
	first[n] = 0;
	return first_label_invalid_reason(first);
}

/* Printable ASCII without blanks, ',' (dnsmasq's field separator), '"', '#', '\\' (its config
 * reader's quoting, comments and escapes) and "..". */
static const char *path_text_invalid_reason(const char *s, size_t max)
{
	if (!*s)
		return "must not be empty";
	if (strlen(s) > max)
		return "is too long";
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr(",\"#\\", *p))
			return "may not contain blanks, control characters, ',', '\"', '#' or '\\'";
	for (const char *p = s; (p = strstr(p, "..")); p++)
		if ((p == s || p[-1] == '/') && (!p[2] || p[2] == '/'))
			return "may not contain a '..' component";
	return NULL;
}

const char *dhcp_boot_file_invalid_reason(const char *s)
{
	if (strlen(s) > DHCP_BOOT_FILE_MAX)
		return "is longer than the 127 bytes of the DHCP boot file field";
	/* dhcp-boot=tag:x,... : dnsmasq reads a leading tag: or net: as a tag, not the file */
	if (!strncasecmp(s, "tag:", 4) || !strncasecmp(s, "net:", 4))
		return "may not start with 'tag:' or 'net:' (dnsmasq reads a tag there)";
	return path_text_invalid_reason(s, DHCP_BOOT_FILE_MAX);
}

const char *dhcp_tftp_root_invalid_reason(const char *s)
{
	const char *why = path_text_invalid_reason(s, DHCP_TFTP_ROOT_MAX);

	if (why)
		return why;
	if (s[0] != '/')
		return "must be an absolute path";
	return NULL;
}

const char *dhcp_boot_file_local(const struct dhcp_settings *s, const union in_addr_union *gateway)
{
	if (!s->pxe_boot[0] || !s->tftp_root[0] || strstr(s->pxe_boot, "://") ||
	    (s->has_next_server && !ip_addr_equal(AF_INET, &s->next_server, gateway)))
		return NULL;
	return s->pxe_boot;
}

static int check_hostname(const char *what, const char *name, char *err, size_t errlen)
{
	const char *why = dhcp_hostname_invalid_reason(name);
	char e[128];

	if (!why)
		return 0;
	snprintf(err, errlen, "invalid hostname '%s' in %s: %s", text_escape(name, e, sizeof(e)), what, why);
	return -EINVAL;
}

/* An IPv6 address, bare or in dnsmasq's brackets. */
static int parse_host_ip6(const char *s, union in_addr_union *ret)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);

	if (n >= 2 && n < sizeof(buf) && s[0] == '[' && s[n - 1] == ']') {
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = 0;
		s = buf;
	}
	return parse_ip6(s, ret);
}

static int host_parse_client(const char *s, const char *f, struct dhcp_host *h, char *err, size_t errlen)
{
	char e[160], e2[160]; /* bounded: the message stays within a schema message */

	if (!strncmp(f, "id:", 3)) {
		if (dhcp_duid_parse(f + 3, &h->duid) < 0) {
			snprintf(
				err, errlen,
				"invalid DUID '%s' in a host reservation: expected 3 to %d hex octets with colons, like id:00:03:00:01:52:54:00:12:34:56",
				text_escape(f + 3, e, sizeof(e)), DHCP_DUID_MAX);
			return -EINVAL;
		}
		return 0;
	}
	if (mac_parse(f, &h->mac) < 0) {
		snprintf(err, errlen,
			 "invalid MAC '%s' in host '%s': expected six hex pairs like 52:54:00:12:34:56",
			 text_escape(f, e, sizeof(e)), text_escape(s, e2, sizeof(e2)));
		return -EINVAL;
	}
	if (mac_is_multicast(&h->mac) || mac_is_zero(&h->mac)) {
		snprintf(err, errlen, "invalid MAC '%s': a reservation needs a unicast, non-zero MAC", f);
		return -EINVAL;
	}
	return 0;
}

/* A field dnsmasq reads as a lease time rather than a name: "infinite" (any case: netd's own
 * parser takes it so) or digits with an optional s, m, h, d or w (dhcp_hostname_invalid_reason
 * refuses both as names). */
static bool looks_like_lease(const char *f)
{
	size_t d = strspn(f, "0123456789");

	return !strcasecmp(f, "infinite") || (d > 0 && (!f[d] || (is_time_suffix(f[d]) && !f[d + 1])));
}

#define HOST_EXPECTED "expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]"

/* What follows the addresses: [NAME][,LEASE] (n fields from f). */
static int host_parse_tail(const char *s, char **f, int n, struct dhcp_host *h, char *err, size_t errlen)
{
	union in_addr_union tmp;
	char e[160];

	if (n > 2 || (n == 2 && !looks_like_lease(f[1])) ||
	    (n >= 1 && (parse_ip4(f[0], &tmp) >= 0 || parse_host_ip6(f[0], &tmp) >= 0))) {
		snprintf(err, errlen, "invalid host '%s': " HOST_EXPECTED, text_escape(s, e, sizeof(e)));
		return -EINVAL;
	}
	if (n >= 1 && looks_like_lease(f[n - 1])) {
		if (dhcp_lease_time_parse(f[n - 1], &h->lease_time, err, errlen) < 0)
			return -EINVAL;
		n--;
	}
	if (n == 1) {
		if (check_hostname("a host reservation", f[0], err, errlen) < 0)
			return -EINVAL;
		snprintf(h->hostname, sizeof(h->hostname), "%s", f[0]);
	}
	return 0;
}

/* "MAC,IPv4[,HOSTNAME][,LEASE]", "MAC,IPv6[,...]", "MAC,IPv4,IPv6[,...]", "id:DUID,IPv6[,...]";
 * an IPv6 address may come in dnsmasq's brackets. */
int dhcp_host_parse(const char *s, struct dhcp_host *ret, char *err, size_t errlen)
{
	char buf[DHCP_HOST_STRLEN], e[160], e2[160], *f[6];
	struct dhcp_host h = {};
	int n = split_commas(s, buf, sizeof(buf), f, 6), i;

	if (n < 2) {
		snprintf(err, errlen, "invalid host '%s': " HOST_EXPECTED, text_escape(s, e, sizeof(e)));
		return -EINVAL;
	}
	if (host_parse_client(s, f[0], &h, err, errlen) < 0)
		return -EINVAL;
	for (i = 1; i < n; i++) {
		if (!h.has_ip && !h.has_ip6 && !h.duid.len && parse_ip4(f[i], &h.ip) >= 0)
			h.has_ip = true;
		else if (!h.has_ip6 && parse_host_ip6(f[i], &h.ip6) >= 0)
			h.has_ip6 = true;
		else
			break;
	}
	if (!h.has_ip && !h.has_ip6) {
		snprintf(err, errlen, "invalid IP '%s' in host '%s': expected %s",
			 text_escape(f[1], e2, sizeof(e2)), text_escape(s, e, sizeof(e)),
			 h.duid.len ? "an IPv6 address (a DUID is DHCPv6 only)" : "an IPv4 or IPv6 address");
		return -EINVAL;
	}
	/* Fields left over, or an address where the name goes (IPv4 after IPv6, a third address). */
	if (host_parse_tail(s, f + i, n - i, &h, err, errlen) < 0)
		return -EINVAL;
	*ret = h;
	return 0;
}

const char *dhcp_host_format(const struct dhcp_host *h, char *buf, size_t size)
{
	char c[DHCP_DUID_STRLEN + 3], a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN], t[16] = "";
	int n;

	if (h->duid.len) {
		memcpy(c, "id:", 3);
		dhcp_duid_format(&h->duid, c + 3, sizeof(c) - 3);
	} else {
		mac_format(&h->mac, c, sizeof(c));
	}
	if (h->lease_time)
		dhcp_lease_time_format(h->lease_time, t, sizeof(t));
	n = snprintf(buf, size, "%s%s%s%s%s%s%s%s%s", c, h->has_ip ? "," : "",
		     h->has_ip ? ip_addr_format(AF_INET, &h->ip, a, sizeof(a)) : "", h->has_ip6 ? "," : "",
		     h->has_ip6 ? ip_addr_format(AF_INET6, &h->ip6, a6, sizeof(a6)) : "",
		     h->hostname[0] ? "," : "", h->hostname, t[0] ? "," : "", t);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = 0;
	}
	return buf;
}

int dns_host_parse(const char *s, struct dns_host *ret, char *err, size_t errlen)
{
	char buf[DNS_NAME_MAX + 64], e[160], *f[2];
	struct dns_host h = {};
	const char *why;
	int n = split_commas(s, buf, sizeof(buf), f, 2);

	if (n != 2 || ip_addr_parse(f[0], &h.family, &h.ip) < 0) {
		snprintf(err, errlen,
			 "invalid DNS host '%s': expected IP,HOSTNAME with an IPv4 or IPv6 address",
			 text_escape(s, e, sizeof(e)));
		return -EINVAL;
	}
	why = dns_name_invalid_reason(f[1]);
	if (why) {
		snprintf(err, errlen, "invalid hostname '%s' in a DNS host: %s", text_escape(f[1], e, sizeof(e)), why);
		return -EINVAL;
	}
	snprintf(h.hostname, sizeof(h.hostname), "%s", f[1]);
	*ret = h;
	return 0;
}

static const struct {
	char suffix;
	uint32_t mult;
} lease_units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };

int dhcp_lease_time_parse(const char *s, uint32_t *ret, char *err, size_t errlen)
{
	char e[64], m1[16], m2[16];
	unsigned long long v = 0, mult = 1;
	size_t i, n = strlen(s);

	if (!strcasecmp(s, "infinite")) {
		*ret = DHCP_LEASE_TIME_INFINITE;
		return 0;
	}
	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		v = v < (1ull << 40) ? v * 10 + (s[i] - '0') : v; /* saturates: out of range anyway */
	if (i == 0 || n - i > 1)
		goto bad;
	/* The suffixes dnsmasq reads, in either case; w (a week) only here: written as 7d. */
	if (i < n && (s[i] | 0x20) == 'w') {
		mult = 7 * 86400;
	} else if (i < n) {
		size_t u;
		for (u = 0; u < ELEMENTSOF(lease_units) && lease_units[u].suffix != (s[i] | 0x20); u++)
			;
		if (u == ELEMENTSOF(lease_units))
			goto bad;
		mult = lease_units[u].mult;
	}
	v *= mult;
	if (v < DHCP_LEASE_TIME_MIN || v > DHCP_LEASE_TIME_MAX) {
		snprintf(err, errlen, "lease time '%s' is out of range (%s to %s)", text_escape(s, e, sizeof(e)),
			 dhcp_lease_time_format(DHCP_LEASE_TIME_MIN, m1, sizeof(m1)),
			 dhcp_lease_time_format(DHCP_LEASE_TIME_MAX, m2, sizeof(m2)));
		return -ERANGE;
	}
	*ret = v;
	return 0;
bad:
	snprintf(
		err, errlen,
		"invalid lease time '%s': expected a number of seconds, a duration like 30m, 1h, 7d, or infinite",
		text_escape(s, e, sizeof(e)));
	return -EINVAL;
}

const char *dhcp_lease_time_format(uint32_t secs, char *buf, size_t size)
{
	if (secs == DHCP_LEASE_TIME_INFINITE) {
		snprintf(buf, size, "infinite");
		return buf;
	}
	for (size_t u = ELEMENTSOF(lease_units); u-- > 1;)
		if (secs && secs % lease_units[u].mult == 0) {
			snprintf(buf, size, "%u%c", secs / lease_units[u].mult, lease_units[u].suffix);
			return buf;
		}
	snprintf(buf, size, "%us", secs);
	return buf;
}

const struct dhcp_host *dhcp_host_find(const struct dhcp_settings *s, const struct mac *mac)
{
	if (mac_is_zero(mac))
		return NULL; /* the reservations by DUID */
	for (size_t i = 0; i < s->n_hosts; i++)
		if (mac_equal(&s->hosts[i].mac, mac))
			return &s->hosts[i];
	return NULL;
}

const struct dhcp_host *dhcp_host_find_duid(const struct dhcp_settings *s, const struct dhcp_duid *duid)
{
	if (!duid->len)
		return NULL;
	for (size_t i = 0; i < s->n_hosts; i++)
		if (dhcp_duid_equal(&s->hosts[i].duid, duid))
			return &s->hosts[i];
	return NULL;
}

int dhcp_host_add(struct dhcp_settings *s, const struct dhcp_host *h)
{
	struct dhcp_host *p;

	if (dhcp_host_find(s, &h->mac) || dhcp_host_find_duid(s, &h->duid))
		return -EEXIST;
	if (s->n_hosts >= DHCP_HOSTS_MAX)
		return -E2BIG;
	p = dhcp_array_push(s->hosts, &s->n_hosts, h, sizeof(*h));
	if (!p)
		return -ENOMEM;
	s->hosts = p;
	return 0;
}

int dns_host_add(struct dhcp_settings *s, const struct dns_host *h)
{
	struct dns_host *p;

	if (s->n_dns_hosts >= DNS_HOSTS_MAX)
		return -E2BIG;
	p = dhcp_array_push(s->dns_hosts, &s->n_dns_hosts, h, sizeof(*h));
	if (!p)
		return -ENOMEM;
	s->dns_hosts = p;
	return 0;
}

static int host_remove(struct dhcp_settings *s, const struct dhcp_host *h)
{
	size_t i;

	if (!h)
		return -ENOENT;
	i = h - s->hosts;
	memmove(&s->hosts[i], &s->hosts[i + 1], (s->n_hosts - i - 1) * sizeof(s->hosts[0]));
	s->n_hosts--;
	return 0;
}

int dhcp_host_remove(struct dhcp_settings *s, const struct mac *mac)
{
	return host_remove(s, dhcp_host_find(s, mac));
}

int dhcp_host_remove_duid(struct dhcp_settings *s, const struct dhcp_duid *duid)
{
	return host_remove(s, dhcp_host_find_duid(s, duid));
}

size_t dhcp_ranges_effective(const struct dhcp_settings *s, const struct ip_prefix *subnet,
			     const union in_addr_union *gateway,
			     struct dhcp_range ret[DHCP_RANGES_EFFECTIVE_MAX])
{
	union in_addr_union first, last;
	uint32_t f, l, g = ip4_to_host(gateway);
	size_t n = 0;

	if (s->static_only)
		return 0;
	/* The first subnet's default only when none of the ranges is its own: the ranges of the
	 * network's other subnets (--address) do not take it away. */
	for (size_t i = 0; i < s->n_ranges; i++)
		if (ip_prefix_contains(subnet, AF_INET, &s->ranges[i].start)) {
			memcpy(ret, s->ranges, s->n_ranges * sizeof(ret[0]));
			return s->n_ranges;
		}
	ip_prefix_first_host(subnet, &first);
	ip_prefix_broadcast(subnet, &last);
	f = ip4_to_host(&first);
	l = ip4_to_host(&last) - 1;
	if (g > f) {
		ip4_from_host(f, &ret[n].start);
		ip4_from_host(g - 1, &ret[n++].end);
	}
	if (g < l) {
		ip4_from_host(g + 1, &ret[n].start);
		ip4_from_host(l, &ret[n++].end);
	}
	memcpy(&ret[n], s->ranges, s->n_ranges * sizeof(ret[0]));
	return n + s->n_ranges;
}

/* The subnet of gateways (each a gateway with its subnet's length) that holds a, or NULL. */
static const struct ip_prefix *subnet_of(const struct ip_prefix *gateways, size_t n,
					 const union in_addr_union *a)
{
	for (size_t i = 0; i < n; i++)
		if (ip_prefix_contains(&gateways[i], AF_INET, a))
			return &gateways[i];
	return NULL;
}

/* "subnet 10.0.0.0/24", or "any subnet of the network (10.0.0.0/24, 10.1.1.0/24)". */
static const char *subnets_text(const struct ip_prefix *gateways, size_t n, char *buf, size_t size)
{
	size_t len = 0;

	snprintf(buf, size, "%s", n == 1 ? "subnet " : "any subnet of the network (");
	for (size_t i = 0; i < n; i++) {
		struct ip_prefix p = gateways[i];
		char t[IP_PREFIX_STRLEN];

		ip_prefix_mask(&p);
		len = strlen(buf);
		snprintf(buf + len, size - len, "%s%s", i ? ", " : "", ip_prefix_format(&p, t, sizeof(t)));
	}
	len = strlen(buf);
	if (n > 1)
		snprintf(buf + len, size - len, ")");
	return buf;
}

/* A range lies in the hosts of one of the subnets (gateways: each gateway with its subnet's
 * length) and does not cover that subnet's gateway. */
static int check_range(const struct dhcp_range *r, const struct ip_prefix *gateways, size_t n_gateways,
		       char *err, size_t errlen)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], sn[160], gw[INET_ADDRSTRLEN];
	const struct ip_prefix *in = subnet_of(gateways, n_gateways, &r->start);
	struct ip_prefix subnet = in ? *in : (struct ip_prefix){};
	uint32_t s = ip4_to_host(&r->start), e = ip4_to_host(&r->end), g;
	union in_addr_union bcast;

	ip_addr_format(AF_INET, &r->start, a, sizeof(a));
	ip_addr_format(AF_INET, &r->end, b, sizeof(b));
	if (s > e) {
		snprintf(err, errlen, "DHCP range %s-%s: start is after end", a, b);
		return -EINVAL;
	}
	ip_prefix_mask(&subnet);
	ip_prefix_broadcast(&subnet, &bcast);
	if (!in || !ip_prefix_contains(&subnet, AF_INET, &r->end) || s == ip4_to_host(&subnet.addr) ||
	    e == ip4_to_host(&bcast)) {
		snprintf(err, errlen, "DHCP range %s-%s is not inside the hosts of %s", a, b,
			 subnets_text(gateways, n_gateways, sn, sizeof(sn)));
		return -EINVAL;
	}
	g = ip4_to_host(&in->addr);
	if (g >= s && g <= e) {
		snprintf(err, errlen, "DHCP range %s-%s covers the gateway %s", a, b,
			 ip_addr_format(AF_INET, &in->addr, gw, sizeof(gw)));
		return -EINVAL;
	}
	return 0;
}

static int check_ranges(const struct dhcp_settings *set, const struct ip_prefix *gateways, size_t n_gateways,
			char *err, size_t errlen)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], c[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

	for (size_t i = 0; i < set->n_ranges; i++) {
		const struct dhcp_range *r = &set->ranges[i];
		int k = check_range(r, gateways, n_gateways, err, errlen);

		if (k < 0)
			return k;
		for (size_t j = 0; j < i; j++) {
			const struct dhcp_range *o = &set->ranges[j];

			if (ip4_to_host(&r->start) > ip4_to_host(&o->end) || ip4_to_host(&r->end) < ip4_to_host(&o->start))
				continue;
			snprintf(err, errlen, "DHCP ranges %s-%s and %s-%s overlap",
				 ip_addr_format(AF_INET, &o->start, a, sizeof(a)), ip_addr_format(AF_INET, &o->end, b, sizeof(b)),
				 ip_addr_format(AF_INET, &r->start, c, sizeof(c)), ip_addr_format(AF_INET, &r->end, d, sizeof(d)));
			return -EINVAL;
		}
	}
	return 0;
}

/* How messages name a reservation: its MAC or "id:DUID". */
static const char *host_who(const struct dhcp_host *h, char *buf, size_t size)
{
	if (!h->duid.len)
		return mac_format(&h->mac, buf, size);
	if (size > 3) {
		memcpy(buf, "id:", 3);
		dhcp_duid_format(&h->duid, buf + 3, size - 3);
	}
	return buf;
}

/* The IPv4 address of a reservation against the subnets and their gateways. */
static int check_host_ip4(const struct dhcp_host *h, const char *who, const struct ip_prefix *gateways,
			  size_t n_gateways, char *err, size_t errlen)
{
	char ip[INET_ADDRSTRLEN], sn[160];
	const struct ip_prefix *in = subnet_of(gateways, n_gateways, &h->ip);
	struct ip_prefix sub = in ? *in : (struct ip_prefix){};
	union in_addr_union bcast;

	ip_addr_format(AF_INET, &h->ip, ip, sizeof(ip));
	if (h->duid.len) {
		snprintf(err, errlen,
			 "host %s: a reservation by DUID is DHCPv6 only, it cannot have the IPv4 address %s",
			 who, ip);
		return -EINVAL;
	}
	if (!n_gateways) {
		snprintf(err, errlen, "host %s: address %s is IPv4, but the network has no IPv4 subnet", who,
			 ip);
		return -EINVAL;
	}
	ip_prefix_mask(&sub);
	ip_prefix_broadcast(&sub, &bcast);
	if (!in || ip_addr_equal(AF_INET, &h->ip, &sub.addr) || ip_addr_equal(AF_INET, &h->ip, &bcast)) {
		snprintf(err, errlen, "host %s: address %s is not a host address of %s", who, ip,
			 subnets_text(gateways, n_gateways, sn, sizeof(sn)));
		return -EINVAL;
	}
	if (ip_addr_equal(AF_INET, &h->ip, &in->addr)) {
		snprintf(err, errlen, "host %s: address %s is the gateway", who, ip);
		return -EINVAL;
	}
	return 0;
}

static bool lease_time_valid(uint32_t t)
{
	return t == DHCP_LEASE_TIME_INFINITE || (t >= DHCP_LEASE_TIME_MIN && t <= DHCP_LEASE_TIME_MAX);
}

/* What reservations i and j (j < i) must not share: client, addresses, name. */
static int check_host_pair(const struct dhcp_host *o, const struct dhcp_host *h, const char *who, char *err,
			   size_t errlen)
{
	char ow[DHCP_DUID_STRLEN + 3], ip[INET6_ADDRSTRLEN];

	if ((!h->duid.len && mac_equal(&o->mac, &h->mac)) ||
	    (h->duid.len && dhcp_duid_equal(&o->duid, &h->duid))) {
		snprintf(err, errlen, "host %s is reserved twice", who);
		return -EEXIST;
	}
	host_who(o, ow, sizeof(ow));
	if ((h->has_ip && o->has_ip && ip_addr_equal(AF_INET, &o->ip, &h->ip)) ||
	    (h->has_ip6 && o->has_ip6 && ip_addr_equal(AF_INET6, &o->ip6, &h->ip6))) {
		bool v4 = h->has_ip && o->has_ip && ip_addr_equal(AF_INET, &o->ip, &h->ip);

		snprintf(err, errlen, "address %s is reserved for both %s and %s",
			 ip_addr_format(v4 ? AF_INET : AF_INET6, v4 ? &h->ip : &h->ip6, ip, sizeof(ip)), ow,
			 who);
		return -EEXIST;
	}
	/* dnsmasq names a lease by the first label only (web of web.example.com): two hosts with
	 * the same one would take the name from each other. */
	if (h->hostname[0] && o->hostname[0] && strcspn(o->hostname, ".") == strcspn(h->hostname, ".") &&
	    !strncasecmp(o->hostname, h->hostname, strcspn(h->hostname, "."))) {
		snprintf(err, errlen, "hostname '%.*s' is reserved for both %s and %s%s",
			 (int)strcspn(h->hostname, "."), h->hostname, ow, who,
			 strchr(o->hostname, '.') || strchr(h->hostname, '.') ?
				 " (dnsmasq names a lease by its first label)" :
				 "");
		return -EEXIST;
	}
	return 0;
}

static int check_host(const struct dhcp_settings *set, size_t i, const struct ip_prefix *gateways,
		      size_t n_gateways, char *err, size_t errlen)
{
	const struct dhcp_host *h = &set->hosts[i];
	char who[DHCP_DUID_STRLEN + 3];
	int r;

	host_who(h, who, sizeof(who));
	if (h->duid.len ?
		    h->duid.len < DHCP_DUID_MIN || h->duid.len > DHCP_DUID_MAX || !mac_is_zero(&h->mac) :
		    mac_is_multicast(&h->mac) || mac_is_zero(&h->mac)) {
		snprintf(err, errlen,
			 "host %s: a reservation needs a unicast, non-zero MAC or a DUID of %d to %d octets",
			 who, DHCP_DUID_MIN, DHCP_DUID_MAX);
		return -EINVAL;
	}
	if (!h->has_ip && !h->has_ip6) {
		snprintf(err, errlen, "host %s: a reservation needs an address", who);
		return -EINVAL;
	}
	if (h->has_ip && (r = check_host_ip4(h, who, gateways, n_gateways, err, errlen)) < 0)
		return r;
	if (h->hostname[0] && check_hostname("a host reservation", h->hostname, err, errlen) < 0)
		return -EINVAL;
	if (h->lease_time && !lease_time_valid(h->lease_time)) {
		snprintf(err, errlen, "host %s: lease time %us is out of range (2m to 30d, or infinite)", who,
			 h->lease_time);
		return -ERANGE;
	}
	for (size_t j = 0; j < i; j++) {
		r = check_host_pair(&set->hosts[j], h, who, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* PXE and TFTP: what the values are on their own, and what they need of the rest. */
static int check_pxe(const struct dhcp_settings *s, bool ipv4, char *err, size_t errlen)
{
	char e[160], a[INET_ADDRSTRLEN];
	const char *why = NULL, *what = NULL, *v = NULL;
	uint32_t ns = ip4_to_host(&s->next_server);

	if (s->pxe_boot[0] && (why = dhcp_boot_file_invalid_reason(s->pxe_boot)))
		what = "PXE boot file", v = s->pxe_boot;
	else if (s->tftp_root[0] && (why = dhcp_tftp_root_invalid_reason(s->tftp_root)))
		what = "TFTP root", v = s->tftp_root;
	if (why) {
		snprintf(err, errlen, "invalid %s '%s': %s", what, text_escape(v, e, sizeof(e)), why);
		return -EINVAL;
	}
	if (s->has_next_server && (!ns || ns == 0xffffffffu || (ns >> 28) == 0xe || (ns >> 24) == 127)) {
		snprintf(err, errlen, "invalid next server %s: expected a unicast IPv4 address",
			 ip_addr_format(AF_INET, &s->next_server, a, sizeof(a)));
		return -EINVAL;
	}
	if (s->has_next_server && !s->pxe_boot[0]) {
		snprintf(err, errlen, "--next-server needs --pxe-boot (it is the server of the boot file)");
		return -EINVAL;
	}
	if ((s->pxe_boot[0] || s->tftp_root[0]) && (!s->dhcp || !ipv4)) {
		snprintf(err, errlen, "--%s needs DHCP on an IPv4 subnet%s",
			 s->pxe_boot[0] ? "pxe-boot" : "tftp-root",
			 !s->dhcp ? " (--no-dhcp turns it off)" : ": the network has none");
		return -EINVAL;
	}
	return 0;
}

int dhcp_settings_validate(const struct dhcp_settings *s, const struct ip_prefix *subnet,
			   const union in_addr_union *gateway, char *err, size_t errlen)
{
	struct ip_prefix g = { .family = AF_INET, .addr = *gateway, .len = subnet->len };

	return dhcp_settings_validate_subnets(s, &g, subnet->family == AF_INET, err, errlen);
}

int dhcp_settings_validate_subnets(const struct dhcp_settings *s, const struct ip_prefix *gateways,
				   size_t n_gateways, char *err, size_t errlen)
{
	char m1[16], m2[16];
	int r;

	if (s->lease_time && !lease_time_valid(s->lease_time)) {
		snprintf(err, errlen, "lease time %us is out of range (%s to %s)", s->lease_time,
			 dhcp_lease_time_format(DHCP_LEASE_TIME_MIN, m1, sizeof(m1)),
			 dhcp_lease_time_format(DHCP_LEASE_TIME_MAX, m2, sizeof(m2)));
		return -ERANGE;
	}
	if (s->domain[0] && dhcp_domain_check(s->domain, err, errlen) < 0)
		return -EINVAL;
	if (s->n_ranges && !n_gateways) {
		snprintf(err, errlen, "DHCP ranges need an IPv4 subnet: the network has none");
		return -EINVAL;
	}
	if (s->static_only && s->n_ranges) {
		snprintf(err, errlen,
			 "DHCP range 'static' (reserved hosts only) cannot go with START-END ranges");
		return -EINVAL;
	}
	if (s->static_only && !n_gateways) {
		snprintf(err, errlen, "DHCP range 'static' needs an IPv4 subnet: the network has none");
		return -EINVAL;
	}
	r = check_ranges(s, gateways, n_gateways, err, errlen);
	if (r < 0)
		return r;
	r = check_pxe(s, n_gateways > 0, err, errlen);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_hosts; i++) {
		r = check_host(s, i, gateways, n_gateways, err, errlen);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->n_dns_hosts; i++) {
		const char *why = dns_name_invalid_reason(s->dns_hosts[i].hostname);
		char e[128];

		if (why) {
			snprintf(err, errlen, "invalid hostname '%s' in a DNS host: %s",
				 text_escape(s->dns_hosts[i].hostname, e, sizeof(e)), why);
			return -EINVAL;
		}
	}
	return 0;
}
