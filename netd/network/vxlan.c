/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vxlan feature: a network that spans hosts (a mode with .vxlan, evpn) gets a VXLAN device
 * vx<VNI> as a port of its bridge: VNI, this host's tunnel endpoint (netd --vtep) as its source,
 * UDP 4789, no learning (BGP EVPN, FRR's zebra, installs the remote MACs; zebra finds the VNI
 * in the kernel by itself with advertise-all-vni), MTU the underlay's less the encapsulation
 * (50 bytes over IPv4, 70 over IPv6), tagged "netd:<network>" like the bridge. On the bridge the
 * port learns nothing and answers ARP and neighbour solicitations from the bridge's neighbour
 * entries (neigh_suppress); the bridge takes the VXLAN device's MTU. The bridge's MAC, the anycast
 * gateway's, is the mode's (network_fixed_mac): the links feature makes the bridge with it.
 *
 * up() checks everything (the VTEP address on a link of the host, that link's MTU, the device's
 * name free or ours) before it touches the kernel, and deletes a device it made when a later
 * step fails. A restarted netd adopts the device as it is (same ifindex: no packet lost); a reload
 * gives each device and bridge the MTU of its underlay as it is then. 'netdctl doctor' has a step
 * "vxlan": the device and its underlay.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "macro.h"
#include "tunnel.h"

extern const struct feature feature_vxlan; /* this file's, at its end */

/* The feature's state: the last table bridge netd_vxlan applied (NULL: none yet). */
struct vxlan_state {
	char *applied;
};

#define VXLAN_STATE(d) ((struct vxlan_state *)*daemon_feature_state((d), &feature_vxlan))

/* The overhead of VXLAN: outer Ethernet 14, IP 20 (IPv6 40), UDP 8, VXLAN 8. */
#define VXLAN_OVERHEAD4 50
#define VXLAN_OVERHEAD6 70
/* A guest sees an Ethernet link of at least this MTU. */
#define VXLAN_GUEST_MTU_MIN 1500

static bool wants(const struct network *def)
{
	return def->mode->vxlan && def->vni;
}

static void device_name(unsigned vni, char ret[IFNAMSIZ])
{
	snprintf(ret, IFNAMSIZ, "vx%u", vni);
}

/* The link that holds the VTEP address (the underlay), or NULL. */
static const struct link_info *underlay(struct daemon *d, const struct link_dump *dump)
{
	for (size_t i = 0; i < dump->n_addrs; i++) {
		const struct addr_info *a = &dump->addrs[i];

		if (a->prefix.family == d->evpn.vtep_family &&
		    ip_addr_equal(a->prefix.family, &a->prefix.addr, &d->evpn.vtep))
			return link_dump_find_index(dump, a->ifindex);
	}
	return NULL;
}

/* What the network's VXLAN device must be, from the daemon's VTEP and the dump (links and
 * addresses); -errno and why when it cannot be. */
static int spec_of(struct daemon *d, const struct network *def, const struct link_dump *dump,
		   struct vxlan_spec *spec, char name[IFNAMSIZ], char *alias, size_t alias_size, char *err,
		   size_t errlen)
{
	unsigned overhead = d->evpn.vtep_family == AF_INET6 ? VXLAN_OVERHEAD6 : VXLAN_OVERHEAD4;
	const struct link_info *ul;
	char a[INET6_ADDRSTRLEN];

	if (!d->evpn.vtep_family) {
		snprintf(err, errlen,
			 "network '%s': mode %s needs this host's VXLAN tunnel endpoint: start netd with "
			 "--vtep ADDR",
			 def->name, def->mode->name);
		return -EINVAL;
	}
	ip_addr_format(d->evpn.vtep_family, &d->evpn.vtep, a, sizeof(a));
	ul = underlay(d, dump);
	if (!ul) {
		snprintf(err, errlen,
			 "network '%s': the VTEP address %s (netd --vtep) is not an address of this host",
			 def->name, a);
		return -EADDRNOTAVAIL;
	}
	if (ul->mtu < VXLAN_GUEST_MTU_MIN + overhead) {
		snprintf(err, errlen,
			 "network '%s': the underlay %s (VTEP %s) has MTU %u; VXLAN needs at least %u "
			 "(%u for the guests, %u for the encapsulation): raise %s's MTU",
			 def->name, ul->name, a, ul->mtu, VXLAN_GUEST_MTU_MIN + overhead, VXLAN_GUEST_MTU_MIN,
			 overhead, ul->name);
		return -EMSGSIZE;
	}
	device_name(def->vni, name);
	network_alias(def, alias, alias_size);
	*spec = (struct vxlan_spec){
		.name = name,
		.vni = def->vni,
		.local_family = d->evpn.vtep_family,
		.local = d->evpn.vtep,
		.dstport = VXLAN_PORT,
		.mtu = ul->mtu - overhead,
		.alias = alias,
	};
	return 0;
}

