/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon as a whole, on the recording fakes (daemon_start() on a fake kernel, fake nftables,
 * fake TAPs and a fake process spawner; a private config/state/run tree in /tmp), driven through
 * its methods as the control socket would (method_call()). Each scenario writes what the
 * backends were asked to do, request by request, and compares it with a golden log in
 * tests/data/daemon/ (NETD_UPDATE_GOLDEN=1 rewrites them): create/start/stop/delete/reload of
 * every mode, a start that fails at each of its steps (undone), guests plugged, plugged again
 * after their bridge was made anew, a refused stop, set-network; every entry of 'network list'
 * against 'network show' after each kind of change. Runs without root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "fakelog.h"
#include "fileio.h"
#include "golden.h"
#include "cloud-init.h"
#include "log.h"
#include "macro.h"
#include "hostprobe.h"
#include "protocol.h"
#include "server.h"
#include "vm-ipv6.h"
#include "disk-pool.h"
#include "vm.h"

struct world {
	char root[64];
	struct daemon d;
	struct link_fake *link;
	struct fw_fake *fw;
	struct tap_fake *tap;
	struct proc_fake *proc;
	struct probe_fake *probe;
	struct fake_log all; /* every fake's lines, in order (fake_log_mirror) */
	char *log; /* the scenario's golden log so far */
	size_t log_len;
	FILE *out;
	json_object *reply; /* the last reply */
	bool replied;
	unsigned n_replies;
	json_object *params; /* the last request's */
	/* QEMU as the fake spawner "runs" it: the test answers on its QMP socket (qmp_serve). */
	pid_t qemu_pid;
	int qmp_fd; /* the accepted connection, -1 */
	sd_event_source *qmp_source;
	char qmp_buf[8192];
	size_t qmp_len;
	char guest[32]; /* the guest whose QEMU the test plays */
	/* command, return (JSON), ...; NULL-terminated: other answers. A command with a space is the
	 * start of "command arguments" (the first that matches wins); a return "!TEXT" is an error. */
	const char *const *qmp_canned;
	/* vCPUs as QEMU 7.2 answers for them (qmp-session-live.txt): with cpu_slots set,
	 * query-hotpluggable-cpus lists that many slots, cpu_present of them plugged (the first
	 * ones), query-cpus-fast counts those, and a device_add that succeeds plugs one more. */
	unsigned cpu_slots, cpu_present;
	const char *qmp_hold; /* the answer to this command is kept in qmp_held, not sent */
	const char *qmp_exit_on; /* QEMU exits at this command, unanswered */
	bool prelaunch; /* query-status says prelaunch until a cont */
	char qmp_held[4608];
	/* Internal snapshots as QEMU 7.2 keeps them (qmp-session-snapshot.txt): the tags on node disk0
	 * (query-named-block-nodes), the last job and how it ended (query-jobs); snap_job_error: the
	 * next jobs fail with it; snap_job_early: "concluded" comes before the command's return. */
	char snap_tags[8][72];
	size_t n_snap_tags;
	char snap_job[48], snap_job_type[24];
	const char *snap_job_error;
	bool snap_job_early;
	const char *snap_jobs_status; /* query-jobs says this of the last job (NULL: concluded) */
};

static uint64_t now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

static void paths_init(struct world *w)
{
	char path[128];

	snprintf(w->root, sizeof(w->root), "/tmp/netd-unit-daemon.XXXXXX");
	assert_non_null(mkdtemp(w->root));
	w->d.paths.config_dir = strdup((snprintf(path, sizeof(path), "%s/etc", w->root), path));
	w->d.paths.state_dir = strdup((snprintf(path, sizeof(path), "%s/lib", w->root), path));
	w->d.paths.run_dir = strdup((snprintf(path, sizeof(path), "%s/run", w->root), path));
	w->d.paths.socket = strdup((snprintf(path, sizeof(path), "%s/run/netd.sock", w->root), path));
	w->d.paths.manager_root = strdup(w->root);
	assert_int_equal(mkdir_p(w->d.paths.run_dir, 0755), 0);
}

/* A daemon on fresh fakes over the tree in w->root ("boot": no markers in run/ yet, unless a
 * previous daemon_start of this world left them). */
static int make_tap_link(void *userdata, const char *ifname, int *ret_ifindex)
{
	struct world *w = userdata;

	return link_fake_add_link(w->link, ifname, "tun", ret_ifindex);
}

static void daemon_up(struct world *w)
{
	struct daemon *d = &w->d;

	d->lock_fd = d->listen_fd = -1;
	ip_prefix_parse(NETD_SUBNET_POOL_DEFAULT, &d->subnet_pool);
	d->dnsmasq = "/usr/sbin/dnsmasq";
	d->qemu_binary = "/usr/bin/qemu-system-x86_64";
	d->qemu_user = "root";
	d->qemu_caps = (struct qemu_caps){ 7, 2, true };
	d->kvm_probe = KVM_PROBE_BROKEN; /* TCG, as on these machines: no probe to wait for */
	/* other firewalls are judged and reported (the fake has no iptables to run) */
	d->fw_integration = FWINT_REPORT;
	d->proc_net = TEST_DATA_DIR "/no-such-dir";
	d->fw_no_grace = true;
	assert_int_equal(sd_event_new(&d->event), 0);
	assert_int_equal(link_fake_new(&w->link, &d->link), 0);
	assert_int_equal(fw_fake_new(&w->fw, &d->nft), 0);
	assert_int_equal(tap_fake_new(false, &w->tap, &d->tap), 0);
	tap_fake_set_make_link(w->tap, make_tap_link, w);
	assert_int_equal(proc_fake_new(&w->proc, &d->proc), 0);
	/* iptables, as fwint.c runs it: an empty table filter (test_firewall_integration gives others) */
	assert_int_equal(proc_fake_set_run(w->proc, "/usr/sbin/iptables-nft", "", 0), 0);
	assert_int_equal(proc_fake_set_run(w->proc, "/usr/sbin/iptables-nft-restore", "", 0), 0);
	assert_int_equal(probe_fake_new(&w->probe, &d->probe), 0);
	assert_int_equal(daemon_start(d), 0);
}

static void daemon_down(struct world *w)
{
	struct daemon *d = &w->d;

	w->qmp_source = sd_event_source_disable_unref(w->qmp_source);
	if (w->qmp_fd >= 0)
		close(w->qmp_fd);

	daemon_stop(d);
	d->event = sd_event_unref(d->event);
	link_fake_free(w->link);
	fw_fake_free(w->fw);
	tap_fake_free(w->tap);
	proc_fake_free(w->proc);
	probe_fake_free(w->probe);
}

static void flush_backends(struct world *w);

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (!w)
		return -1;
	log_set_max_level(LOG_ERR);
	paths_init(w);
	w->out = open_memstream(&w->log, &w->log_len);
	w->qmp_fd = -1;
	fake_log_mirror(&w->all);
	daemon_up(w);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	if (getenv("NETD_TEST_VERBOSE")) {
		flush_backends(w);
		fflush(w->out);
		fprintf(stderr, "--- log of the scenario:\n%s", w->log);
	}
	daemon_down(w);
	fake_log_mirror(NULL);
	fake_log_clear(&w->all);
	fclose(w->out);
	free(w->log);
	json_object_put(w->reply);
	json_object_put(w->params);
	rm_rf(w->root);
	free((char *)w->d.paths.config_dir);
	free((char *)w->d.paths.state_dir);
	free((char *)w->d.paths.run_dir);
	free((char *)w->d.paths.socket);
	free((char *)w->d.paths.manager_root);
	free(w);
	return 0;
}

/* Each line of text with the world's root replaced by $ROOT (the log does not depend on mkdtemp)
 * and what netd generated at random (a bridge MAC, a guest's UUID) by "(generated)" (a MAC the
 * test gave starts with 52:54:00). */
static void put_text(struct world *w, const char *prefix, const char *text)
{
	size_t rl = strlen(w->root);

	for (const char *line = text; *line;) {
		size_t n = strcspn(line, "\n");

		fputs(prefix, w->out);
		for (size_t i = 0; i < n; i++) {
			if (i + rl <= n && !strncmp(line + i, w->root, rl)) {
				fputs("$ROOT", w->out);
				i += rl - 1;
			} else if (i + 6 + 36 <= n && !strncmp(line + i, "-uuid ", 6)) {
				fputs("-uuid (generated)", w->out);
				i += 6 + 36 - 1;
			} else if (i + 4 + 17 <= n && !strncmp(line + i, "mac=", 4) &&
				   strncmp(line + i + 4, "52:54:00", 8) &&
				   strspn(line + i + 4, "0123456789abcdef:") == 17) {
				fputs("mac=(generated)", w->out);
				i += 4 + 17 - 1;
			} else {
				fputc(line[i], w->out);
			}
		}
		fputc('\n', w->out);
		line += n + (line[n] == '\n');
	}
}

/* What the backends were asked since the last flush, into the scenario's log. */
static void flush_backends(struct world *w)
{
	put_text(w, "  ", fake_log_text(&w->all));
	fake_log_clear(&w->all);
	link_fake_clear_log(w->link);
	fw_fake_clear_log(w->fw);
	tap_fake_clear_log(w->tap);
	proc_fake_log_clear(w->proc);
	probe_fake_clear_log(w->probe);
}

static void on_reply(struct call *call, json_object *reply)
{
	struct world *w = call->userdata;

	json_object_put(w->reply);
	w->reply = json_object_get(reply);
	w->replied = true;
	w->n_replies++;
}

static void on_progress(struct call *call, const char *text)
{
	struct world *w = call->userdata;

	put_text(w, "  progress: ", text);
}

/* QEMU's side of QMP, as much as netd uses: the greeting, then a return for every command (a
 * status for query-status, TCG for query-kvm); quit and system_powerdown end the process. Each command goes
 * into the log. */
static void qmp_send(struct world *w, const char *text)
{
	assert_int_equal(write(w->qmp_fd, text, strlen(text)), (ssize_t)strlen(text));
}

/* The vCPU slots or vCPUs of QEMU's model (w->cpu_slots), in QEMU 7.2's words. */
static void qmp_cpus(struct world *w, const char *what, char *buf, size_t size)
{
	size_t n = 0;

	n += snprintf(buf + n, size - n, "[");
	for (unsigned i = w->cpu_slots; i-- > 0;) {
		if (!strcmp(what, "query-cpus-fast") && i < w->cpu_present)
			n += snprintf(buf + n, size - n, "%s{\"cpu-index\": %u}", n > 1 ? ", " : "",
				      w->cpu_present - 1 - i);
		else if (!strcmp(what, "query-hotpluggable-cpus"))
			n += snprintf(buf + n, size - n,
				      "%s{\"props\": {\"core-id\": %u, \"thread-id\": 0, \"socket-id\": 0}, "
				      "\"vcpus-count\": 1, %s\"type\": \"qemu64-x86_64-cpu\"}",
				      n > 1 ? ", " : "", i,
				      i < w->cpu_present ?
					      "\"qom-path\": \"/machine/unattached/device[0]\", " :
					      "");
	}
	snprintf(buf + n, size - n, "]");
}

/* query-named-block-nodes and query-jobs from the fake's snapshots and its last job. */
static const char *qmp_snapshot_return(struct world *w, const char *what, char *buf, size_t size)
{
	size_t n = 0;

	if (!strcmp(what, "query-jobs")) {
		snprintf(buf, size,
			 "[{\"current-progress\": 1, \"status\": \"%s\", \"total-progress\": 1, "
			 "\"type\": \"%s\", \"id\": \"%s\"%s%s%s}]",
			 w->snap_jobs_status ?: "concluded", w->snap_job_type, w->snap_job,
			 w->snap_job_error ? ", \"error\": \"" : "", w->snap_job_error ?: "",
			 w->snap_job_error ? "\"" : "");
		return buf;
	}
	n += snprintf(buf + n, size - n,
		      "[{\"node-name\": \"disk0\", \"drv\": \"qcow2\", \"image\": {\"format\": \"qcow2\", "
		      "\"snapshots\": [");
	for (size_t i = 0; i < w->n_snap_tags; i++)
		n += snprintf(
			buf + n, size - n,
			"%s{\"vm-clock-nsec\": 550561741, \"name\": \"%s\", \"date-sec\": %zu, "
			"\"date-nsec\": 0, \"vm-clock-sec\": 0, \"id\": \"%zu\", \"vm-state-size\": 926142}",
			i ? ", " : "", w->snap_tags[i], 1796130445 + i * 60, i + 1);
	snprintf(
		buf + n, size - n,
		"]}}, {\"node-name\": \"disk0-file\", \"drv\": \"file\", \"image\": {\"format\": \"file\"}}]");
	return buf;
}

/* A snapshot job: its events, around its command's return (sent by ret_fn). */
static void qmp_snapshot_job(struct world *w, const char *what, json_object *args, const char *ret)
{
	json_object *id = NULL, *tag = NULL;
	char ev[256];
	const char *const early[] = { "created", "running", "concluded" };

	if (!strncmp(ret, "{\"error\"", 8)) { /* refused: no job, no events */
		qmp_send(w, ret);
		return;
	}
	json_object_object_get_ex(args, "job-id", &id);
	json_object_object_get_ex(args, "tag", &tag);
	snprintf(w->snap_job, sizeof(w->snap_job), "%s", id ? json_object_get_string(id) : "");
	snprintf(w->snap_job_type, sizeof(w->snap_job_type), "%s", what);
	for (size_t i = 0; i < (w->snap_job_early ? 3 : 2); i++) {
		snprintf(
			ev, sizeof(ev),
			"{\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"status\": \"%s\", \"id\": \"%s\"}}\n",
			early[i], w->snap_job);
		qmp_send(w, ev);
	}
	qmp_send(w, ret);
	if (!w->snap_job_error && tag && !strcmp(what, "snapshot-save") && w->n_snap_tags < 8)
		snprintf(w->snap_tags[w->n_snap_tags++], sizeof(w->snap_tags[0]), "%s",
			 json_object_get_string(tag));
	if (!w->snap_job_error && tag && !strcmp(what, "snapshot-delete"))
		for (size_t i = 0; i < w->n_snap_tags; i++)
			if (!strcmp(w->snap_tags[i], json_object_get_string(tag))) {
				memmove(w->snap_tags[i], w->snap_tags[i + 1],
					(w->n_snap_tags - i - 1) * sizeof(w->snap_tags[0]));
				w->n_snap_tags--;
				break;
			}
	if (w->snap_job_early)
		return;
	snprintf(
		ev, sizeof(ev),
		"{\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"status\": \"concluded\", \"id\": \"%s\"}}\n",
		w->snap_job);
	qmp_send(w, ev);
}

/* A canned return of the scenario's (or its error), the vCPU model's, a running status, or {}. */
static const char *qmp_return(struct world *w, const char *what, const char *line, char *buf, size_t size)
{
	for (size_t i = 0; w->qmp_canned && w->qmp_canned[i]; i += 2)
		if (strchr(w->qmp_canned[i], ' ') ?
			    !strncmp(line, w->qmp_canned[i], strlen(w->qmp_canned[i])) :
			    !strcmp(w->qmp_canned[i], what))
			return w->qmp_canned[i + 1];
	if (w->cpu_slots && (!strcmp(what, "query-cpus-fast") || !strcmp(what, "query-hotpluggable-cpus"))) {
		qmp_cpus(w, what, buf, size);
		return buf;
	}
	if (w->cpu_slots && !strcmp(what, "device_add") && w->cpu_present < w->cpu_slots)
		w->cpu_present++;
	if (!strcmp(what, "cont"))
		w->prelaunch = false;
	if (!strcmp(what, "query-status") && w->prelaunch)
		return "{\"status\": \"prelaunch\", \"running\": false}";
	if (!strcmp(what, "query-block"))
		return "[]";
	if (!strcmp(what, "query-kvm"))
		return "{\"enabled\": false, \"present\": false}";
	if (!strcmp(what, "query-named-block-nodes") || !strcmp(what, "query-jobs"))
		return qmp_snapshot_return(w, what, buf, size);
	return !strcmp(what, "query-status") ? "{\"status\": \"running\", \"running\": true}" : "{}";
}

static int on_qmp(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct world *w = userdata;
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { w->qmp_buf + w->qmp_len, sizeof(w->qmp_buf) - 1 - w->qmp_len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)
	};
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	char *nl;

	/* An fd netd passes (add-fd): logged with its access mode, then closed. */
	for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t k = 0; k < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
			int rfd;
			int mode;

			memcpy(&rfd, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
			mode = fcntl(rfd, F_GETFL) & O_ACCMODE;
			fake_log_add(&w->all, "qmp: (an fd, %s)",
				     mode == O_RDWR   ? "read-write" :
				     mode == O_RDONLY ? "read-only" :
							"write-only");
			close(rfd);
		}
	}

	if (n <= 0) {
		w->qmp_source = sd_event_source_disable_unref(w->qmp_source);
		close(w->qmp_fd);
		w->qmp_fd = -1;
		return 0;
	}
	w->qmp_len += n;
	w->qmp_buf[w->qmp_len] = 0;
	while ((nl = strchr(w->qmp_buf, '\n'))) {
		_cleanup_json_ json_object *cmd = json_tokener_parse(w->qmp_buf);
		json_object *ex = NULL, *args = NULL, *id = NULL;
		const char *what, *ret;
		char line[2048], buf[4096], out[4608];

		*nl = 0;
		assert_true(cmd && json_object_object_get_ex(cmd, "execute", &ex));
		what = json_object_get_string(ex);
		json_object_object_get_ex(cmd, "arguments", &args);
		snprintf(line, sizeof(line), "qmp: %s%s%s", what, args ? " " : "",
			 args ? json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN) : "");
		fake_log_add(&w->all, "%s", line);
		json_object_object_get_ex(cmd, "id", &id);
		if (w->qmp_exit_on && !strcmp(w->qmp_exit_on, what)) {
			w->qmp_exit_on = NULL;
			assert_int_equal(proc_fake_exit(w->proc, w->qemu_pid, 0), 0);
			w->qmp_len = 0;
			return 0;
		}
		ret = qmp_return(w, what, line + strlen("qmp: "), buf, sizeof(buf));
		if (ret[0] == '!')
			snprintf(
				out, sizeof(out),
				"{\"error\": {\"class\": \"GenericError\", \"desc\": \"%.200s\"}, \"id\": %.64s}\n",
				ret + 1, id ? json_object_to_json_string(id) : "null");
		else
			snprintf(out, sizeof(out), "{\"return\": %.4096s, \"id\": %.64s}\n", ret,
				 id ? json_object_to_json_string(id) : "null");
		if (w->qmp_hold && !strcmp(w->qmp_hold, what))
			snprintf(w->qmp_held, sizeof(w->qmp_held), "%s", out);
		else if (!strncmp(what, "snapshot-", 9))
			qmp_snapshot_job(w, what, args, out);
		else
			qmp_send(w, out);
		/* The guest lets an unplugged device go at once. */
		if (!strcmp(what, "device_del") && args) {
			json_object *dev = NULL;

			json_object_object_get_ex(args, "id", &dev);
			snprintf(out, sizeof(out),
				 "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": %s}}\n",
				 dev ? json_object_to_json_string(dev) : "null");
			qmp_send(w, out);
		}
		if (!strcmp(what, "quit") || !strcmp(what, "system_powerdown"))
			assert_int_equal(proc_fake_exit(w->proc, w->qemu_pid, 0), 0);
		memmove(w->qmp_buf, nl + 1, w->qmp_len - (nl + 1 - w->qmp_buf) + 1);
		w->qmp_len -= nl + 1 - w->qmp_buf;
	}
	return 0;
}

/* Once guest NAME's QEMU was spawned: accept netd's QMP connection on the listening socket QEMU
 * was given, and greet. */
static void qmp_serve(struct world *w, const char *guest)
{
	char path[256], *text = NULL;
	int lfd = -1;

	snprintf(path, sizeof(path), "%s/guests/%s/pid", w->d.paths.run_dir, guest);
	if (w->qmp_fd >= 0 || read_file(path, &text, NULL) < 0)
		return;
	w->qemu_pid = atoi(text);
	free(text);
	for (int fd = 3; fd < 3 + PROC_FDS_MAX && lfd < 0; fd++) {
		struct sockaddr_un sa;
		socklen_t len = sizeof(sa);
		int c = proc_fake_child_fd(w->proc, w->qemu_pid, fd);

		if (c >= 0 && getsockname(c, (struct sockaddr *)&sa, &len) == 0 && sa.sun_family == AF_UNIX &&
		    strstr(sa.sun_path, "/qmp.sock"))
			lfd = c;
	}
	if (lfd < 0)
		return;
	w->qmp_fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (w->qmp_fd < 0)
		return;
	w->qmp_len = 0;
	assert_int_equal(sd_event_add_io(w->d.event, &w->qmp_source, w->qmp_fd, EPOLLIN, on_qmp, w), 0);
	qmp_send(w, "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0}}, "
		    "\"capabilities\": []}}\n");
}

/* One request, as uid, run until it is answered (async ones through the event loop); the
 * request, the backends' work and the reply's first line go into the log. Returns whether ok. */
/* A request goes in; reply_wait waits for its answer (or another's, when two are under way). */
static void request_send(struct world *w, uid_t uid, const char *method, const char *params_json)
{
	json_object *params = params_json ? json_tokener_parse(params_json) : NULL;
	const struct method *m = method_find(method);
	struct call *call = calloc(1, sizeof(*call));
	int r;

	assert_non_null(m);
	assert_non_null(call);
	assert_true(!params_json || params);
	*call = (struct call){ .uid = uid, .on_reply = on_reply, .on_progress = on_progress, .userdata = w };
	{
		char line[1024];

		snprintf(line, sizeof(line), "%s%s%s", method, params_json ? " " : "", params_json ?: "");
		put_text(w, "", line);
	}
	w->replied = false;
	r = method_call(&w->d, m, call, params);
	if (r < 0) {
		/* Answered by dispatch in control.c: the same reply, built here. */
		json_object *reply = json_object_new_object();

		json_object_object_add(reply, "ok", json_object_new_boolean(false));
		json_object_object_add(reply, "error",
				       json_object_new_string(call->err[0] ? call->err : strerror(-r)));
		on_reply(call, reply);
		json_object_put(reply);
		free(call);
	}
	json_object_put(w->params);
	w->params = params;
}

static bool reply_wait(struct world *w, const char *method)
{
	json_object *ok, *v;

	for (int i = 0; i < 500 && !w->replied; i++) {
		if (w->guest[0])
			qmp_serve(w, w->guest);
		assert_true(sd_event_run(w->d.event, 10 * 1000) >= 0);
	}
	if (!w->replied) {
		flush_backends(w);
		fflush(w->out);
		fprintf(stderr, "no reply to %s; so far:\n%s", method, w->log);
	}
	assert_true(w->replied);
	/* What the request set going without waiting for (a QMP command after the reply). */
	for (int i = 0; i < 100 && sd_event_run(w->d.event, 0) > 0; i++)
		if (w->guest[0])
			qmp_serve(w, w->guest);
	flush_backends(w);
	json_object_object_get_ex(w->reply, "ok", &ok);
	if (!json_object_get_boolean(ok)) {
		json_object_object_get_ex(w->reply, "error", &v);
		put_text(w, "  -> error: ", json_object_get_string(v));
		if (getenv("NETD_TEST_VERBOSE"))
			fprintf(stderr, "%s: %s\n", method, json_object_get_string(v));
		return false;
	}
	fprintf(w->out, "  -> ok\n");
	return true;
}

static bool request_as(struct world *w, uid_t uid, const char *method, const char *params_json)
{
	request_send(w, uid, method, params_json);
	return reply_wait(w, method);
}

/* Let time pass for the daemon's timers (and the guest's QMP peer), then log what happened. */
static void run_for(struct world *w, uint64_t usec)
{
	uint64_t end = now(CLOCK_MONOTONIC) + usec;

	while (now(CLOCK_MONOTONIC) < end) {
		if (w->guest[0])
			qmp_serve(w, w->guest);
		assert_true(sd_event_run(w->d.event, 10 * 1000) >= 0);
	}
	flush_backends(w);
}

static bool request(struct world *w, const char *method, const char *params_json)
{
	return request_as(w, 0, method, params_json);
}

static void note(struct world *w, const char *text)
{
	fprintf(w->out, "# %s\n", text);
}

static void check_golden(struct world *w, const char *name)
{
	char path[128];

	fflush(w->out);
	snprintf(path, sizeof(path), "daemon/%s", name);
	assert_golden(path, w->log);
}

