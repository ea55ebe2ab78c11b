#!/usr/bin/env bash
# vm snapshot create of a running 1 GiB-RAM guest (issue 16): the test guest (tests/guest/
# build-initramfs.sh, TCG) with a qcow2 disk, booted and counting on its disk; from the command to
# its answer (QEMU's snapshot-save job concluded: disks and memory saved, the guest resumed), each
# snapshot deleted after it is timed. Baseline: libvirt's `virsh snapshot-create-as` (an internal
# snapshot with memory, the same guest defined in libvirt) when libvirt is installed; otherwise the
# row has none and says so.
. "$(dirname "$0")/../lib.sh"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] && [ -x /usr/bin/qemu-img ] || { row "vm snapshot create, 1 GiB guest" "skipped: no QEMU" - - figure -; exit 0; }
read -r KERNEL INITRD < <(bash "$BENCH_DIR/../tests/guest/build-initramfs.sh" "$T/guest") ||
	{ row "vm snapshot create, 1 GiB guest" "skipped: no test guest (kernel, busybox-static)" - - figure -; exit 0; }

start_netd
ctl network create n1 --mode isolated --subnet 10.99.0.0/24 --no-dhcp --no-dns >/dev/null
qemu-img create -q -f qcow2 "$T/g.qcow2" 1G
ctl vm create g1 --network n1 --memory 1G --kernel "$KERNEL" --initrd "$INITRD" --accel tcg \
	--append "console=ttyS0 quiet snapcount" --disk "$T/g.qcow2,format=qcow2" --no-autostart >/dev/null
ctl vm start g1 >/dev/null
for _ in $(seq 1 600); do grep -qa '^COUNT 2' "$T/run/guests/g1/serial.log" 2>/dev/null && break; sleep 0.1; done
: >"$T/netd"
for i in $(seq 1 "$REPS"); do
	t0=$(now_us)
	ctl vm snapshot create g1 "s$i" >/dev/null 2>>"$T/ctl.err"
	t1=$(now_us)
	echo $((t1 - t0)) >>"$T/netd"
	size=$(ctl --json vm snapshot list g1 | jq -r ".snapshots[] | select(.name == \"s$i\") | .vm_state_size")
	ctl vm snapshot delete g1 "s$i" >/dev/null 2>>"$T/ctl.err"
done
read -r med lo hi n < <(stats "$T/netd")
ctl vm destroy g1 >/dev/null
base="virsh snapshot-create-as: not measured, libvirt not installed (scripts/install-deps --bench)"
ratio=-
if start_libvirtd; then
	qemu-img create -q -f qcow2 "$T/lv.qcow2" 1G
	cat >"$T/lv.xml" <<XML
<domain type='qemu'><name>lv1</name><memory unit='MiB'>1024</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='q35'>hvm</type><kernel>$KERNEL</kernel><initrd>$INITRD</initrd>
<cmdline>console=ttyS0 quiet snapcount</cmdline></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/><source file='$T/lv.qcow2'/>
<target dev='vda' bus='virtio'/></disk><serial type='pty'/></devices></domain>
XML
	virsh define "$T/lv.xml" >/dev/null
	virsh start lv1 >/dev/null
	sleep 3
	: >"$T/lv-times"
	for i in $(seq 1 "$REPS"); do
		t0=$(now_us)
		virsh snapshot-create-as lv1 "s$i" >/dev/null
		t1=$(now_us)
		echo $((t1 - t0)) >>"$T/lv-times"
		virsh snapshot-delete lv1 "s$i" >/dev/null
	done
	virsh destroy lv1 >/dev/null
	read -r lmed llo lhi _ < <(stats "$T/lv-times")
	base="virsh $(fmt "$(us_ms "$lmed")" ms)"
	ratio=$(ratio "$lmed" "$med")
fi
row "vm snapshot create, running 1 GiB-RAM guest, TCG, qcow2 disk (p50 of $n; $(fmt "$(us_ms "$lo")" ms)-$(fmt "$(us_ms "$hi")" ms); vm state ${size:-?} bytes)" \
	"$(fmt "$(us_ms "$med")" ms)" "$base" "$ratio" figure -
