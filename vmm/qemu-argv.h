/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QEMU command line, rendered by a pure function from a guest definition, the fds netd
 * opened for it and what the installed QEMU supports. Golden-file tested.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>

#include "guest.h"

/* How the accelerator was chosen for this start. */
enum qemu_accel {
	QEMU_ACCEL_KVM,	    /* -accel kvm */
	QEMU_ACCEL_TCG,	    /* -accel tcg */
	QEMU_ACCEL_KVM_TCG, /* -accel kvm -accel tcg: QEMU falls back if KVM cannot initialise */
	_QEMU_ACCEL_MAX,
};
const char *qemu_accel_to_string(enum qemu_accel a);

struct qemu_caps {
	int major, minor;
	bool sandbox; /* built with seccomp: -sandbox on */
};

/* One NIC as started: its TAP and the fd numbers QEMU inherits (tap fds, then vhost fds). */
struct qemu_nic {
	char tap[IFNAMSIZ];
	struct mac mac;
	unsigned queues;
	bool vhost;
	int first_fd;
};

struct qemu_launch {
	const struct guest *guest;
	const char *binary;
	const char *run_dir; /* <run>/guests/NAME: qmp.sock, console.sock, serial.log */
	const char *user;    /* run QEMU as this user, or NULL */
	struct qemu_caps caps;
	enum qemu_accel accel;
	struct qemu_nic nics[GUEST_NICS_MAX];
	size_t n_nics;
};

#define QEMU_FIRST_FD 3
/* Assign the fixed fd numbers: NIC by NIC, queues tap fds then queues vhost fds; returns the count. */
int qemu_fds_layout(struct qemu_nic *nics, size_t n_nics);
/* NULL-terminated argv; free with strv_free(). */
int qemu_argv_render(const struct qemu_launch *l, char ***ret);
/* One option with its value per line, for golden files and logs. Caller frees. */
char *qemu_argv_format(char *const *argv);
void strv_free(char **v);
