/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The uplink transaction: convert, verify, wait for confirm, roll back; and its files. */
#include "uplink.h"

#include <dirent.h>
#include <linux/rtnetlink.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "convert.h"
#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "mgr.h"
#include "names.h"
#include "probe.h"
#include "protocol.h"
#include "uplink-schema.h"

#define UPLINK_GATEWAYS_MAX 4
#define VERIFY_TIMEOUT_USEC (5 * 1000000ull)
#define VERIFY_INTERVAL_USEC (100 * 1000ull)

struct gateway {
	int family;
	union in_addr_union addr;
	uint64_t answered_usec; /* after the cut-over; 0 while unanswered */
};

struct uplink {
	struct daemon *d;
	char bridge[IFNAMSIZ];
	char port[IFNAMSIZ];
	enum uplink_state state;
	struct convert_snapshot snap;
	uint64_t cutover_usec;
	uint64_t confirm_timeout_usec;
	uint64_t deadline_usec; /* CLOCK_MONOTONIC, while waiting */
	sd_event_source *confirm_timer;
	/* verification */
	struct call *call; /* the convert request, answered after the verification */
	struct gateway gws[UPLINK_GATEWAYS_MAX];
	size_t n_gws;
	int probe_fd[2];
	sd_event_source *probe_io[2];
	sd_event_source *probe_timer;
	uint16_t probe_id, probe_seq;
	uint64_t verify_start_usec;
	/* the DHCP client handed over */
	struct manager client;	  /* the one that ran on the port (kind NONE if there was none) */
	pid_t bridge_client_pid; /* the one netd started on the bridge */
	/* the host's network manager that had the port (mgr.h), NULL if none */
	const struct mgr_driver *mgr;
};

static const char *const uplink_state_table[_UPLINK_STATE_MAX] = {
	[UPLINK_PREPARING] = "preparing",   [UPLINK_CUTTING_OVER] = "cutting-over",
	[UPLINK_FINISHING] = "finishing",   [UPLINK_VERIFYING] = "verifying",
	[UPLINK_WAITING] = "waiting",	    [UPLINK_CONFIRMED] = "confirmed",
	[UPLINK_ROLLING_BACK] = "rolling-back",
};

const char *uplink_state_to_string(enum uplink_state s)
{
	return s >= 0 && s < _UPLINK_STATE_MAX ? uplink_state_table[s] : NULL;
}

enum uplink_state uplink_state_from_string(const char *s)
{
	for (int i = 0; s && i < _UPLINK_STATE_MAX; i++)
		if (!strcmp(s, uplink_state_table[i]))
			return i;
	return _UPLINK_STATE_INVALID;
}

uint64_t daemon_now_usec(void);

/* ---- files ---- */

static char *uplink_path(struct uplink *u, const char *file)
{
	char *p;

	if (asprintf(&p, "%s/uplinks/%s%s%s", u->d->paths.state_dir, u->bridge, file ? "/" : "", file ? file : "") < 0)
		return NULL;
	return p;
}

static char *uplink_config_path(struct daemon *d, const char *bridge)
{
	char *p;

	if (asprintf(&p, "%s/uplinks/%s.conf", d->paths.config_dir, bridge) < 0)
		return NULL;
	return p;
}

/* The files under <state>/uplinks/BR are root's alone (0600): dhcp-argv names a program netd
 * runs as root, the others say what netd changes and which process it kills. */
static int write_text(char *path, const char *text, size_t len, mode_t mode)
{
	_cleanup_free_ char *p = path;

	return p ? write_file_atomic(p, text, len, mode) : -ENOMEM;
}

int uplink_state_format(const struct uplink_state_file *s, char *buf, size_t size)
{
	const char *state = uplink_state_to_string(s->state);
	int n;

	if (!state || !ifname_valid(s->port) || s->bridge_client_pid < 0)
		return -EINVAL;
	n = snprintf(buf, size, "state=%s\nport=%s\nbridge_client_pid=%d\n", state, s->port,
		     (int)s->bridge_client_pid);
	return n < 0 || (size_t)n >= size ? -E2BIG : 0;
}

static int state_pid_parse(const char *s, pid_t *ret)
{
	long v = 0;

	if (!s[0] || strlen(s) > 10)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (v > INT_MAX)
		return -ERANGE;
	*ret = (pid_t)v;
	return 0;
}

/* One "key=value" line of the state file; keys this netd does not know (a newer one's) are skipped. */
static int state_line_parse(const char *key, size_t klen, const char *value, struct uplink_state_file *s)
{
	if (klen == 5 && !strncmp(key, "state", 5)) {
		s->state = uplink_state_from_string(value);
		return s->state < 0 ? -EINVAL : 0;
	}
	if (klen == 4 && !strncmp(key, "port", 4)) {
		if (!ifname_valid(value))
			return -EINVAL;
		snprintf(s->port, sizeof(s->port), "%s", value);
		return 0;
	}
	if (klen == 17 && !strncmp(key, "bridge_client_pid", 17))
		return state_pid_parse(value, &s->bridge_client_pid);
	return 0;
}

int uplink_state_parse(const char *text, struct uplink_state_file *ret)
{
	struct uplink_state_file s = { .state = _UPLINK_STATE_INVALID };

	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n'), *eq = memchr(line, '=', end - line);
		char value[32];
		int r;

		if (end > line) {
			if (!eq || (size_t)(end - eq - 1) >= sizeof(value))
				return -EINVAL;
			snprintf(value, sizeof(value), "%.*s", (int)(end - eq - 1), eq + 1);
			r = state_line_parse(line, eq - line, value, &s);
			if (r < 0)
				return r;
		}
		line = *end ? end + 1 : end;
	}
	if (s.state < 0 || !s.port[0])
		return -EINVAL;
	*ret = s;
	return 0;
}

static int uplink_save_state(struct uplink *u, enum uplink_state state)
{
	struct uplink_state_file f = { .state = state, .bridge_client_pid = u->bridge_client_pid };
	char text[128];
	int r;

	u->state = state;
	snprintf(f.port, sizeof(f.port), "%s", u->port);
	r = uplink_state_format(&f, text, sizeof(text));
	if (r < 0)
		return r;
	return write_text(uplink_path(u, "state"), text, strlen(text), 0600);
}

/* Everything a restarted netd needs to roll back, written before the first change. */
static int uplink_save_all(struct uplink *u)
{
	_cleanup_free_ char *dir = uplink_path(u, NULL), *snap = convert_snapshot_format(&u->snap);
	char argv[sizeof(MANAGER_CLIENT_MAGIC) + PATH_MAX + MANAGER_ARGV_MAX];
	size_t len;
	int r;

	if (!dir || !snap)
		return -ENOMEM;
	r = mkdir_p(dir, 0700);
	if (r >= 0)
		r = write_text(uplink_path(u, "snapshot"), snap, strlen(snap), 0600);
	if (r >= 0 && u->client.kind == MANAGER_DHCP_CLIENT) {
		r = manager_client_format(&u->client, argv, sizeof(argv), &len);
		if (r >= 0)
			r = write_text(uplink_path(u, "dhcp-argv"), argv, len, 0600);
	}
	if (r >= 0)
		r = uplink_save_state(u, u->state);
	return r;
}

