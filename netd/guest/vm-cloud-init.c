/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cloud-init NoCloud seeds. The texts come in the request: netdctl reads the user's files with the
 * user's own rights (as vm define reads a definition), so netd never opens a path a user chose; they
 * are checked (size, no NUL; a host name; one public key; the user's meta-data may not set netd's
 * keys) and kept in <state>/guests/NAME/ as cloud-init-user-data, -meta-data (the user's part),
 * -network-config, -hostname and -instance-id, root's and 0600 (user-data may hold secrets).
 *
 * The seed, cidata.img next to them, is a 1 MiB FAT image labelled CIDATA with user-data, meta-data
 * (netd's instance-id and local-hostname, then the user's part) and network-config, made by mtools
 * (mformat, mcopy) run as QEMU's user (netd-qemu), no-new-privs, confined to the fds netd gives
 * them (proc.h, confine_files): the image is an unnamed file until it is complete, each text an
 * unnamed file too, theirs only while they run; no path reaches them. It is
 * made again at a start when the instance-id it was made for (cidata.instance-id) is not the
 * guest's (vm clone gives a new one), and goes with the state dir (vm delete). QEMU gets it read-only
 * by fd as a virtio disk of its own (node "cidata", qemu-argv.c).
 */
#include "vm-cloud-init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "proc.h"
#include "protocol.h"
#include "store.h"
#include "vm-files.h"

#define MFORMAT "/usr/bin/mformat"
#define MCOPY "/usr/bin/mcopy"
#define SEED_SIZE (1024 * 1024)
#define MTOOLS_TIMEOUT_MS 10000

void vm_cloud_init_free(struct vm_cloud_init *ci)
{
	if (!ci)
		return;
	for (int i = 0; i < _CLOUD_INIT_FILE_MAX; i++)
		free(ci->files[i]);
	free(ci);
}

static int param_text(struct call *c, json_object *files, enum cloud_init_file f, struct vm_cloud_init *ci)
{
	const char *name = cloud_init_file_to_string(f), *why;
	json_object *t;

	if (!json_object_object_get_ex(files, name, &t))
		return 0;
	if (!json_object_is_type(t, json_type_string))
		return call_errorf(c, -EINVAL, "invalid cloud-init %s: expected its text", name);
	why = cloud_init_text_invalid_reason(json_object_get_string(t), json_object_get_string_len(t));
	if (!why && f == CLOUD_INIT_META_DATA)
		why = cloud_init_meta_extra_invalid_reason(json_object_get_string(t));
	if (why)
		return call_errorf(c, -EINVAL, "invalid cloud-init %s: it %s", name, why);
	ci->files[f] = strdup(json_object_get_string(t));
	return ci->files[f] ? 0 : call_errorf(c, -ENOMEM, "out of memory");
}

static int params_files(struct call *c, json_object *params, struct vm_cloud_init *ci)
{
	json_object *files;
	int r = 0;

	if (!json_object_object_get_ex(params, "cloud_init_files", &files))
		return 0;
	if (!json_object_is_type(files, json_type_object))
		return call_errorf(c, -EINVAL, "invalid cloud_init_files: expected an object of texts");
	json_object_object_foreach(files, key, val) {
		(void)val;
		if (cloud_init_file_from_string(key) < 0)
			return call_errorf(
				c, -EINVAL,
				"invalid cloud-init file '%.64s': user-data, meta-data or network-config",
				key);
	}
	for (int f = 0; f < _CLOUD_INIT_FILE_MAX && r >= 0; f++)
		r = param_text(c, files, f, ci);
	return r;
}

static int params_ssh_key(struct call *c, json_object *params, struct vm_cloud_init *ci)
{
	_cleanup_free_ char *key = NULL;
	const char *text, *why;

	if (protocol_param_string(params, "ssh_key", &text) < 0)
		return 0;
	why = cloud_init_ssh_key_invalid_reason(text);
	if (why)
		return call_errorf(c, -EINVAL, "invalid --ssh-key: the key %s", why);
	if (ci->files[CLOUD_INIT_USER_DATA])
		return call_errorf(
			c, -EINVAL,
			"--ssh-key writes the user-data, and --cloud-init gives one: put the key in your "
			"user-data (ssh_authorized_keys) instead");
	key = strdup(text);
	if (!key)
		return call_errorf(c, -ENOMEM, "out of memory");
	cloud_init_ssh_key_trim(key);
	ci->files[CLOUD_INIT_USER_DATA] = cloud_init_user_data_ssh(key);
	return ci->files[CLOUD_INIT_USER_DATA] ? 0 : call_errorf(c, -ENOMEM, "out of memory");
}

int vm_cloud_init_from_params(struct call *c, json_object *params, struct guest *g,
			      struct vm_cloud_init **ret)
{
	struct vm_cloud_init *ci = calloc(1, sizeof(*ci));
	const char *hostname = NULL, *why;
	int r;

	*ret = NULL;
	if (!ci)
		return call_errorf(c, -ENOMEM, "out of memory");
	r = params_files(c, params, ci);
	if (r >= 0)
		r = params_ssh_key(c, params, ci);
	if (r >= 0 && protocol_param_string(params, "hostname", &hostname) >= 0) {
		why = cloud_init_hostname_invalid_reason(hostname);
		if (why)
			r = call_errorf(c, -EINVAL, "invalid --hostname '%.64s': it %s", hostname, why);
		else
			snprintf(ci->hostname, sizeof(ci->hostname), "%s", hostname);
	}
	if (r >= 0 && !hostname && (why = cloud_init_hostname_invalid_reason(g->name)) &&
	    (ci->files[0] || ci->files[1] || ci->files[2]))
		r = call_errorf(
			c, -EINVAL,
			"guest name '%s' is no host name for cloud-init's local-hostname (it %s): give "
			"--hostname NAME",
			g->name, why);
	if (r < 0 || (!hostname && !ci->files[0] && !ci->files[1] && !ci->files[2])) {
		vm_cloud_init_free(ci);
		return r;
	}
	g->cloud_init = true;
	*ret = ci;
	return 0;
}

/* ---- the state dir ---- */

static char *state_path(struct daemon *d, const char *guest, const char *file)
{
	return store_pathf("%s/guests/%s/%s", d->paths.state_dir, guest, file);
}

static int state_put(struct daemon *d, const char *guest, const char *file, const char *text)
{
	_cleanup_free_ char *dir = store_pathf("%s/guests/%s", d->paths.state_dir, guest),
			    *path = state_path(d, guest, file);
	int r;

	if (!dir || !path)
		return -ENOMEM;
	if (!text) {
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	r = mkdir_p(dir, 0755);
	return r < 0 ? r : write_file_atomic(path, text, strlen(text), 0600);
}

static int state_get(struct daemon *d, const char *guest, const char *file, char **ret)
{
	_cleanup_free_ char *path = state_path(d, guest, file);

	if (!path)
		return -ENOMEM;
	return read_file(path, ret, NULL);
}

static const char *const state_files[_CLOUD_INIT_FILE_MAX] = {
	[CLOUD_INIT_USER_DATA] = "cloud-init-user-data",
	[CLOUD_INIT_META_DATA] = "cloud-init-meta-data",
	[CLOUD_INIT_NETWORK_CONFIG] = "cloud-init-network-config",
};

static int instance_id_new(struct daemon *d, const char *guest)
{
	unsigned char b[16];
	char id[CLOUD_INIT_INSTANCE_ID_LEN + 2];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		return -EIO;
	cloud_init_instance_id_format(b, id);
	strcat(id, "\n");
	return state_put(d, guest, "cloud-init-instance-id", id);
}

/* The uid whose request brought the texts ("cloud-init-owner"; none: root's, as a guest without owner). */
static int owner_put(struct daemon *d, const char *guest, uid_t owner)
{
	char text[16];

	snprintf(text, sizeof(text), "%u\n", (unsigned)owner);
	return state_put(d, guest, "cloud-init-owner", text);
}

static int owner_get(struct daemon *d, const char *guest, uid_t *ret)
{
	_cleanup_free_ char *text = NULL;
	char *end;
	unsigned long u;
	int r = state_get(d, guest, "cloud-init-owner", &text);

	if (r == -ENOENT) {
		*ret = 0;
		return 0;
	}
	if (r < 0)
		return r;
	errno = 0;
	u = strtoul(text, &end, 10);
	if (errno || end == text || (*end && *end != '\n') || u > UINT32_MAX - 1)
		return -EBADMSG;
	*ret = u;
	return 0;
}

static uid_t guest_owner(const struct guest *g)
{
	return g->has_owner ? (uid_t)g->owner : 0;
}

/* The texts in the state dir are g's owner's (written for this owner, not left by another guest). */
static int owner_check(struct daemon *d, const struct guest *g, char *err, size_t errlen)
{
	uid_t owner;
	int r = owner_get(d, g->name, &owner);

	if (r < 0) {
		snprintf(err, errlen, "guest '%s': cannot read the owner of its cloud-init data: %s", g->name,
			 strerror(-r));
		return r;
	}
	if (owner != guest_owner(g)) {
		snprintf(
			err, errlen,
			"guest '%s' is uid %u's, but the cloud-init data in its state dir was given by uid %u "
			"(left by an older guest of that name?): netd uses no one else's texts; give the guest "
			"its own with vm create --cloud-init, or remove the cloud-init line",
			g->name, (unsigned)guest_owner(g), (unsigned)owner);
		return -EPERM;
	}
	return 0;
}

int vm_cloud_init_save(struct daemon *d, const char *guest, const struct vm_cloud_init *ci, uid_t owner,
		       char *err, size_t errlen)
{
	int r = 0;

	for (int f = 0; f < _CLOUD_INIT_FILE_MAX && r >= 0; f++)
		r = state_put(d, guest, state_files[f], ci->files[f]);
	if (r >= 0)
		r = state_put(d, guest, "cloud-init-hostname", ci->hostname[0] ? ci->hostname : NULL);
	if (r >= 0)
		r = owner_put(d, guest, owner);
	if (r >= 0)
		r = instance_id_new(d, guest);
	if (r < 0)
		snprintf(err, errlen, "cannot keep the cloud-init data of guest '%s': %s", guest,
			 strerror(-r));
	return r;
}

const char *vm_cloud_init_clone_refuse_reason(const char *dst)
{
	return cloud_init_hostname_invalid_reason(dst);
}

int vm_cloud_init_texts_read(struct daemon *d, const struct guest *src, char *texts[_CLOUD_INIT_FILE_MAX],
			     char *err, size_t errlen)
{
	int r = owner_check(d, src, err, errlen);

	for (int f = 0; f < _CLOUD_INIT_FILE_MAX; f++)
		texts[f] = NULL;
	if (r < 0)
		return r;
	for (int f = 0; f < _CLOUD_INIT_FILE_MAX; f++) {
		r = state_get(d, src->name, state_files[f], &texts[f]);
		if (r < 0 && r != -ENOENT) {
			snprintf(err, errlen, "cannot read the cloud-init data of guest '%s': %s", src->name,
				 strerror(-r));
			vm_cloud_init_texts_free(texts);
			return r;
		}
	}
	return 0;
}

void vm_cloud_init_texts_free(char *texts[_CLOUD_INIT_FILE_MAX])
{
	for (int f = 0; f < _CLOUD_INIT_FILE_MAX; f++) {
		free(texts[f]);
		texts[f] = NULL;
	}
}

int vm_cloud_init_clone(struct daemon *d, char *const texts[_CLOUD_INIT_FILE_MAX], const char *dst,
			uid_t owner, char *err, size_t errlen)
{
	int r = 0;

	for (int f = 0; f < _CLOUD_INIT_FILE_MAX && r >= 0; f++)
		r = state_put(d, dst, state_files[f], texts[f]);
	if (r >= 0)
		r = owner_put(d, dst, owner);
	if (r >= 0)
		r = instance_id_new(d, dst);
	if (r < 0)
		snprintf(err, errlen, "cannot write the clone's cloud-init data: %s", strerror(-r));
	return r;
}

/* ---- the seed ---- */

/* The guest's instance-id and host name as its meta-data gives them. */
static int identity(struct daemon *d, const struct guest *g, char id[CLOUD_INIT_INSTANCE_ID_LEN + 1],
		    char hostname[CLOUD_INIT_HOSTNAME_MAX + 1])
{
	_cleanup_free_ char *text = NULL, *host = NULL;
	int r = state_get(d, g->name, "cloud-init-instance-id", &text);

	if (r < 0)
		return r;
	text[strcspn(text, "\n")] = 0;
	if (!cloud_init_instance_id_valid(text))
		return -EBADMSG;
	snprintf(id, CLOUD_INIT_INSTANCE_ID_LEN + 1, "%s", text);
	if (state_get(d, g->name, "cloud-init-hostname", &host) >= 0) {
		host[strcspn(host, "\n")] = 0;
		if (cloud_init_hostname_invalid_reason(host))
			return -EBADMSG;
	}
	snprintf(hostname, CLOUD_INIT_HOSTNAME_MAX + 1, "%s", host ?: g->name);
	return cloud_init_hostname_invalid_reason(hostname) ? -EBADMSG : 0;
}

static int mtools_run(struct daemon *d, const struct process_cred *cred, char *const *argv, const int *fds,
		      size_t n_fds, char *err, size_t errlen)
{
	static char *const envp[] = { "MTOOLS_SKIP_CHECK=1", "HOME=/nonexistent", NULL };
	struct proc_spawn spec = { .exe = argv[0],
				   .argv = argv,
				   .envp = envp,
				   .fds = fds,
				   .n_fds = n_fds,
				   .first_fd = 3,
				   .cred = cred && cred->uid ? cred : NULL, /* --qemu-user root: stays root */
				   .no_new_privs = true,
				   .confine_files = true,
				   .new_session = true };
	char out[256];

	return proc_run_check(&d->proc, &spec, MTOOLS_TIMEOUT_MS, out, sizeof(out), err, errlen);
}

/* An unnamed file in dir (root's) with text: a file Landlock can name for mcopy (a memfd cannot). */
static int text_file(int dir, const char *text)
{
	_cleanup_close_ int fd = openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		return -EIO;
	return TAKE_FD(fd);
}

/* The FAT image into fd: mformat, then one mcopy per file. */
static int seed_fill(struct daemon *d, int dir, int fd, char *const texts[_CLOUD_INIT_FILE_MAX], char *err,
		     size_t errlen)
{
	char *format_argv[] = { MFORMAT, "-i", "/dev/fd/3", "-v", "CIDATA", "::", NULL };
	struct process_cred cred;
	int r = vm_qemu_cred(d, &cred, err, errlen);

	/* mtools run as QEMU's user (no root for a FAT parser), on files made theirs while they run
	 * (unnamed: no path reaches them) and root's again after. */
	if (r < 0)
		return r;
	if (ftruncate(fd, SEED_SIZE) < 0 || fchown(fd, cred.uid, cred.gid) < 0)
		return -errno;
	r = mtools_run(d, &cred, format_argv, &fd, 1, err, errlen);
	/* mformat fills the boot sector's partition table with one entry covering the file system
	 * from sector 0: the guest's kernel would see a partition (vda1) beside the disk. Empty. */
	if (r >= 0 && pwrite(fd, (char[64]){}, 64, 446) != 64)
		r = -EIO;
	for (int f = 0; f < _CLOUD_INIT_FILE_MAX && r >= 0; f++) {
		char target[32];
		char *copy_argv[] = { MCOPY, "-i", "/dev/fd/3", "/dev/fd/4", target, NULL };
		_cleanup_close_ int tfd = -1;

		if (!texts[f])
			continue;
		tfd = text_file(dir, texts[f]);
		if (tfd < 0)
			return tfd;
		if (fchown(tfd, cred.uid, cred.gid) < 0)
			return -errno;
		snprintf(target, sizeof(target), "::%s", cloud_init_file_to_string(f));
		r = mtools_run(d, &cred, copy_argv, (int[]){ fd, tfd }, 2, err, errlen);
	}
	if (fchown(fd, 0, 0) < 0 && r >= 0)
		r = -errno;
	return r;
}

static int seed_texts(struct daemon *d, const struct guest *g, char *texts[_CLOUD_INIT_FILE_MAX], char *id,
		      char *hostname)
{
	_cleanup_free_ char *extra = NULL;
	int r = identity(d, g, id, hostname);

	if (r < 0)
		return r;
	for (int f = 0; f < _CLOUD_INIT_FILE_MAX; f++) {
		texts[f] = NULL;
		if (f != CLOUD_INIT_META_DATA && (r = state_get(d, g->name, state_files[f], &texts[f])) < 0 &&
		    r != -ENOENT)
			return r;
	}
	r = state_get(d, g->name, state_files[CLOUD_INIT_META_DATA], &extra);
	if (r < 0 && r != -ENOENT)
		return r;
	texts[CLOUD_INIT_META_DATA] = cloud_init_meta_data_render(id, hostname, extra);
	return texts[CLOUD_INIT_META_DATA] ? 0 : -ENOMEM;
}

/* Make the seed: an unnamed file filled, then linked as cidata.img (replacing the old one). */
static int seed_make(struct daemon *d, const struct guest *g, int dir, const char *id, char *const *texts,
		     char *err, size_t errlen)
{
	_cleanup_close_ int fd = openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	char proc_path[64], why[512] = "";
	int r;

	if (fd < 0)
		return -errno;
	r = seed_fill(d, dir, fd, texts, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "guest '%s': cannot make its cloud-init seed: %s", g->name,
			 why[0] ? why : strerror(-r));
		return r;
	}
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	unlinkat(dir, "cidata.img.new", 0);
	if (linkat(AT_FDCWD, proc_path, dir, "cidata.img.new", AT_SYMLINK_FOLLOW) < 0 ||
	    renameat(dir, "cidata.img.new", dir, "cidata.img") < 0) {
		r = -errno;
		unlinkat(dir, "cidata.img.new", 0);
		snprintf(err, errlen, "guest '%s': cannot keep its cloud-init seed: %s", g->name,
			 strerror(-r));
		return r;
	}
	log_guest(LOG_INFO, g->name, "guest '%s': cloud-init seed made for %s", g->name, id);
	return 0;
}

int vm_cloud_init_seed_open(struct daemon *d, const struct guest *g, int *ret_fd, char *err, size_t errlen)
{
	_cleanup_free_ char *dirpath = store_pathf("%s/guests/%s", d->paths.state_dir, g->name),
			    *built = NULL;
	char *texts[_CLOUD_INIT_FILE_MAX] = {}, id[CLOUD_INIT_INSTANCE_ID_LEN + 1],
	     hostname[CLOUD_INIT_HOSTNAME_MAX + 1];
	_cleanup_close_ int dir = -1, fd = -1;
	int r;

	if (!dirpath)
		return -ENOMEM;
	r = owner_check(d, g, err, errlen);
	if (r < 0)
		return r;
	r = seed_texts(d, g, texts, id, hostname);
	if (r < 0) {
		snprintf(err, errlen,
			 "guest '%s' has cloud-init = yes, but its cloud-init data in %s is %s (a definition "
			 "from vm define carries none: create the guest with vm create --cloud-init, or "
			 "remove the line)",
			 g->name, dirpath, r == -ENOENT ? "missing" : strerror(-r));
		goto out;
	}
	dir = open(dirpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0) {
		r = -errno;
		snprintf(err, errlen, "guest '%s': cannot open %s: %m", g->name, dirpath);
		goto out;
	}
	if (state_get(d, g->name, "cidata.instance-id", &built) < 0 || strncmp(built, id, strlen(id)) ||
	    faccessat(dir, "cidata.img", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		r = seed_make(d, g, dir, id, texts, err, errlen);
		if (r >= 0)
			r = state_put(d, g->name, "cidata.instance-id", id);
		if (r < 0)
			goto out;
	}
	fd = openat(dir, "cidata.img", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "guest '%s': cannot open its cloud-init seed: %m", g->name);
		goto out;
	}
	*ret_fd = TAKE_FD(fd);
	r = 0;
out:
	for (int f = 0; f < _CLOUD_INIT_FILE_MAX; f++)
		free(texts[f]);
	return r;
}

json_object *vm_cloud_init_json(struct daemon *d, const struct guest *g)
{
	char id[CLOUD_INIT_INSTANCE_ID_LEN + 1], hostname[CLOUD_INIT_HOSTNAME_MAX + 1];
	json_object *o;

	if (!g->cloud_init)
		return NULL;
	o = json_object_new_object();
	if (identity(d, g, id, hostname) >= 0) {
		json_object_object_add(o, "instance_id", json_object_new_string(id));
		json_object_object_add(o, "hostname", json_object_new_string(hostname));
	}
	return o;
}
