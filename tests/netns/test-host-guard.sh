#!/usr/bin/env bash
# What guests reach on the host and what the host takes from them (issue 12, attacks 2, 4 and 8),
# with two networks, each with a guest namespace running a real DHCP client, and a host service
# listening on every address:
# - a guest's router advertisement (one RA, as the attack sent it) gives the host no route and no
#   address: netd's bridges have accept_ra=0, autoconf=0, no redirects, strict rp_filter;
# - a guest reaches DHCP, DNS and ping on its own gateway and nothing else of the host: not a
#   service listening on 0.0.0.0, not through another network's gateway, not through the
#   uplink's address; --allow-host-port opens one port on that network's gateway only; IPv6
#   link-local and replies to what the host started still work; a source from outside its
#   subnet is dropped by reverse-path filtering;
# - --uplink naming another network's bridge, or a port of it, is refused and changes nothing.
. "$(dirname "$0")/lib.sh"
need nft dnsmasq busybox
command -v python3 >/dev/null || skip "python3 missing (the guest's RA sender)"

add_upstream
start_netd
ctl network create iso --mode isolated --subnet 10.71.0.0/24 >/dev/null
ctl network create nat --mode nat --subnet 10.72.0.0/24 --allow-host-port tcp/8080 >/dev/null
add_guest iso 52:54:00:cc:00:01 nd-iso
add_guest nat 52:54:00:cc:00:02 nd-nat
dhcp_client iso iso
dhcp_client nat nat
ip_iso=$(guest_ip iso)
ip_nat=$(guest_ip nat)
gx nat ip route add default via 10.72.0.1
gx iso ip route add default via 10.71.0.1 # the guest is hostile: it routes as it likes
ok "guests leased: iso $ip_iso, nat $ip_nat"

for br in nd-iso nd-nat; do
	for s in ipv6.conf.$br.accept_ra:0 ipv6.conf.$br.autoconf:0 ipv6.conf.$br.accept_redirects:0 \
		ipv4.conf.$br.accept_redirects:0 ipv4.conf.$br.rp_filter:1; do
		assert_eq "$(nsx sysctl -n "net.${s%:*}")" "${s#*:}" "net.${s%:*}"
	done
done
ok "bridges: accept_ra 0, autoconf 0, accept_redirects 0 (v4, v6), rp_filter 1"

# Attack 2: one router advertisement from the isolated network's guest.
# (the guest's link-local address must have passed duplicate address detection first)
for _ in $(seq 1 50); do
	gx iso ip -6 addr show dev eth0 scope link | grep -v tentative | has inet6 && break
	sleep 0.1
done
gx iso python3 "$TESTS_LIB_DIR/send-ra.py" eth0 fd00:bad:: || fail "the guest could not send its RA"
sleep 1
[ -z "$(nsx ip -6 route show default)" ] || fail "the host took a default route from a guest: $(nsx ip -6 route show default)"
grep -q fd00:bad <<<"$(nsx ip -6 addr show)" && fail "the host took an address from a guest's RA: $(nsx ip -6 addr show | grep fd00:bad)"
grep -q fd00:bad <<<"$(nsx ip -6 route show)" && fail "the host took a route from a guest's RA"
ok "a guest's router advertisement gives the host no default route, no SLAAC address, no route"

# Attack 4: a host service listening on every address.
nsx socat -U TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo host-8080' &
nsx socat -U TCP-LISTEN:8081,fork,reuseaddr SYSTEM:'echo host-8081' &
for _ in $(seq 1 50); do nsx ss -ltn | has ':8081 ' && break; sleep 0.05; done
# reach GUEST ADDR PORT: what the host service answered ("" when nothing did).
reach() { gx "$1" busybox timeout 3 busybox nc "$2" "$3" </dev/null 2>/dev/null | tr -d '\r\n' || true; }
assert_eq "$(nsx busybox timeout 3 busybox nc 10.72.0.1 8080 </dev/null | tr -d '\r\n')" host-8080 "the service, from the host itself"
for target in 10.71.0.1:8080 10.71.0.1:8081 10.72.0.1:8080 192.168.50.2:8080 192.168.50.2:8081; do
	[ -z "$(reach iso "${target%:*}" "${target#*:}")" ] || fail "the isolated guest reached the host's service at $target"
done
ok "isolated guest: no host service through its gateway, another network's gateway or the uplink's address"
assert_eq "$(reach nat 10.72.0.1 8080)" host-8080 "--allow-host-port tcp/8080 on nat's own gateway"
for target in 10.72.0.1:8081 10.71.0.1:8080 192.168.50.2:8080; do
	[ -z "$(reach nat "${target%:*}" "${target#*:}")" ] || fail "the nat guest reached the host's service at $target"
done
ok "nat guest: --allow-host-port tcp/8080 opens 10.72.0.1:8080 and nothing else (not 8081, not other addresses)"

gx iso ping -c1 -W1 10.71.0.1 >/dev/null || fail "the isolated guest cannot ping its gateway"
gx iso ping -c1 -W1 10.72.0.1 >/dev/null 2>&1 && fail "the isolated guest pinged another network's gateway"
gx nat ping -c1 -W1 192.168.50.2 >/dev/null 2>&1 && fail "the nat guest pinged the uplink's address"
ans=$(gx nat busybox nslookup nat 10.72.0.1 2>&1) || true
grep -q "$ip_nat" <<<"$ans" || fail "DNS on the gateway: $ans"
[ "$(ask_upstream nat)" = 192.168.50.2 ] || fail "the nat guest lost its way out"
nsx ping -c1 -W1 "$ip_iso" >/dev/null || fail "the host cannot ping a guest (replies must come back)"
ll=$(nsx ip -6 -j addr show dev nd-iso scope link | jq -r '.[0].addr_info[0].local')
gx iso ping -6 -c1 -W2 "$ll%eth0" >/dev/null || fail "the guest cannot ping the bridge's link-local address $ll"
ok "still allowed: ping and DNS on the own gateway, NAT out, the host's pings, IPv6 link-local ($ll)"

# A source from outside the subnet: strict reverse-path filtering drops it.
rpf() { nsx nstat -az TcpExtIPReversePathFilter | awk '/IPReversePathFilter/ {print $2}'; }
before=$(rpf)
gx iso ip addr add 10.99.0.5/32 dev eth0
gx iso ping -c2 -W1 -I 10.99.0.5 10.71.0.1 >/dev/null 2>&1 || true
[ "$(rpf)" -gt "$before" ] || fail "a spoofed source was not dropped by rp_filter ($before -> $(rpf))"
ok "a guest's spoofed source outside its subnet is dropped (IPReversePathFilter $before -> $(rpf))"

# Attack 8: an uplink that leads into another network.
bad=(
	"1|uplink 'nd-iso' is the bridge of network 'iso'|network create c --mode nat --subnet 10.73.0.0/24 --uplink nd-iso"
	"1|uplink 'viso' is a port of bridge 'nd-iso' (network 'iso')|network create c --mode nat --subnet 10.73.0.0/24 --uplink viso"
	"1|invalid host port 'tcp/0'|network create c --mode nat --subnet 10.73.0.0/24 --allow-host-port tcp/0"
	"1|host port udp/53 is given twice|network create c --mode nat --subnet 10.73.0.0/24 --allow-host-port udp/53 --allow-host-port udp/53"
	"1|mode bridge takes no --allow-host-port|network create c --mode bridge --bridge nd-nat --allow-host-port tcp/22"
)
bad_cli_cases bad
ok "$BAD_N bad inputs refused, nothing changed"
