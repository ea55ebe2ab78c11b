/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmm/cloud-init.c: --cloud-init specs, host names, keys and meta-data checked; meta-data and the
 * --ssh-key user-data rendered (goldens in tests/data/cloud-init-*). */
#include "golden.h"

#include "cloud-init.h"
#include "macro.h"

static void test_file_names(void **state)
{
	for (int i = 0; i < _CLOUD_INIT_FILE_MAX; i++)
		assert_int_equal(cloud_init_file_from_string(cloud_init_file_to_string(i)), i);
	assert_int_equal(cloud_init_file_from_string("vendor-data"), _CLOUD_INIT_FILE_INVALID);
}

static void test_spec_parse(void **state)
{
	char *p[_CLOUD_INIT_FILE_MAX], err[512];

	assert_int_equal(
		cloud_init_spec_parse("user-data=/a/u.yaml,network-config=n.yaml", p, err, sizeof(err)), 0);
	assert_string_equal(p[CLOUD_INIT_USER_DATA], "/a/u.yaml");
	assert_null(p[CLOUD_INIT_META_DATA]);
	assert_string_equal(p[CLOUD_INIT_NETWORK_CONFIG], "n.yaml");
	for (int i = 0; i < _CLOUD_INIT_FILE_MAX; i++)
		free(p[i]);
	assert_int_equal(cloud_init_spec_parse("meta-data=m", p, err, sizeof(err)), 0);
	assert_string_equal(p[CLOUD_INIT_META_DATA], "m");
	free(p[CLOUD_INIT_META_DATA]);

	static const struct {
		const char *spec, *err;
	} bad[] = {
		{ "user-data",
		  "invalid --cloud-init 'user-data': expected user-data=FILE[,meta-data=FILE][,network-config=FILE]" },
		{ "user-data=",
		  "invalid --cloud-init 'user-data=': expected user-data=FILE[,meta-data=FILE][,network-config=FILE]" },
		{ "vendor-data=x",
		  "invalid --cloud-init 'vendor-data=x': expected user-data=FILE[,meta-data=FILE][,network-config=FILE]" },
		{ "user-data=a,user-data=b",
		  "invalid --cloud-init 'user-data=a,user-data=b': user-data given twice" },
		{ ",", "invalid --cloud-init ',': name at least one file (user-data=FILE)" },
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		assert_int_equal(cloud_init_spec_parse(bad[i].spec, p, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].err);
		for (int k = 0; k < _CLOUD_INIT_FILE_MAX; k++)
			assert_null(p[k]);
	}
}

static void test_hostname(void **state)
{
	char long_label[80], long_name[300];

	assert_null(cloud_init_hostname_invalid_reason("web1"));
	assert_null(cloud_init_hostname_invalid_reason("web-1.example.org"));
	assert_null(cloud_init_hostname_invalid_reason("123"));
	memset(long_label, 'a', 64);
	long_label[64] = 0;
	memset(long_name, 'a', 254);
	for (int i = 50; i < 254; i += 50)
		long_name[i] = '.';
	long_name[254] = 0;
	static const struct {
		const char *name, *why;
	} bad[] = {
		{ "", "is empty" },
		{ "web_1", "may hold letters, digits, '-' and '.' only" },
		{ "web 1", "may hold letters, digits, '-' and '.' only" },
		{ "a\"b", "may hold letters, digits, '-' and '.' only" },
		{ "-web", "has a label that starts with '-'" },
		{ "web-.x", "has a label that ends with '-'" },
		{ "web.", "has an empty label (a '.' at the start or end, or two in a row)" },
		{ "a..b", "has an empty label (a '.' at the start or end, or two in a row)" },
		{ ".a", "has an empty label (a '.' at the start or end, or two in a row)" },
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_string_equal(cloud_init_hostname_invalid_reason(bad[i].name), bad[i].why);
	assert_string_equal(cloud_init_hostname_invalid_reason(long_label),
			    "has a label longer than 63 characters");
	assert_string_equal(cloud_init_hostname_invalid_reason(long_name), "is longer than 253 characters");
}

static void test_text(void **state)
{
	char *big = calloc(1, CLOUD_INIT_FILE_MAX + 2);

	assert_null(cloud_init_text_invalid_reason("#cloud-config\n", 14));
	assert_string_equal(cloud_init_text_invalid_reason("a\0b", 3), "holds a NUL byte");
	memset(big, 'x', CLOUD_INIT_FILE_MAX + 1);
	assert_string_equal(cloud_init_text_invalid_reason(big, CLOUD_INIT_FILE_MAX + 1),
			    "is larger than 16 KiB");
	big[CLOUD_INIT_FILE_MAX] = 0;
	assert_null(cloud_init_text_invalid_reason(big, CLOUD_INIT_FILE_MAX));
	free(big);
}

static void test_meta_extra(void **state)
{
	assert_null(cloud_init_meta_extra_invalid_reason(""));
	assert_null(cloud_init_meta_extra_invalid_reason(
		"# mine\npublic-keys:\n  - ssh-ed25519 AAAA x\nplace: \"lab\"\n"));
	assert_null(cloud_init_meta_extra_invalid_reason("# c\r\na: 1\r\nb:\r\n  instance-id: nested\r\n"));
	assert_null(cloud_init_meta_extra_invalid_reason("a: \"x\n  y\"\n  # c\nb: |\n  z\n"));
	assert_string_equal(
		cloud_init_meta_extra_invalid_reason("instance-type: small\n  instance-id: not nested\n"),
		"indents a line under a key that already has a plain value (YAML would not parse it: quote the "
		"value or nest under a key without one)");
	assert_string_equal(cloud_init_meta_extra_invalid_reason("  a: 1\n"),
			    "starts with an indented line: it would continue netd's local-hostname and the "
			    "meta-data would not parse");
	assert_null(cloud_init_meta_extra_invalid_reason("\n  # c\na: 1\n"));
	assert_string_equal(cloud_init_meta_extra_invalid_reason("a:\n\tb: 1\n"),
			    "indents a line with a tab, which YAML refuses");
	{
		static const char *const breaks[] = {
			"foo: bar\rinstance-id: evil\n",
			"foo: bar\xc2\x85instance-id: evil\n",
			"foo: bar\xe2\x80\xa8instance-id: evil\n",
			"foo: bar\xe2\x80\xa9instance-id: evil\n",
			"\xef\xbb\xbfinstance-id: evil\n",
			"foo: bar\r",
			"a: \x01\n",
		};

		for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++)
			assert_non_null(cloud_init_meta_extra_invalid_reason(breaks[i]));
		assert_string_equal(
			cloud_init_meta_extra_invalid_reason(breaks[0]),
			"has a carriage return that does not end a line (use \\n or \\r\\n line ends)");
	}
	assert_string_equal(cloud_init_meta_extra_invalid_reason("a: 1\ninstance-id: x\n"),
			    "sets instance-id or local-hostname, which netd writes itself (use --hostname)");
	assert_string_equal(cloud_init_meta_extra_invalid_reason("local-hostname : x"),
			    "sets instance-id or local-hostname, which netd writes itself (use --hostname)");
	assert_string_equal(cloud_init_meta_extra_invalid_reason("\"instance-id\": x\n"),
			    "sets instance-id or local-hostname, which netd writes itself (use --hostname)");
	assert_string_equal(cloud_init_meta_extra_invalid_reason("'local-hostname' : x\n"),
			    "sets instance-id or local-hostname, which netd writes itself (use --hostname)");
	assert_null(cloud_init_meta_extra_invalid_reason("\"instance-idx\": x\n"));
	assert_string_equal(cloud_init_meta_extra_invalid_reason("\"\\x69nstance-id\": x\n"),
			    "has a double-quoted key with an escape: write plain key: value lines");
	assert_string_equal(
		cloud_init_meta_extra_invalid_reason("? instance-id\n: x\n"),
		"starts a line with a YAML complex key, anchor, alias or tag: write plain key: value lines");
	assert_string_equal(cloud_init_meta_extra_invalid_reason("a: 1\n---\nb: 2\n"),
			    "starts a YAML document or directive: netd adds its keys to the one mapping");
	assert_string_equal(cloud_init_meta_extra_invalid_reason("{a: 1}\n"),
			    "is not a block mapping (key: value lines): netd adds its keys to it");
	assert_string_equal(cloud_init_meta_extra_invalid_reason("- a\n"),
			    "is not a block mapping (key: value lines): netd adds its keys to it");
}

