/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The iptables binaries fwint.c runs (through the process backend, like every program netd runs):
 * `iptables -S` to list table filter, `iptables-restore --noflush` to insert or delete netd's rules
 * in one transaction. iptables-nft's tables are in the nftables ruleset netd watches; the legacy
 * ones (x_tables) are invisible to it and have their own binaries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "daemon.h"
#include "fileio.h"
#include "fwint-ipt.h"
#include "log.h"
#include "macro.h"

#define IPT_TIMEOUT_MS 10000
#define IPT_LISTING_MAX (4 << 20)

/* [backend][v6] */
static const char *const list_bins[2][2] = {
	{ "/usr/sbin/iptables-nft", "/usr/sbin/ip6tables-nft" },
	{ "/usr/sbin/iptables-legacy", "/usr/sbin/ip6tables-legacy" },
};
static const char *const restore_bins[2][2] = {
	{ "/usr/sbin/iptables-nft-restore", "/usr/sbin/ip6tables-nft-restore" },
	{ "/usr/sbin/iptables-legacy-restore", "/usr/sbin/ip6tables-legacy-restore" },
};

const char *fwint_ipt_binary(enum ipt_backend b, int family)
{
	return list_bins[b][family == AF_INET6];
}

bool fwint_ipt_legacy_present(struct daemon *d, int family)
{
	_cleanup_free_ char *names = NULL;
	char path[512];

	/* x_tables lists the legacy tables that exist in this network namespace; iptables-nft's are
	 * not there. */
	snprintf(path, sizeof(path), "%s/%s", d->proc_net ?: "/proc/net",
		 family == AF_INET6 ? "ip6_tables_names" : "ip_tables_names");
	if (read_file(path, &names, NULL) < 0)
		return false;
	for (char *p = names; p && *p;) {
		size_t n = strcspn(p, "\n");

		if (n == 6 && !strncmp(p, "filter", 6))
			return true;
		p += n + (p[n] == '\n');
	}
	return false;
}

static int run(struct daemon *d, const char *bin, char *const *argv, int stdin_fd, char *out, size_t size,
	       char *err, size_t errlen)
{
	struct proc_spawn spec = { .exe = bin, .argv = argv, .new_session = true };

	spec.stdio[0] = stdin_fd >= 0 ? (struct proc_io){ PROC_IO_FD, stdin_fd } : (struct proc_io){};
	return proc_run_check(&d->proc, &spec, IPT_TIMEOUT_MS, out, size, err, errlen);
}

int fwint_ipt_list(struct daemon *d, enum ipt_backend b, int family, struct ipt_listing *ret, char *err,
		   size_t errlen)
{
	const char *bin = list_bins[b][family == AF_INET6];
	char *const argv[] = { (char *)bin, "-w", "5", "-t", "filter", "-S", NULL };
	_cleanup_free_ char *out = malloc(IPT_LISTING_MAX);
	int r;

	if (!out)
		return -ENOMEM;
	r = run(d, bin, argv, -1, out, IPT_LISTING_MAX, err, errlen);
	if (r < 0)
		return r;
	if (strlen(out) >= IPT_LISTING_MAX - 1) {
		snprintf(err, errlen, "%s -S: the listing is over %d bytes", bin, IPT_LISTING_MAX);
		return -E2BIG;
	}
	return ipt_listing_parse(out, ret);
}

int fwint_ipt_restore(struct daemon *d, enum ipt_backend b, int family, const char *lines, char *err,
		      size_t errlen)
{
	const char *bin = restore_bins[b][family == AF_INET6];
	char *const argv[] = { (char *)bin, "-w", "5", "--noflush", NULL };
	_cleanup_close_ int fd = memfd_create("netd-iptables-in", MFD_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	char out[256];

	if (fd < 0)
		return negative_errno();
	if (asprintf(&text, "*filter\n%sCOMMIT\n", lines) < 0)
		return -ENOMEM;
	for (size_t o = 0, n = strlen(text); o < n;) {
		ssize_t k = write(fd, text + o, n - o);

		if (k < 0)
			return negative_errno();
		o += k;
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		return negative_errno();
	log_debug("%s --noflush: %s", bin, lines);
	return run(d, bin, argv, fd, out, sizeof(out), err, errlen);
}
