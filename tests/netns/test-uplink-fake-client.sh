#!/usr/bin/env bash
# Issue 12, attack 1: an unprivileged user runs look-alikes of a DHCP client on eth0 (a script of
# theirs named dhclient, a copy of a shell named dhclient; eth0 among their arguments), and the
# admin converts eth0. netd must neither kill them nor ever run them as root (on br0, on the
# rollback), and they must not block the conversion, also when there are two; the log and the
# reply name them. The genuine client (root's busybox udhcpc) is still handed over, restarted
# from the system binary. A saved hand-over (<state>/uplinks/br0/dhcp-argv) that names a user's
# script, is open to others or is in an older netd's format is not replayed: neither by the
# rollback after a crash nor by the rebuild after a reboot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"
command -v setpriv >/dev/null || skip "setpriv missing (util-linux)"
id nobody >/dev/null 2>&1 || skip "no user nobody"

BUSYBOX=$(readlink -f "$(command -v busybox)")
FAKE_UID=$(id -u nobody)
FAKE_GID=$(id -g nobody)
FAKE=$T/fake # the user's own directory ($T is 0711: they can reach it)
RAN=$FAKE/ran
lab_build

mkdir -p "$FAKE/bin"
# Each look-alike writes its uid and arguments every time it runs, then stays, keeping its name
# and arguments (what /proc/PID/cmdline shows).
cat >"$FAKE/dhclient" <<'SCRIPT'
#!/bin/bash
echo "$(id -u) $0 $*" >>"${0%/*}/ran"
exec -a "$0" /bin/bash -c 'while :; do sleep 3600; done' "$0" "$@"
SCRIPT
cat >"$FAKE/evil" <<'SCRIPT'
#!/bin/sh
echo "$(id -u) $0 $*" >>"${0%/*}/ran"
SCRIPT
cp /bin/bash "$FAKE/bin/dhclient"
: >"$RAN"
chmod 0755 "$FAKE/dhclient" "$FAKE/evil" "$FAKE/bin/dhclient"
chmod 0666 "$RAN"
chown -R "$FAKE_UID:$FAKE_GID" "$FAKE"

# Running, not a zombie (this machine's pid 1 may not reap the orphans a kill leaves).
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
cmdline_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }
# exec: run in the background, $! is the look-alike itself.
as_user() { exec ip netns exec "$NS" setpriv --reuid="$FAKE_UID" --regid="$FAKE_GID" --clear-groups "$@"; }

# start_fake VAR: the script (a shell runs it); start_fake VAR bin: the user's copy of bash.
start_fake() {
	local pid
	if [ "${2:-}" = bin ]; then
		as_user "$FAKE/bin/dhclient" -c "echo \"\$(id -u) \$0 \$*\" >>$RAN; while :; do sleep 3600; done" \
			"$FAKE/bin/dhclient" -v eth0 &
	else
		as_user "$FAKE/dhclient" -v eth0 &
	fi
	pid=$!
	for _ in $(seq 1 100); do
		# Its final form (not ip, setpriv or the shell reading the script, whose arguments match too).
		[[ $(cmdline_of "$pid") == "$FAKE/"*" -c "*"-v eth0 " ]] && break
		sleep 0.05
	done
	[[ $(cmdline_of "$pid") == "$FAKE/"*" -c "*"-v eth0 " ]] || fail "look-alike $1 did not start: pid $pid, $(cmdline_of "$pid"), $(cat "$RAN")"
	assert_eq "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" "$FAKE_UID" "look-alike's uid"
	eval "$1=$pid"
}

# The look-alikes still run as the same processes, and none of them ever ran as root.
fakes_untouched() {
	local pid
	for pid in "$@"; do
		alive "$pid" || fail "netd killed look-alike pid $pid"
		[[ $(cmdline_of "$pid") == *dhclient*"-v eth0"* ]] || fail "pid $pid is no longer the look-alike"
	done
	! grep -q "^0 " "$RAN" || fail "a user's program ran as root: $(grep "^0 " "$RAN")"
}

