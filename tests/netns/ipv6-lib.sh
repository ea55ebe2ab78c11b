# shellcheck shell=bash
# IPv6 guests for the netns tests (after lib.sh): guest6 NAME MAC BRIDGE, wait_addr6, default6 and
# dhclient6. Needs jq; dhclient6 needs dhclient.

# guest6 NAME MAC BRIDGE: a guest (add_guest) whose eth0 has no DAD delay and SLAAC on (accept_ra,
# autoconf), and is not a router.
guest6() {
	add_guest "$1" "$2" "$3"
	gx "$1" sysctl -qw net.ipv6.conf.all.forwarding=0 net.ipv6.conf.eth0.accept_dad=0 \
		net.ipv6.conf.eth0.accept_ra=1 net.ipv6.conf.eth0.autoconf=1
	gx "$1" ip link set eth0 down
	gx "$1" ip link set eth0 up
}

# wait_addr6 NAME REGEX: the guest's global IPv6 address matching REGEX, within 15 s.
wait_addr6() {
	local a
	for _ in $(seq 150); do
		a=$(gx "$1" ip -j -6 addr show dev eth0 scope global | jq -r '.[0].addr_info[]?.local' | grep -E "$2" | head -n1 || true)
		[ -n "$a" ] && { echo "$a"; return 0; }
		sleep 0.1
	done
	fail "guest $1: no address matching $2: $(gx "$1" ip -6 addr show dev eth0)"
}

# default6 NAME: the gateway of the guest's IPv6 default route ("" without one).
default6() { gx "$1" ip -j -6 route show default | jq -r '.[0].gateway // empty'; }

# dhclient6 NAME: dhclient -6 in the guest, in the background, with a script that only adds the
# address and records "bound ip=... dns=... search=..." in $T/NAME.events (dhclient-script would
# write this machine's /etc/resolv.conf; dhclient gives its script a clean environment, so the
# file is written into each guest's script). -D LL: the DUID is DUID-LL, 00:03:00:01 and the MAC,
# which a reservation can name. dhclient6 NAME DUID: that DUID instead (octets with colons, e.g. a
# DUID-EN 00:02:...), which dhclient takes from its lease file's default-duid.
dhclient6() {
	local duid=() oct
	if [ -n "${2:-}" ]; then
		printf 'default-duid "' >"$T/$1.lease6"
		for oct in ${2//:/ }; do printf '\\%03o' "$((16#$oct))" >>"$T/$1.lease6"; done
		printf '";\n' >>"$T/$1.lease6"
	else
		duid=(-D LL)
	fi
	cat >"$T/dhclient-script.$1" <<EOS
#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
case "\$reason" in
BOUND6|RENEW6|REBIND6|REBOOT6)
	ip -6 addr replace "\$new_ip6_address/128" dev "\$interface" nodad
	echo "bound ip=\$new_ip6_address dns=\$new_dhcp6_name_servers search=\$new_dhcp6_domain_search" >>"$T/$1.events" ;;
esac
exit 0
EOS
	chmod 0755 "$T/dhclient-script.$1"
	gx "$1" dhclient -6 -d -1 "${duid[@]}" -sf "$T/dhclient-script.$1" -lf "$T/$1.lease6" -pf "$T/$1.dhclient.pid" eth0 \
		>"$T/$1.dhclient.log" 2>&1 &
	BG_PIDS+=($!)
}

# upstream6: namespace $UP with eth0 (2001:db8:50::1), the peer of the host's up0 (2001:db8:50::2),
# the host's IPv6 default route through it, no DAD on either end.
upstream6() {
	peer_ns UP netdt-up6
	nsx sysctl -qw net.ipv6.conf.up0.accept_dad=0
	ip netns exec "$UP" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
	ip -n "$NS" addr add 2001:db8:50::2/64 dev up0 nodad
	ip -n "$NS" link set up0 up
	ip -n "$UP" addr add 2001:db8:50::1/64 dev eth0 nodad
	ip -n "$UP" link set eth0 up
	ip -n "$NS" -6 route add default via 2001:db8:50::1
}
