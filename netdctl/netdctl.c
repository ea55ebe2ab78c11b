/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netdctl: one command line -> one request to netd -> the reply as a table or JSON. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <poll.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cloud-init.h"
#include "complete.h"
#include "graph.h"
#include "guest-config.h"
#include "guest-look.h"
#include "guest-schema.h"
#include "libvirt-import.h"
#include "macro.h"
#include "mode.h"
#include "names.h"
#include "network-schema.h"
#include "proc.h"
#include "protocol.h"
#include "uplink-schema.h"

/* --help's lines are wrapped here. */
#define USAGE_WIDTH 110

static const char *arg_socket;
static bool arg_json;

struct verb {
	const char *noun;
	const char *verb;
	const char *method;
	int (*build)(int argc, char **argv, json_object *params); /* argv[0] is the verb */
	void (*print)(json_object *result);
	const char *usage;
	const struct schema *schema; /* its options, listed after usage */
	const char *tail; /* after them */
	bool verdict; /* the result's "ok" false makes the exit status 1 (doctor) */
	const char *with; /* this row only when the command line has this option (vm console --log) */
	/* Run on the result before it is printed, with --json too (vm screenshot writes its file). */
	int (*save)(json_object *result);
	/* The command asks netd itself, more than once (graph): no method, no print. */
	int (*run)(json_object *params);
};

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "netdctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'netdctl --help'.\n");
	return -EINVAL;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

static int build_none(int argc, char **argv, json_object *params)
{
	if (argc > 1)
		return usage_error("unexpected argument '%s'", argv[1]);
	return 0;
}

static int build_name(int argc, char **argv, json_object *params)
{
	if (argc < 2)
		return usage_error("%s: missing network NAME", argv[0]);
	if (argc > 2)
		return usage_error("unexpected argument '%s'", argv[2]);
	json_object_object_add(params, "name", json_object_new_string(argv[1]));
	return 0;
}

/* NAME [--force]: stop or delete a network even under its running guests. */
static int build_name_force(int argc, char **argv, json_object *params)
{
	const char *name = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			json_object_object_add(params, "force", json_object_new_boolean(true));
		else if (argv[i][0] == '-' || name)
			return usage_error("network %s: unexpected argument '%s'", argv[0], argv[i]);
		else
			name = argv[i];
	}
	if (!name)
		return usage_error("%s: missing network NAME", argv[0]);
	json_object_object_add(params, "name", json_object_new_string(name));
	return 0;
}

/* A positional argument and the options of a kind's schema (network-schema.c, ...) into params. */
static int build_schema(int argc, char **argv, json_object *params, const struct schema *s, const char *what,
			const char **ret_pos)
{
	struct option opts[64];
	char err[SCHEMA_MSG_MAX];
	const char *pos = NULL;
	int c;

	schema_cli_options(s, 0x100, opts, ELEMENTSOF(opts));
	optind = 0; /* 0 makes glibc re-initialise getopt after main()'s own pass */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:", opts, NULL)) >= 0) {
		if (c == 1) {
			if (pos)
				return usage_error("unexpected argument '%s'", optarg);
			pos = optarg;
		} else if (c == ':') {
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		} else if (c < 0x100) {
			return usage_error("%s: unknown option '%s'", what, argv[optind - 1]);
		} else if (schema_cli_apply(s, c - 0x100, optarg, params, err, sizeof(err)) < 0) {
			return usage_error("%s", err);
		}
	}
	*ret_pos = pos;
	return 0;
}

static int build_create(int argc, char **argv, json_object *params)
{
	const char *name;
	int r = build_schema(argc, argv, params, &network_schema, "network create", &name);

	if (r < 0)
		return r;
	if (!name)
		return usage_error("network create: missing network NAME");
	if (schema_cli_missing(&network_schema, params))
		return usage_error("network create: missing --mode (nat, routed, isolated or bridge)");
	json_object_object_add(params, "name", json_object_new_string(name));
	return 0;
}

/* A reservation's client: "MAC" or "id:DUID". */
static void add_client(json_object *params, const char *s)
{
	if (!strncmp(s, "id:", 3))
		json_object_object_add(params, "duid", json_object_new_string(s + 3));
	else
		json_object_object_add(params, "mac", json_object_new_string(s));
}

/* NAME MAC|id:DUID ADDRESS [ADDRESS] [HOSTNAME] [--lease-time LEASE]: an address with a ':' is the
 * IPv6 one, one of digits and dots the IPv4 one; netd checks each. */
static int build_host_add(int argc, char **argv, json_object *params)
{
	char *args[8];
	int n = 0;

	/* --lease-time LEASE (or =LEASE) anywhere after the verb; the rest are the positional words. */
	for (int i = 0; i < argc; i++) {
		const char *lease = NULL;

		if (!strcmp(argv[i], "--lease-time")) {
			if (i + 1 == argc)
				return usage_error(
					"network host add: --lease-time needs a value (a duration or infinite)");
			lease = argv[++i];
		} else if (!strncmp(argv[i], "--lease-time=", 13)) {
			lease = argv[i] + 13;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			return usage_error("network host add: unknown option '%s'", argv[i]);
		} else if (n < (int)ELEMENTSOF(args)) {
			args[n++] = argv[i];
			continue;
		} else {
			return usage_error("unexpected argument '%s'", argv[i]);
		}
		if (json_object_object_get_ex(params, "lease_time", NULL))
			return usage_error("--lease-time is given twice");
		json_object_object_add(params, "lease_time", json_object_new_string(lease));
	}
	argc = n;
	argv = args;
	if (argc < 4)
		return usage_error(
			"network host add: expected NAME MAC|id:DUID IP [IP] [HOSTNAME] [--lease-time LEASE]");
	if (argc > 6)
		return usage_error("unexpected argument '%s'", argv[6]);
	json_object_object_add(params, "name", json_object_new_string(argv[1]));
	add_client(params, argv[2]);
	for (int i = 3; i < argc; i++) {
		static const char *const keys[] = { "ip", "ip6", "hostname" }, *const what[] = {
			"IPv4 address", "IPv6 address", "hostname"
		};
		size_t k = strchr(argv[i], ':')						    ? 1 :
			   !argv[i][strspn(argv[i], "0123456789.")] && strchr(argv[i], '.') ? 0 :
											      2;

		if (json_object_object_get_ex(params, keys[k], NULL))
			return usage_error("network host add: more than one %s ('%s')", what[k], argv[i]);
		if (k == 2 && i != argc - 1)
			return usage_error("network host add: the hostname comes last ('%s')", argv[i]);
		json_object_object_add(params, keys[k], json_object_new_string(argv[i]));
	}
	return 0;
}

static int build_host_remove(int argc, char **argv, json_object *params)
{
	if (argc != 3)
		return usage_error(argc < 3 ? "network host remove: expected NAME MAC|id:DUID" :
					      "unexpected argument '%s'",
				   argc > 3 ? argv[3] : "");
	json_object_object_add(params, "name", json_object_new_string(argv[1]));
	add_client(params, argv[2]);
	return 0;
}

/* NAME [--listen ADDR|--listen-uplink] --proto tcp|udp|tcp,udp --port P[-Q] --to GUEST|IP[:PORT[-PORT]] */
static int build_forward_add(int argc, char **argv, json_object *params)
{
	static const char *const opts[] = { "--listen", "--proto", "--port", "--to" };

	if (argc < 2 || argv[1][0] == '-')
		return usage_error("network forward add: missing network NAME");
	json_object_object_add(params, "name", json_object_new_string(argv[1]));
	for (int i = 2; i < argc; i++) {
		size_t k;

		if (!strcmp(argv[i], "--listen-uplink")) {
			if (json_object_object_get_ex(params, "listen", NULL))
				return usage_error(
					"network forward add: --listen and --listen-uplink exclude each other");
			json_object_object_add(params, "listen", json_object_new_string("uplink"));
			continue;
		}
		for (k = 0; k < ELEMENTSOF(opts) && strcmp(argv[i], opts[k]); k++)
			;
		if (k == ELEMENTSOF(opts))
			return usage_error("network forward add: unexpected argument '%s'", argv[i]);
		if (i + 1 >= argc)
			return usage_error("network forward add: %s needs a value", opts[k]);
		if (json_object_object_get_ex(params, opts[k] + 2, NULL))
			return usage_error("network forward add: %s is given twice%s", opts[k],
					   k == 0 ? " (or with --listen-uplink)" : "");
		json_object_object_add(params, opts[k] + 2, json_object_new_string(argv[++i]));
	}
	for (size_t k = 1; k < ELEMENTSOF(opts); k++)
		if (!json_object_object_get_ex(params, opts[k] + 2, NULL))
			return usage_error("network forward add: missing %s", opts[k]);
	return 0;
}

/* NAME ID */
static int build_forward_remove(int argc, char **argv, json_object *params)
{
	char *end;
	unsigned long id;

	if (argc != 3)
		return usage_error(argc < 3 ? "network forward remove: expected NAME ID" :
					      "unexpected argument '%s'",
				   argc > 3 ? argv[3] : "");
	errno = 0;
	id = strtoul(argv[2], &end, 10);
	if (errno || *end || !argv[2][0] || argv[2][0] == '-' || id > 65535)
		return usage_error("network forward remove: invalid ID '%s' (a number, see 'netdctl network "
				   "forward list')",
				   argv[2]);
	json_object_object_add(params, "name", json_object_new_string(argv[1]));
	json_object_object_add(params, "id", json_object_new_int((int)id));
	return 0;
}

static void print_forward_row(json_object *f)
{
	char to[96];

	snprintf(to, sizeof(to), "%s:%s", jstr(f, "to"), jstr(f, "to_port"));
	printf("%-4s %-8s %-24s %-12s %-28s %s\n", jstr(f, "id"), jstr(f, "proto"), jstr(f, "listen"),
	       jstr(f, "port"), to, jstr(f, "to_address"));
}

static void print_forwards(json_object *list)
{
	printf("%-4s %-8s %-24s %-12s %-28s %s\n", "ID", "PROTO", "LISTEN", "PORT", "TO", "ADDRESS");
	for (size_t i = 0; i < json_object_array_length(list); i++)
		print_forward_row(json_object_array_get_idx(list, i));
}

static void print_forward(json_object *f)
{
	printf("forward %s added: %s %s port %s -> %s:%s (now %s)\n", jstr(f, "id"), jstr(f, "proto"),
	       jstr(f, "listen"), jstr(f, "port"), jstr(f, "to"), jstr(f, "to_port"), jstr(f, "to_address"));
}

static void print_nothing(json_object *o)
{
}

static void print_dhcp(json_object *n)
{
	json_object *h, *ranges;

	if (!json_object_object_get_ex(n, "dhcp", &h))
		return;
	printf("dhcp:       ");
	if (!json_object_get_boolean(json_object_object_get(h, "enabled"))) {
		printf("off");
	} else {
		ranges = json_object_object_get(h, "ranges");
		for (size_t i = 0; i < json_object_array_length(ranges); i++)
			printf("%s%s", i ? ", " : "", json_object_get_string(json_object_array_get_idx(ranges, i)));
		printf(" (lease %s, %s reservation(s), %s)", jstr(h, "lease_time"), jstr(h, "hosts"),
		       json_object_get_boolean(json_object_object_get(h, "router")) ? "router: gateway" : "no router");
	}
	printf("\ndns:        %s", json_object_get_boolean(json_object_object_get(h, "dns")) ? "on" : "off");
	if (json_object_object_get(h, "domain"))
		printf(", domain %s", jstr(h, "domain"));
	if (json_object_get_boolean(json_object_object_get(n, "domain_local_only")))
		printf(" (answered locally only)");
	if (json_object_get_boolean(json_object_object_get(n, "no_resolv")))
		printf(", not the host's resolvers");
	printf("\ndnsmasq:    %s, pid %s, %s restart(s)\nleases:     %s", jstr(h, "dnsmasq_state"),
	       jstr(h, "dnsmasq_pid"), jstr(h, "dnsmasq_restarts"), jstr(h, "leases"));
	if (json_object_object_get(h, "remote_guests"))
		printf(", %s guest(s) on other hosts reserved", jstr(h, "remote_guests"));
	printf("\n");
}

/* One "label:      value" line per element of n's array named json. */
static void print_lines(json_object *n, const char *json, const char *label)
{
	json_object *a = json_object_object_get(n, json);

	for (size_t i = 0; i < json_object_array_length(a); i++)
		printf("%-12s%s\n", i ? "" : label, json_object_get_string(json_object_array_get_idx(a, i)));
}

