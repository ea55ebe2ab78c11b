/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recording fake: fds are /dev/null opens, so callers can close them like real ones. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakelog.h"
#include "macro.h"
#include "tap.h"

struct tap_fake {
	bool vhost_available;
	struct fake_log log;
	int next_ifindex;
	char fail_op[32];
	int fail_err;
	int (*make_link)(void *userdata, const char *ifname, int *ret_ifindex);
	void *make_link_userdata;
};

static int null_fds(int *ret, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		ret[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (ret[i] < 0) {
			int r = -errno;
			while (i--)
				close(ret[i]);
			return r;
		}
	}
	return 0;
}

static int failing(struct tap_fake *f, const char *op)
{
	return !strcmp(f->fail_op, op) ? f->fail_err : 0;
}

static int fake_tap_open(void *userdata, const char *ifname, unsigned queues, int *ret_fds, int *ret_ifindex)
{
	struct tap_fake *f = userdata;
	int r = failing(f, "tap_open");

	fake_log_add(&f->log, "tap_open name=%s queues=%u flags=TAP|NO_PI|VNET_HDR%s%s", ifname, queues,
		     queues > 1 ? "|MULTI_QUEUE" : "", r ? " -> fail" : "");
	if (r)
		return r;
	r = null_fds(ret_fds, queues);
	if (r < 0)
		return r;
	if (!f->make_link) {
		*ret_ifindex = f->next_ifindex++;
		return 0;
	}
	r = f->make_link(f->make_link_userdata, ifname, ret_ifindex);
	if (r < 0)
		for (unsigned i = 0; i < queues; i++)
			close(ret_fds[i]);
	return r;
}

static int fake_vhost_open(void *userdata, unsigned n, int *ret_fds)
{
	struct tap_fake *f = userdata;
	int r = !f->vhost_available ? -ENOENT : failing(f, "vhost_open");
	const char *note = r == -ENOENT ? " -> no /dev/vhost-net" : r ? " -> fail" : "";

	fake_log_add(&f->log, "vhost_open n=%u%s", n, note);
	return r ? r : null_fds(ret_fds, n);
}

static const struct tap_ops fake_ops = {
	.name = "fake",
	.tap_open = fake_tap_open,
	.vhost_open = fake_vhost_open,
};

int tap_fake_new(bool vhost_available, struct tap_fake **ret, struct tap_backend *ret_backend)
{
	struct tap_fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->log.name = "tap";
	f->vhost_available = vhost_available;
	f->next_ifindex = 100;
	*ret = f;
	*ret_backend = (struct tap_backend){ &fake_ops, f };
	return 0;
}

void tap_fake_free(struct tap_fake *f)
{
	if (!f)
		return;
	fake_log_clear(&f->log);
	free(f);
}

const char *tap_fake_log(struct tap_fake *f)
{
	return fake_log_text(&f->log);
}

void tap_fake_clear_log(struct tap_fake *f)
{
	fake_log_clear(&f->log);
}

void tap_fake_fail_op(struct tap_fake *f, const char *op, int err)
{
	snprintf(f->fail_op, sizeof(f->fail_op), "%s", op);
	f->fail_err = err;
}

void tap_fake_set_make_link(struct tap_fake *f, int (*make_link)(void *userdata, const char *ifname, int *ret_ifindex),
			    void *userdata)
{
	f->make_link = make_link;
	f->make_link_userdata = userdata;
}
