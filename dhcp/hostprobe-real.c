/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The doctor's host (hostprobe.h): /proc/sys/net/netfilter for conntrack, /proc/PID/fd and /proc/net/udp{,6}
 * for sockets, and the DHCP/DNS probe from a scratch port in a network namespace of its own, run by
 * a child process (netd's namespace is never changed). */
#include <arpa/inet.h>
#include <net/if.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "hostprobe.h"

#define PROBES_MAX 4

struct probe_real {
	struct {
		int fd;
		pid_t pid;
	} running[PROBES_MAX];
};

/* The scratch port's names: the bridge's end and the namespace's end. */
static void port_names(pid_t pid, char host[IFNAMSIZ], char peer[IFNAMSIZ])
{
	snprintf(host, IFNAMSIZ, "ndpr%u", (unsigned)pid % 10000000u);
	snprintf(peer, IFNAMSIZ, "ndpp%u", (unsigned)pid % 10000000u);
}

static int read_u64(const char *path, uint64_t *ret)
{
	char buf[64];
	FILE *f = fopen(path, "re");
	int r = -EIO;

	if (!f)
		return -errno;
	if (fgets(buf, sizeof(buf), f) && sscanf(buf, "%lu", (unsigned long *)ret) == 1)
		r = 0;
	fclose(f);
	return r;
}

static int real_conntrack(void *userdata, uint64_t *ret_count, uint64_t *ret_max)
{
	int r = read_u64("/proc/sys/net/netfilter/nf_conntrack_count", ret_count);

	if (r < 0)
		return r;
	return read_u64("/proc/sys/net/netfilter/nf_conntrack_max", ret_max);
}

/* The inodes of the sockets among pid's fds. */
static int socket_inodes(pid_t pid, unsigned long **ret, size_t *ret_n)
{
	char path[64], link[64];
	unsigned long *v = NULL, ino;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		ssize_t len = readlinkat(dirfd(dir), e->d_name, link, sizeof(link) - 1);

		if (len <= 0)
			continue;
		link[len] = 0;
		if (sscanf(link, "socket:[%lu]", &ino) != 1)
			continue;
		if (n == cap) {
			unsigned long *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(dir);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = ino;
	}
	closedir(dir);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* /proc/net/udp and udp6 lines ("sl local_address rem_address st ... inode") of those inodes. */
static int udp_table(const char *path, int family, const unsigned long *inodes, size_t n_inodes,
		     struct probe_udp **v, size_t *n, size_t *cap)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		char local[64];
		unsigned port, i, st;
		unsigned long ino;
		struct probe_udp s = { .family = family };
		bool ours = false;

		if (sscanf(line, "%*u: %63[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*u %*u %lu", local, &port, &st,
			   &ino) != 4)
			continue;
		for (size_t k = 0; k < n_inodes && !ours; k++)
			ours = inodes[k] == ino;
		if (!ours)
			continue;
		s.port = (uint16_t)port;
		/* The kernel prints each 32-bit word in host order. */
		for (i = 0; i < (family == AF_INET ? 1u : 4u); i++) {
			uint32_t w;

			if (sscanf(local + 8 * i, "%8x", &w) != 1)
				break;
			memcpy((uint8_t *)&s.addr + 4 * i, &w, 4);
		}
		if (*n == *cap) {
			struct probe_udp *nv = realloc(*v, (*cap = *cap ? *cap * 2 : 8) * sizeof(**v));

			if (!nv) {
				fclose(f);
				return -ENOMEM;
			}
			*v = nv;
		}
		(*v)[(*n)++] = s;
	}
	fclose(f);
	return 0;
}