genuine_client() {
	ip netns exec "$NS" busybox udhcpc -f -i eth0 -s "$T/udhcpc.script" -t 20 -T 1 -A 1 >/dev/null 2>&1 &
	UDHCPC_PID=$!
	for _ in $(seq 1 100); do
		[ "$(readlink "/proc/$UDHCPC_PID/exe")" = "$BUSYBOX" ] && break
		sleep 0.05
	done
}

bridge_client() { ctl --json uplink status br0 | jq -r '.[0].dhcp_client.bridge_pid // empty'; }

# --- one look-alike and no genuine client: nothing is handed over, the look-alike is left alone
kill -9 "$UDHCPC_PID"
wait "$UDHCPC_PID" 2>/dev/null || true
start_fake A
start_netd
ctl uplink convert eth0 --confirm-timeout 120s >"$T/out" 2>"$T/err" || fail "convert: $(cat "$T/err")"
fakes_untouched "$A"
grep -q "uplink br0: ignoring pid $A (uid $FAKE_UID, /usr/bin/bash): not a root-owned system binary" "$T/netd.log" ||
	fail "the log does not name look-alike pid $A"
grep -q "ignoring pid $A (uid $FAKE_UID, /usr/bin/bash): not a root-owned system binary" "$T/err" ||
	fail "the reply does not name look-alike pid $A: $(cat "$T/err")"
[ -z "$(ctl --json uplink status br0 | jq -r '.[0].dhcp_client // empty')" ] || fail "a look-alike was taken as the DHCP client"
ok "one look-alike: converted, $(grep -o "ignoring pid $A.*binary ([^)]*)" "$T/netd.log" | head -1)"
ctl uplink revert br0 >/dev/null 2>"$T/err" || fail "revert: $(cat "$T/err")"
fakes_untouched "$A"
ok "revert: the look-alike was neither killed nor run as root"

# --- a process root runs like a client that netd cannot verify (here a shell named dhclient; a
# dhclient whose binary an upgrade replaced is the real case): left on eth0 it would put the
# address back there at its next renewal, so the conversion is refused, and nothing is killed
mkdir "$T/root-fake"
sed 's|"${0%/\*}/ran"|/dev/null|' "$FAKE/dhclient" >"$T/root-fake/dhclient"
chmod 0755 "$T/root-fake/dhclient"
ip netns exec "$NS" "$T/root-fake/dhclient" -v eth0 &
R=$!
for _ in $(seq 1 100); do [[ $(cmdline_of "$R") == "$T/root-fake/"*" -c "* ]] && break; sleep 0.05; done
ctl uplink convert eth0 >"$T/out" 2>"$T/err" && fail "converted with an unverifiable root client on eth0"
grep -q "pid $R (/usr/bin/bash) runs as root like a DHCP client on 'eth0', but netd cannot hand it over: /usr/bin/bash does not run a DHCP client" "$T/err" ||
	fail "refusal: $(cat "$T/err")"
alive "$R" || fail "netd killed the root process it refused to hand over"
has_link br0 && fail "a refused conversion left br0"
ok "refused: $(grep '^netdctl:' "$T/err")"
kill -9 "$R"
wait "$R" 2>/dev/null || true

# --- two look-alikes and the genuine client: the genuine one is handed over, from busybox itself
genuine_client
start_fake B bin
: >"$T/netd.log"
ctl uplink convert eth0 --confirm-timeout 120s >"$T/out" 2>"$T/err" || fail "convert with two look-alikes: $(cat "$T/err")"
fakes_untouched "$A" "$B"
grep -q "ignoring pid $B (uid $FAKE_UID, $FAKE/bin/dhclient): not a root-owned system binary" "$T/netd.log" ||
	fail "the log does not name look-alike pid $B"
grep -q "ignoring pid $A " "$T/netd.log" || fail "the log does not name look-alike pid $A"
alive "$UDHCPC_PID" && fail "the genuine DHCP client on eth0 still runs"
bp=$(bridge_client)
[ -n "$bp" ] || fail "no DHCP client started on br0: $(ctl --json uplink status br0)"
assert_eq "$(readlink "/proc/$bp/exe")" "$BUSYBOX" "executable of the client netd started on br0"
[[ $(cmdline_of "$bp") == *"-i br0"* ]] || fail "the client on br0 is not for br0: $(cmdline_of "$bp")"
assert_eq "$(ctl --json uplink status br0 | jq -r '.[0].dhcp_client.exe')" "$BUSYBOX" "the hand-over's executable"
assert_eq "$(stat -c %a "$T/lib/uplinks/br0/dhcp-argv")" 600 "mode of dhcp-argv"
assert_eq "$(stat -c %a "$T/lib/uplinks/br0/state")" 600 "mode of state"
assert_eq "$(stat -c %a "$T/lib/uplinks/br0/snapshot")" 600 "mode of snapshot"
ok "two look-alikes do not block: the genuine udhcpc was handed over to br0 as $BUSYBOX (pid $bp); uplink files 0600"

