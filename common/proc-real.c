/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The real process backend: the one place netd forks a program (fork, the child's set-up, exec),
 * plus pidfds, signals, reaping and /proc (through procfs.c).
 *
 * The child reports a failure back through a pipe that exec closes (O_CLOEXEC): the parent reads
 * until end of file, so an empty read means the program runs, and a report names the step that
 * failed and its errno. A detached child's intermediate process first sends the program's pid the
 * same way.
 *
 * The child shares netd's memory until it execs (clone with CLONE_VM | CLONE_VFORK, as
 * posix_spawn does, on a stack of its own; netd waits meanwhile): fork copied netd's page tables
 * and made every page netd wrote afterwards fault once, a cost that grew with netd's memory (1000
 * networks). So the child writes nothing of netd's but its own stack and the report, calls the
 * kernel directly where glibc keeps state (the set*id calls), and starts with every signal
 * blocked, so that no handler of netd runs in it. Forked the old way: a detached child (it forks
 * again, and glibc's fork in a process sharing netd's memory is not safe), every child of a
 * sanitizer build (AddressSanitizer's shadow of the shared stack would keep the last child's
 * poison), and a child that changes its user while fs.suid_dumpable is not 0 (share_memory()).
 */
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "procfs.h"
#include "rlimit.h"

/* Newer than Debian 12's headers (ABI 3, 5). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
/* ABI 4 (network rights) and 6 (scopes): their fields are missing from Debian 12's struct
 * landlock_ruleset_attr, hence this copy of the kernel's (a kernel of an older ABI takes it whole
 * while the fields it does not know are 0). */
