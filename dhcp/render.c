/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dnsmasq's config file, hosts file and DNS hosts file, rendered from the settings. Pure. */
#include "dhcp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <net/if.h>

#include "macro.h"
#include "names.h"

/* A growing string; an allocation failure sticks and is reported at the end. */
struct buf {
	char *s;
	size_t len, cap;
	int r;
};

static void buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->r < 0)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->r = -EINVAL;
			return;
		}
		if (b->s && b->len + n < b->cap) {
			b->len += n;
			return;
		}
		size_t cap = (b->cap + n + 1) * 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->r = -ENOMEM;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
}

static int buf_finish(struct buf *b, char **ret)
{
	if (b->r >= 0 && !b->s)
		buf_printf(b, "%s", "");
	if (b->r < 0) {
		free(b->s);
		return b->r;
	}
	*ret = b->s;
	return 0;
}

/* dnsmasq reads its config with fgets() into a buffer of MAXDNAME (1025) bytes: a longer line
 * comes in pieces, the rest read as a line of its own. The keys are short. */
#define DNSMASQ_VALUE_MAX 960

/*
 * Every value has been validated already; this is the last line of defence against a value that
 * dnsmasq's config reader (option.c read_file) would not read back as written: a control
 * character (a new line), a '"' (quoting), a '#' at the start or after a blank (a comment), a
 * blank at either end (stripped), or a line too long for its buffer.
 */
static bool value_safe(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > DNSMASQ_VALUE_MAX || (n && (s[0] == ' ' || s[n - 1] == ' ')))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"' ||
		    (s[i] == '#' && (i == 0 || s[i - 1] == ' ')))
			return false;
	return true;
}

/*
 * Names go to dnsmasq in lower case: it passes a name with an upper-case letter through IDN
 * (libidn2), which refuses some plain ASCII labels ("AB--CD", "XN--X": a bad DHCP host name, a
 * hosts line skipped, a domain= that stops dnsmasq from starting) and lower-cases the others
 * anyway. DNS names compare case-insensitively: the name served is the one configured.
 */
static const char *lower(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i];
	buf[i] = 0;
	return buf;
}

static const char *ip4(const union in_addr_union *a, char *buf)
{
	return ip_addr_format(AF_INET, a, buf, INET_ADDRSTRLEN);
}

/* The forwarders (server=[/DOMAIN/][ADDRESS[#PORT]|#]); whether one of them takes names upstream. */
static bool render_forwarders(struct buf *b, const struct dns_config *c)
{
	char domain[DNS_NAME_MAX + 1], a[INET6_ADDRSTRLEN];
	bool upstream = false;

	for (size_t i = 0; i < c->n_fwd; i++) {
		const struct dns_forwarder *f = &c->fwd[i];

		buf_printf(b, "server=");
		if (f->domain[0])
			buf_printf(b, "/%s/", lower(f->domain, domain, sizeof(domain)));
		if (f->family) {
			buf_printf(b, "%s", ip_addr_format(f->family, &f->addr, a, sizeof(a)));
			if (f->port)
				buf_printf(b, "#%u", f->port);
			upstream = true;
		} else if (f->usual) {
			buf_printf(b, "#"); /* dnsmasq: the servers it would use for any other name */
			upstream = true;
		}
		buf_printf(b, "\n");
	}
	return upstream;
}

/*
 * A TXT text in dnsmasq's quotes: inside them its config reader takes ',' (else a new
 * character-string), blanks and '#' as they are, and reads \\ and \" as \ and "; a backslash
 * before any other character stays. The text is printable ASCII (dns.c), so this is the whole text.
 */
static void quoted(struct buf *b, const char *s)
{
	buf_printf(b, "\"");
	for (; *s; s++)
		buf_printf(b, "%s%c", *s == '\\' || *s == '"' ? "\\" : "", *s);
	buf_printf(b, "\"");
}

