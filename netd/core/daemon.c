/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Daemon state: the networks it knows and how the kernel is made to match them. */
#include "daemon.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "protocol.h"
#include "macro.h"
#include "uplink.h"
#include "vm.h"

#define TRIM_DELAY_USEC (1000 * 1000)

/* glibc gives memory back only from the top of the heap on free(); the chunks a request or a
 * libnftables transaction freed below that stay resident (0.7 MiB with 10 networks).
 * malloc_trim() returns every free page inside the heap too. */
static int on_trim(sd_event_source *s, uint64_t usec, void *userdata)
{
	malloc_trim(0);
	return 0;
}

int daemon_trim_init(struct daemon *d)
{
	int r = sd_event_add_time_relative(d->event, &d->trim_timer, CLOCK_MONOTONIC, TRIM_DELAY_USEC, 0, on_trim, d);

	if (r >= 0)
		r = sd_event_source_set_enabled(d->trim_timer, SD_EVENT_ONESHOT);
	return r;
}

void daemon_trim_later(struct daemon *d)
{
	/* One-shot, re-armed: a burst of requests gives one trim, a second after the last. */
	if (d->trim_timer && sd_event_source_set_time_relative(d->trim_timer, TRIM_DELAY_USEC) >= 0)
		sd_event_source_set_enabled(d->trim_timer, SD_EVENT_ONESHOT);
}

/* The features of a network, in the order they come up (and go down in reverse): the one place
 * that names them. A new feature is its own file(s) and its line here (netd/DESIGN.md). */
extern const struct feature feature_links, feature_vxlan, feature_watch, feature_firewall, feature_fwint,
	feature_forward6, feature_upstream, feature_dhcp, feature_resolved, feature_portsec, feature_forward,
	feature_evpn_dhcp,
	feature_evpn,
	feature_doctor;
static const struct feature *const features[] = {
	&feature_links, /* the bridge, its address and sysctls; guests' TAPs as its ports */
	&feature_vxlan, /* mode evpn: the VXLAN port of the bridge, the bridge's MTU */
	&feature_watch, /* conflicts with the host that appear later */
	&feature_firewall, /* table inet netd */
	&feature_fwint, /* Docker, ufw, firewalld let the bridge through (netd --firewall-integration) */
	&feature_forward6, /* IPv6 forwarding, the host's RA-learnt routes kept (after the rules) */
	&feature_upstream, /* the upstream resolvers of the networks that forward DNS */
	&feature_dhcp, /* dnsmasq: DHCP and DNS */
	&feature_evpn_dhcp, /* mode evpn: reservations of the guests on other hosts (after dnsmasq) */
	&feature_resolved, /* [dns] register: the domain in systemd-resolved (after dnsmasq) */
	&feature_portsec, /* what each guest port may send (table bridge netd) */
	&feature_forward, /* port forwards into nat guests (table inet netd_fwd), after the leases */
	&feature_evpn, /* FRR's configuration and BGP/EVPN state (netd --vtep): daemon-wide */
	&feature_doctor, /* netdctl doctor: no part in a network's up or down */
};

_Static_assert(ELEMENTSOF(features) <= DAEMON_FEATURES_MAX, "raise DAEMON_FEATURES_MAX");

static size_t feature_index(const struct feature *f)
{
	for (size_t i = 0; i < ELEMENTSOF(features); i++)
		if (features[i] == f)
			return i;
	abort(); /* a feature that is not in the table */
}

void **daemon_feature_state(struct daemon *d, const struct feature *f)
{
	return &d->feature_state[feature_index(f)];
}

void **net_slot(struct net *n, const struct feature *f)
{
	return &n->slot[feature_index(f)];
}

int daemon_features_init(struct daemon *d)
{
	for (size_t i = 0; i < ELEMENTSOF(features); i++) {
		int r = features[i]->init ? features[i]->init(d) : 0;

		if (r < 0) {
			log_error("cannot start %s: %s", features[i]->name, strerror(-r));
			while (i-- > 0)
				if (features[i]->done)
					features[i]->done(d);
			return r;
		}
	}
	return 0;
}

void daemon_features_status(struct daemon *d, json_object *o)
{
	for (size_t i = 0; i < ELEMENTSOF(features); i++)
		if (features[i]->status)
			features[i]->status(d, o);
}

