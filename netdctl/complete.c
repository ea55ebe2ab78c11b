/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netdctl complete: the candidates for one word of a netdctl command line. Commands, options and
 * what an option or argument takes are read off the verb table --help prints (the synopsis of each
 * row, its schema's options, the text after them): a placeholder names what goes there (NETWORK,
 * GUEST, FILE, ...), a|b|c are the values there are. Live names are asked from netd.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "complete.h"
#include "macro.h"
#include "mode.h"
#include "protocol.h"

#define OPTS_MAX 128
#define POS_MAX 8
#define SPEC_MAX 160

struct copt {
	char name[48];
	bool flag; /* takes no value */
	char spec[SPEC_MAX]; /* its value as --help writes it ("tcp|udp", "PATH") */
};

/* A command (noun and verb, maybe several rows of the table) as its synopses write it. */
struct csyntax {
	const char *noun, *verb;
	struct copt opts[OPTS_MAX];
	size_t n_opts;
	char pos[POS_MAX][SPEC_MAX]; /* its arguments, of the row that has the most */
	size_t n_pos;
};

/* The options netdctl takes before the command (main()'s table; --json anywhere). */
static const struct copt global_opts[] = {
	{ "--socket", false, "PATH" },
	{ "--json", true, "" },
	{ "--help", true, "" },
	{ "--version", true, "" },
};

/* Placeholder words of --help and what they stand for. */
static const struct {
	const char *word;
	unsigned kinds;
} placeholders[] = {
	{ "NETWORK", COMPLETE_NETWORKS }, { "NET", COMPLETE_NETWORKS },	     { "GUEST", COMPLETE_GUESTS },
	{ "BRIDGE", COMPLETE_BRIDGES },	  { "IFNAME", COMPLETE_INTERFACES }, { "IFACE", COMPLETE_INTERFACES },
	{ "FILE", COMPLETE_FILES },	  { "PATH", COMPLETE_FILES },	     { "ISO", COMPLETE_FILES },
	{ "DIR", COMPLETE_DIRS },	  { "DISK", COMPLETE_DISKS },	     { "BASE", COMPLETE_DISKS },
	{ "MODE", COMPLETE_MODES },	  { "SNAP", COMPLETE_SNAPSHOTS },    { "ID", COMPLETE_FORWARDS },
};

/* What a noun's NAME (and SRC) is. */
static const struct {
	const char *noun;
	unsigned kinds;
} objects[] = {
	{ "network", COMPLETE_NETWORKS },
	{ "vm", COMPLETE_GUESTS },
	{ "disk", COMPLETE_DISKS },
	{ "uplink", COMPLETE_BRIDGES },
};

/* "--name..." or "-x" (a letter alone: "-o FILE", "[-o FILE]"). */
static bool is_option(const char *s)
{
	if (s[0] != '-')
		return false;
	if (s[1] == '-')
		return isalpha((unsigned char)s[2]);
	return isalpha((unsigned char)s[1]) && (!s[2] || strchr("]),;:|", s[2]));
}

static struct copt *opt_find(struct csyntax *c, const char *name, size_t len)
{
	for (size_t i = 0; i < c->n_opts; i++)
		if (strlen(c->opts[i].name) == len && !strncmp(c->opts[i].name, name, len))
			return &c->opts[i];
	return NULL;
}

/* The first row that names an option says what it takes. */
static void opt_add(struct csyntax *c, const char *name, size_t len, bool flag, const char *spec)
{
	struct copt *o;

	if (opt_find(c, name, len) || c->n_opts == OPTS_MAX || len >= sizeof(o->name))
		return;
	o = &c->opts[c->n_opts++];
	memcpy(o->name, name, len);
	o->name[len] = 0;
	o->flag = flag;
	snprintf(o->spec, sizeof(o->spec), "%s", spec ?: "");
}

/* The alternatives of a value, split at the '|' outside brackets ("PATH|NAME[,a=b|c]"): calls fn
 * on each one. */
static void spec_alternatives(const char *spec, void (*fn)(const char *alt, size_t len, void *u), void *u)
{
	int depth = 0;
	const char *start = spec;

	for (const char *p = spec;; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		if (*p == 0 || (*p == '|' && depth <= 0)) {
			fn(start, (size_t)(p - start), u);
			if (!*p)
				return;
			start = p + 1;
		}
	}
}

