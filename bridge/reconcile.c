/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reconcile.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

const char *reconcile_tag_owner(const char *alias)
{
	if (strncmp(alias, RECONCILE_TAG_PREFIX, strlen(RECONCILE_TAG_PREFIX)))
		return NULL;
	alias += strlen(RECONCILE_TAG_PREFIX);
	return object_name_valid(alias) ? alias : NULL;
}

static bool addr_wanted(const struct desired_bridge *w, const struct ip_prefix *a)
{
	for (size_t i = 0; i < w->n_addrs; i++)
		if (ip_prefix_equal(&w->addrs[i], a))
			return true;
	return false;
}

static bool addr_present(const struct link_dump *d, int ifindex, const struct ip_prefix *a)
{
	for (size_t i = 0; i < d->n_addrs; i++)
		if (d->addrs[i].ifindex == ifindex && ip_prefix_equal(&d->addrs[i].prefix, a))
			return true;
	return false;
}

static int push_addr(struct link_plan *p, enum link_step_type type, const char *ifname, int ifindex,
		     const struct ip_prefix *addr)
{
	struct link_step *s = link_plan_push(p, type, ifname, ifindex);

	if (!s)
		return -ENOMEM;
	s->addr.prefix = *addr;
	return 0;
}

/* A wanted IPv6 address: IPv6 on first (a host whose default is disable_ipv6=1 makes bridges
 * without it, and the kernel refuses their addresses), then the address without DAD: the bridge
 * has no carrier until a port comes, and a tentative gateway would not answer for seconds. */
static int push_addr6(struct link_plan *p, const char *ifname, int ifindex, const struct ip_prefix *addr,
		      bool *ipv6_on)
{
	struct link_step *s;

	if (!*ipv6_on) {
		s = link_plan_push(p, LINK_STEP_SYSCTL_SET, ifname, ifindex);
		if (!s)
			return -ENOMEM;
		s->family = AF_INET6;
		snprintf(s->key, sizeof(s->key), "disable_ipv6");
		snprintf(s->value, sizeof(s->value), "0");
		*ipv6_on = true;
	}
	s = link_plan_push(p, LINK_STEP_ADDR_ADD, ifname, ifindex);
	if (!s)
		return -ENOMEM;
	s->full = true;
	s->addr = (struct addr_info){ .prefix = *addr,
				      .scope = RT_SCOPE_UNIVERSE,
				      .flags = IFA_F_NODAD,
				      .valid_lft = LINK_LFT_FOREVER,
				      .preferred_lft = LINK_LFT_FOREVER };
	return 0;
}

static int push_wanted_addr(struct link_plan *p, const char *ifname, int ifindex,
			    const struct ip_prefix *addr, bool *ipv6_on)
{
	if (addr->family == AF_INET6)
		return push_addr6(p, ifname, ifindex, addr, ipv6_on);
	return push_addr(p, LINK_STEP_ADDR_ADD, ifname, ifindex, addr);
}

static int plan_create(struct link_plan *p, const struct desired_bridge *w)
{
	struct link_step *s = link_plan_push(p, LINK_STEP_BRIDGE_ADD, w->ifname, 0);
	int r = 0;

	if (!s)
		return -ENOMEM;
	s->mac = w->mac;
	s->mtu = w->mtu;
	s->stp = w->stp;
	s->forward_delay = w->stp ? w->forward_delay : 0;
	snprintf(s->alias, sizeof(s->alias), "%s", w->owner);
	bool ipv6_on = false;

	for (size_t i = 0; r >= 0 && i < w->n_addrs; i++)
		r = push_wanted_addr(p, w->ifname, 0, &w->addrs[i], &ipv6_on);
	if (r >= 0 && !link_plan_push(p, LINK_STEP_LINK_UP, w->ifname, 0))
		r = -ENOMEM;
	return r;
}

/* STP and the forward delay as wanted (the kernel counts the delay in hundredths of a second). With
 * STP off the delay does nothing: one left from STP on is set back to 0 all the same, so that the
 * bridge reads back as a new one would. */
