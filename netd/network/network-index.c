/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "network-index.h"
#include "network.h"

static int entry_cmp(const struct network_index_entry *a, const struct network_index_entry *b)
{
	if (a->key || b->key)
		return strcmp(a->key, b->key);
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return (int)a->len - (int)b->len;
}

/* The first position whose entry is not below e (upper: not below and not equal). */
static size_t list_bound(const struct network_index_list *l, const struct network_index_entry *e, bool upper)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = entry_cmp(&l->e[mid], e);

		if (c < 0 || (upper && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Among equal keys, in the order of seq: the first added comes first. */
static void list_add(struct network_index_list *l, const struct network_index_entry *e)
{
	size_t i = list_bound(l, e, true);

	while (i > 0 && !entry_cmp(&l->e[i - 1], e) && l->e[i - 1].seq > e->seq)
		i--;
	memmove(&l->e[i + 1], &l->e[i], (l->n - i) * sizeof(*e));
	l->e[i] = *e;
	l->n++;
}

static uint64_t list_remove(struct network_index_list *l, const struct network_index_entry *e)
{
	uint64_t seq;

	for (size_t i = list_bound(l, e, false); i < l->n && !entry_cmp(&l->e[i], e); i++) {
		if (l->e[i].def != e->def || l->e[i].owner != e->owner)
			continue;
		seq = l->e[i].seq;
		memmove(&l->e[i], &l->e[i + 1], (l->n - i - 1) * sizeof(*e));
		l->n--;
		return seq;
	}
	return 0;
}

int network_index_reserve(struct network_index *x, size_t n)
{
	struct network_index_list *lists[] = { &x->name, &x->bridge, &x->uplink, &x->subnet4 };
	size_t cap = x->cap ? x->cap : 16;

	if (n <= x->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		/* subnet4: every IPv4 subnet of a definition (--subnet, --address), so that a
		 * redefinition with more of them fits too */
		size_t k = lists[i] == &x->subnet4 ? NETWORK_SUBNETS4_MAX : 1;
		struct network_index_entry *e = reallocarray(lists[i]->e, cap * k, sizeof(*e));

		if (!e)
			return -ENOMEM; /* the lists that grew keep their room: cap is what all have */
		lists[i]->e = e;
	}
	x->cap = cap;
	return 0;
}

static uint32_t mask4(uint8_t len)
{
	return len ? ~(uint32_t)0 << (32 - len) : 0;
}

/* The entries of def's IPv4 subnets into ret; returns how many. */
static size_t entries_subnet4(const struct network *def, void *owner, uint64_t seq,
			      struct network_index_entry ret[NETWORK_SUBNETS4_MAX])
{
	struct ip_prefix subnets[NETWORK_SUBNETS4_MAX];
	size_t k = network_subnets4(def, subnets);

	for (size_t i = 0; i < k; i++)
		ret[i] = (struct network_index_entry){ .start = ip4_to_host(&subnets[i].addr) &
								mask4(subnets[i].len),
						       .len = subnets[i].len,
						       .seq = seq,
						       .def = def,
						       .owner = owner };
	return k;
}

void network_index_add(struct network_index *x, const struct network *def, void *owner, uint64_t seq)
{
	struct network_index_entry e = { .seq = seq, .def = def, .owner = owner }, sub[NETWORK_SUBNETS4_MAX];
	size_t k = entries_subnet4(def, owner, seq, sub);

	e.key = def->name;
	list_add(&x->name, &e);
	e.key = def->bridge;
	list_add(&x->bridge, &e);
	e.key = def->uplink;
	if (def->uplink[0])
		list_add(&x->uplink, &e);
	for (size_t i = 0; i < k; i++)
		list_add(&x->subnet4, &sub[i]);
}

uint64_t network_index_remove(struct network_index *x, const struct network *def, void *owner)
{
	struct network_index_entry e = { .def = def, .owner = owner }, sub[NETWORK_SUBNETS4_MAX];
	size_t k = entries_subnet4(def, owner, 0, sub);
	uint64_t seq;

	e.key = def->name;
	seq = list_remove(&x->name, &e);
	e.key = def->bridge;
	list_remove(&x->bridge, &e);
	e.key = def->uplink;
	if (def->uplink[0])
		list_remove(&x->uplink, &e);
	for (size_t i = 0; i < k; i++)
		list_remove(&x->subnet4, &sub[i]);
	return seq;
}

void network_index_done(struct network_index *x)
{
	free(x->name.e);
	free(x->bridge.e);
	free(x->uplink.e);
	free(x->subnet4.e);
	*x = (struct network_index){};
}

static void *find_key(const struct network_index_list *l, const char *key)
{
	struct network_index_entry e = { .key = key };
	size_t i = list_bound(l, &e, false);

	return i < l->n && !strcmp(l->e[i].key, key) ? l->e[i].owner : NULL;
}

void *network_index_find_name(const struct network_index *x, const char *name)
{
	return find_key(&x->name, name);
}

void *network_index_find_bridge(const struct network_index *x, const char *bridge)
{
	return find_key(&x->bridge, bridge);
}

bool network_index_each_key(const struct network_index_list *l, const char *key,
			    bool (*f)(const struct network_index_entry *e, const void *userdata),
			    const void *userdata)
{
	struct network_index_entry e = { .key = key };

	for (size_t i = list_bound(l, &e, false); i < l->n && !strcmp(l->e[i].key, key); i++)
		if (f(&l->e[i], userdata))
			return true;
	return false;
}

/*
 * Two prefixes overlap when one contains the other. Those inside start/len (or starting where it
 * starts) are the entries whose start lies in its range, one run of the sorted list; those that
 * contain it are, for each shorter length, the one entry at start masked to that length.
 */
bool network_index_each_overlap4(const struct network_index *x, uint32_t start, uint8_t len,
				 bool (*f)(const struct network_index_entry *e, const void *userdata),
				 const void *userdata)
{
	const struct network_index_list *l = &x->subnet4;
	struct network_index_entry e = { .start = start & mask4(len) };
	uint32_t last = e.start | ~mask4(len);

	for (size_t i = list_bound(l, &e, false); i < l->n && l->e[i].start <= last; i++) {
		if (f(&l->e[i], userdata))
			return true;
	}
	for (uint8_t shorter = 0; shorter < len; shorter++) {
		e.start = start & mask4(shorter);
		e.len = shorter;
		if (e.start == (start & mask4(len)))
			continue; /* in the run above */
		for (size_t i = list_bound(l, &e, false); i < l->n && !entry_cmp(&l->e[i], &e); i++)
			if (f(&l->e[i], userdata))
				return true;
	}
	return false;
}
