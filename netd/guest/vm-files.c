/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm-files.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "disk-pool.h"
#include "fileio.h"
#include "macro.h"
#include "vm-store.h"
#include "vm.h"

void vm_cred_from_peer(const struct peer_cred *p, struct process_cred *ret)
{
	*ret = (struct process_cred){ .uid = p->uid, .gid = p->gid };
	for (size_t i = 0; i < p->n_groups && i < PROCESS_GROUPS_MAX; i++)
		ret->groups[ret->n_groups++] = p->groups[i];
}

void vm_peer_from_cred(const struct process_cred *c, struct peer_cred *ret)
{
	*ret = (struct peer_cred){ .uid = c->uid, .gid = c->gid };
	for (size_t i = 0; i < c->n_groups && i < PEER_GROUPS_MAX; i++)
		ret->groups[ret->n_groups++] = c->groups[i];
}

int vm_qemu_cred(struct daemon *d, struct process_cred *ret, char *err, size_t errlen)
{
	int r = process_cred_from_user(d->qemu_user, ret);

	if (r == -ENOENT)
		snprintf(
			err, errlen,
			"QEMU's user '%s' does not exist: create it with scripts/install-deps, or start netd with "
			"--qemu-user USER (--qemu-user root keeps QEMU as root)",
			d->qemu_user);
	else if (r < 0)
		snprintf(err, errlen, "cannot read the groups of QEMU's user '%s': %s", d->qemu_user,
			 strerror(-r));
	return r;
}

bool vm_qemu_may_use_kvm(const struct process_cred *qemu, const char *user, char *err, size_t errlen)
{
	struct stat st;

	if (stat("/dev/kvm", &st) < 0) {
		snprintf(err, errlen, "/dev/kvm: %s", strerror(errno));
		return false;
	}
	if (process_cred_may_access(qemu, st.st_mode, st.st_uid, st.st_gid, R_OK | W_OK))
		return true;
	snprintf(err, errlen,
		 "QEMU's user '%s' may not open /dev/kvm (add it to the device's group: "
		 "scripts/install-deps does)",
		 user);
	return false;
}

/* Root may use any path; others only the image directories that exist (compared canonically). */
struct image_dirs {
	char canonical[NETD_IMAGE_DIRS_MAX][PATH_MAX];
	const char *list[NETD_IMAGE_DIRS_MAX];
};

static void rules_init(struct daemon *d, const struct process_cred *who, struct image_dirs *dirs,
		       struct guest_file_rules *ret)
{
	*ret = (struct guest_file_rules){ .image_dirs = dirs->list, .privileged = who->uid == 0 };
	for (size_t i = 0; i < d->n_image_dirs; i++) {
		char *c = dirs->canonical[ret->n_image_dirs];

		if (realpath(d->image_dirs[i], c))
			dirs->list[ret->n_image_dirs++] = c;
	}
}

void vm_files_close(int fds[VM_FILES_MAX])
{
	for (int k = 0; k < VM_FILES_MAX; k++)
		if (fds[k] >= 0)
			close(TAKE_FD(fds[k]));
}

/* QEMU opens a qcow2 image's backing or data file by path, with its own rights. A disk that is no
 * recorded overlay of the pool gets "backing": null (qemu-argv.c): one whose header names a backing
 * file would boot without its base (its data silently wrong), so that is refused for root too. */
static int check_qcow2(const struct guest *g, const struct guest_disk *disk, int fd,
		       const struct process_cred *who, char *err, size_t errlen)
{
	uint8_t header[DISK_QCOW2_HEADER_LEN];
	struct disk_qcow2_header q;
	ssize_t n;

	if (disk->format != DISK_FORMAT_QCOW2)
		return 0;
	n = pread(fd, header, sizeof(header), 0);
	if (who->uid == 0 && n > 0 && disk_qcow2_header_parse(header, n, &q) && q.backing_offset) {
		snprintf(
			err, errlen,
			"guest '%s': disk %s is a qcow2 image with a backing file netd has no record of: QEMU "
			"gets only the chain netd recorded (an overlay made with 'netdctl disk create "
			"--backing'), never the header's; flatten it (qemu-img convert) or make it in the pool",
			g->name, disk->path);
		return -EPERM;
	}
	if (who->uid == 0)
		return 0;
	if (n < 0 || !guest_qcow2_refers_to_files(header, n))
		return 0;
	snprintf(err, errlen,
		 "guest '%s': disk %s is a qcow2 image with a backing or data file, which QEMU would open "
		 "by path: only root may use such images",
		 g->name, disk->path);
	return -EPERM;
}

void vm_layers_init(struct vm_layers *l)
{
	*l = (struct vm_layers){};
}

static void vm_layers_close_one(struct vm_layers *l, size_t i)
{
	for (size_t k = 0; k < l->n[i] && k < QEMU_LAYERS_MAX; k++)
		close(l->fds[i][k]);
	l->n[i] = 0;
}