/* A field of 'network show NAME' (a dotted path: "dhcp.dnsmasq_state"). */
static const char *show_field(struct world *w, const char *name, const char *path)
{
	static char buf[256];
	char params[128], key[64];
	json_object *o;

	snprintf(params, sizeof(params), "{\"name\": \"%s\"}", name);
	fprintf(w->out, "  (show %s %s)\n", name, path);
	assert_true(request(w, "network.show", params));
	assert_true(json_object_object_get_ex(w->reply, "result", &o));
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (!json_object_object_get_ex(o, key, &o))
			return "(none)";
		p += n + (p[n] == '.');
	}
	snprintf(buf, sizeof(buf), "%s", json_object_get_string(o) ?: "null");
	return buf;
}

static void test_modes_lifecycle(void **state)
{
	struct world *w = *state;
	static const char *const creates[] = {
		"{\"name\": \"n-nat\", \"mode\": \"nat\", \"subnet\": \"10.50.0.0/24\", \"mac\": \"52:54:00:50:00:01\"}",
		"{\"name\": \"n-routed\", \"mode\": \"routed\", \"subnet\": \"10.51.0.0/24\", \"mac\": \"52:54:00:51:00:01\"}",
		"{\"name\": \"n-iso\", \"mode\": \"isolated\", \"subnet\": \"10.52.0.0/24\", \"mac\": \"52:54:00:52:00:01\"}",
	};

	note(w, "every mode that owns its bridge: create, stop, start, delete");
	for (size_t i = 0; i < ELEMENTSOF(creates); i++)
		assert_true(request(w, "network.create", creates[i]));
	assert_string_equal(show_field(w, "n-nat", "state"), "active");
	assert_true(request(w, "network.stop", "{\"name\": \"n-nat\"}"));
	assert_string_equal(show_field(w, "n-nat", "state"), "inactive");
	assert_true(request(w, "network.start", "{\"name\": \"n-nat\"}"));
	for (size_t i = 0; i < ELEMENTSOF(creates); i++) {
		char p[64];

		snprintf(p, sizeof(p), "{\"name\": \"%s\"}",
			 i == 0 ? "n-nat" :
			 i == 1 ? "n-routed" :
				  "n-iso");
		assert_true(request(w, "network.delete", p));
	}
	check_golden(w, "modes-lifecycle.log");
}

/* open: a bridge of its own with its gateway, rules of its own in table inet netd (set open),
 * no masquerade, dnsmasq with the gateway as router. */
static void test_mode_open(void **state)
{
	struct world *w = *state;

	note(w, "mode open: created, stopped, started, deleted");
	assert_true(request(w, "network.create",
			    "{\"name\": \"lab\", \"mode\": \"open\", \"subnet\": \"10.66.0.0/24\"}"));
	assert_string_equal(show_field(w, "lab", "state"), "active");
	assert_string_equal(show_field(w, "lab", "mode"), "open");
	assert_true(request(w, "network.stop", "{\"name\": \"lab\"}"));
	assert_true(request(w, "network.start", "{\"name\": \"lab\"}"));
	note(w, "--uplink is allowed: it forwards");
	assert_true(request(
		w, "network.create",
		"{\"name\": \"lab2\", \"mode\": \"open\", \"subnet\": \"10.67.0.0/24\", \"uplink\": \"lo\"}"));
	assert_true(request(w, "network.delete", "{\"name\": \"lab2\"}"));
	assert_true(request(w, "network.delete", "{\"name\": \"lab\"}"));
	check_golden(w, "mode-open.log");
}

static bool has_bridge(struct world *w, const char *name)
{
	struct link_dump dump = {};
	bool found;

	assert_int_equal(w->d.link.ops->dump(w->d.link.userdata, LINK_DUMP_LINKS, &dump), 0);
	found = link_dump_find_name(&dump, name) != NULL;
	link_dump_free(&dump);
	return found;
}

static const char *reply_error(struct world *w);
static bool log_has(struct world *w, const char *text);

static void evpn_fake_frr(struct world *w, const char *vtep, const char *answer);

static int link_index(struct world *w, const char *name)
{
	struct link_dump dump = {};
	const struct link_info *l;
	int ifindex;

	assert_int_equal(w->d.link.ops->dump(w->d.link.userdata, LINK_DUMP_LINKS, &dump), 0);
	l = link_dump_find_name(&dump, name);
	assert_non_null(l);
	ifindex = l->ifindex;
	link_dump_free(&dump);
	return ifindex;
}

static void plant_neigh(struct world *w, int family, int ifindex, const char *ip, const char *mac,
			uint8_t flags)
{
	struct neigh_info nb = {
		.ifindex = ifindex, .family = family, .has_lladdr = true, .state = NUD_NOARP, .flags = flags
	};

	/* an FDB entry's dst: the VTEP */
	nb.dst_family = family == AF_BRIDGE ? AF_INET : AF_UNSPEC;
	assert_int_equal(mac_parse(mac, &nb.lladdr), 0);
	assert_int_equal(inet_pton(AF_INET, ip, &nb.dst.in), 1);
	assert_int_equal(link_fake_add_neigh(w->link, &nb), 0);
}

/* The evpn dhcp feature: the bridge's extern_learn neighbours (zebra's: guests on other hosts)
 * in the subnet become dnsmasq's reservations in span.remote; 'network leases' lists them with
 * their VTEP (the VXLAN device's FDB entry), show counts them. */
static void evpn_remote_guests(struct world *w)
{
	int br = link_index(w, show_field(w, "span", "bridge")), vx = link_index(w, "vx100");
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	json_object *list, *l, *v;

	note(w, "zebra installs a guest of another host (extern_learn); a local guest, one of another "
		"subnet, the gateway and a multicast MAC are no reservations");
	plant_neigh(w, AF_INET, br, "10.77.0.12", "52:54:00:00:00:02", NTF_EXT_LEARNED);
	plant_neigh(w, AF_INET, br, "10.77.0.13", "52:54:00:00:00:03", 0);
	plant_neigh(w, AF_INET, br, "10.99.0.12", "52:54:00:00:00:04", NTF_EXT_LEARNED);
	plant_neigh(w, AF_INET, br, "10.77.0.1", "52:54:00:00:00:05", NTF_EXT_LEARNED);
	plant_neigh(w, AF_INET, br, "10.77.0.14", "01:00:5e:00:00:06", NTF_EXT_LEARNED);
	plant_neigh(w, AF_BRIDGE, vx, "192.0.2.2", "52:54:00:00:00:02", NTF_EXT_LEARNED);
	link_fake_notify(w->link, LINK_EVENT_NEIGHS);
	run_for(w, 300 * 1000);
	snprintf(path, sizeof(path), "%s/dnsmasq/span.remote", w->d.paths.run_dir);
	assert_int_equal(read_file(path, &text, NULL), 0);
	assert_string_equal(text, "52:54:00:00:00:02,10.77.0.12\n");
	put_text(w, "  span.remote: ", text);
	assert_string_equal(show_field(w, "span", "dhcp.remote_guests"), "1");
	assert_true(request(w, "network.leases", "{\"name\": \"span\"}"));
	assert_true(json_object_object_get_ex(w->reply, "result", &list));
	assert_int_equal(json_object_array_length(list), 1);
	l = json_object_array_get_idx(list, 0);
	assert_true(json_object_object_get_ex(l, "type", &v));
	assert_string_equal(json_object_get_string(v), "remote");
	assert_true(json_object_object_get_ex(l, "vtep", &v));
	assert_string_equal(json_object_get_string(v), "192.0.2.2");
	assert_true(json_object_object_get_ex(l, "ip", &v));
	assert_string_equal(json_object_get_string(v), "10.77.0.12");
}

/* Mode evpn and the vxlan feature: refused without --vtep, without the VTEP address on a link,
 * over an underlay whose MTU leaves less than 1500; then the VXLAN port made, adopted after a
 * restart, a failure half-way undone, a VNI twice refused, the device removed first at delete. */
static void test_mode_evpn(void **state)
{
	struct world *w = *state;
	const char *create = "{\"name\": \"span\", \"mode\": \"evpn\", \"vni\": 100, "
			     "\"subnet\": \"10.77.0.0/24\"}";
	char kernel[128], params[512];
	struct ip_prefix vtep;
	int eth0;

	if (geteuid() != 0)
		skip(); /* a restart with a VTEP writes FRR's file, which goes to group frr */
	note(w, "without netd --vtep: refused, naming it");
	assert_false(request(w, "network.create", create));
	assert_non_null(strstr(reply_error(w), "start netd with --vtep ADDR"));
	/* FRR answers with no session: this test is about the VXLAN side */
	evpn_fake_frr(w, "192.0.2.1", "{}\n{}\n");
	assert_int_equal(ip_prefix_parse("192.0.2.1/24", &vtep), 0);
	note(w, "the VTEP address on no link: refused before the kernel is touched");
	assert_false(request(w, "network.create", create));
	assert_non_null(strstr(reply_error(w), "the VTEP address 192.0.2.1 (netd --vtep) is not an address"));
	assert_int_equal(link_fake_add_link(w->link, "eth0", "veth", &eth0), 0);
	assert_int_equal(link_fake_add_addr(w->link, eth0, "192.0.2.1/24"), 0);
	note(w, "an underlay of MTU 1500: refused (VXLAN needs 1550)");
	assert_false(request(w, "network.create", create));
	assert_non_null(strstr(reply_error(w), "the underlay eth0 (VTEP 192.0.2.1) has MTU 1500; VXLAN "
					       "needs at least 1550"));
	assert_int_equal(w->d.link.ops->link_set_mtu(w->d.link.userdata, eth0, 9000), 0);
	note(w, "--vni with mode nat: refused");
	assert_false(request(w, "network.create",
			     "{\"name\": \"n\", \"mode\": \"nat\", \"vni\": 7, \"subnet\": "
			     "\"10.78.0.0/24\"}"));
	assert_non_null(strstr(reply_error(w), "--vni and --routed need mode evpn (mode nat)"));

	note(w, "created over eth0 of MTU 9000: the bridge with the anycast MAC, vx100 (MTU 8950) its "
		"port, learning off, neigh_suppress on, the bridge's MTU 8950");
	assert_true(request(w, "network.create", create));
	assert_string_equal(show_field(w, "span", "state"), "active");
	assert_string_equal(show_field(w, "span", "mac"), "0a:4e:44:00:00:64");
	assert_string_equal(show_field(w, "span", "vxlan.device"), "vx100");
	note(w, "VNI 100 twice: refused");
	assert_false(request(w, "network.create",
			     "{\"name\": \"twice\", \"mode\": \"evpn\", \"vni\": 100, "
			     "\"subnet\": \"10.79.0.0/24\"}"));
	assert_non_null(strstr(reply_error(w), "VNI 100 is already used by network 'span'"));

	note(w, "netd restarts: vx100 adopted as it is");
	daemon_stop(&w->d);
	assert_int_equal(daemon_start(&w->d), 0);
	flush_backends(w);
	assert_string_equal(show_field(w, "span", "state"), "active");
	evpn_remote_guests(w);

	note(w, "the VTEP address goes: degraded, saying why");
	assert_int_equal(w->d.link.ops->addr_del(w->d.link.userdata, eth0, &vtep), 0);
	assert_string_equal(show_field(w, "span", "state"), "degraded");
	assert_non_null(strstr(show_field(w, "span", "problem"), "the VTEP address 192.0.2.1"));
	assert_int_equal(w->d.link.ops->addr_add(w->d.link.userdata, eth0, &vtep), 0);
	note(w, "the underlay's MTU drops to 1500: degraded, saying why");
	assert_int_equal(w->d.link.ops->link_set_mtu(w->d.link.userdata, eth0, 1500), 0);
	assert_string_equal(show_field(w, "span", "state"), "degraded");
	assert_non_null(strstr(show_field(w, "span", "problem"), "has MTU 1500; VXLAN needs at least 1550"));
	assert_int_equal(w->d.link.ops->link_set_mtu(w->d.link.userdata, eth0, 9000), 0);
	assert_string_equal(show_field(w, "span", "state"), "active");

	note(w, "a guest starts on it: its TAP a port of the bridge, its MAC a static FDB entry there "
		"(EVPN advertises it at once), then QMP announce-self once QEMU runs");
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"span\"], \"macs\": [\"52:54:00:77:00:01\"], "
		 "\"memory\": \"256M\", \"kernel\": \"%s\", \"autostart\": false}",
		 kernel);
	assert_true(request(w, "vm.create", params));
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	assert_true(log_has(w, "fdb_replace vm-g1-0 52:54:00:77:00:01 master static"));
	assert_true(log_has(w, "qmp: announce-self"));
	note(w, "the network stops under it (--force): the entry goes before the bridge");
	assert_true(request(w, "network.stop", "{\"name\": \"span\", \"force\": true}"));
	assert_true(log_has(w, "fdb_del vm-g1-0 52:54:00:77:00:01 master static"));
	note(w, "it starts again: the TAP plugged again, the entry with it");
	assert_true(request(w, "network.start", "{\"name\": \"span\"}"));
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));
	w->guest[0] = 0;

	note(w, "a start that fails at the port flags: vx100 deleted again, the network stopped");
	assert_true(request(w, "network.stop", "{\"name\": \"span\"}"));
	link_fake_fail_op(w->link, "port_set_flags", EPERM);
	assert_false(request(w, "network.start", "{\"name\": \"span\"}"));
	link_fake_fail_op(w->link, NULL, 0);
	assert_false(has_bridge(w, "vx100"));
	assert_string_equal(show_field(w, "span", "state"), "inactive");
	assert_true(request(w, "network.start", "{\"name\": \"span\"}"));

	note(w, "netd restarts with --vtep 192.0.2.2 (eth0 has it too): vx100 made anew with it");
	assert_int_equal(link_fake_add_addr(w->link, eth0, "192.0.2.2/24"), 0);
	assert_int_equal(ip_prefix_parse("192.0.2.2/24", &vtep), 0);
	w->d.evpn.vtep = vtep.addr;
	w->d.evpn_cmdline.vtep = vtep.addr;
	daemon_stop(&w->d);
	assert_int_equal(daemon_start(&w->d), 0);
	flush_backends(w);
	assert_string_equal(show_field(w, "span", "state"), "active");

	note(w, "delete: vx100 goes before the bridge");
	assert_true(request(w, "network.delete", "{\"name\": \"span\"}"));
	assert_false(has_bridge(w, "vx100"));
	check_golden(w, "mode-evpn.log");
}

/* A network of mode bridge sits on a bridge netd does not own: nothing is made or removed. */
static void test_mode_bridge(void **state)
{
	struct world *w = *state;
	int ifindex;

	assert_int_equal(link_fake_add_link(w->link, "br0", "bridge", &ifindex), 0);
	note(w, "mode bridge on the host's br0: no bridge, no rules of its own, no dnsmasq");
	assert_true(request(w, "network.create",
			    "{\"name\": \"lan\", \"mode\": \"bridge\", \"bridge\": \"br0\"}"));
	assert_string_equal(show_field(w, "lan", "state"), "active");
	assert_true(request(w, "network.stop", "{\"name\": \"lan\"}"));
	assert_true(request(w, "network.start", "{\"name\": \"lan\"}"));
	assert_true(request(w, "network.delete", "{\"name\": \"lan\"}"));
	assert_true(has_bridge(w, "br0"));
	check_golden(w, "mode-bridge.log");
}

/* network start that fails at each of its steps in turn: what came up is taken down again, and
 * the network stays stopped; then it starts. */
static void test_start_fails_each_step(void **state)
{
	struct world *w = *state;
	char line[96];

	assert_true(request(w, "network.create",
			    "{\"name\": \"lab\", \"mode\": \"nat\", \"subnet\": \"10.60.0.0/24\"}"));
	assert_true(request(w, "network.stop", "{\"name\": \"lab\"}"));
	for (unsigned step = 1;; step++) {
		snprintf(line, sizeof(line), "the kernel refuses link change %u of the start", step);
		note(w, line);
		link_fake_fail_at(w->link, step, EPERM);
		if (request(w, "network.start", "{\"name\": \"lab\"}"))
			break;
		assert_false(has_bridge(w, "nd-lab"));
		assert_string_equal(show_field(w, "lab", "state"), "inactive");
	}
	link_fake_fail_at(w->link, 0, 0);
	assert_true(request(w, "network.stop", "{\"name\": \"lab\"}"));

	note(w, "nftables refuses the rules");
	fw_fake_fail_at(w->fw, 1);
	assert_false(request(w, "network.start", "{\"name\": \"lab\"}"));
	assert_false(has_bridge(w, "nd-lab"));
	fw_fake_fail_at(w->fw, 0);

	note(w, "dnsmasq cannot be started");
	proc_fake_fail_spawn(w->proc, -ENOEXEC);
	assert_false(request(w, "network.start", "{\"name\": \"lab\"}"));
	assert_false(has_bridge(w, "nd-lab"));
	assert_string_equal(show_field(w, "lab", "state"), "inactive");
	proc_fake_fail_spawn(w->proc, 0);

	note(w, "nothing in the way any more");
	assert_true(request(w, "network.start", "{\"name\": \"lab\"}"));
	assert_true(has_bridge(w, "nd-lab"));
	check_golden(w, "start-fails.log");
}

static void write_def(struct world *w, const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/networks", w->d.paths.config_dir);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/networks/%s.conf", w->d.paths.config_dir, name);
	if (text)
		assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
	else
		assert_int_equal(unlink(path), 0);
}

/* Definitions written by hand: reload adds, changes (in place, no new bridge) and removes them; a
 * definition that does not parse changes nothing. */
static void test_reload(void **state)
{
	struct world *w = *state;

	note(w, "a new definition, autostart");
	write_def(w, "web", "[network]\nmode = nat\nsubnet = 10.70.0.0/24\nmac = 52:54:00:70:00:01\n");
	assert_true(request(w, "daemon.reload", NULL));
	note(w, "its subnet changes: the same bridge gets the new address before the old one goes");
	write_def(w, "web", "[network]\nmode = nat\nsubnet = 10.71.0.0/24\nmac = 52:54:00:70:00:01\n");
	assert_true(request(w, "daemon.reload", NULL));
	note(w, "a definition that does not parse: nothing changes");
	write_def(w, "web", "[network]\nmode = nat\nsubnet = 10.71.0.0/33\n");
	assert_true(request(w, "daemon.reload", NULL));
	assert_string_equal(show_field(w, "web", "subnet"), "10.71.0.0/24");
	note(w, "removed: stopped and forgotten");
	write_def(w, "web", NULL);
	assert_true(request(w, "daemon.reload", NULL));
	assert_false(has_bridge(w, "nd-web"));
	note(w, "every other mode through reload: added together, a change each, removed together");
	write_def(w, "r1", "[network]\nmode = routed\nsubnet = 10.72.0.0/24\nmac = 52:54:00:72:00:01\n");
	write_def(w, "i1", "[network]\nmode = isolated\nsubnet = 10.73.0.0/24\nmac = 52:54:00:73:00:01\n");
	write_def(w, "o1", "[network]\nmode = open\nsubnet = 10.74.0.0/24\nmac = 52:54:00:74:00:01\n");
	assert_int_equal(link_fake_add_link(w->link, "br0", "bridge", &(int){ 0 }), 0);
	write_def(w, "b1", "[network]\nmode = bridge\nbridge = br0\n");
	assert_true(request(w, "daemon.reload", NULL));
	write_def(w, "r1", "[network]\nmode = routed\nsubnet = 10.72.0.0/24\nmac = 52:54:00:72:00:01\n\n[dhcp]\nenabled = no\n");
	write_def(w, "i1", "[network]\nmode = isolated\nsubnet = 10.73.0.0/24\nmac = 52:54:00:73:00:01\nmtu = 1400\n");
	write_def(w, "o1", "[network]\nmode = nat\nsubnet = 10.74.0.0/24\nmac = 52:54:00:74:00:01\n");
	write_def(w, "b1", "[network]\nmode = bridge\nbridge = br0\nautostart = no\n");
	assert_true(request(w, "daemon.reload", NULL));
	assert_string_equal(show_field(w, "o1", "mode"), "nat");
	write_def(w, "r1", NULL);
	write_def(w, "i1", NULL);
	write_def(w, "o1", NULL);
	write_def(w, "b1", NULL);
	assert_true(request(w, "daemon.reload", NULL));
	assert_true(has_bridge(w, "br0"));
	check_golden(w, "reload.log");
}

/* netd stops and starts again on the same kernel: everything is adopted, nothing is redone. */
static void test_restart_adopts(void **state)
{
	struct world *w = *state;

	assert_true(request(w, "network.create",
			    "{\"name\": \"lab\", \"mode\": \"nat\", \"subnet\": \"10.60.0.0/24\"}"));
	assert_true(request(w, "network.create",
			    "{\"name\": \"iso\", \"mode\": \"isolated\", \"subnet\": \"10.61.0.0/24\"}"));
	assert_true(request(w, "network.stop", "{\"name\": \"iso\"}"));
	note(w, "netd restarts");
	daemon_stop(&w->d);
	assert_int_equal(daemon_start(&w->d), 0);
	flush_backends(w);
	assert_string_equal(show_field(w, "lab", "state"), "active");
	assert_string_equal(show_field(w, "iso", "state"), "inactive");
	check_golden(w, "restart.log");
}

/* Port forwards (the forward feature): the first forward makes table inet netd_fwd, the next ones
 * and a lease that moves a name are element changes; a change that fails is followed by the whole
 * table; a start applies it whole; the last forward removed takes the table away. */
static const char *reply_error(struct world *w);

static void test_forwards(void **state)
{
	struct world *w = *state;
	const char *t;
	int ifindex;

	assert_true(request(w, "network.create",
			    "{\"name\": \"fw\", \"mode\": \"nat\", \"subnet\": \"10.80.0.0/24\", "
			    "\"hosts\": [\"52:54:00:80:00:05,10.80.0.5,web\"]}"));
	note(w, "a lease of the reservation web, then a forward to it: the table with its elements");
	assert_true(
		request(w, "lease.event",
			"{\"network\": \"fw\", \"action\": \"add\", \"mac\": \"52:54:00:80:00:05\", \"ip\": "
			"\"10.80.0.5\", \"hostname\": \"web\", \"expires\": \"4000000000\"}"));
	assert_true(
		request(w, "network.forward.add",
			"{\"name\": \"fw\", \"proto\": \"tcp\", \"port\": \"48080\", \"to\": \"web:80\"}"));
	note(w, "a listen address that is not the host's is refused");
	assert_false(request(
		w, "network.forward.add",
		"{\"name\": \"fw\", \"listen\": \"192.0.2.53\", \"proto\": \"udp\", \"port\": \"48053\", "
		"\"to\": \"10.80.0.6:53\"}"));
	assert_non_null(strstr(reply_error(w), "listen address 192.0.2.53 is not an address of the host"));
	assert_int_equal(link_fake_add_link(w->link, "eth0", "veth", &ifindex), 0);
	assert_int_equal(link_fake_add_addr(w->link, ifindex, "192.0.2.1/24"), 0);
	note(w, "a second forward, to an address, listening on one of the host's: its element alone");
	assert_true(request(
		w, "network.forward.add",
		"{\"name\": \"fw\", \"listen\": \"192.0.2.1\", \"proto\": \"udp\", \"port\": \"48053\", "
		"\"to\": \"10.80.0.6:53\"}"));
	note(w, "another guest's lease with the hostname web (another MAC, later): the forward stays on "
		"the reservation (a guest's chosen hostname takes no forward)");
	assert_true(
		request(w, "lease.event",
			"{\"network\": \"fw\", \"action\": \"add\", \"mac\": \"52:54:00:80:00:07\", \"ip\": "
			"\"10.80.0.7\", \"hostname\": \"web\", \"expires\": \"4000000100\"}"));
	assert_true(request(w, "network.forward.list", "{\"name\": \"fw\"}"));
	assert_non_null(strstr(json_object_to_json_string_ext(w->reply, JSON_C_TO_STRING_PLAIN),
			       "\"to_address\":\"10.80.0.5\""));
	note(w, "a change that fails: the whole table instead");
	fw_fake_fail_at(w->fw, 1);
	assert_true(request(
		w, "network.forward.add",
		"{\"name\": \"fw\", \"proto\": \"tcp,udp\", \"port\": \"48100-48101\", \"to\": \"web\"}"));
	fw_fake_fail_at(w->fw, 0);
	t = fw_fake_table(w->fw, "inet netd_fwd");
	assert_non_null(t);
	assert_non_null(strstr(t, "fwd4_any { udp . 48101 : 10.80.0.5 . 48101 }"));
	assert_non_null(strstr(t, "hairpin4 { \"nd-fw\" . 10.80.0.0/24 }"));
	note(w, "a bad forward changes nothing");
	assert_false(request(w, "network.forward.add",
			     "{\"name\": \"fw\", \"proto\": \"tcp\", \"port\": \"48080\", \"to\": \"web\"}"));
	note(w, "netd restarts: the whole table at the end of the start (the fake dnsmasq keeps no lease "
		"file: web is its reservation's address)");
	daemon_stop(&w->d);
	assert_int_equal(daemon_start(&w->d), 0);
	flush_backends(w);
	note(w, "the forwards removed: the last one takes the table away");
	assert_true(request(w, "network.forward.remove", "{\"name\": \"fw\", \"id\": 1}"));
	assert_true(request(w, "network.forward.remove", "{\"name\": \"fw\", \"id\": 2}"));
	assert_true(request(w, "network.forward.remove", "{\"name\": \"fw\", \"id\": 3}"));
	assert_true(request(w, "network.delete", "{\"name\": \"fw\"}"));
	check_golden(w, "forwards.log");
}

