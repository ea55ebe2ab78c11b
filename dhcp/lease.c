/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dnsmasq lease-file parsing and the in-memory lease table. Pure. */
#include "lease.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#define FIELDS_MAX 5
/* dnsmasq reads a client id or DUID of up to 764 characters (lease.c) */
#define FIELD_MAX 768

/* Split one line at blanks; more fields than expected makes it malformed. */
static int split_fields(const char *line, size_t len, char fields[FIELDS_MAX][FIELD_MAX])
{
	size_t i = 0;
	int n = 0;

	while (i < len) {
		size_t start, flen;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		if (n == FIELDS_MAX)
			return -EINVAL;
		start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		flen = i - start;
		if (flen >= FIELD_MAX || memchr(line + start, 0, flen))
			return -EINVAL;
		memcpy(fields[n], line + start, flen);
		fields[n++][flen] = 0;
	}
	return n;
}

static int parse_expiry(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s || strlen(s) > 19)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	*ret = v;
	return 0;
}

static bool client_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n > DHCP_CLIENT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF:", s[i]))
			return false;
	return true;
}

int dhcp_lease_from_fields(const char *expiry, const char *mac, const char *ip, const char *hostname,
			   const char *client_id, struct dhcp_lease *ret)
{
	struct dhcp_lease l = {};
	int family;

	if (expiry && parse_expiry(expiry, &l.expiry) < 0)
		return -EINVAL;
	if (ip_addr_parse(ip, &family, &l.ip) < 0)
		return -EINVAL;
	if (family != AF_INET)
		return -ENOENT;
	l.family = AF_INET;
	if (mac_parse(mac, &l.mac) < 0)
		return strchr(mac, '-') ? -ENOENT : -EINVAL; /* "06-..." is a non-Ethernet client */
	/* The guest chose these: a name that is not a DNS label (it ends up on a terminal) and a
	 * client id that is not hex are dropped, not the lease. */
	if (hostname && strcmp(hostname, "*") && !dns_label_invalid_reason(hostname))
		snprintf(l.hostname, sizeof(l.hostname), "%s", hostname);
	if (client_id && strcmp(client_id, "*") && client_id_ok(client_id))
		snprintf(l.client_id, sizeof(l.client_id), "%s", client_id);
	*ret = l;
	return 0;
}

static int parse_iaid(const char *s, uint32_t *ret, bool *ret_temporary)
{
	uint64_t v;
	bool t = *s == 'T';

	if (parse_expiry(s + t, &v) < 0 || v > UINT32_MAX)
		return -EINVAL;
	*ret = v;
	*ret_temporary = t;
	return 0;
}

int dhcp_lease6_from_fields(const char *expiry, const char *iaid, const char *ip, const char *hostname,
			    const char *duid, const char *mac, struct dhcp_lease *ret)
{
	struct dhcp_lease l = { .family = AF_INET6 };
	int family;

	if (expiry && parse_expiry(expiry, &l.expiry) < 0)
		return -EINVAL;
	if (ip_addr_parse(ip, &family, &l.ip) < 0)
		return -EINVAL;
	if (family != AF_INET6)
		return -ENOENT;
	if (parse_iaid(iaid, &l.iaid, &l.temporary) < 0)
		return -EINVAL;
	/* The guest chose these: what is unusable is dropped, not the lease (the address is taken). */
	if (hostname && strcmp(hostname, "*") && !dns_label_invalid_reason(hostname))
		snprintf(l.hostname, sizeof(l.hostname), "%s", hostname);
	if (duid && dhcp_duid_parse(duid, &l.duid) < 0)
		l.duid = (struct dhcp_duid){};
	if (mac && *mac && mac_parse(mac, &l.mac) < 0)
		l.mac = (struct mac){};
	*ret = l;
	return 0;
}

int dhcp_lease_parse_line(const char *line, size_t len, struct dhcp_lease *ret)
{
	char f[FIELDS_MAX][FIELD_MAX];
	int n = split_fields(line, len, f);

	if (n < 0)
		return n;
	/* the server's DUID, and data dnsmasq adds about a lease after the leases */
	if (n >= 1 && (!strcmp(f[0], "duid") || !strcmp(f[0], "vendorclass") || !strcmp(f[0], "agent-info")))
		return -ENOENT;
	if (n != 5 && n != 4)
		return -EINVAL;
	if (strchr(f[2], ':'))
		return dhcp_lease6_from_fields(f[0], f[1], f[2], f[3], n == 5 ? f[4] : NULL, NULL, ret);
	return dhcp_lease_from_fields(f[0], f[1], f[2], f[3], n == 5 ? f[4] : NULL, ret);
}

