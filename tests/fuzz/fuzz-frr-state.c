/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: what vtysh prints for netd's status poll (FRR's JSON is outside input). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frr-state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frr_state s = {};

	(void)frr_state_parse((const char *)data, size, &s);
	if (s.n_peers > FRR_STATE_PEERS_MAX || s.n_vnis > FRR_STATE_VNIS_MAX)
		abort();
	for (size_t i = 0; i < s.n_peers; i++)
		if (!s.peers[i].state[0] || strlen(s.peers[i].state) >= sizeof(s.peers[i].state))
			abort();
	for (size_t i = 0; i < s.n_vnis; i++)
		if (s.vnis[i].vni < 1 || s.vnis[i].vni > 16777215 ||
		    s.vnis[i].n_vteps > FRR_STATE_VTEPS_MAX || (i && s.vnis[i - 1].vni > s.vnis[i].vni))
			abort();
	frr_state_clear(&s);
	(void)frr_state_parse_summary((const char *)data, size, &s);
	frr_state_clear(&s);
	return 0;
}