static int uplink_load(struct uplink *u)
{
	_cleanup_free_ char *snap = NULL, *state = NULL;
	_cleanup_free_ char *ps = uplink_path(u, "snapshot"), *pst = uplink_path(u, "state");
	struct uplink_state_file f;
	int r;

	if (!ps || !pst)
		return -ENOMEM;
	r = read_file(ps, &snap, NULL);
	if (r >= 0)
		r = read_file(pst, &state, NULL);
	if (r >= 0)
		r = uplink_state_parse(state, &f);
	if (r < 0)
		return r;
	r = convert_snapshot_parse(snap, &u->snap);
	if (r < 0)
		return r;
	snprintf(u->port, sizeof(u->port), "%s", u->snap.port);
	u->state = f.state;
	u->bridge_client_pid = f.bridge_client_pid;
	return 0;
}

/*
 * The DHCP client handed over before netd stopped, to restart it on the port (rollback) or the
 * bridge (rebuild). Replayed only from a file that is root's alone and names a system binary
 * that runs a DHCP client; otherwise nothing is started, and the log says why.
 */
static void uplink_load_client(struct uplink *u)
{
	_cleanup_free_ char *path = uplink_path(u, "dhcp-argv");
	struct manager m;
	char why[PATH_MAX + 256];
	int r;

	if (!path)
		return;
	r = manager_client_read(path, 0, &m, why, sizeof(why));
	if (r == -ENOENT)
		return;
	if (r >= 0)
		r = manager_client_check(m.exe, m.argv, m.argv_len, why, sizeof(why));
	if (r < 0) {
		log_bridge(LOG_WARNING, u->bridge,
			   "uplink %s: the DHCP client saved in %s will not be restarted: %s", u->bridge,
			   path, why);
		return;
	}
	u->client = m;
}

static void uplink_load_mgr(struct uplink *u)
{
	_cleanup_free_ char *dir = uplink_path(u, "manager");

	u->mgr = dir ? mgr_saved_driver(dir) : NULL;
}

static int uplink_config_save(struct uplink *u)
{
	_cleanup_free_ char *dir = NULL, *text = NULL;
	struct uplink_def def;

	if (asprintf(&dir, "%s/uplinks", u->d->paths.config_dir) < 0)
		return -ENOMEM;
	if (mkdir_p(dir, 0755) < 0)
		return negative_errno();
	uplink_def_init(&def);
	snprintf(def.port, sizeof(def.port), "%s", u->port);
	snprintf(def.bridge, sizeof(def.bridge), "%s", u->bridge);
	text = uplink_config_render(&def);
	if (!text)
		return negative_errno();
	return write_text(uplink_config_path(u->d, u->bridge), text, strlen(text), 0644);
}

static void uplink_forget_files(struct uplink *u)
{
	_cleanup_free_ char *dir = uplink_path(u, NULL), *conf = uplink_config_path(u->d, u->bridge);

	if (dir)
		rm_rf(dir);
	if (conf)
		unlink(conf);
}

/* ---- objects ---- */

static void probe_stop(struct uplink *u)
{
	for (int i = 0; i < 2; i++) {
		u->probe_io[i] = sd_event_source_disable_unref(u->probe_io[i]);
		if (u->probe_fd[i] >= 0)
			close(u->probe_fd[i]);
		u->probe_fd[i] = -1;
	}
	u->probe_timer = sd_event_source_disable_unref(u->probe_timer);
}

static struct uplink *uplink_new(struct daemon *d, const char *port, const char *bridge)
{
	struct uplink *u = calloc(1, sizeof(*u));
	struct uplink **l;

	if (!u)
		return NULL;
	l = realloc(d->uplinks, (d->n_uplinks + 1) * sizeof(*l));
	if (!l) {
		free(u);
		return NULL;
	}
	d->uplinks = l;
	d->uplinks[d->n_uplinks++] = u;
	u->d = d;
	u->probe_fd[0] = u->probe_fd[1] = -1;
	snprintf(u->port, sizeof(u->port), "%s", port);
	snprintf(u->bridge, sizeof(u->bridge), "%s", bridge);
	return u;
}

static void uplink_free(struct uplink *u)
{
	struct daemon *d = u->d;

	probe_stop(u);
	sd_event_source_disable_unref(u->confirm_timer);
	convert_snapshot_free(&u->snap);
	for (size_t i = 0; i < d->n_uplinks; i++)
		if (d->uplinks[i] == u) {
			memmove(&d->uplinks[i], &d->uplinks[i + 1], (d->n_uplinks - i - 1) * sizeof(u));
			d->n_uplinks--;
			break;
		}
	free(u);
}

void uplink_free_all(struct daemon *d)
{
	while (d->n_uplinks)
		uplink_free(d->uplinks[0]);
	free(d->uplinks);
	d->uplinks = NULL;
}

static struct uplink *uplink_find(struct daemon *d, const char *bridge)
{
	for (size_t i = 0; i < d->n_uplinks; i++)
		if (!strcmp(d->uplinks[i]->bridge, bridge))
			return d->uplinks[i];
	return NULL;
}

bool uplink_is_bridge(struct daemon *d, const char *ifname)
{
	return uplink_find(d, ifname) != NULL;
}

static struct uplink *uplink_in_progress(struct daemon *d)
{
	for (size_t i = 0; i < d->n_uplinks; i++)
		if (d->uplinks[i]->state != UPLINK_CONFIRMED)
			return d->uplinks[i];
	return NULL;
}

/* ---- DHCP client hand-over ---- */

static const char *first_ipv4(const struct convert_snapshot *s, char *buf, size_t size)
{
	for (size_t i = 0; i < s->n_addrs; i++)
		if (s->addrs[i].prefix.family == AF_INET)
			return ip_addr_format(AF_INET, &s->addrs[i].prefix.addr, buf, size);
	return NULL;
}

/* The metric of the routes a dhcpcd made on the port (proto dhcp, else ra), 0 if none: on another
 * interface dhcpcd would pick another (1000 + ifindex) and leave two of each route. */
static uint32_t client_metric(const struct convert_snapshot *s)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < s->n_routes; i++)
			if (s->routes[i].protocol == (pass ? RTPROT_RA : RTPROT_DHCP))
				return s->routes[i].priority;
	return 0;
}

/* Start the handed-over DHCP client on `on` (the bridge, or the port after a rollback): the
 * verified executable, never what argv[0] names. On the bridge in the foreground (netd's pid is
 * the client's, for the stop); on the port as it ran before. Logs a failure. */
