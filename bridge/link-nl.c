/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rtnetlink backend: links, addresses and routes through one NETLINK_ROUTE socket (libmnl).
 * Every request asks for an ACK and waits for it, so each call is synchronous and returns the
 * kernel's own errno; the extended-ACK text of the last failure is kept for last_error().
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "link.h"
#include "log.h"
#include "macro.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* <linux/if.h>, which clashes with <net/if.h> */
#endif

#define NL_REQ_SIZE 1024
/* The kernel sizes dump batches after the receive buffer; 32 KiB is its cap, keep headroom. */
#define NL_RECV_SIZE (64 * 1024)
#define NL_ALIAS_MAX 255 /* IFALIASZ - 1 */
#define NL_DUMP_TRIES 4

struct link_nl {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char error[256]; /* extended-ACK text of the last failed request, "" if none */
	_Alignas(struct nlmsghdr) char req[NL_REQ_SIZE];
	_Alignas(struct nlmsghdr) char buf[NL_RECV_SIZE];
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

struct dump_ctx {
	struct link_dump d;
	size_t cap_links, cap_addrs, cap_routes;
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
	mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, 0);
	mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, 0);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_call(n, nlh, NULL, NULL);
}

/*
 * What creation does not keep: the kernel ignores IFLA_IFALIAS there, and an MTU given at
 * creation is not marked as set by the user, so the first port's MTU would replace it.
 */
static int bridge_configure(struct link_nl *n, int ifindex, const struct bridge_spec *spec)
{
	struct nlmsghdr *nlh = link_msg(n, RTM_NEWLINK, 0, ifindex);

	if (spec->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, spec->mtu);
	if (spec->alias && spec->alias[0])
		mnl_attr_put_str(nlh, IFLA_IFALIAS, spec->alias);
	return nl_call(n, nlh, NULL, NULL);
}

/* Finds the new bridge and configures it; deletes it again if either fails. */
static int bridge_finish(struct link_nl *n, const struct bridge_spec *spec, int *ret_ifindex)
{
	char saved[sizeof(n->error)];
	int ifindex = 0, r;

	r = link_get_index(n, spec->name, &ifindex);
	if (r >= 0)
		r = bridge_configure(n, ifindex, spec);
	if (r >= 0) {
		*ret_ifindex = ifindex;
		return 0;
	}
	memcpy(saved, n->error, sizeof(saved));
	if (link_delete(n, ifindex, spec->name) >= 0)
		log_debug("bridge del %s (undo)", spec->name);
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
	r = bridge_finish(n, spec, &ifindex);
	if (r < 0)
		return r;
	log_debug("bridge add %s ifindex=%d mac=%s mtu=%u stp=off fd=0 alias=%s", spec->name,
		  ifindex, mac_format(&spec->mac, mac, sizeof(mac)), spec->mtu, strna(spec->alias));
	*ret_ifindex = ifindex;
	return 0;
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

static int nl_link_set_mac(void *userdata, int ifindex, const struct mac *mac)
{
	int r = link_set(userdata, ifindex, IFLA_ADDRESS, mac->b, sizeof(mac->b));
	char s[MAC_STRLEN];

	if (r >= 0)
		log_debug("link %d mac %s", ifindex, mac_format(mac, s, sizeof(s)));
	return r;
}

static int nl_link_set_master(void *userdata, int ifindex, int master_ifindex)
{
	uint32_t master = master_ifindex;
	int r = link_set(userdata, ifindex, IFLA_MASTER, &master, sizeof(master));

	if (r >= 0)
		log_debug("link %d master %d", ifindex, master_ifindex);
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

static int addr_change(struct link_nl *n, uint16_t type, uint16_t flags, int ifindex,
		       const struct ip_prefix *p)
{
	unsigned bytes = ip_family_bits(p->family) / 8;
	struct nlmsghdr *nlh = nl_msg(n, type, flags, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	union in_addr_union bcast;
	char s[IP_PREFIX_STRLEN];
	int r;

	if ((p->family != AF_INET && p->family != AF_INET6) || p->len > ip_family_bits(p->family))
		return nl_invalid(n, "invalid address");
	*ifa = (struct ifaddrmsg){ .ifa_family = p->family, .ifa_prefixlen = p->len,
				   .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = ifindex };
	mnl_attr_put(nlh, IFA_LOCAL, bytes, p->addr.bytes);
	mnl_attr_put(nlh, IFA_ADDRESS, bytes, p->addr.bytes);
	if (p->family == AF_INET && p->len < 31) {
		ip_prefix_broadcast(p, &bcast);
		mnl_attr_put(nlh, IFA_BROADCAST, bytes, bcast.bytes);
	}
	r = nl_call(n, nlh, NULL, NULL);
	if (r >= 0)
		log_debug("addr %s %s dev %d", type == RTM_NEWADDR ? "add" : "del",
			  ip_prefix_format(p, s, sizeof(s)), ifindex);
	return r;
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
	uint32_t master = 0;

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return 0;
	l = ARRAY_PUSH(ctx->d.links, ctx->d.n_links, ctx->cap_links);
	if (!l)
		return -ENOMEM;
	l->ifindex = ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	l->running = ifi->ifi_flags & (IFF_RUNNING | IFF_LOWER_UP);
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
		else if (type == IFLA_LINKINFO)
			link_info_parse(l, attr);
	}
	l->master = master;
	return 0;
}

static int addr_parse(const struct nlmsghdr *nlh, void *userdata)
{
	struct dump_ctx *ctx = userdata;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *local = NULL, *address = NULL;
	struct addr_info *a;

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
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
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = attr;
		else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			address = attr;
		else if (mnl_attr_get_type(attr) == IFA_FLAGS)
			attr_get_u32(attr, &a->flags);
	}
	/* On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours. */
	if (local || address)
		attr_get_addr(local ?: address, a->prefix.family, &a->prefix.addr);
	return 0;
}

static int route_parse(const struct nlmsghdr *nlh, void *userdata)
{
	struct dump_ctx *ctx = userdata;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct route_info *rt;
	uint32_t oif = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm) ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return 0;
	rt = ARRAY_PUSH(ctx->d.routes, ctx->d.n_routes, ctx->cap_routes);
	if (!rt)
		return -ENOMEM;
	rt->table = rtm->rtm_table;
	rt->type = rtm->rtm_type;
	rt->protocol = rtm->rtm_protocol;
	rt->dst.family = rtm->rtm_family;
	rt->dst.len = rtm->rtm_dst_len;
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
	}
	rt->ifindex = oif;
	return 0;
}

