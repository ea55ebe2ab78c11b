/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names that reach the kernel or a generated file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define NAME_MAX_LEN 32
#define IFNAME_MAX_LEN 15

/* Object names (networks, guests): [a-z0-9][a-z0-9_-]{0,31}, case-sensitive letters allowed. */
bool object_name_valid(const char *s);
/* Interface names: 1..15 bytes of [A-Za-z0-9_.-], not "." or "..". */
bool ifname_valid(const char *s);
/* Why an interface name is invalid, for the error message; NULL when valid. */
const char *ifname_invalid_reason(const char *s);
const char *object_name_invalid_reason(const char *s);
/* s with control characters (C0, DEL, and the UTF-8 C1 and bidi controls as \uXXXX) and
 * backslashes escaped, for a message (outside input, shown to a user or a log); cut to fit buf. */
const char *text_escape(const char *s, char *buf, size_t size);
/* The length in bytes of the terminal control at s: a C0 control or DEL (1), a C1 control in UTF-8
 * (2), a bidi override or isolate (3); 0 when s starts with none. */
size_t terminal_control_len(const char *s);
