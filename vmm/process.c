/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "process.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "procfs.h"
#include "qemu-argv.h"

int process_cred_from_user(const char *name, struct process_cred *ret)
{
	struct passwd *pw = getpwnam(name);
	struct process_cred c = {};
	int n = PROCESS_GROUPS_MAX;

	if (!pw)
		return -ENOENT;
	c.uid = pw->pw_uid;
	c.gid = pw->pw_gid;
	if (getgrouplist(name, pw->pw_gid, c.groups, &n) < 0)
		return -E2BIG;
	c.n_groups = n;
	*ret = c;
	return 0;
}

static bool cred_in_group(const struct process_cred *c, gid_t gid)
{
	if (c->gid == gid)
		return true;
	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

bool process_cred_may_access(const struct process_cred *cred, mode_t mode, uid_t uid, gid_t gid, int access)
{
	mode_t want = ((access & R_OK) ? 4 : 0) | ((access & W_OK) ? 2 : 0);
	mode_t have = cred->uid == uid	       ? (mode >> 6) & 7 :
		      cred_in_group(cred, gid) ? (mode >> 3) & 7 :
						 mode & 7;

	return cred->uid == 0 || (have & want) == want;
}

int process_spawn(const struct proc_backend *proc, char *const *argv, const int *fds, size_t n_fds,
		  int log_fd, const struct process_cred *cred, pid_t *ret_pid)
{
	/* netd's environment is not QEMU's business: a fixed one. */
	static char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	const struct proc_spawn spec = {
		.argv = argv,
		.envp = env,
		.stdio = { [1] = { PROC_IO_FD, log_fd }, [2] = { PROC_IO_FD, log_fd } },
		.fds = fds,
		.n_fds = n_fds,
		.first_fd = QEMU_FIRST_FD,
		.cred = cred,
		.no_new_privs = true,
		.landlock = true,
		.new_session = true,
	};
	int r = proc->ops->spawn(proc->userdata, &spec, ret_pid, NULL);

	if (r < 0)
		dprintf(log_fd, "netd: cannot start %s: %s\n", argv[0],
			proc->ops->last_error(proc->userdata));
	return r;
}

int process_pidfd(const struct proc_backend *proc, pid_t pid)
{
	int fd, r = proc->ops->open(proc->userdata, pid, &fd);

	return r < 0 ? r : fd;
}

/* /proc/PID/exe is the binary (" (deleted)" after a package upgrade replaced it). */
static bool exe_is(const struct proc_backend *proc, pid_t pid, const char *binary)
{
	char exe[PATH_MAX + 16], want[PATH_MAX];
	size_t len;

	if (proc->ops->exe(proc->userdata, pid, exe, sizeof(exe)) < 0 || !realpath(binary, want))
		return false;
	len = strlen(want);
	return !strncmp(exe, want, len) && (!exe[len] || !strcmp(exe + len, " (deleted)"));
}

bool process_is_qemu(const struct proc_backend *proc, pid_t pid, const char *binary, const char *const *args)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (!exe_is(proc, pid, binary) || proc->ops->cmdline(proc->userdata, pid, &text, &len) < 0)
		return false;
	for (size_t i = 0; args[i]; i++)
		if (!procfs_argv_has(text, len, args[i]))
			return false;
	return true;
}

int process_reap(const struct proc_backend *proc, pid_t pid, int pidfd)
{
	int status, r = proc->ops->reap(proc->userdata, pid, pidfd, &status);

	if (r < 0)
		return r;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
