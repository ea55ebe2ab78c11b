#!/usr/bin/env bash
# --register-dns against a real systemd-resolved (issue 17): the host resolves the network's domain
# through its dnsmasq. resolved runs in the test's namespace on a private system bus (dbus-daemon
# with a copy of the system bus config), each in a mount namespace of its own: a tmpfs on
# /run/systemd (the host's /run/systemd/resolve and resolv.conf are never touched) and the test's
# copies of /etc/passwd and /etc/group bound over the host's, with the user systemd-resolve that
# resolved drops to and the bus policy names (never added to the host). systemd-resolved is not
# installed for this (it would take over the host's /etc/resolv.conf): scripts/install-deps only
# downloads its package (into /var/cache/netd-tests), which the test unpacks into its own folder,
# unless the binary is on the host already; the unpacked binary runs only inside those namespaces.
. "$(dirname "$0")/lib.sh"
need dnsmasq dbus-daemon

RESOLVED=/lib/systemd/systemd-resolved RESOLVECTL=$(command -v resolvectl || true) BUSD=
if [ ! -x "$RESOLVED" ]; then
	need dpkg-deb
	deb=$(compgen -G "/var/cache/netd-tests/systemd-resolved_*.deb" | tail -n1 || true)
	[ -n "$deb" ] || skip "no systemd-resolved package in /var/cache/netd-tests (scripts/install-deps downloads it)"
	dpkg-deb -x "$deb" "$T/rsd" || skip "cannot unpack $deb"
	RESOLVED="$T/rsd/lib/systemd/systemd-resolved" RESOLVECTL="$T/rsd/usr/bin/resolvectl"
	BUSD="$T/rsd/usr/share/dbus-1/system.d"
fi
[ -n "$RESOLVECTL" ] || skip "resolvectl missing"

# The users the bus and resolved see: the host's, and systemd-resolve when the host has none.
cp /etc/passwd "$T/passwd"
cp /etc/group "$T/group"
if ! getent passwd systemd-resolve >/dev/null; then
	id=61990
	while getent passwd "$id" >/dev/null || getent group "$id" >/dev/null; do id=$((id + 1)); done
	echo "systemd-resolve:x:$id:$id:netd test:/nonexistent:/usr/sbin/nologin" >>"$T/passwd"
	echo "systemd-resolve:x:$id:" >>"$T/group"
fi
chmod 0644 "$T/passwd" "$T/group"
# isolated CMD...: CMD in $NS and a mount namespace of its own (private: nothing reaches the
# host's) with those users and a tmpfs on /run/systemd. It execs (so in the background, where a
# function is a subshell, $! is CMD's pid): in the foreground only inside ( ).
isolated() {
	exec ip netns exec "${ISO_NS:-$NS}" unshare -m --propagation private sh -c 'mount --bind "$0/passwd" /etc/passwd &&
		mount --bind "$0/group" /etc/group && mount -t tmpfs tmpfs /run/systemd &&
		mkdir /run/systemd/resolve && chown systemd-resolve: /run/systemd/resolve && exec "$@"' "$T" "$@"
}
(isolated "$RESOLVED" --version) >/dev/null 2>&1 || skip "the systemd-resolved here does not run (libsystemd-shared?)"

# The private system bus.
sed -e "s#<listen>.*</listen>#<listen>unix:path=$T/bus.sock</listen>#" -e '/<fork\/>/d' -e '/<pidfile>/d' \
	-e '/<syslog\/>/d' \
	-e "s#<includedir>system.d</includedir>#<includedir>/usr/share/dbus-1/system.d</includedir>${BUSD:+<includedir>$BUSD</includedir>}#" \
	-e '/<servicedir>/d' -e '/<standard_system_servicedirs/d' /usr/share/dbus-1/system.conf >"$T/bus.conf"
isolated dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile 2>>"$T/dbus.log" &
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus.sock"
for _ in $(seq 1 100); do [ -S "$T/bus.sock" ] && break; sleep 0.05; done
[ -S "$T/bus.sock" ] || fail "dbus-daemon did not start: $(cat "$T/dbus.log")"

start_resolved() {
	# Not through nsx: $! must be resolved's own pid ('ip netns exec', unshare and sh exec it).
	isolated "$RESOLVED" 2>>"$T/resolved.log" &
	RESOLVED_PID=$!
	for _ in $(seq 1 100); do
		ip netns exec "${ISO_NS:-$NS}" "$RESOLVECTL" status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "systemd-resolved did not start: $(tail -n5 "$T/resolved.log")"
}
rctl() { nsx "$RESOLVECTL" "$@" 2>&1; }
start_resolved

start_netd
ctl network create lab --mode nat --subnet 10.54.0.0/24 --subnet6 fd00:54::/64 --domain lab.test --domain-local-only --register-dns \
	--dns-host 10.54.0.80,web.lab.test >/dev/null
rctl dns nd-lab | has -F 10.54.0.1 || fail "the gateway is not nd-lab's DNS server in resolved: $(rctl dns nd-lab)"
rctl dns nd-lab | has -F fd00:54::1 || fail "the IPv6 gateway is not nd-lab's DNS server in resolved: $(rctl dns nd-lab)"
rctl domain nd-lab | has -F '~lab.test' || fail "~lab.test is not nd-lab's domain in resolved: $(rctl domain nd-lab)"
assert_eq "$(ctl --json network show lab | jq -c .register_dns)" \
	'{"requested":true,"registered":true,"domain":"lab.test","warning":null}' "show's register_dns"
