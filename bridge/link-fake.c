/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A recording, in-memory stand-in for the kernel, for tests without root. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include "fakelog.h"
#include "link.h"
#include "macro.h"

#define LINK_FAKE_EVENTS_MAX 8

struct link_fake {
	struct link_dump k; /* what the "kernel" holds */
	int next_ifindex;
	struct fake_log log;
	unsigned n_mutations;
	unsigned fail_at;
	int fail_errno;
	char fail_op[32];
	bool batching;
	struct fake_sysctl {
		int family;
		char name[IFNAMSIZ + 40];
		char value[48];
	} *sysctls;
	size_t n_sysctls;
	/* Subscriptions to change notifications: a pipe each, whose read end plays the socket. */
	struct fake_events {
		int fd, write_fd;
		unsigned what, pending;
	} events[LINK_FAKE_EVENTS_MAX];
	size_t n_events;
};

static int fake_sysctl_put(struct link_fake *f, int family, const char *ifname, const char *key,
			   const char *value);

/* Every mutation passes here first: counts it and decides whether it is made to fail. */
static int fake_mutation(struct link_fake *f, const char *op)
{
	f->n_mutations++;
	if ((f->fail_at && f->n_mutations == f->fail_at) || !strcmp(f->fail_op, op)) {
		fake_log_add(&f->log, "%s FAILED %s", op, strerror(f->fail_errno));
		return -f->fail_errno;
	}
	return 0;
}

static struct link_info *fake_link(struct link_fake *f, int ifindex)
{
	return (struct link_info *)link_dump_find_index(&f->k, ifindex);
}

static int fake_new_link(struct link_fake *f, const char *name, const char *kind, struct link_info **ret)
{
	struct link_info *p = realloc(f->k.links, (f->k.n_links + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	f->k.links = p;
	p = &f->k.links[f->k.n_links++];
	*p = (struct link_info){ .ifindex = f->next_ifindex++, .mtu = 1500, .stp_state = -1 };
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->kind, sizeof(p->kind), "%s", kind);
	*ret = p;
	return 0;
}

static int fake_bridge_add(void *userdata, const struct bridge_spec *spec, int *ret_ifindex)
{
	struct link_fake *f = userdata;
	struct link_info *l;
	char mac[MAC_STRLEN], stp[48];
	int r;

	r = fake_mutation(f, "bridge_add");
	if (r < 0)
		return r;
	if (link_dump_find_name(&f->k, spec->name))
		return -EEXIST;
	r = fake_new_link(f, spec->name, "bridge", &l);
	if (r < 0)
		return r;
	l->mac = spec->mac;
	l->mtu = spec->mtu ? spec->mtu : 1500;
	l->stp_state = spec->stp;
	l->forward_delay = spec->stp ? spec->forward_delay * 100 : 0;
	snprintf(l->alias, sizeof(l->alias), "%s", spec->alias ? spec->alias : "");
	/* STP only when on: the log of every bridge without it stays as it was */
	snprintf(stp, sizeof(stp), " stp=on forward_delay=%u", spec->forward_delay);
	fake_log_add(&f->log, "bridge_add name=%s mac=%s mtu=%u alias=%s%s", spec->name,
		     mac_format(&spec->mac, mac, sizeof(mac)), spec->mtu, l->alias, spec->stp ? stp : "");
	*ret_ifindex = l->ifindex;
	return 0;
}

static int fake_vxlan_add(void *userdata, const struct vxlan_spec *spec, int *ret_ifindex)
{
	struct link_fake *f = userdata;
	struct link_info *l;
	char local[INET6_ADDRSTRLEN];
	int r;

	r = fake_mutation(f, "vxlan_add");
	if (r < 0)
		return r;
	if (link_dump_find_name(&f->k, spec->name))
		return -EEXIST;
	r = fake_new_link(f, spec->name, "vxlan", &l);
	if (r < 0)
		return r;
	l->mtu = spec->mtu ? spec->mtu : 1500;
	l->vxlan_id = spec->vni;
	l->vxlan_local_family = spec->local_family;
	l->vxlan_local = spec->local;
	l->vxlan_port = spec->dstport;
	snprintf(l->alias, sizeof(l->alias), "%s", spec->alias ? spec->alias : "");
	fake_log_add(&f->log, "vxlan_add name=%s id=%u local=%s dstport=%u learning=off mtu=%u alias=%s",
		     spec->name, spec->vni,
		     ip_addr_format(spec->local_family, &spec->local, local, sizeof(local)), spec->dstport,
		     spec->mtu, l->alias);
	*ret_ifindex = l->ifindex;
	return 0;
}

static int fake_port_set_flags(void *userdata, int ifindex, bool learning, bool neigh_suppress)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex);
	int r = fake_mutation(f, "port_set_flags");

	if (r < 0)
		return r;
	if (!l)
		return -ENODEV;
	if (!l->master)
		return -EOPNOTSUPP; /* the kernel's answer for a link that is no bridge port */
	fake_log_add(&f->log, "port_set_flags %s learning=%s neigh_suppress=%s", l->name,
		     learning ? "on" : "off", neigh_suppress ? "on" : "off");
	return 0;
}

