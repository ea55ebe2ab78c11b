/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A network's settings, one row each: the definition file, the request, netdctl's options and
 * show/--json all come from this table (common/schema.h). A new setting is one row here: a typed
 * row for a plain value (SCHEMA_*_AT), parse and format functions for a special one. Values are
 * checked one at a time here; what depends on several of them (the gateway inside the subnet, what
 * a mode allows) is network_validate()'s.
 */
#include "network-schema.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "names.h"

#define NET(p) struct network *n = (p)
#define CNET(p) const struct network *n = (p)

#define fmt schema_format_text

/* ---- [network] ---- */

static int parse_mode(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);
	char e[256];

	n->mode = net_mode_from_string(v);
	if (n->mode)
		return 0;
	return schema_error(err, errlen, "unknown mode '%s' (known: %s)", text_escape(v, e, sizeof(e)),
			    net_mode_names());
}

static int format_mode(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return fmt(buf, size, n->mode ? n->mode->name : NULL);
}

/* "auto" (a free /24 of the pool, chosen at create) is no subnet yet; "none" is no IPv4 at all
 * (network_validate() wants a --subnet6 then). */
static int parse_subnet(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);

	n->subnet_none = !strcmp(v, "none");
	if (n->subnet_none || !strcmp(v, "auto")) {
		n->subnet = (struct ip_prefix){};
		return 0;
	}
	if (ip_prefix_parse(v, &n->subnet) >= 0)
		return 0;
	return schema_invalid(err, errlen, "subnet", v,
			      "expected CIDR notation like 10.0.0.0/24, auto or none");
}

static int format_subnet(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	if (n->subnet_none)
		return fmt(buf, size, "none");
	return n->subnet.family ? fmt(buf, size, ip_prefix_format(&n->subnet, buf, size)) : 0;
}

/* "auto": a /64 of the host's ULA prefix, chosen at create. network_validate() checks the rest. */
static int parse_subnet6(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);
	struct ip_prefix p;

	if (!strcmp(v, "auto")) {
		n->subnet6 = (struct ip_prefix){};
		n->subnet6_auto = true;
		return 0;
	}
	if (ip_prefix_parse(v, &p) < 0 || p.family != AF_INET6)
		return schema_invalid(err, errlen, "IPv6 prefix", v,
				      "expected an IPv6 prefix like fd00:1:2:3::/64, "
				      "or auto");
	n->subnet6 = p;
	n->subnet6_auto = false;
	return 0;
}

static int format_subnet6(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	if (n->subnet6_auto)
		return fmt(buf, size, "auto");
	return n->subnet6.family ? fmt(buf, size, ip_prefix_format(&n->subnet6, buf, size)) : 0;
}

/* Shown, never set: the prefix's first address. */
static int parse_gateway6(void *obj, const char *v, char *err, size_t errlen)
{
	return schema_error(err, errlen,
			    "the IPv6 gateway cannot be set: it is the prefix's first address "
			    "(::1 of a /64)");
}

static int format_gateway6(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return n->subnet6.family ? fmt(buf, size, ip_addr_format(AF_INET6, &n->gateway6, buf, size)) : 0;
}

static int parse_ipv6_mode(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);

	if (ipv6_mode_from_string(v, &n->ipv6_mode) >= 0)
		return 0;
	return schema_invalid(err, errlen, "IPv6 mode", v, "expected slaac, dhcpv6 or slaac+dhcpv6");
}

/* Nothing (null in show) for a network without IPv6 that keeps the default. */
static int format_ipv6_mode(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	if (!n->subnet6.family && !n->subnet6_auto && n->ipv6_mode == IPV6_MODE_SLAAC)
		return 0;
	return fmt(buf, size, ipv6_mode_to_string(n->ipv6_mode));
}

/* --nat6 and --no-nat6 are one request parameter, "nat6"; the file keeps what was given (its
 * absence: the mode and the prefix decide), show says what is in force. */
static int parse_nat6(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);
	bool b;
	int r = schema_parse_bool("nat6", v, &b, err, errlen);

	if (r >= 0)
		n->nat6_given = b;
	return r;
}

static int format_nat6_given(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return n->nat6_given >= 0 ? fmt(buf, size, n->nat6_given ? "yes" : "no") : 0;
}

