/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IPv6 forwarding for the networks that route or masquerade an IPv6 prefix (nat, routed), without
 * the host losing its own IPv6 default route.
 *
 * With net.ipv6.conf.all.forwarding=1 the kernel ignores router advertisements on every interface
 * whose accept_ra is 1; it takes them only with 2. A host whose default route was learnt from its
 * LAN's router would keep it until its lifetime ends (1800 s by default) and then have no IPv6
 * route out (libvirt refuses to start such a network instead). An interface that comes up, or
 * meets its router, after forwarding is on would never learn one.
 *
 * So when netd turns forwarding on, it first sets accept_ra=2 where accept_ra is 1: on
 * net.ipv6.conf.default (the links made from then on) and on each link of the host's own (not
 * loopback, not a port of a bridge, whose IPv6 takes nothing that arrives on it, not netd's
 * bridges, which take no RA at all: bridge-guard.c). Under forwarding, 2 is what 1 was without:
 * the host takes exactly the advertisements it took before. It logs each change and shows them in
 * 'network show' (ipv6_forwarding). Forwarding found on already (set by the host's administrator,
 * or by netd before a restart) is left as it is, with every accept_ra. Like IPv4 forwarding,
 * neither is turned back when the network stops: another network, or another program, may rely
 * on them by then.
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
	char kept[KEPT_MAX][IFNAMSIZ]; /* where netd set accept_ra=2 ("default" included), in order */
	size_t n_kept, n_more; /* n_more: more than KEPT_MAX, only logged */
	bool enabled; /* netd found or made net.ipv6.conf.all.forwarding=1 */
};

#define FWD6(d) ((struct forward6 *)*daemon_feature_state((d), &feature_forward6))

static bool wants(const struct network *n)
{
	return n->subnet6.family == AF_INET6 && network_forwards(n);
}

static void kept_add(struct forward6 *f, const char *ifname)
{
	if (f->n_kept < KEPT_MAX)
		snprintf(f->kept[f->n_kept++], IFNAMSIZ, "%s", ifname);
	else
		f->n_more++;
}

/* accept_ra=2 on ifname if it is 1 there. */
static int keep_one(struct daemon *d, struct forward6 *f, const struct network *n, const char *ifname,
		    char *err, size_t errlen)
{
	const struct link_ops *ops = d->link.ops;
	char v[16] = "";
	int r;

	if (ops->sysctl_get(d->link.userdata, AF_INET6, ifname, "accept_ra", v, sizeof(v)) < 0 ||
	    strcmp(v, "1"))
		return 0;
	r = ops->sysctl_set(d->link.userdata, AF_INET6, ifname, "accept_ra", "2");
	if (r < 0) {
		snprintf(
			err, errlen,
			"cannot set net.ipv6.conf.%s.accept_ra=2 (%s), which keeps the router advertisements "
			"it takes once IPv6 forwarding is on; IPv6 forwarding left off",
			ifname, strerror(-r));
		return r;
	}
	log_notice("network '%s': set net.ipv6.conf.%s.accept_ra=2 (was 1): with IPv6 forwarding on, the "
		   "kernel would ignore the router advertisements it takes now",
		   n->name, ifname);
	kept_add(f, ifname);
	return 0;
}

/* accept_ra=2 where it is 1: the default, then the host's own links (see the top of the file). */
static int keep_ra(struct daemon *d, struct forward6 *f, const struct network *n, char *err, size_t errlen)
{
	struct link_dump dump = {};
	int r = keep_one(d, f, n, "default", err, errlen);

	if (r < 0)
		return r;
	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, &dump);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the host's links from the kernel: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; r >= 0 && i < dump.n_links; i++) {
		const struct link_info *l = &dump.links[i];

		if (!l->loopback && !l->master && !reconcile_tag_owner(l->alias))
			r = keep_one(d, f, n, l->name, err, errlen);
	}
	link_dump_free(&dump);
	return r;
}

static int forward6_up(struct daemon *d, struct net *net, char *err, size_t errlen)
{
	const struct network *n = net->def;
	struct forward6 *f = FWD6(d);
	char v[16] = "";
	int r;

	if (!wants(n) || f->enabled)
		return 0;
	r = d->link.ops->sysctl_get(d->link.userdata, AF_INET6, "all", "forwarding", v, sizeof(v));
	if (r >= 0 && !strcmp(v, "1")) {
		f->enabled = true;
		return 0;
	}
	r = keep_ra(d, f, n, err, errlen);
	if (r < 0)
		return r;
	r = d->link.ops->sysctl_set(d->link.userdata, AF_INET6, "all", "forwarding", "1");
	if (r < 0) {
		snprintf(err, errlen, "cannot enable IPv6 forwarding (net.ipv6.conf.all.forwarding=1): %s",
			 strerror(-r));
		return r;
	}
	f->enabled = true;
	if (f->n_more)
		log_notice("network '%s': and on %zu more links (accept_ra=2)", n->name, f->n_more);
	log_notice("enabled IPv6 forwarding (net.ipv6.conf.all.forwarding=1) for network '%s'", n->name);
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
	if (f->n_more)
		json_object_object_add(j, "accept_ra_2_more", json_object_new_int64((int64_t)f->n_more));
	json_object_object_add(o, "ipv6_forwarding", j);
}

/* show() reads nothing but the definition for 'network list'. */
static void forward6_show_key(struct daemon *d, const struct net *n, struct net_show_key *k)
{
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
};
