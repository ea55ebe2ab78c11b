/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The doctor's fake host (hostprobe.h): conntrack numbers, sockets and probe results the test sets; a
 * probe is a pipe that is readable at once. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakelog.h"
#include "macro.h"
#include "hostprobe.h"

struct probe_fake {
	struct fake_log log;
	uint64_t ct_count, ct_max;
	struct probe_udp *sockets;
	size_t n_sockets;
	struct probe_result result;
};

static int fake_conntrack(void *userdata, uint64_t *ret_count, uint64_t *ret_max)
{
	struct probe_fake *f = userdata;

	if (!f->ct_max)
		return -ENOENT;
	*ret_count = f->ct_count;
	*ret_max = f->ct_max;
	return 0;
}

static int fake_udp_sockets(void *userdata, pid_t pid, struct probe_udp **ret, size_t *ret_n)
{
	struct probe_fake *f = userdata;

	*ret = calloc(f->n_sockets + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	if (f->n_sockets)
		memcpy(*ret, f->sockets, f->n_sockets * sizeof(**ret));
	*ret_n = f->n_sockets;
	return 0;
}

static int fake_start(void *userdata, const struct probe_spec *spec, int *ret_fd)
{
	struct probe_fake *f = userdata;
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	fake_log_add(&f->log, "probe bridge=%s dhcp=%d dns=%d", spec->bridge, spec->dhcp, spec->dns);
	close(p[1]); /* EOF: readable at once */
	*ret_fd = p[0];
	return 0;
}

static int fake_finish(void *userdata, int fd, struct probe_result *ret)
{
	struct probe_fake *f = userdata;

	close(fd);
	*ret = f->result;
	return 0;
}

static const struct probe_ops fake_ops = {
	.conntrack = fake_conntrack,
	.udp_sockets = fake_udp_sockets,
	.start = fake_start,
	.finish = fake_finish,
};

int probe_fake_new(struct probe_fake **ret, struct probe_backend *ret_backend)
{
	struct probe_fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->log.name = "probe";
	*ret = f;
	*ret_backend = (struct probe_backend){ .ops = &fake_ops, .userdata = f };
	return 0;
}

void probe_fake_free(struct probe_fake *f)
{
	if (!f)
		return;
	free(f->log.text);
	free(f->sockets);
	free(f);
}

const char *probe_fake_log(struct probe_fake *f)
{
	return fake_log_text(&f->log);
}

void probe_fake_clear_log(struct probe_fake *f)
{
	fake_log_clear(&f->log);
}

void probe_fake_set_conntrack(struct probe_fake *f, uint64_t count, uint64_t max)
{
	f->ct_count = count;
	f->ct_max = max;
}

void probe_fake_set_sockets(struct probe_fake *f, const struct probe_udp *s, size_t n)
{
	free(f->sockets);
	f->sockets = n ? calloc(n, sizeof(*s)) : NULL;
	f->n_sockets = f->sockets ? n : 0;
	if (f->sockets)
		memcpy(f->sockets, s, n * sizeof(*s));
}

void probe_fake_set_result(struct probe_fake *f, const struct probe_result *r)
{
	f->result = *r;
}
