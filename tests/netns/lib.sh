# Shared helpers for the netns tests: each test runs netd inside a network namespace it creates
# itself, with its own config/state/run dirs, and removes all of it on exit, also on failure.
set -euo pipefail

skip() { echo "SKIP: $*"; exit 77; }
# need CMD...: skip unless every command is installed.
need() { local c; for c; do command -v "$c" >/dev/null || skip "$c missing"; done; }
fail() { FAIL_SAID=1; echo "FAIL: $*" >&2; [ -f "${T:-/nonexistent}/netd.log" ] && { echo "--- netd log (tail)" >&2; tail -n 40 "$T/netd.log" >&2; }; exit 1; }
ok() { echo "ok - $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "iproute2 missing"
command -v jq >/dev/null || skip "jq missing"
: "${NETD:?NETD must point to the netd binary}" "${NETDCTL:?NETDCTL must point to netdctl}"

TESTS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS="netdt-$$-${RANDOM}"
T=$(mktemp -d /tmp/netd-test.XXXXXX)
chmod 0711 "$T" # dnsmasq re-reads its hosts files in $T/run after dropping privileges
# Debian's python3, the one install-deps installs: a python3 earlier in PATH (a pyenv shim, say)
# can take a second to start on a loaded machine, longer than some tests' windows.
if [ -x /usr/bin/python3 ]; then
	mkdir "$T/bin" && ln -s /usr/bin/python3 "$T/bin/python3" && PATH="$T/bin:$PATH"
fi
SOCK="$T/run/netd.sock"
NETD_PID=
EXTRA_NS=()
BG_PIDS=()
EXTRA_USERS=()
# Functions cleanup runs once every process in the namespaces is gone and before $T goes (a helper
# library's own undo: fwmgr-lib.sh's check of /etc/ufw, say); one that returns non-zero fails the test.
CLEANUP_HOOKS=()

cleanup() {
	local rc=$? cmd=$BASH_COMMAND
	# A command that failed under set -e ends the test without fail()'s message: say which.
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ "$rc" != 130 ] && [ -z "${FAIL_SAID:-}" ]; then
		echo "FAIL: the test stopped with status $rc at: $cmd" >&2
		[ -f "$T/netd.log" ] && { echo "--- netd log (tail)" >&2; tail -n 20 "$T/netd.log" >&2; }
	fi
	# A sanitizer build reports into netd's log: any report fails the test.
	if [ -f "$T/netd.log" ] && grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T/netd.log"; then
		echo "FAIL: sanitizer report in netd's log:" >&2
		grep -A20 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T/netd.log" | head -40 >&2
		rc=1
	fi
	if [ -n "$NETD_PID" ] && kill -0 "$NETD_PID" 2>/dev/null; then
		kill -9 "$NETD_PID" 2>/dev/null || true
		wait "$NETD_PID" 2>/dev/null || true
	fi
	# Background helpers outside the namespaces (netdctl monitor, say), by pid.
	for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	# Anything else still running in our namespaces (dnsmasq, qemu, clients) goes too.
	for ns in "$NS" "${EXTRA_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	for h in "${CLEANUP_HOOKS[@]}"; do "$h" || rc=1; done
	for u in "${EXTRA_USERS[@]}"; do userdel "$u" 2>/dev/null || true; done
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || skip "cannot create a network namespace"
ip -n "$NS" link set lo up

nsx() { ip netns exec "$NS" "$@"; }

# How netd is started in $NS: a test that runs it in a mount namespace of its own too sets this
# (to a command that execs its arguments, so $! stays netd's pid).
NETD_PREFIX=()
start_netd() {
	# Not through nsx: $! must be netd's own pid ('ip netns exec' execs it).
	[ ${#NETD_PREFIX[@]} -gt 0 ] || NETD_PREFIX=(ip netns exec "$NS")
	"${NETD_PREFIX[@]}" "$NETD" --config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" --socket "$SOCK" \
		--log-level debug "$@" 2>>"$T/netd.log" &
	NETD_PID=$!
	for _ in $(seq 1 200); do
		[ -S "$SOCK" ] && ctl status >/dev/null 2>&1 && return 0
		kill -0 "$NETD_PID" 2>/dev/null || fail "netd exited at start"
		sleep 0.02
	done
	fail "netd did not open its socket"
}

kill9_netd() {
	kill -9 "$NETD_PID"
	wait "$NETD_PID" 2>/dev/null || true
	NETD_PID=
}

stop_netd() {
	kill -TERM "$NETD_PID"
	wait "$NETD_PID" 2>/dev/null || true
	NETD_PID=
}

ctl() { "$NETDCTL" --socket "$SOCK" "$@"; }

# monitor_start FILE [GLOBAL-OPTION...]: 'netdctl monitor' into FILE in the background; returns
# once netd took the subscription (its log line), so no event after it is missed.
monitor_start() {
	local file=$1 n
	shift
	n=$(grep -c 'request daemon.monitor' "$T/netd.log" || true)
	ctl "$@" monitor >"$file" 2>/dev/null &
	BG_PIDS+=($!)
	for _ in $(seq 1 200); do
		[ "$(grep -c 'request daemon.monitor' "$T/netd.log" || true)" -gt "$n" ] && return 0
		sleep 0.025
	done
	fail "netdctl monitor did not subscribe within 5 s"
}

# add_user NAME [GROUP...]: a throw-away system user (and its own group), removed on exit.
add_user() {
	command -v useradd >/dev/null || skip "useradd missing"
	local name=$1 groups
	shift
	groups=$(IFS=,; echo "$*")
	EXTRA_USERS+=("$name")
	useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
		${groups:+--groups "$groups"} "$name" || fail "cannot create user $name"
}
# run_as USER CMD...: CMD as USER with its groups (an unprivileged peer for netd).
run_as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }

# Send one raw line to the control socket and print the reply line.
raw_request() { printf '%s\n' "$1" | timeout 5 socat -t 2 - "UNIX-CONNECT:$SOCK"; }

link_json() { ip -n "$NS" -d -j link show "$1" 2>/dev/null | jq '.[0]'; }
link_field() { ip -n "$NS" -d -j link show "$1" | jq -r ".[0]$2"; }
has_link() { ip -n "$NS" link show "$1" >/dev/null 2>&1; }

# dnsmasq_pid NAME: the pid of network NAME's dnsmasq, from its pid file, or from the one netd writes
# at the spawn while dnsmasq has yet to write its own (a few ms).
dnsmasq_pid() {
	local p
	p=$(cat "$T/run/dnsmasq/$1.pid" 2>/dev/null || true)
	[ -n "$p" ] || p=$(cat "$T/run/dnsmasq/$1.netd.pid" 2>/dev/null || true)
	echo "$p"
}

# has GREP_ARGS...: grep's test at the end of a pipe. grep -q stops at the first match, and under
# pipefail a writer that writes again after it (ip flushes each route, nft each line) dies of
# SIGPIPE and fails the pipe although the line was there.
has() { grep "$@" >/dev/null; }

assert_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }

# Everything a failed request must leave untouched: links, addresses, routes, rules, files, and which
# dnsmasq processes run.
snapshot() {
	# The kernel's own change first: an IPv6 link-local address that is still in DAD gets its local
	# route when DAD ends, which a later snapshot would count as a change.
	for _ in $(seq 1 30); do
		[ -z "$(ip -n "$NS" -6 addr show tentative 2>/dev/null)" ] && break
		sleep 0.1
	done
	{
		# pid files are rewritten by dnsmasq itself as it starts: the process list below covers them
		(cd "$T" && find run/dnsmasq -type f ! -name "*.pid" 2>/dev/null | sort | xargs -r md5sum)
		# main dnsmasq processes only: each forks its script helper a moment after it starts
		for pid in $(ip netns pids "$NS" 2>/dev/null); do
			ppid=$(awk '/^PPid:/ {print $2}' /proc/"$pid"/status 2>/dev/null)
			# (an if: the loop's status must not be the last process's test, under pipefail)
			if [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = dnsmasq ] &&
				[ "$(cat /proc/"$ppid"/comm 2>/dev/null)" != dnsmasq ]; then
				echo "dnsmasq $pid"
			fi
		done | sort
		ip -n "$NS" -d -j link show |
			jq -c 'map({ifindex, ifname, address, mtu, flags, ifalias, master, kind: .linkinfo.info_kind}) | sort_by(.ifname)'
		ip -n "$NS" -j addr show | jq -c 'map({ifname, addr_info: [.addr_info[] | {local, prefixlen}]})'
		# RA-learnt routes count their lifetime down: the route is the same. And a route netd moved
		# onto a bridge one metric up gets the kernel's own beside it at the next advertisement
		# (netd/DESIGN.md, "RA-learnt routes"), whenever that comes: those count once, without metric.
		ip -n "$NS" -j route show table all |
			jq -c 'map(del(.expires) | if .protocol == "ra" then del(.metric) else . end) | unique | sort_by(.dst)'
		ip -n "$NS" -j -4 rule show | jq -c .
		ip -n "$NS" -j -6 rule show | jq -c .
		(cd "$T" && { find etc lib -type f 2>/dev/null || true; } | sort | xargs -r md5sum)
	}
}

# Bad-input tables. BAD_BEFORE is the snapshot every case must leave unchanged (taken by
# bad_cli_cases on first use); BAD_N counts the cases checked.
BAD_N=0
BAD_BEFORE=
bad_unchanged() {
	[ -n "$BAD_BEFORE" ] || BAD_BEFORE=$(snapshot)
	local after
	after=$(snapshot)
	[ "$BAD_BEFORE" = "$after" ] || fail "$1 changed state: $(diff <(echo "$BAD_BEFORE") <(echo "$after"))"
}

# bad_cli_cases ARRAY: each entry "exit code|expected stderr (grep -F; \\n for a newline)|netdctl
# arguments (shell words)". Each must exit with that code, print one clear line, change nothing.
bad_cli_cases() {
	local -n _bad=$1
	local c code msg cmd rc
	[ -n "$BAD_BEFORE" ] || BAD_BEFORE=$(snapshot)
	for c in "${_bad[@]}"; do
		IFS='|' read -r code msg cmd <<<"$c"
		msg=${msg//\\\\n/\\n}
		eval "set -- $cmd"
		rc=0
		ctl "$@" >"$T/out" 2>"$T/err" || rc=$?
		assert_eq "$rc" "$code" "exit code of '$cmd' ($(cat "$T/err"))"
		grep -qF -- "$msg" "$T/err" || fail "'$cmd': expected error containing \"$msg\", got: $(cat "$T/err")"
		[ "$(wc -l <"$T/err")" -le 2 ] || fail "'$cmd': error is not one clear line: $(cat "$T/err")"
		bad_unchanged "'$cmd'"
		ok "$(head -n1 "$T/err")"
		BAD_N=$((BAD_N + 1))
	done
}

# bad_raw_cases ARRAY: each entry "request line|expected error (grep -F)", sent straight to the
# socket (requests netdctl would never send).
bad_raw_cases() {
	local -n _bad=$1
	local c line msg reply
	[ -n "$BAD_BEFORE" ] || BAD_BEFORE=$(snapshot)
	for c in "${_bad[@]}"; do
		line=${c%%|*}
		msg=${c#*|}
		reply=$(raw_request "$line")
		assert_eq "$(jq -r .ok <<<"$reply")" false "reply to $line"
		grep -qF -- "$msg" <<<"$(jq -r .error <<<"$reply")" || fail "raw '$line': expected \"$msg\", got $reply"
		bad_unchanged "raw '$line'"
		ok "raw request refused: $(jq -r .error <<<"$reply")"
		BAD_N=$((BAD_N + 1))
	done
}

# Guests: a namespace each, its eth0's veth peer a port of a bridge in netd's namespace, with a
# real DHCP client (busybox udhcpc) that records its events in $T/NAME.events.
# add_guest NAME MAC BRIDGE: sets GNS_NAME to the guest's namespace.
add_guest() {
	local ns="netdt-$1-$$-${RANDOM}"
	ip netns add "$ns"
	EXTRA_NS+=("$ns")
	ip -n "$NS" link add "v$1" type veth peer name eth0 netns "$ns"
	ip -n "$NS" link set "v$1" master "$3" up
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 address "$2" up
	eval "GNS_$1=$ns"
}
gx() { local ns; eval "ns=\$GNS_$1"; shift; ip netns exec "$ns" "$@"; }

# dhcp_client NAME [NETWORK]: udhcpc in the guest, in the background, renewing on SIGUSR1; on
# bound its script checks how soon NETWORK's leases (default $NETWORK) list the address.
dhcp_client() {
	command -v busybox >/dev/null || skip "busybox missing (udhcpc)"
	EVENTS="$T/$1.events" NETWORK="${2:-${NETWORK:-}}" NETDCTL="$NETDCTL" SOCK="$SOCK" gx "$1" busybox udhcpc \
		-i eth0 -f -s "$TESTS_LIB_DIR/udhcpc-script.sh" -x "hostname:$1" -t 20 -T 1 -A 1 \
		-p "$T/$1.udhcpc.pid" >"$T/$1.udhcpc.log" 2>&1 &
	eval "CLIENT_$1=$!"
}

# wait_event NAME REGEX: wait up to 15 s for a line of the guest's event file; prints it.
wait_event() {
	for _ in $(seq 1 300); do
		grep -E -- "$2" "$T/$1.events" 2>/dev/null | tail -n1 | has . && {
			grep -E -- "$2" "$T/$1.events" | tail -n1
			return 0
		}
		sleep 0.05
	done
	fail "guest $1: no event matching '$2'; events: $(cat "$T/$1.events" 2>/dev/null)"
}
# guest_ip NAME: the address of the guest's last bound event.
guest_ip() { wait_event "$1" '^bound ' | sed 's/.* ip=\([^ ]*\).*/\1/'; }

# peer_ns VAR PREFIX: a namespace of the test's own, PREFIX-PID-RANDOM, named in VAR (removed at
# cleanup), lo up, its eth0 the peer of up0 in $NS (both down, no address yet).
peer_ns() {
	local -n peer_ns_name=$1
	peer_ns_name="$2-$$-${RANDOM}"
	ip netns add "$peer_ns_name"
	EXTRA_NS+=("$peer_ns_name")
	ip -n "$peer_ns_name" link set lo up
	ip -n "$NS" link add up0 type veth peer name eth0 netns "$peer_ns_name"
}

# The namespace of a test's upstream DNS servers ($UPD): up0 in $NS (10.53.0.1) to its eth0, which
# has 10.53.0.2 and 10.53.0.3 for the servers the test starts there.
add_dns_upstreams() {
	peer_ns UPD netdt-dnsup
	ip -n "$NS" addr add 10.53.0.1/24 dev up0
	ip -n "$NS" link set up0 up
	ip -n "$UPD" addr add 10.53.0.2/24 dev eth0
	ip -n "$UPD" addr add 10.53.0.3/24 dev eth0
	ip -n "$UPD" link set eth0 up
}

# add_upstream: namespace $UP on netd's uplink up0 (192.168.50.2 here, 192.168.50.1 there) that
# answers TCP port 7000 with the source address it sees. -U: socat only sends (the address) and
# never writes what the client sends into the finished 'echo' (that EPIPE made the child exit before
# it had relayed the answer: 8 empty answers in 200).
add_upstream() {
	command -v socat >/dev/null || skip "socat missing"
	peer_ns UP netdt-up
	ip -n "$NS" addr add 192.168.50.2/24 dev up0
	ip -n "$NS" link set up0 up
	ip -n "$UP" addr add 192.168.50.1/24 dev eth0
	ip -n "$UP" link set eth0 up
	ip netns exec "$UP" socat -U -T 2 TCP-LISTEN:7000,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' &
}
# ask_upstream GUEST: the source address upstream saw for the guest's connection ("" if none).
ask_upstream() { gx "$1" busybox timeout 3 busybox nc 192.168.50.1 7000 </dev/null 2>/dev/null | tr -d '\r\n' || true; }

# Guests with QEMU (TCG here). guest_image: KERNEL and INITRD of the test guest (built once per test
# dir by tests/guest/build-initramfs.sh; exits 77 when it cannot be built).
guest_image() {
	local img
	img=$(bash "$TESTS_LIB_DIR/../guest/build-initramfs.sh" "$T/guest") || exit $?
	read -r KERNEL INITRD <<<"$img"
}
serial() { tr -d '\r' <"$T/run/guests/$1/serial.log" 2>/dev/null || true; }
# wait_serial GUEST REGEX [SECONDS]: the last serial line matching REGEX (default: wait 60 s).
wait_serial() {
	local line
	for _ in $(seq 1 $((${3:-60} * 10))); do
		line=$(serial "$1" | grep -aE -- "$2" | tail -n1 || true)
		[ -n "$line" ] && { echo "$line"; return 0; }
		sleep 0.1
	done
	fail "guest $1: no serial line matching '$2'; serial: $(serial "$1" | tail -n 20)"
}
vm_field() { ctl --json vm show "$1" | jq -r "$2"; }
