#!/usr/bin/env bash
# Shell completion (completion/netdctl.bash, netdctl complete): the bash completion is sourced with
# bash-completion loaded and asked, as bash asks it (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT,
# _netdctl), for commands, verbs, options, option values, files, and the live names of a netd
# running in this test's namespace (networks, guests, disks, forward IDs, snapshots), through --socket and
# through $NETD_SOCKET. Its lists cannot drift: netdctl reads them off the table --help prints
# (checked here against --help too). 'netdctl complete' with netd down, and as a user who may not
# ask netd, prints nothing and exits 0; a bad KIND is a usage error (exit status 2).
. "$(dirname "$0")/lib.sh"
need qemu-img
BC=/usr/share/bash-completion/bash_completion
[ -r "$BC" ] || skip "bash-completion missing ($BC)"
getent group netd >/dev/null || skip "no group netd (run scripts/install-deps)"
COMPLETION=$TESTS_LIB_DIR/../../completion/netdctl.bash

start_netd --image-dir "$T/images"
ctl network create lan --mode nat --subnet 10.96.0.0/24 >/dev/null
ctl network create lab --mode isolated --subnet 10.97.0.0/24 >/dev/null
head -c 4096 /dev/zero >"$T/vmlinuz"
ctl vm create web --network lan --kernel "$T/vmlinuz" --no-autostart >/dev/null
ctl disk create root.qcow2 --size 16M >/dev/null
ctl vm create db --network lab --kernel "$T/vmlinuz" --disk root.qcow2 --no-autostart >/dev/null
ctl vm snapshot create db before-upgrade >/dev/null
ctl network forward add lan --proto tcp --port 8080 --to 10.96.0.5:80 >/dev/null
ctl network forward add lan --proto udp --port 5353 --to 10.96.0.6 >/dev/null
mkdir "$T/files" "$T/files/subdir"
touch "$T/files/def.xml" "$T/files/other.conf"
ok "netd with networks lan and lab, guests web and db (on disk root.qcow2, snapshot before-upgrade), two forwards on lan"

