# shellcheck shell=bash
# Namespace guests behind netd's own TAPs (after lib.sh): netd runs tests/netns/veth-qemu.py as its
# QEMU, which relays the TAP of guest NAME to veth tNAME, whose peer is eth0 of the guest's
# namespace. The guest's port is netd's (port security, its bridge port, leases by its MAC); the
# guest is a real network stack (gx NAME ... as with add_guest). Needs python3 and nft.

# start_netd_tap_guests: start_netd with the stand-in as QEMU (root-owned, as a QEMU binary is; root:
# it relays through a packet socket) and a kernel file for 'vm create'. $T/qemu is a binary
# (tests/netns/qemu-standin.c) that runs veth-qemu.py as its child: /proc/PID/exe is the
# configured QEMU, so a netd restarted after kill -9 adopts the guests.
start_netd_tap_guests() {
	[ -n "${QEMU_STANDIN:-}" ] || fail "QEMU_STANDIN not set (run through meson)"
	install -o root -g root -m 0755 "$QEMU_STANDIN" "$T/qemu"
	install -o root -g root -m 0644 "$TESTS_LIB_DIR/veth-qemu.py" "$T/veth-qemu.py"
	head -c 4096 /dev/zero >"$T/vmlinuz"
	start_netd --qemu "$T/qemu" --qemu-user root "$@"
}

# tap_guest NAME MAC NETWORK [vm create options...]: guest NAME on NETWORK with MAC, started; sets
# GNS_NAME. Its eth0 has no DAD delay, SLAAC on (accept_ra, autoconf) and is not a router.
tap_guest() {
	local name=$1 mac=$2 net=$3 ns="netdt-$1-$$-${RANDOM}"
	shift 3
	ip netns add "$ns"
	EXTRA_NS+=("$ns")
	ip -n "$NS" link add "t$name" type veth peer name eth0 netns "$ns"
	nsx sysctl -qw "net.ipv6.conf.t$name.disable_ipv6=1"
	ip -n "$NS" link set "t$name" up
	# tNAME stands in for a wire, not for an interface of the host: netd's namespace must not
	# answer ARP on it nor take frames sent to its MAC (they would skip the guest's TAP, its port
	# security and its bridge). Its ingress drops everything; the stand-in's packet socket still
	# sees each frame (taps come before the ingress hook). A 'nft flush ruleset' takes this away.
	nsx nft add table netdev netdt_tap
	nsx nft add chain netdev netdt_tap "in_t$name" \
		"{ type filter hook ingress device \"t$name\" priority 0; policy drop; }"
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 address "$mac"
	eval "GNS_$name=$ns"
	gx "$name" sysctl -qw net.ipv6.conf.all.forwarding=0 net.ipv6.conf.eth0.accept_dad=0 \
		net.ipv6.conf.eth0.accept_ra=1 net.ipv6.conf.eth0.autoconf=1
	ctl vm create "$name" --network "$net" --mac "$mac" --memory 64M --kernel "$T/vmlinuz" \
		--append "veth=t$name" --accel tcg "$@" >/dev/null || fail "vm create $name"
	for _ in $(seq 100); do [ "$(ctl --json vm show "$name" | jq -r .state)" = running ] && break; sleep 0.05; done
	assert_eq "$(ctl --json vm show "$name" | jq -r .state)" running "state of guest $name"
	ip -n "$ns" link set eth0 up
}

# port_set_json SET: the elements of a set of netd's bridge table (as nft -j prints them).
port_set_json() {
	nsx nft -j list set bridge netd "$1" 2>/dev/null |
		jq -c '[.nftables[] | select(.set) | .set.elem // [] | .[] | (.concat? // .)]'
}
