#!/usr/bin/env bash
# Build the tiny test guest: a cpio initramfs with busybox-static and the virtio-net modules of
# the installed Debian kernel. Prints "KERNEL INITRD" on stdout. Exit 77 (skip) when there is no
# kernel image or no busybox-static.
#
#   build-initramfs.sh OUTDIR
#
# The guest's /init loads the virtio modules (FACTS.md order), brings eth0 up, runs udhcpc with a
# script that configures the lease and prints "LEASE <ip>/<mask> router <gw>" on the serial
# console (with probe=IP on the kernel command line, also what IP's port 7000 says; with spoof=IP,
# whether a ping from an address it was not given gets through), and powers
# off when the ACPI power button is pressed (QMP system_powerdown): the Debian kernel has no handler of its own, so /init waits for a byte on the button's evdev node.
# Every NIC is brought up, and "LINK-DOWN ethN" / "LINK-UP ethN" is printed when its link changes
# (QMP set_link, as vm set-network flaps it); udhcpc runs on eth0 only (and flushes only IPv4).
# With ping6=IP on the kernel command line it prints "SLAAC <address>" once eth0 has a global
# IPv6 address (the kernel's SLAAC), then "PING6 ok|fail IP" after pinging IP from it.
# With showcdrom on the kernel command line it also loads the AHCI and CD-ROM drivers and prints
# "CDROM <the first line of the cdrom>" (what QEMU read through the fd netd passed it).
# With showdisks=N it loads the virtio-blk, virtio-scsi, AHCI and SCSI disk drivers, waits (10 s at
# most) for N disks and prints "DISK <name> <sectors> ro=<0|1>" for each of /sys/block/vd* and sd*,
# then "DISKS-DONE", and later "DISK-ADDED <name> <sectors> ro=<0|1>" / "DISK-REMOVED <name>" for a
# disk that comes or goes (hotplug).
# With headdisk=NAME (vda) it prints "HEAD <the first line of /dev/NAME>" (an overlay's data).
# With showcpus on the kernel command line it prints "CPUS <online list>" (/sys/devices/system/cpu/
# online) at boot and whenever it changes, and onlines each CPU that appears offline (a vCPU plugged
# live: without udev the kernel leaves it offline). The balloon's driver (virtio_balloon) is always
# loaded: QMP 'balloon' takes memory back through it.
# With showseed on the kernel command line it loads virtio-blk and vfat, mounts the disk labelled
# CIDATA (a cloud-init NoCloud seed) read-only and prints "SEED-INSTANCE <instance-id>",
# "SEED-HOSTNAME <local-hostname>", "SEED-RO <0|1>" (the block device's read-only flag),
# "SEED-FILES <names>" and "SEED-MD5 <file> <md5>" for each file, or "SEED-MISSING".
# With shownics on the kernel command line, a NIC that appears later (vm attach-nic) is brought up,
# "NIC-ADDED ethN <mac>" printed, and udhcpc run on it: its lease prints "LEASE-ethN <ip>/<mask>"
# (no route); a NIC that goes (vm detach-nic) prints "NIC-REMOVED ethN".
# With showuuid on the kernel command line it prints "SMBIOS-UUID <uuid>" (QEMU's -uuid, as the
# guest's firmware tables give it).
# With snapcount on the kernel command line it loads virtio-blk and keeps a counter in the first
# sector of /dev/vda: each second it reads the number there (page cache dropped: from the disk),
# writes the next one back (synced) and prints "COUNT <n>". A snapshot revert shows as the count
# going back (vm snapshot: the disk and the guest's memory).
set -euo pipefail

out=${1:?usage: build-initramfs.sh OUTDIR}
skip() { echo "SKIP: $*" >&2; exit 77; }

kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$kernel" ] && [ -r "$kernel" ] || skip "no kernel image in /boot (install linux-image-amd64)"
kver=${kernel#/boot/vmlinuz-}
moddir=/lib/modules/$kver/kernel
[ -d "$moddir" ] || skip "no modules for $kver in /lib/modules"
bb=$(command -v busybox || true)
[ -n "$bb" ] && file -L "$bb" 2>/dev/null | grep -q 'statically linked' || bb=/bin/busybox
[ -x "$bb" ] || skip "busybox-static is not installed"
ldd "$bb" >/dev/null 2>&1 && skip "$bb is not statically linked (install busybox-static)"

mods="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci net/core/failover
drivers/net/net_failover drivers/net/virtio_net drivers/acpi/button drivers/input/evdev
drivers/scsi/scsi_common drivers/scsi/scsi_mod drivers/ata/libata drivers/ata/libahci drivers/ata/ahci
drivers/cdrom/cdrom drivers/scsi/sr_mod
drivers/block/virtio_blk drivers/scsi/virtio_scsi crypto/crct10dif_common crypto/crct10dif_generic
lib/crc-t10dif lib/crc64 crypto/crc64_rocksoft_generic lib/crc64-rocksoft block/t10-pi drivers/scsi/sd_mod drivers/virtio/virtio_balloon
fs/fat/fat fs/fat/vfat fs/nls/nls_cp437 fs/nls/nls_utf8 fs/nls/nls_ascii"

mkdir -p "$out"
img="$out/initramfs-$kver.cpio.gz"
stamp="$out/.stamp-$kver"
self_sum=$(md5sum "$0" | cut -d' ' -f1)
if [ -f "$img" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$self_sum" ]; then
	echo "$kernel $img"
	exit 0
fi

root=$(mktemp -d "$out/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,etc/udhcpc,lib/modules,tmp,run}
cp "$bb" "$root/bin/busybox"
for m in $mods; do
	f=$(ls "$moddir/$m".ko* 2>/dev/null | head -n 1) || true
	[ -n "$f" ] || skip "module $m missing under $moddir"
	case $f in
	*.ko.xz) xz -dc "$f" >"$root/lib/modules/$(basename "$m").ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$root/lib/modules/$(basename "$m").ko" ;;
	*.ko.gz) gzip -dc "$f" >"$root/lib/modules/$(basename "$m").ko" ;;
	*) cp "$f" "$root/lib/modules/" ;;
	esac
done

cat >"$root/etc/udhcpc/script" <<'SCRIPT'
#!/bin/sh
case "$1" in
deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
bound|renew)
	ip -4 addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	# a NIC attached later (shownics): its lease only, eth0 keeps the default route
	if [ "$interface" != eth0 ]; then
		echo "LEASE-$interface $ip/${mask:-24}" >/dev/console
		exit 0
	fi
	[ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
	echo "LEASE $ip/${mask:-24} router ${router%% *}" >/dev/console
	[ -n "$router" ] && ping -c 1 -W 2 "${router%% *}" >/dev/null 2>&1 &&
		echo "GATEWAY-PING ok ${router%% *}" >/dev/console
	# probe=IP on the kernel command line: ask IP's port 7000 who we are (the tests' upstream).
	# spoof=IP: ping the gateway from IP, an address the guest was not given (port security).
	for a in $(cat /proc/cmdline); do
		case $a in
		probe=*) echo "UPSTREAM-SAYS $(echo | nc -w 3 "${a#probe=}" 7000 | tr -d '\r\n')" >/dev/console ;;
		spoof=*)
			ip addr add "${a#spoof=}/32" dev "$interface" 2>/dev/null
			ping -c 2 -W 2 -I "${a#spoof=}" "${router%% *}" >/dev/null 2>&1 && r=ok || r=fail
			echo "SPOOF-PING $r ${a#spoof=}" >/dev/console
			;;
		esac
	done
	;;
esac
exit 0
SCRIPT

cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover \
	net_failover virtio_net button evdev virtio_balloon; do
	insmod /lib/modules/$m.ko 2>/dev/null
done
echo "GUEST-BOOTED $(cut -d' ' -f1 /proc/uptime)"
if grep -qw showuuid /proc/cmdline; then
	echo "SMBIOS-UUID $(cat /sys/class/dmi/id/product_uuid 2>&1)"
