/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nat/reach.c: what other tables do to a network's traffic, judged over libnftables JSON listings
 * (the JSON files of tests/data/reach, made from tests/data/reach/src by tests/data/reach/capture.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/netfilter/xt_addrtype.h> /* after <netinet/in.h> */
#include <linux/netfilter/xt_conntrack.h>

#include "fileio.h"
#include "macro.h"
#include "reach.h"

static struct reach_ruleset *load(const char *name)
{
	char path[512];
	char *json = NULL;
	struct reach_ruleset *rs = NULL;

	snprintf(path, sizeof(path), "%s/reach/%s.json", TEST_DATA_DIR, name);
	if (read_file(path, &json, NULL) < 0)
		fail_msg("cannot read %s", path);
	assert_int_equal(reach_ruleset_parse(json, &rs), 0);
	free(json);
	return rs;
}

static struct fw_network net(const char *bridge, const char *subnet, const char *subnet6, enum fw_mode mode,
			     const char *uplink)
{
	struct fw_network n = { .mode = mode };

	snprintf(n.bridge, sizeof(n.bridge), "%s", bridge);
	snprintf(n.uplink, sizeof(n.uplink), "%s", uplink ?: "");
	if (subnet) {
		assert_int_equal(ip_prefix_parse(subnet, &n.subnet), 0);
		ip_prefix_first_host(&n.subnet, &n.gateway);
	}
	if (subnet6) {
		assert_int_equal(ip_prefix_parse(subnet6, &n.subnet6), 0);
		n.gateway6 = n.subnet6.addr;
		n.gateway6.bytes[15] |= 1;
	}
	return n;
}

struct run {
	struct reach_check c[REACH_CHECKS_MAX];
	size_t n;
	char buf[1024];
};

static void run(struct run *r, const struct reach_ruleset *rs, const struct fw_network *w)
{
	r->n = reach_network_checks(rs, w, REACH_SERVES_DHCP | REACH_SERVES_DNS, r->c);
}

static const struct reach_check *check(struct run *r, enum reach_check_kind kind, int family)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->c[i].kind == kind && r->c[i].family == family)
			return &r->c[i];
	fail_msg("no check %d of family %d", kind, family);
	return NULL;
}

static const char *problem(struct run *r, enum reach_check_kind kind, int family)
{
	return reach_check_problem(check(r, kind, family), r->buf, sizeof(r->buf));
}

static enum reach_verdict verdict(struct run *r, enum reach_check_kind kind, int family)
{
	return check(r, kind, family)->result.verdict;
}

static void assert_all_pass(struct run *r)
{
	const struct reach_check *c = reach_checks_first_failure(r->c, r->n);

	if (c)
		fail_msg("expected every check to pass: %s", reach_check_problem(c, r->buf, sizeof(r->buf)));
}

static void test_parse(void **state)
{
	struct reach_ruleset *rs;

	assert_int_equal(reach_ruleset_parse("{", &rs), -EINVAL);
	assert_int_equal(reach_ruleset_parse("{\"nftables\": 3}", &rs), -EINVAL);
	assert_int_equal(reach_ruleset_parse("", &rs), 0);
	assert_false(reach_ruleset_has_hooks(rs));
	reach_ruleset_free(rs);
	/* netd's own tables are not another firewall's. */
	assert_int_equal(
		reach_ruleset_parse(
			"{\"nftables\": [{\"table\": {\"family\": \"inet\", \"name\": \"netd\"}},"
			"{\"chain\": {\"family\": \"inet\", \"table\": \"netd\", \"name\": \"fwd\", \"type\": "
			"\"filter\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"drop\"}},"
			"{\"table\": {\"family\": \"bridge\", \"name\": \"x\"}},"
			"{\"chain\": {\"family\": \"bridge\", \"table\": \"x\", \"name\": \"fwd\", \"type\": "
			"\"filter\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"drop\"}}]}",
			&rs),
		0);
	assert_false(reach_ruleset_has_hooks(rs));
	reach_ruleset_free(rs);
	assert_string_equal(reach_verdict_to_string(REACH_MAYBE), "maybe");
}

/* A network's other subnets (--address) are checked too: a forward chain that lets the first
 * subnet out but drops the rest blocks the second one's guests; DNS to each gateway. */
