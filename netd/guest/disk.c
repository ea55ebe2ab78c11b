/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disk pool (netdctl disk ...): image files in netd's first --image-dir, made, read, grown and
 * removed with qemu-img. netd opens each file itself (openat on the pool's fd, O_NOFOLLOW, O_EXCL
 * for a new one) and hands qemu-img that fd as /dev/fd/3, with the format always given (-f): a raw
 * file whose content looks like qcow2 is never read as one. A file's format is the one netd made it
 * with, kept in netd's record of it (the pool's .netd/NAME, root's alone: format, the base of an
 * overlay, the file's inode); a file without one (put there, or replaced, by hand) is listed with
 * format "unknown" and is not read by qemu-img. (Not an xattr: trusted.* needs CAP_SYS_ADMIN, which
 * netd's unit does not give it, and user.* any writer of the file may set.)
 * Files are root:netd 0660 in a pool that is 0750 root:netd when netd makes it: operators (group
 * netd) use them with vm create --disk, which opens them with the requester's rights (vm-files.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "disk-pool.h"
#include "disk.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "vm-files.h"
#include "vm.h"

#define QEMU_IMG_TIMEOUT_MS 30000
#define RECORDS_DIR ".netd"
#define INFO_OUT_MAX 65536

const struct process_cred *disk_qemu_img_cred(const struct call *c, struct process_cred *buf)
{
	if (c->peer.uid == 0)
		return NULL;
	vm_cred_from_peer(&c->peer, buf);
	return buf;
}

const char *disk_pool_path(struct daemon *d)
{
	return d->image_dirs[0];
}

/* The pool's fd; made 0750 root:netd when it is not there. */
int disk_pool_open(struct daemon *d, struct call *c, bool create)
{
	int fd, r;

	if (!disk_pool_path(d)) /* netd sets a default --image-dir: only a test world has none */
		return call_errorf(c, -ENOENT, "netd has no disk pool (no --image-dir)");
	fd = open(disk_pool_path(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0 || errno != ENOENT || !create) {
		if (fd < 0)
			return call_errorf(c, -errno, "cannot open the disk pool %s: %m", disk_pool_path(d));
		return fd;
	}
	r = mkdir_p(disk_pool_path(d), 0750);
	if (r >= 0)
		r = give_to_root(-1, disk_pool_path(d), vm_netd_gid());
	if (r >= 0 && chmod(disk_pool_path(d), 0750) < 0)
		r = -errno;
	if (r < 0)
		return call_errorf(c, r, "cannot create the disk pool %s: %s", disk_pool_path(d),
				   strerror(-r));
	fd = open(disk_pool_path(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return call_errorf(c, -errno, "cannot open the disk pool %s: %m", disk_pool_path(d));
	return fd;
}

static int param_name(struct call *c, json_object *params, const char **ret)
{
	const char *why;

	if (protocol_param_string(params, "name", ret) < 0)
		return call_errorf(c, -EINVAL, "missing disk name");
	why = disk_name_invalid_reason(*ret);
	if (why)
		return call_errorf(c, -EINVAL, "invalid disk name '%.64s': %s", *ret, why);
	return 0;
}

/* The pool's folder of records (root's alone), or a negative errno; made when create is set. */
static int records_open(int pool, bool create)
{
	_cleanup_close_ int fd = openat(pool, RECORDS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(pool, RECORDS_DIR, 0700) < 0 && errno != EEXIST)
			return -errno;
		fd = openat(pool, RECORDS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	/* Records are what netd trusts instead of the files: nobody else may write them. */
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022))
		return -EPERM;
	return TAKE_FD(fd);
}

/* The file's identity: its inode and birth time (0 where the file system keeps none). */
static int file_identity(int fd, uint64_t *ret_inode, uint64_t *ret_born_ns)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &sx) < 0)
		return -errno;
	*ret_inode = sx.stx_ino;
	*ret_born_ns = sx.stx_mask & STATX_BTIME ?
			       (uint64_t)sx.stx_btime.tv_sec * 1000000000ULL + sx.stx_btime.tv_nsec :
			       0;
	return 0;
}

/* netd's record of the disk name, when it belongs to the very file fd is (same inode, born then). */
static bool record_get(int pool, const char *name, int fd, struct disk_record *ret)
{
	_cleanup_close_ int dir = records_open(pool, false), rfd = -1;
	uint64_t inode, born;
	struct disk_record r;
	char buf[512];
	ssize_t n;

	if (dir < 0)
		return false;
	rfd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (rfd < 0 || (n = read(rfd, buf, sizeof(buf) - 1)) <= 0)
		return false;
	buf[n] = 0;
	if (disk_record_parse(buf, &r) < 0 || file_identity(fd, &inode, &born) < 0 || inode != r.inode ||
	    born != r.born_ns)
		return false;
	*ret = r;
	return true;
}

