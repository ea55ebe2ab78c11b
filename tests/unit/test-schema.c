/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The schema engine (common/schema.c) and the kinds' tables: one message for a bad value whether it
 * comes from a definition file, a request or netdctl's command line; a single value given twice is
 * refused on every path that can tell; repeatable ones stay repeatable; render -> parse gives the
 * same definition back.
 */
#include "golden.h"

#include <errno.h>
#include <string.h>

#include "config.h"
#include "guest-config.h"
#include "guest-schema.h"
#include "macro.h"
#include "network-schema.h"
#include "protocol.h"
#include "uplink-schema.h"

/* The message of a file's error without its "line N: ". */
static const char *after_line(const char *err)
{
	const char *p = strstr(err, ": ");

	assert_non_null(p);
	return p + 2;
}

/* The three paths a value takes into a definition; each returns the error message (static). */
static const char *via_file(const struct schema *s, void *obj, const char *section, const char *key,
			    const char *value)
{
	static char err[SCHEMA_MSG_MAX];
	char text[2048];

	snprintf(text, sizeof(text), "[%s]\n%s = %s\n", section, key, value);
	err[0] = 0;
	assert_true(schema_ini_parse(s, obj, text, err, sizeof(err)) < 0);
	return after_line(err);
}

static const char *via_request(const struct schema *s, void *obj, const char *request)
{
	static char err[SCHEMA_MSG_MAX];
	_cleanup_json_ json_object *params = json_tokener_parse(request);

	assert_non_null(params);
	err[0] = 0;
	assert_true(schema_json_parse(s, obj, params, err, sizeof(err)) < 0);
	return err;
}

/* netdctl's options into a request (as netdctl sends it), then the daemon's parse. */
static size_t option(const struct schema *s, const char *flag)
{
	struct option opts[64];
	size_t n = schema_cli_options(s, 0, opts, ELEMENTSOF(opts)), i;

	for (i = 0; i < n && strcmp(opts[i].name, flag); i++)
		;
	assert_true(i < n);
	return i;
}

/* network_first: a guest's --network n1 before the option (a --mac needs a NIC). */
static const char *via_cli(const struct schema *s, void *obj, const char *flag, const char *value,
			   bool network_first)
{
	static char err[SCHEMA_MSG_MAX];
	_cleanup_json_ json_object *params = json_object_new_object();

	err[0] = 0;
	if (network_first)
		assert_int_equal(schema_cli_apply(s, option(s, "network"), "n1", params, err, sizeof(err)),
				 0);
	if (schema_cli_apply(s, option(s, flag), value, params, err, sizeof(err)) < 0)
		return err; /* netdctl refuses it itself (a number that is none), with the same words */
	assert_true(schema_json_parse(s, obj, params, err, sizeof(err)) < 0);
	return err;
}

/* One value of one row, given the three ways; the message every way gives starts with message. */
struct message_case {
	const char *section, *key, *flag, *value, *request, *message;
};

/* A kind's object, made anew for each way a value comes in. */
struct kind {
	const struct schema *schema;
	void (*init)(void *obj);
	void (*done)(void *obj);
};

static void network_x(void *obj)
{
	network_init(obj, "x");
}

static void network_free_x(void *obj)
{
	network_done(obj);
}

static void guest_x(void *obj)
{
	guest_init(obj, "x");
}

static void nothing(void *obj)
{
}

static const struct kind network_kind = { &network_schema, network_x, network_free_x };
static const struct kind guest_kind = { &guest_schema, guest_x, nothing };

static void same_message(const struct kind *k, const struct message_case *cases, size_t n)
{
	union {
		struct network n;
		struct guest g;
	} obj;

	for (size_t i = 0; i < n; i++) {
		const struct message_case *c = &cases[i];
		/* a NIC's other settings need the NIC first (--network n1) */
		bool nic_first = !strcmp(c->section, "nic0") && strcmp(c->key, "network");
		char file[SCHEMA_MSG_MAX], request[SCHEMA_MSG_MAX], cli[SCHEMA_MSG_MAX];

		k->init(&obj);
		snprintf(file, sizeof(file), "%s", via_file(k->schema, &obj, c->section, c->key, c->value));
		k->done(&obj);
		k->init(&obj);
		snprintf(request, sizeof(request), "%s", via_request(k->schema, &obj, c->request));
		k->done(&obj);
		k->init(&obj);
		snprintf(cli, sizeof(cli), "%s", via_cli(k->schema, &obj, c->flag, c->value, nic_first));
		k->done(&obj);
		if (strncmp(file, c->message, strlen(c->message)))
			fail_msg("%s: file says '%s', expected '%s'", c->key, file, c->message);
		assert_string_equal(request, file);
		assert_string_equal(cli, file);
	}
}