int daemon_vxlan_check(struct daemon *d, const struct network *n, char *err, size_t errlen)
{
	struct link_dump dump = {};
	struct vxlan_spec spec;
	char name[IFNAMSIZ], alias[64];
	int r;

	if (!n->mode->vxlan)
		return 0;
	if (d->evpn.vtep_family) {
		r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS, &dump);
		if (r < 0) {
			snprintf(err, errlen, "cannot read links from the kernel: %s", strerror(-r));
			return r;
		}
	}
	r = spec_of(d, n, &dump, &spec, name, alias, sizeof(alias), err, errlen);
	link_dump_free(&dump);
	return r;
}

/* Whether an existing device is what spec makes (a restarted netd may have another --vtep). */
static bool same_device(const struct link_info *vx, const struct vxlan_spec *spec)
{
	return vx->vxlan_id == spec->vni && vx->vxlan_port == spec->dstport &&
	       vx->vxlan_local_family == spec->local_family &&
	       ip_addr_equal(spec->local_family, &vx->vxlan_local, &spec->local);
}

static int link_error(struct daemon *d, int r, const char *what, const char *name, char *err, size_t errlen)
{
	const char *why = d->link.ops->last_error ? d->link.ops->last_error(d->link.userdata) : NULL;

	snprintf(err, errlen, "cannot %s %s: %s%s%s", what, name, strerror(-r), why && *why ? ": " : "",
		 why && *why ? why : "");
	return r;
}

/* The device made a port of the bridge, its flags, up, the bridge's MTU: each only when it
 * differs (an adopted device as it was left changes nothing). */
static int attach(struct daemon *d, const struct vxlan_spec *spec, int ifindex, const struct link_info *vx,
		  const struct link_info *br, char *err, size_t errlen)
{
	const struct link_ops *ops = d->link.ops;
	void *u = d->link.userdata;
	int r;

	if (vx && vx->mtu != spec->mtu && (r = ops->link_set_mtu(u, ifindex, spec->mtu)) < 0)
		return link_error(d, r, "set the MTU of", spec->name, err, errlen);
	if (!vx || vx->master != br->ifindex) {
		r = ops->port_set(u, ifindex, br->ifindex);
		if (r < 0)
			return link_error(d, r, "make a bridge port of", spec->name, err, errlen);
		r = ops->port_set_flags(u, ifindex, false, true);
		if (r < 0)
			return link_error(d, r, "set learning off and neigh_suppress on for", spec->name, err,
					  errlen);
	}
	if ((!vx || !vx->up) && (r = ops->link_set_up(u, ifindex, true)) < 0)
		return link_error(d, r, "bring up", spec->name, err, errlen);
	if (br->mtu != spec->mtu && (r = ops->link_set_mtu(u, br->ifindex, spec->mtu)) < 0)
		return link_error(d, r, "set the MTU of", br->name, err, errlen);
	return 0;
}