int disk_record_put(struct call *c, int pool, const char *name, int fd, enum disk_format f,
		    const char *backing)
{
	struct disk_record r = { .format = f };
	_cleanup_close_ int dir = records_open(pool, true), rfd = -1;
	char text[512], tmp[64];
	ssize_t k;
	int r2;

	if (dir < 0)
		return call_errorf(c, dir, "cannot record disk '%s' in the pool's %s/: %s", name, RECORDS_DIR,
				   strerror(-dir));
	r2 = file_identity(fd, &r.inode, &r.born_ns);
	if (r2 < 0)
		return call_errorf(c, r2, "cannot record disk '%s': %s", name, strerror(-r2));
	snprintf(r.backing, sizeof(r.backing), "%s", backing ?: "");
	if (disk_record_format(&r, text, sizeof(text)) < 0)
		return call_errorf(c, -E2BIG, "cannot record disk '%s'", name);
	/* A name no disk has (disk names do not start with '.'), renamed over the record. */
	snprintf(tmp, sizeof(tmp), ".new-%d", (int)getpid());
	rfd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (rfd < 0)
		return call_errorf(c, -errno, "cannot record disk '%s': %m", name);
	k = write(rfd, text, strlen(text));
	/* fsync: on disk before the rename, and before the disk it describes gets its name */
	if (k != (ssize_t)strlen(text) || fsync(rfd) < 0 || renameat(dir, tmp, dir, name) < 0) {
		int r = k < 0 || k == (ssize_t)strlen(text) ? -errno : -ENOSPC;

		unlinkat(dir, tmp, 0);
		return call_errorf(c, r, "cannot record disk '%s': %s", name, strerror(-r));
	}
	return 0;
}

void disk_record_remove(int pool, const char *name)
{
	_cleanup_close_ int dir = records_open(pool, false);

	if (dir >= 0)
		unlinkat(dir, name, 0);
}

/* The pool disk netd made this overlay on (its record, never the header's name); false: none. */
static bool file_backing(int pool, const char *name, int fd, char *buf, size_t size)
{
	struct disk_record r;

	if (!record_get(pool, name, fd, &r) || !r.backing[0])
		return false;
	snprintf(buf, size, "%s", r.backing);
	return true;
}

/* A qcow2 file whose header names what netd did not make (an operator may write the file) is not
 * given to qemu-img: see disk_qcow2_refuse_reason(). qemu-img's confinement holds anyway. */
static int check_header(struct call *c, int fd, const char *name, bool has_backing)
{
	uint8_t h[DISK_QCOW2_HEADER_LEN];
	ssize_t n = pread(fd, h, sizeof(h), 0);
	const char *why;

	if (n < 0)
		return call_errorf(c, -errno, "cannot read disk '%s': %m", name);
	why = disk_qcow2_file_refuse_reason(h, (size_t)n, has_backing);
	if (why)
		return call_errorf(c, -EPERM, "refusing disk '%s': %s", name, why);
	return 0;
}

/* An existing disk of the pool, opened (never through a symlink, never a FIFO's wait). */
int disk_open(struct call *c, int pool, const char *name, int flags, struct stat *st,
	      enum disk_format *ret_format)
{
	_cleanup_close_ int fd = openat(pool, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct disk_record rec = { .format = _DISK_FORMAT_INVALID };

	if (fd < 0 && (errno == ENOENT || errno == ELOOP))
		return call_errorf(c, -ENOENT, "no disk named '%s' in the pool", name);
	if (fd < 0)
		return call_errorf(c, -errno, "cannot open disk '%s': %m", name);
	if (fstat(fd, st) < 0)
		return call_errorf(c, -errno, "cannot read disk '%s': %m", name);
	if (!S_ISREG(st->st_mode))
		return call_errorf(c, -ENOENT, "no disk named '%s' in the pool (not a regular file)", name);
	record_get(pool, name, fd, &rec);
	*ret_format = rec.format;
	if (*ret_format == _DISK_FORMAT_INVALID)
		return call_errorf(
			c, -EMEDIUMTYPE,
			"disk '%s' was not made by netd: its format is unknown (netd never guesses one)",
			name);
	if (*ret_format == DISK_FORMAT_QCOW2) {
		int r = check_header(c, fd, name, rec.backing[0]);

		if (r < 0)
			return r;
	}
	return TAKE_FD(fd);
}

void disk_chain_close(struct disk_chain *ch)
{
	for (size_t i = 0; i < ch->n; i++)
		close(ch->fds[i]);
	ch->n = 0;
}

/* The chain under the disk name, open as fd in format f (the chain takes fd). */
int disk_chain_open(struct call *c, int pool, const char *name, int fd, enum disk_format f,
		    struct disk_chain *ch)
{
	char backing[NAME_MAX + 1];