static int client_start_on(struct uplink *u, const char *on, pid_t *ret_pid, char *text, size_t textlen)
{
	char retargeted[MANAGER_ARGV_MAX], argv[MANAGER_ARGV_MAX], ip[INET6_ADDRSTRLEN], why[PATH_MAX + 256];
	size_t rlen, len;
	int r;

	r = manager_argv_retarget(u->client.argv, u->client.argv_len, u->port, on,
				  first_ipv4(&u->snap, ip, sizeof(ip)), retargeted, sizeof(retargeted),
				  &rlen);
	if (r >= 0)
		r = manager_argv_adapt(u->client.exe, retargeted, rlen, !strcmp(on, u->bridge),
				       client_metric(&u->snap), argv, sizeof(argv), &len);
	if (r < 0) {
		log_bridge(LOG_ERR, u->bridge,
			   "uplink %s: cannot start the DHCP client on %s: its command line does not fit: %s",
			   u->bridge, on, strerror(-r));
		return r;
	}
	manager_argv_format(argv, len, text, textlen);
	r = manager_client_start(&u->d->proc, u->client.exe, argv, len, ret_pid, why, sizeof(why));
	if (r < 0) {
		log_bridge(LOG_ERR, u->bridge,
			   "uplink %s: not starting the DHCP client on %s (%s): %s; start it by hand",
			   u->bridge, on, text, why);
		return r;
	}
	log_bridge(LOG_INFO, u->bridge, "uplink %s: started DHCP client %s on %s (pid %d): %s", u->bridge,
		   u->client.exe, on, (int)*ret_pid, text);
	return 0;
}

struct ignored_ctx {
	const char *bridge;
	struct call *call; /* the convert request, or NULL */
};

/* A look-alike of a DHCP client on the port: named in the log (and the reply), left alone. */
static void on_client_ignored(const struct manager *m, uid_t uid, const char *why, void *userdata)
{
	const struct ignored_ctx *ctx = userdata;
	char argv[512];

	manager_argv_format(m->argv, m->argv_len, argv, sizeof(argv));
	log_bridge(LOG_WARNING, ctx->bridge,
		   "uplink %s: ignoring pid %d (uid %u, %s): not a root-owned system binary (%s); "
		   "neither stopped nor restarted: %s",
		   ctx->bridge, (int)m->pid, (unsigned)uid, m->exe, why, argv);
	if (ctx->call)
		call_progress(ctx->call, "ignoring pid %d (uid %u, %s): not a root-owned system binary (%s)",
			      (int)m->pid, (unsigned)uid, m->exe, why);
}

/*
 * Before a rollback moves the address back: the client netd started on the bridge goes (no
 * RELEASE: the port keeps the lease). One still running could bind just after the burst and put
 * the address and default route back on the bridge, which is then deleted: IPv4 lost until the
 * port's client binds (seen under load after a netd crash, 150 ms).
 */
static void bridge_client_stop(struct uplink *u)
{
	int n;

	/* Also when the saved client was refused: the one running on the bridge is checked itself. */
	if (u->bridge_client_pid > 0 &&
	    manager_client_kill(&u->d->proc, u->bridge_client_pid, u->bridge) == -ETIMEDOUT)
		log_bridge(LOG_WARNING, u->bridge,
			   "uplink %s: DHCP client pid %d on %s did not exit after SIGKILL", u->bridge,
			   (int)u->bridge_client_pid, u->bridge);
	u->bridge_client_pid = 0;
	/* One netd started but had not recorded when it was killed, or one an older netd left (it
	 * lost track of forking clients): left running, its lease's expiry would later delete the
	 * address of the next bridge of that name. */
	n = manager_clients_stop(&u->d->proc, u->bridge);
	if (n > 0)
		log_bridge(LOG_WARNING, u->bridge,
			   "uplink %s: stopped %d more DHCP client(s) on %s that netd had not recorded",
			   u->bridge, n, u->bridge);
}

static void client_back_to_port(struct uplink *u)
{
	char text[512];
	pid_t pid;

	if (u->client.kind == MANAGER_DHCP_CLIENT)
		(void)client_start_on(u, u->port, &pid, text, sizeof(text));
}

/* ---- the host's network manager (mgr.h) ---- */

static struct mgr_ctx mgr_ctx_of(struct uplink *u, char *save_dir)
{
	return (struct mgr_ctx){
		.root = u->d->paths.manager_root ?: "/",
		.port = u->port,
		.bridge = u->bridge,
		.ifindex = (int)if_nametoindex(u->port),
		.mac = u->snap.mac,
		.save_dir = save_dir,
		.proc = &u->d->proc,
	};
}

/* One step of the manager's driver; logs a failure. */
static int mgr_step(struct uplink *u, mgr_op op, const char *what, char *err, size_t errlen)
{
	_cleanup_free_ char *dir = uplink_path(u, "manager");
	struct mgr_ctx c;
	int r;

	if (!u->mgr || !op)
		return 0;
	if (!dir)
		return -ENOMEM;
	c = mgr_ctx_of(u, dir);
	err[0] = 0;
	r = op(&c, err, errlen);
	if (r < 0 && !err[0])
		snprintf(err, errlen, "%s", strerror(-r));
	if (r < 0)
		log_bridge(LOG_ERR, u->bridge, "uplink %s: %s could not %s: %s", u->bridge, u->mgr->name,
			   what, err);
	else
		log_bridge(LOG_INFO, u->bridge, "uplink %s: %s: %s", u->bridge, u->mgr->name, what);
	return r;
}

static bool mgr_persisted_of(struct uplink *u)
{
	_cleanup_free_ char *dir = uplink_path(u, "manager");

	return u->mgr && dir && mgr_persisted(dir);
}

static int restore_runtime(const struct mgr_ctx *c, char *err, size_t errlen)
{
	return mgr_files_restore(c, MGR_SET_RUNTIME, err, errlen);
}

/* Its original config back (also when not marked persisted: a crash may have come between the
 * files and the mark; an empty set restores nothing). */
static int mgr_restore_config(struct uplink *u)
{
	_cleanup_free_ char *dir = uplink_path(u, "manager");
	char err[MGR_ERR_MAX];
	int r = mgr_step(u, u->mgr->restore, "restore its original config", err, sizeof(err));

	if (r >= 0 && dir)
		mgr_set_persisted(dir, false);
	return r;
}

/*
 * Rollback and revert: every file the manager reads back as it was, then the manager off the
 * bridge and the port while the kernel step runs (again: release is idempotent; after adopt, a
 * confirm or a reboot the manager had the bridge). The files first: the release restarts the
 * manager, and one that still found the bridge's config (a .netdev, an autoconnect profile) would
 * build the bridge again once the kernel step deleted it (measured: networkd and NetworkManager).
 */
static void mgr_before_rollback(struct uplink *u)
{
	char err[MGR_ERR_MAX];

	if (!u->mgr)
		return;
	(void)mgr_restore_config(u);
	(void)mgr_step(u, restore_runtime, "put its runtime files back", err, sizeof(err));
	(void)mgr_step(u, u->mgr->release, "let go of the bridge and the port for the rollback", err, sizeof(err));
}

/* After it: its hold on the port back (and the config, if it could not be put back before). */
static int mgr_after_rollback(struct uplink *u)
{
	char err[MGR_ERR_MAX];
	int r;

	if (!u->mgr)
		return 0;
	r = mgr_restore_config(u);
	if (mgr_step(u, u->mgr->take_back, "take the port back", err, sizeof(err)) < 0 && r >= 0)
		r = -EIO;
	return r;
}

/* ---- rollback ---- */