static void test_ssh_key(void **state)
{
	char key[] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 alice@\"lab\"\\x\n\n";

	assert_null(cloud_init_ssh_key_invalid_reason(key));
	cloud_init_ssh_key_trim(key);
	assert_string_equal(key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 alice@\"lab\"\\x");
	assert_null(cloud_init_ssh_key_invalid_reason("ecdsa-sha2-nistp256 AAAA b"));
	assert_string_equal(cloud_init_ssh_key_invalid_reason(""), "is empty");
	assert_string_equal(cloud_init_ssh_key_invalid_reason("ssh-rsa A\nssh-rsa B\n"),
			    "holds more than one line (give one public key)");
	assert_string_equal(cloud_init_ssh_key_invalid_reason("ssh-rsa A\tb"),
			    "holds a character that is not printable ASCII");
	assert_string_equal(
		cloud_init_ssh_key_invalid_reason("-----BEGIN OPENSSH PRIVATE KEY-----"),
		"is not an OpenSSH public key line (ssh-ed25519, ssh-rsa, ecdsa-sha2-..., sk-...: the .pub "
		"file, not the private key)");
	{
		_cleanup_free_ char *u = cloud_init_user_data_ssh(key);

		assert_golden("cloud-init-user-data-ssh", u);
	}
}

static void test_meta_data(void **state)
{
	static const unsigned char b[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
					     0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10 };
	char id[CLOUD_INIT_INSTANCE_ID_LEN + 1];
	_cleanup_free_ char *plain = NULL, *extra = NULL, *noeol = NULL;

	cloud_init_instance_id_format(b, id);
	assert_string_equal(id, "iid-0123456789abcdeffedcba9876543210");
	assert_true(cloud_init_instance_id_valid(id));
	assert_false(cloud_init_instance_id_valid("iid-0123"));
	assert_false(cloud_init_instance_id_valid("iid-0123456789ABCDEFfedcba9876543210"));
	plain = cloud_init_meta_data_render(id, "web1", NULL);
	assert_golden("cloud-init-meta-data", plain);
	extra = cloud_init_meta_data_render(id, "web-1.example.org", "# the user's\nplace: \"lab\"\n");
	assert_golden("cloud-init-meta-data-extra", extra);
	noeol = cloud_init_meta_data_render(id, "123", "place: lab");
	assert_string_equal(noeol, "instance-id: \"iid-0123456789abcdeffedcba9876543210\"\n"
				   "local-hostname: \"123\"\nplace: lab\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_names), cmocka_unit_test(test_spec_parse),
		cmocka_unit_test(test_hostname),   cmocka_unit_test(test_text),
		cmocka_unit_test(test_meta_extra), cmocka_unit_test(test_ssh_key),
		cmocka_unit_test(test_meta_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
