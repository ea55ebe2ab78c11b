/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * disk convert SRC DST --format F: qemu-img convert of SRC's recorded chain (every layer an fd)
 * into a new pool disk, run asynchronously on netd's event loop, its -p progress relayed to the
 * client. vmm/DESIGN.md, "The disk pool".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "disk-pool.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "vm-files.h"
#include "vm.h"

#define CONVERT_CHECK_USEC (500 * 1000ULL) /* how often a conversion looks for its client */
#define CONVERT_JOBS_MAX 4 /* conversions at once (each a qemu-img reading and writing a disk) */

/*
 * One conversion. The new disk is an unnamed file in the pool (O_TMPFILE) until qemu-img succeeds:
 * then it is linked under its name (linkat, never replacing one). Whatever stops it before (qemu-img
 * fails, the client hangs up, netd stops or dies) leaves no file: the unnamed one goes with its
 * last fd.
 */
struct disk_job {
	struct daemon *d;
	struct disk_job *next;
	struct call *call;
	char src[NAME_MAX + 1], dst[NAME_MAX + 1];
	enum disk_format format;
	int pool, out_fd, out_rd, err_fd, pidfd;
	pid_t pid;
	sd_event_source *out_source, *exit_source, *timer;
	char buf[512]; /* qemu-img's stdout not yet parsed */
	size_t len;
	int reported; /* the last percentage sent to the client, -1: none yet */
	bool gone; /* the client hung up: stopped */
	disk_convert_done_fn done; /* NULL: disk convert's own call, answered here */
	void *userdata;
};

/* Off the list of running jobs (jobs_count): before done, which may start the next one. */
static void job_unlink(struct disk_job *j)
{
	for (struct disk_job **p = &j->d->disk_jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			j->next = NULL;
			break;
		}
}

