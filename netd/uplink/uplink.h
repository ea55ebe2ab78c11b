/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The uplink job: a transaction that converts eth0 into br0 (convert.c does the plan),
 * verifies the gateways from the bridge, waits for a confirmation and rolls back by itself.
 *
 * Files: <state>/uplinks/BR/snapshot (what eth0 was), <state>/uplinks/BR/state (the
 * transaction's state, written before each phase), <state>/uplinks/BR/dhcp-argv (the DHCP
 * client that was handed over: manager_client_format), all three 0600 in a 0700 directory;
 * <config>/uplinks/BR.conf once confirmed (persistent).
 */
#pragma once

#include <json-c/json.h>
#include <net/if.h>
#include <stdbool.h>
#include <sys/types.h>

struct daemon;
struct call;

enum uplink_state {
	UPLINK_PREPARING,
	UPLINK_CUTTING_OVER,
	UPLINK_FINISHING,
	UPLINK_VERIFYING,
	UPLINK_WAITING,
	UPLINK_CONFIRMED,
	UPLINK_ROLLING_BACK,
	_UPLINK_STATE_MAX,
	_UPLINK_STATE_INVALID = -1,
};

const char *uplink_state_to_string(enum uplink_state s);
enum uplink_state uplink_state_from_string(const char *s);

/* The state file: "state=S", "port=IFNAME" and "bridge_client_pid=N" lines (keys it does not
 * know are skipped). parse is the inverse of format. */
struct uplink_state_file {
	enum uplink_state state;
	char port[IFNAMSIZ];
	pid_t bridge_client_pid; /* the DHCP client netd started on the bridge, 0 if none */
};

int uplink_state_format(const struct uplink_state_file *s, char *buf, size_t size);
int uplink_state_parse(const char *text, struct uplink_state_file *ret);

/* At start, before the networks: finish interrupted transactions (roll them back), adopt or
 * rebuild confirmed conversions. */
void uplink_start(struct daemon *d);
void uplink_free_all(struct daemon *d);
/* Whether ifname is the bridge of a conversion netd made (confirmed or not). */
bool uplink_is_bridge(struct daemon *d, const char *ifname);
