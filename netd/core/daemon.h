/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "firewall.h"
#include "frr-conf.h"
#include "frr-state.h"
#include "fwint.h"
#include "link.h"
#include "net.h"
#include "network.h"
#include "network-index.h"
#include "portsec.h"
#include "hostprobe.h"
#include "proc.h"
#include "server.h"
#include "qemu-argv.h"
#include "store.h"
#include "tap.h"

struct client;
struct control;

#define PEER_GROUPS_MAX 256
#define NETD_IMAGE_DIRS_MAX 16
#define NETD_QEMU_USER_DEFAULT "netd-qemu"
#define NETD_IMAGE_DIR_DEFAULT "/var/lib/netd/images"

/* Who sent a request: SO_PEERCRED and SO_PEERGROUPS, read when the connection was accepted. What
 * a request may touch on the host (files a guest uses) is checked with these credentials. */
struct peer_cred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[PEER_GROUPS_MAX];
	size_t n_groups;
};

/* One request being answered. Methods reply through call_reply()/call_fail(), now or later. */
struct call {
	struct client *client;
	uid_t uid; /* of the peer, from SO_PEERCRED (peer.uid) */
	struct peer_cred peer;
	char err[1024];
	/* A call without a client (tests/unit/test-daemon.c) hands its reply and progress lines here. */
	void (*on_reply)(struct call *call, json_object *reply);
	void (*on_progress)(struct call *call, const char *text);
	void *userdata;
};

struct daemon {
	sd_event *event;
	struct netd_paths paths;
	/* The backends everything reaches the kernel and children through: the real ones from main.c,
	 * the recording fakes in tests/unit/test-daemon.c. */
	struct link_backend link;
	struct fw_backend nft;
	struct net **nets; /* net.h: every network, running or not */
	size_t n_nets;
	/* The same networks by name, bridge, uplink and subnet (owners: the struct net), kept by
	 * daemon_net_add/remove and every change of a definition; net_seq: the order of adding. */
	struct network_index net_index;
	uint64_t net_seq;
	struct net_waiter *waiters; /* daemon_net_when_settled(), a list */
	/* daemon_reconcile_all() is walking every network, and every feature's settle() follows: a
	 * feature may do work that is the same for every network once in the walk (net.h). */
	bool reconciling_all;
	uint64_t start_usec;
	int lock_fd;
	int listen_fd;
	gid_t netd_gid; /* (gid_t)-1 when there is no group 'netd' */
	struct client *clients;
	struct control *control; /* control.c: the listening side and its limits */
	struct proc_backend proc;
	struct probe_backend probe; /* what netdctl doctor reads and probes (dhcp/hostprobe.h) */
	struct firewalld_backend firewalld; /* fwint.h: firewalld over D-Bus; ops NULL: never looked for */
	int fw_integration; /* enum fwint_mode: netd --firewall-integration */
	/* Where fwint.c reads which iptables-legacy tables exist (ip_tables_names); NULL: /proc/net.
	 * The unit tests point it at a folder of theirs. */
	const char *proc_net;
	/* Report a block by a table that just appeared at once (firewall.c's grace): the unit tests,
	 * whose fake ruleset changes in one step. */
	bool fw_no_grace;
	const char *dnsmasq;	 /* the binary */
	const char *resolv_conf; /* where the upstream resolvers are (netd --resolv-conf), NULL:
				    /etc/resolv.conf */
	struct ip_prefix subnet_pool; /* where --subnet auto picks a /24 */
	/* Networks across hosts (mode evpn): this host's VXLAN tunnel endpoint (netd --vtep);
	 * vtep_family 0: none, EVPN is off. The FRR side's settings join it (network/evpn.c): evpn is
	 * what is in force, the command line's merged over CONFIG_DIR/netd.conf's [evpn]
	 * (daemon_evpn_load); evpn_cmdline is what the command line gave (given: EVPN_GIVEN_*), which
	 * wins again at every reload. */
	struct daemon_evpn {
		int vtep_family;
		union in_addr_union vtep;
		struct frr_peer peers[FRR_PEERS_MAX]; /* --evpn-peers */
		size_t n_peers;
		bool reflector; /* --evpn-reflector */
		uint32_t asn; /* --asn, FRR_ASN_DEFAULT when none is given */
		/* The command line's only: */
		const char *frr_pathspace; /* FRR's -N NAME, NULL: none */
		const char *frr_reload, *vtysh; /* the programs (absolute paths) */
		const char *frr_conf; /* the file netd owns; NULL until daemon_evpn_load: the default */
		unsigned given;
	} evpn, evpn_cmdline;
	/* Guests (vm.c) */
	struct tap_backend tap;
	struct vm **vms;
	size_t n_vms;
	const char *qemu_binary;
	const char *qemu_user; /* QEMU runs as this user (netd --qemu-user; "root" keeps root) */
	const char *image_dirs[NETD_IMAGE_DIRS_MAX]; /* where non-root requesters' guest files may live */
	size_t n_image_dirs;
	struct qemu_caps qemu_caps;
	int kvm_probe;	    /* enum kvm_probe_state */
	char kvm_note[160]; /* what the KVM probe found */
	pid_t kvm_probe_pid;
	sd_event_source *kvm_probe_source, *kvm_probe_timer;
	struct uplink **uplinks; /* uplink conversions, confirmed or in progress */
	size_t n_uplinks;
	sd_event_source *trim_timer; /* daemon_trim_later() */
	struct disk_job *disk_jobs; /* disk conversions running (netd/guest/disk.c), a list */
	void *feature_state[DAEMON_FEATURES_MAX]; /* daemon_feature_state(): each feature's own */
};

