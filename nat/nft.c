/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libnftables: apply netd's script, read back its table's marker, list the other tables for the
 * reachability checks (reach.c). Listings are read as JSON (json-c). Where the kernel keeps an owned
 * table after its owner exits (NFT_TABLE_F_PERSIST), netd's tables are owned by libnftables'
 * netlink socket (see "Owned tables" in nat/DESIGN.md). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall.h"
#include "macro.h"
#include "forward.h"
#include "portsec.h"
#include "reach.h"
#include "tunnel.h"

/* A change of elements is one netlink batch of at most this many bytes (~250 elements): larger
 * ones go through libnftables (fw_nft_apply_elems says -E2BIG). */
#define ELEMS_BATCH_MAX (128 * 1024)
/* The most one element's message takes (table, set, key, key end, data, headers). */
#define ELEM_MSG_MAX 512
/* The receive buffer for a batch's answers (~1 KiB each, ELEMS_BATCH_MAX / ELEM_MSG_MAX of them). */
#define ACK_RCVBUF (512 * 1024)

/* Linux 6.9's, newer than the build's headers may be. */
#ifndef NFT_TABLE_F_PERSIST
#define NFT_TABLE_F_PERSIST 0x4
#endif
#define OWNED_FLAGS (NFT_TABLE_F_OWNER | NFT_TABLE_F_PERSIST)
/* The tables netd owns: its own and port security's. */
static const char *const owned_tables[][2] = {
	{ FW_FAMILY, FW_TABLE },   { PS_FAMILY, PS_TABLE },	    { PS_INET_FAMILY, PS_INET_TABLE },
	{ FWD_FAMILY, FWD_TABLE }, { TUNNEL_FAMILY, TUNNEL_TABLE },
};

static const struct fw_ops nft_ops;

struct fw_nft {
	struct nft_ctx *ctx;
	struct mnl_socket *nl; /* NETLINK_NETFILTER, for changes of elements; NULL until the first */
	uint32_t seq;
	/* Owned tables: libnftables' own netlink socket (the owner of netd's tables, since the
	 * kernel lets only the owner's socket change an owned table), its port id; -1: not owned. */
	int owner_fd;
	uint32_t owner_portid;
};

/* The NETLINK_NETFILTER sockets of this process into fds (at most max), their number. */
static size_t nf_sockets(int *fds, size_t max)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	size_t n = 0;

	if (!dir)
		return 0;
	while ((e = readdir(dir)) && n < max) {
		int fd = atoi(e->d_name), v;
		socklen_t len = sizeof(v);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(dir))
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 || v != AF_NETLINK)
			continue;
		len = sizeof(v);
		if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) < 0 || v != NETLINK_NETFILTER)
			continue;
		fds[n++] = fd;
	}
	closedir(dir);
	return n;
}

static uint32_t portid_of(int fd)
{
	struct sockaddr_nl sa = {};
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || sa.nl_family != AF_NETLINK)
		return 0;
	return sa.nl_pid;
}

/* A libnftables context; with find_socket, its netlink socket too: libnftables 1.0.6 opens it in
 * nft_ctx_new and keeps it for the context's life (it has not reopened it since nftables 0.9.9),
 * but has no call that gives it out, so it is the NETLINK_NETFILTER socket that was not there
 * before (netd is single-threaded). */
static struct fw_nft *nft_new(bool find_socket)
{
	struct fw_nft *f = calloc(1, sizeof(*f));
	int before[64], after[64];
	size_t n_before = 0, n_after;

	if (!f)
		return NULL;
	f->owner_fd = -1;
	if (find_socket)
		n_before = nf_sockets(before, ELEMENTSOF(before));
	f->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!f->ctx || nft_ctx_buffer_output(f->ctx) < 0 || nft_ctx_buffer_error(f->ctx) < 0) {
		fw_nft_free(f);
		return NULL;
	}
	if (!find_socket)
		return f;
	n_after = nf_sockets(after, ELEMENTSOF(after));
	for (size_t i = 0; i < n_after; i++) {
		bool old = false;

		for (size_t j = 0; j < n_before; j++)
			old |= before[j] == after[i];
		if (old)
			continue;
		if (f->owner_fd >= 0) { /* two new ones: which is which is unknown */
			f->owner_fd = -1;
			break;
		}
		f->owner_fd = after[i];
	}
	if (f->owner_fd < 0)
		return f;
	/* libnftables leaves it unbound (the kernel gives it a port id on its first send, and
	 * libnftables checks no port id in answers): bound now, its port id is known from the start. */
	f->owner_portid = portid_of(f->owner_fd);
	if (!f->owner_portid) {
		struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

		(void)bind(f->owner_fd, (struct sockaddr *)&sa, sizeof(sa));
		f->owner_portid = portid_of(f->owner_fd);
	}
	if (!f->owner_portid)
		f->owner_fd = -1;
	return f;
}

struct fw_nft *fw_nft_new(void)
{
	return nft_new(false);
}

void fw_nft_free(struct fw_nft *f)
{
	if (!f)
		return;
	if (f->ctx)
		nft_ctx_free(f->ctx);
	if (f->nl)
		mnl_socket_close(f->nl);
	free(f);
}

