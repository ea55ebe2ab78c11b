#!/usr/bin/env bash
# Each bad input gets one clear error line, a non-zero exit, and changes nothing.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || skip "socat missing"

# The host: an uplink with an address and a route that networks must not overlap.
ip -n "$NS" link add host0 type veth peer name host1
ip -n "$NS" link set host0 up
ip -n "$NS" addr add 192.168.50.2/24 dev host0
ip -n "$NS" route add 10.200.0.0/16 via 192.168.50.1 dev host0
ip -n "$NS" link add br-user type bridge

start_netd
ctl network create lab --mode isolated --subnet 10.90.0.0/24 >/dev/null

# exit code | expected stderr (grep -F) | command...
cases=(
	"1|invalid network name 'bad name': may contain only letters, digits, '-' and '_'|network create 'bad name' --mode isolated --subnet 10.1.0.0/24"
	"1|invalid network name '_x': must start with a letter or digit|network create _x --mode isolated --subnet 10.1.0.0/24"
	"1|is longer than 32 characters|network create aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa --mode isolated --subnet 10.1.0.0/24"
	"1|invalid bridge name 'br-much-too-long': is longer than 15 bytes|network create x --mode isolated --bridge br-much-too-long --subnet 10.1.0.0/24"
	"1|invalid bridge name 'br/0': may contain only letters|network create x --mode isolated --bridge br/0 --subnet 10.1.0.0/24"
	"1|invalid subnet '10.1.0.0': expected CIDR notation|network create x --mode isolated --subnet 10.1.0.0"
	"1|invalid subnet '10.1.0.0/33'|network create x --mode isolated --subnet 10.1.0.0/33"
	"1|subnet 10.1.0.5/24 has host bits set; did you mean 10.1.0.0/24?|network create x --mode isolated --subnet 10.1.0.5/24"
	"1|gateway 10.2.0.1 is outside subnet 10.1.0.0/24|network create x --mode isolated --subnet 10.1.0.0/24 --gateway 10.2.0.1"
	"1|mode bridge takes no --uplink: guests reach the LAN through the bridge's own ports|network create x --mode bridge --bridge br0 --uplink eth0"
	"1|mode bridge takes no DHCP or DNS settings|network create x --mode bridge --bridge br0 --dns-forwarder 192.0.2.53"
	"1|mode bridge takes no DHCP or DNS settings|network create x --mode bridge --bridge br0 --dnsmasq-option dhcp-option=42,192.0.2.1"
	"1|gateway 10.1.0.0 is the network address of 10.1.0.0/24|network create x --mode isolated --subnet 10.1.0.0/24 --gateway 10.1.0.0"
	"1|gateway 10.1.0.255 is the broadcast address of 10.1.0.0/24|network create x --mode isolated --subnet 10.1.0.0/24 --gateway 10.1.0.255"
	"1|network 'x' overlaps network 'lab' (10.90.0.0/24)|network create x --mode isolated --subnet 10.90.0.0/16"
	"1|network 'x' overlaps route 10.200.0.0/16 dev host0|network create x --mode isolated --subnet 10.200.5.0/24"
	"1|network 'x' overlaps address 192.168.50.2/24 on host0|network create x --mode isolated --subnet 192.168.50.0/26"
	"1|network 'lab' already exists|network create lab --mode isolated --subnet 10.1.0.0/24"
	"1|interface 'br-user' already exists and is not managed by netd|network create x --mode isolated --bridge br-user --subnet 10.1.0.0/24"
	"1|interface 'host0' already exists and is not managed by netd|network create x --mode isolated --bridge host0 --subnet 10.1.0.0/24"
	"1|unknown mode 'bogus' (known: nat, routed, isolated, bridge|network create x --mode bogus --subnet 10.1.0.0/24"
	"1|network 'x': --uplink needs mode nat|network create x --mode isolated --subnet 10.1.0.0/24 --uplink host0"
	"1|invalid uplink name 'eth/0': may contain only letters|network create x --mode nat --subnet 10.1.0.0/24 --uplink eth/0"
	"1|invalid uplink name 'uplink-much-too-long': is longer than 15 bytes|network create x --mode routed --subnet 10.1.0.0/24 --uplink uplink-much-too-long"
	"1|network 'x': the uplink cannot be the network's own bridge|network create x --mode nat --subnet 10.1.0.0/24 --bridge br-x --uplink br-x"
	"1|network 'x' overlaps route 10.200.0.0/16 dev host0|network create x --mode nat --subnet 10.200.7.0/24"
	"1|invalid subnet 'bogus': expected CIDR notation like 10.0.0.0/24, auto or none|network create x --mode isolated --subnet bogus"
	"1|MTU 50 is out of range (68-65535)|network create x --mode isolated --subnet 10.1.0.0/24 --mtu 50"
	"1|subnet fd00::/64 is not IPv4|network create x --mode isolated --subnet fd00::/64"
	"1|no network named 'nope'|network show nope"
	"1|no network named 'nope'|network delete nope"
	"2|unknown command 'network explode'|network explode lab"
	"2|network create: missing --mode (nat, routed, isolated or bridge)|network create x --subnet 10.1.0.0/24"
	"2|invalid MTU 'big'|network create x --mode isolated --subnet 10.1.0.0/24 --mtu big"
)

