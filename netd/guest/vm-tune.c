/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tuning a guest at run time (the definition's part is vmm/guest-tune.c, its QEMU options
 * qemu-argv.c): before a start, pinned CPUs must be the host's and enough huge pages free; once
 * QMP answers (a start, or the adoption after a netd restart) each vCPU thread (QMP
 * query-cpus-fast's thread-id) and QEMU's other threads are pinned with sched_setaffinity(); vm
 * show reads the affinity back from the threads.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "guest-tune.h"
#include "log.h"
#include "macro.h"
#include "vm.h"

/* Overridable for tests of the daemon on fakes. */
const char *vm_tune_cpus_online_path = "/sys/devices/system/cpu/online";
const char *vm_tune_meminfo_path = "/proc/meminfo";

static int host_cpus(cpu_set_t *ret)
{
	_cleanup_free_ char *text = NULL;
	int r = read_file(vm_tune_cpus_online_path, &text, NULL);

	if (r < 0)
		return r;
	text[strcspn(text, "\n")] = 0;
	return guest_cpulist_parse(text, ret) < 0 ? -EBADMSG : 0;
}

/* CPUs in want that the host lacks, as a list; 0 when none. */
static int cpus_missing(const cpu_set_t *want, const cpu_set_t *host, char *buf, size_t size)
{
	cpu_set_t missing;

	CPU_ZERO(&missing);
	for (unsigned c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, want) && !CPU_ISSET(c, host))
			CPU_SET(c, &missing);
	guest_cpulist_format(&missing, buf, size);
	return CPU_COUNT(&missing);
}

static int check_cpus(const struct guest *g, char *err, size_t errlen)
{
	struct guest_vcpu_pin pins[GUEST_VCPUS_MAX];
	cpu_set_t host, want;
	char miss[128], have[128];
	int n = 0, r;

	if (!g->vcpu_pin[0] && !g->emulator_pin[0])
		return 0;
	r = host_cpus(&host);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the host's CPUs (%s): %s", vm_tune_cpus_online_path,
			 strerror(-r));
		return r;
	}
	guest_cpulist_format(&host, have, sizeof(have));
	if (g->vcpu_pin[0])
		n = guest_vcpu_pin_parse(g->vcpu_pin, pins, GUEST_VCPUS_MAX);
	for (int i = 0; i < n; i++)
		if (cpus_missing(&pins[i].cpus, &host, miss, sizeof(miss))) {
			snprintf(
				err, errlen,
				"--vcpu-pin: vCPU %u is pinned to CPU %s, which this host lacks (its CPUs: %s)",
				pins[i].vcpu, miss, have);
			return -EINVAL;
		}
	if (g->emulator_pin[0] && guest_cpulist_parse(g->emulator_pin, &want) >= 0 &&
	    cpus_missing(&want, &host, miss, sizeof(miss))) {
		snprintf(err, errlen, "--emulator-pin names CPU %s, which this host lacks (its CPUs: %s)",
			 miss, have);
		return -EINVAL;
	}
	return 0;
}

static int check_hugepages(const struct guest *g, char *err, size_t errlen)
{
	_cleanup_free_ char *text = NULL;
	uint64_t free_pages, page_kb;
	int64_t need;
	int r;

	if (!g->hugepages)
		return 0;
	r = read_file(vm_tune_meminfo_path, &text, NULL);
	if (r >= 0)
		r = guest_meminfo_hugepages(text, &free_pages, &page_kb);
	if (r < 0) {
		snprintf(err, errlen, "--hugepages: cannot read HugePages_Free and Hugepagesize from %s: %s",
			 vm_tune_meminfo_path, strerror(-r));
		return r;
	}
	need = guest_hugepages_needed(guest_max_memory_mib(g), page_kb);
	if (need < 0) {
		snprintf(err, errlen,
			 "--hugepages: memory %" PRIu64 "M is not a multiple of the huge page size (%" PRIu64
			 " kB)",
			 guest_max_memory_mib(g), page_kb);
		return -EINVAL;
	}
	if ((uint64_t)need > free_pages) {
		snprintf(err, errlen,
			 "--hugepages: memory %" PRIu64 "M needs %" PRId64 " huge pages of %" PRIu64
			 " kB, but only %" PRIu64
			 " are free (HugePages_Free minus HugePages_Rsvd in %s; the admin reserves more with "
			 "sysctl vm.nr_hugepages)",
			 guest_max_memory_mib(g), need, page_kb, free_pages, vm_tune_meminfo_path);
		return -ENOMEM;
	}
	return 0;
}

int vm_tune_check(struct daemon *d, const struct guest *g, bool at_start, char *err, size_t errlen)
{
	int r = check_cpus(g, err, errlen);

	if (r < 0 || !at_start)
		return r;
	return check_hugepages(g, err, errlen);
}

