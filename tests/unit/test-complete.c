/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netdctl complete's reading of a verb table (netdctl/complete.c): commands and verbs, options
 * from synopses, schemas and the text after them, literal values, and what each placeholder stands
 * for. The real table is checked against --help by tests/netns/test-completion.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complete.h"
#include "guest-schema.h"
#include "macro.h"

static const struct complete_cmd cmds[] = {
	{ "network", "create", "network create NAME", NULL },
	{ "network", "show", "network show NAME" },
	{ "network", "stop",
	  "network stop NAME [--force]             --force: under running guests too\n"
	  "                                        with the network's next start" },
	{ "network", "forward add",
	  "network forward add NAME [--listen ADDR|--listen-uplink] --proto tcp|udp|tcp,udp --port P[-Q]\n"
	  "                     --to GUEST|IP[:PORT[-PORT]]\n"
	  "                                       forward a host port; GUEST: a guest's --name" },
	{ "network", "forward remove", "network forward remove NAME ID" },
	{ "vm", "create", "vm create NAME", &guest_schema,
	  "\n        (--cloud-init user-data=FILE, --ssh-key FILE.pub: seed)" },
	{ "vm", "console", "vm console NAME --log [--lines N]     the log" },
	{ "vm", "console", "vm console NAME                        attach" },
	{ "vm", "screenshot",
	  "vm screenshot NAME FILE.png [--force] the display of a guest with --vnc, as a PNG" },
	{ "vm", "attach-disk", "vm attach-disk NAME PATH|NAME[,format=..][,bus=virtio|scsi][,readonly]" },
	{ "vm", "snapshot create", "vm snapshot create NAME SNAP [--description TEXT]" },
	{ "vm", "snapshot revert", "vm snapshot revert NAME SNAP [--timeout SEC]" },
	{ "disk", "create",
	  "disk create NAME --size SIZE [--format qcow2|raw]\n"
	  "                                       a new image\n"
	  "  disk create NAME --backing BASE [--size SIZE]" },
	{ "disk", "import", "disk import FILE NAME [--format qcow2|raw]\n  disk import --url URL" },
	{ "doctor", NULL, "doctor NETWORK | --guest NAME        why" },
	{ "graph", NULL, "graph [--format dot|svg|png] [-o FILE]   a picture" },
	{ "status", NULL, "status" },
};

/* The candidates for the last of words (a NULL-terminated list after netdctl), one a line. */
static char *line(struct complete_what *what, ...)
{
	char *words[32] = { "netdctl" }, *buf = NULL;
	size_t n = 1, size = 0;
	FILE *f = open_memstream(&buf, &size);
	va_list ap;

	va_start(ap, what);
	for (char *w; (w = va_arg(ap, char *));)
		words[n++] = w;
	va_end(ap);
	assert_non_null(f);
	complete_line(cmds, ELEMENTSOF(cmds), words, n, n - 1, f, what);
	fclose(f);
	return buf;
}

#define EXPECT(text, kinds_, ...)                          \
	do {                                               \
		struct complete_what w_;                   \
		char *got_ = line(&w_, __VA_ARGS__, NULL); \
		assert_string_equal(got_, text);           \
		assert_int_equal(w_.kinds, kinds_);        \
		free(got_);                                \
	} while (0)

static void test_commands(void **state)
{
	EXPECT("network\nvm\ndisk\ndoctor\ngraph\nstatus\n", 0, "");
	EXPECT("network\nvm\ndisk\ndoctor\ngraph\nstatus\n", 0, "--json", "");
	EXPECT("--socket\n--json\n--help\n--version\n", 0, "-");
	EXPECT("", COMPLETE_FILES, "--socket", "");
	EXPECT("network\nvm\ndisk\ndoctor\ngraph\nstatus\n", 0, "--socket", "/s", "");
	EXPECT("create\nshow\nstop\nforward\n", 0, "network", "");
	EXPECT("add\nremove\n", 0, "network", "forward", "");
	EXPECT("create\nconsole\nscreenshot\nattach-disk\nsnapshot\n", 0, "vm", "");
	EXPECT("", 0, "nosuch", "");
	EXPECT("", 0, "network", "nosuch", "");
}

