#!/usr/bin/env bash
# DHCP ACK -> lease visible in 'netdctl network leases': a client namespace on a NAT network takes
# a lease with a new MAC each round; tcpdump in the client stamps the ACK as it arrives, the
# lease event of 'netdctl monitor' (sent when netd's lease table, the one 'network leases' reads,
# has it) is stamped as it is read. Same clock, both on this host.
. "$(dirname "$0")/../lib.sh"
for c in dnsmasq busybox tcpdump; do
	command -v $c >/dev/null || { row "DHCP ACK -> lease visible" "-" "-" "-" "-" "skipped: no $c"; exit 0; }
done
start_netd
ctl network create d --mode nat --subnet 10.66.0.0/24 >/dev/null
add_guest_ns nd-d
stamp() { while IFS= read -r l; do echo "$EPOCHREALTIME $l"; done; }
ctl --json monitor 2>/dev/null | stamp >"$T/events" &
MON=$!
ip netns exec "$G" tcpdump -i gv0 -n -l -tt 'udp and src port 67' 2>/dev/null >"$T/dump" &
DUMP=$!
sleep 1
: >"$T/lat"
for i in $(seq 1 $((REPS * 2))); do # about 3.5 s each: dnsmasq pings a new address before offering it
	mac=$(printf '02:00:00:00:%02x:%02x' $((i / 256)) $((i % 256)))
	ip -n "$G" link set gv0 down
	ip -n "$G" link set gv0 address "$mac" up
	before=$(wc -l <"$T/dump")
	ip netns exec "$G" busybox udhcpc -i gv0 -n -q -s /bin/true -t 5 -T 1 >/dev/null 2>&1
	for _ in $(seq 1 200); do
		grep -q "\"mac\":\"$mac\"" "$T/events" && [ "$(wc -l <"$T/dump")" -ge $((before + 2)) ] && break
		sleep 0.01
	done
	ack=$(sed -n "$((before + 2))p" "$T/dump" | cut -d' ' -f1)
	ev=$(grep "\"mac\":\"$mac\"" "$T/events" | head -1 | cut -d' ' -f1)
	[ -n "$ack" ] && [ -n "$ev" ] && awk -v a="$ack" -v e="$ev" 'BEGIN { printf "%.3f\n", (e - a) * 1000 }' >>"$T/lat"
done
kill "$MON" "$DUMP" 2>/dev/null || true
[ -n "${BENCH_DEBUG:-}" ] && { head -5 "$T/events" "$T/dump" >&2; }
read -r med lo hi n < <(stats "$T/lat")
row "DHCP ACK -> lease visible (p50 of $n; p10-p90 $(fmt "$lo" ms)-$(fmt "$hi" ms))" "$(fmt "$med" ms)" "-" "-" \
	"p50 < 50 ms" "$(awk -v v="$med" -v n="$n" 'BEGIN { print (n > 0 && v < 50) ? "yes" : "NO" }')"
