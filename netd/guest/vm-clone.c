/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vm clone SRC NEW [--network NET] [--copy]: a new guest from a stopped one (the template workflow,
 * 'virt-clone'). vmm/DESIGN.md, "Clones".
 *
 * NEW is SRC's definition with a new identity: no state dir of its own yet, so a new SMBIOS UUID
 * (made at its first start) and new MACs, generated for every NIC (a MAC SRC pins is not copied:
 * two guests with one MAC on one network would be given each other's lease; pin one afterwards
 * with vm define). --network puts every NIC on NET. Its owner is who clones it.
 *
 * Disks: each writable disk of the pool gets a new pool disk NEW-diskN.qcow2, a thin qcow2 overlay
 * on SRC's (made as 'disk create --backing' makes one: the record names SRC's disk, so deleting it
 * is refused while the clone needs it), or with --copy a whole copy (disk convert's asynchronous
 * qemu-img convert, with progress, in the source disk's format). Readonly disks, the cdrom, kernel
 * and initrd are shared as they are. A writable disk outside the pool is refused: netd knows neither
 * its format nor its chain (an overlay's base must be a disk it recorded), and copying a path the
 * definition names would read it with root's rights.
 *
 * Cloud-init: a guest with a seed gives the clone its texts with a new instance-id (cloud-init in the
 * clone runs again as on a new machine) and the clone's name as local-hostname (a --hostname of SRC
 * is not copied); a NEW that is no host name is refused. Only root and SRC's owner may clone such a
 * guest: the texts may hold secrets, and the clone's owner reads them from inside it.
 *
 * Nothing half-made: every check runs before the first disk is made; a disk that cannot be made,
 * a copy that fails or is stopped (the client hangs up, netd stops), or a definition that cannot be
 * written removes the disks made so far, and no definition stays; a netd killed meanwhile removes
 * them at its next start (the intent file, below). An overlay clone makes SRC's disks bases (SRC
 * may not start any more): only root and SRC's owner may make one; others use --copy.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "disk-pool.h"
#include "guest-schema.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "protocol.h"
#include "vm-clone.h"
#include "vm-cloud-init.h"
#include "vm-files.h"
#include "vm-store.h"
#include "vm.h"

/* One clone in the making (a --copy runs on the event loop, one disk after the other). */
struct clone {
	struct daemon *d;
	struct call *call;
	struct clone *next;
	struct guest *g; /* NEW's definition, disk paths already the new ones */
	char src[NAME_MAX_LEN + 1];
	uid_t src_owner; /* SRC's owner (a guest without one: root's) */
	size_t n; /* disks to make */
	size_t made; /* made so far */
	struct {
		size_t disk; /* index in g->disks */
		char from[NAME_MAX + 1], to[NAME_MAX + 1];
		enum disk_format format;
	} disks[GUEST_DISKS_MAX];
	bool copy;
	char *texts[_CLOUD_INIT_FILE_MAX]; /* SRC's cloud-init texts, read when the clone is admitted */
};

static struct clone *clones; /* the clones copying disks: their names are taken */

bool vm_clone_copying(const char *name)
{
	for (struct clone *k = clones; k; k = k->next)
		if (!strcmp(k->src, name))
			return true;
	return false;
}

bool vm_clone_making(const char *name)
{
	for (struct clone *k = clones; k; k = k->next)
		if (k->g && !strcmp(k->g->name, name))
			return true;
	return false;
}

static void clone_free(struct clone *k)
{
	for (struct clone **p = &clones; *p; p = &(*p)->next)
		if (*p == k) {
			*p = k->next;
			break;
		}
	vm_cloud_init_texts_free(k->texts);
	free(k->g);
	free(k);
}

/*
 * The intent file <state>/clones/NEW names the disks a clone makes, one a line: written before the
 * first one is made, removed once the definition is written or the disks are removed. A netd
 * killed meanwhile (kill -9, a crash) finds it at its next start (vm_clone_recover): with no
 * definition of NEW, the disks it names are removed (their names were free when the clone was
 * admitted, and nothing else made pool disks while netd was down).
 */
static char *intent_path(struct daemon *d, const char *name)
{
	return store_pathf("%s/clones/%s", d->paths.state_dir, name);
}

