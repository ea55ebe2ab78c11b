#!/usr/bin/env bash
# Port forwards into a nat network's guests (netdctl network forward ...), with real nftables,
# dnsmasq and DHCP clients. netd's namespace has an uplink (up0, 192.168.50.2) to an outside
# namespace (192.168.50.1). Guest "web" listens on TCP 80, UDP 53 and TCP 9100-9102 and answers with
# the source address and port it sees; guest "other" is a second guest on the same network.
# - TCP and UDP forwards, a port range to a shifted range, reached from outside, from the other
#   guest (hairpin: it sees the gateway) and from the host itself (TCP and UDP);
# - a forward to a name stays on its reservation when another guest (another MAC) sends that
#   hostname; a listen address the host does not have is refused, and one it loses no longer
#   forwards; a DNAT of another table does not pass netd's isolation into a guest;
# - conflicts refused (a local socket, another forward), nothing changed; bad inputs;
# - owned tables survive nft flush ruleset; kill -9 and restart keep the elements (no duplicate,
#   none lost); with plain tables a flush is re-applied;
# - IPv6: forwards into a NAT66 network (an address and any) from outside; --listen-uplink;
# - remove: the port is closed again; --nat-address and --nat-ports as the outside sees them.
. "$(dirname "$0")/lib.sh"
need nft socat dnsmasq busybox

add_upstream
start_netd
# web's name is a reservation (a name resolves to a netd guest or a reservation, never to a
# hostname a DHCP client sent)
ctl network create fw --mode nat --subnet 10.71.0.0/24 --host 52:54:00:cc:00:01,10.71.0.50,web >/dev/null

add_guest web 52:54:00:cc:00:01 nd-fw
add_guest other 52:54:00:cc:00:02 nd-fw
dhcp_client web fw
dhcp_client other fw
WEB=$(guest_ip web)
OTHER=$(guest_ip other)
gx web ip route add default via 10.71.0.1
gx other ip route add default via 10.71.0.1
# who is asking: the address of the peer
serve() { gx web socat -T 2 "$1,fork,reuseaddr" SYSTEM:"echo $2 \$SOCAT_PEERADDR" & }
serve TCP-LISTEN:80 web80
serve UDP-RECVFROM:53 web53
for p in 9100 9101 9102; do serve "TCP-LISTEN:$p" "web$p"; done
ok "guests web $WEB and other $OTHER; web listens on tcp 80, udp 53, tcp 9100-9102"

up() { ip netns exec "$UP" "$@"; }
tcp_ask() { "$@" busybox timeout 3 busybox nc "$HOST_ADDR" "$PORT" </dev/null 2>/dev/null | tr -d '\r' || true; }
# UDP: up to 3 tries (socat's 2 s of silence ends one; the server forks a shell per datagram,
# which a loaded rehearsal made slower than that once)
udp_ask() {
	local a
	for _ in 1 2 3; do
		a=$(echo hi | "$@" timeout 3 socat -T 2 - "UDP:$HOST_ADDR:$PORT" 2>/dev/null || true)
		[ -n "$a" ] && break
	done
	echo "$a"
}
HOST_ADDR=192.168.50.2

out=$(ctl network forward add fw --proto tcp --port 8080 --to web:80)
grep -q "forward 1 added: tcp any port 8080 -> web:80 (now $WEB)" <<<"$out" || fail "add: $out"
PORT=8080
a=$(tcp_ask up)
[[ $a == "web80 192.168.50.1" ]] || fail "tcp 8080 from outside: '$a'"
ok "tcp forward any:8080 -> web:80 from outside: web sees $a"
a=$(tcp_ask gx other)
[[ $a == "web80 10.71.0.1" ]] || fail "tcp 8080 from the other guest (hairpin): '$a'"
ok "hairpin: the other guest reaches it through 192.168.50.2:8080, web sees the gateway ($a)"
a=$(tcp_ask nsx)
[[ $a == "web80 192.168.50.2" ]] || fail "tcp 8080 from the host: '$a'"
ok "from the host itself (output hook): web sees $a"
HOST_ADDR=10.71.0.1
a=$(tcp_ask gx other)
HOST_ADDR=192.168.50.2
[[ $a == "web80 10.71.0.1" ]] || fail "tcp 8080 on the gateway from the other guest: '$a'"
ok "any: also on the gateway address, from a guest"

