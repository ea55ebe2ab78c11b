/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ICMP echo probes from one interface (the verification after a cut-over): a non-blocking raw
 * socket per family, bound to the interface. The caller drives it from its event loop: send
 * on a timer, read when the socket is readable. A reply can only come back once the gateway
 * answered ARP / neighbour discovery on that interface, so one reply proves both.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/* Returns the socket (O_CLOEXEC, O_NONBLOCK) or -errno. */
int probe_open(int family, const char *ifname);
/* One echo request to dst; ifindex is used as the scope of an IPv6 link-local destination. */
int probe_send(int fd, int family, const union in_addr_union *dst, int ifindex, uint16_t id, uint16_t seq);
/* Reads one datagram: 1 and the source if it is an echo reply with our id, 0 if it is not
 * ours, -EAGAIN when there is nothing to read, another -errno on error. */
int probe_recv(int fd, int family, uint16_t id, union in_addr_union *ret_from);
