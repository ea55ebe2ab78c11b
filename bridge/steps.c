/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Link plans: building, the text form, and the one loop that applies them through the link ops. */
#include "steps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"

static const char *const link_step_table[_LINK_STEP_MAX] = {
	[LINK_STEP_BRIDGE_ADD] = "bridge-add",
	[LINK_STEP_LINK_DEL] = "link-del",
	[LINK_STEP_LINK_UP] = "link-up",
	[LINK_STEP_LINK_DOWN] = "link-down",
	[LINK_STEP_LINK_SET_MTU] = "link-set-mtu",
	[LINK_STEP_LINK_SET_MAC] = "link-set-mac",
	[LINK_STEP_SYSCTL_SET] = "sysctl",
	[LINK_STEP_ADDR_ADD] = "addr-add",
	[LINK_STEP_ADDR_REPLACE] = "addr-replace",
	[LINK_STEP_ADDR_DEL] = "addr-del",
	[LINK_STEP_PORT_ATTACH] = "port-attach",
	[LINK_STEP_PORT_RELEASE] = "port-release",
	[LINK_STEP_ROUTE_REPLACE] = "route-replace",
	[LINK_STEP_BURST_BEGIN] = "burst-begin",
	[LINK_STEP_BURST_END] = "burst-end",
	[LINK_STEP_ANNOUNCE] = "announce",
	[LINK_STEP_NEIGH_REPLACE] = "neigh-replace",
	[LINK_STEP_NEIGH_DEL] = "neigh-del",
	[LINK_STEP_ROUTE_DEL] = "route-del",
	[LINK_STEP_BRIDGE_SET_STP] = "bridge-set-stp",
};

const char *link_step_type_to_string(enum link_step_type t)
{
	return t < _LINK_STEP_MAX ? link_step_table[t] : NULL;
}

void link_plan_free(struct link_plan *p)
{
	if (!p)
		return;
	free(p->steps);
	*p = (struct link_plan){};
}

struct link_step *link_plan_push(struct link_plan *p, enum link_step_type type, const char *ifname,
				 int ifindex)
{
	struct link_step *s = realloc(p->steps, (p->n_steps + 1) * sizeof(*s));

	if (!s)
		return NULL;
	p->steps = s;
	s += p->n_steps++;
	*s = (struct link_step){ .type = type, .phase = p->phase, .ifindex = ifindex };
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	return s;
}

/* ---- text form ---- */

static void describe_addr(const struct link_step *s, const char *t, char *buf, size_t size)
{
	char a[160];

	if (s->full || s->type == LINK_STEP_ADDR_REPLACE)
		addr_info_format(&s->addr, a, sizeof(a));
	else
		ip_prefix_format(&s->addr.prefix, a, sizeof(a));
	snprintf(buf, size, "%s %s %s", t, s->ifname, a);
}

static void describe_route(const struct link_step *s, const char *t, char *buf, size_t size)
{
	char a[160];
	char *dev;

	route_info_format(&s->route, NULL, a, sizeof(a));
	snprintf(buf, size, "%s %s", t, a);
	/* The formatter does not know names; the device is the step's. */
	dev = strstr(buf, " dev ?");
	if (dev)
		snprintf(dev, size - (dev - buf), " dev %s%s", s->ifname, strstr(a, " dev ?") + 6);
}

