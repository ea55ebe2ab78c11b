/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The disk pool's pure part (vmm/disk.c): names, sizes, qemu-img argv, qemu-img info's JSON. */
#include "golden.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>

#include "disk.h"
#include "fileio.h"
#include "macro.h"

#define CHARSET_REASON "a disk name is a file name in the pool: letters, digits, '.', '_' and '-' only"

static void test_name(void **state)
{
	static const char *const bad_chars[] = { "a/b",	     "../x", "/etc/shadow", "a b",  "x\n",
						 "\xc3\xa9", "a;b",  "$x",	    "a\\b", "*" };
	char longest[NAME_MAX + 2];

	assert_null(disk_name_invalid_reason("web.qcow2"));
	assert_null(disk_name_invalid_reason("a"));
	assert_null(disk_name_invalid_reason("Debian-12_base.v2.raw"));
	assert_null(disk_name_invalid_reason("-x")); /* a file name; netd never puts it on a command line */
	assert_string_equal(disk_name_invalid_reason(""), "a disk name must not be empty");
	assert_string_equal(disk_name_invalid_reason(".hidden"), "a disk name must not start with '.'");
	assert_string_equal(disk_name_invalid_reason(".."), "a disk name must not start with '.'");
	assert_string_equal(disk_name_invalid_reason("."), "a disk name must not start with '.'");
	for (size_t i = 0; i < ELEMENTSOF(bad_chars); i++)
		assert_string_equal(disk_name_invalid_reason(bad_chars[i]), CHARSET_REASON);
	memset(longest, 'a', NAME_MAX);
	longest[NAME_MAX] = 0;
	assert_null(disk_name_invalid_reason(longest));
	longest[NAME_MAX] = 'a';
	longest[NAME_MAX + 1] = 0;
	assert_string_equal(disk_name_invalid_reason(longest), "a disk name is at most 255 bytes");
}

static void size_ok(const char *s, bool plus, uint64_t want, bool want_grow)
{
	char err[160] = "";
	uint64_t v = 0;
	bool grow = !want_grow;

	assert_int_equal(disk_size_parse(s, plus, &v, &grow, err, sizeof(err)), 0);
	assert_true(v == want);
	assert_int_equal(grow, want_grow);
}

