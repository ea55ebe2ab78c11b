/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"

char *path_join(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		return NULL;
	return p;
}

static int write_atomic(const char *path, const char *data, size_t len, mode_t mode, bool sync)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	size_t done = 0;

	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0) {
			int r = -errno;
			unlink(tmp);
			return r;
		}
		done += n;
	}
	if ((sync && fsync(fd) < 0) || rename(tmp, path) < 0) {
		int r = -errno;
		unlink(tmp);
		return r;
	}
	return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	return write_atomic(path, data, len, mode, true);
}

int write_runtime_file(const char *path, const char *data, size_t len, mode_t mode)
{
	return write_atomic(path, data, len, mode, false);
}

int read_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	for (;;) {
		if (cap - len < 4096) {
			char *n = realloc(buf, cap + 8192);
			if (!n)
				return -ENOMEM;
			buf = n;
			cap += 8192;
		}
		size_t k = fread(buf + len, 1, cap - len - 1, f);
		len += k;
		if (k == 0)
			break;
	}
	if (ferror(f))
		return -EIO;
	buf[len] = 0;
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (!d)
		return errno == ENOENT ? 0 : (errno == ENOTDIR ? (unlink(path) < 0 ? -errno : 0) : -errno);
	while ((de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = path_join(path, de->d_name);
		if (!sub) {
			closedir(d);
			return -ENOMEM;
		}
		if (de->d_type == DT_DIR)
			rm_rf(sub);
		else
			unlink(sub);
	}
	closedir(d);
	return rmdir(path) < 0 && errno != ENOENT ? -errno : 0;
}

int give_to_root(int fd, const char *path, gid_t gid)
{
	if (geteuid() != 0)
		return 0;
	if ((fd >= 0 ? fchown(fd, 0, gid) : chown(path, 0, gid)) < 0)
		return -errno;
	return 0;
}
