#!/usr/bin/env bash
# The disk pool's overlays and conversions (issue 16) with the real qemu-img: 'disk create --backing'
# makes a thin qcow2 overlay whose chain netd records itself (trusted.netd.backing, never the
# header's name); info and list show it; the base cannot be deleted under an overlay; resize of an
# overlay follows no name. 'disk convert' flattens a chain into a new disk (data compared with
# qemu-img compare), prints progress lines, and refuses bad requests with nothing made.
. "$(dirname "$0")/lib.sh"
need qemu-img qemu-io
[ -x /usr/bin/qemu-img ] || skip "/usr/bin/qemu-img missing"
getent group netd >/dev/null || skip "no group netd (run scripts/install-deps)"

POOL=$T/images
start_netd --image-dir "$POOL"
xattr() { python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode())' "$@" 2>/dev/null || echo none; }
qi() { qemu-img info -U --output=json "$@"; }
pool_state() { (cd "$POOL" && ls -la --time-style=+%s.%N . && for f in *; do echo "$f $(xattr "$f" trusted.netd.backing)"; done && md5sum -- * 2>/dev/null); }
refused() { # refused "error" ARGS...
	local want=$1 before out
	shift
	before=$(pool_state)
	if out=$(ctl "$@" 2>&1); then fail "'$*' succeeded"; fi
	assert_eq "$out" "netdctl: $want" "'$*'"
	assert_eq "$(pool_state)" "$before" "the pool after '$*'"
}

# ---- overlays ----
ctl disk create base.raw --size 8M --format raw >/dev/null || fail "disk create base.raw"
# a pattern in the base: 0xaa at 1M..1M+64k
qemu-io -f raw -c 'write -P 0xaa 1M 64k' "$POOL/base.raw" >/dev/null
ctl disk create mid.qcow2 --backing base.raw >/dev/null || fail "disk create --backing (raw base)"
ctl disk create top.qcow2 --backing mid.qcow2 --size 16M >/dev/null || fail "disk create --backing (qcow2 base)"
assert_eq "$(xattr "$POOL/top.qcow2" trusted.netd.backing)" mid.qcow2 "top's record"
assert_eq "$(stat -c '%a %U %G' "$POOL/top.qcow2")" "660 root netd" "an overlay's owner and mode"
Q=$(qi -f qcow2 "$POOL/top.qcow2")
assert_eq "$(jq -r '[."virtual-size", ."backing-filename", ."backing-filename-format"] | @tsv' <<<"$Q")" \
	"$(printf '16777216\tmid.qcow2\tqcow2')" "top's header (qemu-img)"
assert_eq "$(qi -f qcow2 "$POOL/mid.qcow2" | jq -r '."virtual-size"')" 8388608 "an overlay's default size: its base's"
I=$(ctl --json disk info top.qcow2)
assert_eq "$(jq -c '[.backing_file, .backing_chain]' <<<"$I")" '["mid.qcow2",["mid.qcow2","base.raw"]]' "disk info's chain"
ctl disk info top.qcow2 | has '^backing chain: top.qcow2 -> mid.qcow2 -> base.raw$' || fail "disk info's chain line"
L=$(ctl --json disk list)
assert_eq "$(jq -c '[.[] | [.name, .backing_file]]' <<<"$L")" \
	'[["base.raw",null],["mid.qcow2","base.raw"],["top.qcow2","mid.qcow2"]]' "disk list's backing"
ctl disk list | has -E '^top\.qcow2 +qcow2 +16 MiB +[0-9.]+ [KM]iB +mid\.qcow2 +-$' || fail "disk list's table: $(ctl disk list)"
# the overlay reads its base's data through the chain netd would give QEMU
qemu-io -r -f qcow2 -c 'read -P 0xaa 1M 64k' "$POOL/top.qcow2" | has "read 65536/65536" || fail "the overlay does not see its base"
ctl disk resize top.qcow2 +4M >/dev/null || fail "resize of an overlay"
assert_eq "$(qi -f qcow2 "$POOL/top.qcow2" | jq -r '[."virtual-size", ."backing-filename"] | @tsv')" \
	"$(printf '20971520\tmid.qcow2')" "the overlay after resize"
ok "overlays: created on raw and qcow2 bases, chain recorded, shown and kept by resize"

refused "cannot delete disk 'mid.qcow2': disk 'top.qcow2' is an overlay on it (delete or convert 'top.qcow2' first)" \
	disk delete mid.qcow2
refused "cannot delete disk 'base.raw': disk 'mid.qcow2' is an overlay on it (delete or convert 'mid.qcow2' first)" \
	disk delete base.raw
refused "cannot create disk 'x.qcow2' with 1048576 bytes: its backing disk 'base.raw' has 8388608 (an overlay may only be larger)" \
	disk create x.qcow2 --backing base.raw --size 1M
refused "no disk named 'nope' in the pool" disk create x.qcow2 --backing nope
refused "invalid backing disk name '../etc/shadow': a disk name is a file name in the pool: letters, digits, '.', '_' and '-' only" \
	disk create x.qcow2 --backing ../etc/shadow
refused "cannot create disk 'x.raw': an overlay (--backing) is qcow2" disk create x.raw --backing base.raw --format raw
refused "disk 'top.qcow2' exists already" disk create top.qcow2 --backing base.raw
refused "cannot create disk 'base.raw' on itself" disk create base.raw --backing base.raw
# A recorded overlay whose base went (by hand) is refused with the reason.
mv "$POOL/base.raw" "$T/base.raw"
refused "disk 'mid.qcow2' is an overlay on 'base.raw', which cannot be used: no disk named 'base.raw' in the pool" \
	disk info mid.qcow2
mv "$T/base.raw" "$POOL/base.raw"
ok "overlays: the base of an overlay is not deleted; bad bases and sizes refused, nothing made"