static void test_network_same_message(void **state)
{
	static const struct message_case cases[] = {
		{ "dhcp", "range", "dhcp-range", "10.1.0.10", "{\"dhcp_ranges\": [\"10.1.0.10\"]}",
		  "invalid DHCP range '10.1.0.10': expected START-END" },
		{ "network", "subnet", "subnet", "bogus", "{\"subnet\": \"bogus\"}",
		  "invalid subnet 'bogus': expected CIDR notation like 10.0.0.0/24, auto or none" },
		{ "network", "mode", "mode", "bogus", "{\"mode\": \"bogus\"}",
		  "unknown mode 'bogus' (known: nat, routed, isolated, bridge" }, /* the table's modes */
		{ "network", "mtu", "mtu", "big", "{\"mtu\": \"big\"}",
		  "invalid MTU 'big': expected a number" },
		{ "network", "bridge", "bridge", "br/0", "{\"bridge\": \"br/0\"}",
		  "invalid bridge name 'br/0': may contain only letters" },
		{ "dhcp", "lease-time", "lease-time", "30s", "{\"lease_time\": \"30s\"}",
		  "lease time '30s' is out of range (2m to 30d)" },
		{ "dns", "domain", "domain", "lab example", "{\"domain\": \"lab example\"}",
		  "invalid domain 'lab example': may contain only letters" },
		{ "dhcp", "host", "host", "52:54:00:00:00:01,10.1.0.5,a,b",
		  "{\"hosts\": [\"52:54:00:00:00:01,10.1.0.5,a,b\"]}",
		  "invalid host '52:54:00:00:00:01,10.1.0.5,a,b': expected MAC,IP[,IPv6][,HOSTNAME][,LEASE] or id:DUID,IPv6[,HOSTNAME][,LEASE]" },
		{ "network", "allow-host-port", "allow-host-port", "tcp/99999",
		  "{\"allow_host_ports\": [\"tcp/99999\"]}",
		  "invalid host port 'tcp/99999': expected PROTO/PORT" },
		{ "network", "uplink", "uplink", "eth/0", "{\"uplink\": \"eth/0\"}",
		  "invalid uplink name 'eth/0': may contain only letters" },
		{ "network", "mtu", "mtu", "2000000000", "{\"mtu\": 2000000000}",
		  "invalid MTU '2000000000': expected a number" },
		{ "dhcp", "enabled", "no-dhcp", "maybe", "{\"dhcp\": \"maybe\"}",
		  "invalid dhcp 'maybe': expected yes or no" },
		{ "network", "subnet6", "subnet6", "10.0.0.0/24", "{\"subnet6\": \"10.0.0.0/24\"}",
		  "invalid IPv6 prefix '10.0.0.0/24': expected an IPv6 prefix like fd00:1:2:3::/64, or auto" },
		{ "network", "ipv6-mode", "ipv6-mode", "ra", "{\"ipv6_mode\": \"ra\"}",
		  "invalid IPv6 mode 'ra': expected slaac, dhcpv6 or slaac+dhcpv6" },
		{ "network", "nat6", "nat6", "maybe", "{\"nat6\": \"maybe\"}",
		  "invalid nat6 'maybe': expected yes or no" },
		{ "evpn", "vni", "vni", "0", "{\"vni\": 0}", "VNI is out of range (1-16777215)" },
		{ "evpn", "vni", "vni", "16777216", "{\"vni\": 16777216}",
		  "VNI is out of range (1-16777215)" },
		{ "evpn", "vni", "vni", "ten", "{\"vni\": \"ten\"}", "invalid VNI 'ten': expected a number" },
		{ "evpn", "routed", "routed", "maybe", "{\"routed\": \"maybe\"}",
		  "invalid routed 'maybe': expected yes or no" },
	};

	same_message(&network_kind, cases, ELEMENTSOF(cases));
}

static void test_guest_same_message(void **state)
{
	static const struct message_case cases[] = {
		{ "guest", "memory", "memory", "lots", "{\"memory\": \"lots\"}",
		  "invalid memory 'lots': expected a size like 512M or 2G" },
		{ "guest", "vcpus", "vcpus", "1000", "{\"vcpus\": 1000}", "vcpus is out of range (1-64)" },
		{ "guest", "accel", "accel", "fast", "{\"accel\": \"fast\"}",
		  "unknown accel 'fast' (known: auto, kvm, tcg)" },
		{ "guest", "append", "append", "a\x1b[2Jb", "{\"append\": \"a\\u001b[2Jb\"}",
		  "invalid --append 'a\\x1b[2Jb': contains a control character" },
		{ "guest", "vnc", "vnc", "x:y", "{\"vnc\": \"x:y\"}",
		  "invalid VNC display 'x:y': expected [ADDR:]DISPLAY" },
		{ "nic0", "network", "network", "bad name", "{\"networks\": [\"bad name\"]}",
		  "invalid network name 'bad name': may contain only" },
		{ "nic0", "mac", "mac", "zz:54:00:00:00:01",
		  "{\"networks\": [\"n1\"], \"macs\": [\"zz:54:00:00:00:01\"]}",
		  "invalid MAC 'zz:54:00:00:00:01'" },
		{ "guest", "queues", "queues", "0", "{\"queues\": 0}", "queues is out of range (1-8)" },
		{ "guest", "vcpus", "vcpus", "two", "{\"vcpus\": \"two\"}",
		  "invalid vcpus 'two': expected a number" },
		{ "guest", "autostart", "no-autostart", "maybe", "{\"autostart\": \"maybe\"}",
		  "invalid autostart 'maybe': expected yes or no" },
	};

	same_message(&guest_kind, cases, ELEMENTSOF(cases));
}