static int format_nat6(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return n->subnet6.family ? fmt(buf, size, n->nat6 ? "yes" : "no") : 0;
}

static int parse_gateway(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);
	int family;

	if (ip_addr_parse(v, &family, &n->gateway) < 0 || family != AF_INET)
		return schema_invalid(err, errlen, "gateway", v, "expected an IPv4 address");
	n->has_gateway = true;
	return 0;
}

static int format_gateway(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return n->has_gateway ? fmt(buf, size, ip_addr_format(AF_INET, &n->gateway, buf, size)) : 0;
}

/* More IPv4 subnets: network_validate() checks each against the others. */
static int parse_address(void *obj, const char *v, char *err, size_t errlen)
{
	return network_address_add(obj, v, err, errlen);
}

static int format_address(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return i < n->n_addresses ? fmt(buf, size, ip_prefix_format(&n->addresses[i], buf, size)) : 0;
}

static int parse_host_port(void *obj, const char *v, char *err, size_t errlen)
{
	return network_host_port_add(obj, v, err, errlen);
}

static int format_host_port(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return i < n->n_host_ports ? fmt(buf, size, l4_port_format(&n->host_ports[i], buf, size)) : 0;
}

static int parse_mac(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);

	if (mac_parse(v, &n->mac) < 0)
		return schema_invalid(err, errlen, "MAC", v, "expected six hex pairs like 52:54:00:12:34:56");
	n->has_mac = true;
	return 0;
}

static int format_mac(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return n->has_mac ? fmt(buf, size, mac_format(&n->mac, buf, size)) : 0;
}

/* ---- [dhcp] ---- */

static int parse_range(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);

	/* "static": reserved hosts only (network_validate: not with START-END ranges) */
	if (!strcmp(v, "static")) {
		if (n->dhcp.static_only)
			return schema_error(err, errlen, "DHCP range 'static' is given twice");
		n->dhcp.static_only = true;
		return 0;
	}
	if (n->dhcp.n_ranges >= DHCP_RANGES_MAX) {
		snprintf(err, errlen, "too many DHCP ranges (at most %d)", DHCP_RANGES_MAX);
		return -E2BIG;
	}
	if (dhcp_range_parse(v, &n->dhcp.ranges[n->dhcp.n_ranges], err, errlen) < 0)
		return -EINVAL;
	n->dhcp.n_ranges++;
	return 0;
}

static int format_range(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (n->dhcp.static_only && i == n->dhcp.n_ranges)
		return fmt(buf, size, "static");
	if (i >= n->dhcp.n_ranges)
		return 0;
	snprintf(buf, size, "%s-%s", ip_addr_format(AF_INET, &n->dhcp.ranges[i].start, a, sizeof(a)),
		 ip_addr_format(AF_INET, &n->dhcp.ranges[i].end, b, sizeof(b)));
	return 1;
}

static int parse_range6(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);

	if (n->dhcp.n_ranges6 >= DHCP_RANGES_MAX) {
		snprintf(err, errlen, "too many DHCPv6 ranges (at most %d)", DHCP_RANGES_MAX);
		return -E2BIG;
	}
	if (dhcp_range6_parse(v, &n->dhcp.ranges6[n->dhcp.n_ranges6], err, errlen) < 0)
		return -EINVAL;
	n->dhcp.n_ranges6++;
	return 0;
}

static int format_range6(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (i >= n->dhcp.n_ranges6)
		return 0;
	snprintf(buf, size, "%s-%s", ip_addr_format(AF_INET6, &n->dhcp.ranges6[i].start, a, sizeof(a)),
		 ip_addr_format(AF_INET6, &n->dhcp.ranges6[i].end, b, sizeof(b)));
	return 1;
}

static int parse_lease_time(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);

	return dhcp_lease_time_parse(v, &n->dhcp.lease_time, err, errlen);
}

static int format_lease_time(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return n->dhcp.lease_time ? fmt(buf, size, dhcp_lease_time_format(n->dhcp.lease_time, buf, size)) : 0;
}