/* Devices of this network's tag other than the one it wants now (its VNI changed). */
static void remove_stale(struct daemon *d, const struct link_dump *dump, const char *alias, const char *keep)
{
	for (size_t i = 0; i < dump->n_links; i++) {
		const struct link_info *l = &dump->links[i];

		if (strcmp(l->kind, "vxlan") || strcmp(l->alias, alias) || (keep && !strcmp(l->name, keep)))
			continue;
		if (d->link.ops->link_del(d->link.userdata, l->ifindex) < 0)
			log_obj(LOG_WARNING, LOG_OBJ(.network = network_alias_owner(alias)),
				"network '%s': cannot remove VXLAN device %s", network_alias_owner(alias),
				l->name);
		else
			log_obj(LOG_INFO, LOG_OBJ(.network = network_alias_owner(alias)),
				"network '%s': VXLAN device %s removed", network_alias_owner(alias), l->name);
	}
}

/* table bridge netd_vxlan (nat/tunnel.h) with the devices of every running network that spans
 * hosts: DHCP never crosses them, so each host's dnsmasq answers its own guests only. Applied
 * when it changes (force: always, after a start or a reload, for a table someone removed). */
static int dhcp_guard(struct daemon *d, bool force, char *err, size_t errlen)
{
	struct vxlan_state *st = VXLAN_STATE(d);
	_cleanup_free_ char(*ports)[IFNAMSIZ] = calloc(d->n_nets + 1, IFNAMSIZ);
	_cleanup_free_ char *script = NULL;
	size_t n = 0;
	int r;

	if (!ports)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_nets; i++)
		if (d->nets[i]->active && wants(d->nets[i]->def))
			device_name(d->nets[i]->def->vni, ports[n++]);
	script = tunnel_dhcp_render((const char(*)[IFNAMSIZ])ports, n);
	if (!script) {
		snprintf(err, errlen, "cannot render table %s %s: %s", TUNNEL_FAMILY, TUNNEL_TABLE,
			 strerror(errno));
		return -errno;
	}
	if (!d->nft.ops || (!force && st && st->applied && !strcmp(st->applied, script)))
		return 0;
	/* None to keep off: only a table left behind (netd killed, then the networks went) goes. */
	if (force && n == 0 &&
	    (!d->nft.ops->table_state ||
	     d->nft.ops->table_state(d->nft.userdata, TUNNEL_FAMILY, TUNNEL_TABLE, "ports", err, errlen,
				     &(size_t){ 0 }, &(size_t){ 0 }) == -ENOENT))
		return 0;
	r = d->nft.ops->apply(d->nft.userdata, script, err, errlen);
	if (r < 0 || !st)
		return r;
	free(st->applied);
	st->applied = TAKE_PTR(script);
	return 0;
}

/* The device of that name as it is, into *vx: another's refused; one whose VNI, local address or
 * port differ deleted (the kernel changes none of them on a VXLAN device that exists), *vx NULL. */
static int existing(struct daemon *d, const struct network *def, const struct vxlan_spec *spec,
		    const char *alias, const struct link_info **vx, char *err, size_t errlen)
{
	char had[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN];
	int r;

	if (!*vx)
		return 0;
	if (strcmp((*vx)->kind, "vxlan") || strcmp((*vx)->alias, alias)) {
		snprintf(err, errlen,
			 "network '%s': interface %s already exists and is not this network's VXLAN device",
			 def->name, spec->name);
		return -EEXIST;
	}
	if (same_device(*vx, spec))
		return 0;
	log_obj(LOG_INFO, LOG_OBJ(.network = def->name),
		"network '%s': VXLAN device %s has VNI %u, local %s, port %u; making it anew with VNI %u, "
		"local %s, port %u",
		def->name, spec->name, (*vx)->vxlan_id,
		ip_addr_format((*vx)->vxlan_local_family, &(*vx)->vxlan_local, had, sizeof(had)),
		(*vx)->vxlan_port, spec->vni,
		ip_addr_format(spec->local_family, &spec->local, want, sizeof(want)), spec->dstport);
	r = d->link.ops->link_del(d->link.userdata, (*vx)->ifindex);
	if (r < 0)
		return link_error(d, r, "delete", spec->name, err, errlen);
	*vx = NULL;
	return 0;
}

