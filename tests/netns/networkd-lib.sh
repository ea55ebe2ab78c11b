# systemd-networkd in the manager's mount namespace (manager-lib.sh), on top of lib.sh,
# uplink-lib.sh and manager-lib.sh: run standalone under a loop that starts it again when it dies,
# as systemd's Restart=on-failure does; its state, and DHCP RELEASEs the lab's server saw.
NETWORKD=/usr/lib/systemd/systemd-networkd
[ -x "$NETWORKD" ] || skip "systemd-networkd missing ($NETWORKD)"
getent passwd systemd-network >/dev/null || skip "user systemd-network missing"

networkd_start() {
	rm -f "$T/networkd-stop"
	# Started again 0.2 s after it dies, until told to stop (or $T is gone: the cleanup).
	mx sh -c "while [ -d '$T' ] && [ ! -e '$T/networkd-stop' ]; do $NETWORKD; sleep 0.2; done" \
		>>"$T/networkd.log" 2>&1 &
	NETWORKD_LOOP=$!
}
networkd_stop() {
	: >"$T/networkd-stop"
	for p in $(networkd_pids); do kill -9 "$p"; done
	wait "$NETWORKD_LOOP" 2>/dev/null || true
}
networkd_pids() { procs_of "$NETWORKD" | cut -d' ' -f1; }
# admin_state IFACE: networkd's word for it (configured, unmanaged, ...), empty if none yet.
admin_state() {
	local idx
	idx=$(ip -n "$NS" -j link show "$1" 2>/dev/null | jq -r '.[0].ifindex') || return 0
	mx sed -n 's/^ADMIN_STATE=//p' "/run/systemd/netif/links/$idx" 2>/dev/null || true
}
wait_admin() {
	for _ in $(seq 1 100); do
		[ "$(admin_state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "networkd: $1 is '$(admin_state "$1")', not $2"
}
no_release() { ! grep -q "DHCPRELEASE" "$T/dnsmasq.log" || fail "networkd sent a DHCP RELEASE: $(grep DHCPRELEASE "$T/dnsmasq.log")"; }
# network_file IFACE: the .network networkd configures it from.
network_file() {
	mx sed -n 's/^NETWORK_FILE=//p' "/run/systemd/netif/links/$(ip -n "$NS" -j link show "$1" | jq '.[0].ifindex')"
}