static void render_records(struct buf *b, const struct dns_config *c)
{
	char n1[DNS_NAME_MAX + 1], n2[DNS_NAME_MAX + 1];

	for (size_t i = 0; i < c->n_srv; i++) {
		const struct dns_srv *r = &c->srv[i];

		buf_printf(b, "srv-host=%s", lower(r->name, n1, sizeof(n1)));
		if (r->target[0])
			buf_printf(b, ",%s,%u,%u,%u", lower(r->target, n2, sizeof(n2)), r->port, r->priority,
				   r->weight);
		buf_printf(b, "\n");
	}
	for (size_t i = 0; i < c->n_txt; i++) {
		buf_printf(b, "txt-record=%s,", lower(c->txt[i].name, n1, sizeof(n1)));
		quoted(b, c->txt[i].text);
		buf_printf(b, "\n");
	}
	for (size_t i = 0; i < c->n_cname; i++)
		buf_printf(b, "cname=%s,%s\n", lower(c->cname[i].name, n1, sizeof(n1)),
			   lower(c->cname[i].target, n2, sizeof(n2)));
	for (size_t i = 0; i < c->n_ptr; i++)
		buf_printf(b, "ptr-record=%s,%s\n", lower(c->ptr[i].name, n1, sizeof(n1)),
			   lower(c->ptr[i].target, n2, sizeof(n2)));
}

static void render_dns(struct buf *b, const struct dhcp_settings *s, const struct dhcp_render_ctx *ctx)
{
	char domain[DNS_NAME_MAX + 1];
	bool host = dns_config_uses_host_resolvers(s, ctx->dns_forward), upstream;

	if (!s->dns) {
		buf_printf(b, "# DNS is off for this network\nport=0\n");
		return;
	}
	buf_printf(b, "no-hosts\n");
	/* Never resolv.conf itself: dnsmasq would hold an inotify instance to watch it, and a host
	 * allows a user 128 of them (fs.inotify.max_user_instances): the 129th network's dnsmasq
	 * would not start. netd watches it once and keeps the servers file (re-read on SIGHUP). */
	if (host)
		buf_printf(b, "no-resolv\nservers-file=%s\n", ctx->servers_file);
	else if (!ctx->dns_forward && !s->dnscfg.n_fwd)
		buf_printf(b, "# isolated: no upstream resolvers\nno-resolv\n");
	else
		buf_printf(b, "# not the host's resolvers\nno-resolv\n");
	upstream = render_forwarders(b, &s->dnscfg) || host;
	if (upstream)
		buf_printf(b, "strict-order\n");
	/* libvirt's localOnly: names under the domain that are no guest's are never sent upstream.
	 * Without it they are (libvirt's default), unless nothing is upstream anyway: then the
	 * answer is NXDOMAIN rather than REFUSED, as before local-only existed. */
	if (s->domain[0]) {
		lower(s->domain, domain, sizeof(domain));
		if (s->dnscfg.local_only || !upstream)
			buf_printf(b, "local=/%s/\n", domain);
		buf_printf(b, "expand-hosts\n");
	}
	buf_printf(b, "addn-hosts=%s\n", ctx->addn_hosts_file);
	render_records(b, &s->dnscfg);
}

/* The escape hatch, last: each line an allowed option, checked once more (dns.c). */
static int render_options(struct buf *b, const struct dns_config *c)
{
	if (!c->n_opts)
		return 0;
	buf_printf(b, "# [dnsmasq] option lines of the definition\n");
	for (size_t i = 0; i < c->n_opts; i++) {
		if (dnsmasq_option_invalid_reason(c->opts[i].text) || !value_safe(c->opts[i].text))
			return -EINVAL;
		buf_printf(b, "%s\n", c->opts[i].text);
	}
	return 0;
}

