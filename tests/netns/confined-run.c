/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * confined-run N EXE ARGS...: run EXE through netd's real process backend as netd runs qemu-img
 * (proc.h confine_files, no_new_privs), with this process's fds 3..3+N-1 as its fds 3..; print
 * its stdout and first stderr line, exit with 0 or 1 (test-disk.sh: what a confined qemu-img
 * reaches of a header that names another file, without netd's header check in the way).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

int main(int argc, char **argv)
{
	struct proc_backend proc;
	int fds[PROC_FDS_MAX], n = argc > 2 ? atoi(argv[1]) : -1, r;
	char out[4096], err[512];

	if (n < 0 || n > PROC_FDS_MAX) {
		fprintf(stderr, "usage: confined-run N EXE ARGS...\n");
		return 2;
	}
	for (int i = 0; i < n; i++)
		fds[i] = 3 + i;
	proc_real_init(&proc);
	struct proc_spawn spec = { .exe = argv[2],
				   .argv = argv + 2,
				   .fds = fds,
				   .n_fds = (size_t)n,
				   .first_fd = 3,
				   .no_new_privs = true,
				   .confine_files = true };
	r = proc_run_check(&proc, &spec, 60000, out, sizeof(out), err, sizeof(err));
	fputs(out, stdout);
	if (r < 0)
		printf("error: %s\n", err);
	return r < 0 ? 1 : 0;
}
