#!/usr/bin/env bash
# shellcheck disable=SC2046 # $(host_args I): options without spaces, split on purpose
# Networks across hosts (issue 18): three hosts as namespaces on an underlay bridge, FRR's zebra
# and bgpd in each with its own pathspace, a netd per host owning FRR's configuration (h1 the
# route reflector, h2 and h3 its peers): tests/netns/evpn-lib.sh, as the EVPN tests use it.
#
# - join: h1 and h2 carry network span (VNI 100), a guest g2 on h2; h3's FRR runs, its session
#   is Established. From `netdctl network create span` on h3 (its guest g3's veth, up, made
#   before, plugged into h3's bridge right after the create; g3's 100 Hz ping started then, -D:
#   each reply with its time) until g3 has a reply from g2. Twice: with the guests' ARP retried
#   every 10 ms (retrans_time_ms, so the figure is EVPN's, not the guest's ARP timer) and every
#   1 s (Linux's default: a guest whose first request goes unanswered waits a second). netd's
#   FRR configuration (coalesce-time 100) against FRR's default (the baseline: `no coalesce-time
#   100` on every host through vtysh, which leaves no coalesce-time line in the running
#   configuration; restored after the sample), alternating. Between samples: network delete on
#   h3, until h1 and h2 list h3's VTEP for VNI 100 no more and h3's zebra has no VNI 100.
# - move: a guest moves between h1 and h2 (alternating directions) under a 100 Hz ping from g3
#   on h3. netd's way: the guest is netd's (the QEMU stand-in, tests/netns/veth-qemu.py, as
#   test-evpn-move.sh does it): `vm destroy` on one host, its wire moved, `vm start` on the
#   other with the same MAC (netd adds the static FDB entry on the TAP and sends announce-self).
#   Baseline: a plain guest's veth port moved from one host's bridge to the other's with `ip
#   link`. Both guests are silent (no IPv6: no DAD or router solicitation when their carrier
#   comes back), so the kernel learns the plain guest's MAC from its first answer. The figure:
#   from the guest back (`vm start` returned; the port up on the other bridge) to g3's first
#   reply; in the label the longest gap between two replies less the 10 ms interval (lost pings
#   x 10 ms), netd's including `vm destroy`, the wire's move and the stand-in's start.
. "$(dirname "$0")/../lib.sh"
FIG_JOIN="EVPN: a host joins a network, its guest reaches a guest on another host"
FIG_MOVE="EVPN: a guest moves between hosts, outage seen by a 100 Hz ping from a third host"
skipped() {
	row "$FIG_JOIN" "skipped: $1" - - "< 3 s" -
	row "$FIG_MOVE" "skipped: $1" - - "< 0.5 s" -
	exit 0
}
for f in /usr/lib/frr/zebra /usr/lib/frr/bgpd /usr/lib/frr/frr-reload.py /usr/bin/vtysh; do
	[ -x "$f" ] || skipped "no FRR ($f; packages frr frr-pythontools)"
done
for c in jq ping nft; do command -v "$c" >/dev/null || skipped "$c missing"; done
[ -x /usr/bin/python3 ] || skipped "no /usr/bin/python3 (the QEMU stand-in)"
STANDIN="$BUILD/tests/qemu-standin"
[ -x "$STANDIN" ] || skipped "no QEMU stand-in ($STANDIN)"

# What tests/netns/lib.sh gives evpn-lib.sh: skip, fail, EXTRA_NS and CLEANUP_HOOKS (arrays),
# gx. The namespaces and hooks go before bench_cleanup ($NS, the underlay, and $T).
TESTS_NETNS="$BENCH_DIR/../tests/netns"
skip() { skipped "$*"; }
fail() {
	echo "evpn: $*" >&2
	exit 1
}
gx() {
	local ns
	eval "ns=\$GNS_$1"
	shift
	ip netns exec "$ns" "$@"
}
EXTRA_NS=()
CLEANUP_HOOKS=()
evpn_bench_cleanup() {
	local ns pid h
	for ns in "${EXTRA_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	for h in "${CLEANUP_HOOKS[@]}"; do "$h" || true; done
	EXTRA_NS=()
	bench_cleanup
}
trap evpn_bench_cleanup EXIT
. "$TESTS_NETNS/evpn-lib.sh"

install -o root -g root -m 0755 "$STANDIN" "$T/qemu"
install -o root -g root -m 0644 "$TESTS_NETNS/veth-qemu.py" "$T/veth-qemu.py"
head -c 4096 /dev/zero >"$T/vmlinuz"

