#!/usr/bin/env bash
# Docker's daemon next to netd (issue 15), the real dockerd in netd's namespace (fwmgr-lib.sh), a
# guest namespace with udhcpc on a nat network, an upstream namespace. Docker's FORWARD chain
# (policy drop once dockerd turned ip_forward on) blocks netd's networks; Docker's documented place
# for other rules is chain DOCKER-USER.
#   containers:    a stand-in container on docker0 with an unpublished port: the guest reaches
#                  upstream, not the container (netd hands what goes to Docker's bridges back to
#                  Docker's rules).
#   auto:          dockerd first, then netd --firewall-integration auto: netd's DOCKER-USER rules
#                  (-i/-o BRIDGE -j ACCEPT, comment netd:BRIDGE), network show --json says so, the
#                  network is active, the guest has DHCP, DNS and upstream. dockerd restarted: the
#                  guest reaches upstream again (netd's rules kept or put back). network delete: the
#                  rules go, nothing else in ip filter changes.
#   netd-first:    the same with netd and its network first, dockerd started after.
#   report:        --firewall-integration report: degraded with the advice (log, doctor); the fix as
#                  doctor prints it clears the report; half of it (-i only) or a DROP rule does not.
#   legacy-auto:   dockerd with iptables-legacy: netd's rules in legacy DOCKER-USER (none in
#                  nftables), the guest works, also after dockerd's restart; network delete.
#   legacy-report: the same in report mode: the advice (log, doctor) names iptables-legacy, and
#                  doctor's fix clears the report (doctor looks at legacy tables afresh: they send no
#                  notification).
# Each part runs in namespaces of its own: `bash test-fw-docker.sh PART`, or FW_PARTS="a b" for some.
PARTS=(containers auto netd-first report legacy-auto legacy-report)
if [ $# -eq 0 ]; then
	. "$(dirname "$0")/fwmgr-lib.sh" --runner
	read -ra parts <<<"${FW_PARTS:-${PARTS[*]}}"
	fw_run_parts "$0" "${parts[@]}"
	exit
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fwmgr-lib.sh"
need dnsmasq busybox

BR=nd-lab
ADVICE="let it through in Docker's chain for it, DOCKER-USER: iptables -I DOCKER-USER -i $BR -j ACCEPT and iptables -I DOCKER-USER -o $BR -j ACCEPT"
FIX="iptables -I DOCKER-USER -i $BR -j ACCEPT && iptables -I DOCKER-USER -o $BR -j ACCEPT"
BLOCKED='^forwarding blocked by table ip filter chain FORWARD \(hook forward, policy drop\)$'

# dockerd first, with ip_forward off in the namespace, so that it sets FORWARD's policy to drop.
docker_first() {
	assert_eq "$(nsx sysctl -n net.ipv4.ip_forward)" 0 "ip_forward before dockerd"
	docker_start "$@"
	forward_drops "${1:-nft}"
}
forward_drops() {
	if [ "$1" = legacy ]; then
		nsx iptables-legacy -w -S FORWARD | has -x -- '-P FORWARD DROP' || fail "legacy FORWARD's policy is not drop"
	else
		nsx nft list chain ip filter FORWARD 2>/dev/null | has 'policy drop;' || fail "ip filter FORWARD's policy is not drop"
	fi
}

# netd's two rules in DOCKER-USER (IPTABLES: iptables-nft or iptables-legacy), within 2 s.
docker_rules_there() { fw_rule "$1" DOCKER-USER -i $BR && fw_rule "$1" DOCKER-USER -o $BR; }
wait_docker_rules() {
	fw_until 2 docker_rules_there "$1" || fail "netd's rules are not in DOCKER-USER ($1): $(nsx "$1" -w -S DOCKER-USER)"
}

part_auto() {
	add_upstream
	docker_first
	fw_start_netd auto
	fw_network lab 81
	wait_docker_rules iptables-nft
	fw_integration lab docker "ip filter DOCKER-USER" ||
		fail "network show --json: $(ctl --json network show lab | jq -c .firewall_integration)"
	fw_wait_active lab
	fw_guest g lab 81
	fw_guest_works g 81
	ok "dockerd first: netd's DOCKER-USER rules (-i/-o $BR, netd:$BR), in network show; active; DHCP, DNS, upstream"

	docker_restart
	if docker_rules_there iptables-nft; then
		echo "# dockerd's restart kept DOCKER-USER's rules"
	else
		echo "# dockerd's restart flushed DOCKER-USER"
	fi
	forward_drops nft
	wait_docker_rules iptables-nft
	fw_wait_active lab
	fw_guest_works g 81
	ok "dockerd restarted (ready in $DOCKER_START_MS ms): the rules are there, the guest reaches upstream"

	local before after
	before=$(nsx iptables-nft -w -S | grep -v -- "netd:$BR")
	ctl network delete lab >/dev/null || fail "network delete"
	fw_until 2 eval '[ -z "$(fw_netd_rules iptables-nft "$BR")" ]' ||
		fail "netd's rules left after network delete: $(fw_netd_rules iptables-nft "$BR")"
	after=$(nsx iptables-nft -w -S)
	assert_eq "$after" "$before" "ip filter after network delete, but netd's rules"
	ok "network delete: netd's DOCKER-USER rules gone ($WAITED_MS ms), the rest of ip filter unchanged"
}

part_netd-first() {
	add_upstream
	fw_start_netd auto
	fw_network lab 82
	fw_wait_active lab
	fw_guest g lab 82
	fw_guest_works g 82
	# netd turned ip_forward on; a host booting with it off, as dockerd sees it then.
	nsx sysctl -qw net.ipv4.ip_forward=0
	docker_start
	forward_drops nft
	wait_docker_rules iptables-nft
	echo "# netd's rules in DOCKER-USER $WAITED_MS ms after dockerd was ready"
	fw_integration lab docker "ip filter DOCKER-USER" ||
		fail "network show --json: $(ctl --json network show lab | jq -c .firewall_integration)"
	fw_wait_active lab
	fw_guest_works g 82
	ok "netd first, dockerd after: netd's rules follow DOCKER-USER's arrival, the guest works on"
}

part_report() {
	add_upstream
	docker_first
	fw_start_netd report
	fw_network lab 83
	fw_wait_problem lab "$BLOCKED"
	assert_eq "$(ctl --json network show lab | jq -r .state)" degraded "state"
	grep -qF -- "bridge $BR: forwarding blocked by table ip filter chain FORWARD (hook forward, policy drop); $ADVICE" "$T/netd.log" ||
		fail "the advice is not in the log: $(grep "$BR" "$T/netd.log" | tail -n 3)"
	[ -z "$(fw_netd_rules iptables-nft)" ] || fail "report mode added rules: $(fw_netd_rules iptables-nft)"
	assert_eq "$(fw_step lab | jq -r .fix)" "$FIX" "doctor's fix"
	fw_guest g lab 83 # DHCP and DNS pass: Docker has no INPUT chain
	fw_blocked g
	ok "report: degraded, the advice in the log and doctor; the guest has its lease, upstream is blocked"

	nsx iptables -w -I DOCKER-USER -i $BR -j ACCEPT
	fw_wait_problem lab '^forwarded replies blocked by table ip filter chain FORWARD \(hook forward, policy drop\)$'
	fw_blocked g
	nsx iptables -w -D DOCKER-USER -i $BR -j ACCEPT
	ok "half of the advice (-i $BR only): still degraded (the replies), upstream still blocked"
	nsx iptables -w -I DOCKER-USER -i $BR -j DROP
	nsx iptables -w -I DOCKER-USER -o $BR -j ACCEPT
	fw_wait_problem lab '^forwarding blocked by table ip filter chain DOCKER-USER \(hook forward, jumped to from FORWARD, rule handle [0-9]+: iifname "nd-lab" .*drop\)$'
	fw_blocked g
	nsx iptables -w -D DOCKER-USER -i $BR -j DROP
	nsx iptables -w -D DOCKER-USER -o $BR -j ACCEPT
	fw_wait_problem lab "$BLOCKED"
	ok "a DROP rule for $BR (and -o ACCEPT) in DOCKER-USER: still degraded, named with its handle"

	local fix
	fix=$(fw_apply_fix lab)
	assert_eq "$fix" "$FIX" "fix applied"
	fw_wait_active lab
	fw_guest_works g 83
	ok "doctor's fix applied by hand: active, the guest reaches upstream"
}

part_legacy-auto() {
	add_upstream
	docker_first legacy
	nsx nft list chain ip filter DOCKER-USER >/dev/null 2>&1 && fail "legacy dockerd's DOCKER-USER is in nftables"
	fw_start_netd auto
	fw_network lab 84
	wait_docker_rules iptables-legacy
	nsx nft list chain ip filter DOCKER-USER >/dev/null 2>&1 && fail "netd made an nftables DOCKER-USER beside the legacy one"
	ctl --json network show lab | jq -e 'any(.firewall_integration[]?; .manager == "docker" and .by == "netd")' >/dev/null ||
		fail "network show --json: $(ctl --json network show lab | jq -c .firewall_integration)"
	fw_wait_active lab
	fw_guest g lab 84
	fw_guest_works g 84
	ok "legacy dockerd first: netd's rules in legacy DOCKER-USER, none in nftables; the guest works"

	docker_restart
	if docker_rules_there iptables-legacy; then
		echo "# legacy dockerd's restart kept DOCKER-USER's rules"
	else
		echo "# legacy dockerd's restart flushed DOCKER-USER"
	fi
	forward_drops legacy
	wait_docker_rules iptables-legacy
	fw_guest_works g 84
	ok "legacy dockerd restarted: the rules are there, the guest reaches upstream"

	local before
	before=$(nsx iptables-legacy -w -S | grep -v -- "netd:$BR")
	ctl network delete lab >/dev/null || fail "network delete"
	fw_until 2 eval '[ -z "$(fw_netd_rules iptables-legacy "$BR")" ]' ||
		fail "netd's legacy rules left after network delete: $(fw_netd_rules iptables-legacy "$BR")"
	assert_eq "$(nsx iptables-legacy -w -S)" "$before" "legacy filter table after network delete, but netd's rules"
	ok "network delete: netd's legacy DOCKER-USER rules gone, the rest unchanged"
}

part_legacy-report() {
	add_upstream
	docker_first legacy
	fw_start_netd report
	fw_network lab 85
	fw_until 5 net_is lab .state degraded ||
		fail "legacy Docker's FORWARD drop not reported: $(ctl --json network show lab | jq -c '[.state, .problem]')"
	echo "# problem: $(ctl --json network show lab | jq -r .problem)"
	grep -F "bridge $BR:" "$T/netd.log" | has -F "iptables-legacy -I DOCKER-USER -i $BR -j ACCEPT" ||
		fail "the advice does not name iptables-legacy: $(grep "$BR" "$T/netd.log" | tail -n 3)"
	[ -z "$(fw_netd_rules iptables-legacy)" ] || fail "report mode added rules: $(fw_netd_rules iptables-legacy)"
	fw_guest g lab 85
	fw_blocked g
	ok "legacy, report: degraded, the advice names iptables-legacy; upstream is blocked"
	# doctor too, with the fix as it prints it
	local step fix
	step=$(fw_step lab)
	[[ "$(jq -r .status <<<"$step")" =~ ^(fail|warn)$ ]] || fail "doctor's firewall step, legacy Docker blocking: $step"
	fix=$(fw_apply_fix lab)
	[[ "$fix" == *"iptables-legacy -I DOCKER-USER -i $BR -j ACCEPT"* ]] || fail "doctor's fix: $fix"
	echo "# fix: $fix"
	# Legacy tables send no notification (netd/DESIGN.md): doctor looks at them afresh, and the
	# network's report follows what it found.
	assert_eq "$(fw_step lab | jq -r .status)" ok "doctor's firewall step after its fix"
	fw_wait_active lab
	fw_guest_works g 85
	ok "legacy, report: doctor's fix ($fix) clears the report, the guest reaches upstream"
}

# Docker's containers are reached from outside on their published ports only; netd's accept for
# the bridge in DOCKER-USER must not open the others to guests (a stand-in container on docker0).
part_containers() {
	add_upstream
	docker_start
	add_guest c 52:54:00:cc:00:01 docker0
	gx c ip addr add 172.17.0.50/16 dev eth0
	gx c ip route add default via 172.17.0.1
	gx c socat -T 2 TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo secret' &
	BG_PIDS+=($!)
	fw_start_netd auto
	fw_network lab 86
	fw_wait_active lab
	fw_guest g lab 86
	fw_guest_works g 86
	[ -z "$(gx g busybox timeout 3 busybox nc 172.17.0.50 8080 </dev/null 2>/dev/null | tr -d '\r\n' || true)" ] ||
		fail "a guest reaches a container's unpublished port"
	ok "auto: the guest reaches upstream, not a container's unpublished port (docker0 is Docker's to decide)"
}

"part_$1"
