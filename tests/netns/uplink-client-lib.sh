# The uplink lab with a real DHCP client of a host on eth0 (tests/netns/test-uplink-client-*.sh).
# It sources lib.sh and uplink-lib.sh; client_lab CLIENT (dhclient, dhcpcd or udhcpc) builds the lab
# with that client on eth0 instead of uplink-lib.sh's udhcpc.
#
# The clients write where a host's do (dhcpcd: /run/dhcpcd, /var/lib/dhcpcd; their scripts:
# /etc/resolv.conf, the host name), so the test re-runs itself in a mount and UTS namespace of its
# own, with a tmpfs on /run and /var/lib/dhcpcd and a copy of /etc/resolv.conf: nothing of this
# machine's is touched, and tests running at the same time do not see each other's clients.
if [ -z "${NETD_TEST_PRIVATE_MOUNTS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
	command -v unshare >/dev/null || { echo "SKIP: unshare missing (util-linux)"; exit 77; }
	NETD_TEST_PRIVATE_MOUNTS=1 exec unshare --mount --uts --propagation private -- "$BASH" "$0" "$@"
fi
mount -t tmpfs -o mode=0755 netd-test-run /run
mkdir -p /run/netns /var/lib/dhcpcd
mount -t tmpfs -o mode=0755 netd-test-dhcpcd /var/lib/dhcpcd
cp /etc/resolv.conf /run/resolv.conf.test
mount --bind /run/resolv.conf.test /etc/resolv.conf
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"

# client_boot: the host's DHCP client on eth0, started as its boot would; sets CLIENT_PID to the
# process that runs it (after it forked) once eth0 has the lease, IPv6 (SLAAC, the kernel's or
# dhcpcd's) and both default routes.
client_boot() {
	nsx sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 net.ipv6.conf.eth0.accept_ra=1 net.ipv6.conf.eth0.autoconf=1
	ip -n "$NS" link set eth0 up
	case $CLIENT in
	dhclient)
		# ifupdown's command line (inet.defn), its files moved into the test's folder.
		nsx dhclient -4 -v -i -pf "$T/dhclient.eth0.pid" -lf "$T/dhclient.eth0.leases" -I \
			-df "$T/dhclient6.eth0.leases" eth0 >>"$T/client.log" 2>&1 ;;
	dhcpcd)
		# What a host without a network manager runs: both families, in the background after
		# the first lease (-t: give up after 20 s).
		nsx dhcpcd -t 20 eth0 >>"$T/client.log" 2>&1 ;;
	udhcpc)
		# ifupdown's command line for udhcpc: forks after the lease (no -f); a script that
		# configures without flushing (uplink-lib.sh's).
		nsx busybox udhcpc -n -p "$T/udhcpc.eth0.pid" -i eth0 -s "$T/udhcpc.script" -t 20 -T 1 -A 1 \
			>>"$T/client.log" 2>&1 ;;
	esac
	host_wait_addresses
	CLIENT_PID=$(client_pids eth0)
	[ "$(wc -w <<<"$CLIENT_PID")" = 1 ] || fail "expected one $CLIENT on eth0, found: $(client_ps)"
}

# The lab's host_boot, for the tests that reboot: the test's client instead of udhcpc.
host_boot() { client_boot; }

