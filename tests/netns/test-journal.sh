#!/usr/bin/env bash
# Logs journald can filter: with JOURNAL_STREAM naming netd's stderr, each message goes to the
# journal's socket with MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_* and the objects it is about
# (NETWORK=, GUEST=, BRIDGE=). netd runs in a mount namespace of its own whose
# /run/systemd/journal is a tmpfs holding this test's socket (journal-recv.py parses the native
# protocol). A newline in a value cannot forge a field. Without JOURNAL_STREAM, or with one that
# names another file, the log is plain lines as before.
. "$(dirname "$0")/lib.sh"
. "$TESTS_LIB_DIR/tap-guest-lib.sh"
need python3 nft unshare nsenter stat
[ -x "${JOURNAL_LOG:-}" ] || fail "JOURNAL_LOG not set or not built (meson compile, then meson test)"

J="$T/journal.jsonl"
: >"$J"
# The receiver makes the mount namespace: a private /run/systemd (a tmpfs: this machine may have
# no /run/systemd/journal to mount on), the socket in it. netd joins that namespace by its pid.
unshare --mount --propagation private -- sh -c '
	mount -t tmpfs -o mode=0755 netd-test /run/systemd && mkdir /run/systemd/journal &&
	mount -t tmpfs -o mode=0755 netd-test-journal /run/systemd/journal &&
	exec python3 "$1" /run/systemd/journal/socket "$2"' sh "$TESTS_LIB_DIR/journal-recv.py" "$J" &
RECV_PID=$!
BG_PIDS+=("$RECV_PID")
inj() { nsenter --mount="/proc/$RECV_PID/ns/mnt" "$@"; }
for _ in $(seq 1 100); do inj test -S /run/systemd/journal/socket 2>/dev/null && break; sleep 0.05; done
inj test -S /run/systemd/journal/socket || fail "the journal socket stand-in did not start"
grep -q netd-test /proc/self/mountinfo && fail "the tmpfs is visible outside the mount namespace"

# entries JQ_FILTER: the entries (one JSON object a line) the filter selects, compactly.
entries() { jq -c "select($1)" "$J"; }
# wait_entry JQ_FILTER WHAT: poll (up to 5 s) until an entry matches.
wait_entry() {
	for _ in $(seq 1 100); do [ -n "$(entries "$1")" ] && return 0; sleep 0.05; done
	echo "--- entries received:" >&2
	jq -c '{m: .MESSAGE, n: .NETWORK, g: .GUEST, b: .BRIDGE}' "$J" | tail -n 40 >&2
	fail "no journal entry: $2"
}

: >"$T/netd.log"
STREAM=$(stat -c '%d:%i' "$T/netd.log")
NETD_PREFIX=(nsenter --mount="/proc/$RECV_PID/ns/mnt" --net="/run/netns/$NS")
JOURNAL_STREAM=$STREAM start_netd_tap_guests
ctl network create lab --mode isolated --subnet 10.71.0.0/24 >/dev/null
tap_guest g1 52:54:00:71:00:01 lab

# The fields of each entry.
wait_entry '.MESSAGE == ["network '"'lab'"' created (started)"]' "network 'lab' created"
e=$(entries '.MESSAGE == ["network '"'lab'"' created (started)"]' | head -n 1)
assert_eq "$(jq -c '[.NETWORK, .GUEST, .BRIDGE, .PRIORITY, .SYSLOG_IDENTIFIER]' <<<"$e")" \
	'[["lab"],null,null,["6"],["netd"]]' "fields of 'network created'"
assert_eq "$(jq -r '.CODE_FILE[0]' <<<"$e")" netd/network/network-methods.c "CODE_FILE"
jq -e '(.CODE_LINE[0] | test("^[0-9]+$")) and (.CODE_FUNC[0] | length > 0)' <<<"$e" >/dev/null ||
	fail "CODE_LINE/CODE_FUNC of $e"
ok "network create: MESSAGE, PRIORITY=6, SYSLOG_IDENTIFIER=netd, CODE_*, NETWORK=lab alone"

wait_entry '.BRIDGE == ["nd-lab"] and (.MESSAGE[0] | startswith("bridge add nd-lab"))' "bridge add nd-lab"
wait_entry '.GUEST == ["g1"] and (.MESSAGE[0] | startswith("guest '"'g1'"': QEMU pid"))' "guest g1's QEMU"
wait_entry '.GUEST == ["g1"] and .NETWORK == ["lab"] and .BRIDGE == ["nd-lab"] and (.MESSAGE[0] | test("plugged into bridge nd-lab"))' \
	"g1's TAP plugged into nd-lab"