/* A guest's MAC as a static entry of the bridge's table on its TAP (only while the TAP is a port
 * of the network's bridge): zebra advertises a local MAC over EVPN as soon as the kernel has it,
 * so a guest that moved here is found at once, before it sends a frame (a learnt entry would wait
 * for one; the other hosts would still send its traffic to the host it left). add false deletes
 * it. A failure is logged, never refused: the guest works, the move only takes longer. */
static void user_fdb(struct daemon *d, const struct net *n, const struct link_dump *dump,
		     const struct net_user *u, bool add)
{
	const struct link_info *tap = link_dump_find_name(dump, u->tap);
	const struct link_info *br = link_dump_find_name(dump, n->def->bridge);
	char mac[MAC_STRLEN], e[256];
	int r;

	if (!d->link.ops->fdb_change || !tap || !br || tap->master != br->ifindex)
		return;
	r = d->link.ops->fdb_change(d->link.userdata, tap->ifindex, &u->mac, add);
	mac_format(&u->mac, mac, sizeof(mac));
	if (r == -ENOENT && !add)
		return;
	if (r >= 0) {
		log_obj(LOG_DEBUG,
			LOG_OBJ(.network = n->def->name, .guest = u->guest, .bridge = n->def->bridge),
			"network '%s': guest '%s': static FDB entry of %s on %s %s", n->def->name, u->guest,
			mac, u->tap, add ? "added (EVPN advertises it)" : "removed");
		return;
	}
	link_error(d, r, add ? "add the static FDB entry of" : "remove the static FDB entry of", mac, e,
		   sizeof(e));
	log_obj(LOG_WARNING, LOG_OBJ(.network = n->def->name, .guest = u->guest, .bridge = n->def->bridge),
		"network '%s': guest '%s' on %s: %s%s", n->def->name, u->guest, u->tap, e,
		add ? "; EVPN finds the guest when it sends a frame" : "");
}

/* Every user's entry (up: the bridge may have been made anew; down: they go). */
static int users_fdb(struct daemon *d, const struct net *n, bool add, char *err, size_t errlen)
{
	struct link_dump dump = {};
	int r;

	if (!n->n_users || !d->link.ops->fdb_change)
		return 0;
	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, &dump);
	if (r < 0) {
		snprintf(err, errlen, "cannot read links from the kernel: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < n->n_users; i++)
		user_fdb(d, n, &dump, &n->users[i], add);
	link_dump_free(&dump);
	return 0;
}

/* A guest's NIC registered (start, adoption, set-network): after the links feature made its TAP a
 * port of the bridge, its static FDB entry. When it leaves (QEMU exits and the TAP goes, or
 * set-network moves the TAP to another bridge) the kernel drops the entry with the port. */
static int vxlan_user_add(struct daemon *d, struct net *n, const struct net_user *u, char *err, size_t errlen)
{
	struct link_dump dump = {};
	int r;

	if (!wants(n->def) || !n->active || !d->link.ops->fdb_change)
		return 0;
	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, &dump);
	if (r < 0) {
		snprintf(err, errlen, "cannot read links from the kernel: %s", strerror(-r));
		return r;
	}
	user_fdb(d, n, &dump, u, true);
	link_dump_free(&dump);
	return 0;
}

