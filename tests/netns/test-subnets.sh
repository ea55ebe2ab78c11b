#!/usr/bin/env bash
# Several IPv4 subnets on one network (--subnet and --address GATEWAY/PREFIX), with real dnsmasq,
# nftables and two busybox udhcpc guests behind netd's TAPs (port security as netd runs it):
# - the bridge carries both gateways; A leases 10.96.0.50 from the first subnet's range (its
#   reservation, the range's one address), B an address of the second subnet's range (the first
#   has no free one), each with its own subnet's mask and gateway as router and DNS server;
# - each reaches its gateway and upstream, masqueraded to the host's uplink address; both subnets
#   are in masq_24; A reaches B unmasqueraded (traffic that stays on the bridge);
# - port security: A's datagram from an address of the second subnet (B's, or one nobody leased)
#   is dropped (the same from C, whose port is not filtered, goes through); guest filtering: B reaches only DHCP/DNS/ICMP on its gateway, not another port
#   there nor the host's uplink address; doctor names a missing second gateway;
# - bad --address values are refused, changing nothing; a reload with a third address puts it on
#   the bridge (a reservation there without a range is served), one without it takes it off; kill -9 and restart keep the bridge's addresses.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap-guest-lib.sh"
need nft socat dnsmasq busybox python3

MAC_A=52:54:00:96:00:0a MAC_B=52:54:00:96:00:0b
# upstream_sees GUEST: ask_upstream, a few times: on a loaded machine (load 10 on 2 cores) the
# first answers of the upstream's socat took over its 3 s now and then, pings passing meanwhile.
upstream_sees() {
	local got
	for _ in 1 2 3 4; do
		got=$(ask_upstream "$1")
		[ -n "$got" ] && break
	done
	echo "$got"
}
add_upstream
# up0's IPv6 link-local address (and its local route) out of DAD first: the bad cases compare the
# routes before and after, and its late arrival looked like a change.
for _ in $(seq 1 100); do
	ip -n "$NS" -6 addr show dev up0 scope link | has inet6 &&
		! ip -n "$NS" -6 addr show dev up0 tentative | has inet6 && break
	sleep 0.05
done
start_netd_tap_guests
ctl network create multi --mode nat --subnet 10.96.0.0/24 --address 10.97.0.1/24 \
	--dhcp-range 10.96.0.50-10.96.0.50 --dhcp-range 10.97.0.100-10.97.0.150 \
	--host "$MAC_A,10.96.0.50" >/dev/null || fail "network create"
br_addrs() { ip -n "$NS" -j addr show dev nd-multi | jq -r '[.[0].addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"] | sort | join(" ")'; }
assert_eq "$(br_addrs)" "10.96.0.1/24 10.97.0.1/24" "the bridge's IPv4 addresses"
assert_eq "$(ctl --json network show multi | jq -c .addresses)" '["10.97.0.1/24"]' "show's addresses"
ok "the bridge carries both gateways: $(br_addrs)"

# Bad values: a clear error each, nothing changed.
bad=(
	"1|address 10.98.0.0/24 is not a host address of 10.98.0.0/24|network create bad --mode nat --subnet 10.95.0.0/24 --address 10.98.0.0/24"
	"1|(subnet 10.95.0.0/16) overlaps its subnet 10.95.0.0/24|network create bad --mode nat --subnet 10.95.0.0/24 --address 10.95.1.1/16"
	"1|network 'bad' overlaps network 'multi' (10.97.0.0/24)|network create bad --mode nat --subnet 10.95.0.0/24 --address 10.97.0.129/25"
	"1|mode bridge takes no --address|network create bad --mode bridge --bridge up0 --address 10.98.0.1/24"
	"1|invalid address '10.98.0.1': expected GATEWAY/PREFIX|network create bad --mode nat --subnet 10.95.0.0/24 --address 10.98.0.1"
	"1|DHCP range 10.98.0.10-10.98.0.20 is not inside the hosts of any subnet of the network (10.95.0.0/24, 10.99.0.0/24)|network create bad --mode nat --subnet 10.95.0.0/24 --address 10.99.0.1/24 --dhcp-range 10.98.0.10-10.98.0.20"
)
bad_cli_cases bad

