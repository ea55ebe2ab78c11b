/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rtnetlink backend: links, addresses and routes through one NETLINK_ROUTE socket (libmnl).
 * Every request asks for an ACK and waits for it, so each call is synchronous and returns the
 * kernel's own errno; the extended-ACK text of the last failure is kept for last_error().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "log.h"
#include "macro.h"
#include "reconcile.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* <linux/if.h>, which clashes with <net/if.h> */
#endif

#define NL_REQ_SIZE 1024
/* The kernel sizes dump batches after the receive buffer; 32 KiB is its cap, keep headroom. */
#define NL_RECV_SIZE (64 * 1024)
#define NL_ALIAS_MAX 255 /* IFALIASZ - 1 */
#define NL_DUMP_TRIES 4
#define NL_BATCH_SIZE (128 * 1024)
#define NL_BATCH_MAX 512
/* IFLA_BR_FORWARD_DELAY counts clock ticks of USER_HZ, 100 on Linux */
#define BR_CLOCK_HZ 100
#define NL_BURST_SAFE 128 /* ACKs that fit the default receive buffer */
#define NL_DESC_SIZE 160
/* The cache's notification socket: room for a burst of changes between two uses (a link's
 * notification carries its statistics, ~4 KiB of buffer each, about 1000 then; an address's or a
 * route's takes less than 1 KiB); past it the cache
 * is dumped again. More would pin kernel memory while netd is idle and others churn links. */
#define NL_CACHE_RCVBUF (2 * 1024 * 1024)
#define NL_CACHE_TRIES 4
#define NL_CACHE_DOWN_MAX 64 /* links that are down read again one by one; more: a dump */
#define NL_CACHE_RELIST_MAX 16 /* links whose addresses are read again after a drain; more: a dump */
/* Routes the cache keeps; a host with more (a routing daemon's full tables) has its routes dumped
 * each time instead: a route notification is matched against its link's routes one by one. */
#define NL_CACHE_ROUTES_MAX 20000

/* An address or a route of the cache, and when (CLOCK_MONOTONIC, ms) its remaining lifetimes were
 * read: they count down without notifications, so a copy subtracts the time since. */
struct cached_addr {
	struct addr_info a;
	uint64_t at;
};

struct cached_route {
	struct route_info r;
	uint64_t at;
};

/* The addresses and routes of one link (routes by their output link, RTA_OIF). */
struct cached_objs {
	struct cached_addr *addrs;
	size_t n_addrs, cap_addrs;
	struct cached_route *routes;
	size_t n_routes, cap_routes;
};

/* A link of the cache, and whether its IFLA_LINK is in another namespace (no notification says
 * when that link comes back, see cache_apply). */
struct cached_link {
	struct link_info l;
	bool lower_elsewhere;
	struct cached_objs o;
};

struct dump_ctx {
	struct link_dump d;
	size_t cap_links, cap_addrs, cap_routes, cap_rules, cap_neighs;
	bool lower_elsewhere; /* of the last link parsed: it has IFLA_LINK_NETNSID */
	bool odd_route; /* of the last route parsed: multipath, a nexthop object, a TOS or a source */
	const char *only; /* dump_of: the addresses, routes and neighbours of this link alone */
};

struct link_nl {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char error[256]; /* extended-ACK text of the last failed request, "" if none */
	_Alignas(struct nlmsghdr) char req[NL_REQ_SIZE];
	_Alignas(struct nlmsghdr) char buf[NL_RECV_SIZE];
	/* A burst being queued (batch_begin .. batch_commit). */
	bool batching;
	unsigned burst_max; /* requests a burst may hold: their ACKs must fit the receive buffer */
	size_t batch_len;
	unsigned batch_n;
	uint32_t batch_seq; /* sequence number of the first queued request */
	char batch_desc[NL_BATCH_MAX][NL_DESC_SIZE];
	_Alignas(struct nlmsghdr) char batch[NL_BATCH_SIZE];
	/* The links, kept from RTNLGRP_LINK notifications on a socket of their own (cache_fd, -1
	 * until the first dump of links; cache_off when it cannot be had): sorted by ifindex. */
	int cache_fd;
	bool cache_off, cache_valid, cache_filling;
	struct cached_link *cache;
	size_t cache_n, cache_cap;
	/* Their addresses and routes come with them (RTNLGRP_IPV{4,6}_{IFADDR,ROUTE}); routes
	 * without an output link (blackhole, unreachable) are kept here. routes_off: a route the
	 * cache does not follow exists (multipath, ...), routes are dumped each time. */
	struct cached_objs unlinked;
	size_t cache_n_addrs, cache_n_routes;
	bool routes_off;
	/* Links with an address of limited lifetime notified since the last drain (relist). */
	int relist[NL_CACHE_RELIST_MAX];
	size_t n_relist;
	struct dump_ctx scratch; /* one link parsed from a notification */
};

/* The notification groups of each kind of change (events_open), all but neighbours for the cache. */
static const struct {
	unsigned what;
	unsigned group;
} event_groups[] = {
	{ LINK_EVENT_LINKS, RTNLGRP_LINK },	    { LINK_EVENT_ADDRS4, RTNLGRP_IPV4_IFADDR },
	{ LINK_EVENT_ADDRS6, RTNLGRP_IPV6_IFADDR }, { LINK_EVENT_ROUTES4, RTNLGRP_IPV4_ROUTE },
	{ LINK_EVENT_ROUTES6, RTNLGRP_IPV6_ROUTE }, { LINK_EVENT_NEIGHS, RTNLGRP_NEIGH },
};

/* Parses one data message of a reply; returns 0 or -errno. */
typedef int (*nl_parse_t)(const struct nlmsghdr *nlh, void *data);

struct nl_call {
	struct link_nl *n;
	uint32_t seq;
	nl_parse_t parse;
	void *data;
	int error;
	bool interrupted; /* NLM_F_DUMP_INTR: the dump may be inconsistent */
};

static void nl_keep_ext_ack(struct link_nl *n, const struct nlmsghdr *nlh, size_t offset)
{
	const struct nlattr *attr;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || offset > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_for_each(attr, nlh, offset) {
		if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG ||
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			continue;
		snprintf(n->error, sizeof(n->error), "%s", mnl_attr_get_str(attr));
	}
}

/* An ACK, an error, or the end of a dump (which carries the dump's error, if any). */
static void nl_status(struct nl_call *c, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t offset = nlh->nlmsg_type == NLMSG_DONE ? sizeof(int) : sizeof(*e);

	if (mnl_nlmsg_get_payload_len(nlh) < offset) {
		c->error = c->error ?: (nlh->nlmsg_type == NLMSG_DONE ? 0 : -EBADMSG);
		return;
	}
	if (e->error >= 0)
		return;
	/* Unless capped, an error echoes our whole request before the TLVs. */
	if (nlh->nlmsg_type == NLMSG_ERROR && !(nlh->nlmsg_flags & NLM_F_CAPPED) &&
	    e->msg.nlmsg_len >= sizeof(struct nlmsghdr))
		offset += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	nl_keep_ext_ack(c->n, nlh, offset);
	c->error = c->error ?: e->error;
}

/* Returns true once the reply is complete. */
static bool nl_dispatch(struct nl_call *c, const struct nlmsghdr *nlh)
{
	int r;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		c->interrupted = true;
	if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
		nl_status(c, nlh);
		return true;
	}
	/* After a parse error keep reading, so the rest of the dump does not linger. */
	if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && c->parse && !c->error) {
		r = c->parse(nlh, c->data);
		if (r < 0)
			c->error = r;
	}
	return false;
}

static int nl_call(struct link_nl *n, struct nlmsghdr *nlh, nl_parse_t parse, void *data)
{
	struct nl_call c = { .n = n, .parse = parse, .data = data };

	n->error[0] = 0;
	if (++n->seq == 0)
		n->seq = 1;
	c.seq = nlh->nlmsg_seq = n->seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return negative_errno();
	for (;;) {
		ssize_t r = mnl_socket_recvfrom(n->nl, n->buf, sizeof(n->buf));
		int len = r;

		if (r < 0)
			return negative_errno();
		for (const struct nlmsghdr *m = (void *)n->buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			/* Leftovers of an earlier request that gave up early. */
			if (m->nlmsg_seq != c.seq || m->nlmsg_pid != n->portid)
				continue;
			if (nl_dispatch(&c, m))
				return c.error ?: (c.interrupted ? -EAGAIN : 0);
		}
	}
}

static struct nlmsghdr *nl_msg(struct link_nl *n, uint16_t type, uint16_t flags, size_t hdrlen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(n->req);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	mnl_nlmsg_put_extra_header(nlh, hdrlen);
	return nlh;
}

static struct nlmsghdr *link_msg(struct link_nl *n, uint16_t type, uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = nl_msg(n, type, flags, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_index = ifindex;
	return nlh;
}

static int nl_invalid(struct link_nl *n, const char *what)
{
	snprintf(n->error, sizeof(n->error), "%s", what);
	return -EINVAL;
}

static void attr_copy_str(const struct nlattr *a, char *buf, size_t size)
{
	size_t len = strnlen(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));

	if (len >= size)
		len = size - 1;
	memcpy(buf, mnl_attr_get_payload(a), len);
	buf[len] = 0;
}

static void attr_get_u32(const struct nlattr *a, uint32_t *ret)
{
	if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		*ret = mnl_attr_get_u32(a);
}

/* Returns the family, or AF_UNSPEC if the attribute does not hold an address of it. */
static int attr_get_addr(const struct nlattr *a, int family, union in_addr_union *ret)
{
	if (mnl_attr_get_payload_len(a) != ip_family_bits(family) / 8)
		return AF_UNSPEC;
	memcpy(ret->bytes, mnl_attr_get_payload(a), ip_family_bits(family) / 8);
	return family;
}

static int ifindex_parse(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK && mnl_nlmsg_get_payload_len(nlh) >= sizeof(*ifi))
		*(int *)data = ifi->ifi_index;
	return 0;
}

static int link_get_index(struct link_nl *n, const char *name, int *ret_ifindex)
{
	struct nlmsghdr *nlh = link_msg(n, RTM_GETLINK, 0, 0);
	int ifindex = 0, r;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	r = nl_call(n, nlh, ifindex_parse, &ifindex);
	if (r < 0)
		return r;
	if (ifindex <= 0)
		return -ENODEV;
	*ret_ifindex = ifindex;
	return 0;
}

/* By index, or by name while the index is not known yet. */
static int link_delete(struct link_nl *n, int ifindex, const char *name)
{
	struct nlmsghdr *nlh = link_msg(n, RTM_DELLINK, 0, ifindex);

	if (ifindex <= 0)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nl_call(n, nlh, NULL, NULL);
}

/* Changes one attribute of an existing link. */
static int link_set(struct link_nl *n, int ifindex, uint16_t type, const void *data, size_t len)
{
	struct nlmsghdr *nlh = link_msg(n, RTM_NEWLINK, 0, ifindex);

	mnl_attr_put(nlh, type, len, data);
	return nl_call(n, nlh, NULL, NULL);
}

static int bridge_create(struct link_nl *n, const struct bridge_spec *spec)
{
	struct nlmsghdr *nlh = link_msg(n, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info, *data;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, spec->name);
	if (!mac_is_zero(&spec->mac))
		mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(spec->mac.b), spec->mac.b);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* The kernel takes the delay before the STP state (any delay while STP is off) */
	mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, spec->stp);
	mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, spec->stp ? spec->forward_delay * BR_CLOCK_HZ : 0);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_call(n, nlh, NULL, NULL);
}