/* PXE, the DNS records and forwarders, [dns] register and the [dnsmasq] option lines (issue 17). */
static void print_dns_extra(json_object *n)
{
	json_object *r = json_object_object_get(n, "register_dns"),
		    *o = json_object_object_get(n, "dnsmasq_options");

	if (json_object_object_get(n, "pxe_boot") || json_object_object_get(n, "tftp_root"))
		printf("pxe:        boot file %s, next server %s, tftp root %s\n", jstr(n, "pxe_boot"),
		       json_object_object_get(n, "next_server") ? jstr(n, "next_server") : "the gateway",
		       jstr(n, "tftp_root"));
	print_lines(n, "dns_srv", "dns srv:");
	print_lines(n, "dns_txt", "dns txt:");
	print_lines(n, "dns_cname", "dns cname:");
	print_lines(n, "dns_ptr", "dns ptr:");
	print_lines(n, "dns_forwarders", "forwarder:");
	if (json_object_get_boolean(json_object_object_get(r, "requested")))
		printf("register:   %s\n", json_object_get_boolean(json_object_object_get(r, "registered")) ?
						   "the domain is registered with systemd-resolved" :
						   jstr(r, "warning"));
	for (size_t i = 0; i < json_object_array_length(o); i++)
		printf("%s%s\n", i ? "            " : "dnsmasq +:  ",
		       json_object_get_string(json_object_array_get_idx(o, i)));
}

static void print_leases(json_object *list)
{
	printf("%-17s  %-15s  %-20s  %-20s  %s\n", "MAC", "IP", "HOSTNAME", "EXPIRES", "TYPE");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *l = json_object_array_get_idx(list, i);
		time_t t = json_object_get_int64(json_object_object_get(l, "expires"));
		char when[32] = "never";

		if (t)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
		else if (!strcmp(jstr(l, "type"), "remote"))
			snprintf(when, sizeof(when), "-"); /* another host's dnsmasq has its lease */
		/* ended: dnsmasq ended a DHCPv6 lease early; its MAC's port keeps it until it expires */
		/* remote: a guest on another host of a network across hosts, at that host's VTEP */
		printf("%-17s  %-15s  %-20s  %-20s  %s%s%s%s\n", jstr(l, "mac"), jstr(l, "ip"),
		       jstr(l, "hostname"), when, jstr(l, "type"),
		       json_object_get_boolean(json_object_object_get(l, "ended")) ? ", ended" : "",
		       json_object_object_get(l, "vtep") ? " at " : "",
		       json_object_object_get(l, "vtep") ? jstr(l, "vtep") : "");
	}
}

/* What the guests reach on the host: always DHCP, DNS and ping on their gateway; more if allowed. */
static void print_host_ports(json_object *n)
{
	json_object *a = json_object_object_get(n, "allow_host_ports");

	if (!strcmp(jstr(n, "mode"), "bridge"))
		return;
	printf("host:       guests reach DHCP, DNS and ICMP on the gateway");
	for (size_t i = 0; i < json_object_array_length(a); i++)
		printf("%s%s", i ? ", " : "; also ", json_object_get_string(json_object_array_get_idx(a, i)));
	printf("\n");
}

/* The network's port forwards, as the definition keeps them ("ID PROTO LISTEN PORTS TO"). */
static void print_forward_lines(json_object *n)
{
	json_object *a = json_object_object_get(n, "forwards");

	for (size_t i = 0; i < json_object_array_length(a); i++)
		printf("forward:    %s\n", json_object_get_string(json_object_array_get_idx(a, i)));
}

/* What netd added to other firewall managers for the network (netd --firewall-integration auto). */
static void print_firewall_integration(json_object *n)
{
	json_object *a = json_object_object_get(n, "firewall_integration");

	if (!json_object_is_type(a, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);

		printf("%s%s %s (added by %s)", i ? "; " : "firewall:   ", jstr(e, "manager"),
		       jstr(e, "where"), jstr(e, "by"));
	}
	if (json_object_array_length(a))
		printf("\n");
}

/* A network across hosts (mode evpn): its VXLAN port and the other hosts that carry its VNI. */
static void print_vxlan(json_object *n)
{
	json_object *x, *t;

	if (!json_object_object_get_ex(n, "vxlan", &x))
		return;
	printf("vxlan:      %s (VNI %s), ", jstr(x, "device"), jstr(n, "vni"));
	if (json_object_get_boolean(json_object_object_get(x, "exists")))
		printf("mtu %s", jstr(x, "mtu"));
	else
		printf("missing");
	printf(", anycast mac %s\nvteps:     ", jstr(x, "anycast_mac"));
	t = json_object_object_get(x, "remote_vteps");
	if (!json_object_is_type(t, json_type_array)) {
		printf(" unknown (FRR did not answer)\n");
		return;
	}
	for (size_t k = 0; k < json_object_array_length(t); k++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(t, k)));
	printf("%s\n", json_object_array_length(t) ? "" : " none other");
}

static void print_network(json_object *n)
{
	json_object *k, *addrs;
	char fd[48] = "";

	printf("name:       %s\nmode:       %s\nstate:      %s", jstr(n, "name"), jstr(n, "mode"), jstr(n, "state"));
	if (json_object_object_get_ex(n, "problem", NULL))
		printf(" (%s)", jstr(n, "problem"));
	printf("\nbridge:     %s\nsubnet:     %s\ngateway:    %s\nmac:        %s\nmtu:        %s\nautostart:  %s\n",
	       jstr(n, "bridge"), jstr(n, "subnet"), jstr(n, "gateway"), jstr(n, "mac"), jstr(n, "mtu"),
	       jstr(n, "autostart"));
	/* IPv6 lines only for a network that has a prefix. */
	if (strcmp(jstr(n, "subnet6"), "-"))
		printf("subnet6:    %s\ngateway6:   %s\nipv6 mode:  %s\nnat6:       %s\n", jstr(n, "subnet6"),
		       jstr(n, "gateway6"), jstr(n, "ipv6_mode"),
		       json_object_get_boolean(json_object_object_get(n, "nat6")) ? "yes (masqueraded)" :
										    "no (routed)");
	print_host_ports(n);
	print_forward_lines(n);
	print_firewall_integration(n);
	if (!json_object_object_get_ex(n, "kernel", &k))
		return;
	if (!json_object_get_boolean(json_object_object_get(k, "exists"))) {
		printf("kernel:     bridge does not exist\n");
		return;
	}
	if (json_object_object_get(k, "forward_delay"))
		snprintf(fd, sizeof(fd), " (forward delay %s s)", jstr(k, "forward_delay"));
	printf("kernel:     ifindex %s, %s, mtu %s, mac %s, stp %s%s\naddresses: ", jstr(k, "ifindex"),
	       json_object_get_boolean(json_object_object_get(k, "up")) ? "up" : "down", jstr(k, "mtu"),
	       jstr(k, "mac"), json_object_get_boolean(json_object_object_get(k, "stp")) ? "on" : "off", fd);
	addrs = json_object_object_get(k, "addresses");
	for (size_t i = 0; i < json_object_array_length(addrs); i++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(addrs, i)));
	printf("\n");
	print_dhcp(n);
	print_dns_extra(n);
	print_vxlan(n);
}

static void print_list(json_object *list)
{
	printf("%-20s %-10s %-15s %-18s %s\n", "NAME", "MODE", "BRIDGE", "SUBNET", "STATE");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *n = json_object_array_get_idx(list, i);
		printf("%-20s %-10s %-15s %-18s %s\n", jstr(n, "name"), jstr(n, "mode"), jstr(n, "bridge"),
		       jstr(n, "subnet"), jstr(n, "state"));
	}
}

static void print_deleted(json_object *o)
{
	printf("network '%s' deleted\n", jstr(o, "name"));
}

/* netd --vtep: FRR's BGP sessions and the VNIs it knows, one line each, then what is wrong. */
static void print_status_evpn(json_object *e)
{
	json_object *a, *frr = json_object_object_get(e, "frr");

	printf("evpn:       VTEP %s, AS %s%s%s, FRR %s (%s)\n", jstr(e, "vtep"), jstr(e, "asn"),
	       json_object_get_boolean(json_object_object_get(e, "reflector")) ? ", route reflector for " :
										 "",
	       json_object_get_boolean(json_object_object_get(e, "reflector")) ? jstr(e, "listen_range") : "",
	       json_object_get_boolean(json_object_object_get(frr, "answering")) ? "answers" :
										   "does not answer",
	       jstr(frr, "conf"));
	a = json_object_object_get(e, "peers");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *p = json_object_array_get_idx(a, i);
		int64_t ms = json_object_get_int64(json_object_object_get(p, "uptime_msec"));

		printf("bgp peer:   %s %s", jstr(p, "address"), jstr(p, "state"));
		if (ms > 0)
			printf(", up %" PRId64 "s", ms / 1000);
		printf("\n");
	}
	a = json_object_object_get(e, "vnis");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *v = json_object_array_get_idx(a, i),
			    *t = json_object_object_get(v, "remote_vteps");

		printf("vni:        %s (%s), remote VTEPs:", jstr(v, "vni"), jstr(v, "vxlan_if"));
		for (size_t k = 0; k < json_object_array_length(t); k++)
			printf("%s%s", k ? ", " : " ",
			       json_object_get_string(json_object_array_get_idx(t, k)));
		printf("%s\n", json_object_array_length(t) ? "" : " none");
	}
	a = json_object_object_get(e, "problems");
	for (size_t i = 0; i < json_object_array_length(a); i++)
		printf("problem:    %s\n", json_object_get_string(json_object_array_get_idx(a, i)));
}

static void print_status(json_object *o)
{
	json_object *p = json_object_object_get(o, "paths"), *c = json_object_object_get(o, "counts");

	printf("netd %s, pid %s, up %ss\nconfig dir: %s\nstate dir:  %s\nrun dir:    %s\nsocket:     %s\n"
	       "networks:   %s defined, %s active\n",
	       jstr(o, "version"), jstr(o, "pid"), jstr(o, "uptime_sec"), jstr(p, "config_dir"),
	       jstr(p, "state_dir"), jstr(p, "run_dir"), jstr(p, "socket"), jstr(c, "networks"),
	       jstr(c, "networks_active"));
	if (json_object_object_get(o, "evpn"))
		print_status_evpn(json_object_object_get(o, "evpn"));
}

static void print_names(const char *what, json_object *a)
{
	for (size_t i = 0; i < json_object_array_length(a); i++)
		printf("%s %s\n", what, json_object_get_string(json_object_array_get_idx(a, i)));
}

/* Prints one reload part (networks, or the "guests" object); returns how many lines it printed. */
static size_t print_reload_part(json_object *o, const char *prefix)
{
	static const char *const keys[] = { "added", "changed", "removed", "errors" };
	static const char *const labels[] = { "added:  ", "changed:", "removed:", "error:  " };
	size_t n = 0;

	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		json_object *a = json_object_object_get(o, keys[i]);
		char what[32];

		if (!json_object_is_type(a, json_type_array))
			continue;
		snprintf(what, sizeof(what), "%s%s", prefix, labels[i]);
		print_names(what, a);
		n += json_object_array_length(a);
	}
	return n;
}

static void print_reload(json_object *o)
{
	size_t n = print_reload_part(o, "");

	n += print_reload_part(json_object_object_get(o, "guests"), "guest ");
	if (!n)
		printf("nothing changed\n");
}


static int build_uplink_convert(int argc, char **argv, json_object *params)
{
	const char *port;
	int r = build_schema(argc, argv, params, &uplink_schema, "uplink convert", &port);

	if (r < 0)
		return r;
	if (!port)
		return usage_error("uplink convert: missing IFACE (the uplink, e.g. eth0)");
	json_object_object_add(params, "port", json_object_new_string(port));
	return 0;
}

static int build_bridge(int argc, char **argv, json_object *params)
{
	if (argc < 2)
		return usage_error("uplink %s: missing BRIDGE", argv[0]);
	if (argc > 2)
		return usage_error("unexpected argument '%s'", argv[2]);
	json_object_object_add(params, "bridge", json_object_new_string(argv[1]));
	return 0;
}

static int build_opt_bridge(int argc, char **argv, json_object *params)
{
	if (argc > 2)
		return usage_error("unexpected argument '%s'", argv[2]);
	if (argc == 2)
		json_object_object_add(params, "bridge", json_object_new_string(argv[1]));
	return 0;
}

static void print_uplink(json_object *u)
{
	json_object *gws = json_object_object_get(u, "gateways"), *dhcp;

	printf("bridge:     %s\nport:       %s\nstate:      %s\nmac:        %s\nmtu:        %s\n", jstr(u, "bridge"),
	       jstr(u, "port"), jstr(u, "state"), jstr(u, "mac"), jstr(u, "mtu"));
	if (json_object_object_get_ex(u, "cutover_ms", NULL))
		printf("cut-over:   %s ms\n", jstr(u, "cutover_ms"));
	if (json_object_object_get_ex(u, "confirm_remaining_sec", NULL))
		printf("confirm:    within %s s (netdctl uplink confirm %s), else netd rolls back\n",
		       jstr(u, "confirm_remaining_sec"), jstr(u, "bridge"));
	for (size_t i = 0; i < json_object_array_length(gws); i++) {
		json_object *g = json_object_array_get_idx(gws, i);
		printf("gateway:    %s %s\n", jstr(g, "address"),
		       json_object_get_boolean(json_object_object_get(g, "answered")) ? "answered" : "not verified");
	}
	if (json_object_object_get_ex(u, "dhcp_client", &dhcp))
		printf("dhcp:       %s (now on %s, pid %s)\n", jstr(dhcp, "original"), jstr(u, "bridge"),
		       jstr(dhcp, "bridge_pid"));
}

