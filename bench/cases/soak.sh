#!/usr/bin/env bash
# Soak: SOAK_CYCLES (default 500) create/delete cycles of one NAT network (DHCP and DNS on) next to
# 10 networks that keep running. What must not grow: netd's open fds, its RSS, the files in its
# run and state dirs, the dnsmasq processes. Sampled after the first 20 cycles (the allocator and
# caches warmed up) and at the end.
. "$(dirname "$0")/../lib.sh"
command -v dnsmasq >/dev/null || { row "soak" "-" "-" "-" "-" "skipped: no dnsmasq"; exit 0; }
cycles=${SOAK_CYCLES:-500}

ip -n "$NS" link add up0 type veth peer name up1
ip -n "$NS" addr add 192.168.61.2/24 dev up0
ip -n "$NS" link set up0 up
ip -n "$NS" link set up1 up
start_netd
for i in $(seq 1 10); do
	ctl network create "keep$i" --mode nat --subnet "10.61.$i.0/24" --uplink up0 >/dev/null
done

fds() { find "/proc/$NETD_PID/fd" -mindepth 1 | wc -l; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$NETD_PID/status"; }
files() { find "$T/run" "$T/lib" "$T/etc" -mindepth 1 | wc -l; }
dnsmasqs() {
	local n=0 p
	for p in $(ip netns pids "$NS"); do grep -qx dnsmasq "/proc/$p/comm" 2>/dev/null && n=$((n + 1)); done
	echo "$n"
}
sample() { echo "$(fds) $(rss_kb) $(files) $(dnsmasqs)"; }
cycle() {
	ctl network create soak --mode nat --subnet 10.62.0.0/24 --uplink up0 >/dev/null
	ctl network delete soak >/dev/null
}

for _ in $(seq 1 20); do cycle; done
sleep 0.5
read -r fd0 rss0 files0 dns0 <<<"$(sample)"
t0=$(now_us)
for _ in $(seq 21 "$cycles"); do cycle; done
t1=$(now_us)
sleep 0.5
read -r fd1 rss1 files1 dns1 <<<"$(sample)"
echo "# soak: $cycles cycles in $(((t1 - t0) / 1000)) ms; fds $fd0 -> $fd1, RSS $rss0 -> $rss1 KiB, files $files0 -> $files1, dnsmasq $dns0 -> $dns1" >&2
grow=$((rss1 - rss0))
met=$([ "$fd1" -le "$fd0" ] && [ "$files1" -le "$files0" ] && [ "$dns1" -le "$dns0" ] && [ "$grow" -le 256 ] && echo yes || echo NO)
row "soak: $cycles create/delete cycles next to 10 networks: netd fds, RSS, files in its dirs, dnsmasq (after 20 -> after $cycles)" \
	"fds $fd0->$fd1, RSS $rss0->$rss1 KiB, files $files0->$files1, dnsmasq $dns0->$dns1" "-" "-" "flat (RSS +256 KiB at most)" "$met"
