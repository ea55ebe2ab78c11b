/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Apply netd's port security table (nat/portsec.c, the very renderer netd uses) for ports given on
 * the command line, in the current network namespace. For the rules test and the benchmark,
 * which put namespaces behind veth ports instead of QEMU guests behind TAPs.
 *
 *   portsec-apply [--print] [IFNAME,MAC,LEVEL[,ADDR/LEN]...]...
 *
 * LEVEL is on, mac or off. No port: the table is removed. Exit 0 when applied, 1 on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall.h"
#include "macro.h"
#include "portsec.h"

static int port_parse(char *spec, struct ps_port *ret)
{
	char *save = NULL, *f = strtok_r(spec, ",", &save);
	struct ps_port p = {};

	if (!f || strlen(f) >= sizeof(p.ifname))
		return -1;
	strcpy(p.ifname, f);
	f = strtok_r(NULL, ",", &save);
	if (!f || mac_parse(f, &p.mac) < 0)
		return -1;
	f = strtok_r(NULL, ",", &save);
	p.level = ps_level_from_string(f);
	if (p.level < 0)
		return -1;
	while ((f = strtok_r(NULL, ",", &save))) {
		struct ip_prefix *a = reallocarray(p.addrs, p.n_addrs + 1, sizeof(*a));

		if (!a || ip_prefix_parse(f, &a[p.n_addrs]) < 0)
			return -1;
		p.addrs = a;
		p.n_addrs++;
	}
	*ret = p;
	return 0;
}

int main(int argc, char **argv)
{
	struct ps_port *ports = calloc(argc, sizeof(*ports));
	_cleanup_free_ char *script = NULL, *marker = NULL;
	bool print = argc > 1 && !strcmp(argv[1], "--print");
	char err[512];
	size_t n = 0;
	struct fw_nft *f;
	int r;

	for (int i = 1 + print; ports && i < argc; i++)
		if (port_parse(argv[i], &ports[n++]) < 0) {
			fprintf(stderr,
				"portsec-apply: bad port '%s': expected IFNAME,MAC,on|mac|off[,ADDR/LEN]...\n",
				argv[i]);
			return 2;
		}
	script = ports ? ps_render(ports, n, &marker) : NULL;
	if (!script)
		return 1;
	if (print) {
		fputs(script, stdout);
		return 0;
	}
	f = fw_nft_new();
	if (!f)
		return 1;
	r = fw_nft_apply(f, script, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "portsec-apply: %s\n", err);
	fw_nft_free(f);
	for (size_t i = 0; i < n; i++)
		free(ports[i].addrs);
	free(ports);
	return r < 0;
}