static void size_bad(const char *s, bool plus, const char *want)
{
	char err[160] = "";
	uint64_t v = 7;

	assert_int_equal(disk_size_parse(s, plus, &v, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	assert_true(v == 7);
}

static void test_size(void **state)
{
	size_ok("1", false, 1, false);
	size_ok("1048576", false, 1048576, false);
	size_ok("512K", false, 512ULL << 10, false);
	size_ok("10M", false, 10ULL << 20, false);
	size_ok("10G", false, 10ULL << 30, false);
	size_ok("2T", false, 2ULL << 40, false);
	size_ok("64T", false, 64ULL << 40, false);
	size_ok("+5G", true, 5ULL << 30, true);
	size_ok("5G", true, 5ULL << 30, false);
	size_bad("10X", false, "invalid size '10X': expected a number with K, M, G or T");
	size_bad("", false, "invalid size '': expected a number with K, M, G or T");
	size_bad("G", false, "invalid size 'G': expected a number with K, M, G or T");
	size_bad("10GB", false, "invalid size '10GB': expected a number with K, M, G or T");
	size_bad("10g", false, "invalid size '10g': expected a number with K, M, G or T");
	size_bad("-1G", false, "invalid size '-1G': expected a number with K, M, G or T");
	size_bad("+1G", false, "invalid size '+1G': expected a number with K, M, G or T");
	size_bad("++1G", true, "invalid size '++1G': expected a number with K, M, G or T");
	size_bad(" 1G", false, "invalid size ' 1G': expected a number with K, M, G or T");
	size_bad("1.5G", false, "invalid size '1.5G': expected a number with K, M, G or T");
	size_bad("0", false, "invalid size '0': it must be more than 0");
	size_bad("0G", false, "invalid size '0G': it must be more than 0");
	size_bad("65T", false, "invalid size '65T': at most 64T");
	size_bad("70368744177665", false, "invalid size '70368744177665': at most 64T");
	size_bad("99999999999999999999999", false, "invalid size '99999999999999999999999': at most 64T");
	size_bad("18446744073709551616K", false, "invalid size '18446744073709551616K': at most 64T");
}

static void argv_golden(const char *name, struct disk_argv *a)
{
	char buf[1024] = "";

	for (size_t i = 0; a->argv[i]; i++) {
		strcat(buf, a->argv[i]);
		strcat(buf, "\n");
	}
	assert_golden(name, buf);
}

static void test_argv(void **state)
{
	struct disk_argv a;

	disk_argv_create(&a, "/usr/bin/qemu-img", DISK_FORMAT_QCOW2, 3, 10ULL << 30);
	argv_golden("disk/argv-create-qcow2.txt", &a);
	disk_argv_create(&a, "/usr/bin/qemu-img", DISK_FORMAT_RAW, 3, 64ULL << 20);
	argv_golden("disk/argv-create-raw.txt", &a);
	disk_argv_resize(&a, "/usr/bin/qemu-img", DISK_FORMAT_QCOW2, 3, 11ULL << 30);
	argv_golden("disk/argv-resize-qcow2.txt", &a);
	disk_argv_info(&a, "/usr/bin/qemu-img", DISK_FORMAT_RAW, 3);
	argv_golden("disk/argv-info-raw.txt", &a);
	disk_argv_create_overlay(&a, "/usr/bin/qemu-img", 3, "base.raw", DISK_FORMAT_RAW, 8ULL << 20);
	argv_golden("disk/argv-create-overlay.txt", &a);
	disk_argv_resize_overlay(&a, "/usr/bin/qemu-img", 3, 20ULL << 20);
	argv_golden("disk/argv-resize-overlay.txt", &a);
	assert_int_equal(disk_argv_convert(&a, "/usr/bin/qemu-img", (enum disk_format[]){ DISK_FORMAT_QCOW2 },
					   (int[]){ 3 }, 1, DISK_FORMAT_RAW, 4),
			 0);
	argv_golden("disk/argv-convert-qcow2-raw.txt", &a);
	assert_int_equal(disk_argv_convert(&a, "/usr/bin/qemu-img",
					   (enum disk_format[]){ DISK_FORMAT_QCOW2, DISK_FORMAT_QCOW2,
								 DISK_FORMAT_RAW },
					   (int[]){ 3, 4, 5 }, 3, DISK_FORMAT_QCOW2, 6),
			 0);
	argv_golden("disk/argv-convert-chain.txt", &a);
	assert_int_equal(disk_argv_convert(&a, "/usr/bin/qemu-img", (enum disk_format[]){ DISK_FORMAT_RAW },
					   (int[]){ 3 }, 1, DISK_FORMAT_QCOW2, 4),
			 0);
	argv_golden("disk/argv-convert-raw-qcow2.txt", &a);
	disk_argv_snapshot(&a, "/usr/bin/qemu-img", DISK_SNAPSHOT_CREATE, "before-upgrade", 3);
	argv_golden("disk/argv-snapshot-create.txt", &a);
	disk_argv_snapshot(&a, "/usr/bin/qemu-img", DISK_SNAPSHOT_APPLY, "before-upgrade", 3);
	argv_golden("disk/argv-snapshot-apply.txt", &a);
	disk_argv_snapshot(&a, "/usr/bin/qemu-img", DISK_SNAPSHOT_DELETE, "before-upgrade", 3);
	argv_golden("disk/argv-snapshot-delete.txt", &a);
}

static void test_snapshot_name(void **state)
{
	static const char *const good[] = {
		"a",	     "before-upgrade",
		"v1.2_rc-3", "1a",
		"s1",	     "0123456789012345678901234567890123456789012345678901234567890abc"
	};
	static const char *const bad[] = {
		"",	"1",
		"0042", "a b",
		"a/b",	"../x",
		"s\n",	"é",
		"a;b",	"01234567890123456789012345678901234567890123456789012345678901234",
		"-c",	"--help",
	};

	for (size_t i = 0; i < ELEMENTSOF(good); i++)
		if (disk_snapshot_name_invalid_reason(good[i]))
			fail_msg("'%s' refused: %s", good[i], disk_snapshot_name_invalid_reason(good[i]));
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		if (!disk_snapshot_name_invalid_reason(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
}

static void test_chain_opts(void **state)
{
	enum disk_format f[DISK_CHAIN_MAX + 1];
	int fds[DISK_CHAIN_MAX + 1];
	char buf[sizeof(((struct disk_argv *)0)->opts)];

	for (size_t i = 0; i <= DISK_CHAIN_MAX; i++) {
		f[i] = DISK_FORMAT_QCOW2;
		fds[i] = 3 + (int)i;
	}
	assert_int_equal(disk_chain_opts(buf, sizeof(buf), f, fds, 2), 0);
	assert_string_equal(buf, "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":"
				 "\"/dev/fd/3\"},\"backing\":{\"driver\":\"qcow2\",\"file\":{\"driver\":"
				 "\"file\",\"filename\":\"/dev/fd/4\"},\"backing\":null}}");
	/* the deepest chain fits; one more layer, none or too small a buffer: refused */
	assert_int_equal(disk_chain_opts(buf, sizeof(buf), f, fds, DISK_CHAIN_MAX), 0);
	assert_int_equal(disk_chain_opts(buf, sizeof(buf), f, fds, DISK_CHAIN_MAX + 1), -E2BIG);
	assert_int_equal(disk_chain_opts(buf, sizeof(buf), f, fds, 0), -E2BIG);
	assert_int_equal(disk_chain_opts(buf, 40, f, fds, 1), -E2BIG);
}

static void test_progress(void **state)
{
	assert_true(disk_progress_parse("") == -1);
	assert_true(disk_progress_parse("    (0.00/100%)\r") == 0);
	assert_true(disk_progress_parse("    (0.00/100%)\r    (5.88/100%)\r    (12.50/100%)\r") == 12.5);
	assert_true(disk_progress_parse("    (100.00/100%)\r\n") == 100);
	/* an unfinished one counts not; nor anything else in parentheses */
	assert_true(disk_progress_parse("    (5.88/100%)\r    (12.5") == 5.88);
	assert_true(disk_progress_parse("(x/100%) (7/10%) (-1/100%) (101/100%)") == -1);
}

static void parse_file(const char *name, struct disk_info *ret)
{
	char path[512], err[200] = "";
	_cleanup_free_ char *json = NULL;

	snprintf(path, sizeof(path), "%s/disk/%s", TEST_DATA_DIR, name);
	assert_int_equal(read_file(path, &json, NULL), 0);
	assert_int_equal(disk_info_parse(json, ret, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void test_info_parse(void **state)
{
	static struct disk_info i;

	parse_file("info-qcow2.json", &i);
	assert_string_equal(i.format, "qcow2");
	assert_true(i.virtual_size == 10ULL << 30);
	assert_true(i.actual_size == 200704);
	assert_string_equal(i.backing_file, "");
	assert_int_equal(i.n_snapshots, 0);
	assert_false(i.dirty);

	parse_file("info-raw.json", &i);
	assert_string_equal(i.format, "raw");
	assert_true(i.virtual_size == 64ULL << 20);
	assert_string_equal(i.backing_file, "");

	parse_file("info-overlay-snapshots.json", &i);
	assert_string_equal(i.format, "qcow2");
	assert_true(i.virtual_size == 20ULL << 30);
	assert_string_equal(i.backing_file, "/tmp/dk/base.qcow2");
	assert_int_equal(i.n_snapshots, 2);
	assert_string_equal(i.snapshots[0].id, "1");
	assert_string_equal(i.snapshots[0].name, "before-upgrade");
	assert_string_equal(i.snapshots[1].name, "clean");
	assert_true(i.snapshots[1].date_sec > 0);
}

static void info_bad(const char *json, const char *want)
{
	static struct disk_info i = { .format = "untouched" };
	char err[200] = "";

	assert_int_equal(disk_info_parse(json, &i, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	assert_string_equal(i.format, "untouched");
}

static void test_info_bad(void **state)
{
	info_bad("", "qemu-img info did not answer JSON");
	info_bad("qemu-img: Could not open", "qemu-img info did not answer JSON");
	info_bad("[1,2]", "qemu-img info did not answer JSON");
	info_bad("{}", "qemu-img info gave no format or virtual size");
	info_bad("{\"format\": \"raw\"}", "qemu-img info gave no format or virtual size");
	info_bad("{\"format\": \"raw\", \"virtual-size\": -1}",
		 "qemu-img info gave no format or virtual size");
	info_bad("{\"format\": \"raw\", \"virtual-size\": \"1\"}",
		 "qemu-img info gave no format or virtual size");
	info_bad("{\"format\": \"raw\", \"virtual-size\": 1, \"snapshots\": 3}",
		 "qemu-img info gave a malformed snapshot list");
	info_bad("{\"format\": \"raw\", \"virtual-size\": 1, \"snapshots\": [3]}",
		 "qemu-img info gave a malformed snapshot list");
}

static void test_qcow2_size(void **state)
{
	uint8_t h[32] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
	uint64_t v = 0;

	h[24 + 3] = 0x02; /* 0x0000000200000000 = 8 GiB */
	assert_true(disk_qcow2_virtual_size(h, sizeof(h), &v));
	assert_true(v == 8ULL << 30);
	assert_false(disk_qcow2_virtual_size(h, 31, &v));
	h[0] = 'X';
	assert_false(disk_qcow2_virtual_size(h, sizeof(h), &v));
}

static void test_qcow2_header(void **state)
{
	uint8_t h[DISK_QCOW2_HEADER_LEN] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
	struct disk_qcow2_header q = { .version = 99 };

	h[24 + 4] = 0x01; /* 16 MiB */
	assert_true(disk_qcow2_header_parse(h, sizeof(h), &q));
	assert_int_equal(q.version, 3);
	assert_true(q.virtual_size == 16ULL << 20 && !q.backing_offset && !q.incompatible);
	assert_null(disk_qcow2_refuse_reason(&q, false));
	assert_null(disk_qcow2_refuse_reason(&q, true)); /* recorded, header says none: harmless */
	/* a v3 header cut short: its features are unknown, so it is no header netd accepts */
	assert_false(disk_qcow2_header_parse(h, 72, &q));

	h[8 + 7] = 0x70; /* backing file name at 0x70, 11 bytes */
	h[16 + 3] = 11;
	assert_true(disk_qcow2_header_parse(h, sizeof(h), &q));
	assert_true(q.backing_offset == 0x70 && q.backing_len == 11);
	assert_string_equal(
		disk_qcow2_refuse_reason(&q, false),
		"its qcow2 header names a backing file netd did not record (the header was changed "
		"outside netd)");
	assert_null(disk_qcow2_refuse_reason(&q, true));

	h[72 + 7] = DISK_QCOW2_INCOMPAT_DATA_FILE;
	assert_true(disk_qcow2_header_parse(h, sizeof(h), &q));
	assert_string_equal(disk_qcow2_refuse_reason(&q, true),
			    "its qcow2 header names an external data file (netd never makes one: the header "
			    "was changed outside netd)");

	/* version 2: 72 bytes, no feature fields */
	h[7] = 2;
	assert_true(disk_qcow2_header_parse(h, 72, &q));
	assert_int_equal(q.version, 2);
	assert_true(q.incompatible == 0);
	h[0] = 'X';
	assert_false(disk_qcow2_header_parse(h, sizeof(h), &q));
	assert_int_equal(q.version, 2); /* untouched */
}

/* A file shorter than its version's header: QEMU zero-pads the read and follows what it finds. */
static void test_qcow2_short_file(void **state)
{
	uint8_t h[DISK_QCOW2_HEADER_LEN] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
	const char *backing = "its qcow2 header names a backing file netd did not record (the header "
			      "was changed outside netd)",
		   *data = "its qcow2 header names an external data file (netd never makes one: the "
			   "header was changed outside netd)";

	h[24 + 4] = 0x01;
	h[8 + 7] = 0x70; /* a backing name at 0x70 */
	h[16 + 3] = 11;
	/* v3 cut at 72 or 20 bytes, v2 at 40: the backing name is still there */
	assert_string_equal(disk_qcow2_file_refuse_reason(h, 72, false), backing);
	assert_string_equal(disk_qcow2_file_refuse_reason(h, 20, false), backing);
	h[7] = 2;
	assert_string_equal(disk_qcow2_file_refuse_reason(h, 40, false), backing);
	assert_null(disk_qcow2_file_refuse_reason(h, 40, true));
	/* a data file bit in a v3 header of 80 bytes */
	h[7] = 3;
	h[8 + 7] = 0;
	h[16 + 3] = 0;
	h[72 + 7] = DISK_QCOW2_INCOMPAT_DATA_FILE;
	assert_string_equal(disk_qcow2_file_refuse_reason(h, 80, true), data);
	assert_null(disk_qcow2_file_refuse_reason(h, 72, true)); /* the bit cut off: QEMU reads 0 */
	assert_null(disk_qcow2_file_refuse_reason(h, 3, false)); /* "QFI": not qcow2 */
	assert_null(disk_qcow2_file_refuse_reason(h, 0, false));
}

static void test_record(void **state)
{
	struct disk_record r = { .format = DISK_FORMAT_QCOW2,
				 .backing = "base.raw",
				 .inode = 1234,
				 .born_ns = 42 },
			   back = { .inode = 7 };
	char buf[512];

	assert_int_equal(disk_record_format(&r, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "format=qcow2\nbacking=base.raw\ninode=1234\nborn=42\n");
	assert_int_equal(disk_record_parse(buf, &back), 0);
	assert_int_equal(back.format, DISK_FORMAT_QCOW2);
	assert_string_equal(back.backing, "base.raw");
	assert_true(back.inode == 1234 && back.born_ns == 42);
	r = (struct disk_record){ .format = DISK_FORMAT_RAW, .inode = 5 };
	assert_int_equal(disk_record_format(&r, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "format=raw\ninode=5\nborn=0\n");
	assert_int_equal(disk_record_format(&r, buf, 10), -E2BIG);
	/* no trailing newline, a later netd's key: fine */
	assert_int_equal(disk_record_parse("inode=9\nformat=raw\nlater=x", &back), 0);
	assert_true(back.inode == 9 && back.format == DISK_FORMAT_RAW && !back.backing[0] && !back.born_ns);
	back.inode = 77;
	assert_int_equal(disk_record_parse("format=vmdk\ninode=1\n", &back), -EINVAL);
	assert_int_equal(disk_record_parse("format=raw\n", &back), -EINVAL);
	assert_int_equal(disk_record_parse("format=raw\ninode=\n", &back), -EINVAL);
	assert_int_equal(disk_record_parse("format=raw\ninode=-1\n", &back), -EINVAL);
	assert_int_equal(disk_record_parse("format=raw\ninode=1x\n", &back), -EINVAL);
	assert_int_equal(disk_record_parse("format=raw\ninode=99999999999999999999999\n", &back), -EINVAL);
	assert_int_equal(disk_record_parse("format=qcow2\nbacking=../etc/shadow\ninode=1\n", &back), -EINVAL);
	assert_int_equal(disk_record_parse("format=qcow2\nbacking=\ninode=1\n", &back), -EINVAL);
	assert_int_equal(disk_record_parse("format raw\ninode=1\n", &back), -EINVAL);
	assert_int_equal(disk_record_parse("", &back), -EINVAL);
	assert_true(back.inode == 77); /* untouched */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_info_parse),
		cmocka_unit_test(test_info_bad),
		cmocka_unit_test(test_qcow2_size),
		cmocka_unit_test(test_qcow2_header),
		cmocka_unit_test(test_chain_opts),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_qcow2_short_file),
		cmocka_unit_test(test_snapshot_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
