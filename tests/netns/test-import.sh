#!/usr/bin/env bash
# netdctl network import: libvirt's default network (as libvirt ships it) and a dual-stack one,
# imported, started, and a real client (busybox udhcpc) leases from the range; --dry-run prints
# exactly the file the import then writes and creates nothing; a definition with elements netd
# cannot express is refused, listing them, and nothing is created; --partial imports the rest;
# malformed XML, an XXE attempt and a bad dry_run are refused with nothing changed.
. "$(dirname "$0")/lib.sh"
command -v busybox >/dev/null || skip "busybox missing (udhcpc)"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
export NETDCTL SOCK
X="$TESTS_DIR/data/libvirt"

start_netd

# 1. --dry-run: the definition on stdout, nothing created or written (links, addresses, routes,
# dnsmasq, nft, the config and state dirs: no ula-prefix either, for a subnet6 auto).
full_snapshot() {
	snapshot
	nsx nft list ruleset
	(cd "$T" && { find etc lib run -path run/netd.sock -prune -o -print 2>/dev/null || true; } | sort)
}
full_snapshot >"$T/before"
ctl network import "$X/default-shipped.xml" --dry-run >"$T/dry.conf" 2>"$T/dry.err" || fail "dry run: $(cat "$T/dry.err")"
reply=$(raw_request '{"method":"network.create","params":{"name":"six","mode":"nat","subnet6":"auto","dry_run":true}}')
jq -e '.ok and .result.dry_run' <<<"$reply" >/dev/null || fail "subnet6 auto dry run: $reply"
full_snapshot >"$T/after"
diff -u "$T/before" "$T/after" || fail "a dry run changed something"
has '^mode = nat$' "$T/dry.conf" || fail "dry run's definition: $(cat "$T/dry.conf")"
has '^range = 192.168.122.2-192.168.122.254$' "$T/dry.conf" || fail "dry run's range: $(cat "$T/dry.conf")"
assert_eq "$(ctl --json network list | jq length)" 0 "networks after a dry run"
[ ! -e "$T/etc/networks/default.conf" ] || fail "a dry run wrote a definition"
has_link virbr0 && fail "a dry run made a bridge"
ctl --json network import "$X/default-shipped.xml" --dry-run --name=other | jq -e '.dry_run and .name == "other"' >/dev/null ||
	fail "--json --dry-run --name"
ok "--dry-run prints the definition ($(wc -l <"$T/dry.conf") lines) and creates nothing"

# A netd that ignores dry_run (an older one) would create: netdctl says so and fails.
python3 - "$T/fake.sock" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept(); c.makefile().readline()
c.sendall(b'{"ok": true, "result": {"name": "default", "state": "active"}}\n'); c.close()
PY
fake=$!
for _ in $(seq 50); do [ -S "$T/fake.sock" ] && break; sleep 0.1; done
rc=0
"$NETDCTL" --socket "$T/fake.sock" network import "$X/default-shipped.xml" --dry-run >/dev/null 2>"$T/err" || rc=$?
wait "$fake"
assert_eq "$rc" 1 "exit status of a dry run a netd did not do"
has -F 'no dry run'"'"'s (no "dry_run": true): this netd may have created network '"'"'default'"'"'' "$T/err" ||
	fail "ignored dry run: $(cat "$T/err")"
reply=$(raw_request '{"method":"network.create","params":{"name":"x","mode":"nat","dry_rn":true}}')
jq -e '.ok == false and (.error | startswith("unknown parameter '"'"'dry_rn'"'"'"))' <<<"$reply" >/dev/null ||
	fail "unknown parameter: $reply"
ok "a reply without dry_run fails loudly; netd refuses a parameter it does not know"

# 2. The import: the same file as the dry run said, the network up, a lease from the range.
ctl network import "$X/default-shipped.xml" >/dev/null 2>"$T/imp.err" || fail "import: $(cat "$T/imp.err")"
diff -u "$T/dry.conf" "$T/etc/networks/default.conf" || fail "the dry run's definition is not the file written"
assert_eq "$(ctl --json network show default | jq -r '"\(.mode) \(.bridge) \(.subnet) \(.state)"')" \
	"nat virbr0 192.168.122.0/24 active" "imported default network"
NETWORK=default
add_guest g1 52:54:00:aa:01:01 virbr0
dhcp_client g1 default
ip1=$(guest_ip g1)
[[ "$ip1" =~ ^192\.168\.122\.([2-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-4])$ ]] || fail "lease $ip1 not in the range"
ok "imported default network: bridge virbr0, udhcpc leased $ip1 from 192.168.122.2-254"

# 3. Dual stack: both prefixes on the bridge, DHCPv6 range in dnsmasq's config, an IPv4 lease.
ctl network import "$X/dual-stack.xml" >/dev/null 2>"$T/imp.err" || fail "dual-stack import: $(cat "$T/imp.err")"
assert_eq "$(ctl --json network show dual | jq -r '"\(.subnet) \(.subnet6) \(.ipv6_mode) \(.nat6) \(.state)"')" \
	"192.168.80.0/24 fd00:80::/64 dhcpv6 false active" "imported dual-stack network"
ip -n "$NS" -j addr show virbr13 | jq -e '[.[0].addr_info[].local] | index("192.168.80.1") and index("fd00:80::1")' >/dev/null ||
	fail "dual-stack bridge addresses: $(ip -n "$NS" addr show virbr13)"
