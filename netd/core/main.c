/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon.h"
#include "vm.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "rlimit.h"
#include "uplink.h"

#define QEMU_VERSION_TIMEOUT_MS 5000

uint64_t daemon_now_usec(void);

/* netd --nft-table-flags: own netd's tables where the kernel can (auto), or not (none). */
static bool nft_table_flags = true;

static void usage(void)
{
	printf("Usage: netd [OPTIONS]\n"
	       "Host networking daemon: NAT, routed and isolated networks on Linux bridges with nftables, DHCP and DNS,\nuplink conversion; driven by netdctl.\n\n"
	       "  --config-dir DIR   definitions (default /etc/netd)\n"
	       "  --state-dir DIR    generated state that survives reboots (default /var/lib/netd)\n"
	       "  --run-dir DIR      runtime state, lock (default /run/netd)\n"
	       "  --socket PATH      control socket (default $NETD_SOCKET or /run/netd/netd.sock)\n"
	       "  --dnsmasq PATH     the dnsmasq binary (default /usr/sbin/dnsmasq)\n"
	       "  --resolv-conf PATH the upstream DNS resolvers of the networks that forward DNS\n"
	       "                     (default /etc/resolv.conf; watched for changes)\n"
	       "  --qemu PATH        the QEMU binary (default /usr/bin/qemu-system-x86_64)\n"
	       "  --qemu-user USER   run QEMU as this user (default " NETD_QEMU_USER_DEFAULT
	       "; root keeps root)\n"
	       "  --image-dir DIR    where users other than root may keep guest files (repeatable;\n"
	       "                     default " NETD_IMAGE_DIR_DEFAULT "; the first is netdctl disk's pool)\n"
	       "  --subnet-pool CIDR where --subnet auto picks a free /24 (default " NETD_SUBNET_POOL_DEFAULT
	       ")\n"
	       "  --vtep ADDR        this host's VXLAN tunnel endpoint, an address of the host on the\n"
	       "                     underlay: networks of mode evpn span the hosts (default none)\n"
	       "  --evpn-peers ADDR[,ADDR...]\n"
	       "                     the route reflectors (or hosts) FRR's BGP peers with (needs --vtep)\n"
	       "  --evpn-reflector   be a route reflector: accept BGP sessions from the VTEP's subnet\n"
	       "  --asn N            the BGP AS number of every host, 1-4294967295 (default 65000)\n"
	       "  --frr-pathspace NAME\n"
	       "                     FRR's pathspace (its -N NAME) where a host runs several FRRs (default\n"
	       "                     none)\n"
	       "  --frr-reload PATH  FRR's frr-reload.py (default " NETD_FRR_RELOAD_DEFAULT ")\n"
	       "  --vtysh PATH       FRR's vtysh (default " NETD_VTYSH_DEFAULT ")\n"
	       "  --frr-conf PATH    FRR's configuration, which netd owns and writes (default\n"
	       "                     " NETD_FRR_CONF_DEFAULT ", with a pathspace /etc/frr/NAME/frr.conf)\n"
	       "  --log-level LEVEL  error, warning, notice, info (default) or debug\n"
	       "  --manager-root DIR where other network managers keep their /run files (default /, when\n"
	       "                     netd runs in the initial network namespace; otherwise not looked at)\n"
	       "  --nft-table-flags auto|none\n"
	       "                     auto (default): netd's nftables tables are owned by netd and persist\n"
	       "                     (Linux 6.9): another process's 'nft flush ruleset' leaves them; none:\n"
	       "                     plain tables, re-applied when another process removes them\n"
	       "  --firewall-integration auto|report|off\n"
	       "                     where Docker, ufw or firewalld (or iptables-legacy tables) block a\n"
	       "                     network: auto (default) lets its bridge through in their own places\n"
	       "                     (DOCKER-USER, ufw's user chains, a firewalld zone), removed with the\n"
	       "                     network; report only says what blocks it and how to let it through;\n"
	       "                     off neither looks at nor touches other firewalls\n"
	       "  --version          print the version\n"
	       "  -h, --help         this text\n\n"
	       "Signals: SIGHUP reloads the definitions in the config dir (and netd.conf's [evpn]);\n"
	       "SIGTERM stops netd and leaves its networks running (a restarted netd adopts them).\n");
}

