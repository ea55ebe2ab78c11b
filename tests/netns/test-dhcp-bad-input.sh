#!/usr/bin/env bash
# Bad DHCP/DNS input gets one clear error and changes nothing: links, addresses, routes, the
# definition and state files, the dnsmasq files and which dnsmasq processes run.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || skip "socat missing"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"

start_netd
ctl network create lab --mode isolated --subnet 10.90.0.0/24 --host 52:54:00:00:00:aa,10.90.0.10,web >/dev/null
[ "$(ctl --json network show lab | jq -r .dhcp.dnsmasq_state)" = running ] || fail "dnsmasq of lab not running"
C="network create x --mode isolated --subnet 10.1.0.0/24"
M=52:54:00:00:00:01

# exit code | expected stderr (grep -F) | command...
cases=(
	"1|invalid DHCP range '10.1.0.10': expected START-END|$C --dhcp-range 10.1.0.10"
	"1|DHCP range 10.2.0.10-10.2.0.20 is not inside the hosts of subnet 10.1.0.0/24|$C --dhcp-range 10.2.0.10-10.2.0.20"
	"1|DHCP range 10.1.0.200-10.1.0.255 is not inside the hosts of subnet 10.1.0.0/24|$C --dhcp-range 10.1.0.200-10.1.0.255"
	"1|DHCP range 10.1.0.1-10.1.0.50 covers the gateway 10.1.0.1|$C --dhcp-range 10.1.0.1-10.1.0.50"
	"1|DHCP range 10.1.0.50-10.1.0.10: start is after end|$C --dhcp-range 10.1.0.50-10.1.0.10"
	"1|DHCP ranges 10.1.0.10-10.1.0.50 and 10.1.0.40-10.1.0.60 overlap|$C --dhcp-range 10.1.0.10-10.1.0.50 --dhcp-range 10.1.0.40-10.1.0.60"
	"1|lease time '30s' is out of range (2m to 30d)|$C --lease-time 30s"
	"1|lease time '31d' is out of range (2m to 30d)|$C --lease-time 31d"
	"1|invalid lease time '1y': expected a number of seconds, a duration|$C --lease-time 1y"
	"1|invalid domain 'lab example': may contain only letters, digits and '-'|$C --domain 'lab example'"
	"1|invalid domain 'lab\\nport=0': may contain only letters|$C --domain \$'lab\\nport=0'"
	"1|invalid domain 'lab=x'|$C --domain lab=x"
	"1|host 52:54:00:00:00:01 is reserved twice|$C --host $M,10.1.0.5 --host $M,10.1.0.6"
	"1|address 10.1.0.5 is reserved for both 52:54:00:00:00:01 and 52:54:00:00:00:02|$C --host $M,10.1.0.5 --host 52:54:00:00:00:02,10.1.0.5"
	"1|host 52:54:00:00:00:01: address 10.2.0.5 is not a host address of subnet 10.1.0.0/24|$C --host $M,10.2.0.5"
	"1|host 52:54:00:00:00:01: address 10.1.0.1 is the gateway|$C --host $M,10.1.0.1"
	"1|invalid MAC '52:54:00:zz:00:01' in host|$C --host 52:54:00:zz:00:01,10.1.0.5"
	"1|invalid MAC '01:00:5e:00:00:01': a reservation needs a unicast, non-zero MAC|$C --host 01:00:5e:00:00:01,10.1.0.5"
	"1|invalid MAC '00:00:00:00:00:00': a reservation needs a unicast, non-zero MAC|$C --host 00:00:00:00:00:00,10.1.0.5"
	"1|invalid hostname 'web_1' in a host reservation: may contain only letters, digits and '-'|$C --host $M,10.1.0.5,web_1"
	"1|invalid hostname 'web\\nport=0' in a host reservation|$C --host \$'$M,10.1.0.5,web\\nport=0'"
	"1|invalid host '52:54:00:00:00:01,10.1.0.5,web\\ndhcp-range=1.2.3.4,1.2.3.9': expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]|$C --host \$'$M,10.1.0.5,web\\ndhcp-range=1.2.3.4,1.2.3.9'"
	"1|invalid host '52:54:00:00:00:01,10.1.0.5,a,b': expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]|$C --host $M,10.1.0.5,a,b"
	"1|invalid hostname 'a=b' in a DNS host|$C --dns-host 10.1.0.9,a=b"
	"1|invalid hostname 'a b' in a DNS host|$C --dns-host '10.1.0.9,a b'"
	"1|invalid DNS host '10.1.0.9': expected IP,HOSTNAME|$C --dns-host 10.1.0.9"
	"1|invalid MAC 'nope'|network host add lab nope 10.90.0.20"
	"1|host 52:54:00:00:00:01: address 10.91.0.20 is not a host address of subnet 10.90.0.0/24|network host add lab $M 10.91.0.20"
	"1|host 52:54:00:00:00:01: address 10.90.0.1 is the gateway|network host add lab $M 10.90.0.1"
	"1|host 52:54:00:00:00:aa is already reserved (remove it first)|network host add lab 52:54:00:00:00:aa 10.90.0.20"
	"1|address 10.90.0.10 is reserved for both 52:54:00:00:00:aa and 52:54:00:00:00:01|network host add lab $M 10.90.0.10"
	"1|hostname 'web' is reserved for both 52:54:00:00:00:aa and 52:54:00:00:00:01|network host add lab $M 10.90.0.20 web"
	"1|invalid hostname 'a;b' in a host reservation|network host add lab $M 10.90.0.20 'a;b'"
	# Issue 12, attack 9: dnsmasq read these hostnames as keywords or lease times (no lease at all
	# for 'ignore', a 120 s lease and no name for '120'); test-dhcp-hostnames.sh shows it.
	"1|invalid hostname 'ignore' in a host reservation: dnsmasq reads 'ignore' as 'never give this MAC a lease', not as a name|network host add lab $M 10.90.0.50 ignore"
	"1|invalid hostname '120' in a host reservation: dnsmasq reads a number (with an optional s, m, h, d or w) as a lease time, not as a name|network host add lab $M 10.90.0.50 120"
	"1|invalid hostname 'infinite' in a host reservation: dnsmasq reads 'infinite' as a lease time, not as a name|network host add lab $M 10.90.0.50 infinite"
	"1|invalid hostname '45m' in a host reservation: dnsmasq reads a number|network host add lab $M 10.90.0.50 45m"
	"1|invalid hostname 'IGNORE' in a host reservation: dnsmasq reads 'ignore'|network host add lab $M 10.90.0.50 IGNORE"
	"1|invalid hostname 'id:01' in a host reservation|network host add lab $M 10.90.0.50 id:01"
	"1|invalid hostname 'ignore' in a host reservation|$C --host $M,10.1.0.5,ignore"
	"1|network 'lab' has no reservation for 52:54:00:00:00:01|network host remove lab $M"
	"1|no network named 'nope'|network leases nope"
	"1|no network named 'nope'|network host add nope $M 10.90.0.20"
	"1|invalid DUID 'zz': expected 2 to 130 hex pairs|network host add lab id:zz 10.90.0.20"
	"1|network 'lab' has no reservation for id:00:03:00:01:52:54:00:00:00:01|network host remove lab id:00:03:00:01:52:54:00:00:00:01"
	"2|network host add: expected NAME MAC|network host add lab $M"
	"2|network host add: more than one IPv4 address ('10.90.0.21')|network host add lab $M 10.90.0.20 10.90.0.21"
	"2|network host add: the hostname comes last ('web')|network host add lab $M web 10.90.0.20"
	"2|network host remove: expected NAME MAC|network host remove lab"
)

