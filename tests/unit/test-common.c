/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "addr.h"
#include "macro.h"
#include "inifile.h"
#include "mac.h"
#include "macro.h"
#include "names.h"
#include "proc.h"
#include "procfs.h"

struct one_value {
	char value[64];
	int calls;
};

static int keep_value(void *user, const char *section, const char *key, const char *value)
{
	struct one_value *v = user;

	snprintf(v->value, sizeof(v->value), "%s", value);
	v->calls++;
	return 1;
}

/* What inih hands over for the line "k = VALUE". */
static const char *read_back(const char *line, struct one_value *v)
{
	struct inifile f;
	char text[128];

	snprintf(text, sizeof(text), "[s]\n%s\n", line);
	*v = (struct one_value){};
	assert_int_equal(inifile_parse(&f, text, keep_value, v), 0);
	assert_int_equal(v->calls, 1);
	return v->value;
}

/* The facts common/inifile.h states about Debian's libinih, and that every value it accepts reads back
 * unchanged: every string of up to 4 characters from an alphabet of the troublesome ones. */
static void test_inifile_values(void **state)
{
	static const char alphabet[] = "a ;#=:[]\"";
	const size_t n = sizeof(alphabet) - 1;
	struct one_value v;
	char value[8], line[32];

	assert_string_equal(read_back("k = ;x", &v), "");
	assert_string_equal(read_back("k =;x", &v), ";x");
	assert_string_equal(read_back("k = a ;b", &v), "a");
	assert_string_equal(read_back("k = a\t;b", &v), "a");
	assert_string_equal(read_back("k = a;b", &v), "a;b");
	assert_string_equal(read_back("k = #x", &v), "#x");
	assert_string_equal(read_back("k = a #b", &v), "a #b");
	assert_string_equal(read_back("k =  a  ", &v), "a");
	assert_string_equal(read_back("k = a\rb", &v), "a\rb");
	assert_string_equal(read_back("k = [x]", &v), "[x]");
	for (size_t len = 1; len <= 4; len++) {
		size_t total = 1;

		for (size_t i = 0; i < len; i++)
			total *= n;
		for (size_t k = 0; k < total; k++) {
			size_t x = k;

			for (size_t i = 0; i < len; i++, x /= n)
				value[i] = alphabet[x % n];
			value[len] = 0;
			snprintf(line, sizeof(line), "k = %s", value);
			if (!inifile_value_invalid_reason(value))
				assert_string_equal(read_back(line, &v), value);
			else
				assert_string_not_equal(read_back(line, &v), value);
		}
	}
	assert_non_null(inifile_value_invalid_reason(""));
	assert_non_null(inifile_value_invalid_reason("/boot/k\n[nic1]\nnetwork = b\n[guest]"));
	assert_non_null(inifile_value_invalid_reason("a\x01"));
	assert_non_null(inifile_value_invalid_reason("a\x7f"));
	assert_null(inifile_value_invalid_reason("console=ttyS0 root=/dev/vda1 quiet;x #y \xc3\xa9"));
}

static void test_inifile_lines(void **state)
{
	struct one_value v = {};
	struct inifile f;
	char *text = malloc(INIFILE_LINE_MAX + 64), e[64];

	/* A long line is read whole: inih's default of 200 bytes would cut it and read the rest as a
	 * line of its own. */
	assert_non_null(text);
	snprintf(text, INIFILE_LINE_MAX + 64, "[s]\nk = %0*d\n", INIFILE_LINE_MAX - 4, 0);
	assert_int_equal(inifile_parse(&f, text, keep_value, &v), 0);
	assert_int_equal(v.calls, 1);
	assert_int_equal(f.too_long, 0);
	snprintf(text, INIFILE_LINE_MAX + 64, "[s]\n\nk = %0*d\nj = 1\n", INIFILE_LINE_MAX - 3, 0);
	v.calls = 0;
	assert_int_equal(inifile_parse(&f, text, keep_value, &v), 3);
	assert_int_equal(f.too_long, 3);
	assert_int_equal(v.calls, 0);
	free(text);
	/* No continuation lines: an indented line is a line of its own. */
	v.calls = 0;
	assert_int_equal(inifile_parse(&f, "[s]\nk = a\n  b\n", keep_value, &v), 3);
	assert_int_equal(f.too_long, 0);
	/* CRLF files read as LF ones. */
	v.calls = 0;
	assert_int_equal(inifile_parse(&f, "[s]\r\nk = a\r\n", keep_value, &v), 0);
	assert_string_equal(v.value, "a");
	assert_int_equal(f.line, 2);
	assert_string_equal(text_escape("a\nb\x1b\\", e, sizeof(e)), "a\\nb\\x1b\\\\");
	/* a terminal's C1 controls (CSI U+009B) and bidi overrides and isolates; other UTF-8 stays */
	assert_string_equal(text_escape("a\xc2\x9b"
					"31m\xe2\x80\xae"
					"b\xe2\x81\xa9\xc3\xa9\xe2\x80\xa9",
					e, sizeof(e)),
			    "a\\u009b31m\\u202eb\\u2069\xc3\xa9\xe2\x80\xa9");
}

