#!/usr/bin/env bash
# An uplink whose IPv6 comes from router advertisements with short lifetimes (valid 60 s, preferred
# 30 s, router lifetime 60 s, one every 3 s): after eth0 -> br0 the kernel's RA processing on br0
# takes over. Three valid lifetimes later br0 still has the SLAAC address (its lifetimes
# refreshed), the default route (the kernel's own; the moved one, one metric up, expired), and 100
# Hz probes lost nothing. The same after a revert to eth0, one valid lifetime later.
# netd/DESIGN.md, "RA-learnt routes".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"
command -v python3 >/dev/null || skip "python3 missing (the router advertisements)"

VALID=60
# shellcheck disable=SC2034 # read by lab_build (uplink-lib.sh)
LAB_RA=0
lab_build --no-boot
gwx python3 "$TESTS_LIB_DIR/send-ra.py" gw0 2001:db8:77:: --valid $VALID --preferred 30 --router-lifetime $VALID \
	--every 3 &
host_boot

# slaac_check LINK: LINK has $HOST6 with at most $VALID s left, and a default route through it.
# Sets LFT (the address's valid lifetime left) and METRICS (of the default routes through LINK).
slaac_check() {
	LFT=$(ip -n "$NS" -6 -j addr show dev "$1" |
		jq -r --arg a "$HOST6" '.[0].addr_info[] | select(.local == $a) | .valid_life_time')
	[ -n "$LFT" ] || fail "$1 lost the SLAAC address $HOST6: $(ip -n "$NS" -6 addr; ip -n "$NS" -6 route)"
	[ "$LFT" -le $VALID ] || fail "$HOST6 on $1 has $LFT s left, more than the advertised $VALID"
	METRICS=$(ip -n "$NS" -6 -j route show default dev "$1" | jq -r '[.[] | select(.protocol == "ra") | .metric] | join(" ")')
	[ -n "$METRICS" ] || fail "no IPv6 default route through $1: $(ip -n "$NS" -6 route)"
}

# watch_lifetimes LINK SECONDS: slaac_check every 5 s; the address's lifetime must be refreshed
# (never below VALID - 10: an RA every 3 s) and the kernel's own route (metric 1024) there, after
# the first RA. Ends with the moved route (metric 1025) expired.
watch_lifetimes() {
	local l=$1 end=$(($(date +%s) + $2)) min=$VALID
	while [ "$(date +%s)" -lt "$end" ]; do
		sleep 5
		slaac_check "$l"
		[ "$LFT" -ge $((VALID - 10)) ] || fail "$HOST6 on $l is not refreshed by the RAs: $LFT s left"
		[ "$LFT" -lt "$min" ] && min=$LFT
		grep -qw 1024 <<<"$METRICS" || fail "the kernel added no default route of its own on $l: $METRICS"
	done
	assert_eq "$METRICS" 1024 "metrics of the RA default routes on $l"
	MIN_LFT=$min
}

slaac_check eth0
assert_eq "$METRICS" 1024 "metric of the RA default route on eth0"
ok "eth0 has $HOST6 (valid $LFT s) and an RA default route (metric $METRICS)"

# sent: the probes ping sent (of each family), once stopped.
sent() { awk '/packets transmitted/ { print $1 }' "$T/probe4" "$T/probe6" | paste -sd/; }

start_netd
# 100 Hz over the conversion and three valid lifetimes, stopped after them.
probes_start 1000000
sleep 0.3
ctl --json uplink convert eth0 --confirm-timeout 120s >"$T/convert.json" 2>"$T/convert.err" ||
	fail "convert: $(cat "$T/convert.err")"
ctl uplink confirm br0 >/dev/null
slaac_check br0
ok "converted: br0 has $HOST6 and the RA default route (metrics $METRICS)"
watch_lifetimes br0 $((3 * VALID))
ok "after $((3 * VALID)) s on br0: $HOST6 refreshed by the RAs (never under $MIN_LFT s left), the kernel's default route alone"
probes_stop
assert_probes 1 "during the conversion and $((3 * VALID)) s after it"
ok "probes lost: $PROBES_LOST of $(sent) (IPv4/IPv6)"

# Back to eth0: the same the other way.
probes_start 1000000
sleep 0.3
ctl uplink revert br0 >"$T/revert.out" 2>&1 || fail "revert: $(cat "$T/revert.out")"
has_link br0 && fail "revert left br0"
slaac_check eth0
watch_lifetimes eth0 $((VALID + 5))
ok "after the revert and $((VALID + 5)) s: eth0 has $HOST6 refreshed (never under $MIN_LFT s left), the kernel's default route alone"
probes_stop
assert_probes 1 "during the revert and $((VALID + 5)) s after it"
ok "probes lost: $PROBES_LOST of $(sent) (IPv4/IPv6)"
