#!/usr/bin/env bash
# netd and the real firewalld 1.x (netd --firewall-integration, netd/network/fwint.c), firewalld in
# the test's namespace on a private system bus (firewalld-lib.sh). firewalld's default zone rejects
# a netd bridge's DHCP, DNS and forwarding. In auto netd binds the bridge to zone trusted (zone netd
# when firewalld has it) at runtime, and a real guest gets its lease, DNS and the upstream:
#   1. firewalld first, then netd;
#   2. firewall-cmd --reload (which drops runtime bindings): bound again, traffic flows;
#   3. the network stops: unbound; it starts: bound;
#   4. firewalld stopped, netd alone; firewalld started after netd: bound again;
#   5. zone netd (data/firewalld/netd.xml) in firewalld's config: netd binds to it instead;
#   6. report mode: degraded with the advice; a wrong zone does not clear it; the advice does;
#   7. a frozen firewalld (SIGSTOP, still on the bus): netd waits one call's timeout per pass, not
#      one per network.
# The host's /etc/firewalld, /run and ruleset are as they were.
source "$(dirname "$0")/lib.sh"
need dnsmasq nft busybox
source "$TESTS_LIB_DIR/firewalld-lib.sh"
ZONE_FILE="$TESTS_LIB_DIR/../../data/firewalld/netd.xml"
GW=10.81.0.1

zone_of() { fwd_cmd --get-zone-of-interface=nd-lab 2>/dev/null || true; }
# wait_zone ZONE WHAT: nd-lab in zone ZONE ("" for none) within 3 s.
wait_zone() {
	local z
	for _ in $(seq 1 60); do
		z=$(zone_of)
		[ "$z" = "$1" ] && return 0
		sleep 0.05
	done
	fail "$2: nd-lab is in zone '$z', expected '$1'"
}
state() { ctl --json network show lab | jq -r "$1"; }
wait_state() { # STATE WHAT
	for _ in $(seq 1 60); do
		[ "$(state .state)" = "$1" ] && return 0
		sleep 0.05
	done
	fail "$2: network lab is $(state .state) ($(state .problem)), expected $1"
}
# traffic WHAT: the guest renews its lease, resolves its own name at the gateway, reaches upstream.
traffic() {
	local n0 ans
	n0=$(grep -cE '^(bound|renew) ' "$T/g.events" 2>/dev/null || true)
	kill -USR1 "$(cat "$T/g.udhcpc.pid")" # renew now: a unicast REQUEST to the gateway
	for _ in $(seq 1 100); do
		[ "$(grep -cE '^(bound|renew) ' "$T/g.events" 2>/dev/null || true)" -gt "$n0" ] && break
		sleep 0.05
	done
	[ "$(grep -cE '^(bound|renew) ' "$T/g.events" || true)" -gt "$n0" ] || fail "$1: no DHCP renewal"
	gx g ip route replace default via $GW # (the client's script flushed the address, and the route)
	ans=$(gx g busybox nslookup g.lab.test $GW 2>&1) || true
	grep -q "10\.81\.0\." <<<"$ans" || fail "$1: DNS: $ans"
	assert_eq "$(ask_upstream g)" 192.168.50.2 "$1: the source address upstream sees"
}

add_upstream
fwd_start
ip netns exec "$NS" nft list table inet firewalld >/dev/null || fail "firewalld has no table in the namespace"

# 1. firewalld first.
start_netd
ctl network create lab --mode nat --subnet 10.81.0.0/24 --domain lab.test >/dev/null
wait_zone trusted "netd started after firewalld"
wait_state active "bound to zone trusted"
assert_eq "$(ctl --json network show lab | jq -c '.firewall_integration')" \
	'[{"manager":"firewalld","where":"zone trusted","by":"netd"}]' "network show --json"
ctl network show lab | has -xF "firewall:   firewalld zone trusted (added by netd)" || fail "network show: $(ctl network show lab)"
has -F "firewall integration: firewalld: nd-lab bound to zone trusted" "$T/netd.log" || fail "not logged"
add_guest g 52:54:00:81:00:01 nd-lab
dhcp_client g lab
wait_event g '^bound ' >/dev/null
traffic "firewalld first"
ok "firewalld first: nd-lab in zone trusted (shown, logged); the guest has DHCP, DNS and the upstream"