host_wait_addresses() {
	for _ in $(seq 1 200); do
		HOST4=$(ip -n "$NS" -j addr show eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | .local' | head -1)
		HOST6=$(ip -n "$NS" -j addr show eth0 | jq -r '.[0].addr_info[] | select(.family=="inet6" and .scope=="global") | .local' | head -1)
		DEF4=$(ip -n "$NS" -4 route show default | sed -n 1p)
		DEF6=$(ip -n "$NS" -6 route show default | sed -n 1p)
		[ -n "$HOST4" ] && [ -n "$HOST6" ] && [ -n "$DEF4" ] && [ -n "$DEF6" ] && break
		sleep 0.1
	done
	[ -n "$HOST4" ] || fail "host got no DHCP lease on eth0: $(tail -5 "$T/client.log")"
	[ -n "$HOST6" ] || fail "host got no SLAAC address on eth0"
	[ -n "$DEF4" ] || fail "host got no IPv4 default route"
	[ -n "$DEF6" ] || fail "host got no IPv6 default route from the RA"
	for _ in $(seq 1 50); do
		ip -n "$NS" -6 addr show dev eth0 tentative | has inet6 || break
		sleep 0.1
	done
	gwx ping -c 1 -w 5 -I $PROBE4 "$HOST4" >/dev/null || fail "gateway cannot reach the host over IPv4"
	gwx ping -6 -c 1 -w 5 -I $PROBE6 "$HOST6" >/dev/null || fail "gateway cannot reach the host over IPv6"
}

# client_pids [IFACE]: the pids of the test client's main processes (in $NS, by executable),
# for IFACE when given; dhcpcd's helper processes ("dhcpcd: [BPF ARP] ...") are not counted.
client_pids() {
	local pid exe args
	for pid in $(ip netns pids "$NS" 2>/dev/null); do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
		case $CLIENT:${exe##*/} in
		dhclient:dhclient) ;;
		dhcpcd:dhcpcd) [[ $args == "dhcpcd: ["* ]] && continue ;;
		udhcpc:busybox) [[ $args == *udhcpc* ]] || continue ;;
		*) continue ;;
		esac
		grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && continue
		[ -z "${1:-}" ] || [[ " $args" == *" $1 "* || $args == "dhcpcd: $1 "* ]] || continue
		echo "$pid"
	done
}
# client_strays: processes running the client's executable in $NS that are not the one client on
# eth0 (after a revert, rollback or recovery) nor one of its helpers (dhcpcd's, in its session).
client_strays() {
	local main sid pid exe
	main=$(client_pids eth0)
	sid=$(ps -o sid= -p "${main:-0}" 2>/dev/null | tr -d ' ')
	for pid in $(ip netns pids "$NS" 2>/dev/null); do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		case $CLIENT:${exe##*/} in
		dhclient:dhclient | dhcpcd:dhcpcd) ;;
		udhcpc:busybox) [[ $(tr '\0' ' ' <"/proc/$pid/cmdline") == *udhcpc* ]] || continue ;;
		*) continue ;;
		esac
		grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && continue
		[ "$pid" = "$main" ] && continue
		[ -n "$sid" ] && [ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$sid" ] && continue
		echo "$pid: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	done
}

# Every process of the client (helpers too), for messages.
client_ps() {
	local pid
	for pid in $(ip netns pids "$NS" 2>/dev/null); do
		case $(readlink "/proc/$pid/exe" 2>/dev/null) in
		*/dhclient | */dhcpcd | */busybox) echo "$pid: $(tr '\0' ' ' <"/proc/$pid/cmdline")" ;;
		esac
	done
}

client_lab() {
	CLIENT=$1
	case $CLIENT in
	dhclient) command -v dhclient >/dev/null || skip "dhclient missing (isc-dhcp-client; scripts/install-deps)" ;;
	dhcpcd) command -v dhcpcd >/dev/null || skip "dhcpcd missing (dhcpcd-base; scripts/install-deps)" ;;
	esac
	# Renewals every 20 s (T1) of the 2 min leases (dnsmasq's shortest), so that one falls within a
	# short test; busybox udhcpc ignores T1 and renews at half the lease: 60 s.
	LAB_DNSMASQ_ARGS=(--dhcp-option=option:T1,20 --dhcp-option=option:T2,90)
	RENEW_WAIT=30
	[ "$CLIENT" = udhcpc ] && RENEW_WAIT=70
	lab_build
}