/* Run cmd; on failure copy libnftables' message (first line that says something) into err. */
static int run(struct fw_nft *f, const char *cmd, bool json, char *err, size_t errlen)
{
	unsigned flags = nft_ctx_output_get_flags(f->ctx);

	nft_ctx_output_set_flags(f->ctx, json ? flags | NFT_CTX_OUTPUT_JSON : flags & ~NFT_CTX_OUTPUT_JSON);
	/* Reading a buffer empties it: start from clean ones, whatever an earlier command left. */
	(void)nft_ctx_get_error_buffer(f->ctx);
	(void)nft_ctx_get_output_buffer(f->ctx);
	if (nft_run_cmd_from_buffer(f->ctx, cmd) == 0)
		return 0;
	if (err && errlen) {
		const char *e = nft_ctx_get_error_buffer(f->ctx);
		size_t n;

		const char *ctx;
		size_t m;

		while (e && (*e == '\n' || *e == ' '))
			e++;
		n = e ? strcspn(e, "\n") : 0;
		if (!n) {
			snprintf(err, errlen, "libnftables failed without a message");
			return -EIO;
		}
		/* libnftables prints the message, then the command it refers to: keep both. */
		ctx = e[n] ? e + n + 1 : "";
		while (*ctx == ' ' || *ctx == '\t')
			ctx++;
		m = strcspn(ctx, "\n");
		snprintf(err, errlen, "%.*s%s%.*s", (int)n, e, m ? " in: " : "", (int)(m < 160 ? m : 160), ctx);
	}
	return -EIO;
}

static struct nlmsghdr *batch_msg(char *buf, size_t *off, uint16_t type, uint16_t flags, uint8_t family,
				  uint16_t res_id, uint32_t seq)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf + *off);
	struct nfgenmsg *g;

	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return h;
}

static void put_data(struct nlmsghdr *h, uint16_t type, const void *data, size_t len)
{
	struct nlattr *n = mnl_attr_nest_start(h, type);

	mnl_attr_put(h, NFTA_DATA_VALUE, len, data);
	mnl_attr_nest_end(h, n);
}

/* The element's message: one element, its key. */
static void elem_msg(char *buf, size_t *off, const char *family_name, const char *table,
		     const struct fw_elem *e, uint32_t seq)
{
	uint8_t family = !strcmp(family_name, "ip") ? NFPROTO_IPV4 : NFPROTO_INET;
	uint16_t type = (NFNL_SUBSYS_NFTABLES << 8) | (e->add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
	struct nlmsghdr *h =
		batch_msg(buf, off, type, NLM_F_ACK | (e->add ? NLM_F_CREATE : 0), family, 0, seq);
	struct nlattr *list, *el;

	mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_SET, e->set);
	list = mnl_attr_nest_start(h, NFTA_SET_ELEM_LIST_ELEMENTS);
	el = mnl_attr_nest_start(h, NFTA_LIST_ELEM);
	put_data(h, NFTA_SET_ELEM_KEY, e->key, e->len);
	mnl_attr_nest_end(h, el);
	mnl_attr_nest_end(h, list);
	*off += h->nlmsg_len;
}

/* The kernel's extended-ACK text of an error answer, "" if none. */
static const char *ext_ack_msg(const struct nlmsghdr *m)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
	size_t offset = sizeof(*e);
	const struct nlattr *attr;

	if (!(m->nlmsg_flags & NLM_F_ACK_TLVS))
		return "";
	/* Unless capped, an error echoes the whole request before the TLVs. */
	if (!(m->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= sizeof(struct nlmsghdr))
		offset += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (offset > mnl_nlmsg_get_payload_len(m))
		return "";
	mnl_attr_for_each(attr, m, offset)
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			return mnl_attr_get_str(attr);
	return "";
}

/* The socket netd's own batches go on: libnftables' when it owns netd's tables (only the owner's
 * socket may change them), else one of netd's own, opened on first use. */
static int batch_socket(struct fw_nft *f, char *err, size_t errlen)
{
	int size = ACK_RCVBUF, on = 1, fd;

	if (f->owner_fd >= 0) {
		if (portid_of(f->owner_fd) != f->owner_portid) {
			snprintf(err, errlen,
				 "libnftables' netlink socket, the owner of netd's tables, has changed; "
				 "restart netd to own them again");
			return -EIO;
		}
		/* libnftables sizes the buffer for its own batches each time: size it for ours. */
		if (setsockopt(f->owner_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
			(void)setsockopt(f->owner_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		(void)setsockopt(f->owner_fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
		return f->owner_fd;
	}
	if (f->nl)
		return mnl_socket_get_fd(f->nl);
	f->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!f->nl || mnl_socket_bind(f->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;

		snprintf(err, errlen, "cannot open a netfilter netlink socket: %s", strerror(errno));
		if (f->nl)
			mnl_socket_close(f->nl);
		f->nl = NULL;
		return r;
	}
	fd = mnl_socket_get_fd(f->nl);
	/* An answer per element: each takes ~1 KiB of the receive buffer until read (nft sizes it the
	 * same way), and an overrun would lose the answers of a batch the kernel committed. Errors:
	 * capped, with the kernel's message. (Not on libnftables' socket: its own error parsing
	 * expects the whole request echoed.) */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
	return fd;
}

static uint8_t family_number(const char *family)
{
	static const struct {
		const char *name;
		uint8_t nfproto;
	} families[] = {
		{ "ip", NFPROTO_IPV4 }, { "ip6", NFPROTO_IPV6 },      { "inet", NFPROTO_INET },
		{ "arp", NFPROTO_ARP }, { "bridge", NFPROTO_BRIDGE }, { "netdev", NFPROTO_NETDEV },
	};

	for (size_t i = 0; i < ELEMENTSOF(families); i++)
		if (!strcmp(family, families[i].name))
			return families[i].nfproto;
	return NFPROTO_UNSPEC;
}

/* Send len bytes of buf (messages with sequence numbers first..last) on fd and read every answer:
 * 0, or the first error (the kernel's message into msg). Other answers go to cb. */
static int talk(int fd, const char *buf, size_t len, uint32_t first, uint32_t last,
		void (*cb)(const struct nlmsghdr *m, void *data), void *data, char *msg, size_t msglen)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	int first_err = 0;
	ssize_t n;

	/* Answers left by a request cut short are not this one's. */
	while (recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT) > 0 || errno == EINTR)
		;
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	/* The kernel answers while the request is sent: every answer is queued by now. */
	while ((n = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT)) != 0) {
		int left = (int)n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		for (const struct nlmsghdr *m = (const struct nlmsghdr *)rbuf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);

			if (m->nlmsg_seq < first || m->nlmsg_seq > last)
				continue;
			if (m->nlmsg_type != NLMSG_ERROR) {
				if (cb)
					cb(m, data);
			} else if (m->nlmsg_len >= mnl_nlmsg_size(sizeof(*e)) && e->error && !first_err) {
				first_err = e->error;
				if (msglen)
					snprintf(msg, msglen, "%s", ext_ack_msg(m));
			}
		}
	}
	return first_err;
}

