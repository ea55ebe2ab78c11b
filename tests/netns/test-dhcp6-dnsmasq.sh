#!/usr/bin/env bash
# dnsmasq for IPv6 as dhcp/ renders it (issue 14, part C), run for real on a bridge in a namespace
# with guests in namespaces of their own: the kernel's SLAAC (accept_ra) and dhclient -6 (busybox
# 1.35 in Debian has no udhcpc6). Per mode:
# - slaac: a SLAAC address from the prefix, the default route from the RA;
# - dhcpv6: reservations by MAC and by DUID get their addresses, another client one from the
#   range; the default route from the RA; DNS answers AAAA for a leased name; the lease file parses
#   into the lease table with IAID and DUID; netd-lease-event passes duid, iaid and mac;
# - isolated (router lifetime 0): a SLAAC address and no default route.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ipv6-lib.sh"
need dnsmasq dhclient socat busybox
: "${DHCP6_RENDER:?}" "${LEASE_EVENT:?}"
LEASE_EXPORT=${LEASE_EXPORT:-}

P6=fd42:6:1
D="$T/dns6"
mkdir -m 0755 "$D"
nsx sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$NS" link add br6 type bridge
nsx sysctl -qw net.ipv6.conf.br6.accept_dad=0 net.ipv6.conf.br6.accept_ra=0
ip -n "$NS" addr add 10.66.0.1/24 dev br6
ip -n "$NS" addr add "$P6::1/64" dev br6 nodad
ip -n "$NS" link set br6 up

# The lease-event helper talks to a "netd" that records each request and answers it.
socat "UNIX-LISTEN:$D/netd.sock,fork" SYSTEM:"head -n1 >>$D/events; echo '{}'" &
BG_PIDS+=($!)
DNSMASQ=
start_dnsmasq() { # MODE ROUTER [OPTION]...
	local mode=$1 router=$2
	shift 2
	if [ -n "$DNSMASQ" ]; then
		kill "$DNSMASQ"
		while kill -0 "$DNSMASQ" 2>/dev/null; do sleep 0.05; done
	fi
	rm -f "$D/leases" "$D/events" "$D/pid"
	"$DHCP6_RENDER" render "$D" br6 "$mode" "$router" "$P6::/64" 10.66.0.0/24 domain=lab.test \
		"script=$LEASE_EVENT" "$@" || fail "render $mode"
	NETD_SOCKET="$D/netd.sock" NETD_NETWORK=lab ip netns exec "$NS" dnsmasq --keep-in-foreground \
		--conf-file="$D/dnsmasq.conf" --pid-file="$D/pid" --log-facility="$D/log.$mode" &
	for _ in $(seq 50); do [ -s "$D/pid" ] && break; sleep 0.1; done
	DNSMASQ=$(cat "$D/pid") # dnsmasq's own: the next mode stops it by this pid
	for _ in $(seq 50); do grep -q "router advertisement on $P6::" "$D/log.$mode" 2>/dev/null && break; sleep 0.1; done
	grep -q "router advertisement on $P6::" "$D/log.$mode" || fail "dnsmasq ($mode) did not start: $(cat "$D/log.$mode")"
}

# --- slaac: the kernel's SLAAC address and the RA's default route.
start_dnsmasq slaac router
guest6 s1 52:54:00:66:00:01 br6
a=$(wait_addr6 s1 "^$P6:")
for _ in $(seq 50); do [ -n "$(default6 s1)" ] && break; sleep 0.1; done
gw=$(default6 s1)
case "$gw" in fe80::*) ;; *) fail "slaac: default route via '$gw', expected the bridge's link-local address" ;; esac
ok "slaac: guest has $a from the RA and a default route via $gw"

# --- isolated: router lifetime 0, an on-link prefix and no default route.
start_dnsmasq slaac isolated
guest6 i1 52:54:00:66:00:02 br6
a=$(wait_addr6 i1 "^$P6:")
sleep 1 # the RA that gave the address gave any route at once: a second more to be sure
[ -z "$(default6 i1)" ] || fail "isolated: a default route via $(default6 i1)"
gx i1 ip -6 route show "$P6::/64" | has . || fail "isolated: the prefix is not on-link"
ok "isolated: guest has $a, the prefix on-link and no default route"

# --- dhcpv6: reservations by MAC and by DUID, a dynamic lease, AAAA, the lease file, the events.
G3MAC=52:54:00:66:00:13
start_dnsmasq dhcpv6 router range6="$P6::100-$P6::1ff" "host=52:54:00:66:00:12,$P6::50,gtwo" \
	"host=id:00:03:00:01:$G3MAC,$P6::60,gthree"
