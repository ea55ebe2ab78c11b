/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Supervision of one dnsmasq: start or adopt, watch the pidfd, restart with backoff, stop. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"

static const char *const state_table[_DHCP_SERVER_STATE_MAX] = {
	[DHCP_SERVER_STOPPED] = "stopped",
	[DHCP_SERVER_RUNNING] = "running",
	[DHCP_SERVER_BACKOFF] = "restarting",
	[DHCP_SERVER_STOPPING] = "stopping",
};

const char *dhcp_server_state_to_string(enum dhcp_server_state s)
{
	return s >= 0 && s < _DHCP_SERVER_STATE_MAX ? state_table[s] : NULL;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char **strv_copy(char *const *v)
{
	size_t n = 0;
	char **c;

	while (v && v[n])
		n++;
	c = calloc(n + 1, sizeof(*c));
	for (size_t i = 0; c && i < n; i++)
		if (!(c[i] = strdup(v[i]))) {
			strv_free(c);
			return NULL;
		}
	return c;
}

static char *argf(const char *opt, const char *value)
{
	char *s;

	return asprintf(&s, "%s=%s", opt, value) < 0 ? NULL : s;
}

static int build_argv(struct dhcp_server *s, const struct dhcp_server_spec *spec)
{
	char *argv[8] = {};
	size_t n = 0;

	argv[n++] = strdup(spec->dnsmasq);
	/* Stay in the foreground: a real child of netd, reaped through its pidfd. */
	argv[n++] = strdup("--keep-in-foreground");
	argv[n++] = argf("--conf-file", spec->conf_path);
	argv[n++] = argf("--pid-file", spec->pid_path);
	if (spec->user)
		argv[n++] = argf("--user", spec->user);
	if (spec->group)
		argv[n++] = argf("--group", spec->group);
	argv[n++] = strdup("--log-facility=-");
	s->argv = strv_copy(argv);
	for (size_t i = 0; i < n; i++) {
		if (!argv[i]) {
			strv_free(s->argv);
			s->argv = NULL;
		}
		free(argv[i]);
	}
	return s->argv ? 0 : -ENOMEM;
}

int dhcp_server_new(sd_event *e, const struct proc_backend *proc, const struct dhcp_server_spec *spec,
		    struct dhcp_server **ret)
{
	struct dhcp_server *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->event = sd_event_ref(e);
	s->proc = *proc;
	s->pidfd = -1;
	s->network = strdup(spec->network);
	s->conf_path = strdup(spec->conf_path);
	s->pid_path = strdup(spec->pid_path);
	s->spawn_pid_path = spec->spawn_pid_path ? strdup(spec->spawn_pid_path) : NULL;
	s->lease_path = strdup(spec->lease_path);
	s->lease_macs_path = spec->lease_macs_path ? strdup(spec->lease_macs_path) : NULL;
	s->env = strv_copy(spec->env);
	s->rtnl_unsubscribe = spec->rtnl_unsubscribe;
	if (!s->network || !s->conf_path || !s->pid_path || (spec->spawn_pid_path && !s->spawn_pid_path) ||
	    !s->lease_path || (spec->lease_macs_path && !s->lease_macs_path) || !s->env ||
	    build_argv(s, spec) < 0) {
		dhcp_server_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

static int on_lease_macs_timer(sd_event_source *src, uint64_t usec, void *userdata);

static void unwatch(struct dhcp_server *s)
{
	s->exit_source = sd_event_source_disable_unref(s->exit_source);
	s->quiet_timer = sd_event_source_disable_unref(s->quiet_timer);
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
}

void dhcp_server_free(struct dhcp_server *s)
{
	if (!s)
		return;
	unwatch(s);
	if (s->lease_macs_timer)
		on_lease_macs_timer(NULL, 0, s); /* what it held back */
	sd_event_source_disable_unref(s->timer);
	sd_event_unref(s->event);
	strv_free(s->argv);
	strv_free(s->env);
	free(s->network);
	free(s->conf_path);
	free(s->pid_path);
	free(s->spawn_pid_path);
	free(s->lease_path);
	free(s->lease_macs_path);
	free(s->lease_macs_text);
	dhcp_lease_table_clear(&s->leases);
	free(s);
}

static uint64_t now(struct dhcp_server *s)
{
	uint64_t t = 0;

	sd_event_now(s->event, CLOCK_MONOTONIC, &t);
	return t;
}

static void describe_status(int status, char *buf, size_t size)
{
	if (status < 0)
		snprintf(buf, size, "exited (not our child: status unknown)");
	else if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "was killed by signal %s", sigabbrev_np(WTERMSIG(status)) ?: "?");
	else
		snprintf(buf, size, "ended (wait status 0x%x)", status);
}

static int on_restart_timer(sd_event_source *src, uint64_t usec, void *userdata);

static void schedule_restart(struct dhcp_server *s)
{
	int r;

	s->state = DHCP_SERVER_BACKOFF;
	s->timer = sd_event_source_disable_unref(s->timer);
	r = sd_event_add_time_relative(s->event, &s->timer, CLOCK_MONOTONIC, s->backoff_usec, 0,
				       on_restart_timer, s);
	if (r < 0)
		log_net(LOG_ERR, s->network, "network '%s': cannot schedule a dnsmasq restart: %s",
			s->network, strerror(-r));
	log_net(LOG_NOTICE, s->network, "network '%s': restarting dnsmasq in %llu ms", s->network,
		(unsigned long long)(s->backoff_usec / 1000));
	s->backoff_usec = s->backoff_usec * 2 > DHCP_BACKOFF_MAX_USEC ? DHCP_BACKOFF_MAX_USEC : s->backoff_usec * 2;
}

/* A dnsmasq told to exit is gone (reaped). */
static void stopped(struct dhcp_server *s)
{
	unwatch(s);
	s->timer = sd_event_source_disable_unref(s->timer);
	s->pid = 0;
	s->state = DHCP_SERVER_STOPPED;
	if (unlink(s->pid_path) < 0 && errno != ENOENT)
		log_net(LOG_WARNING, s->network, "network '%s': cannot remove %s: %s", s->network,
			s->pid_path, strerror(errno));
	if (s->spawn_pid_path)
		unlink(s->spawn_pid_path);
	if (s->stopped)
		s->stopped(s, s->stopped_userdata); /* may free s */
}

static int on_process_exit(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct dhcp_server *s = userdata;
	char how[96];
	int status = -1, r;

	r = s->proc.ops->reap(s->proc.userdata, s->pid, s->pidfd, &status);
	if (r == -EAGAIN)
		return 0; /* not yet */
	if (s->state == DHCP_SERVER_STOPPING) {
		stopped(s);
		return 0;
	}
	describe_status(r < 0 ? -1 : status, how, sizeof(how));
	log_net(LOG_ERR, s->network, "network '%s': dnsmasq (pid %d) %s", s->network, (int)s->pid, how);
	snprintf(s->last_exit, sizeof(s->last_exit), "%s", how);
	unwatch(s);
	s->pid = 0;
	if (now(s) - s->started_usec >= DHCP_BACKOFF_RESET_USEC || !s->backoff_usec)
		s->backoff_usec = DHCP_BACKOFF_MIN_USEC;
	schedule_restart(s);
	return 0;
}

#define QUIET_FIRST_USEC (5 * 1000ull)
#define QUIET_MAX_USEC (2 * 1000 * 1000ull)

/*
 * dnsmasq subscribes its netlink socket to every address and route change of the host, whatever
 * its options, and wakes for each: with hundreds of networks, one address added costs
 * milliseconds of everyone's CPU (DESIGN.md). Once it has bound the socket (milliseconds after
 * its start), it leaves those groups. Tried again with a growing delay until the bind is seen;
 * given up after the longest (~5 s in all).
 */
static int on_quiet_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	static bool warned;
	struct dhcp_server *s = userdata;
	int r = s->proc.ops->rtnl_unsubscribe(s->proc.userdata, s->pid, s->pidfd, s->rtnl_unsubscribe);

	if (r == 0 && s->quiet_delay_usec < QUIET_MAX_USEC) {
		s->quiet_delay_usec *= 2;
		if (sd_event_source_set_time_relative(src, s->quiet_delay_usec) >= 0 &&
		    sd_event_source_set_enabled(src, SD_EVENT_ONESHOT) >= 0)
			return 0;
	}
	s->quiet_timer = sd_event_source_disable_unref(s->quiet_timer);
	if (r > 0)
		log_net(LOG_DEBUG, s->network,
			"network '%s': dnsmasq (pid %d) left the host's address and route notifications",
			s->network, (int)s->pid);
	else if (r < 0 && r != -ESRCH && !warned) {
		warned = true;
		log_net(LOG_WARNING, s->network,
			"dnsmasq (pid %d of network '%s'): cannot take its netlink socket out of the host's "
			"address and route notifications: %s; every dnsmasq will wake for each change",
			(int)s->pid, s->network, strerror(-r));
	}
	return 0;
}

static void quiet_schedule(struct dhcp_server *s)
{
	if (!s->rtnl_unsubscribe || !s->proc.ops->rtnl_unsubscribe)
		return;
	s->quiet_timer = sd_event_source_disable_unref(s->quiet_timer);
	s->quiet_delay_usec = QUIET_FIRST_USEC;
	if (sd_event_add_time_relative(s->event, &s->quiet_timer, CLOCK_MONOTONIC, s->quiet_delay_usec, 0,
				       on_quiet_timer, s) < 0)
		s->quiet_timer = NULL;
}

static int watch(struct dhcp_server *s, pid_t pid, int pidfd)
{
	int r = sd_event_add_io(s->event, &s->exit_source, pidfd, EPOLLIN, on_process_exit, s);

	if (r < 0)
		return r;
	s->pid = pid;
	s->pidfd = pidfd;
	s->state = DHCP_SERVER_RUNNING;
	s->started_usec = now(s);
	return 0;
}

/* A line is at most ~470 bytes, and the renderer writes DHCP_LEASES6_PER_MAC a MAC: room for
 * over a thousand guests. What is past it is not read (logged). */
#define LEASE_MACS_MAX (4 << 20)

/* The MAC file (its first LEASE_MACS_MAX bytes; *ret_cut: it is longer), only when root's (netd's
 * own user's, in the unit tests) and nobody else may write it: port security believes what it
 * says. */
static int lease_macs_read(const char *path, char **ret, size_t *ret_len, bool *ret_cut)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t want;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077))
		return -EPERM;
	want = st.st_size > LEASE_MACS_MAX ? LEASE_MACS_MAX : (size_t)st.st_size;
	*ret_cut = st.st_size > LEASE_MACS_MAX;
	text = malloc(want + 1);
	if (!text)
		return -ENOMEM;
	for (size_t len = 0;;) {
		ssize_t n = read(fd, text + len, want - len);

		if (n < 0)
			return -errno;
		len += n;
		if (n == 0 || len == want) {
			text[len] = 0;
			*ret_len = len;
			break;
		}
	}
	*ret = TAKE_PTR(text);
	return 0;
}

