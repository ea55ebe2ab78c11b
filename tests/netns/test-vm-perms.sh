#!/usr/bin/env bash
# Who may give a guest which files, and who may see its consoles (issue 12, attacks 3, 5 and 6),
# with real QEMU (TCG) and a real unprivileged operator (a throw-away user in group netd):
# - the operator's --cdrom of a root-only file, --disk of a block device node anyone may open (only
#   netd's rule stops it), a kernel outside the image directories, a symlink out of them, a qcow2
#   whose backing file is /etc/shadow, and 'vm start' of a hand-written definition naming the
#   root-only file: each refused with one clear line, nothing changed; the operator's own guest
#   from the image directory runs;
# - root may: its guest's cdrom is that root-only file and the guest prints it (the fd netd passed
#   works); QEMU runs as netd-qemu, cannot regain privileges, names no path on its command line,
#   keeps no copy of the kernel once QMP answered, and the guest gets its lease and pings its
#   gateway; the operator may not start root's guest again;
# - --vnc 0 listens on 127.0.0.1:5900 only (a guest of another network cannot connect) and wants a
#   password (any local user can reach the loopback);
#   --vnc 0.0.0.0:1 asks for a password (RFB security type 2), which 'vm show' gives;
# - user nobody can list no guest run dir and read no log; an operator reads serial.log and
#   attaches to the console;
# - at boot a guest starts with the rights of who created it (owner = in the definition, groups
#   looked up again: an owner who left group netd gets no autostart); the operator's guest, edited by hand
#   to name the root-only file, is refused; root's guest starts.
. "$(dirname "$0")/lib.sh"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] || skip "qemu-system-x86_64 missing"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
command -v socat >/dev/null || skip "socat missing"
getent group netd >/dev/null || skip "no group netd (run scripts/install-deps)"
getent passwd netd-qemu >/dev/null || skip "no user netd-qemu (run scripts/install-deps)"
guest_image

OP="netdt-op-$$"
add_user "$OP" netd
OP_UID=$(id -u "$OP")
op() { run_as "$OP" "$NETDCTL" --socket "$SOCK" "$@"; }

# The image directory holds the operator's kernel and initrd, a root-only secret, a block device
# node anyone may open, and a symlink and a qcow2 that lead out of it.
IMAGES=$T/images
mkdir -p "$IMAGES" "$T/outside" "$T/etc/guests"
chmod 0755 "$IMAGES" "$T/outside"
install -m 0644 "$KERNEL" "$IMAGES/vmlinuz"
install -m 0644 "$INITRD" "$IMAGES/initrd"
install -m 0644 "$KERNEL" "$T/outside/vmlinuz"
SECRET_TEXT="NETD-SECRET-$RANDOM$RANDOM"
SECRET=$IMAGES/secret.iso
{ echo "$SECRET_TEXT"; head -c 4096 /dev/zero; } | head -c 4096 >"$SECRET" # whole CD sectors
chmod 0600 "$SECRET"
mknod -m 0666 "$IMAGES/disk0" b 7 0
ln -s /etc/shadow "$IMAGES/shadow.iso"
if command -v qemu-img >/dev/null; then
	qemu-img create -q -f qcow2 -u -b /etc/shadow -F raw "$IMAGES/evil.qcow2" 64M
	chmod 0666 "$IMAGES/evil.qcow2"
fi
# A definition written by hand (root writes the config dir): its cdrom is the secret.
cat >"$T/etc/guests/h1.conf" <<EOF
[guest]
memory = 128M
kernel = $IMAGES/vmlinuz
initrd = $IMAGES/initrd
cdrom = $SECRET
accel = tcg
autostart = no

[nic0]
network = n1
EOF

start_netd --image-dir "$IMAGES"
ctl network create n1 --mode nat --subnet 10.83.0.0/24 >/dev/null
ctl network create n2 --mode nat --subnet 10.84.0.0/24 >/dev/null
qemu_pids() {
	for pid in $(ip netns pids "$NS"); do
		if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = qemu-system-x86 ]; then echo "$pid"; fi
	done | sort
}
# What a refused request must leave alone: lib.sh's snapshot, guests' run dirs, QEMU processes.
state() { snapshot; find "$T/run/guests" 2>/dev/null | sort; qemu_pids; }

