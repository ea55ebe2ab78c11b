#!/usr/bin/env bash
# Bad guest input gets one clear error and changes nothing (links, addresses, routes, files).
. "$(dirname "$0")/lib.sh"
[ -x /usr/bin/qemu-system-x86_64 ] || skip "qemu-system-x86_64 missing"
getent passwd netd-qemu >/dev/null || skip "no user netd-qemu (run scripts/install-deps)"
K=$T/vmlinuz
echo kernel >"$K"

start_netd
ctl network create n1 --mode isolated --subnet 10.91.0.0/24 --no-dhcp --no-dns >/dev/null
# 'netdctl monitor' names the guest of a guest event (it printed "guest -: created").
ctl monitor >"$T/monitor" 2>&1 &
BG_PIDS+=($!)
for _ in $(seq 1 100); do grep -q 'request daemon.monitor' "$T/netd.log" && break; sleep 0.05; done
ctl vm create g0 --network n1 --mac 52:54:00:00:00:10 --kernel "$K" --no-autostart >/dev/null
for _ in $(seq 1 100); do grep -q ' guest ' "$T/monitor" && break; sleep 0.05; done
grep -qE '^[0-9:]{8} guest g0: created \(stopped\)$' "$T/monitor" || fail "netdctl monitor: $(cat "$T/monitor")"
ok "netdctl monitor: $(grep ' guest ' "$T/monitor")"
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
	"2|vm create: missing a boot source (--kernel PATH, --disk PATH, --disk-size SIZE or --cdrom ISO)|vm create x --network n1"
	# Issue 12, attack 10: values that would not read back from the definition file as written.
	"1|invalid --kernel '$K\\n[nic1]\\nnetwork = n2\\n[guest]': contains a control character (a definition file holds one value per line)|vm create x --network n1 --kernel \$'$K\\n[nic1]\\nnetwork = n2\\n[guest]' --no-autostart"
	"1|invalid --kernel ';x': has a ';' at its start or after a space, which starts a comment in the definition file|vm create x --network n1 --kernel ';x' --no-autostart"
	"1|invalid --kernel '$K ;x': has a ';' at its start or after a space|vm create x --network n1 --kernel '$K ;x' --no-autostart"
	"1|invalid --append 'console=ttyS0 ;x': has a ';'|$C --append 'console=ttyS0 ;x'"
	"1|invalid --append 'quiet ': starts or ends with a space, which the definition file would drop|$C --append 'quiet '"
	"1|invalid --initrd ' $K': starts or ends with a space|$C --initrd ' $K'"
	"1|invalid --cdrom '$K\\x09': contains a control character|$C --cdrom \$'$K\\t'"
)
bad_cli_cases cases

# netdctl might not pass a newline on; the request does. n2 exists, so only the rule refuses it.
ctl network create n2 --mode isolated --subnet 10.92.0.0/24 --no-dhcp --no-dns >/dev/null
BAD_BEFORE=
raw_cases=(
	'{"method": "vm.create", "params": {"name": "x", "networks": ["n1"], "kernel": "'"$K"'\n[nic1]\nnetwork = n2\n[guest]", "autostart": false}}|invalid --kernel '"'$K"'\n[nic1]\nnetwork = n2\n[guest]'"'"': contains a control character'
	'{"method": "vm.create", "params": {"name": "x", "networks": ["n1"], "kernel": "'"$K"'", "append": "a\r\nb", "autostart": false}}|invalid --append '"'"'a\x0d\nb'"'"': contains a control character'
	'{"method": "vm.create", "params": {"name": "x", "networks": ["n1"], "kernel": "'"$K"'", "initrd": ";x", "autostart": false}}|invalid --initrd '"'"';x'"'"': has a '"'"';'"'"' at its start'
	'{"method": "vm.create", "params": {"name": "x", "networks": ["n1"], "kernel": 5, "autostart": false}}|parameter '"'"'kernel'"'"' must be a string without NUL characters'
)
bad_raw_cases raw_cases