wait_entry '.NETWORK == ["lab"] and (.MESSAGE[0] | startswith("request network.create of network '"'lab'"' from uid 0"))' \
	"request network.create of lab"
wait_entry '.GUEST == ["g1"] and (.MESSAGE[0] | startswith("request vm.create of guest '"'g1'"' from uid 0"))' \
	"request vm.create of g1"
ok "BRIDGE= on the bridge's messages, GUEST= on the guest's, all three on its TAP's plug, and on requests"

# Every message naming the network, guest or bridge in its text carries its field (the ones that
# only name a TAP or an ifindex are the backends' debug lines).
bad=$(entries '(.MESSAGE[0] | test("network '"'lab'"'")) and .NETWORK != ["lab"]')
[ -z "$bad" ] || fail "messages about network lab without NETWORK=lab: $bad"
bad=$(entries '(.MESSAGE[0] | test("guest '"'g1'"'")) and .GUEST != ["g1"]')
[ -z "$bad" ] || fail "messages about guest g1 without GUEST=g1: $bad"
bad=$(entries '(.MESSAGE[0] | test("^bridge [a-z]+ nd-lab|bridge nd-lab")) and .BRIDGE != ["nd-lab"]')
[ -z "$bad" ] || fail "messages about bridge nd-lab without BRIDGE=nd-lab: $bad"
bad=$(entries '(.NETWORK // [] | length) > 1 or (.GUEST // [] | length) > 1 or (.BRIDGE // [] | length) > 1 or has("_PARSE_ERROR")')
[ -z "$bad" ] || fail "entries with a field twice or unparsable: $bad"
bad=$(entries '.NETWORK and (.NETWORK[0] as $n | .MESSAGE[0] | contains($n) | not)')
[ -z "$bad" ] || fail "NETWORK= on a message that does not name it: $bad"
# (dnsmasq writes to the stderr it inherits: under systemd, the journal's stream)
grep -v "^dnsmasq" "$T/netd.log" | has . && fail "netd wrote to stderr although journald took its messages: $(grep -v "^dnsmasq" "$T/netd.log" | head -n 5)"
ok "every message naming lab, g1 or nd-lab carries its field; netd wrote nothing to stderr"

ctl vm destroy g1 >/dev/null
stop_netd

# A newline in a value stays in that value: sd_journal_sendv's length-prefixed form.
: >"$T/helper.err"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/helper.err") inj "$JOURNAL_LOG" 2>>"$T/helper.err"
wait_entry '.GUEST == ["g\nNETWORK=forged"]' "the helper's message"
e=$(entries '.GUEST == ["g\nNETWORK=forged"]')
assert_eq "$(jq -c '[.MESSAGE, .NETWORK, .BRIDGE, .PRIORITY]' <<<"$e")" \
	'[["hostname evil\nBRIDGE=forged\nPRIORITY=0"],null,null,["6"]]' "forged fields"
ok "newlines in GUEST= and MESSAGE= forge no NETWORK=, BRIDGE= or PRIORITY="

# Without JOURNAL_STREAM, or with one naming another file: plain lines, nothing to the socket.
before=$(wc -l <"$J")
: >"$T/netd.log"
start_netd_tap_guests # lab is adopted, running
ctl network stop lab >/dev/null
stop_netd
: >"$T/other"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/other") start_netd_tap_guests
ctl network start lab >/dev/null
stop_netd
assert_eq "$(wc -l <"$J")" "$before" "entries sent without a matching JOURNAL_STREAM"
grep -Eq "^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} info: network 'lab' stopped$" "$T/netd.log" ||
	fail "no plain line for 'network lab stopped': $(tail -n 5 "$T/netd.log")"
grep -Eq "^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} info: network 'lab' started$" "$T/netd.log" ||
	fail "no plain line for 'network lab started' (JOURNAL_STREAM of another file)"
grep -Ev "^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} (debug|info|notice|warning|error): " "$T/netd.log" |
	grep -v "^ " | grep -q "^<[0-9]>" && fail "a '<N>' line without the journal: $(grep "^<" "$T/netd.log" | head -n 3)"
ok "without JOURNAL_STREAM (or naming another file): plain lines, as before"