struct table_info {
	bool found;
	uint32_t flags, owner;
};

static int table_info_attr(const struct nlattr *a, void *data)
{
	struct table_info *t = data;
	uint16_t type = mnl_attr_get_type(a);

	if ((type == NFTA_TABLE_FLAGS || type == NFTA_TABLE_OWNER) && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		*(type == NFTA_TABLE_FLAGS ? &t->flags : &t->owner) = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

static void table_info_answer(const struct nlmsghdr *m, void *data)
{
	struct table_info *t = data;

	if (NFNL_MSG_TYPE(m->nlmsg_type) != NFT_MSG_NEWTABLE ||
	    m->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)))
		return;
	t->found = true;
	mnl_attr_parse(m, sizeof(struct nfgenmsg), table_info_attr, t);
}

/* A table's message: its name, and for a new one netd's flags. */
static void table_msg(char *buf, size_t *off, uint16_t type, const char *family, const char *table,
		      uint32_t seq)
{
	struct nlmsghdr *h = batch_msg(buf, off, (NFNL_SUBSYS_NFTABLES << 8) | type,
				       NLM_F_ACK | (type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0),
				       family_number(family), 0, seq);

	mnl_attr_put_strz(h, NFTA_TABLE_NAME, table);
	if (type == NFT_MSG_NEWTABLE)
		mnl_attr_put_u32(h, NFTA_TABLE_FLAGS, htonl(OWNED_FLAGS));
	*off += h->nlmsg_len;
}

/* The flags and owner of table FAMILY TABLE; -ENOENT when there is none. */
static int table_get(struct fw_nft *f, int fd, const char *family, const char *table, struct table_info *ret)
{
	char buf[512];
	size_t off = 0;
	uint32_t seq = ++f->seq;
	struct table_info t = {};
	int r;

	table_msg(buf, &off, NFT_MSG_GETTABLE, family, table, seq);
	r = talk(fd, buf, off, seq, seq, table_info_answer, &t, NULL, 0);
	if (r < 0)
		return r;
	if (!t.found)
		return -ENOENT;
	*ret = t;
	return 0;
}

/* One transaction of n table messages of the types given, on table FAMILY TABLE. */
static int table_batch(struct fw_nft *f, int fd, const char *family, const char *table, const uint16_t *types,
		       size_t n, char *msg, size_t msglen)
{
	char buf[2048];
	size_t off = 0;
	uint32_t base = f->seq + 1;
	struct nlmsghdr *h;

	f->seq = base + (uint32_t)n + 1;
	h = batch_msg(buf, &off, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, base);
	off += h->nlmsg_len;
	for (size_t i = 0; i < n; i++)
		table_msg(buf, &off, types[i], family, table, base + 1 + (uint32_t)i);
	h = batch_msg(buf, &off, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES,
		      base + 1 + (uint32_t)n);
	off += h->nlmsg_len;
	return talk(fd, buf, off, base, base + 1 + (uint32_t)n, NULL, NULL, msg, msglen);
}

static const uint16_t make_table[] = { NFT_MSG_NEWTABLE };
static const uint16_t drop_table[] = { NFT_MSG_DELTABLE };
static const uint16_t replace_table[] = { NFT_MSG_DELTABLE, NFT_MSG_NEWTABLE };

/* Make libnftables' socket the owner of table FAMILY TABLE: created with netd's flags when create
 * and it is missing; taken over when its owner has gone (it persisted); replaced by an empty owned
 * table when it was made without the flags (by an older netd or --nft-table-flags none), which
 * leaves no rules until the apply that follows. */
static int own_table(struct fw_nft *f, const char *family, const char *table, bool create, char *err,
		     size_t errlen)
{
	char msg[256] = "";
	struct table_info t;
	int r = table_get(f, f->owner_fd, family, table, &t);

	if (r == -ENOENT && !create)
		return 0;
	if (r < 0 && r != -ENOENT) {
		snprintf(err, errlen, "cannot read table %s %s: %s", family, table, strerror(-r));
		return r;
	}
	if (r == 0 && (t.flags & NFT_TABLE_F_OWNER)) {
		if (t.owner == f->owner_portid)
			return 0;
		snprintf(err, errlen,
			 "table %s %s is owned by another process (netlink port id %u); is another netd "
			 "running in this network namespace?",
			 family, table, t.owner);
		return -EPERM;
	}
	if (r == 0 && !(t.flags & NFT_TABLE_F_PERSIST))
		r = table_batch(f, f->owner_fd, family, table, replace_table, ELEMENTSOF(replace_table), msg,
				sizeof(msg));
	else
		r = table_batch(f, f->owner_fd, family, table, make_table, ELEMENTSOF(make_table), msg,
				sizeof(msg));
	if (r < 0)
		snprintf(err, errlen, "cannot make netd the owner of table %s %s: %s%s%s", family, table,
			 strerror(-r), msg[0] ? ": " : "", msg);
	return r;
}