static void add_alt_option(const char *alt, size_t len, void *u)
{
	size_t n;

	while (len && *alt == '[')
		alt++, len--;
	if (len < 3 || !is_option(alt))
		return;
	for (n = 2; n < len && (isalnum((unsigned char)alt[n]) || alt[n] == '-'); n++)
		;
	opt_add(u, alt, n, true, NULL);
}

/* One line of a synopsis: its options into c, its arguments into pos; a word of description ends
 * it. Or the text after the options (args false): its options only. */
static void parse_words(struct csyntax *c, char *line, bool args, char pos[][SPEC_MAX], size_t *n_pos)
{
	char *save = NULL, *next;

	for (char *w = strtok_r(line, " ", &save); w; w = next) {
		const char *t = w + strspn(w, "[(");
		size_t len;

		next = strtok_r(NULL, " ", &save);
		if (is_option(t)) {
			const char *spec = NULL;

			for (len = 2; isalnum((unsigned char)t[len]) || t[len] == '-'; len++)
				;
			/* "[--force]", "--nat6]": no value; "--proto tcp|udp": the next word is it */
			if (!t[len] && next && next[0] != '|' && !is_option(next + strspn(next, "[")))
				spec = next;
			opt_add(c, t, len, !spec, spec);
			if (spec) {
				spec_alternatives(spec, add_alt_option, c);
				next = strtok_r(NULL, " ", &save);
			}
		} else if (args && strpbrk(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")) {
			if (*n_pos < POS_MAX)
				snprintf(pos[(*n_pos)++], SPEC_MAX, "%s", t);
		} else if (args && strcmp(t, "|")) {
			return; /* a placeholder is in capitals: a word in lower case is description */
		}
	}
}

static size_t verb_word_count(const char *verb)
{
	size_t n = 0;

	for (const char *p = verb; p && *p; p += strcspn(p, " "), p += *p == ' ')
		n++;
	return n;
}

/* The arguments of the synopsis with the most of them are the command's. */
static void keep_args(struct csyntax *c, char pos[][SPEC_MAX], size_t n_pos)
{
	if (n_pos > c->n_pos) {
		memcpy(c->pos, pos, n_pos * sizeof(pos[0]));
		c->n_pos = n_pos;
	}
}

/* A row's synopsis lines: the first line, and the lines indented less than the description, each
 * up to two spaces (where the description starts). */
static void parse_row(struct csyntax *c, const struct complete_cmd *row)
{
	char pos[POS_MAX][SPEC_MAX];
	size_t n_pos = 0, skip = 1 + verb_word_count(row->verb);
	_cleanup_free_ char *text = strdup(row->usage);
	char *save = NULL;

	if (!text)
		return;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t indent = strspn(line, " ");
		char *end;

		if (line != text && indent >= 30)
			continue;
		line += indent;
		end = strstr(line, "  ");
		if (end)
			*end = 0;
		/* a second synopsis ("  disk create NAME --backing BASE") starts with the command again */
		if (!strncmp(line, row->noun, strlen(row->noun)) && line[strlen(row->noun)] == ' ') {
			for (size_t i = 0; i < skip && *line; i++)
				line += strcspn(line, " "), line += *line == ' ';
			keep_args(c, pos, n_pos);
			n_pos = 0;
		}
		parse_words(c, line, true, pos, &n_pos);
	}
	keep_args(c, pos, n_pos);
}

static void parse_schema(struct csyntax *c, const struct schema *s)
{
	struct option o[OPTS_MAX];
	size_t n = schema_cli_options(s, 0, o, ELEMENTSOF(o));

	for (size_t i = 0; i < n; i++) {
		const struct schema_field *f = NULL;
		char name[64];

		/* the row of that flag, for its metavar */
		for (size_t k = 0; k < s->n_sections && !f; k++)
			for (size_t j = 0; j < s->sections[k].n_fields && !f; j++)
				if (s->sections[k].fields[j].flag &&
				    !strcmp(s->sections[k].fields[j].flag, o[i].name))
					f = &s->sections[k].fields[j];
		snprintf(name, sizeof(name), "--%s", o[i].name);
		opt_add(c, name, strlen(name), o[i].has_arg == no_argument,
			f && f->metavar ? f->metavar : "VALUE");
	}
}

