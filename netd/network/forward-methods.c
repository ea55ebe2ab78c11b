/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * network.forward.add|list|remove: a network's port forwards (the forward feature, forward.c).
 * A forward is kept in the definition ([forwards] forward = ..., nat/forward.h), so adding one is a
 * changed definition like a reservation: checked, written, then applied (the feature's up() adds its
 * map elements alone). A listen port that a local socket or another forward uses is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "fileio.h"
#include "forward.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "store.h"

static int fwd_lookup(struct daemon *d, struct call *c, json_object *params, struct net **ret)
{
	const char *name;
	int r = protocol_param_string(params, "name", &name);

	if (r == -ENOENT)
		return call_errorf(c, -EINVAL, "missing parameter 'name'");
	if (r < 0)
		return call_errorf(c, r, "parameter 'name' must be a string");
	*ret = daemon_net_find(d, name);
	if (!*ret)
		return call_errorf(c, -ENOENT, "no network named '%s' (see 'netdctl network list')", name);
	return 0;
}

/* A string parameter: 1 present, 0 absent (required: an error), or the error, reported. */
static int fwd_param(struct call *c, json_object *params, const char *key, bool required, const char **ret)
{
	int r = protocol_param_string(params, key, ret);

	if (r == -ENOENT && !required)
		return 0;
	if (r == -ENOENT)
		return call_errorf(c, -EINVAL, "missing parameter '%s'", key);
	if (r < 0)
		return call_errorf(c, r, "parameter '%s' must be a string without NUL characters", key);
	/* fields are separated by spaces in the definition */
	if (!**ret || strpbrk(*ret, " \t\n\r"))
		return call_errorf(c, -EINVAL, "invalid %s '%s': empty or with blanks", key, *ret);
	return 1;
}

static json_object *forward_json(struct daemon *d, const struct net *net, const struct nat_forward *f)
{
	json_object *o = json_object_new_object();
	char a[INET6_ADDRSTRLEN], ports[16], text[NAT_FWD_STRLEN];
	union in_addr_union to;

	json_object_object_add(o, "id", json_object_new_int(f->id));
	json_object_object_add(o, "proto", json_object_new_string(nat_fwd_protos_to_string(f->protos)));
	json_object_object_add(
		o, "listen",
		json_object_new_string(f->listen == NAT_FWD_LISTEN_ANY ?
					       "any" :
				       f->listen == NAT_FWD_LISTEN_UPLINK ?
					       "uplink" :
					       ip_addr_format(f->family, &f->listen_addr, a, sizeof(a))));
	json_object_object_add(
		o, "port",
		json_object_new_string(nat_fwd_ports_format(f->port, f->port_end, ports, sizeof(ports))));
	json_object_object_add(
		o, "to",
		json_object_new_string(f->to_name[0] ? f->to_name :
						       ip_addr_format(f->family, &f->to_addr, a, sizeof(a))));
	if (f->to_port)
		nat_fwd_ports_format(f->to_port, f->to_port + (f->port_end - f->port), ports, sizeof(ports));
	json_object_object_add(o, "to_port", json_object_new_string(ports));
	json_object_object_add(o, "to_address",
			       net->active && daemon_forward_resolve(d, net, f, &to) > 0 ?
				       json_object_new_string(ip_addr_format(f->family, &to, a, sizeof(a))) :
				       NULL);
	json_object_object_add(o, "text", json_object_new_string(nat_forward_format(f, text, sizeof(text))));
	return o;
}

/* Another program's socket on the forward's listen ports, from /proc/net: the first such port. */
static unsigned socket_conflict(const struct nat_forward *f, const char **ret_proto)
{
	static const union in_addr_union any6;
	static const char *const files[2][2] = { { "/proc/net/tcp", "/proc/net/tcp6" },
						 { "/proc/net/udp", "/proc/net/udp6" } };

	for (int p = 0; p < 2; p++) {
		if (!(f->protos & (p ? NAT_FWD_UDP : NAT_FWD_TCP)))
			continue;
		for (int v6 = 0; v6 < 2; v6++) {
			_cleanup_free_ char *text = NULL;
			const union in_addr_union *a = NULL;
			unsigned port;

			if (f->family == AF_INET6 && !v6)
				continue;
			if (read_file(files[p][v6], &text, NULL) < 0)
				continue;
			if (f->listen == NAT_FWD_LISTEN_ADDR)
				a = (f->family == AF_INET6) == v6 ? &f->listen_addr : &any6;
			else if (f->family == AF_INET && v6)
				a = &any6; /* only a dual-stack wildcard socket takes IPv4 */
			port = nat_fwd_socket_port(text, !p, v6, a, f->port, f->port_end);
			if (port) {
				*ret_proto = p ? "udp" : "tcp";
				return port;
			}
		}
	}
	return 0;
}