bad_cli_cases cases

# Requests that netdctl would never send, straight on the socket.
raw_cases=(
	'garbage, not json|malformed request: unexpected character'
	'{"method": "network.create", "params": |malformed request: incomplete JSON'
	'{"params": {}}|malformed request: expected an object with a string'
	'{"method": "network.explode"}|unknown method '"'"'network.explode'"'"
	'{"method": "network.create", "params": {"name": 5}}|parameter '"'"'name'"'"' must be a string'
	'{"method": "network.create", "params": {"name": "x", "mode": "isolated", "subnet": "10.1.0.0/24", "mtu": "big"}}|invalid MTU'
)
bad_raw_cases raw_cases

# A peer that is neither root nor in group 'netd' is refused by SO_PEERCRED, even when the
# socket file's mode would let it connect.
chmod 0711 "$T"
chmod 0666 "$SOCK"
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$NETDCTL" --socket "$SOCK" network list >"$T/out" 2>"$T/err" || rc=$?
chmod 0660 "$SOCK"
assert_eq "$rc" 1 "exit code for an unauthorised uid"
grep -qF "permission denied: uid 65534 is neither root nor in group 'netd'" "$T/err" || fail "unauthorised: $(cat "$T/err")"
bad_unchanged "the unauthorised request"
ok "unauthorised uid refused: $(cat "$T/err")"
BAD_N=$((BAD_N + 1))

if getent group netd >/dev/null; then
	chmod 0666 "$SOCK"
	setpriv --reuid=65534 --regid=65534 --groups="$(getent group netd | cut -d: -f3)" \
		"$NETDCTL" --socket "$SOCK" network list >/dev/null || fail "a member of group netd was refused"
	chmod 0660 "$SOCK"
	ok "a member of group 'netd' is allowed"
fi
echo "$BAD_N bad inputs refused, state unchanged"
[ "$BAD_N" -ge 15 ] || fail "fewer than 15 cases"

# A start that fails half-way (dnsmasq's lease file cannot be made: after the bridge and the rules)
# leaves nothing of what it did: the bridge, its rules and the marker go again.
ctl network create half --mode nat --subnet 10.99.0.0/24 >/dev/null
ctl network stop half >/dev/null
rm -f "$T/lib/networks/half/leases"
mkdir "$T/lib/networks/half/leases"
before=$(snapshot; nsx nft list ruleset)
rc=0
ctl network start half >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of a start that fails half-way"
grep -qF "cannot start network 'half': cannot create" "$T/err" || fail "half start: $(cat "$T/err")"
after=$(snapshot; nsx nft list ruleset)
[ "$before" = "$after" ] || fail "a failed start left something: $(diff <(echo "$before") <(echo "$after"))"
assert_eq "$(ctl --json network show half | jq -r .state)" inactive "state after the failed start"
ok "a start that failed half-way is undone: $(cat "$T/err")"
