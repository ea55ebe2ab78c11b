# The uplink lab, built per test on top of lib.sh:
#   $NS  (host):    eth0 (veth, MAC $HOST_MAC), IPv4 from busybox udhcpc, IPv6 by SLAAC
#   $SW  (switch):  bridge sw with sw-host and sw-gw; optional port security on sw-host
#   $GW  (gateway): gw0 192.168.77.1/24 + 2001:db8:77::1/64, dnsmasq (DHCP, 2 min leases, RA;
#                   LAB_DNSMASQ_ARGS, an array, adds options; LAB_RA=0: no RA from dnsmasq,
#                   the test sends its own);
#                   off-link probe sources 10.99.0.1 and 2001:db8:99::1 on lo
command -v busybox >/dev/null || skip "busybox missing (udhcpc)"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
command -v ping >/dev/null || skip "ping missing"

SW="netdt-sw-$$-${RANDOM}"
GW="netdt-gw-$$-${RANDOM}"
EXTRA_NS+=("$SW" "$GW")
HOST_MAC=52:54:00:12:34:56
GW4=192.168.77.1
PROBE4=10.99.0.1
PROBE6=2001:db8:99::1

swx() { ip netns exec "$SW" "$@"; }
gwx() { ip netns exec "$GW" "$@"; }

lab_build() {
	ip netns add "$SW"
	ip netns add "$GW"
	ip -n "$SW" link set lo up
	ip -n "$GW" link set lo up
	ip -n "$SW" link add sw type bridge stp_state 0 forward_delay 0
	ip -n "$SW" link add sw-host type veth peer name eth0 netns "$NS"
	ip -n "$SW" link add sw-gw type veth peer name gw0 netns "$GW"
	ip -n "$SW" link set sw-host master sw
	ip -n "$SW" link set sw-gw master sw
	for l in sw sw-host sw-gw; do ip -n "$SW" link set "$l" up; done
	ip netns exec "$SW" sysctl -qw net.ipv6.conf.all.disable_ipv6=1

	gwx sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0
	ip -n "$GW" addr add $GW4/24 dev gw0
	ip -n "$GW" addr add 2001:db8:77::1/64 dev gw0 nodad
	ip -n "$GW" addr add $PROBE4/32 dev lo
	ip -n "$GW" addr add $PROBE6/128 dev lo
	ip -n "$GW" link set gw0 up
	# dnsmasq advertises a default router only when it has a default route itself.
	ip -n "$GW" route add default dev lo
	ip -n "$GW" -6 route add default dev lo

	ip -n "$NS" link set eth0 address $HOST_MAC
	nsx sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth0.rp_filter=1

	local ra=(--enable-ra --dhcp-range=::,constructor:gw0,ra-only,64,2h --ra-param=gw0,3,1800)
	[ "${LAB_RA:-1}" = 0 ] && ra=()
	gwx dnsmasq --keep-in-foreground --port=0 --interface=gw0 --bind-interfaces --user=root --group=root \
		--dhcp-range=192.168.77.100,192.168.77.150,2m --dhcp-authoritative --no-ping \
		--dhcp-leasefile="$T/leases" --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log" --log-dhcp \
		${ra[@]+"${ra[@]}"} --conf-file=/dev/null ${LAB_DNSMASQ_ARGS[@]+"${LAB_DNSMASQ_ARGS[@]}"} &
	DNSMASQ_PID=$!

	cat >"$T/udhcpc.script" <<SCRIPT
#!/bin/sh
# Configures without flushing: a renewal of the same address changes nothing.
case "\$1" in
deconfig) ip link set "\$interface" up ;;
bound|renew)
	# A client caught in its script when netd rolls back (test-uplink-crash.sh).
	[ "\$interface" = br0 ] && [ -e "$T/slow-bridge-script" ] && { : >"$T/bridge-script-in"; sleep 5; }
	ip addr replace "\$ip/\$mask" dev "\$interface"
	[ -n "\$router" ] && ip route replace default via "\${router%% *}" dev "\$interface"
	echo "\$1 \$interface \$ip \$(date +%s)" >>"$T/dhcp-events"
	;;
esac
exit 0
SCRIPT
	chmod +x "$T/udhcpc.script"
	[ "${1:-}" = --no-boot ] || host_boot
}

# What the host's boot does to eth0 (IPv6 autoconf, $HOST_SYSCTLS, a DHCP client); waits for its
# addresses.
host_boot() {
	# shellcheck disable=SC2086 # a list of key=value words
	nsx sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 net.ipv6.conf.eth0.accept_ra=1 net.ipv6.conf.eth0.autoconf=1 \
		${HOST_SYSCTLS:-}
	ip -n "$NS" link set eth0 up
	ip netns exec "$NS" busybox udhcpc -f -i eth0 -s "$T/udhcpc.script" -t 20 -T 1 -A 1 >/dev/null 2>&1 &
	UDHCPC_PID=$!
	host_wait eth0
}

