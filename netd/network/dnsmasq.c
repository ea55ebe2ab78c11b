/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's side of DHCP/DNS: where a network's dnsmasq files live, rendering them from the
 * definition, and keeping one supervised dnsmasq per active network in step with it.
 *   <run>/dnsmasq/NAME.conf       the config (rendered, written atomically)
 *   <run>/dnsmasq/NAME.hosts      reservations (--dhcp-hostsfile), re-read on SIGHUP
 *   <run>/dnsmasq/NAME.addnhosts  extra DNS records (--addn-hosts), re-read on SIGHUP
 *   <run>/dnsmasq/NAME.pid        dnsmasq's pid file, for adoption
 *   <state>/networks/NAME/leases  dnsmasq's lease file: survives restarts and reboots
 *   <state>/networks/NAME/lease6-macs  netd's record of the DHCPv6 leases' MACs (root's, 0600)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>
#include <arpa/inet.h>

#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "vm-files.h"
#include "forward.h"

extern const struct feature feature_dhcp; /* this file's, at its end */

#ifndef NETD_LIBEXECDIR
#define NETD_LIBEXECDIR "/usr/libexec"
#endif

struct dnsmasq_files {
	char *dir, *conf, *hosts, *addn, *remote, *pid, *spawned, *state_dir, *leases, *lease_macs;
};

static void files_free(struct dnsmasq_files *f)
{
	free(f->dir);
	free(f->conf);
	free(f->hosts);
	free(f->addn);
	free(f->remote);
	free(f->pid);
	free(f->spawned);
	free(f->state_dir);
	free(f->leases);
	free(f->lease_macs);
}

static int files_init(struct daemon *d, const char *name, struct dnsmasq_files *ret)
{
	struct dnsmasq_files f = {};

	if (asprintf(&f.dir, "%s/dnsmasq", d->paths.run_dir) < 0 ||
	    asprintf(&f.conf, "%s/%s.conf", f.dir, name) < 0 ||
	    asprintf(&f.hosts, "%s/%s.hosts", f.dir, name) < 0 ||
	    asprintf(&f.addn, "%s/%s.addnhosts", f.dir, name) < 0 ||
	    asprintf(&f.remote, "%s/%s.remote", f.dir, name) < 0 ||
	    asprintf(&f.pid, "%s/%s.pid", f.dir, name) < 0 ||
	    asprintf(&f.spawned, "%s/%s.netd.pid", f.dir, name) < 0 ||
	    asprintf(&f.state_dir, "%s/networks/%s", d->paths.state_dir, name) < 0 ||
	    asprintf(&f.leases, "%s/leases", f.state_dir) < 0 ||
	    asprintf(&f.lease_macs, "%s/lease6-macs", f.state_dir) < 0) {
		files_free(&f);
		return -ENOMEM;
	}
	*ret = f;
	return 0;
}

/* The feature's own state: the lease helper dnsmasq runs (--dhcp-script), NULL when missing, and
 * the dnsmasq told to exit that are not gone yet (a network stopped or deleted: its down() does
 * not wait; a config that changed: the new dnsmasq starts once the old one is gone; the network's
 * name is pending until then). Each network's running dnsmasq is in its slot (net_slot). */
struct dhcp_feature {
	char *lease_helper;
	struct dhcp_server **stopping;
	bool *restart; /* stopping[i] is a restart: a new dnsmasq starts once it is gone */
	size_t n_stopping;
};

#define DHCP(d) ((struct dhcp_feature *)*daemon_feature_state((d), &feature_dhcp))

static struct dhcp_server *stopping_find(struct daemon *d, const char *name)
{
	struct dhcp_feature *df = DHCP(d);

	for (size_t i = 0; df && i < df->n_stopping; i++)
		if (!strcmp(df->stopping[i]->network, name))
			return df->stopping[i];
	return NULL;
}

struct dhcp_server *daemon_dhcp_find(struct daemon *d, const char *name)
{
	struct net *n = daemon_net_find(d, name);

	return n ? *net_slot(n, &feature_dhcp) : NULL;
}

static void server_forget(struct daemon *d, struct dhcp_server *s)
{
	struct net *n = daemon_net_find(d, s->network);

	if (n && *net_slot(n, &feature_dhcp) == s)
		*net_slot(n, &feature_dhcp) = NULL;
	dhcp_server_free(s);
}

/* dnsmasq drops to this user; the lease file stays writable because dnsmasq opens it as root
 * before dropping privileges. */
static void dnsmasq_user(const char **ret_user, const char **ret_group)
{
	static char user[64], group[64];
	struct passwd *pw = getpwnam("dnsmasq");
	struct group *gr;

	if (!pw)
		pw = getpwnam("nobody");
	if (!pw) {
		*ret_user = *ret_group = NULL;
		return;
	}
	snprintf(user, sizeof(user), "%s", pw->pw_name);
	gr = getgrgid(pw->pw_gid);
	snprintf(group, sizeof(group), "%s", gr ? gr->gr_name : "");
	*ret_user = user;
	*ret_group = group[0] ? group : NULL;
}

static int server_new(struct daemon *d, const char *name, const struct dnsmasq_files *f,
		      struct dhcp_server **ret)
{
	_cleanup_free_ char *sock = NULL, *net = NULL;
	char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL, NULL, NULL };
	struct dhcp_server_spec spec = {
		.network = name,
		.dnsmasq = d->dnsmasq,
		.conf_path = f->conf,
		.pid_path = f->pid,
		.spawn_pid_path = f->spawned,
		.lease_path = f->leases,
		.lease_macs_path = f->lease_macs,
		.env = env,
		/* Bound to its bridge (bind-interfaces), dnsmasq has nothing to do on the host's address
		 * and route changes; it still subscribes to them (dhcp/DESIGN.md). */
		.rtnl_unsubscribe = 1ull << RTNLGRP_IPV4_IFADDR | 1ull << RTNLGRP_IPV4_ROUTE |
				    1ull << RTNLGRP_IPV6_IFADDR | 1ull << RTNLGRP_IPV6_ROUTE,
	};
	struct net *n = daemon_net_find(d, name);
	int r;

	/* But with an IPv6 prefix it starts its router advertisements when it hears of the bridge's
	 * link-local address: it keeps the IPv6 address notifications (each network's dnsmasq then
	 * wakes at every IPv6 address change of the host). */
	if (n && n->def->subnet6.family)
		spec.rtnl_unsubscribe &= ~(1ull << RTNLGRP_IPV6_IFADDR);

	if (asprintf(&sock, "NETD_SOCKET=%s", d->paths.socket) < 0 || asprintf(&net, "NETD_NETWORK=%s", name) < 0)
		return -ENOMEM;
	env[1] = sock;
	env[2] = net;
	dnsmasq_user(&spec.user, &spec.group);
	r = dhcp_server_new(d->event, &d->proc, &spec, ret);
	if (r < 0)
		return r;
	/* A network's: in its slot. A dnsmasq of a network that is gone is only stopped. */
	if (n)
		*net_slot(n, &feature_dhcp) = *ret;
	return 0;
}