/* netd's own settings again (reload): each refusal is an error of the report. */
static void features_reload(struct daemon *d, json_object *errors)
{
	for (size_t i = 0; i < ELEMENTSOF(features); i++) {
		char err[512] = "";

		if (features[i]->reload && features[i]->reload(d, err, sizeof(err)) < 0) {
			log_error("reload: %s", err);
			json_object_array_add(errors, json_object_new_string(err));
		}
	}
}

void daemon_features_done(struct daemon *d)
{
	for (size_t i = ELEMENTSOF(features); i-- > 0;)
		if (features[i]->done)
			features[i]->done(d);
}

struct net *daemon_net_find(struct daemon *d, const char *name)
{
	return network_index_find_name(&d->net_index, name);
}

struct net *daemon_net_find_bridge(struct daemon *d, const char *bridge)
{
	return network_index_find_bridge(&d->net_index, bridge);
}

struct network *daemon_network_find(struct daemon *d, const char *name)
{
	struct net *n = daemon_net_find(d, name);

	return n ? n->def : NULL;
}

struct network *daemon_network_find_bridge(struct daemon *d, const char *bridge)
{
	struct net *n = daemon_net_find_bridge(d, bridge);

	return n ? n->def : NULL;
}

int daemon_net_add(struct daemon *d, struct network *def, struct net **ret)
{
	struct net **l = reallocarray(d->nets, d->n_nets + 1, sizeof(*l));
	struct net *n = calloc(1, sizeof(*n));

	if (!l || !n || network_index_reserve(&d->net_index, d->n_nets + 1) < 0) {
		free(n);
		if (l)
			d->nets = l;
		return -ENOMEM;
	}
	n->def = def;
	d->nets = l;
	d->nets[d->n_nets++] = n;
	network_index_add(&d->net_index, def, n, ++d->net_seq);
	if (ret)
		*ret = n;
	return 0;
}

void daemon_net_remove(struct daemon *d, struct net *n)
{
	for (size_t i = 0; i < d->n_nets; i++) {
		if (d->nets[i] != n)
			continue;
		memmove(&d->nets[i], &d->nets[i + 1], (d->n_nets - i - 1) * sizeof(n));
		d->n_nets--;
		network_index_remove(&d->net_index, n->def, n);
		network_free(n->def);
		free(n->users);
		free(n->list_text);
		free(n);
		return;
	}
}

struct net_waiter {
	struct net_waiter *next;
	char name[NAME_MAX_LEN + 1];
	void (*done)(struct daemon *d, void *userdata);
	void *userdata;
};

bool daemon_net_pending(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(features); i++)
		if (features[i]->pending && features[i]->pending(d, name))
			return true;
	return false;
}

int daemon_net_when_settled(struct daemon *d, const char *name,
			    void (*done)(struct daemon *d, void *userdata), void *userdata)
{
	struct net_waiter *w;

	if (!daemon_net_pending(d, name))
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->done = done;
	w->userdata = userdata;
	w->next = d->waiters;
	d->waiters = w;
	return 1;
}

void daemon_net_settled(struct daemon *d, const char *name)
{
	struct net_waiter **p = &d->waiters;

	if (daemon_net_pending(d, name))
		return;
	while (*p) {
		struct net_waiter *w = *p;

		if (strcmp(w->name, name)) {
			p = &w->next;
			continue;
		}
		*p = w->next;
		w->done(d, w->userdata);
		free(w);
		p = &d->waiters; /* done() may have changed the list */
	}
}

struct network **daemon_net_defs(struct daemon *d)
{
	struct network **defs = calloc(d->n_nets + 1, sizeof(*defs));

	for (size_t i = 0; defs && i < d->n_nets; i++)
		defs[i] = d->nets[i]->def;
	return defs;
}

static void net_set_active(struct daemon *d, struct net *n, bool active)
{
	n->active = active;
	if (store_active_set(&d->paths, n->def->name, active) < 0)
		log_net(LOG_WARNING, n->def->name, "network '%s': cannot record that it %s in %s/networks",
			n->def->name, active ? "runs" : "is stopped", d->paths.run_dir);
}