tap_guest A $MAC_A multi
tap_guest B $MAC_B multi
dhcp_client A multi
dhcp_client B multi
bound_a=$(wait_event A '^bound ')
bound_b=$(wait_event B '^bound ')
IP_A=$(sed 's/.* ip=\([^ ]*\).*/\1/' <<<"$bound_a")
IP_B=$(sed 's/.* ip=\([^ ]*\).*/\1/' <<<"$bound_b")
assert_eq "$IP_A" 10.96.0.50 "A's lease"
[[ $IP_B =~ ^10\.97\.0\.(1[0-4][0-9]|150)$ ]] || fail "B's lease $IP_B is not in 10.97.0.100-10.97.0.150"
grep -q " router=10.96.0.1 dns=10.96.0.1 " <<<"$bound_a" || fail "A's router/DNS: $bound_a"
grep -q " router=10.97.0.1 dns=10.97.0.1 " <<<"$bound_b" || fail "B's router/DNS: $bound_b"
gx B ip -j addr show dev eth0 | jq -e '.[0].addr_info[] | select(.local == "'"$IP_B"'" and .prefixlen == 24)' \
	>/dev/null || fail "B's address is not a /24: $(gx B ip addr show dev eth0)"
ok "A leased $IP_A (first subnet), B $IP_B (second subnet's range), each its own gateway as router and DNS"

# A's wire tA is no interface of the host: no ARP answer comes from it (only through A's TAP).
tA_mac=$(ip -n "$NS" -j link show tA | jq -r '.[0].address')
arp=$(gx A busybox arping -c 2 -w 2 -I eth0 192.168.50.2 2>&1 || true)
grep -qi "$tA_mac" <<<"$arp" && fail "the namespace answered A's ARP on its wire tA: $arp"
gx A ip route add default via 10.96.0.1
gx B ip route add default via 10.97.0.1
gx A ping -c1 -W1 10.96.0.1 >/dev/null || fail "A cannot reach its gateway"
gx B ping -c1 -W1 10.97.0.1 >/dev/null || fail "B cannot reach its gateway"
assert_eq "$(upstream_sees A)" 192.168.50.2 "source address upstream sees from A"
assert_eq "$(upstream_sees B)" 192.168.50.2 "source address upstream sees from B"
masq=$(nsx nft list set inet netd masq_24)
grep -q 10.96.0.0 <<<"$masq" && grep -q 10.97.0.0 <<<"$masq" || fail "masq_24: $masq"
ok "each reaches its gateway and upstream, masqueraded to 192.168.50.2 (both subnets in masq_24)"
# Between the two subnets of the network (out its own bridge and back): not masqueraded, B sees A.
gx B socat -U -T 2 TCP-LISTEN:7002,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' &
for _ in $(seq 1 50); do gx B ss -ltn | has ':7002 ' && break; sleep 0.05; done
got=$(gx A busybox timeout 3 busybox nc "$IP_B" 7002 </dev/null 2>/dev/null || true)
assert_eq "$got" "$IP_A" "the source B sees from A (the other subnet of the network)"
ok "A to B across the network's two subnets: B sees A's own address $IP_A (not masqueraded)"

# Port security: A may send only from its own lease, in whichever subnet. The spoofed address is
# added without a route of its own, so the ping's source is the only thing that changes.
gx A ip addr add 10.97.0.149/32 dev eth0
gx A ping -c1 -W1 -I 10.97.0.149 10.97.0.1 >/dev/null 2>&1 && fail "A's ping from 10.97.0.149 got through"
gx A ping -c1 -W1 -I "$IP_B" 10.97.0.1 >/dev/null 2>&1 && fail "A's ping from B's address got through"
gx A ping -c1 -W1 -I "$IP_A" 10.97.0.1 >/dev/null || fail "A's ping from its own address to B's gateway"
gx A ip addr del 10.97.0.149/32 dev eth0
# The same attack from a guest whose port is not filtered gets through: port security drops A's.
tap_guest C 52:54:00:96:00:0c multi --nic-security off
gx C ip addr add 10.97.0.148/32 dev eth0
gx C ip route add 10.97.0.0/24 dev eth0
gx C ping -c1 -W2 -I 10.97.0.148 10.97.0.1 >/dev/null || fail "C's ping from 10.97.0.148 (port security off)"
ok "port security: A's pings from 10.97.0.149 and from B's $IP_B are dropped, from its own go through (C's unfiltered one from 10.97.0.148 too)"

# Guest filtering on the second subnet's gateway: DHCP, DNS, ICMP only; no other host address.
nsx socat -U TCP-LISTEN:7001,fork,reuseaddr SYSTEM:'echo host' &
for _ in $(seq 1 50); do nsx ss -ltn | has ':7001 ' && break; sleep 0.05; done
got=$(gx B busybox timeout 2 busybox nc 10.97.0.1 7001 </dev/null 2>/dev/null || true)
[ -z "$got" ] || fail "B reached TCP 7001 on its gateway: $got"
got=$(gx B busybox timeout 2 busybox nc 192.168.50.2 7001 </dev/null 2>/dev/null || true)
[ -z "$got" ] || fail "B reached TCP 7001 on the host's uplink address: $got"
got=$(gx A busybox timeout 2 busybox nc 10.96.0.1 7001 </dev/null 2>/dev/null || true)
[ -z "$got" ] || fail "A reached TCP 7001 on its gateway: $got"
ok "guest filtering: TCP 7001 of the host is closed to both, on either gateway and the uplink address"

