/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a network definition file (/etc/netd/networks/NAME.conf), and the same bytes as
 * one value of one row of the network's schema table, through the file, a request and netdctl's
 * options (schema-walk.h). The same bytes as a resolv.conf: every line of the servers file netd
 * renders from it is "server=" and an address dnsmasq reads as one (dhcp_servers_render).
 */
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
