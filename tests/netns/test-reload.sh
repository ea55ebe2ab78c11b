#!/usr/bin/env bash
# Definitions edited by hand are applied on SIGHUP or 'netdctl reload': only what changed.
. "$(dirname "$0")/lib.sh"

start_netd
ctl network create a --mode isolated --subnet 10.60.0.0/24 >/dev/null
ctl network create b --mode isolated --subnet 10.61.0.0/24 >/dev/null
idx_a=$(link_field nd-a .ifindex)
idx_b=$(link_field nd-b .ifindex)

# Change a's subnet and MTU by hand; SIGHUP.
sed -i 's/^subnet = .*/subnet = 10.62.0.0\/24/; s/^gateway = .*/gateway = 10.62.0.1/' "$T/etc/networks/a.conf"
echo "mtu = 1300" >>"$T/etc/networks/a.conf"
kill -HUP "$NETD_PID"
for _ in $(seq 1 100); do
	ip -n "$NS" -j addr show nd-a | jq -e '.[0].addr_info[] | select(.local=="10.62.0.1")' >/dev/null && break
	sleep 0.05
done
addrs=$(ip -n "$NS" -j addr show nd-a | jq -r '[.[0].addr_info[] | select(.family=="inet") | .local] | join(",")')
assert_eq "$addrs" "10.62.0.1" "a's addresses after SIGHUP"
assert_eq "$(link_field nd-a .mtu)" 1300 "a's MTU after SIGHUP"
assert_eq "$(link_field nd-a .ifindex)" "$idx_a" "a's ifindex (changed in place)"
assert_eq "$(link_field nd-b .ifindex)" "$idx_b" "b untouched"
ok "SIGHUP applied the new subnet and MTU in place; b untouched"

# A new file, a removed file, via the reload verb.
cat >"$T/etc/networks/c.conf" <<EOC
[network]
mode = isolated
subnet = 10.63.0.0/24
EOC
rm "$T/etc/networks/b.conf"
rep=$(ctl --json reload)
assert_eq "$(jq -c .added <<<"$rep")" '["c"]' "reload added"
assert_eq "$(jq -c .removed <<<"$rep")" '["b"]' "reload removed"
has_link nd-c || fail "new network c not started"
has_link nd-b && fail "removed network b still has its bridge"
ok "reload starts a new definition and stops a removed one"

# A broken edit is reported and the running network stays as it was.
cp "$T/etc/networks/a.conf" "$T/a.good"
echo "colour = blue" >>"$T/etc/networks/a.conf"
rep=$(ctl --json reload)
grep -q "unknown key 'colour'" <<<"$(jq -r '.errors[0]' <<<"$rep")" || fail "reload error: $rep"
has_link nd-a || fail "broken edit stopped a"
assert_eq "$(ctl --json network show a | jq -r .subnet)" "10.62.0.0/24" "a keeps its definition"
ok "a broken file is reported ($(jq -r '.errors[0]' <<<"$rep")) and a keeps running"

# An edit that would overlap another network is refused the same way.
cp "$T/a.good" "$T/etc/networks/a.conf"
sed -i 's/^subnet = .*/subnet = 10.63.0.0\/24/; s/^gateway = .*/gateway = 10.63.0.1/' "$T/etc/networks/a.conf"
rep=$(ctl --json reload)
grep -q "overlaps network 'c'" <<<"$(jq -r '.errors[0]' <<<"$rep")" || fail "overlap on reload: $rep"
assert_eq "$(ip -n "$NS" -j addr show nd-a | jq -r '[.[0].addr_info[] | select(.family=="inet") | .local] | join(",")')" "10.62.0.1" "a unchanged"
ok "an overlapping edit is refused and changes nothing"

