/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Looking at a guest: 'vm screenshot' and 'vm console --log' (the methods vm.screenshot and
 * vm.console-log, an area of their own), and the bound on the serial log.
 *
 * screenshot: QEMU (its own user) opens screendump's file itself, so it never gets a path: netd
 * makes a memfd, sends a write-only fd of it with QMP add-fd (SCM_RIGHTS on the QMP socket), has
 * QEMU write the PNG to /dev/fdset/N, removes the fd set and reads the memfd. The PNG goes back
 * in the reply (base64, at most GUEST_SCREENSHOT_MAX); netdctl writes the file with the caller's
 * own rights.
 *
 * serial log: <run>/guests/NAME/serial.log, appended to by QEMU (an fd netd opened O_APPEND). It is
 * kept across starts; a timer looks at the running guests' logs every SERIAL_CHECK_USEC and one
 * past GUEST_SERIAL_LOG_MAX is copied to serial.log.1 and emptied (copy-and-truncate: QEMU's fd
 * appends, so it writes at the new end). A start rotates a log past the bound the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "control-limits.h"
#include "daemon.h"
#include "fileio.h"
#include "guest-look.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "vm-files.h"
#include "vm-store.h"
#include "vm.h"

#define SERIAL_CHECK_USEC (2 * 1000 * 1000)

/* What these methods reply fits in a reply line: a screenshot in base64 ('/' is not escaped in
 * replies); the console's text, each byte escaped at worst ("\\", "\""), with each line's quotes
 * and comma. */
_Static_assert((GUEST_SCREENSHOT_MAX + 2) / 3 * 4 + 4096 <= CONTROL_REPLY_MAX,
	       "a screenshot must fit in a reply");
_Static_assert(2 * GUEST_CONSOLE_TEXT_MAX + 3 * GUEST_CONSOLE_LINES_MAX + 4096 <= CONTROL_REPLY_MAX,
	       "the console log must fit in a reply");

/* One screenshot under way: QMP add-fd, screendump, remove-fd, then the reply. A QEMU that does
 * not answer within SHOT_TIMEOUT_USEC fails the call; the shot then waits (without the call and
 * the memfd) for QEMU's answers, to remove the fd set once its number is known. */
struct shot {
	struct vm *vm;
	struct call *call; /* NULL once answered (timed out) */
	int memfd;
	int fdset; /* -1 until add-fd answered */
	sd_event_source *timer;
	char error[512];
	struct shot *next;
};

#define SHOT_TIMEOUT_USEC (10 * 1000 * 1000)
/* Screenshots of one guest under way at once, those that timed out included. */
#define SHOTS_PER_GUEST_MAX 4

static struct shot *shots;
static sd_event_source *serial_timer;

static void shot_free(struct shot *s)
{
	for (struct shot **p = &shots; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	sd_event_source_disable_unref(s->timer);
	if (s->memfd >= 0)
		close(s->memfd);
	free(s);
}

/* The call's error reply (if it is still waiting for one). */
static void shot_answer_error(struct shot *s, int error, const char *fmt, const char *detail)
{
	char msg[768];

	if (!s->call)
		return;
	snprintf(msg, sizeof(msg), fmt, s->vm->def.name, detail ?: "");
	call_reply_error(TAKE_PTR(s->call), error, "%s", msg);
}

static void shot_fail(struct shot *s, int error, const char *fmt, const char *detail)
{
	shot_answer_error(s, error, fmt, detail);
	shot_free(s);
}

/* The PNG QEMU wrote into the memfd, as the reply. */
static void shot_reply(struct shot *s)
{
	struct stat st;
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *b64 = NULL;
	uint32_t w, h;
	json_object *o;

	if (fstat(s->memfd, &st) < 0 || st.st_size <= 0)
		return shot_fail(s, -EIO, "guest '%s': QEMU wrote no image%s", NULL);
	if (st.st_size > GUEST_SCREENSHOT_MAX)
		return shot_fail(s, -EFBIG, "guest '%s': the screenshot is larger than 4 MiB%s", NULL);
	buf = malloc(st.st_size);
	if (!buf || pread(s->memfd, buf, st.st_size, 0) != st.st_size)
		return shot_fail(s, -EIO, "guest '%s': cannot read the screenshot%s", NULL);
	if (guest_png_size(buf, st.st_size, &w, &h) < 0)
		return shot_fail(s, -EBADMSG, "guest '%s': QEMU's screendump is not a PNG%s", NULL);
	b64 = guest_base64_encode(buf, st.st_size);
	if (!b64)
		return shot_fail(s, -ENOMEM, "guest '%s': out of memory%s", NULL);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(s->vm->def.name));
	json_object_object_add(o, "format", json_object_new_string("png"));
	json_object_object_add(o, "width", json_object_new_int64(w));
	json_object_object_add(o, "height", json_object_new_int64(h));
	json_object_object_add(o, "size", json_object_new_int64(st.st_size));
	json_object_object_add(o, "data", json_object_new_string(b64));
	call_reply(TAKE_PTR(s->call), o);
	shot_free(s);
}

