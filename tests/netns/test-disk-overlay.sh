#!/usr/bin/env bash
# The disk pool's overlays and conversions (issue 16) with the real qemu-img: 'disk create --backing'
# makes a thin qcow2 overlay whose chain netd records itself (the pool's root-only .netd/, never
# the header's name); info and list show it; the base cannot be deleted under an overlay; resize of an
# overlay follows no name. 'disk convert' flattens a chain into a new disk (data compared with
# qemu-img compare), prints progress lines, and refuses bad requests with nothing made.
. "$(dirname "$0")/lib.sh"
need qemu-img qemu-io python3 ss socat
[ -x /usr/bin/qemu-img ] || skip "/usr/bin/qemu-img missing"
getent group netd >/dev/null || skip "no group netd (run scripts/install-deps)"

POOL=$T/images
# netd with the capabilities its unit leaves it (systemd/netd.service.in's CapabilityBoundingSet: no
# CAP_SYS_ADMIN, so no trusted.* xattrs): the pool must work there.
UNIT=$TESTS_LIB_DIR/../../systemd/netd.service.in
caps=$(sed -n '/^CapabilityBoundingSet=/,/[^\\]$/p' "$UNIT" | tr -d '\\\n' | sed 's/^CapabilityBoundingSet=//')
[ -n "$caps" ] || fail "no CapabilityBoundingSet in $UNIT"
bset=-all$(for c in $caps; do c=${c,,}; printf ',+%s' "${c#cap_}"; done)
NETD_PREFIX=(ip netns exec "$NS" setpriv --bounding-set "$bset" --inh-caps -all)
start_netd --image-dir "$POOL"
grep -q '^CapBnd:[[:space:]]*0*[0-9a-f]*$' "/proc/$NETD_PID/status" || fail "netd's capabilities unreadable"
[ "$(( 0x$(sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$NETD_PID/status") >> 21 & 1 ))" = 0 ] ||
	fail "netd runs with CAP_SYS_ADMIN in its bounding set ($bset)"