static void test_subnets(void **state)
{
	struct reach_ruleset *rs;
	struct fw_network w = net("nd-x", "10.1.0.0/24", NULL, FW_NAT, NULL);
	struct run r;
	const struct reach_check *c;
	char a[INET6_ADDRSTRLEN];

	assert_int_equal(
		reach_ruleset_parse(
			"{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": \"f\"}},"
			"{\"chain\": {\"family\": \"ip\", \"table\": \"f\", \"name\": \"fwd\", \"handle\": 1, "
			"\"type\": \"filter\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"drop\"}},"
			"{\"rule\": {\"family\": \"ip\", \"table\": \"f\", \"chain\": \"fwd\", \"handle\": 2, "
			"\"expr\": [{\"match\": {\"op\": \"in\", \"left\": {\"ct\": {\"key\": \"state\"}}, "
			"\"right\": [\"established\", \"related\"]}}, {\"accept\": null}]}},"
			"{\"rule\": {\"family\": \"ip\", \"table\": \"f\", \"chain\": \"fwd\", \"handle\": 3, "
			"\"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", "
			"\"field\": \"saddr\"}}, \"right\": {\"prefix\": {\"addr\": \"10.1.0.0\", \"len\": 24}}}}, "
			"{\"accept\": null}]}}]}",
			&rs),
		0);
	run(&r, rs, &w);
	assert_all_pass(&r);
	assert_int_equal(ip_prefix_parse("10.2.0.1/24", &w.addresses[w.n_addresses++]), 0);
	run(&r, rs, &w);
	assert_int_equal(r.n, 9);
	c = reach_checks_first_failure(r.c, r.n);
	assert_non_null(c);
	assert_int_equal(c->kind, REACH_CHECK_FORWARD_OUT);
	assert_string_equal(ip_addr_format(AF_INET, &c->packet.saddr, a, sizeof(a)), "10.2.0.2");
	assert_int_equal(r.c[7].kind, REACH_CHECK_DNS_UDP);
	assert_string_equal(ip_addr_format(AF_INET, &r.c[7].packet.daddr, a, sizeof(a)), "10.2.0.1");
	assert_int_equal(r.c[7].result.verdict, REACH_ACCEPT);
	reach_ruleset_free(rs);
}

/* Policy drop and the two rules of netd's advice: everything passes. */
static void test_basic(void **state)
{
	struct reach_ruleset *rs = load("basic");
	struct fw_network w = net("nd-x", "10.1.0.0/24", NULL, FW_NAT, NULL);
	struct run r;

	assert_true(reach_ruleset_has_hooks(rs));
	run(&r, rs, &w);
	assert_int_equal(r.n, 5); /* out, replies, DHCP, DNS, DNS over TCP */
	assert_all_pass(&r);
	/* Another bridge is not let through. */
	w = net("nd-y", "10.2.0.0/24", NULL, FW_NAT, NULL);
	run(&r, rs, &w);
	assert_string_equal(
		problem(&r, REACH_CHECK_FORWARD_OUT, AF_INET),
		"forwarding blocked by table ip filter chain FORWARD (hook forward, policy drop)");
	/* An isolated network is not forwarded: only its input is checked. */
	w = net("nd-y", "10.2.0.0/24", NULL, FW_ISOLATED, NULL);
	run(&r, rs, &w);
	assert_int_equal(r.n, 3);
	assert_all_pass(&r);
	reach_ruleset_free(rs);
}

/* Half of the advice (out, not the replies) is still a block. */
static void test_inbound_only(void **state)
{
	struct reach_ruleset *rs = load("inbound");
	struct fw_network w = net("nd-x", "10.1.0.0/24", NULL, FW_NAT, NULL);
	struct run r;

	run(&r, rs, &w);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET), REACH_ACCEPT);
	assert_string_equal(
		problem(&r, REACH_CHECK_FORWARD_REPLY, AF_INET),
		"forwarded replies blocked by table ip filter chain FORWARD (hook forward, policy drop)");
	assert_ptr_equal(reach_checks_first_failure(r.c, r.n), check(&r, REACH_CHECK_FORWARD_REPLY, AF_INET));
	reach_ruleset_free(rs);
}

/* A rule that names the bridge and drops its traffic blocks it (the old check took any rule naming
 * the bridge as letting it through). */
