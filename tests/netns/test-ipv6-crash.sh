#!/usr/bin/env bash
# netd survives its own crash over IPv6 too (issue 14), on a dual-stack nat network whose ULA
# prefix leaves through NAT66 to an upstream namespace, with a SLAAC guest (s1) and a DHCPv6 guest
# (e1, dhclient -6) whose DUID is a DUID-EN (no MAC inside it). e1 is behind a TAP of netd's own
# (tap-guest-lib.sh) with port security full: it may send only from the addresses netd allows.
# - kill -9 of netd while s1 (SLAAC) and e1 (from its DHCPv6 lease) ping upstream over IPv6 at
#   100 Hz: no ping lost; the table, dnsmasq, e1's QEMU and the leases adopted;
# - e1's lease keeps its MAC (which port security pins its address to) across the kill -9 and
#   restart: dnsmasq's lease file has no MAC for IPv6 and dnsmasq reports none when it starts again
#   ("old" without DNSMASQ_MAC); netd's own record, lease6-macs (root's, 0600), has it. Also across
#   a restart of dnsmasq, and a record that is not root's alone is not believed;
# - e1 still reaches its gateway and upstream from its leased address (its port allows it), and a
#   made-up address of the prefix does not get through (the filter is there);
# - nft flush ruleset while s1 pings upstream: table inet netd back within a second, NAT66 again,
#   and e1's port filtered and allowed its leased address again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ipv6-lib.sh"
. "$(dirname "$0")/tap-guest-lib.sh"
need nft dnsmasq dhclient socat python3

# Upstream: up0 (2001:db8:50::2) to a namespace (2001:db8:50::1) that answers TCP 7000 with the
# peer's address.
upstream6
ip netns exec "$UP" socat -U -T 2 TCP6-LISTEN:7000,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' &
BG_PIDS+=($!)
# peer6 NAME: the address upstream sees when the guest connects to it over IPv6.
peer6() {
	gx "$1" socat -T 3 - TCP6:[2001:db8:50::1]:7000 </dev/null 2>/dev/null | tr -d '[]' |
		python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.stdin.read().strip()))'
}

# Plain tables (--nft-table-flags none), which another process can flush: the flush below tests
# their re-apply (owned tables: test-fw-owner.sh).
start_netd_tap_guests --nft-table-flags none
# netd adopts a running QEMU whose /proc/PID/exe is its --qemu binary: the stand-in's ($T/qemu,
# tap-guest-lib.sh), which the restarted netd is given again (it starts no new guest).
restart_netd() { start_netd --qemu "$QEMU_EXE" --qemu-user root --nft-table-flags none; }
ctl network create dual --mode nat --subnet 10.171.0.0/24 --subnet6 fd00:171::/64 --ipv6-mode slaac+dhcpv6 \
	--dhcp6-range fd00:171::100-fd00:171::1ff >/dev/null || fail "create dual"
MAC_E=52:54:00:71:00:0e
DUID_E=00:02:00:00:ab:11:de:ad:be:ef:00:71 # DUID-EN: enterprise 0xab11, an identifier
guest6 s1 52:54:00:71:00:01 nd-dual
tap_guest e1 $MAC_E dual
QEMU_EXE=$(readlink -f "/proc/$(cat "$T/run/guests/e1/pid")/exe")
assert_eq "$(ctl --json vm show e1 | jq -r '.nics[0].security')" on "e1's port security"
dhclient6 e1 $DUID_E
a=$(wait_addr6 s1 ^fd00:171:)
for _ in $(seq 50); do [ -n "$(default6 s1)" ] && break; sleep 0.1; done
assert_eq "$(peer6 s1)" 2001:db8:50::2 "the address upstream sees of s1 (NAT66)"
wait_event e1 '^bound ' >/dev/null
ip_e=$(sed -n 's/^bound ip=\([^ ]*\).*/\1/p' "$T/e1.events" | tail -n1)
[[ $ip_e =~ ^fd00:171::1[0-9a-f][0-9a-f]$ ]] || fail "e1: $ip_e is not from the range"
ok "s1 has $a (SLAAC) and reaches upstream as 2001:db8:50::2; e1 leased $ip_e by DHCPv6 (DUID-EN)"

