/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: dnsmasq's lease file (netd reads it at start and adoption; guests chose its
 * hostnames and client ids). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool client_id_hex(const char *s)
{
	return strspn(s, "0123456789abcdefABCDEF:") == strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_lease_table t;
	size_t bad;

	if (dhcp_lease_file_parse((const char *)data, size, &t, &bad) < 0)
		return 0;
	/* What reaches 'network leases' and a terminal: names are DNS labels, ids hex, one lease an address. */
	for (size_t i = 0; i < t.n; i++) {
		const struct dhcp_lease *l = &t.leases[i];

		if ((l->hostname[0] && dns_label_invalid_reason(l->hostname)) || !client_id_hex(l->client_id))
			abort();
		for (size_t j = 0; j < i; j++)
			if (ip_addr_equal(AF_INET, &l->ip, &t.leases[j].ip))
				abort();
	}
	dhcp_lease_table_clear(&t);
	return 0;
}
