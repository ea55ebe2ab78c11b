#!/usr/bin/env bash
# netdctl network import of the feature XMLs of tests/data/libvirt, each imported as written
# (pxe.xml's TFTP root moved into $T), all eight networks running at once, and each feature checked
# end to end with real programs: busybox udhcpc (address, lease time, MTU, boot file and siaddr),
# dig against the gateway, busybox tftp, ip -d link, and a connection seen from outside.
# - dhcp-hosts.xml: web.example.com's reservation and the range's 30m lease, db's infinite lease,
#   a nameless host's 3600 s lease; dig web.example.com;
# - static-only.xml (hosts, no range): the reserved MAC leases, an unknown one gets no answer;
# - pxe.xml: boot file pxelinux.0 and next server 192.168.100.1 in the answer, tftp fetches it;
# - dns.xml: SRV, TXT, host records (A, AAAA), the local-only domain, the forwarders (a plain
#   one, a per-domain one, /DOMAIN/# to the plain one), no-resolv (the host's resolver not asked);
# - subnets.xml: a reservation in the second subnet and a lease from the second subnet's range;
# - nat-options.xml: MTU 9000 and the 2h lease reach the client; the outside sees the guest's
#   connection from 203.0.113.10-20, ports 20000-30000, through the uplink eth0;
# - stp.xml: the bridge runs STP with a 4 s forward delay, and no DHCP;
# - dnsmasq-options.xml: the raw options in dnsmasq's config, domain-needed in effect (a plain
#   name is not forwarded, while the same name is from another network).
. "$(dirname "$0")/lib.sh"
need busybox dnsmasq dig socat nft
busybox --list | has -x tftp || skip "busybox without tftp"
X="$TESTS_DIR/data/libvirt"

# Outside: netd's uplink is eth0 (nat-options.xml's forward dev), 198.51.100.2 here, .1 there,
# with a route back to the NAT addresses; three DNS servers there: 192.0.2.60 the host's resolver
# (resolv.conf), 192.0.2.53 and 192.0.2.54 dns.xml's forwarders. Each answers after itself.
OUT="netdt-out-$$-${RANDOM}"
ip netns add "$OUT"
EXTRA_NS+=("$OUT")
out() { ip netns exec "$OUT" "$@"; }
ip -n "$OUT" link set lo up
ip -n "$NS" link add eth0 type veth peer name eth0 netns "$OUT"
ip -n "$NS" addr add 198.51.100.2/24 dev eth0
ip -n "$NS" link set eth0 up
ip -n "$NS" route add 192.0.2.0/24 via 198.51.100.1
ip -n "$OUT" addr add 198.51.100.1/24 dev eth0
for a in 53 54 60; do ip -n "$OUT" addr add "192.0.2.$a/24" dev eth0; done
ip -n "$OUT" link set eth0 up
ip -n "$OUT" route add 203.0.113.0/24 via 198.51.100.2
upstream() {
	out dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file= --user=root --bind-interfaces \
		--listen-address="$1" --no-resolv --no-hosts "${@:2}" 2>>"$T/upstream.log" &
}
upstream 192.0.2.60 --address=/plainhost/203.0.113.60 --address=/fwd.test/203.0.113.60
upstream 192.0.2.53 --address=/fwd.test/203.0.113.53 --address=/local.example/203.0.113.55
upstream 192.0.2.54 --address=/corp.example/203.0.113.54
out socat -T 2 TCP-LISTEN:7001,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR $SOCAT_PEERPORT' &

mkdir -m 0755 "$T/r"
printf 'nameserver 192.0.2.60\n' >"$T/r/resolv.conf"
# dns.xml asks register='yes': a bus that is not there (never the host's), a warning only
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-bus"
start_netd --resolv-conf "$T/r/resolv.conf"

# The TFTP root: pxe.xml's /var/lib/tftpboot becomes a directory of the test's, readable by
# dnsmasq's user.
TFTP="$T/tftpboot"
mkdir -m 0755 "$TFTP"
head -c 3000 /dev/urandom >"$TFTP/pxelinux.0"
chmod 0644 "$TFTP/pxelinux.0"
sed "s|/var/lib/tftpboot|$TFTP|" "$X/pxe.xml" >"$T/pxe.xml"

