#!/usr/bin/env bash
# Several disks per guest (issue 16) with real QEMU (TCG) and the test guest: a disk of the pool
# given by NAME on SATA, a readonly raw disk on virtio-scsi, and a new qcow2 that 'vm create
# --disk-size' makes in the pool (virtio-blk), next to --kernel/--initrd; the guest sees the three
# with their sizes and the readonly one read-only (showdisks on its command line), 'vm show' lists
# them with their node names, the definition has [disk0]..[disk2], QEMU's command line names no
# path, and a disk the guest uses cannot be deleted. Bad disk options, 9 disks, the same file twice,
# a missing pool disk, a readonly SATA disk, a --disk-size whose file exists: each one clear line,
# nothing changed (links, definitions, the pool); a create that fails after --disk-size made its
# file removes it again. An old definition with 'disk =' in [guest] loads as disk 0. Live:
# attach-disk and detach-disk of virtio and scsi disks on the running guest (it sees them come and
# go), SATA refused live, nodes kept across a kill -9 of netd, an operator's qcow2 with a backing
# file refused (by its header, or after QEMU opened it) on the operator's guest, any attach or
# detach of the operator's on root's guest refused; a stopped guest's definition changes.
# Boot order: a cdrom that prints CD and reboots next to a disk that prints HD boots CD then HD.
. "$(dirname "$0")/lib.sh"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] || skip "qemu-system-x86_64 missing"
[ -x /usr/bin/qemu-img ] || skip "/usr/bin/qemu-img missing"
getent passwd netd-qemu >/dev/null || skip "no user netd-qemu (run scripts/install-deps)"
getent group netd >/dev/null || skip "no group netd (run scripts/install-deps)"
guest_image

POOL=$T/images
start_netd --image-dir "$POOL"
ctl network create n1 --mode isolated --subnet 10.97.0.0/24 --no-dhcp --no-dns >/dev/null
ctl disk create data.raw --size 16M --format raw >/dev/null || fail "disk create data.raw"
ctl disk create ro.raw --size 8M --format raw >/dev/null || fail "disk create ro.raw"
ctl disk create taken-disk0.qcow2 --size 1M >/dev/null || fail "disk create taken-disk0.qcow2"

# ---- refusals: one line each, nothing changed ----
# (the directories' own times change when a file comes and goes: their entries are what counts)
files_state() {
	# (.netd's own time too: a refused --disk-size removed the record it had put there)
	(cd "$POOL" && ls -la --time-style=+%s.%N . | grep -v -e ' \.\.\?$' -e ' \.netd$' && md5sum -- *)
	ls -la --time-style=+%s.%N "$POOL/.netd" | grep -v ' \.\.\?$' || true
	ls -la "$T/etc/guests" 2>/dev/null | grep -v ' \.\.\?$' || true
}
FILES_BEFORE=$(files_state)
B="--network n1 --kernel $KERNEL --no-autostart"
OPTS="expected format=raw|qcow2, cache=none|writeback|writethrough|directsync|unsafe, bus=virtio|scsi|sata or readonly"
nine=""
for i in 1 2 3 4 5 6 7 8 9; do nine+=" --disk $POOL/d$i.raw"; done
# (bad_cli_cases splits at '|': the messages with one are checked below)
cases=(
	"1|in --disk data.raw: expected format=raw|vm create x $B --disk data.raw,bus=ide"
	"1|invalid disk option 'cache=fast' in --disk data.raw|vm create x $B --disk data.raw,cache=fast"
	"1|at most 8 disks|vm create x $B $nine"
	"1|disk $POOL/data.raw is given twice (disks 0 and 1)|vm create x $B --disk data.raw --disk $POOL/data.raw"
	"1|no disk named 'nope.raw' in the pool|vm create x $B --disk nope.raw"
	"1|disk ../data.raw: the path must be absolute|vm create x $B --disk ../data.raw"
	"1|invalid --disk '.hidden' (a disk of the pool: it has no '/'): a disk name must not start with '.'|vm create x $B --disk .hidden"
	"1|disk 'data.raw' of the pool is raw, not qcow2|vm create x $B --disk data.raw,format=qcow2"
	"1|disk $POOL/ro.raw: a SATA disk cannot be readonly (QEMU's ide-hd refuses it); use bus=virtio or bus=scsi|vm create x $B --disk ro.raw,bus=sata,readonly"
	"1|--boot cdrom,disk needs both --cdrom and --disk|vm create x $B --disk data.raw --boot cdrom,disk"
	"1|invalid --disk-size: |vm create x $B --disk-size 20X"
	"1|disk 'taken-disk0.qcow2' exists already|vm create taken $B --disk-size 20M"
	"1|/nonexistent/x.raw|vm create y $B --disk /nonexistent/x.raw --disk-size 20M"
)
bad_cli_cases cases
out=$(ctl vm create x $B --disk data.raw,bus=ide 2>&1) && fail "bus=ide accepted"
assert_eq "$out" "netdctl: invalid disk option 'bus=ide' in --disk data.raw: $OPTS" "the bad bus's message"
assert_eq "$(files_state)" "$FILES_BEFORE" "the pool and the definitions after the refusals"
[ -e "$POOL/y-disk0.qcow2" ] && fail "the failed create left its new disk"
grep -q "disk 'y-disk0.qcow2' removed from $POOL (the guest was not created)" "$T/netd.log" ||
	fail "no log of the new disk's removal"