ctl network forward add fw --listen 192.168.50.2 --proto udp --port 5353 --to "$WEB:53" >/dev/null
PORT=5353
a=$(udp_ask up)
[[ $a == "web53 192.168.50.1" ]] || fail "udp 5353 from outside: '$a'"
a=$(udp_ask gx other)
[[ $a == "web53 10.71.0.1" ]] || fail "udp 5353 hairpin: '$a'"
a=$(udp_ask nsx)
[[ $a == "web53 192.168.50.2" ]] || fail "udp 5353 from the host: '$a'"
ok "udp forward 192.168.50.2:5353 -> $WEB:53 from outside, hairpin and the host itself"

ctl network forward add fw --proto tcp --port 9000-9002 --to web:9100-9102 >/dev/null
for i in 0 1 2; do
	PORT=900$i
	a=$(tcp_ask up)
	[[ $a == "web910$i 192.168.50.1" ]] || fail "range port 900$i: '$a'"
done
ok "range tcp 9000-9002 -> web:9100-9102: each port to its own"

list=$(ctl --json network forward list fw)
assert_eq "$(jq -c 'map([.id, .proto, .listen, .port, .to, .to_port, .to_address])' <<<"$list")" \
	"[[1,\"tcp\",\"any\",\"8080\",\"web\",\"80\",\"$WEB\"],[2,\"udp\",\"192.168.50.2\",\"5353\",\"$WEB\",\"53\",\"$WEB\"],[3,\"tcp\",\"any\",\"9000-9002\",\"web\",\"9100-9102\",\"$WEB\"]]" \
	"forward list --json"
ctl network show fw | has "^forward:    3 tcp any 9000-9002 web:9100-9102$" || fail "show lists no forwards"
grep -q "^forward = 2 udp 192.168.50.2 5353 $WEB:53$" "$T/etc/networks/fw.conf" || fail "definition: $(cat "$T/etc/networks/fw.conf")"
ok "forward list --json, network show and the definition file"

