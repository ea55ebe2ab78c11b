#!/usr/bin/env bash
# A hostile guest against DHCPv6 on a dual-stack nat network (issue 14), with port security on as
# for any guest: namespace guests behind netd's own TAPs (tap-guest-lib.sh).
# - Lease theft by DUID: guest B's dhclient -6 starts from A's lease file (A's DUID as its
#   default-duid, A's IAID, A's address, the renewal time passed): it confirms and renews A's
#   lease. dnsmasq then reports B's MAC for it; netd keeps A's MAC on the lease (and logs it), A
#   still pings the gateway from its address, B's ping from it is dropped.
# - Release and Decline: B ends A's lease with A's DUID, IAID and address (a Release, then a
#   Decline), then asks for A's address with a DUID of its own: no answer to either, no address for
#   B, A's lease keeps A's MAC, A still pings the gateway from it, B's ping from it is dropped.
# - Relay-forward: B sends a DHCPv6 Relay-forward (type 12) naming guest V's MAC (option 79, V has
#   a reservation) around a Solicit (and a Request when answered), to ff02::1:2 and to the
#   gateway's address, and from port 546 to the address dnsmasq's Advertise to B's own Solicit came
#   from (established in conntrack): no answer, no lease for V's MAC, B's port may send from nothing
#   more.
# - Renew/Rebind with a short lifetime: A's own Renew updates its lease's expiry in netd
#   (script-on-renewal); B renews and rebinds A's lease with A's DUID and a 60 s lifetime (dnsmasq
#   answers 120 s, its floor): netd's lease stays as it was. Then, as the lease events dnsmasq
#   sends (its 120 s floor would make a real run over 2 min): dnsmasq's early end of the lease and
#   B's lease of the address under its own DUID: the lease stays A's (its expiry too) until the
#   expiry A was given; then another lease of it replaces it.
# - DUID-LL with A's MAC from a guest dnsmasq knows no MAC for: the leases are nobody's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ipv6-lib.sh"
. "$(dirname "$0")/tap-guest-lib.sh"
need dnsmasq dhclient python3 nft
CRAFT="$TESTS_LIB_DIR/craft.py"

MAC_A=52:54:00:71:00:0a MAC_B=52:54:00:71:00:0b MAC_V=52:54:00:71:00:0e
start_netd_tap_guests
ctl network create d6 --mode nat --subnet 10.171.0.0/24 --subnet6 fd00:171::/64 --ipv6-mode dhcpv6 \
	--dhcp6-range fd00:171::100-fd00:171::1ff --host "$MAC_V,fd00:171::50" >/dev/null || fail "create d6"
tap_guest A $MAC_A d6
tap_guest B $MAC_B d6
assert_eq "$(ctl --json vm show A | jq -r '.nics[0].security')" on "A's port security"

# in_port6 PORT ADDR: whether PORT may send from ADDR (netd's bridge table).
in_port6() { port_set_json port_ip6 | jq -e --arg p "$1" --arg a "$2" 'index([[$p, $a]]) != null' >/dev/null; }
# lease_mac ADDR: the MAC netd's lease table has for ADDR.
lease_mac() { ctl --json network leases d6 | jq -r --arg a "$1" '.[] | select(.ip == $a) | .mac'; }
# ping_from GUEST ADDR: "ok" when GUEST's ping of the gateway from ADDR is answered.
ping_from() { gx "$1" ping -6 -c2 -i0.3 -W1 -I "$2" fd00:171::1 >/dev/null 2>&1 && echo ok || echo dropped; }

dhclient6 A
a=$(wait_event A '^bound ' | sed 's/.* ip=\([^ ]*\).*/\1/')
for _ in $(seq 50); do in_port6 vm-A-0 "$a" && break; sleep 0.1; done
in_port6 vm-A-0 "$a" || fail "A's lease $a is not allowed on its port: $(port_set_json port_ip6)"
assert_eq "$(lease_mac "$a")" $MAC_A "the MAC of A's lease"
for _ in $(seq 50); do [ -n "$(default6 A)" ] && break; sleep 0.1; done
assert_eq "$(ping_from A "$a")" ok "A's ping of the gateway from $a"
ok "A leased $a by DHCPv6 (DUID $(ctl --json network leases d6 | jq -r --arg a "$a" '.[] | select(.ip == $a) | .duid')) and pings the gateway from it"

