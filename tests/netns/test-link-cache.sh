#!/usr/bin/env bash
# The rtnetlink backend's cache of links (bridge/link-nl.c): after every one of many link changes,
# by netd's own backend or by someone else (ip, sysfs), a dump of links served from the cache
# equals a fresh dump of the kernel's, field by field (link-cache-check). The changes: bridges
# and veth pairs created and deleted, renamed, made ports and released, up and down, MTU, MAC,
# alias and bridge attributes by netlink and by sysfs, veth peers moved to another namespace and
# back, macvlans and a VXLAN going with their lower link, bursts of links and an overrun of the
# notification socket (the cache is dumped again then). The addresses and routes of each dump
# too: IPv4 and IPv6, lifetimes counting down, routes replaced and appended, links set down
# (the kernel flushes their IPv4 routes without a word) and deleted, addresses deleted under
# routes that use them as preferred source, a multipath route (not cached: routes are dumped
# while one exists).
. "$(dirname "$0")/lib.sh"
: "${LINK_CACHE_CHECK:?LINK_CACHE_CHECK must point to link-cache-check}"
G="$NS-g"
EXTRA_NS+=("$G")
ip netns add "$G"

check() { # NAME: feed stdin to link-cache-check in $NS
	local out
	if ! out=$(nsx "$LINK_CACHE_CHECK" --debug 2>"$T/check.log"); then
		echo "$out" >&2
		fail "$1: the link cache differs from the kernel"
	fi
	ok "$1: $(echo "$out" | tail -1)"
}

check "netd's own changes and others'" <<CMDS
@bridge cb0
@bridge cb1 1400
@up cb0
@mtu cb0 1300
@alias cb1 netd:renamed
@down cb0
@up cb0
ip link add va0 type veth peer name va1
ip link set va0 up
ip link set va1 up
@plug va0 cb0
ip link set va1 master cb1
ip link set va1 nomaster
@release va0
ip link set va0 master cb0
ip link set va0 mtu 1200
ip link set cb0 address 02:00:00:00:00:01
ip link set cb0 name cb0x
ip link set cb0x alias hello
ip link set dev cb0x type bridge stp_state 1
ip link set dev cb0x type bridge forward_delay 500
echo 0 >/sys/class/net/cb0x/bridge/stp_state
echo 300 >/sys/class/net/cb0x/bridge/forward_delay
echo sysfs-alias >/sys/class/net/cb0x/ifalias
ip link add br2 type bridge
ip link set va1 master br2
ip link set br2 up
ip link set va1 mtu 1450
ip link del va1
ip tuntap add tp0 mode tap
ip link set tp0 master br2
ip link set tp0 up
ip link set tp0 nomaster
ip link add vb0 type veth peer name vb1
ip link set vb1 netns $G
ip -n $G link set vb1 netns $NS
ip link set vb1 netns $G
ip link set vb0 up
ip -n $G link del vb1
ip link add vc0 type veth peer name vc1 netns $G
ip -n $G link set vc1 netns $NS
ip link set vc1 name vc1x
ip link set vc0 up
ip link set vc1x up
ip link set vc1x netns $G
ip -n $G link set vc1x netns $NS
ip link set vc1x up
ip link set vc1x down
ip link set vc1x netns $G
ip link del vc0
@bridge cb2
@del cb0x cb1 cb2 br2
for i in \$(seq 1 50); do echo "link add cbm\$i type bridge"; done | ip -batch -
for i in \$(seq 1 50); do echo "link set cbm\$i up"; done | ip -batch -
for i in \$(seq 1 50); do echo "link del cbm\$i"; done | ip -batch -
CMDS
fills=$(grep -c 'link cache: filled' "$T/check.log" || true)
[ "$fills" = 1 ] || fail "the cache was filled $fills times, not once: $(grep 'link cache' "$T/check.log")"
ok "the cache was filled once and kept from notifications"