# Conflicts: nothing changes.
nsx socat TCP-LISTEN:7070,reuseaddr,fork SYSTEM:true &
BG_PIDS+=($!)
for _ in $(seq 1 100); do nsx ss -Hltn 'sport = :7070' | has 7070 && break; sleep 0.02; done
bad=(
	"1|tcp port 7070 is already used by a local socket on the host|network forward add fw --proto tcp --port 7000-7100 --to web:80-180"
	"1|the ports overlap those of forward 1 tcp any 8080 web:80|network forward add fw --proto tcp,udp --port 8080 --to web:81"
	"1|the ports overlap those of forward 3 tcp any 9000-9002|network forward add fw --listen 192.168.50.2 --proto tcp --port 9002-9010 --to web"
	"1|the ports overlap those of forward 2 udp 192.168.50.2 5353|network forward add fw --proto udp --port 5353 --to web"
	"1|invalid protocol 'sctp': expected tcp, udp or tcp,udp|network forward add fw --proto sctp --port 1 --to web"
	"1|invalid port '0': expected PORT or PORT-PORT (1-65535)|network forward add fw --proto tcp --port 0 --to web"
	"1|invalid port '20-10'|network forward add fw --proto tcp --port 20-10 --to web"
	"1|port range '1-5000' is too large (at most 1024 ports)|network forward add fw --proto tcp --port 1-5000 --to web"
	"1|target ports '81-82' are not as many as the forwarded ones (1)|network forward add fw --proto tcp --port 80 --to web:81-82"
	"1|invalid target 'we\$b': expected a guest name, a hostname or an address|network forward add fw --proto tcp --port 81 --to 'we\$b'"
	"1|the target is not in the network's subnet|network forward add fw --proto tcp --port 81 --to 10.9.9.9"
	"1|listen address 192.168.50.9 is not an address of the host|network forward add fw --listen 192.168.50.9 --proto tcp --port 81 --to web"
	"1|invalid listen address 'nowhere': expected an address, any or uplink|network forward add fw --listen nowhere --proto tcp --port 81 --to web"
	"1|invalid listen address '127.0.0.1': not a loopback or wildcard address (use any)|network forward add fw --listen 127.0.0.1 --proto tcp --port 81 --to web"
	"1|listens on the uplink: the network has no --uplink|network forward add fw --listen-uplink --proto tcp --port 81 --to web"
	"1|IPv6 forwards need a masqueraded IPv6 prefix (nat6)|network forward add fw --proto tcp --port 81 --to fd00::5"
	"1|the listen address and the target are not of one family|network forward add fw --listen 192.168.50.2 --proto tcp --port 81 --to fd00::5"
	"1|network 'fw' has no forward 9 (see 'netdctl network forward list fw')|network forward remove fw 9"
	"1|no network named 'nope'|network forward add nope --proto tcp --port 81 --to web"
	"2|network forward add: missing --port|network forward add fw --proto tcp --to web"
	"2|network forward add: --listen and --listen-uplink exclude each other|network forward add fw --listen 192.168.50.2 --listen-uplink --proto tcp --port 81 --to web"
	"2|network forward remove: invalid ID 'x'|network forward remove fw x"
)
bad_cli_cases bad
raw=(
	'{"method":"network.forward.add","params":{"name":"fw","proto":"tcp","port":"81","to":"web 1"}}|invalid to '"'"'web 1'"'"': empty or with blanks'
	'{"method":"network.forward.add","params":{"name":"fw","proto":"tcp","port":81,"to":"web"}}|parameter '"'"'port'"'"' must be a string'
	'{"method":"network.forward.remove","params":{"name":"fw","id":"x"}}|missing or invalid parameter '"'"'id'"'"''
)
bad_raw_cases raw
ok "$BAD_N bad inputs refused with a clear message, nothing changed"

elements() { nsx nft -j list table inet netd_fwd | jq '[.nftables[] | (.map // .set) | select(.) | (.elem // []) | length] | add'; }
n_el=$(elements)
assert_eq "$n_el" 6 "map elements (1 + 1 + 3 and the hairpin subnet)"
# Owned table: a flush does not reach it.
nsx nft flush ruleset
PORT=8080
[[ $(tcp_ask up) == "web80 "* ]] || fail "forward gone after nft flush ruleset (owned table)"
ok "owned table: nft flush ruleset leaves the forwards working"
kill9_netd
[[ $(tcp_ask up) == "web80 "* ]] || fail "forward gone while netd is down"
start_netd
assert_eq "$(elements)" "$n_el" "elements after kill -9 and restart"
[[ $(tcp_ask up) == "web80 "* ]] || fail "forward gone after restart"
ok "kill -9: forwards keep working; the restarted netd has the same $n_el elements"
# Plain tables: netd re-applies its table after a flush.
kill9_netd
start_netd --nft-table-flags none
nsx nft flush ruleset
back=
for _ in $(seq 1 200); do
	[ "$(elements 2>/dev/null)" = "$n_el" ] && back=1 && break
	sleep 0.01
done
[ -n "$back" ] || fail "table inet netd_fwd not back after a flush"
[[ $(tcp_ask up) == "web80 "* ]] || fail "forward gone after flush with plain tables"
grep -q "table inet netd_fwd was removed by another process; re-applying it" "$T/netd.log" || fail "re-apply not logged"
ok "plain tables: nft flush ruleset re-applied, the forward works"

# The guest "web" comes back with another MAC (another guest, as far as netd can tell) and sends
# the hostname web: the forward stays on the reservation (a guest's hostname takes no forward).
kill "$CLIENT_web"
wait "$CLIENT_web" 2>/dev/null || true
gx web ip link set eth0 address 52:54:00:cc:00:09
: >"$T/web.events"
dhcp_client web fw
WEB2=$(guest_ip web)
[ "$WEB2" != "$WEB" ] || fail "web got the same address again"
# (dnsmasq may keep the reserved name from the client: the lease event is what counts)
has_lease() { ctl --json network leases fw | jq -e --arg ip "$1" 'any(.[]; .ip == $ip)' >/dev/null; }
for _ in $(seq 1 100); do
	has_lease "$WEB2" && break
	sleep 0.02
