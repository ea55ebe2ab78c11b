/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "link.h"
#include "macro.h"
#include "reconcile.h"

void link_dump_free(struct link_dump *d)
{
	if (!d)
		return;
	free(d->links);
	free(d->addrs);
	free(d->routes);
	free(d->rules);
	free(d->neighs);
	free(d->by_name);
	*d = (struct link_dump){};
}

static int cmp_link_index(const void *a, const void *b)
{
	const struct link_info *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

static int cmp_link_name(const void *a, const void *b)
{
	return strcmp((*(const struct link_info *const *)a)->name,
		      (*(const struct link_info *const *)b)->name);
}

/* Addresses by ifindex, the kernel's order kept within one (it says which is primary). */
struct addr_pos {
	struct addr_info a;
	size_t pos;
};

static int cmp_addr(const void *a, const void *b)
{
	const struct addr_pos *x = a, *y = b;

	if (x->a.ifindex != y->a.ifindex)
		return (x->a.ifindex > y->a.ifindex) - (x->a.ifindex < y->a.ifindex);
	return (x->pos > y->pos) - (x->pos < y->pos);
}

int link_dump_index(struct link_dump *d)
{
	struct addr_pos *addrs = d->n_addrs ? calloc(d->n_addrs, sizeof(*addrs)) : NULL;
	const struct link_info **by_name = calloc(d->n_links + 1, sizeof(*by_name));

	if (!by_name || (d->n_addrs && !addrs)) {
		free(addrs);
		free(by_name);
		return -ENOMEM;
	}
	if (d->n_links) { /* qsort of NULL, even of 0 elements, is undefined */
		qsort(d->links, d->n_links, sizeof(*d->links), cmp_link_index);
		for (size_t i = 0; i < d->n_links; i++)
			by_name[i] = &d->links[i];
		qsort(by_name, d->n_links, sizeof(*by_name), cmp_link_name);
	}
	for (size_t i = 0; i < d->n_addrs; i++)
		addrs[i] = (struct addr_pos){ .a = d->addrs[i], .pos = i };
	if (d->n_addrs)
		qsort(addrs, d->n_addrs, sizeof(*addrs), cmp_addr);
	for (size_t i = 0; i < d->n_addrs; i++)
		d->addrs[i] = addrs[i].a;
	free(addrs);
	free(d->by_name);
	d->by_name = by_name;
	d->indexed = true;
	return 0;
}

const struct link_info *link_dump_find_index(const struct link_dump *d, int ifindex)
{
	struct link_info key = { .ifindex = ifindex };

	if (d->indexed)
		return d->n_links ? bsearch(&key, d->links, d->n_links, sizeof(*d->links), cmp_link_index) :
				    NULL;
	for (size_t i = 0; i < d->n_links; i++)
		if (d->links[i].ifindex == ifindex)
			return &d->links[i];
	return NULL;
}

const struct link_info *link_dump_find_name(const struct link_dump *d, const char *name)
{
	if (d->indexed) {
		struct link_info key = {};
		const struct link_info *k = &key, **found;

		snprintf(key.name, sizeof(key.name), "%s", name);
		found = d->n_links ? bsearch(&k, d->by_name, d->n_links, sizeof(*d->by_name), cmp_link_name) :
				     NULL;
		return found && !strcmp((*found)->name, name) ? *found : NULL;
	}
	for (size_t i = 0; i < d->n_links; i++)
		if (!strcmp(d->links[i].name, name))
			return &d->links[i];
	return NULL;
}

const struct addr_info *link_dump_addrs_of(const struct link_dump *d, int ifindex, size_t *ret_n)
{
	size_t lo = 0, hi = d->n_addrs, end;

	*ret_n = 0;
	if (!d->indexed)
		return NULL;
	while (lo < hi) { /* the first with an ifindex >= ifindex */
		size_t mid = lo + (hi - lo) / 2;

		if (d->addrs[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < d->n_addrs && d->addrs[end].ifindex == ifindex; end++)
		;
	*ret_n = end - lo;
	return end > lo ? &d->addrs[lo] : NULL;
}

const char *link_dump_ifname(const struct link_dump *d, int ifindex)
{
	const struct link_info *l = link_dump_find_index(d, ifindex);

	return l ? l->name : "?";
}

static const char *const rtn_type_table[] = {
	[RTN_UNICAST] = "unicast", [RTN_LOCAL] = "local",	      [RTN_BROADCAST] = "broadcast",
	[RTN_ANYCAST] = "anycast", [RTN_MULTICAST] = "multicast", [RTN_BLACKHOLE] = "blackhole",
	[RTN_UNREACHABLE] = "unreachable", [RTN_PROHIBIT] = "prohibit", [RTN_THROW] = "throw",
};

static const char *rtn_type_to_string(uint8_t t)
{
	return t < sizeof(rtn_type_table) / sizeof(rtn_type_table[0]) && rtn_type_table[t] ? rtn_type_table[t] : "?";
}

char *route_info_format(const struct route_info *rt, const struct link_dump *names, char *buf, size_t size)
{
	char dst[IP_PREFIX_STRLEN], gw[INET6_ADDRSTRLEN] = "", src[INET6_ADDRSTRLEN] = "", exp[24] = "";

	ip_prefix_format(&rt->dst, dst, sizeof(dst));
	if (rt->gw_family)
		ip_addr_format(rt->gw_family, &rt->gw, gw, sizeof(gw));
	if (rt->prefsrc_family)
		ip_addr_format(rt->prefsrc_family, &rt->prefsrc, src, sizeof(src));
	if (rt->expires)
		snprintf(exp, sizeof(exp), " expires %u", rt->expires);
	snprintf(buf, size, "%s %s%s%s dev %s table %u proto %u scope %u metric %u%s%s%s%s", rtn_type_to_string(rt->type),
		 dst, gw[0] ? " via " : "", gw, names ? link_dump_ifname(names, rt->ifindex) : "?", rt->table,
		 rt->protocol, rt->scope, rt->priority, src[0] ? " src " : "", src,
		 rt->metrics_len ? " +metrics" : "", exp);
	return buf;
}

char *addr_info_format(const struct addr_info *a, char *buf, size_t size)
{
	char p[IP_PREFIX_STRLEN], v[16] = "forever", l[16] = "forever", peer[INET6_ADDRSTRLEN + 8] = "",
				  brd[INET6_ADDRSTRLEN + 8] = "", extra[64] = "", ip[INET6_ADDRSTRLEN];

	if (a->valid_lft != LINK_LFT_FOREVER)
		snprintf(v, sizeof(v), "%u", a->valid_lft);
	if (a->preferred_lft != LINK_LFT_FOREVER)
		snprintf(l, sizeof(l), "%u", a->preferred_lft);
	if (a->peer_family)
		snprintf(peer, sizeof(peer), " peer %s",
			 ip_addr_format(a->peer_family, &a->peer, ip, sizeof(ip)));
	if (a->broadcast_family)
		snprintf(brd, sizeof(brd), " brd %s",
			 ip_addr_format(a->broadcast_family, &a->broadcast, ip, sizeof(ip)));
	snprintf(extra, sizeof(extra), "%s%s", a->label[0] ? " label " : "", a->label);
	if (a->rt_priority)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " metric %u", a->rt_priority);
	if (a->proto)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " proto %u", a->proto);
	snprintf(buf, size, "%s%s%s scope %u flags 0x%x valid %s preferred %s%s",
		 ip_prefix_format(&a->prefix, p, sizeof(p)), peer, brd, a->scope, a->flags, v, l, extra);
	return buf;
}

char *neigh_info_format(const struct neigh_info *n, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN], m[MAC_STRLEN] = "-";

	if (n->has_lladdr)
		mac_format(&n->lladdr, m, sizeof(m));
	snprintf(buf, size, "%s lladdr %s state 0x%x flags 0x%x proto %u",
		 ip_addr_format(n->family, &n->dst, ip, sizeof(ip)), m, n->state, n->flags, n->protocol);
	return buf;
}

