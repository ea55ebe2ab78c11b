/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifupdown: eth0 configured by ifup (/run/network/ifstate.eth0). ifup is no daemon: what runs on
 * eth0 is the DHCP client it started (dhclient), which manager.c hands over to the bridge like any
 * other. This driver keeps ifupdown's own view in step:
 *   release    eth0 leaves ifupdown's state (ifstate.eth0 and its line in ifstate), so a later
 *              'ifdown eth0' says "not configured" instead of releasing the lease and downing it;
 *   take_back  the state back as it was;
 *   persist    the stanzas of eth0 become br0's (mgr-ifupdown.h), and dhclient's DUID for br0 is
 *              eth0's (ifup names dhclient's lease file after the interface; a new DUID would get
 *              a new address at the next boot);
 *   restore    those files back, byte for byte.
 */
#include "mgr-ifupdown.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "manager.h"
#include "mgr.h"
#include "names.h"

#define IFACES "etc/network/interfaces"
#define IFACES_D "etc/network/interfaces.d"
#define IFSTATE "run/network/ifstate"

/* ---- pure: interfaces(5) ---- */

const char *ifupdown_names_invalid_reason(const char *port, const char *bridge)
{
	if (!ifname_valid(port) || !ifname_valid(bridge))
		return "is not a valid interface name";
	if (strchr(port, '.') || strchr(bridge, '.'))
		return "has a '.', which ifupdown reads as a VLAN";
	if (port[0] == '-' || bridge[0] == '-')
		return "starts with '-'";
	return NULL;
}

/* The words of one line (at most n), NUL-terminated in buf. */
static size_t split_words(const char *line, size_t len, char *buf, size_t size, char **words, size_t n)
{
	size_t k = 0;

	snprintf(buf, size, "%.*s", (int)len, line);
	for (char *save = NULL, *w = strtok_r(buf, " \t\r\n", &save); w && k < n;
	     w = strtok_r(NULL, " \t\r\n", &save))
		words[k++] = w;
	return k;
}

static bool is_stanza_keyword(const char *w)
{
	static const char *const kw[] = { "iface",	  "mapping",	      "auto",
					  "source",	  "source-directory", "rename",
					  "no-auto-down", "no-scripts",	      "template" };

	if (!strncmp(w, "allow-", 6))
		return true;
	for (size_t i = 0; i < ELEMENTSOF(kw); i++)
		if (!strcmp(w, kw[i]))
			return true;
	return false;
}

static bool words_have(char **words, size_t n, const char *name)
{
	for (size_t i = 1; i < n; i++)
		if (!strcmp(words[i], name))
			return true;
	return false;
}

/* "rename CUR=NEW ...": whether one side is name. */
static bool rename_names(char **words, size_t n, const char *name)
{
	size_t k = strlen(name);

	for (size_t i = 1; i < n; i++) {
		const char *eq = strchr(words[i], '=');

		if (eq &&
		    (((size_t)(eq - words[i]) == k && !strncmp(words[i], name, k)) || !strcmp(eq + 1, name)))
			return true;
	}
	return false;
}

static void write_bridge_lines(FILE *f, struct ifupdown_rewrite *rw)
{
	char mac[MAC_STRLEN];

	fprintf(f, "\tbridge_ports %s\n\tbridge_stp off\n\tbridge_fd 0\n\tbridge_hw %s\n", rw->port,
		mac_format(&rw->mac, mac, sizeof(mac)));
}

#define WORDS_MAX 64

/*
 * One logical line (continued lines are whole): written as it is, or its replacement when it is a
 * stanza keyword's line naming the port. The option lines of the port's stanzas stay as they are:
 * they follow the line that is now the bridge's.
 */