# Addresses and routes: each rule by which the cache follows what the kernel does silently
# (a link set down, lifetimes and expiries counting down, a route replaced, a link's last IPv4
# address deleted) fails this when taken out.
check "addresses and routes" <<CMDS
@bridge rn0
@up rn0
ip addr add 10.66.0.1/24 dev rn0
ip link add ra0 type bridge
ip link add ra1 type bridge
@up ra0
ip link set ra1 up
ip addr add 10.9.0.1/24 dev ra0
ip addr add 10.9.0.2/24 dev ra0
ip addr add 10.9.1.1/24 dev ra0 valid_lft 100 preferred_lft 50
ip addr add 10.9.2.1 peer 10.9.2.2 dev ra1 label ra1:p
ip route add 10.8.0.0/24 dev ra0 src 10.9.0.1
ip route add 10.6.0.0/24 dev ra0 table 100
ip route add 10.7.0.0/24 dev ra1 src 10.9.0.1
ip route add 10.5.0.0/24 dev ra1 src 10.9.0.1 table 100
ip route add blackhole 10.4.0.0/24
ip route add unreachable 10.4.1.0/24 table 100
ip route add 10.3.0.0/24 via 10.9.0.254 metric 5
ip route replace 10.3.0.0/24 via 10.9.0.253 metric 5
ip route append 10.3.0.0/24 dev ra1 metric 5
ip route del 10.3.0.0/24 dev ra1 metric 5
ip route replace 10.3.0.0/24 dev ra1 metric 5
ip route add 10.2.0.0/24 via 10.9.0.254 mtu 1300 advmss 1200 proto static
sleep 4
ip link set ra0 down
ip link set ra0 up
ip route add 10.8.0.0/24 dev ra0 src 10.9.0.1
ip route add 10.8.1.0/24 dev ra0 src 10.9.1.1
ip addr del 10.9.1.1/24 dev ra0
ip addr del 10.9.0.1/24 dev ra0
ip addr add 10.9.0.1/24 dev ra0
ip addr add fd00::1/64 dev ra0 nodad
ip addr add fd00::2/64 dev ra0 valid_lft 100 preferred_lft 50
ip -6 route add fd01::/64 dev ra0
ip -6 route add fd02::/64 via fd00::99 dev ra0 expires 100
ip -6 route add fd03::/64 via fd00::99 dev ra0 table 100 metric 7
ip -6 route replace fd03::/64 via fd00::98 dev ra0 table 100 metric 7
ip -6 route add blackhole fd04::/64
sleep 4
ip link set ra0 down
ip link set ra0 up
ip addr add fd00::1/64 dev ra0 nodad
ip -6 addr del fd00::1/64 dev ra0
ip route add 10.1.0.0/24 nexthop dev ra0 nexthop dev ra1
ip route add 10.0.0.0/24 dev ra1
ip route del 10.1.0.0/24
ip route add 10.0.1.0/24 dev ra1
ip link del ra1
ip link add ra2 type bridge
ip link set ra2 up
ip addr add 10.11.0.1/24 dev ra2
ip route add 10.12.0.0/24 dev ra2
ip route add 10.13.0.0/24 via 10.11.0.254 table 100
ip addr del 10.11.0.1/24 dev ra2
ip link del ra2
@del ra0 rn0
CMDS
grep -q 'routes.*not kept: a multipath' "$T/check.log" ||
	fail "the cache kept routes while a multipath route existed: $(grep 'link cache' "$T/check.log")"
ok "routes are dumped while a multipath route exists, kept again after"

# Links stacked on one moved to another namespace and back: the kernel notifies the lower link
# only, and the stacked ones read it as elsewhere, then as here again (the cache dumps again).
check "macvlans and a VXLAN on a link that moves" <<CMDS
ip link add d0 type veth peer name d0p
ip link add link d0 name mv0 type macvlan
ip link add vx0 type vxlan id 5 dstport 4789 dev d0
ip link set d0 up
ip link set mv0 up
ip link set d0 down
ip link set d0 netns $G
ip -n $G link set d0 netns $NS
ip link del d0
ip link add d1 type veth peer name d1p
ip link add link d1 name mv1 type macvlan
ip link set mv1 netns $G
ip -n $G link set mv1 netns $NS
ip link del d1
CMDS

# An overrun of the notification socket: thousands of links between two dumps.
check "an overrun" <<CMDS
ip link add x0 type bridge
for i in \$(seq 1 2000); do echo "link add dm\$i group 7 type veth peer name dp\$i group 7"; done | ip -batch -
ip link set dm7 up
ip link del group 7
CMDS
fills=$(grep -c 'link cache: filled' "$T/check.log" || true)
[ "$fills" -ge 2 ] || fail "the overrun did not fill the cache again ($fills fills)"
ok "an overrun of the notification socket fills the cache again"
