/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The growing arrays of the settings (reservations, DNS hosts, records, forwarders, options), for
 * settings.c and dns.c: a capacity of 4 doubled as needed, which dhcp_array_dup keeps. */
#pragma once

#include <stddef.h>

/* Append elem to p, an array of *n elements: the array (moved, maybe), NULL without memory. */
void *dhcp_array_push(void *p, size_t *n, const void *elem, size_t size);
/* A copy of p's n elements with the room dhcp_array_push expects; NULL for none or no memory. */
void *dhcp_array_dup(const void *p, size_t n, size_t size);