static void lease_macs_load(struct dhcp_server *s, struct dhcp_lease_table *t)
{
	_cleanup_free_ char *text = NULL;
	struct dhcp_lease_table saved = {};
	size_t len = 0, bad = 0;
	bool cut = false;
	int r;

	r = lease_macs_read(s->lease_macs_path, &text, &len, &cut);
	if (r >= 0)
		r = dhcp_lease_macs_parse(text, len, &saved, &bad);
	if (r < 0) {
		/* written anew from the table (a rename over it) at the next save */
		free(s->lease_macs_text);
		s->lease_macs_text = NULL;
		if (r != -ENOENT)
			log_net(LOG_WARNING, s->network,
				"network '%s': ignoring %s: %s; DHCPv6 leases whose MAC netd does not "
				"know are allowed to no port until their client renews them",
				s->network, s->lease_macs_path,
				r == -EPERM ? "not root's alone" : strerror(-r));
		return;
	}
	if (bad || cut)
		log_net(LOG_WARNING, s->network,
			"network '%s': %s: skipped %zu malformed or repeated lines%s; their DHCPv6 "
			"leases are allowed to no port until their client renews them",
			s->network, s->lease_macs_path, bad, cut ? " and what is past its first 4 MiB" : "");
	dhcp_lease_table_take_macs(t, &saved);
	if (dhcp_lease_table_keep_ended(t, &saved, time(NULL)) < 0)
		log_net(LOG_WARNING, s->network,
			"network '%s': cannot keep the DHCPv6 leases %s records as ended early: %s",
			s->network, s->lease_macs_path, strerror(ENOMEM));
	dhcp_lease_table_clear(&saved);
	free(s->lease_macs_text);
	/* what was skipped is not there after the next write */
	s->lease_macs_text = bad || cut ? NULL : TAKE_PTR(text);
}

