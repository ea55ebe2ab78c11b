# The real firewall managers netd integrates with (issue 15), run inside the test's namespace $NS:
# Docker's daemon (with the containerd it starts) and ufw. Sourced after lib.sh.
#
# Nothing of theirs may reach this machine outside $T. Each runs in $NS's network namespace and a
# mount namespace of its own (unshare --propagation private), in which /run is $FW/run: dockerd
# hard-codes /run/docker/plugins, and neither sees the machine's system bus (a firewalld there).
# Two lock files stay the machine's own (symlinks through $FW/host-run), because netd runs outside
# that mount namespace and must take the same lock as they do: /run/xtables.lock (iptables-legacy
# serialises its whole-table writes with it) and /run/ufw.lock (ufw holds it for each command,
# a reload included); each is removed at exit if the test created it and nobody holds it.
# dockerd gets every path in $FW (--data-root, --exec-root: its containerd's config, state and
# socket follow from those two, --pidfile, -H unix://, --config-file, and in it
# deprecated-key-path: it writes /etc/docker/key.json otherwise) and the vfs storage driver (no
# mounts at all). ufw sees a copy of /etc/ufw bound over it (it rewrites ufw.conf and user*.rules);
# the machine's /etc/ufw is compared with a copy taken at the start when the test exits (diff -r),
# and put back and the test failed if it changed.

# fw_run_parts SCRIPT PART...: each part in a process of its own (`bash SCRIPT PART`: lib.sh gives it
# its own namespaces and $T, and its cleanup), one after the other, with its time. Exit status: 1 if
# a part failed, else 0 if one passed, else 77. Sourced with --runner, before lib.sh (the runner
# itself makes no namespace): `. fwmgr-lib.sh --runner; fw_run_parts "$0" PART...`.
fw_run_parts() {
	local script=$1 p r t0 rc=77 failed='' skipped=''
	shift
	for p; do
		echo "# part $p"
		t0=$(date +%s%N)
		r=0
		bash "$script" "$p" || r=$?
		echo "# part $p: exit $r in $((($(date +%s%N) - t0) / 1000000)) ms"
		case $r in
		0) [ "$rc" = 1 ] || rc=0 ;;
		77) skipped+=" $p" ;;
		*) rc=1 failed+=" $p" ;;
		esac
	done
	[ -z "$skipped" ] || echo "# parts skipped:$skipped"
	[ -z "$failed" ] || echo "FAIL: parts failed:$failed" >&2
	return $rc
}
[ "${1:-}" = --runner ] && return 0

need nsenter unshare socat nft

FW="$T/fw"
UFW_ETC=/etc/ufw # what fw_cleanup compares and restores (test-fw-ufw.sh's part lab points it at a scratch copy)
mkdir -p "$FW/run" "$FW/host-run"
FW_LOCKS=(xtables.lock ufw.lock)
FW_LOCKS_NEW=() # those of FW_LOCKS that did not exist at the start
for l in "${FW_LOCKS[@]}"; do [ -e "/run/$l" ] || FW_LOCKS_NEW+=("$l"); done

# $FW/in-ns [--ufw] CMD...: CMD in $NS with the private mounts above (--ufw: /etc/ufw too).
cat >"$FW/in-ns" <<EOF
#!/bin/sh
ufw=
[ "\$1" = --ufw ] && { ufw=1; shift; }
exec nsenter --net=/run/netns/$NS unshare --mount --propagation private sh -c '
	set -e
	export LIBMOUNT_UTAB=$FW/utab # mount(8) would create /run/mount otherwise
	mount -n --bind /run $FW/host-run
	mount -n --bind $FW/run /run
	for l in ${FW_LOCKS[*]}; do ln -sfn $FW/host-run/\$l /run/\$l; done
	[ -z "\$0" ] || mount -n --bind $FW/ufw/etc /etc/ufw
	exec "\$@"' "\$ufw" "\$@"
EOF
chmod 0755 "$FW/in-ns"