/* Logged, not kept: nothing reads the forwarding table back. */
static int fake_fdb_change(void *userdata, int ifindex, const struct mac *mac, bool add)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex);
	int r = fake_mutation(f, add ? "fdb_replace" : "fdb_del");
	char s[MAC_STRLEN];

	if (r < 0)
		return r;
	if (!l)
		return -ENODEV;
	if (!l->master)
		return -EINVAL; /* the kernel's answer for 'master' on a link that is no bridge port */
	fake_log_add(&f->log, "fdb_%s %s %s master static", add ? "replace" : "del", l->name,
		     mac_format(mac, s, sizeof(s)));
	return 0;
}

static int fake_link_del(void *userdata, int ifindex)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex);
	int r = fake_mutation(f, "link_del");
	size_t i, j;

	if (r < 0)
		return r;
	if (!l)
		return -ENODEV;
	fake_log_add(&f->log, "link_del %s", l->name);
	/* Its sysctls go with it: a link made anew under the name starts from the defaults. */
	for (i = j = 0; i < f->n_sysctls; i++)
		if (strncmp(f->sysctls[i].name, l->name, strlen(l->name)) || f->sysctls[i].name[strlen(l->name)] != '/')
			f->sysctls[j++] = f->sysctls[i];
	f->n_sysctls = j;
	for (i = 0; i < f->k.n_links; i++)
		if (f->k.links[i].master == ifindex)
			f->k.links[i].master = 0;
	for (i = j = 0; i < f->k.n_addrs; i++)
		if (f->k.addrs[i].ifindex != ifindex)
			f->k.addrs[j++] = f->k.addrs[i];
	f->k.n_addrs = j;
	for (i = j = 0; i < f->k.n_routes; i++)
		if (f->k.routes[i].ifindex != ifindex)
			f->k.routes[j++] = f->k.routes[i];
	f->k.n_routes = j;
	for (i = j = 0; i < f->k.n_neighs; i++)
		if (f->k.neighs[i].ifindex != ifindex)
			f->k.neighs[j++] = f->k.neighs[i];
	f->k.n_neighs = j;
	i = l - f->k.links;
	memmove(l, l + 1, (f->k.n_links - i - 1) * sizeof(*l));
	f->k.n_links--;
	return 0;
}

static int fake_link_set_up(void *userdata, int ifindex, bool up)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex);
	int r = fake_mutation(f, "link_set_up");

	if (r < 0)
		return r;
	if (!l)
		return -ENODEV;
	l->up = l->running = up;
	fake_log_add(&f->log, "link_set_up %s %s", l->name, up ? "up" : "down");
	return 0;
}

static int fake_link_set_mtu(void *userdata, int ifindex, uint32_t mtu)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex);
	int r = fake_mutation(f, "link_set_mtu");

	if (r < 0)
		return r;
	if (!l)
		return -ENODEV;
	l->mtu = mtu;
	fake_log_add(&f->log, "link_set_mtu %s %u", l->name, mtu);
	return 0;
}

/* As the kernel: a delay outside 2-30 s is refused while STP is on. */
static int fake_bridge_set_stp(void *userdata, int ifindex, bool stp, unsigned forward_delay)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex);
	int r = fake_mutation(f, "bridge_set_stp");

	if (r < 0)
		return r;
	if (!l)
		return -ENODEV;
	if (strcmp(l->kind, "bridge"))
		return -EOPNOTSUPP;
	if (stp && (forward_delay < 2 || forward_delay > 30))
		return -ERANGE;
	l->stp_state = stp;
	l->forward_delay = forward_delay * 100;
	fake_log_add(&f->log, "bridge_set_stp %s stp=%s forward_delay=%u", l->name, stp ? "on" : "off",
		     forward_delay);
	return 0;
}

static int fake_link_set_mac(void *userdata, int ifindex, const struct mac *mac)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex);
	char buf[MAC_STRLEN];
	int r = fake_mutation(f, "link_set_mac");

	if (r < 0)
		return r;
	if (!l)
		return -ENODEV;
	l->mac = *mac;
	fake_log_add(&f->log, "link_set_mac %s %s", l->name, mac_format(mac, buf, sizeof(buf)));
	return 0;
}

static int fake_link_set_alias(void *userdata, int ifindex, const char *alias)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex);
	int r = fake_mutation(f, "link_set_alias");

	if (r < 0)
		return r;
	if (!l)
		return -ENODEV;
	snprintf(l->alias, sizeof(l->alias), "%s", alias);
	fake_log_add(&f->log, "link_set_alias %s %s", l->name, alias);
	return 0;
}

static ssize_t fake_addr_find(struct link_fake *f, int ifindex, const struct ip_prefix *a)
{
	for (size_t i = 0; i < f->k.n_addrs; i++)
		if (f->k.addrs[i].ifindex == ifindex && f->k.addrs[i].prefix.family == a->family &&
		    ip_addr_equal(a->family, &f->k.addrs[i].prefix.addr, &a->addr))
			return i;
	return -1;
}

/* The subnet route the kernel adds for an address without IFA_F_NOPREFIXROUTE (IPv4: primaries). */
static struct route_info fake_prefix_route(const struct addr_info *a)
{
	struct route_info rt = { .ifindex = a->ifindex,
				 .table = RT_TABLE_MAIN,
				 .type = RTN_UNICAST,
				 .protocol = RTPROT_KERNEL,
				 .dst = a->prefix,
				 .priority = a->rt_priority };

