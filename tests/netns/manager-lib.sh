# The host's network manager in the test's namespace, on top of lib.sh and uplink-lib.sh: a mount
# namespace inside $NS where the manager's directories are private (bind mounts of a tree under
# $T/root, tmpfs), held by one process. netd runs in it too (NETD_PREFIX), with --manager-root /:
# it sees and changes the manager's files exactly where it would on a host.
command -v nsenter >/dev/null || skip "nsenter missing (util-linux)"
command -v unshare >/dev/null || skip "unshare missing (util-linux)"
ROOT="$T/root"

# mgr_ns_start MOUNT...: each "tmpfs:DIR", "ro:DIR" (read-only again) or "SRC:DST" (bind).
mgr_ns_start() {
	local script="set -e; mount --make-rprivate /" m
	for m; do
		case $m in
		tmpfs:*) script+="; mount -t tmpfs tmpfs ${m#tmpfs:}" ;;
		ro:*) script+="; mount -o remount,bind,ro ${m#ro:}" ;;
		*) script+="; mount --bind ${m%%:*} ${m#*:}" ;;
		esac
	done
	ip netns exec "$NS" unshare -m sh -c "$script; : >$T/mnt-ready; exec sleep infinity" 2>"$T/mnt.err" &
	MNT_PID=$!
	for _ in $(seq 1 100); do
		[ -e "$T/mnt-ready" ] && break
		kill -0 "$MNT_PID" 2>/dev/null || fail "mount namespace: $(cat "$T/mnt.err")"
		sleep 0.05
	done
	[ -e "$T/mnt-ready" ] || fail "mount namespace did not come up"
	NETD_PREFIX=(nsenter "--mount=/proc/$MNT_PID/ns/mnt" "--net=/run/netns/$NS")
}

# A command in the manager's mount namespace (and $NS).
mx() { nsenter "--mount=/proc/$MNT_PID/ns/mnt" "--net=/run/netns/$NS" "$@"; }

# dnsmasq's DHCPACKs for the host's MAC so far: a renewal adds one.
acks() { grep -c "DHCPACK(gw0) .* $HOST_MAC" "$T/dnsmasq.log" || true; }

# wait_renewal N SECONDS: until dnsmasq has acked more than N times (a renewal), or fail.
wait_renewal() {
	for _ in $(seq 1 "$2"); do
		[ "$(acks)" -gt "$1" ] && return 0
		sleep 1
	done
	fail "no DHCP renewal within $2 s (acks: $(acks), was $1)"
}

# Processes in $NS whose executable is $1, one line each "PID ARGS".
procs_of() {
	local pid
	for pid in $(ip netns pids "$NS"); do
		[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$1" ] && echo "$pid $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	done
	return 0
}

# probed_renewal WHEN: probes at 100 Hz until the next DHCP renewal on br0 (2 min leases: T1 at
# 60 s) and 2 s past it; 0 lost, br0 keeps $HOST4. PROBED is the number of probes sent per family.
probed_renewal() {
	local n
	n=$(acks)
	probes_start 9000
	wait_renewal "$n" 80
	sleep 2
	probes_stop
	assert_eq "$LOST4/$LOST6" "0/0" "probes lost (IPv4/IPv6) over the renewal $1"
	ip -n "$NS" -j addr show br0 | jq -e --arg a "$HOST4" '.[0].addr_info[] | select(.local == $a)' >/dev/null ||
		fail "br0 lost $HOST4 at the renewal $1"
	PROBED=$(awk '/packets transmitted/ { print $1 }' "$T/probe4")
}

# md5 sums of the manager's config (what a revert must give back byte for byte): $ROOT/etc.
tree_sums() { (cd "$ROOT" && find etc -type f | sort | xargs -r md5sum); }