# DHCPACKs dnsmasq sent so far.
acks() { grep -c "DHCPACK(gw0) $HOST4 " "$T/dnsmasq.log" || true; }
# wait_acks N SECONDS: until dnsmasq has sent N acks for the host's address.
wait_acks() {
	for _ in $(seq 1 $(($2 * 10))); do
		[ "$(acks)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# After a revert, rollback or recovery: the host as before (addresses, routes, links), one client,
# on eth0, bound again, and no other process of the client left (on br0, or eth0's old one).
check_back_on_eth0() {
	local what=$1 after n
	after=$(host_state)
	diff <(echo "$BEFORE") <(echo "$after") >"$T/diff" || fail "$what: the host's state differs: $(cat "$T/diff")"
	[ -z "$(client_pids br0)" ] || fail "$what: a $CLIENT for br0 still runs: $(client_ps)"
	CLIENT_PID=$(client_pids eth0)
	[ "$(wc -w <<<"$CLIENT_PID")" = 1 ] || fail "$what: expected one $CLIENT on eth0: $(client_ps)"
	[ -z "$(client_strays)" ] || fail "$what: processes of $CLIENT left over: $(client_strays)"
	# It binds again (dhcpcd probes ARP for a few seconds first) before the next case starts.
	wait_acks $(($2 + 1)) 20 || fail "$what: the $CLIENT restarted on eth0 did not bind: $(tail -3 "$T/dnsmasq.log")"
	n=$(ip -n "$NS" -j addr show eth0 | jq '[.[0].addr_info[] | select(.family == "inet")] | length')
	assert_eq "$n" 1 "IPv4 addresses on eth0 after $what"
}

# One client on br0, the one netd started (it is the pid netd keeps: the client runs in the
# foreground), none on eth0.
check_on_br0() {
	local what=$1 pid
	pid=$(ctl --json uplink status br0 | jq -r '.[0].dhcp_client.bridge_pid // empty')
	[ -n "$pid" ] || fail "$what: netd reports no DHCP client on br0: $(ctl --json uplink status br0)"
	assert_eq "$(client_pids br0 | xargs)" "$pid" "$what: the $CLIENT on br0 (all: $(client_ps))"
	[ -z "$(client_pids eth0)" ] || fail "$what: a $CLIENT still runs on eth0: $(client_ps)"
	# Gone within 3 s of netd's signal (a loaded machine schedules its exit late), or a zombie
	# (this machine's pid 1 may not reap the orphans a kill leaves).
	for _ in $(seq 1 30); do
		{ [ -e "/proc/$CLIENT_PID" ] && ! grep -q '^State:.*Z' "/proc/$CLIENT_PID/status" 2>/dev/null; } || break
		sleep 0.1
	done
	[ -e "/proc/$CLIENT_PID" ] && ! grep -q '^State:.*Z' "/proc/$CLIENT_PID/status" 2>/dev/null &&
		fail "$what: eth0's $CLIENT (pid $CLIENT_PID) still runs 3 s after the conversion"
	BRIDGE_CLIENT_PID=$pid
}

# The four cases of issue 21 for the lab's client: convert, a renewal on br0, confirm, revert; a
# rollback; a kill -9 of netd while it waits (recovery); a simulated reboot (rebuild).
client_cases() {
	local n0 c
	BEFORE=$(host_state)
	start_netd

	# convert -> the client on br0 binds and renews there (client_lab's T1) -> confirm, all under
	# probes; then revert.
	n0=$(acks)
	probes_start $(((RENEW_WAIT + 10) * 100))
	sleep 0.3
	ctl --json uplink convert eth0 --confirm-timeout 180s >"$T/convert.json" 2>"$T/err" || fail "convert: $(cat "$T/err")"
	check_on_br0 "after convert"
	ok "converted; $CLIENT handed over to br0 (pid $BRIDGE_CLIENT_PID): $(jq -r .dhcp_client.original "$T/convert.json" | sed "s|$T|\$T|g")"
	wait_acks $((n0 + 1)) 20 || fail "the $CLIENT on br0 did not bind: $(tail -3 "$T/dnsmasq.log")"
	wait_acks $((n0 + 2)) $RENEW_WAIT || fail "no renewal on br0 within $RENEW_WAIT s: $(tail -3 "$T/dnsmasq.log")"
	ctl uplink confirm br0 >/dev/null
	# The renewal reached the address: its lifetime starts again (a client that failed to
	# refresh it would lose it when eth0's lease, copied, ran out).
	sleep 1
	c=$(ip -n "$NS" -j addr show br0 | jq -c '[.[0].addr_info[] | select(.family == "inet") | {local, valid_life_time}]')
	jq -e --arg a "$HOST4" 'length == 1 and .[0].local == $a and .[0].valid_life_time > 110' <<<"$c" >/dev/null ||
		fail "br0's IPv4 address after the renewal: $c"
	probes_wait
	echo "# convert, bind and renewal on br0, confirm: lost IPv4 $LOST4, IPv6 $LOST6 of $(((RENEW_WAIT + 10) * 100)) each"
	assert_probes 1 "from convert to past the renewal on br0"
	check_on_br0 "after the renewal"
	[ -z "$(ip -n "$NS" -j addr show eth0 | jq -r '.[0].addr_info[]?.local')" ] || fail "eth0 has addresses again: $(ip -n "$NS" addr show eth0)"
	ok "renewed on br0 ($HOST4, valid $(jq '.[0].valid_life_time' <<<"$c") s), confirmed; $PROBES_LOST of $(((RENEW_WAIT + 10) * 100)) probes lost per family"

	n0=$(acks)
	probes_start 300
	sleep 0.3
	ctl uplink revert br0 >"$T/out" 2>&1 || fail "revert: $(cat "$T/out")"
	probes_wait
	assert_probes 1 "by the revert"
	check_back_on_eth0 revert "$n0"
	ok "revert: $PROBES_LOST lost; eth0 as before with one $CLIENT (pid $CLIENT_PID); nothing of br0's left"

	# Rollback: no confirmation, once the client on br0 is bound.
	n0=$(acks)
	probes_start 1400
	sleep 0.3
	ctl uplink convert eth0 --confirm-timeout 10s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
	check_on_br0 "before the rollback"
	wait_acks $((n0 + 1)) 9 || fail "the $CLIENT on br0 did not bind: $(tail -3 "$T/dnsmasq.log")"
	n0=$(acks)
	probes_wait
	has_link br0 && fail "no rollback 13 s after a 10 s confirm timeout"
	assert_probes 2 "by the rollback"
	check_back_on_eth0 rollback "$n0"
	ok "rollback: $PROBES_LOST lost; eth0 as before with one $CLIENT; nothing of br0's left"

	# Recovery: netd killed -9 while it waits, with the client on br0 bound.
	n0=$(acks)
	ctl uplink convert eth0 --confirm-timeout 120s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
	check_on_br0 "before the kill"
	wait_acks $((n0 + 1)) 20 || fail "the $CLIENT on br0 did not bind: $(tail -3 "$T/dnsmasq.log")"
	n0=$(acks)
	kill9_netd
	probes_start 300
	start_netd
	probes_wait
	has_link br0 && fail "the restarted netd did not roll back"
	assert_probes 1 "by the recovery"
	check_back_on_eth0 recovery "$n0"
	ok "kill -9 while waiting: the restarted netd rolled back, $PROBES_LOST lost; eth0 as before with one $CLIENT"

	# Reboot: a confirmed br0 gone, the client started on eth0 by the boot, netd rebuilds.
	n0=$(acks)
	ctl uplink convert eth0 --confirm-timeout 120s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
	ctl uplink confirm br0 >/dev/null
	wait_acks $((n0 + 1)) 20 || fail "the $CLIENT on br0 did not bind: $(tail -3 "$T/dnsmasq.log")"
	stop_netd
	for pid in $(ip netns pids "$NS"); do
		case $(readlink "/proc/$pid/exe" 2>/dev/null) in */dhclient | */dhcpcd | */busybox) kill -9 "$pid" ;; esac
	done
	ip -n "$NS" link del br0
	rm -rf "${T:?}/run" /run/dhcpcd
	# A booted eth0 has the kernel's default; dhcpcd set "none" (it makes its own link-local when
	# there is none), and with it the boot's eth0 would not be the first one.
	ip -n "$NS" link set eth0 addrgenmode eui64
	client_boot
	# What this boot gave eth0 is what the revert must give back.
	BEFORE=$(host_state)
	n0=$(acks)
	probes_start 300
	sleep 0.3
	start_netd
	probes_wait
	assert_probes 1 "while netd rebuilt br0"
	REBUILD_LOST=$PROBES_LOST
	assert_eq "$(link_field eth0 .master)" br0 "eth0's master after the reboot"
	check_on_br0 "after the rebuild"
	wait_acks $((n0 + 1)) 20 || fail "the $CLIENT on br0 did not bind after the rebuild: $(tail -3 "$T/dnsmasq.log")"
	n0=$(acks)
	probes_start 300
	sleep 0.3
	ctl uplink revert br0 >"$T/out" 2>&1 || fail "revert: $(cat "$T/out")"
	probes_wait
	assert_probes 1 "by the revert after the reboot"
	check_back_on_eth0 "revert after the reboot" "$n0"
	ok "reboot: netd rebuilt br0 with $REBUILD_LOST lost (the revert $PROBES_LOST) and handed the boot's $CLIENT over; reverted, eth0 as before"
	# Stopped with SIGKILL, never through a release.
	! grep -q DHCPRELEASE "$T/dnsmasq.log" || fail "a client sent a release: $(grep DHCPRELEASE "$T/dnsmasq.log")"
	ok "no DHCPRELEASE reached the server in any case"
}
