#!/usr/bin/env bash
# eth0 managed by NetworkManager 1.42 (a keyfile profile: DHCP and SLAAC), run in a mount
# namespace with a private system bus (dbus-daemon), a private /etc/NetworkManager and
# /var/lib/NetworkManager, tmpfs /run, /sys read-only (so it does not wait for udev). netd has no
# NetworkManager path yet: convert is refused with what to change and changes nothing (0 probes
# lost, NetworkManager still has eth0). Doing what the message says ('nmcli device set eth0
# managed no') leaves eth0's addresses and lease in place, and then the conversion, its confirm
# and its revert lose 0 probes with NetworkManager running beside (it leaves br0 alone).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"
. "$(dirname "$0")/manager-lib.sh"
need NetworkManager nmcli dbus-daemon

lab_build --no-boot
mkdir -p "$ROOT/etc/NetworkManager/system-connections" "$ROOT/etc/NetworkManager/conf.d" "$ROOT/var/lib/NetworkManager"
# keyfile only: Debian's default also reads /etc/network/interfaces (the host's).
printf '[main]\nplugins=keyfile\n' >"$ROOT/etc/NetworkManager/NetworkManager.conf"
cat >"$ROOT/etc/NetworkManager/system-connections/uplink.nmconnection" <<'EOF'
[connection]
id=uplink
type=ethernet
interface-name=eth0

[ipv4]
method=auto

[ipv6]
method=auto
addr-gen-mode=eui64
EOF
chmod 0600 "$ROOT/etc/NetworkManager/system-connections/uplink.nmconnection"
mgr_ns_start tmpfs:/run "$ROOT/etc/NetworkManager:/etc/NetworkManager" \
	"$ROOT/var/lib/NetworkManager:/var/lib/NetworkManager" ro:/sys
mx mkdir -p /run/dbus
mx dbus-daemon --system --nofork --nopidfile >"$T/dbus.log" 2>&1 &
for _ in $(seq 1 50); do mx test -S /run/dbus/system_bus_socket && break; sleep 0.1; done
mx test -S /run/dbus/system_bus_socket || skip "a private system bus did not start: $(cat "$T/dbus.log")"
mx NetworkManager --no-daemon >"$T/nm.log" 2>&1 &
for _ in $(seq 1 150); do
	mx nmcli -t -f DEVICE,STATE device 2>/dev/null | grep -qx "eth0:connected" && break
	sleep 0.1
done
mx nmcli -t -f DEVICE,STATE device | grep -qx "eth0:connected" ||
	skip "NetworkManager did not connect eth0 here: $(mx nmcli device 2>&1 | tr '\n' ' '); $(tail -3 "$T/nm.log")"
host_wait eth0
ok "NetworkManager connected eth0: $HOST4, $HOST6"

start_netd --manager-root /
before=$(snapshot)
probes_start 300
ctl uplink convert eth0 >"$T/out" 2>"$T/err" && fail "convert of NetworkManager's eth0 was accepted"
probes_wait
grep -qF "NetworkManager manages 'eth0'; make it leave the interface first (nmcli device set eth0 managed no)" "$T/err" ||
	fail "refusal: $(cat "$T/err")"
[ "$(snapshot)" = "$before" ] || fail "the refusal changed state: $(diff <(echo "$before") <(snapshot))"
assert_eq "$LOST4/$LOST6" "0/0" "probes lost (IPv4/IPv6) during the refusal"
ok "refused: $(cat "$T/err")"

# What the message says, then the conversion.
probes_start 300
mx nmcli device set eth0 managed no
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes lost while NetworkManager let go of eth0"
ip -n "$NS" -j addr show eth0 | jq -e --arg a "$HOST4" '.[0].addr_info[] | select(.local == $a)' >/dev/null ||
	fail "NetworkManager took $HOST4 off eth0 when it let go"
grep -q DHCPRELEASE "$T/dnsmasq.log" && fail "NetworkManager released the lease"
probes_start 400
sleep 0.3
ctl uplink convert eth0 --confirm-timeout 120s >"$T/out" 2>"$T/err" || fail "convert: $(cat "$T/err")"
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes lost (IPv4/IPv6) during the conversion"
ctl uplink confirm br0 >/dev/null
probes_start 1000
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes lost with br0 confirmed and NetworkManager running"
ok "'managed no' kept eth0's addresses (no RELEASE); convert and confirm: 0 lost, NetworkManager leaves br0 alone ($(mx nmcli -t -f DEVICE,STATE device | grep '^br0:' || echo 'br0 not listed'))"

probes_start 400
sleep 0.3
ctl uplink revert br0 >"$T/out" 2>&1 || fail "revert: $(cat "$T/out")"
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes lost (IPv4/IPv6) during the revert"
has_link br0 && fail "br0 still exists"
ok "revert: 0 lost; eth0 is left unmanaged ('nmcli device set eth0 managed yes' gives it back)"