static void print_uplink_list(json_object *list)
{
	printf("%-15s %-15s %-13s %-18s %s\n", "BRIDGE", "PORT", "STATE", "MAC", "CUT-OVER");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *u = json_object_array_get_idx(list, i);
		printf("%-15s %-15s %-13s %-18s %s%s\n", jstr(u, "bridge"), jstr(u, "port"), jstr(u, "state"),
		       jstr(u, "mac"), jstr(u, "cutover_ms"),
		       json_object_object_get_ex(u, "cutover_ms", NULL) ? " ms" : "");
	}
}

static void print_reverted(json_object *o)
{
	printf("'%s' reverted: %s has its addresses and routes again\n", jstr(o, "bridge"), jstr(o, "port"));
}


static int build_guest(int argc, char **argv, json_object *params)
{
	if (argc < 2)
		return usage_error("vm %s: missing guest NAME", argv[0]);
	if (argc > 2)
		return usage_error("unexpected argument '%s'", argv[2]);
	json_object_object_add(params, "name", json_object_new_string(argv[1]));
	return 0;
}

/* vm attach-disk NAME DISK[,opts] / vm detach-disk NAME DISK */
static int build_vm_disk(int argc, char **argv, json_object *params)
{
	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return usage_error("vm %s: expected NAME DISK", argv[0]);
	json_object_object_add(params, "name", json_object_new_string(argv[1]));
	json_object_object_add(params, "disk", json_object_new_string(argv[2]));
	return 0;
}

/* A positive number option into params[key]. */
static int parse_count(const char *opt, const char *s, json_object *params, const char *key)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 1 << 20)
		return usage_error("invalid %s '%s': expected a number", opt, s);
	json_object_object_add(params, key, json_object_new_int64(v));
	return 0;
}

static int cloud_init_args(int argc, char **argv, json_object *params, int *ret_argc);

static int build_vm_create(int argc, char **argv, json_object *params)
{
	const char *name;
	int r = cloud_init_args(argc, argv, params, &argc);

	if (r < 0)
		return r;
	r = build_schema(argc, argv, params, &guest_schema, "vm create", &name);

	if (r < 0)
		return r;
	if (!name)
		return usage_error("vm create: missing guest NAME");
	if (schema_cli_missing(&guest_schema, params))
		return usage_error("vm create: missing --network NET");
	if (!json_object_object_get_ex(params, "kernel", NULL) &&
	    !json_object_object_get_ex(params, "disks", NULL) &&
	    !json_object_object_get_ex(params, "disk_size", NULL) &&
	    !json_object_object_get_ex(params, "cdrom", NULL))
		return usage_error(
			"vm create: missing a boot source (--kernel PATH, --disk PATH, --disk-size SIZE "
			"or --cdrom ISO)");
	json_object_object_add(params, "name", json_object_new_string(name));
	return 0;
}

static int build_vm_shutdown(int argc, char **argv, json_object *params)
{
	if (argc == 4 && !strcmp(argv[2], "--timeout"))
		return parse_count("--timeout", argv[3], params, "timeout") < 0 ? -EINVAL : build_guest(2, argv, params);
	return build_guest(argc, argv, params);
}

static int build_vm_set_network(int argc, char **argv, json_object *params)
{
	const char *pos[2] = {};
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--nic") && i + 1 < argc) {
			if (parse_count("--nic", argv[++i], params, "nic") < 0)
				return -EINVAL;
		} else if (argv[i][0] == '-' || n == 2) {
			return usage_error("vm set-network: unexpected argument '%s'", argv[i]);
		} else {
			pos[n++] = argv[i];
		}
	}
	if (n != 2)
		return usage_error("vm set-network: expected NAME [--nic N] NET");
	json_object_object_add(params, "name", json_object_new_string(pos[0]));
	json_object_object_add(params, "network", json_object_new_string(pos[1]));
	return 0;
}

/* vm attach-nic NAME NETWORK [--mac MAC] [--nic-security on|off] / vm detach-nic NAME --nic N */
static int build_vm_nic(int argc, char **argv, json_object *params)
{
	bool attach = !strcmp(argv[0], "attach-nic"), nic = false;
	const char *pos[2] = {};
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		if (!attach && !strcmp(argv[i], "--nic") && i + 1 < argc) {
			if (parse_count("--nic", argv[++i], params, "nic") < 0)
				return -EINVAL;
			nic = true;
		} else if (attach && !strcmp(argv[i], "--mac") && i + 1 < argc) {
			json_object_object_add(params, "mac", json_object_new_string(argv[++i]));
		} else if (attach && !strcmp(argv[i], "--nic-security") && i + 1 < argc) {
			json_object_object_add(params, "nic_security", json_object_new_string(argv[++i]));
		} else if (argv[i][0] == '-' || n == (attach ? 2u : 1u)) {
			return usage_error("vm %s: unexpected argument '%s'", argv[0], argv[i]);
		} else {
			pos[n++] = argv[i];
		}
	}
	if (attach && n != 2)
		return usage_error(
			"vm attach-nic: expected NAME NETWORK [--mac MAC] [--nic-security on|off]");
	if (!attach && (n != 1 || !nic))
		return usage_error("vm detach-nic: expected NAME --nic N");
	json_object_object_add(params, "name", json_object_new_string(pos[0]));
	if (attach)
		json_object_object_add(params, "network", json_object_new_string(pos[1]));
	return 0;
}

static void print_vm_disks(json_object *v)
{
	json_object *disks = json_object_object_get(v, "disks");

	for (size_t i = 0; i < json_object_array_length(disks); i++) {
		json_object *d = json_object_array_get_idx(disks, i);

		printf("%s:%*s%s, %s, bus %s, cache %s%s\n", jstr(d, "node"),
		       (int)(11 - strlen(jstr(d, "node"))), "", jstr(d, "path"), jstr(d, "format"),
		       jstr(d, "bus"), jstr(d, "cache"),
		       json_object_get_boolean(json_object_object_get(d, "readonly")) ? ", readonly" : "");
	}
	if (json_object_object_get(v, "cdrom"))
		printf("cdrom:      %s (boot %s)\n", jstr(v, "cdrom"), jstr(v, "boot"));
}

/* vm snapshot create|revert|delete NAME SNAP [--description TEXT] [--timeout SEC]; list NAME */
static int build_vm_snapshot(int argc, char **argv, json_object *params)
{
	const char *pos[2] = {};
	size_t n = 0, want = strcmp(argv[0], "list") ? 2 : 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[0], "create") && !strcmp(argv[i], "--description") && i + 1 < argc)
			json_object_object_add(params, "description", json_object_new_string(argv[++i]));
		else if (want == 2 && !strcmp(argv[i], "--timeout") && i + 1 < argc) {
			if (parse_count("--timeout", argv[++i], params, "timeout") < 0)
				return -EINVAL;
		} else if (argv[i][0] == '-' || n == want)
			return usage_error("vm snapshot %s: unexpected argument '%s'", argv[0], argv[i]);
		else
			pos[n++] = argv[i];
	}
	if (n != want)
		return usage_error("vm snapshot %s: expected NAME%s", argv[0], want == 2 ? " SNAP" : "");
	json_object_object_add(params, "name", json_object_new_string(pos[0]));
	if (want == 2)
		json_object_object_add(params, "snapshot", json_object_new_string(pos[1]));
	return 0;
}

/* NAME  DATE  VM STATE  DESCRIPTION, one snapshot a line */
/* s with control characters (C0, DEL; C1 as UTF-8 \xc2\x80-\x9f) as \xNN, for a terminal: a
 * snapshot made by hand (qemu-img) may have any name. */
static const char *snap_text(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && n + 9 < size; p++) {
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
			n += snprintf(buf + n, size - n, "\\x%02x", *p);
			if (*p == 0xc2)
				n += snprintf(buf + n, size - n, "\\x%02x", *++p);
			continue;
		}
		buf[n++] = (char)*p;
	}
	buf[n] = 0;
	return buf;
}

static void print_vm_snapshots(json_object *o)
{
	json_object *a = json_object_object_get(o, "snapshots");
	char name[512], desc[1200];

	if (json_object_object_get_ex(o, "warning", NULL))
		fprintf(stderr, "warning: %s\n", jstr(o, "warning"));
	if (!json_object_array_length(a)) {
		printf("guest '%s' (%s) has no snapshot\n", jstr(o, "guest"), jstr(o, "state"));
		return;
	}
	printf("%-24s %-20s %12s  %s\n", "SNAPSHOT", "DATE (UTC)", "VM STATE", "DESCRIPTION");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *s = json_object_array_get_idx(a, i);
		bool mem = json_object_get_boolean(json_object_object_get(s, "memory"));
		bool complete = json_object_get_boolean(json_object_object_get(s, "complete"));

		printf("%-24s %-20s %12s  %s%s\n", snap_text(jstr(s, "name"), name, sizeof(name)),
		       jstr(s, "date"), mem ? jstr(s, "vm_state_size") : "(disks only)",
		       snap_text(jstr(s, "description"), desc, sizeof(desc)),
		       complete ? "" : " [not on every disk]");
	}
	if (json_object_get_boolean(json_object_object_get(o, "truncated")))
		printf("(the list may be incomplete: a disk has %d snapshots or more, or was not read)\n",
		       64);
}

/* vm set-vcpus NAME N [--live] [--config], vm set-memory NAME SIZE [--live] [--config] */
static int build_vm_set_live(int argc, char **argv, json_object *params, const char *key, const char *what)
{
	const char *pos[2] = {};
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--live") || !strcmp(argv[i], "--config"))
			json_object_object_add(params, argv[i] + 2, json_object_new_boolean(true));
		else if (argv[i][0] == '-' || n == 2)
			return usage_error("vm %s: unexpected argument '%s'", argv[0], argv[i]);
		else
			pos[n++] = argv[i];
	}
	if (n != 2)
		return usage_error("vm %s: expected NAME %s [--live] [--config]", argv[0], what);
	json_object_object_add(params, "name", json_object_new_string(pos[0]));
	if (!strcmp(key, "vcpus"))
		return parse_count("vcpus", pos[1], params, key);
	json_object_object_add(params, key, json_object_new_string(pos[1]));
	return 0;
}

static int build_vm_set_vcpus(int argc, char **argv, json_object *params)
{
	return build_vm_set_live(argc, argv, params, "vcpus", "N");
}

static int build_vm_set_memory(int argc, char **argv, json_object *params)
{
	return build_vm_set_live(argc, argv, params, "memory", "SIZE");
}

/* "2 (3 present, at most 8)", "256 MiB (balloon: target 160, actual 161 MiB of 256 MiB)" */
static void print_vm_live(json_object *v)
{
	printf("vcpus:      %s", jstr(v, "vcpus"));
	if (json_object_object_get_ex(v, "vcpus_present", NULL) && strcmp(jstr(v, "vcpus_present"), "-"))
		printf(" (%s present, at most %s)\n", jstr(v, "vcpus_present"), jstr(v, "max_vcpus"));
	else
		printf(" (at most %s)\n", jstr(v, "max_vcpus"));
	printf("memory:     %s MiB", jstr(v, "memory_mib"));
	if (!strcmp(jstr(v, "max_memory_mib"), "-"))
		printf("\n");
	else if (!strcmp(jstr(v, "balloon_actual_mib"), "-"))
		printf(" (a balloon, at most %s MiB)\n", jstr(v, "max_memory_mib"));
	else if (!strcmp(jstr(v, "balloon_target_mib"), "-"))
		printf(" (balloon: actual %s MiB of %s MiB)\n", jstr(v, "balloon_actual_mib"),
		       jstr(v, "max_memory_mib"));
	else
		printf(" (balloon: target %s, actual %s MiB of %s MiB)\n", jstr(v, "balloon_target_mib"),
		       jstr(v, "balloon_actual_mib"), jstr(v, "max_memory_mib"));
}

/* A file that cannot be sent: one line (no usage hint), exit status 2. */
static int file_error(const char *fmt, ...) _printf_(1, 2);
static int file_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "netdctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

/* A regular file opened to read: without waiting for a writer (a FIFO would block netdctl forever),
 * then refused unless it is a regular file. NULL with errno set; EINVAL: not a regular file. */
static FILE *open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = fstat(fd, &st) < 0 ? errno : EINVAL;

		close(fd);
		errno = e;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return f;
}

/* FILE's text, read with the caller's rights (netd never opens it): at most GUEST_CONFIG_TEXT_MAX
 * bytes, no NUL. "-" is stdin. */
