#!/usr/bin/env bash
# Restart of netd with 100 networks running: kill -9, start, back in control (status answers
# after the startup reconcile); a guest pings its gateway at 100 Hz meanwhile: packets lost.
. "$(dirname "$0")/../lib.sh"

start_netd
for i in $(seq 1 100); do
	ctl network create "n$i" --mode isolated --subnet "10.$((100 + i / 200)).$((i % 200)).0/24" >/dev/null
done
add_guest_ns nd-n1
gw=$(ctl --json network show n1 | jq -r .gateway)
ip -n "$G" addr add "${gw%.*}.50/24" dev gv0
ip netns exec "$G" ping -q -i 0.01 -W 1 "$gw" >"$T/ping" 2>&1 &
PING=$!
sleep 0.5
: >"$T/restart"
for _ in $(seq 1 "$REPS"); do
	kill -9 "$NETD_PID"
	while kill -0 "$NETD_PID" 2>/dev/null; do sleep 0.001; done
	NETD_PID=
	t0=$(now_us)
	start_netd
	echo $((($(now_us) - t0) / 1000)) >>"$T/restart"
done
sleep 0.3
kill -INT "$PING"
wait "$PING" 2>/dev/null || true
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T/ping")
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping")
dnsmasqs=$(ip netns pids "$NS" | xargs -r ps -o comm= -p | grep -c dnsmasq || true)
read -r med lo hi n < <(stats "$T/restart")
met=$(awk -v v="$med" -v l="$((sent - recv))" 'BEGIN { print (v < 1000 && l == 0) ? "yes" : "NO" }')
row "netd restart (kill -9) with 100 networks, $dnsmasqs dnsmasq running: back in control (median of $n; $((sent - recv)) of $sent pings lost)" \
	"$(fmt "$med" ms)" "-" "-" "< 1 s, 0 lost" "$met"
