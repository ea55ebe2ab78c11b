#!/usr/bin/env bash
# Issue 17's DHCP options with real DHCP clients (busybox udhcpc, ISC dhclient and dhcpcd), each
# guest in a namespace of its own on one netd network that answers reserved hosts only
# (--dhcp-range static). Every option is checked with dhclient and dhcpcd, the clients operators'
# guests run, as well as udhcpc:
# - reservations named by an FQDN (Web.Example.com: udhcpc, App.Example.org: dhclient,
#   pxe.example.net: dhcpcd, late.example.org reserved live: dhclient) give the client its reserved
#   address and (dhclient, dhcpcd) the first label as host name, the network's domain as domain
#   (options 12 and 15: what dnsmasq sends), and resolve from the gateway (dig) as the full name
#   and, once leased, as LABEL.DOMAIN;
# - per-host lease times (5m, 10m, 15m in --host; 2h, 1h, 3h through 'network host add
#   --lease-time') and the network's --lease-time infinite reach the clients as such;
# - an unknown MAC gets no answer (udhcpc, dhclient -1 and dhcpcd -1 give up after 3 s), and gets
#   its reserved address once 'network host add' reserves it;
# - --mtu 1400 reaches the clients as option 26 and is applied: to their link (dhclient's and
#   udhcpc's scripts, as their stock scripts do), to the routes dhcpcd installs (dhcpcd's way);
# - --pxe-boot/--tftp-root: the answer carries the boot file and next-server (the gateway), seen by
#   udhcpc's script (boot_file, siaddr), dhclient's (new_filename, new_next_server) and dhcpcd's
#   (new_filename; it gives its script no next server: the siaddr of the lease it saved is read);
#   busybox tftp fetches the file through netd's firewall, and dnsmasq (running as its
#   unprivileged user) refuses a root-only file inside the root: it opens TFTP files after
#   dropping privileges;
# - the gateway's TFTP and DNS answer the bridge only (not an uplink neighbour; lo: DNS only);
# - another next server (a hand edit and reload) is the one the answer names (all three clients);
# - a TFTP root dnsmasq's user cannot read, a system or netd directory, one the operator asking
#   cannot read, or one whose udp/69 another program holds is refused at create, nothing changed;
#   and bad values;
# - a TFTP root removed later: changes go through, a restarted netd keeps dnsmasq, show says why.
. "$(dirname "$0")/lib.sh"
need busybox dnsmasq dhclient dhcpcd dig unshare od
busybox --list | has -x tftp || skip "busybox without tftp"

start_netd
TFTP="$T/tftp"
mkdir -m 0755 "$TFTP"
head -c 3000 /dev/urandom >"$TFTP/boot.0" # two TFTP blocks
echo secret >"$TFTP/root-only"
chmod 0644 "$TFTP/boot.0"
chmod 0600 "$TFTP/root-only"

ctl network create lab --mode isolated --subnet 10.61.0.0/24 --mtu 1400 --domain lab.test \
	--dhcp-range static --lease-time infinite \
	--host 52:54:00:61:00:10,10.61.0.10,Web.Example.com,5m --host 52:54:00:61:00:11,10.61.0.11,db \
	--host 52:54:00:61:00:13,10.61.0.13,App.Example.org,10m --host 52:54:00:61:00:14,10.61.0.14,pxe.example.net,15m \
	--pxe-boot boot.0 --tftp-root "$TFTP" >/dev/null
conf="$T/run/dnsmasq/lab.conf"
has -x 'dhcp-range=10.61.0.0,static,255.255.255.0,infinite' "$conf" || fail "no static range: $(cat "$conf")"
assert_eq "$(ctl --json network show lab | jq -c .dhcp.ranges)" '["static"]' "ranges shown"
pid=$(dnsmasq_pid lab)
user=$(ps -o user= -p "$pid")
[ "$user" != root ] || fail "dnsmasq runs as root"
ok "dnsmasq (pid $pid) runs as $user with a static range, option 26, dhcp-boot and tftp-root"