assert_eq "$(cat "$T/run/resolved/lab")" "$(nsx cat /sys/class/net/nd-lab/ifindex) nd-lab lab.test" "the record of the registration"
ctl network show lab | has -F "register:   the domain is registered with systemd-resolved" || fail "network show: no register line"
# resolved asks only over a link that is up with a carrier: a guest's port gives the bridge one.
add_guest g1 52:54:00:54:00:01 nd-lab
for _ in $(seq 1 50); do
	got=$(rctl query --legend=no web.lab.test || true)
	has -F 10.54.0.80 <<<"$got" && break
	sleep 0.1
done
has -F 10.54.0.80 <<<"$got" || fail "the host did not resolve web.lab.test through resolved: $got"
ok "registered: both gateways and ~lab.test on nd-lab; the host resolves a guest's name through resolved"

# Registration taken back while the network runs (by hand and a reload): RevertLink.
sed -i '/^register = yes$/d' "$T/etc/networks/lab.conf"
ctl reload >/dev/null
rctl domain nd-lab | has -F '~lab.test' && fail "~lab.test still on nd-lab after register was dropped"
rctl dns nd-lab | has -F 10.54.0.1 && fail "the gateway is still nd-lab's DNS server after register was dropped"
assert_eq "$(ctl --json network show lab | jq -c .register_dns)" \
	'{"requested":false,"registered":false,"domain":null,"warning":null}' "show's register_dns without register"
[ -e "$T/run/resolved/lab" ] && fail "the record stays after the registration was reverted"
ok "register dropped: the link reverted in resolved, the network still runs"

sed -i 's/^local-only = yes$/local-only = yes\nregister = yes/' "$T/etc/networks/lab.conf"
ctl reload >/dev/null
rctl domain nd-lab | has -F '~lab.test' || fail "~lab.test not registered again"
ctl network stop lab >/dev/null
rctl domain nd-lab | has -F '~lab.test' && fail "~lab.test still registered after network stop"
ok "registered again by a reload; reverted at network stop"

# A domain change resolved cannot take: show must not claim the new domain registered.
ctl network start lab >/dev/null
rctl domain nd-lab | has -F '~lab.test' || fail "~lab.test not registered at network start"
kill "$RESOLVED_PID"
wait "$RESOLVED_PID" 2>/dev/null || true
sed -i 's/^domain = lab.test$/domain = lab2.test/' "$T/etc/networks/lab.conf"
ctl reload >/dev/null
assert_eq "$(ctl --json network show lab | jq -c '.register_dns | [.registered, .domain]')" '[false,null]' \
	"show's register_dns after a domain change resolved did not take"
warn=$(ctl --json network show lab | jq -r .register_dns.warning)
assert_eq "$warn" "the domain lab2.test is not registered with the host's resolver: systemd-resolved is not running" \
	"show's warning after the failed change"
ok "a domain change without resolved: show says not registered, and why: $warn"

# No resolved: the network starts all the same, show says why its domain is not registered.
ctl network stop lab >/dev/null
ctl network start lab >/dev/null
assert_eq "$(ctl --json network show lab | jq -r .state)" active "the network's state without resolved"
warn=$(ctl --json network show lab | jq -r .register_dns.warning)
assert_eq "$warn" "the domain lab2.test is not registered with the host's resolver: systemd-resolved is not running" \
	"show's warning without resolved"
ok "no resolved: the network runs, show warns: $warn"

# netd killed (-9) while registered, register dropped from the file, netd started again: the
# recorded registration is reverted (the new netd's up() has nothing of it in memory).
start_resolved
ctl reload >/dev/null
ctl network stop lab >/dev/null
ctl network start lab >/dev/null
rctl domain nd-lab | has -F '~lab2.test' || fail "~lab2.test not registered with a running resolved: $(rctl domain nd-lab)"
kill9_netd
sed -i '/^register = yes$/d' "$T/etc/networks/lab.conf"
start_netd
for _ in $(seq 1 50); do rctl domain nd-lab | has -F '~lab2.test' || break; sleep 0.1; done
rctl domain nd-lab | has -F '~lab2.test' && fail "~lab2.test still registered after kill -9, register dropped and a start"
rctl dns nd-lab | has -F 10.54.0.1 && fail "the gateway still nd-lab's DNS server after kill -9 and a start without register"
[ -e "$T/run/resolved/lab" ] && fail "the record stays after the start reverted it"
ok "kill -9, register dropped, start: the recorded registration is reverted"

# resolved in another network namespace than netd (a netd in a container on the host's bus): its
# ifindex would name some other link, so nothing is registered and show says why.
kill "$RESOLVED_PID"
wait "$RESOLVED_PID" 2>/dev/null || true
OTHER="netdt-rsd-$$-${RANDOM}"
ip netns add "$OTHER"
EXTRA_NS+=("$OTHER")
ISO_NS=$OTHER start_resolved
sed -i 's/^local-only = yes$/local-only = yes\nregister = yes/' "$T/etc/networks/lab.conf"
ctl reload >/dev/null
warn=$(ctl --json network show lab | jq -r .register_dns.warning)
has -E "^the domain lab2.test is not registered with the host's resolver: systemd-resolved \(pid [0-9]+\) runs in another network namespace than netd" <<<"$warn" ||
	fail "resolved in another namespace: $warn"
assert_eq "$(ctl --json network show lab | jq -r .register_dns.registered)" false "registered with resolved elsewhere"
ok "resolved in another network namespace: nothing registered, show says why"
