#!/usr/bin/env bash
# DHCP across hosts (mode evpn, three hosts of evpn-lib.sh with FRR's BGP EVPN, h1 the route
# reflector): each host's dnsmasq answers its own guests and holds reservations for the guests
# EVPN places on the others (the bridge's extern_learn neighbours zebra installs).
# - g1 (busybox udhcpc) gets a lease from h1; h2 and h3 then list it as a remote guest at h1's
#   VTEP (network leases, network show's count, the dnsmasq hosts file NAME.remote);
# - g1 moves to h2 (its port deleted on h1, a new one on h2 with the same MAC): its renewal
#   (udhcpc's SIGUSR1) is ACKed there with the same address, never NAKed; h3 and h1 then list it
#   at h2's VTEP;
# - h3 never offers g1's address: two new guests on h3 fill the range of three addresses with the
#   other two, and a third gets no offer (g1 ignores pings: dnsmasq's ping check cannot see it).
# shellcheck disable=SC2154 # GNS_g1: evpn_guest sets it (eval)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn-lib.sh"
need busybox jq python3

M1=52:54:00:77:00:01
evpn_underlay 3

# FRR started empty in each host (side by side): each netd writes and applies its configuration
# (evpn_args: h1 the route reflector, h2 and h3 its clients).
evpn_frr_start_all 3
for i in 1 2 3; do
	# shellcheck disable=SC2046 # evpn_args' words on purpose
	evpn_netd_start "$i" $(evpn_args "$i")
	hctl "$i" network create span --mode evpn --vni 100 --subnet 10.77.0.0/24 \
		--dhcp-range 10.77.0.10-10.77.0.12 >/dev/null
	grep -q "^dhcp-hostsfile=$T/h$i/run/dnsmasq/span.remote\$" "$T/h$i/run/dnsmasq/span.conf" ||
		fail "h$i's dnsmasq config does not name span.remote"
done
wait_sessions 1 $'192.0.2.2 Established\n192.0.2.3 Established'
# (and as h2's and h3's netd saw it last: a network is degraded while a session is not up)
for i in 2 3; do wait_sessions "$i" "192.0.2.1 Established"; done

# remote_at I MAC VTEP: wait up to 10 s until host I's network leases list MAC as a remote guest
# at VTEP; prints its address.
remote_at() {
	# shellcheck disable=SC2016 # jq's variables
	local q='[.[] | select(.mac == $m and .type == "remote" and .vtep == $v)] | .[0].ip // empty'
	for _ in $(seq 1 100); do
		ip=$(hctl "$1" --json network leases span | jq -r --arg m "$2" --arg v "$3" "$q")
		[ -n "$ip" ] && { echo "$ip"; return 0; }
		sleep 0.1
	done
	fail "h$1 does not list $2 as a remote guest at $3: $(hctl "$1" network leases span)"
}

evpn_guest 1 g1 nd-span "$M1"
SOCK="$T/h1/run/netd.sock" NETWORK=span dhcp_client g1
ip1=$(guest_ip g1)
case "$ip1" in 10.77.0.1[012]) ;; *) fail "g1's lease from h1: '$ip1'" ;; esac
# The guest's ARP for its gateway gives zebra its MAC and address (type-2 route with the IP).
gx g1 ping -c1 -W2 10.77.0.1 >/dev/null || fail "g1 cannot reach its gateway"
for i in 2 3; do
	assert_eq "$(remote_at "$i" "$M1" 192.0.2.1)" "$ip1" "h$i's remote guest $M1"
	# (netd writes the file 100 ms after the neighbour's event; leases read the kernel at once)
	poll 5 has -Fx "$M1,$ip1" "$T/h$i/run/dnsmasq/span.remote" ||
		fail "h$i's span.remote: $(cat "$T/h$i/run/dnsmasq/span.remote")"
	[ "$(hctl "$i" --json network show span | jq -r .dhcp.remote_guests)" -ge 1 ] ||
		fail "h$i's network show counts no remote guest"
done
hctl 3 network leases span | has -E "^$M1 +$ip1 +- +- +remote at 192.0.2.1$" || fail "h3's leases table: $(hctl 3 network leases span)"
ok "g1 leased $ip1 from h1; h2 and h3 hold it as a remote guest at 192.0.2.1 (leases, show, span.remote)"

# The move: g1's port gone on h1, a new one on h2 (same MAC and address), then udhcpc renews.
hx 1 ip link del vg1
hx 2 ip link add vg1 type veth peer name eth0 netns "$GNS_g1"
hx 2 ip link set vg1 master nd-span up
gx g1 ip link set eth0 address "$M1" up
gx g1 ip addr add "$ip1/24" dev eth0
kill -USR1 "$(cat "$T/g1.udhcpc.pid")"
renew=$(wait_event g1 '^renew ')
assert_eq "$(sed 's/.* ip=\([^ ]*\).*/\1/' <<<"$renew")" "$ip1" "g1's address renewed on h2"
grep -q "DHCPACK(nd-span) $ip1 $M1" "$T/h2/netd.log" || fail "h2's dnsmasq did not ACK g1's renewal"
! grep -q "DHCPNAK(nd-span) $ip1 $M1" "$T/h2/netd.log" || fail "h2's dnsmasq NAKed g1's renewal"
gx g1 ping -c1 -W2 10.77.0.1 >/dev/null || fail "g1 cannot reach its gateway on h2"
assert_eq "$(remote_at 3 "$M1" 192.0.2.2)" "$ip1" "h3's remote guest $M1 after the move"
assert_eq "$(remote_at 1 "$M1" 192.0.2.2)" "$ip1" "h1's remote guest $M1 after the move"
ok "g1 moved to h2: its renewal ACKed there with $ip1 (no NAK); h3 and h1 list it at 192.0.2.2"

# h3 fills the range (10.77.0.10-12) with two new guests; a third gets nothing, g1's address never.
# g1 ignores pings: dnsmasq's ping before an offer cannot find it, only the reservation keeps it.
gx g1 sysctl -qw net.ipv4.icmp_echo_ignore_all=1
evpn_guest 3 n1 nd-span 52:54:00:77:00:31
evpn_guest 3 n2 nd-span 52:54:00:77:00:32
SOCK="$T/h3/run/netd.sock" NETWORK=span dhcp_client n1
SOCK="$T/h3/run/netd.sock" NETWORK=span dhcp_client n2
a=$(guest_ip n1)
b=$(guest_ip n2)
for x in "$a" "$b"; do
	case "$x" in 10.77.0.1[012]) ;; *) fail "a lease on h3 out of the range: '$x'" ;; esac
	[ "$x" != "$ip1" ] || fail "h3 gave g1's address $ip1 to a new guest"
done
[ "$a" != "$b" ] || fail "h3 gave $a twice"
evpn_guest 3 n3 nd-span 52:54:00:77:00:33
assert_eq "$(gx n3 python3 "$TESTS_DIR/netns/dhcp-offers.py" eth0 52:54:00:77:00:33 4)" 0 \
	"offers to a third new guest on h3 with the range full"
! grep -q "DHCPOFFER(nd-span) $ip1 " "$T/h3/netd.log" || fail "h3's dnsmasq offered g1's address $ip1"
ok "h3's new guests got $a and $b, a third none: g1's $ip1 never offered on h3"