# B ends A's lease with a Release, then a Decline, with A's DUID, IAID and address (seen in A's
# multicast Solicits; here from netd's lease table), and each time asks for A's address with a
# DUID of its own.
a_duid=$(ctl --json network leases d6 | jq -r --arg a "$a" '.[] | select(.ip == $a) | .duid')
a_iaid=$(ctl --json network leases d6 | jq -r --arg a "$a" '.[] | select(.ip == $a) | .iaid')
for t in release decline; do
	assert_eq "$(gx B python3 "$CRAFT" dhcp6-release eth0 $t "$a_duid" "$a_iaid" "$a")" none \
		"the answer to B's $t of A's lease $a"
	got=$(gx B python3 "$CRAFT" dhcp6-request eth0 "$a")
	case "$got " in
	replied*" $a "*) fail "B leased A's $a after its $t: $got" ;;
	replied*) ;;
	*) fail "no Reply to B's Request of $a after its $t: $got" ;;
	esac
done
gx B ip -6 addr add "$a/128" dev eth0 nodad
assert_eq "$(ping_from B "$a")" dropped "B's ping of the gateway from A's $a after its Release and Decline"
gx B ip -6 addr del "$a/128" dev eth0
assert_eq "$(lease_mac "$a")" $MAC_A "the MAC of $a in netd's lease table after B's Release and Decline"
in_port6 vm-B-0 "$a" && fail "B's port may send from A's $a: $(port_set_json port_ip6)"
in_port6 vm-A-0 "$a" || fail "A's port may no longer send from $a: $(port_set_json port_ip6)"
assert_eq "$(ping_from A "$a")" ok "A's ping of the gateway from $a after B's Release and Decline"
ok "B's Release and Decline of A's lease $a (A's DUID, IAID) got no answer, its Request of $a no address"

# B: A's lease file, its lease 1900 s old (renew at 1800, rebind at 3150, valid 3600).
kill "$(cat "$T/A.dhclient.pid")" 2>/dev/null || true # A keeps its address; no renewal of its own
now=$(date +%s)
sed "s/starts [0-9]*;/starts $((now - 1900));/" "$T/A.lease6" >"$T/B.lease6"
grep -q 'default-duid' "$T/B.lease6" || fail "no default-duid in A's lease file: $(cat "$T/A.lease6")"
dhclient6 B
wait_event B "^bound ip=$a " >/dev/null
# dnsmasq's event of B's renewal (its script runs after the reply): netd's second event of $a.
for _ in $(seq 100); do [ "$(grep -c "network 'd6': lease [a-z]* duid [0-9a-f:]* $a\$" "$T/netd.log")" -ge 2 ] && break; sleep 0.05; done
assert_eq "$(grep -c "network 'd6': lease [a-z]* duid [0-9a-f:]* $a\$" "$T/netd.log")" 2 "netd's lease events of $a"
ok "B renewed A's lease $a with A's DUID and IAID"
assert_eq "$(lease_mac "$a")" $MAC_A "the MAC of $a in netd's lease table after B's renewal"
in_port6 vm-B-0 "$a" && fail "B's port may send from A's $a: $(port_set_json port_ip6)"
in_port6 vm-A-0 "$a" || fail "A's port may no longer send from $a: $(port_set_json port_ip6)"
assert_eq "$(ping_from B "$a")" dropped "B's ping of the gateway from A's $a"
assert_eq "$(ping_from A "$a")" ok "A's ping of the gateway from $a after B's renewal"
grep -q "DHCPv6 lease $a stays with the MAC it had, its expiry and client too; dnsmasq reports $MAC_B" "$T/netd.log" ||
	fail "no warning of B's renewal of $a in netd's log"
ok "netd keeps $MAC_A on lease $a (and logged dnsmasq's $MAC_B): A still pings from it, B's ping from it is dropped"
kill "$(cat "$T/B.dhclient.pid")" 2>/dev/null || true
gx B ip -6 addr del "$a/128" dev eth0

# Relay-forward from B, naming V's MAC (reserved fd00:171::50), to the multicast and the gateway.
b_ll=$(gx B ip -j -6 addr show dev eth0 scope link | jq -r '.[0].addr_info[0].local')
before=$(ctl --json network leases d6 | jq -c '[.[] | select(.ip | test(":")) | {mac, ip, duid, iaid}] | sort_by(.ip)')
for dst in ff02::1:2 fd00:171::1; do
	[ "$dst" = fd00:171::1 ] && gx B ip -6 route replace fd00:171::1/128 dev eth0
	assert_eq "$(gx B python3 "$CRAFT" dhcp6-relay eth0 "$dst" fd00:171:: $MAC_V)" none \
		"the answer to B's Relay-forward naming $MAC_V, sent to $dst"
