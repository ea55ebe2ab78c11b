/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nat/render.c: the nft script of netd's table, against golden files; and the mode-dependent
 * parts of a network definition (uplink, router). */
#include "golden.h"

#include "config.h"
#include "firewall.h"
#include "macro.h"
#include "network.h"
#include "portsec.h"
#include "tunnel.h"

static struct fw_network net(const char *bridge, const char *subnet, enum fw_mode mode, const char *uplink)
{
	struct fw_network n = { .mode = mode };

	snprintf(n.bridge, sizeof(n.bridge), "%s", bridge);
	snprintf(n.uplink, sizeof(n.uplink), "%s", uplink ? uplink : "");
	assert_int_equal(ip_prefix_parse(subnet, &n.subnet), 0);
	ip_prefix_first_host(&n.subnet, &n.gateway);
	return n;
}

/* The network with an IPv6 prefix besides (subnet "none": IPv6 only), its gateway the prefix's
 * first address (::1 of a /64). */
static struct fw_network net6(const char *bridge, const char *subnet, const char *subnet6, bool nat6,
			      enum fw_mode mode, const char *uplink)
{
	struct fw_network n = { .mode = mode, .nat6 = nat6 };

	snprintf(n.bridge, sizeof(n.bridge), "%s", bridge);
	snprintf(n.uplink, sizeof(n.uplink), "%s", uplink ? uplink : "");
	if (strcmp(subnet, "none")) {
		assert_int_equal(ip_prefix_parse(subnet, &n.subnet), 0);
		ip_prefix_first_host(&n.subnet, &n.gateway);
	}
	assert_int_equal(ip_prefix_parse(subnet6, &n.subnet6), 0);
	assert_int_equal(n.subnet6.family, AF_INET6);
	n.gateway6 = n.subnet6.addr;
	n.gateway6.bytes[15] |= 1;
	return n;
}

static void render_golden(const char *golden, const struct fw_network *nets, size_t n, const char *want_marker_end)
{
	_cleanup_free_ char *marker = NULL;
	_cleanup_free_ char *script = fw_render(nets, n, &marker);

	assert_non_null(script);
	assert_non_null(marker);
	assert_golden(golden, script);
	if (want_marker_end) {
		const char *p = strrchr(marker, ':');
		assert_non_null(p);
		assert_string_equal(p + 1, want_marker_end);
	}
}

static void test_nat_default(void **state)
{
	struct fw_network n[] = { net("virbr0", "192.168.122.0/24", FW_NAT, NULL) };

	render_golden("nft-nat.txt", n, ELEMENTSOF(n), "60");
	{
		_cleanup_free_ char *marker = NULL;
		_cleanup_free_ char *script = fw_render(n, ELEMENTSOF(n), &marker);

		/* only netd_fwd's own DNATs (its ct mark) pass the isolation, into netd's bridges and back:
		 * not any DNAT (Docker's published ports) */
		assert_null(strstr(script, "\t\tct status dnat accept\n"));
		assert_non_null(strstr(script, "ct direction original ct status dnat ct mark & 0x00800000 == "
					       "0x00800000 oifname @bridges accept"));
		assert_non_null(strstr(script, "ct direction reply ct status dnat ct mark & 0x00800000 == "
					       "0x00800000 iifname @bridges accept"));
	}
}

/* IPv6: a dual-stack nat network whose ULA prefix is masqueraded (NAT66), one whose global prefix
 * is routed (nat without nat6), a routed network, an isolated IPv6-only one with a host port and a
 * nat IPv6-only network with an uplink: each IPv6 set of /64 and /56 has its elements, the rules
 * their ip6 masks, the input chain gateways6. */
