/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * For the fuzzers: walk a kind's schema table (common/schema.h). One value of one setting goes in
 * through the definition file, a request and netdctl's options; all three must agree on whether it
 * is good and, when it is not, say the same thing. A good single value given twice in a file is
 * refused; a good definition renders to a file that parses back to the same text.
 */
#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inifile.h"
#include "macro.h"
#include "schema.h"

struct walk_kind {
	const struct schema *schema;
	void *(*new)(void);
	void (*free)(void *obj);
};

struct walk_field {
	const struct schema_section *sec;
	const struct schema_field *f;
};

/* Settings one value can be given to alone: a plain section's, or the one that makes an item. */
_unused_ static size_t walk_fields(const struct schema *s, struct walk_field *ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_sections; i++)
		for (size_t k = 0; k < s->sections[i].n_fields && n < max; k++) {
			const struct schema_section *sec = &s->sections[i];
			const struct schema_field *f = &sec->fields[k];

			if (sec->max_items && !(f->flags & SCHEMA_ADDS_ITEM))
				continue;
			ret[n++] = (struct walk_field){ sec, f };
		}
	return n;
}

_unused_ static int walk_file(const struct walk_kind *k, const struct walk_field *w, const char *value,
			      bool twice, char *err, size_t errlen)
{
	char *text;
	void *obj = k->new ();
	int r;

	if (!obj)
		abort();
	if (asprintf(&text, "[%s%s]\n%s = %s\n%s%s%s%s", w->sec->name, w->sec->max_items ? "0" : "",
		     w->f->key, value, twice ? w->f->key : "", twice ? " = " : "", twice ? value : "",
		     twice ? "\n" : "") < 0)
		abort();
	r = schema_ini_parse(k->schema, obj, text, err, errlen);
	free(text);
	k->free(obj);
	return r;
}

_unused_ static json_object *walk_json_value(const struct schema_field *f, const char *value)
{
	size_t digits = strspn(value, "0123456789");

	/* A number travels as a number when it is one (and fits), else as the text it is. */
	if ((f->type == SCHEMA_UINT || f->type == SCHEMA_DURATION) && digits && digits == strlen(value) &&
	    digits <= 9)
		return json_object_new_int64(strtoll(value, NULL, 10));
	return json_object_new_string(value);
}

_unused_ static int walk_request(const struct walk_kind *k, const struct walk_field *w, const char *value,
				 char *err, size_t errlen)
{
	json_object *params = json_object_new_object(), *v = walk_json_value(w->f, value);
	void *obj = k->new ();
	int r;

	if (!obj)
		abort();
	if (w->f->flags & (SCHEMA_REPEATABLE | SCHEMA_PER_ITEM)) {
		json_object *a = json_object_new_array();

		json_object_array_add(a, v);
		v = a;
	}
	json_object_object_add(params, w->f->json, v);
	r = schema_json_parse(k->schema, obj, params, err, errlen);
	json_object_put(params);
	k->free(obj);
	return r;
}

_unused_ static int walk_cli(const struct walk_kind *k, const struct walk_field *w, const char *value,
			     char *err, size_t errlen)
{
	struct option opts[64];
	size_t n = schema_cli_options(k->schema, 0, opts, ELEMENTSOF(opts)), i;
	json_object *params = json_object_new_object();
	void *obj = k->new ();
	int r;

	if (!obj)
		abort();
	for (i = 0; i < n && strcmp(opts[i].name, w->f->flag); i++)
		;
	if (i == n)
		abort(); /* a flag the options do not list */
	r = schema_cli_apply(k->schema, i, value, params, err, errlen);
	if (r >= 0)
		r = schema_json_parse(k->schema, obj, params, err, errlen);
	json_object_put(params);
	k->free(obj);
	return r;
}

_unused_ static void walk_disagree(const char *what, const struct schema_field *f, const char *value, int r1,
				   const char *e1, int r2, const char *e2)
{
	fprintf(stderr, "schema walk: %s disagree on %s = '%s': %d '%s' / %d '%s'\n", what, f->label, value,
		r1, e1, r2, e2);
	abort();
}

/* data: the first byte picks the setting, the rest (to a NUL) is its value. */
_unused_ static void walk_value(const struct walk_kind *k, const uint8_t *data, size_t size)
{
	struct walk_field fields[64];
	size_t n = walk_fields(k->schema, fields, ELEMENTSOF(fields));
	char value[512], file_err[SCHEMA_MSG_MAX] = "", req_err[SCHEMA_MSG_MAX] = "",
			 cli_err[SCHEMA_MSG_MAX] = "";
	const struct walk_field *w;
	const char *file_msg;
	int rf, rr, rc;

	if (size < 2 || n == 0)
		return;
	w = &fields[data[0] % n];
	snprintf(value, sizeof(value), "%.*s", (int)strnlen((const char *)data + 1, size - 1),
		 (const char *)data + 1);
	/* Only what the file carries as it is: one line, no blank at an end, no comment. */
	if (!w->f->key || !w->f->json || strpbrk(value, "\r\n") || inifile_value_invalid_reason(value))
		return;
	rf = walk_file(k, w, value, false, file_err, sizeof(file_err));
	rr = walk_request(k, w, value, req_err, sizeof(req_err));
	file_msg = rf < 0 && strstr(file_err, ": ") ? strstr(file_err, ": ") + 2 : file_err;
	if ((rf < 0) != (rr < 0) || (rf < 0 && strcmp(file_msg, req_err)))
		walk_disagree("file and request", w->f, value, rf, file_err, rr, req_err);
	if (w->f->flag && !w->f->flag_value && w->f->type != SCHEMA_DURATION) {
		rc = walk_cli(k, w, value, cli_err, sizeof(cli_err));
		if ((rc < 0) != (rr < 0) || (rc < 0 && strcmp(cli_err, req_err)))
			walk_disagree("command line and request", w->f, value, rc, cli_err, rr, req_err);
	}
	/* A good single value, twice: refused, whatever it is. */
	if (rf >= 0 && !(w->f->flags & SCHEMA_REPEATABLE) &&
	    (walk_file(k, w, value, true, file_err, sizeof(file_err)) >= 0 ||
	     !strstr(file_err, "is given twice")))
		walk_disagree("file and the one-value rule", w->f, value, rf, file_err, 0, "");
}

/* A definition that parsed renders to a file that parses back to the same text. */
_unused_ static void walk_roundtrip(const struct walk_kind *k, const void *obj)
{
	char *once = NULL, *twice = NULL, err[SCHEMA_MSG_MAX];
	size_t len;
	FILE *f = open_memstream(&once, &len);
	void *back = k->new ();
	int r;

	if (!f || !back)
		abort();
	r = schema_ini_render(k->schema, obj, f);
	fclose(f);
	if (r >= 0) {
		if (schema_ini_parse(k->schema, back, once, err, sizeof(err)) < 0)
			walk_disagree("render and parse", &k->schema->sections[0].fields[0], once, r, err, 0,
				      "");
		f = open_memstream(&twice, &len);
		if (!f || schema_ini_render(k->schema, back, f) < 0)
			abort();
		fclose(f);
		if (strcmp(once, twice))
			walk_disagree("render, parse and render", &k->schema->sections[0].fields[0], once, 0,
				      twice, 0, "");
	}
	free(once);
	free(twice);
	k->free(back);
}
