/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whether other tables let a packet through, by what their rules do. Each base chain of the hook
 * is walked as the kernel would walk it for an abstract packet. A match netd cannot decide (a field
 * of the packet it does not know, an expression it does not model: "xt" matches, marks, limits,
 * fib) is taken as not matching on the main way, and what the rule would do is kept as another
 * way: an accept only there does not let the packet through, a drop only there "may block". A
 * chain's outcome (its main way and what its other ways can end in) does not depend on who jumps
 * to it, so each chain is walked once per packet however often it is jumped to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_conntrack.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "forward.h"
#include "portsec.h"
#include "reach.h"

enum tri {
	T_FALSE,
	T_TRUE,
	T_UNKNOWN,
};

struct rs_table;

struct rs_set {
	const char *name;
	json_object *elem; /* array, or NULL when empty */
};

struct rs_chain {
	const char *name;
	struct rs_table *table;
	json_object **rules; /* the "rule" objects, in order */
	size_t n_rules, cap;
	size_t id;
	bool base, policy_drop, nat;
	enum reach_hook hook;
	int prio;
};

struct rs_table {
	const char *family, *name;
	bool v4, v6; /* the packets it sees */
	struct rs_chain **chains;
	size_t n_chains;
	struct rs_set *sets;
	size_t n_sets;
};

struct reach_ruleset {
	json_object *root;
	struct rs_table **tables;
	size_t n_tables;
	struct rs_chain **chains; /* all of them, by id */
	size_t n_chains;
	struct rs_chain **bases; /* base chains at forward or input, by priority */
	size_t n_bases;
};

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) :
		       NULL;
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v;

	return json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* The only key of {"key": value}, as nft's JSON writes expressions and statements. */
static const char *only_key(json_object *o, json_object **ret_value)
{
	struct json_object_iterator it, end;

	if (!json_object_is_type(o, json_type_object) || json_object_object_length(o) != 1)
		return NULL;
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	if (json_object_iter_equal(&it, &end))
		return NULL;
	if (ret_value)
		*ret_value = json_object_iter_peek_value(&it);
	return json_object_iter_peek_name(&it);
}

void reach_ruleset_free(struct reach_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_tables; i++) {
		struct rs_table *t = rs->tables[i];

		for (size_t j = 0; j < t->n_chains; j++) {
			free(t->chains[j]->rules);
			free(t->chains[j]);
		}
		free(t->chains);
		free(t->sets);
		free(t);
	}
	free(rs->tables);
	free(rs->chains);
	free(rs->bases);
	json_object_put(rs->root);
	free(rs);
}

static bool skipped(const char *family, const char *name)
{
	return (!strcmp(family, FW_FAMILY) && !strcmp(name, FW_TABLE)) ||
	       (!strcmp(family, PS_INET_FAMILY) && !strcmp(name, PS_INET_TABLE)) ||
	       (!strcmp(family, FWD_FAMILY) && !strcmp(name, FWD_TABLE));
}

static struct rs_table *table_find(const struct reach_ruleset *rs, const char *family, const char *name)
{
	if (!family || !name)
		return NULL;
	for (size_t i = rs->n_tables; i-- > 0;)
		if (!strcmp(rs->tables[i]->family, family) && !strcmp(rs->tables[i]->name, name))
			return rs->tables[i];
	return NULL;
}

static struct rs_chain *chain_find(const struct rs_table *t, const char *name)
{
	if (!t || !name)
		return NULL;
	for (size_t i = 0; i < t->n_chains; i++)
		if (!strcmp(t->chains[i]->name, name))
			return t->chains[i];
	return NULL;
}

static int add_table(struct reach_ruleset *rs, json_object *o)
{
	const char *family = str(o, "family"), *name = str(o, "name");
	struct rs_table **l, *t;

	if (!family || !name || skipped(family, name) || table_find(rs, family, name))
		return 0;
	if (strcmp(family, "ip") && strcmp(family, "ip6") && strcmp(family, "inet"))
		return 0;
	l = reallocarray(rs->tables, rs->n_tables + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	rs->tables = l;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->family = family;
	t->name = name;
	t->v4 = strcmp(family, "ip6") != 0;
	t->v6 = strcmp(family, "ip") != 0;
	rs->tables[rs->n_tables++] = t;
	return 0;
}

static int add_chain(struct reach_ruleset *rs, json_object *o)
{
	struct rs_table *t = table_find(rs, str(o, "family"), str(o, "table"));
	const char *name = str(o, "name"), *hook = str(o, "hook"), *type = str(o, "type");
	struct rs_chain **l, *c;
	json_object *prio;

	if (!t || !name || chain_find(t, name))
		return 0;
	l = reallocarray(t->chains, t->n_chains + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	t->chains = l;
	l = reallocarray(rs->chains, rs->n_chains + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	rs->chains = l;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->name = name;
	c->table = t;
	c->id = rs->n_chains;
	t->chains[t->n_chains++] = c;
	rs->chains[rs->n_chains++] = c;
	/* Base chains of the two hooks netd asks about: filter, and nat (it sees new connections). */
	if (!hook || (strcmp(hook, "forward") && strcmp(hook, "input")) || !type ||
	    (strcmp(type, "filter") && strcmp(type, "nat")))
		return 0;
	c->base = true;
	c->hook = !strcmp(hook, "forward") ? REACH_HOOK_FORWARD : REACH_HOOK_INPUT;
	c->nat = !strcmp(type, "nat");
	c->policy_drop = !strcmp(str(o, "policy") ?: "accept", "drop");
	prio = member(o, "prio");
	c->prio = prio && json_object_is_type(prio, json_type_int) ? json_object_get_int(prio) : 0;
	l = reallocarray(rs->bases, rs->n_bases + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	rs->bases = l;
	rs->bases[rs->n_bases++] = c;
	return 0;
}

static int add_set(struct reach_ruleset *rs, json_object *o)
{
	struct rs_table *t = table_find(rs, str(o, "family"), str(o, "table"));
	const char *name = str(o, "name");
	struct rs_set *l;
	json_object *elem = member(o, "elem");

	if (!t || !name)
		return 0;
	l = reallocarray(t->sets, t->n_sets + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	t->sets = l;
	t->sets[t->n_sets++] = (struct rs_set){
		.name = name,
		.elem = elem && json_object_is_type(elem, json_type_array) ? elem : NULL,
	};
	return 0;
}

static int add_rule(struct reach_ruleset *rs, json_object *o)
{
	struct rs_chain *c = chain_find(table_find(rs, str(o, "family"), str(o, "table")), str(o, "chain"));
	json_object **l;

	if (!c)
		return 0;
	if (c->n_rules == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;

		l = reallocarray(c->rules, cap, sizeof(*l));
		if (!l)
			return -ENOMEM;
		c->rules = l;
		c->cap = cap;
	}
	c->rules[c->n_rules++] = o;
	return 0;
}

static int by_prio(const void *a, const void *b)
{
	const struct rs_chain *x = *(const struct rs_chain *const *)a,
			      *y = *(const struct rs_chain *const *)b;
	int r;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	/* The kernel's order at equal priority is not defined: a stable one for the reports. */
	r = strcmp(x->table->family, y->table->family);
	if (!r)
		r = strcmp(x->table->name, y->table->name);
	return r ? r : strcmp(x->name, y->name);
}

int reach_ruleset_parse(const char *json, struct reach_ruleset **ret)
{
	/* Tables first, then chains and sets, then rules: whatever order the listing has. */
	static const struct {
		const char *key;
		int (*add)(struct reach_ruleset *rs, json_object *o);
	} passes[] = {
		{ "table", add_table }, { "chain", add_chain }, { "set", add_set },
		{ "map", add_set },	{ "rule", add_rule },
	};
	struct reach_ruleset *rs = calloc(1, sizeof(*rs));
	json_object *a;
	int r;

	if (!rs)
		return -ENOMEM;
	if (!json || !json[0]) {
		*ret = rs;
		return 0;
	}
	rs->root = json_tokener_parse(json);
	a = member(rs->root, "nftables");
	if (!a || !json_object_is_type(a, json_type_array)) {
		reach_ruleset_free(rs);
		return -EINVAL;
	}
	for (size_t p = 0; p < ELEMENTSOF(passes); p++)
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *o = member(json_object_array_get_idx(a, i), passes[p].key);

			if (!o)
				continue;
			r = passes[p].add(rs, o);
			if (r < 0) {
				reach_ruleset_free(rs);
				return r;
			}
		}
	if (rs->n_bases)
		qsort(rs->bases, rs->n_bases, sizeof(*rs->bases), by_prio);
	*ret = rs;
	return 0;
}

bool reach_ruleset_has_hooks(const struct reach_ruleset *rs)
{
	return rs && rs->n_bases > 0;
}

const char *reach_verdict_to_string(enum reach_verdict v)
{
	static const char *const names[] = {
		[REACH_ACCEPT] = "accept",
		[REACH_DROP] = "drop",
		[REACH_MAYBE] = "maybe",
	};

	return (unsigned)v < ELEMENTSOF(names) ? names[v] : NULL;
}

/* ---- Rendering a rule in short ---- */

struct text {
	char *p;
	size_t size, len;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len + 1 >= t->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->p + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len = t->len + (size_t)n < t->size ? t->len + (size_t)n : t->size - 1;
}

static void render_value(struct text *t, json_object *v, bool quote);

/* The meta keys nft writes without "meta": the interfaces. */
static bool is_ifkey(const char *key)
{
	return !strcmp(key, "iifname") || !strcmp(key, "oifname") || !strcmp(key, "iif") ||
	       !strcmp(key, "oif");
}

static void render_list(struct text *t, json_object *a, const char *open, const char *sep, const char *close,
			bool quote)
{
	put(t, "%s", open);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);

		put(t, "%s", i ? sep : "");
		if (json_object_is_type(e, json_type_array) && json_object_array_length(e) == 2) {
			render_value(t, json_object_array_get_idx(e, 0), quote); /* a map's key : value */
			put(t, " : ");
			render_value(t, json_object_array_get_idx(e, 1), false);
		} else {
			render_value(t, e, quote);
		}
	}
	put(t, "%s", close);
}

static void render_value(struct text *t, json_object *v, bool quote)
{
	json_object *x;
	const char *k;

	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		put(t, quote && s[0] != '@' ? "\"%s\"" : "%s", s);
		return;
	}
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_boolean)) {
		put(t, "%s", json_object_to_json_string(v));
		return;
	}
	if (json_object_is_type(v, json_type_array)) {
		render_list(t, v, "", ",", "", quote);
		return;
	}
	k = only_key(v, &x);
	if (!k) {
		put(t, "?");
	} else if (!strcmp(k, "set")) {
		if (json_object_is_type(x, json_type_array))
			render_list(t, x, "{ ", ", ", " }", quote);
		else
			render_value(t, x, quote);
	} else if (!strcmp(k, "prefix")) {
		render_value(t, member(x, "addr"), false);
		put(t, "/%s", json_object_to_json_string(member(x, "len")));
	} else if (!strcmp(k, "range") && json_object_is_type(x, json_type_array)) {
		render_list(t, x, "", "-", "", quote);
	} else if (!strcmp(k, "concat") && json_object_is_type(x, json_type_array)) {
		render_list(t, x, "", " . ", "", quote);
	} else if (!strcmp(k, "elem")) {
		render_value(t, member(x, "val"), quote);
	} else if (!strcmp(k, "meta")) {
		const char *key = str(x, "key") ?: "?";

		put(t, is_ifkey(key) ? "%s" : "meta %s", key);
	} else if (!strcmp(k, "payload")) {
		if (str(x, "protocol"))
			put(t, "%s %s", str(x, "protocol"), str(x, "field") ?: "?");
		else
			put(t, "@%s", str(x, "base") ?: "?");
	} else if (!strcmp(k, "ct")) {
		put(t, "ct %s", str(x, "key") ?: "?");
	} else if (!strcmp(k, "jump") || !strcmp(k, "goto")) {
		put(t, "%s %s", k, str(x, "target") ?: "?");
	} else if (json_object_is_type(x, json_type_null)) {
		put(t, "%s", k); /* accept, drop, ... */
	} else {
		put(t, "%s", k);
	}
}

