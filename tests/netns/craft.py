#!/usr/bin/env python3
# Hand-made packets a hostile guest sends, for the port security tests:
#   craft.py udp-to-mac IFNAME DST_MAC SRC_IP DST_IP DPORT   an IPv4/UDP datagram in a frame to DST_MAC
#   craft.py dhcp-release IFNAME CHADDR CIADDR SERVER        a DHCPRELEASE for someone else's lease
#   craft.py na IFNAME TARGET                                an unsolicited neighbour advertisement
#                                                            claiming TARGET (override) for our MAC
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def mac_bytes(m):
    return bytes.fromhex(m.replace(":", ""))


def udp_to_mac(ifname, dst_mac, src, dst, dport):
    payload = b"netd-test"
    udp = struct.pack("!HHHH", 40000, int(dport), 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    s.send(mac_bytes(dst_mac) + s.getsockname()[4] + b"\x08\x00" + ip + udp)


def dhcp_release(ifname, chaddr, ciaddr, server):
    msg = struct.pack("!BBBBIHH4s4s4s4s", 1, 1, 6, 0, 0x1234, 0, 0, socket.inet_aton(ciaddr),
                      bytes(4), bytes(4), bytes(4))
    msg += mac_bytes(chaddr) + bytes(10) + bytes(192) + b"\x63\x82\x53\x63"
    msg += b"\x35\x01\x07" + b"\x36\x04" + socket.inet_aton(server) + b"\xff"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.bind(("", 68))
    s.sendto(msg, (server, 67))


def na(ifname, target):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    with open(f"/sys/class/net/{ifname}/address") as f:
        mine = mac_bytes(f.read().strip())
    # Type 136, code 0, checksum (the kernel's), flags override (0x20000000), target, TLLA option.
    msg = struct.pack("!BBHI", 136, 0, 0, 0x20000000) + socket.inet_pton(socket.AF_INET6, target)
    msg += b"\x02\x01" + mine
    s.sendto(msg, ("ff02::1", 0, 0, socket.if_nametoindex(ifname)))


cmd = sys.argv[1]
{"udp-to-mac": udp_to_mac, "dhcp-release": dhcp_release, "na": na}[cmd](*sys.argv[2:])