static int real_udp_sockets(void *userdata, pid_t pid, struct probe_udp **ret, size_t *ret_n)
{
	_cleanup_free_ unsigned long *inodes = NULL;
	struct probe_udp *v = NULL;
	size_t n_inodes = 0, n = 0, cap = 0;
	char path[64];
	int r = socket_inodes(pid, &inodes, &n_inodes);

	if (r < 0)
		return r;
	/* The tables of the process's own namespace (dnsmasq runs in netd's). */
	snprintf(path, sizeof(path), "/proc/%d/net/udp", (int)pid);
	r = udp_table(path, AF_INET, inodes, n_inodes, &v, &n, &cap);
	snprintf(path, sizeof(path), "/proc/%d/net/udp6", (int)pid);
	if (r >= 0)
		r = udp_table(path, AF_INET6, inodes, n_inodes, &v, &n, &cap);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* One rtnetlink request, acknowledged. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[8192];
	ssize_t len;
	int r;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (len < 0)
		return -errno;
	r = mnl_cb_run(buf, (size_t)len, nlh->nlmsg_seq, mnl_socket_get_portid(nl), NULL, NULL);
	return r < 0 ? -errno : 0;
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

static int veth_add(struct mnl_socket *nl, const char *host, const char *peer, const struct mac *mac)
{
	char buf[1024];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info, *data, *pinfo;
	struct ifinfomsg *pifm;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac->b), mac->b);
	mnl_attr_nest_end(nlh, pinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_talk(nl, nlh);
}

/* Set up (and master, nsfd when not negative) of the link named name. */
static int link_set(struct mnl_socket *nl, const char *name, int master, int nsfd, bool up)
{
	char buf[512];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (master)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	if (nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	if (up) {
		ifm->ifi_flags = IFF_UP;
		ifm->ifi_change = IFF_UP;
	}
	return nl_talk(nl, nlh);
}

static int link_del_name(struct mnl_socket *nl, const char *name)
{
	char buf[256];
	struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, 0);

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nl_talk(nl, nlh);
}

static int addr4_add(struct mnl_socket *nl, int ifindex, struct in_addr a, uint8_t prefixlen)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, 4, &a);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, &a);
	return nl_talk(nl, nlh);
}

static int neigh4_del(struct mnl_socket *nl, int ifindex, struct in_addr a)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;

	nlh->nlmsg_type = RTM_DELNEIGH;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, 4, &a);
	return nl_talk(nl, nlh);
}

static void write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)!write(fd, value, strlen(value));
		close(fd);
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for fd until deadline (ms, CLOCK_MONOTONIC): 1 readable, 0 not in time. */
static int wait_readable(int fd, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t t = now_ms();
	int r;

	if (t >= deadline)
		return 0;
	r = poll(&p, 1, (int)(deadline - t));
	return r < 0 ? -errno : r;
}

static void fail(struct probe_result *res, const char *what, int r)
{
	snprintf(res->error, sizeof(res->error), "%s: %s", what, strerror(-r));
	if (res->dhcp == PROBE_NOT_RUN)
		res->dhcp = PROBE_FAILED;
	else if (res->dns == PROBE_NOT_RUN)
		res->dns = PROBE_FAILED;
}

/* An OFFER from the gateway, of an address of the subnet other than the gateway's: the probe puts it on
 * its port for the DNS query, and must not answer ARP for an address a forged OFFER named (a guest
 * without port security sees the DISCOVER). */
static bool offer_fits(const struct probe_spec *spec, const struct probe_result *res)
{
	uint32_t mask = spec->prefixlen ? htonl(~0u << (32 - spec->prefixlen)) : 0;

	return res->server.s_addr == spec->gateway.s_addr && res->offered.s_addr != spec->gateway.s_addr &&
	       (res->offered.s_addr & mask) == (spec->subnet.s_addr & mask) && (res->offered.s_addr & ~mask);
}