static void test_ipv6(void **state)
{
	struct fw_network n[] = {
		net6("nd-dual", "192.168.122.0/24", "fd12:3456:789a:1::/64", true, FW_NAT, NULL),
		net6("nd-global", "10.5.0.0/24", "2001:db8:5::/64", false, FW_NAT, NULL),
		net6("nd-routed", "10.6.0.0/24", "2001:db8:600::/56", false, FW_ROUTED, NULL),
		net6("nd-iso6", "none", "fd12:3456:789a:7::/64", false, FW_ISOLATED, NULL),
		net6("nd-up6", "none", "fd12:3456:789a:8::/64", true, FW_NAT, "eth1"),
	};
	_cleanup_free_ char *marker = NULL, *script = NULL;

	n[3].host_ports[n[3].n_host_ports++] = (struct l4_port){ IPPROTO_TCP, 22 };
	render_golden("nft-ipv6.txt", n, ELEMENTSOF(n), NULL);
	script = fw_render(n, ELEMENTSOF(n), &marker);
	assert_non_null(script);
	assert_non_null(strstr(
		script, "ip6 saddr & ffff:ffff:ffff:ffff:: . iifname @out6_64 oifname != @bridges accept"));
	assert_non_null(strstr(
		script,
		"iifname != @bridges ip6 daddr & ffff:ffff:ffff:ff00:: . oifname @routed_in6_56 accept"));
	/* an IPv6-only network has no IPv4 gateway */
	assert_null(strstr(script, "\"nd-iso6\" . 0.0.0.0"));
	/* /128 leaves no room for a guest: refused like an IPv4 subnet the renderer cannot index */
	n[0].subnet6.len = 128;
	free(marker);
	marker = NULL;
	assert_null(fw_render(n, ELEMENTSOF(n), &marker));
}

static void test_all_modes(void **state)
{
	struct fw_network n[] = {
		net("nd-default", "192.168.122.0/24", FW_NAT, NULL),
		net("nd-lab", "10.77.0.0/24", FW_ISOLATED, NULL),
		net("nd-dmz", "10.9.0.0/24", FW_ROUTED, NULL),
		net("nd-out", "10.10.0.0/24", FW_NAT, "eth1"),
	};

	/* An isolated network whose guests may also reach the host's SSH and a UDP service. */
	n[1].host_ports[n[1].n_host_ports++] = (struct l4_port){ IPPROTO_TCP, 22 };
	n[1].host_ports[n[1].n_host_ports++] = (struct l4_port){ IPPROTO_UDP, 5353 };

	render_golden("nft-modes.txt", n, ELEMENTSOF(n), "80");
}

/* open: unfiltered between its bridge and the outside (only its uplink with one), never into or
 * out of another netd bridge, no masquerade; the host's input chain as for every network. */
static void test_open(void **state)
{
	struct fw_network n[] = {
		net("nd-open", "10.20.0.0/24", FW_OPEN, NULL),
		net("nd-openup", "10.21.0.0/24", FW_OPEN, "eth1"),
		net("nd-lab", "10.77.0.0/24", FW_ISOLATED, NULL),
	};

	render_golden("nft-open.txt", n, ELEMENTSOF(n), NULL);
}

/* Several IPv4 subnets on one bridge (--address): each masqueraded (nat), routed (routed) and a
 * gateway its guests reach, as the first; the sets of each length in use; a change that adds a
 * subnet of a length already in use is set elements only. */
static void test_subnets(void **state)
{
	struct fw_network n[] = {
		net("nd-multi", "10.40.0.0/24", FW_NAT, NULL),
		net("nd-mroute", "10.50.0.0/24", FW_ROUTED, "eth1"),
		net("nd-miso", "10.60.0.0/24", FW_ISOLATED, NULL),
	};
	_cleanup_free_ char *marker = NULL, *script = NULL, *m2 = NULL, *change = NULL;
	struct fw_network more[3];

	assert_int_equal(ip_prefix_parse("10.41.0.1/24", &n[0].addresses[n[0].n_addresses++]), 0);
	assert_int_equal(ip_prefix_parse("10.42.1.254/23", &n[0].addresses[n[0].n_addresses++]), 0);
	assert_int_equal(ip_prefix_parse("10.51.0.1/25", &n[1].addresses[n[1].n_addresses++]), 0);
	assert_int_equal(ip_prefix_parse("10.61.0.1/24", &n[2].addresses[n[2].n_addresses++]), 0);
	render_golden("nft-subnets.txt", n, ELEMENTSOF(n), NULL);
	script = fw_render(n, ELEMENTSOF(n), &marker);
	assert_non_null(script);
	assert_non_null(strstr(script, "10.41.0.0 . \"nd-multi\""));
	assert_non_null(strstr(script, "\"nd-multi\" . 10.42.1.254"));
	/* what stays on the bridge is not masqueraded, between its subnets too */
	assert_non_null(strstr(
		script,
		"inside_23 {\n\t\ttype ipv4_addr . ifname\n\t\telements = { 10.42.0.0 . \"nd-multi\" }"));
	assert_non_null(strstr(script, "ip saddr & 255.255.254.0 . oifname @inside_23 accept"));
	assert_non_null(strstr(script, "ip saddr & 255.255.254.0 @masq_23 masquerade"));
	assert_non_null(strstr(script, "10.51.0.0 . \"nd-mroute\" . \"eth1\""));

	/* One more /24 on nd-multi: elements only, the same as the whole table's. */
	memcpy(more, n, sizeof(n));
	assert_int_equal(ip_prefix_parse("10.43.0.1/24", &more[0].addresses[more[0].n_addresses++]), 0);
	assert_false(fw_network_equal(&n[0], &more[0]));
	free(fw_render(more, ELEMENTSOF(more), &m2));
	assert_non_null(m2);
	change = fw_render_change(n, ELEMENTSOF(n), marker, more, ELEMENTSOF(more), m2);
	assert_non_null(change);
	assert_non_null(strstr(change, "add element inet netd masq_24 { 10.40.0.0, 10.41.0.0, 10.43.0.0 }"));
	/* A subnet the renderer cannot index is refused, as for the first. */
	more[0].addresses[0].family = AF_INET6;
	free(marker);
	marker = NULL;
	assert_null(fw_render(more, ELEMENTSOF(more), &marker));
}

