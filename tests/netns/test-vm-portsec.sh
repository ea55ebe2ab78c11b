#!/usr/bin/env bash
# Port security with real QEMU guests (TCG), as netd runs it (test-portsec-rules.sh has every
# attack against the rules themselves):
# - a guest's TAP is in "table bridge netd" with its MAC before QEMU starts; its lease's address
#   is added when dnsmasq reports the lease, within 50 ms (netd's log), before anyone else hears
#   of the lease;
# - the guest's ping from an address it was not given (spoof=) fails; with --nic-security off
#   the same ping gets through (the attack is real);
# - a reservation added while it runs is allowed at once; after a move to another network and
#   back the guest gets the reserved address and uses it;
# - every TAP (--nic-security off too) is kept from the host's own stack: IPv6 off on it, and in
#   table inet netd_ports; a network with running guests refuses to stop (--force stops it, and
#   starting it again plugs the guests back); set-network refuses a
#   MAC another guest pins on the target network; on a network without DHCP the guest may use the
#   subnet's host addresses but not the gateway's;
# - kill -9 and restart of netd keep the entries; QEMU gone -> the entries go.
. "$(dirname "$0")/lib.sh"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] || skip "qemu-system-x86_64 missing"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
command -v nft >/dev/null || skip "nft missing"
guest_image

start_netd
ctl network create n1 --mode nat --subnet 10.85.0.0/24 >/dev/null
ctl network create n2 --mode nat --subnet 10.86.0.0/24 >/dev/null
# in_set SET ELEMENT: whether netd's bridge table has it (elements as nft -j prints them).
set_json() { nsx nft -j list set bridge netd "$1" 2>/dev/null | jq -c '[.nftables[] | select(.set) | .set.elem // [] | .[] | (.concat? // .)]'; }
in_set() { set_json "$1" | jq -e --argjson e "$2" 'index([$e]) != null' >/dev/null; }
M1=52:54:00:85:00:01 M2=52:54:00:85:00:02

ctl vm create g1 --network n1 --mac $M1 --memory 256M --kernel "$KERNEL" --initrd "$INITRD" \
	--append "console=ttyS0 quiet spoof=10.85.0.200" --accel tcg >/dev/null
ctl vm create g2 --network n1 --mac $M2 --memory 256M --kernel "$KERNEL" --initrd "$INITRD" \
	--append "console=ttyS0 quiet spoof=10.85.0.201" --accel tcg --nic-security off >/dev/null
in_set port_mac "[\"vm-g1-0\",\"$M1\"]" || fail "g1's TAP and MAC are not in port_mac: $(set_json port_mac)"
in_set ports '"vm-g2-0"' && fail "g2 (--nic-security off) is filtered"
assert_eq "$(ctl --json vm show g1 | jq -r '.nics[0].security')" on "g1's port security"
assert_eq "$(ctl --json vm show g2 | jq -r '.nics[0].security')" off "g2's port security"
ok "g1's TAP vm-g1-0 is filtered with its MAC from the start; g2 (--nic-security off) is not"

ip1=$(wait_serial g1 '^LEASE 10\.85\.0\.' | sed 's/LEASE \([^/]*\).*/\1/')
wait_serial g1 '^GATEWAY-PING ok' >/dev/null
in_set port_ip4 "[\"vm-g1-0\",\"$ip1\"]" || fail "g1's lease $ip1 is not in port_ip4: $(set_json port_ip4)"
# From netd's log: the lease event, then the rules (timestamps HH:MM:SS.mmm).
ms() { awk -F'[:. ]' '{ print (($1 * 60 + $2) * 60 + $3) * 1000 + $4 }'; }
t_lease=$(grep -m1 "network 'n1': lease add $M1 $ip1" "$T/netd.log" | ms)
t_rules=$(grep -m1 "port security: vm-g1-0 may now send from 1 address" "$T/netd.log" | ms)
[ -n "$t_lease" ] && [ -n "$t_rules" ] || fail "lease or rule update not in netd's log"
# (a bound that says the update follows the event itself, not a later pass; how fast it is, tens of
# ms, is reported: under ASan on a loaded CI machine it took 76)
[ $((t_rules - t_lease)) -lt 1000 ] || fail "rules updated $((t_rules - t_lease)) ms after the lease event"
ok "g1 leased $ip1 and pinged its gateway; its address was allowed $((t_rules - t_lease)) ms after the lease event"

assert_eq "$(wait_serial g1 '^SPOOF-PING' | cut -d' ' -f2)" fail "g1's ping from 10.85.0.200 (port security on)"
assert_eq "$(wait_serial g2 '^SPOOF-PING' | cut -d' ' -f2)" ok "g2's ping from 10.85.0.201 (port security off)"
ok "a ping from an address the guest was not given: dropped for g1, through for g2 (--nic-security off)"

