#!/usr/bin/env python3
# Clients of netd's control socket for test-control-limits.sh: the attacks of issue 12 (#7 many
# idle connections with partial requests, #11 a monitor that does not read) and their controls.
#   hold SOCK N [CLOSE_FILE]      open N connections, each with half a request; report how each
#                                 one ends (closing them all once CLOSE_FILE exists)
#   monitor SOCK OUT GO_FILE      subscribe to events, read nothing until GO_FILE exists, then all
#   lease-events SOCK NETWORK N [FOLLOW]  N lease events (add/del in turn) on one connection, as
#                                 root, not more than 1000 ahead of the monitor writing FOLLOW
#   slow-read SOCK METHOD OUT     one request; read its reply only after a while, in small bites
#   check-events FILE             what a monitor got: "complete N" (events numbered 1..N) or
#                                 "overflow N DROPPED" (1..N, then the overflow event, then EOF)
import json, os, resource, select, socket, struct, sys, time

def connect(path, timeout=0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # A blocking connect waits while netd's backlog is full (a non-blocking one fails at once);
    # SO_SNDTIMEO bounds the wait.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", timeout, 0))
    s.connect(path)
    return s

def hold(path, n, close_file=None):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    conns, full = {}, 0
    for _ in range(n):
        try:
            s = connect(path, timeout=5)
        except (BlockingIOError, TimeoutError):
            full += 1 # netd's backlog stayed full: netd is not accepting
            continue
        try:
            s.send(b'{"method": "daemon.st')
        except OSError:
            pass # refused before we wrote: its error line is there to read
        conns[s.fileno()] = [s, b""]
    print(f"opened {len(conns)} backlog-full {full}", flush=True)
    ends = {"refused": 0, "timeout": 0, "other": 0}
    while conns:
        if close_file and os.path.exists(close_file):
            for s, _ in conns.values():
                s.close()
            ends["closed-by-us"] = len(conns)
            conns = {}
            break
        poll = select.poll() # not select(): our fds go above 1024
        for fd in conns:
            poll.register(fd, select.POLLIN)
        for fd, _ in poll.poll(100):
            s, data = conns[fd]
            try:
                chunk = s.recv(4096)
            except OSError:
                chunk = b""
            if chunk:
                conns[fd][1] += chunk
                continue
            text = data.decode(errors="replace")
            kind = "refused" if "too many connections" in text else "timeout" if "timed out" in text else "other"
            ends[kind] += 1
            if kind == "other" and ends[kind] < 3:
                print(f"other end: {text!r}", flush=True)
            s.close()
            del conns[fd]
    print("closed " + " ".join(f"{k}={v}" for k, v in ends.items()), flush=True)

def monitor(path, out, go):
    s = connect(path)
    s.sendall(b'{"method": "daemon.monitor"}\n')
    print("subscribed", flush=True)
    while not os.path.exists(go):
        time.sleep(0.05)
    with open(out, "wb") as f:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            f.write(chunk)
    print("eof", flush=True)

def lease_events(path, network, n, follow=None):
    s = connect(path)
    f = s.makefile("rb")
    start = time.monotonic()
    seen, pos = 0, 0
    for i in range(n):
        # A reader that keeps up may still lose the CPU for a while on a loaded machine: let it
        # stay within 1000 events (about 250 KB, well inside netd's bound) of the flood.
        while follow and i % 500 == 0 and seen < i - 1000 and time.monotonic() - start < 60:
            with open(follow, "rb") as ff:
                ff.seek(pos)
                chunk = ff.read()
            pos += chunk.rfind(b"\n") + 1
            seen += chunk[: chunk.rfind(b"\n") + 1].count(b'"event":"lease"')
            time.sleep(0.01)
        params = {"network": network, "action": "add" if i % 2 == 0 else "del", "mac": "52:54:00:00:12:34",
                  "ip": "10.50.0.77", "hostname": "flood", "expires": "0"}
        s.sendall((json.dumps({"method": "lease.event", "params": params}) + "\n").encode())
        reply = json.loads(f.readline())
        if not reply.get("ok"):
            sys.exit(f"lease.event refused: {reply}")
    print(f"sent {n} events in {time.monotonic() - start:.1f} s", flush=True)

def slow_read(path, method, out):
    s = connect(path)
    s.sendall((json.dumps({"method": method}) + "\n").encode())
    time.sleep(1) # netd has written what the socket takes, and queued the rest
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
        time.sleep(0.002)
    with open(out, "wb") as f:
        f.write(data)

def check_events(path):
    data = open(path, "rb").read()
    if data and not data.endswith(b"\n"):
        sys.exit(f"{path}: the last line is cut: {data[-80:]!r}")
    events = [e for e in map(json.loads, data.splitlines()) if "event" in e]
    for i, e in enumerate(events, 1):
        if e.get("seq") != i:
            sys.exit(f"{path}: event {i} has seq {e.get('seq')}: a gap")
        if e["event"] == "overflow" and i != len(events):
            sys.exit(f"{path}: events after the overflow event")
    if events and events[-1]["event"] == "overflow":
        print(f"overflow {len(events) - 1} {events[-1]['dropped']}")
    else:
        print(f"complete {len(events)}")

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "hold":
        hold(args[0], int(args[1]), args[2] if len(args) > 2 else None)
    elif cmd == "monitor":
        monitor(*args)
    elif cmd == "lease-events":
        lease_events(args[0], args[1], int(args[2]), args[3] if len(args) > 3 else None)
    elif cmd == "slow-read":
        slow_read(*args)
    elif cmd == "check-events":
        check_events(*args)
    else:
        sys.exit(f"unknown command {cmd}")
