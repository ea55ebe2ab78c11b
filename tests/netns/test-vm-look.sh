#!/usr/bin/env bash
# Looking at a guest and tuning it (issue 16), with real QEMU (TCG) and the test guest:
# - 'vm screenshot' of a guest with --vnc gives a PNG (magic, IHDR dimensions as the reply says),
#   written by netdctl with the operator's own rights (a directory the operator may not write is
#   refused by netdctl; netd writes no file); an existing FILE or a symlink refused (--force
#   replaces them by a rename); a guest without a display: a clear error; a QEMU
#   that does not answer: an error after 10 s, and its fd set removed once it answers;
# - 'vm console --log' prints the guest's serial lines through netd (--lines N: the last N; --json:
#   lines), escape sequences the guest wrote come out without their ESC; a log past 1 MiB is
#   rotated to serial.log.1 at the next start and, while the guest runs, within seconds; the log
#   survives a restart of the guest;
# - tuning: --cpu host under TCG runs max (vm show says why), --vcpu-pin 0:1,1:0 and --emulator-pin 0
#   read back from /proc/PID/task/TID/status (Cpus_allowed_list) and vm show, pinned again by a netd
#   restarted after the threads were unpinned by hand, iothread objects; bad pins and tuning values
#   refused with one clear line each and nothing left; --hugepages refused before the start when
#   none are free (this machine's hugepage sysctls are not touched).
. "$(dirname "$0")/lib.sh"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] || skip "qemu-system-x86_64 missing"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
getent group netd >/dev/null || skip "no group netd (run scripts/install-deps)"
getent passwd netd-qemu >/dev/null || skip "no user netd-qemu (run scripts/install-deps)"
need python3
guest_image

OP="netdt-lk-$$"
add_user "$OP" netd
op() { run_as "$OP" "$NETDCTL" --socket "$SOCK" "$@"; }
mkdir -p "$T/op" "$T/rootonly"
chown "$OP:" "$T/op"
chmod 0700 "$T/rootonly"

start_netd
ctl network create n1 --mode nat --subnet 10.83.0.0/24 >/dev/null

# ---- screenshot ----
ctl vm create g1 --network n1 --memory 256M --kernel "$KERNEL" --initrd "$INITRD" \
	--append "console=ttyS0 quiet" --accel tcg --vnc 7 >/dev/null
