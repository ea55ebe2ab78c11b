#!/usr/bin/env bash
# Dual-stack NAT network create (IPv4 and an IPv6 /64, slaac+dhcpv6), to the events a guest sees,
# two ways in the same run, alternating: 'netdctl network create NAME --mode nat --subnet auto
# --subnet6 auto --ipv6-mode slaac+dhcpv6' (netd running), and the manual way, the script of
# nat-create.sh with IPv6 (bench/nat-manual.sh: the gateway6 without DAD, NAT66 and forward rules,
# IPv6 forwarding, dnsmasq with enable-ra and a v6 dhcp-range). One timing bash in the namespace
# stamps the start, starts 'dhclient -6' in a guest namespace, runs the command and makes the
# guest's veth a port of the new bridge (as a VM's port would be), then waits for dnsmasq bound to
# UDP/547 (polled in /proc/net/udp6 with builtins, as nat-create.sh does UDP/67) and three events:
#  - the first router advertisement on the guest's port, from any source (tcpdump's kernel
#    timestamp in the guest). The guest does not solicit (router_solicitations=0): the RAs counted
#    are the ones the network sends by itself.
#  - the first one from a link-local source, the first the guest's kernel takes (RFC 4861 6.1.2).
#    dnsmasq sends its first RA 0-5 s after the bridge's link-local address appears (it comes with
#    the first port, in DAD): from the gateway6 while that address is tentative, which the guest
#    ignores; the next one 5-20 s later (dnsmasq's radv.c, whole seconds).
#  - the DHCPv6 lease bound: dhclient's script stamps its BOUND6. dhclient waits 0-1 s before its
#    first Solicit (RFC 8415).
# Both ways run the same dnsmasq and dhclient, whose timers dominate these figures.
. "$(dirname "$0")/../lib.sh"
for c in dnsmasq tcpdump dhclient; do
	command -v $c >/dev/null || { row "Dual-stack NAT create" "-" "-" "-" "-" "skipped: no $c"; exit 0; }
done
start_netd
# Both ways turn forwarding on; on before the first sample, as after any.
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
add_guest_ns ""
ip netns exec "$G" sysctl -qw net.ipv6.conf.gv0.accept_dad=0 net.ipv6.conf.gv0.accept_ra=1 \
	net.ipv6.conf.gv0.autoconf=1 net.ipv6.conf.gv0.router_solicitations=0
ip netns exec "$G" tcpdump -i gv0 -n -l -tt 'icmp6 and ip6[40] == 134' 2>/dev/null >"$T/ra" &
DUMP=$!
cat >"$T/bound.sh" <<'EOS'
#!/bin/bash
# dhclient -6's script: stamps the lease bound (and adds nothing: the guest's address is not measured).
case $reason in BOUND6) echo "$EPOCHREALTIME $new_ip6_address" >>"${0%/*}/bound" ;; esac
exit 0
EOS
chmod 0755 "$T/bound.sh"
# timer6.sh MODE N: one bash in the namespace; prints "UDP547_US RA_US RA_LL_US BOUND_US",
# microseconds from the start to each ("-" when it did not come within 30 s).
cat >"$T/timer6.sh" <<'TIMER'
stamp_after() { # FILE [PATTERN]: the stamp, without its dot, of the first line after t0 (matching)
	local ts rest
	while read -r ts rest; do
		[[ $ts == *.* && $rest == ${2:-*} ]] || continue
		ts=${ts/./}
		((ts > t0)) && { echo "$ts"; return 0; }
	done <"$1"
	return 1
}
rm -f "$T/bound" "$T/dh.lease"
t0=$EPOCHREALTIME
t0=${t0/./}
ip netns exec "$G" dhclient -6 -d -1 -D LL -sf "$T/bound.sh" -lf "$T/dh.lease" -pf "$T/dh.pid" gv0 \
	>>"$T/dhclient.log" 2>&1 &
set -e
case $1 in
netd)
	"$NETDCTL" --socket "$SOCK" network create "b$2" --mode nat --subnet auto --subnet6 auto \
		--ipv6-mode slaac+dhcpv6 >/dev/null 2>"$T/create.err" || { cat "$T/create.err" >&2; exit 1; }
	br=nd-b$2
	;;