/* The key the kernel matches a replace or delete on: table, destination, metric. */
bool route_info_same_key(const struct route_info *a, const struct route_info *b)
{
	return a->table == b->table && a->dst.family == b->dst.family && a->dst.len == b->dst.len &&
	       ip_addr_equal(a->dst.family, &a->dst.addr, &b->dst.addr) && a->priority == b->priority &&
	       a->type == b->type;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static bool is_in(const int *sorted, size_t n, int ifindex)
{
	return n && bsearch(&ifindex, sorted, n, sizeof(*sorted), cmp_int);
}

int link_dump_keep_foreign(struct link_dump *d)
{
	_cleanup_free_ int *owned = reallocarray(NULL, d->n_links + 1, sizeof(*owned));
	size_t n = 0, k = 0;

	if (!owned)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_links; i++)
		if (reconcile_tag_owner(d->links[i].alias))
			owned[n++] = d->links[i].ifindex;
	qsort(owned, n, sizeof(*owned), cmp_int);
	for (size_t i = 0; i < d->n_addrs; i++)
		if (!is_in(owned, n, d->addrs[i].ifindex))
			d->addrs[k++] = d->addrs[i];
	d->n_addrs = k;
	k = 0;
	for (size_t i = 0; i < d->n_routes; i++)
		if (!is_in(owned, n, d->routes[i].ifindex))
			d->routes[k++] = d->routes[i];
	d->n_routes = k;
	return 0;
}

void link_dump_keep_of(struct link_dump *d, int ifindex)
{
	size_t k = 0;

	for (size_t i = 0; i < d->n_addrs; i++)
		if (ifindex && d->addrs[i].ifindex == ifindex)
			d->addrs[k++] = d->addrs[i];
	d->n_addrs = k;
	k = 0;
	for (size_t i = 0; i < d->n_routes; i++)
		if (ifindex && d->routes[i].ifindex == ifindex)
			d->routes[k++] = d->routes[i];
	d->n_routes = k;
	k = 0;
	for (size_t i = 0; i < d->n_neighs; i++)
		if (ifindex && d->neighs[i].ifindex == ifindex)
			d->neighs[k++] = d->neighs[i];
	d->n_neighs = k;
}

int link_dump_of(const struct link_backend *be, unsigned what, const char *ifname, struct link_dump *ret)
{
	struct link_dump d = {};
	const struct link_info *l;
	int r;

	if (be->ops->dump_of)
		return be->ops->dump_of(be->userdata, what, ifname, ret);
	r = be->ops->dump(be->userdata, what | LINK_DUMP_LINKS, &d);
	if (r < 0)
		return r;
	l = link_dump_find_name(&d, ifname);
	link_dump_keep_of(&d, l ? l->ifindex : 0);
	if (!(what & LINK_DUMP_LINKS)) {
		free(d.links);
		d.links = NULL;
		d.n_links = 0;
	}
	*ret = d;
	return 0;
}