fw_cleanup() {
	local rc=0
	if [ -d "$FW/ufw/orig" ] && ! diff -r "$UFW_ETC" "$FW/ufw/orig" >"$FW/ufw/diff" 2>&1; then
		echo "FAIL: $UFW_ETC changed during the test; putting it back:" >&2
		cat "$FW/ufw/diff" >&2
		find "$UFW_ETC" -mindepth 1 -depth | while read -r f; do
			[ -e "$FW/ufw/orig/${f#"$UFW_ETC"/}" ] || [ -L "$FW/ufw/orig/${f#"$UFW_ETC"/}" ] || rm -rf "$f"
		done
		cp -a "$FW/ufw/orig/." "$UFW_ETC/"
		diff -r "$UFW_ETC" "$FW/ufw/orig" >&2 || echo "FAIL: $UFW_ETC could not be put back" >&2
		rc=1
	fi
	# The lock files iptables-legacy and ufw created on this machine for the test (empty; anyone's
	# iptables-legacy or ufw creates them): gone again unless another process holds one now.
	local l
	for l in "${FW_LOCKS_NEW[@]}"; do
		if [ -e "/run/$l" ] && ! fuser -s "/run/$l" 2>/dev/null; then rm -f "/run/$l"; fi
	done
	return $rc
}
CLEANUP_HOOKS+=(fw_cleanup)

# fw_iptables MODE CMD: the iptables command of MODE (nft or legacy): iptables-nft, ip6tables-legacy-save...
fw_iptables() { echo "/usr/sbin/${2/tables/tables-$1}"; }

# ---- Docker ----
DOCKER_PID=
DOCKER_MODE=
DOCKER_ARGS=() # more dockerd options (--experimental --ip6tables, say)
DOCKER_START_MS=

docker_ready() {
	printf 'GET /_ping HTTP/1.0\r\n\r\n' | timeout 2 socat -t 2 - "UNIX-CONNECT:$FW/docker/sock" 2>/dev/null | has '^OK' ||
		return 1
	if [ "$DOCKER_MODE" = legacy ]; then
		nsx iptables-legacy -w -S DOCKER-USER >/dev/null 2>&1
	else
		nsx nft list chain ip filter DOCKER-USER >/dev/null 2>&1
	fi
}

# docker_start [legacy]: dockerd in $NS, its iptables rules through iptables-nft (by default) or
# iptables-legacy (a PATH whose first folder has iptables, ip6tables and their -save and -restore
# as links to that kind). Waits until its socket answers and chain DOCKER-USER exists; sets
# DOCKER_PID and DOCKER_START_MS (from exec to ready). Docker sets ip filter FORWARD's policy to drop
# only when it turns ip_forward on itself.
docker_start() {
	need dockerd
	local mode=${1:-nft} bin b t0
	[ "$mode" = nft ] || [ "$mode" = legacy ] || fail "docker_start: unknown mode $mode"
	bin="$FW/bin-$mode"
	mkdir -p "$FW/docker" "$bin"
	for b in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
		[ -x "$(fw_iptables "$mode" "$b")" ] || skip "$(fw_iptables "$mode" "$b") missing"
		ln -sfn "$(fw_iptables "$mode" "$b")" "$bin/$b"
	done
	# (the trust key's path is no command-line option in 20.10, only this key)
	[ -f "$FW/docker/daemon.json" ] || echo "{\"deprecated-key-path\": \"$FW/docker/key.json\"}" >"$FW/docker/daemon.json"
	DOCKER_MODE=$mode
	t0=$(date +%s%N)
	PATH="$bin:$PATH" "$FW/in-ns" dockerd --data-root "$FW/docker/root" --exec-root "$FW/docker/exec" \
		--pidfile "$FW/docker/pid" -H "unix://$FW/docker/sock" --config-file "$FW/docker/daemon.json" \
		--storage-driver vfs --iptables=true \
		"${DOCKER_ARGS[@]}" >>"$FW/docker/log" 2>&1 &
	DOCKER_PID=$! # in-ns, nsenter, unshare and sh each exec the next: dockerd's own pid
	disown "$DOCKER_PID" # bash still reaps it, without a "Killed" line when cleanup kills it
	for _ in $(seq 1 600); do
		if docker_ready; then
			DOCKER_START_MS=$((($(date +%s%N) - t0) / 1000000))
			echo "# dockerd ($mode) ready in $DOCKER_START_MS ms"
			return 0
		fi
		kill -0 "$DOCKER_PID" 2>/dev/null || fail "dockerd exited at start: $(tail -n 20 "$FW/docker/log")"
		sleep 0.05
	done
	fail "dockerd not ready within 30 s: $(tail -n 20 "$FW/docker/log")"
}