static int rewrite_line(struct ifupdown_rewrite *rw, FILE *f, const char *line, size_t len, bool *changed,
			char *err, size_t errlen)
{
	char buf[4096], *w[WORDS_MAX];
	size_t n = split_words(line, len, buf, sizeof(buf), w, WORDS_MAX);
	bool continued = memmem(line, len, "\\\n", 2) != NULL;

	if (n == 0 || w[0][0] == '#' || !is_stanza_keyword(w[0]) || len >= sizeof(buf)) {
		fwrite(line, 1, len, f);
		return 0;
	}
	if (!strcmp(w[0], "rename") && rename_names(w, n, rw->port)) {
		snprintf(err, errlen,
			 "a 'rename' stanza names '%s'; netd does not rewrite those: change it by hand",
			 rw->port);
		return -EOPNOTSUPP;
	}
	if (!words_have(w, n, rw->port) && !words_have(w, n, rw->bridge)) {
		fwrite(line, 1, len, f);
		return 0;
	}
	if (words_have(w, n, rw->bridge)) {
		snprintf(err, errlen, "the line '%s' names '%s' already; remove it first", w[0], rw->bridge);
		return -EEXIST;
	}
	if (continued || n >= WORDS_MAX) {
		snprintf(err, errlen, "a '%s' line naming '%s' goes on over several lines; join it", w[0],
			 rw->port);
		return -EINVAL;
	}
	*changed = true;
	if (!strcmp(w[0], "iface")) {
		if (n < 4 || strcmp(w[1], rw->port)) {
			snprintf(err, errlen, "'iface %s' names '%s' where ifupdown reads no interface", w[1],
				 rw->port);
			return -EINVAL;
		}
		rw->n_port_stanzas++;
		if (!rw->bridge_written)
			fprintf(f, "iface %s inet manual\n\n", rw->port);
		fprintf(f, "iface %s", rw->bridge);
		for (size_t i = 2; i < n; i++)
			fprintf(f, " %s", w[i]);
		fputc('\n', f);
		if (!rw->bridge_written)
			write_bridge_lines(f, rw);
		rw->bridge_written = true;
		return 0;
	}
	if (!strcmp(w[0], "auto") || !strncmp(w[0], "allow-", 6)) {
		size_t kept = 0;
		char out[4096] = "";

		for (size_t i = 1; i < n; i++)
			if (strcmp(w[i], rw->port)) {
				snprintf(out + strlen(out), sizeof(out) - strlen(out), " %s", w[i]);
				kept++;
			}
		if (kept)
			fprintf(f, "%s%s\n", w[0], out);
		if (!rw->auto_written)
			fprintf(f, "auto %s\n", rw->bridge);
		rw->auto_written = true;
		return 0;
	}
	if (!strcmp(w[0], "no-auto-down") || !strcmp(w[0], "no-scripts")) {
		fputs(w[0], f);
		for (size_t i = 1; i < n; i++)
			fprintf(f, " %s", strcmp(w[i], rw->port) ? w[i] : rw->bridge);
		fputc('\n', f);
		return 0;
	}
	snprintf(err, errlen, "a '%s' stanza names '%s'; netd does not rewrite those: change it by hand",
		 w[0], rw->port);
	return -EOPNOTSUPP;
}

/* The end of the logical line at p: past its newline, continued lines included. */
static const char *line_end(const char *p)
{
	for (;;) {
		const char *nl = strchr(p, '\n');

		if (!nl)
			return p + strlen(p);
		if (nl == p || nl[-1] != '\\')
			return nl + 1;
		p = nl + 1;
	}
}

int ifupdown_rewrite(struct ifupdown_rewrite *rw, const char *text, char **ret, char *err, size_t errlen)
{
	_cleanup_free_ char *out = NULL;
	const char *why = ifupdown_names_invalid_reason(rw->port, rw->bridge);
	bool changed = false;
	size_t size = 0;
	FILE *f;
	int r = 0;

	*ret = NULL;
	if (why) {
		snprintf(err, errlen, "'%s' or '%s' %s", rw->port, rw->bridge, why);
		return -EINVAL;
	}
	f = open_memstream(&out, &size);
	if (!f)
		return -ENOMEM;
	for (const char *p = text; *p && r >= 0;) {
		const char *end = line_end(p);

		r = rewrite_line(rw, f, p, end - p, &changed, err, errlen);
		p = end;
	}
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0 || !changed)
		return r;
	*ret = TAKE_PTR(out);
	return 1;
}

