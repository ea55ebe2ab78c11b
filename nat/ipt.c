/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>

#include "ipt.h"
#include "macro.h"
#include "names.h"

#define IPT_TAG "netd:"

static const char *const manager_names[_IPT_MANAGER_MAX] = {
	[IPT_DOCKER] = "docker",
	[IPT_UFW] = "ufw",
};

static const char *const manager_labels[_IPT_MANAGER_MAX] = {
	[IPT_DOCKER] = "Docker",
	[IPT_UFW] = "ufw",
};

const char *ipt_manager_to_string(enum ipt_manager m)
{
	return m < _IPT_MANAGER_MAX ? manager_names[m] : NULL;
}

const char *ipt_manager_label(enum ipt_manager m)
{
	return m < _IPT_MANAGER_MAX ? manager_labels[m] : NULL;
}

const char *ipt_manager_chain(enum ipt_manager m, int family)
{
	if (m == IPT_DOCKER)
		return "DOCKER-USER";
	return family == AF_INET6 ? "ufw6-user-input" : "ufw-user-input";
}

size_t ipt_manager_rules(enum ipt_manager m, int family, struct ipt_rule ret[static IPT_RULES_MAX])
{
	bool v6 = family == AF_INET6;

	if (m == IPT_DOCKER) {
		ret[0] = (struct ipt_rule){ "DOCKER-USER", false, "docker0", true };
		ret[1] = (struct ipt_rule){ "DOCKER-USER", false, "br-+", true };
		ret[2] = (struct ipt_rule){ "DOCKER-USER", false, NULL, false };
		ret[3] = (struct ipt_rule){ "DOCKER-USER", true, NULL, false };
		return 4;
	}
	ret[0] = (struct ipt_rule){ v6 ? "ufw6-user-input" : "ufw-user-input", false, NULL, false };
	ret[1] = (struct ipt_rule){ v6 ? "ufw6-user-forward" : "ufw-user-forward", false, NULL, false };
	ret[2] = (struct ipt_rule){ v6 ? "ufw6-user-forward" : "ufw-user-forward", true, NULL, false };
	return 3;
}

int ipt_rule_line(const struct ipt_rule *r, const char *bridge, bool tagged, char *buf, size_t size)
{
	char oif[IFNAMSIZ + 4] = "";
	int n;

	/* Interface names are letters, digits, '-', '_' and '.': nothing iptables would read apart. */
	if (!ifname_valid(bridge))
		return -EINVAL;
	if (r->oif && !r->out)
		snprintf(oif, sizeof(oif), " -o %s", r->oif);
	n = snprintf(buf, size, "-A %s %s %s%s%s%s -j %s", r->chain, r->out ? "-o" : "-i", bridge, oif,
		     tagged ? " -m comment --comment " IPT_TAG : "", tagged ? bridge : "",
		     r->ret ? "RETURN" : "ACCEPT");
	return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

/* iptables -S prints a comment in quotes (--comment "netd:nd-x"); one without blanks, quotes or
 * backslashes is kept without them, as netd writes it. */
static void comment_unquote(char *line)
{
	char *c = strstr(line, " --comment \""), *v, *end;

	if (!c)
		return;
	v = c + strlen(" --comment \"");
	end = v + strcspn(v, "\" \\");
	if (*end != '"' || end == v)
		return;
	memmove(v - 1, v, end - v);
	memmove(end - 1, end + 1, strlen(end + 1) + 1);
}

int ipt_listing_parse(const char *text, struct ipt_listing *ret)
{
	struct ipt_listing l = {};
	size_t cap = 1;
	char *p;

	l.text = strdup(text ? text : "");
	if (!l.text)
		return -ENOMEM;
	for (p = l.text; *p; p++)
		cap += *p == '\n';
	l.lines = calloc(cap, sizeof(*l.lines));
	if (!l.lines) {
		free(l.text);
		return -ENOMEM;
	}
	for (p = l.text; p && *p;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = 0;
		if (*p) {
			comment_unquote(p);
			l.lines[l.n++] = p;
		}
		p = nl ? nl + 1 : NULL;
	}
	*ret = l;
	return 0;
}

void ipt_listing_done(struct ipt_listing *l)
{
	free(l->text);
	free(l->lines);
	*l = (struct ipt_listing){};
}

bool ipt_listing_has(const struct ipt_listing *l, const char *line)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->lines[i], line))
			return true;
	return false;
}

/* The word after prefix ("-N ", "-P ") in line, when it is chain. */
static bool line_names(const char *line, const char *prefix, const char *chain)
{
	size_t n = strlen(prefix), c = strlen(chain);

	return !strncmp(line, prefix, n) && !strncmp(line + n, chain, c) &&
	       (line[n + c] == ' ' || line[n + c] == 0);
}

bool ipt_listing_has_chain(const struct ipt_listing *l, const char *chain)
{
	for (size_t i = 0; i < l->n; i++)
		if (line_names(l->lines[i], "-N ", chain) || line_names(l->lines[i], "-P ", chain))
			return true;
	return false;
}

const char *ipt_listing_policy(const struct ipt_listing *l, const char *chain, char *buf, size_t size)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *p = l->lines[i] + 3 + strlen(chain);

		/* "-P CHAIN POLICY"; a line that ends at the chain has no policy (fuzz-ipt) */
		if (line_names(l->lines[i], "-P ", chain) && *p == ' ' && p[1]) {
			snprintf(buf, size, "%s", p + 1);
			return buf;
		}
	}
	return NULL;
}

bool ipt_listing_has_rule(const struct ipt_listing *l, const struct ipt_rule *r, const char *bridge)
{
	char line[160];

	for (int tagged = 0; tagged < 2; tagged++)
		if (ipt_rule_line(r, bridge, tagged, line, sizeof(line)) >= 0 && ipt_listing_has(l, line))
			return true;
	return false;
}

unsigned ipt_insert_position(const struct ipt_listing *l, const char *chain, const char *bridge)
{
	char prefix[96], tag[IFNAMSIZ];
	unsigned n = 0;
	bool last_return = false;

	snprintf(prefix, sizeof(prefix), "-A %s ", chain);
	for (size_t i = 0; i < l->n; i++) {
		const char *br = ipt_line_tagged_bridge(l->lines[i], tag, sizeof(tag));

		if (strncmp(l->lines[i], prefix, strlen(prefix)) || (br && !strcmp(br, bridge)))
			continue;
		n++;
		last_return = !strcmp(l->lines[i] + strlen(prefix), "-j RETURN");
	}
	return last_return ? n : n + 1;
}

const char *ipt_line_tagged_bridge(const char *line, char *buf, size_t size)
{
	const char *c = strstr(line, " -m comment --comment " IPT_TAG);
	size_t n;

	if (strncmp(line, "-A ", 3) || !c)
		return NULL;
	c += strlen(" -m comment --comment " IPT_TAG);
	n = strcspn(c, " ");
	if (!n || n >= size)
		return NULL;
	memcpy(buf, c, n);
	buf[n] = 0;
	return ifname_valid(buf) ? buf : NULL;
}
