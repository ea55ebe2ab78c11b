#!/usr/bin/env bash
# Port security's rules against a hostile guest (issue 12, attack 4 and "Port security"): netd's
# own rendered table "bridge netd" (portsec-apply, the renderer netd runs) on a bridge whose ports
# are veth pairs to guest namespaces A, B (secured) and C (the observer, not secured). A attacks;
# each attack is first shown to work with A's port at level off, then to fail with it on:
# - another guest's IPv4 source (B's), an address it does not hold, another guest's MAC;
# - gratuitous ARP claiming B's address (C's neighbour entry for B must not move to A);
# - a DHCP server (busybox udhcpd) answering C's DHCP client, or answering from another port than
#   67; a DHCPv6 server port; a DHCPRELEASE of B's lease (B's MAC as chaddr) to dnsmasq, whole
#   and in two fragments (the chaddr in the second); an NS naming B's MAC in its option;
# - a router advertisement (C must get no route or address from it); a frame of another ethertype;
# - a neighbour advertisement claiming B's link-local address; a datagram from B's link-local one;
# - a datagram to the host in a frame to an IEEE link-local group (01:80:c2:00:00:0e, LLDP's): the
#   bridge hands those to the port's own stack, past every bridge hook; dropped at every level.
# What must still work: A's own traffic both ways, ARP, IPv6 link-local, DHCP discovery from
# 0.0.0.0 against a real dnsmasq. At level mac (a bridge-mode network) only the MAC is checked.
. "$(dirname "$0")/lib.sh"
: "${PORTSEC_APPLY:?PORTSEC_APPLY must point to the portsec-apply helper}"
command -v nft >/dev/null || skip "nft missing"
command -v python3 >/dev/null || skip "python3 missing (raw frames and RAs)"
command -v socat >/dev/null || skip "socat missing"
command -v busybox >/dev/null || skip "busybox missing"

MAC_A=52:54:00:aa:00:0a MAC_B=52:54:00:aa:00:0b MAC_C=52:54:00:aa:00:0c
nsx ip link add br-ps type bridge
nsx ip link set br-ps up
nsx ip addr add 10.80.0.1/24 dev br-ps
add_guest A $MAC_A br-ps
add_guest B $MAC_B br-ps
add_guest C $MAC_C br-ps
gx A ip addr add 10.80.0.10/24 dev eth0
gx B ip addr add 10.80.0.11/24 dev eth0
gx C ip addr add 10.80.0.12/24 dev eth0
# secure LEVEL_OF_A: A and B are guest ports; C is not.
secure() { nsx "$PORTSEC_APPLY" "vA,$MAC_A,$1,10.80.0.10/32" "vB,$MAC_B,on,10.80.0.11/32" || fail "portsec-apply"; }

# C records the source of every UDP datagram to port 9999.
gx C socat -u UDP-RECVFROM:9999,fork SYSTEM:"cat >/dev/null; echo \$SOCAT_PEERADDR >>$T/c.log" &
for _ in $(seq 1 50); do gx C ss -lun | has ':9999 ' && break; sleep 0.05; done
gx A ip neigh replace 10.80.0.12 lladdr $MAC_C dev eth0 nud permanent
gx A ip addr add 10.80.0.11/32 dev eth0 noprefixroute # B's address, for the spoof
gx A ip addr add 10.80.0.99/32 dev eth0 noprefixroute # an address nobody leased to A
# sent_from SRC: A sends a datagram to C from SRC; prints yes when C saw it.
sent_from() {
	: >"$T/c.log"
	echo x | gx A socat -u - "UDP:10.80.0.12:9999,bind=$1" 2>/dev/null || true
	sleep 0.3
	grep -qx "$1" "$T/c.log" && echo yes || echo no
}
for_level() {
	local level=$1 want=$2
	secure "$level"
	assert_eq "$(sent_from 10.80.0.10)" yes "A's own address at level $level"
	assert_eq "$(sent_from 10.80.0.11)" "$want" "A sending as B (10.80.0.11) at level $level"
	assert_eq "$(sent_from 10.80.0.99)" "$want" "A sending from 10.80.0.99 at level $level"
}
for_level off yes
for_level mac yes
for_level on no
ok "IPv4 spoofing (B's address, an unleased one): works at level off and mac, dropped at level on"

