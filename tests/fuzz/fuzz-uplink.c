/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the files of an uplink conversion in <state>/uplinks/BR, which a restarted
 * netd reads to roll back or rebuild: the first byte chooses the parser ('s' snapshot, 't'
 * state, 'a' dhcp-argv, 'c' the confirmed conversion's <config>/uplinks/BR.conf), the rest is the
 * file. Whatever parses must render to a text that parses back to the same value. 'w': the rest is
 * one value of one row of the uplink's schema table, through the file, a request and netdctl's
 * options (schema-walk.h). 'n': a NetworkManager keyfile, the port's profile: what netd renders
 * from it (the bridge's, the port's and the old one without autoconnect) reads back as a keyfile
 * NetworkManager loads, with the values meant.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "manager.h"
#include "mgr-nm.h"
#include "schema-kinds.h"
#include "uplink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool addr_equal(int family, const union in_addr_union *a, const union in_addr_union *b)
{
	return family == AF_UNSPEC || ip_addr_equal(family, a, b);
}

static bool prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return a->family == b->family && a->len == b->len && addr_equal(a->family, &a->addr, &b->addr);
}

static bool route_equal(const struct route_info *a, const struct route_info *b)
{
	return a->ifindex == b->ifindex && a->table == b->table && a->type == b->type &&
	       a->protocol == b->protocol && prefix_equal(&a->dst, &b->dst) && a->gw_family == b->gw_family &&
	       addr_equal(a->gw_family, &a->gw, &b->gw) && a->scope == b->scope && a->flags == b->flags &&
	       a->priority == b->priority && a->prefsrc_family == b->prefsrc_family &&
	       addr_equal(a->prefsrc_family, &a->prefsrc, &b->prefsrc) && a->pref == b->pref &&
	       a->metrics_len == b->metrics_len && !memcmp(a->metrics, b->metrics, a->metrics_len) &&
	       a->expires == b->expires;
}

static bool addr_info_equal(const struct addr_info *x, const struct addr_info *y)
{
	return x->ifindex == y->ifindex && prefix_equal(&x->prefix, &y->prefix) && x->scope == y->scope &&
	       x->flags == y->flags && x->valid_lft == y->valid_lft && x->preferred_lft == y->preferred_lft &&
	       x->peer_family == y->peer_family && addr_equal(x->peer_family, &x->peer, &y->peer) &&
	       x->broadcast_family == y->broadcast_family &&
	       addr_equal(x->broadcast_family, &x->broadcast, &y->broadcast) && !strcmp(x->label, y->label) &&
	       x->rt_priority == y->rt_priority && x->proto == y->proto;
}

static bool neigh_equal(const struct neigh_info *x, const struct neigh_info *y)
{
	return x->ifindex == y->ifindex && x->family == y->family &&
	       addr_equal(x->family, &x->dst, &y->dst) && x->has_lladdr == y->has_lladdr &&
	       (!x->has_lladdr || !memcmp(&x->lladdr, &y->lladdr, sizeof(x->lladdr))) &&
	       x->state == y->state && x->flags == y->flags && x->protocol == y->protocol;
}

static bool snapshot_equal(const struct convert_snapshot *a, const struct convert_snapshot *b)
{
	if (strcmp(a->port, b->port) || strcmp(a->bridge, b->bridge) ||
	    memcmp(&a->mac, &b->mac, sizeof(a->mac)) || a->mtu != b->mtu || a->n_addrs != b->n_addrs ||
	    a->n_routes != b->n_routes || a->n_neighs != b->n_neighs)
		return false;
	for (int i = 0; i < _CONVERT_SYSCTL_MAX; i++)
		if (strcmp(a->sysctl[i], b->sysctl[i]))
			return false;
	for (size_t i = 0; i < a->n_addrs; i++)
		if (!addr_info_equal(&a->addrs[i], &b->addrs[i]))
			return false;
	for (size_t i = 0; i < a->n_neighs; i++)
		if (!neigh_equal(&a->neighs[i], &b->neighs[i]))
			return false;
	for (size_t i = 0; i < a->n_routes; i++)
		if (!route_equal(&a->routes[i], &b->routes[i]))
			return false;
	return true;
}

static void fuzz_snapshot(const char *text)
{
	struct convert_snapshot s, again;
	char *rendered;

	if (convert_snapshot_parse(text, &s) < 0)
		return;
	rendered = convert_snapshot_format(&s);
	if (!rendered || convert_snapshot_parse(rendered, &again) < 0)
		abort();
	if (!snapshot_equal(&s, &again))
		abort();
	free(rendered);
	convert_snapshot_free(&s);
	convert_snapshot_free(&again);
}

static void fuzz_state(const char *text)
{
	struct uplink_state_file s, again;
	char rendered[256];

	if (uplink_state_parse(text, &s) < 0)
		return;
	if (uplink_state_format(&s, rendered, sizeof(rendered)) < 0 ||
	    uplink_state_parse(rendered, &again) < 0)
		abort();
	if (s.state != again.state || strcmp(s.port, again.port) ||
	    s.bridge_client_pid != again.bridge_client_pid)
		abort();
}

