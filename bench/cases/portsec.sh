#!/usr/bin/env bash
# Port security and the input chain (issue 12):
# - the bridge table for 1000 guests in one transaction (bench-portsec, the daemon's renderer and
#   libnftables apply), against the same filtering written as per-port chains (libvirt's
#   clean-traffic way: a chain of 8 rules per port, a jump per port), applied in one nft -f; and
#   what one guest's change costs with 1000 guests in place (a lease event), against adding one
#   port's chain; and the same change with 10 guests (flat?);
# - what the filters cost the traffic: iperf3 TCP guest -> guest and guest -> upstream (through
#   netd's masquerade) with the guests' ports filtered and not, and guest -> host service (through
#   the input chain and --allow-host-port) with the input chain and without. Guests are namespaces
#   behind veth ports, filtered by the very tables netd applies (QEMU under TCG would measure TCG).
. "$(dirname "$0")/../lib.sh"
command -v nft >/dev/null || { row "port security" "-" "-" "-" "-" "skipped: no nft"; exit 0; }
BP="$BUILD/bench/bench-portsec"
N=1000

# Per-port chains, the rule-per-guest way: $1 first port, $2 count.
per_port() {
	local i mac ip
	for i in $(seq "$1" $(($1 + $2 - 1))); do
		mac=$(printf '52:54:00:%02x:%02x:%02x' $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255)))
		ip="10.$((i / 250)).$((i % 250)).10"
		cat <<EOF
add chain bridge base port_vnet$i
add rule bridge base port_vnet$i ether saddr != $mac drop
add rule bridge base port_vnet$i arp saddr ether != $mac drop
add rule bridge base port_vnet$i arp saddr ip != { 0.0.0.0, $ip } drop
add rule bridge base port_vnet$i udp sport 67 drop
add rule bridge base port_vnet$i ip saddr != { 0.0.0.0, $ip } drop
add rule bridge base port_vnet$i icmpv6 type { nd-router-advert, nd-redirect } drop
add rule bridge base port_vnet$i ether type != { ip, arp, ip6 } drop
add rule bridge base port_vnet$i accept
add rule bridge base prerouting iifname "vnet$i" jump port_vnet$i
EOF
	done
}
{
	echo "add table bridge base"
	echo "add chain bridge base prerouting { type filter hook prerouting priority filter; policy accept; }"
	per_port 0 $N
} >"$T/base-full.nft"
per_port $N 1 >"$T/base-one.nft"
rules=$(grep -c '^add rule' "$T/base-full.nft")
# ms CMD...: how long CMD takes, in ms.
ms() { local t0=$EPOCHREALTIME; "$@" >/dev/null || return 1; local t1=$EPOCHREALTIME; awk -v a="${t0/./}" -v b="${t1/./}" 'BEGIN { print (b - a) / 1000 }'; }
: >"$T/full" : >"$T/bfull" : >"$T/change" : >"$T/change10" : >"$T/bone"
for _ in $(seq 1 "$REPS"); do
	ip netns exec "$NS" "$BP" scale $N 4 >"$T/out" || { row "port security" failed - - - NO; exit 0; }
	awk '/^full/ { print $2 }' "$T/out" >>"$T/full"
	awk '/^change/ { print $2 }' "$T/out" >>"$T/change"
	ip netns exec "$NS" "$BP" scale 10 4 | awk '/^change/ { print $2 }' >>"$T/change10"
	ip netns exec "$NS" nft delete table bridge netd
	ms ip netns exec "$NS" nft -f "$T/base-full.nft" >>"$T/bfull"
	ms ip netns exec "$NS" nft -f "$T/base-one.nft" >>"$T/bone"
	ip netns exec "$NS" nft delete table bridge base
done
read -r fm flo fhi fn < <(stats "$T/full")
read -r bm _ _ _ < <(stats "$T/bfull")
read -r cm clo chi cn < <(stats "$T/change")
read -r c10 _ _ _ < <(stats "$T/change10")
read -r om _ _ _ < <(stats "$T/bone")
row "port security: $N guests' entries in one transaction vs $rules per-port rules in one nft -f (median of $fn; $(fmt "$flo" ms)-$(fmt "$fhi" ms))" \
	"$(fmt "$fm" ms)" "per-port chains $(fmt "$bm" ms)" "$(ratio "$bm" "$fm")" ">= 5x, < 100 ms" \
	"$(awk -v a="$bm" -v b="$fm" 'BEGIN { print (a / b >= 5 && b < 100) ? "yes" : "NO" }')"