int fw_nft_apply_elems(struct fw_nft *f, const char *family, const char *table, const struct fw_elem *elems,
		       size_t n, char *err, size_t errlen)
{
	_cleanup_free_ char *buf = NULL;
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	size_t off = 0, acks = 0;
	struct nlmsghdr *h;
	uint32_t base;
	int first_err = 0, r, fd;
	ssize_t len;

	if ((n + 2) * ELEM_MSG_MAX > ELEMS_BATCH_MAX) {
		snprintf(err, errlen, "too many elements for one batch (%zu)", n);
		return -E2BIG;
	}
	fd = batch_socket(f, err, errlen);
	if (fd < 0)
		return fd;
	buf = calloc(1, ELEMS_BATCH_MAX);
	if (!buf)
		return -ENOMEM;
	/* Answers left by an earlier batch that failed half-way are not this one's. */
	while (recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT) > 0 || errno == EINTR)
		;
	/* Sequence numbers never reused: base .. base + n + 1. */
	base = f->seq + 1;
	f->seq = base + (uint32_t)n + 1;
	h = batch_msg(buf, &off, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, base);
	off += h->nlmsg_len;
	for (size_t i = 0; i < n; i++)
		elem_msg(buf, &off, family, table, &elems[i], base + 1 + i);
	h = batch_msg(buf, &off, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, base + 1 + n);
	off += h->nlmsg_len;
	if (sendto(fd, buf, off, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot send the change to the kernel: %s", strerror(-r));
		return r;
	}
	/* The kernel runs the batch while sending it: every answer is queued by now. */
	while ((len = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT)) != 0) {
		int left;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			r = -errno;
			snprintf(err, errlen, "cannot read the kernel's answer: %s", strerror(-r));
			return r;
		}
		left = (int)len;
		for (const struct nlmsghdr *m = (const struct nlmsghdr *)rbuf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);

			uint32_t i = m->nlmsg_seq - base - 1; /* the element; UINT32_MAX: the batch itself */

			if (m->nlmsg_type != NLMSG_ERROR || m->nlmsg_len < mnl_nlmsg_size(sizeof(*e)) ||
			    m->nlmsg_seq < base || m->nlmsg_seq > base + n)
				continue; /* not an answer to this batch */
			if (i < n)
				acks++;
			if (e->error && !first_err) {
				const char *msg = ext_ack_msg(m);

				first_err = e->error;
				if (i < n)
					snprintf(err, errlen, "%s element %s %s %s: %s%s%s",
						 elems[i].add ? "add" : "delete", family, table, elems[i].set,
						 strerror(-e->error), msg[0] ? ": " : "", msg);
				else
					snprintf(err, errlen, "a change of table %s %s: %s%s%s", family, table,
						 strerror(-e->error), msg[0] ? ": " : "", msg);
			}
		}
	}
	if (first_err)
		return first_err;
	if (acks != n) {
		snprintf(err, errlen, "the kernel answered %zu of %zu changes of elements", acks, n);
		return -EIO;
	}
	return 0;
}

/* The "nftables" array of a JSON listing, or NULL. The caller owns *root. */
static json_object *listing(struct fw_nft *f, const char *cmd, json_object **root)
{
	json_object *a;

	*root = NULL;
	if (run(f, cmd, true, NULL, 0) < 0)
		return NULL;
	*root = json_tokener_parse(nft_ctx_get_output_buffer(f->ctx));
	if (!*root || !json_object_object_get_ex(*root, "nftables", &a) || !json_object_is_type(a, json_type_array))
		return NULL;
	return a;
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
												 : NULL;
}

/* A marker set's element, {"concat": ["netd", "0123abcd", "4567ef01", "42"]}, as the marker text. */
static void marker_of_element(json_object *e, char *buf, size_t size)
{
	const char *names[4];
	json_object *c;

	if (!json_object_object_get_ex(e, "concat", &c) || !json_object_is_type(c, json_type_array) ||
	    json_object_array_length(c) != 4)
		return;
	for (size_t i = 0; i < 4; i++) {
		json_object *v = json_object_array_get_idx(c, i);

		if (!json_object_is_type(v, json_type_string))
			return;
		names[i] = json_object_get_string(v);
	}
	fw_marker_from_names(names, buf, size);
}

int fw_nft_table_state(struct fw_nft *f, const char *family, const char *table, const char *marker_set,
		       char *marker, size_t size, size_t *ret_rules, size_t *ret_elements)
{
	_cleanup_free_ char *cmd = NULL;
	json_object *root, *a;
	const char *comment = NULL;
	char from_element[FW_MARKER_MAX] = "";
	size_t rules = 0, elements = 0;

	if (asprintf(&cmd, "list table %s %s", family, table) < 0)
		return -ENOMEM;
	a = listing(f, cmd, &root);
	if (!a) {
		json_object_put(root);
		return -ENOENT;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *item = json_object_array_get_idx(a, i), *o;

		if (json_object_object_get_ex(item, "rule", &o)) {
			rules++;
		} else if (json_object_object_get_ex(item, "set", &o) ||
			   json_object_object_get_ex(item, "map", &o)) {
			/* netd's table has no map: one added by another process counts too */
			json_object *elem;

			if (json_object_object_get_ex(o, "elem", &elem) && json_object_is_type(elem, json_type_array))
				elements += json_object_array_length(elem);
			else
				elem = NULL;
			if (!strcmp(str(o, "name") ?: "", marker_set)) {
				comment = str(o, "comment");
				if (elem && json_object_array_length(elem) == 1)
					marker_of_element(json_object_array_get_idx(elem, 0), from_element,
							  sizeof(from_element));
			}
		}
	}
	snprintf(marker, size, "%s", comment ?: from_element);
	*ret_rules = rules;
	*ret_elements = elements;
	json_object_put(root);
	return 0;
}

int ps_kernel_state(const struct fw_backend *b, char *marker, size_t size, size_t *ret_rules,
		    size_t *ret_elements)
{
	size_t rules = 0, elements = 0;
	char unused[8];
	int r = b->ops->table_state(b->userdata, PS_FAMILY, PS_TABLE, "ports", marker, size, ret_rules,
				    ret_elements);
	int r2 = b->ops->table_state(b->userdata, PS_INET_FAMILY, PS_INET_TABLE, "-", unused, sizeof(unused),
				     &rules, &elements);

	if (r == -ENOENT && r2 == -ENOENT)
		return -ENOENT;
	if (r == -ENOENT) {
		snprintf(marker, size, "%s", "");
		*ret_rules = *ret_elements = 0;
	} else if (r < 0) {
		return r;
	}
	if (r2 < 0 && r2 != -ENOENT)
		return r2;
	*ret_rules += rules;
	*ret_elements += elements;
	return 0;
}

