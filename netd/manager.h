/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who else configures an interface: NetworkManager, systemd-networkd, ifupdown, or a DHCP
 * client process (dhclient, udhcpc, dhcpcd) in netd's network namespace. The network managers
 * are refused with what to change; a DHCP client is handed over: stopped with SIGKILL (so it
 * neither sends a RELEASE nor runs a deconfig script) and started again with the same command
 * line on the new interface, asking for the same address.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define MANAGER_ARGV_MAX 4096

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
	char argv[MANAGER_ARGV_MAX]; /* the client's command line, NUL-separated */
	size_t argv_len;
};

/* MANAGER_NONE or what manages ifname; for a network manager err says what to change and
 * the return is -EBUSY. The network managers' runtime files are looked up under root
 * (<root>/run/NetworkManager, <root>/run/systemd/netif, <root>/run/network); root NULL looks
 * for DHCP client processes only. */
int manager_detect(const char *root, const char *ifname, int ifindex, struct manager *ret, char *err, size_t errlen);
/* "/" when netd runs in the initial network namespace (where the network managers run), else
 * NULL: their files' ifindexes would name other interfaces. */
const char *manager_root_default(void);

/* The client's command line with every mention of `from` turned into `to`, plus `-r IP` for
 * udhcpc when ip is given and it has none; NUL-separated, as in /proc. */
int manager_argv_retarget(const struct manager *m, const char *from, const char *to, const char *ip, char *buf,
			  size_t size, size_t *ret_len);
/* Text form "a b c" of a NUL-separated command line, for messages and the state file. */
void manager_argv_format(const char *argv, size_t len, char *buf, size_t size);

/* SIGKILL (no release) the client found by manager_detect() and wait for it to be gone.
 * -ESRCH: it is not running any more. */
int manager_client_stop(const struct manager *m);
/* Starts a NUL-separated command line detached from netd (it survives netd); returns its pid. */
int manager_client_start(const char *argv, size_t len, pid_t *ret_pid);
/* Whether pid is still a DHCP client running on ifname (the pid was not reused). */
bool manager_client_running(pid_t pid, const char *ifname);
/* SIGKILL a client manager_client_start() started, with its script, and wait for it to be gone.
 * -ESRCH: pid is not a DHCP client on ifname (any more). */
int manager_client_kill(pid_t pid, const char *ifname);