# Another guest's MAC with A's own address: dropped at levels mac and on.
spoof_mac() {
	gx A ip link set eth0 address "$1"
	r=$(sent_from 10.80.0.10)
	gx A ip link set eth0 address $MAC_A
	echo "$r"
}
secure off
assert_eq "$(spoof_mac $MAC_B)" yes "A with B's MAC at level off"
secure mac
assert_eq "$(spoof_mac $MAC_B)" no "A with B's MAC at level mac"
secure on
assert_eq "$(spoof_mac $MAC_B)" no "A with B's MAC at level on"
ok "MAC spoofing: works at level off, dropped at levels mac and on"

# Gratuitous ARP claiming B's address: C's entry for B must stay B's.
arp_claim() {
	secure "$1"
	gx C ip neigh flush dev eth0
	gx C ping -c1 -W1 10.80.0.11 >/dev/null || fail "C cannot reach B"
	sleep 1.2 # past the neighbour entry's locktime
	gx A busybox arping -U -c 2 -w 2 -I eth0 -s 10.80.0.11 10.80.0.11 >/dev/null 2>&1 || true
	grep -qi $MAC_A <<<"$(gx C ip neigh show 10.80.0.11)" && echo moved || echo kept
}
assert_eq "$(arp_claim off)" moved "C's neighbour entry for B after A's gratuitous ARP at level off"
assert_eq "$(arp_claim on)" kept "C's neighbour entry for B after A's gratuitous ARP at level on"
ok "ARP spoofing: C's entry for B moved to A at level off, stayed at level on"

# A DHCP server in A; C's client asks.
cat >"$T/udhcpd.conf" <<EOF
interface eth0
start 10.80.0.100
end 10.80.0.110
lease_file $T/udhcpd.leases
option router 10.80.0.10
EOF
: >"$T/udhcpd.leases"
gx A busybox udhcpd -f "$T/udhcpd.conf" >/dev/null 2>&1 &
ROGUE=$!
rogue_offer() {
	secure "$1"
	gx C busybox udhcpc -i eth0 -n -q -t 3 -T 1 -s /bin/true >/dev/null 2>&1 && echo leased || echo none
}
assert_eq "$(rogue_offer off)" leased "C's DHCP client against A's server at level off"
assert_eq "$(rogue_offer on)" none "C's DHCP client against A's server at level on"
kill "$ROGUE"
ok "a rogue DHCP server in A: C got its lease at level off, none at level on"

# The same DHCP from A as a client (from 0.0.0.0) against a real dnsmasq on the bridge: allowed.
nsx dnsmasq --keep-in-foreground --port=0 --interface=br-ps --bind-interfaces --except-interface=lo \
	--dhcp-range=10.80.0.50,10.80.0.60 --no-ping --dhcp-leasefile="$T/ps.leases" >/dev/null 2>&1 &
DNSMASQ=$!
sleep 0.3
gx A busybox udhcpc -i eth0 -n -q -t 5 -T 1 -s /bin/true >/dev/null 2>&1 || fail "A's DHCP client got no lease through its filter"
ok "A's DHCP discovery from 0.0.0.0 reaches dnsmasq and A gets its lease at level on"

