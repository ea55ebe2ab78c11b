#!/usr/bin/env bash
# Coexistence with another firewall: a Docker-style table (table ip filter, chain FORWARD, policy
# drop) exists before netd starts. netd never edits it; it reports exactly which table and chain
# blocks a nat network (network show, --json, the log), and once the operator lets the bridge
# through there (the way the log suggests) the report clears by itself and traffic flows. The
# report follows what the rules do (nat/reach.c): half of the advice, a drop rule that names the
# bridge and a blocked DHCP port are blocks; the advice in a chain the base chain jumps to is not.
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "nft missing"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
command -v busybox >/dev/null || skip "busybox missing"

add_upstream
nsx nft -f - <<'NFT'
table ip filter {
	chain FORWARD { type filter hook forward priority filter; policy drop; }
	chain INPUT { type filter hook input priority filter; policy accept; }
}
NFT
foreign_before=$(nsx nft list table ip filter)

start_netd
ctl network create lab --mode nat --subnet 10.71.0.0/24 >/dev/null
ctl network create quiet --mode isolated --subnet 10.72.0.0/24 >/dev/null
want="forwarding blocked by table ip filter chain FORWARD (hook forward, policy drop)"
assert_eq "$(ctl --json network show lab | jq -r .state)" degraded "state of the blocked nat network"
assert_eq "$(ctl --json network show lab | jq -r .problem)" "$want" "problem of the blocked nat network"
ctl network show lab | has -F "state:      degraded ($want)" || fail "network show: $(ctl network show lab)"
assert_eq "$(ctl --json network show quiet | jq -r .state)" active "an isolated network is not blocked by a forward chain"
grep -qF 'bridge nd-lab: forwarding blocked by table ip filter chain FORWARD' "$T/netd.log" || fail "not logged"
grep -qF 'nft insert rule ip filter FORWARD iifname "nd-lab" accept' "$T/netd.log" || fail "no hint in the log"
ok "blocked: network show says '$want'; the log says how to let nd-lab through"

add_guest g 52:54:00:cc:00:01 nd-lab
dhcp_client g lab
gw=10.71.0.1
wait_event g '^bound ' >/dev/null
gx g ip route add default via $gw
gx g ping -c1 -W1 $gw >/dev/null || fail "guest cannot reach its gateway"
[ -z "$(ask_upstream g)" ] || fail "traffic passed a FORWARD chain with policy drop?"
ok "the guest has its lease and reaches the gateway; upstream is blocked, as reported"

# The operator lets the bridge through in the foreign chain: netd sees the change by itself.
nsx nft insert rule ip filter FORWARD iifname nd-lab accept
nsx nft insert rule ip filter FORWARD oifname nd-lab accept
for _ in $(seq 1 100); do
	[ "$(ctl --json network show lab | jq -r .state)" = active ] && break
	sleep 0.01
done
assert_eq "$(ctl --json network show lab | jq -r .state)" active "state once the foreign chain lets nd-lab through"
assert_eq "$(ask_upstream g)" 192.168.50.2 "source address upstream sees"
ok "after 'nft insert rule ip filter FORWARD iifname/oifname nd-lab accept' the report clears and NAT works"

# netd never touched the foreign table (apart from the operator's two rules).
after=$(nsx nft list table ip filter | grep -v 'nd-lab" accept')
assert_eq "$after" "$foreign_before" "the foreign table"
ok "table ip filter is as the operator left it"

# netd lists other tables' forward chains only when another process made a transaction (not after
# each of its own): a chain that appears just before a network is created is still reported at
# once, and a network created under a chain netd listed before is reported from that listing.
nsx nft -f - <<'NFT'
table inet other {
	chain block { type filter hook forward priority filter; policy drop; }
}
NFT
ctl network create lab2 --mode nat --subnet 10.73.0.0/24 >/dev/null
want2="forwarding blocked by table inet other chain block (hook forward, policy drop)"
# A table that just appeared is judged after a grace of 2 s (firewalld's reload has such a table
# for a moment): not reported before, reported then.
assert_eq "$(ctl --json network show lab2 | jq -r .state)" active "lab2 within the grace of a new table"
for _ in $(seq 1 40); do
	has -F 'bridge nd-lab2: forwarding blocked by table inet other chain block' "$T/netd.log" && break
	sleep 0.1
