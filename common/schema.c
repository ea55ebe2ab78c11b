/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine that walks a kind's schema table for the file, requests, the command line and show. */
#include "schema.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "inifile.h"
#include "macro.h"
#include "names.h"

/* The longest value a field formats: a path, an append line. */
#define VALUE_MAX INIFILE_LINE_MAX

int schema_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int schema_invalid(char *err, size_t errlen, const char *label, const char *v, const char *why)
{
	char e[256];

	return schema_error(err, errlen, "invalid %s '%s': %s", label, text_escape(v, e, sizeof(e)), why);
}

int schema_format_text(char *buf, size_t size, const char *s)
{
	if (!s || !*s)
		return 0;
	if (s != buf)
		snprintf(buf, size, "%s", s);
	return 1;
}

int schema_parse_uint(const char *label, const char *v, unsigned max, unsigned *ret, char *err, size_t errlen)
{
	unsigned long long u = 0;

	if (!*v || strlen(v) > 10 || strspn(v, "0123456789") != strlen(v) ||
	    (u = strtoull(v, NULL, 10)) > max)
		return schema_invalid(err, errlen, label, v, "expected a number");
	*ret = u;
	return 0;
}

int schema_parse_uint_range(const char *label, const char *v, unsigned min, unsigned max, unsigned *ret,
			    char *err, size_t errlen)
{
	unsigned u;
	int r = schema_parse_uint(label, v, UINT_MAX, &u, err, errlen);

	if (r < 0)
		return r;
	if (u < min || u > max)
		return schema_error(err, errlen, "%s is out of range (%u-%u)", label, min, max);
	*ret = u;
	return 0;
}

int schema_parse_bool(const char *label, const char *v, bool *ret, char *err, size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off",
										       "0" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++)
		if (!strcmp(v, yes[i]) || !strcmp(v, no[i])) {
			*ret = !strcmp(v, yes[i]);
			return 0;
		}
	return schema_invalid(err, errlen, label, v, "expected yes or no");
}

int schema_parse_duration(const char *v, unsigned *ret_sec, char *err, size_t errlen)
{
	char *end, e[64];
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (!errno && end != v && n > 0 && n <= UINT_MAX / 3600) {
		if (!strcmp(end, "m"))
			n *= 60;
		else if (!strcmp(end, "h"))
			n *= 3600;
		else if (*end && strcmp(end, "s"))
			n = 0;
		if (n > 0) {
			*ret_sec = n;
			return 0;
		}
	}
	return schema_error(err, errlen, "invalid duration '%s': expected e.g. 60s, 2m",
			    text_escape(v, e, sizeof(e)));
}

/* ---- typed rows ---- */

/* Seconds (a request's number), or a duration like 2m; then the row's range. */
static int parse_seconds(const struct schema_field *f, const char *v, unsigned *ret, char *err, size_t errlen)
{
	int r;

	if (*v && strspn(v, "0123456789") == strlen(v))
		r = schema_parse_uint(f->label, v, UINT_MAX, ret, err, errlen);
	else
		r = schema_parse_duration(v, ret, err, errlen);
	if (r < 0)
		return r;
	if (f->max && (*ret < f->min || *ret > f->max))
		return schema_error(err, errlen, "%s must be between %u and %u seconds", f->label, f->min,
				    f->max);
	return 0;
}

static int typed_parse(const struct schema_field *f, void *target, const char *v, char *err, size_t errlen)
{
	void *p = (char *)target + f->offset;
	const char *why;
	unsigned u;
	int r;

	switch (f->type) {
	case SCHEMA_STRING:
		why = f->check ? f->check(v) : NULL;
		if (why)
			return schema_invalid(err, errlen, f->label, v, why);
		if (strlen(v) >= f->size) {
			schema_error(err, errlen, "%s is too long (at most %zu bytes)", f->label,
				     f->size - 1);
			return -ENAMETOOLONG;
		}
		snprintf(p, f->size, "%s", v);
		return 0;
	case SCHEMA_BOOL:
		return schema_parse_bool(f->label, v, p, err, errlen);
	case SCHEMA_UINT:
		r = f->max ? schema_parse_uint_range(f->label, v, f->min, f->max, &u, err, errlen) :
			     schema_parse_uint(f->label, v, SCHEMA_UINT_ANY, &u, err, errlen);
		break;
	default:
		r = parse_seconds(f, v, &u, err, errlen);
		break;
	}
	if (r < 0)
		return r;
	*(unsigned *)p = u;
	return 0;
}

