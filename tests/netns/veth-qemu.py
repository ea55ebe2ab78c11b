#!/usr/bin/env python3
# A TEST STAND-IN for qemu-system-x86_64, never a QEMU: it runs no guest. It wires a netd guest's
# TAP to a network namespace instead, so that a real network stack (dhclient, ping, craft.py) is the
# "guest" behind a TAP netd made and filters (port security, as for any guest). netd starts it with
# --qemu (a root-owned copy) and --qemu-user root (the frames are relayed through a packet socket).
#
#   the guest's kernel command line (vm create --append) names the interface: veth=IFNAME
#
# Frames are relayed as they are between the first NIC's TAP fd (netdev tap,fd=N; netd opens it with
# IFF_VNET_HDR, 10 bytes) and IFNAME, a veth in netd's namespace whose peer is the guest's eth0
# (PACKET_VNET_HDR: the same header, so checksums the guest's stack left to offload stay valid).
# QMP as bench/fake-qemu.c speaks it (greeting, qmp_capabilities, query-status, query-block, stop,
# cont, set_password, set_link, system_reset, system_powerdown, quit, announce-self: a RARP of the
# NIC's MAC into the TAP, counted in announced-IFNAME next to this file); set_link false stops the
# relay. Exits 0 on quit, system_powerdown and SIGTERM, after a SHUTDOWN event.
import json
import os
import select
import signal
import socket
import sys
import time

SOL_PACKET, PACKET_VNET_HDR, PACKET_OUTGOING = 263, 15, 4

if "--version" in sys.argv:
    print("QEMU emulator version 7.2.0 (netd test veth-qemu)")
    sys.exit(0)

args = sys.argv[1:]
qmp_fd = tap_fd = guest_mac = None
announced = 0
ifname = None
status = "prelaunch" if "-S" in args else "running"
for i, a in enumerate(args[:-1]):
    v = args[i + 1]
    if a == "-chardev" and v.startswith("socket,id=qmp,fd="):
        qmp_fd = int(v.split("fd=")[1].split(",")[0])
    elif a == "-netdev" and tap_fd is None and ",fd=" in v:
        tap_fd = int(v.split(",fd=")[1].split(",")[0])
    elif a == "-device" and guest_mac is None and ",mac=" in v:
        guest_mac = bytes.fromhex(v.split(",mac=")[1].split(",")[0].replace(":", ""))
    elif a == "-append":
        for w in v.split():
            if w.startswith("veth="):
                ifname = w[5:]
if qmp_fd is None or tap_fd is None or not ifname:
    sys.exit("veth-qemu: needs '-chardev socket,id=qmp,fd=N', '-netdev tap,fd=N' and veth=IFNAME in -append")

pkt = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
pkt.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
pkt.bind((ifname, 0))
listen = socket.socket(fileno=qmp_fd)
link_up = True
terminate = False


def on_term(sig, frame):
    global terminate
    terminate = True


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)


def say(c, obj):
    if c is not None:
        try:
            c.sendall((json.dumps(obj) + "\n").encode())
        except OSError:
            pass


def event(c, name, data=None):
    t = time.time()
    e = {"timestamp": {"seconds": int(t), "microseconds": int(t % 1 * 1e6)}, "event": name}
    if data is not None:
        e["data"] = data
    say(c, e)


def announce():
    """What QEMU's announce-self sends from a NIC: a broadcast RARP request of its MAC (one round
    here), into the TAP; counted in the file announced next to this script."""
    global announced
    if guest_mac is None:
        return
    rarp = (b"\xff" * 6 + guest_mac + b"\x80\x35" + b"\x00\x01\x08\x00\x06\x04\x00\x03" +
            guest_mac + b"\x00" * 4 + guest_mac + b"\x00" * 4).ljust(60, b"\x00")
    try:
        os.write(tap_fd, b"\x00" * 10 + rarp)  # the vnet header first
    except OSError:
        pass
    announced += 1
    name = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"announced-{ifname}")
    with open(name, "w") as f:
        f.write(f"{announced}\n")


def command(c, line):
    """Answers one command; True when the process ends after it."""
    global status, link_up
    try:
        req = json.loads(line)
    except ValueError:
        return False
    cmd, rid, ret, end = req.get("execute"), req.get("id"), {}, False
    if cmd == "query-status":
        ret = {"status": status, "singlestep": False, "running": status == "running"}
    elif cmd == "query-block":
        ret = []
    elif cmd == "stop":
        status = "paused"
        event(c, "STOP")
    elif cmd == "cont":
        status = "running"
        event(c, "RESUME")
    elif cmd == "set_link":
        link_up = bool(req.get("arguments", {}).get("up", True))
    elif cmd == "announce-self":
        announce()
    elif cmd == "system_reset":
        event(c, "RESET", {"guest": False, "reason": "host-qmp-system-reset"})
    elif cmd == "system_powerdown":
        event(c, "POWERDOWN")
        end = True
    elif cmd == "quit":
        end = True
    elif cmd not in ("qmp_capabilities", "set_password"):
        say(c, {"id": rid, "error": {"class": "CommandNotFound", "desc": f"The command {cmd} has not been found"}})
        return False
    say(c, {"return": ret, "id": rid})
    if end:
        reason = {"guest": False, "reason": "host-qmp-quit"} if cmd == "quit" else \
            {"guest": True, "reason": "guest-shutdown"}
        event(c, "SHUTDOWN", reason)
    return end


client, buf = None, b""
while True:
    fds = [tap_fd, pkt.fileno(), client.fileno() if client else listen.fileno()]
    try:
        ready, _, _ = select.select(fds, [], [])
    except InterruptedError:
        ready = []
    if terminate:
        event(client, "SHUTDOWN", {"guest": False, "reason": "host-signal"})
        sys.exit(0)
    for fd in ready:
        if fd == tap_fd:
            frame = os.read(tap_fd, 65536)
            if link_up and status == "running":
                try:
                    pkt.send(frame)
                except OSError:
                    pass
        elif fd == pkt.fileno():
            frame, addr = pkt.recvfrom(65536)
            if addr[2] != PACKET_OUTGOING and link_up and status == "running":
                try:
                    os.write(tap_fd, frame)
                except OSError:
                    pass
        elif client is None:
            client, _ = listen.accept()
            buf = b""
            say(client, {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7},
                                             "package": "netd test veth-qemu"}, "capabilities": ["oob"]}})
        else:
            data = client.recv(65536)
            if not data:  # netd went away (kill -9): wait for the next one
                client.close()
                client = None
                continue
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if command(client, line):
                    sys.exit(0)