int daemon_net_up(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	bool was = n->active;

	n->active = true;
	for (size_t i = 0; i < ELEMENTSOF(features); i++) {
		int r = features[i]->up ? features[i]->up(d, n, err, errlen) : 0;
		char undo[512];

		if (r >= 0)
			continue;
		n->active = was;
		if (was)
			return r; /* it ran before: the caller puts back what ran (daemon_net_redefine) */
		/* A network that was down is down again: no half of it stays, the failed feature's own
		 * half included (down() is idempotent). */
		for (size_t k = i + 1; k-- > 0;)
			if (features[k]->down && features[k]->down(d, n, undo, sizeof(undo)) < 0)
				log_net(LOG_ERR, n->def->name, "network '%s': cannot undo %s: %s",
					n->def->name, features[k]->name, undo);
		return r;
	}
	net_set_active(d, n, true);
	return 0;
}

int daemon_net_down(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	int first = 0;

	/* Inactive even if a step fails: what is left goes at the next reconcile. */
	net_set_active(d, n, false);
	for (size_t i = ELEMENTSOF(features); i-- > 0;) {
		char e[512];
		int r = features[i]->down ? features[i]->down(d, n, e, sizeof(e)) : 0;

		if (r < 0 && !first) {
			first = r;
			snprintf(err, errlen, "%s", e);
		} else if (r < 0) {
			log_net(LOG_ERR, n->def->name, "network '%s': %s", n->def->name, e);
		}
	}
	return first;
}

/* The one place a network object gets another definition (a definition is never changed in
 * place): def_gen tells 'network list' that its entry is out of date. */
static void net_def_set(struct daemon *d, struct net *n, struct network *def)
{
	uint64_t seq = network_index_remove(&d->net_index, n->def, n);

	n->def = def;
	n->def_gen++;
	network_index_add(&d->net_index, def, n, seq);
}

int daemon_net_redefine(struct daemon *d, struct net *n, struct network *def, char *err, size_t errlen)
{
	struct network *old = n->def;
	char again[512];
	int r;

	net_def_set(d, n, def);
	if (!n->active) {
		network_free(old);
		return 0;
	}
	r = daemon_net_up(d, n, err, errlen);
	if (r >= 0) {
		network_free(old);
		return 0;
	}
	net_def_set(d, n, old);
	network_free(def);
	if (daemon_net_up(d, n, again, sizeof(again)) < 0)
		log_net(LOG_ERR, old->name, "network '%s': cannot apply its previous definition again: %s",
			old->name, again);
	return r;
}

void daemon_net_show_features(struct daemon *d, const struct net *n, const struct net_view *v, json_object *o)
{
	for (size_t i = 0; i < ELEMENTSOF(features); i++)
		if (features[i]->show)
			features[i]->show(d, n, v, o);
}

void daemon_net_doctor(struct daemon *d, const struct net *n, const struct link_dump *dump,
		       doctor_step_fn step, void *ctx)
{
	for (size_t i = 0; i < ELEMENTSOF(features); i++)
		if (features[i]->doctor)
			features[i]->doctor(d, n, dump, step, ctx);
}

const char *daemon_net_state(struct daemon *d, const struct net *n, const struct net_view *v, char *buf,
			     size_t size, const char **ret_problem)
{
	const char *problem = NULL;

	for (size_t i = 0; n->active && !problem && i < ELEMENTSOF(features); i++)
		if (features[i]->problem)
			problem = features[i]->problem(d, n, v, buf, size);
	*ret_problem = problem;
	return !n->active ? "inactive" : problem ? "degraded" : "active";
}

void daemon_net_show(struct daemon *d, const struct net *n, const struct net_view *v, json_object *o)
{
	const char *state, *problem;
	char buf[640];

	daemon_net_show_features(d, n, v, o);
	state = daemon_net_state(d, n, v, buf, sizeof(buf), &problem);
	json_object_object_add(o, "state", json_object_new_string(state));
	if (problem)
		json_object_object_add(o, "problem", json_object_new_string(problem));
}

void net_show_key_add(struct net_show_key *k, const void *p, size_t size)
{
	if (k->overflow || size > sizeof(k->bytes) - k->len) {
		k->overflow = true;
		return;
	}
	memcpy(k->bytes + k->len, p, size);
	k->len += size;
}

