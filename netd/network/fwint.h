/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Firewall integration (fwint.c): where another firewall manager blocks a netd network's traffic
 * (Docker, ufw, firewalld, iptables-legacy tables), netd steps it aside for its bridges through the
 * manager's own extension point (netd --firewall-integration auto), or only reports how to
 * (report), or neither (off). netd's own table (table inet netd) stays the guard of what guests
 * reach on the host: the other managers are only told to let the bridges' traffic through.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

enum fwint_mode {
	FWINT_AUTO, /* the default */
	FWINT_REPORT,
	FWINT_OFF,
	_FWINT_MODE_MAX,
};

const char *fwint_mode_to_string(enum fwint_mode m);
int fwint_mode_from_string(const char *s); /* -EINVAL when unknown */

/* The zone netd puts its bridges in when firewalld has it (a file netd installs; firewalld reads it
 * at its start or reload); otherwise the built-in zone FIREWALLD_ZONE_FALLBACK. netd never reloads
 * firewalld itself: a reload drops every runtime-only change of other programs. */
#define FIREWALLD_ZONE_NETD "netd"
#define FIREWALLD_ZONE_FALLBACK "trusted"

/*
 * What netd needs of firewalld, over its D-Bus API (fwint-firewalld.c: sd-bus on the system bus,
 * $DBUS_SYSTEM_BUS_ADDRESS or the default; unit tests: a fake, or none). Each call is synchronous
 * with a short timeout (2 s); err gets firewalld's own error text (e.g. "ZONE_CONFLICT: ...").
 * Errors: -ENOENT INVALID_ZONE, -EINVAL INVALID_INTERFACE, -EBUSY ZONE_CONFLICT, -EPERM not
 * authorized (polkit, or lockdown), -EAGAIN firewalld in panic mode or failed, -EIO another of its
 * codes; -ESRCH firewalld is not running (it stopped since the last event), -ENOTCONN no system bus,
 * -ETIMEDOUT no answer in time.
 *
 * firewalld 1.3, measured (tests/netns/test-fw-firewalld-backend.sh checks both): it owns its
 * bus name before it has loaded its rules, and answers a call made then once it has (about 130 ms
 * later here). A reload drops every runtime binding (FlushAllOnReload=yes, the default) before it
 * sends Reloaded: on that on_change, the bindings are gone and must be made again.
 */
struct firewalld_ops {
	/* Connect and watch: on_change(cb_userdata) whenever firewalld starts, stops or reloads (its
	 * bus name changes owner, or its Reloaded signal). No system bus is not an error: 0, and
	 * running() says false from then on. The bus going away later is one more on_change, with
	 * running() false; there is no reconnect (close() and open() again). */
	int (*open)(void *userdata, sd_event *e, void (*on_change)(void *cb_userdata), void *cb_userdata);
	void (*close)(void *userdata);
	/* Whether firewalld runs now (owns org.fedoraproject.FirewallD1). */
	bool (*running)(void *userdata);
	/* Whether firewalld has a zone of that name (runtime: getZones). 1 yes, 0 no, negative errno. */
	int (*has_zone)(void *userdata, const char *zone);
	/* The zone ifname is bound to at runtime (getZoneOfInterface), "" for none: also for an
	 * interface that only falls into the default zone by firewalld's catch-all. -ERANGE: buf is
	 * too small. */
	int (*zone_of)(void *userdata, const char *ifname, char *buf, size_t size, char *err, size_t errlen);
	/* Bind ifname to zone at runtime (changeZoneOfInterface: moves it from another zone). */
	int (*bind)(void *userdata, const char *zone, const char *ifname, char *err, size_t errlen);
	/* Unbind it from zone at runtime (removeInterface); 0 when it was not there: in no zone, or in
	 * another one (someone moved it; it stays there). */
	int (*unbind)(void *userdata, const char *zone, const char *ifname, char *err, size_t errlen);
};

struct firewalld_backend {
	const struct firewalld_ops *ops; /* NULL: netd never looks for firewalld */
	void *userdata;
};

/* The real backend: userdata allocated here; free it with firewalld_dbus_free(). */
int firewalld_dbus_new(struct firewalld_backend *ret);
void firewalld_dbus_free(struct firewalld_backend *b);