# ---- attack 3: an operator names files it could not open, devices, paths out of the images ----
# op_refused "expected error" ARGS...: the operator's request fails with that one line, changes nothing.
op_refused() {
	local msg=$1 rc=0 before
	shift
	before=$(state)
	op "$@" >"$T/out" 2>"$T/err" || rc=$?
	assert_eq "$rc" 1 "exit code of the operator's '$*' ($(cat "$T/err"))"
	grep -qF -- "$msg" "$T/err" || fail "operator's '$*': expected \"$msg\", got: $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" -le 1 ] || fail "operator's '$*': error is not one line: $(cat "$T/err")"
	[ "$before" = "$(state)" ] || fail "operator's '$*' changed state: $(diff <(echo "$before") <(state) | tr "\n" " ")"
	ok "operator refused: $(cat "$T/err")"
}
B="--network n1 --memory 128M --accel tcg"
op_refused "guest 'a1': cdrom $SECRET: permission denied for uid $OP_UID (the file must be readable by the user who starts the guest)" \
	vm create a1 $B --kernel "$IMAGES/vmlinuz" --initrd "$IMAGES/initrd" --cdrom "$SECRET"
op_refused "guest 'a2': disk $IMAGES/disk0 is a block device: only root may give guests block devices" \
	vm create a2 $B --disk "$IMAGES/disk0"
op_refused "guest 'a3': kernel $T/outside/vmlinuz is outside the image directories ($IMAGES); only root may use other paths" \
	vm create a3 $B --kernel "$T/outside/vmlinuz"
op_refused "guest 'a4': cdrom $IMAGES/shadow.iso (really /etc/shadow) is outside the image directories ($IMAGES)" \
	vm create a4 $B --kernel "$IMAGES/vmlinuz" --cdrom "$IMAGES/shadow.iso"
if [ -e "$IMAGES/evil.qcow2" ]; then
	op_refused "guest 'a5': disk $IMAGES/evil.qcow2 is a qcow2 image with a backing or data file, which QEMU would open by path" \
		vm create a5 $B --disk "$IMAGES/evil.qcow2,format=qcow2"
fi
op_refused "guest 'h1': cdrom $SECRET: permission denied for uid $OP_UID" vm start h1

# The operator's own qcow2 disk runs (QEMU starts it paused, netd looks at what it opened, then
# lets it run); the same image given a backing file between netd's check and QEMU's read of its
# header is refused once QEMU opened it, and QEMU is killed before the guest ran.
if command -v qemu-img >/dev/null; then
	qemu-img create -q -f qcow2 "$IMAGES/d.qcow2" 16M
	qemu-img create -q -f qcow2 -u -b "$IMAGES/vmlinuz" -F raw "$T/evil-header.qcow2" 16M
	chown "$OP" "$IMAGES/d.qcow2"
	chmod 0644 "$T/evil-header.qcow2"
	op vm create q1 $B --disk "$IMAGES/d.qcow2,format=qcow2" --no-autostart >/dev/null
	op vm start q1 >/dev/null
	assert_eq "$(vm_field q1 .state)" running "state of the operator's qcow2 guest"
	op vm destroy q1 >/dev/null
	run_as "$OP" /usr/bin/python3 "$TESTS_LIB_DIR/swap-on-read.py" "$IMAGES/d.qcow2" "$T/evil-header.qcow2" 1 \
		>"$T/swap.out" &
	SWAP=$!
	for _ in $(seq 1 50); do grep -q watching "$T/swap.out" && break; sleep 0.05; done
	rc=0
	op vm start q1 >/dev/null 2>"$T/err" || rc=$?
	wait $SWAP || true
	grep -q swapped "$T/swap.out" || fail "the image was not rewritten during the start"
	assert_eq "$rc" 1 "exit code of starting q1 with its header rewritten ($(cat "$T/err"))"
	grep -qF "guest 'q1': QEMU opened another file than netd passed: " "$T/err" ||
		fail "q1's start: $(cat "$T/err")"
	for _ in $(seq 1 50); do [ "$(vm_field q1 .state)" = stopped ] && break; sleep 0.1; done
	assert_eq "$(vm_field q1 .state)" stopped "q1 after the refused start"
	ok "an operator's qcow2 runs; given a backing file after netd's check, QEMU is killed before the guest runs: $(cat "$T/err")"
	op vm delete q1 >/dev/null
