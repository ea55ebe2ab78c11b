/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tap ops table: TAP devices and vhost-net fds for guests. Exactly one backend
 * (tap-linux.c) opens /dev/net/tun and /dev/vhost-net; tests use the recording fake
 * (tap-fake.c), which writes one line per operation and can pretend vhost-net exists.
 */
#pragma once

#include <stdbool.h>

/*
 * tap_open: a TAP named ifname with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR (and IFF_MULTI_QUEUE with
 * one fd per queue when queues > 1), not persistent: it disappears when the last fd closes.
 * vhost_open: one /dev/vhost-net fd per queue; -ENOENT when the device does not exist.
 * All fds are O_CLOEXEC; they are inherited by QEMU only through the explicit fd map.
 */
struct tap_ops {
	const char *name;
	int (*tap_open)(void *userdata, const char *ifname, unsigned queues, int *ret_fds, int *ret_ifindex);
	int (*vhost_open)(void *userdata, unsigned n, int *ret_fds);
};

struct tap_backend {
	const struct tap_ops *ops;
	void *userdata;
};

extern const struct tap_ops tap_linux_ops;

struct tap_fake;
int tap_fake_new(bool vhost_available, struct tap_fake **ret, struct tap_backend *ret_backend);
void tap_fake_free(struct tap_fake *f);
const char *tap_fake_log(struct tap_fake *f);
void tap_fake_clear_log(struct tap_fake *f);
/* Make each TAP a link of a fake kernel too (a whole daemon on fakes: the link fake then has the
 * port netd plugs), make_link giving its ifindex. */
void tap_fake_set_make_link(struct tap_fake *f, int (*make_link)(void *userdata, const char *ifname, int *ret_ifindex),
			    void *userdata);
void tap_fake_fail_op(struct tap_fake *f, const char *op, int err);