/* A nat network of several IPv4 subnets: --nat-address/--nat-ports apply to each of them (one SNAT
 * rule each, none left to masquerade), a forward may go to a guest of an --address subnet, and the
 * guests of every subnet reach the forwards through the host (a hairpin4 element each). */
static void test_forwards_subnets(void **state)
{
	struct world *w = *state;
	const char *t;

	assert_true(request(w, "network.create",
			    "{\"name\": \"fs\", \"mode\": \"nat\", \"subnet\": \"10.81.0.0/24\", "
			    "\"addresses\": [\"10.82.0.1/24\", \"10.83.0.1/25\"], \"nat_address\": "
			    "\"192.0.2.10-192.0.2.11\", \"nat_ports\": \"1024-65535\"}"));
	note(w, "a forward to a guest of the second subnet (the change fails: the whole table)");
	fw_fake_fail_at(w->fw, 1);
	assert_true(request(
		w, "network.forward.add",
		"{\"name\": \"fs\", \"proto\": \"tcp\", \"port\": \"48080\", \"to\": \"10.82.0.9:80\"}"));
	fw_fake_fail_at(w->fw, 0);
	t = fw_fake_table(w->fw, "inet netd_fwd");
	assert_non_null(t);
	assert_non_null(strstr(t, "fwd4_any { tcp . 48080 : 10.82.0.9 . 80 }"));
	assert_non_null(strstr(t, "\"nd-fs\" . 10.81.0.0/24"));
	assert_non_null(strstr(t, "\"nd-fs\" . 10.82.0.0/24"));
	assert_non_null(strstr(t, "\"nd-fs\" . 10.83.0.0/25"));
	assert_non_null(strstr(t, "ip saddr 10.82.0.0/24"));
	assert_non_null(strstr(t, "ip saddr 10.83.0.0/25"));
	note(w, "a target in none of the subnets is refused");
	assert_false(request(
		w, "network.forward.add",
		"{\"name\": \"fs\", \"proto\": \"tcp\", \"port\": \"48081\", \"to\": \"10.84.0.9:80\"}"));
	assert_true(request(w, "network.forward.remove", "{\"name\": \"fs\", \"id\": 1}"));
	assert_true(request(w, "network.delete", "{\"name\": \"fs\"}"));
	check_golden(w, "forwards-subnets.log");
}

/* Definitions written by hand that conflict with one before them (name order) are skipped at
 * start, as create and reload refuse them: the same subnet (here inside it), the same bridge. */
static void test_start_skips_conflicts(void **state)
{
	struct world *w = *state;

	write_def(w, "a", "[network]\nmode = nat\nsubnet = 10.80.0.0/24\n");
	write_def(w, "b", "[network]\nmode = nat\nsubnet = 10.80.0.0/16\n");
	write_def(w, "c", "[network]\nmode = isolated\nsubnet = 10.81.0.0/24\nbridge = nd-a\n");
	write_def(w, "d", "[network]\nmode = routed\nsubnet = 10.82.0.0/24\n");
	/* a port forward with e's map key: f would make the whole table's apply fail */
	write_def(
		w, "e",
		"[network]\nmode = nat\nsubnet = 10.83.0.0/24\n[forwards]\nforward = 1 tcp any 8080 10.83.0.5\n");
	write_def(
		w, "f",
		"[network]\nmode = nat\nsubnet = 10.84.0.0/24\n[forwards]\nforward = 1 tcp,udp any 8080 10.84.0.5\n");
	daemon_stop(&w->d);
	assert_int_equal(daemon_start(&w->d), 0);
	flush_backends(w);
	assert_string_equal(show_field(w, "a", "subnet"), "10.80.0.0/24");
	assert_string_equal(show_field(w, "d", "subnet"), "10.82.0.0/24");
	assert_string_equal(show_field(w, "e", "subnet"), "10.83.0.0/24");
	assert_false(request(w, "network.show", "{\"name\": \"b\"}"));
	assert_false(request(w, "network.show", "{\"name\": \"c\"}"));
	assert_false(request(w, "network.show", "{\"name\": \"f\"}"));
	assert_int_equal(w->d.n_nets, 3);
	/* nor does create take one (the definition checks, not forward add alone) */
	assert_false(request(w, "network.create",
			     "{\"name\": \"g\", \"mode\": \"nat\", \"subnet\": \"10.85.0.0/24\", "
			     "\"forwards\": [\"1 tcp any 8079-8080 10.85.0.5\"]}"));
	assert_non_null(strstr(reply_error(w),
			       "the ports overlap those of forward 1 tcp any 8080 10.83.0.5 of network 'e'"));
}

static const char *reply_error(struct world *w);

/* --register-dns has the host's own lookups of the domain answered by the network: root's only.
 * An operator's create is refused and writes nothing; without it the same create is fine. */
static void test_register_dns_root_only(void **state)
{
	struct world *w = *state;
	char path[PATH_MAX];

	assert_false(
		request_as(w, 1000, "network.create",
			   "{\"name\": \"lab\", \"mode\": \"nat\", \"subnet\": \"10.93.0.0/24\", "
			   "\"domain\": \"lab.test\", \"domain_local_only\": true, \"register_dns\": true}"));
	assert_string_equal(reply_error(w), "--register-dns: only root may have the host resolve a "
					    "network's domain through it (uid 1000 is not root)");
	snprintf(path, sizeof(path), "%s/networks/lab.conf", w->d.paths.config_dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(w->d.n_nets, 0);
	assert_true(
		request_as(w, 1000, "network.create",
			   "{\"name\": \"lab\", \"mode\": \"nat\", \"subnet\": \"10.93.0.0/24\", "
			   "\"domain\": \"lab.test\", \"domain_local_only\": true, \"autostart\": false}"));
	assert_int_equal(w->d.n_nets, 1);
}

/* A network that forwards an IPv6 prefix turns IPv6 forwarding on, first accept_ra=2 on the
 * interfaces with a route from router advertisements and accept_ra=1 (forward6.c); not on one
 * with accept_ra=0, nor for a network without IPv6 or one that does not forward. */
static void test_forward6_keeps_ra(void **state)
{
	struct world *w = *state;
	struct route_info rt = { .table = RT_TABLE_MAIN,
				 .type = RTN_UNICAST,
				 .protocol = RTPROT_RA,
				 .priority = 1024,
				 .expires = 1800 };
	char v[16];

	assert_int_equal(link_fake_add_link(w->link, "eth0", "veth", &rt.ifindex), 0);
	assert_int_equal(ip_prefix_parse("::/0", &rt.dst), 0);
	assert_int_equal(ip_addr_parse("fe80::1", &rt.gw_family, &rt.gw), 0);
	assert_int_equal(link_fake_add_route_full(w->link, &rt), 0);
	assert_int_equal(link_fake_add_link(w->link, "eth1", "veth", &rt.ifindex), 0);
	assert_int_equal(link_fake_add_route_full(w->link, &rt), 0);
	assert_int_equal(w->d.link.ops->sysctl_set(w->d.link.userdata, AF_INET6, "eth1", "accept_ra", "0"),
			 0);

	assert_true(request(w, "network.create",
			    "{\"name\": \"v4\", \"mode\": \"nat\", \"subnet\": \"10.90.0.0/24\"}"));
	assert_true(request(w, "network.create",
			    "{\"name\": \"iso6\", \"mode\": \"isolated\", \"subnet\": \"10.91.0.0/24\", "
			    "\"subnet6\": \"fd00:91::/64\"}"));
	assert_int_equal(link_fake_sysctl(w->link, AF_INET6, "eth0", "accept_ra", v, sizeof(v)), 0);
	assert_string_equal(v, "1");
	assert_int_equal(link_fake_sysctl(w->link, AF_INET6, "all", "forwarding", v, sizeof(v)), 0);
	assert_string_equal(v, "0");

	assert_true(request(w, "network.create",
			    "{\"name\": \"v6\", \"mode\": \"nat\", \"subnet\": \"10.92.0.0/24\", "
			    "\"subnet6\": \"fd00:92::/64\"}"));
	assert_int_equal(link_fake_sysctl(w->link, AF_INET6, "eth0", "accept_ra", v, sizeof(v)), 0);
	assert_string_equal(v, "2");
	assert_int_equal(link_fake_sysctl(w->link, AF_INET6, "eth1", "accept_ra", v, sizeof(v)), 0);
	assert_string_equal(v, "0");
	assert_int_equal(link_fake_sysctl(w->link, AF_INET6, "all", "forwarding", v, sizeof(v)), 0);
	assert_string_equal(v, "1");
	assert_string_equal(show_field(w, "v6", "ipv6_forwarding.enabled"), "true");
	assert_string_equal(show_field(w, "v6", "ipv6_forwarding.accept_ra_2"), "[ \"eth0\" ]");
}

static bool link_master_is(struct world *w, const char *ifname, const char *master)
{
	struct link_dump dump = {};
	const struct link_info *l, *m;
	bool is;

	assert_int_equal(w->d.link.ops->dump(w->d.link.userdata, LINK_DUMP_LINKS, &dump), 0);
	l = link_dump_find_name(&dump, ifname);
	m = l && l->master ? link_dump_find_index(&dump, l->master) : NULL;
	is = master ? m && !strcmp(m->name, master) : l && !m;
	link_dump_free(&dump);
	return is;
}

/* A guest is a user of its network: plugged at start, the network refuses to stop under it
 * unless forced, it is plugged again when its bridge is made anew, set-network moves it. */
/* A guest on a dual-stack network may send IPv6 from its SLAAC address (the prefix and its MAC's
 * EUI-64) and its DHCPv6 reservation, besides its link-local one; nothing else of the prefix. */
static void test_portsec_ipv6(void **state)
{
	struct world *w = *state;
	char kernel[128], params[512];
	const char *log;

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"dual\", \"mode\": \"nat\", \"subnet\": \"10.64.0.0/24\", "
			    "\"subnet6\": \"fd00:64::/64\", \"ipv6_mode\": \"slaac+dhcpv6\", "
			    "\"dhcp6_ranges\": [\"fd00:64::100-fd00:64::1ff\"], "
			    "\"hosts\": [\"52:54:00:aa:00:01,fd00:64::50\"]}"));
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"dual\"], \"macs\": [\"52:54:00:aa:00:01\"], "
		 "\"memory\": \"256M\", \"kernel\": \"%s\", \"autostart\": false}",
		 kernel);
	assert_true(request(w, "vm.create", params));
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	log = fw_fake_table(w->fw, "bridge netd");
	assert_non_null(log);
	assert_non_null(strstr(log, "\"vm-g1-0\" . fd00:64::5054:ff:feaa:1"));
	assert_non_null(strstr(log, "\"vm-g1-0\" . fd00:64::50"));
	assert_non_null(strstr(log, "\"vm-g1-0\" . fe80::5054:ff:feaa:1"));
	assert_null(strstr(log, "fd00:64::/64"));
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));
}

/* Several IPv4 subnets: without DHCP a port may send from every subnet's hosts but the gateways;
 * with DHCP from its leases in any of them, never from a lease outside them. */
static void test_portsec_subnets(void **state)
{
	struct world *w = *state;
	char kernel[128], params[512];
	const char *log;

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"multi\", \"mode\": \"nat\", \"subnet\": \"10.64.0.0/24\", "
			    "\"addresses\": [\"10.65.0.1/24\"], \"dhcp\": false}"));
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"multi\"], \"macs\": [\"52:54:00:aa:00:01\"], "
		 "\"memory\": \"256M\", \"kernel\": \"%s\", \"autostart\": false}",
		 kernel);
	assert_true(request(w, "vm.create", params));
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	log = fw_fake_table(w->fw, "bridge netd");
	assert_non_null(log);
	assert_non_null(strstr(log, "\"vm-g1-0\" . 10.64.0.128/26"));
	assert_non_null(strstr(log, "\"vm-g1-0\" . 10.65.0.128/26"));
	assert_non_null(strstr(log, "\"vm-g1-0\" . 10.65.0.254"));
	assert_non_null(strstr(log, "\"vm-g1-0\" . 10.65.0.2/31"));
	assert_null(strstr(log, "10.65.0.0/24"));
	assert_null(strstr(log, "10.65.0.0/31"));
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));

	assert_true(request(w, "network.delete", "{\"name\": \"multi\"}"));
	assert_true(request(
		w, "network.create",
		"{\"name\": \"multi\", \"mode\": \"nat\", \"subnet\": \"10.64.0.0/24\", "
		"\"addresses\": [\"10.65.0.1/24\"], \"dhcp_ranges\": [\"10.65.0.100-10.65.0.150\"]}"));
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	/* A lease outside the network's subnets changes nothing; the next event's small change
	 * fails, so the whole table is applied (what the fake keeps). */
	assert_true(request(w, "lease.event",
			    "{\"network\": \"multi\", \"action\": \"add\", \"mac\": \"52:54:00:aa:00:01\", "
			    "\"ip\": \"10.99.0.5\", \"expires\": \"4000000000\"}"));
	fw_fake_fail_at(w->fw, 1);
	assert_true(request(w, "lease.event",
			    "{\"network\": \"multi\", \"action\": \"add\", \"mac\": \"52:54:00:aa:00:01\", "
			    "\"ip\": \"10.65.0.120\", \"expires\": \"4000000000\"}"));
	log = fw_fake_table(w->fw, "bridge netd");
	assert_non_null(log);
	assert_non_null(strstr(log, " . 10.65.0.120"));
	assert_null(strstr(log, "10.99.0.5"));
	assert_null(strstr(log, "10.65.0.128/26"));
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));
}

/* A guest leasing under many DUIDs: its port may send from its newest 8 DHCPv6 leases only. */
static void test_portsec_leases6_max(void **state)
{
	struct world *w = *state;
	char kernel[128], params[512], addr[64];
	const char *log;

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"dual\", \"mode\": \"nat\", \"subnet\": \"10.64.0.0/24\", "
			    "\"subnet6\": \"fd00:64::/64\", \"ipv6_mode\": \"dhcpv6\", "
			    "\"dhcp6_ranges\": [\"fd00:64::100-fd00:64::1ff\"]}"));
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"dual\"], \"macs\": [\"52:54:00:aa:00:01\"], "
		 "\"memory\": \"256M\", \"kernel\": \"%s\", \"autostart\": false}",
		 kernel);
	assert_true(request(w, "vm.create", params));
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	/* Ten leases, each under a DUID of its own, each newer than the one before; the last one
	 * never expires. The last event's small change fails: the whole table is applied (what the
	 * fake keeps). */
	for (int i = 0; i < 10; i++) {
		if (i == 9)
			fw_fake_fail_at(w->fw, 1);
		snprintf(params, sizeof(params),
			 "{\"network\": \"dual\", \"action\": \"add\", \"mac\": \"52:54:00:aa:00:01\", "
			 "\"ip\": \"fd00:64::1%02d\", \"iaid\": \"1\", \"duid\": \"00:04:%02x:%02x:00:00\", "
			 "\"expires\": \"%llu\"}",
			 i, i, i, i == 9 ? 0 : 4000000000ull + i);
		assert_true(request(w, "lease.event", params));
	}
	log = fw_fake_table(w->fw, "bridge netd");
	assert_non_null(log);
	for (int i = 0; i < 10; i++) {
		snprintf(addr, sizeof(addr), "\"vm-g1-0\" . fd00:64::1%02d", i);
		if (i < 2)
			assert_null(strstr(log, addr));
		else
			assert_non_null(strstr(log, addr));
	}
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));
}

static void add_neigh(struct world *w, const char *bridge, const char *addr, const char *mac, uint16_t state)
{
	struct neigh_info n = { .ifindex = link_index(w, bridge), .family = AF_INET6, .state = state };

	assert_int_equal(ip_addr_parse(addr, &n.family, &n.dst), 0);
	assert_int_equal(mac_parse(mac, &n.lladdr), 0);
	n.has_lladdr = true;
	assert_int_equal(link_fake_add_neigh(w->link, &n), 0);
}

/* A DHCPv6 lease event on network dual; mac NULL: dnsmasq did not know it. */
static void lease6_add(struct world *w, const char *ip, const char *duid, const char *mac)
{
	char params[512];

	snprintf(params, sizeof(params),
		 "{\"network\": \"dual\", \"action\": \"add\", \"ip\": \"%s\", \"iaid\": \"7\", "
		 "\"expires\": \"4000000000\", \"duid\": \"%s\"%s%s%s}",
		 ip, duid, mac ? ", \"mac\": \"" : "", mac ?: "", mac ? "\"" : "");
	assert_true(request(w, "lease.event", params));
}

static const char *vm_show_ipv6(struct world *w)
{
	json_object *result, *nics, *v6;

	assert_true(request(w, "vm.show", "{\"name\": \"g1\"}"));
	assert_true(json_object_object_get_ex(w->reply, "result", &result));
	assert_true(json_object_object_get_ex(result, "nics", &nics));
	assert_true(json_object_object_get_ex(json_object_array_get_idx(nics, 0), "ipv6", &v6));
	return json_object_to_json_string_ext(v6, JSON_C_TO_STRING_PLAIN);
}

/* vm show lists a running guest's IPv6 addresses: its DHCPv6 leases (dnsmasq's MAC; not the one in
 * a DUID-LL), then the global and ULA neighbours of its bridge with its MAC in a valid state, the
 * EUI-64 one as slaac; not link-local ones, failed ones, other MACs', other bridges'. */
static void test_vm_show_ipv6(void **state)
{
	struct world *w = *state;
	const char *mac = "52:54:00:aa:00:01";
	char kernel[128], params[512];
	int other;

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"dual\", \"mode\": \"nat\", \"subnet\": \"10.64.0.0/24\", "
			    "\"subnet6\": \"fd00:64::/64\", \"ipv6_mode\": \"slaac+dhcpv6\", "
			    "\"dhcp6_ranges\": [\"fd00:64::100-fd00:64::1ff\"]}"));
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"dual\"], \"macs\": [\"%s\"], "
		 "\"memory\": \"256M\", \"kernel\": \"%s\", \"autostart\": false}",
		 mac, kernel);
	assert_true(request(w, "vm.create", params));
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	assert_string_equal(vm_show_ipv6(w), "[]");

	lease6_add(w, "fd00:64::150", "00:04:11:22:33:44:55:66:77:88:99:00:aa:bb:cc:dd:ee:ff", mac);
	/* A DUID-LL with the guest's MAC, dnsmasq knowing none (another guest may send it): not its */
	lease6_add(w, "fd00:64::151", "00:03:00:01:52:54:00:aa:00:01", NULL);
	lease6_add(w, "fd00:64::152", "00:03:00:01:52:54:00:aa:00:02", NULL);
	add_neigh(w, "nd-dual", "fd00:64::5054:ff:feaa:1", mac, NUD_REACHABLE);
	add_neigh(w, "nd-dual", "fd00:64::150", mac, NUD_STALE); /* the lease: listed once */
	add_neigh(w, "nd-dual", "fd00:64::99", mac, NUD_DELAY);
	add_neigh(w, "nd-dual", "fd00:64::98", mac, NUD_FAILED);
	add_neigh(w, "nd-dual", "fd00:64::97", mac, NUD_INCOMPLETE);
	add_neigh(w, "nd-dual", "fe80::5054:ff:feaa:1", mac, NUD_REACHABLE);
	add_neigh(w, "nd-dual", "fd00:64::77", "52:54:00:aa:00:02", NUD_REACHABLE);
	assert_int_equal(link_fake_add_link(w->link, "nd-other", "bridge", &other), 0);
	add_neigh(w, "nd-other", "fd00:65::5054:ff:feaa:1", mac, NUD_REACHABLE);
	assert_string_equal(vm_show_ipv6(w), "[{\"address\":\"fd00:64::150\",\"source\":\"dhcpv6\"},"
					     "{\"address\":\"fd00:64::5054:ff:feaa:1\",\"source\":\"slaac\"},"
					     "{\"address\":\"fd00:64::99\",\"source\":\"neighbour\"}]");
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));
	assert_string_equal(vm_show_ipv6(w), "[]");
}

/* The disk pool (netd/guest/disk.c) on canned qemu-img runs: create, then a running guest's disk is
 * neither resized, converted nor deleted; once it stopped, it grows. Needs root: netd gives the file to
 * root:netd. */
static void test_disk_pool(void **state)
{
	struct world *w = *state;
	char pool[128], params[512];
	const char *info = "{\"virtual-size\": 1073741824, \"format\": \"qcow2\", \"actual-size\": 200704, "
			   "\"dirty-flag\": false}";

	if (geteuid() != 0)
		skip();
	snprintf(pool, sizeof(pool), "%s/images", w->root);
	w->d.image_dirs[0] = pool;
	w->d.n_image_dirs = 1;
	assert_int_equal(proc_fake_set_run(w->proc, "/usr/bin/qemu-img", info, 0), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"n1\", \"mode\": \"isolated\", \"subnet\": \"10.66.0.0/24\"}"));
	assert_true(request(w, "disk.create", "{\"name\": \"d.qcow2\", \"size\": \"1G\"}"));
	assert_false(request(w, "disk.create", "{\"name\": \"../d.qcow2\", \"size\": \"1G\"}"));
	assert_false(request(w, "disk.create", "{\"name\": \"d.qcow2\", \"size\": \"1G\"}"));
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"n1\"], \"macs\": [\"52:54:00:aa:00:01\"], "
		 "\"memory\": \"256M\", \"disk\": \"%s/d.qcow2,format=qcow2\", \"autostart\": false}",
		 pool);
	assert_true(request(w, "vm.create", params));
	assert_false(request(w, "disk.delete", "{\"name\": \"d.qcow2\"}"));
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	note(w, "a running guest's disk is not resized");
	assert_false(request(w, "disk.resize", "{\"name\": \"d.qcow2\", \"size\": \"+1G\"}"));
	note(w, "nor converted (the copy would be torn); nothing made");
	assert_false(request(w, "disk.convert",
			     "{\"name\": \"d.qcow2\", \"target\": \"c.qcow2\", \"format\": \"qcow2\"}"));
	snprintf(params, sizeof(params), "%s/c.qcow2", pool);
	assert_int_equal(access(params, F_OK), -1);
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));
	assert_false(request(w, "disk.resize", "{\"name\": \"d.qcow2\", \"size\": \"512M\"}"));
	assert_true(request(w, "disk.resize", "{\"name\": \"d.qcow2\", \"size\": \"+1G\"}"));
	assert_true(request(w, "disk.info", "{\"name\": \"d.qcow2\"}"));
	note(w, "qemu-img fails: the new file goes");
	assert_int_equal(proc_fake_set_run(w->proc, "/usr/bin/qemu-img", "", 1 << 8), 0);
	assert_false(
		request(w, "disk.create", "{\"name\": \"e.raw\", \"size\": \"1M\", \"format\": \"raw\"}"));
	snprintf(params, sizeof(params), "%s/e.raw", pool);
	assert_int_equal(access(params, F_OK), -1);
	assert_true(request(w, "vm.delete", "{\"name\": \"g1\"}"));
	assert_true(request(w, "disk.delete", "{\"name\": \"d.qcow2\"}"));
	check_golden(w, "disk-pool.log");
}

/* vm attach-disk / detach-disk on a running guest: the QMP steps (the fd goes with add-fd), the
 * definition after each; what cannot be done live is refused; a stopped guest's definition changes. */