bool net_show_key_equal(const struct net_show_key *a, const struct net_show_key *b)
{
	return !a->overflow && !b->overflow && a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

void daemon_net_show_key(struct daemon *d, const struct net *n, struct net_show_key *k)
{
	*k = (struct net_show_key){};
	net_show_key_add(k, &n->def_gen, sizeof(n->def_gen));
	for (size_t i = 0; i < ELEMENTSOF(features); i++) {
		if (features[i]->show && !features[i]->show_key)
			k->overflow = true; /* no key: never reused */
		else if (features[i]->show_key)
			features[i]->show_key(d, n, k);
	}
}

int daemon_net_user_add(struct daemon *d, struct net *n, const struct net_user *u, char *err, size_t errlen)
{
	struct net_user *l;

	net_user_remove(n, u->guest, u->nic);
	l = reallocarray(n->users, n->n_users + 1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n->users = l;
	n->users[n->n_users++] = *u;
	for (size_t i = 0; i < ELEMENTSOF(features); i++) {
		int r = features[i]->user_add ? features[i]->user_add(d, n, u, err, errlen) : 0;

		if (r < 0) {
			net_user_remove(n, u->guest, u->nic);
			return r;
		}
	}
	return 0;
}

void net_user_remove(struct net *n, const char *guest, unsigned nic)
{
	for (size_t i = 0; i < n->n_users; i++)
		if (!strcmp(n->users[i].guest, guest) && n->users[i].nic == nic) {
			memmove(&n->users[i], &n->users[i + 1], (n->n_users - i - 1) * sizeof(n->users[i]));
			n->n_users--;
			return;
		}
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t net_user_names(const struct net *n, char *names, size_t size)
{
	_cleanup_free_ const char **guests = calloc(n->n_users + 1, sizeof(*guests));
	size_t distinct = 0, len = 0;

	if (size)
		names[0] = 0;
	if (!guests)
		return n->n_users;
	for (size_t i = 0; i < n->n_users; i++)
		guests[i] = n->users[i].guest;
	qsort(guests, n->n_users, sizeof(*guests), by_string);
	for (size_t i = 0; i < n->n_users; i++) {
		if (i && !strcmp(guests[i], guests[i - 1]))
			continue; /* a guest with two NICs on the network */
		if (len < size)
			len += snprintf(names + len, size - len, "%s'%s'", distinct ? ", " : "", guests[i]);
		distinct++;
	}
	return distinct;
}

/* What the checks against the host look at: every definition, and the kernel's addresses and
 * routes (link_dump_free and free the definitions' list after). fresh: LINK_DUMP_FRESH or 0. */
static int host_view(struct daemon *d, unsigned fresh, struct network ***ret_defs, struct link_dump *ret_host,
		     char *err, size_t errlen)
{
	int r;

	*ret_defs = daemon_net_defs(d);
	if (!*ret_defs)
		return -ENOMEM;
	/* The host's own addresses and routes: the checks skip those of netd's bridges. */
	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_ALL | LINK_DUMP_FOREIGN | fresh, ret_host);
	if (r < 0) {
		snprintf(err, errlen, "cannot read addresses and routes from the kernel: %s", strerror(-r));
		free(TAKE_PTR(*ret_defs));
	}
	return r;
}

static int check_conflicts(struct daemon *d, const struct network *n, unsigned fresh, char *err,
			   size_t errlen)
{
	struct link_dump host = {};
	/* The host's own addresses and routes: the checks skip those of netd's bridges. */
	int r = d->link.ops->dump(d->link.userdata, LINK_DUMP_ALL | LINK_DUMP_FOREIGN | fresh, &host);

	if (r < 0) {
		snprintf(err, errlen, "cannot read addresses and routes from the kernel: %s", strerror(-r));
		return r;
	}
	r = network_check_conflicts_index(n, &d->net_index, &host, err, errlen);
	link_dump_free(&host);
	return r;
}

int daemon_check_forward_listen(struct daemon *d, const struct network *n, char *err, size_t errlen)
{
	struct link_dump host = {};
	int r;

	for (size_t i = 0; i < n->n_forwards; i++)
		if (n->forwards[i].listen == NAT_FWD_LISTEN_ADDR)
			goto check;
	return 0;
check:
	/* every address, netd's bridges' too (a gateway is the host's); fresh: a refusal is final */
	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS | LINK_DUMP_FRESH, &host);
	if (r < 0) {
		snprintf(err, errlen, "cannot read addresses from the kernel: %s", strerror(-r));
		return r;
	}
	r = network_check_forward_listen(n, &host, err, errlen);
	link_dump_free(&host);
	return r;
}

/*
 * The addresses and routes come from the link backend's cache, which may hold more than the
 * kernel, never less (bridge/DESIGN.md): no conflict there is none in the kernel; a conflict is
 * confirmed with a fresh dump before it is reported.
 */
int daemon_check_conflicts(struct daemon *d, const struct network *n, char *err, size_t errlen)
{
	int r;

	/* A network across hosts needs this host's end of the tunnels and an underlay that carries
	 * them (network/vxlan.c). */
	r = daemon_vxlan_check(d, n, err, errlen);
	if (r < 0)
		return r;
	r = check_conflicts(d, n, 0, err, errlen);

	return r < 0 ? check_conflicts(d, n, LINK_DUMP_FRESH, err, errlen) : r;
}

static int choose_subnet(struct daemon *d, struct network *n, unsigned fresh, bool *ret_host_refused,
			 char *err, size_t errlen)
{
	_cleanup_free_ struct network **defs = NULL;
	struct link_dump host = {};
	int r = host_view(d, fresh, &defs, &host, err, errlen);

	if (r < 0)
		return r;
	r = network_choose_subnet(n, &d->subnet_pool, defs, d->n_nets, &host, ret_host_refused, err, errlen);
	link_dump_free(&host);
	return r;
}

/* As daemon_check_conflicts: when the cached view refused a /24, the choice is made again on a
 * fresh one (which may take that /24). */
int daemon_choose_subnet(struct daemon *d, struct network *n, char *err, size_t errlen)
{
	bool refused = false, had_gateway = n->has_gateway;
	union in_addr_union gateway = n->gateway;
	int r = choose_subnet(d, n, 0, &refused, err, errlen);

	if (r >= 0 && !refused)
		return r;
	n->has_gateway = had_gateway; /* as given: the choice fills it in */
	n->gateway = gateway;
	return choose_subnet(d, n, LINK_DUMP_FRESH, NULL, err, errlen);
}

static int choose_subnet6(struct daemon *d, struct network *n, const struct ip_prefix *ula, unsigned fresh,
			  bool *ret_host_refused, char *err, size_t errlen)
{
	_cleanup_free_ struct network **defs = NULL;
	struct link_dump host = {};
	int r = host_view(d, fresh, &defs, &host, err, errlen);

	if (r < 0)
		return r;
	r = network_choose_subnet6(n, ula, defs, d->n_nets, &host, ret_host_refused, err, errlen);
	link_dump_free(&host);
	return r;
}

/* The same for IPv6, from the host's ULA prefix (made once, kept in the state dir). */
int daemon_choose_subnet6(struct daemon *d, struct network *n, bool dry_run, char *err, size_t errlen)
{
	struct ip_prefix ula;
	bool refused = false;
	int r = store_ula_prefix(&d->paths, !dry_run, &ula);

	if (r < 0) {
		snprintf(err, errlen,
			 "network '%s': cannot get this host's IPv6 ULA prefix from %s/ula-prefix: %s%s",
			 n->name, d->paths.state_dir, strerror(-r),
			 r == -EBADMSG ?
				 " (it must hold one fdXX:XXXX:XXXX::/48; remove it to make a new one)" :
				 "");
		return r;
	}
	r = choose_subnet6(d, n, &ula, 0, &refused, err, errlen);
	if (r >= 0 && !refused)
		return r;
	return choose_subnet6(d, n, &ula, LINK_DUMP_FRESH, NULL, err, errlen);
}

/* What no single network owns, once all were reconciled: bridges, dnsmasq and rules of networks
 * that are gone. */
static void features_settle(struct daemon *d)
{
	for (size_t i = 0; i < ELEMENTSOF(features); i++)
		if (features[i]->settle)
			features[i]->settle(d);
}

int daemon_reconcile_all(struct daemon *d)
{
	char err[1024];
	int failed = 0;

	d->reconciling_all = true;
	for (size_t i = 0; i < d->n_nets; i++) {
		struct net *n = d->nets[i];
		int r = n->active ? daemon_net_up(d, n, err, sizeof(err)) :
				    daemon_net_down(d, n, err, sizeof(err));

		if (r < 0) {
			log_net(LOG_ERR, n->def->name, "network '%s': %s", n->def->name, err);
			failed++;
		}
	}
	features_settle(d);
	d->reconciling_all = false;
	return failed ? -EIO : 0;
}

struct reload_ctx {
	json_object *errors; /* messages for the user */
	json_object *failed; /* names whose file did not load: their networks stay as they are */
};

static void reload_error(const char *file, const char *msg, void *userdata)
{
	struct reload_ctx *ctx = userdata;
	char line[1024];
	size_t len = strlen(file);

	snprintf(line, sizeof(line), "%s: %s", file, msg);
	log_error("config %s", line);
	json_object_array_add(ctx->errors, json_object_new_string(line));
	if (len > 5 && !strcmp(file + len - 5, ".conf"))
		json_object_array_add(ctx->failed, json_object_new_string_len(file, len - 5));
}

static bool loaded_has(struct network **list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && !strcmp(list[i]->name, name))
			return true;
	return false;
}

