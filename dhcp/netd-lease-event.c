/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netd-lease-event: dnsmasq's --dhcp-script. dnsmasq runs it (as root, one at a time) as
 *   netd-lease-event add|old|del MAC IP [HOSTNAME]
 * with DNSMASQ_LEASE_EXPIRES and DNSMASQ_CLIENT_ID set, or for a DHCPv6 lease as
 *   netd-lease-event add|old|del DUID IPv6 [HOSTNAME]
 * with DNSMASQ_IAID (and DNSMASQ_MAC when dnsmasq knows it) set, and NETD_SOCKET and NETD_NETWORK
 * inherited from the environment netd started dnsmasq with. It forwards the event to netd as one
 * "lease.event" request, so a lease shows up in netd within milliseconds of the ACK.
 * It never makes dnsmasq wait long and never fails it: netd reads the lease file on restart,
 * so an event lost while netd is down loses nothing.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define TIMEOUT_SEC 2

static int send_event(const char *socket_path, const char *line)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = TIMEOUT_SEC };
	char reply[512];
	int fd;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	/* Wait for the reply, so that events reach netd in dnsmasq's order. */
	while (recv(fd, reply, sizeof(reply), 0) > 0 && !memchr(reply, '\n', sizeof(reply)))
		;
	close(fd);
	return 0;
}

static void add_env(json_object *params, const char *key, const char *var)
{
	const char *v = getenv(var);

	if (v && *v)
		json_object_object_add(params, key, json_object_new_string(v));
}

int main(int argc, char **argv)
{
	const char *sock = getenv("NETD_SOCKET"), *network = getenv("NETD_NETWORK");
	json_object *req, *params;
	char *line;
	int r;

	if (argc < 4 || !sock || !network)
		return 0; /* "init" and "tftp" events, or not started by netd: nothing to say */
	req = json_object_new_object();
	params = json_object_new_object();
	json_object_object_add(params, "network", json_object_new_string(network));
	json_object_object_add(params, "action", json_object_new_string(argv[1]));
	/* DNSMASQ_IAID is set for DHCPv6 leases only: then the second argument is the DUID. */
	if (getenv("DNSMASQ_IAID")) {
		json_object_object_add(params, "duid", json_object_new_string(argv[2]));
		add_env(params, "iaid", "DNSMASQ_IAID");
		add_env(params, "mac", "DNSMASQ_MAC");
	} else {
		json_object_object_add(params, "mac", json_object_new_string(argv[2]));
		add_env(params, "client_id", "DNSMASQ_CLIENT_ID");
	}
	json_object_object_add(params, "ip", json_object_new_string(argv[3]));
	if (argc > 4)
		json_object_object_add(params, "hostname", json_object_new_string(argv[4]));
	add_env(params, "expires", "DNSMASQ_LEASE_EXPIRES");
	json_object_object_add(req, "method", json_object_new_string("lease.event"));
	json_object_object_add(req, "params", params);
	if (asprintf(&line, "%s\n", json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN)) < 0)
		return 0;
	r = send_event(sock, line);
	if (r < 0)
		fprintf(stderr, "netd-lease-event: cannot tell netd at %s about %s %s %s: %s\n", sock, argv[1],
			argv[2], argv[3], strerror(-r));
	free(line);
	json_object_put(req);
	return 0;
}