static int parse_dhcp_host(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);
	struct dhcp_host h;
	char m[MAC_STRLEN];
	int r;

	if (dhcp_host_parse(v, &h, err, errlen) < 0)
		return -EINVAL;
	r = dhcp_host_add(&n->dhcp, &h);
	if (r == -EEXIST)
		snprintf(err, errlen, "host %s is reserved twice", mac_format(&h.mac, m, sizeof(m)));
	else if (r == -E2BIG)
		snprintf(err, errlen, "too many host reservations (at most %d)", DHCP_HOSTS_MAX);
	return r;
}

static int format_dhcp_host(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);
	if (i >= n->dhcp.n_hosts)
		return 0;
	dhcp_host_format(&n->dhcp.hosts[i], buf, size);
	return 1;
}

/* A PXE boot file or TFTP root: dhcp/settings.c says what dnsmasq could not read back. */
static int parse_pxe_boot(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);
	const char *why = dhcp_boot_file_invalid_reason(v);

	if (why)
		return schema_invalid(err, errlen, "PXE boot file", v, why);
	snprintf(n->dhcp.pxe_boot, sizeof(n->dhcp.pxe_boot), "%s", v);
	return 0;
}

static int format_pxe_boot(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return fmt(buf, size, n->dhcp.pxe_boot);
}

static int parse_next_server(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);
	int family;

	if (ip_addr_parse(v, &family, &n->dhcp.next_server) < 0 || family != AF_INET)
		return schema_invalid(err, errlen, "next server", v, "expected an IPv4 address");
	n->dhcp.has_next_server = true;
	return 0;
}

static int format_next_server(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return n->dhcp.has_next_server ?
		       fmt(buf, size, ip_addr_format(AF_INET, &n->dhcp.next_server, buf, size)) :
		       0;
}

static int parse_tftp_root(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);
	const char *why = dhcp_tftp_root_invalid_reason(v);

	if (why)
		return schema_invalid(err, errlen, "TFTP root", v, why);
	snprintf(n->dhcp.tftp_root, sizeof(n->dhcp.tftp_root), "%s", v);
	return 0;
}

static int format_tftp_root(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return fmt(buf, size, n->dhcp.tftp_root);
}

/* ---- [dns] ---- */

static int parse_domain(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);

	if (dhcp_domain_check(v, err, errlen) < 0)
		return -EINVAL;
	snprintf(n->dhcp.domain, sizeof(n->dhcp.domain), "%s", v);
	return 0;
}

static int format_domain(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return fmt(buf, size, n->dhcp.domain);
}

static int parse_dns_host(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);
	struct dns_host h;
	int r;

	if (dns_host_parse(v, &h, err, errlen) < 0)
		return -EINVAL;
	r = dns_host_add(&n->dhcp, &h);
	if (r == -E2BIG)
		snprintf(err, errlen, "too many DNS hosts (at most %d)", DNS_HOSTS_MAX);
	return r;
}

static int format_dns_host(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);
	char a[INET6_ADDRSTRLEN];

	if (i >= n->dhcp.n_dns_hosts)
		return 0;
	snprintf(buf, size, "%s,%s",
		 ip_addr_format(n->dhcp.dns_hosts[i].family, &n->dhcp.dns_hosts[i].ip, a, sizeof(a)),
		 n->dhcp.dns_hosts[i].hostname);
	return 1;
}

/* The records, forwarders and raw options of dhcp/dns.c: each row parses with its add function
 * and formats what it reads back. */