	if (a->peer_family)
		rt.dst.addr = a->peer;
	ip_prefix_mask(&rt.dst);
	if (a->prefix.family == AF_INET) {
		rt.scope = RT_SCOPE_LINK;
		rt.prefsrc_family = AF_INET;
		rt.prefsrc = a->prefix.addr;
	} else if (!rt.priority) {
		rt.priority = 256; /* IP6_RT_PRIO_ADDRCONF */
	}
	return rt;
}

static bool fake_has_prefix_route(const struct addr_info *a)
{
	if (a->flags & IFA_F_NOPREFIXROUTE)
		return false;
	return a->prefix.family == AF_INET6 ||
	       (!(a->flags & IFA_F_SECONDARY) && (a->prefix.len < 32 || a->peer_family));
}

static void fake_route_push(struct link_fake *f, const struct route_info *rt)
{
	struct route_info *p;

	for (size_t i = 0; i < f->k.n_routes; i++)
		if (f->k.routes[i].ifindex == rt->ifindex && route_info_same_key(&f->k.routes[i], rt))
			return; /* IPv6: the same route exists already (EEXIST, ignored) */
	p = realloc(f->k.routes, (f->k.n_routes + 1) * sizeof(*p));
	if (!p)
		return;
	f->k.routes = p;
	f->k.routes[f->k.n_routes++] = *rt;
}

static void fake_route_drop(struct link_fake *f, const struct route_info *rt)
{
	for (size_t i = 0; i < f->k.n_routes; i++) {
		const struct route_info *x = &f->k.routes[i];

		if (x->ifindex != rt->ifindex || !route_info_same_key(x, rt) ||
		    x->protocol != RTPROT_KERNEL ||
		    (rt->prefsrc_family && !ip_addr_equal(AF_INET, &x->prefsrc, &rt->prefsrc)))
			continue;
		memmove(&f->k.routes[i], &f->k.routes[i + 1], (f->k.n_routes - i - 1) * sizeof(*x));
		f->k.n_routes--;
		return;
	}
}

static bool fake_same_64(const struct addr_info *a, const struct addr_info *b)
{
	return a->ifindex == b->ifindex && a->prefix.family == AF_INET6 && b->prefix.family == AF_INET6 &&
	       !memcmp(a->prefix.addr.bytes, b->prefix.addr.bytes, 8);
}

static bool fake_same_subnet(const struct addr_info *a, const struct addr_info *b)
{
	struct ip_prefix x = a->prefix, y = b->prefix;

	ip_prefix_mask(&x);
	ip_prefix_mask(&y);
	return a->ifindex == b->ifindex && ip_prefix_equal(&x, &y);
}

/*
 * Removes address i as the kernel does: an IPv4 primary takes its secondaries with it unless
 * promote_secondaries is on, when the first of them becomes the primary.
 */
static void fake_addr_remove(struct link_fake *f, const struct link_info *l, size_t i)
{
	struct addr_info a = f->k.addrs[i];
	char v[8] = "0";
	bool promote;
	size_t j, k;

	memmove(&f->k.addrs[i], &f->k.addrs[i + 1], (f->k.n_addrs - i - 1) * sizeof(f->k.addrs[0]));
	f->k.n_addrs--;
	if (fake_has_prefix_route(&a)) {
		struct route_info rt = fake_prefix_route(&a);
		fake_route_drop(f, &rt);
	}
	if (a.prefix.family == AF_INET6 && (a.flags & IFA_F_MANAGETEMPADDR)) {
		for (j = k = 0; j < f->k.n_addrs; j++)
			if (!(f->k.addrs[j].flags & IFA_F_TEMPORARY) || !fake_same_64(&f->k.addrs[j], &a))
				f->k.addrs[k++] = f->k.addrs[j];
		f->k.n_addrs = k;
	}
	if (a.prefix.family != AF_INET || (a.flags & IFA_F_SECONDARY))
		return;
	(void)link_fake_sysctl(f, AF_INET, l->name, "promote_secondaries", v, sizeof(v));
	promote = !strcmp(v, "1");
	for (j = k = 0; j < f->k.n_addrs; j++) {
		struct addr_info *x = &f->k.addrs[j];

		if (x->prefix.family == AF_INET && (x->flags & IFA_F_SECONDARY) && fake_same_subnet(x, &a)) {
			if (!promote)
				continue;
			x->flags &= ~IFA_F_SECONDARY;
			promote = false;
			if (fake_has_prefix_route(x)) {
				struct route_info rt = fake_prefix_route(x);
				fake_route_push(f, &rt);
			}
		}
		f->k.addrs[k++] = *x;
	}
	f->k.n_addrs = k;
}

