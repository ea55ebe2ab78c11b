/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Live vCPUs and memory (netdctl vm set-vcpus, vm set-memory; issue 16).
 *
 * vCPUs: a guest made with --max-vcpus M starts with -smp cpus=N,maxcpus=M; set-vcpus plugs the
 * next free slots of query-hotpluggable-cpus in with device_add of the slot's CPU type and props
 * (socket-id, core-id, thread-id), one after the other, then counts them again (query-cpus-fast).
 * Removing a vCPU from a running guest is refused: on x86 (q35, pc) QEMU's device_del of a vCPU
 * only asks the guest to eject it through ACPI; the guest's OS decides whether and when it lets go
 * (QEMU 7.2 reports it later with ACPI_DEVICE_OST and DEVICE_DELETED, or never), and the boot vCPU
 * can never go ("Boot CPU is unpluggable"). Fewer vCPUs take --config and a restart.
 *
 * Memory: a guest made with --max-memory gets -m MAX and a virtio-balloon (balloon0); at each
 * start netd sets the balloon's target to its memory, and set-memory moves it (QMP balloon, bytes).
 * The balloon's size as the guest's driver reached it comes from query-balloon (when QMP answers
 * and after each change) and the BALLOON_CHANGE event.
 *
 * --live changes the running guest, --config the definition (for the next start); without either,
 * both when the guest runs, the definition when it is stopped. Each request is checked whole first:
 * a refused one changes nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "guest-schema.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "vm-store.h"
#include "vm.h"

#define CPU_SLOTS_MAX (GUEST_VCPUS_MAX * 4)

struct vm_live {
	unsigned vcpus_present; /* 0: not known yet */
	bool has_actual;
	uint64_t balloon_actual; /* bytes */
	uint64_t balloon_target_mib; /* 0: unknown (none set since QEMU started, or an adopted QEMU) */
	/* A set-vcpus under way (v->pending is its call): */
	struct qmp_cpu_slot slots[CPU_SLOTS_MAX];
	size_t n_slots, plan[CPU_SLOTS_MAX];
	int n_plan, next;
	unsigned want; /* vCPUs, or the balloon's target in MiB */
	bool config;
	struct call *call; /* the request they answer: v->pending may be another's by the time QEMU does */
};

static struct vm_live *live_get(struct vm *v)
{
	if (!v->live)
		v->live = calloc(1, sizeof(*v->live));
	return v->live;
}

void vm_live_reset(struct vm *v)
{
	free(TAKE_PTR(v->live));
}

/* ---- what QEMU says ---- */

static void on_cpus(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	int n = m && m->type == QMP_MESSAGE_RETURN ? qmp_cpus_count(m->data) : -EIO;

	if (n > 0 && live_get(v))
		v->live->vcpus_present = (unsigned)n;
}

static void on_balloon_query(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	uint64_t actual;

	if (m && m->type == QMP_MESSAGE_RETURN && qmp_balloon_actual(m->data, &actual) >= 0 && live_get(v)) {
		v->live->balloon_actual = actual;
		v->live->has_actual = true;
	}
}

static void on_balloon_start(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;

	if (!m || m->type != QMP_MESSAGE_RETURN)
		log_warning("guest '%s': cannot set its balloon to %" PRIu64 "M (%s); it has all %" PRIu64
			    "M",
			    v->def.name, v->def.memory_mib,
			    m && m->error_desc ? m->error_desc : "QMP connection lost",
			    guest_max_memory_mib(&v->def));
	else if (live_get(v))
		v->live->balloon_target_mib = v->def.memory_mib;
}

static int balloon_set(struct vm *v, uint64_t mib, qmp_reply_fn fn)
{
	json_object *args = json_object_new_object();

	json_object_object_add(args, "value", json_object_new_int64((int64_t)(mib << 20)));
	return qmp_client_command(v->qmp, "balloon", args, fn, v);
}

void vm_live_qmp_ready(struct vm *v, bool start)
{
	/* Without free slots, what runs is what it started with. */
	if (guest_max_vcpus(&v->def) > v->def.vcpus)
		qmp_client_command(v->qmp, "query-cpus-fast", NULL, on_cpus, v);
	if (!v->def.max_memory_mib)
		return;
	/* An adopted QEMU keeps the target it has (a --live change netd did not persist). */
	if (start && v->def.memory_mib < guest_max_memory_mib(&v->def) &&
	    balloon_set(v, v->def.memory_mib, on_balloon_start) < 0)
		log_warning("guest '%s': cannot set its balloon", v->def.name);
	qmp_client_command(v->qmp, "query-balloon", NULL, on_balloon_query, v);
}

