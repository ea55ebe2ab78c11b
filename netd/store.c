/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fileio.h"
#include "macro.h"

static char *pathf(const char *fmt, ...) _printf_(1, 2);
static char *pathf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

char *store_network_path(const struct netd_paths *p, const char *name)
{
	return pathf("%s/networks/%s.conf", p->config_dir, name);
}

static int load_one(const struct netd_paths *p, const char *file, struct network **ret, char *err, size_t errlen)
{
	_cleanup_free_ char *path = pathf("%s/networks/%s", p->config_dir, file), *text = NULL;
	char name[NAME_MAX_LEN + 2];
	size_t len = strlen(file) - strlen(".conf");
	_cleanup_network_ struct network *n = NULL;
	int r;

	if (!path)
		return -ENOMEM;
	if (len >= sizeof(name) - 1) {
		snprintf(err, errlen, "file name is not a valid network name");
		return -EINVAL;
	}
	memcpy(name, file, len);
	name[len] = 0;
	r = read_file(path, &text, NULL);
	if (r < 0) {
		snprintf(err, errlen, "cannot read: %s", strerror(-r));
		return r;
	}
	n = calloc(1, sizeof(*n)); /* calloc: a failed parse leaves nothing to free */
	if (!n)
		return -ENOMEM;
	r = config_network_parse(name, text, n, err, errlen);
	if (r >= 0)
		r = network_validate(n, err, errlen);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(n);
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a > b && !strcmp(s + a - b, suffix);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp((*(struct network *const *)a)->name, (*(struct network *const *)b)->name);
}

int store_networks_load(const struct netd_paths *p, struct network ***ret, size_t *ret_n,
			store_error_fn on_error, void *userdata)
{
	_cleanup_free_ char *dir = pathf("%s/networks", p->config_dir);
	struct network **list = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if (!dir)
		return -ENOMEM;
	d = opendir(dir);
	if (!d && errno != ENOENT)
		return -errno;
	while (d && (de = readdir(d))) {
		char err[512];
		struct network *net, **l;

		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".conf"))
			continue;
		if (load_one(p, de->d_name, &net, err, sizeof(err)) < 0) {
			on_error(de->d_name, err, userdata);
			continue;
		}
		l = realloc(list, (n + 1) * sizeof(*l));
		if (!l) {
			network_free(net);
			break;
		}
		list = l;
		list[n++] = net;
	}
	if (d)
		closedir(d);
	if (n)
		qsort(list, n, sizeof(*list), name_cmp);
	*ret = list;
	*ret_n = n;
	return 0;
}

int store_network_save(const struct netd_paths *p, const struct network *n)
{
	_cleanup_free_ char *dir = pathf("%s/networks", p->config_dir), *path = store_network_path(p, n->name);
	_cleanup_free_ char *text = config_network_render(n);
	int r;

	if (!dir || !path || !text)
		return -ENOMEM;
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	return write_file_atomic(path, text, strlen(text), 0644);
}

int store_network_remove(const struct netd_paths *p, const char *name)
{
	_cleanup_free_ char *path = store_network_path(p, name);

	if (!path)
		return -ENOMEM;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int store_network_mac(const struct netd_paths *p, const struct network *n, struct mac *ret)
{
	_cleanup_free_ char *dir = pathf("%s/networks/%s", p->state_dir, n->name);
	_cleanup_free_ char *path = pathf("%s/networks/%s/mac", p->state_dir, n->name), *text = NULL;
	char buf[MAC_STRLEN + 1];
	struct mac m;
	int r;

	if (n->has_mac) {
		*ret = n->mac;
		return 0;
	}
	if (!dir || !path)
		return -ENOMEM;
	if (read_file(path, &text, NULL) >= 0) {
		text[strcspn(text, "\n")] = 0;
		if (mac_parse(text, ret) >= 0)
			return 0;
	}
	r = mac_random(&m);
	if (r < 0)
		return r;
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	mac_format(&m, buf, sizeof(buf) - 1);
	strcat(buf, "\n");
	r = write_file_atomic(path, buf, strlen(buf), 0644);
	if (r < 0)
		return r;
	*ret = m;
	return 0;
}

int store_network_state_remove(const struct netd_paths *p, const char *name)
{
	_cleanup_free_ char *dir = pathf("%s/networks/%s", p->state_dir, name);

	return dir ? rm_rf(dir) : -ENOMEM;
}

int store_active_init(const struct netd_paths *p)
{
	_cleanup_free_ char *dir = pathf("%s/networks", p->run_dir);

	return dir ? mkdir_p(dir, 0755) : -ENOMEM;
}

bool store_active_known(const struct netd_paths *p)
{
	_cleanup_free_ char *dir = pathf("%s/networks", p->run_dir);

	return dir && access(dir, F_OK) == 0;
}

int store_active_set(const struct netd_paths *p, const char *name, bool active)
{
	_cleanup_free_ char *path = pathf("%s/networks/%s.active", p->run_dir, name);

	if (!path)
		return -ENOMEM;
	if (!active)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	return write_runtime_file(path, "", 0, 0644);
}

bool store_active_get(const struct netd_paths *p, const char *name)
{
	_cleanup_free_ char *path = pathf("%s/networks/%s.active", p->run_dir, name);

	return path && access(path, F_OK) == 0;
}
