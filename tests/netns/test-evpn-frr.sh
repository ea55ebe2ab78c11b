#!/usr/bin/env bash
# shellcheck disable=SC2046 # $(frr_args I): options without spaces, split on purpose
# netd owns FRR's configuration (netd --vtep, --evpn-peers, --evpn-reflector; netd.conf's [evpn]):
# three hosts on an underlay, FRR started empty in each, a netd per host writes and applies FRR's
# configuration and reports the BGP sessions in 'netdctl status'. A fourth host joins without
# touching the others; a new peer (netd.conf, SIGHUP) is applied without resetting the existing
# session, and the peer that does not answer is a problem (status; network show and doctor of a
# network of mode evpn); a new VNI changes no FRR configuration and resets no session; kill -9 of
# a netd and a restart change nothing in FRR; bad settings are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn-lib.sh"

evpn_underlay 3
evpn_frr_start_all 3

# netd's FRR options for host I: its own pathspace and file.
frr_args() { echo "--frr-pathspace ${EVPN_HOST[$1]} --frr-conf /etc/frr/${EVPN_HOST[$1]}/frr.conf"; }

# A session's established counter as vtysh says it (not netd: the check must not trust netd).
established() {
	evpn_vtysh "$1" -c 'show bgp l2vpn evpn summary json' | jq -r --arg p "$2" '.peers[$p].connectionsEstablished'
}
has_peer() { evpn_vtysh "$1" -c 'show bgp l2vpn evpn summary json' | jq -e --arg p "$2" '.peers[$p]' >/dev/null; }
has_problem() { hctl "$1" --json status | jq -e --arg p "$2" '.evpn.problems[] | select(startswith($p))' >/dev/null; }

# --- Bad inputs: each refused with its reason, nothing started ---------------------------------
refused() { # WANT ARGS...: netd in host 1 exits non-zero saying WANT
	local want=$1 out rc=0
	shift
	# (FRR's paths of host 1 first: a netd that started would not touch this machine's FRR)
	out=$(hx 1 timeout 20 "$NETD" --config-dir "$T/bad/etc" --state-dir "$T/bad/lib" --run-dir "$T/bad/run" \
		--socket "$T/bad/run/netd.sock" $(frr_args 1) "$@" 2>&1) || rc=$?
	[ "$rc" != 0 ] || fail "netd $* started"
	grep -qF -- "$want" <<<"$out" || fail "netd $*: expected '$want' in: $out"
}
refused "not an address of this host" --vtep 192.0.2.9 $(frr_args 1)
refused "invalid --asn '0'" --vtep 192.0.2.1 --asn 0
refused "invalid --asn '4294967296'" --vtep 192.0.2.1 --asn 4294967296
refused "invalid --evpn-peers '192.0.2.300'" --vtep 192.0.2.1 --evpn-peers 192.0.2.300
refused "invalid --evpn-peers '192.0.2.2,192.0.2.2'" --vtep 192.0.2.1 --evpn-peers 192.0.2.2,192.0.2.2
refused "peer 192.0.2.1 is this host's own VTEP" --vtep 192.0.2.1 --evpn-peers 192.0.2.1
refused "--evpn-peers needs a VTEP" --evpn-peers 192.0.2.2
refused "invalid --frr-pathspace '../x'" --vtep 192.0.2.1 --frr-pathspace ../x
refused "invalid --vtysh 'vtysh'" --vtep 192.0.2.1 --vtysh vtysh
refused "install the packages frr frr-pythontools" --vtep 192.0.2.1 $(frr_args 1) --vtysh /nonexistent
refused "install the packages frr frr-pythontools" --vtep 192.0.2.1 $(frr_args 1) --frr-reload /nonexistent
mkdir -p "$T/bad/etc"
printf '[evpn]\nasn = 65000x\n' >"$T/bad/etc/netd.conf"
refused "netd.conf: line 2: invalid asn '65000x'" --vtep 192.0.2.1
[ ! -s "/etc/frr/${EVPN_HOST[1]}/frr.conf" ] || fail "a refused netd wrote FRR's configuration"
ok "bad EVPN settings refused with their reasons, FRR's configuration untouched"

