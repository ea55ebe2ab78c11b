/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Conflicts that appear after a network started: a VPN that brings up a route or an address over
 * a network's subnet or IPv6 prefix, say. netd listens to IPv4 and IPv6 address and route changes (the link
 * ops' change notifications), and after a burst of them (100 ms) checks every active network against the
 * host's addresses and routes again, exactly as 'network create' does. A network that overlaps something is
 * marked degraded with the reason, until the conflict goes away. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "macro.h"

extern const struct feature feature_watch; /* this file's, at its end */

#define WATCH_DELAY_USEC (100 * 1000)

struct conflict {
	char name[NAME_MAX_LEN + 1];
	char reason[512];
};

struct watch {
	int fd;
	sd_event_source *io, *timer;
	struct conflict *conflicts;
	size_t n_conflicts;
};

#define WATCH(d) ((struct watch *)*daemon_feature_state((d), &feature_watch))

static struct conflict *conflict_find(struct watch *w, const char *name)
{
	for (size_t i = 0; i < w->n_conflicts; i++)
		if (!strcmp(w->conflicts[i].name, name))
			return &w->conflicts[i];
	return NULL;
}

static void conflict_event(struct daemon *d, const char *name, const char *action, const char *reason)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "network", json_object_new_string(name));
	json_object_object_add(e, "action", json_object_new_string(action));
	if (reason)
		json_object_object_add(e, "problem", json_object_new_string(reason));
	daemon_event(d, "network", e);
}

/* The active networks that overlap the host's addresses or routes now (fresh: LINK_DUMP_FRESH or 0). */
static int conflicts_now(struct daemon *d, unsigned fresh, struct conflict **ret, size_t *ret_n)
{
	struct link_dump host = {};
	struct conflict *now;
	size_t n = 0;
	/* Each network against the host's own addresses and routes, not every bridge's: the checks
	 * skip netd's bridges anyway (1000 networks: 1000 x 3000 overlaps, 140 ms, at each check). */
	int r = d->link.ops->dump(d->link.userdata, LINK_DUMP_ALL | LINK_DUMP_FOREIGN | fresh, &host);

	if (r < 0)
		return r;
	now = calloc(d->n_nets + 1, sizeof(*now));
	if (!now) {
		link_dump_free(&host);
		return -ENOMEM;
	}
	(void)link_dump_index(&host); /* each network's bridge found in O(log n) */
	for (size_t i = 0; i < d->n_nets; i++) {
		const struct network *net = d->nets[i]->def;
		struct conflict *c = &now[n];

		if (!net->mode->has_subnet || !d->nets[i]->active)
			continue;
		/* Only the host: netd's own networks were checked against each other at create. */
		if (network_check_conflicts(net, NULL, 0, &host, c->reason, sizeof(c->reason)) == 0)
			continue;
		snprintf(c->name, sizeof(c->name), "%s", net->name);
		n++;
	}
	link_dump_free(&host);
	*ret = now;
	*ret_n = n;
	return 0;
}

static void check_all(struct daemon *d)
{
	struct watch *w = WATCH(d);
	struct conflict *now;
	size_t n = 0;
	int r = conflicts_now(d, 0, &now, &n);

	/* The backend's cache of addresses and routes may hold more than the kernel, never less
	 * (bridge/DESIGN.md): conflicts are confirmed with a fresh dump before they are reported. */
	if (r >= 0 && n > 0) {
		free(now);
		r = conflicts_now(d, LINK_DUMP_FRESH, &now, &n);
	}
	if (r < 0) {
		log_warning("conflict watch: cannot read addresses and routes: %s", strerror(-r));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct conflict *c = &now[i], *old = conflict_find(w, c->name);

		if (!old || strcmp(old->reason, c->reason)) {
			log_net(LOG_WARNING, c->name,
				"network '%s' is degraded: %s (it appeared after the network started)",
				c->name, c->reason);
			conflict_event(d, c->name, "degraded", c->reason);
		}
	}
	for (size_t i = 0; i < w->n_conflicts; i++) {
		bool still = false;

		for (size_t j = 0; j < n && !still; j++)
			still = !strcmp(now[j].name, w->conflicts[i].name);
		if (!still && daemon_network_find(d, w->conflicts[i].name)) {
			log_net(LOG_NOTICE, w->conflicts[i].name, "network '%s': the conflict is gone (%s)",
				w->conflicts[i].name, w->conflicts[i].reason);
			conflict_event(d, w->conflicts[i].name, "conflict gone", NULL);
		}
	}
	free(w->conflicts);
	w->conflicts = now;
	w->n_conflicts = n;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	check_all(userdata);
	return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	unsigned what = 0;

	/* What changed does not matter: the check reads everything again. */
	if (d->link.ops->events_read(d->link.userdata, fd, &what) >= 0 && what == 0)
		return 0;
	if (sd_event_source_set_time_relative(WATCH(d)->timer, WATCH_DELAY_USEC) >= 0)
		sd_event_source_set_enabled(WATCH(d)->timer, SD_EVENT_ONESHOT);
	return 0;
}

static int watch_init(struct daemon *d)
{
	struct watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	*daemon_feature_state(d, &feature_watch) = w;
	r = d->link.ops->events_open(
		d->link.userdata,
		LINK_EVENT_ADDRS4 | LINK_EVENT_ROUTES4 | LINK_EVENT_ADDRS6 | LINK_EVENT_ROUTES6, &w->fd);
	if (r < 0) {
		w->fd = -1;
		log_warning("conflict watch: cannot listen to address and route changes: %s", strerror(-r));
		return 0; /* networks work; later conflicts go unnoticed */
	}
	r = sd_event_add_io(d->event, &w->io, w->fd, EPOLLIN, on_io, d);
	if (r >= 0)
		r = sd_event_add_time_relative(d->event, &w->timer, CLOCK_MONOTONIC, WATCH_DELAY_USEC, 0, on_timer, d);
	/* Armed: the first check runs once the networks have started, for conflicts that arose while
	 * netd was not running. */
	if (r >= 0)
		r = sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
	if (r < 0)
		log_warning("conflict watch: %s", strerror(-r));
	return 0;
}

static void watch_done(struct daemon *d)
{
	struct watch *w = WATCH(d);

	if (!w)
		return;
	sd_event_source_disable_unref(w->io);
	sd_event_source_disable_unref(w->timer);
	if (w->fd >= 0)
		d->link.ops->events_close(d->link.userdata, w->fd);
	free(w->conflicts);
	free(w);
	*daemon_feature_state(d, &feature_watch) = NULL;
}

static const char *watch_problem(struct daemon *d, const struct net *net, const struct net_view *v, char *buf,
				 size_t size)
{
	struct conflict *c = WATCH(d) ? conflict_find(WATCH(d), net->def->name) : NULL;

	return c ? c->reason : NULL;
}

const struct feature feature_watch = {
	.name = "conflict watch",
	.init = watch_init,
	.done = watch_done,
	.problem = watch_problem,
};