/* dnsmasq's user as the permission bits see it (ACLs aside). */
struct dnsmasq_id {
	const char *name;
	uid_t uid;
	gid_t groups[64];
	int n_groups;
};

static int dnsmasq_id_get(struct dnsmasq_id *ret)
{
	const char *user, *group;
	struct passwd *pw;

	dnsmasq_user(&user, &group);
	if (!user || !(pw = getpwnam(user)))
		return -ENOENT;
	ret->name = user;
	ret->uid = pw->pw_uid;
	/* dnsmasq drops its supplementary groups (setgroups(0)) and runs with --group's gid: the
	 * user's primary one is what netd starts it with (dnsmasq_user) */
	ret->groups[0] = pw->pw_gid;
	ret->n_groups = 1;
	if (group) {
		struct group *gr = getgrnam(group);

		if (gr)
			ret->groups[0] = gr->gr_gid;
	}
	return 0;
}

/* Whether id may do bit (4 read, 1 search) on st: the owner's, group's or others' bits. */
static bool id_may(const struct dnsmasq_id *id, const struct stat *st, unsigned bit)
{
	if (id->uid == 0)
		return true;
	if (st->st_uid == id->uid)
		return st->st_mode & (bit << 6);
	for (int i = 0; i < id->n_groups; i++)
		if (st->st_gid == id->groups[i])
			return st->st_mode & (bit << 3);
	return st->st_mode & bit;
}

/*
 * Whether dnsmasq's user reaches path (a directory it must list, or a regular file it must read):
 * every directory on the way searchable, as written and as resolved (symbolic links). netd only
 * stats; dnsmasq opens TFTP files itself, after it has dropped to its user. 0, or -EACCES/-ENOENT/
 * -ENOTDIR/-EISDIR with what is in the way in why.
 */
static int path_reachable(const struct dnsmasq_id *id, const char *path, bool dir, char *why, size_t whylen)
{
	char buf[PATH_MAX], real[PATH_MAX];
	struct stat st;

	for (int pass = 0; pass < 2; pass++) {
		const char *p = pass ? realpath(path, real) : path;

		if (!p || strlen(p) >= sizeof(buf)) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno ?: ENAMETOOLONG));
			return -ENOENT;
		}
		for (const char *slash = p; (slash = strchr(slash + 1, '/'));) {
			snprintf(buf, sizeof(buf), "%.*s", (int)(slash - p), p);
			if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode) || !id_may(id, &st, 1)) {
				snprintf(why, whylen, "%s is not a directory user '%s' may enter", buf,
					 id->name);
				return -EACCES;
			}
		}
		if (stat(p, &st) < 0) {
			snprintf(why, whylen, "%s: %s", p, strerror(errno));
			return -ENOENT;
		}
		if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
			snprintf(why, whylen, "%s is not a %s", p, dir ? "directory" : "regular file");
			return dir ? -ENOTDIR : -EISDIR;
		}
		if (!id_may(id, &st, dir ? 5 : 4)) {
			snprintf(why, whylen, "%s is not readable by user '%s'", p, id->name);
			return -EACCES;
		}
	}
	return 0;
}

