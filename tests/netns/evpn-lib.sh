# Hosts on an underlay for the EVPN tests (source after lib.sh). Each "host" is a network
# namespace with eth0 on the underlay bridge, FRR's zebra and bgpd of its own (FRR's pathspace
# -N NAME: /etc/frr/NAME and /var/run/frr/NAME, removed at cleanup) and, when the test starts
# one, a netd of its own (its dirs under $T/hI). Guests are namespaces on a host's bridge.
#
#   evpn_underlay N            the underlay ($NS holds bridge ul0) and hosts 1..N: host I's
#                              namespace is ${EVPN_HOST[I]}, its eth0 192.0.2.I/24 (the VTEP),
#                              MTU $EVPN_UL_MTU (default 1550)
#   evpn_host_add I            one more host later (a host that joins)
#   hx I CMD...                CMD in host I's namespace
#   evpn_frr_start I [FILE]    zebra and bgpd in host I with FILE as frr.conf (default: empty);
#                              waits until vtysh answers
#   evpn_frr_start_all N       evpn_frr_start of hosts 1..N side by side, each empty
#   evpn_vtysh I ARGS...       vtysh -N NAME in host I
#   evpn_netd_start I ARGS...  netd in host I (socket $T/hI/run/netd.sock) with FRR's paths of
#                              host I's pathspace; EVPN_NETD_PID[I]
#   evpn_args I                netd's EVPN options of host I: host 1 the route reflector, the
#                              others its clients
#   evpn_netd_kill9 I          kill -9 of host I's netd
#   hctl I ARGS...             netdctl against host I's netd
#   evpn_wire_guest NAME I MAC IP/PLEN GW
#                              a guest namespace (GNS_NAME) for netd's QEMU stand-in: its eth0's
#                              peer is the wire tm in host I, to which the stand-in relays the
#                              guest's TAP (--append veth=tm); the host takes nothing on tm
#   evpn_wire_move FROM TO     tm from host FROM to host TO (the guest destroyed on FROM first)
#   poll SECONDS CMD...        until CMD succeeds, every $EVPN_POLL_SLEEP s (default 0.1); 1 when
#                              SECONDS passed first
#   sessions I                 the BGP sessions host I's netd reports: "ADDR STATE" lines, sorted
#   wait_sessions I WANT       until sessions I is WANT (60 s: frr-reload.py took 13 s in a loaded
#                              CI rehearsal)
#   doctor_step I NETWORK STEP "status|fix|detail" of STEP in host I's netdctl doctor NETWORK
#   evpn_guest I NAME BRIDGE MAC [IP/PLEN GW]
#                              a guest namespace on host I (GNS_NAME, for gx): its eth0 is a veth
#                              whose peer, vNAME, is a port of BRIDGE in host I; with IP/PLEN and
#                              GW an address and a default route (else none: a DHCP client's)
command -v vtysh >/dev/null && [ -x /usr/lib/frr/zebra ] && [ -x /usr/lib/frr/bgpd ] ||
	skip "FRR missing (packages frr frr-pythontools: scripts/install-deps)"

EVPN_UL_MTU=${EVPN_UL_MTU:-1550}
EVPN_HOST=()
EVPN_NETD_PID=()

evpn_cleanup() {
	local i rc=0
	# The processes are gone with the namespaces (lib.sh's cleanup); their pathspace dirs remain.
	for i in "${!EVPN_HOST[@]}"; do
		rm -rf "/etc/frr/${EVPN_HOST[$i]:?}" "/var/run/frr/${EVPN_HOST[$i]:?}" || rc=1
		# A sanitizer build of a host's netd reports into its log: any report fails the test.
		if [ -f "$T/h$i/netd.log" ] && grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T/h$i/netd.log"; then
			echo "FAIL: sanitizer report in host $i's netd log:" >&2
			grep -A20 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T/h$i/netd.log" | head -40 >&2
			rc=1
		fi
	done
	return $rc
}
CLEANUP_HOOKS+=(evpn_cleanup)

