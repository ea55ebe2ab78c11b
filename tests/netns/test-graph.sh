#!/bin/bash
# netdctl graph against a running netd: its uplink up0 converted into br0 with a mode bridge
# network on it, a nat network with IPv6 and a guest behind netd's TAP (its lease, its hostname)
# with a port forward to it, an isolated network with a DHCP client that is no guest of netd's and
# a second guest that crashes. The DOT text has each of them, and the
# problems in red (the crashed guest; the nat network once another table's FORWARD chain drops its
# traffic). dot renders SVG and PNG (skipped, saying so, only where Graphviz is not installed);
# -o refuses an existing file or symlink unless --force; without dot svg fails naming the package
# graphviz and writes nothing, while DOT still works; --json is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap-guest-lib.sh"
need nft socat dnsmasq busybox python3

add_upstream
ip -n "$NS" route add default via 192.168.50.1
start_netd_tap_guests
ctl uplink convert up0 --bridge br0 >/dev/null || fail "uplink convert up0"
ctl uplink confirm br0 >/dev/null || fail "uplink confirm br0"
ctl network create lan --mode bridge --bridge br0 >/dev/null || fail "network create lan"
ctl network create lab --mode nat --subnet 10.93.0.0/24 --subnet6 fd00:93::/64 >/dev/null || fail "network create lab"
ctl network create iso --mode isolated --subnet 10.94.0.0/24 >/dev/null || fail "network create iso"
tap_guest g1 52:54:00:93:00:01 lab
dhcp_client g1 lab
ip1=$(guest_ip g1)
ctl network forward add lab --proto tcp --port 8080 --to g1:80 >/dev/null || fail "forward add"
add_guest c1 52:54:00:94:00:99 nd-iso
dhcp_client c1 iso
ipc=$(guest_ip c1)
tap_guest g2 52:54:00:94:00:02 iso
kill -9 "$(cat "$T/run/guests/g2/pid")"
for _ in $(seq 100); do [ "$(ctl --json vm show g2 | jq -r .state)" = crashed ] && break; sleep 0.05; done
assert_eq "$(ctl --json vm show g2 | jq -r .state)" crashed "state of g2 after kill -9 of its QEMU"

# has_dot TEXT...: every TEXT is in the DOT text (as written there: "\n" is DOT's line break).
has_dot() {
	local t
	for t; do grep -qF -- "$t" "$T/g.dot" || fail "graph: '$t' missing from the DOT text:
$(cat "$T/g.dot")"; done
}
# cluster_of LABEL: the renderer's id of the cluster with that label (net1, g0).
cluster_of() {
	# (through the environment: awk -v would read the label's "\n" as a line break)
	L="label=\"$1\\n" awk '/subgraph cluster_/ { id = substr($2, 9) } index($0, ENVIRON["L"]) { print id; exit }' "$T/g.dot"
}
ctl graph >"$T/g.dot" || fail "netdctl graph"
lab=$(cluster_of "network lab")
g1=$(cluster_of "guest g1")
if [ -z "$lab" ] || [ -z "$g1" ]; then fail "no cluster for network lab or guest g1: $(cat "$T/g.dot")"; fi
has_dot 'digraph netd {' \
	'uplink0_port [label="up0\nthe LAN (converted port)"' 'uplink0 [label="bridge br0\nuplink, confirmed' \
	'uplink0_port -> uplink0 [label="port"];' 'uplink0 -> host;' 'label="network lan\nbridge, active"' \
	'label="network lab\nnat, active"' 'bridge nd-lab\nIPv4 10.93.0.0/24\ngateway 10.93.0.1' \
	'IPv6 fd00:93::/64 (slaac, masqueraded)' "host -> $lab [label=\"masquerade\"]" \
	'label="network iso\nisolated, active"' 'bridge nd-iso\nIPv4 10.94.0.0/24' \
	'label="guest g1\nrunning"' "${g1}_nic0 [label=\"nic0 vm-g1-0\n52:54:00:93:00:01\n$ip1\nhostname g1\"" \
	"$lab -> ${g1}_nic0;" \
	"[label=\"DHCP client\nc1\n52:54:00:94:00:99\n$ipc\"" \
	'label="guest g2\ncrashed";' \
	"fw${lab#net}_0 [label=\"forward 1\ntcp any port 8080\nto g1:80\nnow $ip1\"" \
	"fw${lab#net}_0 -> ${g1}_nic0 [arrowhead=normal"
grep -qE '^	uplink0 -> net[0-9]+ \[label="guests on the LAN"\];$' "$T/g.dot" || fail "lan is not on br0: $(cat "$T/g.dot")"
grep -A1 -F 'label="guest g2\ncrashed";' "$T/g.dot" | grep -qF 'color="#c0392b"; fontcolor="#c0392b"' ||
	fail "the crashed guest is not red"
grep -q 'color="#c0392b"' <(grep -v -F -e 'guest g2' -e 'fontcolor="#c0392b"; penwidth=2;' "$T/g.dot") &&
	fail "something but the crashed guest is red: $(grep '#c0392b' "$T/g.dot")"
