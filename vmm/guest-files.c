/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "guest-files.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"

#define OPEN_TIMEOUT_MSEC 10000 /* a hung network file system must not hold netd up for long */

static const char *const kind_names[_GUEST_FILE_MAX] = {
	[GUEST_FILE_KERNEL] = "kernel", [GUEST_FILE_INITRD] = "initrd", [GUEST_FILE_DISK] = "disk",
	[GUEST_FILE_CDROM] = "cdrom",	[GUEST_FILE_DISK_RO] = "disk",
};

const char *guest_file_kind_to_string(enum guest_file_kind k)
{
	return k < _GUEST_FILE_MAX ? kind_names[k] : NULL;
}

const char *guest_file_path(const struct guest *g, enum guest_file_kind k)
{
	switch (k) {
	case GUEST_FILE_KERNEL:
		return g->kernel;
	case GUEST_FILE_INITRD:
		return g->initrd;
	case GUEST_FILE_DISK:
	case GUEST_FILE_DISK_RO:
		return g->n_disks ? g->disks[0].path : "";
	case GUEST_FILE_CDROM:
		return g->cdrom;
	default:
		return "";
	}
}

static bool under(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	if (len == 1 && dir[0] == '/')
		return true;
	return !strncmp(path, dir, len) && path[len] == '/';
}