/* A definition disappeared from the config dir: stop it and forget it. */
static void reload_removed(struct daemon *d, struct network **loaded, size_t n_loaded, json_object *failed,
			   json_object *removed, json_object *errors)
{
	for (size_t i = 0; i < d->n_nets;) {
		struct net *n = d->nets[i];
		char err[1024], names[256];

		if (loaded_has(loaded, n_loaded, n->def->name) || protocol_array_has(failed, n->def->name)) {
			i++;
			continue;
		}
		if (net_user_names(n, names, sizeof(names))) {
			snprintf(err, sizeof(err),
				 "network '%s': definition removed, but guests %s run on it; it keeps "
				 "running until they are shut down or moved",
				 n->def->name, names);
			log_net(LOG_ERR, n->def->name, "%s", err);
			json_object_array_add(errors, json_object_new_string(err));
			i++;
			continue;
		}
		log_net(LOG_INFO, n->def->name, "network '%s': definition removed, stopping it",
			n->def->name);
		if (daemon_net_down(d, n, err, sizeof(err)) < 0)
			log_net(LOG_ERR, n->def->name, "network '%s': %s", n->def->name, err);
		json_object_array_add(removed, json_object_new_string(n->def->name));
		daemon_net_remove(d, n);
	}
}

/* A definition that is new in the config dir: added, and started when autostart says so. */
static int reload_new(struct daemon *d, struct network *def, char *err, size_t errlen)
{
	bool start = def->autostart;
	struct net *n;
	int r = daemon_net_add(d, def, &n);

	if (r < 0) {
		network_free(def);
		snprintf(err, errlen, "%s", strerror(-r));
		return r;
	}
	r = start ? daemon_net_up(d, n, err, errlen) : 0;
	if (r < 0)
		daemon_net_remove(d, n);
	return r;
}