# host_wait IFACE: waits until IFACE has a DHCP lease, a SLAAC address (past DAD) and an IPv6
# default route (HOST4, HOST6, DEF6), and the gateway reaches both addresses.
host_wait() {
	local dev=$1
	HOST4= HOST6= DEF6=
	for _ in $(seq 1 100); do
		HOST4=$(ip -n "$NS" -j addr show "$dev" | jq -r '.[0].addr_info[] | select(.family=="inet") | .local' | head -1)
		HOST6=$(ip -n "$NS" -j addr show "$dev" | jq -r '.[0].addr_info[] | select(.family=="inet6" and .scope=="global") | .local' | head -1)
		DEF6=$(ip -n "$NS" -6 route show default | sed -n 1p)
		[ -n "$HOST4" ] && [ -n "$HOST6" ] && [ -n "$DEF6" ] && break
		sleep 0.1
	done
	[ -n "$HOST4" ] || fail "host got no DHCP lease on $dev"
	[ -n "$HOST6" ] || fail "host got no SLAAC address on $dev"
	[ -n "$DEF6" ] || fail "host got no IPv6 default route from the RA"
	# Wait for the SLAAC address to finish DAD.
	for _ in $(seq 1 50); do
		ip -n "$NS" -6 addr show dev "$dev" tentative | has inet6 || break
		sleep 0.1
	done
	# -w: keep asking until one reply or the deadline (the first may go while ND resolves)
	gwx ping -c 1 -w 5 -I $PROBE4 "$HOST4" >/dev/null || fail "gateway cannot reach the host over IPv4"
	gwx ping -6 -c 1 -w 5 -I $PROBE6 "$HOST6" >/dev/null || fail "gateway cannot reach the host over IPv6"
}

port_security_on() {
	swx nft -f - <<NFT
table bridge portsec {
	chain portsec {
		type filter hook forward priority 0; policy accept;
		iifname "sw-host" ether saddr != $HOST_MAC counter drop
	}
}
NFT
}

# probes_start N: N probes per family at 100 Hz from off-link addresses, in the background.
probes_start() {
	probe_counters >"$T/counters.before"
	gwx ping -q -n -i 0.01 -W 1 -c "$1" -I $PROBE4 "$HOST4" >"$T/probe4" 2>&1 &
	PROBE4_PID=$!
	gwx ping -6 -q -n -i 0.01 -W 1 -c "$1" -I $PROBE6 "$HOST6" >"$T/probe6" 2>&1 &
	PROBE6_PID=$!
}

