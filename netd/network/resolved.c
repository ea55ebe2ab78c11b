/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The resolved feature: a network with [dns] register = yes has the host resolve its domain
 * through it. When systemd-resolved runs, up() gives the network's bridge the gateway (and the
 * IPv6 gateway) as DNS servers and ~DOMAIN as its routing-only domain (org.freedesktop.resolve1
 * SetLinkDNS, SetLinkDomains, SetLinkDefaultRoute false), as libvirt does for <domain
 * register='yes'>; down() gives the link back (RevertLink). Without a system bus or resolved
 * nothing fails: the network runs, and `network show` says why its domain is not registered.
 *
 * The bus is opened at the first network that asks, never otherwise (most hosts have no such
 * network). Calls are synchronous with a short timeout, as firewalld's (fwint-firewalld.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>

#include "daemon.h"
#include "log.h"
#include "macro.h"

extern const struct feature feature_resolved; /* this file's, at its end */

#define RESOLVE_NAME "org.freedesktop.resolve1"
#define RESOLVE_PATH "/org/freedesktop/resolve1"
#define RESOLVE_IFACE RESOLVE_NAME ".Manager"
#define RESOLVE_TIMEOUT_USEC (2 * 1000000ULL)

struct resolved {
	sd_bus *bus; /* NULL: not opened yet, or no system bus */
};

/* A network's: what it registered on which link, or why it could not. */
struct resolved_link {
	int ifindex; /* > 0: registered on this link */
	char domain[DNS_NAME_MAX + 1];
	char warning[320];
};

#define RESOLVED(d) ((struct resolved *)*daemon_feature_state((d), &feature_resolved))

static int bus_get(struct daemon *d, sd_bus **ret, char *err, size_t errlen)
{
	struct resolved *rs = RESOLVED(d);
	int r;

	if (rs->bus && sd_bus_is_open(rs->bus) > 0) {
		*ret = rs->bus;
		return 0;
	}
	rs->bus = sd_bus_flush_close_unref(rs->bus);
	r = sd_bus_open_system(&rs->bus);
	if (r >= 0)
		r = sd_bus_set_method_call_timeout(rs->bus, RESOLVE_TIMEOUT_USEC);
	if (r < 0) {
		rs->bus = sd_bus_flush_close_unref(rs->bus);
		snprintf(err, errlen, "no system bus (%s)", strerror(-r));
		return r;
	}
	*ret = rs->bus;
	return 0;
}

/* What resolved (or the bus) said, for show. */
static int call_error(const char *what, const sd_bus_error *e, int r, char *err, size_t errlen)
{
	if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
		snprintf(err, errlen, "systemd-resolved is not running");
	else
		snprintf(err, errlen, "systemd-resolved refused %s: %s", what,
			 e && e->message ? e->message : strerror(-r));
	return r;
}

static int set_dns(sd_bus *bus, const struct network *def, int ifindex, char *err, size_t errlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, RESOLVE_NAME, RESOLVE_PATH, RESOLVE_IFACE, "SetLinkDNS");
	if (r >= 0)
		r = sd_bus_message_append(m, "i", ifindex);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(iay)");
	if (r >= 0 && def->subnet.family == AF_INET)
		r = sd_bus_message_append(m, "(iay)", AF_INET, 4, def->gateway.bytes[0],
					  def->gateway.bytes[1], def->gateway.bytes[2],
					  def->gateway.bytes[3]);
	if (r >= 0 && def->subnet6.family == AF_INET6) {
		r = sd_bus_message_open_container(m, 'r', "iay");
		if (r >= 0)
			r = sd_bus_message_append(m, "i", AF_INET6);
		if (r >= 0)
			r = sd_bus_message_append_array(m, 'y', def->gateway6.bytes, 16);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_call(bus, m, RESOLVE_TIMEOUT_USEC, &e, NULL);
	if (r < 0)
		call_error("SetLinkDNS", &e, r, err, errlen);
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	return r;
}

static int link_call(sd_bus *bus, const char *member, char *err, size_t errlen, const char *types, ...)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, RESOLVE_NAME, RESOLVE_PATH, RESOLVE_IFACE, member);
	if (r >= 0) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call(bus, m, RESOLVE_TIMEOUT_USEC, &e, NULL);
	if (r < 0)
		call_error(member, &e, r, err, errlen);
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	return r;
}

static struct resolved_link *slot_get(struct net *n)
{
	struct resolved_link **l = (struct resolved_link **)net_slot(n, &feature_resolved);

	if (!*l)
		*l = calloc(1, sizeof(**l));
	return *l;
}