#define DNS_LIST_ROW(name, member, add, format_fn)                                  \
	static int parse_##name(void *obj, const char *v, char *err, size_t errlen) \
	{                                                                           \
		NET(obj);                                                           \
		return add(&n->dhcp.dnscfg, v, err, errlen);                        \
	}                                                                           \
	static int format_##name(const void *obj, size_t i, char *buf, size_t size) \
	{                                                                           \
		CNET(obj);                                                          \
		if (i >= n->dhcp.dnscfg.n_##member)                                 \
			return 0;                                                   \
		format_fn(&n->dhcp.dnscfg.member[i], buf, size);                    \
		return 1;                                                           \
	}

static const char *option_format(const struct dnsmasq_option *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s", o->text);
	return buf;
}

DNS_LIST_ROW(dns_srv, srv, dns_srv_add, dns_srv_format)
DNS_LIST_ROW(dns_txt, txt, dns_txt_add, dns_txt_format)
DNS_LIST_ROW(dns_cname, cname, dns_cname_add, dns_pair_format)
DNS_LIST_ROW(dns_ptr, ptr, dns_ptr_add, dns_pair_format)
DNS_LIST_ROW(dns_forwarder, fwd, dns_forwarder_add, dns_forwarder_format)
DNS_LIST_ROW(dnsmasq_option, opts, dnsmasq_option_add, option_format)

/* ADDR or ADDR-ADDR (IPv4, the first not after the last). */
static int parse_nat_address(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);
	char a[INET_ADDRSTRLEN + 1];
	const char *dash = strchr(v, '-');
	size_t len = dash ? (size_t)(dash - v) : strlen(v);
	int fa = 0, fb = 0;

	if (len < sizeof(a)) {
		memcpy(a, v, len);
		a[len] = 0;
	}
	if (len >= sizeof(a) || ip_addr_parse(a, &fa, &n->nat_address_first) < 0 || fa != AF_INET ||
	    ip_addr_parse(dash ? dash + 1 : a, &fb, &n->nat_address_last) < 0 || fb != AF_INET ||
	    ip4_to_host(&n->nat_address_first) > ip4_to_host(&n->nat_address_last))
		return schema_invalid(err, errlen, "NAT address", v,
				      "expected an IPv4 address or a range like 192.0.2.10-192.0.2.20");
	n->has_nat_address = true;
	return 0;
}

static int format_nat_address(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (!n->has_nat_address)
		return 0;
	ip_addr_format(AF_INET, &n->nat_address_first, a, sizeof(a));
	ip_addr_format(AF_INET, &n->nat_address_last, b, sizeof(b));
	if (!strcmp(a, b))
		snprintf(buf, size, "%s", a);
	else
		snprintf(buf, size, "%s-%s", a, b);
	return 1;
}

/* LO-HI, 1-65535, LO not above HI. */
static int parse_nat_ports(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);
	unsigned lo, hi;
	int end = 0;

	if (sscanf(v, "%5u-%5u%n", &lo, &hi, &end) != 2 || v[end] || !lo || lo > hi || hi > 65535 ||
	    strspn(v, "0123456789-") != strlen(v) || v[0] == '0' || strstr(v, "-0"))
		return schema_invalid(err, errlen, "NAT ports", v, "expected a range LO-HI like 1024-65535");
	n->nat_port_lo = lo;
	n->nat_port_hi = hi;
	return 0;
}

static int format_nat_ports(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	if (!n->nat_port_lo)
		return 0;
	snprintf(buf, size, "%u-%u", n->nat_port_lo, n->nat_port_hi);
	return 1;
}

/* ---- [forwards] ---- */

static int parse_forward(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);
	struct nat_forward f;
	char e[SCHEMA_MSG_MAX];
	int r;

	if (nat_forward_parse(v, &f, err, errlen) < 0)
		return -EINVAL;
	r = nat_forwards_add(&n->forwards, &n->n_forwards, &f, e, sizeof(e));
	if (r < 0)
		schema_error(err, errlen, "forward '%s': %s", v, e);
	return r;
}

static int format_forward(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	return i < n->n_forwards ? fmt(buf, size, nat_forward_format(&n->forwards[i], buf, size)) : 0;
}

