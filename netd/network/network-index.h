/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct network;

/*
 * The daemon's networks by name, bridge, uplink and IPv4 subnet (each of its subnets): sorted arrays, so that
 * a lookup or a conflict check costs O(log n) however many networks there are. Each entry points at the
 * definition it was made from (its keys are that definition's strings) and at an owner (the
 * daemon's struct net): a definition is removed before it is freed or replaced.
 */
struct network_index_entry {
	const char *key; /* name, bridge or uplink; NULL in subnet4 */
	uint32_t start; /* subnet4: first address, host order */
	uint8_t len;
	uint64_t seq; /* the order the owners were added in: among several, the first is reported */
	const struct network *def;
	void *owner;
};

struct network_index_list {
	struct network_index_entry *e;
	size_t n;
};

struct network_index {
	struct network_index_list name, bridge, uplink, subnet4;
	size_t cap; /* of each list; subnet4 has NETWORK_SUBNETS4_MAX entries for each */
};

/* Room for n definitions in every list, so that add after it cannot fail. */
int network_index_reserve(struct network_index *x, size_t n);
void network_index_add(struct network_index *x, const struct network *def, void *owner, uint64_t seq);
/* Returns the seq it was added with (0 if it was not there): a redefinition keeps its place. */
uint64_t network_index_remove(struct network_index *x, const struct network *def, void *owner);
void network_index_done(struct network_index *x);

/* The owner of the first entry with that key (a name or bridge), or NULL. */
void *network_index_find_name(const struct network_index *x, const char *name);
void *network_index_find_bridge(const struct network_index *x, const char *bridge);

/* Calls f for every entry of list whose key is key, until f returns true; returns that. */
bool network_index_each_key(const struct network_index_list *l, const char *key,
			    bool (*f)(const struct network_index_entry *e, const void *userdata),
			    const void *userdata);
/* The same, for every IPv4 subnet that overlaps start/len. */
bool network_index_each_overlap4(const struct network_index *x, uint32_t start, uint8_t len,
				 bool (*f)(const struct network_index_entry *e, const void *userdata),
				 const void *userdata);
