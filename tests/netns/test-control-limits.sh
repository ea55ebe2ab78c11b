#!/usr/bin/env bash
# The control socket's limits (issue 12, attacks 7 and 11). netd starts with a soft fd limit of 1024
# (systemd's default) and raises it, while dnsmasq keeps 1024. A member of group netd holding 1100
# connections with half a request each does not make netd spin or stop answering: root is answered
# at once, the others are refused with one line above the cap, the partial requests time out and
# their connections close. At its fd limit netd pauses accepting instead of spinning. A monitor
# that does not read gets every event or an overflow event as its last line, never a silent gap;
# a monitor that reads gets them all; a large reply reaches a slow reader whole.
. "$(dirname "$0")/lib.sh"
# The system's python3: the unprivileged member cannot run one from root's home (pyenv)
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || skip "$PYTHON missing"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
command -v setpriv >/dev/null || skip "setpriv missing"
command -v prlimit >/dev/null || skip "prlimit missing"
NETD_GID=$(getent group netd | cut -d: -f3) || skip "no group 'netd' (scripts/install-deps creates it)"
HARD=$(ulimit -Hn)
[ "$HARD" != unlimited ] && [ "$HARD" -ge 4096 ] || skip "hard fd limit $HARD: want 4096 or more to show the raise"
CLIENTS="$TESTS_LIB_DIR/control-clients.py"
CAP=256              # CONTROL_CLIENTS_MAX
PARTIAL_TIMEOUT=5    # CONTROL_PARTIAL_TIMEOUT_USEC, in seconds

as_member() { setpriv --reuid=65534 --regid=65534 --groups="$NETD_GID" "$@"; }
cpu_ticks() { awk '{print $14 + $15}' /proc/"$NETD_PID"/stat; }
soft_limit() { awk '/^Max open files/ {print $4}' /proc/"$1"/limits; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# wait_line FILE REGEX SECONDS: the first matching line of FILE
wait_line() {
	for _ in $(seq 1 $(($3 * 20))); do
		grep -m1 -E -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "no line matching '$2' in $1 within $3 s: $(tail -n3 "$1" 2>/dev/null)"
}
# status_within SECONDS [as_member]: netdctl status answered in time; prints the milliseconds
status_within() {
	local t0 rc=0
	t0=$(now_ms)
	${2:-} timeout "$1" "$NETDCTL" --socket "$SOCK" status >/dev/null 2>"$T/status.err" || rc=$?
	[ "$rc" = 0 ] || fail "'netdctl status'${2:+ as a member of group netd} not answered within $1 s (exit $rc: $(cat "$T/status.err"))"
	echo $(($(now_ms) - t0))
}

# --- The fd limit: raised for netd, not for its children.
ulimit -Sn 1024
start_netd
assert_eq "$(soft_limit "$NETD_PID")" "$HARD" "netd's soft fd limit"
ctl network create lab --mode isolated --subnet 10.50.0.0/24 >/dev/null
dnsmasq=$(ctl --json network show lab | jq -r .dhcp.dnsmasq_pid)
assert_eq "$(soft_limit "$dnsmasq")" 1024 "dnsmasq's soft fd limit"
ok "netd raised its soft fd limit from 1024 to $HARD; dnsmasq (pid $dnsmasq) starts with 1024"

# --- Attack 7: 1100 connections with half a request each, by a member of group netd.
as_member "$PYTHON" "$CLIENTS" hold "$SOCK" 1100 >"$T/hold.out" 2>&1 &
BG_PIDS+=($!)
wait_line "$T/hold.out" '^opened' 30 >/dev/null
cpu0=$(cpu_ticks)
ms=$(status_within 2)
ok "root's 'netdctl status' answered in $ms ms while 1100 connections are held"
rc=0
as_member "$NETDCTL" --socket "$SOCK" status >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of a member's status above the cap"
grep -qF "too many connections to netd ($CAP open by users other than root); try again later" "$T/err" ||
	fail "a member above the cap: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" = 1 ] || fail "not one line: $(cat "$T/err")"