static int vxlan_up(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	const struct network *def = n->def;
	struct link_dump dump = {};
	const struct link_info *vx, *br;
	struct vxlan_spec spec;
	char name[IFNAMSIZ], alias[64];
	int ifindex, r;

	if (!wants(def))
		return 0;
	if (!d->link.ops->vxlan_add || !d->link.ops->port_set_flags) {
		snprintf(err, errlen, "network '%s': the link backend cannot make VXLAN devices", def->name);
		return -EOPNOTSUPP;
	}
	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS, &dump);
	if (r < 0) {
		snprintf(err, errlen, "cannot read links from the kernel: %s", strerror(-r));
		return r;
	}
	r = spec_of(d, def, &dump, &spec, name, alias, sizeof(alias), err, errlen);
	if (r < 0)
		goto out;
	br = link_dump_find_name(&dump, def->bridge);
	vx = link_dump_find_name(&dump, name);
	if (!br) {
		snprintf(err, errlen, "network '%s' has no bridge %s", def->name, def->bridge);
		r = -ENETDOWN;
		goto out;
	}
	r = existing(d, def, &spec, alias, &vx, err, errlen);
	if (r < 0)
		goto out;
	if (vx)
		ifindex = vx->ifindex;
	else if ((r = d->link.ops->vxlan_add(d->link.userdata, &spec, &ifindex)) < 0) {
		link_error(d, r, "create VXLAN device", name, err, errlen);
		goto out;
	}
	r = attach(d, &spec, ifindex, vx, br, err, errlen);
	/* a start's walk of every network leaves it to settle(), once */
	if (r >= 0 && !d->reconciling_all)
		r = dhcp_guard(d, false, err, errlen);
	if (r < 0 && !vx && d->link.ops->link_del(d->link.userdata, ifindex) < 0)
		log_obj(LOG_WARNING, LOG_OBJ(.network = def->name), "network '%s': cannot remove %s again",
			def->name, name);
	if (r < 0)
		goto out;
	if (!vx)
		log_obj(LOG_INFO, LOG_OBJ(.network = def->name, .bridge = def->bridge),
			"network '%s': VXLAN device %s (VNI %u, MTU %u) on bridge %s", def->name, name,
			def->vni, spec.mtu, def->bridge);
	remove_stale(d, &dump, alias, name);
	r = users_fdb(d, n, true, err, errlen);
out:
	link_dump_free(&dump);
	return r;
}

static int vxlan_down(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	struct link_dump dump = {};
	char alias[64];
	int r;

	if (!n->def->mode->vxlan)
		return 0;
	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, &dump);
	if (r < 0) {
		snprintf(err, errlen, "cannot read links from the kernel: %s", strerror(-r));
		return r;
	}
	network_alias(n->def, alias, sizeof(alias));
	remove_stale(d, &dump, alias, NULL);
	link_dump_free(&dump);
	/* A stop that leaves the guests' TAPs (--force) leaves no MAC that EVPN still advertises */
	users_fdb(d, n, false, err, errlen);
	return dhcp_guard(d, false, err, errlen);
}

/* Devices tagged for a network that is gone or not running (netd was killed, then the network
 * deleted or stopped by hand), or whose VNI is not the one it has now. */
static void vxlan_settle(struct daemon *d)
{
	struct link_dump dump = {};
	char err[512];

	if (dhcp_guard(d, true, err, sizeof(err)) < 0)
		log_error("cannot apply table %s %s (DHCP kept off VXLAN ports): %s", TUNNEL_FAMILY,
			  TUNNEL_TABLE, err);
	if (d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS, &dump) < 0)
		return;
	for (size_t i = 0; i < dump.n_links; i++) {
		const struct link_info *l = &dump.links[i];
		const char *owner = network_alias_owner(l->alias);
		struct net *n = owner && !strcmp(l->kind, "vxlan") ? daemon_net_find(d, owner) : NULL;
		char name[IFNAMSIZ] = "";

		if (!owner || strcmp(l->kind, "vxlan"))
			continue;
		if (n && n->active && wants(n->def))
			device_name(n->def->vni, name);
		if (!strcmp(name, l->name))
			continue;
		if (d->link.ops->link_del(d->link.userdata, l->ifindex) < 0)
			log_obj(LOG_ERR, LOG_OBJ(.network = owner),
				"cannot remove VXLAN device %s of network '%s'", l->name, owner);
		else
			log_obj(LOG_INFO, LOG_OBJ(.network = owner),
				"VXLAN device %s removed: network '%s' does not run it", l->name, owner);
	}
	link_dump_free(&dump);
}

/* False when peers are configured (--evpn-peers) and FRR's last answer has no remote VTEP for the
 * network's VNI; true when nothing is known (EVPN's FRR not answering: netdctl status says so). */
static bool seen_elsewhere(struct daemon *d, const struct network *def)
{
	int r;

	if (!d->evpn.n_peers)
		return true;
	r = daemon_evpn_vni_vteps(d, def->vni, NULL, 0);
	return r > 0 || r == -ENODATA;
}