static int fake_addr_add(void *userdata, int ifindex, const struct ip_prefix *a)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex);
	char buf[IP_PREFIX_STRLEN];
	int r = fake_mutation(f, "addr_add");

	if (r < 0)
		return r;
	if (!l)
		return -ENODEV;
	if (fake_addr_find(f, ifindex, a) >= 0)
		return -EEXIST;
	struct addr_info *p = realloc(f->k.addrs, (f->k.n_addrs + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	f->k.addrs = p;
	f->k.addrs[f->k.n_addrs++] = (struct addr_info){ .ifindex = ifindex, .prefix = *a,
							 .valid_lft = LINK_LFT_FOREVER,
							 .preferred_lft = LINK_LFT_FOREVER };
	fake_log_add(&f->log, "addr_add %s %s", l->name, ip_prefix_format(a, buf, sizeof(buf)));
	return 0;
}

static int fake_addr_del(void *userdata, int ifindex, const struct ip_prefix *a)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex);
	char buf[IP_PREFIX_STRLEN];
	int r = fake_mutation(f, "addr_del");
	ssize_t i;

	if (r < 0)
		return r;
	if (!l)
		return -ENODEV;
	i = fake_addr_find(f, ifindex, a);
	if (i < 0)
		return -EADDRNOTAVAIL;
	fake_log_add(&f->log, "addr_del %s %s", l->name, ip_prefix_format(a, buf, sizeof(buf)));
	fake_addr_remove(f, l, i);
	return 0;
}

static void *dup_array(const void *p, size_t n, size_t size)
{
	void *c;

	if (n == 0)
		return NULL;
	c = malloc(n * size);
	if (c)
		memcpy(c, p, n * size);
	return c;
}

static int fake_dump(void *userdata, unsigned what, struct link_dump *ret)
{
	struct link_fake *f = userdata;
	struct link_dump d = {};

	if (what & LINK_DUMP_LINKS) {
		d.links = dup_array(f->k.links, f->k.n_links, sizeof(*d.links));
		d.n_links = f->k.n_links;
	}
	if (what & LINK_DUMP_ADDRS) {
		d.addrs = dup_array(f->k.addrs, f->k.n_addrs, sizeof(*d.addrs));
		d.n_addrs = f->k.n_addrs;
	}
	if (what & LINK_DUMP_ROUTES) {
		d.routes = dup_array(f->k.routes, f->k.n_routes, sizeof(*d.routes));
		d.n_routes = f->k.n_routes;
	}
	if (what & LINK_DUMP_RULES) {
		d.rules = dup_array(f->k.rules, f->k.n_rules, sizeof(*d.rules));
		d.n_rules = f->k.n_rules;
	}
	if (what & (LINK_DUMP_NEIGHS | LINK_DUMP_FDB)) {
		/* bridge FDB entries (AF_BRIDGE) with LINK_DUMP_FDB, the others with LINK_DUMP_NEIGHS */
		d.neighs = dup_array(f->k.neighs, f->k.n_neighs, sizeof(*d.neighs));
		for (size_t i = 0; d.neighs && i < f->k.n_neighs; i++)
			if (what & (f->k.neighs[i].family == AF_BRIDGE ? LINK_DUMP_FDB : LINK_DUMP_NEIGHS))
				d.neighs[d.n_neighs++] = f->k.neighs[i];
	}
	if ((what & LINK_DUMP_FOREIGN) && link_dump_keep_foreign(&d) < 0) {
		link_dump_free(&d);
		return -ENOMEM;
	}
	*ret = d;
	return 0;
}

static const char *fake_last_error(void *userdata)
{
	return NULL;
}


static int fake_port_set(void *userdata, int ifindex, int master)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex), *m = master ? fake_link(f, master) : NULL;
	int r = fake_mutation(f, "port_set");

	if (r < 0)
		return r;
	if (!l || (master && !m))
		return -ENODEV;
	if (m && strcmp(m->kind, "bridge"))
		return -EOPNOTSUPP;
	l->master = master;
	fake_log_add(&f->log, "port_set %s %s", l->name, m ? m->name : "nomaster");
	return 0;
}

static int fake_port_plug(void *userdata, int ifindex, int master, const struct mac *mac)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex), *m = fake_link(f, master);
	char buf[MAC_STRLEN] = "-";
	int r = fake_mutation(f, "port_plug");

	if (r < 0)
		return r;
	if (!l || !m)
		return -ENODEV;
	if (strcmp(m->kind, "bridge"))
		return -EOPNOTSUPP;
	if (mac) {
		l->mac = *mac;
		mac_format(mac, buf, sizeof(buf));
	}
	l->master = master;
	l->up = l->running = true;
	fake_log_add(&f->log, "port_plug %s %s mac %s up", l->name, m->name, buf);
	return 0;
}

static int fake_links_del(void *userdata, const int *ifindexes, size_t n)
{
	struct link_fake *f = userdata;
	int r = fake_mutation(f, "links_del");

	if (r < 0)
		return r;
	fake_log_add(&f->log, "links_del %zu", n);
	for (size_t i = 0; i < n; i++)
		if (fake_link(f, ifindexes[i]))
			fake_link_del(f, ifindexes[i]);
	return 0;
}

/* A bridge without a port has no carrier. */
static bool fake_has_carrier(struct link_fake *f, const struct link_info *l)
{
	if (strcmp(l->kind, "bridge"))
		return l->up;
	for (size_t i = 0; i < f->k.n_links; i++)
		if (f->k.links[i].master == l->ifindex)
			return l->running;
	return false;
}