static void test_prefix_parse(void **state)
{
	struct ip_prefix p;
	char buf[IP_PREFIX_STRLEN];

	assert_int_equal(ip_prefix_parse("10.1.2.0/24", &p), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 24);
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), "10.1.2.0/24");
	assert_int_equal(ip_prefix_parse("fd00::/64", &p), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), "fd00::/64");

	static const char *const bad[] = { "", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
					   "10.0.0/24", "10.0.0.0/24x", "/24", "fd00::/129", "x/8", "10.0.0.0/+8" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(ip_prefix_parse(bad[i], &p) < 0);
}

static void test_prefix_math(void **state)
{
	static const char *const unequal[] = { "10.0.0.1/25", "10.0.0.2/24", "::a00:1/24" };
	struct ip_prefix a, b;
	union in_addr_union x;
	char buf[64];

	ip_prefix_parse("10.0.0.0/8", &a);
	ip_prefix_parse("10.1.0.0/16", &b);
	assert_true(ip_prefix_overlaps(&a, &b));
	assert_true(ip_prefix_overlaps(&b, &a));
	ip_prefix_parse("11.0.0.0/16", &b);
	assert_false(ip_prefix_overlaps(&a, &b));
	ip_prefix_parse("fd00::/8", &b);
	assert_false(ip_prefix_overlaps(&a, &b));

	ip_prefix_parse("192.168.122.0/24", &a);
	assert_true(ip_prefix_is_masked(&a));
	ip_prefix_first_host(&a, &x);
	assert_string_equal(ip_addr_format(AF_INET, &x, buf, sizeof(buf)), "192.168.122.1");
	ip_prefix_broadcast(&a, &x);
	assert_string_equal(ip_addr_format(AF_INET, &x, buf, sizeof(buf)), "192.168.122.255");
	ip_prefix_parse("192.168.122.7/24", &a);
	assert_false(ip_prefix_is_masked(&a));
	ip_prefix_mask(&a);
	assert_string_equal(ip_prefix_format(&a, buf, sizeof(buf)), "192.168.122.0/24");
	ip_prefix_parse("10.0.0.0/20", &a);
	ip_addr_parse("10.0.15.255", &(int){ 0 }, &x);
	assert_true(ip_prefix_contains(&a, AF_INET, &x));
	ip_addr_parse("10.0.16.0", &(int){ 0 }, &x);
	assert_false(ip_prefix_contains(&a, AF_INET, &x));

	ip_prefix_parse("10.0.0.1/24", &a);
	b = a;
	assert_true(ip_prefix_equal(&a, &b));
	for (size_t i = 0; i < ELEMENTSOF(unequal); i++) {
		ip_prefix_parse(unequal[i], &b);
		assert_false(ip_prefix_equal(&a, &b));
	}
}

