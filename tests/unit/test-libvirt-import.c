/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netdctl network import's mapping (netdctl/libvirt-import.c): each tests/data/libvirt/NAME.xml
 * against its golden NAME.json (the request's parameters, what is dropped, what is ignored), and
 * the XML netdctl must refuse to read. */
#include "golden.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "libvirt-import.h"
#include "macro.h"
#include "network-schema.h"
#include "protocol.h"

static int import_file(const char *name, struct libvirt_import *ret, char *err, size_t errlen)
{
	char path[512];
	_cleanup_free_ char *xml = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/libvirt/%s.xml", TEST_DATA_DIR, name);
	assert_int_equal(read_file(path, &xml, &len), 0);
	return libvirt_import_parse(xml, len, ret, err, errlen);
}

static bool known(const char *key)
{
	for (size_t i = 0; i < network_schema.n_sections; i++)
		for (size_t k = 0; k < network_schema.sections[i].n_fields; k++)
			if (network_schema.sections[i].fields[k].json &&
			    !strcmp(network_schema.sections[i].fields[k].json, key))
				return true;
	return false;
}

/* The parameters this netd knows, through its own request parser and validation: what the
 * mapping writes is what netd reads (the keys of other branches of issue 17 are left out). */
static void assert_netd_takes(const char *name, json_object *params)
{
	_cleanup_json_ json_object *p = json_object_new_object();
	struct network n;
	char err[1024] = "";

	json_object_object_foreach(params, key, val)
		if (known(key))
			json_object_object_add(p, key, json_object_get(val));
	network_init(&n, "x");
	if (schema_json_parse(&network_schema, &n, p, err, sizeof(err)) < 0)
		fail_msg("%s: netd refuses the parameters: %s", name, err);
	network_fill_defaults(&n);
	if (network_validate(&n, err, sizeof(err)) < 0)
		fail_msg("%s: netd's validation refuses the definition: %s", name, err);
	network_done(&n);
}

static const struct {
	const char *name;
	bool netd_takes; /* every parameter this netd knows is accepted as it is */
} cases[] = {
	{ "default", true },
	{ "default-shipped", true }, /* libvirt's own default.xml, before libvirt fills it in */
	{ "nat-options", true },
	{ "nat-single-port", true }, /* <port start='X' end='X'/>: nat-ports X-X */
	{ "route", true },
	{ "open", true },
	{ "isolated", true },
	{ "bridge", true },
	{ "dhcp-hosts", true },
	{ "static-only", true },
	{ "pxe", true },
	{ "dns", true },
	{ "dns-off", true },
	{ "subnets", true },
	{ "dual-stack", true },
	{ "ipv6-nat", true },
	{ "ipv6-only", true },
	{ "dnsmasq-options", true },
	{ "stp", true },
	{ "dup-and-defaults", true },
	{ "refused-qos", true },
	{ "refused-hostdev", true },
	{ "refused-macvtap", true },
	{ "refused-virtualport", true },
};

static void test_goldens(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ json_object *o = json_object_new_object();
		struct libvirt_import imp;
		char err[512] = "", golden[256];
		_cleanup_free_ char *text = NULL;

		if (import_file(cases[i].name, &imp, err, sizeof(err)) < 0)
			fail_msg("%s: %s", cases[i].name, err);
		json_object_object_add(o, "params", json_object_get(imp.params));
		json_object_object_add(o, "dropped", json_object_get(imp.dropped));
		json_object_object_add(o, "ignored", json_object_get(imp.ignored));
		assert_true(asprintf(&text, "%s\n",
				     json_object_to_json_string_ext(
					     o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							JSON_C_TO_STRING_NOSLASHESCAPE)) > 0);
		snprintf(golden, sizeof(golden), "libvirt/%s.json", cases[i].name);
		assert_golden(golden, text);
		if (cases[i].netd_takes && json_object_object_get_ex(imp.params, "mode", NULL))
			assert_netd_takes(cases[i].name, imp.params);
		libvirt_import_done(&imp);
	}
}