/* One change of a bridge's own attributes (IFLA_BR_*): a value of -1 is not sent. */
static int bridge_change(struct link_nl *n, int ifindex, int64_t stp, int64_t forward_delay)
{
	struct nlmsghdr *nlh = link_msg(n, RTM_NEWLINK, 0, ifindex);
	struct nlattr *info, *data;

	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	if (stp >= 0)
		mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, stp);
	if (forward_delay >= 0)
		mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, forward_delay);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_call(n, nlh, NULL, NULL);
}

/*
 * After a link's creation: finds it and sets what creation does not keep (the kernel ignores
 * IFLA_IFALIAS there, and a bridge's MTU given at creation is not marked as set by the user, so
 * its first port's MTU would replace it); deletes the link again if either fails.
 */
static int link_finish(struct link_nl *n, const char *kind, const char *name, uint32_t mtu, const char *alias,
		       int *ret_ifindex)
{
	char saved[sizeof(n->error)];
	int ifindex = 0, r;

	r = link_get_index(n, name, &ifindex);
	if (r >= 0 && (mtu || (alias && alias[0]))) {
		struct nlmsghdr *nlh = link_msg(n, RTM_NEWLINK, 0, ifindex);

		if (mtu)
			mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
		if (alias && alias[0])
			mnl_attr_put_str(nlh, IFLA_IFALIAS, alias);
		r = nl_call(n, nlh, NULL, NULL);
	}
	if (r >= 0) {
		*ret_ifindex = ifindex;
		return 0;
	}
	memcpy(saved, n->error, sizeof(saved));
	if (link_delete(n, ifindex, name) >= 0)
		log_bridge(LOG_DEBUG, name, "%s del %s (undo)", kind, name);
	memcpy(n->error, saved, sizeof(saved));
	return r;
}

static int nl_bridge_add(void *userdata, const struct bridge_spec *spec, int *ret_ifindex)
{
	struct link_nl *n = userdata;
	char mac[MAC_STRLEN];
	int ifindex, r;

	n->error[0] = 0;
	if (!spec->name || !spec->name[0] || strlen(spec->name) >= IFNAMSIZ)
		return nl_invalid(n, "invalid interface name");
	if (spec->alias && strlen(spec->alias) > NL_ALIAS_MAX)
		return nl_invalid(n, "interface alias too long");
	r = bridge_create(n, spec);
	if (r < 0)
		return r;
	r = link_finish(n, "bridge", spec->name, spec->mtu, spec->alias, &ifindex);
	if (r < 0)
		return r;
	log_bridge(LOG_DEBUG, spec->name, "bridge add %s ifindex=%d mac=%s mtu=%u stp=%s fd=%u alias=%s",
		   spec->name, ifindex, mac_format(&spec->mac, mac, sizeof(mac)), spec->mtu,
		   spec->stp ? "on" : "off", spec->stp ? spec->forward_delay : 0, strna(spec->alias));
	*ret_ifindex = ifindex;
	return 0;
}

static int vxlan_create(struct link_nl *n, const struct vxlan_spec *spec)
{
	struct nlmsghdr *nlh = link_msg(n, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info, *data;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, spec->name);
	if (spec->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, spec->mtu);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, spec->vni);
	if (spec->local_family == AF_INET)
		mnl_attr_put(nlh, IFLA_VXLAN_LOCAL, 4, &spec->local);
	else
		mnl_attr_put(nlh, IFLA_VXLAN_LOCAL6, 16, &spec->local);
	mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(spec->dstport));
	mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 0);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_call(n, nlh, NULL, NULL);
}

static int nl_vxlan_add(void *userdata, const struct vxlan_spec *spec, int *ret_ifindex)
{
	struct link_nl *n = userdata;
	char local[INET6_ADDRSTRLEN];
	int ifindex, r;

	n->error[0] = 0;
	if (!spec->name || !spec->name[0] || strlen(spec->name) >= IFNAMSIZ)
		return nl_invalid(n, "invalid interface name");
	if (spec->alias && strlen(spec->alias) > NL_ALIAS_MAX)
		return nl_invalid(n, "interface alias too long");
	if (spec->local_family != AF_INET && spec->local_family != AF_INET6)
		return nl_invalid(n, "no local VXLAN address");
	r = vxlan_create(n, spec);
	if (r >= 0)
		r = link_finish(n, "vxlan", spec->name, 0, spec->alias, &ifindex); /* its MTU: at creation */
	if (r < 0)
		return r;
	log_debug("vxlan add %s ifindex=%d id=%u local=%s dstport=%u mtu=%u alias=%s", spec->name, ifindex,
		  spec->vni, ip_addr_format(spec->local_family, &spec->local, local, sizeof(local)),
		  spec->dstport, spec->mtu, strna(spec->alias));
	*ret_ifindex = ifindex;
	return 0;
}

/* RTM_SETLINK of family AF_BRIDGE: the port's IFLA_PROTINFO (what 'bridge link set' sends). */
static int nl_port_set_flags(void *userdata, int ifindex, bool learning, bool neigh_suppress)
{
	struct link_nl *n = userdata;
	struct nlmsghdr *nlh = link_msg(n, RTM_SETLINK, 0, ifindex);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nlattr *info;
	int r;

	n->error[0] = 0;
	ifi->ifi_family = AF_BRIDGE;
	info = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_LEARNING, learning);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_NEIGH_SUPPRESS, neigh_suppress);
	mnl_attr_nest_end(nlh, info);
	r = nl_call(n, nlh, NULL, NULL);
	if (r >= 0)
		log_debug("link %d port learning=%s neigh_suppress=%s", ifindex, learning ? "on" : "off",
			  neigh_suppress ? "on" : "off");
	return r;
}

static int nl_link_del(void *userdata, int ifindex)
{
	int r = link_delete(userdata, ifindex, "");

	if (r >= 0)
		log_debug("link %d del", ifindex);
	return r;
}

static int nl_link_set_up(void *userdata, int ifindex, bool up)
{
	struct nlmsghdr *nlh = link_msg(userdata, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	int r;

	ifi->ifi_flags = up ? IFF_UP : 0;
	ifi->ifi_change = IFF_UP;
	r = nl_call(userdata, nlh, NULL, NULL);
	if (r >= 0)
		log_debug("link %d %s", ifindex, up ? "up" : "down");
	return r;
}

static int nl_link_set_mtu(void *userdata, int ifindex, uint32_t mtu)
{
	int r = link_set(userdata, ifindex, IFLA_MTU, &mtu, sizeof(mtu));

	if (r >= 0)
		log_debug("link %d mtu %u", ifindex, mtu);
	return r;
}

/* On: the delay and the state in one request (the kernel sets the delay first, which it takes
 * whatever it is while STP is still off). Off: the state first, since the kernel refuses a delay
 * out of 2-30 s while STP is on, even in the request that turns it off. */
static int nl_bridge_set_stp(void *userdata, int ifindex, bool stp, unsigned forward_delay)
{
	struct link_nl *n = userdata;
	int64_t fd = (int64_t)forward_delay * BR_CLOCK_HZ;
	int r;

	n->error[0] = 0;
	if (stp)
		r = bridge_change(n, ifindex, 1, fd);
	else if ((r = bridge_change(n, ifindex, 0, -1)) >= 0)
		r = bridge_change(n, ifindex, -1, fd);
	if (r >= 0)
		log_debug("bridge %d stp=%s fd=%u", ifindex, stp ? "on" : "off", forward_delay);
	return r;
}

static int nl_link_set_mac(void *userdata, int ifindex, const struct mac *mac)
{
	int r = link_set(userdata, ifindex, IFLA_ADDRESS, mac->b, sizeof(mac->b));
	char s[MAC_STRLEN];

	if (r >= 0)
		log_debug("link %d mac %s", ifindex, mac_format(mac, s, sizeof(s)));
	return r;
}

static int nl_link_set_alias(void *userdata, int ifindex, const char *alias)
{
	int r;

	if (strlen(alias) > NL_ALIAS_MAX)
		return nl_invalid(userdata, "interface alias too long");
	/* Without the NUL, as iproute2 does: the kernel counts it against IFALIASZ. */
	r = link_set(userdata, ifindex, IFLA_IFALIAS, alias, strlen(alias));
	if (r >= 0)
		log_debug("link %d alias %s", ifindex, alias);
	return r;
}

static int nl_submit(struct link_nl *n, struct nlmsghdr *nlh, const char *desc);

static int addr_change(struct link_nl *n, uint16_t type, uint16_t flags, int ifindex,
		       const struct ip_prefix *p)
{
	unsigned bytes = ip_family_bits(p->family) / 8;
	struct nlmsghdr *nlh = nl_msg(n, type, flags, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	union in_addr_union bcast;
	char s[IP_PREFIX_STRLEN], desc[NL_DESC_SIZE];

	if ((p->family != AF_INET && p->family != AF_INET6) || p->len > ip_family_bits(p->family))
		return nl_invalid(n, "invalid address");
	*ifa = (struct ifaddrmsg){ .ifa_family = p->family, .ifa_prefixlen = p->len,
				   .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = ifindex };
	mnl_attr_put(nlh, IFA_LOCAL, bytes, p->addr.bytes);
	/* IPv4 matches a delete's IFA_ADDRESS against the peer of a point-to-point address: without
	 * it the local address alone picks the address. */
	if (type == RTM_NEWADDR || p->family == AF_INET6)
		mnl_attr_put(nlh, IFA_ADDRESS, bytes, p->addr.bytes);
	if (type == RTM_NEWADDR && p->family == AF_INET && p->len < 31) {
		ip_prefix_broadcast(p, &bcast);
		mnl_attr_put(nlh, IFA_BROADCAST, bytes, bcast.bytes);
	}
	snprintf(desc, sizeof(desc), "addr %s %s dev %d", type == RTM_NEWADDR ? "add" : "del",
		 ip_prefix_format(p, s, sizeof(s)), ifindex);
	return nl_submit(n, nlh, desc);
}

static int nl_addr_add(void *userdata, int ifindex, const struct ip_prefix *addr)
{
	return addr_change(userdata, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, addr);
}

static int nl_addr_del(void *userdata, int ifindex, const struct ip_prefix *addr)
{
	return addr_change(userdata, RTM_DELADDR, 0, ifindex, addr);
}

static void *array_push(void **array, size_t *n, size_t *cap, size_t size)
{
	char *p = *array;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;

		p = reallocarray(p, c, size);
		if (!p)
			return NULL;
		*array = p;
		*cap = c;
	}
	return memset(p + (*n)++ * size, 0, size);
}

/* Appends one zeroed element to a malloc'ed array; NULL when out of memory. */
#define ARRAY_PUSH(a, n, cap) array_push((void **)&(a), &(n), &(cap), sizeof(*(a)))

static void vxlan_info_parse(struct link_info *l, const struct nlattr *data)
{
	const struct nlattr *attr;

	if (!data)
		return;
	mnl_attr_for_each_nested(attr, data) {
		uint16_t type = mnl_attr_get_type(attr);
		size_t len = mnl_attr_get_payload_len(attr);

		if (type == IFLA_VXLAN_ID)
			attr_get_u32(attr, &l->vxlan_id);
		else if (type == IFLA_VXLAN_PORT && len == 2)
			l->vxlan_port = ntohs(mnl_attr_get_u16(attr));
		else if ((type == IFLA_VXLAN_LOCAL && len == 4) || (type == IFLA_VXLAN_LOCAL6 && len == 16)) {
			l->vxlan_local_family = len == 4 ? AF_INET : AF_INET6;
			memcpy(&l->vxlan_local, mnl_attr_get_payload(attr), len);
		}
	}
}

static void link_info_parse(struct link_info *l, const struct nlattr *info)
{
	const struct nlattr *attr, *data = NULL;
	uint32_t stp = 0;

	mnl_attr_for_each_nested(attr, info) {
		if (mnl_attr_get_type(attr) == IFLA_INFO_KIND)
			attr_copy_str(attr, l->kind, sizeof(l->kind));
		else if (mnl_attr_get_type(attr) == IFLA_INFO_DATA)
			data = attr;
	}
	if (!strcmp(l->kind, "vxlan")) {
		vxlan_info_parse(l, data);
		return;
	}
	if (strcmp(l->kind, "bridge"))
		return;
	if (data)
		mnl_attr_for_each_nested(attr, data) {
			if (mnl_attr_get_type(attr) == IFLA_BR_STP_STATE)
				attr_get_u32(attr, &stp);
			else if (mnl_attr_get_type(attr) == IFLA_BR_FORWARD_DELAY)
				attr_get_u32(attr, &l->forward_delay);
		}
	l->stp_state = stp;
}

static int link_parse(const struct nlmsghdr *nlh, void *userdata)
{
	struct dump_ctx *ctx = userdata;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct link_info *l;
	uint32_t master = 0, lower = 0;
	bool other_netns = false;

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return 0;
	l = ARRAY_PUSH(ctx->d.links, ctx->d.n_links, ctx->cap_links);
	if (!l)
		return -ENOMEM;
	l->ifindex = ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	l->running = ifi->ifi_flags & (IFF_RUNNING | IFF_LOWER_UP);
	l->loopback = ifi->ifi_flags & IFF_LOOPBACK;
	l->stp_state = -1;
	mnl_attr_for_each(attr, nlh, sizeof(*ifi)) {
		uint16_t type = mnl_attr_get_type(attr);

		if (type == IFLA_IFNAME)
			attr_copy_str(attr, l->name, sizeof(l->name));
		else if (type == IFLA_IFALIAS)
			attr_copy_str(attr, l->alias, sizeof(l->alias));
		else if (type == IFLA_ADDRESS && mnl_attr_get_payload_len(attr) == sizeof(l->mac.b))
			memcpy(l->mac.b, mnl_attr_get_payload(attr), sizeof(l->mac.b));
		else if (type == IFLA_MTU)
			attr_get_u32(attr, &l->mtu);
		else if (type == IFLA_MASTER)
			attr_get_u32(attr, &master);
		else if (type == IFLA_LINK)
			attr_get_u32(attr, &lower);
		else if (type == IFLA_LINK_NETNSID)
			other_netns = true;
		else if (type == IFLA_LINKINFO)
			link_info_parse(l, attr);
	}
	l->master = master;
	ctx->lower_elsewhere = other_netns && lower;
	/* With a link netnsid the number is an ifindex of another namespace. */
	l->lower = other_netns || lower == (uint32_t)l->ifindex ? 0 : (int)lower;
	return 0;
}

static int addr_parse(const struct nlmsghdr *nlh, void *userdata)
{
	struct dump_ctx *ctx = userdata;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *local = NULL, *address = NULL;
	struct addr_info *a;

	if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	a = ARRAY_PUSH(ctx->d.addrs, ctx->d.n_addrs, ctx->cap_addrs);
	if (!a)
		return -ENOMEM;
	a->ifindex = ifa->ifa_index;
	a->prefix.family = ifa->ifa_family;
	a->prefix.len = ifa->ifa_prefixlen;
	a->scope = ifa->ifa_scope;
	a->flags = ifa->ifa_flags;
	a->valid_lft = a->preferred_lft = LINK_LFT_FOREVER;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = attr;
		else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			address = attr;
		else if (mnl_attr_get_type(attr) == IFA_FLAGS)
			attr_get_u32(attr, &a->flags);
		else if (mnl_attr_get_type(attr) == IFA_BROADCAST)
			a->broadcast_family = attr_get_addr(attr, a->prefix.family, &a->broadcast);
		else if (mnl_attr_get_type(attr) == IFA_LABEL)
			attr_copy_str(attr, a->label, sizeof(a->label));
		else if (mnl_attr_get_type(attr) == IFA_RT_PRIORITY)
			attr_get_u32(attr, &a->rt_priority);
		else if (mnl_attr_get_type(attr) == IFA_PROTO && mnl_attr_get_payload_len(attr) >= 1)
			a->proto = mnl_attr_get_u8(attr);
		else if (mnl_attr_get_type(attr) == IFA_CACHEINFO &&
			 mnl_attr_get_payload_len(attr) >= sizeof(struct ifa_cacheinfo)) {
			const struct ifa_cacheinfo *ci = mnl_attr_get_payload(attr);
			a->valid_lft = ci->ifa_valid;
			a->preferred_lft = ci->ifa_prefered;
		}
	}
	/* On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours. */
	if (local || address)
		attr_get_addr(local ?: address, a->prefix.family, &a->prefix.addr);
	if (local && address)
		a->peer_family = attr_get_addr(address, a->prefix.family, &a->peer);
	if (a->peer_family && ip_addr_equal(a->prefix.family, &a->peer, &a->prefix.addr))
		a->peer_family = AF_UNSPEC;
	return 0;
}