static int uplink_apply_rollback(struct uplink *u, uint64_t *ret_usec, char *err, size_t errlen)
{
	struct link_backend *b = &u->d->link;
	struct link_dump now = {};
	struct link_plan plan = {};
	int r;

	/* A rollback puts the host's uplink back: the kernel's own view, as CONVERT_DUMP. */
	r = b->ops->dump(b->userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS | LINK_DUMP_FRESH, &now);
	if (r < 0) {
		snprintf(err, errlen, "cannot read links from the kernel: %s", strerror(-r));
		return r;
	}
	r = convert_plan_rollback(&u->snap, &now, &plan);
	link_dump_free(&now);
	if (r < 0) {
		snprintf(err, errlen, "cannot plan the rollback: %s", strerror(-r));
		return r;
	}
	r = convert_apply(&plan, b, NULL, NULL, ret_usec, err, errlen);
	link_plan_free(&plan);
	return r;
}

/* Back to the snapshot; forgets the conversion (files too). Frees u. */
static int uplink_rollback(struct uplink *u, const char *why)
{
	uint64_t usec = 0;
	char err[1024] = "";
	int r;

	log_bridge(LOG_WARNING, u->bridge, "uplink %s: rolling back to %s: %s", u->bridge, u->port, why);
	probe_stop(u);
	u->confirm_timer = sd_event_source_disable_unref(u->confirm_timer);
	bridge_client_stop(u);
	uplink_save_state(u, UPLINK_ROLLING_BACK);
	mgr_before_rollback(u);
	r = uplink_apply_rollback(u, &usec, err, sizeof(err));
	if (r < 0)
		log_bridge(LOG_ERR, u->bridge, "uplink %s: rollback incomplete: %s", u->bridge, err);
	else
		log_bridge(LOG_INFO, u->bridge,
			   "uplink %s: rolled back, %s has its addresses and routes again (cut-over %.1f ms)",
			   u->bridge, u->port, usec / 1000.0);
	client_back_to_port(u);
	/* Its files stay (with the originals) when the manager could not have them back. */
	if (mgr_after_rollback(u) < 0 && r >= 0)
		r = -EIO;
	if (r >= 0)
		uplink_forget_files(u);
	uplink_free(u);
	return r;
}

/* ---- status ---- */

static json_object *json_ms(uint64_t usec)
{
	char s[32];

	snprintf(s, sizeof(s), "%.2f", usec / 1000.0);
	return json_object_new_double_s(usec / 1000.0, s);
}

static json_object *uplink_json(struct uplink *u)
{
	json_object *o = json_object_new_object(), *gws = json_object_new_array();
	char m[MAC_STRLEN], a[INET6_ADDRSTRLEN], argv[512];

	json_object_object_add(o, "bridge", json_object_new_string(u->bridge));
	json_object_object_add(o, "port", json_object_new_string(u->port));
	json_object_object_add(o, "state", json_object_new_string(uplink_state_to_string(u->state)));
	json_object_object_add(o, "mac", json_object_new_string(mac_format(&u->snap.mac, m, sizeof(m))));
	json_object_object_add(o, "mtu", json_object_new_int64(u->snap.mtu));
	json_object_object_add(o, "addresses", json_object_new_int64(u->snap.n_addrs));
	json_object_object_add(o, "routes", json_object_new_int64(u->snap.n_routes));
	if (u->cutover_usec)
		json_object_object_add(o, "cutover_ms", json_ms(u->cutover_usec));
	if (u->state == UPLINK_WAITING) {
		uint64_t now = daemon_now_usec();
		json_object_object_add(o, "confirm_remaining_sec",
				       json_object_new_int64(u->deadline_usec > now ? (u->deadline_usec - now + 999999) / 1000000 : 0));
	}
	for (size_t i = 0; i < u->n_gws; i++) {
		json_object *g = json_object_new_object();
		json_object_object_add(g, "address", json_object_new_string(ip_addr_format(u->gws[i].family, &u->gws[i].addr, a, sizeof(a))));
		json_object_object_add(g, "answered", json_object_new_boolean(u->gws[i].answered_usec > 0));
		if (u->gws[i].answered_usec)
			json_object_object_add(g, "ms", json_ms(u->gws[i].answered_usec));
		json_object_array_add(gws, g);
	}
	json_object_object_add(o, "gateways", gws);
	if (u->mgr)
		json_object_object_add(o, "manager", json_object_new_string(u->mgr->name));
	if (u->client.kind == MANAGER_DHCP_CLIENT) {
		json_object *c = json_object_new_object();
		manager_argv_format(u->client.argv, u->client.argv_len, argv, sizeof(argv));
		json_object_object_add(c, "original", json_object_new_string(argv));
		json_object_object_add(c, "exe", json_object_new_string(u->client.exe));
		if (u->bridge_client_pid > 0)
			json_object_object_add(c, "bridge_pid", json_object_new_int(u->bridge_client_pid));
		json_object_object_add(o, "dhcp_client", c);
	}
	return o;
}

/* ---- confirm wait ---- */

static int on_confirm_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct uplink *u = userdata;
	char why[128];

	snprintf(why, sizeof(why), "no confirmation within %llu s", (unsigned long long)(u->confirm_timeout_usec / 1000000));
	uplink_rollback(u, why);
	return 0;
}

static int uplink_wait_confirm(struct uplink *u)
{
	int r = sd_event_add_time_relative(u->d->event, &u->confirm_timer, CLOCK_MONOTONIC, u->confirm_timeout_usec, 0,
					   on_confirm_timeout, u);

	if (r < 0)
		return r;
	u->deadline_usec = daemon_now_usec() + u->confirm_timeout_usec;
	return uplink_save_state(u, UPLINK_WAITING);
}

/* The manager runs the bridge from its runtime config until the confirm; a failure rolls back. */
static int mgr_adopt(struct uplink *u, struct call *c)
{
	char err[MGR_ERR_MAX], why[MGR_ERR_MAX + 128];
	int r;

	if (!u->mgr->adopt)
		return 0;
	r = mgr_step(u, u->mgr->adopt, "run the bridge", err, sizeof(err));
	if (r < 0) {
		snprintf(why, sizeof(why), "%s could not take %s over: %s", u->mgr->name, u->bridge, err);
		if (c)
			call_errorf(c, r, "%s; rolled back", why);
		uplink_rollback(u, why);
		return r;
	}
	if (c)
		call_progress(c, "%s runs %s with %s as its port (its runtime config until the confirm)",
			      u->mgr->name, u->bridge, u->port);
	return 0;
}

/* Verification passed (or was skipped): the DHCP client or the manager follows, then we wait for
 * confirm. */
