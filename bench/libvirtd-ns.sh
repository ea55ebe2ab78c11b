# Run by lib.sh's start_libvirtd inside 'ip netns exec NS unshare -m': libvirt 9.0's libvirtd
# as a baseline, with its own /etc/libvirt, /run/libvirt and /var/lib/libvirt (directories under
# $1, bound over the real ones in this private mount namespace only) and a passwd/group that
# know the libvirt-qemu user Debian's build expects (libvirt-daemon-system would create it).
set -euo pipefail
D=$1
for d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
	mkdir -p "$D$d" "$d"
	mount --bind "$D$d" "$d"
done
printf 'user = "root"\ngroup = "root"\nstdio_handler = "file"\n' >/etc/libvirt/qemu.conf
cp /etc/passwd "$D/passwd"
cp /etc/group "$D/group"
echo 'libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin' >>"$D/passwd"
echo 'libvirt-qemu:x:64055:' >>"$D/group"
mount --bind "$D/passwd" /etc/passwd
mount --bind "$D/group" /etc/group
ip link set lo up
exec libvirtd --pid-file "$D/libvirtd.pid"
