/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netd's nftables table, kept in step with the active networks (see nat/DESIGN.md):
 * - rendered from every active network whenever one starts or stops, applied only when it differs
 *   from what netd applied last, in one transaction (a failure leaves the previous rules);
 * - at start, a table whose marker matches is adopted as it is (kill -9 and restart disturb no
 *   traffic);
 * - changes by other processes (nft flush ruleset, a firewall reload) are seen on the nftables
 *   netlink group; netd checks its table's marker and re-applies when it is gone or emptied;
 * - what other tables do to each network's traffic (nat/reach.c: forwarding both ways, DHCP, DNS
 *   and neighbour discovery to the gateway) is reported per network. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "firewall.h"
#include "fwint.h"
#include "log.h"
#include "macro.h"
#include "reach.h"

extern const struct feature feature_firewall; /* this file's, at its end */

_Static_assert(NETWORK_HOST_PORTS_MAX + 1 <= FW_HOST_PORTS_MAX,
	       "a network's host ports and TFTP's udp/69 must fit the rules' facts");
_Static_assert(sizeof(((struct network *)0)->bridge) == sizeof(((struct fw_network *)0)->bridge) &&
		       sizeof(((struct network *)0)->uplink) == sizeof(((struct fw_network *)0)->uplink),
	       "interface names are copied whole");

/* Coalesce a burst of foreign transactions (a firewall reload is several) into one check, at most
 * this long after the first. */
#define CHECK_DELAY_USEC (50 * 1000)

#define FW_LENS_BITS (64 + 128)

/* A table that appeared less than this long ago and blocks a network is not reported yet: firewalld
 * replaces its tables on a reload and has a table inet firewalld_policy_drop (drop everything)
 * for the moment in between. When the grace ends, netd lists the tables again. */
#define GRACE_USEC (2 * 1000 * 1000)

/* When each table of the listing was first seen. */
struct seen_table {
	char family[8];
	char name[64];
	uint64_t since;
};

struct firewall {
	int monitor_fd;
	sd_event_source *monitor_source, *check_timer;
	char *marker; /* of the table netd wants in the kernel; NULL: nothing rendered yet */
	bool in_kernel; /* the kernel has it */
	/* What it is made of, in no order: each network's rules, its share of the marker and the network
	 * it is (compared, never followed), so that one network's sync changes its entry alone. */
	struct fw_network *nets;
	struct fw_share *shares;
	const struct net **owners;
	size_t n_nets, cap;
	struct fw_share sum; /* of the shares */
	unsigned lens_count[FW_LENS_BITS]; /* how many shares have each prefix length (share_len) */
	struct reach_ruleset *ruleset; /* the other tables, as the last scan listed them */
	unsigned ruleset_gen; /* counts the scans */
	struct reach_entry *reach; /* per network in the record, by bridge: what the checks found */
	size_t n_reach;
	char error[512]; /* the last apply error, "" when the kernel has the rules */
	bool walk_synced; /* synced once in this walk of daemon_reconcile_all(): settle() ends it */
	bool rescan; /* other tables may have changed since the last scan_blockers() */
	bool relisting; /* listing them again after the firewall integration changed them */
	uint64_t last_foreign_usec; /* when the monitor last saw another process's transaction */
	struct seen_table *seen; /* every table of the last listing */
	size_t n_seen;
	sd_event_source *grace_timer; /* a young table blocks a network: judge it again when it is old */
};

#define FW(d) ((struct firewall *)*daemon_feature_state((d), &feature_firewall))

static uint64_t now_usec(struct daemon *d)
{
	uint64_t now = 0;

	(void)sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	return now;
}

uint64_t daemon_firewall_quiet_usec(struct daemon *d)
{
	struct firewall *fw = FW(d);

	return fw && fw->last_foreign_usec ? now_usec(d) - fw->last_foreign_usec : UINT64_MAX;
}

static bool fw_wants(const struct network *n)
{
	return n->mode->has_subnet;
}

static enum fw_mode fw_mode_of(const struct network *n)
{
	return net_mode_fw(n);
}

/* What the reachability checks found for one network, kept until the network or the other tables
 * change: a sync evaluates only the networks that came or changed. */
struct reach_entry {
	struct fw_network w;
	unsigned serves; /* REACH_SERVES_* */
	unsigned gen; /* the scan it was evaluated against */
	char *problem; /* NULL: nothing blocks it */
	bool deferred; /* the problem is not logged yet: the firewall integration waits to act */
};

static int by_reach_bridge(const void *a, const void *b)
{
	return strcmp(((const struct reach_entry *)a)->w.bridge, ((const struct reach_entry *)b)->w.bridge);
}

static struct reach_entry *entry_find(struct firewall *fw, const char *bridge)
{
	struct reach_entry key;

	if (!fw->n_reach)
		return NULL;
	snprintf(key.w.bridge, sizeof(key.w.bridge), "%s", bridge);
	return bsearch(&key, fw->reach, fw->n_reach, sizeof(*fw->reach), by_reach_bridge);
}