static void uplink_converted(struct uplink *u)
{
	struct call *c = TAKE_PTR(u->call);
	char text[512];
	int r;

	if (u->client.kind == MANAGER_DHCP_CLIENT) {
		r = client_start_on(u, u->bridge, &u->bridge_client_pid, text, sizeof(text));
		if (c && r >= 0)
			call_progress(c, "DHCP client moved to %s: %s (%s)", u->bridge, text, u->client.exe);
		else if (c)
			call_progress(c, "the DHCP client was not started on %s; see netd's log", u->bridge);
	}
	if (u->mgr && mgr_adopt(u, c) < 0)
		return;
	r = uplink_wait_confirm(u);
	if (r < 0) {
		if (c)
			call_errorf(c, r, "cannot arm the confirmation timer: %s; rolled back", strerror(-r));
		uplink_rollback(u, "cannot arm the confirmation timer");
		return;
	}
	log_bridge(LOG_INFO, u->bridge,
		   "uplink %s: converted; waiting %llu s for 'netdctl uplink confirm %s'", u->bridge,
		   (unsigned long long)(u->confirm_timeout_usec / 1000000), u->bridge);
	if (c) {
		call_progress(c, "waiting %llu s for 'netdctl uplink confirm %s'; without it netd rolls back",
			      (unsigned long long)(u->confirm_timeout_usec / 1000000), u->bridge);
		call_reply(c, uplink_json(u));
	}
}

/* ---- verification ---- */

static bool all_answered(struct uplink *u)
{
	for (size_t i = 0; i < u->n_gws; i++)
		if (!u->gws[i].answered_usec)
			return false;
	return true;
}

static void verify_done(struct uplink *u, bool ok)
{
	char a[INET6_ADDRSTRLEN], why[256] = "";
	struct call *c = u->call;

	probe_stop(u);
	for (size_t i = 0; i < u->n_gws; i++) {
		ip_addr_format(u->gws[i].family, &u->gws[i].addr, a, sizeof(a));
		if (c && u->gws[i].answered_usec)
			call_progress(c, "verify: gateway %s answered from %s after %.1f ms", a, u->bridge,
				      u->gws[i].answered_usec / 1000.0);
		else if (!u->gws[i].answered_usec)
			snprintf(why, sizeof(why), "gateway %s did not answer from %s within %llu s", a, u->bridge,
				 (unsigned long long)(VERIFY_TIMEOUT_USEC / 1000000));
	}
	if (ok) {
		uplink_converted(u);
		return;
	}
	u->call = NULL;
	if (c)
		call_progress(c, "verify: %s; rolling back", why);
	if (uplink_rollback(u, why) < 0) {
		if (c)
			call_reply_error(c, -EHOSTUNREACH, "%s; the rollback was incomplete, see netd's log", why);
		return;
	}
	if (c)
		call_reply_error(c, -EHOSTUNREACH, "verification failed: %s; rolled back, nothing changed", why);
}

static int on_probe_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct uplink *u = userdata;
	int family = fd == u->probe_fd[0] ? AF_INET : AF_INET6;
	union in_addr_union from;
	int r;

	while ((r = probe_recv(fd, family, u->probe_id, &from)) != -EAGAIN) {
		if (r <= 0) {
			if (r < 0)
				break;
			continue;
		}
		for (size_t i = 0; i < u->n_gws; i++)
			if (u->gws[i].family == family && !u->gws[i].answered_usec &&
			    ip_addr_equal(family, &u->gws[i].addr, &from))
				u->gws[i].answered_usec = daemon_now_usec() - u->verify_start_usec ?: 1;
	}
	if (all_answered(u))
		verify_done(u, true);
	return 0;
}