/* What device_problem() found: what fixes it differs. */
enum device_fault {
	DEVICE_OK,
	DEVICE_REPAIR, /* missing, not a port, down, another VNI/address/port: a reload makes it anew */
	DEVICE_FOREIGN, /* the name is another interface's: the operator's to remove */
	DEVICE_MTU, /* only its MTU differs from the underlay's less the overhead */
	DEVICE_MAC, /* the bridge's MAC is not the anycast one (the links feature's: a restart) */
};

/* What is wrong with the network's device in dump (spec: what it must be), or NULL (*fault
 * DEVICE_OK). */
static const char *device_problem(const struct network *def, const struct link_dump *dump,
				  const struct vxlan_spec *spec, const char *alias, enum device_fault *fault,
				  char *buf, size_t size)
{
	const struct link_info *vx = link_dump_find_name(dump, spec->name);
	const struct link_info *br = link_dump_find_name(dump, def->bridge);
	char a[INET6_ADDRSTRLEN];
	struct mac anycast;

	network_fixed_mac(def, &anycast);
	if (vx && (strcmp(vx->kind, "vxlan") || strcmp(vx->alias, alias))) {
		snprintf(buf, size, "interface %s exists and is not the VXLAN device of network '%s'",
			 spec->name, def->name);
		*fault = DEVICE_FOREIGN;
		return buf;
	}
	if (vx && same_device(vx, spec) && br && vx->master == br->ifindex && vx->up &&
	    !mac_equal(&br->mac, &anycast)) {
		snprintf(buf, size, "bridge %s's MAC is not the anycast gateway's", def->bridge);
		*fault = DEVICE_MAC;
		return buf;
	}
	*fault = DEVICE_REPAIR;
	if (!vx)
		snprintf(buf, size, "VXLAN device %s missing", spec->name);
	else if (!same_device(vx, spec))
		snprintf(buf, size,
			 "VXLAN device %s does not have VNI %u, local address %s (--vtep) and port %u",
			 spec->name, spec->vni,
			 ip_addr_format(spec->local_family, &spec->local, a, sizeof(a)), spec->dstport);
	else if (!br || vx->master != br->ifindex)
		snprintf(buf, size, "VXLAN device %s is not a port of bridge %s", spec->name, def->bridge);
	else if (!vx->up)
		snprintf(buf, size, "VXLAN device %s down", spec->name);
	else if (vx->mtu != spec->mtu) {
		snprintf(buf, size, "VXLAN device %s has MTU %u, the underlay allows %u", spec->name, vx->mtu,
			 spec->mtu);
		*fault = DEVICE_MTU;
	} else {
		*fault = DEVICE_OK;
	}
	return *fault == DEVICE_OK ? NULL : buf;
}

static const char *vxlan_problem(struct daemon *d, const struct net *n, const struct net_view *v, char *buf,
				 size_t size)
{
	const struct network *def = n->def;
	struct link_dump dump = {};
	struct vxlan_spec spec = {};
	char name[IFNAMSIZ], alias[64];
	const char *p = NULL;
	enum device_fault fault;

	if (!wants(def))
		return NULL;
	/* The request's dump has every link; 'network list' every address too, 'network show' only
	 * the bridge's: the VTEP address not found there is looked for in one of its own. */
	if (spec_of(d, def, v->dump, &spec, name, alias, sizeof(alias), buf, size) == -EADDRNOTAVAIL) {
		if (d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS, &dump) < 0)
			return "cannot read links from the kernel";
		if (spec_of(d, def, &dump, &spec, name, alias, sizeof(alias), buf, size) < 0) {
			p = buf;
			goto out;
		}
	} else if (!spec.name) {
		return buf; /* no --vtep, or the underlay's MTU */
	}
	p = device_problem(def, v->dump, &spec, alias, &fault, buf, size);
	if (!p && !seen_elsewhere(d, def)) {
		snprintf(
			buf, size,
			"VNI %u is seen from no other host: FRR has no EVPN route of it from any VTEP "
			"(is the network created on the other hosts, are the BGP sessions up? netdctl status)",
			def->vni);
		p = buf;
	}
