#!/bin/bash
# netd's table for IPv6 with real packets (nat/render.c applied by tests/netns/fw-apply.c, without
# netd): in $NS (the host) a NAT66 network (ULA, nd-a), a routed one (global prefix, nd-b) and an
# upstream namespace on up0. Guests ga and gb are namespaces on the bridges. Each attack is shown to
# work without the table first, then to fail with it:
# - NAT66: upstream sees the host's address; routed: the guest's own, and upstream reaches it;
# - the networks are isolated from each other, and upstream does not reach into the nat one;
# - a guest reaches the gateway (ping, DNS port) but not the host's other addresses;
# - a guest's router advertisement configures nothing on the host (accept_ra=2 on the bridge here,
#   so that the kernel would take it);
# - a guest's DHCPv6 answer (udp source port 547) is not forwarded;
# - IPv6-only networks, and --uplink.
source "$(dirname "$0")/lib.sh"
need socat python3
: "${FW_APPLY:?FW_APPLY must point to tests/fw-apply}"

GW_A=fd00:a::1 GA=fd00:a::10 GW_B=2001:db8:2::1 GB=2001:db8:2::10 HOST_UP=2001:db8:ff::2 UPA=2001:db8:ff::1

# No DAD delay anywhere: addresses are usable at once (sysctls of the test's namespaces only).
nsx sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
nsx sysctl -qw net.ipv6.conf.all.forwarding=1
for br in nd-a nd-b; do
	ip -n "$NS" link add "$br" type bridge
	ip -n "$NS" link set "$br" up
done
# After forwarding=1: accept_ra=2 on nd-a, so that only the table stands between a guest's RA and
# the host's routes.
nsx sysctl -qw net.ipv6.conf.nd-a.accept_ra=2 net.ipv6.conf.nd-a.accept_ra_rt_info_max_plen=64
ip -n "$NS" addr add "$GW_A/64" dev nd-a nodad
ip -n "$NS" addr add "$GW_B/64" dev nd-b nodad

guest() { # guest NAME MAC BRIDGE ADDR GATEWAY
	add_guest "$1" "$2" "$3"
	gx "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.eth0.accept_dad=0
	gx "$1" sysctl -qw net.ipv6.conf.eth0.accept_ra=0
	gx "$1" ip addr add "$4/64" dev eth0 nodad
	gx "$1" ip -6 route add default via "$5"
}
guest ga 52:54:00:00:0a:10 nd-a "$GA" "$GW_A"
guest gb 52:54:00:00:0b:10 nd-b "$GB" "$GW_B"

UP="netdt-up-$$-${RANDOM}"
ip netns add "$UP"
EXTRA_NS+=("$UP")
ip -n "$UP" link set lo up
ip -n "$NS" link add up0 type veth peer name eth0 netns "$UP"
ip -n "$NS" addr add "$HOST_UP/64" dev up0 nodad
ip -n "$NS" link set up0 up
ip -n "$UP" addr add "$UPA/64" dev eth0 nodad
ip -n "$UP" link set eth0 up
# Upstream routes the global prefix to the host (routed), and, for the attack, the ULA one too.
ip -n "$UP" -6 route add 2001:db8:2::/64 via "$HOST_UP"
ip -n "$UP" -6 route add fd00:a::/64 via "$HOST_UP"
ip netns exec "$UP" socat -U -T 2 TCP6-LISTEN:7000,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' &
BG_PIDS+=($!)
# A listener in each guest (and on the host's up0 address), answering with the peer's address.
for g in ga gb; do
	gx "$g" socat -U -T 2 TCP6-LISTEN:7001,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' &
	BG_PIDS+=($!)
done
nsx socat -U -T 2 TCP6-LISTEN:7002,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' &
BG_PIDS+=($!)

# ask NS-COMMAND... ADDR PORT: the source address the listener saw, compressed ("" if none got
# through; socat writes it in full).
ask() {
	local port=${*: -1} addr=${*: -2:1} seen
	seen=$("${@:1:$#-2}" timeout 3 socat -T 2 - "TCP6:[$addr]:$port" </dev/null 2>/dev/null | tr -d '\r\n[]' || true)
	[ -z "$seen" ] || python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]))' "$seen"
}
pingx() { local a=${*: -1}; "${@:1:$#-1}" ping -6 -c1 -W1 -q "$a" >/dev/null 2>&1; }
upx() { ip netns exec "$UP" "$@"; }
wait_listening() {
	for _ in $(seq 1 100); do
		[ -n "$(ask upx "$GB" 7001)" ] && [ -n "$(ask gx ga "$GW_A" 7002)" ] && return 0
		sleep 0.05
	done
	fail "the listeners did not come up"
}
wait_listening

# Without netd's table: everything goes anywhere.
assert_eq "$(ask gx ga "$UPA" 7000)" "$GA" "without the table, upstream sees the nat guest's own address"
pingx gx ga "$GB" || fail "without the table, ga does not reach gb (the isolation check would prove nothing)"
pingx upx "$GA" || fail "without the table, upstream does not reach into the nat network"
[ -n "$(ask gx ga "$HOST_UP" 7002)" ] || fail "without the table, a guest does not reach the host's up0 address"
ok "without the table: no NAT66, ga reaches gb, upstream reaches ga, ga reaches the host's other addresses"

