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
 * network). Calls are synchronous with a short timeout, as firewalld's (fwint-firewalld.c); not
 * yet sd_bus_call_async (a hung resolved stalls the event loop 2 s a call: noted in DESIGN.md).
 *
 * What was registered is recorded in <run>/resolved/NAME ("IFINDEX BRIDGE DOMAIN") before the
 * first call, so a netd killed in between, or one that finds the definition no longer asks for it,
 * still reverts it (settle()).
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
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

static int link_callv(sd_bus *bus, const char *member, sd_bus_error *e, char *err, size_t errlen,
		      const char *types, va_list ap)
{
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, RESOLVE_NAME, RESOLVE_PATH, RESOLVE_IFACE, member);
	if (r >= 0)
		r = sd_bus_message_appendv(m, types, ap);
	if (r >= 0)
		r = sd_bus_call(bus, m, RESOLVE_TIMEOUT_USEC, e, NULL);
	if (r < 0)
		call_error(member, e, r, err, errlen);
	sd_bus_message_unref(m);
	return r;
}

/* The call, its bus error in *e (the caller frees it). */
static int link_call_e(sd_bus *bus, const char *member, sd_bus_error *e, char *err, size_t errlen,
		       const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = link_callv(bus, member, e, err, errlen, types, ap);
	va_end(ap);
	return r;
}

static int link_call(sd_bus *bus, const char *member, char *err, size_t errlen, const char *types, ...)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	va_list ap;
	int r;

	va_start(ap, types);
	r = link_callv(bus, member, &e, err, errlen, types, ap);
	va_end(ap);
	sd_bus_error_free(&e);
	return r;
}

static struct resolved_link *slot_get(struct net *n)
{
	struct resolved_link **l = (struct resolved_link **)net_slot(n, &feature_resolved);

	if (!*l)
		*l = calloc(1, sizeof(**l));
	return *l;
}

/* <run>/resolved/NAME, or NULL (no memory). */
static char *record_path(struct daemon *d, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/resolved/%s", d->paths.run_dir, name) < 0)
		return NULL;
	return p;
}

static int record_write(struct daemon *d, const char *name, int ifindex, const char *bridge,
			const char *domain)
{
	_cleanup_free_ char *dir = path_join(d->paths.run_dir, "resolved"), *p = record_path(d, name);
	char text[IFNAMSIZ + DNS_NAME_MAX + 32];
	int n = snprintf(text, sizeof(text), "%d %s %s\n", ifindex, bridge, domain), r;

	if (!dir || !p)
		return -ENOMEM;
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	return write_runtime_file(p, text, n, 0644);
}

static void record_remove(struct daemon *d, const char *name)
{
	_cleanup_free_ char *p = record_path(d, name);

	if (p)
		unlink(p);
}

/* RevertLink of ifindex; what failed into err. */
static int revert_link(struct daemon *d, int ifindex, char *err, size_t errlen)
{
	sd_bus *bus;
	int r = bus_get(d, &bus, err, errlen);

	return r < 0 ? r : link_call(bus, "RevertLink", err, errlen, "i", ifindex);
}

static void revert(struct daemon *d, struct net *n, struct resolved_link *l)
{
	char err[256] = "";

	if (l->ifindex <= 0)
		return;
	if (revert_link(d, l->ifindex, err, sizeof(err)) >= 0)
		log_net(LOG_INFO, n->def->name,
			"network '%s': ~%s and its DNS server no longer registered with systemd-resolved",
			n->def->name, l->domain);
	else
		log_net(LOG_WARNING, n->def->name,
			"network '%s': cannot revert link %d in systemd-resolved: %s", n->def->name,
			l->ifindex, err);
	/* Gone either way: resolved forgets a link that is deleted, and a stopped resolved has no
	 * state to revert. */
	l->ifindex = 0;
	l->domain[0] = 0;
	record_remove(d, n->def->name);
}

/* The network namespace of pid (its inode), or 0. */
static ino_t netns_of(const char *proc_pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/net", proc_pid);
	return stat(path, &st) < 0 ? 0 : st.st_ino;
}

/*
 * resolved must see the bridge netd made: the same network namespace (a netd in a container with
 * the host's system bus would register its ifindex on some other link of the host). The owner of
 * the name's pid, from the bus; when it cannot be had (a bus without it), nothing is refused.
 */
static int same_netns(sd_bus *bus, char *err, size_t errlen)
{
	sd_bus_creds *creds = NULL;
	char pid_s[32];
	ino_t mine = netns_of("self"), theirs;
	pid_t pid = 0;

	if (sd_bus_get_name_creds(bus, RESOLVE_NAME, SD_BUS_CREDS_PID, &creds) < 0 ||
	    sd_bus_creds_get_pid(creds, &pid) < 0 || pid <= 0) {
		sd_bus_creds_unref(creds);
		return 0;
	}
	sd_bus_creds_unref(creds);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	theirs = netns_of(pid_s);
	if (!mine || !theirs || mine == theirs)
		return 0;
	snprintf(err, errlen,
		 "systemd-resolved (pid %d) runs in another network namespace than netd: it does not "
		 "see this bridge",
		 (int)pid);
	return -EXDEV;
}