# The guests' own event script: what udhcpc got, and the MTU applied as a client applies it.
cat >"$T/udhcpc.sh" <<'EOF'
#!/bin/sh
case "$1" in
bound | renew)
	ip addr add "$ip/$mask" dev "$interface"
	[ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
	echo "bound ip=$ip lease=$lease mtu=$mtu boot_file=$boot_file siaddr=$siaddr" >>"$EVENTS"
	;;
esac
exit 0
EOF
chmod 0755 "$T/udhcpc.sh"
udhcpc_in() { # GUEST [udhcpc options]: in the background, one lease, events in $T/GUEST.events
	local g=$1
	shift
	EVENTS="$T/$g.events" gx "$g" busybox udhcpc -i eth0 -O mtu -s "$T/udhcpc.sh" -A 1 "$@" \
		>"$T/$g.udhcpc.log" 2>&1 &
}

# dhclient: its own script (dhclient-script would write this machine's resolv.conf) that applies
# the MTU the way dhclient-script does and records what it was given; its config asks for the MTU
# (interface-mtu), the host name and domain. The boot file and next server are the BOOTP header's
# file and siaddr fields (dnsmasq sends no option 67 unless asked): dhclient hands them to its
# script as new_filename and new_next_server unasked.
cat >"$T/dhclient.sh" <<'EOF'
#!/bin/sh
case "$reason" in
BOUND|RENEW|REBIND|REBOOT)
	ip addr replace "$new_ip_address/24" dev "$interface"
	[ -n "$new_interface_mtu" ] && ip link set "$interface" mtu "$new_interface_mtu"
	echo "bound ip=$new_ip_address lease=$new_dhcp_lease_time mtu=$new_interface_mtu" \
		"host=$new_host_name domain=$new_domain_name file=$new_filename next=$new_next_server" >>"$EVENTS"
	;;
esac
exit 0
EOF
chmod 0755 "$T/dhclient.sh"
# dhclient_in GUEST SECONDS [-d]: dhclient -1 (one try) in the guest; returns 0 once bound (then it
# forks and renews in the background) or 2 after SECONDS without a lease; events in
# $T/GUEST.events (-e: dhclient gives its script a clean environment). -d: in the foreground, its
# log in $T/GUEST.dhclient.log (in the background it logs to syslog only).
dhclient_in() {
	printf 'timeout %s;\ninitial-interval 1;\n%s\n' "$2" \
		'request subnet-mask, routers, domain-name-servers, domain-name, host-name, interface-mtu;' \
		>"$T/$1.dhclient.conf"
	gx "$1" dhclient -4 -1 "${@:3}" -cf "$T/$1.dhclient.conf" -sf "$T/dhclient.sh" -e "EVENTS=$T/$1.events" \
		-lf "$T/$1.leases" -pf "$T/$1.dhclient.pid" eth0 >>"$T/$1.dhclient.log" 2>&1
}

# dhcpcd writes its pid file and sockets under /run/dhcpcd and its leases under /var/lib/dhcpcd,
# and its default hooks write resolv.conf and the host name. So each runs in a mount namespace of
# its own ('ip netns exec' makes one, unshare a private one inside it) with a tmpfs on /run and
# $T/GUEST.db on /var/lib/dhcpcd, its own config (-f: no hostname sent, nothing but these options
# asked for) and its own script (-c: no hooks run). -1: exit once bound, or after -t SECONDS
# without a lease (exit 1); -A: no ARP probe (7 s); -L: no IPv4LL fallback; nodelay: no random wait
# (up to 2 s) before the first DISCOVER. dhcpcd configures the address itself and applies the MTU
# to its routes (not to the link). Its script sees no next server: the test reads siaddr from the
# lease dhcpcd saved (the raw BOOTP message, octets 20-23).
cat >"$T/dhcpcd.conf" <<'EOF'
nodelay
option interface_mtu, host_name, domain_name, domain_name_servers
EOF
cat >"$T/dhcpcd.sh" <<'EOF'
#!/bin/sh
case "$reason" in
BOUND | RENEW | REBIND | REBOOT)
	echo "bound ip=$new_ip_address lease=$new_dhcp_lease_time mtu=$new_interface_mtu" \
		"host=$new_host_name domain=$new_domain_name file=$new_filename" >>"$EVENTS"
	;;