static int read_definition(const char *path, char **ret)
{
	_cleanup_fclose_ FILE *f = strcmp(path, "-") ? open_regular(path) : NULL;
	FILE *in = strcmp(path, "-") ? f : stdin;
	_cleanup_free_ char *buf = malloc(GUEST_CONFIG_TEXT_MAX + 2);
	size_t n;

	if (!in && errno == EINVAL)
		return file_error("vm define: %s is not a regular file ('-' reads standard input)", path);
	if (!in)
		return file_error("vm define: cannot read %s: %m", path);
	if (!buf)
		return -ENOMEM;
	n = fread(buf, 1, GUEST_CONFIG_TEXT_MAX + 1, in);
	if (ferror(in))
		return file_error("vm define: cannot read %s: %m", path);
	if (n > GUEST_CONFIG_TEXT_MAX)
		return file_error("vm define: %s is larger than %d bytes: not a guest definition", path,
				  GUEST_CONFIG_TEXT_MAX);
	if (memchr(buf, 0, n))
		return file_error("vm define: %s holds a NUL byte: not a guest definition", path);
	buf[n] = 0;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* ---- network import: a libvirt network's XML (libvirt-import.c) as a network.create ---- */

/* Does this netd (the schema netdctl was built with) have a request parameter of this name? */

/* A setting the mapping knows but this netdctl's schema has not is as dropped as an element netd
 * cannot express (a netd without it refuses the parameter too). */
static void import_check_known(struct libvirt_import *imp)
{
	_cleanup_json_ json_object *unknown = json_object_new_array();
	char buf[256];

	json_object_object_foreach(imp->params, key, val) {
		if (schema_json_name_known(&network_schema, (const char *const[]){ "name", NULL }, key))
			continue;
		snprintf(buf, sizeof(buf), "%s %s (this netdctl has no such setting)", key,
			 json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
		json_object_array_add(imp->dropped, json_object_new_string(buf));
		json_object_array_add(unknown, json_object_new_string(key));
	}
	for (size_t i = 0; i < json_object_array_length(unknown); i++)
		json_object_object_del(imp->params,
				       json_object_get_string(json_object_array_get_idx(unknown, i)));
}

static int read_xml(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_fclose_ FILE *f = strcmp(path, "-") ? open_regular(path) : NULL;
	FILE *in = strcmp(path, "-") ? f : stdin;
	_cleanup_free_ char *buf = malloc(LIBVIRT_XML_MAX + 1);
	size_t n;

	if (!in && errno == EINVAL)
		return file_error("network import: %s is not a regular file ('-' reads standard input)",
				  path);
	if (!in)
		return file_error("network import: cannot read %s: %m", path);
	if (!buf)
		return -ENOMEM;
	n = fread(buf, 1, LIBVIRT_XML_MAX + 1, in);
	if (ferror(in))
		return file_error("network import: cannot read %s: %m", path);
	if (n > LIBVIRT_XML_MAX)
		return file_error(
			"network import: %s is larger than %d bytes: not a libvirt network definition", path,
			LIBVIRT_XML_MAX);
	*ret = TAKE_PTR(buf);
	*ret_len = n;
	return 0;
}

static bool import_dry_run; /* build_import sent dry_run: check_import_reply wants it answered */

/* FILE.xml [--name NAME] [--dry-run] [--partial]: the mapping's parameters, refused (exit 2,
 * nothing sent) while something in FILE cannot be expressed, unless --partial. */
static int build_import(int argc, char **argv, json_object *params)
{
	const char *path = NULL, *name = NULL;
	_cleanup_free_ char *xml = NULL;
	struct libvirt_import imp;
	bool partial = false, dry_run = false;
	char err[512];
	size_t len = 0, n;
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			dry_run = true;
		else if (!strcmp(argv[i], "--partial"))
			partial = true;
		else if (!strcmp(argv[i], "--name") && i + 1 == argc)
			return usage_error("option '--name' needs a value");
		else if (!strcmp(argv[i], "--name"))
			name = argv[++i];
		else if (!strncmp(argv[i], "--name=", 7))
			name = argv[i] + 7;
		else if ((argv[i][0] == '-' && argv[i][1]) || path)
			return usage_error("network import: unexpected argument '%s'", argv[i]);
		else
			path = argv[i];
	}
	if (!path)
		return usage_error(
			"network import: missing FILE.xml (as 'virsh net-dumpxml NAME' writes it)");
	r = read_xml(path, &xml, &len);
	if (r < 0)
		return r;
	if (libvirt_import_parse(xml, len, &imp, err, sizeof(err)) < 0)
		return file_error("network import: %s %s", path, err);
	import_check_known(&imp);
	for (size_t i = 0; i < json_object_array_length(imp.ignored); i++)
		fprintf(stderr, "netdctl: note: not imported: %s\n",
			json_object_get_string(json_object_array_get_idx(imp.ignored, i)));
	n = json_object_array_length(imp.dropped);
	if (n)
		fprintf(stderr, "netdctl: %s: netd cannot express%s:\n", path,
			partial ? " (left out: --partial)" : "");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %s\n", json_object_get_string(json_object_array_get_idx(imp.dropped, i)));
	if (imp.fatal) {
		r = file_error("network import: %s: %s: nothing imported, not even with --partial", path,
			       imp.fatal);
		libvirt_import_done(&imp);
		return r;
	}
	if (n && !partial) {
		libvirt_import_done(&imp);
		return file_error("network import: refused, nothing imported (--partial imports the rest)");
	}
	if (!json_object_object_get_ex(imp.params, "mode", NULL)) {
		libvirt_import_done(&imp);
		return file_error("network import: %s has no forward mode netd has: nothing to import", path);
	}
	if (!name && !json_object_object_get_ex(imp.params, "name", NULL)) {
		libvirt_import_done(&imp);
		return file_error("network import: %s has no <name>: give --name NAME", path);
	}
	/* libvirt's names may be what netd's may not ("my net", "a.b"): say what to do about it */
	if (!name) {
		const char *file_name = json_object_get_string(json_object_object_get(imp.params, "name"));
		const char *why = object_name_invalid_reason(file_name);
		char e[160];

		if (why) {
			r = file_error("network import: %s: <name>%s</name> is no netd network name (it %s): "
				       "give --name NAME",
				       path, text_escape(file_name, e, sizeof(e)), why);
			libvirt_import_done(&imp);
			return r;
		}
	}
	json_object_object_foreach(imp.params, key, val)
		json_object_object_add(params, key, json_object_get(val));
	if (name)
		json_object_object_add(params, "name", json_object_new_string(name));
	if (dry_run)
		json_object_object_add(params, "dry_run", json_object_new_boolean(true));
	import_dry_run = dry_run;
	libvirt_import_done(&imp);
	return 0;
}

/* A netd that did not take dry_run for what it is would have created the network: say so. */
static int check_import_reply(json_object *result)
{
	json_object *v;

	if (!import_dry_run || (json_object_object_get_ex(result, "dry_run", &v) &&
				json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v)))
		return 0;
	fprintf(stderr,
		"netdctl: network import --dry-run: netd's reply is no dry run's (no \"dry_run\": true): "
		"this netd may have created network '%s'; check with 'netdctl network show %s'\n",
		jstr(result, "name"), jstr(result, "name"));
	return -EPROTO;
}

/* --dry-run: the definition file netd would write, as it would write it. */
static void print_import(json_object *o)
{
	if (json_object_object_get_ex(o, "definition", NULL))
		fputs(jstr(o, "definition"), stdout);
	else
		print_network(o);
}

/* A cloud-init file's text, read with the caller's rights (netd never opens a path a user gives):
 * at most CLOUD_INIT_FILE_MAX bytes, no NUL. */
static int read_cloud_init_file(const char *what, const char *path, size_t max, char **ret)
{
	_cleanup_fclose_ FILE *f = open_regular(path);
	_cleanup_free_ char *buf = malloc(max + 2);
	size_t n;

	if (!f && errno == EINVAL)
		return file_error("vm create: %s %s is not a regular file", what, path);
	if (!f)
		return file_error("vm create: cannot read %s %s: %m", what, path);
	if (!buf)
		return -ENOMEM;
	n = fread(buf, 1, max + 1, f);
	if (ferror(f))
		return file_error("vm create: cannot read %s %s: %m", what, path);
	if (n > max)
		return file_error("vm create: %s %s is larger than %zu bytes", what, path, max);
	if (memchr(buf, 0, n))
		return file_error("vm create: %s %s holds a NUL byte", what, path);
	buf[n] = 0;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* --cloud-init SPEC, --hostname NAME, --ssh-key FILE: taken out of argv (the rest is the schema's),
 * the files read here and sent as texts. */
static int cloud_init_args(int argc, char **argv, json_object *params, int *ret_argc)
{
	json_object *files = NULL;
	int n = 1;

	for (int i = 1; i < argc; i++) {
		bool ci = !strcmp(argv[i], "--cloud-init"), key = !strcmp(argv[i], "--ssh-key");
		char *paths[_CLOUD_INIT_FILE_MAX], err[512], *text = NULL;
		int r = 0;

		if (!ci && !key && strcmp(argv[i], "--hostname")) {
			argv[n++] = argv[i];
			continue;
		}
		if (i + 1 >= argc)
			return usage_error("option '%s' needs a value", argv[i]);
		if (!strcmp(argv[i], "--hostname")) {
			json_object_object_add(params, "hostname", json_object_new_string(argv[++i]));
			continue;
		}
		if (key) {
			r = read_cloud_init_file("--ssh-key", argv[++i], CLOUD_INIT_SSH_KEY_MAX + 2, &text);
			if (r < 0)
				return r;
			json_object_object_add(params, "ssh_key", json_object_new_string(text));
			free(text);
			continue;
		}
		if (files)
			return usage_error("vm create: --cloud-init given twice");
		if (cloud_init_spec_parse(argv[++i], paths, err, sizeof(err)) < 0)
			return usage_error("%s", err);
		files = json_object_new_object();
		json_object_object_add(params, "cloud_init_files", files);
		for (int f = 0; f < _CLOUD_INIT_FILE_MAX; f++) {
			if (paths[f] && r >= 0 &&
			    (r = read_cloud_init_file(cloud_init_file_to_string(f), paths[f],
						      CLOUD_INIT_FILE_MAX, &text)) >= 0) {
				json_object_object_add(files, cloud_init_file_to_string(f),
						       json_object_new_string(text));
				free(text);
			}
			free(paths[f]);
		}
		if (r < 0)
			return r;
	}
	argv[n] = NULL;
	*ret_argc = n;
	if (strlen(json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN)) > PROTOCOL_MAX_LINE - 4096)
		return usage_error(
			"vm create: the cloud-init files do not fit in one request (at most %d bytes "
			"once escaped)",
			PROTOCOL_MAX_LINE - 4096);
	return 0;
}

/* vm define FILE [--name NAME]: the name is NAME, or FILE's name without ".conf" (web.conf: web). */
static int build_vm_define(int argc, char **argv, json_object *params)
{
	_cleanup_free_ char *text = NULL, *base = NULL;
	const char *file = NULL, *name = NULL;
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strncmp(argv[i], "--name=", 7))
			name = argv[i] + 7;
		else if ((argv[i][0] == '-' && argv[i][1]) || file)
			return usage_error("vm define: unexpected argument '%s'", argv[i]);
		else
			file = argv[i];
	}
	if (!file)
		return usage_error(
			"vm define: missing FILE (a definition, e.g. from 'netdctl vm dump NAME')");
	if (!name) {
		const char *slash = strrchr(file, '/');
		size_t len;

		base = strdup(slash ? slash + 1 : file);
		if (!base)
			return -ENOMEM;
		len = strlen(base);
		if (!strcmp(file, "-") || len <= 5 || strcmp(base + len - 5, ".conf"))
			return usage_error(
				"vm define: give the guest's name with --name NAME (or name the file NAME.conf)");
		base[len - 5] = 0;
		name = base;
	}
	r = read_definition(file, &text);
	if (r < 0)
		return r;
	json_object_object_add(params, "name", json_object_new_string(name));
	json_object_object_add(params, "text", json_object_new_string(text));
	/* The request is one line: escaped ('\n', '\/', control characters) it must still fit. */
	if (strlen(json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN)) > PROTOCOL_MAX_LINE - 256)
		return usage_error(
			"vm define: %s does not fit in one request (at most %d bytes once escaped)", file,
			PROTOCOL_MAX_LINE - 256);
	return 0;
}

/* The definition's text as it is, to redirect into a file. */
static void print_vm_dump(json_object *o)
{
	fputs(jstr(o, "text"), stdout);
}
static void print_tuning(json_object *t);

