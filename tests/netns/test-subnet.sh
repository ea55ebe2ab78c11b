#!/usr/bin/env bash
# --subnet auto (and no --subnet) picks a free /24 from netd's pool, avoiding the host's addresses
# and routes in every table and the other networks, and writes it into the definition; an
# exhausted pool is a clear error that changes nothing. While running, a route or address that
# appears over a network's subnet (a VPN coming up) marks it degraded with the reason, and the
# mark goes when the conflict does.
. "$(dirname "$0")/lib.sh"

ip -n "$NS" link add host0 type veth peer name host1
ip -n "$NS" link set host0 up
ip -n "$NS" addr add 10.122.0.5/24 dev host0            # the pool's first /24: an address
ip -n "$NS" route add 10.122.1.0/24 dev host0 table 100 # the second: a route outside main
ip -n "$NS" route add 10.122.2.0/23 dev host0           # the third and fourth: a wider route
start_netd
ctl network create lab --mode nat --subnet 10.122.5.0/24 >/dev/null # another network: the sixth

ctl network create a --mode nat --subnet auto >"$T/out" 2>"$T/err"
grep -q "picked subnet 10.122.4.0/24" "$T/err" || fail "progress line: $(cat "$T/err")"
assert_eq "$(ctl --json network show a | jq -r .subnet)" 10.122.4.0/24 "subnet of a"
assert_eq "$(ctl --json network show a | jq -r .gateway)" 10.122.4.1 "gateway of a"
grep -qx "subnet = 10.122.4.0/24" "$T/etc/networks/a.conf" || fail "chosen subnet not in the definition"
ok "--subnet auto: 10.122.4.0/24, past an address (.0), a route in table 100 (.1), a /23 route (.2-.3)"
ctl network create b --mode isolated >/dev/null
assert_eq "$(ctl --json network show b | jq -r .subnet)" 10.122.6.0/24 "subnet of b"
ok "no --subnet: 10.122.6.0/24, past network a and network lab (.5)"
stop_netd
start_netd
assert_eq "$(ctl --json network show a | jq -r .subnet)" 10.122.4.0/24 "subnet of a after a restart"
ok "the choice is kept across a restart"

# A small pool, used up.
stop_netd
ip -n "$NS" route add 10.123.0.0/24 dev host0
start_netd --subnet-pool 10.123.0.0/23
ctl network create c --mode nat >/dev/null
assert_eq "$(ctl --json network show c | jq -r .subnet)" 10.123.1.0/24 "subnet of c"
cases=(
	"1|network 'd': no free /24 left in the subnet pool 10.123.0.0/23: each overlaps a network, an address or a route|network create d --mode nat"
	"1|network 'd': no free /24 left in the subnet pool 10.123.0.0/23|network create d --mode routed --subnet auto"
	"1|invalid subnet 'automatic'|network create d --mode nat --subnet automatic"
)
bad_cli_cases cases
ok "an exhausted pool is refused, nothing changed"
rc=0
"$NETD" --subnet-pool 10.0.0.0/25 --run-dir "$T/other" 2>"$T/err" || rc=$?
assert_eq "$rc" 2 "netd exit code for a bad --subnet-pool"
grep -q "invalid --subnet-pool '10.0.0.0/25'" "$T/err" || fail "netd --subnet-pool error: $(cat "$T/err")"
ok "netd --subnet-pool 10.0.0.0/25: $(cat "$T/err" | head -n1)"

# A VPN-like route over a running network, then gone again.
monitor_start "$T/events" --json
ip -n "$NS" route add 10.123.0.0/16 dev host0 table 200
for _ in $(seq 1 100); do
	[ "$(ctl --json network show c | jq -r .state)" = degraded ] && break
	sleep 0.02
done
assert_eq "$(ctl --json network show c | jq -r .state)" degraded "state of c after the route appeared"
assert_eq "$(ctl --json network show c | jq -r .problem)" "network 'c' overlaps route 10.123.0.0/16 dev host0" "problem of c"
grep -q "network 'c' is degraded: network 'c' overlaps route 10.123.0.0/16 dev host0" "$T/netd.log" || fail "not logged"
grep -q '"network":"c","action":"degraded"' "$T/events" || fail "no event: $(cat "$T/events")"
ok "a route over c's subnet (table 200) marks it degraded: $(ctl --json network show c | jq -r .problem)"
ip -n "$NS" route del 10.123.0.0/16 dev host0 table 200
for _ in $(seq 1 100); do
	[ "$(ctl --json network show c | jq -r .state)" = active ] && break
	sleep 0.02
done
assert_eq "$(ctl --json network show c | jq -r .state)" active "state of c after the route went"
ok "the route removed: c is active again"
ip -n "$NS" addr add 10.123.1.200/32 dev host0
for _ in $(seq 1 100); do
	[ "$(ctl --json network show c | jq -r .state)" = degraded ] && break
	sleep 0.02
done
assert_eq "$(ctl --json network show c | jq -r .problem)" "network 'c' overlaps address 10.123.1.200/32 on host0" "problem of c"
ok "an address inside c's subnet on another interface: degraded ($(ctl --json network show c | jq -r .problem))"