fi

# The operator's own guest from the image directory runs (and its display wants a password).
op vm create m1 --network n2 --memory 128M --kernel "$IMAGES/vmlinuz" --initrd "$IMAGES/initrd" \
	--append "console=ttyS0 quiet" --accel tcg --vnc 0.0.0.0:1 >/dev/null
assert_eq "$(vm_field m1 .state)" running "state of the operator's guest"
assert_eq "$(stat -c '%a %U %G' "$T/etc/guests/m1.conf")" "640 root netd" "mode of the operator's definition"
grep -qx "owner = $OP_UID" "$T/etc/guests/m1.conf" || fail "the definition names no owner: $(cat "$T/etc/guests/m1.conf")"
ok "the operator's guest from $IMAGES runs; its definition (0640 root:netd) names its creator (uid $OP_UID)"

# ---- attack 5: VNC off the loopback asks for a password ----
# The RFB greeting, then our version: the server answers with its security types (1 none, 2 VNC).
rfb=$(nsx bash -c '{ sleep 0.5; printf "RFB 003.008\n"; sleep 1; } | socat -t 2 - TCP:127.0.0.1:5901' |
	od -An -tx1 | tr -d ' \n')
assert_eq "$rfb" "524642203030332e3030380a0102" "RFB version and security types of --vnc 0.0.0.0:1"
pw=$(vm_field m1 .vnc.password)
[[ $pw =~ ^[A-Za-z0-9]{8}$ ]] || fail "vm show gives no VNC password: $(ctl --json vm show m1 | jq -c .vnc)"
grep -q "cannot set the VNC password" "$T/netd.log" && fail "netd could not set the VNC password"
ok "--vnc 0.0.0.0:1: the display asks for a password (security type 2 only); vm show gives it ($pw)"
op vm destroy m1 >/dev/null

# ---- root may, and QEMU runs without root ----
t0=$(date +%s%N)
ctl vm create g1 --network n1 --memory 256M --kernel "$KERNEL" --initrd "$INITRD" --cdrom "$SECRET" \
	--append "console=ttyS0 quiet showcdrom" --accel tcg --vnc 0 >/dev/null
pid=$(vm_field g1 .pid)
assert_eq "$(ps -o user= -p "$pid")" netd-qemu "QEMU's user"
uid=$(id -u netd-qemu)
assert_eq "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")" "$uid $uid $uid $uid" "QEMU's uids"
assert_eq "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$pid/status")" 1 "QEMU's NoNewPrivs"
groups=" $(awk '/^Groups:/ {$1 = ""; print}' "/proc/$pid/status") "
for g in 0 "$(getent group netd | cut -d: -f3)"; do
	[[ $groups == *" $g "* ]] && fail "QEMU has group $g: $groups"
done
tr '\0' '\n' <"/proc/$pid/cmdline" >"$T/cmdline"
grep -F -e "$T" -e /boot -e "$IMAGES" "$T/cmdline" && fail "QEMU's command line names a path"
wait_serial g1 "^CDROM $SECRET_TEXT" >/dev/null
ok "root's guest read its cdrom, a root-only file, through netd's fd: QEMU runs as netd-qemu (uid $uid, no_new_privs), its argv names no path"
lease=$(wait_serial g1 '^LEASE 10\.83\.0\.')
wait_serial g1 '^GATEWAY-PING ok 10.83.0.1' >/dev/null
ok "the guest got ${lease#LEASE } and pinged its gateway, $((($(date +%s%N) - t0) / 1000000)) ms after create"
kernel_fd=$(find "/proc/$pid/fd" -lname '/memfd:netd-kernel*' | head -n1)
[ -n "$kernel_fd" ] || fail "QEMU has no kernel memfd"
assert_eq "$(stat -L -c %s "$kernel_fd")" 0 "size of the kernel's copy once QMP answered"
ok "the kernel's copy is emptied once QMP answered"

