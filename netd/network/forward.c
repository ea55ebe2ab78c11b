/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Port forwards into NAT guests (the forward feature): table inet netd_fwd (nat/forward.h) holds
 * one map element per forwarded port of every running network, and netd keeps it in step:
 *
 * - A network's elements are worked out from its definition's forwards (n->def->forwards) and,
 *   for a forward to a name, the name's current address: a guest of that name with a NIC on the
 *   network (a user: its MAC) leased or reserved that address; else the address of a reservation
 *   of that name (--host MAC,IP,NAME). Never a DHCP client's hostname: a guest chooses it.
 * - up() (a start, a changed definition, an adoption), a lease event and a guest's NIC that
 *   registers (user_add) recompute the network's elements and apply only the difference, one
 *   small transaction; down() deletes the network's elements. The first element makes the table,
 *   the last one removes it.
 * - While netd starts (daemon_reconcile_all), the elements are only recorded; settle() applies the
 *   whole table in one transaction, replacing what a killed netd left (nothing duplicated or
 *   lost; an identical table replaced atomically disturbs no connection: conntrack keeps them).
 * - After another process's nftables change (the firewall's monitor), the table is checked (its
 *   marker, rule and element counts) and re-applied whole when it is gone or changed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon.h"
#include "firewall.h"
#include "forward.h"
#include "lease.h"
#include "log.h"
#include "macro.h"
#include "server.h"

extern const struct feature feature_forward; /* this file's, at its end */

struct fwd_net {
	struct nat_fwd_elem *elems; /* sorted: what the kernel has of this network */
	size_t n;
	size_t n_snat; /* --nat-address, --nat-ports: rules of the table, one per IPv4 subnet */
	struct nat_snat snat[NETWORK_SUBNETS4_MAX];
};

struct fwd {
	bool started; /* after the first settle(): changes go to the kernel at once */
	bool in_kernel; /* the table is as netd last applied it */
	size_t total; /* elements of every network */
	size_t n_snats; /* networks with source NAT rules, as last applied */
	bool table; /* the last whole apply made the table (rather than removing it) */
};

#define FWD(d) ((struct fwd *)*daemon_feature_state((d), &feature_forward))
#define SLOT(n) ((struct fwd_net **)net_slot((n), &feature_forward))

static int elem_cmp(const void *a, const void *b)
{
	return nat_fwd_elem_cmp(a, b);
}

static bool lease_newer(const struct dhcp_lease *a, const struct dhcp_lease *b)
{
	return !b || !a->expiry || (b->expiry && a->expiry > b->expiry);
}

/* The address of a reservation, of f's family: 1 when it has one. */
static int host_address(const struct dhcp_host *h, const struct nat_forward *f, union in_addr_union *ret)
{
	if (h && f->family == AF_INET && h->has_ip) {
		*ret = h->ip;
		return 1;
	}
	if (h && f->family == AF_INET6 && h->has_ip6) {
		*ret = h->ip6;
		return 1;
	}
	return 0;
}

/* The address of name on net now: 1 when found. A name is a netd guest with a NIC on the network
 * (its MAC's newest lease, else its MAC's reservation) or a reservation the operator named
 * (--host MAC,IP,NAME: its address); never a hostname a DHCP client chose, which a hostile guest
 * could set to take another's forward over. */
int daemon_forward_resolve(struct daemon *d, const struct net *net, const struct nat_forward *f,
			   union in_addr_union *ret)
{
	const struct dhcp_server *srv = daemon_dhcp_find(d, net->def->name);
	const struct dhcp_lease *best = NULL;
	const struct mac *mac = NULL;
	struct mac m;

	if (!f->to_name[0]) {
		*ret = f->to_addr;
		return 1;
	}
	for (size_t i = 0; i < net->n_users && !mac; i++)
		if (!strcmp(net->users[i].guest, f->to_name))
			mac = &net->users[i].mac;
	if (!mac) {
		for (size_t i = 0; i < net->def->dhcp.n_hosts; i++) {
			const struct dhcp_host *h = &net->def->dhcp.hosts[i];

			if (!strcasecmp(h->hostname, f->to_name) && host_address(h, f, ret))
				return 1;
		}
		return 0;
	}
	for (size_t i = 0; srv && i < srv->leases.n; i++) {
		const struct dhcp_lease *l = &srv->leases.leases[i];

		if (l->family != f->family || l->ended)
			continue;
		if (!(l->family == AF_INET ? mac_equal(&l->mac, mac) :
					     dhcp_lease6_mac(l, &m) && mac_equal(&m, mac)))
			continue;
		if (lease_newer(l, best))
			best = l;
	}
	if (best) {
		*ret = best->ip;
		return 1;
	}
	return host_address(dhcp_host_find(&net->def->dhcp, mac), f, ret);
}

