#!/usr/bin/env bash
# Live NIC changes (issue 16) with real QEMU (TCG) and the test guest (shownics on its command line):
# 'vm attach-nic' gives the running guest a NIC on a second network (a TAP on that network's bridge,
# hotplugged on a PCIe root port): the guest sees it and gets a lease from that network; the
# definition has [nic1]; a restarted netd (kill -9) knows its TAP; 'vm detach-nic' takes it away
# (the guest sees it go, the TAP is gone from the bridge, the definition follows). Refused, nothing
# changed: an unknown network, a MAC another guest has on that network, a 9th NIC, an operator's
# attach or detach on root's guest. A stopped guest's definition changes alone.
. "$(dirname "$0")/lib.sh"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] || skip "qemu-system-x86_64 missing"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
getent passwd netd-qemu >/dev/null || skip "no user netd-qemu (run scripts/install-deps)"
getent group netd >/dev/null || skip "no group netd (run scripts/install-deps)"
guest_image

start_netd
ctl network create n1 --mode isolated --subnet 10.96.0.0/24 >/dev/null || fail "network create n1"
ctl network create n2 --mode isolated --subnet 10.95.0.0/24 >/dev/null || fail "network create n2"
br2=$(ctl --json network show n2 | jq -r .bridge)

ctl vm create g1 --network n1 --mac 52:54:00:96:00:01 --memory 256M --kernel "$KERNEL" --initrd "$INITRD" \
	--append "console=ttyS0 quiet shownics" --accel tcg >/dev/null || fail "vm create g1"
wait_serial g1 '^LEASE 10\.96\.0\.' 90 >/dev/null
ok "g1 runs with one NIC on n1"

# ---- refusals: one clear line each, nothing changed ----
ctl vm create g2 --network n2 --mac 52:54:00:95:00:02 --kernel "$KERNEL" --no-autostart >/dev/null ||
	fail "vm create g2"
DEF_BEFORE=$(cat "$T/etc/guests/g1.conf")
LINKS_BEFORE=$(ip -n "$NS" -o link show | awk '{print $2}' | sort)
out=$(ctl vm attach-nic g1 nope 2>&1) && fail "attach-nic to an unknown network"
assert_eq "$out" "netdctl: network 'nope' does not exist (see 'netdctl network list')" "unknown network"
out=$(ctl vm attach-nic g1 n2 --mac 52:54:00:95:00:02 2>&1) && fail "attach-nic with g2's MAC on n2"
assert_eq "$out" "netdctl: MAC 52:54:00:95:00:02 is already used on network 'n2' by guest 'g2'" "duplicate MAC"
out=$(ctl vm attach-nic g1 n2 --mac 52:54:00:96:00:01 2>&1) && fail "attach-nic with the guest's own MAC"
assert_eq "$out" "netdctl: guest 'g1' has MAC 52:54:00:96:00:01 already (NIC 0)" "the guest's own MAC"
out=$(ctl vm attach-nic g1 n2 --mac 01:00:5e:00:00:01 2>&1) && fail "attach-nic with a multicast MAC"
has "invalid MAC '01:00:5e:00:00:01'" <<<"$out" || fail "multicast MAC: $out"
out=$(ctl vm attach-nic g1 n2 --nic-security maybe 2>&1) && fail "attach-nic --nic-security maybe"
assert_eq "$out" "netdctl: invalid --nic-security 'maybe': expected on or off" "bad --nic-security"
out=$(ctl vm detach-nic g1 --nic 3 2>&1) && fail "detach-nic of a NIC the guest lacks"
assert_eq "$out" "netdctl: guest 'g1' has no NIC 3 (it has 1)" "no such NIC"
out=$(ctl vm detach-nic g1 2>&1) && fail "detach-nic without --nic"
has "expected NAME --nic N" <<<"$out" || fail "detach-nic without --nic: $out"
OP="netdt-op-$$"
add_user "$OP" netd
op() { run_as "$OP" "$NETDCTL" --socket "$SOCK" "$@"; }
out=$(op vm attach-nic g1 n2 2>&1) && fail "an operator attached a NIC to root's guest"
assert_eq "$out" "netdctl: guest 'g1' belongs to uid 0: only its owner or root may attach its NICs" \
	"an operator's attach on root's guest"
