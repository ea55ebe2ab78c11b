/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reconcile.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "network.h"

static const char *const plan_op_table[_PLAN_OP_MAX] = {
	[PLAN_BRIDGE_ADD] = "bridge-add",     [PLAN_LINK_DEL] = "link-del",
	[PLAN_LINK_SET_UP] = "link-set-up",   [PLAN_LINK_SET_MTU] = "link-set-mtu",
	[PLAN_LINK_SET_MAC] = "link-set-mac", [PLAN_ADDR_ADD] = "addr-add",
	[PLAN_ADDR_DEL] = "addr-del",
};

const char *plan_op_type_to_string(enum plan_op_type t)
{
	return t < _PLAN_OP_MAX ? plan_op_table[t] : NULL;
}

void plan_free(struct plan *p)
{
	free(p->ops);
	*p = (struct plan){};
}

static struct plan_op *plan_push(struct plan *p, enum plan_op_type type, const char *ifname, int ifindex)
{
	struct plan_op *ops = realloc(p->ops, (p->n_ops + 1) * sizeof(*ops));

	if (!ops)
		return NULL;
	p->ops = ops;
	ops += p->n_ops++;
	*ops = (struct plan_op){ .type = type, .ifindex = ifindex };
	snprintf(ops->ifname, sizeof(ops->ifname), "%s", ifname);
	return ops;
}

static void op_describe(const struct plan_op *op, char *buf, size_t size)
{
	char a[IP_PREFIX_STRLEN], m[MAC_STRLEN];
	const char *t = plan_op_type_to_string(op->type);

	switch (op->type) {
	case PLAN_BRIDGE_ADD:
		snprintf(buf, size, "%s %s mac=%s mtu=%u alias=%s", t, op->ifname,
			 mac_format(&op->mac, m, sizeof(m)), op->mtu, op->alias);
		break;
	case PLAN_LINK_SET_UP:
		snprintf(buf, size, "%s %s %s", t, op->ifname, op->up ? "up" : "down");
		break;
	case PLAN_LINK_SET_MTU:
		snprintf(buf, size, "%s %s %u", t, op->ifname, op->mtu);
		break;
	case PLAN_LINK_SET_MAC:
		snprintf(buf, size, "%s %s %s", t, op->ifname, mac_format(&op->mac, m, sizeof(m)));
		break;
	case PLAN_ADDR_ADD:
	case PLAN_ADDR_DEL:
		snprintf(buf, size, "%s %s %s", t, op->ifname, ip_prefix_format(&op->addr, a, sizeof(a)));
		break;
	default:
		snprintf(buf, size, "%s %s", t, op->ifname);
	}
}

char *plan_format(const struct plan *p)
{
	size_t cap = 1 + p->n_ops * 160, len = 0;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	s[0] = 0;
	for (size_t i = 0; i < p->n_ops; i++) {
		op_describe(&p->ops[i], s + len, cap - len - 1);
		len += strlen(s + len);
		s[len++] = '\n';
		s[len] = 0;
	}
	return s;
}

static bool addr_wanted(const struct desired_bridge *w, const struct ip_prefix *a)
{
	for (size_t i = 0; i < w->n_addrs; i++)
		if (w->addrs[i].family == a->family && w->addrs[i].len == a->len &&
		    ip_addr_equal(a->family, &w->addrs[i].addr, &a->addr))
			return true;
	return false;
}

static bool addr_present(const struct link_dump *d, int ifindex, const struct ip_prefix *a)
{
	for (size_t i = 0; i < d->n_addrs; i++)
		if (d->addrs[i].ifindex == ifindex && d->addrs[i].prefix.family == a->family &&
		    d->addrs[i].prefix.len == a->len &&
		    ip_addr_equal(a->family, &d->addrs[i].prefix.addr, &a->addr))
			return true;
	return false;
}

static int plan_create(struct plan *p, const struct desired_bridge *w)
{
	struct plan_op *op = plan_push(p, PLAN_BRIDGE_ADD, w->ifname, 0);

	if (!op)
		return -ENOMEM;
	op->mac = w->mac;
	op->mtu = w->mtu;
	snprintf(op->alias, sizeof(op->alias), "%s", w->owner);
	for (size_t i = 0; i < w->n_addrs; i++) {
		op = plan_push(p, PLAN_ADDR_ADD, w->ifname, 0);
		if (!op)
			return -ENOMEM;
		op->addr = w->addrs[i];
	}
	op = plan_push(p, PLAN_LINK_SET_UP, w->ifname, 0);
	if (!op)
		return -ENOMEM;
	op->up = true;
	return 0;
}

/* Adopt a bridge netd already owns: change only what differs. New addresses go on before old
 * ones come off, so the bridge is never without its gateway while a subnet changes. */
