#!/usr/bin/env bash
# nftables: netd's table for 100 NAT networks applied in one libnftables transaction (bench-nft,
# the daemon's render + apply code) against the same rules added one 'nft add' command at a time,
# alternating. Per-guest entries: netd has no per-guest rules (a guest is a plain bridge port).
. "$(dirname "$0")/../lib.sh"
N=100
command -v nft >/dev/null || { row "nftables, $N networks" "-" "-" "-" "-" "skipped: no nft"; exit 0; }
"$BUILD/bench/bench-nft" $N --print | awk '
	NR <= 3 { if (NR == 3) print "add table inet netd"; next }
	/^\tset / { set = $2; next }
	set != "" && /type / { print "add set inet netd " set " { " $0 "; }"; next }
	set != "" && /elements/ { sub(/^[ \t]*elements = /, ""); print "add element inet netd " set " " $0; next }
	set != "" && /comment/ { next }
	set != "" && /^\t}/ { set = ""; next }
	/^\tchain / { chain = $2; head = 1; next }
	chain != "" && head { sub(/^[ \t]*/, ""); print "add chain inet netd " chain " { " $0 " }"; head = 0; next }
	chain != "" && /^\t}/ { chain = ""; next }
	chain != "" && NF { sub(/^[ \t]*/, ""); print "add rule inet netd " chain " " $0 }
' >"$T/commands"
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
row "nftables: $N networks ($rules rules) in one transaction (median of $n; $(fmt "$nlo" ms)-$(fmt "$nhi" ms); replacing it in place $(fmt "$rm" ms), $rn runs)" \
	"$(fmt "$nm" ms)" "nft add one by one $(fmt "$mm" ms)" "$(awk -v a="$mm" -v b="$nm" 'BEGIN { printf "%.0fx", a / b }')" \
	">= 50x, < 10 ms" "$(awk -v a="$mm" -v b="$nm" 'BEGIN { print (a / b >= 50 && b < 10) ? "yes" : "NO" }')"
row "nftables: per-guest entries for 1000 guests; one guest added at 10 vs 1000" "-" \
	"not measured: netd keeps no per-guest rules (guests are plain bridge ports)" "-" ">= 50x, < 10 ms, flat" "-"