static const char *ip6(const union in_addr_union *a, char *buf)
{
	return ip_addr_format(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* Whether the IPv6 mode leases addresses from DHCPv6 ranges. */
static bool leases6(const struct dhcp_settings *s, const struct dhcp_render_ctx *ctx)
{
	return s->dhcp && ctx->subnet6.family == AF_INET6 && ctx->ipv6_mode != DHCP_IPV6_MODE_SLAAC;
}

/* dnsmasq reads dhcp-lease-max as an int: the ranges count up to here (a /8 of IPv4). */
#define LEASE_MAX_RANGES (1ull << 24)

static uint64_t range6_size(const struct dhcp_range6 *r)
{
	unsigned __int128 start = 0, end = 0;

	for (size_t i = 0; i < 16; i++) {
		start = start << 8 | r->start.bytes[i];
		end = end << 8 | r->end.bytes[i];
	}
	return end < start		       ? 0 :
	       end - start >= LEASE_MAX_RANGES ? LEASE_MAX_RANGES :
						 (uint64_t)(end - start) + 1;
}

/*
 * PXE: the boot file and its server (dhcp-boot=FILE[,,NEXT-SERVER]: no server name; without an
 * address dnsmasq gives its own, the gateway), and dnsmasq's TFTP server on the bridge. dnsmasq
 * opens TFTP files after it has dropped to its user, so a guest gets only what that user may read
 * (netd checks the root and the boot file at start); "tftp-no-fail": a root removed later costs
 * the TFTP service, not DHCP and DNS. No tftp-secure: it would serve only files that user owns.
 */
static void render_pxe(struct buf *b, const struct dhcp_settings *s)
{
	char a[INET_ADDRSTRLEN];

	if (s->pxe_boot[0])
		buf_printf(b, "dhcp-boot=%s%s%s\n", s->pxe_boot, s->has_next_server ? ",," : "",
			   s->has_next_server ? ip4(&s->next_server, a) : "");
	if (s->tftp_root[0])
		buf_printf(b, "enable-tftp\ntftp-root=%s\ntftp-no-fail\n", s->tftp_root);
}

/* The netmask of the network's subnet that holds a: the first one's, or one of the addresses'. */
static uint8_t range_len(const struct dhcp_render_ctx *ctx, const union in_addr_union *a)
{
	for (size_t i = 0; i < ctx->n_addresses; i++)
		if (ip_prefix_contains(&ctx->addresses[i], AF_INET, a))
			return ctx->addresses[i].len;
	return ctx->subnet.len;
}

static void render_dhcp(struct buf *b, const struct dhcp_settings *s, const struct dhcp_render_ctx *ctx)
{
	struct dhcp_range ranges[DHCP_RANGES_EFFECTIVE_MAX];
	struct dhcp_range6 ranges6[DHCP_RANGES_MAX];
	char a[INET_ADDRSTRLEN], e[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN], t[16];
	union in_addr_union mask;
	size_t n = 0, n6 = 0;
	uint64_t total = 0;

	if (ctx->subnet.family == AF_INET)
		n = dhcp_ranges_effective(s, &ctx->subnet, &ctx->gateway, ranges);
	if (leases6(s, ctx))
		n6 = dhcp_ranges6_effective(s, &ctx->subnet6, ranges6);
	dhcp_lease_time_format(s->lease_time ?: DHCP_LEASE_TIME_DEFAULT, t, sizeof(t));
	/* With several subnets on the bridge, dnsmasq gives a client of a range the bridge's address
	 * in that range's subnet as its router and DNS server: that subnet's gateway. */
	for (size_t i = 0; i < n; i++) {
		uint8_t len = range_len(ctx, &ranges[i].start);

		ip4_from_host(len ? ~0u << (32 - len) : 0, &mask);
		buf_printf(b, "dhcp-range=%s,%s,%s,%s\n", ip4(&ranges[i].start, a), ip4(&ranges[i].end, e),
			   ip4(&mask, m), t);
		total += ip4_to_host(&ranges[i].end) - ip4_to_host(&ranges[i].start) + 1;
	}
	/* DHCP on every IPv4 subnet without a dynamic range (all of them with 'static'): dnsmasq
	 * answers a reserved host only in a subnet it has a dhcp-range for, so these reserved hosts
	 * get their address and nobody else one. */
	if (ctx->subnet.family == AF_INET) {
		bool comment = false;

		for (size_t i = 0; i <= ctx->n_addresses; i++) {
			const struct ip_prefix *p = i ? &ctx->addresses[i - 1] : &ctx->subnet;
			struct ip_prefix net = *p;
			bool dynamic = false;

			for (size_t j = 0; j < n && !dynamic; j++)
				dynamic = ip_prefix_contains(p, AF_INET, &ranges[j].start);
			if (dynamic)
				continue;
			if (!comment)
				buf_printf(b, "# reserved hosts only\n");
			comment = true;
			ip_prefix_mask(&net);
			ip4_from_host(p->len ? ~0u << (32 - p->len) : 0, &mask);
			buf_printf(b, "dhcp-range=%s,static,%s,%s\n", ip4(&net.addr, a), ip4(&mask, m), t);
		}
		if (comment && !n)
			n = 1;
	}
	for (size_t i = 0; i < n6; i++)
		total += range6_size(&ranges6[i]);
	/* Room for every address of the ranges and every possible reservation: the limit must not
	 * depend on the reservations, which change without a restart. */
	buf_printf(
		b, "dhcp-lease-max=%llu\n",
		(unsigned long long)((total < LEASE_MAX_RANGES ? total : LEASE_MAX_RANGES) + DHCP_HOSTS_MAX));
	if (n && !ctx->router)
		buf_printf(b, "# no default route on this network: an empty router option\ndhcp-option=3\n");
	/* The bridge's MTU for the guests too (option 26; sent to clients that ask for it). */
	if (n && ctx->mtu)
		buf_printf(b, "dhcp-option=option:mtu,%u\n", ctx->mtu);
	if (n)
		render_pxe(b, s);
	/* A private bridge has no other DHCP server: answer at once, and skip the ~3 s ping
	 * dnsmasq otherwise sends before offering an address. */
	buf_printf(b, "dhcp-authoritative\n");
	/* Across hosts another host's new guest may hold an address whose EVPN route has not
	 * arrived yet: the ping narrows that window, at ~3 s for a new lease. */
	if (!ctx->remote_hosts_file)
		buf_printf(b, "no-ping\n");
	/* Leases are the MAC's, never a client-id's: a guest could otherwise release or take another
	 * guest's lease by sending that guest's client-id (port security pins the MAC, not option 61). */
	buf_printf(b, "dhcp-ignore-clid\n");
	buf_printf(b, "dhcp-leasefile=%s\n", ctx->lease_file);
	buf_printf(b, "dhcp-hostsfile=%s\n", ctx->hosts_file);
	if (ctx->remote_hosts_file)
		buf_printf(b, "dhcp-hostsfile=%s\n", ctx->remote_hosts_file);
	/* The script at every renewal too, not only when a lease is new or its MAC or name changed: a
	 * DHCPv6 lease's expiry in netd is its owner's last renewal, up to which netd keeps the
	 * address for the owner when another guest's renewal with its DUID makes dnsmasq end it
	 * early (DESIGN.md). */
	if (ctx->script)
		buf_printf(b, "dhcp-script=%s\nscript-on-renewal\n", ctx->script);
}

/* The MTU router advertisements may announce: IPv6 needs 1280 (RFC 8200). */
#define RA_MTU_MIN 1280u
#define RA_MTU_MAX 65535u
/* dnsmasq's own router lifetime at its default interval (3 x 600 s), written out. */
#define RA_ROUTER_LIFETIME 1800

/*
 * Router advertisements on the bridge, for the prefix given (not constructor: from whatever the
 * bridge has), and DHCPv6 per mode: slaac -> the A flag and stateless DHCPv6 (DNS for clients
 * that ignore RDNSS); dhcpv6 -> the M flag and the ranges; slaac+dhcpv6 -> both flags, both
 * addresses. dnsmasq takes a prefix length of 64 or more: a shorter prefix is served as its first
 * /64 (dhcp_settings_validate6 keeps everything inside it).
 */
static void render_ipv6(struct buf *b, const struct dhcp_settings *s, const struct dhcp_render_ctx *ctx)
{
	struct dhcp_range6 ranges6[DHCP_RANGES_MAX];
	char a[INET6_ADDRSTRLEN], e[INET6_ADDRSTRLEN], t[16], mtu[24] = "", domain[DNS_NAME_MAX + 1];
	unsigned plen = ctx->subnet6.len < 64 ? 64 : ctx->subnet6.len;
	size_t n6;

	/* An infinite lease stays IPv4's: in an IPv6 dhcp-range dnsmasq takes the time as the valid
	 * lifetime of the prefix in its router advertisements too, which would keep the prefix on
	 * the guests forever (and DHCPv6 leases that never end). */
	dhcp_lease_time_format(s->lease_time && s->lease_time != DHCP_LEASE_TIME_INFINITE ?
				       s->lease_time :
				       DHCP_LEASE_TIME_DEFAULT,
			       t, sizeof(t));
	buf_printf(b, "# IPv6: router advertisements%s\nenable-ra\n", leases6(s, ctx) ? " and DHCPv6" : "");
	if (!leases6(s, ctx)) {
		buf_printf(b, "dhcp-range=%s,%s,%u,%s\n", ip6(&ctx->subnet6.addr, a),
			   s->dhcp ? "ra-stateless" : "ra-only", plen, t);
	} else {
		n6 = dhcp_ranges6_effective(s, &ctx->subnet6, ranges6);
		for (size_t i = 0; i < n6; i++)
			buf_printf(b, "dhcp-range=%s,%s,%s%u,%s\n", ip6(&ranges6[i].start, a),
				   ip6(&ranges6[i].end, e),
				   ctx->ipv6_mode == DHCP_IPV6_MODE_SLAAC_DHCPV6 ? "slaac," : "", plen, t);
	}
	if (ctx->mtu)
		snprintf(mtu, sizeof(mtu), "mtu:%u,", ctx->mtu);
	if (!ctx->ra_router)
		buf_printf(b, "# no default route on this network: router lifetime 0\n");
	/* interval 0: dnsmasq's default */
	buf_printf(b, "ra-param=%s,%s0,%d\n", ctx->bridge, mtu, ctx->ra_router ? RA_ROUTER_LIFETIME : 0);
	/* RDNSS (in the RAs) and the DHCPv6 DNS option: the gateway's address, stable, not the
	 * bridge's link-local address dnsmasq would pick by itself. */
	if (s->dns)
		buf_printf(b, "dhcp-option=option6:dns-server,[%s]\n", ip6(&ctx->gateway6, a));
	if (s->domain[0])
		buf_printf(b, "dhcp-option=option6:domain-search,%s\n",
			   lower(s->domain, domain, sizeof(domain)));
	if (!s->dhcp)
		buf_printf(b,
			   "# DHCP is off, but dnsmasq keeps a lease file for RA: netd's, not its default\n"
			   "dhcp-leasefile=%s\n",
			   ctx->lease_file);
}

/* What an IPv6 context must hold before it is written. */
static bool ctx6_valid(const struct dhcp_render_ctx *ctx)
{
	if (ctx->subnet6.family == 0)
		return true;
	return ctx->subnet6.family == AF_INET6 && ctx->subnet6.len <= 128 &&
	       ip_prefix_is_masked(&ctx->subnet6) &&
	       ip_prefix_contains(&ctx->subnet6, AF_INET6, &ctx->gateway6) && ctx->ipv6_mode >= 0 &&
	       ctx->ipv6_mode < _DHCP_IPV6_MODE_MAX &&
	       (!ctx->mtu || (ctx->mtu >= RA_MTU_MIN && ctx->mtu <= RA_MTU_MAX));
}

int dhcp_config_render(const struct dhcp_settings *s, const struct dhcp_render_ctx *ctx, char **ret)
{
	const char *values[] = { ctx->network,	       ctx->bridge, ctx->lease_file, ctx->hosts_file,
				 ctx->addn_hosts_file, ctx->script, s->domain,	     ctx->servers_file,
				 s->pxe_boot,	       s->tftp_root };
	char domain[DNS_NAME_MAX + 1], gw[INET6_ADDRSTRLEN];
	struct buf b = {};

	for (size_t i = 0; i < ELEMENTSOF(values); i++)
		if (!value_safe(values[i]))
			return -EINVAL;
	if (s->domain[0] && dns_name_invalid_reason(s->domain))
		return -EINVAL;
	/* The records and forwarders are written as fields: only what their checks let through. */
	if (dns_config_validate(s, NULL, NULL, domain, sizeof(domain)) < 0)
		return -EINVAL;
	/* A ',' would start another field of dhcp-boot or tftp-root. */
	if ((s->pxe_boot[0] && dhcp_boot_file_invalid_reason(s->pxe_boot)) ||
	    (s->tftp_root[0] && dhcp_tftp_root_invalid_reason(s->tftp_root)))
		return -EINVAL;
	if (!ctx6_valid(ctx) || (ctx->subnet.family != AF_INET && ctx->subnet6.family != AF_INET6))
		return -EINVAL;
	for (size_t i = 0; i < ctx->n_addresses; i++)
		if (ctx->subnet.family != AF_INET || ctx->addresses[i].family != AF_INET ||
		    ctx->addresses[i].len > 32)
			return -EINVAL;
	buf_printf(&b, "# dnsmasq config of netd network '%s'. Generated by netd: edits are overwritten.\n",
		   ctx->network);
	/* bind-interfaces: dnsmasq binds to the bridge's addresses once, at start, and ignores the
	 * addresses and links that come and go elsewhere. With bind-dynamic every dnsmasq enumerated
	 * every interface of the host again on each new address: each network created woke all the
	 * others (97 ms of their CPU per create at 250 networks, 12 ms now). What it binds to is in
	 * the comment, so a new bridge (an ifindex) or gateway changes the file and gets a new dnsmasq. */
	buf_printf(&b, "# bound to %s (ifindex %d)", ctx->bridge, ctx->bridge_ifindex);
	if (ctx->subnet.family == AF_INET)
		buf_printf(&b, ", gateway %s", ip4(&ctx->gateway, gw));
	for (size_t i = 0; i < ctx->n_addresses; i++)
		buf_printf(&b, ", gateway %s/%u", ip4(&ctx->addresses[i].addr, gw), ctx->addresses[i].len);
	if (ctx->subnet6.family == AF_INET6)
		buf_printf(&b, ", gateway6 %s", ip6(&ctx->gateway6, gw));
	buf_printf(&b, "\n");
	buf_printf(&b, "interface=%s\nexcept-interface=lo\nbind-interfaces\n", ctx->bridge);
	if (s->domain[0])
		buf_printf(&b, "domain=%s\n", lower(s->domain, domain, sizeof(domain)));
	render_dns(&b, s, ctx);
	if (s->dhcp)
		render_dhcp(&b, s, ctx);
	if (ctx->subnet6.family == AF_INET6)
		render_ipv6(&b, s, ctx);
	if (render_options(&b, &s->dnscfg) < 0)
		b.r = -EINVAL;
	return buf_finish(&b, ret);
}

int dhcp_hosts_render(const struct dhcp_settings *s, char **ret)
{
	struct buf b = {};
	char c[DHCP_DUID_STRLEN + 3], a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN], name[DNS_LABEL_MAX + 1],
		t[16];

	for (size_t i = 0; i < s->n_hosts; i++) {
		const struct dhcp_host *h = &s->hosts[i];

		/* A field dnsmasq would read as a keyword or lease time would lose the name; a DUID
		 * of no octets would be "id:", and a host without an address means nothing. */
		if ((h->hostname[0] && dhcp_hostname_invalid_reason(h->hostname)) ||
		    (h->lease_time && h->lease_time != DHCP_LEASE_TIME_INFINITE &&
		     (h->lease_time < DHCP_LEASE_TIME_MIN || h->lease_time > DHCP_LEASE_TIME_MAX)) ||
		    (!h->has_ip && !h->has_ip6) || h->duid.len > DHCP_DUID_MAX ||
		    (h->duid.len && (h->has_ip || h->duid.len < DHCP_DUID_MIN))) {
			free(b.s);
			return -EINVAL;
		}
		if (h->duid.len) {
			memcpy(c, "id:", 3);
			dhcp_duid_format(&h->duid, c + 3, sizeof(c) - 3);
		} else {
			mac_format(&h->mac, c, sizeof(c));
		}
		/* Of a full name only the first label: dnsmasq would keep just that as the lease's name
		 * anyway, and log "Ignoring domain" at every lease when the rest is not domain=. The full
		 * name is in the DNS hosts file (dhcp_addn_hosts_render). */
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(h->hostname, "."), h->hostname);
		lower(name, name, sizeof(name));
		/* The lease time as dnsmasq reads it back: 90m, 1h, 2d, 121s, infinite. */
		if (h->lease_time)
			dhcp_lease_time_format(h->lease_time, t, sizeof(t));
		/* An IPv6 address in brackets: dnsmasq reads a bare one as a MAC (it has colons). */
		buf_printf(&b, "%s%s%s%s%s%s%s%s%s%s\n", c, h->has_ip ? "," : "",
			   h->has_ip ? ip4(&h->ip, a) : "", h->has_ip6 ? ",[" : "",
			   h->has_ip6 ? ip6(&h->ip6, a6) : "", h->has_ip6 ? "]" : "", name[0] ? "," : "",
			   name, h->lease_time ? "," : "", h->lease_time ? t : "");
	}
	return buf_finish(&b, ret);
}

