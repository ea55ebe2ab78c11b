/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

struct parse_ctx {
	struct network *net;
	const char *next; /* the text not yet read */
	int line;	  /* number of the line last handed to inih */
	bool mid_line;	  /* the last read stopped inside an overlong line */
	int err_line;
	char *err;
	size_t errlen;
	int r;
};

/* inih's line reader, counting lines so that a value's error names its line. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	size_t len;

	if (!*c->next)
		return NULL;
	len = strcspn(c->next, "\n");
	if (c->next[len] == '\n')
		len++;
	if (len > (size_t)num - 1)
		len = num - 1;
	memcpy(str, c->next, len);
	str[len] = 0;
	c->next += len;
	if (!c->mid_line)
		c->line++;
	c->mid_line = str[len - 1] != '\n' && *c->next;
	return str;
}

typedef int (*key_parser)(struct network *n, const char *value);

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

static int parse_mode(struct network *n, const char *v)
{
	n->mode = network_mode_from_string(v);
	return n->mode < 0 ? -EINVAL : 0;
}

static int parse_bridge(struct network *n, const char *v)
{
	if (strlen(v) >= sizeof(n->bridge))
		return -ENAMETOOLONG;
	snprintf(n->bridge, sizeof(n->bridge), "%s", v);
	return 0;
}

static int parse_subnet(struct network *n, const char *v)
{
	return ip_prefix_parse(v, &n->subnet);
}

static int parse_gateway(struct network *n, const char *v)
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

static int parse_mtu(struct network *n, const char *v)
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

static int parse_autostart(struct network *n, const char *v)
{
	return parse_bool(v, &n->autostart);
}

static int parse_mac(struct network *n, const char *v)
{
	int r = mac_parse(v, &n->mac);

	if (r >= 0)
		n->has_mac = true;
	return r;
}

static const struct {
	const char *section;
	const char *key;
	key_parser parse;
} network_keys[] = {
	{ "network", "mode", parse_mode },	 { "network", "bridge", parse_bridge },
	{ "network", "subnet", parse_subnet },	 { "network", "gateway", parse_gateway },
	{ "network", "mtu", parse_mtu },	 { "network", "autostart", parse_autostart },
	{ "network", "mac", parse_mac },
};

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse_ctx *c = user;

	if (c->r < 0)
		return 1;
	c->err_line = c->line;
	for (size_t i = 0; i < ELEMENTSOF(network_keys); i++) {
		if (strcmp(section, network_keys[i].section) || strcmp(key, network_keys[i].key))
			continue;
		c->r = network_keys[i].parse(c->net, value);
		if (c->r < 0)
			snprintf(c->err, c->errlen, "invalid value '%s' for '%s'", value, key);
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
	struct parse_ctx c = { .net = &n, .next = text, .err = msg, .errlen = sizeof(msg) };
	int line;

	/* Continuation lines would let a value span lines; a definition never needs that. */
	ini_allow_multiline = false;
	network_init(&n, name);
	line = ini_parse_stream(read_line, &c, handler, &c);
	if (line != 0) {
		bool value_error = c.r < 0 && c.err_line == line;

		snprintf(err, errlen, "line %d: %s", line, value_error ? msg : "syntax error");
		return value_error ? c.r : -EINVAL;
	}
	network_fill_defaults(&n);
	*ret = n;
	return 0;
}

char *config_network_render(const struct network *n)
{
	char subnet[IP_PREFIX_STRLEN], gw[INET6_ADDRSTRLEN], mtu[32] = "", mac[64] = "", m[MAC_STRLEN];
	char *s;

	if (n->mtu)
		snprintf(mtu, sizeof(mtu), "mtu = %u\n", n->mtu);
	if (n->has_mac)
		snprintf(mac, sizeof(mac), "mac = %s\n", mac_format(&n->mac, m, sizeof(m)));
	char addressing[128] = "";

	/* A bridge-mode network has no addressing of its own: the LAN's DHCP server serves it. */
	if (n->subnet.family)
		snprintf(addressing, sizeof(addressing), "subnet = %s\ngateway = %s\n",
			 ip_prefix_format(&n->subnet, subnet, sizeof(subnet)),
			 ip_addr_format(AF_INET, &n->gateway, gw, sizeof(gw)));
	if (asprintf(&s,
		     "# netd network '%s'. Edit, then run 'netdctl reload' (or send SIGHUP to netd).\n"
		     "[network]\n"
		     "mode = %s\n"
		     "bridge = %s\n"
		     "%s"
		     "%s"
		     "%s"
		     "autostart = %s\n",
		     n->name, network_mode_to_string(n->mode), n->bridge, addressing, mtu, mac,
		     n->autostart ? "yes" : "no") < 0)
		return NULL;
	return s;
}
