#!/usr/bin/env bash
# Control request round trip: network.list with 100 networks (bridges up), measured by a C client
# that connects, sends one request and reads the reply (no process start in the figure).
. "$(dirname "$0")/../lib.sh"

start_netd
for i in $(seq 1 100); do
	ctl network create "n$i" --mode isolated --subnet "10.$((100 + i / 200)).$((i % 200)).0/24" >/dev/null
done
"$BUILD/bench/bench-rtt" "$SOCK" 20 '{"method":"network.list"}' >/dev/null # warm up
"$BUILD/bench/bench-rtt" "$SOCK" $((REPS * 100)) '{"method":"network.list"}' >"$T/rtt"
read -r med lo hi n < <(stats "$T/rtt")
ms=$(awk -v v="$med" 'BEGIN { print v / 1000 }')
met=$(awk -v v="$ms" 'BEGIN { print (v < 5) ? "yes" : "NO" }')
spread=$(awk -v a="$lo" -v b="$hi" 'BEGIN { printf "%.2f-%.2f ms", a / 1000, b / 1000 }')
row "control round trip, network list, 100 networks (p50 of $n, p10-p90 $spread)" \
	"$(fmt "$ms" ms)" "-" "-" "< 5 ms" "$met"
