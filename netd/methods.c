/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control methods, one function each, and the table that names them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "uplink.h"

static int param_name(struct call *c, json_object *params, const char **ret)
{
	int r = protocol_param_string(params, "name", ret);

	if (r == -ENOENT)
		return call_errorf(c, -EINVAL, "missing parameter 'name'");
	if (r < 0)
		return call_errorf(c, r, "parameter 'name' must be a string");
	return 0;
}

static int lookup(struct daemon *d, struct call *c, json_object *params, struct network **ret)
{
	const char *name;
	int r = param_name(c, params, &name);

	if (r < 0)
		return r;
	*ret = daemon_network_find(d, name);
	if (!*ret)
		return call_errorf(c, -ENOENT, "no network named '%s' (see 'netdctl network list')", name);
	return 0;
}

static json_object *json_prefix(const struct ip_prefix *p)
{
	char s[IP_PREFIX_STRLEN];

	return json_object_new_string(ip_prefix_format(p, s, sizeof(s)));
}

static json_object *json_addr(int family, const union in_addr_union *a)
{
	char s[INET6_ADDRSTRLEN];

	return json_object_new_string(ip_addr_format(family, a, s, sizeof(s)));
}

static json_object *json_mac(const struct mac *m)
{
	char s[MAC_STRLEN];

	return json_object_new_string(mac_format(m, s, sizeof(s)));
}

/* Mode bridge: the bridge is someone else's (a converted uplink, say); report it and its ports. */
static json_object *kernel_state_attached(struct daemon *d, const struct network *n, const struct link_dump *dump,
					  const char **ret_problem)
{
	const struct link_info *l = link_dump_find_name(dump, n->bridge);
	json_object *k = json_object_new_object(), *ports;
	bool ok = l && !strcmp(l->kind, "bridge");

	json_object_object_add(k, "exists", json_object_new_boolean(ok));
	if (!ok) {
		*ret_problem = "bridge missing";
		return k;
	}
	ports = json_object_new_array();
	for (size_t i = 0; i < dump->n_links; i++)
		if (dump->links[i].master == l->ifindex)
			json_object_array_add(ports, json_object_new_string(dump->links[i].name));
	json_object_object_add(k, "ifindex", json_object_new_int(l->ifindex));
	json_object_object_add(k, "up", json_object_new_boolean(l->up));
	json_object_object_add(k, "mtu", json_object_new_int64(l->mtu));
	json_object_object_add(k, "mac", json_mac(&l->mac));
	json_object_object_add(k, "stp", json_object_new_boolean(l->stp_state > 0));
	json_object_object_add(k, "uplink", json_object_new_boolean(uplink_is_bridge(d, n->bridge)));
	json_object_object_add(k, "ports", ports);
	json_object_object_add(k, "addresses", json_object_new_array());
	*ret_problem = !l->up ? "bridge down" : NULL;
	return k;
}

/* The kernel's view of a network's bridge, and whether it matches what the network wants. */
static json_object *kernel_state(struct daemon *d, const struct network *n, const struct link_dump *dump,
				 const char **ret_problem)
{
	const struct link_info *l = link_dump_find_name(dump, n->bridge);
	json_object *k = json_object_new_object(), *addrs = json_object_new_array();
	struct ip_prefix gw;
	char alias[64];
	bool has_gw = false;

	if (n->mode == NETWORK_MODE_BRIDGE)
		return kernel_state_attached(d, n, dump, ret_problem);
	network_alias(n, alias, sizeof(alias));
	network_gateway_prefix(n, &gw);
	json_object_object_add(k, "exists", json_object_new_boolean(l && !strcmp(l->alias, alias)));
	if (!l || strcmp(l->alias, alias)) {
		*ret_problem = "bridge missing";
		json_object_put(addrs);
		return k;
	}
	for (size_t i = 0; i < dump->n_addrs; i++) {
		const struct addr_info *a = &dump->addrs[i];

		if (a->ifindex != l->ifindex)
			continue;
		json_object_array_add(addrs, json_prefix(&a->prefix));
		if (a->prefix.family == gw.family && a->prefix.len == gw.len &&
		    ip_addr_equal(gw.family, &a->prefix.addr, &gw.addr))
			has_gw = true;
	}
	json_object_object_add(k, "ifindex", json_object_new_int(l->ifindex));
	json_object_object_add(k, "up", json_object_new_boolean(l->up));
	json_object_object_add(k, "mtu", json_object_new_int64(l->mtu));
	json_object_object_add(k, "mac", json_mac(&l->mac));
	json_object_object_add(k, "stp", json_object_new_boolean(l->stp_state > 0));
	json_object_object_add(k, "gateway_present", json_object_new_boolean(has_gw));
	json_object_object_add(k, "addresses", addrs);
	*ret_problem = !l->up ? "bridge down" : !has_gw ? "gateway address missing" : NULL;
	return k;
}