int fw_kernel_marker(const struct fw_backend *b, char *buf, size_t size)
{
	char marker[128];
	size_t rules, elements;
	const char *p;
	int r = b->ops->table_state(b->userdata, FW_FAMILY, FW_TABLE, FW_MARKER_SET, marker, sizeof(marker),
				    &rules, &elements);

	if (r < 0)
		return r;
	/* The marker ends in the number of rules and set elements netd put in: fewer means someone
	 * flushed a chain or a set. */
	p = strrchr(marker, ':');
	if (p && strtoul(p + 1, NULL, 10) == rules + elements)
		snprintf(buf, size, "%s", marker);
	else if (size)
		buf[0] = 0;
	return 0;
}

/* Whether a table is listed with the others: families whose chains see a network's IPv4 and IPv6
 * traffic, not netd's own tables. */
static bool foreign_table(const char *family, const char *name)
{
	if (strcmp(family, "ip") && strcmp(family, "ip6") && strcmp(family, "inet"))
		return false;
	return !(!strcmp(family, FW_FAMILY) && !strcmp(name, FW_TABLE)) &&
	       !(!strcmp(family, PS_INET_FAMILY) && !strcmp(name, PS_INET_TABLE)) &&
	       !(!strcmp(family, FWD_FAMILY) && !strcmp(name, FWD_TABLE));
}

/* A name nft's parser takes as it is in "list table FAMILY NAME". */
static bool plain_name(const char *s)
{
	if (!s[0] || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

/* Append the items of listing cmd to all; *ret_xt: whether they hold iptables-nft's xt matches. */
static int append_listing(struct fw_nft *f, const char *cmd, json_object *all, bool *ret_xt)
{
	json_object *root, *a = listing(f, cmd, &root);

	if (!a) {
		json_object_put(root);
		return -ENOENT;
	}
	*ret_xt = strstr(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN), "{\"xt\":");
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (json_object_array_add(all, json_object_get(json_object_array_get_idx(a, i))) < 0) {
			json_object_put(root);
			return -ENOMEM;
		}
	json_object_put(root);
	return 0;
}

/* The rule of items with this family, table and handle, or NULL. */
static json_object *rule_of(json_object *items, const char *family, const char *table, uint64_t handle)
{
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *r, *h;

		if (!json_object_object_get_ex(json_object_array_get_idx(items, i), "rule", &r) ||
		    !json_object_object_get_ex(r, "handle", &h) ||
		    (uint64_t)json_object_get_int64(h) != handle || strcmp(str(r, "family") ?: "", family) ||
		    strcmp(str(r, "table") ?: "", table))
			continue;
		return r;
	}
	return NULL;
}

struct xt_dump {
	json_object *items;
	const char *family, *table;
};

/* Put the k-th xt match of rule r's expressions in its JSON as the native match it stands for. */
static void xt_replace(json_object *r, size_t k, const char *name, uint32_t rev, const void *info, size_t len)
{
	json_object *expr, *native;
	_cleanup_free_ char *text = reach_xt_match_json(name, rev, info, len);
	size_t seen = 0;

	if (!text || !json_object_object_get_ex(r, "expr", &expr) ||
	    !json_object_is_type(expr, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(expr); i++) {
		json_object *x;

		if (!json_object_object_get_ex(json_object_array_get_idx(expr, i), "xt", &x) ||
		    strcmp(str(x, "type") ?: "", "match") || seen++ != k)
			continue;
		native = json_tokener_parse(text);
		if (native && json_object_array_put_idx(expr, i, native) < 0)
			json_object_put(native);
		return;
	}
}

/* One rule of the dump: its "match" expressions, in order, replace the listing's xt matches. */
static int xt_rule_cb(const struct nlmsghdr *h, void *data)
{
	struct xt_dump *x = data;
	struct nlattr *tb[NFTA_RULE_MAX + 1] = {}, *a, *e;
	json_object *r;
	size_t k = 0;

	mnl_attr_for_each(a, h, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) <= NFTA_RULE_MAX)
			tb[mnl_attr_get_type(a)] = a;
	if (!tb[NFTA_RULE_HANDLE] || !tb[NFTA_RULE_EXPRESSIONS] ||
	    mnl_attr_get_payload_len(tb[NFTA_RULE_HANDLE]) != sizeof(uint64_t))
		return MNL_CB_OK;
	r = rule_of(x->items, x->family, x->table, be64toh(mnl_attr_get_u64(tb[NFTA_RULE_HANDLE])));
	if (!r)
		return MNL_CB_OK;
	mnl_attr_for_each_nested(e, tb[NFTA_RULE_EXPRESSIONS]) {
		struct nlattr *name = NULL, *edata = NULL, *mname = NULL, *mrev = NULL, *minfo = NULL, *b;

		mnl_attr_for_each_nested(b, e) {
			if (mnl_attr_get_type(b) == NFTA_EXPR_NAME &&
			    mnl_attr_validate(b, MNL_TYPE_NUL_STRING) >= 0)
				name = b;
			else if (mnl_attr_get_type(b) == NFTA_EXPR_DATA)
				edata = b;
		}
		if (!name || !edata || strcmp(mnl_attr_get_str(name), "match"))
			continue;
		mnl_attr_for_each_nested(b, edata) {
			if (mnl_attr_get_type(b) == NFTA_MATCH_NAME &&
			    mnl_attr_validate(b, MNL_TYPE_NUL_STRING) >= 0)
				mname = b;
			else if (mnl_attr_get_type(b) == NFTA_MATCH_REV &&
				 mnl_attr_get_payload_len(b) == sizeof(uint32_t))
				mrev = b;
			else if (mnl_attr_get_type(b) == NFTA_MATCH_INFO)
				minfo = b;
		}
		if (mname && mrev && minfo)
			xt_replace(r, k, mnl_attr_get_str(mname), ntohl(mnl_attr_get_u32(mrev)),
				   mnl_attr_get_payload(minfo), mnl_attr_get_payload_len(minfo));
		k++;
	}
	return MNL_CB_OK;
}