esac
exit 0
EOF
chmod 0755 "$T/dhcpcd.sh"
# dhcpcd_in GUEST SECONDS: dhcpcd -1 in the guest; events in $T/GUEST.events.
dhcpcd_in() {
	mkdir -p "$T/$1.db"
	gx "$1" unshare --mount --propagation private sh -c \
		'mount -t tmpfs netd-test-dhcpcd /run && mount --bind "$0" /var/lib/dhcpcd && exec "$@"' "$T/$1.db" \
		dhcpcd -1 -4 -A -L -t "$2" -f "$T/dhcpcd.conf" -c "$T/dhcpcd.sh" -e "EVENTS=$T/$1.events" eth0 \
		>>"$T/$1.dhcpcd.log" 2>&1
}
# lease_siaddr GUEST: the next server (siaddr) of the lease dhcpcd saved for the guest's eth0.
lease_siaddr() { od -An -tu1 -j20 -N4 "$T/$1.db/eth0.lease" | awk '{ printf "%s.%s.%s.%s", $1, $2, $3, $4 }'; }

add_guest web 52:54:00:61:00:10 nd-lab
add_guest db 52:54:00:61:00:11 nd-lab
add_guest app 52:54:00:61:00:13 nd-lab
add_guest pxe 52:54:00:61:00:14 nd-lab
add_guest stranger 52:54:00:61:00:99 nd-lab
add_guest stranger2 52:54:00:61:00:98 nd-lab
add_guest stranger3 52:54:00:61:00:97 nd-lab
# The strangers first (they wait out their tries: udhcpc, dhclient, dhcpcd), the others while
# they do.
udhcpc_in stranger -n -q -t 3 -T 1
stranger_pid=$!
dhclient_in stranger2 3 -d &
stranger2_pid=$!
dhcpcd_in stranger3 3 &
stranger3_pid=$!
udhcpc_in web -f -t 10 -T 1
web_pid=$!
BG_PIDS+=($web_pid)
dhcpcd_in pxe 10 &
pxe_pid=$!
dhclient_in db 10 || fail "dhclient (db) got no lease: $(cat "$T/db.dhclient.log")"
dhclient_in app 10 || fail "dhclient (app) got no lease: $(cat "$T/app.dhclient.log")"

got=$(wait_event web '^bound ')
assert_eq "$got" "bound ip=10.61.0.10 lease=300 mtu=1400 boot_file=boot.0 siaddr=10.61.0.1" "udhcpc (web)"
assert_eq "$(gx web cat /sys/class/net/eth0/mtu)" 1400 "web's MTU"
ok "udhcpc: reserved address, its 5m lease, MTU 1400 applied, boot file boot.0 from 10.61.0.1"
got=$(wait_event db '^bound ')
assert_eq "$got" "bound ip=10.61.0.11 lease=4294967295 mtu=1400 host=db domain=lab.test file=boot.0 next=10.61.0.1" \
	"dhclient (db)"
assert_eq "$(gx db cat /sys/class/net/eth0/mtu)" 1400 "db's MTU"
ok "dhclient: reserved address, the network's infinite lease, MTU 1400 applied, boot file boot.0 from 10.61.0.1"
# The FQDN reservation: the client is named by the first label in the network's domain (dnsmasq
# sends that as options 12 and 15); the full name is a DNS record of the gateway's (below).
got=$(wait_event app '^bound ')
assert_eq "$got" "bound ip=10.61.0.13 lease=600 mtu=1400 host=app domain=lab.test file=boot.0 next=10.61.0.1" \
	"dhclient (app)"
