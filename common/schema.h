/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One table per object kind (network, guest, uplink): each row is one setting, and says where it
 * lives in the definition file ([section] key), in a request (its JSON name), on netdctl's command
 * line (--flag) and in show/--json, with the one function that parses its text and the one that
 * formats it. The engine here walks such a table for every path, so a value is refused with the
 * same message wherever it comes from, and a setting that takes one value is refused when given
 * twice. Pure: no files, no sockets.
 *
 * A kind's table is a list of sections; a section is plain ([network]) or indexed ([nic0] ..
 * [nic7]: one item per index, e.g. one guest NIC each).
 *
 * A plain value (a bool, a number with its range, a duration, a bounded string with an optional
 * check) is a typed row: SCHEMA_*_AT() names its member, and the engine parses, formats and refuses
 * it. Parse and format functions are for the values that are special (addresses, lists, enums, a
 * value with a has_ flag).
 */
#pragma once

#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "macro.h"

/* How a value travels in a request; the definition file and the command line hold its text. A typed
 * row's member has the C type after "member:", and the engine refuses a value with the words quoted. */
enum schema_type {
	/* member: char[size], "" is unset. "invalid LABEL 'V': WHY" (check), "LABEL is too long (at
	 * most N bytes)" */
	SCHEMA_STRING,
	/* A JSON number (its decimal text is parsed; a string is parsed as it is). member: unsigned.
	 * "invalid LABEL 'V': expected a number", "LABEL is out of range (MIN-MAX)"; a row without max
	 * takes any number up to SCHEMA_UINT_ANY (its range is checked later, as the MTU's) */
	SCHEMA_UINT,
	/* JSON true/false (as "yes"/"no"); a flag without a value stands for flag_value. member: bool.
	 * "invalid LABEL 'V': expected yes or no" */
	SCHEMA_BOOL,
	/* A JSON number of seconds; the command line also takes 90s, 2m, 1h. member: unsigned seconds.
	 * "invalid duration 'V': ...", "LABEL must be between MIN and MAX seconds" */
	SCHEMA_DURATION,
};

#define SCHEMA_UINT_ANY (1u << 30)

enum {
	SCHEMA_REPEATABLE = 1 << 0, /* each line, array element or flag adds one value */
	SCHEMA_SHOW = 1 << 1, /* in show/--json under its JSON name (null when unset) */
	SCHEMA_OMIT_DEFAULT = 1 << 2, /* not written to the file while its value is def */
	SCHEMA_REQUIRED = 1 << 3, /* the command line must give it */
	SCHEMA_PER_ITEM = 1 << 4, /* indexed section: request array element / flag i is item i's */
	SCHEMA_ADDS_ITEM = 1 << 5, /* with PER_ITEM: its values make the items (a guest's --network) */
	SCHEMA_ALL_ITEMS = 1 << 6, /* indexed section: the one request/flag value is every item's */
	SCHEMA_ZERO_UNSET = 1 << 7, /* typed number: 0 is unset (not written, null in show) */
};

/* Parse one value into obj (the kind's object, or an indexed section's item). A parser that
 * refuses writes why into err: the message every path gives. */
typedef int (*schema_parse_fn)(void *obj, const char *value, char *err, size_t errlen);
/* Write value number i of obj into buf: 1 when there is one, 0 when there is none (unset, or the
 * end of a repeatable field's values), negative on error. */
typedef int (*schema_format_fn)(const void *obj, size_t i, char *buf, size_t size);

struct schema_field {
	const char *key; /* in the definition file; NULL: not written there */
	const char *json; /* request parameter; NULL: none */
	const char *flag; /* netdctl option without "--"; NULL: none */
	const char *flag_value; /* an option that takes no value stands for this one ("no") */
	const char *metavar; /* the option's value in --help */
	const char *label; /* how messages name it: "subnet", "MTU", "--kernel" */
	const char *def; /* the default as text (SCHEMA_OMIT_DEFAULT) */
	enum schema_type type;
	unsigned flags;
	/* A special value: its functions (format NULL: not written, not shown). NULL: a typed row. */
	schema_parse_fn parse;
	schema_format_fn format;
	/* A typed row (SCHEMA_*_AT): its member in the object (an indexed section's: in the item). */
	size_t offset, size;
	unsigned min, max; /* a number's or duration's range; max 0: none */
	const char *(*check)(const char *v); /* a string: why v is refused, NULL when it is good */
};

/* A typed row's member, and a compile error when its C type is not the one the type holds. */
#define SCHEMA_MEMBER_(T, m, ctype) \
	.offset = offsetof(T, m) + 0 * sizeof(_Generic(((T *)0)->m, ctype : 1)), .size = sizeof(((T *)0)->m)
