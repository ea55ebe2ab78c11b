/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network.* methods of the control socket (and lease.event), one function each, and their table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "lease.h"
#include "log.h"
#include "macro.h"
#include "network-schema.h"
#include "protocol.h"
#include "vm.h"
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

static int lookup(struct daemon *d, struct call *c, json_object *params, struct net **ret)
{
	const char *name;
	int r = param_name(c, params, &name);

	if (r < 0)
		return r;
	*ret = daemon_net_find(d, name);
	if (!*ret)
		return call_errorf(c, -ENOENT, "no network named '%s' (see 'netdctl network list')", name);
	return 0;
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

/* The definition, then what each feature says of the network now. */
static json_object *network_json(struct daemon *d, const struct net *net, const struct link_dump *dump,
				 bool full)
{
	const struct network *n = net->def;
	json_object *o = json_object_new_object();
	struct net_view v = { .dump = dump, .full = full };

	json_object_object_add(o, "name", json_object_new_string(n->name));
	schema_json_show(&network_schema, n, o);
	daemon_net_show(d, net, &v, o);
	return o;
}

/* A network's entry in 'network list' up to its state, as text: network_json()'s without "state",
 * "problem" and the closing brace. Serialised as control.c serialises replies. */
static int list_text_make(struct daemon *d, const struct net *net, const struct net_view *v, char **ret)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	const char *s;
	char *text;

	json_object_object_add(o, "name", json_object_new_string(net->def->name));
	schema_json_show(&network_schema, net->def, o);
	daemon_net_show_features(d, net, v, o);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (!s || strlen(s) < 2)
		return -ENOMEM;
	text = strndup(s, strlen(s) - 1); /* "name" comes first: it ends in a value */
	if (!text)
		return -ENOMEM;
	*ret = text;
	return 0;
}

/* Into f, one network's entry. Made anew every time, ~30 json-c objects a network cost ~20 ms a
 * request at 1000 networks; so the part before the state is kept (net->list_text) with the key it
 * was made for (daemon_net_show_key: the definition's generation, the MAC shown, the dnsmasq's
 * state, pid, restarts and lease count), and made again when the key differs. The state and its
 * problem (the kernel's bridge, the firewall, conflicts, dnsmasq) are worked out every time. */
static int list_entry_write(struct daemon *d, struct net *net, const struct net_view *v, FILE *f)
{
	struct net_show_key key;
	const char *state, *problem;
	char buf[640];

	daemon_net_show_key(d, net, &key);
	if (!net->list_text || !net_show_key_equal(&key, &net->list_key)) {
		char *text;
		int r = list_text_make(d, net, v, &text);

		if (r < 0)
			return r;
		free(net->list_text);
		net->list_text = text;
		net->list_key = key;
	}
	state = daemon_net_state(d, net, v, buf, sizeof(buf), &problem);
	fprintf(f, "%s,\"state\":\"%s\"", net->list_text, state);
	if (problem) {
		_cleanup_json_ json_object *p = json_object_new_string(problem);

		fprintf(f, ",\"problem\":%s", json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
	}
	fputc('}', f);
	return 0;
}

/* index: for many networks' lookups, each in O(log n) then; one network's are cheaper linear
 * than the sort (1000 links, 3000 addresses). */
static int dump_kernel(struct daemon *d, struct call *c, bool index, struct link_dump *ret)
{
	int r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS, ret);

	if (r < 0)
		return call_errorf(c, r, "cannot read links from the kernel: %s", strerror(-r));
	if (index)
		(void)link_dump_index(ret);
	return 0;
}

/* The view of one network looks at its bridge's addresses alone (links.c, kernel_state). */
static int reply_network(struct daemon *d, struct call *c, const struct net *n)
{
	struct link_dump dump = {};
	int r = link_dump_of(&d->link, LINK_DUMP_LINKS | LINK_DUMP_ADDRS, n->def->bridge, &dump);

	if (r < 0)
		return call_errorf(c, r, "cannot read links from the kernel: %s", strerror(-r));
	call_reply(c, network_json(d, n, &dump, true));
	link_dump_free(&dump);
	return 0;
}