MAC_M=52:54:00:77:00:99 IP_M=10.77.0.99 # netd's guest that moves
MAC_B=52:54:00:77:00:98 IP_B=10.77.0.98 # the plain guest that moves
SPAN=(span --mode evpn --vni 100 --subnet 10.77.0.0/24 --host "$MAC_M,$IP_M")

EVPN_POLL_SLEEP=0.02 # evpn-lib.sh's poll

evpn_underlay 3
evpn_frr_start_all 3
host_args() {
	echo "--vtep 192.0.2.$1 --frr-pathspace ${EVPN_HOST[$1]} --frr-conf /etc/frr/${EVPN_HOST[$1]}/frr.conf" \
		"--qemu $T/qemu --qemu-user root --log-level info"
}
evpn_netd_start 1 --evpn-reflector $(host_args 1)
for i in 2 3; do evpn_netd_start "$i" --evpn-peers 192.0.2.1 $(host_args "$i"); done
for i in 1 2 3; do disown "${EVPN_NETD_PID[$i]}"; done

sessions_up() {
	[ "$(evpn_vtysh 1 -c 'show bgp l2vpn evpn summary json' 2>/dev/null |
		jq -r '[.peers // {} | to_entries[] | select(.value.state == "Established") | .key] | sort | join(",")')" = \
		192.0.2.2,192.0.2.3 ]
}
poll 90 sessions_up || fail "the BGP sessions did not come up: $(evpn_vtysh 1 -c 'show bgp l2vpn evpn summary')"
# coalesce LINE: the same line in every host's FRR, at run time (netd applies its file only when
# its own text changes: it does not undo this).
coalesce() {
	local i
	for i in 1 2 3; do evpn_vtysh "$i" -c 'conf t' -c 'router bgp 65000' -c "$1" >/dev/null; done
}
coalesce_shown() { evpn_vtysh 1 -c 'show running-config' | sed -n 's/^ *\(coalesce-time.*\)/\1/p'; }
NETD_COALESCE=$(coalesce_shown)
[ "$NETD_COALESCE" = "coalesce-time 100" ] || fail "netd's FRR configuration has '$NETD_COALESCE', not coalesce-time 100"
coalesce 'no coalesce-time 100'
DEFAULT_COALESCE=$(coalesce_shown)
[ -z "$DEFAULT_COALESCE" ] || fail "after 'no coalesce-time 100' FRR still has '$DEFAULT_COALESCE'"
coalesce 'coalesce-time 100'

for i in 1 2; do hctl "$i" network create "${SPAN[@]}" >/dev/null; done
# guest NAME HOST MAC IP: a guest namespace (GNS_NAME), its veth peer vNAME in HOST, up, on no bridge.
guest() {
	local ns="netdb-$1-$$-${RANDOM}"
	ip netns add "$ns"
	EXTRA_NS+=("$ns")
	hx "$2" ip link add "v$1" type veth peer name eth0 netns "$ns"
	hx "$2" ip link set "v$1" up
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 address "$3" up
	ip -n "$ns" addr add "$4/24" dev eth0
	ip -n "$ns" route add default via 10.77.0.1
	eval "GNS_$1=$ns"
}
guest g2 2 52:54:00:77:00:02 10.77.0.12
hx 2 ip link set vg2 master nd-span
guest g3 3 52:54:00:77:00:03 10.77.0.13

# The 100 Hz ping from g3 (-D: each reply with its time): ping_start DEST FILE, ping_stop.
PING=
ping_start() {
	# (not through gx: $! must be ping's own pid; GNS_g3 is set by guest through eval)
	# shellcheck disable=SC2154
	ip netns exec "$GNS_g3" ping -n -D -i 0.01 -W 1 "$1" >"$2" 2>&1 &
	PING=$!
}
ping_stop() {
	kill -INT "$PING" 2>/dev/null || true
	wait "$PING" 2>/dev/null || true
	PING=
}
# replies FILE: the times of the replies, one a line
replies() { sed -n 's/^\[\([0-9.]*\)\] .* bytes from.*/\1/p' "$1"; }
# reply_after FILE TIME: a reply came after TIME
reply_after() { replies "$1" | awk -v t="$2" '$1 > t { f = 1 } END { exit !f }'; }
replies_at_least() { [ "$(replies "$1" | wc -l)" -ge "$2" ]; }