/* In the order the file is written and --help lists the options. */
static const struct schema_field network_fields[] = {
	/* clang-format off */
	{ .key = "mode", .json = "mode", .flag = "mode", .metavar = "MODE", .label = "mode",
	  .flags = SCHEMA_SHOW | SCHEMA_REQUIRED, .parse = parse_mode, .format = format_mode },
	{ .key = "bridge", .json = "bridge", .flag = "bridge", .metavar = "IFNAME", .label = "bridge name",
	  .flags = SCHEMA_SHOW, SCHEMA_STRING_AT(struct network, bridge), .check = ifname_invalid_reason },
	{ .key = "subnet", .json = "subnet", .flag = "subnet", .metavar = "CIDR|auto|none", .label = "subnet",
	  .flags = SCHEMA_SHOW, .parse = parse_subnet, .format = format_subnet },
	{ .key = "gateway", .json = "gateway", .flag = "gateway", .metavar = "IP", .label = "gateway",
	  .flags = SCHEMA_SHOW, .parse = parse_gateway, .format = format_gateway },
	{ .key = "address", .json = "addresses", .flag = "address", .metavar = "GATEWAY/PREFIX",
	  .label = "address", .flags = SCHEMA_SHOW | SCHEMA_REPEATABLE, .parse = parse_address,
	  .format = format_address },
	{ .key = "subnet6", .json = "subnet6", .flag = "subnet6", .metavar = "PREFIX|auto", .label = "IPv6 prefix",
	  .flags = SCHEMA_SHOW, .parse = parse_subnet6, .format = format_subnet6 },
	{ .json = "gateway6", .label = "IPv6 gateway", .flags = SCHEMA_SHOW, .parse = parse_gateway6,
	  .format = format_gateway6 },
	{ .key = "ipv6-mode", .json = "ipv6_mode", .flag = "ipv6-mode", .metavar = "slaac|dhcpv6|slaac+dhcpv6",
	  .label = "IPv6 mode", .def = "slaac", .flags = SCHEMA_SHOW | SCHEMA_OMIT_DEFAULT,
	  .parse = parse_ipv6_mode, .format = format_ipv6_mode },
	/* Two rows, one parameter: the file's (what was given) and show's (what is in force). */
	{ .key = "nat6", .json = "nat6", .flag = "nat6", .flag_value = "yes", .label = "nat6",
	  .type = SCHEMA_BOOL, .parse = parse_nat6, .format = format_nat6_given },
	{ .json = "nat6", .flag = "no-nat6", .flag_value = "no", .label = "nat6", .type = SCHEMA_BOOL,
	  .flags = SCHEMA_SHOW, .parse = parse_nat6, .format = format_nat6 },
	{ .key = "uplink", .json = "uplink", .flag = "uplink", .metavar = "IFNAME", .label = "uplink name",
	  .flags = SCHEMA_SHOW, SCHEMA_STRING_AT(struct network, uplink), .check = ifname_invalid_reason },
	/* 0: the kernel's; network_validate() has the range */
	{ .key = "mtu", .json = "mtu", .flag = "mtu", .metavar = "N", .label = "MTU",
	  .flags = SCHEMA_SHOW | SCHEMA_ZERO_UNSET, SCHEMA_UINT_AT(struct network, mtu) },
	/* 0: unset (with STP on: NETWORK_FORWARD_DELAY_DEFAULT); network_validate() wants STP on */
	{ .key = "stp", .json = "stp", .flag = "stp", .metavar = "on|off", .label = "STP", .def = "no",
	  .flags = SCHEMA_SHOW | SCHEMA_OMIT_DEFAULT, SCHEMA_BOOL_AT(struct network, stp) },
	{ .key = "forward-delay", .json = "forward_delay", .flag = "forward-delay", .metavar = "SECONDS",
	  .label = "forward delay", .flags = SCHEMA_SHOW | SCHEMA_ZERO_UNSET,
	  .min = NETWORK_FORWARD_DELAY_MIN, .max = NETWORK_FORWARD_DELAY_MAX,
	  SCHEMA_UINT_AT(struct network, forward_delay) },
	{ .key = "allow-host-port", .json = "allow_host_ports", .flag = "allow-host-port",
	  .metavar = "PROTO/PORT", .label = "host port", .flags = SCHEMA_SHOW | SCHEMA_REPEATABLE,
	  .parse = parse_host_port, .format = format_host_port },
	/* nat mode only (network_validate) */
	{ .key = "nat-address", .json = "nat_address", .flag = "nat-address", .metavar = "ADDR[-ADDR]",
	  .label = "NAT address", .flags = SCHEMA_SHOW, .parse = parse_nat_address, .format = format_nat_address },
	{ .key = "nat-ports", .json = "nat_ports", .flag = "nat-ports", .metavar = "LO-HI", .label = "NAT ports",
	  .flags = SCHEMA_SHOW, .parse = parse_nat_ports, .format = format_nat_ports },
	{ .key = "mac", .json = "mac", .label = "MAC", .parse = parse_mac, .format = format_mac },
	{ .key = "autostart", .json = "autostart", .flag = "no-autostart", .flag_value = "no",
	  .label = "autostart", .flags = SCHEMA_SHOW, SCHEMA_BOOL_AT(struct network, autostart) },
	/* clang-format on */
};