static json_object *network_json(struct daemon *d, const struct network *n, const struct link_dump *dump,
				 bool with_kernel)
{
	json_object *o = json_object_new_object(), *k;
	bool active = store_active_get(&d->paths, n->name);
	const char *problem = NULL;
	struct mac mac;

	json_object_object_add(o, "name", json_object_new_string(n->name));
	json_object_object_add(o, "mode", json_object_new_string(network_mode_to_string(n->mode)));
	json_object_object_add(o, "bridge", json_object_new_string(n->bridge));
	json_object_object_add(o, "subnet", n->subnet.family ? json_prefix(&n->subnet) : NULL);
	json_object_object_add(o, "gateway", n->has_gateway ? json_addr(AF_INET, &n->gateway) : NULL);
	json_object_object_add(o, "mtu", n->mtu ? json_object_new_int64(n->mtu) : NULL);
	if (n->mode != NETWORK_MODE_BRIDGE && store_network_mac(&d->paths, n, &mac) >= 0)
		json_object_object_add(o, "mac", json_mac(&mac));
	json_object_object_add(o, "autostart", json_object_new_boolean(n->autostart));
	k = kernel_state(d, n, dump, &problem);
	json_object_object_add(o, "state", json_object_new_string(!active ? "inactive" : problem ? "degraded" : "active"));
	if (active && problem)
		json_object_object_add(o, "problem", json_object_new_string(problem));
	if (with_kernel)
		json_object_object_add(o, "kernel", k);
	else
		json_object_put(k);
	return o;
}

static int dump_kernel(struct daemon *d, struct call *c, struct link_dump *ret)
{
	int r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS, ret);

	if (r < 0)
		return call_errorf(c, r, "cannot read links from the kernel: %s", strerror(-r));
	return 0;
}

static int reply_network(struct daemon *d, struct call *c, const struct network *n)
{
	struct link_dump dump = {};
	int r = dump_kernel(d, c, &dump);

	if (r < 0)
		return r;
	call_reply(c, network_json(d, n, &dump, true));
	link_dump_free(&dump);
	return 0;
}

/* Fill a definition from request parameters; messages name the flag the user typed. */
static int network_from_params(struct call *c, json_object *params, struct network *n)
{
	const char *name, *s;
	unsigned mtu;
	bool b;
	int r, family;

	r = param_name(c, params, &name);
	if (r < 0)
		return r;
	network_init(n, "");
	if (strlen(name) >= sizeof(n->name))
		return call_errorf(c, -EINVAL, "invalid network name '%s': is longer than %d characters", name,
				   NAME_MAX_LEN);
	snprintf(n->name, sizeof(n->name), "%s", name);
	if (protocol_param_string(params, "mode", &s) >= 0) {
		n->mode = network_mode_from_string(s);
		if (n->mode < 0)
			return call_errorf(c, -EINVAL, "unknown mode '%s' (known: isolated, bridge)", s);
	}
	if (protocol_param_string(params, "bridge", &s) >= 0) {
		const char *why = ifname_invalid_reason(s);
		if (why)
			return call_errorf(c, -EINVAL, "invalid bridge name '%s': %s", s, why);
		snprintf(n->bridge, sizeof(n->bridge), "%s", s);
	}
	if (protocol_param_string(params, "subnet", &s) >= 0 && ip_prefix_parse(s, &n->subnet) < 0)
		return call_errorf(c, -EINVAL, "invalid subnet '%s': expected CIDR notation like 10.0.0.0/24", s);
	if (protocol_param_string(params, "gateway", &s) >= 0) {
		if (ip_addr_parse(s, &family, &n->gateway) < 0 || family != AF_INET)
			return call_errorf(c, -EINVAL, "invalid gateway '%s': expected an IPv4 address", s);
		n->has_gateway = true;
	}
	r = protocol_param_uint(params, "mtu", 1u << 30, &mtu);
	if (r == -EINVAL || r == -ERANGE)
		return call_errorf(c, -EINVAL, "invalid MTU: expected a number");
	if (r >= 0)
		n->mtu = mtu ? mtu : 1; /* 0 is not "default" when typed: let validation refuse it */
	if (protocol_param_bool(params, "autostart", &b) >= 0)
		n->autostart = b;
	network_fill_defaults(n);
	return 0;
}

