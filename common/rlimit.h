/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netd's own fd limit. The daemon raises its soft RLIMIT_NOFILE to the hard limit at start (one
 * fd per client, pidfd, QMP socket...), but its children must start with the limit netd was given:
 * dnsmasq closes every fd up to the soft limit at start, and programs that use select() break
 * with fds above 1024.
 */
#pragma once

#include <sys/resource.h>

/* Raise the soft limit to the hard limit and remember the original one. */
int rlimit_nofile_raise(rlim_t *ret_before, rlim_t *ret_after);
/* Put the original soft limit back; a no-op unless raised. Async-signal-safe: for the child
 * between fork and exec. */
void rlimit_nofile_restore(void);