assert_eq "$(vm_field g1 .state)" running "g1's state"
wait_serial g1 '^LEASE ' >/dev/null
png_dims() {
	python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
assert b[:8] == b'\x89PNG\r\n\x1a\n', 'no PNG signature'
assert b[12:16] == b'IHDR', 'no IHDR chunk'
w, h = struct.unpack('>II', b[16:24])
print(f"{w}x{h}")
PY
}
op vm screenshot g1 "$T/op/shot.png" >"$T/out" || fail "vm screenshot as the operator: $(cat "$T/out")"
dims=$(png_dims "$T/op/shot.png") || fail "not a PNG: $(head -c 16 "$T/op/shot.png" | od -c | head -2)"
assert_eq "$(stat -c %U "$T/op/shot.png")" "$OP" "the screenshot file's owner"
json=$(op --json vm screenshot g1 "$T/op/shot2.png")
assert_eq "$(jq -r '"\(.width)x\(.height)"' <<<"$json")" "$dims" "the reply's dimensions"
assert_eq "$(jq -r .file <<<"$json")" "$T/op/shot2.png" "the reply's file"
assert_eq "$(jq -r 'has("data")' <<<"$json")" false "the --json output carries no image data"
assert_eq "$(jq -r .size <<<"$json")" "$(stat -c %s "$T/op/shot2.png")" "the PNG's size"
case $dims in 0x* | *x0) fail "empty image $dims" ;; esac
grep -a "/dev/fdset" "$T/run/guests/g1/qemu.log" && fail "QEMU complained about the fd set"
ok "vm screenshot g1 as operator: $(cat "$T/out")"
# The operator may not write into a root-only directory: netdctl says so, nothing is written.
rc=0
op vm screenshot g1 "$T/rootonly/x.png" >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of a screenshot into a root-only directory"
grep -q "cannot write $T/rootonly/x.png: Permission denied" "$T/err" || fail "screenshot into root-only dir: $(cat "$T/err")"
[ -e "$T/rootonly/x.png" ] && fail "a file was written into the root-only directory"
ok "a screenshot into a directory the operator may not write: $(cat "$T/err")"
# An existing file is refused (and left as it was), a symlink is not followed; --force replaces
# the file, and a symlink itself (never its target).
echo keep >"$T/op/exists.png"
chown "$OP:" "$T/op/exists.png"
rc=0
op vm screenshot g1 "$T/op/exists.png" >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of a screenshot onto an existing file"
grep -q "$T/op/exists.png exists (--force replaces it)" "$T/err" || fail "existing file: $(cat "$T/err")"
assert_eq "$(cat "$T/op/exists.png")" keep "the existing file after the refused screenshot"
ln -s "$T/op/target.png" "$T/op/link.png"
rc=0
op vm screenshot g1 "$T/op/link.png" >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of a screenshot onto a symlink"
[ -e "$T/op/target.png" ] && fail "the screenshot followed a symlink"
op vm screenshot g1 --force "$T/op/exists.png" >/dev/null || fail "--force onto an existing file"
png_dims "$T/op/exists.png" >/dev/null || fail "--force did not write a PNG"
assert_eq "$(stat -c %U "$T/op/exists.png")" "$OP" "the replaced file's owner"
op vm screenshot g1 "$T/op/link.png" --force >/dev/null || fail "--force onto a symlink"
[ -L "$T/op/link.png" ] && fail "--force kept the symlink"
[ -e "$T/op/target.png" ] && fail "--force wrote through the symlink"
ls -A "$T/op" | grep -q '^\.' && fail "a temporary file was left: $(ls -A "$T/op")"
ok "an existing file and a symlink refused, --force replaces them (the symlink's target untouched)"
# A QEMU that does not answer (stopped): the screenshot fails after 10 s; once QEMU answers again
# netd removes the fd set it passed (QEMU keeps no fd of netd's memfd), and screenshots work again.
qpid=$(vm_field g1 .pid)
kill -STOP "$qpid"
rc=0
start=$(date +%s)
timeout 40 "$NETDCTL" --socket "$SOCK" vm screenshot g1 "$T/op/hung.png" >/dev/null 2>"$T/err" || rc=$?
kill -CONT "$qpid"
took=$(($(date +%s) - start))
assert_eq "$rc" 1 "exit code of a screenshot of a stopped QEMU"
grep -q "guest 'g1': QEMU did not finish the screenshot within 10 s" "$T/err" ||
	fail "screenshot of a stopped QEMU: $(cat "$T/err")"
[ "$took" -ge 9 ] && [ "$took" -le 20 ] || fail "the screenshot of a stopped QEMU failed after $took s"
[ -e "$T/op/hung.png" ] && fail "a file was written for a screenshot that failed"
n=1
for _ in $(seq 1 50); do
	n=$(ls -l "/proc/$qpid/fd" | grep -c netd-screendump) || true
	[ "$n" = 0 ] && break
	sleep 0.1
done
assert_eq "$n" 0 "QEMU's fds of netd's screenshot memfds once it answered again"
op vm screenshot g1 "$T/op/shot3.png" >/dev/null || fail "a screenshot after QEMU answered again"
ok "a screenshot of a stopped QEMU: $(cat "$T/err") after $took s; the fd set removed once it answered"

ctl vm create g2 --network n1 --memory 256M --kernel "$KERNEL" --initrd "$INITRD" \
	--append "console=ttyS0 quiet" --accel tcg >/dev/null
rc=0
ctl vm screenshot g2 "$T/op/g2.png" >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of a screenshot of a guest without a display"
grep -q "guest 'g2' has no display (it was created without --vnc)" "$T/err" || fail "no display: $(cat "$T/err")"
[ -e "$T/op/g2.png" ] && fail "a file was written for a guest without a display"
ok "$(cat "$T/err")"
rc=0
ctl vm screenshot nosuch "$T/op/x.png" >/dev/null 2>"$T/err" || rc=$?
grep -q "no guest named 'nosuch'" "$T/err" || fail "screenshot of a missing guest: $(cat "$T/err")"

