#!/usr/bin/env bash
# Issue 21: dhcpcd on eth0, handed over to br0 and back (uplink-client-lib.sh's client_cases):
# convert, a renewal on br0, confirm, revert; a rollback; a kill -9 of netd while it waits; a
# simulated reboot. 0 probes lost at 100 Hz on IPv4 and IPv6, the host's state as before and no
# dhcpcd left over after each.
. "$(dirname "$0")/uplink-client-lib.sh"
client_lab dhcpcd
client_cases

# dhcpcd in manager mode (no interface: all of them) is refused: it would put eth0's address back
# on eth0 once eth0 is a port of br0 (measured: within seconds).
for pid in $(ip netns pids "$NS"); do
	[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$(command -v dhcpcd)")" ] && kill -9 "$pid"
done
rm -rf /run/dhcpcd
nsx dhcpcd -t 20 >>"$T/client.log" 2>&1
before=$(snapshot)
rc=0
ctl uplink convert eth0 >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" != 0 ] || fail "convert with dhcpcd in manager mode succeeded: $(cat "$T/out")"
grep -q "dhcpcd runs in manager mode (pid [0-9]*), for every interface, 'eth0' among them" "$T/err" ||
	fail "refusal: $(cat "$T/err")"
[ "$before" = "$(snapshot)" ] || fail "the refused convert changed something"
ok "dhcpcd in manager mode: refused, nothing changed: $(cat "$T/err")"
