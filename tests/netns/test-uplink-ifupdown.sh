#!/usr/bin/env bash
# eth0 configured by ifupdown ('allow-hotplug eth0', 'iface eth0 inet dhcp': ifup runs dhclient,
# the kernel does SLAAC), with a private /etc/network, /run and /var/lib/dhcp in a mount
# namespace. convert: 0 probes lost, ifupdown lets go of eth0 (a later 'ifdown eth0' changes
# nothing), dhclient handed over to br0, and the lease renews on br0 with 0 probes lost; confirm:
# /etc/network/interfaces describes br0 with eth0 as its port (ifquery reads it back); revert: 0
# lost, the files back byte for byte, ifupdown's state back. Then an unconfirmed conversion rolls
# back, and a confirmed one survives a simulated reboot: ifup -a alone brings br0 back, same MAC,
# same address (dhclient's DUID was carried over), and netd adopts it; a revert removes it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"
. "$(dirname "$0")/manager-lib.sh"
need ifup ifdown ifquery dhclient brctl
DHCLIENT=$(readlink -f "$(command -v dhclient)")

lab_build --no-boot
mkdir -p "$ROOT/etc" "$ROOT/var/lib/dhcp" "$ROOT/run"
cp -a /etc/network "$ROOT/etc/network"
rm -f "$ROOT"/etc/network/interfaces.d/*
cat >"$ROOT/etc/network/interfaces" <<'EOF'
# interfaces(5) file used by ifup(8) and ifdown(8)
# Include files from /etc/network/interfaces.d:
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

# The primary network interface
allow-hotplug eth0
iface eth0 inet dhcp
	# the uplink (a comment inside the stanza moves along)
EOF
: >"$T/resolv.conf"
mgr_ns_start tmpfs:/run "$ROOT/etc/network:/etc/network" "$ROOT/var/lib/dhcp:/var/lib/dhcp" \
	"$T/resolv.conf:/etc/resolv.conf"

boot() {
	nsx sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 net.ipv6.conf.eth0.accept_ra=1 net.ipv6.conf.eth0.autoconf=1
	mx ifup --allow=hotplug eth0 >"$T/ifup.log" 2>&1 || fail "ifup eth0: $(cat "$T/ifup.log")"
	host_wait eth0
}
boot
before_sums=$(tree_sums)
ORIG4=$HOST4
before_ifstate=$(mx cat /run/network/ifstate)
[ "$(procs_of "$DHCLIENT" | wc -l)" = 1 ] || fail "expected one dhclient: $(procs_of "$DHCLIENT")"
ok "ifup configured eth0: $HOST4 (dhclient), $HOST6 (SLAAC); ifstate: $(echo $before_ifstate)"

start_netd --manager-root /

# ---- convert
probes_start 400
sleep 0.3
ctl --json uplink convert eth0 --confirm-timeout 300s >"$T/convert.json" 2>"$T/convert.err" ||
	fail "convert: $(cat "$T/convert.err")"
probes_wait
assert_probes 1 "during the conversion"
CONVERT_LOST=$PROBES_LOST
assert_eq "$(jq -r .manager "$T/convert.json")" ifupdown "the manager netd found"
mx test -e /run/network/ifstate.eth0 && fail "ifupdown still has eth0 in its state"
mx grep -q '^eth0=' /run/network/ifstate && fail "ifstate still names eth0"
probes_start 300
mx ifdown eth0 >"$T/ifdown.out" 2>&1 || true
probes_wait
grep -q "not configured" "$T/ifdown.out" || fail "ifdown eth0: $(cat "$T/ifdown.out")"
assert_eq "$LOST4/$LOST6" "0/0" "probes lost while 'ifdown eth0' ran"
assert_eq "$(link_field eth0 .master)" br0 "eth0's master after 'ifdown eth0'"
grep -q " br0 *$" <<<"$(procs_of "$DHCLIENT")" || fail "no dhclient on br0: $(procs_of "$DHCLIENT")"
procs_of "$DHCLIENT" | has " eth0 *$" && fail "a dhclient still runs on eth0: $(procs_of "$DHCLIENT")"
ok "converted, $CONVERT_LOST of 400 lost; ifupdown let go of eth0 ('ifdown eth0': not configured, 0 lost); dhclient on br0"

# ---- before the confirm, the dhclient of ifupdown's stanza renews on br0 (2 min leases: T1 at
# 60 s), 0 lost meanwhile
probed_renewal "before the confirm"
ok "the lease renewed on br0 before the confirm ($HOST4), 0 of $PROBED probes lost"

# ---- confirm: ifupdown's config describes br0
probes_start 500
sleep 0.3
ctl uplink confirm br0 >"$T/confirm.out" 2>&1 || fail "confirm: $(cat "$T/confirm.out")"
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes lost (IPv4/IPv6) over the confirm"
mx ifquery br0 >"$T/ifquery.br0" 2>&1 || fail "ifquery br0: $(cat "$T/ifquery.br0")"
for want in "bridge_ports: eth0" "bridge_stp: off" "bridge_fd: 0" "bridge_hw: $HOST_MAC"; do
	grep -qx "$want" "$T/ifquery.br0" || fail "ifquery br0 lacks '$want': $(cat "$T/ifquery.br0")"
done
grep -q "^iface br0 inet dhcp$" "$ROOT/etc/network/interfaces" || fail "no 'iface br0 inet dhcp' stanza"
grep -q "^iface eth0 inet manual$" "$ROOT/etc/network/interfaces" || fail "no 'iface eth0 inet manual' stanza"
grep -q "^iface eth0 inet dhcp" "$ROOT/etc/network/interfaces" && fail "eth0 kept its dhcp stanza"
mx ifquery --list --allow=auto | has -x br0 || fail "br0 is not 'auto': $(mx ifquery --list --allow=auto)"
grep -q "default-duid" "$ROOT/var/lib/dhcp/dhclient.br0.leases" || fail "dhclient.br0.leases has no DUID"
ok "confirm: /etc/network/interfaces has br0 (bridge_ports eth0, stp off, fd 0, bridge_hw $HOST_MAC), auto; eth0 manual"

# ---- revert: files and state back
probes_start 300
sleep 0.3
ctl uplink revert br0 >"$T/revert.out" 2>&1 || fail "revert: $(cat "$T/revert.out")"
probes_wait
assert_probes 1 "during the revert"
REVERT_LOST=$PROBES_LOST
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the revert: $(diff <(echo "$before_sums") <(tree_sums))"
[ -e "$ROOT/var/lib/dhcp/dhclient.br0.leases" ] && fail "dhclient.br0.leases (netd's copy of the DUID) left behind"
assert_eq "$(mx cat /run/network/ifstate)" "$before_ifstate" "ifupdown's state after the revert"
mx test -e /run/network/ifstate.eth0 || fail "ifstate.eth0 not back"
has_link br0 && fail "br0 still exists"
sleep 1
# (dhclient forks: netd must stop the child, not the parent it started; manager.c's hand-over)
grep -q " br0 *$" <<<"$(procs_of "$DHCLIENT")" && fail "a dhclient netd started on br0 outlived the revert: $(procs_of "$DHCLIENT")"
grep -q " eth0 *$" <<<"$(procs_of "$DHCLIENT")" || fail "no dhclient on eth0 after the revert"
[ -z "$(ls "$T/lib/uplinks" 2>/dev/null)" ] || fail "netd kept state: $(ls -R "$T/lib/uplinks")"
ok "revert: $REVERT_LOST lost, /etc/network back byte for byte, the DUID copy gone, eth0 in ifstate again, dhclient on eth0"

# ---- an unconfirmed conversion rolls back by itself
probes_start 600
sleep 0.3
ctl uplink convert eth0 --confirm-timeout 3s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
probes_wait
assert_probes 2 "over convert and rollback"
for _ in $(seq 1 30); do has_link br0 || break; sleep 0.2; done
has_link br0 && fail "no rollback"
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the rollback"
assert_eq "$(mx cat /run/network/ifstate)" "$before_ifstate" "ifupdown's state after the rollback"
ok "rollback without confirm: $PROBES_LOST of 600 lost, files and ifupdown's state as before"

# ---- netd killed while it waits: the restarted netd rolls back, ifupdown gets eth0 back
probes_start 800
sleep 0.3
ctl uplink convert eth0 --confirm-timeout 120s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
kill9_netd
start_netd --manager-root /
probes_wait
assert_probes 2 "over convert, kill -9 and recovery"
has_link br0 && fail "the restarted netd did not roll back"
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the recovery"
assert_eq "$(mx cat /run/network/ifstate)" "$before_ifstate" "ifupdown's state after the recovery"
sleep 1
[ "$(procs_of "$DHCLIENT" | grep -c " eth0 *$")/$(procs_of "$DHCLIENT" | wc -l)" = 1/1 ] ||
	fail "expected one dhclient, on eth0: $(procs_of "$DHCLIENT"; ps -o pid,ppid,lstart,args -p "$(procs_of "$DHCLIENT" | cut -d' ' -f1 | paste -sd,)")"
ok "kill -9 while waiting: the restarted netd rolled back, $PROBES_LOST of 800 lost, ifupdown's state and files as before"

# ---- a reboot: ifupdown alone builds br0 again from its config
ctl uplink convert eth0 --confirm-timeout 120s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
ctl uplink confirm br0 >/dev/null
stop_netd
for p in $(procs_of "$DHCLIENT" | cut -d' ' -f1); do kill -9 "$p"; done
ip -n "$NS" link del br0
ip -n "$NS" addr flush dev eth0
mx sh -c 'rm -rf /run/network /run/dhclient*; mkdir /run/network'
mx ifup -a >"$T/ifup.log" 2>&1 || fail "ifup -a: $(cat "$T/ifup.log")"
host_wait br0
assert_eq "$(link_field eth0 .master)" br0 "eth0's master after the reboot"
assert_eq "$(link_field br0 .address)" "$HOST_MAC" "br0's MAC after the reboot"
assert_eq "$(link_field br0 .linkinfo.info_data.stp_state)" 0 "br0's STP after the reboot"
assert_eq "$HOST4" "$ORIG4" "br0's address after the reboot"
start_netd --manager-root /
assert_eq "$(ctl --json uplink status br0 | jq -r '.[0].state')" confirmed "netd's view after the reboot"
grep -q "uplink br0: eth0 is its port; adopted" "$T/netd.log" || fail "netd did not adopt br0"
ok "reboot: ifup -a built br0 (eth0 its port, $HOST_MAC, STP off) with $HOST4 again; netd adopted it"

ctl uplink revert br0 >"$T/revert.out" 2>&1 || fail "revert after the reboot: $(cat "$T/revert.out")"
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the last revert"
sleep 1
grep -q " br0 *$" <<<"$(procs_of "$DHCLIENT")" && fail "ifup's dhclient on br0 outlived the revert"
mx grep -q '^br0=' /run/network/ifstate && fail "ifstate still names br0"
has_link br0 && fail "br0 (ifup's, adopted by netd) outlived the revert after the reboot"
ok "revert after the reboot: files back, br0 gone, ifup's dhclient on br0 stopped, eth0 in ifstate"
