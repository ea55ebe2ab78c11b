/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: `iptables -S` listings (nat/ipt.c; netd reads them from iptables-nft and
 * iptables-legacy, whose chains other programs and the admin fill), and the rules netd writes into
 * iptables-restore: a bridge name netd accepts gives one line that reads back as netd's own rule for
 * exactly that bridge. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>

#include "ipt.h"
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void listing(const char *text)
{
	struct ipt_listing l;
	char br[IFNAMSIZ], policy[32];

	if (ipt_listing_parse(text, &l) < 0)
		return;
	for (size_t i = 0; i < l.n; i++) {
		if (ipt_line_tagged_bridge(l.lines[i], br, sizeof(br)) && !ifname_valid(br))
			abort(); /* netd never takes a name it would not write */
		(void)ipt_listing_has_chain(&l, l.lines[i]);
		(void)ipt_listing_policy(&l, l.lines[i], policy, sizeof(policy));
	}
	ipt_listing_done(&l);
}

static void round_trip(const char *name)
{
	for (int m = 0; m < _IPT_MANAGER_MAX; m++) {
		struct ipt_rule r[IPT_RULES_MAX];
		size_t n = ipt_manager_rules(m, m ? AF_INET6 : AF_INET, r);

		for (size_t i = 0; i < n; i++) {
			char line[160], br[IFNAMSIZ];
			struct ipt_listing l;

			if (ipt_rule_line(&r[i], name, true, line, sizeof(line)) < 0) {
				if (ifname_valid(name))
					abort(); /* a valid name always fits */
				continue;
			}
			if (!ifname_valid(name) || strchr(line, '\n') || ipt_listing_parse(line, &l) < 0)
				abort();
			if (l.n != 1 || !ipt_line_tagged_bridge(l.lines[0], br, sizeof(br)) ||
			    strcmp(br, name) || !ipt_listing_has_rule(&l, &r[i], name))
				abort();
			ipt_listing_done(&l);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char name[IFNAMSIZ + 8];

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	listing(text);
	snprintf(name, sizeof(name), "%s", text);
	round_trip(name);
	free(text);
	return 0;
}
