/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netdctl graph: the host's networks as a Graphviz DOT text (graph.c, pure: JSON in, text out). */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

/* At most this many DHCP clients that are no guest of netd's are drawn per network (then "+N"). */
#define GRAPH_CLIENTS_MAX 16
/* At most this many bytes of any one value (a name, a hostname, a problem) go into a label. */
#define GRAPH_VALUE_MAX 96
/* A network's problem (a firewall's rule that blocks it, say) may be longer, in lines. */
#define GRAPH_PROBLEM_MAX 320

/* host: what netd answered, gathered by netdctl (absent members are drawn as empty):
 *   "status":   daemon.status's result (its "version" titles the graph)
 *   "uplinks":  uplink.status's result (converted uplinks: bridge, port, state)
 *   "networks": network.list's result
 *   "guests":   vm.show's result for each guest (vm.list's entry where vm.show failed)
 *   "leases":   { NETWORK: network.leases's result }
 *   "forwards": { NETWORK: network.forward.list's result } (else a network's "forwards" texts)
 * Every value from netd (names, hostnames a guest chose, problems) is escaped for a DOT string:
 * node ids are netdctl's own (net0, g1_nic0, ...), never a name. Returns 0 and the text, or -ENOMEM. */
int graph_render(json_object *host, char **ret_dot);

/* s written into a DOT double-quoted string (without the quotes): '"' and '\' escaped (no escString
 * such as \N or \l comes through), '&' as &amp; (Graphviz reads entities in every label), control
 * characters, bidi controls and bytes that are not UTF-8 as '?', cut after max bytes ("..."). */
void graph_escape(FILE *f, const char *s, size_t max);
