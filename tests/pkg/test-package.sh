#!/usr/bin/env bash
# The Debian package, end to end (suite 'package'): scripts/package builds it from a copy of the
# source tree (never the caller's build dirs), lintian's errors fail the test, dpkg-deb -x unpacks
# it into a temporary root whose file list is checked (binaries, the unit with
# ExecStart=/usr/sbin/netd, the sysusers.d and tmpfiles.d snippets, the examples, and everything
# meson installs under prefix /usr: man pages and completions too once the tree has them), the
# unpacked netd --version runs, and scripts/demo runs the unpacked binaries. For the demo, a
# private mount namespace of this test lays the package's usr/sbin, usr/bin and usr/libexec over
# the machine's (overlayfs): netd runs as /usr/sbin/netd and finds its lease helper in
# /usr/libexec as it would once installed. Nothing is installed on this machine (no dpkg -i).
# The demo itself runs in network namespaces of its own. Skips (77) without the packaging tools.
set -euo pipefail

SRC=${SOURCE_DIR:-$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)}
skip() {
	echo "SKIP: $*"
	exit 77
}
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

for tool in dpkg-buildpackage dh fakeroot lintian dpkg-deb meson unshare; do
	command -v "$tool" >/dev/null || skip "$tool is missing (scripts/install-deps installs it)"
done
[[ $EUID -eq 0 ]] || skip "needs root (the demo creates network namespaces)"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
	skip "no overlayfs (the demo runs the package's binaries at their installed paths through it)"

T=$(mktemp -d /tmp/netd-test-package.XXXXXX)
trap 'rm -rf "$T"' EXIT
t0=$SECONDS
step() { echo "=== $* ($((SECONDS - t0)) s)"; }

step "build the package from a copy of $SRC"
"$SRC/scripts/package" --no-deps "$T/out" >"$T/build.log" 2>&1 || {
	tail -n 60 "$T/build.log" >&2
	fail "scripts/package failed"
}
deb=$(tail -n 1 "$T/build.log")
[[ -f $deb && $deb == "$T/out/netd_"*.deb ]] || fail "scripts/package printed no .deb: $deb"
version=$(dpkg-deb -f "$deb" Version)
echo "built ${deb##*/} (version $version)"

step "lintian"
# lintian exits non-zero on errors (--fail-on error); its warnings and notes are shown, not fatal
# (README "Packaging" explains the ones it gives).
rc=0
lintian --fail-on error --display-info "$T/out/netd_${version}_"*.changes >"$T/lintian.log" 2>&1 || rc=$?
grep -v '^running with root privileges' "$T/lintian.log" || true
if ((rc != 0)) || grep -q '^E:' "$T/lintian.log"; then
	fail "lintian reports errors (exit $rc)"
fi

step "unpack with dpkg-deb -x and check the file list"
R=$T/root
dpkg-deb -x "$deb" "$R"
(cd "$R" && find . -mindepth 1 ! -type d | sed 's|^\./||' | sort) >"$T/files"
cat "$T/files"
has() { grep -qxF "$1" "$T/files" || fail "the package lacks $1"; }
for bin in usr/sbin/netd usr/bin/netdctl usr/libexec/netd-lease-event; do
	has "$bin"
	[[ -x $R/$bin ]] || fail "$bin is not executable"
done
unit=$(grep -E '^(usr/)?lib/systemd/system/netd\.service$' "$T/files") || fail "the package has no netd.service"
grep -qx 'ExecStart=/usr/sbin/netd' "$R/$unit" || fail "$unit: ExecStart is not /usr/sbin/netd: $(grep '^ExecStart' "$R/$unit")"
has usr/lib/sysusers.d/netd.conf
has usr/lib/tmpfiles.d/netd.conf
cmp -s "$SRC/systemd/netd.sysusers" "$R/usr/lib/sysusers.d/netd.conf" || fail "sysusers.d/netd.conf is not systemd/netd.sysusers"
cmp -s "$SRC/systemd/netd.tmpfiles" "$R/usr/lib/tmpfiles.d/netd.conf" || fail "tmpfiles.d/netd.conf is not systemd/netd.tmpfiles"
grep -qE '^g netd( |$)' "$R/usr/lib/sysusers.d/netd.conf" || fail "sysusers.d/netd.conf makes no group netd"
grep -qE '^u netd-qemu( |$)' "$R/usr/lib/sysusers.d/netd.conf" || fail "sysusers.d/netd.conf makes no user netd-qemu"
for ex in "$SRC"/examples/*; do
	has "usr/share/doc/netd/examples/${ex##*/}"
