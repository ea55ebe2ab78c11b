/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rtnetlink backend's link cache against the kernel (test-link-cache.sh). Each line of stdin
 * is a change: a shell command ("ip link add ...", run by whoever it names), or one of the
 * backend's own operations ("@bridge NAME [MTU]", "@del NAME...", "@up NAME", "@down NAME",
 * "@mtu NAME N", "@alias NAME TEXT", "@plug PORT BRIDGE", "@release PORT"). After each, the
 * links, addresses and routes of a dump served from the cache must equal a fresh dump of the
 * kernel's, field by field. Only carrier (running) may lag: the kernel's link watch notifies it
 * up to a second late; so may addresses and routes the kernel changes on its own (objs_differ);
 * remaining lifetimes may differ (lft_near), and
 * a route's carrier flags (RTNH_F_LINKDOWN, RTNH_F_DEAD) are not followed. Exits 1 at the first
 * difference that stays, printing both sides.
 */
#include <errno.h>
#include <netinet/in.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "log.h"

/* How long (tries of 100 ms) a difference that catches up may take: carrier, addresses and
 * routes (objs_differ). */
#define CHECK_TRIES 100
#define COMPARE_OF_EACH_END 8

static struct link_backend B;

static int link_text(const struct link_info *l, char *buf, size_t size)
{
	char mac[MAC_STRLEN];

	return snprintf(
		buf, size,
		"%d %s kind=%s alias=%s mac=%s mtu=%u up=%d running=%d lo=%d master=%d lower=%d stp=%d fd=%u",
		l->ifindex, l->name, l->kind, l->alias, mac_format(&l->mac, mac, sizeof(mac)), l->mtu, l->up,
		l->running, l->loopback, l->master, l->lower, l->stp_state, l->forward_delay);
}

/* 0: the same; 1: only carrier differs; 2: anything else. */
static int links_differ(const struct link_dump *a, const struct link_dump *b, bool print)
{
	int worst = a->n_links != b->n_links ? 2 : 0;

	for (size_t i = 0; i < a->n_links || i < b->n_links; i++) {
		char x[512] = "(none)", y[512] = "(none)";
		int d;

		if (i < a->n_links)
			link_text(&a->links[i], x, sizeof(x));
		if (i < b->n_links)
			link_text(&b->links[i], y, sizeof(y));
		if (!strcmp(x, y))
			continue;
		d = i < a->n_links && i < b->n_links && a->links[i].running != b->links[i].running ? 1 : 2;
		if (d == 1) {
			struct link_info t = a->links[i];

			t.running = b->links[i].running;
			link_text(&t, x, sizeof(x));
			d = strcmp(x, y) ? 2 : 1;
			link_text(&a->links[i], x, sizeof(x));
		}
		worst = d > worst ? d : worst;
		if (print)
			printf("  cached: %s\n  kernel: %s\n", x, y);
	}
	return worst;
}

/* An address or a route as text without its lifetimes, which are compared apart (lft[2]). */
struct obj_text {
	char s[320];
	uint32_t lft[2];
};

static int obj_cmp(const void *a, const void *b)
{
	return strcmp(((const struct obj_text *)a)->s, ((const struct obj_text *)b)->s);
}

static struct obj_text *objs_text(const struct link_dump *d, size_t *ret_n)
{
	struct obj_text *t = calloc(d->n_addrs + d->n_routes + 1, sizeof(*t));
	size_t k = 0;

	if (!t)
		abort();
	for (size_t i = 0; i < d->n_addrs; i++, k++) {
		struct addr_info a = d->addrs[i];

		t[k].lft[0] = a.valid_lft;
		t[k].lft[1] = a.preferred_lft;
		a.valid_lft = a.preferred_lft = LINK_LFT_FOREVER;
		snprintf(t[k].s, sizeof(t[k].s), "addr %d ", a.ifindex);
		addr_info_format(&a, t[k].s + strlen(t[k].s), sizeof(t[k].s) - strlen(t[k].s));
	}
	for (size_t i = 0; i < d->n_routes; i++, k++) {
		struct route_info r = d->routes[i];
		char m[2 * LINK_METRICS_MAX + 1] = "";

		t[k].lft[0] = r.expires;
		r.expires = 0;
		for (size_t j = 0; j < r.metrics_len; j++)
			snprintf(m + 2 * j, 3, "%02x", r.metrics[j]);
		snprintf(t[k].s, sizeof(t[k].s), "route %d flags %#x pref %u metrics %s ", r.ifindex,
			 r.flags & ~(RTNH_F_LINKDOWN | RTNH_F_DEAD), r.pref, m);
		route_info_format(&r, NULL, t[k].s + strlen(t[k].s), sizeof(t[k].s) - strlen(t[k].s));
	}
	qsort(t, k, sizeof(*t), obj_cmp);
	*ret_n = k;
	return t;
}

