#!/usr/bin/env bash
# The rtnetlink backend's cache of links (bridge/link-nl.c): after every one of many link changes,
# by netd's own backend or by someone else (ip, sysfs), a dump of links served from the cache
# equals a fresh dump of the kernel's, field by field (link-cache-check). The changes: bridges
# and veth pairs created and deleted, renamed, made ports and released, up and down, MTU, MAC,
# alias and bridge attributes by netlink and by sysfs, veth peers moved to another namespace and
# back, macvlans and a VXLAN going with their lower link, bursts of links and an overrun of the
# notification socket (the cache is dumped again then).
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