static int on_probe_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct uplink *u = userdata;
	int ifindex = 0;

	if (daemon_now_usec() - u->verify_start_usec >= VERIFY_TIMEOUT_USEC) {
		verify_done(u, false);
		return 0;
	}
	ifindex = if_nametoindex(u->bridge);
	u->probe_seq++;
	for (size_t i = 0; i < u->n_gws; i++) {
		int fd = u->probe_fd[u->gws[i].family == AF_INET6];

		if (!u->gws[i].answered_usec && fd >= 0)
			(void)probe_send(fd, u->gws[i].family, &u->gws[i].addr, ifindex, u->probe_id, u->probe_seq);
	}
	sd_event_source_set_time_relative(s, VERIFY_INTERVAL_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* The default gateways of every table, once each. */
static void gateways_collect(struct uplink *u)
{
	for (size_t i = 0; i < u->snap.n_routes && u->n_gws < UPLINK_GATEWAYS_MAX; i++) {
		const struct route_info *rt = &u->snap.routes[i];
		bool seen = false;

		if (rt->dst.len || !rt->gw_family)
			continue;
		for (size_t j = 0; j < u->n_gws; j++)
			seen |= u->gws[j].family == rt->gw_family && ip_addr_equal(rt->gw_family, &u->gws[j].addr, &rt->gw);
		if (!seen)
			u->gws[u->n_gws++] = (struct gateway){ .family = rt->gw_family, .addr = rt->gw };
	}
}

static int verify_start(struct uplink *u)
{
	int r;

	u->probe_id = (getpid() ^ (uint16_t)daemon_now_usec()) & 0xffff;
	u->verify_start_usec = daemon_now_usec();
	for (int i = 0; i < 2; i++) {
		int family = i ? AF_INET6 : AF_INET;
		bool wanted = false;

		for (size_t j = 0; j < u->n_gws; j++)
			wanted |= u->gws[j].family == family;
		if (!wanted)
			continue;
		u->probe_fd[i] = probe_open(family, u->bridge);
		if (u->probe_fd[i] < 0)
			return u->probe_fd[i];
		r = sd_event_add_io(u->d->event, &u->probe_io[i], u->probe_fd[i], EPOLLIN, on_probe_readable, u);
		if (r < 0)
			return r;
	}
	return sd_event_add_time_relative(u->d->event, &u->probe_timer, CLOCK_MONOTONIC, 0, 0, on_probe_timer, u);
}

/* ---- convert ---- */

static const char *debug_stop_phase(void)
{
	const char *s = getenv("NETD_DEBUG_UPLINK_KILL_AT");

	return s && *s ? s : NULL;
}

static int on_phase(enum convert_phase phase, void *userdata)
{
	static const enum uplink_state states[_CONVERT_PHASE_MAX] = {
		[CONVERT_PHASE_PREPARE] = UPLINK_PREPARING,
		[CONVERT_PHASE_CUTOVER] = UPLINK_CUTTING_OVER,
		[CONVERT_PHASE_FINISH] = UPLINK_FINISHING,
	};
	struct uplink *u = userdata;
	int r = uplink_save_state(u, states[phase]);

	if (r < 0)
		return r;
	if (u->call)
		call_progress(u->call, "phase: %s", convert_phase_to_string(phase));
	/* Test hook: die here, as a crash would, to prove a restart finishes the rollback. */
	if (debug_stop_phase() && !strcmp(debug_stop_phase(), convert_phase_to_string(phase))) {
		log_warning("NETD_DEBUG_UPLINK_KILL_AT=%s: killing myself", debug_stop_phase());
		kill(getpid(), SIGKILL);
	}
	return 0;
}

static bool is_wireless(const char *ifname)
{
	char a[128], b[128];

	snprintf(a, sizeof(a), "/sys/class/net/%s/wireless", ifname);
	snprintf(b, sizeof(b), "/sys/class/net/%s/phy80211", ifname);
	return access(a, F_OK) == 0 || access(b, F_OK) == 0;
}

/* The uplink schema (uplink-schema.c): the same messages as netdctl's options and the file's. */
static int convert_params_parse(struct call *c, json_object *params, struct uplink_def *ret)
{
	int r;

	uplink_def_init(ret);
	r = schema_json_parse_strict(&uplink_schema, ret, params, NULL, c->err, sizeof(c->err));
	if (r < 0)
		return r;
	if (!ret->port[0])
		return call_errorf(c, -EINVAL, "missing parameter 'port' (the interface to convert)");
	return 0;
}

/* Everything that can refuse, before anything changes. */
static int convert_check(struct daemon *d, struct call *c, const struct uplink_def *p,
			 struct convert_snapshot *snap, struct manager *mgr, const struct mgr_driver **drv)
{
	struct uplink *busy = uplink_in_progress(d);
	struct ignored_ctx ignored = { .bridge = p->bridge, .call = c };
	struct link_dump dump = {};
	const struct link_info *l;
	int r;

	if (busy)
		return call_errorf(c, -EBUSY, "the conversion of '%s' into '%s' is in progress (%s); confirm or revert it first",
				   busy->port, busy->bridge, uplink_state_to_string(busy->state));
	if (p->bridge[0] && daemon_network_find_bridge(d, p->bridge))
		return call_errorf(c, -EEXIST, "bridge name '%s' is used by a network", p->bridge);
	r = d->link.ops->dump(d->link.userdata, CONVERT_DUMP, &dump);
	if (r < 0)
		return call_errorf(c, r, "cannot read links from the kernel: %s", strerror(-r));
	r = convert_snapshot_take(&dump, p->port, p->bridge, snap, c->err, sizeof(c->err));
	l = link_dump_find_name(&dump, p->port);
	if (r >= 0 && is_wireless(p->port))
		r = call_errorf(c, -EOPNOTSUPP, "'%s' is a wireless interface; the kernel cannot make it a bridge port", p->port);
	if (r >= 0)
		r = convert_snapshot_read_sysctls(snap, &d->link);
	if (r >= 0) {
		struct mgr_ctx mc = { .root = d->paths.manager_root, .port = p->port, .bridge = p->bridge,
				      .ifindex = l->ifindex, .mac = snap->mac, .proc = &d->proc };

		r = mgr_detect(&mc, drv, c->err, sizeof(c->err));
	}
	/* The DHCP client ifupdown started is handed over as any other; networkd's is its own. */
	if (r >= 0)
		r = manager_detect(p->port, on_client_ignored, &ignored, mgr, c->err, sizeof(c->err));
	link_dump_free(&dump);
	if (r < 0)
		convert_snapshot_free(snap);
	return r;
}

static void convert_show_plan(struct uplink *u, struct call *c)
{
	struct link_plan plan = {};
	_cleanup_free_ char *text = NULL;

	size_t plan_steps;

	if (convert_plan_forward(&u->snap, &plan) < 0)
		return;
	plan_steps = plan.n_steps;
	text = link_plan_format(&plan);
	link_plan_free(&plan);
	if (!text)
		return;
	call_progress(c, "plan (%zu steps):", plan_steps);
	/* One progress line per step: a plan with many routes outgrows one message. */
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		call_progress(c, "%s", line);
}

/* Prepare, cut over, finish; on failure roll back at once. Returns 0 when converted. */
static int convert_run(struct uplink *u, char *err, size_t errlen)
{
	struct link_plan plan = {};
	int r = convert_plan_forward(&u->snap, &plan);

	if (r < 0) {
		snprintf(err, errlen, "cannot plan: %s", strerror(-r));
		return r;
	}
	r = convert_apply(&plan, &u->d->link, on_phase, u, &u->cutover_usec, err, errlen);
	link_plan_free(&plan);
	return r;
}

static void client_stop(struct uplink *u, struct call *c)
{
	char text[512];
	int r;

	if (u->client.kind != MANAGER_DHCP_CLIENT)
		return;
	manager_argv_format(u->client.argv, u->client.argv_len, text, sizeof(text));
	r = manager_client_stop(&u->d->proc, &u->client);
	if (r == -ETIMEDOUT)
		log_bridge(LOG_WARNING, u->bridge, "uplink %s: DHCP client pid %d did not exit after SIGKILL",
			   u->bridge, (int)u->client.pid);
	else if (r < 0)
		log_bridge(LOG_WARNING, u->bridge, "uplink %s: DHCP client pid %d is gone already", u->bridge,
			   (int)u->client.pid);
	log_bridge(LOG_INFO, u->bridge, "uplink %s: stopped DHCP client on %s (pid %d, no release): %s",
		   u->bridge, u->port, (int)u->client.pid, text);
	if (c)
		call_progress(c, "stopped the DHCP client on %s (pid %d, without a release): %s", u->port, (int)u->client.pid, text);
}

/* The manager lets go of the port before anything changes in the kernel; a failure undoes it
 * and forgets u (the request fails with why). */
static int mgr_release(struct uplink *u, const struct mgr_driver *drv, struct call *c)
{
	_cleanup_free_ char *dir = uplink_path(u, "manager");
	char err[MGR_ERR_MAX], back[MGR_ERR_MAX], port[IFNAMSIZ];
	int r;

	if (!drv)
		return 0;
	u->mgr = drv;
	snprintf(port, sizeof(port), "%s", u->port);
	r = dir ? mgr_save_driver(dir, drv) : -ENOMEM;
	if (r < 0)
		snprintf(err, sizeof(err), "cannot write %s: %s", dir ? dir : "its state", strerror(-r));
	else
		r = mgr_step(u, drv->release, "let go of the port", err, sizeof(err));
	if (r < 0) {
		(void)mgr_step(u, drv->take_back, "take the port back", back, sizeof(back));
		uplink_forget_files(u);
		uplink_free(u);
		return call_errorf(c, r, "%s manages '%s' and could not let go of it: %s; nothing changed", drv->name,
				   port, err);
	}
	call_progress(c, "%s let go of %s (its state only: addresses and routes stay)", drv->name, port);
	return 0;
}

static int uplink_method_convert(struct daemon *d, struct call *c, json_object *params)
{
	struct uplink_def p;
	struct convert_snapshot snap = {};
	struct manager mgr = {};
	const struct mgr_driver *drv = NULL;
	struct uplink *u;
	char err[1024] = "";
	int r;

	r = convert_params_parse(c, params, &p);
	if (r < 0)
		return r;
	r = convert_check(d, c, &p, &snap, &mgr, &drv);
	if (r < 0)
		return r;
	u = uplink_new(d, p.port, p.bridge);
	if (!u) {
		convert_snapshot_free(&snap);
		return -ENOMEM;
	}
	u->snap = snap;
	u->client = mgr;
	u->confirm_timeout_usec = p.confirm_timeout * 1000000ull;
	r = uplink_save_all(u);
	if (r < 0) {
		uplink_free(u);
		return call_errorf(c, r, "cannot write the snapshot to %s/uplinks: %s; nothing changed", d->paths.state_dir,
				   strerror(-r));
	}
	r = mgr_release(u, drv, c);
	if (r < 0)
		return r;
	convert_show_plan(u, c);
	u->call = c;
	client_stop(u, c);
	r = convert_run(u, err, sizeof(err));
	if (r < 0) {
		u->call = NULL;
		call_progress(c, "failed: %s; rolling back", err);
		uplink_rollback(u, err);
		return call_errorf(c, r, "converting '%s' into '%s' failed: %s; rolled back", p.port, p.bridge, err);
	}
	log_bridge(LOG_INFO, u->bridge, "uplink %s: %s converted, cut-over %.1f ms", u->bridge, u->port,
		   u->cutover_usec / 1000.0);
	call_progress(c, "cut-over done in %.1f ms", u->cutover_usec / 1000.0);
	gateways_collect(u);
	if (!p.verify || u->n_gws == 0) {
		call_progress(c, "verify: %s", !p.verify ? "skipped (--no-verify)" : "no default gateway to check");
		uplink_converted(u);
		return 0;
	}
	call_progress(c, "verify: probing %zu gateway(s) from %s", u->n_gws, u->bridge);
	r = verify_start(u);
	if (r < 0) {
		u->call = NULL;
		uplink_rollback(u, "cannot start the verification");
		return call_errorf(c, r, "cannot start the verification: %s; rolled back", strerror(-r));
	}
	return 0; /* answered when the verification ends */
}

/* ---- confirm, revert, status ---- */

static int lookup(struct daemon *d, struct call *c, json_object *params, struct uplink **ret)
{
	const char *bridge;

	if (protocol_param_string(params, "bridge", &bridge) < 0)
		return call_errorf(c, -EINVAL, "missing parameter 'bridge'");
	*ret = uplink_find(d, bridge);
	if (!*ret)
		return call_errorf(c, -ENOENT, "no uplink conversion into '%s' (see 'netdctl uplink status')", bridge);
	return 0;
}

/* The manager's own config describes the bridge from now on; a failure leaves its files as they were. */
static int mgr_persist(struct uplink *u, struct call *c)
{
	_cleanup_free_ char *dir = uplink_path(u, "manager");
	char err[MGR_ERR_MAX], back[MGR_ERR_MAX];
	int r;

	if (!u->mgr)
		return 0;
	if (!dir)
		return -ENOMEM;
	r = mgr_step(u, u->mgr->persist, "describe the bridge in its config", err, sizeof(err));
	if (r >= 0)
		r = mgr_set_persisted(dir, true);
	if (r < 0) {
		(void)mgr_step(u, u->mgr->restore, "restore its original config", back, sizeof(back));
		return call_errorf(c, r, "%s: %s; still waiting (confirm again, or revert)", u->mgr->name, err);
	}
	call_progress(c, "%s now configures %s with %s as its port (also after a reboot)", u->mgr->name, u->bridge,
		      u->port);
	return 0;
}

static int uplink_method_confirm(struct daemon *d, struct call *c, json_object *params)
{
	struct uplink *u;
	int r = lookup(d, c, params, &u);

	if (r < 0)
		return r;
	if (u->state == UPLINK_CONFIRMED) {
		call_reply(c, uplink_json(u));
		return 0;
	}
	if (u->state != UPLINK_WAITING)
		return call_errorf(c, -EBUSY, "'%s' is %s; confirm it once it waits for confirmation", u->bridge,
				   uplink_state_to_string(u->state));
	r = mgr_persist(u, c);
	if (r < 0)
		return r;
	r = uplink_config_save(u);
	if (r < 0)
		return call_errorf(c, r, "cannot write %s/uplinks/%s.conf: %s; still waiting", d->paths.config_dir, u->bridge,
				   strerror(-r));
	u->confirm_timer = sd_event_source_disable_unref(u->confirm_timer);
	uplink_save_state(u, UPLINK_CONFIRMED);
	log_bridge(LOG_INFO, u->bridge, "uplink %s: confirmed; %s stays a port of it, also after a reboot",
		   u->bridge, u->port);
	call_reply(c, uplink_json(u));
	return 0;
}

static int revert_check_ports(struct daemon *d, struct call *c, struct uplink *u, struct link_dump *now)
{
	const struct link_info *br = link_dump_find_name(now, u->bridge);

	for (size_t i = 0; br && i < now->n_links; i++)
		if (now->links[i].master == br->ifindex && strcmp(now->links[i].name, u->port))
			return call_errorf(c, -EBUSY, "'%s' has other ports (%s); detach them (or delete the bridge-mode "
					   "networks on it) before reverting", u->bridge, now->links[i].name);
	return 0;
}

static int uplink_method_revert(struct daemon *d, struct call *c, json_object *params)
{
	struct link_dump now = {};
	struct uplink *u;
	char port[IFNAMSIZ], bridge[IFNAMSIZ];
	int r = lookup(d, c, params, &u);

	if (r < 0)
		return r;
	if (u->state == UPLINK_VERIFYING)
		return call_errorf(c, -EBUSY, "'%s' is being verified; it rolls back by itself if that fails", u->bridge);
	r = d->link.ops->dump(d->link.userdata, CONVERT_DUMP, &now);
	if (r < 0)
		return call_errorf(c, r, "cannot read links from the kernel: %s", strerror(-r));
	r = revert_check_ports(d, c, u, &now);
	/* Confirmed a while ago: move back what the bridge holds now (renewed lease and all). */
	if (r >= 0 && u->state == UPLINK_CONFIRMED && link_dump_find_name(&now, u->bridge))
		r = convert_snapshot_refresh(&u->snap, &now);
	link_dump_free(&now);
	if (r < 0)
		return c->err[0] ? r : call_errorf(c, r, "cannot read what '%s' holds: %s", u->bridge, strerror(-r));
	snprintf(port, sizeof(port), "%s", u->port);
	snprintf(bridge, sizeof(bridge), "%s", u->bridge);
	r = uplink_rollback(u, "reverted by request");
	if (r < 0)
		return call_errorf(c, r, "reverting '%s' was incomplete; see netd's log", bridge);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "bridge", json_object_new_string(bridge));
	json_object_object_add(o, "port", json_object_new_string(port));
	json_object_object_add(o, "state", json_object_new_string("reverted"));
	call_reply(c, o);
	return 0;
}

