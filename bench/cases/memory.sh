#!/usr/bin/env bash
# netd's resident memory, idle, with 10 networks running and 10 guests defined (not started);
# libvirt 9.0's libvirtd, in a namespace of its own, with the same networks and guests.
# Two rows: VmRSS (every resident page, shared library pages too) and Pss (shared pages divided
# among the processes that map them, the fair share of one process).
. "$(dirname "$0")/../lib.sh"

start_netd
for i in $(seq 1 10); do
	ctl network create "n$i" --mode isolated --subnet "10.99.$i.0/24" >/dev/null
done
: >"$T/vmlinuz"
for i in $(seq 1 10); do
	ctl vm create "g$i" --network "n$i" --kernel "$T/vmlinuz" --no-autostart >/dev/null
done
sleep 1.5 # idle: netd trims its heap a second after the last request
: >"$T/rss"
for _ in $(seq 1 "$REPS"); do
	awk '/^VmRSS:/ { print $2 / 1024 }' "/proc/$NETD_PID/status" >>"$T/rss"
	awk '/^RssAnon:/ { print $2 / 1024 }' "/proc/$NETD_PID/status" >>"$T/anon"
	awk '/^Pss:/ { print $2 / 1024 }' "/proc/$NETD_PID/smaps_rollup" >>"$T/pss"
	ctl network list >/dev/null
	sleep 0.1
done
read -r med lo hi n < <(stats "$T/rss")
read -r anon _ _ _ < <(stats "$T/anon")
read -r pss _ _ _ < <(stats "$T/pss")
met=$(awk -v v="$med" 'BEGIN { print (v < 4) ? "yes" : "NO" }')
pss_met=$(awk -v v="$pss" 'BEGIN { print (v < 4) ? "yes" : "NO" }')
base="libvirtd: not measured, libvirt not installed (scripts/install-deps --bench)"
pss_base=$base
ratio=-
pss_ratio=-
if start_libvirtd; then
	for i in $(seq 1 10); do
		printf "<network><name>n%d</name><bridge name='lv%d' stp='off' delay='0'/><ip address='10.98.%d.1' netmask='255.255.255.0'/></network>\n" \
			"$i" "$i" "$i" >"$T/n$i.xml"
		virsh net-define "$T/n$i.xml" >/dev/null
		virsh net-start "n$i" >/dev/null
		cat >"$T/g$i.xml" <<XML
<domain type='qemu'><name>g$i</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><kernel>$T/vmlinuz</kernel></os>
<devices><interface type='network'><source network='n$i'/><model type='virtio'/></interface></devices></domain>
XML
		virsh define "$T/g$i.xml" >/dev/null
	done
	sleep 0.5
	: >"$T/lvrss"
	for _ in $(seq 1 "$REPS"); do
		awk '/^VmRSS:/ { print $2 / 1024 }' "/proc/$LV_PID/status" >>"$T/lvrss"
		awk '/^Pss:/ { print $2 / 1024 }' "/proc/$LV_PID/smaps_rollup" >>"$T/lvpss"
		virsh net-list >/dev/null
		sleep 0.1
	done
	read -r lmed _ _ _ < <(stats "$T/lvrss")
	read -r lpss _ _ _ < <(stats "$T/lvpss")
	base="libvirtd $(fmt "$lmed" MiB)"
	ratio=$(awk -v a="$lmed" -v b="$med" 'BEGIN { printf "%.1fx less", a / b }')
	pss_base="libvirtd $(fmt "$lpss" MiB)"
	pss_ratio=$(awk -v a="$lpss" -v b="$pss" 'BEGIN { printf "%.1fx less", a / b }')
fi
row "netd RSS idle, 10 networks running, 10 guests defined ($(fmt "$anon" MiB) of it netd's own, the rest shared library pages)" "$(fmt "$med" MiB)" \
	"$base" "$ratio" "< 4 MiB" "$met"
row "netd PSS idle, the same (shared library pages divided among the processes mapping them)" "$(fmt "$pss" MiB)" \
	"$pss_base" "$pss_ratio" "< 4 MiB" "$pss_met"