static int method_network_create(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_free_ struct network *n = malloc(sizeof(*n));
	char err[1024];
	int r;

	if (!n)
		return -ENOMEM;
	r = network_from_params(c, params, n);
	if (r < 0)
		return r;
	if (daemon_network_find(d, n->name))
		return call_errorf(c, -EEXIST, "network '%s' already exists", n->name);
	if (network_validate(n, c->err, sizeof(c->err)) < 0)
		return -EINVAL;
	r = daemon_check_conflicts(d, n, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	r = store_network_save(&d->paths, n);
	if (r < 0)
		return call_errorf(c, r, "cannot write %s/networks/%s.conf: %s", d->paths.config_dir, n->name,
				   strerror(-r));
	if (n->autostart) {
		r = daemon_network_reconcile(d, n, true, err, sizeof(err));
		if (r < 0) {
			store_network_remove(&d->paths, n->name);
			store_network_state_remove(&d->paths, n->name);
			return call_errorf(c, r, "cannot start network '%s': %s", n->name, err);
		}
		store_active_set(&d->paths, n->name, true);
	}
	r = daemon_network_add(d, n);
	if (r < 0)
		return r;
	log_info("network '%s' created (%s)", n->name, n->autostart ? "started" : "not started");
	return reply_network(d, c, TAKE_PTR(n));
}

static int method_network_start(struct daemon *d, struct call *c, json_object *params)
{
	struct network *n;
	char err[1024];
	int r = lookup(d, c, params, &n);

	if (r < 0)
		return r;
	r = daemon_check_conflicts(d, n, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	r = daemon_network_reconcile(d, n, true, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot start network '%s': %s", n->name, err);
	store_active_set(&d->paths, n->name, true);
	log_info("network '%s' started", n->name);
	return reply_network(d, c, n);
}

static int stop(struct daemon *d, struct call *c, struct network *n)
{
	char err[1024];
	int r = daemon_network_reconcile(d, n, false, err, sizeof(err));

	if (r < 0)
		return call_errorf(c, r, "cannot stop network '%s': %s", n->name, err);
	store_active_set(&d->paths, n->name, false);
	return 0;
}

static int method_network_stop(struct daemon *d, struct call *c, json_object *params)
{
	struct network *n;
	int r = lookup(d, c, params, &n);

	if (r < 0)
		return r;
	r = stop(d, c, n);
	if (r < 0)
		return r;
	log_info("network '%s' stopped", n->name);
	return reply_network(d, c, n);
}

static int method_network_delete(struct daemon *d, struct call *c, json_object *params)
{
	struct network *n;
	int r = lookup(d, c, params, &n);

	if (r < 0)
		return r;
	r = stop(d, c, n);
	if (r < 0)
		return r;
	r = store_network_remove(&d->paths, n->name);
	if (r < 0)
		return call_errorf(c, r, "network '%s' stopped, but its definition could not be removed: %s",
				   n->name, strerror(-r));
	store_network_state_remove(&d->paths, n->name);
	log_info("network '%s' deleted", n->name);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(n->name));
	daemon_network_remove(d, n);
	call_reply(c, o);
	return 0;
}

static int method_network_show(struct daemon *d, struct call *c, json_object *params)
{
	struct network *n;
	int r = lookup(d, c, params, &n);

	if (r < 0)
		return r;
	return reply_network(d, c, n);
}

static int method_network_list(struct daemon *d, struct call *c, json_object *params)
{
	struct link_dump dump = {};
	json_object *list;
	int r = dump_kernel(d, c, &dump);

	if (r < 0)
		return r;
	list = json_object_new_array();
	for (size_t i = 0; i < d->n_networks; i++)
		json_object_array_add(list, network_json(d, d->networks[i], &dump, false));
	link_dump_free(&dump);
	call_reply(c, list);
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

static int method_daemon_status(struct daemon *d, struct call *c, json_object *params)
{
	json_object *o = json_object_new_object(), *paths = json_object_new_object(), *counts;
	size_t active = 0;

	for (size_t i = 0; i < d->n_networks; i++)
		active += store_active_get(&d->paths, d->networks[i]->name);
	json_object_object_add(o, "version", json_object_new_string(NETD_VERSION));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "uptime_sec", json_object_new_int64((now_usec() - d->start_usec) / 1000000));
	json_object_object_add(paths, "config_dir", json_object_new_string(d->paths.config_dir));
	json_object_object_add(paths, "state_dir", json_object_new_string(d->paths.state_dir));
	json_object_object_add(paths, "run_dir", json_object_new_string(d->paths.run_dir));
	json_object_object_add(paths, "socket", json_object_new_string(d->paths.socket));
	json_object_object_add(o, "paths", paths);
	counts = json_object_new_object();
	json_object_object_add(counts, "networks", json_object_new_int64(d->n_networks));
	json_object_object_add(counts, "networks_active", json_object_new_int64(active));
	json_object_object_add(o, "counts", counts);
	json_object_object_add(o, "link_backend", json_object_new_string(d->link.ops->name));
	call_reply(c, o);
	return 0;
}

static int method_daemon_reload(struct daemon *d, struct call *c, json_object *params)
{
	json_object *report;
	int r = daemon_reload(d, &report);

	if (r < 0)
		return call_errorf(c, r, "cannot read %s/networks: %s", d->paths.config_dir, strerror(-r));
	call_reply(c, report);
	return 0;
}

static const struct method methods[] = {
	{ "network.create", method_network_create }, { "network.delete", method_network_delete },
	{ "network.list", method_network_list },     { "network.show", method_network_show },
	{ "network.start", method_network_start },   { "network.stop", method_network_stop },
	{ "daemon.status", method_daemon_status },   { "daemon.reload", method_daemon_reload },
	{ "uplink.convert", uplink_method_convert }, { "uplink.confirm", uplink_method_confirm },
	{ "uplink.revert", uplink_method_revert },   { "uplink.status", uplink_method_status },
};

const struct method *method_find(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(methods); i++)
		if (!strcmp(methods[i].name, name))
			return &methods[i];
	return NULL;
}

uint64_t daemon_now_usec(void)
{
	return now_usec();
}
