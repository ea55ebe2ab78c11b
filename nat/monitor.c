/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nftables change notifications. Every ruleset transaction ends with an NFT_MSG_NEWGEN message
 * that names the process that made it (NFTA_GEN_PROC_PID): netd ignores its own and reacts to
 * everyone else's (nft flush ruleset, a firewall reload), at once when it touched netd's tables. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "firewall.h"
#include "macro.h"
#include "forward.h"
#include "portsec.h"

int fw_monitor_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1u << (NFNLGRP_NFTABLES - 1) };
	int one = 1;

	if (fd < 0)
		return -errno;
	/* Overruns are not fatal: ENOBUFS on read says events were lost, and netd then checks. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

struct gen {
	pid_t pid;
};

/* Every message about an object of a table (table, chain, rule, set, element, object, flowtable)
 * names its table in attribute 1 (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, ...). */
static int table_attr(const struct nlattr *a, void *data)
{
	bool *netd = data;

	if (mnl_attr_get_type(a) == NFTA_TABLE_NAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0 &&
	    (!strcmp(mnl_attr_get_str(a), FW_TABLE) || !strcmp(mnl_attr_get_str(a), PS_INET_TABLE) ||
	     !strcmp(mnl_attr_get_str(a), FWD_TABLE)))
		*netd = true;
	return MNL_CB_OK;
}

static int gen_attr(const struct nlattr *a, void *data)
{
	struct gen *g = data;

	if (mnl_attr_get_type(a) == NFTA_GEN_PROC_PID && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		g->pid = (pid_t)ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

int fw_monitor_read(int fd, pid_t self)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int foreign = 0;
	/* The messages of one transaction come before its NEWGEN: whether they touched netd's tables
	 * is known by then. A transaction that a read cut in two is seen whole by the next read. */
	static bool touched;

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return foreign;
			if (errno == ENOBUFS)
				return 2; /* events lost: netd's tables may be among them */
			return -errno;
		}
		int left = (int)len;

		for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
		     h = mnl_nlmsg_next(h, &left)) {
			struct gen g = { 0 };

			if (NFNL_SUBSYS_ID(h->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
			    h->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)))
				continue;
			if (NFNL_MSG_TYPE(h->nlmsg_type) != NFT_MSG_NEWGEN) {
				mnl_attr_parse(h, sizeof(struct nfgenmsg), table_attr, &touched);
				continue;
			}
			mnl_attr_parse(h, sizeof(struct nfgenmsg), gen_attr, &g);
			if (g.pid != self && foreign < 2)
				foreign = touched ? 2 : 1;
			touched = false;
		}
	}
}
