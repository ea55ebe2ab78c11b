#!/usr/bin/env bash
# --register-dns against a real systemd-resolved (issue 17): the host resolves the network's domain
# through its dnsmasq. resolved runs in the test's namespace on a private system bus (dbus-daemon
# with a copy of the system bus config), in a mount namespace of its own (a tmpfs on /run/systemd:
# the host's /run/systemd/resolve and resolv.conf are never touched). systemd-resolved is not
# installed for this (it would take over the host's /etc/resolv.conf): scripts/install-deps only
# downloads its package (into /var/cache/netd-tests), which the test unpacks into its own folder,
# unless the binary is on the host already.
. "$(dirname "$0")/lib.sh"
need dnsmasq dbus-daemon dpkg-deb

RESOLVED=/lib/systemd/systemd-resolved RESOLVECTL=$(command -v resolvectl || true) BUSD=
if [ ! -x "$RESOLVED" ]; then
	deb=$(compgen -G "/var/cache/netd-tests/systemd-resolved_*.deb" | tail -n1 || true)
	[ -n "$deb" ] || skip "no systemd-resolved package in /var/cache/netd-tests (scripts/install-deps downloads it)"
	dpkg-deb -x "$deb" "$T/rsd" || skip "cannot unpack $deb"
	RESOLVED="$T/rsd/lib/systemd/systemd-resolved" RESOLVECTL="$T/rsd/usr/bin/resolvectl"
	BUSD="$T/rsd/usr/share/dbus-1/system.d"
	"$RESOLVED" --version >/dev/null 2>&1 || skip "the unpacked systemd-resolved does not run here (libsystemd-shared?)"
fi
[ -n "$RESOLVECTL" ] || skip "resolvectl missing"
# resolved drops to this user, and the bus policy names it: it must exist before dbus-daemon starts.
getent passwd systemd-resolve >/dev/null || add_user systemd-resolve

# The private system bus.
sed -e "s#<listen>.*</listen>#<listen>unix:path=$T/bus.sock</listen>#" -e '/<fork\/>/d' -e '/<pidfile>/d' \
	-e "s#<includedir>system.d</includedir>#<includedir>/usr/share/dbus-1/system.d</includedir>${BUSD:+<includedir>$BUSD</includedir>}#" \
	-e '/<servicedir>/d' -e '/<standard_system_servicedirs/d' /usr/share/dbus-1/system.conf >"$T/bus.conf"
nsx dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile 2>>"$T/dbus.log" &
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus.sock"
for _ in $(seq 1 100); do [ -S "$T/bus.sock" ] && break; sleep 0.05; done
[ -S "$T/bus.sock" ] || fail "dbus-daemon did not start: $(cat "$T/dbus.log")"

start_resolved() {
	# Not through nsx: $! must be resolved's own pid ('ip netns exec', unshare and sh exec it).
	ip netns exec "$NS" unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/resolve &&
		chown systemd-resolve: /run/systemd/resolve && exec "$0"' "$RESOLVED" 2>>"$T/resolved.log" &
	RESOLVED_PID=$!
	for _ in $(seq 1 100); do nsx "$RESOLVECTL" status >/dev/null 2>&1 && return 0; sleep 0.05; done
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
assert_eq "$(ctl --json network show lab | jq -c .register_dns)" '{"registered":true,"warning":null}' "show's register_dns"
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
assert_eq "$(ctl --json network show lab | jq -c .register_dns)" null "show's register_dns without register"
ok "register dropped: the link reverted in resolved, the network still runs"

sed -i 's/^local-only = yes$/local-only = yes\nregister = yes/' "$T/etc/networks/lab.conf"
ctl reload >/dev/null
rctl domain nd-lab | has -F '~lab.test' || fail "~lab.test not registered again"
ctl network stop lab >/dev/null
rctl domain nd-lab | has -F '~lab.test' && fail "~lab.test still registered after network stop"
ok "registered again by a reload; reverted at network stop"

# No resolved: the network starts all the same, show says why its domain is not registered.
kill "$RESOLVED_PID"
wait "$RESOLVED_PID" 2>/dev/null || true
ctl network start lab >/dev/null
assert_eq "$(ctl --json network show lab | jq -r .state)" active "the network's state without resolved"
warn=$(ctl --json network show lab | jq -r .register_dns.warning)
assert_eq "$warn" "the domain lab.test is not registered with the host's resolver: systemd-resolved is not running" \
	"show's warning without resolved"
ok "no resolved: the network runs, show warns: $warn"
