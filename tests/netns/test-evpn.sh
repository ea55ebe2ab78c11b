#!/usr/bin/env bash
# Mode evpn across three hosts (evpn-lib.sh: namespaces on an underlay, FRR in each, a netd each
# with --vtep 192.0.2.I, which owns FRR's configuration): iBGP EVPN, h1 the route reflector
# (--evpn-reflector: bgp listen range + a peer-group), h2 and h3 its clients (--evpn-peers),
# advertise-all-vni (zebra finds vx100 in the kernel). The same 'network create span --mode evpn --vni 100' on each host, a guest on
# each host's bridge with a static address (10.77.0.1I), and an outside namespace behind every
# host (172.16.I.0/24 to host I, 203.0.113.1 on its loopback answering "who is asking"):
# - bad inputs first: no --vtep, VNI 0 and 16777216, --vni without mode evpn;
# - vx100 as netd made it (VXLAN id, local VTEP, port 4789, no learning, MTU 1550-50, a port of
#   the bridge with learning off and neigh_suppress on), the bridge's MAC the anycast one and its
#   MTU vx100's, on all three hosts; a VNI used twice is refused;
# - a full ping mesh between the guests; a DHCPDISCOVER from g2 gets one offer, h2's (table bridge
#   netd_vxlan keeps DHCP off vx100: three without it); each guest's gateway answers with its
#   host's underlay down (the anycast gateway is local);
# - NAT: the outside sees each guest coming from its own host's address; with --routed (a second
#   network, VNI 200, on h1) its own address;
# - kill -9 of h2's netd and a restart under a 100 Hz ping between guests: vx100 adopted (same
#   ifindex), no ping lost;
# - doctor's step vxlan on h3 (ok; the mtu step skipped): its underlay's MTU raised, then lowered,
#   warns, then fails, each fixed by the fix it names (netdctl reload: vx100 and the bridge take the
#   underlay's MTU less 50); an underlay too small for 1500-byte guests fails, naming the MTU;
#   vx100 down, then deleted: fails, and the reload it names repairs it;
# - network delete on h3 removes its vx100 and bridge only there; an underlay of MTU 1400 then
#   refuses the network there with nothing made.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn-lib.sh"
need socat busybox nft

ANYCAST=0a:4e:44:00:00:64
evpn_underlay 3

# The outside: 172.16.I.1 facing host I (172.16.I.2 there, the host's default route).
peer_ns OUT netdt-out
ip -n "$NS" link del up0 # peer_ns's own link into $NS: this outside has one per host instead
ip -n "$OUT" addr add 203.0.113.1/32 dev lo
for i in 1 2 3; do
	ip -n "$OUT" link add "h$i" type veth peer name up0 netns "${EVPN_HOST[$i]}"
	ip -n "$OUT" addr add "172.16.$i.1/24" dev "h$i"
	ip -n "$OUT" link set "h$i" up
	hx "$i" ip addr add "172.16.$i.2/24" dev up0
	hx "$i" ip link set up0 up
	hx "$i" ip route add default via "172.16.$i.1"
done
ip netns exec "$OUT" socat -U -T 2 TCP-LISTEN:7000,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' &

# FRR started empty in each host (side by side): each netd writes and applies its configuration
# (evpn_args: h1 the route reflector, h2 and h3 its clients).
evpn_frr_start_all 3

# refused: the command fails, says $2, and leaves the host's links and definitions as they were
refused() {
	local i=$1 want=$2 out before
	shift 2
	before=$(hx "$i" ip -br link show; ls "$T/h$i/etc/networks" 2>/dev/null || true)
	if out=$(hctl "$i" "$@" 2>&1); then fail "accepted on h$i: $*"; fi
	has -F -- "$want" <<<"$out" || fail "h$i: $*: expected '$want', got: $out"
	assert_eq "$(hx "$i" ip -br link show; ls "$T/h$i/etc/networks" 2>/dev/null || true)" "$before" \
		"h$i's links and definitions after the refused $*"
}

# Without --vtep first (h3's netd), then every netd with its VTEP.
evpn_netd_start 3
refused 3 "needs this host's VXLAN tunnel endpoint: start netd with --vtep ADDR" \
	network create span --mode evpn --vni 100 --subnet 10.77.0.0/24