/* What the kernel should have of net now, sorted. */
static int net_elements(struct daemon *d, const struct net *net, struct nat_fwd_elem **ret, size_t *ret_n)
{
	struct nat_fwd_elem *elems = NULL, h;
	struct ip_prefix subnets[NETWORK_SUBNETS4_MAX + 1];
	size_t n = 0, n4;
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!net->active || !net->def->n_forwards || net_mode_fw(net->def) != FW_NAT)
		return 0;
	for (size_t i = 0; i < net->def->n_forwards && r >= 0; i++) {
		union in_addr_union to;

		if (daemon_forward_resolve(d, net, &net->def->forwards[i], &to) > 0)
			r = nat_forward_elements(&net->def->forwards[i], &to, net->def->uplink, &elems, &n);
	}
	/* the subnets whose guests reach a forward of their own network through the host: every
	 * IPv4 one (--subnet, each --address), the IPv6 prefix */
	n4 = network_subnets4(net->def, subnets);
	if (net->def->subnet6.family)
		subnets[n4++] = net->def->subnet6;
	for (size_t k = 0; r >= 0 && n && k < n4; k++) {
		const struct ip_prefix *p = &subnets[k];
		struct nat_fwd_elem *l;

		l = reallocarray(elems, n + 1, sizeof(*l));
		nat_fwd_hairpin_element(net->def->bridge, p, &h);
		if (!l)
			r = -ENOMEM;
		else
			(elems = l)[n++] = h;
	}
	if (r < 0) {
		free(elems);
		return r;
	}
	if (n)
		qsort(elems, n, sizeof(*elems), elem_cmp);
	*ret = elems;
	*ret_n = n;
	return 0;
}

/* Every network's source NAT rules, in the order of the networks (their bridges differ). */
static int snats_of(struct daemon *d, struct nat_snat **ret, size_t *ret_n)
{
	struct nat_snat *l = calloc(d->n_nets * NETWORK_SUBNETS4_MAX + 1, sizeof(*l));
	size_t n = 0;

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_nets; i++) {
		struct fwd_net *s = *SLOT(d->nets[i]);

		for (size_t j = 0; s && j < s->n_snat; j++)
			l[n++] = s->snat[j];
	}
	*ret = l;
	*ret_n = n;
	return 0;
}

/* The whole table from every network's recorded elements and rules (removed when there are none). */
static int apply_full(struct daemon *d, char *err, size_t errlen)
{
	struct fwd *fw = FWD(d);
	_cleanup_free_ struct nat_fwd_elem *all = NULL;
	_cleanup_free_ struct nat_snat *snats = NULL;
	_cleanup_free_ char *script = NULL;
	size_t n = 0, n_snats = 0;
	int r;

	all = calloc(fw->total + 1, sizeof(*all));
	if (!all || snats_of(d, &snats, &n_snats) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_nets; i++) {
		struct fwd_net *s = *SLOT(d->nets[i]);

		for (size_t j = 0; s && j < s->n && n < fw->total; j++)
			all[n++] = s->elems[j];
	}
	fw->n_snats = n_snats;
	if (n || n_snats)
		script = nat_fwd_render(all, n, snats, n_snats);
	else if (asprintf(&script, "table %s %s\ndelete table %s %s\n", FWD_FAMILY, FWD_TABLE, FWD_FAMILY,
			  FWD_TABLE) < 0)
		script = NULL;
	if (!script)
		return -ENOMEM;
	r = daemon_nft_apply(d, script, err, errlen);
	fw->in_kernel = r >= 0;
	fw->table = r >= 0 ? n || n_snats : fw->table;
	if (r >= 0)
		log_debug("nftables: applied table %s %s (%zu element(s))", FWD_FAMILY, FWD_TABLE, n);
	return r;
}