has '^dhcp-range=.*fd00:80::100,fd00:80::1ff' "$T/run/dnsmasq/dual.conf" || fail "no DHCPv6 range: $(cat "$T/run/dnsmasq/dual.conf")"
add_guest g2 52:54:00:aa:02:01 virbr13
dhcp_client g2 dual
ip2=$(guest_ip g2)
[[ "$ip2" =~ ^192\.168\.80\.(1[0-9][0-9]|200)$ ]] || fail "dual-stack lease $ip2 not in 192.168.80.100-200"
ok "imported dual-stack network: 192.168.80.1 and fd00:80::1 on virbr13, DHCPv6 range, udhcpc leased $ip2"

# 4. Refused: every element netd cannot express is named, nothing is created.
# (the guests' link-local addresses first finish their DAD: the kernel's change, not netd's)
for _ in $(seq 50); do [ -z "$(ip -n "$NS" -6 addr show tentative)" ] && break; sleep 0.1; done
snapshot >"$T/before"
rc=0
ctl network import "$X/refused-qos.xml" >"$T/out" 2>"$T/err" || rc=$?
assert_eq "$rc" 2 "exit status of a refused import"
for e in "<bandwidth>" "<portgroup>" "<vlan>" "<route>" "<network trustGuestRxFilters='yes'>"; do
	grep -qF -- "  $e" "$T/err" || fail "refusal does not list $e: $(cat "$T/err")"
done
has "refused, nothing imported (--partial imports the rest)" "$T/err" || fail "refusal: $(cat "$T/err")"
snapshot >"$T/after"
diff -u "$T/before" "$T/after" || fail "a refused import changed something"
ctl network import "$X/refused-hostdev.xml" --partial 2>"$T/err" && fail "hostdev imported with --partial"
has "<forward mode='hostdev'>" "$T/err" || fail "hostdev refusal: $(cat "$T/err")"
has "no forward mode netd has: nothing to import" "$T/err" || fail "hostdev --partial: $(cat "$T/err")"
ctl network import "$X/refused-virtualport.xml" --partial 2>"$T/err" && fail "virtualport imported with --partial"
has "<virtualport>: guests would be attached to another kind of port: nothing imported, not even with --partial" "$T/err" ||
	fail "virtualport --partial: $(cat "$T/err")"
ok "refused: $(grep -c '^  <' "$T/err") elements of a hostdev network; refused-qos.xml's are listed by name; nothing changed"

# 5. --partial: the rest is imported (and the list is still shown).
ctl network import "$X/refused-qos.xml" --partial >/dev/null 2>"$T/err" || fail "--partial: $(cat "$T/err")"
has "(left out: --partial)" "$T/err" || fail "--partial did not list what it left out: $(cat "$T/err")"
assert_eq "$(ctl --json network show qos | jq -r '"\(.mode) \(.bridge) \(.subnet) \(.state)"')" \
	"nat virbr15 192.168.92.0/24 active" "--partial import"
ok "--partial imports the rest: qos on virbr15, 192.168.92.0/24"

# 6. Bad input: clear errors, nothing changed.
snapshot >"$T/before"
bad() {
	local want=$1 rc=0
	shift
	ctl "$@" >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" != 0 ] || fail "'$*' succeeded"
	has -F -- "$want" "$T/err" || fail "'$*': expected '$want', got: $(cat "$T/err")"
}
bad "is not well-formed XML: line 5" network import "$X/bad-malformed.xml"
bad "has a DOCTYPE or an entity declaration" network import "$X/bad-xxe.xml"
bad "its root element is <domain>, not <network>" network import "$X/bad-not-network.xml"
bad "cannot read $T/nonexistent.xml" network import "$T/nonexistent.xml"
bad "is not a regular file" network import /dev/null
bad "missing FILE.xml" network import
bad "unexpected argument '--bogus'" network import "$X/default-shipped.xml" --bogus
head -c 1048577 /dev/zero | tr '\0' ' ' >"$T/huge.xml"
bad "is larger than 1048576 bytes" network import "$T/huge.xml"
bad "network 'default' already exists" network import "$X/default-shipped.xml" --dry-run
bad "bridge 'virbr0' is already used by network 'default'" network import "$X/default-shipped.xml" --name copy --dry-run
# the definition's pinned MAC in a request: checked as in a file
for m in 'zz:54:00:00:00:01|expected six hex pairs' '01:00:5e:00:00:01|' '00:00:00:00:00:00|' '52:54:00:00:00:01,x|expected six hex pairs'; do
	reply=$(raw_request '{"method":"network.create","params":{"name":"x","mode":"nat","mac":"'"${m%%|*}"'"}}')
	jq -e --arg w "${m#*|}" '.ok == false and (.error | contains("MAC") and contains($w))' <<<"$reply" >/dev/null ||
		fail "bad mac ${m%%|*}: $reply"
done
printf '<network><name>noip</name><forward mode="nat"/></network>' >"$T/noip.xml"
bad "a network without <ip>: netd would give it a subnet, DHCP and DNS: nothing imported, not even with --partial" network import "$T/noip.xml" --partial
sed 's|<name>default</name>|<name>my net</name>|' "$X/default-shipped.xml" >"$T/badname.xml"
bad "<name>my net</name> is no netd network name (it may contain only letters, digits, '-' and '_'): give --name NAME" network import "$T/badname.xml"
reply=$(raw_request '{"method":"network.create","params":{"name":"x","mode":"nat","dry_run":"yes"}}')
jq -e '.ok == false and .error == "parameter '"'"'dry_run'"'"' must be a boolean"' <<<"$reply" >/dev/null || fail "dry_run not a boolean: $reply"
snapshot >"$T/after"
diff -u "$T/before" "$T/after" || fail "a bad import changed something"
ok "malformed, XXE, not a network, unreadable, huge, conflicting, no <ip>, a bad name, a bad mac and bad dry_run: refused, nothing changed"