/* A network that comes, goes or changes is set elements only, while the prefix lengths of the
 * subnets with rules stay the same; when they change, the rules do: the whole table. */
static void test_change(void **state)
{
	struct fw_network a[] = {
		net("nd-default", "192.168.122.0/24", FW_NAT, NULL),
		net("nd-dmz", "10.9.0.0/24", FW_ROUTED, NULL),
		net("nd-out", "10.10.0.0/24", FW_NAT, "eth1"),
	};
	struct fw_network b[] = {
		a[0],
		net("nd-dmz", "10.9.0.0/24", FW_NAT, "eth1"), /* changed */
		net("nd-lab", "10.77.0.0/24", FW_ISOLATED, NULL), /* came; nd-out went */
	};
	_cleanup_free_ char *ma = NULL, *mb = NULL, *change = NULL, *none = NULL;
	_cleanup_free_ char *sa = fw_render(a, ELEMENTSOF(a), &ma), *sb = fw_render(b, ELEMENTSOF(b), &mb);

	assert_non_null(sa);
	assert_non_null(sb);
	change = fw_render_change(a, ELEMENTSOF(a), ma, b, ELEMENTSOF(b), mb);
	assert_non_null(change);
	assert_golden("nft-change.txt", change);
	none = fw_render_change(a, ELEMENTSOF(a), ma, a, ELEMENTSOF(a), ma);
	assert_string_equal(none, "");
}

/* The change made from the networks that differ alone is the change of the whole lists, whichever
 * network came, went or changed, and whatever order the lists are in. */
static void test_change_only(void **state)
{
	enum { N = 30 };
	static const enum fw_mode modes[] = { FW_NAT, FW_ROUTED, FW_ISOLATED, FW_OPEN };
	struct fw_network a[N + 1], b[N + 1];
	unsigned seed = 20;

	for (size_t i = 0; i < N; i++) {
		char br[IFNAMSIZ], sn[32];

		snprintf(br, sizeof(br), "nd-n%zu", (i * 7) % N); /* not in bridge order */
		snprintf(sn, sizeof(sn), "10.%zu.%zu.0/24", i / 250, i % 250);
		a[i] = net(br, sn, modes[i % ELEMENTSOF(modes)], i % 3 ? NULL : "eth1");
	}
	for (int round = 0; round < 60; round++) {
		_cleanup_free_ char *ma = NULL, *mb = NULL, *whole = NULL, *only = NULL;
		_cleanup_free_ struct fw_elem *ew = NULL, *eo = NULL;
		size_t k = rand_r(&seed) % N, n_b = N, nw = 0, no = 0;
		int what = round % 3; /* 0: k went, 1: one came, 2: k changed */
		_cleanup_free_ char *sa = fw_render(a, N, &ma), *sb = NULL;

		memcpy(b, a, sizeof(a));
		if (what == 0) {
			b[k] = b[--n_b];
		} else if (what == 1) {
			b[n_b++] = net("nd-new", "10.200.0.0/24", modes[k % ELEMENTSOF(modes)], NULL);
		} else {
			b[k].mode = modes[(b[k].mode + 1) % ELEMENTSOF(modes)];
			snprintf(b[k].uplink, sizeof(b[k].uplink), "%s", b[k].uplink[0] ? "" : "eth2");
		}
		sb = fw_render(b, n_b, &mb);
		assert_non_null(sa);
		assert_non_null(sb);
		whole = fw_render_change_elems(a, N, ma, b, n_b, mb, &ew, &nw);
		only = fw_render_change_only(what == 1 ? NULL : &a[k], what != 1, ma,
					     what == 0 ? NULL :
					     what == 1 ? &b[N] :
							 &b[k],
					     what != 0, mb, &eo, &no);
		assert_non_null(whole);
		assert_non_null(only);
		assert_true(whole[0]);
		assert_string_equal(only, whole);
		assert_int_equal(no, nw);
		for (size_t i = 0; i < nw; i++) { /* field by field: padding is not the elements' */
			assert_int_equal(eo[i].add, ew[i].add);
			assert_string_equal(eo[i].set, ew[i].set);
			assert_int_equal(eo[i].len, ew[i].len);
			assert_memory_equal(eo[i].key, ew[i].key, ew[i].len);
		}
	}
}

