#!/usr/bin/env bash
# Guests end to end with real QEMU (TCG here) and a tiny guest built from Debian's kernel and
# busybox-static: on a NAT network the guest gets a lease (shown by 'vm show'), pings its gateway
# and reaches an upstream namespace through masquerade; on that dual-stack network it gets a SLAAC
# address from the kernel's own autoconfiguration, and 'vm show' lists it (from the bridge's
# neighbour table, once the guest pinged the gateway from it); 'vm set-network' moves it to another NAT
# network and it gets a lease there without a reboot, and its second NIC's link comes back after
# a move of that NIC; kill -9 of netd leaves it answering pings and the restarted netd controls it
# again; a definition edited or removed by hand while the guest runs is reloaded and applies once
# it stopped; shutdown powers it off through ACPI, destroy kills it, and the TAP goes with QEMU;
# on a --mode bridge network its lease comes from the LAN's server.
# QEMU runs as netd-qemu and its command line names none of the guest's files.
. "$(dirname "$0")/lib.sh"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] || skip "qemu-system-x86_64 missing"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
getent passwd netd-qemu >/dev/null || skip "no user netd-qemu (run scripts/install-deps)"
guest_image

add_upstream
start_netd
ctl network create n1 --mode nat --subnet 10.81.0.0/24 --subnet6 fd00:81::/64 >/dev/null
ctl network create n2 --mode nat --subnet 10.82.0.0/24 >/dev/null
# A process that runs (an exited QEMU that netd adopted stays a zombie until init reaps it).
alive() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# gone PID: within 2 s, PID is a zombie or no process. netd answers once QEMU's pidfd says it
# exited, yet a CI rehearsal on a loaded machine once saw the adopted QEMU (not netd's child) alive
# right after; why is not known (the failure prints its status lines).
gone() { for _ in $(seq 1 20); do alive "$1" || return 0; sleep 0.1; done; return 1; }

t0=$(date +%s%N)
ctl vm create g1 --network n1 --network n2 --memory 256M --kernel "$KERNEL" --initrd "$INITRD" \
	--append "console=ttyS0 quiet probe=192.168.50.1 ping6=fd00:81::1" --accel tcg >/dev/null
assert_eq "$(vm_field g1 .state)" running "state after create"
tap=$(vm_field g1 '.nics[0].tap')
assert_eq "$(link_field "$tap" .master)" nd-n1 "TAP's bridge"
tap1=$(vm_field g1 '.nics[1].tap')
assert_eq "$(link_field "$tap1" .master)" nd-n2 "second TAP's bridge"
[[ "$(link_field "$tap" .address)" == fe:* ]] || fail "TAP's host-side MAC is not fe:..."
grep -q "virtio-net in userspace (no /dev/vhost-net)" <<<"$(vm_field g1 .note)" || fail "note: $(vm_field g1 .note)"
qpid=$(vm_field g1 .pid)
assert_eq "$(ps -o user= -p "$qpid")" netd-qemu "QEMU's user"
tr '\0' '\n' <"/proc/$qpid/cmdline" | grep -F -e "$KERNEL" -e "$INITRD" -e "$T" && fail "QEMU's command line names a path"
lease=$(wait_serial g1 '^LEASE 10\.81\.0\.')
ip1=$(sed 's/LEASE \([^/]*\).*/\1/' <<<"$lease")
ok "guest g1 booted with TCG, TAP $tap on nd-n1 ($(vm_field g1 .note)); lease $ip1 after $((($(date +%s%N) - t0) / 1000000)) ms"
for _ in $(seq 1 50); do [ "$(vm_field g1 '.nics[0].ip')" = "$ip1" ] && break; sleep 0.1; done
assert_eq "$(vm_field g1 '.nics[0].ip')" "$ip1" "vm show's address"
wait_serial g1 '^GATEWAY-PING ok 10.81.0.1' >/dev/null
assert_eq "$(wait_serial g1 '^UPSTREAM-SAYS' | cut -d' ' -f2)" 192.168.50.2 "what upstream saw"
ok "vm show lists $ip1; the guest pinged its gateway and reached upstream as 192.168.50.2 (masquerade)"

# IPv6 on n1: the guest's kernel makes its SLAAC address (its MAC's EUI-64 in fd00:81::/64) and
# pings the gateway from it; vm show finds it in nd-n1's neighbour table.
IFS=: read -r m0 m1 m2 m3 m4 m5 <<<"$(vm_field g1 '.nics[0].mac')"
slaac=$(printf 'fd00:81::%x:%x:%x:%x' $(((0x$m0 ^ 2) << 8 | 0x$m1)) $((0x$m2 << 8 | 0xff)) \
	$((0xfe00 | 0x$m3)) $((0x$m4 << 8 | 0x$m5)))
