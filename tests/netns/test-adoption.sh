#!/usr/bin/env bash
# kill -9 of netd disturbs nothing; a restarted netd adopts its bridges (same ifindex, MAC);
# bridges it owns that nothing wants are removed; foreign interfaces are never touched;
# a second netd on the same run dir refuses to start.
. "$(dirname "$0")/lib.sh"

ip -n "$NS" link add br-user type bridge
ip -n "$NS" link add user0 type veth peer name user1

start_netd
ctl network create lab --mode isolated --subnet 10.80.0.0/24 >/dev/null
ctl network create gone --mode isolated --subnet 10.81.0.0/24 >/dev/null
ctl network create idle --mode isolated --subnet 10.82.0.0/24 --no-autostart >/dev/null
idx=$(link_field nd-lab .ifindex)
mac=$(link_field nd-lab .address)

if nsx "$NETD" --config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" --socket "$T/other.sock" 2>"$T/second"; then
	fail "a second netd on the same run dir started"
fi
grep -q "another netd (pid $NETD_PID) is already running with run dir $T/run" "$T/second" ||
	fail "second netd message: $(cat "$T/second")"
ok "a second netd on the same run dir refuses: $(cat "$T/second" | sed 's/^.*error: //')"

kill9_netd
has_link nd-lab || fail "kill -9 removed the bridge"
assert_eq "$(link_field nd-lab '.flags | index("UP") != null')" true "bridge still up after kill -9"
rm "$T/etc/networks/gone.conf" # while netd is down, someone removes a definition
: >"$T/netd.log"
start_netd
assert_eq "$(link_field nd-lab .ifindex)" "$idx" "ifindex after restart"
assert_eq "$(link_field nd-lab .address)" "$mac" "MAC after restart"
assert_eq "$(ctl --json network show lab | jq -r .state)" active "state after adoption"
ok "kill -9 + restart adopts nd-lab: same ifindex $idx, same MAC"

has_link nd-gone && fail "orphaned bridge nd-gone was not removed"
ok "a bridge whose definition is gone is removed"
has_link nd-idle && fail "restart started a network that was not running"
assert_eq "$(ctl --json network show idle | jq -r .state)" inactive "idle stays inactive"
ok "a stopped network stays stopped across a restart"
has_link br-user || fail "foreign bridge br-user was touched"
has_link user0 || fail "foreign veth was touched"
ok "interfaces netd does not own are left alone"

# A clean stop (SIGTERM) also leaves networks running.
stop_netd
has_link nd-lab || fail "SIGTERM removed the bridge"
[ -S "$SOCK" ] && fail "socket left after SIGTERM"
start_netd
assert_eq "$(link_field nd-lab .ifindex)" "$idx" "ifindex after SIGTERM + restart"
ok "SIGTERM + restart adopts too"
