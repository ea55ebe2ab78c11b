/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"

static uint16_t checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

int probe_open(int family, const char *ifname)
{
	int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	_cleanup_close_ int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);

	if (fd < 0)
		return negative_errno();
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname) + 1) < 0)
		return negative_errno();
	if (family == AF_INET6) {
		struct icmp6_filter filter;

		ICMP6_FILTER_SETBLOCKALL(&filter);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
		if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) < 0)
			return negative_errno();
	}
	return TAKE_FD(fd);
}

int probe_send(int fd, int family, const union in_addr_union *dst, int ifindex, uint16_t id, uint16_t seq)
{
	uint8_t pkt[64] = {};
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr *sa = (struct sockaddr *)&sin;
	socklen_t salen = sizeof(sin);

	/* Type, code, checksum, identifier, sequence: the same layout for both families. */
	pkt[0] = family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	pkt[4] = id >> 8;
	pkt[5] = id & 0xff;
	pkt[6] = seq >> 8;
	pkt[7] = seq & 0xff;
	memcpy(pkt + 8, "netd-uplink-verify", 18);
	if (family == AF_INET) {
		uint16_t sum = checksum(pkt, sizeof(pkt)); /* the kernel does ICMPv6's */
		memcpy(pkt + 2, &sum, 2);
		sin.sin_addr = dst->in;
	} else {
		sin6.sin6_addr = dst->in6;
		if (IN6_IS_ADDR_LINKLOCAL(&dst->in6))
			sin6.sin6_scope_id = ifindex;
		sa = (struct sockaddr *)&sin6;
		salen = sizeof(sin6);
	}
	if (sendto(fd, pkt, sizeof(pkt), 0, sa, salen) < 0)
		return negative_errno();
	return 0;
}

int probe_recv(int fd, int family, uint16_t id, union in_addr_union *ret_from)
{
	uint8_t buf[1500];
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
	const uint8_t *icmp = buf;
	size_t hdr = 0;

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : negative_errno();
	if (family == AF_INET) /* raw IPv4 sockets see the IP header */
		hdr = n >= 1 ? (buf[0] & 0x0f) * 4 : 0;
	if ((size_t)n < hdr + 8)
		return 0;
	icmp += hdr;
	if (icmp[0] != (family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY) || ((icmp[4] << 8) | icmp[5]) != id)
		return 0;
	if (family == AF_INET)
		ret_from->in = ((struct sockaddr_in *)&from)->sin_addr;
	else
		ret_from->in6 = ((struct sockaddr_in6 *)&from)->sin6_addr;
	return 1;
}