# A releases B's lease: chaddr B, ciaddr B's leased address, from A's own address.
release_b() {
	secure "$1"
	gx B busybox udhcpc -i eth0 -n -q -t 5 -T 1 -s /bin/true >/dev/null 2>&1 || fail "B got no lease"
	leased=$(awk -v m=$MAC_B '$2 == m { print $3 }' "$T/ps.leases")
	[ -n "$leased" ] || fail "no lease of B in dnsmasq's file"
	gx A python3 "$TESTS_LIB_DIR/craft.py" dhcp-release eth0 $MAC_B "$leased" 10.80.0.1
	sleep 0.5
	grep -q " $MAC_B $leased " "$T/ps.leases" && echo kept || echo released
}
assert_eq "$(release_b off)" released "B's lease after A's DHCPRELEASE with B's MAC at level off"
assert_eq "$(release_b on)" kept "B's lease after A's DHCPRELEASE with B's MAC at level on"
ok "a DHCPRELEASE of B's lease sent by A: B lost its lease at level off; dnsmasq never saw it at level on"
# The same in two fragments from A's own address, the chaddr in the second: the rule that checks
# it cannot read it in the first, and the second has no UDP header at all.
release_b_frag() {
	secure "$1"
	gx B busybox udhcpc -i eth0 -n -q -t 5 -T 1 -s /bin/true >/dev/null 2>&1 || fail "B got no lease"
	leased=$(awk -v m=$MAC_B '$2 == m { print $3 }' "$T/ps.leases")
	gx A python3 "$TESTS_LIB_DIR/craft.py" dhcp-release-frag eth0 10.80.0.10 $MAC_B "$leased" 10.80.0.1
	sleep 0.5
	grep -q " $MAC_B $leased " "$T/ps.leases" && echo kept || echo released
}
assert_eq "$(release_b_frag off)" released "B's lease after A's fragmented DHCPRELEASE at level off"
assert_eq "$(release_b_frag on)" kept "B's lease after A's fragmented DHCPRELEASE at level on"
kill "$DNSMASQ"
ok "the same DHCPRELEASE in two fragments, B's MAC in the second: released at level off, dropped at level on"

# A router advertisement from A: C (a plain host, accept_ra 1) must learn nothing from it.
for g in A C; do
	for _ in $(seq 1 50); do
		gx $g ip -6 addr show dev eth0 scope link | grep -v tentative | has inet6 && break
		sleep 0.1
	done
done
ra() {
	secure "$1"
	gx C ip -6 addr flush dev eth0 scope global
	gx C ip -6 route flush proto ra 2>/dev/null || true
	gx A python3 "$TESTS_LIB_DIR/send-ra.py" eth0 fd00:bad:: || fail "A could not send its RA"
	sleep 0.5
	[ -n "$(gx C ip -6 route show default)" ] && echo learnt || echo nothing
}
assert_eq "$(ra off)" learnt "C after A's RA at level off"
assert_eq "$(ra on)" nothing "C after A's RA at level on"
ok "a rogue router advertisement: C took a default route at level off, nothing at level on"

# A DHCPv6 server's port, and a frame of another ethertype.
gx C socat -u UDP6-RECVFROM:546,fork SYSTEM:"cat >/dev/null; echo v6 >>$T/c6.log" &
sleep 0.2
dhcp6() {
	secure "$1"
	: >"$T/c6.log"
	echo x | gx A socat -u - "UDP6:[ff02::1%eth0]:546,sourceport=547" 2>/dev/null || true
	sleep 0.3
	[ -s "$T/c6.log" ] && echo yes || echo no
}
assert_eq "$(dhcp6 off)" yes "a DHCPv6 server's datagram from A at level off"
assert_eq "$(dhcp6 on)" no "a DHCPv6 server's datagram from A at level on"
frame() {
	secure "$1"
	gx C python3 "$TESTS_LIB_DIR/ether.py" recv eth0 88b5 1 >"$T/frames" &
	local rx=$!
	sleep 0.3
	gx A python3 "$TESTS_LIB_DIR/ether.py" send eth0 $MAC_C 88b5
	wait $rx
	cat "$T/frames"
}
assert_eq "$(frame off)" 1 "frames of ethertype 0x88b5 from A at level off"
assert_eq "$(frame on)" 0 "frames of ethertype 0x88b5 from A at level on"
ok "a DHCPv6 server's port and an unknown ethertype: through at level off, dropped at level on"

