/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The only file that opens /dev/net/tun and /dev/vhost-net. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "tap.h"

static void close_all(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int tap_open_one(const char *ifname, short flags)
{
	struct ifreq ifr = { .ifr_flags = flags };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int linux_tap_open(void *userdata, const char *ifname, unsigned queues, int *ret_fds, int *ret_ifindex)
{
	short flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (queues > 1 ? IFF_MULTI_QUEUE : 0);
	int fds[16];
	unsigned ifindex;

	if (queues < 1 || queues > ELEMENTSOF(fds))
		return -EINVAL;
	for (unsigned q = 0; q < queues; q++) {
		fds[q] = tap_open_one(ifname, flags);
		if (fds[q] < 0) {
			int r = fds[q];
			close_all(fds, q);
			return r;
		}
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		int r = -errno;
		close_all(fds, queues);
		return r;
	}
	log_debug("tap open %s queues=%u flags=0x%x ifindex=%u", ifname, queues, (unsigned)flags, ifindex);
	memcpy(ret_fds, fds, queues * sizeof(int));
	*ret_ifindex = ifindex;
	return 0;
}

static int linux_vhost_open(void *userdata, unsigned n, int *ret_fds)
{
	int fds[16];

	if (n < 1 || n > ELEMENTSOF(fds))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		fds[i] = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
		if (fds[i] < 0) {
			int r = -errno;
			close_all(fds, i);
			return r;
		}
	}
	log_debug("vhost-net open n=%u", n);
	memcpy(ret_fds, fds, n * sizeof(int));
	return 0;
}

const struct tap_ops tap_linux_ops = {
	.name = "linux",
	.tap_open = linux_tap_open,
	.vhost_open = linux_vhost_open,
};