done
grep -qF 'bridge nd-lab2: forwarding blocked by table inet other chain block' "$T/netd.log" ||
	fail "a network created right after a foreign chain appeared: its block is not logged after the grace"
assert_eq "$(ctl --json network show lab | jq -r .problem)" "$want2" "problem of lab under the new chain"
ctl network create lab3 --mode routed --subnet 10.74.0.0/24 >/dev/null
grep -qF 'bridge nd-lab3: forwarding blocked by table inet other chain block' "$T/netd.log" ||
	fail "a network created under a chain listed before: its block is not logged"
nsx nft insert rule ip filter FORWARD iifname nd-lab3 accept
nsx nft insert rule ip filter FORWARD oifname nd-lab3 accept
ctl network stop lab2 >/dev/null
assert_eq "$(ctl --json network show lab3 | jq -r .problem)" "$want2" "problem of lab3 once ip filter lets it through"
ok "a forward chain added while netd runs is reported for new and existing networks"

# What the rules do, not the names in them.
until_problem() { # NETWORK PATTERN (grep -E): wait up to 1 s for the network's problem to match
	local p
	for _ in $(seq 1 100); do
		p=$(ctl --json network show "$1" | jq -r .problem)
		grep -qE -- "$2" <<<"$p" && return 0
		sleep 0.01
	done
	fail "network $1: problem '$p', expected /$2/"
}
nsx nft delete table inet other
ctl network create lab4 --mode nat --subnet 10.75.0.0/24 >/dev/null
until_problem lab4 '^forwarding blocked by table ip filter chain FORWARD \(hook forward, policy drop\)$'
# Half of the advice, in a chain FORWARD jumps to (as Docker's DOCKER-USER): the replies are still
# dropped.
nsx nft add chain ip filter USER
nsx nft insert rule ip filter FORWARD jump USER
nsx nft add rule ip filter USER iifname nd-lab4 accept
until_problem lab4 '^forwarded replies blocked by table ip filter chain FORWARD \(hook forward, policy drop\)$'
ok "half of the advice (out only, in a chain FORWARD jumps to) is still reported, as the replies' block"
nsx nft add rule ip filter USER oifname nd-lab4 accept
until_problem lab4 '^null$'
assert_eq "$(ctl --json network show lab4 | jq -r .state)" active "state once USER lets nd-lab4 through both ways"
ok "the advice in a chain FORWARD jumps to clears the report"
# A drop rule that names the bridge is a block, not a way through.
nsx nft insert rule ip filter FORWARD iifname nd-lab4 counter drop
until_problem lab4 '^forwarding blocked by table ip filter chain FORWARD \(hook forward, rule handle [0-9]+: iifname "nd-lab4" drop\)$'
grep -qF 'bridge nd-lab4: forwarding blocked by table ip filter chain FORWARD (hook forward, rule handle' "$T/netd.log" ||
	fail "the drop rule's block is not logged"
ok "a drop rule naming the bridge is reported with its handle and text"
# The input side: DHCP to the gateway dropped, on a network that forwards nothing.
nsx nft add rule ip filter INPUT iifname nd-quiet udp dport 67 drop
until_problem quiet '^DHCP blocked by table ip filter chain INPUT \(hook input, rule handle [0-9]+: iifname "nd-quiet" udp dport 67 drop\)$'
grep -qF 'nft insert rule ip filter INPUT iifname "nd-quiet" udp dport 67 accept' "$T/netd.log" || fail "no DHCP hint in the log"
ok "a rule that drops DHCP to the gateway is reported for an isolated network too"