bad_cli_cases cases

raw_cases=(
	'{"method": "network.create", "params": {"name": "x", "mode": "isolated", "subnet": "10.1.0.0/24", "hosts": "52:54:00:00:00:01,10.1.0.5"}}|parameter '"'"'hosts'"'"' must be an array of strings'
	'{"method": "network.create", "params": {"name": "x", "mode": "isolated", "subnet": "10.1.0.0/24", "dhcp_ranges": [5]}}|parameter '"'"'dhcp_ranges'"'"' must be an array of strings'
	'{"method": "network.create", "params": {"name": "x", "mode": "isolated", "subnet": "10.1.0.0/24", "dns_hosts": ["10.1.0.9,a\u0000b"]}}|parameter '"'"'dns_hosts'"'"' contains a NUL character'
	'{"method": "network.create", "params": {"name": "x", "mode": "isolated", "subnet": "10.1.0.0/24", "domain": "lab\u0000.evil"}}|parameter '"'"'domain'"'"' must be a string without NUL characters'
	'{"method": "lease.event", "params": {"network": "lab", "action": "explode", "mac": "52:54:00:00:00:01", "ip": "10.90.0.5"}}|lease event: unknown action'
	'{"method": "lease.event", "params": {"network": "nope", "action": "add", "mac": "52:54:00:00:00:01", "ip": "10.90.0.5"}}|lease event: network has no dnsmasq'
	'{"method": "network.host.add", "params": {"name": "lab", "mac": "52:54:00:00:00:01", "ip": "10.90.0.50", "hostname": "1w"}}|invalid hostname '"'"'1w'"'"' in a host reservation: dnsmasq reads a number'
	'{"method": "network.host.add", "params": {"name": "lab", "mac": "52:54:00:00:00:01", "duid": "00:03:00:01:52:54:00:00:00:01", "ip": "10.90.0.50"}}|expected one of the parameters '"'"'mac'"'"' and '"'"'duid'"'"
	'{"method": "network.host.add", "params": {"name": "lab", "mac": "52:54:00:00:00:01", "ip": "10.90.0.50,web"}}|invalid ip '"'"'10.90.0.50,web'"'"': one value, without commas'
	'{"method": "network.host.add", "params": {"name": "lab", "mac": "52:54:00:00:00:01"}}|missing parameter '"'"'ip'"'"' (an IPv4 or IPv6 address) or '"'"'ip6'"'"
	'{"method": "lease.event", "params": {"network": "lab", "action": "add", "mac": "52:54:00:00:00:01", "ip": "fd00::1"}}|lease event: missing or invalid '"'"'mac'"'"', '"'"'ip'"'"' or '"'"'expires'"'"
	'{"method": "lease.event", "params": {"network": "lab", "action": "add", "mac": "52:54:00:00:00:01", "ip": "10.90.0.5", "expires": "-1"}}|lease event: missing or invalid '"'"'mac'"'"', '"'"'ip'"'"' or '"'"'expires'"'"
)
bad_raw_cases raw_cases
assert_eq "$(ctl --json network leases lab | jq length)" 0 "no lease was invented"