static void test_change_of_lengths(void **state)
{
	struct fw_network a[] = { net("nd-web", "10.8.0.0/24", FW_NAT, NULL) };
	struct fw_network b[] = { a[0], net("nd-big", "10.64.0.0/16", FW_ROUTED, NULL) };
	struct fw_network c[] = { a[0], net("nd-lab", "10.65.0.0/16", FW_ISOLATED, NULL) };
	_cleanup_free_ char *ma = NULL, *mb = NULL, *mc = NULL, *to_b = NULL, *to_c = NULL;
	_cleanup_free_ char *sa = fw_render(a, 1, &ma), *sb = fw_render(b, 2, &mb),
			    *sc = fw_render(c, 2, &mc);

	assert_non_null(sa);
	assert_non_null(sb);
	assert_non_null(sc);
	/* a /16 routed network: rules for /16 too */
	assert_non_null(strstr(sb, "ip saddr & 255.255.0.0 . iifname @out_16 oifname != @bridges accept"));
	assert_null(strstr(sa, "_16"));
	to_b = fw_render_change(a, 1, ma, b, 2, mb);
	assert_string_equal(to_b, "");
	/* an isolated network has no elements in the sets of its length */
	assert_null(strstr(sc, "_16"));
	to_c = fw_render_change(a, 1, ma, c, 2, mc);
	assert_non_null(strstr(to_c, "add element inet netd self { \"nd-lab\" . \"nd-lab\" }"));
}

static const struct fw_elem *find_elem(const struct fw_elem *e, size_t n, bool add, const char *prefix)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].add == add && !strncmp(e[i].set, prefix, strlen(prefix)))
			return &e[i];
	return NULL;
}

/* The change as elements (what netd sends the kernel itself) is the change as text: the marker's
 * old element deleted first and its new one added last, in between one element per element of
 * the text, laid out as nft lays them out. */
static void test_change_elems(void **state)
{
	struct fw_network a[] = { net("nd-web", "10.8.0.0/24", FW_NAT, NULL) };
	struct fw_network b[] = { net("nd-web", "10.8.0.0/24", FW_NAT, "eth1") };
	_cleanup_free_ char *ma = NULL, *mb = NULL, *text = NULL;
	_cleanup_free_ char *sa = fw_render(a, 1, &ma), *sb = fw_render(b, 1, &mb);
	_cleanup_free_ struct fw_elem *e = NULL;
	const struct fw_elem *x;
	size_t n = 0, want = 0;
	const uint8_t net8[4] = { 10, 8, 0, 0 };

	assert_non_null(sa);
	assert_non_null(sb);
	text = fw_render_change_elems(a, 1, ma, b, 1, mb, &e, &n);
	assert_non_null(text);
	/* one element per element of the text: the ", " separators plus one per line */
	for (const char *p = text; *p; p++)
		want += *p == '\n' || !strncmp(p, ", ", 2);
	assert_int_equal(n, want);
	assert_string_equal(e[0].set, "marker");
	assert_false(e[0].add);
	assert_string_equal(e[n - 1].set, "marker");
	assert_true(e[n - 1].add);
	assert_memory_equal(e[n - 1].key, "netd", 5);

	x = find_elem(e, n, false, "masq_24");
	assert_non_null(x);
	assert_int_equal(x->len, 4);
	assert_memory_equal(x->key, net8, 4);

	x = find_elem(e, n, true, "out_uplink_24");
	assert_non_null(x);
	assert_int_equal(x->len, 4 + 2 * IFNAMSIZ);
	assert_memory_equal(x->key, net8, 4);
	assert_memory_equal(x->key + 4, "nd-web\0\0\0\0\0\0\0\0\0\0", IFNAMSIZ);
	assert_memory_equal(x->key + 4 + IFNAMSIZ, "eth1\0\0\0\0\0\0\0\0\0\0\0\0", IFNAMSIZ);

	x = find_elem(e, n, false, "self");
	assert_non_null(x); /* a changed network: its old elements go, its new ones come */
	assert_int_equal(x->len, 2 * IFNAMSIZ);
}