static void print_vm(json_object *v)
{
	json_object *nics = json_object_object_get(v, "nics"), *vnc;

	/* set-vcpus/set-memory: the running guest changed, its definition could not be saved */
	if (json_object_object_get_ex(v, "warning", NULL))
		fprintf(stderr, "warning: %s\n", jstr(v, "warning"));
	printf("name:       %s\nstate:      %s\n", jstr(v, "name"), jstr(v, "state"));
	if (json_object_object_get_ex(v, "note", NULL))
		printf("note:       %s\n", jstr(v, "note"));
	printf("pid:        %s\n", jstr(v, "pid"));
	print_vm_live(v);
	printf("accel:      %s\nautostart:  %s\n", jstr(v, "accel"), jstr(v, "autostart"));
	for (size_t i = 0; i < json_object_array_length(nics); i++) {
		json_object *n = json_object_array_get_idx(nics, i);
		json_object *v6 = json_object_object_get(n, "ipv6");
		size_t n6 = json_object_is_type(v6, json_type_array) ? json_object_array_length(v6) : 0;

		printf("nic%zu:       network %s, mac %s, tap %s, ip %s, port security %s\n", i, jstr(n, "network"),
		       jstr(n, "mac"), jstr(n, "tap"), jstr(n, "ip"), jstr(n, "security"));
		for (size_t j = 0; j < n6; j++) {
			json_object *a = json_object_array_get_idx(v6, j);

			printf("%s%s (%s)", j ? ", " : "            ipv6 ", jstr(a, "address"),
			       jstr(a, "source"));
		}
		if (n6)
			printf("\n");
	}
	print_vm_disks(v);
	if (json_object_object_get_ex(v, "cloud_init", &vnc) && vnc)
		printf("cloud-init: instance-id %s, hostname %s\n", jstr(vnc, "instance_id"),
		       jstr(vnc, "hostname"));
	printf("console:    netdctl vm console %s (log: %s)\n", jstr(v, "name"), jstr(v, "serial_log"));
	if (json_object_object_get_ex(v, "vnc", &vnc) && vnc) {
		printf("vnc:        %s", jstr(vnc, "address"));
		if (strcmp(jstr(vnc, "password"), "-"))
			printf(", password %s", jstr(vnc, "password"));
		printf("\n            %s\n", jstr(vnc, "connect"));
	}
	print_tuning(json_object_object_get(v, "tuning"));
}

/* vm show's tuning: what was asked and, while QEMU runs, what is in effect (read back). */
static void print_tuning(json_object *t)
{
	json_object *threads = json_object_object_get(t, "vcpu_threads");
	size_t n = json_object_is_type(threads, json_type_array) ? json_object_array_length(threads) : 0;

	if (!t)
		return;
	if (strcmp(jstr(t, "cpu"), "-"))
		printf("cpu:        %s%s%s%s\n", jstr(t, "cpu"),
		       json_object_object_get_ex(t, "cpu_model", NULL) ? " (in effect: " : "",
		       json_object_object_get_ex(t, "cpu_model", NULL) ? jstr(t, "cpu_model") : "",
		       json_object_object_get_ex(t, "cpu_model", NULL) ? ")" : "");
	if (json_object_object_get_ex(t, "cpu_note", NULL))
		printf("            %s\n", jstr(t, "cpu_note"));
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(threads, i);

		printf("vcpu%s:      thread %s on CPUs %s (pinned: %s)\n", jstr(c, "vcpu"), jstr(c, "thread"),
		       jstr(c, "cpus"), jstr(c, "pin"));
	}
	if (strcmp(jstr(t, "emulator_pin"), "-"))
		printf("emulator:   pinned to %s (main thread on CPUs %s)\n", jstr(t, "emulator_pin"),
		       jstr(t, "emulator_cpus"));
	if (json_object_get_boolean(json_object_object_get(t, "hugepages")))
		printf("memory:     from huge pages\n");
	if (json_object_get_int(json_object_object_get(t, "io_threads")) > 0)
		printf("io threads: %s\n", jstr(t, "io_threads"));
}

static void print_vm_list(json_object *list)
{
	printf("%-20s %-14s %-8s %-20s %s\n", "NAME", "STATE", "PID", "NETWORKS", "IP");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *v = json_object_array_get_idx(list, i), *nics = json_object_object_get(v, "nics");
		char nets[256] = "", ips[256] = "";

		for (size_t j = 0; j < json_object_array_length(nics); j++) {
			json_object *n = json_object_array_get_idx(nics, j);
			snprintf(nets + strlen(nets), sizeof(nets) - strlen(nets), "%s%s", j ? "," : "", jstr(n, "network"));
			snprintf(ips + strlen(ips), sizeof(ips) - strlen(ips), "%s%s", j ? "," : "", jstr(n, "ip"));
		}
		printf("%-20s %-14s %-8s %-20s %s\n", jstr(v, "name"), jstr(v, "state"), jstr(v, "pid"), nets, ips);
	}
}

/* disk NAME: the pool's file name. */
static int build_disk(int argc, char **argv, json_object *params)
{
	if (argc < 2)
		return usage_error("disk %s: missing disk NAME", argv[0]);
	if (argc > 2)
		return usage_error("unexpected argument '%s'", argv[2]);
	json_object_object_add(params, "name", json_object_new_string(argv[1]));
	return 0;
}

static int build_disk_create(int argc, char **argv, json_object *params)
{
	const char *name = NULL;

	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "--size") || !strcmp(argv[i], "--format") ||
		     !strcmp(argv[i], "--backing")) &&
		    i + 1 < argc) {
			json_object_object_add(params, argv[i] + 2, json_object_new_string(argv[i + 1]));
			i++;
		} else if (argv[i][0] == '-' || name) {
			return usage_error("disk create: unexpected argument '%s'", argv[i]);
		} else {
			name = argv[i];
		}
	}
	if (!name)
		return usage_error("disk create: missing disk NAME");
	if (!json_object_object_get_ex(params, "size", NULL) &&
	    !json_object_object_get_ex(params, "backing", NULL))
		return usage_error("disk create: missing --size SIZE (or --backing BASE)");
	json_object_object_add(params, "name", json_object_new_string(name));
	return 0;
}

static int build_disk_convert(int argc, char **argv, json_object *params)
{
	const char *names[2] = {};
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			json_object_object_add(params, "format", json_object_new_string(argv[++i]));
		} else if (argv[i][0] == '-' || n == 2) {
			return usage_error("disk convert: unexpected argument '%s'", argv[i]);
		} else {
			names[n++] = argv[i];
		}
	}
	if (n != 2)
		return usage_error("disk convert: expected SRC DST --format qcow2|raw");
	if (!json_object_object_get_ex(params, "format", NULL))
		return usage_error("disk convert: missing --format qcow2|raw");
	json_object_object_add(params, "name", json_object_new_string(names[0]));
	json_object_object_add(params, "target", json_object_new_string(names[1]));
	return 0;
}

/* disk import FILE NAME [--format qcow2|raw] [--source-format qcow2|raw]: FILE made absolute here
 * (netd opens it with the caller's rights, but not from the caller's directory). */
static int build_disk_import(int argc, char **argv, json_object *params)
{
	const char *args[2] = {};
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "--format") || !strcmp(argv[i], "--source-format")) && i + 1 < argc) {
			json_object_object_add(params,
					       !strcmp(argv[i], "--format") ? "format" : "source_format",
					       json_object_new_string(argv[i + 1]));
			i++;
		} else if (argv[i][0] == '-' || n == 2) {
			return usage_error("disk import: unexpected argument '%s'", argv[i]);
		} else {
			args[n++] = argv[i];
		}
	}
	if (n != 2)
		return usage_error("disk import: expected FILE NAME");
	if (args[0][0] == '/') {
		json_object_object_add(params, "file", json_object_new_string(args[0]));
	} else {
		_cleanup_free_ char *cwd = getcwd(NULL, 0), *abs = NULL;

		if (!cwd || asprintf(&abs, "%s/%s", cwd, args[0]) < 0)
			return usage_error("disk import: cannot make %s absolute: %m", args[0]);
		json_object_object_add(params, "file", json_object_new_string(abs));
	}
	json_object_object_add(params, "name", json_object_new_string(args[1]));
	return 0;
}

/* vm clone SRC NEW [--network NET] [--copy] */
static int build_vm_clone(int argc, char **argv, json_object *params)
{
	const char *names[2] = {};
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--network") && i + 1 < argc)
			json_object_object_add(params, "network", json_object_new_string(argv[++i]));
		else if (!strcmp(argv[i], "--copy"))
			json_object_object_add(params, "copy", json_object_new_boolean(true));
		else if (argv[i][0] == '-' || n == 2)
			return usage_error("vm clone: unexpected argument '%s'", argv[i]);
		else
			names[n++] = argv[i];
	}
	if (n != 2)
		return usage_error("vm clone: expected SRC NEW [--network NET] [--copy]");
	json_object_object_add(params, "name", json_object_new_string(names[0]));
	json_object_object_add(params, "target", json_object_new_string(names[1]));
	return 0;
}

static int build_disk_resize(int argc, char **argv, json_object *params)
{
	if (argc != 3)
		return usage_error("disk resize: expected NAME [+]SIZE");
	json_object_object_add(params, "name", json_object_new_string(argv[1]));
	json_object_object_add(params, "size", json_object_new_string(argv[2]));
	return 0;
}

/* 10737418240 -> "10 GiB" (exact units only, else bytes). */
static const char *size_text(json_object *o, const char *key, char *buf, size_t size)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	json_object *v;
	int64_t n;
	size_t u = 0;

	if (!json_object_object_get_ex(o, key, &v))
		return "-";
	n = json_object_get_int64(v);
	while (u + 1 < ELEMENTSOF(units) && n >= 1024 && n % 1024 == 0) {
		n /= 1024;
		u++;
	}
	snprintf(buf, size, "%" PRId64 " %s", n, units[u]);
	return buf;
}

static void print_users(json_object *o)
{
	json_object *users = json_object_object_get(o, "used_by");

	for (size_t i = 0; users && i < json_object_array_length(users); i++)
		printf("%s%s", i ? "," : "", json_object_get_string(json_object_array_get_idx(users, i)));
	printf("%s\n", users && json_object_array_length(users) ? "" : "-");
}

/* "backing chain: web.qcow2 -> base.qcow2" (netd's record), for an overlay only. */
static void print_chain(json_object *o)
{
	json_object *chain = json_object_object_get(o, "backing_chain");

	if (!chain || !json_object_array_length(chain))
		return;
	printf("backing chain: %s", jstr(o, "name"));
	for (size_t i = 0; i < json_object_array_length(chain); i++)
		printf(" -> %s", json_object_get_string(json_object_array_get_idx(chain, i)));
	printf("\n");
}

static void print_disk(json_object *o)
{
	json_object *snaps = json_object_object_get(o, "snapshots");
	char a[48], b[48];

	printf("name:         %s\n", jstr(o, "name"));
	printf("path:         %s\n", jstr(o, "path"));
	printf("format:       %s\n", jstr(o, "format"));
	printf("virtual size: %s (%s bytes)\n", size_text(o, "virtual_size", a, sizeof(a)),
	       jstr(o, "virtual_size"));
	printf("actual size:  %s\n", size_text(o, "actual_size", b, sizeof(b)));
	printf("backing file: %s\n", jstr(o, "backing_file"));
	print_chain(o);
	printf("used by:      ");
	print_users(o);
	for (size_t i = 0; snaps && i < json_object_array_length(snaps); i++) {
		json_object *s = json_object_array_get_idx(snaps, i);
		printf("snapshot:     %s %s (vm state %s bytes)\n", jstr(s, "id"), jstr(s, "name"),
		       jstr(s, "vm_state_size"));
	}
}

static void print_disk_list(json_object *list)
{
	char a[48], b[48];

	printf("%-24s %-8s %-12s %-12s %-24s %s\n", "NAME", "FORMAT", "SIZE", "ON DISK", "BACKING",
	       "USED BY");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *o = json_object_array_get_idx(list, i);
		printf("%-24s %-8s %-12s %-12s %-24s ", jstr(o, "name"), jstr(o, "format"),
		       size_text(o, "virtual_size", a, sizeof(a)), size_text(o, "actual_size", b, sizeof(b)),
		       jstr(o, "backing_file"));
		print_users(o);
	}
}

static void print_disk_deleted(json_object *o)
{
	printf("disk '%s' deleted\n", jstr(o, "name"));
}

/* vm screenshot NAME FILE [--force]: FILE is written here, with the caller's own rights, never by
 * netd; an existing FILE (or a symlink there) only with --force, which replaces it by a rename. */
static const char *arg_screenshot_file;
static bool arg_screenshot_force;

static int build_vm_screenshot(int argc, char **argv, json_object *params)
{
	const char *pos[2];
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			arg_screenshot_force = true;
		else if (argv[i][0] == '-' || n == 2)
			return usage_error("vm screenshot: unexpected argument '%s'", argv[i]);
		else
			pos[n++] = argv[i];
	}
	if (n != 2)
		return usage_error("vm screenshot: expected NAME FILE.png [--force]");
	arg_screenshot_file = pos[1];
	json_object_object_add(params, "name", json_object_new_string(pos[0]));
	return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t k = write(fd, buf, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		buf += k;
		len -= k;
	}
	return 0;
}