enum {
	EVPN_GIVEN_VTEP = 1 << 0,
	EVPN_GIVEN_PEERS = 1 << 1,
	EVPN_GIVEN_REFLECTOR = 1 << 2,
	EVPN_GIVEN_ASN = 1 << 3,
};
#define NETD_FRR_RELOAD_DEFAULT "/usr/lib/frr/frr-reload.py"
#define NETD_VTYSH_DEFAULT "/usr/bin/vtysh"
#define NETD_FRR_CONF_DEFAULT "/etc/frr/frr.conf"
/* FRR's pathspace (-N NAME): a directory name under /etc/frr and /var/run/frr. */
#define NETD_FRR_PATHSPACE_MAX 64
/* FRR's run directory (Debian's frr), a pathspace's a directory NAME in it. */
#define NETD_FRR_RUNDIR "/var/run/frr"
bool daemon_frr_pathspace_valid(const char *name);
/* The EVPN settings in force (network/evpn.c): cmdline's (its given keys) over the [evpn] section
 * of CONFIG_DIR/netd.conf (no file: none), the defaults filled in, checked together (peers and a
 * reflector need a VTEP, peers of its family). On failure ret is untouched and err says why, naming
 * the file's line or the option. */
int daemon_evpn_load(const struct daemon_evpn *cmdline, const char *config_dir, struct daemon_evpn *ret,
		     char *err, size_t errlen);
/* What FRR said last of VNI vni (network/evpn.c's poll, `show evpn vni json`): the remote VTEPs
 * carrying it (EVPN type-3 routes) into ret, at most max; their count (all of them, even past max),
 * -ENOENT when FRR does not know the VNI, -ENODATA when EVPN is off or FRR did not answer. For a
 * network of mode evpn's part of 'network show'. */
int daemon_evpn_vni_vteps(struct daemon *d, uint32_t vni, struct frr_peer_addr *ret, size_t max);
/* The same from the file's text (NULL: no file), for the tests. */
int daemon_evpn_merge(const struct daemon_evpn *cmdline, const char *text, const char *file,
		      struct daemon_evpn *ret, char *err, size_t errlen);

