/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The nft script of netd's table. Pure: text in memory, nothing else.
 *
 * forward (filter, priority filter, policy accept: traffic of other interfaces is not ours):
 *   per forwarding network, in order: replies into the subnet (nat) or anything into it from
 *   outside netd's bridges (routed); the subnet out, to anything but another netd bridge (or
 *   only through the uplink); then for every network: port to port on the same bridge; and last
 *   reject whatever else enters or leaves a netd bridge.
 * postrouting (nat, priority srcnat): the nat subnets masqueraded, except multicast and
 *   broadcast and traffic that stays inside the subnet.
 * The set "bridges" holds every netd bridge; its comment is the table's marker: a hash of the
 * script and the number of rules, which tells netd whether the table in the kernel is the one it
 * applied. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall.h"
#include "macro.h"

struct out {
	FILE *f;
	unsigned rules;
};

static void rule(struct out *o, const char *fmt, ...) _printf_(2, 3);
static void rule(struct out *o, const char *fmt, ...)
{
	va_list ap;

	fputs("\t\t", o->f);
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
	fputc('\n', o->f);
	o->rules++;
}

static bool forwards(const struct fw_network *n)
{
	return n->mode == FW_ROUTED || n->mode == FW_NAT;
}

static void render_forward(struct out *o, const struct fw_network *nets, size_t n)
{
	char s[IP_PREFIX_STRLEN];

	fprintf(o->f, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
	for (size_t i = 0; i < n; i++) {
		const struct fw_network *w = &nets[i];

		if (!forwards(w))
			continue;
		ip_prefix_format(&w->subnet, s, sizeof(s));
		if (w->mode == FW_NAT)
			rule(o, "oifname \"%s\" ip daddr %s ct state established,related accept", w->bridge, s);
		else
			rule(o, "iifname != @bridges oifname \"%s\" ip daddr %s accept", w->bridge, s);
		if (w->uplink[0])
			rule(o, "iifname \"%s\" ip saddr %s oifname \"%s\" accept", w->bridge, s, w->uplink);
		else
			rule(o, "iifname \"%s\" ip saddr %s oifname != @bridges accept", w->bridge, s);
	}
	for (size_t i = 0; i < n; i++)
		rule(o, "iifname \"%s\" oifname \"%s\" accept", nets[i].bridge, nets[i].bridge);
	for (size_t i = 0; i < n; i++) {
		rule(o, "iifname \"%s\" reject with icmpx type admin-prohibited", nets[i].bridge);
		rule(o, "oifname \"%s\" reject with icmpx type admin-prohibited", nets[i].bridge);
	}
	fprintf(o->f, "\t}\n");
}

static void render_postrouting(struct out *o, const struct fw_network *nets, size_t n)
{
	char s[IP_PREFIX_STRLEN];

	fprintf(o->f, "\n\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	for (size_t i = 0; i < n; i++) {
		const struct fw_network *w = &nets[i];

		if (w->mode != FW_NAT)
			continue;
		ip_prefix_format(&w->subnet, s, sizeof(s));
		rule(o, "ip saddr %s ip daddr 224.0.0.0/4 return", s);
		rule(o, "ip saddr %s ip daddr 255.255.255.255 return", s);
		if (w->uplink[0])
			rule(o, "ip saddr %s ip daddr != %s oifname \"%s\" masquerade", s, s, w->uplink);
		else
			rule(o, "ip saddr %s ip daddr != %s masquerade", s, s);
	}
	fprintf(o->f, "\t}\n");
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

static int by_bridge(const void *a, const void *b)
{
	return strcmp(((const struct fw_network *)a)->bridge, ((const struct fw_network *)b)->bridge);
}

char *fw_render(const struct fw_network *in, size_t n, char **ret_marker)
{
	/* Sorted by bridge: the same networks give the same script whatever order they come in, so
	 * a restarted netd that reads the config dir in another order still recognises its table. */
	_cleanup_free_ struct fw_network *nets = n ? malloc(n * sizeof(*nets)) : NULL;
	_cleanup_free_ char *body = NULL;
	size_t len;
	struct out o = { .f = open_memstream(&body, &len) };
	bool nat = false;
	char *script = NULL;

	*ret_marker = NULL;
	if (!o.f || (n && !nets)) {
		if (o.f)
			fclose(o.f);
		return NULL;
	}
	if (n) {
		memcpy(nets, in, n * sizeof(*nets));
		qsort(nets, n, sizeof(*nets), by_bridge);
	}
	for (size_t i = 0; i < n; i++)
		nat |= nets[i].mode == FW_NAT;
	render_forward(&o, nets, n);
	if (nat)
		render_postrouting(&o, nets, n);
	if (fclose(o.f) != 0)
		return NULL;

	/* "table X" first so that "delete table X" never fails: the pair empties the table inside
	 * the same transaction that fills it again, so no packet sees it half-built. */
	if (n == 0) {
		*ret_marker = strdup("");
		if (!*ret_marker || asprintf(&script, "table %s %s\ndelete table %s %s\n", FW_FAMILY, FW_TABLE, FW_FAMILY,
					     FW_TABLE) < 0) {
			free(*ret_marker);
			*ret_marker = NULL;
			return NULL;
		}
		return script;
	}

	_cleanup_free_ char *elements = NULL;
	size_t elen;
	FILE *e = open_memstream(&elements, &elen);

	if (!e)
		return NULL;
	for (size_t i = 0; i < n; i++)
		fprintf(e, "%s\"%s\"", i ? ", " : "", nets[i].bridge);
	if (fclose(e) != 0)
		return NULL;
	if (asprintf(ret_marker, "netd:%016" PRIx64 ":%u", fnv1a(body) ^ fnv1a(elements), o.rules) < 0) {
		*ret_marker = NULL;
		return NULL;
	}
	if (asprintf(&script,
		     "table %s %s\n"
		     "delete table %s %s\n"
		     "table %s %s {\n"
		     "\tset bridges {\n\t\ttype ifname\n\t\tcomment \"%s\"\n\t\telements = { %s }\n\t}\n\n"
		     "%s"
		     "}\n",
		     FW_FAMILY, FW_TABLE, FW_FAMILY, FW_TABLE, FW_FAMILY, FW_TABLE, *ret_marker, elements, body) < 0) {
		free(*ret_marker);
		*ret_marker = NULL;
		return NULL;
	}
	return script;
}
