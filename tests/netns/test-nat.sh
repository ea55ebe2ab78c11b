#!/usr/bin/env bash
# NAT, routed and isolated networks with real nftables, dnsmasq and DHCP clients. The host
# namespace runs netd and has an uplink (up0, 192.168.50.2) to an upstream namespace
# (192.168.50.1) that answers "who is asking" on TCP port 7000. Each network has a guest.
# - nat: the guest's lease has the gateway as router; upstream sees the host's uplink address;
# - routed: upstream sees the guest's own address; isolated: the gateway, not upstream;
# - two nat networks' guests cannot reach each other (one a /16: the rules of both prefix lengths
#   at once); --uplink limits egress to that interface;
# - nft flush ruleset while a guest pings upstream: the table is back within a second; an
#   emptied set is refilled;
# - kill -9 of netd while a guest pings upstream at 100 Hz: no ping lost, the table adopted,
#   dnsmasq's pid and the leases unchanged.
# netd runs with --nft-table-flags none: its table is a plain one, which another process can flush
# (owned tables, which it cannot: test-fw-owner.sh).
. "$(dirname "$0")/lib.sh"
need nft socat dnsmasq busybox

add_upstream
ip -n "$UP" route add 10.63.0.0/24 via 192.168.50.2 # the routed network, as a real router would
# An interface that leads nowhere, for --uplink.
ip -n "$NS" link add dead0 type veth peer name dead1
ip -n "$NS" link set dead0 up
ip -n "$NS" addr add 192.168.60.2/24 dev dead0

start_netd --nft-table-flags none
ctl network create nat1 --mode nat --subnet 10.61.0.0/24 >/dev/null
ctl network create nat2 --mode nat --subnet 10.62.0.0/16 >/dev/null
ctl network create rt --mode routed --subnet 10.63.0.0/24 >/dev/null
ctl network create iso --mode isolated --subnet 10.64.0.0/24 >/dev/null
ctl network create deadend --mode nat --subnet 10.65.0.0/24 --uplink dead0 >/dev/null
grep -q "enabled IPv4 forwarding (net.ipv4.ip_forward=1) for network 'nat1'" "$T/netd.log" ||
	fail "forwarding not enabled/logged"
assert_eq "$(nsx sysctl -n net.ipv4.ip_forward)" 1 "ip_forward"
ok "nat/routed networks created; IPv4 forwarding enabled and logged"

i=1
for net in nat1 nat2 rt iso deadend; do
	add_guest "$net" "52:54:00:bb:00:0$i" "nd-$net"
	dhcp_client "$net" "$net"
	i=$((i + 1))
done
declare -A IP
for net in nat1 nat2 rt iso deadend; do
	bound=$(wait_event "$net" '^bound ')
	IP[$net]=$(sed 's/.* ip=\([^ ]*\).*/\1/' <<<"$bound")
	gw=$(ctl --json network show "$net" | jq -r .gateway)
	if [ "$net" = iso ]; then
		grep -q ' router= ' <<<"$bound" || fail "isolated guest got a router: $bound"
	else
		grep -q " router=$gw " <<<"$bound" || fail "$net guest did not get $gw as router: $bound"
		gx "$net" ip route add default via "$gw"
	fi
done
ok "leases: nat1 ${IP[nat1]}, nat2 ${IP[nat2]}, rt ${IP[rt]}, iso ${IP[iso]} (no router), deadend ${IP[deadend]}"

assert_eq "$(ask_upstream nat1)" 192.168.50.2 "source address upstream sees from the nat guest"
assert_eq "$(ask_upstream nat2)" 192.168.50.2 "source address upstream sees from the /16 nat guest"
ok "nat: upstream sees the host's uplink address 192.168.50.2 (from a /24 and a /16)"
assert_eq "$(ask_upstream rt)" "${IP[rt]}" "source address upstream sees from the routed guest"
ok "routed: upstream sees the guest's own address ${IP[rt]}"
gx iso ping -c1 -W1 10.64.0.1 >/dev/null || fail "isolated guest cannot reach its gateway"
gx iso ip route add default via 10.64.0.1
gx iso ping -c1 -W1 192.168.50.1 >/dev/null 2>&1 && fail "isolated guest reached upstream"
ok "isolated: the guest reaches its gateway, not upstream (even with a default route)"
gx nat1 ping -c1 -W1 "${IP[nat2]}" >/dev/null 2>&1 && fail "nat1's guest reached nat2's guest"
gx nat2 ping -c1 -W1 "${IP[nat1]}" >/dev/null 2>&1 && fail "nat2's guest reached nat1's guest"
gx nat1 ping -c1 -W1 "${IP[rt]}" >/dev/null 2>&1 && fail "nat1's guest reached the routed guest"
ok "two nat networks' guests cannot reach each other (nor the routed one)"
gx deadend ping -c1 -W1 192.168.50.1 >/dev/null 2>&1 && fail "--uplink dead0 let traffic out through up0"
ok "--uplink dead0: nothing leaves through up0"