ok "DOT: the converted uplink and the bridge network on it, the other networks (subnets, modes), g1's NIC (MAC, lease, hostname), the DHCP client c1, the forward to g1, crashed g2 in red"

# Another table's FORWARD chain drops the nat network's traffic: its cluster and bridge turn red.
nsx nft -f - <<'NFT'
table ip filter {
	chain FORWARD { type filter hook forward priority filter; policy drop; }
}
NFT
for _ in $(seq 100); do [ "$(ctl --json network show lab | jq -r .state)" = degraded ] && break; sleep 0.02; done
assert_eq "$(ctl --json network show lab | jq -r .state)" degraded "state of lab under a FORWARD policy drop"
ctl graph >"$T/g.dot" || fail "netdctl graph (degraded)"
has_dot 'label="network lab\nnat, degraded"' \
	'problem: forwarding blocked by table ip filter chain FORWARD' \
	'fillcolor="#d6eaf8", color="#c0392b", fontcolor="#c0392b", penwidth=2];'
ok "DOT: the firewall's block is lab's problem, in red"

# Bad input: usage errors (2) and nothing written; --json is no picture.
for args in "--json" "--format gif" "--force" "-o" "--format" "extra"; do
	rc=0
	# shellcheck disable=SC2086 # the words of each case
	ctl graph $args >/dev/null 2>"$T/err" || rc=$?
	assert_eq "$rc" 2 "exit status of 'netdctl graph $args'"
done
grep -q "does not apply" <(ctl graph --json 2>&1) || fail "--json: no word on why"
ok "graph refuses --json, an unknown format, --force without -o, -o or --format without a value"

# Without dot (a PATH without it): svg fails naming graphviz, writes nothing; DOT still works.
mkdir "$T/nodot"
rc=0; env PATH="$T/nodot" "$NETDCTL" --socket "$SOCK" graph --format svg -o "$T/nodot.svg" 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit status of graph --format svg without dot"
grep -q "install the package graphviz" "$T/err" || fail "no word on graphviz: $(cat "$T/err")"
[ ! -e "$T/nodot.svg" ] || fail "graph without dot wrote $T/nodot.svg"
env PATH="$T/nodot" "$NETDCTL" --socket "$SOCK" graph -o "$T/nodot.dot" || fail "DOT without dot"
cmp -s "$T/nodot.dot" "$T/g.dot" || fail "-o FILE differs from standard output"
ok "without dot: svg fails naming the package graphviz, nothing written; DOT still written"

if ! command -v dot >/dev/null; then
	echo "SKIP (part): Graphviz's dot is not installed: SVG and PNG not rendered (install graphviz)"
	exit 0
fi
ctl graph --format svg -o "$T/g.svg" || fail "graph --format svg"
grep -q '<svg' "$T/g.svg" || fail "no SVG in $T/g.svg: $(head -c 300 "$T/g.svg")"
for t in 'network lab' 'network iso' 'guest g1' 'guest g2' 'forward 1' "$ip1" "$ipc" '52:54:00:93:00:01'; do
	grep -qF -- ">$t" "$T/g.svg" || fail "SVG: '$t' missing"
done
ctl graph --format svg | cmp -s - "$T/g.svg" || fail "SVG on standard output differs from -o FILE"
ctl graph --format png -o "$T/g.png" || fail "graph --format png"
[ "$(head -c 8 "$T/g.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$T/g.png is no PNG"
ok "dot renders the graph: SVG (with every network, guest, address and the forward) and PNG"
if command -v script >/dev/null; then
	rc=0; script -qec "$NETDCTL --socket $SOCK graph --format png" /dev/null >"$T/tty" 2>&1 || rc=$?
	assert_eq "$rc" 1 "exit status of a PNG to a terminal"
	grep -q "a PNG is not for a terminal" "$T/tty" || fail "PNG to a terminal: $(cat "$T/tty")"
	ok "no PNG onto a terminal"
fi

# -o: an existing file or a symlink only with --force (the symlink replaced, its target untouched).
echo keep >"$T/target"
ln -s "$T/target" "$T/link"
rc=0; ctl graph --format svg -o "$T/g.svg" 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit status of -o over an existing file"
grep -q "exists (--force replaces it)" "$T/err" || fail "-o existing: $(cat "$T/err")"
rc=0; ctl graph -o "$T/link" 2>/dev/null || rc=$?
assert_eq "$rc" 1 "exit status of -o over a symlink"
assert_eq "$(cat "$T/target")" keep "the symlink's target after a refused -o"
ctl graph -o "$T/link" --force || fail "-o symlink --force"
[ ! -L "$T/link" ] || fail "--force did not replace the symlink"
grep -q 'digraph netd' "$T/link" || fail "--force wrote no graph over the symlink"
assert_eq "$(cat "$T/target")" keep "the symlink's target after --force"
ok "-o refuses an existing file or symlink; --force replaces the link, not its target"