static void test_drop_naming_bridge(void **state)
{
	struct reach_ruleset *rs = load("dropname");
	struct fw_network w = net("nd-x", "10.1.0.0/24", "fd00:1::/64", FW_NAT, NULL);
	const struct reach_check *c;
	struct run r;

	run(&r, rs, &w);
	c = check(&r, REACH_CHECK_FORWARD_OUT, AF_INET);
	assert_int_equal(c->result.verdict, REACH_DROP);
	assert_string_equal(c->result.by.chain, "forward");
	assert_string_equal(c->result.by.text, "iifname \"nd-x\" drop");
	assert_true(c->result.by.handle > 0);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET6), REACH_DROP); /* inet: both */
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_REPLY, AF_INET), REACH_ACCEPT);
	assert_non_null(
		strstr(problem(&r, REACH_CHECK_FORWARD_OUT, AF_INET),
		       "forwarding blocked by table inet other chain forward (hook forward, rule handle "));
	reach_ruleset_free(rs);
}

/* Docker: FORWARD policy drop, jump DOCKER-USER (return), DOCKER-ISOLATION-STAGE-1/2; an accept
 * in DOCKER-USER lets the network through. */
static void test_docker(void **state)
{
	struct reach_ruleset *rs = load("docker");
	struct fw_network w = net("nd-x", "10.1.0.0/24", "fd00:1::/64", FW_NAT, NULL);
	const struct reach_check *c;
	struct run r;

	run(&r, rs, &w);
	c = reach_checks_first_failure(r.c, r.n);
	assert_non_null(c);
	assert_int_equal(c->kind, REACH_CHECK_FORWARD_OUT);
	assert_string_equal(
		reach_check_problem(c, r.buf, sizeof(r.buf)),
		"forwarding blocked by table ip filter chain FORWARD (hook forward, policy drop)");
	assert_non_null(strstr(reach_check_advice(rs, c, "nd-x", r.buf, sizeof(r.buf)),
			       "iptables -I DOCKER-USER -i nd-x -j ACCEPT"));
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_REPLY, AF_INET), REACH_DROP);
	/* Docker's tables are IPv4 ones: IPv6 passes; its INPUT accepts. */
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET6), REACH_ACCEPT);
	assert_int_equal(verdict(&r, REACH_CHECK_DHCP, AF_INET), REACH_ACCEPT);
	reach_ruleset_free(rs);

	rs = load("docker-user");
	run(&r, rs, &w);
	assert_all_pass(&r);
	/* ... for nd-x only. */
	w = net("nd-y", "10.2.0.0/24", NULL, FW_NAT, NULL);
	run(&r, rs, &w);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET), REACH_DROP);
	reach_ruleset_free(rs);
}

/* ufw: INPUT and FORWARD policy drop behind its chains; UDP 67 goes to ufw-skip-to-policy-input;
 * `ufw route allow in on nd-x` (a rule in ufw-user-forward) lets forwarding through, the replies
 * by ufw-before-forward's conntrack rule. */
static void test_ufw(void **state)
{
	struct reach_ruleset *rs = load("ufw");
	struct fw_network w = net("nd-x", "10.1.0.0/24", NULL, FW_NAT, NULL);
	const struct reach_check *c;
	struct run r;

	run(&r, rs, &w);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET), REACH_DROP);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_REPLY, AF_INET), REACH_ACCEPT);
	c = check(&r, REACH_CHECK_DHCP, AF_INET);
	assert_int_equal(c->result.verdict, REACH_DROP);
	assert_string_equal(c->result.by.chain, "ufw-skip-to-policy-input");
	assert_string_equal(c->result.base.chain, "INPUT");
	assert_non_null(strstr(reach_check_advice(rs, c, "nd-x", r.buf, sizeof(r.buf)),
			       "ufw allow in on nd-x to any port 67 proto udp"));
	assert_int_equal(verdict(&r, REACH_CHECK_DNS_UDP, AF_INET), REACH_DROP);
	assert_int_equal(verdict(&r, REACH_CHECK_DNS_TCP, AF_INET), REACH_DROP);
	c = check(&r, REACH_CHECK_FORWARD_OUT, AF_INET);
	assert_non_null(strstr(reach_check_advice(rs, c, "nd-x", r.buf, sizeof(r.buf)),
			       "ufw route allow in on nd-x"));
	reach_ruleset_free(rs);

	rs = load("ufw-allow");
	run(&r, rs, &w);
	assert_all_pass(&r);
	reach_ruleset_free(rs);
}

