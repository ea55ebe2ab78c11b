/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who else configures an interface: a DHCP client process (dhclient, udhcpc, dhcpcd) in netd's
 * network namespace (the host's network managers are mgr.h's drivers). A DHCP client is handed
 * over: stopped with SIGKILL (so it neither sends a RELEASE nor runs a deconfig script) and started
 * again with the same command line on the new interface, asking for the same address.
 *
 * Only a genuine client is handed over: it runs as root (real, effective and saved uid 0) and its
 * executable (/proc/PID/exe) is a system binary (manager_exe_check). Any other process that looks
 * like one (a user's script named dhclient with eth0 among its arguments) is a look-alike: never
 * stopped, never started, reported to the caller and otherwise left alone. netd starts the
 * verified executable itself (execv), never whatever argv[0] names.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc.h"

#define MANAGER_ARGV_MAX 4096
/* Arguments, argv[0] included, of a command line netd restarts. */
#define MANAGER_ARGS_MAX 128

enum manager_kind {
	MANAGER_NONE,
	MANAGER_NETWORKMANAGER,
	MANAGER_NETWORKD,
	MANAGER_IFUPDOWN,
	MANAGER_DHCP_CLIENT,
	_MANAGER_KIND_MAX,
};

const char *manager_kind_to_string(enum manager_kind k);

struct manager {
	enum manager_kind kind;
	pid_t pid;
	char exe[PATH_MAX]; /* the client's executable, as /proc/PID/exe names it */
	char argv[MANAGER_ARGV_MAX]; /* the client's command line, NUL-separated, the last byte NUL */
	size_t argv_len;
};

/* Called for each look-alike manager_detect() leaves alone: why says why it is not a genuine
 * client ("runs as uid 1000", "/home/x is owned by uid 1000"); uid is its real uid. */
typedef void (*manager_ignored_fn)(const struct manager *m, uid_t uid, const char *why, void *userdata);

/* MANAGER_NONE or the DHCP client process on ifname; -EBUSY with err saying what to change for two
 * genuine DHCP clients, for a process that runs as root like a DHCP client on ifname but is not
 * genuine (its binary deleted by an upgrade, say), and for a genuine dhcpcd in manager mode, which
 * configures every interface. The network managers are mgr.h's drivers. on_ignored may be NULL. */
int manager_detect(const char *ifname, manager_ignored_fn on_ignored, void *userdata, struct manager *ret,
		   char *err, size_t errlen);
/* "/" when netd runs in the initial network namespace (where the network managers run), else
 * NULL: their files' ifindexes would name other interfaces. */
const char *manager_root_default(void);

/*
 * Pure functions on a command line as /proc/PID/cmdline holds it: NUL-separated arguments, the
 * last byte NUL (a buffer that is not so is nobody's command line: false, or -EINVAL).
 */
/* The number of arguments; -EINVAL if argv is not such a command line, -E2BIG past MANAGER_ARGS_MAX. */
int manager_argv_count(const char *argv, size_t len);
/* Whether argv[0] (or argv[1] after "busybox") is named like a DHCP client, or argv is dhcpcd's
 * rewritten title ("dhcpcd: eth0 [ip4] [ip6]"): what a look-alike copies. */
bool manager_argv_looks_like_client(const char *argv, size_t len);
/* Whether argv is the title of a dhcpcd in manager mode (for every interface): "dhcpcd: [manager]
 * [ip4] [ip6]", or its privileged proxy's, "dhcpcd: [privileged proxy]" naming no interface. */
bool manager_argv_dhcpcd_manager(const char *argv, size_t len);
/* The client an executable runs: its basename (dhclient, udhcpc, dhcpcd) or, for busybox, the
 * udhcpc applet chosen by argv[0] or argv[1]; NULL when exe does not run a DHCP client. */
const char *manager_client_name(const char *exe, const char *argv, size_t len);
/* Whether the command line names ifname: an argument "ifname", "-iifname", "--interface=ifname",
 * or the interface of dhcpcd's title (or of its privileged proxy's, "dhcpcd: [privileged proxy]
 * eth0 [ip4]"). */
bool manager_argv_names(const char *argv, size_t len, const char *ifname);
/* The command line with every mention of `from` turned into `to`, plus `-r IP` for udhcpc when
 * ip is given and it has none; dhcpcd's title becomes "dhcpcd [-4|-6] IFACE". */
int manager_argv_retarget(const char *argv, size_t len, const char *from, const char *to, const char *ip,
			  char *buf, size_t size, size_t *ret_len);
/*
 * The command line netd starts for exe (manager_client_name): argv with, when foreground, the
 * option that keeps the client in the foreground, so that the pid netd starts is the client's own
 * for as long as it runs (dhclient -d, dhcpcd -B, udhcpc -f; udhcpc's -b, which forks after a
 * failed first attempt whatever -f says, is dropped), and for dhcpcd, when metric is not 0 and
 * argv has no -m of its own, "-m METRIC" (dhcpcd's default, 1000 + ifindex, differs per
 * interface). Both go right after the program's name ("busybox udhcpc"). -EINVAL when exe runs no
 * DHCP client.
 */
int manager_argv_adapt(const char *exe, const char *argv, size_t len, bool foreground, uint32_t metric,
		       char *buf, size_t size, size_t *ret_len);
/* Text form "a b c" of a NUL-separated command line, for messages. */
void manager_argv_format(const char *argv, size_t len, char *buf, size_t size);
/*
 * Whether exe is a system binary: an absolute, canonical path (no "(deleted)", no ".", "..",
 * "//") under /usr/sbin, /usr/bin, /usr/libexec, /usr/lib, /sbin, /bin or /lib (not /usr/local,
 * not /opt), and the file (a regular, executable file) and every directory from "/" down
 * (each looked at with lstat: no symbolic links) are owned by owner and writable by neither
 * group nor others. root prefixes every path looked at ("/" on a host; a test points it at a
 * tree of its own, with its own uid as owner). -EPERM with why when not.
 */
int manager_exe_check(const char *root, const char *exe, uid_t owner, char *why, size_t whylen);
/* What netd checks before it starts exe with argv: manager_exe_check("/", exe, 0), and that exe
 * runs a DHCP client with this command line (manager_client_name) of at most MANAGER_ARGS_MAX
 * arguments. */
int manager_client_check(const char *exe, const char *argv, size_t len, char *why, size_t whylen);

/*
 * The file that keeps a handed-over client for a rollback or a rebuild after a reboot
 * (<state>/uplinks/BR/dhcp-argv): MANAGER_CLIENT_MAGIC, the executable, the number of arguments
 * (decimal) and the arguments, each ended by a NUL. An older netd wrote the arguments alone:
 * parse refuses that with -EPROTONOSUPPORT (its argv[0] was never verified).
 */
#define MANAGER_CLIENT_MAGIC "netd-dhcp-client 1"
int manager_client_format(const struct manager *m, char *buf, size_t size, size_t *ret_len);
int manager_client_parse(const char *data, size_t len, struct manager *ret);
/* Read and parse the file, which must be a regular file owned by owner with no group or other
 * permissions; -ENOENT when there is none; otherwise a failure says why. */
int manager_client_read(const char *path, uid_t owner, struct manager *ret, char *why, size_t whylen);

/* SIGKILL (no release) the client found by manager_detect() and wait for it to be gone.
 * -ESRCH: that genuine client is not running any more. */
int manager_client_stop(const struct proc_backend *proc, const struct manager *m);
/* Starts exe (after manager_client_check) with a NUL-separated command line, argv[0] kept (busybox
 * picks its applet by it), detached from netd (it survives netd); returns its pid. A failed check
 * returns its error with why. */
int manager_client_start(const struct proc_backend *proc, const char *exe, const char *argv, size_t len,
			 pid_t *ret_pid, char *why, size_t whylen);
/* SIGKILL every genuine DHCP client on ifname in netd's network namespace, as manager_client_stop
 * does; the number stopped. For a bridge about to go: a client netd started but did not record
 * (killed in between), or one an older netd left there. */
int manager_clients_stop(const struct proc_backend *proc, const char *ifname);
/* Whether pid is still a genuine DHCP client running on ifname (the pid was not reused). */
bool manager_client_running(const struct proc_backend *proc, pid_t pid, const char *ifname);
/* SIGKILL a client manager_client_start() started, with its script, and wait for it to be gone.
 * -ESRCH: pid is not a genuine DHCP client on ifname (any more). */
int manager_client_kill(const struct proc_backend *proc, pid_t pid, const char *ifname);
