#!/usr/bin/env bash
# Port forwards: the time of one 'netdctl network forward add' (the command's own start
# included, ~3 ms) and netd's CPU for it, next to 10 and next to 1000 forwards of the same nat
# network. Each timed forward is removed again, so the count stays. A forward is map elements of
# table inet netd_fwd (nat/forward.h), so the cost should not grow with the forwards in place.
. "$(dirname "$0")/../lib.sh"

start_netd
ctl network create fwd --mode nat --subnet 10.200.0.0/24 --no-dhcp --no-dns >/dev/null
N=$((REPS * 6))
have=0
cpu_ns() { awk '{ print $1 }' "/proc/$NETD_PID/schedstat"; }
fill_to() {
	while [ "$have" -lt "$1" ]; do
		ctl network forward add fwd --proto tcp --port $((20000 + have)) --to 10.200.0.5:80 >/dev/null
		have=$((have + 1))
	done
}
# measure STEP: N adds (each removed after), their times in $T/add-STEP, netd's CPU in $T/cpu-STEP
measure() {
	local i t0 t1 c0 c1 id
	: >"$T/add-$1"
	: >"$T/cpu-$1"
	for i in $(seq 1 "$N"); do
		c0=$(cpu_ns)
		t0=$(now_us)
		id=$(ctl --json network forward add fwd --proto tcp,udp --port 5000-5001 --to 10.200.0.6:80-81 | jq .id)
		t1=$(now_us)
		c1=$(cpu_ns)
		echo $((t1 - t0)) >>"$T/add-$1"
		echo $((c1 - c0)) >>"$T/cpu-$1"
		ctl network forward remove fwd "$id"
	done
}
lo=10 hi=1000
fill_to $lo
measure $lo
fill_to $hi
measure $hi
[ "$(ip netns exec "$NS" nft -j list map inet netd_fwd fwd4_any | jq '.nftables[1].map.elem | length')" = $hi ] ||
	{ echo "not $hi elements in the map" >&2; exit 1; }
read -r a_lo _ <<<"$(stats "$T/add-$lo")"
read -r a_hi _ <<<"$(stats "$T/add-$hi")"
read -r c_lo _ <<<"$(stats "$T/cpu-$lo")"
read -r c_hi _ <<<"$(stats "$T/cpu-$hi")"
flat "port forward add, tcp,udp 2 ports (p50 of $N; netd CPU $(fmt "$(awk -v v="$c_lo" 'BEGIN { print v / 1e6 }')" ms) -> $(fmt "$(awk -v v="$c_hi" 'BEGIN { print v / 1e6 }')" ms))" \
	"$(us_ms "$a_lo")" "$(us_ms "$a_hi")" ms
