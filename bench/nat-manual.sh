#!/usr/bin/env bash
# The manual way to make a NAT network, as an operator's script would do it: bridge, addresses,
# rules, forwarding, dnsmasq; and its teardown. The baseline of bench/cases/nat-create.sh (IPv4)
# and nat6-create.sh (dual-stack), run inside the case's namespace:
#   nat-manual.sh up BRIDGE V4PREFIX DIR [V6PREFIX]   V4PREFIX 10.78.1 -> 10.78.1.0/24, gateway .1;
#                                                     V6PREFIX fd00:78:1 -> fd00:78:1::/64, gateway ::1
#   nat-manual.sh down BRIDGE DIR
# With V6PREFIX: the gateway6 without DAD, the IPv6 forward and NAT66 rules, IPv6 forwarding, and
# dnsmasq's router advertisements and DHCPv6 (slaac+dhcpv6, authoritative as netd's).
set -e
if [ "$1" = down ]; then
	kill "$(cat "$3/$2.pid")"
	ip link del "$2"
	nft delete table inet "m$2"
	exit 0
fi
shift
br=$1 p4=$2 dir=$3 p6=${4:-}
ip link add "$br" type bridge stp_state 0 forward_delay 0
ip addr add "$p4.1/24" dev "$br"
[ -z "$p6" ] || ip addr add "$p6::1/64" dev "$br" nodad
ip link set "$br" up
fwd6='' nat6=''
if [ -n "$p6" ]; then
	fwd6="oifname \"$br\" ip6 daddr $p6::/64 ct state established,related accept
		iifname \"$br\" ip6 saddr $p6::/64 accept"
	nat6="ip6 saddr $p6::/64 ip6 daddr ff00::/8 return
		ip6 saddr $p6::/64 ip6 daddr != $p6::/64 masquerade"
fi
nft -f - <<NFT
table inet m$br {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname "$br" ip daddr $p4.0/24 ct state established,related accept
		iifname "$br" ip saddr $p4.0/24 accept
		$fwd6
		iifname "$br" oifname "$br" accept
		iifname "$br" reject
		oifname "$br" reject
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr $p4.0/24 ip daddr 224.0.0.0/4 return
		ip saddr $p4.0/24 ip daddr 255.255.255.255 return
		ip saddr $p4.0/24 ip daddr != $p4.0/24 masquerade
		$nat6
	}
}
NFT
sysctl -qw net.ipv4.ip_forward=1
v6=()
if [ -n "$p6" ]; then
	sysctl -qw net.ipv6.conf.all.forwarding=1
	v6=(--enable-ra --dhcp-range="$p6::2,$p6::ffff,slaac,64,1h" --dhcp-authoritative)
fi
dnsmasq --conf-file=/dev/null --interface="$br" --except-interface=lo --bind-dynamic --port=0 \
	--dhcp-range="$p4.2,$p4.254,1h" "${v6[@]}" --dhcp-leasefile="$dir/$br.leases" --pid-file="$dir/$br.pid" \
	--user=root