static int method_forward_add(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_network_ struct network *copy = NULL;
	const char *proto = NULL, *port = NULL, *to = NULL, *listen = NULL, *sproto;
	char spec[NAT_FWD_STRLEN * 2], text[NAT_FWD_STRLEN], e[512];
	struct nat_forward f;
	struct net *net;
	unsigned used;
	int r = fwd_lookup(d, c, params, &net);

	if (r < 0 || (r = fwd_param(c, params, "proto", true, &proto)) < 0 ||
	    (r = fwd_param(c, params, "port", true, &port)) < 0 ||
	    (r = fwd_param(c, params, "to", true, &to)) < 0 ||
	    (r = fwd_param(c, params, "listen", false, &listen)) < 0)
		return r;
	snprintf(spec, sizeof(spec), "%u %s %s %s %s",
		 nat_forwards_next_id(net->def->forwards, net->def->n_forwards), proto, listen ?: "any", port,
		 to);
	if (nat_forward_parse(spec, &f, c->err, sizeof(c->err)) < 0)
		return -EINVAL;
	copy = network_dup(net->def);
	if (!copy)
		return -ENOMEM;
	r = nat_forwards_add(&copy->forwards, &copy->n_forwards, &f, e, sizeof(e));
	if (r < 0)
		return call_errorf(c, r, "network '%s': %s", net->def->name, e);
	/* the same map key from two networks: the table would refuse the second */
	for (size_t i = 0; i < d->n_nets; i++) {
		const struct network *o = d->nets[i]->def;

		for (size_t j = 0; o != net->def && j < o->n_forwards; j++)
			if (nat_forward_overlaps(&o->forwards[j], &f))
				return call_errorf(
					c, -EEXIST,
					"network '%s': the ports overlap those of forward %s of network '%s'",
					net->def->name,
					nat_forward_format(&o->forwards[j], text, sizeof(text)), o->name);
	}
	/* the new forward's listen address alone (one the host lost since does not block an add) */
	struct network one = { .forwards = &f, .n_forwards = 1 };

	snprintf(one.name, sizeof(one.name), "%s", net->def->name);
	r = daemon_check_forward_listen(d, &one, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	used = socket_conflict(&f, &sproto);
	if (used)
		return call_errorf(c, -EADDRINUSE,
				   "network '%s': %s port %u is already used by a local socket on the host "
				   "(see 'ss -lntup')",
				   net->def->name, sproto, used);
	r = daemon_network_replace(d, c, net, TAKE_PTR(copy));
	if (r < 0)
		return r;
	log_net(LOG_INFO, net->def->name, "network '%s': port forward %s added", net->def->name,
		nat_forward_format(&f, text, sizeof(text)));
	call_reply(c, forward_json(d, net, &f));
	return 0;
}

static int method_forward_remove(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_network_ struct network *copy = NULL;
	struct net *net;
	unsigned id;
	int r = fwd_lookup(d, c, params, &net);

	if (r < 0)
		return r;
	r = protocol_param_uint(params, "id", 65535, &id);
	if (r < 0)
		return call_errorf(c, -EINVAL,
				   "missing or invalid parameter 'id' (a forward's ID, see 'netdctl "
				   "network forward list')");
	copy = network_dup(net->def);
	if (!copy)
		return -ENOMEM;
	if (nat_forwards_remove(copy->forwards, &copy->n_forwards, id) < 0)
		return call_errorf(c, -ENOENT,
				   "network '%s' has no forward %u (see 'netdctl network forward list %s')",
				   net->def->name, id, net->def->name);
	r = daemon_network_replace(d, c, net, TAKE_PTR(copy));
	if (r < 0)
		return r;
	log_net(LOG_INFO, net->def->name, "network '%s': port forward %u removed", net->def->name, id);
	call_reply(c, NULL);
	return 0;
}

static int method_forward_list(struct daemon *d, struct call *c, json_object *params)
{
	struct net *net;
	json_object *a;
	int r = fwd_lookup(d, c, params, &net);

	if (r < 0)
		return r;
	a = json_object_new_array();
	for (size_t i = 0; i < net->def->n_forwards; i++)
		json_object_array_add(a, forward_json(d, net, &net->def->forwards[i]));
	call_reply(c, a);
	return 0;
}

static const struct method forward_table[] = {
	{ "network.forward.add", method_forward_add, METHOD_CHANGE },
	{ "network.forward.remove", method_forward_remove, METHOD_CHANGE },
	{ "network.forward.list", method_forward_list, METHOD_READ },
};

const struct method_area forward_methods = METHOD_AREA(forward_table);
