/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The evpn feature: FRR's side of networks across hosts (netd --vtep). Daemon-wide, no part in a
 * network's up or down: zebra takes each VNI from the kernel's VXLAN device (advertise-all-vni),
 * so FRR's configuration depends on netd's settings only.
 *
 * - Settings: the command line over CONFIG_DIR/netd.conf's [evpn] (daemon_evpn_load), again at
 *   every reload (the VTEP itself changes only at a restart: the VXLAN devices use it).
 * - Init (with a VTEP): the VTEP must be an address of this host (its prefix is a reflector's
 *   listen range), vtysh and frr-reload.py must exist. Then FRR's configuration is rendered
 *   (evpn/frr-conf.c), written to --frr-conf (0640 root:frr, atomically) and applied with
 *   frr-reload.py (no session reset), only when the text differs from the one applied last
 *   (<run>/evpn-frr.conf: a netd restarted after kill -9 applies nothing). frr-reload.py runs as a
 *   child watched by the event loop, never waited for.
 * - Every EVPN_POLL_USEC one vtysh asks FRR for its BGP sessions and VNIs (evpn/frr-state.c), in
 *   the background too; `netdctl status` shows the last answer, and a problem per session not
 *   Established or when FRR does not answer.
 * FRR itself is never started or stopped by netd: it keeps running when netd stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "frr-conf.h"
#include "frr-state.h"
#include "inifile.h"
#include "log.h"
#include "macro.h"

extern const struct feature feature_evpn; /* this file's, at its end */

#define EVPN_POLL_USEC (2 * 1000000ULL)
#define EVPN_POLL_TIMEOUT_USEC (10 * 1000000ULL)
#define EVPN_APPLY_TIMEOUT_USEC (60 * 1000000ULL)
#define EVPN_APPLY_RETRY_USEC (10 * 1000000ULL)
#define EVPN_OUTPUT_MAX (256u * 1024)
#define EVPN_APPLIED_FILE "evpn-frr.conf"

struct evpn;

/* One child in the background: its output (stdout and stderr) collected until it exits. */
struct evpn_job {
	pid_t pid;
	int pidfd, out_fd;
	sd_event_source *exit_src, *out_src;
	char *out;
	size_t len;
	uint64_t start_usec;
	void (*done)(struct evpn *ev, int status, const char *out, uint64_t usec);
};

struct evpn {
	struct daemon *d;
	struct ip_prefix listen_range; /* the VTEP's subnet on this host */
	char *want; /* the rendered text in force */
	char *applied; /* the text FRR took last (frr-reload.py exited 0), NULL: none known */
	char *applying; /* the text the running frr-reload.py applies */
	uint64_t apply_failed_usec; /* when the last apply failed, 0: it did not */
	char apply_error[512];
	struct evpn_job apply, poll;
	sd_event_source *poll_timer;
	/* The last poll's answer */
	struct frr_state state;
	bool polled, answering;
	char poll_error[256];
	uint64_t polled_usec;
};

#define EVPN(d) ((struct evpn *)*daemon_feature_state((d), &feature_evpn))

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

bool daemon_frr_pathspace_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NETD_FRR_PATHSPACE_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

/* ---- Settings: the command line over netd.conf's [evpn] ---- */

struct evpn_ini {
	struct inifile file;
	struct daemon_evpn *e;
	unsigned seen;
	char *err;
	size_t errlen;
};

static int evpn_ini_key(struct evpn_ini *c, const char *key, const char *value)
{
	struct daemon_evpn *e = c->e;
	char why[256];
	int r;

	if (!strcmp(key, "vtep")) {
		if (ip_addr_parse(value, &e->vtep_family, &e->vtep) < 0 ||
		    !frr_addr_usable(e->vtep_family, &e->vtep))
			return snprintf(c->err, c->errlen,
					"invalid vtep '%s': expected a unicast IPv4 or IPv6 address", value),
			       -EINVAL;
		c->seen |= EVPN_GIVEN_VTEP;
	} else if (!strcmp(key, "peers")) {
		r = frr_peers_parse(value, e->peers, FRR_PEERS_MAX, why, sizeof(why));
		if (r < 0)
			return snprintf(c->err, c->errlen, "invalid peers '%s': %s", value, why), -EINVAL;
		e->n_peers = (size_t)r;
		c->seen |= EVPN_GIVEN_PEERS;
	} else if (!strcmp(key, "reflector")) {
		if (!strcmp(value, "yes") || !strcmp(value, "true"))
			e->reflector = true;
		else if (!strcmp(value, "no") || !strcmp(value, "false"))
			e->reflector = false;
		else
			return snprintf(c->err, c->errlen, "invalid reflector '%s': expected yes or no",
					value),
			       -EINVAL;
		c->seen |= EVPN_GIVEN_REFLECTOR;
	} else if (!strcmp(key, "asn")) {
		if (frr_asn_parse(value, &e->asn) < 0)
			return snprintf(c->err, c->errlen,
					"invalid asn '%s': expected an AS number, 1-4294967295", value),
			       -EINVAL;
		c->seen |= EVPN_GIVEN_ASN;
	} else
		return snprintf(c->err, c->errlen, "unknown key '%s' in [evpn] (vtep, peers, reflector, asn)",
				key),
		       -EINVAL;
	return 0;
}

