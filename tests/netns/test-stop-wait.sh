#!/usr/bin/env bash
# netd's event loop never waits for a dnsmasq to exit (issue 20): a network whose dnsmasq is
# stopped (SIGSTOP: it cannot act on SIGTERM) is deleted; while netd waits for it (SIGKILL after
# 2 s), other clients are answered at once, the same name cannot be created again, and the
# delete's reply comes when the dnsmasq is gone, its files with it. The same for 'network stop',
# and for a reload whose new definition restarts dnsmasq (the new one starts once the old is gone).
. "$(dirname "$0")/lib.sh"
need dnsmasq socat python3

start_netd
ctl network create slow --mode isolated --subnet 10.71.0.0/24 >/dev/null
ctl network create other --mode isolated --subnet 10.72.0.0/24 >/dev/null

# status_ms: the slowest of five daemon.status round trips over the socket, in ms.
status_ms() {
	python3 - "$SOCK" <<'EOF'
import json, socket, sys, time
worst = 0
for _ in range(5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    t = time.monotonic()
    s.connect(sys.argv[1])
    s.sendall(b'{"method": "daemon.status"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    worst = max(worst, time.monotonic() - t)
    assert json.loads(buf)["ok"], buf
    s.close()
print(int(worst * 1000))
EOF
}

# slow_case VERB: VERB the network 'slow' while its dnsmasq is stopped.
slow_case() {
	local verb=$1 pid start ms rc=0
	pid=$(dnsmasq_pid slow)
	kill -STOP "$pid"
	start=$(date +%s%N)
	ctl network "$verb" slow >"$T/$verb.out" 2>&1 &
	local ctl_pid=$!
	sleep 0.3
	kill -0 "$ctl_pid" 2>/dev/null || fail "network $verb answered before its dnsmasq was gone: $(cat "$T/$verb.out")"
	# (all of it inside netd's 2 s before the SIGKILL: the name's refusals first, then the status
	# round trips, and the $verb must still be waiting after them)
	ctl network create slow --mode isolated --subnet 10.73.0.0/24 >/dev/null 2>"$T/err" && fail "created 'slow' again during its $verb"
	grep -q "network 'slow' \(already exists\|is still being stopped (its dnsmasq is exiting); try again in a moment\)" "$T/err" ||
		fail "create during the $verb: $(cat "$T/err")"
	[ "$verb" = stop ] && {
		ctl network start slow >/dev/null 2>"$T/err" && fail "started 'slow' during its stop"
		grep -q "network 'slow' is still being stopped (its dnsmasq is exiting); try again in a moment" "$T/err" ||
			fail "start during the stop: $(cat "$T/err")"
	}
	ok "the name is refused until the $verb is done: $(cat "$T/err")"
	ms=$(status_ms)
	kill -0 "$ctl_pid" 2>/dev/null || fail "network $verb ended before daemon.status was measured during it"
	[ "$ms" -lt 20 ] || fail "daemon.status took $ms ms during a network $verb"
	ok "network $verb waits for its stopped dnsmasq; meanwhile daemon.status answers in $ms ms (slowest of 5)"
	wait "$ctl_pid" || rc=$?
	assert_eq "$rc" 0 "exit code of network $verb ($(cat "$T/$verb.out"))"
	ms=$((($(date +%s%N) - start) / 1000000))
	[ "$ms" -ge 1900 ] || fail "network $verb replied after $ms ms, before SIGKILL could end the dnsmasq"
	[ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat")" != Z ] && fail "dnsmasq $pid still runs"
	for f in conf pid hosts addnhosts; do
		[ -e "$T/run/dnsmasq/slow.$f" ] && fail "slow.$f left behind after the $verb"
	done
	grep -q "dnsmasq (pid $pid) did not exit within 2000 ms of SIGTERM; sending SIGKILL" "$T/netd.log" ||
		fail "the log does not say dnsmasq $pid was killed"
	ok "network $verb replied after $ms ms, when dnsmasq $pid was gone (SIGKILL), its files removed"
}

slow_case stop
ctl network start slow >/dev/null
slow_case delete
ctl network create slow --mode isolated --subnet 10.71.0.0/24 >/dev/null
ok "'slow' created again once the delete was done"
assert_eq "$(ctl --json network show other | jq -r .state)" active "the other network"

# A definition edited by hand that changes dnsmasq's config (its DHCP range) is reloaded while the
# network's dnsmasq is stopped: the reload does not wait for it, other clients are answered at
# once, and the new dnsmasq, with the new range, starts once the old one is gone (SIGKILL).
pid=$(dnsmasq_pid slow)
kill -STOP "$pid"
printf '\n[dhcp]\nrange = 10.71.0.50-10.71.0.60\n' >>"$T/etc/networks/slow.conf"
start=$(date +%s%N)
ctl reload >"$T/reload.out" 2>&1 || fail "reload: $(cat "$T/reload.out")"
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 1000 ] || fail "reload took $ms ms: it waited for the stopped dnsmasq"
ms=$(status_ms)
[ "$ms" -lt 20 ] || fail "daemon.status took $ms ms while the old dnsmasq exits"
ok "reload answered in less than 1 s without waiting for the stopped dnsmasq; daemon.status in $ms ms"
for _ in $(seq 1 100); do
	new=$(dnsmasq_pid slow)
	[ -n "$new" ] && [ "$new" != "$pid" ] && [ -e "/proc/$new" ] && break
	sleep 0.05
done
[ -n "$new" ] && [ "$new" != "$pid" ] || fail "no new dnsmasq after the old one was killed"
grep -q "dhcp-range=.*10.71.0.50,10.71.0.60" "$T/run/dnsmasq/slow.conf" || fail "the new config lacks the new range: $(grep dhcp-range "$T/run/dnsmasq/slow.conf")"
[ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat")" != Z ] && fail "the old dnsmasq $pid still runs"
grep -q "network 'slow': dnsmasq config changed, restarting dnsmasq (pid $pid) once it has exited" "$T/netd.log" ||
	fail "the log does not say the restart waits for $pid"
assert_eq "$(ctl --json network show slow | jq -r .state)" active "the network after the restart"
ok "the new dnsmasq (pid $new) runs with the new range once $pid was gone"