static void test_disk_live(void **state)
{
	struct world *w = *state;
	char pool[128], params[512], path[256], *text = NULL;
	const char *info = "{\"virtual-size\": 1048576, \"format\": \"raw\", \"actual-size\": 0, "
			   "\"dirty-flag\": false}";

	if (geteuid() != 0)
		skip();
	snprintf(pool, sizeof(pool), "%s/images", w->root);
	w->d.image_dirs[0] = pool;
	w->d.n_image_dirs = 1;
	assert_int_equal(proc_fake_set_run(w->proc, "/usr/bin/qemu-img", info, 0), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"n1\", \"mode\": \"isolated\", \"subnet\": \"10.66.0.0/24\"}"));
	assert_true(
		request(w, "disk.create", "{\"name\": \"a.raw\", \"size\": \"1M\", \"format\": \"raw\"}"));
	assert_true(
		request(w, "disk.create", "{\"name\": \"b.raw\", \"size\": \"1M\", \"format\": \"raw\"}"));
	assert_true(request(w, "vm.create",
			    "{\"name\": \"g1\", \"networks\": [\"n1\"], \"macs\": [\"52:54:00:aa:00:01\"], "
			    "\"memory\": \"256M\", \"disks\": [\"a.raw\"], \"accel\": \"tcg\"}"));
	note(w, "attach: add-fd (with the fd), blockdev-add of both nodes, device_add on slot 1's port");
	assert_true(request(w, "vm.attach-disk", "{\"name\": \"g1\", \"disk\": \"b.raw,cache=writeback\"}"));
	snprintf(path, sizeof(path), "%s/etc/guests/g1.conf", w->root);
	assert_int_equal(read_file(path, &text, NULL), 0);
	assert_non_null(strstr(text, "[disk1]\npath = "));
	free(text);
	assert_false(request(w, "vm.attach-disk", "{\"name\": \"g1\", \"disk\": \"b.raw\"}"));
	assert_false(request(w, "vm.attach-disk", "{\"name\": \"g1\", \"disk\": \"nope.raw\"}"));
	note(w, "detach: device_del, DEVICE_DELETED, blockdev-del, remove-fd");
	assert_true(request(w, "vm.detach-disk", "{\"name\": \"g1\", \"disk\": \"disk1\"}"));
	assert_false(request(w, "vm.detach-disk", "{\"name\": \"g1\", \"disk\": \"disk1\"}"));
	note(w, "not live: SATA (no AHCI hotplug), SCSI without the controller");
	snprintf(params, sizeof(params), "{\"name\": \"g1\", \"disk\": \"%s/b.raw,bus=sata\"}", pool);
	assert_false(request(w, "vm.attach-disk", params));
	assert_false(request(w, "vm.attach-disk", "{\"name\": \"g1\", \"disk\": \"b.raw,bus=scsi\"}"));
	note(w, "the guest's only disk: a guest without it could not start (its file unchanged)");
	assert_false(request(w, "vm.detach-disk", "{\"name\": \"g1\", \"disk\": \"disk0\"}"));
	note(w, "root's guest: an operator neither attaches nor detaches");
	assert_false(request_as(w, 1000, "vm.attach-disk", "{\"name\": \"g1\", \"disk\": \"b.raw\"}"));
	assert_false(request_as(w, 1000, "vm.detach-disk", "{\"name\": \"g1\", \"disk\": \"disk0\"}"));
	note(w, "device_add fails: the nodes and the fd set are taken away again");
	{
		static const char *const device_fails[] = { "device_add", "!Bus 'disk-port1' is full", NULL };
		static const char *const blockdev_fails[] = { "blockdev-add {\"driver\":\"raw\"",
							      "!Could not open", NULL };

		w->qmp_canned = device_fails;
		assert_false(request(w, "vm.attach-disk", "{\"name\": \"g1\", \"disk\": \"b.raw\"}"));
		note(w, "the format node's blockdev-add fails: the file node goes");
		w->qmp_canned = blockdev_fails;
		assert_false(request(w, "vm.attach-disk", "{\"name\": \"g1\", \"disk\": \"b.raw\"}"));
		w->qmp_canned = NULL;
	}
	snprintf(path, sizeof(path), "%s/etc/guests/g1.conf", w->root);
	assert_int_equal(read_file(path, &text, NULL), 0);
	assert_null(strstr(text, "[disk1]"));
	assert_non_null(strstr(text, "[disk0]"));
	free(text);
	note(w, "QEMU exits during an attach: the call fails, the guest is stopped");
	w->qmp_exit_on = "blockdev-add";
	assert_false(request(w, "vm.attach-disk", "{\"name\": \"g1\", \"disk\": \"b.raw\"}"));
	assert_false(request(w, "vm.destroy", "{\"name\": \"g1\"}"));
	note(w, "a stopped guest: only the definition");
	assert_true(request(w, "vm.attach-disk", "{\"name\": \"g1\", \"disk\": \"b.raw,bus=sata\"}"));
	assert_true(request(w, "vm.detach-disk", "{\"name\": \"g1\", \"disk\": \"a.raw\"}"));
	assert_true(request(w, "vm.show", "{\"name\": \"g1\"}"));
	assert_true(request(w, "vm.delete", "{\"name\": \"g1\"}"));
	check_golden(w, "disk-live.log");
}

static char *guest_file(struct world *w, const char *name);

/* vm attach-nic / detach-nic: on a running guest the TAP (tap ops), then QMP getfd (with the fd),
 * netdev_add, device_add on the slot's port; detach: device_del, DEVICE_DELETED, netdev_del; each
 * refusal leaves the definition as it was; a stopped guest's definition changes alone. */
static void test_nic_live(void **state)
{
	struct world *w = *state;
	char *before, *text, kernel[256], params[512];

	if (geteuid() != 0)
		skip();
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"n1\", \"mode\": \"isolated\", \"subnet\": \"10.66.0.0/24\"}"));
	assert_true(request(w, "network.create",
			    "{\"name\": \"n2\", \"mode\": \"isolated\", \"subnet\": \"10.67.0.0/24\"}"));
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"n1\"], \"macs\": [\"52:54:00:aa:00:01\"], "
		 "\"memory\": \"256M\", \"kernel\": \"%s\", \"autostart\": false}",
		 kernel);
	assert_true(request(w, "vm.create", params));
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	note(w, "attach: a TAP, getfd tap1 (the fd over QMP), netdev_add, device_add on nic-port1");
	assert_true(request(w, "vm.attach-nic",
			    "{\"name\": \"g1\", \"network\": \"n2\", \"mac\": \"52:54:00:aa:00:02\"}"));
	text = guest_file(w, "g1");
	assert_non_null(strstr(text, "[nic1]\nnetwork = n2"));
	free(text);
	before = guest_file(w, "g1");
	note(w,
	     "refused, nothing changed: unknown network, a MAC the guest has, bad MAC, bad --nic-security, "
	     "an operator on root's guest, no such NIC");
	assert_false(request(w, "vm.attach-nic", "{\"name\": \"g1\", \"network\": \"nope\"}"));
	assert_false(request(w, "vm.attach-nic",
			     "{\"name\": \"g1\", \"network\": \"n1\", \"mac\": \"52:54:00:aa:00:02\"}"));
	assert_false(request(w, "vm.attach-nic",
			     "{\"name\": \"g1\", \"network\": \"n1\", \"mac\": \"01:00:00:aa:00:02\"}"));
	assert_false(request(w, "vm.attach-nic",
			     "{\"name\": \"g1\", \"network\": \"n1\", \"nic_security\": \"maybe\"}"));
	assert_false(request_as(w, 1000, "vm.attach-nic", "{\"name\": \"g1\", \"network\": \"n1\"}"));
	assert_false(request_as(w, 1000, "vm.detach-nic", "{\"name\": \"g1\", \"nic\": 1}"));
	assert_false(request(w, "vm.detach-nic", "{\"name\": \"g1\", \"nic\": 5}"));
	note(w, "device_add fails: netdev_del, closefd, the TAP and its entries go");
	{
		static const char *const device_fails[] = { "device_add", "!Bus 'nic-port2' is full", NULL };

		w->qmp_canned = device_fails;
		assert_false(
			request(w, "vm.attach-nic",
				"{\"name\": \"g1\", \"network\": \"n1\", \"mac\": \"52:54:00:aa:00:03\"}"));
		w->qmp_canned = NULL;
	}
	text = guest_file(w, "g1");
	assert_string_equal(text, before);
	free(text);
	free(before);
	note(w, "detach NIC 0: device_del nic0, DEVICE_DELETED, netdev_del net0; n2's NIC is NIC 0 now");
	assert_true(request(w, "vm.detach-nic", "{\"name\": \"g1\", \"nic\": 0}"));
	text = guest_file(w, "g1");
	assert_non_null(strstr(text, "[nic0]\nnetwork = n2"));
	assert_null(strstr(text, "[nic1]"));
	free(text);
	note(w, "attach again: the free slot 0 (the fake kernel keeps vm-g1-0: the TAP is named vnet0)");
	assert_true(request(w, "vm.attach-nic",
			    "{\"name\": \"g1\", \"network\": \"n1\", \"mac\": \"52:54:00:aa:00:04\", "
			    "\"nic_security\": \"off\"}"));
	note(w, "one change at a time: while QEMU has not answered device_add, another NIC change, a disk "
		"change and set-network are refused");
	w->qmp_hold = "device_add";
	request_send(w, 0, "vm.attach-nic",
		     "{\"name\": \"g1\", \"network\": \"n1\", \"mac\": \"52:54:00:aa:00:06\"}");
	run_for(w, 50 * 1000);
	assert_false(w->replied);
	w->qmp_hold = NULL;
	assert_false(request(w, "vm.detach-nic", "{\"name\": \"g1\", \"nic\": 0}"));
	assert_false(request(w, "vm.attach-disk", "{\"name\": \"g1\", \"disk\": \"/nonexistent.raw\"}"));
	assert_false(request(w, "vm.set-network", "{\"name\": \"g1\", \"network\": \"n2\"}"));
	qmp_send(w, w->qmp_held);
	assert_true(reply_wait(w, "vm.attach-nic"));
	w->replied = false;
	text = guest_file(w, "g1");
	assert_non_null(strstr(text, "[nic2]\nnetwork = n1"));
	free(text);
	note(w,
	     "QEMU exits during an attach: the call fails, the guest is stopped, the definition unchanged");
	before = guest_file(w, "g1");
	w->qmp_exit_on = "netdev_add";
	assert_false(request(w, "vm.attach-nic",
			     "{\"name\": \"g1\", \"network\": \"n1\", \"mac\": \"52:54:00:aa:00:05\"}"));
	assert_false(request(w, "vm.destroy", "{\"name\": \"g1\"}"));
	text = guest_file(w, "g1");
	assert_string_equal(text, before);
	free(text);
	free(before);
	note(w, "a stopped guest: only the definition (a generated MAC, kept in the MACs file)");
	assert_true(request(w, "vm.detach-nic", "{\"name\": \"g1\", \"nic\": 1}"));
	assert_true(request(w, "vm.attach-nic", "{\"name\": \"g1\", \"network\": \"n1\"}"));
	text = guest_file(w, "g1");
	assert_non_null(strstr(text, "[nic1]\nnetwork = n1"));
	free(text);
	assert_true(request(w, "vm.show", "{\"name\": \"g1\"}"));
	assert_true(request(w, "vm.delete", "{\"name\": \"g1\"}"));
	check_golden(w, "nic-live.log");
}

static const char *reply_field(struct world *w, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(w->reply, "result", &v) || !json_object_object_get_ex(v, key, &v) ||
	    !v)
		return "null";
	return json_object_get_string(v);
}

/* A definition file's text, to see that a refused change left it as it was. */
static char *guest_file(struct world *w, const char *name)
{
	char path[256], *text = NULL;

	snprintf(path, sizeof(path), "%s/guests/%s.conf", w->d.paths.config_dir, name);
	assert_int_equal(read_file(path, &text, NULL), 0);
	return text;
}

/* vm set-vcpus and set-memory on a guest made with --max-vcpus 4 --max-memory 512M (QEMU's
 * answers recorded from QEMU 7.2: tests/data/qmp-session-live.txt); each refusal changes nothing. */
static void test_vm_live(void **state)
{
	static const char *const canned[] = {
		"query-balloon",
		"{\"actual\": 536870912}",
		NULL,
	};
	struct world *w = *state;
	char kernel[128], params[512];
	_cleanup_free_ char *before = NULL, *after = NULL;

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	w->qmp_canned = canned;
	w->cpu_slots = 4;
	w->cpu_present = 2;
	assert_true(request(w, "network.create",
			    "{\"name\": \"lab\", \"mode\": \"isolated\", \"subnet\": \"10.61.0.0/24\"}"));
	note(w, "bad definitions: max-vcpus below vcpus, max-memory below memory, memory below the floor");
	snprintf(
		params, sizeof(params),
		"{\"name\": \"g1\", \"networks\": [\"lab\"], \"macs\": [\"52:54:00:aa:00:01\"], \"kernel\": \"%s\", "
		"\"autostart\": false, %%s}",
		kernel);
	{
		static const char *const bad[] = {
			"\"vcpus\": 4, \"max_vcpus\": 2",
			"\"memory\": \"1G\", \"max_memory\": \"512M\"",
			"\"memory\": \"64M\", \"max_memory\": \"1G\"",
			"\"max_vcpus\": 65",
		};
		char p[600];

		for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
			snprintf(p, sizeof(p), params, bad[i]);
			assert_false(request(w, "vm.create", p));
		}
	}
	{
		char p[600];

		snprintf(p, sizeof(p), params,
			 "\"vcpus\": 2, \"max_vcpus\": 4, \"memory\": \"512M\", \"max_memory\": \"512M\"");
		assert_true(request(w, "vm.create", p));
	}
	note(w, "stopped: --config is the default; above max-vcpus and outside the balloon's range refused");
	assert_true(request(w, "vm.set-vcpus", "{\"name\": \"g1\", \"vcpus\": 3}"));
	assert_string_equal(reply_field(w, "vcpus"), "3");
	assert_false(request(w, "vm.set-vcpus", "{\"name\": \"g1\", \"vcpus\": 5}"));
	assert_false(request(w, "vm.set-vcpus", "{\"name\": \"g1\", \"vcpus\": 2, \"live\": true}"));
	assert_true(request(w, "vm.set-memory", "{\"name\": \"g1\", \"memory\": \"384M\"}"));
	assert_false(request(w, "vm.set-memory", "{\"name\": \"g1\", \"memory\": \"1G\"}"));
	assert_false(request(w, "vm.set-memory", "{\"name\": \"g1\", \"memory\": \"32M\"}"));
	assert_true(request(w, "vm.set-vcpus", "{\"name\": \"g1\", \"vcpus\": 2}"));
	note(w, "start: -smp cpus=2,maxcpus=4, -m 512M, a balloon whose target is set to 384M");
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	before = guest_file(w, "g1");
	note(w, "refused live: fewer vCPUs, above max, balloon above max and below the floor");
	assert_false(request(w, "vm.set-vcpus", "{\"name\": \"g1\", \"vcpus\": 1}"));
	assert_false(request(w, "vm.set-vcpus", "{\"name\": \"g1\", \"vcpus\": 5}"));
	assert_false(request(w, "vm.set-memory", "{\"name\": \"g1\", \"memory\": \"1G\"}"));
	assert_false(request(w, "vm.set-memory", "{\"name\": \"g1\", \"memory\": \"63M\"}"));
	assert_false(request(w, "vm.set-memory", "{\"name\": \"g1\", \"memory\": \"lots\"}"));
	after = guest_file(w, "g1");
	assert_string_equal(before, after);
	free(TAKE_PTR(after));
	note(w, "set-vcpus 4: two device_add of the next free slots, then counted again; persisted");
	assert_true(request(w, "vm.set-vcpus", "{\"name\": \"g1\", \"vcpus\": 4}"));
	assert_string_equal(reply_field(w, "vcpus"), "4");
	assert_string_equal(reply_field(w, "vcpus_present"), "4");
	after = guest_file(w, "g1");
	assert_non_null(strstr(after, "\nvcpus = 4\n"));
	note(w, "set-memory 256M: the balloon's target in bytes; BALLOON_CHANGE gives the actual size");
	assert_true(request(w, "vm.set-memory", "{\"name\": \"g1\", \"memory\": \"256M\"}"));
	assert_string_equal(reply_field(w, "balloon_target_mib"), "256");
	qmp_send(w, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"BALLOON_CHANGE\", "
		    "\"data\": {\"actual\": 268435456}}\n");
	run_for(w, 50 * 1000);
	assert_true(request(w, "vm.show", "{\"name\": \"g1\"}"));
	assert_string_equal(reply_field(w, "balloon_actual_mib"), "256");
	assert_string_equal(reply_field(w, "memory_mib"), "256");
	note(w, "--config alone on a running guest: for its next start, what runs is unchanged");
	assert_true(
		request(w, "vm.set-memory", "{\"name\": \"g1\", \"memory\": \"448M\", \"config\": true}"));
	assert_string_equal(reply_field(w, "memory_mib"), "256");
	free(TAKE_PTR(after));
	after = guest_file(w, "g1");
	assert_non_null(strstr(after, "\nmemory = 448M\n"));
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));
	assert_true(request(w, "vm.show", "{\"name\": \"g1\"}"));
	assert_string_equal(reply_field(w, "memory_mib"), "448");
	assert_string_equal(reply_field(w, "vcpus_present"), "null");
	assert_true(request(w, "vm.delete", "{\"name\": \"g1\"}"));
	check_golden(w, "vm-live.log");
}

static const char *reply_error(struct world *w);

/*
 * vm snapshot (netd/guest/vm-snapshot.c): stopped, qemu-img on the disk's fd (canned info); running,
 * the QMP jobs as QEMU 7.2 runs them (events around the command's return, query-jobs, job-dismiss);
 * refusals; a job QEMU fails; "concluded" before the return; a destroy while a job runs (its late
 * answers taken by nobody); QEMU exiting mid-job. Needs root: the disk is opened as a start does.
 */
static void test_vm_snapshot(void **state)
{
	static const char info0[] =
		"{\"virtual-size\": 16777216, \"format\": \"qcow2\", \"actual-size\": 200704, "
		"\"dirty-flag\": false}";
	static const char info1[] =
		"{\"virtual-size\": 16777216, \"format\": \"qcow2\", \"actual-size\": 200704, \"dirty-flag\": "
		"false, \"snapshots\": [{\"icount\": 0, \"vm-clock-nsec\": 0, \"name\": \"off1\", \"date-sec\": "
		"1796130000, \"date-nsec\": 0, \"vm-clock-sec\": 0, \"id\": \"1\", \"vm-state-size\": 0}]}";
	struct world *w = *state;
	char kernel[128], disk[128], raw[128], raw2[128], params[768], params_raw_attach[256];
	size_t n;

	if (geteuid() != 0)
		skip();
	vm_snapshot_run_id_set("t");
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	snprintf(disk, sizeof(disk), "%s/d.qcow2", w->root);
	snprintf(raw, sizeof(raw), "%s/w.raw", w->root);
	snprintf(raw2, sizeof(raw2), "%s/w2.raw", w->root);
	assert_int_equal(write_file_atomic(raw2, "raw", 3, 0600), 0);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	assert_int_equal(write_file_atomic(disk, "QFI\xfb", 4, 0600), 0);
	assert_int_equal(write_file_atomic(raw, "raw", 3, 0600), 0);
	snprintf(params_raw_attach, sizeof(params_raw_attach),
		 "{\"name\": \"g1\", \"disk\": \"%s,readonly\"}", raw);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"lab\", \"mode\": \"isolated\", \"subnet\": \"10.62.0.0/24\"}"));
	snprintf(
		params, sizeof(params),
		"{\"name\": \"g1\", \"networks\": [\"lab\"], \"macs\": [\"52:54:00:aa:00:01\"], \"kernel\": \"%s\", "
		"\"autostart\": false, \"disks\": [\"%s,format=qcow2\", \"%s,readonly\"]}",
		kernel, disk, raw);
	assert_true(request(w, "vm.create", params));
	snprintf(
		params, sizeof(params),
		"{\"name\": \"g2\", \"networks\": [\"lab\"], \"macs\": [\"52:54:00:aa:00:02\"], \"kernel\": \"%s\", "
		"\"autostart\": false, \"disks\": [\"%s\"]}",
		kernel, raw2);
	assert_true(request(w, "vm.create", params));

	note(w, "refused: a writable raw disk, bad names, a bad description");
	assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g2\", \"snapshot\": \"s1\"}"));
	assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"a/b\"}"));
	assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"007\"}"));
	assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\"}"));
	assert_false(request(w, "vm.snapshot.create",
			     "{\"name\": \"g1\", \"snapshot\": \"s1\", \"description\": \"a\\nb\"}"));

	note(w,
	     "stopped: qemu-img info, then snapshot -c on the qcow2 disk's fd (the readonly raw one skipped)");
	assert_int_equal(proc_fake_set_run(w->proc, "/usr/bin/qemu-img", info0, 0), 0);
	assert_true(request(w, "vm.snapshot.create",
			    "{\"name\": \"g1\", \"snapshot\": \"off1\", \"description\": \"fresh\"}"));
	assert_false(request(w, "vm.snapshot.revert", "{\"name\": \"g1\", \"snapshot\": \"nope\"}"));
	assert_int_equal(proc_fake_set_run(w->proc, "/usr/bin/qemu-img", info1, 0), 0);
	assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"off1\"}"));
	assert_true(request(w, "vm.snapshot.list", "{\"name\": \"g1\"}"));
	assert_non_null(strstr(
		reply_field(w, "snapshots"),
		"\"name\": \"off1\", \"date\": \"2026-12-01T13:00:00Z\", \"date_sec\": 1796130000, "
		"\"vm_state_size\": 0, \"memory\": false, \"description\": \"fresh\", \"complete\": true"));
	assert_true(request(w, "vm.snapshot.revert", "{\"name\": \"g1\", \"snapshot\": \"off1\"}"));
	assert_string_equal(reply_field(w, "warning"), "null"); /* no memory state to lose */

	note(w, "an operator may not change root's guest's snapshots");
	assert_false(request_as(w, 1000, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"op1\"}"));
	assert_non_null(strstr(reply_error(w), "only its owner or root may change its snapshots"));
	assert_false(request_as(w, 1000, "vm.snapshot.revert", "{\"name\": \"g1\", \"snapshot\": \"off1\"}"));
	assert_non_null(strstr(reply_error(w), "only its owner or root may change its snapshots"));

	note(w, "the disk is the base of a pool overlay (a clone's): not written");
	{
		char overlay[128];
		int pool, ofd;

		snprintf(overlay, sizeof(overlay), "%s/o.qcow2", w->root);
		assert_int_equal(write_file_atomic(overlay, "QFI\xfb", 4, 0600), 0);
		w->d.image_dirs[0] = w->root;
		w->d.n_image_dirs = 1;
		pool = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ofd = open(overlay, O_RDONLY | O_CLOEXEC);
		assert_true(pool >= 0 && ofd >= 0);
		assert_int_equal(disk_record_put(NULL, pool, "o.qcow2", ofd, DISK_FORMAT_QCOW2, "d.qcow2"),
				 0);
		assert_false(request(w, "vm.snapshot.revert", "{\"name\": \"g1\", \"snapshot\": \"off1\"}"));
		assert_non_null(strstr(reply_error(w), "is the base of overlay 'o.qcow2'"));
		assert_false(request(w, "vm.snapshot.delete", "{\"name\": \"g1\", \"snapshot\": \"off1\"}"));
		assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"s9\"}"));
		assert_true(request(w, "vm.snapshot.list", "{\"name\": \"g1\"}"));
		disk_record_remove(pool, "o.qcow2");
		close(ofd);
		close(pool);
		unlink(overlay);
		w->d.n_image_dirs = 0;
	}

	note(w, "descriptions: create without one drops a stale line; a list drops those of snapshots gone");
	{
		char path[256], *text = NULL;
		struct stat st;
		static const char old[] = "off1\tfresh\n\ngone1\told\noff2\tstale\n";

		snprintf(path, sizeof(path), "%s/guests/g1/snapshots", w->d.paths.state_dir);
		assert_int_equal(write_file_atomic(path, old, strlen(old), 0644), 0);
		assert_true(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"off2\"}"));
		assert_int_equal(read_file(path, &text, NULL), 0);
		assert_string_equal(text, "off1\tfresh\ngone1\told\n");
		free(TAKE_PTR(text));
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_true(request(w, "vm.snapshot.list", "{\"name\": \"g1\"}")); /* the fake has off1 */
		assert_int_equal(read_file(path, &text, NULL), 0);
		assert_string_equal(text, "off1\tfresh\n");
		free(text);
	}

	note(w, "a disk with 64 snapshots: the list says truncated, create is refused");
	{
		char *many = malloc(16384);
		size_t len;

		assert_non_null(many);
		len = snprintf(many, 16384,
			       "{\"virtual-size\": 16777216, \"format\": \"qcow2\", \"actual-size\": "
			       "200704, \"snapshots\": [");
		for (int i = 0; i < 64; i++)
			len += snprintf(many + len, 16384 - len,
					"%s{\"name\": \"m%d\", \"date-sec\": 1796130000, \"date-nsec\": 0, "
					"\"vm-clock-sec\": 0, \"vm-clock-nsec\": 0, \"id\": \"%d\", "
					"\"vm-state-size\": 0}",
					i ? ", " : "", i, i + 1);
		snprintf(many + len, 16384 - len, "]}");
		assert_int_equal(proc_fake_set_run(w->proc, "/usr/bin/qemu-img", many, 0), 0);
		assert_true(request(w, "vm.snapshot.list", "{\"name\": \"g1\"}"));
		assert_string_equal(reply_field(w, "truncated"), "true");
		assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"m64\"}"));
		assert_non_null(strstr(reply_error(w), "a disk has 64 snapshots"));
		assert_int_equal(proc_fake_set_run(w->proc, "/usr/bin/qemu-img", info1, 0), 0);
		free(many);
	}

	note(w, "running: snapshot-save with vmstate and devices, concluded, query-jobs, job-dismiss");
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	assert_true(
		request(w, "vm.snapshot.create",
			"{\"name\": \"g1\", \"snapshot\": \"live1\", \"description\": \"before upgrade\"}"));
	assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"live1\"}"));
	assert_false(request(w, "vm.snapshot.revert", "{\"name\": \"g1\", \"snapshot\": \"nope\"}"));
	assert_true(request(w, "vm.snapshot.revert", "{\"name\": \"g1\", \"snapshot\": \"live1\"}"));
	assert_true(request(w, "vm.snapshot.list", "{\"name\": \"g1\"}"));
	assert_non_null(
		strstr(reply_field(w, "snapshots"),
		       "\"name\": \"live1\", \"date\": \"2026-12-01T13:07:25Z\", \"date_sec\": 1796130445, "
		       "\"vm_state_size\": 926142, \"memory\": true, \"description\": \"before upgrade\""));

	note(w, "QEMU refuses the job's command: no job is left behind (the next one goes)");
	{
		static const char *const refuse[] = { "snapshot-save",
						      "!No block device can accept snapshots", NULL };

		w->qmp_canned = refuse;
		assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"no\"}"));
		assert_non_null(strstr(reply_error(w), "QEMU refused snapshot-save"));
		w->qmp_canned = NULL;
		assert_true(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"yes\"}"));
		assert_true(request(w, "vm.snapshot.delete", "{\"name\": \"g1\", \"snapshot\": \"yes\"}"));
	}

	note(w, "QEMU fails a load: the guest may hold part of it; only a destroy is recommended");
	w->snap_job_error = "Device 'disk0' does not have the requested snapshot";
	assert_false(request(w, "vm.snapshot.revert", "{\"name\": \"g1\", \"snapshot\": \"live1\"}"));
	assert_non_null(strstr(reply_error(w), "'vm destroy' it (do not resume it)"));
	w->snap_job_error = NULL;

	note(w, "an operator against root's running guest: refused");
	assert_false(
		request_as(w, 1000, "vm.snapshot.revert", "{\"name\": \"g1\", \"snapshot\": \"live1\"}"));
	assert_non_null(strstr(reply_error(w), "only its owner or root may change its snapshots"));
	assert_false(
		request_as(w, 1000, "vm.snapshot.delete", "{\"name\": \"g1\", \"snapshot\": \"live1\"}"));

	note(w, "after a list (no job in QEMU) a disk can be detached; then live1's machine is gone: a live "
		"revert is refused");
	assert_true(request(w, "vm.detach-disk", "{\"name\": \"g1\", \"disk\": \"disk1\"}"));
	assert_false(request(w, "vm.snapshot.revert", "{\"name\": \"g1\", \"snapshot\": \"live1\"}"));
	assert_non_null(strstr(reply_error(w), "changed since snapshot 'live1' was taken"));

	note(w, "QEMU's list says a job whose concluded came is still running: an error, the job left; "
		"a disk change waits for it; another id's concluded is not dismissed; its own is");
	w->snap_jobs_status = "running";
	w->snap_job_error = "not done"; /* (the fake keeps no snapshot of it) */
	assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"odd\"}"));
	assert_non_null(strstr(reply_error(w), "is 'running', not concluded"));
	w->snap_jobs_status = NULL;
	w->snap_job_error = NULL;
	assert_false(request(w, "vm.attach-disk", params_raw_attach));
	assert_non_null(strstr(reply_error(w), "snapshot"));
	assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"next\"}"));
	qmp_send(w, "{\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"status\": \"concluded\", "
		    "\"id\": \"netd-snap-other-1\"}}\n");
	run_for(w, 50 * 1000);
	note(w, "(no job-dismiss above)");
	{
		char ev[256];

		snprintf(ev, sizeof(ev),
			 "{\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"status\": \"concluded\", "
			 "\"id\": \"%s\"}}\n",
			 w->snap_job);
		qmp_send(w, ev);
	}
	run_for(w, 50 * 1000);
	assert_true(request(w, "vm.attach-disk", params_raw_attach));
	assert_true(request(w, "vm.snapshot.list", "{\"name\": \"g1\"}"));

	note(w, "netd restarts while a job it left is in QEMU: adopted, query-jobs, that concluded job "
		"dismissed");
	w->snap_jobs_status = "running";
	w->snap_job_error = "not done";
	assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"odd2\"}"));
	w->snap_jobs_status = NULL;
	w->snap_job_error = NULL;
	w->qmp_source = sd_event_source_disable_unref(w->qmp_source);
	close(w->qmp_fd);
	w->qmp_fd = -1;
	daemon_stop(&w->d);
	assert_int_equal(daemon_start(&w->d), 0);
	run_for(w, 200 * 1000);
	assert_true(request(w, "vm.detach-disk", "{\"name\": \"g1\", \"disk\": \"disk1\"}"));

	note(w, "adopted without its disk slots record: live snapshots refused until its next start");
	{
		char slots[256];

		snprintf(slots, sizeof(slots), "%s/guests/g1/disk-slots", w->d.paths.run_dir);
		assert_int_equal(unlink(slots), 0);
		w->qmp_source = sd_event_source_disable_unref(w->qmp_source);
		close(w->qmp_fd);
		w->qmp_fd = -1;
		daemon_stop(&w->d);
		assert_int_equal(daemon_start(&w->d), 0);
		run_for(w, 200 * 1000);
		assert_false(request(w, "vm.snapshot.list", "{\"name\": \"g1\"}"));
		assert_non_null(strstr(reply_error(w), "adopted without its disk slots record"));
		assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"s9\"}"));
		assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));
		assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	}

	note(w, "QEMU fails the job: its error, from query-jobs");
	w->snap_job_error = "Error while writing VM state: No space left on device";
	assert_false(request(w, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"full\"}"));
	w->snap_job_error = NULL;

	note(w, "concluded before the command's return: query-jobs after the return");
	w->snap_job_early = true;
	assert_true(request(w, "vm.snapshot.delete", "{\"name\": \"g1\", \"snapshot\": \"live1\"}"));
	w->snap_job_early = false;
	assert_string_equal(reply_field(w, "snapshots"), "[ ]");

	note(w, "destroyed while snapshot-save waits for QEMU: the late answer is nobody's");
	w->qmp_hold = "snapshot-save";
	request_send(w, 0, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"late\"}");
	run_for(w, 50 * 1000);
	assert_false(w->replied);
	proc_fake_defer_kill(w->proc, true);
	n = w->n_replies;
	request_send(w, 0, "vm.destroy", "{\"name\": \"g1\"}");
	assert_false(reply_wait(w, "vm.snapshot.create"));
	assert_non_null(strstr(reply_error(w), "destroyed"));
	w->qmp_hold = NULL;
	qmp_send(w, w->qmp_held);
	run_for(w, 50 * 1000);
	assert_int_equal(w->n_replies, n + 1);
	w->replied = false;
	assert_int_equal(proc_fake_exit(w->proc, w->qemu_pid, 9), 0);
	assert_true(reply_wait(w, "vm.destroy"));
	proc_fake_defer_kill(w->proc, false);

	note(w, "QEMU exits while a job runs");
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	w->qmp_hold = "snapshot-save";
	request_send(w, 0, "vm.snapshot.create", "{\"name\": \"g1\", \"snapshot\": \"gone\"}");
	run_for(w, 50 * 1000);
	assert_false(w->replied);
	assert_int_equal(proc_fake_exit(w->proc, w->qemu_pid, 0), 0);
	assert_false(reply_wait(w, "vm.snapshot.create"));
	assert_non_null(strstr(reply_error(w), "QEMU exited while saving snapshot 'gone'"));
	w->qmp_hold = NULL;
	check_golden(w, "vm-snapshot.log");
}