static void fuzz_dhcp_argv(const char *data, size_t size)
{
	static struct manager m, again;
	static char rendered[sizeof(MANAGER_CLIENT_MAGIC) + PATH_MAX + MANAGER_ARGV_MAX];
	size_t len;

	if (manager_client_parse(data, size, &m) < 0)
		return;
	/* One way to write each value: the file is what netd wrote, byte for byte. */
	if (manager_client_format(&m, rendered, sizeof(rendered), &len) < 0 || len != size ||
	    memcmp(rendered, data, size))
		abort();
	if (manager_client_parse(rendered, len, &again) < 0 || strcmp(m.exe, again.exe) ||
	    m.argv_len != again.argv_len || memcmp(m.argv, again.argv, m.argv_len))
		abort();
}

static void fuzz_config(const char *text)
{
	struct uplink_def u, again;
	char err[SCHEMA_MSG_MAX], *rendered;

	if (uplink_config_parse(text, &u, err, sizeof(err)) < 0)
		return;
	rendered = uplink_config_render(&u);
	if (!rendered || uplink_config_parse(rendered, &again, err, sizeof(err)) < 0 || strcmp(u.port, again.port) ||
	    strcmp(u.bridge, again.bridge))
		abort();
	free(rendered);
	walk_roundtrip(&uplink_kind, &u);
}

/* Every key of group in a keyfile has the same value in b, but skip. */
static void same_values(const char *a, const char *b, const char *group, const char *skip)
{
	char key[128], va[4096], vb[4096];

	for (const char *p = a; *p; p = *strchrnul(p, '\n') ? strchrnul(p, '\n') + 1 : strchrnul(p, '\n')) {
		size_t n = strcspn(p, "=\n");

		while (n && p[n - 1] == ' ')
			n--;
		if (n == 0 || n >= sizeof(key) || p[n] == '\n')
			continue;
		memcpy(key, p, n);
		key[n] = 0;
		if ((skip && !strcmp(key, skip)) || nm_keyfile_get(a, group, key, va, sizeof(va)) < 0)
			continue;
		if (nm_keyfile_get(b, group, key, vb, sizeof(vb)) < 0 || strcmp(va, vb))
			abort();
	}
}

static void fuzz_nm_keyfile(const char *text)
{
	static const struct nm_names n = {
		.port = "eth0",
		.bridge = "br0",
		.bridge_uuid = "0b2a3c4d-1111-4222-8333-444455556666",
		.port_uuid = "7e8f9a0b-1111-4222-8333-444455556666",
		.metric = "100",
	};
	char *br = NULL, *port = NULL, *off = NULL, v[64];

	if (nm_profile_invalid_reason(text))
		return;
	if (nm_render_bridge(&n, text, &br) < 0 || nm_render_port(&n, text, &port) < 0 ||
	    nm_render_no_autoconnect(text, &off) < 0)
		abort();
	/* Each is a keyfile NetworkManager reads, with netd's identity lines as meant. */
	if (nm_keyfile_get(br, "connection", "uuid", v, sizeof(v)) < 0 || strcmp(v, n.bridge_uuid) ||
	    nm_keyfile_get(br, "connection", "type", v, sizeof(v)) < 0 || strcmp(v, "bridge") ||
	    nm_keyfile_get(br, "connection", "interface-name", v, sizeof(v)) < 0 || strcmp(v, "br0") ||
	    nm_keyfile_get(port, "connection", "uuid", v, sizeof(v)) < 0 || strcmp(v, n.port_uuid) ||
	    nm_keyfile_get(port, "connection", "master", v, sizeof(v)) < 0 || strcmp(v, "br0") ||
	    nm_keyfile_get(off, "connection", "autoconnect", v, sizeof(v)) < 0 || strcmp(v, "false"))
		abort();
	/* The port's IP configuration is the bridge's; its link settings the port's. */
	same_values(text, br, "ipv4", "route-metric");
	same_values(text, br, "ipv6", "route-metric");
	same_values(text, port, "ethernet", NULL);
	same_values(text, off, "ipv4", NULL);
	free(br);
	free(port);
	free(off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	if (data[0] == 'a') {
		fuzz_dhcp_argv((const char *)data + 1, size - 1);
		return 0;
	}
	if (data[0] == 'w') {
		walk_value(&uplink_kind, data + 1, size - 1);
		return 0;
	}
	/* The text files are read as C strings: cut at the first NUL like the loader does. */
	text = strndup((const char *)data + 1, size - 1);
	if (!text)
		return 0;
	if (data[0] == 's')
		fuzz_snapshot(text);
	else if (data[0] == 't')
		fuzz_state(text);
	else if (data[0] == 'c')
		fuzz_config(text);
	else if (data[0] == 'n')
		fuzz_nm_keyfile(text);
	free(text);
	return 0;
}
