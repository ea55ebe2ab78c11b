/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DHCP client hand-over: the client command line a hand-over restarts, what counts as a genuine client (system binaries,
 * checked in a tree of our own), and the file that keeps a handed-over client. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "manager.h"
#include "procfs.h"

/* No DHCP client on this machine names it. */
#define IFNAME "netdut0"

static char root[64];

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/netd-unit-manager.XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	return rm_rf(root) < 0 ? -1 : 0;
}

static void put(const char *rel, const char *text)
{
	char path[256], dir[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = 0;
	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

static void test_none(void **state)
{
	struct manager m = { .kind = MANAGER_DHCP_CLIENT };
	char err[512] = "";

	/* No DHCP client on this machine names it (the network managers: test-mgr.c). */
	assert_int_equal(manager_detect(IFNAME, NULL, NULL, &m, err, sizeof(err)), 0);
	assert_int_equal(m.kind, MANAGER_NONE);
}

/* A NUL-separated command line from n strings, as /proc/PID/cmdline holds it. */
static size_t cmdline(char *buf, const char *const *in, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		memcpy(buf + len, in[i], strlen(in[i]) + 1);
		len += strlen(in[i]) + 1;
	}
	return len;
}

static void retarget(const char *const *in, size_t n, const char *ip, const char *want)
{
	char argv[MANAGER_ARGV_MAX], out[MANAGER_ARGV_MAX], text[512];
	size_t len = cmdline(argv, in, n), out_len;

	assert_int_equal(manager_argv_retarget(argv, len, "eth0", "br0", ip, out, sizeof(out), &out_len), 0);
	manager_argv_format(out, out_len, text, sizeof(text));
	assert_string_equal(text, want);
}

static void test_retarget(void **state)
{
	static const char *const udhcpc[] = { "busybox", "udhcpc", "-f", "-i", "eth0", "-s", "/x/eth0.script" };
	static const char *const udhcpc_r[] = { "udhcpc", "-ieth0", "-r", "10.0.0.9" };
	static const char *const dhclient[] = { "/sbin/dhclient", "-4", "-v", "eth0" };
	static const char *const dhcpcd[] = { "dhcpcd", "--interface=eth0" };
	static const char *const dhclient_sf[] = { "/sbin/dhclient", "-sf", "/etc/udhcpc/x", "eth0" };
	static const char *const title[] = { "dhcpcd: eth0 [ip4]" }, *const title46[] = {
		"dhcpcd: eth0 [ip4] [ip6]"
	};
	static const char *const proxy[] = { "dhcpcd: [privileged proxy] eth0 [ip4]" };

	/* udhcpc asks for the address it holds; a script path merely mentioning eth0 stays. */
	retarget(udhcpc, 7, "10.0.0.9", "busybox udhcpc -f -i br0 -s /x/eth0.script -r 10.0.0.9");
	retarget(udhcpc_r, 4, "10.0.0.9", "udhcpc -ibr0 -r 10.0.0.9");
	/* dhclient's -r would be a release: never added. */
	retarget(dhclient, 4, "10.0.0.9", "/sbin/dhclient -4 -v br0");
	retarget(dhcpcd, 2, NULL, "dhcpcd --interface=br0");
	/* Only udhcpc itself gets -r, not a client whose script path mentions udhcpc. */
	retarget(dhclient_sf, 4, "10.0.0.9", "/sbin/dhclient -sf /etc/udhcpc/x br0");
	/* dhcpcd's rewritten title: started again on the interface, with the one family it ran. */
	retarget(title, 1, "10.0.0.9", "dhcpcd -4 br0");
	retarget(title46, 1, NULL, "dhcpcd br0");
	/* Its privileged proxy's title (what netd finds of a dhcpcd with privilege separation). */
	retarget(proxy, 1, NULL, "dhcpcd -4 br0");
}

static void adapt(const char *exe, const char *const *in, size_t n, bool foreground, uint32_t metric,
		  const char *want)
{
	char argv[MANAGER_ARGV_MAX], out[MANAGER_ARGV_MAX], text[512];
	size_t len = cmdline(argv, in, n), out_len;

	assert_int_equal(manager_argv_adapt(exe, argv, len, foreground, metric, out, sizeof(out), &out_len),
			 0);
	manager_argv_format(out, out_len, text, sizeof(text));
	assert_string_equal(text, want);
}

static void test_adapt(void **state)
{
	static const char *const dhclient[] = { "dhclient", "-4", "-v", "-pf", "/run/dhclient.br0.pid", "br0" };
	static const char *const dhclient_d[] = { "/sbin/dhclient", "-d", "br0" };
	static const char *const dhcpcd[] = { "dhcpcd", "-4", "br0" };
	static const char *const dhcpcd_m[] = { "dhcpcd", "-B", "-m", "5", "br0" },
				 *const dhcpcd_m2[] = { "dhcpcd", "-m5", "br0" },
				 *const dhcpcd_m3[] = { "dhcpcd", "--metric=5", "br0" };
	static const char *const bb[] = { "busybox", "udhcpc", "-n", "-b", "-p", "/run/u.pid", "-i", "br0" };
	static const char *const applet[] = { "udhcpc", "--background", "-ibr0" };
	static const char *const nothing[] = { "sh", "-c", "dhclient br0" };
	char argv[MANAGER_ARGV_MAX], out[MANAGER_ARGV_MAX];
	size_t len, out_len;

	/* On the bridge: in the foreground, the option right after the program's name. */
	adapt("/usr/sbin/dhclient", dhclient, 6, true, 1002, "dhclient -d -4 -v -pf /run/dhclient.br0.pid br0");
	/* Back on the port: as it ran. */
	adapt("/usr/sbin/dhclient", dhclient, 6, false, 1002, "dhclient -4 -v -pf /run/dhclient.br0.pid br0");
	/* A second -d does no harm (dhclient, dhcpcd and udhcpc take an option twice). */
	adapt("/usr/sbin/dhclient", dhclient_d, 3, true, 0, "/sbin/dhclient -d -d br0");
	/* dhcpcd keeps the port's route metric, unless it was given one. */
	adapt("/usr/sbin/dhcpcd", dhcpcd, 3, true, 1002, "dhcpcd -B -m 1002 -4 br0");
	adapt("/usr/sbin/dhcpcd", dhcpcd, 3, false, 1002, "dhcpcd -m 1002 -4 br0");
	adapt("/usr/sbin/dhcpcd", dhcpcd, 3, false, 0, "dhcpcd -4 br0");
	adapt("/usr/sbin/dhcpcd", dhcpcd_m, 5, true, 1002, "dhcpcd -B -B -m 5 br0");
	adapt("/usr/sbin/dhcpcd", dhcpcd_m2, 3, false, 1002, "dhcpcd -m5 br0");
	adapt("/usr/sbin/dhcpcd", dhcpcd_m3, 3, false, 1002, "dhcpcd --metric=5 br0");
	/* udhcpc: -f after the applet's name, and no -b (it forks after a failed first try). No
	 * metric: only dhcpcd picks one per interface. */
	adapt("/usr/bin/busybox", bb, 8, true, 1002, "busybox udhcpc -f -n -p /run/u.pid -i br0");
	adapt("/usr/bin/busybox", bb, 8, false, 1002, "busybox udhcpc -n -b -p /run/u.pid -i br0");
	adapt("/usr/bin/busybox", applet, 3, true, 0, "udhcpc -f -ibr0");
	/* Not a DHCP client: refused. */
	len = cmdline(argv, nothing, 3);
	assert_int_equal(manager_argv_adapt("/usr/bin/bash", argv, len, true, 0, out, sizeof(out), &out_len),
			 -EINVAL);
	assert_int_equal(manager_argv_adapt("/usr/sbin/dhclient", "x", 1, true, 0, out, sizeof(out),
					    &out_len),
			 -EINVAL);
	/* Too long for netd's buffer. */
	assert_int_equal(manager_argv_adapt("/usr/sbin/dhcpcd", argv, len, true, 7, out, 8, &out_len),
			 -E2BIG);
}

static void test_identify(void **state)
{
	static const char *const bb[] = { "busybox", "udhcpc", "-i", "eth0" }, *const bb_sh[] = { "busybox",
												  "sh",
												  "eth0" };
	static const char *const applet[] = { "/sbin/udhcpc", "-ieth0" }, *const fake[] = {
		"/home/x/dhclient", "eth0"
	};
	static const char *const title[] = { "dhcpcd: eth0 [ip4] [ip6]" }, *const manager[] = {
		"dhcpcd: [manager] [ip4]"
	};
	static const char *const helper[] = { "dhcpcd: [BPF ARP] eth0 10.0.0.9" };
	static const char *const proxy[] = { "dhcpcd: [privileged proxy] eth0 [ip4]" },
				 *const proxy_manager[] = { "dhcpcd: [privileged proxy] [ip4] [ip6]" },
				 *const net_proxy[] = { "dhcpcd: [network proxy] eth0 [ip4] [ip6]" };
	char argv[MANAGER_ARGV_MAX];
	size_t len;

	/* busybox runs the applet argv[0] or, after "busybox", argv[1] names. */
	len = cmdline(argv, bb, 4);
	assert_string_equal(manager_client_name("/usr/bin/busybox", argv, len), "udhcpc");
	assert_true(manager_argv_looks_like_client(argv, len));
	assert_true(manager_argv_names(argv, len, "eth0"));
	assert_false(manager_argv_names(argv, len, "eth1"));
	len = cmdline(argv, applet, 2);
	assert_string_equal(manager_client_name("/usr/bin/busybox", argv, len), "udhcpc");
	assert_true(manager_argv_names(argv, len, "eth0"));
	len = cmdline(argv, bb_sh, 3);
	assert_null(manager_client_name("/usr/bin/busybox", argv, len));
	assert_false(manager_argv_looks_like_client(argv, len));
	/* A script named dhclient: named like a client, but its executable is a shell. */
	len = cmdline(argv, fake, 2);
	assert_true(manager_argv_looks_like_client(argv, len));
	assert_null(manager_client_name("/usr/bin/bash", argv, len));
	assert_string_equal(manager_client_name("/usr/sbin/dhclient", argv, len), "dhclient");
	/* dhcpcd is known by its executable; its title names the interface it runs on. */
	len = cmdline(argv, title, 1);
	assert_string_equal(manager_client_name("/usr/sbin/dhcpcd", argv, len), "dhcpcd");
	assert_true(manager_argv_looks_like_client(argv, len));
	assert_true(manager_argv_names(argv, len, "eth0"));
	len = cmdline(argv, manager, 1);
	assert_false(manager_argv_names(argv, len, "eth0"));
	len = cmdline(argv, helper, 1);
	assert_false(manager_argv_names(argv, len, "eth0"));
	len = cmdline(argv, net_proxy, 1);
	assert_false(manager_argv_names(argv, len, "eth0"));
	/* With privilege separation its root helper, the privileged proxy, names it too. */
	len = cmdline(argv, proxy, 1);
	assert_true(manager_argv_looks_like_client(argv, len));
	assert_true(manager_argv_names(argv, len, "eth0"));
	len = cmdline(argv, proxy_manager, 1);
	assert_false(manager_argv_names(argv, len, "eth0"));
	/* dhcpcd for every interface (refused): its title, and its privileged proxy's. */
	assert_true(manager_argv_dhcpcd_manager(argv, len));
	assert_true(manager_argv_dhcpcd_manager("dhcpcd: [privileged proxy]", 27));
	len = cmdline(argv, manager, 1);
	assert_true(manager_argv_dhcpcd_manager(argv, len));
	len = cmdline(argv, proxy, 1);
	assert_false(manager_argv_dhcpcd_manager(argv, len));
	len = cmdline(argv, title, 1);
	assert_false(manager_argv_dhcpcd_manager(argv, len));
	assert_false(manager_argv_dhcpcd_manager("dhcpcd: [privileged proxyX]", 28));
	assert_false(manager_argv_dhcpcd_manager("dhcpcd: [manager]", 17));
	/* Not a command line: no final NUL, or nothing. */
	assert_false(manager_argv_names("eth0", 4, "eth0"));
	assert_null(manager_client_name("/usr/sbin/dhclient", "", 0));
	assert_int_equal(manager_argv_count("a\0b", 3), -EINVAL);
	assert_int_equal(manager_argv_count("a\0\0b\0", 5), 3);
}

static void test_status_uids(void **state)
{
	uid_t u[3];

	assert_int_equal(
		procfs_status_uids("Name:\tx\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n", u), 0);
	assert_int_equal(u[0], 1000);
	assert_int_equal(u[1], 0);
	assert_int_equal(procfs_status_uids("Uid:\t0\t0\t0\t0\n", u), 0);
	assert_int_equal(u[0] | u[1] | u[2], 0);
	assert_int_equal(procfs_status_uids("Name:\tUid:\n", u), -EINVAL);
	assert_int_equal(procfs_status_uids("Uid:\t0\n", u), -EINVAL);
}

static void test_status_ppid(void **state)
{
	pid_t p = -1;

	assert_int_equal(
		procfs_status_ppid("Name:\tdhcpcd\nTgid:\t9\nPid:\t9\nPPid:\t8\nTracerPid:\t0\n", &p), 0);
	assert_int_equal(p, 8);
	assert_int_equal(procfs_status_ppid("PPid:\t0\n", &p), 0);
	assert_int_equal(p, 0);
	assert_int_equal(procfs_status_ppid("Name:\tPPid:\n", &p), -EINVAL);
	assert_int_equal(procfs_status_ppid("PPid:\t-3\n", &p), -EINVAL);
	assert_int_equal(procfs_status_ppid("Pid:\t9\n", &p), -EINVAL);
}

/* root/usr/sbin/dhclient, every part ours and 0755: a system binary with owner = our uid. */
static void tree(void)
{
	char path[256];

	put("usr/sbin/dhclient", "#!/bin/sh\n");
	snprintf(path, sizeof(path), "%s/usr", root);
	assert_int_equal(chmod(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/usr/sbin", root);
	assert_int_equal(chmod(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/usr/sbin/dhclient", root);
	assert_int_equal(chmod(path, 0755), 0);
}

static void exe_refused(const char *exe, uid_t owner, const char *want)
{
	char why[512] = "";

	assert_true(manager_exe_check(root, exe, owner, why, sizeof(why)) < 0);
	if (!strstr(why, want))
		fail_msg("%s: expected '%s' in '%s'", exe, want, why);
}

static void test_exe_check(void **state)
{
	char path[256], link[256], why[512];

	tree();
	assert_int_equal(manager_exe_check(root, "/usr/sbin/dhclient", getuid(), why, sizeof(why)), 0);
	/* Owned by another uid: every part must be the owner's (root's on a host). */
	exe_refused("/usr/sbin/dhclient", getuid() + 1, "/ is owned by uid");
	/* Not canonical, deleted, or not in a system directory. */
	exe_refused("usr/sbin/dhclient", getuid(), "not the canonical path");
	exe_refused("/usr/sbin/../../tmp/dhclient", getuid(), "not the canonical path");
	exe_refused("/usr/sbin//dhclient", getuid(), "not the canonical path");
	exe_refused("/usr/sbin/dhclient (deleted)", getuid(), "not the canonical path");
	exe_refused("/usr/local/sbin/dhclient", getuid(), "not in a system directory");
	exe_refused("/home/x/dhclient", getuid(), "not in a system directory");
	exe_refused("/usr/sbinx/dhclient", getuid(), "not in a system directory");
	exe_refused("/usr/sbin/udhcpc", getuid(), "cannot look at /usr/sbin/udhcpc");
	/* Writable by group or others: the file, or any directory above it. */
	snprintf(path, sizeof(path), "%s/usr/sbin/dhclient", root);
	assert_int_equal(chmod(path, 0775), 0);
	exe_refused("/usr/sbin/dhclient", getuid(), "/usr/sbin/dhclient is writable by its group");
	assert_int_equal(chmod(path, 0644), 0);
	exe_refused("/usr/sbin/dhclient", getuid(), "/usr/sbin/dhclient is not an executable file");
	assert_int_equal(chmod(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/usr", root);
	assert_int_equal(chmod(path, 0757), 0);
	exe_refused("/usr/sbin/dhclient", getuid(), "/usr is writable by others");
	assert_int_equal(chmod(path, 0755), 0);
	/* A symbolic link anywhere: the path is not the one the kernel resolved. */
	snprintf(link, sizeof(link), "%s/usr/bin", root);
	assert_int_equal(symlink("sbin", link), 0);
	exe_refused("/usr/bin/dhclient", getuid(), "/usr/bin is a symbolic link");
	assert_int_equal(unlink(link), 0);
	snprintf(link, sizeof(link), "%s/usr/sbin/udhcpc", root);
	assert_int_equal(symlink("dhclient", link), 0);
	exe_refused("/usr/sbin/udhcpc", getuid(), "/usr/sbin/udhcpc is a symbolic link");
	assert_int_equal(unlink(link), 0);
	assert_int_equal(manager_exe_check(root, "/usr/sbin/dhclient", getuid(), why, sizeof(why)), 0);
}

/* A user's script is never started, whatever its name and arguments. */
static void test_start_refuses(void **state)
{
	static const char *const argv[] = { "dhclient", "br0" };
	char script[256], marker[256], buf[512], why[512] = "";
	struct proc_backend proc;
	struct proc_fake *fake;
	pid_t pid = 0;
	size_t len;

	assert_int_equal(proc_fake_new(&fake, &proc), 0);
	snprintf(marker, sizeof(marker), "%s/ran", root);
	snprintf(script, sizeof(script), "%s/dhclient", root);
	snprintf(buf, sizeof(buf), "#!/bin/sh\n: >%s\n", marker);
	put("dhclient", buf);
	assert_int_equal(chmod(script, 0755), 0);
	len = cmdline(buf, argv, 2);
	assert_int_equal(manager_client_start(&proc, script, buf, len, &pid, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "not in a system directory"));
	/* A system binary that is no DHCP client is not started either. */
	assert_int_equal(manager_client_start(&proc, "/bin/sh", buf, len, &pid, why, sizeof(why)), -EPERM);
	usleep(100 * 1000);
	assert_int_equal(access(marker, F_OK), -1);
	assert_int_equal(pid, 0);
	assert_string_equal(proc_fake_log(fake), ""); /* nothing was even asked to start */
	proc_fake_free(fake);
}

static void test_client_file(void **state)
{
	static const char *const argv[] = { "busybox", "udhcpc", "", "-i", "eth0" };
	struct manager m = { .kind = MANAGER_DHCP_CLIENT, .exe = "/usr/bin/busybox" }, back;
	char buf[sizeof(MANAGER_CLIENT_MAGIC) + PATH_MAX + MANAGER_ARGV_MAX], path[256], why[512];
	size_t len;
	int fd;

	m.argv_len = cmdline(m.argv, argv, 5);
	assert_int_equal(manager_client_format(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(manager_client_parse(buf, len, &back), 0);
	assert_string_equal(back.exe, m.exe);
	assert_int_equal(back.argv_len, m.argv_len);
	assert_memory_equal(back.argv, m.argv, m.argv_len);
	/* Too small a buffer. */
	assert_int_equal(manager_client_format(&m, buf, 30, &len), -E2BIG);
	/* Cut anywhere, it does not parse. */
	assert_int_equal(manager_client_format(&m, buf, sizeof(buf), &len), 0);
	for (size_t n = 0; n < len; n++)
		assert_true(manager_client_parse(buf, n, &back) < 0);
	/* An older netd's file: the arguments alone, argv[0] never verified. */
	assert_int_equal(manager_client_parse(m.argv, m.argv_len, &back), -EPROTONOSUPPORT);
	/* A relative executable, no arguments. */
	assert_int_equal(manager_client_parse(MANAGER_CLIENT_MAGIC "\0bin/x\0001\0x\0",
					      sizeof(MANAGER_CLIENT_MAGIC) + 10, &back),
			 -EINVAL);
	assert_int_equal(manager_client_parse(MANAGER_CLIENT_MAGIC "\0/bin/x\0000\0",
					      sizeof(MANAGER_CLIENT_MAGIC) + 9, &back),
			 -EINVAL);
	/* A count that does not match. */
	assert_int_equal(manager_client_parse(MANAGER_CLIENT_MAGIC "\0/bin/x\0002\0x\0",
					      sizeof(MANAGER_CLIENT_MAGIC) + 11, &back),
			 -EINVAL);
	assert_int_equal(manager_client_parse(MANAGER_CLIENT_MAGIC "\0/bin/x\0001\0x\0",
					      sizeof(MANAGER_CLIENT_MAGIC) + 11, &back),
			 0);

	/* The file: ours alone (owner = our uid here, root on a host), 0600. */
	snprintf(path, sizeof(path), "%s/dhcp-argv", root);
	assert_int_equal(manager_client_format(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(write_file_atomic(path, buf, len, 0600), 0);
	assert_int_equal(manager_client_read(path, getuid(), &back, why, sizeof(why)), 0);
	assert_string_equal(back.exe, m.exe);
	assert_int_equal(manager_client_read(path, getuid() + 1, &back, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "is owned by uid"));
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(manager_client_read(path, getuid(), &back, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "has mode 0644"));
	assert_int_equal(write_file_atomic(path, m.argv, m.argv_len, 0600), 0);
	assert_int_equal(manager_client_read(path, getuid(), &back, why, sizeof(why)), -EPROTONOSUPPORT);
	assert_non_null(strstr(why, "no executable recorded (an older netd wrote it)"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(manager_client_read(path, getuid(), &back, why, sizeof(why)), -ENOENT);
	/* Not through a symbolic link. */
	fd = symlink("/etc/passwd", path);
	assert_int_equal(fd, 0);
	assert_true(manager_client_read(path, getuid(), &back, why, sizeof(why)) < 0);
	assert_int_equal(unlink(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_retarget),       cmocka_unit_test(test_identify),
		cmocka_unit_test(test_status_uids),    cmocka_unit_test(test_exe_check),
		cmocka_unit_test(test_start_refuses),  cmocka_unit_test(test_client_file),
		cmocka_unit_test(test_adapt),	       cmocka_unit_test(test_status_ppid),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
