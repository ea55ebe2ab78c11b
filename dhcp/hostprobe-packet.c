/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The doctor's probe packets (hostprobe.h): a DHCPDISCOVER as a whole IPv4/UDP datagram and its OFFER,
 * a DNS query and its response. Pure. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "hostprobe.h"

#define IP_HDR 20
#define UDP_HDR 8
#define BOOTP_FIXED 236 /* op .. file */
#define DHCP_MAGIC 0x63825363u
#define DHCP_OPT_MASK 1
#define DHCP_OPT_MSGTYPE 53
#define DHCP_OPT_SERVER 54
#define DHCP_OPT_PARAMS 55
#define DHCP_OPT_END 255
#define DHCP_DISCOVER 1
#define DHCP_OFFER 2

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t probe_dhcp_discover(uint8_t *buf, size_t size, const struct mac *mac, uint32_t xid)
{
	uint8_t *ip = buf, *udp = buf + IP_HDR, *b = udp + UDP_HDR, *o = b + BOOTP_FIXED;
	size_t len;

	if (size < PROBE_DHCP_MAX)
		return 0;
	memset(buf, 0, PROBE_DHCP_MAX);
	b[0] = 1; /* BOOTREQUEST */
	b[1] = 1; /* Ethernet */
	b[2] = 6;
	put32(b + 4, xid);
	put16(b + 10, 0x8000); /* broadcast: the OFFER must reach a client without an address */
	memcpy(b + 28, mac->b, 6);
	put32(o, DHCP_MAGIC);
	o += 4;
	*o++ = DHCP_OPT_MSGTYPE;
	*o++ = 1;
	*o++ = DHCP_DISCOVER;
	*o++ = DHCP_OPT_PARAMS;
	*o++ = 2;
	*o++ = DHCP_OPT_MASK;
	*o++ = 3; /* router */
	*o++ = DHCP_OPT_END;
	len = (size_t)(o - buf);
	if (len < IP_HDR + UDP_HDR + 300) /* BOOTP's minimum, which some servers insist on */
		len = IP_HDR + UDP_HDR + 300;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)len);
	ip[8] = 64; /* TTL */
	ip[9] = IPPROTO_UDP;
	memset(ip + 16, 0xff, 4); /* 0.0.0.0 -> 255.255.255.255 */
	put16(ip + 10, ip_checksum(ip, IP_HDR));
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, (uint16_t)(len - IP_HDR));
	/* UDP checksum 0: none (allowed over IPv4) */
	return len;
}

int probe_dhcp_offer_parse(const uint8_t *buf, size_t len, const struct mac *mac, uint32_t xid,
			   struct in_addr *ret_yiaddr, struct in_addr *ret_server, uint8_t *ret_prefixlen)
{
	const uint8_t *udp, *b, *o, *end;
	size_t ihl;
	int type = 0;
	uint32_t server = 0, mask = 0;

	if (len < IP_HDR || (buf[0] >> 4) != 4)
		return -EINVAL;
	ihl = (size_t)(buf[0] & 0xf) * 4;
	if (ihl < IP_HDR || buf[9] != IPPROTO_UDP || len < ihl + UDP_HDR)
		return -EINVAL;
	if (get16(buf + 2) < len)
		len = get16(buf + 2);
	udp = buf + ihl;
	if (get16(udp + 2) != 68 || len < ihl + UDP_HDR + BOOTP_FIXED + 4)
		return -EINVAL;
	b = udp + UDP_HDR;
	if (b[0] != 2 || get32(b + 4) != xid || memcmp(b + 28, mac->b, 6) ||
	    get32(b + BOOTP_FIXED) != DHCP_MAGIC)
		return -EINVAL;
	end = buf + len;
	for (o = b + BOOTP_FIXED + 4; o < end && *o != DHCP_OPT_END;) {
		uint8_t code = *o++, olen;

		if (code == 0)
			continue;
		if (o >= end)
			return -EINVAL;
		olen = *o++;
		if (o + olen > end)
			return -EINVAL;
		if (code == DHCP_OPT_MSGTYPE && olen == 1)
			type = o[0];
		else if (code == DHCP_OPT_SERVER && olen == 4)
			server = get32(o);
		else if (code == DHCP_OPT_MASK && olen == 4)
			mask = get32(o);
		o += olen;
	}
	if (type != DHCP_OFFER)
		return -EINVAL;
	ret_yiaddr->s_addr = htonl(get32(b + 16));
	ret_server->s_addr = htonl(server);
	*ret_prefixlen = 0;
	for (; mask & 0x80000000u; mask <<= 1)
		(*ret_prefixlen)++;
	return 0;
}

size_t probe_dns_query(uint8_t *buf, size_t size, uint16_t id, const char *name)
{
	size_t len = 12;

	if (size < 12 + strlen(name) + 2 + 4)
		return 0;
	memset(buf, 0, 12);
	put16(buf, id);
	buf[2] = 0x01; /* RD */
	put16(buf + 4, 1); /* one question */
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, ".");

		if (n == 0 || n > 63)
			return 0;
		buf[len++] = (uint8_t)n;
		memcpy(buf + len, p, n);
		len += n;
		p += n + (p[n] == '.');
	}
	buf[len++] = 0;
	put16(buf + len, 16); /* TXT */
	put16(buf + len + 2, 3); /* CHAOS */
	return len + 4;
}

int probe_dns_response_parse(const uint8_t *buf, size_t len, uint16_t id)
{
	if (len < 12 || get16(buf) != id || !(buf[2] & 0x80))
		return -EINVAL;
	return buf[3] & 0xf;
}
