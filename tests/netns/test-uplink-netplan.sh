#!/usr/bin/env bash
# eth0 configured through netplan 0.106, Ubuntu's way: /etc/netplan/50-cloud-init.yaml, from
# which 'netplan generate' (at boot: its systemd generator) writes
# /run/systemd/network/10-netplan-eth0.network for systemd-networkd. netd converts such a port
# with its networkd driver: its own files in /etc/systemd/network sort before netplan's
# (00-netd-* < 10-netplan-*), so they win over what a later generate writes; the YAML is left as
# it is (netd/DESIGN.md says why). convert and confirm: 0 lost; a reboot (/run wiped, netplan
# generate again, networkd started): networkd builds br0 from netd's files with the same address;
# revert: the files as before, networkd runs eth0 from netplan's file again. The renewals,
# rollbacks and kill -9 of the networkd driver are test-uplink-networkd.sh's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink-lib.sh"
. "$(dirname "$0")/manager-lib.sh"
. "$(dirname "$0")/networkd-lib.sh"
need netplan

lab_build --no-boot
mkdir -p "$ROOT/etc/systemd/network" "$ROOT/etc/netplan"
cat >"$ROOT/etc/netplan/50-cloud-init.yaml" <<'EOF'
network:
  version: 2
  ethernets:
    eth0:
      dhcp4: true
      accept-ra: true
EOF
chmod 0600 "$ROOT/etc/netplan/50-cloud-init.yaml"
mgr_ns_start tmpfs:/run "$ROOT/etc/systemd/network:/etc/systemd/network" "$ROOT/etc/netplan:/etc/netplan" ro:/sys
mx sh -c 'mkdir -p /run/systemd/netif && chown systemd-network:systemd-network /run/systemd/netif'
mx netplan generate 2>"$T/netplan.err" || fail "netplan generate: $(cat "$T/netplan.err")"
mx test -f /run/systemd/network/10-netplan-eth0.network || fail "netplan wrote no .network for eth0: $(mx ls /run/systemd/network)"

nsx sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
ip -n "$NS" link set eth0 up
networkd_start
wait_admin eth0 configured
host_wait eth0
ORIG4=$HOST4
assert_eq "$(network_file eth0)" /run/systemd/network/10-netplan-eth0.network "eth0's .network"
before_sums=$(tree_sums)
ok "netplan's file configures eth0 through networkd: $HOST4, $HOST6"

start_netd --manager-root /
probes_start 400
sleep 0.3
ctl --json uplink convert eth0 --confirm-timeout 120s >"$T/convert.json" 2>"$T/convert.err" ||
	fail "convert: $(cat "$T/convert.err")"
probes_wait
assert_probes 1 "during the conversion"
CONVERT_LOST=$PROBES_LOST
assert_eq "$(jq -r .manager "$T/convert.json")" systemd-networkd "the manager netd found"
wait_admin br0 configured
probes_start 500
sleep 0.3
ctl uplink confirm br0 >"$T/confirm.out" 2>&1 || fail "confirm: $(cat "$T/confirm.out")"
wait_admin br0 configured
wait_admin eth0 configured
probes_wait
assert_eq "$LOST4/$LOST6" "0/0" "probes lost (IPv4/IPv6) over the confirm"
assert_eq "$(network_file br0)" /etc/systemd/network/00-netd-br0.network "br0's .network"
assert_eq "$(network_file eth0)" /etc/systemd/network/00-netd-br0-port.network "eth0's .network"
grep -q "dhcp4: true" "$ROOT/etc/netplan/50-cloud-init.yaml" || fail "netd changed the YAML"
no_release
ok "converted and confirmed, $CONVERT_LOST lost; networkd runs br0 from netd's files, which win over netplan's"

# ---- a reboot: netplan's generator writes its files again; networkd builds br0 from netd's
stop_netd
networkd_stop
ip -n "$NS" link del br0
ip -n "$NS" addr flush dev eth0
mx sh -c 'rm -rf /run/systemd/netif/links/* /run/systemd/netif/leases/* /run/systemd/network/*'
mx netplan generate 2>"$T/netplan.err" || fail "netplan generate at the reboot: $(cat "$T/netplan.err")"
networkd_start
for _ in $(seq 1 100); do has_link br0 && break; sleep 0.1; done
has_link br0 || fail "networkd did not create br0"
wait_admin br0 configured
host_wait br0
assert_eq "$(link_field eth0 .master)" br0 "eth0's master after the reboot"
assert_eq "$(link_field br0 .address)" "$HOST_MAC" "br0's MAC after the reboot"
assert_eq "$HOST4" "$ORIG4" "br0's address after the reboot"
assert_eq "$(network_file eth0)" /etc/systemd/network/00-netd-br0-port.network "eth0's .network after the reboot"
start_netd --manager-root /
assert_eq "$(ctl --json uplink status br0 | jq -r '.[0].state')" confirmed "netd's view after the reboot"
assert_eq "$(link_field br0 .ifalias)" netd-uplink:eth0 "br0's alias once netd adopted it (what a revert deletes)"
ok "reboot with netplan's files generated again: networkd built br0 (eth0 its port) with $HOST4; netd adopted it"

probes_start 500
sleep 0.3
ctl uplink revert br0 >"$T/revert.out" 2>&1 || fail "revert: $(cat "$T/revert.out")"
wait_admin eth0 configured
probes_wait
assert_probes 1 "during the revert"
REVERT_LOST=$PROBES_LOST
host_wait eth0
[ "$(tree_sums)" = "$before_sums" ] || fail "files differ after the revert: $(diff <(echo "$before_sums") <(tree_sums))"
assert_eq "$(network_file eth0)" /run/systemd/network/10-netplan-eth0.network "eth0's .network after the revert"
has_link br0 && fail "br0 still exists"
no_release
ok "revert: $REVERT_LOST lost, the files as before, networkd runs eth0 from netplan's file again ($HOST4)"
networkd_stop
