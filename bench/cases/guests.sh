#!/usr/bin/env bash
# Guests at scale: the cost of 'vm start' as the host fills with running guests, and a kill -9
# restart of netd with all of them running. Real QEMU under TCG cannot run 1000 guests on this
# machine: netd starts bench/fake-qemu.c instead (--qemu), a stand-in that holds its TAP fds and
# answers QMP as QEMU 7.2 does; everything netd does for a guest (run dir, sockets, TAP, port
# security, bridge port, spawn as netd-qemu, QMP, pidfd) is real. The guests are spread over
# GUEST_NETWORKS NAT networks (default 4: a bridge takes at most 1023 ports). At each step
# (GUEST_STEPS, default 10 1000 guests) REPS more guests are created (not started), started,
# destroyed and deleted one at a time: p50 wall of 'vm start' (netdctl's own start included, the
# call answered once QMP says the guest runs) and netd's CPU per start (/proc/PID/schedstat).
# At the last step: kill -9 of netd, until 'status' answers; every stand-in must still run with
# the same pid, every TAP still be a port of its bridge, every guest 'running'.
. "$(dirname "$0")/../lib.sh"
command -v dnsmasq >/dev/null || { row "guests" "-" "-" "-" "-" "skipped: no dnsmasq"; exit 0; }
getent passwd netd-qemu >/dev/null || { row "guests" "-" "-" "-" "-" "skipped: no user netd-qemu"; exit 0; }
read -r -a steps <<<"${GUEST_STEPS:-10 1000}"
nets=${GUEST_NETWORKS:-4}

# The stand-in as QEMU's user can run it, root-owned like a real QEMU; and a kernel to boot.
install -o root -g root -m 0755 "$BUILD/bench/fake-qemu" "$T/qemu"
head -c 4096 /dev/zero >"$T/vmlinuz"

# netd's run dir on a tmpfs, as /run is on a host. /tmp here is ext4 without a journal, where
# each new inode (a guest's logs, sockets, pid file) skips every inode deleted in the last 30 s
# one by one: ~2 ms of a start after the fill (or another engineer's bench) deleted files. The
# tmpfs lives in a mount namespace of its own, kept by a holder process that each netd enters
# (the restart finds the same run dir); the control socket stays outside, for netdctl.
mkdir -p "$T/run"
SOCK="$T/netd.sock"
ip netns exec "$NS" unshare -m --propagation private \
	sh -c "mount -t tmpfs -o mode=0755 netd-bench-run '$T/run' && exec sleep infinity" &
HOLDER=$! # ip netns exec, unshare and sh all exec: this is the sleep
disown "$HOLDER"
until nsenter -t "$HOLDER" -m mountpoint -q "$T/run" 2>/dev/null; do
	kill -0 "$HOLDER" 2>/dev/null || { echo "cannot mount a tmpfs for the run dir" >&2; exit 1; }
	sleep 0.01
done
start_netd_guests() {
	nsenter -t "$HOLDER" -m -n "$NETD" --config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" \
		--socket "$SOCK" --log-level warning --qemu "$T/qemu" 2>>"$T/netd.log" &
	NETD_PID=$!
	disown "$NETD_PID"
	until ctl status >/dev/null 2>&1; do
		kill -0 "$NETD_PID" 2>/dev/null || { echo "netd died: $(tail -5 "$T/netd.log")" >&2; exit 1; }
		sleep 0.002
	done
}
start_netd_guests
for i in $(seq 1 "$nets"); do
	ctl network create "n$i" --mode nat --subnet "10.$((100 + i)).0.0/20" >/dev/null
done

create() { # NAME NETWORK [OPTION...]
	ctl vm create "$1" --network "$2" --kernel "$T/vmlinuz" --memory 64M --accel tcg "${@:3}" >/dev/null
}
cpu_us() { awk '{ print int($1 / 1000) }' "/proc/$NETD_PID/schedstat"; } # ns on the CPU
timed() { # FILE CMD...: append CMD's wall time in ms to FILE
	local f=$1 t0
	shift
	t0=$(now_us)
	"$@" >/dev/null
	echo "$(($(now_us) - t0))" | awk '{ print $1 / 1000 }' >>"$f"
}
p50() { stats "$1" | awk '{ print $1 }'; }

