/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frr-conf.h"

int frr_asn_parse(const char *s, uint32_t *ret)
{
	unsigned long long v = 0;

	if (!s || !*s || (s[0] == '0' && s[1]) || strlen(s) > 10)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < 1 || v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

bool frr_addr_usable(int family, const union in_addr_union *a)
{
	if (family == AF_INET) {
		uint32_t h = ip4_to_host(a);

		return h != 0 && (h >> 24) != 127 && (h >> 28) != 0xe && h != 0xffffffffu;
	}
	if (family != AF_INET6)
		return false;
	return !IN6_IS_ADDR_UNSPECIFIED(&a->in6) && !IN6_IS_ADDR_LOOPBACK(&a->in6) &&
	       !IN6_IS_ADDR_MULTICAST(&a->in6) && !IN6_IS_ADDR_LINKLOCAL(&a->in6) &&
	       !IN6_IS_ADDR_V4MAPPED(&a->in6);
}

int frr_peers_parse(const char *s, struct frr_peer *ret, size_t max, char *err, size_t errlen)
{
	size_t n = 0;

	if (!s || !*s) {
		snprintf(err, errlen, "expected ADDR[,ADDR...]");
		return -EINVAL;
	}
	for (const char *p = s;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char one[INET6_ADDRSTRLEN + 1];
		struct frr_peer peer;

		if (len == 0 || len >= sizeof(one)) {
			snprintf(err, errlen, "expected ADDR[,ADDR...], an IPv4 or IPv6 address each");
			return -EINVAL;
		}
		memcpy(one, p, len);
		one[len] = 0;
		if (ip_addr_parse(one, &peer.family, &peer.addr) < 0 ||
		    !frr_addr_usable(peer.family, &peer.addr)) {
			snprintf(err, errlen, "'%s' is not a unicast IPv4 or IPv6 address", one);
			return -EINVAL;
		}
		for (size_t i = 0; i < n; i++)
			if (ret[i].family == peer.family &&
			    ip_addr_equal(peer.family, &ret[i].addr, &peer.addr)) {
				snprintf(err, errlen, "'%s' is given twice", one);
				return -EINVAL;
			}
		if (n >= max) {
			snprintf(err, errlen, "at most %zu peers", max);
			return -EINVAL;
		}
		ret[n++] = peer;
		if (!comma)
			break;
		p = comma + 1;
	}
	return (int)n;
}

int frr_peers_format(const struct frr_peer *p, size_t n, char *buf, size_t size)
{
	size_t used = 0;

	if (size)
		buf[0] = 0;
	for (size_t i = 0; i < n; i++) {
		char a[INET6_ADDRSTRLEN];
		int w = snprintf(buf + used, size - used, "%s%s", i ? "," : "",
				 ip_addr_format(p[i].family, &p[i].addr, a, sizeof(a)));

		if (w < 0 || (size_t)w >= size - used)
			return -ENOSPC;
		used += (size_t)w;
	}
	return 0;
}

int frr_conf_validate(const struct frr_conf *c, char *err, size_t errlen)
{
	char a[INET6_ADDRSTRLEN];

	if (!frr_addr_usable(c->vtep_family, &c->vtep)) {
		snprintf(err, errlen, "the VTEP is not a unicast IPv4 or IPv6 address");
		return -EINVAL;
	}
	if (c->asn == 0) {
		snprintf(err, errlen, "the AS number is out of range (1-4294967295)");
		return -EINVAL;
	}
	if (c->n_peers > FRR_PEERS_MAX) {
		snprintf(err, errlen, "at most %d peers", FRR_PEERS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct frr_peer *p = &c->peers[i];

		if (!frr_addr_usable(p->family, &p->addr)) {
			snprintf(err, errlen, "peer %zu is not a unicast address", i + 1);
			return -EINVAL;
		}
		ip_addr_format(p->family, &p->addr, a, sizeof(a));
		if (p->family != c->vtep_family) {
			snprintf(err, errlen, "peer %s is not of the VTEP's address family", a);
			return -EINVAL;
		}
		if (ip_addr_equal(p->family, &p->addr, &c->vtep)) {
			snprintf(err, errlen, "peer %s is this host's own VTEP", a);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (ip_addr_equal(p->family, &p->addr, &c->peers[j].addr)) {
				snprintf(err, errlen, "peer %s is given twice", a);
				return -EINVAL;
			}
	}
	if (c->reflector &&
	    (c->listen_range.family != c->vtep_family || !ip_prefix_is_masked(&c->listen_range) ||
	     c->listen_range.len == 0 || !ip_prefix_contains(&c->listen_range, c->vtep_family, &c->vtep))) {
		snprintf(err, errlen, "a route reflector needs the VTEP's subnet as its listen range");
		return -EINVAL;
	}
	return 0;
}

/* BGP's router-id is 32 bits: an IPv4 VTEP itself, an IPv6 one's last 32 bits (hosts whose VTEPs
 * differ only above them would collide: evpn/DESIGN.md). */
static void router_id(const struct frr_conf *c, char *buf, size_t size)
{
	union in_addr_union id = {};

	if (c->vtep_family == AF_INET)
		id = c->vtep;
	else
		memcpy(id.bytes, c->vtep.bytes + 12, 4);
	ip_addr_format(AF_INET, &id, buf, size);
}

int frr_conf_render(const struct frr_conf *c, char **ret, char *err, size_t errlen)
{
	char vtep[INET6_ADDRSTRLEN], rid[INET_ADDRSTRLEN], range[IP_PREFIX_STRLEN];
	char *text = NULL;
	size_t size = 0;
	FILE *f;
	int r;

	r = frr_conf_validate(c, err, errlen);
	if (r < 0)
		return r;
	f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	ip_addr_format(c->vtep_family, &c->vtep, vtep, sizeof(vtep));
	router_id(c, rid, sizeof(rid));
	fprintf(f,
		"! FRR's configuration, written by netd from its EVPN settings (netd(8)): netd owns\n"
		"! this file and replaces it; change netd's settings instead.\n"
		"frr defaults datacenter\n"
		"service integrated-vtysh-config\n"
		"!\n"
		"router bgp %" PRIu32 "\n"
		" bgp router-id %s\n"
		" no bgp default ipv4-unicast\n"
		" coalesce-time 100\n",
		c->asn, rid);
	if (c->reflector) {
		ip_prefix_format(&c->listen_range, range, sizeof(range));
		fprintf(f,
			" neighbor " FRR_PEER_GROUP " peer-group\n"
			" neighbor " FRR_PEER_GROUP " remote-as %" PRIu32 "\n"
			" neighbor " FRR_PEER_GROUP " update-source %s\n"
			" bgp listen range %s peer-group " FRR_PEER_GROUP "\n",
			c->asn, vtep, range);
	}
	for (size_t i = 0; i < c->n_peers; i++) {
		char a[INET6_ADDRSTRLEN];

		ip_addr_format(c->peers[i].family, &c->peers[i].addr, a, sizeof(a));
		fprintf(f, " neighbor %s remote-as %" PRIu32 "\n neighbor %s update-source %s\n", a, c->asn,
			a, vtep);
	}
	fprintf(f, " !\n address-family l2vpn evpn\n");
	if (c->reflector)
		fprintf(f, "  neighbor " FRR_PEER_GROUP " activate\n  neighbor " FRR_PEER_GROUP
			   " route-reflector-client\n");
	for (size_t i = 0; i < c->n_peers; i++) {
		char a[INET6_ADDRSTRLEN];

		fprintf(f, "  neighbor %s activate\n",
			ip_addr_format(c->peers[i].family, &c->peers[i].addr, a, sizeof(a)));
	}
	fprintf(f, "  advertise-all-vni\n exit-address-family\nexit\n!\n");
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	*ret = text;
	return 0;
}
