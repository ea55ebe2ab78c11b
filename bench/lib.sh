# Helpers for benchmark cases: a private namespace, netd in it, statistics, and the result row.
# A case prints rows on fd 3: figure|netd|baseline|ratio|target|met (fields may be "-").
set -euo pipefail

: "${BUILD:?}" "${REPS:=5}"
NETD="$BUILD/netd/netd"
NETDCTL="$BUILD/netdctl/netdctl"
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS="netdb-$$-${RANDOM}"
T=$(mktemp -d /tmp/netd-bench.XXXXXX)
chmod 0711 "$T" # dnsmasq, run as nobody, reads its hosts files below it
SOCK="$T/run/netd.sock"
NETD_PID=

bench_cleanup() {
	[ -n "$NETD_PID" ] && kill -9 "$NETD_PID" 2>/dev/null || true
	for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
	ip netns del "$NS" 2>/dev/null || true
	for ns in ${EXTRA_NS:-}; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap bench_cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up

ctl() { "$NETDCTL" --socket "$SOCK" "$@"; }

start_netd() {
	ip netns exec "$NS" "$NETD" --config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" \
		--socket "$SOCK" --log-level warning 2>>"$T/netd.log" &
	NETD_PID=$!
	disown "$NETD_PID" # no "Killed" job report when a case kills it
	until ctl status >/dev/null 2>&1; do
		kill -0 "$NETD_PID" 2>/dev/null || { echo "netd died: $(tail -5 "$T/netd.log")" >&2; exit 1; }
		sleep 0.005
	done
}

# libvirt 9.0's libvirtd, the baseline some figures compare with, in a network and mount
# namespace of its own (bench/libvirtd-ns.sh); virsh ARGS talks to it. Returns 1 when libvirt is
# not installed (scripts/install-deps --bench installs it).
LV_PID=
start_libvirtd() {
	type -P libvirtd >/dev/null && type -P virsh >/dev/null || return 1
	local ns="$NS-lv" i
	EXTRA_NS="${EXTRA_NS:-} $ns"
	ip netns add "$ns"
	ip netns exec "$ns" unshare -m --propagation private \
		bash "$BENCH_DIR/libvirtd-ns.sh" "$T/lv" 2>>"$T/libvirtd.log" &
	LV_PID=$! # ip netns exec, unshare and bash all exec: this is libvirtd
	disown "$LV_PID"
	for i in $(seq 1 1000); do
		virsh list >/dev/null 2>&1 && return 0
		kill -0 "$LV_PID" 2>/dev/null || break
		sleep 0.01
	done
	echo "libvirtd did not come up: $(tail -3 "$T/libvirtd.log")" >&2
	return 1
}
virsh() { nsenter -t "$LV_PID" -m -n virsh -q -c qemu:///system "$@"; }

# A guest stand-in: namespace $G with gv0, its veth peer gv1 in $NS a port of BRIDGE (none when
# BRIDGE is "": the case attaches it later).
add_guest_ns() {
	G="${NS}-g"
	EXTRA_NS="${EXTRA_NS:-} $G"
	ip netns add "$G"
	ip link add gv0 netns "$G" type veth peer name gv1 netns "$NS"
	ip -n "$NS" link set gv1 ${1:+master "$1"} up
	ip -n "$G" link set gv0 up
}

now_us() { echo $(($(date +%s%N) / 1000)); }

# stats FILE -> "median p10 p90 n" of the numbers in FILE (one per line)
stats() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - - 0"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		lo = v[int((NR - 1) * 0.1) + 1]; hi = v[int((NR - 1) * 0.9) + 1]
		printf "%g %g %g %d\n", m, lo, hi, NR }'
}

# us_ms MICROSECONDS -> milliseconds
us_ms() { awk -v v="$1" 'BEGIN { print v / 1000 }'; }

# ratio BASELINE NETD -> "2.5x": how many times the baseline's figure netd's is
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }

# fmt VALUE UNIT -> "12.3 ms"
fmt() { awk -v v="$1" -v u="$2" 'BEGIN { printf (v < 10 ? "%.2f %s" : "%.1f %s"), v, u }'; }

# flat FIGURE LO_VALUE HI_VALUE UNIT: a row comparing a figure at the last step ($hi) with the
# first ($lo); flat when within 1.5x.
flat() {
	local ratio met
	ratio=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2f", (a > 0) ? b / a : 0 }')
	met=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.5) ? "yes" : "NO" }')
	row "$1" "$(fmt "$3" "$4") at $hi" "$(fmt "$2" "$4") at $lo" "${ratio}x" "flat (<= 1.5x)" "$met"
}

# row FIGURE NETD BASELINE RATIO TARGET MET
row() { printf '%s|%s|%s|%s|%s|%s\n' "$@" >&3; }