out:
	link_dump_free(&dump);
	return p;
}

/* 'netdctl doctor': step "vxlan", the device and its underlay (the BGP side is the evpn feature's). */
static void vxlan_doctor(struct daemon *d, const struct net *n, const struct link_dump *dump,
			 doctor_step_fn step, void *ctx)
{
	const struct network *def = n->def;
	unsigned overhead = d->evpn.vtep_family == AF_INET6 ? VXLAN_OVERHEAD6 : VXLAN_OVERHEAD4;
	struct vxlan_spec spec = {};
	char name[IFNAMSIZ], alias[64], buf[512], fix[256], a[INET6_ADDRSTRLEN];
	const struct link_info *ul;
	enum device_fault fault;
	int r;

	if (!wants(def))
		return;
	r = spec_of(d, def, dump, &spec, name, alias, sizeof(alias), buf, sizeof(buf));
	ul = d->evpn.vtep_family ? underlay(d, dump) : NULL;
	if (r == -EMSGSIZE)
		snprintf(fix, sizeof(fix), "ip link set %s mtu %u; netdctl reload", ul ? ul->name : "IFACE",
			 VXLAN_GUEST_MTU_MIN + overhead);
	else if (r == -EADDRNOTAVAIL)
		snprintf(
			fix, sizeof(fix),
			"ip addr add %s/PREFIX dev IFACE (or restart netd with --vtep set to an address of this host)",
			ip_addr_format(d->evpn.vtep_family, &d->evpn.vtep, a, sizeof(a)));
	else if (r < 0)
		snprintf(fix, sizeof(fix),
			 "restart netd with --vtep ADDR (or vtep in [evpn] of %s/netd.conf)",
			 d->paths.config_dir);
	if (r < 0) {
		step(ctx, "vxlan", "fail", fix, buf);
		return;
	}
	if (device_problem(def, dump, &spec, alias, &fault, buf, sizeof(buf))) {
		const struct link_info *vx = link_dump_find_name(dump, name);
		const char *status = "fail";

		if (fault == DEVICE_MTU) {
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
				 " (%s's MTU %u less %u): netd sets it at a reload%s", ul->name, ul->mtu,
				 overhead,
				 vx->mtu > spec.mtu ? "; until then large frames are lost on the way" : "");
			status = vx->mtu > spec.mtu ? "fail" : "warn";
			snprintf(fix, sizeof(fix), "netdctl reload");
		} else if (fault == DEVICE_FOREIGN) {
			snprintf(fix, sizeof(fix),
				 "ip link del %s (if nothing else uses it), then netdctl reload", name);
		} else if (fault == DEVICE_MAC) {
			snprintf(fix, sizeof(fix),
				 "netdctl network stop %s --force && netdctl network start %s", def->name,
				 def->name);
		} else {
			snprintf(fix, sizeof(fix), "netdctl reload (netd makes the device as it should be)");
		}
		step(ctx, "vxlan", status, fix, buf);
		return;
	}
	snprintf(
		buf, sizeof(buf),
		"VXLAN device %s (VNI %u, local %s, UDP %u) is up, a port of %s; MTU %u: underlay %s's %u less %u",
		name, spec.vni, ip_addr_format(spec.local_family, &spec.local, a, sizeof(a)), spec.dstport,
		def->bridge, spec.mtu, ul->name, ul->mtu, overhead);
	step(ctx, "vxlan", "ok", NULL, buf);
}

/* The other hosts that carry the VNI (FRR's EVPN type-3 routes, its last answer), or null when
 * FRR did not answer (or EVPN is off). */