static void test_mac(void **state)
{
	struct mac m;
	char buf[MAC_STRLEN];

	assert_int_equal(mac_parse("52:54:00:AB:cd:0f", &m), 0);
	assert_string_equal(mac_format(&m, buf, sizeof(buf)), "52:54:00:ab:cd:0f");
	assert_false(mac_is_multicast(&m));
	assert_true(mac_parse("52:54:00:ab:cd", &m) < 0);
	assert_true(mac_parse("52-54-00-ab-cd-0f", &m) < 0);
	assert_true(mac_parse("52:54:00:ab:cd:0g", &m) < 0);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(mac_random(&m), 0);
		assert_false(mac_is_multicast(&m));
		assert_true(m.b[0] & 2);
		assert_false(mac_is_zero(&m));
	}
}

static void test_names(void **state)
{
	assert_true(object_name_valid("default"));
	assert_true(object_name_valid("lab-1_a"));
	assert_true(object_name_valid("0"));
	assert_false(object_name_valid(""));
	assert_false(object_name_valid("-lab"));
	assert_false(object_name_valid("la b"));
	assert_false(object_name_valid("lab\n"));
	assert_false(object_name_valid("lab/x"));
	assert_false(object_name_valid("a234567890123456789012345678901234"));
	assert_true(ifname_valid("virbr0"));
	assert_true(ifname_valid("br-lan.10"));
	assert_true(ifname_valid("a23456789012345"));
	assert_false(ifname_valid("a234567890123456"));
	assert_false(ifname_valid(".."));
	assert_false(ifname_valid("br 0"));
	assert_false(ifname_valid("br:0"));
	assert_false(ifname_valid("br/0"));
	assert_false(ifname_valid(""));
}

/* A /24 without its network, gateway (.1) and broadcast addresses, and the edges of the space. */
static void test_range_prefixes(void **state)
{
	struct ip_prefix b[IP4_RANGE_PREFIXES_MAX];
	char text[1024] = "", one[IP_PREFIX_STRLEN];
	size_t n = ip4_range_prefixes(0x0a000002, 0x0a0000fe, b);

	for (size_t i = 0; i < n; i++) {
		strcat(text, ip_prefix_format(&b[i], one, sizeof(one)));
		strcat(text, " ");
	}
	assert_string_equal(text, "10.0.0.2/31 10.0.0.4/30 10.0.0.8/29 10.0.0.16/28 10.0.0.32/27 10.0.0.64/26 "
				  "10.0.0.128/26 10.0.0.192/27 10.0.0.224/28 10.0.0.240/29 10.0.0.248/30 "
				  "10.0.0.252/31 10.0.0.254/32 ");
	assert_int_equal(ip4_range_prefixes(0, UINT32_MAX, b), 1);
	assert_int_equal(b[0].len, 0);
	assert_int_equal(ip4_range_prefixes(1, UINT32_MAX - 1, b), IP4_RANGE_PREFIXES_MAX);
	assert_int_equal(ip4_range_prefixes(7, 7, b), 1);
	assert_int_equal(b[0].len, 32);
}

/* The /proc reader, on this very process: what it reads through the directory fd is what the
 * kernel says of us. */
static void test_procfs(void **state)
{
	_cleanup_close_ int dfd = procfs_open(getpid());
	_cleanup_free_ char *cmd = NULL;
	char exe[PATH_MAX], want[PATH_MAX], small[8];
	ssize_t n = readlink("/proc/self/exe", want, sizeof(want) - 1);
	bool truncated;
	uid_t uids[3];
	size_t len;

	assert_true(dfd >= 0);
	assert_true(n > 0);
	want[n] = 0;
	assert_int_equal(procfs_exe(dfd, exe, sizeof(exe)), 0);
	assert_string_equal(exe, want);
	assert_int_equal(procfs_exe(dfd, exe, 4), -ENAMETOOLONG);
	assert_int_equal(procfs_cmdline_alloc(dfd, &cmd, &len), 0);
	assert_true(len > strlen(cmd));
	assert_int_equal(cmd[len - 1], 0);
	assert_non_null(strstr(cmd, "test-common"));
	assert_true(procfs_argv_has(cmd, len, cmd));
	assert_false(procfs_argv_has(cmd, len, "test"));
	assert_int_equal(procfs_cmdline(dfd, small, sizeof(small), &len, &truncated), 0);
	assert_true(truncated);
	assert_int_equal(len, sizeof(small));
	assert_int_equal(small[len - 1], 0);
	assert_int_equal(procfs_uids(dfd, uids), 0);
	assert_int_equal(uids[0], getuid());
	assert_int_equal(uids[1], geteuid());
	assert_true(procfs_netns("self") != 0);
	assert_int_equal(procfs_open(-5), -ENOENT);

	assert_true(procfs_argv_has("a\0bc\0", 5, "bc"));
	assert_false(procfs_argv_has("a\0bc\0", 5, "b"));
	assert_false(procfs_argv_has("a\0bcd", 4, "bcd")); /* within len, "bc" is all there is */
	assert_true(procfs_argv_has("a\0\0", 3, ""));
}

