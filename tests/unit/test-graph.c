/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netdctl graph's renderer (netdctl/graph.c): each tests/data/graph/NAME.json (netd's answers as
 * netdctl gathers them) against its golden NAME.dot; hostile names (hostile.json: quotes,
 * backslashes, escStrings, entities, HTML, controls, bidi, long and non-UTF-8 text) never leave
 * their DOT string, and Graphviz's dot (when installed) draws them as text. */
#include "golden.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "graph.h"
#include "macro.h"

static char *render_file(const char *name)
{
	char path[512];
	json_object *host;
	char *dot = NULL;

	snprintf(path, sizeof(path), "%s/graph/%s.json", TEST_DATA_DIR, name);
	host = json_object_from_file(path);
	assert_non_null(host);
	assert_int_equal(graph_render(host, &dot), 0);
	json_object_put(host);
	return dot;
}

static void test_goldens(void **state)
{
	static const char *const names[] = { "host", "hostile" };

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		_cleanup_free_ char *dot = render_file(names[i]);
		char golden[128];

		snprintf(golden, sizeof(golden), "graph/%s.dot", names[i]);
		assert_golden(golden, dot);
	}
}

static char *escape(const char *s, size_t max)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	graph_escape(f, s, max);
	fclose(f);
	return buf;
}

static void test_escape(void **state)
{
	static const struct {
		const char *in, *out;
		size_t max;
	} cases[] = {
		{ "plain-name_1.2", "plain-name_1.2", 96 },
		{ "a\"b", "a\\\"b", 96 },
		{ "a\\b", "a\\\\b", 96 },
		{ "end\\", "end\\\\", 96 }, /* a last backslash cannot escape the closing quote */
		{ "\\N\\G\\l\\n\\r\\E\\T\\H\\L", "\\\\N\\\\G\\\\l\\\\n\\\\r\\\\E\\\\T\\\\H\\\\L", 96 },
		{ "&amp; &#10; &lt;", "&amp;amp; &amp;#10; &amp;lt;", 96 },
		{ "<<b>x</b>>", "<<b>x</b>>", 96 }, /* only <...> delimits an HTML label, never "..." */
		{ "a\nb\tc\rd\x1b[31m\x7f", "a?b?c?d?[31m?", 96 },
		{ "\xc2\x85 \xc2\x9f", "? ?", 96 }, /* C1 controls */
		{ "\xe2\x80\xae\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8f\xd8\x9c", "??????",
		  96 }, /* bidi */
		{ "\xff\xfe", "??", 96 }, /* not UTF-8 */
		{ "\xc0\xaf", "??", 96 }, /* overlong */
		{ "\xed\xa0\x80", "???", 96 }, /* a surrogate */
		{ "\xf4\x90\x80\x80", "????", 96 }, /* past U+10FFFF */
		{ "x\xe4\xb8", "x??", 96 }, /* cut short */
		{ "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", 96 },
		{ "aaaaaaaaaa", "aaaa...", 4 },
		{ "a\xc3\xa9", "a...", 2 }, /* never half a character */
		{ "ab\"", "ab...", 2 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *out = escape(cases[i].in, cases[i].max);

		assert_string_equal(out, cases[i].out);
	}
}

/* The DOT text's strings: outside them only the renderer's own syntax. Inside, a backslash only
 * before '"', '\' or the renderer's 'n'; no raw control byte; '&' only as "&amp;". */
static void check_contained(const char *dot)
{
	bool in = false;

	for (const char *p = dot; *p; p++) {
		if (!in) {
			assert_true(strncmp(p, "INJ", 3) != 0);
			if (*p == '"')
				in = true;
			continue;
		}
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
		if (*p == '"') {
			in = false;
		} else if (*p == '\\') {
			p++;
			assert_non_null(strchr("\"\\n", *p));
		} else if (*p == '&') {
			assert_int_equal(strncmp(p, "&amp;", 5), 0);
		}
	}
	assert_false(in);
}

static void test_hostile_contained(void **state)
{
	_cleanup_free_ char *dot = render_file("hostile"), *host = render_file("host");

	check_contained(dot);
	check_contained(host);
	/* Every hostile value made it, as text. */
	for (int i = 0; i <= 23; i++) {
		char marker[16];

		if (i == 18) /* past GRAPH_VALUE_MAX: cut */
			continue;
		snprintf(marker, sizeof(marker), "INJ%d", i);
		if (!strstr(dot, marker))
			fail_msg("%s missing from the DOT text", marker);
	}
	assert_null(strstr(dot, "INJ18"));
}

static void test_empty(void **state)
{
	json_object *host = json_object_new_object();
	_cleanup_free_ char *dot = NULL;

	assert_int_equal(graph_render(host, &dot), 0);
	assert_non_null(strstr(dot, "digraph netd {"));
	assert_non_null(strstr(dot, "\thost [label=\"this host"));
	check_contained(dot);
	json_object_put(host);
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)); p++)
		n++;
	return n;
}

/* The renderer's node statements: lines "\t[\t]ID [label=..." (an edge has " -> "). */
static size_t count_nodes(const char *dot)
{
	size_t n = 0;

	for (const char *p = dot; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t tabs = strspn(p, "\t"), id = strspn(p + tabs, "abcdefghijklmnopqrstuvwxyz0123456789_");

		if (tabs && id && !strncmp(p + tabs + id, " [label=\"", 9))
			n++;
	}
	return n;
}

/* dot -Tsvg of the hostile DOT: it parses, and no hostile value became a link, an image or a node. */
static void test_dot_renders_hostile(void **state)
{
	_cleanup_free_ char *dot = render_file("hostile"), *svg = NULL;
	char in[] = "/tmp/netd-test-graph.XXXXXX", cmd[256], out[64];
	size_t len = 0;
	int fd, status;

	if (system("command -v dot >/dev/null 2>&1") != 0) {
		fprintf(stderr, "dot missing: the SVG of hostile names is not checked (install graphviz)\n");
		skip();
	}
	fd = mkstemp(in);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, dot, strlen(dot)), (ssize_t)strlen(dot));
	close(fd);
	snprintf(out, sizeof(out), "%s.svg", in);
	snprintf(cmd, sizeof(cmd), "dot -Tsvg -o %s %s", out, in);
	status = system(cmd);
	unlink(in);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(read_file(out, &svg, &len), 0);
	unlink(out);
	assert_null(strstr(svg, "<a "));
	assert_null(strstr(svg, "<image"));
	assert_null(strstr(svg, "xlink:href"));
	assert_null(strstr(svg, "<title>INJ"));
	/* as many nodes as the renderer made */
	assert_int_equal(count(svg, "class=\"node\""), count_nodes(dot));
	/* the texts are there, as text: the entity as written, the hostname from the lease */
	assert_non_null(strstr(svg, "&amp;#10;&amp;lt;INJ7&amp;gt;"));
	assert_non_null(strstr(svg, "INJ17 [image=&quot;/etc/passwd&quot;]"));
	assert_non_null(strstr(svg, "\\N\\G\\l\\E\\T\\H\\LINJ5"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_goldens),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_hostile_contained),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_dot_renders_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
