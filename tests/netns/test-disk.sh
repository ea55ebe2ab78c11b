#!/usr/bin/env bash
# The disk pool (netdctl disk ..., issue 16 "Disks and images") with the real qemu-img: netd makes
# its pool (the first --image-dir) 0750 root:netd; create qcow2 and raw, list, info as qemu-img
# itself reports, resize (grow only), delete; bad names, sizes and formats, an existing name, a
# shrink, the delete of a disk a guest's definition uses: each refused with its one line and nothing
# changed; a raw disk whose content is a qcow2 header naming /etc/shadow stays raw; an operator (a
# throw-away user in group netd) creates a disk and gives it to 'vm create --disk', and cannot name
# a path outside the pool.
. "$(dirname "$0")/lib.sh"
need qemu-img
[ -x /usr/bin/qemu-img ] || skip "/usr/bin/qemu-img missing"
getent group netd >/dev/null || skip "no group netd (run scripts/install-deps)"

POOL=$T/images
start_netd --image-dir "$POOL" --image-dir "$T/other"
ctl network create n1 --mode isolated --subnet 10.95.0.0/24 --no-dhcp --no-dns >/dev/null

L=$(ctl --json disk list) || fail "disk list: $L"
assert_eq "$(jq -c . <<<"$L")" "[]" "a pool that is not there yet lists no disks"

# ---- create ----
ctl disk create web.qcow2 --size 1G >/dev/null || fail "disk create qcow2"
ctl disk create data.raw --size 64M --format raw >/dev/null || fail "disk create raw"
assert_eq "$(stat -c '%a %U %G' "$POOL")" "750 root netd" "the pool netd made"
assert_eq "$(stat -c '%a %U %G' "$POOL/web.qcow2")" "660 root netd" "a new disk's owner and mode"
qi() { qemu-img info -U --output=json -f "$1" "$2"; }
assert_eq "$(qi qcow2 "$POOL/web.qcow2" | jq -r '."virtual-size"')" 1073741824 "qcow2 virtual size"
assert_eq "$(qi raw "$POOL/data.raw" | jq -r '."virtual-size"')" 67108864 "raw virtual size"
assert_eq "$(head -c 4 "$POOL/web.qcow2" | od -An -tx1 | tr -d ' ')" 514649fb "qcow2 magic"
ok "create qcow2 and raw"

# ---- list and info ----
L=$(ctl --json disk list)
assert_eq "$(jq -c '[.[] | [.name, .format, .virtual_size]]' <<<"$L")" \
	'[["data.raw","raw",67108864],["web.qcow2","qcow2",1073741824]]' "disk list"