# A guest's router advertisement, without the table: the host takes a route from it. An RA comes
# from a link-local address: the guest's must be usable first.
for _ in $(seq 1 100); do
	gx ga ip -6 addr show dev eth0 scope link -tentative | has fe80 && break
	sleep 0.05
done
gx ga python3 "$TESTS_LIB_DIR/send-ra.py" eth0 fd00:bad::
for _ in $(seq 1 40); do
	nsx ip -6 route show default dev nd-a | has . && break
	sleep 0.05
done
nsx ip -6 route show default dev nd-a | has . || fail "without the table, the guest's RA gave the host no route: the test proves nothing"
nsx ip -6 route flush dev nd-a proto ra
nsx ip -6 addr flush dev nd-a scope global dynamic
ok "without the table, a guest's RA gives the host a default route through nd-a"

FW_APPLY_PRINT=1 nsx "$FW_APPLY" "nd-a,nat,10.1.0.0/24,fd00:a::/64,nat6" "nd-b,routed,none,2001:db8:2::/64" \
	>"$T/table.nft" || fail "fw-apply failed"
nsx nft list set inet netd masq6_64 | has 'fd00:a::' || fail "masq6_64 lacks the nat network: $(cat "$T/table.nft")"

assert_eq "$(ask gx ga "$UPA" 7000)" "$HOST_UP" "NAT66: upstream sees the host's address"
ok "NAT66: upstream sees $HOST_UP for ga"
assert_eq "$(ask gx gb "$UPA" 7000)" "$GB" "routed: upstream sees the guest's own address"
assert_eq "$(ask upx "$GB" 7001)" "$UPA" "routed: upstream reaches the guest"
ok "routed: upstream sees $GB and reaches it"

! pingx gx ga "$GB" || fail "ga reaches gb in another network"
! pingx gx gb "$GA" || fail "gb reaches ga in another network"
[ -z "$(ask gx gb "$GA" 7001)" ] || fail "gb connects to ga in another network"
[ -z "$(ask gx ga "$GB" 7001)" ] || fail "ga connects to gb in another network"
ok "the two networks are isolated from each other (ping and TCP, both ways)"
! pingx upx "$GA" || fail "upstream reaches into the nat network"
[ -z "$(ask upx "$GA" 7001)" ] || fail "upstream connects into the nat network"
ok "upstream does not reach into the nat network"

pingx gx ga "$GW_A" || fail "ga does not reach its gateway (echo, neighbour discovery)"
[ -z "$(ask gx ga "$HOST_UP" 7002)" ] || fail "a guest reaches a host service on the host's up0 address"
[ -z "$(ask gx ga "$GW_B" 7002)" ] || fail "a guest reaches another network's gateway"
[ -z "$(ask gx ga "$GW_A" 7002)" ] || fail "a guest reaches a port its network does not allow on its gateway"
ok "a guest pings its gateway; no other host service, no other network's gateway"

# The RA again, with the table: nothing.
gx ga python3 "$TESTS_LIB_DIR/send-ra.py" eth0 fd00:bad::
sleep 1
! nsx ip -6 route show default dev nd-a | has . || fail "a guest's RA gave the host a route: $(nsx ip -6 route show dev nd-a)"
! nsx ip -6 addr show dev nd-a | has 'fd00:bad' || fail "a guest's RA gave the host an address"
ok "a guest's router advertisement configures nothing on the host"

# A guest's DHCPv6 answer (source port 547) out of its network: dropped by the forward chain,
# whatever the network lets out (gb's routed network lets anything else out to upstream).
upx socat -u UDP6-RECV:546 "OPEN:$T/dhcp6.got,creat,append" &
BG_PIDS+=($!)
sleep 0.3
echo advertise | gx gb socat -u - "UDP6-SENDTO:[$UPA]:546,sourceport=547" || true
echo other-port | gx gb socat -u - "UDP6-SENDTO:[$UPA]:546,sourceport=5470" || true
sleep 0.5
grep -q advertise "$T/dhcp6.got" 2>/dev/null && fail "a guest's DHCPv6 answer left its network"
grep -q other-port "$T/dhcp6.got" 2>/dev/null || fail "gb's datagram from another port did not reach upstream (the check proves nothing)"
ok "a guest's DHCPv6 answer (udp source port 547) is not forwarded; from another port it is"

# An IPv6-only network with an uplink: the table takes it (family 0 subnet), and nd-b's traffic
# now leaves only through up0 (out_uplink6).
nsx "$FW_APPLY" "nd-a,nat,none,fd00:a::/64,nat6,uplink=up0" "nd-b,routed,none,2001:db8:2::/64,uplink=up0" ||
	fail "fw-apply of IPv6-only networks with uplinks failed"
assert_eq "$(ask gx ga "$UPA" 7000)" "$HOST_UP" "NAT66 through its uplink"
nsx nft list set inet netd masq_uplink6_64 | has '"up0"' || fail "masq_uplink6_64 lacks up0"
ok "IPv6-only networks with --uplink: NAT66 through up0"
nsx "$FW_APPLY" "nd-a,nat,none,fd00:a::/64,nat6,uplink=nowhere" || fail "fw-apply failed"
[ -z "$(ask gx ga "$UPA" 7000)" ] || fail "a network limited to another uplink reached upstream through up0"
ok "--uplink: a network limited to another uplink does not go out through up0"