static int uplink_method_status(struct daemon *d, struct call *c, json_object *params)
{
	json_object *list;
	const char *bridge = NULL;
	struct uplink *u;

	if (protocol_param_string(params, "bridge", &bridge) >= 0) {
		u = uplink_find(d, bridge);
		if (!u)
			return call_errorf(c, -ENOENT, "no uplink conversion into '%s'", bridge);
		list = json_object_new_array();
		json_object_array_add(list, uplink_json(u));
		call_reply(c, list);
		return 0;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < d->n_uplinks; i++)
		json_object_array_add(list, uplink_json(d->uplinks[i]));
	call_reply(c, list);
	return 0;
}

/* ---- start ---- */

/* A transaction the previous netd left: roll back unless it was confirmed. */
static void recover_one(struct daemon *d, const char *bridge)
{
	struct uplink *u = uplink_new(d, "", bridge);

	if (!u)
		return;
	if (uplink_load(u) < 0) {
		log_bridge(LOG_ERR, bridge,
			   "uplink %s: cannot read its state in %s/uplinks; leaving it alone", bridge,
			   d->paths.state_dir);
		uplink_free(u);
		return;
	}
	uplink_load_client(u);
	uplink_load_mgr(u);
	if (u->state == UPLINK_CONFIRMED)
		return;
	log_bridge(LOG_WARNING, bridge, "uplink %s: netd stopped while it was %s; finishing the rollback",
		   bridge, uplink_state_to_string(u->state));
	uplink_rollback(u, "interrupted conversion");
}