static void entries_free(struct firewall *fw)
{
	for (size_t i = 0; i < fw->n_reach; i++)
		free(fw->reach[i].problem);
	free(fw->reach);
	fw->reach = NULL;
	fw->n_reach = 0;
}

static unsigned serves_of(const struct network *n)
{
	return (n->dhcp.dhcp ? REACH_SERVES_DHCP : 0) | (n->dhcp.dns ? REACH_SERVES_DNS : 0);
}

static const struct seen_table *seen_find(const struct firewall *fw, const char *family, const char *name)
{
	for (size_t i = 0; i < fw->n_seen; i++)
		if (!strcmp(fw->seen[i].family, family) && !strcmp(fw->seen[i].name, name))
			return &fw->seen[i];
	return NULL;
}

/* The tables of the new listing rs, each with when it was first seen (those of the first listing:
 * long ago). */
static void seen_update(struct daemon *d, const struct reach_ruleset *rs)
{
	struct firewall *fw = FW(d);
	size_t n = reach_ruleset_n_tables(rs);
	struct seen_table *next = calloc(n + 1, sizeof(*next));
	uint64_t now = now_usec(d);

	if (!next)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *family, *name;
		const struct seen_table *old;

		reach_ruleset_table(rs, i, &family, &name);
		old = seen_find(fw, family, name);
		snprintf(next[i].family, sizeof(next[i].family), "%s", family);
		snprintf(next[i].name, sizeof(next[i].name), "%s", name);
		next[i].since = old ? old->since : fw->ruleset ? now : 0;
	}
	free(fw->seen);
	fw->seen = next;
	fw->n_seen = n;
}

static int on_grace(sd_event_source *s, uint64_t usec, void *userdata)
{
	daemon_firewall_recheck(userdata);
	return 0;
}

/* Whether the table appeared within the grace; if so the check comes back when it ends. */
static bool table_young(struct daemon *d, const char *family, const char *name)
{
	struct firewall *fw = FW(d);
	const struct seen_table *t = seen_find(fw, family, name);
	uint64_t now = now_usec(d);
	int r;

	if (d->fw_no_grace || !t || !t->since || now >= t->since + GRACE_USEC)
		return false;
	if (!fw->grace_timer)
		r = sd_event_add_time(d->event, &fw->grace_timer, CLOCK_MONOTONIC, t->since + GRACE_USEC,
				      1000, on_grace, d);
	else
		r = sd_event_source_set_time(fw->grace_timer, t->since + GRACE_USEC);
	if (r >= 0)
		r = sd_event_source_set_enabled(fw->grace_timer, SD_EVENT_ONESHOT);
	if (r < 0) {
		log_error("nftables: cannot arm the grace timer of table %s %s: %s", family, name,
			  strerror(-r));
		return false;
	}
	log_debug("nftables: table %s %s is new; judged again in %" PRIu64 " ms unless it goes", family, name,
		  (t->since + GRACE_USEC - now) / 1000);
	return true;
}

/* Evaluate network w (net's) against the other tables into e; log the failure when it is new (old:
 * what the network had before, NULL). When the firewall integration takes it (integrate), nothing is
 * reported yet: the tables are listed again after daemon_fwint_flush(). */
static void entry_eval(struct daemon *d, const struct net *net, const struct fw_network *w, unsigned serves,
		       const char *old, bool integrate, struct reach_entry *e)
{
	struct firewall *fw = FW(d);
	struct reach_check checks[REACH_CHECKS_MAX];
	const struct reach_check *c;
	char problem[640], advice[384];
	size_t n = reach_network_checks(fw->ruleset, w, serves, checks);
	int r;

	*e = (struct reach_entry){ .w = *w, .serves = serves, .gen = fw->ruleset_gen };
	c = reach_checks_first_failure(checks, n);
	if (!c) {
		daemon_fwint_passed(d, net);
		return;
	}
	r = integrate ? daemon_fwint_take(d, net, fw->ruleset, c) : 0;
	if (r == FWINT_TAKEN || table_young(d, c->result.base.family, c->result.base.table)) {
		e->gen = 0; /* evaluated again, whatever comes */
		return;
	}
	reach_check_problem(c, problem, sizeof(problem));
	e->problem = strdup(problem);
	if (r == FWINT_DEFERRED) { /* shown now, logged when the integration could not help */
		e->gen = 0;
		e->deferred = true;
		return;
	}
	if (old && !strcmp(old, problem))
		return;
	log_obj(LOG_WARNING, LOG_OBJ(.network = net ? net->def->name : NULL, .bridge = w->bridge),
		"bridge %s: %s; %s", w->bridge, problem,
		reach_check_advice(fw->ruleset, c, w->bridge, advice, sizeof(advice)));
}

static void scan_blockers(struct daemon *d);