/* vm.show NAME's field KEY. */
static const char *vm_field(struct world *w, const char *name, const char *key)
{
	char params[128];

	snprintf(params, sizeof(params), "{\"name\": \"%s\"}", name);
	assert_true(request(w, "vm.show", params));
	return reply_field(w, key);
}

static const char *reply_error(struct world *w)
{
	json_object *v;

	return json_object_object_get_ex(w->reply, "error", &v) ? json_object_get_string(v) : "";
}

/* The definition file cannot be written: a directory stands in its place (until restored). */
static void guest_file_block(struct world *w, const char *name, const char *restore)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/guests/%s.conf", w->d.paths.config_dir, name);
	if (!restore) {
		assert_int_equal(unlink(path), 0);
		assert_int_equal(mkdir(path, 0755), 0);
		return;
	}
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(write_file_atomic(path, restore, strlen(restore), 0640), 0);
}

/*
 * What goes wrong on the way: refusals checked against the definition file, a definition that
 * cannot be saved, --live alone, a device_add QEMU refuses part-way, a balloon QEMU refuses, QEMU
 * exiting mid-request, and a late answer after a destroy.
 */
static void test_vm_live_failures(void **state)
{
	static const char *const canned[] = {
		"device_add {\"driver\":\"qemu64-x86_64-cpu\",\"id\":\"vcpu4\"",
		"!CPU hotplug failed",
		"balloon {\"value\":201326592}",
		"!No balloon device has been activated",
		"query-balloon",
		"{\"actual\": 402653184}",
		NULL,
	};
	struct world *w = *state;
	char kernel[128], params[512], p[600];
	_cleanup_free_ char *before = NULL, *after = NULL;
	unsigned n;

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	w->qmp_canned = canned;
	assert_true(request(w, "network.create",
			    "{\"name\": \"lab\", \"mode\": \"isolated\", \"subnet\": \"10.61.0.0/24\"}"));
	snprintf(
		params, sizeof(params),
		"{\"name\": \"%%s\", \"networks\": [\"lab\"], \"kernel\": \"%s\", \"autostart\": false, %%s}",
		kernel);

	note(w, "a guest made without --max-vcpus: --config gives it more for its next start");
	snprintf(w->guest, sizeof(w->guest), "g2");
	snprintf(p, sizeof(p), params, "g2", "\"vcpus\": 1, \"macs\": [\"52:54:00:aa:00:02\"]");
	assert_true(request(w, "vm.create", p));
	assert_true(request(w, "vm.set-vcpus", "{\"name\": \"g2\", \"vcpus\": 2}"));
	after = guest_file(w, "g2");
	assert_non_null(strstr(after, "\nvcpus = 2\n"));
	free(TAKE_PTR(after));
	assert_true(request(w, "vm.set-vcpus", "{\"name\": \"g2\", \"vcpus\": 1}"));
	note(w, "stopped: each refusal leaves the definition file as it was");
	before = guest_file(w, "g2");
	assert_false(request(w, "vm.set-vcpus", "{\"name\": \"g2\", \"vcpus\": 65}"));
	assert_false(request(w, "vm.set-vcpus", "{\"name\": \"g2\", \"vcpus\": 2, \"live\": true}"));
	assert_false(request(w, "vm.set-vcpus", "{\"name\": \"g2\", \"vcpus\": 2, \"live\": \"yes\"}"));
	assert_false(request(w, "vm.set-vcpus", "{\"name\": \"g2\", \"vcpus\": 2, \"config\": 1}"));
	assert_false(request(w, "vm.set-memory", "{\"name\": \"g2\", \"memory\": \"32M\"}"));
	after = guest_file(w, "g2");
	assert_string_equal(before, after);
	free(TAKE_PTR(after));
	note(w, "stopped, the definition cannot be saved: an error, and nothing changed");
	guest_file_block(w, "g2", NULL);
	assert_false(request(w, "vm.set-vcpus", "{\"name\": \"g2\", \"vcpus\": 2}"));
	assert_non_null(strstr(reply_error(w), "cannot save its definition"));
	guest_file_block(w, "g2", before);
	assert_string_equal(vm_field(w, "g2", "vcpus"), "1");
	note(w, "running with 1 vCPU and no free slot: --live may not add one");
	w->cpu_slots = 1;
	w->cpu_present = 1;
	assert_true(request(w, "vm.start", "{\"name\": \"g2\"}"));
	assert_false(request(w, "vm.set-vcpus", "{\"name\": \"g2\", \"vcpus\": 2, \"live\": true}"));
	assert_non_null(strstr(reply_error(w), "at most 1 vCPU while"));
	assert_true(request(w, "vm.destroy", "{\"name\": \"g2\"}"));
	assert_true(request(w, "vm.delete", "{\"name\": \"g2\"}"));
	free(TAKE_PTR(before));

	snprintf(w->guest, sizeof(w->guest), "g3");
	snprintf(p, sizeof(p), params, "g3",
		 "\"vcpus\": 2, \"max_vcpus\": 6, \"memory\": \"384M\", \"max_memory\": \"512M\", \"macs\": "
		 "[\"52:54:00:aa:00:03\"]");
	assert_true(request(w, "vm.create", p));
	w->cpu_slots = 6;
	w->cpu_present = 2;
	assert_true(request(w, "vm.start", "{\"name\": \"g3\"}"));
	note(w, "--live alone: the running guest changes, its definition does not");
	before = guest_file(w, "g3");
	assert_true(request(w, "vm.set-vcpus", "{\"name\": \"g3\", \"vcpus\": 3, \"live\": true}"));
	assert_string_equal(reply_field(w, "vcpus"), "2");
	assert_string_equal(reply_field(w, "vcpus_present"), "3");
	after = guest_file(w, "g3");
	assert_string_equal(before, after);
	free(TAKE_PTR(after));
	note(w, "the guest ejects a vCPU by itself (ACPI _EJ0): QEMU says DEVICE_DELETED, netd counts again");
	w->cpu_present = 2;
	qmp_send(w, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"DEVICE_DELETED\", "
		    "\"data\": {\"device\": \"vcpu2\", \"path\": \"/machine/peripheral/vcpu2\"}}\n");
	run_for(w, 50 * 1000);
	assert_string_equal(vm_field(w, "g3", "vcpus_present"), "2");
	note(w, "QEMU refuses the third device_add of three: two stay plugged, the reply says so, and "
		"--config keeps what is present");
	assert_false(request(w, "vm.set-vcpus", "{\"name\": \"g3\", \"vcpus\": 5}"));
	assert_non_null(strstr(reply_error(w), "2 of 3 plugged in, the guest now has 4 vCPUs"));
	assert_string_equal(vm_field(w, "g3", "vcpus_present"), "4");
	assert_string_equal(reply_field(w, "vcpus"), "4");
	after = guest_file(w, "g3");
	assert_non_null(strstr(after, "\nvcpus = 4\n"));
	free(TAKE_PTR(after));
	free(TAKE_PTR(before));
	w->qmp_canned = canned + 2; /* device_add succeeds from now on */
	note(w, "QEMU refuses the balloon's target: an error, nothing changed");
	before = guest_file(w, "g3");
	assert_false(request(w, "vm.set-memory", "{\"name\": \"g3\", \"memory\": \"192M\"}"));
	assert_string_equal(vm_field(w, "g3", "balloon_target_mib"), "384");
	assert_string_equal(reply_field(w, "memory_mib"), "384");
	after = guest_file(w, "g3");
	assert_string_equal(before, after);
	free(TAKE_PTR(after));
	note(w, "the definition cannot be saved: live and config, the live half done and a warning; "
		"config alone, an error");
	guest_file_block(w, "g3", NULL);
	assert_true(request(w, "vm.set-memory", "{\"name\": \"g3\", \"memory\": \"256M\"}"));
	assert_non_null(strstr(reply_field(w, "warning"), "could not be saved"));
	assert_string_equal(reply_field(w, "balloon_target_mib"), "256");
	assert_string_equal(reply_field(w, "memory_mib"), "384");
	assert_false(request(w, "vm.set-vcpus", "{\"name\": \"g3\", \"vcpus\": 6, \"config\": true}"));
	guest_file_block(w, "g3", before);
	assert_true(request(w, "vm.destroy", "{\"name\": \"g3\"}"));
	assert_string_equal(vm_field(w, "g3", "memory_mib"), "384");
	assert_string_equal(reply_field(w, "vcpus"), "4");

	note(w, "QEMU exits while a device_add is under way: the request fails, nothing is saved");
	w->cpu_present = 4;
	assert_true(request(w, "vm.start", "{\"name\": \"g3\"}"));
	w->qmp_hold = "device_add";
	request_send(w, 0, "vm.set-vcpus", "{\"name\": \"g3\", \"vcpus\": 5}");
	run_for(w, 50 * 1000);
	assert_false(w->replied);
	assert_int_equal(proc_fake_exit(w->proc, w->qemu_pid, 0), 0);
	assert_false(reply_wait(w, "vm.set-vcpus"));
	assert_non_null(strstr(reply_error(w), "QEMU exited before the vCPUs were plugged in"));
	w->qmp_hold = NULL;
	after = guest_file(w, "g3");
	assert_string_equal(before, after);
	free(TAKE_PTR(after));

	note(w, "destroyed while set-vcpus waits for QEMU, which takes its time to die: QEMU's late "
		"answer neither saves the definition nor answers the destroy");
	w->cpu_present = 4;
	assert_true(request(w, "vm.start", "{\"name\": \"g3\"}"));
	w->qmp_hold = "query-cpus-fast";
	request_send(w, 0, "vm.set-vcpus", "{\"name\": \"g3\", \"vcpus\": 5}");
	run_for(w, 50 * 1000);
	assert_false(w->replied);
	proc_fake_defer_kill(w->proc, true);
	n = w->n_replies;
	request_send(w, 0, "vm.destroy", "{\"name\": \"g3\"}");
	assert_false(reply_wait(w, "vm.set-vcpus"));
	assert_non_null(strstr(reply_error(w), "destroyed"));
	w->qmp_hold = NULL;
	qmp_send(w, w->qmp_held);
	run_for(w, 50 * 1000);
	assert_int_equal(w->n_replies, n + 1);
	after = guest_file(w, "g3");
	assert_string_equal(before, after);
	free(TAKE_PTR(after));
	w->replied = false;
	assert_int_equal(proc_fake_exit(w->proc, w->qemu_pid, 9), 0);
	assert_true(reply_wait(w, "vm.destroy"));
	proc_fake_defer_kill(w->proc, false);

	note(w, "a destroy that cannot kill QEMU: the set-vcpus it cancelled has its answer still to "
		"come, which the next set-vcpus does not take for its own");
	w->cpu_present = 4;
	assert_true(request(w, "vm.start", "{\"name\": \"g3\"}"));
	w->qmp_hold = "query-cpus-fast";
	request_send(w, 0, "vm.set-vcpus", "{\"name\": \"g3\", \"vcpus\": 5}");
	run_for(w, 50 * 1000);
	assert_false(w->replied);
	proc_fake_fail_kill(w->proc, -EPERM);
	assert_false(request(w, "vm.destroy", "{\"name\": \"g3\"}"));
	w->qmp_hold = NULL;
	request_send(w, 0, "vm.set-vcpus", "{\"name\": \"g3\", \"vcpus\": 6, \"live\": true}");
	qmp_send(w, w->qmp_held);
	assert_true(reply_wait(w, "vm.set-vcpus"));
	assert_string_equal(reply_field(w, "vcpus_present"), "6");
	after = guest_file(w, "g3");
	assert_string_equal(before, after);
	assert_true(request(w, "vm.destroy", "{\"name\": \"g3\"}"));

	note(w, "netd restarts while QEMU waits for its first cont (prelaunch): the balloon's target is "
		"set once the guest runs");
	w->cpu_present = 4;
	assert_true(request(w, "vm.start", "{\"name\": \"g3\"}"));
	w->qmp_source = sd_event_source_disable_unref(w->qmp_source);
	close(w->qmp_fd);
	w->qmp_fd = -1;
	daemon_stop(&w->d);
	w->prelaunch = true;
	assert_int_equal(daemon_start(&w->d), 0);
	run_for(w, 200 * 1000);
	assert_false(w->prelaunch);
	assert_string_equal(vm_field(w, "g3", "balloon_target_mib"), "384");
	assert_true(request(w, "vm.destroy", "{\"name\": \"g3\"}"));
	check_golden(w, "vm-live-failures.log");
}

/* A guest leasing under many DUIDs fills half of vm show's room at most: its SLAAC address shows. */
static void test_vm_ipv6_collect_cap(void **state)
{
	struct dhcp_lease_table t = {};
	struct ip_prefix p6 = { .family = AF_INET6, .len = 64 };
	struct neigh_info nb = { .family = AF_INET6, .state = NUD_STALE, .has_lladdr = true };
	struct vm_ipv6 got[VM_IPV6_MAX];
	size_t n;

	assert_int_equal(mac_parse("52:54:00:aa:00:01", &nb.lladdr), 0);
	assert_int_equal(ip_addr_parse("fd00:64::", &(int){ 0 }, &p6.addr), 0);
	for (int i = 0; i < 2 * VM_IPV6_MAX; i++) {
		struct dhcp_lease l = { .family = AF_INET6, .mac = nb.lladdr };
		char ip[64];

		snprintf(ip, sizeof(ip), "fd00:64::1:%x", i);
		assert_int_equal(ip_addr_parse(ip, &(int){ 0 }, &l.ip), 0);
		assert_int_equal(dhcp_lease_table_put(&t, &l), 0);
	}
	nb.dst = ps_eui64_address(&nb.lladdr, &p6).addr;
	n = vm_ipv6_collect(&nb.lladdr, &p6, &t, &nb, 1, got, ELEMENTSOF(got));
	assert_int_equal(n, VM_IPV6_MAX / 2 + 1);
	assert_int_equal(got[0].source, VM_IPV6_DHCPV6);
	assert_int_equal(got[n - 1].source, VM_IPV6_SLAAC);
	assert_memory_equal(&got[n - 1].addr, &nb.dst.in6, sizeof(got[n - 1].addr));
	dhcp_lease_table_clear(&t);
}

/* A DHCPv6 lease of a DUID-EN (no MAC inside) keeps its guest's port allowed across a restart of
 * netd: dnsmasq's lease file, which netd reads back, has no MAC for IPv6; lease6-macs has. */
static void test_portsec_ipv6_restart(void **state)
{
	static const char leases[] = "duid 00:01:00:01:2c:5b:2e:8f:52:54:00:00:00:01\n"
				     "4000000000 7 fd00:64::150 * 00:02:00:00:ab:11:de:ad:be:ef:00:01\n";
	struct world *w = *state;
	char kernel[128], params[512], path[256];
	const char *log;

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"dual\", \"mode\": \"nat\", \"subnet\": \"10.64.0.0/24\", "
			    "\"subnet6\": \"fd00:64::/64\", \"ipv6_mode\": \"dhcpv6\", "
			    "\"dhcp6_ranges\": [\"fd00:64::100-fd00:64::1ff\"]}"));
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"dual\"], \"macs\": [\"52:54:00:aa:00:01\"], "
		 "\"memory\": \"256M\", \"kernel\": \"%s\", \"autostart\": false}",
		 kernel);
	assert_true(request(w, "vm.create", params));
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	assert_true(request(w, "lease.event",
			    "{\"network\": \"dual\", \"action\": \"add\", \"mac\": \"52:54:00:aa:00:01\", "
			    "\"ip\": \"fd00:64::150\", \"expires\": \"4000000000\", \"iaid\": \"7\", "
			    "\"duid\": \"00:02:00:00:ab:11:de:ad:be:ef:00:01\"}"));
	snprintf(path, sizeof(path), "%s/lib/networks/dual/leases", w->root);
	assert_int_equal(write_file_atomic(path, leases, strlen(leases), 0640), 0); /* dnsmasq's */

	/* restarted: the port may still send from its lease's address */
	daemon_stop(&w->d);
	flush_backends(w);
	assert_int_equal(daemon_start(&w->d), 0);
	run_for(w, 100 * 1000);
	log = fw_fake_table(w->fw, "bridge netd");
	assert_non_null(log);
	assert_non_null(strstr(log, "\"vm-g1-0\" . fd00:64::150"));
	/* someone else's nft flush ruleset: the table is applied again, the address in it */
	fw_fake_flush(w->fw);
	daemon_portsec_check(&w->d);
	log = fw_fake_table(w->fw, "bridge netd");
	assert_non_null(log);
	assert_non_null(strstr(log, "\"vm-g1-0\" . fd00:64::150"));

	/* without netd's record it would not: a DUID-EN names no MAC */
	daemon_stop(&w->d);
	snprintf(path, sizeof(path), "%s/lib/networks/dual/lease6-macs", w->root);
	assert_int_equal(unlink(path), 0);
	flush_backends(w);
	assert_int_equal(daemon_start(&w->d), 0);
	run_for(w, 100 * 1000);
	log = fw_fake_table(w->fw, "bridge netd");
	assert_non_null(log);
	assert_null(strstr(log, "fd00:64::150"));
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));
}