void link_step_describe(const struct link_step *s, char *buf, size_t size)
{
	const char *t = link_step_type_to_string(s->type);
	char a[IP_PREFIX_STRLEN], m[MAC_STRLEN];

	switch (s->type) {
	case LINK_STEP_BRIDGE_ADD:
		snprintf(buf, size, "%s %s mac=%s mtu=%u stp=%s forward_delay=%u alias=%s", t, s->ifname,
			 mac_format(&s->mac, m, sizeof(m)), s->mtu, s->stp ? "on" : "off", s->forward_delay,
			 s->alias);
		break;
	case LINK_STEP_BRIDGE_SET_STP:
		snprintf(buf, size, "%s %s stp=%s forward_delay=%u", t, s->ifname, s->stp ? "on" : "off",
			 s->forward_delay);
		break;
	case LINK_STEP_LINK_SET_MTU:
		snprintf(buf, size, "%s %s %u", t, s->ifname, s->mtu);
		break;
	case LINK_STEP_LINK_SET_MAC:
		snprintf(buf, size, "%s %s %s", t, s->ifname, mac_format(&s->mac, m, sizeof(m)));
		break;
	case LINK_STEP_SYSCTL_SET:
		snprintf(buf, size, "%s net.%s.conf.%s.%s=%s", t, s->family == AF_INET ? "ipv4" : "ipv6",
			 s->ifname, s->key, s->value);
		break;
	case LINK_STEP_ADDR_ADD:
	case LINK_STEP_ADDR_REPLACE:
	case LINK_STEP_ADDR_DEL:
		describe_addr(s, t, buf, size);
		break;
	case LINK_STEP_PORT_ATTACH:
		snprintf(buf, size, "%s %s master %s", t, s->ifname, s->master);
		break;
	case LINK_STEP_ROUTE_REPLACE:
	case LINK_STEP_ROUTE_DEL:
		describe_route(s, t, buf, size);
		break;
	case LINK_STEP_ANNOUNCE:
		snprintf(buf, size, "%s %s %s from %s", t, s->ifname,
			 ip_prefix_format(&s->addr.prefix, a, sizeof(a)), mac_format(&s->mac, m, sizeof(m)));
		break;
	case LINK_STEP_NEIGH_REPLACE:
	case LINK_STEP_NEIGH_DEL: {
		char n[160];
		snprintf(buf, size, "%s %s %s", t, s->ifname, neigh_info_format(&s->neigh, n, sizeof(n)));
		break;
	}
	default:
		snprintf(buf, size, "%s%s%s", t ? t : "?", s->ifname[0] ? " " : "", s->ifname);
	}
}

char *link_plan_format(const struct link_plan *p)
{
	char *text = NULL, line[400];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct link_step *s = &p->steps[i];

		if (p->phase_names && (i == 0 || s->phase != s[-1].phase))
			fprintf(f, "[%s]\n", p->phase_names[s->phase]);
		link_step_describe(s, line, sizeof(line));
		fprintf(f, "%s%s\n", p->phase_names ? "  " : "", line);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- apply ---- */

struct apply {
	const struct link_plan *plan;
	struct link_backend *b;
	struct link_dump links; /* the links before the first step, when a step names one */
	int *ifindexes; /* per step: the link it acted on (BRIDGE_ADD: the bridge it made) */
	bool *done;
};

static bool step_acts_on_link(const struct link_step *s)
{
	return s->type != LINK_STEP_BRIDGE_ADD && s->type != LINK_STEP_SYSCTL_SET &&
	       s->type != LINK_STEP_BURST_BEGIN && s->type != LINK_STEP_BURST_END;
}

static bool made_before(const struct link_plan *p, size_t upto, const char *name)
{
	for (size_t i = 0; i < upto; i++)
		if (p->steps[i].type == LINK_STEP_BRIDGE_ADD && !strcmp(p->steps[i].ifname, name))
			return true;
	return false;
}

/* Whether some step names a link that exists before the plan: then the links are dumped first
 * (not in the middle of a burst, where nothing but the burst's requests may be sent). */
static bool plan_needs_links(const struct link_plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct link_step *s = &p->steps[i];

		if (step_acts_on_link(s) && !s->ifindex && !made_before(p, i, s->ifname))
			return true;
		if (s->type == LINK_STEP_PORT_ATTACH && !made_before(p, i, s->master))
			return true;
	}
	return false;
}

static int resolve(const struct apply *a, size_t upto, const char *name)
{
	const struct link_info *l;

	for (size_t i = upto; i-- > 0;)
		if (a->plan->steps[i].type == LINK_STEP_BRIDGE_ADD && a->done[i] &&
		    !strcmp(a->plan->steps[i].ifname, name))
			return a->ifindexes[i];
	l = link_dump_find_name(&a->links, name);
	return l ? l->ifindex : -ENODEV;
}