/* After the firewall integration's pass: when it changed other tables, list them again (once). */
static void integration_flush(struct daemon *d)
{
	struct firewall *fw = FW(d);

	if (daemon_fwint_flush(d, !fw->relisting) > 0 && !fw->relisting) {
		fw->relisting = true;
		scan_blockers(d);
		fw->relisting = false;
	}
}

/* What the other tables listed last do to each network: evaluated for the networks that came or
 * changed since (all of them after a scan), each new block logged once with the way to lift it
 * (or, first, handed to the firewall integration). */
static void report_blockers(struct daemon *d)
{
	struct firewall *fw = FW(d);
	struct reach_entry *next;

	/* netd --firewall-integration off: other tables are not judged */
	if (d->fw_integration == FWINT_OFF || !reach_ruleset_has_hooks(fw->ruleset)) {
		/* nothing filters: no need to look at the networks */
		entries_free(fw);
		integration_flush(d);
		return;
	}
	next = calloc(fw->n_nets + 1, sizeof(*next));
	if (!next)
		return;
	for (size_t j = 0; j < fw->n_nets; j++) {
		const struct fw_network *w = &fw->nets[j];
		unsigned serves = serves_of(fw->owners[j]->def);
		struct reach_entry *old = entry_find(fw, w->bridge);

		if (old && old->gen == fw->ruleset_gen && old->serves == serves &&
		    fw_network_equal(&old->w, w)) {
			next[j] = *old;
			old->problem = NULL; /* moved */
			continue;
		}
		entry_eval(d, fw->owners[j], w, serves, old && !old->deferred ? old->problem : NULL,
			   !fw->relisting, &next[j]);
	}
	entries_free(fw);
	qsort(next, fw->n_nets, sizeof(*next), by_reach_bridge);
	fw->reach = next;
	fw->n_reach = fw->n_nets;
	integration_flush(d);
}

/* List the other tables again, then report what they block. netd's own transactions cannot change
 * them: this is done at start, after a transaction by another process (on_check), after a failed
 * apply, and always when netd cannot watch the ruleset. */
static void scan_blockers(struct daemon *d)
{
	struct firewall *fw = FW(d);
	_cleanup_free_ char *json = NULL;
	struct reach_ruleset *rs;
	int r;

	if (d->nft.ops->ruleset(d->nft.userdata, &json) < 0)
		return;
	r = reach_ruleset_parse(json, &rs);
	if (r < 0) {
		log_warning("nftables: cannot read the other tables' listing: %s", strerror(-r));
		return;
	}
	seen_update(d, rs);
	reach_ruleset_free(fw->ruleset);
	fw->ruleset = rs;
	fw->ruleset_gen++;
	fw->rescan = false;
	report_blockers(d);
}

void daemon_firewall_recheck(struct daemon *d)
{
	if (!FW(d) || !d->nft.ops)
		return;
	FW(d)->rescan = true;
	scan_blockers(d);
}

const struct reach_ruleset *daemon_reach_ruleset(struct daemon *d)
{
	return FW(d) ? FW(d)->ruleset : NULL;
}

static void monitor_drain(struct daemon *d);

int daemon_reach_network(struct daemon *d, const struct net *net, char *problem, size_t psize, char *advice,
			 size_t asize)
{
	struct firewall *fw = FW(d);
	struct reach_check checks[REACH_CHECKS_MAX];
	const struct reach_check *c;
	const struct fw_network *w = NULL;
	size_t n;

	if (!fw || !d->nft.ops)
		return -ENOENT;
	/* as a sync does: what the monitor has seen first, and always without a monitor */
	if (fw->monitor_source)
		monitor_drain(d);
	if (fw->rescan || !fw->monitor_source || !fw->ruleset)
		scan_blockers(d);
	for (size_t j = 0; !w && j < fw->n_nets; j++)
		if (fw->owners[j] == net)
			w = &fw->nets[j];
	if (!fw->ruleset || !w)
		return -ENOENT;
	n = reach_network_checks(fw->ruleset, w, serves_of(net->def), checks);
	c = reach_checks_first_failure(checks, n);
	if (!c)
		return 0;
	reach_check_problem(c, problem, psize);
	reach_check_fix(fw->ruleset, c, w->bridge, advice, asize);
	return 1;
}

static void enable_forwarding(struct daemon *d, const struct network *n)
{
	char v[16];
	int r = d->link.ops->sysctl_get(d->link.userdata, AF_INET, "all", "forwarding", v, sizeof(v));

	if (r >= 0 && !strcmp(v, "1"))
		return;
	r = d->link.ops->sysctl_set(d->link.userdata, AF_INET, "all", "forwarding", "1");
	if (r < 0)
		log_net(LOG_ERR, n->name,
			"network '%s': cannot enable IPv4 forwarding (net.ipv4.conf.all.forwarding): %s",
			n->name, strerror(-r));
	else
		log_net(LOG_NOTICE, n->name,
			"enabled IPv4 forwarding (net.ipv4.ip_forward=1) for network '%s'", n->name);
}

