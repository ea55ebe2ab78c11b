#!/bin/sh
# busybox udhcpc's event script for the netns tests: records what the client got, configures the
# address, and on "bound" measures how long netd takes to list the lease.
# Environment: EVENTS (file to append to), NETDCTL, SOCK, NETWORK.
now=$(date +%s%N)
echo "$1 ip=$ip router=$router dns=$dns domain=$domain lease=$lease t=$((now / 1000000))" >>"$EVENTS"
case "$1" in
deconfig)
	ip -4 addr flush dev "$interface" # IPv4 only, as real clients do: link-local IPv6 stays
	ip link set "$interface" up
	;;
bound | renew)
	ip -4 addr flush dev "$interface" # IPv4 only, as real clients do: link-local IPv6 stays
	ip addr add "$ip/$mask" dev "$interface"
	[ "$1" = bound ] || exit 0
	i=0
	while [ $i -lt 400 ]; do
		if "$NETDCTL" --socket "$SOCK" --json network leases "$NETWORK" 2>/dev/null |
			jq -e --arg ip "$ip" 'any(.[]; .ip == $ip)' >/dev/null; then
			echo "visible ip=$ip ms=$((($(date +%s%N) - now) / 1000000))" >>"$EVENTS"
			exit 0
		fi
		i=$((i + 1))
		sleep 0.005
	done
	echo "invisible ip=$ip" >>"$EVENTS"
	;;
esac
exit 0
