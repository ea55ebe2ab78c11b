#!/usr/bin/env bash
# create -> bridge with address, STP off, forward delay 0, up; stop/start keeps the MAC;
# delete removes bridge and definition; --no-autostart defines without starting.
. "$(dirname "$0")/lib.sh"

start_netd
ctl network create lab --mode isolated --subnet 10.77.0.0/24 >"$T/out"
grep -q "state: *active" "$T/out" || fail "create did not print an active network: $(cat "$T/out")"

j=$(link_json nd-lab)
assert_eq "$(jq -r .linkinfo.info_kind <<<"$j")" bridge "kind of nd-lab"
assert_eq "$(jq -r .linkinfo.info_data.stp_state <<<"$j")" 0 "stp_state"
assert_eq "$(jq -r .linkinfo.info_data.forward_delay <<<"$j")" 0 "forward_delay"
assert_eq "$(jq -r '.flags | index("UP") != null' <<<"$j")" true "bridge up"
assert_eq "$(jq -r .ifalias <<<"$j")" "netd:lab" "alias tag"
addr=$(ip -n "$NS" -j addr show nd-lab | jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"')
assert_eq "$addr" "10.77.0.1/24" "gateway address"
ok "create: bridge nd-lab up with 10.77.0.1/24, STP off, forward delay 0"

[ -f "$T/etc/networks/lab.conf" ] || fail "definition not persisted"
grep -q "^subnet = 10.77.0.0/24$" "$T/etc/networks/lab.conf" || fail "definition lacks the subnet"
ok "definition persisted in the config dir"

show=$(ctl --json network show lab)
assert_eq "$(jq -r .state <<<"$show")" active "show state"
assert_eq "$(jq -r .kernel.exists <<<"$show")" true "show kernel.exists"
assert_eq "$(jq -r .kernel.up <<<"$show")" true "show kernel.up"
assert_eq "$(jq -r .kernel.gateway_present <<<"$show")" true "show kernel.gateway_present"
assert_eq "$(jq -r .kernel.stp <<<"$show")" false "show kernel.stp"
assert_eq "$(jq -r .kernel.mtu <<<"$show")" "$(link_field nd-lab .mtu)" "show kernel.mtu"
assert_eq "$(jq -r .kernel.ifindex <<<"$show")" "$(link_field nd-lab .ifindex)" "show kernel.ifindex"
ok "show --json reads the kernel state back"

list=$(ctl network list)
grep -Eq '^lab +isolated +nd-lab +10\.77\.0\.0/24 +active$' <<<"$list" || fail "list table: $list"
assert_eq "$(ctl --json network list | jq -r '.[0].name + " " + .[0].state')" "lab active" "list --json"
ok "list prints the table and JSON"

mac=$(link_field nd-lab .address)
ctl network stop lab >/dev/null
has_link nd-lab && fail "stop left the bridge"
[ -f "$T/etc/networks/lab.conf" ] || fail "stop removed the definition"
assert_eq "$(ctl --json network show lab | jq -r .state)" inactive "state after stop"
ctl network start lab >/dev/null
assert_eq "$(link_field nd-lab .address)" "$mac" "MAC after stop/start"
ok "stop removes the bridge and keeps the definition; start brings back the same MAC ($mac)"

ctl network create quiet --mode isolated --subnet 10.78.0.0/24 --no-autostart --mtu 1400 >/dev/null
has_link nd-quiet && fail "--no-autostart started the network"
grep -q "^autostart = no$" "$T/etc/networks/quiet.conf" || fail "--no-autostart not persisted"
ctl network start quiet >/dev/null
assert_eq "$(link_field nd-quiet .mtu)" 1400 "MTU"
ok "--no-autostart defines without starting; start applies the MTU"

ctl network delete lab >/dev/null
has_link nd-lab && fail "delete left the bridge"
[ -e "$T/etc/networks/lab.conf" ] && fail "delete left the definition"
[ -e "$T/lib/networks/lab" ] && fail "delete left the state"
ctl network show lab 2>"$T/err" && fail "show of a deleted network succeeded"
grep -q "no network named 'lab'" "$T/err" || fail "unexpected error: $(cat "$T/err")"
ok "delete removes bridge, definition and state"

st=$(ctl --json status)
assert_eq "$(jq -r .counts.networks <<<"$st")" 1 "status network count"
assert_eq "$(jq -r .paths.socket <<<"$st")" "$SOCK" "status socket path"
ok "status reports counts and paths"

perm=$(stat -c %a "$SOCK")
assert_eq "$perm" 660 "socket mode"
ok "control socket is 0660"