	*ch = (struct disk_chain){ .n = 1, .fds = { fd }, .formats = { f } };
	snprintf(ch->names[0], sizeof(ch->names[0]), "%s", name);
	while (file_backing(pool, ch->names[ch->n - 1], ch->fds[ch->n - 1], backing, sizeof(backing))) {
		struct stat st;
		int bfd, r;

		if (ch->n == DISK_CHAIN_MAX) {
			r = call_errorf(c, -ELOOP, "disk '%s': its backing chain is deeper than %d layers",
					name, DISK_CHAIN_MAX);
			disk_chain_close(ch);
			return r;
		}
		bfd = disk_open(c, pool, backing, O_RDONLY, &st, &ch->formats[ch->n]);
		if (bfd < 0) {
			char why[sizeof(c->err)];

			disk_chain_close(ch);
			snprintf(why, sizeof(why), "%s", c->err);
			return call_errorf(c, bfd,
					   "disk '%s' is an overlay on '%s', which cannot be used: %s", name,
					   backing, why);
		}
		ch->fds[ch->n] = bfd;
		snprintf(ch->names[ch->n], sizeof(ch->names[0]), "%s", backing);
		ch->n++;
	}
	return 0;
}

static json_object *chain_json(const struct disk_chain *ch)
{
	json_object *a = json_object_new_array();

	for (size_t i = 1; i < ch->n; i++)
		json_object_array_add(a, json_object_new_string(ch->names[i]));
	return a;
}

/* The first disk of the pool that is an overlay on name (netd's record), or false. */
static bool overlay_on(int pool, const char *name, char *ret, size_t size)
{
	int dfd = records_open(pool, false);
	DIR *dir = dfd < 0 ? NULL : fdopendir(dfd);
	bool found = false;
	struct dirent *e;

	if (!dir) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	while (!found && (e = readdir(dir))) {
		char backing[NAME_MAX + 1];
		_cleanup_close_ int fd = -1;

		if (disk_name_invalid_reason(e->d_name) || !strcmp(e->d_name, name))
			continue;
		/* the record of a file that is still there */
		fd = openat(pool, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0 && file_backing(pool, e->d_name, fd, backing, sizeof(backing)) &&
		    !strcmp(backing, name)) {
			snprintf(ret, size, "%s", e->d_name);
			found = true;
		}
	}
	closedir(dir);
	return found;
}

/* Run qemu-img with the disk's fd as its fd 3; out gets its stdout. It runs as the requester
 * (disk_qemu_img_cred), confined to its own files and that fd (proc.h, confine_files): whatever
 * path the image names, it opens nothing else, and it connects nowhere. */
int disk_qemu_img(struct daemon *d, const struct call *c, struct disk_argv *a, int fd, int timeout_ms,
		  char *out, size_t size, char *err, size_t errlen)
{
	struct process_cred cred;
	struct proc_spawn spec = { .exe = QEMU_IMG,
				   .cred = disk_qemu_img_cred(c, &cred),
				   .argv = a->argv,
				   .fds = &fd,
				   .n_fds = 1,
				   .first_fd = 3,
				   .no_new_privs = true,
				   .confine_files = true,
				   .new_session = true,
				   .die_with_parent = true };
	char dummy[1];

	return proc_run_check(&d->proc, &spec, timeout_ms, out ?: dummy, out ? size : sizeof(dummy), err,
			      errlen);
}

static int qemu_img_run(struct daemon *d, struct call *c, const char *what, struct disk_argv *a, int fd,
			char *out, size_t size)
{
	char err[512];
	int r = disk_qemu_img(d, c, a, fd, QEMU_IMG_TIMEOUT_MS, out, size, err, sizeof(err));

	return r < 0 ? call_errorf(c, r, "%s: %s", what, err) : 0;
}

static int disk_info_read(struct daemon *d, struct call *c, const char *name, int fd, enum disk_format f,
			  struct disk_info *ret)
{
	_cleanup_free_ char *out = malloc(INFO_OUT_MAX);
	struct disk_argv a;
	char what[300], err[200];
	int r;

	if (!out)
		return call_errorf(c, -ENOMEM, "out of memory");
	snprintf(what, sizeof(what), "cannot read disk '%s'", name);
	disk_argv_info(&a, QEMU_IMG, f, 3);
	r = qemu_img_run(d, c, what, &a, fd, out, INFO_OUT_MAX);
	if (r < 0)
		return r;
	r = disk_info_parse(out, ret, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "%s: %s", what, err);
	return 0;
}

/* The guests whose disk or cdrom is this file (running ones only with running_only). */
static json_object *disk_users(struct daemon *d, const struct stat *st, bool running_only)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < d->n_vms; i++) {
		const struct vm *v = d->vms[i];
		bool running = v->state != VM_STATE_STOPPED && v->state != VM_STATE_CRASHED;
		const char *paths[GUEST_DISKS_MAX + 1] = { v->def.cdrom };
		struct stat gst;

		if (running_only && !running)
			continue;
		for (size_t k = 0; k < v->def.n_disks; k++)
			paths[k + 1] = v->def.disks[k].path;
		for (size_t k = 0; k < v->def.n_disks + 1; k++)
			if (paths[k][0] && stat(paths[k], &gst) >= 0 && gst.st_dev == st->st_dev &&
			    gst.st_ino == st->st_ino) {
				json_object_array_add(a, json_object_new_string(v->def.name));
				break;
			}
	}
	return a;
}

