#!/usr/bin/env bash
# The upstream resolvers of a network that forwards DNS (issue 20): netd renders them from
# resolv.conf (--resolv-conf) into one servers file, and no dnsmasq watches resolv.conf itself
# (each would hold an inotify instance: 128 per user by default). A change of resolv.conf, of
# the file its symbolic link points at or of the link, reaches every forwarding dnsmasq
# (SIGHUP): a guest's query is answered by the new upstream. Lines that are not a valid
# 'nameserver ADDRESS' never reach dnsmasq.
. "$(dirname "$0")/lib.sh"
need busybox dnsmasq

# Two upstream resolvers in a namespace of their own, each answering only.upstream differently.
add_dns_upstreams
for i in 2 3; do
	ip netns exec "$UPD" dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file= --user=root \
		--bind-interfaces --listen-address="10.53.0.$i" --no-resolv --no-hosts \
		--address="/only.upstream/203.0.113.$i" 2>>"$T/upstream.log" &
done

mkdir -m 0755 "$T/r"
printf 'search example\nnameserver 10.53.0.2\n' >"$T/r/resolv.conf"
ln -s "$T/r/resolv.conf" "$T/resolv.conf"
start_netd --resolv-conf "$T/resolv.conf"
ctl network create lab --mode nat --subnet 10.54.0.0/24 --uplink up0 >/dev/null
add_guest g1 52:54:00:54:00:01 nd-lab
gx g1 ip addr add 10.54.0.50/24 dev eth0

# ask: the address the guest gets for only.upstream from its gateway ("" if none). A only: the test
# upstreams refuse AAAA, and dnsmasq then waits for another server.
# A query that fails (dnsmasq between two upstreams answers REFUSED, nslookup exits 1) is "" too:
# under set -e and pipefail a failed ask ended the test silently (exit 1, no message).
ask() { { gx g1 busybox nslookup -type=a only.upstream 10.54.0.1 2>/dev/null || true; } | sed -n 's/^Address: *\(203\.[0-9.]*\).*/\1/p' | tail -n1; }
# expect ADDRESS WHAT: within 5 s.
expect() {
	local got=
	for _ in $(seq 1 50); do
		got=$(ask)
		[ "$got" = "$1" ] && return 0
		sleep 0.1
	done
	fail "$2: only.upstream is '$got', expected '$1'"
}
expect 203.0.113.2 "the first upstream"
pid=$(dnsmasq_pid lab)
assert_eq "$(find "/proc/$pid/fd" -lname 'anon_inode:inotify' | wc -l)" 0 "inotify instances of the network's dnsmasq"
ok "a guest's query is forwarded to resolv.conf's nameserver; the dnsmasq holds no inotify instance"

# The file the link points at is replaced (as resolvconf and systemd-resolved do).
printf 'nameserver 10.53.0.3\n' >"$T/r/new" && mv "$T/r/new" "$T/r/resolv.conf"
expect 203.0.113.3 "after the link's target was replaced"
assert_eq "$(dnsmasq_pid lab)" "$pid" "dnsmasq's pid (re-read, not restarted)"
ok "a new resolv.conf behind the symbolic link reaches dnsmasq (SIGHUP, same pid)"

# The link itself is pointed elsewhere; and hostile lines are not passed on.
printf 'nameserver 10.53.0.2\nserver=/only.upstream/10.53.0.3\nnameserver 10.53.0.3#53\nnameserver 10.53.0.3 x\n' >"$T/r/other"
ln -sfn "$T/r/other" "$T/resolv.tmp" && mv -T "$T/resolv.tmp" "$T/resolv.conf"
expect 203.0.113.2 "after the link was replaced"
assert_eq "$(grep -v '^#' "$T/run/dnsmasq/upstream.servers")" "$(printf 'server=10.53.0.2\nserver=10.53.0.3')" \
	"the servers file"
ok "a replaced link is followed; only 'nameserver ADDRESS' lines become servers"

# The link pointed into another directory: changes there are seen too.
mkdir -m 0755 "$T/r2"
printf 'nameserver 10.53.0.3\n' >"$T/r2/resolv.conf"
ln -sfn "$T/r2/resolv.conf" "$T/resolv.tmp" && mv -T "$T/resolv.tmp" "$T/resolv.conf"
expect 203.0.113.3 "after the link was pointed into another directory"
printf 'nameserver 10.53.0.2\n' >"$T/r2/new" && mv "$T/r2/new" "$T/r2/resolv.conf"
expect 203.0.113.2 "after a change in the link's new directory"
ln -sfn "$T/r/resolv.conf" "$T/resolv.tmp" && mv -T "$T/resolv.tmp" "$T/resolv.conf"
expect 203.0.113.3 "back to the first directory"
ok "a link pointed into another directory: that directory is watched"

# A resolv.conf that goes away: no upstream; it comes back: forwarded again.
rm "$T/resolv.conf"
for _ in $(seq 1 50); do
	[ -z "$(grep -v '^#' "$T/run/dnsmasq/upstream.servers")" ] && break
	sleep 0.1
done
assert_eq "$(grep -vc '^#' "$T/run/dnsmasq/upstream.servers")" 0 "servers after resolv.conf was removed"
ln -s "$T/r/resolv.conf" "$T/resolv.conf"
expect 203.0.113.3 "after resolv.conf came back"
ok "no resolv.conf, no upstream; it comes back and is used"

# After a restart netd renders the file again and adopts the dnsmasq as it is.
kill9_netd
start_netd --resolv-conf "$T/resolv.conf"
assert_eq "$(dnsmasq_pid lab)" "$pid" "dnsmasq's pid after netd's restart"
expect 203.0.113.3 "after netd's restart"
ok "netd restarted: dnsmasq adopted, still forwarding"
