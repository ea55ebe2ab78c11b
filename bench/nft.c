/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netd's ruleset for N NAT networks the way the daemon applies it (nat/render.c fw_render, then
 * nat/nft.c fw_nft_apply: libnftables, one transaction that replaces the table).
 * Usage: bench-nft N REPS   prints the milliseconds of each apply, one per line
 * Run inside a network namespace: it replaces "table inet netd" there.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firewall.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct fw_network *nets;
	struct fw_nft *f;
	char *script, *marker, err[512];
	int n, reps;

	if (argc != 3 || (n = atoi(argv[1])) <= 0 || n > 250) {
		fprintf(stderr, "usage: bench-nft N REPS (N <= 250)\n");
		return 2;
	}
	nets = calloc(n, sizeof(*nets));
	if (!nets)
		return 1;
	for (int i = 0; i < n; i++) {
		snprintf(nets[i].bridge, sizeof(nets[i].bridge), "nd-n%d", i);
		if (ip_prefix_parse("10.200.0.0/24", &nets[i].subnet) < 0)
			return 1;
		nets[i].subnet.addr.in.s_addr = htonl(0x0ac80000u | (uint32_t)i << 8);
		nets[i].mode = FW_NAT;
	}
	script = fw_render(nets, n, &marker);
	if (!script)
		return 1;
	reps = atoi(argv[2]);
	f = fw_nft_new();
	if (!f)
		return 1;
	for (int r = 0; r < reps; r++) {
		double t0 = now_ms();

		if (fw_nft_apply(f, script, err, sizeof(err)) < 0) {
			fprintf(stderr, "apply: %s\n", err);
			return 1;
		}
		printf("%.2f\n", now_ms() - t0);
	}
	fw_nft_free(f);
	free(script);
	free(marker);
	free(nets);
	return 0;
}
