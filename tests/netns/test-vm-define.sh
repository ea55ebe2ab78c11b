#!/usr/bin/env bash
# vm dump and vm define with real QEMU (TCG) and the test guest:
# - 'vm dump' prints the definition with the guest's identity (uuid, generated MACs); --json gives
#   the same text and the parsed fields;
# - define over the running guest is refused, and so is an invalid file (with its line): nothing
#   changes (files in the config and state dirs, links, processes);
# - dump -> destroy -> delete -> define -> start gives the same guest: the same definition file, the
#   same MACs (the same lease), the same SMBIOS UUID (the guest prints it); a kill -9 of netd after
#   that, and the restarted netd adopts it (adoption checks the uuid on QEMU's command line);
# - an operator (a throw-away user in group netd) may not define a guest owned by root or by another
#   user; without an owner line the guest is theirs; netdctl reads the file with the operator's
#   rights (a root-only file is not sent, nor a FIFO); they may not replace root's guest, nor write
#   over a definition file that failed to load.
. "$(dirname "$0")/lib.sh"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] || skip "qemu-system-x86_64 missing"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
getent group netd >/dev/null || skip "no group netd (run scripts/install-deps)"
getent passwd netd-qemu >/dev/null || skip "no user netd-qemu (run scripts/install-deps)"
guest_image

IMAGES=$T/images
mkdir -p "$IMAGES" "$T/files"
chmod 0755 "$IMAGES" "$T/files"
install -m 0644 "$KERNEL" "$IMAGES/vmlinuz"
install -m 0644 "$INITRD" "$IMAGES/initrd"
start_netd --image-dir "$IMAGES"
ctl network create n1 --mode nat --subnet 10.86.0.0/24 >/dev/null
# The bridge loses its carrier a moment after the guest's taps go: wait for it before a snapshot.
settle() { for _ in $(seq 1 50); do nsx ip -j link show dev "$1" | grep -q NO-CARRIER && return; sleep 0.1; done; }
alive() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
qemu_pids() {
	for pid in $(ip netns pids "$NS"); do
		if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = qemu-system-x86 ]; then echo "$pid"; fi
	done | sort
}
state() { snapshot; find "$T/run/guests" "$T/lib" "$T/etc" 2>/dev/null | sort; qemu_pids; }
# refused EXIT "message" CMD...: fails with that exit code and one line, changes nothing.
refused() {
	local code=$1 msg=$2 rc=0 before
	shift 2
	before=$(state)
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	assert_eq "$rc" "$code" "exit code of '$*' ($(cat "$T/err"))"
	grep -qF -- "$msg" "$T/err" || fail "'$*': expected \"$msg\", got: $(cat "$T/err")"
	[ "$(grep -vcx "Try 'netdctl --help'." "$T/err")" -le 1 ] || fail "'$*': error is not one line: $(cat "$T/err")"
	[ "$before" = "$(state)" ] || fail "'$*' changed state: $(diff <(echo "$before") <(state) | tr "\n" " ")"
	ok "refused: $(head -n 1 "$T/err")"
}

ctl vm create g1 --network n1 --network n1 --memory 128M --kernel "$IMAGES/vmlinuz" --initrd "$IMAGES/initrd" \
	--append "console=ttyS0 quiet showuuid" --accel tcg >/dev/null
lease1=$(wait_serial g1 '^LEASE 10\.86\.0\.')
uuid1=$(wait_serial g1 '^SMBIOS-UUID ' | cut -d' ' -f2 | tr A-F a-f)
macs1=$(ctl --json vm show g1 | jq -c '[.nics[].mac]')
conf1=$(cat "$T/etc/guests/g1.conf")
ok "g1 runs: ${lease1}, SMBIOS UUID $uuid1, MACs $macs1"

# ---- dump ----
ctl vm dump g1 >"$T/files/g1.conf"
grep -qx "uuid = $uuid1" "$T/files/g1.conf" || fail "the dump's uuid is not the guest's ($uuid1): $(cat "$T/files/g1.conf")"
assert_eq "$(grep -x 'generated-mac = .*' "$T/files/g1.conf" | sed 's/.* = //' | jq -Rsc 'split("\n")[:-1]')" \
	"$macs1" "the dump's generated MACs"
