#!/usr/bin/env bash
# eth0 managed by systemd-networkd 252 (50-eth0.network: DHCP=yes, IPv6AcceptRA=yes), networkd
# run standalone in a mount namespace (tmpfs /run, a private /etc/systemd/network, /sys read-only
# so it does not wait for udev) under a loop that starts it again when it dies, as systemd's
# Restart=on-failure does. convert: 0 probes lost, networkd lets go of eth0 (a runtime
# Unmanaged=yes file, networkd SIGKILLed and started again: no RELEASE, nothing dropped), then
# takes br0 over from .netdev/.network files in /run/systemd/network (0 lost) and renews the lease
# there before the confirm; confirm: the same files in /etc/systemd/network, 0 lost, another
# renewal; revert: 0 lost, the files as before, networkd manages eth0 again. Then a rollback, a
# kill -9 of netd while it waits, and a reboot where networkd alone builds br0 from its files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"
. "$(dirname "$0")/manager-lib.sh"
. "$(dirname "$0")/networkd-lib.sh"

lab_build --no-boot
mkdir -p "$ROOT/etc/systemd/network"
cat >"$ROOT/etc/systemd/network/50-eth0.network" <<'EOF'
[Match]
Name=eth0

[Network]
DHCP=yes
IPv6AcceptRA=yes
EOF
mgr_ns_start tmpfs:/run "$ROOT/etc/systemd/network:/etc/systemd/network" ro:/sys
mx sh -c 'mkdir -p /run/systemd/netif /run/systemd/network && chown systemd-network:systemd-network /run/systemd/netif'

nsx sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
ip -n "$NS" link set eth0 up
networkd_start
wait_admin eth0 configured
host_wait eth0
ORIG4=$HOST4
before_sums=$(tree_sums)
ok "networkd configured eth0: $HOST4 (its DHCP client), $HOST6 (its SLAAC)"

start_netd --manager-root /

# ---- convert
pid0=$(networkd_pids)
probes_start 400
sleep 0.3
ctl --json uplink convert eth0 --confirm-timeout 300s >"$T/convert.json" 2>"$T/convert.err" ||
	fail "convert: $(cat "$T/convert.err")"
probes_wait
assert_probes 1 "during the conversion"
CONVERT_LOST=$PROBES_LOST
assert_eq "$(jq -r .manager "$T/convert.json")" systemd-networkd "the manager netd found"
mx test -e /run/systemd/network/00-0netd-br0.network && fail "the hold file outlived the conversion"
for f in 00-netd-br0.netdev 00-netd-br0.network 00-netd-br0-port.network; do
	mx test -e "/run/systemd/network/$f" || fail "convert did not write /run/systemd/network/$f"
done
wait_admin br0 configured
wait_admin eth0 configured
[ "$(networkd_pids)" != "$pid0" ] || fail "networkd was not restarted"
probes_start 200
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes lost after networkd came back"
no_release
ok "converted, $CONVERT_LOST of 400 lost; networkd restarted, runs br0 from /run/systemd/network, no RELEASE, 0 of 200 lost after"

# ---- before the confirm, networkd's own client renews on br0 (2 min leases: T1 at 60 s)
probed_renewal "before the confirm"
ok "networkd renewed the lease on br0 before the confirm ($HOST4), 0 of $PROBED probes lost"

# ---- confirm: networkd's files describe br0 and it takes br0 over
probes_start 1000
sleep 0.3
ctl uplink confirm br0 >"$T/confirm.out" 2>&1 || fail "confirm: $(cat "$T/confirm.out")"
wait_admin br0 configured
wait_admin eth0 configured
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes lost (IPv4/IPv6) while networkd took br0 over"
for f in 00-netd-br0.netdev 00-netd-br0.network 00-netd-br0-port.network; do
	[ -f "$ROOT/etc/systemd/network/$f" ] || fail "confirm did not write /etc/systemd/network/$f"
done
mx sh -c 'ls /run/systemd/network' | has netd && fail "netd's files in /run/systemd/network outlived the confirm"
grep -qx "MACAddress=$HOST_MAC" "$ROOT/etc/systemd/network/00-netd-br0.netdev" || fail "br0.netdev lacks the MAC"
grep -qx "Bridge=br0" "$ROOT/etc/systemd/network/00-netd-br0-port.network" || fail "the port file lacks Bridge=br0"
assert_eq "$(network_file br0)" /etc/systemd/network/00-netd-br0.network "br0's .network"
no_release
ok "confirm: networkd manages br0 (00-netd-br0.{netdev,network}) and eth0 (Bridge=br0), 0 of 1000 lost"

