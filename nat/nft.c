/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libnftables: apply netd's script, read back its table's marker, list the other tables for the
 * reachability checks (reach.c). Listings are read as JSON (json-c). */
#include <arpa/inet.h>
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
#include "portsec.h"
#include "reach.h"

/* A change of elements is one netlink batch of at most this many bytes (~250 elements): larger
 * ones go through libnftables (fw_nft_apply_elems says -E2BIG). */
#define ELEMS_BATCH_MAX (128 * 1024)
/* The most one element's message takes (table, set, key, key end, data, headers). */
#define ELEM_MSG_MAX 512
/* The receive buffer for a batch's answers (~1 KiB each, ELEMS_BATCH_MAX / ELEM_MSG_MAX of them). */
#define ACK_RCVBUF (512 * 1024)

struct fw_nft {
	struct nft_ctx *ctx;
	struct mnl_socket *nl; /* NETLINK_NETFILTER, for changes of elements; NULL until the first */
	uint32_t seq;
};

struct fw_nft *fw_nft_new(void)
{
	struct fw_nft *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!f->ctx || nft_ctx_buffer_output(f->ctx) < 0 || nft_ctx_buffer_error(f->ctx) < 0) {
		fw_nft_free(f);
		return NULL;
	}
	return f;
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

int fw_nft_apply(struct fw_nft *f, const char *script, char *err, size_t errlen)
{
	return run(f, script, false, err, errlen);
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

int fw_nft_apply_elems(struct fw_nft *f, const char *family, const char *table, const struct fw_elem *elems,
		       size_t n, char *err, size_t errlen)
{
	_cleanup_free_ char *buf = NULL;
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	size_t off = 0, acks = 0;
	struct nlmsghdr *h;
	uint32_t base;
	int first_err = 0, r;
	ssize_t len;

	if ((n + 2) * ELEM_MSG_MAX > ELEMS_BATCH_MAX) {
		snprintf(err, errlen, "too many elements for one batch (%zu)", n);
		return -E2BIG;
	}
	if (!f->nl) {
		f->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
		if (!f->nl || mnl_socket_bind(f->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot open a netfilter netlink socket: %s", strerror(errno));
			if (f->nl)
				mnl_socket_close(f->nl);
			f->nl = NULL;
			return r;
		}
		/* An answer per element: each takes ~1 KiB of the receive buffer until read (nft sizes
		 * it the same way), and an overrun would lose the answers of a batch the kernel
		 * committed. Errors: capped, with the kernel's message. */
		int size = ACK_RCVBUF, on = 1;

		if (setsockopt(mnl_socket_get_fd(f->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
			(void)setsockopt(mnl_socket_get_fd(f->nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		(void)setsockopt(mnl_socket_get_fd(f->nl), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
		(void)setsockopt(mnl_socket_get_fd(f->nl), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
	}
	buf = calloc(1, ELEMS_BATCH_MAX);
	if (!buf)
		return -ENOMEM;
	/* Answers left by an earlier batch that failed half-way are not this one's. */
	while (recv(mnl_socket_get_fd(f->nl), rbuf, sizeof(rbuf), MSG_DONTWAIT) > 0 || errno == EINTR)
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
	if (mnl_socket_sendto(f->nl, buf, off) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot send the change to the kernel: %s", strerror(-r));
		return r;
	}
	/* The kernel runs the batch while sending it: every answer is queued by now. */
	while ((len = recv(mnl_socket_get_fd(f->nl), rbuf, sizeof(rbuf), MSG_DONTWAIT)) != 0) {
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
	       !(!strcmp(family, PS_INET_FAMILY) && !strcmp(name, PS_INET_TABLE));
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