/* iptables-nft's matches ("xt match conntrack") are listed without their options: read table
 * FAMILY TABLE's rules from the kernel and put the ones netd can tell in their native form
 * (reach_xt_match_json), so that ufw's and Docker's conntrack and addrtype rules can be judged.
 * Best effort: on any failure the listing stays as it was. */
static void xt_decode(json_object *items, const char *family, const char *table)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct xt_dump x = { .items = items, .family = family, .table = table };
	uint8_t nfproto = !strcmp(family, "ip")	 ? NFPROTO_IPV4 :
			  !strcmp(family, "ip6") ? NFPROTO_IPV6 :
						   NFPROTO_INET;
	struct nlmsghdr *h;
	size_t off = 0;
	uint32_t seq = 1, portid;
	ssize_t n;
	int r = MNL_CB_OK;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		if (nl)
			mnl_socket_close(nl);
		return;
	}
	portid = mnl_socket_get_portid(nl);
	h = batch_msg(buf, &off, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE, NLM_F_DUMP, nfproto, 0, seq);
	mnl_attr_put_strz(h, NFTA_RULE_TABLE, table);
	if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0) {
		mnl_socket_close(nl);
		return;
	}
	while (r > MNL_CB_STOP && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
		r = mnl_cb_run(buf, (size_t)n, seq, portid, xt_rule_cb, &x);
	mnl_socket_close(nl);
}

/* Each foreign table of tables (a "list tables" listing) into all, table by table, so that netd's
 * own (a set element per network) is not listed. -ENOENT when one cannot be listed by name (a
 * name that is one of nft's keywords, "list table inet sets" fails): list the whole ruleset. */
static int list_foreign_tables(struct fw_nft *f, json_object *tables, json_object *all)
{
	for (size_t i = 0; i < json_object_array_length(tables); i++) {
		json_object *t;
		const char *family, *name;
		char cmd[128];
		bool xt;
		int r;

		if (!json_object_object_get_ex(json_object_array_get_idx(tables, i), "table", &t))
			continue;
		family = str(t, "family");
		name = str(t, "name");
		if (!family || !name || !foreign_table(family, name))
			continue;
		if (!plain_name(name))
			return -ENOENT;
		snprintf(cmd, sizeof(cmd), "list table %s %s", family, name);
		r = append_listing(f, cmd, all, &xt);
		if (r < 0)
			return r;
		if (xt)
			xt_decode(all, family, name);
	}
	return 0;
}

/* The whole ruleset into all (emptied first), the foreign tables' xt matches decoded. */
static int list_whole(struct fw_nft *f, json_object *tables, json_object *all)
{
	bool xt;
	int r;

	json_object_array_del_idx(all, 0, json_object_array_length(all));
	r = append_listing(f, "list ruleset", all, &xt);
	for (size_t i = 0; r >= 0 && xt && i < json_object_array_length(tables); i++) {
		json_object *t;
		const char *family, *name;

		if (!json_object_object_get_ex(json_object_array_get_idx(tables, i), "table", &t))
			continue;
		family = str(t, "family");
		name = str(t, "name");
		if (family && name && foreign_table(family, name))
			xt_decode(all, family, name);
	}
	return r;
}

int fw_nft_foreign_ruleset(struct fw_nft *f, char **ret_json)
{
	json_object *root, *a = listing(f, "list tables", &root), *all = NULL, *doc = NULL;
	int r;

	*ret_json = NULL;
	if (!a) {
		json_object_put(root);
		*ret_json = strdup("");
		return *ret_json ? 0 : -ENOMEM; /* no ruleset at all: nothing blocks */
	}
	all = json_object_new_array();
	doc = json_object_new_object();
	if (!all || !doc || json_object_object_add(doc, "nftables", all) < 0) {
		json_object_put(all);
		r = -ENOMEM;
		goto out;
	}
	r = list_foreign_tables(f, a, all);
	if (r == -ENOENT)
		r = list_whole(f, a, all);
	if (r >= 0) {
		*ret_json = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
		if (!*ret_json)
			r = -ENOMEM;
	}
out:
	json_object_put(doc);
	json_object_put(root);
	return r;
}

/*
 * Scripts for owned tables. libnftables sends every "table X" statement, bare or with a block, as a
 * NEWTABLE carrying the table's flags (none: nft 1.0.6's syntax has no persist), and the kernel
 * refuses to take the owner flag off a table, so no script may name the table itself:
 * - "table X" + "delete table X" (empty the table inside the transaction that fills it) becomes
 *   "flush table X" and a "delete chain"/"delete set" of each chain and set it has;
 * - the same pair with no block for X in the script (remove the table) becomes "delete table X";
 * - "table X { ... }" becomes "add set", "add chain" and "add rule" commands (sets and chains first:
 *   a rule may jump to a chain declared after it).
 * The result is still one transaction. The table itself is created or taken over first (own_table).
 */

/* Whether line [l, l + n) is "table FAMILY TABLE" (*block false) or "table FAMILY TABLE {". */
static bool table_line(const char *l, size_t n, char family[static 16], char table[static 64], bool *block)
{
	char line[160], brace[4] = "";
	int end = 0;

	if (n >= sizeof(line) || strncmp(l, "table ", 6))
		return false;
	memcpy(line, l, n);
	line[n] = 0;
	if (sscanf(line, "table %15s %63s%n %3s", family, table, &end, brace) < 2)
		return false;
	*block = !strcmp(brace, "{");
	return *block || line[end] == 0;
}

static const char *next_line(const char *p, size_t *n)
{
	*n = strcspn(p, "\n");
	return p[*n] ? p + *n + 1 : p + *n;
}

