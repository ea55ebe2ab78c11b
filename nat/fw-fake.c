/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recording nftables backend (see firewall.h): what the daemon applied, for unit tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakelog.h"
#include "firewall.h"
#include "macro.h"

/* A table as the last script that named it left it. */
struct fake_table {
	char name[96]; /* "FAMILY TABLE" */
	char *script; /* NULL: deleted */
	char marker[128]; /* a marker element added since the script ("add element ... marker { ... }") */
};

struct fw_fake {
	struct fake_log log;
	struct fake_table *tables;
	size_t n_tables;
	unsigned applies, fail_at;
	char *ruleset; /* the other tables, as fw_nft_foreign_ruleset() lists them */
};

static struct fake_table *table_get(struct fw_fake *f, const char *name, bool create)
{
	struct fake_table *l;

	for (size_t i = 0; i < f->n_tables; i++)
		if (!strcmp(f->tables[i].name, name))
			return &f->tables[i];
	if (!create || !(l = reallocarray(f->tables, f->n_tables + 1, sizeof(*l))))
		return NULL;
	f->tables = l;
	l = &f->tables[f->n_tables++];
	*l = (struct fake_table){};
	snprintf(l->name, sizeof(l->name), "%s", name);
	return l;
}

/* Every "table FAMILY NAME {" (or "delete table FAMILY NAME") of the script: the table as the
 * script leaves it. The renderers replace whole tables ("table ...; delete table ...; table ...
 * {...}"), so the last mention decides. A change that only adds or removes elements ("add element
 * ...") leaves the table's marker as it was. */
/* The marker of an element's text: "netd" . "0123abcd" . "4567ef01" . "42" (what fw_render writes). */
static void marker_from_text(const char *p, char *buf, size_t size)
{
	char names[4][16];
	const char *v[4];

	if (sscanf(p, "\"%15[^\"]\" . \"%15[^\"]\" . \"%15[^\"]\" . \"%15[^\"]\"", names[0], names[1],
		   names[2], names[3]) != 4)
		return;
	for (int i = 0; i < 4; i++)
		v[i] = names[i];
	fw_marker_from_names(v, buf, size);
}

static int remember(struct fw_fake *f, const char *script)
{
	for (const char *p = script; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char family[16], name[64], full[96], set[64];
		bool del = !strncmp(p, "delete table ", 13);
		struct fake_table *t;
		int n = 0;

		if (sscanf(p, "add element %15s %63s %63s { %n", family, name, set, &n) == 3 && n &&
		    !strcmp(set, FW_MARKER_SET)) {
			snprintf(full, sizeof(full), "%s %s", family, name);
			t = table_get(f, full, false);
			if (t)
				marker_from_text(p + n, t->marker, sizeof(t->marker));
			continue;
		}
		if (sscanf(p + (del ? 13 : 0), del ? "%15s %63s" : "table %15s %63s", family, name) != 2)
			continue;
		if (!del && !strstr(p, "{"))
			continue; /* "table inet netd" alone makes sure the delete after it has a table */
		snprintf(full, sizeof(full), "%s %s", family, name);
		t = table_get(f, full, true);
		if (!t)
			return -ENOMEM;
		free(t->script);
		t->script = del ? NULL : strdup(p);
		t->marker[0] = 0;
		if (!del && !t->script)
			return -ENOMEM;
	}
	return 0;
}

static int fake_apply(void *userdata, const char *script, char *err, size_t errlen)
{
	struct fw_fake *f = userdata;
	size_t lines = 0;

	for (const char *p = script; *p; p++)
		lines += *p == '\n';
	f->applies++;
	fake_log_add(&f->log, "nft %.*s (%zu lines)", (int)strcspn(script, "\n"), script, lines);
	if (f->fail_at && f->applies == f->fail_at) {
		snprintf(err, errlen, "fake: apply %u fails", f->applies);
		return -EIO;
	}
	return remember(f, script);
}

/* The comment of set marker_set, as the script wrote it: set NAME { ... comment "X" ... }. */
static int fake_table_state(void *userdata, const char *family, const char *table, const char *marker_set,
			    char *marker, size_t size, size_t *ret_rules, size_t *ret_elements)
{
	struct fw_fake *f = userdata;
	char full[96], set[96];
	struct fake_table *t;
	const char *p, *c, *e, *colon;

	snprintf(full, sizeof(full), "%s %s", family, table);
	t = table_get(f, full, false);
	if (!t || !t->script)
		return -ENOENT;
	snprintf(set, sizeof(set), "set %s {", marker_set);
	p = strstr(t->script, set);
	c = p ? strstr(p, "comment \"") : NULL;
	e = p ? strstr(p, "elements = { ") : NULL;
	snprintf(marker, size, "%.*s", c ? (int)strcspn(c + 9, "\"") : 0, c ? c + 9 : "");
	if (!strcmp(marker_set, FW_MARKER_SET) && t->marker[0])
		snprintf(marker, size, "%s", t->marker);
	else if (!strcmp(marker_set, FW_MARKER_SET) && e)
		marker_from_text(e + 13, marker, size);
	/* An intact table: as many rules and elements as its marker counts. */
	colon = strrchr(marker, ':');
	*ret_rules = colon ? strtoul(colon + 1, NULL, 10) : 0;
	*ret_elements = 0;
	return 0;
}

static int fake_ruleset(void *userdata, char **ret_json)
{
	struct fw_fake *f = userdata;

	*ret_json = strdup(f->ruleset ?: "");
	return *ret_json ? 0 : -ENOMEM;
}

int fw_fake_set_ruleset(struct fw_fake *f, const char *json)
{
	char *copy = json ? strdup(json) : NULL;

	if (json && !copy)
		return -ENOMEM;
	free(f->ruleset);
	f->ruleset = copy;
	return 0;
}

static int fake_monitor_open(void *userdata)
{
	return -EOPNOTSUPP;
}

static int fake_monitor_read(void *userdata, int fd, pid_t self)
{
	return 0;
}

static const struct fw_ops fake_ops = {
	.name = "fake",
	.apply = fake_apply,
	.table_state = fake_table_state,
	.ruleset = fake_ruleset,
	.monitor_open = fake_monitor_open,
	.monitor_read = fake_monitor_read,
};

int fw_fake_new(struct fw_fake **ret, struct fw_backend *ret_backend)
{
	struct fw_fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->log.name = "nft";
	*ret = f;
	*ret_backend = (struct fw_backend){ .ops = &fake_ops, .userdata = f };
	return 0;
}

void fw_fake_free(struct fw_fake *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_tables; i++)
		free(f->tables[i].script);
	free(f->tables);
	free(f->ruleset);
	fake_log_clear(&f->log);
	free(f);
}

const char *fw_fake_log(struct fw_fake *f)
{
	return fake_log_text(&f->log);
}

const char *fw_fake_table(struct fw_fake *f, const char *name)
{
	struct fake_table *t = table_get(f, name, false);

	return t ? t->script : NULL;
}

void fw_fake_flush(struct fw_fake *f)
{
	for (size_t i = 0; i < f->n_tables; i++) {
		free(f->tables[i].script);
		f->tables[i].script = NULL;
		f->tables[i].marker[0] = 0;
	}
}

void fw_fake_clear_log(struct fw_fake *f)
{
	fake_log_clear(&f->log);
}

void fw_fake_fail_at(struct fw_fake *f, unsigned n)
{
	f->applies = 0;
	f->fail_at = n;
}