done
has_lease "$WEB2" || fail "netd has no lease of $WEB2: $(ctl --json network leases fw)"
assert_eq "$(ctl --json network forward list fw | jq -r '.[0].to_address')" "$WEB" "target after another MAC's lease named web"
nsx nft list map inet netd_fwd fwd4_any | has "$WEB . 80" || fail "map element moved"
nsx nft list map inet netd_fwd fwd4_any | has "$WEB2 . 80" && fail "map element taken by a guest's hostname"
ok "another MAC's lease with hostname web ($WEB2) does not take the forward: it stays on $WEB"
gx web ip link set eth0 address 52:54:00:cc:00:01

# A listen address the host loses: traffic to it is no longer forwarded (every lookup is for local
# destinations alone), whatever element the map has.
nsx ip addr add 198.51.100.4/32 dev lo
up ip route add 198.51.100.4/32 via 192.168.50.2
kill "$CLIENT_web"
wait "$CLIENT_web" 2>/dev/null || true
: >"$T/web.events"
dhcp_client web fw
assert_eq "$(guest_ip web)" "$WEB" "web back on its reservation"
gx web ip route replace default via 10.71.0.1
ctl network forward add fw --listen 198.51.100.4 --proto tcp --port 8181 --to web:80 >/dev/null
HOST_ADDR=198.51.100.4 PORT=8181
a=$(tcp_ask up)
[[ $a == "web80 192.168.50.1" ]] || fail "forward on 198.51.100.4:8181 from outside: '$a'"
nsx ip addr del 198.51.100.4/32 dev lo
nsx nft list map inet netd_fwd fwd4 | has "198.51.100.4 . tcp . 8181" || fail "element gone with the address"
a=$(tcp_ask up)
[ -z "$a" ] || fail "traffic to an address the host no longer has was forwarded: '$a'"
ok "listen address 198.51.100.4 removed from the host: its element stays, nothing is forwarded"

# Another table's DNAT into a guest (as Docker's published ports are) does not pass netd's forward
# chain: only netd_fwd's own (their ct mark).
nsx nft -f - <<EOF2
table ip netdt_foreign {
	chain pre {
		type nat hook prerouting priority dstnat - 10; policy accept;
		tcp dport 8282 dnat to $WEB:80
	}
}
EOF2
HOST_ADDR=192.168.50.2 PORT=8282
a=$(tcp_ask up)
nsx nft delete table ip netdt_foreign
[ -z "$a" ] || fail "a foreign DNAT reached the guest through netd's isolation: '$a'"
HOST_ADDR=192.168.50.2 PORT=8080
[[ $(tcp_ask up) == "web80 192.168.50.1" ]] || fail "forward 8080 after the foreign DNAT check"
ok "a foreign table's DNAT into web is rejected; netd's own forward still passes"

ctl network forward remove fw 1
a=$(tcp_ask up)
[ -z "$a" ] || fail "removed forward still answers: $a"
nsx nft list map inet netd_fwd fwd4_any | has "8080" && fail "element of the removed forward still there"
grep -q "^forward = 1 " "$T/etc/networks/fw.conf" && fail "removed forward still in the definition"
ok "forward 1 removed: port 8080 closed, its element and line gone"