static int refuse_if_used(struct daemon *d, struct call *c, const char *name, const struct stat *st,
			  bool running_only, const char *verb)
{
	json_object *users = disk_users(d, st, running_only);
	size_t n = json_object_array_length(users);
	int r = 0;

	if (n > 0)
		r = call_errorf(c, -EBUSY, "cannot %s disk '%s': guest '%s' %s it%s", verb, name,
				json_object_get_string(json_object_array_get_idx(users, 0)),
				running_only ? "runs on" : "uses",
				running_only ? " (shut it down first)" :
					       " (delete that guest or change its disk first)");
	json_object_put(users);
	return r;
}

static json_object *info_json(const char *name, const char *path, const struct disk_info *i,
			      json_object *users, json_object *chain)
{
	json_object *o = json_object_new_object(), *snaps = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "format", json_object_new_string(i->format));
	json_object_object_add(o, "virtual_size", json_object_new_int64((int64_t)i->virtual_size));
	json_object_object_add(o, "actual_size", json_object_new_int64((int64_t)i->actual_size));
	/* netd's record, never the name in the header (an operator may write that). */
	if (json_object_array_length(chain))
		json_object_object_add(o, "backing_file",
				       json_object_get(json_object_array_get_idx(chain, 0)));
	json_object_object_add(o, "backing_chain", chain);
	json_object_object_add(o, "dirty", json_object_new_boolean(i->dirty));
	for (size_t k = 0; k < i->n_snapshots; k++) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "id", json_object_new_string(i->snapshots[k].id));
		json_object_object_add(s, "name", json_object_new_string(i->snapshots[k].name));
		json_object_object_add(s, "vm_state_size",
				       json_object_new_int64((int64_t)i->snapshots[k].vm_state_size));
		json_object_object_add(s, "date_sec", json_object_new_int64(i->snapshots[k].date_sec));
		json_object_array_add(snaps, s);
	}
	json_object_object_add(o, "snapshots", snaps);
	json_object_object_add(o, "used_by", users);
	return o;
}

int disk_reply_info(struct daemon *d, struct call *c, int pool, const char *name, int fd, enum disk_format f,
		    const struct stat *st)
{
	_cleanup_free_ struct disk_info *info = calloc(1, sizeof(*info));
	_cleanup_free_ char *path = path_join(disk_pool_path(d), name);
	struct disk_chain ch;
	int r, dfd;

	if (!info || !path)
		return call_errorf(c, -ENOMEM, "out of memory");
	r = disk_info_read(d, c, name, fd, f, info);
	if (r < 0)
		return r;
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return call_errorf(c, -errno, "cannot read disk '%s': %m", name);
	r = disk_chain_open(c, pool, name, dfd, f, &ch);
	if (r < 0)
		return r;
	call_reply(c, info_json(name, path, info, disk_users(d, st, false), chain_json(&ch)));
	disk_chain_close(&ch);
	return 0;
}

int disk_parse_format(struct call *c, json_object *params, enum disk_format *ret)
{
	const char *s;

	*ret = DISK_FORMAT_QCOW2;
	if (protocol_param_string(params, "format", &s) < 0)
		return 0;
	*ret = disk_format_from_string(s);
	if (*ret == _DISK_FORMAT_INVALID)
		return call_errorf(c, -EINVAL, "invalid format '%.32s': expected qcow2 or raw", s);
	return 0;
}

static int parse_size(struct call *c, json_object *params, bool allow_plus, uint64_t *ret, bool *ret_grow)
{
	char err[160];
	const char *s;
	int r;

	if (protocol_param_string(params, "size", &s) < 0)
		return call_errorf(c, -EINVAL, "missing size");
	r = disk_size_parse(s, allow_plus, ret, ret_grow, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "%s", err);
	return 0;
}