static int remote_host_cmp(const void *a, const void *b)
{
	const struct dhcp_remote_host *x = a, *y = b;
	uint32_t p = ip4_to_host(&x->ip), q = ip4_to_host(&y->ip);

	if (p != q)
		return p < q ? -1 : 1;
	return memcmp(x->mac.b, y->mac.b, sizeof(x->mac.b));
}

int dhcp_remote_hosts_render(struct dhcp_remote_host *h, size_t n, char **ret)
{
	struct buf b = {};
	char m[MAC_STRLEN], a[INET_ADDRSTRLEN];

	for (size_t i = 0; i < n; i++)
		if (mac_is_zero(&h[i].mac) || mac_is_multicast(&h[i].mac) || !ip4_to_host(&h[i].ip))
			return -EINVAL;
	if (n)
		qsort(h, n, sizeof(*h), remote_host_cmp);
	/* Only netd's own formatting of binary values: nothing a neighbour entry holds can add a
	 * field, a keyword or a line. */
	for (size_t i = 0; i < n; i++)
		if (!i || ip4_to_host(&h[i].ip) != ip4_to_host(&h[i - 1].ip))
			buf_printf(&b, "%s,%s\n", mac_format(&h[i].mac, m, sizeof(m)), ip4(&h[i].ip, a));
	return buf_finish(&b, ret);
}

