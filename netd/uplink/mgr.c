/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network manager drivers' registry, and the originals of the files they change. */
#include "mgr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

/* Asked in this order: the first that manages the port (or refuses) answers. */
static const struct mgr_driver *const drivers[] = { &mgr_networkmanager, &mgr_networkd, &mgr_ifupdown };

int mgr_detect(const struct mgr_ctx *c, const struct mgr_driver **ret, char *err, size_t errlen)
{
	*ret = NULL;
	if (!c->root)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(drivers); i++) {
		int r = drivers[i]->detect(c, err, errlen);

		if (r < 0)
			return r;
		if (r > 0) {
			*ret = drivers[i];
			return 0;
		}
	}
	return 0;
}

const struct mgr_driver *mgr_driver_find(const char *name)
{
	for (size_t i = 0; name && i < ELEMENTSOF(drivers); i++)
		if (!strcmp(drivers[i]->name, name))
			return drivers[i];
	return NULL;
}

char *mgr_path(const struct mgr_ctx *c, const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", strcmp(c->root, "/") ? c->root : "", rel) < 0)
		return NULL;
	return p;
}

static char *save_path(const char *save_dir, const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s%s%s%s%s", save_dir, a ? "/" : "", a ? a : "", b ? "/" : "", b ? b : "") < 0)
		return NULL;
	return p;
}

const struct mgr_driver *mgr_saved_driver(const char *save_dir)
{
	_cleanup_free_ char *path = save_path(save_dir, "driver", NULL), *text = NULL;

	if (!path || read_file(path, &text, NULL) < 0)
		return NULL;
	text[strcspn(text, "\n")] = 0;
	return mgr_driver_find(text);
}

int mgr_save_driver(const char *save_dir, const struct mgr_driver *drv)
{
	_cleanup_free_ char *path = save_path(save_dir, "driver", NULL);
	char text[64];
	int r;

	if (!path)
		return -ENOMEM;
	r = mkdir_p(save_dir, 0700);
	if (r < 0)
		return r;
	snprintf(text, sizeof(text), "%s\n", drv->name);
	return write_file_atomic(path, text, strlen(text), 0600);
}

bool mgr_persisted(const char *save_dir)
{
	_cleanup_free_ char *path = save_path(save_dir, "persisted", NULL);

	return path && access(path, F_OK) == 0;
}

int mgr_set_persisted(const char *save_dir, bool on)
{
	_cleanup_free_ char *path = save_path(save_dir, "persisted", NULL);

	if (!path)
		return -ENOMEM;
	if (on)
		return write_file_atomic(path, "", 0, 0600);
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

/*
 * A saved file is named by the hex of its path below the root (any path, one flat directory, no
 * escaping to get wrong), and holds "present MODE\n" and the bytes, or "absent\n".
 */
#define SAVED_ABSENT "absent\n"

static char *saved_name(const char *rel)
{
	size_t n = strlen(rel);
	char *s = malloc(2 * n + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", (unsigned char)rel[i]);
	s[2 * n] = 0;
	return s;
}

static char *saved_rel(const char *name)
{
	size_t n = strlen(name);
	char *s;

	if (n == 0 || n % 2 || strspn(name, "0123456789abcdef") != n)
		return NULL;
	s = malloc(n / 2 + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		sscanf(name + 2 * i, "%2x", &v);
		s[i] = (char)v;
	}
	s[n / 2] = 0;
	/* Only what mgr_file_save() names: relative, no "..", no NUL inside. */
	if (strlen(s) != n / 2 || s[0] == '/' || strstr(s, "..")) {
		free(s);
		return NULL;
	}
	return s;
}

int mgr_file_save(const struct mgr_ctx *c, const char *set, const char *rel)
{
	_cleanup_free_ char *name = saved_name(rel), *dir = save_path(c->save_dir, set, NULL);
	_cleanup_free_ char *saved = NULL, *path = mgr_path(c, rel), *text = NULL, *out = NULL;
	size_t len = 0, head;
	struct stat st;
	int r;

	if (!name || !dir || !path)
		return -ENOMEM;
	if (rel[0] == '/' || strstr(rel, ".."))
		return -EINVAL;
	saved = save_path(dir, name, NULL);
	if (!saved)
		return -ENOMEM;
	if (access(saved, F_OK) == 0)
		return 0;
	r = mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return -errno;
		return write_file_atomic(saved, SAVED_ABSENT, strlen(SAVED_ABSENT), 0600);
	}
	/* Put back as a file, a link would not be what was there. */
	if (!S_ISREG(st.st_mode))
		return -ELOOP;
	r = read_file(path, &text, &len);
	if (r < 0)
		return r;
	out = malloc(len + 32);
	if (!out)
		return -ENOMEM;
	head = snprintf(out, 32, "present %04o\n", (unsigned)(st.st_mode & 07777));
	memcpy(out + head, text, len);
	return write_file_atomic(saved, out, head + len, 0600);
}

static int restore_one(const struct mgr_ctx *c, const char *dir, const char *name, char *err, size_t errlen)
{
	_cleanup_free_ char *rel = saved_rel(name), *saved = save_path(dir, name, NULL), *text = NULL;
	_cleanup_free_ char *path = NULL;
	unsigned mode;
	size_t len;
	int r, n = 0;

	if (!rel || !saved) {
		snprintf(err, errlen, "%s/%s is not a file netd saved", dir, name);
		return -EINVAL;
	}
	path = mgr_path(c, rel);
	r = path ? read_file(saved, &text, &len) : -ENOMEM;
	if (r >= 0 && !strcmp(text, SAVED_ABSENT))
		r = unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	else if (r >= 0 && sscanf(text, "present %4o\n%n", &mode, &n) == 1 && n > 0)
		r = write_file_atomic(path, text + n, len - n, mode & 07777);
	else if (r >= 0)
		r = -EINVAL;
	if (r < 0)
		snprintf(err, errlen, "cannot put back /%s as it was (saved in %s): %s", rel, saved,
			 strerror(-r));
	else
		unlink(saved);
	return r;
}

int mgr_files_restore(const struct mgr_ctx *c, const char *set, char *err, size_t errlen)
{
	_cleanup_free_ char *dir = save_path(c->save_dir, set, NULL);
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (!dir)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char e[512];
		int r;

		if (de->d_name[0] == '.')
			continue;
		r = restore_one(c, dir, de->d_name, e, sizeof(e));
		if (r < 0 && ret == 0) {
			ret = r;
			snprintf(err, errlen, "%s", e);
		}
	}
	closedir(d);
	if (ret == 0)
		rmdir(dir);
	return ret;
}

int mgr_file_write(const struct mgr_ctx *c, const char *set, const char *rel, const char *text, size_t len,
		   mode_t mode)
{
	_cleanup_free_ char *path = mgr_path(c, rel);
	int r;

	if (!path)
		return -ENOMEM;
	r = mgr_file_save(c, set, rel);
	if (r < 0)
		return r;
	return write_file_atomic(path, text, len, mode);
}

int mgr_file_remove(const struct mgr_ctx *c, const char *set, const char *rel)
{
	_cleanup_free_ char *path = mgr_path(c, rel);
	int r;

	if (!path)
		return -ENOMEM;
	r = mgr_file_save(c, set, rel);
	if (r < 0)
		return r;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}