# --- Three hosts: sessions up through the reflector ----------------------------------------------
# Host 2 takes its settings from netd.conf (the reload below changes them there).
mkdir -p "$T/h2/etc"
printf '[evpn]\nvtep = 192.0.2.2\npeers = 192.0.2.1\n' >"$T/h2/etc/netd.conf"
evpn_netd_start 1 --vtep 192.0.2.1 --evpn-reflector $(frr_args 1)
evpn_netd_start 2 $(frr_args 2)
evpn_netd_start 3 --vtep 192.0.2.3 --evpn-peers 192.0.2.1 $(frr_args 3)
wait_sessions 1 $'192.0.2.2 Established\n192.0.2.3 Established'
wait_sessions 2 "192.0.2.1 Established"
wait_sessions 3 "192.0.2.1 Established"
conf1=/etc/frr/${EVPN_HOST[1]}/frr.conf
[ "$(stat -c '%a %U %G' "$conf1")" = "640 root frr" ] || fail "$conf1 is $(stat -c '%a %U %G' "$conf1")"
grep -qx ' bgp listen range 192.0.2.0/24 peer-group netd-evpn' "$conf1" || fail "no listen range in $conf1"
hctl 1 --json status | jq -e '.evpn.reflector and .evpn.frr.applied and .evpn.problems == []' >/dev/null ||
	fail "host 1's status: $(hctl 1 --json status | jq -c .evpn)"
hctl 2 status | grep -q '^bgp peer:   192.0.2.1 Established' || fail "netdctl status: $(hctl 2 status)"
ok "three hosts: FRR configured by netd (0640 root:frr), sessions Established through the reflector"

# --- A fourth host joins: the others are not touched ---------------------------------------------
sum1=$(md5sum <"$conf1")
est2=$(established 2 192.0.2.1)
evpn_host_add 4
evpn_frr_start 4
evpn_netd_start 4 --vtep 192.0.2.4 --evpn-peers 192.0.2.1 $(frr_args 4)
wait_sessions 4 "192.0.2.1 Established"
wait_sessions 1 $'192.0.2.2 Established\n192.0.2.3 Established\n192.0.2.4 Established'
[ "$(md5sum <"$conf1")" = "$sum1" ] || fail "host 1's FRR configuration changed when host 4 joined"
[ "$(established 2 192.0.2.1)" = "$est2" ] || fail "host 2's session was reset when host 4 joined"
n=$(grep -c 'applied (frr-reload.py' "$T/h1/netd.log" || true)
[ "$n" = 1 ] || fail "host 1's netd applied FRR's configuration $n times, not once"
ok "a fourth host joined through the listen range; host 1's configuration and host 2's session untouched"

# --- A new peer in netd.conf, SIGHUP: applied without resetting the session -----------------------
up_before=$(evpn_vtysh 2 -c 'show bgp l2vpn evpn summary json' | jq -r '.peers["192.0.2.1"].peerUptimeMsec')
printf '[evpn]\nvtep = 192.0.2.2\npeers = 192.0.2.1,192.0.2.3\n' >"$T/h2/etc/netd.conf"
kill -HUP "${EVPN_NETD_PID[2]}"
poll 60 has_peer 2 192.0.2.3 || fail "host 2's FRR has no peer 192.0.2.3 after SIGHUP: $(tail -5 "$T/h2/netd.log")"
grep -qx ' neighbor 192.0.2.3 remote-as 65000' "/etc/frr/${EVPN_HOST[2]}/frr.conf" || fail "the file lacks the new peer"
sum=$(evpn_vtysh 2 -c 'show bgp l2vpn evpn summary json')
[ "$(jq -r '.peers["192.0.2.1"].state' <<<"$sum")" = Established ] || fail "session to 192.0.2.1: $sum"
[ "$(jq -r '.peers["192.0.2.1"].connectionsEstablished' <<<"$sum")" = "$est2" ] ||
	fail "host 2's session to 192.0.2.1 was re-established by the reload: $sum"