/*
 * Reservations named with a domain (web.example.com): dnsmasq names the lease by the first label
 * only, and serves it under domain= (web.lab.example). The full name is a DNS record of its own,
 * for each address of the reservation, whatever the network's domain (names the reservation
 * renderer refuses are not written: it fails the whole render first).
 */
static void render_host_names(struct buf *b, const struct dhcp_settings *s)
{
	char a[INET6_ADDRSTRLEN], name[DNS_NAME_MAX + 1];

	for (size_t i = 0; i < s->n_hosts; i++) {
		const struct dhcp_host *h = &s->hosts[i];

		if (!strchr(h->hostname, '.') || dhcp_hostname_invalid_reason(h->hostname))
			continue;
		lower(h->hostname, name, sizeof(name));
		if (h->has_ip)
			buf_printf(b, "%s %s\n", ip4(&h->ip, a), name);
		if (h->has_ip6)
			buf_printf(b, "%s %s\n", ip6(&h->ip6, a), name);
	}
}

int dhcp_addn_hosts_render(const struct dhcp_settings *s, char **ret)
{
	struct buf b = {};
	char a[INET6_ADDRSTRLEN], name[DNS_NAME_MAX + 1];

	for (size_t i = 0; i < s->n_dns_hosts; i++) {
		const struct dns_host *h = &s->dns_hosts[i];

		if (dns_name_invalid_reason(h->hostname) || (h->family != AF_INET && h->family != AF_INET6)) {
			free(b.s);
			return -EINVAL;
		}
		/* A hosts file takes an IPv6 address bare (unlike a dhcp-host line). */
		buf_printf(&b, "%s %s\n", ip_addr_format(h->family, &h->ip, a, sizeof(a)),
			   lower(h->hostname, name, sizeof(name)));
	}
	render_host_names(&b, s);
	return buf_finish(&b, ret);
}