/* Where --subnet auto looks by default: 256 /24s that home and office networks rarely use. */
#define NETD_SUBNET_POOL_DEFAULT "10.122.0.0/16"

typedef int (*method_fn)(struct daemon *d, struct call *c, json_object *params);

/* What a method does, declared in its area's table and checked in one place (control.c's
 * method_call), not by the method itself. */
enum {
	METHOD_READ = 0, /* reads state; changes nothing */
	METHOD_CHANGE = 1 << 0, /* changes definitions, the kernel or guests: logged with who asked */
	METHOD_ROOT = 1 << 1, /* from root only (lease.event: dnsmasq's helper), not from operators */
	METHOD_ASYNC = 1 << 2, /* may keep the call and reply later (QMP, a verification, a stream) */
};

struct method {
	const char *name;
	method_fn fn;
	unsigned flags;
};

/* The methods of one area (network, guest, uplink, daemon): each lives with the code it drives. */
struct method_area {
	const struct method *methods;
	size_t n;
};

#define METHOD_AREA(table)                                 \
	{                                                  \
		.methods = (table), .n = ELEMENTSOF(table) \
	}

extern const struct method_area network_methods, daemon_methods, guest_methods, uplink_methods,
	doctor_methods, disk_methods, define_methods, guest_look_methods, clone_methods;
/* Stop every disk conversion (netd stops): qemu-img killed, its unfinished file gone, the call
 * answered. */
void disk_jobs_abort(struct daemon *d);
extern const struct method_area vm_live_methods;
extern const struct method_area vm_nic_methods;
extern const struct method_area vm_snapshot_methods;
extern const struct method_area forward_methods;

const struct method *method_find(const char *name);
/* Run m for call after the checks its flags declare; a negative errno has been answered already
 * (or, with the call's client gone, dropped). */
int method_call(struct daemon *d, const struct method *m, struct call *call, json_object *params);