/*
 * The TFTP root and the boot file served from it must be readable by dnsmasq's user: dnsmasq opens
 * them after dropping privileges, so what it serves is what that user may read, never more (no
 * tftp-secure: it would serve only that user's own files, which an operator cannot make).
 */
static int tftp_check(const struct network *n, char *err, size_t errlen)
{
	const char *boot = dhcp_boot_file_local(&n->dhcp, &n->gateway);
	_cleanup_free_ char *file = NULL;
	struct dnsmasq_id id;
	char why[PATH_MAX + 128];
	int r;

	if (!n->dhcp.tftp_root[0] || !n->dhcp.dhcp)
		return 0;
	if (dnsmasq_id_get(&id) < 0) {
		snprintf(err, errlen, "--tftp-root: there is no user dnsmasq or nobody for dnsmasq's TFTP");
		return -ENOENT;
	}
	r = path_reachable(&id, n->dhcp.tftp_root, true, why, sizeof(why));
	if (r >= 0 && boot &&
	    asprintf(&file, "%s%s%s", n->dhcp.tftp_root, boot[0] == '/' ? "" : "/", boot) >= 0)
		r = path_reachable(&id, file, false, why, sizeof(why));
	if (r < 0)
		snprintf(err, errlen, "--%s: %s (dnsmasq serves TFTP as that user)",
			 file ? "pxe-boot" : "tftp-root", why);
	return r;
}

/* Whether cred may read path (a directory: read and search it) as the kernel decides (ACLs
 * included): access() in a child that took cred's groups, gid and uid. 0 or -errno. */
static int access_as(const struct process_cred *cred, const char *path, bool dir)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct stat st;

		if (setgroups(cred->n_groups, cred->groups) < 0 ||
		    setresgid(cred->gid, cred->gid, cred->gid) < 0 ||
		    setresuid(cred->uid, cred->uid, cred->uid) < 0)
			_exit(EPERM);
		if (access(path, R_OK | (dir ? X_OK : 0)) < 0)
			_exit(errno & 0xff);
		if (stat(path, &st) < 0)
			_exit(errno & 0xff);
		if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
			_exit(dir ? ENOTDIR : EISDIR);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? -WEXITSTATUS(status) : -EIO;
}

/* path is dir or under it (both canonical). */
static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!dir[0])
		return false;
	if (n == 1 && dir[0] == '/')
		return true;
	return !strncmp(path, dir, n) && (path[n] == '/' || !path[n]);
}

