/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IPv6 forwarding for the networks that route or masquerade an IPv6 prefix (nat, routed), without
 * the host losing its own IPv6 default route.
 *
 * With net.ipv6.conf.all.forwarding=1 the kernel ignores router advertisements on every interface
 * whose accept_ra is 1; it takes them only with 2. A host whose default route was learnt from its
 * LAN's router would keep it until its lifetime ends (1800 s by default) and then have no IPv6
 * route out (libvirt refuses to start such a network instead). So before it enables forwarding,
 * netd sets accept_ra=2 on each interface that has a route learnt from router advertisements
 * (protocol ra: the default route, route-information routes) and accept_ra=1, and says so in the
 * log and in 'network show' (ipv6_forwarding). Like IPv4 forwarding, neither is turned back when
 * the network stops: another network, or another program, may rely on them by then.
 *
 * An interface that learns its first RA route after a network started keeps accept_ra=1 until the
 * next start of such a network; an interface with accept_ra=0 takes no RA anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "daemon.h"
#include "log.h"
#include "macro.h"
#include "reconcile.h"

extern const struct feature feature_forward6; /* this file's, at its end */

#define KEPT_MAX 16

struct forward6 {
	char kept[KEPT_MAX][IFNAMSIZ]; /* the interfaces netd set to accept_ra=2, in order */
	size_t n_kept;
	bool enabled; /* netd found or made net.ipv6.conf.all.forwarding=1 */
	bool walked; /* done once in this walk of every network (d->reconciling_all) */
};

#define FWD6(d) ((struct forward6 *)*daemon_feature_state((d), &feature_forward6))

static bool wants(const struct network *n)
{
	return n->subnet6.family == AF_INET6 && network_forwards(n);
}

static void kept_add(struct forward6 *f, const char *ifname)
{
	for (size_t i = 0; i < f->n_kept; i++)
		if (!strcmp(f->kept[i], ifname))
			return;
	if (f->n_kept < KEPT_MAX)
		snprintf(f->kept[f->n_kept++], IFNAMSIZ, "%s", ifname);
}

/* accept_ra=2 on the interfaces (not netd's bridges) that have an RA-learnt route and accept_ra=1. */
static int keep_ra(struct daemon *d, struct forward6 *f, const struct network *n, char *err, size_t errlen)
{
	const struct link_ops *ops = d->link.ops;
	struct link_dump dump = {};
	int r = ops->dump(d->link.userdata, LINK_DUMP_LINKS | LINK_DUMP_ROUTES, &dump);

	if (r < 0) {
		snprintf(err, errlen, "cannot read routes from the kernel: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; r >= 0 && i < dump.n_routes; i++) {
		const struct route_info *rt = &dump.routes[i];
		const struct link_info *l;
		char v[16] = "";

		if (rt->dst.family != AF_INET6 || rt->protocol != RTPROT_RA || !rt->ifindex)
			continue;
		l = link_dump_find_index(&dump, rt->ifindex);
		if (!l || reconcile_tag_owner(l->alias))
			continue;
		if (ops->sysctl_get(d->link.userdata, AF_INET6, l->name, "accept_ra", v, sizeof(v)) < 0 ||
		    strcmp(v, "1"))
			continue;
		r = ops->sysctl_set(d->link.userdata, AF_INET6, l->name, "accept_ra", "2");
		if (r < 0) {
			snprintf(err, errlen,
				 "cannot set net.ipv6.conf.%s.accept_ra=2 (%s), which keeps its IPv6 routes "
				 "from router advertisements once IPv6 forwarding is on; IPv6 forwarding "
				 "left as it was",
				 l->name, strerror(-r));
			break;
		}
		log_net(LOG_NOTICE, n->name,
			"network '%s': set net.ipv6.conf.%s.accept_ra=2 (was 1): with IPv6 forwarding "
			"on, the kernel would ignore its router advertisements and the host would lose "
			"its IPv6 routes learnt from them",
			n->name, l->name);
		kept_add(f, l->name);
	}
	link_dump_free(&dump);
	return r < 0 ? r : 0;
}

static int forward6_up(struct daemon *d, struct net *net, char *err, size_t errlen)
{
	const struct network *n = net->def;
	struct forward6 *f = FWD6(d);
	char v[16] = "";
	int r;

	if (!wants(n) || (d->reconciling_all && f->walked))
		return 0;
	f->walked = d->reconciling_all;
	r = keep_ra(d, f, n, err, errlen);
	if (r < 0)
		return r;
	r = d->link.ops->sysctl_get(d->link.userdata, AF_INET6, "all", "forwarding", v, sizeof(v));
	if (r >= 0 && !strcmp(v, "1")) {
		f->enabled = true;
		return 0;
	}
	r = d->link.ops->sysctl_set(d->link.userdata, AF_INET6, "all", "forwarding", "1");
	if (r < 0) {
		snprintf(err, errlen, "cannot enable IPv6 forwarding (net.ipv6.conf.all.forwarding=1): %s",
			 strerror(-r));
		return r;
	}
	f->enabled = true;
	log_net(LOG_NOTICE, n->name,
		"enabled IPv6 forwarding (net.ipv6.conf.all.forwarding=1) for network '%s'", n->name);
	return 0;
}

static void forward6_show(struct daemon *d, const struct net *net, const struct net_view *v, json_object *o)
{
	struct forward6 *f = FWD6(d);
	json_object *j, *a;

	if (!wants(net->def) || !v->full)
		return;
	j = json_object_new_object();
	a = json_object_new_array();
	for (size_t i = 0; i < f->n_kept; i++)
		json_object_array_add(a, json_object_new_string(f->kept[i]));
	json_object_object_add(j, "enabled", json_object_new_boolean(f->enabled));
	json_object_object_add(j, "accept_ra_2", a);
	json_object_object_add(o, "ipv6_forwarding", j);
}

/* show() reads nothing but the definition for 'network list'. */
static void forward6_show_key(struct daemon *d, const struct net *n, struct net_show_key *k)
{
}

/* The end of a walk of every network (start, reload): the next start looks again. */
static void forward6_settle(struct daemon *d)
{
	FWD6(d)->walked = false;
}

static int forward6_init(struct daemon *d)
{
	struct forward6 *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	*daemon_feature_state(d, &feature_forward6) = f;
	return 0;
}

static void forward6_done(struct daemon *d)
{
	free(FWD6(d));
	*daemon_feature_state(d, &feature_forward6) = NULL;
}

const struct feature feature_forward6 = {
	.name = "forward6",
	.init = forward6_init,
	.done = forward6_done,
	.up = forward6_up,
	.show = forward6_show,
	.show_key = forward6_show_key,
	.settle = forward6_settle,
};
