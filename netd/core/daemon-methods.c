/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon.* methods of the control socket: status, monitor, reload. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "macro.h"

static int method_monitor(struct daemon *d, struct call *c, json_object *params)
{
	control_monitor(c);
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

	for (size_t i = 0; i < d->n_nets; i++)
		active += d->nets[i]->active;
	json_object_object_add(o, "version", json_object_new_string(NETD_VERSION));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "uptime_sec",
			       json_object_new_int64((now_usec() - d->start_usec) / 1000000));
	json_object_object_add(paths, "config_dir", json_object_new_string(d->paths.config_dir));
	json_object_object_add(paths, "state_dir", json_object_new_string(d->paths.state_dir));
	json_object_object_add(paths, "run_dir", json_object_new_string(d->paths.run_dir));
	json_object_object_add(paths, "socket", json_object_new_string(d->paths.socket));
	json_object_object_add(o, "paths", paths);
	counts = json_object_new_object();
	json_object_object_add(counts, "networks", json_object_new_int64(d->n_nets));
	json_object_object_add(counts, "networks_active", json_object_new_int64(active));
	json_object_object_add(o, "counts", counts);
	json_object_object_add(o, "link_backend", json_object_new_string(d->link.ops->name));
	daemon_features_status(d, o);
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

static const struct method daemon_table[] = {
	{ "daemon.status", method_daemon_status, METHOD_READ },
	{ "daemon.monitor", method_monitor, METHOD_READ | METHOD_ASYNC },
	{ "daemon.reload", method_daemon_reload, METHOD_CHANGE },
};

const struct method_area daemon_methods = METHOD_AREA(daemon_table);

uint64_t daemon_now_usec(void)
{
	return now_usec();
}