out=$(op vm detach-nic g1 --nic 0 2>&1) && fail "an operator detached a NIC of root's guest"
has "only its owner or root may detach its NICs" <<<"$out" || fail "an operator's detach: $out"
out=$(op vm set-network g1 n2 2>&1) && fail "an operator moved a NIC of root's guest"
has "only its owner or root may move its NICs" <<<"$out" || fail "an operator's set-network: $out"
assert_eq "$(cat "$T/etc/guests/g1.conf")" "$DEF_BEFORE" "g1's definition after the refusals"
assert_eq "$(ip -n "$NS" -o link show | awk '{print $2}' | sort)" "$LINKS_BEFORE" "links after the refusals"
assert_eq "$(vm_field g1 '.nics | length')" 1 "g1's NICs after the refusals"
# a 9th NIC (g2 is stopped: its definition alone)
for i in 1 2 3 4 5 6 7; do
	ctl vm attach-nic g2 n1 >/dev/null || fail "attach-nic $i to stopped g2"
done
assert_eq "$(grep -c '^\[nic' "$T/etc/guests/g2.conf")" 8 "g2's NICs in its definition"
DEF2=$(cat "$T/etc/guests/g2.conf")
out=$(ctl vm attach-nic g2 n1 2>&1) && fail "a 9th NIC"
assert_eq "$out" "netdctl: guest 'g2' has 8 NICs already (at most 8)" "a 9th NIC"
assert_eq "$(cat "$T/etc/guests/g2.conf")" "$DEF2" "g2's definition after the 9th"
ctl vm detach-nic g2 --nic 7 >/dev/null || fail "detach-nic from stopped g2"
assert_eq "$(grep -c '^\[nic' "$T/etc/guests/g2.conf")" 7 "g2's NICs after a detach"
ok "refusals leave the definition and the links as they were; a stopped guest's definition changes alone"

# ---- live attach ----
J=$(ctl --json vm attach-nic g1 n2) || fail "vm attach-nic g1 n2"
assert_eq "$(jq -r '.nics | length' <<<"$J")" 2 "NICs in attach-nic's answer"
assert_eq "$(jq -r '.nics[1].network' <<<"$J")" n2 "the new NIC's network"
tap=$(jq -r '.nics[1].tap' <<<"$J")
mac=$(jq -r '.nics[1].mac' <<<"$J")
assert_eq "$(link_field "$tap" .master)" "$br2" "the new TAP's bridge"
[[ "$(link_field "$tap" .address)" == fe:* ]] || fail "the new TAP's host-side MAC is not fe:..."
assert_eq "$(jq -r '.nics[1].security' <<<"$J")" on "the new NIC's port security"
line=$(wait_serial g1 "^NIC-ADDED eth1 $mac" 60)
lease=$(wait_serial g1 '^LEASE-eth1 10\.95\.0\.' 60)
grep -A1 -x '\[nic1\]' "$T/etc/guests/g1.conf" | has -x 'network = n2' || fail "no [nic1] on n2 in the definition"
macs=$(find "$T" -path '*/guests/g1/macs')
grep -qi "$mac" $macs || fail "the generated MAC is not kept in the MACs file ($macs)"
ok "attach-nic: the guest got eth1 ($line) and a lease from n2 ($lease); TAP $tap on $br2"

# a restarted netd knows the new NIC's TAP (<run>/guests/g1/taps, nic-slots)
kill -9 "$NETD_PID"; wait "$NETD_PID" 2>/dev/null || true
start_netd
assert_eq "$(vm_field g1 '.nics[1].tap')" "$tap" "the new NIC's TAP after a netd restart"
assert_eq "$(vm_field g1 '.nics[1].security')" on "its port security after a netd restart"
ok "after kill -9 of netd the attached NIC's TAP is known"

