/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm-store.h"
#include "vm-files.h"

#include <dirent.h>
#include <stdarg.h>
#include <unistd.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fileio.h"
#include "guest-config.h"
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

char *store_guest_run_dir(const struct netd_paths *p, const char *name)
{
	return pathf("%s/guests/%s", p->run_dir, name);
}

static int load_one(const struct netd_paths *p, const char *file, struct guest **ret, char *err, size_t errlen)
{
	_cleanup_free_ char *path = pathf("%s/guests/%s", p->config_dir, file), *text = NULL;
	_cleanup_free_ struct guest *g = malloc(sizeof(*g));
	char name[NAME_MAX_LEN + 1];
	size_t len = strlen(file) - strlen(".conf");
	int r;

	if (!path || !g)
		return -ENOMEM;
	if (len >= sizeof(name)) {
		snprintf(err, errlen, "file name is not a valid guest name");
		return -EINVAL;
	}
	memcpy(name, file, len);
	name[len] = 0;
	r = read_file(path, &text, NULL);
	if (r < 0) {
		snprintf(err, errlen, "cannot read: %s", strerror(-r));
		return r;
	}
	r = guest_config_parse(name, text, g, err, errlen);
	if (r >= 0)
		r = guest_validate(g, err, errlen);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(g);
	return 0;
}

int store_guests_load(const struct netd_paths *p, struct guest ***ret, size_t *ret_n, store_error_fn on_error,
		      void *userdata)
{
	_cleanup_free_ char *dir = pathf("%s/guests", p->config_dir);
	struct guest **list = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if (!dir)
		return -ENOMEM;
	d = opendir(dir);
	if (!d) {
		*ret = NULL;
		*ret_n = 0;
		return errno == ENOENT ? 0 : -errno;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct guest *g, **l;
		char err[512];

		if (len <= 5 || strcmp(de->d_name + len - 5, ".conf"))
			continue;
		if (load_one(p, de->d_name, &g, err, sizeof(err)) < 0) {
			on_error(de->d_name, err, userdata);
			continue;
		}
		l = realloc(list, (n + 1) * sizeof(*l));
		if (!l) {
			free(g);
			break;
		}
		list = l;
		list[n++] = g;
	}
	closedir(d);
	*ret = list;
	*ret_n = n;
	return 0;
}

int store_guest_save(const struct netd_paths *p, const struct guest *g)
{
	_cleanup_free_ char *dir = pathf("%s/guests", p->config_dir), *path = pathf("%s/guests/%s.conf", p->config_dir, g->name);
	_cleanup_free_ char *text = guest_config_render(g);
	int r;

	if (!text)
		return -errno;
	if (!dir || !path)
		return -ENOMEM;
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	/* Paths and the kernel command line are the operators' business, not every local user's. */
	r = write_file_atomic(path, text, strlen(text), 0640);
	if (r >= 0 && chown(path, 0, vm_netd_gid()) < 0)
		r = -errno;
	return r;
}

int store_guest_remove(const struct netd_paths *p, const char *name)
{
	_cleanup_free_ char *path = pathf("%s/guests/%s.conf", p->config_dir, name);
	_cleanup_free_ char *state = pathf("%s/guests/%s", p->state_dir, name);
	_cleanup_free_ char *run = store_guest_run_dir(p, name);

	if (!path || !state || !run)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	rm_rf(state);
	rm_rf(run);
	return 0;
}

static int random_bytes(uint8_t *buf, size_t n)
{
	return getrandom(buf, n, 0) == (ssize_t)n ? 0 : -EIO;
}

int store_guest_macs(const struct netd_paths *p, struct guest *g, const struct mac *taken, size_t n_taken)
{
	_cleanup_free_ char *dir = pathf("%s/guests/%s", p->state_dir, g->name);
	_cleanup_free_ char *path = pathf("%s/guests/%s/macs", p->state_dir, g->name), *text = NULL;
	struct mac saved[GUEST_NICS_MAX] = {}, all[GUEST_NICS_MAX + 256];
	char *save = NULL, buf[GUEST_NICS_MAX * MAC_STRLEN + 1] = "", m[MAC_STRLEN];
	size_t n_saved = 0, n_all = 0;
	bool changed = false;
	int r;

	if (!dir || !path)
		return -ENOMEM;
	if (read_file(path, &text, NULL) >= 0)
		for (char *l = strtok_r(text, "\n", &save); l && n_saved < GUEST_NICS_MAX; l = strtok_r(NULL, "\n", &save))
			if (mac_parse(l, &saved[n_saved]) >= 0 || (saved[n_saved] = (struct mac){}, true))
				n_saved++;
	for (size_t i = 0; i < n_taken && n_all < ELEMENTSOF(all) - GUEST_NICS_MAX; i++)
		all[n_all++] = taken[i];
	for (size_t i = 0; i < g->n_nics; i++) {
		struct guest_nic *nic = &g->nics[i];

		if (!nic->has_mac) {
			if (i < n_saved && guest_mac_valid(&saved[i], NULL)) {
				nic->mac = saved[i];
			} else {
				r = guest_mac_generate(all, n_all, random_bytes, &nic->mac);
				if (r < 0)
					return r;
				changed = true;
			}
		}
		all[n_all++] = nic->mac;
		strcat(buf, mac_format(&nic->mac, m, sizeof(m)));
		strcat(buf, "\n");
	}
	if (!changed)
		return 0;
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	return write_file_atomic(path, buf, strlen(buf), 0644);
}

int store_guest_uuid(const struct netd_paths *p, const char *name, char ret[static 37])
{
	_cleanup_free_ char *dir = pathf("%s/guests/%s", p->state_dir, name);
	_cleanup_free_ char *path = pathf("%s/guests/%s/uuid", p->state_dir, name), *text = NULL;
	uint8_t b[16];
	char buf[38];
	int r;

	if (!dir || !path)
		return -ENOMEM;
	if (read_file(path, &text, NULL) >= 0 && strlen(text) >= 36 &&
	    strspn(text, "0123456789abcdef-") >= 36) {
		snprintf(ret, 37, "%.36s", text);
		return 0;
	}
	r = random_bytes(b, sizeof(b));
	if (r < 0)
		return r;
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(buf, sizeof(buf), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
	r = mkdir_p(dir, 0755);
	if (r >= 0)
		r = write_file_atomic(path, buf, strlen(buf), 0644);
	if (r < 0)
		return r;
	snprintf(ret, 37, "%.36s", buf);
	return 0;
}

