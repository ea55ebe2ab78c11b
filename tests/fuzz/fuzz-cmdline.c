/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a process's /proc/PID/cmdline (and the same bytes as its status), as netd
 * reads them when it looks for the DHCP client on a port: is it named like one, does busybox run
 * udhcpc with it, does it name eth0; and the command line netd would start on br0 instead.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manager.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char argv[MANAGER_ARGV_MAX], out[MANAGER_ARGV_MAX], text[512];
	bool looks, names, names_br;
	const char *applet;
	size_t len, out_len;
	uid_t uids[3];

	if (size == 0 || size > MANAGER_ARGV_MAX - 1)
		return 0;
	/* As netd reads it: at most MANAGER_ARGV_MAX - 1 bytes, the last argument terminated. */
	memcpy(argv, data, size);
	argv[size] = 0;
	len = argv[size - 1] ? size + 1 : size;
	(void)procfs_status_uids(argv, uids);

	looks = manager_argv_looks_like_client(argv, len);
	applet = manager_client_name("/usr/bin/busybox", argv, len);
	names = manager_argv_names(argv, len, "eth0");
	names_br = manager_argv_names(argv, len, "br0");
	(void)manager_client_name("/usr/sbin/dhcpcd", argv, len);
	manager_argv_format(argv, len, text, sizeof(text));
	/* busybox running udhcpc is what a look-alike copies: it looks like a client. */
	if (applet && !looks)
		abort();

	if (manager_argv_retarget(argv, len, "eth0", "br0", "10.0.0.9", out, sizeof(out), &out_len) < 0)
		return 0;
	/* What netd would start: a command line, on br0 where the client was on eth0, never on eth0,
	 * and the same program as before for busybox. */
	if (manager_argv_count(out, out_len) < 0)
		abort();
	if (manager_argv_names(out, out_len, "eth0") || (names && !manager_argv_names(out, out_len, "br0")))
		abort();
	if (!names && !names_br && manager_argv_names(out, out_len, "br0"))
		abort();
	if (!applet != !manager_client_name("/usr/bin/busybox", out, out_len))
		abort();
	manager_argv_format(out, out_len, text, sizeof(text));
	return 0;
}