# A reservation while g1 runs: allowed at once; after a move away and back g1 gets and uses it.
ctl network host add n1 $M1 10.85.0.5 >/dev/null
in_set port_ip4 '["vm-g1-0","10.85.0.5"]' || fail "the reservation is not in port_ip4: $(set_json port_ip4)"
ctl vm set-network g1 n2 >/dev/null
wait_serial g1 '^LEASE 10\.86\.0\.' 30 >/dev/null
# The guest's link watcher waits for its DHCP client's script (the spoof ping) before it can see
# the next link flap.
for _ in $(seq 1 100); do [ "$(serial g1 | grep -ac '^SPOOF-PING')" -ge 2 ] && break; sleep 0.1; done
in_set port_ip4 '["vm-g1-0","10.85.0.5"]' && fail "n1's reservation still allowed on n2: $(set_json port_ip4)"
ctl vm set-network g1 n1 >/dev/null
wait_serial g1 '^LEASE 10\.85\.0\.5/' 30 >/dev/null
wait_serial g1 '^GATEWAY-PING ok 10.85.0.1' >/dev/null
ok "a reservation added live is allowed at once; moved to n2 and back, g1 got 10.85.0.5 and pinged its gateway"

# Every guest port, filtered or not, is kept from the host's own stack.
for tap in vm-g1-0 vm-g2-0; do
	assert_eq "$(nsx sysctl -n net.ipv6.conf.$tap.disable_ipv6)" 1 "IPv6 on $tap"
	grep -q "\"$tap\"" <<<"$(nsx nft list set inet netd_ports taps)" || fail "$tap is not in netd_ports' taps"
done
rc=0
ctl network stop n1 >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of stopping a network with running guests"
grep -q "network 'n1' has 2 running guest(s): 'g1', 'g2'" "$T/err" || fail "network stop: $(cat "$T/err")"
ctl vm create g3 --network n2 --mac $M2 --kernel "$KERNEL" --initrd "$INITRD" --no-autostart >/dev/null
rc=0
ctl vm set-network g3 n1 >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of moving g3 (g2's MAC) to n1"
grep -q "MAC $M2 is already used on network 'n1' by guest 'g2'" "$T/err" || fail "set-network: $(cat "$T/err")"
ctl vm delete g3 >/dev/null
ok "TAPs: IPv6 off, in netd_ports (g2's too); 'network stop n1' refused with g1, g2 on it; a duplicate MAC refused"

# --force stops it anyway: the TAPs lose their bridge and get it back when n1 starts again.
nsx ping -c1 -W2 10.85.0.5 >/dev/null || fail "the host cannot ping g1 (10.85.0.5) before the forced stop"
ctl network stop n1 --force >/dev/null
has_link nd-n1 && fail "nd-n1 still exists after 'network stop n1 --force'"
assert_eq "$(link_field vm-g1-0 .master)" null "vm-g1-0's master while n1 is stopped"
assert_eq "$(vm_field g1 .state)" running "g1's state while n1 is stopped"
ctl network start n1 >/dev/null
assert_eq "$(link_field vm-g1-0 .master)" nd-n1 "vm-g1-0's master after n1 started again"
assert_eq "$(link_field vm-g2-0 .master)" nd-n1 "vm-g2-0's master after n1 started again"
in_set port_mac "[\"vm-g1-0\",\"$M1\"]" || fail "g1 lost its port security entry across the forced stop"
for _ in $(seq 1 30); do nsx ping -c1 -W1 10.85.0.5 >/dev/null && break; done ||
	fail "the host cannot ping g1 (10.85.0.5) after n1 started again"
ok "'network stop n1 --force' unplugged g1 and g2 and left them running; 'network start n1' plugged them back"

# A network without DHCP: the subnet's host addresses but the gateway's.
ctl network create n3 --mode nat --subnet 10.87.0.0/24 --no-dhcp >/dev/null
ctl vm set-network g1 n3 >/dev/null
net4=$(nsx nft list set bridge netd port_net4)
grep -q '"vm-g1-0" . 10.87.0.2/31' <<<"$net4" && grep -q '"vm-g1-0" . 10.87.0.128/26' <<<"$net4" ||
	fail "g1 on n3 (no DHCP) may not use the subnet: $net4"
grep -qE '10\.87\.0\.(0/24|0/31|1[^0-9])' <<<"$net4$(set_json port_ip4)" && fail "g1 may use n3's gateway or network address: $net4"
ctl vm set-network g1 n1 >/dev/null
ok "on n3 (no DHCP) g1 may use 10.87.0.2-254 but the gateway 10.87.0.1"

# kill -9 and restart: the entries stay; QEMU gone: they go.
before=$(set_json port_ip4)
kill9_netd
start_netd
assert_eq "$(set_json port_ip4)" "$before" "port_ip4 after a netd restart"
in_set port_mac "[\"vm-g1-0\",\"$M1\"]" || fail "g1 lost its entry across the restart"
ctl vm destroy g1 >/dev/null
ctl vm destroy g2 >/dev/null
[ "$(set_json port_mac)" = "[]" ] || [ -z "$(set_json port_mac)" ] || fail "entries left after QEMU went: $(set_json port_mac)"
ok "kill -9 + restart kept g1's entries; destroyed guests left none"