static int neigh_parse(const struct nlmsghdr *nlh, void *userdata)
{
	struct dump_ctx *ctx = userdata;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct neigh_info *n;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ndm) ||
	    (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6))
		return 0;
	n = ARRAY_PUSH(ctx->d.neighs, ctx->d.n_neighs, ctx->cap_neighs);
	if (!n)
		return -ENOMEM;
	n->ifindex = ndm->ndm_ifindex;
	n->family = ndm->ndm_family;
	n->state = ndm->ndm_state;
	n->flags = ndm->ndm_flags;
	mnl_attr_for_each(attr, nlh, sizeof(*ndm)) {
		uint16_t type = mnl_attr_get_type(attr);

		if (type == NDA_DST)
			attr_get_addr(attr, n->family, &n->dst);
		else if (type == NDA_LLADDR && mnl_attr_get_payload_len(attr) == sizeof(n->lladdr.b)) {
			memcpy(n->lladdr.b, mnl_attr_get_payload(attr), sizeof(n->lladdr.b));
			n->has_lladdr = true;
		} else if (type == NDA_PROTOCOL && mnl_attr_get_payload_len(attr) >= 1)
			n->protocol = mnl_attr_get_u8(attr);
	}
	return 0;
}

/* A bridge FDB entry: its MAC and, on a VXLAN port, the remote VTEP (NDA_DST). */
static int fdb_parse(const struct nlmsghdr *nlh, void *userdata)
{
	struct dump_ctx *ctx = userdata;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct neigh_info *n;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ndm) ||
	    ndm->ndm_family != AF_BRIDGE)
		return 0;
	n = ARRAY_PUSH(ctx->d.neighs, ctx->d.n_neighs, ctx->cap_neighs);
	if (!n)
		return -ENOMEM;
	*n = (struct neigh_info){ .ifindex = ndm->ndm_ifindex,
				  .family = AF_BRIDGE,
				  .state = ndm->ndm_state,
				  .flags = ndm->ndm_flags };
	mnl_attr_for_each(attr, nlh, sizeof(*ndm)) {
		uint16_t type = mnl_attr_get_type(attr);
		uint16_t len = mnl_attr_get_payload_len(attr);

		if (type == NDA_DST && (len == 4 || len == 16)) {
			n->dst_family = len == 4 ? AF_INET : AF_INET6;
			attr_get_addr(attr, n->dst_family, &n->dst);
		} else if (type == NDA_LLADDR && len == sizeof(n->lladdr.b)) {
			memcpy(n->lladdr.b, mnl_attr_get_payload(attr), sizeof(n->lladdr.b));
			n->has_lladdr = true;
		}
	}
	return 0;
}

static int route_parse(const struct nlmsghdr *nlh, void *userdata)
{
	struct dump_ctx *ctx = userdata;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct route_info *rt;
	uint32_t oif = 0;

	if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm) ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) || (rtm->rtm_flags & RTM_F_CLONED))
		return 0;
	ctx->odd_route = rtm->rtm_tos || rtm->rtm_src_len;
	rt = ARRAY_PUSH(ctx->d.routes, ctx->d.n_routes, ctx->cap_routes);
	if (!rt)
		return -ENOMEM;
	rt->table = rtm->rtm_table;
	rt->type = rtm->rtm_type;
	rt->protocol = rtm->rtm_protocol;
	rt->dst.family = rtm->rtm_family;
	rt->dst.len = rtm->rtm_dst_len;
	rt->scope = rtm->rtm_scope;
	rt->flags = rtm->rtm_flags;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		uint16_t type = mnl_attr_get_type(attr);

		if (type == RTA_TABLE)
			attr_get_u32(attr, &rt->table);
		else if (type == RTA_DST)
			attr_get_addr(attr, rt->dst.family, &rt->dst.addr);
		else if (type == RTA_OIF)
			attr_get_u32(attr, &oif);
		else if (type == RTA_GATEWAY)
			rt->gw_family = attr_get_addr(attr, rt->dst.family, &rt->gw);
		else if (type == RTA_PRIORITY)
			attr_get_u32(attr, &rt->priority);
		else if (type == RTA_PREFSRC)
			rt->prefsrc_family = attr_get_addr(attr, rt->dst.family, &rt->prefsrc);
		else if (type == RTA_PREF && mnl_attr_get_payload_len(attr) >= 1)
			rt->pref = mnl_attr_get_u8(attr);
		else if (type == RTA_MULTIPATH || type == RTA_NH_ID)
			ctx->odd_route = true;
		else if (type == RTA_METRICS && mnl_attr_get_payload_len(attr) <= LINK_METRICS_MAX) {
			rt->metrics_len = mnl_attr_get_payload_len(attr);
			memcpy(rt->metrics, mnl_attr_get_payload(attr), rt->metrics_len);
		} else if (type == RTA_CACHEINFO && rt->dst.family == AF_INET6 &&
			   mnl_attr_get_payload_len(attr) >= sizeof(struct rta_cacheinfo)) {
			const struct rta_cacheinfo *ci = mnl_attr_get_payload(attr);
			/* in USER_HZ (100 a second); round up so a live route never reads as 0 */
			rt->expires = ci->rta_expires > 0 ? ((uint32_t)ci->rta_expires + 99) / 100 : 0;
		}
	}
	rt->ifindex = oif;
	return 0;
}

static int rule_parse(const struct nlmsghdr *nlh, void *userdata)
{
	struct dump_ctx *ctx = userdata;
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct rule_info *rule;

	if (nlh->nlmsg_type != RTM_NEWRULE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*frh))
		return 0;
	rule = ARRAY_PUSH(ctx->d.rules, ctx->d.n_rules, ctx->cap_rules);
	if (!rule)
		return -ENOMEM;
	rule->family = frh->family;
	rule->table = frh->table;
	rule->action = frh->action;
	mnl_attr_for_each(attr, nlh, sizeof(*frh)) {
		uint16_t type = mnl_attr_get_type(attr);

		if (type == FRA_PRIORITY)
			attr_get_u32(attr, &rule->priority);
		else if (type == FRA_TABLE)
			attr_get_u32(attr, &rule->table);
		else if (type == FRA_IFNAME)
			attr_copy_str(attr, rule->iif, sizeof(rule->iif));
		else if (type == FRA_OIFNAME)
			attr_copy_str(attr, rule->oif, sizeof(rule->oif));
	}
	return 0;
}