evpn_netd_kill9 3
# shellcheck disable=SC2046 # evpn_args' words on purpose
for i in 1 2 3; do evpn_netd_start "$i" $(evpn_args "$i"); done
wait_sessions 1 $'192.0.2.2 Established\n192.0.2.3 Established'
# (and as h2's and h3's netd saw it last: a network is degraded while a session is not up)
for i in 2 3; do wait_sessions "$i" "192.0.2.1 Established"; done
refused 1 "VNI is out of range (1-16777215)" network create bad --mode evpn --vni 0 --subnet 10.78.0.0/24
refused 1 "VNI is out of range (1-16777215)" network create bad --mode evpn --vni 16777216 --subnet 10.78.0.0/24
refused 1 "--vni and --routed need mode evpn (mode nat)" network create bad --mode nat --vni 5 --subnet 10.78.0.0/24
refused 1 "mode evpn needs --vni N" network create bad --mode evpn --subnet 10.78.0.0/24
ok "refused: mode evpn without --vtep, VNI 0 and 16777216, --vni with mode nat, no --vni"

# g2's reservation on every host (the same definition everywhere): a host that sees its DISCOVER
# answers at once (no ping before the offer).
for i in 1 2 3; do
	hctl "$i" network create span --mode evpn --vni 100 --subnet 10.77.0.0/24 \
		--host 52:54:00:77:00:02,10.77.0.22 >/dev/null
done
for i in 1 2 3; do
	vx=$(hx "$i" ip -d -j link show vx100 | jq -c '.[0]')
	assert_eq "$(jq -r '.linkinfo.info_kind' <<<"$vx")" vxlan "h$i vx100's kind"
	assert_eq "$(jq -r '[.linkinfo.info_data | .id, .local, .port, .learning] | join(" ")' <<<"$vx")" \
		"100 192.0.2.$i 4789 false" "h$i vx100's id, local, port, learning"
	assert_eq "$(jq -r '.mtu' <<<"$vx")" 1500 "h$i vx100's MTU (underlay 1550 - 50)"
	assert_eq "$(jq -r '.master' <<<"$vx")" nd-span "h$i vx100's bridge"
	assert_eq "$(jq -r '[.linkinfo.info_slave_data | .learning, .neigh_suppress] | join(" ")' <<<"$vx")" \
		"false true" "h$i vx100's port flags learning, neigh_suppress"
	assert_eq "$(jq -r '.ifalias' <<<"$vx")" netd:span "h$i vx100's tag"
	br=$(hx "$i" ip -j link show nd-span | jq -c '.[0]')
	assert_eq "$(jq -r '.address' <<<"$br")" "$ANYCAST" "h$i bridge MAC (anycast)"
	assert_eq "$(jq -r '.mtu' <<<"$br")" 1500 "h$i bridge MTU"
	assert_eq "$(hctl "$i" --json network show span | jq -r '[.vxlan.device, .vni] | join(" ")')" \
		"vx100 100" "h$i network show"
done
# active once FRR's answer (netd asks every 2 s) has the other hosts' VTEPs for VNI 100
span_state() { hctl "$1" --json network show span | jq -r '"\(.state) \(.problem // "")"'; }
for i in 1 2 3; do
	poll 10 eval '[ "$(span_state '"$i"')" = "active " ]' || fail "h$i's span: $(span_state "$i")"
done
ok "vx100 on each host: VNI 100, local its VTEP, port 4789, nolearning, MTU 1500, a port of nd-span (learning off, neigh_suppress on); nd-span's MAC $ANYCAST, MTU 1500"
refused 1 "VNI 100 is already used by network 'span'" network create other --mode evpn --vni 100 --subnet 10.79.0.0/24
ok "a VNI used twice on a host is refused"

for i in 1 2 3; do evpn_guest "$i" "g$i" nd-span "52:54:00:77:00:0$i" "10.77.0.1$i/24" 10.77.0.1; done
# EVPN converges (sessions, type-2/3 routes): poll the farthest pair.
t0=$(date +%s%N)
for _ in $(seq 1 100); do
	gx g2 ping -c1 -W1 10.77.0.13 >/dev/null 2>&1 && break
	sleep 0.1
done
gx g2 ping -c1 -W1 10.77.0.13 >/dev/null 2>&1 ||
	fail "g2 cannot reach g3 after 10 s: $(evpn_vtysh 1 -c 'show bgp l2vpn evpn summary' 2>&1 | tail -8)"