struct landlock_ruleset_attr_v6 {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};
#define LANDLOCK_NET_BIND_TCP_ (1ULL << 0)
#define LANDLOCK_NET_CONNECT_TCP_ (1ULL << 1)
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_ (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL_ (1ULL << 1)

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* What the child sends back: the step that failed (a string literal: the child is a copy of
 * netd, so the pointer means the same in netd) and its errno; or, from a detached program's
 * intermediate process, step NULL and the program's pid. */
struct report {
	const char *step;
	int value;
};

struct proc_real {
	char error[256];
};

static struct proc_real real;

static int pidfd_open_(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

int proc_landlock_abi(void)
{
	static int abi = -1;

	if (abi < 0) {
		long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
		abi = v > 0 ? (int)v : 0;
		/* A right a newer ABI adds is not handled by child_confine_files: allowed. */
		if (abi > PROC_LANDLOCK_ABI_KNOWN)
			log_info(
				"this kernel's Landlock ABI is %d, newer than netd knows (%d): what it added "
				"is not restricted for confined programs (qemu-img)",
				abi, PROC_LANDLOCK_ABI_KNOWN);
	}
	return abi;
}

/* ---- the child: only async-signal-safe calls from here to exec ---- */

static _Noreturn void child_fail(int report_fd, const char *step)
{
	struct report r = { .step = step, .value = errno ?: EIO };

	(void)!write(report_fd, &r, sizeof(r));
	_exit(127);
}

static void child_signals(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	/* Every signal is blocked (the parent's spawn): the handlers go first, then the mask.
	 * netd blocks the signals its event loop takes through signalfd; a blocked mask would
	 * survive exec and leave the program deaf to SIGHUP and SIGTERM. */
	for (int sig = 1; sig < _NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static const char step_fds[] = "setting up its file descriptors";

/* Where the child's stdio fd i comes from. */
static int stdio_source(const struct proc_io *io, int i, int null_fd)
{
	if (io->kind == PROC_IO_FD)
		return io->fd;
	/* netd's own may be closed: then the child gets nothing there either. */
	if (io->kind == PROC_IO_INHERIT && fcntl(i, F_GETFD) >= 0)
		return i;
	return null_fd;
}

/*
 * stdio at 0..2 and the map at first_fd..; everything else closed but the report pipe (closed
 * by exec). Every source is first copied above all targets, so that no dup2 overwrites one not
 * yet placed. Returns the report pipe's new number.
 */
static int child_fds(const struct proc_spawn *spec, int null_fd, int report_fd)
{
	int first = spec->n_fds ? spec->first_fd : 3, high = first + (int)spec->n_fds, src[3],
	    tmp[PROC_FDS_MAX];
	int moved = fcntl(report_fd, F_DUPFD_CLOEXEC, high);

	if (moved < 0)
		child_fail(report_fd, step_fds);
	report_fd = moved;
	for (int i = 0; i < 3; i++) {
		src[i] = fcntl(stdio_source(&spec->stdio[i], i, null_fd), F_DUPFD_CLOEXEC, high);
		if (src[i] < 0)
			child_fail(report_fd, step_fds);
	}
	for (size_t i = 0; i < spec->n_fds; i++) {
		tmp[i] = fcntl(spec->fds[i], F_DUPFD_CLOEXEC, high);
		if (tmp[i] < 0)
			child_fail(report_fd, step_fds);
	}
	/* dup2 clears FD_CLOEXEC on the copy: these are the ones that stay. */
	for (int i = 0; i < 3; i++)
		if (dup2(src[i], i) < 0)
			child_fail(report_fd, step_fds);
	for (size_t i = 0; i < spec->n_fds; i++)
		if (dup2(tmp[i], spec->first_fd + (int)i) < 0)
			child_fail(report_fd, step_fds);
	/* Everything netd holds is O_CLOEXEC anyway; this makes "exactly these" explicit. */
	if (first > 3)
		syscall(SYS_close_range, 3, first - 1, 0);
	if (report_fd > high)
		syscall(SYS_close_range, high, report_fd - 1, 0);
	syscall(SYS_close_range, report_fd + 1, ~0U, 0);
	return report_fd;
}

/*
 * No child takes another process's fds: netd itself needs pidfd_getfd (dnsmasq's netlink socket,
 * dhcp/DESIGN.md), so the unit's system call filter allows it, and every child gets a filter of
 * its own that refuses it (a dnsmasq or QEMU taken over by a guest could otherwise take the fds
 * of another network's dnsmasq or another guest's QEMU: they run as the same user). The number is
 * the same in every system call table (x32's has its bit). Installed while the child still has
 * netd's privileges (CAP_SYS_ADMIN, or no_new_privs under the unit); without either, with
 * no_new_privs of its own.
 */
static void child_deny_getfd(int report_fd)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~0x40000000u),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_getfd, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ELEMENTSOF(insns), .filter = insns };

	/* EINVAL: a kernel without seccomp filters, where no unit's filter allows or refuses
	 * anything either. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 || errno == EINVAL)
		return;
	if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		child_fail(report_fd, "refusing pidfd_getfd to the child (seccomp)");
}

/* Groups first (they need privileges), then the group, then the user; no way back afterwards. */
static void child_credentials(const struct proc_spawn *spec, int report_fd)
{
	const struct process_cred *cred = spec->cred;

	/* The system calls themselves: glibc's wrappers would apply them to netd's threads. */
	if (cred && cred->uid != 0) {
		if (syscall(SYS_setgroups, cred->n_groups, cred->groups) < 0)
			child_fail(report_fd, "setgroups");
		if (syscall(SYS_setresgid, cred->gid, cred->gid, cred->gid) < 0)
			child_fail(report_fd, "setresgid");
		if (syscall(SYS_setresuid, cred->uid, cred->uid, cred->uid) < 0)
			child_fail(report_fd, "setresuid");
	}
	if (spec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(report_fd, "PR_SET_NO_NEW_PRIVS");
}

/*
 * A Landlock domain of its own. The ruleset handles one right the programs netd starts never use
 * (making block device nodes), so nothing else is restricted; but Landlock lets a process reach
 * into (ptrace, /proc/PID/fd, /proc/PID/mem) only processes of its own domain or of domains nested
 * in it: a child restricted on its own is alone in its domain. netd, outside any domain, still
 * reads its /proc. Skipped where the kernel has no Landlock (abi 0, asked before the fork).
 */
static void child_landlock(int abi, int report_fd)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs = LANDLOCK_ACCESS_FS_MAKE_BLOCK };
	int fd;

	if (abi <= 0)
		return;
	fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0 || syscall(SYS_landlock_restrict_self, fd, 0) < 0)
		child_fail(report_fd, "entering a Landlock domain of its own");
	close(fd);
}

