/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control socket: accept, check the peer, read request lines, dispatch, queue replies and events
 * for each peer, and hold the limits of control-limits.h. */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control-limits.h"
#include "daemon.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "protocol.h"

/* The listening side. */
struct control {
	sd_event_source *listen_source;
	sd_event_source *resume_timer; /* accept() paused for lack of fds: listen again */
	bool paused;
	unsigned n_unprivileged; /* clients whose peer is not root (CONTROL_CLIENTS_MAX) */
	struct control_ratelimit refused_log, pause_log;
};

struct client {
	struct daemon *daemon;
	struct client *next;
	int fd;
	sd_event_source *source;
	sd_event_source *timer; /* the deadline that applies now (control_conn_deadline) */
	char *buf;		/* bytes received and not dispatched yet */
	size_t len;
	struct outq out;	/* replies, progress lines and events the peer has not taken yet */
	uint64_t partial_since; /* when the first byte of the unfinished line in buf came */
	uint64_t progress;	/* accepted, last reply queued, or last bytes the peer took */
	uint64_t seq;		/* events queued for this monitor */
	uint64_t dropped;	/* events it missed after it fell behind */
	struct call *call;	/* the request being answered; the next one waits for it and its reply */
	bool dispatching;
	bool eof;
	bool monitor;	      /* its call is daemon.monitor: events go to it until it hangs up */
	bool overflow;	      /* the monitor fell behind: an overflow line, then the connection closes */
	bool overflow_queued; /* that line is in the queue */
	bool dead;	      /* gone, broke the protocol or timed out: freed at the next turn of the loop */
	struct ucred cred;
	struct peer_cred peer;
};

static uint64_t now_usec(struct daemon *d)
{
	uint64_t t = 0;

	sd_event_now(d->event, CLOCK_MONOTONIC, &t);
	return t;
}

static double now_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool client_has_line(const struct client *c)
{
	return c->len > 0 && memchr(c->buf, '\n', c->len);
}

static void accept_resume(struct daemon *d)
{
	struct control *ctl = d->control;

	if (!ctl || !ctl->paused)
		return;
	ctl->paused = false;
	sd_event_source_set_enabled(ctl->listen_source, SD_EVENT_ON);
}

