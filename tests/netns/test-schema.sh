#!/usr/bin/env bash
# One schema per object kind: a bad value gets the same message from a definition file (reload), a
# request on the socket and netdctl's options; a setting that takes one value is refused when given
# twice (options, file), and repeatable ones still add up.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || skip "socat missing"

start_netd
ctl network create lab --mode isolated --subnet 10.90.0.0/24 >/dev/null
BAD_BEFORE=$(snapshot)

# section | key | value | JSON params (without name) | netdctl options | expected message
cases=(
	"dhcp|range|10.1.0.10|\"dhcp_ranges\": [\"10.1.0.10\"]|--dhcp-range 10.1.0.10|invalid DHCP range '10.1.0.10': expected START-END"
	"network|subnet|bogus|\"subnet\": \"bogus\"|--subnet bogus|invalid subnet 'bogus': expected CIDR notation like 10.0.0.0/24, auto or none"
	"network|bridge|br/0|\"bridge\": \"br/0\"|--bridge br/0|invalid bridge name 'br/0': may contain only letters"
	"network|gateway|fd00::1|\"gateway\": \"fd00::1\"|--gateway fd00::1|invalid gateway 'fd00::1': expected an IPv4 address"
	"dhcp|lease-time|1y|\"lease_time\": \"1y\"|--lease-time 1y|invalid lease time '1y'"
	"dhcp|host|52:54:00:00:00:01,10.1.0.5,a,b|\"hosts\": [\"52:54:00:00:00:01,10.1.0.5,a,b\"]|--host 52:54:00:00:00:01,10.1.0.5,a,b|invalid host '52:54:00:00:00:01,10.1.0.5,a,b': expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]"
	"dns|domain|lab=x|\"domain\": \"lab=x\"|--domain lab=x|invalid domain 'lab=x'"
	"network|allow-host-port|tcp/99999|\"allow_host_ports\": [\"tcp/99999\"]|--allow-host-port tcp/99999|invalid host port 'tcp/99999'"
	"network|subnet6|fd00::|\"subnet6\": \"fd00::\"|--subnet6 fd00::|invalid IPv6 prefix 'fd00::': expected an IPv6 prefix like fd00:1:2:3::/64, or auto"
	"network|ipv6-mode|ra|\"ipv6_mode\": \"ra\"|--ipv6-mode ra|invalid IPv6 mode 'ra': expected slaac, dhcpv6 or slaac+dhcpv6"
)
for c in "${cases[@]}"; do
	IFS='|' read -r section key value json opts msg <<<"$c"
	subnet='--subnet 10.1.0.0/24' jsubnet='"subnet": "10.1.0.0/24", '
	[ "$key" = subnet ] && subnet= jsubnet=
	# netdctl
	rc=0
	eval "ctl network create x --mode isolated $subnet $opts" >/dev/null 2>"$T/err" || rc=$?
	assert_eq "$rc" 1 "exit code of --$key $value"
	cli=$(sed -n 's/^netdctl: //p' "$T/err")
	# the socket
	sock=$(raw_request "{\"method\": \"network.create\", \"params\": {\"name\": \"x\", \"mode\": \"isolated\", $jsubnet$json}}" | jq -r .error)
	# a definition file, read by reload
	{
		printf '[network]\nmode = isolated\n'
		[ "$key" = subnet ] || printf 'subnet = 10.1.0.0/24\n'
		printf '[%s]\n%s = %s\n' "$section" "$key" "$value"
	} >"$T/etc/networks/x.conf"
	file=$(ctl --json reload | jq -r '.errors[0]')
	rm "$T/etc/networks/x.conf"
	grep -qF -- "$msg" <<<"$cli" || fail "--$key $value: netdctl says '$cli', expected '$msg'"
	assert_eq "$sock" "$cli" "the socket's message for $key = $value"
	[[ $file == *": line "[0-9]*": $cli" ]] || fail "$key = $value: the file's message is '$file', netdctl's '$cli'"
	bad_unchanged "$key = $value"
	ok "$key = $value: '$cli' from netdctl, the socket and the file ($file)"
done

# A single value given twice: refused by netdctl (usage) and in a file (with both lines).
cases=(
	"2|--subnet is given twice; it takes one value|network create x --mode isolated --subnet 10.1.0.0/24 --subnet 10.2.0.0/24"
	"2|--mode is given twice; it takes one value|network create x --mode isolated --mode nat --subnet 10.1.0.0/24"
	"2|--memory is given twice; it takes one value|vm create g --network lab --kernel /k --memory 1G --memory 2G"
	"2|--bridge is given twice; it takes one value|uplink convert eth0 --bridge br1 --bridge br2"
)
bad_cli_cases cases
printf '[network]\nmode = isolated\nsubnet = 10.1.0.0/24\nmtu = 1400\nsubnet = 10.2.0.0/24\n' >"$T/etc/networks/x.conf"
file=$(ctl --json reload | jq -r '.errors[0]')
rm "$T/etc/networks/x.conf"
[[ $file == *"line 5: 'subnet' is given twice in [network] (first on line 3); it takes one value" ]] ||
	fail "two subnet lines: $file"
bad_unchanged "two subnet lines"
ok "two 'subnet =' lines: $file"

# Repeatable settings still repeat, on both paths.
ctl network create r --mode isolated --subnet 10.2.0.0/24 --dhcp-range 10.2.0.10-10.2.0.20 \
	--dhcp-range 10.2.0.30-10.2.0.40 --allow-host-port tcp/22 --allow-host-port udp/53 --no-autostart >/dev/null
assert_eq "$(grep -c '^range = ' "$T/etc/networks/r.conf")" 2 "ranges in r.conf"
assert_eq "$(ctl --json network show r | jq -c .allow_host_ports)" '["tcp/22","udp/53"]' "r's host ports"
printf '[network]\nmode = isolated\nsubnet = 10.3.0.0/24\nautostart = no\n[dns]\nhost = 10.3.0.9,a\nhost = 10.3.0.8,b\n' \
	>"$T/etc/networks/s.conf"
assert_eq "$(ctl --json reload | jq -c .added)" '["s"]' "reload of a file with two DNS hosts"
assert_eq "$(ctl --json network show s | jq -r .dhcp.dns_hosts)" 2 "s's DNS hosts"
ok "repeatable options and keys still add up (ranges, host ports, DNS hosts)"