/* A new file of the pool for name, root:netd 0660 with its format recorded; unlinked on failure. */
static int disk_file_new(struct call *c, int pool, const char *name, enum disk_format f, const char *backing)
{
	_cleanup_close_ int fd =
		openat(pool, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	int r;

	if (fd < 0 && errno == EEXIST)
		return call_errorf(c, -EEXIST, "disk '%s' exists already", name);
	if (fd < 0)
		return call_errorf(c, -errno, "cannot create disk '%s': %m", name);
	r = give_to_root(fd, NULL, vm_netd_gid());
	if (r >= 0 && fchmod(fd, 0660) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(pool, name, 0);
		return call_errorf(c, r, "cannot create disk '%s': %s", name, strerror(-r));
	}
	r = disk_record_put(c, pool, name, fd, f, backing);
	if (r < 0) {
		unlinkat(pool, name, 0);
		return r;
	}
	return TAKE_FD(fd);
}

/* The new overlay's base: its chain must open (every layer a disk netd made, headers checked) and
 * leave room for one more layer. */
static int check_base_chain(struct call *c, int pool, const char *name, const char *base, int fd,
			    enum disk_format f)
{
	struct disk_chain ch;
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3), r;
	size_t n;

	if (dfd < 0)
		return call_errorf(c, -errno, "cannot read disk '%s': %m", base);
	r = disk_chain_open(c, pool, base, dfd, f, &ch);
	if (r < 0)
		return r;
	n = ch.n;
	disk_chain_close(&ch);
	if (n >= DISK_CHAIN_MAX)
		return call_errorf(
			c, -ELOOP,
			"cannot create disk '%s' on '%s': its backing chain has %d layers already (at most %d)",
			name, base, (int)n, DISK_CHAIN_MAX);
	return 0;
}

/* --backing BASE: BASE opened (a pool disk netd made, its header checked, its chain usable), its
 * virtual size the overlay's least and default one. Only an absent key means no backing. */
static int parse_backing(struct daemon *d, struct call *c, json_object *params, int pool, const char *name,
			 const char **ret_name, enum disk_format *ret_format, uint64_t *ret_size)
{
	_cleanup_free_ struct disk_info *info = calloc(1, sizeof(*info));
	_cleanup_close_ int fd = -1;
	struct stat st;
	const char *why;
	int r;

	*ret_name = NULL;
	if (!json_object_object_get_ex(params, "backing", NULL))
		return 0;
	if (protocol_param_string(params, "backing", ret_name) < 0) {
		*ret_name = NULL;
		return call_errorf(c, -EINVAL,
				   "invalid backing disk: expected the name of a disk of the pool");
	}
	if (!info)
		return call_errorf(c, -ENOMEM, "out of memory");
	why = disk_name_invalid_reason(*ret_name);
	if (why)
		return call_errorf(c, -EINVAL, "invalid backing disk name '%.64s': %s", *ret_name, why);
	fd = disk_open(c, pool, *ret_name, O_RDONLY, &st, ret_format);
	if (fd < 0)
		return fd;
	r = check_base_chain(c, pool, name, *ret_name, fd, *ret_format);
	if (r < 0)
		return r;
	r = disk_info_read(d, c, *ret_name, fd, *ret_format, info);
	if (r < 0)
		return r;
	*ret_size = info->virtual_size;
	return 0;
}

static int method_disk_create(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_close_ int pool = -1, fd = -1;
	enum disk_format f, base_format = DISK_FORMAT_QCOW2;
	const char *name, *base = NULL;
	uint64_t size = 0, base_size = 0;
	struct disk_argv a;
	struct stat st;
	char what[300];
	int r;

	if ((r = param_name(c, params, &name)) < 0 || (r = disk_parse_format(c, params, &f)) < 0)
		return r;
	if (json_object_object_get_ex(params, "backing", NULL) && f != DISK_FORMAT_QCOW2)
		return call_errorf(c, -EINVAL, "cannot create disk '%s': an overlay (--backing) is qcow2",
				   name);
	if ((json_object_object_get_ex(params, "size", NULL) ||
	     !json_object_object_get_ex(params, "backing", NULL)) &&
	    (r = parse_size(c, params, false, &size, NULL)) < 0)
		return r;
	pool = disk_pool_open(d, c, true);
	if (pool < 0)
		return pool;
	r = parse_backing(d, c, params, pool, name, &base, &base_format, &base_size);
	if (r < 0)
		return r;
	if (base && !strcmp(base, name))
		return call_errorf(c, -EINVAL, "cannot create disk '%s' on itself", name);
	if (base && size == 0)
		size = base_size;
	if (base && size < base_size)
		return call_errorf(
			c, -EINVAL,
			"cannot create disk '%s' with %llu bytes: its backing disk '%s' has %llu (an "
			"overlay may only be larger)",
			name, (unsigned long long)size, base, (unsigned long long)base_size);
	fd = disk_file_new(c, pool, name, f, base);
	if (fd < 0)
		return fd;
	snprintf(what, sizeof(what), "cannot create disk '%s'", name);
	if (base)
		disk_argv_create_overlay(&a, QEMU_IMG, 3, base, base_format, size);
	else
		disk_argv_create(&a, QEMU_IMG, f, 3, size);
	r = qemu_img_run(d, c, what, &a, fd, NULL, 0);
	if (r >= 0 && fstat(fd, &st) < 0)
		r = call_errorf(c, -errno, "%s: %m", what);
	if (r < 0) {
		unlinkat(pool, name, 0);
		disk_record_remove(pool, name);
		return r;
	}
	r = disk_reply_info(d, c, pool, name, fd, f, &st);
	if (r < 0) { /* the client was told it failed: nothing stays */
		unlinkat(pool, name, 0);
		disk_record_remove(pool, name);
		return r;
	}
	log_info("disk '%s' created in %s: %s, %llu bytes%s%s", name, disk_pool_path(d),
		 disk_format_to_string(f), (unsigned long long)size, base ? ", on " : "", base ?: "");
	return 0;
}

