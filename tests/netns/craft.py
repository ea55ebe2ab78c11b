#!/usr/bin/env python3
# Hand-made packets a hostile guest sends, for the port security tests:
#   craft.py udp-to-mac IFNAME DST_MAC SRC_IP DST_IP DPORT   an IPv4/UDP datagram in a frame to DST_MAC
#   craft.py dhcp-release IFNAME CHADDR CIADDR SERVER        a DHCPRELEASE for someone else's lease
#   craft.py dhcp-release-frag IFNAME SRC CHADDR CIADDR SERVER
#                                                            the same from our address SRC, in two
#                                                            IPv4 fragments, the first holding only
#                                                            8 bytes of the message (not the chaddr)
#   craft.py na IFNAME TARGET                                an unsolicited neighbour advertisement
#                                                            claiming TARGET (override) for our MAC
#   craft.py frag6-udp IFNAME DST_MAC SRC DST SPORT DPORT   an IPv6/UDP datagram to DST_MAC in two fragments
#                                                            cut between two destination options
#                                                            headers: no fragment shows its protocol
#   craft.py ns-lladdr IFNAME DST LLADDR                     a neighbour solicitation for DST, to DST,
#                                                            whose source link-layer option says LLADDR
#   craft.py dhcp6-relay IFNAME DST LINK_ADDR VICTIM_MAC     a DHCPv6 Relay-forward to port 547
#                                                            wrapping a Solicit, option 79 naming
#                                                            VICTIM_MAC, and when an Advertise comes
#                                                            back, a Request of what it offers;
#                                                            prints "none" (no answer within 1 s),
#                                                            or "answer TYPE" and what was advertised
#   craft.py dhcp6-relay-546 IFNAME LINK_ADDR VICTIM_MAC     the same from port 546, after a Solicit
#                                                            of its own to ff02::1:2, to the address
#                                                            its Advertise came from (the answer's
#                                                            conntrack entry makes it established)
#   craft.py dhcp6-release IFNAME TYPE DUID IAID ADDR        a DHCPv6 Release (TYPE release) or
#                                                            Decline (decline) of someone else's
#                                                            lease, ADDR in IA_NA IAID of DUID (hex
#                                                            with colons), with the server identifier
#                                                            of an Advertise to a Solicit of its own;
#                                                            prints the type of any answer within
#                                                            1 s, or "none"
#   craft.py dhcp6-request IFNAME ADDR                       Solicit and Request of ADDR with its own
#                                                            DUID (DUID-LL); prints "replied" and the
#                                                            addresses the Reply leases, or "none"
#   craft.py dhcp6-flood IFNAME COUNT                        COUNT DHCPv6 clients, each with a DUID
#                                                            of its own: Solicit, then Request of
#                                                            what was advertised; prints
#                                                            "advertised N replied N" (a client
#                                                            without an Advertise in 1 s is skipped)
import os
import select
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


def release_msg(chaddr, ciaddr, server):
    msg = struct.pack("!BBBBIHH4s4s4s4s", 1, 1, 6, 0, 0x1234, 0, 0, socket.inet_aton(ciaddr),
                      bytes(4), bytes(4), bytes(4))
    msg += mac_bytes(chaddr) + bytes(10) + bytes(192) + b"\x63\x82\x53\x63"
    return msg + b"\x35\x01\x07" + b"\x36\x04" + socket.inet_aton(server) + b"\xff"


def dhcp_release(ifname, chaddr, ciaddr, server):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.bind(("", 68))
    s.sendto(release_msg(chaddr, ciaddr, server), (server, 67))


def dhcp_release_frag(ifname, src, chaddr, ciaddr, server):
    msg = release_msg(chaddr, ciaddr, server)
    udp = struct.pack("!HHHH", 68, 67, 8 + len(msg), 0) + msg  # checksum 0: none (IPv4)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    for off, part, more in ((0, udp[:16], 1), (2, udp[16:], 0)):  # offsets in units of 8 bytes
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(part), 0x4242, (more << 13) | off, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(server))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        s.sendto(ip + part, (server, 0))


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


