/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: what a QEMU (the guest's, so hostile) sends on its QMP socket. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What vm-live.c does with a return: vCPU slots, a plan, device_add's arguments; counts, balloon. */
static void use_live(json_object *data)
{
	struct qmp_cpu_slot slots[16];
	size_t n, plan[16];
	uint64_t actual;
	int k;

	(void)qmp_cpus_count(data);
	(void)qmp_balloon_actual(data, &actual);
	if (qmp_cpu_slots_parse(data, slots, 16, &n) < 0)
		return;
	for (unsigned want = 1; want <= 17; want++) {
		k = qmp_cpu_plan(slots, n, want, plan);
		if (k > (int)n)
			abort();
		for (int i = 0; i < k; i++) {
			if (plan[i] >= n || slots[plan[i]].plugged)
				abort();
			json_object_put(qmp_cpu_device_add_args(&slots[plan[i]], "vcpu0"));
		}
	}
}

/* What vm-snapshot.c does with an event or a return: a job's status change, how it ended, the
 * snapshots of a node. */
static void use_snapshot(const struct qmp_message *m)
{
	struct disk_snapshot snaps[4];
	const char *id, *status;
	char st[32], err[64];
	size_t n;

	if (qmp_job_event(m, &id, &status) >= 0 && (!id || !status))
		abort();
	if (m->type != QMP_MESSAGE_RETURN)
		return;
	if (qmp_job_status(m->data, "netd-snap-0", st, sizeof(st), err, sizeof(err)) >= 0 &&
	    !memchr(st, 0, sizeof(st)))
		abort();
	if (qmp_node_snapshots(m->data, "disk0", snaps, 4, &n) >= 0 && n > 4)
		abort();
}

/* What netd does with one message: the fields vm.c and qmp-client.c read. */
static void use(const struct qmp_message *m)
{
	const char *status;
	bool running;

	if (!qmp_message_type_to_string(m->type))
		abort();
	switch (m->type) {
	case QMP_MESSAGE_EVENT:
		if (!m->event || strlen(m->event) > strlen(json_object_to_json_string(m->root)))
			abort();
		use_live(m->data);
		use_snapshot(m);
		break;
	case QMP_MESSAGE_ERROR:
		if (!m->error_class)
			abort();
		(void)strlen(m->error_desc ? m->error_desc : "");
		break;
	case QMP_MESSAGE_RETURN:
		if (qmp_status_parse(m->data, &status, &running) >= 0 && !status)
			abort();
		use_live(m->data);
		use_snapshot(m);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	/* Split at newlines the way qmp-client.c's reader does; the last piece has none. */
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct qmp_message m;

		if (qmp_message_parse(p, len, &m) >= 0) {
			use(&m);
			qmp_message_done(&m);
		}
		p += len + 1;
	}
	return 0;
}
