/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Applies netd's table (nat/render.c) for the networks named on the command line, through the
 * backend netd uses, in the caller's network namespace: the netns tests' way to judge the rules
 * with real packets without netd's plumbing. No network: the table is removed.
 *
 *   fw-apply BRIDGE,MODE,SUBNET,SUBNET6[,nat6][,uplink=IFNAME]...
 *
 * MODE nat, routed, isolated or open; SUBNET and SUBNET6 a prefix or "none"; the gateways are the
 * prefixes' first addresses (x.x.x.1, ::1), as netd gives them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall.h"
#include "macro.h"

static int parse(char *spec, struct fw_network *ret)
{
	static const char *const modes[] = { [FW_ISOLATED] = "isolated",
					     [FW_ROUTED] = "routed",
					     [FW_NAT] = "nat",
					     [FW_OPEN] = "open" };
	char *f[6] = {}, *save = NULL;
	size_t n = 0;

	*ret = (struct fw_network){};
	for (char *t = strtok_r(spec, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == ELEMENTSOF(f))
			return -EINVAL;
		f[n++] = t;
	}
	if (n < 4 || strlen(f[0]) >= sizeof(ret->bridge))
		return -EINVAL;
	snprintf(ret->bridge, sizeof(ret->bridge), "%s", f[0]);
	ret->mode = ELEMENTSOF(modes);
	for (size_t m = 0; m < ELEMENTSOF(modes); m++)
		if (!strcmp(f[1], modes[m]))
			ret->mode = m;
	if (ret->mode == ELEMENTSOF(modes))
		return -EINVAL;
	if (strcmp(f[2], "none")) {
		if (ip_prefix_parse(f[2], &ret->subnet) < 0 || ret->subnet.family != AF_INET)
			return -EINVAL;
		ip_prefix_mask(&ret->subnet);
		ip_prefix_first_host(&ret->subnet, &ret->gateway);
	}
	if (strcmp(f[3], "none")) {
		if (ip_prefix_parse(f[3], &ret->subnet6) < 0 || ret->subnet6.family != AF_INET6)
			return -EINVAL;
		ip_prefix_mask(&ret->subnet6);
		ret->gateway6 = ret->subnet6.addr;
		ret->gateway6.bytes[15] |= 1;
	}
	for (size_t i = 4; i < n; i++) {
		if (!strcmp(f[i], "nat6"))
			ret->nat6 = true;
		else if (!strncmp(f[i], "uplink=", 7) && strlen(f[i] + 7) < sizeof(ret->uplink))
			snprintf(ret->uplink, sizeof(ret->uplink), "%s", f[i] + 7);
		else
			return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	_cleanup_free_ struct fw_network *nets = calloc(argc, sizeof(*nets));
	_cleanup_free_ char *marker = NULL, *script = NULL;
	struct fw_backend b;
	char err[512] = "";
	int r;

	if (!nets)
		return 1;
	for (int i = 1; i < argc; i++)
		if (parse(argv[i], &nets[i - 1]) < 0) {
			fprintf(stderr, "fw-apply: bad network '%s' (BRIDGE,MODE,SUBNET,SUBNET6[,nat6][,uplink=IF])\n",
				argv[i]);
			return 2;
		}
	script = fw_render(nets, argc - 1, &marker);
	if (!script) {
		fprintf(stderr, "fw-apply: cannot render the table (a prefix the renderer refuses?)\n");
		return 1;
	}
	if (getenv("FW_APPLY_PRINT"))
		fputs(script, stdout);
	if (fw_nft_open(&b) < 0) {
		fprintf(stderr, "fw-apply: no libnftables context\n");
		return 1;
	}
	r = b.ops->apply(b.userdata, script, err, sizeof(err));
	fw_backend_close(&b);
	if (r < 0) {
		fprintf(stderr, "fw-apply: cannot apply the table: %s\n", err);
		return 1;
	}
	return 0;
}
