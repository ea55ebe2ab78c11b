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
	{ "route", true },
	{ "open", true },
	{ "isolated", true },
	{ "bridge", true },
	{ "dhcp-hosts", false }, /* FQDN and per-host leases: branch dhcpopts */
	{ "static-only", false }, /* range static: branch dhcpopts */
	{ "pxe", true },
	{ "dns", false }, /* an IPv6 DNS host: branch dns */
	{ "dns-off", true },
	{ "subnets", false }, /* ranges in a second subnet: branch subnets */
	{ "dual-stack", true },
	{ "ipv6-nat", true },
	{ "ipv6-only", true },
	{ "dnsmasq-options", true },
	{ "stp", true },
	{ "dup-and-defaults", false }, /* second subnets: branch subnets */
	{ "refused-qos", true },
	{ "refused-hostdev", true },
	{ "refused-macvtap", true },
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
		{ "refused-qos", "<virtualport>" },
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
	/* deeper than libxml2's limit (256 without XML_PARSE_HUGE) */
	for (int i = 0; i < 20000; i++)
		len += sprintf(xml + len, "<a>");
	assert_refused(xml, len, -EINVAL, "well-formed");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_goldens), cmocka_unit_test(test_refused_names),
		cmocka_unit_test(test_bad_xml), cmocka_unit_test(test_dropped_printable),
		cmocka_unit_test(test_xxe),	cmocka_unit_test(test_huge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