/* Every element a refused definition has is named. */
static void test_refused_names(void **state)
{
	static const struct {
		const char *file, *what;
	} want[] = {
		{ "refused-qos", "<bandwidth>" },
		{ "refused-qos", "<vlan>" },
		{ "refused-virtualport", "<virtualport>" },
		{ "refused-qos", "<portgroup>" },
		{ "refused-qos", "<port>" },
		{ "refused-qos", "<route>" },
		{ "refused-qos", "<network trustGuestRxFilters='yes'>" },
		{ "refused-qos", "<bridge macTableManager='libvirt'>" },
		{ "refused-qos", "<bridge zone='trusted'>" },
		{ "refused-qos", "<dns forwardPlainNames='no'>" },
		{ "refused-hostdev", "<forward mode='hostdev'>" },
		{ "refused-macvtap", "<forward><interface dev='eth1'> (macvtap)" },
	};

	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		struct libvirt_import imp;
		char err[512];
		bool found = false;

		assert_int_equal(import_file(want[i].file, &imp, err, sizeof(err)), 0);
		for (size_t k = 0; k < json_object_array_length(imp.dropped); k++)
			found = found ||
				!strcmp(json_object_get_string(json_object_array_get_idx(imp.dropped, k)),
					want[i].what);
		if (!found)
			fail_msg("%s: %s is not listed as dropped", want[i].file, want[i].what);
		libvirt_import_done(&imp);
	}
}

/* What netdctl prints of a file holds no control characters (a terminal's escape sequences): an ESC
 * is no XML character, a tab only comes as a character reference (a literal one is a space). */
static void test_dropped_printable(void **state)
{
	static const char esc
		[] = "<network><name>x</name><bridge zone='\x1b]0;pwned\x07'/></network>",
	     tab[] = "<network><name>x</name><bridge zone='a&#x9;b\tc&#27;'/><ip address='10.0.0.1'/></network>",
	     tab2[] = "<network><name>x</name><bridge zone='a&#x9;b\tc'/><ip address='10.0.0.1'/></network>";
	struct libvirt_import imp;
	char err[512];

	assert_int_equal(libvirt_import_parse(esc, strlen(esc), &imp, err, sizeof(err)), -EINVAL);
	assert_int_equal(libvirt_import_parse(tab, strlen(tab), &imp, err, sizeof(err)), -EINVAL);
	assert_int_equal(libvirt_import_parse(tab2, strlen(tab2), &imp, err, sizeof(err)), 0);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(imp.dropped, 0)),
			    "<bridge zone='a?b c'>");
	libvirt_import_done(&imp);
	/* UTF-8 C1 controls (CSI U+009B, as a terminal reads ESC [) and bidi controls: one '?' each;
	 * other UTF-8 stays */
	static const char c1[] = "<network><name>x</name><bridge zone='\xc2\x9b"
				 "31m\xe2\x80\xae"
				 "z\xe2\x81\xa6\xc3\xa9'/><ip address='10.0.0.1'/></network>";
	assert_int_equal(libvirt_import_parse(c1, strlen(c1), &imp, err, sizeof(err)), 0);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(imp.dropped, 0)),
			    "<bridge zone='?31m?z?\xc3\xa9'>");
	libvirt_import_done(&imp);
}

static void assert_refused(const char *xml, size_t len, int error, const char *msg)
{
	struct libvirt_import imp = {};
	char err[512] = "";

	assert_int_equal(libvirt_import_parse(xml, len, &imp, err, sizeof(err)), error);
	if (!strstr(err, msg))
		fail_msg("message '%s' lacks '%s'", err, msg);
	assert_null(imp.params);
}

