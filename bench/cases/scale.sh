#!/usr/bin/env bash
# Scale: the cost of one operation as the host fills with networks (NAT, DHCP and DNS on, each
# its dnsmasq). At each step (SCALE_STEPS, default 10 100 250 500 1000 networks) REPS networks
# are created, stopped, started and deleted one at a time: the p50 wall time of each operation
# (netdctl, its own start included) and netd's CPU per operation; 'network list' round trips
# (bench-rtt, no process start); netd's RSS and the dnsmasq's PSS. At the last step: a kill -9
# restart until netd answers. Each step's figures go to stderr; the rows compare the last step
# with the first (flat: within 1.5x).
. "$(dirname "$0")/../lib.sh"
command -v dnsmasq >/dev/null || { row "scale" "-" "-" "-" "-" "skipped: no dnsmasq"; exit 0; }
read -r -a steps <<<"${SCALE_STEPS:-10 100 250 500 1000}"

ip -n "$NS" link add up0 type veth peer name up1
ip -n "$NS" addr add 192.168.60.2/24 dev up0
ip -n "$NS" link set up0 up
ip -n "$NS" link set up1 up
printf 'nameserver 192.168.60.1\n' >"$T/resolv.conf"
start_netd_scale() {
	ip netns exec "$NS" "$NETD" --config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" \
		--socket "$SOCK" --log-level warning --resolv-conf "$T/resolv.conf" 2>>"$T/netd.log" &
	NETD_PID=$!
	disown "$NETD_PID"
	until ctl status >/dev/null 2>&1; do
		kill -0 "$NETD_PID" 2>/dev/null || { echo "netd died: $(tail -5 "$T/netd.log")" >&2; exit 1; }
		sleep 0.002
	done
}
start_netd_scale