static void on_remove_fd(struct qmp_client *q, const struct qmp_message *m, void *userdata)
{
	struct shot *s = userdata;

	if (!m || m->type != QMP_MESSAGE_RETURN)
		log_guest(LOG_DEBUG, s->vm->def.name, "guest '%s': remove-fd of fd set %d failed",
			  s->vm->def.name, s->fdset);
	if (!s->call)
		return shot_free(s);
	if (s->error[0]) {
		call_reply_error(TAKE_PTR(s->call), -EIO, "%s", s->error);
		return shot_free(s);
	}
	shot_reply(s);
}

static void remove_fdset(struct shot *s)
{
	json_object *args = json_object_new_object();

	json_object_object_add(args, "fdset-id", json_object_new_int(s->fdset));
	if (qmp_client_command(s->vm->qmp, "remove-fd", args, on_remove_fd, s) < 0)
		on_remove_fd(s->vm->qmp, NULL, s);
}

static void on_screendump(struct qmp_client *q, const struct qmp_message *m, void *userdata)
{
	struct shot *s = userdata;

	if (!m)
		return shot_fail(s, -ECONNRESET, "guest '%s': QMP connection lost during the screenshot%s",
				 NULL);
	if (m->type == QMP_MESSAGE_ERROR)
		snprintf(s->error, sizeof(s->error), "guest '%s': screendump failed: %s", s->vm->def.name,
			 m->error_desc ?: "QMP error");
	remove_fdset(s);
}

static void on_add_fd(struct qmp_client *q, const struct qmp_message *m, void *userdata)
{
	struct shot *s = userdata;
	json_object *args, *id;
	char file[64];

	if (!m)
		return shot_fail(s, -ECONNRESET, "guest '%s': QMP connection lost during the screenshot%s",
				 NULL);
	if (m->type != QMP_MESSAGE_RETURN || !json_object_object_get_ex(m->data, "fdset-id", &id))
		return shot_fail(s, -EIO, "guest '%s': QEMU did not take the screenshot's fd (add-fd): %s",
				 m->error_desc ?: "no fd set");
	s->fdset = json_object_get_int(id);
	if (!s->call) /* timed out meanwhile: only the fd set to remove */
		return remove_fdset(s);
	snprintf(file, sizeof(file), "/dev/fdset/%d", s->fdset);
	args = json_object_new_object();
	json_object_object_add(args, "filename", json_object_new_string(file));
	json_object_object_add(args, "format", json_object_new_string("png"));
	if (qmp_client_command(s->vm->qmp, "screendump", args, on_screendump, s) < 0) {
		snprintf(s->error, sizeof(s->error), "guest '%s': cannot send screendump", s->vm->def.name);
		remove_fdset(s);
	}
}

static int on_shot_timeout(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct shot *s = userdata;

	s->timer = sd_event_source_disable_unref(s->timer);
	shot_answer_error(s, -ETIMEDOUT, "guest '%s': QEMU did not finish the screenshot within 10 s%s",
			  NULL);
	/* QEMU has its own fd of the memfd (add-fd), if any: netd's is not needed any more. */
	if (s->memfd >= 0)
		close(TAKE_FD(s->memfd));
	return 0;
}

static int lookup(struct daemon *d, struct call *c, json_object *params, struct vm **ret)
{
	const char *name;

	if (protocol_param_string(params, "name", &name) < 0)
		return call_errorf(c, -EINVAL, "missing guest name");
	*ret = vm_find(d, name);
	if (!*ret)
		return call_errorf(c, -ENOENT, "no guest named '%s'", name);
	return 0;
}