/* The process spawner (common/proc-real.c) with real programs, and its recording fake: what the
 * child gets (fd map, stdio, environment, signal mask, credentials, session), that a failure in
 * the child comes back as the spawn's error, and detached starts. */
static struct proc_backend real;

/* Run spec to its end (proc_run); returns its wait status, out gets what it wrote. */
static int run(struct proc_spawn *spec, char *out, size_t size)
{
	int status = -1;

	assert_int_equal(proc_run(&real, spec, 5000, out, size, &status), 0);
	return status;
}

static void test_spawn_fds_env(void **state)
{
	_cleanup_close_ int memfd = memfd_create("test", MFD_CLOEXEC), stray = open("/dev/null", O_RDONLY);
	char *argv[] = { "sh", "-c", "cat <&3; echo; echo \"A=$A\"; ls /proc/$$/fd", NULL };
	char *envp[] = { "A=1", NULL };
	int fds[] = { memfd };
	struct proc_spawn spec = {
		.exe = "/bin/sh", .argv = argv, .envp = envp, .fds = fds, .n_fds = 1, .first_fd = 3
	};
	char out[512];

	/* stray is not O_CLOEXEC: the child must not get it all the same. */
	assert_true(memfd >= 0 && stray >= 0);
	assert_int_equal(write(memfd, "hello", 5), 5);
	assert_int_equal(lseek(memfd, 0, SEEK_SET), 0);
	assert_int_equal(run(&spec, out, sizeof(out)), 0);
	assert_string_equal(out, "hello\nA=1\n0\n1\n2\n3\n");
}

/* netd blocks the signals its event loop takes: the child must not inherit that. */
static void test_spawn_signals(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "grep SigBlk /proc/self/status", NULL };
	struct proc_spawn spec = { .argv = argv };
	sigset_t mask, old;
	char out[128];

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	assert_int_equal(sigprocmask(SIG_BLOCK, &mask, &old), 0);
	assert_int_equal(run(&spec, out, sizeof(out)), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	assert_string_equal(out, "SigBlk:\t0000000000000000\n");
}

/* A failure between fork and exec is the spawn's error, with the step that failed. */
static void test_spawn_errors(void **state)
{
	char *argv[] = { "/nonexistent/program", NULL }, file[] = "/tmp/netd-proc-XXXXXX";
	struct proc_spawn spec = { .argv = argv };
	pid_t pid = 0;
	int pidfd = -1, fd = mkstemp(file);

	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(real.ops->spawn(real.userdata, &spec, &pid, &pidfd), -ENOENT);
	assert_string_equal(real.ops->last_error(real.userdata), "execve: No such file or directory");
	assert_int_equal(pidfd, -1);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* nothing left behind */
	assert_int_equal(errno, ECHILD);

	spec.exe = file; /* not executable */
	argv[0] = "x";
	assert_int_equal(real.ops->spawn(real.userdata, &spec, &pid, &pidfd), -EACCES);
	unlink(file);

	spec.exe = NULL;
	argv[0] = "/bin/true";
	spec.stdio[2] = (struct proc_io){ PROC_IO_FD, 1000 }; /* not open */
	assert_int_equal(real.ops->spawn(real.userdata, &spec, &pid, &pidfd), -EBADF);
	assert_string_equal(real.ops->last_error(real.userdata),
			    "setting up its file descriptors: Bad file descriptor");
	spec.stdio[2] = (struct proc_io){ PROC_IO_NULL };
	spec.detached = true; /* a detached process has no pidfd */
	assert_int_equal(real.ops->spawn(real.userdata, &spec, &pid, &pidfd), -EINVAL);
}