# --nat-address and --nat-ports: what the outside sees of a guest's connection.
nsx ip addr add 192.168.50.3/24 dev up0
up socat -T 2 TCP-LISTEN:7001,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR $SOCAT_PEERPORT' &
ctl network create sn --mode nat --subnet 10.72.0.0/24 --nat-address 192.168.50.3 --nat-ports 40000-40009 >/dev/null
ctl network create sp --mode nat --subnet 10.73.0.0/24 --nat-ports 41000-41004 >/dev/null
grep -q "^nat-address = 192.168.50.3$" "$T/etc/networks/sn.conf" || fail "nat-address not in the definition"
assert_eq "$(ctl --json network show sn | jq -c '[.nat_address, .nat_ports]')" '["192.168.50.3","40000-40009"]' "show"
add_guest cl 52:54:00:cc:00:03 nd-sn
add_guest cp 52:54:00:cc:00:04 nd-sp
dhcp_client cl sn
dhcp_client cp sp
guest_ip cl >/dev/null
guest_ip cp >/dev/null
gx cl ip route add default via 10.72.0.1
gx cp ip route add default via 10.73.0.1
for _ in 1 2 3; do
	read -r addr port < <(gx cl busybox timeout 3 busybox nc 192.168.50.1 7001 </dev/null 2>/dev/null | tr -d '\r')
	assert_eq "$addr" 192.168.50.3 "source address with --nat-address"
	[ "$port" -ge 40000 ] && [ "$port" -le 40009 ] || fail "source port $port not in --nat-ports 40000-40009"
	read -r addr port < <(gx cp busybox timeout 3 busybox nc 192.168.50.1 7001 </dev/null 2>/dev/null | tr -d '\r')
	assert_eq "$addr" 192.168.50.2 "source address with --nat-ports alone (masquerade)"
	[ "$port" -ge 41000 ] && [ "$port" -le 41004 ] || fail "source port $port not in --nat-ports 41000-41004"
done
gx cl ping -c1 -W1 192.168.50.1 >/dev/null || fail "ICMP with --nat-address"
ok "--nat-address 192.168.50.3 --nat-ports 40000-40009 and --nat-ports alone: the outside sees them"
# the state compared below includes local routes, which an address still in DAD adds later
for _ in $(seq 1 200); do
	nsx ip -6 addr show tentative | has . || break
	sleep 0.05
done
BAD_BEFORE=
bad=(
	"1|--nat-address and --nat-ports need mode nat (mode routed)|network create r1 --mode routed --subnet 10.74.0.0/24 --nat-address 192.168.50.3"
	"1|invalid NAT address '192.168.50.9-192.168.50.3': expected an IPv4 address or a range like 192.0.2.10-192.0.2.20|network create r1 --mode nat --subnet 10.74.0.0/24 --nat-address 192.168.50.9-192.168.50.3"
	"1|invalid NAT address 'fd00::1'|network create r1 --mode nat --subnet 10.74.0.0/24 --nat-address fd00::1"
	"1|invalid NAT ports '0-100': expected a range LO-HI like 1024-65535|network create r1 --mode nat --subnet 10.74.0.0/24 --nat-ports 0-100"
	"1|invalid NAT ports '2000-1000'|network create r1 --mode nat --subnet 10.74.0.0/24 --nat-ports 2000-1000"
	"1|invalid NAT ports '1024'|network create r1 --mode nat --subnet 10.74.0.0/24 --nat-ports 1024"
	"1|invalid NAT ports '1024-70000'|network create r1 --mode nat --subnet 10.74.0.0/24 --nat-ports 1024-70000"
	"1|--nat-address and --nat-ports need an IPv4 subnet|network create r1 --mode nat --subnet none --subnet6 fd00:74::/64 --nat-ports 1024-2000"
	"1|port forwards need mode nat (mode isolated)|network create r1 --mode isolated --subnet 10.74.0.0/24"
	"1|network 'sn': the ports overlap those of forward 2 udp 192.168.50.2 5353 $WEB:53 of network 'fw'|network forward add sn --proto udp --port 5353 --to 10.72.0.9"
	"1|network 'b1': --nat-address and --nat-ports need mode nat (mode bridge)|network create b1 --mode bridge --bridge up0 --nat-ports 1024-65535"
	"1|network 'b1': --nat-address and --nat-ports need mode nat (mode bridge)|network create b1 --mode bridge --bridge up0 --nat-address 192.168.50.3"
)
# (that one through a request: netdctl has no option for forwards)
unset 'bad[8]'
bad_cli_cases bad
raw=(
	'{"method":"network.create","params":{"name":"r1","mode":"isolated","subnet":"10.74.0.0/24","forwards":["1 tcp any 80 10.74.0.5"]}}|port forwards need mode nat (mode isolated)'
	'{"method":"network.create","params":{"name":"r1","mode":"nat","subnet":"10.74.0.0/24","forwards":["1 tcp any 80 10.74.0.5","1 udp any 80 10.74.0.5"]}}|forward ID 1 is taken'
	'{"method":"network.create","params":{"name":"b1","mode":"bridge","bridge":"up0","forwards":["1 tcp any 80 10.74.0.5"]}}|port forwards need mode nat (mode bridge)'
	'{"method":"network.create","params":{"name":"r1","mode":"nat","subnet":"10.74.0.0/24","forwards":["1 tcp any 9001 10.74.0.5"]}}|network '"'"'r1'"'"': the ports overlap those of forward 3 tcp any 9000-9002 web:9100-9102 of network '"'"'fw'"'"''
)
bad_raw_cases raw
ok "bad --nat-address, --nat-ports and forwards in a definition refused, nothing changed"