# probe_counters: the host's and the router's IP, ICMP and IPv6 counters and their links' drop
# counters, one "NS COUNTER VALUE" a line (for a failure's report: which drop counter moved).
# (a non-zero "link rx_dropped tx_dropped" pair is one line: it moves when either does)
probe_counters() {
	local ns t f u c
	for ns in "$NS" "$GW"; do
		ip netns exec "$ns" cat /proc/net/snmp6 | awk -v ns="$ns" '$2 != 0 { print ns, $1, $2 }'
		ip netns exec "$ns" cat /proc/net/snmp | awk -v ns="$ns" '
			/^(Ip|Icmp):/ { if (!(($1) in h)) { split($0, h_, " "); h[$1] = 1; for (i in h_) k[$1, i] = h_[i]; next }
				for (i = 2; i <= NF; i++) if ($i != 0) print ns, k[$1, 1] k[$1, i], $i }'
		ip -n "$ns" -s -j link show | jq -r --arg ns "$ns" '.[] | "\($ns) \(.ifname) rx_dropped \(.stats64.rx.dropped) tx_dropped \(.stats64.tx.dropped)"'
	done
	# the neighbour tables' failed resolutions and packets dropped unresolved (the whole kernel's)
	for t in arp_cache ndisc_cache; do
		f=0 u=0
		while read -r -a c; do
			[[ ${c[0]} =~ ^[0-9a-f]+$ ]] || continue
			f=$((f + 16#${c[6]})) u=$((u + 16#${c[11]}))
		done <"/proc/net/stat/$t"
		echo "kernel $t res_failed $f unresolved_discards $u"
	done
}

# probes_stop: ends both now and sets LOST4 / LOST6. SIGINT makes ping print what it counted so
# far; $! is the subshell that runs it (gwx is a function), which ignores SIGINT (a background job).
probes_stop() {
	pkill -INT -P "$PROBE4_PID,$PROBE6_PID" ping 2>/dev/null || true
	probes_wait
}

# assert_probes CHANGES WHAT: after probes_wait/probes_stop, no probe lost but for what the kernel
# drops while the uplink port joins or leaves the bridge: CHANGES port attaches and releases fell
# in the probed time, and each may cost one probe per family. A frame that arrives between the
# port's rx handler and its forwarding state (br_add_if, br_del_if) is dropped by the bridge:
# measured under load (two cores busy), 42 of 8268 pings at 500 Hz over 800 attaches and
# releases, 0 of 7313 over 800 other link changes; tens of microseconds each, so a probe at 100 Hz
# falls in it about once in 50 changes. Sets PROBES_LOST for the 'ok' line: "0", or the counts.
#
# IPv6 back on the port (a revert, a rollback, a recovery) may lose up to 2 more: full CI runs (the
# slow lane beside the ASan lanes and QEMU guests) lost 2 or 3 IPv6 probes there in about one run
# of three, IPv4 none, and a conversion none; on a quieter machine 0 or 1. The cause is not found
# yet: such a run prints the drop counters that moved ("# IPv6 ..."), and a loss past the slack
# fails with them.
assert_probes() {
	local n=$1 what=$2 moved n6=$1
	case $what in *revert* | *rollback* | *recovery*) n6=$((n + 2)) ;; esac
	if [ "$LOST4" -gt "$n" ] || [ "$LOST6" -gt "$n" ]; then
		# (where the probes went: the drop and error counters that moved while they ran)
		moved=$(probe_counters | diff "$T/counters.before" - | sed -n 's/^> //p' |
			grep -iE 'drop|err|discard|noroute|fail|unknown|trunc|addr|toobig|neigh' | tr '\n' ';' || true)
		if [ "$LOST4" -gt "$n" ] || [ "$LOST6" -gt "$n6" ]; then
			fail "probes lost (IPv4/IPv6) $what: $LOST4/$LOST6, more than the kernel's $n port change(s) can drop; counters moved: ${moved:-none}"
		fi
		echo "# IPv6 $what: $LOST6 probes lost, within the slack of IPv6 back on the port ($n6); counters moved: ${moved:-none}"
	fi
	PROBES_LOST=0
	if [ "$LOST4" != 0 ] || [ "$LOST6" != 0 ]; then
		PROBES_LOST="$LOST4/$LOST6 (IPv4/IPv6: the kernel's port-change window)"
		echo "# $what: $PROBES_LOST probe(s) lost, at most one per family per port change ($n)"
	fi
}

# probes_wait: waits for both and sets LOST4 / LOST6
probes_wait() {
	wait "$PROBE4_PID" || true
	wait "$PROBE6_PID" || true
	LOST4=$(awk '/packets transmitted/ { print $1 - $4 }' "$T/probe4")
	LOST6=$(awk '/packets transmitted/ { print $1 - $4 }' "$T/probe6")
	[ -n "$LOST4" ] && [ -n "$LOST6" ] || fail "probe output: $(cat "$T/probe4" "$T/probe6")"
}

# Routes learnt from router advertisements (proto ra) without their metric, each once: netd moves
# them one metric up, and the kernel adds its own beside at the next advertisement (netd/DESIGN.md,
# "RA-learnt routes").
jq_ra='map(if .protocol == "ra" then del(.metric) else . end) | unique'

# Addresses, routes, MAC and links of the host: what a rollback must give back.
host_state() {
	ip -n "$NS" -j addr show | jq -c 'map({ifname, address, addr_info: [.addr_info[] | {family, local, prefixlen, scope}]}) | sort_by(.ifname)'
	ip -n "$NS" -j route show table all | jq -c "map(select(.table != \"local\")) | map(del(.expires)) | $jq_ra | sort_by(.dst, .dev)"
	ip -n "$NS" -j link show | jq -c 'map({ifname, address, mtu, master}) | sort_by(.ifname)'
}

# The whole L3 state of the host, normalised for a comparison before/after: links (all of
# 'ip -d -j addr' but counters and ifindexes), addresses with every attribute (lifetimes that run
# down only as "finite"), routes of every table (IPv6 expiries dropped), static neighbour entries
# (permanent, noarp; not the kernel's multicast/broadcast ones), policy rules and every
# per-interface sysctl (net.ipv4/ipv6 conf and neigh) of each link. IPv6 privacy (temporary)
# addresses and their local routes are left out: the kernel makes them at random, one for each
# address with mngtmpaddr (privacy_check). Waits for DAD first (tentative addresses).
# The kernel's stable-privacy mark is left out too: no one can set it on an address (netd
# moves such addresses without it; netd/DESIGN.md).
jq_addrs='map(select(.temporary | not) | del(."stable-privacy")
	| if .valid_life_time == 4294967295 then . else .valid_life_time = "finite" end
	| if .preferred_life_time == 4294967295 or .preferred_life_time == 0 then . else .preferred_life_time = "finite" end)
	| sort_by(.family, .local, .prefixlen)'
