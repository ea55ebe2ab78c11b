/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Firewall integration (netd --firewall-integration auto|report|off; see fwint.h and netd/DESIGN.md
 * "Other firewall managers").
 *
 * The firewall feature (firewall.c) judges what the other tables do to each network (nat/reach.c).
 * When a check fails in a table another manager owns, it asks this feature first
 * (daemon_fwint_take): in auto, the manager is told to let the bridge through in its own place:
 *   Docker:    accept rules in DOCKER-USER, in (-i) and out (-o);
 *   ufw:       accept rules in ufw-user-input (in) and ufw-user-forward (in and out);
 *   firewalld: the bridge bound to zone netd (when firewalld has it) or trusted, at runtime.
 * The iptables rules of a whole pass go in with one iptables-restore per family, tagged with the
 * comment netd:BRIDGE; firewall.c then lists the tables again and reports what still blocks. When
 * the manager rebuilds its chains (a Docker restart, ufw reload, a firewalld reload) its nftables
 * transactions bring the same path back. netd's own table stays the guard of what guests reach on
 * the host: these rules only step the other managers aside.
 *
 * iptables-legacy tables (x_tables) are invisible to nftables: where a legacy table filter exists,
 * each pass lists it (iptables-legacy -S) and judges it by its built-in chains' policies and the
 * accept rules for the bridge (nothing more: netd reports it so), integrating into Docker's or ufw's
 * legacy chains in auto.
 *
 * Everything netd added for a network is removed when the network stops; a start removes what
 * netd added for networks that no longer run (tagged rules), and takes the rest as its own again.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "fwint-ipt.h"
#include "fwint.h"
#include "log.h"
#include "macro.h"
#include "reach.h"

extern const struct feature feature_fwint; /* this file's, at its end */

#define FIREWALLD_BIT (1u << _IPT_MANAGER_MAX)
#define ZONE_MAX 64
/* ufw holds a lock on this file (lockf) for its whole run: a reload empties its chains, then
 * deletes them (iptables -X), which fails if a rule went back in between. */
#define UFW_LOCK "/run/ufw.lock"
/* ufw's lock is looked at (a non-blocking fcntl) four times a second while ufw holds it: netd's
 * rules are back within about 250 ms of ufw's end, however long ufw ran (a reload under load took
 * 16 s, and a backoff up to 5 s left the rules out for seconds after it). */
#define UFW_LOCK_RETRY_USEC (250 * 1000)
/* How long the other tables must have been left alone before netd adds to a manager's chains. */
#define QUIET_USEC (300 * 1000)
#define PROBLEM_MAX 320

static const char *const mode_names[_FWINT_MODE_MAX] = {
	[FWINT_AUTO] = "auto",
	[FWINT_REPORT] = "report",
	[FWINT_OFF] = "off",
};

const char *fwint_mode_to_string(enum fwint_mode m)
{
	return m < _FWINT_MODE_MAX ? mode_names[m] : NULL;
}

int fwint_mode_from_string(const char *s)
{
	for (int m = 0; m < _FWINT_MODE_MAX; m++)
		if (s && !strcmp(s, mode_names[m]))
			return m;
	return -EINVAL;
}

/* A network's part. */
struct fwint_net {
	unsigned by_netd[2][2]; /* [backend][v6]: bits 1 << IPT_* of the managers netd added rules to */
	char zone[ZONE_MAX]; /* the firewalld zone netd bound the bridge to, "" for none */
	char legacy_problem[PROBLEM_MAX]; /* what the legacy tables block, "" for nothing */
	char legacy_fix[PROBLEM_MAX]; /* the commands that let it through */
	/* Passes in a row that queued rules for it while it stayed blocked: a listing that never
	 * shows what netd added (another iptables than the one the manager runs) must not make netd
	 * add them again at every change. */
	unsigned takes;
};

#define TAKES_MAX 3

struct queue {
	char *text;
	size_t len, cap;
};

struct fwint {
	struct queue queue[2][2]; /* [backend][v6]: iptables-restore lines of this pass */
	/* [backend][v6]: table filter as listed in this pass (listed: tried; list_r: its result) */
	struct ipt_listing listing[2][2];
	bool listed[2][2];
	int list_r[2][2];
	struct bind {
		char bridge[IFNAMSIZ];
		char zone[ZONE_MAX];
	} * binds; /* firewalld bindings of this pass */
	size_t n_binds;
	bool firewalld_open;
	int ufw_lock_fd; /* ufw's lock, held for the pass that changes its chains; -1 */
	bool sweep; /* a removal waits for ufw: sweep() when it is done */
	bool ufw_busy; /* ufw held its lock at the last look */
	int zone_netd; /* this pass: whether firewalld has zone netd (-1: not asked yet) */
	bool firewalld_mute; /* this pass: firewalld did not answer; not asked again */
	sd_event_source *retry_timer; /* ufw ran: look again when it is done */
};

