#!/usr/bin/env bash
# NAT network create, from the command to dnsmasq bound to UDP/67, four ways in the same run,
# alternating: 'netdctl network create NAME --mode nat' (netd running); the manual way, a shell
# script of ip, nft -f, sysctl and dnsmasq; libvirt 9.0's 'virsh net-start' of the same network
# (defined once, libvirtd running in a namespace of its own); and dnsmasq's own start alone (the
# floor). Each is timed inside its namespace by one bash that polls /proc/net/udp with builtins.
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
cat >"$T/manual.sh" <<'SCRIPT'
# The manual way, as an operator's script would do it (bridge, address, rules, forwarding, dnsmasq).
set -e
ip link add "$1" type bridge stp_state 0 forward_delay 0
ip addr add "$2.1/24" dev "$1"
ip link set "$1" up
nft -f - <<NFT
table inet m$1 {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname "$1" ip daddr $2.0/24 ct state established,related accept
		iifname "$1" ip saddr $2.0/24 accept
		iifname "$1" oifname "$1" accept
		iifname "$1" reject
		oifname "$1" reject
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr $2.0/24 ip daddr 224.0.0.0/4 return
		ip saddr $2.0/24 ip daddr 255.255.255.255 return
		ip saddr $2.0/24 ip daddr != $2.0/24 masquerade
	}
}
NFT
sysctl -qw net.ipv4.ip_forward=1
dnsmasq --conf-file=/dev/null --interface="$1" --except-interface=lo --bind-dynamic --port=0 \
	--dhcp-range="$2.2,$2.254,1h" --dhcp-leasefile="$3/$1.leases" --pid-file="$3/$1.pid" --user=root
SCRIPT
# timer.sh MODE N: one bash in the namespace; prints microseconds from start to UDP/67 bound.
cat >"$T/timer.sh" <<'TIMER'
bound() { [[ $(</proc/net/udp) == *":0043 "* ]]; }
t0=$EPOCHREALTIME
set -e
case $1 in
netd) "$NETDCTL" --socket "$SOCK" network create "b$2" --mode nat --subnet "10.77.$2.0/24" >/dev/null ;;
manual) bash "$T/manual.sh" "m$2" "10.78.$2" "$T" ;;
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
	manual) kill "$(cat "$T/m$2.pid")"; ip -n "$NS" link del "m$2"; ip netns exec "$NS" nft delete table inet "mm$2" ;;
	floor) kill "$(cat "$T/f$2.pid")" ;;
	libvirt)
		virsh net-destroy lv >/dev/null
		while nsenter -t "$LV_PID" -n grep -q ":0043 " /proc/net/udp; do sleep 0.01; done
		return
		;;
	esac
	while ip netns exec "$NS" grep -q ":0043 " /proc/net/udp; do sleep 0.01; done
}
export NETDCTL SOCK T
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
ms() { awk -v v="$1" 'BEGIN { print v / 1000 }'; }
ratio=$(awk -v a="$m_med" -v b="$n_med" 'BEGIN { printf "%.1fx", a / b }')
met=$(awk -v a="$m_med" -v b="$n_med" 'BEGIN { print (a / b >= 1.5 && b < 12000) ? "yes" : "NO" }')
row "NAT network create -> dnsmasq on UDP/67 (p50 of $n; netd p10-p90 $(fmt "$(ms "$n_lo")" ms)-$(fmt "$(ms "$n_hi")" ms); dnsmasq alone $(fmt "$(ms "$f_med")" ms))" \
	"$(fmt "$(ms "$n_med")" ms)" "script $(fmt "$(ms "$m_med")" ms)" "$ratio" ">= 1.5x, < 12 ms" "$met"
if [ -s "$T/libvirt" ]; then
	read -r l_med l_lo l_hi ln < <(stats "$T/libvirt")
	ratio=$(awk -v a="$l_med" -v b="$n_med" 'BEGIN { printf "%.1fx", a / b }')
	met=$(awk -v a="$l_med" -v b="$n_med" 'BEGIN { print (a / b >= 8) ? "yes" : "NO" }')
	row "NAT network create vs libvirt 9.0 virsh net-start (p50 of $ln; libvirt p10-p90 $(fmt "$(ms "$l_lo")" ms)-$(fmt "$(ms "$l_hi")" ms))" \
		"$(fmt "$(ms "$n_med")" ms)" "virsh $(fmt "$(ms "$l_med")" ms)" "$ratio" ">= 8x" "$met"
else
	row "NAT network create vs libvirt 9.0 virsh net-start" "-" "not measured: libvirt not installed (scripts/install-deps --bench)" "-" ">= 8x" "-"
fi