static int lease_macs_write(struct dhcp_server *s)
{
	_cleanup_free_ char *text = NULL;
	int r;

	s->lease_macs_timer = sd_event_source_disable_unref(s->lease_macs_timer);
	text = dhcp_lease_macs_render(&s->leases);
	if (!text)
		return -ENOMEM;
	if (s->lease_macs_text && !strcmp(text, s->lease_macs_text))
		return 0;
	if (!text[0] && !s->lease_macs_text && access(s->lease_macs_path, F_OK) < 0)
		return 0; /* nothing to record, and no file saying otherwise */
	/* No fsync: a netd killed loses nothing of a renamed file (the page cache is the kernel's).
	 * After a host crash a lease the record lost gets its MAC back at its client's next renewal. */
	r = write_runtime_file(s->lease_macs_path, text, strlen(text), 0600);
	if (r < 0)
		return r;
	free(s->lease_macs_text);
	s->lease_macs_text = TAKE_PTR(text);
	if (s->event)
		s->lease_macs_written_usec = now(s);
	return 0;
}

static int on_lease_macs_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct dhcp_server *s = userdata;
	int r = lease_macs_write(s);

	/* From dhcp_server_free (src NULL) after a network's delete removed its state directory:
	 * nothing to keep. */
	if (r < 0 && !(!src && r == -ENOENT))
		log_net(LOG_WARNING, s->network,
			"network '%s': cannot write %s: %s; after a restart netd may not know the MAC of "
			"a DHCPv6 lease",
			s->network, s->lease_macs_path, strerror(-r));
	return 0;
}

