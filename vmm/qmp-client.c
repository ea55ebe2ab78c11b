/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QMP client: connect (retrying while QEMU creates the socket), read the greeting, send
 * qmp_capabilities, then commands with ids; events go to the owner. Never blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "qmp.h"

static inline void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}

#define QMP_LINE_MAX (1024 * 1024)
#define QMP_RETRY_USEC (20 * 1000)

struct pending {
	uint64_t id;
	char *text; /* NULL once sent */
	size_t sent; /* bytes of text the socket took (a partial send goes on from there) */
	int fd; /* sent with the first of the command's bytes (SCM_RIGHTS), then closed; -1 for none */
	qmp_reply_fn fn;
	void *userdata;
};

struct qmp_client {
	sd_event *event;
	char *path;
	int fd;
	sd_event_source *io, *timer;
	uint64_t deadline;
	bool ready;
	bool want_out; /* bytes wait for the socket's room: EPOLLOUT too */
	char *buf;
	size_t len;
	uint64_t next_id;
	struct pending *pending;
	size_t n_pending;
	qmp_event_fn on_event;
	qmp_state_fn on_state;
	void *userdata;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

static void pending_close_fd(struct pending *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* The command's bytes, with its fd attached (QEMU's monitor keeps the fd for add-fd/getfd). */
static ssize_t send_command(int sock, const char *text, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} control = {};
	struct iovec iov = { .iov_base = (void *)text, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (fd < 0)
		return send(sock, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	mh.msg_control = control.buf;
	mh.msg_controllen = sizeof(control.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void io_events(struct qmp_client *c, bool want_out)
{
	if (!c->io || c->want_out == want_out)
		return;
	c->want_out = want_out;
	sd_event_source_set_io_events(c->io, EPOLLIN | EPOLLET | (want_out ? EPOLLOUT : 0));
}

/* Send what the socket takes; a command it takes in part goes on from there when it has room
 * (EPOLLOUT), without its text or fd again. A failed send leaves it to the reading side, which
 * sees the connection end. */
static void flush(struct qmp_client *c)
{
	for (size_t i = 0; c->ready && i < c->n_pending; i++) {
		struct pending *p = &c->pending[i];
		size_t len;
		ssize_t n;

		if (!p->text)
			continue;
		len = strlen(p->text);
		n = send_command(c->fd, p->text + p->sent, len - p->sent, p->sent ? -1 : p->fd);
		if (n > 0) {
			pending_close_fd(p); /* it went with the first byte */
			p->sent += n;
		}
		if (p->sent < len) {
			io_events(c, n >= 0 || errno == EAGAIN || errno == EINTR);
			return;
		}
		free(p->text);
		p->text = NULL;
	}
	io_events(c, false);
}

static int queue(struct qmp_client *c, const char *command, json_object *args, int fd, qmp_reply_fn fn,
		 void *userdata)
{
	_cleanup_(json_putp) json_object *o = json_object_new_object();
	struct pending *l;
	int copy = -1;
	char *text;

	/* A QEMU that never answers (or a caller it makes loop, e.g. on events it streams) must not
	 * grow netd without bound: the command is refused, the connection stays. */
	if (c->n_pending >= QMP_CLIENT_PENDING_MAX) {
		json_object_put(args);
		return -EBUSY;
	}
	l = realloc(c->pending, (c->n_pending + 1) * sizeof(*l));
	if (l)
		c->pending = l;
	/* The copy only once nothing else can fail but the text: no path leaks it. */
	if (l && fd >= 0) {
		copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (copy < 0) {
			int r = -errno;

			json_object_put(args);
			return r;
		}
	}
	if (!l) {
		json_object_put(args);
		return -ENOMEM;
	}
	json_object_object_add(o, "execute", json_object_new_string(command));
	if (args)
		json_object_object_add(o, "arguments", args);
	json_object_object_add(o, "id", json_object_new_uint64(c->next_id));
	if (asprintf(&text, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0) {
		if (copy >= 0)
			close(copy);
		return -ENOMEM;
	}
	c->pending[c->n_pending++] = (struct pending){
		.id = c->next_id++, .text = text, .fd = copy, .fn = fn, .userdata = userdata
	};
	return 0;
}

/* Fail every command still waiting, then tell the owner; the owner may free c. */
static void disconnect(struct qmp_client *c, int error)
{
	struct pending *p = TAKE_PTR(c->pending);
	size_t n = c->n_pending;

	c->n_pending = 0;
	c->io = sd_event_source_disable_unref(c->io);
	c->timer = sd_event_source_disable_unref(c->timer);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->ready = false;
	c->want_out = false;
	for (size_t i = 0; i < n; i++) {
		pending_close_fd(&p[i]);
		if (p[i].fn)
			p[i].fn(c, NULL, p[i].userdata);
		free(p[i].text);
	}
	free(p);
	c->on_state(c, error, c->userdata);
}

static void on_capabilities(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	if (!m || m->type != QMP_MESSAGE_RETURN)
		return;
	c->ready = true;
	flush(c);
	c->on_state(c, 0, c->userdata);
}

static void dispatch_reply(struct qmp_client *c, const struct qmp_message *m)
{
	for (size_t i = 0; i < c->n_pending; i++) {
		struct pending p = c->pending[i];

		if (p.id != m->id || p.text)
			continue;
		memmove(&c->pending[i], &c->pending[i + 1], (c->n_pending - i - 1) * sizeof(p));
		c->n_pending--;
		if (p.fn)
			p.fn(c, m, p.userdata);
		return;
	}
}

static void handle_line(struct qmp_client *c, const char *line, size_t len)
{
	struct qmp_message m;

	if (qmp_message_parse(line, len, &m) < 0)
		return;
	if (m.type == QMP_MESSAGE_GREETING) {
		/* qmp_capabilities goes first, before anything queued while connecting. */
		struct pending *l = realloc(c->pending, (c->n_pending + 1) * sizeof(*l));
		char text[96];

		if (l) {
			c->pending = l;
			c->pending[c->n_pending++] =
				(struct pending){ .id = c->next_id, .fd = -1, .fn = on_capabilities };
			snprintf(text, sizeof(text), "{\"execute\":\"qmp_capabilities\",\"id\":%llu}\n",
				 (unsigned long long)c->next_id++);
			send(c->fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
		}
	} else if (m.type == QMP_MESSAGE_EVENT) {
		c->on_event(c, &m, c->userdata);
	} else if (m.has_id) {
		dispatch_reply(c, &m);
	}
	qmp_message_done(&m);
}

/* One recv into the buffer and the whole lines it completed: 1 to read on, 0 once the socket is
 * empty (EAGAIN) or the connection is gone. */
static int read_some(struct qmp_client *c)
{
	char *nl, *b;
	ssize_t n;

	if (c->len + 4096 > QMP_LINE_MAX) {
		disconnect(c, -EMSGSIZE);
		return 0;
	}
	b = realloc(c->buf, c->len + 4096);
	if (!b) {
		disconnect(c, -ENOMEM);
		return 0;
	}
	c->buf = b;
	n = recv(c->fd, c->buf + c->len, 4096, MSG_DONTWAIT);
	if (n < 0 && errno == EINTR)
		return 1;
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		disconnect(c, n < 0 ? -errno : -ECONNRESET);
		return 0;
	}
	c->len += n;
	while (c->fd >= 0 && (nl = memchr(c->buf, '\n', c->len))) {
		size_t used = nl - c->buf + 1;

		handle_line(c, c->buf, used - 1);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
	return c->fd >= 0;
}

/* Reads per dispatch: a QEMU that writes without end (a guest took it over) must not keep the
 * loop from everything else. */
#define READS_PER_DISPATCH 16

/*
 * Edge-triggered, so read until the socket is empty. Level-triggered, every QMP socket with
 * unread data was polled again at each turn of the loop, which dispatches one source per turn:
 * a netd restarted next to 1000 QEMUs, all greeting at once, spent ~0.5 s in epoll_wait. At most
 * READS_PER_DISPATCH reads at a time, though: then the source is armed again (sd-event never
 * skips an edge-triggered update: EPOLL_CTL_MOD reports a socket still readable), and the others
 * get their turn first.
 */
static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct qmp_client *c = userdata;

	if (revents & EPOLLOUT)
		flush(c);
	for (int i = 0; i < READS_PER_DISPATCH; i++)
		if (read_some(c) <= 0)
			return 0;
	if (sd_event_source_set_io_events(s, EPOLLIN | EPOLLET | (c->want_out ? EPOLLOUT : 0)) < 0)
		disconnect(c, -EIO);
	return 0;
}

static int try_connect(struct qmp_client *c);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct qmp_client *c = userdata;

	c->timer = sd_event_source_disable_unref(c->timer);
	if (try_connect(c) < 0)
		disconnect(c, -ETIMEDOUT);
	return 0;
}

static int try_connect(struct qmp_client *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(c->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, c->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		if ((r != -ENOENT && r != -ECONNREFUSED && r != -EAGAIN) || now_usec() > c->deadline)
			return r;
		return sd_event_add_time_relative(c->event, &c->timer, CLOCK_MONOTONIC, QMP_RETRY_USEC, 0,
						  on_retry, c);
	}
	c->fd = fd;
	return sd_event_add_io(c->event, &c->io, fd, EPOLLIN | EPOLLET, on_io, c);
}

int qmp_client_new(sd_event *e, const char *path, uint64_t connect_timeout_usec, qmp_event_fn on_event,
		   qmp_state_fn on_state, void *userdata, struct qmp_client **ret)
{
	struct qmp_client *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	*c = (struct qmp_client){ .event = e, .path = strdup(path), .fd = -1, .next_id = 1,
				  .deadline = now_usec() + connect_timeout_usec, .on_event = on_event,
				  .on_state = on_state, .userdata = userdata };
	r = c->path ? try_connect(c) : -ENOMEM;
	if (r < 0) {
		qmp_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int qmp_client_command(struct qmp_client *c, const char *command, json_object *args, qmp_reply_fn fn,
		       void *userdata)
{
	return qmp_client_command_fd(c, command, args, -1, fn, userdata);
}

int qmp_client_command_fd(struct qmp_client *c, const char *command, json_object *args, int fd,
			  qmp_reply_fn fn, void *userdata)
{
	int r = queue(c, command, args, fd, fn, userdata);

	if (r >= 0)
		flush(c);
	return r;
}

bool qmp_client_ready(const struct qmp_client *c)
{
	return c && c->ready;
}

void qmp_client_free(struct qmp_client *c)
{
	if (!c)
		return;
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	if (c->fd >= 0)
		close(c->fd);
	for (size_t i = 0; i < c->n_pending; i++) {
		free(c->pending[i].text);
		pending_close_fd(&c->pending[i]);
	}
	free(c->pending);
	free(c->buf);
	free(c->path);
	free(c);
}