static int evpn_ini_line(void *user, const char *section, const char *key, const char *value)
{
	struct evpn_ini *c = user;
	int r;

	if (c->err[0])
		return 1; /* the first error is the one reported */
	if (strcmp(section, "evpn")) {
		snprintf(c->err, c->errlen, "unknown section [%s] (netd.conf has [evpn])", section);
		r = -EINVAL;
	} else
		r = evpn_ini_key(c, key, value);
	if (r < 0) {
		/* the line goes in front of what was said */
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", c->err);
		snprintf(c->err, c->errlen, "line %d: %s", c->file.line, msg);
	}
	return r >= 0;
}

int daemon_evpn_merge(const struct daemon_evpn *cmdline, const char *text, const char *file,
		      struct daemon_evpn *ret, char *err, size_t errlen)
{
	struct daemon_evpn f = { .asn = FRR_ASN_DEFAULT }, e = *cmdline;
	char msg[512] = "", why[256];
	struct evpn_ini c = { .e = &f, .err = msg, .errlen = sizeof(msg) };

	if (text) {
		int line = inifile_parse(&c.file, text, evpn_ini_line, &c);

		if (line) {
			if (!msg[0])
				snprintf(msg, sizeof(msg), "line %d: %s", line,
					 c.file.too_long ? "too long" : "syntax error");
			snprintf(err, errlen, "%s: %s", file, msg);
			return -EINVAL;
		}
	}
	/* What the command line did not give, the file does. */
	if (!(e.given & EVPN_GIVEN_VTEP) && (c.seen & EVPN_GIVEN_VTEP)) {
		e.vtep_family = f.vtep_family;
		e.vtep = f.vtep;
	}
	if (!(e.given & EVPN_GIVEN_PEERS) && (c.seen & EVPN_GIVEN_PEERS)) {
		memcpy(e.peers, f.peers, sizeof(e.peers));
		e.n_peers = f.n_peers;
	}
	if (!(e.given & EVPN_GIVEN_REFLECTOR) && (c.seen & EVPN_GIVEN_REFLECTOR))
		e.reflector = f.reflector;
	if (!(e.given & EVPN_GIVEN_ASN))
		e.asn = f.asn;
	if (!e.frr_reload)
		e.frr_reload = NETD_FRR_RELOAD_DEFAULT;
	if (!e.vtysh)
		e.vtysh = NETD_VTYSH_DEFAULT;
	if (!e.vtep_family && (e.n_peers || e.reflector)) {
		snprintf(err, errlen, "%s needs a VTEP: give --vtep ADDR (or vtep in %s's [evpn])",
			 e.n_peers ? "--evpn-peers" : "--evpn-reflector", file);
		return -EINVAL;
	}
	if (e.vtep_family) {
		/* the peers against the VTEP (the listen range is known at init) */
		struct frr_conf fc = {
			.vtep_family = e.vtep_family, .vtep = e.vtep, .asn = e.asn, .n_peers = e.n_peers
		};

		memcpy(fc.peers, e.peers, sizeof(fc.peers));
		if (frr_conf_validate(&fc, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "invalid EVPN settings: %s", why);
			return -EINVAL;
		}
	}
	*ret = e;
	return 0;
}

int daemon_evpn_load(const struct daemon_evpn *cmdline, const char *config_dir, struct daemon_evpn *ret,
		     char *err, size_t errlen)
{
	_cleanup_free_ char *path = path_join(config_dir, "netd.conf"), *text = NULL;
	struct daemon_evpn e;
	int r;

	if (!path)
		return -ENOMEM;
	r = read_file(path, &text, NULL);
	if (r < 0 && r != -ENOENT) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	r = daemon_evpn_merge(cmdline, text, path, &e, err, errlen);
	if (r < 0)
		return r;
	/* The static strings of the defaults live as long as netd; a pathspace's file path too. */
	if (!e.frr_conf && e.frr_pathspace) {
		static char conf[sizeof("/etc/frr//frr.conf") + NETD_FRR_PATHSPACE_MAX];

		snprintf(conf, sizeof(conf), "/etc/frr/%s/frr.conf", e.frr_pathspace);
		e.frr_conf = conf;
	} else if (!e.frr_conf)
		e.frr_conf = NETD_FRR_CONF_DEFAULT;
	*ret = e;
	return 0;
}

/* ---- Background children ---- */

static void job_end(struct evpn *ev, struct evpn_job *j)
{
	j->exit_src = sd_event_source_disable_unref(j->exit_src);
	j->out_src = sd_event_source_disable_unref(j->out_src);
	if (j->pidfd >= 0)
		close(j->pidfd);
	if (j->out_fd >= 0)
		close(j->out_fd);
	free(j->out);
	*j = (struct evpn_job){ .pid = 0, .pidfd = -1, .out_fd = -1, .done = j->done };
}

static void job_read(struct evpn_job *j)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(j->out_fd, buf, sizeof(buf))) > 0) {
		size_t keep = j->len + (size_t)n > EVPN_OUTPUT_MAX ? EVPN_OUTPUT_MAX - j->len : (size_t)n;
		char *p;

		if (!keep)
			continue; /* read and dropped */
		p = realloc(j->out, j->len + keep + 1);
		if (!p)
			return;
		memcpy(p + j->len, buf, keep);
		j->out = p;
		j->len += keep;
		j->out[j->len] = 0;
	}
}