# Another QEMU (the same user) taken over by its guest: a process of netd-qemu's in a Landlock
# domain of its own, as netd puts each QEMU, cannot read root's guest's initrd through /proc; the
# same process outside a domain can (what the domains stop).
initrd_fd=$(find "/proc/$pid/fd" -lname '/memfd:netd-initrd*' | head -n1)
[ -n "$initrd_fd" ] || fail "QEMU has no initrd memfd"
as_qemu() { setpriv --reuid=netd-qemu --regid=netd-qemu --init-groups /usr/bin/python3 "$TESTS_LIB_DIR/landlocked-read.py" "$@"; }
if [ "$(as_qemu --landlock /proc/self/status)" = "landlock unavailable" ]; then
	echo "SKIP (part): this kernel has no Landlock; QEMUs are not kept out of each other's /proc"
else
	assert_eq "$(as_qemu "$initrd_fd")" "read 4096 bytes" "netd-qemu outside a domain reading $initrd_fd"
	assert_eq "$(as_qemu --landlock "$initrd_fd")" "error: Permission denied" "a landlocked netd-qemu reading $initrd_fd"
	ok "a QEMU-like process in its own Landlock domain cannot read root's guest's initrd via /proc (outside one it can)"
fi

# --vnc 0: the loopback only; another network's guest cannot reach it.
nsx ss -ltnH >"$T/listen"
grep -qE '127\.0\.0\.1:5900 ' "$T/listen" || fail "nothing listens on 127.0.0.1:5900: $(cat "$T/listen")"
grep -E '(0\.0\.0\.0|\*|\[::\]):5900 ' "$T/listen" && fail "VNC listens on every address"
add_guest x 52:54:00:99:00:01 nd-n2
gx x ip addr add 10.84.0.77/24 dev eth0
gx x ip route add default via 10.84.0.1
gx x timeout 3 bash -c 'exec 3<>/dev/tcp/10.84.0.1/53' || fail "the other network's guest cannot reach its own gateway's DNS"
gx x timeout 3 bash -c 'exec 3<>/dev/tcp/10.83.0.1/5900' 2>/dev/null && fail "the other network's guest reached g1's VNC"
gx x timeout 3 bash -c 'exec 3<>/dev/tcp/10.84.0.1/5900' 2>/dev/null && fail "a guest reached g1's VNC on its gateway"
vm_field g1 .vnc.connect | has -F "ssh -L 5900:127.0.0.1:5900" || fail "vm show: $(vm_field g1 .vnc.connect)"
# Any local user reaches the loopback: the display wants the password there too.
rfb=$(nsx setpriv --reuid=65534 --regid=65534 --clear-groups bash -c \
	'{ sleep 0.5; printf "RFB 003.008\n"; sleep 1; } | socat -t 2 - TCP:127.0.0.1:5900' | od -An -tx1 | tr -d ' \n')
assert_eq "$rfb" "524642203030332e3030380a0102" "RFB security types of --vnc 0 for a local user (nobody)"
[[ $(vm_field g1 .vnc.password) =~ ^[A-Za-z0-9]{8}$ ]] || fail "vm show gives no VNC password for --vnc 0"
ok "--vnc 0 listens on 127.0.0.1:5900 only and wants the password (nobody gets security type 2 only); another network's guest reaches its gateway's DNS, not the display"