/* The job's end: its own call answered, or its owner told (done takes the message). */
static void job_fail(struct disk_job *j, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void job_fail(struct disk_job *j, int r, const char *fmt, ...)
{
	char msg[sizeof(j->call->err)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	job_unlink(j);
	if (j->done)
		j->done(j->userdata, r, msg);
	else
		call_reply_error(j->call, r, "%s", msg);
}

static void job_free(struct disk_job *j)
{
	job_unlink(j);
	sd_event_source_disable_unref(j->out_source);
	sd_event_source_disable_unref(j->exit_source);
	sd_event_source_disable_unref(j->timer);
	if (j->pidfd >= 0) {
		j->d->proc.ops->kill(j->d->proc.userdata, j->pid, j->pidfd, SIGKILL);
		/* SIGKILL: gone in a moment; a zombie would keep its fds */
		poll(&(struct pollfd){ .fd = j->pidfd, .events = POLLIN }, 1, 1000);
		j->d->proc.ops->reap(j->d->proc.userdata, j->pid, j->pidfd, &(int){ 0 });
		close(j->pidfd);
	}
	for (int *fds[] = { &j->pool, &j->out_fd, &j->out_rd, &j->err_fd }, k = 0; k < 4; k++)
		if (*fds[k] >= 0)
			close(*fds[k]);
	free(j);
}

/* qemu-img's first stderr line, or what its status says. */
static void job_error(struct disk_job *j, int status, char *buf, size_t size)
{
	ssize_t n = pread(j->err_fd, buf, size - 1, 0);

	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (!buf[0])
		snprintf(buf, size, "qemu-img exited with status %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* qemu-img is done and succeeded: the file gets its name, the client the new disk's info. */
static void job_finish(struct disk_job *j)
{
	struct call *c = j->call;
	char proc_path[64], err[sizeof(c->err)];
	struct stat st;
	int r;

	/* The record first (written through, fsync), then the name: a crash in between leaves a
	 * record of no file (ignored, replaced by the next disk of that name), never a disk netd
	 * does not know. Nothing else makes a pool disk meanwhile: netd does one thing at a time. */
	if (fstatat(j->pool, j->dst, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		job_fail(j, -EEXIST, "cannot convert disk '%s' to '%s': a disk of that name was made meanwhile",
			 j->src, j->dst);
		return;
	}
	r = disk_record_put(c, j->pool, j->dst, j->out_fd, j->format, NULL);
	if (r < 0) {
		snprintf(err, sizeof(err), "%s", c->err);
		job_fail(j, r, "cannot convert disk '%s' to '%s': %s", j->src, j->dst, err);
		return;
	}
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", j->out_fd);
	if (linkat(AT_FDCWD, proc_path, j->pool, j->dst, AT_SYMLINK_FOLLOW) < 0) {
		r = -errno;
		disk_record_remove(j->pool, j->dst);
		job_fail(j, r, "cannot convert disk '%s' to '%s': %s", j->src, j->dst,
			 r == -EEXIST ? "a disk of that name was made meanwhile" : strerror(-r));
		return;
	}
	log_info("disk '%s' converted to '%s' (%s)", j->src, j->dst, disk_format_to_string(j->format));
	if (j->done) {
		call_progress(c, "copying '%s' to '%s': 100%%", j->src, j->dst);
		job_unlink(j); /* the next disk's job may start: this one counts no more */
		j->done(j->userdata, 0, NULL);
		return;
	}
	if (fstat(j->out_fd, &st) < 0)
		st = (struct stat){};
	call_progress(c, "converting '%s' to '%s': 100%%", j->src, j->dst);
	r = disk_reply_info(j->d, c, j->pool, j->dst, j->out_fd, j->format, &st);
	if (r < 0) {
		snprintf(err, sizeof(err), "%s", c->err);
		call_reply_error(c, r, "%s", err);
	}
}

static int on_job_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct disk_job *j = userdata;
	char err[512];
	int status = 0, r = j->d->proc.ops->reap(j->d->proc.userdata, j->pid, j->pidfd, &status);

	if (r == -EAGAIN)
		return 0;
	close(j->pidfd);
	j->pidfd = -1;
	/* The client may have gone since the last check: nothing is made for no one. */
	if (!j->gone && call_client_gone(j->call))
		j->gone = true;
	if (j->gone) {
		log_info("disk convert of '%s' to '%s' stopped: its client hung up (nothing was made)",
			 j->src, j->dst);
		job_fail(j, -ECANCELED, "stopped: the client hung up");
	} else if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		job_error(j, status, err, sizeof(err));
		log_info("disk convert of '%s' to '%s' failed: %s", j->src, j->dst, err);
		job_fail(j, -EIO, "cannot convert disk '%s' to '%s': %s", j->src, j->dst, err);
	} else
		job_finish(j);
	job_free(j);
	return 0;
}

/* The new whole percentages of qemu-img -p's output, one line each 10%. */
static int on_job_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct disk_job *j = userdata;
	ssize_t n = read(fd, j->buf + j->len, sizeof(j->buf) - 1 - j->len);
	double pct;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		j->out_source = sd_event_source_disable_unref(j->out_source);
		return 0;
	}
	j->len += n;
	j->buf[j->len] = 0;
	pct = disk_progress_parse(j->buf);
	if (pct >= 0 && (int)pct / 10 * 10 > j->reported && (int)pct < 100) {
		j->reported = (int)pct / 10 * 10;
		call_progress(j->call, "%s '%s' to '%s': %d%%", j->done ? "copying" : "converting", j->src,
			      j->dst, j->reported);
	}
	/* keep the unfinished tail only (after the last '\r' or '\n') */
	for (size_t i = j->len; i > 0; i--)
		if (j->buf[i - 1] == '\r' || j->buf[i - 1] == '\n') {
			memmove(j->buf, j->buf + i, j->len - i);
			j->len -= i;
			break;
		}
	if (j->len >= sizeof(j->buf) - 1)
		j->len = 0; /* no progress line is this long: drop it */
	return 0;
}

static int on_job_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct disk_job *j = userdata;

	if (!j->gone && call_client_gone(j->call)) {
		j->gone = true;
		j->d->proc.ops->kill(j->d->proc.userdata, j->pid, j->pidfd, SIGKILL); /* on_job_exit follows
										       */
		return 0;
	}
	sd_event_source_set_time_relative(s, CONVERT_CHECK_USEC);
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

void disk_jobs_abort(struct daemon *d)
{
	/* Every qemu-img killed first, then each waited for: they die together. */
	for (struct disk_job *j = d->disk_jobs; j; j = j->next)
		if (j->pidfd >= 0)
			d->proc.ops->kill(d->proc.userdata, j->pid, j->pidfd, SIGKILL);
	while (d->disk_jobs) {
		struct disk_job *j = d->disk_jobs;

		log_info("disk convert of '%s' to '%s' stopped: netd stops (nothing was made)", j->src,
			 j->dst);
		job_fail(j, -ECANCELED, "cannot convert disk '%s' to '%s': netd stopped", j->src, j->dst);
		job_free(j);
	}
}

/* The unnamed file of the new disk, root:netd 0660 (recorded once it has its name). */
static int job_out_file(struct call *c, struct disk_job *j)
{
	int r;

	j->out_fd = openat(j->pool, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (j->out_fd < 0)
		return call_errorf(c, -errno, "cannot convert to disk '%s': cannot make its file in %s: %m",
				   j->dst, disk_pool_path(j->d));
	r = give_to_root(j->out_fd, NULL, vm_netd_gid());
	if (r >= 0 && fchmod(j->out_fd, 0660) < 0)
		r = -errno;
	if (r < 0)
		return call_errorf(c, r, "cannot convert to disk '%s': %s", j->dst, strerror(-r));
	return 0;
}

/* qemu-img convert on the chain's fds (3..) and the new file (after them), started. */
static int job_spawn(struct call *c, struct disk_job *j, const struct disk_chain *ch)
{
	int fds[DISK_CHAIN_MAX + 1], child_fds[DISK_CHAIN_MAX], pipefd[2], r;
	struct process_cred cred;
	struct disk_argv a;

	for (size_t i = 0; i < ch->n; i++) {
		fds[i] = ch->fds[i];
		child_fds[i] = 3 + (int)i;
	}
	fds[ch->n] = j->out_fd;
	r = disk_argv_convert(&a, QEMU_IMG, ch->formats, child_fds, ch->n, j->format, 3 + (int)ch->n);
	if (r < 0)
		return call_errorf(c, r, "cannot convert disk '%s': its chain is too long", j->src);
	j->err_fd = memfd_create("netd-qemu-img-stderr", MFD_CLOEXEC);
	if (j->err_fd < 0 || pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		return call_errorf(c, -errno, "cannot convert disk '%s': %m", j->src);
	j->out_rd = pipefd[0];
	struct proc_spawn spec = {
		.exe = QEMU_IMG,
		.cred = disk_qemu_img_cred(c, &cred),
		.argv = a.argv,
		.stdio = { [1] = { PROC_IO_FD, pipefd[1] }, [2] = { PROC_IO_FD, j->err_fd } },
		.fds = fds,
		.n_fds = ch->n + 1,
		.first_fd = 3,
		.no_new_privs = true,
		.confine_files = true,
		.new_session = true,
		.die_with_parent = true, /* netd killed: no qemu-img left writing an unnamed file */
	};
	r = j->d->proc.ops->spawn(j->d->proc.userdata, &spec, &j->pid, &j->pidfd);
	close(pipefd[1]);
	if (r < 0)
		return call_errorf(c, r, "cannot convert disk '%s': qemu-img: %s", j->src,
				   j->d->proc.ops->last_error(j->d->proc.userdata));
	return 0;
}

static int job_watch(struct call *c, struct disk_job *j)
{
	sd_event *e = j->d->event;

	if (sd_event_add_io(e, &j->exit_source, j->pidfd, EPOLLIN, on_job_exit, j) < 0 ||
	    sd_event_add_io(e, &j->out_source, j->out_rd, EPOLLIN, on_job_output, j) < 0 ||
	    sd_event_add_time_relative(e, &j->timer, CLOCK_MONOTONIC, CONVERT_CHECK_USEC, 0, on_job_timer,
				       j) < 0)
		return call_errorf(c, -ENOMEM, "cannot convert disk '%s': cannot watch qemu-img", j->src);
	/* Its exit before a pending check of the client: on_job_exit asks the client itself. */
	sd_event_source_set_priority(j->exit_source, SD_EVENT_PRIORITY_IMPORTANT);
	return 0;
}

/* Refused while a running guest writes SRC or a layer under it (the copy would be torn); a guest
 * that reads it (as its cdrom, or as a layer under its own overlay) does not stop a conversion. */
static int refuse_if_written(struct daemon *d, struct call *c, const char *name, const struct disk_chain *ch)
{
	for (size_t k = 0; k < ch->n; k++) {
		struct stat st;

		if (fstat(ch->fds[k], &st) < 0)
			return call_errorf(c, -errno, "cannot read disk '%s': %m", ch->names[k]);
		for (size_t i = 0; i < d->n_vms; i++) {
			const struct vm *v = d->vms[i];
			bool writes = false;

			if (v->state == VM_STATE_STOPPED || v->state == VM_STATE_CRASHED)
				continue;
			for (size_t n = 0; n < v->def.n_disks && !writes; n++) {
				struct stat gst;

				writes = !v->def.disks[n].readonly && stat(v->def.disks[n].path, &gst) >= 0 &&
					 gst.st_dev == st.st_dev && gst.st_ino == st.st_ino;
			}
			if (!writes)
				continue;
			if (k == 0)
				return call_errorf(
					c, -EBUSY,
					"cannot convert disk '%s': guest '%s' runs on it (shut it down "
					"first: the copy would be torn)",
					name, v->def.name);
			return call_errorf(
				c, -EBUSY,
				"cannot convert disk '%s': guest '%s' runs on '%s', a layer under it "
				"(shut it down first)",
				name, v->def.name, ch->names[k]);
		}
	}
	return 0;
}

static int convert_params(struct call *c, json_object *params, const char **src, const char **dst)
{
	const char *why;

	if (protocol_param_string(params, "name", src) < 0 ||
	    protocol_param_string(params, "target", dst) < 0)
		return call_errorf(c, -EINVAL, "disk convert: expected a source and a target disk name");
	why = disk_name_invalid_reason(*src);
	if (!why && (why = disk_name_invalid_reason(*dst)))
		*src = *dst;
	if (why)
		return call_errorf(c, -EINVAL, "invalid disk name '%.64s': %s", *src, why);
	if (!strcmp(*src, *dst))
		return call_errorf(c, -EINVAL, "cannot convert disk '%s' onto itself: name a new disk", *src);
	return 0;
}

static size_t jobs_count(struct daemon *d)
{
	size_t n = 0;

	for (struct disk_job *j = d->disk_jobs; j; j = j->next)
		n++;
	return n;
}

int disk_method_convert(struct daemon *d, struct call *c, json_object *params)
{
	const char *src, *dst;
	enum disk_format f;
	int r;

	if ((r = convert_params(c, params, &src, &dst)) < 0 || (r = disk_parse_format(c, params, &f)) < 0)
		return r;
	return disk_convert_start(d, c, src, dst, f, NULL, NULL);
}

/* src_fd >= 0: an import, src is a path the requester opened (src_format its format, one layer);
 * otherwise src is a pool disk whose chain netd recorded. */
static int convert_start(struct daemon *d, struct call *c, const char *src, int src_fd,
			 enum disk_format src_format, const char *dst, enum disk_format format,
			 disk_convert_done_fn done, void *userdata)
{
	struct disk_job *j = calloc(1, sizeof(*j));
	struct disk_chain ch = {};
	enum disk_format f;
	struct stat st;
	int r, fd;

	if (!j)
		return call_errorf(c, -ENOMEM, "out of memory");
	*j = (struct disk_job){ .d = d,
				.call = c,
				.format = format,
				.pool = -1,
				.out_fd = -1,
				.out_rd = -1,
				.err_fd = -1,
				.pidfd = -1,
				.reported = -1,
				.done = done,
				.userdata = userdata };
	if (jobs_count(d) >= CONVERT_JOBS_MAX) {
		r = call_errorf(c, -EBUSY,
				"cannot %s disk: %d conversions run already (wait for one to finish)",
				done ? "copy a" : "convert", CONVERT_JOBS_MAX);
		goto fail;
	}
	snprintf(j->src, sizeof(j->src), "%s", src);
	snprintf(j->dst, sizeof(j->dst), "%s", dst);
	j->pool = r = disk_pool_open(d, c, false);
	if (r < 0)
		goto fail;
	if (fstatat(j->pool, dst, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		r = call_errorf(c, -EEXIST, "disk '%s' exists already", dst);
		goto fail;
	}
	if (src_fd >= 0) { /* one layer, taken */
		ch.n = 1;
		ch.fds[0] = src_fd;
		ch.formats[0] = src_format;
		snprintf(ch.names[0], sizeof(ch.names[0]), "%s", "(imported file)");
		src_fd = -1;
	} else {
		fd = r = disk_open(c, j->pool, src, O_RDONLY, &st, &f);
		if (r < 0)
			goto fail;
		if ((r = disk_chain_open(c, j->pool, src, fd, f, &ch)) < 0)
			goto fail;
	}
	if ((r = refuse_if_written(d, c, src, &ch)) < 0 || (r = job_out_file(c, j)) < 0 ||
	    (r = job_spawn(c, j, &ch)) < 0)
		goto fail;
	disk_chain_close(&ch); /* qemu-img has its copies */
	j->next = d->disk_jobs;
	d->disk_jobs = j;
	r = job_watch(c, j);
	if (r < 0) {
		j->call = NULL;
		job_free(j);
		return r;
	}
	log_info("disk convert of '%s' to '%s' (%s) started: qemu-img pid %d", src, dst,
		 disk_format_to_string(j->format), (int)j->pid);
	call_progress(c, "%s '%s' to '%s': 0%%", done ? "copying" : "converting", src, dst);
	j->reported = 0;
	return 0;
fail:
	if (src_fd >= 0)
		close(src_fd);
	disk_chain_close(&ch);
	job_free(j);
	return r;
}

int disk_convert_start(struct daemon *d, struct call *c, const char *src, const char *dst,
		       enum disk_format format, disk_convert_done_fn done, void *userdata)
{
	return convert_start(d, c, src, -1, 0, dst, format, done, userdata);
}

/*
 * disk import FILE NAME [--format F] [--source-format F]: a new pool disk from a file the requester
 * may read (a downloaded cloud image, an old guest's disk), opened with the requester's rights (any
 * path they can open: qemu-img runs as them too, confined to that fd), then converted as disk
 * convert does. The source format is given, or qcow2 when the file starts with qcow2's magic, else
 * raw; a qcow2 naming a backing or data file is refused (convert its chain to one file first).
 */
int disk_method_import(struct daemon *d, struct call *c, json_object *params)
{
	struct guest_file_rules rules = { .privileged = true };
	const char *path, *dst, *why, *sf;
	enum disk_format format, src_format = DISK_FORMAT_RAW;
	struct process_cred who;
	uint8_t h[DISK_QCOW2_HEADER_LEN];
	char err[PATH_MAX + 256];
	bool given;
	ssize_t n;
	int r, fd;

	if (protocol_param_string(params, "file", &path) < 0 || !path[0])
		return call_errorf(c, -EINVAL, "disk import: expected FILE NAME");
	if (protocol_param_string(params, "name", &dst) < 0)
		return call_errorf(c, -EINVAL, "disk import: expected FILE NAME");
	why = disk_name_invalid_reason(dst);
	if (why)
		return call_errorf(c, -EINVAL, "invalid disk name '%.64s': %s", dst, why);
	if ((r = disk_parse_format(c, params, &format)) < 0)
		return r;
	given = protocol_param_string(params, "source_format", &sf) >= 0;
	if (given) {
		src_format = disk_format_from_string(sf);
		if (src_format == _DISK_FORMAT_INVALID)
			return call_errorf(c, -EINVAL, "invalid source format '%.32s': expected qcow2 or raw",
					   sf);
	}
	vm_cred_from_peer(&c->peer, &who);
	r = guest_file_open(&who, GUEST_FILE_DISK_RO, path, &rules, &fd, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot import: %s", err);
	n = pread(fd, h, sizeof(h), 0);
	if (n < 0) {
		r = call_errorf(c, -errno, "cannot import %s: %m", path);
		close(fd);
		return r;
	}
	if (!given && n >= 4 && !memcmp(h, "QFI\xfb", 4))
		src_format = DISK_FORMAT_QCOW2;
	if (src_format == DISK_FORMAT_QCOW2 && disk_qcow2_file_refuse_reason(h, (size_t)n, false)) {
		close(fd);
		return call_errorf(
			c, -EPERM,
			"cannot import %s: a qcow2 image that names a backing or data file (netd "
			"imports one file and follows no name in it: 'qemu-img convert' the chain into "
			"one file first)",
			path);
	}
	r = convert_start(d, c, path, fd, src_format, dst, format, NULL, NULL);
	if (r >= 0)
		call_progress(c, "reading %s as %s%s", path, disk_format_to_string(src_format),
			      given ? "" : " (its first bytes say so; --source-format says otherwise)");
	return r;
}