/* A single value twice is refused in a file and on the command line; repeatable ones add up. */
static void test_twice(void **state)
{
	_cleanup_json_ json_object *params = json_object_new_object();
	struct option opts[64];
	size_t n = schema_cli_options(&network_schema, 0, opts, ELEMENTSOF(opts)), subnet = n, range = n;
	struct network net;
	struct guest g;
	char err[SCHEMA_MSG_MAX];

	assert_true(config_network_parse(
			    "x", "[network]\nsubnet = 10.1.0.0/24\nmtu = 1400\nsubnet = 10.2.0.0/24\n", &net,
			    err, sizeof(err)) < 0);
	assert_string_equal(
		err, "line 4: 'subnet' is given twice in [network] (first on line 2); it takes one value");
	assert_true(config_network_parse("x", "[dns]\nenabled = no\n[dns]\nenabled = yes\n", &net, err,
					 sizeof(err)) < 0);
	assert_string_equal(
		err, "line 4: 'enabled' is given twice in [dns] (first on line 2); it takes one value");
	/* [dhcp] enabled and [dns] enabled are two settings; range and host repeat */
	assert_int_equal(
		config_network_parse("x",
				     "[network]\nsubnet = 10.1.0.0/24\n[dhcp]\nenabled = no\nrange = "
				     "10.1.0.10-10.1.0.20\nrange = 10.1.0.30-10.1.0.40\n[dns]\nenabled = no\n"
				     "host = 10.1.0.9,a\nhost = 10.1.0.8,b\n",
				     &net, err, sizeof(err)),
		0);
	assert_int_equal(net.dhcp.n_ranges, 2);
	assert_int_equal(net.dhcp.n_dns_hosts, 2);
	network_done(&net);

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(opts[i].name, "subnet"))
			subnet = i;
		if (!strcmp(opts[i].name, "dhcp-range"))
			range = i;
	}
	assert_int_equal(schema_cli_apply(&network_schema, subnet, "10.1.0.0/24", params, err, sizeof(err)),
			 0);
	assert_int_equal(schema_cli_apply(&network_schema, subnet, "10.2.0.0/24", params, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "--subnet is given twice; it takes one value");
	assert_int_equal(
		schema_cli_apply(&network_schema, range, "10.1.0.10-10.1.0.20", params, err, sizeof(err)), 0);
	assert_int_equal(
		schema_cli_apply(&network_schema, range, "10.1.0.30-10.1.0.40", params, err, sizeof(err)), 0);
	assert_string_equal(
		json_object_to_json_string_ext(params,
					       JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
		"{\"subnet\":\"10.1.0.0/24\",\"dhcp_ranges\":[\"10.1.0.10-10.1.0.20\",\"10.1.0.30-10.1.0.40\"]}");

	/* A guest: memory twice refused; one NIC per [nicN], a key twice in one NIC refused. */
	assert_true(guest_config_parse("g", "[guest]\nmemory = 1G\nmemory = 2G\n", &g, err, sizeof(err)) < 0);
	assert_string_equal(
		err, "line 3: 'memory' is given twice in [guest] (first on line 2); it takes one value");
	assert_true(guest_config_parse("g", "[nic0]\nnetwork = a\nnetwork = b\n", &g, err, sizeof(err)) < 0);
	assert_string_equal(
		err, "line 3: 'network' is given twice in [nic0] (first on line 2); it takes one value");
	assert_int_equal(
		guest_config_parse("g", "[guest]\nkernel = /k\n[nic0]\nnetwork = a\n[nic1]\nnetwork = a\n",
				   &g, err, sizeof(err)),
		0);
	assert_int_equal(g.n_nics, 2);
}

/* The request's types: numbers as numbers or text, booleans, arrays; the rest refused by name. */
static void test_request_types(void **state)
{
	static const struct {
		const char *request, *error;
	} bad[] = {
		{ "{\"mtu\": true}", "parameter 'mtu' must be a number" },
		{ "{\"autostart\": 5}", "parameter 'autostart' must be true or false" },
		{ "{\"subnet\": 5}", "parameter 'subnet' must be a string without NUL characters" },
		{ "{\"hosts\": \"52:54:00:00:00:01,10.1.0.5\"}",
		  "parameter 'hosts' must be an array of strings" },
		{ "{\"dns_hosts\": [\"a\\u0000b\"]}", "parameter 'dns_hosts' contains a NUL character" },
		{ "{\"domain\": \"lab\\u0000.evil\"}",
		  "parameter 'domain' must be a string without NUL characters" },
		{ "{\"mtu\": -5}", "invalid MTU '-5': expected a number" },
		{ "{\"addresses\": \"10.1.1.1/24\"}", "parameter 'addresses' must be an array of strings" },
		{ "{\"addresses\": [\"10.1.1.1\"]}",
		  "invalid address '10.1.1.1': expected GATEWAY/PREFIX like 10.1.1.1/24 (the gateway of another "
		  "IPv4 subnet)" },
	};
	struct network n;
	_cleanup_json_ json_object *ok = json_tokener_parse(
		"{\"mode\": \"nat\", \"subnet\": \"10.1.0.0/24\", \"mtu\": 1400, \"autostart\": false, \"dhcp\": false, "
		"\"dns\": \"no\", \"allow_host_ports\": [\"tcp/22\"], \"uplink\": null}");
	_cleanup_json_ json_object *show = json_object_new_object();
	char err[SCHEMA_MSG_MAX];

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		network_init(&n, "x");
		assert_string_equal(via_request(&network_schema, &n, bad[i].request), bad[i].error);
		network_done(&n);
	}
	network_init(&n, "x");
	assert_int_equal(schema_json_parse(&network_schema, &n, ok, err, sizeof(err)), 0);
	assert_int_equal(n.mtu, 1400);
	assert_false(n.autostart);
	assert_false(n.dhcp.dhcp);
	assert_false(n.dhcp.dns);
	assert_int_equal(n.n_host_ports, 1);
	network_fill_defaults(&n);
	schema_json_show(&network_schema, &n, show);
	assert_string_equal(
		json_object_to_json_string_ext(show, JSON_C_TO_STRING_PLAIN),
		"{\"mode\":\"nat\",\"bridge\":\"nd-x\",\"subnet\":\"10.1.0.0\\/24\",\"gateway\":\"10.1.0.1\","
		"\"addresses\":[],\"subnet6\":null,\"gateway6\":null,\"ipv6_mode\":null,\"nat6\":null,\"uplink\":null,\"mtu\":1400,\"stp\":false,\"forward_delay\":null,\"allow_host_ports\":[\"tcp\\/22\"],\"nat_address\":null,\"nat_ports\":null,\"autostart\":false,\"pxe_boot\":null,\"next_server\":null,\"tftp_root\":null,\"domain_local_only\":false,\"dns_srv\":[],\"dns_txt\":[],\"dns_cname\":[],\"dns_ptr\":[],\"dns_forwarders\":[],\"no_resolv\":false,\"dnsmasq_options\":[],\"vni\":null,\"routed\":null,\"forwards\":[]}");
	network_done(&n);
}