/* After a start: a registration recorded for a network that no longer has it (netd killed, the
 * definition changed or gone in between) is reverted, if the link is still that bridge. */
static void resolved_settle(struct daemon *d)
{
	_cleanup_free_ char *dir = path_join(d->paths.run_dir, "resolved");
	struct dirent *e;
	DIR *dp;

	if (!dir || !(dp = opendir(dir)))
		return;
	while ((e = readdir(dp))) {
		char bridge[IFNAMSIZ + 1] = "", domain[DNS_NAME_MAX + 1] = "", now[IF_NAMESIZE] = "";
		_cleanup_free_ char *p = NULL, *text = NULL;
		struct net *n;
		int ifindex = 0;
		char err[256] = "";

		if (e->d_name[0] == '.')
			continue;
		n = daemon_net_find(d, e->d_name);
		if (n && n->active && *net_slot(n, &feature_resolved) &&
		    ((struct resolved_link *)*net_slot(n, &feature_resolved))->ifindex > 0)
			continue; /* registered now, and recorded so */
		p = record_path(d, e->d_name);
		if (!p || read_file(p, &text, NULL) < 0 ||
		    sscanf(text, "%d %16s %253s", &ifindex, bridge, domain) != 3 || ifindex <= 0) {
			if (p)
				unlink(p);
			continue;
		}
		if (if_indextoname(ifindex, now) && !strcmp(now, bridge)) {
			if (revert_link(d, ifindex, err, sizeof(err)) >= 0)
				log_obj(LOG_INFO, LOG_OBJ(.network = e->d_name, .bridge = bridge),
					"network '%s': ~%s on %s no longer registered with systemd-resolved "
					"(left by an earlier netd)",
					e->d_name, domain, bridge);
			else {
				/* Kept for the next start or reload: a resolved started later reads
				 * its links' state back from its run dir. */
				log_obj(LOG_WARNING, LOG_OBJ(.network = e->d_name, .bridge = bridge),
					"network '%s': cannot revert %s in systemd-resolved: %s", e->d_name,
					bridge, err);
				continue;
			}
		}
		unlink(p);
	}
	closedir(dp);
}

static int resolved_up(struct daemon *d, struct net *n, char *errmsg, size_t errlen)
{
	const struct network *def = n->def;
	struct resolved_link *l;
	char err[256] = "";
	sd_bus *bus = NULL;
	bool called = false;
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
		r = same_netns(bus, err, sizeof(err));
	/* Recorded before the first call: a netd killed half-way still knows what to revert. */
	if (r >= 0) {
		r = record_write(d, def->name, ifindex, def->bridge, def->dhcp.domain);
		if (r < 0)
			snprintf(err, sizeof(err), "cannot record it in %s/resolved: %s", d->paths.run_dir,
				 strerror(-r));
		called = r >= 0;
	}
	if (r >= 0) {
		/* First: only ~DOMAIN through this link, never the host's other names, even for the
		 * moment between the calls. Older resolved lacks the call (a routing-only domain is no
		 * default route there anyway). */
		sd_bus_error e = SD_BUS_ERROR_NULL;

		r = link_call_e(bus, "SetLinkDefaultRoute", &e, err, sizeof(err), "ib", ifindex, 0);
		if (r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_METHOD))
			r = 0;
		sd_bus_error_free(&e);
	}
	if (r >= 0)
		r = link_call(bus, "SetLinkDomains", err, sizeof(err), "ia(sb)", ifindex, 1, def->dhcp.domain,
			      1);
	if (r >= 0)
		r = set_dns(bus, def, ifindex, err, sizeof(err));
	if (r < 0) {
		char ignored[256];

		/* Nothing half-made stays (not the old domain with the new server, nor the reverse);
		 * the record stays while the revert fails, for settle() to try again. */
		if (called && revert_link(d, ifindex, ignored, sizeof(ignored)) >= 0)
			record_remove(d, def->name);
		l->ifindex = 0;
		l->domain[0] = 0;
		snprintf(l->warning, sizeof(l->warning),
			 "the domain %s is not registered with the host's resolver: %s", def->dhcp.domain,
			 err);
		log_net(LOG_WARNING, def->name, "network '%s': %s", def->name, l->warning);
		return 0; /* never fails the network */
	}
	if (l->ifindex != ifindex || strcmp(l->domain, def->dhcp.domain))
		log_obj(LOG_INFO, LOG_OBJ(.network = def->name, .bridge = def->bridge),
			"network '%s': ~%s registered with systemd-resolved on %s", def->name,
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

	bool registered = n->def->dhcp.dnscfg.register_dns && l && l->ifindex > 0;

	/* Always this shape (README, "network show"): requested is the definition's register. */
	r = json_object_new_object();
	json_object_object_add(r, "requested", json_object_new_boolean(n->def->dhcp.dnscfg.register_dns));
	json_object_object_add(r, "registered", json_object_new_boolean(registered));
	json_object_object_add(r, "domain", registered ? json_object_new_string(l->domain) : NULL);
	json_object_object_add(r, "warning",
			       n->def->dhcp.dnscfg.register_dns && l && l->warning[0] ?
				       json_object_new_string(l->warning) :
				       NULL);
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
	.settle = resolved_settle,
	.show = resolved_show,
	.show_key = resolved_show_key,
};