grep -q '^generated-mac = \|^uuid = ' "$T/etc/guests/g1.conf" && fail "the definition file holds the identity"
assert_eq "$(grep -v '^uuid = \|^generated-mac = ' "$T/files/g1.conf")" "$conf1" "the dump without its identity"
ctl --json vm dump g1 >"$T/dump.json"
assert_eq "$(jq -r .text "$T/dump.json")" "$(cat "$T/files/g1.conf")" "--json's text"
assert_eq "$(jq -r .definition.guest.uuid "$T/dump.json")" "$uuid1" "--json's parsed uuid"
assert_eq "$(jq -r .definition.nic1.network "$T/dump.json")" n1 "--json's parsed [nic1] network"
ok "vm dump g1: the definition file's text plus uuid and generated-mac lines; --json the same text, parsed"

# ---- refused: a running guest, invalid files ----
refused 1 "guest 'g1' is running: shut it down first" ctl vm define "$T/files/g1.conf"
printf '[guest]\nkernel = %s\nmemory = lots\n[nic0]\nnetwork = n1\n' "$IMAGES/vmlinuz" >"$T/files/bad.conf"
refused 1 "cannot define guest 'bad': line 3: invalid memory 'lots'" ctl vm define "$T/files/bad.conf"
sed 's/^\[nic1\]$/[nic9]/' "$T/files/g1.conf" >"$T/files/bad.conf"
refused 1 "cannot define guest 'bad': line " ctl vm define "$T/files/bad.conf"
printf '[guest]\nkernel = %s\n[nic0]\nnetwork = n9\n' "$IMAGES/vmlinuz" >"$T/files/bad.conf"
refused 1 "cannot define guest 'bad': unknown network 'n9'" ctl vm define "$T/files/bad.conf"
sed 's/^uuid = .*/owner = 0/' "$T/files/g1.conf" >"$T/files/bad.conf"
refused 1 "line " ctl vm define "$T/files/bad.conf" --name g1x
# The same identity under another name: the MACs are g1's on the same network.
refused 1 "is already used on network 'n1' by guest 'g1'" ctl vm define "$T/files/g1.conf" --name g1x
head -c 40000 /dev/zero | tr '\0' '#' >"$T/files/big.conf"
refused 2 "is larger than 32768 bytes" ctl vm define "$T/files/big.conf"
refused 2 "give the guest's name with --name NAME" ctl vm define "$T/files/g1.dump"

# ---- dump -> delete -> define -> start: the same guest ----
pid=$(vm_field g1 .pid)
ctl vm destroy g1 >/dev/null
ctl vm delete g1 >/dev/null
[ -e "$T/lib/guests/g1" ] && fail "vm delete left the state dir"
ctl --json vm define "$T/files/g1.conf" >"$T/define.json"
assert_eq "$(jq -r .replaced "$T/define.json")" false "define's replaced"
assert_eq "$(cat "$T/etc/guests/g1.conf")" "$conf1" "the definition file after define"
assert_eq "$(ctl --json vm show g1 | jq -c '[.nics[].mac]')" "$macs1" "MACs after define"
assert_eq "$(ctl vm dump g1)" "$(cat "$T/files/g1.conf")" "the dump after define"
ctl vm start g1 >/dev/null
lease2=$(wait_serial g1 '^LEASE 10\.86\.0\.')
assert_eq "${lease2%% *} ${lease2#* }" "${lease1%% *} ${lease1#* }" "lease after define"
assert_eq "$(wait_serial g1 '^SMBIOS-UUID ' | cut -d' ' -f2 | tr A-F a-f)" "$uuid1" "SMBIOS UUID after define"
ok "dump, destroy, delete, define, start: the same definition file, MACs $macs1, ${lease2}, UUID $uuid1"
pid=$(vm_field g1 .pid)
kill9_netd
start_netd --image-dir "$IMAGES"
assert_eq "$(vm_field g1 .state)" running "state after a netd restart"
assert_eq "$(vm_field g1 .pid)" "$pid" "pid after a netd restart"
grep -q "guest 'g1': adopted running QEMU (pid $pid)" "$T/netd.log" || fail "adoption not logged"
ok "kill -9 of netd: QEMU $pid adopted (its -uuid is the defined one)"

