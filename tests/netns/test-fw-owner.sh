#!/bin/bash
# netd's nftables tables owned by netd with the persist flag (kernel >= 6.9; netd
# --nft-table-flags auto, the default), a guest behind netd's TAP (port security's tables too):
# - another process's 'nft delete table' of each of them fails (EPERM), and netd logs nothing;
# - 'nft flush ruleset' three times while the guest pings upstream through NAT at 100 Hz: no ping
#   lost, and 'nft list tables' sampled all along always lists netd's three tables;
# - kill -9 of netd: the tables stay (the same handle), the next netd owns them again (a later
#   foreign flush skips them, a foreign delete fails) and the guest still reaches upstream.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap-guest-lib.sh"
need nft socat dnsmasq busybox python3

TABLES=("inet netd" "bridge netd" "inet netd_ports")
# has_tables: every one of netd's tables is listed.
has_tables() {
	local list t
	list=$(nsx nft list tables)
	for t in "${TABLES[@]}"; do grep -qx "table $t" <<<"$list" || return 1; done
}
# foreign_delete_fails: 'nft delete table' of each of them fails with EPERM.
foreign_delete_fails() {
	local t out
	for t in "${TABLES[@]}"; do
		# shellcheck disable=SC2086 # family and name
		out=$(nsx nft delete table $t 2>&1) && fail "another process deleted table $t $1"
		grep -q "Operation not permitted" <<<"$out" || fail "deleting table $t $1: $out"
	done
}

add_upstream
start_netd_tap_guests
if grep -q "netd's tables are not owned by netd" "$T/netd.log"; then
	skip "$(grep -o "not owned by netd ([^)]*)" "$T/netd.log" | head -n1)"
fi
grep -q "netd's tables are owned by netd and persist" "$T/netd.log" || fail "no word on the tables' flags at start"
ctl network create lab --mode nat --subnet 10.91.0.0/24 >/dev/null || fail "network create"
tap_guest g1 52:54:00:91:00:01 lab
# netd adopts a running QEMU whose /proc/PID/exe is its --qemu binary: the stand-in's ($T/qemu).
QEMU_EXE=$(readlink -f "/proc/$(cat "$T/run/guests/g1/pid")/exe")
dhcp_client g1 lab
guest_ip g1 >/dev/null
gx g1 ip route add default via 10.91.0.1
assert_eq "$(ask_upstream g1)" 192.168.50.2 "source address upstream sees from the guest"
has_tables || fail "netd's tables missing: $(nsx nft list tables)"
ok "nat network with a TAP guest: NAT works, tables ${TABLES[*]} there"

log_lines=$(wc -l <"$T/netd.log")
foreign_delete_fails "owned by netd"
has_tables || fail "a table went after a refused delete"
sleep 0.2
if tail -n +"$((log_lines + 1))" "$T/netd.log" | grep -E "re-appl|cannot"; then
	fail "netd logged something about a refused delete"
fi
ok "another process's 'nft delete table' fails (Operation not permitted) for each table; netd says nothing"

# 'nft flush ruleset' under 100 Hz pings; the tables sampled as fast as nft lists them.
gx g1 ping -i 0.01 -c 300 -W 1 192.168.50.1 >"$T/ping-flush" 2>&1 &
PING=$!
(
	while kill -0 "$PING" 2>/dev/null; do
		has_tables && echo present || echo MISSING
	done >"$T/samples"
) &
SAMPLER=$!
BG_PIDS+=("$SAMPLER")
sleep 0.5
for _ in 1 2 3; do
	nsx nft flush ruleset || fail "nft flush ruleset failed"
	sleep 0.4
done
wait "$PING" || true
wait "$SAMPLER" || true
samples=$(wc -l <"$T/samples")
# (each sample is an nft list: 30-60 a second on a quiet machine, 6 on a CI machine under five lanes)
[ "$samples" -ge 10 ] || fail "only $samples samples of the tables"
grep -q MISSING "$T/samples" && fail "a table was missing in $(grep -c MISSING "$T/samples") of $samples samples"
grep -q " 0% packet loss" "$T/ping-flush" || fail "pings lost across nft flush ruleset: $(tail -n2 "$T/ping-flush")"
if tail -n +"$((log_lines + 1))" "$T/netd.log" | grep -E "re-appl|cannot"; then
	fail "netd re-applied or failed after a flush that skipped its tables"
fi
assert_eq "$(ask_upstream g1)" 192.168.50.2 "NAT after the flushes"
ok "nft flush ruleset x3 under 100 Hz pings: 0 lost, tables in all $samples samples, nothing re-applied"

# kill -9: the tables persist; the next netd takes them over.
handle=$(nsx nft -a list table inet netd | sed -n 1p | grep -o "# handle [0-9]*")
gx g1 ping -i 0.01 -c 300 -W 1 192.168.50.1 >"$T/ping-kill" 2>&1 &
PING=$!
sleep 0.5
kill9_netd
has_tables || fail "tables gone with netd: $(nsx nft list tables)"
# Nobody owns them now: (another process could delete them; not done here)
sleep 0.3
start_netd --qemu "$QEMU_EXE" --qemu-user root
wait "$PING" || true
grep -q " 0% packet loss" "$T/ping-kill" || fail "pings lost across kill -9: $(tail -n2 "$T/ping-kill")"
assert_eq "$(nsx nft -a list table inet netd | sed -n 1p | grep -o "# handle [0-9]*")" "$handle" "table inet netd's handle after kill -9"
foreign_delete_fails "after the restart"
nsx nft flush ruleset
has_tables || fail "a foreign flush removed a table after the restart: $(nsx nft list tables)"
assert_eq "$(ask_upstream g1)" 192.168.50.2 "NAT after the restart and a flush"
ok "kill -9: tables kept ($handle), taken over by the next netd (flush skips them, delete refused), 0 pings lost"