static void probe_dhcp(const struct probe_spec *spec, int ifindex, const struct mac *mac, uint64_t deadline,
		       struct probe_result *res, uint8_t *ret_prefixlen)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IP),
				  .sll_ifindex = ifindex,
				  .sll_halen = 6,
				  .sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	uint8_t buf[1500];
	uint32_t xid;
	uint64_t t0 = now_ms();
	size_t len;
	int fd, r;

	if (getrandom(&xid, sizeof(xid), 0) != sizeof(xid))
		return fail(res, "getrandom", -errno);
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (fd < 0)
		return fail(res, "packet socket", -errno);
	if (bind(fd,
		 (struct sockaddr *)&(struct sockaddr_ll){
			 .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = ifindex },
		 sizeof(struct sockaddr_ll)) < 0) {
		fail(res, "bind packet socket", -errno);
		close(fd);
		return;
	}
	len = probe_dhcp_discover(buf, sizeof(buf), mac, xid);
	/* Sent again every 500 ms: the first may go before the bridge forwards from the new port. */
	for (uint64_t next = 0; res->dhcp == PROBE_NOT_RUN;) {
		ssize_t n;

		if (now_ms() >= next) {
			if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
				fail(res, "send DHCPDISCOVER", -errno);
				break;
			}
			next = now_ms() + 500;
		}
		r = wait_readable(fd, next < deadline ? next : deadline);
		if (r < 0) {
			fail(res, "poll", r);
			break;
		}
		if (r == 0) {
			if (now_ms() >= deadline)
				res->dhcp = PROBE_NO_ANSWER;
			continue;
		}
		n = recv(fd, buf + 600, sizeof(buf) - 600, MSG_DONTWAIT);
		if (n > 0 &&
		    probe_dhcp_offer_parse(buf + 600, (size_t)n, mac, xid, &res->offered, &res->server,
					   ret_prefixlen) == 0 &&
		    offer_fits(spec, res))
			res->dhcp = PROBE_ANSWERED;
	}
	res->dhcp_ms = (uint32_t)(now_ms() - t0);
	close(fd);
}

static void probe_dns(const struct probe_spec *spec, uint64_t deadline, struct probe_result *res)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(53), .sin_addr = spec->gateway };
	uint8_t q[512], a[512];
	uint16_t id;
	uint64_t t0 = now_ms();
	size_t len;
	int fd, r;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		return fail(res, "getrandom", -errno);
	len = probe_dns_query(q, sizeof(q), id, PROBE_DNS_NAME);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(res, "UDP socket", -errno);
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		fail(res, "connect to the gateway's port 53", -errno);
		close(fd);
		return;
	}
	for (uint64_t next = 0; res->dns == PROBE_NOT_RUN;) {
		ssize_t n;

		if (now_ms() >= next) {
			(void)send(fd, q, len, 0); /* an ICMP error shows as ECONNREFUSED at recv */
			next = now_ms() + 300;
		}
		r = wait_readable(fd, next < deadline ? next : deadline);
		if (r < 0) {
			fail(res, "poll", r);
			break;
		}
		if (r == 0) {
			if (now_ms() >= deadline)
				res->dns = PROBE_NO_ANSWER;
			continue;
		}
		n = recv(fd, a, sizeof(a), MSG_DONTWAIT);
		if (n < 0 && errno == ECONNREFUSED) {
			snprintf(res->error, sizeof(res->error),
				 "port 53 of the gateway is closed (ICMP port unreachable)");
			res->dns = PROBE_NO_ANSWER;
		} else if (n > 0 && (r = probe_dns_response_parse(a, (size_t)n, id)) >= 0) {
			res->dns_rcode = r;
			res->dns = PROBE_ANSWERED;
		}
	}
	res->dns_ms = (uint32_t)(now_ms() - t0);
	close(fd);
}

