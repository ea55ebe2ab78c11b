#!/usr/bin/env bash
# A guest that moves between hosts of a network of mode evpn (evpn-lib.sh: three hosts on an
# underlay, FRR in each, owned by a netd each: h1 the route reflector, h2 and h3 its peers). The
# moving guest m is netd's own (tap-guest-lib.sh's stand-in as QEMU: veth-qemu.py relays its TAP
# to veth tm, whose peer is eth0 of m's namespace): defined on h1 and h2 with the same MAC; a move
# is 'vm destroy' on one host, tm moved to the other host's namespace (m's namespace and its
# address stay, as a guest's memory does), 'vm start' there. g3 is a plain guest on h3.
# - network show lists the other hosts (VTEPs) that carry VNI 100; a network whose VNI no other
#   host carries is a problem once peers are configured;
# - on start: the static FDB entry of m's MAC on its TAP (master static) and one announce-self
#   (the stand-in's RARP, counted);
# - the move h1 -> h2 under a 100 Hz ping from g3: m answers again < 0.5 s after 'vm start'
#   returned on h2 (the issue's bound; the whole gap, destroy and start included, is printed);
# - ping-pong moves (h2 -> h1 -> h2): after each, EVPN's MAC tables agree on every host
#   (vtysh 'show evpn mac vni 100 json': local on m's host, remote at its VTEP elsewhere), and the
#   host m left has no entry of m's on a port;
# - doctor: span on h1 passes steps vxlan, bgp and evpn vni; lone on h2 fails evpn vni;
# - a fourth host joins (FRR and netd up, its session Established): its guest reaches m and g3
#   < 3 s after 'network create' there (the issue's bound).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn-lib.sh"
need python3 nft jq ping

[ -n "${QEMU_STANDIN:-}" ] || fail "QEMU_STANDIN not set (run through meson)"
install -o root -g root -m 0755 "$QEMU_STANDIN" "$T/qemu"
install -o root -g root -m 0644 "$TESTS_LIB_DIR/veth-qemu.py" "$T/veth-qemu.py"
head -c 4096 /dev/zero >"$T/vmlinuz"

MAC=52:54:00:77:00:99
IP=10.77.0.99
evpn_underlay 3
evpn_frr_start_all 3
frr_args() { echo "--vtep 192.0.2.$1 --frr-pathspace ${EVPN_HOST[$1]} --frr-conf /etc/frr/${EVPN_HOST[$1]}/frr.conf --qemu $T/qemu --qemu-user root"; }
# shellcheck disable=SC2046 # frr_args' words on purpose
evpn_netd_start 1 --evpn-reflector $(frr_args 1)
# shellcheck disable=SC2046
for i in 2 3; do evpn_netd_start "$i" --evpn-peers 192.0.2.1 $(frr_args "$i"); done

for i in 1 2 3; do
	# m's address reserved (port security lets a guest send from its reservation and leases)
	hctl "$i" network create span --mode evpn --vni 100 --subnet 10.77.0.0/24 --host "$MAC,$IP" >/dev/null
done
# VNI 101 on h2 alone: nobody else carries it.
hctl 2 network create lone --mode evpn --vni 101 --subnet 10.78.0.0/24 >/dev/null
evpn_guest 3 g3 nd-span 52:54:00:77:00:03 10.77.0.13/24 10.77.0.1

# network show: every other host's VTEP, once FRR has their type-3 routes (netd polls every 2 s).
vteps() { hctl "$1" --json network show span | jq -r '.vxlan.remote_vteps // [] | sort | join(",")'; }
for _ in $(seq 1 100); do
	[ "$(vteps 1)" = 192.0.2.2,192.0.2.3 ] && [ "$(vteps 2)" = 192.0.2.1,192.0.2.3 ] &&
		[ "$(vteps 3)" = 192.0.2.1,192.0.2.2 ] && break
	sleep 0.1
done
assert_eq "$(vteps 1) $(vteps 2) $(vteps 3)" \
	"192.0.2.2,192.0.2.3 192.0.2.1,192.0.2.3 192.0.2.1,192.0.2.2" "remote VTEPs of span on h1, h2, h3"
hctl 2 network show span | has -F "vteps:      192.0.2.1 192.0.2.3" ||
	has -F "vteps:      192.0.2.3 192.0.2.1" <<<"$(hctl 2 network show span)" ||
	fail "h2's network show has no line of the other VTEPs: $(hctl 2 network show span)"
assert_eq "$(hctl 2 --json network show lone | jq -r '[.state, .vxlan.remote_vteps[]?] | join(" ")')" "degraded" \
	"h2's network of VNI 101 (no other host)"
hctl 2 --json network show lone | jq -r .problem | has -F "VNI 101 is seen from no other host" ||
	fail "h2's lone: no problem of its VNI: $(hctl 2 --json network show lone)"
assert_eq "$(hctl 2 --json network show span | jq -r .state)" active "h2's span"
ok "network show: span's remote VTEPs on each host; VNI 101 on h2 alone is a problem (peers configured)"

