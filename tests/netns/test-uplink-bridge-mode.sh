#!/usr/bin/env bash
# A --mode bridge network on a converted uplink: after 'uplink convert eth0' and 'confirm',
# 'network create lan --mode bridge --bridge br0' attaches to br0 without NAT or netd's DHCP
# (no dnsmasq, no address of netd's on br0); a guest namespace whose veth is a port of br0
# (the test enslaves it: netd plugs guests in with issue 5) gets its lease from the gateway
# namespace's dnsmasq, and reaches the gateway and the host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"

GUEST="netdt-guest-$$-${RANDOM}"
EXTRA_NS+=("$GUEST")
GUEST_MAC=52:54:00:aa:bb:01

lab_build
start_netd
ctl uplink convert eth0 --confirm-timeout 120s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
ctl uplink confirm br0 >/dev/null
br0_addrs=$(ip -n "$NS" -j addr show br0 | jq -c '[.[0].addr_info[] | .local] | sort')

ctl --json network create lan --mode bridge --bridge br0 >"$T/create.json" 2>"$T/err" || fail "create: $(cat "$T/err")"
assert_eq "$(jq -r .mode "$T/create.json")" bridge "mode of lan"
ok "network lan attached to br0 (mode bridge)"

# Guest: a veth whose host side is a port of br0.
ip netns add "$GUEST"
ip -n "$GUEST" link set lo up
ip -n "$NS" link add gv type veth peer name g0 netns "$GUEST"
ip -n "$GUEST" link set g0 address $GUEST_MAC
ip -n "$NS" link set gv master br0
ip -n "$NS" link set gv up
ip -n "$GUEST" link set g0 up
cat >"$T/guest.script" <<SCRIPT
#!/bin/sh
case "\$1" in
bound|renew)
	ip addr replace "\$ip/\$mask" dev "\$interface"
	echo "\$ip \$serverid \${router%% *}" >"$T/guest-lease"
	;;
esac
exit 0
SCRIPT
chmod +x "$T/guest.script"
ip netns exec "$GUEST" timeout 20 busybox udhcpc -f -q -n -i g0 -s "$T/guest.script" -t 15 -T 1 -A 1 \
	>"$T/guest-udhcpc.log" 2>&1 || fail "guest got no lease: $(cat "$T/guest-udhcpc.log")"
read -r gip gserver grouter <"$T/guest-lease"
assert_eq "$gserver" "$GW4" "DHCP server that answered the guest"
assert_eq "$grouter" "$GW4" "router the guest was given"
grep -qi " $GUEST_MAC $gip " "$T/leases" || fail "the gateway's dnsmasq has no lease for $GUEST_MAC: $(cat "$T/leases")"
[ "$gip" != "$HOST4" ] || fail "the guest got the host's address"
ok "guest $GUEST_MAC got $gip from the gateway's dnsmasq ($gserver), router $grouter"

ip netns exec "$GUEST" ping -c 1 -W 2 "$GW4" >/dev/null || fail "guest cannot reach the gateway"
ip netns exec "$GUEST" ping -c 1 -W 2 "$HOST4" >/dev/null || fail "guest cannot reach the host on br0"
ok "guest reaches the gateway $GW4 and the host $HOST4"

# netd serves nothing on lan: no dnsmasq, no files for it, no address of its own on br0.
for pid in $(ip netns pids "$NS"); do
	[ "$(cat /proc/"$pid"/comm 2>/dev/null)" = dnsmasq ] && fail "a dnsmasq runs in the host namespace (pid $pid)"
done
ls "$T/run/dnsmasq/lan."* >/dev/null 2>&1 && fail "netd wrote dnsmasq files for lan: $(ls "$T/run/dnsmasq")"
assert_eq "$(ip -n "$NS" -j addr show br0 | jq -c '[.[0].addr_info[] | .local] | sort')" "$br0_addrs" "br0's addresses"
ok "netd runs no dnsmasq for lan and added no address to br0"

j=$(ctl --json network show lan)
assert_eq "$(jq -c '.kernel.ports | sort' <<<"$j")" '["eth0","gv"]' "ports of br0 in 'network show lan'"
assert_eq "$(jq -r .kernel.uplink <<<"$j")" true "'network show lan' knows br0 is the converted uplink"
ok "network show lan: ports eth0 and gv, uplink bridge"

# Deleting the network leaves br0 and its ports alone (it never owned them).
ctl network delete lan >/dev/null
has_link br0 || fail "deleting lan removed br0"
assert_eq "$(link_field gv .master)" br0 "gv's master after deleting lan"
assert_eq "$(link_field eth0 .master)" br0 "eth0's master after deleting lan"
ok "network delete lan left br0, eth0 and the guest port alone"