/* Apply the whole table of nets (marker: its marker) unless check_kernel and the kernel has it. */
static int fw_apply(struct daemon *d, const struct fw_network *nets, size_t n, const char *marker,
		    bool check_kernel, char *err, size_t errlen)
{
	struct firewall *fw = FW(d);
	_cleanup_free_ char *script = NULL, *rendered = NULL;
	char have[128] = "";
	int r;

	if (check_kernel) {
		r = fw_kernel_marker(&d->nft, have, sizeof(have));
		if (r >= 0 && !strcmp(have, marker)) {
			if (!fw->in_kernel && marker[0])
				log_info("adopted nftables table %s %s (%s)", FW_FAMILY, FW_TABLE, marker);
			fw->in_kernel = true;
			return 0;
		}
		if (r == -ENOENT && !marker[0]) {
			fw->in_kernel = true;
			return 0;
		}
	}
	script = fw_render(nets, n, &rendered);
	if (!script || !rendered) {
		snprintf(err, errlen, "out of memory rendering table %s %s", FW_FAMILY, FW_TABLE);
		snprintf(fw->error, sizeof(fw->error), "%s", err);
		return -ENOMEM;
	}
	r = d->nft.ops->apply(d->nft.userdata, script, err, errlen);
	if (r < 0) {
		snprintf(fw->error, sizeof(fw->error), "%s", err);
		return r;
	}
	fw->error[0] = 0;
	fw->in_kernel = true;
	log_debug("nftables: applied table %s %s (%s)", FW_FAMILY, FW_TABLE, marker[0] ? marker : "removed");
	return 0;
}

/* The difference alone (a network came, went or changed: its set elements and the marker), in one
 * small transaction instead of the whole table: the cost of a network's start or stop does not
 * grow with the number of networks. -EAGAIN when it cannot be a change (the table comes or goes),
 * or any failure (the kernel's table is not what netd thinks): then the whole table. */
static int apply_rendered_change(struct daemon *d, const char *change, const struct fw_elem *elems,
				 size_t n_elems, const char *new_marker)
{
	struct firewall *fw = FW(d);
	char err[512];
	int r = -E2BIG;

	if (!change || !change[0])
		return -EAGAIN;
	/* As elements, in a netlink batch of netd's own: libnftables would first read the ruleset
	 * (and the elements of every interval set in it, another firewall's too) into its cache. */
	if (d->nft.ops->apply_elems)
		r = d->nft.ops->apply_elems(d->nft.userdata, elems, n_elems, err, sizeof(err));
	if (r == -E2BIG)
		r = d->nft.ops->apply(d->nft.userdata, change, err, sizeof(err));
	if (r < 0) {
		log_warning("nftables: a change of table %s %s did not apply (%s); applying the whole table",
			    FW_FAMILY, FW_TABLE, err);
		fw->rescan = true; /* someone else changed the ruleset */
		return r;
	}
	fw->error[0] = 0;
	fw->in_kernel = true;
	log_debug("nftables: changed table %s %s (%s)", FW_FAMILY, FW_TABLE, new_marker);
	return 0;
}

static int apply_change(struct daemon *d, const struct fw_network *old, size_t n_old, const char *old_marker,
			const struct fw_network *new, size_t n_new, const char *new_marker)
{
	_cleanup_free_ struct fw_elem *elems = NULL;
	size_t n_elems = 0;
	_cleanup_free_ char *change =
		fw_render_change_elems(old, n_old, old_marker, new, n_new, new_marker, &elems, &n_elems);

	return apply_rendered_change(d, change, elems, n_elems, new_marker);
}

static int by_net_bridge(const void *a, const void *b)
{
	return strcmp((*(const struct net *const *)a)->def->bridge,
		      (*(const struct net *const *)b)->def->bridge);
}

static int by_fw_bridge(const void *a, const void *b)
{
	const struct fw_network *const *x = a, *const *y = b;

	return strcmp((*x)->bridge, (*y)->bridge);
}

/* The shares of nets (sorted by bridge), taken from the last sync's for the networks that did not
 * change: only the networks that came or changed are rendered. */
static int fw_shares(const struct firewall *fw, const struct fw_network *nets, size_t n,
		     struct fw_share *shares, struct fw_share *sum)
{
	_cleanup_free_ const struct fw_network **old = calloc(fw->n_nets + 1, sizeof(*old));
	size_t j = 0;
	int r;

	if (!old)
		return -ENOMEM;
	for (size_t i = 0; i < fw->n_nets; i++)
		old[i] = &fw->nets[i];
	qsort(old, fw->n_nets, sizeof(*old), by_fw_bridge);
	*sum = (struct fw_share){};
	for (size_t i = 0; i < n; i++) {
		int c = 1;

		while (j < fw->n_nets && (c = strcmp(old[j]->bridge, nets[i].bridge)) < 0)
			j++;
		if (c == 0 && fw_network_equal(old[j], &nets[i])) {
			shares[i] = fw->shares[old[j] - fw->nets];
		} else {
			r = fw_network_share(&nets[i], &shares[i]);
			if (r < 0)
				return r;
		}
		fw_share_add(sum, &shares[i]);
	}
	return 0;
}