/*
 * As the kernel with use_tempaddr > 0: an address that gains MANAGETEMPADDR (or has it, on a
 * link without any privacy address) gets a privacy address in its /64 (here the interface ID
 * 7e4d:7e4d:7e4d:7eXX, XX the ifindex). Its DAD fails on a link without carrier, and after the
 * retries the kernel turns privacy addresses off there (use_tempaddr -1).
 */
static void fake_tempaddr_create(struct link_fake *f, const struct link_info *l, const struct addr_info *pub)
{
	const uint8_t iid[8] = { 0x7e, 0x4d, 0x7e, 0x4d, 0x7e, 0x4d, 0x7e, (uint8_t)l->ifindex };
	char v[8] = "0";
	struct addr_info t = *pub, *p;

	(void)link_fake_sysctl(f, AF_INET6, l->name, "use_tempaddr", v, sizeof(v));
	if (atoi(v) <= 0)
		return;
	if (!fake_has_carrier(f, l)) {
		fake_sysctl_put(f, AF_INET6, l->name, "use_tempaddr", "-1");
		return;
	}
	memcpy(t.prefix.addr.bytes + 8, iid, sizeof(iid));
	t.flags = IFA_F_TEMPORARY;
	t.valid_lft = pub->valid_lft < 7200 ? pub->valid_lft : 7200;
	t.preferred_lft = pub->preferred_lft < 3600 ? pub->preferred_lft : 3600;
	if (fake_addr_find(f, l->ifindex, &t.prefix) >= 0)
		return;
	p = realloc(f->k.addrs, (f->k.n_addrs + 1) * sizeof(*p));
	if (!p)
		return;
	f->k.addrs = p;
	f->k.addrs[f->k.n_addrs++] = t;
}

static bool fake_has_temporary(struct link_fake *f, int ifindex)
{
	for (size_t i = 0; i < f->k.n_addrs; i++)
		if (f->k.addrs[i].ifindex == ifindex && f->k.addrs[i].prefix.family == AF_INET6 &&
		    (f->k.addrs[i].flags & IFA_F_TEMPORARY))
			return true;
	return false;
}

/* The primary IPv4 address of the subnet of a new address on its link, if there is one. */
static bool fake_primary_of(struct link_fake *f, const struct addr_info *a)
{
	for (size_t i = 0; i < f->k.n_addrs; i++) {
		const struct addr_info *x = &f->k.addrs[i];

		if (x != a && x->prefix.family == AF_INET && !(x->flags & IFA_F_SECONDARY) &&
		    x->prefix.len == a->prefix.len && fake_same_subnet(x, a))
			return true;
	}
	return false;
}

static int fake_addr_add_full(void *userdata, const struct addr_info *a, bool replace)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, a->ifindex);
	char buf[128];
	int r = fake_mutation(f, "addr_add_full");
	uint32_t keep6 = IFA_F_NOPREFIXROUTE | IFA_F_MANAGETEMPADDR | IFA_F_HOMEADDRESS | IFA_F_NODAD;
	struct addr_info old;
	bool existed;
	ssize_t i;

	if (r < 0)
		return r;
	if (!l)
		return -ENODEV;
	i = fake_addr_find(f, a->ifindex, &a->prefix);
	existed = i >= 0;
	if (existed && !replace)
		return -EEXIST;
	if (i < 0) {
		struct addr_info *p = realloc(f->k.addrs, (f->k.n_addrs + 1) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		f->k.addrs = p;
		i = f->k.n_addrs++;
	}
	old = existed ? f->k.addrs[i] : (struct addr_info){};
	/* As the kernel: IPv4 keeps its flags on replace and stores what it is given (NODAD too),
	 * but secondary and permanent, which it decides; IPv6 takes the flags it knows; no lifetime
	 * means permanent. */
	if (!existed) {
		f->k.addrs[i] = *a;
		f->k.addrs[i].flags = a->flags &
				      (a->prefix.family == AF_INET6 ? keep6 : ~(uint32_t)IFA_F_SECONDARY);
		if (a->prefix.family == AF_INET && fake_primary_of(f, &f->k.addrs[i]))
			f->k.addrs[i].flags |= IFA_F_SECONDARY;
	} else if (a->prefix.family == AF_INET6) {
		f->k.addrs[i].flags = a->flags & keep6;
	}
	f->k.addrs[i].flags &= ~IFA_F_PERMANENT;
	f->k.addrs[i].valid_lft = a->valid_lft;
	f->k.addrs[i].preferred_lft = a->preferred_lft;
	f->k.addrs[i].rt_priority = a->rt_priority;
	f->k.addrs[i].proto = a->proto;
	if (a->valid_lft == LINK_LFT_FOREVER)
		f->k.addrs[i].flags |= IFA_F_PERMANENT;
	if (a->preferred_lft == 0)
		f->k.addrs[i].flags |= IFA_F_DEPRECATED;
	else
		f->k.addrs[i].flags &= ~IFA_F_DEPRECATED;
	if (fake_has_prefix_route(&f->k.addrs[i]) && (!existed || !fake_has_prefix_route(&old))) {
		struct route_info rt = fake_prefix_route(&f->k.addrs[i]);
		fake_route_push(f, &rt);
	}
	if (a->prefix.family == AF_INET6 && (a->flags & IFA_F_MANAGETEMPADDR) &&
	    (!existed || !(old.flags & IFA_F_MANAGETEMPADDR) || !fake_has_temporary(f, l->ifindex))) {
		struct addr_info pub = f->k.addrs[i];
		fake_tempaddr_create(f, l, &pub);
	}
	fake_log_add(&f->log, "addr_%s %s %s", replace ? "replace" : "add", l->name,
		     addr_info_format(a, buf, sizeof(buf)));
	return 0;
}