static void test_guest_user(void **state)
{
	struct world *w = *state;
	char kernel[128], params[512];

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"lab\", \"mode\": \"nat\", \"subnet\": \"10.60.0.0/24\"}"));
	assert_true(request(w, "network.create",
			    "{\"name\": \"lab2\", \"mode\": \"isolated\", \"subnet\": \"10.62.0.0/24\"}"));
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"lab\"], \"macs\": [\"52:54:00:aa:00:01\"], "
		 "\"memory\": \"256M\", \"kernel\": \"%s\", \"autostart\": false}",
		 kernel);
	assert_true(request(w, "vm.create", params));
	note(w, "start: a TAP, kept from the host, filtered, plugged; then QEMU");
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	assert_true(link_master_is(w, "vm-g1-0", "nd-lab"));
	note(w, "the network refuses to stop under its guest");
	assert_false(request(w, "network.stop", "{\"name\": \"lab\"}"));
	assert_false(request(w, "network.delete", "{\"name\": \"lab\"}"));
	note(w, "--force: the bridge goes, the guest keeps running unplugged");
	assert_true(request(w, "network.stop", "{\"name\": \"lab\", \"force\": true}"));
	assert_true(link_master_is(w, "vm-g1-0", NULL));
	note(w, "started again: the guest is plugged into the new bridge");
	assert_true(request(w, "network.start", "{\"name\": \"lab\"}"));
	assert_true(link_master_is(w, "vm-g1-0", "nd-lab"));
	note(w, "set-network: unregistered here, registered there, its link flapped");
	assert_true(request(w, "vm.set-network", "{\"name\": \"g1\", \"network\": \"lab2\"}"));
	assert_true(link_master_is(w, "vm-g1-0", "nd-lab2"));
	note(w, "a second later its link is up again");
	run_for(w, 1200 * 1000);
	assert_true(request(w, "network.stop", "{\"name\": \"lab\"}"));
	assert_false(request(w, "network.stop", "{\"name\": \"lab2\"}"));
	note(w, "netd restarts after lab2's bridge was deleted behind its back: made anew, g1 plugged again");
	daemon_stop(&w->d);
	assert_int_equal(w->d.link.ops->link_del(w->d.link.userdata, link_index(w, "nd-lab2")), 0);
	assert_true(link_master_is(w, "vm-g1-0", NULL));
	flush_backends(w);
	assert_int_equal(daemon_start(&w->d), 0);
	run_for(w, 100 * 1000);
	assert_true(link_master_is(w, "vm-g1-0", "nd-lab2"));
	note(w, "destroyed: QEMU goes, its port's filter goes, the network may stop");
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));
	assert_true(request(w, "network.stop", "{\"name\": \"lab2\"}"));
	check_golden(w, "guest-user.log");
}

/* vm define's request: NAME and the text, JSON-escaped. "kernel = /k" stands for the test's
 * kernel, <root>/vmlinuz (define opens the files a text names with the requester's rights). */
static bool define_as(struct world *w, uid_t uid, const char *name, const char *text)
{
	_cleanup_json_ json_object *p = json_object_new_object();
	_cleanup_free_ char *real = NULL;
	const char *k = strstr(text, "kernel = /k\n");

	if (k)
		assert_true(asprintf(&real, "%.*skernel = %s/vmlinuz\n%s", (int)(k - text), text, w->root,
				     k + 12) > 0);
	json_object_object_add(p, "name", json_object_new_string(name));
	json_object_object_add(p, "text", json_object_new_string(real ?: text));
	return request_as(w, uid, "vm.define", json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
}

/* The guest's files as one text: definition, MACs, uuid (what define may change). */
static char *guest_files(struct world *w, const char *name)
{
	const char *files[] = { "etc/guests/%s.conf", "lib/guests/%s/macs", "lib/guests/%s/uuid" };
	char *all = strdup(""), path[512], rel[128];

	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		_cleanup_free_ char *text = NULL, *n = NULL;

		snprintf(rel, sizeof(rel), files[i], name);
		snprintf(path, sizeof(path), "%s/%s", w->root, rel);
		if (read_file(path, &text, NULL) < 0)
			text = strdup("(none)\n");
		assert_true(asprintf(&n, "%s== %s\n%s", all, rel, text) > 0);
		free(all);
		all = TAKE_PTR(n);
	}
	return all;
}

static char *dump_text(struct world *w, const char *name)
{
	char params[128];
	json_object *r, *t;

	snprintf(params, sizeof(params), "{\"name\": \"%s\"}", name);
	assert_true(request(w, "vm.dump", params));
	assert_true(json_object_object_get_ex(w->reply, "result", &r));
	assert_true(json_object_object_get_ex(r, "text", &t));
	return strdup(json_object_get_string(t));
}

/* The scenario's log so far holds text. */
static bool log_has(struct world *w, const char *text)
{
	fflush(w->out);
	return w->log && strstr(w->log, text);
}

/* A file under the test's root, or "(none)". */
static char *root_file(struct world *w, const char *rel)
{
	char path[512], *text = NULL;

	snprintf(path, sizeof(path), "%s/%s", w->root, rel);
	if (read_file(path, &text, NULL) < 0)
		text = strdup("(none)");
	return text;
}

/* vm clone and cloud-init with the fake processes: refusals leave no trace; an overlay clone's
 * definition and record; a --copy clone through the convert job; cloud-init's bad inputs; the seed
 * made at start by confined mtools on fds, and a clone's new instance-id. */
static void test_vm_clone(void **state)
{
	struct world *w = *state;
	char pool[128], params[1024];
	static const struct {
		const char *params, *error;
	} bad_clones[] = {
		{ "{\"name\": \"nope\", \"target\": \"c1\"}", "no guest named 'nope'" },
		{ "{\"name\": \"g1\", \"target\": \"g1\"}", "onto itself" },
		{ "{\"name\": \"g1\", \"target\": \"../c1\"}", "invalid guest name '../c1'" },
		{ "{\"name\": \"g1\", \"target\": \"c1\", \"network\": \"n9\"}", "unknown network 'n9'" },
		{ "{\"name\": \"g1\"}", "expected the source guest and the new guest's name" },
	};
	static const struct {
		const char *extra, *error;
	} bad_ci[] = {
		{ "\"hostname\": \"web_1\"", "invalid --hostname 'web_1': it may hold letters" },
		{ "\"cloud_init_files\": {\"vendor-data\": \"x\"}", "invalid cloud-init file 'vendor-data'" },
		{ "\"cloud_init_files\": {\"meta-data\": \"instance-id: x\\n\"}",
		  "sets instance-id or local-hostname" },
		{ "\"cloud_init_files\": {\"user-data\": 5}",
		  "invalid cloud-init user-data: expected its text" },
		{ "\"ssh_key\": \"hello\"", "invalid --ssh-key: the key is not an OpenSSH public key line" },
		{ "\"ssh_key\": \"ssh-ed25519 AAAA k\", \"cloud_init_files\": {\"user-data\": \"#x\\n\"}",
		  "--ssh-key writes the user-data, and --cloud-init gives one" },
	};
	char kernel[128];

	if (geteuid() != 0)
		skip();
	snprintf(pool, sizeof(pool), "%s/images", w->root);
	w->d.image_dirs[0] = pool;
	w->d.n_image_dirs = 1;
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	assert_int_equal(proc_fake_set_run(w->proc, "/usr/bin/qemu-img",
					   "{\"virtual-size\": 1073741824, \"format\": \"qcow2\"}", 0),
			 0);
	assert_int_equal(proc_fake_set_run(w->proc, "/usr/bin/mformat", "", 0), 0);
	assert_int_equal(proc_fake_set_run(w->proc, "/usr/bin/mcopy", "", 0), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"n1\", \"mode\": \"isolated\", \"subnet\": \"10.67.0.0/24\"}"));
	assert_true(request(w, "network.create",
			    "{\"name\": \"n2\", \"mode\": \"isolated\", \"subnet\": \"10.68.0.0/24\"}"));
	assert_true(request(w, "disk.create", "{\"name\": \"d.qcow2\", \"size\": \"1G\"}"));
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"n1\"], \"macs\": [\"52:54:00:aa:00:01\"], "
		 "\"memory\": \"256M\", \"kernel\": \"%s\", \"disks\": [\"d.qcow2\"], \"autostart\": false}",
		 kernel);
	assert_true(request(w, "vm.create", params));

	note(w, "bad clones: each refused with its reason, nothing made");
	for (size_t i = 0; i < ELEMENTSOF(bad_clones); i++) {
		_cleanup_free_ char *conf = NULL, *disk = NULL;

		assert_false(request(w, "vm.clone", bad_clones[i].params));
		if (!strstr(reply_error(w), bad_clones[i].error))
			fail_msg("%s: expected '%s'", reply_error(w), bad_clones[i].error);
		conf = root_file(w, "etc/guests/c1.conf");
		disk = root_file(w, "images/c1-disk0.qcow2");
		assert_string_equal(conf, "(none)");
		assert_string_equal(disk, "(none)");
	}
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	assert_false(request(w, "vm.clone", "{\"name\": \"g1\", \"target\": \"c1\"}"));
	assert_non_null(strstr(reply_error(w), "cannot clone guest 'g1': it is running"));
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));

	note(w, "an overlay clone on n2: its disk an overlay on g1's, recorded; no pinned MAC");
	assert_true(request(w, "vm.clone", "{\"name\": \"g1\", \"target\": \"c1\", \"network\": \"n2\"}"));
	{
		_cleanup_free_ char *conf = root_file(w, "etc/guests/c1.conf"),
				    *rec = root_file(w, "images/.netd/c1-disk0.qcow2");
		char want[256];

		snprintf(want, sizeof(want), "path = %s/c1-disk0.qcow2\nformat = qcow2\n", pool);
		assert_non_null(strstr(conf, want));
		assert_non_null(strstr(conf, "network = n2\n"));
		assert_null(strstr(conf, "mac = "));
		assert_non_null(strstr(conf, "owner = 0\n"));
		assert_non_null(strstr(rec, "backing=d.qcow2\n"));
	}
	assert_false(request(w, "vm.clone", "{\"name\": \"g1\", \"target\": \"c1\"}"));
	assert_non_null(strstr(reply_error(w), "guest 'c1' already exists"));
	note(w, "g1 may not write the base of c1's overlay");
	assert_false(request(w, "vm.start", "{\"name\": \"g1\"}"));
	assert_non_null(strstr(reply_error(w), "is the base of overlay 'c1-disk0.qcow2'"));

	note(w, "a --copy clone: qemu-img convert through the disk jobs, then the definition");
	assert_true(request(w, "vm.clone", "{\"name\": \"g1\", \"target\": \"c2\", \"copy\": true}"));
	{
		_cleanup_free_ char *conf = root_file(w, "etc/guests/c2.conf"),
				    *rec = root_file(w, "images/.netd/c2-disk0.qcow2");

		assert_non_null(strstr(conf, "/c2-disk0.qcow2\n"));
		assert_non_null(strstr(rec, "format=qcow2"));
		assert_null(strstr(rec, "backing=d.qcow2"));
		assert_true(log_has(w, "qemu-img convert"));
	}

	note(w, "while a --copy clone copies: define of its target and of its source refused");
	request_send(w, 0, "vm.clone", "{\"name\": \"g1\", \"target\": \"c5\", \"copy\": true}");
	assert_false(w->replied); /* the copy runs on the event loop */
	{
		_cleanup_json_ json_object *p = json_object_new_object();
		_cleanup_free_ char *g1 = root_file(w, "etc/guests/g1.conf");
		json_object *clone_params = json_object_get(w->params);
		const char *names[] = { "c5", "g1" }, *errors[] = { "vm clone is making a guest of that name",
								    "vm clone is copying its disks" };

		for (size_t i = 0; i < ELEMENTSOF(names); i++) {
			json_object_object_add(p, "name", json_object_new_string(names[i]));
			json_object_object_add(p, "text", json_object_new_string(g1));
			/* answered at once: the clone's reply comes later */
			request_send(w, 0, "vm.define",
				     json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
			assert_true(w->replied);
			if (!strstr(reply_error(w), errors[i]))
				fail_msg("define %s during the clone: %s", names[i], reply_error(w));
		}
		json_object_put(w->params);
		w->params = clone_params;
		w->replied = false;
		reply_wait(w, "vm.clone");
	}
	assert_true(json_object_get_boolean(json_object_object_get(w->reply, "ok")));

	note(w, "vm define takes a disk of the pool by its NAME, as vm create does");
	assert_true(request(w, "disk.create", "{\"name\": \"e.qcow2\", \"size\": \"1G\"}"));
	snprintf(params, sizeof(params),
		 "[guest]\nkernel = %s\n[nic0]\nnetwork = n2\n[disk0]\npath = e.qcow2\n", kernel);
	if (!define_as(w, 0, "pd", params))
		fail_msg("%s", reply_error(w));
	{
		_cleanup_free_ char *conf = root_file(w, "etc/guests/pd.conf");
		char want[256];

		snprintf(want, sizeof(want), "path = %s/e.qcow2\nformat = qcow2\n", pool);
		assert_non_null(strstr(conf, want));
	}
	assert_false(define_as(w, 0, "pd2",
			       "[guest]\nkernel = /k\n[nic0]\nnetwork = n2\n[disk0]\npath = nope.qcow2\n"));
	assert_false(request(w, "vm.show", "{\"name\": \"pd2\"}"));
	assert_true(request(w, "vm.delete", "{\"name\": \"pd\"}"));

	note(w, "cloud-init: bad inputs refused, nothing made");
	for (size_t i = 0; i < ELEMENTSOF(bad_ci); i++) {
		_cleanup_free_ char *conf = NULL;

		snprintf(
			params, sizeof(params),
			"{\"name\": \"c3\", \"networks\": [\"n1\"], \"memory\": \"256M\", \"kernel\": \"%s\", "
			"\"autostart\": false, %s}",
			kernel, bad_ci[i].extra);
		assert_false(request(w, "vm.create", params));
		if (!strstr(reply_error(w), bad_ci[i].error))
			fail_msg("%s: expected '%s'", reply_error(w), bad_ci[i].error);
		conf = root_file(w, "etc/guests/c3.conf");
		assert_string_equal(conf, "(none)");
		assert_int_equal(access(w->root, F_OK), 0);
	}

	note(w, "cloud-init: the texts kept, the seed made at start by confined mtools");
	snprintf(params, sizeof(params),
		 "{\"name\": \"c3\", \"networks\": [\"n1\"], \"memory\": \"256M\", \"kernel\": \"%s\", "
		 "\"autostart\": false, \"hostname\": \"web3\", \"cloud_init_files\": {\"user-data\": "
		 "\"#cloud-config\\n\", \"network-config\": \"version: 2\\n\"}}",
		 kernel);
	assert_true(request(w, "vm.create", params));
	{
		_cleanup_free_ char *conf = root_file(w, "etc/guests/c3.conf"),
				    *ud = root_file(w, "lib/guests/c3/cloud-init-user-data"),
				    *id = root_file(w, "lib/guests/c3/cloud-init-instance-id"),
				    *host = root_file(w, "lib/guests/c3/cloud-init-hostname"), *built = NULL;
		struct stat st;
		char path[512];

		assert_non_null(strstr(conf, "cloud-init = yes\n"));
		assert_string_equal(ud, "#cloud-config\n");
		assert_string_equal(host, "web3");
		id[strcspn(id, "\n")] = 0;
		assert_true(cloud_init_instance_id_valid(id));
		snprintf(path, sizeof(path), "%s/lib/guests/c3/cloud-init-user-data", w->root);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		snprintf(w->guest, sizeof(w->guest), "c3");
		assert_true(request(w, "vm.start", "{\"name\": \"c3\"}"));
		assert_true(log_has(w, "mformat -i /dev/fd/3 -v CIDATA :: [stdout=fd stderr=fd fds=1@3 nnp "
				       "confined session]"));
		assert_true(log_has(w, "mcopy -i /dev/fd/3 /dev/fd/4 ::user-data [stdout=fd stderr=fd "
				       "fds=2@3 nnp confined session]"));
		assert_true(log_has(w, "mcopy -i /dev/fd/3 /dev/fd/4 ::network-config"));
		assert_true(log_has(w, "mcopy -i /dev/fd/3 /dev/fd/4 ::meta-data"));
		snprintf(path, sizeof(path), "%s/lib/guests/c3/cidata.img", w->root);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 1024 * 1024);
		assert_int_equal(st.st_mode & 0777, 0600);
		built = root_file(w, "lib/guests/c3/cidata.instance-id");
		assert_string_equal(built, id);
		assert_true(request(w, "vm.destroy", "{\"name\": \"c3\"}"));

		note(w, "a clone of it: a new instance-id, its own name as host name");
		assert_true(request(w, "vm.clone", "{\"name\": \"c3\", \"target\": \"c4\"}"));
		{
			_cleanup_free_ char *id4 = root_file(w, "lib/guests/c4/cloud-init-instance-id"),
					    *ud4 = root_file(w, "lib/guests/c4/cloud-init-user-data"),
					    *host4 = root_file(w, "lib/guests/c4/cloud-init-hostname");

			id4[strcspn(id4, "\n")] = 0;
			assert_true(cloud_init_instance_id_valid(id4));
			assert_string_not_equal(id4, id);
			assert_string_equal(ud4, "#cloud-config\n");
			assert_string_equal(host4, "(none)");
		}
		note(w, "the texts are their owner's: a seed is made for no other owner's guest");
		{
			_cleanup_free_ char *o3 = root_file(w, "lib/guests/c3/cloud-init-owner"),
					    *o4 = root_file(w, "lib/guests/c4/cloud-init-owner");
			char want[32], opath[512];
			FILE *f;

			snprintf(want, sizeof(want), "%u\n", (unsigned)getuid());
			assert_string_equal(o3, want);
			assert_string_equal(o4, want);
			snprintf(opath, sizeof(opath), "%s/lib/guests/c4/cloud-init-owner", w->root);
			assert_non_null(f = fopen(opath, "w"));
			fputs("4242\n", f);
			fclose(f);
			snprintf(w->guest, sizeof(w->guest), "c4");
			assert_false(request(w, "vm.start", "{\"name\": \"c4\"}"));
			if (!strstr(reply_error(w),
				    "the cloud-init data in its state dir was given by uid 4242"))
				fail_msg("%s", reply_error(w));
			snprintf(opath, sizeof(opath), "%s/lib/guests/c4/cidata.img", w->root);
			assert_int_equal(access(opath, F_OK), -1);
		}
	}
	assert_true(request(w, "vm.delete", "{\"name\": \"c4\"}"));
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/lib/guests/c4", w->root);
		assert_int_equal(access(path, F_OK), -1);
	}
}

/* vm dump -> vm define gives the same guest (definition file, MACs, uuid); define refuses a running
 * guest, bad files (with their line), conflicts and another owner, and then changes nothing. */
static void test_vm_define(void **state)
{
	struct world *w = *state;
	_cleanup_free_ char *dump = NULL, *before = NULL, *after = NULL, *big = NULL, *text = NULL;
	char kernel[128], params[512], path[256];
	static const struct {
		const char *text, *error;
	} bad[] = {
		{ "[guest]\nmemory = lots\n", "line 2: invalid memory 'lots'" },
		{ "[guest]\nvcpus = 2\nvcpus = 3\n", "line 3: " },
		{ "[guest]\nbogus = 1\n", "line 2: " },
		{ "[guest]\nkernel = /k\n[nic0]\nnetwork = lab\nmac = 01:00:00:00:00:01\n", "invalid MAC" },
		{ "[guest]\nkernel = /k\n[nic0]\nnetwork = nowhere\n", "unknown network 'nowhere'" },
		{ "[guest]\nmemory = 512M\n[nic0]\nnetwork = lab\n", "needs a boot source" },
		{ "[guest]\nkernel = /k\nuuid = nope\n[nic0]\nnetwork = lab\n", "line 3: invalid uuid" },
		{ "[guest]\nkernel = /k\n[nic0]\nnetwork = lab\ngenerated-mac = 52:54:00:aa:00:09\n",
		  "already used on network 'lab' by guest 'g2'" },
		{ "[guest]\nkernel = /k\n[nic0]\nnetwork = lab\nmac = 52:54:00:aa:00:07\ngenerated-mac = "
		  "52:54:00:aa:00:08\n",
		  "both 'mac' and 'generated-mac'" },
	};

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"lab\", \"mode\": \"nat\", \"subnet\": \"10.60.0.0/24\"}"));
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"lab\", \"lab\"], \"memory\": \"256M\", "
		 "\"kernel\": \"%s\", \"autostart\": false}",
		 kernel);
	assert_true(request(w, "vm.create", params));
	snprintf(params, sizeof(params),
		 "{\"name\": \"g2\", \"networks\": [\"lab\"], \"macs\": [\"52:54:00:aa:00:09\"], "
		 "\"memory\": \"256M\", \"kernel\": \"%s\", \"autostart\": false}",
		 kernel);
	assert_true(request(w, "vm.create", params));
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));

	note(w, "dump of a running guest: the definition with its uuid and generated MACs");
	dump = dump_text(w, "g1");
	assert_non_null(strstr(dump, "\nuuid = "));
	assert_non_null(strstr(dump, "[nic1]\nnetwork = lab\ngenerated-mac = 52:54:00:"));
	assert_non_null(strstr(dump, "\nowner = 0\n"));
	before = guest_files(w, "g1");
	assert_null(strstr(before, "generated-mac"));
	assert_null(strstr(before, "uuid ="));

	note(w, "define over a running guest: refused");
	assert_false(define_as(w, 0, "g1", dump));
	assert_non_null(strstr(reply_error(w), "shut it down first"));
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));

	note(w, "bad files: each refused with its reason (and line), nothing changed");
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		assert_false(define_as(w, 0, "g1", bad[i].text));
		if (!strstr(reply_error(w), bad[i].error))
			fail_msg("%s: expected '%s'", reply_error(w), bad[i].error);
		after = guest_files(w, "g1");
		assert_string_equal(before, after);
		free(TAKE_PTR(after));
	}
	big = malloc(40000);
	memset(big, '#', 39999);
	big[39999] = 0;
	assert_false(define_as(w, 0, "g1", big));
	assert_non_null(strstr(reply_error(w), "larger than"));
	after = guest_files(w, "g1");
	assert_string_equal(before, after);
	free(TAKE_PTR(after));
	note(w, "another guest's uuid: refused");
	text = dump_text(w, "g2");
	assert_true(request(w, "vm.delete", "{\"name\": \"g2\"}"));
	{
		_cleanup_free_ char *mine = NULL;
		const char *u = strstr(dump, "\nuuid = "), *g = strstr(text, "[guest]\n");

		assert_non_null(u);
		assert_non_null(g);
		/* g1's uuid in g2's definition */
		assert_true(asprintf(&mine, "%.*s[guest]%.44s%s", (int)(g - text), text, u, g + 7) > 0);
		assert_false(define_as(w, 0, "g2", mine));
		assert_non_null(strstr(reply_error(w), "is guest 'g1''s"));
	}
	assert_true(define_as(w, 0, "g2", text));

	note(w, "define over the stopped guest: the same definition file, MACs and uuid");
	assert_true(define_as(w, 0, "g1", dump));
	after = guest_files(w, "g1");
	assert_string_equal(before, after);
	free(TAKE_PTR(after));
	note(w, "delete, define again: the same guest");
	assert_true(request(w, "vm.delete", "{\"name\": \"g1\"}"));
	assert_true(define_as(w, 0, "g1", dump));
	after = guest_files(w, "g1");
	assert_string_equal(before, after);
	free(TAKE_PTR(after));
	free(TAKE_PTR(text));
	text = dump_text(w, "g1");
	assert_string_equal(text, dump);

	note(w, "owner: an operator may not define a guest for root or another user");
	assert_false(define_as(w, 1000, "g3", dump));
	assert_non_null(strstr(reply_error(w), "the file names owner 0"));
	free(TAKE_PTR(text));
	text = strdup("[guest]\nkernel = /k\nowner = 1001\n[nic0]\nnetwork = lab\n");
	assert_false(define_as(w, 1000, "g3", text));
	assert_non_null(strstr(reply_error(w), "the file names owner 1001"));
	free(TAKE_PTR(text));
	text = strdup("[guest]\nkernel = /k\n[nic0]\nnetwork = lab\n");
	assert_true(define_as(w, 1000, "g3", text));
	free(TAKE_PTR(after));
	after = guest_files(w, "g3");
	assert_non_null(strstr(after, "\nowner = 1000\n"));
	note(w, "an operator may not replace root's guest (nor another's), only their own");
	free(TAKE_PTR(after));
	after = guest_files(w, "g2");
	assert_false(define_as(w, 1000, "g2", "[guest]\nkernel = /k\n[nic0]\nnetwork = lab\n"));
	assert_non_null(
		strstr(reply_error(w),
		       "guest 'g2' belongs to uid 0: only its owner or root may replace its definition"));
	free(TAKE_PTR(before));
	before = guest_files(w, "g2");
	assert_string_equal(before, after);
	assert_false(define_as(w, 1001, "g3", "[guest]\nkernel = /k\n[nic0]\nnetwork = lab\n"));
	assert_non_null(strstr(reply_error(w), "belongs to uid 1000: only its owner or root may replace"));
	assert_true(define_as(w, 1000, "g3", "[guest]\nkernel = /k\nvcpus = 2\n[nic0]\nnetwork = lab\n"));
	free(TAKE_PTR(after));
	after = guest_files(w, "g3");
	assert_non_null(strstr(after, "\nowner = 1000\n"));
	assert_non_null(strstr(after, "\nvcpus = 2\n"));
	note(w, "root may name the owner");
	assert_true(define_as(w, 0, "g4", "[guest]\nkernel = /k\nowner = 1001\n[nic0]\nnetwork = lab\n"));
	free(TAKE_PTR(after));
	after = guest_files(w, "g4");
	assert_non_null(strstr(after, "\nowner = 1001\n"));
	note(w, "root's file without an owner: none written (root's, as a hand-written file)");
	assert_true(define_as(w, 0, "g6", "[guest]\nkernel = /k\n[nic0]\nnetwork = lab\n"));
	free(TAKE_PTR(after));
	after = guest_files(w, "g6");
	assert_null(strstr(after, "owner"));

	note(w, "the definition cannot be written: the identity written before it goes again");
	snprintf(path, sizeof(path), "%s/etc/guests/g7.conf", w->root);
	assert_int_equal(mkdir(path, 0755), 0); /* rename() onto a directory fails */
	assert_false(define_as(w, 0, "g7",
			       "[guest]\nkernel = /k\nuuid = 01234567-89ab-4def-8123-456789abcdef\n"
			       "[nic0]\nnetwork = lab\ngenerated-mac = 52:54:00:aa:00:77\n"));
	assert_non_null(strstr(reply_error(w), "cannot write the definition"));
	snprintf(path, sizeof(path), "%s/lib/guests/g7", w->root);
	assert_int_equal(access(path, F_OK), -1);
	assert_false(request(w, "vm.show", "{\"name\": \"g7\"}"));
	note(w, "the same for a guest that exists: its uuid and MACs are put back");
	free(TAKE_PTR(before));
	before = guest_files(w, "g1");
	snprintf(path, sizeof(path), "%s/etc/guests/g1.conf", w->root);
	free(TAKE_PTR(text));
	assert_int_equal(read_file(path, &text, NULL), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_false(define_as(w, 0, "g1",
			       "[guest]\nkernel = /k\nuuid = 01234567-89ab-4def-8123-456789abcdef\n"
			       "[nic0]\nnetwork = lab\ngenerated-mac = 52:54:00:aa:00:77\n"));
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0640), 0);
	free(TAKE_PTR(after));
	after = guest_files(w, "g1");
	assert_string_equal(before, after);
	free(TAKE_PTR(text));
	text = dump_text(w, "g1");
	assert_string_equal(text, dump);

	note(w, "a definition file that carries identity is refused at load (a dump is for vm define)");
	snprintf(path, sizeof(path), "%s/etc/guests/g5.conf", w->root);
	assert_int_equal(write_file_atomic(path, dump, strlen(dump), 0640), 0);
	assert_true(request(w, "daemon.reload", NULL));
	assert_false(request(w, "vm.show", "{\"name\": \"g5\"}"));
}