static json_object *vteps_json(struct daemon *d, uint32_t vni)
{
	struct frr_peer_addr vteps[64];
	char a[INET6_ADDRSTRLEN];
	json_object *arr;
	int r = daemon_evpn_vni_vteps(d, vni, vteps, ELEMENTSOF(vteps));

	if (r == -ENODATA)
		return NULL;
	arr = json_object_new_array();
	for (int i = 0; i < r && i < (int)ELEMENTSOF(vteps); i++)
		json_object_array_add(arr, json_object_new_string(ip_addr_format(
						   vteps[i].family, &vteps[i].addr, a, sizeof(a))));
	return arr;
}

/* 'network show': the device and its underlay (from the kernel, so only in the full view). */
static void vxlan_show(struct daemon *d, const struct net *n, const struct net_view *v, json_object *o)
{
	const struct link_info *vx;
	char name[IFNAMSIZ], s[MAC_STRLEN];
	struct mac anycast;
	json_object *k;

	if (!wants(n->def) || !v->full)
		return;
	device_name(n->def->vni, name);
	network_fixed_mac(n->def, &anycast);
	vx = link_dump_find_name(v->dump, name);
	k = json_object_new_object();
	json_object_object_add(k, "device", json_object_new_string(name));
	json_object_object_add(k, "exists", json_object_new_boolean(vx && !strcmp(vx->kind, "vxlan")));
	json_object_object_add(k, "mtu", vx ? json_object_new_int64(vx->mtu) : NULL);
	json_object_object_add(k, "anycast_mac", json_object_new_string(mac_format(&anycast, s, sizeof(s))));
	json_object_object_add(k, "remote_vteps", vteps_json(d, n->def->vni));
	json_object_object_add(o, "vxlan", k);
}

/* show() adds nothing to 'network list' (not full): nothing beyond the definition. */
static void vxlan_show_key(struct daemon *d, const struct net *n, struct net_show_key *k)
{
}

static int vxlan_init(struct daemon *d)
{
	struct vxlan_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	*daemon_feature_state(d, &feature_vxlan) = st;
	return 0;
}

static void vxlan_done(struct daemon *d)
{
	struct vxlan_state *st = VXLAN_STATE(d);

	if (st)
		free(st->applied);
	free(st);
	*daemon_feature_state(d, &feature_vxlan) = NULL;
}

/* netdctl reload (SIGHUP): a running network's device that differs from what it should be (its
 * underlay's MTU changed since, missing, down, not a port) is made so again by up(); one that is
 * as it should be costs a lookup in one dump. A network that cannot (the underlay now too small,
 * the name another interface's) keeps what it has; its error is the reply's. */
static int vxlan_reload(struct daemon *d, char *err, size_t errlen)
{
	struct link_dump dump = {};
	int ret = 0, r;

	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS, &dump);
	if (r < 0) {
		snprintf(err, errlen, "cannot read links from the kernel: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < d->n_nets; i++) {
		struct net *n = d->nets[i];
		struct vxlan_spec spec = {};
		char e[512], name[IFNAMSIZ], alias[64];
		enum device_fault fault;

		if (!n->active || !wants(n->def))
			continue;
		r = spec_of(d, n->def, &dump, &spec, name, alias, sizeof(alias), e, sizeof(e));
		if (r >= 0 && (!device_problem(n->def, &dump, &spec, alias, &fault, e, sizeof(e)) ||
			       fault == DEVICE_MAC))
			continue; /* as it should be (the bridge's MAC is the links feature's) */
		if (r >= 0)
			r = vxlan_up(d, n, e, sizeof(e));
		if (r < 0 && !ret) {
			snprintf(err, errlen, "%s", e); /* logged by the caller */
			ret = r;
		} else if (r < 0) {
			log_obj(LOG_ERR, LOG_OBJ(.network = n->def->name), "reload: %s", e);
		}
	}
	link_dump_free(&dump);
	return ret;
}

const struct feature feature_vxlan = {
	.name = "vxlan",
	.init = vxlan_init,
	.done = vxlan_done,
	.up = vxlan_up,
	.down = vxlan_down,
	.problem = vxlan_problem,
	.doctor = vxlan_doctor,
	.show = vxlan_show,
	.show_key = vxlan_show_key,
	.settle = vxlan_settle,
	.user_add = vxlan_user_add,
	.reload = vxlan_reload,
};