# doctor: every gateway on the bridge; one taken off by hand is named, with its fix.
bridge_step() { { ctl --json doctor multi 2>/dev/null || true; } | jq -c '.steps[] | select(.name == "bridge") | [.status, .detail, .fix]' | head -n1; }
step=$(bridge_step)
grep -q '"ok",.*and those of its other subnets' <<<"$step" || fail "doctor's bridge step: $step"
nsx ip addr del 10.97.0.1/24 dev nd-multi
step=$(bridge_step)
assert_eq "$step" '["fail","bridge nd-multi lacks its gateway address 10.97.0.1","ip addr add 10.97.0.1/24 dev nd-multi"]' "doctor's bridge step without 10.97.0.1"
nsx ip addr add 10.97.0.1/24 dev nd-multi
ok "doctor: the bridge step knows the second gateway (missing: named, with its fix)"

# A third subnet by hand and a reload: on the bridge; taken away again: off it.
conf="$T/etc/networks/multi.conf"
sed -i 's|^address = 10.97.0.1/24$|&\naddress = 10.98.0.1/25|' "$conf"
ctl reload >/dev/null || fail "reload with a third address"
assert_eq "$(br_addrs)" "10.96.0.1/24 10.97.0.1/24 10.98.0.1/25" "the bridge's addresses after the reload"
grep -q 10.98.0.0 <<<"$(nsx nft list set inet netd masq_25)" || fail "masq_25 lacks the third subnet"
# The third subnet has no range: D's reservation there is served all the same (a static range).
MAC_D=52:54:00:96:00:0d
ctl network host add multi "$MAC_D" 10.98.0.20 >/dev/null || fail "host add D in the third subnet"
tap_guest D $MAC_D multi
dhcp_client D multi
bound_d=$(wait_event D '^bound ')
grep -q " ip=10.98.0.20 .*router=10.98.0.1 dns=10.98.0.1 " <<<"$bound_d" || fail "D's lease: $bound_d"
kill "$CLIENT_D" 2>/dev/null || true
ctl vm destroy D >/dev/null || fail "vm destroy D"
ctl network host remove multi "$MAC_D" >/dev/null || fail "host remove D"
ok "D's reservation 10.98.0.20 in the third subnet (no range there) leased, its gateway as router"
sed -i '/^address = 10.98.0.1\/25$/d' "$conf"
ctl reload >/dev/null || fail "reload without the third address"
assert_eq "$(br_addrs)" "10.96.0.1/24 10.97.0.1/24" "the bridge's addresses after the second reload"
ok "a reload adds the third subnet's gateway (and its rules), the next takes it off"

# kill -9 and a restart: the bridge adopted with both addresses, the guests adopted (their QEMU,
# the stand-in, still runs) with their ports' allowed addresses, B still reaches upstream.
ifindex=$(ip -n "$NS" -j link show nd-multi | jq '.[0].ifindex')
ips_before=$(port_set_json port_ip4 | jq -c sort)
kill9_netd
start_netd_tap_guests
for g in A B C; do
	assert_eq "$(ctl --json vm show $g | jq -r .state)" running "state of guest $g after a restart"
done
assert_eq "$(port_set_json port_ip4 | jq -c sort)" "$ips_before" "set port_ip4 after a restart"
in_port4() { port_set_json port_ip4 | jq -e --arg p "$1" --arg a "$2" 'index([[$p, $a]]) != null' >/dev/null; }
in_port4 vm-A-0 "$IP_A" && in_port4 vm-B-0 "$IP_B" || fail "port_ip4 after a restart: $(port_set_json port_ip4)"
ok "kill -9 and restart: guests A, B, C adopted (running), their ports' addresses kept"
assert_eq "$(ip -n "$NS" -j link show nd-multi | jq '.[0].ifindex')" "$ifindex" "the bridge's ifindex after a restart"
assert_eq "$(br_addrs)" "10.96.0.1/24 10.97.0.1/24" "the bridge's addresses after a restart"
assert_eq "$(upstream_sees B)" 192.168.50.2 "source address upstream sees from B after a restart"
ok "kill -9 and restart: the bridge adopted with both gateways, B still masqueraded upstream"
