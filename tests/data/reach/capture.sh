#!/usr/bin/env bash
# Make tests/data/reach/NAME.json from src/NAME.nft (nft -f) or src/NAME.iptables
# (iptables-nft-restore): each ruleset is loaded in a network namespace of its own and listed back
# as netd lists it (build/tests/foreign-ruleset, or $FOREIGN_RULESET: libnftables JSON with
# iptables-nft's xt matches decoded). Run as root; touches no other namespace.
# Usage: capture.sh [NAME...] (all by default).
set -euo pipefail
cd "$(dirname "$0")"
lister=$(realpath "${FOREIGN_RULESET:-../../../build/tests/foreign-ruleset}")
[[ $EUID -eq 0 ]] || { echo "capture.sh: must run as root" >&2; exit 1; }
ns=reachcap$$
ip netns add "$ns"
trap 'ip netns delete "$ns"' EXIT
names=("$@")
if ((${#names[@]} == 0)); then
	for f in src/*.nft src/*.iptables; do
		b=${f##*/}
		names+=("${b%.*}")
	done
fi
for name in "${names[@]}"; do
	ip netns exec "$ns" nft flush ruleset
	if [[ -f src/$name.nft ]]; then
		ip netns exec "$ns" nft -f "src/$name.nft"
	else
		ip netns exec "$ns" iptables-nft-restore <"src/$name.iptables"
	fi
	ip netns exec "$ns" "$lister" | jq . >"$name.json"
	echo "$name.json"
done