static int typed_format(const struct schema_field *f, const void *obj, char *buf, size_t size)
{
	const void *p = (const char *)obj + f->offset;
	unsigned u;

	switch (f->type) {
	case SCHEMA_STRING:
		return schema_format_text(buf, size, p);
	case SCHEMA_BOOL:
		return schema_format_text(buf, size, *(const bool *)p ? "yes" : "no");
	default:
		u = *(const unsigned *)p;
		if (!u && (f->flags & SCHEMA_ZERO_UNSET))
			return 0;
		snprintf(buf, size, "%u", u);
		return 1;
	}
}

/* ---- walking the table ---- */

static bool is_indexed(const struct schema_section *sec)
{
	return sec->max_items > 0;
}

/* Whether the row has values to write and show: a typed row, or one with a format function. */
static bool has_format(const struct schema_field *f)
{
	return !f->parse || f->format;
}

/* Value number i of the row (a typed row has one). */
static int field_format(const struct schema_field *f, const void *obj, size_t i, char *buf, size_t size)
{
	if (f->parse)
		return f->format(obj, i, buf, size);
	return i == 0 ? typed_format(f, obj, buf, size) : 0;
}

/* Parse one value into target: the field's own message, or a generic one; then, for a value that
 * goes to the file, whether the file can hold it (the same rule on every path). */
static int field_parse(const struct schema_field *f, void *target, const char *value, char *err,
		       size_t errlen)
{
	const char *why;
	char e[256];
	int r;

	err[0] = 0;
	r = f->parse ? f->parse(target, value, err, errlen) : typed_parse(f, target, value, err, errlen);
	if (r < 0) {
		if (!err[0])
			schema_error(err, errlen, "invalid %s '%s'", f->label,
				     text_escape(value, e, sizeof(e)));
		return r == -ENOKEY ? -EINVAL : r;
	}
	why = f->key ? inifile_value_invalid_reason(value) : NULL;
	if (why)
		return schema_invalid(err, errlen, f->label, value, why);
	return 0;
}

/* ---- the definition file ---- */

struct ini_ctx {
	const struct schema *s;
	void *obj;
	struct inifile file;
	int *first_line; /* per (section, item, field): where a single value was given */
	int err_line;
	char *err;
	size_t errlen;
	int r;
};

static size_t section_slots(const struct schema_section *sec)
{
	return sec->n_fields * (is_indexed(sec) ? sec->max_items : 1);
}

/* The section [name] stands for, and its item for an indexed one ("nic3": 3). */
static const struct schema_section *section_find(const struct schema *s, const char *name, size_t *ret_item,
						 size_t *ret_slot)
{
	size_t slot = 0;

	for (size_t i = 0; i < s->n_sections; slot += section_slots(&s->sections[i]), i++) {
		const struct schema_section *sec = &s->sections[i];
		size_t len = strlen(sec->name);
		const char *idx = name + len;

		if (strncmp(name, sec->name, len))
			continue;
		if (!is_indexed(sec)) {
			if (*idx)
				continue;
			*ret_item = 0;
		} else {
			if (!*idx || strlen(idx) > 3 || strspn(idx, "0123456789") != strlen(idx) ||
			    (idx[0] == '0' && idx[1]) || (size_t)atoi(idx) >= sec->max_items)
				continue;
			*ret_item = atoi(idx);
		}
		*ret_slot = slot;
		return sec;
	}
	return NULL;
}

static int ini_value(struct ini_ctx *c, const char *section, const char *key, const char *value)
{
	const struct schema_section *sec;
	size_t item, slot;
	void *target;

	sec = section_find(c->s, section, &item, &slot);
	for (size_t i = 0; sec && i < sec->n_fields; i++) {
		const struct schema_field *f = &sec->fields[i];
		int *first = &c->first_line[slot + item * sec->n_fields + i];

		if (!f->key || strcmp(f->key, key))
			continue;
		if (!(f->flags & SCHEMA_REPEATABLE) && *first)
			return schema_error(
				c->err, c->errlen,
				"'%s' is given twice in [%s] (first on line %d); it takes one value", key,
				section, *first);
		target = is_indexed(sec) ? sec->item(c->obj, item, true) : c->obj;
		if (!target)
			return schema_error(c->err, c->errlen, "section [%s] cannot be used here", section);
		*first = c->file.line;
		return field_parse(f, target, value, c->err, c->errlen);
	}
	return schema_error(c->err, c->errlen, "unknown key '%s' in section [%s]", key, section);
}

static int ini_line(void *user, const char *section, const char *key, const char *value)
{
	struct ini_ctx *c = user;

	if (c->r < 0)
		return 1; /* the first error is the one reported */
	c->err_line = c->file.line;
	c->r = ini_value(c, section, key, value);
	return c->r >= 0;
}