ctl disk list | has -E '^web\.qcow2 +qcow2 +1 GiB' || fail "disk list's table"
for d in web.qcow2:qcow2 data.raw:raw; do
	n=${d%%:*} f=${d#*:}
	I=$(ctl --json disk info "$n")
	Q=$(qi "$f" "$POOL/$n")
	assert_eq "$(jq -r '[.format, .virtual_size, .actual_size] | @tsv' <<<"$I")" \
		"$(jq -r '[.format, ."virtual-size", ."actual-size"] | @tsv' <<<"$Q")" "disk info $n against qemu-img info"
done
qemu-img snapshot -c before "$POOL/web.qcow2"
assert_eq "$(ctl --json disk info web.qcow2 | jq -r '.snapshots[0].name')" before "a snapshot in disk info"
ctl disk info web.qcow2 | has '^snapshot: .*before' || fail "disk info's snapshot line"
ok "list and info match qemu-img info"

# ---- resize ----
ctl disk resize web.qcow2 +1G >/dev/null || fail "disk resize +1G"
assert_eq "$(qi qcow2 "$POOL/web.qcow2" | jq -r '."virtual-size"')" 2147483648 "qcow2 after +1G"
ctl disk resize data.raw 128M >/dev/null || fail "disk resize 128M"
assert_eq "$(qi raw "$POOL/data.raw" | jq -r '."virtual-size"')" 134217728 "raw after 128M"
ok "resize grows"

# ---- refusals: one line each, nothing changed ----
pool_state() { (cd "$POOL" && ls -la --time-style=+%s.%N . && md5sum -- * 2>/dev/null); find "$T/other" 2>/dev/null || true; }
refused() { # refused "error" ARGS...
	local want=$1 before out
	shift
	before=$(pool_state)
	if out=$(ctl "$@" 2>&1); then fail "'$*' succeeded"; fi
	assert_eq "$out" "netdctl: $want" "'$*'"
	assert_eq "$(pool_state)" "$before" "the pool after '$*'"
}
refused "invalid disk name '../x': a disk name is a file name in the pool: letters, digits, '.', '_' and '-' only" \
	disk create ../x --size 1M
refused "invalid disk name 'a/b': a disk name is a file name in the pool: letters, digits, '.', '_' and '-' only" \
	disk create a/b --size 1M
refused "invalid disk name '..': a disk name must not start with '.'" disk create .. --size 1M
refused "invalid disk name '$T/x': a disk name is a file name in the pool: letters, digits, '.', '_' and '-' only" \
	disk create "$T/x" --size 1M
refused "invalid disk name '../etc/passwd': a disk name is a file name in the pool: letters, digits, '.', '_' and '-' only" \
	disk info ../etc/passwd
refused "disk 'web.qcow2' exists already" disk create web.qcow2 --size 1M
refused "invalid size '10X': expected a number with K, M, G or T" disk create x --size 10X
refused "invalid size '0': it must be more than 0" disk create x --size 0
refused "invalid size '65T': at most 64T" disk create x --size 65T
refused "invalid size '+1G': expected a number with K, M, G or T" disk create x --size +1G
refused "invalid format 'vmdk': expected qcow2 or raw" disk create x --size 1M --format vmdk
refused "cannot resize disk 'web.qcow2' to 1073741824 bytes: it has 2147483648 (shrinking loses data: netd only grows disks)" \
	disk resize web.qcow2 1G
refused "no disk named 'nope' in the pool" disk info nope
refused "no disk named 'nope' in the pool" disk delete nope
# A symlink in the pool (root put it there) is no disk: netd never follows one.
ln -s /etc/shadow "$POOL/shadow"
refused "no disk named 'shadow' in the pool" disk info shadow
refused "no disk named 'shadow' in the pool" disk resize shadow +1M
refused "no disk named 'shadow' in the pool" disk delete shadow
[ -L "$POOL/shadow" ] || fail "the symlink went"
rm "$POOL/shadow"
# A file netd did not make has no known format: never probed.
head -c 1M /dev/zero >"$POOL/hand.img"
refused "disk 'hand.img' was not made by netd: its format is unknown (netd never guesses one)" disk info hand.img
assert_eq "$(ctl --json disk list | jq -r '.[] | select(.name == "hand.img") | .format')" unknown "a hand-made file's format"
rm "$POOL/hand.img"
# netd's records are root's alone; a disk replaced by hand (another inode) is not the one netd made.
assert_eq "$(stat -c '%a %U' "$POOL/.netd")" "700 root" "the records' folder"
assert_eq "$(sed -n 's/^format=//p' "$POOL/.netd/data.raw")" raw "data.raw's record"
ctl disk create hand2.raw --size 1M --format raw >/dev/null
cp "$POOL/hand2.raw" "$T/copy.raw" && cp --remove-destination "$T/copy.raw" "$POOL/hand2.raw"
refused "disk 'hand2.raw' was not made by netd: its format is unknown (netd never guesses one)" disk info hand2.raw
rm "$POOL/hand2.raw" "$POOL/.netd/hand2.raw"
ok "bad names, sizes, formats, existing name, shrink, symlinks, a file replaced by hand: refused, nothing changed"

# ---- a raw disk stays raw whatever its content says ----
qemu-img create -q -f qcow2 -u -b /etc/shadow -F raw "$T/evil.qcow2" 64M
dd if="$T/evil.qcow2" of="$POOL/data.raw" conv=notrunc status=none
I=$(ctl --json disk info data.raw)
assert_eq "$(jq -r '[.format, .virtual_size, (.backing_file // "none")] | @tsv' <<<"$I")" \
	"$(printf 'raw\t134217728\tnone')" "a raw disk with a qcow2 header"
ok "a raw disk's qcow2-looking content is not read as qcow2"

# ---- a guest's definition holds a disk ----
ctl vm create g1 --network n1 --disk "$POOL/web.qcow2,format=qcow2" --no-autostart >/dev/null ||
	fail "vm create with a pool disk"
refused "cannot delete disk 'web.qcow2': guest 'g1' uses it (delete that guest or change its disk first)" \
	disk delete web.qcow2
assert_eq "$(ctl --json disk list | jq -c '.[] | select(.name == "web.qcow2") | .used_by')" '["g1"]' "used_by"
ctl disk resize web.qcow2 +1M >/dev/null || fail "resize of a disk of a stopped guest"
ctl vm delete g1 >/dev/null
ok "a disk a guest's definition uses is not deleted"

# ---- delete ----
ctl disk delete web.qcow2 | has "^disk 'web.qcow2' deleted$" || fail "disk delete"
ctl --json disk delete data.raw | jq -e '.name == "data.raw"' >/dev/null || fail "disk delete --json"
[ -z "$(ls -A "$POOL" | grep -vx .netd)" ] && [ -z "$(ls -A "$POOL/.netd")" ] ||
	fail "files left in the pool: $(ls -AR "$POOL")"
ok "delete"

# ---- an operator ----
OP="netdt-dk-$$"
add_user "$OP" netd
op() { run_as "$OP" "$NETDCTL" --socket "$SOCK" "$@"; }
op disk create op.qcow2 --size 16M --format qcow2 >/dev/null || fail "the operator's disk create"
op vm create g2 --network n1 --disk "$POOL/op.qcow2,format=qcow2" --no-autostart >/dev/null ||
	fail "the operator's vm create with its pool disk"
op disk info op.qcow2 | has '^used by: *g2$' || fail "the operator's disk info"
before=$(pool_state)
for bad in "$T/op.qcow2" "/etc/x" "../op2" "op/../../x"; do
	out=$(op disk create "$bad" --size 1M 2>&1) && fail "the operator created '$bad'"
	has "invalid disk name" <<<"$out" || fail "the operator's '$bad': $out"
done
assert_eq "$(pool_state)" "$before" "the pool after the operator's bad names"
[ ! -e "$T/op.qcow2" ] && [ ! -e /etc/x ] || fail "a file outside the pool"
ok "an operator creates a disk and uses it, and names no path outside the pool"

# ---- an operator rewrites a pool disk's header: qemu-img runs as root, it must open nothing else ----
# Pool files are root:netd 0660: an operator may write any header. One naming /etc/shadow as its
# backing file (qemu-img resize and convert would open it as root), one naming a root-only file as
# its external data file (qemu-img resize would grow it): netd refuses both headers, and qemu-img,
# confined to its fds, reaches neither even without that check (a header rewritten in between).
VICTIM=$T/victim
qemu-img create -q -f qcow2 -u -b /etc/shadow -F raw "$T/hdr-backing.qcow2" 16M
qemu-img create -q -f qcow2 -o "data_file=$VICTIM,data_file_raw=on" "$T/hdr-data.qcow2" 16M
head -c 1M /dev/urandom >"$VICTIM" && chmod 600 "$VICTIM"
victim_state() { stat -c '%s %a' "$VICTIM"; md5sum <"$VICTIM"; }
vbefore=$(victim_state)
op disk create atk.qcow2 --size 16M >/dev/null || fail "the operator's disk create"
# short: the file cut at 72 bytes, shorter than its version's header (QEMU zero-pads the read).
head -c 72 "$T/hdr-backing.qcow2" >"$T/hdr-short.qcow2"
for hdr in backing data short; do
	conv=notrunc
	[ $hdr = short ] && conv=
	run_as "$OP" dd of="$POOL/atk.qcow2" ${conv:+conv=$conv} status=none <"$T/hdr-$hdr.qcow2" ||
		fail "the operator could not write its disk's header"
	case $hdr in
	backing | short) why="its qcow2 header names a backing file netd did not record (the header was changed outside netd)" ;;
	data) why="its qcow2 header names an external data file (netd never makes one: the header was changed outside netd)" ;;
	esac
	for cmd in "disk info atk.qcow2" "disk resize atk.qcow2 +1M" "disk convert atk.qcow2 leak.raw --format raw" \
		"disk create ov.qcow2 --backing atk.qcow2"; do
		# shellcheck disable=SC2086
		out=$(op $cmd 2>&1) && fail "'$cmd' with a $hdr header succeeded: $out"
		assert_eq "$out" "netdctl: refusing disk 'atk.qcow2': $why" "'$cmd' with a $hdr header"
	done