# docker_stop: SIGTERM to dockerd, and wait for it and its containerd to exit (20 s, then SIGKILL).
docker_stop() {
	[ -n "$DOCKER_PID" ] || return 0
	local ctd
	ctd=$(cat "$FW/docker/exec/containerd/containerd.pid" 2>/dev/null || true)
	kill -TERM "$DOCKER_PID" 2>/dev/null || true
	for _ in $(seq 1 400); do
		kill -0 "$DOCKER_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$DOCKER_PID" 2>/dev/null; then
		echo "# dockerd did not stop within 20 s: SIGKILL"
		kill -9 "$DOCKER_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$DOCKER_PID" 2>/dev/null || break
			sleep 0.05
		done
	fi
	DOCKER_PID=
	if [ -n "$ctd" ]; then
		for _ in $(seq 1 100); do
			kill -0 "$ctd" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$ctd" 2>/dev/null; then kill -9 "$ctd" 2>/dev/null || true; fi
	fi
	return 0
}

docker_restart() {
	local mode=$DOCKER_MODE
	docker_stop
	docker_start "$mode"
}

# ---- ufw ----
# ufw_x ARGS...: ufw in $NS on the test's copy of /etc/ufw. ufw uses /usr/sbin/iptables, that is
# whichever kind the machine's alternatives pick.
ufw_init() {
	need ufw
	[ -d "$FW/ufw/orig" ] && return 0
	# The tests look for ufw's rules with iptables-nft and nft.
	[ "$(readlink -f /usr/sbin/iptables)" = "$(readlink -f /usr/sbin/iptables-nft)" ] ||
		skip "ufw would use $(readlink -f /usr/sbin/iptables) here, not iptables-nft"
	mkdir -p "$FW/ufw"
	cp -a "$UFW_ETC" "$FW/ufw/orig"
	cp -a "$UFW_ETC" "$FW/ufw/etc"
	mkdir -p "$FW/bin-ufw"
	printf '#!/bin/sh\nexec %s --ufw /usr/sbin/ufw "$@"\n' "$FW/in-ns" >"$FW/bin-ufw/ufw"
	chmod 0755 "$FW/bin-ufw/ufw"
}
ufw_x() { ufw_init && "$FW/bin-ufw/ufw" "$@"; }
# ufw_enable, ufw_disable, ufw_reload: fail the test when ufw fails, with its words and what it
# left (the policies of ip filter INPUT and FORWARD).
ufw_do() {
	local out
	out=$(ufw_x "$@" 2>&1) ||
		fail "ufw $*: $out; it left $(nsx iptables-nft -w -S 2>/dev/null | grep -E '^-P (INPUT|FORWARD)' | tr '\n' ' ')"
}
ufw_enable() { ufw_do --force enable; }
ufw_disable() { ufw_do --force disable; }
ufw_reload() { ufw_do reload; }

# ---- netd next to them ----
# fw_start_netd MODE: netd --firewall-integration MODE. report is what a netd without the option
# does (it reports, and touches no other table): such a netd runs without it; auto and off fail.
fw_start_netd() {
	if "$NETD" --help 2>&1 | has -e --firewall-integration; then
		start_netd --firewall-integration "$1"
	elif [ "$1" = report ]; then
		echo "# netd has no --firewall-integration: report is its only behaviour"
		start_netd
	else
		fail "netd has no --firewall-integration (issue 15's driver): cannot run --firewall-integration $1"
	fi
}

# fw_network NAME NET: a nat network NAME on 10.NET.0.0/24 in which guest g (MAC 52:54:00:fe:NET:01,
# as hex) has its address reserved (no ping before the offer) and up.lab.test resolves to upstream.
fw_network() {
	ctl network create "$1" --mode nat --subnet "10.$2.0.0/24" --domain lab.test \
		--host "$(printf '52:54:00:fe:%02x:01' "$2"),10.$2.0.10,g" --dns-host 192.168.50.1,up >/dev/null ||
		fail "network create $1"
}

# fw_guest NAME NETWORK NET: guest NAME on network NETWORK (bridge nd-NETWORK) with udhcpc; waits for
# its lease and routes through the gateway.
fw_guest() {
	add_guest "$1" "$(printf '52:54:00:fe:%02x:01' "$3")" "nd-$2"
	dhcp_client "$1" "$2"
	assert_eq "$(guest_ip "$1")" "10.$3.0.10" "guest $1's address"
	gx "$1" ip route replace default via "10.$3.0.1"
}