static bool names_interface(json_object *left)
{
	json_object *m = member(left, "meta");
	const char *key = m ? str(m, "key") : NULL;

	return key && is_ifkey(key);
}

static void render_stmt(struct text *t, json_object *s)
{
	json_object *x;
	const char *k = only_key(s, &x);

	if (!k)
		return;
	if (!strcmp(k, "counter") || !strcmp(k, "comment"))
		return;
	if (t->len)
		put(t, " ");
	if (!strcmp(k, "match")) {
		const char *op = str(x, "op") ?: "==";
		json_object *left = member(x, "left");

		render_value(t, left, false);
		put(t, " ");
		if (strcmp(op, "==") && strcmp(op, "in"))
			put(t, "%s ", op);
		render_value(t, member(x, "right"), names_interface(left));
	} else if (!strcmp(k, "vmap")) {
		render_value(t, member(x, "key"), false);
		put(t, " vmap ");
		render_value(t, member(x, "data"), names_interface(member(x, "key")));
	} else if (!strcmp(k, "xt")) {
		put(t, "xt %s %s", str(x, "type") ?: "", str(x, "name") ?: "");
	} else if (!strcmp(k, "reject") || !strcmp(k, "log") || !strcmp(k, "limit")) {
		put(t, "%s", k);
	} else {
		render_value(t, s, false);
	}
}