assert_eq "$(gx app cat /sys/class/net/eth0/mtu)" 1400 "app's MTU"
ok "dhclient: App.Example.org's reserved address, its 10m lease, host name app in lab.test, MTU 1400, boot.0 from 10.61.0.1"
wait "$pxe_pid" || fail "dhcpcd (pxe) got no lease: $(cat "$T/pxe.dhcpcd.log")"
got=$(wait_event pxe '^bound ')
assert_eq "$got" "bound ip=10.61.0.14 lease=900 mtu=1400 host=pxe domain=lab.test file=boot.0" "dhcpcd (pxe)"
assert_eq "$(lease_siaddr pxe)" 10.61.0.1 "next server of dhcpcd's lease (pxe)"
has -E '^10\.61\.0\.14/24$' <<<"$(gx pxe ip -j -4 addr show eth0 | jq -r '.[0].addr_info[] | "\(.local)/\(.prefixlen)"')" ||
	fail "pxe's eth0: $(gx pxe ip -4 addr show eth0)"
has -x '10.61.0.0/24 .* mtu 1400 *' <<<"$(gx pxe ip route show 10.61.0.0/24)" || fail "pxe's route: $(gx pxe ip route)"
ok "dhcpcd: pxe.example.net's reserved address, its 15m lease, host name pxe in lab.test, MTU 1400 on its route, boot.0 from 10.61.0.1"

# DNS: the full name as a record of its own, the first label under the network's domain.
for _ in $(seq 1 100); do
	[ "$(ctl --json network leases lab | jq length)" = 4 ] && break
	sleep 0.05
done
assert_eq "$(gx web dig +short +time=2 @10.61.0.1 web.example.com)" 10.61.0.10 "dig web.example.com"
assert_eq "$(gx web dig +short +time=2 @10.61.0.1 web.lab.test)" 10.61.0.10 "dig web.lab.test"
assert_eq "$(gx web dig +short +time=2 @10.61.0.1 db.lab.test)" 10.61.0.11 "dig db.lab.test"
assert_eq "$(gx app dig +short +time=2 @10.61.0.1 app.example.org)" 10.61.0.13 "dig app.example.org (from app)"
assert_eq "$(gx app dig +short +time=2 @10.61.0.1 app.lab.test)" 10.61.0.13 "dig app.lab.test (from app)"
assert_eq "$(gx pxe dig +short +time=2 @10.61.0.1 pxe.example.net)" 10.61.0.14 "dig pxe.example.net (from pxe)"
assert_eq "$(gx pxe dig +short +time=2 @10.61.0.1 pxe.lab.test)" 10.61.0.14 "dig pxe.lab.test (from pxe)"
assert_eq "$(ctl --json network leases lab | jq -r '.[] | select(.ip == "10.61.0.10") | .hostname')" web \
	"the lease's name"
grep -q "Ignoring domain" "$T/netd.log" && fail "dnsmasq ignored a domain: $(grep 'Ignoring domain' "$T/netd.log")"
ok "web.example.com, app.example.org, pxe.example.net and NAME.lab.test resolve to the reservations (dig against the gateway)"

# TFTP from the guest, through netd's firewall; a file only root may read is refused.
gx web busybox timeout 10 busybox tftp -g -r boot.0 -l "$T/fetched" 10.61.0.1 || fail "tftp fetch failed"
cmp -s "$T/fetched" "$TFTP/boot.0" || fail "tftp: the file fetched differs"
rc=0
gx web busybox timeout 10 busybox tftp -g -r root-only -l "$T/fetched2" 10.61.0.1 2>"$T/tftp.err" || rc=$?
[ "$rc" != 0 ] || fail "tftp served a root-only file: dnsmasq read it as root"
ok "busybox tftp fetched boot.0 (3000 bytes); a 0600 root file was refused ($(head -c 80 "$T/tftp.err"))"

