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
/* "infinite": dnsmasq's lease that never expires (its 0xffffffff). */
#define DHCP_LEASE_TIME_INFINITE UINT32_MAX
/* The BOOTP file field holds 128 bytes with the terminating NUL. */
#define DHCP_BOOT_FILE_MAX 127
#define DHCP_TFTP_ROOT_MAX 512

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
 * A reservation: this client always gets these addresses (and name, and lease time). The client is
 * a MAC (DHCPv4, and DHCPv6 where dnsmasq learns the MAC: directly attached clients) or a DUID
 * (DHCPv6 only): "MAC,IPv4[,NAME][,LEASE]", "MAC,IPv6[,NAME][,LEASE]", "MAC,IPv4,IPv6[,NAME][,LEASE]",
 * "id:DUID,IPv6[,NAME][,LEASE]". NAME is a label (web) or a full name (web.example.com).
 */
struct dhcp_host {
	struct mac mac; /* zero for a reservation by DUID */
	struct dhcp_duid duid; /* len 0 for a reservation by MAC */
	bool has_ip, has_ip6;
	union in_addr_union ip; /* IPv4, when has_ip */
	union in_addr_union ip6; /* when has_ip6 */
	char hostname[DNS_NAME_MAX + 1]; /* "" for none; a label or a full name */
	uint32_t lease_time; /* 0: the network's; seconds, or DHCP_LEASE_TIME_INFINITE */
};

/* The text of a reservation, as dhcp_host_parse reads it back. */
#define DHCP_HOST_STRLEN \
	(DHCP_DUID_STRLEN + 3 + INET_ADDRSTRLEN + INET6_ADDRSTRLEN + DNS_NAME_MAX + sizeof("infinite") + 5)

/* An extra DNS record served on the network: an A or (family AF_INET6) AAAA record. */
struct dns_host {
	int family; /* AF_INET or AF_INET6 */
	union in_addr_union ip;
	char hostname[DNS_NAME_MAX + 1];
};

/*
 * The DNS part beyond domain and hosts (dhcp/dns.c): records, forwarders, what the domain means,
 * and the raw dnsmasq options of the escape hatch. Each parser memsets what it fills, so the
 * arrays compare with memcmp.
 */
#define DNS_RECORDS_MAX 256 /* of each kind */
#define DNS_TXT_MAX 255 /* one character-string of a TXT record */
#define DNSMASQ_OPTIONS_MAX 64
#define DNSMASQ_OPTION_MAX 512

/* srv-host: "_service._proto[.domain]", with a target and port unless the service is absent. */
struct dns_srv {
	char name[DNS_NAME_MAX + 1];
	char target[DNS_NAME_MAX + 1]; /* "": no target, the service is not offered */
	unsigned port, priority, weight;
};

struct dns_txt {
	char name[DNS_NAME_MAX + 1];
	char text[DNS_TXT_MAX + 1]; /* printable ASCII */
};

/* A CNAME (name: the alias) or a PTR record (name: e.g. 10.0.60.10.in-addr.arpa). */
struct dns_pair {
	char name[DNS_NAME_MAX + 1];
	char target[DNS_NAME_MAX + 1];
};

/* server=[/DOMAIN/]ADDRESS[#PORT], or server=/DOMAIN/ (family 0: the domain is answered locally only). */
struct dns_forwarder {
	char domain[DNS_NAME_MAX + 1]; /* "": every name */
	int family; /* AF_INET, AF_INET6, or 0 for none */
	union in_addr_union addr;
	unsigned port; /* 0: 53 */
	bool usual; /* "/DOMAIN/#": the domain goes to the host's usual servers (no family) */
};

struct dnsmasq_option {
	char text[DNSMASQ_OPTION_MAX + 1]; /* "name" or "name=value", an allowed option */
};