unsigned ifupdown_stanzas(const char *text, const char *name, const char *method)
{
	unsigned count = 0;

	for (const char *p = text; *p;) {
		const char *end = line_end(p);
		char buf[4096], *w[8];
		size_t n = split_words(p, end - p, buf, sizeof(buf), w, 8);

		if (n >= 4 && !strcmp(w[0], "iface") && !strcmp(w[1], name) &&
		    (!method || !strcmp(w[3], method)))
			count++;
		p = end;
	}
	return count;
}

int ifupdown_ifstate_drop(const char *text, const char *port, char **ret)
{
	size_t plen = strlen(port), size = 0;
	char *out = NULL;
	int found = 0;
	FILE *f = open_memstream(&out, &size);

	if (!f)
		return -ENOMEM;
	for (const char *p = text; *p;) {
		const char *end = strchrnul(p, '\n');

		if (!strncmp(p, port, plen) && p[plen] == '=')
			found = 1;
		else
			fprintf(f, "%.*s\n", (int)(end - p), p);
		p = *end ? end + 1 : end;
	}
	if (fclose(f) != 0) {
		free(out);
		return -ENOMEM;
	}
	*ret = out;
	return found;
}

int ifupdown_duid_line(const char *leases, char *buf, size_t size)
{
	static const char key[] = "default-duid \"";

	for (const char *p = leases; *p;) {
		const char *end = strchrnul(p, '\n'), *q;

		if (!strncmp(p, key, strlen(key))) {
			/* the quoted string: escapes (\ooo, \") allowed, no bare quote, nothing after ";" */
			for (q = p + strlen(key); q < end && *q != '"'; q++)
				if (*q == '\\' && q + 1 < end)
					q++;
			if (q + 2 == end && !strncmp(q, "\";", 2) && (size_t)(end - p) + 2 <= size) {
				snprintf(buf, size, "%.*s\n", (int)(end - p), p);
				return 0;
			}
			return -EINVAL;
		}
		p = *end ? end + 1 : end;
	}
	return -ENOENT;
}

/* ---- the files ---- */

/* interfaces, then every file of interfaces.d in order: where ifupdown's Debian default reads stanzas. */
static int config_files(const struct mgr_ctx *c, char ***ret, size_t *ret_n)
{
	_cleanup_free_ char *dir = mgr_path(c, IFACES_D);
	struct dirent **list = NULL;
	char **files;
	int n;
	size_t k = 0;

	if (!dir)
		return -ENOMEM;
	n = scandir(dir, &list, NULL, alphasort);
	if (n < 0)
		n = 0;
	files = calloc(n + 2, sizeof(*files));
	if (!files)
		return -ENOMEM;
	files[k++] = strdup(IFACES);
	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.' &&
		    (list[i]->d_type == DT_REG || list[i]->d_type == DT_UNKNOWN) &&
		    asprintf(&files[k], "%s/%s", IFACES_D, list[i]->d_name) >= 0)
			k++;
		free(list[i]);
	}
	free(list);
	*ret = files;
	*ret_n = k;
	return 0;
}

static void files_free(char **files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
}

/* Every file rewritten (into texts[i], NULL when unchanged); refuses what cannot be. */
static int config_rewrite(const struct mgr_ctx *c, char **files, size_t n, char **texts, char *err,
			  size_t errlen)
{
	struct ifupdown_rewrite rw = { .port = c->port, .bridge = c->bridge, .mac = c->mac };
	char e[512];

	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = files[i] ? mgr_path(c, files[i]) : NULL, *text = NULL;
		int r;

		if (!path || read_file(path, &text, NULL) < 0)
			continue;
		r = ifupdown_rewrite(&rw, text, &texts[i], e, sizeof(e));
		if (r < 0) {
			snprintf(err, errlen,
				 "ifupdown configures '%s', but /%s cannot be rewritten for '%s': %s",
				 c->port, files[i], c->bridge, e);
			return r;
		}
	}
	if (rw.n_port_stanzas == 0) {
		snprintf(err, errlen,
			 "ifupdown configured '%s', but /%s and /%s/ have no 'iface %s' stanza; "
			 "'ifdown %s' before converting",
			 c->port, IFACES, IFACES_D, c->port, c->port);
		return -ENOENT;
	}
	return 0;
}