hx() { local i=$1; shift; ip netns exec "${EVPN_HOST[$i]}" "$@"; }

evpn_host_add() {
	local i=$1 h="$NS-h$1"
	ip netns add "$h"
	EXTRA_NS+=("$h")
	EVPN_HOST[$i]=$h
	ip -n "$h" link set lo up
	ip -n "$NS" link add "ul$i" type veth peer name eth0 netns "$h"
	ip -n "$NS" link set "ul$i" mtu "$EVPN_UL_MTU" master ul0 up
	ip -n "$h" link set eth0 mtu "$EVPN_UL_MTU" up
	ip -n "$h" addr add "192.0.2.$i/24" dev eth0
	hx "$i" sysctl -qw net.ipv4.ip_forward=1
}

evpn_underlay() {
	ip -n "$NS" link add ul0 type bridge
	ip -n "$NS" link set ul0 mtu "$EVPN_UL_MTU" up
	for i in $(seq 1 "$1"); do evpn_host_add "$i"; done
}

evpn_frr_start_all() {
	local i p pids=() failed=
	for i in $(seq 1 "$1"); do
		evpn_frr_start "$i" &
		pids+=($!)
	done
	# every one waited for before a failure ends the test: none outlives the cleanup
	for p in "${pids[@]}"; do wait "$p" || failed=1; done
	[ -z "$failed" ] || fail "FRR did not start"
}

evpn_vtysh() { local i=$1; shift; hx "$i" vtysh -N "${EVPN_HOST[$i]}" "$@"; }

evpn_frr_start() {
	local i=$1 h=${EVPN_HOST[$1]} d
	for d in "/etc/frr/$h" "/var/run/frr/$h"; do
		mkdir -p "$d"
		chown frr:frr "$d"
	done
	if [ -n "${2:-}" ]; then cp "$2" "/etc/frr/$h/frr.conf"; else : >"/etc/frr/$h/frr.conf"; fi
	: >"/etc/frr/$h/vtysh.conf"
	chown frr:frr "/etc/frr/$h/frr.conf" "/etc/frr/$h/vtysh.conf"
	chmod 0640 "/etc/frr/$h/frr.conf"
	# -d: each returns once its daemon runs (zebra first: bgpd connects to it).
	hx "$i" /usr/lib/frr/zebra -d -N "$h" -f "/etc/frr/$h/frr.conf" >>"$T/frr-h$i.log" 2>&1 ||
		fail "zebra did not start in host $i: $(tail -5 "$T/frr-h$i.log")"
	hx "$i" /usr/lib/frr/bgpd -d -N "$h" -f "/etc/frr/$h/frr.conf" >>"$T/frr-h$i.log" 2>&1 ||
		fail "bgpd did not start in host $i: $(tail -5 "$T/frr-h$i.log")"
	for _ in $(seq 1 100); do
		evpn_vtysh "$i" -c 'show version' >/dev/null 2>&1 && break
		sleep 0.05
	done
	evpn_vtysh "$i" -c 'show version' >/dev/null 2>&1 || fail "vtysh cannot reach host $i's FRR"
}