/* At boot the port may have a DHCP client again (the distribution's own config starts it): hand
 * that one over, as convert does, rather than leave two clients. A network manager on the port
 * means the host's config still claims it: leave the port alone and say what to change. */
static int rebuild_take_client(struct uplink *u)
{
	struct ignored_ctx ignored = { .bridge = u->bridge };
	struct manager found = {};
	char err[512] = "";
	struct mgr_ctx mc = mgr_ctx_of(u, NULL);
	const struct mgr_driver *drv = NULL;
	int r;

	mc.root = u->d->paths.manager_root;
	r = mgr_detect(&mc, &drv, err, sizeof(err));
	if (r >= 0 && drv)
		r = snprintf(err, sizeof(err), "%s manages '%s'", drv->name, u->port) < 0 ? -EIO : -EBUSY;
	if (r >= 0)
		r = manager_detect(u->port, on_client_ignored, &ignored, &found, err, sizeof(err));
	if (r < 0) {
		log_bridge(LOG_ERR, u->bridge, "uplink %s: not rebuilt: %s; then restart netd", u->bridge,
			   err);
		return r;
	}
	if (found.kind == MANAGER_DHCP_CLIENT) {
		u->client = found;
		client_stop(u, NULL);
	}
	return 0;
}

/* A confirmed conversion whose bridge is missing (a reboot): build it again, no verification. */
static void rebuild_one(struct daemon *d, const char *bridge, const char *port)
{
	struct uplink *u = uplink_find(d, bridge);
	struct link_dump dump = {};
	const struct link_info *br, *p;
	char err[1024] = "", text[512];
	bool had = u != NULL;
	struct manager client = {};

	if (d->link.ops->dump(d->link.userdata, CONVERT_DUMP, &dump) < 0)
		return;
	br = link_dump_find_name(&dump, bridge);
	p = link_dump_find_name(&dump, port);
	if (br && p && p->master == br->ifindex) {
		char tag[sizeof(br->alias)];

		/* The manager built it from the config confirm wrote: netd's, as the bridge it made
		 * was (a revert deletes only a bridge with this tag). */
		snprintf(tag, sizeof(tag), CONVERT_ALIAS_PREFIX "%s", port);
		if (had && strcmp(br->alias, tag) && d->link.ops->link_set_alias(d->link.userdata, br->ifindex, tag) < 0)
			log_bridge(
				LOG_WARNING, bridge,
				"uplink %s: cannot tag it as the bridge of %s (alias %s): a revert would leave it",
				bridge, port, tag);
		link_dump_free(&dump);
		if (!u && (u = uplink_new(d, port, bridge)))
			u->state = UPLINK_CONFIRMED; /* made by hand or by an older state dir: adopt */
		log_bridge(LOG_INFO, bridge, "uplink %s: %s is its port; adopted", bridge, port);
		return;
	}
	if (u && mgr_persisted_of(u)) {
		link_dump_free(&dump);
		log_bridge(LOG_INFO, bridge,
			   "uplink %s: left to %s, whose config builds it with %s as its port", bridge,
			   u->mgr->name, port);
		return;
	}
	if (u) {
		client = u->client; /* the DHCP client handed over before the reboot */
		uplink_free(u);
	}
	u = uplink_new(d, port, bridge);
	if (u)
		u->client = client;
	if (!u || convert_snapshot_take(&dump, port, bridge, &u->snap, err, sizeof(err)) < 0 ||
	    convert_snapshot_read_sysctls(&u->snap, &d->link) < 0) {
		log_bridge(LOG_ERR, bridge, "uplink %s: cannot rebuild it from %s: %s", bridge, port, err);
		link_dump_free(&dump);
		if (u)
			uplink_free(u);
		return;
	}
	link_dump_free(&dump);
	if (rebuild_take_client(u) < 0) {
		uplink_free(u);
		return;
	}
	u->state = UPLINK_PREPARING;
	if (uplink_save_all(u) < 0 || convert_run(u, err, sizeof(err)) < 0) {
		log_bridge(LOG_ERR, bridge, "uplink %s: rebuilding failed: %s", bridge, err);
		uplink_rollback(u, err);
		return;
	}
	uplink_save_state(u, UPLINK_CONFIRMED);
	log_bridge(LOG_INFO, bridge, "uplink %s: rebuilt with %s as its port (cut-over %.1f ms)%s", bridge,
		   port, u->cutover_usec / 1000.0, had ? "" : ", from the config");
	if (u->client.kind == MANAGER_DHCP_CLIENT &&
	    !manager_client_running(&u->d->proc, u->bridge_client_pid, bridge))
		client_start_on(u, bridge, &u->bridge_client_pid, text, sizeof(text));
}

static void for_each_entry(const char *dir, const char *suffix, void (*fn)(struct daemon *, const char *), struct daemon *d)
{
	DIR *dh = opendir(dir);
	struct dirent *de;

	if (!dh)
		return;
	while ((de = readdir(dh))) {
		char name[IFNAMSIZ + 8];
		size_t len = strlen(de->d_name), sl = strlen(suffix);

		if (de->d_name[0] == '.' || len <= sl || len - sl >= IFNAMSIZ || strcmp(de->d_name + len - sl, suffix))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - sl), de->d_name);
		fn(d, name);
	}
	closedir(dh);
}

static void recover_entry(struct daemon *d, const char *bridge)
{
	recover_one(d, bridge);
}

static void rebuild_entry(struct daemon *d, const char *bridge)
{
	_cleanup_free_ char *path = uplink_config_path(d, bridge), *text = NULL;
	struct uplink_def def;
	char err[SCHEMA_MSG_MAX];

	if (!path || read_file(path, &text, NULL) < 0)
		return;
	if (uplink_config_parse(text, &def, err, sizeof(err)) < 0) {
		log_error("config %s: %s; skipped", path, err);
		return;
	}
	rebuild_one(d, bridge, def.port);
}

void uplink_start(struct daemon *d)
{
	_cleanup_free_ char *state = NULL, *config = NULL;

	if (asprintf(&state, "%s/uplinks", d->paths.state_dir) < 0 || asprintf(&config, "%s/uplinks", d->paths.config_dir) < 0)
		return;
	for_each_entry(state, "", recover_entry, d);
	for_each_entry(config, ".conf", rebuild_entry, d);
}

static const struct method uplink_table[] = {
	{ "uplink.convert", uplink_method_convert, METHOD_CHANGE | METHOD_ASYNC },
	{ "uplink.confirm", uplink_method_confirm, METHOD_CHANGE },
	{ "uplink.revert", uplink_method_revert, METHOD_CHANGE },
	{ "uplink.status", uplink_method_status, METHOD_READ },
};

const struct method_area uplink_methods = METHOD_AREA(uplink_table);