# The gateway's TFTP and DNS answer the network's bridge only: an uplink neighbour with a route
# through the host gets nothing; the host itself (lo) gets DNS (--register-dns) but not TFTP.
add_upstream
ip -n "$UP" route add 10.61.0.0/24 via 192.168.50.2
rc=0
ip netns exec "$UP" busybox timeout 3 busybox tftp -g -r boot.0 -l "$T/fetched3" 10.61.0.1 2>/dev/null || rc=$?
[ "$rc" != 0 ] && [ ! -s "$T/fetched3" ] || fail "an uplink neighbour fetched boot.0 over TFTP"
[ -z "$(ip netns exec "$UP" dig +short +time=1 +tries=1 @10.61.0.1 web.example.com 2>/dev/null | grep -v '^;')" ] ||
	fail "an uplink neighbour got a DNS answer from the gateway"
[ -z "$(ip netns exec "$UP" dig +tcp +short +time=1 +tries=1 @10.61.0.1 web.example.com 2>/dev/null | grep -v '^;')" ] ||
	fail "an uplink neighbour got a DNS answer over TCP from the gateway"
assert_eq "$(nsx dig +short +time=2 @10.61.0.1 web.example.com)" 10.61.0.10 "dig from the host itself (lo)"
rc=0
nsx busybox timeout 3 busybox tftp -g -r boot.0 -l "$T/fetched4" 10.61.0.1 2>/dev/null || rc=$?
[ "$rc" != 0 ] && [ ! -s "$T/fetched4" ] || fail "the host's lo fetched boot.0 over TFTP"
gx web busybox timeout 10 busybox tftp -g -r boot.0 -l "$T/fetched5" 10.61.0.1 || fail "tftp fetch failed after"
ok "an uplink neighbour gets neither TFTP nor DNS from the gateway; lo gets DNS only; the guest both"

# The stranger got no answer; reserved live, it gets its address and the lease time given.
wait "$stranger_pid" && fail "an unknown MAC got a lease from a static range: $(cat "$T/stranger.events")"
[ ! -s "$T/stranger.events" ] || fail "stranger: $(cat "$T/stranger.events")"
ctl network host add lab 52:54:00:61:00:99 10.61.0.12 stranger.example.com --lease-time 2h >/dev/null
udhcpc_in stranger -n -q -t 5 -T 1
got=$(wait_event stranger '^bound ')
assert_eq "$got" "bound ip=10.61.0.12 lease=7200 mtu=1400 boot_file=boot.0 siaddr=10.61.0.1" "udhcpc (stranger)"
assert_eq "$(ctl --json network show lab | jq -r '.dhcp.hosts')" 5 "reservations"
has -x "host = 52:54:00:61:00:99,10.61.0.12,stranger.example.com,2h" "$T/etc/networks/lab.conf" ||
	fail "definition: $(cat "$T/etc/networks/lab.conf")"
assert_eq "$(gx web dig +short +time=2 @10.61.0.1 stranger.example.com)" 10.61.0.12 "dig stranger.example.com"
ok "an unknown MAC got no answer; reserved live (host add --lease-time 2h), it got 10.61.0.12 for 2h"
# The same with dhclient and dhcpcd: no lease within their 3 s, then the reserved address.
rc=0
wait "$stranger2_pid" || rc=$?
[ "$rc" = 2 ] || fail "dhclient (stranger2) exited $rc in a static range: $(cat "$T/stranger2.events" 2>/dev/null)"
rc=0
wait "$stranger3_pid" || rc=$?
[ "$rc" = 1 ] || fail "dhcpcd (stranger3) exited $rc in a static range: $(cat "$T/stranger3.events" 2>/dev/null)"
[ ! -s "$T/stranger2.events" ] && [ ! -s "$T/stranger3.events" ] ||
	fail "a stranger bound: $(cat "$T/stranger2.events" "$T/stranger3.events" 2>/dev/null)"