# ---- console --log ----
# (GATEWAY-PING is the guest's last line: the console is quiet when the last line is compared)
wait_serial g2 '^GATEWAY-PING ok ' >/dev/null
op vm console g2 --log >"$T/log" || fail "vm console --log as the operator"
grep -q '^LEASE 10\.83\.0\.' "$T/log" || fail "console --log lacks the guest's LEASE line: $(tail -n 5 "$T/log")"
grep -q $'\r' "$T/log" && fail "console --log prints carriage returns"
assert_eq "$(op vm console g2 --log --lines 3 | wc -l)" 3 "lines of --lines 3"
assert_eq "$(op vm console g2 --log --lines 1)" "$(serial g2 | tail -n 1)" "the last line"
assert_eq "$(op --json vm console g2 --log | jq -r '.lines | map(select(startswith("LEASE "))) | length > 0')" true \
	"--json's lines"
# What a hostile guest writes: an escape sequence loses its ESC, bytes that are no UTF-8 show as '?'.
printf 'ESC-TEST \033[31mred\033]0;title\007 \xff end\n' >>"$T/run/guests/g2/serial.log"
line=$(ctl vm console g2 --log --lines 1)
assert_eq "$line" "ESC-TEST [31mred]0;title ? end" "an escape sequence in the log"
rc=0
ctl vm console g2 --log --lines 0 >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of --lines 0"
grep -q -- "--lines must be a number from 1 to 10000" "$T/err" || fail "--lines 0: $(cat "$T/err")"
ok "vm console g2 --log: the guest's lines ($(wc -l <"$T/log")), --lines, --json, escapes defused"

# The log is bounded: past 1 MiB it is rotated while the guest runs (within a few seconds).
# (in one write: a rotation in the middle of it would leave more than a log's worth after it, and
# the next rotation would drop the guest's lines)
# The copy keeps the log's last 1 MiB: the mark after the filler, not the guest's first lines.
fill() { python3 -c 'import sys; open(sys.argv[1], "a").write((sys.argv[2] * 99 + "\n") * int(sys.argv[3]) + "FILL-MARK\n")' "$@"; }
fill "$T/run/guests/g2/serial.log" x 12000
for _ in $(seq 1 60); do [ -e "$T/run/guests/g2/serial.log.1" ] && break; sleep 0.1; done
[ -e "$T/run/guests/g2/serial.log.1" ] || fail "serial.log was not rotated"
size=$(stat -c %s "$T/run/guests/g2/serial.log")
[ "$size" -lt 100000 ] || fail "serial.log is still $size bytes after its rotation"
assert_eq "$(stat -c '%a %U %G' "$T/run/guests/g2/serial.log.1")" "640 root netd" "serial.log.1's mode"
ctl vm console g2 --log >"$T/log2" 2>&1 || fail "console --log after the rotation: $(tail -n 3 "$T/log2")"
grep -q '^FILL-MARK$' "$T/log2" || fail "console --log lost the lines of serial.log.1: $(tail -n 3 "$T/log2")"
[ "$(stat -c %s "$T/run/guests/g2/serial.log.1")" -le 1048576 ] || fail "serial.log.1 is larger than 1 MiB"
assert_eq "$(wc -l <"$T/log2")" 10000 "console --log's lines (at most 10000)"
ok "a serial log past 1 MiB rotated to serial.log.1 while the guest runs; console --log reads both"

# It survives a restart of the guest, and a start rotates a log past the bound.
ctl vm destroy g2 >/dev/null
fill "$T/run/guests/g2/serial.log" y 11000
echo "BEFORE-RESTART" >>"$T/run/guests/g2/serial.log"
ctl vm start g2 >/dev/null
grep -q '^BEFORE-RESTART' "$T/run/guests/g2/serial.log.1" || fail "the start did not rotate the log"
wait_serial g2 '^LEASE ' >/dev/null
# (into a file: grep -q stops reading at the match, and under pipefail netdctl's SIGPIPE fails)
ctl vm console g2 --log >"$T/log3"
grep -q '^BEFORE-RESTART$' "$T/log3" || fail "the log of the last run is gone: $(tail -n 3 "$T/log3")"
ok "the serial log survives a restart; the start rotated it past 1 MiB"

