#!/usr/bin/env python3
# Raw Ethernet frames of any ethertype, for the port security tests:
#   ether.py send IFNAME DST_MAC ETHERTYPE       one frame, ETHERTYPE in hex (e.g. 88b5)
#   ether.py recv IFNAME ETHERTYPE SECONDS       prints how many such frames arrived in SECONDS
import select
import socket
import sys
import time

cmd, ifname = sys.argv[1], sys.argv[2]
if cmd == "send":
    dst, etype = bytes.fromhex(sys.argv[3].replace(":", "")), int(sys.argv[4], 16)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    src = s.getsockname()[4]
    s.send(dst + src + etype.to_bytes(2, "big") + b"netd-test" + bytes(40))
else:
    etype, seconds = int(sys.argv[3], 16), float(sys.argv[4])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(etype))
    s.bind((ifname, etype))
    n, end = 0, time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if select.select([s], [], [], left)[0]:
            s.recv(2048)
            n += 1
    print(n)