/* Takes def: it replaces the current definition of that name, or is added. */
static void reload_one(struct daemon *d, struct network *def, json_object *report)
{
	struct net *n = daemon_net_find(d, def->name);
	char err[1024], name[NAME_MAX_LEN + 1];
	int r;

	if (n && network_equal(n->def, def)) {
		network_free(def);
		return;
	}
	snprintf(name, sizeof(name), "%s", def->name);
	r = daemon_check_conflicts(d, def, err, sizeof(err));
	if (r >= 0)
		r = daemon_check_forward_listen(d, def, err, sizeof(err));
	if (r < 0)
		network_free(def);
	else if (n)
		r = daemon_net_redefine(d, n, def, err, sizeof(err));
	else
		r = reload_new(d, def, err, sizeof(err));
	if (r < 0) {
		log_net(LOG_ERR, name, "network '%s': %s; keeping the previous state", name, err);
		json_object_array_add(json_object_object_get(report, "errors"), json_object_new_string(err));
		return;
	}
	log_net(LOG_INFO, name, "network '%s': %s", name,
		n ? "definition changed, applied" : "new definition loaded");
	json_object_array_add(json_object_object_get(report, n ? "changed" : "added"),
			      json_object_new_string(name));
}

static void start_networks(struct daemon *d)
{
	/* Markers in the run dir mean netd ran since boot: keep what was running. Otherwise this
	 * is a boot, and autostart decides. */
	bool restart = store_active_known(&d->paths);

	for (size_t i = 0; i < d->n_nets; i++) {
		struct net *n = d->nets[i];

		n->active = restart ? store_active_get(&d->paths, n->def->name) : n->def->autostart;
	}
	store_active_init(&d->paths);
	log_info("%s: %zu network(s) defined",
		 restart ? "restart, adopting what runs" : "first start since boot", d->n_nets);
	daemon_reconcile_all(d);
}