static void client_free(struct client *c)
{
	struct daemon *d = c->daemon;
	struct client **p;

	for (p = &d->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	sd_event_source_disable_unref(c->source);
	sd_event_source_disable_unref(c->timer);
	if (c->call && c->monitor)
		free(c->call); /* a monitor's call never ends otherwise */
	else if (c->call)
		c->call->client = NULL; /* a late reply goes nowhere */
	close(c->fd);
	free(c->buf);
	outq_free(&c->out);
	if (c->peer.uid != 0 && d->control)
		d->control->n_unprivileged--;
	free(c);
	accept_resume(d); /* a paused accept may have its fd now */
}

/* Whether the connection has nothing left to do. */
static bool client_done(const struct client *c)
{
	if (c->dead || (c->monitor && c->eof))
		return true;
	if (outq_pending(&c->out) || (c->overflow && !c->overflow_queued))
		return false;
	return c->overflow_queued || (c->eof && !c->call && c->len == 0);
}

static enum control_deadline client_deadline(const struct client *c, uint64_t *ret_usec)
{
	struct control_conn s = {
		.dead = c->dead,
		.overflow = c->overflow,
		.call = c->call,
		.output = outq_pending(&c->out) > 0,
		.partial = c->len > 0 && !client_has_line(c),
		.partial_since = c->partial_since,
		.progress = c->progress,
	};

	return control_conn_deadline(&s, ret_usec);
}

/* After any change: what to wait for (input only while no complete request waits, output while some
 * is queued), and the timer of the deadline that applies. A dead client is freed by its timer, so
 * that no caller holding it sees it go. */
static void client_update(struct client *c)
{
	uint32_t events = 0;
	uint64_t when = 0;

	if (client_done(c))
		c->dead = true;
	if (!c->dead && !c->eof && !client_has_line(c))
		events |= EPOLLIN;
	if (!c->dead && outq_pending(&c->out))
		events |= EPOLLOUT;
	/* Off rather than an empty mask: EPOLLHUP would still be reported, over and over. */
	if (events)
		sd_event_source_set_io_events(c->source, events);
	sd_event_source_set_enabled(c->source, events ? SD_EVENT_ON : SD_EVENT_OFF);
	if (client_deadline(c, &when) == CONTROL_DEADLINE_NONE) {
		sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(c->timer, when);
	sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static void overflow_queue(struct client *c)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	const char *s;

	/* seq: the number the first missed event would have had. */
	json_object_object_add(o, "seq", json_object_new_uint64(c->seq + 1));
	json_object_object_add(o, "event", json_object_new_string("overflow"));
	json_object_object_add(o, "dropped", json_object_new_uint64(c->dropped));
	json_object_object_add(o, "time", json_object_new_double(now_realtime()));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	c->overflow_queued = true;
	if (outq_appendv(&c->out, (struct iovec[]){ { (char *)s, strlen(s) }, { "\n", 1 } }, 2) < 0)
		c->dead = true;
}

/* Hand the peer what it takes now; the rest waits for EPOLLOUT. */
static void client_flush(struct client *c)
{
	while (!c->dead) {
		size_t n = outq_pending(&c->out);
		ssize_t k;

		if (n == 0 && c->overflow && !c->overflow_queued) {
			overflow_queue(c); /* after every event queued before the overflow */
			continue;
		}
		if (n == 0)
			return;
		k = send(c->fd, outq_head(&c->out), n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return;
		if (k <= 0) {
			c->dead = true;
			outq_free(&c->out);
			return;
		}
		outq_consume(&c->out, k);
		c->progress = now_usec(c->daemon);
	}
}

/* Queue whole lines: a reply, however large, is never cut; a peer that reads slowly gets it later. */
static void client_queue(struct client *c, const struct iovec *iov, size_t n)
{
	if (c->dead)
		return;
	if (outq_appendv(&c->out, iov, n) < 0)
		c->dead = true;
	client_flush(c);
	client_update(c);
}

static void client_send_line(struct client *c, const char *s)
{
	client_queue(c, (struct iovec[]){ { (char *)s, strlen(s) }, { "\n", 1 } }, 2);
}

static void client_send(struct client *c, json_object *o)
{
	client_send_line(c, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

/* An error line for a peer that broke the rules; the connection closes once it is sent. */
static void client_fail(struct client *c, const char *msg, const char *errno_name)
{
	_cleanup_json_ json_object *reply = json_object_new_object();

	json_object_object_add(reply, "ok", json_object_new_boolean(false));
	json_object_object_add(reply, "error", json_object_new_string(msg));
	json_object_object_add(reply, "errno", json_object_new_string(errno_name));
	if (c->call && !c->monitor) {
		c->call->client = NULL; /* its reply goes nowhere */
		c->call = NULL;
	}
	c->eof = true; /* nothing more is read */
	c->len = 0;
	client_send(c, reply);
}

static void client_process(struct client *c);

/* A reply past CONTROL_REPLY_MAX becomes an error saying so (the call's work is done: only its
 * answer is lost). */
static json_object *reply_bounded(json_object *reply, const char **ret_line)
{
	/* '/' unescaped: base64 is full of them, and a screenshot must not take twice its size */
	const char *s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN |
								      JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s);
	char msg[256];

	if (control_reply_fits(len)) {
		*ret_line = s;
		return reply;
	}
	log_error("a reply of %zu bytes is larger than the control socket's %d: sent as an error", len,
		  CONTROL_REPLY_MAX);
	snprintf(msg, sizeof(msg), "the reply would be %zu bytes, more than netd sends (%d MiB)", len,
		 CONTROL_REPLY_MAX / (1024 * 1024));
	json_object_put(reply);
	reply = json_object_new_object();
	json_object_object_add(reply, "ok", json_object_new_boolean(false));
	json_object_object_add(reply, "error", json_object_new_string(msg));
	json_object_object_add(reply, "errno", json_object_new_string("EMSGSIZE"));
	*ret_line = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	return reply;
}

static void call_finish(struct call *call, json_object *reply)
{
	struct client *c = call->client;
	const char *line;

	reply = reply_bounded(reply, &line);
	if (!c && call->on_reply)
		call->on_reply(call, reply);
	if (c) {
		client_send_line(c, line);
		c->call = NULL;
		c->progress = now_usec(c->daemon);
		if (c->len > 0)
			c->partial_since = c->progress; /* what came during the call gets its own time */
	}
	json_object_put(reply);
	free(call);
	if (c && !c->dispatching)
		client_process(c);
}

void call_reply(struct call *call, json_object *result)
{
	json_object *reply = json_object_new_object();

	json_object_object_add(reply, "ok", json_object_new_boolean(true));
	json_object_object_add(reply, "result", result ? result : json_object_new_object());
	call_finish(call, reply);
}

int call_errorf(struct call *c, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return error;
}

static void call_fail(struct call *call, int error)
{
	json_object *reply = json_object_new_object();

	json_object_object_add(reply, "ok", json_object_new_boolean(false));
	json_object_object_add(reply, "error", json_object_new_string(call->err[0] ? call->err : strerror(-error)));
	json_object_object_add(reply, "errno", json_object_new_string(strerrorname_np(-error) ?: "EIO"));
	call_finish(call, reply);
}

void call_reply_error(struct call *call, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(call->err, sizeof(call->err), fmt, ap);
	va_end(ap);
	call_fail(call, error);
}

void call_progress(struct call *call, const char *fmt, ...)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	char text[1024];
	va_list ap;

	if (!call->client && !call->on_progress)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!call->client) {
		call->on_progress(call, text);
		return;
	}
	json_object_object_add(o, "progress", json_object_new_string(text));
	client_send(call->client, o);
}

bool call_client_gone(const struct call *call)
{
	const struct client *c = call->client;

	struct pollfd p;

	if (!c)
		return !call->on_reply; /* a call without a client from the start is a test's */
	if (c->dead)
		return true;
	/* Asked of the socket, not of what netd read so far (its hang-up may not be read yet). A
	 * client that only shut its writing side (shutdown(SHUT_WR), as socat does at the end of its
	 * input) still reads replies and is not gone, as for every other request: POLLHUP is both
	 * sides shut, the peer closed. */
	p = (struct pollfd){ .fd = c->fd };
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

/* Every area of methods: a new area is its table in its own file and one line here. */
/* clang-format off */
static const struct method_area *const areas[] = {
	/* clang-format off */
	&network_methods,
	&forward_methods,
	&doctor_methods,
	&guest_methods,
	&disk_methods,
	&vm_live_methods,
	&vm_nic_methods,
	&vm_snapshot_methods,
	&define_methods,
	&guest_look_methods,
	&clone_methods,
	&uplink_methods,
	&daemon_methods,
	/* clang-format on */
};
/* clang-format on */

const struct method *method_find(const char *name)
{
	for (size_t a = 0; a < ELEMENTSOF(areas); a++)
		for (size_t i = 0; i < areas[a]->n; i++)
			if (!strcmp(areas[a]->methods[i].name, name))
				return &areas[a]->methods[i];
	return NULL;
}

/* Who changed what: a request that names a network or a guest (its "name") carries that object's
 * field in the journal, so that journalctl NETWORK=lab shows who changed lab. */
static void log_request(const struct method *m, const struct call *call, json_object *params)
{
	json_object *v = NULL;
	const char *name = NULL, *kind;
	bool net = !strncmp(m->name, "network.", 8), vm = !strncmp(m->name, "vm.", 3),
	     uplink = !strncmp(m->name, "uplink.", 7);

	if ((net || vm) && json_object_object_get_ex(params, "name", &v) &&
	    json_object_is_type(v, json_type_string) && object_name_valid(json_object_get_string(v)))
		name = json_object_get_string(v);
	if (uplink && json_object_object_get_ex(params, "bridge", &v) &&
	    json_object_is_type(v, json_type_string) && ifname_valid(json_object_get_string(v)))
		name = json_object_get_string(v);
	if (!name) {
		log_info("request %s from uid %u (pid %d)", m->name, (unsigned)call->uid,
			 (int)call->peer.pid);
		return;
	}
	kind = net ? "network" : vm ? "guest" : "bridge";
	log_obj(LOG_INFO,
		LOG_OBJ(.network = net ? name : NULL, .guest = vm ? name : NULL,
			.bridge = uplink ? name : NULL),
		"request %s of %s '%s' from uid %u (pid %d)", m->name, kind, name, (unsigned)call->uid,
		(int)call->peer.pid);
}

int method_call(struct daemon *d, const struct method *m, struct call *call, json_object *params)
{
	struct client *c = call->client;
	int r;

	if ((m->flags & METHOD_ROOT) && call->uid != 0)
		return call_errorf(call, -EPERM, "'%s' is accepted from root only (uid %u asked)", m->name,
				   (unsigned)call->uid);
	/* Who changed what (root-only methods come from netd's own helpers and log what they did). */
	if ((m->flags & METHOD_CHANGE) && !(m->flags & METHOD_ROOT))
		log_request(m, call, params);
	r = m->fn(d, call, params);
	/* A method that is not declared async answers before it returns. */
	if (r >= 0 && !(m->flags & METHOD_ASYNC) && c && c->call == call) {
		log_error("method %s returned without a reply", m->name);
		return call_errorf(call, -EIO, "internal error: '%s' gave no reply", m->name);
	}
	return r;
}

static void dispatch(struct client *c, const char *line, size_t len)
{
	_cleanup_json_ json_object *req = NULL;
	struct call *call = calloc(1, sizeof(*call));
	const struct method *m;
	json_object *params;
	const char *method;
	int r;

	if (!call) {
		c->dead = true;
		return;
	}
	call->client = c;
	call->uid = c->cred.uid;
	call->peer = c->peer;
	c->call = call;
	r = protocol_request_parse(line, len, &req, &method, &params, call->err, sizeof(call->err));
	if (r < 0) {
		log_debug("request from pid %d refused: %s", (int)c->cred.pid, call->err);
		call_fail(call, r);
		return;
	}
	m = method_find(method);
	if (!m) {
		call_errorf(call, -EOPNOTSUPP, "unknown method '%s'", method);
		call_fail(call, -EOPNOTSUPP);
		return;
	}
	log_debug("request %s from pid %d uid %d", method, (int)c->cred.pid, (int)c->cred.uid);
	r = method_call(c->daemon, m, call, params);
	if (r < 0)
		call_fail(call, r);
	daemon_trim_later(c->daemon);
}

/* Handle complete lines in the buffer, one request at a time: the next waits until the previous
 * one is answered and its reply taken, so a peer that pipelines requests and reads nothing makes
 * netd queue one reply, not one per request. */
static void client_process(struct client *c)
{
	while (!c->call && !c->dead && !outq_pending(&c->out)) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		_cleanup_free_ char *line = NULL;
		size_t used;

		if (!nl && c->eof && c->len) /* a last request without a newline still counts */
			nl = c->buf + c->len;
		if (!nl)
			break;
		used = nl - c->buf;
		line = strndup(c->buf, used);
		if (!line) {
			c->dead = true;
			break;
		}
		used = used < c->len ? used + 1 : used;
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		if (c->len > 0)
			c->partial_since = now_usec(c->daemon);
		c->dispatching = true;
		dispatch(c, line, strlen(line));
		c->dispatching = false;
	}
	client_update(c);
}

void control_monitor(struct call *call)
{
	struct client *c = call->client;

	if (!c)
		return;
	c->monitor = true;
	c->len = 0; /* a monitor has nothing more to say: what it sends is dropped */
	call_progress(call, "watching netd's events (Ctrl-C to stop)");
}

/* One event line to one monitor, numbered; one that would not fit starts the overflow. */
static void monitor_send(struct client *c, const char *s, size_t len)
{
	char seq[48];
	int n;

	if (c->overflow) {
		c->dropped++;
		return;
	}
	/* s is a JSON object: "{" "seq":N, and the rest of it. */
	n = snprintf(seq, sizeof(seq), "{\"seq\":%" PRIu64 "%s", c->seq + 1, len > 2 ? "," : "");
	if (!control_monitor_fits(outq_pending(&c->out), n + len)) {
		c->overflow = true;
		c->dropped = 1;
		c->progress = now_usec(c->daemon); /* the drain deadline counts from here */
		log_info("monitor of pid %d uid %u fell %zu bytes behind: it gets an overflow event and is "
			 "disconnected", (int)c->cred.pid, (unsigned)c->cred.uid, outq_pending(&c->out));
		client_flush(c);
		client_update(c);
		return;
	}
	c->seq++;
	client_queue(c, (struct iovec[]){ { seq, n }, { (char *)s + 1, len - 1 }, { "\n", 1 } }, 3);
}

void daemon_event(struct daemon *d, const char *type, json_object *data)
{
	const char *s;
	size_t len;

	json_object_object_add(data, "event", json_object_new_string(type));
	json_object_object_add(data, "time", json_object_new_double(now_realtime()));
	s = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN);
	len = strlen(s);
	for (struct client *c = d->clients; c; c = c->next)
		if (c->monitor && !c->eof && !c->dead)
			monitor_send(c, s, len);
	json_object_put(data);
}

static void client_read(struct client *c)
{
	char *nb = realloc(c->buf, c->len + 4096 + 1);
	ssize_t n;

	if (!nb) {
		c->dead = true;
		return;
	}
	c->buf = nb;
	n = recv(c->fd, c->buf + c->len, 4096, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		c->dead = true;
		return;
	}
	if (n == 0) {
		c->eof = true;
		return;
	}
	if (c->monitor)
		return;
	if (c->len == 0)
		c->partial_since = now_usec(c->daemon);
	c->len += n;
	if (c->len > PROTOCOL_MAX_LINE && !client_has_line(c)) {
		char msg[128];

		snprintf(msg, sizeof(msg), "malformed request: longer than %d bytes", PROTOCOL_MAX_LINE);
		client_fail(c, msg, "EMSGSIZE");
	}
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *c = userdata;

	if (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		client_flush(c);
	if ((revents & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !c->eof && !c->dead)
		client_read(c);
	client_process(c);
	if (c->dead)
		client_free(c);
	return 0;
}

static int on_client_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct client *c = userdata;
	enum control_deadline dl;
	uint64_t when = 0;

	dl = client_deadline(c, &when);
	if (dl == CONTROL_DEADLINE_NONE || (dl != CONTROL_DEADLINE_CLOSE && when > now_usec(c->daemon))) {
		client_update(c); /* the deadline moved */
		return 0;
	}
	if (dl != CONTROL_DEADLINE_CLOSE)
		log_debug("control connection of pid %d uid %u: %s timeout, closing it", (int)c->cred.pid,
			  (unsigned)c->cred.uid, control_deadline_to_string(dl));
	if (dl == CONTROL_DEADLINE_PARTIAL) {
		char msg[160];

		snprintf(msg, sizeof(msg),
			 "request timed out: no complete line (ending in a newline) within %llu s",
			 CONTROL_PARTIAL_TIMEOUT_USEC / CONTROL_USEC_PER_SEC);
		client_fail(c, msg, "ETIMEDOUT"); /* closes once sent, or at the idle timeout */
		return 0;
	}
	client_free(c);
	return 0;
}

/* The peer's uid, gid and supplementary groups. A peer with more groups than we keep is refused
 * (-E2BIG): checks made with a cut list could answer wrongly. */
static int peer_read(int fd, struct peer_cred *ret)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct peer_cred p = {};

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return negative_errno();
	p.pid = cred.pid;
	p.uid = cred.uid;
	p.gid = cred.gid;
	len = sizeof(p.groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p.groups, &len) < 0)
		return errno == ERANGE ? -E2BIG : negative_errno();
	p.n_groups = len / sizeof(gid_t);
	*ret = p;
	return 0;
}