static void syntax_init(struct csyntax *c, const struct complete_cmd *cmds, size_t n_cmds, const char *noun,
			const char *verb)
{
	*c = (struct csyntax){ .noun = noun, .verb = verb };
	for (size_t i = 0; i < n_cmds; i++) {
		if (strcmp(cmds[i].noun, noun) ||
		    (verb ? !cmds[i].verb || strcmp(cmds[i].verb, verb) : !!cmds[i].verb))
			continue;
		/* the schema's options first: their metavars are the ones --help shows */
		if (cmds[i].schema)
			parse_schema(c, cmds[i].schema);
		parse_row(c, &cmds[i]);
		if (cmds[i].tail) {
			_cleanup_free_ char *t = strdup(cmds[i].tail);
			char *save = NULL;

			for (char *line = t ? strtok_r(t, "\n", &save) : NULL; line;
			     line = strtok_r(NULL, "\n", &save))
				parse_words(c, line, false, NULL, NULL);
		}
	}
}

/* Is the verb's last word this one ("create" of "snapshot create")? */
static bool verb_ends(const struct csyntax *c, const char *last)
{
	const char *v = c->verb ? strrchr(c->verb, ' ') : NULL;

	return c->verb && !strcmp(v ? v + 1 : c->verb, last);
}

static unsigned object_kinds(const char *noun)
{
	for (size_t i = 0; i < ELEMENTSOF(objects); i++)
		if (!strcmp(objects[i].noun, noun))
			return objects[i].kinds;
	return 0;
}

struct alt_ctx {
	const struct csyntax *c;
	const char *opt; /* the option the value is of; NULL: an argument */
	FILE *f;
	unsigned kinds;
	bool path; /* the alternatives have a FILE or PATH: NAME is a pool disk (vm attach-disk) */
};

static unsigned placeholder_kinds(struct alt_ctx *a, const char *word, size_t len)
{
	if (len == 4 && !strncmp(word, "NAME", 4)) {
		if (a->path)
			return COMPLETE_DISKS;
		if (a->opt) { /* --guest NAME: a guest's */
			char up[48];
			size_t n = strlen(a->opt + 2);
			struct alt_ctx b = *a;

			if (n >= sizeof(up) || !strcmp(a->opt, "--name"))
				return 0;
			for (size_t i = 0; i < n; i++)
				up[i] = (char)toupper((unsigned char)a->opt[2 + i]);
			b.opt = NULL;
			return strncmp(up, "NAME", 4) ? placeholder_kinds(&b, up, n) : 0;
		}
		/* a new one: network create NAME, disk import FILE NAME (not vm snapshot create NAME) */
		if (a->c->verb && (!strcmp(a->c->verb, "create") || !strcmp(a->c->verb, "import")))
			return 0;
		return object_kinds(a->c->noun);
	}
	if (len == 3 && !strncmp(word, "SRC", 3))
		return object_kinds(a->c->noun);
	for (size_t i = 0; i < ELEMENTSOF(placeholders); i++)
		if (strlen(placeholders[i].word) == len && !strncmp(placeholders[i].word, word, len)) {
			if (placeholders[i].kinds == COMPLETE_SNAPSHOTS && verb_ends(a->c, "create"))
				return 0;
			return placeholders[i].kinds;
		}
	return 0;
}

static void scan_path(const char *alt, size_t len, void *u)
{
	struct alt_ctx *a = u;

	if ((len >= 4 && !strncmp(alt, "PATH", 4)) || (len >= 4 && !strncmp(alt, "FILE", 4)))
		a->path = true;
}

/* One alternative: a literal value (in lower case: "tcp,udp", "qcow2") is printed, a placeholder
 * adds what it stands for. */
static void complete_alt(const char *alt, size_t len, void *u)
{
	struct alt_ctx *a = u;
	size_t n;

	while (len && alt[len - 1] == '.')
		len--;
	while (len && strchr("]),;:", alt[len - 1]))
		len--;
	if (!len || is_option(alt) || *alt == '[')
		return;
	for (n = 0; n < len && (islower((unsigned char)alt[n]) || isdigit((unsigned char)alt[n]) ||
				strchr("+,._:/-", alt[n]));
	     n++)
		;
	if (n == len && isalnum((unsigned char)alt[0])) {
		fprintf(a->f, "%.*s\n", (int)len, alt);
		return;
	}
	for (n = 0; n < len && isupper((unsigned char)alt[n]); n++)
		;
	a->kinds |= placeholder_kinds(a, alt, n);
}

static unsigned complete_spec(const struct csyntax *c, const char *opt, const char *spec, FILE *f)
{
	struct alt_ctx a = { .c = c, .opt = opt, .f = f };

	spec_alternatives(spec, scan_path, &a);
	spec_alternatives(spec, complete_alt, &a);
	return a.kinds;
}