void call_reply(struct call *c, json_object *result);
/* Record the user-facing message of a failure; the method then returns the negative errno. */
int call_errorf(struct call *c, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void call_progress(struct call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether the client of a call a method kept has hung up (closed the connection: its reply would
 * go nowhere; a half-closed one still reads it): a long job done only for it (disk convert) stops
 * then. */
bool call_client_gone(const struct call *c);
/* Turn the call's connection into an event stream (daemon.monitor): it gets no reply. */
void control_monitor(struct call *c);
/* Send {"event": type, "time": ..., data...} to every monitor; takes data. */
void daemon_event(struct daemon *d, const char *type, json_object *data);
/* Fail a call that a method kept for later (the method already returned). */
void call_reply_error(struct call *c, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The features' init and done, in their order (net.h). */
int daemon_features_init(struct daemon *d);
void daemon_features_done(struct daemon *d);
/* Every feature's part of daemon.status. */
void daemon_features_status(struct daemon *d, json_object *o);

/* The definition of the network of that name (or bridge), or NULL. */
struct network *daemon_network_find(struct daemon *d, const char *name);
struct network *daemon_network_find_bridge(struct daemon *d, const char *bridge);
/* Check a definition against the other networks and the host's addresses, routes and links. */
int daemon_check_conflicts(struct daemon *d, const struct network *n, char *err, size_t errlen);
/* A network whose mode spans hosts (network/vxlan.c): netd --vtep given, the VTEP address on a link
 * of the host, whose MTU leaves guests 1500 bytes; 0 for other modes. */
int daemon_vxlan_check(struct daemon *d, const struct network *n, char *err, size_t errlen);
/* network_check_forward_listen on a fresh dump of the host's addresses: create, forward add and
 * reload (not start: an address that comes later, by DHCP on the uplink, is matched then). */
int daemon_check_forward_listen(struct daemon *d, const struct network *n, char *err, size_t errlen);
/* --subnet auto: pick a free /24 of the pool for n (see network_choose_subnet). */
int daemon_choose_subnet(struct daemon *d, struct network *n, char *err, size_t errlen);
/* --subnet6 auto: pick a free /64 of the host's ULA /48 for n (see network_choose_subnet6). */
int daemon_choose_subnet6(struct daemon *d, struct network *n, bool dry_run, char *err, size_t errlen);
/* Bring every network up or down as its active flag says, then settle what no network owns. */
int daemon_reconcile_all(struct daemon *d);
int daemon_reload(struct daemon *d, json_object **ret_report);
/* Everything on the backends and event loop already in d: definitions, features, uplinks, networks
 * (adopted or started), guests, port security. The control socket is the caller's. */
int daemon_start(struct daemon *d);
/* Free what daemon_start made (networks and guests keep running); the backends stay the caller's. */
void daemon_stop(struct daemon *d);

/* Hand the heap's free pages back to the kernel once netd has been idle for a second: call it
 * after work that allocates and frees a lot (requests, reconciles, reloads). */
int daemon_trim_init(struct daemon *d);
void daemon_trim_later(struct daemon *d);

/* The ifindex of the bridge network n has now (links.c, feature_links; 0 when it is not up). */
int daemon_net_bridge_ifindex(struct daemon *d, const struct net *n);
/* The dnsmasq of network name (dnsmasq.c, feature_dhcp), or NULL. */
struct dhcp_server *daemon_dhcp_find(struct daemon *d, const char *name);
/* The files of a running network's dnsmasq rendered again: dnsmasq re-reads changed hosts files
 * (SIGHUP), or restarts for a changed config. Nothing when it has no dnsmasq. */
int daemon_dhcp_refresh(struct daemon *d, struct net *n, char *err, size_t errlen);
/* evpn-dhcp.c (feature_evpn_dhcp), for a network across hosts: the hosts file of the guests EVPN
 * places on other hosts (the bridge's extern_learn neighbours), and those guests as entries of
 * 'network leases' (type "remote", their host's VTEP). */
int daemon_evpn_dhcp_hosts(struct daemon *d, const struct network *n, char **ret);
void daemon_evpn_dhcp_leases(struct daemon *d, const struct net *n, json_object *list);
/* --tftp-root and --pxe-boot at network create (who: the requester) and start: the requester and
 * dnsmasq's user may read them, the root is no system or netd directory, and no other socket holds
 * udp/69 on the gateway or every address. Never at adoption or reload: a root that went away later
 * is a problem shown (dhcp's problem()), not a failure. */
int dhcp_tftp_check_request(struct daemon *d, const struct network *n, const struct peer_cred *who, char *err,
			    size_t errlen);
int dhcp_tftp_port_check(const struct network *n, char *err, size_t errlen);
/* dnsmasq's --servers-file for the networks that forward DNS (upstream.c, feature_upstream). */
const char *daemon_upstream_servers_file(struct daemon *d);

/* The bridge's sysctls that keep the host from learning from guests (bridge-guard.c): no router
 * advertisements or redirects accepted, strict reverse-path filtering. */
int daemon_bridge_guard(struct daemon *d, const struct network *n, char *err, size_t errlen);
/* A guest's TAP: IPv6 off on it, before it becomes a port and QEMU gets it. */
int daemon_port_guard(struct daemon *d, const char *ifname, char *err, size_t errlen);

/* Port security (portsec.c, feature_portsec): what each guest port may send. Apply the table once the guests
 * are adopted; until then port changes are only recorded. */
int daemon_portsec_start(struct daemon *d);
/* The port ifname is a NIC of a guest on network, with that MAC: filter it at that level (OFF
 * removes its filter). FULL becomes MAC on a network of mode bridge. */
int daemon_portsec_port_set(struct daemon *d, const char *ifname, const char *network, const struct mac *mac,
			    enum ps_level level, char *err, size_t errlen);
void daemon_portsec_port_remove(struct daemon *d, const char *ifname);
/* The network's leases, reservations or settings changed: its ports' addresses follow. */
void daemon_portsec_network_changed(struct daemon *d, const char *network);
enum ps_level daemon_portsec_level(struct daemon *d, const char *ifname);
/* After another process's nftables change. */
void daemon_portsec_check(struct daemon *d);
/* Port forwards (forward.c): a network's leases changed; another process changed nftables. */
void daemon_forward_network_changed(struct daemon *d, const char *network);
void daemon_forward_check(struct daemon *d);
/* The address a forward to a name stands for now (forward.c): 1 with *ret, 0 when none yet. */
struct nat_forward;
int daemon_forward_resolve(struct daemon *d, const struct net *net, const struct nat_forward *f,
			   union in_addr_union *ret);
/* A network's definition with one change applied: validated, saved and made live (on failure the
 * previous one is saved and runs again). Takes changed (network-methods.c). */
int daemon_network_replace(struct daemon *d, struct call *c, struct net *n, struct network *changed);
/* The nftables backend the firewall runs on (firewall.c), or NULL without nftables. */
const struct fw_backend *daemon_nft(struct daemon *d);
/* Apply an nft script through that backend (-EOPNOTSUPP without nftables, with a message). */
int daemon_nft_apply(struct daemon *d, const char *script, char *err, size_t errlen);
struct reach_ruleset;
/* The other tables as the firewall listed them last (reach.h; firewall.c), NULL before the first
 * listing or without nftables. Listed again only after another process changed the ruleset. */
const struct reach_ruleset *daemon_reach_ruleset(struct daemon *d);
/* What the other tables do to network net's traffic now (forwarding both ways, DHCP, DNS, ND and
 * DHCPv6 to its gateway; reach.h): 1 with what blocks it and the commands that let it through
 * (reach_check_fix), 0 when nothing does, -ENOENT without a listing or rules of netd's for it. */
int daemon_reach_network(struct daemon *d, const struct net *net, char *problem, size_t psize, char *advice,
			 size_t asize);
/* List the other tables again now and report (firewall.c): firewalld started, stopped or reloaded. */
void daemon_firewall_recheck(struct daemon *d);
struct reach_check;
/* How long ago the firewall's monitor saw another process's nftables transaction (UINT64_MAX: never). */
uint64_t daemon_firewall_quiet_usec(struct daemon *d);
/* The firewall integration (fwint.c), when check c of network net fails in the other tables rs:
 * in auto, queue the way through the manager that owns the table (Docker, ufw, firewalld).
 * FWINT_TAKEN when it queued something (the firewall reports nothing yet), FWINT_DEFERRED when it
 * waits for the manager to finish a change of its own (shown, not logged yet: it looks again
 * later), 0 when it cannot help (report it). */
enum { FWINT_TAKEN = 1, FWINT_DEFERRED = 2 };
int daemon_fwint_take(struct daemon *d, const struct net *net, const struct reach_ruleset *rs,
		      const struct reach_check *c);
/* What the iptables-legacy tables block of network net (fwint.c): 1 with the problem and the
 * commands that let it through, 0 for nothing. */
int daemon_fwint_problem(struct daemon *d, const struct net *n, char *problem, size_t psize, char *fix,
			 size_t fsize);
/* Judge the iptables-legacy tables afresh for every network (they send no notification), changing
 * nothing (netdctl doctor). */
void daemon_fwint_legacy_judge(struct daemon *d);
/* Network net passes every check: the integration may take it again when it is blocked later. */
void daemon_fwint_passed(struct daemon *d, const struct net *net);
/* Apply what daemon_fwint_take() queued in this pass, then (legacy) judge the iptables-legacy tables
 * for every network. 1 when the nftables ruleset changed (list it again), else 0. */
int daemon_fwint_flush(struct daemon *d, bool legacy);

int control_listen(struct daemon *d);
void control_close_all(struct daemon *d);