/* Read the nftables notifications that are waiting: a transaction by another process means other
 * tables may have changed (scan them again) and netd's table too (check it, a little later). */
static void monitor_drain(struct daemon *d)
{
	struct firewall *fw = FW(d);
	int r = d->nft.ops->monitor_read(d->nft.userdata, fw->monitor_fd, getpid());

	if (r < 0)
		log_warning("nftables monitor: %s", strerror(-r));
	if (r != 0) {
		int enabled = SD_EVENT_OFF;

		fw->rescan = true;
		fw->last_foreign_usec = now_usec(d);
		/* A burst of changes (a firewall reload is several) gives one check, due CHECK_DELAY_USEC
		 * after its first change whatever follows: a timer pushed back by every change would wait
		 * for a steady stream of them to stop. A change of netd's own tables (nft flush ruleset)
		 * is checked at once: until then its NAT is gone. */
		(void)sd_event_source_get_enabled(fw->check_timer, &enabled);
		if (enabled != SD_EVENT_OFF && r != 2)
			return;
		r = sd_event_source_set_time_relative(fw->check_timer, r == 2 ? 0 : CHECK_DELAY_USEC);
		if (r >= 0)
			r = sd_event_source_set_enabled(fw->check_timer, SD_EVENT_ONESHOT);
		if (r < 0)
			log_error("nftables monitor: cannot arm the check: %s", strerror(-r));
	}
}

static bool tftp_port_given(const struct network *w)
{
	for (size_t i = 0; i < w->n_host_ports; i++)
		if (w->host_ports[i].proto == IPPROTO_UDP && w->host_ports[i].port == 69)
			return true;
	return false;
}

static void fw_network_of(const struct network *w, struct fw_network *ret)
{
	*ret = (struct fw_network){ .subnet = w->subnet, /* family 0: IPv6 only */
				    .gateway = w->gateway,
				    .subnet6 = w->subnet6, /* family 0: no IPv6 */
				    .gateway6 = w->gateway6,
				    .nat6 = w->nat6, /* resolved by network_fill_defaults */
				    .mode = fw_mode_of(w),
				    .n_host_ports = w->n_host_ports };
	memcpy(ret->bridge, w->bridge, sizeof(ret->bridge)); /* both IFNAMSIZ, terminated */
	memcpy(ret->uplink, w->uplink, sizeof(ret->uplink));
	memcpy(ret->host_ports, w->host_ports, w->n_host_ports * sizeof(w->host_ports[0]));
	_Static_assert(NETWORK_ADDRESSES_MAX <= FW_ADDRESSES_MAX, "room for every address");
	ret->n_addresses = w->n_addresses;
	memcpy(ret->addresses, w->addresses, w->n_addresses * sizeof(w->addresses[0]));
	/* dnsmasq's TFTP (--tftp-root) on the gateway: its port 69; a transfer's own port is the
	 * reply side of dnsmasq's first datagram (ct state established). */
	if (w->dhcp.tftp_root[0] && w->dhcp.dhcp && !tftp_port_given(w)) /* room: the assert above */
		ret->host_ports[ret->n_host_ports++] = (struct l4_port){ .proto = IPPROTO_UDP, .port = 69 };
}

/* The prefix lengths of a share as one bit each: IPv4's 64 (lens), then IPv6's 128 (lens6). */
static bool share_len(const struct fw_share *s, unsigned l)
{
	uint64_t w = l < 64 ? s->lens : s->lens6[(l - 64) / 64];

	return w & (UINT64_C(1) << (l % 64));
}

static void count_lens(unsigned lens_count[static FW_LENS_BITS], const struct fw_share *s, int delta)
{
	for (unsigned l = 0; l < FW_LENS_BITS; l++)
		if (share_len(s, l))
			lens_count[l] += delta;
}

/* sum's lengths in use: those some share has. */
static void lens_in_use(const unsigned lens_count[static FW_LENS_BITS], struct fw_share *sum)
{
	sum->lens = sum->lens6[0] = sum->lens6[1] = 0;
	for (unsigned l = 0; l < FW_LENS_BITS; l++) {
		uint64_t *w = l < 64 ? &sum->lens : &sum->lens6[(l - 64) / 64];

		if (lens_count[l])
			*w |= UINT64_C(1) << (l % 64);
	}
}

static bool same_lens(const struct fw_share *a, const struct fw_share *b)
{
	return a->lens == b->lens && a->lens6[0] == b->lens6[0] && a->lens6[1] == b->lens6[1];
}

