#!/usr/bin/env bash
# Reservation hostnames as the real dnsmasq reads them (issue 12, attack 9). dnsmasq reads each field
# of a dhcp-host line by its look: 'ignore' (no lease at all), 'infinite', '120' and '45m' (lease
# times) were never names. Two halves:
# 1. what netd refuses: a plain dnsmasq (no netd) given exactly those words really reads them as a
#    keyword or a lease time (no lease, or a lease with another lease time and no name);
# 2. what netd accepts, even names close to the keywords ('ignore-me', 'infinity', '5m5') or ones
#    that need lower case for dnsmasq ('AB--CD'), is served by netd's dnsmasq to a real DHCP client
#    with that name: the reserved address, the network's lease time, the name in 'network leases'
#    and in DNS.
. "$(dirname "$0")/lib.sh"
command -v busybox >/dev/null || skip "busybox missing (udhcpc)"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
export NETDCTL SOCK NETWORK=lab

refused=(ignore infinite 120 45m 1w)
accepted=(web1 ignore-me infinity 5m5 1x AB--CD xn--abc)

start_netd
ctl network create lab --mode isolated --subnet 10.50.1.0/24 --dhcp-range 10.50.1.100-10.50.1.150 \
	--lease-time 10m --domain lab.test >/dev/null

# 1. netd refuses the words, and says it is dnsmasq that would misread them.
for i in "${!refused[@]}"; do
	rc=0
	ctl network host add lab "52:54:00:50:00:$((10 + i))" "10.50.1.$((10 + i))" "${refused[$i]}" 2>"$T/err" || rc=$?
	assert_eq "$rc" 1 "exit code of 'network host add ... ${refused[$i]}'"
	grep -q "dnsmasq reads" "$T/err" || fail "'${refused[$i]}': $(cat "$T/err")"
done
assert_eq "$(ctl --json network show lab | jq .dhcp.hosts)" 0 "reservations after the refusals"
ok "netd refuses ${refused[*]} as reservation hostnames"

# ... and a dnsmasq of its own (no netd), on a bridge of its own, reads them as keywords or times.
M="$T/model"
mkdir -m 0755 "$M"
ip -n "$NS" link add br-model type bridge
ip -n "$NS" addr add 10.77.0.1/24 dev br-model
ip -n "$NS" link set br-model up
: >"$M/hosts"
for i in "${!refused[@]}"; do
	echo "52:54:00:77:00:$((10 + i)),10.77.0.$((10 + i)),${refused[$i]}" >>"$M/hosts"
done
cat >"$M/dnsmasq.conf" <<EOF
interface=br-model
except-interface=lo
bind-dynamic
port=0
dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,10m
dhcp-hostsfile=$M/hosts
dhcp-leasefile=$M/leases
dhcp-authoritative
no-ping
EOF
nsx dnsmasq --keep-in-foreground --conf-file="$M/dnsmasq.conf" --pid-file="$M/pid" --log-facility="$M/log" &
cat >"$M/script" <<'EOF'
#!/bin/sh
[ "$1" = bound ] && echo "ip=$ip lease=$lease" >"$OUT"
exit 0
EOF
chmod 0755 "$M/script"
pids=()
for i in "${!refused[@]}"; do
	add_guest "m$i" "52:54:00:77:00:$((10 + i))" br-model
	OUT="$M/bound$i" gx "m$i" busybox udhcpc -i eth0 -q -n -t 3 -T 1 -A 1 -s "$M/script" >/dev/null 2>&1 &
	pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
for i in "${!refused[@]}"; do
	w=${refused[$i]}
	got=$(cat "$M/bound$i" 2>/dev/null || echo "no lease")
	name=$(awk -v mac="52:54:00:77:00:$((10 + i))" '$2 == mac { print $4 }' "$M/leases" 2>/dev/null)
	case $w in
	ignore) want="no lease" ;;
	infinite) want="ip=10.77.0.$((10 + i)) lease=4294967295" ;;
	120) want="ip=10.77.0.$((10 + i)) lease=120" ;;
	45m) want="ip=10.77.0.$((10 + i)) lease=2700" ;;
	1w) want="ip=10.77.0.$((10 + i)) lease=604800" ;;
	esac
	assert_eq "$got" "$want" "plain dnsmasq, hostname field '$w'"
	[ "$w" = ignore ] || assert_eq "$name" "*" "name dnsmasq recorded for '$w'"
done
ok "plain dnsmasq $(dnsmasq --version | head -n1 | awk '{print $3}') reads them as keywords: ignore gave no lease, the others a lease time and no name"

# 2. Names netd accepts are served as names by netd's dnsmasq.
for i in "${!accepted[@]}"; do
	ctl network host add lab "52:54:00:50:01:$((10 + i))" "10.50.1.$((50 + i))" "${accepted[$i]}" >/dev/null
done
assert_eq "$(ctl --json network show lab | jq .dhcp.hosts)" "${#accepted[@]}" "reservations"
for i in "${!accepted[@]}"; do
	add_guest "g$i" "52:54:00:50:01:$((10 + i))" nd-lab
	dhcp_client "g$i"
done
for i in "${!accepted[@]}"; do
	w=${accepted[$i]}
	lc=${w,,}
	bound=$(wait_event "g$i" '^bound ')
	grep -q " ip=10.50.1.$((50 + i)) " <<<"$bound" || fail "'$w': not the reserved address: $bound"
	grep -q " lease=600 " <<<"$bound" || fail "'$w': not the network's lease time (10m): $bound"
	for _ in $(seq 1 100); do
		got=$(ctl --json network leases lab | jq -r --arg ip "10.50.1.$((50 + i))" '.[] | select(.ip == $ip) | .hostname')
		[ -n "$got" ] && break
		sleep 0.02
	done
	assert_eq "$got" "$lc" "hostname of the lease of '$w'"
	ans=$(gx "g$i" busybox nslookup "$lc.lab.test" 10.50.1.1 2>&1) || true
	grep -q "10.50.1.$((50 + i))" <<<"$ans" || fail "DNS $lc.lab.test: $ans"
done
grep -qi "bad DHCP host name\|bad name" "$T/netd.log" && fail "dnsmasq refused a name: $(grep -i 'bad' "$T/netd.log")"
ok "served with their names (address, 10m lease, 'network leases', DNS): ${accepted[*]}"