assert_eq "$(wait_serial g1 '^SLAAC ' 30)" "SLAAC $slaac" "the guest's SLAAC address"
wait_serial g1 '^PING6 ' 30 | has -x 'PING6 ok fd00:81::1' || fail "guest's ping6: $(serial g1 | grep -a PING6)"
want="{\"address\":\"$slaac\",\"source\":\"slaac\"}"
for _ in $(seq 1 50); do
	got=$(ctl --json vm show g1 | jq -c '.nics[0].ipv6')
	[ "$got" = "[$want]" ] && break
	sleep 0.1
done
assert_eq "$got" "[$want]" "vm show's IPv6 addresses of g1"
ctl vm show g1 | has -xF "            ipv6 $slaac (slaac)" || fail "vm show's text: $(ctl vm show g1)"
assert_eq "$(ctl --json vm show g1 | jq -c '.nics[1].ipv6')" "[]" "IPv6 addresses of g1's NIC on IPv4-only n2"
ok "the guest's SLAAC address $slaac: pinged fd00:81::1 from it, vm show lists it (source slaac)" \
	"$((($(date +%s%N) - t0) / 1000000)) ms after create"

# A second start of a running guest is refused.
rc=0
ctl vm start g1 >/dev/null 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "exit code of starting a running guest"
grep -q "guest 'g1' is already running" "$T/err" || fail "start of a running guest: $(cat "$T/err")"
ok "$(cat "$T/err")"

# Move to n2 live, and the second NIC to n1 right after: both links are flapped and both come
# back (the guest sees eth1 go down and up; a move of NIC 1 used to bring NIC 0's link back).
pid=$(vm_field g1 .pid)
ups=$(serial g1 | grep -ac '^LINK-UP eth1' || true)
ctl vm set-network g1 n2 >/dev/null
ctl vm set-network g1 --nic 1 n1 >/dev/null
assert_eq "$(link_field "$tap" .master)" nd-n2 "TAP's bridge after set-network"
assert_eq "$(link_field "$tap1" .master)" nd-n1 "second TAP's bridge after set-network --nic 1"
lease2=$(wait_serial g1 '^LEASE 10\.82\.0\.' 30)
assert_eq "$(vm_field g1 .pid)" "$pid" "QEMU pid after set-network"
ok "vm set-network g1 n2: TAP now on nd-n2, guest renewed into ${lease2#LEASE } without a reboot"
wait_serial g1 '^LINK-DOWN eth1' 10 >/dev/null
for _ in $(seq 1 300); do [ "$(serial g1 | grep -ac '^LINK-UP eth1')" -gt "$ups" ] && break; sleep 0.1; done
[ "$(serial g1 | grep -ac '^LINK-UP eth1')" -gt "$ups" ] ||
	fail "the second NIC's link stayed down after set-network --nic 1: $(serial g1 | grep -a LINK-)"
ok "vm set-network g1 --nic 1 n1 right after: $tap1 on nd-n1, the guest saw eth1 go down and come back"
ip2=$(sed 's/LEASE \([^/]*\).*/\1/' <<<"$lease2")
assert_eq "$(grep -x 'network = .*' "$T/etc/guests/g1.conf" | tr '\n' ' ')" "network = n2 network = n1 " "definition's networks"

# kill -9 of netd: the guest keeps answering; the next netd adopts it.
nsx ping -c 1 -W 2 "$ip2" >/dev/null || fail "guest does not answer pings at $ip2"
nsx ping -i 0.05 -c 60 -W 1 "$ip2" >"$T/ping" 2>&1 &
PING=$!
sleep 0.5
kill9_netd
sleep 0.5
start_netd
wait "$PING" || true
grep -q " 0% packet loss" "$T/ping" || fail "pings lost across kill -9 of netd: $(tail -n2 "$T/ping")"
assert_eq "$(vm_field g1 .state)" running "state after adoption"
assert_eq "$(vm_field g1 .pid)" "$pid" "pid after adoption"
grep -q "guest 'g1': adopted running QEMU (pid $pid)" "$T/netd.log" || fail "adoption not logged"
ok "kill -9 of netd: 60 of 60 pings answered, QEMU $pid adopted"

# A definition edited by hand while the guest runs is reloaded, and applies once QEMU is gone.
sed -i 's/^memory = .*/memory = 300M/' "$T/etc/guests/g1.conf"
assert_eq "$(ctl --json reload | jq -c .guests.changed)" '["g1"]' "reload of g1's changed definition"
assert_eq "$(vm_field g1 .memory_mib)" 256 "g1's memory while it runs"

