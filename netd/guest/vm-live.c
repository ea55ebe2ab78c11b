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
 * a refused one changes nothing. The balloon is cooperative (the guest may ignore its target):
 * memory under a balloon is not a limit, max-memory is. vmm/DESIGN.md has the rest (a definition
 * that cannot be saved, a plan cut short, a guest ejecting a vCPU, late answers).
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

/* One set-vcpus or set-memory under way: allocated for it, freed when its call is answered. */
struct live_req {
	struct call *call; /* v->pending while it is under way */
	bool waiting; /* a command of its chain has not been answered yet */
	unsigned want; /* vCPUs, or the balloon's target in MiB */
	bool config;
	/* set-vcpus: the slots, the plan, how far it got, and why it stopped */
	struct qmp_cpu_slot slots[CPU_SLOTS_MAX];
	size_t n_slots, plan[CPU_SLOTS_MAX];
	int n_plan, next, plugged;
	unsigned have; /* vCPUs present before it */
	bool vcpus; /* set-vcpus (else set-memory) */
	char failed[256]; /* QEMU refused a device_add: why */
};

struct vm_live {
	unsigned vcpus_present; /* 0: not known yet */
	bool has_actual;
	uint64_t balloon_actual; /* bytes */
	uint64_t balloon_target_mib; /* 0: unknown (none set since QEMU started, or an adopted QEMU) */
	bool target_at_run; /* adopted before its first 'cont': the target is set when it runs */
	/* Answers QEMU still owes to requests answered otherwise (destroy, QEMU gone): QMP answers in
	 * order, so the next ones to come to a request's callbacks are theirs, not a newer request's. */
	unsigned stale;
	struct live_req *req;
};

static const char *plural(unsigned n)
{
	return n == 1 ? "" : "s";
}

static struct vm_live *live_get(struct vm *v)
{
	if (!v->live)
		v->live = calloc(1, sizeof(*v->live));
	return v->live;
}

void vm_live_reset(struct vm *v)
{
	if (v->live)
		free(v->live->req);
	free(TAKE_PTR(v->live));
}

void vm_live_call_done(struct vm *v, struct call *c)
{
	struct vm_live *l = v->live;

	if (!l || !l->req || l->req->call != c)
		return;
	if (l->req->waiting)
		l->stale++;
	free(TAKE_PTR(l->req));
}

void vm_live_exited(struct vm *v)
{
	struct vm_live *l = v->live;
	char msg[512];

	if (l && l->req && v->pending == l->req->call) {
		if (l->req->vcpus && l->req->n_plan > 0)
			snprintf(msg, sizeof(msg),
				 "guest '%s': QEMU exited before the vCPUs were plugged in (%d of %d "
				 "were); the definition is unchanged",
				 v->def.name, l->req->plugged, l->req->n_plan);
		else
			snprintf(msg, sizeof(msg),
				 "guest '%s': QEMU exited before it answered %s; the definition is "
				 "unchanged",
				 v->def.name, l->req->vcpus ? "query-hotpluggable-cpus" : "balloon");
		vm_pending_fail(v, -ECONNRESET, msg);
	}
	vm_live_reset(v);
}

/* The request a chain callback's answer is for, or NULL: none, or one answered otherwise. */
static struct live_req *req_answered(struct vm *v)
{
	struct vm_live *l = v->live;

	if (!l)
		return NULL;
	if (l->stale) {
		l->stale--;
		return NULL;
	}
	if (!l->req || v->pending != l->req->call)
		return NULL;
	l->req->waiting = false;
	return l->req;
}