static int method_vm_screenshot(struct daemon *d, struct call *c, json_object *params)
{
	struct vm *v;
	struct shot *s;
	_cleanup_close_ int wfd = -1;
	char proc[64];
	unsigned n = 0;
	int r = lookup(d, c, params, &v);

	if (r < 0)
		return r;
	if (!v->def.vnc[0])
		return call_errorf(
			c, -ENODEV,
			"guest '%s' has no display (it was created without --vnc): "
			"nothing to take a screenshot of; 'netdctl vm console %s --log' shows its serial console",
			v->def.name, v->def.name);
	if (v->pid <= 0)
		return call_errorf(c, -ENOTCONN, "guest '%s' is not running", v->def.name);
	if (!v->qmp || !qmp_client_ready(v->qmp))
		return call_errorf(c, -ENOTCONN, "guest '%s': no QMP connection to QEMU yet", v->def.name);
	for (s = shots; s; s = s->next)
		n += s->vm == v;
	if (n >= SHOTS_PER_GUEST_MAX)
		return call_errorf(c, -EBUSY,
				   "guest '%s': %u screenshots are still under way (QEMU has not answered); "
				   "try again later",
				   v->def.name, n);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct shot){ .vm = v, .call = c, .fdset = -1, .next = shots };
	shots = s;
	s->memfd = memfd_create("netd-screendump", MFD_CLOEXEC);
	if (s->memfd < 0) {
		r = -errno;
		shot_free(s);
		return call_errorf(c, r, "cannot make the screenshot's memfd: %s", strerror(-r));
	}
	r = sd_event_add_time_relative(d->event, &s->timer, CLOCK_MONOTONIC, SHOT_TIMEOUT_USEC, 0,
				       on_shot_timeout, s);
	if (r < 0) {
		shot_free(s);
		return call_errorf(c, r, "cannot arm the screenshot's timer: %s", strerror(-r));
	}
	/* QEMU wants the access mode it opens with (O_WRONLY) in its fd set: a write-only fd of it. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", s->memfd);
	wfd = open(proc, O_WRONLY | O_CLOEXEC);
	r = wfd < 0 ? -errno : qmp_client_command_fd(v->qmp, "add-fd", NULL, wfd, on_add_fd, s);
	if (r < 0) {
		shot_free(s);
		return call_errorf(c, r, "guest '%s': cannot pass the screenshot's fd to QEMU: %s",
				   v->def.name, strerror(-r));
	}
	return 0;
}

void vm_look_gone(struct vm *v)
{
	for (struct shot *s = shots, *next; s; s = next) {
		next = s->next;
		if (s->vm == v)
			shot_fail(s, -ECONNRESET, "guest '%s': QEMU exited during the screenshot%s", NULL);
	}
}

/* ---- the serial log ---- */

static char *serial_path(struct daemon *d, const char *name, const char *file)
{
	_cleanup_free_ char *dir = store_guest_run_dir(&d->paths, name);

	return dir ? path_join(dir, file) : NULL;
}

/* At most one warning a minute about the serial logs: a hostile QEMU can make one every check. */
static bool serial_warn_ok(void)
{
	static uint64_t last;
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec;
	if (last && now - last < 60)
		return false;
	last = now ? now : 1;
	return true;
}

/* Where the copy of a log of size bytes starts: its last GUEST_SERIAL_LOG_MAX bytes, from the
 * start of a line when one begins in their first 4 KiB. */
static loff_t serial_copy_start(int fd, off_t size)
{
	char buf[4096];
	loff_t from = size - GUEST_SERIAL_LOG_MAX;
	ssize_t n;
	char *nl;

	if (from <= 0)
		return 0;
	n = pread(fd, buf, sizeof(buf), from - 1);
	if (n <= 0)
		return from;
	nl = memchr(buf, '\n', n);
	return nl ? from + (nl - buf) : from;
}

static int serial_copy(int fd, off_t size, const char *tmp)
{
	_cleanup_close_ int out = -1;
	loff_t off = serial_copy_start(fd, size);
	int r;

	unlink(tmp);
	r = vm_log_open(tmp, &out);
	if (r < 0)
		return r;
	/* copy_file_range() refuses an O_APPEND target. */
	if (fcntl(out, F_SETFL, 0) < 0)
		return -errno;
	while (off < size) {
		ssize_t n = copy_file_range(fd, &off, out, NULL, size - off, 0);

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
	}
	return 0;
}

/*
 * serial.log's last GUEST_SERIAL_LOG_MAX bytes to serial.log.1 (made anew: 0640 root:netd), then
 * serial.log emptied. QEMU holds a write fd of it and may make it any size (ftruncate to a
 * terabyte of holes): only the tail is copied, and a log past GUEST_SERIAL_LOG_ABSURD is emptied
 * without a copy (no guest writes that much in one check's time).
 */
