/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The firewalld backend (netd/network/fwint-firewalld.c) against a real firewalld, one operation a
 * run (test-fw-firewalld-backend.sh): on the system bus of $DBUS_SYSTEM_BUS_ADDRESS.
 *
 *   firewalld-call running            1 or 0
 *   firewalld-call has-zone ZONE      1 or 0
 *   firewalld-call zone-of IF         the zone, an empty line for none
 *   firewalld-call bind ZONE IF       0
 *   firewalld-call unbind ZONE IF     0
 *   firewalld-call watch N [IF]       "ready running=R", then a line per on_change until the Nth:
 *                                     "change running=R" (and with IF: "zone=Z in=MS ms", zone_of
 *                                     asked at once, and how long that took); lines are stamped
 *                                     with CLOCK_REALTIME (s.us) first. Gives up after 60 s (exit 1).
 *
 * A failure prints "error R (strerror): firewalld's text" on stderr and exits 1; wrong usage exits 2.
 * The backend's debug lines (one a mutation) go to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "fwint.h"
#include "log.h"

#define WATCH_TIMEOUT_USEC (60 * 1000000ULL)

static struct firewalld_backend B;
static const struct firewalld_ops *O;

struct watch {
	sd_event *e;
	int left;
	const char *ifname;
};

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int failed(int r, const char *err)
{
	fprintf(stderr, "error %d (%s): %s\n", r, strerror(-r), err);
	return 1;
}

static void on_change(void *userdata)
{
	struct watch *w = userdata;
	char zone[64] = "", err[512] = "";
	double t0 = now(CLOCK_MONOTONIC);
	bool running = O->running(B.userdata);
	int r = 0;

	printf("%.6f change running=%d", now(CLOCK_REALTIME), running);
	if (w->ifname && running) {
		r = O->zone_of(B.userdata, w->ifname, zone, sizeof(zone), err, sizeof(err));
		if (r < 0)
			printf(" error=%d (%s)", r, err);
		else
			printf(" zone=%s", zone);
		printf(" in=%.0f ms", (now(CLOCK_MONOTONIC) - t0) * 1000);
	}
	printf("\n");
	fflush(stdout);
	if (--w->left == 0)
		sd_event_exit(w->e, 0);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	fprintf(stderr, "watch: no more changes within 60 s\n");
	return sd_event_exit(userdata, 1);
}

static int cmd_watch(sd_event *e, struct watch *w)
{
	int r;

	printf("%.6f ready running=%d\n", now(CLOCK_REALTIME), O->running(B.userdata));
	fflush(stdout);
	r = sd_event_add_time_relative(e, NULL, CLOCK_MONOTONIC, WATCH_TIMEOUT_USEC, 0, on_timeout, e);
	if (r < 0)
		return failed(r, "timer");
	r = sd_event_loop(e);
	return r < 0 ? failed(r, "event loop") : r;
}

static int cmd_one(int argc, char **argv)
{
	const char *cmd = argv[1];
	char zone[64] = "", err[512] = "";
	int r;

	if (!strcmp(cmd, "running") && argc == 2)
		return printf("%d\n", O->running(B.userdata)) < 0;
	if (!strcmp(cmd, "has-zone") && argc == 3) {
		r = O->has_zone(B.userdata, argv[2]);
		return r < 0 ? failed(r, "getZones") : printf("%d\n", r) < 0;
	}
	if (!strcmp(cmd, "zone-of") && argc == 3)
		r = O->zone_of(B.userdata, argv[2], zone, sizeof(zone), err, sizeof(err));
	else if (!strcmp(cmd, "bind") && argc == 4)
		r = O->bind(B.userdata, argv[2], argv[3], err, sizeof(err));
	else if (!strcmp(cmd, "unbind") && argc == 4)
		r = O->unbind(B.userdata, argv[2], argv[3], err, sizeof(err));
	else
		return 2;
	if (r < 0)
		return failed(r, err);
	return printf("%s\n", !strcmp(cmd, "zone-of") ? zone : "0") < 0;
}

int main(int argc, char **argv)
{
	struct watch w = { 0 };
	sd_event *e = NULL;
	int r;

	if (argc < 2 || (!strcmp(argv[1], "watch") && (argc < 3 || argc > 4))) {
		fprintf(stderr,
			"usage: firewalld-call running|has-zone Z|zone-of IF|bind Z IF|unbind Z IF|watch N [IF]\n");
		return 2;
	}
	log_set_max_level(LOG_DEBUG);
	r = sd_event_default(&e);
	if (r >= 0)
		r = firewalld_dbus_new(&B);
	if (r < 0)
		return failed(r, "setup");
	O = B.ops;
	w = (struct watch){ .e = e,
			    .left = argc > 2 ? atoi(argv[2]) : 0,
			    .ifname = argc > 3 ? argv[3] : NULL };
	r = O->open(B.userdata, e, on_change, &w);
	if (r < 0)
		return failed(r, "open");
	r = !strcmp(argv[1], "watch") ? cmd_watch(e, &w) : cmd_one(argc, argv);
	if (r == 2)
		fprintf(stderr, "firewalld-call: bad arguments\n");
	firewalld_dbus_free(&B);
	sd_event_unref(e);
	return r;
}