static void test_bad_xml(void **state)
{
	struct libvirt_import imp;
	char err[512];

	assert_int_equal(import_file("bad-malformed", &imp, err, sizeof(err)), -EINVAL);
	assert_non_null(
		strstr(err, "is not well-formed XML: line 5: Premature end of data in tag network line 1"));
	assert_int_equal(import_file("bad-not-network", &imp, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "is no libvirt network definition: its root element is <domain>, not <network>");
	assert_refused("", 0, -EINVAL, "is not well-formed XML");
	assert_refused("<network>\0</network>", 20, -EINVAL, "holds a NUL byte");
	/* UTF-16 (a BOM, then NULs) would hide a DOCTYPE from a byte search */
	assert_refused("\xff\xfe<\0n\0/\0>\0", 10, -EINVAL, "holds a NUL byte");
	assert_refused("<network><name>a</name></network><network/>", 43, -EINVAL, "well-formed");
}

/* An external entity is never read: a DOCTYPE is refused before the parser sees it, and the parser
 * has no entity loader anyway. */
static void test_xxe(void **state)
{
	char dir[] = "/tmp/netd-xxe.XXXXXX", secret[512], xml[1024];
	struct libvirt_import imp;
	char err[512];
	FILE *f;

	assert_int_equal(import_file("bad-xxe", &imp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "DOCTYPE"));

	assert_non_null(mkdtemp(dir));
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	f = fopen(secret, "w");
	assert_non_null(f);
	fputs("TOPSECRET", f);
	fclose(f);
	/* parameter entities, a billion laughs, an entity in an attribute: all refused, none read */
	snprintf(
		xml, sizeof(xml),
		"<?xml version='1.0'?>\n<!DOCTYPE network [<!ENTITY %% p SYSTEM 'file://%s'> %%p; "
		"<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;&a;'>]>\n<network><name>&b;</name><bridge name='&a;'/></network>",
		secret);
	assert_int_equal(libvirt_import_parse(xml, strlen(xml), &imp, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "TOPSECRET"));
	assert_non_null(strstr(err, "DOCTYPE"));
	/* without the word DOCTYPE: only entity references the parser does not know */
	snprintf(xml, sizeof(xml), "<network><name>&secret;</name></network>");
	assert_int_equal(libvirt_import_parse(xml, strlen(xml), &imp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "well-formed"));
	unlink(secret);
	rmdir(dir);
}

static void test_huge(void **state)
{
	size_t cap = LIBVIRT_XML_MAX + 2, len = 0;
	_cleanup_free_ char *xml = malloc(cap);
	struct libvirt_import imp;
	char err[512];

	/* too large: refused before parsing */
	memset(xml, ' ', cap);
	assert_refused(xml, LIBVIRT_XML_MAX + 1, -EFBIG, "is larger than 1048576 bytes");
	/* deeper than libxml2's limit (256 without XML_PARSE_HUGE), well-formed: said plainly */
	len = sprintf(xml, "<network>");
	for (int i = 0; i < 300; i++)
		len += sprintf(xml + len, "<a>");
	for (int i = 0; i < 300; i++)
		len += sprintf(xml + len, "</a>");
	len += sprintf(xml + len, "</network>");
	assert_int_equal(libvirt_import_parse(xml, len, &imp, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "has elements nested deeper than 256 (line 1): not a libvirt network "
				 "definition");
	/* 250 levels are read */
	len = sprintf(xml, "<network><name>deep</name><ip address='10.0.0.1' prefix='24'/>");
	for (int i = 0; i < 250; i++)
		len += sprintf(xml + len, "<a>");
	for (int i = 0; i < 250; i++)
		len += sprintf(xml + len, "</a>");
	len += sprintf(xml + len, "</network>");
	assert_int_equal(libvirt_import_parse(xml, len, &imp, err, sizeof(err)), 0);
	libvirt_import_done(&imp);
	/* the largest that is taken: thousands of reservations */
	len = sprintf(xml, "<network><name>big</name><forward/><ip address='10.0.0.1' prefix='16'><dhcp>");
	for (int i = 0; len + 200 < LIBVIRT_XML_MAX; i++)
		len += sprintf(xml + len, "<host mac='52:54:00:00:%02x:%02x' ip='10.0.%d.%d'/>",
			       (i >> 8) & 0xff, i & 0xff, (i >> 8) & 0xff, i & 0xff);
	len += sprintf(xml + len, "</dhcp></ip></network>");
	assert_true(len <= LIBVIRT_XML_MAX);
	assert_int_equal(libvirt_import_parse(xml, len, &imp, err, sizeof(err)), 0);
	assert_true(json_object_array_length(json_object_object_get(imp.params, "hosts")) > 10000);
	assert_int_equal(json_object_array_length(imp.dropped), 0);
	libvirt_import_done(&imp);
}

static bool listed(json_object *list, const char *what)
{
	for (size_t k = 0; k < json_object_array_length(list); k++)
		if (strstr(json_object_get_string(json_object_array_get_idx(list, k)), what))
			return true;
	return false;
}

static const char *param(const struct libvirt_import *imp, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(imp->params, key, &v) ? json_object_to_json_string(v) : NULL;
}

#define NET(body) "<network><name>n</name>" body "</network>"
#define IP4 "<ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/></dhcp></ip>"

/* Each mapping case: what lands in the parameters, what is listed, what is fatal. */
static void test_cases(void **state)
{
	static const struct {
		const char *xml, *key, *value; /* value NULL: key absent */
		const char *dropped, *ignored;
		bool fatal;
	} cases[] = {
		/* the domain's local-only, explicit either way */
		{ NET("<domain name='lab'/>" IP4), "domain_local_only", "false" },
		{ NET("<domain name='lab' localOnly='yes'/>" IP4), "domain_local_only", "true" },
		{ NET("<domain name='lab' localOnly='no'/>" IP4), "domain_local_only", "false" },
		{ NET("<domain name='lab' localOnly='bogus'/>" IP4), "domain_local_only", NULL,
		  "<domain localOnly='bogus'> (yes or no)" },
		/* a forwarder for a domain without addr: the usual servers; no port attribute in libvirt */
		{ NET("<dns><forwarder domain='corp'/></dns>" IP4), "dns_forwarders", "[ \"\\/corp\\/#\" ]" },
		{ NET("<dns><forwarder addr='10.9.9.9' port='53'/></dns>" IP4), NULL, NULL,
		  "<forwarder port='53'>" },
		/* netd's dhcp switch is both families' */
		{ NET("<ip address='10.0.0.1' prefix='24'/><ip family='ipv6' address='fd00::1' prefix='64'>"
		      "<dhcp><range start='fd00::10' end='fd00::20'/></dhcp></ip>"),
		  "dhcp", NULL, "an IPv4 <ip> without <dhcp> beside an IPv6 <dhcp>" },
		{ NET("<ip address='10.0.0.1' prefix='24'/><ip family='ipv6' address='fd00::1' prefix='64'/>"),
		  "dhcp", "false" },
		{ NET("<ip family='ipv6' address='fd00::1' prefix='64'><dhcp><host id='0:1:2' ip='fd00::5'/>"
		      "</dhcp></ip>"),
		  "ipv6_mode", "\"dhcpv6\"" },
		/* no <ip>: nothing, not even with --partial */
		{ NET("<forward mode='nat'/>"), NULL, NULL, "a network without <ip>", NULL, true },
		{ NET("<virtualport type='openvswitch'/>" IP4), NULL, NULL, "<virtualport>", NULL, true },
		/* silent passes no more */
		{ NET("<forward mode='nat'><nat><address start='1.1.1.1'/><address start='2.2.2.2'/>"
		      "<port start='1024' end='2047'/><port start='3000'/></nat></forward>" IP4),
		  "nat_address", "\"1.1.1.1\"", "a second <nat><address start='2.2.2.2'>" },
		{ NET("<forward mode='nat'><nat><port start='1024' end='2047'/><port start='3000'/></nat>"
		      "</forward>" IP4),
		  "nat_ports", "\"1024-2047\"", "a second <nat><port start='3000'>" },
		{ NET("<ip address='10.0.0.1' prefix='24' netmask='255.255.255.0'/>"
		      "<ip family='ipv6' address='fd00::1' prefix='64'/>"),
		  "gateway", NULL, "with both prefix and netmask" },
		{ "<network><name>a<b/>c</name>" IP4 "</network>", "name", NULL,
		  "<name> with an element <b> inside its text" },
		{ "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><name>n</name>" IP4
		  "<dnsmasq:options x='1'><dnsmasq:option value='domain-needed'/></dnsmasq:options></network>",
		  "dnsmasq_options", "[ \"domain-needed\" ]", "<options x='1'>" },
		{ NET("<dns enable='no'><host ip='10.0.0.5'><hostname>h</hostname></host></dns>" IP4),
		  "dns_hosts", NULL, NULL, "what is inside <dns enable='no'>: libvirt ignores it too" },
		{ NET("<dns enable='bogus'/>" IP4), "dns", NULL, "<dns enable='bogus'> (yes or no)" },
		{ NET("<forward mode='nat'><nat ipv6='maybe'/></forward>" IP4), NULL, NULL,
		  "<nat ipv6='maybe'> (yes or no)" },
		{ NET("<forward mode='bridge'/><bridge name='br0' stp='on' delay='5'/>"), "stp", NULL, NULL,
		  "<bridge stp delay> of <forward mode='bridge'>" },
		/* a separator inside one value */
		{ NET("<ip address='10.0.0.1' prefix='24'><dhcp><host mac='52:54:00:00:00:01,x' ip='10.0.0.5'/>"
		      "</dhcp></ip>"),
		  "hosts", NULL, "<host mac='52:54:00:00:00:01,x'> (netd reads one of ',/# ' in it" },
		{ NET("<ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2-10.0.0.3' "
		      "end='10.0.0.9'/></dhcp></ip>"),
		  "dhcp_ranges", NULL, "<range start='10.0.0.2-10.0.0.3'>" },
		{ NET("<dns><host ip='10.0.0.5'><hostname>a,b</hostname></host></dns>" IP4), "dns_hosts",
		  NULL, "<hostname>a,b</hostname>" },
		{ NET("<dns><forwarder domain='a/b' addr='10.0.0.9'/></dns>" IP4), "dns_forwarders", NULL,
		  "<forwarder domain='a/b'>" },
		{ NET("<dns><txt name='a,b' value='v'/></dns>" IP4), "dns_txt", NULL, "<txt name='a,b'>" },
		{ NET("<dns><srv service='ldap' protocol='tcp' target='a b' port='1'/></dns>" IP4), "dns_srv",
		  NULL, "<srv target='a b'>" },
		/* dnsmasq's namespace by its URI, whatever the prefix */
		{ "<network xmlns:dnsmasq='http://example.com/other'><name>n</name>" IP4
		  "<dnsmasq:options><dnsmasq:option value='domain-needed'/></dnsmasq:options></network>",
		  "dnsmasq_options", NULL, "<dnsmasq:options>" },
		{ "<network xmlns:d='http://libvirt.org/schemas/network/dnsmasq/1.0'><name>n</name>" IP4
		  "<d:options><d:option value='domain-needed'/></d:options></network>",
		  "dnsmasq_options", "[ \"domain-needed\" ]" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct libvirt_import imp;
		char err[512] = "";
		const char *v;

		if (libvirt_import_parse(cases[i].xml, strlen(cases[i].xml), &imp, err, sizeof(err)) < 0)
			fail_msg("case %zu: %s", i, err);
		v = cases[i].key ? param(&imp, cases[i].key) : NULL;
		if (cases[i].key && (cases[i].value ? !v || strcmp(v, cases[i].value) : v != NULL))
			fail_msg("case %zu: %s is %s, not %s", i, cases[i].key, v ?: "absent",
				 cases[i].value ?: "absent");
		if (cases[i].dropped && !listed(imp.dropped, cases[i].dropped))
			fail_msg("case %zu: '%s' not dropped: %s", i, cases[i].dropped,
				 json_object_to_json_string(imp.dropped));
		if (!cases[i].dropped && json_object_array_length(imp.dropped))
			fail_msg("case %zu: dropped %s", i, json_object_to_json_string(imp.dropped));
		if (cases[i].ignored && !listed(imp.ignored, cases[i].ignored))
			fail_msg("case %zu: '%s' not ignored: %s", i, cases[i].ignored,
				 json_object_to_json_string(imp.ignored));
		if (cases[i].fatal != (imp.fatal != NULL))
			fail_msg("case %zu: fatal %s", i, imp.fatal ?: "(none)");
		libvirt_import_done(&imp);
	}
}

/* What is said of a file that is no libvirt network, or not UTF-8. */
static void test_messages(void **state)
{
	struct libvirt_import imp;
	char err[512];
	static const char ns[] = "<network xmlns='http://example.com/x'><name>n</name></network>",
			  latin1[] = "<network><name>caf\xe9</name></network>";

	assert_int_equal(libvirt_import_parse(ns, strlen(ns), &imp, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "is no libvirt network definition: its root element <network> is in "
				 "namespace 'http://example.com/x' (libvirt's has none)");
	assert_int_equal(libvirt_import_parse(latin1, strlen(latin1), &imp, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "is not UTF-8 (byte 18, 0xe9): libvirt writes UTF-8; convert the file, "
				 "e.g. with 'iconv -f LATIN1 -t UTF-8'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_goldens), cmocka_unit_test(test_refused_names),
		cmocka_unit_test(test_bad_xml), cmocka_unit_test(test_dropped_printable),
		cmocka_unit_test(test_xxe),	cmocka_unit_test(test_huge),
		cmocka_unit_test(test_cases),	cmocka_unit_test(test_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