int schema_ini_parse(const struct schema *s, void *obj, const char *text, char *err, size_t errlen)
{
	_cleanup_free_ int *first_line = NULL;
	char msg[SCHEMA_MSG_MAX] = "";
	struct ini_ctx c = { .s = s, .obj = obj, .err = msg, .errlen = sizeof(msg) };
	size_t slots = 0;
	int line;

	for (size_t i = 0; i < s->n_sections; i++)
		slots += section_slots(&s->sections[i]);
	first_line = c.first_line = calloc(slots ? slots : 1, sizeof(int));
	if (!first_line)
		return -ENOMEM;
	line = inifile_parse(&c.file, text, ini_line, &c);
	if (line == 0)
		return 0;
	if (c.file.too_long)
		snprintf(err, errlen, "line %d: longer than %d characters", line, INIFILE_LINE_MAX);
	else if (c.r < 0 && c.err_line == line)
		snprintf(err, errlen, "line %d: %s", line, msg);
	else
		snprintf(err, errlen, "line %d: syntax error", line);
	return -EINVAL;
}

/* The lines of one section (item) into f; -EINVAL for a value the file could not hold. */
static int render_fields(const struct schema_section *sec, const void *obj, FILE *f)
{
	_cleanup_free_ char *buf = malloc(VALUE_MAX);

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < sec->n_fields; i++) {
		const struct schema_field *fl = &sec->fields[i];

		for (size_t k = 0; fl->key && has_format(fl); k++) {
			int r = field_format(fl, obj, k, buf, VALUE_MAX);

			if (r <= 0) {
				if (r < 0)
					return r;
				break;
			}
			if (!(fl->flags & SCHEMA_OMIT_DEFAULT) || strcmp(buf, fl->def)) {
				if (inifile_value_invalid_reason(buf))
					return -EINVAL;
				fprintf(f, "%s = %s\n", fl->key, buf);
			}
			if (!(fl->flags & SCHEMA_REPEATABLE))
				break;
		}
	}
	return 0;
}

/* One section or item: its header and lines, the header only when needed. */
static int render_section(const struct schema_section *sec, const void *obj, const char *header, bool always,
			  FILE *f)
{
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&body, &len);
	int r;

	if (!m)
		return -ENOMEM;
	r = render_fields(sec, obj, m);
	if (fclose(m) != 0)
		return -ENOMEM;
	if (r < 0)
		return r;
	if (always || len)
		fprintf(f, "%s%s", header, body);
	return 0;
}

char *schema_ini_render_text(const struct schema *s, const void *obj, const char *comment)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return NULL;
	fprintf(f, "%s\n", comment);
	r = schema_ini_render(s, obj, f);
	if (fclose(f) != 0 || r < 0) {
		free(text);
		errno = r < 0 ? -r : ENOMEM;
		return NULL;
	}
	return text;
}

int schema_ini_render(const struct schema *s, const void *obj, FILE *f)
{
	char header[64];
	int r = 0;

	for (size_t i = 0; i < s->n_sections && r >= 0; i++) {
		const struct schema_section *sec = &s->sections[i];

		if (!is_indexed(sec)) {
			snprintf(header, sizeof(header), "%s[%s]\n", i ? "\n" : "", sec->name);
			r = render_section(sec, obj, header, i == 0, f);
			continue;
		}
		for (size_t k = 0; k < sec->n_items(obj) && r >= 0; k++) {
			snprintf(header, sizeof(header), "\n[%s%zu]\n", sec->name, k);
			r = render_section(sec, sec->item((void *)obj, k, false), header, true, f);
		}
	}
	return r;
}

/* ---- requests ---- */