/* vm create --disk NAME: the pool's file, with the format netd made it with. */
int disk_pool_resolve(struct daemon *d, struct call *c, struct guest_disk *disk)
{
	_cleanup_close_ int pool = -1, fd = -1;
	_cleanup_free_ char *path = NULL;
	const char *why = disk_name_invalid_reason(disk->path);
	enum disk_format f;
	struct stat st;

	if (why)
		return call_errorf(c, -EINVAL,
				   "invalid --disk '%.64s' (a disk of the pool: it has no '/'): %s",
				   disk->path, why);
	pool = disk_pool_open(d, c, false);
	if (pool < 0)
		return pool;
	fd = disk_open(c, pool, disk->path, O_RDONLY, &st, &f);
	if (fd < 0)
		return fd;
	if (disk->format_given && disk->format != f)
		return call_errorf(c, -EINVAL, "disk '%s' of the pool is %s, not %s", disk->path,
				   disk_format_to_string(f), disk_format_to_string(disk->format));
	path = path_join(disk_pool_path(d), disk->path);
	if (!path || strlen(path) >= sizeof(disk->path))
		return call_errorf(c, -ENAMETOOLONG, "the path of disk '%s' is too long", disk->path);
	snprintf(disk->path, sizeof(disk->path), "%s", path);
	disk->format = f;
	disk->format_given = true;
	return 0;
}

/* vm create --disk-size: a new disk of the pool, as 'disk create' makes it; refused when it exists. */
int disk_pool_create(struct daemon *d, struct call *c, const char *name, enum disk_format f, uint64_t size,
		     char *ret_path, size_t path_size)
{
	_cleanup_close_ int pool = -1, fd = -1;
	_cleanup_free_ char *path = path_join(disk_pool_path(d), name);
	struct disk_argv a;
	char what[300];
	int r;

	if (!path)
		return -ENOMEM;
	if (strlen(path) >= path_size)
		return call_errorf(c, -ENAMETOOLONG, "the path of disk '%s' is too long", name);
	pool = disk_pool_open(d, c, true);
	if (pool < 0)
		return pool;
	fd = disk_file_new(c, pool, name, f, NULL);
	if (fd < 0)
		return fd;
	snprintf(what, sizeof(what), "cannot create disk '%s'", name);
	disk_argv_create(&a, QEMU_IMG, f, 3, size);
	r = qemu_img_run(d, c, what, &a, fd, NULL, 0);
	if (r < 0) {
		unlinkat(pool, name, 0);
		disk_record_remove(pool, name);
		return r;
	}
	log_info("disk '%s' created in %s: %s, %llu bytes", name, disk_pool_path(d), disk_format_to_string(f),
		 (unsigned long long)size);
	snprintf(ret_path, path_size, "%s", path);
	return 0;
}

const char *disk_pool_name_of(struct daemon *d, const char *path)
{
	const char *pool = disk_pool_path(d), *slash = strrchr(path, '/');
	size_t n;

	if (!pool) /* no --image-dir: no pool */
		return NULL;
	n = strlen(pool);

	while (n > 1 && pool[n - 1] == '/')
		n--;
	if (!slash || (size_t)(slash - path) != n || strncmp(path, pool, n) ||
	    disk_name_invalid_reason(slash + 1))
		return NULL;
	return slash + 1;
}

/* The pool disk that is the file path names (by device and inode: '/pool//x', '/pool/./x', a
 * symlink or a hard link to a pool disk are that disk), its name into ret; false: none. */
