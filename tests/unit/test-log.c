/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* common/log.c's journal entries: which fields each message carries, as the iovecs it would send. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* What the fake sender got: the fields of the last entry, each one iovec as a string. */
static char fields[16][4096];
static int n_fields, n_sent, send_result;

static int fake_send(const struct iovec *iov, int n)
{
	assert_true(n <= (int)ELEMENTSOF(fields));
	for (int i = 0; i < n; i++) {
		assert_true(iov[i].iov_len < sizeof(fields[i]));
		memcpy(fields[i], iov[i].iov_base, iov[i].iov_len);
		fields[i][iov[i].iov_len] = 0;
	}
	n_fields = n;
	n_sent++;
	return send_result;
}

static int setup(void **state)
{
	n_fields = n_sent = send_result = 0;
	log_set_max_level(LOG_INFO);
	log_set_journal_sender(fake_send);
	return 0;
}

static int teardown(void **state)
{
	log_set_journal_sender(NULL);
	return 0;
}

/* The value of field NAME in the last entry; NULL when absent. Fails when it is there twice. */
static const char *field(const char *name)
{
	const char *found = NULL;
	size_t len = strlen(name);

	for (int i = 0; i < n_fields; i++)
		if (!strncmp(fields[i], name, len) && fields[i][len] == '=') {
			assert_null(found);
			found = fields[i] + len + 1;
		}
	return found;
}

static void test_fixed_fields(void **state)
{
	int line = __LINE__ + 1;
	log_info("plain %d", 42);
	char want_line[16];

	assert_int_equal(n_sent, 1);
	assert_string_equal(fields[0], "MESSAGE=plain 42");
	assert_string_equal(field("PRIORITY"), "6");
	assert_string_equal(field("SYSLOG_IDENTIFIER"), program_invocation_short_name);
	assert_string_equal(field("CODE_FILE"), "tests/unit/test-log.c");
	snprintf(want_line, sizeof(want_line), "%d", line);
	assert_string_equal(field("CODE_LINE"), want_line);
	assert_string_equal(field("CODE_FUNC"), "test_fixed_fields");
	assert_null(field("NETWORK"));
	assert_null(field("GUEST"));
	assert_null(field("BRIDGE"));
	assert_int_equal(n_fields, 6);
	log_error("bad");
	assert_string_equal(field("PRIORITY"), "3");
}

static void test_objects(void **state)
{
	log_net(LOG_WARNING, "default", "network '%s': x", "default");
	assert_string_equal(field("MESSAGE"), "network 'default': x");
	assert_string_equal(field("PRIORITY"), "4");
	assert_string_equal(field("NETWORK"), "default");
	assert_null(field("GUEST"));
	assert_null(field("BRIDGE"));

	log_guest(LOG_INFO, "web", "guest 'web' created");
	assert_string_equal(field("GUEST"), "web");
	assert_null(field("NETWORK"));
	assert_null(field("BRIDGE"));

	log_bridge(LOG_NOTICE, "virbr0", "bridge virbr0: y");
	assert_string_equal(field("BRIDGE"), "virbr0");
	assert_null(field("NETWORK"));
	assert_null(field("GUEST"));

	log_obj(LOG_ERR, LOG_OBJ(.network = "lab", .guest = "db", .bridge = "nd-lab"), "all three");
	assert_string_equal(field("NETWORK"), "lab");
	assert_string_equal(field("GUEST"), "db");
	assert_string_equal(field("BRIDGE"), "nd-lab");

	/* NULL and "" name nothing */
	log_obj(LOG_ERR, LOG_OBJ(.network = NULL, .guest = ""), "none");
	assert_null(field("NETWORK"));
	assert_null(field("GUEST"));
	assert_int_equal(n_fields, 6);
}

/* The object of one message never reaches the next one. */
static void test_no_stale_object(void **state)
{
	log_obj(LOG_INFO, LOG_OBJ(.network = "a", .guest = "g"), "first");
	assert_string_equal(field("NETWORK"), "a");
	log_info("second");
	assert_string_equal(field("MESSAGE"), "second");
	assert_null(field("NETWORK"));
	assert_null(field("GUEST"));
	log_bridge(LOG_INFO, "br", "third");
	assert_null(field("NETWORK"));
	assert_null(field("GUEST"));
}

/* A value with a newline stays one field: nothing in it can start one of its own. */
static void test_newline_in_value(void **state)
{
	log_net(LOG_INFO, "n", "lease 10.0.0.2 host evil\nGUEST=forged\nPRIORITY=0");
	assert_string_equal(field("MESSAGE"), "lease 10.0.0.2 host evil\nGUEST=forged\nPRIORITY=0");
	assert_null(field("GUEST"));
	assert_string_equal(field("PRIORITY"), "6");
	log_guest(LOG_INFO, "x\nNETWORK=forged", "m");
	assert_string_equal(field("GUEST"), "x\nNETWORK=forged");
	assert_null(field("NETWORK"));
	assert_int_equal(n_fields, 7);
}

static void test_level_and_errno(void **state)
{
	log_net(LOG_DEBUG, "n", "not at info");
	assert_int_equal(n_sent, 0);
	log_set_max_level(LOG_DEBUG);
	errno = EBUSY;
	log_net(LOG_DEBUG, "n", "busy: %m");
	assert_int_equal(n_sent, 1);
	assert_string_equal(field("MESSAGE"), "busy: Device or resource busy");
	assert_int_equal(errno, EBUSY);
}

/* A long message is cut, never dropped; its fields are still all there. */
static void test_long_message(void **state)
{
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	log_net(LOG_INFO, "n", "%s", big);
	assert_int_equal(strlen(fields[0]), strlen("MESSAGE=") + 2047);
	assert_string_equal(field("NETWORK"), "n");
}

/* A sender that fails (no journald socket): the message goes to stderr, which is the journal's
 * stream, as "<N>text", each of its lines with its level. */
static void test_send_fails(void **state)
{
	char path[] = "/tmp/netd-test-log.XXXXXX", text[256] = "";
	size_t len;
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	FILE *f;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	send_result = -ECONNREFUSED;
	log_net(LOG_WARNING, "n", "no socket");
	log_net(LOG_INFO, "n", "two\n<0>lines");
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	text[len] = 0;
	fclose(f);
	unlink(path);
	assert_string_equal(text, "<4>no socket\n<6>two\n<6><0>lines\n");
}

/* JOURNAL_STREAM: "DEV:INO" of the file that is stderr, nothing else. */
static void test_journal_stream(void **state)
{
	char path[] = "/tmp/netd-test-log.XXXXXX", v[64];
	int fd = mkstemp(path);
	struct stat st;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	assert_true(log_journal_stream_is(v, fd));
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino + 1);
	assert_false(log_journal_stream_is(v, fd));
	snprintf(v, sizeof(v), "%llu:%llux", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	assert_false(log_journal_stream_is(v, fd));
	assert_false(log_journal_stream_is(NULL, fd));
	assert_false(log_journal_stream_is("", fd));
	assert_false(log_journal_stream_is("1", fd));
	assert_false(log_journal_stream_is("a:b", fd));
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fixed_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_stale_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newline_in_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_and_errno, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_fails, setup, teardown),
		cmocka_unit_test(test_journal_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