/* "flush table" and the deletion of each chain and set of table FAMILY TABLE. */
static int empty_table(struct fw_nft *f, FILE *o, const char *family, const char *table, char *err,
		       size_t errlen)
{
	_cleanup_free_ char *cmd = NULL;
	json_object *root, *a;

	if (asprintf(&cmd, "list table %s %s", family, table) < 0)
		return -ENOMEM;
	a = listing(f, cmd, &root);
	if (!a) {
		json_object_put(root);
		snprintf(err, errlen, "cannot list table %s %s", family, table);
		return -EIO;
	}
	fprintf(o, "flush table %s %s\n", family, table);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		static const char *const kinds[] = { "chain", "set", "map" };
		json_object *item = json_object_array_get_idx(a, i), *o2;

		for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
			if (json_object_object_get_ex(item, kinds[k], &o2) && str(o2, "name"))
				fprintf(o, "delete %s %s %s %s\n", kinds[k], family, table, str(o2, "name"));
	}
	json_object_put(root);
	return 0;
}

/* Turn the block of table FAMILY TABLE that starts at *pp (after its opening line) into commands,
 * declarations into o, rules into rules; *pp is left after its closing brace. */
static int flatten_block(FILE *o, FILE *rules, const char *family, const char *table, const char **pp,
			 char *err, size_t errlen)
{
	const char *p = *pp;
	size_t n;

	while (*p) {
		const char *l = p, *end;
		char kind[8], name[64], line[128];
		bool chain, first;

		p = next_line(p, &n);
		if (n == 1 && l[0] == '}') {
			*pp = p;
			return 0;
		}
		if (strspn(l, " \t") == n)
			continue;
		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1), l);
		if (sscanf(line, "\t%7s %63s {", kind, name) != 2 || strcmp(line + strlen(line) - 2, " {") ||
		    (strcmp(kind, "set") && strcmp(kind, "map") && strcmp(kind, "chain"))) {
			snprintf(err, errlen, "cannot turn '%s' of table %s %s into commands", line, family,
				 table);
			return -EINVAL;
		}
		chain = !strcmp(kind, "chain");
		first = true;
		if (!chain)
			fprintf(o, "add %s %s %s %s {", kind, family, table, name);
		for (;;) {
			l = p;
			p = next_line(p, &n);
			if (!*l) {
				snprintf(err, errlen, "%s %s of table %s %s has no end", kind, name, family,
					 table);
				return -EINVAL;
			}
			if (n == 2 && !strncmp(l, "\t}", 2))
				break;
			end = l + n;
			l += strspn(l, " \t");
			if (l == end)
				continue;
			if (!chain) {
				fprintf(o, " %.*s;", (int)(end - l), l);
			} else if (first && !strncmp(l, "type ", 5)) {
				fprintf(o, "add chain %s %s %s { %.*s }\n", family, table, name,
					(int)(end - l), l);
			} else {
				if (first)
					fprintf(o, "add chain %s %s %s\n", family, table, name);
				fprintf(rules, "add rule %s %s %s %.*s\n", family, table, name,
					(int)(end - l), l);
			}
			first = false;
		}
		if (!chain)
			fputs(" }\n", o);
		else if (first)
			fprintf(o, "add chain %s %s %s\n", family, table, name);
	}
	snprintf(err, errlen, "table %s %s has no end", family, table);
	return -EINVAL;
}

/* Whether script has a block for table FAMILY TABLE. */
static bool has_block(const char *script, const char *family, const char *table)
{
	char line[128];
	const char *h;

	snprintf(line, sizeof(line), "table %s %s {\n", family, table);
	h = strstr(script, line);
	return h && (h == script || h[-1] == '\n');
}

/* Commands for the table statements at p (a line "table X"), into o; *pp after them. */
static int table_statement(struct fw_nft *f, FILE *o, FILE *rules, const char *script, const char **pp,
			   char *err, size_t errlen)
{
	char family[16], table[64], del[128];
	struct table_info t;
	bool block;
	size_t n, n2;
	const char *after = next_line(*pp, &n), *after2;
	int r;

	if (!table_line(*pp, n, family, table, &block))
		return 0;
	if (block) {
		r = own_table(f, family, table, true, err, errlen);
		if (r >= 0)
			r = flatten_block(o, rules, family, table, &after, err, errlen);
		*pp = after;
		return r < 0 ? r : 1;
	}
	snprintf(del, sizeof(del), "delete table %s %s", family, table);
	after2 = next_line(after, &n2);
	if (n2 != strlen(del) || strncmp(after, del, n2)) { /* "table X" alone: create it */
		*pp = after;
		r = own_table(f, family, table, true, err, errlen);
		return r < 0 ? r : 1;
	}
	*pp = after2;
	if (!has_block(script, family, table)) { /* removed, if it is there */
		r = table_get(f, f->owner_fd, family, table, &t);
		if (r == 0)
			fprintf(o, "%s\n", del);
		if (r < 0 && r != -ENOENT)
			snprintf(err, errlen, "cannot read table %s %s: %s", family, table, strerror(-r));
		return r < 0 && r != -ENOENT ? r : 1;
	}
	r = own_table(f, family, table, true, err, errlen);
	if (r >= 0)
		r = empty_table(f, o, family, table, err, errlen);
	return r < 0 ? r : 1;
}

static int owned_script(struct fw_nft *f, const char *script, char **ret, char *err, size_t errlen)
{
	_cleanup_free_ char *text = NULL, *rules_text = NULL;
	size_t len, rules_len, n;
	FILE *o = open_memstream(&text, &len), *rules = open_memstream(&rules_text, &rules_len);
	int r = o && rules ? 0 : -ENOMEM;

	for (const char *p = script; *p && r >= 0;) {
		const char *l = p;

		r = table_statement(f, o, rules, script, &p, err, errlen);
		if (r == 0) {
			p = next_line(p, &n);
			fprintf(o, "%.*s\n", (int)n, l);
		}
	}
	if (rules && fclose(rules) != 0 && r >= 0)
		r = -ENOMEM;
	if (o && r >= 0 && rules_text)
		fputs(rules_text, o);
	if (o && fclose(o) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		return r;
	}
	*ret = TAKE_PTR(text);
	return 0;
}