/* The file system rights a ruleset of this ABI handles: all of them. */
static uint64_t landlock_fs_rights(int abi)
{
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return all;
}

static void confine_rule(int ruleset, int fd, uint64_t access, int report_fd)
{
	struct landlock_path_beneath_attr rule = { .allowed_access = access, .parent_fd = fd };

	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
		child_fail(report_fd, "confining its file access (a Landlock rule)");
}

/* A rule for a path that may be missing (/lib64 on some systems). */
static void confine_path(int ruleset, const char *path, uint64_t access, int report_fd)
{
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return;
	confine_rule(ruleset, fd, access, report_fd);
	close(fd);
}

/*
 * spec->confine_files: every file system right handled, and allowed only on the program's own
 * files and the fd map's files (rules on those very fds: another name of the same file is the same
 * file to Landlock; a path the program reads out of a file it works on reaches nothing else).
 */
static void child_confine_files(const struct proc_spawn *spec, int abi, int report_fd)
{
	const uint64_t rd = LANDLOCK_ACCESS_FS_READ_FILE, wr = LANDLOCK_ACCESS_FS_WRITE_FILE,
		       tr = abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0,
		       prog = LANDLOCK_ACCESS_FS_EXECUTE | rd | LANDLOCK_ACCESS_FS_READ_DIR;
	static const char *const prog_dirs[] = { "/usr", "/lib", "/lib64", "/lib32", "/libx32" };
	/* TCP: bind and connect handled and no rule allows either (a header naming nbd://HOST:PORT
	 * reaches no one); abstract unix sockets and signals: none outside its own domain. A unix
	 * socket by path is a file's right Landlock does not handle: qemu-img is never given a name
	 * to follow (vmm/disk.h, disk_chain_opts). */
	struct landlock_ruleset_attr_v6 attr = {
		.handled_access_fs = landlock_fs_rights(abi),
		.handled_access_net = abi >= 4 ? LANDLOCK_NET_BIND_TCP_ | LANDLOCK_NET_CONNECT_TCP_ : 0,
		.scoped = abi >= 6 ? LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_ | LANDLOCK_SCOPE_SIGNAL_ : 0,
	};
	int ruleset;

	if (abi <= 0) {
		errno = EOPNOTSUPP;
		child_fail(report_fd, "confining its file access (this kernel has no Landlock)");
	}
	ruleset = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		child_fail(report_fd, "confining its file access (a Landlock ruleset)");
	for (size_t i = 0; i < ELEMENTSOF(prog_dirs); i++)
		confine_path(ruleset, prog_dirs[i], prog, report_fd);
	confine_path(ruleset, "/etc/ld.so.cache", rd, report_fd);
	confine_path(ruleset, "/dev/urandom", rd, report_fd);
	confine_path(ruleset, "/dev/null", rd | wr, report_fd);
	for (size_t i = 0; i < spec->n_fds; i++) {
		int fd = spec->first_fd + (int)i, fl = fcntl(fd, F_GETFL);

		if (fl < 0)
			child_fail(report_fd, "confining its file access (fcntl)");
		confine_rule(ruleset, fd, (fl & O_ACCMODE) == O_RDONLY ? rd : rd | wr | tr, report_fd);
	}
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		child_fail(report_fd, "confining its file access (landlock_restrict_self)");
	close(ruleset);
}