static int check_config(const struct mgr_ctx *c, bool write, char *err, size_t errlen)
{
	char **files = NULL, **texts = NULL;
	size_t n = 0;
	int r = config_files(c, &files, &n);

	if (r < 0)
		return r;
	texts = calloc(n, sizeof(*texts));
	r = texts ? config_rewrite(c, files, n, texts, err, errlen) : -ENOMEM;
	for (size_t i = 0; r >= 0 && write && i < n; i++)
		if (texts[i]) {
			r = mgr_file_write(c, MGR_SET_CONFIG, files[i], texts[i], strlen(texts[i]), 0644);
			if (r < 0)
				snprintf(err, errlen, "cannot write /%s: %s", files[i], strerror(-r));
		}
	for (size_t i = 0; texts && i < n; i++)
		free(texts[i]);
	free(texts);
	files_free(files, n);
	return r;
}

/* ---- ifstate ---- */

static int lock_ifstate(const struct mgr_ctx *c)
{
	_cleanup_free_ char *path = mgr_path(c, "run/network/.ifstate.lock");
	int fd;

	if (!path)
		return -ENOMEM;
	/* ifup and ifdown hold it while they change the state; absent: none runs. */
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static char *port_state_rel(const struct mgr_ctx *c)
{
	char *p;

	return asprintf(&p, IFSTATE ".%s", c->port) < 0 ? NULL : p;
}

static int ifupdown_detect(const struct mgr_ctx *c, char *err, size_t errlen)
{
	_cleanup_free_ char *rel = port_state_rel(c), *path = NULL, *agg = mgr_path(c, IFSTATE), *text = NULL;
	_cleanup_free_ char *dropped = NULL;
	const char *why;
	bool found;

	if (!rel || !agg || !(path = mgr_path(c, rel)))
		return -ENOMEM;
	found = access(path, F_OK) == 0;
	if (!found && read_file(agg, &text, NULL) >= 0)
		found = ifupdown_ifstate_drop(text, c->port, &dropped) > 0;
	if (!found)
		return 0;
	why = ifupdown_names_invalid_reason(c->port, c->bridge);
	if (why) {
		snprintf(err, errlen,
			 "ifupdown configured '%s'; the bridge name '%s' %s; choose another "
			 "with --bridge",
			 c->port, c->bridge, why);
		return -EINVAL;
	}
	return check_config(c, false, err, errlen) < 0 ? -EBUSY : 1;
}

/*
 * Before a rollback's kernel step, the dhclient that runs on the bridge goes, without a release,
 * whoever started it: ifup after a reboot (/run/dhclient.BR.pid), or netd, from ifup's command
 * line on the port retargeted to the bridge (it keeps -pf /run/dhclient.PORT.pid: dhclient forks,
 * and that file names the child that runs, not the parent netd started). manager.c checks that
 * the pid is a genuine DHCP client on the bridge before it kills anything.
 */
static void stop_bridge_client(const struct mgr_ctx *c)
{
	const char *names[] = { c->bridge, c->port };

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		_cleanup_free_ char *rel = NULL, *path = NULL, *text = NULL;
		int pid;

		if (asprintf(&rel, "run/dhclient.%s.pid", names[i]) < 0 || !(path = mgr_path(c, rel)) ||
		    read_file(path, &text, NULL) < 0 || sscanf(text, "%d", &pid) != 1 || pid <= 1)
			continue;
		(void)manager_client_kill(c->proc, pid, c->bridge);
	}
}

static int ifupdown_release(const struct mgr_ctx *c, char *err, size_t errlen)
{
	_cleanup_close_ _unused_ int lock = lock_ifstate(c); /* held until return */
	_cleanup_free_ char *rel = port_state_rel(c), *agg = mgr_path(c, IFSTATE), *text = NULL, *out = NULL;
	int r;

	if (!rel || !agg)
		return -ENOMEM;
	stop_bridge_client(c);
	r = mgr_file_remove(c, MGR_SET_RUNTIME, rel);
	if (r >= 0 && read_file(agg, &text, NULL) >= 0 && ifupdown_ifstate_drop(text, c->port, &out) > 0)
		r = write_runtime_file(agg, out, strlen(out), 0644);
	if (r < 0)
		snprintf(err, errlen, "cannot take '%s' out of ifupdown's state (/%s): %s", c->port, IFSTATE,
			 strerror(-r));
	return r;
}