# doctor: h1's span passes the EVPN steps; h2's lone fails step evpn vni.
poll 10 eval 'doctor_step 1 span bgp | has -xE "ok\|\|BGP sessions Established: (192\.0\.2\.2 192\.0\.2\.3|192\.0\.2\.3 192\.0\.2\.2)"' ||
	fail "h1's doctor, step bgp: $(doctor_step 1 span bgp)"
# (FRR's order of the VTEPs)
has -xE 'ok\|\|VNI 100 \(vx100\) is carried by this host and (192\.0\.2\.2 192\.0\.2\.3|192\.0\.2\.3 192\.0\.2\.2)' \
	<<<"$(doctor_step 1 span 'evpn vni')" || fail "h1's doctor, step evpn vni: $(doctor_step 1 span 'evpn vni')"
has -E '^ok\|\|VXLAN device vx100 ' <<<"$(doctor_step 1 span vxlan)" || fail "h1's doctor, step vxlan: $(doctor_step 1 span vxlan)"
# (FRR takes VNI 101 from the kernel, and netd asks it every 2 s: until then "FRR has no VNI 101")
poll 10 eval 'doctor_step 2 lone "evpn vni" | has -F "fail|create the same network (mode evpn, same VNI) on the other hosts; see step bgp|VNI 101 is seen from no other host"' ||
	fail "h2's doctor of lone, step evpn vni: $(doctor_step 2 lone 'evpn vni')"
ok "doctor: span on h1 passes steps vxlan, bgp and evpn vni; lone on h2 fails evpn vni (no other host carries VNI 101)"

# m's namespace, its wire tm on h1 (the stand-in relays m's TAP to it).
evpn_wire_guest m 1 "$MAC" "$IP/24" 10.77.0.1
for i in 1 2; do
	hctl "$i" vm create m --network span --mac "$MAC" --memory 64M --kernel "$T/vmlinuz" \
		--append veth=tm --accel tcg --no-autostart >/dev/null || fail "vm create m on h$i"
	assert_eq "$(hctl "$i" --json vm show m | jq -r .state)" stopped "m on h$i after vm create --no-autostart"
done

# vm_start I: m started on host I (T_STARTED: when 'vm start' returned); its state running; the
# static FDB entry and the announce.
vm_start() {
	local i=$1 tap fdb
	rm -f "$T/announced-tm"
	hctl "$i" vm start m >/dev/null || fail "vm start m on h$i"
	T_STARTED=$(date +%s.%N)
	assert_eq "$(hctl "$i" --json vm show m | jq -r .state)" running "m's state on h$i"
	tap=$(hx "$i" bridge -j link show | jq -r --arg m nd-span '.[] | select(.master == $m and (.ifname | startswith("vm-m"))) | .ifname')
	[ -n "$tap" ] || fail "h$i: no TAP of m on nd-span"
	fdb=$(hx "$i" bridge -j fdb show dev "$tap" | jq -c --arg mac "$MAC" '[.[] | select(.mac == $mac) | .state]')
	assert_eq "$fdb" '["static"]' "h$i: m's FDB entry on $tap"
	for _ in $(seq 1 50); do [ -s "$T/announced-tm" ] && break; sleep 0.02; done
	assert_eq "$(cat "$T/announced-tm" 2>/dev/null)" 1 "announce-self of m on h$i (the stand-in's count)"
}

# vm_move FROM TO: m destroyed on FROM, its wire moved, started on TO.
vm_move() {
	hctl "$1" vm destroy m >/dev/null || fail "vm destroy m on h$1"
	evpn_wire_move "$1" "$2"
	vm_start "$2"
}

# macs_agree AT: on every host EVPN has m's MAC at host AT (local there, remote at its VTEP
# elsewhere); polled up to 5 s.
mac_at() {
	evpn_vtysh "$1" -c 'show evpn mac vni 100 json' 2>/dev/null |
		jq -r --arg m "$MAC" '.macs[$m] // {} | [.type // "none", .remoteVtep // "-"] | join(" ")'
}
macs_agree() {
	local at=$1 i want ok_all
	for _ in $(seq 1 100); do
		ok_all=1
		for i in 1 2 3; do
			if [ "$i" = "$at" ]; then want="local -"; else want="remote 192.0.2.$at"; fi
			[ "$(mac_at "$i")" = "$want" ] || ok_all=
		done
		[ -n "$ok_all" ] && break
		sleep 0.05
	done
	for i in 1 2 3; do
		if [ "$i" = "$at" ]; then want="local -"; else want="remote 192.0.2.$at"; fi
		assert_eq "$(mac_at "$i")" "$want" "EVPN's entry of m's MAC on h$i (m on h$at)"
	done
	for i in 1 2; do
		[ "$i" = "$at" ] && continue
		! hx "$i" bridge fdb show br nd-span | grep -F "$MAC" | grep -v "dev vx100" | grep -q . ||
			fail "h$i still has m's MAC on a port: $(hx "$i" bridge fdb show br nd-span | grep -F "$MAC")"
	done
}