void vm_live_event(struct vm *v, const struct qmp_message *m)
{
	uint64_t actual;

	if (strcmp(m->event, "BALLOON_CHANGE") || qmp_balloon_actual(m->data, &actual) < 0 || !live_get(v))
		return;
	v->live->balloon_actual = actual;
	v->live->has_actual = true;
}

void vm_live_json(struct vm *v, json_object *o)
{
	struct vm_live *l = vm_running(v) ? v->live : NULL;
	unsigned present = l && l->vcpus_present ? l->vcpus_present : 0;

	if (!present && vm_running(v) && guest_max_vcpus(&v->def) == v->def.vcpus)
		present = v->def.vcpus;
	json_object_object_add(o, "max_vcpus", json_object_new_int(guest_max_vcpus(&v->def)));
	json_object_object_add(o, "vcpus_present", present ? json_object_new_int(present) : NULL);
	json_object_object_add(o, "max_memory_mib",
			       v->def.max_memory_mib ? json_object_new_int64(v->def.max_memory_mib) : NULL);
	json_object_object_add(o, "balloon_target_mib",
			       l && l->balloon_target_mib ? json_object_new_int64(l->balloon_target_mib) :
							    NULL);
	json_object_object_add(o, "balloon_actual_mib",
			       l && l->has_actual ? json_object_new_int64(l->balloon_actual >> 20) : NULL);
}

/* ---- requests ---- */

/* --live, --config, or the default: both when QEMU runs, the definition when it does not. */
static int live_flags(struct call *c, struct vm *v, json_object *params, bool *ret_live, bool *ret_config)
{
	bool live = false, config = false;

	protocol_param_bool(params, "live", &live);
	protocol_param_bool(params, "config", &config);
	if (!live && !config) {
		live = vm_running(v);
		config = true;
	}
	if (live && !vm_running(v))
		return call_errorf(c, -ENOTCONN,
				   "guest '%s' is not running: --live changes a running guest; "
				   "--config (the default for a stopped guest) changes its definition",
				   v->def.name);
	*ret_live = live;
	*ret_config = config;
	return 0;
}

/*
 * The definition a --config change goes to: a running guest's next one (a copy of what runs when
 * there is none yet, unless the change is live too: then what runs changes with it).
 */
static struct guest *config_target(struct vm *v, bool live)
{
	if (v->next_def || !vm_running(v) || live)
		return v->next_def ? v->next_def : &v->def;
	v->next_def = malloc(sizeof(*v->next_def));
	if (v->next_def)
		*v->next_def = v->def;
	return v->next_def;
}

/* Checks a --config change on a copy: nothing is changed when it is refused. */
static int config_check(struct call *c, struct vm *v, const struct guest *g)
{
	struct guest copy = *(v->next_def ? v->next_def : &v->def);

	copy.vcpus = g->vcpus;
	copy.memory_mib = g->memory_mib;
	if (guest_validate(&copy, c->err, sizeof(c->err)) < 0)
		return -EINVAL;
	return 0;
}

static void config_save(struct vm *v, unsigned vcpus, uint64_t memory_mib, bool live)
{
	struct guest *g = config_target(v, live);
	int r;

	if (!g) {
		log_error("guest '%s': out of memory; the definition is unchanged", v->def.name);
		return;
	}
	if (vcpus)
		g->vcpus = vcpus;
	if (memory_mib)
		g->memory_mib = memory_mib;
	if (live && g != &v->def) {
		if (vcpus)
			v->def.vcpus = vcpus;
		if (memory_mib)
			v->def.memory_mib = memory_mib;
	}
	r = store_guest_save(&v->daemon->paths, g);
	if (r < 0)
		log_error("guest '%s': changed, but the definition could not be saved: %s", v->def.name,
			  strerror(-r));
}

/* set-vcpus: device_add of the planned slots, one after the other; then count them again. */
static void cpu_plug_next(struct vm *v);

static void on_cpus_done(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	struct vm_live *l = v->live;

	on_cpus(c, m, userdata);
	if (!l || !l->call || v->pending != l->call)
		return;
	log_info("guest '%s': %d vCPU%s plugged in live, %u present", v->def.name, l->n_plan,
		 l->n_plan == 1 ? "" : "s", l->vcpus_present);
	if (l->config)
		config_save(v, l->want, 0, true);
	vm_changed(v, "vcpus changed");
	l->call = NULL;
	vm_pending_reply(v, vm_to_json(v));
}

