#!/usr/bin/env bash
# Snapshots (issue 16) with real QEMU (TCG) and the test guest (snapcount: it keeps a counter in the
# first sector of its disk, read from the disk and written back each second, "COUNT n" on its
# console). A guest with a qcow2 disk and a readonly raw disk (skipped): an offline snapshot while
# it is stopped (disks only, its description kept); started, a live snapshot with its memory; the
# counter goes on (the disk changes); a live revert brings the count back to the snapshot's (disk
# and memory went back); a live revert to the offline snapshot is refused (no memory state); live
# delete; stopped again, an offline revert puts the disk back to the first snapshot's content (the
# counter's sector empty again), and one of a live snapshot says its memory did not come back.
# Bad inputs, each one clear error and nothing changed (the disks' bytes, netd's files): a guest
# with a writable raw disk, one with no disk, invalid names, a name that exists, revert and delete
# of a missing snapshot, a bad description, an unknown guest; an operator (group netd) asking for a
# snapshot of a root-only disk (netd opens it with the operator's rights: permission denied), and
# one reverting or deleting a snapshot of root's running guest (only root or its owner may).
# After a live list a disk can be detached (no job holds the disks), and then a live revert into
# the changed machine is refused. A snapshot made by hand with an escape in its name is listed
# with it escaped (no control character reaches the terminal).
. "$(dirname "$0")/lib.sh"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] || skip "qemu-system-x86_64 missing"
[ -x /usr/bin/qemu-img ] || skip "/usr/bin/qemu-img missing"
getent passwd netd-qemu >/dev/null || skip "no user netd-qemu (run scripts/install-deps)"
guest_image

mkdir -p "$T/op" && chmod 0755 "$T" "$T/op" # the operator's image dir (see below)
start_netd --image-dir "$T/op"
ctl network create n1 --mode isolated --subnet 10.98.0.0/24 --no-dhcp --no-dns >/dev/null
qemu-img create -q -f qcow2 "$T/a.qcow2" 16M
qemu-img create -q -f raw "$T/r.raw" 1M
qemu-img create -q -f raw "$T/w.raw" 1M
qemu-img create -q -f qcow2 "$T/b.qcow2" 1M
B="--network n1 --memory 256M --kernel $KERNEL --initrd $INITRD --accel tcg --no-autostart"
ctl vm create g1 $B --append "console=ttyS0 quiet snapcount" --disk "$T/a.qcow2,format=qcow2" \
	--disk "$T/r.raw,readonly" >/dev/null || fail "vm create g1"
ctl vm create rawg $B --disk "$T/b.qcow2,format=qcow2" --disk "$T/w.raw" >/dev/null || fail "vm create rawg"
ctl vm create nodisk $B >/dev/null || fail "vm create nodisk"
# the counter's sector of the disk, as the host reads it (a raw copy: the qcow2 file is not read raw)
sector() { qemu-img convert -f qcow2 -O raw "$T/a.qcow2" "$T/a.raw" && head -c 32 "$T/a.raw" | head -n 1 | tr -dc 0-9; }
files() { md5sum "$T/a.qcow2" "$T/r.raw" "$T/w.raw"; (cd "$T/lib" && find . -type f | sort | xargs -r md5sum); }

# ---- refusals, stopped ----
cases=(
	"1|guest 'rawg': disk1 ($T/w.raw) is raw: a raw disk cannot hold a snapshot; convert it to qcow2 (netdctl disk convert) or make it readonly|vm snapshot create rawg s1"
	"1|guest 'nodisk' has no disk: nothing to snapshot|vm snapshot create nodisk s1"
	"1|invalid snapshot name 'a b': only letters, digits, '.', '_' and '-' are allowed|vm snapshot create g1 'a b'"
	"1|invalid snapshot name '42': a name of digits only is taken for a snapshot's numeric ID by qemu-img|vm snapshot create g1 42"
	"1|invalid snapshot name '../x'|vm snapshot create g1 ../x"
	"1|a snapshot name has 1 to 64 characters|vm snapshot create g1 $(printf 'a%.0s' $(seq 1 65))"
	"1|invalid description: control characters (newline, tab, ...) are not allowed|vm snapshot create g1 s1 --description \$'a\tb'"
	"1|guest 'g1' has no snapshot 'nope' (netdctl vm snapshot list g1)|vm snapshot revert g1 nope"
	"1|guest 'g1' has no snapshot 'nope'|vm snapshot delete g1 nope"
	"1|no guest named 'zz'|vm snapshot list zz"
	"2|vm snapshot create: expected NAME SNAP|vm snapshot create g1"
	"2|vm snapshot list: unexpected argument 'x'|vm snapshot list g1 x"
)
BEFORE=$(files)
bad_cli_cases cases
assert_eq "$(files)" "$BEFORE" "the disks and netd's state after the refusals"
ok "refusals: raw disk, no disk, bad names, missing snapshots, bad description: one line each, nothing changed"

