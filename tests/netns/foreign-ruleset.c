/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Prints the other tables of the caller's network namespace as netd lists them for its
 * reachability checks (fw_nft_foreign_ruleset: libnftables JSON, iptables-nft's xt matches put in
 * their native form where netd can tell them). tests/data/reach/capture.sh makes the unit tests'
 * rulesets with it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall.h"

int main(void)
{
	struct fw_nft *f = fw_nft_new();
	char *json = NULL;
	int r;

	if (!f) {
		fprintf(stderr, "foreign-ruleset: cannot create a libnftables context\n");
		return 1;
	}
	r = fw_nft_foreign_ruleset(f, &json);
	fw_nft_free(f);
	if (r < 0) {
		fprintf(stderr, "foreign-ruleset: cannot list the tables: %s\n", strerror(-r));
		return 1;
	}
	puts(json);
	free(json);
	return 0;
}
