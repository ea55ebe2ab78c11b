#!/usr/bin/env python3
# A router advertisement: send-ra.py IFNAME PREFIX (e.g. fd00:bad::) [--valid S] [--preferred S]
# [--router-lifetime S] [--mtu N] [--every S]. One RA to all nodes with PREFIX/64 for SLAAC (flags L
# and A); by default a hostile guest's: router lifetime 1800 s, valid 86400 s, preferred 14400 s.
# --every S sends one every S seconds until killed (a LAN router with short lifetimes).
import argparse
import socket
import struct
import time

ap = argparse.ArgumentParser()
ap.add_argument("ifname")
ap.add_argument("prefix")
ap.add_argument("--valid", type=int, default=86400)
ap.add_argument("--preferred", type=int, default=14400)
ap.add_argument("--router-lifetime", type=int, default=1800)
ap.add_argument("--mtu", type=int, default=0)
ap.add_argument("--every", type=float, default=0)
a = ap.parse_args()

ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, a.router_lifetime, 0, 0)
ra += struct.pack("!BBBBIII", 3, 4, 64, 0xC0, a.valid, a.preferred, 0) + socket.inet_pton(socket.AF_INET6, a.prefix)
if a.mtu:
    ra += struct.pack("!BBHI", 5, 1, 0, a.mtu)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.ifname.encode())
# The kernel fills in the ICMPv6 checksum of a raw ICMPv6 socket.
while True:
    s.sendto(ra, ("ff02::1", 0, 0, socket.if_nametoindex(a.ifname)))
    if not a.every:
        break
    time.sleep(a.every)