/* An optional string parameter: 1 when present, 0 when absent, or the error, reported. */
static int opt_string(struct call *c, json_object *params, const char *key, const char **ret)
{
	int r = protocol_param_string(params, key, ret);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return call_errorf(c, r, "parameter '%s' must be a string without NUL characters", key);
	return 1;
}

/* Fill a definition from request parameters; messages name the flag the user typed. */
static int network_from_params(struct call *c, json_object *params, struct network *n)
{
	const char *name;
	int r;

	r = param_name(c, params, &name);
	if (r < 0)
		return r;
	network_init(n, "");
	if (strlen(name) >= sizeof(n->name))
		return call_errorf(c, -EINVAL, "invalid network name '%s': is longer than %d characters", name,
				   NAME_MAX_LEN);
	snprintf(n->name, sizeof(n->name), "%s", name);
	/* network.create's own: the name, and dry_run (a netd that ignored it would create) */
	r = schema_json_parse_strict(&network_schema, n, params,
				     (const char *const[]){ "name", "dry_run", NULL }, c->err,
				     sizeof(c->err));
	if (r < 0)
		return r;
	network_fill_defaults(n);
	return 0;
}

static void network_event(struct daemon *d, const char *name, const char *what)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "network", json_object_new_string(name));
	json_object_object_add(e, "action", json_object_new_string(what));
	daemon_event(d, "network", e);
}

/* A network whose stop is not finished (its dnsmasq still exiting) starts only after it is. */
static int refuse_pending(struct daemon *d, struct call *c, const char *name)
{
	if (!daemon_net_pending(d, name))
		return 0;
	return call_errorf(
		c, -EBUSY,
		"network '%s' is still being stopped (its dnsmasq is exiting); try again in a moment", name);
}

/* dry_run: the checks a create runs before it touches the kernel (request, validation, conflicts
 * with other networks and the host), then the definition text it would have written; nothing is
 * written, not even the host's ULA prefix file for --subnet6 auto (a missing one is made up in
 * memory, so a later create may pick another /64). netdctl network import --dry-run. */
static int reply_dry_run(struct call *c, const struct network *n)
{
	_cleanup_free_ char *text = config_network_render(n);
	json_object *o;

	if (!text)
		return -ENOMEM;
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(n->name));
	json_object_object_add(o, "dry_run", json_object_new_boolean(true));
	json_object_object_add(o, "definition", json_object_new_string(text));
	call_reply(c, o);
	return 0;
}