evpn_netd_start() {
	local i=$1 dir="$T/h$1" sock
	shift
	sock="$dir/run/netd.sock"
	mkdir -p "$dir"
	# Not through hx: a function run in the background is a subshell of its own, and $! would be
	# that subshell's pid, not netd's (evpn_netd_kill9 killed the subshell and left netd running).
	# FRR's paths are always the host's own pathspace: a netd with --vtep writes FRR's file and
	# runs frr-reload.py, never on this machine's /etc/frr/frr.conf (ARGS may name them again).
	ip netns exec "${EVPN_HOST[$i]}" "$NETD" --config-dir "$dir/etc" --state-dir "$dir/lib" \
		--run-dir "$dir/run" --socket "$sock" --log-level debug \
		--frr-pathspace "${EVPN_HOST[$i]}" --frr-conf "/etc/frr/${EVPN_HOST[$i]}/frr.conf" \
		"$@" 2>>"$dir/netd.log" &
	EVPN_NETD_PID[$i]=$!
	for _ in $(seq 1 200); do
		[ -S "$sock" ] && hctl "$i" status >/dev/null 2>&1 && return 0
		kill -0 "${EVPN_NETD_PID[$i]}" 2>/dev/null || fail "host $i's netd exited at start: $(tail -5 "$dir/netd.log")"
		sleep 0.02
	done
	fail "host $i's netd did not open its socket"
}

evpn_args() {
	if [ "$1" = 1 ]; then
		echo "--vtep 192.0.2.1 --evpn-reflector"
	else
		echo "--vtep 192.0.2.$1 --evpn-peers 192.0.2.1"
	fi
}

evpn_netd_kill9() {
	kill -9 "${EVPN_NETD_PID[$1]}"
	wait "${EVPN_NETD_PID[$1]}" 2>/dev/null || true
	EVPN_NETD_PID[$1]=
}

hctl() { local i=$1; shift; "$NETDCTL" --socket "$T/h$i/run/netd.sock" "$@"; }

evpn_guest() {
	local i=$1 name=$2 ns="netdt-$2-$$-${RANDOM}"
	ip netns add "$ns"
	EXTRA_NS+=("$ns")
	hx "$i" ip link add "v$name" type veth peer name eth0 netns "$ns"
	hx "$i" ip link set "v$name" master "$3" up
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 address "$4" up
	if [ -n "${5:-}" ]; then
		ip -n "$ns" addr add "$5" dev eth0
		ip -n "$ns" route add default via "$6"
	fi
	eval "GNS_$name=$ns"
}

poll() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep "${EVPN_POLL_SLEEP:-0.1}"
	done
}

sessions() { hctl "$1" --json status | jq -r '.evpn.peers[] | "\(.address) \(.state)"' | sort; }
sessions_are() { [ "$(sessions "$1" 2>/dev/null)" = "$2" ]; }
wait_sessions() {
	poll 60 sessions_are "$1" "$2" ||
		fail "host $1's sessions: expected '$2', got '$(sessions "$1")'; $(tail -5 "$T/h$1/netd.log")"
}

doctor_step() {
	{ hctl "$1" --json doctor "$2" 2>/dev/null || true; } | # exit status 1: a step failed
		jq -r --arg s "$3" '.steps[] | select(.name == $s) | "\(.status)|\(.fix // "")|\(.detail)"'
}

# tm is a wire, not the host's interface (tap-guest-lib.sh's reason): the host takes nothing on it.
evpn_wire_up() {
	hx "$1" sysctl -qw net.ipv6.conf.tm.disable_ipv6=1
	hx "$1" nft add table netdev netdt_tap
	hx "$1" nft add chain netdev netdt_tap in_tm \
		'{ type filter hook ingress device "tm" priority 0; policy drop; }'
	hx "$1" ip link set tm up
}

evpn_wire_guest() {
	local name=$1 i=$2 ns="netdt-$1-$$-${RANDOM}"
	ip netns add "$ns"
	EXTRA_NS+=("$ns")
	ip -n "$ns" link set lo up
	hx "$i" ip link add tm type veth peer name eth0 netns "$ns"
	ip -n "$ns" link set eth0 address "$3" up
	ip -n "$ns" addr add "$4" dev eth0
	ip -n "$ns" route add default via "$5"
	eval "GNS_$name=$ns"
	evpn_wire_up "$i"
}

evpn_wire_move() {
	hx "$1" nft delete table netdev netdt_tap
	hx "$1" ip link set tm netns "${EVPN_HOST[$2]}"
	evpn_wire_up "$2"
}
