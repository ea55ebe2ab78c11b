/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DHCP and DNS settings of a network, as values: parsing of what a user types, validation
 * against the subnet, and rendering of dnsmasq's config, hosts file and DNS hosts file.
 * Pure: no files, no processes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "mac.h"

#define DHCP_RANGES_MAX 16
/* RFC 8415 11.1: a DUID is at most 128 octets after its 2-octet type. */
#define DHCP_DUID_MAX 130
#define DHCP_DUID_MIN 3
/* "xx:" per octet, less the last colon, and a NUL. */
#define DHCP_DUID_STRLEN (DHCP_DUID_MAX * 3)
#define DHCP_HOSTS_MAX 256
#define DNS_HOSTS_MAX 256
#define DNS_LABEL_MAX 63
#define DNS_NAME_MAX 253

#define DHCP_LEASE_TIME_DEFAULT 3600u
#define DHCP_LEASE_TIME_MIN 120u
#define DHCP_LEASE_TIME_MAX (30u * 86400u)

struct dhcp_range {
	union in_addr_union start, end; /* IPv4, inclusive */
};

struct dhcp_range6 {
	union in_addr_union start, end; /* IPv6, inclusive */
};

/* A DHCPv6 client's identity, as octets. */
struct dhcp_duid {
	uint8_t len; /* 0: none */
	uint8_t bytes[DHCP_DUID_MAX];
};

/*
 * A reservation: this client always gets these addresses (and name). The client is a MAC (DHCPv4,
 * and DHCPv6 where dnsmasq learns the MAC: directly attached clients) or a DUID (DHCPv6 only):
 * "MAC,IPv4[,NAME]", "MAC,IPv6[,NAME]", "MAC,IPv4,IPv6[,NAME]", "id:DUID,IPv6[,NAME]".
 */
struct dhcp_host {
	struct mac mac; /* zero for a reservation by DUID */
	struct dhcp_duid duid; /* len 0 for a reservation by MAC */
	bool has_ip, has_ip6;
	union in_addr_union ip; /* IPv4, when has_ip */
	union in_addr_union ip6; /* when has_ip6 */
	char hostname[DNS_LABEL_MAX + 1]; /* "" for none */
};

/* The text of a reservation, as dhcp_host_parse reads it back. */
#define DHCP_HOST_STRLEN (DHCP_DUID_STRLEN + 3 + INET_ADDRSTRLEN + INET6_ADDRSTRLEN + DNS_LABEL_MAX + 4)

/* An extra DNS record served on the network. */
struct dns_host {
	union in_addr_union ip;
	char hostname[DNS_NAME_MAX + 1];
};

struct dhcp_settings {
	bool dhcp;	     /* serve DHCP */
	bool dns;	     /* serve DNS (port 53 on the gateway) */
	uint32_t lease_time; /* seconds; 0: DHCP_LEASE_TIME_DEFAULT */
	char domain[DNS_NAME_MAX + 1];
	struct dhcp_range ranges[DHCP_RANGES_MAX]; /* none: the whole subnet minus the gateway */
	size_t n_ranges;
	/* DHCPv6 ranges (ipv6-mode dhcpv6 or slaac+dhcpv6); none: PREFIX::2 to PREFIX::ffff */
	struct dhcp_range6 ranges6[DHCP_RANGES_MAX];
	size_t n_ranges6;
	/* Grown as needed (at most DHCP_HOSTS_MAX / DNS_HOSTS_MAX): most networks have none, and a
	 * fixed array of the maximum made every definition 90 KB. */
	struct dhcp_host *hosts;
	size_t n_hosts;
	struct dns_host *dns_hosts;
	size_t n_dns_hosts;
};

void dhcp_settings_init(struct dhcp_settings *s);
/* Free the host arrays; the settings are empty (n_hosts 0) afterwards. */
void dhcp_settings_done(struct dhcp_settings *s);
/* dst (uninitialised) becomes a deep copy of src. -ENOMEM leaves dst without hosts. */
int dhcp_settings_copy(struct dhcp_settings *dst, const struct dhcp_settings *src);
bool dhcp_settings_equal(const struct dhcp_settings *a, const struct dhcp_settings *b);
/* Only the reservations and DNS hosts differ: dnsmasq takes them with SIGHUP, no restart. */
bool dhcp_settings_equal_but_hosts(const struct dhcp_settings *a, const struct dhcp_settings *b);