done
has usr/share/doc/netd/copyright
# Man pages and completions (other parts of the tree; checked once it has them).
if [[ -d $SRC/man ]]; then
	for page in "$SRC"/man/*.scd; do
		name=${page##*/}
		name=${name%.scd}
		has "usr/share/man/man${name##*.}/$name.gz"
	done
fi
if [[ -f $SRC/completion/netdctl.bash ]]; then
	has usr/share/bash-completion/completions/netdctl
fi
if [[ -d $SRC/completion ]] && compgen -G "$SRC/completion/*zsh*" >/dev/null; then
	grep -qE '^usr/share/zsh/.*/_netdctl$' "$T/files" || fail "the tree has a zsh completion, the package does not"
fi
# Everything meson installs under prefix /usr (what debian/rules' dh_auto_install runs) is in the
# package: a new installed file needs no edit of debian/. Man pages are compressed by dh.
meson setup "$T/intro" "$SRC" --prefix /usr -Dtests=false -Dwerror=false >"$T/intro.log" 2>&1 || {
	cat "$T/intro.log" >&2
	fail "meson setup for the list of installed files failed"
}
meson introspect "$T/intro" --installed | jq -r '.[]' | sort -u >"$T/meson-files"
[[ -s $T/meson-files ]] || fail "meson lists no installed files"
while read -r path; do
	rel=${path#/}
	[[ -e $R/$rel || -e $R/$rel.gz ]] || fail "meson installs $path, the package lacks it"
done <"$T/meson-files"
# Nothing under /usr/local or /etc: the definitions in /etc/netd are the operator's (see debian/postrm).
! grep -qE '^(usr/local|etc)/' "$T/files" || fail "the package has files under /usr/local or /etc: $(grep -E '^(usr/local|etc)/' "$T/files")"
# Dependencies.
depends=$(dpkg-deb -f "$deb" Depends)
recommends=$(dpkg-deb -f "$deb" Recommends)
for dep in dnsmasq-base libnftables1 libmnl0; do
	[[ ", $depends," == *", $dep"[\ ,]* ]] || fail "Depends lacks $dep: $depends"
done
[[ ", $recommends," == *", qemu-system-x86"[\ ,]* ]] || fail "Recommends lacks qemu-system-x86: $recommends"

step "postrm purge in a scratch root (DPKG_ROOT)"
# Only the package's own part of postrm (debhelper's sections would ask this machine's systemd).
dpkg-deb -e "$deb" "$T/control"
sed '/^# Automatically added by/,$d' "$T/control/postrm" >"$T/postrm-own"
grep -q 'keep_only' "$T/postrm-own" || fail "postrm has no purge part"
P=$T/purge
mkdir -p "$P"/etc/netd/{networks,guests,uplinks} "$P"/var/lib/netd/{networks/lab,guests/g,images/.netd,uplinks/br0} \
	"$P"/run/netd/networks
touch "$P"/etc/netd/networks/lab.conf "$P"/etc/netd/guests/g.conf "$P"/etc/netd/uplinks/br0.conf \
	"$P"/var/lib/netd/networks/lab/mac "$P"/var/lib/netd/guests/g/uuid "$P"/var/lib/netd/images/g.qcow2 \
	"$P"/var/lib/netd/images/.netd/g.qcow2 "$P"/var/lib/netd/uplinks/br0/state "$P"/run/netd/netd.lock
(cd "$P" && find . | sort) >"$T/purge-before"
DPKG_ROOT=$P sh "$T/postrm-own" remove
(cd "$P" && find . | sort) | cmp -s - "$T/purge-before" || fail "postrm remove deleted files"
DPKG_ROOT=$P sh "$T/postrm-own" purge 2>"$T/purge.log"
cat "$T/purge.log"
(cd "$P" && find . ! -type d | sort) >"$T/purge-after"
printf '%s\n' ./etc/netd/uplinks/br0.conf ./var/lib/netd/images/.netd/g.qcow2 ./var/lib/netd/images/g.qcow2 \
	./var/lib/netd/uplinks/br0/state | cmp -s - "$T/purge-after" ||
	fail "after purge: expected only the uplink records and the image pool, found: $(cat "$T/purge-after")"
[[ ! -e $P/run/netd && ! -e $P/etc/netd/networks && ! -e $P/var/lib/netd/guests ]] || fail "purge left netd's dirs"
# While a dnsmasq or QEMU netd started still runs (its pid file names a live process), purge keeps
# everything: their leases, sockets and pid files.
P=$T/purge-running
mkdir -p "$P"/etc/netd/networks "$P"/var/lib/netd/networks/lab "$P"/run/netd/dnsmasq "$P"/run/netd/guests/g
touch "$P"/etc/netd/networks/lab.conf "$P"/var/lib/netd/networks/lab/leases
echo 999999999 >"$P"/run/netd/guests/g/pid # (no such process: not counted)
sleep 60 &
sleeper=$!
echo "$sleeper" >"$P"/run/netd/dnsmasq/lab.pid
(cd "$P" && find . | sort) >"$T/purge-before"
DPKG_ROOT=$P sh "$T/postrm-own" purge 2>"$T/purge.log" || { kill "$sleeper"; fail "postrm purge failed"; }
kill "$sleeper"
wait "$sleeper" 2>/dev/null || true
cat "$T/purge.log"
(cd "$P" && find . | sort) | cmp -s - "$T/purge-before" || fail "purge deleted files while a dnsmasq ran"
grep -q "run/netd/dnsmasq/lab.pid (pid $sleeper)" "$T/purge.log" || fail "purge did not say what runs"
grep -q "guests/g/pid" "$T/purge.log" && fail "purge counted a pid file of a process that is gone"

step "the unpacked netd --version"
out=$("$R/usr/sbin/netd" --version) || fail "netd --version failed"
echo "$out"
[[ $out == "netd ${version%%-*}" ]] || fail "netd --version says '$out', the package is $version"
out=$("$R/usr/bin/netdctl" --version) || fail "netdctl --version failed"
[[ $out == "netdctl ${version%%-*}" ]] || fail "netdctl --version says '$out', the package is $version"

step "scripts/demo with the unpacked binaries"
# The overlays exist only in this private mount namespace, which ends with the demo.
# shellcheck disable=SC2016 # expanded by the inner bash
unshare --mount --propagation private -- bash -euo pipefail -c '
	R=$1 SRC=$2
	for d in usr/sbin usr/bin usr/libexec; do
		mount -t overlay overlay -o "lowerdir=$R/$d:/$d" "/$d"
	done
	[[ $(readlink -f /usr/sbin/netd) == /usr/sbin/netd && -x /usr/libexec/netd-lease-event ]]
	NETD=/usr/sbin/netd NETDCTL=/usr/bin/netdctl "$SRC/scripts/demo"
' demo "$R" "$SRC" >"$T/demo.log" 2>&1 || {
	tail -n 60 "$T/demo.log" >&2
	fail "scripts/demo failed with the package's binaries"
}
grep -q '^demo: running /usr/sbin/netd and /usr/bin/netdctl' "$T/demo.log" || fail "the demo did not run the package's binaries"
tail -n 15 "$T/demo.log"
grep -qx 'demo: OK' "$T/demo.log" || fail "the demo did not end with OK"

step "ok"