#define FWI(d) ((struct fwint *)*daemon_feature_state((d), &feature_fwint))

static struct fwint_net *slot_get(struct net *n)
{
	struct fwint_net **s = (struct fwint_net **)net_slot(n, &feature_fwint);

	if (!*s)
		*s = calloc(1, sizeof(**s));
	return *s;
}

static struct fwint_net *slot_peek(const struct net *n)
{
	return *net_slot((struct net *)n, &feature_fwint);
}

static void slot_free(struct net *n)
{
	struct fwint_net **s = (struct fwint_net **)net_slot(n, &feature_fwint);

	free(*s);
	*s = NULL;
}

/* Queue line ("-A CHAIN REST") as op ("-I", "-D") on CHAIN, at pos (for -I; 0: none). */
static int queue_add(struct queue *q, const char *op, const char *line, unsigned pos)
{
	const char *rest = line + 3 + strcspn(line + 3, " "); /* after "-A CHAIN" */
	size_t n = strlen(line) + 16;

	if (q->len + n + 1 > q->cap) {
		size_t cap = (q->cap + n + 1) * 2;
		char *t = realloc(q->text, cap);

		if (!t)
			return -ENOMEM;
		q->text = t;
		q->cap = cap;
	}
	if (pos)
		q->len += sprintf(q->text + q->len, "%s %.*s %u%s\n", op, (int)(rest - line - 3), line + 3,
				  pos, rest);
	else
		q->len += sprintf(q->text + q->len, "%s%s\n", op, line + 2);
	return 0;
}

static void queue_clear(struct queue *q)
{
	free(q->text);
	*q = (struct queue){};
}

/* Table filter of (b, family), listed once per pass. */
static const struct ipt_listing *listing(struct daemon *d, enum ipt_backend b, int family)
{
	struct fwint *f = FWI(d);
	bool v6 = family == AF_INET6;
	char err[512];

	if (!f->listed[b][v6]) {
		f->listed[b][v6] = true;
		f->list_r[b][v6] = fwint_ipt_list(d, b, family, &f->listing[b][v6], err, sizeof(err));
		if (f->list_r[b][v6] < 0)
			log_error("firewall integration: cannot list table filter: %s", err);
	}
	return f->list_r[b][v6] < 0 ? NULL : &f->listing[b][v6];
}

static void listings_forget(struct fwint *f)
{
	for (int b = 0; b < 2; b++)
		for (int v6 = 0; v6 < 2; v6++) {
			if (f->listed[b][v6] && f->list_r[b][v6] >= 0)
				ipt_listing_done(&f->listing[b][v6]);
			f->listed[b][v6] = false;
		}
}

/* Queue manager m's rules for bridge in chain rules[0].chain (rules: its n rules, in order), unless
 * they are all there: the ones there go, then all of them go in, in order, at their place. */
static int chain_ensure(struct queue *q, const struct ipt_listing *l, const struct ipt_rule *rules, size_t n,
			const char *bridge)
{
	char line[160];
	bool all = true;
	unsigned pos;
	int r;

	for (size_t i = 0; i < n && all; i++)
		all = ipt_rule_line(&rules[i], bridge, true, line, sizeof(line)) >= 0 &&
		      ipt_listing_has(l, line);
	if (all)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ipt_rule_line(&rules[i], bridge, true, line, sizeof(line)) >= 0 &&
		    ipt_listing_has(l, line) && (r = queue_add(q, "-D", line, 0)) < 0)
			return r;
	pos = ipt_insert_position(l, rules[0].chain, bridge);
	for (size_t i = n; i-- > 0;) { /* each at pos: the first one ends up first */
		r = ipt_rule_line(&rules[i], bridge, true, line, sizeof(line));
		if (r >= 0)
			r = queue_add(q, "-I", line, pos);
		if (r < 0)
			return r;
	}
	return 1;
}

/* Queue manager m's rules for bridge that table filter (b, family) lacks: 1 when it queued some, 0
 * when they are all there, negative errno. */
static int rules_ensure(struct daemon *d, enum ipt_backend b, int family, enum ipt_manager m,
			const char *bridge)
{
	struct ipt_rule rules[IPT_RULES_MAX];
	size_t n = ipt_manager_rules(m, family, rules);
	const struct ipt_listing *l = listing(d, b, family);
	int queued = 0, r;

	if (!l)
		return -EIO;
	for (size_t i = 0, k; i < n; i = k) {
		for (k = i + 1; k < n && !strcmp(rules[k].chain, rules[i].chain); k++)
			;
		r = chain_ensure(&FWI(d)->queue[b][family == AF_INET6], l, rules + i, k - i, bridge);
		if (r < 0)
			return r;
		queued |= r;
	}
	return queued;
}

/* The manager a line of table filter (family) is netd's rule for, with its bridge into br; -1 for
 * a line netd did not write (another's comment that merely looks alike included). */