/* A detached program's intermediate process: reports the program's pid and exits. */
static void child_detach(int report_fd)
{
	struct report r = {};
	pid_t pid = fork();

	if (pid < 0)
		child_fail(report_fd, "fork (detaching)");
	if (pid == 0)
		return;
	r.value = pid;
	_exit(write(report_fd, &r, sizeof(r)) == sizeof(r) ? 0 : 1);
}

/* netd's pid, for a child to see whether netd died before it asked to die with it. */
static pid_t spawner_pid;

static void child_die_with_parent(int report_fd)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(report_fd, "PR_SET_PDEATHSIG");
	if (getppid() != spawner_pid)
		_exit(127); /* netd is gone already */
}

static _Noreturn void child(const struct proc_spawn *spec, int null_fd, int report_fd, int landlock_abi)
{
	static char *const no_env[] = { NULL };

	child_signals();
	if (spec->new_session && setsid() < 0)
		child_fail(report_fd, "setsid");
	if (spec->detached)
		child_detach(report_fd);
	report_fd = child_fds(spec, null_fd, report_fd);
	rlimit_nofile_restore();
	child_deny_getfd(report_fd);
	child_credentials(spec, report_fd);
	if (spec->die_with_parent)
		child_die_with_parent(report_fd);
	if (spec->confine_files)
		child_confine_files(spec, landlock_abi, report_fd);
	else if (spec->landlock)
		child_landlock(landlock_abi, report_fd);
	execve(spec->exe ?: spec->argv[0], spec->argv, spec->envp ?: no_env);
	child_fail(report_fd, "execve");
}

struct child_args {
	const struct proc_spawn *spec;
	int null_fd, report_fd, landlock_abi;
};

static int child_main(void *userdata)
{
	const struct child_args *a = userdata;

	child(a->spec, a->null_fd, a->report_fd, a->landlock_abi);
}

/* ---- the parent ---- */

#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_BY_FORK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_BY_FORK 1
#endif
#endif
#ifndef SPAWN_BY_FORK
#define SPAWN_BY_FORK 0
#endif

/* The stack a child runs on until it execs: one for netd's life (one spawn at a time). */
#define CHILD_STACK_SIZE (256 * 1024)

static void *child_stack_top(void)
{
	static void *stack;

	if (!stack) {
		void *p = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

		if (p == MAP_FAILED)
			return NULL;
		stack = p;
	}
	return (char *)stack + CHILD_STACK_SIZE;
}

/* fs.suid_dumpable, or -1 when it cannot be read. */
static int suid_dumpable(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/fs/suid_dumpable", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	return n > 0 && buf[0] >= '0' && buf[0] <= '2' ? buf[0] - '0' : -1;
}

/*
 * Whether the child may share netd's memory. Between its setresuid and its exec it is a process of
 * the program's user: the kernel marks the memory it shares "not dumpable" then (fs.suid_dumpable
 * 0), so that user's other processes cannot ptrace it or write its /proc/PID/mem; with
 * fs.suid_dumpable 1 or 2 (or unknown) they could, and write netd's memory: fork then.
 */
static bool share_memory(const struct proc_spawn *spec)
{
	if (SPAWN_BY_FORK || spec->detached)
		return false;
	return !spec->cred || spec->cred->uid == 0 || suid_dumpable() == 0;
}

