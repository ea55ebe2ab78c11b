#!/usr/bin/env bash
# eth0 managed by NetworkManager 1.42 (a keyfile profile: DHCP and SLAAC, EUI-64), run in a mount
# namespace with a private system bus (dbus-daemon), a private /etc/NetworkManager and
# /var/lib/NetworkManager, tmpfs /run, /sys read-only (so it does not wait for udev), restarted
# when it dies the way systemd's Restart=on-failure does.
#   - a profile netd cannot find as a keyfile (no uuid= line): refused with what to do, 0 lost;
#     after doing it, the conversion goes ahead;
#   - convert: 0 lost, NetworkManager restarted with eth0 unmanaged (its state file), no RELEASE,
#     then restarted again with in-memory profiles for br0 and its port, which it assumes (0 lost)
#     and renews the lease on br0 with before the confirm (0 lost);
#   - confirm: the keyfiles in /etc, the old profile autoconnect=false, NetworkManager restarted
#     and assumes them (0 lost), and renews the lease on br0 again (0 lost);
#   - revert: 0 lost, the keyfiles byte for byte as before, NetworkManager runs the old profile on
#     eth0 again; then a rollback without confirm, a kill -9 of netd while it waits, and a reboot
#     where NetworkManager alone builds br0 from its keyfiles.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"
. "$(dirname "$0")/manager-lib.sh"
need NetworkManager nmcli dbus-daemon

NM_EXE=$(command -v NetworkManager)
UUID=6f1c2f3e-52a4-4c1e-9a0b-3d2f8e7c1a55
lab_build --no-boot
mkdir -p "$ROOT/etc/NetworkManager/system-connections" "$ROOT/etc/NetworkManager/conf.d" "$ROOT/var/lib/NetworkManager"
# keyfile only: Debian's default also reads /etc/network/interfaces (the host's).
printf '[main]\nplugins=keyfile\n' >"$ROOT/etc/NetworkManager/NetworkManager.conf"
KEYFILE="$ROOT/etc/NetworkManager/system-connections/uplink.nmconnection"
# Hand-written first: no uuid= line (NetworkManager makes one up).
cat >"$KEYFILE" <<'EOF'
[connection]
id=uplink
type=ethernet
interface-name=eth0
zone=public

[ethernet]
mtu=1500

[ipv4]
method=auto

[ipv6]
method=auto
addr-gen-mode=eui64
EOF
chmod 0600 "$KEYFILE"
mgr_ns_start tmpfs:/run "$ROOT/etc/NetworkManager:/etc/NetworkManager" \
	"$ROOT/var/lib/NetworkManager:/var/lib/NetworkManager" ro:/sys
mx mkdir -p /run/dbus
mx dbus-daemon --system --nofork --nopidfile >"$T/dbus.log" 2>&1 &
for _ in $(seq 1 50); do mx test -S /run/dbus/system_bus_socket && break; sleep 0.1; done
mx test -S /run/dbus/system_bus_socket || skip "a private system bus did not start: $(cat "$T/dbus.log")"

nm_start() {
	rm -f "$T/nm-stop"
	mx sh -c "while [ -d '$T' ] && [ ! -e '$T/nm-stop' ]; do $NM_EXE --no-daemon; sleep 0.1; done" >>"$T/nm.log" 2>&1 &
}
nm_stop() {
	: >"$T/nm-stop"
	for p in $(nm_pids); do kill -9 "$p"; done
}
nm_pids() { procs_of "$NM_EXE" | cut -d' ' -f1; }
# nm_dev IFACE: "STATE:CONNECTION" as nmcli says it ("" if NetworkManager does not answer).
nm_dev() { mx nmcli -t -f DEVICE,STATE,CONNECTION device 2>/dev/null | sed -n "s/^$1://p"; }
# wait_nm IFACE STATE[:CONNECTION]
wait_nm() {
	for _ in $(seq 1 150); do
		case "$(nm_dev "$1")" in "$2" | "$2":*) return 0 ;; esac
		sleep 0.1
	done
	fail "NetworkManager: $1 is '$(nm_dev "$1")', not $2"
}
no_release() { ! grep -q "DHCPRELEASE" "$T/dnsmasq.log" || fail "NetworkManager sent a DHCP RELEASE"; }

nm_start
wait_nm eth0 "connected:uplink"
host_wait eth0
ORIG4=$HOST4
ok "NetworkManager connected eth0: $HOST4, $HOST6"

start_netd --manager-root /

