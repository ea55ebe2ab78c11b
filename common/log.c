/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

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

/* Whether stderr is the journal: decided at the first message (netd's stderr does not change). */
static enum { OUT_UNKNOWN, OUT_PLAIN, OUT_JOURNAL } out;
static int (*journal_send)(const struct iovec *iov, int n) = sd_journal_sendv;

int log_journal_stream_is(const char *journal_stream, int fd)
{
	unsigned long long dev, ino;
	struct stat st;
	int end = 0;

	if (!journal_stream || sscanf(journal_stream, "%llu:%llu%n", &dev, &ino, &end) != 2 ||
	    journal_stream[end])
		return 0;
	if (fstat(fd, &st) < 0)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_set_journal_sender(int (*send)(const struct iovec *iov, int n))
{
	journal_send = send ?: sd_journal_sendv;
	out = send ? OUT_JOURNAL : OUT_UNKNOWN;
}

/* Append one field "NAME=value" to iov, its text in the arena (cut to what fits). */
static void field_add(struct iovec *iov, int *n, char *arena, size_t *used, size_t size, const char *name,
		      const char *value)
{
	int len;

	if (!value || !value[0] || *used >= size)
		return;
	len = snprintf(arena + *used, size - *used, "%s=%s", name, value);
	if (len < 0)
		return;
	if ((size_t)len >= size - *used)
		len = size - *used - 1;
	iov[(*n)++] = (struct iovec){ .iov_base = arena + *used, .iov_len = len };
	*used += len + 1;
}

/* meson compiles "../netd/guest/vm.c": the path in the source tree. */
static const char *source_path(const char *file)
{
	while (file && !strncmp(file, "../", 3))
		file += 3;
	return file;
}

/* One entry: MESSAGE first, then the fixed fields, then the objects. Each iovec is one whole
 * field: sd_journal_sendv sends a value with a newline in the native protocol's length-prefixed
 * form, so no value (a guest's hostname in a message, say) can start a field of its own. */
static int journal_write(int level, const struct log_obj *obj, const char *file, int line, const char *func,
			 const char *message)
{
	char arena[2048], num[2][32];
	struct iovec iov[9];
	size_t used = 0;
	int n = 0;

	iov[n++] = (struct iovec){ .iov_base = (char *)message, .iov_len = strlen(message) };
	snprintf(num[0], sizeof(num[0]), "PRIORITY=%d", level);
	iov[n++] = (struct iovec){ .iov_base = num[0], .iov_len = strlen(num[0]) };
	field_add(iov, &n, arena, &used, sizeof(arena), "SYSLOG_IDENTIFIER", program_invocation_short_name);
	field_add(iov, &n, arena, &used, sizeof(arena), "CODE_FILE", source_path(file));
	if (line > 0) {
		snprintf(num[1], sizeof(num[1]), "CODE_LINE=%d", line);
		iov[n++] = (struct iovec){ .iov_base = num[1], .iov_len = strlen(num[1]) };
	}
	field_add(iov, &n, arena, &used, sizeof(arena), "CODE_FUNC", func);
	if (obj) {
		field_add(iov, &n, arena, &used, sizeof(arena), "NETWORK", obj->network);
		field_add(iov, &n, arena, &used, sizeof(arena), "GUEST", obj->guest);
		field_add(iov, &n, arena, &used, sizeof(arena), "BRIDGE", obj->bridge);
	}
	return journal_send(iov, n);
}

static void plain_write(int level, const char *msg)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000000, log_level_to_string(level), msg);
}

/* journald's socket is not there, but stderr is still the journal's stream: each line of the
 * message with its level, so that a line of it cannot pass for a message of another level. */
static void stream_write(int level, const char *msg)
{
	const char *nl;

	while ((nl = strchr(msg, '\n'))) {
		fprintf(stderr, "<%d>%.*s\n", level, (int)(nl - msg), msg);
		msg = nl + 1;
	}
	fprintf(stderr, "<%d>%s\n", level, msg);
}

void log_internal(int level, const struct log_obj *obj, const char *file, int line, const char *func,
		  const char *fmt, ...)
{
	static const char prefix[] = "MESSAGE=";
	char buf[sizeof(prefix) - 1 + 2048];
	char *msg = buf + sizeof(prefix) - 1;
	int saved_errno = errno;
	va_list ap;

	if (level > max_level)
		return;
	memcpy(buf, prefix, sizeof(prefix) - 1);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(buf) - (sizeof(prefix) - 1), fmt, ap);
	va_end(ap);
	if (out == OUT_UNKNOWN)
		out = log_journal_stream_is(getenv("JOURNAL_STREAM"), STDERR_FILENO) ? OUT_JOURNAL :
										       OUT_PLAIN;
	if (out == OUT_PLAIN)
		plain_write(level, msg);
	else if (journal_write(level, obj, file, line, func, buf) != 0)
		stream_write(level, msg);
	errno = saved_errno;
}
