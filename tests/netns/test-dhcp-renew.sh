#!/usr/bin/env bash
# A lease renewed by its client stays true in netd: busybox udhcpc with a 2 min lease renews it by
# itself at T1 (60 s); dnsmasq runs netd-lease-event "old" with the new expiry (script-on-renewal),
# `network leases --json` shows that expiry (not the first one, whose expires_in would go on
# falling and turn negative) and `monitor` prints the renewal as an event of its own (action
# "renew", with the expiry in its text line). Waits a little over a minute: suite netns-slow.
. "$(dirname "$0")/lib.sh"
need busybox dnsmasq
export NETDCTL SOCK NETWORK=lab

lease_field() { ctl --json network leases lab | jq -r --arg mac "$1" ".[] | select(.mac == \$mac) | $2"; }

start_netd
ctl network create lab --mode isolated --subnet 10.51.0.0/24 --lease-time 2m >/dev/null
monitor_start "$T/events" --json
monitor_start "$T/events.txt"
add_guest g1 52:54:00:aa:01:01 nd-lab
dhcp_client g1
ip1=$(guest_ip g1)
first=$(lease_field 52:54:00:aa:01:01 .expires)
[[ "$first" =~ ^[0-9]+$ ]] || fail "no lease of g1 in netd: $(ctl --json network leases lab)"
now=$(date +%s)
[ $((first - now)) -le 120 ] && [ $((first - now)) -ge 100 ] || fail "lease of g1 expires in $((first - now)) s, not about 120"
ok "g1 has $ip1 for 2 min (expires $first)"

# udhcpc renews at half the lease time by itself (no SIGUSR1): wait for its "renew" event.
for _ in $(seq 1 90); do
	grep -q '^renew ' "$T/g1.events" && break
	sleep 1
done
grep -q '^renew ' "$T/g1.events" || fail "udhcpc did not renew within 90 s: $(cat "$T/g1.events")"
renewed=$(date +%s)
ok "udhcpc renewed $ip1 $((renewed - now)) s after the lease began"
for _ in $(seq 1 100); do
	e=$(lease_field 52:54:00:aa:01:01 .expires)
	[ "$e" -gt "$first" ] && break
	sleep 0.05
done
[ "$e" -gt "$first" ] || fail "network leases still shows the first expiry $first after the renewal"
[ $((e - renewed)) -le 120 ] && [ $((e - renewed)) -ge 110 ] ||
	fail "renewed lease expires $((e - renewed)) s after the renewal, not about 120"
in=$(lease_field 52:54:00:aa:01:01 .expires_in)
[ "$in" -gt 100 ] || fail "expires_in $in after the renewal"
assert_eq "$(lease_field 52:54:00:aa:01:01 .ip)" "$ip1" "address after the renewal"
ok "network leases: expiry moved from $first to $e (expires_in $in)"

for _ in $(seq 1 100); do grep -q '"action":"renew"' "$T/events" && break; sleep 0.05; done
ev=$(grep -m1 '"action":"renew"' "$T/events") || fail "no renew event on 'netdctl monitor': $(cat "$T/events")"
assert_eq "$(jq -r '"\(.event) \(.network) \(.mac) \(.ip) \(.expires)"' <<<"$ev")" "lease lab 52:54:00:aa:01:01 $ip1 $e" "renew event"
assert_eq "$(grep -c '"action":"add"' "$T/events")" 1 "add events (the renewal is not a new lease)"
ok "monitor: $(jq -c '{action, mac, ip, expires}' <<<"$ev")"
line=$(grep -m1 " lease renew " "$T/events.txt") || fail "no renew line on 'netdctl monitor': $(cat "$T/events.txt")"
[[ "$line" =~ ^[0-9:]+\ lease\ renew\ lab:\ 52:54:00:aa:01:01\ $ip1\ g1\ \(dynamic,\ expires\ in\ 1[0-2][0-9]s\)$ ]] ||
	fail "monitor line: $line"
ok "monitor: $line"

# Client ids: udhcpc sends one (option 61), but dnsmasq keys leases on the MAC (dhcp-ignore-clid)
# and then keeps none: null live, '*' in the lease file (dhcp/DESIGN.md).
assert_eq "$(lease_field 52:54:00:aa:01:01 .client_id)" null "client_id"
grep -q " 52:54:00:aa:01:01 $ip1 g1 \*$" "$T/lib/networks/lab/leases" || fail "lease file: $(cat "$T/lib/networks/lab/leases")"
ctl network leases lab | has "52:54:00:aa:01:01  $ip1" || fail "leases table: $(ctl network leases lab)"