void vm_layers_close(struct vm_layers *l)
{
	for (size_t i = 0; i < GUEST_DISKS_MAX; i++) {
		for (size_t k = 0; k < l->n[i] && k < QEMU_LAYERS_MAX; k++)
			close(l->fds[i][k]);
		l->n[i] = 0;
	}
}

/*
 * Disk i of g, open as top (with who's rights): when it is a file of the pool that netd recorded as
 * an overlay, its layers below from netd's records (disk_chain_open: each by name in the pool,
 * never through a symlink, its header checked against its record: no data file, no backing netd
 * did not record), each opened again read-only with who's rights and checked to be the same file.
 * Returns 1 with the layers in l->...[i], 0 for a disk that is no overlay of the pool (nothing
 * below it: QEMU gets "backing": null), or an error with err set.
 */
static int disk_layers(struct daemon *d, const struct guest *g, size_t i, const struct guest_disk *disk,
		       int top, const struct process_cred *who, const struct guest_file_rules *rules,
		       struct vm_layers *l, char *err, size_t errlen)
{
	const char *pool_path = disk_pool_path(d), *name;
	_cleanup_close_ int pool = -1;
	struct call tmp = {};
	struct disk_chain ch;
	struct stat st, tst;
	enum disk_format f;
	size_t plen;
	int fd, r;

	l->n[i] = 0;
	if (!pool_path || disk->format != DISK_FORMAT_QCOW2)
		return 0;
	plen = strlen(pool_path);
	if (strncmp(disk->path, pool_path, plen) || disk->path[plen] != '/' ||
	    strchr(disk->path + plen + 1, '/'))
		return 0;
	name = disk->path + plen + 1;
	pool = disk_pool_open(d, &tmp, false);
	if (pool < 0)
		return 0;
	fd = disk_open(&tmp, pool, name, O_RDONLY, &st, &f);
	if (fd < 0) {
		if (fd == -EMEDIUMTYPE || fd == -ENOENT) /* not netd's: a file like any other */
			return 0;
		snprintf(err, errlen, "guest '%s': disk %s: %s", g->name, disk->path, tmp.err);
		return fd;
	}
	if (fstat(top, &tst) < 0 || tst.st_dev != st.st_dev || tst.st_ino != st.st_ino) {
		close(fd);
		snprintf(err, errlen, "guest '%s': disk %s changed while netd opened it; try again", g->name,
			 disk->path);
		return -EAGAIN;
	}
	r = disk_chain_open(&tmp, pool, name, fd, f, &ch);
	if (r < 0) {
		snprintf(err, errlen, "guest '%s': disk %s: %s", g->name, disk->path, tmp.err);
		return r;
	}
	if (ch.n - 1 > QEMU_LAYERS_MAX) {
		disk_chain_close(&ch);
		snprintf(err, errlen, "guest '%s': disk %s: too many layers", g->name, disk->path);
		return -ELOOP;
	}
	for (size_t k = 1; k < ch.n; k++) {
		_cleanup_free_ char *path = path_join(pool_path, ch.names[k]);
		char why[PATH_MAX + 512];
		struct stat a, b;
		int lfd = -1;

		r = path ? guest_file_open(who, GUEST_FILE_DISK_RO, path, rules, &lfd, why, sizeof(why)) :
			   -ENOMEM;
		if (r < 0) {
			snprintf(err, errlen, "guest '%s': disk %s is an overlay on '%s': %s", g->name,
				 disk->path, ch.names[k], path ? why : "out of memory");
		} else if (fstat(lfd, &a) < 0 || fstat(ch.fds[k], &b) < 0 || a.st_dev != b.st_dev ||
			   a.st_ino != b.st_ino) {
			close(lfd);
			snprintf(
				err, errlen,
				"guest '%s': disk %s: its layer '%s' changed while netd opened it; try again",
				g->name, disk->path, ch.names[k]);
			r = -EAGAIN;
		}
		if (r < 0) {
			disk_chain_close(&ch);
			vm_layers_close_one(l, i);
			return r;
		}
		l->fds[i][k - 1] = lfd;
		l->formats[i][k - 1] = ch.formats[k];
		l->n[i] = k;
	}
	disk_chain_close(&ch);
	return l->n[i] > 0;
}

/* Slot k of v->files: which file, of which kind. */
static const char *slot_path(const struct guest *g, int k, enum guest_file_kind *ret_kind)
{
	switch (k) {
	case VM_FILE_KERNEL:
		*ret_kind = GUEST_FILE_KERNEL;
		return g->kernel;
	case VM_FILE_INITRD:
		*ret_kind = GUEST_FILE_INITRD;
		return g->initrd;
	case VM_FILE_CDROM:
		*ret_kind = GUEST_FILE_CDROM;
		return g->cdrom;
	default:
		if ((size_t)(k - VM_FILE_DISK0) >= g->n_disks)
			return "";
		*ret_kind = g->disks[k - VM_FILE_DISK0].readonly ? GUEST_FILE_DISK_RO : GUEST_FILE_DISK;
		return g->disks[k - VM_FILE_DISK0].path;
	}
}