# comp WORD...: what _netdctl (in a bash with bash-completion and the completion sourced) offers
# for the last WORD (the cursor at its end), sorted, one a line. $NETDCTL is the command word.
comp() {
	local line="$NETDCTL $*" # the words as typed (none has a space or a quote)
	env -i PATH="$PATH" HOME=/nonexistent NETD_SOCKET="${COMP_SOCKET:-}" bash --norc --noprofile -c '
		. "$1"; . "$2"; shift 2
		COMP_LINE=$1; COMP_POINT=${#COMP_LINE}; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_netdctl
		printf "%s\n" "${COMPREPLY[@]}"' _ "$BC" "$COMPLETION" "$line" "$NETDCTL" "$@" | sed '/^$/d' | sort
}
# expect WORDS... = CANDIDATES...: comp WORDS gives exactly CANDIDATES.
expect() {
	local -a words=()
	while [ "$1" != "=" ]; do words+=("$1"); shift; done
	shift
	local got exp
	got=$(comp "${words[@]}")
	exp=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
	[ "$got" = "$exp" ] || fail "completion of '${words[*]}': expected [$(echo $exp)], got [$(echo $got)]"
	ok "'${words[*]}' -> $(echo $got)"
}
S=(--socket "$SOCK")

# ---- commands, verbs, options, fixed values ----
expect "" = network uplink vm disk monitor doctor graph status reload
expect net = network
expect network f = forward
expect "${S[@]}" network forward "" = add list remove
expect vm snapshot r = revert
expect vm create g --acc = --accel
expect network stop lan - = --force --json
expect disk create d.qcow2 --format "" = qcow2 raw
expect "${S[@]}" network forward add lan --proto "" = tcp udp tcp,udp
expect network create n --mode "" = nat routed isolated bridge open evpn
expect vm create g --accel k = kvm
expect vm create g --boot "" = cdrom,disk disk,cdrom
expect vm attach-nic web lan --nic-security "" = on off
expect network create n --ipv6-mode "" = slaac dhcpv6 slaac+dhcpv6
# --opt=value: bash splits at '=' (COMP_WORDBREAKS), bash-completion joins it again
expect disk convert a b --format=q = qcow2

# ---- files ----
expect network import "$T/files/d" = "$T/files/def.xml"
expect vm define "$T/files/" = "$T/files/def.xml" "$T/files/other.conf" "$T/files/subdir"
expect network create n --tftp-root "$T/files/s" = "$T/files/subdir"

# ---- live names, through --socket on the command line ----
expect "${S[@]}" network show "" = lab lan
expect "${S[@]}" network show la = lab lan
expect "${S[@]}" vm start "" = db web
expect "${S[@]}" vm create g --network l = lab lan
expect "${S[@]}" doctor --guest w = web
expect "${S[@]}" doctor "" = lab lan
expect "${S[@]}" disk info "" = root.qcow2
expect "${S[@]}" vm create g --disk "$T/files/o" = "$T/files/other.conf"
expect "${S[@]}" vm create g --disk r = root.qcow2
expect "${S[@]}" network forward remove lan "" = 1 2
expect "${S[@]}" network forward add lan --to w = web
expect "${S[@]}" vm snapshot revert db "" = before-upgrade
expect "${S[@]}" vm snapshot delete --timeout 5 db b = before-upgrade
expect "${S[@]}" vm snapshot create db "" =
expect "${S[@]}" vm set-network web --nic 0 "" = lab lan
# a new name is not an existing one
expect "${S[@]}" network create "" =
expect "${S[@]}" vm clone web "" =
# through $NETD_SOCKET, as netdctl itself reads it
COMP_SOCKET=$SOCK expect vm show "" = db web
# netdctl's default socket is not this netd's: nothing, and no noise
expect vm show "" =

# without bash-completion's helpers (a bare bash, or zsh's bashcompinit): the same candidates
plain=$(env -i PATH="$PATH" bash --norc --noprofile -c '. "$1"; shift
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
	_netdctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$NETDCTL" "${S[@]}" vm show "" | sort | tr '\n' ' ')
assert_eq "$plain" "db web " "vm show in a bash without bash-completion"
plain=$(env -i PATH="$PATH" bash --norc --noprofile -c '. "$1"; shift
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _netdctl; printf "%s\n" "${COMPREPLY[@]}"' \
	_ "$COMPLETION" "$NETDCTL" network import "$T/files/d")
assert_eq "$plain" "$T/files/def.xml" "a file name in a bash without bash-completion"
ok "a bash without bash-completion: live names and file names"

# ---- the lists are netdctl's own (--help's) ----
help=$("$NETDCTL" --help)
cmds=$(comp "")
globals=$(comp -)
for cmd in $cmds; do
	grep -qE "^  $cmd( |\$)" <<<"$help" || fail "command '$cmd' is not in --help"
done
for cmd in $(sed -n 's/^  \([a-z]\+\) .*/\1/p; s/^  \([a-z]\+\)$/\1/p' <<<"$help" | sort -u); do
	[ "$cmd" = complete ] && continue
	grep -qx "$cmd" <<<"$cmds" || fail "--help's command '$cmd' is not completed"
done
# every option --help gives 'vm create', 'network create' and 'network forward add' is completed
for c in "vm create" "network create" "network forward add" "disk import" "uplink convert"; do
	# shellcheck disable=SC2086
	opts=$(comp $c x -- | grep -v '^--json$')
	hopts=$(awk -v c="  $c " 'index($0, c) == 1 { on = 1 } on && /^  [a-z]/ && index($0, c) != 1 { on = 0 }
		on { print }' <<<"$help" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
	for o in $hopts; do grep -qx -- "$o" <<<"$opts" || fail "$c: --help's $o is not completed"; done
	ok "$c: all of --help's $(echo "$hopts" | wc -l) options are completed"
done
for o in $(sed -n '/^Options:/,/^$/p' <<<"$help" | grep -oE -- '--[a-z][a-z0-9-]*'); do
	grep -qx -- "$o" <<<"$globals" || fail "netdctl's option $o is not completed"
done
ok "commands and netdctl's options: the same as --help"

# ---- netdctl complete itself ----
assert_eq "$(ctl complete networks | sort | tr '\n' ' ')" "lab lan " "complete networks"
assert_eq "$(ctl complete guests | sort | tr '\n' ' ')" "db web " "complete guests"
assert_eq "$(ctl complete disks)" "root.qcow2" "complete disks"
assert_eq "$(ctl complete forwards lan | tr '\n' ' ')" "1 2 " "complete forwards lan"
assert_eq "$(ctl complete forwards nosuch)" "" "complete forwards of no such network"
assert_eq "$(ctl complete snapshots db)" "before-upgrade" "complete snapshots db"
ok "complete networks, guests, disks, forwards NET, snapshots GUEST"

OP=netdtc$$
add_user "$OP" netd
NOBODY=netdtn$$
add_user "$NOBODY"
out=$(run_as "$OP" "$NETDCTL" --socket "$SOCK" complete networks 2>&1) || fail "operator: complete networks failed"
assert_eq "$(sort <<<"$out" | tr '\n' ' ')" "lab lan " "an operator's complete networks"
rc=0
out=$(run_as "$NOBODY" "$NETDCTL" --socket "$SOCK" complete networks 2>&1) || rc=$?
assert_eq "$rc:$out" "0:" "complete networks as a user outside group netd (status:output)"
rc=0
out=$(run_as "$NOBODY" "$NETDCTL" --socket "$SOCK" complete line 3 netdctl vm show "" 2>&1) || rc=$?
assert_eq "$rc:$out" "0:" "complete line as a user outside group netd"
ok "a user who may not ask netd gets nothing, silently, status 0"

# bad input: a usage error (exit status 2) with the kinds listed
bad() {
	local msg=$1 rc=0
	shift
	ctl complete "$@" >"$T/out" 2>"$T/err" || rc=$?
	assert_eq "$rc" 2 "exit status of 'complete $*'"
	grep -qF -- "$msg" "$T/err" || fail "'complete $*': expected '$msg' on stderr, got: $(cat "$T/err")"
	[ ! -s "$T/out" ] || fail "'complete $*' printed: $(cat "$T/out")"
	ok "complete $*: $(head -n1 "$T/err")"
}
bad "unknown KIND 'bogus'" bogus
bad "missing KIND"
bad "forwards: missing" forwards
bad "unexpected argument 'x'" networks x
bad "invalid CWORD" line x netdctl
bad "invalid CWORD '9'" line 9 netdctl vm
bad "options: no such command 'nosuch'" options nosuch

stop_netd
rc=0
out=$(ctl complete networks 2>&1) || rc=$?
assert_eq "$rc:$out" "0:" "complete networks with netd down"
expect "${S[@]}" network show "" =
expect "${S[@]}" network s = show start stop
ok "netd down: no names, no noise; commands still complete"