done
assert_eq "$(victim_state)" "$vbefore" "the data file the header named"
[ ! -e "$POOL/leak.raw" ] && [ ! -e "$POOL/ov.qcow2" ] || fail "a disk was made from a refused header"
# The confinement itself, as netd spawns qemu-img, on the very headers.
[ -n "${CONFINED_RUN:-}" ] || fail "CONFINED_RUN not set (run through meson)"
if "$CONFINED_RUN" 0 /bin/true >/dev/null; then
	out=$("$CONFINED_RUN" 1 /usr/bin/qemu-img resize -f qcow2 /dev/fd/3 32M 3<>"$T/hdr-data.qcow2") &&
		fail "a confined qemu-img resized through a data file header: $out"
	has "Could not open '$VICTIM': Permission denied" <<<"$out" || fail "confined resize: $out"
	cp "$T/hdr-backing.qcow2" "$T/hdr-b2.qcow2"
	out=$("$CONFINED_RUN" 2 /usr/bin/qemu-img convert -f qcow2 -O raw /dev/fd/3 /dev/fd/4 3<"$T/hdr-b2.qcow2" 4>"$T/leak.raw") &&
		fail "a confined qemu-img read /etc/shadow: $out"
	has "Could not open '/etc/shadow': Permission denied" <<<"$out" || fail "confined convert: $out"
	! grep -q root: "$T/leak.raw" || fail "/etc/shadow's content in the output"
	assert_eq "$(victim_state)" "$vbefore" "the data file after the confined resize"
	# The same runs unconfined do reach them (what the confinement is for).
	qemu-img resize -q -f qcow2 /dev/fd/3 32M 3<>"$T/hdr-data.qcow2" 2>/dev/null
	[ "$(stat -c %s "$VICTIM")" = 33554432 ] || fail "unconfined qemu-img did not grow the data file (is the test still true?)"
else
	fail "the confined run of /bin/true failed (no Landlock?)"
fi
ok "an operator's header naming /etc/shadow or a root file: refused, and qemu-img confined to its fds"
