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
#include "reconcile.h"
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

struct network *daemon_network_find(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_networks; i++)
		if (!strcmp(d->networks[i]->name, name))
			return d->networks[i];
	return NULL;
}

struct network *daemon_network_find_bridge(struct daemon *d, const char *bridge)
{
	for (size_t i = 0; i < d->n_networks; i++)
		if (!strcmp(d->networks[i]->bridge, bridge))
			return d->networks[i];
	return NULL;
}

int daemon_network_add(struct daemon *d, struct network *n)
{
	struct network **l = realloc(d->networks, (d->n_networks + 1) * sizeof(*l));

	if (!l)
		return -ENOMEM;
	d->networks = l;
	d->networks[d->n_networks++] = n;
	return 0;
}

void daemon_network_remove(struct daemon *d, struct network *n)
{
	for (size_t i = 0; i < d->n_networks; i++) {
		if (d->networks[i] != n)
			continue;
		memmove(&d->networks[i], &d->networks[i + 1], (d->n_networks - i - 1) * sizeof(n));
		d->n_networks--;
		network_free(n);
		return;
	}
}

int daemon_check_conflicts(struct daemon *d, const struct network *n, char *err, size_t errlen)
{
	struct link_dump host = {};
	int r = d->link.ops->dump(d->link.userdata, LINK_DUMP_ALL, &host);

	if (r < 0) {
		snprintf(err, errlen, "cannot read addresses and routes from the kernel: %s", strerror(-r));
		return r;
	}
	r = network_check_conflicts(n, d->networks, d->n_networks, &host, err, errlen);
	link_dump_free(&host);
	return r;
}

int daemon_choose_subnet(struct daemon *d, struct network *n, char *err, size_t errlen)
{
	struct link_dump host = {};
	int r = d->link.ops->dump(d->link.userdata, LINK_DUMP_ALL, &host);

	if (r < 0) {
		snprintf(err, errlen, "cannot read addresses and routes from the kernel: %s", strerror(-r));
		return r;
	}
	r = network_choose_subnet(n, &d->subnet_pool, d->networks, d->n_networks, &host, err, errlen);
	link_dump_free(&host);
	return r;
}

static int desired_from_network(struct daemon *d, const struct network *n, struct desired_bridge *ret)
{
	struct desired_bridge w = { .mtu = n->mtu, .n_addrs = 1 };
	int r;

	network_alias(n, w.owner, sizeof(w.owner));
	snprintf(w.ifname, sizeof(w.ifname), "%s", n->bridge);
	network_gateway_prefix(n, &w.addrs[0]);
	r = store_network_mac(&d->paths, n, &w.mac);
	if (r < 0)
		return r;
	*ret = w;
	return 0;
}

static int reconcile_scoped(struct daemon *d, const struct desired_bridge *want, size_t n_want,
			    const char *scope, char *err, size_t errlen)
{
	struct link_dump dump = {};
	struct plan plan = {};
	int r;

	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS, &dump);
	if (r < 0) {
		snprintf(err, errlen, "cannot read links from the kernel: %s", strerror(-r));
		return r;
	}
	r = reconcile_plan(want, n_want, &dump, scope, &plan);
	link_dump_free(&dump);
	if (r < 0) {
		snprintf(err, errlen, "cannot plan: %s", strerror(-r));
		return r;
	}
	if (plan.n_ops && log_get_max_level() >= LOG_DEBUG) {
		_cleanup_free_ char *text = plan_format(&plan);
		log_debug("plan for %s:\n%s", scope ? scope : "all", strna(text));
	}
	r = plan_apply(&plan, &d->link, err, errlen);
	plan_free(&plan);
	return r;
}

int daemon_network_reconcile(struct daemon *d, const struct network *n, bool active, char *err, size_t errlen)
{
	struct desired_bridge w;
	char scope[64];
	int r;

	/* Mode bridge attaches to a bridge netd does not own: nothing to create or remove. */
	if (n->mode == NETWORK_MODE_BRIDGE)
		return active ? daemon_check_conflicts(d, n, err, errlen) : 0;
	network_alias(n, scope, sizeof(scope));
	if (!active) {
		/* dnsmasq goes first, while its bridge still exists. */
		r = daemon_dhcp_sync(d, n, false, err, errlen);
		if (r < 0)
			return r;
		r = daemon_firewall_sync(d, n, false, err, errlen);
		if (r < 0)
			return r;
		return reconcile_scoped(d, NULL, 0, scope, err, errlen);
	}
	r = desired_from_network(d, n, &w);
	if (r < 0) {
		snprintf(err, errlen, "cannot get the bridge MAC of network '%s': %s", n->name, strerror(-r));
		return r;
	}
	r = reconcile_scoped(d, &w, 1, scope, err, errlen);
	if (r < 0)
		return r;
	r = daemon_bridge_guard(d, n, err, errlen);
	if (r < 0)
		return r;
	r = daemon_firewall_sync(d, n, true, err, errlen);
	if (r < 0)
		return r;
	return daemon_dhcp_sync(d, n, true, err, errlen);
}