/* A guest's request: NIC i from networks[i] and macs[i], nic_security on every NIC. */
static void test_guest_request(void **state)
{
	_cleanup_json_ json_object *req = json_tokener_parse(
		"{\"networks\": [\"a\", \"b\"], \"macs\": [\"52:54:00:00:00:01\"], \"nic_security\": \"off\", "
		"\"disk\": \"/d.img,format=qcow2,cache=unsafe\", \"vcpus\": 2}");
	_cleanup_json_ json_object *more =
		json_tokener_parse("{\"networks\": [\"a\"], \"macs\": [\"52:54:00:00:00:01\", "
				   "\"52:54:00:00:00:02\"]}");
	struct guest g;
	char err[SCHEMA_MSG_MAX], *text;

	guest_init(&g, "g");
	assert_int_equal(schema_json_parse(&guest_schema, &g, req, err, sizeof(err)), 0);
	assert_int_equal(g.n_nics, 2);
	assert_true(g.nics[0].has_mac && !g.nics[1].has_mac);
	assert_true(g.nics[0].security_off && g.nics[1].security_off);
	assert_int_equal(g.n_disks, 1);
	assert_int_equal(g.disks[0].format, DISK_FORMAT_QCOW2);
	assert_int_equal(g.vcpus, 2);
	text = guest_config_render(&g);
	assert_non_null(text);
	assert_string_equal(
		text, "# netd guest 'g'. Edit, then run 'netdctl reload'; changes apply at its next start.\n"
		      "[guest]\nmemory = 512M\nvcpus = 2\naccel = auto\nqueues = 1\nautostart = yes\n\n"
		      "[nic0]\nnetwork = a\nmac = 52:54:00:00:00:01\nsecurity = off\n\n"
		      "[nic1]\nnetwork = b\nsecurity = off\n\n"
		      "[disk0]\npath = /d.img\nformat = qcow2\ncache = unsafe\nbus = virtio\n");
	free(text);
	guest_init(&g, "g");
	assert_int_equal(schema_json_parse(&guest_schema, &g, more, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "more --mac than --network options");
}

/* --disk is repeatable: disks[i] is disk i; at most 8; the old single "disk" is disk 0. */
static void test_guest_disks_request(void **state)
{
	static const struct {
		const char *request, *error;
	} bad[] = {
		{ "{\"disks\": [\"/1\", \"/2\", \"/3\", \"/4\", \"/5\", \"/6\", \"/7\", \"/8\", \"/9\"]}",
		  "at most 8 disks" },
		{ "{\"disks\": [\"/1,bus=usb\"]}",
		  "invalid disk option 'bus=usb' in --disk /1: expected format=raw|qcow2, "
		  "cache=none|writeback|writethrough|directsync|unsafe, bus=virtio|scsi|sata or readonly" },
		{ "{\"disks\": \"/1\"}", "parameter 'disks' must be an array of strings" },
		{ "{\"disk\": \"/0\", \"disks\": [\"/1\"]}", "disk 0 is given twice ('disk' and 'disks')" },
		{ "{\"disk_size\": \"20X\"}", "invalid --disk-size: " },
		{ "{\"boot\": \"net\"}", "invalid --boot 'net': expected cdrom,disk or disk,cdrom" },
	};
	_cleanup_json_ json_object *req = json_tokener_parse(
		"{\"networks\": [\"a\"], \"disks\": [\"/a.qcow2,format=qcow2\", \"pooled.raw,bus=sata,readonly\"], "
		"\"disk_size\": \"20G\", \"boot\": \"disk,cdrom\"}");
	struct guest g;
	char err[SCHEMA_MSG_MAX];

	guest_init(&g, "g");
	assert_int_equal(schema_json_parse(&guest_schema, &g, req, err, sizeof(err)), 0);
	assert_int_equal(g.n_disks, 2);
	assert_string_equal(g.disks[1].path, "pooled.raw");
	assert_true(g.disks[1].readonly && !g.disks[0].readonly);
	assert_int_equal(g.disks[1].bus, DISK_BUS_SATA);
	assert_int_equal(g.disk_size_new, 20ull << 30);
	assert_int_equal(g.boot, GUEST_BOOT_DISK_CDROM);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		const char *got;

		guest_init(&g, "g");
		got = via_request(&guest_schema, &g, bad[i].request);
		if (strncmp(got, bad[i].error, strlen(bad[i].error)))
			fail_msg("%s: got '%s', expected '%s'", bad[i].request, got, bad[i].error);
	}
}

