#!/usr/bin/env bash
# Issue 21: udhcpc on eth0, handed over to br0 and back (uplink-client-lib.sh's client_cases):
# convert, a renewal on br0, confirm, revert; a rollback; a kill -9 of netd while it waits; a
# simulated reboot. 0 probes lost at 100 Hz on IPv4 and IPv6, the host's state as before and no
# udhcpc left over after each.
. "$(dirname "$0")/uplink-client-lib.sh"
client_lab udhcpc
client_cases
