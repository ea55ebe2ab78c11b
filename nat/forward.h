/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Port forwards into NAT guests: netd's table "inet netd_fwd". The rules are a fixed handful that
 * look the packet up in verdict-free NAT maps keyed on exact values (listen address . protocol .
 * port -> guest address . port), so a forward that comes or goes is a few map elements, never a
 * rule; a port range is one element per port (hash maps: adding or removing one costs the same at
 * any size, where an interval map's pipapo removal walks the elements before it, nat/DESIGN.md).
 *
 * What a forward is (the definition keeps it as text, one line each: nat_forward_parse/format):
 *   ID PROTO LISTEN PORT[-PORT] TO[:PORT[-PORT]]
 *   1 tcp any 8080 web:80      2 tcp,udp 192.0.2.1 5000-5009 10.0.0.5:6000-6009
 *   3 udp uplink 53 10.0.0.5
 * LISTEN: any (every local address but loopback's), uplink (arriving on the network's uplink
 * interface), or one local address. TO: a guest or DHCP hostname (the feature resolves it to the
 * current lease) or an address. Pure: text in memory, nothing else.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define FWD_FAMILY "inet"
#define FWD_TABLE "netd_fwd"
/* The conntrack mark bit netd_fwd sets on the connections it DNATs (and only those): table inet
 * netd's forward chain lets them through to a network's bridge and back, and no other DNAT
 * (Docker's published ports, a foreign table's) past its isolation. */
#define NAT_FWD_CT_MARK "0x00800000"

/* A forward's ports: at most this many (each is one map element per protocol). */
#define NAT_FWD_RANGE_MAX 1024
/* Forwards of one network. */
#define NAT_FWD_MAX 4096
#define NAT_FWD_NAME_MAX 63
#define NAT_FWD_STRLEN 160

enum { NAT_FWD_TCP = 1, NAT_FWD_UDP = 2 };

enum nat_fwd_listen {
	NAT_FWD_LISTEN_ANY,
	NAT_FWD_LISTEN_ADDR,
	NAT_FWD_LISTEN_UPLINK,
};

struct nat_forward {
	unsigned id; /* 1..: stable, kept in the definition */
	unsigned protos; /* NAT_FWD_TCP | NAT_FWD_UDP */
	enum nat_fwd_listen listen;
	int family; /* AF_INET or AF_INET6: of the listen address and the target */
	union in_addr_union listen_addr; /* NAT_FWD_LISTEN_ADDR */
	uint16_t port, port_end; /* port_end >= port */
	char to_name[NAT_FWD_NAME_MAX + 1]; /* a guest or hostname, or "" */
	union in_addr_union to_addr; /* when to_name is "" */
	uint16_t to_port; /* 0: the same ports as listened on; else the first of as many */
};

/* "ID PROTO LISTEN PORTS TO": one forward; err says why not. */
int nat_forward_parse(const char *s, struct nat_forward *ret, char *err, size_t errlen);
/* The same text back (NAT_FWD_STRLEN is enough). */
const char *nat_forward_format(const struct nat_forward *f, char *buf, size_t size);
/* "tcp", "udp", "tcp,udp". */
const char *nat_fwd_protos_to_string(unsigned protos);
/* "P" or "P-Q" (lo == hi: one port). */
const char *nat_fwd_ports_format(unsigned lo, unsigned hi, char *buf, size_t size);
/* Whether a and b would take a packet of the same protocol, port and listen address (any and an
 * address overlap; uplink overlaps any and every address: the packet's address is a local one). */
bool nat_forward_overlaps(const struct nat_forward *a, const struct nat_forward *b);
/* The number of ports of f and of its target match (a range to a range of the same size). */
bool nat_forward_equal(const struct nat_forward *a, const struct nat_forward *b);

/* One map element: its set, key and data as nft reads them. */
struct nat_fwd_elem {
	char map[16];
	char key[96];
	char data[64]; /* "" for a set element */
};

/* The elements of forward f to address to (of f's family), on a network whose bridge is bridge and
 * uplink uplink ("" none: an uplink forward then has no element); appended to *elems (grown),
 * *n. */
int nat_forward_elements(const struct nat_forward *f, const union in_addr_union *to, const char *uplink,
			 struct nat_fwd_elem **elems, size_t *n);
/* The hairpin element of a bridge and one of its subnets: guests reaching a forward of their own network are
 * masqueraded to the gateway, so the target's replies come back through the host. */
void nat_fwd_hairpin_element(const char *bridge, const struct ip_prefix *subnet, struct nat_fwd_elem *ret);
int nat_fwd_elem_cmp(const struct nat_fwd_elem *a, const struct nat_fwd_elem *b);

/* A nat network's own source NAT (--nat-address, --nat-ports) instead of netd's masquerade: its
 * subnet's traffic leaving the subnet (through its uplink, when it has one) is translated to that
 * address range and those ports. One or two rules of the table each (they are per network: a
 * change of them applies the whole table, which is rare). */
struct nat_snat {
	char bridge[16];
	struct ip_prefix subnet; /* IPv4 */
	char uplink[16]; /* "": any */
	bool has_addr;
	union in_addr_union first, last; /* has_addr */
	uint16_t port_lo, port_hi; /* 0: any */
};
/* One network's --nat-address and --nat-ports as the rules say them ("" none). */
bool nat_snat_equal(const struct nat_snat *a, const struct nat_snat *b);

/* The whole table with these elements and source NAT rules, replacing what is there, in one
 * transaction ("table X", "delete table X", "table X { ... }"). The marker is the comment of set
 * "marker": "netd:fwd:RULES". NULL without memory. */
char *nat_fwd_render(const struct nat_fwd_elem *elems, size_t n, const struct nat_snat *snats,
		     size_t n_snats);
/* How many rules nat_fwd_render's table has. */
size_t nat_fwd_rules(const struct nat_snat *snats, size_t n_snats);
#define NAT_FWD_MARKER_SET "marker"
/* A change: delete gone, add added (one transaction). "" when both are empty. */
char *nat_fwd_render_change(const struct nat_fwd_elem *gone, size_t n_gone, const struct nat_fwd_elem *added,
			    size_t n_added);

/* The first port of [lo, hi] that a socket in a /proc/net/{tcp,udp,tcp6,udp6} text (v6: of the
 * latter) uses on address a (family of the file; NULL: any address) or the wildcard address;
 * listening sockets only for tcp. 0 when none. */
unsigned nat_fwd_socket_port(const char *proc_text, bool tcp, bool v6, const union in_addr_union *a,
			     unsigned lo, unsigned hi);

/* A list of forwards (a network's): add f unless its ID is taken or it overlaps one of them
 * (-EEXIST, with why), or the list is full (-E2BIG); remove by ID (-ENOENT); a deep copy. */
int nat_forwards_add(struct nat_forward **l, size_t *n, const struct nat_forward *f, char *err,
		     size_t errlen);
int nat_forwards_remove(struct nat_forward *l, size_t *n, unsigned id);
int nat_forwards_copy(struct nat_forward **dst, const struct nat_forward *src, size_t n);
/* The ID a new forward gets: one more than the highest. */
unsigned nat_forwards_next_id(const struct nat_forward *l, size_t n);
