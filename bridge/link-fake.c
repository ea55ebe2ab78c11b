/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A recording, in-memory stand-in for the kernel, for tests without root. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "macro.h"

struct link_fake {
	struct link_dump k; /* what the "kernel" holds */
	int next_ifindex;
	char *log;
	size_t log_len;
	unsigned n_mutations;
	unsigned fail_at;
	int fail_errno;
	char fail_op[32];
};

static void fake_log(struct link_fake *f, const char *fmt, ...) _printf_(2, 3);
static void fake_log(struct link_fake *f, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	char *p = realloc(f->log, f->log_len + n + 2);
	if (!p)
		return;
	f->log = p;
	memcpy(f->log + f->log_len, line, n);
	f->log_len += n;
	f->log[f->log_len++] = '\n';
	f->log[f->log_len] = 0;
}

/* Every mutation passes here first: counts it and decides whether it is made to fail. */
static int fake_mutation(struct link_fake *f, const char *op)
{
	f->n_mutations++;
	if ((f->fail_at && f->n_mutations == f->fail_at) || !strcmp(f->fail_op, op)) {
		fake_log(f, "%s FAILED %s", op, strerror(f->fail_errno));
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
	char mac[MAC_STRLEN];
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
	l->stp_state = 0;
	snprintf(l->alias, sizeof(l->alias), "%s", spec->alias ? spec->alias : "");
	fake_log(f, "bridge_add name=%s mac=%s mtu=%u alias=%s", spec->name,
		 mac_format(&spec->mac, mac, sizeof(mac)), spec->mtu, l->alias);
	*ret_ifindex = l->ifindex;
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
	fake_log(f, "link_del %s", l->name);
	for (i = j = 0; i < f->k.n_addrs; i++)
		if (f->k.addrs[i].ifindex != ifindex)
			f->k.addrs[j++] = f->k.addrs[i];
	f->k.n_addrs = j;
	for (i = j = 0; i < f->k.n_routes; i++)
		if (f->k.routes[i].ifindex != ifindex)
			f->k.routes[j++] = f->k.routes[i];
	f->k.n_routes = j;
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
	fake_log(f, "link_set_up %s %s", l->name, up ? "up" : "down");
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
	fake_log(f, "link_set_mtu %s %u", l->name, mtu);
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
	fake_log(f, "link_set_mac %s %s", l->name, mac_format(mac, buf, sizeof(buf)));
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
	fake_log(f, "link_set_alias %s %s", l->name, alias);
	return 0;
}

static int fake_link_set_master(void *userdata, int ifindex, int master_ifindex)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, ifindex), *m = fake_link(f, master_ifindex);
	int r = fake_mutation(f, "link_set_master");

	if (r < 0)
		return r;
	if (!l || (master_ifindex && !m))
		return -ENODEV;
	l->master = master_ifindex;
	fake_log(f, "link_set_master %s %s", l->name, m ? m->name : "none");
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
	f->k.addrs[f->k.n_addrs++] = (struct addr_info){ .ifindex = ifindex, .prefix = *a };
	fake_log(f, "addr_add %s %s", l->name, ip_prefix_format(a, buf, sizeof(buf)));
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
	memmove(&f->k.addrs[i], &f->k.addrs[i + 1], (f->k.n_addrs - i - 1) * sizeof(f->k.addrs[0]));
	f->k.n_addrs--;
	fake_log(f, "addr_del %s %s", l->name, ip_prefix_format(a, buf, sizeof(buf)));
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
	*ret = d;
	return 0;
}

static const char *fake_last_error(void *userdata)
{
	return NULL;
}

static const struct link_ops fake_ops = {
	.name = "fake",
	.bridge_add = fake_bridge_add,
	.link_del = fake_link_del,
	.link_set_up = fake_link_set_up,
	.link_set_mtu = fake_link_set_mtu,
	.link_set_mac = fake_link_set_mac,
	.link_set_alias = fake_link_set_alias,
	.link_set_master = fake_link_set_master,
	.addr_add = fake_addr_add,
	.addr_del = fake_addr_del,
	.dump = fake_dump,
	.last_error = fake_last_error,
};

int link_fake_new(struct link_fake **ret, struct link_backend *ret_backend)
{
	struct link_fake *f = calloc(1, sizeof(*f));
	struct link_info *lo;

	if (!f)
		return -ENOMEM;
	f->next_ifindex = 1;
	if (fake_new_link(f, "lo", "", &lo) < 0) {
		free(f);
		return -ENOMEM;
	}
	lo->up = true;
	*ret = f;
	*ret_backend = (struct link_backend){ .ops = &fake_ops, .userdata = f };
	return 0;
}

void link_fake_free(struct link_fake *f)
{
	if (!f)
		return;
	link_dump_free(&f->k);
	free(f->log);
	free(f);
}

const char *link_fake_log(struct link_fake *f)
{
	return f->log ? f->log : "";
}

void link_fake_clear_log(struct link_fake *f)
{
	free(f->log);
	f->log = NULL;
	f->log_len = 0;
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
