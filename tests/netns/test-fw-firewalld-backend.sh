#!/usr/bin/env bash
# netd's firewalld backend (netd/network/fwint-firewalld.c) against the real firewalld 1.x, run in
# the test's namespace on a private system bus (firewalld-lib.sh), through firewalld-call: no bus,
# a bus without firewalld, zones, binding an interface (read back with firewall-cmd and in
# firewalld's table), moving and unbinding it, firewalld's errors, and the on_change events of a
# start, a reload (which drops runtime bindings), a stop and the bus going away. The host's
# /etc/firewalld, /run and root namespace ruleset must be as they were.
source "$(dirname "$0")/lib.sh"
source "$TESTS_LIB_DIR/firewalld-lib.sh"
: "${FIREWALLD_CALL:?FIREWALLD_CALL must point to the firewalld-call test driver}"
ZONE_FILE="$TESTS_LIB_DIR/../../data/firewalld/netd.xml"

fc() { nsx "$FIREWALLD_CALL" "$@"; }
# fc_fails EXPECTED_STDERR CMD...: the call must fail with that error line.
fc_fails() {
	local want=$1 rc=0
	shift
	fc "$@" >"$T/fc.out" 2>"$T/fc.err" || rc=$?
	assert_eq "$rc" 1 "exit code of firewalld-call $* ($(cat "$T/fc.err"))"
	has -xF -- "$want" "$T/fc.err" || fail "firewalld-call $*: expected '$want', got: $(cat "$T/fc.err")"
	ok "$* -> $want"
}
# watch_line N REGEX: the watch's Nth change line must match (waits up to 10 s for it).
watch_line() {
	local line
	for _ in $(seq 1 100); do
		line=$(grep ' change ' "$T/watch.out" | sed -n "$1p")
		[ -n "$line" ] && break
		sleep 0.1
	done
	[[ "$line" =~ $2 ]] || fail "on_change event $1: expected /$2/, got '$line'; all: $(cat "$T/watch.out")"
	ok "on_change event $1: ${line#* }"
	[[ "$line" != *error=-110* ]] || echo "# event $1: firewalld was still busy loading its rules; zone_of hit the backend's 2 s bound"
}
# An event that asks zone_of: firewalld answers once it has loaded its rules, or, on a loaded
# machine (a CI run: firewalld took 3.9 s to start), later than the backend's 2 s bound. A timeout
# is the backend working as meant: netd mutes firewalld for that pass and asks again on the next.
ZONE_ANSWER='change running=1 (zone=|error=-110 \(firewalld did not answer within 2 s\)) in=[0-9]+ ms$'

zone_of() { fc zone-of "$1" 2>/dev/null; }

FWD_HOST_BEFORE=$(fwd_host_snapshot)

# No system bus (nothing listens on DBUS_SYSTEM_BUS_ADDRESS yet): open() is no error.
assert_eq "$(fc running)" 0 "running without a bus"
fc_fails "error -107 (Transport endpoint is not connected): no D-Bus system bus" bind trusted x
fwd_bus_start

# A bus without firewalld: not running; a call says so.
assert_eq "$(fc running)" 0 "running without firewalld"
fc_fails "error -3 (No such process): firewalld is not running (The name org.fedoraproject.FirewallD1 was not provided by any .service files)" bind trusted x

# Events from here on: start, reload, stop.
fc watch 3 nd-a >"$T/watch.out" 2>&1 &
WATCH=$!
for _ in $(seq 1 50); do has ready "$T/watch.out" && break; sleep 0.1; done
has 'ready running=0' "$T/watch.out" || fail "watch did not start: $(cat "$T/watch.out")"

fwd_add_zone "$ZONE_FILE"
fwd_start
ok "firewalld RUNNING $FWD_START_MS ms after its exec"
nsx nft list tables | has -x 'table inet firewalld' || fail "no table inet firewalld in the namespace"
# The watch asks zone_of at once: firewalld answers when it has loaded its rules (in=: how long).
watch_line 1 "$ZONE_ANSWER"
assert_eq "$(fc running)" 1 "running"
assert_eq "$(fc has-zone trusted)" 1 "has-zone trusted"
assert_eq "$(fc has-zone netd)" 1 "has-zone netd (data/firewalld/netd.xml in its config)"
assert_eq "$(fc has-zone nosuch)" 0 "has-zone nosuch"
ok "zones: trusted and netd there, nosuch not"
assert_eq "$(fwd_cmd --info-zone=netd | sed -n 's/^ *target: //p')" ACCEPT "target of zone netd"