int dhcp_tftp_check_request(struct daemon *d, const struct network *n, const struct peer_cred *who, char *err,
			    size_t errlen)
{
	static const char *const system_dirs[] = { "/proc", "/sys", "/dev", "/etc", "/run", "/boot", "/root" };
	const char *boot = dhcp_boot_file_local(&n->dhcp, &n->gateway);
	const char *own[] = { d->paths.config_dir, d->paths.state_dir, d->paths.run_dir };
	_cleanup_free_ char *file = NULL, *real = NULL;
	struct process_cred cred;
	struct dnsmasq_id id;
	int r;

	if (!n->dhcp.tftp_root[0] || !n->dhcp.dhcp)
		return 0;
	/* what the requester may read, first: nothing is said of what it could not see itself */
	if (boot && asprintf(&file, "%s%s%s", n->dhcp.tftp_root, boot[0] == '/' ? "" : "/", boot) < 0)
		return -ENOMEM;
	vm_cred_from_peer(who, &cred);
	if (cred.uid != 0) {
		r = access_as(&cred, n->dhcp.tftp_root, true);
		if (r < 0) {
			snprintf(err, errlen, "--tftp-root: %s: %s (for uid %u, who asked)",
				 n->dhcp.tftp_root,
				 r == -EACCES || r == -EPERM ? "not a directory you may read" : strerror(-r),
				 (unsigned)cred.uid);
			return r;
		}
		if (file) {
			r = access_as(&cred, file, false);
			if (r < 0) {
				snprintf(err, errlen, "--pxe-boot: %s: %s (for uid %u, who asked)", file,
					 r == -EACCES || r == -EPERM ? "not a file you may read" :
								       strerror(-r),
					 (unsigned)cred.uid);
				return r;
			}
		}
	}
	real = realpath(n->dhcp.tftp_root, NULL);
	if (!real) {
		snprintf(err, errlen, "--tftp-root: %s: %s", n->dhcp.tftp_root, strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < ELEMENTSOF(system_dirs) + ELEMENTSOF(own); i++) {
		const char *dir = i < ELEMENTSOF(system_dirs) ? system_dirs[i] :
								own[i - ELEMENTSOF(system_dirs)];
		_cleanup_free_ char *dir_real = dir ? realpath(dir, NULL) : NULL;

		if (!dir || !dir[0])
			continue;
		if (path_under(real, dir) || (dir_real && path_under(real, dir_real)) || !strcmp(real, "/")) {
			snprintf(
				err, errlen,
				"--tftp-root: %s (%s) is %s: TFTP would serve the host's own files to guests",
				n->dhcp.tftp_root, real,
				!strcmp(real, "/") ? "the root directory" :
						     "under a system or netd directory");
			return -EPERM;
		}
	}
	/* dnsmasq's user, as the kernel decides (ACLs included): its uid and its one group */
	if (dnsmasq_id_get(&id) < 0) {
		snprintf(err, errlen, "--tftp-root: there is no user dnsmasq or nobody for dnsmasq's TFTP");
		return -ENOENT;
	}
	cred = (struct process_cred){ .uid = id.uid, .gid = id.groups[0] };
	for (int pass = 0; pass < 2; pass++) {
		const char *path = pass ? file : n->dhcp.tftp_root;

		if (!path)
			break;
		r = access_as(&cred, path, !pass);
		if (r < 0) {
			if (r == -EACCES || r == -EPERM)
				snprintf(
					err, errlen,
					"--%s: %s is not readable by user '%s' (dnsmasq serves TFTP as that user)",
					pass ? "pxe-boot" : "tftp-root", path, id.name);
			else
				snprintf(err, errlen, "--%s: %s: %s (dnsmasq serves TFTP as that user)",
					 pass ? "pxe-boot" : "tftp-root", path, strerror(-r));
			return r;
		}
	}
	return dhcp_tftp_port_check(n, err, errlen);
}

int dhcp_tftp_port_check(const struct network *n, char *err, size_t errlen)
{
	static const union in_addr_union any6;
	_cleanup_free_ char *udp = NULL, *udp6 = NULL;

	if (!n->dhcp.tftp_root[0] || !n->dhcp.dhcp || n->subnet.family != AF_INET)
		return 0;
	if ((read_file("/proc/net/udp", &udp, NULL) >= 0 &&
	     nat_fwd_socket_port(udp, false, false, &n->gateway, 69, 69)) ||
	    (read_file("/proc/net/udp6", &udp6, NULL) >= 0 &&
	     nat_fwd_socket_port(udp6, false, true, &any6, 69, 69))) {
		snprintf(err, errlen,
			 "--tftp-root: another program's socket holds udp port 69 on %s or on every address: "
			 "dnsmasq could not serve TFTP (nor DHCP and DNS); stop that TFTP server first",
			 inet_ntoa(n->gateway.in));
		return -EADDRINUSE;
	}
	return 0;
}

struct rendered {
	char *conf, *hosts, *addn, *remote; /* remote: NULL but for a network across hosts */
};

static void rendered_free(struct rendered *r)
{
	free(r->conf);
	free(r->hosts);
	free(r->addn);
	free(r->remote);
}

static int render(struct daemon *d, const struct network *n, const struct dnsmasq_files *f, struct rendered *ret)
{
	struct net *net = daemon_net_find(d, n->name);
	struct dhcp_render_ctx ctx = {
		.network = n->name,
		.bridge = n->bridge,
		.bridge_ifindex = net ? daemon_net_bridge_ifindex(d, net) : 0,
		.subnet = n->subnet,
		.gateway = n->gateway,
		.addresses = n->addresses,
		.n_addresses = n->n_addresses,
		.router = n->dhcp_router,
		.dns_forward = n->dhcp_router,
		.subnet6 = n->subnet6,
		.gateway6 = n->gateway6,
		.ipv6_mode = network_dhcp_ipv6_mode(n),
		.ra_router = n->dhcp_router,
		.mtu = n->mtu,
		.lease_file = f->leases,
		.hosts_file = f->hosts,
		.addn_hosts_file = f->addn,
		.remote_hosts_file = n->mode->vxlan && n->vni ? f->remote : NULL,
		.script = DHCP(d)->lease_helper,
		.servers_file = daemon_upstream_servers_file(d),
	};
	struct rendered r = {};
	int k;

	k = dhcp_config_render(&n->dhcp, &ctx, &r.conf);
	if (k >= 0)
		k = dhcp_hosts_render(&n->dhcp, &r.hosts);
	if (k >= 0)
		k = dhcp_addn_hosts_render(&n->dhcp, &r.addn);
	if (k >= 0 && ctx.remote_hosts_file)
		k = daemon_evpn_dhcp_hosts(d, n, &r.remote);
	if (k < 0) {
		rendered_free(&r);
		return k;
	}
	*ret = r;
	return 0;
}

/* Write path unless it already holds text; returns 1 when it changed. */
static int write_if_changed(const char *path, const char *text)
{
	_cleanup_free_ char *old = NULL;
	int r;

	if (read_file(path, &old, NULL) >= 0 && !strcmp(old, text))
		return 0;
	/* 0644 and a 0755 dir: dnsmasq re-reads the hosts files after dropping privileges. */
	r = write_runtime_file(path, text, strlen(text), 0644);
	return r < 0 ? r : 1;
}

static bool file_equals(const char *path, const char *text)
{
	_cleanup_free_ char *old = NULL;

	return read_file(path, &old, NULL) >= 0 && !strcmp(old, text);
}

/* A dnsmasq that no longer runs needs no files (a stopped or deleted network, DHCP and DNS off);
 * the next start writes them again. */
static void files_remove(const struct dnsmasq_files *f)
{
	unlink(f->pid);
	unlink(f->spawned);
	unlink(f->conf);
	unlink(f->hosts);
	unlink(f->addn);
	unlink(f->remote);
}

/* The files of network name's dnsmasq go (files_remove). */
static void files_remove_of(struct daemon *d, const char *name)
{
	struct dnsmasq_files f;

	if (files_init(d, name, &f) >= 0) {
		files_remove(&f);
		files_free(&f);
	}
}

/* A stopping dnsmasq is gone: its files go, and the network's name is no longer pending. */
static int dhcp_sync(struct daemon *d, const struct network *n, bool active, char *err, size_t errlen);

static void on_stopped(struct dhcp_server *s, void *userdata)
{
	struct daemon *d = userdata;
	struct dhcp_feature *df = DHCP(d);
	_cleanup_free_ char *name = strdup(s->network);
	bool restart = false;

	for (size_t i = 0; i < df->n_stopping; i++)
		if (df->stopping[i] == s) {
			restart = df->restart[i];
			memmove(&df->stopping[i], &df->stopping[i + 1], (df->n_stopping - i - 1) * sizeof(s));
			memmove(&df->restart[i], &df->restart[i + 1], (df->n_stopping - i - 1) * sizeof(bool));
			df->n_stopping--;
			break;
		}
	log_net(LOG_DEBUG, s->network, "network '%s': dnsmasq is gone", s->network);
	if (!restart)
		files_remove_of(d, s->network);
	dhcp_server_free(s);
	if (!name)
		return;
	if (restart) {
		struct net *n = daemon_net_find(d, name);
		char err[512] = "";

		/* Its files are the new config already: the new dnsmasq starts from them. */
		if (n && n->active && dhcp_sync(d, n->def, true, err, sizeof(err)) < 0)
			log_net(LOG_ERR, name, "network '%s': %s", name,
				err[0] ? err : "cannot start dnsmasq again");
	}
	daemon_net_settled(d, name);
}

/*
 * Out of the network's slot; told to exit. 1: it exits (on_stopped runs once it is gone: its
 * files go then, or with restart a new dnsmasq starts from them), 0: it was not running (its files
 * went, unless restart: the caller starts the new one).
 */
static int stop_async(struct daemon *d, struct dhcp_server *s, bool restart)
{
	struct dhcp_feature *df = DHCP(d);
	struct dhcp_server **l;
	bool *rl;
	int r;

	l = reallocarray(df->stopping, df->n_stopping + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	df->stopping = l;
	rl = reallocarray(df->restart, df->n_stopping + 1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	df->restart = rl;
	r = dhcp_server_stop_async(s, on_stopped, d);
	if (r > 0) {
		struct net *n = daemon_net_find(d, s->network);

		if (n && *net_slot(n, &feature_dhcp) == s)
			*net_slot(n, &feature_dhcp) = NULL;
		df->restart[df->n_stopping] = restart;
		df->stopping[df->n_stopping++] = s;
		return 1;
	}
	if (!restart)
		files_remove_of(d, s->network);
	server_forget(d, s);
	return 0;
}

static int stop_server(struct daemon *d, const char *name, char *err, size_t errlen)
{
	struct dhcp_feature *df = DHCP(d);
	struct dhcp_server *s = daemon_dhcp_find(d, name);
	struct dnsmasq_files f;
	int r;

	/* Its dnsmasq is exiting for a restart: no new one then, and its files go with it. */
	for (size_t i = 0; !s && i < df->n_stopping; i++)
		if (!strcmp(df->stopping[i]->network, name) && df->restart[i]) {
			df->restart[i] = false;
			return 0;
		}
	r = files_init(d, name, &f);
	if (r < 0)
		return r;
	if (!s) {
		/* Not known in this run (a restart while the network was being stopped): stop a
		 * dnsmasq the pid file still names, if it is ours. */
		r = server_new(d, name, &f, &s);
		if (r < 0) {
			files_free(&f);
			return r;
		}
		if (dhcp_server_adopt(s) < 0) {
			server_forget(d, s);
			files_remove(&f);
			files_free(&f);
			return 0;
		}
	}
	if (s->pid)
		log_net(LOG_INFO, name, "network '%s': stopping dnsmasq (pid %d)", name, (int)s->pid);
	r = stop_async(d, s, false);
	files_free(&f);
	if (r < 0)
		snprintf(err, errlen, "cannot stop dnsmasq: %s", strerror(-r));
	return r;
}

static int write_files(const struct dnsmasq_files *f, const struct rendered *text, bool *ret_conf_changed,
		       bool *ret_hosts_changed)
{
	int a, b, c, e = 0;

	/* the remote guests' file before the config that names it: a new dnsmasq reads it at once */
	if (text->remote)
		e = write_if_changed(f->remote, text->remote);
	a = e < 0 ? e : write_if_changed(f->conf, text->conf);
	b = a < 0 ? a : write_if_changed(f->hosts, text->hosts);
	c = b < 0 ? b : write_if_changed(f->addn, text->addn);
	if (c < 0)
		return c;
	if (!text->remote)
		unlink(f->remote);
	*ret_conf_changed = a > 0;
	*ret_hosts_changed = b > 0 || c > 0 || e > 0;
	return 0;
}

static int start_or_update(struct daemon *d, const struct network *n, const struct dnsmasq_files *f,
			   const struct rendered *text, char *err, size_t errlen)
{
	struct dhcp_server *s = daemon_dhcp_find(d, n->name);
	bool conf_changed, hosts_changed, fresh = !s;
	int r;

	if (!s) {
		r = server_new(d, n->name, f, &s);
		if (r < 0)
			return r;
		/* A dnsmasq left running by a previous netd is adopted; with another config (a bridge
		 * made anew, an older netd's) it is then restarted below, never left behind. */
		if (dhcp_server_adopt(s) >= 0)
			log_net(LOG_INFO, n->name, "network '%s': adopted running dnsmasq (pid %d)%s",
				n->name, (int)s->pid,
				file_equals(f->conf, text->conf) ? "" : "; its config is not this one");
	}
	r = write_files(f, text, &conf_changed, &hosts_changed);
	if (r < 0) {
		snprintf(err, errlen, "cannot write dnsmasq files in %s: %s", f->dir, strerror(-r));
		return r;
	}
	if (s->state == DHCP_SERVER_RUNNING && conf_changed) {
		/* Not waited for here: the new one starts once the old one is gone (on_stopped). */
		log_net(LOG_INFO, n->name,
			"network '%s': dnsmasq config changed, restarting dnsmasq (pid %d) once it has exited",
			n->name, (int)s->pid);
		r = stop_async(d, s, true);
		if (r != 0) {
			if (r < 0)
				snprintf(err, errlen, "cannot stop dnsmasq: %s", strerror(-r));
			return r < 0 ? r : 0;
		}
		r = server_new(d, n->name, f, &s);
		if (r < 0)
			return r;
		fresh = true;
	}
	if (s->state == DHCP_SERVER_RUNNING) {
		if (hosts_changed) {
			log_net(LOG_INFO, n->name,
				"network '%s': hosts changed, dnsmasq (pid %d) re-reads them (SIGHUP)",
				n->name, (int)s->pid);
			return dhcp_server_reload(s);
		}
		return 0;
	}
	if (s->state == DHCP_SERVER_BACKOFF && !conf_changed)
		return 0; /* the scheduled restart reads the new files */
	r = dhcp_server_start(s);
	if (r < 0) {
		snprintf(err, errlen, "cannot start %s: %s", d->dnsmasq, strerror(-r));
		if (fresh)
			server_forget(d, s);
		return r;
	}
	log_net(LOG_INFO, n->name, "network '%s': dnsmasq started (pid %d)", n->name, (int)s->pid);
	return 0;
}

/* The guests' MACs, addresses and names are the operators' business: the lease file is 0640
 * root:netd. dnsmasq opens it as root and rewrites it in place, so the mode stays. */
static int lease_file_prepare(const char *path)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
	int r;

	if (fd < 0)
		return -errno;
	r = give_to_root(fd, NULL, vm_netd_gid());
	if (r >= 0 && fchmod(fd, 0640) < 0)
		r = -errno;
	return r;
}

static int dhcp_sync(struct daemon *d, const struct network *n, bool active, char *err, size_t errlen)
{
	struct dnsmasq_files f;
	struct rendered text;
	int r;

	if (!active || !network_wants_dnsmasq(n))
		return stop_server(d, n->name, err, errlen);
	if (stopping_find(d, n->name)) {
		snprintf(
			err, errlen,
			"the previous dnsmasq of network '%s' (pid %d) is still exiting; try again in a moment",
			n->name, (int)stopping_find(d, n->name)->pid);
		return -EBUSY;
	}
	r = files_init(d, n->name, &f);
	if (r < 0)
		return r;
	r = render(d, n, &f, &text);
	if (r < 0) {
		snprintf(err, errlen, "cannot render the dnsmasq config: %s", strerror(-r));
		files_free(&f);
		return r;
	}
	r = mkdir_p(f.dir, 0755);
	if (r >= 0)
		r = mkdir_p(f.state_dir, 0755);
	if (r >= 0)
		r = lease_file_prepare(f.leases);
	if (r < 0)
		snprintf(err, errlen, "cannot create %s, %s or %s: %s", f.dir, f.state_dir, f.leases, strerror(-r));
	else
		r = start_or_update(d, n, &f, &text, err, errlen);
	rendered_free(&text);
	files_free(&f);
	return r;
}

static int sync_net(struct daemon *d, const struct network *n, bool active, char *err, size_t errlen)
{
	return dhcp_sync(d, n, active, err, errlen);
}

int daemon_dhcp_refresh(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	if (!n->active || !daemon_dhcp_find(d, n->def->name))
		return 0;
	return dhcp_sync(d, n->def, true, err, errlen);
}

static char *find_lease_helper(void)
{
	char self[PATH_MAX], *slash, *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash && asprintf(&p, "%.*s/netd-lease-event", (int)(slash - self), self) >= 0) {
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return strdup(NETD_LIBEXECDIR "/netd-lease-event");
}

static int dhcp_init(struct daemon *d)
{
	struct dhcp_feature *df = calloc(1, sizeof(*df));

	if (!df || !(df->lease_helper = find_lease_helper())) {
		free(df);
		return -ENOMEM;
	}
	*daemon_feature_state(d, &feature_dhcp) = df;
	if (!d->dnsmasq)
		d->dnsmasq = "/usr/sbin/dnsmasq";
	if (access(d->dnsmasq, X_OK) < 0)
		log_warning("%s is not executable: networks with DHCP or DNS cannot start dnsmasq", d->dnsmasq);
	if (access(df->lease_helper, X_OK) < 0) {
		log_warning("lease helper %s is missing: leases show up only when dnsmasq restarts",
			    df->lease_helper);
		free(df->lease_helper);
		df->lease_helper = NULL;
	}
	return 0;
}

/* dnsmasq instances whose network has no definition any more (removed while netd was down, or by a
 * reload). */
static void dhcp_settle(struct daemon *d)
{
	_cleanup_free_ char *dir = NULL;
	struct dirent *de;
	DIR *dp;

	if (asprintf(&dir, "%s/dnsmasq", d->paths.run_dir) < 0 || !(dp = opendir(dir)))
		return;
	while ((de = readdir(dp))) {
		size_t len = strlen(de->d_name);
		char name[NAME_MAX_LEN + 1], err[256];

		if (len <= 4 || len - 4 > NAME_MAX_LEN || strcmp(de->d_name + len - 4, ".pid"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 4), de->d_name);
		if (daemon_network_find(d, name) || stopping_find(d, name))
			continue;
		log_net(LOG_INFO, name, "network '%s' is no longer defined: stopping its dnsmasq if it runs",
			name);
		if (stop_server(d, name, err, sizeof(err)) < 0)
			log_net(LOG_ERR, name, "network '%s': %s", name, err);
	}
	closedir(dp);
}

/* netd exits: dnsmasq instances keep running and are adopted by the next netd. */
static void dhcp_done(struct daemon *d)
{
	struct dhcp_feature *df = DHCP(d);

	for (size_t i = 0; i < d->n_nets; i++) {
		dhcp_server_free(*net_slot(d->nets[i], &feature_dhcp));
		*net_slot(d->nets[i], &feature_dhcp) = NULL;
	}
	for (size_t i = 0; df && i < df->n_stopping; i++)
		dhcp_server_free(df->stopping[i]); /* they were told to exit: they do without netd */
	if (df) {
		free(df->stopping);
		free(df->restart);
		free(df->lease_helper);
	}
	free(df);
	*daemon_feature_state(d, &feature_dhcp) = NULL;
}

static void dhcp_show(struct daemon *d, const struct net *net, const struct net_view *v, json_object *parent)
{
	const struct network *n = net->def;
	struct dhcp_server *srv = *net_slot((struct net *)net, &feature_dhcp);
	struct dhcp_range ranges[DHCP_RANGES_EFFECTIVE_MAX];
	size_t nr = dhcp_ranges_effective(&n->dhcp, &n->subnet, &n->gateway, ranges);
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	char x[INET_ADDRSTRLEN], y[INET_ADDRSTRLEN], line[40], t[16];

	json_object_object_add(o, "enabled",
			       json_object_new_boolean(network_wants_dnsmasq(n) && n->dhcp.dhcp));
	json_object_object_add(o, "dns", json_object_new_boolean(network_wants_dnsmasq(n) && n->dhcp.dns));
	for (size_t i = 0; n->dhcp.dhcp && i < nr; i++) {
		snprintf(line, sizeof(line), "%s-%s", ip_addr_format(AF_INET, &ranges[i].start, x, sizeof(x)),
			 ip_addr_format(AF_INET, &ranges[i].end, y, sizeof(y)));
		json_object_array_add(a, json_object_new_string(line));
	}
	if (n->dhcp.dhcp && n->dhcp.static_only)
		json_object_array_add(a, json_object_new_string("static"));
	json_object_object_add(o, "ranges", a);
	json_object_object_add(o, "lease_time",
			       json_object_new_string(dhcp_lease_time_format(
				       n->dhcp.lease_time ?: DHCP_LEASE_TIME_DEFAULT, t, sizeof(t))));
	json_object_object_add(o, "domain",
			       n->dhcp.domain[0] ? json_object_new_string(n->dhcp.domain) : NULL);
	json_object_object_add(o, "router", json_object_new_boolean(n->dhcp_router));
	json_object_object_add(o, "hosts", json_object_new_int64(n->dhcp.n_hosts));
	json_object_object_add(o, "dns_hosts", json_object_new_int64(n->dhcp.n_dns_hosts));
	json_object_object_add(o, "dnsmasq_state",
			       json_object_new_string(srv ? dhcp_server_state_to_string(srv->state) :
							    "stopped"));
	json_object_object_add(o, "dnsmasq_pid", srv && srv->pid ? json_object_new_int(srv->pid) : NULL);
	json_object_object_add(o, "dnsmasq_restarts",
			       json_object_new_int(srv && srv->restarts ? srv->restarts - 1 : 0));
	json_object_object_add(o, "leases", json_object_new_int64(srv ? srv->leases.n : 0));
	json_object_object_add(parent, "dhcp", o);
}

/* What dhcp_show() reads of the network's dnsmasq. */
static void dhcp_show_key(struct daemon *d, const struct net *net, struct net_show_key *k)
{
	struct dhcp_server *srv = *net_slot((struct net *)net, &feature_dhcp);
	bool has = srv;

	net_show_key_add(k, &has, sizeof(has));
	if (!srv)
		return;
	net_show_key_add(k, &srv->state, sizeof(srv->state));
	net_show_key_add(k, &srv->pid, sizeof(srv->pid));
	net_show_key_add(k, &srv->restarts, sizeof(srv->restarts));
	net_show_key_add(k, &srv->leases.n, sizeof(srv->leases.n));
}

/* A network whose dnsmasq does not run has no DHCP or DNS: degraded, never 'active'. */
static const char *dhcp_problem(struct daemon *d, const struct net *net, const struct net_view *v, char *buf,
				size_t size)
{
	struct dhcp_server *srv = *net_slot((struct net *)net, &feature_dhcp);

	if (!network_wants_dnsmasq(net->def))
		return NULL;
	/* A TFTP root or boot file gone or made unreadable since the network was created costs TFTP
	 * only: dnsmasq runs, the problem is shown (never a failed start). */
	if ((!srv || srv->state == DHCP_SERVER_RUNNING) && tftp_check(net->def, buf, size) < 0)
		return buf;
	if (srv && srv->state == DHCP_SERVER_RUNNING)
		return NULL;
	if (!srv)
		return "dnsmasq (DHCP and DNS) is not running";
	snprintf(buf, size, "dnsmasq (DHCP and DNS) is not running: it %s; netd starts it again (restarts: %u; the log says why)",
		 srv->last_exit[0] ? srv->last_exit : "stopped", srv->restarts ? srv->restarts - 1 : 0);
	return buf;
}

static bool dhcp_pending(struct daemon *d, const char *name)
{
	return stopping_find(d, name);
}

static int dhcp_up(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	return sync_net(d, n->def, true, err, errlen);
}

static int dhcp_down(struct daemon *d, struct net *n, char *err, size_t errlen)
{
	return sync_net(d, n->def, false, err, errlen);
}

const struct feature feature_dhcp = {
	.name = "dhcp",
	.init = dhcp_init,
	.done = dhcp_done,
	.up = dhcp_up,
	.down = dhcp_down,
	.show = dhcp_show,
	.show_key = dhcp_show_key,
	.problem = dhcp_problem,
	.pending = dhcp_pending,
	.settle = dhcp_settle,
};
