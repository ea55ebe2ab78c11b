/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm-store.h"
#include "vm-files.h"

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

char *store_guest_run_dir(const struct netd_paths *p, const char *name)
{
	return store_pathf("%s/guests/%s", p->run_dir, name);
}

static int guest_load(const char *name, const char *text, void *obj, char *err, size_t errlen)
{
	int r = guest_config_parse(name, text, obj, err, errlen);

	if (r >= 0)
		r = guest_validate(obj, err, errlen);
	if (r >= 0 && guest_has_identity(obj)) {
		/* netd keeps them in the state dir; a file that names them is a dump, for vm define. */
		snprintf(err, errlen,
			 "'uuid' and 'generated-mac' belong to a dump (give it to 'netdctl vm define'), "
			 "not to a definition file: remove them");
		r = -EINVAL;
	}
	return r;
}

static const struct store_kind guest_kind = { "guests", "guest", sizeof(struct guest), guest_load, free };

int store_guests_load(const struct netd_paths *p, struct guest ***ret, size_t *ret_n, store_error_fn on_error,
		      void *userdata)
{
	return store_config_load(p, &guest_kind, ret, ret_n, on_error, userdata);
}

int store_guest_save(const struct netd_paths *p, const struct guest *g)
{
	_cleanup_free_ char *path = store_pathf("%s/guests/%s.conf", p->config_dir, g->name);
	_cleanup_free_ char *text = guest_config_render(g);
	int r;

	if (!text)
		return -errno;
	if (!path)
		return -ENOMEM;
	/* Paths and the kernel command line are the operators' business, not every local user's. */
	r = store_config_save(p, "guests", g->name, text, 0640);
	if (r >= 0)
		r = give_to_root(-1, path, vm_netd_gid());
	return r;
}

int store_guest_remove(const struct netd_paths *p, const char *name)
{
	_cleanup_free_ char *run = store_guest_run_dir(p, name);
	int r;

	if (!run)
		return -ENOMEM;
	r = store_config_remove(p, "guests", name);
	if (r < 0)
		return r;
	store_state_remove(p, "guests", name);
	rm_rf(run);
	return 0;
}

static int random_bytes(uint8_t *buf, size_t n)
{
	return getrandom(buf, n, 0) == (ssize_t)n ? 0 : -EIO;
}

int store_guest_macs(const struct netd_paths *p, struct guest *g, const struct mac *taken, size_t n_taken)
{
	struct mac saved[GUEST_NICS_MAX] = {}, all[GUEST_NICS_MAX + 256], now[GUEST_NICS_MAX];
	int n_saved = store_macs_load(p, "guests", g->name, "macs", saved, GUEST_NICS_MAX);
	size_t n_all = 0;
	bool changed = false;
	int r;

	for (size_t i = 0; i < n_taken && n_all < ELEMENTSOF(all) - GUEST_NICS_MAX; i++)
		all[n_all++] = taken[i];
	for (size_t i = 0; i < g->n_nics; i++) {
		struct guest_nic *nic = &g->nics[i];

		if (!nic->has_mac) {
			if ((int)i < n_saved && guest_mac_valid(&saved[i], NULL)) {
				nic->mac = saved[i];
			} else {
				r = guest_mac_generate(all, n_all, random_bytes, &nic->mac);
				if (r < 0)
					return r;
				changed = true;
			}
		}
		all[n_all++] = nic->mac;
		now[i] = nic->mac;
	}
	if (!changed)
		return 0;
	return store_macs_save(p, "guests", g->name, "macs", now, g->n_nics);
}

int store_guest_uuid(const struct netd_paths *p, const char *name, char ret[static 37])
{
	_cleanup_free_ char *text = NULL;
	uint8_t b[16];
	char buf[38];
	int r;

	if (store_state_read(p, "guests", name, "uuid", &text) >= 0 && strlen(text) >= 36 &&
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
	r = store_state_write(p, "guests", name, "uuid", buf);
	if (r < 0)
		return r;
	snprintf(ret, 37, "%.36s", buf);
	return 0;
}