static int dump_request(struct link_nl *n, uint16_t type, int family, nl_parse_t parse, void *data)
{
	size_t hdrlen = type == RTM_GETLINK  ? sizeof(struct ifinfomsg) :
			type == RTM_GETROUTE ? sizeof(struct rtmsg) :
			type == RTM_GETRULE  ? sizeof(struct fib_rule_hdr) :
			type == RTM_GETNEIGH ? sizeof(struct ndmsg) :
					       sizeof(struct ifaddrmsg);
	struct nlmsghdr *nlh = nl_msg(n, type, NLM_F_DUMP, hdrlen);
	/* Each of these headers starts with the family byte. */
	struct rtgenmsg *hdr = mnl_nlmsg_get_payload(nlh);

	hdr->rtgen_family = family;
	if (type == RTM_GETLINK)
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nl_call(n, nlh, parse, data);
}

/* Every link's neighbours, or (dump_of) those of ctx->only alone: the kernel filters them by
 * NDA_IFINDEX (4.20; an older one sends all, link_dump_keep_of drops the others). The links are
 * in ctx already: they come first. */
static int dump_neighs(struct link_nl *n, struct dump_ctx *ctx)
{
	const struct link_info *l = ctx->only ? link_dump_find_name(&ctx->d, ctx->only) : NULL;
	struct nlmsghdr *nlh;

	if (ctx->only && !l)
		return 0;
	nlh = nl_msg(n, RTM_GETNEIGH, NLM_F_DUMP, sizeof(struct ndmsg));
	((struct ndmsg *)mnl_nlmsg_get_payload(nlh))->ndm_family = AF_UNSPEC;
	if (l)
		mnl_attr_put_u32(nlh, NDA_IFINDEX, l->ifindex);
	return nl_call(n, nlh, neigh_parse, ctx);
}

static int dump_once(struct link_nl *n, unsigned what, struct dump_ctx *ctx)
{
	int r = 0;

	if (what & LINK_DUMP_LINKS)
		r = dump_request(n, RTM_GETLINK, AF_UNSPEC, link_parse, ctx);
	if (r >= 0 && (what & LINK_DUMP_ADDRS))
		r = dump_request(n, RTM_GETADDR, AF_UNSPEC, addr_parse, ctx);
	if (r >= 0 && (what & LINK_DUMP_ROUTES))
		r = dump_request(n, RTM_GETROUTE, AF_INET, route_parse, ctx);
	if (r >= 0 && (what & LINK_DUMP_ROUTES))
		r = dump_request(n, RTM_GETROUTE, AF_INET6, route_parse, ctx);
	if (r >= 0 && (what & LINK_DUMP_RULES))
		r = dump_request(n, RTM_GETRULE, AF_INET, rule_parse, ctx);
	if (r >= 0 && (what & LINK_DUMP_RULES))
		r = dump_request(n, RTM_GETRULE, AF_INET6, rule_parse, ctx);
	if (r >= 0 && (what & LINK_DUMP_NEIGHS))
		r = dump_neighs(n, ctx);
	if (r >= 0 && (what & LINK_DUMP_FDB))
		r = dump_request(n, RTM_GETNEIGH, AF_BRIDGE, fdb_parse, ctx);
	return r;
}

/*
 * ---- the link cache ----
 *
 * A dump of 1000 links is ~2 MB of messages; every request that looks at the links used to ask
 * the kernel for one. The cache keeps them from the kernel's RTNLGRP_LINK notifications instead:
 * each carries a link's whole state, and the kernel queues the one for netd's own change before
 * it acknowledges it, so draining the socket before each use shows netd its own changes. Filled
 * by one dump (after subscribing), dumped again after an overrun or a message not understood.
 */