static void render_rule(json_object *rule, char *buf, size_t size)
{
	struct text t = { .p = buf, .size = size };
	json_object *expr = member(rule, "expr");

	buf[0] = 0;
	if (!expr || !json_object_is_type(expr, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(expr); i++)
		render_stmt(&t, json_object_array_get_idx(expr, i));
}

/* ---- The packet's values ---- */

struct name {
	const char *name;
	uint64_t value;
};

static const struct name l4proto_names[] = {
	{ "icmp", 1 },	 { "igmp", 2 },	     { "tcp", 6 }, { "udp", 17 },	{ "dccp", 33 },
	{ "gre", 47 },	 { "esp", 50 },	     { "ah", 51 }, { "ipv6-icmp", 58 }, { "icmpv6", 58 },
	{ "sctp", 132 }, { "udplite", 136 }, { NULL, 0 },
};
static const struct name ct_state_names[] = {
	{ "invalid", 1 }, { "established", 2 }, { "related", 4 },
	{ "new", 8 },	  { "untracked", 64 },	{ NULL, 0 },
};
/* Only what netd's packets are known to lack: not one is DNATed. */
static const struct name ct_status_names[] = { { "dnat", 0x20 }, { NULL, 0 } };
static const struct name ct_direction_names[] = { { "original", 0 }, { "reply", 1 }, { NULL, 0 } };
static const struct name nfproto_names[] = { { "ipv4", 2 }, { "ipv6", 10 }, { NULL, 0 } };
static const struct name ethertype_names[] = {
	{ "ip", 0x0800 }, { "ip6", 0x86dd }, { "arp", 0x0806 }, { NULL, 0 }
};
static const struct name pkttype_names[] = {
	{ "host", PACKET_HOST },
	{ "broadcast", PACKET_BROADCAST },
	{ "multicast", PACKET_MULTICAST },
	{ "other", PACKET_OTHERHOST },
	{ NULL, 0 },
};
static const struct name icmp_names[] = {
	{ "echo-reply", 0 },	       { "destination-unreachable", 3 },
	{ "source-quench", 4 },	       { "redirect", 5 },
	{ "echo-request", 8 },	       { "router-advertisement", 9 },
	{ "router-solicitation", 10 }, { "time-exceeded", 11 },
	{ "parameter-problem", 12 },   { "timestamp-request", 13 },
	{ "timestamp-reply", 14 },     { "info-request", 15 },
	{ "info-reply", 16 },	       { "address-mask-request", 17 },
	{ "address-mask-reply", 18 },  { NULL, 0 },
};
static const struct name icmpv6_names[] = {
	{ "destination-unreachable", 1 }, { "packet-too-big", 2 },
	{ "time-exceeded", 3 },		  { "parameter-problem", 4 },
	{ "echo-request", 128 },	  { "echo-reply", 129 },
	{ "mld-listener-query", 130 },	  { "mld-listener-report", 131 },
	{ "mld-listener-done", 132 },	  { "mld-listener-reduction", 132 },
	{ "nd-router-solicit", 133 },	  { "nd-router-advert", 134 },
	{ "nd-neighbor-solicit", 135 },	  { "nd-neighbor-advert", 136 },
	{ "nd-redirect", 137 },		  { "router-renumbering", 138 },
	{ "ind-neighbor-solicit", 141 },  { "ind-neighbor-advert", 142 },
	{ "mld2-listener-report", 143 },  { NULL, 0 },
};

/* Route types (RTN_*), as nft's fib writes them and iptables' addrtype has them as bits. */
static const struct name fib_type_names[] = {
	{ "unspec", 0 },    { "unicast", 1 },	{ "local", 2 },	      { "broadcast", 3 }, { "anycast", 4 },
	{ "multicast", 5 }, { "blackhole", 6 }, { "unreachable", 7 }, { "prohibit", 8 },  { NULL, 0 },
};

enum val_kind {
	V_ABSENT, /* the packet has no such field (another family, protocol or hook): no match */
	V_ANY, /* the packet leaves it open (any protocol, any outside address): a rule that needs
		* one value applies to part of the traffic, and is passed over */
	V_UNKNOWN, /* netd does not model it (a mark, an xt match): undecidable */
	V_NAME, /* an interface name; s NULL: one no rule names */
	V_ADDR,
	V_INT,
};

struct val {
	enum val_kind kind;
	const char *s;
	int family;
	union in_addr_union a;
	uint64_t i;
	const struct name *names; /* V_INT: the names nft writes its values with */
	bool flags; /* V_INT: a bitmask type ("in" tests bits) */
};

static void val_int(struct val *v, long long i, const struct name *names)
{
	*v = (struct val){ .kind = i < 0 ? V_ANY : V_INT, .i = (uint64_t)i, .names = names };
}

static void val_addr(struct val *v, int family, const union in_addr_union *a)
{
	*v = (struct val){ .kind = family ? V_ADDR : V_ANY, .family = family, .a = *a };
}

static bool is_ported(int l4proto)
{
	return l4proto == IPPROTO_TCP || l4proto == IPPROTO_UDP || l4proto == IPPROTO_SCTP ||
	       l4proto == IPPROTO_UDPLITE || l4proto == IPPROTO_DCCP;
}

static void val_payload(const struct reach_packet *p, json_object *x, struct val *v)
{
	const char *proto = str(x, "protocol") ?: "", *field = str(x, "field") ?: "";

	*v = (struct val){ .kind = V_UNKNOWN };
	if (!strcmp(proto, "ip") || !strcmp(proto, "ip6")) {
		if (p->family != (!strcmp(proto, "ip") ? AF_INET : AF_INET6)) {
			v->kind = V_ABSENT;
		} else if (!strcmp(field, "saddr")) {
			val_addr(v, p->saddr_family, &p->saddr);
		} else if (!strcmp(field, "daddr")) {
			val_addr(v, p->daddr_family, &p->daddr);
		} else if (!strcmp(field, "protocol") || !strcmp(field, "nexthdr")) {
			val_int(v, p->l4proto, l4proto_names);
		} else if (!strcmp(field, "hoplimit") || !strcmp(field, "ttl")) {
			val_int(v, p->hoplimit, NULL);
		}
		return;
	}
	if (!strcmp(proto, "icmp") || !strcmp(proto, "icmpv6")) {
		bool v6 = !strcmp(proto, "icmpv6");

		if (p->family != (v6 ? AF_INET6 : AF_INET) ||
		    (p->l4proto >= 0 && p->l4proto != (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)))
			v->kind = V_ABSENT;
		else if (p->l4proto < 0)
			v->kind = V_ANY;
		else if (!strcmp(field, "type"))
			val_int(v, p->icmp_type, v6 ? icmpv6_names : icmp_names);
		return;
	}
	/* tcp, udp, ... or th (any of them): after nft's implied "meta l4proto" */
	const struct name *n = l4proto_names;

	while (n->name && strcmp(n->name, proto))
		n++;
	if (!n->name && strcmp(proto, "th"))
		return;
	if (p->l4proto < 0)
		v->kind = V_ANY;
	else if (n->name && (long long)n->value != p->l4proto)
		v->kind = V_ABSENT;
	else if (is_ported(p->l4proto) && (!strcmp(field, "sport") || !strcmp(field, "dport")))
		val_int(v, !strcmp(field, "sport") ? p->sport : p->dport, NULL);
}

static void val_meta(const struct reach_packet *p, const char *key, struct val *v)
{
	*v = (struct val){ .kind = V_UNKNOWN };
	if (!strcmp(key, "iifname") || !strcmp(key, "iif")) {
		*v = (struct val){ .kind = V_NAME, .s = p->iifname };
	} else if (!strcmp(key, "oifname") || !strcmp(key, "oif")) {
		/* At input there is no output device: the expression breaks, the rule never matches. */
		*v = (struct val){ .kind = p->hook == REACH_HOOK_FORWARD ? V_NAME : V_ABSENT,
				   .s = p->oifname };
	} else if (!strcmp(key, "l4proto")) {
		val_int(v, p->l4proto, l4proto_names);
	} else if (!strcmp(key, "nfproto")) {
		val_int(v, p->family == AF_INET ? 2 : 10, nfproto_names);
	} else if (!strcmp(key, "protocol")) {
		val_int(v, p->family == AF_INET ? 0x0800 : 0x86dd, ethertype_names);
	} else if (!strcmp(key, "pkttype")) {
		val_int(v, p->pkttype, pkttype_names);
	}
}

static void val_ct(const struct reach_packet *p, const char *key, struct val *v)
{
	*v = (struct val){ .kind = V_UNKNOWN };
	if (!strcmp(key, "state")) {
		val_int(v, p->ct == REACH_CT_NEW ? 8 : 2, ct_state_names);
		v->flags = true;
	} else if (!strcmp(key, "status")) {
		val_int(v, 0, ct_status_names);
		v->flags = true;
	} else if (!strcmp(key, "direction")) {
		val_int(v, p->ct == REACH_CT_NEW ? 0 : 1, ct_direction_names);
	}
}

/* "fib daddr type": what the packet is addressed to. Everything at input is the host's own, a
 * broadcast or a multicast address; forwarded traffic goes to someone else's. */
static void val_fib(const struct reach_packet *p, json_object *x, struct val *v)
{
	json_object *flags = member(x, "flags");
	int type = 1;

	*v = (struct val){ .kind = V_UNKNOWN };
	if (strcmp(str(x, "result") ?: "", "type") || !flags ||
	    !json_object_is_type(flags, json_type_array) || json_object_array_length(flags) != 1 ||
	    strcmp(json_object_get_string(json_object_array_get_idx(flags, 0)) ?: "", "daddr"))
		return;
	if (p->hook == REACH_HOOK_INPUT)
		type = p->pkttype == PACKET_BROADCAST ? 3 :
		       p->pkttype == PACKET_MULTICAST ? 5 :
		       p->pkttype == PACKET_HOST      ? 2 :
							-1;
	val_int(v, type, fib_type_names);
}

static void val_of(const struct reach_packet *p, json_object *left, struct val *v)
{
	json_object *x;
	const char *k = only_key(left, &x);

	*v = (struct val){ .kind = V_UNKNOWN };
	if (!k)
		return;
	if (!strcmp(k, "meta"))
		val_meta(p, str(x, "key") ?: "", v);
	else if (!strcmp(k, "payload"))
		val_payload(p, x, v);
	else if (!strcmp(k, "ct") && !member(x, "dir") && !member(x, "family"))
		val_ct(p, str(x, "key") ?: "", v);
	else if (!strcmp(k, "fib"))
		val_fib(p, x, v);
}

/* ---- Matching ---- */

static enum tri int_of(const struct val *v, json_object *e, uint64_t *ret)
{
	if (json_object_is_type(e, json_type_int)) {
		int64_t i = json_object_get_int64(e);

		if (i < 0)
			return T_UNKNOWN;
		*ret = (uint64_t)i;
		return T_TRUE;
	}
	if (json_object_is_type(e, json_type_string)) {
		const char *s = json_object_get_string(e);
		char *end;
		unsigned long long u;

		for (const struct name *n = v->names; n && n->name; n++)
			if (!strcmp(n->name, s)) {
				*ret = n->value;
				return T_TRUE;
			}
		errno = 0;
		u = strtoull(s, &end, 0);
		if (s[0] && !*end && !errno) {
			*ret = u;
			return T_TRUE;
		}
	}
	return T_UNKNOWN;
}

static enum tri addr_of(const struct val *v, json_object *e, union in_addr_union *ret)
{
	int family;

	if (!json_object_is_type(e, json_type_string) ||
	    ip_addr_parse(json_object_get_string(e), &family, ret) < 0)
		return T_UNKNOWN;
	return family == v->family ? T_TRUE : T_UNKNOWN;
}

/* An interface name against nft's "nd-*" (a prefix), "nd\\*" (a name ending in a star) or a name.
 * have NULL: an interface no rule names, which only "*" matches. */
static enum tri name_match(const char *have, const char *pattern)
{
	size_t n = strlen(pattern);

	if (n && pattern[n - 1] == '*' && (n < 2 || pattern[n - 2] != '\\')) {
		if (!have)
			return n == 1 ? T_TRUE : T_FALSE;
		return !strncmp(have, pattern, n - 1) ? T_TRUE : T_FALSE;
	}
	if (n >= 2 && pattern[n - 1] == '*') /* the escaped star */
		return have && strlen(have) == n - 1 && !strncmp(have, pattern, n - 2) && have[n - 2] == '*' ?
			       T_TRUE :
			       T_FALSE;
	return have && !strcmp(have, pattern) ? T_TRUE : T_FALSE;
}

static int addr_cmp(const struct val *v, const union in_addr_union *b)
{
	return memcmp(v->a.bytes, b->bytes, v->family == AF_INET ? 4 : 16);
}

/* Whether value v is element e of a set (a value, a prefix, a range). */
static enum tri elem_match(const struct val *v, json_object *e)
{
	json_object *x;
	const char *k = only_key(e, &x);

	if (k && !strcmp(k, "elem"))
		return elem_match(v, member(x, "val"));
	if (k && !strcmp(k, "range") && json_object_is_type(x, json_type_array) &&
	    json_object_array_length(x) == 2) {
		json_object *lo = json_object_array_get_idx(x, 0), *hi = json_object_array_get_idx(x, 1);

		if (v->kind == V_INT) {
			uint64_t a, b;

			if (int_of(v, lo, &a) != T_TRUE || int_of(v, hi, &b) != T_TRUE)
				return T_UNKNOWN;
			return v->i >= a && v->i <= b ? T_TRUE : T_FALSE;
		}
		if (v->kind == V_ADDR) {
			union in_addr_union a, b;

			if (addr_of(v, lo, &a) != T_TRUE || addr_of(v, hi, &b) != T_TRUE)
				return T_UNKNOWN;
			return addr_cmp(v, &a) >= 0 && addr_cmp(v, &b) <= 0 ? T_TRUE : T_FALSE;
		}
		return T_UNKNOWN;
	}
	if (k && !strcmp(k, "prefix")) {
		struct ip_prefix pfx = { .family = v->family };
		json_object *len = member(x, "len");

		if (v->kind != V_ADDR || addr_of(v, member(x, "addr"), &pfx.addr) != T_TRUE || !len ||
		    !json_object_is_type(len, json_type_int))
			return T_UNKNOWN;
		pfx.len = (uint8_t)json_object_get_int(len);
		if (pfx.len > ip_family_bits(v->family))
			return T_UNKNOWN;
		return ip_prefix_contains(&pfx, v->family, &v->a) ? T_TRUE : T_FALSE;
	}
	if (k)
		return T_UNKNOWN;
	switch (v->kind) {
	case V_NAME:
		return json_object_is_type(e, json_type_string) ?
			       name_match(v->s, json_object_get_string(e)) :
			       T_UNKNOWN;
	case V_ADDR: {
		union in_addr_union a;

		if (addr_of(v, e, &a) != T_TRUE)
			return T_UNKNOWN;
		return addr_cmp(v, &a) == 0 ? T_TRUE : T_FALSE;
	}
	case V_INT: {
		uint64_t i;

		if (int_of(v, e, &i) != T_TRUE)
			return T_UNKNOWN;
		if (v->flags)
			return v->i & i ? T_TRUE : T_FALSE;
		return v->i == i ? T_TRUE : T_FALSE;
	}
	default:
		return T_UNKNOWN;
	}
}

struct eval;
static enum tri concat_elem_match(const struct val *vals, size_t n, json_object *e);

/* The elements of a right-hand side: an anonymous set, a list of flags, a named set ("@name"), or
 * one value (a one-element array *one is made up for it). */
static json_object *elements(const struct rs_table *t, json_object *right, json_object **one)
{
	json_object *x;
	const char *k = only_key(right, &x);

	if (k && !strcmp(k, "set"))
		return json_object_is_type(x, json_type_array) ? x : elements(t, x, one);
	if (json_object_is_type(right, json_type_array))
		return right;
	if (json_object_is_type(right, json_type_string) && json_object_get_string(right)[0] == '@') {
		const char *name = json_object_get_string(right) + 1;

		for (size_t i = 0; i < t->n_sets; i++)
			if (!strcmp(t->sets[i].name, name))
				return t->sets[i].elem ?: (*one = json_object_new_array());
		return NULL; /* a set netd did not see: undecidable */
	}
	*one = json_object_new_array();
	if (*one)
		json_object_array_add(*one, json_object_get(right));
	return *one;
}

/* Whether the values (n > 1: a concatenation) are one of the elements of right. */
static enum tri set_match(const struct rs_table *t, const struct val *vals, size_t n, json_object *right,
			  bool map, json_object **ret_data)
{
	json_object *one = NULL, *a = elements(t, right, &one);
	enum tri r = T_FALSE;

	if (!a) {
		json_object_put(one);
		return T_UNKNOWN;
	}
	for (size_t i = 0; i < json_object_array_length(a) && r != T_TRUE; i++) {
		json_object *e = json_object_array_get_idx(a, i), *key = e;
		enum tri m;

		if (map) { /* [key, data] */
			if (!json_object_is_type(e, json_type_array) || json_object_array_length(e) != 2) {
				r = T_UNKNOWN;
				continue;
			}
			key = json_object_array_get_idx(e, 0);
		}
		m = n == 1 ? elem_match(&vals[0], key) : concat_elem_match(vals, n, key);
		if (m == T_TRUE && map && ret_data)
			*ret_data = json_object_array_get_idx(e, 1);
		if (m != T_FALSE)
			r = m;
	}
	json_object_put(one);
	return r;
}

static enum tri concat_elem_match(const struct val *vals, size_t n, json_object *e)
{
	json_object *x;
	const char *k = only_key(e, &x);
	enum tri r = T_TRUE;

	if (k && !strcmp(k, "elem"))
		return concat_elem_match(vals, n, member(x, "val"));
	if (!k || strcmp(k, "concat") || !json_object_is_type(x, json_type_array) ||
	    json_object_array_length(x) != n)
		return T_UNKNOWN;
	for (size_t i = 0; i < n && r != T_FALSE; i++) {
		enum tri m = elem_match(&vals[i], json_object_array_get_idx(x, i));

		if (m != T_TRUE)
			r = m;
	}
	return r;
}

#define CONCAT_MAX 8

/* The packet's values of a key (one, or each of a concatenation); V_ABSENT/V_UNKNOWN in *ret_kind
 * when one of them is. Returns their number. */
static size_t key_values(const struct reach_packet *p, json_object *key, struct val vals[static CONCAT_MAX],
			 enum val_kind *ret_kind)
{
	json_object *c = member(key, "concat");
	size_t n = 1;

	*ret_kind = V_INT;
	if (c && json_object_is_type(c, json_type_array) && json_object_array_length(c) <= CONCAT_MAX) {
		n = json_object_array_length(c);
		for (size_t i = 0; i < n; i++)
			val_of(p, json_object_array_get_idx(c, i), &vals[i]);
	} else if (c) {
		*ret_kind = V_UNKNOWN;
		return 0;
	} else {
		val_of(p, key, &vals[0]);
	}
	/* A field the packet lacks or leaves open decides before one netd cannot tell. */
	for (size_t i = 0; i < n; i++)
		if (vals[i].kind == V_ABSENT || vals[i].kind == V_ANY)
			*ret_kind = vals[i].kind;
		else if (vals[i].kind == V_UNKNOWN && *ret_kind != V_ABSENT && *ret_kind != V_ANY)
			*ret_kind = V_UNKNOWN;
	return n;
}

static enum tri cmp_match(const struct val *v, const char *op, json_object *right)
{
	uint64_t i;

	if (v->kind != V_INT || int_of(v, right, &i) != T_TRUE)
		return T_UNKNOWN;
	if (!strcmp(op, "<"))
		return v->i < i ? T_TRUE : T_FALSE;
	if (!strcmp(op, ">"))
		return v->i > i ? T_TRUE : T_FALSE;
	if (!strcmp(op, "<="))
		return v->i <= i ? T_TRUE : T_FALSE;
	if (!strcmp(op, ">="))
		return v->i >= i ? T_TRUE : T_FALSE;
	return T_UNKNOWN;
}

static enum tri match(const struct rs_table *t, const struct reach_packet *p, json_object *m)
{
	const char *op = str(m, "op") ?: "==";
	struct val vals[CONCAT_MAX];
	enum val_kind kind;
	size_t n = key_values(p, member(m, "left"), vals, &kind);
	json_object *right = member(m, "right");
	enum tri r;

	if (kind == V_ABSENT || kind == V_ANY)
		return T_FALSE; /* nft's implied dependency (meta nfproto, l4proto) fails first; or the
				 * rule is about part of the traffic only */
	if (kind == V_UNKNOWN || !right)
		return T_UNKNOWN;
	if (!strcmp(op, "==") || !strcmp(op, "in") || !strcmp(op, "!=")) {
		r = set_match(t, vals, n, right, false, NULL);
		if (!strcmp(op, "!=") && r != T_UNKNOWN)
			r = r == T_TRUE ? T_FALSE : T_TRUE;
		return r;
	}
	return n == 1 ? cmp_match(&vals[0], op, right) : T_UNKNOWN;
}

/* ---- Walking chains ---- */

enum way {
	WAY_CONT, /* on to the next rule (of a rule's outcome only) */
	WAY_ACCEPT,
	WAY_DROP,
	WAY_RET, /* the end of the chain, or return */
};

/*
 * What happens to the packet in a chain (or a rule). The main way is the one where every match
 * netd cannot decide does not match: an accept only on another way does not count (netd cannot
 * tell that the packet takes it), a drop only on another way is a "may block". The other ways are
 * summed up in may[]: whether any of them ends so.
 */
struct outcome {
	enum way main;
	struct reach_rule main_by; /* WAY_DROP: the rule */
	bool may[WAY_RET + 1];
	struct reach_rule may_by; /* may[WAY_DROP]: the first such rule */
	bool has_unknown;
	struct reach_rule unknown; /* the first rule netd could not decide on the way */
};

struct eval {
	const struct reach_ruleset *rs;
	const struct reach_packet *p;
	struct outcome *memo;
	uint8_t *state; /* per chain id: 0 not walked, 1 being walked, 2 done */
};

static void rule_ref(const struct rs_chain *c, json_object *rule, struct reach_rule *ret)
{
	json_object *h = member(rule, "handle");

	*ret = (struct reach_rule){ .handle = h ? (uint64_t)json_object_get_int64(h) : 0 };
	snprintf(ret->family, sizeof(ret->family), "%s", c->table->family);
	snprintf(ret->table, sizeof(ret->table), "%s", c->table->name);
	snprintf(ret->chain, sizeof(ret->chain), "%s", c->name);
	render_rule(rule, ret->text, sizeof(ret->text));
}

static void note_unknown(struct outcome *o, const struct reach_rule *r)
{
	if (!o->has_unknown) {
		o->has_unknown = true;
		o->unknown = *r;
	}
}

static void may_drop(struct outcome *o, const struct reach_rule *by)
{
	if (!o->may[WAY_DROP]) {
		o->may[WAY_DROP] = true;
		o->may_by = *by;
	}
}

/* v's other ways become o's. */
static void merge_others(struct outcome *o, const struct outcome *v)
{
	for (enum way w = WAY_CONT; w <= WAY_RET; w++)
		if (v->may[w] && w != WAY_DROP)
			o->may[w] = true;
	if (v->may[WAY_DROP])
		may_drop(o, &v->may_by);
	if (v->has_unknown)
		note_unknown(o, &v->unknown);
}

/* Every way of v, its main one too, becomes one of o's other ways. */
static void merge_may(struct outcome *o, const struct outcome *v)
{
	if (v->main == WAY_DROP)
		may_drop(o, &v->main_by);
	else
		o->may[v->main] = true;
	merge_others(o, v);
}

static const struct outcome *walk_chain(struct eval *ev, const struct rs_chain *c);

/* A rule that applies with a verdict netd does not know (queue, an xt target): it may accept, drop
 * or go on; the main way goes on. */
static void undecided(struct outcome *v, const struct rs_chain *c, json_object *rule)
{
	struct reach_rule r;

	rule_ref(c, rule, &r);
	*v = (struct outcome){ .main = WAY_CONT };
	v->may[WAY_ACCEPT] = true;
	may_drop(v, &r);
	note_unknown(v, &r);
}

static void verdict(struct eval *ev, const struct rs_chain *c, json_object *rule, const char *k,
		    json_object *x, struct outcome *v);

static void verdict_of(struct eval *ev, const struct rs_chain *c, json_object *rule, json_object *data,
		       struct outcome *v)
{
	json_object *x;
	const char *k = only_key(data, &x);

	if (!k)
		undecided(v, c, rule);
	else
		verdict(ev, c, rule, k, x, v);
}

static void verdict_map(struct eval *ev, const struct rs_chain *c, json_object *rule, json_object *x,
			struct outcome *v)
{
	struct val vals[CONCAT_MAX];
	enum val_kind kind;
	size_t n = key_values(ev->p, member(x, "key"), vals, &kind);
	json_object *data = member(x, "data"), *one = NULL, *a, *hit = NULL;
	struct reach_rule r;
	enum tri m;

	*v = (struct outcome){ .main = WAY_CONT };
	if (kind == V_ABSENT || kind == V_ANY)
		return;
	if (kind != V_UNKNOWN && data) {
		m = set_match(c->table, vals, n, data, true, &hit);
		if (m == T_TRUE && hit) {
			verdict_of(ev, c, rule, hit, v);
			return;
		}
		if (m == T_FALSE)
			return;
	}
	/* The key is not known: no element on the main way, any of them on others. */
	a = data ? elements(c->table, data, &one) : NULL;
	if (!a) {
		json_object_put(one);
		undecided(v, c, rule);
		return;
	}
	rule_ref(c, rule, &r);
	note_unknown(v, &r);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		struct outcome o;

		if (json_object_is_type(e, json_type_array) && json_object_array_length(e) == 2)
			verdict_of(ev, c, rule, json_object_array_get_idx(e, 1), &o);
		else
			undecided(&o, c, rule);
		merge_may(v, &o);
	}
	json_object_put(one);
}