/* The child: never returns. */
__attribute__((noreturn)) static void child(const struct probe_spec *spec, int out)
{
	struct probe_result res = {};
	struct mnl_socket *root = NULL, *ns = NULL;
	char host[IFNAMSIZ], peer[IFNAMSIZ], path[128];
	uint64_t deadline = now_ms() + PROBE_TIMEOUT_MS - 100;
	uint8_t prefixlen = 24;
	struct mac mac;
	sigset_t all;
	int nsfd = -1, ifindex, r;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGALRM, SIG_DFL);
	alarm(PROBE_TIMEOUT_MS / 1000 + 1);
	port_names(getpid(), host, peer);
	if ((r = mac_random(&mac)) < 0) {
		fail(&res, "random MAC", r);
		goto out;
	}
	root = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!root || mnl_socket_bind(root, 0, MNL_SOCKET_AUTOPID) < 0) {
		fail(&res, "rtnetlink socket", -errno);
		goto out;
	}
	r = veth_add(root, host, peer, &mac);
	if (r < 0) {
		fail(&res, "cannot create the scratch veth pair", r);
		goto out;
	}
	/* Quiet: no IPv6 (DAD, router solicitations) from either end. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", host);
	write_sysctl(path, "1");
	if (unshare(CLONE_NEWNET) < 0) {
		fail(&res, "cannot create a network namespace", -errno);
		goto out;
	}
	nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || (r = link_set(root, peer, 0, nsfd, false)) < 0) {
		fail(&res, "cannot move the scratch port into its namespace", nsfd < 0 ? -errno : r);
		goto out;
	}
	r = link_set(root, host, spec->bridge_ifindex, -1, true);
	if (r < 0) {
		fail(&res, "cannot plug the scratch port into the bridge", r);
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", peer);
	write_sysctl(path, "1");
	ns = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!ns || mnl_socket_bind(ns, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    (r = link_set(ns, "lo", 0, -1, true)) < 0 || (r = link_set(ns, peer, 0, -1, true)) < 0) {
		fail(&res, "cannot bring the scratch port up", r < 0 ? r : -errno);
		goto out;
	}
	ifindex = (int)if_nametoindex(peer);
	if (spec->dhcp)
		probe_dhcp(spec, ifindex, &mac, deadline, &res, &prefixlen);
	if (spec->dns && res.dhcp == PROBE_ANSWERED) {
		r = addr4_add(ns, ifindex, res.offered, spec->prefixlen);
		if (r < 0)
			fail(&res, "cannot take the offered address for the DNS query", r);
		else
			probe_dns(spec, deadline, &res);
	}
out:
	if (res.dhcp == PROBE_ANSWERED && root)
		(void)neigh4_del(root, spec->bridge_ifindex, res.offered);
	if (root)
		(void)link_del_name(root, host); /* its peer goes with it */
	(void)!write(out, &res, sizeof(res));
	_exit(0);
}

static int real_start(void *userdata, const struct probe_spec *spec, int *ret_fd)
{
	struct probe_real *p = userdata;
	size_t slot;
	int fds[2];
	pid_t pid;

	for (slot = 0; slot < PROBES_MAX && p->running[slot].fd >= 0; slot++)
		;
	if (slot == PROBES_MAX)
		return -EBUSY;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(fds[0]);
		close(fds[1]);
		return r;
	}
	if (pid == 0) {
		/* Nothing of netd's: its clients see their connections close when netd closes them. */
		if (dup2(fds[1], 3) < 0)
			_exit(1);
		close_range(4, ~0u, 0);
		child(spec, 3);
	}
	close(fds[1]);
	p->running[slot].fd = fds[0];
	p->running[slot].pid = pid;
	*ret_fd = fds[0];
	return 0;
}

static int real_finish(void *userdata, int fd, struct probe_result *ret)
{
	struct probe_real *p = userdata;
	char host[IFNAMSIZ], peer[IFNAMSIZ];
	struct mnl_socket *nl;
	ssize_t n;
	size_t slot;

	for (slot = 0; slot < PROBES_MAX && p->running[slot].fd != fd; slot++)
		;
	if (slot == PROBES_MAX)
		return -EBADF;
	n = read(fd, ret, sizeof(*ret));
	if (n != (ssize_t)sizeof(*ret)) {
		*ret = (struct probe_result){ .dhcp = PROBE_FAILED };
		snprintf(ret->error, sizeof(ret->error), "the probe did not end in time");
	}
	kill(p->running[slot].pid, SIGKILL);
	(void)waitpid(p->running[slot].pid, NULL, 0);
	/* A probe killed before its peer left the host: the pair is still here. */
	port_names(p->running[slot].pid, host, peer);
	if (if_nametoindex(host) && (nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC))) {
		if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) >= 0)
			(void)link_del_name(nl, host);
		mnl_socket_close(nl);
	}
	close(fd);
	p->running[slot].fd = -1;
	return 0;
}

static const struct probe_ops real_ops = {
	.conntrack = real_conntrack,
	.udp_sockets = real_udp_sockets,
	.start = real_start,
	.finish = real_finish,
};

int probe_real_open(struct probe_backend *ret)
{
	struct probe_real *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < PROBES_MAX; i++)
		p->running[i].fd = -1;
	*ret = (struct probe_backend){ .ops = &real_ops, .userdata = p };
	return 0;
}

void probe_real_close(struct probe_backend *b)
{
	free(b->userdata);
	*b = (struct probe_backend){};
}
