/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a network definition file (/etc/netd/networks/NAME.conf), and the same bytes as
 * one value of one row of the network's schema table, through the file, a request and netdctl's
 * options (schema-walk.h). The same bytes as a resolv.conf: every line of the servers file netd
 * renders from it is "server=" and an address dnsmasq reads as one (dhcp_servers_render). A good
 * definition's dnsmasq config holds one option a line, quotes only around a TXT text that reads
 * back as given.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "dhcp.h"
#include "names.h"
#include "network.h"
#include "schema-kinds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void servers(const char *resolv)
{
	char *out = NULL, *line, *save = NULL;

	if (dhcp_servers_render(resolv, &out) < 0)
		return;
	line = strtok_r(out, "\n", &save);
	if (!line || line[0] != '#')
		abort();
	while ((line = strtok_r(NULL, "\n", &save))) {
		union in_addr_union a;
		char *scope;
		int family;

		if (strncmp(line, "server=", 7))
			abort();
		scope = strchr(line + 7, '%');
		if (scope)
			*scope = 0;
		if (ip_addr_parse(line + 7, &family, &a) < 0 ||
		    (scope && (family != AF_INET6 || !ifname_valid(scope + 1))))
			abort();
	}
	free(out);
}

/* A TXT record's text as dnsmasq's config reader takes it back from its quotes; NULL if it would not. */
static char *unquote(const char *q)
{
	size_t n = strlen(q), k = 0;
	char *out;

	if (n < 2 || q[0] != '"' || q[n - 1] != '"' || !(out = malloc(n)))
		return NULL;
	for (size_t i = 1; i < n - 1; i++) {
		if (q[i] == '"')
			return free(out), NULL;
		if (q[i] == '\\' && (q[i + 1] == '\\' || q[i + 1] == '"') && i + 1 < n - 1)
			i++;
		out[k++] = q[i];
	}
	out[k] = 0;
	return out;
}

/* Whether line is one of the definition's raw [dnsmasq] options. */
static bool raw_option(const struct dns_config *c, const char *line)
{
	for (size_t i = 0; i < c->n_opts; i++)
		if (!strcmp(c->opts[i].text, line))
			return true;
	return false;
}

/* dnsmasq's config of a good definition: one option a line, no control character, a quote only
 * around a TXT record's text, which reads back as the text given (dhcp/render.c). */
static void dnsmasq_conf(const struct network *n)
{
	struct dhcp_render_ctx ctx = {
		.network = n->name,
		.bridge = n->bridge,
		.bridge_ifindex = 3,
		.subnet = n->subnet,
		.gateway = n->gateway,
		.addresses = n->addresses,
		.n_addresses = n->n_addresses,
		.router = n->dhcp_router,
		.dns_forward = n->dhcp_router,
		.subnet6 = n->subnet6,
		.gateway6 = n->gateway6,
		.ipv6_mode = network_dhcp_ipv6_mode(n),
		.ra_router = n->dhcp_router,
		.mtu = n->mtu,
		.lease_file = "/l",
		.hosts_file = "/h",
		.addn_hosts_file = "/a",
		.servers_file = "/s",
	};
	char *text = NULL, *line, *save = NULL;
	size_t txt = 0;

	if (dhcp_config_render(&n->dhcp, &ctx, &text) < 0)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		for (const char *p = line; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
		if (raw_option(&n->dhcp.dnscfg, line)) { /* passed on as written: it may be a txt-record= */
			if (strchr(line, '"'))
				abort();
			continue;
		}
		if (!strncmp(line, "txt-record=", 11)) {
			const char *comma = strchr(line, ',');
			char *t = comma ? unquote(comma + 1) : NULL;

			if (!t || txt >= n->dhcp.dnscfg.n_txt || strcmp(t, n->dhcp.dnscfg.txt[txt++].text))
				abort();
			free(t);
		} else if (strchr(line, '"')) {
			abort();
		}
	}
	if (txt != n->dhcp.dnscfg.n_txt && n->dhcp.dns)
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct network net, again;
	char err[512], *text, *rendered;
	int r;

	walk_value(&network_kind, data, size);
	/* Files are read as C strings: cut at the first NUL like the loader does. */
	text = strndup((const char *)data, size);
	if (!text)
		return 0;
	servers(text);
	r = config_network_parse("fuzz", text, &net, err, sizeof(err));
	free(text);
	if (r < 0)
		return 0;
	walk_roundtrip(&network_kind, &net);
	if (network_validate(&net, err, sizeof(err)) < 0) {
		network_done(&net);
		return 0;
	}
	dnsmasq_conf(&net);
	rendered = config_network_render(&net);
	/* What netd writes must read back as the same definition, and be written the same again. */
	if (rendered && (config_network_parse("fuzz", rendered, &again, err, sizeof(err)) < 0 ||
			 !network_equal(&net, &again)))
		abort();
	if (rendered) {
		char *twice = config_network_render(&again);

		if (twice && strcmp(rendered, twice))
			abort();
		free(twice);
		network_done(&again);
	}
	free(rendered);
	network_done(&net);
	return 0;
}