done
# From port 546 to the bridge's link-local address an Advertise to B's own Solicit came from: the
# Advertise's conntrack entry makes the Relay-forward an established datagram.
assert_eq "$(gx B python3 "$CRAFT" dhcp6-relay-546 eth0 fd00:171:: $MAC_V)" none \
	"the answer to B's Relay-forward naming $MAC_V, sent from port 546 to where B's Advertise came from"
after=$(ctl --json network leases d6 | jq -c '[.[] | select(.ip | test(":")) | {mac, ip, duid, iaid}] | sort_by(.ip)')
assert_eq "$after" "$before" "DHCPv6 leases after B's Relay-forwards"
[ -z "$(ctl --json network leases d6 | jq -r --arg m $MAC_V '.[] | select(.mac == $m) | .ip')" ] ||
	fail "a lease for $MAC_V: $(ctl --json network leases d6)"
assert_eq "$(port_set_json port_ip6 | jq -c '[.[] | select(.[0] == "vm-B-0") | .[1]]')" "[\"$b_ll\"]" \
	"the IPv6 addresses B's port may send from"
ok "B's Relay-forwards naming $MAC_V (to ff02::1:2, fd00:171::1, from port 546 to where its Advertise came" \
	"from) got no answer, no lease, no address"

# The lease events dnsmasq sends when B renews (or rebinds) A's lease with A's DUID and IAID and a
# short lifetime, then takes A's address once dnsmasq has ended it (dnsmasq 2.90 takes a client's
# lower lifetime, 120 s at least: a real run takes over 2 min; here the events, as netd-lease-event
# sends them, as root). lease_event ACTION IP MAC|"" DUID IAID EXPIRES [HOSTNAME]
lease_event() {
	local mac=${3:+", \"mac\": \"$3\""} host=${7:+", \"hostname\": \"$7\""} reply
	reply=$(raw_request "{\"method\": \"lease.event\", \"params\": {\"network\": \"d6\", \"action\": \"$1\", \"ip\": \"$2\"$mac, \"duid\": \"$4\", \"iaid\": \"$5\", \"expires\": \"$6\"$host}}")
	jq -e 'has("error") | not' <<<"$reply" >/dev/null || fail "lease event $1 $2: $reply"
}
lease_json() { ctl --json network leases d6 | jq -c --arg a "$1" '.[] | select(.ip == $a) | del(.expires_in)'; }
B_DUID=00:02:00:00:ab:11:00:00:00:0b
now=$(date +%s)
a_was=$(lease_json "$a")
# A's own Renew (dnsmasq runs the script at every renewal: script-on-renewal) brings its expiry
# up to date in netd: the expiry up to which netd keeps the address A's when dnsmasq ends it early.
events() { grep -c "network 'd6': lease [a-z]* duid [0-9a-f:]* $a\$" "$T/netd.log"; }
# wait_events N: until netd has logged N lease events of $a.
wait_events() {
	for _ in $(seq 100); do [ "$(events)" -ge "$1" ] && break; sleep 0.05; done
	assert_eq "$(events)" "$1" "netd's lease events of $a"
}
# Twice: the first also brings back A's MAC, which B's renewal above made dnsmasq's (a changed MAC
# runs the script anyway); the second changes the expiry alone.
for _ in 1 2; do
	sleep 1 # another second: another expiry
	n_ev=$(events)
	got=$(gx A python3 "$CRAFT" dhcp6-renew eth0 renew "$a_duid" "$a_iaid" "$a" 7200)
	[ "${got#replied "$a"/}" != "$got" ] || fail "no Reply to A's Renew of its $a: $got"
	wait_events $((n_ev + 1))
	[ "$(lease_json "$a" | jq .expires)" -gt "$(jq .expires <<<"$a_was")" ] ||
		fail "A's Renew of $a left its expiry in netd as it was: $(lease_json "$a") (was $a_was)"
	a_was=$(lease_json "$a")
done
# B's Renew, then Rebind, of A's lease with A's DUID and IAID and a lifetime of 60 s: dnsmasq
# shortens the lease (to its floor of 120 s) and reports it with B's MAC; netd's lease stays as it
# was.
for t in renew rebind; do
	sleep 1 # another second: another expiry, another event
	n_ev=$(events)
	got=$(gx B python3 "$CRAFT" dhcp6-renew eth0 $t "$a_duid" "$a_iaid" "$a" 60)
	case "$got" in
	"replied $a/120/120") ;;
	*) fail "dnsmasq's Reply to B's $t of A's $a with a 60 s lifetime: '$got' (expected $a/120/120)" ;;
	esac
	wait_events $((n_ev + 1))
	assert_eq "$(lease_json "$a")" "$a_was" "A's lease $a after B's $t with a 60 s lifetime"
