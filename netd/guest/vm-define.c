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
 * (guest_config_parse, guest_validate) and the conflict check of vm create; any error is answered
 * (with the line where there is one) before anything is written. Then the identity goes to the state
 * dir and the definition file is written atomically (store_guest_save); a failed write puts the
 * state files back. The owner key is netd's: a guest's owner is who defines it (autostart opens its
 * files with the owner's rights); an operator's file that names another owner is refused, root's
 * keeps the one it names (or none, which means root).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "guest-config.h"
#include "guest-schema.h"
#include "inifile.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "protocol.h"
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
	if (!text)
		return call_errorf(c, -errno, "cannot render the definition of guest '%s': %m", name);
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

/* The text, checked as netd checks a definition file at boot, then against the other guests. */
static int define_check(struct daemon *d, struct call *c, const char *text, struct guest *g, char *err,
			size_t errlen)
{
	struct guest *copy;
	int r;

	r = guest_config_parse(g->name, text, g, err, errlen);
	if (r >= 0)
		r = guest_validate(g, err, errlen);
	if (r >= 0)
		r = define_owner(c, g, err, errlen);
	if (r < 0)
		return r;
	/* The MACs it brings from a dump are its MACs: checked as pinned ones. */
	copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	*copy = *g;
	for (size_t i = 0; i < copy->n_nics; i++)
		if (copy->nics[i].has_generated_mac) {
			copy->nics[i].has_mac = true;
			copy->nics[i].mac = copy->nics[i].generated_mac;
		}
	r = vm_conflicts_check(d, copy, err, errlen);
	free(copy);
	if (r < 0 || !g->uuid[0])
		return r;
	for (size_t i = 0; i < d->n_vms; i++) {
		_cleanup_free_ char *other = NULL;
		const char *name = d->vms[i]->def.name;

		if (strcmp(name, g->name) &&
		    store_state_read(&d->paths, "guests", name, "uuid", &other) >= 0 &&
		    !strncmp(other, g->uuid, 36)) {
			snprintf(err, errlen, "uuid %s is guest '%s''s: remove the 'uuid' line for a new one",
				 g->uuid, name);
			return -EEXIST;
		}
	}
	return 0;
}

/* The state files define changes, as they were: put back when the definition cannot be written. */
struct state_undo {
	char *uuid, *macs;
	bool had_dir;
};

static void state_file_put_back(struct daemon *d, const char *name, const char *file, const char *text)
{
	_cleanup_free_ char *path = store_pathf("%s/guests/%s/%s", d->paths.state_dir, name, file);

	if (text)
		store_state_write(&d->paths, "guests", name, file, text);
	else if (path)
		unlink(path);
}

static void state_undo(struct daemon *d, const char *name, struct state_undo *u)
{
	if (!u->had_dir) {
		store_state_remove(&d->paths, "guests", name);
		return;
	}
	state_file_put_back(d, name, "uuid", u->uuid);
	state_file_put_back(d, name, "macs", u->macs);
}

/* The identity the text brings into the state dir: the UUID, the generated MACs by NIC index. */
static int state_write(struct daemon *d, const struct guest *g)
{
	struct mac saved[GUEST_NICS_MAX] = {}, now[GUEST_NICS_MAX] = {};
	char buf[40];
	bool any = false;
	int n_saved, r = 0;

	if (g->uuid[0]) {
		snprintf(buf, sizeof(buf), "%s\n", g->uuid);
		r = store_state_write(&d->paths, "guests", g->name, "uuid", buf);
		if (r < 0)
			return r;
	}
	n_saved = store_macs_load(&d->paths, "guests", g->name, "macs", saved, GUEST_NICS_MAX);
	for (size_t i = 0; i < g->n_nics; i++) {
		any |= g->nics[i].has_generated_mac;
		now[i] = g->nics[i].has_generated_mac ? g->nics[i].generated_mac :
			 (int)i < n_saved	      ? saved[i] :
							(struct mac){};
	}
	return any ? store_macs_save(&d->paths, "guests", g->name, "macs", now, g->n_nics) : 0;
}

static int define_write(struct daemon *d, struct guest *g, char *err, size_t errlen)
{
	_cleanup_free_ char *dir = store_pathf("%s/guests/%s", d->paths.state_dir, g->name);
	struct state_undo u = {};
	int r;

	if (!dir)
		return -ENOMEM;
	u.had_dir = access(dir, F_OK) == 0;
	store_state_read(&d->paths, "guests", g->name, "uuid", &u.uuid);
	store_state_read(&d->paths, "guests", g->name, "macs", &u.macs);
	r = state_write(d, g);
	if (r >= 0) {
		/* What the definition file holds: no identity (the state dir has it now). */
		g->uuid[0] = 0;
		for (size_t i = 0; i < g->n_nics; i++)
			g->nics[i].has_generated_mac = false;
		r = store_guest_save(&d->paths, g);
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot write the definition: %s; nothing changed", strerror(-r));
		state_undo(d, g->name, &u);
	}
	free(u.uuid);
	free(u.macs);
	return r;
}

static int method_vm_define(struct daemon *d, struct call *c, json_object *params)
{
	_cleanup_free_ struct guest *g = malloc(sizeof(*g));
	char err[SCHEMA_MSG_MAX + 128];
	const char *name, *text;
	json_object *t, *o;
	struct vm *v;
	bool replaced;
	int r = param_guest(c, params, &name);

	if (r < 0)
		return r;
	if (!g)
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
	/* A seed's texts (root's 0600, may hold secrets) are its owner's: another operator's definition
	 * would boot them in a guest of theirs. */
	if (v && v->def.cloud_init && c->uid != 0 && (!v->def.has_owner || v->def.owner != c->uid))
		return call_errorf(
			c, -EPERM,
			"cannot define guest '%s': it has cloud-init data (which may hold secrets) of "
			"its owner: only they or root may replace its definition",
			name);
	guest_init(g, name);
	r = define_check(d, c, text, g, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot define guest '%s': %s", name, err);
	r = define_write(d, g, err, sizeof(err));
	if (r < 0)
		return call_errorf(c, r, "cannot define guest '%s': %s", name, err);
	replaced = v != NULL;
	v = vm_definition_put(d, TAKE_PTR(g));
	if (!v)
		return call_errorf(c, -ENOMEM,
				   "guest '%s': defined, but out of memory; 'netdctl reload' loads it", name);
	log_info("guest '%s' %s by uid %u", name, replaced ? "redefined" : "defined", (unsigned)c->uid);
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