# lease_mac: the MAC 'network leases' gives e1's DHCPv6 lease ("null" when netd does not know it).
lease_mac() { ctl --json network leases dual | jq -r --arg a "$ip_e" '.[] | select(.ip == $a) | .mac'; }
for _ in $(seq 50); do [ "$(lease_mac)" = $MAC_E ] && break; sleep 0.1; done
assert_eq "$(lease_mac)" $MAC_E "the MAC of e1's lease (from dnsmasq's lease event)"
assert_eq "$(ctl --json network leases dual | jq -r --arg a "$ip_e" '.[] | select(.ip == $a) | .duid')" $DUID_E \
	"the DUID of e1's lease"
MACS="$T/lib/networks/dual/lease6-macs"
assert_eq "$(stat -c '%U %a' "$MACS")" "root 600" "owner and mode of $MACS"
grep -qxF "$ip_e $MAC_E $DUID_E $(jq -r --arg a "$ip_e" '.[] | select(.ip == $a) | .iaid' <<<"$(ctl --json network leases dual)")" \
	"$MACS" || fail "e1's lease is not recorded in $MACS: $(cat "$MACS")"
ok "e1's lease has its MAC $MAC_E (a DUID-EN has none); netd recorded it in lease6-macs (root, 0600)"

# send_from_lease: e1 pings its gateway and upstream from its leased address (its port's
# port_ip6 has it).
in_port_ip6() { port_set_json port_ip6 | jq -e --arg a "$ip_e" 'index([["vm-e1-0", $a]]) != null' >/dev/null; }
send_from_lease() {
	in_port_ip6 || fail "e1's port may not send from $ip_e ($1): $(port_set_json port_ip6)"
	gx e1 ping -6 -c1 -W2 -I "$ip_e" fd00:171::1 >/dev/null || fail "e1 cannot ping fd00:171::1 from $ip_e ($1)"
	gx e1 ping -6 -c1 -W2 -I "$ip_e" 2001:db8:50::1 >/dev/null || fail "e1 cannot ping upstream from $ip_e ($1)"
}
for _ in $(seq 50); do [ -n "$(default6 e1)" ] && break; sleep 0.1; done # the RA's route
for _ in $(seq 50); do in_port_ip6 && break; sleep 0.1; done
send_from_lease "before the crash"
# The filter is real: a made-up address of the prefix gets nowhere.
gx e1 ip -6 addr add fd00:171::bad/128 dev eth0 nodad
gx e1 ping -6 -c1 -W1 -I fd00:171::bad fd00:171::1 >/dev/null 2>&1 && fail "e1 pinged from a made-up address"
ok "e1's port (security on) lets it send from $ip_e only: gateway and upstream answer, fd00:171::bad is dropped"

# kill -9 of netd while s1 pings upstream over IPv6 at 100 Hz.
pid=$(ctl --json network show dual | jq -r .dhcp.dnsmasq_pid)
leases=$(ctl --json network leases dual | jq -c 'map({mac, ip, duid}) | sort_by(.ip)')
handle=$(nsx nft -a list table inet netd | sed -n 1p)
gx s1 ping -6 -i 0.01 -c 300 -W 1 2001:db8:50::1 >"$T/ping-kill" 2>&1 &
PING=$!
gx e1 ping -6 -i 0.01 -c 300 -W 1 -I "$ip_e" 2001:db8:50::1 >"$T/ping-kill-e1" 2>&1 &
PING_E=$!
sleep 0.5
kill9_netd
sleep 0.5
: >"$T/netd.log"
restart_netd
wait "$PING" || true
wait "$PING_E" || true
grep -q " 0% packet loss" "$T/ping-kill" || fail "s1's IPv6 pings lost across kill -9: $(tail -n2 "$T/ping-kill")"
grep -q " 0% packet loss" "$T/ping-kill-e1" ||
	fail "e1's IPv6 pings from its lease lost across kill -9: $(tail -n2 "$T/ping-kill-e1")"
grep -q "guest 'e1': adopted running QEMU" "$T/netd.log" || fail "e1's QEMU (stand-in) not adopted"
assert_eq "$(ctl --json network show dual | jq -r .dhcp.dnsmasq_pid)" "$pid" "dnsmasq pid after restart"
grep -q "adopted nftables table inet netd" "$T/netd.log" || fail "table not adopted"
assert_eq "$(nsx nft -a list table inet netd | sed -n 1p)" "$handle" "table handle after restart (re-created?)"
assert_eq "$(ctl --json network leases dual | jq -c 'map({mac, ip, duid}) | sort_by(.ip)')" "$leases" \
	"leases after restart"