grep -q 'No DHCPOFFERS received' "$T/stranger2.dhclient.log" || fail "dhclient (stranger2): $(cat "$T/stranger2.dhclient.log")"
grep -q 'timed out' "$T/stranger3.dhcpcd.log" || fail "dhcpcd (stranger3): $(cat "$T/stranger3.dhcpcd.log")"
ctl network host add lab 52:54:00:61:00:98 10.61.0.15 late.example.org --lease-time 1h >/dev/null
ctl network host add lab 52:54:00:61:00:97 10.61.0.16 --lease-time 3h >/dev/null
dhcpcd_in stranger3 10 &
stranger3_pid=$!
dhclient_in stranger2 10 || fail "dhclient (stranger2) got no lease once reserved: $(cat "$T/stranger2.dhclient.log")"
got=$(wait_event stranger2 '^bound ')
assert_eq "$got" "bound ip=10.61.0.15 lease=3600 mtu=1400 host=late domain=lab.test file=boot.0 next=10.61.0.1" \
	"dhclient (stranger2)"
assert_eq "$(gx stranger2 dig +short +time=2 @10.61.0.1 late.example.org)" 10.61.0.15 "dig late.example.org"
wait "$stranger3_pid" || fail "dhcpcd (stranger3) got no lease once reserved: $(cat "$T/stranger3.dhcpcd.log")"
got=$(wait_event stranger3 '^bound ')
assert_eq "$got" "bound ip=10.61.0.16 lease=10800 mtu=1400 host= domain=lab.test file=boot.0" "dhcpcd (stranger3)"
assert_eq "$(lease_siaddr stranger3)" 10.61.0.1 "next server of dhcpcd's lease (stranger3)"
ok "dhclient and dhcpcd without a reservation got no lease; reserved live, 10.61.0.15 for 1h (dhclient) and 10.61.0.16 for 3h (dhcpcd)"

# Another next server, written into the definition by hand: after a reload the answer names it.
sed -i '/^pxe-boot = /a next-server = 10.61.0.5' "$T/etc/networks/lab.conf"
ctl reload >/dev/null
has -x 'dhcp-boot=boot.0,,10.61.0.5' "$conf" || fail "no next server: $(grep dhcp-boot "$conf")"
kill "$web_pid" 2>/dev/null || true
: >"$T/web.events"
for _ in $(seq 1 100); do
	p=$(dnsmasq_pid lab)
	[ -n "$p" ] && [ "$p" != "$pid" ] && break
	sleep 0.05
done
udhcpc_in web -n -q -t 5 -T 1
# dhclient (app) again, its first one (renewing in the background) stopped: it asks for its lease
# again (REBOOT); dhcpcd (pxe) again.
kill "$(cat "$T/app.dhclient.pid")"
: >"$T/app.events"
: >"$T/pxe.events"
dhcpcd_in pxe 10 &
pxe_pid=$!
dhclient_in app 10 || fail "dhclient (app) got no lease after the reload: $(cat "$T/app.dhclient.log")"
got=$(wait_event web '^bound ')
assert_eq "$got" "bound ip=10.61.0.10 lease=300 mtu=1400 boot_file=boot.0 siaddr=10.61.0.5" "udhcpc (web, next server)"
got=$(wait_event app '^bound ')
assert_eq "$got" "bound ip=10.61.0.13 lease=600 mtu=1400 host=app domain=lab.test file=boot.0 next=10.61.0.5" \
	"dhclient (app, next server)"
wait "$pxe_pid" || fail "dhcpcd (pxe) got no lease after the reload: $(cat "$T/pxe.dhcpcd.log")"
wait_event pxe '^bound ip=10.61.0.14 ' >/dev/null
assert_eq "$(lease_siaddr pxe)" 10.61.0.5 "next server of dhcpcd's lease (pxe, after the reload)"
ok "with next-server = 10.61.0.5 (a hand edit and reload) the answer names that TFTP server (udhcpc, dhclient, dhcpcd)"