static ssize_t fake_route_find(struct link_fake *f, const struct route_info *rt)
{
	for (size_t i = 0; i < f->k.n_routes; i++)
		if (route_info_same_key(&f->k.routes[i], rt))
			return i;
	return -1;
}

static int fake_route_change(void *userdata, enum route_change op, const struct route_info *rt)
{
	static const char *const names[] = { "route_add", "route_replace", "route_del" };
	struct link_fake *f = userdata;
	char buf[256];
	int r = fake_mutation(f, names[op]);
	ssize_t i;

	if (r < 0)
		return r;
	if (rt->ifindex && !fake_link(f, rt->ifindex))
		return -ENODEV;
	i = fake_route_find(f, rt);
	if (op == ROUTE_DEL) {
		if (i < 0)
			return -ESRCH;
		memmove(&f->k.routes[i], &f->k.routes[i + 1], (f->k.n_routes - i - 1) * sizeof(*rt));
		f->k.n_routes--;
	} else if (i >= 0 && op == ROUTE_ADD) {
		return -EEXIST;
	} else {
		if (i < 0) {
			struct route_info *p = realloc(f->k.routes, (f->k.n_routes + 1) * sizeof(*p));
			if (!p)
				return -ENOMEM;
			f->k.routes = p;
			i = f->k.n_routes++;
		}
		f->k.routes[i] = *rt;
	}
	fake_log_add(&f->log, "%s %s", names[op], route_info_format(rt, &f->k, buf, sizeof(buf)));
	return 0;
}

static ssize_t fake_neigh_find(struct link_fake *f, const struct neigh_info *n)
{
	for (size_t i = 0; i < f->k.n_neighs; i++)
		if (f->k.neighs[i].ifindex == n->ifindex && f->k.neighs[i].family == n->family &&
		    ip_addr_equal(n->family, &f->k.neighs[i].dst, &n->dst))
			return i;
	return -1;
}

static int fake_neigh_change(void *userdata, const struct neigh_info *n, bool add)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, n->ifindex);
	int r = fake_mutation(f, add ? "neigh_replace" : "neigh_del");
	char buf[160];
	ssize_t i;

	if (r < 0)
		return r;
	if (!l)
		return -ENODEV;
	i = fake_neigh_find(f, n);
	if (!add) {
		if (i < 0)
			return -ENOENT;
		memmove(&f->k.neighs[i], &f->k.neighs[i + 1], (f->k.n_neighs - i - 1) * sizeof(*n));
		f->k.n_neighs--;
	} else {
		r = link_fake_add_neigh(f, n);
		if (r < 0)
			return r;
		if (i >= 0) { /* replaced: the new one is last now */
			f->k.neighs[i] = f->k.neighs[--f->k.n_neighs];
		}
	}
	fake_log_add(&f->log, "neigh_%s %s %s", add ? "replace" : "del", l->name,
		     neigh_info_format(n, buf, sizeof(buf)));
	return 0;
}

static struct fake_sysctl *fake_sysctl_find(struct link_fake *f, int family, const char *ifname, const char *key)
{
	char name[sizeof(f->sysctls->name)];

	snprintf(name, sizeof(name), "%s/%s", ifname, key);
	for (size_t i = 0; i < f->n_sysctls; i++)
		if (f->sysctls[i].family == family && !strcmp(f->sysctls[i].name, name))
			return &f->sysctls[i];
	return NULL;
}

int link_fake_sysctl(struct link_fake *f, int family, const char *ifname, const char *key, char *buf, size_t size)
{
	struct fake_sysctl *s = fake_sysctl_find(f, family, ifname, key);

	if (!link_dump_find_name(&f->k, ifname) && strcmp(ifname, "all") && strcmp(ifname, "default"))
		return -ENOENT;
	snprintf(buf, size, "%s", s ? s->value : !strcmp(key, "accept_ra") || !strcmp(key, "autoconf") ? "1" : "0");
	return 0;
}

static int fake_sysctl_get(void *userdata, int family, const char *ifname, const char *key, char *buf, size_t size)
{
	return link_fake_sysctl(userdata, family, ifname, key, buf, size);
}

/* Disabling IPv6 drops the link's IPv6 addresses and routes, as the kernel does. */
static void fake_ipv6_disable(struct link_fake *f, int ifindex)
{
	size_t i, j;

	for (i = j = 0; i < f->k.n_addrs; i++)
		if (f->k.addrs[i].ifindex != ifindex || f->k.addrs[i].prefix.family != AF_INET6)
			f->k.addrs[j++] = f->k.addrs[i];
	f->k.n_addrs = j;
	for (i = j = 0; i < f->k.n_routes; i++)
		if (f->k.routes[i].ifindex != ifindex || f->k.routes[i].dst.family != AF_INET6)
			f->k.routes[j++] = f->k.routes[i];
	f->k.n_routes = j;
	for (i = j = 0; i < f->k.n_neighs; i++)
		if (f->k.neighs[i].ifindex != ifindex || f->k.neighs[i].family != AF_INET6)
			f->k.neighs[j++] = f->k.neighs[i];
	f->k.n_neighs = j;
}

