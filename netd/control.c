/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control socket: accept, check the peer, read request lines, dispatch, write replies. */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"

struct client {
	struct daemon *daemon;
	struct client *next;
	int fd;
	sd_event_source *source;
	char *buf;
	size_t len;
	struct call *call; /* the request being answered; reading pauses meanwhile */
	bool dispatching;
	bool eof;
	bool monitor; /* its call is daemon.monitor: events go to it until it hangs up */
	struct ucred cred;
	struct peer_cred peer;
};

static void client_free(struct client *c)
{
	struct client **p;

	for (p = &c->daemon->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	sd_event_source_disable_unref(c->source);
	if (c->call && c->monitor)
		free(c->call); /* a monitor's call never ends otherwise */
	else if (c->call)
		c->call->client = NULL; /* a late reply goes nowhere */
	close(c->fd);
	free(c->buf);
	free(c);
}

static void client_send(struct client *c, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s), done = 0;

	/* Replies are small and the peer reads them; a peer that does not is dropped. */
	while (done < len) {
		ssize_t n = send(c->fd, s + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		done += n;
	}
	send(c->fd, "\n", 1, MSG_NOSIGNAL);
}

static int client_process(struct client *c);

static void call_finish(struct call *call, json_object *reply)
{
	struct client *c = call->client;

	if (c) {
		client_send(c, reply);
		c->call = NULL;
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

	if (!call->client)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "progress", json_object_new_string(text));
	client_send(call->client, o);
}

static void dispatch(struct client *c, const char *line, size_t len)
{
	_cleanup_json_ json_object *req = NULL;
	struct call *call = calloc(1, sizeof(*call));
	const struct method *m;
	json_object *params;
	const char *method;
	int r;

	if (!call)
		return;
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
	r = m->fn(c->daemon, call, params);
	if (r < 0)
		call_fail(call, r);
	daemon_trim_later(c->daemon);
}

/* Handle complete lines in the buffer, one request at a time. */
static int client_process(struct client *c)
{
	while (!c->call) {
		char *nl = memchr(c->buf, '\n', c->len);
		_cleanup_free_ char *line = NULL;
		size_t used;

		if (!nl && c->eof && c->len) /* a last request without a newline still counts */
			nl = c->buf + c->len;
		if (!nl)
			break;
		used = nl - c->buf;
		line = strndup(c->buf, used);
		if (!line)
			break;
		used = used < c->len ? used + 1 : used;
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		c->dispatching = true;
		dispatch(c, line, strlen(line));
		c->dispatching = false;
	}
	if ((!c->call || c->monitor) && c->eof)
		client_free(c);
	return 0;
}

void control_monitor(struct call *call)
{
	if (!call->client)
		return;
	call->client->monitor = true;
	call_progress(call, "watching netd's events (Ctrl-C to stop)");
}

void daemon_event(struct daemon *d, const char *type, json_object *data)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_object_add(data, "event", json_object_new_string(type));
	json_object_object_add(data, "time", json_object_new_double(ts.tv_sec + ts.tv_nsec / 1e9));
	for (struct client *c = d->clients; c; c = c->next)
		if (c->monitor && !c->eof)
			client_send(c, data);
	json_object_put(data);
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *c = userdata;
	char *nb;
	ssize_t n;

	if (c->len > PROTOCOL_MAX_LINE) {
		struct call call = { .client = c };
		json_object *reply = json_object_new_object();

		snprintf(call.err, sizeof(call.err), "malformed request: longer than %d bytes", PROTOCOL_MAX_LINE);
		json_object_object_add(reply, "ok", json_object_new_boolean(false));
		json_object_object_add(reply, "error", json_object_new_string(call.err));
		client_send(c, reply);
		json_object_put(reply);
		client_free(c);
		return 0;
	}
	nb = realloc(c->buf, c->len + 4096 + 1);
	if (!nb) {
		client_free(c);
		return 0;
	}
	c->buf = nb;
	n = recv(fd, c->buf + c->len, 4096, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		c->eof = true;
		sd_event_source_set_enabled(c->source, SD_EVENT_OFF);
		return client_process(c);
	}
	c->len += n;
	return client_process(c);
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

static void refuse(int fd, const struct ucred *cred)
{
	char msg[256];
	_cleanup_json_ json_object *reply = json_object_new_object();
	const char *s;

	snprintf(msg, sizeof(msg), "permission denied: uid %u is neither root nor in group 'netd'",
		 (unsigned)cred->uid);
	json_object_object_add(reply, "ok", json_object_new_boolean(false));
	json_object_object_add(reply, "error", json_object_new_string(msg));
	json_object_object_add(reply, "errno", json_object_new_string("EPERM"));
	s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	send(fd, s, strlen(s), MSG_NOSIGNAL | MSG_DONTWAIT);
	send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	log_warning("refused control connection from pid %d uid %u: not root and not in group 'netd'",
		    (int)cred->pid, (unsigned)cred->uid);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	_cleanup_close_ int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct peer_cred peer;
	struct ucred cred;
	struct client *c;
	int r;

	if (cfd < 0)
		return 0;
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
	c = calloc(1, sizeof(*c));
	if (!c)
		return 0;
	c->daemon = d;
	c->cred = cred;
	c->peer = peer;
	c->fd = TAKE_FD(cfd);
	if (sd_event_add_io(d->event, &c->source, c->fd, EPOLLIN, on_client_io, c) < 0) {
		close(c->fd);
		free(c);
		return 0;
	}
	c->next = d->clients;
	d->clients = c;
	return 0;
}

int control_listen(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct group *g;
	mode_t old;
	int r;

	if (strlen(d->paths.socket) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, d->paths.socket);
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
	r = sd_event_add_io(d->event, NULL, fd, EPOLLIN, on_accept, d);
	if (r < 0)
		return r;
	d->listen_fd = TAKE_FD(fd);
	return 0;
}

void control_close_all(struct daemon *d)
{
	while (d->clients)
		client_free(d->clients);
}