/* The confirmed conversion's file, and uplink.convert's request and options. */
static void test_uplink(void **state)
{
	_cleanup_json_ json_object *params = json_object_new_object();
	struct uplink_def u;
	char err[SCHEMA_MSG_MAX], *text;

	assert_int_equal(
		uplink_config_parse("# old\n[uplink]\nport = eth0\nbridge = br0\n", &u, err, sizeof(err)), 0);
	assert_string_equal(u.port, "eth0");
	text = uplink_config_render(&u);
	assert_string_equal(text,
			    "# Written by netd: eth0 is a port of bridge br0, which carries its addresses.\n"
			    "[uplink]\nport = eth0\nbridge = br0\n");
	free(text);
	assert_int_equal(uplink_config_parse("[uplink]\nbridge = br0\n", &u, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "no 'port = IFNAME' in [uplink]");
	assert_int_equal(uplink_config_parse("[uplink]\nport = eth0\nport = eth1\n", &u, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(
		err, "line 3: 'port' is given twice in [uplink] (first on line 2); it takes one value");

	uplink_def_init(&u);
	assert_string_equal(via_cli(&uplink_schema, &u, "confirm-timeout", "soon", false),
			    "invalid duration 'soon': expected e.g. 60s, 2m");
	assert_string_equal(via_cli(&uplink_schema, &u, "confirm-timeout", "2h", false),
			    "confirm timeout must be between 1 and 3600 seconds");
	/* a request's value has its JSON type, or the text netdctl's option takes ("no"): never ignored */
	assert_string_equal(via_request(&uplink_schema, &u, "{\"verify\": 0}"),
			    "parameter 'verify' must be true or false");
	assert_string_equal(via_request(&uplink_schema, &u, "{\"verify\": \"nope\"}"),
			    "invalid verify 'nope': expected yes or no");
	assert_string_equal(via_request(&uplink_schema, &u, "{\"bridge\": 7}"),
			    "parameter 'bridge' must be a string without NUL characters");
	assert_string_equal(
		via_cli(&uplink_schema, &u, "bridge", "default", false),
		"invalid bridge name 'default': must not be 'all' or 'default' (the kernel reserves them)");
	assert_string_equal(
		via_request(&uplink_schema, &u, "{\"bridge\": \"all\"}"),
		"invalid bridge name 'all': must not be 'all' or 'default' (the kernel reserves them)");
	assert_string_equal(via_cli(&uplink_schema, &u, "confirm-timeout", "1147797409030816545h", false),
			    "invalid duration '1147797409030816545h': expected e.g. 60s, 2m");
	assert_string_equal(via_request(&uplink_schema, &u, "{\"confirm_timeout\": 1147797409030816545}"),
			    "invalid confirm timeout '1147797409030816545': expected a number");
	assert_string_equal(via_request(&uplink_schema, &u, "{\"confirm_timeout\": 0}"),
			    "confirm timeout must be between 1 and 3600 seconds");
	assert_string_equal(via_cli(&uplink_schema, &u, "bridge", "br/0", false),
			    via_request(&uplink_schema, &u, "{\"bridge\": \"br/0\"}"));
	assert_int_equal(schema_cli_apply(&uplink_schema, option(&uplink_schema, "confirm-timeout"), "2m",
					  params, err, sizeof(err)),
			 0);
	assert_int_equal(schema_cli_apply(&uplink_schema, option(&uplink_schema, "no-verify"), NULL, params,
					  err, sizeof(err)),
			 0);
	json_object_object_add(params, "port", json_object_new_string("eth0"));
	uplink_def_init(&u);
	assert_int_equal(schema_json_parse(&uplink_schema, &u, params, err, sizeof(err)), 0);
	assert_int_equal(u.confirm_timeout, 120);
	assert_false(u.verify);
	assert_string_equal(u.bridge, "br0");
	uplink_def_init(&u);
	json_object_put(params);
	params = json_tokener_parse("{\"port\": \"eth0\", \"verify\": \"no\"}");
	assert_int_equal(schema_json_parse(&uplink_schema, &u, params, err, sizeof(err)), 0);
	assert_false(u.verify);
}

/* A parameter neither a row's nor the method's own is refused by name, before anything is filled:
 * a netd that silently dropped it would do something else than asked (a dry_run that creates). */
static void test_json_unknown(void **state)
{
	static const char *const extra[] = { "name", "dry_run", NULL };
	char err[SCHEMA_MSG_MAX] = "";
	struct network n;
	json_object *p;

	network_init(&n, "x");
	p = json_tokener_parse("{\"name\": \"x\", \"mode\": \"nat\", \"dry_run\": true, \"mac\": "
			       "\"52:54:00:00:00:01\", \"dns_forwarders\": [\"10.0.0.1\"]}");
	assert_int_equal(schema_json_parse_strict(&network_schema, &n, p, extra, err, sizeof(err)), 0);
	json_object_put(p);
	network_done(&n);
	network_init(&n, "x");
	p = json_tokener_parse("{\"name\": \"x\", \"mode\": \"nat\", \"dry_rn\": true}");
	assert_int_equal(schema_json_parse_strict(&network_schema, &n, p, extra, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown parameter 'dry_rn' (this netd has no such setting)");
	json_object_put(p);
	/* without extra, the method's own parameters are unknown too; a key is escaped */
	p = json_tokener_parse("{\"name\": \"x\"}");
	assert_int_equal(schema_json_parse_strict(&network_schema, &n, p, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown parameter 'name' (this netd has no such setting)");
	json_object_put(p);
	p = json_tokener_parse("{\"a\\u001b[31m\": 1}");
	assert_int_equal(schema_json_parse_strict(&network_schema, &n, p, NULL, err, sizeof(err)), -EINVAL);
	assert_null(strchr(err, 0x1b));
	json_object_put(p);
	p = json_tokener_parse("[1]");
	assert_int_equal(schema_json_parse_strict(&network_schema, &n, p, NULL, err, sizeof(err)), -EINVAL);
	json_object_put(p);
	network_done(&n);
}

/* The plain rows' limits: a string's length, the uplink's interface, a number that is unset. */
static void test_plain_limits(void **state)
{
	char value[1100], request[1200], err[SCHEMA_MSG_MAX], *text;
	_cleanup_json_ json_object *show = json_object_new_object();
	struct uplink_def u;
	struct network n;
	struct guest g;

	memset(value, 'k', sizeof(value) - 1);
	value[sizeof(value) - 1] = 0;
	guest_init(&g, "x");
	assert_string_equal(via_file(&guest_schema, &g, "guest", "kernel", value),
			    "--kernel is too long (at most 1023 bytes)");
	snprintf(request, sizeof(request), "{\"kernel\": \"%s\"}", value);
	guest_init(&g, "x");
	assert_string_equal(via_request(&guest_schema, &g, request),
			    "--kernel is too long (at most 1023 bytes)");

	uplink_def_init(&u);
	assert_string_equal(
		via_file(&uplink_schema, &u, "uplink", "port", "eth/0"),
		"invalid interface name 'eth/0': may contain only letters, digits, '-', '_' and '.'");
	assert_string_equal(via_request(&uplink_schema, &u, "{\"confirm_timeout\": \"99999999999\"}"),
			    "invalid confirm timeout '99999999999': expected a number");

	/* mtu 0 is the kernel's: not written, null in show */
	network_init(&n, "x");
	assert_int_equal(config_network_parse("x", "[network]\nmode = nat\nsubnet = 10.1.0.0/24\n", &n, err,
					      sizeof(err)),
			 0);
	text = config_network_render(&n);
	assert_non_null(text);
	assert_null(strstr(text, "mtu"));
	free(text);
	schema_json_show(&network_schema, &n, show);
	assert_string_equal(json_object_to_json_string_ext(json_object_object_get(show, "mtu"), 0), "null");
	network_done(&n);
}

/* The PXE and DNS rows of a definition are in show as the file has them (issue 17's review). */
static void test_network_dns_show(void **state)
{
	_cleanup_json_ json_object *show = json_object_new_object();
	char err[SCHEMA_MSG_MAX];
	struct network n;

	network_init(&n, "x");
	assert_int_equal(config_network_parse("x",
					      "[network]\nmode = nat\nsubnet = 10.1.0.0/24\n"
					      "[dhcp]\npxe-boot = pxelinux.0\nnext-server = 10.1.0.5\n"
					      "tftp-root = /srv/tftp\n"
					      "[dns]\ndomain = lab.example\nlocal-only = yes\n"
					      "srv = _ldap._tcp,ldap.lab.example,389\ntxt = info,v=1\n"
					      "cname = www,web\nptr = 5.0.1.10.in-addr.arpa,web.lab.example\n"
					      "forwarder = /corp.example/192.0.2.54#5353\nno-resolv = yes\n",
					      &n, err, sizeof(err)),
			 0);
	schema_json_show(&network_schema, &n, show);
	static const char *const want[][2] = {
		{ "pxe_boot", "\"pxelinux.0\"" },
		{ "next_server", "\"10.1.0.5\"" },
		{ "tftp_root", "\"\\/srv\\/tftp\"" },
		{ "domain_local_only", "true" },
		{ "dns_srv", "[\"_ldap._tcp,ldap.lab.example,389,0,0\"]" },
		{ "dns_txt", "[\"info,v=1\"]" },
		{ "dns_cname", "[\"www,web\"]" },
		{ "dns_ptr", "[\"5.0.1.10.in-addr.arpa,web.lab.example\"]" },
		{ "dns_forwarders", "[\"\\/corp.example\\/192.0.2.54#5353\"]" },
		{ "no_resolv", "true" },
	};
	for (size_t i = 0; i < ELEMENTSOF(want); i++)
		assert_string_equal(json_object_to_json_string_ext(json_object_object_get(show, want[i][0]),
								   JSON_C_TO_STRING_PLAIN),
				    want[i][1]);
	network_done(&n);
}

/* The IPv6 rows through a request and show: gateway6 and nat6 are what is in force, not set. */
static void test_network_ipv6(void **state)
{
	_cleanup_json_ json_object *req = json_tokener_parse(
		"{\"mode\": \"nat\", \"subnet\": \"none\", \"subnet6\": \"fd00:5::/64\", \"ipv6_mode\": \"dhcpv6\"}");
	_cleanup_json_ json_object *show = json_object_new_object(), *params = json_object_new_object();
	struct network n;
	char err[SCHEMA_MSG_MAX];

	network_init(&n, "x");
	assert_int_equal(schema_json_parse(&network_schema, &n, req, err, sizeof(err)), 0);
	network_fill_defaults(&n);
	assert_int_equal(network_validate(&n, err, sizeof(err)), 0);
	schema_json_show(&network_schema, &n, show);
	assert_string_equal(
		json_object_to_json_string_ext(show, JSON_C_TO_STRING_PLAIN),
		"{\"mode\":\"nat\",\"bridge\":\"nd-x\",\"subnet\":\"none\",\"gateway\":null,"
		"\"addresses\":[],\"subnet6\":\"fd00:5::\\/64\",\"gateway6\":\"fd00:5::1\",\"ipv6_mode\":\"dhcpv6\","
		"\"nat6\":true,\"uplink\":null,\"mtu\":null,\"stp\":false,\"forward_delay\":null,\"allow_host_ports\":[],\"nat_address\":null,\"nat_ports\":null,\"autostart\":true,\"pxe_boot\":null,\"next_server\":null,\"tftp_root\":null,\"domain_local_only\":false,\"dns_srv\":[],\"dns_txt\":[],\"dns_cname\":[],\"dns_ptr\":[],\"dns_forwarders\":[],\"no_resolv\":false,\"dnsmasq_options\":[],\"vni\":null,\"routed\":null,\"forwards\":[]}");
	network_done(&n);

	/* --no-nat6 is the same parameter as --nat6; gateway6 is never taken. */
	assert_int_equal(schema_cli_apply(&network_schema, option(&network_schema, "no-nat6"), NULL, params,
					  err, sizeof(err)),
			 0);
	assert_string_equal(json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN),
			    "{\"nat6\":false}");
	assert_int_equal(schema_cli_apply(&network_schema, option(&network_schema, "nat6"), NULL, params, err,
					  sizeof(err)),
			 -EINVAL);
	network_init(&n, "x");
	assert_int_equal(schema_json_parse(&network_schema, &n, params, err, sizeof(err)), 0);
	assert_int_equal(n.nat6_given, 0);
	network_done(&n);
	network_init(&n, "x");
	assert_string_equal(
		via_request(&network_schema, &n, "{\"gateway6\": \"fd00:5::2\"}"),
		"the IPv6 gateway cannot be set: it is the prefix's first address (::1 of a /64)");
	network_done(&n);
}

static void test_usage(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fputs("  network create NAME", f);
	schema_cli_usage(&network_schema, f, 21, 8, 110);
	fclose(f);
	assert_string_equal(
		buf,
		"  network create NAME --mode MODE [--bridge IFNAME] [--subnet CIDR|auto|none] [--gateway IP]\n"
		"        [--address GATEWAY/PREFIX]... [--subnet6 PREFIX|auto] [--ipv6-mode slaac|dhcpv6|slaac+dhcpv6] [--nat6]\n"
		"        [--no-nat6] [--uplink IFNAME] [--mtu N] [--stp on|off] [--forward-delay SECONDS]\n"
		"        [--allow-host-port PROTO/PORT]... [--nat-address ADDR[-ADDR]] [--nat-ports LO-HI] [--no-autostart]\n"
		"        [--no-dhcp] [--dhcp-range START-END|static]... [--dhcp6-range START-END]...\n"
		"        [--lease-time DURATION|infinite] [--host MAC|id:DUID,IP[,IPv6][,HOSTNAME][,LEASE]]...\n"
		"        [--pxe-boot FILE] [--next-server IP] [--tftp-root DIR] [--no-dns] [--domain DOMAIN]\n"
		"        [--domain-local-only] [--register-dns] [--dns-host IP,HOSTNAME]...\n"
		"        [--dns-srv _SERVICE._PROTO[.DOMAIN][,TARGET,PORT[,PRIORITY[,WEIGHT]]]]... [--dns-txt NAME,TEXT]...\n"
		"        [--dns-cname ALIAS,TARGET]... [--dns-ptr NAME,TARGET]...\n"
		"        [--dns-forwarder [/DOMAIN/]IP[#PORT]|/DOMAIN/[#]]... [--no-resolv] [--dnsmasq-option TEXT]...\n"
		"        [--vni N] [--routed]");
	free(buf);
}

static void test_helpers(void **state)
{
	char err[SCHEMA_MSG_MAX];
	unsigned u;
	bool b;

	assert_int_equal(schema_parse_uint("N", "42", 100, &u, err, sizeof(err)), 0);
	assert_int_equal(u, 42);
	assert_int_equal(schema_parse_uint("N", "+4", 100, &u, err, sizeof(err)), -EINVAL);
	assert_int_equal(schema_parse_uint("N", "101", 100, &u, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid N '101': expected a number");
	assert_int_equal(schema_parse_uint_range("queues", "9", 1, 8, &u, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "queues is out of range (1-8)");
	assert_int_equal(schema_parse_bool("x", "off", &b, err, sizeof(err)), 0);
	assert_false(b);
	assert_int_equal(schema_parse_bool("x", "maybe", &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(schema_parse_duration("2m", &u, err, sizeof(err)), 0);
	assert_int_equal(u, 120);
	assert_int_equal(schema_parse_duration("90", &u, err, sizeof(err)), 0);
	assert_int_equal(u, 90);
	assert_int_equal(schema_parse_duration("0", &u, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid duration '0': expected e.g. 60s, 2m");
	assert_int_equal(schema_parse_duration("1y", &u, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network_same_message),
		cmocka_unit_test(test_guest_same_message),
		cmocka_unit_test(test_twice),
		cmocka_unit_test(test_request_types),
		cmocka_unit_test(test_guest_request),
		cmocka_unit_test(test_guest_disks_request),
		cmocka_unit_test(test_uplink),
		cmocka_unit_test(test_plain_limits),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_network_ipv6),
		cmocka_unit_test(test_network_dns_show),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_json_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
