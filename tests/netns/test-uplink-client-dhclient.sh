#!/usr/bin/env bash
# Issue 21: dhclient on eth0, handed over to br0 and back (uplink-client-lib.sh's client_cases):
# convert, a renewal on br0, confirm, revert; a rollback; a kill -9 of netd while it waits; a
# simulated reboot. 0 probes lost at 100 Hz on IPv4 and IPv6, the host's state as before and no
# dhclient left over after each.
. "$(dirname "$0")/uplink-client-lib.sh"
client_lab dhclient
client_cases

# A dhclient on br0 that netd did not record (an older netd's leftover, which forked away from the
# pid it kept; or one netd started just before it was killed) goes with the revert too: left
# running, its lease's expiry would delete the address of the next br0.
ctl uplink convert eth0 --confirm-timeout 60s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
nsx dhclient -4 -pf "$T/stray.pid" -lf "$T/stray.leases" br0 >>"$T/client.log" 2>&1
stray=$(cat "$T/stray.pid")
[ "$(client_pids br0 | wc -l)" = 2 ] || fail "expected netd's and the stray dhclient on br0: $(client_ps)"
n0=$(acks)
ctl uplink revert br0 >"$T/out" 2>&1 || fail "revert: $(cat "$T/out")"
check_back_on_eth0 "revert with a stray dhclient on br0" "$n0"
grep -q "uplink br0: stopped 1 more DHCP client(s) on br0 that netd had not recorded" "$T/netd.log" ||
	fail "no message about the stray client"
ok "revert also stopped a dhclient on br0 netd had not started (pid $stray)"