static int intent_write(struct clone *k)
{
	_cleanup_free_ char *dir = store_pathf("%s/clones", k->d->paths.state_dir),
			    *path = intent_path(k->d, k->g->name);
	char text[GUEST_DISKS_MAX * (NAME_MAX + 2)];
	size_t len = 0;
	int r;

	if (!dir || !path)
		return -ENOMEM;
	for (size_t i = 0; i < k->n; i++)
		len += snprintf(text + len, sizeof(text) - len, "%s\n", k->disks[i].to);
	r = mkdir_p(dir, 0700);
	return r < 0 ? r : write_file_atomic(path, text, len, 0600);
}

static void intent_remove(struct daemon *d, const char *name)
{
	_cleanup_free_ char *path = intent_path(d, name);

	if (path && unlink(path) < 0 && errno != ENOENT)
		log_warning("cannot remove %s: %m", path);
}

void vm_clone_recover(struct daemon *d)
{
	_cleanup_free_ char *dirpath = store_pathf("%s/clones", d->paths.state_dir);
	DIR *dir = dirpath ? opendir(dirpath) : NULL;
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		_cleanup_free_ char *text = NULL, *conf = NULL, *path = NULL;

		if (object_name_invalid_reason(e->d_name))
			continue;
		conf = store_pathf("%s/guests/%s.conf", d->paths.config_dir, e->d_name);
		path = store_pathf("%s/%s", dirpath, e->d_name);
		if (conf && path && access(conf, F_OK) < 0 && errno == ENOENT &&
		    read_file(path, &text, NULL) >= 0) {
			for (char *line = text, *next; *line; line = next) {
				next = line + strcspn(line, "\n");
				if (*next)
					*next++ = 0;
				if (disk_pool_path(d) && !disk_name_invalid_reason(line)) {
					_cleanup_free_ char *disk =
						store_pathf("%s/%s", disk_pool_path(d), line);

					if (disk && access(disk, F_OK) == 0) {
						log_guest(
							LOG_INFO, e->d_name,
							"clone '%s' was interrupted (netd stopped): removing its disk '%s'",
							e->d_name, line);
						disk_pool_remove(d, line);
					}
				}
			}
		}
		if (unlinkat(dirfd(dir), e->d_name, 0) < 0)
			log_warning("cannot remove %s/%s: %m", dirpath, e->d_name);
	}
	closedir(dir);
}

/* Remove the disks made so far (a failure: nothing half-made stays). */
static void clone_undo(struct clone *k)
{
	for (size_t i = 0; i < k->made; i++)
		disk_pool_remove(k->d, k->disks[i].to);
	k->made = 0;
	intent_remove(k->d, k->g->name);
}

static int param_names(struct call *c, json_object *params, const char **src, const char **dst)
{
	const char *why;

	if (protocol_param_string(params, "name", src) < 0 ||
	    protocol_param_string(params, "target", dst) < 0)
		return call_errorf(c, -EINVAL,
				   "vm clone: expected the source guest and the new guest's name");
	why = object_name_invalid_reason(*src);
	if (!why && (why = object_name_invalid_reason(*dst)))
		*src = *dst;
	if (why)
		return call_errorf(c, -EINVAL, "invalid guest name '%.64s': %s", *src, why);
	if (!strcmp(*src, *dst))
		return call_errorf(c, -EINVAL, "cannot clone guest '%s' onto itself: name a new guest", *src);
	return 0;
}

/* The new guest's identity: none yet (a new UUID at its first start, new MACs when it is put). */
static void clone_identity(struct call *c, struct guest *g, const char *name, const char *network)
{
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->uuid[0] = 0;
	g->has_owner = true;
	g->owner = c->peer.uid;
	for (size_t i = 0; i < g->n_nics; i++) {
		struct guest_nic *n = &g->nics[i];

		n->has_mac = false;
		n->mac = (struct mac){};
		n->has_generated_mac = false;
		if (network)
			snprintf(n->network, sizeof(n->network), "%s", network);
	}
}