jq_neighs='map(select((.state | index("PERMANENT") or index("NOARP")) and (.dst | test("^(ff|22[4-9]|23[0-9]|255)") | not)))
	| sort_by(.dev, .dst)'

wait_no_tentative() {
	for _ in $(seq 1 50); do
		# Not 'ip | grep -q': with pipefail, ip's SIGPIPE would read as "none".
		[ -z "$(ip -n "$NS" -6 addr show tentative)" ] && return 0
		sleep 0.1
	done
}

temporaries() { ip -n "$NS" -6 -j addr show | jq -c '[.[].addr_info[] | select(.temporary) | .local]'; }

# privacy_check LINK: every address with mngtmpaddr has a privacy address in its /64 (waits 8 s:
# the kernel makes them when the flag comes, or at the next router advertisement).
privacy_check() {
	local missing
	for _ in $(seq 1 80); do
		missing=$(ip -n "$NS" -6 -j addr show dev "$1" | python3 -c '
import ipaddress, json, sys
a = json.load(sys.stdin)[0]["addr_info"]
net = lambda x: ipaddress.ip_interface(x["local"] + "/64").network
t = {net(x) for x in a if x.get("temporary")}
print(" ".join(str(net(x)) for x in a if x.get("mngtmpaddr") and net(x) not in t))')
		[ -z "$missing" ] && return 0
		sleep 0.1
	done
	fail "no privacy address on $1 for $missing: $(ip -n "$NS" -6 addr show dev "$1")"
}

link_sysctls() { # IFNAME [NAME]: NAME replaces IFNAME in the keys
	nsx sh -c 'for f in /proc/sys/net/ipv4/conf/$1/* /proc/sys/net/ipv6/conf/$1/* /proc/sys/net/ipv4/neigh/$1/* /proc/sys/net/ipv6/neigh/$1/*; do
		printf "%s %s\n" "$(echo "${f#/proc/sys/net/}" | sed "s|/$1/|/$2/|")" "$(cat "$f" 2>/dev/null | tr "\t" " " || echo "(unreadable)")"
	done' - "$1" "${2:-$1}"
}

full_state() {
	local t
	wait_no_tentative
	t=$(temporaries)
	ip -n "$NS" -d -j addr show | jq -c "map(del(.ifindex, .stats64, .link_index) | .addr_info |= ($jq_addrs)) | sort_by(.ifname) | .[]"
	ip -n "$NS" -d -j -4 route show table all | jq -c 'sort_by(.table, .dst, .dev, .metric) | .[]'
	ip -n "$NS" -d -j -6 route show table all |
		jq -c --argjson t "$t" "map(select(.dst as \$d | \$t | any(. == \$d) | not) | del(.expires)) | $jq_ra | sort_by(.table, .dst, .dev, .metric) | .[]"
	{ ip -n "$NS" -d -j neigh show; ip -n "$NS" -d -j -6 neigh show; } | jq -c -s "add | $jq_neighs | .[]"
	ip -n "$NS" -j rule show | jq -c '.[]'
	ip -n "$NS" -j -6 rule show | jq -c '.[]'
	for l in $(ip -n "$NS" -j link show | jq -r '.[].ifname'); do link_sysctls "$l"; done
}

# What one link holds (addresses, routes through it, static neighbours, its sysctls), with the
# link's name replaced by "@": what eth0 had before must be what br0 has after the conversion.
link_l3_state() {
	local l=$1 t
	wait_no_tentative
	t=$(temporaries)
	ip -n "$NS" -d -j addr show dev "$l" | jq -c --arg l "$l" \
		".[0].addr_info | map(if .label then .label |= sub(\"^\" + \$l; \"@\") else . end) | $jq_addrs | .[]"
	{ ip -n "$NS" -d -j -4 route show table all; ip -n "$NS" -d -j -6 route show table all; } |
		jq -c -s --arg l "$l" --argjson t "$t" \
			"add | map(select(.dev == \$l and (.dst as \$d | \$t | any(. == \$d) | not)) | del(.expires) | .dev = \"@\") | $jq_ra | sort_by(.table, .dst, .metric) | .[]"
	{ ip -n "$NS" -d -j neigh show dev "$l"; ip -n "$NS" -d -j -6 neigh show dev "$l"; } | jq -c -s "add | $jq_neighs | .[]"
	link_sysctls "$l" @
}