static int dump_request(struct link_nl *n, uint16_t type, int family, nl_parse_t parse,
			struct dump_ctx *ctx)
{
	size_t hdrlen = type == RTM_GETLINK    ? sizeof(struct ifinfomsg)
			: type == RTM_GETROUTE ? sizeof(struct rtmsg)
					       : sizeof(struct ifaddrmsg);
	struct nlmsghdr *nlh = nl_msg(n, type, NLM_F_DUMP, hdrlen);
	/* Each of these headers starts with the family byte. */
	struct rtgenmsg *hdr = mnl_nlmsg_get_payload(nlh);

	hdr->rtgen_family = family;
	if (type == RTM_GETLINK)
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nl_call(n, nlh, parse, ctx);
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
	return r;
}

static int nl_dump(void *userdata, unsigned what, struct link_dump *ret)
{
	int r = -EAGAIN;

	/* A dump interrupted by a concurrent change may be inconsistent: start over. */
	for (int i = 0; i < NL_DUMP_TRIES && r == -EAGAIN; i++) {
		struct dump_ctx ctx = {};

		r = dump_once(userdata, what, &ctx);
		if (r >= 0) {
			*ret = ctx.d;
			return 0;
		}
		link_dump_free(&ctx.d);
	}
	return r;
}

static const char *nl_last_error(void *userdata)
{
	struct link_nl *n = userdata;

	return n->error[0] ? n->error : NULL;
}

static const struct link_ops link_nl_ops = {
	.name = "netlink",
	.bridge_add = nl_bridge_add,
	.link_del = nl_link_del,
	.link_set_up = nl_link_set_up,
	.link_set_mtu = nl_link_set_mtu,
	.link_set_mac = nl_link_set_mac,
	.link_set_alias = nl_link_set_alias,
	.link_set_master = nl_link_set_master,
	.addr_add = nl_addr_add,
	.addr_del = nl_addr_del,
	.dump = nl_dump,
	.last_error = nl_last_error,
};

int link_nl_open(struct link_backend *ret)
{
	_cleanup_free_ struct link_nl *n = calloc(1, sizeof(struct link_nl));
	int one = 1, r;

	if (!n)
		return -ENOMEM;
	n->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!n->nl)
		return negative_errno();
	/* Best effort: without extended ACKs we only lose the error text. */
	(void)mnl_socket_setsockopt(n->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = negative_errno();
		mnl_socket_close(n->nl);
		return r;
	}
	n->portid = mnl_socket_get_portid(n->nl);
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
	free(n);
	*b = (struct link_backend){};
}