static bool peer_authorized(struct daemon *d, const struct peer_cred *p)
{
	if (p->uid == 0)
		return true;
	if (d->netd_gid == (gid_t)-1)
		return false;
	if (p->gid == d->netd_gid)
		return true;
	for (size_t i = 0; i < p->n_groups; i++)
		if (p->groups[i] == d->netd_gid)
			return true;
	return false;
}

/* One error line to a peer that gets no connection; as much as its socket takes now. */
static void send_error_now(int fd, const char *msg, const char *errno_name)
{
	_cleanup_json_ json_object *reply = json_object_new_object();
	char line[512];
	int n;

	json_object_object_add(reply, "ok", json_object_new_boolean(false));
	json_object_object_add(reply, "error", json_object_new_string(msg));
	json_object_object_add(reply, "errno", json_object_new_string(errno_name));
	n = snprintf(line, sizeof(line), "%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN));
	if (n > 0 && (size_t)n < sizeof(line))
		send(fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void refuse(int fd, const struct ucred *cred)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "permission denied: uid %u is neither root nor in group 'netd'",
		 (unsigned)cred->uid);
	send_error_now(fd, msg, "EPERM");
	log_warning("refused control connection from pid %d uid %u: not root and not in group 'netd'",
		    (int)cred->pid, (unsigned)cred->uid);
}

/* "; N more times since the last message", for a rate-limited message. */
static const char *repeats(unsigned n, char *buf, size_t size)
{
	snprintf(buf, size, "; %u more time%s since the last message", n, n == 1 ? "" : "s");
	return n ? buf : "";
}

static void refuse_busy(struct daemon *d, int fd, const struct ucred *cred)
{
	char msg[256], buf[64];
	unsigned more;

	snprintf(msg, sizeof(msg),
		 "too many connections to netd (%d open by users other than root); try again later",
		 CONTROL_CLIENTS_MAX);
	send_error_now(fd, msg, "EUSERS");
	if (control_ratelimit_check(&d->control->refused_log, now_usec(d), &more))
		log_warning("refusing control connections of users other than root: %d are open, the limit "
			    "(latest: pid %d uid %u%s)", CONTROL_CLIENTS_MAX, (int)cred->pid, (unsigned)cred->uid,
			    repeats(more, buf, sizeof(buf)));
}

/* No fd (or memory) for a new connection: accept() would fail again at once, and the listening
 * socket stays readable, so stop listening until a client closes or a moment has passed. */
static void accept_pause(struct daemon *d, int error)
{
	struct control *ctl = d->control;
	struct rlimit rl = {};
	char buf[64];
	unsigned more;

	ctl->paused = true;
	sd_event_source_set_enabled(ctl->listen_source, SD_EVENT_OFF);
	sd_event_source_set_time_relative(ctl->resume_timer, CONTROL_ACCEPT_PAUSE_USEC);
	sd_event_source_set_enabled(ctl->resume_timer, SD_EVENT_ONESHOT);
	if (!control_ratelimit_check(&ctl->pause_log, now_usec(d), &more))
		return;
	getrlimit(RLIMIT_NOFILE, &rl);
	log_warning("cannot accept control connections: %s (open files limit %ju); not accepting until a "
		    "client closes, retrying every %llu ms%s", strerror(-error), (uintmax_t)rl.rlim_cur,
		    CONTROL_ACCEPT_PAUSE_USEC / 1000, repeats(more, buf, sizeof(buf)));
}

static int on_accept_resume(sd_event_source *s, uint64_t usec, void *userdata)
{
	accept_resume(userdata);
	return 0;
}

static int client_new(struct daemon *d, int fd, const struct peer_cred *peer)
{
	struct client *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->daemon = d;
	c->peer = *peer;
	c->cred = (struct ucred){ .pid = peer->pid, .uid = peer->uid, .gid = peer->gid };
	c->fd = fd;
	c->progress = now_usec(d);
	r = sd_event_add_io(d->event, &c->source, fd, EPOLLIN, on_client_io, c);
	if (r >= 0)
		r = sd_event_add_time(d->event, &c->timer, CLOCK_MONOTONIC,
				      c->progress + CONTROL_IDLE_TIMEOUT_USEC, 100 * 1000, on_client_timer, c);
	if (r < 0) {
		sd_event_source_unref(c->source);
		free(c);
		return r;
	}
	c->next = d->clients;
	d->clients = c;
	if (peer->uid != 0)
		d->control->n_unprivileged++;
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	_cleanup_close_ int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct peer_cred peer;
	struct ucred cred;
	int r;

	if (cfd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			accept_pause(d, -errno);
		return 0;
	}
	r = peer_read(cfd, &peer);
	if (r < 0) {
		log_warning("refused a control connection: cannot read the peer's credentials: %s", strerror(-r));
		return 0;
	}
	cred = (struct ucred){ .pid = peer.pid, .uid = peer.uid, .gid = peer.gid };
	if (!peer_authorized(d, &peer)) {
		refuse(cfd, &cred);
		return 0;
	}
	if (!control_admit(peer.uid, d->control->n_unprivileged)) {
		refuse_busy(d, cfd, &cred);
		return 0;
	}
	r = client_new(d, cfd, &peer);
	if (r < 0) {
		log_warning("cannot take the control connection of pid %d: %s", (int)peer.pid, strerror(-r));
		return 0;
	}
	TAKE_FD(cfd);
	return 0;
}

int control_listen(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct control *ctl;
	struct group *g;
	mode_t old;
	int r;

	if (strlen(d->paths.socket) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, d->paths.socket);
	ctl = d->control = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* We hold the run dir lock, so a socket file left here is stale. */
	unlink(sa.sun_path);
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return -errno;
	g = getgrnam("netd");
	d->netd_gid = g ? g->gr_gid : (gid_t)-1;
	if (g && chown(sa.sun_path, 0, g->gr_gid) < 0)
		log_warning("cannot give %s to group 'netd': %m", sa.sun_path);
	if (!g)
		log_info("no group 'netd' on this host: only root may use %s", sa.sun_path);
	if (chmod(sa.sun_path, 0660) < 0 || listen(fd, 64) < 0)
		return -errno;
	r = sd_event_add_time_relative(d->event, &ctl->resume_timer, CLOCK_MONOTONIC,
				       CONTROL_ACCEPT_PAUSE_USEC, 0, on_accept_resume, d);
	if (r < 0)
		return r;
	sd_event_source_set_enabled(ctl->resume_timer, SD_EVENT_OFF);
	r = sd_event_add_io(d->event, &ctl->listen_source, fd, EPOLLIN, on_accept, d);
	if (r < 0)
		return r;
	d->listen_fd = TAKE_FD(fd);
	return 0;
}

void control_close_all(struct daemon *d)
{
	while (d->clients)
		client_free(d->clients);
	if (d->control) {
		sd_event_source_disable_unref(d->control->listen_source);
		sd_event_source_disable_unref(d->control->resume_timer);
		free(d->control);
		d->control = NULL;
	}
}
