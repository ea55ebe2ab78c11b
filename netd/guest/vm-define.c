/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vm dump and vm define: a guest's definition out as text, and text in as a new guest or as the new
 * definition of a stopped one (the 'virsh dumpxml' / 'virsh define' steps).
 *
 * A dump is the definition file as netd writes it (guest_config_render: the canonical form, not the
 * file's bytes) plus the guest's identity, which netd keeps in the state dir and never in the
 * definition file: 'uuid' (QEMU's -uuid, when the guest has one yet) and, for each NIC without a
 * pinned MAC, 'generated-mac'. Defined again (after vm delete, or on another host), the dump gives
 * the same guest: same MACs (so the same leases), same UUID. A definition file that names them is
 * refused at load (vm-store.c): they are a dump's.
 *
 * define parses and checks the whole text with the code that loads definitions at boot
 * (guest_config_parse, guest_validate) and the checks of vm create (conflicts with every MAC the
 * guest will have, pool disk names, absolute paths, shared disks, tuning, the requester's rights on
 * its files); any error is answered (with the line where there is one) before anything is written.
 * Then the identity goes to the state dir and the definition file is written atomically
 * (store_guest_save); a failed write puts the state files back. The owner key is netd's: a guest's
 * owner is who defines it (autostart opens its files with the owner's rights); an operator's file
 * that names another owner is refused, root's keeps the one it names (or none, which means root).
 * Only root or its owner replaces a guest. A name no guest has loaded inherits nothing: a file of
 * that name that failed to load and a live QEMU of that name are refused, a former guest's state
 * dir is removed. vmm/DESIGN.md, "Dump and define".
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "guest-config.h"
#include "guest-schema.h"
#include "inifile.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "protocol.h"
#include "vm-clone.h"
#include "vm-files.h"
#include "vm-store.h"
#include "vm.h"

static int param_guest(struct call *c, json_object *params, const char **ret)
{
	const char *why;

	if (protocol_param_string(params, "name", ret) < 0)
		return call_errorf(c, -EINVAL, "missing guest name");
	why = object_name_invalid_reason(*ret);
	if (why)
		return call_errorf(c, -EINVAL, "invalid guest name '%.64s': %s", *ret, why);
	return 0;
}

/* ---- dump ---- */

/* The definition as its file holds it (the one reloaded while the guest runs, if any), with the
 * identity kept in the state dir. */
static void dump_guest(struct daemon *d, struct vm *v, struct guest *ret)
{
	_cleanup_free_ char *uuid = NULL;

	*ret = v->next_def ? *v->next_def : v->def;
	if (store_state_read(&d->paths, "guests", ret->name, "uuid", &uuid) >= 0 && strlen(uuid) >= 36) {
		uuid[36] = 0;
		if (guest_uuid_valid(uuid))
			snprintf(ret->uuid, sizeof(ret->uuid), "%s", uuid);
	}
	for (size_t i = 0; i < ret->n_nics; i++) {
		struct guest_nic *n = &ret->nics[i];

		if (!n->has_mac && guest_mac_valid(&n->mac, NULL)) {
			n->has_generated_mac = true;
			n->generated_mac = n->mac;
		}
	}
}

static int parsed_add(void *user, const char *section, const char *key, const char *value)
{
	json_object *o = user, *s;

	if (!json_object_object_get_ex(o, section, &s)) {
		s = json_object_new_object();
		json_object_object_add(o, section, s);
	}
	json_object_object_add(s, key, json_object_new_string(value));
	return 1;
}

static int method_vm_dump(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_free_ struct guest *g = malloc(sizeof(*g));
	_cleanup_free_ char *text = NULL;
	json_object *o, *parsed;
	struct inifile f;
	const char *name;
	struct vm *v;
	int r = param_guest(c, params, &name);

	if (r < 0)
		return r;
	if (!g)
		return -ENOMEM;
	v = vm_named(d, name);
	if (!v)
		return call_errorf(c, -ENOENT, "no guest named '%s'", name);
	dump_guest(d, v, g);
	text = guest_config_render(g);
	if (!text) {
		r = -errno; /* before any other call */
		return call_errorf(c, r, "cannot render the definition of guest '%s': %s", name,
				   strerror(-r));
	}
	o = json_object_new_object();
	parsed = json_object_new_object();
	inifile_parse(&f, text, parsed_add, parsed);
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "text", json_object_new_string(text));
	json_object_object_add(o, "definition", parsed);
	call_reply(c, o);
	return 0;
}

/* ---- define ---- */

static int random_bytes(uint8_t *buf, size_t n)
{
	return getrandom(buf, n, 0) == (ssize_t)n ? 0 : -EIO;
}

/* What define writes into the state dir besides the uuid: the MAC of each NIC as the guest will
 * have it (vm start reads them back: resolve_macs), all checked together. */
struct define_macs {
	struct mac macs[GUEST_NICS_MAX];
	bool save; /* a NIC has no pinned MAC: the file holds its MAC */
};

/* The owner is who defines the guest; only root may name another one (or none: root's, as in a
 * definition file root wrote by hand). */
static int define_owner(struct call *c, struct guest *g, char *err, size_t errlen)
{
	if (c->uid == 0)
		return 0;
	if (g->has_owner && g->owner != c->uid) {
		snprintf(
			err, errlen,
			"the file names owner %u, but a guest's owner is who defines it (you are uid %u; its files "
			"are opened with the owner's rights at boot): remove the 'owner' line, or ask root",
			(unsigned)g->owner, (unsigned)c->uid);
		return -EPERM;
	}
	g->has_owner = true;
	g->owner = c->uid;
	return 0;
}

static bool mac_in(const struct mac *list, size_t n, const struct mac *m)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(&list[i], m, sizeof(*m)))
			return true;
	return false;
}