fi
if grep -qw showseed /proc/cmdline; then
	for m in virtio_blk fat vfat nls_cp437 nls_utf8 nls_ascii; do
		insmod /lib/modules/$m.ko 2>/dev/null
	done
	(dev=
	for _ in $(seq 1 100); do
		dev=$(findfs LABEL=CIDATA 2>/dev/null || findfs LABEL=cidata 2>/dev/null) && break
		sleep 0.1
	done
	mkdir -p /seed
	if [ -n "$dev" ] && mount -t vfat -o ro "$dev" /seed; then
		echo "SEED-INSTANCE $(sed -n 's/^instance-id: "\(.*\)"$/\1/p' /seed/meta-data)"
		echo "SEED-HOSTNAME $(sed -n 's/^local-hostname: "\(.*\)"$/\1/p' /seed/meta-data)"
		echo "SEED-DEV $dev"
		echo "SEED-RO $(cat "/sys/block/${dev##*/}/ro")"
		echo "SEED-FILES $(ls /seed | tr '\n' ' ')"
		for f in /seed/*; do echo "SEED-MD5 ${f##*/} $(md5sum <"$f" | cut -d' ' -f1)"; done
	else
		echo "SEED-MISSING"
	fi) &
fi
if grep -qw showcdrom /proc/cmdline; then
	for m in scsi_common scsi_mod libata libahci ahci cdrom sr_mod; do
		insmod /lib/modules/$m.ko 2>/dev/null
	done
	(for _ in $(seq 1 100); do [ -b /dev/sr0 ] && break; sleep 0.1; done
	echo "CDROM $(head -c 256 /dev/sr0 2>&1 | tr -d '\000' | head -n 1)") &