# ---- replacing a stopped guest's definition ----
ctl vm destroy g1 >/dev/null
settle nd-n1
sed 's/^memory = .*/memory = 160M/' "$T/files/g1.conf" >"$T/files/g1-160.conf"
ctl --json vm define "$T/files/g1-160.conf" --name g1 >"$T/define.json"
assert_eq "$(jq -r .replaced "$T/define.json")" true "define's replaced"
assert_eq "$(vm_field g1 .memory_mib)" 160 "memory after define over the stopped guest"
assert_eq "$(ctl --json vm show g1 | jq -c '[.nics[].mac]')" "$macs1" "MACs after the redefinition"
ok "define over the stopped guest: its new definition (160M), same MACs"

# ---- an operator ----
OP="netdt-op-$$"
add_user "$OP" netd
OP_UID=$(id -u "$OP")
op() { run_as "$OP" "$NETDCTL" --socket "$SOCK" "$@"; }
printf '[guest]\nkernel = %s\nowner = 0\n[nic0]\nnetwork = n1\n' "$IMAGES/vmlinuz" >"$T/files/o1.conf"
chmod 0644 "$T/files/o1.conf"
refused 1 "the file names owner 0, but a guest's owner is who defines it (you are uid $OP_UID" op vm define "$T/files/o1.conf"
sed -i "s/^owner = .*/owner = $(id -u nobody)/" "$T/files/o1.conf"
refused 1 "the file names owner $(id -u nobody)" op vm define "$T/files/o1.conf"
refused 1 "guest 'g1' belongs to uid 0: only its owner or root may replace its definition" op vm define "$T/files/g1-160.conf" --name g1
sed '/^owner = /d' "$T/files/g1-160.conf" >"$T/files/g1-op.conf"
chmod 0644 "$T/files/g1-op.conf"
refused 1 "guest 'g1' belongs to uid 0: only its owner or root may replace its definition" op vm define "$T/files/g1-op.conf" --name g1
# A definition file that failed to load (root's) is not the operator's to overwrite.
printf '[guest]\nkernel = %s\nbogus = 1\n[nic0]\nnetwork = n1\n' "$IMAGES/vmlinuz" >"$T/etc/guests/r9.conf"
ctl reload >/dev/null
refused 1 "cannot define guest 'r9': $T/etc/guests/r9.conf exists but is not loaded" op vm define "$T/files/g1-op.conf" --name r9
rm -f "$T/etc/guests/r9.conf"
# The files a text names are opened with the requester's rights at define (as vm create does).
install -m 0600 "$IMAGES/vmlinuz" "$IMAGES/root-only"
printf '[guest]\nkernel = %s\n[nic0]\nnetwork = n1\n' "$IMAGES/root-only" >"$T/files/o3.conf"
chmod 0644 "$T/files/o3.conf"
refused 1 "cannot define guest 'o3'" op vm define "$T/files/o3.conf"
grep -qF "kernel" "$T/err" || fail "the refusal does not name the kernel: $(cat "$T/err")"
rm -f "$IMAGES/root-only"
# netdctl reads a regular file only: a FIFO does not block it.
mkfifo "$T/files/fifo.conf"
refused 2 "$T/files/fifo.conf is not a regular file" timeout 10 "$NETDCTL" --socket "$SOCK" vm define "$T/files/fifo.conf" --name f1
chmod 0600 "$T/files/g1.conf"
refused 2 "cannot read $T/files/g1.conf: Permission denied" op vm define "$T/files/g1.conf" --name o2
sed -i '/^owner = /d' "$T/files/o1.conf"
op vm define "$T/files/o1.conf" >/dev/null
grep -qx "owner = $OP_UID" "$T/etc/guests/o1.conf" || fail "the operator's guest's owner: $(cat "$T/etc/guests/o1.conf")"
ok "the operator's file without an owner line: guest o1 is theirs (owner = $OP_UID)"
ctl vm delete o1 >/dev/null
ctl vm delete g1 >/dev/null