# ---- an operator (group netd) works with their own rights: a disk they may not write is refused ----
if command -v setpriv >/dev/null && getent group netd >/dev/null; then
	OP="netdt-op-$$"
	add_user "$OP" netd
	op() { run_as "$OP" "$NETDCTL" --socket "$SOCK" "$@"; }
	qemu-img create -q -f qcow2 "$T/op/root.qcow2" 16M
	chmod 0666 "$T/op/root.qcow2" # the operator's own guest (root's is refused by owner before its
	# disk is opened), defined while the disk was theirs to write; root's only since
	install -m 0644 "$KERNEL" "$T/op/vmlinuz" && install -m 0644 "$INITRD" "$T/op/initrd" || fail "copy the kernel"
	out=$(op vm create g3 --network n1 --memory 256M --kernel "$T/op/vmlinuz" --initrd "$T/op/initrd" \
		--accel tcg --no-autostart --disk "$T/op/root.qcow2,format=qcow2" 2>&1) || fail "vm create g3 (operator): $out"
	chmod 0600 "$T/op/root.qcow2"
	BEFORE=$(files; md5sum "$T/op/root.qcow2")
	out=$(op vm snapshot create g3 s1 2>&1) && fail "an operator snapshotted a root-only disk"
	has "guest 'g3': disk $T/op/root.qcow2" <<<"$out" && has -i "permission denied" <<<"$out" ||
		fail "the operator's refusal: $out"
	assert_eq "$(files; md5sum "$T/op/root.qcow2")" "$BEFORE" "the disks after the operator's refusal"
	qemu-img snapshot -l "$T/op/root.qcow2" | has -w s1 && fail "s1 made on root's disk"
	ok "an operator's snapshot of a disk they may not write: $out"
fi

# ---- offline ----
ctl vm snapshot create g1 off1 --description "fresh disk" >/dev/null || fail "offline snapshot create"
L=$(ctl --json vm snapshot list g1)
assert_eq "$(jq -c '[.snapshots[] | [.name, .memory, .vm_state_size, .description, .complete, .disks]]' <<<"$L")" \
	"[[\"off1\",false,0,\"fresh disk\",true,[\"$T/a.qcow2\"]]]" "the offline snapshot in the list (the readonly raw disk skipped)"
qemu-img snapshot -l "$T/a.qcow2" | has -w off1 || fail "qemu-img does not see off1"
out=$(ctl vm snapshot create g1 off1 2>&1) && fail "a second off1 was made"
assert_eq "$out" "netdctl: guest 'g1' has a snapshot 'off1' already: delete it first or choose another name" "the existing name's refusal"
ctl vm snapshot list g1 | has -E '^off1 +[0-9-]+T[0-9:]+Z +\(disks only\)  fresh disk$' || fail "vm snapshot list: $(ctl vm snapshot list g1)"
ok "offline snapshot off1 (disks only, described); a second one of that name refused"

# ---- live ----
ctl vm start g1 >/dev/null || fail "vm start g1"
wait_serial g1 '^COUNT 3$' 120 >/dev/null
ctl vm snapshot create g1 live1 --description "counting" >/dev/null || fail "live snapshot create"
c1=$(serial g1 | grep -a '^COUNT ' | tail -n 1 | cut -d' ' -f2)
L=$(ctl --json vm snapshot list g1)
assert_eq "$(jq -c '.snapshots[] | select(.name == "live1") | [.memory, .vm_state_size > 0, .description]' <<<"$L")" \
	'[true,true,"counting"]' "live1 in the list"
