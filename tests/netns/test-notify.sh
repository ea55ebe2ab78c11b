#!/usr/bin/env bash
# Type=notify: netd tells the service manager READY=1 once its networks are up and the socket
# listens, and STOPPING=1 on SIGTERM.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || skip "socat missing"

mkdir -p "$T/etc/networks"
printf '[network]\nmode = isolated\nsubnet = 10.66.0.0/24\n' >"$T/etc/networks/early.conf"
socat -u "UNIX-RECV:$T/notify" "OPEN:$T/notified,creat,append" &
SOCAT_PID=$!
trap 'kill $SOCAT_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do [ -S "$T/notify" ] && break; sleep 0.02; done
NOTIFY_SOCKET="$T/notify" start_netd
for _ in $(seq 1 100); do grep -q "READY=1" "$T/notified" 2>/dev/null && break; sleep 0.02; done
grep -q "READY=1" "$T/notified" || fail "no READY=1 on NOTIFY_SOCKET"
has_link nd-early || fail "READY=1 came before the autostart network was up"
ok "READY=1 sent after the autostart network came up"
stop_netd
for _ in $(seq 1 100); do grep -q "STOPPING=1" "$T/notified" && break; sleep 0.02; done
grep -q "STOPPING=1" "$T/notified" || fail "no STOPPING=1"
ok "STOPPING=1 on SIGTERM"