for f in dhcp-hosts static-only "$T/pxe" dns subnets nat-options stp dnsmasq-options; do
	[[ $f == /* ]] || f="$X/$f"
	ctl network import "$f.xml" >"$T/imp.out" 2>"$T/imp.err" || fail "import $f.xml: $(cat "$T/imp.err")"
	has -i 'left out\|refused\|ignored' "$T/imp.err" && fail "import $f.xml left something out: $(cat "$T/imp.err")"
done
assert_eq "$(ctl --json network list | jq -r 'map("\(.name):\(.state)") | sort | join(" ")')" \
	"dnsnet:active natopts:active pxe:active rawopts:active reserved:active staticonly:active stpnet:active twosubnets:active" \
	"the imported networks"
ok "8 feature XMLs imported as written (pxe.xml with its TFTP root in $TFTP), all active"

# The guests' event script: what udhcpc got, the MTU applied as a client applies it.
cat >"$T/udhcpc.sh" <<'EOS'
#!/bin/sh
case "$1" in
bound | renew)
	ip addr add "$ip/$mask" dev "$interface"
	[ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
	[ -n "$router" ] && ip route replace default via "$router"
	echo "bound ip=$ip lease=$lease mtu=$mtu boot_file=$boot_file siaddr=$siaddr" >>"$EVENTS"
	;;
esac
exit 0
EOS
chmod 0755 "$T/udhcpc.sh"
udhcpc_in() { # GUEST [udhcpc options]: in the background, one lease, events in $T/GUEST.events
	local g=$1
	shift
	EVENTS="$T/$g.events" gx "$g" busybox udhcpc -i eth0 -O mtu -s "$T/udhcpc.sh" -n -q "$@" \
		>"$T/$g.udhcpc.log" 2>&1 &
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

add_guest stranger 52:54:00:00:01:99 nd-staticonly
add_guest web 52:54:00:00:00:01 virbr9
add_guest db 52:54:00:00:00:02 virbr9
add_guest h3 52:54:00:00:00:03 virbr9
add_guest known 52:54:00:00:01:01 nd-staticonly
add_guest px 52:54:00:00:10:01 virbr10
add_guest s2 52:54:00:00:71:01 virbr12
add_guest s3 52:54:00:00:71:02 virbr12
add_guest nat 52:54:00:00:05:01 virbr5
add_guest raw 52:54:00:00:90:01 nd-rawopts
add_guest dn 52:54:00:00:60:01 virbr11
# the stranger first: it waits out its tries while the others lease
udhcpc_in stranger -t 3 -T 1
stranger_pid=$!
for g in web db h3 known px s2 nat raw; do udhcpc_in "$g" -t 10 -T 1; done
udhcpc_in s3 -t 10 -T 1 -r 192.168.71.120
gx dn ip addr add 192.168.60.50/24 dev eth0

# 1. dhcp-hosts.xml
got=$(wait_event web '^bound ')
assert_eq "$(field "$got" ip) $(field "$got" lease) $(field "$got" boot_file)" "192.168.50.10 1800 " "web (FQDN reservation)"
assert_eq "$(field "$(wait_event db '^bound ')" ip) $(field "$(wait_event db '^bound ')" lease)" \
	"192.168.50.11 4294967295" "db (infinite lease)"
assert_eq "$(field "$(wait_event h3 '^bound ')" ip) $(field "$(wait_event h3 '^bound ')" lease)" \
	"192.168.50.12 3600" "the nameless host (3600 s lease)"
assert_eq "$(gx web dig +short +time=2 @192.168.50.1 web.example.com)" 192.168.50.10 "dig web.example.com"
ok "dhcp-hosts.xml: web.example.com 192.168.50.10 for the range's 30m (and resolves), db infinite, a nameless host 3600 s"

# 2. static-only.xml
assert_eq "$(field "$(wait_event known '^bound ')" ip)" 192.168.51.10 "the reserved host of static-only"
wait "$stranger_pid" && fail "an unknown MAC got a lease from static-only: $(cat "$T/stranger.events")"
[ ! -s "$T/stranger.events" ] || fail "stranger: $(cat "$T/stranger.events")"
has -x 'dhcp-range=192.168.51.0,static,255.255.255.0.*' "$T/run/dnsmasq/staticonly.conf" ||
	fail "no static range: $(grep dhcp-range "$T/run/dnsmasq/staticonly.conf")"
ok "static-only.xml: the reserved MAC leases 192.168.51.10, an unknown one gets no answer"

# 3. pxe.xml
got=$(wait_event px '^bound ')
[[ $(field "$got" ip) =~ ^192\.168\.100\.(12[89]|1[3-9][0-9]|2[0-4][0-9]|25[0-4])$ ]] || fail "pxe lease: $got"
assert_eq "$(field "$got" boot_file) $(field "$got" siaddr)" "pxelinux.0 192.168.100.1" "the PXE answer"
gx px busybox timeout 10 busybox tftp -g -r pxelinux.0 -l "$T/fetched" 192.168.100.1 || fail "tftp fetch failed"
cmp -s "$T/fetched" "$TFTP/pxelinux.0" || fail "tftp: the file fetched differs"
ok "pxe.xml: $(field "$got" ip) with boot file pxelinux.0 from 192.168.100.1; busybox tftp fetched it"

# 4. dns.xml, asked from a guest with a static address
q() { { gx dn dig +short +time=1 +tries=1 @192.168.60.1 "$@" 2>/dev/null || true; } | tr '\n' ' ' | sed 's/ $//'; }
status() { { gx dn dig +time=1 +tries=1 @192.168.60.1 "$@" 2>/dev/null || true; } | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
expect() {
	local want=$1 what=$2 got=
	shift 2
	for _ in $(seq 1 30); do
		got=$(q "$@")
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	fail "dns.xml, $what: '$got', expected '$want'"
}
expect "10 5 389 ldap.example.com." "SRV" -t SRV _ldap._tcp.example.com
expect '"example value"' "TXT" -t TXT example
expect 192.168.60.2 "host record" myhost
expect 192.168.60.2 "host record's second name" myhostalias
expect fd00:60::2 "IPv6 host record" -t AAAA v6host
assert_eq "$(status unknown.example.com)" NXDOMAIN "an unknown name of the local-only domain"
expect 203.0.113.53 "the plain forwarder (not the host's resolver: no-resolv)" a.fwd.test
expect 203.0.113.54 "the corp.example forwarder" a.corp.example
expect 203.0.113.55 "local.example (/DOMAIN/#: the plain forwarder)" a.local.example
assert_eq "$(status plainhost)" REFUSED "a name only the host's resolver knows (no-resolv)"
expect "0 0 1 ." "SRV of a service not offered, under the domain (dnsmasq: target '.')" -t SRV _sip._udp.example.com
reg=$(ctl --json network show dnsnet | jq -c '.register_dns | [.requested, .registered, .warning]')
[[ $reg == '[true,false,"'*'"]' ]] || fail "dnsnet's register_dns without a system bus: $reg"
ok "dns.xml (register: $(jq -r '.[2]' <<<"$reg")): SRV (and one not offered), TXT, A and AAAA host records; example.com local-only; forwarders 192.0.2.53, /corp.example/192.0.2.54, /local.example/#; no-resolv"

# 5. subnets.xml
assert_eq "$(field "$(wait_event s2 '^bound ')" ip)" 192.168.71.10 "the second subnet's reservation"
assert_eq "$(field "$(wait_event s3 '^bound ')" ip)" 192.168.71.120 "a lease from the second subnet's range"
ip -n "$NS" -j addr show virbr12 | jq -e '[.[0].addr_info[].local] | index("192.168.70.1") and index("192.168.71.1")' >/dev/null ||
	fail "subnets.xml's bridge: $(ip -n "$NS" addr show virbr12)"
ok "subnets.xml: both gateways on virbr12; 192.168.71.10 reserved and 192.168.71.120 from the second range"

# 6. nat-options.xml
got=$(wait_event nat '^bound ')
[[ $(field "$got" ip) =~ ^10\.10\.0\.(1[0-9][0-9]|200)$ ]] || fail "natopts lease: $got"
assert_eq "$(field "$got" lease) $(field "$got" mtu)" "7200 9000" "natopts lease time and MTU"
assert_eq "$(gx nat cat /sys/class/net/eth0/mtu)" 9000 "the natopts guest's MTU"
assert_eq "$(ctl --json network show natopts | jq -r '"\(.uplink) \(.nat_address) \(.nat_ports) \(.mtu)"')" \
	"eth0 203.0.113.10-203.0.113.20 20000-30000 9000" "natopts shown"
for _ in 1 2 3; do
	read -r addr port < <(gx nat busybox timeout 3 busybox nc 198.51.100.1 7001 </dev/null 2>/dev/null | tr -d '\r')
	[[ $addr =~ ^203\.0\.113\.(1[0-9]|20)$ ]] || fail "source address outside: '$addr' (not 203.0.113.10-20)"
	[ "$port" -ge 20000 ] && [ "$port" -le 30000 ] || fail "source port $port not in 20000-30000"
done
ok "nat-options.xml: lease 2h and MTU 9000 applied; the outside sees $addr:$port (203.0.113.10-20, 20000-30000)"

# 7. stp.xml
assert_eq "$(link_field virbr14 '.linkinfo.info_data | "\(.stp_state) \(.forward_delay)"')" "1 400" "virbr14's STP"
if [ -e "$T/run/dnsmasq/stpnet.conf" ] && has '^dhcp-range' "$T/run/dnsmasq/stpnet.conf"; then
	fail "stpnet has DHCP: $(grep '^dhcp-range' "$T/run/dnsmasq/stpnet.conf")"
fi
ok "stp.xml: virbr14 stp_state 1, forward delay 4 s, no DHCP"

# 8. dnsmasq-options.xml
RAW=$(field "$(wait_event raw '^bound ')" ip)
[[ $RAW =~ ^192\.168\.90\.(1[0-9]|20)$ ]] || fail "rawopts lease: $RAW"
has -x 'dhcp-vendorclass=set:efi-http,HTTPClient:Arch:00016' "$T/run/dnsmasq/rawopts.conf" &&
	has -x 'domain-needed' "$T/run/dnsmasq/rawopts.conf" || fail "rawopts' options: $(cat "$T/run/dnsmasq/rawopts.conf")"
assert_eq "$(gx web dig +short +time=2 @192.168.50.1 plainhost)" 203.0.113.60 "a plain name from dhcp-hosts' network"
got=$(gx raw dig +time=2 +tries=1 @192.168.90.1 plainhost | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
assert_eq "$got" NXDOMAIN "a plain name with domain-needed"
assert_eq "$(gx raw dig +short +time=2 @192.168.90.1 a.fwd.test)" 203.0.113.60 "a full name with domain-needed"
ok "dnsmasq-options.xml: $RAW leased; domain-needed in effect (plainhost not forwarded, a.fwd.test is)"