/* Which disks are made, under which names; refused: a writable disk outside the pool. */
static int clone_plan(struct clone *k, const char *new_name)
{
	struct call *c = k->call;
	struct guest *g = k->g;
	int pool = -1;

	for (size_t i = 0; i < g->n_disks; i++) {
		struct guest_disk *disk = &g->disks[i];
		const char *from = disk->readonly ? NULL : disk_pool_name_of(k->d, disk->path);
		typeof(k->disks[0]) *m = &k->disks[k->n];
		struct stat st;
		int len;

		if (disk->readonly)
			continue;
		if (!from)
			return call_errorf(
				c, -EINVAL,
				"cannot clone guest '%s' to '%s': its disk %zu, %s, is not a disk of the pool %s "
				"(netd clones pool disks, whose format and chain it recorded): make it readonly "
				"to share it, or give the guest a pool disk",
				k->src, new_name, i, disk->path, disk_pool_path(k->d));
		m->disk = i;
		m->format = k->copy ? disk->format : DISK_FORMAT_QCOW2;
		snprintf(m->from, sizeof(m->from), "%s", from);
		len = snprintf(m->to, sizeof(m->to), "%s-disk%zu.%s", new_name, i,
			       disk_format_to_string(m->format));
		if (len >= (int)sizeof(m->to) || disk_name_invalid_reason(m->to))
			return call_errorf(c, -ENAMETOOLONG,
					   "cannot clone guest '%s': no disk name fits '%s'", k->src,
					   new_name);
		if (pool < 0 && (pool = disk_pool_open(k->d, c, false)) < 0)
			return pool;
		if (fstatat(pool, m->to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			close(pool);
			return call_errorf(
				c, -EEXIST,
				"cannot clone guest '%s' to '%s': disk '%s' exists already in the pool "
				"(delete it, or choose another name)",
				k->src, new_name, m->to);
		}
		k->n++;
	}
	if (pool >= 0)
		close(pool);
	return 0;
}

/* NEW's definition, checked as vm create checks one, against every other guest and the networks;
 * the requester must be able to open SRC's files as vm create would open them. */
static int clone_check(struct clone *k)
{
	struct process_cred who;
	struct vm_layers layers;
	int fds[VM_FILES_MAX], r;

	vm_cred_from_peer(&k->call->peer, &who);
	r = vm_files_open(k->d, k->g, &who, fds, &layers, k->call->err, sizeof(k->call->err));
	if (r < 0)
		return r;
	vm_files_close(fds);
	vm_layers_close(&layers);
	r = guest_validate(k->g, k->call->err, sizeof(k->call->err));
	if (r < 0)
		return r;
	return vm_conflicts_check(k->d, k->g, k->call->err, sizeof(k->call->err));
}

/* The disks are made: the definition written, the guest put. Answers the call. */
static int clone_finish(struct clone *k)
{
	struct call *c = k->call;
	struct vm *v;
	json_object *o, *a;
	int r;

	if (vm_named(k->d, k->g->name)) {
		clone_undo(k);
		return call_errorf(c, -EEXIST, "cannot clone guest '%s': guest '%s' was created meanwhile",
				   k->src, k->g->name);
	}
	/* A state dir of an older guest of that name would give NEW its identity. */
	store_state_remove(&k->d->paths, "guests", k->g->name);
	r = store_guest_save(&k->d->paths, k->g);
	if (r >= 0 && k->g->cloud_init) {
		char why[256];

		r = vm_cloud_init_clone(k->d, k->texts, k->g->name, c->peer.uid, why, sizeof(why));
		if (r < 0) {
			store_guest_remove(&k->d->paths, k->g->name);
			clone_undo(k);
			return call_errorf(c, r, "cannot clone guest '%s': %s; nothing was made", k->src,
					   why);
		}
	}
	if (r < 0) {
		store_guest_remove(&k->d->paths, k->g->name);
		clone_undo(k);
		return call_errorf(
			c, r, "cannot clone guest '%s': cannot write the definition: %s; nothing was made",
			k->src, strerror(-r));
	}
	intent_remove(k->d, k->g->name); /* the definition names the disks now */
	v = vm_definition_put(k->d, TAKE_PTR(k->g));
	if (!v)
		return call_errorf(c, -ENOMEM, "guest cloned, but out of memory: 'netdctl reload' loads it");
	log_guest(LOG_INFO, v->def.name, "guest '%s' cloned from '%s' by uid %u (%zu disk%s %s)", v->def.name,
		  k->src, (unsigned)c->peer.uid, k->n, k->n == 1 ? "" : "s",
		  k->copy ? "copied" : "as overlays");
	vm_notify(v, "created");
	o = vm_to_json(v);
	a = json_object_new_array();
	for (size_t i = 0; i < k->n; i++)
		json_object_array_add(a, json_object_new_string(k->disks[i].to));
	json_object_object_add(o, "cloned_from", json_object_new_string(k->src));
	json_object_object_add(o, "new_disks", a);
	json_object_object_add(o, "disks_copied", json_object_new_boolean(k->copy));
	call_reply(c, o);
	return 0;
}

/* One copy done (or failed: nothing of it made): the next one started, or the clone finished. */
static void on_copied(void *userdata, int r, const char *msg)
{
	struct clone *k = userdata;
	char why[sizeof(k->call->err)];

	snprintf(why, sizeof(why), "%s", msg ?: "");
	if (r >= 0 && ++k->made < k->n) {
		typeof(k->disks[0]) *m = &k->disks[k->made];

		r = disk_convert_start(k->d, k->call, m->from, m->to, m->format, on_copied, k);
		if (r >= 0)
			return;
		snprintf(why, sizeof(why), "%s", k->call->err);
	} else if (r >= 0) {
		r = clone_finish(k);
		if (r >= 0) {
			clone_free(k);
			return;
		}
		/* clone_finish removed what it made */
		call_reply_error(k->call, r, "%s", strcpy(why, k->call->err));
		clone_free(k);
		return;
	}
	clone_undo(k);
	log_guest(LOG_INFO, k->g->name, "clone of guest '%s' to '%s' failed: %s", k->src, k->g->name, why);
	call_reply_error(k->call, r, "cannot clone guest '%s': %s; nothing was made", k->src, why);
	clone_free(k);
}

static int overlays_make(struct clone *k)
{
	for (size_t i = 0; i < k->n; i++) {
		struct guest_disk *disk = &k->g->disks[k->disks[i].disk];
		int r = disk_pool_overlay(k->d, k->call, k->disks[i].to, k->disks[i].from, disk->path,
					  sizeof(disk->path));

		if (r < 0) {
			clone_undo(k);
			return r;
		}
		k->made++;
	}
	return 0;
}

/* The new paths into NEW's definition (made in the pool). */
static int paths_set(struct clone *k)
{
	for (size_t i = 0; i < k->n; i++) {
		struct guest_disk *disk = &k->g->disks[k->disks[i].disk];
		_cleanup_free_ char *path = store_pathf("%s/%s", disk_pool_path(k->d), k->disks[i].to);

		if (!path || strlen(path) >= sizeof(disk->path))
			return call_errorf(k->call, -ENAMETOOLONG, "the path of disk '%s' is too long",
					   k->disks[i].to);
		snprintf(disk->path, sizeof(disk->path), "%s", path);
		disk->format = k->disks[i].format;
		disk->format_given = true;
	}
	return 0;
}

static int clone_start(struct clone *k, const char *new_name)
{
	struct call *c = k->call;
	char why[sizeof(c->err)];
	int r;

	r = clone_check(k);
	if (r < 0) {
		snprintf(why, sizeof(why), "%s", c->err);
		return call_errorf(c, r, "cannot clone guest '%s' to '%s': %s", k->src, new_name, why);
	}
	r = clone_plan(k, new_name);
	if (r < 0)
		return r;
	/* An overlay makes SRC's disk a base: SRC could not start any more (vm start refuses to write a
	 * base). Only SRC's owner (none: root) or root may do that to SRC; others copy. */
	if (!k->copy && k->n > 0 && c->peer.uid != 0 && c->peer.uid != k->src_owner)
		return call_errorf(
			c, -EPERM,
			"cannot clone guest '%s' to '%s' as overlays: its disks would become their "
			"base and guest '%s' (uid %u's) could not start any more; only its owner or "
			"root may, use --copy",
			k->src, new_name, k->src, (unsigned)k->src_owner);
	return paths_set(k);
}

/* The refusals that need nothing made: src missing or in use, dst taken, a bad network, a seed
 * the requester may not copy or whose host name would be no host name. */
static int clone_admit(struct daemon *d, struct call *c, struct clone *k, const char *src, const char *dst,
		       const char *network, struct vm **ret)
{
	struct vm *v = vm_named(d, src);
	const struct guest *g;

	if (network && object_name_invalid_reason(network))
		return call_errorf(c, -EINVAL, "invalid network name '%.64s': %s", network,
				   object_name_invalid_reason(network));
	if (!v)
		return call_errorf(c, -ENOENT, "no guest named '%s'", src);
	if (vm_named(d, dst))
		return call_errorf(c, -EEXIST, "cannot clone guest '%s': guest '%s' already exists", src,
				   dst);
	if (vm_in_use(v))
		return call_errorf(
			c, -EBUSY,
			"cannot clone guest '%s': it is %s (shut it down first: its disks would be "
			"copied torn)",
			src, vm_state_to_string(v->state));
	for (struct clone *other = clones; other; other = other->next)
		if (other->g && !strcmp(other->g->name, dst))
			return call_errorf(c, -EEXIST,
					   "cannot clone guest '%s': guest '%s' is being cloned already", src,
					   dst);
	g = v->next_def ?: &v->def;
	/* The texts may hold secrets (root's 0600): the clone would show them to its owner. */
	if (g->cloud_init && c->peer.uid != 0 && (!g->has_owner || g->owner != c->peer.uid))
		return call_errorf(
			c, -EPERM,
			"cannot clone guest '%s': its cloud-init data (which may hold secrets) is its "
			"owner's, and the clone would be yours: ask its owner or root",
			src);
	if (g->cloud_init && vm_cloud_init_clone_refuse_reason(dst))
		return call_errorf(
			c, -EINVAL,
			"cannot clone guest '%s' to '%s': the clone's cloud-init local-hostname is its name, "
			"and '%s' is no host name (it %s)",
			src, dst, dst, vm_cloud_init_clone_refuse_reason(dst));
	/* Read now: a vm delete of SRC during a --copy would take them with its state dir. */
	if (g->cloud_init) {
		char why[sizeof(c->err)];
		int r = vm_cloud_init_texts_read(d, g, k->texts, why, sizeof(why));

		if (r < 0)
			return call_errorf(c, r, "cannot clone guest '%s': %s", src, why);
	}
	*ret = v;
	return 0;
}

static int method_vm_clone(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_free_ struct clone *k = calloc(1, sizeof(*k));
	const char *src, *dst, *network = NULL;
	json_object *o;
	struct vm *v = NULL;
	int r = param_names(c, params, &src, &dst);

	if (r < 0)
		return r;
	if (!k || !(k->g = malloc(sizeof(*k->g)))) {
		if (k)
			free(k->g);
		return call_errorf(c, -ENOMEM, "out of memory");
	}
	*k = (struct clone){ .d = d, .call = c, .g = k->g };
	snprintf(k->src, sizeof(k->src), "%s", src);
	if (json_object_object_get_ex(params, "copy", &o))
		k->copy = json_object_get_boolean(o);
	protocol_param_string(params, "network", &network);
	r = clone_admit(d, c, k, src, dst, network, &v);
	if (r < 0)
		goto fail;
	*k->g = v->next_def ? *v->next_def : v->def;
	k->src_owner = k->g->has_owner ? (uid_t)k->g->owner : 0;
	clone_identity(c, k->g, dst, network);
	r = clone_start(k, dst);
	if (r < 0)
		goto fail;
	if (k->n > 0 && (r = intent_write(k)) < 0) {
		call_errorf(c, r, "cannot clone guest '%s': cannot write %s/clones/%s: %s", src,
			    d->paths.state_dir, dst, strerror(-r));
		goto fail;
	}
	if (k->copy && k->n > 0) {
		k->next = clones;
		clones = k;
		r = disk_convert_start(d, c, k->disks[0].from, k->disks[0].to, k->disks[0].format, on_copied,
				       k);
		if (r < 0) {
			intent_remove(d, k->g->name);
			clone_free(k);
		}
		TAKE_PTR(k); /* freed, or the copy's now */
		return r;
	}
	r = overlays_make(k);
	if (r >= 0)
		r = clone_finish(k);
fail:
	vm_cloud_init_texts_free(k->texts);
	free(k->g);
	return r;
}

static const struct method clone_table[] = {
	{ "vm.clone", method_vm_clone, METHOD_CHANGE | METHOD_ASYNC },
};

const struct method_area clone_methods = METHOD_AREA(clone_table);