/* The MAC of NIC i of a guest, as vm show gives it. */
static const char *shown_mac(struct world *w, const char *name, size_t i)
{
	static char buf[32];
	char params[128];
	json_object *r, *nics;

	snprintf(params, sizeof(params), "{\"name\": \"%s\"}", name);
	assert_true(request(w, "vm.show", params));
	assert_true(json_object_object_get_ex(w->reply, "result", &r));
	assert_true(json_object_object_get_ex(r, "nics", &nics));
	snprintf(buf, sizeof(buf), "%s",
		 json_object_get_string(json_object_object_get(json_object_array_get_idx(nics, i), "mac")));
	return buf;
}

/* vm define of what is on disk but not loaded, cloud-init texts, MACs, and the checks of vm create
 * (an adversarial review's findings); a dump -> define round trip with disks and tuning. */
static void test_vm_define_inherit(void **state)
{
	struct world *w = *state;
	_cleanup_free_ char *dump = NULL, *file = NULL, *again = NULL;
	char kernel[128], params[512], path[256], text[1024], m0[32], disk1[256];
	const char *m1;

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	assert_true(request(w, "network.create",
			    "{\"name\": \"lab\", \"mode\": \"nat\", \"subnet\": \"10.60.0.0/24\"}"));
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"lab\", \"lab\"], \"memory\": \"256M\", "
		 "\"kernel\": \"%s\", \"autostart\": false}",
		 kernel);
	assert_true(request(w, "vm.create", params));

	note(w, "the text gives NIC 0 the MAC saved for NIC 1: NIC 1 gets another one");
	dump = dump_text(w, "g1");
	m1 = strstr(strstr(dump, "[nic1]"), "generated-mac = ") + 16;
	snprintf(
		text, sizeof(text),
		"[guest]\nkernel = /k\n[nic0]\nnetwork = lab\ngenerated-mac = %.17s\n[nic1]\nnetwork = lab\n",
		m1);
	assert_true(define_as(w, 0, "g1", text));
	snprintf(m0, sizeof(m0), "%s", shown_mac(w, "g1", 0));
	assert_int_equal(strncmp(m0, m1, 17), 0);
	assert_string_not_equal(shown_mac(w, "g1", 1), m0);

	note(w, "a definition file that failed to load is not overwritten (by root either)");
	snprintf(path, sizeof(path), "%s/etc/guests/g9.conf", w->root);
	snprintf(text, sizeof(text), "[guest]\nkernel = /root-k\nbogus = 1\n[nic0]\nnetwork = lab\n");
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0640), 0);
	assert_true(request(w, "daemon.reload", NULL));
	assert_false(define_as(w, 1000, "g9", "[guest]\nkernel = /k\n[nic0]\nnetwork = lab\n"));
	assert_non_null(strstr(reply_error(w), "exists but is not loaded"));
	assert_false(define_as(w, 0, "g9", "[guest]\nkernel = /k\n[nic0]\nnetwork = lab\n"));
	assert_int_equal(read_file(path, &file, NULL), 0);
	assert_string_equal(file, text);

	note(w, "a QEMU of a former guest of that name still runs: refused (it would be adopted)");
	snprintf(path, sizeof(path), "%s/run/guests/g10", w->root);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/run/guests/g10/pid", w->root);
	snprintf(text, sizeof(text), "%d\n", (int)getpid());
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
	assert_false(define_as(w, 0, "g10", "[guest]\nkernel = /k\n[nic0]\nnetwork = lab\n"));
	assert_non_null(strstr(reply_error(w), "still runs"));
	note(w, "its pid file names no process: the run dir of the former guest goes");
	assert_int_equal(write_file_atomic(path, "999999999\n", 10, 0644), 0);
	assert_true(define_as(w, 0, "g10", "[guest]\nkernel = /k\n[nic0]\nnetwork = lab\n"));
	assert_int_equal(access(path, F_OK), -1);

	note(w, "a leftover state dir (seed texts, uuid, MACs) is not inherited by a new guest");
	snprintf(path, sizeof(path), "%s/lib/guests/g8", w->root);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/lib/guests/g8/uuid", w->root);
	assert_int_equal(write_file_atomic(path, "01234567-89ab-4def-8123-456789abcdef\n", 37, 0644), 0);
	snprintf(path, sizeof(path), "%s/lib/guests/g8/macs", w->root);
	assert_int_equal(write_file_atomic(path, "52:54:00:aa:00:42\n", 18, 0644), 0);
	snprintf(path, sizeof(path), "%s/lib/guests/g8/cloud-init-user-data", w->root);
	assert_int_equal(write_file_atomic(path, "#cloud-config\npassword: secret\n", 31, 0600), 0);
	assert_true(
		define_as(w, 1000, "g8", "[guest]\nkernel = /k\ncloud-init = yes\n[nic0]\nnetwork = lab\n"));
	assert_int_equal(access(path, F_OK), -1);
	free(TAKE_PTR(file));
	file = dump_text(w, "g8");
	assert_null(strstr(file, "01234567-89ab-4def-8123-456789abcdef"));
	assert_string_not_equal(shown_mac(w, "g8", 0), "52:54:00:aa:00:42");

	note(w, "cloud-init = no takes the seed's texts away: a later definition does not boot them");
	assert_true(define_as(w, 0, "g7", "[guest]\nkernel = /k\ncloud-init = yes\n[nic0]\nnetwork = lab\n"));
	snprintf(path, sizeof(path), "%s/lib/guests/g7", w->root);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/lib/guests/g7/cloud-init-user-data", w->root);
	assert_int_equal(write_file_atomic(path, "#cloud-config\npassword: secret\n", 31, 0600), 0);
	assert_false(
		define_as(w, 1000, "g7", "[guest]\nkernel = /k\ncloud-init = yes\n[nic0]\nnetwork = lab\n"));
	assert_non_null(strstr(reply_error(w), "cloud-init data"));
	assert_true(define_as(w, 0, "g7", "[guest]\nkernel = /k\n[nic0]\nnetwork = lab\n"));
	assert_int_equal(access(path, F_OK), -1);
	note(w, "texts without cloud-init in the definition: still its owner's");
	assert_int_equal(write_file_atomic(path, "#cloud-config\npassword: secret\n", 31, 0600), 0);
	assert_true(define_as(w, 0, "g7", "[guest]\nkernel = /k\nowner = 1001\n[nic0]\nnetwork = lab\n"));
	assert_int_equal(write_file_atomic(path, "#cloud-config\npassword: secret\n", 31, 0600), 0);
	assert_false(
		define_as(w, 1000, "g7", "[guest]\nkernel = /k\ncloud-init = yes\n[nic0]\nnetwork = lab\n"));
	assert_non_null(strstr(reply_error(w), "cloud-init data"));

	note(w, "the checks of vm create: host CPUs, shared disks, relative paths, pool names, rights");
	assert_false(
		define_as(w, 0, "t1", "[guest]\nkernel = /k\nvcpu-pin = 0:1000\n[nic0]\nnetwork = lab\n"));
	snprintf(text, sizeof(text), "[guest]\n[nic0]\nnetwork = lab\n[disk0]\npath = %s\n", kernel);
	assert_true(define_as(w, 0, "d1", text));
	assert_true(define_as(w, 0, "d1", text)); /* its own disk: no conflict */
	assert_false(define_as(w, 0, "d2", text));
	assert_non_null(strstr(reply_error(w), "is already disk 0 of guest 'd1'"));
	assert_false(
		define_as(w, 1000, "d3", "[guest]\n[nic0]\nnetwork = lab\n[disk0]\npath = sub/x.qcow2\n"));
	assert_non_null(strstr(reply_error(w), "is a relative path"));
	assert_false(
		define_as(w, 1000, "d3", "[guest]\n[nic0]\nnetwork = lab\n[disk0]\npath = nothere.qcow2\n"));
	assert_false(request(w, "vm.show", "{\"name\": \"d3\"}"));
	assert_false(
		define_as(w, 1000, "d3", "[guest]\nkernel = /nonexistent/vmlinuz\n[nic0]\nnetwork = lab\n"));
	assert_non_null(strstr(reply_error(w), "/nonexistent/vmlinuz"));
	assert_false(request(w, "vm.show", "{\"name\": \"d3\"}"));

	note(w, "dump -> define round trip with disks, max-vcpus and tuning");
	snprintf(path, sizeof(path), "%s/disk0.img", w->root);
	assert_int_equal(write_file_atomic(path, "disk", 4, 0644), 0);
	snprintf(disk1, sizeof(disk1), "%s/disk1.img", w->root);
	assert_int_equal(write_file_atomic(disk1, "disk", 4, 0644), 0);
	snprintf(text, sizeof(text),
		 "[guest]\nkernel = %s\nvcpus = 2\nmax-vcpus = 4\nvcpu-pin = 0:0\nemulator-pin = 0\n"
		 "io-threads = 1\n[nic0]\nnetwork = lab\n[disk0]\npath = %s\nreadonly = yes\n"
		 "[disk1]\npath = %s\nformat = raw\n",
		 kernel, path, disk1);
	if (!define_as(w, 0, "rt", text))
		fail_msg("%s", reply_error(w));
	free(TAKE_PTR(dump));
	dump = dump_text(w, "rt");
	assert_non_null(strstr(dump, "[disk1]\n"));
	assert_non_null(strstr(dump, "max-vcpus = 4\n"));
	assert_non_null(strstr(dump, "vcpu-pin = 0:0\n"));
	assert_non_null(strstr(dump, "io-threads = 1\n"));
	assert_true(request(w, "vm.delete", "{\"name\": \"rt\"}"));
	assert_true(define_as(w, 0, "rt", dump));
	again = dump_text(w, "rt");
	assert_string_equal(again, dump);
}

/* Each entry of 'network list' as 'network show' gives it (which is made anew every time) without its
 * kernel part; returns the entry of name (a copy, NULL if absent). */
static json_object *list_checked(struct world *w, const char *name)
{
	_cleanup_json_ json_object *list = NULL;
	json_object *result, *found = NULL;
	char params[128];

	fprintf(w->out, "  (list, each entry against show)\n");
	assert_true(request(w, "network.list", NULL));
	assert_true(json_object_object_get_ex(w->reply, "result", &result));
	/* The reply carries the list as text (network-methods.c): parsed back as a client would. */
	list = json_tokener_parse(json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN));
	assert_non_null(list);
	assert_int_equal(json_object_array_length(list), w->d.n_nets);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i), *v, *show;
		_cleanup_free_ char *text = NULL;

		assert_true(json_object_object_get_ex(e, "name", &v));
		text = strdup(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
		snprintf(params, sizeof(params), "{\"name\": \"%s\"}", json_object_get_string(v));
		assert_true(request(w, "network.show", params));
		assert_true(json_object_object_get_ex(w->reply, "result", &show));
		json_object_object_del(show, "kernel");
		assert_string_equal(text, json_object_to_json_string_ext(show, JSON_C_TO_STRING_PLAIN));
		if (!strcmp(json_object_get_string(v), name))
			found = json_object_get(e);
	}
	return found;
}

/* A field of an entry of list_checked() (a dotted path), "(none)" if absent. */
static const char *list_field(struct world *w, const char *name, const char *path)
{
	_cleanup_json_ json_object *e = list_checked(w, name);
	static char buf[512];
	json_object *o = e;
	char key[64];

	for (const char *p = path; o && *p;) {
		size_t n = strcspn(p, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (!json_object_object_get_ex(o, key, &o))
			o = NULL;
		p += n + (p[n] == '.');
	}
	snprintf(buf, sizeof(buf), "%s", o ? json_object_get_string(o) ?: "null" : "(none)");
	return buf;
}

/* The fake's listing of the other tables becomes tests/data/reach/NAME.json. */
static void foreign_ruleset(struct world *w, const char *name)
{
	char path[512];
	char *json = NULL;

	snprintf(path, sizeof(path), "%s/reach/%s.json", TEST_DATA_DIR, name);
	assert_int_equal(read_file(path, &json, NULL), 0);
	assert_int_equal(fw_fake_set_ruleset(w->fw, json), 0);
	free(json);
}

/* Other tables judged by what they do (nat/reach.c), through the firewall feature: Docker's
 * FORWARD degrades a nat network and not an isolated one; its advice in DOCKER-USER clears it once
 * netd lists the tables again (the fake has no monitor: after every sync). */
static void test_foreign_firewall(void **state)
{
	struct world *w = *state;

	foreign_ruleset(w, "docker");
	assert_true(request(w, "network.create",
			    "{\"name\": \"x\", \"mode\": \"nat\", \"subnet\": \"10.60.0.0/24\"}"));
	assert_true(request(w, "network.create",
			    "{\"name\": \"iso\", \"mode\": \"isolated\", \"subnet\": \"10.61.0.0/24\"}"));
	assert_string_equal(list_field(w, "x", "state"), "degraded");
	assert_string_equal(
		list_field(w, "x", "problem"),
		"forwarding blocked by table ip filter chain FORWARD (hook forward, policy drop)");
	assert_string_equal(list_field(w, "iso", "state"), "active");
	foreign_ruleset(w, "docker-user");
	assert_true(request(w, "network.create",
			    "{\"name\": \"y\", \"mode\": \"nat\", \"subnet\": \"10.62.0.0/24\"}"));
	assert_string_equal(list_field(w, "x", "state"), "active");
	assert_string_equal(list_field(w, "y", "state"), "degraded"); /* DOCKER-USER lets nd-x through only */
	foreign_ruleset(w, "ufw");
	assert_true(request(w, "network.stop", "{\"name\": \"y\"}"));
	assert_string_equal(
		list_field(w, "iso", "problem"),
		"DHCP blocked by table ip filter chain ufw-skip-to-policy-input (hook input, jumped to from "
		"INPUT, rule handle 94: drop)");
}

/* netd --firewall-integration auto (netd/network/fwint.c) with Docker's table: the block is handed
 * to Docker's DOCKER-USER (one iptables-nft-restore with netd's tagged rules, nothing logged as a
 * block yet), the network shows what netd added once the listing has it, and its stop takes the
 * rules out again. iptables-nft is the proc fake's canned run. */
static bool logged(struct world *w, const char *text)
{
	fflush(w->out);
	return strstr(w->log, text) != NULL;
}

/* logged(), once netd had up to 2 s to get there: what it does after a reply (the firewall's
 * checks, the integration's pass) may come a turn of the event loop later on a slow machine. */
static bool logged_soon(struct world *w, const char *text)
{
	for (int i = 0; i < 200 && !logged(w, text); i++)
		run_for(w, 10 * 1000);
	return logged(w, text);
}

static void test_firewall_integration(void **state)
{
	struct world *w = *state;

	w->d.fw_integration = FWINT_AUTO;
	assert_int_equal(proc_fake_set_run(w->proc, "/usr/sbin/iptables-nft",
					   "-P FORWARD DROP\n-N DOCKER-USER\n-A FORWARD -j DOCKER-USER\n"
					   "-A DOCKER-USER -j RETURN\n",
					   0),
			 0);
	foreign_ruleset(w, "docker");
	assert_true(request(w, "network.create",
			    "{\"name\": \"x\", \"mode\": \"nat\", \"subnet\": \"10.60.0.0/24\"}"));
	assert_true(logged_soon(w, "proc: spawn /usr/sbin/iptables-nft -w 5 -t filter -S [stdout=fd stderr=fd session]\n"));
	/* in order, before DOCKER-USER's last RETURN */
	assert_true(logged_soon(w, "proc: spawn /usr/sbin/iptables-nft-restore -w 5 --noflush [stdin=fd stdout=fd "
			      "stderr=fd session]\n  proc: stdin *filter\n"
			      "  -I DOCKER-USER 1 -o nd-x -m comment --comment netd:nd-x -j ACCEPT\n"
			      "  -I DOCKER-USER 1 -i nd-x -m comment --comment netd:nd-x -j ACCEPT\n"
			      "  -I DOCKER-USER 1 -i nd-x -o br-+ -m comment --comment netd:nd-x -j RETURN\n"
			      "  -I DOCKER-USER 1 -i nd-x -o docker0 -m comment --comment netd:nd-x -j RETURN\n"
			      "  COMMIT\n"));
	/* a block is reported only from the listing after the rules went in (the fake's: the old one) */
	fflush(w->out);
	assert_true(!strstr(w->log, "bridge nd-x: forwarding blocked") ||
		    strstr(w->log, "bridge nd-x: forwarding blocked") > strstr(w->log, "iptables-nft-restore"));
	/* the listing netd makes next has them (here: the fake's, given by the test) */
	foreign_ruleset(w, "docker-netd");
	assert_true(request(w, "network.create",
			    "{\"name\": \"iso\", \"mode\": \"isolated\", \"subnet\": \"10.61.0.0/24\"}"));
	for (int k = 0; k < 200 && strcmp(list_field(w, "x", "state"), "active"); k++)
		run_for(w, 10 * 1000);
	assert_string_equal(list_field(w, "x", "state"), "active");
	assert_string_equal(
		show_field(w, "x", "firewall_integration"),
		"[ { \"manager\": \"docker\", \"where\": \"ip filter DOCKER-USER\", \"by\": \"netd\" } ]");
	/* the stop lists DOCKER-USER and takes netd's rules for nd-x out, nothing else */
	assert_int_equal(proc_fake_set_run(w->proc, "/usr/sbin/iptables-nft",
					   "-P FORWARD DROP\n-N DOCKER-USER\n-A FORWARD -j DOCKER-USER\n"
					   "-A DOCKER-USER -i nd-y -m comment --comment \"netd:nd-y\" -j ACCEPT\n"
					   "-A DOCKER-USER -i nd-x -o docker0 -m comment --comment \"netd:nd-x\" -j RETURN\n"
					   "-A DOCKER-USER -i nd-x -m comment --comment \"netd:nd-x\" -j ACCEPT\n"
					   "-A DOCKER-USER -o nd-x -m comment --comment \"netd:nd-x\" -j ACCEPT\n"
					   "-A DOCKER-USER -i nd-x -j ACCEPT\n-A DOCKER-USER -j RETURN\n",
					   0),
			 0);
	assert_true(request(w, "network.stop", "{\"name\": \"x\"}"));
	assert_true(logged_soon(w, "proc: stdin *filter\n"
			      "  -D DOCKER-USER -i nd-x -o docker0 -m comment --comment netd:nd-x -j RETURN\n"
			      "  -D DOCKER-USER -i nd-x -m comment --comment netd:nd-x -j ACCEPT\n"
			      "  -D DOCKER-USER -o nd-x -m comment --comment netd:nd-x -j ACCEPT\n  COMMIT\n"));
	assert_false(logged(w, "-D DOCKER-USER -i nd-y"));
	assert_false(logged(w, "-D DOCKER-USER -i nd-x -j ACCEPT"));
}

/* 'network list' keeps each entry's text between requests: after every kind of change it still says
 * what 'network show' says, field for field (the state and its problem included). */
static void test_list_follows(void **state)
{
	struct world *w = *state;
	char pid[32], problem[512], mac[32];

	assert_true(request(w, "network.create",
			    "{\"name\": \"lab\", \"mode\": \"nat\", \"subnet\": \"10.60.0.0/24\"}"));
	assert_true(request(w, "network.create",
			    "{\"name\": \"iso\", \"mode\": \"isolated\", \"subnet\": \"10.61.0.0/24\"}"));
	assert_string_equal(list_field(w, "lab", "state"), "active");
	assert_string_equal(list_field(w, "lab", "state"), "active"); /* the kept entries */
	note(w, "lab's dnsmasq exits: degraded, with the reason");
	snprintf(pid, sizeof(pid), "%s", list_field(w, "lab", "dhcp.dnsmasq_pid"));
	assert_int_equal(proc_fake_exit(w->proc, atoi(pid), 1 << 8), 0);
	run_for(w, 50 * 1000);
	assert_string_equal(list_field(w, "lab", "state"), "degraded");
	assert_string_equal(list_field(w, "lab", "dhcp.dnsmasq_state"), "restarting");
	snprintf(problem, sizeof(problem), "%s", list_field(w, "lab", "problem"));
	assert_non_null(strstr(problem, "exited with status 1"));
	note(w, "restarted after its backoff: active, one restart, a new pid");
	run_for(w, 400 * 1000);
	assert_string_equal(list_field(w, "lab", "state"), "active");
	assert_string_equal(list_field(w, "lab", "dhcp.dnsmasq_restarts"), "1");
	assert_string_not_equal(list_field(w, "lab", "dhcp.dnsmasq_pid"), pid);
	note(w, "it exits and is restarted again between two lists: running both times, a new pid");
	snprintf(pid, sizeof(pid), "%s", list_field(w, "lab", "dhcp.dnsmasq_pid"));
	assert_int_equal(proc_fake_exit(w->proc, atoi(pid), 1 << 8), 0);
	run_for(w, 800 * 1000);
	assert_string_equal(list_field(w, "lab", "dhcp.dnsmasq_restarts"), "2");
	assert_string_not_equal(list_field(w, "lab", "dhcp.dnsmasq_pid"), pid);
	note(w, "a lease");
	assert_true(request(w, "lease.event",
			    "{\"network\": \"lab\", \"action\": \"add\", \"mac\": \"52:54:00:aa:00:01\", "
			    "\"ip\": \"10.60.0.50\", \"expires\": \"4000000000\"}"));
	assert_string_equal(list_field(w, "lab", "dhcp.leases"), "1");
	note(w, "renewed (dnsmasq's \"old\" with a new expiry): network leases has the new one");
	assert_true(request(w, "lease.event",
			    "{\"network\": \"lab\", \"action\": \"old\", \"mac\": \"52:54:00:aa:00:01\", "
			    "\"ip\": \"10.60.0.50\", \"expires\": \"4000000600\"}"));
	assert_true(request(w, "network.leases", "{\"name\": \"lab\"}"));
	{
		json_object *result, *expires;

		assert_true(json_object_object_get_ex(w->reply, "result", &result));
		assert_int_equal(json_object_array_length(result), 1);
		assert_true(
			json_object_object_get_ex(json_object_array_get_idx(result, 0), "expires", &expires));
		assert_int_equal(json_object_get_int64(expires), 4000000600);
	}
	assert_string_equal(list_field(w, "lab", "dhcp.leases"), "1");
	note(w, "stopped, started");
	assert_true(request(w, "network.stop", "{\"name\": \"lab\"}"));
	assert_string_equal(list_field(w, "lab", "state"), "inactive");
	assert_string_equal(list_field(w, "lab", "dhcp.dnsmasq_state"), "stopped");
	assert_true(request(w, "network.start", "{\"name\": \"lab\"}"));
	assert_string_equal(list_field(w, "lab", "state"), "active");
	note(w, "a reservation, then a reload with another subnet");
	assert_true(request(w, "network.host.add",
			    "{\"name\": \"lab\", \"mac\": \"52:54:00:aa:00:02\", \"ip\": \"10.60.0.20\"}"));
	assert_string_equal(list_field(w, "lab", "dhcp.hosts"), "1");
	write_def(w, "lab", "[network]\nmode = nat\nsubnet = 10.62.0.0/24\n");
	assert_true(request(w, "daemon.reload", NULL));
	assert_string_equal(list_field(w, "lab", "subnet"), "10.62.0.0/24");
	assert_string_equal(list_field(w, "lab", "dhcp.hosts"), "0");
	note(w, "iso's bridge is deleted behind netd's back: degraded");
	assert_int_equal(w->d.link.ops->link_del(w->d.link.userdata, link_index(w, "nd-iso")), 0);
	assert_string_equal(list_field(w, "iso", "problem"), "bridge missing");
	note(w, "lab deleted, then a new lab: a new MAC");
	snprintf(mac, sizeof(mac), "%s", list_field(w, "lab", "mac"));
	assert_true(request(w, "network.delete", "{\"name\": \"lab\"}"));
	assert_string_equal(list_field(w, "iso", "state"), "degraded");
	assert_true(request(w, "network.create",
			    "{\"name\": \"lab\", \"mode\": \"nat\", \"subnet\": \"10.60.0.0/24\"}"));
	assert_string_not_equal(list_field(w, "lab", "mac"), mac);
	note(w, "stopped: the MAC from its file");
	assert_true(request(w, "network.stop", "{\"name\": \"lab\"}"));
	assert_string_equal(list_field(w, "lab", "state"), "inactive");
}


/* The status of step name of network net in the last doctor's reply ("(none)" when absent). */
static const char *doctor_step(struct world *w, const char *net, const char *name)
{
	json_object *result, *steps;

	if (!json_object_object_get_ex(w->reply, "result", &result) ||
	    !json_object_object_get_ex(result, "steps", &steps))
		return "(none)";
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *st = json_object_array_get_idx(steps, i);

		if (!strcmp(json_object_get_string(json_object_object_get(st, "network")), net) &&
		    !strcmp(json_object_get_string(json_object_object_get(st, "name")), name))
			return json_object_get_string(json_object_object_get(st, "status"));
	}
	return "(none)";
}