def frag6_udp(ifname, dst_mac, src, dst, sport, dport):
    a, b = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    payload = b"netd-test"
    udp = struct.pack("!HHHH", int(sport), int(dport), 8 + len(payload), 0) + payload
    c = csum(a + b + struct.pack("!IxxxB", len(udp), 17) + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    # Unfragmentable part: none. Fragmentable: destination options (next 60), destination options
    # (next 17), UDP. The first fragment ends after the first options header.
    dopt = lambda nxt: struct.pack("!BB", nxt, 0) + b"\x01\x04" + bytes(4)  # PadN
    body = dopt(60) + dopt(17) + udp
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    for off, part, more in ((0, body[:8], 1), (8, body[8:], 0)):
        frag = struct.pack("!BBHI", 60, 0, off | more, 0x4e455444) + part
        ip6 = struct.pack("!IHBB", 6 << 28, len(frag), 44, 64) + a + b
        s.send(mac_bytes(dst_mac) + s.getsockname()[4] + b"\x86\xdd" + ip6 + frag)


def ns_lladdr(ifname, dst, lladdr):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    # Type 135, code 0, checksum (the kernel's), reserved, target, SLLA option.
    msg = struct.pack("!BBHI", 135, 0, 0, 0) + socket.inet_pton(socket.AF_INET6, dst)
    msg += b"\x01\x01" + mac_bytes(lladdr)
    s.sendto(msg, (dst, 0, 0, socket.if_nametoindex(ifname)))


def opt6(code, data):
    return struct.pack("!HH", code, len(data)) + data


def dhcp6_options(msg, i=4):
    """The options of a DHCPv6 client/server message (after type and transaction id), or from
    offset i (a relay message's from 34, an IA_NA's from 12), by code."""
    opts = {}
    while i + 4 <= len(msg):
        code, n = struct.unpack("!HH", msg[i:i + 4])
        opts.setdefault(code, msg[i + 4:i + 4 + n])
        i += 4 + n
    return opts


def ia_na(iaid, addr=None):
    # IA_NA (3): IAID, T1 and T2 0; with ADDR, an IA address (5) of it, lifetimes 0.
    sub = opt6(5, socket.inet_pton(socket.AF_INET6, addr) + bytes(8)) if addr else b""
    return opt6(3, struct.pack("!III", iaid, 0, 0) + sub)


def ia_addrs(msg, i=4):
    """The addresses in the IA_NA of a client/server message."""
    ia = dhcp6_options(msg, i).get(3)
    if not ia:
        return []
    opts, j, addrs = ia, 12, []
    while j + 4 <= len(opts):
        code, n = struct.unpack("!HH", opts[j:j + 4])
        if code == 5:
            addrs.append(socket.inet_ntop(socket.AF_INET6, opts[j + 4:j + 20]))
        j += 4 + n
    return addrs


def dhcp6_msg(mtype, xid, *opts):
    return struct.pack("!I", mtype << 24 | xid) + b"".join(opts)


def solicit(duid, iaid, xid=0x123456, addr=None):
    # Solicit (1): client identifier (1), elapsed time (8), IA_NA (3) with T1 and T2 0.
    return dhcp6_msg(1, xid, opt6(1, duid), opt6(8, b"\0\0"), ia_na(iaid, addr))


def answer(s, mtype, xid, timeout):
    """The message of type mtype with transaction id xid that s receives within timeout s."""
    while select.select([s], [], [], timeout)[0]:
        m, src = s.recvfrom(4096)
        if m[0] == mtype and int.from_bytes(m[1:4], "big") == xid:
            return m, src
    return None, None


def own_duid(ifname):
    with open(f"/sys/class/net/{ifname}/address") as f:
        return b"\0\3\0\1" + mac_bytes(f.read().strip())


def dhcp6_socket(ifname, port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    return s


def relay_forward(link_addr, victim, inner):
    # Relay-forward (12): hop count, link-address, peer-address (the victim's EUI-64 link-local);
    # relay message (9), client link-layer address (79: hardware type 1, the MAC).
    eui = bytes([victim[0] ^ 2]) + victim[1:3] + b"\xff\xfe" + victim[3:]
    msg = bytes([12, 0]) + socket.inet_pton(socket.AF_INET6, link_addr) + b"\xfe\x80" + bytes(6) + eui
    return msg + opt6(9, inner) + opt6(79, b"\0\1" + victim)


def relay_exchange(socks, dst, link_addr, victim_mac):
    """A Solicit for VICTIM_MAC relayed from socks[0] to dst, and when answered (on any of socks: a
    Relay-reply may come to the source port or to 547), the Request of what its Advertise offers;
    prints "none" or the answers."""
    victim = mac_bytes(victim_mac)
    duid, iaid = b"\0\3\0\1" + victim, int.from_bytes(victim[2:], "big")
    socks[0].sendto(relay_forward(link_addr, victim, solicit(duid, iaid)), dst)
    r = select.select(socks, [], [], 1)[0]
    if not r:
        print("none")
        return
    m = r[0].recv(4096)
    inner = dhcp6_options(m, 34).get(9, b"") if m[0] == 13 else b""
    if len(inner) < 4 or inner[0] != 2 or 2 not in dhcp6_options(inner):
        print(f"answer {m[0]}")
        return
    offered = ia_addrs(inner)
    req = dhcp6_msg(3, 0x123457, opt6(1, duid), opt6(2, dhcp6_options(inner)[2]), opt6(8, b"\0\0"),
                    ia_na(iaid, offered[0] if offered else None))
    socks[0].sendto(relay_forward(link_addr, victim, req), dst)
    r = select.select(socks, [], [], 1)[0]
    print(f"answer 13 advertised {' '.join(offered)}" + (f" then {r[0].recv(4096)[0]}" if r else ""))


def dhcp6_relay(ifname, dst, link_addr, victim_mac):
    # From a port of its own (port security drops a guest's source port 547, a server's or
    # relay's).
    s, s547 = dhcp6_socket(ifname, 0), dhcp6_socket(ifname, 547)
    relay_exchange([s, s547], (dst, 547, 0, socket.if_nametoindex(ifname)), link_addr, victim_mac)


def dhcp6_relay_546(ifname, link_addr, victim_mac):
    s, s547 = dhcp6_socket(ifname, 546), dhcp6_socket(ifname, 547)
    s.sendto(solicit(own_duid(ifname), 1, 0x654321), ("ff02::1:2", 547, 0, socket.if_nametoindex(ifname)))
    adv, src = answer(s, 2, 0x654321, 3)
    if not adv:
        print("no advertise")
        return
    relay_exchange([s, s547], src, link_addr, victim_mac)


def server_id(s, ifname, duid, xid, addr=None):
    """The server identifier of the Advertise to a Solicit from s (None without one)."""
    s.sendto(solicit(duid, 1, xid, addr), ("ff02::1:2", 547, 0, socket.if_nametoindex(ifname)))
    adv, _ = answer(s, 2, xid, 3)
    return dhcp6_options(adv).get(2) if adv else None


def dhcp6_release(ifname, mtype, duid, iaid, addr):
    s = dhcp6_socket(ifname, 546)
    sid = server_id(s, ifname, own_duid(ifname), 0x111111)
    if not sid:
        print("no advertise")
        return
    # Release (8) or Decline (9): client identifier, server identifier, elapsed time, the IA_NA.
    msg = dhcp6_msg({"release": 8, "decline": 9}[mtype], 0x111112, opt6(1, mac_bytes(duid)), opt6(2, sid),
                    opt6(8, b"\0\0"), ia_na(int(iaid), addr))
    s.sendto(msg, ("ff02::1:2", 547, 0, socket.if_nametoindex(ifname)))
    m, _ = answer(s, 7, 0x111112, 1)
    print(f"answer {m[0]}" if m else "none")


def dhcp6_request(ifname, addr):
    s, duid = dhcp6_socket(ifname, 546), own_duid(ifname)
    sid = server_id(s, ifname, duid, 0x222221, addr)
    if not sid:
        print("no advertise")
        return
    s.sendto(dhcp6_msg(3, 0x222222, opt6(1, duid), opt6(2, sid), opt6(8, b"\0\0"), ia_na(1, addr)),
             ("ff02::1:2", 547, 0, socket.if_nametoindex(ifname)))
    m, _ = answer(s, 7, 0x222222, 3)
    print(" ".join(["replied"] + ia_addrs(m)) if m else "none")


def dhcp6_renew(ifname, mtype, duid, iaid, addr, lifetime):
    """A Renew (5, to the server of an Advertise to our own Solicit) or a Rebind (6) of ADDR with
    DUID and IAID, asking for LIFETIME as preferred and valid lifetime; prints the Reply's
    addresses with their lifetimes ("replied ADDR/PREFERRED/VALID ..."), or "none"."""
    s = dhcp6_socket(ifname, 546)
    sid = server_id(s, ifname, own_duid(ifname), 0x333331)
    if not sid:
        print("no advertise")
        return
    t = int(lifetime)
    ia = opt6(3, struct.pack("!III", int(iaid), 0, 0) +
              opt6(5, socket.inet_pton(socket.AF_INET6, addr) + struct.pack("!II", t, t)))
    opts = [opt6(1, mac_bytes(duid))] + ([opt6(2, sid)] if mtype == "renew" else [])
    s.sendto(dhcp6_msg({"renew": 5, "rebind": 6}[mtype], 0x333332, *opts, opt6(8, b"\0\0"), ia),
             ("ff02::1:2", 547, 0, socket.if_nametoindex(ifname)))
    m, _ = answer(s, 7, 0x333332, 3)
    if not m:
        print("none")
        return
    ia, out = dhcp6_options(m).get(3) or b"", ["replied"]
    j = 12
    while j + 4 <= len(ia):
        code, n = struct.unpack("!HH", ia[j:j + 4])
        if code == 5:
            pref, valid = struct.unpack("!II", ia[j + 20:j + 28])
            out.append(f"{socket.inet_ntop(socket.AF_INET6, ia[j + 4:j + 20])}/{pref}/{valid}")
        j += 4 + n
    print(" ".join(out))


def dhcp6_flood(ifname, count):
    s = dhcp6_socket(ifname, 546)
    dst = ("ff02::1:2", 547, 0, socket.if_nametoindex(ifname))
    advertised = replied = 0
    for i in range(int(count)):
        duid = b"\0\4" + os.urandom(16)  # DUID-UUID: a client of its own, no MAC inside
        xid = (i * 2 + 1) & 0xFFFFFF
        s.sendto(solicit(duid, i, xid), dst)
        adv = None
        while select.select([s], [], [], 1)[0]:
            m = s.recv(4096)
            if m[0] == 2 and int.from_bytes(m[1:4], "big") == xid and 2 in dhcp6_options(m):
                adv = m
                break
        if not adv:
            continue
        advertised += 1
        o = dhcp6_options(adv)
        # Request (3): client id, server id, elapsed time, the IA_NA as advertised.
        req = struct.pack("!I", 3 << 24 | (xid + 1)) + opt6(1, duid) + opt6(2, o[2]) + opt6(8, b"\0\0")
        req += opt6(3, o.get(3, struct.pack("!III", i, 0, 0)))
        s.sendto(req, dst)
        while select.select([s], [], [], 1)[0]:
            m = s.recv(4096)
            if m[0] == 7 and int.from_bytes(m[1:4], "big") == xid + 1:
                replied += 1
                break
    print(f"advertised {advertised} replied {replied}")


cmd = sys.argv[1]
{"udp-to-mac": udp_to_mac, "dhcp-release": dhcp_release, "dhcp-release-frag": dhcp_release_frag, "na": na,
 "ns-lladdr": ns_lladdr, "frag6-udp": frag6_udp, "dhcp6-relay": dhcp6_relay,
 "dhcp6-relay-546": dhcp6_relay_546, "dhcp6-release": dhcp6_release, "dhcp6-request": dhcp6_request,
 "dhcp6-renew": dhcp6_renew,
 "dhcp6-flood": dhcp6_flood}[cmd](*sys.argv[2:])
