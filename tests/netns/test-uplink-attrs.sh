#!/usr/bin/env bash
# Every attribute of the host's addresses, routes, static neighbours and sysctls survives the
# conversion, a revert, the automatic rollback and the recovery after kill -9, compared in full
# (full_state in uplink-lib.sh): a secondary IPv4 address in the same subnet with
# promote_secondaries=0, a labelled one, IPv4 with noprefixroute, a metric and a peer, IPv6 with
# nodad / noprefixroute / mngtmpaddr / lifetimes, privacy addresses (use_tempaddr=2), stable-privacy
# addresses (stable_secret, addr_gen_mode=2) set at boot, static
# neighbours (permanent v4 and v6, noarp, router) and non-default per-interface sysctls. br0
# holds what eth0 held (flags included); probes lose nothing; an eth0 flap after the revert
# brings its IPv4 routes back (no noprefixroute left behind).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"

# The host's boot configures eth0 with these before it comes up: stable-privacy addresses
# (RFC 7217) and privacy addresses, and a few more that differ from a new link's.
HOST_SYSCTLS="net.ipv6.conf.eth0.stable_secret=2001:db8:5ec:7e7::1 net.ipv6.conf.eth0.addr_gen_mode=2
	net.ipv6.conf.eth0.use_tempaddr=2 net.ipv6.conf.eth0.temp_valid_lft=7200 net.ipv6.conf.eth0.temp_prefered_lft=3600
	net.ipv6.conf.eth0.router_solicitations=5 net.ipv6.conf.eth0.ndisc_notify=1
	net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2"
lab_build

e() { ip -n "$NS" "$@"; }
e addr add 192.168.77.201/24 dev eth0                       # secondary of the DHCP address
e addr add 192.168.77.202/24 dev eth0 label eth0:1          # secondary with a label
e addr add 10.55.0.2/24 dev eth0 noprefixroute
e addr add 10.56.0.2/24 brd + dev eth0 metric 50
e addr add 10.57.0.1 peer 10.57.0.2/32 dev eth0
e addr add 2001:db8:55::2/64 dev eth0 nodad
e addr add 2001:db8:56::2/64 dev eth0 noprefixroute
e addr add 2001:db8:57::2/64 dev eth0 nodad noprefixroute valid_lft 3000 preferred_lft 2000
e addr add 2001:db8:58::2/64 dev eth0 mngtmpaddr
e neigh add 192.168.77.50 lladdr 02:00:00:00:00:50 nud permanent dev eth0
e neigh add 192.168.77.51 lladdr 02:00:00:00:00:51 nud noarp dev eth0
e -6 neigh add 2001:db8:77::50 lladdr 02:00:00:00:00:52 nud permanent dev eth0 router
# Privacy addresses: the kernel made one for the SLAAC address, and makes one for 58:: at once.
privacy_check eth0
[ "$(e -6 -j addr show dev eth0 | jq '[.[0].addr_info[] | select(.temporary)] | length')" -ge 2 ] ||
	fail "expected two privacy addresses on eth0: $(e -6 addr show dev eth0)"

# Probes go to the stable SLAAC address; the privacy one (where lab_build's HOST6 may point) is
# probed apart: it carries on over the conversion only (netd/DESIGN.md).
TEMP6=$(e -6 -j addr show dev eth0 | jq -r '[.[0].addr_info[] | select(.temporary and (.local | startswith("2001:db8:77:")))][0].local')
HOST6=$(e -6 -j addr show dev eth0 | jq -r '[.[0].addr_info[] | select(.mngtmpaddr and (.local | startswith("2001:db8:77:")))][0].local')
[ "$TEMP6" != null ] && [ "$HOST6" != null ] || fail "no SLAAC or privacy address: $(e -6 addr show dev eth0)"

e -6 -j addr show dev eth0 | jq -r '.[0].addr_info[] | select(.temporary) | "\"\(.local)\""' >"$T/old-temporaries"
before=$(full_state)
eth0_before=$(link_l3_state eth0)
start_netd

