#!/usr/bin/env bash
# Bad guest input gets one clear error and changes nothing (links, addresses, routes, files).
. "$(dirname "$0")/lib.sh"
[ -x /usr/bin/qemu-system-x86_64 ] || skip "qemu-system-x86_64 missing"
getent passwd netd-qemu >/dev/null || skip "no user netd-qemu (run scripts/install-deps)"
K=$T/vmlinuz
echo kernel >"$K"

start_netd
ctl network create n1 --mode isolated --subnet 10.91.0.0/24 --no-dhcp --no-dns >/dev/null
ctl vm create g0 --network n1 --mac 52:54:00:00:00:10 --kernel "$K" --no-autostart >/dev/null
C="vm create x --network n1 --kernel $K --no-autostart"
cases=(
	"1|unknown network 'nope' (see 'netdctl network list')|vm create x --network nope --kernel $K"
	"1|MAC 52:54:00:00:00:10 is already used on network 'n1' by guest 'g0'|$C --mac 52:54:00:00:00:10"
	"1|multicast|$C --mac 01:00:5e:00:00:01"
	"1|00:00:00:00:00:00|$C --mac 00:00:00:00:00:00"
	"1|invalid MAC 'zz:54:00:00:00:01'|$C --mac zz:54:00:00:00:01"
	"1|/nonexistent/vmlinuz|vm create x --network n1 --kernel /nonexistent/vmlinuz"
	"1|/nonexistent/disk.img|vm create x --network n1 --disk /nonexistent/disk.img"
	"1|memory|$C --memory 16M"
	"1|invalid memory 'lots'|$C --memory lots"
	"1|vcpus is out of range (1-64)|$C --vcpus 0"
	"1|vcpus is out of range (1-64)|$C --vcpus 1000"
	"1|queues is out of range (1-8)|$C --queues 9"
	"1|unknown accel 'fast' (known: auto, kvm, tcg)|$C --accel fast"
	"1|guest 'g0' already exists|vm create g0 --network n1 --kernel $K"
	"1|invalid guest name|vm create 'bad name' --network n1 --kernel $K"
	"1|no guest named 'nope'|vm start nope"
	"1|guest 'g0' is not running|vm shutdown g0"
	"1|guest 'g0' is not running|vm destroy g0"
	"1|network 'nope' does not exist|vm set-network g0 nope"
	"1|guest 'g0' has no NIC 3 (it has 1)|vm set-network g0 --nic 3 n1"
	"2|vm create: missing --network NET|vm create x --kernel $K"
	"2|vm create: missing a boot source (--kernel PATH or --disk PATH)|vm create x --network n1"
)
bad_cli_cases cases

# QEMU missing: netd says what to install, and nothing is written.
stop_netd
start_netd --qemu /nonexistent/qemu-system-x86_64
cases=(
	"1|QEMU binary /nonexistent/qemu-system-x86_64 not found: install qemu-system-x86 or start netd with --qemu PATH|$C"
	"1|QEMU binary /nonexistent/qemu-system-x86_64 not found|vm start g0"
)
bad_cli_cases cases

# QEMU's user missing: netd says how to create it or choose another, and nothing is written.
stop_netd
start_netd --qemu-user netdt-no-such-user
cases=(
	"1|QEMU's user 'netdt-no-such-user' does not exist: create it with scripts/install-deps, or start netd with --qemu-user USER (--qemu-user root keeps QEMU as root)|$C"
	"1|cannot start guest 'g0': QEMU's user 'netdt-no-such-user' does not exist|vm start g0"
)
bad_cli_cases cases
stop_netd
rc=0
"$NETD" --image-dir images --run-dir "$T/run2" 2>"$T/err" || rc=$?
assert_eq "$rc" 2 "exit code of netd --image-dir images"
grep -qF "netd: invalid --image-dir 'images': expected an absolute path" "$T/err" || fail "--image-dir: $(cat "$T/err")"
ok "$(cat "$T/err")"
echo "$BAD_N bad inputs refused, state unchanged"
[ "$BAD_N" -ge 10 ] || fail "fewer than 10 cases"
