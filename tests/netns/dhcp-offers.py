#!/usr/bin/env python3
# dhcp-offers.py IFNAME MAC SECONDS: one DHCPDISCOVER (broadcast flag set) from MAC out of IFNAME;
# prints how many DHCPOFFERs for it arrived within SECONDS (test-evpn.sh: exactly one host answers).
import select
import socket
import struct
import sys
import time

ifname, mac, seconds = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
s.bind(("", 68))
xid = 0x4E455444
msg = struct.pack("!BBBBIHH16s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, bytes(16), mac + bytes(10), b"", b"")
msg += b"\x63\x82\x53\x63" + b"\x35\x01\x01" + b"\xff"
s.sendto(msg, ("255.255.255.255", 67))
n, end = 0, time.monotonic() + seconds
while (left := end - time.monotonic()) > 0:
    if select.select([s], [], [], left)[0]:
        m = s.recv(4096)
        if len(m) > 243 and struct.unpack("!I", m[4:8])[0] == xid and b"\x35\x01\x02" in m[240:]:
            n += 1
print(n)