struct dns_config {
	bool local_only; /* names under the domain are never forwarded (local=/DOMAIN/) */
	bool register_dns; /* systemd-resolved: the gateway and ~DOMAIN on the bridge */
	bool no_resolv; /* not the host's resolvers */
	struct dns_srv *srv;
	size_t n_srv;
	struct dns_txt *txt;
	size_t n_txt;
	struct dns_pair *cname, *ptr;
	size_t n_cname, n_ptr;
	struct dns_forwarder *fwd;
	size_t n_fwd;
	struct dnsmasq_option *opts;
	size_t n_opts;
};

struct dhcp_settings {
	bool dhcp;	     /* serve DHCP */
	bool dns;	     /* serve DNS (port 53 on the gateway) */
	uint32_t lease_time; /* seconds; 0: DHCP_LEASE_TIME_DEFAULT */
	char domain[DNS_NAME_MAX + 1];
	struct dhcp_range ranges[DHCP_RANGES_MAX]; /* none: the whole subnet minus the gateway */
	size_t n_ranges;
	bool static_only; /* range = static: no dynamic range, answer reserved hosts only (IPv4) */
	/* PXE: the boot file (BOOTP file field), the TFTP server given with it (has_next_server;
	 * otherwise dnsmasq gives its own address, the gateway), dnsmasq's TFTP root ("": no TFTP). */
	char pxe_boot[DHCP_BOOT_FILE_MAX + 1];
	bool has_next_server;
	union in_addr_union next_server;
	char tftp_root[DHCP_TFTP_ROOT_MAX + 1];
	/* DHCPv6 ranges (ipv6-mode dhcpv6 or slaac+dhcpv6); none: PREFIX::2 to PREFIX::ffff */
	struct dhcp_range6 ranges6[DHCP_RANGES_MAX];
	size_t n_ranges6;
	/* Grown as needed (at most DHCP_HOSTS_MAX / DNS_HOSTS_MAX): most networks have none, and a
	 * fixed array of the maximum made every definition 90 KB. */
	struct dhcp_host *hosts;
	size_t n_hosts;
	struct dns_host *dns_hosts;
	size_t n_dns_hosts;
	struct dns_config dnscfg; /* records, forwarders, the escape hatch (dhcp/dns.c) */
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
/* "3600", "90s", "30m", "1h", "7d", "infinite" (DHCP_LEASE_TIME_INFINITE). */
int dhcp_lease_time_parse(const char *s, uint32_t *ret, char *err, size_t errlen);
/* The shortest exact form: "1h", "90m", "45s", "infinite". */
const char *dhcp_lease_time_format(uint32_t secs, char *buf, size_t size);
int dhcp_domain_check(const char *s, char *err, size_t errlen);
/* Why a single DNS label / a dotted DNS name is invalid; NULL when valid. */
const char *dns_label_invalid_reason(const char *s);
const char *dns_name_invalid_reason(const char *s);
/* Why a reservation's hostname is invalid: not a DNS label or name, a first label dnsmasq reads
 * as a keyword or a lease time in a dhcp-host line (ignore, infinite, 120, 12h), or a last label
 * of digits only (1.2.3.4 is an address); NULL when valid. */
const char *dhcp_hostname_invalid_reason(const char *s);
/* Why a PXE boot file name or a TFTP root cannot be written to dnsmasq; NULL when valid. */
const char *dhcp_boot_file_invalid_reason(const char *s);
const char *dhcp_tftp_root_invalid_reason(const char *s);
/* The boot file dnsmasq's own TFTP serves, below tftp_root (NULL: none, i.e. no tftp-root, another
 * next-server or a URL); what netd checks dnsmasq's user can read. */
const char *dhcp_boot_file_local(const struct dhcp_settings *s, const union in_addr_union *gateway);

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
	/* A network across hosts (mode evpn): the reservations of the guests EVPN places on other
	 * hosts (dhcp_remote_hosts_render), a hosts file of their own; NULL for none. With it dnsmasq
	 * pings an address before offering it (a guest elsewhere whose route is not here yet). */
	const char *remote_hosts_file;
	const char *script; /* the lease-event helper, NULL for none */
	const char *servers_file; /* the upstream resolvers (dhcp_servers_render), when dns_forward */
};

