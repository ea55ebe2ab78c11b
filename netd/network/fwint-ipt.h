/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The iptables binaries fwint.c runs (fwint-ipt.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ipt.h"

struct daemon;

enum ipt_backend {
	IPT_BACKEND_NFT, /* iptables-nft: tables in the nftables ruleset */
	IPT_BACKEND_LEGACY, /* iptables-legacy: x_tables, invisible to nftables */
};

/* "/usr/sbin/iptables-nft", "/usr/sbin/ip6tables-legacy", ... */
const char *fwint_ipt_binary(enum ipt_backend b, int family);
/* Whether a legacy table filter of family exists in netd's network namespace. */
bool fwint_ipt_legacy_present(struct daemon *d, int family);
/* `iptables -t filter -S` of backend b and family. */
int fwint_ipt_list(struct daemon *d, enum ipt_backend b, int family, struct ipt_listing *ret, char *err,
		   size_t errlen);
/* lines ("-I CHAIN ...\n-D CHAIN ...\n") in table filter, in one `iptables-restore --noflush`. */
int fwint_ipt_restore(struct daemon *d, enum ipt_backend b, int family, const char *lines, char *err,
		      size_t errlen);