static const struct schema_field dhcp_fields[] = {
	/* clang-format off */
	{ .key = "enabled", .json = "dhcp", .flag = "no-dhcp", .flag_value = "no", .label = "dhcp",
	  .def = "yes", .flags = SCHEMA_OMIT_DEFAULT, SCHEMA_BOOL_AT(struct network, dhcp.dhcp) },
	{ .key = "range", .json = "dhcp_ranges", .flag = "dhcp-range", .metavar = "START-END|static",
	  .label = "DHCP range", .flags = SCHEMA_REPEATABLE, .parse = parse_range, .format = format_range },
	{ .key = "range6", .json = "dhcp6_ranges", .flag = "dhcp6-range", .metavar = "START-END",
	  .label = "DHCPv6 range", .flags = SCHEMA_REPEATABLE, .parse = parse_range6, .format = format_range6 },
	{ .key = "lease-time", .json = "lease_time", .flag = "lease-time", .metavar = "DURATION|infinite",
	  .label = "lease time", .parse = parse_lease_time, .format = format_lease_time },
	{ .key = "host", .json = "hosts", .flag = "host", .metavar = "MAC|id:DUID,IP[,IPv6][,HOSTNAME][,LEASE]",
	  .label = "host", .flags = SCHEMA_REPEATABLE, .parse = parse_dhcp_host, .format = format_dhcp_host },
	{ .key = "pxe-boot", .json = "pxe_boot", .flag = "pxe-boot", .metavar = "FILE", .label = "PXE boot file",
	  .flags = SCHEMA_SHOW, .parse = parse_pxe_boot, .format = format_pxe_boot },
	{ .key = "next-server", .json = "next_server", .flag = "next-server", .metavar = "IP", .label = "next server",
	  .flags = SCHEMA_SHOW, .parse = parse_next_server, .format = format_next_server },
	{ .key = "tftp-root", .json = "tftp_root", .flag = "tftp-root", .metavar = "DIR", .label = "TFTP root",
	  .flags = SCHEMA_SHOW, .parse = parse_tftp_root, .format = format_tftp_root },
	/* clang-format on */
};

static const struct schema_field dns_fields[] = {
	/* clang-format off */
	{ .key = "enabled", .json = "dns", .flag = "no-dns", .flag_value = "no", .label = "dns", .def = "yes",
	  .flags = SCHEMA_OMIT_DEFAULT, SCHEMA_BOOL_AT(struct network, dhcp.dns) },
	{ .key = "domain", .json = "domain", .flag = "domain", .metavar = "DOMAIN", .label = "domain",
	  .parse = parse_domain, .format = format_domain },
	{ .key = "local-only", .json = "domain_local_only", .flag = "domain-local-only", .flag_value = "yes",
	  .label = "domain-local-only", .def = "no", .flags = SCHEMA_SHOW | SCHEMA_OMIT_DEFAULT,
	  SCHEMA_BOOL_AT(struct network, dhcp.dnscfg.local_only) },
	{ .key = "register", .json = "register_dns", .flag = "register-dns", .flag_value = "yes",
	  .label = "register-dns", .def = "no", .flags = SCHEMA_OMIT_DEFAULT,
	  SCHEMA_BOOL_AT(struct network, dhcp.dnscfg.register_dns) },
	{ .key = "host", .json = "dns_hosts", .flag = "dns-host", .metavar = "IP,HOSTNAME",
	  .label = "DNS host", .flags = SCHEMA_REPEATABLE, .parse = parse_dns_host,
	  .format = format_dns_host },
	{ .key = "srv", .json = "dns_srv", .flag = "dns-srv",
	  .metavar = "_SERVICE._PROTO[.DOMAIN][,TARGET,PORT[,PRIORITY[,WEIGHT]]]", .label = "SRV record",
	  .flags = SCHEMA_SHOW | SCHEMA_REPEATABLE, .parse = parse_dns_srv, .format = format_dns_srv },
	{ .key = "txt", .json = "dns_txt", .flag = "dns-txt", .metavar = "NAME,TEXT", .label = "TXT record",
	  .flags = SCHEMA_SHOW | SCHEMA_REPEATABLE, .parse = parse_dns_txt, .format = format_dns_txt },
	{ .key = "cname", .json = "dns_cname", .flag = "dns-cname", .metavar = "ALIAS,TARGET", .label = "CNAME",
	  .flags = SCHEMA_SHOW | SCHEMA_REPEATABLE, .parse = parse_dns_cname, .format = format_dns_cname },
	{ .key = "ptr", .json = "dns_ptr", .flag = "dns-ptr", .metavar = "NAME,TARGET", .label = "PTR record",
	  .flags = SCHEMA_SHOW | SCHEMA_REPEATABLE, .parse = parse_dns_ptr, .format = format_dns_ptr },
	{ .key = "forwarder", .json = "dns_forwarders", .flag = "dns-forwarder", .metavar = "[/DOMAIN/]IP[#PORT]|/DOMAIN/[#]",
	  .label = "DNS forwarder", .flags = SCHEMA_SHOW | SCHEMA_REPEATABLE, .parse = parse_dns_forwarder,
	  .format = format_dns_forwarder },
	{ .key = "no-resolv", .json = "no_resolv", .flag = "no-resolv", .flag_value = "yes", .label = "no-resolv",
	  .def = "no", .flags = SCHEMA_SHOW | SCHEMA_OMIT_DEFAULT, SCHEMA_BOOL_AT(struct network, dhcp.dnscfg.no_resolv) },
	/* clang-format on */
};