enum guest_file_verdict guest_file_check(enum guest_file_kind k, mode_t mode, const char *canonical,
					 const struct guest_file_rules *rules)
{
	bool drive = k == GUEST_FILE_DISK || k == GUEST_FILE_DISK_RO || k == GUEST_FILE_CDROM;

	if (!S_ISREG(mode) && !(drive && S_ISBLK(mode)))
		return GUEST_FILE_NOT_REGULAR;
	if (rules->privileged)
		return GUEST_FILE_OK;
	if (S_ISBLK(mode))
		return GUEST_FILE_BLOCK_DEVICE;
	for (size_t i = 0; i < rules->n_image_dirs; i++)
		if (under(canonical, rules->image_dirs[i]))
			return GUEST_FILE_OK;
	return GUEST_FILE_OUTSIDE;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

bool guest_qcow2_refers_to_files(const uint8_t *h, size_t len)
{
	static const uint8_t magic[4] = { 'Q', 'F', 'I', 0xfb };

	if (len < 16 || memcmp(h, magic, sizeof(magic)))
		return false;
	if (be64(h + 8) != 0) /* backing_file_offset */
		return true;
	/* Version 3: incompatible feature bit 2 is an external data file. */
	return len >= 80 && be64(h + 4) >> 32 >= 3 && (be64(h + 72) & (1u << 2));
}

enum open_step {
	STEP_NONE, /* no report: the child could not answer */
	STEP_CREDS,
	STEP_PATH,
	STEP_CHECK,
	STEP_OPEN,
	STEP_DONE,
};

/* What the opening side found; sent back by the child as one datagram (with the fd when done). */
struct open_report {
	int step;
	int error;
	int verdict;
	char canonical[PATH_MAX];
};

/* "/proc/self/fd/N" without stdio: this runs between fork and _exit. */
static void proc_fd_path(char buf[static 32], int fd)
{
	char digits[16];
	size_t n = 0, len = strlen("/proc/self/fd/");

	memcpy(buf, "/proc/self/fd/", len);
	do
		digits[n++] = '0' + fd % 10;
	while ((fd /= 10) > 0);
	while (n > 0)
		buf[len++] = digits[--n];
	buf[len] = 0;
}

static int report(struct open_report *rep, int step, int error)
{
	rep->step = step;
	rep->error = error;
	return -1;
}

/* O_PATH, check, then the real open through /proc/self/fd: async-signal-safe calls only. */
static int open_checked(enum guest_file_kind k, const char *path, const struct guest_file_rules *rules,
			struct open_report *rep)
{
	char proc[32];
	struct stat st;
	ssize_t n;
	int pfd, fd;

	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return report(rep, STEP_PATH, errno);
	proc_fd_path(proc, pfd);
	n = readlink(proc, rep->canonical, sizeof(rep->canonical) - 1);
	if (n < 0 || fstat(pfd, &st) < 0) {
		close(pfd);
		return report(rep, STEP_PATH, errno);
	}
	rep->canonical[n] = 0;
	rep->verdict = guest_file_check(k, st.st_mode, rep->canonical, rules);
	if (rep->verdict != GUEST_FILE_OK) {
		close(pfd);
		return report(rep, STEP_CHECK, 0);
	}
	fd = open(proc, (k == GUEST_FILE_DISK ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
	close(pfd);
	if (fd < 0)
		return report(rep, STEP_OPEN, errno);
	rep->step = STEP_DONE;
	return fd;
}

static _Noreturn void child_open(int sock, const struct process_cred *cred, enum guest_file_kind k,
				 const char *path, const struct guest_file_rules *rules)
{
	struct open_report rep = {};
	char control[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { &rep, sizeof(rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fd = -1;

	/* Nothing of netd's stays open here. The requester's rights are the effective (and file
	 * system) ones only: real and saved uid stay root's, so the requester cannot signal (stop)
	 * this process while netd waits for it, and the change of user makes it non-dumpable: no
	 * ptrace either. It runs nothing but the open below. */
	if (sock > 0)
		syscall(SYS_close_range, 0, sock - 1, 0);
	syscall(SYS_close_range, sock + 1, ~0U, 0);
	if (setgroups(cred->n_groups, cred->groups) < 0 || setresgid(cred->gid, cred->gid, cred->gid) < 0 ||
	    setresuid(0, cred->uid, 0) < 0)
		report(&rep, STEP_CREDS, errno);
	else
		fd = open_checked(k, path, rules, &rep);
	if (fd >= 0) {
		struct cmsghdr *c;

		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	_exit(sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? 1 : 0);
}

static int receive(int sock, struct open_report *rep)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)
	};
	struct pollfd p = { .fd = sock, .events = POLLIN };
	struct cmsghdr *c;
	int fd = -1, r;

	r = poll(&p, 1, OPEN_TIMEOUT_MSEC);
	if (r <= 0)
		return r < 0 ? -errno : -ETIMEDOUT;
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(*rep))
		return -EIO;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if ((rep->step == STEP_DONE) != (fd >= 0)) {
		if (fd >= 0)
			close(fd);
		if (rep->step == STEP_DONE)
			rep->step = STEP_NONE;
		return -EIO;
	}
	return fd;
}

/* The open as another user: a child that takes cred and sends the fd back. Returns the fd, or a
 * negative errno (rep says why when the child could tell). */
static int open_as(const struct process_cred *cred, enum guest_file_kind k, const char *path,
		   const struct guest_file_rules *rules, struct open_report *rep)
{
	_cleanup_close_ int parent = -1, child = -1;
	int sv[2], fd;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	parent = sv[0];
	child = sv[1];
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_open(child, cred, k, path, rules);
	close(TAKE_FD(child));
	fd = receive(parent, rep);
	if (fd < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return fd;
}

static int errf(char *err, size_t errlen, int error, const char *fmt, ...) _printf_(4, 5);
static int errf(char *err, size_t errlen, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -error;
}

static int explain(const struct process_cred *cred, enum guest_file_kind k, const char *path,
		   const struct guest_file_rules *rules, const struct open_report *rep, char *err,
		   size_t errlen)
{
	char real[PATH_MAX + 32] = "", dirs[512] = "";
	bool rw = k == GUEST_FILE_DISK;

	if (strcmp(path, rep->canonical))
		snprintf(real, sizeof(real), " (really %s)", rep->canonical);
	if (rep->step == STEP_CREDS)
		return errf(err, errlen, rep->error, "%s: cannot take the rights of uid %u: %s", path,
			    (unsigned)cred->uid, strerror(rep->error));
	if (rep->step != STEP_CHECK && (rep->error == EACCES || rep->error == EPERM))
		return errf(
			err, errlen, EACCES,
			"%s: permission denied for uid %u (the file must be %s by the user who starts the guest)",
			path, (unsigned)cred->uid, rw ? "readable and writable" : "readable");
	if (rep->step != STEP_CHECK)
		return errf(err, errlen, rep->error, "%s: %s", path, strerror(rep->error));
	switch (rep->verdict) {
	case GUEST_FILE_NOT_REGULAR:
		return errf(err, errlen, EINVAL, "%s%s is not a regular file%s", path, real,
			    k == GUEST_FILE_KERNEL || k == GUEST_FILE_INITRD ? "" : " (nor a block device)");
	case GUEST_FILE_BLOCK_DEVICE:
		return errf(err, errlen, EPERM,
			    "%s%s is a block device: only root may give guests block devices", path, real);
	default:
		for (size_t i = 0; i < rules->n_image_dirs; i++)
			snprintf(dirs + strlen(dirs), sizeof(dirs) - strlen(dirs), "%s%s", i ? ", " : "",
				 rules->image_dirs[i]);
		return errf(err, errlen, EPERM,
			    "%s%s is outside the image directories (%s); only root may use other paths", path,
			    real, rules->n_image_dirs ? dirs : "none");
	}
}

int guest_file_open(const struct process_cred *cred, enum guest_file_kind k, const char *path,
		    const struct guest_file_rules *rules, int *ret_fd, char *err, size_t errlen)
{
	struct open_report rep = { .step = STEP_NONE };
	int fd;

	if (path[0] != '/')
		return errf(err, errlen, EINVAL, "%s: the path must be absolute", path);
	if (cred->uid == 0 || cred->uid == geteuid())
		fd = open_checked(k, path, rules, &rep); /* root (or ourselves) needs no child */
	else
		fd = open_as(cred, k, path, rules, &rep);
	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	if (rep.step == STEP_NONE)
		return errf(err, errlen, fd == -1 ? EIO : -fd, "%s: cannot open it as uid %u: %s", path,
			    (unsigned)cred->uid, strerror(fd == -1 ? EIO : -fd));
	return explain(cred, k, path, rules, &rep, err, errlen);
}

int guest_file_memfd(int fd, const char *name, int *ret_fd, int *ret_ro_fd)
{
	_cleanup_close_ int mfd = -1, ro = -1;
	_cleanup_free_ char *buf = malloc(1 << 20);
	char proc[32];
	struct stat st;
	off_t off = 0;

	if (!buf)
		return -ENOMEM;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > GUEST_BOOT_FILE_MAX)
		return -EFBIG;
	mfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -errno;
	for (;;) {
		ssize_t n = pread(fd, buf, 1 << 20, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if ((uint64_t)(off + n) > GUEST_BOOT_FILE_MAX)
			return -EFBIG; /* it grew while we read it */
		for (ssize_t done = 0, w; done < n; done += w) {
			w = write(mfd, buf + done, n - done);
			if (w < 0)
				return -errno;
		}
		off += n;
	}
	/* No writes and no growing from here on, by anyone; shrinking stays possible for the owner.
	 * F_SEAL_WRITE waits for the pages' extra references to go and fails with EBUSY when they do
	 * not in time: pages just written can sit in another CPU's LRU batch (seen on a loaded
	 * 2-CPU machine). Nobody ever mapped this memfd, so F_SEAL_FUTURE_WRITE (no write(), no new
	 * writable mapping) closes it just as well then. */
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		if (errno != EBUSY ||
		    fcntl(mfd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE | F_SEAL_GROW | F_SEAL_SEAL) < 0)
			return -errno;
	}
	proc_fd_path(proc, mfd);
	ro = open(proc, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		return -errno;
	*ret_fd = TAKE_FD(mfd);
	*ret_ro_fd = TAKE_FD(ro);
	return 0;
}