ok "a create that failed after --disk-size made its disk removed it again"

# ---- three disks on three buses, next to a kernel ----
ctl vm create g1 --network n1 --memory 256M --kernel "$KERNEL" --initrd "$INITRD" \
	--append "console=ttyS0 quiet showdisks=3" --accel tcg \
	--disk data.raw,bus=sata --disk "$POOL/ro.raw,bus=scsi,readonly,cache=writeback" --disk-size 20M >/dev/null ||
	fail "vm create g1 with three disks"
S=$(ctl --json vm show g1)
assert_eq "$(jq -c '[.disks[] | [.node, .path, .format, .bus, .cache, .readonly]]' <<<"$S")" \
	"[[\"disk0\",\"$POOL/g1-disk0.qcow2\",\"qcow2\",\"virtio\",\"none\",false],[\"disk1\",\"$POOL/data.raw\",\"raw\",\"sata\",\"none\",false],[\"disk2\",\"$POOL/ro.raw\",\"raw\",\"scsi\",\"writeback\",true]]" \
	"vm show's disks"
ctl vm show g1 | has -E "^disk2: +$POOL/ro.raw, raw, bus scsi, cache writeback, readonly$" || fail "vm show's table: $(ctl vm show g1)"
assert_eq "$(ctl --json disk list | jq -r '.[] | select(.name == "g1-disk0.qcow2") | [.format, .virtual_size] | @tsv')" \
	"$(printf 'qcow2\t20971520')" "the new disk in the pool"
assert_eq "$(stat -c '%a %U %G' "$POOL/g1-disk0.qcow2")" "660 root netd" "the new disk's owner and mode"
pid=$(vm_field g1 .pid)
tr '\0' '\n' <"/proc/$pid/cmdline" >"$T/cmdline"
grep -F -e "$T" -e /boot "$T/cmdline" && fail "QEMU's command line names a path"
has -x '{"driver":"qcow2","node-name":"disk0","file":"disk0-file","cache":{"direct":true,"no-flush":false},"read-only":false,"backing":null}' "$T/cmdline" ||
	fail "no qcow2 node disk0: $(grep blockdev -A1 "$T/cmdline")"
wait_serial g1 '^DISKS-DONE' 90 >/dev/null
seen=$(serial g1 | grep -a '^DISK ' | sort)
assert_eq "$(grep -c . <<<"$seen")" 3 "disks the guest sees ($seen)"
has -x 'DISK vda 40960 ro=0' <<<"$seen" || fail "the --disk-size disk (virtio, 20M): $seen"
has -E '^DISK sd[ab] 32768 ro=0$' <<<"$seen" || fail "the SATA disk (16M): $seen"
has -E '^DISK sd[ab] 16384 ro=1$' <<<"$seen" || fail "the readonly SCSI disk (8M): $seen"
ok "the guest sees three disks: $(tr '\n' ' ' <<<"$seen")"

out=$(ctl vm create g3 --network n1 --kernel "$KERNEL" --no-autostart --disk data.raw 2>&1) &&
	fail "a second guest got g1's disk"
assert_eq "$out" "netdctl: disk $POOL/data.raw is already disk 1 of guest 'g1' (only one guest may write a disk; two may share it when both have it readonly)" \
	"a disk of another guest"