/* A new file, never through a symlink, never over an existing one; removed when not written. */
static int write_new(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644), r;

	if (fd < 0)
		return -errno;
	r = write_all(fd, buf, len);
	if (close(fd) < 0 && r >= 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

/* --force: a temporary file next to path, renamed over it (a symlink there is replaced, its target
 * left alone). */
static int write_replace(const char *path, const uint8_t *buf, size_t len)
{
	_cleanup_free_ char *copy = strdup(path), *copy2 = strdup(path), *tmp = NULL;
	mode_t mask;
	int fd, r;

	if (!copy || !copy2 || asprintf(&tmp, "%s/.%s.XXXXXX", dirname(copy), basename(copy2)) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	mask = umask(0);
	umask(mask);
	r = fchmod(fd, 0644 & ~mask) < 0 ? -errno : write_all(fd, buf, len);
	if (close(fd) < 0 && r >= 0)
		r = -errno;
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* The PNG (base64 in the reply) into the file; the result then names the file instead. */
static int save_screenshot(json_object *o)
{
	_cleanup_free_ uint8_t *png = NULL;
	size_t len = 0;
	uint32_t w, h;
	int r;

	if (guest_base64_decode(jstr(o, "data"), &png, &len) < 0 || guest_png_size(png, len, &w, &h) < 0) {
		fprintf(stderr, "netdctl: netd's reply holds no PNG\n");
		return -EBADMSG;
	}
	r = arg_screenshot_force ? write_replace(arg_screenshot_file, png, len) :
				   write_new(arg_screenshot_file, png, len);
	if (r == -EEXIST || r == -ELOOP) {
		fprintf(stderr, "netdctl: %s exists (--force replaces it)\n", arg_screenshot_file);
		return r;
	}
	if (r < 0) {
		fprintf(stderr, "netdctl: cannot write %s: %s\n", arg_screenshot_file, strerror(-r));
		return -EIO;
	}
	json_object_object_del(o, "data");
	json_object_object_add(o, "file", json_object_new_string(arg_screenshot_file));
	return 0;
}

static void print_screenshot(json_object *o)
{
	printf("%s: %sx%s PNG of guest '%s' (%s bytes)\n", jstr(o, "file"), jstr(o, "width"),
	       jstr(o, "height"), jstr(o, "name"), jstr(o, "size"));
}

/* ---- graph: the host's networks as a picture (graph.c draws, Graphviz's dot renders) ---- */

static int call(const char *method, json_object *params, json_object **ret_reply);

/* graph [--format dot|svg|png] [-o FILE] [--force] */
static struct {
	const char *format; /* "dot", "svg" or "png" */
	const char *output; /* NULL or "-": standard output */
	bool force;
} arg_graph = { .format = "dot" };

static int build_graph(int argc, char **argv, json_object *params)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *value = NULL;
		bool format = !strcmp(a, "--format") || !strncmp(a, "--format=", 9);
		bool output = !strcmp(a, "-o");

		if (!strcmp(a, "--force")) {
			arg_graph.force = true;
			continue;
		}
		if (!format && !output)
			return usage_error("graph: unexpected argument '%s'", a);
		if (strchr(a, '='))
			value = strchr(a, '=') + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return usage_error("graph: option '%s' needs a value", a);
		if (format && strcmp(value, "dot") && strcmp(value, "svg") && strcmp(value, "png"))
			return usage_error("graph: unknown --format '%s' (dot, svg or png)", value);
		if (format)
			arg_graph.format = value;
		else if (!value[0])
			return usage_error("graph: -o needs a FILE ('-': standard output)");
		else
			arg_graph.output = value;
	}
	if (arg_graph.force && (!arg_graph.output || !strcmp(arg_graph.output, "-")))
		return usage_error("graph: --force replaces an existing -o FILE: give one");
	/* What netd answers is no picture: the JSON is that of the commands graph asks for. */
	if (arg_json)
		return usage_error("graph: --json does not apply: graph draws DOT, SVG or PNG from what "
				   "'netdctl --json status', 'network list', 'vm show', 'network leases', "
				   "'network forward list' and 'uplink status' print");
	return 0;
}

/* Graphviz's dot in PATH (as a shell finds it), or NULL. */
static char *graph_find_dot(void)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL;

	if (!copy)
		return NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *exe = NULL;
		struct stat st;

		if (asprintf(&exe, "%s/dot", *dir ? dir : ".") < 0)
			return NULL;
		if (!stat(exe, &st) && S_ISREG(st.st_mode) && !access(exe, X_OK))
			return exe;
		free(exe);
	}
	return NULL;
}

/* One request's result (a new reference), or NULL; quiet says nothing when netd refuses it. */
static json_object *graph_ask(const char *method, const char *name, bool quiet)
{
	_cleanup_json_ json_object *params = json_object_new_object(), *reply = NULL;
	json_object *ok;

	if (name)
		json_object_object_add(params, "name", json_object_new_string(name));
	if (call(method, params, &reply) < 0)
		return NULL;
	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok)) {
		if (!quiet)
			fprintf(stderr, "netdctl: graph: %s: %s\n", method, jstr(reply, "error"));
		return NULL;
	}
	return json_object_get(json_object_object_get(reply, "result"));
}

/* The document graph_render() draws: netd's answers, as netdctl --json prints them. */
static int graph_collect(json_object *host)
{
	static const char *const required[][2] = { { "status", "daemon.status" },
						   { "networks", "network.list" },
						   { "guests", "vm.list" } };
	json_object *leases = json_object_new_object(), *forwards = json_object_new_object(), *nets, *guests;

	json_object_object_add(host, "leases", leases);
	json_object_object_add(host, "forwards", forwards);
	for (size_t i = 0; i < ELEMENTSOF(required); i++) {
		json_object *o = graph_ask(required[i][1], NULL, false);

		if (!o)
			return -EIO;
		json_object_object_add(host, required[i][0], o);
	}
	json_object_object_add(host, "uplinks", graph_ask("uplink.status", NULL, false));
	nets = json_object_object_get(host, "networks");
	guests = json_object_object_get(host, "guests");
	/* vm.show has each NIC's IPv6 addresses; a guest deleted meanwhile keeps vm.list's entry. */
	for (size_t i = 0; i < json_object_array_length(guests); i++) {
		json_object *v =
			graph_ask("vm.show", jstr(json_object_array_get_idx(guests, i), "name"), true);

		if (v)
			json_object_array_put_idx(guests, i, v);
	}
	for (size_t i = 0; i < json_object_array_length(nets); i++) {
		json_object *n = json_object_array_get_idx(nets, i), *o;
		const char *name = jstr(n, "name");

		if (strcmp(jstr(n, "state"), "inactive") &&
		    json_object_get_boolean(
			    json_object_object_get(json_object_object_get(n, "dhcp"), "enabled")) &&
		    (o = graph_ask("network.leases", name, true)))
			json_object_object_add(leases, name, o);
		if (json_object_array_length(json_object_object_get(n, "forwards")) &&
		    (o = graph_ask("network.forward.list", name, true)))
			json_object_object_add(forwards, name, o);
	}
	return 0;
}

/* dot -Tsvg|png with the DOT text on its stdin; its picture (malloc'ed) in *ret. */
static int graph_run_dot(const char *dot, const char *text, uint8_t **ret, size_t *ret_len)
{
	_cleanup_close_ int in = memfd_create("netdctl-graph.dot", MFD_CLOEXEC),
			    out = memfd_create("netdctl-graph.out", MFD_CLOEXEC);
	char type[16], *argv[] = { "dot", type, "-o/dev/fd/3", NULL }, o[64], err[512];
	int fds[1] = { out }, r;
	struct proc_spawn spec = {
		.exe = dot,
		.argv = argv,
		.envp = environ,
		.fds = fds,
		.n_fds = 1,
		.first_fd = 3,
		.no_new_privs = true,
	};
	struct proc_backend proc;
	_cleanup_free_ uint8_t *buf = NULL;
	struct stat st;

	if (in < 0 || out < 0 || write_all(in, (const uint8_t *)text, strlen(text)) < 0 ||
	    lseek(in, 0, SEEK_SET) < 0) {
		fprintf(stderr, "netdctl: graph: cannot hand the DOT text to dot: %m\n");
		return -EIO;
	}
	snprintf(type, sizeof(type), "-T%s", arg_graph.format);
	spec.stdio[0] = (struct proc_io){ PROC_IO_FD, in };
	proc_real_init(&proc);
	r = proc_run_check(&proc, &spec, 60 * 1000, o, sizeof(o), err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "netdctl: graph: %s; nothing written\n", err);
		return r;
	}
	if (fstat(out, &st) < 0 || !(buf = malloc(st.st_size + 1)) ||
	    pread(out, buf, st.st_size, 0) != st.st_size || !st.st_size) {
		fprintf(stderr, "netdctl: graph: dot wrote no %s picture; nothing written\n",
			arg_graph.format);
		return -EIO;
	}
	*ret_len = st.st_size;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* To -o FILE (a new file; --force: replaced by a rename) or standard output (never a PNG to a
 * terminal). */
static int graph_write(const uint8_t *buf, size_t len)
{
	const char *file = arg_graph.output;
	int r;

	if (!file || !strcmp(file, "-")) {
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
			fprintf(stderr, "netdctl: graph: cannot write to standard output: %m\n");
			return -EIO;
		}
		return 0;
	}
	r = arg_graph.force ? write_replace(file, buf, len) : write_new(file, buf, len);
	if (r == -EEXIST || r == -ELOOP)
		fprintf(stderr, "netdctl: graph: %s exists (--force replaces it)\n", file);
	else if (r < 0)
		fprintf(stderr, "netdctl: graph: cannot write %s: %s\n", file, strerror(-r));
	return r;
}

/* Checked before netd is asked anything: dot for svg and png, the file, the terminal. */
static int run_graph(json_object *params)
{
	_cleanup_json_ json_object *host = json_object_new_object();
	_cleanup_free_ char *dot = NULL, *text = NULL;
	_cleanup_free_ uint8_t *pic = NULL;
	bool to_stdout = !arg_graph.output || !strcmp(arg_graph.output, "-");
	size_t len = 0;
	struct stat st;
	int r;

	if (strcmp(arg_graph.format, "dot") && !(dot = graph_find_dot())) {
		fprintf(stderr,
			"netdctl: graph: --format %s needs Graphviz's 'dot', which is not in PATH: install the "
			"package graphviz (--format dot prints the DOT text without it)\n",
			arg_graph.format);
		return -ENOENT;
	}
	if (!to_stdout && !arg_graph.force && lstat(arg_graph.output, &st) == 0) {
		fprintf(stderr, "netdctl: graph: %s exists (--force replaces it)\n", arg_graph.output);
		return -EEXIST;
	}
	if (to_stdout && !strcmp(arg_graph.format, "png") && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "netdctl: graph: a PNG is not for a terminal: give -o FILE.png\n");
		return -EINVAL;
	}
	r = graph_collect(host);
	if (r < 0)
		return r;
	if (graph_render(host, &text) < 0) {
		fprintf(stderr, "netdctl: graph: out of memory\n");
		return -ENOMEM;
	}
	if (!dot)
		return graph_write((const uint8_t *)text, strlen(text));
	r = graph_run_dot(dot, text, &pic, &len);
	return r < 0 ? r : graph_write(pic, len);
}

/* vm console NAME --log [--lines N] */
static int build_vm_console_log(int argc, char **argv, json_object *params)
{
	const char *name = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--log"))
			continue;
		if (!strcmp(argv[i], "--lines") && i + 1 < argc) {
			if (parse_count("--lines", argv[++i], params, "lines") < 0)
				return -EINVAL;
		} else if (argv[i][0] == '-' || name) {
			return usage_error("vm console: unexpected argument '%s'", argv[i]);
		} else {
			name = argv[i];
		}
	}
	if (!name)
		return usage_error("vm console: missing guest NAME");
	json_object_object_add(params, "name", json_object_new_string(name));
	return 0;
}

static void print_console_log(json_object *o)
{
	json_object *lines = json_object_object_get(o, "lines");

	for (size_t i = 0; i < json_object_array_length(lines); i++)
		printf("%s\n", json_object_get_string(json_object_array_get_idx(lines, i)));
}

static void print_vm_deleted(json_object *o)
{
	printf("guest '%s' deleted\n", jstr(o, "name"));
}

/* vm console: the serial console's socket, both ways, until Ctrl-] or QEMU hangs up. */
static void console_attach(json_object *v)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = jstr(v, "console");
	struct termios old, raw;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "netdctl: cannot attach to %s: %m (is the guest running?)\n", path);
		exit(EXIT_FAILURE);
	}
	fprintf(stderr, "Connected to the console of '%s'; Ctrl-] detaches.\n", jstr(v, "name"));
	if (tty) {
		raw = old;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = fd, .events = POLLIN } };
		char buf[4096];
		ssize_t n;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0 || write(STDOUT_FILENO, buf, n) < 0)
				break;
		}
		if (p[0].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0 || memchr(buf, 0x1d, n) || write(fd, buf, n) < 0)
				break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
	close(fd);
	fprintf(stderr, "\r\nDetached.\n");
}