done
ok "A's Renew of $a updated its expiry in netd; B's Renew and Rebind of it (dnsmasq: lifetime 120 s" \
	"now) changed nothing of netd's lease"
now=$(date +%s)
lease_event old "$a" $MAC_B "$a_duid" "$a_iaid" $((now + 120)) bee
assert_eq "$(lease_json "$a")" "$a_was" "A's lease $a after B's renewal with a 120 s lifetime"
lease_event del "$a" "" "$a_duid" "$a_iaid" $((now + 120))
assert_eq "$(lease_json "$a" | jq -c 'del(.ended)')" "$a_was" "A's lease $a after dnsmasq ended it early"
assert_eq "$(lease_json "$a" | jq -r .ended)" true "A's lease $a ended early"
ctl network leases d6 | grep -F " $a " | has "dynamic, ended$" ||
	fail "network leases does not say $a ended: $(ctl network leases d6)"
lease_event add "$a" $MAC_B "$B_DUID" 1 $((now + 3600)) bee
assert_eq "$(lease_mac "$a")" $MAC_A "the MAC of $a after B leased it under its own DUID"
in_port6 vm-B-0 "$a" && fail "B's port may send from A's $a: $(port_set_json port_ip6)"
in_port6 vm-A-0 "$a" || fail "A's port may no longer send from $a: $(port_set_json port_ip6)"
gx B ip -6 addr add "$a/128" dev eth0 nodad
assert_eq "$(ping_from B "$a")" dropped "B's ping of the gateway from A's $a after its lease of it"
gx B ip -6 addr del "$a/128" dev eth0
assert_eq "$(ping_from A "$a")" ok "A's ping of the gateway from $a after B's lease of it"
ok "B's renewal of A's $a with a short lifetime changed nothing of it; after dnsmasq's early end, B's lease" \
	"of $a left it A's"
# Once the expiry A was given has passed, the address is anyone's to lease.
c=fd00:171::1f0 now=$(date +%s)
lease_event add $c $MAC_A "$a_duid" 9 $((now + 3))
lease_event del $c "" "$a_duid" 9 $((now + 3))
lease_event add $c $MAC_B "$B_DUID" 9 $((now + 3600))
assert_eq "$(lease_mac $c)" $MAC_A "the MAC of $c, ended early, B's lease before its expiry"
while [ "$(date +%s)" -le $((now + 3)) ]; do sleep 0.2; done
lease_event add $c $MAC_B "$B_DUID" 9 $((now + 3600))
assert_eq "$(lease_mac $c)" $MAC_B "the MAC of $c, ended early, B's lease after its expiry"
assert_eq "$(lease_json $c | jq -r .ended)" null "$c ended, after B's lease"
in_port6 vm-B-0 $c || fail "B's port may not send from its $c: $(port_set_json port_ip6)"
in_port6 vm-A-0 $c && fail "A's port may still send from $c: $(port_set_json port_ip6)"
ok "a lease ended early is its owner's until its expiry, then another's"

# A neighbour-silent B (dnsmasq finds no MAC for it) leases under DUID-LLs holding A's MAC, each
# newer than A's lease: they are nobody's, A's port keeps its lease, vm show A lists none of them.
for i in $(seq 9); do
	lease_event add fd00:171::1e$i "" "00:03:00:01:$MAC_A" $i $((now + 7200))
done
in_port6 vm-A-0 "$a" || fail "A's port lost its lease $a to leases under DUID-LLs with its MAC: $(port_set_json port_ip6)"
[ -z "$(port_set_json port_ip6 | jq -r '.[] | select(.[1] | startswith("fd00:171::1e")) | .[0]')" ] ||
	fail "a port may send from a lease under a DUID-LL: $(port_set_json port_ip6)"
ctl --json vm show A | jq -e '[.nics[0].ipv6[]?.address | select(startswith("fd00:171::1e"))] | length == 0' >/dev/null ||
	fail "vm show A lists leases under DUID-LLs with its MAC: $(ctl --json vm show A | jq -c '.nics[0].ipv6')"
assert_eq "$(ping_from A "$a")" ok "A's ping of the gateway from $a after B's DUID-LL leases"
ok "leases under DUID-LLs with A's MAC, dnsmasq knowing no MAC, count for no port and no vm show"