static void print_options(const struct copt *opts, size_t n, FILE *f)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", opts[i].name);
}

static const struct copt *global_find(const char *w)
{
	for (size_t i = 0; i < ELEMENTSOF(global_opts); i++)
		if (!strcmp(global_opts[i].name, w))
			return &global_opts[i];
	return NULL;
}

const char *complete_socket(char **words, size_t n_words)
{
	const char *s = NULL;

	for (size_t i = 1; i < n_words && words[i][0] == '-'; i++)
		if (!strcmp(words[i], "--socket") && i + 1 < n_words)
			s = words[++i];
		else if (!strncmp(words[i], "--socket=", 9))
			s = words[i] + 9;
	return s;
}

/* The next words of the verbs of noun that start with the words typed (prefix), one a line
 * (f NULL: only counted). */
static size_t print_verb_words(const struct complete_cmd *cmds, size_t n_cmds, const char *noun,
			       const char *prefix, FILE *f)
{
	size_t n = 0, plen = strlen(prefix);

	for (size_t i = 0; i < n_cmds; i++) {
		const char *v = cmds[i].verb, *w;
		size_t len;
		bool seen = false;

		if (strcmp(cmds[i].noun, noun) || !v || strncmp(v, prefix, plen) || (plen && v[plen] != ' '))
			continue;
		w = v + plen + !!plen;
		len = strcspn(w, " ");
		/* once each: "vm console" has two rows, "network host" two verbs */
		for (size_t j = 0; j < i && !seen; j++) {
			const char *u = cmds[j].verb;

			seen = u && !strcmp(cmds[j].noun, noun) && !strncmp(u, prefix, plen) &&
			       (!plen || u[plen] == ' ') && !strncmp(u + plen + !!plen, w, len) &&
			       strchr(" ", u[plen + !!plen + len]);
		}
		if (seen)
			continue;
		if (f)
			fprintf(f, "%.*s\n", (int)len, w);
		n++;
	}
	return n;
}

static bool verb_exists(const struct complete_cmd *cmds, size_t n_cmds, const char *noun, const char *verb)
{
	for (size_t i = 0; i < n_cmds; i++)
		if (!strcmp(cmds[i].noun, noun) &&
		    (verb ? cmds[i].verb && !strcmp(cmds[i].verb, verb) : !cmds[i].verb))
			return true;
	return false;
}

/* The command's arguments and options, from word i on (the first after the verb). */
static void complete_args(const struct complete_cmd *cmds, size_t n_cmds, const char *noun, const char *verb,
			  char **words, size_t i, size_t cword, FILE *f, struct complete_what *ret)
{
	_cleanup_free_ struct csyntax *c = malloc(sizeof(*c));
	const char *cur = words[cword];
	const struct copt *want = NULL; /* the option whose value word cword is */
	size_t n_pos = 0;

	if (!c)
		return;
	syntax_init(c, cmds, n_cmds, noun, verb);
	for (; i < cword; i++) {
		const struct copt *o = is_option(words[i]) && !strchr(words[i], '=') ?
					       opt_find(c, words[i], strlen(words[i])) :
					       NULL;

		if (o && !o->flag) {
			if (i + 1 == cword)
				want = o;
			i++;
		} else if (words[i][0] != '-' || !words[i][1]) {
			if (n_pos++ == 0)
				ret->arg = words[i];
		}
	}
	if (want) {
		ret->kinds |= complete_spec(c, want->name, want->spec, f);
		return;
	}
	if (cur[0] == '-' || n_pos >= c->n_pos) {
		print_options(c->opts, c->n_opts, f);
		fprintf(f, "--json\n");
		if (cur[0] == '-')
			return;
	}
	if (n_pos < c->n_pos)
		ret->kinds |= complete_spec(c, NULL, c->pos[n_pos], f);
}