static int ifupdown_take_back(const struct mgr_ctx *c, char *err, size_t errlen)
{
	_cleanup_close_ _unused_ int lock = lock_ifstate(c); /* held until return */
	_cleanup_free_ char *rel = port_state_rel(c), *path = NULL, *agg = mgr_path(c, IFSTATE);
	_cleanup_free_ char *logical = NULL, *text = NULL, *rest = NULL, *out = NULL;
	int r;

	if (!rel || !agg || !(path = mgr_path(c, rel)))
		return -ENOMEM;
	r = mgr_files_restore(c, MGR_SET_RUNTIME, err, errlen);
	if (r < 0)
		return r;
	/* The bridge is gone (after a reboot ifup had it in its state). */
	free(path);
	if (asprintf(&path, "%s.%s", agg, c->bridge) < 0)
		return -ENOMEM;
	(void)unlink(path);
	free(path);
	path = mgr_path(c, rel);
	if (!path)
		return -ENOMEM;
	if (read_file(agg, &text, NULL) >= 0 && ifupdown_ifstate_drop(text, c->bridge, &rest) > 0) {
		r = write_runtime_file(agg, rest, strlen(rest), 0644);
		if (r < 0)
			return r;
	}
	free(text);
	free(rest);
	text = rest = NULL;
	/* The aggregate line from the per-interface file: "eth0=LOGICAL". */
	if (read_file(path, &logical, NULL) < 0)
		return 0;
	logical[strcspn(logical, "\n")] = 0;
	if (!ifname_valid(logical))
		return 0;
	if (read_file(agg, &text, NULL) < 0)
		text = strdup("");
	if (!text || ifupdown_ifstate_drop(text, c->port, &rest) < 0 ||
	    asprintf(&out, "%s%s=%s\n", rest, c->port, logical) < 0)
		return -ENOMEM;
	r = write_runtime_file(agg, out, strlen(out), 0644);
	if (r < 0)
		snprintf(err, errlen, "cannot put '%s' back into ifupdown's state (/%s): %s", c->port,
			 IFSTATE, strerror(-r));
	return r;
}

/* dhclient's DUID for the bridge: the port's, from the lease file ifup names after it. */
static int copy_duid(const struct mgr_ctx *c)
{
	_cleanup_free_ char *from = NULL, *to_rel = NULL, *to = NULL, *text = NULL, *old = NULL, *out = NULL;
	char line[1024];

	if (asprintf(&from, "%s/var/lib/dhcp/dhclient.%s.leases", strcmp(c->root, "/") ? c->root : "",
		     c->port) < 0 ||
	    asprintf(&to_rel, "var/lib/dhcp/dhclient.%s.leases", c->bridge) < 0 ||
	    !(to = mgr_path(c, to_rel)))
		return -ENOMEM;
	if (read_file(from, &text, NULL) < 0 || ifupdown_duid_line(text, line, sizeof(line)) < 0)
		return 0;
	if (read_file(to, &old, NULL) >= 0) {
		char have[1024];

		if (ifupdown_duid_line(old, have, sizeof(have)) != -ENOENT)
			return 0;
	}
	if (asprintf(&out, "%s%s", line, old ? old : "") < 0)
		return -ENOMEM;
	return mgr_file_write(c, MGR_SET_CONFIG, to_rel, out, strlen(out), 0644);
}

static int ifupdown_persist(const struct mgr_ctx *c, char *err, size_t errlen)
{
	int r = check_config(c, true, err, errlen);

	if (r < 0)
		return r;
	r = copy_duid(c);
	if (r < 0)
		snprintf(err, errlen, "cannot give dhclient's lease file for '%s' the DUID of '%s': %s",
			 c->bridge, c->port, strerror(-r));
	return r;
}

static int ifupdown_restore(const struct mgr_ctx *c, char *err, size_t errlen)
{
	return mgr_files_restore(c, MGR_SET_CONFIG, err, errlen);
}

const struct mgr_driver mgr_ifupdown = {
	.name = "ifupdown",
	.detect = ifupdown_detect,
	.release = ifupdown_release,
	.take_back = ifupdown_take_back,
	.persist = ifupdown_persist,
	.restore = ifupdown_restore,
};
