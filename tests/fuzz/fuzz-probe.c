/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: what the doctor's probe (dhcp/hostprobe-packet.c) reads off the bridge: a
 * datagram taken for a DHCPOFFER (anyone on the bridge sees the DISCOVER, its transaction and MAC:
 * the first 10 bytes of the input are those) and a DNS response to the gateway's query.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hostprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in_addr yiaddr, server;
	struct mac mac;
	uint8_t prefixlen;
	uint32_t xid;
	uint16_t id;

	if (size < 10)
		return 0;
	memcpy(mac.b, data, 6);
	memcpy(&xid, data + 4, 4);
	memcpy(&id, data + 8, 2);
	(void)probe_dhcp_offer_parse(data + 10, size - 10, &mac, xid, &yiaddr, &server, &prefixlen);
	(void)probe_dns_response_parse(data + 10, size - 10, id);
	return 0;
}
