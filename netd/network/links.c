/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The links feature: a network's bridge. For a mode that owns its bridge, the bridge with its MAC,
 * MTU, alias tag and gateway address, planned against a kernel dump (bridge/reconcile.c) and applied
 * with undo (bridge/steps.c); its sysctls (bridge-guard.c). For a mode that attaches to a bridge of
 * the host's (a converted uplink), only that the bridge exists. Either way the running guests' TAPs (the
 * network's users) are plugged into the bridge again when it was made anew.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "guest.h"
#include "log.h"
#include "macro.h"
#include "reconcile.h"
#include "uplink.h"

extern const struct feature feature_links; /* this file's, at its end */

/* A running network's bridge as links_up() left it (its slot): what dnsmasq is bound to, and the
 * MAC, so that 'network list' reads no file per network. */
struct links_net {
	int ifindex;
	struct mac mac;
};

static struct links_net *links_net(struct net *n)
{
	return *net_slot(n, &feature_links);
}

/* The feature's own state: while daemon_reconcile_all() walks every network, the links and
 * addresses the walk's plans are made against, read once and kept until a plan changes
 * something (a restart adopts every bridge as it is: one dump instead of one per network, each
 * of every bridge's addresses). settle() drops it. */
struct links {
	struct link_dump walk;
	bool have_walk;
};

#define LINKS(d) ((struct links *)*daemon_feature_state((d), &feature_links))

static void walk_drop(struct daemon *d)
{
	struct links *l = LINKS(d);

	if (l && l->have_walk) {
		link_dump_free(&l->walk);
		l->have_walk = false;
	}
}

/* What a plan is made against: the walk's dump, or one of its own (*ret_own: free it) with the
 * addresses of the wanted bridge alone (none when none is wanted). A plan looks at no other link's
 * addresses, and copying every bridge's costs more the more networks there are. */
static int plan_dump(struct daemon *d, const struct desired_bridge *want, size_t n_want,
		     struct link_dump *own, const struct link_dump **ret, bool *ret_own)
{
	struct links *l = LINKS(d);
	bool walk = d->reconciling_all && l;
	int r;

	if (walk && l->have_walk) {
		*ret = &l->walk;
		*ret_own = false;
		return 0;
	}
	if (walk || n_want > 1)
		r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS,
				      walk ? &l->walk : own);
	else if (n_want == 1)
		r = link_dump_of(&d->link, LINK_DUMP_LINKS | LINK_DUMP_ADDRS, want[0].ifname, own);
	else
		r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, own);
	if (r < 0)
		return r;
	if (walk)
		l->have_walk = true;
	*ret = walk ? &l->walk : own;
	*ret_own = !walk;
	return 0;
}

static int desired_from_network(struct daemon *d, const struct network *n, struct desired_bridge *ret)
{
	struct desired_bridge w = { .mtu = n->mtu, .stp = n->stp, .forward_delay = network_forward_delay(n) };
	int r;

	network_alias(n, w.owner, sizeof(w.owner));
	snprintf(w.ifname, sizeof(w.ifname), "%s", n->bridge);
	/* The IPv4 gateways (the first subnet's first: the primary address; one per --address), the
	 * IPv6 one (without DAD), or both: the bridge is the guests' router. */
	_Static_assert(NETWORK_SUBNETS4_MAX + 1 <= DESIRED_MAX_ADDRS, "room for every gateway");
	w.n_addrs = network_gateways4(n, w.addrs);
	if (n->subnet6.family)
		network_gateway6_prefix(n, &w.addrs[w.n_addrs++]);
	r = store_network_mac(&d->paths, n, &w.mac);
	if (r < 0)
		return r;
	*ret = w;
	return 0;
}