/* Each NIC's MAC: the pinned one, the one the text brings (generated-mac), else the one saved for
 * that NIC (a guest defined anew) unless the text's MACs or another guest has it, else a new one. */
static int define_macs_fill(struct daemon *d, const struct guest *g, bool fresh, struct define_macs *m,
			    char *err, size_t errlen)
{
	struct mac saved[GUEST_NICS_MAX] = {}, all[1024 + 2 * GUEST_NICS_MAX];
	/* A new guest has none: a former guest's state dir goes (define_write). */
	int n_saved = fresh ? -ENOENT :
			      store_macs_load(&d->paths, "guests", g->name, "macs", saved, GUEST_NICS_MAX);
	size_t n_all = vm_taken_macs(d, g->name, all, 1024);

	if (n_saved < 0 && n_saved != -ENOENT) {
		snprintf(err, errlen, "cannot read its saved MACs: %s", strerror(-n_saved));
		return n_saved;
	}
	for (size_t i = 0; i < g->n_nics; i++)
		if (g->nics[i].has_mac || g->nics[i].has_generated_mac)
			all[n_all++] = g->nics[i].has_mac ? g->nics[i].mac : g->nics[i].generated_mac;
	for (size_t i = 0; i < g->n_nics; i++) {
		const struct guest_nic *n = &g->nics[i];
		int r;

		if (n->has_mac) {
			m->macs[i] = n->mac;
			continue;
		}
		m->save = true;
		if (n->has_generated_mac) {
			m->macs[i] = n->generated_mac;
			continue;
		}
		if ((int)i < n_saved && guest_mac_valid(&saved[i], NULL) && !mac_in(all, n_all, &saved[i])) {
			m->macs[i] = saved[i];
		} else {
			r = guest_mac_generate(all, n_all, random_bytes, &m->macs[i]);
			if (r < 0) {
				snprintf(err, errlen, "cannot make a MAC for NIC %zu: %s", i, strerror(-r));
				return r;
			}
		}
		all[n_all++] = m->macs[i];
	}
	return 0;
}

/* A path QEMU gets (opened by netd): absolute, as a definition file at boot is read from no cwd. */
static int define_path_check(const char *what, const char *path, char *err, size_t errlen)
{
	if (!path[0] || path[0] == '/')
		return 0;
	snprintf(err, errlen,
		 "%s '%.256s' is a relative path: give an absolute one (a disk of the pool by its NAME)",
		 what, path);
	return -EINVAL;
}

/* A check of vm create's that set the call's error: the same error, said to be define's. */
static int define_fail(struct call *c, int r, const char *name)
{
	char why[sizeof(c->err)], prefix[NAME_MAX_LEN + 16];
	size_t n = (size_t)snprintf(prefix, sizeof(prefix), "guest '%s': ", name);

	/* vm_files_open's "guest 'x': kernel ...": said once */
	snprintf(why, sizeof(why), "%s", c->err + (strncmp(c->err, prefix, n) ? 0 : n));
	return call_errorf(c, r, "cannot define guest '%s': %s", name, why);
}

/* The text, checked as netd checks a definition file at boot, then as vm create checks a new guest:
 * against the other guests, the host's CPUs, the requester's rights on its files. On failure, the
 * call's error is set. */