/* firewalld: policy accept, but its chains end in a reject; nd-x is in no zone, so the default zone
 * public's rules apply (ICMPv6 accepted, DHCP, DNS and forwarding rejected). In zone trusted,
 * everything passes. */
static void test_firewalld(void **state)
{
	struct reach_ruleset *rs = load("firewalld");
	struct fw_network w = net("nd-x", "10.1.0.0/24", "fd00:1::/64", FW_NAT, NULL);
	const struct reach_check *c;
	struct run r;

	run(&r, rs, &w);
	c = check(&r, REACH_CHECK_FORWARD_OUT, AF_INET);
	assert_int_equal(c->result.verdict, REACH_DROP);
	assert_true(c->result.by.reject);
	assert_string_equal(c->result.by.table, "firewalld");
	assert_string_equal(c->result.by.chain, "filter_FORWARD");
	assert_non_null(strstr(reach_check_advice(rs, c, "nd-x", r.buf, sizeof(r.buf)), "firewalld zone"));
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_REPLY, AF_INET), REACH_ACCEPT);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET6), REACH_DROP);
	assert_int_equal(verdict(&r, REACH_CHECK_DHCP, AF_INET), REACH_DROP);
	assert_int_equal(verdict(&r, REACH_CHECK_DNS_UDP, AF_INET6), REACH_DROP);
	assert_int_equal(verdict(&r, REACH_CHECK_DHCP6, AF_INET6), REACH_DROP);
	assert_int_equal(verdict(&r, REACH_CHECK_ND, AF_INET6), REACH_ACCEPT);
	assert_int_equal(verdict(&r, REACH_CHECK_RS, AF_INET6), REACH_ACCEPT);
	/* With the network's uplink in zone public, forwarding out to it is allowed there. */
	w = net("nd-x", "10.1.0.0/24", NULL, FW_NAT, "eth0");
	run(&r, rs, &w);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET), REACH_ACCEPT);
	reach_ruleset_free(rs);

	rs = load("firewalld-trusted");
	w = net("nd-x", "10.1.0.0/24", "fd00:1::/64", FW_NAT, NULL);
	run(&r, rs, &w);
	assert_all_pass(&r);
	reach_ruleset_free(rs);
}

/* While firewalld reloads, its table firewalld_policy_drop drops everything new: the evaluator
 * sees it like any other (ignoring tables that vanish within a grace period is the caller's). */
static void test_firewalld_reload(void **state)
{
	struct reach_ruleset *rs = load("firewalld-reload");
	struct fw_network w = net("nd-x", "10.1.0.0/24", NULL, FW_NAT, NULL);
	struct run r;

	run(&r, rs, &w);
	assert_string_equal(
		problem(&r, REACH_CHECK_DHCP, AF_INET),
		"DHCP blocked by table inet firewalld_policy_drop chain filter_input (hook input, policy drop)");
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET), REACH_DROP);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_REPLY, AF_INET), REACH_ACCEPT);
	reach_ruleset_free(rs);
}

/* Rules netd cannot decide: an accept on a mark does not let the traffic through (it is named),
 * a drop on a mark "may block". */
static void test_undecidable(void **state)
{
	struct reach_ruleset *rs = load("unknown");
	struct fw_network w = net("nd-x", "10.1.0.0/24", NULL, FW_NAT, NULL);
	const struct reach_check *c;
	struct run r;

	run(&r, rs, &w);
	c = check(&r, REACH_CHECK_FORWARD_OUT, AF_INET);
	assert_int_equal(c->result.verdict, REACH_DROP);
	assert_true(c->result.has_unknown);
	assert_non_null(strstr(
		reach_check_problem(c, r.buf, sizeof(r.buf)),
		"forwarding blocked by table inet marks chain forward (hook forward, policy drop; unless "
		"it is let through on rule handle "));
	assert_non_null(strstr(r.buf, "which netd cannot decide: meta mark 1 accept"));
	c = check(&r, REACH_CHECK_DHCP, AF_INET);
	assert_int_equal(c->result.verdict, REACH_MAYBE);
	assert_non_null(
		strstr(reach_check_problem(c, r.buf, sizeof(r.buf)),
		       "DHCP may be blocked by table inet marks chain input (hook input, rule handle "));
	assert_non_null(strstr(r.buf, "meta mark 2 drop; netd cannot tell whether it applies)"));
	/* A drop before a maybe. */
	assert_ptr_equal(reach_checks_first_failure(r.c, r.n), check(&r, REACH_CHECK_FORWARD_OUT, AF_INET));
	reach_ruleset_free(rs);
}