enum {
	ARG_CONFIG = 0x100,
	ARG_STATE,
	ARG_RUN,
	ARG_SOCKET,
	ARG_LOG,
	ARG_VERSION,
	ARG_DNSMASQ,
	ARG_POOL,
	ARG_QEMU,
	ARG_QEMU_USER,
	ARG_MANAGER_ROOT,
	ARG_IMAGE_DIR,
	ARG_RESOLV,
	ARG_NFT_FLAGS,
	ARG_FWINT,
	ARG_VTEP,
	ARG_EVPN_PEERS,
	ARG_EVPN_REFLECTOR,
	ARG_ASN,
	ARG_FRR_PATHSPACE,
	ARG_FRR_RELOAD,
	ARG_VTYSH,
	ARG_FRR_CONF,
};

/* An absolute path for --frr-reload, --vtysh, --frr-conf. */
static int evpn_path_arg(const char *opt, const char *v, const char **ret)
{
	if (v[0] != '/' || strlen(v) >= PATH_MAX) {
		fprintf(stderr, "netd: invalid --%s '%s': expected an absolute path\n", opt, v);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* The EVPN options into d->evpn_cmdline (netd.conf's [evpn] is merged after the parse). */
static int parse_evpn_arg(struct daemon *d, int c, const char *v)
{
	struct daemon_evpn *e = &d->evpn_cmdline;
	char err[256];
	int r;

	switch (c) {
	case ARG_VTEP:
		if (ip_addr_parse(v, &e->vtep_family, &e->vtep) < 0 ||
		    !frr_addr_usable(e->vtep_family, &e->vtep)) {
			fprintf(stderr,
				"netd: invalid --vtep '%s': expected a unicast IPv4 or IPv6 address of this host, "
				"like 192.0.2.1\n",
				v);
			return -EINVAL;
		}
		e->given |= EVPN_GIVEN_VTEP;
		return 0;
	case ARG_EVPN_PEERS:
		r = frr_peers_parse(v, e->peers, FRR_PEERS_MAX, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "netd: invalid --evpn-peers '%s': %s\n", v, err);
			return r;
		}
		e->n_peers = (size_t)r;
		e->given |= EVPN_GIVEN_PEERS;
		return 0;
	case ARG_EVPN_REFLECTOR:
		e->reflector = true;
		e->given |= EVPN_GIVEN_REFLECTOR;
		return 0;
	case ARG_ASN:
		if (frr_asn_parse(v, &e->asn) < 0) {
			fprintf(stderr, "netd: invalid --asn '%s': expected an AS number, 1-4294967295\n", v);
			return -EINVAL;
		}
		e->given |= EVPN_GIVEN_ASN;
		return 0;
	case ARG_FRR_PATHSPACE:
		if (!daemon_frr_pathspace_valid(v)) {
			fprintf(stderr,
				"netd: invalid --frr-pathspace '%s': expected a name of letters, digits, '-', '_' "
				"and '.', at most %d characters, not starting with '.' or '-'\n",
				v, NETD_FRR_PATHSPACE_MAX);
			return -EINVAL;
		}
		e->frr_pathspace = v;
		return 0;
	case ARG_FRR_RELOAD:
		return evpn_path_arg("frr-reload", v, &e->frr_reload);
	case ARG_VTYSH:
		return evpn_path_arg("vtysh", v, &e->vtysh);
	case ARG_FRR_CONF:
		return evpn_path_arg("frr-conf", v, &e->frr_conf);
	}
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct daemon *d)
{
	struct netd_paths *p = &d->paths;

	static const struct option opts[] = {
		{ "config-dir", required_argument, NULL, ARG_CONFIG },
		{ "state-dir", required_argument, NULL, ARG_STATE },
		{ "run-dir", required_argument, NULL, ARG_RUN },
		{ "socket", required_argument, NULL, ARG_SOCKET },
		{ "log-level", required_argument, NULL, ARG_LOG },
		{ "dnsmasq", required_argument, NULL, ARG_DNSMASQ },
		{ "resolv-conf", required_argument, NULL, ARG_RESOLV },
		{ "subnet-pool", required_argument, NULL, ARG_POOL },
		{ "qemu", required_argument, NULL, ARG_QEMU },
		{ "qemu-user", required_argument, NULL, ARG_QEMU_USER },
		{ "image-dir", required_argument, NULL, ARG_IMAGE_DIR },
		{ "manager-root", required_argument, NULL, ARG_MANAGER_ROOT },
		{ "nft-table-flags", required_argument, NULL, ARG_NFT_FLAGS },
		{ "firewall-integration", required_argument, NULL, ARG_FWINT },
		{ "vtep", required_argument, NULL, ARG_VTEP },
		{ "evpn-peers", required_argument, NULL, ARG_EVPN_PEERS },
		{ "evpn-reflector", no_argument, NULL, ARG_EVPN_REFLECTOR },
		{ "asn", required_argument, NULL, ARG_ASN },
		{ "frr-pathspace", required_argument, NULL, ARG_FRR_PATHSPACE },
		{ "frr-reload", required_argument, NULL, ARG_FRR_RELOAD },
		{ "vtysh", required_argument, NULL, ARG_VTYSH },
		{ "frr-conf", required_argument, NULL, ARG_FRR_CONF },
		{ "version", no_argument, NULL, ARG_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c, level;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case ARG_CONFIG:
			p->config_dir = optarg;
			break;
		case ARG_STATE:
			p->state_dir = optarg;
			break;
		case ARG_RUN:
			p->run_dir = optarg;
			break;
		case ARG_SOCKET:
			p->socket = optarg;
			break;
		case ARG_DNSMASQ:
			d->dnsmasq = optarg;
			break;
		case ARG_RESOLV:
			if (optarg[0] != '/') {
				fprintf(stderr,
					"netd: invalid --resolv-conf '%s': expected an absolute path\n",
					optarg);
				return -EINVAL;
			}
			d->resolv_conf = optarg;
			break;
		case ARG_QEMU:
			d->qemu_binary = optarg;
			break;
		case ARG_QEMU_USER:
			d->qemu_user = optarg;
			break;
		case ARG_IMAGE_DIR:
			if (optarg[0] != '/') {
				fprintf(stderr, "netd: invalid --image-dir '%s': expected an absolute path\n",
					optarg);
				return -EINVAL;
			}
			if (d->n_image_dirs >= NETD_IMAGE_DIRS_MAX) {
				fprintf(stderr, "netd: at most %d --image-dir\n", NETD_IMAGE_DIRS_MAX);
				return -EINVAL;
			}
			d->image_dirs[d->n_image_dirs++] = optarg;
			break;
		case ARG_MANAGER_ROOT:
			p->manager_root = optarg;
			break;
		case ARG_NFT_FLAGS:
			if (strcmp(optarg, "auto") && strcmp(optarg, "none")) {
				fprintf(stderr,
					"netd: invalid --nft-table-flags '%s': expected auto or none\n",
					optarg);
				return -EINVAL;
			}
			nft_table_flags = !strcmp(optarg, "auto");
			break;
		case ARG_FWINT:
			if (fwint_mode_from_string(optarg) < 0) {
				fprintf(stderr,
					"netd: invalid --firewall-integration '%s': expected auto, report or off\n",
					optarg);
				return -EINVAL;
			}
			d->fw_integration = fwint_mode_from_string(optarg);
			break;
		case ARG_POOL:
			if (ip_prefix_parse(optarg, &d->subnet_pool) < 0 || d->subnet_pool.family != AF_INET ||
			    d->subnet_pool.len > 24 || !ip_prefix_is_masked(&d->subnet_pool)) {
				fprintf(stderr, "netd: invalid --subnet-pool '%s': expected an IPv4 CIDR of /24 or wider, "
					"like %s\n", optarg, NETD_SUBNET_POOL_DEFAULT);
				return -EINVAL;
			}
			break;
		case ARG_VTEP:
		case ARG_EVPN_PEERS:
		case ARG_EVPN_REFLECTOR:
		case ARG_ASN:
		case ARG_FRR_PATHSPACE:
		case ARG_FRR_RELOAD:
		case ARG_VTYSH:
		case ARG_FRR_CONF:
			if (parse_evpn_arg(d, c, optarg) < 0)
				return -EINVAL;
			break;
		case ARG_LOG:
			level = log_level_from_string(optarg);
			if (level < 0) {
				fprintf(stderr, "netd: unknown log level '%s' (error, warning, notice, info, debug)\n", optarg);
				return -EINVAL;
			}
			log_set_max_level(level);
			break;
		case ARG_VERSION:
			printf("netd %s\n", NETD_VERSION);
			exit(EXIT_SUCCESS);
		case 'h':
			usage();
			exit(EXIT_SUCCESS);
		default:
			fprintf(stderr, "Try 'netd --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netd: unexpected argument '%s'\nTry 'netd --help'.\n", argv[optind]);
		return -EINVAL;
	}
	if (d->n_image_dirs == 0)
		d->image_dirs[d->n_image_dirs++] = NETD_IMAGE_DIR_DEFAULT;
	return 0;
}

/* What the installed QEMU supports (its version decides a few options). */
static void qemu_probe_version(struct daemon *d)
{
	char *argv[] = { (char *)d->qemu_binary, "--version", NULL }, line[256] = "";
	struct proc_spawn spec = { .argv = argv, .envp = environ };
	int status, r;

	d->qemu_caps = (struct qemu_caps){ 7, 2, true };
	if (access(d->qemu_binary, X_OK) < 0) {
		log_info("no QEMU at %s: guests cannot start until it is installed", d->qemu_binary);
		return;
	}
	r = proc_run(&d->proc, &spec, QEMU_VERSION_TIMEOUT_MS, line, sizeof(line), &status);
	if (r >= 0)
		sscanf(line, "QEMU emulator version %d.%d", &d->qemu_caps.major, &d->qemu_caps.minor);
	else
		log_warning("cannot run %s --version: %s; assuming QEMU %d.%d", d->qemu_binary,
			    r == -ETIMEDOUT ? "no answer in time" : d->proc.ops->last_error(d->proc.userdata),
			    d->qemu_caps.major, d->qemu_caps.minor);
	log_debug("QEMU %s is version %d.%d", d->qemu_binary, d->qemu_caps.major, d->qemu_caps.minor);
}

/* One netd per run dir: an flock held for the daemon's life. */
static int lock_run_dir(struct daemon *d)
{
	_cleanup_free_ char *path = path_join(d->paths.run_dir, "netd.lock");
	char pid[32] = "", buf[32];
	int fd, r;

	if (!path)
		return -ENOMEM;
	r = mkdir_p(d->paths.run_dir, 0755);
	if (r < 0) {
		log_error("cannot create run dir %s: %s", d->paths.run_dir, strerror(-r));
		return r;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("cannot open %s: %m", path);
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = 0;
			snprintf(pid, sizeof(pid), " (pid %d)", atoi(buf));
		}
		log_error("another netd%s is already running with run dir %s; stop it first", pid, d->paths.run_dir);
		close(fd);
		return -EBUSY;
	}
	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, strlen(buf), 0) < 0)
		log_warning("cannot write pid to %s: %m", path);
	d->lock_fd = fd;
	return 0;
}