int vm_files_open(struct daemon *d, const struct guest *g, const struct process_cred *who,
		  int fds[VM_FILES_MAX], struct vm_layers *layers, char *err, size_t errlen)
{
	struct image_dirs dirs;
	struct guest_file_rules rules;
	struct vm_layers local;
	char why[PATH_MAX + 512];
	int r;

	if (!layers)
		layers = &local;
	vm_layers_init(layers);
	rules_init(d, who, &dirs, &rules);
	for (int k = 0; k < VM_FILES_MAX; k++)
		fds[k] = -1;
	for (int k = 0; k < VM_FILES_MAX; k++) {
		enum guest_file_kind kind = GUEST_FILE_KERNEL;
		const char *path = slot_path(g, k, &kind);
		size_t i = k - VM_FILE_DISK0;

		if (!path[0])
			continue;
		r = guest_file_open(who, kind, path, &rules, &fds[k], why, sizeof(why));
		if (r < 0)
			snprintf(err, errlen, "guest '%s': %s %s", g->name, guest_file_kind_to_string(kind),
				 why);
		else if (k >= VM_FILE_DISK0) {
			/* an overlay's header names its base: netd's record says the same (disk_open) */
			r = disk_layers(d, g, i, &g->disks[i], fds[k], who, &rules, layers, err, errlen);
			if (r == 0)
				r = check_qcow2(g, &g->disks[i], fds[k], who, err, errlen);
		}
		if (r < 0) {
			vm_files_close(fds);
			vm_layers_close(layers);
			return r;
		}
	}
	if (layers == &local)
		vm_layers_close(&local);
	return 0;
}

int vm_file_open_disk(struct daemon *d, const struct guest *g, const struct guest_disk *disk,
		      const struct process_cred *who, int *ret_fd, struct vm_layers *layers, char *err,
		      size_t errlen)
{
	enum guest_file_kind kind = disk->readonly ? GUEST_FILE_DISK_RO : GUEST_FILE_DISK;
	struct image_dirs dirs;
	struct guest_file_rules rules;
	char why[PATH_MAX + 512];
	int fd = -1, r;

	rules_init(d, who, &dirs, &rules);
	r = guest_file_open(who, kind, disk->path, &rules, &fd, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "guest '%s': disk %s", g->name, why);
		return r;
	}
	vm_layers_init(layers);
	r = disk_layers(d, g, 0, disk, fd, who, &rules, layers, err, errlen);
	if (r == 0)
		r = check_qcow2(g, disk, fd, who, err, errlen);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

gid_t vm_netd_gid(void)
{
	struct group *g = getgrnam("netd");

	return g ? g->gr_gid : 0;
}

static int dir_prepare(const char *path, gid_t gid)
{
	int r = mkdir_p(path, 0750);

	if (r < 0)
		return r;
	r = give_to_root(-1, path, gid);
	if (r >= 0 && chmod(path, 0750) < 0)
		r = -errno;
	return r;
}

int vm_run_dir_prepare(struct daemon *d, const char *name, char *err, size_t errlen)
{
	_cleanup_free_ char *guests = path_join(d->paths.run_dir, "guests"),
			    *dir = store_guest_run_dir(&d->paths, name);
	gid_t gid = vm_netd_gid();
	int r;

	if (!guests || !dir)
		return -ENOMEM;
	r = dir_prepare(guests, gid);
	if (r >= 0)
		r = dir_prepare(dir, gid);
	if (r < 0)
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-r));
	return r;
}

int vm_log_open(const char *path, int *ret_fd)
{
	_cleanup_close_ int fd =
		open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
	int r;

	if (fd < 0)
		return -errno;
	/* A log of an older netd may be world-readable. */
	r = give_to_root(fd, NULL, vm_netd_gid());
	if (r < 0)
		return r;
	if (fchmod(fd, 0640) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int vm_socket_listen(const char *path, mode_t mode, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	old = umask(0177); /* 0600 until the group is set */
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return -errno;
	r = give_to_root(-1, path, vm_netd_gid());
	if (r < 0)
		return r;
	if (chmod(path, mode) < 0 || listen(fd, 8) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int vm_vnc_password(char ret[static 9])
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	const size_t n = sizeof(alphabet) - 1, limit = 256 - 256 % n;
	uint8_t b[64];
	size_t len = 0;

	/* Rejection sampling keeps the characters equally likely. */
	while (len < 8) {
		if (getrandom(b, sizeof(b), 0) != sizeof(b))
			return -EIO;
		for (size_t i = 0; i < sizeof(b) && len < 8; i++)
			if (b[i] < limit)
				ret[len++] = alphabet[b[i] % n];
	}
	ret[8] = 0;
	return 0;
}