static void on_cpu_added(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	struct vm_live *l = v->live;
	char msg[512];

	if (!l || !l->call || v->pending != l->call)
		return;
	if (!m || m->type == QMP_MESSAGE_ERROR) {
		snprintf(msg, sizeof(msg),
			 "guest '%s': QEMU refused vCPU %d of %d to plug in: %s; the definition is "
			 "unchanged",
			 v->def.name, l->next, l->n_plan,
			 m && m->error_desc ? m->error_desc : "QMP connection lost");
		log_warning("%s", msg);
		if (m)
			qmp_client_command(v->qmp, "query-cpus-fast", NULL, on_cpus, v);
		l->call = NULL;
		vm_pending_fail(v, -EIO, msg);
		return;
	}
	cpu_plug_next(v);
}

static void cpu_plug_next(struct vm *v)
{
	struct vm_live *l = v->live;
	char id[32];
	size_t slot;

	if (l->next == l->n_plan) {
		qmp_client_command(v->qmp, "query-cpus-fast", NULL, on_cpus_done, v);
		return;
	}
	slot = l->plan[l->next++];
	/* The slot's place in the sorted list: unique, and the same vCPU gets the same id each time. */
	snprintf(id, sizeof(id), "vcpu%zu", slot);
	qmp_client_command(v->qmp, "device_add", qmp_cpu_device_add_args(&l->slots[slot], id), on_cpu_added,
			   v);
}

static void on_cpu_slots(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	struct vm_live *l = v->live;
	unsigned have;
	char msg[512];
	int r;

	if (!l || !l->call || v->pending != l->call)
		return;
	r = m && m->type == QMP_MESSAGE_RETURN ?
		    qmp_cpu_slots_parse(m->data, l->slots, CPU_SLOTS_MAX, &l->n_slots) :
		    -EIO;
	if (r < 0) {
		snprintf(msg, sizeof(msg),
			 "guest '%s': cannot read its vCPU slots (query-hotpluggable-cpus): %s", v->def.name,
			 m && m->error_desc ? m->error_desc : strerror(-r));
		l->call = NULL;
		vm_pending_fail(v, r, msg);
		return;
	}
	have = qmp_cpu_slots_present(l->slots, l->n_slots);
	l->n_plan = qmp_cpu_plan(l->slots, l->n_slots, l->want, l->plan);
	l->next = 0;
	if (l->n_plan == -EBUSY)
		snprintf(
			msg, sizeof(msg),
			"guest '%s' has %u vCPUs: removing vCPUs from a running guest is refused (on q35 QEMU can only "
			"ask the guest's OS to eject a vCPU through ACPI, which it may ignore, and never the boot "
			"vCPU); use --config and restart the guest",
			v->def.name, have);
	else if (l->n_plan < 0)
		snprintf(msg, sizeof(msg),
			 "guest '%s' has %u vCPUs and %zu slots in all: QEMU has no free slot for "
			 "%u",
			 v->def.name, have, l->n_slots, l->want);
	if (l->n_plan < 0) {
		l->call = NULL;
		vm_pending_fail(v, l->n_plan == -EBUSY ? -EBUSY : -ERANGE, msg);
		return;
	}
	cpu_plug_next(v);
}