/* One step on the link ifindex; ret_made: the bridge a BRIDGE_ADD made. */
static int step_run(struct apply *a, const struct link_step *s, int ifindex, size_t upto, int *ret_made)
{
	const struct link_ops *o = a->b->ops;
	void *u = a->b->userdata;
	struct bridge_spec spec = { .name = s->ifname,
				    .mac = s->mac,
				    .mtu = s->mtu,
				    .alias = s->alias,
				    .stp = s->stp,
				    .forward_delay = s->forward_delay };
	struct addr_info addr = s->addr;
	struct route_info rt = s->route;
	struct neigh_info nb = s->neigh;
	int master;

	addr.ifindex = rt.ifindex = nb.ifindex = ifindex;
	switch (s->type) {
	case LINK_STEP_BRIDGE_ADD:
		return o->bridge_add(u, &spec, ret_made);
	case LINK_STEP_LINK_DEL:
		return o->link_del(u, ifindex);
	case LINK_STEP_LINK_UP:
	case LINK_STEP_LINK_DOWN:
		return o->link_set_up(u, ifindex, s->type == LINK_STEP_LINK_UP);
	case LINK_STEP_LINK_SET_MTU:
		return o->link_set_mtu(u, ifindex, s->mtu);
	case LINK_STEP_LINK_SET_MAC:
		return o->link_set_mac(u, ifindex, &s->mac);
	case LINK_STEP_BRIDGE_SET_STP:
		return o->bridge_set_stp(u, ifindex, s->stp, s->forward_delay);
	case LINK_STEP_SYSCTL_SET:
		return o->sysctl_set(u, s->family, s->ifname, s->key, s->value);
	case LINK_STEP_ADDR_ADD:
		return s->full ? o->addr_add_full(u, &addr, false) : o->addr_add(u, ifindex, &addr.prefix);
	case LINK_STEP_ADDR_REPLACE:
		return o->addr_add_full(u, &addr, true);
	case LINK_STEP_ADDR_DEL:
		return o->addr_del(u, ifindex, &addr.prefix);
	case LINK_STEP_PORT_ATTACH:
		master = resolve(a, upto, s->master);
		return master < 0 ? master : o->port_set(u, ifindex, master);
	case LINK_STEP_PORT_RELEASE:
		return o->port_set(u, ifindex, 0);
	case LINK_STEP_ROUTE_REPLACE:
	case LINK_STEP_ROUTE_DEL:
		return o->route_change(u, s->type == LINK_STEP_ROUTE_DEL ? ROUTE_DEL : ROUTE_REPLACE, &rt);
	case LINK_STEP_BURST_BEGIN:
		return o->batch_begin(u);
	case LINK_STEP_BURST_END:
		return o->batch_commit(u);
	case LINK_STEP_ANNOUNCE:
		return o->announce(u, ifindex, &s->mac, &addr.prefix);
	case LINK_STEP_NEIGH_REPLACE:
	case LINK_STEP_NEIGH_DEL:
		return o->neigh_change(u, &nb, s->type == LINK_STEP_NEIGH_REPLACE);
	default:
		return -EINVAL;
	}
}

static int step_apply(struct apply *a, size_t i)
{
	const struct link_step *s = &a->plan->steps[i];
	int ifindex = 0, r;

	if (step_acts_on_link(s)) {
		ifindex = s->ifindex ?: resolve(a, i, s->ifname);
		if (ifindex < 0)
			return ifindex;
		a->ifindexes[i] = ifindex;
	}
	r = step_run(a, s, ifindex, i, &a->ifindexes[i]);
	a->done[i] = r >= 0;
	return r;
}

/* The step that undoes s, done on ifindex; false: s has none (deletions, routes, sysctls...),
 * and a planner that wants an undo plans those last or not at all. */
static bool step_inverse(const struct link_step *s, int ifindex, struct link_step *ret)
{
	static const enum link_step_type inverse[_LINK_STEP_MAX] = {
		[LINK_STEP_BRIDGE_ADD] = LINK_STEP_LINK_DEL,
		[LINK_STEP_LINK_UP] = LINK_STEP_LINK_DOWN,
		[LINK_STEP_LINK_DOWN] = LINK_STEP_LINK_UP,
		[LINK_STEP_LINK_SET_MTU] = LINK_STEP_LINK_SET_MTU,
		[LINK_STEP_LINK_SET_MAC] = LINK_STEP_LINK_SET_MAC,
		[LINK_STEP_ADDR_ADD] = LINK_STEP_ADDR_DEL,
		[LINK_STEP_ADDR_DEL] = LINK_STEP_ADDR_ADD,
		[LINK_STEP_NEIGH_REPLACE] = LINK_STEP_NEIGH_DEL,
		[LINK_STEP_NEIGH_DEL] = LINK_STEP_NEIGH_REPLACE,
		[LINK_STEP_BRIDGE_SET_STP] = LINK_STEP_BRIDGE_SET_STP,
	};

	/* 0 (BRIDGE_ADD) is no step's inverse: it means none. */
	if (s->type >= _LINK_STEP_MAX || !inverse[s->type])
		return false;
	*ret = *s;
	ret->type = inverse[s->type];
	ret->ifindex = ifindex;
	ret->mtu = s->old_mtu; /* LINK_SET_MTU; the others do not read it */
	ret->mac = s->old_mac; /* LINK_SET_MAC */
	ret->stp = s->old_stp; /* BRIDGE_SET_STP */
	ret->forward_delay = s->old_forward_delay;
	return true;
}