n_temps=$(wc -l <"$T/old-temporaries")
check_same() { # WHAT: compares full_state with before
	privacy_check eth0
	# Privacy addresses do not pile up: as many as before, none of them a leftover copy.
	assert_eq "$(e -6 -j addr show dev eth0 | jq '[.[0].addr_info[] | select(.temporary)] | length')" "$n_temps" \
		"privacy addresses on eth0 after $1"
	diff <(echo "$before") <(full_state) >"$T/diff" || fail "state after $1 differs: $(cat "$T/diff")"
}

# Convert: br0 holds what eth0 held, and the old privacy addresses as deprecated copies (left out
# of the comparison).
probes_start 300
gwx ping -6 -q -n -i 0.01 -W 1 -c 300 -I $PROBE6 "$TEMP6" >"$T/probe-temp" 2>&1 &
PROBET_PID=$!
sleep 0.3
ctl --json uplink convert eth0 --confirm-timeout 120s >"$T/convert.json" 2>"$T/convert.err" ||
	fail "convert: $(cat "$T/convert.err")"
probes_wait
wait "$PROBET_PID" || true
lost_temp=$(awk '/packets transmitted/ { print $1 - $4 }' "$T/probe-temp")
assert_probes 1 "by the conversion"
[ "$lost_temp" -le 1 ] || fail "probes lost by the conversion to the IPv6 privacy address: $lost_temp"
privacy_check br0
copy=$(e -6 -j addr show dev br0 | jq -c --arg a "$TEMP6" '.[0].addr_info[] | select(.local == $a)')
jq -e '.preferred_life_time == 0 and (.temporary | not)' <<<"$copy" >/dev/null ||
	fail "the old privacy address on br0 is not a deprecated copy: $copy"
diff <(echo "$eth0_before") <(link_l3_state br0 | grep -v -F -f "$T/old-temporaries") >"$T/diff" ||
	fail "br0 differs from eth0 before: $(cat "$T/diff")"
ok "converted with $PROBES_LOST lost ($lost_temp to the privacy address; cut-over $(jq -r .cutover_ms "$T/convert.json") ms); br0 holds eth0's addresses, flags, routes, neighbours and sysctls"

# Confirmed, then reverted: the revert moves back what br0 holds then.
ctl uplink confirm br0 >/dev/null || fail "confirm failed"
probes_start 300
sleep 0.3
ctl uplink revert br0 >"$T/revert.out" 2>&1 || fail "revert: $(cat "$T/revert.out")"
probes_wait
assert_probes 1 "by the revert"
check_same "the revert"
ok "confirm, then revert: $PROBES_LOST probes lost; the whole state is as before"

# Automatic rollback (no confirmation).
ctl uplink convert eth0 --confirm-timeout 2s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
probes_start 400
for _ in $(seq 1 100); do has_link br0 || break; sleep 0.05; done
has_link br0 && fail "no rollback after the confirm timeout"
probes_wait
assert_probes 1 "by the automatic rollback"
check_same "the automatic rollback"
ok "automatic rollback lost $PROBES_LOST probes; the whole state is as before"

# kill -9 while waiting, and recovery.
ctl uplink convert eth0 --confirm-timeout 60s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
kill9_netd
probes_start 300
start_netd
probes_wait
has_link br0 && fail "restarted netd did not roll back"
assert_probes 1 "by the recovery"
check_same "the recovery after kill -9"
ok "recovery after kill -9 lost $PROBES_LOST probes; the whole state is as before"

# An eth0 flap brings the kernel's IPv4 subnet routes back (none was left as noprefixroute).
e link set eth0 down
e link set eth0 up
kernel_routes=$(e -j route show table main proto kernel | jq length)
[ "$kernel_routes" -ge 3 ] || fail "after an eth0 flap only $kernel_routes kernel IPv4 routes: $(e route)"
ok "eth0 down/up after the conversions: the kernel's IPv4 subnet routes come back ($kernel_routes)"
