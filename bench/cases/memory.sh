#!/usr/bin/env bash
# netd's resident memory, idle, with 10 networks running (guests come with the vmm module).
. "$(dirname "$0")/../lib.sh"

start_netd
for i in $(seq 1 10); do
	ctl network create "n$i" --mode isolated --subnet "10.99.$i.0/24" >/dev/null
done
sleep 0.5
: >"$T/rss"
for _ in $(seq 1 "$REPS"); do
	awk '/^VmRSS:/ { print $2 / 1024 }' "/proc/$NETD_PID/status" >>"$T/rss"
	ctl network list >/dev/null
	sleep 0.1
done
read -r med lo hi n < <(stats "$T/rss")
met=$(awk -v v="$med" 'BEGIN { print (v < 4) ? "yes" : "NO" }')
row "netd RSS idle, 10 networks (guests: not yet built)" "$(fmt "$med" MiB)" \
	"libvirt: not measured (not installed)" "-" "< 4 MiB" "$met"