static const struct schema_field dnsmasq_fields[] = {
	/* clang-format off */
	{ .key = "option", .json = "dnsmasq_options", .flag = "dnsmasq-option", .metavar = "TEXT",
	  .label = "dnsmasq option", .flags = SCHEMA_SHOW | SCHEMA_REPEATABLE, .parse = parse_dnsmasq_option,
	  .format = format_dnsmasq_option },
	/* clang-format on */
};

static int parse_routed(void *obj, const char *v, char *err, size_t errlen)
{
	NET(obj);

	return schema_parse_bool("routed", v, &n->routed, err, errlen);
}

/* null in show for a mode without it ("routed": false would be wrong of a routed network). */
static int format_routed(const void *obj, size_t i, char *buf, size_t size)
{
	CNET(obj);

	if (!n->routed && (!n->mode || !n->mode->vxlan))
		return 0;
	return fmt(buf, size, n->routed ? "yes" : "no");
}

/* Mode evpn's (network_validate refuses them with any other mode). */
static const struct schema_field evpn_fields[] = {
	/* clang-format off */
	{ .key = "vni", .json = "vni", .flag = "vni", .metavar = "N", .label = "VNI",
	  .flags = SCHEMA_SHOW | SCHEMA_ZERO_UNSET, .min = NETWORK_VNI_MIN, .max = NETWORK_VNI_MAX,
	  SCHEMA_UINT_AT(struct network, vni) },
	{ .key = "routed", .json = "routed", .flag = "routed", .flag_value = "yes", .label = "routed",
	  .def = "no", .type = SCHEMA_BOOL, .flags = SCHEMA_SHOW | SCHEMA_OMIT_DEFAULT,
	  .parse = parse_routed, .format = format_routed },
	/* clang-format on */
};

/* Changed by 'netdctl network forward add|remove' (forward-methods.c), not by options. */
static const struct schema_field forward_fields[] = {
	/* clang-format off */
	{ .key = "forward", .json = "forwards", .label = "forward", .flags = SCHEMA_REPEATABLE | SCHEMA_SHOW,
	  .parse = parse_forward, .format = format_forward },
	/* clang-format on */
};

static const struct schema_section network_sections[] = {
	{ "network", network_fields, ELEMENTSOF(network_fields) },
	{ "dhcp", dhcp_fields, ELEMENTSOF(dhcp_fields) },
	{ "dns", dns_fields, ELEMENTSOF(dns_fields) },
	{ "dnsmasq", dnsmasq_fields, ELEMENTSOF(dnsmasq_fields) },
	{ "evpn", evpn_fields, ELEMENTSOF(evpn_fields) },
	{ "forwards", forward_fields, ELEMENTSOF(forward_fields) },
};

const struct schema network_schema = { "network", network_sections, ELEMENTSOF(network_sections) };
