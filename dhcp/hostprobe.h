/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What 'netdctl doctor' asks the host beyond links (bridge/link.h) and nftables (nat/firewall.h):
 * the conntrack table's fill, the UDP sockets a process holds, and a real DHCP/DNS probe of a
 * network from a scratch port. One backend, the real one (hostprobe-real.c) and a fake
 * (hostprobe-fake.c) for tests/unit/test-daemon.c; the packets are pure (hostprobe-packet.c).
 *
 * The real probe (hostprobe-real.c): a child of netd makes a network namespace of its own, a veth
 * pair with one end in it (random locally administered MAC, IPv6 off) and the other a port of
 * the bridge, sends a DHCPDISCOVER (broadcast flag set; never a REQUEST, so no lease is taken),
 * and with the offered address (on its own end, for the moment of the query) a DNS query to the
 * gateway; it deletes the host end and the neighbour entry the query left on the bridge, and
 * exits, which takes the namespace and anything left in it. It ends itself after
 * PROBE_TIMEOUT_MS (alarm), and netd kills it a little later.
 */
#pragma once

#include <netinet/in.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "mac.h"

#define PROBE_TIMEOUT_MS 2000
/* The name the DNS query asks for, in class CHAOS (TXT): dnsmasq answers it itself, so the answer
 * does not wait on the host's upstream resolvers (a name of its own would be forwarded to them, and
 * an upstream that never answers would make a working dnsmasq look dead). Any answer counts. */
#define PROBE_DNS_NAME "version.bind"

/* A UDP socket a process holds: where it is bound, and to which interface (SO_BINDTODEVICE is not
 * in /proc/net/udp: ifname is left empty by the real backend). */
struct probe_udp {
	int family;
	union in_addr_union addr; /* 0.0.0.0 or :: when bound to every address */
	uint16_t port;
};

struct probe_spec {
	char bridge[IFNAMSIZ];
	int bridge_ifindex;
	struct in_addr gateway; /* where the DNS query goes; the OFFER must come from it */
	struct in_addr subnet; /* the offered address must lie in subnet/prefixlen */
	uint8_t prefixlen;
	bool dhcp; /* send a DHCPDISCOVER */
	bool dns; /* query the gateway (from the offered address) */
};

enum probe_outcome {
	PROBE_NOT_RUN = 0, /* not asked, or not reached (an earlier part failed) */
	PROBE_ANSWERED,
	PROBE_NO_ANSWER, /* nothing within the timeout */
	PROBE_FAILED, /* the probe itself could not run: error says why */
};

struct probe_result {
	enum probe_outcome dhcp, dns;
	struct in_addr offered, server; /* of the OFFER */
	int dns_rcode;
	uint32_t dhcp_ms, dns_ms;
	char error[200];
};

struct probe_ops {
	/* nf_conntrack_count and nf_conntrack_max (of netd's namespace); -ENOENT: no conntrack. */
	int (*conntrack)(void *userdata, uint64_t *ret_count, uint64_t *ret_max);
	/* The UDP sockets (IPv4 and IPv6) process pid holds; free(*ret). */
	int (*udp_sockets)(void *userdata, pid_t pid, struct probe_udp **ret, size_t *ret_n);
	/* Start the probe: *ret_fd (O_CLOEXEC, non-blocking) becomes readable when it ended. */
	int (*start)(void *userdata, const struct probe_spec *spec, int *ret_fd);
	/* Its result (after *ret_fd became readable, or on a timeout: then it is ended now); closes
	 * the fd. */
	int (*finish)(void *userdata, int fd, struct probe_result *ret);
};

struct probe_backend {
	const struct probe_ops *ops;
	void *userdata;
};

int probe_real_open(struct probe_backend *ret);
void probe_real_close(struct probe_backend *b);

/* The fake: a log line per probe; what it answers is set by the test. */
struct probe_fake;
int probe_fake_new(struct probe_fake **ret, struct probe_backend *ret_backend);
void probe_fake_free(struct probe_fake *f);
const char *probe_fake_log(struct probe_fake *f);
void probe_fake_clear_log(struct probe_fake *f);
/* count and max; max 0: no conntrack (-ENOENT). */
void probe_fake_set_conntrack(struct probe_fake *f, uint64_t count, uint64_t max);
/* What every pid holds: n sockets (copied); the default is none. */
void probe_fake_set_sockets(struct probe_fake *f, const struct probe_udp *s, size_t n);
/* What the next probes find. */
void probe_fake_set_result(struct probe_fake *f, const struct probe_result *r);

/* The packets (pure). */
#define PROBE_DHCP_MAX 576
/* A DHCPDISCOVER from mac with transaction xid, broadcast flag set, as an IPv4/UDP datagram
 * 0.0.0.0:68 -> 255.255.255.255:67 (the IP header included: it goes out of a packet socket).
 * Returns its length. */
size_t probe_dhcp_discover(uint8_t *buf, size_t size, const struct mac *mac, uint32_t xid);
/* An IPv4 datagram (IP header first): 0 with the OFFER's yiaddr, server identifier and subnet
 * mask (0 when absent) when it is a DHCPOFFER for xid and mac, else -EINVAL. */
int probe_dhcp_offer_parse(const uint8_t *buf, size_t len, const struct mac *mac, uint32_t xid,
			   struct in_addr *ret_yiaddr, struct in_addr *ret_server, uint8_t *ret_prefixlen);
/* A DNS query (class CHAOS, type TXT, recursion desired) for name with id. Returns its length, 0 if it does not
 * fit. */
size_t probe_dns_query(uint8_t *buf, size_t size, uint16_t id, const char *name);
/* The response code of a response to id, or -EINVAL. */
int probe_dns_response_parse(const uint8_t *buf, size_t len, uint16_t id);
