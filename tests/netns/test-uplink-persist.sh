#!/usr/bin/env bash
# A confirmed conversion survives a reboot: the test stops netd, kills the DHCP client on br0,
# deletes br0 and wipes the run dir, then boots eth0 as the host's own config would (IPv6
# autoconf, a DHCP client on eth0) and starts netd. netd must rebuild br0 with eth0 enslaved
# (addresses, routes, MAC, DHCP client handed over again, 0 probes lost) before it starts its
# networks (a bridge-mode network on br0 comes up). 'uplink revert' then undoes it live, and a
# second reboot keeps eth0 as it is.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"

reboot_host() {
	stop_netd
	for pid in $(pgrep -f "udhcpc .*$T"); do kill -9 "$pid"; done
	ip -n "$NS" link del br0 2>/dev/null || true
	rm -rf "${T:?}/run"
	host_boot
}

lab_build
host4=$HOST4 host6=$HOST6
start_netd
ctl uplink convert eth0 --confirm-timeout 120s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
ctl uplink confirm br0 >/dev/null
ctl network create lan --mode bridge --bridge br0 >/dev/null
ctl network create iso --mode isolated --subnet 10.66.0.0/24 --no-dhcp --no-dns >/dev/null

reboot_host
assert_eq "$HOST4/$HOST6" "$host4/$host6" "addresses eth0 got at the second boot"
has_link br0 && fail "br0 survived the simulated reboot"
ok "rebooted: no br0, eth0 has $HOST4 and $HOST6 from its own DHCP client and SLAAC"

: >"$T/netd.log"
probes_start 300
sleep 0.3
start_netd
probes_wait
echo "# rebuild at start: lost IPv4 $LOST4/300, IPv6 $LOST6/300"
assert_probes 1 "while netd rebuilt br0"
REBUILD_LOST=$PROBES_LOST
assert_eq "$(link_field eth0 .master)" br0 "eth0's master after the reboot"
assert_eq "$(link_field br0 .address)" "$HOST_MAC" "br0's MAC after the reboot"
ip -n "$NS" -j addr show br0 | jq -e --arg a "$HOST4" '.[0].addr_info[] | select(.local == $a)' >/dev/null ||
	fail "br0 lacks $HOST4"
ip -n "$NS" -j addr show br0 | jq -e --arg a "$HOST6" '.[0].addr_info[] | select(.local == $a)' >/dev/null ||
	fail "br0 lacks $HOST6"
ip -n "$NS" route show default | has "dev br0" || fail "IPv4 default route not on br0"
ip -n "$NS" -6 route show default | has "dev br0" || fail "IPv6 default route not on br0"
assert_eq "$(ctl --json uplink status br0 | jq -r '.[0].state')" confirmed "uplink state after the reboot"
ok "netd rebuilt br0 with eth0, $HOST4, $HOST6 and both default routes; $REBUILD_LOST probes lost"

pgrep -f "udhcpc .*-i eth0 .*$T" >/dev/null && fail "the boot's DHCP client on eth0 still runs"
[ "$(pgrep -fc "udhcpc .*-i br0 .*$T")" = 1 ] || fail "expected one DHCP client on br0"
grep -q "uplink br0: stopped DHCP client on eth0" "$T/netd.log" || fail "no hand-over message in the log"
ok "the boot's DHCP client on eth0 was handed over to br0: $(grep -o "started DHCP client on br0.*" "$T/netd.log" | sed "s|$T|\$T|g")"

rebuilt=$(grep -n "uplink br0: rebuilt" "$T/netd.log" | cut -d: -f1 | head -1)
networks=$(grep -n "first start since boot" "$T/netd.log" | cut -d: -f1 | head -1)
[ -n "$rebuilt" ] && [ -n "$networks" ] || fail "log lacks the rebuild or the network start"
[ "$rebuilt" -lt "$networks" ] || fail "networks started (log line $networks) before br0 was rebuilt (line $rebuilt)"
j=$(ctl --json network show lan)
assert_eq "$(jq -r '.kernel.exists' <<<"$j")" true "lan's bridge after the reboot"
assert_eq "$(jq -r '.kernel.uplink' <<<"$j")" true "lan sits on the uplink bridge"
has_link nd-iso || fail "network iso did not start"
ok "br0 was rebuilt (log line $rebuilt) before the networks started (line $networks); lan is on it, iso is up"

# Revert, live: eth0 gets everything back, the config goes, and the next boot leaves eth0 alone.
ctl network delete lan >/dev/null
probes_start 300
sleep 0.3
ctl uplink revert br0 >"$T/out" 2>&1 || fail "revert: $(cat "$T/out")"
probes_wait
assert_probes 1 "by the revert"
has_link br0 && fail "revert left br0"
[ -e "$T/etc/uplinks/br0.conf" ] && fail "revert left etc/uplinks/br0.conf"
[ "$(pgrep -fc "udhcpc .*-i eth0 .*$T")" = 1 ] || fail "expected the DHCP client back on eth0"
ok "reverted live with $PROBES_LOST probes lost; etc/uplinks/br0.conf removed"

reboot_host
: >"$T/netd.log"
start_netd
has_link br0 && fail "netd rebuilt br0 after it was reverted"
[ -z "$(link_field eth0 .master)" ] || [ "$(link_field eth0 .master)" = null ] || fail "eth0 has a master"
assert_eq "$(ctl --json uplink status | jq length)" 0 "uplinks after the reverted reboot"
[ "$(pgrep -fc "udhcpc .*-i eth0 .*$T")" = 1 ] || fail "netd touched the DHCP client on eth0"
ok "after the revert a reboot leaves eth0 alone ($HOST4 on eth0, no br0)"