/* ret_ifindex (may be NULL): the ifindex of want[0]'s bridge afterwards, the one found or made. */
static int reconcile_scoped(struct daemon *d, const struct desired_bridge *want, size_t n_want,
			    const char *scope, int *ret_ifindex, char *err, size_t errlen)
{
	struct link_dump own = {};
	const struct link_dump *dump;
	struct link_plan plan = {};
	const struct link_info *found;
	int ifindex = 0, made, r;
	bool is_own;

	r = plan_dump(d, want, n_want, &own, &dump, &is_own);
	if (r < 0) {
		snprintf(err, errlen, "cannot read links from the kernel: %s", strerror(-r));
		return r;
	}
	r = reconcile_plan(want, n_want, dump, scope, &plan);
	found = n_want ? link_dump_find_name(dump, want[0].ifname) : NULL;
	ifindex = found ? found->ifindex : 0;
	if (is_own)
		link_dump_free(&own);
	else if (r >= 0 && plan.n_steps)
		walk_drop(d); /* the kernel changes: the next plan reads it again */
	if (r < 0) {
		snprintf(err, errlen, "cannot plan: %s", strerror(-r));
		return r;
	}
	if (plan.n_steps && log_get_max_level() >= LOG_DEBUG) {
		_cleanup_free_ char *text = link_plan_format(&plan);
		log_obj(LOG_DEBUG,
			LOG_OBJ(.network = scope ? network_alias_owner(scope) : NULL,
				.bridge = n_want == 1 ? want[0].ifname : NULL),
			"plan for %s:\n%s", scope ? scope : "all", strna(text));
	}
	r = link_plan_apply_made(&plan, &d->link, &made, err, errlen);
	if (made)
		ifindex = made; /* made anew */
	link_plan_free(&plan);
	if (ret_ifindex)
		*ret_ifindex = ifindex;
	return r;
}

/* User u's TAP becomes a port of the network's bridge, with the host side of the guest's MAC,
 * unless it is one already. */
static int plug_user(struct daemon *d, struct net *n, const struct link_dump *dump, const struct net_user *u,
		     char *err, size_t errlen)
{
	const struct link_info *br = link_dump_find_name(dump, n->def->bridge);
	const struct link_info *tap = link_dump_find_name(dump, u->tap);
	struct mac host;
	int r;

	if (!br) {
		snprintf(err, errlen, "network '%s' has no bridge %s", n->def->name, n->def->bridge);
		return -ENETDOWN;
	}
	if (!tap) {
		snprintf(err, errlen, "guest '%s': its TAP %s is gone", u->guest, u->tap);
		return -ENODEV;
	}
	if (tap->master == br->ifindex)
		return 0;
	guest_mac_host_side(&u->mac, &host);
	r = d->link.ops->port_plug(d->link.userdata, tap->ifindex, br->ifindex, &host);
	if (r == -EXFULL || r == -EBUSY)
		snprintf(err, errlen, "bridge %s has the kernel's maximum of 1023 ports; cannot add %s", br->name,
			 u->tap);
	else if (r < 0)
		snprintf(err, errlen, "cannot plug %s into %s: %s", u->tap, br->name, strerror(-r));
	return r;
}

static int links_user_add(struct daemon *d, struct net *n, const struct net_user *u, char *err, size_t errlen)
{
	struct link_dump dump = {};
	int r;

	/* A stopped network's bridge does not exist: it is plugged when the network starts. (A
	 * network on someone else's bridge has it whether it runs or not.) */
	if (n->def->mode->owns_bridge && !n->active)
		return 0;
	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, &dump);
	if (r < 0) {
		snprintf(err, errlen, "cannot read links from the kernel: %s", strerror(-r));
		return r;
	}
	r = plug_user(d, n, &dump, u, err, errlen);
	if (r >= 0)
		log_obj(LOG_DEBUG,
			LOG_OBJ(.network = n->def->name, .guest = u->guest, .bridge = n->def->bridge),
			"network '%s': guest '%s' (%s) plugged into bridge %s", n->def->name, u->guest,
			u->tap, n->def->bridge);
	link_dump_free(&dump);
	return r;
}

/* The users' TAPs that are not ports of the bridge (it was made anew) become ports again. A TAP
 * that is gone (its QEMU exited, netd will hear of it) is skipped. */
static int replug_users(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	struct link_dump dump = {};
	int r;

	if (!n->n_users)
		return 0;
	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, &dump);
	if (r < 0) {
		snprintf(err, errlen, "cannot read links from the kernel: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; r >= 0 && i < n->n_users; i++) {
		const struct net_user *u = &n->users[i];
		const struct link_info *br = link_dump_find_name(&dump, n->def->bridge);
		const struct link_info *tap = link_dump_find_name(&dump, u->tap);

		if (!br || !tap || tap->master == br->ifindex)
			continue;
		r = plug_user(d, n, &dump, u, err, errlen);
		if (r >= 0)
			log_obj(LOG_INFO,
				LOG_OBJ(.network = n->def->name, .guest = u->guest, .bridge = br->name),
				"network '%s': guest '%s' (%s) plugged into the new bridge %s", n->def->name,
				u->guest, u->tap, br->name);
	}
	link_dump_free(&dump);
	return r;
}