vm_start 1
for _ in $(seq 1 30); do gx g3 ping -c1 -W 0.3 "$IP" >/dev/null 2>&1 && break; sleep 0.1; done
gx g3 ping -c1 -W1 "$IP" >/dev/null ||
	fail "g3 cannot reach m on h1: $(hx 1 bridge fdb show br nd-span | grep -F "$MAC"); $(mac_at 1) / $(mac_at 3); $(hx 1 nft list table bridge netd | grep -F -e 10.77 | head -5)"
macs_agree 1
ok "m on h1: its static FDB entry on its TAP, announced once, EVPN has it at h1 everywhere, g3 reaches it"

# The move under a 100 Hz ping from g3 (iputils' -D: each reply with its time).
# (-w: ping ends by itself; $! is gx's subshell, which would not pass a signal on)
gx g3 ping -D -i 0.01 -W 1 -w 6 "$IP" >"$T/ping-move" 2>&1 &
PING=$!
sleep 0.5
hctl 1 vm destroy m >/dev/null || fail "vm destroy m on h1"
t_destroyed=$(date +%s.%N)
evpn_wire_move 1 2
vm_start 2
t_started=$T_STARTED
wait "$PING" || true
tail -1 "$T/ping-move" | has -F "min/avg/max" || fail "the ping's run ended early: $(tail -3 "$T/ping-move")"
# The first reply after t_started; the last before t_destroyed.
read -r back last <<<"$(sed -n 's/^\[\([0-9.]*\)\] .* bytes from.*/\1/p' "$T/ping-move" |
	awk -v s="$t_started" -v d="$t_destroyed" '$1 <= d { last = $1 } $1 > s && !back { back = $1 } END { print back, last }')"
[ -n "$back" ] || fail "g3 got no reply from m after it started on h2: $(tail -3 "$T/ping-move")"
after_ms=$(awk -v b="$back" -v s="$t_started" 'BEGIN { printf "%d", (b - s) * 1000 }')
gap_ms=$(awk -v b="$back" -v l="$last" 'BEGIN { printf "%d", (b - l) * 1000 }')
[ "$after_ms" -lt 500 ] || fail "m answered g3 only $after_ms ms after it started on h2 (bound 500 ms)"
macs_agree 2
ok "move h1 -> h2 under a 100 Hz ping from g3: m answered $after_ms ms after 'vm start' returned on h2 (gap $gap_ms ms with destroy and start); EVPN has it at h2 everywhere"

vm_move 2 1
macs_agree 1
gx g3 ping -c1 -W1 "$IP" >/dev/null || fail "g3 cannot reach m back on h1"
vm_move 1 2
macs_agree 2
gx g3 ping -c1 -W1 "$IP" >/dev/null || fail "g3 cannot reach m on h2 again"
ok "ping-pong h2 -> h1 -> h2: EVPN's MAC tables agree on all hosts after each move, no stale port entry"

# --- A fourth host joins: its guest reaches the others in < 3 s -------------------------------
# From 'network create' on h4 (its netd and FRR up, its session to the reflector Established)
# until its guest g4 has answers from m on h2 and g3 on h3.
evpn_host_add 4
evpn_frr_start 4
# shellcheck disable=SC2046
evpn_netd_start 4 --evpn-peers 192.0.2.1 $(frr_args 4)
wait_sessions 4 "192.0.2.1 Established"
t0=$(date +%s%N)
hctl 4 network create span --mode evpn --vni 100 --subnet 10.77.0.0/24 --host "$MAC,$IP" >/dev/null
evpn_guest 4 g4 nd-span 52:54:00:77:00:04 10.77.0.14/24 10.77.0.1
reached=
for _ in $(seq 1 200); do
	[ -z "${reached_m:-}" ] && gx g4 ping -c1 -W 0.1 "$IP" >/dev/null 2>&1 && reached_m=1
	[ -n "${reached_m:-}" ] && gx g4 ping -c1 -W 0.1 10.77.0.13 >/dev/null 2>&1 && { reached=$(date +%s%N); break; }
done
[ -n "$reached" ] || fail "g4 on h4 reaches no other guest: m $([ -n "${reached_m:-}" ] && echo yes || echo no); $(evpn_vtysh 4 -c 'show evpn vni 100' 2>&1 | tail -5)"
join_ms=$(((reached - t0) / 1000000))
[ "$join_ms" -lt 3000 ] || fail "g4 reached m and g3 only $join_ms ms after 'network create' on h4 (bound 3000 ms)"
ok "h4 joins: its guest g4 reaches m on h2 and g3 on h3 $join_ms ms after 'network create' there (bound 3 s)"

hctl 2 vm destroy m >/dev/null
for _ in $(seq 1 100); do
	[ "$(mac_at 1) $(mac_at 2) $(mac_at 3)" = "none - none - none -" ] && break
	sleep 0.05
done
assert_eq "$(mac_at 1) $(mac_at 2) $(mac_at 3)" "none - none - none -" "EVPN's entries of m after its destroy"
ok "m destroyed on h2: its MAC gone from EVPN on every host"