/* The elements of a table as "SET: ELEMENT" lines, sorted. */
struct elems {
	char **v;
	size_t n, cap;
};

static void elems_add(struct elems *e, const char *set, const char *elem, size_t len)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 64;
		e->v = realloc(e->v, e->cap * sizeof(*e->v));
		assert_non_null(e->v);
	}
	assert_true(asprintf(&e->v[e->n++], "%s: %.*s", set, (int)len, elem) > 0);
}

/* Each element of "{ a, b . c }" (text up to the closing brace). */
static void elems_split(struct elems *e, const char *set, const char *list)
{
	const char *end = strstr(list, " }");

	assert_non_null(end);
	for (const char *p = list; p < end;) {
		const char *c = strstr(p, ", ");
		size_t len = c && c < end ? (size_t)(c - p) : (size_t)(end - p);

		elems_add(e, set, p, len);
		p += len + 2;
	}
}

static int strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The elements of every set of a whole table as fw_render writes it. */
static void elems_of_table(struct elems *e, const char *script)
{
	for (const char *p = strstr(script, "\tset "); p; p = strstr(p + 1, "\tset ")) {
		char set[32];
		const char *el = strstr(p, "\t\telements = { "), *next = strstr(p + 1, "\tset ");

		assert_int_equal(sscanf(p, "\tset %31s {", set), 1);
		if (el && (!next || el < next))
			elems_split(e, set, el + strlen("\t\telements = { "));
	}
}

/* Apply the lines "add|delete element inet netd SET { ... }" of a change to e. */
static void elems_change(struct elems *e, const char *change)
{
	for (const char *l = change; *l; l = strchr(l, '\n') + 1) {
		char verb[8], set[32];
		struct elems one = {};
		int n = 0;

		assert_int_equal(sscanf(l, "%7s element inet netd %31s { %n", verb, set, &n), 2);
		elems_split(&one, set, l + n);
		for (size_t i = 0; i < one.n; i++) {
			size_t j = 0;

			while (j < e->n && strcmp(e->v[j], one.v[i]))
				j++;
			if (!strcmp(verb, "add")) {
				assert_int_equal(j, e->n); /* not there yet: the kernel refuses a second one
							    */
				elems_add(e, "", "", 0);
				free(e->v[e->n - 1]);
				e->v[e->n - 1] = one.v[i];
			} else {
				assert_string_equal(verb, "delete");
				if (j == e->n)
					fail_msg("deleting %s, which the table does not have", one.v[i]);
				free(e->v[j]);
				e->v[j] = e->v[--e->n];
				free(one.v[i]);
			}
		}
		free(one.v);
	}
}