# ACPI shutdown; the TAP goes with QEMU.
ctl vm shutdown g1 --timeout 30 >/dev/null 2>&1
assert_eq "$(vm_field g1 .state)" stopped "state after shutdown"
assert_eq "$(vm_field g1 .memory_mib)" 300 "g1's memory after shutdown (the reloaded definition)"
gone "$pid" || fail "QEMU still running after shutdown: $(cat "/proc/$pid/status" 2>/dev/null | head -n 3 | tr '\n' ' ')"
serial g1 | has GUEST-POWERDOWN || fail "the guest did not see the power button"
has_link "$tap" && fail "TAP $tap left after shutdown"
ok "vm shutdown: ACPI power-down, QEMU gone, TAP gone"

ctl vm start g1 >/dev/null
pid=$(vm_field g1 .pid)
tr '\0' ' ' <"/proc/$pid/cmdline" | has -- " -m 300M " || fail "g1 did not start with the reloaded memory"
ok "a definition changed by hand while g1 ran: reloaded, applied at its next start (-m 300M)"
tap=$(vm_field g1 '.nics[0].tap')
ctl vm destroy g1 >/dev/null
assert_eq "$(vm_field g1 .state)" stopped "state after destroy"
gone "$pid" || fail "QEMU still running after destroy: $(cat "/proc/$pid/status" 2>/dev/null | head -n 3 | tr '\n' ' ')"
has_link "$tap" && fail "TAP $tap left after destroy"
ok "vm destroy: QEMU killed, TAP gone"

# --accel auto: KVM where it runs guests; here (nested) the probe notices and netd says so.
ctl vm create g3 --network n1 --memory 128M --kernel "$KERNEL" --initrd "$INITRD" --append console=ttyS0 >/dev/null 2>"$T/err"
note=$(vm_field g3 .note)
if [ "$(vm_field g3 .running_with)" = tcg ]; then
	grep -q "^TCG (KVM unusable: " <<<"$note" || fail "fallback not explained: $note"
	grep -q "KVM is not usable (.*); running with TCG" "$T/netd.log" || fail "fallback not logged"
fi
ok "--accel auto runs with $(vm_field g3 .running_with): $note"
ctl vm destroy g3 >/dev/null
ctl vm delete g3 >/dev/null

# A --mode bridge network: a plain bridge with a LAN whose DHCP server lives in another namespace.
LAN="netdt-lan-$$-${RANDOM}"
ip netns add "$LAN"
EXTRA_NS+=("$LAN")
ip -n "$NS" link add br-lan type bridge
ip -n "$NS" link set br-lan up
ip -n "$NS" link add lan0 type veth peer name eth0 netns "$LAN"
ip -n "$NS" link set lan0 master br-lan up
ip -n "$LAN" addr add 172.30.0.1/24 dev eth0
ip -n "$LAN" link set eth0 up
ip netns exec "$LAN" dnsmasq --keep-in-foreground --port=0 --interface=eth0 --bind-interfaces \
	--dhcp-range=172.30.0.100,172.30.0.150,2m --dhcp-leasefile="$T/lan.leases" --no-ping >/dev/null 2>&1 &
ctl network create lan --mode bridge --bridge br-lan >/dev/null
ctl vm create g2 --network lan --memory 256M --kernel "$KERNEL" --initrd "$INITRD" \
	--append "console=ttyS0 quiet" --accel tcg >/dev/null
lease=$(wait_serial g2 '^LEASE 172\.30\.0\.')
assert_eq "$(link_field "$(vm_field g2 '.nics[0].tap')" .master)" br-lan "g2's TAP's bridge"
ok "guest on a --mode bridge network got ${lease#LEASE } from the LAN's own DHCP server"
# Its definition removed by hand while it runs: it keeps running; once stopped, a reload forgets it.
rm "$T/etc/guests/g2.conf"
err=$(ctl --json reload | jq -r '.guests.errors[0]')
grep -qF "guest 'g2': definition removed, but the guest is running; it keeps running" <<<"$err" ||
	fail "reload of a running guest's removed definition: $err"
assert_eq "$(vm_field g2 .state)" running "g2 after its definition was removed"
ctl vm destroy g2 >/dev/null
assert_eq "$(ctl --json reload | jq -c .guests.removed)" '["g2"]' "reload after g2 stopped"
ok "g2's definition removed while it ran: reported ($err), forgotten by the reload after it stopped"
ctl vm delete g1 >/dev/null
[ -e "$T/etc/guests/g1.conf" ] && fail "definition left after delete"
ok "vm delete removes the definitions"
