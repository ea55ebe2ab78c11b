/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int max_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",	[LOG_CRIT] = "crit",
	[LOG_ERR] = "error",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

int log_level_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
		if (level_names[i] && !strcmp(s, level_names[i]))
			return i;
	if (!strcmp(s, "warn"))
		return LOG_WARNING;
	if (!strcmp(s, "err"))
		return LOG_ERR;
	return -1;
}

const char *log_level_to_string(int level)
{
	if (level < 0 || level >= (int)ELEMENTSOF(level_names))
		return "?";
	return level_names[level];
}

void log_internal(int level, const char *fmt, ...)
{
	static int journal = -1;
	char msg[2048];
	va_list ap;

	if (level > max_level)
		return;
	if (journal < 0)
		journal = !!getenv("JOURNAL_STREAM");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (journal) {
		fprintf(stderr, "<%d>%s\n", level, msg);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000000, log_level_to_string(level), msg);
}
