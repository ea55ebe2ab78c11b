/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a lease.event request, through method_call() as control.c dispatches it (the
 * root-only check included) on a minimal daemon: one network "lab" with a reservation
 * and its dnsmasq's lease table, no monitor client. The parameters come from netd-lease-event,
 * which passes on what dnsmasq got from a guest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern const struct feature feature_dhcp;

static struct daemon d;
static struct network *net;
static struct dhcp_server server = { .network = "lab" };

static void setup(void)
{
	struct dhcp_host h = {};
	struct net *n;
	char err[256];

	log_set_max_level(-1); /* the method logs each lease: keep the fuzzer's output readable */
	net = calloc(1, sizeof(*net));
	if (!net)
		abort();
	network_init(net, "lab");
	if (ip_prefix_parse("10.60.0.0/24", &net->subnet) < 0)
		abort();
	network_fill_defaults(net);
	if (dhcp_host_parse("52:54:00:00:00:0a,10.60.0.10,web", &h, err, sizeof(err)) < 0 ||
	    dhcp_host_add(&net->dhcp, &h) < 0 || daemon_net_add(&d, net, &n) < 0)
		abort();
	*net_slot(n, &feature_dhcp) = &server; /* its dnsmasq */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_json_ json_object *req = NULL;
	const struct method *m = method_find("lease.event");
	struct call *call;
	json_object *params;
	const char *method;
	char err[256];

	if (!net)
		setup();
	if (protocol_request_parse((const char *)data, size, &req, &method, &params, err, sizeof(err)) < 0)
		return 0;
	call = calloc(1, sizeof(*call)); /* a reply frees it, as in control.c */
	if (!call)
		return 0;
	call->uid = size && data[0] == ' ' ? 1000 : 0; /* mostly root, as dnsmasq's helper is */
	if (method_call(&d, m, call, params) < 0)
		free(call);
	/* What 'network leases' shows: names are DNS labels, client ids hex, at most one lease. */
	if (server.leases.n > 1)
		abort();
	for (size_t i = 0; i < server.leases.n; i++) {
		const struct dhcp_lease *l = &server.leases.leases[i];

		if ((l->hostname[0] && dns_label_invalid_reason(l->hostname)) ||
		    strspn(l->client_id, "0123456789abcdefABCDEF:") != strlen(l->client_id))
			abort();
	}
	dhcp_lease_table_clear(&server.leases);
	return 0;
}
