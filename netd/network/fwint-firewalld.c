/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The real firewalld backend (struct firewalld_ops, fwint.h): firewalld 1.x's D-Bus API on the system
 * bus, through sd-bus attached to netd's event loop. Calls are synchronous with a short timeout;
 * firewalld's errors come back as org.fedoraproject.FirewallD1.Exception with the text "CODE: detail"
 * (firewall/errors.py), whose CODE picks the errno. Nothing here logs but one debug line a mutation.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "fwint.h"
#include "log.h"
#include "macro.h"

#define FWD_NAME "org.fedoraproject.FirewallD1"
#define FWD_PATH "/org/fedoraproject/FirewallD1"
#define FWD_ZONE_IFACE FWD_NAME ".zone"
#define FWD_TIMEOUT_SEC 2
#define FWD_TIMEOUT_USEC (FWD_TIMEOUT_SEC * 1000000ULL)

/* arg0: only firewalld's name, not every client that comes and goes on the system bus. */
#define FWD_OWNER_MATCH                                                             \
	"type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus'," \
	"interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" FWD_NAME "'"

struct fwd {
	sd_bus *bus; /* NULL: no system bus */
	sd_bus_slot *owner_slot, *reload_slot, *disconnect_slot;
	bool running;
	void (*on_change)(void *cb_userdata);
	void *cb_userdata;
};

static _printf_(3, 4) void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* firewalld's codes (the text before ':') that have an errno of their own; any other is EIO. */
static const struct {
	const char *code;
	int errnum;
} fwd_codes[] = {
	{ "INVALID_ZONE", ENOENT },	 { "UNKNOWN_INTERFACE", ENOENT },  { "ZONE_CONFLICT", EBUSY },
	{ "INVALID_INTERFACE", EINVAL }, { "ACCESS_DENIED", EPERM },	   { "NOT_AUTHORIZED", EPERM },
	{ "PANIC_MODE", EAGAIN },	 { "RUNNING_BUT_FAILED", EAGAIN }, { "NOT_RUNNING", EAGAIN },
};

static bool has_code(const char *text, const char *code)
{
	size_t n = strlen(code);

	return text && !strncmp(text, code, n) && (text[n] == ':' || text[n] == '\0');
}

static int fwd_code_errno(const char *text)
{
	for (size_t i = 0; i < ELEMENTSOF(fwd_codes); i++)
		if (has_code(text, fwd_codes[i].code))
			return -fwd_codes[i].errnum;
	return -EIO;
}

/* A failed call: its errno, and in err what firewalld (or the bus) said. */
static int fwd_error(const sd_bus_error *e, int r, char *err, size_t errlen)
{
	if (r == -ETIMEDOUT) {
		set_err(err, errlen, "firewalld did not answer within %d s", FWD_TIMEOUT_SEC);
		return r;
	}
	set_err(err, errlen, "%s", e->message ? e->message : strerror(-r));
	/* sd-bus would say EHOSTUNREACH: nobody owns the name (it stopped since the last event) */
	if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
		set_err(err, errlen, "firewalld is not running (%s)", e->message ? e->message : "no owner");
		return -ESRCH;
	}
	if (sd_bus_error_has_name(e, FWD_NAME ".Exception"))
		return fwd_code_errno(e->message);
	if (sd_bus_error_has_name(e, FWD_NAME ".NotAuthorizedException"))
		return -EPERM;
	return r < 0 ? r : -EIO;
}

/* One method call of firewalld's zone interface; the reply in *ret. */
static int fwd_call(struct fwd *f, const char *member, sd_bus_message **ret, char *err, size_t errlen,
		    const char *types, ...)
{
	sd_bus_message *m = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	va_list ap;
	int r;

	if (!f->bus) {
		set_err(err, errlen, "%s", "no D-Bus system bus");
		return -ENOTCONN;
	}
	r = sd_bus_message_new_method_call(f->bus, &m, FWD_NAME, FWD_PATH, FWD_ZONE_IFACE, member);
	if (r >= 0) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r < 0) {
		sd_bus_message_unref(m);
		set_err(err, errlen, "%s", strerror(-r));
		return r;
	}
	r = sd_bus_call(f->bus, m, FWD_TIMEOUT_USEC, &e, ret);
	if (r < 0)
		r = fwd_error(&e, r, err, errlen);
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	return r < 0 ? r : 0;
}

static void fwd_changed(struct fwd *f)
{
	if (f->on_change)
		f->on_change(f->cb_userdata);
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fwd *f = userdata;
	const char *name, *old_owner, *new_owner;

	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || strcmp(name, FWD_NAME))
		return 0;
	f->running = new_owner[0] != '\0';
	fwd_changed(f);
	return 0;
}

static int on_reloaded(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fwd *f = userdata;

	f->running = true;
	fwd_changed(f);
	return 0;
}

/* The bus went away (the bus daemon stopped): firewalld is gone for netd, as after a stop. The
 * connection stays closed: every call fails until close() and open() again. */
static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fwd *f = userdata;

	f->running = false;
	fwd_changed(f);
	return 0;
}

static int fwd_watch(struct fwd *f)
{
	int r;

	r = sd_bus_add_match(f->bus, &f->owner_slot, FWD_OWNER_MATCH, on_owner_changed, f);
	if (r < 0)
		return r;
	r = sd_bus_match_signal(f->bus, &f->reload_slot, FWD_NAME, FWD_PATH, FWD_NAME, "Reloaded",
				on_reloaded, f);
	if (r < 0)
		return r;
	return sd_bus_match_signal(f->bus, &f->disconnect_slot, "org.freedesktop.DBus.Local",
				   "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
				   "Disconnected", on_disconnected, f);
}