int fw_nft_apply(struct fw_nft *f, const char *script, char *err, size_t errlen)
{
	_cleanup_free_ char *owned = NULL;
	int r;

	if (f->owner_fd < 0)
		return run(f, script, false, err, errlen);
	r = batch_socket(f, err, errlen);
	if (r >= 0)
		r = owned_script(f, script, &owned, err, errlen);
	if (r < 0)
		return r;
	return owned[0] ? run(f, owned, false, err, errlen) : 0;
}

/* Whether the kernel keeps an owned table after its owner exits: a table made with netd's flags
 * and deleted in one transaction (a no-op for everyone else). */
static int probe_owned(struct fw_nft *f, char *why, size_t whylen)
{
	static const uint16_t make_drop[] = { NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE };
	char name[32], msg[256] = "";
	int r;

	snprintf(name, sizeof(name), "netd_probe_%d", (int)getpid());
	r = table_batch(f, f->owner_fd, FW_FAMILY, name, make_drop, ELEMENTSOF(make_drop), msg, sizeof(msg));
	if (r == -EOPNOTSUPP)
		snprintf(why, whylen,
			 "the kernel cannot keep an owned table after its owner exits "
			 "(NFT_TABLE_F_PERSIST, Linux 6.9)");
	else if (r < 0)
		snprintf(why, whylen, "cannot create an owned table: %s%s%s", strerror(-r),
			 msg[0] ? ": " : "", msg);
	return r;
}

/* Without owned tables: one that a netd with them left (it persisted, nobody owns it) cannot be
 * replaced by a script, since libnftables would take its persist flag off: delete it; netd's next
 * apply makes it again. */
static int drop_orphans(struct fw_nft *f, char *err, size_t errlen)
{
	int fd = batch_socket(f, err, errlen);

	if (fd < 0)
		return fd;
	for (size_t i = 0; i < ELEMENTSOF(owned_tables); i++) {
		const char *family = owned_tables[i][0], *table = owned_tables[i][1];
		struct table_info t;
		char msg[256] = "";
		int r = table_get(f, fd, family, table, &t);

		if (r < 0 || !(t.flags & NFT_TABLE_F_PERSIST) || (t.flags & NFT_TABLE_F_OWNER))
			continue;
		r = table_batch(f, fd, family, table, drop_table, ELEMENTSOF(drop_table), msg, sizeof(msg));
		if (r < 0) {
			snprintf(err, errlen, "cannot delete table %s %s left with the persist flag: %s%s%s",
				 family, table, strerror(-r), msg[0] ? ": " : "", msg);
			return r;
		}
	}
	return 0;
}

int fw_nft_open_owned(struct fw_backend *ret, bool want, char *why, size_t whylen)
{
	struct fw_nft *f = nft_new(want);
	int r = 0;

	if (!f)
		return -ENOMEM;
	why[0] = 0;
	if (!want) {
		snprintf(why, whylen, "--nft-table-flags none");
	} else if (f->owner_fd < 0) {
		snprintf(why, whylen, "libnftables' netlink socket cannot be told apart from others");
	} else if (probe_owned(f, why, whylen) < 0) {
		f->owner_fd = -1;
	} else {
		/* A table left by a netd that was killed persisted: take it over before anything else,
		 * so that a foreign flush cannot remove it meanwhile. */
		for (size_t i = 0; i < ELEMENTSOF(owned_tables) && r >= 0; i++)
			r = own_table(f, owned_tables[i][0], owned_tables[i][1], false, why, whylen);
	}
	if (f->owner_fd < 0)
		r = drop_orphans(f, why, whylen) < 0 ? -EIO : 0;
	*ret = (struct fw_backend){ .ops = &nft_ops, .userdata = f };
	return r < 0 ? r : f->owner_fd >= 0;
}

static int nft_apply_op(void *userdata, const char *script, char *err, size_t errlen)
{
	return fw_nft_apply(userdata, script, err, errlen);
}

static int nft_apply_elems_op(void *userdata, const struct fw_elem *elems, size_t n, char *err, size_t errlen)
{
	return fw_nft_apply_elems(userdata, FW_FAMILY, FW_TABLE, elems, n, err, errlen);
}

static int nft_table_state_op(void *userdata, const char *family, const char *table, const char *marker_set,
			      char *marker, size_t size, size_t *ret_rules, size_t *ret_elements)
{
	return fw_nft_table_state(userdata, family, table, marker_set, marker, size, ret_rules, ret_elements);
}

static int nft_ruleset_op(void *userdata, char **ret_json)
{
	return fw_nft_foreign_ruleset(userdata, ret_json);
}

static int nft_monitor_open_op(void *userdata)
{
	return fw_monitor_open();
}

static int nft_monitor_read_op(void *userdata, int fd, pid_t self)
{
	return fw_monitor_read(fd, self);
}

static void nft_close_op(void *userdata)
{
	fw_nft_free(userdata);
}

static const struct fw_ops nft_ops = {
	.name = "libnftables",
	.apply = nft_apply_op,
	.apply_elems = nft_apply_elems_op,
	.table_state = nft_table_state_op,
	.ruleset = nft_ruleset_op,
	.monitor_open = nft_monitor_open_op,
	.monitor_read = nft_monitor_read_op,
	.close = nft_close_op,
};

int fw_nft_open(struct fw_backend *ret)
{
	struct fw_nft *f = fw_nft_new();

	if (!f)
		return -ENOMEM;
	*ret = (struct fw_backend){ .ops = &nft_ops, .userdata = f };
	return 0;
}

void fw_backend_close(struct fw_backend *b)
{
	if (b->ops && b->ops->close)
		b->ops->close(b->userdata);
	*b = (struct fw_backend){};
}
