#!/usr/bin/env bash
# dnsmasq binds to its bridge (bind-interfaces; its DHCP socket to the device): a bridge made
# anew needs a new dnsmasq. While netd is down the bridge is deleted; the restarted netd makes it
# again and replaces the old dnsmasq (adopted, then stopped: not left running) by one that serves
# the new bridge: a new guest gets a lease and DNS answers. Then a dnsmasq started with another
# config (an older netd's) is replaced the same way at a restart, and never left behind.
. "$(dirname "$0")/lib.sh"
need busybox dnsmasq
export NETDCTL SOCK NETWORK=lab

# dnsmasq_pids NETWORK: the dnsmasq processes running with that network's config, but their
# script helpers (a child each) and zombies (an adopted dnsmasq's parent is not netd, and may
# reap it late).
dnsmasq_pids() {
	local all p
	all=" $(pgrep -f -- "--conf-file=$T/run/dnsmasq/$1.conf" | tr '\n' ' ')"
	for p in $all; do
		[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] && continue
		case "$all" in *" $(awk '{print $4}' "/proc/$p/stat") "*) continue ;; esac
		echo "$p"
	done | sort | tr '\n' ' '
}

start_netd
ctl network create lab --mode isolated --subnet 10.57.0.0/24 --domain lab.test >/dev/null
add_guest g1 52:54:00:57:00:01 nd-lab
dhcp_client g1
guest_ip g1 >/dev/null
old=$(dnsmasq_pid lab)
ifindex=$(link_field nd-lab .ifindex)
grep -q "^# bound to nd-lab (ifindex $ifindex), gateway 10.57.0.1$" "$T/run/dnsmasq/lab.conf" ||
	fail "the config does not name the bridge: $(head -3 "$T/run/dnsmasq/lab.conf")"

kill9_netd
ip -n "$NS" link del nd-lab
start_netd
new=$(dnsmasq_pid lab)
[ "$new" != "$old" ] || fail "the dnsmasq of the deleted bridge ($old) was kept"
assert_eq "$(dnsmasq_pids lab)" "$new " "dnsmasq processes of lab"
add_guest g2 52:54:00:57:00:02 nd-lab
dhcp_client g2
ip=$(guest_ip g2)
case "$ip" in 10.57.0.*) ;; *) fail "g2 got '$ip' on the new bridge" ;; esac
ans=$(gx g2 busybox nslookup g2.lab.test 10.57.0.1 2>&1) || true
echo "$ans" | has "$ip" || fail "DNS on the new bridge: $ans"
ok "bridge made anew while netd was down: old dnsmasq $old stopped, $new serves it (lease $ip, DNS)"

# A dnsmasq of another config (what an older netd wrote): adopted, restarted, not left behind.
kill9_netd
sed -i '1s/.*/# dnsmasq config written by an older netd/' "$T/run/dnsmasq/lab.conf"
start_netd
newer=$(dnsmasq_pid lab)
[ "$newer" != "$new" ] || fail "a dnsmasq started with another config ($new) was kept"
assert_eq "$(dnsmasq_pids lab)" "$newer " "dnsmasq processes of lab after the restart"
grep -q "adopted running dnsmasq (pid $new); its config is not this one" "$T/netd.log" ||
	fail "the log does not say why dnsmasq was restarted"
ok "a dnsmasq with another config is adopted and replaced ($new -> $newer), none left behind"
