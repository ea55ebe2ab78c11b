#!/usr/bin/env bash
# Every input uplink convert/confirm/revert/status must refuse gets its one-line error, a
# non-zero exit, and changes nothing: links, addresses, routes, rules and files (lib.sh's
# snapshot), and the DHCP client on eth0 keeps running (same pid). Then the same during a
# conversion that waits for its confirmation, and after it was confirmed.
# Another network manager is faked through --manager-root (its /run files under $T/mgr).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"
command -v socat >/dev/null || skip "socat missing"

lab_build
# Things to refuse: a bridge with a port, a device without an Ethernet address, an interface
# a policy rule names, one with a macvlan on top, a network's bridge name.
ip -n "$NS" link add brx type bridge
ip -n "$NS" link add px type veth peer name px-peer
ip -n "$NS" link set px master brx
ip -n "$NS" tuntap add tun0 mode tun
ip -n "$NS" link add eth1 type veth peer name eth1-peer
ip -n "$NS" rule add oif eth1 table 100 pref 1000
ip -n "$NS" link add eth4 type veth peer name eth4-peer
ip -n "$NS" link add mv0 link eth4 type macvlan mode bridge
mkdir -p "$T/mgr"
start_netd --manager-root "$T/mgr"
ctl network create other --mode isolated --subnet 10.55.0.0/24 --bridge nd-other --no-dhcp --no-dns >/dev/null
ctl network stop other >/dev/null
client_pid=$(pgrep -f "udhcpc .*-i eth0 .*$T")

# exit code | expected stderr (grep -F) | netdctl arguments
cases=(
	"1|interface 'nosuch0' does not exist|uplink convert nosuch0"
	"1|'px' is already a port of 'brx'; release it first (ip link set px nomaster)|uplink convert px"
	"1|'brx' is a bridge itself; attach guests to it with 'netdctl network create NAME --mode bridge --bridge brx'|uplink convert brx"
	"1|'lo' is the loopback interface; only an Ethernet uplink can be bridged|uplink convert lo"
	"1|'tun0' has no Ethernet address and cannot be a bridge port|uplink convert tun0"
	"1|interface 'brx' already exists; choose another name with --bridge|uplink convert eth0 --bridge brx"
	"1|bridge name 'nd-other' is used by a network|uplink convert eth0 --bridge nd-other"
	"1|invalid bridge name 'br-much-too-long': is longer than 15 bytes|uplink convert eth0 --bridge br-much-too-long"
	"1|invalid bridge name 'br/0': may contain only letters|uplink convert eth0 --bridge br/0"
	"1|the bridge needs a name other than 'eth0'|uplink convert eth0 --bridge eth0"
	"1|invalid bridge name 'default': must not be 'all' or 'default' (the kernel reserves them)|uplink convert eth0 --bridge default"
	"1|invalid bridge name 'all': must not be 'all' or 'default'|uplink convert eth0 --bridge all"
	"2|invalid duration '1147797409030816545h': expected e.g. 60s, 2m|uplink convert eth0 --confirm-timeout 1147797409030816545h"
	"1|policy rule 1000 (oif) names 'eth1'; netd does not rewrite rules|uplink convert eth1"
	"1|'eth4' carries macvlan 'mv0', and the kernel cannot make it a bridge port then; remove 'mv0' first|uplink convert eth4"
	"2|invalid duration '0': expected e.g. 60s, 2m|uplink convert eth0 --confirm-timeout 0"
	"2|invalid duration 'soon': expected e.g. 60s, 2m|uplink convert eth0 --confirm-timeout soon"
	"1|confirm timeout must be between 1 and 3600 seconds|uplink convert eth0 --confirm-timeout 2h"
	"2|uplink convert: missing IFACE (the uplink, e.g. eth0)|uplink convert"
	"1|no uplink conversion into 'br0' (see 'netdctl uplink status')|uplink confirm br0"
	"1|no uplink conversion into 'br0' (see 'netdctl uplink status')|uplink revert br0"
	"1|no uplink conversion into 'br9'|uplink status br9"
)
bad_cli_cases cases
raw_cases=(
	'{"method": "uplink.convert", "params": {"port": "eth0", "confirm_timeout": 0}}|confirm timeout must be between 1 and 3600 seconds'
	'{"method": "uplink.convert", "params": {"bridge": "br0"}}|missing parameter '"'"'port'"'"
	'{"method": "uplink.convert", "params": {"port": "eth0", "bridge": 7}}|parameter '"'"'bridge'"'"' must be a string'
	'{"method": "uplink.convert", "params": {"port": "eth0", "verify": 0}}|parameter '"'"'verify'"'"' must be true or false'
	'{"method": "uplink.convert", "params": {"port": "eth0", "verify": "nope"}}|invalid verify '"'"'nope'"'"': expected yes or no'
	'{"method": "uplink.convert", "params": {"port": "eth0", "confirm_timeout": 1147797409030816545}}|invalid confirm timeout'
	'{"method": "uplink.convert", "params": {"port": ["eth0"]}}|parameter '"'"'port'"'"' must be a string'
	'{"method": "uplink.confirm", "params": {}}|missing parameter '"'"'bridge'"'"
)
bad_raw_cases raw_cases
echo "# wireless: not tested here. A wireless device exists only with a radio (mac80211_hwsim),"
echo "# which the kernel creates in the host's own namespace first; netd refuses any interface"
echo "# with /sys/class/net/IF/wireless or phy80211 (the kernel would fail the enslave: EOPNOTSUPP)."