have=0
declare -A start_ms cpu_start
for n in "${steps[@]}"; do
	while [ "$have" -lt "$n" ]; do
		have=$((have + 1))
		create "g$have" "n$((have % nets + 1))"
	done
	sleep 1
	: >"$T/st"
	for i in $(seq 1 "$REPS"); do create "x$i" "n$((i % nets + 1))" --no-autostart; done
	c0=$(cpu_us)
	for i in $(seq 1 "$REPS"); do timed "$T/st" ctl vm start "x$i"; done
	c1=$(cpu_us)
	for i in $(seq 1 "$REPS"); do
		ctl vm destroy "x$i" >/dev/null
		ctl vm delete "x$i" >/dev/null
	done
	start_ms[$n]=$(p50 "$T/st")
	cpu_start[$n]=$(awk -v a="$c0" -v b="$c1" -v r="$REPS" 'BEGIN { printf "%.2f", (b - a) / r / 1000 }')
	printf '# guests %5d running: vm start %s ms (netd CPU %s ms per start), netd RSS %s KiB\n' "$n" \
		"${start_ms[$n]}" "${cpu_start[$n]}" "$(awk '/^VmRSS/ { print $2 }' "/proc/$NETD_PID/status")" >&2
done

lo=${steps[0]}
hi=${steps[-1]}
flat "vm start, stand-in QEMU, guests running on $nets NAT networks (p50 of $REPS)" "${start_ms[$lo]}" \
	"${start_ms[$hi]}" ms
flat "netd CPU per vm start (mean of $REPS)" "${cpu_start[$lo]}" "${cpu_start[$hi]}" ms

# Restart with every guest running: nothing restarted, nothing lost.
ctl --json vm list | jq -r '.[] | "\(.name) \(.pid)"' | sort >"$T/before"
ip -n "$NS" -j link show type tun 2>/dev/null | jq -r '.[] | select(.master) | .ifname' | sort >"$T/ports-before"
kill -9 "$NETD_PID"
t0=$(now_us)
while [ -e "/proc/$NETD_PID" ] && [ "$(awk '{ print $3 }' "/proc/$NETD_PID/stat" 2>/dev/null)" != Z ]; do
	sleep 0.001
done
start_netd_guests
ms=$(awk -v v=$(($(now_us) - t0)) 'BEGIN { print v / 1000 }')
ctl --json vm list | jq -r '.[] | "\(.name) \(.pid)"' | sort >"$T/after"
running=$(ctl --json vm list | jq '[.[] | select(.state == "running")] | length')
alive=0
while read -r _ pid; do
	[ -e "/proc/$pid" ] && [ "$(awk '{ print $3 }' "/proc/$pid/stat")" != Z ] && alive=$((alive + 1))
done <"$T/before"
ip -n "$NS" -j link show type tun 2>/dev/null | jq -r '.[] | select(.master) | .ifname' | sort >"$T/ports-after"
ports=$(wc -l <"$T/ports-after")
lost=$((hi - running))
cmp -s "$T/before" "$T/after" || lost=$((lost > 0 ? lost : 1))
cmp -s "$T/ports-before" "$T/ports-after" || lost=$((lost > 0 ? lost : 1))
echo "# restart with $hi guests: $ms ms; $running running, $alive stand-ins alive with the same pid, $ports TAPs bridge ports" >&2
met=$(awk -v v="$ms" -v l="$lost" -v a="$alive" -v h="$hi" 'BEGIN { print (v < 1000 && l == 0 && a == h) ? "yes" : "NO" }')
row "netd restart (kill -9) with $hi guests running, $nets networks: back in control ($running running, $alive same pids, $ports TAP ports)" \
	"$(fmt "$ms" ms)" "-" "-" "< 1 s, 0 lost" "$met"