void complete_line(const struct complete_cmd *cmds, size_t n_cmds, char **words, size_t n_words, size_t cword,
		   FILE *f, struct complete_what *ret)
{
	char *all[n_words + 1], verb[128] = "";
	const char *noun;
	size_t i = 1;

	*ret = (struct complete_what){};
	memcpy(all, words, n_words * sizeof(char *));
	all[n_words] = (char *)"";
	words = all; /* words[cword] is "" when cword == n_words */
	if (cword > n_words || cword == 0)
		return;
	/* netdctl's own options */
	for (; i < cword && words[i][0] == '-'; i++) {
		const struct copt *o = global_find(words[i]);

		if (o && !o->flag && ++i == cword) {
			ret->kinds = COMPLETE_FILES; /* --socket PATH */
			return;
		}
	}
	if (i == cword) {
		if (words[cword][0] == '-') {
			print_options(global_opts, ELEMENTSOF(global_opts), f);
			return;
		}
		for (size_t k = 0; k < n_cmds; k++) {
			bool seen = false;

			for (size_t j = 0; j < k; j++)
				seen |= !strcmp(cmds[j].noun, cmds[k].noun);
			if (!seen)
				fprintf(f, "%s\n", cmds[k].noun);
		}
		return;
	}
	noun = words[i++];
	if (verb_exists(cmds, n_cmds, noun, NULL)) {
		complete_args(cmds, n_cmds, noun, NULL, words, i, cword, f, ret);
		return;
	}
	/* the verb's words ("host add"), skipping --json */
	for (; i <= cword; i++) {
		if (!strcmp(words[i], "--json") && i < cword)
			continue;
		if (i == cword) {
			print_verb_words(cmds, n_cmds, noun, verb, f);
			return;
		}
		if (strlen(verb) + strlen(words[i]) + 2 > sizeof(verb))
			return;
		if (*verb)
			strcat(verb, " ");
		strcat(verb, words[i]);
		if (verb_exists(cmds, n_cmds, noun, verb) &&
		    !print_verb_words(cmds, n_cmds, noun, verb, NULL)) {
			complete_args(cmds, n_cmds, noun, verb, words, i + 1, cword, f, ret);
			return;
		}
		if (!print_verb_words(cmds, n_cmds, noun, verb, NULL))
			return; /* no such command */
	}
}

int complete_options(const struct complete_cmd *cmds, size_t n_cmds, char **words, size_t n_words, FILE *f)
{
	_cleanup_free_ struct csyntax *c = malloc(sizeof(*c));
	char verb[128] = "";

	if (!c)
		return -ENOMEM;
	if (n_words == 0)
		return -ENOENT;
	for (size_t i = 1; i < n_words; i++) {
		if (strlen(verb) + strlen(words[i]) + 2 > sizeof(verb))
			return -ENOENT;
		if (*verb)
			strcat(verb, " ");
		strcat(verb, words[i]);
	}
	if (!verb_exists(cmds, n_cmds, words[0], n_words > 1 ? verb : NULL))
		return -ENOENT;
	syntax_init(c, cmds, n_cmds, words[0], n_words > 1 ? verb : NULL);
	print_options(c->opts, c->n_opts, f);
	return 0;
}

/* ---- live names ---- */

/* A name the shell may take as one word and a terminal may show. */
static void print_name(const char *s)
{
	if (!s || !*s || *s == '@' || *s == '-')
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == 0x7f || strchr("'\"\\$`", *p))
			return;
	printf("%s\n", s);
}

/* Each element's key of the array at path in the reply's result (path NULL: the result). */
static void print_listed(complete_call_fn call, const char *method, json_object *params, const char *array,
			 const char *key)
{
	_cleanup_json_ json_object *reply = NULL;
	json_object *res, *a, *ok;

	if (call(method, params, &reply) < 0 || !json_object_object_get_ex(reply, "ok", &ok) ||
	    !json_object_get_boolean(ok) || !json_object_object_get_ex(reply, "result", &res))
		return;
	a = array ? json_object_object_get(res, array) : res;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *v = json_object_object_get(json_object_array_get_idx(a, i), key);

		if (v && !json_object_is_type(v, json_type_null))
			print_name(json_object_get_string(v));
	}
}

static void print_interfaces(void)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			print_name(e->d_name);
	closedir(d);
}

static void print_kinds(unsigned kinds, const char *arg, complete_call_fn call)
{
	_cleanup_json_ json_object *params = json_object_new_object();

	if (arg)
		json_object_object_add(params, "name", json_object_new_string(arg));
	if (kinds & COMPLETE_NETWORKS)
		print_listed(call, "network.list", NULL, NULL, "name");
	if (kinds & COMPLETE_GUESTS)
		print_listed(call, "vm.list", NULL, NULL, "name");
	if (kinds & COMPLETE_DISKS)
		print_listed(call, "disk.list", NULL, NULL, "name");
	if (kinds & COMPLETE_BRIDGES)
		print_listed(call, "uplink.status", NULL, NULL, "bridge");
	if ((kinds & COMPLETE_FORWARDS) && arg)
		print_listed(call, "network.forward.list", params, NULL, "id");
	if ((kinds & COMPLETE_SNAPSHOTS) && arg)
		print_listed(call, "vm.snapshot.list", params, "snapshots", "name");
	if (kinds & COMPLETE_INTERFACES)
		print_interfaces();
	if (kinds & COMPLETE_MODES)
		for (size_t i = 0; net_mode_at(i); i++)
			printf("%s\n", net_mode_at(i)->name);
	/* for the shell: its own file name completion */
	if (kinds & COMPLETE_FILES)
		printf("@file\n");
	else if (kinds & COMPLETE_DIRS)
		printf("@dir\n");
}