# --- rollback after a crash with a dhcp-argv that names the user's script
kill9_netd
printf 'netd-dhcp-client 1\0%s\0%s\0%s\0%s\0%s\0' "$FAKE/evil" 3 udhcpc -i eth0 >"$T/lib/uplinks/br0/dhcp-argv"
chmod 0600 "$T/lib/uplinks/br0/dhcp-argv"
: >"$T/netd.log"
start_netd
has_link br0 && fail "the restarted netd did not roll back"
grep -q "the DHCP client saved in $T/lib/uplinks/br0/dhcp-argv will not be restarted: $FAKE/evil is not in a system directory" \
	"$T/netd.log" || fail "the log does not say why the saved client was not restarted"
sleep 0.5
fakes_untouched "$A" "$B"
alive "$bp" && fail "the rollback left the client on br0"
grep -q evil "$RAN" && fail "the script a tampered dhcp-argv names was run: $(grep evil "$RAN")"
ok "rollback after a crash: $(grep -o "the DHCP client saved.*" "$T/netd.log" | sed "s|$T|\$T|g" | head -1)"

# --- rebuild after a reboot: replayed from an intact file; not from one open to others, nor an old one
reboot_host() {
	stop_netd
	for pid in $(pgrep -f "udhcpc .*-i br0 .*$T"); do kill -9 "$pid"; done
	ip -n "$NS" link del br0 2>/dev/null || true
	rm -rf "${T:?}/run"
	: >"$T/netd.log"
}
genuine_client
ctl uplink convert eth0 --confirm-timeout 120s >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
ctl uplink confirm br0 >/dev/null
reboot_host
start_netd
assert_eq "$(link_field eth0 .master)" br0 "eth0's master after the rebuild"
bp=$(pgrep -f "udhcpc .*-i br0 .*$T" || true)
[ -n "$bp" ] || fail "the rebuild did not start the saved DHCP client: $(tail -5 "$T/netd.log")"
assert_eq "$(readlink "/proc/$bp/exe")" "$BUSYBOX" "executable of the replayed client"
ok "rebuild after a reboot: the saved client was replayed as $BUSYBOX (pid $bp)"

reboot_host
chmod 0644 "$T/lib/uplinks/br0/dhcp-argv"
start_netd
assert_eq "$(link_field eth0 .master)" br0 "eth0's master after the rebuild"
grep -q "the DHCP client saved in .*dhcp-argv will not be restarted: .*dhcp-argv has mode 0644" "$T/netd.log" ||
	fail "the log does not say why a 0644 dhcp-argv was not replayed"
pgrep -f "udhcpc .*-i br0 .*$T" >/dev/null && fail "a DHCP client was replayed from a 0644 dhcp-argv"
ok "rebuild: a dhcp-argv open to others is not replayed"

reboot_host
# An older netd's file: the arguments alone, here naming the user's script.
printf '%s\0%s\0' "$FAKE/dhclient" br0 >"$T/lib/uplinks/br0/dhcp-argv"
chmod 0600 "$T/lib/uplinks/br0/dhcp-argv"
start_netd
grep -q "the DHCP client saved in .*dhcp-argv will not be restarted: .*no executable recorded (an older netd wrote it)" \
	"$T/netd.log" || fail "the log does not say why an old dhcp-argv was not replayed"
pgrep -f "udhcpc .*-i br0 .*$T" >/dev/null && fail "a DHCP client was replayed from an old dhcp-argv"
sleep 0.5
fakes_untouched "$A" "$B"
ok "rebuild: an older netd's dhcp-argv is not replayed; no user program ever ran as root ($(wc -l <"$RAN") runs, all as uid $FAKE_UID)"
