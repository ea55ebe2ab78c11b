#!/usr/bin/env bash
# Cloud-init NoCloud seeds with real mtools, QEMU (TCG) and the test guest (showseed: it mounts the
# disk labelled CIDATA read-only and prints what it holds):
# - bad inputs, each one clear error, nothing changed: a host name that is none, a private key for
#   --ssh-key, --ssh-key with a user-data, a meta-data that sets netd's keys, a file too large or
#   missing, a guest name that is no host name without --hostname, a bad --cloud-init spec;
# - vm create --cloud-init user-data=,network-config= --hostname: the guest reads a read-only seed
#   whose user-data and network-config are the files' bytes and whose meta-data has netd's
#   instance-id (the one vm show gives) and the host name; the seed and the texts are root's 0600 in
#   the state dir; a restart keeps the seed (same instance-id), vm delete removes it;
# - vm clone: the clone's seed has a new instance-id, the clone's name as host name, the same texts;
# - --ssh-key: the user-data netd writes holds the key, read back as given;
# - vm define without cloud-init removes the texts and the seed.
. "$(dirname "$0")/lib.sh"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] || skip "qemu-system-x86_64 missing"
[ -x /usr/bin/mformat ] && [ -x /usr/bin/mcopy ] || skip "mtools missing (run scripts/install-deps)"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
getent group netd >/dev/null || skip "no group netd (run scripts/install-deps)"
getent passwd netd-qemu >/dev/null || skip "no user netd-qemu (run scripts/install-deps)"
guest_image