/* The cache counts a remaining lifetime down on CLOCK_MONOTONIC, the kernel on jiffies: on this
 * class of VM they were once seen 16 s apart in ~12 runs. No reader of a cached dump looks at
 * lifetimes (the uplink conversion, which moves them, dumps fresh): finite or not must agree, the
 * value only roughly. */
#define LFT_SLACK 30

static bool lft_near(uint32_t a, uint32_t b)
{
	if (a == LINK_LFT_FOREVER || b == LINK_LFT_FOREVER)
		return a == b;
	return (a > b ? a - b : b - a) <= LFT_SLACK;
}

/* 0: the same; 1: they differ. The kernel changes addresses and routes on its own a moment after
 * a change (carrier: IPv6 link-local address and routes; the end of DAD: an IPv6 address shows,
 * tentative, in a dump 1-2 s before it is notified), and the fresh dump may see a change the
 * cached one drained just before: a difference may catch up (CHECK_TRIES). A rule of the cache
 * taken out leaves one that does not. */
static int objs_differ(const struct link_dump *a, const struct link_dump *b, bool print)
{
	size_t na, nb, i = 0, j = 0;
	struct obj_text *x = objs_text(a, &na), *y = objs_text(b, &nb);
	int worst = 0;

	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(x[i].s, y[j].s);

		if (c == 0 && lft_near(x[i].lft[0], y[j].lft[0]) && lft_near(x[i].lft[1], y[j].lft[1])) {
			i++, j++;
			continue;
		}
		worst = 1;
		if (print && c <= 0)
			printf("  cached: %s lft %u/%u\n", x[i].s, x[i].lft[0], x[i].lft[1]);
		if (print && c >= 0)
			printf("  kernel: %s lft %u/%u\n", y[j].s, y[j].lft[0], y[j].lft[1]);
		i += c <= 0;
		j += c >= 0;
	}
	free(x);
	free(y);
	return worst;
}

/* Both the whole view and the host's own (LINK_DUMP_FOREIGN: not netd's bridges' objects). */
static int compare(const char *what)
{
	for (int tries = 0;; tries++) {
		struct link_dump cached = {}, fresh = {};
		unsigned view = LINK_DUMP_ALL | (tries % 2 ? LINK_DUMP_FOREIGN : 0);
		int r, d;

		r = B.ops->dump(B.userdata, view, &cached);
		if (r >= 0)
			r = B.ops->dump(B.userdata, view | LINK_DUMP_FRESH, &fresh);
		if (r < 0) {
			printf("FAIL after '%s': dump: %s\n", what, strerror(-r));
			return r;
		}
		d = links_differ(&cached, &fresh, false);
		r = objs_differ(&cached, &fresh, false);
		d = r > d ? r : d;
		if (d && (d == 2 || tries == CHECK_TRIES)) {
			printf("FAIL after '%s': the cache differs from the kernel:\n", what);
			links_differ(&cached, &fresh, true);
			objs_differ(&cached, &fresh, true);
		}
		link_dump_free(&cached);
		link_dump_free(&fresh);
		if (!d && tries % 2)
			return 0;
		if (!d)
			continue;
		if (d == 2 || tries == CHECK_TRIES)
			return -EIO;
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
	}
}

/* One link's view (dump_of, as one network's reply and plan take it) against the kernel's whole
 * dump kept to that link: the same links, that link's addresses and routes alone. For the first
 * and the last few links (the newest: what changed), not each of thousands. */