static int plan_adopt(struct plan *p, const struct desired_bridge *w, const struct link_info *l,
		      const struct link_dump *d)
{
	struct plan_op *op;

	if (w->mtu && l->mtu != w->mtu) {
		if (!(op = plan_push(p, PLAN_LINK_SET_MTU, l->name, l->ifindex)))
			return -ENOMEM;
		op->mtu = w->mtu;
		op->old_mtu = l->mtu;
	}
	if (!mac_equal(&l->mac, &w->mac)) {
		if (!(op = plan_push(p, PLAN_LINK_SET_MAC, l->name, l->ifindex)))
			return -ENOMEM;
		op->mac = w->mac;
		op->old_mac = l->mac;
	}
	for (size_t i = 0; i < w->n_addrs; i++) {
		if (addr_present(d, l->ifindex, &w->addrs[i]))
			continue;
		if (!(op = plan_push(p, PLAN_ADDR_ADD, l->name, l->ifindex)))
			return -ENOMEM;
		op->addr = w->addrs[i];
	}
	for (size_t i = 0; i < d->n_addrs; i++) {
		const struct addr_info *a = &d->addrs[i];

		if (a->ifindex != l->ifindex || a->scope != RT_SCOPE_UNIVERSE || addr_wanted(w, &a->prefix))
			continue;
		if (!(op = plan_push(p, PLAN_ADDR_DEL, l->name, l->ifindex)))
			return -ENOMEM;
		op->addr = a->prefix;
	}
	if (!l->up) {
		if (!(op = plan_push(p, PLAN_LINK_SET_UP, l->name, l->ifindex)))
			return -ENOMEM;
		op->up = true;
	}
	return 0;
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
	if (strcmp(l->kind, "bridge") || !network_alias_owner(l->alias))
		return false;
	return !scope || !strcmp(l->alias, scope);
}

int reconcile_plan(const struct desired_bridge *want, size_t n_want, const struct link_dump *observed,
		   const char *scope, struct plan *ret)
{
	struct plan p = {};
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
		r = plan_push(&p, PLAN_LINK_DEL, l->name, l->ifindex) ? 0 : -ENOMEM;
	}
	if (r < 0) {
		plan_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

/* The ifindex an op acts on: its own, or that of the bridge an earlier op of the plan made. */
static int op_ifindex(const struct plan_op *op, const int *created, const struct plan *p)
{
	if (op->ifindex)
		return op->ifindex;
	for (size_t i = 0; i < p->n_ops; i++)
		if (p->ops[i].type == PLAN_BRIDGE_ADD && !strcmp(p->ops[i].ifname, op->ifname) && created[i])
			return created[i];
	return -ENODEV;
}

static int op_run(const struct plan_op *op, int ifindex, struct link_backend *b, int *ret_created)
{
	const struct link_ops *o = b->ops;
	void *u = b->userdata;

	switch (op->type) {
	case PLAN_BRIDGE_ADD: {
		struct bridge_spec spec = { .name = op->ifname, .mac = op->mac, .mtu = op->mtu, .alias = op->alias };
		return o->bridge_add(u, &spec, ret_created);
	}
	case PLAN_LINK_DEL:
		return o->link_del(u, ifindex);
	case PLAN_LINK_SET_UP:
		return o->link_set_up(u, ifindex, op->up);
	case PLAN_LINK_SET_MTU:
		return o->link_set_mtu(u, ifindex, op->mtu);
	case PLAN_LINK_SET_MAC:
		return o->link_set_mac(u, ifindex, &op->mac);
	case PLAN_ADDR_ADD:
		return o->addr_add(u, ifindex, &op->addr);
	case PLAN_ADDR_DEL:
		return o->addr_del(u, ifindex, &op->addr);
	default:
		return -EINVAL;
	}
}

/* Undo one applied op. Best effort: the first error is what the caller reports. */
static void op_undo(const struct plan_op *op, int ifindex, struct link_backend *b)
{
	const struct link_ops *o = b->ops;
	void *u = b->userdata;
	int r = 0;

	switch (op->type) {
	case PLAN_BRIDGE_ADD:
		r = o->link_del(u, ifindex);
		break;
	case PLAN_LINK_SET_UP:
		r = o->link_set_up(u, ifindex, !op->up);
		break;
	case PLAN_LINK_SET_MTU:
		r = o->link_set_mtu(u, ifindex, op->old_mtu);
		break;
	case PLAN_LINK_SET_MAC:
		r = o->link_set_mac(u, ifindex, &op->old_mac);
		break;
	case PLAN_ADDR_ADD:
		r = o->addr_del(u, ifindex, &op->addr);
		break;
	case PLAN_ADDR_DEL:
		r = o->addr_add(u, ifindex, &op->addr);
		break;
	default:
		break;
	}
	if (r < 0)
		log_warning("rollback of %s on '%s' failed: %s", plan_op_type_to_string(op->type),
			    op->ifname, strerror(-r));
}

int plan_apply(const struct plan *p, struct link_backend *b, char *err, size_t errlen)
{
	_cleanup_free_ int *created = calloc(p->n_ops + 1, sizeof(int));
	_cleanup_free_ int *ifindexes = calloc(p->n_ops + 1, sizeof(int));
	size_t i;
	int r = 0;

	if (!created || !ifindexes)
		return -ENOMEM;
	for (i = 0; i < p->n_ops; i++) {
		char what[256];

		r = op_ifindex(&p->ops[i], created, p);
		if (r >= 0 || p->ops[i].type == PLAN_BRIDGE_ADD) {
			ifindexes[i] = r > 0 ? r : 0;
			r = op_run(&p->ops[i], ifindexes[i], b, &created[i]);
			if (p->ops[i].type == PLAN_BRIDGE_ADD)
				ifindexes[i] = created[i];
		}
		if (r >= 0)
			continue;
		op_describe(&p->ops[i], what, sizeof(what));
		const char *ack = b->ops->last_error(b->userdata);
		snprintf(err, errlen, "%s failed: %s%s%s", what, strerror(-r), ack ? ": " : "", ack ? ack : "");
		break;
	}
	if (r >= 0)
		return 0;
	while (i-- > 0)
		op_undo(&p->ops[i], ifindexes[i], b);
	return r;
}