/* Asked after the matches are in place, so that a start in between is seen by one or the other. */
static int fwd_query_owner(struct fwd *f)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int has = 0, r;

	r = sd_bus_call_method(f->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "NameHasOwner", &e, &reply, "s", FWD_NAME);
	if (r >= 0)
		r = sd_bus_message_read(reply, "b", &has);
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	if (r < 0)
		return r;
	f->running = has;
	return 0;
}

static void fwd_close(void *userdata)
{
	struct fwd *f = userdata;

	f->owner_slot = sd_bus_slot_unref(f->owner_slot);
	f->reload_slot = sd_bus_slot_unref(f->reload_slot);
	f->disconnect_slot = sd_bus_slot_unref(f->disconnect_slot);
	if (f->bus)
		sd_bus_detach_event(f->bus);
	f->bus = sd_bus_flush_close_unref(f->bus);
	f->running = false;
}

/* Failures that mean there is no system bus to talk to: no socket, or nobody listening on it. */
static bool no_bus(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED || r == -ENOTCONN || r == -ECONNRESET;
}

static int fwd_connect(struct fwd *f, sd_event *e)
{
	int r;

	r = sd_bus_open_system(&f->bus);
	if (r < 0)
		return r;
	r = sd_bus_set_method_call_timeout(f->bus, FWD_TIMEOUT_USEC);
	if (r >= 0)
		r = sd_bus_attach_event(f->bus, e, SD_EVENT_PRIORITY_NORMAL);
	if (r >= 0)
		r = fwd_watch(f);
	if (r >= 0)
		r = fwd_query_owner(f);
	return r;
}

static int fwd_open(void *userdata, sd_event *e, void (*on_change)(void *cb_userdata), void *cb_userdata)
{
	struct fwd *f = userdata;
	int r;

	fwd_close(f);
	f->on_change = on_change;
	f->cb_userdata = cb_userdata;
	r = fwd_connect(f, e);
	if (r < 0)
		fwd_close(f);
	return r < 0 && !no_bus(r) ? r : 0;
}

static bool fwd_running(void *userdata)
{
	struct fwd *f = userdata;

	return f->bus && f->running;
}

static int fwd_has_zone(void *userdata, const char *zone)
{
	sd_bus_message *reply = NULL;
	const char *z;
	int r, found = 0;

	r = fwd_call(userdata, "getZones", &reply, NULL, 0, "");
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "s");
	while (r >= 0 && !found) {
		r = sd_bus_message_read(reply, "s", &z);
		if (r <= 0)
			break;
		found = !strcmp(z, zone);
	}
	sd_bus_message_unref(reply);
	return r < 0 ? r : found;
}

static int fwd_zone_of(void *userdata, const char *ifname, char *buf, size_t size, char *err, size_t errlen)
{
	sd_bus_message *reply = NULL;
	const char *z;
	int r;

	r = fwd_call(userdata, "getZoneOfInterface", &reply, err, errlen, "s", ifname);
	if (r >= 0)
		r = sd_bus_message_read(reply, "s", &z);
	if (r >= 0 && strlen(z) >= size) {
		set_err(err, errlen, "firewalld's zone name '%s' is too long", z);
		r = -ERANGE;
	} else if (r >= 0) {
		memcpy(buf, z, strlen(z) + 1);
	}
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

static int fwd_bind(void *userdata, const char *zone, const char *ifname, char *err, size_t errlen)
{
	sd_bus_message *reply = NULL;
	int r;

	log_debug("firewalld: bind %s to zone %s", ifname, zone);
	r = fwd_call(userdata, "changeZoneOfInterface", &reply, err, errlen, "ss", zone, ifname);
	sd_bus_message_unref(reply);
	return r;
}

/* Not in that zone: in none (UNKNOWN_INTERFACE), or in another one (ZONE_CONFLICT), where someone
 * else put it after netd; either way netd's binding is gone, and the other one is not netd's. */
static int fwd_unbind(void *userdata, const char *zone, const char *ifname, char *err, size_t errlen)
{
	sd_bus_message *reply = NULL;
	char text[256] = "";
	int r;

	log_debug("firewalld: unbind %s from zone %s", ifname, zone);
	r = fwd_call(userdata, "removeInterface", &reply, text, sizeof(text), "ss", zone, ifname);
	sd_bus_message_unref(reply);
	if (r < 0 && (has_code(text, "UNKNOWN_INTERFACE") || has_code(text, "ZONE_CONFLICT")))
		return 0;
	if (r < 0)
		set_err(err, errlen, "%s", text);
	return r;
}

static const struct firewalld_ops firewalld_dbus_ops = {
	.open = fwd_open,
	.close = fwd_close,
	.running = fwd_running,
	.has_zone = fwd_has_zone,
	.zone_of = fwd_zone_of,
	.bind = fwd_bind,
	.unbind = fwd_unbind,
};

int firewalld_dbus_new(struct firewalld_backend *ret)
{
	struct fwd *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	*ret = (struct firewalld_backend){ .ops = &firewalld_dbus_ops, .userdata = f };
	return 0;
}

void firewalld_dbus_free(struct firewalld_backend *b)
{
	if (!b || !b->userdata)
		return;
	fwd_close(b->userdata);
	free(b->userdata);
	b->userdata = NULL;
}