/* Where ifindex is in the cache, or would go. */
static size_t cache_pos(const struct link_nl *n, int ifindex)
{
	size_t lo = 0, hi = n->cache_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (n->cache[mid].l.ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct cached_link *cache_find(struct link_nl *n, int ifindex)
{
	size_t i = cache_pos(n, ifindex);

	return i < n->cache_n && n->cache[i].l.ifindex == ifindex ? &n->cache[i] : NULL;
}

static void objs_free(struct cached_objs *o)
{
	free(o->addrs);
	free(o->routes);
	*o = (struct cached_objs){};
}

static void cache_drop(struct link_nl *n)
{
	n->cache_valid = false;
	for (size_t i = 0; i < n->cache_n; i++)
		objs_free(&n->cache[i].o);
	n->cache_n = 0;
	objs_free(&n->unlinked);
	n->cache_n_addrs = n->cache_n_routes = 0;
	n->routes_off = false;
	n->n_relist = 0;
}

/* Stores a link's new state; returns 1 if the link is new to the cache. */
static int cache_store(struct link_nl *n, const struct link_info *l, bool lower_elsewhere)
{
	size_t i = cache_pos(n, l->ifindex);
	bool added = i == n->cache_n || n->cache[i].l.ifindex != l->ifindex;

	if (added) {
		if (n->cache_n == n->cache_cap) {
			size_t cap = n->cache_cap ? n->cache_cap * 2 : 64;
			struct cached_link *c = reallocarray(n->cache, cap, sizeof(*c));

			if (!c)
				return -ENOMEM;
			n->cache = c;
			n->cache_cap = cap;
		}
		memmove(&n->cache[i + 1], &n->cache[i], (n->cache_n - i) * sizeof(*n->cache));
		n->cache_n++;
	}
	if (added)
		n->cache[i] = (struct cached_link){};
	n->cache[i].l = *l;
	n->cache[i].lower_elsewhere = lower_elsewhere;
	return added;
}

/*
 * What a link's going changes in the others without a notification of theirs: a veth's peer
 * reads its IFLA_LINK as in another namespace (when the link was deleted the peer goes too).
 * Links stacked on a deleted one go with it, a tunnel keeps the number; but one whose lower was
 * moved to another namespace would read it as elsewhere: too rare to follow, dump again.
 */
static int cache_remove(struct link_nl *n, int ifindex, bool moved)
{
	size_t i = cache_pos(n, ifindex);

	if (i < n->cache_n && n->cache[i].l.ifindex == ifindex) {
		/* Its addresses and routes go with it (IPv4 routes via it silently). */
		n->cache_n_addrs -= n->cache[i].o.n_addrs;
		n->cache_n_routes -= n->cache[i].o.n_routes;
		objs_free(&n->cache[i].o);
		memmove(&n->cache[i], &n->cache[i + 1], (n->cache_n - i - 1) * sizeof(*n->cache));
		n->cache_n--;
	}
	for (size_t j = 0; j < n->cache_n; j++) {
		struct cached_link *c = &n->cache[j];

		if (c->l.lower != ifindex)
			continue;
		if (strcmp(c->l.kind, "veth")) {
			if (moved)
				return -ESTALE;
			continue;
		}
		c->l.lower = 0;
		c->lower_elsewhere = true;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What is left of a lifetime read at 'at' (ms): the kernel counts whole seconds down. */
static uint32_t lft_left(uint32_t lft, uint64_t at, uint64_t now)
{
	uint64_t gone = (now - at) / 1000;

	if (lft == LINK_LFT_FOREVER)
		return lft;
	return gone >= lft ? 0 : lft - (uint32_t)gone;
}

/* An IPv4 address is one of its link's by local address, prefix length and peer; an IPv6 one by
 * its address (the kernel refuses the same one twice on a link). */
static bool addr_same(const struct addr_info *a, const struct addr_info *b)
{
	if (a->prefix.family != b->prefix.family ||
	    !ip_addr_equal(a->prefix.family, &a->prefix.addr, &b->prefix.addr))
		return false;
	if (a->prefix.family == AF_INET6)
		return true;
	return a->prefix.len == b->prefix.len && a->peer_family == b->peer_family &&
	       (!a->peer_family || ip_addr_equal(a->peer_family, &a->peer, &b->peer));
}

/* The kernel's key of a route (without TOS and source, which the cache does not take). */
static bool route_same_key(const struct route_info *a, const struct route_info *b)
{
	return a->dst.family == b->dst.family && a->table == b->table && a->priority == b->priority &&
	       a->dst.len == b->dst.len && ip_addr_equal(a->dst.family, &a->dst.addr, &b->dst.addr);
}

/* One route among those of a key: its type, output link and gateway. */
static bool route_same(const struct route_info *a, const struct route_info *b)
{
	return route_same_key(a, b) && a->type == b->type && a->ifindex == b->ifindex &&
	       a->gw_family == b->gw_family && (!a->gw_family || ip_addr_equal(a->gw_family, &a->gw, &b->gw));
}

static void objs_route_del(struct link_nl *n, struct cached_objs *o, size_t i)
{
	memmove(&o->routes[i], &o->routes[i + 1], (o->n_routes - i - 1) * sizeof(*o->routes));
	o->n_routes--;
	n->cache_n_routes--;
}

/*
 * A link set down: the kernel flushes its IPv4 routes without a notification (fib_disable_ip),
 * all but the local ones of its addresses (kept while the address is). When it comes up again
 * the routes of its addresses come back notified; the others are gone. IPv6 notifies.
 */
static void objs_link_down(struct link_nl *n, struct cached_objs *o)
{
	for (size_t i = o->n_routes; i-- > 0;) {
		const struct route_info *r = &o->routes[i].r;

		if (r->dst.family == AF_INET && r->type != RTN_LOCAL && r->scope != RT_SCOPE_HOST)
			objs_route_del(n, o, i);
	}
}

/*
 * The last IPv4 address of a link deleted: the kernel flushes every IPv4 route through the link,
 * local and host-scoped ones too, without a notification (fib_inetaddr_event -> fib_disable_ip).
 */
static void objs_last_addr4_gone(struct link_nl *n, struct cached_objs *o)
{
	for (size_t i = 0; i < o->n_addrs; i++)
		if (o->addrs[i].a.prefix.family == AF_INET)
			return;
	for (size_t i = o->n_routes; i-- > 0;)
		if (o->routes[i].r.dst.family == AF_INET)
			objs_route_del(n, o, i);
}

static struct cached_objs *objs_of(struct link_nl *n, int ifindex)
{
	struct cached_link *c;

	if (!ifindex)
		return &n->unlinked;
	c = cache_find(n, ifindex);
	return c ? &c->o : NULL;
}

/* The i-th list of cached objects, 0 <= i <= cache_n: the links', then the unlinked routes. */
static struct cached_objs *objs_at(struct link_nl *n, size_t i)
{
	return i < n->cache_n ? &n->cache[i].o : &n->unlinked;
}

static bool addr4_anywhere(struct link_nl *n, const union in_addr_union *a)
{
	for (size_t k = 0; k < n->cache_n; k++) {
		const struct cached_objs *o = objs_at(n, k);

		for (size_t i = 0; i < o->n_addrs; i++)
			if (o->addrs[i].a.prefix.family == AF_INET &&
			    ip_addr_equal(AF_INET, &o->addrs[i].a.prefix.addr, a))
				return true;
	}
	return false;
}

static bool local4_anywhere(struct link_nl *n, const union in_addr_union *a)
{
	for (size_t k = 0; k <= n->cache_n; k++) {
		const struct cached_objs *o = objs_at(n, k);

		for (size_t i = 0; i < o->n_routes; i++) {
			const struct route_info *r = &o->routes[i].r;

			if (r->dst.family == AF_INET && r->type == RTN_LOCAL && r->dst.len == 32 &&
			    ip_addr_equal(AF_INET, &r->dst.addr, a))
				return true;
		}
	}
	return false;
}

/*
 * An IPv4 address that is gone from the host (its address and its local route deleted, none
 * other left): the kernel flushes the main table's routes that had it as preferred source
 * (fib_sync_down_addr; kernels before 6.6 without a notification). Other tables keep theirs.
 */
static void routes_prefsrc_gone(struct link_nl *n, const union in_addr_union *a)
{
	if (addr4_anywhere(n, a) || local4_anywhere(n, a))
		return;
	for (size_t k = 0; k <= n->cache_n; k++) {
		struct cached_objs *o = objs_at(n, k);

		for (size_t i = o->n_routes; i-- > 0;) {
			const struct route_info *r = &o->routes[i].r;

			if (r->dst.family == AF_INET && r->table == RT_TABLE_MAIN &&
			    r->prefsrc_family == AF_INET && ip_addr_equal(AF_INET, &r->prefsrc, a))
				objs_route_del(n, o, i);
		}
	}
}

/*
 * The remaining lifetimes of a notification were counted when the kernel sent it, which may be
 * long before netd reads it: the link's addresses are read again after the drain (relist).
 */
static int addr_relist_mark(struct link_nl *n, const struct addr_info *a)
{
	if (n->cache_filling || (a->valid_lft == LINK_LFT_FOREVER && a->preferred_lft == LINK_LFT_FOREVER))
		return 0;
	for (size_t i = 0; i < n->n_relist; i++)
		if (n->relist[i] == a->ifindex)
			return 0;
	if (n->n_relist == NL_CACHE_RELIST_MAX)
		return -ESTALE;
	n->relist[n->n_relist++] = a->ifindex;
	return 0;
}

static int objs_addr_store(struct link_nl *n, struct cached_objs *o, const struct addr_info *a, uint64_t at)
{
	struct cached_addr *c;

	for (size_t i = 0; i < o->n_addrs; i++)
		if (addr_same(&o->addrs[i].a, a)) {
			o->addrs[i] = (struct cached_addr){ .a = *a, .at = at };
			return 0;
		}
	c = array_push((void **)&o->addrs, &o->n_addrs, &o->cap_addrs, sizeof(*o->addrs));
	if (!c)
		return -ENOMEM;
	*c = (struct cached_addr){ .a = *a, .at = at };
	n->cache_n_addrs++;
	return 0;
}

/* One address notification, or one address of the filling dump. */
static int cache_addr_apply(struct link_nl *n, const struct nlmsghdr *nlh)
{
	const struct addr_info *a;
	struct cached_objs *o;
	int r;

	n->scratch.d.n_addrs = 0;
	r = addr_parse(nlh, &n->scratch);
	if (r < 0 || n->scratch.d.n_addrs == 0)
		return r;
	a = &n->scratch.d.addrs[0];
	o = objs_of(n, a->ifindex);
	if (!o) /* a link the cache does not have: only after its deletion */
		return nlh->nlmsg_type == RTM_DELADDR ? 0 : -ESTALE;
	if (nlh->nlmsg_type == RTM_NEWADDR) {
		r = objs_addr_store(n, o, a, now_ms());
		return r < 0 ? r : addr_relist_mark(n, a);
	}
	for (size_t i = 0; i < o->n_addrs; i++)
		if (addr_same(&o->addrs[i].a, a)) {
			memmove(&o->addrs[i], &o->addrs[i + 1], (o->n_addrs - i - 1) * sizeof(*o->addrs));
			o->n_addrs--;
			n->cache_n_addrs--;
			break;
		}
	if (a->prefix.family == AF_INET)
		objs_last_addr4_gone(n, o);
	return 0;
}

/* A replacing route takes the place of the one with its key, wherever it went out. */
static int routes_replace(struct link_nl *n, const struct route_info *rt)
{
	struct cached_objs *found_o = NULL;
	size_t found_i = 0, found = 0;

	for (size_t k = 0; k <= n->cache_n; k++) {
		struct cached_objs *o = objs_at(n, k);

		for (size_t i = 0; i < o->n_routes; i++)
			if (route_same_key(&o->routes[i].r, rt)) {
				found_o = o;
				found_i = i;
				found++;
			}
	}
	if (found > 1) /* which one the kernel replaced is its own order */
		return -ESTALE;
	if (found)
		objs_route_del(n, found_o, found_i);
	return 0;
}

/* One route notification, or one route of the filling dump. */
static int cache_route_apply(struct link_nl *n, const struct nlmsghdr *nlh)
{
	const struct route_info *rt;
	struct cached_objs *o;
	struct cached_route *c;
	int r;

	n->scratch.d.n_routes = 0;
	r = route_parse(nlh, &n->scratch);
	if (r < 0 || n->scratch.d.n_routes == 0)
		return r;
	rt = &n->scratch.d.routes[0];
	if (n->scratch.odd_route) {
		/* While filling: routes are dumped each time until the next filling; later, a
		 * change to one: fill again (and see whether one is left). */
		if (n->cache_filling)
			n->routes_off = true;
		return n->cache_filling ? 0 : -ESTALE;
	}
	if (n->routes_off)
		return 0;
	o = objs_of(n, rt->ifindex);
	if (!o)
		return nlh->nlmsg_type == RTM_DELROUTE ? 0 : -ESTALE;
	if (n->cache_n_routes >= NL_CACHE_ROUTES_MAX) {
		if (n->cache_filling)
			n->routes_off = true;
		return n->cache_filling ? 0 : -ESTALE;
	}
	/* A dump lists each route once: the filling appends without looking. */
	for (size_t i = 0; !n->cache_filling && i < o->n_routes; i++) {
		if (!route_same(&o->routes[i].r, rt))
			continue;
		if (nlh->nlmsg_type == RTM_NEWROUTE) {
			o->routes[i] = (struct cached_route){ .r = *rt, .at = now_ms() };
			return 0;
		}
		objs_route_del(n, o, i);
		if (rt->dst.family == AF_INET && rt->type == RTN_LOCAL)
			routes_prefsrc_gone(n, &rt->dst.addr);
		return 0;
	}
	if (nlh->nlmsg_type == RTM_DELROUTE)
		return 0;
	if (nlh->nlmsg_flags & NLM_F_REPLACE) {
		r = routes_replace(n, rt);
		if (r < 0)
			return r;
	}
	c = array_push((void **)&o->routes, &o->n_routes, &o->cap_routes, sizeof(*o->routes));
	if (!c)
		return -ENOMEM;
	*c = (struct cached_route){ .r = *rt, .at = now_ms() };
	n->cache_n_routes++;
	return 0;
}

/* A link's new state, and what it changes in the others without a notification of theirs. */
static int cache_update(struct link_nl *n, const struct nlmsghdr *nlh)
{
	const struct link_info *l;
	struct cached_link *peer, *old;
	int r;

	n->scratch.d.n_links = 0;
	r = link_parse(nlh, &n->scratch);
	if (r < 0)
		return r;
	l = &n->scratch.d.links[0];
	old = cache_find(n, l->ifindex);
	if (old && old->l.up && !l->up)
		objs_link_down(n, &old->o);
	r = cache_store(n, l, n->scratch.lower_elsewhere);
	if (r < 0)
		return r;
	/* A link that appears may be the lower, come back, of one that reads it as elsewhere. */
	if (r > 0 && !n->cache_filling)
		for (size_t i = 0; i < n->cache_n; i++)
			if (n->cache[i].lower_elsewhere && strcmp(n->cache[i].l.kind, "veth"))
				return -ESTALE;
	/* A veth is not notified when its peer comes (a new pair's first half is notified before
	 * the pair is tied, IFLA_LINK 0; a peer moved in): the peer's notification names it. */
	if (!strcmp(l->kind, "veth") && l->lower) {
		peer = cache_find(n, l->lower);
		if (peer && !strcmp(peer->l.kind, "veth")) {
			peer->l.lower = l->ifindex;
			peer->lower_elsewhere = false;
		}
	}
	return 0;
}

/* One notification, or one message of the filling dump. -ESTALE and -EBADMSG: dump again. */
static int cache_apply(struct link_nl *n, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	bool named = false, wireless = false, moved = false;

	if (nlh->nlmsg_type == RTM_NEWADDR || nlh->nlmsg_type == RTM_DELADDR)
		return cache_addr_apply(n, nlh);
	if (nlh->nlmsg_type == RTM_NEWROUTE || nlh->nlmsg_type == RTM_DELROUTE)
		return cache_route_apply(n, nlh);
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EBADMSG;
	/* A bridge's notifications about its ports (AF_BRIDGE, RTM_DELLINK when one leaves) are
	 * not the links' own state. */
	if (ifi->ifi_family != AF_UNSPEC)
		return 0;
	mnl_attr_for_each(attr, nlh, sizeof(*ifi)) {
		uint16_t type = mnl_attr_get_type(attr);

		named |= type == IFLA_IFNAME;
		wireless |= type == IFLA_WIRELESS;
		moved |= type == IFLA_NEW_NETNSID;
	}
	if (nlh->nlmsg_type == RTM_DELLINK)
		return cache_remove(n, ifi->ifi_index, moved);
	/* Wireless events are an RTM_NEWLINK with only IFLA_WIRELESS: no state of the link. */
	if (!named)
		return wireless ? 0 : -EBADMSG;
	return cache_update(n, nlh);
}

static int cache_parse(const struct nlmsghdr *nlh, void *data)
{
	return cache_apply(data, nlh);
}

/*
 * Takes every pending notification without blocking, applying them when apply. Returns
 * -ESTALE when the cache cannot be trusted any more (the socket overran, a message was cut or
 * not understood); the socket is empty then too.
 */
static int cache_drain(struct link_nl *n, bool apply)
{
	int r = 0;

	for (;;) {
		struct sockaddr_nl sa = {};
		struct iovec iov = { .iov_base = n->buf, .iov_len = sizeof(n->buf) };
		struct msghdr msg = {
			.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1
		};
		ssize_t len = recvmsg(n->cache_fd, &msg, MSG_DONTWAIT);
		int rest = (int)len;

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			return r;
		if (len < 0 && errno == ENOBUFS) {
			r = -ESTALE;
			continue;
		}
		if (len < 0)
			return negative_errno();
		if (msg.msg_flags & MSG_TRUNC)
			r = -ESTALE;
		/* Only the kernel's notifications; after a doubt only empty the socket. */
		if (!apply || r < 0 || sa.nl_pid != 0)
			continue;
		for (const struct nlmsghdr *m = (void *)n->buf; mnl_nlmsg_ok(m, rest) && r >= 0;
		     m = mnl_nlmsg_next(m, &rest))
			r = cache_apply(n, m);
		if (r == -EBADMSG || r == -ENOMEM)
			r = -ESTALE;
	}
}

/* The addresses of one link as the kernel has them now: a dump it filters by link
 * (NETLINK_GET_STRICT_CHK, kernel 4.20), strict for this request only. */
static int addrs_of_link(struct link_nl *n, int ifindex, struct dump_ctx *ctx)
{
	struct nlmsghdr *nlh = nl_msg(n, RTM_GETADDR, NLM_F_DUMP, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	int fd = mnl_socket_get_fd(n->nl), on = 1, off = 0, r;

	ifa->ifa_index = ifindex;
	if (setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof(on)) < 0)
		return negative_errno();
	r = nl_call(n, nlh, addr_parse, ctx);
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &off, sizeof(off));
	return r;
}

/* Reads again the addresses of the links marked by addr_relist_mark; an error: fill again. */
static int cache_relist(struct link_nl *n)
{
	int r = 0;

	for (size_t i = 0; i < n->n_relist && r >= 0; i++) {
		struct cached_link *c = cache_find(n, n->relist[i]);
		struct dump_ctx ctx = {};
		uint64_t at = now_ms();

		if (!c)
			continue;
		r = addrs_of_link(n, n->relist[i], &ctx);
		if (r >= 0) {
			n->cache_n_addrs -= c->o.n_addrs;
			c->o.n_addrs = 0;
		}
		for (size_t j = 0; r >= 0 && j < ctx.d.n_addrs; j++)
			if (ctx.d.addrs[j].ifindex == n->relist[i])
				r = objs_addr_store(n, &c->o, &ctx.d.addrs[j], at);
		link_dump_free(&ctx.d);
	}
	n->n_relist = 0;
	return r < 0 ? -ESTALE : 0;
}

static int cache_open(struct link_nl *n)
{
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int size = NL_CACHE_RCVBUF;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return negative_errno();
	for (size_t i = 0; i < ELEMENTSOF(event_groups); i++)
		if (event_groups[i].what != LINK_EVENT_NEIGHS && /* neighbours are not cached */
		    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &event_groups[i].group,
			       sizeof(unsigned)) < 0)
			return negative_errno();
	/* Root may go past rmem_max; otherwise the cache is dumped again sooner. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	n->cache_fd = TAKE_FD(fd);
	return 0;
}

/* Subscribed first, then one dump: what the dump misses comes as notifications after it. */
static int cache_fill(struct link_nl *n)
{
	int r = -ESTALE;

	for (int i = 0; i < NL_CACHE_TRIES && r == -ESTALE; i++) {
		cache_drop(n);
		r = cache_drain(n, false); /* older than the dump, which shows it */
		if (r < 0 && r != -ESTALE)
			return r;
		n->cache_filling = true;
		r = dump_request(n, RTM_GETLINK, AF_UNSPEC, cache_parse, n);
		if (r >= 0)
			r = dump_request(n, RTM_GETADDR, AF_UNSPEC, cache_parse, n);
		if (r >= 0)
			r = dump_request(n, RTM_GETROUTE, AF_INET, cache_parse, n);
		if (r >= 0)
			r = dump_request(n, RTM_GETROUTE, AF_INET6, cache_parse, n);
		n->cache_filling = false;
		if (r == -EAGAIN || r == -EBADMSG) /* interrupted by a change, or not understood */
			r = -ESTALE;
		if (r < 0)
			continue;
		n->cache_valid = true;
		r = cache_drain(n, true);
		if (r >= 0)
			r = cache_relist(n);
	}
	if (r < 0) {
		cache_drop(n);
		return r;
	}
	log_debug("link cache: filled, %zu links, %zu addresses, %zu routes%s", n->cache_n, n->cache_n_addrs,
		  n->cache_n_routes, n->routes_off ? " (not kept: a multipath or nexthop route)" : "");
	return 0;
}

/*
 * The kernel does not notify every change of a link that is down (netdev_state_change() skips
 * it: an alias, a bridge's attributes, by netlink or sysfs): those are read again one by one
 * after each drain, or all links when many are down. What a later drain applies is then newer.
 */
static int cache_refresh_down(struct link_nl *n)
{
	int down[NL_CACHE_DOWN_MAX];
	size_t n_down = 0;
	int r;

	for (size_t i = 0; i < n->cache_n; i++) {
		if (n->cache[i].l.up)
			continue;
		if (n_down == NL_CACHE_DOWN_MAX)
			return -E2BIG;
		down[n_down++] = n->cache[i].l.ifindex;
	}
	for (size_t i = 0; i < n_down; i++) {
		struct nlmsghdr *nlh = link_msg(n, RTM_GETLINK, 0, down[i]);

		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
		r = nl_call(n, nlh, cache_parse, n);
		if (r == -ENODEV) /* gone: its notification is on its way */
			r = cache_remove(n, down[i], true);
		if (r < 0)
			return r == -ENOMEM ? r : -ESTALE;
	}
	return 0;
}

/* Brings the cache up to date; an error means: dump the kernel instead. */
static int cache_sync(struct link_nl *n)
{
	int r;

	if (n->cache_off)
		return -EOPNOTSUPP;
	if (n->cache_fd < 0) {
		r = cache_open(n);
		if (r < 0) {
			log_debug("link cache: cannot subscribe to notifications, dumping each time: %s",
				  strerror(-r));
			n->cache_off = true;
			return r;
		}
	}
	if (n->cache_valid) {
		r = cache_drain(n, true);
		if (r >= 0)
			r = cache_relist(n);
		if (r >= 0)
			r = cache_refresh_down(n);
		if (r >= 0)
			return 0;
		log_debug("link cache: dumping the links again: %s", strerror(-r));
	}
	r = cache_fill(n);
	if (r >= 0)
		r = cache_refresh_down(n);
	if (r == -E2BIG) /* too many links down to read one by one: the dump just taken will do */
		r = 0;
	if (r < 0)
		log_debug("link cache: cannot fill it, dumping the kernel this time: %s", strerror(-r));
	return r;
}

static int cache_copy_links(struct link_nl *n, struct dump_ctx *ctx)
{
	if (n->cache_n == 0)
		return 0;
	ctx->d.links = reallocarray(NULL, n->cache_n, sizeof(*ctx->d.links));
	if (!ctx->d.links)
		return -ENOMEM;
	for (size_t i = 0; i < n->cache_n; i++)
		ctx->d.links[i] = n->cache[i].l;
	ctx->d.n_links = ctx->cap_links = n->cache_n;
	return 0;
}

static void copy_addrs_of(const struct cached_objs *o, int family, uint64_t now, struct dump_ctx *ctx)
{
	for (size_t j = 0; j < o->n_addrs; j++) {
		const struct cached_addr *c = &o->addrs[j];
		struct addr_info *a = &ctx->d.addrs[ctx->d.n_addrs];

		if (c->a.prefix.family != family)
			continue;
		*a = c->a;
		a->valid_lft = lft_left(a->valid_lft, c->at, now);
		a->preferred_lft = lft_left(a->preferred_lft, c->at, now);
		ctx->d.n_addrs++;
	}
}

static void copy_routes_of(const struct cached_objs *o, int family, uint64_t now, struct dump_ctx *ctx)
{
	for (size_t j = 0; j < o->n_routes; j++) {
		const struct cached_route *c = &o->routes[j];
		struct route_info *r = &ctx->d.routes[ctx->d.n_routes];

		if (c->r.dst.family != family)
			continue;
		*r = c->r;
		/* 0 is "never": one that expired is on its way out, keep it at 1 */
		if (r->expires)
			r->expires = lft_left(r->expires, c->at, now) ?: 1;
		ctx->d.n_routes++;
	}
}

/* As the kernel dumps them: IPv4 first, by link. */
static int cache_copy_objs(struct link_nl *n, unsigned what, struct dump_ctx *ctx)
{
	const struct cached_link *only = NULL;
	size_t n_addrs = n->cache_n_addrs, n_routes = n->cache_n_routes;
	uint64_t now = now_ms();

	if (ctx->only) {
		for (size_t i = 0; i < n->cache_n && !only; i++)
			if (!strcmp(n->cache[i].l.name, ctx->only))
				only = &n->cache[i];
		if (!only)
			return 0;
		n_addrs = only->o.n_addrs;
		n_routes = only->o.n_routes;
	}
	if ((what & LINK_DUMP_ADDRS) && n_addrs) {
		ctx->d.addrs = reallocarray(NULL, n_addrs, sizeof(*ctx->d.addrs));
		if (!ctx->d.addrs)
			return -ENOMEM;
		ctx->cap_addrs = n_addrs;
	}
	if ((what & LINK_DUMP_ROUTES) && n_routes) {
		ctx->d.routes = reallocarray(NULL, n_routes, sizeof(*ctx->d.routes));
		if (!ctx->d.routes)
			return -ENOMEM;
		ctx->cap_routes = n_routes;
	}
	for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
		if (only) {
			if (ctx->d.addrs)
				copy_addrs_of(&only->o, family, now, ctx);
			if (ctx->d.routes)
				copy_routes_of(&only->o, family, now, ctx);
			continue;
		}
		for (size_t i = 0; i < n->cache_n; i++) {
			if ((what & LINK_DUMP_FOREIGN) && reconcile_tag_owner(n->cache[i].l.alias))
				continue;
			if (ctx->d.addrs)
				copy_addrs_of(&n->cache[i].o, family, now, ctx);
			if (ctx->d.routes)
				copy_routes_of(&n->cache[i].o, family, now, ctx);
		}
		if (ctx->d.routes)
			copy_routes_of(&n->unlinked, family, now, ctx);
	}
	return 0;
}

static int cache_copy(struct link_nl *n, unsigned what, struct dump_ctx *ctx)
{
	int r = 0;

	if (what & LINK_DUMP_LINKS)
		r = cache_copy_links(n, ctx);
	if (r >= 0)
		r = cache_copy_objs(n, what, ctx);
	return r;
}

/* Routes are not followed while one the cache does not take exists, or when the kernel deletes
 * IPv6 routes of a link going down without notifying (net.ipv6.route.skip_notify_on_dev_down). */
static bool routes_followed(struct link_nl *n)
{
	_cleanup_close_ int fd = -1;
	char c = '0';

	if (n->routes_off)
		return false;
	fd = open("/proc/sys/net/ipv6/route/skip_notify_on_dev_down", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && read(fd, &c, 1) != 1)
		c = '0';
	return c == '0';
}

/* only: the addresses and routes of the link of that name alone (dump_of), else NULL. */
static int dump_cached(struct link_nl *n, unsigned what, const char *only, struct link_dump *ret)
{
	unsigned cached = 0;
	int r = -EAGAIN;

	if ((what & (LINK_DUMP_LINKS | LINK_DUMP_ADDRS | LINK_DUMP_ROUTES)) && !(what & LINK_DUMP_FRESH) &&
	    cache_sync(n) >= 0)
		cached = what & (LINK_DUMP_LINKS | LINK_DUMP_ADDRS |
				 ((what & LINK_DUMP_ROUTES) && routes_followed(n) ? LINK_DUMP_ROUTES : 0));
	/* A dump interrupted by a concurrent change may be inconsistent: start over. */
	for (int i = 0; i < NL_DUMP_TRIES && r == -EAGAIN; i++) {
		struct dump_ctx ctx = { .only = only };

		r = cache_copy(n, cached | (what & LINK_DUMP_FOREIGN), &ctx);
		if (r >= 0)
			r = dump_once(n, what & ~cached, &ctx);
		/* what the kernel gave, unfiltered */
		if (r >= 0 && (what & LINK_DUMP_FOREIGN) &&
		    (what & ~cached & (LINK_DUMP_ADDRS | LINK_DUMP_ROUTES)))
			r = link_dump_keep_foreign(&ctx.d);
		if (r >= 0 && only &&
		    (what & ~cached & (LINK_DUMP_ADDRS | LINK_DUMP_ROUTES | LINK_DUMP_NEIGHS))) {
			const struct link_info *l = link_dump_find_name(&ctx.d, only);

			link_dump_keep_of(&ctx.d, l ? l->ifindex : 0);
		}
		if (r >= 0) {
			*ret = ctx.d;
			return 0;
		}
		link_dump_free(&ctx.d);
	}
	return r;
}

static int nl_dump(void *userdata, unsigned what, struct link_dump *ret)
{
	return dump_cached(userdata, what, NULL, ret);
}

/* The links are needed to find ifname's index when the kernel is dumped (no cache). */
static int nl_dump_of(void *userdata, unsigned what, const char *ifname, struct link_dump *ret)
{
	struct link_dump d = {};
	int r = dump_cached(userdata, what | LINK_DUMP_LINKS, ifname, &d);

	if (r < 0)
		return r;
	if (!(what & LINK_DUMP_LINKS)) {
		free(d.links);
		d.links = NULL;
		d.n_links = 0;
	}
	*ret = d;
	return 0;
}

static const char *nl_last_error(void *userdata)
{
	struct link_nl *n = userdata;

	return n->error[0] ? n->error : NULL;
}


/*
 * A mutation: sent now and logged once it is acknowledged, or queued while a burst is being
 * built (logged when the burst's ACKs come back).
 */
static int nl_submit(struct link_nl *n, struct nlmsghdr *nlh, const char *desc)
{
	int r;

	if (!n->batching) {
		r = nl_call(n, nlh, NULL, NULL);
		if (r >= 0)
			log_debug("%s", desc);
		return r;
	}
	if (n->batch_n >= n->burst_max || n->batch_len + nlh->nlmsg_len > sizeof(n->batch))
		return -ENOBUFS;
	if (++n->seq == 0)
		n->seq = 1;
	if (n->batch_n == 0)
		n->batch_seq = n->seq;
	nlh->nlmsg_seq = n->seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	memcpy(n->batch + n->batch_len, nlh, nlh->nlmsg_len);
	n->batch_len += MNL_ALIGN(nlh->nlmsg_len);
	snprintf(n->batch_desc[n->batch_n++], NL_DESC_SIZE, "%s", desc);
	return 0;
}

static int nl_batch_begin(void *userdata)
{
	struct link_nl *n = userdata;

	if (n->batching)
		return -EBUSY;
	n->batching = true;
	n->batch_len = 0;
	n->batch_n = 0;
	return 0;
}

/* One ACK of a burst: logs the request it answers; returns its error (0 if acknowledged). */
static int batch_ack(struct link_nl *n, const struct nlmsghdr *m, unsigned i)
{
	struct nl_call c = { .n = n };

	nl_status(&c, m);
	if (c.error < 0)
		log_debug("%s: failed: %s (in burst)", n->batch_desc[i], strerror(-c.error));
	else
		log_debug("%s (in burst)", n->batch_desc[i]);
	return c.error;
}

static int nl_batch_commit(void *userdata)
{
	struct link_nl *n = userdata;
	unsigned acked = 0, total = n->batch_n;
	int first = 0;

	n->batching = false;
	n->error[0] = 0;
	if (total == 0)
		return 0;
	if (mnl_socket_sendto(n->nl, n->batch, n->batch_len) < 0)
		return negative_errno();
	while (acked < total) {
		ssize_t r = mnl_socket_recvfrom(n->nl, n->buf, sizeof(n->buf));
		int len = r;

		if (r < 0)
			return first ?: negative_errno();
		for (const struct nlmsghdr *m = (void *)n->buf; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			uint32_t i = m->nlmsg_seq - n->batch_seq;
			char saved[sizeof(n->error)];
			int e;

			if (m->nlmsg_pid != n->portid || i >= total || m->nlmsg_type != NLMSG_ERROR)
				continue;
			memcpy(saved, n->error, sizeof(saved));
			e = batch_ack(n, m, i);
			if (e < 0 && !first)
				first = e;
			else
				memcpy(n->error, saved, sizeof(saved)); /* keep the first failure's text */
			acked++;
		}
	}
	return first;
}

static int nl_port_set(void *userdata, int ifindex, int master)
{
	struct nlmsghdr *nlh = link_msg(userdata, RTM_NEWLINK, 0, ifindex);
	char desc[NL_DESC_SIZE];

	mnl_attr_put_u32(nlh, IFLA_MASTER, master);
	if (master)
		snprintf(desc, sizeof(desc), "link %d master %d", ifindex, master);
	else
		snprintf(desc, sizeof(desc), "link %d nomaster", ifindex);
	return nl_submit(userdata, nlh, desc);
}

static int nl_port_plug(void *userdata, int ifindex, int master, const struct mac *mac)
{
	struct nlmsghdr *nlh = link_msg(userdata, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	char desc[NL_DESC_SIZE];
	struct nlattr *nest;
	int r;

	if (mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac->b), mac->b);
	mnl_attr_put_u32(nlh, IFLA_MASTER, master);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	snprintf(desc, sizeof(desc), "link %d master %d up", ifindex, master);
	r = nl_submit(userdata, nlh, desc);
	if (r < 0)
		return r;
	/* A guest's port takes no part in STP (--stp on, now or later): the kernel hands BPDUs to STP
	 * before any bridge-family hook, so port security never sees them, and a hostile guest's
	 * config BPDU (priority 0, a 250 s forward delay) would make it the root port. BPDU guard
	 * disables the port on a BPDU, root block keeps it from ever being the root port; with STP off
	 * neither does anything. */
	nlh = link_msg(userdata, RTM_SETLINK, 0, ifindex);
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_family = AF_BRIDGE;
	nest = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_GUARD, 1);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_PROTECT, 1);
	mnl_attr_nest_end(nlh, nest);
	snprintf(desc, sizeof(desc), "link %d bpdu_guard on root_block on", ifindex);
	return nl_submit(userdata, nlh, desc);
}

