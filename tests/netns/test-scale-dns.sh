#!/usr/bin/env bash
# More networks with DNS on than a user may hold inotify instances (issue 20): with dnsmasq
# reading resolv.conf itself, the 129th network's dnsmasq exited at start ("failed to create
# inotify: Too many open files", fs.inotify.max_user_instances is 128 by default) while 'network
# list' said active. Now 150 NAT networks forward DNS, every dnsmasq runs and holds no inotify
# instance, and the 150th answers DHCP and DNS. First: a network whose dnsmasq cannot run (its
# DHCP port taken) is 'degraded' with the reason, then 'active' once it runs. A new network does
# not wake the dnsmasq of the others, not even for the kernel's address and route notifications.
. "$(dirname "$0")/lib.sh"
need busybox dnsmasq python3 jq
N=150

echo "# fs.inotify.max_user_instances here: $(cat /proc/sys/fs/inotify/max_user_instances)"
ip -n "$NS" link add up0 type veth peer name up1
ip -n "$NS" addr add 192.168.60.2/24 dev up0
ip -n "$NS" link set up0 up
ip -n "$NS" link set up1 up
printf 'nameserver 192.168.60.1\n' >"$T/resolv.conf"
start_netd --resolv-conf "$T/resolv.conf"

# state NAME: the network's state in 'network list', and its problem.
state() { ctl --json network list | jq -r ".[] | select(.name == \"$1\") | .state + \" \" + (.problem // \"\")"; }

# The DHCP port taken by a socket without SO_REUSEADDR: dnsmasq cannot bind it and exits.
ip netns exec "$NS" python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 67))
time.sleep(60)' &
blocker=$!
BG_PIDS+=("$blocker")
# The network comes only once the port is taken (python3 may take a while to start: a pyenv shim).
for _ in $(seq 1 100); do
	ip netns exec "$NS" ss -Hlun 'sport = :67' | grep -q . && break
	sleep 0.1
done
ctl network create blocked --mode nat --subnet 10.199.0.0/24 --uplink up0 >/dev/null
# (the state the loop saw: netd restarts the dnsmasq with a backoff, and each new one is "active"
# for the few ms it takes to fail, so a second look may catch one of those)
for _ in $(seq 1 50); do
	s=$(state blocked)
	case "$s" in degraded*) break ;; esac
	sleep 0.1
done
case "$s" in
"degraded dnsmasq (DHCP and DNS) is not running: it exited with status"*) ;;
*) fail "a network whose dnsmasq cannot run: '$s'" ;;
esac
# (netd restarts the dnsmasq with a backoff: each new one is "active" for the few ms it takes to fail)
# (the list the loop saw, not a second look: that may catch one of those restarts)
for _ in $(seq 1 50); do
	list=$(ctl network list)
	grep -q "blocked .*degraded" <<<"$list" && break
	sleep 0.1
done
grep -q "blocked .*degraded" <<<"$list" || fail "'network list' does not say degraded: $list"
ok "a network whose dnsmasq exits is degraded in 'network list': ${s#degraded }"
kill "$blocker"
wait "$blocker" 2>/dev/null || true
# active twice, 0.3 s apart: not a restart that has yet to fail
for _ in $(seq 1 100); do
	[ "$(state blocked)" = "active " ] && sleep 0.3 && [ "$(state blocked)" = "active " ] && break
	sleep 0.1
done
assert_eq "$(state blocked)" "active " "the network once its dnsmasq could bind"
pid=$(dnsmasq_pid blocked)
sleep 0.5
kill -0 "$pid" || fail "dnsmasq $pid of network blocked exited again"
assert_eq "$(state blocked)" "active " "the network half a second later"
ok "once dnsmasq runs, the network is active again"
ctl network delete blocked >/dev/null

create() { # FIRST LAST
	for i in $(seq "$1" "$2"); do
		ctl network create "n$i" --mode nat --subnet "10.$((200 + i / 250)).$((i % 250)).0/24" --uplink up0 \
			--dns-host "10.$((200 + i / 250)).$((i % 250)).9,web$i" >/dev/null || fail "create n$i"
	done
}
# cpu FIRST LAST: clock ticks spent so far by those networks' dnsmasq.
cpu() {
	local s=0 i
	for i in $(seq "$1" "$2"); do s=$((s + $(awk '{print $14 + $15}' "/proc/$(dnsmasq_pid n$i)/stat"))); done
	echo $s
}
start=$(date +%s%N)
create 1 100
before=$(cpu 1 100)
create 101 $N
spent=$(($(cpu 1 100) - before))
echo "# $N networks created in $((($(date +%s%N) - start) / 1000000)) ms"
# With bind-dynamic each new network woke every other dnsmasq: here about 107 ticks (1 s of CPU),
# 23-24 with bind-interfaces, 0 since netd takes their netlink sockets out of the address and
# route groups (a few allowed for the noise of a busy machine).
[ "$spent" -le 8 ] || fail "the first 100 networks' dnsmasq spent $spent clock ticks while $((N - 100)) more were created"
ok "$((N - 100)) networks created: the 100 dnsmasq already running spent $spent clock ticks"
sleep 0.5
not_active=$(ctl --json network list | jq -r '.[] | select(.state != "active") | .name + ": " + .state + " " + (.problem // "")')
[ -z "$not_active" ] || fail "networks not active: $not_active"
pids=()
for i in $(seq 1 $N); do
	pid=$(dnsmasq_pid n$i)
	kill -0 "$pid" || fail "n$i: dnsmasq $pid is not running"
	pids+=("$pid")
done
inotify=0
for pid in "${pids[@]}"; do inotify=$((inotify + $(find "/proc/$pid/fd" -lname 'anon_inode:inotify' | wc -l))); done
assert_eq "$inotify" 0 "inotify instances held by the $N dnsmasq"
# Their netlink sockets: bound, and in no multicast group (dnsmasq joins the address and route
# groups of both families, whatever its options; netd takes it out of them).
netlink=$(ip netns exec "$NS" cat /proc/net/netlink)
subscribed=0
for pid in "${pids[@]}"; do
	for ino in $(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' | tr -dc '0-9\n'); do
		groups=$(awk -v i="$ino" '$NF == i { print $4 }' <<<"$netlink")
		[ -n "$groups" ] && [ "$groups" != 00000000 ] && subscribed=$((subscribed + 1))
	done
done
assert_eq "$subscribed" 0 "dnsmasq netlink sockets still in multicast groups"
ok "$N networks with DNS forwarding active, $N dnsmasq running, 0 inotify instances and 0 netlink groups among them"

# The last network answers DHCP and DNS (a real client; the gateway's DNS).
last="n$N"
net="10.$((200 + N / 250)).$((N % 250))"
NETWORK=$last
add_guest g1 52:54:00:99:00:01 "nd-$last"
dhcp_client g1 "$last"
ip=$(guest_ip g1)
case "$ip" in "$net".*) ;; *) fail "the guest on $last got '$ip'" ;; esac
ans=$(gx g1 busybox nslookup "web$N" "$net.1" 2>&1) || true
echo "$ans" | has "$net.9" || fail "DNS of $last: $ans"
ok "network $N: a DHCP lease ($ip) and a DNS answer (web$N -> $net.9)"
