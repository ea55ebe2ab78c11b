# firewalld (1.x, the nftables backend) inside a test's namespace, for the tests of netd's firewalld
# integration. Source it after lib.sh. Nothing of the host's is used or changed:
# - its D-Bus system bus is private: a dbus-daemon in the namespace with a copy of the system bus
#   config (no activation, no pid file, no syslog, no user switch) listening on $FWD_DIR/bus;
#   DBUS_SYSTEM_BUS_ADDRESS points to it from here on, for firewalld, firewall-cmd, busctl and netd;
# - its config is $FWD_ETC (--system-config: firewalld.conf, zones/ for the test's own zone files;
#   the built-in zones come from /usr/lib/firewalld, read only);
# - it runs in a mount namespace of its own where $FWD_DIR/run is /run: it makes /run/firewalld for
#   its iptables/ebtables-restore files at every start, and iptables takes /run/xtables.lock;
#   --nopid, and its log goes to $FWD_DIR/firewalld.log.
# Functions: fwd_start [KEY=VALUE...] (firewalld.conf settings), fwd_add_zone FILE, fwd_reload,
# fwd_stop, fwd_kill9, fwd_cleanup (also run on exit), fwd_cmd ARGS (firewall-cmd in the namespace),
# fwd_host_snapshot (what the host must still have at the end: fwd_host_check compares).
need firewalld firewall-cmd dbus-daemon busctl nft unshare
[ -f /usr/share/dbus-1/system.conf ] || skip "/usr/share/dbus-1/system.conf missing (dbus)"

FWD_NS=${FWD_NS:-$NS}
FWD_DIR="$T/firewalld"
FWD_ETC="$FWD_DIR/etc"
FWD_PID=
FWD_BUS_PID=
FWD_HOST_BEFORE=
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$FWD_DIR/bus/system_bus_socket"
mkdir -p "$FWD_DIR/bus" "$FWD_DIR/run" "$FWD_ETC/zones"