# ---- tuning ----
# Two vCPUs pinned crosswise, QEMU's other threads on CPU 0, --cpu host (TCG here: max), two
# iothreads. (This machine has 2 CPUs: 0 and 1.)
online=$(cat /sys/devices/system/cpu/online)
[ "$online" = 0-1 ] || [[ "$online" == 0-* ]] || skip "CPUs 0 and 1 not both online ($online)"
cpus_allowed() { awk '/^Cpus_allowed_list:/ {print $2}' "/proc/$1/task/$2/status"; }
ctl vm create g3 --network n1 --memory 256M --vcpus 2 --kernel "$KERNEL" --initrd "$INITRD" \
	--append "console=ttyS0 quiet" --accel tcg --cpu host --vcpu-pin 0:1,1:0 --emulator-pin 0 \
	--io-threads 2 >/dev/null
qpid=$(vm_field g3 .pid)
args=$(tr '\0' ' ' <"/proc/$qpid/cmdline")
grep -q -- "-cpu max " <<<"$args" || fail "QEMU's -cpu under TCG: $args"
grep -q -- "-object iothread,id=iothread0 -object iothread,id=iothread1 " <<<"$args" || fail "iothreads: $args"
assert_eq "$(vm_field g3 .tuning.cpu_model)" max "vm show's CPU model in effect"
vm_field g3 .tuning.cpu_note | has "host needs KVM" || fail "vm show says nothing of --cpu host under TCG"
for _ in $(seq 1 50); do [ "$(vm_field g3 '.tuning.vcpu_threads | length')" = 2 ] && break; sleep 0.1; done
json=$(ctl --json vm show g3)
t0=$(jq -r '.tuning.vcpu_threads[0].thread' <<<"$json")
t1=$(jq -r '.tuning.vcpu_threads[1].thread' <<<"$json")
[ "$t0" != "$t1" ] || fail "vCPUs 0 and 1 share thread $t0"
assert_eq "$(cpus_allowed "$qpid" "$t0")" 1 "vCPU 0's Cpus_allowed_list"
assert_eq "$(cpus_allowed "$qpid" "$t1")" 0 "vCPU 1's Cpus_allowed_list"
assert_eq "$(cpus_allowed "$qpid" "$qpid")" 0 "QEMU's main thread's Cpus_allowed_list"
for tid in $(ls "/proc/$qpid/task"); do
	[ "$tid" = "$t0" ] || [ "$tid" = "$t1" ] || assert_eq "$(cpus_allowed "$qpid" "$tid")" 0 "QEMU thread $tid's CPUs"
done
assert_eq "$(jq -r '[.tuning.vcpu_threads[].cpus] | join(" ")' <<<"$json")" "1 0" "vm show's vCPU affinity"
assert_eq "$(jq -r .tuning.emulator_cpus <<<"$json")" 0 "vm show's emulator affinity"
ctl vm show g3 | has -x "vcpu0:      thread $t0 on CPUs 1 (pinned: 1)" || fail "vm show's text: $(ctl vm show g3)"
wait_serial g3 '^LEASE ' >/dev/null
ok "g3: -cpu max under TCG (vm show says why), vCPU threads $t0 on CPU 1 and $t1 on CPU 0, QEMU's other threads on 0, iothreads"

# Kept across a netd restart: the adopting netd pins again what someone changed meanwhile.
kill9_netd
taskset -a -p -c 0-1 "$qpid" >/dev/null
assert_eq "$(cpus_allowed "$qpid" "$t0")" 0-1 "vCPU 0's CPUs after taskset"
start_netd
for _ in $(seq 1 50); do [ "$(cpus_allowed "$qpid" "$t0")" = 1 ] && break; sleep 0.1; done
assert_eq "$(cpus_allowed "$qpid" "$t0")" 1 "vCPU 0's CPUs after the adoption"
assert_eq "$(cpus_allowed "$qpid" "$t1")" 0 "vCPU 1's CPUs after the adoption"
assert_eq "$(cpus_allowed "$qpid" "$qpid")" 0 "the main thread's CPUs after the adoption"
assert_eq "$(vm_field g3 .pid)" "$qpid" "g3's QEMU after the adoption"
# the adopting netd asks QEMU which accelerator it uses (query-kvm): TCG, so the model is max
assert_eq "$(vm_field g3 .tuning.cpu_model)" max "vm show's CPU model after the adoption"
ok "kill -9 of netd, threads unpinned by hand: the adopting netd pinned them again, says -cpu max"
ctl vm destroy g3 >/dev/null