# netd's record of a disk (the pool's root-only .netd/NAME): one field, or "none"
record() { sed -n "s/^$2=//p" "$POOL/.netd/$1" 2>/dev/null | grep . || echo none; }
qi() { qemu-img info -U --output=json "$@"; }
# Names, modes, sizes, times, records and contents; not ls's 'total' (blocks allocated: a sparse
# file written a moment before may still get its blocks, a loaded rehearsal saw 4 KiB more).
pool_state() { (cd "$POOL" && ls -la --time-style=+%s.%N . | grep -v '^total' && ls -la .netd | grep -v '^total' && cat .netd/* && md5sum -- * 2>/dev/null); }
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
assert_eq "$(record top.qcow2 backing) $(record top.qcow2 format)" "mid.qcow2 qcow2" "top's record"
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
refused "invalid backing disk name 'nbd://127.0.0.1:10809/x': a disk name is a file name in the pool: letters, digits, '.', '_' and '-' only" \
	disk create x.qcow2 --backing nbd://127.0.0.1:10809/x
# Only an absent "backing" means none: a number, null or a name with a NUL is refused, nothing made.
for b in 123 null '"base.raw\u0000x"' '["base.raw"]'; do
	before=$(pool_state)
	reply=$(raw_request "{\"method\": \"disk.create\", \"params\": {\"name\": \"x.qcow2\", \"backing\": $b}}")
	assert_eq "$(jq -r .error <<<"$reply")" "invalid backing disk: expected the name of a disk of the pool" "backing $b"
	assert_eq "$(pool_state)" "$before" "the pool after a create with backing $b"
done
mv "$POOL/base.raw" "$T/base.raw"
refused "disk 'mid.qcow2' is an overlay on 'base.raw', which cannot be used: no disk named 'base.raw' in the pool" \
	disk info mid.qcow2
mv "$T/base.raw" "$POOL/base.raw"
ok "overlays: the base of an overlay is not deleted; bad bases and sizes refused, nothing made"

# A base whose chain has the most layers netd opens (16): no overlay on it, nothing made.
prev=base.raw
for i in $(seq 2 16); do
	ctl disk create "l$i.qcow2" --backing $prev >/dev/null || fail "layer $i"
	prev=l$i.qcow2
done
assert_eq "$(ctl --json disk info l16.qcow2 | jq '.backing_chain | length')" 15 "the 16-layer chain"
refused "cannot create disk 'x.qcow2' on 'l16.qcow2': its backing chain has 16 layers already (at most 16)" \
	disk create x.qcow2 --backing l16.qcow2
for i in $(seq 16 -1 2); do ctl disk delete "l$i.qcow2" >/dev/null || fail "delete layer $i"; done
ok "overlays: a protocol name, a non-string backing and a base chain already 16 deep refused, nothing made"

# ---- convert: a chain flattened, data kept ----
qemu-io -f qcow2 -c 'write -P 0x55 2M 64k' "$POOL/top.qcow2" >/dev/null
ctl disk convert top.qcow2 flat.qcow2 --format qcow2 >"$T/out" 2>"$T/progress" || fail "disk convert: $(cat "$T/progress")"
assert_eq "$(grep -c "^converting 'top.qcow2' to 'flat.qcow2': 0%$" "$T/progress")" 1 "0% lines: $(cat "$T/progress")"
has "^converting 'top.qcow2' to 'flat.qcow2': 100%$" <"$T/progress" || fail "no 100% line: $(cat "$T/progress")"
has '^name: *flat.qcow2$' <"$T/out" || fail "disk convert's output: $(cat "$T/out")"
assert_eq "$(stat -c '%a %U %G' "$POOL/flat.qcow2")" "660 root netd" "a converted disk's owner and mode"
assert_eq "$(record flat.qcow2 format) $(record flat.qcow2 backing)" "qcow2 none" "flat's record"
assert_eq "$(qi -f qcow2 "$POOL/flat.qcow2" | jq -r '[."virtual-size", (."backing-filename" // "none")] | @tsv')" \
	"$(printf '20971520\tnone')" "flat's header: no backing file"
qemu-img compare -q -f qcow2 -F qcow2 "$POOL/top.qcow2" "$POOL/flat.qcow2" || fail "the flattened copy differs from the chain"
qemu-io -r -f qcow2 -c 'read -P 0xaa 1M 64k' -c 'read -P 0x55 2M 64k' "$POOL/flat.qcow2" | grep -c "read 65536/65536" | has '^2$' ||
	fail "the patterns of both layers in the copy"
J=$(ctl --json disk convert mid.qcow2 mid.raw --format raw 2>"$T/progress") || fail "disk convert --json"
[ ! -s "$T/progress" ] || fail "--json printed progress: $(cat "$T/progress")"
assert_eq "$(jq -r '[.name, .format, .virtual_size] | @tsv' <<<"$J")" "$(printf 'mid.raw\traw\t8388608')" "disk convert --json"
qemu-img compare -q -f qcow2 -F raw "$POOL/mid.qcow2" "$POOL/mid.raw" || fail "raw copy differs"
ok "convert flattens a chain to qcow2 and raw: same data, no backing, progress lines (none with --json)"

# ---- an operator rewrites an overlay's header to name /etc/shadow: netd's record still rules ----
OP="netdt-ov-$$"
add_user "$OP" netd
op() { run_as "$OP" "$NETDCTL" --socket "$SOCK" "$@"; }
op disk create ov2.qcow2 --backing base.raw >/dev/null || fail "the operator's overlay"
qemu-img create -q -f qcow2 -u -b /etc/shadow -F raw "$T/hdr.qcow2" 8M
run_as "$OP" dd of="$POOL/ov2.qcow2" conv=notrunc status=none <"$T/hdr.qcow2" || fail "the operator could not write the header"
assert_eq "$(qi -f qcow2 "$POOL/ov2.qcow2" | jq -r '."backing-filename"')" /etc/shadow "the rewritten header"
assert_eq "$(op --json disk info ov2.qcow2 | jq -c .backing_chain)" '["base.raw"]' "info after the rewrite: netd's record"
op disk convert ov2.qcow2 ov2.raw --format raw >/dev/null 2>&1 || fail "the operator's convert of its overlay"
qemu-img compare -q -f raw -F raw "$POOL/base.raw" "$POOL/ov2.raw" || fail "the copy is not the recorded base's data"
! grep -q 'root:' "$POOL/ov2.raw" || fail "/etc/shadow's content in the operator's copy"
op disk resize ov2.qcow2 +1M >/dev/null || fail "the operator's resize of its overlay"
op disk delete ov2.raw >/dev/null && op disk delete ov2.qcow2 >/dev/null || fail "the operator's delete"
ok "an overlay whose header an operator rewrote: netd's record is the chain, /etc/shadow never read"

# ---- disk import: a file from outside the pool, read with the requester's rights ----
mkdir -p "$T/dl" && chmod 0755 "$T/dl"
qemu-img create -q -f qcow2 "$T/dl/cloud.qcow2" 8M
qemu-io -f qcow2 -c 'write -P 0x5a 1M 64k' "$T/dl/cloud.qcow2" >/dev/null
chmod 0644 "$T/dl/cloud.qcow2"
(cd "$T/dl" && op disk import cloud.qcow2 imp.qcow2 >"$T/imp.out" 2>&1) || fail "the operator's import (relative path): $(cat "$T/imp.out")"
grep -q "^reading $T/dl/cloud.qcow2 as qcow2 (its first bytes say so" "$T/imp.out" || fail "import's progress: $(cat "$T/imp.out")"
assert_eq "$(record imp.qcow2 format)" qcow2 "the imported disk's recorded format"
qemu-img compare -q -f qcow2 -F qcow2 "$T/dl/cloud.qcow2" "$POOL/imp.qcow2" || fail "the imported disk's data"
op disk import "$T/dl/cloud.qcow2" imp.raw --format raw >/dev/null 2>&1 || fail "import to raw"
qemu-img compare -q -f qcow2 -F raw "$T/dl/cloud.qcow2" "$POOL/imp.raw" || fail "the raw import's data"
op disk import "$T/dl/cloud.qcow2" imp-bytes.raw --format raw --source-format raw >/dev/null 2>&1 ||
	fail "import of the bytes as raw"
cmp -s "$T/dl/cloud.qcow2" "$POOL/imp-bytes.raw" || fail "--source-format raw copies the bytes"
op_refused() { # op_refused REGEX ARGS...: the operator's command fails with that error, nothing changes
	local want=$1 out
	shift
	if out=$(op "$@" 2>&1); then fail "'$*' succeeded"; fi
	[ "$(wc -l <<<"$out")" = 1 ] || fail "'$*': more than the error: $out"
	grep -qE -- "^netdctl: $want" <<<"$out" || fail "'$*': $out"
	ok "refused: $out"
}
before=$(pool_state)
chmod 0600 "$T/dl/cloud.qcow2" # root's alone now
op_refused "cannot import: $T/dl/cloud.qcow2: permission denied" disk import "$T/dl/cloud.qcow2" imp2.qcow2
chmod 0644 "$T/dl/cloud.qcow2"
qemu-img create -q -f qcow2 -u -b /etc/shadow -F raw "$T/dl/chained.qcow2" 8M
chmod 0644 "$T/dl/chained.qcow2"
op_refused "cannot import $T/dl/chained.qcow2: a qcow2 image that names a backing or data file" disk import "$T/dl/chained.qcow2" imp2.qcow2
op_refused "disk 'imp.qcow2' exists already" disk import "$T/dl/cloud.qcow2" imp.qcow2
op_refused "invalid disk name '../x'" disk import "$T/dl/cloud.qcow2" ../x
mkfifo "$T/dl/fifo" && chmod 0666 "$T/dl/fifo"
op_refused "cannot import: $T/dl/fifo is not a regular file" disk import "$T/dl/fifo" imp2.qcow2
assert_eq "$(pool_state)" "$before" "the pool after the refused imports"
op disk delete imp.qcow2 >/dev/null && op disk delete imp.raw >/dev/null && op disk delete imp-bytes.raw >/dev/null ||
	fail "delete the imported disks"
ok "disk import: a qcow2 file as qcow2, raw and its bytes; root's file, a chained qcow2, a FIFO, a taken or bad name refused"

# ---- a header naming a network backing (nbd://): qemu-img connects nowhere ----
# A listener on $NS's loopback counts the connections it gets.
nsx python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 10809)); s.listen(16)
while True:
    c, a = s.accept(); open(sys.argv[1], "a").write("connection\n"); c.close()
' "$T/nbd-conns" &
BG_PIDS+=($!)
for _ in $(seq 50); do nsx ss -Htln 'sport = :10809' | grep -q . && break; sleep 0.1; done
nsx ss -Htln 'sport = :10809' | grep -q . || fail "the test's listener did not start"
# The same run unconfined does connect (what the test is for).
qemu-img create -q -f qcow2 -u -b nbd://127.0.0.1:10809/x -F raw "$T/hdr-nbd.qcow2" 8M
nsx qemu-img info --backing-chain -f qcow2 "$T/hdr-nbd.qcow2" >/dev/null 2>&1 || true
[ -s "$T/nbd-conns" ] || fail "an unconfined qemu-img did not connect (is the test still true?)"
: >"$T/nbd-conns"
# Confined (netd's process backend), without netd's header check in the way: refused by Landlock.
out=$(nsx "$CONFINED_RUN" 2 /usr/bin/qemu-img convert -f qcow2 -O raw /dev/fd/3 /dev/fd/4 3<"$T/hdr-nbd.qcow2" 4>"$T/nbd.raw") &&
	fail "a confined qemu-img converted through an nbd:// header: $out"
has "Failed to connect to '127.0.0.1:10809': Permission denied" <<<"$out" || fail "confined convert of an nbd:// header: $out"
# Through netd: an overlay (a backing recorded, so its header may name one) rewritten by an operator.
op disk create ov3.qcow2 --backing base.raw >/dev/null || fail "the operator's overlay"
run_as "$OP" dd of="$POOL/ov3.qcow2" conv=notrunc status=none <"$T/hdr-nbd.qcow2" || fail "the operator could not write the header"
assert_eq "$(op --json disk info ov3.qcow2 | jq -c .backing_chain)" '["base.raw"]' "info of an nbd:// header"
op disk resize ov3.qcow2 +1M >/dev/null || fail "resize of an overlay whose header names nbd://"
op disk convert ov3.qcow2 ov3.raw --format raw >/dev/null 2>&1 || fail "convert of an overlay whose header names nbd://"
qemu-img compare -q -f raw -F raw "$POOL/base.raw" "$POOL/ov3.raw" || fail "the copy is not the recorded base's data"
op disk delete ov3.raw >/dev/null && op disk delete ov3.qcow2 >/dev/null || fail "the operator's delete"
[ ! -s "$T/nbd-conns" ] || fail "qemu-img connected to the header's nbd:// server ($(wc -l <"$T/nbd-conns") times)"
ok "a header naming nbd://: no connection (netd names no backing to follow; Landlock denies TCP connect)"

# ---- convert: refusals, nothing made ----
refused "disk 'flat.qcow2' exists already" disk convert top.qcow2 flat.qcow2 --format qcow2
refused "no disk named 'nope' in the pool" disk convert nope x.qcow2 --format qcow2
refused "invalid format 'vmdk': expected qcow2 or raw" disk convert top.qcow2 x.vmdk --format vmdk
refused "cannot convert disk 'top.qcow2' onto itself: name a new disk" disk convert top.qcow2 top.qcow2 --format qcow2
refused "invalid disk name '../x': a disk name is a file name in the pool: letters, digits, '.', '_' and '-' only" \
	disk convert top.qcow2 ../x --format raw
refused "invalid disk name '/etc/shadow': a disk name is a file name in the pool: letters, digits, '.', '_' and '-' only" \
	disk convert /etc/shadow x.raw --format raw
out=$(ctl disk convert top.qcow2 x.raw 2>&1) && fail "convert without --format"
has "missing --format" <<<"$out" || fail "convert without --format: $out"
ok "convert refusals: existing target, missing source, bad format, same name, paths"

# ---- convert: the client hangs up, netd stops or dies: nothing is left ----
ctl disk create big.raw --size 512M --format raw >/dev/null
head -c 512M /dev/urandom | dd of="$POOL/big.raw" conv=notrunc bs=1M status=none iflag=fullblock
# A client that only shuts its writing side (socat at the end of its input) still gets its reply.
reply=$(printf '%s\n' '{"method": "disk.convert", "params": {"name": "big.raw", "target": "hc.qcow2", "format": "qcow2"}}' |
	timeout 120 socat -t 120 - "UNIX-CONNECT:$SOCK" | tail -n 1)
assert_eq "$(jq -r '[.ok, .result.name] | @tsv' <<<"$reply")" "$(printf 'true\thc.qcow2')" "a half-closed client's convert: $reply"
ctl disk delete hc.qcow2 >/dev/null || fail "delete hc.qcow2"
ok "a half-closed client (shutdown SHUT_WR) is not a client gone: its conversion finishes"

before=$(pool_state)
# (ps exits 1 when netd has no child at all: before the first conversion's fork, say)
qemu_img_pids() { { ps -o pid=,comm= --ppid "$NETD_PID" || true; } | awk '$2 == "qemu-img" { print $1 }'; }
wait_qemu_img() { # wait_qemu_img N: until netd has N qemu-img children; prints their pids
	for _ in $(seq 1000); do [ "$(qemu_img_pids | wc -l)" -ge "$1" ] && break; sleep 0.02; done
	[ "$(qemu_img_pids | wc -l)" -ge "$1" ] || fail "netd did not start $1 qemu-img: $(ps -o pid,args --ppid "$NETD_PID")"
	qemu_img_pids
}
hung_up() { grep -c "disk convert of 'big.raw' to '$1' stopped: its client hung up" "$T/netd.log"; }
# (Clients started with & are netdctl itself, not a shell function's subshell: killed, the
# connection closes.)
# The client hangs up while qemu-img, stopped, cannot finish: netd's check finds it gone.
setpriv --reuid="$OP" --regid="$OP" --init-groups "$NETDCTL" --socket "$SOCK" disk convert big.raw big.qcow2 --format qcow2 >/dev/null 2>"$T/progress" &
cpid=$!
qpid=$(wait_qemu_img 1)
kill -STOP "$qpid"
assert_eq "$(ps -o uid= -p "$qpid" | tr -d ' ')" "$(id -u "$OP")" "the uid qemu-img runs as for an operator"
kill -9 $cpid; wait $cpid 2>/dev/null || true
for _ in $(seq 100); do [ "$(hung_up big.qcow2)" = 1 ] && break; sleep 0.05; done
assert_eq "$(hung_up big.qcow2)" 1 "netd's log of the conversion whose client hung up (client: $(cat "$T/progress"))"
assert_eq "$(pool_state)" "$before" "the pool after a conversion whose client hung up"
[ -z "$(ps -o pid= --ppid "$NETD_PID")" ] || fail "a child of netd still runs: $(ps -o pid,args --ppid "$NETD_PID")"
# qemu-img finishes while the client is gone and netd has not looked yet (netd stopped meanwhile):
# its exit is handled knowing the client went, nothing is made.
"$NETDCTL" --socket "$SOCK" disk convert big.raw big2.qcow2 --format qcow2 >/dev/null 2>&1 &
cpid=$!
qpid=$(wait_qemu_img 1)
kill -STOP "$NETD_PID"
kill -9 $cpid; wait $cpid 2>/dev/null || true
for _ in $(seq 1200); do [ "$(awk '{ print $3 }' "/proc/$qpid/stat" 2>/dev/null)" = Z ] && break; sleep 0.1; done
state=$(awk '{ print $3 }' "/proc/$qpid/stat" 2>/dev/null)
kill -CONT "$NETD_PID"
[ "$state" = Z ] || fail "qemu-img did not finish while netd was stopped (state '$state')"
for _ in $(seq 100); do [ "$(hung_up big2.qcow2)" = 1 ] && break; sleep 0.05; done
assert_eq "$(hung_up big2.qcow2)" 1 "netd's log of the conversion done after its client hung up"
assert_eq "$(pool_state)" "$before" "the pool after a conversion done after its client hung up"
ok "a conversion whose client hangs up is stopped or dropped, nothing made; qemu-img runs as the operator"

# At most 4 at once: a fifth is refused; their clients hang up, all go.
# catch_convert N: a conversion to cN.qcow2 caught mid-way: netd's qemu-img children, N of them,
# stopped (SIGSTOP: none finishes meanwhile). Prints its client's pid. A conversion of big.raw
# takes half a second: one may finish before a loaded machine's test catches it; then its disk is
# deleted and it is started again (5 tries).
catch_convert() {
	local try cpid pids n
	for try in 1 2 3 4 5; do
		"$NETDCTL" --socket "$SOCK" disk convert big.raw "c$1.qcow2" --format qcow2 >/dev/null 2>&1 &
		cpid=$!
		for _ in $(seq 1000); do
			pids=$(qemu_img_pids)
			n=$(wc -w <<<"$pids")
			[ "$n" -ge "$1" ] && break
			kill -0 "$cpid" 2>/dev/null || break
			sleep 0.02
		done
		# shellcheck disable=SC2086 # a pid list
		[ -z "$pids" ] || kill -STOP $pids
		if [ "$n" -ge "$1" ] && kill -0 "$cpid" 2>/dev/null; then
			echo "$cpid"
			return 0
		fi
		echo "# conversion $1 finished before it was caught (try $try)" >&2
		ctl disk delete "c$1.qcow2" >/dev/null 2>&1 || true
	done
	fail "conversion $1 finished every time before it could be stopped"
}
cpids=()
for i in 1 2 3 4; do
	cpids+=("$(catch_convert $i)")
done
refused "cannot convert disk: 4 conversions run already (wait for one to finish)" disk convert big.raw c5.qcow2 --format qcow2
kill -9 "${cpids[@]}"; wait "${cpids[@]}" 2>/dev/null || true
for _ in $(seq 100); do [ -z "$(qemu_img_pids)" ] && break; sleep 0.05; done
[ -z "$(qemu_img_pids)" ] || fail "qemu-img still runs after its clients hung up"
assert_eq "$(pool_state)" "$before" "the pool after four conversions stopped"
ok "at most 4 conversions at once"

"$NETDCTL" --socket "$SOCK" disk convert big.raw big.qcow2 --format qcow2 >/dev/null 2>"$T/progress" &
cpid=$!
kill -STOP "$(wait_qemu_img 1)" # it does not finish first
stop_netd
wait $cpid 2>/dev/null && fail "the conversion succeeded while netd stopped"
grep -q "disk convert of 'big.raw' to 'big.qcow2' stopped: netd stops" "$T/netd.log" || fail "netd did not say it stopped the conversion"
assert_eq "$(pool_state)" "$before" "the pool after netd stopped mid-conversion"
ok "netd stopping mid-conversion leaves nothing"

# netd killed -9 mid-conversion: its qemu-img (PR_SET_PDEATHSIG) goes with it.
start_netd --image-dir "$POOL"
"$NETDCTL" --socket "$SOCK" disk convert big.raw big.qcow2 --format qcow2 >/dev/null 2>&1 &
cpid=$!
qpid=$(wait_qemu_img 1)
kill -STOP "$qpid" # it does not finish first; SIGKILL ends it all the same
kill9_netd
for _ in $(seq 100); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.05; done
! kill -0 "$qpid" 2>/dev/null || fail "qemu-img $qpid still runs after netd was killed"
wait $cpid 2>/dev/null && fail "the conversion succeeded while netd died"
assert_eq "$(pool_state)" "$before" "the pool after netd died mid-conversion"
ok "netd killed mid-conversion: no qemu-img left, nothing made"
