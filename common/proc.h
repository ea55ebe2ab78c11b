/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process ops table: how netd starts, signals, reaps and inspects every process it runs
 * (dnsmasq, QEMU and the KVM probe's QEMU, the uplink's DHCP client, `qemu --version`).
 * proc-real.c is the only file of netd that forks a program; proc-fake.c records one line per
 * operation for unit tests and fakes pidfds with pipes. A process is held through a pidfd
 * (O_CLOEXEC), which works for a child and for an adopted process alike: it becomes readable when
 * the process exits.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCESS_GROUPS_MAX 256

/* Who a process runs as, or whose rights a file is opened with. */
struct process_cred {
	uid_t uid;
	gid_t gid;
	gid_t groups[PROCESS_GROUPS_MAX]; /* supplementary groups */
	size_t n_groups;
};

/* Where a child's stdin, stdout or stderr goes. */
enum proc_io_kind {
	PROC_IO_NULL, /* /dev/null: the default */
	PROC_IO_INHERIT, /* netd's own */
	PROC_IO_FD, /* the fd given */
};

struct proc_io {
	enum proc_io_kind kind;
	int fd;
};

#define PROC_FDS_MAX 64

/*
 * What a child gets. Whatever is asked, it starts with the default signal mask and dispositions,
 * the RLIMIT_NOFILE netd was given (common/rlimit.c) and no fd but its stdio and the fd map; only
 * async-signal-safe calls run between fork and exec.
 */
struct proc_spawn {
	const char *exe; /* the file executed (NULL: argv[0]); never looked up in PATH */
	char *const *argv; /* argv[0] is what the program sees (busybox picks its applet by it) */
	char *const *envp; /* exactly this environment; NULL: an empty one */
	struct proc_io stdio[3];
	const int *fds; /* fds[i] becomes the child's first_fd + i */
	size_t n_fds;
	int first_fd; /* 3 or more */
	/* Drop to these (groups, gid, uid: no way back); NULL or uid 0: stay root. */
	const struct process_cred *cred;
	bool no_new_privs; /* PR_SET_NO_NEW_PRIVS: no setuid binary or file capability gives any back */
	/* A Landlock domain of its own (where the kernel has Landlock): a process in a domain cannot
	 * reach into (ptrace, /proc/PID/fd, /proc/PID/mem) processes outside it, such as other
	 * children of the same user each in their own. Nothing else is restricted. */
	bool landlock;
	/* Landlock confines its file access (proc-real.c, child_confine_files): it may execute and read
	 * under /usr and /lib*, read /etc/ld.so.cache and /dev/urandom, read and write /dev/null, and
	 * open the files of its fd map (by /dev/fd/N or any other name of the same file): each for
	 * reading, and for writing and truncating where netd opened it for writing. Nothing else, by
	 * any path: for a program netd runs as root on files operators may write (qemu-img on a pool
	 * disk whose header names /etc/shadow). Without Landlock in the kernel the spawn fails:
	 * nothing runs unconfined that asked to be confined. Implies landlock. Where the kernel has
	 * them (Landlock ABI 4, 6), no TCP bind or connect, no abstract unix socket and no signal
	 * outside its domain either. Every right up to ABI PROC_LANDLOCK_ABI_KNOWN is handled; a newer
	 * kernel's new ones are not (netd logs that once). */
	bool confine_files;
	bool new_session; /* setsid: its own session and process group, no controlling terminal */
	/* SIGKILL when netd dies (PR_SET_PDEATHSIG, set after its credentials, which would clear it):
	 * a job netd watches (a root qemu-img convert) must not outlive it. Not with detached. */
	bool die_with_parent;
	/* Not netd's child: started through an intermediate child that exits at once, so it survives
	 * netd and init reaps it. The pid is the program's; no pidfd (ret_pidfd must be NULL). */
	bool detached;
};