int vm_serial_log_rotate(struct daemon *d, const char *name)
{
	_cleanup_free_ char *log = serial_path(d, name, "serial.log"),
			    *old = serial_path(d, name, "serial.log.1");
	_cleanup_free_ char *tmp = serial_path(d, name, "serial.log.1.tmp");
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (!log || !old || !tmp)
		return -ENOMEM;
	fd = open(log, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size <= GUEST_SERIAL_LOG_MAX)
		return 0;
	if (st.st_size > GUEST_SERIAL_LOG_ABSURD) {
		if (ftruncate(fd, 0) < 0)
			return -errno;
		if (serial_warn_ok())
			log_guest(LOG_WARNING, name,
				  "guest '%s': its serial log was %lld bytes (QEMU made it that large, no "
				  "guest writes so much): emptied without keeping a copy",
				  name, (long long)st.st_size);
		return 1;
	}
	r = serial_copy(fd, st.st_size, tmp);
	if (r >= 0 && rename(tmp, old) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	/* What QEMU wrote since the copy is lost with it: at most a moment's output. */
	if (ftruncate(fd, 0) < 0)
		return -errno;
	log_guest(LOG_DEBUG, name, "guest '%s': serial log rotated at %lld bytes", name,
		  (long long)st.st_size);
	return 1;
}

static int on_serial_check(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	bool any = false;

	for (size_t i = 0; i < d->n_vms; i++) {
		struct vm *v = d->vms[i];
		int r;

		if (v->pid <= 0)
			continue;
		any = true;
		r = vm_serial_log_rotate(d, v->def.name);
		if (r < 0 && serial_warn_ok())
			log_guest(LOG_WARNING, v->def.name, "guest '%s': cannot rotate its serial log: %s",
				  v->def.name, strerror(-r));
	}
	if (!any) {
		serial_timer = sd_event_source_disable_unref(serial_timer);
		return 0;
	}
	sd_event_source_set_time_relative(s, SERIAL_CHECK_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

void vm_look_watch(struct vm *v)
{
	struct daemon *d = v->daemon;

	if (serial_timer)
		return;
	if (sd_event_add_time_relative(d->event, &serial_timer, CLOCK_MONOTONIC, SERIAL_CHECK_USEC, 0,
				       on_serial_check, d) < 0)
		log_warning("cannot watch the guests' serial logs: they are bounded only at each start");
}

void vm_look_done(struct daemon *d)
{
	serial_timer = sd_event_source_disable_unref(serial_timer);
	while (shots)
		shot_fail(shots, -ECANCELED, "guest '%s': netd is stopping%s", NULL);
}

/* serial.log.1 (if any) and serial.log, read by root: each file's last GUEST_CONSOLE_TEXT_MAX bytes. */
static int console_text(struct daemon *d, const char *name, char **ret, size_t *ret_len)
{
	const char *files[] = { "serial.log.1", "serial.log" };
	char *text = NULL;
	size_t len = 0;

	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		_cleanup_free_ char *path = serial_path(d, name, files[i]);
		_cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY) : -1;
		struct stat st;
		off_t from;
		char *t;

		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		/* A guest that wrote fast between two checks (or a QEMU that made the file huge): only
		 * what guest_console_lines() looks at. */
		from = st.st_size > GUEST_CONSOLE_TEXT_MAX ? st.st_size - GUEST_CONSOLE_TEXT_MAX : 0;
		t = realloc(text, len + (st.st_size - from) + 1);
		if (!t) {
			free(text);
			return -ENOMEM;
		}
		text = t;
		ssize_t n = pread(fd, text + len, st.st_size - from, from);
		if (n > 0)
			len += n;
		/* serial.log.1's last line may end in serial.log; it ends here. */
		if (i == 0 && len > 0 && text[len - 1] != '\n')
			text[len++] = '\n';
	}
	*ret = text;
	*ret_len = len;
	return 0;
}

static int method_vm_console_log(struct daemon *d, struct call *c, json_object *params)
{
	struct vm *v;
	unsigned lines = 0;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	json_object *o;
	int r = lookup(d, c, params, &v);

	if (r < 0)
		return r;
	r = protocol_param_uint(params, "lines", GUEST_CONSOLE_LINES_MAX, &lines);
	if (r < 0 && r != -ENOENT && r != -ENODATA)
		return call_errorf(c, -EINVAL, "--lines must be a number from 1 to %d",
				   GUEST_CONSOLE_LINES_MAX);
	if (r >= 0 && lines == 0)
		return call_errorf(c, -EINVAL, "--lines must be a number from 1 to %d",
				   GUEST_CONSOLE_LINES_MAX);
	r = console_text(d, v->def.name, &text, &len);
	if (r < 0)
		return call_errorf(c, r, "guest '%s': cannot read its serial log: %s", v->def.name,
				   strerror(-r));
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(v->def.name));
	json_object_object_add(o, "lines", guest_console_lines(text ?: "", len, lines));
	call_reply(c, o);
	return 0;
}

static const struct method look_table[] = {
	{ "vm.screenshot", method_vm_screenshot, METHOD_READ | METHOD_ASYNC },
	{ "vm.console-log", method_vm_console_log, METHOD_READ },
};

const struct method_area guest_look_methods = METHOD_AREA(look_table);
