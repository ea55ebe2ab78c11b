/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netdctl graph: netd's JSON answers as one Graphviz DOT text. Pure: no socket, no process.
 *
 * Left to right: the outside (converted uplinks and their ports), the host, each network as a
 * cluster (its bridge with subnets, mode and DHCP; DHCP clients that are no guest of netd's), each
 * guest as a cluster of its NICs (tap, MAC, addresses, DHCP hostname) tied to its network's
 * bridge, and each port forward from the host to the NIC it reaches. Problems are red: a degraded
 * network (netd's problem: a firewall that blocks it, a conflict, dnsmasq down...), a crashed guest,
 * an uplink rolling back, a forward whose target has no address, a NIC on a network netd does not
 * know. Node ids are made here (net0, g1_nic0): no name from netd or a guest is ever one. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

#define RED "#c0392b"
#define GRAY "#7f8c8d"

/* ---- values into DOT strings ---- */

/* The length of the valid UTF-8 sequence at p (1-4) and its code point, or 0 when p starts none. */
static size_t utf8_seq(const unsigned char *p, uint32_t *ret_cp)
{
	size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
	uint32_t cp;

	if (p[0] >= 0xf5 || !n)
		return 0;
	cp = p[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong, surrogates, past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

/* C1 controls and the controls that reorder or hide text (bidi marks, embeddings, isolates). */
static bool cp_hidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void graph_escape(FILE *f, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t used = 0;

	while (*p) {
		uint32_t cp = 0;
		size_t n = *p < 0x80 ? 1 : utf8_seq(p, &cp);

		if (used + (n ?: 1) > max) {
			fputs("...", f);
			return;
		}
		if (!n || (n > 1 && cp_hidden(cp)) || (n == 1 && (*p < 0x20 || *p == 0x7f)))
			fputc('?', f);
		else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '&')
			fputs("&amp;", f);
		else
			fwrite(p, 1, n, f);
		used += n ?: 1;
		p += n ?: 1;
	}
}

static void esc(FILE *f, const char *s)
{
	graph_escape(f, s, GRAPH_VALUE_MAX);
}

/* A long text (a problem) in lines of about width bytes, broken at spaces, cut after max bytes. */
static void esc_wrap(FILE *f, const char *s, size_t max, size_t width)
{
	char *copy = strndup(s, max), *p = copy, *space;

	if (!copy)
		return;
	while (strlen(p) > width && (space = strchr(p + width, ' '))) {
		*space = 0;
		graph_escape(f, p, SIZE_MAX);
		fputs("\\n", f);
		p = space + 1;
	}
	graph_escape(f, p, SIZE_MAX);
	if (strlen(s) > max)
		fputs("...", f);
	free(copy);
}

/* ---- reading netd's answers ---- */

static json_object *jget(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

/* A member as text (a number's digits too), NULL when absent or null. */
static const char *jstr(json_object *o, const char *key)
{
	json_object *v = jget(o, key);

	return v && !json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array) ?
		       json_object_get_string(v) :
		       NULL;
}

static bool jis(json_object *o, const char *key, const char *value)
{
	const char *s = jstr(o, key);

	return s && !strcmp(s, value);
}

static size_t jlen(json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static json_object *jat(json_object *a, size_t i)
{
	return json_object_array_get_idx(a, i);
}

/* ---- the drawing ---- */

struct graph {
	FILE *f;
	json_object *networks, *guests, *uplinks, *leases, *forwards;
};

/* "\n" inside a label, then the fixed text (never a value: those go through esc()). */
static void nl(FILE *f, const char *text)
{
	fprintf(f, "\\n%s", text);
}

static void label_value(FILE *f, const char *text, const char *value)
{
	nl(f, text);
	esc(f, value ?: "-");
}

static size_t network_index(struct graph *g, const char *name, bool *ret_found)
{
	for (size_t i = 0; name && i < jlen(g->networks); i++)
		if (jis(jat(g->networks, i), "name", name)) {
			*ret_found = true;
			return i;
		}
	*ret_found = false;
	return 0;
}

static void draw_header(struct graph *g, json_object *status)
{
	fputs("digraph netd {\n"
	      "\tgraph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t, nodesep=0.25,\n"
	      "\t       ranksep=0.7, label=\"netd",
	      g->f);
	if (jstr(status, "version")) {
		fputc(' ', g->f);
		esc(g->f, jstr(status, "version"));
	}
	fputs(": networks, guests and forwards (red: a problem)\"];\n"
	      "\tnode [fontname=\"Helvetica\", fontsize=10, shape=box, style=\"rounded,filled\", "
	      "fillcolor=\"white\"];\n"
	      "\tedge [fontname=\"Helvetica\", fontsize=9, color=\"#34495e\", arrowhead=none];\n",
	      g->f);
}

/* The host, and each uplink netd converted into a bridge, with the port it took. */
static void draw_uplinks(struct graph *g)
{
	FILE *f = g->f;

	fputs("\n\thost [label=\"this host", f);
	nl(f, jlen(g->uplinks) ? "routes, NAT" : "routes, NAT (its own uplink)");
	fputs("\", shape=box3d, style=filled, fillcolor=\"#ecf0f1\"];\n", f);
	for (size_t i = 0; i < jlen(g->uplinks); i++) {
		json_object *u = jat(g->uplinks, i);
		bool bad = jis(u, "state", "rolling-back");
		bool busy = !jis(u, "state", "confirmed") && !bad;

		fprintf(f, "\tuplink%zu_port [label=\"", i);
		esc(f, jstr(u, "port") ?: "-");
		nl(f, "the LAN (converted port)");
		fputs("\", shape=cds, fillcolor=\"#fdebd0\"];\n", f);
		fprintf(f, "\tuplink%zu [label=\"bridge ", i);
		esc(f, jstr(u, "bridge") ?: "-");
		nl(f, "uplink, ");
		esc(f, jstr(u, "state") ?: "-");
		label_value(f, "mac ", jstr(u, "mac"));
		fprintf(f, "\", fillcolor=\"%s\"%s];\n", busy ? "#fcf3cf" : "#fdebd0",
			bad ? ", color=\"" RED "\", fontcolor=\"" RED "\", penwidth=2" : "");
		fprintf(f, "\tuplink%zu_port -> uplink%zu [label=\"port\"];\n", i, i);
		fprintf(f, "\tuplink%zu -> host;\n", i);
	}
}

/* The uplink whose bridge a mode bridge network's guests join, if netd converted it. */
static bool uplink_of_bridge(struct graph *g, const char *bridge, size_t *ret)
{
	for (size_t i = 0; bridge && i < jlen(g->uplinks); i++)
		if (jis(jat(g->uplinks, i), "bridge", bridge)) {
			*ret = i;
			return true;
		}
	return false;
}

static void draw_bridge_label(FILE *f, json_object *n)
{
	json_object *dhcp = jget(n, "dhcp"), *ranges = jget(dhcp, "ranges");

	fputs("bridge ", f);
	esc(f, jstr(n, "bridge") ?: "-");
	if (jstr(n, "subnet")) {
		label_value(f, "IPv4 ", jstr(n, "subnet"));
		if (jstr(n, "gateway"))
			label_value(f, "gateway ", jstr(n, "gateway"));
	}
	if (jstr(n, "subnet6")) {
		label_value(f, "IPv6 ", jstr(n, "subnet6"));
		if (jstr(n, "ipv6_mode")) {
			fputs(" (", f);
			esc(f, jstr(n, "ipv6_mode"));
			fputs(jget(n, "nat6") && json_object_get_boolean(jget(n, "nat6")) ? ", masqueraded)" :
											    ")",
			      f);
		}
		if (jstr(n, "gateway6"))
			label_value(f, "gateway ", jstr(n, "gateway6"));
	}
	for (size_t i = 0; dhcp && json_object_get_boolean(jget(dhcp, "enabled")) && i < jlen(ranges); i++)
		label_value(f, "DHCP ", json_object_get_string(jat(ranges, i)));
}

/* What netd says is wrong with a network (a firewall that blocks it, dnsmasq down, a conflict). */
static const char *network_problem(json_object *n)
{
	if (jstr(n, "problem"))
		return jstr(n, "problem");
	return jis(n, "state", "degraded") ? "degraded" : NULL;
}

/* How a network's traffic leaves: by mode, from the host (NULL: it does not). */
static const char *network_way_out(json_object *n)
{
	static const struct {
		const char *mode, *edge;
	} ways[] = { { "nat", "masquerade" }, { "routed", "routed" }, { "open", "routed, open" } };

	if (jis(n, "mode", "isolated") || jis(n, "mode", "bridge"))
		return NULL;
	if (jis(n, "mode", "evpn")) /* each host its own guests' way out */
		return jis(n, "routed", "true") ? "routed, this host's guests" :
						  "masquerade, this host's guests";
	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++)
		if (jis(n, "mode", ways[i].mode))
			return ways[i].edge;
	return jstr(n, "mode") ?: "?";
}

/* Does a guest of netd's have a NIC with this MAC on network net? */
static bool guest_has_mac(struct graph *g, const char *net, const char *mac)
{
	for (size_t i = 0; mac && i < jlen(g->guests); i++) {
		json_object *nics = jget(jat(g->guests, i), "nics");

		for (size_t k = 0; k < jlen(nics); k++)
			if (jis(jat(nics, k), "network", net) && jstr(jat(nics, k), "mac") &&
			    !strcasecmp(jstr(jat(nics, k), "mac"), mac))
				return true;
	}
	return false;
}

/* The network's DHCP clients that are no guest of netd's (a namespace, another hypervisor's VM). */
static void draw_clients(struct graph *g, size_t i, json_object *n)
{
	json_object *leases = jget(g->leases, jstr(n, "name") ?: "");
	size_t drawn = 0, more = 0;

	for (size_t k = 0; k < jlen(leases); k++) {
		json_object *l = jat(leases, k);

		if (guest_has_mac(g, jstr(n, "name"), jstr(l, "mac")))
			continue;
		if (drawn == GRAPH_CLIENTS_MAX) {
			more++;
			continue;
		}
		fprintf(g->f, "\t\tnet%zu_client%zu [label=\"DHCP client", i, k);
		if (jstr(l, "hostname"))
			label_value(g->f, "", jstr(l, "hostname"));
		label_value(g->f, "", jstr(l, "mac") ?: jstr(l, "client_id"));
		label_value(g->f, "", jstr(l, "ip"));
		fprintf(g->f,
			"\", shape=note, style=filled, fillcolor=\"#f4f6f7\"];\n"
			"\t\tnet%zu -> net%zu_client%zu;\n",
			i, i, k);
		drawn++;
	}
	if (more)
		fprintf(g->f,
			"\t\tnet%zu_more [label=\"%zu more DHCP clients\", shape=note, style=filled, "
			"fillcolor=\"#f4f6f7\"];\n\t\tnet%zu -> net%zu_more;\n",
			i, more, i, i);
}

static void draw_network(struct graph *g, size_t i)
{
	json_object *n = jat(g->networks, i);
	const char *problem = network_problem(n), *way = network_way_out(n);
	bool inactive = jis(n, "state", "inactive");
	const char *color = problem ? RED : inactive ? GRAY : "#2c3e50";
	FILE *f = g->f;
	size_t u;

	fprintf(f, "\n\tsubgraph cluster_net%zu {\n\t\tlabel=\"network ", i);
	esc(f, jstr(n, "name") ?: "-");
	nl(f, "");
	esc(f, jstr(n, "mode") ?: "-");
	if (jstr(n, "vni")) {
		fputs(", VNI ", f);
		esc(f, jstr(n, "vni"));
	}
	fputs(", ", f);
	esc(f, jstr(n, "state") ?: "-");
	fprintf(f, "\";\n\t\tstyle=\"rounded%s\"; color=\"%s\"; fontcolor=\"%s\";%s\n",
		inactive ? ",dashed" : "", color, problem ? RED : "black", problem ? " penwidth=2;" : "");
	fprintf(f, "\t\tnet%zu [label=\"", i);
	draw_bridge_label(f, n);
	if (problem) {
		nl(f, "problem: ");
		esc_wrap(f, problem, GRAPH_PROBLEM_MAX, 48);
	}
	fprintf(f, "\", fillcolor=\"%s\"%s];\n", inactive ? "#f2f3f4" : "#d6eaf8",
		problem ? ", color=\"" RED "\", fontcolor=\"" RED "\", penwidth=2" : "");
	draw_clients(g, i, n);
	fputs("\t}\n", f);
	if (jis(n, "mode", "bridge") && uplink_of_bridge(g, jstr(n, "bridge"), &u)) {
		fprintf(f, "\tuplink%zu -> net%zu [label=\"guests on the LAN\"];\n", u, i);
	} else if (jis(n, "mode", "bridge")) {
		fprintf(f, "\tnet%zu_lan [label=\"the bridge's LAN\", shape=cds, fillcolor=\"#fdebd0\"];\n",
			i);
		fprintf(f, "\tnet%zu_lan -> net%zu;\n", i, i);
	} else if (way) {
		fprintf(f, "\thost -> net%zu [label=\"", i);
		esc(f, way);
		if (jstr(n, "uplink"))
			label_value(f, "out via ", jstr(n, "uplink"));
		fprintf(f, "\"%s];\n", inactive ? ", style=dashed, color=\"" GRAY "\"" : "");
	}
}

/* The NIC's addresses: its IPv4 lease, its IPv6 addresses, and the DHCP hostname its MAC has. */
static void draw_nic_addresses(struct graph *g, json_object *nic, bool running)
{
	json_object *v6 = jget(nic, "ipv6"), *leases = jget(g->leases, jstr(nic, "network") ?: "");
	const char *hostname = NULL;

	if (!running)
		return;
	if (jstr(nic, "ip"))
		label_value(g->f, "", jstr(nic, "ip"));
	for (size_t j = 0; j < jlen(v6); j++) {
		label_value(g->f, "", jstr(jat(v6, j), "address"));
		if (jstr(jat(v6, j), "source")) {
			fputs(" (", g->f);
			esc(g->f, jstr(jat(v6, j), "source"));
			fputc(')', g->f);
		}
	}
	for (size_t j = 0; j < jlen(leases) && !hostname; j++)
		if (jstr(jat(leases, j), "mac") && jstr(nic, "mac") &&
		    !strcasecmp(jstr(jat(leases, j), "mac"), jstr(nic, "mac")))
			hostname = jstr(jat(leases, j), "hostname");
	if (hostname)
		label_value(g->f, "hostname ", hostname);
}

static void draw_guest(struct graph *g, size_t i)
{
	json_object *v = jat(g->guests, i), *nics = jget(v, "nics");
	bool crashed = jis(v, "state", "crashed"), running = jis(v, "state", "running") ||
							     jis(v, "state", "paused") ||
							     jis(v, "state", "shutting-down");
	const char *color = crashed ? RED : running ? "#1e8449" : GRAY;
	FILE *f = g->f;

	fprintf(f, "\n\tsubgraph cluster_g%zu {\n\t\tlabel=\"guest ", i);
	esc(f, jstr(v, "name") ?: "-");
	nl(f, "");
	esc(f, jstr(v, "state") ?: "-");
	fprintf(f, "\";\n\t\tstyle=\"rounded%s\"; color=\"%s\"; fontcolor=\"%s\";%s\n",
		running ? "" : ",dashed", color, crashed ? RED : "black", crashed ? " penwidth=2;" : "");
	if (!jlen(nics))
		fprintf(f, "\t\tg%zu_none [label=\"no NIC\", style=dashed];\n", i);
	for (size_t k = 0; k < jlen(nics); k++) {
		json_object *nic = jat(nics, k);

		fprintf(f, "\t\tg%zu_nic%zu [label=\"nic%zu", i, k, k);
		if (jstr(nic, "tap")) {
			fputc(' ', f);
			esc(f, jstr(nic, "tap"));
		}
		label_value(f, "", jstr(nic, "mac"));
		draw_nic_addresses(g, nic, running);
		if (jis(nic, "security", "off"))
			nl(f, "port security off");
		fprintf(f, "\", fillcolor=\"%s\"];\n", running ? "#d5f5e3" : "#f2f3f4");
	}
	fputs("\t}\n", f);
	for (size_t k = 0; k < jlen(nics); k++) {
		json_object *nic = jat(nics, k);
		bool found;
		size_t n = network_index(g, jstr(nic, "network"), &found);

		if (found) {
			fprintf(f, "\tnet%zu -> g%zu_nic%zu%s;\n", n, i, k,
				running ? "" : " [style=dashed, color=\"" GRAY "\"]");
			continue;
		}
		fprintf(f, "\tg%zu_nic%zu_net [label=\"network ", i, k);
		esc(f, jstr(nic, "network") ?: "-");
		nl(f, "not defined");
		fputs("\", color=\"" RED "\", fontcolor=\"" RED "\", style=\"rounded,dashed\"];\n", f);
		fprintf(f, "\tg%zu_nic%zu_net -> g%zu_nic%zu [color=\"" RED "\", style=dashed];\n", i, k, i,
			k);
	}
}

/* The guest NIC on network net that has address addr, as "gI_nicK". */
static bool nic_of_address(struct graph *g, const char *net, const char *addr, char *buf, size_t size)
{
	for (size_t i = 0; addr && i < jlen(g->guests); i++) {
		json_object *nics = jget(jat(g->guests, i), "nics");

		for (size_t k = 0; k < jlen(nics); k++) {
			json_object *nic = jat(nics, k), *v6 = jget(nic, "ipv6");
			bool match = jis(nic, "ip", addr);

			for (size_t j = 0; j < jlen(v6) && !match; j++)
				match = jis(jat(v6, j), "address", addr);
			if (match && jis(nic, "network", net)) {
				snprintf(buf, size, "g%zu_nic%zu", i, k);
				return true;
			}
		}
	}
	return false;
}

/* One forward (network.forward.list's entry): host port -> the guest NIC that has its address. */
static void draw_forward(struct graph *g, size_t i, size_t k, json_object *fw)
{
	const char *net = jstr(jat(g->networks, i), "name");
	char target[64];
	bool to_nic = nic_of_address(g, net, jstr(fw, "to_address"), target, sizeof(target));
	/* (a stopped network's forwards have no address: they are drawn as gray as it is, not red) */
	bool inactive = jis(jat(g->networks, i), "state", "inactive");
	bool lost = !jstr(fw, "to_address") && !inactive;
	FILE *f = g->f;

	fprintf(f, "\tfw%zu_%zu [label=\"forward ", i, k);
	esc(f, jstr(fw, "id") ?: "?");
	nl(f, "");
	esc(f, jstr(fw, "proto") ?: "?");
	fputc(' ', f);
	esc(f, jstr(fw, "listen") ?: "any");
	fputs(" port ", f);
	esc(f, jstr(fw, "port") ?: "?");
	nl(f, "to ");
	esc(f, jstr(fw, "to") ?: "?");
	if (jstr(fw, "to_port")) {
		fputc(':', f);
		esc(f, jstr(fw, "to_port"));
	}
	label_value(f, "now ", inactive ? "network stopped" : lost ? "no address" : jstr(fw, "to_address"));
	fprintf(f, "\", shape=cds, fillcolor=\"%s\"%s];\n",
		lost	 ? "#fadbd8" :
		inactive ? "#f2f3f4" :
			   "#fef9e7",
		lost	 ? ", color=\"" RED "\", fontcolor=\"" RED "\"" :
		inactive ? ", style=\"filled,dashed\", color=\"" GRAY "\"" :
			   "");
	fprintf(f, "\thost -> fw%zu_%zu [style=dashed];\n", i, k);
	if (to_nic)
		fprintf(f, "\tfw%zu_%zu -> %s [arrowhead=normal, color=\"#b7950b\"];\n", i, k, target);
	else
		fprintf(f, "\tfw%zu_%zu -> net%zu [arrowhead=normal, style=dashed, color=\"%s\"];\n", i, k, i,
			lost	 ? RED :
			inactive ? GRAY :
				   "#b7950b");
}

/* A network's forwards: network.forward.list's entries, else the definition's texts. */
static void draw_forwards(struct graph *g, size_t i)
{
	json_object *n = jat(g->networks, i), *list = jget(g->forwards, jstr(n, "name") ?: "");
	json_object *texts = jget(n, "forwards");

	if (list) {
		for (size_t k = 0; k < jlen(list); k++)
			draw_forward(g, i, k, jat(list, k));
		return;
	}
	for (size_t k = 0; k < jlen(texts); k++) {
		fprintf(g->f, "\tfw%zu_%zu [label=\"forward ", i, k);
		esc(g->f, json_object_get_string(jat(texts, k)) ?: "?");
		fprintf(g->f,
			"\", shape=cds, fillcolor=\"#fef9e7\"];\n\thost -> fw%zu_%zu [style=dashed];\n"
			"\tfw%zu_%zu -> net%zu [arrowhead=normal, color=\"#b7950b\"];\n",
			i, k, i, k, i);
	}
}

int graph_render(json_object *host, char **ret_dot)
{
	struct graph g = {
		.networks = jget(host, "networks"),
		.guests = jget(host, "guests"),
		.uplinks = jget(host, "uplinks"),
		.leases = jget(host, "leases"),
		.forwards = jget(host, "forwards"),
	};
	char *text = NULL;
	size_t size = 0;

	g.f = open_memstream(&text, &size);
	if (!g.f)
		return -ENOMEM;
	draw_header(&g, jget(host, "status"));
	draw_uplinks(&g);
	for (size_t i = 0; i < jlen(g.networks); i++)
		draw_network(&g, i);
	for (size_t i = 0; i < jlen(g.guests); i++)
		draw_guest(&g, i);
	if (jlen(g.networks))
		fputs("\n", g.f);
	for (size_t i = 0; i < jlen(g.networks); i++)
		draw_forwards(&g, i);
	fputs("}\n", g.f);
	if (ferror(g.f)) {
		fclose(g.f);
		free(text);
		return -ENOMEM;
	}
	if (fclose(g.f) != 0) {
		free(text);
		return -ENOMEM;
	}
	*ret_dot = text;
	return 0;
}
