#!/usr/bin/env bash
# Guests on netd's dual-stack networks, through netd (issue 14): the kernel's SLAAC on a nat network
# (an address from the prefix, the default route via the bridge's link-local address from the RA),
# on an isolated one (the address, the prefix on-link, no default route), and dhclient -6 on a
# dhcpv6 network (a reservation by MAC and an address from --dhcp6-range, both in 'network leases'
# with their DUID and IAID); over IPv6, the nat guest reaches an upstream namespace as the host's
# address (NAT66 of a ULA prefix), a guest of a routed global prefix as itself, a guest pings its
# gateway, and DNS answers AAAA of a DHCPv6 guest's name on the gateway's IPv6 address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ipv6-lib.sh"
need dnsmasq dhclient jq python3

# Upstream: up0 (2001:db8:50::2) to a namespace (2001:db8:50::1) that answers TCP 7000 with the
# peer's address, and routes the routed network's prefix back through the host.
need socat
upstream6
ip -n "$UP" -6 route add 2001:db8:170::/64 via 2001:db8:50::2
ip netns exec "$UP" socat -U -T 2 TCP6-LISTEN:7000,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' &
BG_PIDS+=($!)

start_netd
ctl network create dual --mode nat --subnet 10.160.0.0/24 --subnet6 fd00:160::/64 >/dev/null || fail "create dual"
ctl network create iso --mode isolated --subnet 10.161.0.0/24 --subnet6 fd00:161::/64 >/dev/null ||
	fail "create iso"
ctl network create dh --mode nat --subnet 10.162.0.0/24 --subnet6 fd00:162::/64 --ipv6-mode dhcpv6 \
	--dhcp6-range fd00:162::100-fd00:162::1ff --host 52:54:00:66:00:12,fd00:162::50,gtwo >/dev/null ||
	fail "create dh"
ctl network create rt --mode routed --subnet 10.163.0.0/24 --subnet6 2001:db8:170::/64 >/dev/null || fail "create rt"

guest6 s1 52:54:00:66:01:01 nd-dual
a=$(wait_addr6 s1 ^fd00:160:)
for _ in $(seq 50); do [ -n "$(default6 s1)" ] && break; sleep 0.1; done
case "$(default6 s1)" in fe80::*) ;; *) fail "dual: default route via '$(default6 s1)', not the bridge's link-local" ;; esac
ok "nat, slaac: the guest has $a and a default route via $(default6 s1)"

# peer6 NAME: the address upstream sees when the guest connects to it over IPv6.
peer6() {
	gx "$1" socat -T 3 - TCP6:[2001:db8:50::1]:7000 </dev/null 2>/dev/null | tr -d '[]' |
		python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.stdin.read().strip()))'
}
assert_eq "$(peer6 s1)" 2001:db8:50::2 "the address upstream sees of the nat guest (NAT66)"
gx s1 ping -6 -c1 -W2 fd00:160::1 >/dev/null || fail "the nat guest cannot ping its gateway fd00:160::1"
ok "nat: upstream sees the host's 2001:db8:50::2 (NAT66 of the ULA prefix); the gateway answers ping"

guest6 r1 52:54:00:66:01:03 nd-rt
a=$(wait_addr6 r1 ^2001:db8:170:)
for _ in $(seq 50); do [ -n "$(default6 r1)" ] && break; sleep 0.1; done
assert_eq "$(peer6 r1)" "$a" "the address upstream sees of the routed guest"
ok "routed: upstream sees the guest's own $a"

guest6 i1 52:54:00:66:01:02 nd-iso
a=$(wait_addr6 i1 ^fd00:161:)
sleep 1 # the RA that gave the address would have given a route at once
[ -z "$(default6 i1)" ] || fail "isolated: a default route via $(default6 i1)"
gx i1 ip -6 route show fd00:161::/64 | has . || fail "isolated: the prefix is not on-link"
ok "isolated: the guest has $a, the prefix on-link, no default route"

guest6 g2 52:54:00:66:00:12 nd-dh
guest6 g4 52:54:00:66:00:14 nd-dh
dhclient6 g2
dhclient6 g4
for g in g2 g4; do
	for _ in $(seq 150); do grep -q '^bound ' "$T/$g.events" 2>/dev/null && break; sleep 0.1; done
	grep -q '^bound ' "$T/$g.events" 2>/dev/null || fail "$g: no DHCPv6 lease; dhclient: $(tail -n 20 "$T/$g.dhclient.log")"
done
assert_eq "$(sed -n 's/^bound ip=\([^ ]*\).*/\1/p' "$T/g2.events" | tail -n1)" fd00:162::50 "g2 (reserved by MAC)"
a4=$(sed -n 's/^bound ip=\([^ ]*\).*/\1/p' "$T/g4.events" | tail -n1)
[[ $a4 =~ ^fd00:162::1[0-9a-f][0-9a-f]$ ]] || fail "g4: $a4 is not from the range fd00:162::100-1ff"
ok "dhcpv6: reserved by MAC fd00:162::50, from the range $a4"

# Both leases in 'network leases', with the DUID dhclient made from the MAC (DUID-LL).
for _ in $(seq 50); do
	[ "$(ctl --json network leases dh | jq '[.[] | select(.ip | test(":"))] | length')" = 2 ] && break
	sleep 0.1
done
leases=$(ctl --json network leases dh)
assert_eq "$(jq -r '.[] | select(.ip == "fd00:162::50") | .duid' <<<"$leases")" 00:03:00:01:52:54:00:66:00:12 \
	"the DUID of g2's lease"
jq -e --arg a "$a4" '.[] | select(.ip == $a) | .iaid != null' <<<"$leases" >/dev/null ||
	fail "g4's lease is not listed with its IAID: $leases"
ok "'network leases' lists both DHCPv6 leases with DUID and IAID"

# DNS over IPv6 on the gateway: AAAA of the reserved name, asked by the other guest.
for _ in $(seq 50); do [ -n "$(default6 g4)" ] && break; sleep 0.1; done
out=$(gx g4 busybox nslookup -type=AAAA gtwo fd00:162::1 2>&1 || true)
aaaa=$(awk '/^Address: / { a = $2 } END { print a }' <<<"$out")
assert_eq "$aaaa" fd00:162::50 "AAAA of gtwo from fd00:162::1 ($out)"
ok "DNS on the gateway's IPv6 address answers AAAA fd00:162::50 for gtwo"