static int set_affinity(struct vm *v, pid_t tid, const cpu_set_t *cpus, const char *what)
{
	char list[128];

	guest_cpulist_format(cpus, list, sizeof(list));
	if (sched_setaffinity(tid, sizeof(*cpus), cpus) < 0) {
		int r = -errno;

		log_guest(LOG_ERR, v->def.name, "guest '%s': cannot pin %s (thread %d) to CPUs %s: %s",
			  v->def.name, what, (int)tid, list, strerror(-r));
		return r;
	}
	log_guest(LOG_DEBUG, v->def.name, "sched_setaffinity guest=%s %s tid=%d cpus=%s", v->def.name, what,
		  (int)tid, list);
	return 0;
}

static bool is_vcpu_thread(const struct vm *v, pid_t tid)
{
	for (unsigned i = 0; i < v->n_vcpu_tids; i++)
		if (v->vcpu_tids[i] == tid)
			return true;
	return false;
}

/* Every thread of QEMU but the vCPUs' (the main loop, RCU, workers; threads made later inherit the
 * main thread's affinity). */
static void pin_emulator(struct vm *v)
{
	char path[64];
	cpu_set_t cpus;
	struct dirent *e;
	DIR *dir;

	if (!v->def.emulator_pin[0] || guest_cpulist_parse(v->def.emulator_pin, &cpus) < 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)v->pid);
	dir = opendir(path);
	if (!dir) {
		log_guest(LOG_ERR, v->def.name, "guest '%s': cannot list QEMU's threads (%s): %m",
			  v->def.name, path);
		return;
	}
	while ((e = readdir(dir))) {
		pid_t tid = atoi(e->d_name);

		if (tid > 0 && !is_vcpu_thread(v, tid))
			set_affinity(v, tid, &cpus, tid == v->pid ? "QEMU's main thread" : "a QEMU thread");
	}
	closedir(dir);
}

static void pin_vcpus(struct vm *v)
{
	struct guest_vcpu_pin pins[GUEST_VCPUS_MAX];
	int n = v->def.vcpu_pin[0] ? guest_vcpu_pin_parse(v->def.vcpu_pin, pins, GUEST_VCPUS_MAX) : 0;

	for (int i = 0; i < n; i++) {
		char what[32];

		if (pins[i].vcpu >= v->n_vcpu_tids || v->vcpu_tids[pins[i].vcpu] <= 0) {
			log_guest(LOG_ERR, v->def.name,
				  "guest '%s': QEMU reports no thread for vCPU %u; it is not pinned",
				  v->def.name, pins[i].vcpu);
			continue;
		}
		snprintf(what, sizeof(what), "vCPU %u", pins[i].vcpu);
		set_affinity(v, v->vcpu_tids[pins[i].vcpu], &pins[i].cpus, what);
	}
}

/* A thread-id QEMU reported, if it is one of QEMU's own threads: QEMU is not trusted, and a
 * compromised one could name pid 1 or another guest's threads for netd (root) to pin. 0 if not. */
static pid_t own_thread(const struct vm *v, json_object *tid)
{
	char path[64];
	int64_t t = json_object_get_int64(tid);

	if (!json_object_is_type(tid, json_type_int) || t < 1 || t > INT_MAX)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)v->pid, (int)t);
	return access(path, F_OK) == 0 ? (pid_t)t : 0;
}

void vm_tune_on_cpus(struct qmp_client *q, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;

	if (!m || m->type != QMP_MESSAGE_RETURN || !json_object_is_type(m->data, json_type_array)) {
		log_guest(LOG_ERR, v->def.name,
			  "guest '%s': query-cpus-fast failed (%s): its vCPUs are not pinned", v->def.name,
			  m && m->error_desc ? m->error_desc : "no answer");
		return;
	}
	v->n_vcpu_tids = 0;
	memset(v->vcpu_tids, 0, sizeof(v->vcpu_tids));
	for (size_t i = 0; i < json_object_array_length(m->data); i++) {
		json_object *c = json_object_array_get_idx(m->data, i), *idx, *tid;
		int64_t k;

		if (!json_object_object_get_ex(c, "cpu-index", &idx) ||
		    !json_object_object_get_ex(c, "thread-id", &tid))
			continue;
		k = json_object_get_int64(idx);
		if (k < 0 || k >= GUEST_VCPUS_MAX)
			continue;
		v->vcpu_tids[k] = own_thread(v, tid);
		if (!v->vcpu_tids[k])
			log_guest(LOG_ERR, v->def.name,
				  "guest '%s': QEMU reported thread %s for vCPU %" PRId64
				  ", which is not its own: not pinned",
				  v->def.name, json_object_get_string(tid), k);
		if ((unsigned)k + 1 > v->n_vcpu_tids)
			v->n_vcpu_tids = k + 1;
	}
	pin_emulator(v);
	pin_vcpus(v);
}