# ---- a profile netd cannot find: refused, with what to do
nm_uuid=$(mx nmcli -g connection.uuid connection show uplink)
before=$(snapshot)
probes_start 300
ctl uplink convert eth0 >"$T/out" 2>"$T/err" && fail "convert of a profile without a uuid= line was accepted"
probes_wait
grep -qF "NetworkManager runs profile $nm_uuid on 'eth0', which is not a keyfile of /etc/NetworkManager/system-connections" "$T/err" ||
	fail "refusal: $(cat "$T/err")"
grep -qF "add uuid=$nm_uuid to its [connection] group" "$T/err" || fail "refusal does not say what to do: $(cat "$T/err")"
[ "$(snapshot)" = "$before" ] || fail "the refusal changed state: $(diff <(echo "$before") <(snapshot))"
assert_eq "$LOST4/$LOST6" "0/0" "probes lost (IPv4/IPv6) during the refusal"
assert_eq "$(nm_dev eth0)" "connected:uplink" "NetworkManager's eth0 after the refusal"
ok "refused: $(cat "$T/err")"
# What it says (what nmcli writes in every profile it saves).
sed -i "s/^id=uplink\$/id=uplink\nuuid=$nm_uuid/" "$KEYFILE"
before_sums=$(tree_sums)

# ---- convert
pid0=$(nm_pids)
probes_start 500
sleep 0.3
ctl --json uplink convert eth0 --confirm-timeout 300s >"$T/convert.json" 2>"$T/convert.err" ||
	fail "convert: $(cat "$T/convert.err")"
probes_wait
assert_probes 1 "during the conversion"
CONVERT_LOST=$PROBES_LOST
assert_eq "$(jq -r .manager "$T/convert.json")" NetworkManager "the manager netd found"
[ "$(nm_pids)" != "$pid0" ] || fail "NetworkManager was not restarted"
wait_nm br0 "connected:br0"
wait_nm eth0 "connected:br0-port-eth0"
for f in netd-br0.nmconnection netd-br0-port.nmconnection; do
	mx test -f "/run/NetworkManager/system-connections/$f" || fail "convert did not write /run/NetworkManager/system-connections/$f"
	[ -e "$ROOT/etc/NetworkManager/system-connections/$f" ] && fail "convert wrote $f in /etc before the confirm"
done
[ "$(tree_sums)" = "$before_sums" ] || fail "convert changed /etc before the confirm"
probes_start 200
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes lost after NetworkManager came back"
no_release
ok "converted, $CONVERT_LOST of 500 lost; NetworkManager restarted, runs br0 from in-memory profiles, no RELEASE, 0 of 200 lost after"

# ---- before the confirm, NetworkManager's own client renews on br0 (2 min leases: T1 at 60 s)
probed_renewal "before the confirm"
ok "NetworkManager renewed the lease on br0 before the confirm ($HOST4), 0 of $PROBED probes lost"

# ---- confirm: NetworkManager's keyfiles describe br0 and it assumes them
probes_start 1000
sleep 0.3
ctl uplink confirm br0 >"$T/confirm.out" 2>&1 || fail "confirm: $(cat "$T/confirm.out")"
wait_nm br0 "connected:br0"
wait_nm eth0 "connected:br0-port-eth0"
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes lost (IPv4/IPv6) while NetworkManager took br0 over"
KD="$ROOT/etc/NetworkManager/system-connections"
for f in netd-br0.nmconnection netd-br0-port.nmconnection; do
	[ -f "$KD/$f" ] || fail "confirm did not write /etc/NetworkManager/system-connections/$f"
	assert_eq "$(stat -c %a "$KD/$f")" 600 "mode of $f"
done
grep -qx "cloned-mac-address=$HOST_MAC" "$KD/netd-br0.nmconnection" || fail "br0's profile lacks the MAC"
grep -qx "zone=public" "$KD/netd-br0.nmconnection" || fail "br0's profile lacks the firewall zone"
grep -qx "mtu=1500" "$KD/netd-br0-port.nmconnection" || fail "the port's profile lacks the [ethernet] group"
grep -qx "autoconnect=false" "$KEYFILE" || fail "the old profile still autoconnects"
mx sh -c 'ls /run/NetworkManager/system-connections' | has netd && fail "netd's in-memory profiles outlived the confirm"
assert_eq "$(mx nmcli -g ipv6.addr-gen-mode,ipv4.method,connection.zone connection show br0 | paste -sd,)" "eui64,auto,public" \
	"br0's profile as NetworkManager reads it"
no_release
ok "confirm: NetworkManager runs br0 (netd-br0.nmconnection) and eth0 (its port), 0 of 1000 lost"