# fw_guest_works NAME NET: the guest resolves up.lab.test through netd's dnsmasq, pings its gateway
# and upstream, and upstream sees its connection from the host's address (masqueraded).
fw_guest_works() {
	local ans
	ans=$(gx "$1" busybox nslookup up.lab.test "10.$2.0.1" 2>&1) || true
	grep -q 'Address.*192\.168\.50\.1' <<<"$ans" || fail "guest $1: up.lab.test does not resolve: $ans"
	gx "$1" ping -c1 -W2 "10.$2.0.1" >/dev/null || fail "guest $1 cannot ping its gateway"
	gx "$1" ping -c1 -W2 192.168.50.1 >/dev/null || fail "guest $1 cannot ping upstream"
	assert_eq "$(ask_upstream "$1")" 192.168.50.2 "source address upstream sees from guest $1"
}

# fw_blocked NAME: upstream answers no connection of the guest's (within 2 s: it answers an
# allowed one in milliseconds).
fw_blocked() {
	local a
	a=$(gx "$1" busybox timeout 2 busybox nc 192.168.50.1 7000 </dev/null 2>/dev/null | tr -d '\r\n' || true)
	[ -z "$a" ] || fail "guest $1 reached upstream ($a) through a blocking firewall"
}

# fw_until SECONDS CMD...: CMD until it succeeds (every 20 ms), at most SECONDS; WAITED_MS says how
# long it took. Returns 1 at the deadline.
fw_until() {
	local t0 end
	t0=$(date +%s%N)
	end=$((t0 + $1 * 1000000000))
	shift
	while :; do
		if "$@" >/dev/null 2>&1; then
			WAITED_MS=$((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		[ "$(date +%s%N)" -lt "$end" ] || break
		sleep 0.02
	done
	WAITED_MS=$((($(date +%s%N) - t0) / 1000000))
	return 1
}

# net_is NETWORK JQ VALUE: network show --json's JQ is VALUE.
net_is() { [ "$(ctl --json network show "$1" | jq -r "$2")" = "$3" ]; }
# fw_wait_problem NETWORK REGEX [SECONDS]: the network's problem matches REGEX (bash's =~) within
# SECONDS (2). fw_wait_active NETWORK [SECONDS]: its state is active within SECONDS.
problem_matches() { [[ "$(ctl --json network show "$1" | jq -r .problem)" =~ $2 ]]; }
fw_wait_problem() {
	fw_until "${3:-2}" problem_matches "$1" "$2" ||
		fail "network $1: problem '$(ctl --json network show "$1" | jq -r .problem)', expected /$2/"
}
fw_wait_active() {
	fw_until "${2:-2}" net_is "$1" .state active ||
		fail "network $1 is not active: $(ctl --json network show "$1" | jq -c '[.state, .problem]')"
}

# fw_integration NETWORK MANAGER WHERE: network show --json lists netd's rules for MANAGER at WHERE
# (a jq regex, whole).
fw_integration() {
	ctl --json network show "$1" | jq -e --arg m "$2" --arg w "^$3\$" \
		'any(.firewall_integration[]?; .manager == $m and (.where | test($w)) and .by == "netd")' >/dev/null
}

# fw_rule IPTABLES CHAIN DIR BRIDGE: the chain (iptables -S) has netd's "DIR BRIDGE -j ACCEPT" rule
# tagged netd:BRIDGE (DIR: -i or -o). fw_netd_rules IPTABLES [BRIDGE]: netd's tagged lines in the
# filter table.
fw_rule() {
	nsx "$1" -w -S "$2" 2>/dev/null | grep -- " $3 $4 " | grep -- "netd:$4" | has -- "-j ACCEPT"
}
fw_netd_rules() { nsx "$1" -w -S 2>/dev/null | grep -- "netd:${2:-}" || true; }

# fw_step NETWORK: doctor's firewall step of the network, as JSON (doctor exits 1 when a step
# fails: the host has no default route here, for one).
fw_step() { { ctl --json doctor "$1" 2>/dev/null || true; } | jq -c '.steps[] | select(.name == "firewall")'; }

# fw_apply_fix NETWORK: run the fix doctor gives for the network's firewall step, as printed, in
# netd's namespace (ufw there is the test's ufw). Prints the fix.
fw_apply_fix() {
	local fix
	fix=$(fw_step "$1" | jq -r .fix)
	[ -n "$fix" ] && [ "$fix" != null ] || fail "doctor gives no firewall fix for $1"
	PATH="$FW/bin-ufw:$PATH" nsx sh -c "$fix" >/dev/null 2>&1 || fail "the firewall fix of $1 failed: $fix"
	echo "$fix"
}