static void verdict(struct eval *ev, const struct rs_chain *c, json_object *rule, const char *k,
		    json_object *x, struct outcome *v)
{
	*v = (struct outcome){ .main = WAY_CONT };
	if (!strcmp(k, "accept") || !strcmp(k, "masquerade") || !strcmp(k, "snat") || !strcmp(k, "dnat") ||
	    !strcmp(k, "redirect")) {
		v->main = WAY_ACCEPT;
	} else if (!strcmp(k, "drop") || !strcmp(k, "reject")) {
		v->main = WAY_DROP;
		rule_ref(c, rule, &v->main_by);
		v->main_by.reject = !strcmp(k, "reject");
	} else if (!strcmp(k, "return")) {
		v->main = WAY_RET;
	} else if (!strcmp(k, "continue")) {
		v->main = WAY_CONT;
	} else if (!strcmp(k, "jump") || !strcmp(k, "goto")) {
		const struct rs_chain *to = chain_find(c->table, str(x, "target"));
		bool jump = !strcmp(k, "jump");

		if (!to) {
			undecided(v, c, rule);
			return;
		}
		*v = *walk_chain(ev, to);
		/* The target's end goes on after a jump; after a goto it returns from this chain. */
		if (jump && v->main == WAY_RET)
			v->main = WAY_CONT;
		if (jump && v->may[WAY_RET]) {
			v->may[WAY_RET] = false;
			v->may[WAY_CONT] = true;
		}
	} else if (!strcmp(k, "vmap")) {
		verdict_map(ev, c, rule, x, v);
	} else {
		undecided(v, c, rule); /* queue, an xt target, tproxy, ... */
	}
}