static bool doctor_ok(struct world *w)
{
	json_object *result;

	assert_true(json_object_object_get_ex(w->reply, "result", &result));
	return json_object_get_boolean(json_object_object_get(result, "ok"));
}

/* Every step of a doctor's reply into the log: status, name, detail and fix. */
static void doctor_log(struct world *w)
{
	json_object *result, *steps;

	assert_true(json_object_object_get_ex(w->reply, "result", &result));
	assert_true(json_object_object_get_ex(result, "steps", &steps));
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *st = json_object_array_get_idx(steps, i), *fix = json_object_object_get(st, "fix");

		char line[1200];

		snprintf(line, sizeof(line), "%s %s: %s", json_object_get_string(json_object_object_get(st, "status")),
			 json_object_get_string(json_object_object_get(st, "name")),
			 json_object_get_string(json_object_object_get(st, "detail")));
		put_text(w, "  ", line);
		if (fix)
			put_text(w, "    fix: ", json_object_get_string(fix));
	}
}

static bool doctor(struct world *w, const char *params)
{
	bool ok = request(w, "network.doctor", params);

	if (ok)
		doctor_log(w);
	return ok;
}

/* netdctl doctor: each step's pass and its failure, on the fakes. */
static void test_doctor(void **state)
{
	struct world *w = *state;
	struct probe_udp socks[2] = { { .family = AF_INET, .port = 67 }, { .family = AF_INET, .port = 53 } };
	struct probe_result good = { .dhcp = PROBE_ANSWERED, .dns = PROBE_ANSWERED, .dhcp_ms = 3, .dns_ms = 1 };
	struct probe_result res;
	struct route_info def = { .table = RT_TABLE_MAIN, .type = RTN_UNICAST, .protocol = RTPROT_STATIC };
	char kernel[128], params[512];
	int eth0, br;

	assert_int_equal(link_fake_add_link(w->link, "eth0", "veth", &eth0), 0);
	assert_int_equal(w->d.link.ops->link_set_mtu(w->d.link.userdata, eth0, 1500), 0);
	def.ifindex = eth0;
	assert_int_equal(ip_prefix_parse("0.0.0.0/0", &def.dst), 0);
	assert_int_equal(ip_addr_parse("192.168.50.1", &def.gw_family, &def.gw), 0);
	assert_int_equal(link_fake_add_route_full(w->link, &def), 0);
	assert_int_equal(ip_addr_parse("10.90.0.1", &socks[1].family, &socks[1].addr), 0);
	probe_fake_set_sockets(w->probe, socks, 2);
	probe_fake_set_conntrack(w->probe, 10, 1000);
	assert_int_equal(inet_pton(AF_INET, "10.90.0.23", &good.offered), 1);
	assert_int_equal(inet_pton(AF_INET, "10.90.0.1", &good.server), 1);
	probe_fake_set_result(w->probe, &good);
	assert_true(request(w, "network.create",
			    "{\"name\": \"lab\", \"mode\": \"nat\", \"subnet\": \"10.90.0.0/24\", \"mtu\": 1500}"));
	br = link_index(w, "nd-lab");

	note(w, "all well: every step ok, the probe run once");
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_true(doctor_ok(w));
	assert_string_equal(doctor_step(w, "lab", "dhcp probe"), "ok");
	assert_string_equal(doctor_step(w, "lab", "dns probe"), "ok");
	assert_string_equal(doctor_step(w, "lab", "conflicts"), "ok");

	note(w, "refused: no such network, neither or both of name and guest");
	assert_false(request(w, "network.doctor", "{\"name\": \"nope\"}"));
	assert_false(request(w, "network.doctor", "{}"));
	assert_false(request(w, "network.doctor", "{\"name\": \"lab\", \"guest\": \"g\"}"));

	note(w, "an operator (uid 1000) may ask: it is a reader");
	assert_true(request_as(w, 1000, "network.doctor", "{\"name\": \"lab\"}"));

	note(w, "2: the bridge down");
	assert_int_equal(w->d.link.ops->link_set_up(w->d.link.userdata, br, false), 0);
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_false(doctor_ok(w));
	assert_string_equal(doctor_step(w, "lab", "bridge"), "fail");
	assert_string_equal(doctor_step(w, "lab", "dhcp probe"), "skip");
	assert_int_equal(w->d.link.ops->link_set_up(w->d.link.userdata, br, true), 0);

	note(w, "3: dnsmasq not bound, then not answering the probe");
	probe_fake_set_sockets(w->probe, socks, 1);
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_string_equal(doctor_step(w, "lab", "dnsmasq"), "fail");
	probe_fake_set_sockets(w->probe, socks, 2);
	res = good;
	res.dhcp = PROBE_NO_ANSWER;
	res.dns = PROBE_NOT_RUN;
	probe_fake_set_result(w->probe, &res);
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_string_equal(doctor_step(w, "lab", "dnsmasq"), "ok");
	assert_string_equal(doctor_step(w, "lab", "dhcp probe"), "fail");
	assert_string_equal(doctor_step(w, "lab", "dns probe"), "skip");
	res = good;
	res.dns = PROBE_NO_ANSWER;
	probe_fake_set_result(w->probe, &res);
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_string_equal(doctor_step(w, "lab", "dns probe"), "fail");
	probe_fake_set_result(w->probe, &good);

	note(w, "4: a foreign forward chain drops by policy (Docker's)");
	foreign_ruleset(w, "docker");
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_string_equal(doctor_step(w, "lab", "firewall"), "fail");
	assert_int_equal(fw_fake_set_ruleset(w->fw, ""), 0);
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_string_equal(doctor_step(w, "lab", "firewall"), "ok");

	note(w, "5: forwarding off; rp_filter off");
	assert_int_equal(w->d.link.ops->sysctl_set(w->d.link.userdata, AF_INET, "all", "forwarding", "0"), 0);
	assert_int_equal(w->d.link.ops->sysctl_set(w->d.link.userdata, AF_INET, "nd-lab", "rp_filter", "0"), 0);
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_string_equal(doctor_step(w, "lab", "forwarding"), "fail");
	assert_string_equal(doctor_step(w, "lab", "rp_filter"), "warn");
	assert_int_equal(w->d.link.ops->sysctl_set(w->d.link.userdata, AF_INET, "all", "forwarding", "1"), 0);
	assert_int_equal(w->d.link.ops->sysctl_set(w->d.link.userdata, AF_INET, "nd-lab", "rp_filter", "1"), 0);

	note(w, "6: no default route");
	assert_int_equal(w->d.link.ops->route_change(w->d.link.userdata, ROUTE_DEL, &def), 0);
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_string_equal(doctor_step(w, "lab", "default route"), "fail");
	assert_string_equal(doctor_step(w, "lab", "mtu"), "skip");
	assert_int_equal(link_fake_add_route_full(w->link, &def), 0);

	note(w, "7: conntrack 95% full, then full");
	probe_fake_set_conntrack(w->probe, 950, 1000);
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_true(doctor_ok(w));
	assert_string_equal(doctor_step(w, "lab", "conntrack"), "warn");
	probe_fake_set_conntrack(w->probe, 1000, 1000);
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_string_equal(doctor_step(w, "lab", "conntrack"), "fail");
	probe_fake_set_conntrack(w->probe, 10, 1000);

	note(w, "8: the uplink's MTU below the bridge's");
	assert_int_equal(w->d.link.ops->link_set_mtu(w->d.link.userdata, eth0, 1400), 0);
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_string_equal(doctor_step(w, "lab", "mtu"), "warn");
	assert_int_equal(w->d.link.ops->link_set_mtu(w->d.link.userdata, eth0, 1500), 0);

	note(w, "9 (and rp_filter): a route over half the subnet through eth0");
	assert_int_equal(link_fake_add_route(w->link, eth0, "10.90.0.0/25"), 0);
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_string_equal(doctor_step(w, "lab", "conflicts"), "fail");
	assert_string_equal(doctor_step(w, "lab", "rp_filter"), "fail");
	{
		struct route_info half = { .ifindex = eth0, .table = RT_TABLE_MAIN, .type = RTN_UNICAST };

		assert_int_equal(ip_prefix_parse("10.90.0.0/25", &half.dst), 0);
		assert_int_equal(w->d.link.ops->route_change(w->d.link.userdata, ROUTE_DEL, &half), 0);
	}

	note(w, "1: a guest's TAP, up and plugged; unplugged; down");
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", w->root);
	assert_int_equal(write_file_atomic(kernel, "kernel", 6, 0644), 0);
	snprintf(w->guest, sizeof(w->guest), "g1");
	snprintf(params, sizeof(params),
		 "{\"name\": \"g1\", \"networks\": [\"lab\"], \"macs\": [\"52:54:00:aa:00:01\"], "
		 "\"memory\": \"256M\", \"kernel\": \"%s\", \"autostart\": false}",
		 kernel);
	assert_true(request(w, "vm.create", params));
	assert_true(doctor(w, "{\"guest\": \"g1\"}"));
	assert_string_equal(doctor_step(w, "", "guest"), "fail");
	assert_true(request(w, "vm.start", "{\"name\": \"g1\"}"));
	assert_true(doctor(w, "{\"guest\": \"g1\"}"));
	assert_true(doctor_ok(w));
	assert_string_equal(doctor_step(w, "lab", "tap (nic 0)"), "ok");
	assert_int_equal(w->d.link.ops->port_set(w->d.link.userdata, link_index(w, "vm-g1-0"), 0), 0);
	assert_true(doctor(w, "{\"guest\": \"g1\"}"));
	assert_string_equal(doctor_step(w, "lab", "tap (nic 0)"), "fail");
	assert_int_equal(w->d.link.ops->port_set(w->d.link.userdata, link_index(w, "vm-g1-0"), br), 0);
	assert_int_equal(w->d.link.ops->link_set_up(w->d.link.userdata, link_index(w, "vm-g1-0"), false), 0);
	assert_true(doctor(w, "{\"guest\": \"g1\"}"));
	assert_string_equal(doctor_step(w, "lab", "tap (nic 0)"), "fail");
	assert_true(request(w, "vm.destroy", "{\"name\": \"g1\"}"));

	note(w, "3: dnsmasq gone");
	assert_int_equal(proc_fake_exit(w->proc, daemon_dhcp_find(&w->d, "lab")->pid, 9), 0);
	run_for(w, 50 * 1000);
	assert_true(doctor(w, "{\"name\": \"lab\"}"));
	assert_string_equal(doctor_step(w, "lab", "dnsmasq"), "fail");

	note(w, "IPv6: dnsmasq bound on the IPv6 gateway too; an IPv6 default route, or a warning");
	assert_true(request(w, "network.create",
			    "{\"name\": \"six\", \"mode\": \"nat\", \"subnet\": \"10.91.0.0/24\", "
			    "\"subnet6\": \"fd00:91::/64\"}"));
	{
		struct probe_udp six[3] = { { .family = AF_INET, .port = 67 }, { .port = 53 }, { .port = 53 } };
		struct route_info def6 = { .ifindex = eth0, .table = RT_TABLE_MAIN, .type = RTN_UNICAST };

		assert_int_equal(ip_addr_parse("10.91.0.1", &six[1].family, &six[1].addr), 0);
		probe_fake_set_sockets(w->probe, six, 2);
		assert_true(doctor(w, "{\"name\": \"six\"}"));
		assert_string_equal(doctor_step(w, "six", "dnsmasq"), "fail");
		assert_string_equal(doctor_step(w, "six", "default route6"), "warn");
		assert_int_equal(ip_addr_parse("fd00:91::1", &six[2].family, &six[2].addr), 0);
		probe_fake_set_sockets(w->probe, six, 3);
		assert_int_equal(ip_prefix_parse("::/0", &def6.dst), 0);
		assert_int_equal(link_fake_add_route_full(w->link, &def6), 0);
		assert_true(doctor(w, "{\"name\": \"six\"}"));
		assert_true(doctor_ok(w));
		assert_string_equal(doctor_step(w, "six", "dnsmasq"), "ok");
		assert_string_equal(doctor_step(w, "six", "default route6"), "ok");
	}
	check_golden(w, "doctor.log");
}

/* The evpn feature on the fakes: netd restarts with a VTEP (an address of the fake host) as a
 * reflector; FRR's configuration is written and frr-reload.py runs; vtysh's answer (the captures
 * of FRR 8.4) is what status shows; a restart applies nothing; a new peer from netd.conf is applied
 * at reload, a refused apply and a silent FRR are problems, a bad netd.conf is refused. */
static void evpn_status_line(struct world *w)
{
	json_object *r, *e;

	assert_true(request(w, "daemon.status", "{}"));
	assert_true(json_object_object_get_ex(w->reply, "result", &r));
	assert_true(json_object_object_get_ex(r, "evpn", &e));
	json_object_object_del(json_object_object_get(e, "frr"), "polled_sec_ago");
	put_text(w, "  status evpn: ",
		 json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void evpn_restart(struct world *w)
{
	daemon_stop(&w->d);
	assert_int_equal(daemon_start(&w->d), 0);
	run_for(w, 300 * 1000);
}

/* FRR's side of a world with a VTEP: fake frr-reload.py and vtysh (which answers ANSWER), FRR's file
 * under the world's root, and the settings of 'netd --vtep VTEP --evpn-reflector --frr-pathspace
 * h1' with those paths. FRR's file goes to group frr: root only. */
static char evpn_reload[256], evpn_vtysh[256], evpn_frr_conf[256];
static void evpn_fake_frr(struct world *w, const char *vtep, const char *answer)
{
	struct daemon_evpn *e = &w->d.evpn;
	char path[256];

	snprintf(evpn_reload, sizeof(evpn_reload), "%s/frr-reload.py", w->root);
	snprintf(evpn_vtysh, sizeof(evpn_vtysh), "%s/bin/vtysh", w->root);
	snprintf(evpn_frr_conf, sizeof(evpn_frr_conf), "%s/frr/frr.conf", w->root);
	snprintf(path, sizeof(path), "%s/bin", w->root);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/frr", w->root);
	assert_int_equal(mkdir_p(path, 0755), 0);
	assert_int_equal(write_file_atomic(evpn_reload, "", 0, 0755), 0);
	assert_int_equal(write_file_atomic(evpn_vtysh, "", 0, 0755), 0);
	assert_int_equal(proc_fake_set_run(w->proc, evpn_reload, "", 0), 0);
	assert_int_equal(proc_fake_set_run(w->proc, evpn_vtysh, answer, 0), 0);
	*e = (struct daemon_evpn){ .asn = FRR_ASN_DEFAULT,
				   .reflector = true,
				   .frr_pathspace = "h1",
				   .frr_reload = evpn_reload,
				   .vtysh = evpn_vtysh,
				   .frr_conf = evpn_frr_conf,
				   .given = EVPN_GIVEN_VTEP | EVPN_GIVEN_REFLECTOR };
	assert_int_equal(ip_addr_parse(vtep, &e->vtep_family, &e->vtep), 0);
	w->d.evpn_cmdline = *e;
}

static void test_evpn(void **state)
{
	struct world *w = *state;
	_cleanup_free_ char *sum = NULL, *vni = NULL, *answer = NULL, *conf = NULL;
	const char *reload = evpn_reload, *vtysh = evpn_vtysh, *frr_conf = evpn_frr_conf;
	char path[256];
	int ifindex;

	if (geteuid() != 0)
		skip(); /* FRR's file goes to group frr */
	assert_int_equal(read_file(TEST_DATA_DIR "/frr/summary-reflector.json", &sum, NULL), 0);
	assert_int_equal(read_file(TEST_DATA_DIR "/frr/vni-reflector.json", &vni, NULL), 0);
	assert_true(asprintf(&answer, "%s%s", sum, vni) > 0);
	assert_int_equal(link_fake_add_link(w->link, "eth0", "veth", &ifindex), 0);
	assert_int_equal(link_fake_add_addr(w->link, ifindex, "192.0.2.1/24"), 0);
	evpn_fake_frr(w, "192.0.2.1", answer);
	flush_backends(w);
	note(w, "netd restarts with --vtep 192.0.2.1 --evpn-reflector: FRR's file written, applied, polled");
	evpn_restart(w);
	assert_int_equal(read_file(frr_conf, &conf, NULL), 0);
	assert_non_null(strstr(conf, " bgp listen range 192.0.2.0/24 peer-group netd-evpn\n"));
	evpn_status_line(w);
	{
		struct frr_peer_addr vteps[1];
		char a[INET6_ADDRSTRLEN];

		assert_int_equal(daemon_evpn_vni_vteps(&w->d, 100, vteps, 1), 1);
		assert_string_equal(ip_addr_format(vteps[0].family, &vteps[0].addr, a, sizeof(a)),
				    "192.0.2.2");
		assert_int_equal(daemon_evpn_vni_vteps(&w->d, 101, vteps, 1), -ENOENT);
	}
	note(w, "networks of VNI 100 (FRR has 192.0.2.2 carrying it) and 101 (no other host): network "
		"show lists the other hosts; a reflector without configured peers has no problem with 101");
	assert_int_equal(w->d.link.ops->link_set_mtu(w->d.link.userdata, ifindex, 9000), 0);
	assert_true(request(w, "network.create",
			    "{\"name\": \"span\", \"mode\": \"evpn\", \"vni\": 100, "
			    "\"subnet\": \"10.77.0.0/24\"}"));
	assert_true(request(w, "network.create",
			    "{\"name\": \"lone\", \"mode\": \"evpn\", \"vni\": 101, "
			    "\"subnet\": \"10.78.0.0/24\"}"));
	assert_string_equal(show_field(w, "span", "vxlan.remote_vteps"), "[ \"192.0.2.2\" ]");
	assert_string_equal(show_field(w, "lone", "vxlan.remote_vteps"), "[ ]");
	assert_string_equal(show_field(w, "lone", "state"), "active");

	note(w, "netd restarts: the same text, nothing applied");
	evpn_restart(w);

	note(w, "netd.conf gives a peer, reload: applied; frr-reload.py fails");
	snprintf(path, sizeof(path), "%s/netd.conf", w->d.paths.config_dir);
	assert_int_equal(mkdir_p(w->d.paths.config_dir, 0755), 0);
	assert_int_equal(write_file_atomic(path, "[evpn]\npeers = 192.0.2.9\n", 24, 0644), 0);
	assert_int_equal(proc_fake_set_run(w->proc, reload,
					   "line 3: % Unknown command: x\nvtysh failed: error\n", 1 << 8),
			 0);
	assert_true(request(w, "daemon.reload", "{}"));
	run_for(w, 300 * 1000);
	evpn_status_line(w);
	note(w, "with a configured peer: VNI 101, seen from no other host, is a problem; VNI 100's is "
		"FRR's: the configuration not applied (status's first problem)");
	assert_string_equal(show_field(w, "lone", "state"), "degraded");
	assert_non_null(strstr(show_field(w, "lone", "problem"), "VNI 101 is seen from no other host"));
	assert_string_equal(show_field(w, "span", "state"), "degraded");
	assert_non_null(strstr(show_field(w, "span", "problem"), "FRR's configuration is not applied: "));
	note(w, "doctor of span: steps vxlan, bgp (failed) and evpn vni");
	assert_true(doctor(w, "{\"name\": \"span\"}"));
	assert_false(doctor_ok(w));
	assert_string_equal(doctor_step(w, "span", "vxlan"), "ok");
	assert_string_equal(doctor_step(w, "span", "bgp"), "fail");
	assert_string_equal(doctor_step(w, "span", "evpn vni"), "ok");
	assert_string_equal(doctor_step(w, "span", "mtu"), "skip");

	note(w, "a bad netd.conf: refused, named in the reply");
	assert_int_equal(write_file_atomic(path, "[evpn]\nasn = 0\n", 15, 0644), 0);
	assert_true(request(w, "daemon.reload", "{}"));
	put_text(w, "  reload errors: ",
		 json_object_to_json_string_ext(
			 json_object_object_get(json_object_object_get(w->reply, "result"), "errors"),
			 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	note(w, "FRR stops answering");
	assert_int_equal(
		proc_fake_set_run(w->proc, vtysh, "Exiting: failed to connect to any daemons.\n", 1 << 8), 0);
	run_for(w, 2200 * 1000);
	evpn_status_line(w);
	assert_int_equal(daemon_evpn_vni_vteps(&w->d, 100, NULL, 0), -ENODATA);
	note(w, "FRR silent: the other hosts unknown (null); the network's problem is FRR's");
	assert_string_equal(show_field(w, "span", "vxlan.remote_vteps"), "null");
	assert_string_equal(show_field(w, "lone", "state"), "degraded");
	assert_non_null(strstr(show_field(w, "lone", "problem"), "FRR"));
	put_text(w, "  lone's problem: ", show_field(w, "lone", "problem"));
	check_golden(w, "evpn.log");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_modes_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_evpn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_fails_each_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_adopts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forwards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forwards_subnets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_skips_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_dns_root_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward6_keeps_ra, setup, teardown),
		cmocka_unit_test_setup_teardown(test_portsec_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_portsec_ipv6_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_portsec_leases6_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_portsec_subnets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_show_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nic_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_live_failures, setup, teardown),
		cmocka_unit_test(test_vm_ipv6_collect_cap),
		cmocka_unit_test_setup_teardown(test_guest_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_define, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_define_inherit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_clone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_follows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_firewall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_firewall_integration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doctor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evpn, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