row "port security: one guest's lease changed with $N guests in place (median of $cn; $(fmt "$clo" ms)-$(fmt "$chi" ms); with 10 guests $(fmt "$c10" ms))" \
	"$(fmt "$cm" ms)" "one port's chain added $(fmt "$om" ms)" "$(ratio "$om" "$cm")" "< 10 ms, flat (1000 vs 10 < 2x)" \
	"$(awk -v a="$cm" -v b="$c10" 'BEGIN { print (a < 10 && a / b < 2) ? "yes" : "NO" }')"

# Throughput. Host $NS: bridge nd-n0 10.200.0.1/24 (a NAT network), uplink up0 to upstream $U.
command -v iperf3 >/dev/null || { row "port security: throughput" "-" "-" "-" "-" "skipped: no iperf3"; exit 0; }
U="$NS-up" A="$NS-a" B="$NS-b"
EXTRA_NS="${EXTRA_NS:-} $U $A $B"
for ns in $U $A $B; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$NS" link add nd-n0 type bridge
ip -n "$NS" link set nd-n0 up
ip -n "$NS" addr add 10.200.0.1/24 dev nd-n0
ip -n "$NS" link add up0 type veth peer name eth0 netns "$U"
ip -n "$NS" addr add 192.168.50.2/24 dev up0
ip -n "$NS" link set up0 up
ip -n "$U" addr add 192.168.50.1/24 dev eth0
ip -n "$U" link set eth0 up
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1
i=10
for g in $A $B; do
	ip -n "$NS" link add "v$i" type veth peer name eth0 netns "$g"
	ip -n "$NS" link set "v$i" master nd-n0 up
	ip -n "$g" link set eth0 address "52:54:00:00:00:$i" up
	ip -n "$g" addr add "10.200.0.$i/24" dev eth0
	ip -n "$g" route add default via 10.200.0.1
	i=$((i + 1))
done
ip netns exec "$NS" "$BP" inet nd-n0 10.200.0.0/24 5201 || { row "port security: throughput" failed - - - NO; exit 0; }
for ns in $U $B $NS; do ip netns exec "$ns" iperf3 -s -D -1 >/dev/null 2>&1 || true; done
# gbps NS TARGET: iperf3 TCP for 2 s from NS to TARGET, in Gbit/s (the server serves one test).
gbps() {
	local src=$1 dst=$2 srv
	case $dst in 10.200.0.11) srv=$B ;; 192.168.50.1) srv=$U ;; *) srv=$NS ;; esac
	ip netns exec "$srv" iperf3 -s -D -1 >/dev/null 2>&1
	sleep 0.1
	ip netns exec "$src" iperf3 -c "$dst" -t 2 -J 2>/dev/null | jq '.end.sum_received.bits_per_second / 1e9' ||
		echo 0
}
secure() {
	if [ "$1" = on ]; then
		ip netns exec "$NS" "$BP" ports v10,52:54:00:00:00:10,10.200.0.10/32 v11,52:54:00:00:00:11,10.200.0.11/32
	else
		ip netns exec "$NS" nft delete table bridge netd 2>/dev/null || true
	fi
}
for f in gg_on gg_off gu_on gu_off gh_on gh_off; do : >"$T/$f"; done
for _ in $(seq 1 "$REPS"); do
	for mode in on off; do
		secure $mode
		gbps "$A" 10.200.0.11 >>"$T/gg_$mode"
		gbps "$A" 192.168.50.1 >>"$T/gu_$mode"
	done
	secure off
	ip netns exec "$NS" "$BP" inet nd-n0 10.200.0.0/24 5201
	gbps "$A" 10.200.0.1 >>"$T/gh_on"
	ip netns exec "$NS" nft delete chain inet netd input
	gbps "$A" 10.200.0.1 >>"$T/gh_off"
done
tput_row() {
	local what=$1 on off
	read -r on _ _ n < <(stats "$T/${2}_on")
	read -r off _ _ _ < <(stats "$T/${2}_off")
	row "$what (iperf3 TCP 2 s, median of $n)" "$(fmt "$on" Gbit/s)" "$3 $(fmt "$off" Gbit/s)" \
		"$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.2fx", a / b }')" ">= 0.9x" \
		"$(awk -v a="$on" -v b="$off" 'BEGIN { print (a / b >= 0.9) ? "yes" : "NO" }')"
}
tput_row "port security on: guest -> guest on the same bridge" gg "unfiltered"
tput_row "port security on: guest -> upstream through masquerade" gu "unfiltered"
tput_row "input chain: guest -> host service on its gateway (--allow-host-port)" gh "no input chain"