#define SCHEMA_STRING_AT(T, m) .type = SCHEMA_STRING, SCHEMA_MEMBER_(T, m, char *)
#define SCHEMA_UINT_AT(T, m) .type = SCHEMA_UINT, SCHEMA_MEMBER_(T, m, unsigned)
#define SCHEMA_BOOL_AT(T, m) .type = SCHEMA_BOOL, SCHEMA_MEMBER_(T, m, bool)
#define SCHEMA_DURATION_AT(T, m) .type = SCHEMA_DURATION, SCHEMA_MEMBER_(T, m, unsigned)

struct schema_section {
	const char *name; /* [name], or [name0] .. for an indexed section */
	const struct schema_field *fields;
	size_t n_fields;
	/* Indexed sections: at most max_items items; item(obj, i, add) is item i, made when add is
	 * true (and i is the next one, or any one for the file), NULL otherwise; n_items counts them. */
	size_t max_items;
	void *(*item)(void *obj, size_t i, bool add);
	size_t (*n_items)(const void *obj);
};

struct schema {
	const char *kind; /* "network" */
	const struct schema_section *sections;
	size_t n_sections;
};

#define SCHEMA_MSG_MAX 512

/* ---- helpers for parse and format functions (the messages are the engine's, on every path) ---- */

/* Writes the message into err; returns -EINVAL. */
int schema_error(char *err, size_t errlen, const char *fmt, ...) _printf_(3, 4);
/* "invalid LABEL 'v': why" (v escaped); returns -EINVAL. */
int schema_invalid(char *err, size_t errlen, const char *label, const char *v, const char *why);
/* s into buf: 1, or 0 when s is NULL or empty (the field is unset). s may be buf. */
int schema_format_text(char *buf, size_t size, const char *s);

/* A decimal number up to max: "invalid LABEL 'v': expected a number". */
int schema_parse_uint(const char *label, const char *v, unsigned max, unsigned *ret, char *err,
		      size_t errlen);
/* The same in [min, max]: "LABEL is out of range (min-max)" beyond it. */
int schema_parse_uint_range(const char *label, const char *v, unsigned min, unsigned max, unsigned *ret,
			    char *err, size_t errlen);
/* yes/no, true/false, on/off, 1/0: "invalid LABEL 'v': expected yes or no". */
int schema_parse_bool(const char *label, const char *v, bool *ret, char *err, size_t errlen);
/* A positive duration: 90, 90s, 2m, 1h: "invalid duration 'v': expected e.g. 60s, 2m". */
int schema_parse_duration(const char *v, unsigned *ret_sec, char *err, size_t errlen);

/* ---- the definition file ---- */

/* Parse INI text into obj (initialised by the caller). On failure err is "line N: why". */
int schema_ini_parse(const struct schema *s, void *obj, const char *text, char *err, size_t errlen);
/* The file's text: the comment line, then schema_ini_render(). Caller frees; NULL with errno. */
char *schema_ini_render_text(const struct schema *s, const void *obj, const char *comment);
/* Write obj's sections (the first one's header always, the others' only when they hold a value)
 * to f. -EINVAL when a value would not read back as itself. */
int schema_ini_render(const struct schema *s, const void *obj, FILE *f);

/* ---- requests ---- */

/* Fill obj from request parameters (NULL: none); every field of the table that has a JSON name. */
int schema_json_parse(const struct schema *s, void *obj, json_object *params, char *err, size_t errlen);
/* The same, but a parameter that is neither a field's JSON name nor one of extra (the method's own
 * parameters, NULL-terminated; NULL: none) is refused, "unknown parameter 'x'": a request asking for
 * something this netd would not do (a newer client's setting, a misspelled key, a dry_run that
 * would create) is never carried out without it. What every method taking a schema uses. */
int schema_json_parse_strict(const struct schema *s, void *obj, json_object *params, const char *const *extra,
			     char *err, size_t errlen);
/* Whether key is a row's JSON name of s, or one of extra (a NULL-terminated list; may be NULL). */
bool schema_json_name_known(const struct schema *s, const char *const *extra, const char *key);
/* Add obj's SCHEMA_SHOW fields of the plain sections to o. */
void schema_json_show(const struct schema *s, const void *obj, json_object *o);

/* ---- the command line (netdctl) ---- */

/* Fields with a flag are numbered 0.. in table order; getopt_long options with val = base + that
 * number, NULL-terminated (at most max - 1 of them). Returns how many. */
size_t schema_cli_options(const struct schema *s, int base, struct option *opts, size_t max);
/* Option number idx with its value (NULL for one without): into params as the request wants it.
 * A single-value option given twice, or a value that is not of the option's type, is refused. */
int schema_cli_apply(const struct schema *s, size_t idx, const char *value, json_object *params, char *err,
		     size_t errlen);
/* "--flag" of a required option that params lacks, else NULL. */
const char *schema_cli_missing(const struct schema *s, json_object *params);
/* The options as --help lists them ("[--subnet CIDR|auto] [--host MAC,IP]..."), wrapped at width
 * with continuation lines indented by indent spaces; col is where the first starts. */
void schema_cli_usage(const struct schema *s, FILE *f, size_t col, size_t indent, size_t width);