/* The child, sharing netd's memory until it execs or exits; netd waits until then. */
static pid_t start_child(const struct proc_spawn *spec, int null_fd, int report_fd, int abi)
{
	struct child_args a = {
		.spec = spec, .null_fd = null_fd, .report_fd = report_fd, .landlock_abi = abi
	};
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	void *top = child_stack_top();
	sigset_t all, old;
	pid_t pid;
	int saved;

	if (!top)
		return -1;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = clone(child_main, top, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* The child's setresuid made the memory it shared not dumpable; it is netd's alone again. */
	if (dumpable > 0 && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != dumpable)
		(void)prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
	errno = saved;
	return pid;
}

static int spawn_check(const struct proc_spawn *spec, int *ret_pidfd)
{
	if (spec->n_fds > PROC_FDS_MAX)
		return -E2BIG;
	if (!spec->argv || !spec->argv[0] || (spec->detached && (ret_pidfd || spec->die_with_parent)))
		return -EINVAL;
	if (spec->n_fds && spec->first_fd < 3)
		return -EINVAL;
	for (int i = 0; i < 3; i++)
		if (spec->stdio[i].kind == PROC_IO_FD && spec->stdio[i].fd < 0)
			return -EBADF;
	return 0;
}

static int fail(int error, const char *step)
{
	snprintf(real.error, sizeof(real.error), "%s: %s", step, strerror(-error));
	return error;
}

/* Wait for the child's reports until exec closes the pipe; *ret_pid is the detached program's. */
static int read_reports(int fd, pid_t *ret_pid)
{
	struct report r;
	ssize_t n;

	for (;;) {
		n = read(fd, &r, sizeof(r));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return 0;
		if (n != sizeof(r))
			return fail(-EIO, "reading the child's report");
		if (!r.step)
			*ret_pid = r.value;
		else
			return fail(-r.value, r.step);
	}
}

static int real_spawn(void *userdata, const struct proc_spawn *spec, pid_t *ret_pid, int *ret_pidfd)
{
	_cleanup_close_ int null_fd = -1, report_rd = -1, report_wr = -1;
	int pipefd[2], abi = spec->landlock || spec->confine_files ? proc_landlock_abi() : 0, pidfd = -1,
		       status, r;
	pid_t pid, program = 0;

	real.error[0] = 0;
	r = spawn_check(spec, ret_pidfd);
	if (r < 0)
		return fail(r, "the process description");
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || pipe2(pipefd, O_CLOEXEC) < 0)
		return fail(negative_errno(), "pipe");
	report_rd = pipefd[0];
	report_wr = pipefd[1];
	spawner_pid = getpid();
	if (share_memory(spec))
		pid = start_child(spec, null_fd, report_wr, abi);
	else {
		pid = fork();
		if (pid == 0)
			child(spec, null_fd, report_wr, abi);
	}
	if (pid < 0)
		return fail(negative_errno(), "fork");
	close(TAKE_FD(report_wr));
	r = read_reports(report_rd, &program);
	if (spec->detached) {
		/* The intermediate process exits at once. */
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (r >= 0 && program <= 0)
			r = fail(-ECHILD, "the detached start");
		pid = program;
	} else if (r < 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	} else if (ret_pidfd) {
		/* Our child cannot be reaped before we wait for it, so the pid cannot be reused here. */
		pidfd = pidfd_open_(pid);
		if (pidfd < 0) {
			r = fail(negative_errno(), "pidfd_open");
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
	}
	if (r < 0)
		return r;
	log_debug("spawn %s pid %d%s fds=%zu uid=%d", spec->exe ?: spec->argv[0], (int)pid,
		  spec->detached ? " (detached)" : "", spec->n_fds,
		  spec->cred ? (int)spec->cred->uid : (int)getuid());
	*ret_pid = pid;
	if (ret_pidfd)
		*ret_pidfd = pidfd;
	return 0;
}

static int real_kill(void *userdata, pid_t pid, int pidfd, int sig)
{
	int r = pidfd >= 0 ? (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) : kill(pid, sig);

	if (r < 0)
		return -errno;
	log_debug("kill pid %d signal %s", (int)pid, sigabbrev_np(sig) ?: "?");
	return 0;
}

static int real_reap(void *userdata, pid_t pid, int pidfd, int *ret_status)
{
	siginfo_t si = {};

	if (waitid(pidfd >= 0 ? P_PIDFD : P_PID, pidfd >= 0 ? (id_t)pidfd : (id_t)pid, &si,
		   WEXITED | WNOHANG) < 0)
		return -errno;
	if (si.si_pid == 0)
		return -EAGAIN;
	*ret_status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status;
	return 0;
}

static int real_open(void *userdata, pid_t pid, int *ret_pidfd)
{
	int fd = pidfd_open_(pid);

	if (fd < 0)
		return -errno;
	*ret_pidfd = fd;
	return 0;
}

static int real_cmdline(void *userdata, pid_t pid, char **ret, size_t *ret_len)
{
	_cleanup_close_ int dfd = procfs_open(pid);

	return dfd < 0 ? dfd : procfs_cmdline_alloc(dfd, ret, ret_len);
}

static int real_exe(void *userdata, pid_t pid, char *buf, size_t size)
{
	_cleanup_close_ int dfd = procfs_open(pid);

	return dfd < 0 ? dfd : procfs_exe(dfd, buf, size);
}

/* Is fd a bound rtnetlink socket? Then out of the groups. 1: it was one; 0: not one (yet). */
static int rtnl_socket_unsubscribe(int fd, uint64_t groups)
{
	struct sockaddr_nl sa = {};
	socklen_t len = sizeof(int), salen = sizeof(sa);
	int domain = 0, proto = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_NETLINK)
		return 0;
	len = sizeof(proto);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0 || proto != NETLINK_ROUTE)
		return 0;
	/* Unbound (port 0): its bind, with the groups, is still to come. */
	if (getsockname(fd, (struct sockaddr *)&sa, &salen) < 0 || sa.nl_pid == 0)
		return 0;
	for (int g = 1; g < 64; g++)
		if (groups & (1ull << g) &&
		    setsockopt(fd, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, &g, sizeof(g)) < 0)
			return -errno;
	return 1;
}