/* dnsmasq's config file; caller frees. -EINVAL if a value would break the file's syntax. */
int dhcp_config_render(const struct dhcp_settings *s, const struct dhcp_render_ctx *ctx, char **ret);
/* --dhcp-hostsfile: "MAC|id:DUID[,IPv4][,[IPv6]][,HOSTNAME]" per line. */
int dhcp_hosts_render(const struct dhcp_settings *s, char **ret);
/* --addn-hosts: "IP HOSTNAME" per line. */
int dhcp_addn_hosts_render(const struct dhcp_settings *s, char **ret);
/* A guest on another host of a network across hosts, as the kernel's neighbour entry has it. */
struct dhcp_remote_host {
	struct mac mac;
	union in_addr_union ip; /* IPv4 */
};
/* The remote guests' hosts file: "MAC,IPv4" per line, sorted by address, one line per address
 * (the lowest MAC of an address given twice: a guest moving). -EINVAL for a MAC that is zero or
 * multicast or the address 0.0.0.0: nothing else can be written. h is sorted in place. */
int dhcp_remote_hosts_render(struct dhcp_remote_host *h, size_t n, char **ret);
/* ---- dhcp/dns.c: the DNS records, forwarders and dnsmasq options of struct dns_config ---- */
void dns_config_done(struct dns_config *c);
/* dst (uninitialised) becomes a deep copy; -ENOMEM leaves it empty. */
int dns_config_copy(struct dns_config *dst, const struct dns_config *src);
bool dns_config_equal(const struct dns_config *a, const struct dns_config *b);
/* Each parses one user value and appends it (-E2BIG past the maximum, -EEXIST for a CNAME alias
 * given twice); the message names the value. */
int dns_srv_add(struct dns_config *c, const char *s, char *err, size_t errlen);
int dns_txt_add(struct dns_config *c, const char *s, char *err, size_t errlen);
int dns_cname_add(struct dns_config *c, const char *s, char *err, size_t errlen);
int dns_ptr_add(struct dns_config *c, const char *s, char *err, size_t errlen);
int dns_forwarder_add(struct dns_config *c, const char *s, char *err, size_t errlen);
int dnsmasq_option_add(struct dns_config *c, const char *s, char *err, size_t errlen);
/* name is domain or a name under it (case ignored). */
bool dns_name_under(const char *name, const char *domain);
/* What the parsers read back ("" when buf is too small). */
const char *dns_srv_format(const struct dns_srv *r, char *buf, size_t size);
const char *dns_txt_format(const struct dns_txt *r, char *buf, size_t size);
const char *dns_pair_format(const struct dns_pair *r, char *buf, size_t size);
const char *dns_forwarder_format(const struct dns_forwarder *r, char *buf, size_t size);
/* Why a raw dnsmasq option line is refused (not on the allow-list, or not one option line that
 * dnsmasq reads back as written); NULL when it passes. */
const char *dnsmasq_option_invalid_reason(const char *s);
/* The rules between them and the rest of the settings (a domain for local-only and register, DNS
 * on, no forwarder to the gateway itself); gateway/gateway6 may be NULL. */
int dns_config_validate(const struct dhcp_settings *s, const union in_addr_union *gateway,
			const union in_addr_union *gateway6, char *err, size_t errlen);
/* Whether dnsmasq asks the host's resolvers (the servers file): a network that forwards, without
 * --no-resolv and without a forwarder for every name. */
bool dns_config_uses_host_resolvers(const struct dhcp_settings *s, bool dns_forward);

/* --servers-file: "server=ADDRESS" for each valid "nameserver ADDRESS" of a resolv.conf text
 * (IPv4, IPv6, IPv6%IFNAME); the rest is skipped, as dnsmasq skips it. */
int dhcp_servers_render(const char *resolv_conf, char **ret);