# Another network manager owns eth0 in a way netd cannot take over (faked: its files under
# --manager-root; test-uplink-ifupdown.sh and test-uplink-networkd.sh convert the real ones).
ifindex=$(link_field eth0 .ifindex)
manager_case() { # file content [file content...] expected-error [netdctl arguments]
	while [ $# -gt 2 ]; do
		mkdir -p "$(dirname "$T/mgr/$1")"
		printf '%b' "$2" >"$T/mgr/$1"
		shift 2
	done
	local row=("1|$1|uplink convert eth0 ${2:-}")
	bad_cli_cases row
	rm -rf "${T:?}/mgr/run" "${T:?}/mgr/etc"
}
manager_case "run/systemd/netif/links/$ifindex" 'ADMIN_STATE=configured\nOPER_STATE=routable\n' \
	"systemd-networkd manages 'eth0' (configured) but names no .network file for it; wait until it configured it, or give it a .network file with [Link] Unmanaged=yes"
manager_case "run/systemd/netif/links/$ifindex" 'ADMIN_STATE=configured\nNETWORK_FILE=/etc/systemd/network/00-0a.network\n' \
	"systemd-networkd configures 'eth0' from /etc/systemd/network/00-0a.network, which sorts before netd's own files (00-0netd-br0.network); rename it"
manager_case "run/NetworkManager/devices/$ifindex" '[device]\nmanaged=true\n' \
	"NetworkManager manages 'eth0' but runs no profile on it; wait until it connected it, or make it leave the interface (nmcli device set eth0 managed no)"
U=6f1c2f3e-52a4-4c1e-9a0b-3d2f8e7c1a55
NMDEV="[device]\nmanaged=true\nconnection-uuid=$U\n"
manager_case "run/NetworkManager/devices/$ifindex" "$NMDEV" \
	etc/NetworkManager/system-connections/wifi.nmconnection "[connection]\nuuid=$U\ntype=wifi\n" \
	"NetworkManager's profile of 'eth0' (/etc/NetworkManager/system-connections/wifi.nmconnection) is not an ethernet profile; netd cannot move it onto a bridge"
manager_case "run/NetworkManager/devices/$ifindex" "$NMDEV" \
	etc/NetworkManager/system-connections/a.nmconnection "[connection]\nuuid=$U\ntype=ethernet\n" \
	etc/NetworkManager/system-connections/b.nmconnection "[connection]\nuuid=$U\ntype=ethernet\n" \
	"2 keyfiles of /etc/NetworkManager/system-connections say uuid=$U (the profile NetworkManager runs on 'eth0'); keep one"
manager_case "run/NetworkManager/devices/$ifindex" "$NMDEV" \
	etc/NetworkManager/system-connections/a.nmconnection "[connection]\nuuid=$U\ntype=ethernet\n" \
	run/NetworkManager/system-connections/a.nmconnection "[connection]\nuuid=$U\ntype=ethernet\nmtu=9000\n" \
	"NetworkManager runs profile $U on 'eth0' with changes not saved to disk"
manager_case run/network/ifstate 'lo=lo\neth0=eth0\n' \
	"ifupdown configured 'eth0', but /etc/network/interfaces and /etc/network/interfaces.d/ have no 'iface eth0' stanza; 'ifdown eth0' before converting"
manager_case run/network/ifstate 'lo=lo\neth0=eth0\n' etc/network/interfaces 'mapping eth0\n\tscript /bin/true\n' \
	"ifupdown configures 'eth0', but /etc/network/interfaces cannot be rewritten for 'br0': a 'mapping' stanza names 'eth0'; netd does not rewrite those: change it by hand"
manager_case run/network/ifstate.eth0 'eth0\n' etc/network/interfaces 'iface eth0 inet dhcp\n' \
	"ifupdown configured 'eth0'; the bridge name 'br.0' has a '.', which ifupdown reads as a VLAN; choose another with --bridge" "--bridge br.0"
assert_eq "$(pgrep -f "udhcpc .*-i eth0 .*$T")" "$client_pid" "the DHCP client on eth0 after the refusals"
ok "the DHCP client on eth0 still runs (pid $client_pid)"

# While a conversion waits for its confirmation: a second one, of the same port or another.
ctl uplink convert eth0 --confirm-timeout 10m >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
BAD_BEFORE=
cases=(
	"1|the conversion of 'eth0' into 'br0' is in progress (waiting); confirm or revert it first|uplink convert eth0 --bridge br1"
	"1|the conversion of 'eth0' into 'br0' is in progress (waiting); confirm or revert it first|uplink convert eth1-peer --bridge br1"
	"1|no uplink conversion into 'br1'|uplink confirm br1"
)
bad_cli_cases cases

# Confirmed: eth0 is a port now, br0 a bridge; revert refuses while a guest port is on br0.
ctl uplink confirm br0 >/dev/null
ip -n "$NS" link add gp type veth peer name gp-peer
ip -n "$NS" link set gp master br0
BAD_BEFORE=
cases=(
	"1|'eth0' is already a port of 'br0'; release it first|uplink convert eth0 --bridge br1"
	"1|'br0' is a bridge itself; attach guests to it with 'netdctl network create NAME --mode bridge --bridge br0'|uplink convert br0 --bridge br1"
	"1|interface 'br0' already exists; choose another name with --bridge|uplink convert eth1-peer"
	"1|'br0' has other ports (gp); detach them (or delete the bridge-mode networks on it) before reverting|uplink revert br0"
)
bad_cli_cases cases
[ "$BAD_N" -ge 8 ] || fail "only $BAD_N refused inputs checked"
ok "$BAD_N refused inputs, each with its error and nothing changed"
