/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inifile.h"
#include "macro.h"

struct parse_ctx {
	struct network *net;
	struct inifile file;
	int err_line;
	char *err;
	size_t errlen;
	int r;
};

/* A parser that knows why a value is wrong says so in err (the message the CLI gives for it too). */
typedef int (*key_parser)(struct network *n, const char *value, char *err, size_t errlen);

static int parse_bool(const char *v, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (!strcmp(v, yes[i])) {
			*ret = true;
			return 0;
		}
		if (!strcmp(v, no[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_mode(struct network *n, const char *v, char *err, size_t errlen)
{
	const struct net_mode *m = net_mode_from_string(v);

	if (!m)
		return -EINVAL;
	n->mode = m;
	return 0;
}

static int parse_bridge(struct network *n, const char *v, char *err, size_t errlen)
{
	if (strlen(v) >= sizeof(n->bridge))
		return -ENAMETOOLONG;
	snprintf(n->bridge, sizeof(n->bridge), "%s", v);
	return 0;
}

static int parse_uplink(struct network *n, const char *v, char *err, size_t errlen)
{
	if (strlen(v) >= sizeof(n->uplink))
		return -ENAMETOOLONG;
	snprintf(n->uplink, sizeof(n->uplink), "%s", v);
	return 0;
}

static int parse_subnet(struct network *n, const char *v, char *err, size_t errlen)
{
	return ip_prefix_parse(v, &n->subnet);
}

static int parse_gateway(struct network *n, const char *v, char *err, size_t errlen)
{
	int family;
	int r = ip_addr_parse(v, &family, &n->gateway);

	if (r < 0)
		return r;
	if (family != AF_INET)
		return -EAFNOSUPPORT;
	n->has_gateway = true;
	return 0;
}

static int parse_mtu(struct network *n, const char *v, char *err, size_t errlen)
{
	char *end;
	unsigned long u;

	errno = 0;
	u = strtoul(v, &end, 10);
	if (errno || *end || !*v || v[0] == '-' || u > 65535)
		return -ERANGE;
	n->mtu = u;
	return 0;
}

static int parse_host_port(struct network *n, const char *v, char *err, size_t errlen)
{
	return network_host_port_add(n, v, err, errlen);
}

static int parse_autostart(struct network *n, const char *v, char *err, size_t errlen)
{
	return parse_bool(v, &n->autostart);
}

static int parse_mac(struct network *n, const char *v, char *err, size_t errlen)
{
	int r = mac_parse(v, &n->mac);

	if (r >= 0)
		n->has_mac = true;
	return r;
}

static int parse_dhcp_enabled(struct network *n, const char *v, char *err, size_t errlen)
{
	return parse_bool(v, &n->dhcp.dhcp);
}

static int parse_dns_enabled(struct network *n, const char *v, char *err, size_t errlen)
{
	return parse_bool(v, &n->dhcp.dns);
}

static int parse_range(struct network *n, const char *v, char *err, size_t errlen)
{
	if (n->dhcp.n_ranges >= DHCP_RANGES_MAX)
		return -E2BIG;
	if (dhcp_range_parse(v, &n->dhcp.ranges[n->dhcp.n_ranges], err, errlen) < 0)
		return -EINVAL;
	n->dhcp.n_ranges++;
	return 0;
}

static int parse_lease_time(struct network *n, const char *v, char *err, size_t errlen)
{
	return dhcp_lease_time_parse(v, &n->dhcp.lease_time, err, errlen);
}

static int parse_dhcp_host(struct network *n, const char *v, char *err, size_t errlen)
{
	struct dhcp_host h;
	char m[MAC_STRLEN];
	int r;

	if (dhcp_host_parse(v, &h, err, errlen) < 0)
		return -EINVAL;
	r = dhcp_host_add(&n->dhcp, &h);
	if (r == -EEXIST)
		snprintf(err, errlen, "host %s is reserved twice", mac_format(&h.mac, m, sizeof(m)));
	return r;
}

static int parse_domain(struct network *n, const char *v, char *err, size_t errlen)
{
	if (dhcp_domain_check(v, err, errlen) < 0)
		return -EINVAL;
	snprintf(n->dhcp.domain, sizeof(n->dhcp.domain), "%s", v);
	return 0;
}

static int parse_dns_host(struct network *n, const char *v, char *err, size_t errlen)
{
	struct dns_host h;

	if (dns_host_parse(v, &h, err, errlen) < 0)
		return -EINVAL;
	return dns_host_add(&n->dhcp, &h);
}

/* "range", "allow-host-port" and both "host" keys may repeat: each line adds one. */
static const struct {
	const char *section;
	const char *key;
	key_parser parse;
} network_keys[] = {
	{ "network", "mode", parse_mode },	 { "network", "bridge", parse_bridge },
	{ "network", "subnet", parse_subnet },	 { "network", "gateway", parse_gateway },
	{ "network", "mtu", parse_mtu },	 { "network", "autostart", parse_autostart },
	{ "network", "mac", parse_mac },	 { "network", "uplink", parse_uplink },
	{ "network", "allow-host-port", parse_host_port },
	{ "dhcp", "enabled", parse_dhcp_enabled },	 { "dhcp", "range", parse_range },
	{ "dhcp", "lease-time", parse_lease_time },	 { "dhcp", "host", parse_dhcp_host },
	{ "dns", "enabled", parse_dns_enabled },	 { "dns", "domain", parse_domain },
	{ "dns", "host", parse_dns_host },
};

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse_ctx *c = user;

	if (c->r < 0)
		return 1;
	c->err_line = c->file.line;
	for (size_t i = 0; i < ELEMENTSOF(network_keys); i++) {
		const char *why;
		char e[256];

		if (strcmp(section, network_keys[i].section) || strcmp(key, network_keys[i].key))
			continue;
		/* What netd writes reads back unchanged; a hand-written value is held to the same. */
		why = inifile_value_invalid_reason(value);
		c->err[0] = 0;
		c->r = why ? -EINVAL : network_keys[i].parse(c->net, value, c->err, c->errlen);
		if (c->r < 0 && !c->err[0])
			snprintf(c->err, c->errlen, "invalid value '%s' for '%s'%s%s",
				 text_escape(value, e, sizeof(e)), key, why ? ": " : "", why ?: "");
		return c->r >= 0;
	}
	c->r = -EINVAL;
	snprintf(c->err, c->errlen, "unknown key '%s' in section [%s]", key, section);
	return 0;
}

int config_network_parse(const char *name, const char *text, struct network *ret, char *err, size_t errlen)
{
	struct network n;
	char msg[256] = "";
	struct parse_ctx c = { .net = &n, .err = msg, .errlen = sizeof(msg) };
	int line;

	network_init(&n, name);
	line = inifile_parse(&c.file, text, handler, &c);
	if (line != 0) {
		bool value_error = c.r < 0 && c.err_line == line;

		if (c.file.too_long)
			snprintf(msg, sizeof(msg), "longer than %d characters", INIFILE_LINE_MAX);
		snprintf(err, errlen, "line %d: %s", line,
			 value_error || c.file.too_long ? msg : "syntax error");
		network_done(&n);
		return value_error ? c.r : -EINVAL;
	}
	network_fill_defaults(&n);
	*ret = n;
	return 0;
}

static void render_dhcp(FILE *f, const struct dhcp_settings *d)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], m[MAC_STRLEN], t[16];

	/* Sections with only defaults are left out: a plain network's file stays short. */
	if (!d->dhcp || d->n_ranges || d->lease_time || d->n_hosts)
		fprintf(f, "\n[dhcp]\n");
	if (!d->dhcp)
		fprintf(f, "enabled = no\n");
	for (size_t i = 0; i < d->n_ranges; i++)
		fprintf(f, "range = %s-%s\n", ip_addr_format(AF_INET, &d->ranges[i].start, a, sizeof(a)),
			ip_addr_format(AF_INET, &d->ranges[i].end, b, sizeof(b)));
	if (d->lease_time)
		fprintf(f, "lease-time = %s\n", dhcp_lease_time_format(d->lease_time, t, sizeof(t)));
	for (size_t i = 0; i < d->n_hosts; i++)
		fprintf(f, "host = %s,%s%s%s\n", mac_format(&d->hosts[i].mac, m, sizeof(m)),
			ip_addr_format(AF_INET, &d->hosts[i].ip, a, sizeof(a)), d->hosts[i].hostname[0] ? "," : "",
			d->hosts[i].hostname);
	if (!d->dns || d->domain[0] || d->n_dns_hosts)
		fprintf(f, "\n[dns]\n");
	if (!d->dns)
		fprintf(f, "enabled = no\n");
	if (d->domain[0])
		fprintf(f, "domain = %s\n", d->domain);
	for (size_t i = 0; i < d->n_dns_hosts; i++)
		fprintf(f, "host = %s,%s\n", ip_addr_format(AF_INET, &d->dns_hosts[i].ip, a, sizeof(a)),
			d->dns_hosts[i].hostname);
}

char *config_network_render(const struct network *n)
{
	char subnet[IP_PREFIX_STRLEN], gw[INET6_ADDRSTRLEN], m[MAC_STRLEN];
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	fprintf(f,
		"# netd network '%s'. Edit, then run 'netdctl reload' (or send SIGHUP to netd).\n"
		"[network]\n"
		"mode = %s\n"
		"bridge = %s\n",
		n->name, n->mode->name, n->bridge);
	/* A bridge-mode network has no addressing of its own: the LAN's DHCP server serves it. */
	if (n->subnet.family)
		fprintf(f, "subnet = %s\ngateway = %s\n", ip_prefix_format(&n->subnet, subnet, sizeof(subnet)),
			ip_addr_format(AF_INET, &n->gateway, gw, sizeof(gw)));
	if (n->uplink[0])
		fprintf(f, "uplink = %s\n", n->uplink);
	if (n->mtu)
		fprintf(f, "mtu = %u\n", n->mtu);
	for (size_t i = 0; i < n->n_host_ports; i++)
		fprintf(f, "allow-host-port = %s\n", l4_port_format(&n->host_ports[i], m, sizeof(m)));
	if (n->has_mac)
		fprintf(f, "mac = %s\n", mac_format(&n->mac, m, sizeof(m)));
	fprintf(f, "autostart = %s\n", n->autostart ? "yes" : "no");
	render_dhcp(f, &n->dhcp);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}