/* A string of a request: none with a NUL inside (C would cut it there). */
static const char *json_text(json_object *v)
{
	const char *s = json_object_get_string(v);

	return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

/* The text of a single value as the field's parser reads it. */
static int json_value_text(const struct schema_field *f, json_object *v, char *buf, size_t size,
			   const char **ret, char *err, size_t errlen)
{
	if (json_object_is_type(v, json_type_string)) {
		*ret = json_text(v);
		if (*ret)
			return 0;
		return schema_error(err, errlen, "parameter '%s' must be a string without NUL characters",
				    f->json);
	}
	switch (f->type) {
	case SCHEMA_UINT:
	case SCHEMA_DURATION:
		if (!json_object_is_type(v, json_type_int))
			return schema_error(err, errlen, "parameter '%s' must be a number", f->json);
		snprintf(buf, size, "%" PRId64, json_object_get_int64(v));
		break;
	case SCHEMA_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return schema_error(err, errlen, "parameter '%s' must be true or false", f->json);
		snprintf(buf, size, "%s", json_object_get_boolean(v) ? "yes" : "no");
		break;
	default:
		return schema_error(err, errlen, "parameter '%s' must be a string without NUL characters",
				    f->json);
	}
	*ret = buf;
	return 0;
}

static const struct schema_field *section_adder(const struct schema_section *sec)
{
	for (size_t i = 0; i < sec->n_fields; i++)
		if (sec->fields[i].flags & SCHEMA_ADDS_ITEM)
			return &sec->fields[i];
	return NULL;
}

/* Each element of an array parameter: one more value, or item i's value. */
static int json_array(const struct schema_section *sec, const struct schema_field *f, void *obj,
		      json_object *a, char *err, size_t errlen)
{
	const struct schema_field *adder = section_adder(sec);

	if (!json_object_is_type(a, json_type_array))
		return schema_error(err, errlen, "parameter '%s' must be an array of strings", f->json);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *v = json_object_array_get_idx(a, i);
		void *target = obj;
		const char *text;
		int r;

		if (!json_object_is_type(v, json_type_string))
			return schema_error(err, errlen, "parameter '%s' must be an array of strings",
					    f->json);
		text = json_text(v);
		if (!text)
			return schema_error(err, errlen, "parameter '%s' contains a NUL character", f->json);
		if (f->flags & SCHEMA_PER_ITEM) {
			if (i >= sec->max_items)
				return schema_error(err, errlen, "at most %zu %s", sec->max_items, f->label);
			target = sec->item(obj, i, f->flags & SCHEMA_ADDS_ITEM);
			if (!target)
				return schema_error(err, errlen, "more --%s than --%s options", f->flag,
						    adder ? adder->flag : "");
		}
		r = field_parse(f, target, text, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

static int json_field(const struct schema_section *sec, const struct schema_field *f, void *obj,
		      json_object *v, char *err, size_t errlen)
{
	char buf[32];
	const char *text;
	int r;

	if (f->flags & (SCHEMA_REPEATABLE | SCHEMA_PER_ITEM))
		return json_array(sec, f, obj, v, err, errlen);
	r = json_value_text(f, v, buf, sizeof(buf), &text, err, errlen);
	if (r < 0)
		return r;
	if (!is_indexed(sec))
		return field_parse(f, obj, text, err, errlen);
	/* SCHEMA_ALL_ITEMS: the one value is every item's */
	for (size_t i = 0; i < sec->n_items(obj); i++) {
		r = field_parse(f, sec->item(obj, i, false), text, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

int schema_json_parse(const struct schema *s, void *obj, json_object *params, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->n_sections; i++) {
		const struct schema_section *sec = &s->sections[i];

		for (size_t k = 0; k < sec->n_fields; k++) {
			const struct schema_field *f = &sec->fields[k];
			json_object *v;
			int r;

			if (!f->json || !params || !json_object_object_get_ex(params, f->json, &v) ||
			    json_object_is_type(v, json_type_null))
				continue;
			r = json_field(sec, f, obj, v, err, errlen);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

bool schema_json_name_known(const struct schema *s, const char *const *extra, const char *key)
{
	for (size_t i = 0; extra && extra[i]; i++)
		if (!strcmp(extra[i], key))
			return true;
	for (size_t i = 0; i < s->n_sections; i++)
		for (size_t k = 0; k < s->sections[i].n_fields; k++)
			if (s->sections[i].fields[k].json && !strcmp(s->sections[i].fields[k].json, key))
				return true;
	return false;
}

int schema_json_parse_strict(const struct schema *s, void *obj, json_object *params, const char *const *extra,
			     char *err, size_t errlen)
{
	char e[128];

	if (params && !json_object_is_type(params, json_type_object))
		return schema_error(err, errlen, "parameters must be a JSON object");
	if (params) {
		json_object_object_foreach(params, key, val) {
			(void)val;
			if (!schema_json_name_known(s, extra, key))
				return schema_error(err, errlen,
						    "unknown parameter '%s' (this netd has no such setting)",
						    text_escape(key, e, sizeof(e)));
		}
	}
	return schema_json_parse(s, obj, params, err, errlen);
}

static json_object *show_value(const struct schema_field *f, const char *text)
{
	switch (f->type) {
	case SCHEMA_UINT:
	case SCHEMA_DURATION:
		return json_object_new_int64(strtoll(text, NULL, 10));
	case SCHEMA_BOOL:
		return json_object_new_boolean(!strcmp(text, "yes"));
	default:
		return json_object_new_string(text);
	}
}

static json_object *show_field(const struct schema_field *f, const void *obj, char *buf, size_t size)
{
	json_object *a;

	if (!(f->flags & SCHEMA_REPEATABLE))
		return field_format(f, obj, 0, buf, size) > 0 ? show_value(f, buf) : NULL;
	a = json_object_new_array();
	for (size_t i = 0; field_format(f, obj, i, buf, size) > 0; i++)
		json_object_array_add(a, show_value(f, buf));
	return a;
}

void schema_json_show(const struct schema *s, const void *obj, json_object *o)
{
	_cleanup_free_ char *buf = malloc(VALUE_MAX);

	for (size_t i = 0; buf && i < s->n_sections; i++) {
		const struct schema_section *sec = &s->sections[i];

		for (size_t k = 0; !is_indexed(sec) && k < sec->n_fields; k++)
			if (sec->fields[k].flags & SCHEMA_SHOW)
				json_object_object_add(o, sec->fields[k].json,
						       show_field(&sec->fields[k], obj, buf, VALUE_MAX));
	}
}

/* ---- the command line ---- */

/* Option number idx (fields with a flag, in table order). */
static const struct schema_field *cli_field(const struct schema *s, size_t idx)
{
	for (size_t i = 0; i < s->n_sections; i++)
		for (size_t k = 0; k < s->sections[i].n_fields; k++)
			if (s->sections[i].fields[k].flag && idx-- == 0)
				return &s->sections[i].fields[k];
	return NULL;
}

size_t schema_cli_options(const struct schema *s, int base, struct option *opts, size_t max)
{
	const struct schema_field *f;
	size_t n = 0;

	for (; n + 1 < max && (f = cli_field(s, n)); n++)
		opts[n] = (struct option){ f->flag, f->flag_value ? no_argument : required_argument, NULL,
					   base + (int)n };
	opts[n] = (struct option){};
	return n;
}

int schema_cli_apply(const struct schema *s, size_t idx, const char *value, json_object *params, char *err,
		     size_t errlen)
{
	const struct schema_field *f = cli_field(s, idx);
	json_object *a;
	unsigned u;
	bool b;
	int r = 0;

	if (!f)
		return -EINVAL;
	value = value ?: f->flag_value;
	if (f->flags & (SCHEMA_REPEATABLE | SCHEMA_PER_ITEM)) {
		if (!json_object_object_get_ex(params, f->json, &a)) {
			a = json_object_new_array();
			json_object_object_add(params, f->json, a);
		}
		json_object_array_add(a, json_object_new_string(value));
		return 0;
	}
	if (json_object_object_get_ex(params, f->json, NULL))
		return schema_error(err, errlen, "--%s is given twice; it takes one value", f->flag);
	switch (f->type) {
	case SCHEMA_UINT:
		r = schema_parse_uint(f->label, value, UINT_MAX, &u, err, errlen);
		break;
	case SCHEMA_DURATION:
		r = schema_parse_duration(value, &u, err, errlen);
		break;
	case SCHEMA_BOOL:
		r = schema_parse_bool(f->label, value, &b, err, errlen);
		break;
	default:
		break;
	}
	if (r < 0)
		return r;
	json_object_object_add(params, f->json,
			       f->type == SCHEMA_UINT || f->type == SCHEMA_DURATION ?
				       json_object_new_int64(u) :
			       f->type == SCHEMA_BOOL ? json_object_new_boolean(b) :
							json_object_new_string(value));
	return 0;
}

const char *schema_cli_missing(const struct schema *s, json_object *params)
{
	const struct schema_field *f;

	for (size_t n = 0; (f = cli_field(s, n)); n++)
		if ((f->flags & SCHEMA_REQUIRED) && !json_object_object_get_ex(params, f->json, NULL))
			return f->flag;
	return NULL;
}

void schema_cli_usage(const struct schema *s, FILE *f, size_t col, size_t indent, size_t width)
{
	const struct schema_field *fl;

	for (size_t n = 0; (fl = cli_field(s, n)); n++) {
		bool req = fl->flags & SCHEMA_REQUIRED;
		char tok[160];
		int len;

		len = snprintf(tok, sizeof(tok), "%s--%s%s%s%s%s", req ? "" : "[", fl->flag,
			       fl->metavar ? " " : "", fl->metavar ?: "", req ? "" : "]",
			       fl->flags & (SCHEMA_REPEATABLE | SCHEMA_PER_ITEM) ? "..." : "");
		if (col + 1 + len > width) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else {
			fputc(' ', f);
			col++;
		}
		fputs(tok, f);
		col += len;
	}
}