manual)
	bash "$BENCH_DIR/nat-manual.sh" up "m$2" "10.78.$2" "$T" "fd00:78:$2"
	br=m$2
	;;
esac
ip link set gv1 master "$br"
set +e
until [[ $(</proc/net/udp6) == *":0223 "* ]]; do :; done
t1=$EPOCHREALTIME
ra=- ll=- bound=-
for _ in $(seq 3000); do
	[ "$ra" = - ] && ts=$(stamp_after "$T/ra") && ra=$((ts - t0))
	[ "$ll" = - ] && ts=$(stamp_after "$T/ra" "IP6 fe80:*") && ll=$((ts - t0))
	[ "$bound" = - ] && [ -e "$T/bound" ] && ts=$(stamp_after "$T/bound") && bound=$((ts - t0))
	[ "$ra" != - ] && [ "$ll" != - ] && [ "$bound" != - ] && break
	sleep 0.01
done
echo "$((${t1/./} - t0)) $ra $ll $bound"
TIMER
# Undo one sample: the guest's dhclient, addresses and RA routes, then the network.
undo() {
	local dh
	dh=$(cat "$T/dh.pid" 2>/dev/null) || dh=
	if [ -n "$dh" ]; then
		kill "$dh" 2>/dev/null || true
		while kill -0 "$dh" 2>/dev/null; do sleep 0.01; done
	fi
	rm -f "$T/dh.pid"
	case $1 in
	netd) ctl network delete "b$2" >/dev/null ;;
	manual) ip netns exec "$NS" bash "$BENCH_DIR/nat-manual.sh" down "m$2" "$T" ;;
	esac
	ip -n "$G" -6 addr flush dev gv0 scope global
	ip -n "$G" -6 route flush dev gv0 proto ra
	while ip netns exec "$NS" grep -q ":0043 " /proc/net/udp || ip netns exec "$NS" grep -q ":0223 " /proc/net/udp6; do
		sleep 0.01
	done
}
export NETDCTL SOCK T BENCH_DIR G
sleep 1 # tcpdump listening
for m in netd manual; do : >"$T/$m.udp"; : >"$T/$m.ra"; : >"$T/$m.ll"; : >"$T/$m.bound"; done
for i in $(seq 1 $((REPS * 2))); do
	for mode in netd manual; do
		read -r udp ra ll bound < <(ip netns exec "$NS" bash "$T/timer6.sh" "$mode" "$i")
		for e in udp ra ll bound; do
			[ "${!e:--}" = - ] || echo "${!e}" >>"$T/$mode.$e"
		done
		[ -n "${BENCH_DEBUG:-}" ] && echo "$mode $i: UDP/547 $udp us, RA $ra us, link-local RA $ll us, bound $bound us" >&2
		undo "$mode" "$i"
	done
done
kill "$DUMP" 2>/dev/null || true
# rows EVENT SUFFIX: netd against the script, to one event.
rows() {
	local n_med n_lo n_hi n m_med m_lo m_hi mn
	read -r n_med n_lo n_hi n < <(stats "$T/netd.$2")
	read -r m_med m_lo m_hi mn < <(stats "$T/manual.$2")
	if [ "$n" = 0 ] || [ "$mn" = 0 ]; then
		row "Dual-stack NAT create -> $1" "-" "-" "-" "figure" "NO: $n and $mn samples"
		return
	fi
	row "Dual-stack NAT create -> $1 (p50 of $n; netd p10-p90 $(fmt "$(us_ms "$n_lo")" ms)-$(fmt "$(us_ms "$n_hi")" ms); script $(fmt "$(us_ms "$m_lo")" ms)-$(fmt "$(us_ms "$m_hi")" ms))" \
		"$(fmt "$(us_ms "$n_med")" ms)" "script $(fmt "$(us_ms "$m_med")" ms)" "$(ratio "$m_med" "$n_med")" "figure" "-"
}
rows "dnsmasq on UDP/547 (DHCPv6)" udp
rows "first RA on a guest port" ra
rows "first link-local RA (guest takes it)" ll
rows "DHCPv6 bound (dhclient -6)" bound