static int define_check(struct daemon *d, struct call *c, const char *text, struct guest *g, bool fresh,
			struct define_macs *m)
{
	struct process_cred who;
	int fds[VM_FILES_MAX];
	struct guest *copy;
	char err[SCHEMA_MSG_MAX + 128];
	int r;

	r = guest_config_parse(g->name, text, g, err, sizeof(err));
	if (r >= 0)
		r = guest_validate(g, err, sizeof(err));
	if (r >= 0)
		r = define_owner(c, g, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot define guest '%s': %s", g->name, err);
	/* A disk of the pool by its NAME, as vm create takes it. */
	for (size_t i = 0; i < g->n_disks; i++)
		if (g->disks[i].path[0] && !strchr(g->disks[i].path, '/')) {
			if (d->n_image_dirs == 0)
				return call_errorf(
					c, -ENOENT,
					"cannot define guest '%s': disk '%.64s' names a disk of the pool, "
					"and netd has none (--image-dir)",
					g->name, g->disks[i].path);
			r = disk_pool_resolve(d, c, &g->disks[i]);
			if (r < 0)
				return define_fail(c, r, g->name);
		}
	r = define_path_check("kernel", g->kernel, err, sizeof(err));
	if (r >= 0)
		r = define_path_check("initrd", g->initrd, err, sizeof(err));
	if (r >= 0)
		r = define_path_check("cdrom", g->cdrom, err, sizeof(err));
	for (size_t i = 0; r >= 0 && i < g->n_disks; i++)
		r = define_path_check("disk", g->disks[i].path, err, sizeof(err));
	if (r >= 0)
		r = guest_validate(g, err, sizeof(err));
	if (r >= 0)
		r = define_macs_fill(d, g, fresh, m, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot define guest '%s': %s", g->name, err);
	/* Every MAC it will have is checked as a pinned one: the text's and the ones kept. */
	copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	*copy = *g;
	for (size_t i = 0; i < copy->n_nics; i++) {
		copy->nics[i].has_mac = true;
		copy->nics[i].mac = m->macs[i];
	}
	r = vm_conflicts_check(d, copy, err, sizeof(err));
	free(copy);
	if (r < 0)
		return call_errorf(c, r, "cannot define guest '%s': %s", g->name, err);
	for (size_t i = 0; g->uuid[0] && i < d->n_vms; i++) {
		_cleanup_free_ char *other = NULL;
		const char *name = d->vms[i]->def.name;

		if (strcmp(name, g->name) &&
		    store_state_read(&d->paths, "guests", name, "uuid", &other) >= 0 &&
		    !strncmp(other, g->uuid, 36))
			return call_errorf(
				c, -EEXIST,
				"cannot define guest '%s': uuid %s is guest '%s''s: remove the 'uuid' line for a "
				"new one",
				g->name, g->uuid, name);
	}
	r = vm_tune_check(d, g, false, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot define guest '%s': %s", g->name, err);
	r = vm_check_disks_shared_others(d, c, g);
	if (r < 0)
		return define_fail(c, r, g->name);
	/* The requester may use every file it names (checked again at each start, with the owner's
	 * rights): a clear error now rather than at the first start. */
	vm_cred_from_peer(&c->peer, &who);
	r = vm_files_open(d, g, &who, fds, NULL, c->err, sizeof(c->err));
	if (r < 0)
		return define_fail(c, r, g->name);
	vm_files_close(fds);
	return 0;
}

/* A name no loaded guest has: what is on disk under it is no guest's to inherit or overwrite. */
static int define_new_check(struct daemon *d, struct call *c, const char *name)
{
	_cleanup_free_ char *conf = store_pathf("%s/guests/%s.conf", d->paths.config_dir, name);
	_cleanup_free_ char *run = store_guest_run_dir(&d->paths, name), *pidf = NULL, *text = NULL;
	struct stat st;
	int pid;

	if (!conf || !run || !(pidf = path_join(run, "pid")))
		return -ENOMEM;
	if (vm_clone_making(name))
		return call_errorf(c, -EBUSY,
				   "cannot define guest '%s': vm clone is making a guest of that name", name);
	/* A definition that failed to load (root's, maybe): overwriting it would make it the
	 * requester's. A directory there is no definition (the write then fails). */
	if (lstat(conf, &st) == 0 ? !S_ISDIR(st.st_mode) : errno != ENOENT)
		return call_errorf(
			c, -EEXIST,
			"cannot define guest '%s': %s exists but is not loaded (the log of the last "
			"'netdctl reload' says why): fix or remove the file, then reload",
			name, conf);
	/* A QEMU of that name left running (its guest's file gone): the new guest would adopt it. */
	if (read_file(pidf, &text, NULL) >= 0 && (pid = atoi(text)) > 0 &&
	    (kill(pid, 0) == 0 || errno == EPERM))
		return call_errorf(
			c, -EBUSY,
			"cannot define guest '%s': a QEMU of a former guest of that name still runs "
			"(pid %d, see %s): stop it first",
			name, pid, run);
	return 0;
}

/* A seed's texts (cloud-init-*) or the seed made from them (cidata*) in the guest's state dir. */
static bool is_seed_file(const char *n)
{
	return !strncmp(n, "cloud-init-", 11) || !strncmp(n, "cidata", 6);
}

static bool has_seed(struct daemon *d, const char *name)
{
	_cleanup_free_ char *dir = store_pathf("%s/guests/%s", d->paths.state_dir, name);
	DIR *dh = dir ? opendir(dir) : NULL;
	struct dirent *e;
	bool found = false;

	if (!dh)
		return !dir || errno != ENOENT; /* cannot tell: as if it had */
	while (!found && (e = readdir(dh)))
		found = is_seed_file(e->d_name);
	closedir(dh);
	return found;
}

static int seed_remove(struct daemon *d, const char *name)
{
	_cleanup_free_ char *dir = store_pathf("%s/guests/%s", d->paths.state_dir, name);
	DIR *dh = dir ? opendir(dir) : NULL;
	struct dirent *e;
	int r = 0;

	if (!dh)
		return !dir ? -ENOMEM : errno == ENOENT ? 0 : -errno;
	while ((e = readdir(dh)))
		if (is_seed_file(e->d_name) && unlinkat(dirfd(dh), e->d_name, 0) < 0 && errno != ENOENT)
			r = -errno;
	closedir(dh);
	return r;
}

/* The state files define changes, as they were: put back when the definition cannot be written. */
struct state_undo {
	char *uuid, *macs;
	bool had_dir;
};

static int state_file_read(struct daemon *d, const char *name, const char *file, char **ret)
{
	int r = store_state_read(&d->paths, "guests", name, file, ret);

	return r == -ENOENT ? 0 : r;
}

static int state_file_put_back(struct daemon *d, const char *name, const char *file, const char *text)
{
	_cleanup_free_ char *path = store_pathf("%s/guests/%s/%s", d->paths.state_dir, name, file);

	if (text)
		return store_state_write(&d->paths, "guests", name, file, text);
	if (!path)
		return -ENOMEM;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

static int state_undo(struct daemon *d, const char *name, struct state_undo *u)
{
	int r, k;

	if (!u->had_dir)
		return store_state_remove(&d->paths, "guests", name);
	r = state_file_put_back(d, name, "uuid", u->uuid);
	k = state_file_put_back(d, name, "macs", u->macs);
	return r < 0 ? r : k;
}

/* The identity the text brings into the state dir: the UUID, each NIC's MAC. */
static int state_write(struct daemon *d, const struct guest *g, const struct define_macs *m)
{
	char buf[40];
	int r;

	if (g->uuid[0]) {
		snprintf(buf, sizeof(buf), "%s\n", g->uuid);
		r = store_state_write(&d->paths, "guests", g->name, "uuid", buf);
		if (r < 0)
			return r;
	}
	return m->save ? store_macs_save(&d->paths, "guests", g->name, "macs", m->macs, g->n_nics) : 0;
}

/* A new guest (no loaded one of that name) gets no state of a former one: its dirs go first. */
static int define_write(struct daemon *d, struct guest *g, bool fresh, const struct define_macs *m, char *err,
			size_t errlen)
{
	_cleanup_free_ char *dir = store_pathf("%s/guests/%s", d->paths.state_dir, g->name);
	_cleanup_free_ char *run = store_guest_run_dir(&d->paths, g->name);
	struct state_undo u = {};
	int r, k;

	if (!dir || !run)
		return -ENOMEM;
	if (fresh) {
		store_state_remove(&d->paths, "guests", g->name);
		rm_rf(run);
	}
	u.had_dir = access(dir, F_OK) == 0;
	r = state_file_read(d, g->name, "uuid", &u.uuid);
	if (r >= 0)
		r = state_file_read(d, g->name, "macs", &u.macs);
	if (r < 0) {
		snprintf(err, errlen, "cannot read its state files: %s; nothing changed", strerror(-r));
		goto out;
	}
	r = state_write(d, g, m);
	if (r >= 0) {
		/* What the definition file holds: no identity (the state dir has it now). */
		g->uuid[0] = 0;
		for (size_t i = 0; i < g->n_nics; i++)
			g->nics[i].has_generated_mac = false;
		r = store_guest_save(&d->paths, g);
	}
	if (r < 0) {
		k = state_undo(d, g->name, &u);
		if (k < 0)
			snprintf(
				err, errlen,
				"cannot write the definition: %s; and its uuid and MACs in the state dir could "
				"not be put back: %s",
				strerror(-r), strerror(-k));
		else
			snprintf(err, errlen, "cannot write the definition: %s; nothing changed",
				 strerror(-r));
	}
out:
	free(u.uuid);
	free(u.macs);
	return r;
}

static int method_vm_define(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_free_ struct guest *g = malloc(sizeof(*g));
	_cleanup_free_ struct define_macs *m = calloc(1, sizeof(*m));
	char err[512];
	const char *name, *text;
	json_object *t, *o;
	struct vm *v;
	bool replaced;
	int r = param_guest(c, params, &name);

	if (r < 0)
		return r;
	if (!g || !m)
		return -ENOMEM;
	if (!json_object_object_get_ex(params, "text", &t) || !json_object_is_type(t, json_type_string))
		return call_errorf(c, -EINVAL, "missing the definition's text");
	text = json_object_get_string(t);
	if (json_object_get_string_len(t) > GUEST_CONFIG_TEXT_MAX)
		return call_errorf(c, -E2BIG,
				   "cannot define guest '%s': the definition is larger than %d bytes", name,
				   GUEST_CONFIG_TEXT_MAX);
	if (strlen(text) != (size_t)json_object_get_string_len(t))
		return call_errorf(c, -EINVAL, "cannot define guest '%s': the definition holds a NUL byte",
				   name);
	v = vm_named(d, name);
	if (v && vm_in_use(v))
		return call_errorf(
			c, -EBUSY,
			"guest '%s' is %s: shut it down first ('netdctl vm shutdown %s'); a definition is "
			"replaced only while its guest is stopped",
			name, vm_state_to_string(v->state), name);
	if (v && vm_clone_copying(name))
		return call_errorf(c, -EBUSY, "cannot define guest '%s': vm clone is copying its disks",
				   name);
	/* A seed's texts (root's 0600, may hold secrets) are its owner's: another operator's definition
	 * would boot them in a guest of theirs. */
	if (v && c->uid != 0 && (!v->def.has_owner || v->def.owner != c->uid) &&
	    (v->def.cloud_init || has_seed(d, name)))
		return call_errorf(
			c, -EPERM,
			"cannot define guest '%s': it has cloud-init data (which may hold secrets) of "
			"its owner: only they or root may replace its definition",
			name);
	/* As for its disks (vm attach-disk): its files are opened with its owner's rights at start. */
	if (v && (r = vm_owner_check(v, c, "replace its definition")) < 0)
		return r;
	if (!v && (r = define_new_check(d, c, name)) < 0)
		return r;
	guest_init(g, name);
	r = define_check(d, c, text, g, !v, m);
	if (r < 0)
		return r;
	r = define_write(d, g, !v, m, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot define guest '%s': %s", name, err);
	/* Its seed goes with cloud-init: texts left behind would be the next definition's. */
	if (!g->cloud_init && (r = seed_remove(d, name)) < 0)
		log_guest(LOG_ERR, name, "guest '%s': cannot remove its cloud-init data: %s", name,
			  strerror(-r));
	replaced = v != NULL;
	v = vm_definition_put(d, TAKE_PTR(g));
	if (!v)
		return call_errorf(c, -ENOMEM,
				   "guest '%s': defined, but out of memory; 'netdctl reload' loads it", name);
	log_guest(LOG_INFO, name, "guest '%s' %s by uid %u", name, replaced ? "redefined" : "defined",
		  (unsigned)c->uid);
	vm_notify(v, replaced ? "defined" : "created");
	o = vm_to_json(v);
	json_object_object_add(o, "replaced", json_object_new_boolean(replaced));
	call_reply(c, o);
	return 0;
}

static const struct method define_table[] = {
	{ "vm.dump", method_vm_dump, METHOD_READ },
	{ "vm.define", method_vm_define, METHOD_CHANGE },
};

const struct method_area define_methods = METHOD_AREA(define_table);
