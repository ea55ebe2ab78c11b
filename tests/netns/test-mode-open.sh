#!/usr/bin/env bash
# Mode open (libvirt's forward mode 'open') with real nftables, dnsmasq and DHCP clients. The
# host namespace runs netd and has an uplink (up0, 192.168.50.2) to an upstream namespace
# (192.168.50.1), which routes the open subnet back through the host as a real router would.
# - the guest's lease has the gateway as router; upstream sees the guest's own address (no NAT);
# - upstream reaches the guest unasked (no filtering into the subnet), on any port;
# - an isolated network's guest and the open guest cannot reach each other;
# - the host's input chain still applies: the open guest reaches DHCP, DNS and ICMP on its
#   gateway, not a service listening on the host's uplink address.
. "$(dirname "$0")/lib.sh"
need nft socat dnsmasq busybox

add_upstream
ip -n "$UP" route add 10.66.0.0/24 via 192.168.50.2

start_netd
ctl network create op --mode open --subnet 10.66.0.0/24 >/dev/null
ctl network create iso --mode isolated --subnet 10.64.0.0/24 >/dev/null
assert_eq "$(ctl --json network show op | jq -r .mode)" open "op's mode"
grep -q '"nd-op"' <<<"$(nsx nft list set inet netd open)" || fail "nd-op is not in table inet netd's set open"
table=$(nsx nft list table inet netd)
grep -qw "10.66.0.0" <<<"$table" && fail "an open network's subnet is in netd's sets: $table"
grep -q masquerade <<<"$table" && fail "masquerade rules with no nat network: $table"
ok "open network created: in set 'open', nothing masqueraded"

add_guest op 52:54:00:cc:00:01 nd-op
add_guest iso 52:54:00:cc:00:02 nd-iso
dhcp_client op op
dhcp_client iso iso
bound=$(wait_event op '^bound ')
ip_op=$(sed 's/.* ip=\([^ ]*\).*/\1/' <<<"$bound")
grep -q " router=10.66.0.1 " <<<"$bound" || fail "the open guest did not get 10.66.0.1 as router: $bound"
gx op ip route add default via 10.66.0.1
ip_iso=$(wait_event iso '^bound ' | sed 's/.* ip=\([^ ]*\).*/\1/')
gx iso ip route add default via 10.64.0.1
ok "leases: op $ip_op (router 10.66.0.1), iso $ip_iso"

assert_eq "$(ask_upstream op)" "$ip_op" "source address upstream sees from the open guest"
ok "open: upstream sees the guest's own address $ip_op (no NAT)"
gx op socat -T 5 TCP-LISTEN:8123,reuseaddr SYSTEM:'echo guest-here' &
for _ in $(seq 1 50); do gx op ss -ltn | has ':8123' && break; sleep 0.1; done
ip netns exec "$UP" ping -c1 -W2 "$ip_op" >/dev/null || fail "upstream cannot ping the open guest"
assert_eq "$(ip netns exec "$UP" busybox timeout 3 busybox nc "$ip_op" 8123 </dev/null | tr -d '\r\n')" guest-here \
	"upstream's connection to the open guest's port 8123"
ok "open: upstream reaches the guest unasked (ping, TCP port 8123)"

gx iso ping -c1 -W1 "$ip_op" >/dev/null 2>&1 && fail "the isolated guest reached the open guest"
gx op ping -c1 -W1 "$ip_iso" >/dev/null 2>&1 && fail "the open guest reached the isolated guest"
ok "an isolated network and an open one cannot reach each other"

nsx socat -T 5 TCP-LISTEN:8124,bind=192.168.50.2,reuseaddr SYSTEM:'echo host-here' &
for _ in $(seq 1 50); do nsx ss -ltn | has '192.168.50.2:8124' && break; sleep 0.1; done
gx op ping -c1 -W1 10.66.0.1 >/dev/null || fail "the open guest cannot ping its gateway"
out=$(gx op busybox timeout 3 busybox nc 192.168.50.2 8124 </dev/null 2>/dev/null | tr -d '\r\n' || true)
[ -z "$out" ] || fail "the open guest reached a host service on 192.168.50.2:8124: $out"
ok "the host's input chain still applies: gateway ping yes, a service on the uplink address no"