static int line_manager(const char *line, int family, char br[static IFNAMSIZ])
{
	if (!ipt_line_tagged_bridge(line, br, IFNAMSIZ))
		return -1;
	for (int m = 0; m < _IPT_MANAGER_MAX; m++) {
		struct ipt_rule rules[IPT_RULES_MAX];
		size_t n = ipt_manager_rules(m, family, rules);
		char text[160];

		for (size_t j = 0; j < n; j++)
			if (ipt_rule_line(&rules[j], br, true, text, sizeof(text)) >= 0 &&
			    !strcmp(text, line))
				return m;
	}
	return -1;
}

static bool bridge_runs(struct daemon *d, const char *bridge)
{
	struct net *n = daemon_net_find_bridge(d, bridge);

	return n && n->active;
}

/* Queue the removal of netd's rules for bridge (NULL: for every bridge that no longer runs) in
 * table filter (b, family). */
static void rules_remove(struct daemon *d, enum ipt_backend b, int family, const char *bridge)
{
	/* outside auto, netd keeps no rule of its own in other managers' chains */
	bool all = !bridge && d->fw_integration != FWINT_AUTO;

	const struct ipt_listing *l = listing(d, b, family);

	for (size_t i = 0; l && i < l->n; i++) {
		char br[IFNAMSIZ];

		if (line_manager(l->lines[i], family, br) < 0 ||
		    (bridge ? strcmp(br, bridge) : !all && bridge_runs(d, br)))
			continue;
		(void)queue_add(&FWI(d)->queue[b][family == AF_INET6], "-D", l->lines[i], 0);
	}
}

/* The managers that have their chains in the nftables ruleset, for family. */
static bool nft_has_manager(const struct reach_ruleset *rs, int family, enum ipt_manager m)
{
	return rs && reach_ruleset_has_chain(rs, family == AF_INET6 ? "ip6" : "ip", "filter",
					     ipt_manager_chain(m, family));
}

/* Which manager owns the table that blocks c: -1 when none netd knows. Forwarding goes to Docker
 * first: its DOCKER-USER is the first jump of FORWARD. */
static int manager_of(const struct reach_ruleset *rs, const struct reach_check *c)
{
	const struct reach_rule *b = &c->result.base;
	bool fwd = c->packet.hook == REACH_HOOK_FORWARD;

	if (fwd && reach_ruleset_has_chain(rs, b->family, b->table, "DOCKER-USER"))
		return IPT_DOCKER;
	if (reach_ruleset_has_chain(rs, b->family, b->table, "ufw-user-input") ||
	    reach_ruleset_has_chain(rs, b->family, b->table, "ufw6-user-input"))
		return IPT_UFW;
	if (!strcmp(b->table, "firewalld") &&
	    (!strcmp(b->family, "inet") || !strcmp(b->family, "ip") || !strcmp(b->family, "ip6")))
		return _IPT_MANAGER_MAX; /* firewalld */
	return -1;
}

static void sweep(struct daemon *d);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	if (FWI(d)->sweep)
		sweep(d);
	daemon_firewall_recheck(d);
	return 0;
}

