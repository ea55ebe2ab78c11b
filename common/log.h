/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging to stderr; journald reads the "<N>" level prefix when it owns stderr. */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);
void log_internal(int level, const char *fmt, ...) _printf_(2, 3);

#define log_debug(...) log_internal(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, __VA_ARGS__)