/* Credentials, no_new_privs, Landlock and a session of its own (as QEMU gets them). */
static void test_spawn_credentials(void **state)
{
	char *argv[] = { "/bin/sh", "-c",
			 "echo $(id -u) $(id -g) $(id -G) $(grep NoNewPrivs /proc/self/status | cut -f2) "
			 "$(($(cut -d' ' -f6 /proc/self/stat) == $$))",
			 NULL };
	struct process_cred nobody = { .uid = 65534, .gid = 65534, .groups = { 65534, 4242 }, .n_groups = 2 };
	struct proc_spawn spec = {
		.argv = argv, .cred = &nobody, .no_new_privs = true, .landlock = true, .new_session = true
	};
	char out[128];

	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
	assert_int_equal(run(&spec, out, sizeof(out)), 0);
	assert_string_equal(out, "65534 65534 65534 4242 1 1\n");
	/* A child sharing our memory made it not dumpable when it changed its user: undone. */
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
}

/* No child may take another process's fds (pidfd_getfd, which netd's unit allows for netd): tried
 * on its own pidfd, which needs no privilege at all. */
static void test_spawn_no_getfd(void **state)
{
	char *argv[] = { "python3", "-c",
			 "import ctypes, os\n"
			 "libc = ctypes.CDLL(None, use_errno=True)\n"
			 "r = libc.syscall(438, os.pidfd_open(os.getpid()), 0, 0)\n"
			 "print('refused' if r < 0 and ctypes.get_errno() == 1 else 'allowed')",
			 NULL };
	struct proc_spawn spec = { .exe = "/usr/bin/python3", .argv = argv };
	char out[64];

	if (access(spec.exe, X_OK) < 0) {
		skip();
		return;
	}
	assert_int_equal(run(&spec, out, sizeof(out)), 0);
	assert_string_equal(out, "refused\n");
}

/* A detached program: not our child, its pid is the program's own. */
static void test_spawn_detached(void **state)
{
	char dir[] = "/tmp/netd-proc-XXXXXX", path[64], *text = NULL;
	char *argv[] = { "/bin/sh", "-c", "echo $$ > \"$0\"", path, NULL };
	struct proc_spawn spec = { .argv = argv, .detached = true, .new_session = true };
	pid_t pid;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pid", dir);
	assert_int_equal(real.ops->spawn(real.userdata, &spec, &pid, NULL), 0);
	assert_int_equal(real.ops->reap(real.userdata, pid, -1, &(int){ 0 }), -ECHILD);
	for (int i = 0; i < 500 && access(path, F_OK) < 0; i++)
		usleep(10 * 1000);
	usleep(20 * 1000);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ms", &text), 1);
	fclose(f);
	assert_int_equal(atoi(text), pid);
	free(text);
	unlink(path);
	rmdir(dir);
}

/* proc_run: output cut to the buffer, the exit status, and a program that does not end in time. */
static void test_run(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "echo 0123456789; exit 3", NULL };
	char *sleeper[] = { "/bin/sleep", "10", NULL };
	struct proc_spawn spec = { .argv = argv };
	char out[5];
	int status = 0;

	assert_int_equal(run(&spec, out, sizeof(out)), W_EXITCODE(3, 0));
	assert_string_equal(out, "0123");
	spec.argv = sleeper;
	assert_int_equal(proc_run(&real, &spec, 200, out, sizeof(out), &status), -ETIMEDOUT);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* killed and reaped */
	assert_int_equal(errno, ECHILD);
}