/* The record of what the table is made of becomes nets, shares and owners (n of each; taken). */
static void record_take(struct firewall *fw, struct fw_network **nets, struct fw_share **shares,
			const struct net ***owners, size_t n, const struct fw_share *sum)
{
	free(fw->nets);
	free(fw->shares);
	free(fw->owners);
	fw->nets = TAKE_PTR(*nets);
	fw->shares = TAKE_PTR(*shares);
	fw->owners = TAKE_PTR(*owners);
	fw->n_nets = n;
	fw->cap = n + 1; /* each was allocated with room for one more */
	fw->sum = *sum;
	memset(fw->lens_count, 0, sizeof(fw->lens_count));
	for (size_t i = 0; i < n; i++)
		count_lens(fw->lens_count, &fw->shares[i], 1);
}

/* After a sync: the other tables listed last still tell whether the networks are blocked, unless
 * another process made a transaction since (its notification is queued by now: the kernel sends it
 * before that transaction returns). */
static void blockers_after_sync(struct daemon *d)
{
	struct firewall *fw = FW(d);

	if (fw->monitor_source)
		monitor_drain(d);
	if (fw->rescan || !fw->monitor_source)
		scan_blockers(d);
	else
		report_blockers(d);
}

/* Work out the table from every active network and apply it when it differs: the marker from the
 * networks' shares, the change as the elements of the networks that changed. */
static int firewall_sync(struct daemon *d, char *err, size_t errlen)
{
	struct firewall *fw = FW(d);
	_cleanup_free_ struct fw_network *nets = calloc(d->n_nets + 1, sizeof(*nets));
	_cleanup_free_ const struct net **act = calloc(d->n_nets + 1, sizeof(*act));
	_cleanup_free_ struct fw_share *shares = NULL;
	_cleanup_free_ char *marker = NULL;
	const struct network *forwarder = NULL;
	struct fw_share sum;
	char m[FW_MARKER_MAX];
	size_t n = 0;
	int r;

	if (!nets || !act)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_nets; i++) {
		const struct network *w = d->nets[i]->def;

		if (!d->nets[i]->active || !fw_wants(w))
			continue;
		act[n++] = d->nets[i];
		if (network_forwards(w))
			forwarder = w;
	}
	/* Sorted by bridge (pointers: a fw_network is ~350 bytes to move). */
	qsort(act, n, sizeof(*act), by_net_bridge);
	for (size_t i = 0; i < n; i++)
		fw_network_of(act[i]->def, &nets[i]);
	if (!fw) {
		if (!forwarder)
			return 0;
		snprintf(err, errlen, "network '%s' needs nftables, which netd could not open (see its log)",
			 forwarder->name);
		return -EOPNOTSUPP;
	}
	shares = calloc(n + 1, sizeof(*shares));
	if (!shares)
		return -ENOMEM;
	r = fw_shares(fw, nets, n, shares, &sum);
	if (r >= 0)
		r = fw_marker(&sum, n, m, sizeof(m));
	if (r < 0) {
		snprintf(err, errlen, "cannot render table %s %s: %s", FW_FAMILY, FW_TABLE, strerror(-r));
		return r;
	}
	if (fw->marker && fw->in_kernel && !strcmp(m, fw->marker)) {
		record_take(fw, &nets, &shares, &act, n, &sum); /* the same table: its owners may differ */
		return 0;
	}
	marker = strdup(m);
	if (!marker)
		return -ENOMEM;

	bool first = !fw->marker;

	r = -EAGAIN;
	if (!first && fw->in_kernel && fw->marker[0])
		r = apply_change(d, fw->nets, fw->n_nets, fw->marker, nets, n, marker);
	if (r < 0)
		r = fw_apply(d, nets, n, marker, first, err, errlen);
	if (r < 0) {
		char msg[512];

		/* The kernel kept the previous rules, or a change's answers were lost after it
		 * committed: netd keeps its record, not trusted until a whole apply succeeds. */
		fw->rescan = true;
		fw->in_kernel = false;
		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errlen, "cannot apply nftables rules: %s", msg);
		return r;
	}
	free(fw->marker);
	fw->marker = TAKE_PTR(marker);
	if (forwarder)
		enable_forwarding(d, forwarder);
	record_take(fw, &nets, &shares, &act, n, &sum);
	blockers_after_sync(d);
	return 0;
}

static int fw_reserve(struct firewall *fw, size_t n)
{
	size_t cap = 2 * n;
	struct fw_network *nets;
	struct fw_share *shares;
	const struct net **owners;

	if (n <= fw->cap)
		return 0;
	nets = reallocarray(fw->nets, cap, sizeof(*nets));
	if (nets)
		fw->nets = nets;
	shares = reallocarray(fw->shares, cap, sizeof(*shares));
	if (shares)
		fw->shares = shares;
	owners = reallocarray(fw->owners, cap, sizeof(*owners));
	if (owners)
		fw->owners = owners;
	if (!nets || !shares || !owners)
		return -ENOMEM;
	fw->cap = cap;
	return 0;
}

