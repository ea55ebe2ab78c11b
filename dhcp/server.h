/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One supervised dnsmasq: started (or adopted from its pid file), watched through a pidfd
 * on the event loop, restarted with backoff when it dies, signalled to re-read its hosts
 * files, stopped. It also holds the network's live lease table.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <sys/types.h>

#include "lease.h"
#include "proc.h"

enum dhcp_server_state {
	DHCP_SERVER_STOPPED,
	DHCP_SERVER_RUNNING,
	DHCP_SERVER_BACKOFF, /* died; a restart is scheduled */
	DHCP_SERVER_STOPPING, /* dhcp_server_stop_async: told to exit, not gone yet */
	_DHCP_SERVER_STATE_MAX,
};

const char *dhcp_server_state_to_string(enum dhcp_server_state s);

#define DHCP_BACKOFF_MIN_USEC (250 * 1000ull)
#define DHCP_BACKOFF_MAX_USEC (30 * 1000 * 1000ull)
/* A dnsmasq that ran this long before dying starts over at the shortest backoff. */
#define DHCP_BACKOFF_RESET_USEC (60 * 1000 * 1000ull)
#define DHCP_STOP_TIMEOUT_MS 2000
#define DHCP_LEASE_MACS_GAP_USEC (100 * 1000ull)

struct dhcp_server_spec {
	const char *network;
	const char *dnsmasq;	/* the binary */
	const char *user;	/* --user, NULL to leave dnsmasq's default */
	const char *group;	/* --group, NULL to leave dnsmasq's default */
	const char *conf_path;	/* --conf-file */
	const char *pid_path;	/* --pid-file */
	/* where netd writes the pid of a dnsmasq it spawned, at once (for an adoption before dnsmasq
	 * wrote pid_path); not pid_path itself, whose unlink-then-create dnsmasq would race */
	const char *spawn_pid_path;
	const char *lease_path; /* read back at start and adoption */
	const char *lease_macs_path; /* netd's record of the DHCPv6 leases' MACs; NULL: none */
	char *const *env;	/* the whole environment dnsmasq (and its dhcp-script) gets */
	/* rtnetlink groups (1 << RTNLGRP_x) to take its netlink socket out of once it runs (see
	 * DESIGN.md "dnsmasq's netlink socket"); 0 to leave it as dnsmasq made it. */
	uint64_t rtnl_unsubscribe;
};

struct dhcp_server {
	char *network;
	sd_event *event;
	struct proc_backend proc;
	char **argv;
	char **env;
	char *conf_path, *pid_path, *spawn_pid_path, *lease_path, *lease_macs_path;
	char *lease_macs_text; /* what lease_macs_path holds, as netd last wrote or read it */
	uint64_t lease_macs_written_usec; /* CLOCK_MONOTONIC of the last write */
	sd_event_source *lease_macs_timer; /* a write held back (DHCP_LEASE_MACS_GAP_USEC) */
	enum dhcp_server_state state;
	pid_t pid;
	int pidfd;
	bool adopted;
	sd_event_source *exit_source, *timer;
	uint64_t rtnl_unsubscribe;
	sd_event_source *quiet_timer; /* until its netlink socket is out of those groups */
	uint64_t quiet_delay_usec;
	uint64_t started_usec, backoff_usec;
	unsigned restarts;
	char last_exit[128]; /* how the last dnsmasq ended, or why it could not start */
	void (*stopped)(struct dhcp_server *s, void *userdata); /* dhcp_server_stop_async's */
	void *stopped_userdata;
	bool killed; /* stopping: SIGKILL sent */
	struct dhcp_lease_table leases;
};

int dhcp_server_new(sd_event *e, const struct proc_backend *proc, const struct dhcp_server_spec *spec,
		    struct dhcp_server **ret);
/* Stops watching; the process keeps running (netd exiting, or a network handed over). */
void dhcp_server_free(struct dhcp_server *s);
int dhcp_server_start(struct dhcp_server *s);
/* Take over the dnsmasq named by the pid file if it is ours (that binary with that config
 * file); -ESRCH when there is nothing to adopt. */
int dhcp_server_adopt(struct dhcp_server *s);
/* SIGHUP: re-read the hosts files. */
int dhcp_server_reload(struct dhcp_server *s);
/* SIGTERM, a bounded wait, SIGKILL; then the pid file goes. */
int dhcp_server_stop(struct dhcp_server *s);
/* The same without waiting: SIGTERM now, SIGKILL after DHCP_STOP_TIMEOUT_MS, the exit awaited on
 * the event loop through the pidfd; then the pid file goes and stopped(s, userdata) is called. 0:
 * it was not running (stopped at once, stopped not called); 1: stopping. */
int dhcp_server_stop_async(struct dhcp_server *s, void (*stopped)(struct dhcp_server *s, void *userdata),
			   void *userdata);
/* Replace the lease table with the lease file's contents. An IPv6 lease keeps the MAC it had
 * in the table, or else the one lease_macs_path records for it (the same client's lease: DUID and
 * IAID); the file is then brought in step with the table. */
int dhcp_server_leases_load(struct dhcp_server *s);
/* Write lease_macs_path from the table when what it holds differs (after a lease event). It is
 * root's alone (0600): port security lets a guest send from its lease's address. Writes are
 * DHCP_LEASE_MACS_GAP_USEC apart at least: each renders every lease, and a guest can make a lease
 * event per made-up DUID (a later one is held back on a timer; dhcp_server_free writes it). */
int dhcp_server_lease_macs_save(struct dhcp_server *s);
