/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a process's /proc/PID/cmdline (and the same bytes as its status), as netd
 * reads them when it looks for the DHCP client on a port: is it named like one, does busybox run
 * udhcpc with it, does it name eth0; and the command line netd would start on br0 instead (and
 * in the foreground, manager_argv_adapt).
 * The same bytes are also netdctl's own command line for a kind's create (the options of its
 * schema table, as netdctl reads them) and the request it makes, as netd reads it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manager.h"
#include "procfs.h"
#include "schema-kinds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The arguments (NUL-separated) through getopt_long with the schema's options, as netdctl does. */
static void netdctl_argv(const struct walk_kind *k, const char *args, size_t len)
{
	struct option opts[64];
	char *argv[64] = { (char *)"create" }, err[SCHEMA_MSG_MAX];
	int argc = 1, c;
	json_object *params = json_object_new_object();
	void *obj;

	schema_cli_options(k->schema, 0x100, opts, ELEMENTSOF(opts));
	for (size_t i = 0; i < len && argc < (int)ELEMENTSOF(argv) - 1; i += strlen(args + i) + 1)
		argv[argc++] = (char *)args + i;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:", opts, NULL)) >= 0)
		if (c >= 0x100 && schema_cli_apply(k->schema, c - 0x100, optarg, params, err, sizeof(err)) < 0)
			break;
	obj = k->new();
	if (obj && c < 0 && schema_json_parse(k->schema, obj, params, err, sizeof(err)) >= 0)
		walk_roundtrip(k, obj);
	if (obj)
		k->free(obj);
	json_object_put(params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char argv[MANAGER_ARGV_MAX], out[MANAGER_ARGV_MAX], text[512];
	bool looks, names, names_br;
	const char *applet;
	size_t len, out_len;
	uid_t uids[3];
	pid_t ppid;

	if (size == 0 || size > MANAGER_ARGV_MAX - 1)
		return 0;
	/* As netd reads it: at most MANAGER_ARGV_MAX - 1 bytes, the last argument terminated. */
	memcpy(argv, data, size);
	argv[size] = 0;
	len = argv[size - 1] ? size + 1 : size;
	{
		char args[MANAGER_ARGV_MAX];

		memcpy(args, argv + 1, len - 1);
		netdctl_argv(walk_kinds[(uint8_t)argv[0] % ELEMENTSOF(walk_kinds)], args, len - 1);
	}
	(void)procfs_status_uids(argv, uids);
	(void)procfs_status_ppid(argv, &ppid);

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

	/* In the foreground, as netd starts it on br0: still a command line for the same program,
	 * on the same interfaces (only options are added or dropped). */
	{
		static const char *const exes[] = { "/usr/bin/busybox", "/usr/sbin/dhclient",
						    "/usr/sbin/dhcpcd" };
		const char *exe = exes[(uint8_t)argv[0] % ELEMENTSOF(exes)];
		char fg[MANAGER_ARGV_MAX];
		size_t fg_len;
		bool br = manager_argv_names(out, out_len, "br0");

		if (manager_argv_adapt(exe, out, out_len, true, 1002, fg, sizeof(fg), &fg_len) < 0)
			return 0;
		if (manager_argv_count(fg, fg_len) < 0 || !manager_client_name(exe, fg, fg_len))
			abort();
		if (manager_argv_names(fg, fg_len, "eth0") || br != manager_argv_names(fg, fg_len, "br0"))
			abort();
	}
	return 0;
}