/* Named and anonymous sets, intervals, wildcards, ranges, "!=" on a set, th. */
static void test_sets(void **state)
{
	struct reach_ruleset *rs = load("sets");
	struct fw_network w = net("nd-x", "10.1.0.0/24", NULL, FW_NAT, NULL);
	const struct reach_check *c;
	struct run r;

	run(&r, rs, &w);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET), REACH_ACCEPT);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_REPLY, AF_INET), REACH_ACCEPT);
	assert_int_equal(verdict(&r, REACH_CHECK_DNS_UDP, AF_INET), REACH_ACCEPT);
	assert_int_equal(verdict(&r, REACH_CHECK_DNS_TCP, AF_INET), REACH_ACCEPT);
	c = check(&r, REACH_CHECK_DHCP, AF_INET);
	assert_int_equal(c->result.verdict, REACH_DROP);
	assert_true(c->result.by.reject);
	assert_string_equal(c->result.by.text, "udp dport 60-70 reject");
	/* 192.168.0.0-192.168.0.255 is in @nets; 172.16.0.0/24 is not; br0 is not in @bridges. */
	w = net("nd-x", "192.168.0.0/24", NULL, FW_NAT, NULL);
	run(&r, rs, &w);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET), REACH_ACCEPT);
	w = net("nd-x", "172.16.0.0/24", NULL, FW_NAT, NULL);
	run(&r, rs, &w);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET), REACH_DROP);
	w = net("br0", "10.1.0.0/24", NULL, FW_NAT, NULL);
	run(&r, rs, &w);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET), REACH_DROP);
	assert_int_equal(verdict(&r, REACH_CHECK_DNS_UDP, AF_INET), REACH_ACCEPT);
	assert_int_equal(verdict(&r, REACH_CHECK_DNS_TCP, AF_INET), REACH_DROP);
	reach_ruleset_free(rs);
}

/* Verdict maps: anonymous with jumps, named, keyed by ct state. */
static void test_vmap(void **state)
{
	struct reach_ruleset *rs = load("vmap");
	struct fw_network w = net("nd-x", "10.1.0.0/24", NULL, FW_NAT, NULL);
	const struct reach_check *c;
	struct run r;

	run(&r, rs, &w);
	/* Out to any interface: none of @outs, so the policy; the replies: ct state established. */
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET), REACH_DROP);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_REPLY, AF_INET), REACH_ACCEPT);
	w = net("nd-x", "10.1.0.0/24", NULL, FW_NAT, "eth0");
	run(&r, rs, &w);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_OUT, AF_INET), REACH_ACCEPT);
	/* allow_in drops what is not from 10.0.0.0/8. */
	w = net("nd-x", "172.16.0.0/24", NULL, FW_NAT, "eth0");
	run(&r, rs, &w);
	c = check(&r, REACH_CHECK_FORWARD_OUT, AF_INET);
	assert_int_equal(c->result.verdict, REACH_DROP);
	assert_string_equal(c->result.by.chain, "allow_in");
	assert_string_equal(c->result.by.text, "drop");
	assert_non_null(strstr(
		reach_check_problem(c, r.buf, sizeof(r.buf)),
		"forwarding blocked by table inet vm chain allow_in (hook forward, jumped to from forward, "
		"rule handle "));
	assert_non_null(strstr(r.buf, ": drop)"));
	/* nd-z: dropped by the map itself; nd-y: by @outs on the way back. */
	w = net("nd-z", "10.1.0.0/24", NULL, FW_NAT, "eth0");
	run(&r, rs, &w);
	c = check(&r, REACH_CHECK_FORWARD_OUT, AF_INET);
	assert_int_equal(c->result.verdict, REACH_DROP);
	assert_string_equal(c->result.by.chain, "forward");
	w = net("nd-y", "10.1.0.0/24", NULL, FW_NAT, "eth0");
	run(&r, rs, &w);
	assert_int_equal(verdict(&r, REACH_CHECK_FORWARD_REPLY, AF_INET), REACH_DROP);
	reach_ruleset_free(rs);
}