/* Into the scratch group in bursts (a vanished link is fine), then one delete of the group. */
static int nl_links_del(void *userdata, const int *ifindexes, size_t n)
{
	struct link_nl *l = userdata;
	struct nlmsghdr *nlh;
	int r, first = 0;

	if (l->batching)
		return -EBUSY;
	for (size_t i = 0; i < n;) {
		nl_batch_begin(l);
		for (; i < n && l->batch_n < l->burst_max; i++) {
			char desc[NL_DESC_SIZE];

			nlh = link_msg(l, RTM_NEWLINK, 0, ifindexes[i]);
			mnl_attr_put_u32(nlh, IFLA_GROUP, LINK_SCRATCH_GROUP);
			snprintf(desc, sizeof(desc), "link %d group %u", ifindexes[i], LINK_SCRATCH_GROUP);
			nl_submit(l, nlh, desc);
		}
		r = nl_batch_commit(l);
		if (r < 0 && r != -ENODEV && !first)
			first = r;
	}
	nlh = link_msg(l, RTM_DELLINK, 0, 0);
	mnl_attr_put_u32(nlh, IFLA_GROUP, LINK_SCRATCH_GROUP);
	r = nl_call(l, nlh, NULL, NULL);
	if (r == -ENODEV) /* every one of them was already gone */
		r = 0;
	if (r >= 0)
		log_debug("%zu links deleted in one transaction", n);
	return first ?: r;
}

