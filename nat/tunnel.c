/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tunnel.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T TUNNEL_FAMILY " " TUNNEL_TABLE

/* "table X" before "delete table X": the delete never fails, and the pair empties the table inside
 * the transaction that fills it again. */
static const char reset[] = "table " T "\ndelete table " T "\n";

/* In the bridge family the IPv4 (and IPv6) header is parsed for bridged frames: udp matches. The
 * input hook is the host's own dnsmasq, forward a local guest, output the host's answers. */
static const char chains[] = "\tchain input {\n"
			     "\t\ttype filter hook input priority filter; policy accept;\n"
			     "\t\tiifname @ports udp dport { 67, 68 } drop\n"
			     "\t}\n"
			     "\n"
			     "\tchain forward {\n"
			     "\t\ttype filter hook forward priority filter; policy accept;\n"
			     "\t\tiifname @ports udp dport { 67, 68 } drop\n"
			     "\t\toifname @ports udp dport { 67, 68 } drop\n"
			     "\t}\n"
			     "\n"
			     "\tchain output {\n"
			     "\t\ttype filter hook output priority filter; policy accept;\n"
			     "\t\toifname @ports udp dport { 67, 68 } drop\n"
			     "\t}\n";

static bool name_ok(const char *s)
{
	if (!s[0] || strlen(s) >= IFNAMSIZ)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

char *tunnel_dhcp_render(const char (*ports)[IFNAMSIZ], size_t n)
{
	char *script = NULL;
	size_t len;
	FILE *f;

	for (size_t i = 0; i < n; i++)
		if (!name_ok(ports[i])) {
			errno = EINVAL;
			return NULL;
		}
	if (n == 0)
		return strdup(reset);
	f = open_memstream(&script, &len);
	if (!f)
		return NULL;
	fprintf(f, "%stable " T " {\n\tset ports {\n\t\ttype ifname\n\t\telements = { ", reset);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", ports[i]);
	fprintf(f, " }\n\t}\n\n%s}\n", chains);
	if (fclose(f) != 0) {
		free(script);
		return NULL;
	}
	return script;
}
