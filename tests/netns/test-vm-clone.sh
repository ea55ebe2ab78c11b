#!/usr/bin/env bash
# vm clone with real qemu-img, QEMU (TCG) and the test guest (issue 16, the template workflow):
# - refused, each with one clear line and nothing changed: SRC running, SRC missing, NEW existing,
#   onto itself, a bad network, a writable disk outside the pool, a clone disk name already taken;
# - the default clone: each writable pool disk becomes a qcow2 overlay NEW-diskN.qcow2 whose record
#   names SRC's disk (so 'disk delete' of SRC's disk is refused), readonly disks and the kernel are
#   shared, NICs on --network, no pinned MAC copied, the owner is the requester;
# - --copy: progress lines, a whole copy (same data, no backing), and the clone boots on another
#   network with another MAC, another lease and another SMBIOS UUID than SRC.
. "$(dirname "$0")/lib.sh"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] || skip "qemu-system-x86_64 missing"
[ -x /usr/bin/qemu-img ] || skip "/usr/bin/qemu-img missing"
need qemu-io
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
getent group netd >/dev/null || skip "no group netd (run scripts/install-deps)"
getent passwd netd-qemu >/dev/null || skip "no user netd-qemu (run scripts/install-deps)"
guest_image

POOL=$T/images
mkdir -p "$POOL" "$T/files"
chmod 0755 "$T/files"
start_netd --image-dir "$POOL"
install -m 0644 "$KERNEL" "$T/files/vmlinuz"
install -m 0644 "$INITRD" "$T/files/initrd"
ctl network create n1 --mode nat --subnet 10.86.0.0/24 >/dev/null
ctl network create n2 --mode nat --subnet 10.87.0.0/24 >/dev/null
files() { find "$T/lib" "$T/etc" "$POOL" 2>/dev/null | sort; cat "$POOL"/.netd/* 2>/dev/null; }
state() { snapshot; files; }
refused() { # refused "message" CMD...: exit 1, one line, nothing changed
	local msg=$1 rc=0 before
	shift
	before=$(state)
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	assert_eq "$rc" 1 "exit code of '$*' ($(cat "$T/err"))"
	grep -qF -- "$msg" "$T/err" || fail "'$*': expected \"$msg\", got: $(cat "$T/err")"
	[ "$(grep -vcx "Try 'netdctl --help'." "$T/err")" -le 1 ] || fail "'$*': error is not one line: $(cat "$T/err")"
	[ "$before" = "$(state)" ] || fail "'$*' changed state: $(diff <(echo "$before") <(state) | tr "\n" " ")"
	ok "refused: $(head -n 1 "$T/err")"
}
# settle BRIDGE: its port went with a guest; wait until the bridge lost its carrier (snapshots compare it)
settle() { for _ in $(seq 1 50); do nsx ip -j link show dev "$1" | grep -q NO-CARRIER && return; sleep 0.1; done; }
record() { sed -n "s/^$2=//p" "$POOL/.netd/$1" 2>/dev/null | grep . || echo none; }

ctl disk create tmpl-root.qcow2 --size 8M >/dev/null || fail "disk create tmpl-root.qcow2"
qemu-io -f qcow2 -c 'write -P 0x5a 1M 64k' "$POOL/tmpl-root.qcow2" >/dev/null
ctl disk create shared.raw --size 1M --format raw >/dev/null || fail "disk create shared.raw"
ctl vm create tmpl --network n1 --mac 52:54:00:86:00:10 --network n1 --memory 128M \
	--kernel "$T/files/vmlinuz" --initrd "$T/files/initrd" --append "console=ttyS0 quiet showuuid" --accel tcg \
	--disk tmpl-root.qcow2 --disk shared.raw,readonly >/dev/null || fail "vm create tmpl"
lease0=$(wait_serial tmpl '^LEASE 10\.86\.0\.')
uuid0=$(wait_serial tmpl '^SMBIOS-UUID ' | cut -d' ' -f2 | tr A-F a-f)
macs0=$(ctl --json vm show tmpl | jq -c '[.nics[].mac]')
ok "tmpl runs: $lease0, UUID $uuid0, MACs $macs0"

refused "cannot clone guest 'tmpl': it is running (shut it down first" ctl vm clone tmpl c1
ctl vm destroy tmpl >/dev/null
settle nd-n1
refused "no guest named 'nope'" ctl vm clone nope c1
refused "cannot clone guest 'tmpl' onto itself" ctl vm clone tmpl tmpl
refused "invalid guest name '../x'" ctl vm clone tmpl ../x
refused "network 'nope'" ctl vm clone tmpl c1 --network nope
rc=0; ctl vm clone tmpl 2>"$T/err" || rc=$?
assert_eq "$rc" 2 "vm clone with one name ($(cat "$T/err"))"
grep -q "vm clone: expected SRC NEW" "$T/err" || fail "vm clone with one name: $(cat "$T/err")"
# a guest with a writable disk outside the pool
qemu-img create -q -f raw "$T/files/path.raw" 1M
ctl vm create pathy --network n1 --memory 128M --kernel "$T/files/vmlinuz" --disk "$T/files/path.raw,format=raw" \
	--no-autostart >/dev/null || fail "vm create pathy"
refused "cannot clone guest 'pathy' to 'c9': its disk 0, $T/files/path.raw, is not a disk of the pool" ctl vm clone pathy c9
refused "cannot clone guest 'tmpl': guest 'pathy' already exists" ctl vm clone tmpl pathy
ctl disk create c1-disk0.qcow2 --size 1M >/dev/null
refused "disk 'c1-disk0.qcow2' exists already in the pool" ctl vm clone tmpl c1
ctl disk delete c1-disk0.qcow2 >/dev/null

# ---- the default clone: overlays ----
ctl --json vm clone tmpl c1 --network n2 >"$T/c1.json" || fail "vm clone tmpl c1: $(cat "$T/c1.json")"
assert_eq "$(jq -c '[.name, .new_disks, .disks_copied, .state]' "$T/c1.json")" '["c1",["c1-disk0.qcow2"],false,"stopped"]' "the clone's reply"
assert_eq "$(record c1-disk0.qcow2 backing) $(record c1-disk0.qcow2 format)" "tmpl-root.qcow2 qcow2" "c1-disk0's record"
assert_eq "$(qemu-img info -U --output=json "$POOL/c1-disk0.qcow2" | jq -r '[."virtual-size", ."backing-filename"] | @tsv')" \
	"$(printf '8388608\ttmpl-root.qcow2')" "c1-disk0's header"
qemu-io -r -f qcow2 -c 'read -P 0x5a 1M 64k' "$POOL/c1-disk0.qcow2" | has "read 65536/65536" || fail "the overlay does not see tmpl's data"
C1=$T/etc/guests/c1.conf
grep -qx "path = $POOL/c1-disk0.qcow2" "$C1" || fail "c1's first disk: $(cat "$C1")"
grep -qx "path = $POOL/shared.raw" "$C1" || fail "c1 does not share the readonly disk: $(cat "$C1")"
grep -qx "kernel = $T/files/vmlinuz" "$C1" || fail "c1's kernel: $(cat "$C1")"
[ "$(grep -c '^network = n2$' "$C1")" = 2 ] || fail "c1's NICs are not on n2: $(cat "$C1")"
grep -q '^mac = ' "$C1" && fail "a pinned MAC was copied: $(cat "$C1")"
grep -qx 'owner = 0' "$C1" || fail "c1's owner: $(cat "$C1")"
macs1=$(ctl --json vm show c1 | jq -c '[.nics[].mac]')
[ "$(jq -c '[.[]] - $a' --argjson a "$macs0" <<<"$macs1")" = "$macs1" ] || fail "c1 shares a MAC with tmpl: $macs1 $macs0"
refused "cannot clone guest 'tmpl': guest 'c1' already exists" ctl vm clone tmpl c1
ok "overlay clone c1: c1-disk0.qcow2 on tmpl-root.qcow2, readonly disk and kernel shared, on n2, new MACs $macs1"

# ---- --copy ----
ctl vm clone tmpl c2 --network n2 --copy >"$T/c2.out" 2>"$T/progress" || fail "vm clone --copy: $(cat "$T/c2.out" "$T/progress")"
has "^copying 'tmpl-root.qcow2' to 'c2-disk0.qcow2': 0%$" <"$T/progress" || fail "no 0% line: $(cat "$T/progress")"
has "^copying 'tmpl-root.qcow2' to 'c2-disk0.qcow2': 100%$" <"$T/progress" || fail "no 100% line: $(cat "$T/progress")"
assert_eq "$(record c2-disk0.qcow2 backing) $(record c2-disk0.qcow2 format)" "none qcow2" "c2-disk0's record"
qemu-img compare -q -f qcow2 -F qcow2 "$POOL/tmpl-root.qcow2" "$POOL/c2-disk0.qcow2" || fail "c2-disk0 is not tmpl-root's copy"
ctl vm start c2 >/dev/null || fail "vm start c2"
lease2=$(wait_serial c2 '^LEASE 10\.87\.0\.')
uuid2=$(wait_serial c2 '^SMBIOS-UUID ' | cut -d' ' -f2 | tr A-F a-f)
macs2=$(ctl --json vm show c2 | jq -c '[.nics[].mac]')
[ "$uuid2" != "$uuid0" ] || fail "c2 has tmpl's SMBIOS UUID $uuid0"
[ "$(jq -c '[.[]] - $a' --argjson a "$macs0" <<<"$macs2")" = "$macs2" ] || fail "c2 shares a MAC with tmpl: $macs2 $macs0"
[ "${lease2#LEASE }" != "${lease0#LEASE }" ] || fail "c2's lease is tmpl's"
ok "copy clone c2 boots on n2: $lease2, UUID $uuid2, MACs $macs2 (tmpl: $lease0, $uuid0, $macs0)"
refused "cannot clone guest 'c2': it is running" ctl vm clone c2 c3 --copy
ctl vm destroy c2 >/dev/null
settle nd-n2
# A source whose second disk's header was changed behind netd's back: refused before anything is
# copied (the files are opened and checked as a start opens them), and nothing is made.
ctl disk create t2-a.qcow2 --size 4M >/dev/null
ctl disk create t2-b.qcow2 --size 4M >/dev/null
ctl vm create tmpl2 --network n1 --memory 128M --kernel "$T/files/vmlinuz" --disk t2-a.qcow2 --disk t2-b.qcow2 \
	--no-autostart >/dev/null || fail "vm create tmpl2"
# t2-b's header now names a backing file netd did not record (as an operator could write it)
qemu-img rebase -q -u -f qcow2 -b /etc/hostname -F raw "$POOL/t2-b.qcow2"
before=$(files) # (files only: c2's bridge port is still going down)
rc=0; ctl vm clone tmpl2 c5 --copy >"$T/out" 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of a clone of a changed disk ($(cat "$T/err"))"
grep -q "^netdctl: cannot clone guest 'tmpl2' to 'c5': .*refusing disk 't2-b.qcow2': its qcow2 header names a backing file netd did not record" "$T/err" ||
	fail "a clone of a changed disk: $(cat "$T/err")"
[ "$before" = "$(files)" ] || fail "a refused clone left: $(diff <(echo "$before") <(files) | tr "\n" " ")"
ok "a clone of a disk whose header changed behind netd's back is refused, nothing made: $(tail -n 1 "$T/err")"
# the template may not write the base of the overlay clone's disk
refused "cannot start guest 'tmpl': its disk $POOL/tmpl-root.qcow2 is the base of overlay 'c1-disk0.qcow2'" ctl vm start tmpl
refused "cannot attach disk $POOL/tmpl-root.qcow2: it is the base of overlay 'c1-disk0.qcow2'" ctl vm attach-disk c2 tmpl-root.qcow2
# other spellings of the base's path are the base too (compared by device and inode)
ln -s "$POOL/tmpl-root.qcow2" "$T/files/link.qcow2"
for p in "$POOL//tmpl-root.qcow2" "$POOL/./tmpl-root.qcow2" "$T/files/link.qcow2"; do
	refused "cannot attach disk $p: it is the base of overlay 'c1-disk0.qcow2'" ctl vm attach-disk c2 "$p"
done
rm -f "$T/files/link.qcow2"
# the template's disk stays while the overlay clone needs it (also once no guest uses it)
ctl vm delete tmpl >/dev/null
refused "cannot delete disk 'tmpl-root.qcow2': disk 'c1-disk0.qcow2' is an overlay on it" ctl disk delete tmpl-root.qcow2
# the overlay clone boots from its thin disk: netd gives QEMU the recorded chain, layer by layer
ctl vm start c1 >/dev/null || fail "vm start c1 (an overlay clone)"
lease1=$(wait_serial c1 '^LEASE 10\.87\.0\.')
[ "${lease1#LEASE }" != "${lease2#LEASE }" ] || fail "c1's lease is c2's"
ctl vm destroy c1 >/dev/null
ok "the overlay clone c1 boots on n2 from c1-disk0.qcow2 over tmpl-root.qcow2: ${lease1#LEASE }"

# ---- during a --copy: vm delete of SRC, a client that hangs up, a second disk that fails ----
# qimg_child_now: netd's running qemu-img children; qimg_child: the first one, waited for
# (ps exits 1 when netd has no child at all)
qimg_child_now() { { ps -o pid=,stat=,comm= --ppid "$NETD_PID" || true; } | awk '$3 == "qemu-img" && $2 !~ /^Z/ { print $1 }'; }
qimg_child() {
	local p
	for _ in $(seq 1 3000); do
		p=$(qimg_child_now | head -n 1)
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.005
	done
	return 1
}
# stop_qimg: SIGSTOP to netd's running qemu-img, printing its pid (one that ends before the signal,
# a small disk's copy, makes it take the next)
stop_qimg() {
	local p
	for _ in $(seq 1 50); do
		p=$(qimg_child) || return 1
		kill -STOP "$p" 2>/dev/null && { echo "$p"; return 0; }
	done
	return 1
}
no_qimg() { for _ in $(seq 1 400); do [ -z "$(qimg_child_now)" ] && return 0; sleep 0.05; done; fail "netd's qemu-img did not end"; }
wait_file() { for _ in $(seq 1 1000); do [ -e "$1" ] && return 0; sleep 0.01; done; fail "$1 did not appear"; }
ctl disk create t3-a.qcow2 --size 4M >/dev/null
ctl disk create t3-b.qcow2 --size 512M >/dev/null
qemu-io -f qcow2 -c 'write -P 0x33 0 512M' "$POOL/t3-b.qcow2" >/dev/null # a copy that takes a while (to catch its qemu-img)
ctl vm create tmpl3 --network n1 --memory 128M --kernel "$T/files/vmlinuz" --disk t3-a.qcow2 --disk t3-b.qcow2 \
	--no-autostart >/dev/null || fail "vm create tmpl3"
# vm delete of SRC while its disks are copied: refused (the clone keeps SRC's definition and texts)
"$NETDCTL" --socket "$SOCK" vm clone tmpl3 c6 --copy >"$T/c6.out" 2>&1 &
cpid=$!
q=$(stop_qimg) || fail "no qemu-img for the clone c6"
refused "guest 'tmpl3' is being cloned (vm clone --copy copies its disks)" ctl vm delete tmpl3
kill -CONT "$q"
wait "$cpid" || fail "vm clone tmpl3 c6 --copy: $(cat "$T/c6.out")"
ctl vm delete c6 >/dev/null
ctl disk delete c6-disk0.qcow2 >/dev/null
ctl disk delete c6-disk1.qcow2 >/dev/null
ok "vm delete of a guest whose disks a clone copies is refused; the clone ends"
# the client hangs up while the second disk is copied: the first one is removed, nothing stays
before=$(files)
"$NETDCTL" --socket "$SOCK" vm clone tmpl3 c7 --copy >/dev/null 2>&1 &
cpid=$!
wait_file "$POOL/c7-disk0.qcow2"
q=$(stop_qimg) || fail "no qemu-img for the clone c7's second disk"
kill "$cpid"
wait "$cpid" 2>/dev/null || true
kill -CONT "$q" 2>/dev/null || true
no_qimg
for _ in $(seq 1 100); do [ "$before" = "$(files)" ] && break; sleep 0.05; done
[ "$before" = "$(files)" ] || fail "a clone whose client hung up left: $(diff <(echo "$before") <(files) | tr "\n" " ")"
ok "a client that hangs up during a --copy: the disk copied so far is removed, nothing stays"
# the second disk's copy fails (its qemu-img killed): the first disk is removed, one clear error
"$NETDCTL" --socket "$SOCK" vm clone tmpl3 c8 --copy >"$T/c8.out" 2>"$T/c8.err" &
cpid=$!
wait_file "$POOL/c8-disk0.qcow2"
q=$(stop_qimg) || fail "no qemu-img for the clone c8's second disk"
kill -9 "$q"
rc=0; wait "$cpid" || rc=$?
assert_eq "$rc" 1 "exit code of a clone whose second copy failed ($(cat "$T/c8.err"))"
grep -q "^netdctl: cannot clone guest 'tmpl3': .*nothing was made" "$T/c8.err" || fail "the failed clone's error: $(cat "$T/c8.err")"
no_qimg
[ "$before" = "$(files)" ] || fail "a clone whose second copy failed left: $(diff <(echo "$before") <(files) | tr "\n" " ")"
ok "a second disk's copy that fails: the first disk is removed, nothing stays: $(tail -n 1 "$T/c8.err")"
# netd killed (kill -9) during a --copy: its next start removes the disk copied so far (the intent
# file <state>/clones/NEW names the clone's disks until its definition is written)
"$NETDCTL" --socket "$SOCK" vm clone tmpl3 c9 --copy >/dev/null 2>&1 &
cpid=$!
wait_file "$POOL/c9-disk0.qcow2"
q=$(stop_qimg) || fail "no qemu-img for the clone c9's second disk"
assert_eq "$(cat "$T/lib/clones/c9")" "$(printf 'c9-disk0.qcow2\nc9-disk1.qcow2')" "the clone's intent file"
kill9_netd
wait "$cpid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$q" 2>/dev/null || break; sleep 0.05; done # its PDEATHSIG
kill -0 "$q" 2>/dev/null && { kill -9 "$q"; fail "qemu-img outlived netd"; }
[ -e "$POOL/c9-disk0.qcow2" ] || fail "c9-disk0.qcow2 went before the restart (the test proves nothing)"
start_netd --image-dir "$POOL"
[ ! -e "$POOL/c9-disk0.qcow2" ] || fail "a restart after a kill -9 mid-clone left c9-disk0.qcow2"
[ ! -e "$POOL/.netd/c9-disk0.qcow2" ] || fail "a restart after a kill -9 mid-clone left c9-disk0.qcow2's record"
[ ! -e "$T/lib/clones/c9" ] || fail "the intent file stayed"
[ ! -e "$T/etc/guests/c9.conf" ] || fail "a definition of c9"
ok "netd killed mid-clone: its next start removes the disk copied so far and the intent file"

# ---- an operator may not make root's guest's disks the base of their overlays ----
getent group netd >/dev/null || skip "no group netd"
OP="netdt-cl-$$"
add_user "$OP" netd
ctl disk create t4.qcow2 --size 4M >/dev/null
ctl vm create tmpl4 --network n1 --memory 128M --disk t4.qcow2 --no-autostart >/dev/null || fail "vm create tmpl4"
refused "cannot clone guest 'tmpl4' to 'oc' as overlays: its disks would become their base and guest 'tmpl4' (uid 0's) could not start any more" \
	run_as "$OP" "$NETDCTL" --socket "$SOCK" vm clone tmpl4 oc
ok "an operator's overlay clone of root's guest is refused (root's guest could not start any more)"

# ---- a two-disk --copy beside three other converts (4 at most): the first disk's finished job
# counts no more when the second one starts (it was refused as a fifth) ----
xp=()
for i in 1 2 3; do
	"$NETDCTL" --socket "$SOCK" disk convert t3-b.qcow2 "x$i.qcow2" --format qcow2 >/dev/null 2>&1 &
	xp+=($!)
done
for _ in $(seq 1 400); do [ "$(qimg_child_now | wc -l)" = 3 ] && break; sleep 0.01; done
qs=$(qimg_child_now)
[ "$(echo "$qs" | wc -l)" = 3 ] || fail "three converts: qemu-img pids '$qs'"
kill -STOP $qs
ctl vm clone tmpl3 c10 --copy >/dev/null 2>"$T/c10.err" || { kill -CONT $qs; fail "a two-disk copy beside three converts: $(cat "$T/c10.err")"; }
kill -CONT $qs
for p in "${xp[@]}"; do wait "$p" || fail "disk convert beside the clone"; done
ctl vm delete c10 >/dev/null
for x in x1 x2 x3 c10-disk0 c10-disk1; do ctl disk delete "$x.qcow2" >/dev/null 2>&1 || true; done
ok "a two-disk --copy beside three other converts: not refused as a fifth job"

# ---- an overlay clone of a disk whose chain is as long as netd opens (16): refused as 'disk create
# --backing' refuses it, nothing made ----
ctl disk create l1.qcow2 --size 1M >/dev/null
prev=l1.qcow2
for i in $(seq 2 16); do
	ctl disk create "l$i.qcow2" --backing $prev >/dev/null || fail "layer $i"
	prev=l$i.qcow2
done
ctl vm create deep --network n1 --memory 128M --disk l16.qcow2 --no-autostart >/dev/null || fail "vm create deep"
refused "cannot create disk 'c11-disk0.qcow2' on 'l16.qcow2': its backing chain has 16 layers already (at most 16)" \
	ctl vm clone deep c11
ok "an overlay clone does not make a chain longer than netd opens"