/* One fd per control client, dnsmasq pidfd, QEMU's QMP socket...: take the hard limit. Children
 * get the original one back (rlimit_nofile_restore() in each spawner). */
static void raise_fd_limit(void)
{
	rlim_t before, after;
	int r = rlimit_nofile_raise(&before, &after);

	if (r < 0)
		log_warning("cannot raise the open files limit to the hard limit: %s", strerror(-r));
	else
		log_debug("open files limit %ju (was %ju, which children keep)", (uintmax_t)after, (uintmax_t)before);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	json_object *report = NULL;

	log_info("SIGHUP: reloading definitions from %s", d->paths.config_dir);
	sd_notify(0, "RELOADING=1");
	if (daemon_reload(d, &report) < 0)
		log_error("reload failed: cannot read %s/networks", d->paths.config_dir);
	json_object_put(report);
	daemon_trim_later(d);
	sd_notify(0, "READY=1");
	return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	log_info("signal %d: exiting; networks keep running", (int)si->ssi_signo);
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* The nftables backend, netd's tables owned by it where the kernel can (nat/DESIGN.md, "Owned
 * tables"). */
static void open_nft(struct daemon *d)
{
	char why[512];
	int r;

	d->nft = (struct fw_backend){};
	r = fw_nft_open_owned(&d->nft, nft_table_flags, why, sizeof(why));

	if (r < 0 && !d->nft.ops) {
		d->nft = (struct fw_backend){}; /* the firewall says what does not work without it */
		return;
	}
	if (r < 0)
		log_error("nftables: %s", why);
	else if (r > 0)
		log_info(
			"nftables: netd's tables are owned by netd and persist: another process's 'nft flush "
			"ruleset' leaves them, and a restarted netd takes them over");
	else
		log_info(
			"nftables: netd's tables are not owned by netd (%s): netd re-applies them when another "
			"process removes or changes them",
			why);
}

static int run(struct daemon *d)
{
	sigset_t mask;
	int r;

	r = lock_run_dir(d);
	if (r < 0)
		return r;
	qemu_probe_version(d);
	raise_fd_limit();
	r = link_nl_open(&d->link);
	if (r < 0) {
		log_error("cannot open rtnetlink: %s", strerror(-r));
		return r;
	}
	open_nft(d);
	if (probe_real_open(&d->probe) < 0)
		d->probe = (struct probe_backend){}; /* netdctl doctor says what it cannot check */
	/* firewalld is looked for only where netd may integrate with it (fwint.c) */
	if (d->fw_integration == FWINT_AUTO && firewalld_dbus_new(&d->firewalld) < 0)
		d->firewalld = (struct firewalld_backend){};
	r = sd_event_default(&d->event);
	if (r < 0)
		return r;
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sd_event_add_signal(d->event, NULL, SIGHUP, on_sighup, d);
	sd_event_add_signal(d->event, NULL, SIGTERM, on_exit_signal, d);
	sd_event_add_signal(d->event, NULL, SIGINT, on_exit_signal, d);
	r = daemon_start(d);
	if (r < 0)
		return r;
	r = control_listen(d);
	if (r < 0) {
		log_error("cannot listen on %s: %s", d->paths.socket, strerror(-r));
		return r;
	}
	log_info("netd %s ready on %s", NETD_VERSION, d->paths.socket);
	sd_notify(0, "READY=1\nSTATUS=ready");
	return sd_event_loop(d->event);
}

int main(int argc, char **argv)
{
	struct daemon d = { .lock_fd = -1, .listen_fd = -1 };
	int r;

	ip_prefix_parse(NETD_SUBNET_POOL_DEFAULT, &d.subnet_pool);
	d.qemu_binary = "/usr/bin/qemu-system-x86_64";
	d.qemu_user = NETD_QEMU_USER_DEFAULT;
	d.tap = (struct tap_backend){ .ops = &tap_linux_ops };
	proc_real_init(&d.proc);
	d.paths = (struct netd_paths){ .config_dir = "/etc/netd", .state_dir = "/var/lib/netd", .run_dir = "/run/netd" };
	d.paths.socket = getenv("NETD_SOCKET");
	if (parse_args(argc, argv, &d) < 0)
		return 2;
	{
		char err[512];

		if (daemon_evpn_load(&d.evpn_cmdline, d.paths.config_dir, &d.evpn, err, sizeof(err)) < 0) {
			fprintf(stderr, "netd: %s\n", err);
			return 2;
		}
	}
	if (!d.paths.manager_root)
		d.paths.manager_root = manager_root_default();
	if (!d.paths.socket || !*d.paths.socket)
		d.paths.socket = path_join(d.paths.run_dir, "netd.sock");
	d.start_usec = daemon_now_usec();
	r = run(&d);
	control_close_all(&d);
	if (d.listen_fd >= 0) {
		close(d.listen_fd);
		unlink(d.paths.socket);
	}
	daemon_stop(&d);
	sd_event_unref(d.event);
	if (d.link.ops)
		link_nl_close(&d.link);
	fw_backend_close(&d.nft);
	if (d.probe.ops)
		probe_real_close(&d.probe);
	firewalld_dbus_free(&d.firewalld);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
