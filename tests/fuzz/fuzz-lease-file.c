/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: dnsmasq's lease file (netd reads it at start and adoption; guests chose its
 * hostnames and client ids), and the same bytes as netd's lease6-macs record. */
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

/* Whatever a record holds (bad lines are skipped, a MAC's leases past the newest 8 left out, the
 * lines put in the renderer's order), what netd writes back parses without a bad line and renders
 * back byte for byte. */
static void lease_macs(const uint8_t *data, size_t size)
{
	struct dhcp_lease_table t, t2;
	char *again, *twice;
	size_t bad2 = 0;

	if (dhcp_lease_macs_parse((const char *)data, size, &t, NULL) < 0)
		return;
	again = dhcp_lease_macs_render(&t);
	if (!again)
		abort();
	if (dhcp_lease_macs_parse(again, strlen(again), &t2, &bad2) < 0 || bad2)
		abort();
	twice = dhcp_lease_macs_render(&t2);
	if (!twice || strcmp(twice, again))
		abort();
	free(twice);
	free(again);
	dhcp_lease_table_clear(&t2);
	dhcp_lease_table_clear(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_lease_table t;
	size_t bad;

	lease_macs(data, size);

	if (dhcp_lease_file_parse((const char *)data, size, &t, &bad) < 0)
		return 0;
	/* What reaches 'network leases' and a terminal: names are DNS labels, ids hex, one lease an address. */
	for (size_t i = 0; i < t.n; i++) {
		const struct dhcp_lease *l = &t.leases[i];

		if ((l->hostname[0] && dns_label_invalid_reason(l->hostname)) || !client_id_hex(l->client_id))
			abort();
		if ((l->family != AF_INET && l->family != AF_INET6) ||
		    (l->duid.len &&
		     (l->family != AF_INET6 || l->duid.len < DHCP_DUID_MIN || l->duid.len > DHCP_DUID_MAX)))
			abort();
		for (size_t j = 0; j < i; j++)
			if (l->family == t.leases[j].family &&
			    ip_addr_equal(l->family, &l->ip, &t.leases[j].ip))
				abort();
	}
	dhcp_lease_table_clear(&t);
	return 0;
}