static int real_rtnl_unsubscribe(void *userdata, pid_t pid, int pidfd, uint64_t groups)
{
	_cleanup_close_ int pdfd = procfs_open(pid);
	struct dirent *e;
	DIR *dir;
	int dfd, found = 0;

	if (pdfd < 0)
		return pdfd;
	dfd = openat(pdfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	dir = fdopendir(dfd);
	if (!dir) {
		int r = -errno;

		close(dfd);
		return r;
	}
	/* Up to the first bound one, among the first fds: dnsmasq makes it at once. */
	for (int seen = 0; found == 0 && seen < 64 && (e = readdir(dir));) {
		char *end;
		long n = strtol(e->d_name, &end, 10);
		char link[32] = "";
		ssize_t len;
		int fd, r;

		if (e->d_name[0] == '.' || *end || n < 0 || n > INT_MAX)
			continue;
		seen++;
		/* Sockets only: closing a duplicate of a file calls its file system's flush, which on
		 * FUSE or NFS could make netd wait. (The link can change before the pidfd_getfd; only
		 * a dnsmasq netd started moments ago is looked at, before it has served anyone.) */
		len = readlinkat(dirfd(dir), e->d_name, link, sizeof(link) - 1);
		if (len < 0 || strncmp(link, "socket:", 7))
			continue;
		/* Through the pidfd: the process itself even if the pid was reused meanwhile. */
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)n, 0);
		if (fd < 0) {
			if (errno != EBADF) /* EBADF: closed since the listing */
				found = -errno;
			continue;
		}
		r = rtnl_socket_unsubscribe(fd, groups);
		close(fd);
		found = r < 0 ? r : found | r;
	}
	closedir(dir);
	return found;
}

static const char *real_last_error(void *userdata)
{
	return real.error;
}

static const struct proc_ops real_ops = {
	.name = "real",
	.spawn = real_spawn,
	.kill = real_kill,
	.reap = real_reap,
	.open = real_open,
	.cmdline = real_cmdline,
	.exe = real_exe,
	.last_error = real_last_error,
	.rtnl_unsubscribe = real_rtnl_unsubscribe,
};

void proc_real_init(struct proc_backend *ret)
{
	*ret = (struct proc_backend){ .ops = &real_ops, .userdata = &real };
}