# The same values written by hand into a definition are refused when netd reads it, with the
# line number; the other guests load.
stop_netd
printf '[guest]\nmemory = 256M\nkernel =;x\n\n[nic0]\nnetwork = n1\n' >"$T/etc/guests/bad1.conf"
printf '[guest]\nkernel = ;x\n\n[nic0]\nnetwork = n1\n' >"$T/etc/guests/bad2.conf"
printf '[guest]\nkernel = %s\nappend = a\x1b[2Jb\n\n[nic0]\nnetwork = n1\n' "$K" >"$T/etc/guests/bad3.conf"
start_netd
grep -qF "guest definition bad1.conf: line 3: invalid --kernel ';x': has a ';' at its start" "$T/netd.log" ||
	fail "bad1.conf: $(grep bad1 "$T/netd.log")"
grep -qF "guest definition bad2.conf: line 2: invalid --kernel '': is empty" "$T/netd.log" ||
	fail "bad2.conf: $(grep bad2 "$T/netd.log")"
grep -qF "guest definition bad3.conf: line 3: invalid --append 'a\x1b[2Jb': contains a control character" "$T/netd.log" ||
	fail "bad3.conf: $(grep bad3 "$T/netd.log")"
assert_eq "$(ctl --json vm list | jq -r '[.[].name] | sort | join(",")')" "g0" "guests loaded"
ok "hand-written definitions with such values are refused at load with their line: $(grep -c 'guest definition bad' "$T/netd.log") files"
BAD_N=$((BAD_N + 1))
rm "$T"/etc/guests/bad?.conf

# A definition written by hand (as examples/guest-default.conf says) is loaded by 'reload' or
# SIGHUP, and started by no one but 'vm start'; changed, broken and removed files likewise.
printf '[guest]\nmemory = 256M\nkernel = %s\nautostart = yes\n\n[nic0]\nnetwork = n1\n' "$K" >"$T/etc/guests/hand.conf"
ctl reload >"$T/out"
grep -qx "guest added:   hand" "$T/out" || fail "reload of a new guest definition: $(cat "$T/out")"
assert_eq "$(vm_field hand .state)/$(vm_field hand .memory_mib)" stopped/256 "hand-written guest after reload"
ok "reload: $(cat "$T/out"), not started (autostart is for netd's start)"
sed -i 's/^memory = .*/memory = 300M/' "$T/etc/guests/hand.conf"
kill -HUP "$NETD_PID"
for _ in $(seq 1 100); do [ "$(vm_field hand .memory_mib)" = 300 ] && break; sleep 0.05; done
assert_eq "$(vm_field hand .memory_mib)" 300 "memory after SIGHUP"
assert_eq "$(ctl reload)" "nothing changed" "a reload with nothing new"
ok "SIGHUP applied a changed guest definition (memory 300 MiB); the next reload: nothing changed"
echo "colour = blue" >>"$T/etc/guests/hand.conf"
printf '[guest]\nkernel = %s\nmemory = lots\n\n[nic0]\nnetwork = n1\n' "$K" >"$T/etc/guests/bad4.conf"
rep=$(ctl --json reload)
assert_eq "$(jq -r '.guests.errors | sort | join(" / ")' <<<"$rep")" \
	"bad4.conf: line 3: invalid memory 'lots': expected a size like 512M or 2G / hand.conf: line 8: unknown key 'colour' in section [nic0]" \
	"errors of a reload with bad guest files"
assert_eq "$(vm_field hand .memory_mib)" 300 "hand keeps its definition"
assert_eq "$(ctl --json vm list | jq -r '[.[].name] | sort | join(",")')" "g0,hand" "guests after a bad reload"
ok "bad hand-written guest files are reported with their line; hand keeps its definition, bad4 is not loaded"
rm "$T/etc/guests/hand.conf" "$T/etc/guests/bad4.conf"
assert_eq "$(ctl --json reload | jq -c .guests.removed)" '["hand"]' "reload of a removed definition"
assert_eq "$(ctl --json vm list | jq -r '[.[].name] | join(",")')" "g0" "guests after the removal"
ok "reload forgets a stopped guest whose definition was removed"
BAD_BEFORE= # hand's MACs stay in the state dir

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