# ---- attack 6: consoles and logs are for root and operators ----
dir=$T/run/guests/g1
assert_eq "$(stat -c '%a %U %G' "$T/run/guests" "$dir" "$dir/serial.log" "$dir/qemu.log" "$dir/console.sock" "$dir/qmp.sock" | tr '\n' ,)" \
	"750 root netd,750 root netd,640 root netd,640 root netd,660 root netd,600 root netd," "modes of the run dir"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
nobody ls "$T/run/guests" >/dev/null 2>&1 && fail "nobody lists the guests' run dirs"
nobody ls "$dir" >/dev/null 2>&1 && fail "nobody lists g1's run dir"
nobody cat "$dir/serial.log" >/dev/null 2>&1 && fail "nobody reads g1's serial log"
nobody cat "$dir/qemu.log" >/dev/null 2>&1 && fail "nobody reads g1's qemu.log"
nobody cat "$T/etc/guests/g1.conf" >/dev/null 2>&1 && fail "nobody reads g1's definition (paths, kernel command line)"
nobody cat "$T/lib/networks/n1/leases" >/dev/null 2>&1 && fail "nobody reads n1's leases (guests' MACs, addresses, names)"
run_as "$OP" cat "$T/lib/networks/n1/leases" >/dev/null || fail "an operator cannot read n1's leases"
run_as "$OP" cat "$dir/serial.log" | has "^CDROM" || fail "an operator cannot read the serial log"
op vm console g1 </dev/null 2>"$T/err" >/dev/null || fail "operator's vm console: $(cat "$T/err")"
grep -q "Connected to the console of 'g1'" "$T/err" || fail "operator's vm console: $(cat "$T/err")"
ok "nobody lists no run dir and reads neither serial.log, qemu.log, definitions nor leases; an operator reads serial.log and leases and attaches to the console"

# Checked again at each start, with the starter's rights: root's guest is not the operator's.
op vm destroy g1 >/dev/null
for _ in $(seq 1 50); do link_field nd-n1 .flags | has NO-CARRIER && break; sleep 0.1; done # linkwatch lags
op_refused "guest 'g1': kernel $KERNEL is outside the image directories ($IMAGES)" vm start g1

# ---- at boot: the rights of who created the guest ----
sed -i "s|^\[guest\]$|[guest]\ncdrom = $SECRET|" "$T/etc/guests/m1.conf"
stop_netd
rm -rf "$T/run/networks" # netd takes this for a boot: guests with autostart start
start_netd --image-dir "$IMAGES"
for _ in $(seq 1 100); do [ "$(vm_field g1 .state)" = running ] && break; sleep 0.1; done
assert_eq "$(vm_field g1 .state)" running "root's guest after a boot"
assert_eq "$(vm_field m1 .state)" stopped "the operator's hand-edited guest after a boot"
grep -qF "guest 'm1': autostart failed: guest 'm1': cdrom $SECRET: permission denied for uid $OP_UID" "$T/netd.log" ||
	fail "autostart of m1 not refused: $(grep m1 "$T/netd.log" | tail -n 5)"
ok "at boot root's guest started and the operator's, edited to name the secret, was refused with the operator's rights"

# An owner who left group netd is no operator: their guest does not start at boot. Losing the
# state dir changes nothing (the owner is in the definition, which only root and netd write).
sed -i "\|^cdrom = $SECRET\$|d" "$T/etc/guests/m1.conf"
gpasswd -d "$OP" netd >/dev/null
rm -rf "$T/lib/guests/m1"
ctl vm destroy g1 >/dev/null
stop_netd
rm -rf "$T/run/networks"
start_netd --image-dir "$IMAGES"
for _ in $(seq 1 100); do [ "$(vm_field g1 .state)" = running ] && break; sleep 0.1; done
assert_eq "$(vm_field m1 .state)" stopped "the guest of an owner who left group netd, after a boot"
grep -qF "guest 'm1': not started at boot: its owner $OP is no longer in group netd" "$T/netd.log" ||
	fail "autostart of m1 not refused: $(grep m1 "$T/netd.log" | tail -n 5)"
ok "at boot the guest of an owner who left group netd does not start (state dir lost or not)"
ctl vm destroy g1 >/dev/null