/*
 * The sync when one network came, went or got another definition: its entry of the record alone
 * changes, the marker follows from the sum of the shares with its share exchanged, and the change
 * is made of its elements alone (fw_render_change_only), what firewall_sync would give for the
 * table of every network, without looking at the others. The whole sync when the table comes or
 * goes, when the prefix lengths in use change (the rules change), when the kernel's table is not
 * known to be netd's, and when the change fails.
 */
static int firewall_sync_one(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	struct firewall *fw = FW(d);
	const struct network *def = n->def;
	bool want = n->active && fw_wants(def), had;
	_cleanup_free_ struct fw_elem *elems = NULL;
	_cleanup_free_ char *change = NULL, *marker = NULL;
	struct fw_share share = {}, sum;
	unsigned lens_count[FW_LENS_BITS];
	struct fw_network w;
	char m[FW_MARKER_MAX];
	size_t j = 0, n_new, n_elems = 0;
	int r;

	if (!fw || !fw->marker || !fw->marker[0] || !fw->in_kernel)
		return firewall_sync(d, err, errlen);
	while (j < fw->n_nets && fw->owners[j] != n) /* pointers side by side: no network is read */
		j++;
	had = j < fw->n_nets;
	if (!want && !had)
		return 0;
	if (want) {
		fw_network_of(def, &w);
		if (had && fw_network_equal(&fw->nets[j], &w))
			return 0;
		r = fw_network_share(&w, &share);
		if (r >= 0)
			r = fw_reserve(fw, fw->n_nets + 1);
		if (r < 0) {
			snprintf(err, errlen, "cannot render table %s %s: %s", FW_FAMILY, FW_TABLE,
				 strerror(-r));
			return r;
		}
	}
	n_new = fw->n_nets - had + want;
	if (n_new == 0)
		return firewall_sync(d, err, errlen); /* the table goes */
	sum = fw->sum;
	memcpy(lens_count, fw->lens_count, sizeof(lens_count));
	if (had) {
		sum.hash -= fw->shares[j].hash;
		sum.objects -= fw->shares[j].objects;
		count_lens(lens_count, &fw->shares[j], -1);
	}
	fw_share_add(&sum, &share);
	count_lens(lens_count, &share, 1);
	lens_in_use(lens_count, &sum);
	if (!same_lens(&sum, &fw->sum))
		return firewall_sync(d, err, errlen); /* the rules change */
	r = fw_marker(&sum, n_new, m, sizeof(m));
	if (r < 0) {
		snprintf(err, errlen, "cannot render table %s %s: %s", FW_FAMILY, FW_TABLE, strerror(-r));
		return r;
	}
	if (strcmp(m, fw->marker)) {
		marker = strdup(m);
		change = fw_render_change_only(had ? &fw->nets[j] : NULL, had, fw->marker, want ? &w : NULL,
					       want, m, &elems, &n_elems);
		if (!marker || !change) {
			snprintf(err, errlen, "out of memory rendering table %s %s", FW_FAMILY, FW_TABLE);
			return -ENOMEM;
		}
		if (apply_rendered_change(d, change, elems, n_elems, m) < 0) {
			fw->in_kernel = false; /* the whole table, not the change again */
			return firewall_sync(d, err, errlen);
		}
		free(fw->marker);
		fw->marker = TAKE_PTR(marker);
	}
	if (want) {
		if (!had)
			j = fw->n_nets++;
		fw->nets[j] = w;
		fw->shares[j] = share;
		fw->owners[j] = n;
	} else {
		fw->n_nets--;
		fw->nets[j] = fw->nets[fw->n_nets];
		fw->shares[j] = fw->shares[fw->n_nets];
		fw->owners[j] = fw->owners[fw->n_nets];
	}
	fw->sum = sum;
	memcpy(fw->lens_count, lens_count, sizeof(lens_count));
	if (want && network_forwards(def))
		enable_forwarding(d, def);
	blockers_after_sync(d);
	return 0;
}

static int on_check(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	struct firewall *fw = FW(d);
	char have[128] = "", err[512];
	int r;

	if (!fw->marker)
		return 0;
	daemon_trim_later(d);
	r = fw_kernel_marker(&d->nft, have, sizeof(have));
	if (!(r == -ENOENT && !fw->marker[0]) && !(r >= 0 && !strcmp(have, fw->marker))) {
		log_warning("nftables: table %s %s was %s by another process; re-applying it", FW_FAMILY,
			    FW_TABLE, r == -ENOENT ? "removed" : "changed");
		fw->in_kernel = false;
		if (fw_apply(d, fw->nets, fw->n_nets, fw->marker, false, err, sizeof(err)) < 0)
			log_error("nftables: cannot re-apply table %s %s: %s", FW_FAMILY, FW_TABLE, err);
	}
	scan_blockers(d);
	daemon_portsec_check(d);
	daemon_forward_check(d);
	return 0;
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	monitor_drain(userdata);
	return 0;
}