/* Parsers of one user value; on failure a message naming the value is written into err. */
int dhcp_range_parse(const char *s, struct dhcp_range *ret, char *err, size_t errlen);
/* "START-END" with IPv6 addresses. */
int dhcp_range6_parse(const char *s, struct dhcp_range6 *ret, char *err, size_t errlen);
int dhcp_host_parse(const char *s, struct dhcp_host *ret, char *err, size_t errlen);
/* What dhcp_host_parse reads back; "" when size is too small. */
const char *dhcp_host_format(const struct dhcp_host *h, char *buf, size_t size);
/* "00:01:00:01:..." (hex octets, 1 or 2 digits each, colons between): 3 to 130 octets. */
int dhcp_duid_parse(const char *s, struct dhcp_duid *ret);
/* Lower-case hex octets with colons, as dnsmasq writes them; size DHCP_DUID_STRLEN. */
const char *dhcp_duid_format(const struct dhcp_duid *d, char *buf, size_t size);
bool dhcp_duid_equal(const struct dhcp_duid *a, const struct dhcp_duid *b);
int dns_host_parse(const char *s, struct dns_host *ret, char *err, size_t errlen);
/* "3600", "90s", "30m", "1h", "7d". */
int dhcp_lease_time_parse(const char *s, uint32_t *ret, char *err, size_t errlen);
/* The shortest exact form: "1h", "90m", "45s". */
const char *dhcp_lease_time_format(uint32_t secs, char *buf, size_t size);
int dhcp_domain_check(const char *s, char *err, size_t errlen);
/* Why a single DNS label / a dotted DNS name is invalid; NULL when valid. */
const char *dns_label_invalid_reason(const char *s);
const char *dns_name_invalid_reason(const char *s);
/* Why a reservation's hostname is invalid: not a DNS label, or a word dnsmasq reads as a keyword
 * or a lease time in a dhcp-host line (ignore, infinite, 120, 12h); NULL when valid. */
const char *dhcp_hostname_invalid_reason(const char *s);

/* -EEXIST: the MAC (or DUID) is reserved already; -E2BIG: DHCP_HOSTS_MAX reached. */
int dhcp_host_add(struct dhcp_settings *s, const struct dhcp_host *h);
/* -E2BIG: DNS_HOSTS_MAX reached. */
int dns_host_add(struct dhcp_settings *s, const struct dns_host *h);
int dhcp_host_remove(struct dhcp_settings *s, const struct mac *mac);
const struct dhcp_host *dhcp_host_find(const struct dhcp_settings *s, const struct mac *mac);
const struct dhcp_host *dhcp_host_find_duid(const struct dhcp_settings *s, const struct dhcp_duid *duid);
int dhcp_host_remove_duid(struct dhcp_settings *s, const struct dhcp_duid *duid);

/*
 * The ranges dnsmasq serves: the configured ones, after the subnet's hosts minus the gateway (one
 * or two ranges) when none of them lies in subnet (the network's first: a range of one of its
 * other subnets does not take the first one's default away). Returns the count written to ret.
 */
#define DHCP_RANGES_EFFECTIVE_MAX (DHCP_RANGES_MAX + 2)
size_t dhcp_ranges_effective(const struct dhcp_settings *s, const struct ip_prefix *subnet,
			     const union in_addr_union *gateway,
			     struct dhcp_range ret[DHCP_RANGES_EFFECTIVE_MAX]);

/* The DHCPv6 ranges dnsmasq serves: the configured ones, or PREFIX::2 to PREFIX::ffff (clipped to
 * the prefix). Returns the count written to ret. */
size_t dhcp_ranges6_effective(const struct dhcp_settings *s, const struct ip_prefix *subnet6,
			      struct dhcp_range6 ret[DHCP_RANGES_MAX]);

