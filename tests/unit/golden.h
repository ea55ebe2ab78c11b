/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Compare generated text with tests/data/NAME; NETD_UPDATE_GOLDEN=1 rewrites the file instead. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fileio.h"

static inline void assert_golden(const char *name, const char *actual)
{
	char path[512];
	char *expected = NULL;

	snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, name);
	if (getenv("NETD_UPDATE_GOLDEN")) {
		assert_int_equal(write_file_atomic(path, actual, strlen(actual), 0644), 0);
		return;
	}
	if (read_file(path, &expected, NULL) < 0)
		fail_msg("golden file %s is missing (run with NETD_UPDATE_GOLDEN=1 to create it)", path);
	if (strcmp(expected, actual))
		print_error("golden %s differs.\n--- expected\n%s--- actual\n%s", name, expected, actual);
	assert_string_equal(expected, actual);
	free(expected);
}