ok "a member above the cap is refused: $(cat "$T/err")"
sleep 3
cpu=$(($(cpu_ticks) - cpu0))
[ "$cpu" -lt 30 ] || fail "netd used $cpu ticks of CPU in 3 s while the connections were held (spinning?)"
ok "netd used $cpu ticks (1/100 s) of CPU in 3 s while the connections were held"
closed=$(wait_line "$T/hold.out" '^closed' $((PARTIAL_TIMEOUT + 10)))
opened=$(grep '^opened' "$T/hold.out")
grep -q 'other=0' <<<"$closed" || fail "connections ended neither refused nor timed out: $(cat "$T/hold.out")"
assert_eq "$(sed 's/.* timeout=\([0-9]*\).*/\1/' <<<"$closed")" "$CAP" "partial requests timed out"
assert_eq "$opened" "opened 1100 backlog-full 0" "connections made"
assert_eq "$(sed 's/.* refused=\([0-9]*\).*/\1/' <<<"$closed")" $((1100 - CAP)) "connections refused"
ok "$opened; $closed (each partial request timed out after ${PARTIAL_TIMEOUT} s)"
ms=$(status_within 2 as_member)
ok "a member's 'netdctl status' answered in $ms ms once the partial requests timed out"
n=$(grep -c "refusing control connections" "$T/netd.log")
assert_eq "$n" 1 "log lines about refused connections"
ok "the refusals were logged once: $(grep -m1 -o "refusing control connections.*" "$T/netd.log")"

# --- netd at its fd limit: it pauses accepting instead of spinning, and recovers.
nfd=$(ls /proc/"$NETD_PID"/fd | wc -l)
prlimit --pid "$NETD_PID" --nofile=$((nfd + 70)):"$HARD"
as_member "$PYTHON" "$CLIENTS" hold "$SOCK" 100 >"$T/hold2.out" 2>&1 &
BG_PIDS+=($!)
wait_line "$T/hold2.out" '^opened' 30 >/dev/null
cpu0=$(cpu_ticks)
t0=$(now_ms)
timeout 20 "$NETDCTL" --socket "$SOCK" status >/dev/null 2>"$T/status.err" &
status=$!
sleep 3
cpu=$(($(cpu_ticks) - cpu0))
[ "$cpu" -lt 30 ] || fail "netd used $cpu ticks of CPU in 3 s at its fd limit (spinning?)"
ok "netd at its fd limit used $cpu ticks of CPU in 3 s"
wait "$status" || fail "root's status was not answered once netd had fds again: $(cat "$T/status.err")"
ok "root's 'netdctl status' waited for a free fd and was answered after $(($(now_ms) - t0)) ms"
closed=$(wait_line "$T/hold2.out" '^closed' $((2 * PARTIAL_TIMEOUT + 10)))
grep -q 'other=0' <<<"$closed" || fail "connections ended neither refused nor timed out: $(cat "$T/hold2.out")"
n=$(grep -c "cannot accept control connections: Too many open files" "$T/netd.log")
assert_eq "$n" 1 "log lines about the paused accept"
ok "$(grep '^opened' "$T/hold2.out"); $closed; logged once: $(grep -m1 -o "cannot accept control.*" "$T/netd.log")"
prlimit --pid "$NETD_PID" --nofile="$HARD:$HARD"

# --- Attack 11: a monitor that does not read while netd sends thousands of events.
N=12000
ctl --json monitor >"$T/events.fast" 2>/dev/null &
BG_PIDS+=($!)
"$PYTHON" "$CLIENTS" monitor "$SOCK" "$T/events.slow" "$T/go" >"$T/slow.out" 2>&1 &
BG_PIDS+=($!)
(
	set +e
	ctl monitor 2>"$T/mon.err" | {
		while [ ! -e "$T/go" ] && [ -d "$T" ]; do sleep 0.1; done
		cat >"$T/mon.out"
	}
	echo "${PIPESTATUS[0]}" >"$T/mon.rc"
) &
BG_PIDS+=($!)
for _ in $(seq 1 100); do
	[ "$(grep -c 'request daemon.monitor' "$T/netd.log")" -ge 3 ] && break
	sleep 0.05