# Bad tuning: one clear error each, nothing created.
bad_tune() {
	local want=$1 rc=0
	shift
	ctl vm create bad --network n1 --kernel "$KERNEL" --accel tcg --no-autostart "$@" >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 1 ] || [ "$rc" = 2 ] || fail "vm create $* was accepted (rc $rc)"
	grep -qF -- "$want" "$T/err" || fail "vm create $*: expected '$want', got: $(cat "$T/err")"
	[ -e "$T/etc/guests/bad.conf" ] && fail "vm create $* left a definition"
	ok "refused: $* -> $(tail -n1 "$T/err")"
}
bad_tune "--vcpu-pin: vCPU 1 is pinned to CPU 7, which this host lacks (its CPUs: $online)" --vcpus 2 --vcpu-pin 0:0,1:7
bad_tune "--emulator-pin names CPU 5-6, which this host lacks" --emulator-pin 0,5-6
bad_tune "--vcpu-pin names vCPU 2, but the guest has 2 (0-1)" --vcpus 2 --vcpu-pin 2:0
bad_tune "invalid --vcpu-pin '0:1,0:0': expected VCPU:CPU pairs" --vcpu-pin 0:1,0:0
bad_tune "invalid --vcpu-pin '0-1:0'" --vcpu-pin 0-1:0
bad_tune "invalid --emulator-pin '1-0': expected CPU numbers and ranges" --emulator-pin 1-0
bad_tune "invalid --emulator-pin '0,,1'" --emulator-pin 0,,1
bad_tune "invalid --cpu 'host,+vmx': expected host or a QEMU CPU model name" --cpu host,+vmx
bad_tune "--io-threads is out of range" --io-threads 17

# Huge pages: this machine reserves none (its sysctls are left alone): the start is refused.
free=$(awk '/^HugePages_Free:/ {f = $2} /^HugePages_Rsvd:/ {r = $2} END {print (f > r ? f - r : 0)}' /proc/meminfo)
if [ "$free" = 0 ]; then
	rc=0
	ctl vm create hp --network n1 --memory 256M --kernel "$KERNEL" --initrd "$INITRD" --accel tcg \
		--hugepages >/dev/null 2>"$T/err" || rc=$?
	assert_eq "$rc" 1 "exit code of a guest with --hugepages and none free"
	grep -qF "cannot start guest 'hp': --hugepages: memory 256M needs 128 huge pages of 2048 kB, but only 0 are free" \
		"$T/err" || fail "hugepages: $(cat "$T/err")"
	[ -e "$T/etc/guests/hp.conf" ] && fail "the refused create left a definition"
	ctl vm create hp --network n1 --memory 256M --kernel "$KERNEL" --initrd "$INITRD" --accel tcg \
		--hugepages --no-autostart >/dev/null
	grep -qx "hugepages = yes" "$T/etc/guests/hp.conf" || fail "hugepages not in the definition"
	rc=0
	ctl vm start hp >/dev/null 2>"$T/err" || rc=$?
	assert_eq "$rc" 1 "exit code of vm start with --hugepages and none free"
	grep -q "only 0 are free" "$T/err" || fail "vm start hp: $(cat "$T/err")"
	assert_eq "$(vm_field hp .state)" stopped "hp's state after the refused start"
	[ -e "$T/run/guests/hp/pid" ] && fail "a QEMU was started for hp"
	ok "--hugepages with none free: $(cat "$T/err")"
else
	echo "# $free huge pages are free (HugePages_Free - HugePages_Rsvd) here: the refusal of --hugepages is not tested"
fi