static void load_error(const char *file, const char *msg, void *userdata)
{
	log_error("config %s: %s; skipped", file, msg);
}

/*
 * Every definition of the config dir, as network objects (not running yet). One that conflicts
 * with an earlier one (files in name order: the same subnet or bridge, written by hand) is
 * skipped, as create and reload refuse it: the firewall's sets take a subnet once.
 */
static int load_networks(struct daemon *d)
{
	struct network **defs = NULL;
	size_t n = 0, kept = 0;
	int r = store_networks_load(&d->paths, &defs, &n, load_error, NULL);
	char err[1024];

	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (network_check_conflicts(defs[i], defs, kept, NULL, err, sizeof(err)) < 0) {
			log_error("config %s/networks/%s.conf: %s; skipped", d->paths.config_dir,
				  defs[i]->name, err);
			network_free(defs[i]);
			continue;
		}
		defs[kept++] = defs[i];
		r = daemon_net_add(d, defs[i], NULL);
		if (r < 0) /* not taken: this one and the rest */
			while (i < n)
				network_free(defs[i++]);
	}
	free(defs);
	return r;
}

/* The daemon on the backends it was given (d->event, d->link, d->nft, d->tap, d->proc): main.c
 * gives it the real ones, tests/unit/test-daemon.c the recording fakes. */
int daemon_start(struct daemon *d)
{
	bool boot;
	int r;

	r = load_networks(d);
	if (r < 0) {
		log_error("cannot read %s/networks: %s", d->paths.config_dir, strerror(-r));
		return r;
	}
	r = daemon_features_init(d);
	if (r < 0)
		return r;
	r = daemon_trim_init(d); /* armed: the startup reconcile below is trimmed after too */
	if (r < 0)
		return r;
	/* The uplink first: networks in bridge mode may sit on its bridge. */
	boot = !store_active_known(&d->paths);
	uplink_start(d);
	start_networks(d);
	vm_load_all(d);
	daemon_portsec_start(d); /* the guests' ports are known now */
	if (boot)
		vm_autostart_all(d);
	return 0;
}

void daemon_stop(struct daemon *d)
{
	/* Calls waiting for a dnsmasq to be gone are answered now: netd is going away. */
	while (d->waiters) {
		struct net_waiter *w = d->waiters;

		d->waiters = w->next;
		w->done(d, w->userdata);
		free(w);
	}
	vm_free_all(d);
	disk_jobs_abort(d);
	daemon_features_done(d);
	uplink_free_all(d);
	d->trim_timer = sd_event_source_disable_unref(d->trim_timer);
	while (d->n_nets)
		daemon_net_remove(d, d->nets[d->n_nets - 1]);
	free(d->nets);
	d->nets = NULL;
	network_index_done(&d->net_index);
}

int daemon_reload(struct daemon *d, json_object **ret_report)
{
	_cleanup_json_ json_object *failed = json_object_new_array();
	json_object *report = json_object_new_object();
	struct reload_ctx ctx = { .errors = json_object_new_array(), .failed = failed };
	struct network **loaded = NULL;
	size_t n_loaded = 0;
	int r;

	json_object_object_add(report, "added", json_object_new_array());
	json_object_object_add(report, "changed", json_object_new_array());
	json_object_object_add(report, "removed", json_object_new_array());
	json_object_object_add(report, "errors", ctx.errors);
	features_reload(d, ctx.errors);
	r = store_networks_load(&d->paths, &loaded, &n_loaded, reload_error, &ctx);
	if (r < 0) {
		json_object_put(report);
		return r;
	}
	reload_removed(d, loaded, n_loaded, failed, json_object_object_get(report, "removed"), ctx.errors);
	for (size_t i = 0; i < n_loaded; i++)
		reload_one(d, loaded[i], report);
	free(loaded);
	features_settle(d);
	json_object_object_add(report, "guests", vm_reload(d));
	*ret_report = report;
	return 0;
}
