/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "table bridge netd_vxlan": DHCP never crosses a VXLAN port of a network that spans hosts (mode
 * evpn). Every host of such a network runs a dnsmasq with the same range; each must answer its own
 * guests only, so a DHCP message (UDP 67 or 68) coming in on a VXLAN port is dropped before the
 * host or a local guest sees it, and one going out on it (a local guest's DISCOVER flooded, the
 * host's answer) is dropped before it leaves. The ports are one set; the rules are fixed. Pure:
 * text in memory.
 */
#pragma once

#include <net/if.h>
#include <stddef.h>

#define TUNNEL_FAMILY "bridge"
#define TUNNEL_TABLE "netd_vxlan"

/* The whole table with these ports (names checked: letters, digits, '-', '_', '.'), replaced in
 * one transaction; with no port the table is removed. NULL without memory or with a name nft
 * could read as something else (-EINVAL in errno). */
char *tunnel_dhcp_render(const char (*ports)[IFNAMSIZ], size_t n);