static int build_doctor(int argc, char **argv, json_object *params)
{
	if (argc == 3 && !strcmp(argv[1], "--guest")) {
		json_object_object_add(params, "guest", json_object_new_string(argv[2]));
		return 0;
	}
	if (argc == 2 && argv[1][0] != '-') {
		json_object_object_add(params, "name", json_object_new_string(argv[1]));
		return 0;
	}
	if (argc < 2 || (argc == 2 && !strcmp(argv[1], "--guest")))
		return usage_error("doctor: expected a network NAME or --guest NAME");
	return usage_error("doctor: unexpected argument '%s'", argv[argc == 2 ? 1 : argc - 1]);
}

/* One line per step, its fix under a step that is not ok. */
static void print_doctor(json_object *o)
{
	json_object *steps = json_object_object_get(o, "steps");
	const char *last = NULL;

	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i);
		json_object *f = json_object_object_get(s, "fix");
		const char *status = jstr(s, "status"), *net = jstr(s, "network");
		const char *tag = !strcmp(status, "ok")	  ? "[ok]  " :
				  !strcmp(status, "fail") ? "[FAIL]" :
				  !strcmp(status, "warn") ? "[warn]" :
							    "[skip]";

		if (net[0] && (!last || strcmp(last, net)))
			printf("network %s:\n", net);
		last = net;
		printf("%s %-14s %s\n", tag, jstr(s, "name"), jstr(s, "detail"));
		if (f && json_object_is_type(f, json_type_string))
			printf("       fix: %s\n", json_object_get_string(f));
	}
	printf(json_object_get_boolean(json_object_object_get(o, "ok")) ? "No step failed.\n" :
									  "Something fails: see [FAIL] above.\n");
}

static const struct verb verbs[] = {
	{ "network", "create", "network.create", build_create, print_network, "network create NAME",
	  &network_schema },
	{ "network", "create", "network.create", build_create, print_network,
	  "network create NAME --mode bridge --bridge BRIDGE   (guests straight onto an existing bridge's LAN)" },
	{ "network", "create", "network.create", build_create, print_network,
	  "network create NAME --mode evpn --vni N --subnet CIDR [--routed]   (one subnet across hosts:\n"
	  "                                        the same on each host, each netd given its VTEP)" },
	{ "network", "list", "network.list", build_none, print_list, "network list" },
	{ "network", "show", "network.show", build_name, print_network, "network show NAME" },
	{ "network", "start", "network.start", build_name, print_network, "network start NAME" },
	{ "network", "stop", "network.stop", build_name_force, print_network,
	  "network stop NAME [--force]             --force: under running guests too (their NICs come back\n"
	  "                                        with the network's next start)" },
	{ "network", "delete", "network.delete", build_name_force, print_deleted,
	  "network delete NAME [--force]" },
	{ "network", "leases", "network.leases", build_name, print_leases,
	  "network leases NAME                  live leases: MAC, IP, hostname, expiry, static/dynamic" },
	{ "network", "import", "network.create", build_import, print_import,
	  "network import FILE.xml [--name NAME] [--dry-run] [--partial]\n"
	  "                                       a libvirt network (virsh net-dumpxml) as a netd network; refused,\n"
	  "                                       listing them, while it has elements netd cannot express, unless\n"
	  "                                       --partial; --dry-run prints the definition and creates nothing",
	  .save = check_import_reply },
	{ "network", "host add", "network.host.add", build_host_add, print_network,
	  "network host add NAME MAC|id:DUID IP [IP] [HOSTNAME] [--lease-time DURATION|infinite]\n"
	  "                                       reserve an IPv4 and/or an IPv6 address (live: no dnsmasq restart);\n"
	  "                                       HOSTNAME may have a domain (web.example.com: DNS serves it whole)" },
	{ "network", "host remove", "network.host.remove", build_host_remove, print_network,
	  "network host remove NAME MAC|id:DUID" },
	{ "network", "forward add", "network.forward.add", build_forward_add, print_forward,
	  "network forward add NAME [--listen ADDR|--listen-uplink] --proto tcp|udp|tcp,udp --port P[-Q]\n"
	  "                     --to GUEST|IP[:PORT[-PORT]]\n"
	  "                                       forward a host port (range) into a nat guest; GUEST: a guest's\n"
	  "                                       name (its NIC's lease) or a DHCP hostname, followed as it moves" },
	{ "network", "forward list", "network.forward.list", build_name, print_forwards,
	  "network forward list NAME" },
	{ "network", "forward remove", "network.forward.remove", build_forward_remove, print_nothing,
	  "network forward remove NAME ID" },
	{ "uplink", "convert", "uplink.convert", build_uplink_convert, print_uplink, "uplink convert IFACE",
	  &uplink_schema },
	{ "uplink", "confirm", "uplink.confirm", build_bridge, print_uplink, "uplink confirm BRIDGE" },
	{ "uplink", "revert", "uplink.revert", build_bridge, print_reverted, "uplink revert BRIDGE" },
	{ "uplink", "status", "uplink.status", build_opt_bridge, print_uplink_list,
	  "uplink status [BRIDGE]" },
	{ "vm", "create", "vm.create", build_vm_create, print_vm, "vm create NAME", &guest_schema,
	  "\n        (boot from --kernel PATH (with --disk images as root file systems), --disk or --cdrom;\n"
	  "        up to 8 --disk, each a PATH or a NAME of the disk pool; --disk-size SIZE makes a new qcow2\n"
	  "        NAME-disk0.qcow2 in the pool, the first disk; --boot: the cdrom is first until the first reboot\n"
	  "        unless cdrom,disk or disk,cdrom; one NIC per --network, the Nth --mac is the Nth NIC's;\n"
	  "        --max-vcpus: slots for vm set-vcpus; --max-memory: QEMU gets that much and a balloon gives\n"
	  "        the guest --memory of it, for vm set-memory)\n"
	  "        (tuning: --cpu host needs KVM, TCG runs max; --vcpu-pin 0:2,1:3 pins vCPU 0's thread to CPU 2 and\n"
	  "        vCPU 1's to CPU 3, --emulator-pin CPUS QEMU's other threads; --hugepages takes the RAM from free\n"
	  "        huge pages; --io-threads N adds N iothreads for virtio disks; vm show says what is in effect)\n"
	  "        (--cloud-init user-data=FILE[,meta-data=FILE][,network-config=FILE], --hostname NAME,\n"
	  "        --ssh-key FILE.pub: a cloud-init NoCloud seed (label CIDATA) attached read-only; the files\n"
	  "        are read by netdctl with your rights, 16 KiB each; meta-data gets netd's instance-id and\n"
	  "        local-hostname (NAME, or the guest's name); --ssh-key writes the user-data)" },
	{ "vm", "start", "vm.start", build_guest, print_vm, "vm start NAME" },
	{ "vm", "shutdown", "vm.shutdown", build_vm_shutdown, print_vm,
	  "vm shutdown NAME [--timeout SEC]       ACPI power-down; waits for the guest to power off" },
	{ "vm", "destroy", "vm.destroy", build_guest, print_vm,
	  "vm destroy NAME                        kill QEMU" },
	{ "vm", "reboot", "vm.reboot", build_guest, print_vm, "vm reboot NAME" },
	{ "vm", "suspend", "vm.suspend", build_guest, print_vm, "vm suspend NAME" },
	{ "vm", "resume", "vm.resume", build_guest, print_vm, "vm resume NAME" },
	{ "vm", "delete", "vm.delete", build_guest, print_vm_deleted, "vm delete NAME" },
	{ "vm", "list", "vm.list", build_none, print_vm_list, "vm list" },
	{ "vm", "show", "vm.show", build_guest, print_vm, "vm show NAME" },
	{ "vm", "console", "vm.console-log", build_vm_console_log, print_console_log,
	  "vm console NAME --log [--lines N]     the serial console's log (kept across starts, rotated to\n"
	  "                                       serial.log.1 past 1 MiB): its last N lines (at most\n"
	  "                                       and by default 10000)",
	  .with = "--log" },
	{ "vm", "screenshot", "vm.screenshot", build_vm_screenshot, print_screenshot,
	  "vm screenshot NAME FILE.png [--force] the display of a guest with --vnc, as a PNG written to FILE\n"
	  "                                       (by netdctl, with your rights; at most 4 MiB; an existing\n"
	  "                                       FILE only with --force)",
	  .save = save_screenshot },
	{ "vm", "console", "vm.show", build_guest, console_attach,
	  "vm console NAME                        attach to the serial console (Ctrl-] detaches)" },
	{ "vm", "set-network", "vm.set-network", build_vm_set_network, print_vm,
	  "vm set-network NAME [--nic N] NET     move a running guest's NIC to another network, live" },
	{ "vm", "attach-disk", "vm.attach-disk", build_vm_disk, print_vm,
	  "vm attach-disk NAME PATH|NAME[,format=..][,cache=..][,bus=virtio|scsi][,readonly]\n"
	  "                                       add a disk to the definition, and live to a running guest" },
	{ "vm", "detach-disk", "vm.detach-disk", build_vm_disk, print_vm,
	  "vm detach-disk NAME DISK              DISK: its node (disk1, in vm show), path or pool NAME;\n"
	  "                                       live from a running guest once it let the disk go" },
	{ "vm", "attach-nic", "vm.attach-nic", build_vm_nic, print_vm,
	  "vm attach-nic NAME NETWORK [--mac MAC] [--nic-security on|off]\n"
	  "                                       add a NIC to the definition, and live to a running guest" },
	{ "vm", "detach-nic", "vm.detach-nic", build_vm_nic, print_vm,
	  "vm detach-nic NAME --nic N            N: as in vm show (nic0, nic1, ...); live from a running\n"
	  "                                       guest once it let the NIC go" },
	{ "vm", "set-vcpus", "vm.set-vcpus", build_vm_set_vcpus, print_vm,
	  "vm set-vcpus NAME N [--live] [--config]\n"
	  "                                       plug vCPUs into a running guest (up to its --max-vcpus; never\n"
	  "                                       fewer live) and/or set them in its definition; default: both\n"
	  "                                       when it runs, the definition when it is stopped" },
	{ "vm", "set-memory", "vm.set-memory", build_vm_set_memory, print_vm,
	  "vm set-memory NAME SIZE [--live] [--config]\n"
	  "                                       move the balloon of a guest made with --max-memory (from an\n"
	  "                                       eighth of it, at least 64M, up to it); same defaults" },
	{ "vm", "dump", "vm.dump", build_guest, print_vm_dump,
	  "vm dump NAME                           print the definition with the guest's identity (uuid, generated\n"
	  "                                       MACs): 'vm define' of it gives the same guest; --json: also parsed" },
	{ "vm", "define", "vm.define", build_vm_define, print_vm,
	  "vm define FILE|- [--name NAME]         add a guest from a definition file, or replace a stopped guest's\n"
	  "                                       (NAME: FILE without .conf); checked whole, nothing changes on error;\n"
	  "                                       the guest's owner is who defines it" },
	{ "vm", "snapshot create", "vm.snapshot.create", build_vm_snapshot, print_vm_snapshots,
	  "vm snapshot create NAME SNAP [--description TEXT] [--timeout SEC]\n"
	  "                                       an internal snapshot of every writable qcow2 disk (raw disks\n"
	  "                                       refuse it, readonly ones are skipped); with the guest's memory\n"
	  "                                       when it runs (QEMU pauses it meanwhile), disks only when stopped;\n"
	  "                                       SNAP: [A-Za-z0-9._-], 1 to 64, not digits only, no leading -" },
	{ "vm", "snapshot list", "vm.snapshot.list", build_vm_snapshot, print_vm_snapshots,
	  "vm snapshot list NAME                  name, date, memory state size, description" },
	{ "vm", "snapshot revert", "vm.snapshot.revert", build_vm_snapshot, print_vm_snapshots,
	  "vm snapshot revert NAME SNAP [--timeout SEC]\n"
	  "                                       back to SNAP: a running guest gets its memory back too (a snapshot\n"
	  "                                       taken stopped needs a stopped guest); a stopped guest its disks" },
	{ "vm", "snapshot delete", "vm.snapshot.delete", build_vm_snapshot, print_vm_snapshots,
	  "vm snapshot delete NAME SNAP [--timeout SEC]" },
	{ "vm", "clone", "vm.clone", build_vm_clone, print_vm,
	  "vm clone SRC NEW [--network NET] [--copy]\n"
	  "                                       a new stopped guest from the stopped SRC: new MACs and UUID, each\n"
	  "                                       writable pool disk as a qcow2 overlay on SRC's (--copy: a whole\n"
	  "                                       copy, with progress); readonly disks and the cdrom shared; NICs\n"
	  "                                       on NET with --network; a writable disk outside the pool: refused" },
	{ "disk", "create", "disk.create", build_disk_create, print_disk,
	  "disk create NAME --size SIZE [--format qcow2|raw]\n"
	  "                                       a new image in netd's pool (the first --image-dir); SIZE: a\n"
	  "                                       number with K, M, G or T; qcow2 by default\n"
	  "  disk create NAME --backing BASE [--size SIZE]\n"
	  "                                       a thin qcow2 overlay on the pool disk BASE (BASE's size by\n"
	  "                                       default, never smaller)" },
	{ "disk", "list", "disk.list", build_none, print_disk_list, "disk list" },
	{ "disk", "info", "disk.info", build_disk, print_disk,
	  "disk info NAME                       format, sizes, backing chain, snapshots (qemu-img info)" },
	{ "disk", "resize", "disk.resize", build_disk_resize, print_disk,
	  "disk resize NAME [+]SIZE             grow a disk no running guest uses (never shrinks)" },
	{ "disk", "import", "disk.import", build_disk_import, print_disk,
	  "disk import FILE NAME [--format qcow2|raw] [--source-format qcow2|raw]\n"
	  "                                       a new pool disk from FILE (read with your rights: a cloud\n"
	  "                                       image, an old guest's disk), with progress; qcow2 by default;\n"
	  "                                       the source is qcow2 when it starts like one, else raw" },
	{ "disk", "convert", "disk.convert", build_disk_convert, print_disk,
	  "disk convert SRC DST --format qcow2|raw\n"
	  "                                       a new disk DST with SRC's data (an overlay's chain flattened);\n"
	  "                                       progress on the terminal; refused while a running guest writes\n"
	  "                                       SRC; nothing is left of DST if it fails or is interrupted" },
	{ "disk", "delete", "disk.delete", build_disk, print_disk_deleted,
	  "disk delete NAME                     refused while a guest's definition uses it or an overlay is on it" },
	{ "monitor", NULL, "daemon.monitor", build_none, print_status,
	  "monitor                              print netd's events (leases, networks, guests) as they happen" },
	{ "doctor", NULL, "network.doctor", build_doctor, print_doctor,
	  "doctor NETWORK | --guest NAME        why a guest has no lease, DNS or Internet: each step checked, with\n"
	  "                                       its fix (a DHCP/DNS probe from a scratch port); exit status 1 when\n"
	  "                                       a step fails",
	  .verdict = true },
	{ "graph", NULL, NULL, build_graph, print_nothing,
	  "graph [--format dot|svg|png] [-o FILE] [--force]\n"
	  "                                       the host's networks as a picture: uplinks, bridges, networks\n"
	  "                                       (subnets, modes), guests' NICs (MACs, addresses), DHCP clients,\n"
	  "                                       forwards; problems in red. DOT text by default; svg and png run\n"
	  "                                       Graphviz's dot (package graphviz); FILE (default: standard\n"
	  "                                       output) is written by netdctl, an existing one only with --force",
	  .run = run_graph },
	{ "status", NULL, "daemon.status", build_none, print_status, "status" },
	{ "reload", NULL, "daemon.reload", build_none, print_reload, "reload" },
};