static int nl_addr_add_full(void *userdata, const struct addr_info *a, bool replace)
{
	struct link_nl *n = userdata;
	const struct ip_prefix *p = &a->prefix;
	unsigned bytes = ip_family_bits(p->family) / 8;
	uint16_t flags = NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL);
	struct nlmsghdr *nlh = nl_msg(n, RTM_NEWADDR, flags, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct ifa_cacheinfo ci = { .ifa_prefered = a->preferred_lft, .ifa_valid = a->valid_lft };
	char desc[NL_DESC_SIZE], text[128];

	if ((p->family != AF_INET && p->family != AF_INET6) || p->len > ip_family_bits(p->family))
		return nl_invalid(n, "invalid address");
	*ifa = (struct ifaddrmsg){ .ifa_family = p->family, .ifa_prefixlen = p->len, .ifa_flags = a->flags & 0xff,
				   .ifa_scope = a->scope, .ifa_index = a->ifindex };
	mnl_attr_put(nlh, IFA_LOCAL, bytes, p->addr.bytes);
	mnl_attr_put(nlh, IFA_ADDRESS, bytes, (a->peer_family == p->family ? &a->peer : &p->addr)->bytes);
	if (p->family == AF_INET && a->broadcast_family == AF_INET)
		mnl_attr_put(nlh, IFA_BROADCAST, bytes, a->broadcast.bytes);
	if (p->family == AF_INET && a->label[0])
		mnl_attr_put_strz(nlh, IFA_LABEL, a->label);
	mnl_attr_put_u32(nlh, IFA_FLAGS, a->flags);
	if (a->rt_priority)
		mnl_attr_put_u32(nlh, IFA_RT_PRIORITY, a->rt_priority);
	if (a->proto)
		mnl_attr_put_u8(nlh, IFA_PROTO, a->proto);
	if (a->valid_lft != LINK_LFT_FOREVER || a->preferred_lft != LINK_LFT_FOREVER)
		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	snprintf(desc, sizeof(desc), "addr %s %s dev %d", replace ? "replace" : "add",
		 addr_info_format(a, text, sizeof(text)), a->ifindex);
	return nl_submit(n, nlh, desc);
}

/* RTM_NEWNEIGH/RTM_DELNEIGH of family AF_BRIDGE with NTF_MASTER: the bridge's table, not the
 * port's own (iproute2's 'master'); NUD_NOARP makes it static (never ages, not 'permanent': a
 * permanent entry is the bridge's own address and is not forwarded to the port). */
static int nl_fdb_change(void *userdata, int ifindex, const struct mac *mac, bool add)
{
	struct link_nl *n = userdata;
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	char desc[NL_DESC_SIZE], s[MAC_STRLEN];

	n->error[0] = 0;
	nlh = nl_msg(n, add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_REPLACE : 0,
		     sizeof(*ndm));
	ndm = mnl_nlmsg_get_payload(nlh);
	*ndm = (struct ndmsg){ .ndm_family = AF_BRIDGE,
			       .ndm_ifindex = ifindex,
			       .ndm_state = NUD_NOARP | NUD_REACHABLE,
			       .ndm_flags = NTF_MASTER };
	mnl_attr_put(nlh, NDA_LLADDR, sizeof(mac->b), mac->b);
	snprintf(desc, sizeof(desc), "fdb %s %s dev %d master static", add ? "replace" : "del",
		 mac_format(mac, s, sizeof(s)), ifindex);
	return nl_submit(n, nlh, desc);
}

static int nl_neigh_change(void *userdata, const struct neigh_info *nb, bool add)
{
	struct link_nl *n = userdata;
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	char desc[NL_DESC_SIZE], text[NL_DESC_SIZE - 32];

	if (nb->family != AF_INET && nb->family != AF_INET6)
		return nl_invalid(n, "invalid neighbour");
	nlh = nl_msg(n, add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_REPLACE : 0,
		     sizeof(*ndm));
	ndm = mnl_nlmsg_get_payload(nlh);
	*ndm = (struct ndmsg){ .ndm_family = nb->family,
			       .ndm_ifindex = nb->ifindex,
			       .ndm_state = nb->state,
			       .ndm_flags = nb->flags };
	mnl_attr_put(nlh, NDA_DST, ip_family_bits(nb->family) / 8, nb->dst.bytes);
	if (add && nb->has_lladdr)
		mnl_attr_put(nlh, NDA_LLADDR, sizeof(nb->lladdr.b), nb->lladdr.b);
	if (add && nb->protocol)
		mnl_attr_put_u8(nlh, NDA_PROTOCOL, nb->protocol);
	snprintf(desc, sizeof(desc), "neigh %s %s dev %d", add ? "replace" : "del",
		 neigh_info_format(nb, text, sizeof(text)), nb->ifindex);
	return nl_submit(n, nlh, desc);
}