static int fake_sysctl_put(struct link_fake *f, int family, const char *ifname, const char *key,
			   const char *value)
{
	struct fake_sysctl *s = fake_sysctl_find(f, family, ifname, key);

	if (!s) {
		s = realloc(f->sysctls, (f->n_sysctls + 1) * sizeof(*s));
		if (!s)
			return -ENOMEM;
		f->sysctls = s;
		s = &f->sysctls[f->n_sysctls++];
		s->family = family;
		snprintf(s->name, sizeof(s->name), "%s/%s", ifname, key);
	}
	snprintf(s->value, sizeof(s->value), "%s", value);
	return 0;
}

static int fake_sysctl_set(void *userdata, int family, const char *ifname, const char *key, const char *value)
{
	struct link_fake *f = userdata;
	const struct link_info *l = link_dump_find_name(&f->k, ifname);
	int r = fake_mutation(f, "sysctl_set");

	if (r < 0)
		return r;
	if (!l && strcmp(ifname, "all") && strcmp(ifname, "default"))
		return -ENOENT;
	r = fake_sysctl_put(f, family, ifname, key, value);
	if (r < 0)
		return r;
	if (l && family == AF_INET6 && !strcmp(key, "disable_ipv6") && !strcmp(value, "1"))
		fake_ipv6_disable(f, l->ifindex);
	fake_log_add(&f->log, "sysctl_set %s %s %s=%s", family == AF_INET ? "ipv4" : "ipv6", ifname, key,
		     value);
	return 0;
}

static int fake_announce(void *userdata, int ifindex, const struct mac *mac, const struct ip_prefix *addr)
{
	struct link_fake *f = userdata;
	char a[IP_PREFIX_STRLEN], m[MAC_STRLEN];
	int r = fake_mutation(f, "announce");

	if (r < 0)
		return r;
	fake_log_add(&f->log, "announce %s %s %s", link_dump_ifname(&f->k, ifindex),
		     mac_format(mac, m, sizeof(m)), ip_prefix_format(addr, a, sizeof(a)));
	return 0;
}

static int fake_batch_begin(void *userdata)
{
	struct link_fake *f = userdata;

	if (f->batching)
		return -EBUSY;
	f->batching = true;
	fake_log_add(&f->log, "batch_begin");
	return 0;
}

static int fake_batch_commit(void *userdata)
{
	struct link_fake *f = userdata;

	f->batching = false;
	fake_log_add(&f->log, "batch_commit");
	return 0;
}

static int fake_events_open(void *userdata, unsigned what, int *ret_fd)
{
	struct link_fake *f = userdata;
	int fds[2];

	if (f->n_events == LINK_FAKE_EVENTS_MAX)
		return -EMFILE;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	f->events[f->n_events++] = (struct fake_events){ .fd = fds[0], .write_fd = fds[1], .what = what };
	*ret_fd = fds[0];
	return 0;
}

static struct fake_events *fake_events_find(struct link_fake *f, int fd)
{
	for (size_t i = 0; i < f->n_events; i++)
		if (f->events[i].fd == fd)
			return &f->events[i];
	return NULL;
}

static int fake_events_read(void *userdata, int fd, unsigned *ret_what)
{
	struct fake_events *e = fake_events_find(userdata, fd);
	char buf[64];

	if (!e)
		return -EBADF;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	*ret_what = e->pending;
	e->pending = 0;
	return 0;
}

static void fake_events_close(void *userdata, int fd)
{
	struct link_fake *f = userdata;
	struct fake_events *e = fake_events_find(f, fd);

	if (!e)
		return;
	close(e->fd);
	close(e->write_fd);
	*e = f->events[--f->n_events];
}

static const struct link_ops fake_ops = {
	.name = "fake",
	.bridge_add = fake_bridge_add,
	.vxlan_add = fake_vxlan_add,
	.port_set_flags = fake_port_set_flags,
	.fdb_change = fake_fdb_change,
	.link_del = fake_link_del,
	.link_set_up = fake_link_set_up,
	.link_set_mtu = fake_link_set_mtu,
	.bridge_set_stp = fake_bridge_set_stp,
	.link_set_mac = fake_link_set_mac,
	.link_set_alias = fake_link_set_alias,
	.addr_add = fake_addr_add,
	.addr_del = fake_addr_del,
	.dump = fake_dump,
	.last_error = fake_last_error,
	.port_set = fake_port_set,
	.port_plug = fake_port_plug,
	.links_del = fake_links_del,
	.addr_add_full = fake_addr_add_full,
	.route_change = fake_route_change,
	.neigh_change = fake_neigh_change,
	.sysctl_get = fake_sysctl_get,
	.sysctl_set = fake_sysctl_set,
	.announce = fake_announce,
	.batch_begin = fake_batch_begin,
	.batch_commit = fake_batch_commit,
	.events_open = fake_events_open,
	.events_read = fake_events_read,
	.events_close = fake_events_close,
};