static void revert(struct daemon *d, struct net *n, struct resolved_link *l)
{
	char err[256] = "";
	sd_bus *bus;

	if (l->ifindex <= 0)
		return;
	if (bus_get(d, &bus, err, sizeof(err)) >= 0 &&
	    link_call(bus, "RevertLink", err, sizeof(err), "i", l->ifindex) >= 0)
		log_info("network '%s': ~%s and its DNS server no longer registered with systemd-resolved",
			 n->def->name, l->domain);
	else
		log_warning("network '%s': cannot revert link %d in systemd-resolved: %s", n->def->name,
			    l->ifindex, err);
	/* Gone either way: resolved forgets a link that is deleted, and a stopped resolved has no
	 * state to revert. */
	l->ifindex = 0;
}

static int resolved_up(struct daemon *d, struct net *n, char *errmsg, size_t errlen)
{
	const struct network *def = n->def;
	struct resolved_link *l;
	char err[256] = "";
	sd_bus *bus = NULL;
	int ifindex, r;

	l = *net_slot(n, &feature_resolved);
	if (!def->dhcp.dnscfg.register_dns || !def->dhcp.dns || !network_wants_dnsmasq(def)) {
		if (l) {
			revert(d, n, l);
			l->warning[0] = 0;
		}
		return 0;
	}
	if (!(l = slot_get(n)))
		return -ENOMEM;
	ifindex = daemon_net_bridge_ifindex(d, n);
	if (l->ifindex > 0 && l->ifindex != ifindex)
		revert(d, n, l); /* a bridge made anew */
	r = bus_get(d, &bus, err, sizeof(err));
	if (r >= 0 && ifindex <= 0) {
		snprintf(err, sizeof(err), "the bridge %s is missing", def->bridge);
		r = -ENODEV;
	}
	if (r >= 0)
		r = set_dns(bus, def, ifindex, err, sizeof(err));
	if (r >= 0)
		r = link_call(bus, "SetLinkDomains", err, sizeof(err), "ia(sb)", ifindex, 1, def->dhcp.domain,
			      1);
	if (r >= 0) {
		/* Only ~DOMAIN through this link, never the host's other names (it has no default route
		 * as a routing-only link already; said explicitly). Older resolved lacks the call. */
		char ignored[256];

		link_call(bus, "SetLinkDefaultRoute", ignored, sizeof(ignored), "ib", ifindex, 0);
	}
	if (r < 0) {
		snprintf(l->warning, sizeof(l->warning),
			 "the domain %s is not registered with the host's resolver: %s", def->dhcp.domain,
			 err);
		log_warning("network '%s': %s", def->name, l->warning);
		return 0; /* never fails the network */
	}
	if (l->ifindex != ifindex || strcmp(l->domain, def->dhcp.domain))
		log_info("network '%s': ~%s registered with systemd-resolved on %s", def->name,
			 def->dhcp.domain, def->bridge);
	l->ifindex = ifindex;
	snprintf(l->domain, sizeof(l->domain), "%s", def->dhcp.domain);
	l->warning[0] = 0;
	return 0;
}

static int resolved_down(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	struct resolved_link *l = *net_slot(n, &feature_resolved);

	if (l) {
		revert(d, n, l);
		free(l);
		*net_slot(n, &feature_resolved) = NULL;
	}
	return 0;
}

static void resolved_show(struct daemon *d, const struct net *n, const struct net_view *v, json_object *o)
{
	struct resolved_link *l = *net_slot((struct net *)n, &feature_resolved);
	json_object *r;

	if (!n->def->dhcp.dnscfg.register_dns)
		return;
	r = json_object_new_object();
	json_object_object_add(r, "registered", json_object_new_boolean(l && l->ifindex > 0));
	json_object_object_add(r, "warning", l && l->warning[0] ? json_object_new_string(l->warning) : NULL);
	json_object_object_add(o, "register_dns", r);
}

static void resolved_show_key(struct daemon *d, const struct net *n, struct net_show_key *k)
{
	struct resolved_link *l = *net_slot((struct net *)n, &feature_resolved);
	struct resolved_link none = {};

	net_show_key_add(k, l ? l : &none, sizeof(none));
}

static int resolved_init(struct daemon *d)
{
	struct resolved *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return -ENOMEM;
	*daemon_feature_state(d, &feature_resolved) = rs;
	return 0;
}

/* netd exits: the registrations stay (as the bridges do) and the next netd's up() renews them. */
static void resolved_done(struct daemon *d)
{
	struct resolved *rs = RESOLVED(d);

	for (size_t i = 0; i < d->n_nets; i++) {
		free(*net_slot(d->nets[i], &feature_resolved));
		*net_slot(d->nets[i], &feature_resolved) = NULL;
	}
	if (rs)
		sd_bus_flush_close_unref(rs->bus);
	free(rs);
	*daemon_feature_state(d, &feature_resolved) = NULL;
}

const struct feature feature_resolved = {
	.name = "resolved",
	.init = resolved_init,
	.done = resolved_done,
	.up = resolved_up,
	.down = resolved_down,
	.show = resolved_show,
	.show_key = resolved_show_key,
};