# nft flush ruleset (someone else's firewall reload) while nat1's guest pings upstream.
gx nat1 ping -i 0.01 -c 300 -W 1 192.168.50.1 >"$T/ping-flush" 2>&1 &
PING=$!
sleep 0.5
nsx nft flush ruleset
t0=$(date +%s%N)
back=
for _ in $(seq 1 200); do
	if grep -q masquerade <<<"$(nsx nft list table inet netd 2>/dev/null)"; then
		back=$((($(date +%s%N) - t0) / 1000000))
		break
	fi
	sleep 0.005
done
[ -n "$back" ] || fail "table inet netd not back after nft flush ruleset"
[ "$back" -lt 1000 ] || fail "table back only after $back ms"
wait "$PING" || true
grep -q "was removed by another process; re-applying it" "$T/netd.log" || fail "re-apply not logged"
assert_eq "$(ask_upstream nat1)" 192.168.50.2 "masquerade after the flush"
ok "nft flush ruleset: table back within $back ms ($(grep -oE '[0-9.]+% packet loss' "$T/ping-flush") during it)"

# An emptied set (the nat subnets to masquerade) is seen by the marker's element count.
nsx nft flush set inet netd masq_24
back=
for _ in $(seq 1 200); do
	if grep -qw 10.61.0.0 <<<"$(nsx nft list set inet netd masq_24 2>/dev/null)"; then
		back=1
		break
	fi
	sleep 0.005
done
[ -n "$back" ] || fail "set masq_24 not refilled after nft flush set"
grep -q "table inet netd was changed by another process; re-applying it" "$T/netd.log" || fail "re-apply not logged"
assert_eq "$(ask_upstream nat1)" 192.168.50.2 "masquerade after the set flush"
ok "nft flush set inet netd masq_24: re-applied"

# kill -9 of netd while nat1's guest pings upstream at 100 Hz.
pid=$(ctl --json network show nat1 | jq -r .dhcp.dnsmasq_pid)
leases=$(ctl --json network leases nat1 | jq -c 'map({mac, ip})')
handle=$(nsx nft -a list table inet netd | sed -n 1p)
gx nat1 ping -i 0.01 -c 300 -W 1 192.168.50.1 >"$T/ping-kill" 2>&1 &
PING=$!
sleep 0.5
kill9_netd
sleep 0.5
start_netd --nft-table-flags none
wait "$PING" || true
grep -q " 0% packet loss" "$T/ping-kill" || fail "pings lost across kill -9: $(tail -n2 "$T/ping-kill")"
assert_eq "$(ctl --json network show nat1 | jq -r .dhcp.dnsmasq_pid)" "$pid" "dnsmasq pid after restart"
assert_eq "$(ctl --json network leases nat1 | jq -c 'map({mac, ip})')" "$leases" "leases after restart"
grep -q "adopted nftables table inet netd" "$T/netd.log" || fail "table not adopted"
assert_eq "$(nsx nft -a list table inet netd | sed -n 1p)" "$handle" "table handle after restart (re-created?)"
ok "kill -9 of netd: $(grep -o '[0-9]* received' "$T/ping-kill") of 300 pings, table adopted, dnsmasq $pid kept, leases intact"

# Stopping the networks takes their rules away; the last one takes the table.
for net in nat1 nat2 rt iso deadend; do ctl network delete "$net" >/dev/null; done
nsx nft list table inet netd >/dev/null 2>&1 && fail "table inet netd left after the last network went"
ok "deleting every network removes table inet netd"
