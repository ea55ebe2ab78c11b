/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The upstream resolvers of every network that forwards DNS, kept in one file
 * (<run>/dnsmasq/upstream.servers, dnsmasq's --servers-file) rendered from the host's
 * resolv.conf (netd --resolv-conf, default /etc/resolv.conf).
 *
 * Why not let each dnsmasq read resolv.conf: to watch it, each would hold an inotify instance,
 * and a host allows one user 128 of them (fs.inotify.max_user_instances); every dnsmasq runs as
 * the same user, so the 129th network's dnsmasq would fail to start. netd watches resolv.conf
 * once (its directory, and the directory of the file a symbolic link points at: resolvconf,
 * systemd-resolved and NetworkManager replace the file there), renders the servers file again
 * on a change, and when it changed sends SIGHUP to each running dnsmasq that forwards, which
 * re-reads it.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "daemon.h"
#include "dhcp.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "server.h"

extern const struct feature feature_upstream; /* this file's, at its end */

#define UPSTREAM_WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM)

struct upstream {
	char *resolv_conf, *servers_file;
	char *text; /* what servers_file holds */
	sd_event_source *watch;	       /* resolv.conf's directory */
	sd_event_source *target_watch; /* the directory of the file a symbolic link names */
	char *target_dir;
	char *resolv_name, *target_name; /* the names in those directories */
};

#define UPSTREAM(d) ((struct upstream *)*daemon_feature_state((d), &feature_upstream))

const char *daemon_upstream_servers_file(struct daemon *d)
{
	struct upstream *u = UPSTREAM(d);

	return u ? u->servers_file : NULL;
}

/* Render the file again; true when it changed. */
static bool refresh(struct upstream *u)
{
	_cleanup_free_ char *resolv = NULL, *text = NULL;
	size_t len = 0;
	int r = read_file(u->resolv_conf, &resolv, &len);

	if (r < 0 && r != -ENOENT) {
		log_warning("cannot read %s: %s; %s", u->resolv_conf, strerror(-r),
			    u->text ? "the networks keep the upstream resolvers they have" :
				      "no upstream resolvers");
		if (u->text)
			return false;
	}
	if (dhcp_servers_render(r < 0 ? "" : resolv, &text) < 0)
		return false;
	if (u->text && !strcmp(u->text, text))
		return false;
	r = write_runtime_file(u->servers_file, text, strlen(text), 0644);
	if (r < 0) {
		log_error("cannot write %s: %s", u->servers_file, strerror(-r));
		return false;
	}
	free(u->text);
	u->text = TAKE_PTR(text);
	return true;
}

static int on_change(sd_event_source *s, const struct inotify_event *ev, void *userdata);

/* Watch the directory of the file resolv.conf names now (a link may be pointed elsewhere). */
static void watch_target(struct daemon *d, struct upstream *u)
{
	char target[PATH_MAX], *dir;
	int r;

	if (!realpath(u->resolv_conf, target) || !strcmp(target, u->resolv_conf))
		return;
	free(u->target_name);
	u->target_name = strdup(strrchr(target, '/') + 1); /* realpath: absolute */
	dir = dirname(target);
	if (u->target_dir && !strcmp(u->target_dir, dir))
		return;
	u->target_watch = sd_event_source_disable_unref(u->target_watch);
	free(u->target_dir);
	u->target_dir = strdup(dir);
	r = sd_event_add_inotify(d->event, &u->target_watch, dir, UPSTREAM_WATCH_MASK, on_change, d);
	if (r < 0)
		log_warning("cannot watch %s for changes of %s: %s; restart netd after a change", dir,
			    u->resolv_conf, strerror(-r));
}

static int on_change(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
	struct daemon *d = userdata;
	struct upstream *u = UPSTREAM(d);
	size_t n = 0;

	/* Other files of the directory (/etc is busy) are none of its business. */
	if (ev->len && strcmp(ev->name, u->resolv_name) && (!u->target_name || strcmp(ev->name, u->target_name)))
		return 0;
	watch_target(d, u);
	if (!refresh(u))
		return 0;
	for (size_t i = 0; i < d->n_nets; i++) {
		struct net *net = d->nets[i];
		struct dhcp_server *srv = net->active && dns_config_uses_host_resolvers(
								 &net->def->dhcp, net->def->dhcp_router) ?
						  daemon_dhcp_find(d, net->def->name) :
						  NULL;

		if (srv && srv->state == DHCP_SERVER_RUNNING && dhcp_server_reload(srv) >= 0)
			n++;
	}
	log_info("%s changed: the upstream resolvers are now in %s; %zu dnsmasq re-read it (SIGHUP)",
		 u->resolv_conf, u->servers_file, n);
	return 0;
}

static int upstream_init(struct daemon *d)
{
	struct upstream *u = calloc(1, sizeof(*u));
	_cleanup_free_ char *dir = NULL, *resolv_dir = NULL;
	int r;

	if (!u)
		return -ENOMEM;
	*daemon_feature_state(d, &feature_upstream) = u;
	u->resolv_conf = strdup(d->resolv_conf ?: "/etc/resolv.conf");
	dir = path_join(d->paths.run_dir, "dnsmasq");
	if (!u->resolv_conf || !dir || asprintf(&u->servers_file, "%s/upstream.servers", dir) < 0)
		return -ENOMEM;
	r = mkdir_p(dir, 0755);
	if (r < 0) {
		log_error("cannot create %s: %s", dir, strerror(-r));
		return r;
	}
	refresh(u);
	if (!u->text)
		return -EIO; /* the log says why */
	resolv_dir = strdup(u->resolv_conf);
	u->resolv_name = strdup(strrchr(u->resolv_conf, '/') + 1); /* --resolv-conf: absolute */
	if (!resolv_dir || !u->resolv_name)
		return -ENOMEM;
	r = sd_event_add_inotify(d->event, &u->watch, dirname(resolv_dir), UPSTREAM_WATCH_MASK, on_change, d);
	if (r < 0)
		log_warning("cannot watch %s for changes of %s: %s; restart netd after a change", resolv_dir,
			    u->resolv_conf, strerror(-r));
	watch_target(d, u);
	return 0;
}

static void upstream_done(struct daemon *d)
{
	struct upstream *u = UPSTREAM(d);

	if (!u)
		return;
	sd_event_source_disable_unref(u->watch);
	sd_event_source_disable_unref(u->target_watch);
	free(u->target_dir);
	free(u->target_name);
	free(u->resolv_name);
	free(u->resolv_conf);
	free(u->servers_file);
	free(u->text);
	free(u);
	*daemon_feature_state(d, &feature_upstream) = NULL;
}

const struct feature feature_upstream = {
	.name = "upstream",
	.init = upstream_init,
	.done = upstream_done,
};
