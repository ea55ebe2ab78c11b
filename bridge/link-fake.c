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
		char value[32];
	} *sysctls;
	size_t n_sysctls;
	/* Subscriptions to change notifications: a pipe each, whose read end plays the socket. */
	struct fake_events {
		int fd, write_fd;
		unsigned what, pending;
	} events[LINK_FAKE_EVENTS_MAX];
	size_t n_events;
};

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
	fake_log_add(&f->log, "bridge_add name=%s mac=%s mtu=%u alias=%s", spec->name,
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
	memmove(&f->k.addrs[i], &f->k.addrs[i + 1], (f->k.n_addrs - i - 1) * sizeof(f->k.addrs[0]));
	f->k.n_addrs--;
	fake_log_add(&f->log, "addr_del %s %s", l->name, ip_prefix_format(a, buf, sizeof(buf)));
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

static int fake_addr_add_full(void *userdata, const struct addr_info *a, bool replace)
{
	struct link_fake *f = userdata;
	struct link_info *l = fake_link(f, a->ifindex);
	char buf[128];
	int r = fake_mutation(f, "addr_add_full");
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
	/* As the kernel: IPv4 keeps its flags on replace; NODAD is not a state; no lifetime means
	 * permanent. */
	if (!existed || a->prefix.family == AF_INET6) {
		uint32_t keep = IFA_F_NOPREFIXROUTE | IFA_F_MANAGETEMPADDR | IFA_F_HOMEADDRESS;
		f->k.addrs[i] = *a;
		f->k.addrs[i].flags = a->flags & keep;
	} else {
		f->k.addrs[i].flags &= ~IFA_F_PERMANENT;
	}
	f->k.addrs[i].valid_lft = a->valid_lft;
	f->k.addrs[i].preferred_lft = a->preferred_lft;
	if (a->valid_lft == LINK_LFT_FOREVER)
		f->k.addrs[i].flags |= IFA_F_PERMANENT;
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
}

static int fake_sysctl_set(void *userdata, int family, const char *ifname, const char *key, const char *value)
{
	struct link_fake *f = userdata;
	const struct link_info *l = link_dump_find_name(&f->k, ifname);
	struct fake_sysctl *s;
	int r = fake_mutation(f, "sysctl_set");

	if (r < 0)
		return r;
	if (!l && strcmp(ifname, "all") && strcmp(ifname, "default"))
		return -ENOENT;
	s = fake_sysctl_find(f, family, ifname, key);
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
	.link_del = fake_link_del,
	.link_set_up = fake_link_set_up,
	.link_set_mtu = fake_link_set_mtu,
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