/* The elements in a but not in b (both sorted) into *ret. */
static int elems_minus(const struct nat_fwd_elem *a, size_t na, const struct nat_fwd_elem *b, size_t nb,
		       bool with_data, struct nat_fwd_elem **ret, size_t *ret_n)
{
	struct nat_fwd_elem *o = calloc(na + 1, sizeof(*o));
	size_t i = 0, j = 0, k = 0;

	if (!o)
		return -ENOMEM;
	while (i < na) {
		int c = j < nb ? nat_fwd_elem_cmp(&a[i], &b[j]) : -1;

		if (c < 0 || (c == 0 && with_data && strcmp(a[i].data, b[j].data)))
			o[k++] = a[i];
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	*ret = o;
	*ret_n = k;
	return 0;
}

/* Network net's elements become elems (taken): the difference applied (or, when the table comes
 * or goes or the change fails, the whole table). */
static int net_set(struct daemon *d, struct net *net, struct nat_fwd_elem *elems, size_t n,
		   const struct nat_snat *snat, size_t n_snat, char *err, size_t errlen)
{
	struct fwd *fw = FWD(d);
	struct fwd_net *s = *SLOT(net);
	_cleanup_free_ struct nat_fwd_elem *gone = NULL, *added = NULL;
	_cleanup_free_ char *script = NULL;
	size_t n_gone = 0, n_added = 0, had = s ? s->n : 0, old_total = fw->total;
	bool rules_change;
	int r;

	if (!s) {
		if (!n && !n_snat)
			return 0;
		s = *SLOT(net) = calloc(1, sizeof(*s));
		if (!s) {
			free(elems);
			return -ENOMEM;
		}
	}
	/* a changed target is deleted and added again: a map element is replaced so */
	r = elems_minus(s->elems, s->n, elems, n, true, &gone, &n_gone);
	if (r >= 0)
		r = elems_minus(elems, n, s->elems, s->n, true, &added, &n_added);
	if (r < 0) {
		free(elems);
		return r;
	}
	free(s->elems);
	s->elems = elems;
	s->n = n;
	fw->total = fw->total - had + n;
	rules_change = s->n_snat != n_snat;
	for (size_t i = 0; i < n_snat && !rules_change; i++)
		rules_change = !nat_snat_equal(&s->snat[i], &snat[i]);
	s->n_snat = n_snat;
	if (n_snat)
		memcpy(s->snat, snat, n_snat * sizeof(*snat));
	if (!fw->started || (!n_gone && !n_added && !rules_change))
		return 0;
	/* the table comes or goes, or its rules change: the whole of it */
	if (fw->in_kernel && !rules_change && (old_total || fw->n_snats) && (fw->total || fw->n_snats)) {
		script = nat_fwd_render_change(gone, n_gone, added, n_added);
		if (!script)
			return -ENOMEM;
		r = daemon_nft_apply(d, script, err, errlen);
		if (r >= 0) {
			log_net(LOG_DEBUG, net->def->name,
				"nftables: table %s %s: %zu element(s) of network '%s' deleted, %zu added",
				FWD_FAMILY, FWD_TABLE, n_gone, net->def->name, n_added);
			return 0;
		}
		log_warning("port forwards: a change did not apply (%s); applying the whole table", err);
	}
	return apply_full(d, err, errlen);
}

static void slot_free(struct net *net)
{
	struct fwd_net *s = *SLOT(net);

	if (s)
		free(s->elems);
	free(s);
	*SLOT(net) = NULL;
}

/* The network's --nat-address and --nat-ports as rules, one for each of its IPv4 subnets (--subnet
 * and every --address): how many (0 without them, or when it does not run). */
static size_t net_snat(const struct net *net, struct nat_snat ret[NETWORK_SUBNETS4_MAX])
{
	const struct network *def = net->def;
	struct ip_prefix subnets[NETWORK_SUBNETS4_MAX];
	size_t n;

	if (!net->active || net_mode_fw(def) != FW_NAT || def->subnet.family != AF_INET ||
	    (!def->has_nat_address && !def->nat_port_lo))
		return 0;
	n = network_subnets4(def, subnets);
	for (size_t i = 0; i < n; i++) {
		ret[i] = (struct nat_snat){ .subnet = subnets[i],
					    .has_addr = def->has_nat_address,
					    .first = def->nat_address_first,
					    .last = def->nat_address_last,
					    .port_lo = def->nat_port_lo,
					    .port_hi = def->nat_port_hi };
		snprintf(ret[i].bridge, sizeof(ret[i].bridge), "%s", def->bridge);
		snprintf(ret[i].uplink, sizeof(ret[i].uplink), "%s", def->uplink);
	}
	return n;
}

static int forward_up(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	struct nat_fwd_elem *elems;
	struct nat_snat snat[NETWORK_SUBNETS4_MAX];
	size_t count;
	int r = net_elements(d, n, &elems, &count);

	if (r < 0) {
		snprintf(err, errlen, "port forwards: %s", strerror(-r));
		return r;
	}
	r = net_set(d, n, elems, count, snat, net_snat(n, snat), err, errlen);
	if (r < 0 && !strstr(err, "port forward")) {
		char e[512];

		snprintf(e, sizeof(e), "%s", err);
		snprintf(err, errlen, "port forwards: %s", e);
	}
	return r;
}

static int forward_down(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	int r = net_set(d, n, NULL, 0, NULL, 0, err, errlen);

	if (r >= 0)
		slot_free(n);
	return r;
}

/* A lease came or went, a guest's NIC registered: the network's forwards to names follow. */
void daemon_forward_network_changed(struct daemon *d, const char *network)
{
	struct net *n = daemon_net_find(d, network);
	char err[512];

	if (!n || !n->active || !n->def->n_forwards || !FWD(d))
		return;
	if (forward_up(d, n, err, sizeof(err)) < 0)
		log_net(LOG_ERR, network, "network '%s': %s", network, err);
}

static int forward_user_add(struct daemon *d, struct net *n, const struct net_user *u, char *err,
			    size_t errlen)
{
	if (n->active && n->def->n_forwards)
		return forward_up(d, n, err, errlen);
	return 0;
}

static bool has_snats(struct daemon *d)
{
	for (size_t i = 0; i < d->n_nets; i++)
		if (*SLOT(d->nets[i]) && (*SLOT(d->nets[i]))->n_snat)
			return true;
	return false;
}

static bool table_exists(struct daemon *d)
{
	const struct fw_backend *nft = daemon_nft(d);
	char marker[128];
	size_t rules, elements;

	return nft->ops->table_state(nft->userdata, FWD_FAMILY, FWD_TABLE, NAT_FWD_MARKER_SET, marker,
				     sizeof(marker), &rules, &elements) != -ENOENT;
}

static void forward_settle(struct daemon *d)
{
	struct fwd *fw = FWD(d);
	char err[512];

	if (fw->started)
		return;
	fw->started = true;
	if (!daemon_nft(d) || (!fw->total && !has_snats(d) && !table_exists(d)))
		return;
	if (apply_full(d, err, sizeof(err)) < 0)
		log_error("nftables: cannot apply table %s %s: %s", FWD_FAMILY, FWD_TABLE, err);
	else if (fw->total)
		log_info("port forwards: %zu map element(s) applied", fw->total);
}

/* After someone else's nftables transaction: re-apply when the table is gone or changed. */
void daemon_forward_check(struct daemon *d)
{
	struct fwd *fw = FWD(d);
	const struct fw_backend *nft = daemon_nft(d);
	char marker[128] = "", want[64], err[512];
	size_t rules = 0, elements = 0;
	int r;

	/* nothing of netd's to look for (no listing: a busy ruleset makes many checks) */
	if (!fw || !fw->started || !nft || (!fw->total && !fw->table && !has_snats(d)))
		return;
	r = nft->ops->table_state(nft->userdata, FWD_FAMILY, FWD_TABLE, NAT_FWD_MARKER_SET, marker,
				  sizeof(marker), &rules, &elements);
	_cleanup_free_ struct nat_snat *snats = NULL;
	size_t n_snats = 0, want_rules;

	if (snats_of(d, &snats, &n_snats) < 0)
		return;
	if (r == -ENOENT && !fw->total && !n_snats)
		return;
	want_rules = nat_fwd_rules(snats, n_snats);
	snprintf(want, sizeof(want), "netd:fwd:%zu", want_rules);
	if (r >= 0 && (fw->total || n_snats) && !strcmp(marker, want) && rules == want_rules &&
	    elements == fw->total)
		return;
	log_warning("nftables: table %s %s was %s by another process; re-applying it", FWD_FAMILY, FWD_TABLE,
		    r == -ENOENT ? "removed" : "changed");
	if (apply_full(d, err, sizeof(err)) < 0)
		log_error("nftables: cannot re-apply table %s %s: %s", FWD_FAMILY, FWD_TABLE, err);
}

static int forward_init(struct daemon *d)
{
	struct fwd *fw = calloc(1, sizeof(*fw));

	*daemon_feature_state(d, &feature_forward) = fw;
	return fw ? 0 : -ENOMEM;
}

static void forward_done(struct daemon *d)
{
	for (size_t i = 0; i < d->n_nets; i++)
		slot_free(d->nets[i]);
	free(FWD(d));
	*daemon_feature_state(d, &feature_forward) = NULL;
}

const struct feature feature_forward = {
	.name = "forward",
	.init = forward_init,
	.done = forward_done,
	.up = forward_up,
	.down = forward_down,
	.settle = forward_settle,
	.user_add = forward_user_add,
};
