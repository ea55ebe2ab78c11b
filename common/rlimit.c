/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rlimit.h"

#include <errno.h>
#include <stdbool.h>

#include "macro.h"

static struct rlimit saved;
static bool raised;

int rlimit_nofile_raise(rlim_t *ret_before, rlim_t *ret_after)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return negative_errno();
	if (!raised)
		saved = rl;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = { .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &want) < 0)
			return negative_errno();
		raised = true;
	}
	if (ret_before)
		*ret_before = saved.rlim_cur;
	if (ret_after)
		*ret_after = rl.rlim_max;
	return 0;
}

void rlimit_nofile_restore(void)
{
	/* glibc's setrlimit is one prlimit64 system call: safe after fork. */
	if (raised)
		setrlimit(RLIMIT_NOFILE, &saved);
}
