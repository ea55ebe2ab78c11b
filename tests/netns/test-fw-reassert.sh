#!/bin/bash
# Without owned tables (netd --nft-table-flags none: what a kernel older than 6.9 gives), netd
# re-applies its table after another process's 'nft flush ruleset', and fast however busy the
# ruleset is: with a foreign change every 20 ms all along (a dummy table added and deleted), ten
# flushes while a guest pings upstream through NAT at 100 Hz; each time table inet netd comes back
# with its masquerade rule within a second. How fast (tens of ms) is reported with the pings lost,
# not asserted: timings are the benchmarks' (a loaded CI machine took 70-120 ms where a quiet one
# takes under 50).
. "$(dirname "$0")/lib.sh"
need nft socat dnsmasq busybox

add_upstream
start_netd --nft-table-flags none
grep -q "netd's tables are not owned by netd (--nft-table-flags none)" "$T/netd.log" ||
	fail "--nft-table-flags none not reported"
ctl network create lab --mode nat --subnet 10.92.0.0/24 >/dev/null || fail "network create"
add_guest g1 52:54:00:92:00:01 nd-lab
dhcp_client g1 lab
guest_ip g1 >/dev/null
gx g1 ip route add default via 10.92.0.1
assert_eq "$(ask_upstream g1)" 192.168.50.2 "source address upstream sees from the guest"
nsx nft delete table inet netd || fail "a foreign delete of a table netd does not own failed"
for _ in $(seq 100); do nsx nft list table inet netd >/dev/null 2>&1 && break; sleep 0.01; done
nsx nft list table inet netd >/dev/null 2>&1 || fail "table inet netd not back after a foreign delete"
ok "--nft-table-flags none: plain table, deleted by another process and re-applied"

# A foreign transaction every 20 ms, all along.
(
	while :; do
		nsx nft add table ip netdtest_dummy
		sleep 0.01
		nsx nft delete table ip netdtest_dummy
		sleep 0.01
	done
) >/dev/null 2>&1 &
CHURN=$!
BG_PIDS+=("$CHURN")
gx g1 ping -i 0.01 -c 1000 -W 1 192.168.50.1 >"$T/ping" 2>&1 &
PING=$!
sleep 0.5
times=()
for _ in $(seq 10); do
	nsx nft flush ruleset
	t0=$(date +%s%N)
	back=
	for _ in $(seq 500); do
		if grep -q masquerade <<<"$(nsx nft list table inet netd 2>/dev/null)"; then
			back=$((($(date +%s%N) - t0) / 1000000))
			break
		fi
	done
	[ -n "$back" ] || fail "table inet netd not back after nft flush ruleset"
	times+=("$back")
	sleep 0.4
done
kill "$CHURN" 2>/dev/null || true
wait "$CHURN" 2>/dev/null || true
nsx nft delete table ip netdtest_dummy 2>/dev/null || true
wait "$PING" || true
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
median=${sorted[4]} max=${sorted[9]}
# The churn never stops: a netd that waited for quiet would never re-apply. Each re-apply takes
# netd's look, its apply and this loop's 'nft list' polls; 300-670 ms under a loaded rehearsal,
# once 1084 ms (CI's lanes plus other builds on two cores): a bound of 2 s, the median's 1 s.
[ "$max" -lt 2000 ] || fail "table back only after $max ms once (${times[*]})"
[ "$median" -lt 1000 ] || fail "table back only after $median ms in the median (${times[*]})"
grep -q "was removed by another process; re-applying it" "$T/netd.log" || fail "re-apply not logged"
assert_eq "$(ask_upstream g1)" 192.168.50.2 "NAT after the flushes"
ok "10 flushes amid a foreign change every 20 ms: table back in ${times[*]} ms (median $median, max $max);" \
	"$(grep -oE '[0-9]+ packets transmitted, [0-9]+ received' "$T/ping") at 100 Hz over all of them"
