/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fileio.h"
#include "macro.h"

char *store_pathf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

/* ---- definitions: <config>/KIND/NAME.conf ---- */

typedef char file_name[256];

/* Read NAME.conf of dir into a new object of k (*ret). */
static int load_one(const char *dir, const struct store_kind *k, const char *file, void **ret, char *err,
		    size_t errlen)
{
	_cleanup_free_ char *path = store_pathf("%s/%s", dir, file), *text = NULL;
	char name[NAME_MAX_LEN + 1];
	size_t len = strlen(file) - strlen(".conf");
	void *obj;
	int r;

	if (!path)
		return -ENOMEM;
	if (len >= sizeof(name)) {
		snprintf(err, errlen, "file name is not a valid %s name", k->noun);
		return -EINVAL;
	}
	memcpy(name, file, len);
	name[len] = 0;
	r = read_file(path, &text, NULL);
	if (r < 0) {
		snprintf(err, errlen, "cannot read: %s", strerror(-r));
		return r;
	}
	obj = calloc(1, k->size); /* zeroed: a failed parse leaves nothing to free */
	if (!obj)
		return -ENOMEM;
	r = k->parse(name, text, obj, err, errlen);
	if (r < 0) {
		k->free(obj);
		return r;
	}
	*ret = obj;
	return 0;
}

static bool is_definition(const char *file)
{
	size_t n = strlen(file), k = strlen(".conf");

	return file[0] != '.' && n > k && !strcmp(file + n - k, ".conf");
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The definition files in dir (none if it does not exist), sorted: the load order. */
static int list_definitions(const char *dir, file_name **ret, size_t *ret_n)
{
	DIR *d = opendir(dir);
	file_name *files = NULL, *l;
	struct dirent *de;
	size_t n = 0;

	if (!d && errno != ENOENT)
		return -errno;
	while (d && (de = readdir(d))) {
		if (!is_definition(de->d_name))
			continue;
		l = realloc(files, (n + 1) * sizeof(*l));
		if (!l) {
			free(files);
			closedir(d);
			return -ENOMEM;
		}
		files = l;
		snprintf(files[n++], sizeof(*files), "%s", de->d_name);
	}
	if (d)
		closedir(d);
	if (n)
		qsort(files, n, sizeof(*files), name_cmp);
	*ret = files;
	*ret_n = n;
	return 0;
}

int store_config_load(const struct netd_paths *p, const struct store_kind *k, void *ret_list, size_t *ret_n,
		      store_error_fn on_error, void *userdata)
{
	_cleanup_free_ char *dir = store_pathf("%s/%s", p->config_dir, k->folder);
	_cleanup_free_ file_name *files = NULL;
	_cleanup_free_ void **list = NULL;
	size_t n_files = 0, n = 0;
	int r;

	if (!dir)
		return -ENOMEM;
	r = list_definitions(dir, &files, &n_files);
	if (r >= 0 && n_files)
		list = calloc(n_files, sizeof(*list));
	if (r >= 0 && n_files && !list)
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < n_files; i++) {
		char err[512];

		r = load_one(dir, k, files[i], &list[n], err, sizeof(err));
		if (r >= 0)
			n++;
		else if (r != -ENOMEM) {
			on_error(files[i], err, userdata);
			r = 0;
		}
	}
	if (r < 0) {
		while (n > 0)
			k->free(list[--n]);
		return r;
	}
	/* An array of pointers to k's objects, as the caller declared it (struct network **). Object
	 * pointers share one representation; memcpy keeps the types right. */
	memcpy(ret_list, &(void *){ TAKE_PTR(list) }, sizeof(void *));
	*ret_n = n;
	return 0;
}

/* Atomically, after making its folder. */
static int write_in(const char *dir, const char *path, const char *text, mode_t mode)
{
	int r;

	if (!dir || !path)
		return -ENOMEM;
	r = mkdir_p(dir, 0755);
	return r < 0 ? r : write_file_atomic(path, text, strlen(text), mode);
}

int store_config_save(const struct netd_paths *p, const char *kind, const char *name, const char *text,
		      mode_t mode)
{
	_cleanup_free_ char *dir = store_pathf("%s/%s", p->config_dir, kind);
	_cleanup_free_ char *path = store_pathf("%s/%s/%s.conf", p->config_dir, kind, name);

	return write_in(dir, path, text, mode);
}

int store_config_remove(const struct netd_paths *p, const char *kind, const char *name)
{
	_cleanup_free_ char *path = store_pathf("%s/%s/%s.conf", p->config_dir, kind, name);

	if (!path)
		return -ENOMEM;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

/* ---- generated values: <state>/KIND/NAME/FILE ---- */

int store_state_read(const struct netd_paths *p, const char *kind, const char *name, const char *file,
		     char **ret)
{
	_cleanup_free_ char *path = store_pathf("%s/%s/%s/%s", p->state_dir, kind, name, file);

	return path ? read_file(path, ret, NULL) : -ENOMEM;
}

int store_state_write(const struct netd_paths *p, const char *kind, const char *name, const char *file,
		      const char *text)
{
	_cleanup_free_ char *dir = store_pathf("%s/%s/%s", p->state_dir, kind, name);
	_cleanup_free_ char *path = store_pathf("%s/%s/%s/%s", p->state_dir, kind, name, file);

	return write_in(dir, path, text, 0644);
}

int store_state_remove(const struct netd_paths *p, const char *kind, const char *name)
{
	_cleanup_free_ char *dir = store_pathf("%s/%s/%s", p->state_dir, kind, name);

	return dir ? rm_rf(dir) : -ENOMEM;
}

int store_macs_load(const struct netd_paths *p, const char *kind, const char *name, const char *file,
		    struct mac *ret, size_t max)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;
	size_t n = 0;
	int r = store_state_read(p, kind, name, file, &text);

	if (r < 0)
		return r;
	for (char *l = strtok_r(text, "\n", &save); l && n < max; l = strtok_r(NULL, "\n", &save), n++)
		if (mac_parse(l, &ret[n]) < 0)
			ret[n] = (struct mac){};
	return (int)n;
}