/* Bridges tagged for a network that has no definition any more. */
static int prune_orphans(struct daemon *d)
{
	struct link_dump dump = {};
	int r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, &dump);

	if (r < 0)
		return r;
	for (size_t i = 0; i < dump.n_links; i++) {
		const struct link_info *l = &dump.links[i];
		const char *owner = network_alias_owner(l->alias);
		char err[512];

		if (!owner || strcmp(l->kind, "bridge") || daemon_network_find(d, owner))
			continue;
		log_info("removing bridge '%s': network '%s' is no longer defined", l->name, owner);
		if (reconcile_scoped(d, NULL, 0, l->alias, err, sizeof(err)) < 0)
			log_error("cannot remove bridge '%s': %s", l->name, err);
	}
	link_dump_free(&dump);
	return 0;
}

int daemon_reconcile_all(struct daemon *d)
{
	char err[1024];
	int failed = 0;

	for (size_t i = 0; i < d->n_networks; i++) {
		const struct network *n = d->networks[i];
		bool active = store_active_get(&d->paths, n->name);

		if (daemon_network_reconcile(d, n, active, err, sizeof(err)) < 0) {
			log_error("network '%s': %s", n->name, err);
			failed++;
		}
	}
	prune_orphans(d);
	daemon_dhcp_prune(d);
	/* With no network at all the loop never synced: a table left from before goes now. */
	if (daemon_firewall_sync(d, NULL, false, err, sizeof(err)) < 0) {
		log_error("%s", err);
		failed++;
	}
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

static bool name_in(json_object *names, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(names); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(names, i)), name))
			return true;
	return false;
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
	for (size_t i = 0; i < d->n_networks;) {
		struct network *n = d->networks[i];
		char err[1024];

		char names[256];

		if (loaded_has(loaded, n_loaded, n->name) || name_in(failed, n->name)) {
			i++;
			continue;
		}
		if (vm_count_on_network(d, n->name, names, sizeof(names))) {
			snprintf(err, sizeof(err), "network '%s': definition removed, but guests %s run on it; it keeps "
				 "running until they are shut down or moved", n->name, names);
			log_error("%s", err);
			json_object_array_add(errors, json_object_new_string(err));
			i++;
			continue;
		}
		log_info("network '%s': definition removed, stopping it", n->name);
		if (daemon_network_reconcile(d, n, false, err, sizeof(err)) < 0)
			log_error("network '%s': %s", n->name, err);
		store_active_set(&d->paths, n->name, false);
		json_object_array_add(removed, json_object_new_string(n->name));
		daemon_network_remove(d, n);
	}
}

/* Takes ownership of n: it replaces the current definition of that name, or is added. */
static void reload_one(struct daemon *d, struct network *n, json_object *report)
{
	struct network *old = daemon_network_find(d, n->name);
	bool active = old ? store_active_get(&d->paths, n->name) : n->autostart;
	char err[1024];

	if (old && network_equal(old, n)) {
		network_free(n);
		return;
	}
	if (daemon_check_conflicts(d, n, err, sizeof(err)) < 0 ||
	    (active && daemon_network_reconcile(d, n, true, err, sizeof(err)) < 0)) {
		log_error("network '%s': %s; keeping the previous state", n->name, err);
		json_object_array_add(json_object_object_get(report, "errors"), json_object_new_string(err));
		network_free(n);
		return;
	}
	log_info("network '%s': %s", n->name, old ? "definition changed, applied" : "new definition loaded");
	json_object_array_add(json_object_object_get(report, old ? "changed" : "added"),
			      json_object_new_string(n->name));
	if (old)
		daemon_network_remove(d, old);
	store_active_set(&d->paths, n->name, active);
	if (daemon_network_add(d, n) < 0) {
		network_free(n);
		return;
	}
	/* The reconcile above still saw the old definition: the guests' filters follow the new one. */
	daemon_portsec_network_changed(d, n->name);
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
	r = store_networks_load(&d->paths, &loaded, &n_loaded, reload_error, &ctx);
	if (r < 0) {
		json_object_put(report);
		return r;
	}
	reload_removed(d, loaded, n_loaded, failed, json_object_object_get(report, "removed"), ctx.errors);
	for (size_t i = 0; i < n_loaded; i++)
		reload_one(d, loaded[i], report);
	free(loaded);
	json_object_object_add(report, "guests", vm_reload(d));
	*ret_report = report;
	return 0;
}
