#!/usr/bin/env bash
# nftables: netd's table for 100 NAT networks applied in one libnftables transaction (bench-nft,
# the daemon's render + apply code: sets of per-network elements looked up by 8 rules) against
# the same filtering the way an operator's script or libvirt writes it, 8 rules per network, one
# 'nft add' command at a time, alternating. Per-guest entries (port security): bench/cases/portsec.sh.
. "$(dirname "$0")/../lib.sh"
N=100
command -v nft >/dev/null || { row "nftables, $N networks" "-" "-" "-" "-" "skipped: no nft"; exit 0; }
{
	echo "add table inet netd"
	echo "add set inet netd bridges { type ifname; }"
	echo "add chain inet netd forward { type filter hook forward priority filter; policy accept; }"
	echo "add chain inet netd postrouting { type nat hook postrouting priority srcnat; policy accept; }"
	for i in $(seq 0 $((N - 1))); do
		echo "add element inet netd bridges { \"nd-n$i\" }"
	done
	for i in $(seq 0 $((N - 1))); do
		b="\"nd-n$i\"" s="10.200.$i.0/24"
		echo "add rule inet netd forward oifname $b ip daddr $s ct state established,related accept"
		echo "add rule inet netd forward iifname $b ip saddr $s oifname != @bridges accept"
		echo "add rule inet netd forward iifname $b oifname $b accept"
		echo "add rule inet netd forward iifname $b reject with icmpx type admin-prohibited"
		echo "add rule inet netd forward oifname $b reject with icmpx type admin-prohibited"
		echo "add rule inet netd postrouting ip saddr $s ip daddr 224.0.0.0/4 return"
		echo "add rule inet netd postrouting ip saddr $s ip daddr 255.255.255.255 return"
		echo "add rule inet netd postrouting ip saddr $s ip daddr != $s masquerade"
	done
} >"$T/commands"
rules=$(grep -c '^add rule' "$T/commands")
cat >"$T/manual.sh" <<'SCRIPT'
t0=$EPOCHREALTIME
while IFS= read -r cmd; do nft "$cmd" || exit 1; done <"$1"
t1=$EPOCHREALTIME
echo "$(((${t1/./} - ${t0/./})))" | awk '{ print $1 / 1000 }'
SCRIPT
: >"$T/netd"; : >"$T/manual"
for _ in $(seq 1 "$REPS"); do
	ip netns exec "$NS" "$BUILD/bench/bench-nft" $N 1 >>"$T/netd"
	ip netns exec "$NS" nft delete table inet netd
	ip netns exec "$NS" bash "$T/manual.sh" "$T/commands" >>"$T/manual"
	ip netns exec "$NS" nft delete table inet netd
done
# The daemon's steady case: the same table replaced while it is in place.
ip netns exec "$NS" "$BUILD/bench/bench-nft" $N $((REPS * 4)) >"$T/replace"
read -r nm nlo nhi n < <(stats "$T/netd")
read -r mm _ _ _ < <(stats "$T/manual")
read -r rm _ _ rn < <(stats "$T/replace")
row "nftables: $N networks in one transaction, vs $rules per-network rules (median of $n; $(fmt "$nlo" ms)-$(fmt "$nhi" ms); replacing it in place $(fmt "$rm" ms), $rn runs)" \
	"$(fmt "$nm" ms)" "nft add one by one $(fmt "$mm" ms)" "$(awk -v a="$mm" -v b="$nm" 'BEGIN { printf "%.0fx", a / b }')" \
	">= 50x, < 10 ms" "$(awk -v a="$mm" -v b="$nm" 'BEGIN { print (a / b >= 50 && b < 10) ? "yes" : "NO" }')"