int store_macs_save(const struct netd_paths *p, const char *kind, const char *name, const char *file,
		    const struct mac *macs, size_t n)
{
	_cleanup_free_ char *text = malloc(n * MAC_STRLEN + 1);
	char m[MAC_STRLEN];
	size_t o = 0;

	if (!text)
		return -ENOMEM;
	text[0] = 0;
	for (size_t i = 0; i < n; i++)
		o += sprintf(text + o, "%s\n", mac_format(&macs[i], m, sizeof(m)));
	return store_state_write(p, kind, name, file, text);
}

/* ---- networks ---- */

char *store_network_path(const struct netd_paths *p, const char *name)
{
	return store_pathf("%s/networks/%s.conf", p->config_dir, name);
}

static int network_load(const char *name, const char *text, void *obj, char *err, size_t errlen)
{
	int r = config_network_parse(name, text, obj, err, errlen);

	return r < 0 ? r : network_validate(obj, err, errlen);
}

static void network_unload(void *obj)
{
	network_free(obj);
}

static const struct store_kind network_kind = { "networks", "network", sizeof(struct network), network_load,
						network_unload };

int store_networks_load(const struct netd_paths *p, struct network ***ret, size_t *ret_n,
			store_error_fn on_error, void *userdata)
{
	return store_config_load(p, &network_kind, ret, ret_n, on_error, userdata);
}

int store_network_save(const struct netd_paths *p, const struct network *n)
{
	_cleanup_free_ char *text = config_network_render(n);

	return text ? store_config_save(p, "networks", n->name, text, 0644) : -ENOMEM;
}

int store_network_remove(const struct netd_paths *p, const char *name)
{
	return store_config_remove(p, "networks", name);
}

int store_network_mac(const struct netd_paths *p, const struct network *n, struct mac *ret)
{
	struct mac m;
	int r;

	if (network_fixed_mac(n, &m)) {
		*ret = m;
		return 0;
	}
	if (store_macs_load(p, "networks", n->name, "mac", &m, 1) == 1 && !mac_is_zero(&m)) {
		*ret = m;
		return 0;
	}
	r = mac_random(&m);
	if (r >= 0)
		r = store_macs_save(p, "networks", n->name, "mac", &m, 1);
	if (r < 0)
		return r;
	*ret = m;
	return 0;
}

int store_network_state_remove(const struct netd_paths *p, const char *name)
{
	return store_state_remove(p, "networks", name);
}

static int ula_read(const char *path, struct ip_prefix *ret)
{
	_cleanup_free_ char *text = NULL;
	struct ip_prefix u;
	size_t len;
	int r = read_file(path, &text, &len);

	if (r < 0)
		return r;
	if (len && text[len - 1] == '\n')
		text[len - 1] = 0;
	if (ip_prefix_parse(text, &u) < 0 || u.len != 48 || !ip6_prefix_is_ula(&u) ||
	    !ip_prefix_is_masked(&u))
		return -EBADMSG;
	*ret = u;
	return 0;
}

int store_ula_prefix(const struct netd_paths *p, bool save, struct ip_prefix *ret)
{
	_cleanup_free_ char *path = store_pathf("%s/ula-prefix", p->state_dir);
	char text[IP_PREFIX_STRLEN + 1];
	uint8_t id[5];
	struct ip_prefix u;
	int r;

	if (!path)
		return -ENOMEM;
	r = ula_read(path, ret);
	if (r != -ENOENT)
		return r;
	if (getrandom(id, sizeof(id), 0) != sizeof(id))
		return -errno;
	network_ula_prefix(id, &u);
	ip_prefix_format(&u, text, sizeof(text) - 1);
	strcat(text, "\n");
	r = save ? write_in(p->state_dir, path, text, 0644) : 0;
	if (r < 0)
		return r;
	*ret = u;
	return 0;
}

int store_active_init(const struct netd_paths *p)
{
	_cleanup_free_ char *dir = store_pathf("%s/networks", p->run_dir);

	return dir ? mkdir_p(dir, 0755) : -ENOMEM;
}

bool store_active_known(const struct netd_paths *p)
{
	_cleanup_free_ char *dir = store_pathf("%s/networks", p->run_dir);

	return dir && access(dir, F_OK) == 0;
}

int store_active_set(const struct netd_paths *p, const char *name, bool active)
{
	_cleanup_free_ char *path = store_pathf("%s/networks/%s.active", p->run_dir, name);

	if (!path)
		return -ENOMEM;
	if (!active)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	/* The marker is its existence: one that is there stays (a restart of 1000 networks wrote
	 * 1000 new files, each a create and a rename, to say what they said already). */
	if (access(path, F_OK) == 0)
		return 0;
	return write_runtime_file(path, "", 0, 0644);
}

bool store_active_get(const struct netd_paths *p, const char *name)
{
	_cleanup_free_ char *path = store_pathf("%s/networks/%s.active", p->run_dir, name);

	return path && access(path, F_OK) == 0;
}