static int links_up(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	const struct network *def = n->def;
	struct desired_bridge w;
	int ifindex = 0;
	char scope[64];
	int r;

	if (!def->mode->owns_bridge) {
		/* Someone else's bridge: it must exist (the conflict checks say so with a reason). */
		r = daemon_check_conflicts(d, def, err, errlen);
		return r < 0 ? r : replug_users(d, n, err, errlen);
	}
	network_alias(def, scope, sizeof(scope));
	r = desired_from_network(d, def, &w);
	if (r < 0) {
		snprintf(err, errlen, "cannot get the bridge MAC of network '%s': %s", def->name,
			 strerror(-r));
		return r;
	}
	r = reconcile_scoped(d, &w, 1, scope, &ifindex, err, errlen);
	if (!links_net(n))
		*net_slot(n, &feature_links) = calloc(1, sizeof(struct links_net));
	if (links_net(n))
		*links_net(n) = (struct links_net){ .ifindex = r >= 0 ? ifindex : 0, .mac = w.mac };
	if (r >= 0)
		r = daemon_bridge_guard(d, def, err, errlen);
	if (r >= 0)
		r = replug_users(d, n, err, errlen);
	return r;
}

static int links_down(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	char scope[64];

	if (!n->def->mode->owns_bridge)
		return 0; /* not netd's to remove */
	network_alias(n->def, scope, sizeof(scope));
	free(links_net(n));
	*net_slot(n, &feature_links) = NULL;
	return reconcile_scoped(d, NULL, 0, scope, NULL, err, errlen);
}

static int links_init(struct daemon *d)
{
	struct links *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	*daemon_feature_state(d, &feature_links) = l;
	return 0;
}

static void links_done(struct daemon *d)
{
	for (size_t i = 0; i < d->n_nets; i++) {
		free(links_net(d->nets[i]));
		*net_slot(d->nets[i], &feature_links) = NULL;
	}
	walk_drop(d);
	free(LINKS(d));
	*daemon_feature_state(d, &feature_links) = NULL;
}

int daemon_net_bridge_ifindex(struct daemon *d, const struct net *n)
{
	struct links_net *l = links_net((struct net *)n);

	return l ? l->ifindex : 0;
}

/* Bridges tagged for a network that has no definition any more. */
static void links_settle(struct daemon *d)
{
	struct link_dump dump = {};

	if (d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, &dump) < 0) {
		walk_drop(d);
		return;
	}
	for (size_t i = 0; i < dump.n_links; i++) {
		const struct link_info *l = &dump.links[i];
		const char *owner = network_alias_owner(l->alias);
		char err[512];

		if (!owner || strcmp(l->kind, "bridge") || daemon_network_find(d, owner))
			continue;
		log_obj(LOG_INFO, LOG_OBJ(.network = owner, .bridge = l->name),
			"removing bridge '%s': network '%s' is no longer defined", l->name, owner);
		if (reconcile_scoped(d, NULL, 0, l->alias, NULL, err, sizeof(err)) < 0)
			log_obj(LOG_ERR, LOG_OBJ(.network = owner, .bridge = l->name),
				"cannot remove bridge '%s': %s", l->name, err);
	}
	link_dump_free(&dump);
	walk_drop(d); /* the walk ends with settle() */
}

static json_object *json_mac(const struct mac *m)
{
	char s[MAC_STRLEN];

	return json_object_new_string(mac_format(m, s, sizeof(s)));
}

static void add_common(json_object *k, const struct link_info *l)
{
	json_object_object_add(k, "ifindex", json_object_new_int(l->ifindex));
	json_object_object_add(k, "up", json_object_new_boolean(l->up));
	json_object_object_add(k, "mtu", json_object_new_int64(l->mtu));
	json_object_object_add(k, "mac", json_mac(&l->mac));
	json_object_object_add(k, "stp", json_object_new_boolean(l->stp_state > 0));
	/* seconds (the kernel counts hundredths) */
	if (l->stp_state > 0)
		json_object_object_add(k, "forward_delay", json_object_new_int64(l->forward_delay / 100));
}

/* Someone else's bridge (a converted uplink, say): it and its ports (into k unless NULL). */
static const char *kernel_state_attached(struct daemon *d, const struct network *n,
					 const struct link_dump *dump, json_object *k)
{
	const struct link_info *l = link_dump_find_name(dump, n->bridge);
	bool ok = l && !strcmp(l->kind, "bridge");
	json_object *ports;

	if (!k)
		return !ok ? "bridge missing" : !l->up ? "bridge down" : NULL;
	json_object_object_add(k, "exists", json_object_new_boolean(ok));
	if (!ok)
		return "bridge missing";
	ports = json_object_new_array();
	for (size_t i = 0; i < dump->n_links; i++)
		if (dump->links[i].master == l->ifindex)
			json_object_array_add(ports, json_object_new_string(dump->links[i].name));
	add_common(k, l);
	json_object_object_add(k, "uplink", json_object_new_boolean(uplink_is_bridge(d, n->bridge)));
	json_object_object_add(k, "ports", ports);
	json_object_object_add(k, "addresses", json_object_new_array());
	return !l->up ? "bridge down" : NULL;
}

