/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure part of the ifupdown driver (mgr-ifupdown.c): interfaces(5) and ifstate text. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "mac.h"

/*
 * Rewriting the files of /etc/network/interfaces (and interfaces.d/) so that the port's stanzas
 * become the bridge's: "iface eth0 inet dhcp" and its options become "iface br0 inet dhcp" with
 * the same options plus bridge_ports eth0, bridge_stp off, bridge_fd 0 and bridge_hw MAC; the
 * port gets "iface eth0 inet manual"; "auto eth0" becomes "auto br0", an "allow-hotplug eth0"
 * gives way to "auto br0" (nothing hot-plugs a bridge). One struct across the files of a host,
 * so the bridge's lines are written once.
 */
struct ifupdown_rewrite {
	const char *port;
	const char *bridge;
	struct mac mac;
	bool bridge_written; /* the bridge options and the port's manual stanza */
	bool auto_written;
	unsigned n_port_stanzas; /* "iface PORT ..." seen */
};

/* Whether port and bridge can be written into interfaces(5): interface names that ifupdown
 * reads as themselves (no '.', which it takes for a VLAN). NULL when they can, else why not. */
const char *ifupdown_names_invalid_reason(const char *port, const char *bridge);
/* text rewritten into *ret (the caller frees it); 1 when it changed, 0 when it names neither
 * (*ret NULL), negative when netd cannot rewrite it (err says why: a mapping or rename naming
 * the port, a stanza of the bridge already, a continued line naming the port). */
int ifupdown_rewrite(struct ifupdown_rewrite *rw, const char *text, char **ret, char *err, size_t errlen);
/* The number of "iface NAME FAMILY METHOD" stanzas in text, and of them with METHOD method
 * (NULL: any): what the rewrite is checked against. */
unsigned ifupdown_stanzas(const char *text, const char *name, const char *method);
/* ifstate text without the line "PORT=..." (into *ret); 1 when there was one. */
int ifupdown_ifstate_drop(const char *text, const char *port, char **ret);
/* The "default-duid "...";" line of a dhclient lease file, checked (one quoted string, escapes
 * allowed, no quote or newline inside): 0 and the line with its newline in buf, or -ENOENT. */
int ifupdown_duid_line(const char *leases, char *buf, size_t size);
