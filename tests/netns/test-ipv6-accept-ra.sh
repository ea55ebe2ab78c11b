#!/usr/bin/env bash
# A host whose IPv6 default route comes from its LAN router's advertisements (accept_ra=1) keeps it
# after a NAT network with an IPv6 prefix turns IPv6 forwarding on (netd/network/forward6.c): netd
# sets accept_ra=2 on that interface first, logs it and shows it. The router's advertisements say
# the route lives 12 s and come every 3 s; 22 s after the network started the route is still
# there, its lifetime refreshed. A control interface with accept_ra=1 that netd did not see (its
# route comes after the start) loses its route once forwarding is on, as it would on any host.
. "$(dirname "$0")/lib.sh"
need python3 jq
LIFE=12

# The router: namespace $R with r0, the host's eth0 its peer; rc0 and the host's ctl0 likewise.
R="${NS}-r"
EXTRA_NS+=("$R")
ip netns add "$R"
ip -n "$R" link set lo up
ip link add eth0 netns "$NS" type veth peer name r0 netns "$R"
ip link add ctl0 netns "$NS" type veth peer name rc0 netns "$R"
for l in eth0 ctl0; do
	nsx sysctl -qw "net.ipv6.conf.$l.accept_ra=1" "net.ipv6.conf.$l.disable_ipv6=0"
	ip -n "$NS" link set "$l" up
done
ip -n "$R" link set r0 up
ip -n "$R" link set rc0 up
# The router's link-local addresses past DAD: RAs go out from them.
for _ in $(seq 1 100); do
	[ "$(ip -n "$R" -6 -j addr show scope link -tentative | jq '[.[].addr_info[]] | length')" = 2 ] && break
	sleep 0.1
done

# ra_route LINK: the lifetime left of the RA default route through LINK ("" when there is none).
ra_route() {
	ip -n "$NS" -6 -j route show default dev "$1" |
		jq -r '[.[] | select(.protocol == "ra") | .expires // "forever"] | first // ""'
}

ip netns exec "$R" python3 "$TESTS_DIR/netns/send-ra.py" r0 2001:db8:1:: --router-lifetime $LIFE --every 3 &
BG_PIDS+=($!)
for _ in $(seq 1 50); do [ -n "$(ra_route eth0)" ] && break; sleep 0.2; done
[ -n "$(ra_route eth0)" ] || fail "eth0 learnt no default route from the router: $(ip -n "$NS" -6 route)"
ok "eth0 has an RA default route ($(ra_route eth0) s left), accept_ra=1"

start_netd
ctl network create v6 --mode nat --subnet 10.150.0.0/24 --subnet6 fd00:150::/64 >/dev/null ||
	fail "create v6"
assert_eq "$(nsx sysctl -n net.ipv6.conf.all.forwarding)" 1 "IPv6 forwarding"
assert_eq "$(nsx sysctl -n net.ipv6.conf.eth0.accept_ra)" 2 "accept_ra on eth0"
assert_eq "$(nsx sysctl -n net.ipv6.conf.ctl0.accept_ra)" 1 "accept_ra on ctl0 (no RA route at the start)"
grep -q "net.ipv6.conf.eth0.accept_ra=2" "$T/netd.log" || fail "the log does not say accept_ra=2 on eth0"
assert_eq "$(ctl --json network show v6 | jq -c .ipv6_forwarding)" '{"enabled":true,"accept_ra_2":["eth0"]}' \
	"show's ipv6_forwarding"
ok "the network turned IPv6 forwarding on after accept_ra=2 on eth0, logged and shown"

# Now the control's router speaks: with forwarding on and accept_ra=1, ctl0 takes nothing.
ip netns exec "$R" python3 "$TESTS_DIR/netns/send-ra.py" rc0 2001:db8:2:: --router-lifetime $LIFE --every 3 &
BG_PIDS+=($!)
sleep $((LIFE + 10))
left=$(ra_route eth0)
[ -n "$left" ] || fail "eth0 lost its RA default route $((LIFE + 10)) s after the start: $(ip -n "$NS" -6 route)"
[ "$left" -ge $((LIFE - 6)) ] || fail "eth0's RA default route is not refreshed: $left s left"
ok "$((LIFE + 10)) s later eth0 still has its RA default route ($left s left of $LIFE)"
assert_eq "$(ra_route ctl0)" "" "the control's RA default route (accept_ra=1 with forwarding on)"
ok "the control interface, accept_ra=1, learnt no route: the case netd avoids"