done
[ "$(grep -c 'request daemon.monitor' "$T/netd.log")" -ge 3 ] || fail "the three monitors did not subscribe"
behind=$(grep -c 'fell [0-9]* bytes behind' "$T/netd.log" || true)
"$PYTHON" "$CLIENTS" lease-events "$SOCK" lab "$N" "$T/events.fast" >"$T/flood.out" &
FLOOD=$!
# The two that do not read start reading once both fell behind, not after the flood: netd closes
# a monitor that has not drained its overflow within 10 s (CONTROL_DRAIN_TIMEOUT_USEC), and the
# flood of a loaded rehearsal outlasted that (the monitor got EOF without its overflow event).
for _ in $(seq 1 1200); do
	[ "$(grep -c 'fell [0-9]* bytes behind' "$T/netd.log" || true)" -ge $((behind + 2)) ] && break
	kill -0 "$FLOOD" 2>/dev/null || break
	sleep 0.05
done
touch "$T/go"
wait "$FLOOD" || fail "lease events: $(cat "$T/flood.out")"
wait_line "$T/slow.out" '^eof' 20 >/dev/null
slow=$("$PYTHON" "$CLIENTS" check-events "$T/events.slow") || fail "the monitor that did not read: $slow"
[[ $slow == overflow* ]] || fail "the monitor that did not read got no overflow event: $slow"
read -r _ got dropped <<<"$slow"
[ "$got" -lt "$N" ] && [ "$dropped" -ge 1 ] && [ $((got + dropped)) -le "$N" ] || fail "inconsistent: $slow of $N"
ok "the monitor that did not read got events 1..$got, then an overflow event ($dropped dropped), then EOF ($(cat "$T/flood.out"))"
for _ in $(seq 1 200); do
	fast=$("$PYTHON" "$CLIENTS" check-events "$T/events.fast") || fail "the monitor that read: $fast"
	[ "$fast" = "complete $N" ] && break
	sleep 0.05
done
assert_eq "$fast" "complete $N" "the monitor that read"
ok "the monitor that read got all $N events, numbered without a gap"
for _ in $(seq 1 200); do [ -s "$T/mon.rc" ] && break; sleep 0.05; done
assert_eq "$(cat "$T/mon.rc" 2>/dev/null)" 1 "exit code of a 'netdctl monitor' that fell behind"
tail -n1 "$T/mon.out" | has "overflow: this monitor fell behind, [0-9]* event(s) dropped" ||
	fail "netdctl monitor's last line: $(tail -n1 "$T/mon.out")"
grep -q "netdctl: netd disconnected this monitor" "$T/mon.err" || fail "netdctl monitor's error: $(cat "$T/mon.err")"
ok "'netdctl monitor' that fell behind printed '$(tail -n1 "$T/mon.out")' and exited 1: $(grep netdctl: "$T/mon.err")"

# --- A large reply to a slow reader arrives whole.
for i in $(seq 1 2000); do
	printf '[network]\nmode = isolated\nsubnet = 10.%d.%d.0/24\nautostart = no\n' $((100 + i / 256)) $((i % 256)) \
		>"$T/etc/networks/n$i.conf"
done
ctl reload >/dev/null
"$PYTHON" "$CLIENTS" slow-read "$SOCK" network.list "$T/list.slow"
size=$(wc -c <"$T/list.slow")
assert_eq "$(jq '.result | length' "$T/list.slow")" 2001 "networks in the reply read slowly"
# more than the socket takes at once (its send buffer and a message of half of it)
[ "$size" -gt $((3 * $(cat /proc/sys/net/core/wmem_default))) ] || fail "the reply is only $size bytes: too small"
ok "a $size-byte 'network list' reply reached a slow reader whole"