/* proc_run_check: a failure as the program's first line on stderr, else its status, else the time. */
static void test_run_check(void **state)
{
	char *says[] = { "/bin/sh", "-c", "echo fine; echo bad size >&2; echo more >&2; exit 3", NULL };
	char *quiet[] = { "/bin/sh", "-c", "exit 4", NULL };
	char *ok[] = { "/bin/sh", "-c", "echo fine", NULL };
	char *sleeper[] = { "/bin/sleep", "10", NULL };
	struct proc_spawn spec = { .argv = says };
	char out[16], err[128];

	assert_int_equal(proc_run_check(&real, &spec, 5000, out, sizeof(out), err, sizeof(err)), -EIO);
	assert_string_equal(err, "sh: bad size");
	spec = (struct proc_spawn){ .argv = quiet };
	assert_int_equal(proc_run_check(&real, &spec, 5000, out, sizeof(out), err, sizeof(err)), -EIO);
	assert_string_equal(err, "sh exited with status 4");
	spec = (struct proc_spawn){ .argv = ok };
	assert_int_equal(proc_run_check(&real, &spec, 5000, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "fine\n");
	spec = (struct proc_spawn){ .argv = sleeper };
	assert_int_equal(proc_run_check(&real, &spec, 200, out, sizeof(out), err, sizeof(err)), -ETIMEDOUT);
	assert_string_equal(err, "sleep did not finish within 200 ms");
}

static void test_proc_fake(void **state)
{
	struct process_cred qemu = { .uid = 107, .gid = 108 };
	char *argv[] = { "qemu", "-name", "guest=a", NULL };
	int fds[] = { 0, 1 };
	struct proc_spawn spec = { .exe = "/usr/bin/qemu-system-x86_64",
				   .argv = argv,
				   .stdio = { [1] = { PROC_IO_FD, 2 }, [2] = { PROC_IO_FD, 2 } },
				   .fds = fds,
				   .n_fds = 2,
				   .first_fd = 3,
				   .cred = &qemu,
				   .no_new_privs = true,
				   .landlock = true,
				   .new_session = true };
	_cleanup_free_ char *cmd = NULL;
	struct proc_backend b;
	struct proc_fake *f;
	char exe[64];
	size_t len;
	pid_t pid;
	int pidfd, status;

	assert_int_equal(proc_fake_new(&f, &b), 0);
	assert_int_equal(b.ops->spawn(b.userdata, &spec, &pid, &pidfd), 0);
	assert_string_equal(proc_fake_log(f),
			    "spawn qemu -name guest=a [exe=/usr/bin/qemu-system-x86_64 stdout=fd "
			    "stderr=fd fds=2@3 uid=107 gid=108 groups=0 nnp landlock session]\n");
	assert_int_equal(b.ops->exe(b.userdata, pid, exe, sizeof(exe)), 0);
	assert_string_equal(exe, "/usr/bin/qemu-system-x86_64");
	assert_int_equal(b.ops->cmdline(b.userdata, pid, &cmd, &len), 0);
	assert_int_equal(len, 19);
	assert_memory_equal(cmd, "qemu\0-name\0guest=a\0", 19);
	assert_int_equal(b.ops->reap(b.userdata, pid, -1, &status), -EAGAIN);
	assert_int_equal(b.ops->kill(b.userdata, pid, -1, SIGKILL), 0);
	assert_int_equal(b.ops->reap(b.userdata, pid, pidfd, &status), 0);
	assert_int_equal(status, SIGKILL);
	close(pidfd);
	proc_fake_fail_spawn(f, -EACCES);
	assert_int_equal(b.ops->spawn(b.userdata, &spec, &pid, &pidfd), -EACCES);
	assert_string_equal(b.ops->last_error(b.userdata), "execve: Permission denied");
	proc_fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_prefix_math),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_inifile_values),
		cmocka_unit_test(test_inifile_lines),
		cmocka_unit_test(test_range_prefixes),
		cmocka_unit_test(test_procfs),
		cmocka_unit_test(test_spawn_fds_env),
		cmocka_unit_test(test_spawn_signals),
		cmocka_unit_test(test_spawn_errors),
		cmocka_unit_test(test_spawn_credentials),
		cmocka_unit_test(test_spawn_no_getfd),
		cmocka_unit_test(test_spawn_detached),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_run_check),
		cmocka_unit_test(test_proc_fake),
	};
	proc_real_init(&real);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