ip -n "$NS" link add nd-a type veth peer name nd-b
assert_eq "$(zone_of nd-a)" "" "zone of nd-a before"
fc bind trusted nd-a >"$T/fc.out" 2>"$T/fc.err" || fail "bind trusted nd-a: $(cat "$T/fc.err")"
has -F "debug: firewalld: bind nd-a to zone trusted" "$T/fc.err" || fail "no debug line for the bind: $(cat "$T/fc.err")"
assert_eq "$(zone_of nd-a)" trusted "zone of nd-a (backend)"
assert_eq "$(fwd_cmd --get-zone-of-interface=nd-a)" trusted "zone of nd-a (firewall-cmd)"
nsx nft list chain inet firewalld filter_FORWARD_ZONES | has -F 'iifname "nd-a" goto filter_FWD_trusted' ||
	fail "firewalld's forward rules do not send nd-a to zone trusted"
ok "nd-a bound to trusted: the backend, firewall-cmd and firewalld's table agree"

# Moving it (changeZoneOfInterface takes it from the old zone); the same again changes nothing.
fc bind netd nd-a >/dev/null 2>&1 || fail "bind netd nd-a"
fc bind netd nd-a >/dev/null 2>&1 || fail "bind netd nd-a again"
assert_eq "$(zone_of nd-a)" netd "zone of nd-a after the move"
fwd_cmd --zone=trusted --query-interface=nd-a >/dev/null && fail "nd-a still in zone trusted"
ok "nd-a moved to netd"

# Unbinding from a zone it is not in leaves it where it is; unbinding twice is no error.
assert_eq "$(fc unbind trusted nd-a 2>/dev/null)" 0 "unbind from a zone it is not in"
assert_eq "$(zone_of nd-a)" netd "zone of nd-a after unbinding it from another zone"
fc unbind netd nd-a >/dev/null 2>"$T/fc.err" || fail "unbind netd nd-a: $(cat "$T/fc.err")"
has -F "debug: firewalld: unbind nd-a from zone netd" "$T/fc.err" || fail "no debug line for the unbind"
assert_eq "$(zone_of nd-a)" "" "zone of nd-a after unbind"
assert_eq "$(fwd_cmd --get-zone-of-interface=nd-a 2>&1)" "no zone" "firewall-cmd after unbind"
assert_eq "$(fc unbind netd nd-a 2>/dev/null)" 0 "unbind again"
ok "unbind: from another zone and twice are no-ops, and it is gone"

# firewalld's errors: a negative errno and its own text.
fc_fails "error -2 (No such file or directory): INVALID_ZONE: nosuch" bind nosuch nd-a
fc_fails "error -22 (Invalid argument): INVALID_INTERFACE: bad name!" bind trusted 'bad name!'
# (firewalld looks for the interface first: bound, so that the zone is checked)
fc bind trusted nd-a >/dev/null 2>&1 || fail "bind trusted nd-a"
fc_fails "error -2 (No such file or directory): INVALID_ZONE: nosuch" unbind nosuch nd-a
# A firewalld that does not answer (stopped): the call gives up after its timeout. A call that only
# reads, since firewalld carries out what is queued when it runs again.
kill -STOP "$FWD_PID"
fc_fails "error -110 (Connection timed out): firewalld did not answer within 2 s" zone-of nd-a
kill -CONT "$FWD_PID"

# A reload drops the runtime bindings (FlushAllOnReload=yes, the default): the Reloaded signal
# comes after, when nd-a is in no zone already. That is when netd binds again.
assert_eq "$(zone_of nd-a)" trusted "zone of nd-a before the reload"
fwd_reload
watch_line 2 "$ZONE_ANSWER"
assert_eq "$(zone_of nd-a)" "" "zone of nd-a after the reload"
ok "a reload dropped nd-a's runtime binding"

fwd_stop
watch_line 3 'change running=0$'
assert_eq "$(fc running)" 0 "running after the stop"
nsx nft list tables | has -F firewalld && fail "firewalld left its tables at its stop: $(nsx nft list tables)"
wait "$WATCH" || fail "watch exited with $?: $(cat "$T/watch.out")"
ok "stop: an event, running 0, its table gone"

# The bus going away counts as firewalld going away.
fwd_start
fc watch 1 >"$T/watch.out" 2>&1 &
WATCH=$!
for _ in $(seq 1 50); do has ready "$T/watch.out" && break; sleep 0.1; done
has 'ready running=1' "$T/watch.out" || fail "watch did not start: $(cat "$T/watch.out")"
fwd_bus_stop
watch_line 1 'change running=0$'
wait "$WATCH" || fail "watch exited with $?: $(cat "$T/watch.out")"
ok "the bus going away: an event, running 0"

fwd_host_check
ok "the host's /etc/firewalld, /run and root ruleset are untouched"