/* The kernel's view of the bridge into k (NULL: only the verdict, for 'network list'), and what is
 * wrong with it (NULL: nothing). */
static const char *kernel_state(struct daemon *d, const struct network *n, const struct link_dump *dump,
				json_object *k)
{
	const struct link_info *l = link_dump_find_name(dump, n->bridge);
	const struct addr_info *first, *end;
	size_t n_addrs;
	json_object *addrs = NULL;
	struct ip_prefix gw[NETWORK_SUBNETS4_MAX], gw6;
	char alias[64], s[IP_PREFIX_STRLEN];
	size_t n_gw = network_gateways4(n, gw);
	bool has_gw6 = !n->subnet6.family;
	unsigned gw_seen = 0; /* bit i: gw[i] is there */

	if (!n->mode->owns_bridge)
		return kernel_state_attached(d, n, dump, k);
	network_alias(n, alias, sizeof(alias));
	network_gateway6_prefix(n, &gw6);
	if (k)
		json_object_object_add(k, "exists", json_object_new_boolean(l && !strcmp(l->alias, alias)));
	if (!l || strcmp(l->alias, alias))
		return "bridge missing";
	if (k)
		addrs = json_object_new_array();
	if (dump->indexed) {
		first = link_dump_addrs_of(dump, l->ifindex, &n_addrs);
		end = first ? first + n_addrs : NULL;
	} else {
		first = dump->addrs;
		end = dump->addrs + dump->n_addrs;
	}
	for (const struct addr_info *a = first; a && a < end; a++) {
		if (a->ifindex != l->ifindex)
			continue;
		if (addrs)
			json_object_array_add(
				addrs, json_object_new_string(ip_prefix_format(&a->prefix, s, sizeof(s))));
		for (size_t i = 0; i < n_gw; i++)
			gw_seen |= ip_prefix_equal(&a->prefix, &gw[i]) << i;
		has_gw6 |= ip_prefix_equal(&a->prefix, &gw6);
	}
	bool has_gw = gw_seen == (1u << n_gw) - 1;

	if (k) {
		add_common(k, l);
		json_object_object_add(k, "gateway_present", json_object_new_boolean(has_gw && has_gw6));
		json_object_object_add(k, "addresses", addrs);
	}
	if (!l->up)
		return "bridge down";
	return !has_gw ? "gateway address missing" : !has_gw6 ? "IPv6 gateway address missing" : NULL;
}

/* The MAC 'network show' gives: the running bridge's, else the one it gets at start (generated
 * once, then kept in the state dir). false: none. */
static bool shown_mac(struct daemon *d, const struct net *n, struct mac *ret)
{
	const struct links_net *ln = links_net((struct net *)n);

	if (ln) {
		*ret = ln->mac;
		return true;
	}
	return n->def->mode->owns_bridge && store_network_mac(&d->paths, n->def, ret) >= 0;
}

static void links_show(struct daemon *d, const struct net *n, const struct net_view *v, json_object *o)
{
	json_object *k;
	struct mac mac;

	if (shown_mac(d, n, &mac))
		json_object_object_add(o, "mac", json_mac(&mac));
	if (!v->full)
		return;
	k = json_object_new_object();
	kernel_state(d, n->def, v->dump, k);
	json_object_object_add(o, "kernel", k);
}

/* An inactive network's MAC is read from its file each time, as show() does. */
static void links_show_key(struct daemon *d, const struct net *n, struct net_show_key *k)
{
	struct mac mac;
	bool has = shown_mac(d, n, &mac);

	net_show_key_add(k, &has, sizeof(has));
	if (has)
		net_show_key_add(k, &mac, sizeof(mac));
}

static const char *links_problem(struct daemon *d, const struct net *n, const struct net_view *v, char *buf,
				 size_t size)
{
	return kernel_state(d, n->def, v->dump, NULL);
}

const struct feature feature_links = {
	.name = "links",
	.init = links_init,
	.done = links_done,
	.up = links_up,
	.down = links_down,
	.show = links_show,
	.show_key = links_show_key,
	.problem = links_problem,
	.settle = links_settle,
	.user_add = links_user_add,
};