for a in 1 2 3; do
	for b in 1 2 3; do
		[ "$a" = "$b" ] && continue
		gx "g$a" ping -c1 -W1 "10.77.0.1$b" >/dev/null || fail "g$a cannot reach g$b (10.77.0.1$b)"
	done
done
ok "full ping mesh between the guests on h1, h2, h3 ($(( ($(date +%s%N) - t0) / 1000000 )) ms until g2 reached g3)"

# DHCP stays on its host: table bridge netd_vxlan keeps it off vx100 both ways.
for i in 1 2 3; do
	hx "$i" nft list set bridge netd_vxlan ports | has -F '"vx100"' || fail "h$i: vx100 not in table bridge netd_vxlan"
done
offers=$(gx g2 python3 "$TESTS_DIR/netns/dhcp-offers.py" eth0 52:54:00:77:00:02 1.5)
assert_eq "$offers" 1 "DHCPOFFERs g2's DISCOVER got"
grep -q "DHCPOFFER(nd-span) 10.77.0.22 52:54:00:77:00:02" "$T/h2/netd.log" || fail "h2's dnsmasq did not offer"
for i in 1 3; do
	! grep -q "52:54:00:77:00:02" "$T/h$i/netd.log" || fail "h$i's dnsmasq saw g2's DISCOVER"
done
ok "a DISCOVER from g2 gets one offer, from h2's dnsmasq; h1's and h3's never see it"

for i in 1 2 3; do
	hx "$i" ip link set eth0 down
	gx "g$i" ping -c1 -W1 10.77.0.1 >/dev/null || fail "g$i's gateway does not answer with h$i's underlay down"
	gx "g$i" ip neigh show 10.77.0.1 | has -F "$ANYCAST" || fail "g$i's gateway is not at $ANYCAST"
	hx "$i" ip link set eth0 up
done
ok "each guest's gateway 10.77.0.1 answers from its own host (underlay down), at $ANYCAST"

for i in 1 2 3; do
	seen=$(gx "g$i" busybox timeout 3 busybox nc 203.0.113.1 7000 </dev/null 2>/dev/null | tr -d '\r\n' || true)
	assert_eq "$seen" "172.16.$i.2" "the source the outside sees from g$i"
done
ok "NAT: the outside sees each guest from its own host (172.16.1.2, 172.16.2.2, 172.16.3.2)"

# --routed: the outside sees the guest's own address (it routes the subnet back to h1).
hctl 1 network create rt --mode evpn --vni 200 --subnet 10.78.0.0/24 --routed >/dev/null
ip -n "$OUT" route add 10.78.0.0/24 via 172.16.1.2
evpn_guest 1 r1 nd-rt 52:54:00:78:00:01 10.78.0.11/24 10.78.0.1
seen=$(gx r1 busybox timeout 3 busybox nc 203.0.113.1 7000 </dev/null 2>/dev/null | tr -d '\r\n' || true)
assert_eq "$seen" 10.78.0.11 "the source the outside sees from a guest of a --routed network"
assert_eq "$(hctl 1 --json network show rt | jq -r '[.routed, .vxlan.device] | join(" ")')" "true vx200" \
	"h1's network show of the --routed network"
ok "--routed: the outside sees the guest's own address 10.78.0.11"

# The underlays came back: the mesh again before the kill.
for _ in $(seq 1 100); do
	gx g1 ping -c1 -W1 10.77.0.12 >/dev/null 2>&1 && gx g3 ping -c1 -W1 10.77.0.12 >/dev/null 2>&1 && break
	sleep 0.1
done
ifindex=$(hx 2 ip -j link show vx100 | jq -r '.[0].ifindex')
gx g1 ping -i 0.01 -c 200 -W 1 10.77.0.12 >"$T/ping-kill" 2>&1 &
PING=$!
sleep 0.3
evpn_netd_kill9 2
# shellcheck disable=SC2046
evpn_netd_start 2 $(evpn_args 2)
wait "$PING" || true
lost=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping-kill")
assert_eq "$lost" 200 "pings g1 -> g2 received of 200 across h2's netd kill -9 and restart"
assert_eq "$(hx 2 ip -j link show vx100 | jq -r '.[0].ifindex')" "$ifindex" "h2's vx100 ifindex after the restart"
assert_eq "$(hctl 2 --json network show span | jq -r .state)" active "h2's network after the restart"
[ "$(grep -c "vxlan add" "$T/h2/netd.log")" = 1 ] || fail "h2's restarted netd made vx100 again"
ok "kill -9 of h2's netd and a restart: vx100 adopted (ifindex $ifindex), 0 of 200 pings at 100 Hz lost"

