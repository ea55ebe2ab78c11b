#!/usr/bin/env bash
# eth0 -> br0 under 100 Hz probes from off-link addresses, without port security:
# 0 probes lost on IPv4 and IPv6, same DHCP and SLAAC addresses, br0 has eth0's MAC, STP off,
# the DHCP client moved to br0 and the lease renews there; confirm persists it; revert
# (live, also lossless) gives eth0 back and forgets the conversion.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"

lab_build
before=$(host_state)
start_netd

# The routes' changes through the conversion, shown if the default routes are not where expected.
ip -n "$NS" -ts monitor route >"$T/routes.log" 2>&1 &
BG_PIDS+=($!)
probes_start 300
sleep 0.3
ctl --json uplink convert eth0 --confirm-timeout 120s >"$T/convert.json" 2>"$T/convert.err" ||
	fail "convert: $(cat "$T/convert.err")"
probes_wait
cut=$(jq -r .cutover_ms "$T/convert.json")
echo "# convert: lost IPv4 $LOST4/300, IPv6 $LOST6/300, cut-over $cut ms"
assert_probes 1 "during the conversion"
ok "conversion lost $PROBES_LOST of 300 probes per family (cut-over $cut ms)"

assert_eq "$(jq -r .state "$T/convert.json")" waiting "state after convert"
j=$(link_json br0)
assert_eq "$(jq -r .address <<<"$j")" "$HOST_MAC" "br0 MAC"
assert_eq "$(jq -r .linkinfo.info_data.stp_state <<<"$j")" 0 "br0 STP"
assert_eq "$(jq -r .linkinfo.info_data.forward_delay <<<"$j")" 0 "br0 forward delay"
assert_eq "$(link_field eth0 .master)" br0 "eth0 master"
ip -n "$NS" -j addr show br0 | jq -e --arg a "$HOST4" '.[0].addr_info[] | select(.local == $a)' >/dev/null ||
	fail "br0 lacks $HOST4"
ip -n "$NS" -j addr show br0 | jq -e --arg a "$HOST6" '.[0].addr_info[] | select(.local == $a)' >/dev/null ||
	fail "br0 lacks the SLAAC address $HOST6"
[ -z "$(ip -n "$NS" -j addr show eth0 | jq -r '.[0].addr_info[]?.local')" ] || fail "eth0 kept addresses"
[ -z "$(ip -n "$NS" route show dev eth0; ip -n "$NS" -6 route show dev eth0)" ] || fail "routes left on eth0"
ip -n "$NS" route show default | has "dev br0" || fail "IPv4 default route not on br0"
ip -n "$NS" -6 route show default | has "dev br0" ||
	fail "IPv6 default route not on br0: $(ip -n "$NS" -6 route); changes: $(cat "$T/routes.log"); router: $(tail -5 "$T/dnsmasq.log")"
exp6=$(ip -n "$NS" -6 -j route show default dev br0 | jq '.[0].expires // 0')
[ "$exp6" -gt 0 ] || fail "the IPv6 default route on br0 lost its expiry: router advertisements would not refresh it"
ok "br0 has eth0's MAC ($HOST_MAC), STP off, $HOST4 and $HOST6, both default routes (IPv6 one expires in $exp6 s, as learnt)"

jq -e '.gateways | length >= 2 and all(.answered)' "$T/convert.json" >/dev/null || fail "gateways not verified: $(cat "$T/convert.json")"
ok "verification: $(jq -r '[.gateways[] | "\(.address) \(.ms) ms"] | join(", ")' "$T/convert.json")"

# The DHCP client: the one on eth0 is gone, one runs on br0, never two.
kill -0 "$UDHCPC_PID" 2>/dev/null && fail "the DHCP client on eth0 still runs"
pgrep -f "udhcpc .*-i eth0 .*$T" >/dev/null && fail "a DHCP client for eth0 still runs"
[ "$(pgrep -fc "udhcpc .*-i br0 .*$T")" = 1 ] || fail "expected one DHCP client on br0"
ok "DHCP client handed over to br0: $(jq -r .dhcp_client.original "$T/convert.json" | sed "s|$T|\$T|")"

# Confirm, then the lease must renew on br0 (2 min leases: T1 at 60 s).
ctl uplink confirm br0 >/dev/null
[ -f "$T/etc/uplinks/br0.conf" ] || fail "confirm did not persist the uplink"
assert_eq "$(ctl --json uplink status br0 | jq -r '.[0].state')" confirmed "state after confirm"
ok "confirm persists the conversion ($(grep -c . "$T/etc/uplinks/br0.conf") lines in etc/uplinks/br0.conf)"

grep -q "^bound br0 $HOST4" "$T/dhcp-events" || {
	for _ in $(seq 1 50); do grep -q "br0" "$T/dhcp-events" && break; sleep 0.1; done
}
grep -q "br0 $HOST4" "$T/dhcp-events" || fail "udhcpc on br0 did not get $HOST4: $(cat "$T/dhcp-events")"
echo "# waiting for the lease to renew on br0 (T1 = 60 s)"
start=$(date +%s)
for _ in $(seq 1 90); do
	grep -q "^renew br0 $HOST4" "$T/dhcp-events" && break
	sleep 1
done
grep -q "^renew br0 $HOST4" "$T/dhcp-events" || fail "no renewal on br0: $(cat "$T/dhcp-events")"
probes_start 100
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes after the renewal"
ok "the lease renewed on br0 with the same address after $(($(date +%s) - start)) s; probes still pass"

# Revert, live and lossless.
probes_start 300
sleep 0.3
ctl uplink revert br0 >"$T/revert.out" 2>&1 || fail "revert: $(cat "$T/revert.out")"
probes_wait
echo "# revert: lost IPv4 $LOST4/300, IPv6 $LOST6/300"
assert_probes 1 "during the revert"
has_link br0 && fail "revert left br0"
[ -e "$T/etc/uplinks/br0.conf" ] && fail "revert left the config"
[ -e "$T/lib/uplinks/br0" ] && fail "revert left the state"
pgrep -f "udhcpc .*-i br0 .*$T" >/dev/null && fail "a DHCP client for br0 still runs"
[ "$(pgrep -fc "udhcpc .*-i eth0 .*$T")" = 1 ] || fail "expected one DHCP client on eth0 again"
after=$(host_state)
diff <(echo "$before") <(echo "$after") >"$T/diff" || fail "state after revert differs: $(cat "$T/diff")"
ok "revert lost $PROBES_LOST probes; eth0 has its addresses, routes and DHCP client again; nothing of br0 is left"