# vteps I: the remote VTEPs host I's zebra has for VNI 100 (FRR 8.4 lists them as
# "numRemoteVteps" in 'show evpn vni 100 json', as "remoteVteps" in 'show evpn vni json')
vteps() {
	evpn_vtysh "$1" -c 'show evpn vni 100 json' 2>/dev/null | jq -r '[(.remoteVteps, .numRemoteVteps) |
		select(type == "array") | .[] | if type == "object" then .ip else . end] | sort | join(",")' 2>/dev/null
}
h3_gone() {
	[ "$(vteps 1)" = 192.0.2.2 ] && [ "$(vteps 2)" = 192.0.2.1 ] &&
		[ "$(evpn_vtysh 3 -c 'show evpn vni json' 2>/dev/null | jq -r 'has("100")')" != true ]
}
poll 30 h3_gone || fail "h1 and h2 do not see each other's VTEP alone: '$(vteps 1)' '$(vteps 2)'"
echo "evpn: zebra's $(evpn_vtysh 1 -c 'show evpn' | grep -i 'duplicate address' | tr -s ' ')" >&2

# join_sample FILE: one join, its time in us appended to FILE; h3 without span again after it.
# g3's ping starts once its port is plugged in (its first ARP request then, not a retry's timer).
join_sample() {
	gx g3 ip neigh flush dev eth0
	gx g2 ip neigh flush dev eth0
	local t0
	t0=$(date +%s.%N)
	hctl 3 network create "${SPAN[@]}" >/dev/null
	hx 3 ip link set vg3 master nd-span
	ping_start 10.77.0.12 "$T/ping-join"
	poll 20 reply_after "$T/ping-join" "$t0" || fail "g3 had no reply from g2 20 s after the create on h3"
	ping_stop
	replies "$T/ping-join" | awk -v t="$t0" '$1 > t { printf "%d\n", ($1 - t) * 1e6; exit }' >>"$1"
	hctl 3 network delete span >/dev/null
	poll 30 h3_gone || fail "h3's VTEP still listed after its network delete: '$(vteps 1)' '$(vteps 2)'"
}
# arp_retrans MS: how often the guests g2 and g3 send an unanswered ARP request again
arp_retrans() { for g in g2 g3; do gx "$g" sysctl -qw "net.ipv4.neigh.eth0.retrans_time_ms=$1"; done; }

for f in join-netd join-frr join1s-netd join1s-frr; do : >"$T/$f"; done
for _ in $(seq 1 "$REPS"); do
	for retrans in 10 1000; do
		arp_retrans "$retrans"
		f="join"
		[ "$retrans" = 10 ] || f=join1s
		join_sample "$T/$f-netd"
		coalesce 'no coalesce-time 100'
		join_sample "$T/$f-frr"
		coalesce 'coalesce-time 100'
	done
done
ms() { fmt "$(us_ms "$1")" ms; }
for f in join join1s; do
	echo "evpn: $f (us), netd: $(tr '\n' ' ' <"$T/$f-netd"); FRR's defaults: $(tr '\n' ' ' <"$T/$f-frr")" >&2
	read -r med lo hi n < <(stats "$T/$f-netd")
	read -r fmed flo fhi _ < <(stats "$T/$f-frr")
	met=$(awk -v v="$med" 'BEGIN { print (v < 3e6) ? "yes" : "NO" }')
	if [ "$f" = join ]; then
		what="guests' ARP retried every 10 ms"
	else
		# how many samples waited for the guest's second ARP request
		what="guests' ARP retried every 1 s, Linux's default: $(cat "$T/$f-netd" "$T/$f-frr" |
			awk '$1 > 1e6 { k++ } END { print k + 0 }') of $((2 * n)) waited for a retry"
	fi
	row "$FIG_JOIN ($what; p50 of $n; coalesce-time 100 $(ms "$lo")-$(ms "$hi"), FRR's default $(ms "$flo")-$(ms "$fhi"))" \
		"$(ms "$med")" "FRR default $(ms "$fmed")" "$(ratio "$fmed" "$med")" "< 3 s" "$met"
done

# --- move ---------------------------------------------------------------------------------------
hctl 3 network create "${SPAN[@]}" >/dev/null
hx 3 ip link set vg3 master nd-span
arp_retrans 1000

# netd's guest m: its namespace keeps its address across moves (as a guest's memory does), its
# wire tm goes from host to host; the stand-in relays m's TAP to tm.
evpn_wire_guest m 1 "$MAC_M" "$IP_M/24" 10.77.0.1
# silent guests: no IPv6 (its DAD and router solicitation at each carrier change would teach the
# bridge the MAC); b learns nothing else, m announces itself through netd
gx m sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.eth0.disable_ipv6=1
for i in 1 2; do
	hctl "$i" vm create m --network span --mac "$MAC_M" --memory 64M --kernel "$T/vmlinuz" \
		--append veth=tm --accel tcg --no-autostart >/dev/null