# doctor: the VXLAN device against its underlay, on h3.
has -E '^ok\|\|VXLAN device vx100 \(VNI 100, local 192\.0\.2\.3, UDP 4789\) is up, a port of nd-span; MTU 1500: underlay eth0.s 1550 less 50$' \
	<<<"$(doctor_step 3 span vxlan)" || fail "h3's doctor, step vxlan: $(doctor_step 3 span vxlan)"
has -E '^skip\|' <<<"$(doctor_step 3 span mtu)" || fail "h3's doctor, step mtu: $(doctor_step 3 span mtu)"
# underlay_mtu MTU STATUS VX_MTU ALLOWED: h3's underlay set to MTU, doctor's step vxlan says
# STATUS (vx100's MTU VX_MTU, the underlay allows ALLOWED) with its fix, which then makes it fit.
underlay_mtu() {
	local step
	hx 3 ip link set eth0 mtu "$1"
	step=$(doctor_step 3 span vxlan)
	has -F "$2|netdctl reload|VXLAN device vx100 has MTU $3, the underlay allows $4" <<<"$step" ||
		fail "h3's doctor with an underlay of MTU $1: $step"
	hctl 3 reload >/dev/null
	assert_eq "$(hx 3 cat /sys/class/net/vx100/mtu) $(hx 3 cat /sys/class/net/nd-span/mtu)" "$4 $4" \
		"h3's vx100 and bridge MTU after the reload (underlay $1)"
	has -E "^ok\\|.*MTU $4: underlay eth0.s $1 less 50\$" <<<"$(doctor_step 3 span vxlan)" ||
		fail "h3's doctor after the reload: $(doctor_step 3 span vxlan)"
}
underlay_mtu 1600 warn 1500 1550
underlay_mtu 1550 fail 1550 1500
hx 3 ip link set eth0 mtu 1520
step=$(doctor_step 3 span vxlan)
has -F "fail|ip link set eth0 mtu 1550; netdctl reload|network 'span': the underlay eth0 (VTEP 192.0.2.3) has MTU 1520; VXLAN needs at least 1550" <<<"$step" ||
	fail "h3's doctor with an underlay of MTU 1520: $step"
hx 3 ip link set eth0 mtu 1550
# vx100 taken down, then deleted: doctor names it, and its fix (netdctl reload) makes it again
for break_it in "ip link set vx100 down" "ip link del vx100"; do
	# shellcheck disable=SC2086 # a command line, split on purpose
	hx 3 $break_it
	step=$(doctor_step 3 span vxlan)
	has -E '^fail\|netdctl reload .*\|VXLAN device vx100 (down|missing)$' <<<"$step" ||
		fail "h3's doctor after '$break_it': $step"
	hctl 3 reload >/dev/null
	has -E '^ok\|' <<<"$(doctor_step 3 span vxlan)" || fail "h3's doctor after the reload: $(doctor_step 3 span vxlan)"
done
ok "doctor, step vxlan: an underlay grown (warn) or shrunk (fail) since vx100 was made, fixed by its fix (netdctl reload); one too small for 1500-byte guests (fail, raise its MTU); vx100 down or deleted, repaired by netdctl reload"

hctl 3 network delete span >/dev/null
! hx 3 ip link show vx100 >/dev/null 2>&1 || fail "h3's vx100 is still there after the delete"
! hx 3 ip link show nd-span >/dev/null 2>&1 || fail "h3's nd-span is still there after the delete"
for i in 1 2; do
	hx "$i" ip link show vx100 >/dev/null 2>&1 || fail "h$i's vx100 went with h3's delete"
done
gx g1 ping -c1 -W1 10.77.0.12 >/dev/null || fail "g1 no longer reaches g2 after h3's delete"
ok "network delete on h3: its vx100 and nd-span gone, h1's and h2's kept (g1 still reaches g2)"

hx 3 ip link set eth0 mtu 1400
refused 3 "the underlay eth0 (VTEP 192.0.2.3) has MTU 1400; VXLAN needs at least 1550" \
	network create span --mode evpn --vni 100 --subnet 10.77.0.0/24
! hx 3 ip link show nd-span >/dev/null 2>&1 || fail "h3's refused create left nd-span"
ok "an underlay of MTU 1400: refused, nothing made"