F=$T/files
mkdir -p "$F" "$T/images"
chmod 0755 "$F"
start_netd --image-dir "$T/images"
install -m 0644 "$KERNEL" "$F/vmlinuz"
install -m 0644 "$INITRD" "$F/initrd"
ctl network create n1 --mode nat --subnet 10.86.0.0/24 >/dev/null
ctl network create n2 --mode nat --subnet 10.87.0.0/24 >/dev/null
state() { snapshot; find "$T/lib" "$T/etc" 2>/dev/null | sort; }
refused() { # refused CODE "message" CMD...: that exit code, one line, nothing changed
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
# settle BRIDGE: its port went with a guest; wait until the bridge lost its carrier (snapshots compare it)
settle() { for _ in $(seq 1 50); do nsx ip -j link show dev "$1" | grep -q NO-CARRIER && return; sleep 0.1; done; }
md5() { md5sum <"$1" | cut -d' ' -f1; }
BOOT=(--memory 128M --kernel "$F/vmlinuz" --initrd "$F/initrd" --append "console=ttyS0 quiet showseed" --accel tcg)

printf '#cloud-config\n# "quoted" and \\ kept as they are\nruncmd:\n  - [ echo, "héllo: world" ]\n' >"$F/user.yaml"
printf 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n' >"$F/net.yaml"
printf 'instance-id: mine\n' >"$F/meta-bad.yaml"
printf 'place: lab\n' >"$F/meta.yaml"
head -c 16385 /dev/zero | tr '\0' a >"$F/big.yaml"
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n' >"$F/id"
KEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVd3wN5yVxJk3HMvGh0bJ7a0pSBhqG9GXd8v7y9dK6f alice@lab'
printf '%s\n' "$KEY" >"$F/id.pub"

refused 1 "invalid --hostname 'web_1': it may hold letters, digits, '-' and '.' only" \
	ctl vm create c0 --network n1 "${BOOT[@]}" --hostname web_1
refused 1 "invalid --ssh-key: the key is not an OpenSSH public key line" ctl vm create c0 --network n1 "${BOOT[@]}" --ssh-key "$F/id"
refused 1 "--ssh-key writes the user-data, and --cloud-init gives one" \
	ctl vm create c0 --network n1 "${BOOT[@]}" --ssh-key "$F/id.pub" --cloud-init "user-data=$F/user.yaml"
refused 1 "invalid cloud-init meta-data: it sets instance-id or local-hostname, which netd writes itself" \
	ctl vm create c0 --network n1 "${BOOT[@]}" --cloud-init "user-data=$F/user.yaml,meta-data=$F/meta-bad.yaml"
printf 'foo: bar\rinstance-id: evil\n' >"$F/meta-cr.yaml"
refused 1 "invalid cloud-init meta-data: it has a carriage return that does not end a line" \
	ctl vm create c0 --network n1 "${BOOT[@]}" --cloud-init "user-data=$F/user.yaml,meta-data=$F/meta-cr.yaml"
printf 'foo: bar\xe2\x80\xa8instance-id: evil\n' >"$F/meta-ls.yaml"
refused 1 "invalid cloud-init meta-data: it holds a character that is not printable ASCII or a tab" \
	ctl vm create c0 --network n1 "${BOOT[@]}" --cloud-init "user-data=$F/user.yaml,meta-data=$F/meta-ls.yaml"
printf '  foo: bar\n' >"$F/meta-ind.yaml"
refused 1 "invalid cloud-init meta-data: it starts with an indented line" \
	ctl vm create c0 --network n1 "${BOOT[@]}" --cloud-init "user-data=$F/user.yaml,meta-data=$F/meta-ind.yaml"
refused 2 "vm create: user-data $F/big.yaml is larger than 16384 bytes" \
	ctl vm create c0 --network n1 "${BOOT[@]}" --cloud-init "user-data=$F/big.yaml"
refused 2 "vm create: cannot read network-config $F/nope: No such file or directory" \
	ctl vm create c0 --network n1 "${BOOT[@]}" --cloud-init "user-data=$F/user.yaml,network-config=$F/nope"
refused 1 "guest name 'c_0' is no host name for cloud-init's local-hostname" \
	ctl vm create c_0 --network n1 "${BOOT[@]}" --cloud-init "user-data=$F/user.yaml"
refused 2 "invalid --cloud-init 'userdata=x'" ctl vm create c0 --network n1 "${BOOT[@]}" --cloud-init userdata=x

# ---- a seed ----
ctl disk create ci1-root.qcow2 --size 4M >/dev/null || fail "disk create ci1-root.qcow2"
ctl vm create ci1 --network n1 "${BOOT[@]}" --hostname web1.lab --disk ci1-root.qcow2 \
	--cloud-init "user-data=$F/user.yaml,meta-data=$F/meta.yaml,network-config=$F/net.yaml" >/dev/null ||
	fail "vm create ci1 with cloud-init"
iid1=$(wait_serial ci1 '^SEED-INSTANCE ' | cut -d' ' -f2)
assert_eq "$iid1" "$(ctl --json vm show ci1 | jq -r .cloud_init.instance_id)" "the seed's instance-id"
[[ $iid1 =~ ^iid-[0-9a-f]{32}$ ]] || fail "instance-id '$iid1'"
assert_eq "$(wait_serial ci1 '^SEED-HOSTNAME ')" "SEED-HOSTNAME web1.lab" "the seed's host name"
assert_eq "$(wait_serial ci1 "^SEED-RO ")" "SEED-RO 1" "the seed's disk is read-only ($(wait_serial ci1 "^SEED-DEV "))"
assert_eq "$(wait_serial ci1 '^SEED-FILES ')" "SEED-FILES meta-data network-config user-data " "the seed's files"
assert_eq "$(wait_serial ci1 '^SEED-MD5 user-data')" "SEED-MD5 user-data $(md5 "$F/user.yaml")" "user-data as given"
assert_eq "$(wait_serial ci1 '^SEED-MD5 network-config')" "SEED-MD5 network-config $(md5 "$F/net.yaml")" "network-config as given"
printf 'instance-id: "%s"\nlocal-hostname: "web1.lab"\nplace: lab\n' "$iid1" >"$T/meta.want"
assert_eq "$(wait_serial ci1 '^SEED-MD5 meta-data')" "SEED-MD5 meta-data $(md5 "$T/meta.want")" "meta-data: netd's keys, then the user's"
S=$T/lib/guests/ci1
assert_eq "$(stat -c '%a %U' "$S/cidata.img" "$S/cloud-init-user-data" "$S/cloud-init-network-config" | sort -u)" "600 root" \
	"the seed's and the texts' mode and owner"
grep -qx 'cloud-init = yes' "$T/etc/guests/ci1.conf" || fail "the definition says nothing of cloud-init"
assert_eq "$(cat "$S/cloud-init-owner")" 0 "the texts' owner (cloud-init-owner)"
grep -q "spawn /usr/bin/mformat pid [0-9]* .*uid=$(id -u netd-qemu)\b" "$T/netd.log" ||
	fail "mformat did not run as netd-qemu: $(grep 'spawn /usr/bin/m' "$T/netd.log" | head -n 2)"
grep -q "spawn /usr/bin/mcopy pid [0-9]* .*uid=$(id -u netd-qemu)\b" "$T/netd.log" || fail "mcopy did not run as netd-qemu"
if python3 -c 'import yaml' 2>/dev/null && [ -x /usr/bin/mtype ]; then
	/usr/bin/mtype -i "$S/cidata.img" ::meta-data >"$T/meta.got"
	assert_eq "$(python3 -c 'import sys, yaml; m = yaml.safe_load(open(sys.argv[1])); print(m["instance-id"], m["local-hostname"], m["place"])' "$T/meta.got")" \
		"$iid1 web1.lab lab" "meta-data as PyYAML reads it"
	ok "PyYAML reads netd's instance-id and host name from the seed's meta-data"
fi
ok "ci1 reads its seed: $iid1, web1.lab, user-data and network-config as given, read-only"
before=$(stat -c %i.%Y "$S/cidata.img")
ctl vm destroy ci1 >/dev/null
ctl vm start ci1 >/dev/null
wait_serial ci1 "^SEED-INSTANCE $iid1\$" >/dev/null
assert_eq "$(stat -c %i.%Y "$S/cidata.img")" "$before" "the seed after a restart (same instance-id)"
ctl vm destroy ci1 >/dev/null
ok "a restart reuses the seed"

# ---- a clone: new instance-id, its own host name ----
ctl vm clone ci1 ci2 --network n2 --copy >/dev/null 2>"$T/progress" || fail "vm clone ci1 ci2 --copy: $(cat "$T/progress")"
grep -qx "copying 'ci1-root.qcow2' to 'ci2-disk0.qcow2': 100%" "$T/progress" || fail "the clone's copy: $(cat "$T/progress")"
ctl vm start ci2 >/dev/null
iid2=$(wait_serial ci2 '^SEED-INSTANCE ' | cut -d' ' -f2)
[[ $iid2 =~ ^iid-[0-9a-f]{32}$ && $iid2 != "$iid1" ]] || fail "the clone's instance-id '$iid2' (ci1's: $iid1)"
assert_eq "$(wait_serial ci2 '^SEED-HOSTNAME ')" "SEED-HOSTNAME ci2" "the clone's host name"
assert_eq "$(wait_serial ci2 '^SEED-MD5 user-data')" "SEED-MD5 user-data $(md5 "$F/user.yaml")" "the clone's user-data"
wait_serial ci2 '^LEASE 10\.87\.0\.' >/dev/null
[ "$(ctl --json vm show ci2 | jq -r '.nics[0].mac')" != "$(ctl --json vm show ci1 | jq -r '.nics[0].mac')" ] ||
	fail "the clone has ci1's MAC"
refused 1 "the clone's cloud-init local-hostname is its name, and 'c_3' is no host name" ctl vm clone ci1 c_3
ctl vm destroy ci2 >/dev/null
ctl vm delete ci2 >/dev/null
[ ! -e "$T/lib/guests/ci2" ] || fail "vm delete left $(ls "$T/lib/guests/ci2")"
ok "clone ci2 (--copy, on n2, another MAC, a lease): new instance-id $iid2, host name ci2, same user-data; vm delete removes its seed"

# ---- --ssh-key ----
ctl vm create ci3 --network n1 "${BOOT[@]}" --ssh-key "$F/id.pub" >/dev/null || fail "vm create --ssh-key"
printf '#cloud-config\nssh_authorized_keys:\n  - "%s"\n' "$KEY" >"$T/user.want"
assert_eq "$(wait_serial ci3 '^SEED-MD5 user-data')" "SEED-MD5 user-data $(md5 "$T/user.want")" "the --ssh-key user-data"
assert_eq "$(wait_serial ci3 '^SEED-HOSTNAME ')" "SEED-HOSTNAME ci3" "the host name: the guest's name"
ctl vm destroy ci3 >/dev/null
settle nd-n1
ok "--ssh-key: user-data with the key, host name ci3"

# ---- a dump carries 'cloud-init = yes', not the texts ----
ctl vm dump ci3 >"$T/ci3.conf"
grep -qx 'cloud-init = yes' "$T/ci3.conf" || fail "the dump: $(cat "$T/ci3.conf")"
ctl vm delete ci3 >/dev/null
ctl vm define "$T/ci3.conf" >/dev/null || fail "vm define of ci3's dump"
refused 1 "guest 'ci3' has cloud-init = yes, but its cloud-init data in $T/lib/guests/ci3 is missing" ctl vm start ci3
ctl vm delete ci3 >/dev/null

# ---- an operator ----
OP="netdt-ci-$$"
add_user "$OP" netd
op() { run_as "$OP" "$NETDCTL" --socket "$SOCK" "$@"; }
refused 1 "cannot clone guest 'ci1': its cloud-init data (which may hold secrets) is its owner's" op vm clone ci1 opc
chmod 0600 "$F/user.yaml"
refused 2 "vm create: cannot read user-data $F/user.yaml: Permission denied" \
	op vm create opg --network n1 "${BOOT[@]}" --cloud-init "user-data=$F/user.yaml"
ok "an operator may not clone root's cloud-init guest, nor send a file they cannot read"
ctl vm dump ci1 | sed "/^owner = /d; s|^append = .*|append = console=ttyS0 init=/bin/sh|" >"$T/ci1-op.conf"
chmod 0644 "$T/ci1-op.conf"
refused 1 "cannot define guest 'ci1': it has cloud-init data (which may hold secrets) of its owner" \
	op vm define "$T/ci1-op.conf" --name ci1
ok "an operator may not redefine root's cloud-init guest either"

# ---- texts left in a state dir by another owner's guest are not booted in an operator's guest ----
install -m 0644 "$KERNEL" "$T/images/vmlinuz" # an operator's guest boots files of the image dir
install -m 0644 "$INITRD" "$T/images/initrd"
sed "/^owner = /d; s|^kernel = .*|kernel = $T/images/vmlinuz|; s|^initrd = .*|initrd = $T/images/initrd|" "$T/ci3.conf" >"$T/opl.conf"
chmod 0644 "$T/opl.conf"
op vm define "$T/opl.conf" --name opl >/dev/null || fail "the operator's vm define of opl"
mkdir -p "$T/lib/guests/opl"
cp -p "$T/lib/guests/ci1/"cloud-init-* "$T/lib/guests/opl/" # root's texts, as an older guest 'opl' left them
rc=0; op vm start opl >"$T/out" 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of the start of opl ($(cat "$T/err"))"
grep -qF "guest 'opl' is uid $(id -u "$OP")'s, but the cloud-init data in its state dir was given by uid 0" "$T/err" ||
	fail "the start of opl: $(cat "$T/err")"
assert_eq "$(ctl --json vm show opl | jq -r .state)" stopped "opl's state"
[ ! -e "$T/lib/guests/opl/cidata.img" ] || fail "a seed was made of root's texts for the operator's guest"
rm -f "$T/lib/guests/opl/cloud-init-owner" # no owner: root's
rc=0; op vm start opl >"$T/out" 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of the start of opl without cloud-init-owner ($(cat "$T/err"))"
grep -qF "was given by uid 0" "$T/err" || fail "the start of opl without cloud-init-owner: $(cat "$T/err")"
op vm delete opl >/dev/null
ok "texts that root's guest left are not the operator's: $(cat "$T/err")"

# ---- a definition without cloud-init takes the texts and the seed away ----
[ -e "$T/lib/guests/ci1/cloud-init-user-data" ] || fail "ci1 has no texts: $(ls "$T/lib/guests/ci1")"
ctl vm dump ci1 | sed '/^cloud-init = /d' >"$T/ci1-off.conf"
ctl vm define "$T/ci1-off.conf" --name ci1 >/dev/null || fail "root's define of ci1 without cloud-init"
left=$(ls "$T/lib/guests/ci1" | grep '^cloud-init-\|^cidata' || true)
[ -z "$left" ] || fail "left after a definition without cloud-init: $left"
ok "root's definition of ci1 without cloud-init: its texts and seed are gone (no later definition boots them)"