/* Best effort: the caller reports the error that started the undo. */
static void plan_undo(struct apply *a, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		struct link_step inverse;
		int r;

		if (!a->done[i])
			continue;
		if (!step_inverse(&a->plan->steps[i], a->ifindexes[i], &inverse))
			continue;
		r = step_run(a, &inverse, a->ifindexes[i], i, NULL);
		if (r < 0)
			log_warning("rollback of %s on '%s' failed: %s",
				    link_step_type_to_string(a->plan->steps[i].type),
				    a->plan->steps[i].ifname, strerror(-r));
	}
}

/* In a rollback these mean the kernel is already as wanted. */
static bool already_so(int r)
{
	return r == -EEXIST || r == -ESRCH || r == -ENOENT || r == -EADDRNOTAVAIL || r == -ENODEV;
}

static void describe_failure(struct apply *a, size_t i, int r, char *err, size_t errlen)
{
	const char *ack = a->b->ops->last_error(a->b->userdata);
	char what[400];

	link_step_describe(&a->plan->steps[i], what, sizeof(what));
	snprintf(err, errlen, "%s failed: %s%s%s", what, strerror(-r), ack ? ": " : "", ack ? ack : "");
}

/* Runs the steps; returns how many were tried and the first error that counts in *ret_error. */
static size_t apply_steps(struct apply *a, link_phase_fn on_phase, void *userdata, int *ret_error, char *err,
			  size_t errlen)
{
	const struct link_plan *p = a->plan;
	bool best_effort = p->on_failure == LINK_PLAN_BEST_EFFORT, burst = false;
	int first = 0;
	size_t i;

	for (i = 0; i < p->n_steps; i++) {
		const struct link_step *s = &p->steps[i];
		int r;

		if (first && !burst && !best_effort)
			break;
		if ((i == 0 || s->phase != s[-1].phase) && on_phase) {
			r = on_phase(s->phase, userdata);
			if (r < 0) {
				first = first ?: r;
				break;
			}
		}
		r = step_apply(a, i);
		if (s->type == LINK_STEP_BURST_BEGIN || s->type == LINK_STEP_BURST_END)
			burst = s->type == LINK_STEP_BURST_BEGIN;
		if (r >= 0 || (best_effort && already_so(r)))
			continue;
		if (!first)
			describe_failure(a, i, r, err, errlen);
		first = first ?: r;
	}
	*ret_error = first;
	return i;
}

static int plan_apply(const struct link_plan *p, struct link_backend *b, link_phase_fn on_phase,
		      void *userdata, int *ret_made, char *err, size_t errlen)
{
	_cleanup_free_ int *ifindexes = calloc(p->n_steps + 1, sizeof(int));
	_cleanup_free_ bool *done = calloc(p->n_steps + 1, sizeof(bool));
	struct apply a = { .plan = p, .b = b, .ifindexes = ifindexes, .done = done };
	size_t n;
	int r;

	if (!ifindexes || !done)
		return -ENOMEM;
	if (plan_needs_links(p)) {
		r = b->ops->dump(b->userdata, LINK_DUMP_LINKS, &a.links);
		if (r < 0) {
			snprintf(err, errlen, "cannot read links from the kernel: %s", strerror(-r));
			return r;
		}
	}
	n = apply_steps(&a, on_phase, userdata, &r, err, errlen);
	if (r < 0 && p->on_failure == LINK_PLAN_UNDO)
		plan_undo(&a, n);
	for (size_t i = 0; r >= 0 && ret_made && i < n; i++)
		if (p->steps[i].type == LINK_STEP_BRIDGE_ADD) {
			*ret_made = ifindexes[i];
			break;
		}
	link_dump_free(&a.links);
	return r;
}

int link_plan_apply(const struct link_plan *p, struct link_backend *b, link_phase_fn on_phase, void *userdata,
		    char *err, size_t errlen)
{
	return plan_apply(p, b, on_phase, userdata, NULL, err, errlen);
}

int link_plan_apply_made(const struct link_plan *p, struct link_backend *b, int *ret_made, char *err,
			 size_t errlen)
{
	*ret_made = 0;
	return plan_apply(p, b, NULL, NULL, ret_made, err, errlen);
}