# The reload's old dnsmasq: its script helper outlives it while it runs the lease events still
# queued (under ASan, on a loaded machine, seconds). The bad inputs' snapshot below counts dnsmasq
# processes: that one goes first.
main=$(dnsmasq_pid lab)
for _ in $(seq 1 100); do
	others=
	for pid in $(ip netns pids "$NS"); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dnsmasq ] || continue
		ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		if [ "$pid" != "$main" ] && [ "$ppid" != "$main" ]; then others+=" $pid"; fi
	done
	[ -z "$others" ] && break
	sleep 0.1
done
[ -z "$others" ] || fail "dnsmasq processes other than lab's ($main) and its helper still run:$others"

# The guests' clients go (SIGKILL: no release): a renewal during the bad inputs below would
# rewrite lab's leases file between two snapshots (a loaded rehearsal's did).
for g in web db app pxe stranger stranger2 stranger3; do
	eval "gns=\$GNS_$g"
	for pid in $(ip netns pids "$gns"); do kill -9 "$pid" 2>/dev/null || true; done
done

# A TFTP root dnsmasq's user cannot enter: refused at create, nothing left behind; bad values.
mkdir -m 0700 "$T/private"
ln -s /proc "$T/to-proc"
C="network create bad --mode isolated --subnet 10.62.0.0/24"
M=52:54:00:62:00:01
bad=(
	"1|--tftp-root: $T/private is not readable by user '$user' (dnsmasq serves TFTP as that user)|$C --tftp-root $T/private"
	"1|--tftp-root: /etc (/etc) is under a system or netd directory|$C --tftp-root /etc"
	"1|--tftp-root: // (/) is the root directory|$C --tftp-root //"
	"1|--tftp-root: $T/etc ($T/etc) is under a system or netd directory|$C --tftp-root $T/etc"
	"1|--tftp-root: $T/to-proc (/proc) is under a system or netd directory|$C --tftp-root $T/to-proc"
	"1|--pxe-boot: $TFTP/missing.0: No such file or directory|$C --tftp-root $TFTP --pxe-boot missing.0"
	"1|--pxe-boot: $TFTP/root-only is not readable by user '$user'|$C --tftp-root $TFTP --pxe-boot root-only"
	"1|invalid TFTP root 'tftp': must be an absolute path|$C --tftp-root tftp"
	"1|invalid TFTP root '/srv/../etc': may not contain a '..' component|$C --tftp-root /srv/../etc"
	"1|invalid PXE boot file 'a,b': may not contain blanks|$C --pxe-boot a,b"
	"1|invalid PXE boot file 'tag:x': may not start with 'tag:' or 'net:'|$C --pxe-boot tag:x"
	"1|invalid next server 'fd00::1': expected an IPv4 address|$C --pxe-boot a.0 --next-server fd00::1"
	"1|--next-server needs --pxe-boot|$C --next-server 10.62.0.5"
	"1|--pxe-boot needs DHCP on an IPv4 subnet (--no-dhcp turns it off)|$C --no-dhcp --pxe-boot a.0"
	"1|DHCP range 'static' (reserved hosts only) cannot go with START-END ranges|$C --dhcp-range static --dhcp-range 10.62.0.10-10.62.0.20"
	"1|DHCP range 'static' is given twice|$C --dhcp-range static --dhcp-range static"
	"1|invalid lease time 'forever'|$C --lease-time forever"
	"1|invalid hostname 'ignore.example.com' in a host reservation: dnsmasq reads 'ignore'|$C --host $M,10.62.0.5,ignore.example.com"
	"1|its last label is a number|$C --host $M,10.62.0.5,web.example.42"
	"1|lease time '1m' is out of range (2m to 30d)|$C --host $M,10.62.0.5,web,1m"
	"1|hostname 'WEB' is reserved for both 52:54:00:61:00:10 and $M (dnsmasq names a lease by its first label)|network host add lab $M 10.61.0.20 WEB.other.example"
	"1|invalid lease time 'soon'|network host add lab $M 10.61.0.20 --lease-time soon"
	"1|lease time '31d' is out of range|network host add lab $M 10.61.0.20 x1 --lease-time 31d"
	"2|--lease-time needs a value|network host add lab $M 10.61.0.20 --lease-time"
)
bad_cli_cases bad
bad_raw=(
	'{"method":"network.host.add","params":{"name":"lab","mac":"'$M'","ip":"10.61.0.20","lease_time":"1h,web"}}|invalid lease_time'
	'{"method":"network.host.add","params":{"name":"lab","mac":"'$M'","ip":"10.61.0.20","lease_time":"web"}}|invalid lease time'
	'{"method":"network.create","params":{"name":"bad","mode":"isolated","subnet":"10.62.0.0/24","tftp_root":"/x\ny"}}|invalid TFTP root'
)
bad_raw_cases bad_raw
ok "$BAD_N bad inputs refused, nothing changed"

