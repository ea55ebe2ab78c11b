/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DHCP across hosts (the evpn dhcp feature). Each host's dnsmasq answers its own guests only
 * (DHCP never crosses the VXLAN port: vxlan.c's table bridge netd_vxlan) and holds a reservation
 * for every guest EVPN places on another host: zebra installs each remote guest's MAC and IPv4
 * address as a neighbour entry on the bridge flagged extern_learn (local guests' entries are
 * plain). Those entries, in the subnet, become "MAC,IP" lines of a hosts file of their own
 * (<run>/dnsmasq/NAME.remote, dnsmasq.c writes it with the others and dnsmasq re-reads it on
 * SIGHUP). So no host offers an address a guest elsewhere holds, and a guest that moved here
 * renews its own address (ACK).
 *
 * The feature listens to neighbour changes (netd --vtep only) and, 100 ms after a burst of them,
 * renders the hosts files of every running network across hosts again; a file that did not
 * change costs nothing more. 'network leases' lists the remote guests with their host's VTEP
 * (the VXLAN device's FDB entry for the MAC), 'network show' how many are held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/neighbour.h>

#include "daemon.h"
#include "log.h"
#include "macro.h"

extern const struct feature feature_evpn_dhcp; /* this file's, at its end */

#define EVPN_DHCP_DELAY_USEC (100 * 1000)

struct evpn_dhcp {
	int fd;
	sd_event_source *io, *timer;
};

#define EVPN_DHCP(d) ((struct evpn_dhcp *)*daemon_feature_state((d), &feature_evpn_dhcp))

static bool spans_hosts(const struct network *def)
{
	return def->mode->vxlan && def->vni;
}

/* Whether a bridge neighbour entry is a guest EVPN places on another host, of this subnet: an
 * address a guest may hold (not the subnet's own, its broadcast or the gateway), a unicast MAC. */
static bool is_remote_guest(const struct network *def, int bridge, const struct neigh_info *nb)
{
	union in_addr_union first, last;
	struct ip_prefix p = def->subnet;

	if (nb->family != AF_INET || nb->ifindex != bridge || !(nb->flags & NTF_EXT_LEARNED) ||
	    !nb->has_lladdr || (nb->state & (NUD_FAILED | NUD_INCOMPLETE)) || mac_is_zero(&nb->lladdr) ||
	    mac_is_multicast(&nb->lladdr) || p.family != AF_INET ||
	    !ip_prefix_contains(&p, AF_INET, &nb->dst))
		return false;
	ip_prefix_mask(&p);
	ip_prefix_broadcast(&def->subnet, &last);
	first = p.addr;
	return !ip_addr_equal(AF_INET, &nb->dst, &first) && !ip_addr_equal(AF_INET, &nb->dst, &last) &&
	       !ip_addr_equal(AF_INET, &nb->dst, &def->gateway);
}

/* The network's remote guests from the kernel (what: LINK_DUMP_FDB too for their VTEPs), the
 * dump kept in *dump for the caller (NULL entries: none). */
static int remote_collect(struct daemon *d, const struct network *def, unsigned what, struct link_dump *dump,
			  struct dhcp_remote_host **ret, size_t *ret_n)
{
	const struct link_info *br;
	struct dhcp_remote_host *h;
	size_t n = 0;
	int r;

	*ret = NULL;
	*ret_n = 0;
	/* Only the bridge's neighbours (a host's guests on every bridge: not read at each event);
	 * the FDB entries of the VXLAN port need the whole dump. */
	if (what & LINK_DUMP_FDB)
		r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS | LINK_DUMP_NEIGHS | what, dump);
	else
		r = link_dump_of(&d->link, LINK_DUMP_LINKS | LINK_DUMP_NEIGHS, def->bridge, dump);
	if (r < 0)
		return r;
	br = link_dump_find_name(dump, def->bridge);
	if (!br || !dump->n_neighs)
		return 0;
	h = calloc(dump->n_neighs, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < dump->n_neighs; i++)
		if (is_remote_guest(def, br->ifindex, &dump->neighs[i]))
			h[n++] = (struct dhcp_remote_host){ .mac = dump->neighs[i].lladdr,
							    .ip = dump->neighs[i].dst };
	*ret = h;
	*ret_n = n;
	return 0;
}

int daemon_evpn_dhcp_hosts(struct daemon *d, const struct network *n, char **ret)
{
	struct link_dump dump = {};
	_cleanup_free_ struct dhcp_remote_host *h = NULL;
	size_t nh;
	int r;

	if (!spans_hosts(n))
		return -EINVAL;
	r = remote_collect(d, n, 0, &dump, &h, &nh);
	link_dump_free(&dump);
	if (r < 0)
		return r;
	return dhcp_remote_hosts_render(h, nh, ret);
}

/* The VTEP of the VXLAN device's FDB entry for mac, or NULL. */
static const struct neigh_info *vtep_of(const struct link_dump *dump, int vx, const struct mac *mac)
{
	for (size_t i = 0; i < dump->n_neighs; i++) {
		const struct neigh_info *e = &dump->neighs[i];

		if (e->family == AF_BRIDGE && e->ifindex == vx && e->has_lladdr && e->dst_family &&
		    mac_equal(&e->lladdr, mac))
			return e;
	}
	return NULL;
}

void daemon_evpn_dhcp_leases(struct daemon *d, const struct net *n, json_object *list)
{
	struct link_dump dump = {};
	_cleanup_free_ struct dhcp_remote_host *h = NULL;
	const struct link_info *vx;
	char name[IFNAMSIZ], m[MAC_STRLEN], a[INET6_ADDRSTRLEN];
	size_t nh;

	if (!spans_hosts(n->def) || !n->active)
		return;
	if (remote_collect(d, n->def, LINK_DUMP_FDB, &dump, &h, &nh) < 0) {
		link_dump_free(&dump);
		return;
	}
	snprintf(name, sizeof(name), "vx%u", n->def->vni);
	vx = link_dump_find_name(&dump, name);
	for (size_t i = 0; i < nh; i++) {
		const struct neigh_info *e = vx ? vtep_of(&dump, vx->ifindex, &h[i].mac) : NULL;
		json_object *o = json_object_new_object();

		json_object_object_add(o, "mac", json_object_new_string(mac_format(&h[i].mac, m, sizeof(m))));
		json_object_object_add(
			o, "ip", json_object_new_string(ip_addr_format(AF_INET, &h[i].ip, a, sizeof(a))));
		json_object_object_add(o, "hostname", NULL);
		json_object_object_add(o, "expires", json_object_new_int64(0));
		json_object_object_add(o, "expires_in", NULL);
		json_object_object_add(o, "type", json_object_new_string("remote"));
		json_object_object_add(
			o, "vtep",
			e ? json_object_new_string(ip_addr_format(e->dst_family, &e->dst, a, sizeof(a))) :
			    NULL);
		json_object_array_add(list, o);
	}
	link_dump_free(&dump);
}

/* Every running network across hosts renders its hosts files again (SIGHUP when they changed). */
static void refresh_all(struct daemon *d)
{
	char err[512];

	for (size_t i = 0; i < d->n_nets; i++) {
		struct net *n = d->nets[i];

		if (!n->active || !spans_hosts(n->def))
			continue;
		if (daemon_dhcp_refresh(d, n, err, sizeof(err)) < 0)
			log_net(LOG_WARNING, n->def->name,
				"network '%s': cannot update the reservations of guests on other hosts: %s",
				n->def->name, err);
	}
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	refresh_all(userdata);
	return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	struct evpn_dhcp *e = EVPN_DHCP(d);
	unsigned what = 0;
	int state = SD_EVENT_OFF;

	if (d->link.ops->events_read(d->link.userdata, fd, &what) >= 0 && what == 0)
		return 0;
	/* A burst (zebra installs a host's guests together) is one update, 100 ms after it began. */
	if (sd_event_source_get_enabled(e->timer, &state) >= 0 && state != SD_EVENT_OFF)
		return 0;
	if (sd_event_source_set_time_relative(e->timer, EVPN_DHCP_DELAY_USEC) >= 0)
		sd_event_source_set_enabled(e->timer, SD_EVENT_ONESHOT);
	return 0;
}

static int evpn_dhcp_init(struct daemon *d)
{
	struct evpn_dhcp *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->fd = -1;
	*daemon_feature_state(d, &feature_evpn_dhcp) = e;
	/* Without a VTEP no network spans hosts (mode evpn is refused): nothing to listen to. */
	if (!d->evpn.vtep_family || !d->link.ops->events_open)
		return 0;
	r = d->link.ops->events_open(d->link.userdata, LINK_EVENT_NEIGHS, &e->fd);
	if (r < 0) {
		e->fd = -1;
		log_warning("evpn dhcp: cannot listen to neighbour changes (guests on other hosts are not "
			    "reserved): %s",
			    strerror(-r));
		return 0;
	}
	r = sd_event_add_io(d->event, &e->io, e->fd, EPOLLIN, on_io, d);
	if (r >= 0)
		r = sd_event_add_time_relative(d->event, &e->timer, CLOCK_MONOTONIC, EVPN_DHCP_DELAY_USEC, 0,
					       on_timer, d);
	if (r >= 0)
		r = sd_event_source_set_enabled(e->timer, SD_EVENT_OFF);
	if (r < 0)
		log_warning("evpn dhcp: %s", strerror(-r));
	return 0;
}

static void evpn_dhcp_done(struct daemon *d)
{
	struct evpn_dhcp *e = EVPN_DHCP(d);

	if (!e)
		return;
	sd_event_source_disable_unref(e->io);
	sd_event_source_disable_unref(e->timer);
	if (e->fd >= 0)
		d->link.ops->events_close(d->link.userdata, e->fd);
	free(e);
	*daemon_feature_state(d, &feature_evpn_dhcp) = NULL;
}

/* 'network show': how many guests on other hosts this host's dnsmasq holds reservations for. */
static void evpn_dhcp_show(struct daemon *d, const struct net *n, const struct net_view *v, json_object *o)
{
	struct link_dump dump = {};
	_cleanup_free_ struct dhcp_remote_host *h = NULL;
	json_object *dhcp = json_object_object_get(o, "dhcp");
	size_t nh = 0;

	if (!spans_hosts(n->def) || !v->full || !dhcp)
		return;
	if (remote_collect(d, n->def, 0, &dump, &h, &nh) >= 0)
		json_object_object_add(dhcp, "remote_guests", json_object_new_int64(nh));
	link_dump_free(&dump);
}

/* show() adds nothing to 'network list' (not full). */
static void evpn_dhcp_show_key(struct daemon *d, const struct net *n, struct net_show_key *k)
{
}

const struct feature feature_evpn_dhcp = {
	.name = "evpn dhcp",
	.init = evpn_dhcp_init,
	.done = evpn_dhcp_done,
	.show = evpn_dhcp_show,
	.show_key = evpn_dhcp_show_key,
};