int dhcp_server_lease_macs_save(struct dhcp_server *s)
{
	uint64_t next = s->lease_macs_written_usec + DHCP_LEASE_MACS_GAP_USEC;

	if (!s->lease_macs_path || s->lease_macs_timer)
		return 0; /* (written when the timer fires) */
	if (s->event && s->lease_macs_written_usec && now(s) < next &&
	    sd_event_add_time(s->event, &s->lease_macs_timer, CLOCK_MONOTONIC, next, 0, on_lease_macs_timer,
			      s) >= 0)
		return 0;
	return lease_macs_write(s);
}

int dhcp_server_leases_load(struct dhcp_server *s)
{
	_cleanup_free_ char *text = NULL;
	struct dhcp_lease_table t = {};
	size_t len = 0;
	int r = read_file(s->lease_path, &text, &len);

	if (r < 0 && r != -ENOENT)
		return r;
	if (r >= 0) {
		r = dhcp_lease_file_parse(text, len, &t, NULL);
		if (r < 0)
			return r;
	}
	/* dnsmasq's file has no MAC for IPv6: what netd knew (a dnsmasq restarted), else its record
	 * (netd restarted). The file has no lease dnsmasq ended early either: the ones netd keeps for
	 * their owner until their expiry come along. */
	dhcp_lease_table_take_macs(&t, &s->leases);
	if (s->lease_macs_path)
		lease_macs_load(s, &t);
	if (dhcp_lease_table_keep_ended(&t, &s->leases, time(NULL)) < 0) {
		dhcp_lease_table_clear(&t);
		return -ENOMEM;
	}
	dhcp_lease_table_clear(&s->leases);
	s->leases = t;
	r = dhcp_server_lease_macs_save(s);
	if (r < 0)
		log_net(LOG_WARNING, s->network, "network '%s': cannot write %s: %s", s->network,
			s->lease_macs_path, strerror(-r));
	return 0;
}

/* Not dnsmasq's own pid file: dnsmasq unlinks it and creates it with O_EXCL, and a rename of netd's
 * landing in between made it exit ("failed to open pidfile: File exists", a CI run under load). */
