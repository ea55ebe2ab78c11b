#!/usr/bin/env bash
# NAT network create, from the command to dnsmasq bound to UDP/67, four ways in the same run,
# alternating: 'netdctl network create NAME --mode nat' (netd running); the manual way, a shell
# script of ip, nft -f, sysctl and dnsmasq (bench/nat-manual.sh); libvirt 9.0's 'virsh net-start'
# of the same network (defined once, libvirtd running in a namespace of its own); and dnsmasq's own
# start alone (the floor). Each is timed inside its namespace by one bash that polls /proc/net/udp
# with builtins.
. "$(dirname "$0")/../lib.sh"
command -v dnsmasq >/dev/null || { row "NAT network create" "-" "-" "-" "-" "skipped: no dnsmasq"; exit 0; }
start_netd
modes="netd manual floor"
if start_libvirtd; then
	cat >"$T/lv.xml" <<'XML'
<network>
  <name>lv</name>
  <forward mode='nat'/>
  <bridge name='lvbr0' stp='off' delay='0'/>
  <ip address='10.79.0.1' netmask='255.255.255.0'>
    <dhcp><range start='10.79.0.2' end='10.79.0.254'/></dhcp>
  </ip>
</network>
XML
	virsh net-define "$T/lv.xml" >/dev/null
	modes+=" libvirt"
fi
# timer.sh MODE N: one bash in the namespace; prints microseconds from start to UDP/67 bound.
cat >"$T/timer.sh" <<'TIMER'
bound() { [[ $(</proc/net/udp) == *":0043 "* ]]; }
t0=$EPOCHREALTIME
set -e
case $1 in
netd) "$NETDCTL" --socket "$SOCK" network create "b$2" --mode nat --subnet "10.77.$2.0/24" >/dev/null ;;
manual) bash "$BENCH_DIR/nat-manual.sh" up "m$2" "10.78.$2" "$T" ;;
libvirt) virsh -q -c qemu:///system net-start lv >/dev/null ;;
floor) dnsmasq --conf-file=/dev/null --interface=lo --port=0 --bind-interfaces --dhcp-range=127.0.0.2,127.0.0.254,1h \
	--dhcp-leasefile="$T/f$2.leases" --pid-file="$T/f$2.pid" --user=root ;;
esac
set +e
until bound; do :; done
t1=$EPOCHREALTIME
echo $(((${t1/./} - ${t0/./})))
TIMER
# Undo one sample so the next one starts from the same state.
undo() {
	case $1 in
	netd) ctl network delete "b$2" >/dev/null ;;
	manual) ip netns exec "$NS" bash "$BENCH_DIR/nat-manual.sh" down "m$2" "$T" ;;
	floor) kill "$(cat "$T/f$2.pid")" ;;
	libvirt)
		virsh net-destroy lv >/dev/null
		while nsenter -t "$LV_PID" -n grep -q ":0043 " /proc/net/udp; do sleep 0.01; done
		return
		;;
	esac
	while ip netns exec "$NS" grep -q ":0043 " /proc/net/udp; do sleep 0.01; done
}
export NETDCTL SOCK T BENCH_DIR
: >"$T/netd"; : >"$T/manual"; : >"$T/floor"; : >"$T/libvirt"
reps=$((REPS * 4))
for i in $(seq 1 "$reps"); do
	for mode in $modes; do
		if [ "$mode" = libvirt ]; then
			nsenter -t "$LV_PID" -m -n bash "$T/timer.sh" libvirt "$i" >>"$T/libvirt"
		else
			ip netns exec "$NS" bash "$T/timer.sh" "$mode" "$i" >>"$T/$mode"
		fi
		undo "$mode" "$i"
	done
done
read -r n_med n_lo n_hi n < <(stats "$T/netd")
read -r m_med m_lo m_hi _ < <(stats "$T/manual")
read -r f_med _ _ _ < <(stats "$T/floor")
ratio=$(ratio "$m_med" "$n_med")
met=$(awk -v a="$m_med" -v b="$n_med" 'BEGIN { print (a / b >= 1.5 && b < 12000) ? "yes" : "NO" }')
row "NAT network create -> dnsmasq on UDP/67 (p50 of $n; netd p10-p90 $(fmt "$(us_ms "$n_lo")" ms)-$(fmt "$(us_ms "$n_hi")" ms); dnsmasq alone $(fmt "$(us_ms "$f_med")" ms))" \
	"$(fmt "$(us_ms "$n_med")" ms)" "script $(fmt "$(us_ms "$m_med")" ms)" "$ratio" ">= 1.5x, < 12 ms" "$met"
if [ -s "$T/libvirt" ]; then
	read -r l_med l_lo l_hi ln < <(stats "$T/libvirt")
	ratio=$(ratio "$l_med" "$n_med")
	met=$(awk -v a="$l_med" -v b="$n_med" 'BEGIN { print (a / b >= 8) ? "yes" : "NO" }')
	row "NAT network create vs libvirt 9.0 virsh net-start (p50 of $ln; libvirt p10-p90 $(fmt "$(us_ms "$l_lo")" ms)-$(fmt "$(us_ms "$l_hi")" ms))" \
		"$(fmt "$(us_ms "$n_med")" ms)" "virsh $(fmt "$(us_ms "$l_med")" ms)" "$ratio" ">= 8x" "$met"
else
	row "NAT network create vs libvirt 9.0 virsh net-start" "-" "not measured: libvirt not installed (scripts/install-deps --bench)" "-" ">= 8x" "-"
fi