# Another program on udp/69 of the gateway (IP_FREEBIND: the address is not there yet): refused,
# dnsmasq would fail in a loop and TFTP reach that program.
nsx python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_IP, 15, 1)  # IP_FREEBIND
s.bind(("10.62.0.1", 69))
time.sleep(30)' &
holder=$!
for _ in $(seq 100); do nsx ss -Hunl | grep -q '10.62.0.1:69' && break; sleep 0.05; done
rc=0
ctl network create bad --mode isolated --subnet 10.62.0.0/24 --tftp-root "$TFTP" >/dev/null 2>"$T/err" || rc=$?
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null || true
[ "$rc" = 1 ] && grep -qF "another program's socket holds udp port 69 on 10.62.0.1" "$T/err" ||
	fail "udp/69 held: rc $rc, $(cat "$T/err")"
ctl network show bad >/dev/null 2>&1 && fail "network bad made although udp/69 is held"
ok "a TFTP root with udp/69 held by another program: $(cat "$T/err")"

# An operator (group netd) may not name a TFTP root it cannot read itself.
if getent group netd >/dev/null && command -v useradd >/dev/null; then
	OP="netdt-tf-$$"
	add_user "$OP" netd
	rc=0
	run_as "$OP" "$NETDCTL" --socket "$SOCK" network create opnet --mode isolated --subnet 10.64.0.0/24 \
		--tftp-root "$T/private" >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 1 ] && grep -qF -- "--tftp-root: $T/private: not a directory you may read (for uid" "$T/err" ||
		fail "operator's unreadable TFTP root: rc $rc, $(cat "$T/err")"
	ctl network show opnet >/dev/null 2>&1 && fail "network opnet made"
	ok "an operator's TFTP root it cannot read is refused: $(cat "$T/err")"
fi

# A TFTP root removed later costs TFTP only: a change still goes through, a restarted netd adopts
# and supervises dnsmasq, and the problem is shown.
mv "$TFTP" "$TFTP.gone"
ctl network host add lab 52:54:00:61:00:78 10.61.0.31 >/dev/null || fail "a change with the TFTP root gone"
kill9_netd
: >"$T/netd.log"
start_netd
problem=$(ctl --json network show lab | jq -r .problem)
case "$problem" in *"$TFTP: No such file or directory"*) ;; *) fail "problem of lab: $problem" ;; esac
pid=$(dnsmasq_pid lab)
[ -n "$pid" ] && kill -0 "$pid" || fail "no dnsmasq for lab after the restart"
mv "$TFTP.gone" "$TFTP"
ok "TFTP root gone: a host added, netd restarted and dnsmasq (pid $pid) kept; shown: $problem"