# IPv6: a forward to a guest's address on a network whose ULA prefix is masqueraded (NAT66).
ctl network create f6 --mode nat --subnet 10.75.0.0/24 --subnet6 fd00:75::/64 --no-dhcp >/dev/null
add_guest w6 52:54:00:cc:00:06 nd-f6
gx w6 ip -6 addr add fd00:75::5/64 dev eth0 nodad
gx w6 ip -6 route add default via fd00:75::1
nsx ip -6 addr add fd00:50::2/64 dev up0 nodad
up ip -6 addr add fd00:50::1/64 dev eth0 nodad
gx w6 socat -T 2 TCP6-LISTEN:80,fork,reuseaddr SYSTEM:'echo w6 $SOCAT_PEERADDR' &
ctl network forward add f6 --listen fd00:50::2 --proto tcp --port 8086 --to '[fd00:75::5]:80' >/dev/null
ctl network forward add f6 --proto tcp --port 8087 --to fd00:75::5 >/dev/null
a=
for _ in $(seq 1 50); do
	a=$(up busybox timeout 3 busybox nc fd00:50::2 8086 </dev/null 2>/dev/null | tr -d '\r' || true)
	[ -n "$a" ] && break
	sleep 0.1 # the guest's socat listening, the outside's address usable
done
[[ $a == "w6 [fd00:0050:0000:0000:0000:0000:0000:0001]" ]] || fail "IPv6 forward from outside: '$a'"
gx w6 socat -T 2 TCP6-LISTEN:8087,fork,reuseaddr SYSTEM:'echo w6b $SOCAT_PEERADDR' &
a=
for _ in $(seq 1 50); do
	a=$(up busybox timeout 3 busybox nc fd00:50::2 8087 </dev/null 2>/dev/null | tr -d '\r' || true)
	[ -n "$a" ] && break
	sleep 0.1
done
[[ $a == "w6b"* ]] || fail "IPv6 forward on any address from outside: '$a'"
ok "IPv6 forwards into a NAT66 network: fd00:50::2:8086 -> [fd00:75::5]:80 and any:8087 ($a)"

# --listen-uplink: what arrives on the network's --uplink for a local address.
ctl network create fu --mode nat --subnet 10.76.0.0/24 --uplink up0 --no-dhcp >/dev/null
add_guest wu 52:54:00:cc:00:07 nd-fu
gx wu ip addr add 10.76.0.5/24 dev eth0
gx wu ip route add default via 10.76.0.1
gx wu socat -T 2 TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo wu $SOCAT_PEERADDR' &
ctl network forward add fu --listen-uplink --proto tcp --port 8090 --to 10.76.0.5:80 >/dev/null
PORT=8090
a=
for _ in $(seq 1 50); do
	a=$(tcp_ask up)
	[ -n "$a" ] && break
	sleep 0.1 # the guest's socat listening
done
assert_eq "$a" "wu 192.168.50.1" "--listen-uplink from outside"
a=$(tcp_ask nsx)
[ -z "$a" ] || fail "--listen-uplink answered the host's own connection: $a"
ok "--listen-uplink: a connection arriving on up0 reaches the guest; the host's own does not"