static void test_options(void **state)
{
	EXPECT("--force\n--json\n", 0, "network", "stop", "n", "");
	EXPECT("--force\n--json\n", 0, "network", "stop", "-");
	EXPECT("--listen\n--listen-uplink\n--proto\n--port\n--to\n--json\n", 0, "network", "forward", "add",
	       "n", "--");
	EXPECT("tcp\nudp\ntcp,udp\n", 0, "network", "forward", "add", "n", "--proto", "");
	EXPECT("", COMPLETE_GUESTS, "network", "forward", "add", "n", "--to", "");
	EXPECT("", 0, "network", "forward", "add", "n", "--listen", "");
	/* both rows of vm console; the description's "--vnc" is no option of screenshot */
	EXPECT("--log\n--lines\n--json\n", 0, "vm", "console", "g", "");
	EXPECT("--force\n--json\n", 0, "vm", "screenshot", "g", "f.png", "");
	/* the second synopsis of disk create */
	EXPECT("--size\n--format\n--backing\n--json\n", 0, "disk", "create", "d", "-");
	EXPECT("qcow2\nraw\n", 0, "disk", "create", "d", "--format", "");
	EXPECT("", COMPLETE_DISKS, "disk", "create", "d", "--backing", "");
	EXPECT("", COMPLETE_GUESTS, "doctor", "--guest", "");
	/* a short option */
	EXPECT("--format\n-o\n--json\n", 0, "graph", "");
	EXPECT("", COMPLETE_FILES, "graph", "-o", "");
	EXPECT("dot\nsvg\npng\n", 0, "graph", "-o", "x.svg", "--format", "");
	/* a schema's options and the text after them */
	EXPECT("auto\nkvm\ntcg\n", 0, "vm", "create", "g", "--accel", "");
	EXPECT("", COMPLETE_NETWORKS, "vm", "create", "g", "--network", "");
	EXPECT("", COMPLETE_FILES, "vm", "create", "g", "--kernel", "");
	EXPECT("", COMPLETE_FILES | COMPLETE_DISKS, "vm", "create", "g", "--disk", "");
	EXPECT("", COMPLETE_FILES, "vm", "create", "g", "--ssh-key", "");
	EXPECT("", 0, "vm", "create", "g", "--cloud-init", "");
	/* a value already given is skipped, the next argument counted */
	EXPECT("--listen\n--listen-uplink\n--proto\n--port\n--to\n--json\n", 0, "network", "forward", "add",
	       "n", "--proto", "tcp", "");
}

static void test_arguments(void **state)
{
	struct complete_what w;
	char *s;

	EXPECT("", 0, "network", "create", "");
	EXPECT("", COMPLETE_NETWORKS, "network", "show", "");
	EXPECT("", COMPLETE_NETWORKS, "doctor", "");
	EXPECT("", COMPLETE_GUESTS, "vm", "console", "");
	EXPECT("", COMPLETE_FILES | COMPLETE_DISKS, "vm", "attach-disk", "g", "");
	EXPECT("", COMPLETE_FILES, "vm", "screenshot", "g", "");
	EXPECT("", COMPLETE_GUESTS, "vm", "snapshot", "create", "");
	EXPECT("", 0, "vm", "snapshot", "create", "g", "");
	EXPECT("", COMPLETE_SNAPSHOTS, "vm", "snapshot", "revert", "g", "");
	s = line(&w, "vm", "snapshot", "revert", "--timeout", "5", "g", "", NULL);
	assert_string_equal(w.arg, "g");
	free(s);
	s = line(&w, "--json", "network", "forward", "remove", "lan", "", NULL);
	assert_int_equal(w.kinds, COMPLETE_FORWARDS);
	assert_string_equal(w.arg, "lan");
	free(s);
	/* the synopsis with the most arguments, whichever comes first; a new NAME */
	EXPECT("", COMPLETE_FILES, "disk", "import", "");
	EXPECT("", 0, "disk", "import", "f", "");
	/* past the last argument: the options */
	EXPECT("--json\n", 0, "network", "show", "n", "");
	EXPECT("--json\n", 0, "status", "");
}

static void test_socket(void **state)
{
	char *a[] = { "netdctl", "--json", "--socket", "/a", "vm" },
	     *b[] = { "netdctl", "--socket=/b", "vm" }, *c[] = { "netdctl", "vm", "--socket", "/c" };

	assert_string_equal(complete_socket(a, ELEMENTSOF(a)), "/a");
	assert_string_equal(complete_socket(b, ELEMENTSOF(b)), "/b");
	assert_null(complete_socket(c, ELEMENTSOF(c)));
}

static void test_options_list(void **state)
{
	char *buf = NULL, *w[] = { "network", "forward", "add" }, *bad[] = { "network", "forward", "nosuch" };
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_int_equal(complete_options(cmds, ELEMENTSOF(cmds), w, 3, f), 0);
	assert_int_equal(complete_options(cmds, ELEMENTSOF(cmds), bad, 3, f), -ENOENT);
	fclose(f);
	assert_string_equal(buf, "--listen\n--listen-uplink\n--proto\n--port\n--to\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),     cmocka_unit_test(test_options),
		cmocka_unit_test(test_arguments),    cmocka_unit_test(test_socket),
		cmocka_unit_test(test_options_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