static void write_pid_file(struct dhcp_server *s)
{
	char buf[32];
	int r;

	if (!s->spawn_pid_path)
		return;
	snprintf(buf, sizeof(buf), "%d\n", (int)s->pid);
	r = write_runtime_file(s->spawn_pid_path, buf, strlen(buf), 0644);
	if (r < 0)
		log_net(LOG_WARNING, s->network, "network '%s': cannot write %s: %s", s->network,
			s->spawn_pid_path, strerror(-r));
}

int dhcp_server_start(struct dhcp_server *s)
{
	/* stdout and stderr are netd's: --log-facility=- logs there. */
	struct proc_spawn spec = {
		.argv = s->argv,
		.envp = s->env,
		.stdio = { [1] = { PROC_IO_INHERIT }, [2] = { PROC_IO_INHERIT } },
	};
	pid_t pid;
	int pidfd, r;

	s->timer = sd_event_source_disable_unref(s->timer);
	if (s->state == DHCP_SERVER_RUNNING)
		return 0;
	r = s->proc.ops->spawn(s->proc.userdata, &spec, &pid, &pidfd);
	if (r < 0)
		return r;
	r = watch(s, pid, pidfd);
	if (r < 0) {
		s->proc.ops->kill(s->proc.userdata, pid, pidfd, SIGKILL);
		close(pidfd);
		return r;
	}
	s->adopted = false;
	/* Only a dnsmasq netd started: the membership belongs to the socket and outlives a netd
	 * restart, and an adopted one has run (and served guests) long enough to have been taken
	 * over, when its fds are not for netd to handle (DESIGN.md). */
	quiet_schedule(s);
	/* dnsmasq writes its pid file a few milliseconds later; netd's own, now, closes the window in
	 * which a netd killed right after the spawn would find nothing to adopt. */
	write_pid_file(s);
	if (s->restarts++ > 0)
		log_net(LOG_INFO, s->network, "network '%s': dnsmasq restarted (pid %d)", s->network,
			(int)pid);
	dhcp_server_leases_load(s);
	return 0;
}

static int on_restart_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct dhcp_server *s = userdata;
	int r;

	s->timer = sd_event_source_disable_unref(s->timer);
	r = dhcp_server_start(s);
	if (r < 0) {
		log_net(LOG_ERR, s->network, "network '%s': cannot start dnsmasq: %s", s->network,
			strerror(-r));
		snprintf(s->last_exit, sizeof(s->last_exit), "could not be started (%s)", strerror(-r));
		schedule_restart(s);
	}
	return 0;
}

/* Is the process this server's dnsmasq: the same binary name and the same config file? */
static bool cmdline_matches(struct dhcp_server *s, pid_t pid)
{
	_cleanup_free_ char *cmd = NULL, *want = argf("--conf-file", s->conf_path);
	const char *base, *bin = strrchr(s->argv[0], '/');
	size_t len;
	bool conf = false;

	if (!want || s->proc.ops->cmdline(s->proc.userdata, pid, &cmd, &len) < 0 || len == 0)
		return false;
	base = strrchr(cmd, '/');
	if (strcmp(base ? base + 1 : cmd, bin ? bin + 1 : s->argv[0]))
		return false;
	for (size_t o = strlen(cmd) + 1; o < len; o += strlen(cmd + o) + 1)
		conf |= !strcmp(cmd + o, want);
	return conf;
}

static int read_pid_file(const char *path, pid_t *ret)
{
	_cleanup_free_ char *text = NULL;
	char *end;
	long v;
	int r = read_file(path, &text, NULL);

	if (r < 0)
		return r;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || (*end && *end != '\n') || v <= 1 || v > 1 << 22)
		return -EBADMSG;
	*ret = v;
	return 0;
}

int dhcp_server_adopt(struct dhcp_server *s)
{
	pid_t pid;
	int pidfd, r;

	if (s->state == DHCP_SERVER_RUNNING)
		return 0;
	/* dnsmasq's own file, else the one netd wrote at the spawn (killed before dnsmasq wrote its) */
	if ((read_pid_file(s->pid_path, &pid) < 0 || !cmdline_matches(s, pid)) &&
	    (!s->spawn_pid_path || read_pid_file(s->spawn_pid_path, &pid) < 0 || !cmdline_matches(s, pid)))
		return -ESRCH;
	r = s->proc.ops->open(s->proc.userdata, pid, &pidfd);
	if (r < 0)
		return -ESRCH;
	/* The pid may have been reused between the check and the pidfd: check again through it. */
	if (!cmdline_matches(s, pid)) {
		close(pidfd);
		return -ESRCH;
	}
	r = watch(s, pid, pidfd);
	if (r < 0) {
		close(pidfd);
		return r;
	}
	s->adopted = true;
	s->restarts = 1;
	dhcp_server_leases_load(s);
	return 0;
}