done
hctl 1 vm start m >/dev/null
# the plain guest b, on h1
guest b 1 "$MAC_B" "$IP_B"
gx b sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.eth0.disable_ipv6=1
hx 1 ip link set vb master nd-span
reaches() { gx g3 ping -c1 -W 0.3 "$1" >/dev/null 2>&1; }
poll 20 reaches "$IP_M" || fail "g3 cannot reach netd's guest m on h1"
poll 20 reaches "$IP_B" || fail "g3 cannot reach the plain guest b on h1"

# mac_at I MAC: EVPN's entry of MAC on host I ("local -", "remote VTEP", "none -")
mac_at() {
	evpn_vtysh "$1" -c 'show evpn mac vni 100 json' 2>/dev/null |
		jq -r --arg m "$2" '.macs[$m] // {} | [.type // "none", .remoteVtep // "-"] | join(" ")'
}
# settled MAC AT: every host has MAC at host AT in EVPN
settled() {
	local i want
	for i in 1 2 3; do
		if [ "$i" = "$2" ]; then want="local -"; else want="remote 192.0.2.$2"; fi
		[ "$(mac_at "$i" "$1")" = "$want" ] || return 1
	done
}

# move_sample WAY FROM TO FILE: one move of netd's guest (WAY netd) or of the plain one (WAY
# plain); "OUTAGE_US AFTER_US" appended to FILE.
move_sample() {
	local way=$1 from=$2 to=$3 dest mac t_up
	if [ "$way" = netd ]; then dest=$IP_M mac=$MAC_M; else dest=$IP_B mac=$MAC_B; fi
	poll 10 settled "$mac" "$from" || fail "EVPN has not settled with $mac at h$from"
	ping_start "$dest" "$T/ping-move"
	poll 10 replies_at_least "$T/ping-move" 30 || fail "g3's ping of $dest: $(tail -3 "$T/ping-move")"
	if [ "$way" = netd ]; then
		hctl "$from" vm destroy m >/dev/null
		evpn_wire_move "$from" "$to"
		hctl "$to" vm start m >/dev/null
	else
		hx "$from" ip link set vb netns "${EVPN_HOST[$to]}"
		hx "$to" ip link set vb master nd-span up
	fi
	t_up=$(date +%s.%N)
	poll 10 reply_after "$T/ping-move" "$t_up" || fail "g3 had no reply from $dest 10 s after it moved to h$to"
	sleep 0.1
	ping_stop
	replies "$T/ping-move" | awk -v t="$t_up" '
		NR > 1 && $1 - p > gap { gap = $1 - p }
		$1 > t && !after { after = $1 - t }
		{ p = $1 }
		END { g = gap - 0.01; printf "%d %d\n", (g > 0 ? g : 0) * 1e6, after * 1e6 }' >>"$4"
}

: >"$T/move-netd"
: >"$T/move-plain"
at=1
for _ in $(seq 1 "$REPS"); do
	to=$((3 - at))
	move_sample netd "$at" "$to" "$T/move-netd"
	move_sample plain "$at" "$to" "$T/move-plain"
	at=$to
done
echo "evpn: move (outage us, after us), netd: $(tr '\n' ' ' <"$T/move-netd"); plain: $(tr '\n' ' ' <"$T/move-plain")" >&2
cut -d' ' -f1 "$T/move-netd" >"$T/mn1"
cut -d' ' -f2 "$T/move-netd" >"$T/mn2"
cut -d' ' -f1 "$T/move-plain" >"$T/mp1"
cut -d' ' -f2 "$T/move-plain" >"$T/mp2"
read -r med lo hi n < <(stats "$T/mn2")
read -r pmed plo phi _ < <(stats "$T/mp2")
read -r gmed _ _ _ < <(stats "$T/mn1")
read -r gpmed _ _ _ < <(stats "$T/mp1")
met=$(awk -v v="$med" 'BEGIN { print (v < 5e5) ? "yes" : "NO" }')
row "$FIG_MOVE, from the guest back on the other host (vm start returned; the port up) to the first reply (p50 of $n; netd $(ms "$lo")-$(ms "$hi"), plain $(ms "$plo")-$(ms "$phi"); the longest gap, netd's with vm destroy and vm start: netd $(ms "$gmed"), plain $(ms "$gpmed"))" \
	"$(ms "$med")" "plain move $(ms "$pmed")" "$(ratio "$pmed" "$med")" "< 0.5 s" "$met"