static void firewall_done(struct daemon *d);

static int firewall_init(struct daemon *d)
{
	struct firewall *fw = calloc(1, sizeof(*fw));
	int r;

	if (!fw)
		return -ENOMEM;
	fw->monitor_fd = -1;
	fw->rescan = true;
	if (!d->nft.ops) {
		log_warning(
			"nftables: cannot create a libnftables context; nat and routed networks will not start");
		free(fw);
		return 0;
	}
	fw->monitor_fd = d->nft.ops->monitor_open(d->nft.userdata);
	if (fw->monitor_fd < 0) {
		log_warning(
			"nftables: cannot watch for ruleset changes (%s); rules flushed by others will not be "
			"restored until the next change",
			strerror(-fw->monitor_fd));
	} else {
		r = sd_event_add_io(d->event, &fw->monitor_source, fw->monitor_fd, EPOLLIN, on_monitor, d);
		if (r < 0)
			log_warning("nftables monitor: %s", strerror(-r));
	}
	/* Accuracy 1 us: sd-event's default (0) lets a timer slip up to 250 ms, to a common wake-up
	 * point; it held a re-apply back 100-250 ms. */
	r = sd_event_add_time_relative(d->event, &fw->check_timer, CLOCK_MONOTONIC, CHECK_DELAY_USEC, 1,
				       on_check, d);
	if (r >= 0)
		r = sd_event_source_set_enabled(fw->check_timer, SD_EVENT_OFF);
	if (r < 0) {
		log_error("nftables: cannot create the check timer: %s", strerror(-r));
		*daemon_feature_state(d, &feature_firewall) = fw;
		firewall_done(d);
		return r;
	}
	*daemon_feature_state(d, &feature_firewall) = fw;
	return 0;
}

static void firewall_done(struct daemon *d)
{
	struct firewall *fw = FW(d);

	if (!fw)
		return;
	sd_event_source_disable_unref(fw->monitor_source);
	sd_event_source_disable_unref(fw->check_timer);
	sd_event_source_disable_unref(fw->grace_timer);
	free(fw->seen);
	if (fw->monitor_fd >= 0)
		close(fw->monitor_fd);
	reach_ruleset_free(fw->ruleset);
	entries_free(fw);
	free(fw->nets);
	free(fw->shares);
	free(fw->owners);
	free(fw->marker);
	free(fw);
	*daemon_feature_state(d, &feature_firewall) = NULL;
}

const struct fw_backend *daemon_nft(struct daemon *d)
{
	return FW(d) && d->nft.ops ? &d->nft : NULL;
}

int daemon_nft_apply(struct daemon *d, const char *script, char *err, size_t errlen)
{
	const struct fw_backend *nft = daemon_nft(d);

	if (!nft) {
		snprintf(err, errlen, "nftables is not available to netd");
		return -EOPNOTSUPP;
	}
	return nft->ops->apply(nft->userdata, script, err, errlen);
}

static const char *firewall_problem(struct daemon *d, const struct net *net, const struct net_view *v,
				    char *buf, size_t size)
{
	struct firewall *fw = FW(d);
	const struct network *n = net->def;
	const struct reach_entry *e;

	if (!fw_wants(n))
		return NULL;
	if (!fw) {
		if (!network_forwards(n))
			return NULL;
		snprintf(buf, size, "nftables is not available to netd");
		return buf;
	}
	if (fw->error[0]) {
		snprintf(buf, size, "nftables rules not applied: %s", fw->error);
		return buf;
	}
	e = entry_find(fw, n->bridge);
	if (!e || !e->problem)
		return NULL;
	snprintf(buf, size, "%s", e->problem);
	return buf;
}

static int firewall_up(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	struct firewall *fw = FW(d);
	int r;

	/* In a walk of every network (a restart) the active flags were all set before it began: the
	 * first sync renders the table of them all (and adopts it), and each further one would only
	 * render the same 1000 networks again. settle() syncs once more at the end. */
	if (d->reconciling_all && fw && fw->walk_synced)
		return 0;
	r = d->reconciling_all ? firewall_sync(d, err, errlen) : firewall_sync_one(d, n, err, errlen);
	if (d->reconciling_all && fw)
		fw->walk_synced = true;
	return r;
}

static void firewall_settle(struct daemon *d)
{
	char err[512];

	if (FW(d))
		FW(d)->walk_synced = false;
	/* With no network at all nothing synced: a table left from before goes now. */
	if (firewall_sync(d, err, sizeof(err)) < 0)
		log_error("%s", err);
}

const struct feature feature_firewall = {
	.name = "firewall",
	.init = firewall_init,
	.done = firewall_done,
	.up = firewall_up,
	.down = firewall_up, /* the same: the table is rendered from the networks that run */
	.problem = firewall_problem,
	.settle = firewall_settle,
};