/*
 * Check the settings against the network's subnet and gateway (subnet family 0: no IPv4, and then
 * no IPv4 range or reservation), and the reservations against each other.
 */
int dhcp_settings_validate(const struct dhcp_settings *s, const struct ip_prefix *subnet,
			   const union in_addr_union *gateway, char *err, size_t errlen);
/* The same for a network of several IPv4 subnets, each given as its gateway with the subnet's
 * prefix length (10.1.1.1/24), the first subnet first (n 0: no IPv4): a range lies in the hosts of
 * one of them and covers none of the gateways, a reservation is a host address of one of them. */
int dhcp_settings_validate_subnets(const struct dhcp_settings *s, const struct ip_prefix *gateways,
				   size_t n_gateways, char *err, size_t errlen);

/* How a network's guests get IPv6 addresses (a network's ipv6-mode). */
enum dhcp_ipv6_mode {
	DHCP_IPV6_MODE_SLAAC, /* RA with the A flag; stateless DHCPv6 for DNS */
	DHCP_IPV6_MODE_DHCPV6, /* RA with the M flag, addresses from the DHCPv6 ranges */
	DHCP_IPV6_MODE_SLAAC_DHCPV6, /* both: a SLAAC and a DHCPv6 address */
	_DHCP_IPV6_MODE_MAX,
};

/* The IPv6 half: ranges6 and IPv6 reservations against subnet6 (family 0: no IPv6, then none may
 * be given), its gateway6 and the mode. */
int dhcp_settings_validate6(const struct dhcp_settings *s, const struct ip_prefix *subnet6,
			    const union in_addr_union *gateway6, enum dhcp_ipv6_mode mode, char *err,
			    size_t errlen);

/* What the dnsmasq config needs besides the settings. */
struct dhcp_render_ctx {
	const char *network;
	const char *bridge;
	int bridge_ifindex; /* dnsmasq binds to this bridge: a new one (a new ifindex) needs a new dnsmasq */
	struct ip_prefix subnet;
	union in_addr_union gateway;
	/* The network's other IPv4 subnets, each its gateway with the subnet's length (10.1.1.1/24):
	 * a range in one of them gets its netmask, and dnsmasq its gateway as router and DNS server. */
	const struct ip_prefix *addresses;
	size_t n_addresses;
	bool router;	  /* hand out the gateway as default route (false for isolated) */
	bool dns_forward; /* forward other DNS queries upstream (false for isolated) */
	/* IPv6 (subnet6.family 0: none). subnet.family 0: IPv6 only, no DHCPv4. */
	struct ip_prefix subnet6;
	union in_addr_union gateway6;
	int ipv6_mode; /* enum dhcp_ipv6_mode */
	bool ra_router; /* RAs announce a default route; false: router lifetime 0 (isolated) */
	uint32_t mtu; /* the MTU the RAs announce; 0: none */
	const char *lease_file;
	const char *hosts_file;
	const char *addn_hosts_file;
	const char *script; /* the lease-event helper, NULL for none */
	const char *servers_file; /* the upstream resolvers (dhcp_servers_render), when dns_forward */
};

/* dnsmasq's config file; caller frees. -EINVAL if a value would break the file's syntax. */
int dhcp_config_render(const struct dhcp_settings *s, const struct dhcp_render_ctx *ctx, char **ret);
/* --dhcp-hostsfile: "MAC|id:DUID[,IPv4][,[IPv6]][,HOSTNAME]" per line. */
int dhcp_hosts_render(const struct dhcp_settings *s, char **ret);
/* --addn-hosts: "IP HOSTNAME" per line. */
int dhcp_addn_hosts_render(const struct dhcp_settings *s, char **ret);
/* --servers-file: "server=ADDRESS" for each valid "nameserver ADDRESS" of a resolv.conf text
 * (IPv4, IPv6, IPv6%IFNAME); the rest is skipped, as dnsmasq skips it. */
int dhcp_servers_render(const char *resolv_conf, char **ret);