int link_fake_new(struct link_fake **ret, struct link_backend *ret_backend)
{
	struct link_fake *f = calloc(1, sizeof(*f));
	struct link_info *lo;

	if (!f)
		return -ENOMEM;
	f->log.name = "link";
	f->next_ifindex = 1;
	if (fake_new_link(f, "lo", "", &lo) < 0) {
		free(f);
		return -ENOMEM;
	}
	lo->up = true;
	lo->loopback = true;
	*ret = f;
	*ret_backend = (struct link_backend){ .ops = &fake_ops, .userdata = f };
	return 0;
}

void link_fake_free(struct link_fake *f)
{
	if (!f)
		return;
	link_dump_free(&f->k);
	while (f->n_events > 0)
		fake_events_close(f, f->events[0].fd);
	free(f->sysctls);
	fake_log_clear(&f->log);
	free(f);
}

const char *link_fake_log(struct link_fake *f)
{
	return fake_log_text(&f->log);
}

void link_fake_clear_log(struct link_fake *f)
{
	fake_log_clear(&f->log);
}

void link_fake_fail_at(struct link_fake *f, unsigned n, int err)
{
	f->fail_at = f->n_mutations + n;
	f->fail_errno = err;
}

void link_fake_fail_op(struct link_fake *f, const char *op, int err)
{
	snprintf(f->fail_op, sizeof(f->fail_op), "%s", op ? op : "");
	f->fail_errno = err;
}

int link_fake_add_link(struct link_fake *f, const char *name, const char *kind, int *ret_ifindex)
{
	struct link_info *l;
	int r = fake_new_link(f, name, kind, &l);

	if (r < 0)
		return r;
	l->up = true;
	if (ret_ifindex)
		*ret_ifindex = l->ifindex;
	return 0;
}

int link_fake_add_route(struct link_fake *f, int ifindex, const char *dst)
{
	struct route_info r = { .ifindex = ifindex, .table = 254, .type = 1 /* RTN_UNICAST */ };
	struct route_info *p;

	if (ip_prefix_parse(dst, &r.dst) < 0)
		return -EINVAL;
	p = realloc(f->k.routes, (f->k.n_routes + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	f->k.routes = p;
	f->k.routes[f->k.n_routes++] = r;
	return 0;
}

int link_fake_add_addr(struct link_fake *f, int ifindex, const char *prefix)
{
	struct addr_info a = { .ifindex = ifindex };
	struct addr_info *p;

	if (ip_prefix_parse(prefix, &a.prefix) < 0)
		return -EINVAL;
	p = realloc(f->k.addrs, (f->k.n_addrs + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	f->k.addrs = p;
	f->k.addrs[f->k.n_addrs++] = a;
	return 0;
}

int link_fake_add_addr_full(struct link_fake *f, const struct addr_info *a)
{
	struct addr_info *p = realloc(f->k.addrs, (f->k.n_addrs + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	f->k.addrs = p;
	f->k.addrs[f->k.n_addrs++] = *a;
	return 0;
}

int link_fake_add_route_full(struct link_fake *f, const struct route_info *rt)
{
	struct route_info *p = realloc(f->k.routes, (f->k.n_routes + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	f->k.routes = p;
	f->k.routes[f->k.n_routes++] = *rt;
	return 0;
}

int link_fake_add_rule(struct link_fake *f, const struct rule_info *rule)
{
	struct rule_info *p = realloc(f->k.rules, (f->k.n_rules + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	f->k.rules = p;
	f->k.rules[f->k.n_rules++] = *rule;
	return 0;
}

int link_fake_add_neigh(struct link_fake *f, const struct neigh_info *n)
{
	struct neigh_info *p = realloc(f->k.neighs, (f->k.n_neighs + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	f->k.neighs = p;
	f->k.neighs[f->k.n_neighs++] = *n;
	return 0;
}

int link_fake_set_master(struct link_fake *f, int ifindex, int master)
{
	struct link_info *l = fake_link(f, ifindex);

	if (!l)
		return -ENODEV;
	l->master = master;
	return 0;
}

int link_fake_set_forward_delay(struct link_fake *f, int ifindex, uint32_t forward_delay)
{
	struct link_info *l = fake_link(f, ifindex);

	if (!l)
		return -ENODEV;
	l->forward_delay = forward_delay;
	return 0;
}

int link_fake_set_lower(struct link_fake *f, int ifindex, int lower)
{
	struct link_info *l = fake_link(f, ifindex);

	if (!l)
		return -ENODEV;
	l->lower = lower;
	return 0;
}

int link_fake_set_mac(struct link_fake *f, int ifindex, const struct mac *mac)
{
	struct link_info *l = fake_link(f, ifindex);

	if (!l)
		return -ENODEV;
	l->mac = *mac;
	return 0;
}

void link_fake_notify(struct link_fake *f, unsigned what)
{
	for (size_t i = 0; i < f->n_events; i++) {
		struct fake_events *e = &f->events[i];

		if (!(what & (e->what | LINK_EVENT_LOST)))
			continue;
		e->pending |= what & (e->what | LINK_EVENT_LOST);
		(void)!write(e->write_fd, "", 1);
	}
}
