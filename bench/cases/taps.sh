#!/usr/bin/env bash
# 1000 guest ports on one bridge: netd's path (bench-taps: TAP opened, MAC + port + up in one
# request; all deleted in one kernel transaction) against the manual loop of
# 'ip tuntap add' + 'ip link set master' + 'ip link set up' and 'ip link del' one by one;
# alternating, min(REPS, 3) rounds (the manual teardown takes about 20 s a round).
# Then the 1024th port: netd's error for the kernel's limit.
. "$(dirname "$0")/../lib.sh"
N=1000
ip -n "$NS" link add br0 type bridge stp_state 0 forward_delay 0
ip -n "$NS" link set br0 up
cat >"$T/manual.sh" <<'SCRIPT'
# manual.sh up|down N: prints the milliseconds it took
t0=$EPOCHREALTIME
for ((i = 0; i < $2; i++)); do
	if [ "$1" = up ]; then
		ip tuntap add "vnet$i" mode tap && ip link set "vnet$i" master br0 && ip link set "vnet$i" up
	else
		ip link del "vnet$i"
	fi
done
t1=$EPOCHREALTIME
echo $(((${t1/./} - ${t0/./}) / 1000))
SCRIPT
: >"$T/n-up"; : >"$T/n-down"; : >"$T/m-up"; : >"$T/m-down"
rounds=$((REPS < 3 ? REPS : 3))
for _ in $(seq 1 "$rounds"); do
	read -r up down _ < <(ip netns exec "$NS" "$BUILD/bench/bench-taps" br0 $N)
	echo "$up" >>"$T/n-up"
	echo "$down" >>"$T/n-down"
	ip netns exec "$NS" bash "$T/manual.sh" up $N >>"$T/m-up"
	ip netns exec "$NS" bash "$T/manual.sh" down $N >>"$T/m-down"
done
limit=$(ip netns exec "$NS" "$BUILD/bench/bench-taps" br0 1 --limit | tail -1)
read -r nu nu_lo nu_hi n < <(stats "$T/n-up")
read -r mu _ _ _ < <(stats "$T/m-up")
read -r nd nd_lo nd_hi _ < <(stats "$T/n-down")
read -r md _ _ _ < <(stats "$T/m-down")
row "$N guest ports: TAP, bridge port, up (median of $n; netd $(fmt "$nu_lo" ms)-$(fmt "$nu_hi" ms))" \
	"$(fmt "$nu" ms)" "ip loop $(fmt "$mu" ms)" "$(ratio "$mu" "$nu")" ">= 6x, < 400 ms" \
	"$(awk -v a="$mu" -v b="$nu" 'BEGIN { print (a / b >= 6 && b < 400) ? "yes" : "NO" }')"
row "$N guest ports torn down (median of $n; netd $(fmt "$nd_lo" ms)-$(fmt "$nd_hi" ms))" \
	"$(fmt "$nd" ms)" "ip link del loop $(fmt "$md" ms)" "$(ratio "$md" "$nd")" "< 500 ms" \
	"$(awk -v b="$nd" 'BEGIN { print (b < 500) ? "yes" : "NO" }')"
case $limit in
*"maximum of 1023 ports"*) met=yes ;;
*) met=NO ;;
esac
row "port 1024 on one bridge: '${limit#port 1024: }'" "error" "-" "-" "clear error, no crash" "$met"