int dhcp_lease_file_parse(const char *text, size_t len, struct dhcp_lease_table *ret, size_t *ret_bad)
{
	struct dhcp_lease_table t = {};
	size_t bad = 0, pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (text + pos)) : len - pos;
		struct dhcp_lease l;
		int r = dhcp_lease_parse_line(text + pos, llen, &l);

		pos += llen + 1;
		if (r == -EINVAL && llen > 0)
			bad++;
		if (r < 0)
			continue;
		r = dhcp_lease_table_put(&t, &l);
		if (r < 0) {
			dhcp_lease_table_clear(&t);
			return r;
		}
	}
	if (ret_bad)
		*ret_bad = bad;
	*ret = t;
	return 0;
}

static struct dhcp_lease *find(struct dhcp_lease_table *t, int family, const union in_addr_union *ip)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->leases[i].family == family && ip_addr_equal(family, &t->leases[i].ip, ip))
			return &t->leases[i];
	return NULL;
}

const struct dhcp_lease *dhcp_lease_table_get(const struct dhcp_lease_table *t, int family,
					      const union in_addr_union *ip)
{
	return find((struct dhcp_lease_table *)t, family, ip);
}

static bool same_client(const struct dhcp_lease *a, const struct dhcp_lease *b)
{
	if (a->family != b->family || !ip_addr_equal(a->family, &a->ip, &b->ip))
		return false;
	if (a->family == AF_INET)
		return mac_equal(&a->mac, &b->mac);
	return a->duid.len && dhcp_duid_equal(&a->duid, &b->duid) && a->iaid == b->iaid &&
	       a->temporary == b->temporary;
}

bool dhcp_lease_renewed(const struct dhcp_lease *before, const struct dhcp_lease *after)
{
	return same_client(before, after) && before->expiry != after->expiry;
}