guest6 g2 52:54:00:66:00:12 br6
guest6 g3 "$G3MAC" br6
guest6 g4 52:54:00:66:00:14 br6
for g in g2 g3 g4; do dhclient6 $g; done
for g in g2 g3 g4; do
	for _ in $(seq 150); do grep -q '^bound ' "$T/$g.events" 2>/dev/null && break; sleep 0.1; done
	grep -q '^bound ' "$T/$g.events" 2>/dev/null ||
		fail "$g: no DHCPv6 lease; dhclient: $(tail -n 20 "$T/$g.dhclient.log"); dnsmasq: $(tail -n 20 "$D/log.dhcpv6")"
done
assert_eq "$(wait_event g2 '^bound ' | sed 's/.* ip=\([^ ]*\).*/\1/')" "$P6::50" "g2 (reserved by MAC)"
assert_eq "$(wait_event g3 '^bound ' | sed 's/.* ip=\([^ ]*\).*/\1/')" "$P6::60" "g3 (reserved by DUID)"
a4=$(wait_event g4 '^bound ' | sed 's/.* ip=\([^ ]*\).*/\1/')
[[ $a4 =~ ^$P6::1[0-9a-f][0-9a-f]$ ]] || fail "g4: $a4 is not from the range $P6::100-$P6::1ff"
wait_event g2 "dns=$P6::1 search=lab.test" >/dev/null
ok "dhcpv6: reserved by MAC $P6::50, by DUID $P6::60, from the range $a4; DNS $P6::1, search lab.test"
gw=$(default6 g2)
case "$gw" in fe80::*) ;; *) fail "dhcpv6: default route via '$gw'" ;; esac
gx g2 ip -6 addr show dev eth0 | has "$P6::50/" ||
	fail "g2: address not on eth0: $(gx g2 ip -6 addr show dev eth0); dhclient: $(tail -n 5 "$T/g2.dhclient.log")"
gx g2 ping -6 -c1 -W2 "$P6::1" >/dev/null || fail "g2 cannot reach the gateway $P6::1"
ok "dhcpv6: default route via $gw, the gateway answers"

# DNS: AAAA of a leased (reserved) name, asked from another guest over IPv6.
aaaa=$({ gx g4 busybox nslookup -type=AAAA gthree.lab.test "$P6::1" 2>&1 || true; } | awk '/^Address: / { a = $2 } END { print a }') # a failed query: assert_eq says so
assert_eq "$aaaa" "$P6::60" "AAAA of gthree.lab.test"
ok "DNS answers AAAA $aaaa for gthree.lab.test"

# The lease file as dnsmasq wrote it, through netd's parser.
for _ in $(seq 50); do [ "$(grep -c "^[0-9]* [0-9]* $P6:" "$D/leases" 2>/dev/null)" = 3 ] && break; sleep 0.1; done
"$DHCP6_RENDER" leases "$D/leases" >"$D/parsed"
grep -q "^6 $P6::60 [0-9]* 00:03:00:01:$G3MAC gthree$" "$D/parsed" || fail "lease of g3: $(cat "$D/parsed")"
grep -q "^6 $P6::50 [0-9]* 00:0[13]:[0-9a-f:]* gtwo$" "$D/parsed" || fail "lease of g2: $(cat "$D/parsed")"
grep -q "^6 $a4 [0-9]* 00:03:00:01:52:54:00:66:00:14 -$" "$D/parsed" || fail "lease of g4: $(cat "$D/parsed")"
grep -q "^bad 0$" "$D/parsed" || fail "malformed lines in dnsmasq's lease file: $(cat "$D/parsed")"
[ -z "$LEASE_EXPORT" ] || cp "$D/leases" "$LEASE_EXPORT"
ok "dnsmasq's lease file parses: $(grep -c '^6 ' "$D/parsed") DHCPv6 leases with IAID and DUID, 0 bad lines"

# The lease events netd would get: DUID, IAID and the MAC dnsmasq learnt.
for _ in $(seq 50); do [ "$(grep -c '"action":"add"' "$D/events" 2>/dev/null)" = 3 ] && break; sleep 0.1; done
ev=$(grep -s "\"ip\":\"$P6::60\"" "$D/events" | head -n1 || true)
[ -n "$ev" ] || fail "no lease event for $P6::60: $(cat "$D/events" 2>/dev/null)"
assert_eq "$(jq -r .params.duid <<<"$ev")" "00:03:00:01:$G3MAC" "event duid"
assert_eq "$(jq -r .params.mac <<<"$ev")" "$G3MAC" "event mac"
jq -e '.params.iaid | test("^[0-9]+$")' <<<"$ev" >/dev/null || fail "event iaid: $ev"
assert_eq "$(jq -r .params.hostname <<<"$ev")" gthree "event hostname"
ok "lease event: duid, iaid, mac and hostname of the DHCPv6 lease"
