/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Looking at a guest (pure; netd/guest/vm-look.c drives it): the PNG QEMU's screendump wrote, and
 * the serial log turned into lines fit for an operator's terminal. The guest is hostile: what it
 * printed on its serial console reaches netdctl's output only as text without control sequences.
 */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* The largest screenshot netd returns: the reply carries it in base64 (4/3 of it) on one line,
 * which must fit in a reply (CONTROL_REPLY_MAX, 8 MiB; netd/guest/vm-look.c checks at build time).
 * A 1920x1080 desktop is ~1 MiB, a text console a few KB. */
#define GUEST_SCREENSHOT_MAX (4 * 1024 * 1024)
/* The serial log is rotated (serial.log -> serial.log.1) once it is larger than this. */
#define GUEST_SERIAL_LOG_MAX (1024 * 1024)
/* A serial log larger than this is emptied without a copy: QEMU, not the guest, made it so. */
#define GUEST_SERIAL_LOG_ABSURD (64LL * GUEST_SERIAL_LOG_MAX)
/* vm console --log: at most this many lines (also when --lines asks for none or more), taken from
 * at most this many bytes at the log's end: the reply stays small whatever the guest wrote. */
#define GUEST_CONSOLE_LINES_MAX 10000
#define GUEST_CONSOLE_TEXT_MAX (1024 * 1024)

/* A PNG's width and height from its signature and IHDR chunk: 0, or -EBADMSG when it is none. */
int guest_png_size(const uint8_t *buf, size_t len, uint32_t *ret_width, uint32_t *ret_height);

/* Base64 (RFC 4648, with padding). encode: a new string; decode: -EINVAL on anything but base64. */
char *guest_base64_encode(const uint8_t *buf, size_t len);
int guest_base64_decode(const char *s, uint8_t **ret, size_t *ret_len);

/*
 * The last max_lines lines of text (the older log's text first, then the current one's) as a JSON
 * array of strings: CR and every other control character dropped (an escape sequence loses its
 * ESC: it shows as text and does nothing), bytes that are not UTF-8 shown as '?'. A last line
 * without its newline counts. max_lines 0 (or more than GUEST_CONSOLE_LINES_MAX):
 * GUEST_CONSOLE_LINES_MAX. Only the last GUEST_CONSOLE_TEXT_MAX bytes of text are looked at (from
 * the first line that starts in them).
 */
json_object *guest_console_lines(const char *text, size_t len, size_t max_lines);
