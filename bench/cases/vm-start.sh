#!/usr/bin/env bash
# vm start of a real guest (issue 16): the test guest (tests/guest/build-initramfs.sh: a Debian
# kernel and a busybox initramfs; TCG, 256 MiB, one virtio NIC, a 1 GiB qcow2 disk), from the
# command until it answers, which is once QEMU's QMP says the guest runs; then destroyed, REPS
# times. Baseline: libvirt 9.0's `virsh start` of the same guest (same kernel, initrd, memory, a
# virtio NIC on a TAP of its own, the same disk format), in libvirt's own namespace
# (bench/libvirtd-ns.sh), alternating with netd's.
. "$(dirname "$0")/../lib.sh"
FIG="vm start of a real guest until QMP says running, TCG, 256 MiB, a NIC, a qcow2 disk"
[ -x /usr/bin/qemu-system-x86_64 ] && [ -x /usr/bin/qemu-img ] || { row "$FIG" "skipped: no QEMU" - - figure -; exit 0; }
getent passwd netd-qemu >/dev/null || { row "$FIG" "skipped: no user netd-qemu" - - figure -; exit 0; }
read -r KERNEL INITRD < <(bash "$BENCH_DIR/../tests/guest/build-initramfs.sh" "$T/guest") ||
	{ row "$FIG" "skipped: no test guest (kernel, busybox-static)" - - figure -; exit 0; }
APPEND="console=ttyS0 quiet"

start_netd
ctl network create n1 --mode isolated --subnet 10.98.0.0/24 --no-dhcp --no-dns >/dev/null
qemu-img create -q -f qcow2 "$T/g.qcow2" 1G
ctl vm create g1 --network n1 --memory 256M --kernel "$KERNEL" --initrd "$INITRD" --accel tcg \
	--append "$APPEND" --disk "$T/g.qcow2,format=qcow2" --no-autostart >/dev/null

have_lv=false
if start_libvirtd; then
	have_lv=true
	qemu-img create -q -f qcow2 "$T/lv1.qcow2" 1G
	cat >"$T/lv1.xml" <<XML
<domain type='qemu'><name>lv1</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='q35'>hvm</type><kernel>$KERNEL</kernel><initrd>$INITRD</initrd>
<cmdline>$APPEND</cmdline></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/><source file='$T/lv1.qcow2'/>
<target dev='vda' bus='virtio'/></disk>
<interface type='ethernet'><target dev='lvtap0' managed='yes'/><model type='virtio'/></interface>
<serial type='pty'/></devices></domain>
XML
	virsh define "$T/lv1.xml" >/dev/null
fi

: >"$T/netd"
: >"$T/lv-times"
for _ in $(seq 1 "$REPS"); do
	t0=$(now_us)
	ctl vm start g1 >/dev/null
	t1=$(now_us)
	echo $((t1 - t0)) >>"$T/netd"
	ctl vm destroy g1 >/dev/null
	if $have_lv; then
		t0=$(now_us)
		virsh start lv1 >/dev/null
		t1=$(now_us)
		echo $((t1 - t0)) >>"$T/lv-times"
		virsh destroy lv1 >/dev/null
	fi
done
read -r med lo hi n < <(stats "$T/netd")
if $have_lv; then
	read -r lmed llo lhi _ < <(stats "$T/lv-times")
	row "$FIG (p50 of $n; netd $(fmt "$(us_ms "$lo")" ms)-$(fmt "$(us_ms "$hi")" ms), virsh $(fmt "$(us_ms "$llo")" ms)-$(fmt "$(us_ms "$lhi")" ms))" \
		"$(fmt "$(us_ms "$med")" ms)" "virsh start $(fmt "$(us_ms "$lmed")" ms)" "$(ratio "$lmed" "$med")" figure -
else
	row "$FIG (p50 of $n; $(fmt "$(us_ms "$lo")" ms)-$(fmt "$(us_ms "$hi")" ms))" \
		"$(fmt "$(us_ms "$med")" ms)" "virsh start: not measured, libvirt not installed (scripts/install-deps --bench)" - figure -
fi