ctl vm create g3 --network n1 --kernel "$KERNEL" --no-autostart --disk ro.raw,readonly >/dev/null ||
	fail "two guests may share a readonly disk"
ctl vm delete g3 >/dev/null
ok "a disk of another guest is refused, unless both have it readonly"
for k in 0 1 2; do grep -qx "\[disk$k\]" "$T/etc/guests/g1.conf" || fail "no [disk$k] in the definition"; done
grep -q '^disk' "$T/etc/guests/g1.conf" && fail "the definition has an old 'disk' key"
out=$(ctl disk delete data.raw 2>&1) && fail "disk delete of a disk g1 uses"
has "g1" <<<"$out" || fail "disk delete names no user: $out"
out=$(ctl disk delete g1-disk0.qcow2 2>&1) && fail "disk delete of the disk g1 was made with"
ok "[disk0]..[disk2] in the definition; disks in use are not deleted"
# ---- live: attach-disk and detach-disk ----
# wait_count GUEST REGEX N: N serial lines match (a line like an earlier one counts once it is new)
wait_count() {
	for _ in $(seq 1 300); do
		[ "$(serial "$1" | grep -acE -- "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	fail "guest $1: fewer than $3 serial lines matching '$2'; serial: $(serial "$1" | tail -n 10)"
}
ctl disk create extra.raw --size 4M --format raw >/dev/null || fail "disk create extra.raw"
ctl disk create extra2.raw --size 2M --format raw >/dev/null || fail "disk create extra2.raw"
out=$(ctl vm attach-disk g1 extra.raw,bus=sata 2>&1) && fail "a live SATA attach"
assert_eq "$out" "netdctl: a SATA disk cannot be attached to a running guest (QEMU's AHCI has no hotplug): use bus=virtio or bus=scsi, or attach it while guest 'g1' is stopped" "live SATA attach"
out=$(ctl vm attach-disk g1 data.raw 2>&1) && fail "attaching a disk g1 has"
assert_eq "$out" "netdctl: disk $POOL/data.raw is given twice (disks 1 and 3)" "attaching the same disk twice"
ctl vm attach-disk g1 extra.raw >/dev/null || fail "vm attach-disk g1 extra.raw (virtio)"
line=$(wait_serial g1 '^DISK-ADDED vd. 8192 ro=0' 30)
assert_eq "$(vm_field g1 '.disks[3] | [.node, .path, .bus] | join(" ")')" "disk3 $POOL/extra.raw virtio" "the attached disk in vm show"
grep -qx '\[disk3\]' "$T/etc/guests/g1.conf" || fail "the attached disk is not in the definition"
ok "virtio disk attached live: the guest says '$line'"
ctl vm attach-disk g1 "$POOL/extra2.raw,bus=scsi,readonly" >/dev/null || fail "vm attach-disk g1 extra2.raw (scsi)"
line=$(wait_serial g1 '^DISK-ADDED sd. 4096 ro=1' 30)
ok "readonly scsi disk attached live: '$line'"
ctl vm detach-disk g1 disk0 >/dev/null || fail "vm detach-disk g1 disk0 (the virtio --disk-size disk)"
wait_count g1 '^DISK-REMOVED vd' 1
assert_eq "$(vm_field g1 '[.disks[].node] | join(",")')" "disk1,disk2,disk3,disk4" "nodes after detaching disk0"
grep -q "g1-disk0.qcow2" "$T/etc/guests/g1.conf" && fail "the detached disk is still in the definition"
ctl vm detach-disk g1 extra2.raw >/dev/null || fail "vm detach-disk g1 extra2.raw (scsi, by pool name)"
wait_count g1 '^DISK-REMOVED sd' 1
out=$(ctl vm detach-disk g1 data.raw 2>&1) && fail "a live SATA detach"
has "a SATA disk cannot be detached from a running guest" <<<"$out" || fail "live SATA detach: $out"
out=$(ctl vm detach-disk g1 nope 2>&1) && fail "detaching a disk g1 lacks"
assert_eq "$out" "netdctl: guest 'g1' has no disk 'nope' (vm show lists its disks and their nodes)" "detach of no disk"
# the next free slot is the one detach left
ctl vm attach-disk g1 g1-disk0.qcow2 >/dev/null || fail "vm attach-disk of the detached disk again"
wait_serial g1 '^DISK-ADDED vd. 40960 ro=0' 30 >/dev/null
assert_eq "$(vm_field g1 '[.disks[].node] | join(",")')" "disk1,disk2,disk3,disk0" "nodes after attaching into the free slot"
ok "detach-disk live (virtio: the guest let it go; scsi), attach-disk into the slot it left"
# a restarted netd knows the slots (<run>/guests/g1/disk-slots)
kill -9 "$NETD_PID"; wait "$NETD_PID" 2>/dev/null || true
start_netd --image-dir "$POOL"
assert_eq "$(vm_field g1 '[.disks[].node] | join(",")')" "disk1,disk2,disk3,disk0" "nodes after a netd restart"
ctl vm detach-disk g1 extra.raw >/dev/null || fail "vm detach-disk after a netd restart"
wait_count g1 '^DISK-REMOVED vd' 2
ok "after kill -9 of netd the disks keep their nodes; detach still works"
# a QEMU netd adopts without its disk slots (an older netd started it): no live disk change
cp "$T/run/guests/g1/disk-slots" "$T/disk-slots.saved"
rm "$T/run/guests/g1/disk-slots"
kill -9 "$NETD_PID"; wait "$NETD_PID" 2>/dev/null || true
start_netd --image-dir "$POOL"
out=$(ctl vm detach-disk g1 disk1 2>&1) && fail "a live detach on a guest adopted without its disk slots"
has "its disks change live only after its next start" <<<"$out" || fail "detach without disk slots: $out"
out=$(ctl vm attach-disk g1 extra.raw 2>&1) && fail "a live attach on a guest adopted without its disk slots"
has "its disks change live only after its next start" <<<"$out" || fail "attach without disk slots: $out"
cp "$T/disk-slots.saved" "$T/run/guests/g1/disk-slots"
kill -9 "$NETD_PID"; wait "$NETD_PID" 2>/dev/null || true
start_netd --image-dir "$POOL"
ok "a guest adopted without its disk slots refuses live disk changes"
# root's guest takes no disk from an operator (at its next start root's rules would open it), nor
# loses one to an operator.
# An operator's qcow2, live, on the operator's own guest: one that names a backing file is refused
# by its header; one given a backing file between netd's check and QEMU's read is refused once QEMU
# opened it, before the guest sees it; a plain one is attached (QEMU opened nothing by path)
OP="netdt-op-$$"
add_user "$OP" netd
op() { run_as "$OP" "$NETDCTL" --socket "$SOCK" "$@"; }
qemu-img create -q -f qcow2 -u -b /etc/shadow -F raw "$POOL/evil.qcow2" 64M
qemu-img create -q -f qcow2 "$POOL/op.qcow2" 16M
mkdir -m 0755 "$T/pub"
chown "$OP" "$POOL/op.qcow2"
out=$(op vm attach-disk g1 "$POOL/op.qcow2,format=qcow2" 2>&1) && fail "an operator attached a disk to root's guest"
assert_eq "$out" "netdctl: guest 'g1' belongs to uid 0: only its owner or root may attach its disks (its files are opened with its owner's rights at each start)" "an operator's attach to root's guest"
out=$(op vm detach-disk g1 data.raw 2>&1) && fail "an operator detached a disk of root's guest"
has "only its owner or root may detach its disks" <<<"$out" || fail "an operator's detach from root's guest: $out"
grep -q "op.qcow2" "$T/etc/guests/g1.conf" && fail "root's guest's definition got the operator's disk"
ok "root's guest: an operator neither attaches nor detaches its disks"
install -m 0644 "$KERNEL" "$POOL/o1-vmlinuz" # (an operator: from the image directories)
install -m 0644 "$INITRD" "$POOL/o1-initrd"
op vm create o1 --network n1 --memory 128M --kernel "$POOL/o1-vmlinuz" --initrd "$POOL/o1-initrd" \
	--append "console=ttyS0 quiet showdisks=0" --accel tcg >/dev/null || fail "the operator's guest o1"
wait_serial o1 '^DISKS-DONE' 90 >/dev/null
# a refused attach (the disk is g1's) leaves no fd open in netd
fds_before=$(ls "/proc/$NETD_PID/fd" | wc -l)
for _ in 1 2 3 4 5; do ctl vm attach-disk o1 data.raw >/dev/null 2>&1 && fail "o1 got g1's disk"; done
assert_eq "$(ls "/proc/$NETD_PID/fd" | wc -l)" "$fds_before" "netd's fds after 5 refused attaches"
head -c 1M /dev/zero >"$T/pub/backing.raw"
chmod 0644 "$T/pub/backing.raw" # QEMU's user may read it: QEMU opens it, netd's check refuses
qemu-img create -q -f qcow2 -u -b "$T/pub/backing.raw" -F raw "$T/evil-header.qcow2" 16M
chown "$OP" "$POOL/op.qcow2" "$POOL/evil.qcow2"
chmod 0644 "$T/evil-header.qcow2"
before=$(vm_field o1 '[.disks[].node] | join(",")')
out=$(op vm attach-disk o1 "$POOL/evil.qcow2,format=qcow2" 2>&1) && fail "an operator's qcow2 with a backing file"
assert_eq "$out" "netdctl: guest 'o1': disk $POOL/evil.qcow2 is a qcow2 image with a backing or data file, which QEMU would open by path: only root may use such images" "operator's evil qcow2"
run_as "$OP" /usr/bin/python3 "$TESTS_LIB_DIR/swap-on-read.py" "$POOL/op.qcow2" "$T/evil-header.qcow2" 1 >"$T/swap.out" &
SWAP=$!
for _ in $(seq 1 50); do grep -q watching "$T/swap.out" && break; sleep 0.05; done
out=$(op vm attach-disk o1 "$POOL/op.qcow2,format=qcow2" 2>&1) && fail "an operator's qcow2 swapped after the check"
wait $SWAP || true
grep -q swapped "$T/swap.out" || fail "the image was not rewritten during the attach"
assert_eq "$out" "netdctl: guest 'o1': disk $POOL/op.qcow2 refused: disk0: a backing file ($T/pub/backing.raw) (a qcow2 image may name other files only when root gives it)" "operator's swapped qcow2"
assert_eq "$(vm_field o1 '[.disks[].node] | join(",")')" "$before" "o1's disks after the refused attaches"
sleep 1
serial o1 | grep -a '^DISK-ADDED' | grep -q 32768 && fail "the guest saw the refused disk"
qemu-img create -q -f qcow2 "$POOL/op.qcow2" 16M
op vm attach-disk o1 "$POOL/op.qcow2,format=qcow2" >/dev/null || fail "an operator's plain qcow2, live"
wait_serial o1 '^DISK-ADDED vd. 32768 ro=0' 30 >/dev/null
op vm detach-disk o1 "$POOL/op.qcow2" >/dev/null || fail "the operator detaches it"
op vm destroy o1 >/dev/null
op vm delete o1 >/dev/null
ok "an operator's qcow2 live: a backing file refused by its header, or once QEMU opened it; a plain one attached"
ctl vm destroy g1 >/dev/null
ctl vm detach-disk g1 g1-disk0.qcow2 >/dev/null || fail "detach of a stopped guest's disk"
ctl vm attach-disk g1 extra.raw,bus=sata >/dev/null || fail "attach of a SATA disk to a stopped guest"
assert_eq "$(vm_field g1 '[.disks[] | .path + ":" + .bus] | join(",")')" \
	"$POOL/data.raw:sata,$POOL/ro.raw:scsi,$POOL/extra.raw:sata" "a stopped guest's disks after detach and attach"
ok "a stopped guest's definition gets and loses disks"
ctl vm delete g1 >/dev/null

# ---- a guest on an overlay of the pool: QEMU gets the chain netd recorded, never the header's ----
# base.raw (with data) <- ov-mid.qcow2 <- ov-top.qcow2; the operator's guest boots the top and
# reads the base's data through both overlays (headdisk=vda prints its first line). Each layer is
# its own fd set and node, linked by backing=; the qcow2 bottom has "backing": null.
ctl disk create ov-base.raw --size 16M --format raw >/dev/null || fail "disk create ov-base.raw"
printf 'NETD-BASE-DATA\n' | dd of="$POOL/ov-base.raw" conv=notrunc status=none
ctl disk create ov-mid.qcow2 --backing ov-base.raw >/dev/null || fail "disk create ov-mid.qcow2"
ctl disk create ov-top.qcow2 --backing ov-mid.qcow2 >/dev/null || fail "disk create ov-top.qcow2"
out=$(op vm create ov1 --network n1 --memory 128M --kernel "$POOL/o1-vmlinuz" --initrd "$POOL/o1-initrd" \
	--append "console=ttyS0 quiet headdisk=vda" --accel tcg --disk ov-top.qcow2 2>&1) ||
	fail "the operator's guest on an overlay: $out"
assert_eq "$(wait_serial ov1 '^HEAD ' 60)" "HEAD NETD-BASE-DATA" "what the guest reads on the overlay"
pid=$(vm_field ov1 .pid)
tr '\0' '\n' <"/proc/$pid/cmdline" >"$T/cmdline-ov"
grep -F -e "$T" -e ov-base -e ov-mid "$T/cmdline-ov" && fail "QEMU's command line names a layer's path"
has -x '{"driver":"qcow2","node-name":"disk0","file":"disk0-file","cache":{"direct":true,"no-flush":false},"read-only":false,"backing":"disk0-l1"}' "$T/cmdline-ov" ||
	fail "the top's node: $(grep -A1 blockdev "$T/cmdline-ov")"
has -x '{"driver":"qcow2","node-name":"disk0-l1","file":"disk0-l1-file","cache":{"direct":true,"no-flush":false},"read-only":true,"backing":"disk0-l2"}' "$T/cmdline-ov" ||
	fail "the middle layer's node: $(grep -A1 blockdev "$T/cmdline-ov")"
has -x 'driver=raw,node-name=disk0-l2,file=disk0-l2-file,cache.direct=on,cache.no-flush=off,read-only=on' "$T/cmdline-ov" ||
	fail "the base's node: $(grep -A1 blockdev "$T/cmdline-ov")"
op vm destroy ov1 >/dev/null
ok "an operator's guest boots a pool overlay (top <- qcow2 <- raw): it reads the base's data"
# The operator rewrites the top's header to name /etc/shadow, and the middle's to name a decoy
# QEMU's user could read: QEMU still gets the recorded chain and opens neither.
printf 'DECOY-DATA\n' >"$T/pub/decoy.raw"
truncate -s 16M "$T/pub/decoy.raw"
chmod 0644 "$T/pub/decoy.raw"
run_as "$OP" qemu-img rebase -u -f qcow2 -b /etc/shadow -F raw "$POOL/ov-top.qcow2" || fail "the operator's rebase of the top"
run_as "$OP" qemu-img rebase -u -f qcow2 -b "$T/pub/decoy.raw" -F raw "$POOL/ov-mid.qcow2" || fail "the operator's rebase of the middle"
qemu-img info -U --output=json "$POOL/ov-top.qcow2" | jq -e '."backing-filename" == "/etc/shadow"' >/dev/null ||
	fail "the top's header does not name /etc/shadow"
out=$(op vm start ov1 2>&1) || fail "the rewritten overlay's guest does not start: $out"
for _ in $(seq 1 600); do [ "$(serial ov1 | grep -ac '^HEAD ')" -ge 2 ] && break; sleep 0.1; done
assert_eq "$(serial ov1 | grep -a '^HEAD ' | sed -n 2p)" "HEAD NETD-BASE-DATA" "the rewritten overlay: what the guest reads"
pid=$(vm_field ov1 .pid)
for f in /proc/"$pid"/fd/*; do
	case "$(readlink "$f")" in /etc/shadow | "$T/pub/decoy.raw") fail "QEMU has $(readlink "$f") open" ;; esac
done
# live: an overlay on the (rewritten) middle layer, attached by the operator: its layers as at start
ctl disk create ov-top2.qcow2 --backing ov-mid.qcow2 >/dev/null || fail "disk create ov-top2.qcow2"
out=$(op vm attach-disk ov1 ov-top2.qcow2 2>&1) || fail "the operator's live attach of an overlay: $out"
assert_eq "$(vm_field ov1 '[.disks[].node] | join(",")')" "disk0,disk1" "ov1's nodes after the live attach"
for f in /proc/"$pid"/fd/*; do
	case "$(readlink "$f")" in /etc/shadow | "$T/pub/decoy.raw") fail "QEMU has $(readlink "$f") open after the attach" ;; esac
done
grep -q "ov-top2.qcow2" "$T/etc/guests/ov1.conf" || fail "the attached overlay is not in the definition"
out=$(op vm detach-disk ov1 ov-top2.qcow2 2>&1) || fail "the operator's live detach of the overlay: $out"
op vm destroy ov1 >/dev/null
op vm delete ov1 >/dev/null
# root's qcow2 outside the pool naming a backing file: QEMU would get "backing": null and the guest
# a disk without its base; refused
out=$(ctl vm create r1 --network n1 --kernel "$KERNEL" --no-autostart --disk "$T/evil-header.qcow2,format=qcow2" 2>&1) &&
	fail "root's qcow2 with an unrecorded backing file"
has "is a qcow2 image with a backing file netd has no record of" <<<"$out" || fail "root's unrecorded backing: $out"
ok "headers rewritten to name /etc/shadow and a decoy: QEMU still boots the recorded chain and opens neither; an overlay attached and detached live"

# ---- an old definition: 'disk =' in [guest] loads as disk 0 ----
stop_netd
printf '[guest]\nmemory = 256M\ndisk = %s\ndisk-format = raw\ndisk-cache = writeback\nautostart = no\n\n[nic0]\nnetwork = n1\n' \
	"$POOL/data.raw" >"$T/etc/guests/old.conf"
start_netd --image-dir "$POOL"
assert_eq "$(ctl --json vm show old | jq -c '[.disks[] | [.node, .path, .format, .bus, .cache]]')" \
	"[[\"disk0\",\"$POOL/data.raw\",\"raw\",\"virtio\",\"writeback\"]]" "the old definition's disk"
ok "an old single-disk definition loads as disk0"

# ---- a cdrom next to a disk: first until the first reboot ----
# The cdrom's boot code prints CD and resets the machine; the disk's prints HD and halts
# (boot-images.py): the serial console shows what the firmware booted, in which order.
python3 "$TESTS_LIB_DIR/boot-images.py" "$POOL/boot.iso" "$POOL/hd.raw"
boot_lines() { serial "$1" | grep -aE '^(CD|HD)$' | head -n "$2" | tr '\n' ' '; }
wait_boots() { # GUEST N: N boot lines on its console
	for _ in $(seq 1 300); do
		[ "$(serial "$1" | grep -acE '^(CD|HD)$')" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "guest $1: fewer than $2 boots; serial: $(serial "$1" | tail -n 5)"
}
ctl vm create b1 --network n1 --memory 128M --accel tcg --cdrom "$POOL/boot.iso" --disk "$POOL/hd.raw" >/dev/null ||
	fail "vm create b1 with a cdrom and a disk"
pid=$(vm_field b1 .pid)
tr '\0' '\n' <"/proc/$pid/cmdline" >"$T/cmdline2"
has -x 'ide-cd,bus=ide.0,drive=cdrom,id=cdrom,bootindex=0' "$T/cmdline2" || fail "cdrom: $(grep ide-cd "$T/cmdline2")"
has -x 'virtio-blk-pci,bus=disk-port0,drive=disk0,id=disk0-dev,write-cache=on,bootindex=1' "$T/cmdline2" ||
	fail "disk: $(grep virtio-blk "$T/cmdline2")"
wait_boots b1 2
assert_eq "$(boot_lines b1 2)" "CD HD " "b1 (no --boot): the cdrom, then after its reboot the disk"
grep -q "guest 'b1': cdrom after the disks from the next reset on" "$T/netd.log" || fail "no log of the cdrom's move"
ctl vm destroy b1 >/dev/null
ctl vm delete b1 >/dev/null
ctl vm create b2 --network n1 --memory 128M --accel tcg --cdrom "$POOL/boot.iso" --disk "$POOL/hd.raw" \
	--boot cdrom,disk >/dev/null || fail "vm create b2 --boot cdrom,disk"
wait_boots b2 2
assert_eq "$(boot_lines b2 2)" "CD CD " "b2 (--boot cdrom,disk): the cdrom at every boot"
ctl vm destroy b2 >/dev/null
ctl vm delete b2 >/dev/null
ctl vm create b3 --network n1 --memory 128M --accel tcg --cdrom "$POOL/boot.iso" --disk "$POOL/hd.raw" \
	--boot disk,cdrom >/dev/null || fail "vm create b3 --boot disk,cdrom"
wait_boots b3 1
assert_eq "$(boot_lines b3 1)" "HD " "b3 (--boot disk,cdrom): the disk"
ctl vm destroy b3 >/dev/null
ok "boot order: the cdrom until the first reboot, then the disk; --boot cdrom,disk and disk,cdrom"