void vm_tune_qmp_ready(struct vm *v)
{
	v->n_vcpu_tids = 0;
	/* Only for a guest that pins: the others' starts send nothing more. */
	if (!v->def.vcpu_pin[0] && !v->def.emulator_pin[0])
		return;
	if (qmp_client_command(v->qmp, "query-cpus-fast", NULL, vm_tune_on_cpus, v) < 0)
		log_guest(LOG_ERR, v->def.name,
			  "guest '%s': cannot send query-cpus-fast: its vCPUs are not pinned", v->def.name);
}

void vm_tune_on_kvm(struct qmp_client *q, const struct qmp_message *m, void *userdata)
{
	struct vm *v = userdata;
	json_object *enabled;

	if (!m || m->type != QMP_MESSAGE_RETURN || !json_object_object_get_ex(m->data, "enabled", &enabled) ||
	    !json_object_is_type(enabled, json_type_boolean)) {
		log_guest(LOG_WARNING, v->def.name,
			  "guest '%s': query-kvm failed (%s): vm show may name the wrong CPU model",
			  v->def.name, m && m->error_desc ? m->error_desc : "no answer");
		return;
	}
	v->accel = json_object_get_boolean(enabled) ? QEMU_ACCEL_KVM : QEMU_ACCEL_TCG;
	log_guest(LOG_DEBUG, v->def.name, "guest '%s': adopted QEMU runs with %s", v->def.name,
		  qemu_accel_to_string(v->accel));
}

void vm_tune_adopted(struct vm *v)
{
	/* The start that chose the accelerator was another netd's: ask QEMU which one it uses. */
	if (qmp_client_command(v->qmp, "query-kvm", NULL, vm_tune_on_kvm, v) < 0)
		log_guest(LOG_WARNING, v->def.name,
			  "guest '%s': cannot send query-kvm: vm show may name the wrong CPU model",
			  v->def.name);
}

/* The thread's affinity as the kernel has it now ("" when the thread is gone). */
static json_object *affinity_json(pid_t pid, pid_t tid)
{
	char path[64], list[256];
	cpu_set_t cpus;

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)tid);
	if (access(path, F_OK) < 0 || sched_getaffinity(tid, sizeof(cpus), &cpus) < 0)
		return NULL;
	guest_cpulist_format(&cpus, list, sizeof(list));
	return json_object_new_string(list);
}

static json_object *vcpus_json(struct vm *v)
{
	struct guest_vcpu_pin pins[GUEST_VCPUS_MAX];
	int n = v->def.vcpu_pin[0] ? guest_vcpu_pin_parse(v->def.vcpu_pin, pins, GUEST_VCPUS_MAX) : 0;
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < v->n_vcpu_tids; i++) {
		json_object *o = json_object_new_object();
		char want[128] = "";

		for (int k = 0; k < n; k++)
			if (pins[k].vcpu == i)
				guest_cpulist_format(&pins[k].cpus, want, sizeof(want));
		json_object_object_add(o, "vcpu", json_object_new_int(i));
		json_object_object_add(o, "thread", json_object_new_int(v->vcpu_tids[i]));
		json_object_object_add(o, "pin", want[0] ? json_object_new_string(want) : NULL);
		json_object_object_add(o, "cpus", affinity_json(v->pid, v->vcpu_tids[i]));
		json_object_array_add(a, o);
	}
	return a;
}

json_object *vm_tune_json(struct vm *v)
{
	json_object *o = json_object_new_object();
	bool alive = v->pid > 0;
	const char *cpu = guest_cpu_model_effective(&v->def, alive ? v->accel == QEMU_ACCEL_KVM : true);

	json_object_object_add(o, "cpu", v->def.cpu[0] ? json_object_new_string(v->def.cpu) : NULL);
	if (alive) {
		json_object_object_add(o, "cpu_model", cpu ? json_object_new_string(cpu) : NULL);
		if (cpu && strcmp(cpu, v->def.cpu))
			json_object_object_add(o, "cpu_note",
					       json_object_new_string(
						       "--cpu host needs KVM; this run uses TCG, so the "
						       "model is max (every feature TCG emulates)"));
	}
	json_object_object_add(o, "vcpu_pin",
			       v->def.vcpu_pin[0] ? json_object_new_string(v->def.vcpu_pin) : NULL);
	json_object_object_add(o, "emulator_pin",
			       v->def.emulator_pin[0] ? json_object_new_string(v->def.emulator_pin) : NULL);
	json_object_object_add(o, "hugepages", json_object_new_boolean(v->def.hugepages));
	json_object_object_add(o, "io_threads", json_object_new_int(v->def.io_threads));
	if (alive) {
		json_object_object_add(o, "vcpu_threads", vcpus_json(v));
		json_object_object_add(o, "emulator_cpus", affinity_json(v->pid, v->pid));
	}
	return o;
}
