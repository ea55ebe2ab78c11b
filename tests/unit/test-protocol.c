/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "protocol.h"

static void test_good(void **state)
{
	json_object *req, *params;
	const char *method, *s;
	char err[256];
	unsigned u;
	bool b;
	const char *line = "{\"method\":\"network.create\",\"params\":{\"name\":\"lab\",\"mtu\":1400,\"autostart\":false}}\n";

	assert_int_equal(protocol_request_parse(line, strlen(line), &req, &method, &params, err, sizeof(err)), 0);
	assert_string_equal(method, "network.create");
	assert_int_equal(protocol_param_string(params, "name", &s), 0);
	assert_string_equal(s, "lab");
	assert_int_equal(protocol_param_uint(params, "mtu", 65535, &u), 0);
	assert_int_equal(u, 1400);
	assert_int_equal(protocol_param_uint(params, "mtu", 100, &u), -ERANGE);
	assert_int_equal(protocol_param_bool(params, "autostart", &b), 0);
	assert_false(b);
	assert_int_equal(protocol_param_string(params, "mtu", &s), -EINVAL);
	assert_int_equal(protocol_param_string(params, "absent", &s), -ENOENT);
	json_object_put(req);

	line = "{\"method\":\"network.list\"}";
	assert_int_equal(protocol_request_parse(line, strlen(line), &req, &method, &params, err, sizeof(err)), 0);
	assert_null(params);
	json_object_put(req);
}

static void test_bad(void **state)
{
	static const struct {
		const char *line, *error;
	} cases[] = {
		{ "", "malformed request: incomplete JSON" },
		{ "{\"method\":", "malformed request: incomplete JSON" },
		{ "garbage", "malformed request: unexpected character" },
		{ "[1,2]", "malformed request: expected an object with a string \"method\"" },
		{ "{\"params\":{}}", "malformed request: expected an object with a string \"method\"" },
		{ "{\"method\":5}", "malformed request: expected an object with a string \"method\"" },
		{ "{\"method\":\"x\",\"params\":[]}", "malformed request: \"params\" must be an object" },
		{ "{\"method\":\"x\"} trailing", "malformed request: unexpected character" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *req = NULL, *params;
		const char *method;
		char err[256] = "";

		assert_true(protocol_request_parse(cases[i].line, strlen(cases[i].line), &req, &method, &params, err,
						   sizeof(err)) < 0);
		assert_string_equal(err, cases[i].error);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