static int compare_of(const char *what)
{
	struct link_dump names = {};
	int r = B.ops->dump(B.userdata, LINK_DUMP_LINKS | LINK_DUMP_FRESH, &names);

	for (size_t i = 0; r >= 0 && i < names.n_links; i++) {
		const char *name = names.links[i].name;

		if (i >= COMPARE_OF_EACH_END && i + COMPARE_OF_EACH_END < names.n_links)
			continue;

		for (int tries = 0;; tries++) {
			struct link_dump one = {}, fresh = {};
			const struct link_info *l;
			int d;

			r = B.ops->dump_of(B.userdata, LINK_DUMP_ALL, name, &one);
			if (r >= 0)
				r = B.ops->dump(B.userdata, LINK_DUMP_ALL | LINK_DUMP_FRESH, &fresh);
			if (r < 0) {
				printf("FAIL after '%s': dump of %s: %s\n", what, name, strerror(-r));
				break;
			}
			l = link_dump_find_name(&fresh, name);
			link_dump_keep_of(&fresh, l ? l->ifindex : 0);
			d = links_differ(&one, &fresh, false);
			r = objs_differ(&one, &fresh, false);
			d = r > d ? r : d;
			r = 0;
			if (d && (d == 2 || tries == CHECK_TRIES)) {
				printf("FAIL after '%s': the cache's view of %s differs from the kernel:\n",
				       what, name);
				links_differ(&one, &fresh, true);
				objs_differ(&one, &fresh, true);
				r = -EIO;
			}
			link_dump_free(&one);
			link_dump_free(&fresh);
			if (!d || r < 0)
				break;
			nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
		}
	}
	link_dump_free(&names);
	return r;
}

static int ifindex_of(const char *name)
{
	struct link_dump d = {};
	const struct link_info *l;
	int ifindex = 0;

	if (B.ops->dump(B.userdata, LINK_DUMP_LINKS | LINK_DUMP_FRESH, &d) >= 0 &&
	    (l = link_dump_find_name(&d, name)))
		ifindex = l->ifindex;
	link_dump_free(&d);
	return ifindex;
}

/* One backend operation ("@verb args"); returns its result. */
static int backend_op(char *line)
{
	char *verb = strtok(line + 1, " \n"), *a = strtok(NULL, " \n"), *b = strtok(NULL, "\n");
	int ifindex = a ? ifindex_of(a) : 0;

	if (!verb || !a)
		return -EINVAL;
	if (!strcmp(verb, "bridge")) {
		char alias[64];

		snprintf(alias, sizeof(alias), "netd:%s", a);
		return B.ops->bridge_add(
			B.userdata,
			&(struct bridge_spec){ .name = a, .mtu = b ? atoi(b) : 0, .alias = alias }, &ifindex);
	}
	if (!ifindex)
		return -ENODEV;
	if (!strcmp(verb, "del")) {
		int idx[64], n = 0;

		idx[n++] = ifindex;
		for (char *s = strtok(b, " "); s && n < 64; s = strtok(NULL, " "))
			if ((idx[n] = ifindex_of(s)))
				n++;
		return B.ops->links_del(B.userdata, idx, n);
	}
	if (!strcmp(verb, "up") || !strcmp(verb, "down"))
		return B.ops->link_set_up(B.userdata, ifindex, !strcmp(verb, "up"));
	if (!strcmp(verb, "mtu") && b)
		return B.ops->link_set_mtu(B.userdata, ifindex, atoi(b));
	if (!strcmp(verb, "alias") && b)
		return B.ops->link_set_alias(B.userdata, ifindex, b);
	if (!strcmp(verb, "plug") && b && ifindex_of(b))
		return B.ops->port_plug(B.userdata, ifindex, ifindex_of(b), NULL);
	if (!strcmp(verb, "release"))
		return B.ops->port_set(B.userdata, ifindex, 0);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	char line[1024];
	unsigned n = 0;
	int r;

	if (argc > 1 && !strcmp(argv[1], "--debug"))
		log_set_max_level(LOG_DEBUG);
	r = link_nl_open(&B);
	if (r < 0) {
		printf("cannot open the rtnetlink backend: %s\n", strerror(-r));
		return 1;
	}
	if (compare("start") < 0 || compare_of("start") < 0)
		return 1;
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		if (line[0] == '@') {
			char copy[sizeof(line)];

			snprintf(copy, sizeof(copy), "%s", line);
			r = backend_op(copy);
		} else
			r = system(line) == 0 ? 0 : -EIO;
		if (r < 0) {
			printf("FAIL: '%s' failed: %s\n", line, strerror(-r));
			return 1;
		}
		if (compare(line) < 0 || compare_of(line) < 0)
			return 1;
		n++;
	}
	printf("%u changes, cache and kernel the same after each\n", n);
	link_nl_close(&B);
	return 0;
}