static bool pool_name_of_file(int pool, const char *path, char *ret, size_t size)
{
	int dfd = fcntl(pool, F_DUPFD_CLOEXEC, 3);
	DIR *dir = dfd < 0 ? NULL : fdopendir(dfd);
	struct stat want, st;
	struct dirent *e;
	bool found = false;

	if (!dir) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	if (stat(path, &want) < 0 || !S_ISREG(want.st_mode)) {
		closedir(dir);
		return false;
	}
	while (!found && (e = readdir(dir)))
		if (!disk_name_invalid_reason(e->d_name) &&
		    fstatat(pool, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == want.st_dev &&
		    st.st_ino == want.st_ino) {
			snprintf(ret, size, "%s", e->d_name);
			found = true;
		}
	closedir(dir);
	return found;
}

bool disk_pool_is_base(struct daemon *d, const char *path, char *ret_overlay, size_t size)
{
	_cleanup_close_ int pool = -1;
	char name[NAME_MAX + 1];

	if (!disk_pool_path(d) || (pool = open(disk_pool_path(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return false;
	if (!pool_name_of_file(pool, path, name, sizeof(name)))
		return false;
	return overlay_on(pool, name, ret_overlay, size);
}

/* vm clone: a new qcow2 overlay name on the pool disk base (as 'disk create --backing'), its record
 * naming base: 'disk delete' of base is refused while it is there. */
int disk_pool_overlay(struct daemon *d, struct call *c, const char *name, const char *base, char *ret_path,
		      size_t path_size)
{
	_cleanup_free_ struct disk_info *info = calloc(1, sizeof(*info));
	_cleanup_free_ char *path = path_join(disk_pool_path(d), name);
	_cleanup_close_ int pool = -1, fd = -1, bfd = -1;
	enum disk_format bf;
	struct disk_argv a;
	struct stat st;
	char what[300];
	int r;

	if (!info || !path)
		return call_errorf(c, -ENOMEM, "out of memory");
	if (strlen(path) >= path_size)
		return call_errorf(c, -ENAMETOOLONG, "the path of disk '%s' is too long", name);
	pool = disk_pool_open(d, c, false);
	if (pool < 0)
		return pool;
	bfd = disk_open(c, pool, base, O_RDONLY, &st, &bf);
	if (bfd < 0)
		return bfd;
	r = check_base_chain(c, pool, name, base, bfd, bf); /* as 'disk create --backing' */
	if (r < 0)
		return r;
	r = disk_info_read(d, c, base, bfd, bf, info);
	if (r < 0)
		return r;
	fd = disk_file_new(c, pool, name, DISK_FORMAT_QCOW2, base);
	if (fd < 0)
		return fd;
	snprintf(what, sizeof(what), "cannot create disk '%s'", name);
	disk_argv_create_overlay(&a, QEMU_IMG, 3, base, bf, info->virtual_size);
	r = qemu_img_run(d, c, what, &a, fd, NULL, 0);
	if (r < 0) {
		unlinkat(pool, name, 0);
		disk_record_remove(pool, name);
		return r;
	}
	log_info("disk '%s' created in %s: qcow2 overlay on '%s'", name, disk_pool_path(d), base);
	snprintf(ret_path, path_size, "%s", path);
	return 0;
}

/* Undo disk_pool_create() (a vm create that failed after it): nothing half-made stays. */
void disk_pool_remove(struct daemon *d, const char *name)
{
	_cleanup_close_ int pool = open(disk_pool_path(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (pool >= 0 && unlinkat(pool, name, 0) >= 0) {
		disk_record_remove(pool, name);
		log_info("disk '%s' removed from %s (the guest was not created)", name, disk_pool_path(d));
	} else
		log_warning("cannot remove disk '%s' from %s: %m", name, disk_pool_path(d));
}

static int method_disk_info(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_close_ int pool = -1, fd = -1;
	enum disk_format f;
	const char *name;
	struct stat st;
	int r = param_name(c, params, &name);

	if (r < 0)
		return r;
	pool = disk_pool_open(d, c, false);
	if (pool < 0)
		return pool;
	fd = disk_open(c, pool, name, O_RDONLY, &st, &f);
	if (fd < 0)
		return fd;
	return disk_reply_info(d, c, pool, name, fd, f, &st);
}

static int method_disk_resize(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_close_ int pool = -1, fd = -1;
	_cleanup_free_ struct disk_info *info = calloc(1, sizeof(*info));
	uint64_t size, want;
	enum disk_format f;
	struct disk_argv a;
	const char *name;
	char what[300];
	struct stat st;
	bool grow;
	int r;

	if (!info)
		return call_errorf(c, -ENOMEM, "out of memory");
	if ((r = param_name(c, params, &name)) < 0 || (r = parse_size(c, params, true, &size, &grow)) < 0)
		return r;
	pool = disk_pool_open(d, c, false);
	if (pool < 0)
		return pool;
	fd = disk_open(c, pool, name, O_RDWR, &st, &f);
	if (fd < 0)
		return fd;
	if ((r = refuse_if_used(d, c, name, &st, true, "resize")) < 0 ||
	    (r = disk_info_read(d, c, name, fd, f, info)) < 0)
		return r;
	want = grow ? info->virtual_size + size : size;
	if (want > DISK_SIZE_MAX)
		return call_errorf(c, -EINVAL, "cannot resize disk '%s': at most 64T", name);
	if (want < info->virtual_size)
		return call_errorf(
			c, -EINVAL,
			"cannot resize disk '%s' to %llu bytes: it has %llu (shrinking loses data: netd "
			"only grows disks)",
			name, (unsigned long long)want, (unsigned long long)info->virtual_size);
	disk_argv_resize(&a, QEMU_IMG, f, 3, want);
	snprintf(what, sizeof(what), "cannot resize disk '%s'", name);
	r = qemu_img_run(d, c, what, &a, fd, NULL, 0);
	if (r < 0)
		return r;
	log_info("disk '%s' resized: %llu -> %llu bytes", name, (unsigned long long)info->virtual_size,
		 (unsigned long long)want);
	return disk_reply_info(d, c, pool, name, fd, f, &st);
}

static int method_disk_delete(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_close_ int pool = -1, fd = -1;
	char overlay[NAME_MAX + 1];
	struct stat st, now;
	const char *name;
	json_object *o;
	int r = param_name(c, params, &name);

	if (r < 0)
		return r;
	pool = disk_pool_open(d, c, false);
	if (pool < 0)
		return pool;
	fd = openat(pool, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return call_errorf(c, -ENOENT, "no disk named '%s' in the pool", name);
	r = refuse_if_used(d, c, name, &st, false, "delete");
	if (r < 0)
		return r;
	if (overlay_on(pool, name, overlay, sizeof(overlay)))
		return call_errorf(
			c, -EBUSY,
			"cannot delete disk '%s': disk '%s' is an overlay on it (delete or convert "
			"'%s' first)",
			name, overlay, overlay);
	/* The name still is that file (the pool is root's; this guards against a mistake, not a race). */
	if (fstatat(pool, name, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_ino != st.st_ino ||
	    now.st_dev != st.st_dev)
		return call_errorf(c, -EAGAIN, "disk '%s' changed while deleting it: try again", name);
	if (unlinkat(pool, name, 0) < 0)
		return call_errorf(c, -errno, "cannot delete disk '%s': %m", name);
	disk_record_remove(pool, name);
	log_info("disk '%s' deleted from %s", name, disk_pool_path(d));
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	call_reply(c, o);
	return 0;
}

static json_object *list_entry(struct daemon *d, int pool, const char *name)
{
	_cleanup_close_ int fd =
		openat(pool, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct disk_record rec;
	enum disk_format f;
	uint8_t header[32];
	uint64_t vsize;
	struct stat st;
	json_object *o;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	if (!record_get(pool, name, fd, &rec))
		rec = (struct disk_record){ .format = _DISK_FORMAT_INVALID };
	f = rec.format;
	vsize = (uint64_t)st.st_size;
	if (f == DISK_FORMAT_QCOW2 && pread(fd, header, sizeof(header), 0) == sizeof(header))
		disk_qcow2_virtual_size(header, sizeof(header), &vsize);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "format",
			       json_object_new_string(f >= 0 ? disk_format_to_string(f) : "unknown"));
	json_object_object_add(o, "virtual_size", json_object_new_int64((int64_t)vsize));
	json_object_object_add(o, "actual_size", json_object_new_int64((int64_t)st.st_blocks * 512));
	if (rec.backing[0])
		json_object_object_add(o, "backing_file", json_object_new_string(rec.backing));
	json_object_object_add(o, "used_by", disk_users(d, &st, false));
	return o;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(json_object_get_string(json_object_object_get(*(json_object *const *)a, "name")),
		      json_object_get_string(json_object_object_get(*(json_object *const *)b, "name")));
}

static int method_disk_list(struct daemon *d, struct call *c, json_object *params)
{
	int pool = open(disk_pool_path(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	json_object *a = json_object_new_array();
	struct dirent *e;
	DIR *dir;

	if (pool < 0 && errno == ENOENT) {
		call_reply(c, a); /* no pool yet: no disks */
		return 0;
	}
	if (pool < 0 || !(dir = fdopendir(pool))) {
		int r = -errno;

		if (pool >= 0)
			close(pool);
		json_object_put(a);
		return call_errorf(c, r, "cannot read the disk pool %s: %s", disk_pool_path(d), strerror(-r));
	}
	while ((e = readdir(dir)))
		if (!disk_name_invalid_reason(e->d_name)) {
			json_object *o = list_entry(d, dirfd(dir), e->d_name);

			if (o)
				json_object_array_add(a, o);
		}
	closedir(dir);
	json_object_array_sort(a, compare_names);
	call_reply(c, a);
	return 0;
}

static const struct method disk_table[] = {
	{ "disk.create", method_disk_create, METHOD_CHANGE },
	{ "disk.list", method_disk_list, METHOD_READ },
	{ "disk.info", method_disk_info, METHOD_READ },
	{ "disk.resize", method_disk_resize, METHOD_CHANGE },
	{ "disk.delete", method_disk_delete, METHOD_CHANGE },
	{ "disk.convert", disk_method_convert, METHOD_CHANGE | METHOD_ASYNC },
	{ "disk.import", disk_method_import, METHOD_CHANGE | METHOD_ASYNC },
};

const struct method_area disk_methods = METHOD_AREA(disk_table);