fwd_cmd() { ip netns exec "$FWD_NS" firewall-cmd "$@"; }
fwd_busctl() { busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" --timeout=10 "$@"; }

# The host's firewalld config, whether /run/firewalld exists, and the root namespace's nftables
# tables (read only: listing loads nothing on this kernel, which has no modules).
fwd_host_snapshot() {
	find /etc/firewalld -type f 2>/dev/null | sort | xargs -r md5sum
	if [ -e /run/firewalld ]; then echo "/run/firewalld exists"; fi
	nft list tables
}
fwd_host_check() {
	local now
	now=$(fwd_host_snapshot)
	[ "$now" = "$FWD_HOST_BEFORE" ] || fail "the host changed: $(diff <(echo "$FWD_HOST_BEFORE") <(echo "$now"))"
}

fwd_bus_start() {
	# --address and --nofork/--nopidfile below override the copy's <listen>, <fork/>, <pidfile>;
	# the relative includedir becomes absolute (the copy lives elsewhere).
	sed -e '/<user>/d' -e '/<fork\/>/d' -e '/<pidfile>/d' -e '/<syslog\/>/d' \
		-e '/<standard_system_servicedirs\/>/d' -e '/<servicehelper>/d' \
		-e 's|<includedir>system.d</includedir>|<includedir>/usr/share/dbus-1/system.d</includedir>|' \
		/usr/share/dbus-1/system.conf >"$FWD_DIR/bus/system.conf"
	grep -q '<user>\|<servicehelper>\|<includedir>system.d<' "$FWD_DIR/bus/system.conf" &&
		fail "could not adapt the system bus config: $FWD_DIR/bus/system.conf"
	ip netns exec "$FWD_NS" dbus-daemon --config-file="$FWD_DIR/bus/system.conf" --nofork --nopidfile \
		--nosyslog --address="$DBUS_SYSTEM_BUS_ADDRESS" >"$FWD_DIR/bus/log" 2>&1 &
	FWD_BUS_PID=$!
	for _ in $(seq 1 100); do
		fwd_busctl list >/dev/null 2>&1 && return 0
		kill -0 "$FWD_BUS_PID" 2>/dev/null || fail "dbus-daemon exited: $(cat "$FWD_DIR/bus/log")"
		sleep 0.05
	done
	fail "the private system bus did not come up: $(cat "$FWD_DIR/bus/log")"
}

# fwd_start [KEY=VALUE...]: firewalld.conf is the defaults plus these; waits until firewalld says
# RUNNING (FWD_START_MS: how long that took from the exec).
fwd_start() {
	local t0 state
	[ -n "$FWD_HOST_BEFORE" ] || FWD_HOST_BEFORE=$(fwd_host_snapshot)
	[ -n "$FWD_BUS_PID" ] || fwd_bus_start
	printf '%s\n' DefaultZone=public FirewallBackend=nftables CleanupOnExit=yes "$@" >"$FWD_ETC/firewalld.conf"
	t0=$(date +%s%N)
	ip netns exec "$FWD_NS" unshare --mount --propagation private -- sh -c \
		'mount --bind "$0" /run && exec env PYTHONDONTWRITEBYTECODE=1 "$@"' "$FWD_DIR/run" \
		firewalld --nofork --nopid --system-config "$FWD_ETC" --log-target file \
		--log-file "$FWD_DIR/firewalld.log" --debug 1 >>"$FWD_DIR/firewalld.out" 2>&1 &
	FWD_PID=$!
	for _ in $(seq 1 300); do
		state=$(fwd_busctl get-property org.fedoraproject.FirewallD1 /org/fedoraproject/FirewallD1 \
			org.fedoraproject.FirewallD1 state 2>/dev/null || true)
		if [ "$state" = 's "RUNNING"' ]; then
			FWD_START_MS=$((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		kill -0 "$FWD_PID" 2>/dev/null || fail "firewalld exited at start: $(tail -n 20 "$FWD_DIR/firewalld.out" "$FWD_DIR/firewalld.log" 2>&1)"
		sleep 0.1
	done
	fail "firewalld did not reach RUNNING in 30 s (state: $state)"
}

# fwd_add_zone FILE: a zone file in firewalld's system config; read at its next start or reload.
fwd_add_zone() { cp "$1" "$FWD_ETC/zones/"; }

fwd_reload() { fwd_cmd --reload >/dev/null || fail "firewall-cmd --reload failed"; }

# fwd_wait_exit PID WHAT: up to 10 s.
fwd_wait_exit() {
	for _ in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	return 1
}

# fwd_stop: SIGTERM, as systemctl stop does; with CleanupOnExit=yes it removes its table.
fwd_stop() {
	[ -n "$FWD_PID" ] || return 0
	kill -TERM "$FWD_PID" 2>/dev/null || true
	fwd_wait_exit "$FWD_PID" || { kill -9 "$FWD_PID" 2>/dev/null || true; fail "firewalld did not stop in 10 s"; }
	FWD_PID=
}

# fwd_kill9: a crash; its table stays in the namespace.
fwd_kill9() {
	[ -n "$FWD_PID" ] || return 0
	kill -9 "$FWD_PID" 2>/dev/null || true
	fwd_wait_exit "$FWD_PID" || true
	FWD_PID=
}

fwd_bus_stop() {
	[ -n "$FWD_BUS_PID" ] || return 0
	kill -TERM "$FWD_BUS_PID" 2>/dev/null || true
	fwd_wait_exit "$FWD_BUS_PID" || kill -9 "$FWD_BUS_PID" 2>/dev/null || true
	FWD_BUS_PID=
}

# On exit, before lib.sh's cleanup (which kills what is left in the namespaces and removes $T).
fwd_cleanup() {
	if [ -n "$FWD_PID" ]; then
		kill -TERM "$FWD_PID" 2>/dev/null || true
		fwd_wait_exit "$FWD_PID" || kill -9 "$FWD_PID" 2>/dev/null || true
		FWD_PID=
	fi
	fwd_bus_stop
}
fwd_exit() {
	local rc=$?
	set +e # (exit) below hands cleanup the status; under -e it would end the trap there
	fwd_cleanup
	(exit "$rc")
	cleanup
}
trap fwd_exit EXIT