static int plan_stp(struct link_plan *p, const struct desired_bridge *w, const struct link_info *l)
{
	unsigned fd = w->stp ? w->forward_delay : 0;
	struct link_step *s;

	if ((l->stp_state > 0) == w->stp && l->forward_delay == fd * 100)
		return 0;
	if (!(s = link_plan_push(p, LINK_STEP_BRIDGE_SET_STP, l->name, l->ifindex)))
		return -ENOMEM;
	s->stp = w->stp;
	s->forward_delay = fd;
	s->old_stp = l->stp_state > 0;
	/* What the kernel reports may have been learnt from a BPDU (any value): an undo sets only what
	 * can be set with STP on, 2-30 s. */
	s->old_forward_delay = l->forward_delay / 100;
	if (s->old_forward_delay > 30)
		s->old_forward_delay = 30;
	else if (s->old_stp && s->old_forward_delay < 2)
		s->old_forward_delay = 2;
	return 0;
}

/* Adopt a bridge netd already owns: change only what differs. New addresses go on before old
 * ones come off, so the bridge is never without its gateway while a subnet changes. */
static int plan_adopt(struct link_plan *p, const struct desired_bridge *w, const struct link_info *l,
		      const struct link_dump *d)
{
	struct link_step *s;
	bool ipv6_on = false;
	int r = 0;

	if (w->mtu && l->mtu != w->mtu) {
		if (!(s = link_plan_push(p, LINK_STEP_LINK_SET_MTU, l->name, l->ifindex)))
			return -ENOMEM;
		s->mtu = w->mtu;
		s->old_mtu = l->mtu;
	}
	if (!mac_equal(&l->mac, &w->mac)) {
		if (!(s = link_plan_push(p, LINK_STEP_LINK_SET_MAC, l->name, l->ifindex)))
			return -ENOMEM;
		s->mac = w->mac;
		s->old_mac = l->mac;
	}
	r = plan_stp(p, w, l);
	for (size_t i = 0; r >= 0 && i < w->n_addrs; i++)
		if (!addr_present(d, l->ifindex, &w->addrs[i]))
			r = push_wanted_addr(p, l->name, l->ifindex, &w->addrs[i], &ipv6_on);
	for (size_t i = 0; r >= 0 && i < d->n_addrs; i++) {
		const struct addr_info *a = &d->addrs[i];

		if (a->ifindex == l->ifindex && a->scope == RT_SCOPE_UNIVERSE && !addr_wanted(w, &a->prefix))
			r = push_addr(p, LINK_STEP_ADDR_DEL, l->name, l->ifindex, &a->prefix);
	}
	if (r >= 0 && !l->up && !link_plan_push(p, LINK_STEP_LINK_UP, l->name, l->ifindex))
		r = -ENOMEM;
	return r;
}

static const struct desired_bridge *find_wanted(const struct desired_bridge *want, size_t n,
						const char *alias)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(want[i].owner, alias))
			return &want[i];
	return NULL;
}

static bool in_scope(const struct link_info *l, const char *scope)
{
	/* The scope first: a network's plan looks at every link of the host (1000 bridges). */
	if (scope && strcmp(l->alias, scope))
		return false;
	return !strcmp(l->kind, "bridge") && reconcile_tag_owner(l->alias);
}

int reconcile_plan(const struct desired_bridge *want, size_t n_want, const struct link_dump *observed,
		   const char *scope, struct link_plan *ret)
{
	struct link_plan p = { .on_failure = LINK_PLAN_UNDO };
	int r = 0;

	for (size_t i = 0; i < n_want && r >= 0; i++) {
		const struct link_info *l = NULL;

		for (size_t j = 0; j < observed->n_links && !l; j++)
			if (in_scope(&observed->links[j], want[i].owner) &&
			    !strcmp(observed->links[j].name, want[i].ifname))
				l = &observed->links[j];
		r = l ? plan_adopt(&p, &want[i], l, observed) : plan_create(&p, &want[i]);
	}
	/* Deletions last: they cannot be undone without a new ifindex. A bridge whose network now
	 * wants a different name is deleted here and was created above. */
	for (size_t j = 0; j < observed->n_links && r >= 0; j++) {
		const struct link_info *l = &observed->links[j];
		const struct desired_bridge *w;

		if (!in_scope(l, scope))
			continue;
		w = find_wanted(want, n_want, l->alias);
		if (w && !strcmp(w->ifname, l->name))
			continue;
		r = link_plan_push(&p, LINK_STEP_LINK_DEL, l->name, l->ifindex) ? 0 : -ENOMEM;
	}
	if (r < 0) {
		link_plan_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}