static int method_network_create(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_network_ struct network *n = calloc(1, sizeof(*n)); /* calloc: no hosts to free */
	struct net *net;
	bool dry_run = false;
	char err[1024];
	int r;

	if (!n)
		return -ENOMEM;
	if (protocol_param_bool(params, "dry_run", &dry_run) == -EINVAL)
		return call_errorf(c, -EINVAL, "parameter 'dry_run' must be a boolean");
	r = network_from_params(c, params, n);
	if (r < 0)
		return r;
	/* resolved would send the host's own lookups of the domain to this network's dnsmasq: root's
	 * decision, not an operator's (dhcp/DESIGN.md, "Registering with systemd-resolved"). */
	if (n->dhcp.dnscfg.register_dns && c->uid != 0)
		return call_errorf(c, -EPERM,
				   "--register-dns: only root may have the host resolve a network's domain "
				   "through it (uid %u is not root)",
				   (unsigned)c->uid);
	if (daemon_network_find(d, n->name))
		return call_errorf(c, -EEXIST, "network '%s' already exists", n->name);
	r = refuse_pending(d, c, n->name);
	if (r < 0)
		return r;
	if (n->mode->has_subnet && !n->subnet.family && !n->subnet_none) {
		/* --subnet auto, or no --subnet: a free /24 of the pool, written into the definition. */
		r = daemon_choose_subnet(d, n, c->err, sizeof(c->err));
		if (r < 0)
			return r;
		call_progress(c, "picked subnet %s", ip_prefix_format(&n->subnet, err, sizeof(err)));
	}
	if (n->mode->has_subnet && n->subnet6_auto) {
		/* --subnet6 auto: a free /64 of the host's ULA /48, written into the definition. */
		r = daemon_choose_subnet6(d, n, dry_run, c->err, sizeof(c->err));
		if (r < 0)
			return r;
		call_progress(c, "picked IPv6 prefix %s", ip_prefix_format(&n->subnet6, err, sizeof(err)));
	}
	if (network_validate(n, c->err, sizeof(c->err)) < 0)
		return -EINVAL;
	r = daemon_check_conflicts(d, n, c->err, sizeof(c->err));
	if (r >= 0)
		r = daemon_check_forward_listen(d, n, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	r = dhcp_tftp_check_request(d, n, &c->peer, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	if (dry_run)
		return reply_dry_run(c, n);
	r = store_network_save(&d->paths, n);
	if (r < 0)
		return call_errorf(c, r, "cannot write %s/networks/%s.conf: %s", d->paths.config_dir, n->name,
				   strerror(-r));
	r = daemon_net_add(d, n, &net);
	if (r < 0) {
		store_network_remove(&d->paths, n->name);
		return r;
	}
	TAKE_PTR(n); /* the list owns it */
	if (net->def->autostart) {
		r = daemon_net_up(d, net, err, sizeof(err));
		if (r < 0) {
			char name[NAME_MAX_LEN + 1];

			/* Undone by daemon_net_up: the definition goes too, as if never asked. */
			snprintf(name, sizeof(name), "%s", net->def->name);
			store_network_remove(&d->paths, name);
			store_network_state_remove(&d->paths, name);
			daemon_net_remove(d, net);
			return call_errorf(c, r, "cannot start network '%s': %s", name, err);
		}
	}
	log_net(LOG_INFO, net->def->name, "network '%s' created (%s)", net->def->name,
		net->active ? "started" : "not started");
	network_event(d, net->def->name, net->active ? "created, started" : "created");
	return reply_network(d, c, net);
}

static int method_network_start(struct daemon *d, struct call *c, json_object *params)
{
	struct net *n;
	char err[1024];
	int r = lookup(d, c, params, &n);

	if (r < 0)
		return r;
	r = refuse_pending(d, c, n->def->name);
	if (r < 0)
		return r;
	r = daemon_check_conflicts(d, n->def, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	if (!n->active) {
		r = dhcp_tftp_port_check(n->def, c->err, sizeof(c->err));
		if (r < 0)
			return r;
	}
	r = daemon_net_up(d, n, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot start network '%s': %s", n->def->name, err);
	log_net(LOG_INFO, n->def->name, "network '%s' started", n->def->name);
	network_event(d, n->def->name, "started");
	return reply_network(d, c, n);
}

/* The network the request names, stopped (stop and delete). A network with running guests stops
 * only when forced: their TAPs stay (without a bridge: the host takes nothing on them,
 * netd_ports) and are plugged into the bridge again at its next start. */
static int stop(struct daemon *d, struct call *c, json_object *params, struct net **ret)
{
	char err[1024], names[256];
	bool force = false;
	size_t users;
	struct net *n;
	int r = lookup(d, c, params, ret);

	if (r < 0)
		return r;
	n = *ret;
	users = net_user_names(n, names, sizeof(names));
	protocol_param_bool(params, "force", &force);
	if (users && !force)
		return call_errorf(c, -EBUSY,
				   "network '%s' has %zu running guest(s): %s; shut them down or move them "
				   "(netdctl vm set-network) first, or --force",
				   n->def->name, users, names);
	r = daemon_net_down(d, n, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot stop network '%s': %s", n->def->name, err);
	if (users)
		log_net(LOG_WARNING, n->def->name,
			"network '%s' stopped under its running guests %s (--force)", n->def->name, names);
	return 0;
}

/* The reply to stop and delete, once the network's dnsmasq is gone: the event loop serves other
 * clients meanwhile. */
struct stopped_call {
	struct call *call;
	char name[NAME_MAX_LEN + 1];
	bool deleted;
};

static void reply_stopped(struct daemon *d, void *userdata)
{
	struct stopped_call *s = userdata;
	struct net *n = s->deleted ? NULL : daemon_net_find(d, s->name);
	json_object *o;

	if (n && reply_network(d, s->call, n) < 0)
		call_reply_error(s->call, -EIO, "network '%s' stopped; %s", s->name, s->call->err);
	else if (!n) {
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(s->name));
		call_reply(s->call, o);
	}
	free(s);
}

/* Reply now, or keep the call until what the network's down() started has ended. */
static int reply_when_settled(struct daemon *d, struct call *c, const char *name, bool deleted)
{
	struct stopped_call *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	*s = (struct stopped_call){ .call = c, .deleted = deleted };
	snprintf(s->name, sizeof(s->name), "%s", name);
	r = daemon_net_when_settled(d, name, reply_stopped, s);
	if (r < 0) {
		free(s);
		return r;
	}
	if (r == 0)
		reply_stopped(d, s);
	return 0;
}

static int method_network_stop(struct daemon *d, struct call *c, json_object *params)
{
	struct net *n;
	int r = stop(d, c, params, &n);

	if (r < 0)
		return r;
	log_net(LOG_INFO, n->def->name, "network '%s' stopped", n->def->name);
	network_event(d, n->def->name, "stopped");
	return reply_when_settled(d, c, n->def->name, false);
}

static int method_network_delete(struct daemon *d, struct call *c, json_object *params)
{
	char name[NAME_MAX_LEN + 1];
	struct net *n;
	int r = stop(d, c, params, &n);

	if (r < 0)
		return r;
	r = store_network_remove(&d->paths, n->def->name);
	if (r < 0)
		return call_errorf(c, r, "network '%s' stopped, but its definition could not be removed: %s",
				   n->def->name, strerror(-r));
	store_network_state_remove(&d->paths, n->def->name);
	log_net(LOG_INFO, n->def->name, "network '%s' deleted", n->def->name);
	network_event(d, n->def->name, "deleted");
	snprintf(name, sizeof(name), "%s", n->def->name);
	daemon_net_remove(d, n);
	return reply_when_settled(d, c, name, true);
}

static int method_network_show(struct daemon *d, struct call *c, json_object *params)
{
	struct net *n;
	int r = lookup(d, c, params, &n);

	if (r < 0)
		return r;
	return reply_network(d, c, n);
}

static int method_network_list(struct daemon *d, struct call *c, json_object *params)
{
	struct link_dump dump = {};
	struct net_view v = { .dump = &dump };
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	json_object *list;
	FILE *f;
	int r = dump_kernel(d, c, true, &dump);

	if (r < 0)
		return r;
	f = open_memstream(&text, &len);
	if (!f) {
		link_dump_free(&dump);
		return -ENOMEM;
	}
	fputc('[', f);
	for (size_t i = 0; r >= 0 && i < d->n_nets; i++) {
		if (i > 0)
			fputc(',', f);
		r = list_entry_write(d, d->nets[i], &v, f);
	}
	fputc(']', f);
	link_dump_free(&dump);
	if (fclose(f) < 0 && r >= 0)
		r = -errno;
	if (r < 0)
		return r;
	/* The array is its text: the reply carries it as is (an in-process caller sees an empty
	 * array, and gets the entries by serialising it). */
	list = json_object_new_array();
	json_object_set_serializer(list, json_object_userdata_to_json_string, TAKE_PTR(text),
				   json_object_free_userdata);
	call_reply(c, list);
	return 0;
}

/* The definition with one change applied: validated, saved, and made live (on failure the
 * previous one is saved and runs again). Takes changed. */
int daemon_network_replace(struct daemon *d, struct call *c, struct net *n, struct network *changed)
{
	char err[1024];
	int r;

	if (network_validate(changed, c->err, sizeof(c->err)) < 0) {
		network_free(changed);
		return -EINVAL;
	}
	r = store_network_save(&d->paths, changed);
	if (r < 0) {
		network_free(changed);
		return call_errorf(c, r, "cannot write %s/networks/%s.conf: %s", d->paths.config_dir,
				   n->def->name, strerror(-r));
	}
	r = daemon_net_redefine(d, n, changed, err, sizeof(err));
	if (r < 0) {
		if (store_network_save(&d->paths, n->def) < 0)
			log_net(LOG_ERR, n->def->name,
				"network '%s': cannot write its previous definition back", n->def->name);
		return call_errorf(c, r, "network '%s': not changed: %s", n->def->name, err);
	}
	return 0;
}

/* The client a reservation is for: 'mac', or 'duid' (hex pairs with colons, as after "id:"). */
static int param_client(struct call *c, json_object *params, struct dhcp_host *ret)
{
	const char *mac = NULL, *duid = NULL;
	char e[64];
	int r = opt_string(c, params, "mac", &mac);

	if (r < 0 || (r = opt_string(c, params, "duid", &duid)) < 0)
		return r;
	*ret = (struct dhcp_host){};
	if (!mac == !duid)
		return call_errorf(c, -EINVAL, "expected one of the parameters 'mac' and 'duid'");
	if (mac && mac_parse(mac, &ret->mac) < 0)
		return call_errorf(c, -EINVAL,
				   "invalid MAC '%s': expected six hex pairs like 52:54:00:12:34:56",
				   text_escape(mac, e, sizeof(e)));
	if (duid && dhcp_duid_parse(duid, &ret->duid) < 0)
		return call_errorf(c, -EINVAL,
				   "invalid DUID '%s': expected 2 to 130 hex pairs separated by colons, like "
				   "00:01:00:01:2b:3c:4d:5e:52:54:00:12:34:56",
				   text_escape(duid, e, sizeof(e)));
	return 0;
}

/* "MAC" or "id:DUID", as a reservation's text starts. */
static const char *client_format(const struct dhcp_host *h, char *buf, size_t size)
{
	if (h->duid.len) {
		snprintf(buf, size, "id:");
		dhcp_duid_format(&h->duid, buf + 3, size - 3);
	} else {
		mac_format(&h->mac, buf, size);
	}
	return buf;
}

/* An optional address or name of a reservation: one field, no comma of its own. */
static int host_field(struct call *c, json_object *params, const char *key, const char **ret)
{
	char e[64];
	int r = opt_string(c, params, key, ret);

	if (r >= 0 && *ret && (!**ret || strchr(*ret, ',')))
		return call_errorf(c, -EINVAL, "invalid %s '%s': one value, without commas", key,
				   text_escape(*ret, e, sizeof(e)));
	return r;
}

static int method_host_add(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_network_ struct network *copy = NULL;
	const char *ip = NULL, *ip6 = NULL, *hostname = NULL, *lease = NULL;
	struct net *net;
	const struct network *n;
	struct dhcp_host h;
	char spec[DHCP_HOST_STRLEN + 64], who[DHCP_DUID_STRLEN + 4], t[16], e[128];
	const char *why;
	uint32_t secs;
	int r = lookup(d, c, params, &net);

	if (r < 0 || (r = param_client(c, params, &h)) < 0)
		return r;
	if ((r = host_field(c, params, "ip", &ip)) < 0 || (r = host_field(c, params, "ip6", &ip6)) < 0 ||
	    (r = host_field(c, params, "hostname", &hostname)) < 0 ||
	    (r = host_field(c, params, "lease_time", &lease)) < 0)
		return r;
	if (!ip && !ip6)
		return call_errorf(c, -EINVAL, "missing parameter 'ip' (an IPv4 or IPv6 address) or 'ip6'");
	/* Each checked on its own first: in the reservation's text a bad lease time would read as a
	 * name, and a name that looks like a lease time ("120", "infinite") as a lease time. */
	if (lease && dhcp_lease_time_parse(lease, &secs, c->err, sizeof(c->err)) < 0)
		return -EINVAL;
	if (hostname && (why = dhcp_hostname_invalid_reason(hostname)))
		return call_errorf(c, -EINVAL, "invalid hostname '%s' in a host reservation: %s",
				   text_escape(hostname, e, sizeof(e)), why);
	snprintf(spec, sizeof(spec), "%s%s%s%s%s%s%s%s%s", client_format(&h, who, sizeof(who)), ip ? "," : "",
		 ip ?: "", ip6 ? "," : "", ip6 ?: "", hostname ? "," : "", hostname ?: "", lease ? "," : "",
		 lease ? dhcp_lease_time_format(secs, t, sizeof(t)) : "");
	if (dhcp_host_parse(spec, &h, c->err, sizeof(c->err)) < 0)
		return -EINVAL;
	n = net->def;
	copy = network_dup(n);
	if (!copy)
		return -ENOMEM;
	r = dhcp_host_add(&copy->dhcp, &h);
	if (r == -EEXIST)
		return call_errorf(c, r, "network '%s': host %s is already reserved (remove it first)",
				   n->name, who);
	if (r == -E2BIG)
		return call_errorf(c, r, "network '%s': too many reservations (at most %d)", n->name, DHCP_HOSTS_MAX);
	if (r < 0)
		return r;
	r = daemon_network_replace(d, c, net, TAKE_PTR(copy));
	if (r < 0)
		return r;
	log_net(LOG_INFO, net->def->name, "network '%s': host %s reserved %s%s%s", net->def->name, who,
		ip ?: "", ip && ip6 ? " " : "", ip6 ?: "");
	return reply_network(d, c, net);
}

static int method_host_remove(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_network_ struct network *copy = NULL;
	struct net *net;
	struct dhcp_host h;
	char who[DHCP_DUID_STRLEN + 4];
	int r = lookup(d, c, params, &net);

	if (r < 0 || (r = param_client(c, params, &h)) < 0)
		return r;
	copy = network_dup(net->def);
	if (!copy)
		return -ENOMEM;
	client_format(&h, who, sizeof(who));
	if ((h.duid.len ? dhcp_host_remove_duid(&copy->dhcp, &h.duid) :
			  dhcp_host_remove(&copy->dhcp, &h.mac)) < 0)
		return call_errorf(c, -ENOENT, "network '%s' has no reservation for %s", net->def->name, who);
	r = daemon_network_replace(d, c, net, TAKE_PTR(copy));
	if (r < 0)
		return r;
	log_net(LOG_INFO, net->def->name, "network '%s': reservation of %s removed", net->def->name, who);
	return reply_network(d, c, net);
}

/* The reservation a lease was served from, when it is the reserved address. */
static bool lease_is_static(const struct network *n, const struct dhcp_lease *l)
{
	const struct dhcp_host *h;

	if (l->family == AF_INET) {
		h = dhcp_host_find(&n->dhcp, &l->mac);
		return h && h->has_ip && ip_addr_equal(AF_INET, &h->ip, &l->ip);
	}
	for (size_t i = 0; i < n->dhcp.n_hosts; i++) {
		h = &n->dhcp.hosts[i];
		if (h->has_ip6 && ip_addr_equal(AF_INET6, &h->ip6, &l->ip))
			return true;
	}
	return false;
}

static json_object *lease_json(const struct network *n, const struct dhcp_lease *l, time_t now)
{
	json_object *o = json_object_new_object();
	char duid[DHCP_DUID_STRLEN];

	json_object_object_add(o, "mac", mac_is_zero(&l->mac) ? NULL : json_mac(&l->mac));
	json_object_object_add(o, "ip", json_addr(l->family, &l->ip));
	json_object_object_add(o, "hostname", l->hostname[0] ? json_object_new_string(l->hostname) : NULL);
	json_object_object_add(o, "expires", json_object_new_int64(l->expiry));
	json_object_object_add(o, "expires_in", l->expiry ? json_object_new_int64((int64_t)l->expiry - now) : NULL);
	json_object_object_add(o, "type",
			       json_object_new_string(lease_is_static(n, l) ? "static" : "dynamic"));
	if (l->family == AF_INET) {
		json_object_object_add(o, "client_id",
				       l->client_id[0] ? json_object_new_string(l->client_id) : NULL);
		return o;
	}
	json_object_object_add(
		o, "duid",
		l->duid.len ? json_object_new_string(dhcp_duid_format(&l->duid, duid, sizeof(duid))) : NULL);
	json_object_object_add(o, "iaid", json_object_new_int64(l->iaid));
	/* dnsmasq ended it early: kept for its MAC's port until "expires" */
	if (l->ended)
		json_object_object_add(o, "ended", json_object_new_boolean(true));
	return o;
}

static int method_network_leases(struct daemon *d, struct call *c, json_object *params)
{
	struct net *n;
	struct dhcp_server *srv;
	json_object *list;
	time_t now = time(NULL);
	int r = lookup(d, c, params, &n);

	if (r < 0)
		return r;
	srv = daemon_dhcp_find(d, n->def->name);
	list = json_object_new_array();
	for (size_t i = 0; srv && i < srv->leases.n; i++)
		json_object_array_add(list, lease_json(n->def, &srv->leases.leases[i], now));
	/* a network across hosts: the guests on other hosts this host's dnsmasq keeps reserved */
	daemon_evpn_dhcp_leases(d, n, list);
	call_reply(c, list);
	return 0;
}

static const struct {
	const char *action;
	bool remove;
} lease_actions[] = { { "add", false }, { "old", false }, { "del", true } };

/* The fields are what netd-lease-event passes on from dnsmasq: the hostname, client id and DUID are
 * the guest's choice. dhcp_lease_from_fields applies the lease file's rules to them. An "iaid"
 * makes it a DHCPv6 lease: dnsmasq passes the DUID where the MAC goes, the MAC when it knows it. */
static int lease_from_params(struct call *c, json_object *params, struct dhcp_lease *ret)
{
	static const char *const keys[] = { "expires", "mac", "ip", "hostname", "client_id", "iaid", "duid" };
	const char *v[ELEMENTSOF(keys)] = {};

	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		(void)protocol_param_string(params, keys[i], &v[i]);
	if (v[5]) {
		if (!v[2] || dhcp_lease6_from_fields(v[0], v[5], v[2], v[3], v[6], v[1], ret) < 0)
			return call_errorf(c, -EINVAL,
					   "lease event: missing or invalid 'ip', 'iaid' or 'expires'");
		return 0;
	}
	if (!v[1] || !v[2] || dhcp_lease_from_fields(v[0], v[1], v[2], v[3], v[4], ret) < 0)
		return call_errorf(c, -EINVAL, "lease event: missing or invalid 'mac', 'ip' or 'expires'");
	return 0;
}

/* What a lease event did, for the log and 'monitor': dnsmasq's action, except that an "old" that
 * gives the same client's lease another expiry is a "renew" (dnsmasq says "old" for a new name or
 * MAC too, and for each lease a restarted dnsmasq reads back). */
static const char *lease_event_action(const char *action, bool had, const struct dhcp_lease *before,
				      const struct dhcp_lease *after)
{
	return !strcmp(action, "old") && had && after && dhcp_lease_renewed(before, after) ? "renew" : action;
}

/* From netd-lease-event, run by dnsmasq (as root) for every lease change. */
static int method_lease_event(struct daemon *d, struct call *c, json_object *params)
{
	const char *network, *action;
	struct dhcp_server *srv;
	const struct network *n;
	const struct dhcp_lease *now;
	struct dhcp_lease l, before = {};
	bool had, moved = false;
	char m[DHCP_DUID_STRLEN + 5], ip[INET6_ADDRSTRLEN];
	size_t i;
	int r;

	if (protocol_param_string(params, "network", &network) < 0 || protocol_param_string(params, "action", &action) < 0)
		return call_errorf(c, -EINVAL, "lease event: missing 'network' or 'action'");
	for (i = 0; i < ELEMENTSOF(lease_actions) && strcmp(action, lease_actions[i].action); i++)
		;
	if (i == ELEMENTSOF(lease_actions))
		return call_errorf(c, -EINVAL, "lease event: unknown action");
	srv = daemon_dhcp_find(d, network);
	if (!srv)
		return call_errorf(c, -ENOENT, "lease event: network has no dnsmasq");
	r = lease_from_params(c, params, &l);
	if (r < 0)
		return r;
	/* leases dnsmasq ended early, kept for their owner until their expiry: now theirs to give */
	dhcp_lease_table_purge(&srv->leases, time(NULL));
	now = dhcp_lease_table_get(&srv->leases, l.family, &l.ip);
	had = now;
	if (had)
		before = *now;
	if (lease_actions[i].remove) {
		if (dhcp_lease_table_remove(&srv->leases, l.family, &l.ip, time(NULL)) > 0)
			log_net(LOG_NOTICE, srv->network,
				"network '%s': dnsmasq ended DHCPv6 lease %s before the expiry its owner "
				"was given; its port may send from it until then (a Release, or another "
				"guest's renewal with the owner's DUID and a short lifetime)",
				srv->network, ip_addr_format(l.family, &l.ip, ip, sizeof(ip)));
	} else if ((r = dhcp_lease_table_put(&srv->leases, &l)) < 0) {
		return -ENOMEM;
	} else if (r > 0) {
		moved = true;
		log_net(LOG_WARNING, srv->network,
			"network '%s': DHCPv6 lease %s stays with the MAC it had, its expiry and "
			"client too; dnsmasq reports %s for it now (another guest renewing it with "
			"its DUID, or leasing it before the expiry its owner was given?)",
			srv->network, ip_addr_format(l.family, &l.ip, ip, sizeof(ip)),
			mac_format(&l.mac, m, sizeof(m)));
	}
	if (l.family == AF_INET6 && (r = dhcp_server_lease_macs_save(srv)) < 0)
		log_net(LOG_WARNING, srv->network,
			"network '%s': cannot record the MAC of DHCPv6 lease %s in %s: %s; after a "
			"restart netd may not know it",
			srv->network, ip_addr_format(l.family, &l.ip, ip, sizeof(ip)), srv->lease_macs_path,
			strerror(-r));
	if (l.family == AF_INET6) {
		memcpy(m, "duid ", 5);
		dhcp_duid_format(&l.duid, m + 5, sizeof(m) - 5);
	} else {
		mac_format(&l.mac, m, sizeof(m));
	}
	/* What monitor shows: the table's lease after the event (a renewal's new expiry), a copy (the
	 * table may change before the event goes out); a "del" or a "moved" event's own fields. */
	now = lease_actions[i].remove || moved ? NULL : dhcp_lease_table_get(&srv->leases, l.family, &l.ip);
	action = lease_event_action(action, had, &before, now);
	if (now)
		l = *now;
	log_net(LOG_INFO, srv->network, "network '%s': lease %s %s %s%s%s", srv->network, action, m,
		ip_addr_format(l.family, &l.ip, ip, sizeof(ip)), l.hostname[0] ? " " : "", l.hostname);
	daemon_portsec_network_changed(d, network);
	daemon_forward_network_changed(d, network);
	call_reply(c, NULL);
	n = daemon_network_find(d, network);
	if (n) {
		json_object *e = lease_json(n, &l, time(NULL));

		json_object_object_add(e, "network", json_object_new_string(network));
		json_object_object_add(e, "action", json_object_new_string(action));
		daemon_event(d, "lease", e);
	}
	return 0;
}

static const struct method network_table[] = {
	{ "network.create", method_network_create, METHOD_CHANGE },
	{ "network.delete", method_network_delete, METHOD_CHANGE | METHOD_ASYNC },
	{ "network.start", method_network_start, METHOD_CHANGE },
	{ "network.stop", method_network_stop, METHOD_CHANGE | METHOD_ASYNC },
	{ "network.list", method_network_list, METHOD_READ },
	{ "network.show", method_network_show, METHOD_READ },
	{ "network.leases", method_network_leases, METHOD_READ },
	{ "network.host.add", method_host_add, METHOD_CHANGE },
	{ "network.host.remove", method_host_remove, METHOD_CHANGE },
	/* From netd-lease-event, which dnsmasq runs as root: an operator must not invent leases
	 * (port security lets a guest send from its lease's address). */
	{ "lease.event", method_lease_event, METHOD_CHANGE | METHOD_ROOT },
};

const struct method_area network_methods = METHOD_AREA(network_table);