fi
for a in $(cat /proc/cmdline); do
	case $a in
	showdisks=*)
		for m in scsi_common scsi_mod libata libahci ahci crct10dif_common crct10dif_generic crc-t10dif \
			crc64 crc64_rocksoft_generic crc64-rocksoft t10-pi sd_mod virtio_blk virtio_scsi; do
			insmod /lib/modules/$m.ko 2>/dev/null
		done
		(for _ in $(seq 1 100); do
			[ "$(ls -d /sys/block/vd* /sys/block/sd* 2>/dev/null | wc -l)" -ge "${a#showdisks=}" ] && break
			sleep 0.1
		done
		for b in /sys/block/vd* /sys/block/sd*; do
			[ -e "$b" ] && echo "DISK ${b##*/} $(cat "$b/size") ro=$(cat "$b/ro")"
		done
		echo "DISKS-DONE"
		# then disks that come and go (vm attach-disk, vm detach-disk)
		old=$(ls -d /sys/block/vd* /sys/block/sd* 2>/dev/null)
		while sleep 0.3; do
			new=$(ls -d /sys/block/vd* /sys/block/sd* 2>/dev/null)
			for b in $new; do
				echo "$old" | grep -qx "$b" ||
					echo "DISK-ADDED ${b##*/} $(cat "$b/size") ro=$(cat "$b/ro")"
			done
			for b in $old; do
				echo "$new" | grep -qx "$b" || echo "DISK-REMOVED ${b##*/}"
			done
			old=$new
		done) &
		;;
	headdisk=*)
		for m in virtio_blk; do
			insmod /lib/modules/$m.ko 2>/dev/null
		done
		(d=/dev/${a#headdisk=}
		for _ in $(seq 1 100); do [ -b "$d" ] && break; sleep 0.1; done
		echo "HEAD $(head -c 256 "$d" 2>&1 | tr -d '\000' | head -n 1)") &
		;;
	esac
done
if grep -qw snapcount /proc/cmdline; then
	insmod /lib/modules/virtio_blk.ko 2>/dev/null
	(for _ in $(seq 1 100); do [ -b /dev/vda ] && break; sleep 0.1; done
	while true; do
		sync
		echo 3 >/proc/sys/vm/drop_caches
		n=$(head -c 32 /dev/vda | head -n 1 | tr -dc 0-9)
		n=$((${n:-0} + 1))
		echo "$n" | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null
		echo "COUNT $n"
		sleep 1
	done) &
fi
if grep -qw showcpus /proc/cmdline; then
	(last=
	while true; do
		for c in /sys/devices/system/cpu/cpu[0-9]*/online; do
			[ "$(cat "$c" 2>/dev/null)" = 0 ] && echo 1 >"$c" 2>/dev/null
		done
		now=$(cat /sys/devices/system/cpu/online)
		[ "$now" != "$last" ] && echo "CPUS $now"
		last=$now
		sleep 0.3
	done) &
fi
# ACPI power button (QMP system_powerdown) -> power off.
for ev in /sys/class/input/event*; do
	[ "$(cat $ev/device/name 2>/dev/null)" = "Power Button" ] || continue
	(head -c 1 /dev/input/${ev##*/} >/dev/null; echo "GUEST-POWERDOWN"; poweroff -f) &
done
ip link set lo up
for f in /sys/class/net/eth*; do ip link set "${f##*/}" up; done
# ping6=IP on the kernel command line: once eth0 has a global IPv6 address (the kernel's SLAAC from
# the network's router advertisements; DAD done), say which, and ping IP from it, so that the host
# learns it in its neighbour table (where vm show finds it).
for a in $(cat /proc/cmdline); do
	case $a in
	ping6=*)
		(for _ in $(seq 1 120); do
			s=$(ip -6 addr show dev eth0 | grep 'scope global' | grep -v tentative |
				sed -n 's/.*inet6 \([^/]*\)\/.*/\1/p' | head -n 1)
			[ -n "$s" ] && break
			sleep 0.25
		done
		echo "SLAAC ${s:-none}"
		r=fail
		for _ in 1 2 3 4 5; do
			[ -n "$s" ] && ping -6 -c 1 -W 2 -I "$s" "${a#ping6=}" >/dev/null 2>&1 && { r=ok; break; }
		done
		echo "PING6 $r ${a#ping6=}") &
		;;
	esac
done
# -t/-T: retry quickly; the link flap of a network move makes udhcpc re-discover.
udhcpc -i eth0 -s /etc/udhcpc/script -t 20 -T 1 -A 1 -b -R
# Say when a NIC's link goes down or comes back (vm set-network flaps it); renew at once when
# eth0's comes back.
(while sleep 0.3; do
	for f in /sys/class/net/eth*; do
		n=${f##*/}
		c=$(cat "$f/carrier" 2>/dev/null || echo 0)
		eval "last=\${last_$n:-1}"
		if [ "$c" = 1 ] && [ "$last" = 0 ]; then
			echo "LINK-UP $n"
			if [ "$n" = eth0 ]; then
				killall udhcpc; udhcpc -i eth0 -s /etc/udhcpc/script -t 20 -T 1 -A 1 -b -R
			fi
		elif [ "$c" = 0 ] && [ "$last" = 1 ]; then
			echo "LINK-DOWN $n"
		fi
		eval "last_$n=$c"
	done
done) &
# shownics: NICs that come and go (vm attach-nic, vm detach-nic)
if grep -qw shownics /proc/cmdline; then
	(old=$(ls -d /sys/class/net/eth* 2>/dev/null)
	while sleep 0.3; do
		new=$(ls -d /sys/class/net/eth* 2>/dev/null)
		for f in $new; do
			echo "$old" | grep -qx "$f" && continue
			n=${f##*/}
			echo "NIC-ADDED $n $(cat "$f/address")"
			ip link set "$n" up
			udhcpc -i "$n" -s /etc/udhcpc/script -t 20 -T 1 -A 1 -b -R -p "/run/udhcpc-$n.pid"
		done
		for f in $old; do
			echo "$new" | grep -qx "$f" || echo "NIC-REMOVED ${f##*/}"
		done
		old=$new
	done) &
fi
while true; do sleep 3600; done
INIT
chmod +x "$root/init" "$root/etc/udhcpc/script"
for a in $("$bb" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
done
ln -sf ../bin/busybox "$root/sbin/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$img.tmp"
mv "$img.tmp" "$img"
echo "$self_sum" >"$stamp"
echo "$kernel $img"