int dhcp_server_reload(struct dhcp_server *s)
{
	if (s->state != DHCP_SERVER_RUNNING)
		return 0; /* a starting dnsmasq reads the files anyway */
	return s->proc.ops->kill(s->proc.userdata, s->pid, s->pidfd, SIGHUP);
}

static bool wait_exit(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) > 0;
}

static int on_stop_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct dhcp_server *s = userdata;

	s->timer = sd_event_source_disable_unref(s->timer);
	if (s->killed) {
		/* SIGKILL did not end it either (stuck in the kernel): stop waiting for it */
		log_net(LOG_ERR, s->network,
			"network '%s': dnsmasq (pid %d) did not exit after SIGKILL either; no longer waiting for it",
			s->network, (int)s->pid);
		stopped(s);
		return 0;
	}
	log_net(LOG_WARNING, s->network,
		"network '%s': dnsmasq (pid %d) did not exit within %d ms of SIGTERM; sending SIGKILL",
		s->network, (int)s->pid, DHCP_STOP_TIMEOUT_MS);
	s->proc.ops->kill(s->proc.userdata, s->pid, s->pidfd, SIGKILL);
	s->killed = true;
	if (sd_event_add_time_relative(s->event, &s->timer, CLOCK_MONOTONIC, DHCP_STOP_TIMEOUT_MS * 1000ull,
				       0, on_stop_timeout, s) < 0)
		stopped(s);
	return 0;
}

int dhcp_server_stop_async(struct dhcp_server *s, void (*stopped_fn)(struct dhcp_server *s, void *userdata),
			   void *userdata)
{
	int r;

	if (s->state != DHCP_SERVER_RUNNING && s->state != DHCP_SERVER_STOPPING) {
		dhcp_server_stop(s);
		return 0;
	}
	s->stopped = stopped_fn;
	s->stopped_userdata = userdata;
	if (s->state == DHCP_SERVER_STOPPING)
		return 1;
	s->state = DHCP_SERVER_STOPPING;
	s->killed = false;
	s->timer = sd_event_source_disable_unref(s->timer);
	r = sd_event_add_time_relative(s->event, &s->timer, CLOCK_MONOTONIC, DHCP_STOP_TIMEOUT_MS * 1000ull,
				       0, on_stop_timeout, s);
	if (r < 0) {
		/* no timer: the bounded wait instead */
		s->state = DHCP_SERVER_RUNNING;
		s->stopped = NULL;
		dhcp_server_stop(s);
		return 0;
	}
	s->proc.ops->kill(s->proc.userdata, s->pid, s->pidfd, SIGTERM);
	return 1;
}

int dhcp_server_stop(struct dhcp_server *s)
{
	int status, r = 0;

	s->timer = sd_event_source_disable_unref(s->timer);
	if (s->state == DHCP_SERVER_RUNNING || s->state == DHCP_SERVER_STOPPING) {
		/* dnsmasq exits within milliseconds of SIGTERM; the wait is bounded so a wedged
		 * one cannot stall the daemon, and SIGKILL follows. */
		s->proc.ops->kill(s->proc.userdata, s->pid, s->pidfd, SIGTERM);
		if (!wait_exit(s->pidfd, DHCP_STOP_TIMEOUT_MS)) {
			s->proc.ops->kill(s->proc.userdata, s->pid, s->pidfd, SIGKILL);
			if (!wait_exit(s->pidfd, DHCP_STOP_TIMEOUT_MS))
				r = -ETIMEDOUT;
		}
		s->proc.ops->reap(s->proc.userdata, s->pid, s->pidfd, &status);
		unwatch(s);
	}
	s->pid = 0;
	s->state = DHCP_SERVER_STOPPED;
	if (unlink(s->pid_path) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}