struct proc_ops {
	const char *name;
	/* Start spec's program. Returns once it runs (exec succeeded), or the negative errno of the
	 * step that failed, in the child or before (last_error() names it); nothing is left running
	 * then. ret_pidfd may be NULL. */
	int (*spawn)(void *userdata, const struct proc_spawn *spec, pid_t *ret_pid, int *ret_pidfd);
	/* pidfd -1: by pid, for a child netd holds no pidfd of. */
	int (*kill)(void *userdata, pid_t pid, int pidfd, int sig);
	/* Once the pidfd is readable: the wait status of a child; -ECHILD for an adopted process,
	 * -EAGAIN while it runs. pidfd -1: by pid. */
	int (*reap)(void *userdata, pid_t pid, int pidfd, int *ret_status);
	/* A pidfd for a running process that is not (or no longer known to be) our child. */
	int (*open)(void *userdata, pid_t pid, int *ret_pidfd);
	/* The process's argv, NUL-separated, the last one terminated; caller frees. */
	int (*cmdline)(void *userdata, pid_t pid, char **ret, size_t *ret_len);
	/* Its executable (/proc/PID/exe: " (deleted)" once the file was replaced). */
	int (*exe)(void *userdata, pid_t pid, char *buf, size_t size);
	/* What the last failed spawn failed at ("execve: Permission denied"). */
	const char *(*last_error)(void *userdata);
	/* Take the process's bound rtnetlink sockets out of the multicast groups in `groups` (bit
	 * 1 << RTNLGRP_x), through duplicates of its fds (pidfd_getfd: the membership belongs to the
	 * socket, not the fd). 1: it has a bound one (done); 0: none is bound yet; negative errno. */
	int (*rtnl_unsubscribe)(void *userdata, pid_t pid, int pidfd, uint64_t groups);
};

struct proc_backend {
	const struct proc_ops *ops;
	void *userdata;
};

void proc_real_init(struct proc_backend *ret);
/* The kernel's Landlock ABI version, 0 without Landlock. */
#define PROC_LANDLOCK_ABI_KNOWN 7 /* the newest ABI whose rights child_confine_files handles */
int proc_landlock_abi(void);

struct proc_fake;
int proc_fake_new(struct proc_fake **ret, struct proc_backend *ret_backend);
void proc_fake_free(struct proc_fake *f);
/* Everything done so far, one line per operation: "spawn ARGV... [what the spec asks beyond the
 * defaults: exe= stdin= stdout= stderr= fds=N@FIRST uid= gid= groups= nnp landlock confined session
 * detached pdeathsig]". */
const char *proc_fake_log(struct proc_fake *f);
void proc_fake_log_clear(struct proc_fake *f);
/* From now on, a spawn of exe (the file executed) runs to its end at once: what its stdin (a fd of
 * the spec) holds is logged ("stdin TEXT"), out goes to its stdout (a fd of the spec), and it exits
 * with wait status status. Again for the same exe: replaces the answer. */
int proc_fake_set_run(struct proc_fake *f, const char *exe, const char *out, int status);
/* The next spawn fails with error (negative errno). */
void proc_fake_fail_spawn(struct proc_fake *f, int error);
/* The process exits with that wait status (its pidfd becomes readable). */
int proc_fake_exit(struct proc_fake *f, pid_t pid, int status);
/* From now on (deferred) a SIGTERM or SIGKILL is logged but the process lives on until
 * proc_fake_exit: a process the kernel takes its time to reap. */
void proc_fake_defer_kill(struct proc_fake *f, bool deferred);
/* The next kill fails with error (negative errno) and signals nothing. */
void proc_fake_fail_kill(struct proc_fake *f, int error);
/* A running process that is not our child, with this cmdline (NUL-separated), to adopt. */
int proc_fake_add_foreign(struct proc_fake *f, pid_t pid, const char *cmdline, size_t len);
/* What a process's /proc/PID/exe says (a spawned one's: the file executed). */
int proc_fake_set_exe(struct proc_fake *f, pid_t pid, const char *exe);
/* The fd a running fake process sees as child_fd (first_fd + i of its spawn), or -ENOENT; the fake
 * keeps owning it. */
int proc_fake_child_fd(struct proc_fake *f, pid_t pid, int child_fd);

/*
 * Run spec's program to its end (proc-run.c): its stdout into out (at most size - 1 bytes kept,
 * NUL-terminated; the rest is read and dropped), its wait status in *ret_status. One that is not
 * done within timeout_ms is killed (-ETIMEDOUT). spec's stdout is set here.
 */
int proc_run(const struct proc_backend *proc, struct proc_spawn *spec, int timeout_ms, char *out, size_t size,
	     int *ret_status);
/* proc_run, for a program whose failure is an error: 0 when it exited with status 0; otherwise a
 * negative errno (-EIO for a status) and in err what went wrong, named by the program's file name:
 * the first line it wrote on stderr ("qemu-img: ..."), "NAME exited with status N", "NAME did not
 * finish within N s", or the step of the start that failed. spec's stderr is set here. */
int proc_run_check(const struct proc_backend *proc, struct proc_spawn *spec, int timeout_ms, char *out,
		   size_t size, char *err, size_t errlen);