static void usage(void)
{
	printf("Usage: netdctl [--socket PATH] [--json] COMMAND\n\nCommands:\n");
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
		printf("  %s", verbs[i].usage);
		if (verbs[i].schema)
			schema_cli_usage(verbs[i].schema, stdout, 2 + strlen(verbs[i].usage), 8, USAGE_WIDTH);
		printf("%s\n", verbs[i].tail ?: "");
	}
	printf("  complete KIND [ARG]...               for shell completion: names one a line (networks, guests,\n"
	       "                                       disks, bridges, forwards NETWORK, snapshots GUEST, commands,\n"
	       "                                       options COMMAND...; line CWORD WORD...: the candidates for a\n"
	       "                                       word); nothing, and exit status 0, when netd cannot be asked\n");
	printf("\nOptions:\n"
	       "  --socket PATH  netd's control socket (default $NETD_SOCKET or /run/netd/netd.sock)\n"
	       "  --json         print the reply as JSON\n"
	       "  -h, --help     this text\n"
	       "  --version      print the version\n\n");
	/* The modes as their drivers describe themselves (netd/network/mode-*.c). */
	for (size_t i = 0; net_mode_at(i); i++)
		printf("%s%s (%s)%s\n", i ? "       " : "Modes: ", net_mode_at(i)->name, net_mode_at(i)->summary,
		       net_mode_at(i + 1) ? "," : ".");
	printf("DHCP defaults: the whole subnet minus the gateway, lease time 1h (2m to 30d; 90s, 30m, 1h, 7d;\n"
	       "infinite); --dhcp-range static answers reserved hosts only; --mtu is sent to guests (option 26).\n"
	       "--pxe-boot FILE with --tftp-root DIR: dnsmasq serves DIR by TFTP on the gateway, as its own\n"
	       "unprivileged user (DIR and FILE must be readable by it); --next-server IP: another TFTP server.\n"
	       "DNS is served on the gateway; --no-dns turns it off, --no-dhcp turns DHCP off.\n"
	       "--uplink IFNAME lets a forwarding network's traffic out through that interface only.\n"
	       "--stp on: spanning tree on the bridge; a new port listens and learns for --forward-delay seconds\n"
	       "(2-30, default 15) before it forwards. Off (the default): it forwards at once, delay 0.\n"
	       "Guests reach only DHCP, DNS and ICMP on their own gateway; --allow-host-port tcp/22 adds a\n"
	       "host service (on that gateway address only).\n"
	       "Guest NICs may send only from their own MAC and their leased or reserved addresses, and never\n"
	       "as a DHCP server or IPv6 router (on a --mode bridge network: the MAC only); --nic-security off\n"
	       "lifts that for a guest that routes or bridges other traffic.\n"
	       "--subnet auto (or no --subnet): a free /24 from netd's pool (netd --subnet-pool), avoiding\n"
	       "every address and route on the host and the other networks.\n"
	       "--subnet6 PREFIX adds IPv6 (gateway: the prefix's ::1); --subnet6 auto: a free /64 of this host's\n"
	       "ULA /48 (made once); --subnet none with --subnet6: IPv6 only. A nat network masquerades a ULA\n"
	       "prefix and routes a global one (--nat6 / --no-nat6 say otherwise); other modes never masquerade.\n"
	       "Exit status: 0 on success, 1 when netd refused or failed the request, 2 on a usage error.\n");
}

static int connect_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(arg_socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "netdctl: socket path too long: %s\n", arg_socket);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, arg_socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		fprintf(stderr, "netdctl: cannot connect to netd at %s: %s%s\n", arg_socket, strerror(-r),
			r == -ENOENT || r == -ECONNREFUSED ? " (is netd running?)" :
			r == -EACCES ? " (run as root or as a member of group 'netd')" : "");
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

/* One line per event of 'netdctl monitor' (JSON as netd sent it with --json). */
static void print_event(json_object *e)
{
	const char *type = jstr(e, "event");
	time_t t = (time_t)json_object_get_double(json_object_object_get(e, "time"));
	json_object *in = json_object_object_get(e, "expires_in");
	char when[32], until[48] = "";

	if (arg_json) {
		printf("%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
	} else {
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
		if (!strcmp(type, "overflow"))
			printf("%s overflow: this monitor fell behind, %s event(s) dropped\n", when, jstr(e, "dropped"));
		else if (!strcmp(type, "lease")) {
			/* a renewal's news is its expiry */
			if (in && strcmp(jstr(e, "action"), "del"))
				snprintf(until, sizeof(until), ", expires in %llds",
					 (long long)json_object_get_int64(in));
			printf("%s lease %s %s: %s %s %s (%s%s)\n", when, jstr(e, "action"),
			       jstr(e, "network"), jstr(e, "mac"), jstr(e, "ip"), jstr(e, "hostname"),
			       jstr(e, "type"), until);
		} else if (!strcmp(type, "guest"))
			printf("%s guest %s: %s (%s)\n", when, jstr(e, "guest"), jstr(e, "action"), jstr(e, "state"));
		else
			printf("%s %s %s: %s\n", when, type, jstr(e, "network"), jstr(e, "action"));
	}
	fflush(stdout);
}

/* Send one request and print progress lines until the reply; returns the reply. */
static int call(const char *method, json_object *params, json_object **ret_reply)
{
	_cleanup_json_ json_object *req = json_object_new_object();
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL, *dropped = NULL;
	size_t cap = 0;
	const char *s;
	int fd;

	fd = connect_socket();
	if (fd < 0)
		return fd;
	json_object_object_add(req, "method", json_object_new_string(method));
	json_object_object_add(req, "params", json_object_get(params));
	s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	/* A refused peer is told why and then disconnected, maybe before the request is written:
	 * a failed send is not the end, the reply may already be waiting. */
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
		if (errno != EPIPE && errno != ECONNRESET) {
			fprintf(stderr, "netdctl: cannot send request to netd: %m\n");
			close(fd);
			return -EIO;
		}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	while (getline(&line, &cap, f) > 0) {
		json_object *o = json_tokener_parse(line), *v;

		if (!o) {
			fprintf(stderr, "netdctl: malformed reply from netd\n");
			return -EBADMSG;
		}
		if (json_object_object_get_ex(o, "event", NULL) && !json_object_object_get_ex(o, "ok", NULL)) {
			print_event(o);
			/* netd's last line to a monitor that fell behind: it closes the connection next */
			if (!strcmp(jstr(o, "event"), "overflow") && !dropped)
				dropped = strdup(jstr(o, "dropped"));
			json_object_put(o);
			continue;
		}
		if (json_object_object_get_ex(o, "progress", &v) && !json_object_object_get_ex(o, "ok", NULL)) {
			if (!arg_json)
				fprintf(stderr, "%s\n", json_object_get_string(v));
			json_object_put(o);
			continue;
		}
		*ret_reply = o;
		return 0;
	}
	if (dropped) {
		fprintf(stderr, "netdctl: netd disconnected this monitor: it did not read events as fast as they "
			"came, %s were dropped; run 'netdctl monitor' again (and read its output faster)\n", dropped);
		return -ENOBUFS;
	}
	fprintf(stderr, "netdctl: netd closed the connection without a reply\n");
	return -ECONNRESET;
}

/* Does the verb ("show", or "host add") match the words after the noun? Returns their count. */
static int verb_words(const char *verb, int argc, char **argv)
{
	int n = 0;

	for (const char *p = verb; *p; n++) {
		size_t len = strcspn(p, " ");

		if (n + 1 >= argc || strlen(argv[n + 1]) != len || strncmp(argv[n + 1], p, len))
			return 0;
		p += len + (p[len] == ' ');
	}
	return n;
}

static bool has_arg(int argc, char **argv, const char *arg)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], arg))
			return true;
	return false;
}

static const struct verb *verb_find(int argc, char **argv, int *ret_shift)
{
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
		int words;

		if (strcmp(argv[0], verbs[i].noun))
			continue;
		if (!verbs[i].verb) {
			*ret_shift = 0;
			return &verbs[i];
		}
		words = verb_words(verbs[i].verb, argc, argv);
		if (words && verbs[i].with && !has_arg(argc, argv, verbs[i].with))
			continue;
		if (words) {
			*ret_shift = words;
			return &verbs[i];
		}
	}
	return NULL;
}

/* netdctl complete (complete.c) reads the verb table as --help prints it. */
static int complete(int argc, char **argv)
{
	struct complete_cmd cmds[ELEMENTSOF(verbs)];

	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		cmds[i] = (struct complete_cmd){ verbs[i].noun, verbs[i].verb, verbs[i].usage,
						 verbs[i].schema, verbs[i].tail };
	return complete_main(cmds, ELEMENTSOF(cmds), argc, argv, call, &arg_socket);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	_cleanup_json_ json_object *params = json_object_new_object(), *reply = NULL;
	const struct verb *v;
	json_object *ok;
	int c, shift;

	arg_socket = getenv("NETD_SOCKET");
	if (!arg_socket || !*arg_socket)
		arg_socket = "/run/netd/netd.sock";
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
		switch (c) {
		case 's':
			arg_socket = optarg;
			break;
		case 'j':
			arg_json = true;
			break;
		case 'h':
			usage();
			return 0;
		case 'V':
			printf("netdctl %s\n", NETD_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'netdctl --help'.\n");
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage_error("missing command");
		return 2;
	}
	if (!strcmp(argv[0], "complete"))
		return complete(argc, argv);
	/* --json may also follow the command. */
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--json")) {
			arg_json = true;
			memmove(&argv[i], &argv[i + 1], (argc - i) * sizeof(char *));
			argc--;
			i--;
		}
	v = verb_find(argc, argv, &shift);
	if (!v) {
		usage_error("unknown command '%s%s%s'", argv[0], argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
		return 2;
	}
	if (v->build(argc - shift, argv + shift, params) < 0)
		return 2;
	if (v->run)
		return v->run(params) < 0 ? 1 : 0;
	if (call(v->method, params, &reply) < 0)
		return 1;
	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok)) {
		if (arg_json)
			printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY));
		fprintf(stderr, "netdctl: %s\n", jstr(reply, "error"));
		return 1;
	}
	if (v->save && v->save(json_object_object_get(reply, "result")) < 0)
		return 1;
	if (arg_json)
		printf("%s\n", json_object_to_json_string_ext(json_object_object_get(reply, "result"),
							      JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		v->print(json_object_object_get(reply, "result"));
	if (v->verdict && !json_object_get_boolean(json_object_object_get(json_object_object_get(reply, "result"), "ok")))
		return 1;
	return 0;
}