/* A command of the request's chain; -errno when it cannot go (the caller fails the request). */
static int req_send(struct vm *v, const char *cmd, json_object *args, qmp_reply_fn fn)
{
	int r = qmp_client_command(v->qmp, cmd, args, fn, v);

	if (r >= 0)
		v->live->req->waiting = true;
	return r;
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
		log_guest(LOG_WARNING, v->def.name,
			  "guest '%s': cannot set its balloon to %" PRIu64 "M (%s); it has all %" PRIu64 "M",
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

/* The balloon's target at a start: the definition's memory (QEMU starts with all of -m). */
static void balloon_start(struct vm *v)
{
	if (v->def.memory_mib < guest_max_memory_mib(&v->def) &&
	    balloon_set(v, v->def.memory_mib, on_balloon_start) < 0)
		log_guest(LOG_WARNING, v->def.name, "guest '%s': cannot set its balloon", v->def.name);
}

void vm_live_qmp_ready(struct vm *v, bool start)
{
	/* Without free slots, what runs is what it started with (until its OS ejects a vCPU:
	 * vm_live_event). */
	if (guest_max_vcpus(&v->def) > v->def.vcpus)
		qmp_client_command(v->qmp, "query-cpus-fast", NULL, on_cpus, v);
	if (!v->def.max_memory_mib)
		return;
	/* An adopted QEMU keeps the target it has (a --live change netd did not persist); one adopted
	 * before its first 'cont' never ran: it gets the target when it does (vm_live_prelaunch). */
	if (start)
		balloon_start(v);
	qmp_client_command(v->qmp, "query-balloon", NULL, on_balloon_query, v);
}

void vm_live_prelaunch(struct vm *v)
{
	if (v->def.max_memory_mib && live_get(v))
		v->live->target_at_run = true;
}

void vm_live_running(struct vm *v)
{
	if (!v->live || !v->live->target_at_run)
		return;
	v->live->target_at_run = false;
	balloon_start(v);
}

/* A DEVICE_DELETED of a device netd plugged as a vCPU (id vcpuK) or of a vCPU QEMU made at start
 * (no id: its QOM path is under /machine/unattached or names a CPU type). */
static bool vcpu_device(json_object *data)
{
	json_object *o;
	const char *dev = NULL, *path = NULL;

	if (data && json_object_object_get_ex(data, "device", &o) && json_object_is_type(o, json_type_string))
		dev = json_object_get_string(o);
	if (data && json_object_object_get_ex(data, "path", &o) && json_object_is_type(o, json_type_string))
		path = json_object_get_string(o);
	if (dev && !strncmp(dev, "vcpu", 4))
		return true;
	return !dev && path && strstr(path, "-cpu");
}

void vm_live_event(struct vm *v, const struct qmp_message *m)
{
	uint64_t actual;

	/* A guest may eject a vCPU by itself: QEMU 7.2 (hw/acpi/cpu.c) unplugs any vCPU whose eject
	 * bit the guest's ACPI _EJ0 writes, asked to or not; count them again. Only for a vCPU: a
	 * detached disk's DEVICE_DELETED asks nothing. */
	if (!strcmp(m->event, "DEVICE_DELETED") && vcpu_device(m->data)) {
		qmp_client_command(v->qmp, "query-cpus-fast", NULL, on_cpus, v);
		return;
	}
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

	if (protocol_param_bool(params, "live", &live) == -EINVAL ||
	    protocol_param_bool(params, "config", &config) == -EINVAL)
		return call_errorf(c, -EINVAL, "live and config must be true or false");
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

/* The definition a --config change goes to: a running guest's next one, if it has one. */
static const struct guest *config_current(struct vm *v)
{
	return v->next_def ? v->next_def : &v->def;
}

/* Checks a --config change on a copy: nothing is changed when it is refused. */
static int config_check(struct call *c, struct vm *v, unsigned vcpus, uint64_t memory_mib)
{
	struct guest copy = *config_current(v);

	copy.vcpus = vcpus;
	copy.memory_mib = memory_mib;
	if (guest_validate(&copy, c->err, sizeof(c->err)) < 0)
		return -EINVAL;
	return 0;
}

/*
 * A --config change: made on a copy of the definition it goes to, saved, and only then installed;
 * when it cannot be saved, nothing changed (-errno). It goes to a running guest's next definition
 * (made when there is none yet), unless the change is live too: then what runs changes with it.
 */
static int config_save(struct vm *v, unsigned vcpus, uint64_t memory_mib, bool live)
{
	_cleanup_free_ struct guest *copy = malloc(sizeof(*copy));
	int r;

	if (!copy)
		return -ENOMEM;
	*copy = *config_current(v);
	if (vcpus)
		copy->vcpus = vcpus;
	if (memory_mib)
		copy->memory_mib = memory_mib;
	r = store_guest_save(&v->daemon->paths, copy);
	if (r < 0)
		return r;
	if (v->next_def)
		*v->next_def = *copy;
	else if (vm_running(v) && !live)
		v->next_def = TAKE_PTR(copy);
	else
		v->def = *copy;
	if (live && v->next_def) {
		if (vcpus)
			v->def.vcpus = vcpus;
		if (memory_mib)
			v->def.memory_mib = memory_mib;
	}
	return 0;
}

/*
 * The answer to a live change that went through: with --config too, a definition that could not be
 * saved is told in a "warning" (what runs did change; the definition, and so the next start and a
 * netd restart, did not).
 */
static void live_done(struct vm *v, struct live_req *req, unsigned vcpus, uint64_t memory_mib,
		      const char *what)
{
	json_object *o;
	char warning[512] = "";
	int r = req->config ? config_save(v, vcpus, memory_mib, true) : 0;

	if (r < 0) {
		snprintf(warning, sizeof(warning),
			 "the running guest changed, but its definition could not be saved (%s): its next "
			 "start has what it had",
			 strerror(-r));
		log_guest(LOG_ERR, v->def.name, "guest '%s': %s", v->def.name, warning);
	}
	vm_changed(v, what);
	o = vm_to_json(v);
	if (warning[0])
		json_object_object_add(o, "warning", json_object_new_string(warning));
	vm_pending_reply(v, o);
}

/* The answer to a --config change alone. */
static int config_only(struct call *c, struct vm *v, unsigned vcpus, uint64_t memory_mib, const char *what)
{
	int r = config_save(v, vcpus, memory_mib, false);

	if (r < 0)
		return call_errorf(c, r, "guest '%s': cannot save its definition: %s; nothing changed",
				   v->def.name, strerror(-r));
	vm_changed(v, what);
	call_reply(c, vm_to_json(v));
	return 0;
}

/* set-vcpus: device_add of the planned slots, one after the other; then count them again. */
static void cpu_plug_next(struct vm *v);

static void req_fail(struct vm *v, int error, const char *msg)
{
	log_guest(LOG_WARNING, v->def.name, "%s", msg);
	vm_pending_fail(v, error, msg);
}

/* The vCPUs the request's plan has plugged in so far, with those present before it. */
static unsigned cpus_plugged(const struct live_req *req)
{
	unsigned n = req->have;

	for (int i = 0; i < req->plugged; i++)
		n += req->slots[req->plan[i]].vcpus;
	return n;
}

/*
 * The plan is done, or QEMU refused a device_add part-way through it: what QEMU counts now is what
 * the guest has (and, with --config, what its definition says from now on when any vCPU did plug).
 */
static void on_cpus_done(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	struct live_req *req;
	unsigned now;
	char msg[768];
	int r;

	on_cpus(c, m, userdata);
	req = req_answered(v);
	if (!req)
		return;
	now = v->live->vcpus_present ? v->live->vcpus_present : cpus_plugged(req);
	if (!req->failed[0]) {
		log_guest(LOG_INFO, v->def.name, "guest '%s': %d vCPU%s plugged in live, %u present",
			  v->def.name, req->n_plan, plural((unsigned)req->n_plan), now);
		live_done(v, req, req->want, 0, "vcpus changed");
		return;
	}
	r = req->config && req->plugged ? config_save(v, now, 0, true) : 0;
	snprintf(msg, sizeof(msg),
		 "guest '%s': QEMU refused vCPU %d of %d: %s; %d of %d plugged in, the guest now has "
		 "%u vCPU%s; %s",
		 v->def.name, req->plugged + 1, req->n_plan, req->failed, req->plugged, req->n_plan, now,
		 plural(now),
		 r < 0			     ? "its definition could not be saved and is unchanged" :
		 req->config && req->plugged ? "its definition says so" :
					       "the definition is unchanged");
	if (req->plugged)
		vm_changed(v, "vcpus changed");
	req_fail(v, -EIO, msg);
}

static void on_cpu_added(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	struct live_req *req = req_answered(v);

	if (!req)
		return;
	if (m && m->type == QMP_MESSAGE_RETURN) {
		req->plugged++;
		cpu_plug_next(v);
		return;
	}
	snprintf(req->failed, sizeof(req->failed), "%s",
		 m && m->error_desc ? m->error_desc : "QMP connection lost");
	if (!m || req_send(v, "query-cpus-fast", NULL, on_cpus_done) < 0)
		on_cpus_done(c, NULL, v);
}

static void cpu_plug_next(struct vm *v)
{
	struct live_req *req = v->live->req;
	char id[32], msg[256];
	size_t slot;
	int r;

	if (req->next == req->n_plan)
		r = req_send(v, "query-cpus-fast", NULL, on_cpus_done);
	else {
		slot = req->plan[req->next++];
		/* The slot's place in the sorted list: unique, and the same vCPU gets the same id each
		 * time. */
		snprintf(id, sizeof(id), "vcpu%zu", slot);
		r = req_send(v, "device_add", qmp_cpu_device_add_args(&req->slots[slot], id), on_cpu_added);
	}
	if (r < 0) {
		snprintf(msg, sizeof(msg), "guest '%s': cannot send to QMP: %s (%d of %d vCPU%s plugged in)",
			 v->def.name, strerror(-r), req->plugged, req->n_plan, plural((unsigned)req->n_plan));
		req_fail(v, r, msg);
	}
}

static void on_cpu_slots(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	struct live_req *req = req_answered(v);
	char msg[512];
	int r;

	if (!req)
		return;
	r = m && m->type == QMP_MESSAGE_RETURN ?
		    qmp_cpu_slots_parse(m->data, req->slots, CPU_SLOTS_MAX, &req->n_slots) :
		    -EIO;
	if (r < 0) {
		snprintf(msg, sizeof(msg),
			 "guest '%s': cannot read its vCPU slots (query-hotpluggable-cpus): %s", v->def.name,
			 m && m->error_desc ? m->error_desc : strerror(-r));
		req_fail(v, r, msg);
		return;
	}
	req->have = qmp_cpu_slots_present(req->slots, req->n_slots);
	req->n_plan = qmp_cpu_plan(req->slots, req->n_slots, req->want, req->plan);
	req->next = 0;
	if (req->n_plan == -EBUSY)
		snprintf(
			msg, sizeof(msg),
			"guest '%s' has %u vCPU%s: removing vCPUs from a running guest is refused (on q35 "
			"QEMU can only ask the guest's OS to eject a vCPU through ACPI, which it may ignore, "
			"and never the boot vCPU); use --config and restart the guest",
			v->def.name, req->have, plural(req->have));
	else if (req->n_plan < 0)
		snprintf(msg, sizeof(msg),
			 "guest '%s' has %u vCPU%s and %zu slots in all: QEMU has no free slot for %u",
			 v->def.name, req->have, plural(req->have), req->n_slots, req->want);
	if (req->n_plan < 0) {
		vm_pending_fail(v, req->n_plan == -EBUSY ? -EBUSY : -ERANGE, msg);
		return;
	}
	cpu_plug_next(v);
}

/* A live request's state, kept until its call is answered (vm_live_call_done). */
static int req_start(struct call *c, struct vm *v, unsigned want, bool config, bool vcpus)
{
	if (!live_get(v) || !(v->live->req = calloc(1, sizeof(*v->live->req))))
		return call_errorf(c, -ENOMEM, "out of memory");
	v->live->req->call = c;
	v->live->req->want = want;
	v->live->req->config = config;
	v->live->req->vcpus = vcpus;
	return 0;
}

static int method_vm_set_vcpus(struct daemon *d, struct call *c, json_object *params)
{
	struct vm *v;
	unsigned n = 0, max;
	bool live, config;
	int r = vm_lookup(d, c, params, &v);

	if (r < 0)
		return r;
	if (protocol_param_uint(params, "vcpus", 1u << 30, &n) < 0 || n < 1 || n > GUEST_VCPUS_MAX)
		return call_errorf(c, -EINVAL, "vcpus must be a number from 1 to %d", GUEST_VCPUS_MAX);
	r = live_flags(c, v, params, &live, &config);
	if (r < 0)
		return r;
	/* The slots QEMU has bound what runs; a definition's vcpus only guest_validate (its
	 * max-vcpus, when it has one). */
	max = guest_max_vcpus(&v->def);
	if (live && n > max)
		return call_errorf(
			c, -ERANGE,
			"guest '%s' may have at most %u vCPU%s while it runs (its --max-vcpus; QEMU "
			"started with that many slots and no more): %u is above it; --config "
			"changes it for the next start",
			v->def.name, max, plural(max), n);
	if (config && (r = config_check(c, v, n, config_current(v)->memory_mib)) < 0)
		return r;
	if (!live) {
		r = config_only(c, v, n, 0, "vcpus changed");
		if (r >= 0)
			log_guest(LOG_INFO, v->def.name, "guest '%s': %u vCPU%s from its next start",
				  v->def.name, n, plural(n));
		return r;
	}
	r = vm_qmp_check(c, v);
	if (r < 0)
		return r;
	r = req_start(c, v, n, config, true);
	if (r < 0)
		return r;
	r = req_send(v, "query-hotpluggable-cpus", NULL, on_cpu_slots);
	if (r < 0) {
		free(TAKE_PTR(v->live->req));
		return call_errorf(c, r, "cannot send query-hotpluggable-cpus: %s", strerror(-r));
	}
	v->pending = c;
	return 0;
}

/* set-memory: the balloon's new target; the guest's driver gets there in its own time. */
static void on_balloon_set(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	struct live_req *req = req_answered(v);
	char msg[512];

	if (!req)
		return;
	if (!m || m->type == QMP_MESSAGE_ERROR) {
		snprintf(msg, sizeof(msg),
			 "guest '%s': QEMU refused the balloon's target: %s; nothing changed", v->def.name,
			 m && m->error_desc ? m->error_desc : "QMP connection lost");
		req_fail(v, -EIO, msg);
		return;
	}
	v->live->balloon_target_mib = req->want;
	log_guest(LOG_INFO, v->def.name, "guest '%s': balloon target %uM", v->def.name, req->want);
	qmp_client_command(v->qmp, "query-balloon", NULL, on_balloon_query, v);
	live_done(v, req, 0, req->want, "memory changed");
}

static int method_vm_set_memory(struct daemon *d, struct call *c, json_object *params)
{
	struct vm *v;
	const char *text;
	uint64_t mib;
	bool live, config;
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
	if (config && config_current(v)->max_memory_mib &&
	    guest_balloon_check(config_current(v), mib, c->err, sizeof(c->err)) < 0)
		return -ERANGE;
	if (config && (r = config_check(c, v, config_current(v)->vcpus, mib)) < 0)
		return r;
	if (!live) {
		r = config_only(c, v, 0, mib, "memory changed");
		if (r >= 0)
			log_guest(LOG_INFO, v->def.name,
				  "guest '%s': %" PRIu64 "M of memory from its next start", v->def.name, mib);
		return r;
	}
	r = vm_qmp_check(c, v);
	if (r < 0)
		return r;
	r = req_start(c, v, (unsigned)mib, config, false);
	if (r < 0)
		return r;
	r = balloon_set(v, mib, on_balloon_set);
	if (r < 0) {
		free(TAKE_PTR(v->live->req));
		return call_errorf(c, r, "cannot send balloon: %s", strerror(-r));
	}
	v->live->req->waiting = true;
	v->pending = c;
	return 0;
}

static const struct method live_table[] = {
	{ "vm.set-vcpus", method_vm_set_vcpus, METHOD_CHANGE | METHOD_ASYNC },
	{ "vm.set-memory", method_vm_set_memory, METHOD_CHANGE | METHOD_ASYNC },
};

const struct method_area vm_live_methods = METHOD_AREA(live_table);
