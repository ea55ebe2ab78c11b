/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QMP: the pure message parser (tested against recorded sessions) and a non-blocking client
 * for the sd-event loop (greeting, qmp_capabilities, commands with ids, events).
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "disk.h"

enum qmp_message_type {
	QMP_MESSAGE_GREETING,
	QMP_MESSAGE_RETURN,
	QMP_MESSAGE_ERROR,
	QMP_MESSAGE_EVENT,
	_QMP_MESSAGE_MAX,
};
const char *qmp_message_type_to_string(enum qmp_message_type t);

struct qmp_message {
	enum qmp_message_type type;
	bool has_id;
	uint64_t id;
	const char *event;	 /* EVENT: "SHUTDOWN", ... */
	const char *error_class; /* ERROR */
	const char *error_desc;	 /* ERROR */
	int version_major, version_minor, version_micro; /* GREETING */
	json_object *data; /* RETURN: the value; EVENT: "data" or NULL. Owned by root. */
	json_object *root;
};

int qmp_message_parse(const char *line, size_t len, struct qmp_message *ret);
void qmp_message_done(struct qmp_message *m);
/* A query-status return: {"status": "running", "running": true}. */
int qmp_status_parse(json_object *ret, const char **ret_status, bool *ret_running);
/* A query-block return: 1 when an inserted image opened another file by its name (a backing file,
 * a qcow2 data file), with which into what; 0 when none did; -EBADMSG when not such a return. */
int qmp_block_external_files(json_object *ret, char *what, size_t size);

/* A vCPU slot of query-hotpluggable-cpus: the CPU type device_add makes and the props that place
 * it (socket-id, die-id, core-id, thread-id, in that order, then any others). */
#define QMP_CPU_PROPS_MAX 8
struct qmp_cpu_slot {
	char type[64];
	struct {
		char name[24];
		int64_t value;
	} props[QMP_CPU_PROPS_MAX];
	size_t n_props;
	unsigned vcpus; /* vcpus-count: 1 on x86 */
	bool plugged; /* it has a qom-path */
};
/* The slots of a query-hotpluggable-cpus return, sorted by their props (QEMU lists them the other
 * way round). -EBADMSG when not such a return: a type not named like a CPU's ("...-cpu"), a prop
 * that is not one that places a vCPU (node-id ... thread-id), two slots in one place; -E2BIG when
 * there are more than max. */
int qmp_cpu_slots_parse(json_object *ret, struct qmp_cpu_slot *slots, size_t max, size_t *ret_n);
/* The vCPUs the plugged slots hold. */
unsigned qmp_cpu_slots_present(const struct qmp_cpu_slot *slots, size_t n);
/*
 * Which free slots to plug in for want vCPUs: the first ones in order, their indexes into ret
 * (room for n), their count returned. -EBUSY when want is fewer than are present (an unplug),
 * -ERANGE when there are too few free slots.
 */
int qmp_cpu_plan(const struct qmp_cpu_slot *slots, size_t n, unsigned want, size_t *ret);
/* device_add's arguments for a slot: {"driver": type, "id": id, props...}. */
json_object *qmp_cpu_device_add_args(const struct qmp_cpu_slot *slot, const char *id);
/* The vCPUs of a query-cpus-fast return; -EBADMSG when not one. */
int qmp_cpus_count(json_object *ret);
/* The balloon's "actual" (bytes) of a query-balloon return or a BALLOON_CHANGE event's data. */
int qmp_balloon_actual(json_object *o, uint64_t *ret_bytes);

/* Internal snapshots (vm snapshot): those of the block node named node in a
 * query-named-block-nodes return (its image's "snapshots"); -ENOENT when no such node, -E2BIG when
 * more than max, -EBADMSG when not such a return. */
int qmp_node_snapshots(json_object *ret, const char *node, struct disk_snapshot *snaps, size_t max,
		       size_t *ret_n);
/* The job id in a query-jobs return: its status ("concluded", ...) and error; 1 when it has an
 * error, 0 when not, -ENOENT when no such job, -EBADMSG when not such a return. */
int qmp_job_status(json_object *ret, const char *id, char *status, size_t status_size, char *error,
		   size_t error_size);
/* A JOB_STATUS_CHANGE event's job id and new status (pointers into m); -EBADMSG for another event. */
int qmp_job_event(const struct qmp_message *m, const char **ret_id, const char **ret_status);

struct qmp_client;
/* m is NULL when the connection closed before the answer. */
typedef void (*qmp_reply_fn)(struct qmp_client *c, const struct qmp_message *m, void *userdata);
typedef void (*qmp_event_fn)(struct qmp_client *c, const struct qmp_message *m, void *userdata);
/* error 0: capabilities negotiated, commands flow; negative: connection lost or never made. */
typedef void (*qmp_state_fn)(struct qmp_client *c, int error, void *userdata);

int qmp_client_new(sd_event *e, const char *path, uint64_t connect_timeout_usec, qmp_event_fn on_event,
		   qmp_state_fn on_state, void *userdata, struct qmp_client **ret);
/* The most commands waiting for their answer (or to be sent) on one client. */
#define QMP_CLIENT_PENDING_MAX 64
/* Queue a command; sent once the client is ready. args is taken (may be NULL). -EBUSY: already
 * QMP_CLIENT_PENDING_MAX commands wait for their answer (args freed all the same). */
int qmp_client_command(struct qmp_client *c, const char *command, json_object *args, qmp_reply_fn fn,
		       void *userdata);
/* The same with fd sent along (SCM_RIGHTS on the command's bytes), for add-fd and getfd: the client
 * sends a copy of fd and closes it once sent; the caller keeps fd. */
int qmp_client_command_fd(struct qmp_client *c, const char *command, json_object *args, int fd,
			  qmp_reply_fn fn, void *userdata);
bool qmp_client_ready(const struct qmp_client *c);
void qmp_client_free(struct qmp_client *c);
