/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging. When stderr is the journal (JOURNAL_STREAM names stderr's device and inode, as systemd
 * documents), each message goes to journald with sd_journal_sendv() and structured fields:
 * MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_FILE/CODE_LINE/CODE_FUNC and the objects it is about,
 * NETWORK=, GUEST=, BRIDGE= (journalctl -u netd NETWORK=default). Otherwise plain lines on stderr
 * ("12:00:00.123 info: ..."), as before.
 *
 * The objects a message is about are arguments of that one call (log_net(), log_guest(),
 * log_bridge(), or log_obj() with LOG_OBJ(.network = ..., .guest = ...) when several apply): there
 * is no "current object" that could stay set and end up on an unrelated message. Keep the object's
 * name in the text too: plain lines and journalctl's default output show only the text.
 */
#pragma once

#include <stdarg.h>
#include <sys/uio.h>
#include <syslog.h>

#include "macro.h"

/* The objects one message is about; NULL or "" for none. */
struct log_obj {
	const char *network;
	const char *guest;
	const char *bridge;
};

void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);
void log_internal(int level, const struct log_obj *obj, const char *file, int line, const char *func,
		  const char *fmt, ...) _printf_(6, 7);

/* Whether JOURNAL_STREAM's value ("DEV:INO", decimal) is the file open as fd (stderr). */
int log_journal_stream_is(const char *journal_stream, int fd);
/* Send journal entries with send (nonzero: failed; the message then goes to stderr as "<N>text")
 * instead of deciding from JOURNAL_STREAM; NULL decides again at the next message. For tests. */
void log_set_journal_sender(int (*send)(const struct iovec *iov, int n));

#define LOG_OBJ(...) (&(const struct log_obj){ __VA_ARGS__ })
#define log_obj(level, obj, ...) log_internal(level, obj, __FILE__, __LINE__, __func__, __VA_ARGS__)
/* A message about network NAME (NETWORK=NAME), guest NAME (GUEST=NAME), bridge NAME (BRIDGE=NAME). */
#define log_net(level, name, ...) log_obj(level, LOG_OBJ(.network = (name)), __VA_ARGS__)
#define log_guest(level, name, ...) log_obj(level, LOG_OBJ(.guest = (name)), __VA_ARGS__)
#define log_bridge(level, name, ...) log_obj(level, LOG_OBJ(.bridge = (name)), __VA_ARGS__)

#define log_debug(...) log_obj(LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_obj(LOG_INFO, NULL, __VA_ARGS__)
#define log_notice(...) log_obj(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_warning(...) log_obj(LOG_WARNING, NULL, __VA_ARGS__)
#define log_error(...) log_obj(LOG_ERR, NULL, __VA_ARGS__)