static bool is_verdict(const char *k, json_object *x)
{
	static const char *const verdicts[] = { "accept", "drop", "reject",   "return", "continue",
						"jump",	  "goto", "vmap",     "queue",	"masquerade",
						"snat",	  "dnat", "redirect", "tproxy", "synproxy" };

	if (!strcmp(k, "xt"))
		return !strcmp(str(x, "type") ?: "", "target");
	for (size_t i = 0; i < ELEMENTSOF(verdicts); i++)
		if (!strcmp(k, verdicts[i]))
			return true;
	return false;
}

static bool is_noop(const char *k)
{
	/* Statements that neither match nor decide. A mark or a set element they set is not
	 * followed: a later match on a mark is undecidable anyway. */
	static const char *const noops[] = { "counter", "log",	     "set",	   "map",
					     "mangle",	"notrack",   "flow",	   "dup",
					     "secmark", "ct helper", "ct timeout", "ct expectation",
					     "last" };

	for (size_t i = 0; i < ELEMENTSOF(noops); i++)
		if (!strcmp(k, noops[i]))
			return true;
	return false;
}

/* iptables-nft targets by name (their options do not change what they do to the packet). */
static bool xt_target_goes_on(json_object *x)
{
	static const char *const names[] = { "LOG",	    "NFLOG",	"ULOG",	    "MARK",  "CONNMARK",
					     "TCPMSS",	    "CLASSIFY", "DSCP",	    "TOS",   "CHECKSUM",
					     "CT",	    "NOTRACK",	"TRACE",    "AUDIT", "SECMARK",
					     "CONNSECMARK", "HMARK",	"IDLETIMER" };
	const char *name = str(x, "name") ?: "";

	if (strcmp(str(x, "type") ?: "", "target"))
		return false;
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* The verdict an xt target amounts to ("drop" for REJECT: it rejects), or NULL. */
static const char *xt_target_verdict(json_object *x)
{
	const char *name = str(x, "name") ?: "";

	if (strcmp(str(x, "type") ?: "", "target"))
		return NULL;
	if (!strcmp(name, "REJECT"))
		return "drop";
	if (!strcmp(name, "MASQUERADE") || !strcmp(name, "SNAT") || !strcmp(name, "DNAT") ||
	    !strcmp(name, "REDIRECT"))
		return "accept";
	return NULL;
}

/* Whether the rule's matches hold for the packet, and what its verdict does (*v). */
static enum tri walk_rule(struct eval *ev, const struct rs_chain *c, json_object *rule, struct outcome *v)
{
	json_object *expr = member(rule, "expr");
	enum tri m = T_TRUE;

	*v = (struct outcome){ .main = WAY_CONT }; /* no verdict: on to the next rule */
	if (!expr || !json_object_is_type(expr, json_type_array))
		return T_UNKNOWN;
	for (size_t i = 0; i < json_object_array_length(expr); i++) {
		json_object *x;
		const char *k = only_key(json_object_array_get_idx(expr, i), &x);

		if (!k) {
			m = T_UNKNOWN;
		} else if (!strcmp(k, "match")) {
			enum tri r = match(c->table, ev->p, x);

			if (r == T_FALSE)
				return T_FALSE; /* what follows is never reached */
			if (r == T_UNKNOWN)
				m = T_UNKNOWN;
		} else if (!strcmp(k, "xt") && xt_target_goes_on(x)) {
			continue; /* LOG, MARK, ...: no verdict */
		} else if (!strcmp(k, "xt") && xt_target_verdict(x)) {
			verdict(ev, c, rule, xt_target_verdict(x), NULL, v);
			if (v->main == WAY_DROP)
				v->main_by.reject = true;
			return m;
		} else if (is_verdict(k, x)) {
			verdict(ev, c, rule, k, x, v);
			return m;
		} else if (!is_noop(k)) {
			m = T_UNKNOWN; /* limit, quota, an xt match, fib, ... */
		}
	}
	return m;
}

static bool does_nothing(const struct outcome *v)
{
	return v->main == WAY_CONT && !v->may[WAY_ACCEPT] && !v->may[WAY_DROP] && !v->may[WAY_RET];
}

static const struct outcome *walk_chain(struct eval *ev, const struct rs_chain *c)
{
	struct outcome *o = &ev->memo[c->id];
	bool main_on = true, may_on = false; /* the main way, another way, reach the next rule */

	if (ev->state[c->id] == 2)
		return o;
	if (ev->state[c->id] == 1) { /* a loop, which the kernel refuses: go on */
		static const struct outcome ret = { .main = WAY_RET };

		return &ret;
	}
	ev->state[c->id] = 1;
	*o = (struct outcome){ .main = WAY_RET };
	for (size_t i = 0; i < c->n_rules && (main_on || may_on); i++) {
		struct outcome v;
		enum tri m = walk_rule(ev, c, c->rules[i], &v);

		if (m == T_FALSE || does_nothing(&v))
			continue; /* not this packet's rule, or one that does nothing to it */
		if (m == T_UNKNOWN) {
			struct reach_rule r;

			rule_ref(c, c->rules[i], &r);
			note_unknown(o, &r);
		}
		if (m == T_TRUE && main_on) {
			/* The main way takes the rule's main way; its other ways are other ways. */
			merge_others(o, &v);
			if (v.main != WAY_CONT) {
				o->main = v.main;
				o->main_by = v.main_by;
				main_on = false;
			}
		} else {
			merge_may(o, &v); /* a way that depends on an undecided match: not the main one */
		}
		may_on = may_on || o->may[WAY_CONT];
		o->may[WAY_CONT] = false;
	}
	if (may_on && !main_on)
		o->may[WAY_RET] = true; /* another way reaches the end */
	o->may[WAY_CONT] = false;
	ev->state[c->id] = 2;
	return o;
}

static void base_result(struct eval *ev, const struct rs_chain *c, struct reach_result *ret)
{
	const struct outcome *o = walk_chain(ev, c);
	enum way main = o->main == WAY_RET ? (c->policy_drop ? WAY_DROP : WAY_ACCEPT) : o->main;
	bool may_drop = o->may[WAY_DROP] || (o->may[WAY_RET] && c->policy_drop);

	*ret = (struct reach_result){ .verdict = main == WAY_DROP ? REACH_DROP :
						 may_drop	  ? REACH_MAYBE :
								    REACH_ACCEPT };
	snprintf(ret->base.family, sizeof(ret->base.family), "%s", c->table->family);
	snprintf(ret->base.table, sizeof(ret->base.table), "%s", c->table->name);
	snprintf(ret->base.chain, sizeof(ret->base.chain), "%s", c->name);
	/* Worth a word where another way would end otherwise. */
	ret->has_unknown = o->has_unknown && (ret->verdict == REACH_MAYBE ||
					      (ret->verdict == REACH_DROP &&
					       (o->may[WAY_ACCEPT] || (o->may[WAY_RET] && !c->policy_drop))));
	ret->unknown = o->unknown;
	if (ret->verdict == REACH_DROP)
		ret->by = o->main == WAY_DROP ? o->main_by : ret->base; /* a rule, or the policy */
	else if (ret->verdict == REACH_MAYBE)
		ret->by = o->may[WAY_DROP] ? o->may_by : ret->base;
}

static bool sees(const struct rs_chain *c, const struct reach_packet *p)
{
	if (c->hook != p->hook || (c->nat && p->ct != REACH_CT_NEW))
		return false;
	return p->family == AF_INET ? c->table->v4 : c->table->v6;
}

int reach_evaluate(const struct reach_ruleset *rs, const struct reach_packet *p, struct reach_result *ret,
		   struct reach_result *ret_chains, size_t max_chains, size_t *ret_n)
{
	struct eval ev = { .rs = rs, .p = p };
	struct reach_result r = { .verdict = REACH_ACCEPT };
	size_t n = 0;

	if (rs && rs->n_chains) {
		ev.memo = calloc(rs->n_chains, sizeof(*ev.memo));
		ev.state = calloc(rs->n_chains, sizeof(*ev.state));
		if (!ev.memo || !ev.state) {
			free(ev.memo);
			free(ev.state);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; rs && i < rs->n_bases; i++) {
		struct reach_result c;

		if (!sees(rs->bases[i], p))
			continue;
		base_result(&ev, rs->bases[i], &c);
		if (ret_chains && n < max_chains)
			ret_chains[n] = c;
		n++;
		/* The first chain that drops, else the first that may. */
		if (c.verdict == REACH_DROP && r.verdict != REACH_DROP)
			r = c;
		else if (c.verdict == REACH_MAYBE && r.verdict == REACH_ACCEPT)
			r = c;
	}
	free(ev.memo);
	free(ev.state);
	*ret = r;
	if (ret_n)
		*ret_n = n < max_chains ? n : max_chains;
	return 0;
}

/* ---- A network's checks ---- */

static void packet_init(struct reach_packet *p, int family, enum reach_hook hook, enum reach_ct ct)
{
	*p = (struct reach_packet){ .family = family,
				    .hook = hook,
				    .ct = ct,
				    .l4proto = -1,
				    .sport = -1,
				    .dport = -1,
				    .icmp_type = -1,
				    .hoplimit = -1,
				    .pkttype = PACKET_HOST };
}

/* A guest's address: the subnet's first host, or the next one when that is the gateway. */
static void guest_addr(const struct ip_prefix *subnet, const union in_addr_union *gw,
		       union in_addr_union *ret)
{
	if (subnet->family == AF_INET) {
		ip_prefix_first_host(subnet, ret);
		if (ip_addr_equal(AF_INET, ret, gw))
			ip4_from_host(ip4_to_host(ret) + 1, ret);
		return;
	}
	*ret = subnet->addr;
	ret->bytes[15] |= 1;
	if (ip_addr_equal(AF_INET6, ret, gw))
		ret->bytes[15] ^= 3; /* ::1 -> ::2 */
}

static struct reach_check *check_add(struct reach_check *c, size_t *n, enum reach_check_kind kind, int family,
				     enum reach_hook hook, enum reach_ct ct)
{
	struct reach_check *k = &c[(*n)++];

	*k = (struct reach_check){ .kind = kind, .family = family };
	packet_init(&k->packet, family, hook, ct);
	return k;
}

static void forward_checks(const struct fw_network *w, int family, const union in_addr_union *guest,
			   struct reach_check *c, size_t *n)
{
	const char *out = w->uplink[0] ? w->uplink : NULL;
	struct reach_check *k =
		check_add(c, n, REACH_CHECK_FORWARD_OUT, family, REACH_HOOK_FORWARD, REACH_CT_NEW);

	k->packet.iifname = w->bridge;
	k->packet.oifname = out;
	k->packet.saddr_family = family;
	k->packet.saddr = *guest;
	k = check_add(c, n, REACH_CHECK_FORWARD_REPLY, family, REACH_HOOK_FORWARD, REACH_CT_ESTABLISHED);
	k->packet.iifname = out;
	k->packet.oifname = w->bridge;
	k->packet.daddr_family = family;
	k->packet.daddr = *guest;
}

static struct reach_check *input_check(const struct fw_network *w, enum reach_check_kind kind, int family,
				       const union in_addr_union *src, const union in_addr_union *dst,
				       int l4proto, int dport, struct reach_check *c, size_t *n)
{
	struct reach_check *k = check_add(c, n, kind, family, REACH_HOOK_INPUT, REACH_CT_NEW);

	k->packet.iifname = w->bridge;
	k->packet.saddr_family = k->packet.daddr_family = family;
	k->packet.saddr = *src;
	k->packet.daddr = *dst;
	k->packet.l4proto = l4proto;
	k->packet.dport = dport;
	return k;
}

static void checks4(const struct fw_network *w, unsigned serves, struct reach_check *c, size_t *n)
{
	union in_addr_union guest, any = {}, bcast = {};
	struct reach_check *k;

	guest_addr(&w->subnet, &w->gateway, &guest);
	if (w->mode != FW_ISOLATED)
		forward_checks(w, AF_INET, &guest, c, n);
	if (serves & REACH_SERVES_DHCP) {
		/* A DHCPDISCOVER: from 0.0.0.0, broadcast. */
		bcast.in.s_addr = INADDR_BROADCAST;
		k = input_check(w, REACH_CHECK_DHCP, AF_INET, &any, &bcast, IPPROTO_UDP, 67, c, n);
		k->packet.sport = 68;
		k->packet.pkttype = PACKET_BROADCAST;
	}
	if (serves & REACH_SERVES_DNS) {
		input_check(w, REACH_CHECK_DNS_UDP, AF_INET, &guest, &w->gateway, IPPROTO_UDP, 53, c, n);
		input_check(w, REACH_CHECK_DNS_TCP, AF_INET, &guest, &w->gateway, IPPROTO_TCP, 53, c, n);
	}
	/* The network's other subnets (--address): a guest of each, forwarded and asking its own
	 * gateway (DHCP's broadcast is the same for all). */
	for (size_t i = 0; i < w->n_addresses && i < FW_ADDRESSES_MAX; i++) {
		const union in_addr_union *gw = &w->addresses[i].addr;

		guest_addr(&w->addresses[i], gw, &guest);
		if (w->mode != FW_ISOLATED)
			forward_checks(w, AF_INET, &guest, c, n);
		if (!(serves & REACH_SERVES_DNS))
			continue;
		input_check(w, REACH_CHECK_DNS_UDP, AF_INET, &guest, gw, IPPROTO_UDP, 53, c, n);
		input_check(w, REACH_CHECK_DNS_TCP, AF_INET, &guest, gw, IPPROTO_TCP, 53, c, n);
	}
}

static void checks6(const struct fw_network *w, unsigned serves, struct reach_check *c, size_t *n)
{
	union in_addr_union guest, snm = { .bytes = { 0xff, 0x02, [11] = 1, [12] = 0xff } }, all_routers = {},
				   link_local = { .bytes = { 0xfe, 0x80, [15] = 0x42 } }, dhcp_agents = {};
	struct reach_check *k;

	guest_addr(&w->subnet6, &w->gateway6, &guest);
	if (w->mode != FW_ISOLATED)
		forward_checks(w, AF_INET6, &guest, c, n);
	/* A neighbour solicitation for the gateway: to its solicited-node group, hop limit 255. */
	memcpy(&snm.bytes[13], &w->gateway6.bytes[13], 3);
	k = input_check(w, REACH_CHECK_ND, AF_INET6, &guest, &snm, IPPROTO_ICMPV6, -1, c, n);
	k->packet.icmp_type = 135;
	k->packet.hoplimit = 255;
	k->packet.pkttype = PACKET_MULTICAST;
	inet_pton(AF_INET6, "ff02::2", &all_routers);
	k = input_check(w, REACH_CHECK_RS, AF_INET6, &link_local, &all_routers, IPPROTO_ICMPV6, -1, c, n);
	k->packet.icmp_type = 133;
	k->packet.hoplimit = 255;
	k->packet.pkttype = PACKET_MULTICAST;
	if (serves & REACH_SERVES_DHCP) {
		inet_pton(AF_INET6, "ff02::1:2", &dhcp_agents);
		k = input_check(w, REACH_CHECK_DHCP6, AF_INET6, &link_local, &dhcp_agents, IPPROTO_UDP, 547,
				c, n);
		k->packet.sport = 546;
		k->packet.pkttype = PACKET_MULTICAST;
	}
	if (serves & REACH_SERVES_DNS) {
		input_check(w, REACH_CHECK_DNS_UDP, AF_INET6, &guest, &w->gateway6, IPPROTO_UDP, 53, c, n);
		input_check(w, REACH_CHECK_DNS_TCP, AF_INET6, &guest, &w->gateway6, IPPROTO_TCP, 53, c, n);
	}
}

size_t reach_network_checks(const struct reach_ruleset *rs, const struct fw_network *w, unsigned serves,
			    struct reach_check ret[static REACH_CHECKS_MAX])
{
	size_t n = 0;

	if (w->subnet.family == AF_INET)
		checks4(w, serves, ret, &n);
	if (w->subnet6.family == AF_INET6)
		checks6(w, serves, ret, &n);
	for (size_t i = 0; i < n; i++)
		if (reach_evaluate(rs, &ret[i].packet, &ret[i].result, NULL, 0, NULL) < 0)
			ret[i].result = (struct reach_result){ .verdict = REACH_ACCEPT }; /* no memory: say
											     nothing */
	return n;
}

const struct reach_check *reach_checks_first_failure(const struct reach_check *c, size_t n)
{
	const struct reach_check *maybe = NULL;

	for (size_t i = 0; i < n; i++) {
		if (c[i].result.verdict == REACH_DROP)
			return &c[i];
		if (c[i].result.verdict == REACH_MAYBE && !maybe)
			maybe = &c[i];
	}
	return maybe;
}

const char *reach_check_name(const struct reach_check *c, char *buf, size_t size)
{
	static const char *const names[] = {
		[REACH_CHECK_FORWARD_OUT] = "forwarding",
		[REACH_CHECK_FORWARD_REPLY] = "forwarded replies",
		[REACH_CHECK_DHCP] = "DHCP",
		[REACH_CHECK_DNS_UDP] = "DNS",
		[REACH_CHECK_DNS_TCP] = "DNS over TCP",
		[REACH_CHECK_ND] = "neighbour discovery",
		[REACH_CHECK_RS] = "router solicitation",
		[REACH_CHECK_DHCP6] = "DHCPv6",
	};
	bool v6 = c->family == AF_INET6 && c->kind != REACH_CHECK_ND && c->kind != REACH_CHECK_RS &&
		  c->kind != REACH_CHECK_DHCP6;

	snprintf(buf, size, "%s%s", v6 ? "IPv6 " : "", names[c->kind]);
	return buf;
}

const char *reach_check_problem(const struct reach_check *c, char *buf, size_t size)
{
	const struct reach_result *r = &c->result;
	const char *hook = c->packet.hook == REACH_HOOK_FORWARD ? "forward" : "input";
	char name[64], via[96] = "", by[REACH_TEXT_MAX + 48], unknown[REACH_TEXT_MAX + 160] = "";

	reach_check_name(c, name, sizeof(name));
	if (r->verdict == REACH_ACCEPT) {
		snprintf(buf, size, "%s passes", name);
		return buf;
	}
	if (strcmp(r->by.chain, r->base.chain))
		snprintf(via, sizeof(via), ", jumped to from %s", r->base.chain);
	if (r->by.handle)
		snprintf(by, sizeof(by), "rule handle %" PRIu64 ": %s", r->by.handle, r->by.text);
	else
		snprintf(by, sizeof(by), "policy drop");
	if (r->has_unknown && r->unknown.handle == r->by.handle && !strcmp(r->unknown.chain, r->by.chain))
		snprintf(unknown, sizeof(unknown), "; netd cannot tell whether it applies");
	else if (r->has_unknown)
		snprintf(unknown, sizeof(unknown),
			 "; %s on rule handle %" PRIu64 " of chain %s, which netd cannot "
			 "decide: %s",
			 r->verdict == REACH_DROP ? "unless it is let through" : "it depends",
			 r->unknown.handle, r->unknown.chain, r->unknown.text);
	snprintf(buf, size, "%s %s by table %s %s chain %s (hook %s%s, %s%s)", name,
		 r->verdict == REACH_DROP ? "blocked" : "may be blocked", r->by.family, r->by.table,
		 r->by.chain, hook, via, by, unknown);
	return buf;
}

size_t reach_ruleset_n_tables(const struct reach_ruleset *rs)
{
	return rs ? rs->n_tables : 0;
}

void reach_ruleset_table(const struct reach_ruleset *rs, size_t i, const char **ret_family,
			 const char **ret_name)
{
	*ret_family = rs->tables[i]->family;
	*ret_name = rs->tables[i]->name;
}

/* Whether chain `to` of c's table is reached from c by jumps and gotos (depth: how far to follow). */
static bool chain_leads_to(const struct rs_chain *c, const struct rs_chain *to, unsigned depth)
{
	if (c == to)
		return true;
	if (!depth)
		return false;
	for (size_t i = 0; i < c->n_rules; i++) {
		json_object *expr = NULL;

		if (!json_object_object_get_ex(c->rules[i], "expr", &expr) || !json_object_is_type(expr, json_type_array))
			continue;
		for (size_t k = 0; k < json_object_array_length(expr); k++) {
			json_object *x, *e = json_object_array_get_idx(expr, k);
			const struct rs_chain *next;

			if (!json_object_object_get_ex(e, "jump", &x) && !json_object_object_get_ex(e, "goto", &x))
				continue;
			next = chain_find(c->table, str(x, "target"));
			if (next && next != c && chain_leads_to(next, to, depth - 1))
				return true;
		}
	}
	return false;
}

bool reach_chain_reachable(const struct reach_ruleset *rs, const char *family, const char *table,
			   const char *chain)
{
	const struct rs_table *t = rs ? table_find(rs, family, table) : NULL;
	const struct rs_chain *to = chain_find(t, chain);

	for (size_t i = 0; to && i < t->n_chains; i++)
		if (t->chains[i]->base && chain_leads_to(t->chains[i], to, 16))
			return true;
	return false;
}

bool reach_ruleset_has_chain(const struct reach_ruleset *rs, const char *family, const char *table,
			     const char *chain)
{
	return rs && chain_find(table_find(rs, family, table), chain) != NULL;
}

static bool table_has_chain(const struct reach_ruleset *rs, const struct reach_rule *r, const char *chain)
{
	return chain_find(table_find(rs, r->family, r->table), chain) != NULL;
}

static const char *input_match(const struct reach_check *c)
{
	switch (c->kind) {
	case REACH_CHECK_DHCP:
		return "udp dport 67";
	case REACH_CHECK_DNS_UDP:
		return "udp dport 53";
	case REACH_CHECK_DNS_TCP:
		return "tcp dport 53";
	case REACH_CHECK_ND:
	case REACH_CHECK_RS:
		return "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit }";
	case REACH_CHECK_DHCP6:
		return "udp dport 547";
	default:
		return "";
	}
}

static const char *ufw_input(const struct reach_check *c)
{
	switch (c->kind) {
	case REACH_CHECK_DHCP:
		return " to any port 67 proto udp";
	case REACH_CHECK_DNS_UDP:
	case REACH_CHECK_DNS_TCP:
		return " to any port 53";
	case REACH_CHECK_DHCP6:
		return " to any port 547 proto udp";
	default:
		return "";
	}
}

const char *reach_check_advice(const struct reach_ruleset *rs, const struct reach_check *c,
			       const char *bridge, char *buf, size_t size)
{
	const struct reach_rule *b = &c->result.base;
	bool fwd = c->packet.hook == REACH_HOOK_FORWARD;
	const char *ipt = c->family == AF_INET6 ? "ip6tables" : "iptables";

	if (fwd && table_has_chain(rs, b, "DOCKER-USER"))
		snprintf(
			buf, size,
			"let it through in Docker's chain for it, DOCKER-USER: %s -I DOCKER-USER -i %s -j ACCEPT and "
			"%s -I DOCKER-USER -o %s -j ACCEPT",
			ipt, bridge, ipt, bridge);
	else if (table_has_chain(rs, b, "ufw-user-input") || table_has_chain(rs, b, "ufw6-user-input"))
		snprintf(
			buf, size,
			fwd ? "let it through with ufw: ufw route allow in on %s and ufw route allow out on %s" :
			      "let it through with ufw: ufw allow in on %s%s",
			bridge, fwd ? bridge : ufw_input(c));
	else if (!strcmp(b->table, "firewalld"))
		snprintf(
			buf, size,
			"put %s in a firewalld zone that lets it through (firewall-cmd --zone=ZONE --change-interface=%s)",
			bridge, bridge);
	else if (fwd)
		snprintf(buf, size,
			 "let it through there, e.g. nft insert rule %s %s %s iifname \"%s\" accept, "
			 "and the same with oifname",
			 b->family, b->table, b->chain, bridge);
	else
		snprintf(buf, size,
			 "let it through there, e.g. nft insert rule %s %s %s iifname \"%s\" %s accept",
			 b->family, b->table, b->chain, bridge, input_match(c));
	return buf;
}

const char *reach_check_fix(const struct reach_ruleset *rs, const struct reach_check *c, const char *bridge,
			    char *buf, size_t size)
{
	const struct reach_rule *b = &c->result.base;
	bool fwd = c->packet.hook == REACH_HOOK_FORWARD;
	const char *ipt = c->family == AF_INET6 ? "ip6tables" : "iptables";

	if (fwd && table_has_chain(rs, b, "DOCKER-USER"))
		snprintf(buf, size, "%s -I DOCKER-USER -i %s -j ACCEPT && %s -I DOCKER-USER -o %s -j ACCEPT",
			 ipt, bridge, ipt, bridge);
	else if (table_has_chain(rs, b, "ufw-user-input") || table_has_chain(rs, b, "ufw6-user-input"))
		snprintf(buf, size,
			 fwd ? "ufw route allow in on %s && ufw route allow out on %s" :
			       "ufw allow in on %s%s",
			 bridge, fwd ? bridge : ufw_input(c));
	else if (!strcmp(b->table, "firewalld"))
		snprintf(buf, size, "firewall-cmd --zone=trusted --change-interface=%s", bridge);
	else if (fwd)
		snprintf(
			buf, size,
			"nft insert rule %s %s %s iifname %s accept && nft insert rule %s %s %s oifname %s accept",
			b->family, b->table, b->chain, bridge, b->family, b->table, b->chain, bridge);
	else
		snprintf(buf, size, "nft insert rule %s %s %s iifname %s %s accept", b->family, b->table,
			 b->chain, bridge, input_match(c));
	return buf;
}

/* ---- iptables-nft's xt matches, decoded ---- */

static char *state_json(unsigned mask, bool invert)
{
	char buf[160];
	struct text t = { .p = buf, .size = sizeof(buf) };
	bool first = true;

	if (!mask || (mask & ~(1u | 2u | 4u | 8u | 64u)))
		return NULL; /* SNAT/DNAT pseudo-states or nothing */
	put(&t, "{\"match\": {\"op\": \"%s\", \"left\": {\"ct\": {\"key\": \"state\"}}, \"right\": [",
	    invert ? "!=" : "in");
	for (const struct name *n = ct_state_names; n->name; n++)
		if (mask & n->value) {
			put(&t, "%s\"%s\"", first ? "" : ", ", n->name);
			first = false;
		}
	put(&t, "]}}");
	return strdup(buf);
}

static char *conntrack_json(unsigned rev, const void *info, size_t len)
{
	unsigned flags, invert, mask;

	if (rev == 1 && len >= sizeof(struct xt_conntrack_mtinfo1)) {
		const struct xt_conntrack_mtinfo1 *i = info;

		flags = i->match_flags, invert = i->invert_flags, mask = i->state_mask;
	} else if ((rev == 2 && len >= sizeof(struct xt_conntrack_mtinfo2)) ||
		   (rev == 3 && len >= sizeof(struct xt_conntrack_mtinfo3))) {
		const struct xt_conntrack_mtinfo2 *i = info; /* mtinfo3 begins as mtinfo2 */

		flags = i->match_flags, invert = i->invert_flags, mask = i->state_mask;
	} else {
		return NULL;
	}
	if (!(flags & XT_CONNTRACK_STATE) || (flags & ~(XT_CONNTRACK_STATE | XT_CONNTRACK_STATE_ALIAS)))
		return NULL;
	return state_json(mask, invert & XT_CONNTRACK_STATE);
}

/* struct ipt_icmp and ip6t_icmp (<linux/netfilter_ipv4/ip_tables.h>, which clashes with <net/if.h>). */
struct xt_icmp {
	uint8_t type;
	uint8_t code[2];
	uint8_t invflags; /* 1: inverted */
};

static char *icmp_json(const char *protocol, const void *info, size_t len)
{
	const struct xt_icmp *i = info;
	char buf[160];

	if (len < sizeof(*i) || i->code[0] != 0 || i->code[1] != 0xff || i->type == 0xff)
		return NULL; /* a code range, or any type */
	snprintf(buf, sizeof(buf),
		 "{\"match\": {\"op\": \"%s\", \"left\": {\"payload\": {\"protocol\": \"%s\", \"field\": "
		 "\"type\"}}, \"right\": %u}}",
		 i->invflags & 1 ? "!=" : "==", protocol, i->type);
	return strdup(buf);
}

static char *addrtype_json(unsigned rev, const void *info, size_t len)
{
	const struct xt_addrtype_info_v1 *i = info;
	char buf[256];
	struct text t = { .p = buf, .size = sizeof(buf) };
	bool first = true;

	if (rev != 1 || len < sizeof(*i) || i->source || !i->dest ||
	    (i->flags & ~(unsigned)XT_ADDRTYPE_INVERT_DEST) || (i->dest & ~0x1ffu))
		return NULL; /* a source type, an interface limit, THROW/NAT/XRESOLVE */
	put(&t,
	    "{\"match\": {\"op\": \"%s\", \"left\": {\"fib\": {\"result\": \"type\", \"flags\": "
	    "[\"daddr\"]}}, \"right\": {\"set\": [",
	    i->flags & XT_ADDRTYPE_INVERT_DEST ? "!=" : "==");
	for (const struct name *n = fib_type_names; n->name; n++)
		if (i->dest & (1u << n->value)) {
			put(&t, "%s\"%s\"", first ? "" : ", ", n->name);
			first = false;
		}
	put(&t, "]}}}");
	return strdup(buf);
}

char *reach_xt_match_json(const char *name, unsigned rev, const void *info, size_t len)
{
	/* -m comment matches every packet: a statement that does nothing stands for it */
	if (!strcmp(name, "comment"))
		return strdup("{\"counter\": null}");
	if (!strcmp(name, "conntrack"))
		return conntrack_json(rev, info, len);
	if (!strcmp(name, "icmp") && rev == 0)
		return icmp_json("icmp", info, len);
	if (!strcmp(name, "icmp6") && rev == 0)
		return icmp_json("icmpv6", info, len);
	if (!strcmp(name, "addrtype"))
		return addrtype_json(rev, info, len);
	return NULL;
}
