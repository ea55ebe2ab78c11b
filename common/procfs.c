/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"

int procfs_open(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? negative_errno() : fd;
}

int procfs_read(int dfd, const char *name, char *buf, size_t size, size_t *ret_len, bool *ret_more)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t k;
	char c;

	if (fd < 0)
		return negative_errno();
	while (n < size && (k = read(fd, buf + n, size - n)) != 0) {
		if (k < 0)
			return negative_errno();
		n += k;
	}
	*ret_more = n == size && read(fd, &c, 1) > 0;
	*ret_len = n;
	return 0;
}

int procfs_cmdline(int dfd, char *buf, size_t size, size_t *ret_len, bool *ret_truncated)
{
	size_t n;
	int r;

	if (size < 2)
		return -EINVAL;
	r = procfs_read(dfd, "cmdline", buf, size - 1, &n, ret_truncated);
	if (r < 0)
		return r;
	if (n == 0)
		return -ESRCH; /* a kernel thread, or a zombie */
	buf[n] = 0;
	if (buf[n - 1])
		n++; /* keep the last argument terminated */
	*ret_len = n;
	return 0;
}

int procfs_cmdline_alloc(int dfd, char **ret, size_t *ret_len)
{
	for (size_t size = 4096; size <= PROCFS_CMDLINE_MAX; size *= 2) {
		_cleanup_free_ char *buf = malloc(size);
		bool truncated;
		size_t len;
		int r;

		if (!buf)
			return -ENOMEM;
		r = procfs_cmdline(dfd, buf, size, &len, &truncated);
		if (r < 0)
			return r;
		if (!truncated) {
			*ret = TAKE_PTR(buf);
			*ret_len = len;
			return 0;
		}
	}
	return -E2BIG;
}

int procfs_exe(int dfd, char *buf, size_t size)
{
	ssize_t n = readlinkat(dfd, "exe", buf, size);

	if (n < 0)
		return negative_errno();
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	buf[n] = 0;
	return 0;
}

int procfs_status_uids(const char *text, uid_t ret[3])
{
	const char *p = strncmp(text, "Uid:", 4) ? strstr(text, "\nUid:") : text;
	unsigned u[3];

	if (!p)
		return -EINVAL;
	if (*p == '\n')
		p++;
	if (sscanf(p, "Uid: %u %u %u", &u[0], &u[1], &u[2]) != 3)
		return -EINVAL;
	for (int i = 0; i < 3; i++)
		ret[i] = u[i];
	return 0;
}

static int read_status(int dfd, char *buf, size_t size)
{
	size_t n;
	bool more;
	int r = procfs_read(dfd, "status", buf, size - 1, &n, &more);

	if (r < 0)
		return r;
	buf[n] = 0;
	return 0;
}

int procfs_uids(int dfd, uid_t ret[3])
{
	char status[8192];
	int r = read_status(dfd, status, sizeof(status));

	return r < 0 ? r : procfs_status_uids(status, ret);
}

int procfs_status_ppid(const char *text, pid_t *ret)
{
	const char *p = strncmp(text, "PPid:", 5) ? strstr(text, "\nPPid:") : text;
	int v;

	if (!p)
		return -EINVAL;
	if (*p == '\n')
		p++;
	if (sscanf(p, "PPid: %d", &v) != 1 || v < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

int procfs_ppid(int dfd, pid_t *ret)
{
	char status[8192];
	int r = read_status(dfd, status, sizeof(status));

	return r < 0 ? r : procfs_status_ppid(status, ret);
}

int procfs_children(int dfd, pid_t pid, pid_t *ret, size_t n)
{
	char path[64], buf[4096], *p, *end;
	size_t len, k = 0;
	bool more;
	int r;

	snprintf(path, sizeof(path), "task/%d/children", (int)pid);
	r = procfs_read(dfd, path, buf, sizeof(buf) - 1, &len, &more);
	if (r < 0)
		return r;
	buf[len] = 0;
	for (p = buf; k < n; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (v > 0 && v <= INT32_MAX)
			ret[k++] = (pid_t)v;
	}
	return (int)k;
}

ino_t procfs_netns(const char *pid)
{
	char path[300];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
	return stat(path, &st) < 0 ? 0 : st.st_ino;
}

bool procfs_argv_has(const char *argv, size_t len, const char *arg)
{
	size_t want = strlen(arg);

	for (size_t off = 0, k; off < len; off += k + 1) {
		k = strnlen(argv + off, len - off);
		if (k == want && !memcmp(argv + off, arg, k))
			return true;
	}
	return false;
}