assert_eq "$(lease_mac)" $MAC_E "the MAC of e1's lease after kill -9 and restart"
send_from_lease "after kill -9 and restart"
ok "kill -9 of netd: $(grep -o '[0-9]* received' "$T/ping-kill") of 300 IPv6 pings (s1, SLAAC) and $(grep -o '[0-9]* received' "$T/ping-kill-e1") of 300 (e1, from its DHCPv6 lease through its filtered port), table adopted, dnsmasq $pid kept, leases intact (e1's with its MAC)"

# dnsmasq dies: netd starts it again and reads the lease file back; dnsmasq then reports e1's
# lease as "old" without a MAC.
kill -9 "$pid"
for _ in $(seq 100); do
	new=$(ctl --json network show dual | jq -r '.dhcp.dnsmasq_pid // empty')
	[ -n "$new" ] && [ "$new" != "$pid" ] && [ "$new" != null ] && break
	sleep 0.05
done
[ "$new" != "$pid" ] || fail "dnsmasq not restarted"
for _ in $(seq 50); do grep -q "lease old duid $DUID_E $ip_e" "$T/netd.log" && break; sleep 0.1; done
grep -q "lease old duid $DUID_E $ip_e" "$T/netd.log" || fail "the new dnsmasq did not report e1's lease"
assert_eq "$(lease_mac)" $MAC_E "the MAC of e1's lease after a dnsmasq restart"
send_from_lease "after a dnsmasq restart"
ok "dnsmasq killed and restarted ($new): e1's lease keeps its MAC"

# nft flush ruleset (someone else's firewall reload) while s1 pings upstream over IPv6.
gx s1 ping -6 -i 0.01 -c 300 -W 1 2001:db8:50::1 >"$T/ping-flush" 2>&1 &
PING=$!
sleep 0.5
nsx nft flush ruleset
t0=$(date +%s%N)
back=
for _ in $(seq 1 200); do
	if grep -qw 'fd00:171::' <<<"$(nsx nft list set inet netd masq6_64 2>/dev/null)"; then
		back=$((($(date +%s%N) - t0) / 1000000))
		break
	fi
	sleep 0.005
done
[ -n "$back" ] || fail "table inet netd not back after nft flush ruleset"
[ "$back" -lt 1000 ] || fail "table back only after $back ms"
wait "$PING" || true
grep -q "was removed by another process; re-applying it" "$T/netd.log" || fail "re-apply not logged"
assert_eq "$(peer6 s1)" 2001:db8:50::2 "NAT66 after the flush"
for _ in $(seq 50); do port_set_json port_ip6 | has . && in_port_ip6 && break; sleep 0.02; done
grep -q "table bridge netd was removed by another process; re-applying it" "$T/netd.log" ||
	fail "port security's table not re-applied"
send_from_lease "after nft flush ruleset"
gx e1 ping -6 -c1 -W1 -I fd00:171::bad fd00:171::1 >/dev/null 2>&1 && fail "e1 pinged from a made-up address after the flush"
ok "nft flush ruleset: table inet netd back within $back ms ($(grep -oE '[0-9.]+% packet loss' "$T/ping-flush") during it), NAT66 again, e1's port filtered and allowed $ip_e again"

# A record that is not root's alone is not believed: without it netd would not know the MAC.
kill9_netd
chmod 0644 "$MACS"
: >"$T/netd.log"
restart_netd
grep -q "ignoring $MACS: not root's alone" "$T/netd.log" || fail "a group- or world-readable record was believed"
assert_eq "$(lease_mac)" null "the MAC of e1's lease after a restart without a record netd believes"
in_port_ip6 && fail "e1's port may send from $ip_e with no MAC known for its lease"
gx e1 ping -6 -c1 -W1 -I "$ip_e" fd00:171::1 >/dev/null 2>&1 && fail "e1 pinged from $ip_e with no MAC known for its lease"
assert_eq "$(stat -c '%a' "$MACS")" 600 "the record is written anew"
ok "a lease6-macs that others could read or write is ignored: e1's lease has no MAC, and its port drops $ip_e (what a restart did before netd kept the record)"
