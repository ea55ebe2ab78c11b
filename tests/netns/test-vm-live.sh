#!/usr/bin/env bash
# Live vCPUs and memory with real QEMU (TCG here) and the test guest (showcpus: it onlines a plugged
# vCPU and prints "CPUS <online list>"): a guest made with --vcpus 2 --max-vcpus 4 --memory 256M
# --max-memory 256M starts with -smp cpus=2,maxcpus=4 and a virtio balloon; set-vcpus 3 plugs a vCPU
# in that the guest brings online, set-memory 160M inflates the balloon until QEMU's actual size
# (vm show) is 160 MiB, both written to the definition; a netd restarted after kill -9 reads both
# back from the QEMU it adopts; the next start has 3 vCPUs and the balloon goes back to 160 MiB by
# itself. Bad inputs each get one clear error and change nothing: max-vcpus
# below vcpus, max-memory below memory, set-vcpus above the maximum, fewer vCPUs live, a balloon
# above the maximum or below its floor, --live on a stopped guest.
. "$(dirname "$0")/lib.sh"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] || skip "qemu-system-x86_64 missing"
getent passwd netd-qemu >/dev/null || skip "no user netd-qemu (run scripts/install-deps)"
guest_image

start_netd
ctl network create n1 --mode isolated --subnet 10.93.0.0/24 --no-dhcp --no-dns >/dev/null
defs() { (cd "$T/etc/guests" 2>/dev/null && md5sum ./*.conf 2>/dev/null) || true; }
live() { ctl --json vm show g1 | jq -c '{vcpus, vcpus_present, max_vcpus, memory_mib, max_memory_mib, balloon_actual_mib}'; }

C="vm create x --network n1 --kernel $KERNEL --initrd $INITRD --no-autostart"
cases=(
	"1|max-vcpus 2 is below vcpus 4|$C --vcpus 4 --max-vcpus 2"
	"1|max-vcpus is out of range (1-64)|$C --max-vcpus 65"
	"1|max-memory 512M is below memory 1024M|$C --memory 1G --max-memory 512M"
	"1|memory 64M is below the balloon's floor of 128M|$C --memory 64M --max-memory 1G"
	"1|invalid max-memory 'lots'|$C --max-memory lots"
)
bad_cli_cases cases
[ -e "$T/etc/guests/x.conf" ] && fail "a refused create left a definition"

ctl vm create g1 --network n1 --vcpus 2 --max-vcpus 4 --memory 256M --max-memory 256M --kernel "$KERNEL" \
	--initrd "$INITRD" --append "console=ttyS0 quiet showcpus" --accel tcg >/dev/null
pid=$(vm_field g1 .pid)
args=$(tr '\0' ' ' <"/proc/$pid/cmdline")
has -- "-smp cpus=2,maxcpus=4 " <<<"$args" || fail "QEMU's -smp: $args"
has -- "-m 256M " <<<"$args" || fail "QEMU's -m: $args"
has -- "-device virtio-balloon-pci,id=balloon0 " <<<"$args" || fail "no balloon: $args"
wait_serial g1 '^CPUS 0-1$' >/dev/null
for _ in $(seq 1 50); do [ "$(vm_field g1 .balloon_actual_mib)" = 256 ] && break; sleep 0.1; done
assert_eq "$(live)" '{"vcpus":2,"vcpus_present":2,"max_vcpus":4,"memory_mib":256,"max_memory_mib":256,"balloon_actual_mib":256}' "vm show of g1"
ok "g1 runs with -smp cpus=2,maxcpus=4 -m 256M and a balloon; the guest sees CPUs 0-1; vm show: $(live)"

# Refused, each with its reason; the definition, QEMU and what it runs stay as they are.
BAD_BEFORE=
before_defs=$(defs)
before_live=$(live)
cases=(
	"1|guest 'g1' may have at most 4 vCPUs while it runs (its --max-vcpus|vm set-vcpus g1 5"
	"1|removing vCPUs from a running guest is refused (on q35 QEMU can only ask the guest's OS to eject a vCPU through ACPI|vm set-vcpus g1 1"
	"1|removing vCPUs from a running guest is refused|vm set-vcpus g1 1 --live"
	"1|memory 512M is above the guest's maximum of 256M|vm set-memory g1 512M"
	"1|memory 32M is below the balloon's floor of 64M|vm set-memory g1 32M --live"
	"1|invalid memory 'lots'|vm set-memory g1 lots"
	"1|vcpus must be a number from 1 to 64|vm set-vcpus g1 0"
	"2|vm set-vcpus: expected NAME N [--live] [--config]|vm set-vcpus g1"
	"2|vm set-memory: unexpected argument '--now'|vm set-memory g1 128M --now"
)
bad_cli_cases cases
assert_eq "$(defs)" "$before_defs" "the definitions after the refused changes"
assert_eq "$(live)" "$before_live" "vm show after the refused changes"
assert_eq "$(vm_field g1 .pid)" "$pid" "QEMU after the refused changes"

# One more vCPU, live: plugged into the next slot, the guest brings it online.
t0=$(date +%s%N)
ctl vm set-vcpus g1 3 >/dev/null
wait_serial g1 '^CPUS 0-2$' 30 >/dev/null
assert_eq "$(vm_field g1 .vcpus_present)" 3 "vCPUs present after set-vcpus 3"
assert_eq "$(grep -x 'vcpus = .*' "$T/etc/guests/g1.conf")" "vcpus = 3" "definition's vcpus"
assert_eq "$(vm_field g1 .pid)" "$pid" "QEMU after set-vcpus"
ok "vm set-vcpus g1 3: the guest's /sys/devices/system/cpu/online is 0-2 after $((($(date +%s%N) - t0) / 1000000)) ms; definition vcpus = 3"

# The balloon takes 96 MiB back: QEMU's actual size drops to the target.
t0=$(date +%s%N)
ctl vm set-memory g1 160M >/dev/null
for _ in $(seq 1 300); do [ "$(vm_field g1 .balloon_actual_mib)" = 160 ] && break; sleep 0.1; done
assert_eq "$(vm_field g1 .balloon_actual_mib)" 160 "the balloon's actual size after set-memory 160M"
assert_eq "$(vm_field g1 .balloon_target_mib)" 160 "the balloon's target"
assert_eq "$(grep -x 'memory = .*' "$T/etc/guests/g1.conf")" "memory = 160M" "definition's memory"
ok "vm set-memory g1 160M: the balloon's actual size is 160 MiB after $((($(date +%s%N) - t0) / 1000000)) ms; definition memory = 160M"

# --config alone while it runs: the definition only.
ctl vm set-memory g1 192M --config >/dev/null
assert_eq "$(grep -x 'memory = .*' "$T/etc/guests/g1.conf")" "memory = 192M" "definition's memory after --config"
assert_eq "$(vm_field g1 .balloon_target_mib)" 160 "the balloon's target after --config alone"
ctl vm set-memory g1 160M --config >/dev/null

# kill -9 of netd: the next one adopts QEMU and reads what it has (the balloon is not set again).
kill9_netd
start_netd
for _ in $(seq 1 50); do [ "$(vm_field g1 .balloon_actual_mib)" = 160 ] && break; sleep 0.1; done
assert_eq "$(live)" '{"vcpus":3,"vcpus_present":3,"max_vcpus":4,"memory_mib":160,"max_memory_mib":256,"balloon_actual_mib":160}' "vm show after netd's restart"
assert_eq "$(vm_field g1 .balloon_target_mib)" null "the balloon's target as the adopting netd knows it (it set none)"
ok "kill -9 of netd: the next one adopts g1 and reads 3 vCPUs and a 160 MiB balloon from QEMU"

# The next start: 3 vCPUs from the start, and the balloon back at 160 MiB by itself.
ctl vm destroy g1 >/dev/null
rc=0
ctl vm set-vcpus g1 4 --live >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of set-vcpus --live on a stopped guest"
has -F "guest 'g1' is not running: --live changes a running guest" <"$T/err" || fail "set-vcpus --live: $(cat "$T/err")"
ok "$(cat "$T/err")"
ctl vm show g1 >"$T/show"
has -xF "vcpus:      3 (at most 4)" <"$T/show" || fail "vm show's text of stopped g1: $(cat "$T/show")"
has -xF "memory:     160 MiB (a balloon, at most 256 MiB)" <"$T/show" || fail "vm show's text of stopped g1: $(cat "$T/show")"
ctl vm start g1 >/dev/null
pid=$(vm_field g1 .pid)
has -- "-smp cpus=3,maxcpus=4 " <<<"$(tr '\0' ' ' <"/proc/$pid/cmdline")" || fail "QEMU's -smp after restart"
for _ in $(seq 1 300); do [ "$(vm_field g1 .balloon_actual_mib)" = 160 ] && break; sleep 0.1; done
assert_eq "$(vm_field g1 .balloon_actual_mib)" 160 "the balloon's actual size after a restart"
assert_eq "$(vm_field g1 .vcpus_present)" 3 "vCPUs present after a restart"
ok "restarted: -smp cpus=3,maxcpus=4, the balloon back at 160 MiB by itself"
ctl vm show g1 | has -xF "vcpus:      3 (3 present, at most 4)" || fail "vm show's text: $(ctl vm show g1)"
ctl vm show g1 | has -xF "memory:     160 MiB (balloon: target 160, actual 160 MiB of 256 MiB)" ||
	fail "vm show's text: $(ctl vm show g1)"
ctl vm destroy g1 >/dev/null
ctl vm delete g1 >/dev/null