static void retry_later(struct daemon *d, uint64_t usec)
{
	struct fwint *f = FWI(d);
	int r;

	if (!f->retry_timer)
		r = sd_event_add_time_relative(d->event, &f->retry_timer, CLOCK_MONOTONIC, usec, 1000,
					       on_retry, d);
	else
		r = sd_event_source_set_time_relative(f->retry_timer, usec);
	if (r >= 0)
		r = sd_event_source_set_enabled(f->retry_timer, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error("firewall integration: cannot arm the retry timer: %s", strerror(-r));
}

/* Hold ufw's lock for this pass: true when held (or when there is none: ufw never ran), false while
 * ufw runs (a retry comes later). */
static bool ufw_lock(struct daemon *d)
{
	struct fwint *f = FWI(d);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd;

	if (f->ufw_lock_fd >= 0)
		return true;
	fd = open(UFW_LOCK, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return true;
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		close(fd);
		/* ufw may hold it for long (a prompt): said once */
		if (!f->ufw_busy)
			log_debug(
				"firewall integration: ufw runs (%s is locked); looking again every %llu ms until it ends",
				UFW_LOCK, (unsigned long long)(UFW_LOCK_RETRY_USEC / 1000));
		f->ufw_busy = true;
		retry_later(d, UFW_LOCK_RETRY_USEC);
		return false;
	}
	f->ufw_busy = false;
	f->ufw_lock_fd = fd;
	return true;
}

static void ufw_unlock(struct fwint *f)
{
	if (f->ufw_lock_fd >= 0)
		close(TAKE_FD(f->ufw_lock_fd)); /* releases the lock */
}

/* Whether network n has addresses of family (its rules there matter). */
static bool has_family(const struct network *n, int family)
{
	return family == AF_INET6 ? n->subnet6.family == AF_INET6 : n->subnet.family == AF_INET;
}

/* A firewalld call failed with r: one that timed out mutes firewalld for the rest of the pass (a
 * frozen firewalld must not hold netd's loop a timeout per network). */
static void firewalld_failed(struct daemon *d, int r, const char *what, const char *err)
{
	if (r == -ETIMEDOUT)
		FWI(d)->firewalld_mute = true;
	log_error("firewall integration: firewalld: %s: %s", what, err);
}

static int firewalld_take(struct daemon *d, struct fwint_net *s, const char *bridge)
{
	const struct firewalld_ops *ops = d->firewalld.ops;
	void *u = d->firewalld.userdata;
	struct fwint *f = FWI(d);
	char zone[ZONE_MAX] = "", err[512] = "", what[64];
	const char *want;
	struct bind *b;
	int r;

	if (!ops || f->firewalld_mute || !ops->running(u))
		return 0;
	if (f->zone_netd < 0) {
		f->zone_netd = ops->has_zone(u, FIREWALLD_ZONE_NETD);
		if (f->zone_netd == -ETIMEDOUT) {
			firewalld_failed(d, f->zone_netd, "its zones", "no answer");
			return 0;
		}
	}
	want = f->zone_netd == 1 ? FIREWALLD_ZONE_NETD : FIREWALLD_ZONE_FALLBACK;
	r = ops->zone_of(u, bridge, zone, sizeof(zone), err, sizeof(err));
	if (r < 0) {
		snprintf(what, sizeof(what), "the zone of %s", bridge);
		firewalld_failed(d, r, what, err);
		return 0;
	}
	if (!strcmp(zone, want)) {
		if (!s->zone[0] && !strcmp(want, FIREWALLD_ZONE_NETD))
			snprintf(s->zone, sizeof(s->zone), "%s", want); /* netd's zone: netd's binding */
		return 0;
	}
	b = realloc(f->binds, (f->n_binds + 1) * sizeof(*b));
	if (!b)
		return -ENOMEM;
	f->binds = b;
	b = &f->binds[f->n_binds++];
	snprintf(b->bridge, sizeof(b->bridge), "%s", bridge);
	snprintf(b->zone, sizeof(b->zone), "%s", want);
	if (zone[0])
		log_bridge(LOG_NOTICE, bridge,
			   "firewall integration: firewalld: %s moves from zone %s to zone %s", bridge, zone,
			   want);
	snprintf(s->zone, sizeof(s->zone), "%s", want);
	return 1;
}

/* Whether manager m's chains for family are on the packet's path in the nftables ruleset rs: while
 * the manager builds or tears down its chains (ufw-init's stop flushes them, then deletes them,
 * which fails if a rule went back in between) netd adds nothing. */
static bool chains_reachable(const struct reach_ruleset *rs, int family, enum ipt_manager m)
{
	struct ipt_rule rules[IPT_RULES_MAX];
	size_t n = ipt_manager_rules(m, family, rules);

	for (size_t i = 0; i < n; i++)
		if (!reach_chain_reachable(rs, family == AF_INET6 ? "ip6" : "ip", "filter", rules[i].chain))
			return false;
	return true;
}

int daemon_fwint_take(struct daemon *d, const struct net *net, const struct reach_ruleset *rs,
		      const struct reach_check *c)
{
	struct fwint_net *s;
	uint64_t quiet;
	int m, r, taken = 0;

	if (d->fw_integration != FWINT_AUTO || !FWI(d) || !net->active)
		return 0;
	m = manager_of(rs, c);
	if (m < 0)
		return 0;
	s = slot_get((struct net *)net);
	if (!s || s->takes >= TAKES_MAX)
		return 0;
	if (m == _IPT_MANAGER_MAX) {
		r = firewalld_take(d, s, net->def->bridge);
		s->takes += r > 0;
		return r > 0 ? FWINT_TAKEN : 0;
	}
	/* A manager that just changed its chains may not be done: act once it has been quiet. */
	quiet = daemon_firewall_quiet_usec(d);
	if (quiet < QUIET_USEC) {
		retry_later(d, QUIET_USEC - quiet);
		return FWINT_DEFERRED;
	}
	if (m == IPT_UFW && !ufw_lock(d))
		return FWINT_DEFERRED;
	for (int v6 = 0; v6 < 2; v6++) {
		int family = v6 ? AF_INET6 : AF_INET;

		if (!nft_has_manager(rs, family, m) || !has_family(net->def, family) ||
		    !chains_reachable(rs, family, m))
			continue;
		r = rules_ensure(d, IPT_BACKEND_NFT, family, m, net->def->bridge);
		if (r < 0)
			continue;
		s->by_netd[IPT_BACKEND_NFT][v6] |= 1u << m;
		taken |= r;
	}
	if (taken && ++s->takes == TAKES_MAX)
		log_obj(LOG_ERR, LOG_OBJ(.network = net->def->name, .bridge = net->def->bridge),
			"firewall integration: bridge %s is still blocked after netd let it through %u times; "
			"netd leaves it as it is until the network passes its checks again",
			net->def->bridge, TAKES_MAX);
	return taken ? FWINT_TAKEN : 0;
}

void daemon_fwint_passed(struct daemon *d, const struct net *net)
{
	struct fwint_net *s = FWI(d) ? slot_peek(net) : NULL;

	if (s)
		s->takes = 0;
}

/* Apply the queued lines; true when something was applied or tried. */
static bool queues_apply(struct daemon *d, enum ipt_backend b)
{
	struct fwint *f = FWI(d);
	bool any = false;

	for (int v6 = 0; v6 < 2; v6++) {
		struct queue *q = &f->queue[b][v6];
		char err[512];

		if (!q->len)
			continue;
		int r = fwint_ipt_restore(d, b, v6 ? AF_INET6 : AF_INET, q->text, err, sizeof(err));

		for (char *p = q->text; *p; p++) /* one log line */
			if (*p == '\n')
				*p = p[1] ? ';' : 0;
		if (r < 0)
			log_error("firewall integration: %s (%s)", err, q->text);
		else
			log_notice("firewall integration: %s: %s",
				   fwint_ipt_binary(b, v6 ? AF_INET6 : AF_INET), q->text);
		queue_clear(q);
		any = true;
	}
	return any;
}

static bool binds_apply(struct daemon *d)
{
	struct fwint *f = FWI(d);
	bool any = f->n_binds > 0;

	for (size_t i = 0; i < f->n_binds; i++) {
		char err[512] = "", what[160];
		int r = f->firewalld_mute ? -ETIMEDOUT :
					    d->firewalld.ops->bind(d->firewalld.userdata, f->binds[i].zone,
								   f->binds[i].bridge, err, sizeof(err));

		snprintf(what, sizeof(what), "cannot bind %s to zone %s", f->binds[i].bridge,
			 f->binds[i].zone);
		if (r < 0)
			firewalld_failed(d, r, what, err[0] ? err : "no answer");
		else
			log_bridge(LOG_NOTICE, f->binds[i].bridge,
				   "firewall integration: firewalld: %s bound to zone %s", f->binds[i].bridge,
				   f->binds[i].zone);
	}
	free(f->binds);
	f->binds = NULL;
	f->n_binds = 0;
	return any;
}

/* ---- iptables-legacy ---- */

/* The chains where an accept for the bridge in that direction counts, and where netd adds one. */
static const char *const fwd_chains[2][3] = {
	{ "FORWARD", "DOCKER-USER", "ufw-user-forward" },
	{ "FORWARD", "DOCKER-USER", "ufw6-user-forward" },
};
static const char *const in_chains[2][2] = {
	{ "INPUT", "ufw-user-input" },
	{ "INPUT", "ufw6-user-input" },
};

static bool accepts(const struct ipt_listing *l, const char *const *chains, size_t n, const char *bridge,
		    bool out)
{
	for (size_t i = 0; i < n; i++) {
		struct ipt_rule r = { chains[i], out };

		if (ipt_listing_has_rule(l, &r, bridge))
			return true;
	}
	return false;
}

static bool blocks(const struct ipt_listing *l, const char *chain)
{
	char policy[32];

	return ipt_listing_policy(l, chain, policy, sizeof(policy)) && strcmp(policy, "ACCEPT");
}

/* What table filter l (legacy, family) blocks of network n into problem, and the commands that let
 * it through into fix; false for nothing. */
static bool legacy_judge(const struct ipt_listing *l, int family, const struct network *n, bool *ret_fwd,
			 char *problem, size_t psize, char *fix, size_t fsize)
{
	bool v6 = family == AF_INET6, fwd, in;
	const char *bin = v6 ? "ip6tables-legacy" : "iptables-legacy", *br = n->bridge;

	fwd = network_forwards(n) && blocks(l, "FORWARD") &&
	      !(accepts(l, fwd_chains[v6], 3, br, false) && accepts(l, fwd_chains[v6], 3, br, true));
	in = (n->dhcp.dhcp || n->dhcp.dns) && blocks(l, "INPUT") && !accepts(l, in_chains[v6], 2, br, false);
	if (!fwd && !in)
		return false;
	*ret_fwd = fwd;
	snprintf(
		problem, psize,
		"%s may be blocked by the iptables-legacy table %s filter (chain %s, policy drop; netd judges legacy "
		"tables by their policies and accept rules for the bridge only)",
		fwd ? (v6 ? "IPv6 forwarding" : "forwarding") : (v6 ? "DHCPv6 and DNS" : "DHCP and DNS"),
		v6 ? "ip6" : "ip", fwd ? "FORWARD" : "INPUT");
	if (fwd && ipt_listing_has_chain(l, "DOCKER-USER"))
		snprintf(fix, fsize, "%s -I DOCKER-USER -i %s -j ACCEPT && %s -I DOCKER-USER -o %s -j ACCEPT",
			 bin, br, bin, br);
	else if (ipt_listing_has_chain(l, v6 ? "ufw6-user-input" : "ufw-user-input"))
		snprintf(fix, fsize,
			 fwd ? "ufw route allow in on %s && ufw route allow out on %s" : "ufw allow in on %s",
			 br, br);
	else if (fwd)
		snprintf(fix, fsize, "%s -I FORWARD -i %s -j ACCEPT && %s -I FORWARD -o %s -j ACCEPT", bin,
			 br, bin, br);
	else
		snprintf(fix, fsize, "%s -I INPUT -i %s -j ACCEPT", bin, br);
	return true;
}

/* In auto: queue Docker's or ufw's legacy rules for network n where l shows them missing. */
static bool legacy_take(struct daemon *d, const struct ipt_listing *l, int family, struct net *n, bool fwd)
{
	struct fwint_net *s = slot_get(n);
	/* forwarding: Docker's chain comes first in FORWARD, ufw's after; input: ufw's */
	int m = fwd && ipt_listing_has_chain(l, ipt_manager_chain(IPT_DOCKER, family)) ? IPT_DOCKER : IPT_UFW;

	if (!s || !ipt_listing_has_chain(l, ipt_manager_chain(m, family)) || (m == IPT_UFW && !ufw_lock(d)))
		return false;
	s->by_netd[IPT_BACKEND_LEGACY][family == AF_INET6] |= 1u << m;
	return rules_ensure(d, IPT_BACKEND_LEGACY, family, m, n->def->bridge) > 0;
}

/* What the legacy tables block of network n (the first family that blocks) into problem and fix. */
static bool legacy_problem(struct daemon *d, const bool present[static 2], const struct net *n,
			   int *ret_family, bool *ret_fwd, char *problem, size_t psize, char *fix,
			   size_t fsize)
{
	if (!n->active || !n->def->mode->has_subnet)
		return false;
	for (int v6 = 0; v6 < 2; v6++) {
		int family = v6 ? AF_INET6 : AF_INET;
		const struct ipt_listing *l = present[v6] && has_family(n->def, family) ?
						      listing(d, IPT_BACKEND_LEGACY, family) :
						      NULL;

		if (l && legacy_judge(l, family, n->def, ret_fwd, problem, psize, fix, fsize)) {
			*ret_family = family;
			return true;
		}
	}
	return false;
}

/* Judge the legacy tables for every network, after adding what is missing in auto; each network's
 * problem is what still blocks it (logged when new). */
static void legacy_pass(struct daemon *d, bool integrate)
{
	struct fwint *f = FWI(d);
	bool present[2] = { fwint_ipt_legacy_present(d, AF_INET), fwint_ipt_legacy_present(d, AF_INET6) };
	bool queued = false;
	char problem[PROBLEM_MAX], fix[PROBLEM_MAX];
	bool fwd;
	int family;

	for (size_t i = 0; integrate && d->fw_integration == FWINT_AUTO && i < d->n_nets; i++)
		if (legacy_problem(d, present, d->nets[i], &family, &fwd, problem, sizeof(problem), fix,
				   sizeof(fix)))
			queued |= legacy_take(d, listing(d, IPT_BACKEND_LEGACY, family), family, d->nets[i],
					      fwd);
	if (queued) {
		queues_apply(d, IPT_BACKEND_LEGACY);
		listings_forget(f); /* list again: what the rules changed */
	}
	for (size_t i = 0; i < d->n_nets; i++) {
		struct net *n = d->nets[i];
		bool p = legacy_problem(d, present, n, &family, &fwd, problem, sizeof(problem), fix,
					sizeof(fix));
		struct fwint_net *s = p ? slot_get(n) : slot_peek(n);

		if (!s || (p && !strcmp(problem, s->legacy_problem) && !strcmp(fix, s->legacy_fix)))
			continue;
		if (p)
			log_obj(LOG_WARNING, LOG_OBJ(.network = n->def->name, .bridge = n->def->bridge),
				"bridge %s: %s; let it through: %s", n->def->bridge, problem, fix);
		snprintf(s->legacy_problem, sizeof(s->legacy_problem), "%s", p ? problem : "");
		snprintf(s->legacy_fix, sizeof(s->legacy_fix), "%s", p ? fix : "");
	}
	listings_forget(f);
}

void daemon_fwint_legacy_judge(struct daemon *d)
{
	if (FWI(d) && d->fw_integration != FWINT_OFF)
		legacy_pass(d, false);
}

int daemon_fwint_problem(struct daemon *d, const struct net *n, char *problem, size_t psize, char *fix,
			 size_t fsize)
{
	const struct fwint_net *s = FWI(d) ? slot_peek(n) : NULL;

	if (!s || !s->legacy_problem[0])
		return 0;
	snprintf(problem, psize, "%s", s->legacy_problem);
	snprintf(fix, fsize, "%s", s->legacy_fix);
	return 1;
}

int daemon_fwint_flush(struct daemon *d, bool legacy)
{
	struct fwint *f = FWI(d);
	bool changed = false;

	if (!f)
		return 0;
	changed |= queues_apply(d, IPT_BACKEND_NFT);
	if (d->firewalld.ops)
		changed |= binds_apply(d);
	listings_forget(f);
	if (legacy && d->fw_integration != FWINT_OFF)
		legacy_pass(d, true);
	ufw_unlock(f);
	f->zone_netd = -1; /* asked again in the next pass */
	f->firewalld_mute = false;
	return changed;
}

/* ---- the feature ---- */

static void on_firewalld(void *userdata)
{
	struct daemon *d = userdata;
	bool mute = false;
	int r;

	/* Its start, reload or stop changes its nftables tables too: the firewall's check follows
	 * them. Runtime bindings do not survive a restart of firewalld; the check binds again. */
	log_debug("firewalld started, reloaded or stopped");
	/* Each drops firewalld's runtime bindings (the check below binds again where one is needed),
	 * though the check that followed firewalld's own table changes may have bound them already. */
	for (size_t i = 0; i < d->n_nets; i++) {
		struct fwint_net *s = slot_peek(d->nets[i]);
		char zone[ZONE_MAX] = "", err[256];

		if (!s || !s->zone[0])
			continue;
		if (mute || !d->firewalld.ops->running(d->firewalld.userdata)) {
			s->zone[0] = 0;
			continue;
		}
		r = d->firewalld.ops->zone_of(d->firewalld.userdata, d->nets[i]->def->bridge, zone,
					      sizeof(zone), err, sizeof(err));
		mute = r == -ETIMEDOUT; /* a frozen firewalld: not asked once per network */
		if (r < 0 || strcmp(zone, s->zone))
			s->zone[0] = 0;
	}
	daemon_firewall_recheck(d);
}

static int fwint_init(struct daemon *d)
{
	struct fwint *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->ufw_lock_fd = -1;
	f->zone_netd = -1;
	*daemon_feature_state(d, &feature_fwint) = f;
	if (d->fw_integration == FWINT_AUTO && d->firewalld.ops) {
		r = d->firewalld.ops->open(d->firewalld.userdata, d->event, on_firewalld, d);
		if (r < 0)
			log_warning("firewall integration: cannot watch firewalld on the system bus: %s",
				    strerror(-r));
		else
			f->firewalld_open = true;
	}
	return 0;
}

static void fwint_done(struct daemon *d)
{
	struct fwint *f = FWI(d);

	if (!f)
		return;
	if (f->firewalld_open)
		d->firewalld.ops->close(d->firewalld.userdata);
	for (int b = 0; b < 2; b++)
		for (int v6 = 0; v6 < 2; v6++)
			queue_clear(&f->queue[b][v6]);
	listings_forget(f);
	ufw_unlock(f);
	sd_event_source_disable_unref(f->retry_timer);
	free(f->binds);
	free(f);
	for (size_t i = 0; i < d->n_nets; i++)
		slot_free(d->nets[i]);
	*daemon_feature_state(d, &feature_fwint) = NULL;
}

/* Whether table filter (b, family) may hold rules of netd's: the managers' chains are there. */
static bool table_has_managers(struct daemon *d, enum ipt_backend b, int family)
{
	const struct reach_ruleset *rs = daemon_reach_ruleset(d);

	if (b == IPT_BACKEND_LEGACY)
		return fwint_ipt_legacy_present(d, family);
	for (int m = 0; m < _IPT_MANAGER_MAX; m++)
		if (nft_has_manager(rs, family, m))
			return true;
	return false;
}

/* Remove what netd added for bridge from the managers' chains; while ufw runs, the sweep after it
 * does (a bridge that no longer runs). */
static void remove_rules(struct daemon *d, const char *bridge)
{
	struct fwint *f = FWI(d);

	if (!ufw_lock(d)) {
		f->sweep = true;
		return;
	}
	for (int b = 0; b < 2; b++)
		for (int v6 = 0; v6 < 2; v6++)
			if (table_has_managers(d, b, v6 ? AF_INET6 : AF_INET))
				rules_remove(d, b, v6 ? AF_INET6 : AF_INET, bridge);
	queues_apply(d, IPT_BACKEND_NFT);
	queues_apply(d, IPT_BACKEND_LEGACY);
	listings_forget(f);
	ufw_unlock(f);
}

static int fwint_down(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	struct fwint_net *s = slot_peek(n);
	char e[512] = "";

	if (!FWI(d) || d->fw_integration == FWINT_OFF || !n->def->mode->has_subnet)
		return 0;
	remove_rules(d, n->def->bridge);
	if (s && s->zone[0] && d->firewalld.ops && d->firewalld.ops->running(d->firewalld.userdata)) {
		if (d->firewalld.ops->unbind(d->firewalld.userdata, s->zone, n->def->bridge, e, sizeof(e)) <
		    0)
			log_obj(LOG_ERR, LOG_OBJ(.network = n->def->name, .bridge = n->def->bridge),
				"firewall integration: firewalld: cannot unbind %s from zone %s: %s",
				n->def->bridge, s->zone, e);
		else
			log_obj(LOG_NOTICE, LOG_OBJ(.network = n->def->name, .bridge = n->def->bridge),
				"firewall integration: firewalld: %s unbound from zone %s", n->def->bridge,
				s->zone);
	}
	slot_free(n);
	return 0;
}

/* What netd added for networks that no longer run goes; what it added for those that run is
 * theirs again (shown, removed with them). */
static void sweep(struct daemon *d)
{
	struct fwint *f = FWI(d);

	if (!ufw_lock(d)) {
		f->sweep = true;
		return;
	}
	f->sweep = false;
	for (int b = 0; b < 2; b++)
		for (int v6 = 0; v6 < 2; v6++) {
			int family = v6 ? AF_INET6 : AF_INET;
			const struct ipt_listing *l;

			if (!table_has_managers(d, b, family) || !(l = listing(d, b, family)))
				continue;
			for (size_t i = 0; i < l->n; i++) {
				char br[IFNAMSIZ];
				int m = line_manager(l->lines[i], family, br);
				struct fwint_net *s = m >= 0 && bridge_runs(d, br) ?
							      slot_get(daemon_net_find_bridge(d, br)) :
							      NULL;

				if (s && d->fw_integration == FWINT_AUTO)
					s->by_netd[b][v6] |= 1u << m;
			}
			rules_remove(d, b, family, NULL);
		}
	queues_apply(d, IPT_BACKEND_NFT);
	queues_apply(d, IPT_BACKEND_LEGACY);
	listings_forget(f);
	ufw_unlock(f);
}

/* After a start or reload (in report and off: every rule of netd's goes, from an earlier auto). */
static void fwint_settle(struct daemon *d)
{
	if (FWI(d))
		sweep(d);
}

static const char *fwint_problem(struct daemon *d, const struct net *n, const struct net_view *v, char *buf,
				 size_t size)
{
	const struct fwint_net *s = slot_peek(n);

	if (!s || !s->legacy_problem[0])
		return NULL;
	snprintf(buf, size, "%s", s->legacy_problem);
	return buf;
}

static void show_entry(json_object *a, const char *manager, const char *where)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "manager", json_object_new_string(manager));
	json_object_object_add(e, "where", json_object_new_string(where));
	json_object_object_add(e, "by", json_object_new_string("netd"));
	json_object_array_add(a, e);
}