static void elems_free(struct elems *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

/* A random network of a small pool, so that the same bridges come back changed: either family or
 * both, each mode, nat6 or not, an uplink or not, prefixes of two lengths per family. */
static struct fw_network random_network(unsigned *seed, unsigned i)
{
	static const enum fw_mode modes[] = { FW_NAT, FW_ROUTED, FW_ISOLATED, FW_OPEN };
	char bridge[16], v4[32], v6[48];
	unsigned r = rand_r(seed);
	unsigned fam = r % 3; /* 0: IPv4, 1: IPv6, 2: both */
	unsigned sub = (r >> 4) % 4;
	struct fw_network n;

	snprintf(bridge, sizeof(bridge), "nd-%u", i);
	if (i % 2)
		snprintf(v4, sizeof(v4), "10.%u.%u.0/24", 100 + i, sub);
	else
		snprintf(v4, sizeof(v4), "10.%u.0.0/16", 100 + i + 10 * sub);
	if (i % 3)
		snprintf(v6, sizeof(v6), "fd00:%x:%x::/64", i, sub);
	else
		snprintf(v6, sizeof(v6), "2001:db8:%x%02x::/56", i, sub);
	if (fam == 1)
		n = net6(bridge, "none", v6, (r >> 8) & 1, modes[(r >> 9) % 4],
			 (r >> 11) & 1 ? "eth1" : NULL);
	else if (fam == 2)
		n = net6(bridge, v4, v6, (r >> 8) & 1, modes[(r >> 9) % 4], (r >> 11) & 1 ? "eth1" : NULL);
	else
		n = net(bridge, v4, modes[(r >> 9) % 4], (r >> 11) & 1 ? "eth1" : NULL);
	if ((r >> 12) & 1)
		n.host_ports[n.n_host_ports++] = (struct l4_port){ IPPROTO_TCP, 22 + sub };
	return n;
}

/* One field of a network changes, as an edit of its definition would. */
static void mutate(unsigned *seed, struct fw_network *n)
{
	switch (rand_r(seed) % 5) {
	case 0:
		n->nat6 = !n->nat6;
		break;
	case 1:
		snprintf(n->uplink, sizeof(n->uplink), "%s", n->uplink[0] ? "" : "eth2");
		break;
	case 2:
		n->mode = (n->mode + 1) % 4;
		break;
	case 3:
		if (n->subnet6.family) {
			n->subnet6.addr.bytes[5] ^= 0x10; /* another prefix of the same length */
			n->gateway6.bytes[5] ^= 0x10;
		}
		break;
	default:
		n->n_host_ports = 0;
		break;
	}
}

/* Random histories of networks: whenever fw_render_change gives a change, that change applied to
 * the elements of the old table gives exactly the elements of the new one, with the marker the
 * whole render gives (IPv4, IPv6, dual-stack, every mode). */
static void test_change_is_whole_render(void **state)
{
	unsigned seed = 14, changes = 0, whole = 0;
	struct fw_network old[8], new[8];
	size_t n_old = 0;
	_cleanup_free_ char *old_marker = NULL;

	for (unsigned step = 0; step < 400; step++) {
		size_t n_new = 0;
		_cleanup_free_ char *m = NULL, *script = NULL, *change = NULL, *old_script = NULL, *om = NULL;
		_cleanup_free_ struct fw_elem *fe = NULL;
		size_t n_fe = 0, want_fe = 0;
		struct elems have = {}, want = {};

		/* each of 8 bridges: kept, changed or gone/absent */
		for (unsigned i = 0; i < 8; i++) {
			const struct fw_network *was = NULL;

			for (size_t j = 0; j < n_old; j++) {
				char b[16];

				snprintf(b, sizeof(b), "nd-%u", i);
				if (!strcmp(old[j].bridge, b))
					was = &old[j];
			}
			switch (rand_r(&seed) % 5) {
			case 0:
				break; /* absent */
			case 1:
				new[n_new++] = random_network(&seed, i);
				break;
			case 2:
				/* one thing of it changes */
				if (!was)
					break;
				new[n_new] = *was;
				mutate(&seed, &new[n_new++]);
				break;
			default:
				if (was)
					new[n_new++] = *was;
				break;
			}
		}
		script = fw_render(new, n_new, &m);
		assert_non_null(script);
		if (n_old) {
			old_script = fw_render(old, n_old, &om);
			assert_string_equal(om, old_marker);
			change = fw_render_change_elems(old, n_old, old_marker, new, n_new, m, &fe, &n_fe);
			assert_non_null(change);
		}
		if (change && change[0]) {
			elems_of_table(&have, old_script);
			elems_change(&have, change);
			elems_of_table(&want, script);
			assert_int_equal(have.n, want.n);
			qsort(have.v, have.n, sizeof(*have.v), strcmp_p);
			qsort(want.v, want.n, sizeof(*want.v), strcmp_p);
			for (size_t i = 0; i < want.n; i++)
				assert_string_equal(have.v[i], want.v[i]);
			for (const char *p = change; *p; p++)
				want_fe += *p == '\n' || !strncmp(p, ", ", 2);
			assert_int_equal(n_fe, want_fe);
			changes++;
		} else if (n_old && n_new && strcmp(m, old_marker)) {
			whole++; /* the lengths in use differ: the whole table */
		}
		elems_free(&have);
		elems_free(&want);
		memcpy(old, new, n_new * sizeof(*new));
		n_old = n_new;
		free(old_marker);
		old_marker = TAKE_PTR(m);
	}
	/* both kinds happened, many times */
	assert_true(changes > 50);
	assert_true(whole > 20);
}

static void test_no_networks_removes_table(void **state)
{
	render_golden("nft-empty.txt", NULL, 0, NULL);
}

static void test_marker_follows_content(void **state)
{
	struct fw_network a[] = { net("nd-a", "10.1.0.0/24", FW_NAT, NULL) };
	struct fw_network b[] = { net("nd-a", "10.1.0.0/24", FW_ROUTED, NULL) };
	struct fw_network c[] = { net("nd-b", "10.1.0.0/24", FW_NAT, NULL) };
	_cleanup_free_ char *ma = NULL, *mb = NULL, *mc = NULL, *ma2 = NULL;
	_cleanup_free_ char *sa = fw_render(a, 1, &ma), *sb = fw_render(b, 1, &mb), *sc = fw_render(c, 1, &mc),
			    *sa2 = fw_render(a, 1, &ma2);

	assert_non_null(sa);
	assert_non_null(sb);
	assert_non_null(sc);
	assert_string_equal(sa, sa2);
	assert_string_equal(ma, ma2); /* stable: a restarted netd recognises its table */
	assert_string_not_equal(ma, mb);
	assert_string_not_equal(ma, mc);
}

/* The marker netd works out from the networks' shares (a change) is fw_render's, whatever the
 * order and the history. */
static void test_marker_of_shares(void **state)
{
	struct fw_network n[] = {
		net("nd-web", "10.8.0.0/24", FW_NAT, NULL),
		net("nd-dmz", "10.9.0.0/24", FW_ROUTED, NULL),
		net("nd-out", "10.10.0.0/24", FW_NAT, "eth1"),
		net("nd-lab", "10.77.0.0/24", FW_ISOLATED, NULL),
	};
	struct fw_share s[ELEMENTSOF(n)], sum = {};
	_cleanup_free_ char *marker = NULL, *script = fw_render(n, ELEMENTSOF(n), &marker);
	char m[FW_MARKER_MAX];

	assert_non_null(script);
	for (size_t i = 0; i < ELEMENTSOF(n); i++)
		assert_int_equal(fw_network_share(&n[i], &s[i]), 0);
	for (size_t i = ELEMENTSOF(n); i-- > 0;)
		fw_share_add(&sum, &s[i]);
	assert_int_equal(fw_marker(&sum, ELEMENTSOF(n), m, sizeof(m)), 0);
	assert_string_equal(m, marker);
	/* without one network */
	sum = (struct fw_share){};
	for (size_t i = 0; i < ELEMENTSOF(n); i++)
		if (i != 1)
			fw_share_add(&sum, &s[i]);
	assert_int_equal(fw_marker(&sum, ELEMENTSOF(n) - 1, m, sizeof(m)), 0);
	assert_string_not_equal(m, marker);
	assert_int_equal(fw_marker(&(struct fw_share){}, 0, m, sizeof(m)), 0);
	assert_string_equal(m, "");
}

static struct ps_port port(const char *ifname, const char *mac, enum ps_level level, struct ip_prefix *addrs, size_t n)
{
	struct ps_port p = { .level = level, .addrs = addrs, .n_addrs = n };

	snprintf(p.ifname, sizeof(p.ifname), "%s", ifname);
	assert_int_equal(mac_parse(mac, &p.mac), 0);
	return p;
}

static void test_portsec(void **state)
{
	struct ip_prefix a1[2], a2[1];
	struct ps_port ports[3];
	_cleanup_free_ char *marker = NULL, *marker2 = NULL, *none_marker = NULL;
	_cleanup_free_ char *script = NULL, *script2 = NULL, *none = NULL, *change = NULL;

	assert_int_equal(ip_prefix_parse("10.1.0.5/32", &a1[0]), 0);
	assert_int_equal(ip_prefix_parse("fd00::5/128", &a1[1]), 0);
	assert_int_equal(ip_prefix_parse("10.2.0.0/24", &a2[0]), 0); /* a network without DHCP */
	ports[0] = port("vm-web-0", "52:54:00:00:00:01", PS_LEVEL_FULL, a1, 2);
	ports[1] = port("vm-db-0", "52:54:00:00:00:02", PS_LEVEL_FULL, a2, 1);
	ports[2] = port("vnet7", "52:54:00:00:00:03", PS_LEVEL_MAC, NULL, 0);
	script = ps_render(ports, 3, &marker);
	assert_non_null(script);
	assert_golden("nft-portsec.txt", script);
	/* taps, ports, MAC, chaddr, EUI-64 link-local (address and ND target) each; addresses */
	assert_int_equal(ps_elements(ports, 3), (6 + 1 + 2) + (6 + 1) + 3);
	/* The marker follows the rules, not the ports: a lease does not change it. */
	script2 = ps_render(ports, 1, &marker2);
	assert_string_equal(marker, marker2);
	none = ps_render(NULL, 0, &none_marker);
	assert_string_equal(none, "table bridge netd\ndelete table bridge netd\ntable inet netd_ports\ndelete table inet netd_ports\n");
	assert_string_equal(none_marker, "");

	/* A lease comes: the port's elements go and come back with the new address, in one transaction. */
	struct ps_port before = port("vm-db-0", "52:54:00:00:00:02", PS_LEVEL_FULL, a1, 1);
	struct ps_change c = { .gone = &before, .n_gone = 1, .added = &ports[1], .n_added = 1 };

	change = ps_render_change(&c);
	assert_non_null(change);
	assert_golden("nft-portsec-change.txt", change);
	assert_int_equal(ps_level_from_string(ps_level_to_string(PS_LEVEL_MAC)), PS_LEVEL_MAC);
	assert_int_equal(ps_level_from_string("bogus"), _PS_LEVEL_INVALID);
}

/* table bridge netd_vxlan: the VXLAN ports' set and the fixed DHCP rules; no port, no table; a
 * name nft would read as more than a name is refused. */
static void test_tunnel_dhcp(void **state)
{
	const char ports[][IFNAMSIZ] = { "vx100", "vx16777215" }, bad[][IFNAMSIZ] = { "vx\"; flush" };
	char *script = tunnel_dhcp_render(ports, 2);

	assert_non_null(script);
	assert_golden("nft-tunnel-dhcp.txt", script);
	free(script);
	script = tunnel_dhcp_render(NULL, 0);
	assert_string_equal(script, "table bridge netd_vxlan\ndelete table bridge netd_vxlan\n");
	free(script);
	errno = 0;
	assert_null(tunnel_dhcp_render(bad, 1));
	assert_int_equal(errno, EINVAL);
}

static void test_uplink_validation(void **state)
{
	struct network n;
	char err[512];

	network_init(&n, "x");
	n.mode = net_mode_from_string("isolated");
	assert_int_equal(ip_prefix_parse("10.1.0.0/24", &n.subnet), 0);
	snprintf(n.uplink, sizeof(n.uplink), "eth0");
	network_fill_defaults(&n);
	assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
	/* the modes that forward, as the mode table lists them, then why this one does not */
	assert_non_null(strstr(err, "--uplink needs mode nat"));
	assert_non_null(strstr(err, "(mode isolated forwards nothing)"));
	n.mode = net_mode_from_string("nat");
	network_fill_defaults(&n);
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	assert_true(n.dhcp_router);
	snprintf(n.uplink, sizeof(n.uplink), "%s", n.bridge);
	assert_int_equal(network_validate(&n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cannot be the network's own bridge"));
}

static void test_definition_roundtrip(void **state)
{
	struct network n, back;
	char err[512];
	_cleanup_free_ char *text = NULL;

	network_init(&n, "out");
	n.mode = net_mode_from_string("routed");
	assert_int_equal(ip_prefix_parse("10.10.0.0/24", &n.subnet), 0);
	snprintf(n.uplink, sizeof(n.uplink), "eth1");
	network_fill_defaults(&n);
	text = config_network_render(&n);
	assert_non_null(text);
	assert_golden("network-routed.conf", text);
	assert_int_equal(config_network_parse("out", text, &back, err, sizeof(err)), 0);
	network_fill_defaults(&back);
	assert_true(network_equal(&n, &back));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nat_default),
		cmocka_unit_test(test_all_modes),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_subnets),
		cmocka_unit_test(test_change),
		cmocka_unit_test(test_change_of_lengths),
		cmocka_unit_test(test_change_only),
		cmocka_unit_test(test_no_networks_removes_table),
		cmocka_unit_test(test_marker_follows_content),
		cmocka_unit_test(test_marker_of_shares),
		cmocka_unit_test(test_change_elems),
		cmocka_unit_test(test_change_is_whole_render),
		cmocka_unit_test(test_uplink_validation),
		cmocka_unit_test(test_definition_roundtrip),
		cmocka_unit_test(test_portsec),
		cmocka_unit_test(test_tunnel_dhcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