subnet() { echo "10.$((100 + $1 / 250)).$(($1 % 250)).0/24"; }
create() { ctl network create "n$1" --mode nat --subnet "$(subnet "$1")" --uplink up0 >/dev/null; }
# netd's CPU time in us: the scheduler's runtime of its (only) thread, in ns (/proc/PID/stat counts
# 10 ms clock ticks, too coarse for an operation of a few ms).
cpu_us() { awk '{ print int($1 / 1000) }' "/proc/$NETD_PID/schedstat"; }
per_op_ms() { awk -v d="$1" -v n="$2" 'BEGIN { printf "%.1f", d / n / 1000 }'; }
# timed FILE CMD...: append CMD's wall time in ms to FILE.
timed() {
	local f=$1 t0
	shift
	t0=$(now_us)
	"$@"
	echo "$((($(now_us) - t0)))" | awk '{ print $1 / 1000 }' >>"$f"
}
p50() { stats "$1" | awk '{ print $1 }'; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$NETD_PID/status"; }
dnsmasq_pss_kb() {
	local s=0 p
	for p in $(ip netns pids "$NS"); do
		[ "$p" = "$NETD_PID" ] && continue
		grep -q dnsmasq "/proc/$p/comm" 2>/dev/null || continue
		s=$((s + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
	done
	echo "$s"
}

have=0
declare -A create_ms stop_ms start_ms delete_ms list_ms cpu_create cpu_stopstart cpu_delete rss pss
for n in "${steps[@]}"; do
	while [ "$have" -lt "$n" ]; do
		have=$((have + 1))
		create "$have"
	done
	sleep 1
	for f in c s st d; do : >"$T/$f"; done
	c0=$(cpu_us)
	for i in $(seq 1 "$REPS"); do timed "$T/c" create $((5000 + i)) >/dev/null; done
	c1=$(cpu_us)
	for i in $(seq 1 "$REPS"); do
		timed "$T/s" ctl network stop "n$((5000 + i))" >/dev/null
		timed "$T/st" ctl network start "n$((5000 + i))" >/dev/null
	done
	c2=$(cpu_us)
	for i in $(seq 1 "$REPS"); do timed "$T/d" ctl network delete "n$((5000 + i))" >/dev/null; done
	c3=$(cpu_us)
	"$BUILD/bench/bench-rtt" "$SOCK" 10 '{"method":"network.list"}' >/dev/null
	"$BUILD/bench/bench-rtt" "$SOCK" 50 '{"method":"network.list"}' >"$T/l"
	create_ms[$n]=$(p50 "$T/c")
	stop_ms[$n]=$(p50 "$T/s")
	start_ms[$n]=$(p50 "$T/st")
	delete_ms[$n]=$(p50 "$T/d")
	list_ms[$n]=$(p50 "$T/l" | awk '{ print $1 / 1000 }')
	cpu_create[$n]=$(per_op_ms $((c1 - c0)) "$REPS")
	cpu_stopstart[$n]=$(per_op_ms $((c2 - c1)) "$REPS")
	cpu_delete[$n]=$(per_op_ms $((c3 - c2)) "$REPS")
	rss[$n]=$(rss_kb)
	pss[$n]=$(dnsmasq_pss_kb)
	printf '# scale %5d networks: create %s ms (netd CPU %s ms), stop %s ms, start %s ms (netd CPU %s ms the pair), delete %s ms (netd CPU %s ms), list %s ms, netd RSS %s KiB, dnsmasq PSS %s KiB\n' \
		"$n" "${create_ms[$n]}" "${cpu_create[$n]}" "${stop_ms[$n]}" "${start_ms[$n]}" "${cpu_stopstart[$n]}" \
		"${delete_ms[$n]}" "${cpu_delete[$n]}" "${list_ms[$n]}" "${rss[$n]}" "${pss[$n]}" >&2
done

lo=${steps[0]}
hi=${steps[-1]}
flat "network create (p50 of $REPS; netd CPU ${cpu_create[$lo]} -> ${cpu_create[$hi]} ms)" "${create_ms[$lo]}" "${create_ms[$hi]}" ms
flat "network stop (p50 of $REPS)" "${stop_ms[$lo]}" "${stop_ms[$hi]}" ms
flat "network start (p50 of $REPS; netd CPU of a stop and a start ${cpu_stopstart[$lo]} -> ${cpu_stopstart[$hi]} ms)" "${start_ms[$lo]}" "${start_ms[$hi]}" ms
flat "network delete (p50 of $REPS; netd CPU ${cpu_delete[$lo]} -> ${cpu_delete[$hi]} ms)" "${delete_ms[$lo]}" "${delete_ms[$hi]}" ms
met=$(awk -v v="${list_ms[$hi]}" 'BEGIN { print (v < 5) ? "yes" : "NO" }')
row "network list at $hi networks (p50 of 50, bench-rtt)" "$(fmt "${list_ms[$hi]}" ms)" "$(fmt "${list_ms[$lo]}" ms) at $lo" "-" "< 5 ms" "$met"
per_net=$(awk -v a="${rss[$lo]}" -v b="${rss[$hi]}" -v n=$((hi - lo)) 'BEGIN { printf "%.1f", (b - a) / n }')
per_dns=$(awk -v a="${pss[$hi]}" -v n="$hi" 'BEGIN { printf "%.0f", a / n }')
row "memory per network: netd RSS growth, dnsmasq PSS (at $hi networks)" "netd $per_net KiB" "dnsmasq $per_dns KiB" "-" "figures" "-"

# Restart at the last step: kill -9, until netd answers (every dnsmasq adopted, the table kept).
kill -9 "$NETD_PID"
t0=$(now_us)
while [ -e "/proc/$NETD_PID" ] && [ "$(awk '{ print $3 }' "/proc/$NETD_PID/stat" 2>/dev/null)" != Z ]; do
	sleep 0.001
done
start_netd_scale
ms=$(awk -v v=$(($(now_us) - t0)) 'BEGIN { print v / 1000 }')
met=$(awk -v v="$ms" 'BEGIN { print (v < 1000) ? "yes" : "NO" }')
row "netd restart (kill -9) with $hi networks: back in control" "$(fmt "$ms" ms)" "-" "-" "< 1 s" "$met"