# A DHCP "server" answering from another port than 67, to C's client port.
gx C socat -u UDP-RECVFROM:68,fork SYSTEM:"cat >/dev/null; echo offer >>$T/c68.log" &
sleep 0.2
to_68() {
	secure "$1"
	: >"$T/c68.log"
	echo x | gx A socat -u - "UDP:10.80.0.12:68,sourceport=1067" 2>/dev/null || true
	sleep 0.3
	[ -s "$T/c68.log" ] && echo yes || echo no
}
assert_eq "$(to_68 off)" yes "a datagram from A's port 1067 to C's DHCP client port at level off"
assert_eq "$(to_68 on)" no "a datagram from A's port 1067 to C's DHCP client port at level on"
ok "a DHCP answer from another port than 67: through at level off, dropped at level on"

# IPv6 neighbours: A claims B's link-local address, then sends from it.
LL_B=fe80::5054:ff:feaa:b
nd_claim() {
	secure "$1"
	gx C ip -6 neigh flush dev eth0
	gx C ping -6 -c1 -W1 "$LL_B%eth0" >/dev/null || fail "C cannot reach B's link-local address"
	gx A python3 "$TESTS_LIB_DIR/craft.py" na eth0 $LL_B
	sleep 0.3
	grep -qi $MAC_A <<<"$(gx C ip -6 neigh show $LL_B dev eth0)" && echo moved || echo kept
}
assert_eq "$(nd_claim off)" moved "C's neighbour entry for B's link-local address after A's NA at level off"
assert_eq "$(nd_claim on)" kept "C's neighbour entry for B's link-local address after A's NA at level on"
gx A ip -6 addr add $LL_B/64 dev eth0 nodad
gx C socat -u UDP6-RECVFROM:9998,fork SYSTEM:"cat >/dev/null; echo \$SOCAT_PEERADDR >>$T/c9998.log" &
sleep 0.2
llc=$(gx C ip -6 -j addr show dev eth0 scope link | jq -r '.[0].addr_info[0].local')
from_ll_b() {
	secure "$1"
	: >"$T/c9998.log"
	echo x | gx A socat -u - "UDP6:[$llc%eth0]:9998,bind=[$LL_B%eth0]" 2>/dev/null || true
	sleep 0.3
	[ -s "$T/c9998.log" ] && echo yes || echo no
}
assert_eq "$(from_ll_b off)" yes "a datagram from B's link-local address sent by A at level off"
assert_eq "$(from_ll_b on)" no "a datagram from B's link-local address sent by A at level on"
gx A ip -6 addr del $LL_B/64 dev eth0

# A's own link-local address, with B's MAC in an NS's link-layer option: C's entry for A would send
# A's traffic to B (the host's: dnsmasq would take B's MAC for A's DHCPv6 requests).
LL_A=fe80::5054:ff:feaa:a
ns_lladdr() {
	secure "$1"
	gx C ip -6 neigh flush dev eth0
	gx C ping -6 -c1 -W1 "$LL_A%eth0" >/dev/null || fail "C cannot reach A's link-local address"
	gx A python3 "$TESTS_LIB_DIR/craft.py" ns-lladdr eth0 "$llc" $MAC_B
	sleep 0.3
	grep -qi $MAC_B <<<"$(gx C ip -6 neigh show $LL_A dev eth0)" && echo moved || echo kept
}
assert_eq "$(ns_lladdr off)" moved "C's neighbour entry for A after A's NS naming B's MAC at level off"
assert_eq "$(ns_lladdr on)" kept "C's neighbour entry for A after A's NS naming B's MAC at level on"
ok "an NS from A's own address with B's MAC in its link-layer option: C's entry moved at level off, kept at level on"