static int on_job_out(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct evpn_job *j = userdata;

	job_read(j);
	if (revents & (EPOLLHUP | EPOLLERR))
		j->out_src = sd_event_source_disable_unref(j->out_src);
	return 0;
}

static void job_finish(struct evpn *ev, struct evpn_job *j, int status)
{
	void (*done)(struct evpn *, int, const char *, uint64_t) = j->done;
	uint64_t usec = now_usec() - j->start_usec;
	char *out;

	job_read(j);
	out = j->out ? j->out : strdup("");
	j->out = NULL;
	job_end(ev, j);
	if (out)
		done(ev, status, out, usec);
	free(out);
}

static int on_job_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct evpn *ev = userdata;
	struct evpn_job *j = ev->apply.pidfd == fd ? &ev->apply : &ev->poll;
	struct daemon *d = ev->d;
	int status = 0;

	if (d->proc.ops->reap(d->proc.userdata, j->pid, j->pidfd, &status) == -EAGAIN)
		return 0;
	job_finish(ev, j, status);
	return 0;
}

/* Start argv in the background; done() gets its wait status and output. */
static int job_start(struct evpn *ev, struct evpn_job *j, char *const *argv, char *err, size_t errlen)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8", NULL };
	struct daemon *d = ev->d;
	struct proc_spawn spec = { .argv = argv, .envp = envp };
	int pipefd[2], r;

	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		return snprintf(err, errlen, "pipe: %s", strerror(errno)), -errno;
	spec.stdio[1] = (struct proc_io){ PROC_IO_FD, pipefd[1] };
	spec.stdio[2] = (struct proc_io){ PROC_IO_FD, pipefd[1] };
	r = d->proc.ops->spawn(d->proc.userdata, &spec, &j->pid, &j->pidfd);
	close(pipefd[1]);
	if (r < 0) {
		close(pipefd[0]);
		snprintf(err, errlen, "cannot run %s: %s", argv[0],
			 d->proc.ops->last_error(d->proc.userdata));
		j->pid = 0;
		j->pidfd = -1;
		return r;
	}
	j->out_fd = pipefd[0];
	j->start_usec = now_usec();
	r = sd_event_add_io(d->event, &j->exit_src, j->pidfd, EPOLLIN, on_job_exit, ev);
	if (r >= 0)
		r = sd_event_add_io(d->event, &j->out_src, j->out_fd, EPOLLIN, on_job_out, j);
	if (r < 0) {
		d->proc.ops->kill(d->proc.userdata, j->pid, j->pidfd, SIGKILL);
		snprintf(err, errlen, "cannot watch %s: %s", argv[0], strerror(-r));
		/* reaped by nobody: the pidfd is closed, init does not reap a child of ours; rare */
		job_end(ev, j);
		return r;
	}
	return 0;
}

static bool job_running(const struct evpn_job *j)
{
	return j->pidfd >= 0;
}

/* A child over its time is killed; its exit ends the job as usual. */
static void job_check_time(struct evpn *ev, struct evpn_job *j, uint64_t limit_usec, const char *what)
{
	if (job_running(j) && now_usec() - j->start_usec > limit_usec) {
		log_warning("FRR: %s did not finish within %llu s: killed", what,
			    (unsigned long long)(limit_usec / 1000000));
		ev->d->proc.ops->kill(ev->d->proc.userdata, j->pid, j->pidfd, SIGKILL);
	}
}

/* The first line of a program's output, for a message. */
static void first_line(const char *out, char *buf, size_t size)
{
	const char *p = out;
	size_t n;

	while (*p == '\n' || *p == ' ')
		p++;
	n = strcspn(p, "\n");
	snprintf(buf, size, "%.*s", (int)n, p);
	/* frr-reload.py --stdout colours its ERROR and WARNING (ESC [ 91 m): those go; any other
	 * control character becomes '?' */
	for (char *q = buf, *w = buf;; q++) {
		if (*q == '\033' && q[1] == '[') {
			size_t k = 2 + strspn(q + 2, "0123456789;");

			if (q[k] >= '@' && q[k] <= '~') {
				q += k;
				continue;
			}
		}
		*w++ = ((unsigned char)*q < ' ' && *q) || *q == 0x7f ? '?' : *q;
		if (!*q)
			break;
	}
}

/* ---- FRR's configuration: write, apply ---- */

