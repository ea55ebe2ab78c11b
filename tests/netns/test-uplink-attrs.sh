#!/usr/bin/env bash
# Every attribute of the host's addresses, routes, static neighbours and sysctls survives the
# conversion, a revert, the automatic rollback and the recovery after kill -9, compared in full
# (full_state in uplink-lib.sh): a secondary IPv4 address in the same subnet with
# promote_secondaries=0, a labelled one, IPv4 with noprefixroute, a metric and a peer, IPv6 with
# nodad / noprefixroute / mngtmpaddr / lifetimes, privacy addresses (use_tempaddr=2), static
# neighbours (permanent v4 and v6, noarp, router) and non-default per-interface sysctls. br0
# holds what eth0 held (flags included); probes lose nothing; an eth0 flap after the revert
# brings its IPv4 routes back (no noprefixroute left behind).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"

lab_build

# The host's own configuration on top of DHCP and SLAAC.
nsx sysctl -qw net.ipv6.conf.eth0.use_tempaddr=2 net.ipv6.conf.eth0.temp_valid_lft=7200 \
	net.ipv6.conf.eth0.temp_prefered_lft=3600 net.ipv6.conf.eth0.router_solicitations=5 \
	net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 net.ipv6.conf.eth0.ndisc_notify=1
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
# A privacy address: the kernel makes one for 58:: at once (the SLAAC address came before
# use_tempaddr, so it gets none until its prefix is new again).
for _ in $(seq 1 50); do
	[ "$(e -6 -j addr show dev eth0 | jq '[.[0].addr_info[] | select(.temporary)] | length')" -ge 1 ] && break
	sleep 0.1
done
[ "$(e -6 -j addr show dev eth0 | jq '[.[0].addr_info[] | select(.temporary)] | length')" -ge 1 ] ||
	fail "no privacy addresses on eth0: $(e -6 addr show dev eth0)"

before=$(full_state)
eth0_before=$(link_l3_state eth0)
start_netd

check_same() { # WHAT: compares full_state with before
	privacy_check eth0
	diff <(echo "$before") <(full_state) >"$T/diff" || fail "state after $1 differs: $(cat "$T/diff")"
}

# Convert: br0 holds what eth0 held.
probes_start 300
sleep 0.3
ctl --json uplink convert eth0 --confirm-timeout 120s >"$T/convert.json" 2>"$T/convert.err" ||
	fail "convert: $(cat "$T/convert.err") $(grep -i "failed" "$T/netd.log")"
probes_wait
assert_eq "$LOST4/$LOST6" 0/0 "probes lost by the conversion (IPv4/IPv6)"
privacy_check br0
diff <(echo "$eth0_before") <(link_l3_state br0) >"$T/diff" || fail "br0 differs from eth0 before: $(cat "$T/diff")"
ok "converted with 0 lost (cut-over $(jq -r .cutover_ms "$T/convert.json") ms); br0 holds eth0's addresses, flags, routes, neighbours and sysctls"

probes_start 300
sleep 0.3
ctl uplink revert br0 >"$T/revert.out" 2>&1 || fail "revert: $(cat "$T/revert.out")"
probes_wait
assert_eq "$LOST4/$LOST6" 0/0 "probes lost by the revert (IPv4/IPv6)"
check_same "the revert"
ok "revert lost 0 probes; the whole state is as before"

# Automatic rollback (no confirmation).
ctl uplink convert eth0 --confirm-timeout 2s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
probes_start 400
for _ in $(seq 1 100); do has_link br0 || break; sleep 0.05; done
has_link br0 && fail "no rollback after the confirm timeout"
probes_wait
assert_eq "$LOST4/$LOST6" 0/0 "probes lost by the automatic rollback (IPv4/IPv6)"
check_same "the automatic rollback"
ok "automatic rollback lost 0 probes; the whole state is as before"

# kill -9 while waiting, and recovery.
ctl uplink convert eth0 --confirm-timeout 60s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
kill9_netd
probes_start 300
start_netd
probes_wait
has_link br0 && fail "restarted netd did not roll back"
assert_eq "$LOST4/$LOST6" 0/0 "probes lost by the recovery (IPv4/IPv6)"
check_same "the recovery after kill -9"
ok "recovery after kill -9 lost 0 probes; the whole state is as before"

# An eth0 flap brings the kernel's IPv4 subnet routes back (none was left as noprefixroute).
e link set eth0 down
e link set eth0 up
kernel_routes=$(e -j route show table main proto kernel | jq length)
[ "$kernel_routes" -ge 3 ] || fail "after an eth0 flap only $kernel_routes kernel IPv4 routes: $(e route)"
ok "eth0 down/up after the conversions: the kernel's IPv4 subnet routes come back ($kernel_routes)"