# Lease events come from dnsmasq's helper, which runs as root: nobody else may send them, even
# a member of group 'netd'.
if getent group netd >/dev/null; then
	chmod 0666 "$SOCK"
	reply=$(printf '%s\n' '{"method": "lease.event", "params": {"network": "lab", "action": "add", "mac": "52:54:00:00:00:01", "ip": "10.90.0.5"}}' |
		setpriv --reuid=65534 --regid=65534 --groups="$(getent group netd | cut -d: -f3)" socat -t 2 - "UNIX-CONNECT:$SOCK")
	chmod 0660 "$SOCK"
	grep -qF "'lease.event' is accepted from root only (uid 65534 asked)" <<<"$reply" || fail "non-root lease event: $reply"
	ok "lease event from a non-root member of group netd refused"
	BAD_N=$((BAD_N + 1))
fi
# The same hostname written into the definition by hand: reload names the line, lab keeps running
# with its definition and dnsmasq files as they were.
hosts_before=$(md5sum <"$T/run/dnsmasq/lab.hosts")
cp "$T/etc/networks/lab.conf" "$T/lab.good"
printf '[dhcp]\nhost = 52:54:00:00:00:01,10.90.0.50,ignore\n' >>"$T/etc/networks/lab.conf"
line=$(grep -n ',ignore$' "$T/etc/networks/lab.conf" | cut -d: -f1)
rep=$(ctl --json reload)
grep -qF "line $line: invalid hostname 'ignore' in a host reservation: dnsmasq reads 'ignore'" <<<"$(jq -r '.errors[0]' <<<"$rep")" ||
	fail "hand-written 'ignore' on reload: $rep"
assert_eq "$(md5sum <"$T/run/dnsmasq/lab.hosts")" "$hosts_before" "lab's hosts file after the refused reload"
assert_eq "$(ctl --json network show lab | jq .dhcp.hosts)" 1 "reservations of lab after the refused reload"
cp "$T/lab.good" "$T/etc/networks/lab.conf"
ok "a hand-written 'ignore' reservation is refused at reload: $(jq -r '.errors[0]' <<<"$rep")"
BAD_N=$((BAD_N + 1))

echo "$BAD_N bad inputs refused, state unchanged"
[ "$BAD_N" -ge 15 ] || fail "fewer than 15 cases"