static int method_vm_set_vcpus(struct daemon *d, struct call *c, json_object *params)
{
	struct vm *v;
	unsigned n = 0, max;
	bool live, config;
	struct guest g = {};
	int r = vm_lookup(d, c, params, &v);

	if (r < 0)
		return r;
	if (protocol_param_uint(params, "vcpus", 1u << 30, &n) < 0 || n < 1 || n > GUEST_VCPUS_MAX)
		return call_errorf(c, -EINVAL, "vcpus must be a number from 1 to %d", GUEST_VCPUS_MAX);
	r = live_flags(c, v, params, &live, &config);
	if (r < 0)
		return r;
	max = guest_max_vcpus(live ? &v->def : v->next_def ? v->next_def : &v->def);
	if (n > max)
		return call_errorf(c, -ERANGE,
				   "guest '%s' may have at most %u vCPUs (its --max-vcpus; QEMU starts with "
				   "that many slots and no more): %u is above it",
				   v->def.name, max, n);
	g.vcpus = n;
	g.memory_mib = (v->next_def ? v->next_def : &v->def)->memory_mib;
	if (config && (r = config_check(c, v, &g)) < 0)
		return r;
	if (!live) {
		config_save(v, n, 0, false);
		log_info("guest '%s': %u vCPUs from its next start", v->def.name, n);
		vm_changed(v, "vcpus changed");
		call_reply(c, vm_to_json(v));
		return 0;
	}
	r = vm_qmp_check(c, v);
	if (r < 0)
		return r;
	if (!live_get(v))
		return call_errorf(c, -ENOMEM, "out of memory");
	v->live->want = n;
	v->live->config = config;
	r = qmp_client_command(v->qmp, "query-hotpluggable-cpus", NULL, on_cpu_slots, v);
	if (r < 0)
		return call_errorf(c, r, "cannot send query-hotpluggable-cpus: %s", strerror(-r));
	v->pending = v->live->call = c;
	return 0;
}

/* set-memory: the balloon's new target; the guest's driver gets there in its own time. */
static void on_balloon_set(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	struct vm_live *l = v->live;
	char msg[512];

	if (!l || !l->call || v->pending != l->call)
		return;
	if (!m || m->type == QMP_MESSAGE_ERROR) {
		snprintf(msg, sizeof(msg),
			 "guest '%s': QEMU refused the balloon's target: %s; nothing changed", v->def.name,
			 m && m->error_desc ? m->error_desc : "QMP connection lost");
		l->call = NULL;
		vm_pending_fail(v, -EIO, msg);
		return;
	}
	l->balloon_target_mib = l->want;
	log_info("guest '%s': balloon target %uM", v->def.name, l->want);
	if (l->config)
		config_save(v, 0, l->want, true);
	qmp_client_command(v->qmp, "query-balloon", NULL, on_balloon_query, v);
	vm_changed(v, "memory changed");
	l->call = NULL;
	vm_pending_reply(v, vm_to_json(v));
}

static int method_vm_set_memory(struct daemon *d, struct call *c, json_object *params)
{
	struct vm *v;
	const char *text;
	uint64_t mib;
	bool live, config;
	struct guest g = {};
	const struct guest *target;
	int r = vm_lookup(d, c, params, &v);

	if (r < 0)
		return r;
	if (protocol_param_string(params, "memory", &text) < 0)
		return call_errorf(c, -EINVAL, "missing memory (a size like 600M or 2G)");
	if (guest_memory_parse(text, &mib) < 0 || mib > GUEST_MEMORY_MAX_MIB)
		return call_errorf(c, -EINVAL, "invalid memory '%.64s': expected a size like 600M or 2G",
				   text);
	r = live_flags(c, v, params, &live, &config);
	if (r < 0)
		return r;
	/* What runs: its balloon's limits (the definition may have changed since it started). */
	if (live && guest_balloon_check(&v->def, mib, c->err, sizeof(c->err)) < 0)
		return -ERANGE;
	target = v->next_def ? v->next_def : &v->def;
	if (config && target->max_memory_mib && guest_balloon_check(target, mib, c->err, sizeof(c->err)) < 0)
		return -ERANGE;
	g.vcpus = (v->next_def ? v->next_def : &v->def)->vcpus;
	g.memory_mib = mib;
	if (config && (r = config_check(c, v, &g)) < 0)
		return r;
	if (!live) {
		config_save(v, 0, mib, false);
		log_info("guest '%s': %" PRIu64 "M of memory from its next start", v->def.name, mib);
		vm_changed(v, "memory changed");
		call_reply(c, vm_to_json(v));
		return 0;
	}
	r = vm_qmp_check(c, v);
	if (r < 0)
		return r;
	if (!live_get(v))
		return call_errorf(c, -ENOMEM, "out of memory");
	v->live->want = (unsigned)mib;
	v->live->config = config;
	r = balloon_set(v, mib, on_balloon_set);
	if (r < 0)
		return call_errorf(c, r, "cannot send balloon: %s", strerror(-r));
	v->pending = v->live->call = c;
	return 0;
}

static const struct method live_table[] = {
	{ "vm.set-vcpus", method_vm_set_vcpus, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.set-memory", method_vm_set_memory, METHOD_CHANGE | METHOD_ASYNC },
};

const struct method_area vm_live_methods = METHOD_AREA(live_table);