[ "$(jq -r '.peers["192.0.2.1"].peerUptimeMsec' <<<"$sum")" -ge "$up_before" ] || fail "its uptime went back: $sum"
# host 3 does not peer with host 2: netd reports that session as a problem
poll 20 has_problem 2 "BGP session to 192.0.2.3 is " || fail "no problem: $(hctl 2 --json status | jq -c .evpn)"
hctl 2 status | grep -q '^problem:    BGP session to 192.0.2.3 is ' || fail "no problem line: $(hctl 2 status)"
# and so are its networks of mode evpn: network show (degraded once host 1, which carries VNI 300
# too, is seen) and doctor (step bgp), naming the session
for i in 1 2; do hctl "$i" network create d1 --mode evpn --vni 300 --subnet 10.99.0.0/24 >/dev/null; done
d1_problem() { hctl 2 --json network show d1 | jq -r '"\(.state) \(.problem)"'; }
poll 20 eval 'd1_problem | has -E "^degraded BGP session to 192\.0\.2\.3 is [A-Za-z]+, not Established \(netdctl status\)$"' ||
	fail "host 2's network show d1: $(d1_problem)"
step=$(doctor_step 2 d1 bgp)
has -E '^fail\|vtysh .*\|.*BGP session to 192\.0\.2\.3 is [A-Za-z]+, not Established' <<<"$step" ||
	fail "host 2's doctor, step bgp: $step"
for i in 1 2; do hctl "$i" network delete d1 >/dev/null; done
# a new VNI (d1's 300 on hosts 1 and 2, carried over EVPN: h2 saw h1's VTEP for it above) changed
# no FRR configuration and reset no session: zebra takes VNIs from the kernel (advertise-all-vni)
[ "$(established 2 192.0.2.1)" = "$est2" ] || fail "host 2's session to 192.0.2.1 was reset by a new VNI"
[ "$(md5sum <"$conf1")" = "$sum1" ] || fail "host 1's FRR configuration changed with a new VNI"
ok "a new peer from netd.conf applied on SIGHUP without resetting the session to the reflector; the peer that does not answer is a problem (status, network show, doctor); a new VNI changes no FRR configuration and resets no session"

# A bad netd.conf on reload: refused, named in the reply, nothing changes.
printf '[evpn]\nvtep = 192.0.2.2\nasn = 0\n' >"$T/h2/etc/netd.conf"
out=$(hctl 2 reload)
grep -q "invalid asn '0'" <<<"$out" || fail "reload with asn = 0: $out"
grep -qx 'router bgp 65000' "/etc/frr/${EVPN_HOST[2]}/frr.conf" || fail "the refused asn reached FRR's file"
printf '[evpn]\nvtep = 192.0.2.5\npeers = 192.0.2.1,192.0.2.3\n' >"$T/h2/etc/netd.conf"
out=$(hctl 2 reload)
grep -q "the VTEP changes only when netd restarts" <<<"$out" || fail "reload with another VTEP: $out"
ok "a bad netd.conf on reload is refused with its reason and changes nothing"

# --- kill -9 of a netd, FRR runs on; the restarted netd changes nothing --------------------------
est2=$(established 2 192.0.2.1)
est1=$(established 1 192.0.2.3)
evpn_netd_kill9 1
[ "$(evpn_vtysh 2 -c 'show bgp l2vpn evpn summary json' | jq -r '.peers["192.0.2.1"].state')" = Established ] ||
	fail "the session to the reflector went down with its netd"
mark=$(wc -l <"$T/h1/netd.log")
evpn_netd_start 1 --vtep 192.0.2.1 --evpn-reflector $(frr_args 1)
wait_sessions 1 $'192.0.2.2 Established\n192.0.2.3 Established\n192.0.2.4 Established'
tail -n +"$mark" "$T/h1/netd.log" | grep -q 'unchanged: nothing to apply' || fail "the restarted netd did not find FRR's configuration unchanged"
! tail -n +"$mark" "$T/h1/netd.log" | grep -q 'frr-reload' || fail "the restarted netd ran frr-reload.py"
[ "$(established 2 192.0.2.1)" = "$est2" ] || fail "host 2's session was reset by netd's kill -9 and restart"
[ "$(established 1 192.0.2.3)" = "$est1" ] || fail "host 1's session to host 3 was reset by netd's kill -9 and restart"
[ "$(md5sum <"$conf1")" = "$sum1" ] || fail "host 1's FRR configuration changed with the restart"
ok "kill -9 of the reflector's netd and a restart: FRR and every session as they were"