# ---- NetworkManager's own client renews on br0 (2 min leases: T1 at 60 s)
sleep 2
probed_renewal "after the confirm"
assert_eq "$(ip -n "$NS" -j route show default | jq -r '[.[].metric] | unique | join(",")')" 100 \
	"IPv4 default route metrics (the port's 100 kept, no second route)"
ok "NetworkManager renewed the lease on br0 ($HOST4), 0 of $PROBED probes lost, one default route (metric 100)"

# ---- revert
probes_start 500
sleep 0.3
ctl uplink revert br0 >"$T/revert.out" 2>&1 || fail "revert: $(cat "$T/revert.out")"
wait_nm eth0 "connected:uplink"
probes_wait
assert_probes 1 "during the revert"
REVERT_LOST=$PROBES_LOST
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the revert: $(diff <(echo "$before_sums") <(tree_sums))"
has_link br0 && fail "br0 still exists"
ls "$ROOT/var/lib/NetworkManager" | has -- "-br0.lease" && fail "the lease copy for br0 outlived the revert"
probes_start 300
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes lost after the revert, NetworkManager on eth0 again"
no_release
ok "revert: $REVERT_LOST lost, the keyfiles as before, NetworkManager runs 'uplink' on eth0 again, 0 of 300 lost after"

# ---- an unconfirmed conversion rolls back by itself
probes_start 700
sleep 0.3
ctl uplink convert eth0 --confirm-timeout 3s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
probes_wait
assert_probes 2 "over convert and rollback"
for _ in $(seq 1 30); do has_link br0 || break; sleep 0.2; done
has_link br0 && fail "no rollback"
wait_nm eth0 "connected:uplink"
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the rollback"
ok "rollback without confirm: $PROBES_LOST of 700 lost, NetworkManager runs 'uplink' on eth0 again, files as before"

# ---- netd killed while it waits: the restarted netd rolls back, NetworkManager gets eth0 back
probes_start 900
sleep 0.3
ctl uplink convert eth0 --confirm-timeout 120s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
kill9_netd
start_netd --manager-root /
probes_wait
assert_probes 2 "over convert, kill -9 and recovery"
has_link br0 && fail "the restarted netd did not roll back"
wait_nm eth0 "connected:uplink"
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the recovery"
no_release
ok "kill -9 while waiting: the restarted netd rolled back, $PROBES_LOST of 900 lost, NetworkManager runs 'uplink' again"

# ---- a reboot: NetworkManager alone builds br0 from its keyfiles
ctl uplink convert eth0 --confirm-timeout 120s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
ctl uplink confirm br0 >/dev/null
wait_nm br0 "connected:br0"
stop_netd
nm_stop
ip -n "$NS" link del br0
ip -n "$NS" addr flush dev eth0
mx sh -c 'rm -rf /run/NetworkManager'
nm_start
for _ in $(seq 1 150); do has_link br0 && break; sleep 0.1; done
has_link br0 || fail "NetworkManager did not create br0: $(tail -5 "$T/nm.log")"
wait_nm br0 "connected:br0"
host_wait br0
assert_eq "$(link_field eth0 .master)" br0 "eth0's master after the reboot"
assert_eq "$(link_field br0 .address)" "$HOST_MAC" "br0's MAC after the reboot"
assert_eq "$(link_field br0 .linkinfo.info_data.stp_state)" 0 "br0's STP after the reboot"
assert_eq "$HOST4" "$ORIG4" "br0's address after the reboot"
assert_eq "$(nm_dev eth0)" "connected:br0-port-eth0" "NetworkManager's eth0 after the reboot"
start_netd --manager-root /
assert_eq "$(ctl --json uplink status br0 | jq -r '.[0].state')" confirmed "netd's view after the reboot"
ok "reboot: NetworkManager built br0 (eth0 its port, $HOST_MAC, STP off) with $HOST4 again; netd adopted it"

ctl uplink revert br0 >"$T/revert.out" 2>&1 || fail "revert after the reboot: $(cat "$T/revert.out")"
wait_nm eth0 "connected:uplink"
host_wait eth0
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the last revert"
sleep 1 # the manager's restarts are over: it must not have made br0 again from its old files
has_link br0 && fail "br0 exists again after the revert after the reboot"
for _ in $(seq 1 20); do [ "$(nm_pids | wc -l)" = 1 ] && break; sleep 0.1; done
assert_eq "$(nm_pids | wc -l)" 1 "NetworkManager processes"
ok "revert after the reboot: keyfiles as before, NetworkManager runs 'uplink' on eth0 ($HOST4)"
nm_stop
