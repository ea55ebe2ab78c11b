#!/usr/bin/env bash
# Automatic rollback: (1) no confirmation within the timeout: rolled back under probes with 0
# lost and the host's state identical to before; (2) the gateway unreachable from br0 after the
# cut-over (the test drops its frames on the host's bridge, which the rollback leaves): the
# verification fails, netd rolls back at once and the host answers again within seconds.
# Both with port security on the switch (only eth0's MAC may send).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"

lab_build
port_security_on
before=$(host_state)
start_netd

ctl uplink convert eth0 --confirm-timeout 3s >/dev/null 2>"$T/convert.err" || fail "convert: $(cat "$T/convert.err")"
assert_eq "$(ctl --json uplink status | jq -r '.[0].state')" waiting "state before the timeout"
probes_start 500
for _ in $(seq 1 100); do has_link br0 || break; sleep 0.05; done
has_link br0 && fail "no rollback 5 s after a 3 s confirm timeout"
probes_wait
echo "# timeout rollback (port security on): lost IPv4 $LOST4/500, IPv6 $LOST6/500"
assert_probes 1 "during the automatic rollback"
grep -q "rolling back to eth0: no confirmation within 3 s" "$T/netd.log" || fail "no rollback message in the log"
after=$(host_state)
diff <(echo "$before") <(echo "$after") >"$T/diff" || fail "state after the rollback differs: $(cat "$T/diff")"
[ -e "$T/lib/uplinks/br0" ] && fail "rollback left the state dir"
[ -e "$T/etc/uplinks/br0.conf" ] && fail "rollback left a config"
[ "$(pgrep -fc "udhcpc .*-i eth0 .*$T")" = 1 ] || fail "expected the DHCP client back on eth0"
pgrep -f "udhcpc .*-i br0 .*$T" >/dev/null && fail "a DHCP client for br0 still runs"
assert_eq "$(ctl --json uplink status | jq length)" 0 "uplinks after the rollback"
ok "no confirmation: rolled back by itself, $PROBES_LOST of 500 probes lost per family, state identical, DHCP client back on eth0"

# (2) Frames that reach the host through a bridge port are dropped: nothing arrives on br0,
# while eth0 on its own is not affected. The rollback removes the bridge and so the block.
nsx nft -f - <<'NFT'
table bridge block {
	chain in {
		type filter hook input priority 0; policy accept;
		iifname "eth0" counter drop
	}
}
NFT
probes_start 1200
sleep 0.3
t0=$(date +%s%N)
if ctl uplink convert eth0 --confirm-timeout 60s >"$T/out" 2>"$T/err"; then
	fail "convert succeeded with the gateway blocked"
fi
t1=$(date +%s%N)
grep -q "verification failed: gateway .* did not answer from br0 within 5 s; rolled back" "$T/err" ||
	fail "unexpected error: $(cat "$T/err")"
has_link br0 && fail "br0 still exists after the failed verification"
back=
for i in $(seq 1 100); do
	if gwx ping -c 1 -W 0.1 -I $PROBE4 "$HOST4" >/dev/null 2>&1; then back=$(( ($(date +%s%N) - t1) / 1000000 )); break; fi
done
[ -n "$back" ] || fail "the host does not answer after the rollback"
probes_wait
echo "# blocked gateway: convert+verify+rollback took $(( (t1 - t0) / 1000000 )) ms; host answered again ${back} ms after netdctl returned; lost IPv4 $LOST4/1200, IPv6 $LOST6/1200 (the blocked window)"
after=$(host_state)
diff <(echo "$before") <(echo "$after") >"$T/diff" || fail "state after the failed verification differs: $(cat "$T/diff")"
ok "gateway blocked: verification failed, rolled back at once, host answered again after ${back} ms"