static const struct {
	const char *kind;
	unsigned kinds;
	bool arg; /* takes the network or guest */
} kinds[] = {
	{ "networks", COMPLETE_NETWORKS },
	{ "guests", COMPLETE_GUESTS },
	{ "disks", COMPLETE_DISKS },
	{ "bridges", COMPLETE_BRIDGES },
	{ "interfaces", COMPLETE_INTERFACES },
	{ "modes", COMPLETE_MODES },
	{ "forwards", COMPLETE_FORWARDS, true },
	{ "snapshots", COMPLETE_SNAPSHOTS, true },
};

static int complete_error(const char *fmt, ...) _printf_(1, 2);
static int complete_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "netdctl: complete: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr,
		"\nKINDS: commands, options COMMAND..., networks, guests, disks, bridges, interfaces, "
		"modes, forwards NETWORK, snapshots GUEST, line CWORD WORD...\n");
	return 2;
}

static void on_alarm(int sig)
{
	_exit(0);
}

/* From here on nothing is said on stderr: a shell completing a word has a prompt to keep clean,
 * and netd not running or refusing this user is no error here. Nor does a netd that does not
 * answer hold the prompt: after COMPLETE_TIMEOUT_SEC what is printed is all there is (a line at a
 * time, so no name is cut). */
#define COMPLETE_TIMEOUT_SEC 3
static void quiet(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	alarm(COMPLETE_TIMEOUT_SEC);
}

static int complete_line_main(const struct complete_cmd *cmds, size_t n_cmds, int argc, char **argv,
			      complete_call_fn call, const char **socket)
{
	struct complete_what what;
	char *end;
	unsigned long cword;

	if (argc < 3)
		return complete_error("line: expected CWORD WORD... (%s)", "the words of the command line");
	errno = 0;
	cword = strtoul(argv[1], &end, 10);
	if (errno || *end || !argv[1][0] || argv[1][0] == '-' || cword > (unsigned long)(argc - 2))
		return complete_error("line: invalid CWORD '%s' (the index of a WORD, or one past the last)",
				      argv[1]);
	complete_line(cmds, n_cmds, argv + 2, argc - 2, cword, stdout, &what);
	if (complete_socket(argv + 2, cword))
		*socket = complete_socket(argv + 2, cword);
	quiet();
	print_kinds(what.kinds, what.arg, call);
	return 0;
}

int complete_main(const struct complete_cmd *cmds, size_t n_cmds, int argc, char **argv,
		  complete_call_fn call, const char **socket)
{
	if (argc < 2)
		return complete_error("missing KIND");
	if (!strcmp(argv[1], "line"))
		return complete_line_main(cmds, n_cmds, argc - 1, argv + 1, call, socket);
	if (!strcmp(argv[1], "commands")) {
		char *w[] = { "netdctl" };
		struct complete_what what;

		if (argc > 2)
			return complete_error("commands: unexpected argument '%s'", argv[2]);
		complete_line(cmds, n_cmds, w, 1, 1, stdout, &what);
		return 0;
	}
	if (!strcmp(argv[1], "options")) {
		if (argc < 3)
			return complete_error("options: missing COMMAND");
		if (complete_options(cmds, n_cmds, argv + 2, argc - 2, stdout) < 0)
			return complete_error("options: no such command '%s'", argv[2]);
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
		if (strcmp(argv[1], kinds[i].kind))
			continue;
		if (kinds[i].arg && argc != 3)
			return complete_error(argc < 3 ? "%s: missing its NETWORK or GUEST" :
							 "%s: unexpected argument",
					      argv[1]);
		if (!kinds[i].arg && argc > 2)
			return complete_error("unexpected argument '%s'", argv[2]);
		quiet();
		print_kinds(kinds[i].kinds, kinds[i].arg ? argv[2] : NULL, call);
		return 0;
	}
	return complete_error("unknown KIND '%s'", argv[1]);
}