# A datagram from A's own link-local address in two fragments cut between two destination options
# headers: neither shows its protocol to the rules (the same would carry a DHCPv6 answer to 546).
gx C socat -u UDP6-RECVFROM:9997,fork SYSTEM:"cat >/dev/null; echo \$SOCAT_PEERADDR >>$T/c9997.log" &
sleep 0.2
frag_hidden() {
	secure "$1"
	: >"$T/c9997.log"
	gx A python3 "$TESTS_LIB_DIR/craft.py" frag6-udp eth0 $MAC_C $LL_A "$llc" 40000 9997
	sleep 0.3
	[ -s "$T/c9997.log" ] && echo yes || echo no
}
assert_eq "$(frag_hidden off)" yes "A's datagram in fragments that hide its protocol, at level off"
assert_eq "$(frag_hidden on)" no "A's datagram in fragments that hide its protocol, at level on"
ok "fragments cut inside their extension headers: through at level off, dropped at level on"

# ND is never fragmented, so a guest's ICMPv6 fragments are dropped (they could hide an NA's
# target): a ping larger than the MTU goes through at level off only; a smaller one at both.
big_ping() {
	secure "$1"
	gx A ping -6 -c1 -W1 -s "$2" "$llc%eth0" >/dev/null 2>&1 && echo yes || echo no
}
assert_eq "$(big_ping off 2000)" yes "A's fragmented ping to C at level off"
assert_eq "$(big_ping on 2000)" no "A's fragmented ping to C at level on"
assert_eq "$(big_ping on 1000)" yes "A's ping to C at level on"
ok "A's ICMPv6 fragments: through at level off, dropped at level on; unfragmented pings pass"
ok "IPv6: an NA claiming B's link-local address and a datagram from it: through at level off, dropped at level on"

# A datagram to the host inside a frame to 01:80:c2:00:00:0e: with no table the host takes it (on
# the veth port itself, past the bridge); any level of A's port drops it.
nsx socat -u UDP-RECVFROM:5353,fork SYSTEM:"cat >/dev/null; echo \$SOCAT_PEERADDR >>$T/host.log" &
sleep 0.2
to_group() {
	if [ "$1" = none ]; then nsx "$PORTSEC_APPLY"; else secure "$1"; fi
	: >"$T/host.log"
	gx A python3 "$TESTS_LIB_DIR/craft.py" udp-to-mac eth0 01:80:c2:00:00:0e 10.99.0.7 10.80.0.1 5353
	sleep 0.3
	[ -s "$T/host.log" ] && echo yes || echo no
}
assert_eq "$(to_group none)" yes "the host took a datagram in an LLDP-addressed frame with no filter"
for level in off mac on; do
	assert_eq "$(to_group $level)" no "the host took a datagram in an LLDP-addressed frame at level $level"
done
ok "a datagram to the host in a frame to 01:80:c2:00:00:0e: taken with no filter, dropped at every level"

# What a guest does every day still works at level on.
secure on
gx A ip addr del 10.80.0.11/32 dev eth0
gx A ip addr del 10.80.0.99/32 dev eth0
gx A ping -c1 -W1 10.80.0.11 >/dev/null || fail "A cannot ping B"
gx B ping -c1 -W1 10.80.0.10 >/dev/null || fail "B cannot ping A"
gx A ping -c1 -W1 10.80.0.1 >/dev/null || fail "A cannot ping the host"
nsx ping -c1 -W1 10.80.0.10 >/dev/null || fail "the host cannot ping A"
llc=$(gx C ip -6 -j addr show dev eth0 scope link | jq -r '.[0].addr_info[0].local')
gx A ping -6 -c1 -W2 "$llc%eth0" >/dev/null || fail "A cannot ping C's link-local address"
ok "at level on: A <-> B, A <-> host, IPv6 link-local A -> C"

nsx "$PORTSEC_APPLY" || fail "removing the table"
nsx nft list table bridge netd >/dev/null 2>&1 && fail "the table is still there with no port"
ok "no port: no table"
