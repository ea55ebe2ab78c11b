/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TEST STAND-IN's binary (tap-guest-lib.sh): installed as the configured QEMU ($T/qemu), it
 * runs veth-qemu.py (the file of that name next to it) as its child with the same arguments and
 * fds, and stays the process netd started: /proc/PID/exe is the QEMU binary netd was given, so a
 * restarted netd recognises and adopts the guest (vmm/process.c exe_is), as it does a real QEMU.
 * A python script run directly is /usr/bin/python3 there. SIGTERM, SIGINT and SIGHUP are passed
 * on; the child dies with this process (PR_SET_PDEATHSIG); its exit status is this one's.
 */
#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], script[PATH_MAX + 16];
	char **args = calloc((size_t)argc + 3, sizeof(*args));
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct sigaction sa = { .sa_handler = pass_on };
	sigset_t block, old;
	int status;
	pid_t parent = getpid();

	if (!args || len <= 0)
		return 127;
	self[len] = 0;
	snprintf(script, sizeof(script), "%s/veth-qemu.py", dirname(self));
	args[0] = "python3";
	args[1] = script;
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	child = fork();
	if (child < 0)
		return 127;
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		execv("/usr/bin/python3", args);
		_exit(127);
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return 127;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