/* Several tables at one hook, in priority order; ip sees IPv4, ip6 IPv6, inet both. */
static void test_priorities(void **state)
{
	struct reach_ruleset *rs = load("priorities");
	struct fw_network w = net("nd-x", "10.1.0.0/24", "fd00:1::/64", FW_NAT, NULL);
	struct reach_result res, chains[8];
	size_t n;
	struct run r;

	run(&r, rs, &w);
	assert_int_equal(reach_evaluate(rs, &check(&r, REACH_CHECK_FORWARD_OUT, AF_INET)->packet, &res,
					chains, ELEMENTSOF(chains), &n),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(chains[0].base.table, "a");
	assert_int_equal(chains[0].verdict, REACH_ACCEPT);
	assert_string_equal(chains[1].base.table, "b");
	assert_int_equal(chains[1].verdict, REACH_DROP);
	assert_string_equal(res.base.table, "b");
	assert_int_equal(reach_evaluate(rs, &check(&r, REACH_CHECK_FORWARD_OUT, AF_INET6)->packet, &res,
					chains, ELEMENTSOF(chains), &n),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(chains[0].base.table, "c"); /* priority -5 */
	assert_int_equal(chains[0].verdict, REACH_DROP);
	assert_string_equal(chains[1].base.table, "b");
	assert_int_equal(chains[1].verdict, REACH_ACCEPT);
	assert_int_equal(res.verdict, REACH_DROP);
	assert_string_equal(res.base.table, "c");
	reach_ruleset_free(rs);
}

/* iptables-nft's matches in their native form, from the kernel's info blobs. */
static void test_xt_decode(void **state)
{
	struct xt_conntrack_mtinfo3 ct = { .match_flags = XT_CONNTRACK_STATE, .state_mask = 2 | 4 };
	struct xt_addrtype_info_v1 at = { .dest = XT_ADDRTYPE_LOCAL | XT_ADDRTYPE_BROADCAST };
	uint8_t icmp[4] = { 8, 0, 0xff, 0 };
	char *j;

	j = reach_xt_match_json("conntrack", 3, &ct, sizeof(ct));
	assert_string_equal(
		j, "{\"match\": {\"op\": \"in\", \"left\": {\"ct\": {\"key\": \"state\"}}, \"right\": "
		   "[\"established\", \"related\"]}}");
	free(j);
	ct.invert_flags = XT_CONNTRACK_STATE;
	j = reach_xt_match_json("conntrack", 3, &ct, sizeof(ct));
	assert_non_null(strstr(j, "\"op\": \"!=\""));
	free(j);
	ct.match_flags |= XT_CONNTRACK_ORIGSRC; /* more than the state: not decoded */
	assert_null(reach_xt_match_json("conntrack", 3, &ct, sizeof(ct)));
	assert_null(reach_xt_match_json("conntrack", 3, &ct, 8)); /* short */
	j = reach_xt_match_json("addrtype", 1, &at, sizeof(at));
	assert_non_null(strstr(j, "\"right\": {\"set\": [\"local\", \"broadcast\"]}"));
	free(j);
	at.flags = XT_ADDRTYPE_LIMIT_IFACE_IN;
	assert_null(reach_xt_match_json("addrtype", 1, &at, sizeof(at)));
	j = reach_xt_match_json("icmp", 0, icmp, sizeof(icmp));
	assert_non_null(strstr(j, "\"protocol\": \"icmp\", \"field\": \"type\"}}, \"right\": 8}}"));
	free(j);
	assert_null(reach_xt_match_json("recent", 0, icmp, sizeof(icmp)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_subnets),
		cmocka_unit_test(test_inbound_only),
		cmocka_unit_test(test_drop_naming_bridge),
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_ufw),
		cmocka_unit_test(test_firewalld),
		cmocka_unit_test(test_firewalld_reload),
		cmocka_unit_test(test_undecidable),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_vmap),
		cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_xt_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