assert_eq "$(vm_field g1 .state)" running "g1's state after the live snapshot"
wait_serial g1 "^COUNT $((c1 + 3))$" 60 >/dev/null
lines=$(serial g1 | grep -ac '^COUNT ')
out=$(ctl vm snapshot revert g1 off1 2>&1) && fail "a live revert to a snapshot without memory went through"
has "has no memory state: a running guest cannot go back to it" <<<"$out" || fail "the refusal: $out"
out=$(ctl vm snapshot create g1 live1 2>&1) && fail "a second live1 was made"
ctl vm snapshot revert g1 live1 >/dev/null || fail "live revert"
for _ in $(seq 1 100); do [ "$(serial g1 | grep -ac '^COUNT ')" -gt "$lines" ] && break; sleep 0.1; done
next=$(serial g1 | grep -a '^COUNT ' | sed -n "$((lines + 1))p" | cut -d' ' -f2)
[ -n "$next" ] || fail "no COUNT after the revert; serial: $(serial g1 | tail -n 5)"
[ "$next" -le $((c1 + 1)) ] || fail "after the revert the count went on from $next (snapshot at or before $c1)"
assert_eq "$(vm_field g1 .state)" running "g1's state after the live revert"
ok "live snapshot at count <= $c1, the count went to $((c1 + 3)), revert: it goes on from $next (disk and memory went back)"
if [ -n "${OP:-}" ]; then
	for verb in revert delete; do
		out=$(op vm snapshot $verb g1 live1 2>&1) && fail "an operator's $verb of root's running guest's snapshot went through"
		has "guest 'g1' belongs to uid 0: only its owner or root may change its snapshots" <<<"$out" ||
			fail "the operator's $verb: $out"
	done
	ctl --json vm snapshot list g1 | jq -e '.snapshots[] | select(.name == "live1")' >/dev/null ||
		fail "live1 gone after the operator's refused delete"
	ok "an operator may not revert or delete root's running guest's snapshots"
fi
ctl vm snapshot delete g1 live1 >/dev/null || fail "live delete"
assert_eq "$(ctl --json vm snapshot list g1 | jq -c '[.snapshots[].name]')" '["off1"]' "the list after the live delete"
grep -q '^live1	' "$T/lib/guests/g1/snapshots" && fail "live1's description outlived it"
ctl vm snapshot create g1 live2 >/dev/null || fail "live snapshot live2"
ok "live delete; live2 taken"
ctl vm snapshot list g1 >/dev/null || fail "live list"
ctl vm detach-disk g1 disk1 >/dev/null || fail "detach-disk after a live snapshot list"
out=$(ctl vm snapshot revert g1 live2 2>&1) && fail "a live revert into a machine without disk1 went through"
has "guest 'g1' changed since snapshot 'live2' was taken (vCPUs, memory or disks)" <<<"$out" || fail "the refusal: $out"
has "stop the guest, then revert: disks only" <<<"$out" || fail "the refusal: $out"
assert_eq "$(vm_field g1 .state)" running "g1's state after the refused revert"
ok "after a live list the readonly disk detaches; a live revert to live2 is then refused (machine changed)"

# ---- stopped again: offline revert ----
ctl vm destroy g1 >/dev/null
[ -n "$(sector)" ] || fail "the guest's counter is not on the disk"
ctl vm snapshot revert g1 off1 >/dev/null || fail "offline revert to off1"
assert_eq "$(sector)" "" "the counter's sector after the offline revert to off1"
out=$(ctl vm snapshot revert g1 live2 2>&1) || fail "offline revert to live2: $out"
has "warning: the snapshot was taken while the guest ran: its disks went back, its memory state did not" <<<"$out" ||
	fail "no warning for the memory: $out"
[ -n "$(sector)" ] || fail "live2's counter is not back on the disk"
ctl vm snapshot delete g1 live2 >/dev/null && ctl vm snapshot delete g1 off1 >/dev/null || fail "offline delete"
assert_eq "$(ctl --json vm snapshot list g1 | jq -c '.snapshots')" '[]' "the list after the deletes"
qemu-img snapshot -l "$T/a.qcow2" | has -w off1 && fail "off1 is still in the file"
ok "offline revert: the disk's counter sector is empty again (off1), live2's counter back with a warning; deletes"
qemu-img snapshot -c "$(printf 'x\033]0;y')" "$T/a.qcow2" || fail "qemu-img snapshot -c with an escape"
out=$(ctl vm snapshot list g1)
has -F 'x\x1b]0;y' <<<"$out" || fail "the escaped name: $out"
[[ "$out" == *$'\033'* ]] && fail "an escape character reached the terminal"
ok "a snapshot named with an escape (made by hand) is listed escaped"