int dhcp_lease_table_put(struct dhcp_lease_table *t, const struct dhcp_lease *l)
{
	struct dhcp_lease *old = find(t, l->family, &l->ip), *v;

	if (old) {
		/* another client's renewal (moved): nothing of the owner's lease changes */
		if (l->family == AF_INET6 && !mac_is_zero(&old->mac) && !mac_equal(&old->mac, &l->mac))
			return mac_is_zero(&l->mac) ? 0 : 1;
		*old = *l;
		return 0;
	}
	v = realloc(t->leases, (t->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->leases = v;
	t->leases[t->n++] = *l;
	return 0;
}

static bool expired(const struct dhcp_lease *l, uint64_t now)
{
	return l->expiry && now >= l->expiry;
}

int dhcp_lease_table_remove(struct dhcp_lease_table *t, int family, const union in_addr_union *ip,
			    uint64_t now)
{
	struct dhcp_lease *l = find(t, family, ip);
	size_t i;

	if (!l)
		return -ENOENT;
	if (family == AF_INET6 && !mac_is_zero(&l->mac) && !expired(l, now)) {
		l->ended = true;
		return 1;
	}
	i = l - t->leases;
	memmove(&t->leases[i], &t->leases[i + 1], (t->n - i - 1) * sizeof(*l));
	t->n--;
	return 0;
}

size_t dhcp_lease_table_purge(struct dhcp_lease_table *t, uint64_t now)
{
	size_t j = 0;

	for (size_t i = 0; i < t->n; i++)
		if (!t->leases[i].ended || !expired(&t->leases[i], now))
			t->leases[j++] = t->leases[i];
	j = t->n - j;
	t->n -= j;
	return j;
}

void dhcp_lease_table_clear(struct dhcp_lease_table *t)
{
	free(t->leases);
	*t = (struct dhcp_lease_table){};
}

bool dhcp_lease6_mac(const struct dhcp_lease *l, struct mac *ret)
{
	if (mac_is_zero(&l->mac))
		return false;
	*ret = l->mac;
	return true;
}

static bool same_client6(const struct dhcp_lease *a, const struct dhcp_lease *b)
{
	return a->family == AF_INET6 && b->family == AF_INET6 && ip_addr_equal(AF_INET6, &a->ip, &b->ip) &&
	       a->duid.len && dhcp_duid_equal(&a->duid, &b->duid) && a->iaid == b->iaid &&
	       a->temporary == b->temporary;
}

static int cmp_ip6(const struct dhcp_lease *a, const struct dhcp_lease *b)
{
	return memcmp(&a->ip.in6, &b->ip.in6, sizeof(a->ip.in6));
}

static int cmp_ip6_p(const void *a, const void *b)
{
	return cmp_ip6(*(const struct dhcp_lease *const *)a, *(const struct dhcp_lease *const *)b);
}

/* The IPv6 leases of t (those with a MAC when with_mac), by address. NULL: none or no memory. */
static const struct dhcp_lease **by_ip6(const struct dhcp_lease_table *t, bool with_mac, size_t *ret_n)
{
	const struct dhcp_lease **v = malloc((t->n ?: 1) * sizeof(*v));
	size_t n = 0;

	*ret_n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->leases[i].family == AF_INET6 && (!with_mac || !mac_is_zero(&t->leases[i].mac)))
			v[n++] = &t->leases[i];
	qsort(v, n, sizeof(*v), cmp_ip6_p);
	*ret_n = n;
	return v;
}

static const struct dhcp_lease *find6(const struct dhcp_lease **v, size_t n, const struct dhcp_lease *key)
{
	const struct dhcp_lease *const *p = bsearch(&key, v, n, sizeof(*v), cmp_ip6_p);

	return p ? *p : NULL;
}

size_t dhcp_lease_table_take_macs(struct dhcp_lease_table *t, const struct dhcp_lease_table *from)
{
	_cleanup_free_ const struct dhcp_lease **v = NULL;
	size_t n = 0, nv;

	v = by_ip6(from, true, &nv);
	for (size_t i = 0; v && i < t->n; i++) {
		struct dhcp_lease *l = &t->leases[i];
		const struct dhcp_lease *f;

		if (l->family != AF_INET6 || !mac_is_zero(&l->mac))
			continue;
		f = find6(v, nv, l);
		if (f && same_client6(l, f)) {
			l->mac = f->mac;
			n++;
		}
	}
	return n;
}

int dhcp_lease_table_keep_ended(struct dhcp_lease_table *t, const struct dhcp_lease_table *from, uint64_t now)
{
	_cleanup_free_ const struct dhcp_lease **v = NULL;
	_cleanup_free_ const struct dhcp_lease **add = NULL;
	size_t nv, n_add = 0, n = 0;
	struct dhcp_lease *grown;

	v = by_ip6(t, false, &nv);
	add = malloc((from->n ?: 1) * sizeof(*add));
	if (!v || !add)
		return -ENOMEM;
	for (size_t i = 0; i < from->n; i++) {
		const struct dhcp_lease *e = &from->leases[i], *f;

		if (e->family != AF_INET6 || !e->ended || mac_is_zero(&e->mac) || expired(e, now))
			continue;
		f = find6(v, nv, e);
		if (!f)
			add[n_add++] = e;
		else if (!mac_equal(&f->mac, &e->mac)) {
			*(struct dhcp_lease *)f = *e; /* t's own lease, found through v */
			n++;
		}
	}
	if (!n_add)
		return n;
	grown = realloc(t->leases, (t->n + n_add) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	t->leases = grown;
	for (size_t i = 0; i < n_add; i++)
		t->leases[t->n++] = *add[i];
	return n + n_add;
}

/* "IPv6 MAC DUID [T]IAID[ EXPIRY]" (EXPIRY: an ended lease's) */
#define MACS_LINE_MAX (INET6_ADDRSTRLEN + MAC_STRLEN + DHCP_DUID_STRLEN + 40)

static int macs_line(const struct dhcp_lease *l, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN], mac[MAC_STRLEN], duid[DHCP_DUID_STRLEN], expiry[24] = "";

	if (l->ended)
		snprintf(expiry, sizeof(expiry), " %" PRIu64, l->expiry);
	return snprintf(buf, size, "%s %s %s %s%" PRIu32 "%s\n",
			ip_addr_format(AF_INET6, &l->ip, ip, sizeof(ip)),
			mac_format(&l->mac, mac, sizeof(mac)), dhcp_duid_format(&l->duid, duid, sizeof(duid)),
			l->temporary ? "T" : "", l->iaid, expiry);
}

struct ranked {
	const struct dhcp_lease *l;
	size_t index;
};

/* By MAC, then as port security ranks a MAC's leases: latest expiry first (0: never, the
 * latest), then table order. */
static int cmp_ranked(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;
	uint64_t ea = a->l->expiry ?: UINT64_MAX, eb = b->l->expiry ?: UINT64_MAX;
	int c = memcmp(&a->l->mac, &b->l->mac, sizeof(a->l->mac));

	if (c)
		return c;
	if (ea != eb)
		return ea > eb ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

char *dhcp_lease_macs_render(const struct dhcp_lease_table *t)
{
	_cleanup_free_ struct ranked *v = malloc((t->n ?: 1) * sizeof(*v));
	char *text = NULL, line[MACS_LINE_MAX];
	size_t size = 0, n = 0, run = 0;
	FILE *f;

	if (!v)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->leases[i].family == AF_INET6 && !mac_is_zero(&t->leases[i].mac))
			v[n++] = (struct ranked){ &t->leases[i], i };
	qsort(v, n, sizeof(*v), cmp_ranked);
	f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		run = i && mac_equal(&v[i].l->mac, &v[i - 1].l->mac) ? run + 1 : 0;
		/* only what port security uses; without a DUID it could not be matched to a lease again */
		if (run >= DHCP_LEASES6_PER_MAC || !v[i].l->duid.len)
			continue;
		macs_line(v[i].l, line, sizeof(line));
		fputs(line, f);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* One line; it must be exactly what macs_line() makes of what it says. */
static int macs_parse_line(const char *line, size_t len, struct dhcp_lease *ret)
{
	char f[FIELDS_MAX][FIELD_MAX], again[MACS_LINE_MAX];
	struct dhcp_lease l = { .family = AF_INET6 };
	int family, n = split_fields(line, len, f);

	if ((n != 4 && n != 5) || len + 1 >= sizeof(again))
		return -EBADMSG;
	if (ip_addr_parse(f[0], &family, &l.ip) < 0 || family != AF_INET6 || mac_parse(f[1], &l.mac) < 0 ||
	    mac_is_zero(&l.mac) || dhcp_duid_parse(f[2], &l.duid) < 0 ||
	    parse_iaid(f[3], &l.iaid, &l.temporary) < 0 || (n == 5 && parse_expiry(f[4], &l.expiry) < 0))
		return -EBADMSG;
	l.ended = n == 5;
	macs_line(&l, again, sizeof(again));
	if (strlen(again) != len + 1 || memcmp(again, line, len))
		return -EBADMSG;
	*ret = l;
	return 0;
}

static int cmp_ranked_ip6(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;
	int c = cmp_ip6(a->l, b->l);

	return c ? c : a->index < b->index ? -1 : a->index > b->index;
}

int dhcp_lease_macs_parse(const char *text, size_t len, struct dhcp_lease_table *ret, size_t *ret_bad)
{
	struct dhcp_lease_table t = {}, out = {};
	_cleanup_free_ struct ranked *v = NULL;
	size_t bad = 0, pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (text + pos)) : len - pos;
		struct dhcp_lease l, *grown;

		/* the last line without its newline: cut short */
		if (!nl || macs_parse_line(text + pos, llen, &l) < 0) {
			bad++;
			pos += llen + 1;
			continue;
		}
		pos += llen + 1;
		if (t.n % 64 == 0) {
			grown = realloc(t.leases, (t.n + 64) * sizeof(*grown));
			if (!grown) {
				dhcp_lease_table_clear(&t);
				return -ENOMEM;
			}
			t.leases = grown;
		}
		t.leases[t.n++] = l;
	}
	/* each address once (the renderer writes each lease once): the first line of it counts */
	v = malloc((t.n ?: 1) * sizeof(*v));
	out.leases = malloc((t.n ?: 1) * sizeof(*out.leases));
	if (!v || !out.leases) {
		dhcp_lease_table_clear(&t);
		dhcp_lease_table_clear(&out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t.n; i++)
		v[i] = (struct ranked){ &t.leases[i], i };
	qsort(v, t.n, sizeof(*v), cmp_ranked_ip6);
	for (size_t i = 0; i < t.n; i++) {
		if (i && !cmp_ip6(v[i].l, v[i - 1].l))
			bad++;
		else
			out.leases[out.n++] = *v[i].l;
	}
	dhcp_lease_table_clear(&t);
	if (!out.n) /* an empty table holds nothing to free */
		dhcp_lease_table_clear(&out);
	if (ret_bad)
		*ret_bad = bad;
	*ret = out;
	return 0;
}