static void route_put(struct nlmsghdr *nlh, const struct route_info *rt)
{
	unsigned bytes = ip_family_bits(rt->dst.family) / 8;
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	*rtm = (struct rtmsg){ .rtm_family = rt->dst.family, .rtm_dst_len = rt->dst.len,
			       .rtm_table = rt->table < 256 ? rt->table : RT_TABLE_UNSPEC,
			       .rtm_protocol = rt->protocol, .rtm_scope = rt->scope, .rtm_type = rt->type,
			       .rtm_flags = rt->flags & RTNH_F_ONLINK };
	mnl_attr_put_u32(nlh, RTA_TABLE, rt->table);
	if (rt->dst.len)
		mnl_attr_put(nlh, RTA_DST, bytes, rt->dst.addr.bytes);
	if (rt->ifindex)
		mnl_attr_put_u32(nlh, RTA_OIF, rt->ifindex);
	if (rt->gw_family)
		mnl_attr_put(nlh, RTA_GATEWAY, ip_family_bits(rt->gw_family) / 8, rt->gw.bytes);
	if (rt->priority)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, rt->priority);
	if (rt->prefsrc_family)
		mnl_attr_put(nlh, RTA_PREFSRC, ip_family_bits(rt->prefsrc_family) / 8, rt->prefsrc.bytes);
	if (rt->dst.family == AF_INET6 && rt->pref)
		mnl_attr_put_u8(nlh, RTA_PREF, rt->pref);
	if (rt->metrics_len)
		mnl_attr_put(nlh, RTA_METRICS, rt->metrics_len, rt->metrics);
	if (rt->dst.family == AF_INET6 && rt->expires)
		mnl_attr_put_u32(nlh, RTA_EXPIRES, rt->expires);
}

static int nl_route_change(void *userdata, enum route_change op, const struct route_info *rt)
{
	static const struct {
		uint16_t type, flags;
		const char *name;
	} ops[] = {
		[ROUTE_ADD] = { RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, "add" },
		[ROUTE_REPLACE] = { RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, "replace" },
		[ROUTE_DEL] = { RTM_DELROUTE, 0, "del" },
	};
	struct link_nl *n = userdata;
	struct nlmsghdr *nlh;
	char desc[NL_DESC_SIZE], text[NL_DESC_SIZE - 16];

	if (op > ROUTE_DEL || (rt->dst.family != AF_INET && rt->dst.family != AF_INET6))
		return nl_invalid(n, "invalid route");
	nlh = nl_msg(n, ops[op].type, ops[op].flags, sizeof(struct rtmsg));
	route_put(nlh, rt);
	route_info_format(rt, NULL, text, sizeof(text));
	snprintf(desc, sizeof(desc), "route %s %s oif %d", ops[op].name, text, rt->ifindex);
	return nl_submit(n, nlh, desc);
}

static int sysctl_path(int family, const char *ifname, const char *key, char *buf, size_t size)
{
	if ((family != AF_INET && family != AF_INET6) || !ifname[0] || strchr(ifname, '/') ||
	    !strcmp(ifname, ".") || !strcmp(ifname, "..") || strchr(key, '/') || strchr(key, '.'))
		return -EINVAL;
	snprintf(buf, size, "/proc/sys/net/%s/conf/%s/%s", family == AF_INET ? "ipv4" : "ipv6", ifname, key);
	return 0;
}

static int nl_sysctl_get(void *userdata, int family, const char *ifname, const char *key, char *buf, size_t size)
{
	char path[256];
	_cleanup_close_ int fd = -1;
	ssize_t len;
	int r = sysctl_path(family, ifname, key, path, sizeof(path));

	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	len = read(fd, buf, size - 1);
	if (len < 0)
		return negative_errno();
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	buf[len] = 0;
	return 0;
}

static int nl_sysctl_set(void *userdata, int family, const char *ifname, const char *key, const char *value)
{
	char path[256];
	_cleanup_close_ int fd = -1;
	int r = sysctl_path(family, ifname, key, path, sizeof(path));

	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (write(fd, value, strlen(value)) < 0)
		return negative_errno();
	log_debug("sysctl net.%s.conf.%s.%s=%s", family == AF_INET ? "ipv4" : "ipv6", ifname, key, value);
	return 0;
}

/* Gratuitous ARP request: sender and target are the address itself. */
static int announce_arp(int ifindex, const struct mac *mac, const struct ip_prefix *addr)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				   .sll_ifindex = ifindex, .sll_halen = ETH_ALEN };
	uint8_t pkt[28] = { 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01 };
	_cleanup_close_ int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));

	if (fd < 0)
		return negative_errno();
	memset(sll.sll_addr, 0xff, ETH_ALEN);
	memcpy(pkt + 8, mac->b, 6);
	memcpy(pkt + 14, addr->addr.bytes, 4);
	memcpy(pkt + 24, addr->addr.bytes, 4);
	if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return negative_errno();
	return 0;
}

/* Unsolicited NA to all nodes, override flag set, with our link-layer address. */
static int announce_na(int ifindex, const struct mac *mac, const struct ip_prefix *addr)
{
	struct sockaddr_in6 src = { .sin6_family = AF_INET6, .sin6_addr = addr->addr.in6 };
	struct sockaddr_in6 dst = { .sin6_family = AF_INET6, .sin6_scope_id = ifindex };
	struct {
		struct nd_neighbor_advert na;
		uint8_t opt[8];
	} pkt = {};
	_cleanup_close_ int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	int hops = 255;

	if (fd < 0)
		return negative_errno();
	if (IN6_IS_ADDR_LINKLOCAL(&src.sin6_addr))
		src.sin6_scope_id = ifindex;
	inet_pton(AF_INET6, "ff02::1", &dst.sin6_addr);
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) < 0 ||
	    bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
		return negative_errno();
	pkt.na.nd_na_type = ND_NEIGHBOR_ADVERT;
	pkt.na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	pkt.na.nd_na_target = addr->addr.in6;
	pkt.opt[0] = ND_OPT_TARGET_LINKADDR;
	pkt.opt[1] = 1;
	memcpy(pkt.opt + 2, mac->b, 6);
	if (sendto(fd, &pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		return negative_errno();
	return 0;
}

static int nl_announce(void *userdata, int ifindex, const struct mac *mac, const struct ip_prefix *addr)
{
	char s[IP_PREFIX_STRLEN];
	int r = addr->family == AF_INET ? announce_arp(ifindex, mac, addr) : announce_na(ifindex, mac, addr);

	if (r >= 0)
		log_debug("announce %s dev %d (%s)", ip_prefix_format(addr, s, sizeof(s)), ifindex,
			  addr->family == AF_INET ? "gratuitous ARP" : "unsolicited NA");
	return r;
}

/* ---- change notifications: a socket of their own, so they never mix with replies ---- */

static int nl_events_open(void *userdata, unsigned what, int *ret_fd)
{
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return negative_errno();
	for (size_t i = 0; i < ELEMENTSOF(event_groups); i++)
		if ((what & event_groups[i].what) && setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
								&event_groups[i].group, sizeof(unsigned)) < 0)
			return negative_errno();
	log_debug("events open fd=%d what=%#x", fd, what);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* The kind of one notification; 0 for what netd did not subscribe to. */
static unsigned event_kind(const struct nlmsghdr *nlh)
{
	const uint8_t *family = mnl_nlmsg_get_payload(nlh); /* ifa_family, rtm_family: the first byte */

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return LINK_EVENT_LINKS;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifaddrmsg))
			return 0;
		return *family == AF_INET ? LINK_EVENT_ADDRS4 : *family == AF_INET6 ? LINK_EVENT_ADDRS6 : 0;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct rtmsg))
			return 0;
		return *family == AF_INET ? LINK_EVENT_ROUTES4 : *family == AF_INET6 ? LINK_EVENT_ROUTES6 : 0;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		return LINK_EVENT_NEIGHS;
	}
	return 0;
}

static int nl_events_read(void *userdata, int fd, unsigned *ret_what)
{
	_Alignas(struct nlmsghdr) char buf[8192];
	unsigned what = 0;

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		int rest = (int)len;

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == ENOBUFS) {
			what |= LINK_EVENT_LOST;
			continue;
		}
		if (len < 0 && errno == EAGAIN)
			break;
		if (len < 0)
			return negative_errno();
		for (const struct nlmsghdr *nlh = (void *)buf; mnl_nlmsg_ok(nlh, rest);
		     nlh = mnl_nlmsg_next(nlh, &rest))
			what |= event_kind(nlh);
	}
	*ret_what = what;
	return 0;
}

static void nl_events_close(void *userdata, int fd)
{
	if (fd >= 0)
		close(fd);
}

static const struct link_ops link_nl_ops = {
	.name = "netlink",
	.bridge_add = nl_bridge_add,
	.bridge_set_stp = nl_bridge_set_stp,
	.vxlan_add = nl_vxlan_add,
	.port_set_flags = nl_port_set_flags,
	.fdb_change = nl_fdb_change,
	.link_del = nl_link_del,
	.link_set_up = nl_link_set_up,
	.link_set_mtu = nl_link_set_mtu,
	.link_set_mac = nl_link_set_mac,
	.link_set_alias = nl_link_set_alias,
	.addr_add = nl_addr_add,
	.addr_del = nl_addr_del,
	.dump = nl_dump,
	.dump_of = nl_dump_of,
	.last_error = nl_last_error,
	.port_set = nl_port_set,
	.addr_add_full = nl_addr_add_full,
	.route_change = nl_route_change,
	.neigh_change = nl_neigh_change,
	.sysctl_get = nl_sysctl_get,
	.sysctl_set = nl_sysctl_set,
	.announce = nl_announce,
	.port_plug = nl_port_plug,
	.links_del = nl_links_del,
	.batch_begin = nl_batch_begin,
	.batch_commit = nl_batch_commit,
	.events_open = nl_events_open,
	.events_read = nl_events_read,
	.events_close = nl_events_close,
};

int link_nl_open(struct link_backend *ret)
{
	_cleanup_free_ struct link_nl *n = calloc(1, sizeof(struct link_nl));
	int one = 1, rcvbuf = NL_BATCH_MAX * 2048, r;

	if (!n)
		return -ENOMEM;
	n->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!n->nl)
		return negative_errno();
	/* Best effort: without extended ACKs we only lose the error text. */
	(void)mnl_socket_setsockopt(n->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	/* A burst's ACKs all arrive before we read one, about 1 KiB each in the receive buffer:
	 * the default (rmem_default, 208 KiB here) drops them past about 250. Root may go beyond
	 * rmem_max; otherwise bursts stay at NL_BURST_SAFE requests. */
	if (setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) >= 0)
		n->burst_max = NL_BATCH_MAX;
	else
		n->burst_max = NL_BURST_SAFE;
	if (mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = negative_errno();
		mnl_socket_close(n->nl);
		return r;
	}
	n->portid = mnl_socket_get_portid(n->nl);
	n->cache_fd = -1;
	*ret = (struct link_backend){ .ops = &link_nl_ops, .userdata = TAKE_PTR(n) };
	return 0;
}

void link_nl_close(struct link_backend *b)
{
	struct link_nl *n;

	if (!b || !b->userdata)
		return;
	n = b->userdata;
	mnl_socket_close(n->nl);
	if (n->cache_fd >= 0)
		close(n->cache_fd);
	cache_drop(n);
	free(n->cache);
	link_dump_free(&n->scratch.d);
	free(n);
	*b = (struct link_backend){};
}