static void fwint_show(struct daemon *d, const struct net *n, const struct net_view *v, json_object *o)
{
	const struct fwint_net *s = slot_peek(n);
	json_object *a;

	if (!n->def->mode->has_subnet)
		return;
	a = json_object_new_array();
	for (int b = 0; s && b < 2; b++)
		for (int v6 = 0; v6 < 2; v6++)
			for (int m = 0; m < _IPT_MANAGER_MAX; m++) {
				struct ipt_rule rules[IPT_RULES_MAX];
				size_t k = ipt_manager_rules(m, v6 ? AF_INET6 : AF_INET, rules);
				char where[160];
				int w;

				if (!(s->by_netd[b][v6] & (1u << m)))
					continue;
				w = snprintf(where, sizeof(where), "%s%s filter",
					     b == IPT_BACKEND_LEGACY ? "legacy " : "", v6 ? "ip6" : "ip");
				for (size_t i = 0; i < k; i++)
					if (!i || strcmp(rules[i].chain, rules[i - 1].chain))
						w += snprintf(where + w, sizeof(where) - w, "%s%s",
							      i ? ", " : " ", rules[i].chain);
				show_entry(a, ipt_manager_to_string(m), where);
			}
	if (s && s->zone[0]) {
		char where[96];

		snprintf(where, sizeof(where), "zone %s", s->zone);
		show_entry(a, "firewalld", where);
	}
	json_object_object_add(o, "firewall_integration", a);
}

static void fwint_show_key(struct daemon *d, const struct net *n, struct net_show_key *k)
{
	const struct fwint_net *s = slot_peek(n);
	struct fwint_net none = {};

	if (!s)
		s = &none;
	net_show_key_add(k, s->by_netd, sizeof(s->by_netd));
	net_show_key_add(k, s->zone, strlen(s->zone));
}

const struct feature feature_fwint = {
	.name = "fwint",
	.init = fwint_init,
	.done = fwint_done,
	.down = fwint_down,
	.problem = fwint_problem,
	.show = fwint_show,
	.show_key = fwint_show_key,
	.settle = fwint_settle,
};
