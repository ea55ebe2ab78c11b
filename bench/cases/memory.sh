#!/usr/bin/env bash
# netd's resident memory, idle, with 10 networks running and 10 guests defined (not started).
. "$(dirname "$0")/../lib.sh"

start_netd
for i in $(seq 1 10); do
	ctl network create "n$i" --mode isolated --subnet "10.99.$i.0/24" >/dev/null
done
: >"$T/vmlinuz"
for i in $(seq 1 10); do
	ctl vm create "g$i" --network "n$i" --kernel "$T/vmlinuz" --no-autostart >/dev/null
done
sleep 0.5
: >"$T/rss"
for _ in $(seq 1 "$REPS"); do
	awk '/^VmRSS:/ { print $2 / 1024 }' "/proc/$NETD_PID/status" >>"$T/rss"
	awk '/^RssAnon:/ { print $2 / 1024 }' "/proc/$NETD_PID/status" >>"$T/anon"
	ctl network list >/dev/null
	sleep 0.1
done
read -r med lo hi n < <(stats "$T/rss")
read -r anon _ _ _ < <(stats "$T/anon")
met=$(awk -v v="$med" 'BEGIN { print (v < 4) ? "yes" : "NO" }')
row "netd RSS idle, 10 networks running, 10 guests defined ($(fmt "$anon" MiB) of it netd's own, the rest shared library pages)" "$(fmt "$med" MiB)" \
	"libvirtd: not measured (bench/run does not install libvirt)" "-" "< 4 MiB" "$met"