# ---- networkd's own client renews on br0 (2 min leases: T1 at 60 s)
sleep 2
probed_renewal "after the confirm"
ok "networkd renewed the lease on br0 ($HOST4), 0 of $PROBED probes lost"

# ---- revert
probes_start 400
sleep 0.3
ctl uplink revert br0 >"$T/revert.out" 2>&1 || fail "revert: $(cat "$T/revert.out")"
wait_admin eth0 configured
probes_wait
assert_probes 1 "during the revert"
REVERT_LOST=$PROBES_LOST
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the revert: $(diff <(echo "$before_sums") <(tree_sums))"
mx sh -c 'ls /run/systemd/network' | has netd && fail "netd's runtime file left in /run/systemd/network"
has_link br0 && fail "br0 still exists"
probes_start 300
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes lost after the revert, networkd on eth0 again"
no_release
ok "revert: $REVERT_LOST lost, /etc/systemd/network as before, networkd manages eth0 again, 0 of 300 lost after"

# ---- an unconfirmed conversion rolls back by itself
probes_start 600
sleep 0.3
ctl uplink convert eth0 --confirm-timeout 3s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
probes_wait
assert_probes 2 "over convert and rollback"
for _ in $(seq 1 30); do has_link br0 || break; sleep 0.2; done
has_link br0 && fail "no rollback"
wait_admin eth0 configured
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the rollback"
mx sh -c 'ls /run/systemd/network' | has netd && fail "the hold file outlived the rollback"
ok "rollback without confirm: $PROBES_LOST of 600 lost, networkd manages eth0 again, files as before"

# ---- netd killed while it waits: the restarted netd rolls back, networkd gets eth0 back
probes_start 800
sleep 0.3
ctl uplink convert eth0 --confirm-timeout 120s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
kill9_netd
start_netd --manager-root /
probes_wait
assert_probes 2 "over convert, kill -9 and recovery"
has_link br0 && fail "the restarted netd did not roll back"
wait_admin eth0 configured
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the recovery"
mx sh -c 'ls /run/systemd/network' | has netd && fail "the hold file outlived the recovery"
no_release
ok "kill -9 while waiting: the restarted netd rolled back, $PROBES_LOST of 800 lost, networkd manages eth0 again"

# ---- a reboot: networkd alone builds br0 from its files
ctl uplink convert eth0 --confirm-timeout 120s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
ctl uplink confirm br0 >/dev/null
wait_admin br0 configured
stop_netd
networkd_stop
ip -n "$NS" link del br0
ip -n "$NS" addr flush dev eth0
mx sh -c 'rm -rf /run/systemd/netif/links/* /run/systemd/netif/leases/* /run/systemd/netif/lldp/*'
networkd_start
for _ in $(seq 1 100); do has_link br0 && break; sleep 0.1; done
has_link br0 || fail "networkd did not create br0"
wait_admin br0 configured
host_wait br0
assert_eq "$(link_field eth0 .master)" br0 "eth0's master after the reboot"
assert_eq "$(link_field br0 .address)" "$HOST_MAC" "br0's MAC after the reboot"
assert_eq "$(link_field br0 .linkinfo.info_data.stp_state)" 0 "br0's STP after the reboot"
assert_eq "$(link_field br0 .linkinfo.info_data.forward_delay)" 0 "br0's forward delay after the reboot"
assert_eq "$HOST4" "$ORIG4" "br0's address after the reboot"
start_netd --manager-root /
assert_eq "$(ctl --json uplink status br0 | jq -r '.[0].state')" confirmed "netd's view after the reboot"
ok "reboot: networkd built br0 (eth0 its port, $HOST_MAC, STP off, fd 0) with $HOST4 again; netd adopted it"

ctl uplink revert br0 >"$T/revert.out" 2>&1 || fail "revert after the reboot: $(cat "$T/revert.out")"
wait_admin eth0 configured
host_wait eth0
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the last revert"
sleep 1 # the manager's restarts are over: it must not have made br0 again from its old files
has_link br0 && fail "br0 exists again after the revert after the reboot"
for _ in $(seq 1 20); do [ "$(networkd_pids | wc -l)" = 1 ] && break; sleep 0.1; done
assert_eq "$(networkd_pids | wc -l)" 1 "networkd processes"
ok "revert after the reboot: files as before, networkd manages eth0 ($HOST4)"
networkd_stop