int dhcp_servers_render(const char *resolv_conf, char **ret)
{
	struct buf b = {};

	buf_printf(
		&b,
		"# Generated by netd from the host's resolv.conf: the upstream resolvers of the networks\n");
	for (const char *line = resolv_conf; line && *line;) {
		const char *end = strchrnul(line, '\n');
		char word[16], value[INET6_ADDRSTRLEN + IFNAMSIZ + 1], addr[INET6_ADDRSTRLEN], *scope;
		union in_addr_union a;
		int family;
		size_t len = end - line;
		char text[256];

		if (len < sizeof(text)) {
			memcpy(text, line, len);
			text[len] = 0;
			/* "nameserver ADDRESS", read as dnsmasq reads it (blanks around, the rest ignored) */
			if (sscanf(text, "%15s %62s", word, value) == 2 && !strcmp(word, "nameserver")) {
				scope = strchr(value, '%');
				snprintf(addr, sizeof(addr), "%.*s",
					 scope ? (int)(scope - value) : (int)strlen(value), value);
				if (ip_addr_parse(addr, &family, &a) >= 0 &&
				    (!scope || (family == AF_INET6 && ifname_valid(scope + 1))))
					buf_printf(&b, "server=%s\n", value);
			}
		}
		line = *end ? end + 1 : end;
	}
	return buf_finish(&b, ret);
}