# 2. A reload drops runtime bindings; netd binds again.
fwd_reload
wait_zone trusted "after firewall-cmd --reload"
wait_state active "after the reload"
traffic "after a reload"
ok "firewall-cmd --reload: bound again, traffic flows"

# 3. Stop and start of the network.
ctl network stop lab >/dev/null
wait_zone "" "the network stopped"
has -F "firewall integration: firewalld: nd-lab unbound from zone trusted" "$T/netd.log" || fail "unbind not logged"
ctl network start lab >/dev/null
ip -n "$NS" link set vg master nd-lab # (the guest is no netd guest: its port is the test's to plug)
wait_zone trusted "the network started again"
ok "a stopped network leaves the zone; started, it is bound again"

# 4. firewalld stops, then starts after netd.
fwd_stop
wait_state active "firewalld stopped"
traffic "without firewalld"
fwd_start
wait_zone trusted "firewalld started after netd"
wait_state active "firewalld started after netd"
traffic "firewalld started after netd"
ok "firewalld stopped: nothing to do; started after netd: bound again"

# 5. firewalld with netd's zone: netd binds the bridge to it rather than to trusted, again after
# each reload.
fwd_add_zone "$ZONE_FILE"
fwd_reload
wait_zone netd "zone netd installed"
wait_state active "in zone netd"
traffic "in zone netd"
assert_eq "$(ctl --json network show lab | jq -c '.firewall_integration')" \
	'[{"manager":"firewalld","where":"zone netd","by":"netd"}]' "network show --json in zone netd"
fwd_reload
wait_zone netd "zone netd, after another reload"
traffic "in zone netd, after another reload"
ok "with zone netd (data/firewalld/netd.xml) nd-lab is bound to it, again after each reload"
rm -f "$FWD_ETC/zones/netd.xml"
fwd_reload

# 6. report: netd says what blocks and how; a wrong zone does not clear it, the advice does.
stop_netd
fwd_cmd --zone=trusted --remove-interface=nd-lab >/dev/null 2>&1 || true
start_netd --firewall-integration report
wait_state degraded "report mode"
state .problem | has -E "blocked by table inet firewalld" || fail "problem: $(state .problem)"
has -F "put nd-lab in a firewalld zone that lets it through (firewall-cmd --zone=ZONE --change-interface=nd-lab)" \
	"$T/netd.log" || fail "no advice in the log"
assert_eq "$(zone_of)" "" "report mode binds nothing"
fwd_cmd --zone=block --change-interface=nd-lab >/dev/null
sleep 0.5
assert_eq "$(state .state)" degraded "a zone that blocks does not clear the report"
ctl --json doctor lab >"$T/doctor.json" || true # (exit status 1: a step fails)
fix=$(jq -r '.steps[] | select(.name == "firewall") | .fix' "$T/doctor.json")
assert_eq "$fix" "firewall-cmd --zone=trusted --change-interface=nd-lab" "doctor's fix"
PATH="$PATH" ip netns exec "$NS" sh -c "$fix" >/dev/null
wait_state active "after doctor's fix"
traffic "report mode, after the fix"
ok "report: degraded, the advice logged; zone block keeps it degraded; doctor's fix clears it"

# 7. A frozen firewalld: one timeout a pass, whatever the number of networks.
stop_netd
start_netd
kill -STOP "$FWD_PID"
for n in 1 2 3; do ctl network create "f$n" --mode nat --subnet "10.9$n.0.0/24" >/dev/null; done
t0=$(date +%s%N)
nsx nft add table ip netdtest_poke # a foreign change: one pass over the 3 blocked networks, 50 ms on
sleep 0.2
ctl status >/dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "$FWD_PID"
[ "$ms" -gt 1500 ] || fail "the pass did not wait for firewalld at all ($ms ms): the test measures nothing"
# One timeout (2 s) and the pass's work; a netd that asked once per network would take 6 s. 3.9 s
# was seen in a rehearsal with other builds beside CI's lanes: the bound is 5.5 s.
[ "$ms" -lt 5500 ] || fail "netd answered $ms ms after a foreign change with firewalld frozen (one timeout: 2 s, three: 6 s)"
ok "a frozen firewalld holds netd one call's timeout per pass ($ms ms for a status after a change), not one per network"

fwd_host_check
ok "the host's firewalld config, /run and ruleset are as they were"