/* Written atomically, owned by root with FRR's group (frr reads it at its start), not world-readable. */
static int conf_write(const char *path, const char *text, char *err, size_t errlen)
{
	_cleanup_free_ char *tmp = NULL;
	struct group *g = getgrnam("frr");
	size_t len = strlen(text);
	int fd;

	if (asprintf(&tmp, "%s.netd-XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno)), -errno;
	if ((g && fchown(fd, 0, g->gr_gid) < 0) || fchmod(fd, g ? 0640 : 0600) < 0 ||
	    write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 || rename(tmp, path) < 0) {
		int r = -errno;

		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return r;
	}
	close(fd);
	return 0;
}

static char *applied_path(struct daemon *d)
{
	return path_join(d->paths.run_dir, EVPN_APPLIED_FILE);
}

static void apply_start(struct evpn *ev);

static void on_applied(struct evpn *ev, int status, const char *out, uint64_t usec)
{
	struct daemon *d = ev->d;
	_cleanup_free_ char *path = applied_path(d);
	char line[400];

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		log_info("FRR: configuration %s applied (frr-reload.py, %llu ms)", d->evpn.frr_conf,
			 (unsigned long long)(usec / 1000));
		free(ev->applied);
		ev->applied = TAKE_PTR(ev->applying);
		ev->apply_failed_usec = 0;
		ev->apply_error[0] = 0;
		if (path && write_runtime_file(path, ev->applied, strlen(ev->applied), 0600) < 0)
			log_warning("FRR: cannot record the applied configuration in %s", path);
	} else {
		/* frr-reload.py's errors go to its stdout, vtysh's warnings to stderr: the first
		 * line that says what failed */
		const char *p = strstr(out, "rror");
		const char *start = p ? p : out;

		while (p && start > out && start[-1] != '\n')
			start--;
		first_line(start, line, sizeof(line));
		snprintf(ev->apply_error, sizeof(ev->apply_error), "frr-reload.py %s %d: %s",
			 WIFEXITED(status) ? "exited with status" : "killed by signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), line);
		log_error("FRR: cannot apply %s: %s", d->evpn.frr_conf, ev->apply_error);
		ev->apply_failed_usec = now_usec();
		free(ev->applying);
		ev->applying = NULL;
	}
	if (ev->want && (!ev->applied || strcmp(ev->want, ev->applied)) && !ev->apply_failed_usec)
		apply_start(ev); /* changed again meanwhile */
}

static void apply_start(struct evpn *ev)
{
	struct daemon *d = ev->d;
	const struct daemon_evpn *e = &d->evpn;
	_cleanup_free_ char *dir_copy = strdup(e->frr_conf), *bin_copy = strdup(e->vtysh);
	char *argv[14], err[512], *confdir, rundir[sizeof(NETD_FRR_RUNDIR) + NETD_FRR_PATHSPACE_MAX + 1];
	size_t n = 0;

	if (!dir_copy || !bin_copy || job_running(&ev->apply))
		return;
	confdir = dirname(dir_copy);
	argv[n++] = (char *)e->frr_reload;
	argv[n++] = "--reload";
	/* Its log to its stdout, which netd reads (not /var/log/frr/frr-reload.log, a file of the
	 * host's own FRR that netd would otherwise grow, from every namespace alike). */
	argv[n++] = "--stdout";
	if (e->frr_pathspace) {
		argv[n++] = "--pathspace";
		argv[n++] = (char *)e->frr_pathspace;
		/* its temporary file where that FRR's sockets are, not in the host's FRR's */
		snprintf(rundir, sizeof(rundir), "%s/%s", NETD_FRR_RUNDIR, e->frr_pathspace);
		argv[n++] = "--rundir";
		argv[n++] = rundir;
	}
	/* --confdir the file's own directory: frr-reload.py then does not 'write' FRR's running
	 * configuration over it (it does when the file is not CONFDIR/frr.conf). */
	argv[n++] = "--confdir";
	argv[n++] = confdir;
	if (strcmp(e->vtysh, NETD_VTYSH_DEFAULT)) {
		argv[n++] = "--bindir"; /* frr-reload.py runs BINDIR/vtysh */
		argv[n++] = dirname(bin_copy);
	}
	argv[n++] = (char *)e->frr_conf;
	argv[n] = NULL;
	if (conf_write(e->frr_conf, ev->want, err, sizeof(err)) < 0 ||
	    job_start(ev, &ev->apply, argv, err, sizeof(err)) < 0) {
		snprintf(ev->apply_error, sizeof(ev->apply_error), "%s", err);
		log_error("FRR: cannot apply %s: %s", e->frr_conf, err);
		ev->apply_failed_usec = now_usec();
		return;
	}
	free(ev->applying);
	ev->applying = strdup(ev->want);
	log_debug("FRR: spawn %s --reload --stdout%s%s --confdir %s %s (pid %d)", e->frr_reload,
		  e->frr_pathspace ? " --pathspace " : "", e->frr_pathspace ? e->frr_pathspace : "", confdir,
		  e->frr_conf, (int)ev->apply.pid);
}

/* Render from the settings in force; apply when the text is not the one FRR took last (or the
 * file was changed by someone else). */
static int evpn_render_apply(struct evpn *ev, char *err, size_t errlen)
{
	const struct daemon_evpn *e = &ev->d->evpn;
	struct frr_conf c = { .vtep_family = e->vtep_family,
			      .vtep = e->vtep,
			      .asn = e->asn,
			      .n_peers = e->n_peers,
			      .reflector = e->reflector,
			      .listen_range = ev->listen_range };
	_cleanup_free_ char *text = NULL, *on_disk = NULL;
	int r;

	memcpy(c.peers, e->peers, sizeof(c.peers));
	r = frr_conf_render(&c, &text, err, errlen);
	if (r < 0)
		return r;
	(void)read_file(e->frr_conf, &on_disk, NULL);
	free(ev->want);
	ev->want = TAKE_PTR(text);
	if (ev->applied && !strcmp(ev->applied, ev->want) && on_disk && !strcmp(on_disk, ev->want)) {
		log_debug("FRR: configuration %s unchanged: nothing to apply", e->frr_conf);
		return 0;
	}
	ev->apply_failed_usec = 0;
	apply_start(ev);
	return 0;
}

/* ---- FRR's state: polled ---- */

static void peer_changes(struct evpn *ev, const struct frr_state *old, const struct frr_state *now)
{
	for (size_t i = 0; i < now->n_peers; i++) {
		const struct frr_bgp_peer *p = &now->peers[i];
		const char *was = NULL;
		char a[INET6_ADDRSTRLEN];

		for (size_t k = 0; k < old->n_peers; k++)
			if (old->peers[k].family == p->family &&
			    ip_addr_equal(p->family, &old->peers[k].addr, &p->addr))
				was = old->peers[k].state;
		if (was && !strcmp(was, p->state))
			continue;
		ip_addr_format(p->family, &p->addr, a, sizeof(a));
		if (frr_bgp_peer_up(p))
			log_info("FRR: BGP session to %s established", a);
		else if (was && !strcmp(was, "Established"))
			log_warning("FRR: BGP session to %s is %s (was Established)", a, p->state);
	}
}

static void on_polled(struct evpn *ev, int status, const char *out, uint64_t usec)
{
	struct frr_state s = {};
	char line[200];
	bool was = ev->answering;

	ev->polled = true;
	ev->polled_usec = now_usec();
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && frr_state_parse(out, strlen(out), &s) >= 0) {
		peer_changes(ev, &ev->state, &s);
		frr_state_clear(&ev->state);
		ev->state = s;
		ev->answering = true;
		ev->poll_error[0] = 0;
		if (!was)
			log_info("FRR answers (vtysh)");
		return;
	}
	frr_state_clear(&s);
	first_line(out, line, sizeof(line));
	snprintf(ev->poll_error, sizeof(ev->poll_error), "FRR does not answer (vtysh %s %d%s%s)",
		 WIFEXITED(status) ? "exited with status" : "killed by signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), line[0] ? ": " : "", line);
	if (was || !ev->polled)
		log_warning("FRR: %s", ev->poll_error);
	ev->answering = false;
}

static void poll_start(struct evpn *ev)
{
	const struct daemon_evpn *e = &ev->d->evpn;
	char *argv[10], err[256];
	size_t n = 0;

	argv[n++] = (char *)e->vtysh;
	if (e->frr_pathspace) {
		argv[n++] = "-N";
		argv[n++] = (char *)e->frr_pathspace;
	}
	argv[n++] = "-c";
	argv[n++] = "show bgp l2vpn evpn summary json";
	argv[n++] = "-c";
	argv[n++] = "show evpn vni json";
	argv[n] = NULL;
	if (job_start(ev, &ev->poll, argv, err, sizeof(err)) < 0) {
		snprintf(ev->poll_error, sizeof(ev->poll_error), "FRR does not answer (%.200s)", err);
		ev->answering = false;
		ev->polled = true;
	}
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct evpn *ev = userdata;

	job_check_time(ev, &ev->poll, EVPN_POLL_TIMEOUT_USEC, "vtysh");
	job_check_time(ev, &ev->apply, EVPN_APPLY_TIMEOUT_USEC, "frr-reload.py");
	if (!job_running(&ev->poll))
		poll_start(ev);
	/* a failed apply is tried again once FRR answers */
	if (ev->apply_failed_usec && ev->answering && !job_running(&ev->apply) &&
	    now_usec() - ev->apply_failed_usec > EVPN_APPLY_RETRY_USEC) {
		ev->apply_failed_usec = 0;
		apply_start(ev);
	}
	sd_event_source_set_time_relative(s, EVPN_POLL_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ON);
	return 0;
}

/* ---- The feature ---- */

/* The VTEP must be one of this host's addresses: its prefix is the reflector's listen range. */
static int vtep_check(struct daemon *d, struct ip_prefix *ret_range)
{
	const struct daemon_evpn *e = &d->evpn;
	struct link_dump host = {};
	char a[INET6_ADDRSTRLEN];
	int r;

	ip_addr_format(e->vtep_family, &e->vtep, a, sizeof(a));
	r = d->link.ops->dump(d->link.userdata, LINK_DUMP_LINKS | LINK_DUMP_ADDRS | LINK_DUMP_FRESH, &host);
	if (r < 0) {
		log_error("evpn: cannot read the host's addresses: %s", strerror(-r));
		return r;
	}
	r = -EADDRNOTAVAIL;
	for (size_t i = 0; i < host.n_addrs; i++) {
		const struct addr_info *ai = &host.addrs[i];

		if (ai->prefix.family == e->vtep_family &&
		    ip_addr_equal(e->vtep_family, &ai->prefix.addr, &e->vtep)) {
			*ret_range = ai->prefix;
			ip_prefix_mask(ret_range);
			r = 0;
			break;
		}
	}
	link_dump_free(&host);
	if (r < 0)
		log_error("invalid --vtep %s: not an address of this host (the VTEP is the host's address on "
			  "the underlay, which the other hosts reach)",
			  a);
	return r;
}

static int frr_check(const struct daemon_evpn *e)
{
	_cleanup_free_ char *dir = strdup(e->frr_conf);
	struct stat st;

	if (access(e->vtysh, X_OK) < 0) {
		log_error(
			"FRR's vtysh is missing (%s: %m): install the packages frr frr-pythontools, or give "
			"its path with --vtysh",
			e->vtysh);
		return -ENOENT;
	}
	if (access(e->frr_reload, X_OK) < 0) {
		log_error(
			"FRR's frr-reload.py is missing (%s: %m): install the packages frr frr-pythontools, "
			"or give its path with --frr-reload",
			e->frr_reload);
		return -ENOENT;
	}
	if (!dir || stat(dirname(dir), &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_error("the directory of --frr-conf %s does not exist: is FRR installed (packages frr "
			  "frr-pythontools)%s?",
			  e->frr_conf, e->frr_pathspace ? ", its pathspace's directory made" : "");
		return -ENOENT;
	}
	return 0;
}

static void evpn_done(struct daemon *d);

static int evpn_init(struct daemon *d)
{
	_cleanup_free_ char *path = NULL, *applied = NULL;
	struct ip_prefix range = {};
	char err[512];
	struct evpn *ev;
	int r;

	if (!d->evpn.vtep_family)
		return 0; /* EVPN off */
	r = vtep_check(d, &range);
	if (r < 0)
		return r;
	r = frr_check(&d->evpn);
	if (r < 0)
		return r;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	*ev = (struct evpn){ .d = d, .listen_range = range };
	ev->apply = ev->poll = (struct evpn_job){ .pidfd = -1, .out_fd = -1 };
	ev->apply.done = on_applied;
	ev->poll.done = on_polled;
	*daemon_feature_state(d, &feature_evpn) = ev;
	path = applied_path(d);
	if (path && read_file(path, &applied, NULL) >= 0)
		ev->applied = TAKE_PTR(applied);
	r = evpn_render_apply(ev, err, sizeof(err));
	if (r < 0)
		log_error("evpn: %s", err);
	else
		r = sd_event_add_time_relative(d->event, &ev->poll_timer, CLOCK_MONOTONIC, 0, 0,
					       on_poll_timer, ev);
	if (r < 0)
		evpn_done(d); /* daemon_features_init calls done() only of the features before */
	return r;
}

static void evpn_done(struct daemon *d)
{
	struct evpn *ev = EVPN(d);

	if (!ev)
		return;
	/* A running frr-reload.py or vtysh finishes by itself (FRR keeps running). */
	job_end(ev, &ev->apply);
	job_end(ev, &ev->poll);
	ev->poll_timer = sd_event_source_disable_unref(ev->poll_timer);
	frr_state_clear(&ev->state);
	free(ev->want);
	free(ev->applied);
	free(ev->applying);
	free(ev);
	*daemon_feature_state(d, &feature_evpn) = NULL;
}

static int evpn_reload(struct daemon *d, char *err, size_t errlen)
{
	struct evpn *ev = EVPN(d);
	struct daemon_evpn e;
	char msg[512];
	int r;

	r = daemon_evpn_load(&d->evpn_cmdline, d->paths.config_dir, &e, msg, sizeof(msg));
	if (r < 0)
		return snprintf(err, errlen, "%s; the EVPN settings stay as they were", msg), r;
	if (e.vtep_family != d->evpn.vtep_family ||
	    (e.vtep_family && !ip_addr_equal(e.vtep_family, &e.vtep, &d->evpn.vtep)))
		return snprintf(
			       err, errlen,
			       "the VTEP changes only when netd restarts; the EVPN settings stay as they were"),
		       -EINVAL;
	d->evpn = e;
	if (!ev)
		return 0;
	r = evpn_render_apply(ev, msg, sizeof(msg));
	if (r < 0)
		return snprintf(err, errlen, "evpn: %s", msg), r;
	return 0;
}

int daemon_evpn_vni_vteps(struct daemon *d, uint32_t vni, struct frr_peer_addr *ret, size_t max)
{
	struct evpn *ev = EVPN(d);

	if (!ev || !ev->answering)
		return -ENODATA;
	for (size_t i = 0; i < ev->state.n_vnis; i++) {
		const struct frr_vni *v = &ev->state.vnis[i];

		if (v->vni != vni)
			continue;
		for (size_t k = 0; k < v->n_vteps && k < max; k++)
			ret[k] = v->vteps[k];
		return (int)v->n_vteps;
	}
	return -ENOENT;
}

static json_object *addr_json(int family, const union in_addr_union *a)
{
	char s[INET6_ADDRSTRLEN];

	return json_object_new_string(ip_addr_format(family, a, s, sizeof(s)));
}

static void status_problems(struct evpn *ev, json_object *problems)
{
	char line[400];

	if (ev->apply_error[0]) {
		snprintf(line, sizeof(line), "FRR's configuration is not applied: %.300s", ev->apply_error);
		json_object_array_add(problems, json_object_new_string(line));
	}
	if (ev->polled && !ev->answering)
		json_object_array_add(problems, json_object_new_string(ev->poll_error));
	if (!ev->answering)
		return;
	/* FRR 8.4 prints the same "{}" for no BGP instance and for one without peers (a reflector
	 * before its first client): only a configured peer FRR does not list tells them apart. */
	for (size_t i = 0; i < ev->d->evpn.n_peers; i++) {
		const struct frr_peer *c = &ev->d->evpn.peers[i];
		bool listed = false;
		char a[INET6_ADDRSTRLEN];

		for (size_t k = 0; k < ev->state.n_peers && !listed; k++)
			listed = ev->state.peers[k].family == c->family &&
				 ip_addr_equal(c->family, &ev->state.peers[k].addr, &c->addr);
		if (listed)
			continue;
		snprintf(line, sizeof(line), "FRR has no BGP session to %s configured",
			 ip_addr_format(c->family, &c->addr, a, sizeof(a)));
		json_object_array_add(problems, json_object_new_string(line));
	}
	for (size_t i = 0; i < ev->state.n_peers; i++) {
		const struct frr_bgp_peer *p = &ev->state.peers[i];
		char a[INET6_ADDRSTRLEN];

		if (frr_bgp_peer_up(p))
			continue;
		snprintf(line, sizeof(line), "BGP session to %s is %s, not Established",
			 ip_addr_format(p->family, &p->addr, a, sizeof(a)), p->state);
		json_object_array_add(problems, json_object_new_string(line));
	}
}

static void evpn_status(struct daemon *d, json_object *o)
{
	struct evpn *ev = EVPN(d);
	const struct daemon_evpn *e = &d->evpn;
	json_object *j, *frr, *a;
	char range[IP_PREFIX_STRLEN];

	if (!e->vtep_family || !ev)
		return;
	j = json_object_new_object();
	json_object_object_add(j, "vtep", addr_json(e->vtep_family, &e->vtep));
	json_object_object_add(j, "asn", json_object_new_int64(e->asn));
	json_object_object_add(j, "reflector", json_object_new_boolean(e->reflector));
	if (e->reflector)
		json_object_object_add(
			j, "listen_range",
			json_object_new_string(ip_prefix_format(&ev->listen_range, range, sizeof(range))));
	a = json_object_new_array();
	for (size_t i = 0; i < e->n_peers; i++)
		json_object_array_add(a, addr_json(e->peers[i].family, &e->peers[i].addr));
	json_object_object_add(j, "configured_peers", a);
	frr = json_object_new_object();
	json_object_object_add(frr, "conf", json_object_new_string(e->frr_conf));
	json_object_object_add(frr, "pathspace",
			       e->frr_pathspace ? json_object_new_string(e->frr_pathspace) : NULL);
	json_object_object_add(frr, "applied",
			       json_object_new_boolean(ev->applied && ev->want &&
						       !strcmp(ev->applied, ev->want)));
	json_object_object_add(frr, "answering", json_object_new_boolean(ev->answering));
	json_object_object_add(frr, "polled_sec_ago",
			       ev->polled ? json_object_new_int64((now_usec() - ev->polled_usec) / 1000000) :
					    NULL);
	json_object_object_add(j, "frr", frr);
	a = json_object_new_array();
	for (size_t i = 0; ev->answering && i < ev->state.n_peers; i++) {
		const struct frr_bgp_peer *p = &ev->state.peers[i];
		json_object *po = json_object_new_object();

		json_object_object_add(po, "address", addr_json(p->family, &p->addr));
		json_object_object_add(po, "state", json_object_new_string(p->state));
		json_object_object_add(po, "uptime_msec", json_object_new_int64((int64_t)p->uptime_msec));
		json_object_object_add(po, "established",
				       p->established >= 0 ? json_object_new_int64(p->established) : NULL);
		json_object_object_add(po, "dynamic", json_object_new_boolean(p->dynamic));
		json_object_array_add(a, po);
	}
	json_object_object_add(j, "peers", a);
	a = json_object_new_array();
	for (size_t i = 0; ev->answering && i < ev->state.n_vnis; i++) {
		const struct frr_vni *v = &ev->state.vnis[i];
		json_object *vo = json_object_new_object(), *vteps = json_object_new_array();

		json_object_object_add(vo, "vni", json_object_new_int64(v->vni));
		json_object_object_add(vo, "vxlan_if",
				       v->vxlan_if[0] ? json_object_new_string(v->vxlan_if) : NULL);
		for (size_t k = 0; k < v->n_vteps; k++)
			json_object_array_add(vteps, addr_json(v->vteps[k].family, &v->vteps[k].addr));
		json_object_object_add(vo, "remote_vteps", vteps);
		json_object_array_add(a, vo);
	}
	json_object_object_add(j, "vnis", a);
	a = json_object_new_array();
	status_problems(ev, a);
	json_object_object_add(j, "problems", a);
	json_object_object_add(o, "evpn", j);
}

/* A mode evpn network's problem: the first of status's (a session down, FRR not answering or
 * refusing the configuration): the network reaches the other hosts through them. */
static const char *evpn_problem(struct daemon *d, const struct net *n, const struct net_view *v, char *buf,
				size_t size)
{
	struct evpn *ev = EVPN(d);
	json_object *problems;
	const char *p = NULL;

	if (!n->def->mode->vxlan || !n->def->vni || !ev || !d->evpn.vtep_family)
		return NULL;
	problems = json_object_new_array();
	status_problems(ev, problems);
	if (json_object_array_length(problems)) {
		snprintf(buf, size, "%s (netdctl status)",
			 json_object_get_string(json_object_array_get_idx(problems, 0)));
		p = buf;
	}
	json_object_put(problems);
	return p;
}

/* The vtysh command an operator types for FRR's pathspace of netd's (-N NAME). */
static const char *vtysh_cmd(const struct daemon_evpn *e, char *buf, size_t size)
{
	if (e->frr_pathspace)
		snprintf(buf, size, "vtysh -N %s", e->frr_pathspace);
	else
		snprintf(buf, size, "vtysh");
	return buf;
}

/* 'netdctl doctor' of a mode evpn network: steps "bgp" (the sessions, as status's problems) and
 * "evpn vni" (FRR's VNI and the other hosts that carry it, from EVPN type-3 routes). */
static void evpn_doctor(struct daemon *d, const struct net *n, const struct link_dump *dump,
			doctor_step_fn step, void *ctx)
{
	struct evpn *ev = EVPN(d);
	const struct frr_vni *v = NULL;
	json_object *problems;
	char buf[1024], fix[512], vtysh[NETD_FRR_PATHSPACE_MAX + 16], a[INET6_ADDRSTRLEN];
	size_t len = 0;

	if (!n->def->mode->vxlan || !n->def->vni)
		return;
	if (!d->evpn.vtep_family || !ev) {
		step(ctx, "bgp", "skip", NULL, "netd runs no EVPN: no --vtep (step vxlan)");
		return;
	}
	vtysh_cmd(&d->evpn, vtysh, sizeof(vtysh));
	problems = json_object_new_array();
	status_problems(ev, problems);
	for (size_t i = 0; i < json_object_array_length(problems) && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "; " : "",
				json_object_get_string(json_object_array_get_idx(problems, i)));
	json_object_put(problems);
	if (len) {
		if (ev->apply_error[0])
			snprintf(fix, sizeof(fix),
				 "netd's log has frr-reload.py's error (journalctl -u netd); %s -c 'show "
				 "running-config' shows what FRR runs",
				 vtysh);
		else if (!ev->answering)
			snprintf(
				fix, sizeof(fix),
				"systemctl status frr: zebra and bgpd must run (bgpd=yes in /etc/frr/daemons)");
		else
			snprintf(
				fix, sizeof(fix),
				"%s -c 'show bgp l2vpn evpn summary' on this host and the peer: FRR must run "
				"on each, TCP port 179 open between their VTEPs",
				vtysh);
		step(ctx, "bgp", "fail", fix, buf);
	} else if (!ev->polled) {
		step(ctx, "bgp", "skip", NULL, "FRR was not asked yet: netd asks every 2 s, try again");
		return;
	} else if (!ev->state.n_peers) {
		if (d->evpn.reflector)
			snprintf(fix, sizeof(fix), "start the other hosts' netd with --evpn-peers %s",
				 ip_addr_format(d->evpn.vtep_family, &d->evpn.vtep, a, sizeof(a)));
		else
			snprintf(fix, sizeof(fix),
				 "netd --evpn-peers ADDR (or peers in [evpn] of netd.conf)");
		step(ctx, "bgp", "warn", fix, "FRR has no BGP session: the network reaches no other host");
	} else {
		len = snprintf(buf, sizeof(buf), "BGP sessions Established:");
		for (size_t i = 0; i < ev->state.n_peers && len < sizeof(buf); i++)
			len += snprintf(buf + len, sizeof(buf) - len, " %s",
					ip_addr_format(ev->state.peers[i].family, &ev->state.peers[i].addr, a,
						       sizeof(a)));
		step(ctx, "bgp", "ok", NULL, buf);
	}
	if (!ev->answering) {
		step(ctx, "evpn vni", "skip", NULL, "FRR does not answer (step bgp)");
		return;
	}
	for (size_t i = 0; i < ev->state.n_vnis && !v; i++)
		if (ev->state.vnis[i].vni == n->def->vni)
			v = &ev->state.vnis[i];
	if (!v) {
		snprintf(buf, sizeof(buf),
			 "FRR has no VNI %u: zebra did not take vx%u (step vxlan; netd asks FRR every 2 s: "
			 "right after a create, try again)",
			 n->def->vni, n->def->vni);
		snprintf(fix, sizeof(fix), "%s -c 'show evpn vni'; %s -c 'show interface vx%u'", vtysh, vtysh,
			 n->def->vni);
		step(ctx, "evpn vni", "fail", fix, buf);
		return;
	}
	if (!v->n_vteps) {
		snprintf(buf, sizeof(buf),
			 "VNI %u is seen from no other host: FRR has no EVPN route of it from another VTEP",
			 n->def->vni);
		step(ctx, "evpn vni", d->evpn.n_peers || d->evpn.reflector ? "fail" : "warn",
		     "create the same network (mode evpn, same VNI) on the other hosts; see step bgp", buf);
		return;
	}
	len = snprintf(buf, sizeof(buf), "VNI %u (%s) is carried by this host and", v->vni,
		       v->vxlan_if[0] ? v->vxlan_if : "?");
	for (size_t i = 0; i < v->n_vteps && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, " %s",
				ip_addr_format(v->vteps[i].family, &v->vteps[i].addr, a, sizeof(a)));
	step(ctx, "evpn vni", "ok", NULL, buf);
}

const struct feature feature_evpn = {
	.name = "evpn",
	.init = evpn_init,
	.done = evpn_done,
	.reload = evpn_reload,
	.status = evpn_status,
	.problem = evpn_problem,
	.doctor = evpn_doctor,
};