# ---- live detach ----
ctl vm detach-nic g1 --nic 1 >/dev/null || fail "vm detach-nic g1 --nic 1"
wait_serial g1 '^NIC-REMOVED eth1' 30 >/dev/null
ip -n "$NS" link show "$tap" >/dev/null 2>&1 && fail "TAP $tap still exists after detach-nic"
# the kernel removed it when QEMU closed its fd (netdev_del), netd had nothing to delete
grep -q "TAP $tap still there after netdev_del" "$T/netd.log" && fail "the TAP outlived QEMU's netdev_del"
assert_eq "$(vm_field g1 '.nics | length')" 1 "g1's NICs after detach"
grep -q '^\[nic1\]' "$T/etc/guests/g1.conf" && fail "[nic1] still in the definition"
ok "detach-nic: the guest let eth1 go, the TAP is gone, the definition follows"

# attach again into the slot it left, with a given MAC and port security off; then a stop keeps it
ctl vm attach-nic g1 n2 --mac 52:54:00:95:00:09 --nic-security off >/dev/null || fail "a second attach-nic"
wait_serial g1 '^NIC-ADDED eth. 52:54:00:95:00:09' 60 >/dev/null
assert_eq "$(vm_field g1 '.nics[1].security')" off "port security of the NIC attached with --nic-security off"
grep -q '^mac = 52:54:00:95:00:09' "$T/etc/guests/g1.conf" || fail "the given MAC is not in the definition"
ok "attach-nic again (given MAC, port security off)"

# NIC 0 goes: the remaining NIC (QEMU's nic1, the guest's eth1) is NIC 0 now; set-network's link
# flap reaches it by its QEMU id
ctl vm detach-nic g1 --nic 0 >/dev/null || fail "vm detach-nic g1 --nic 0"
wait_serial g1 '^NIC-REMOVED eth0' 30 >/dev/null
assert_eq "$(vm_field g1 '[.nics[].network] | join(",")')" n2 "g1's NICs after detaching NIC 0"
assert_eq "$(cat "$T/run/guests/g1/nic-slots")" 1 "nic-slots after detaching NIC 0"
# a restarted netd reads the slot (NIC 0 is QEMU's nic1) from nic-slots
kill -9 "$NETD_PID"; wait "$NETD_PID" 2>/dev/null || true
start_netd
ctl vm set-network g1 --nic 0 n1 >/dev/null || fail "vm set-network g1 --nic 0 n1"
wait_serial g1 '^LINK-DOWN eth1' 30 >/dev/null
wait_serial g1 '^LINK-UP eth1' 30 >/dev/null
assert_eq "$(link_field "$(vm_field g1 '.nics[0].tap')" .master)" "$(ctl --json network show n1 | jq -r .bridge)" "the moved NIC's bridge"
ok "after detaching NIC 0, set-network flaps the right NIC's link"

# a guest with --queues 2: the new NIC gets two TAP queues (getfd tapS-0, tapS-1; netdev_add fds)
ctl vm create g3 --network n1 --queues 2 --vcpus 2 --memory 256M --kernel "$KERNEL" --initrd "$INITRD" \
	--append "console=ttyS0 quiet shownics" --accel tcg >/dev/null || fail "vm create g3 --queues 2"
wait_serial g3 '^LEASE 10\.96\.0\.' 90 >/dev/null
ctl vm attach-nic g3 n2 >/dev/null || fail "vm attach-nic g3 n2 (two queues)"
wait_serial g3 '^LEASE-eth1 10\.95\.0\.' 60 >/dev/null
ok "attach-nic on a guest with two queues per NIC"
ctl vm destroy g3 >/dev/null
ctl vm delete g3 >/dev/null
ctl vm destroy g1 >/dev/null
ctl vm delete g1 >/dev/null
ctl vm delete g2 >/dev/null
