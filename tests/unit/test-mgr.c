/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The network manager drivers (netd/uplink/mgr*.c): what each writes into the manager's input
 * (interfaces(5) stanzas, .network/.netdev files), compared with golden files and read back;
 * hostile names refused; detection and the file save/restore under a root of our own.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "golden.h"
#include "mgr-ifupdown.h"
#include "mgr-networkd.h"
#include "mgr-nm.h"
#include "mgr.h"

static char root[64], save[96];

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/netd-unit-mgr.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(save, sizeof(save), "%s/state/manager", root);
	return 0;
}

static int teardown(void **state)
{
	return rm_rf(root) < 0 ? -1 : 0;
}

static void put(const char *rel, const char *text)
{
	char path[256], dir[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = 0;
	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

static char *get(const char *rel)
{
	char path[256], *text = NULL;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return read_file(path, &text, NULL) < 0 ? NULL : text;
}

static struct mgr_ctx ctx(void)
{
	struct mgr_ctx c = { .root = root, .port = "eth0", .bridge = "br0", .ifindex = 7, .save_dir = save };

	mac_parse("52:54:00:12:34:56", &c.mac);
	return c;
}

/* ---- ifupdown ---- */

#define DEBIAN_INTERFACES                                      \
	"# interfaces(5) file used by ifup(8) and ifdown(8)\n" \
	"source /etc/network/interfaces.d/*\n"                 \
	"\n"                                                   \
	"auto lo\n"                                            \
	"iface lo inet loopback\n"                             \
	"\n"                                                   \
	"allow-hotplug eth0\n"                                 \
	"iface eth0 inet dhcp\n"                               \
	"\t# the uplink\n"                                     \
	"\tpre-up echo \\\n"                                   \
	"\t  hello\n"                                          \
	"iface eth0 inet6 auto\n"                              \
	"\n"                                                   \
	"auto eth1\n"                                          \
	"iface eth1 inet static\n"                             \
	"\taddress 10.0.0.1/24\n"

static struct ifupdown_rewrite rw_new(const char *port, const char *bridge)
{
	struct ifupdown_rewrite rw = { .port = port, .bridge = bridge };

	mac_parse("52:54:00:12:34:56", &rw.mac);
	return rw;
}

static void test_ifupdown_rewrite(void **state)
{
	struct ifupdown_rewrite rw = rw_new("eth0", "br0");
	char *out = NULL, err[256] = "";

	assert_int_equal(ifupdown_rewrite(&rw, DEBIAN_INTERFACES, &out, err, sizeof(err)), 1);
	assert_golden("mgr/ifupdown-debian.interfaces", out);
	/* Read back: one dhcp and one inet6 stanza of br0, the port manual, nothing else of it. */
	assert_int_equal(ifupdown_stanzas(out, "br0", "dhcp"), 1);
	assert_int_equal(ifupdown_stanzas(out, "br0", "auto"), 1);
	assert_int_equal(ifupdown_stanzas(out, "eth0", NULL), 1);
	assert_int_equal(ifupdown_stanzas(out, "eth0", "manual"), 1);
	assert_int_equal(ifupdown_stanzas(out, "eth1", "static"), 1);
	assert_int_equal(rw.n_port_stanzas, 2);
	free(out);

	/* A file that names neither: unchanged. */
	rw = rw_new("eth0", "br0");
	assert_int_equal(ifupdown_rewrite(&rw, "auto lo\niface lo inet loopback\n", &out, err, sizeof(err)),
			 0);
	assert_null(out);

	/* 'auto lo eth0' keeps lo; a second file's 'auto eth0' adds no second 'auto br0'. */
	rw = rw_new("eth0", "br0");
	assert_int_equal(ifupdown_rewrite(&rw, "auto lo eth0\n", &out, err, sizeof(err)), 1);
	assert_string_equal(out, "auto lo\nauto br0\n");
	free(out);
	assert_int_equal(ifupdown_rewrite(&rw, "auto eth0\niface eth0 inet static\n\taddress 10.1.1.1/24\n",
					  &out, err, sizeof(err)),
			 1);
	assert_string_equal(
		out,
		"iface eth0 inet manual\n\niface br0 inet static\n\tbridge_ports eth0\n"
		"\tbridge_stp off\n\tbridge_fd 0\n\tbridge_hw 52:54:00:12:34:56\n\taddress 10.1.1.1/24\n");
	free(out);
}

static void test_ifupdown_refused(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "iface br0 inet manual\n", "names 'br0' already" },
		{ "auto br0\n", "names 'br0' already" },
		{ "mapping eth0\n\tscript /x\n", "a 'mapping' stanza names 'eth0'" },
		{ "rename eth0=lan0\n", "a 'rename' stanza names 'eth0'" },
		{ "iface eth0 \\\n inet dhcp\n", "goes on over several lines" },
	};
	static const char *const bad_names[][2] = {
		{ "eth0", "br 0" }, { "eth0", "br0\niface" },
		{ "eth0", "br0#" }, { "eth0", "br.5" },
		{ "eth0", "-br" },  { "eth0\n", "br0" },
		{ "", "br0" },	    { "eth0", "br0000000000000000" },
	};
	char *out = NULL, err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ifupdown_rewrite rw = rw_new("eth0", "br0");

		err[0] = 0;
		if (ifupdown_rewrite(&rw, cases[i].text, &out, err, sizeof(err)) >= 0)
			fail_msg("case %zu accepted: %s", i, out);
		assert_null(out);
		if (!strstr(err, cases[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].why);
	}
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		struct ifupdown_rewrite rw = rw_new(bad_names[i][0], bad_names[i][1]);

		assert_int_equal(ifupdown_rewrite(&rw, DEBIAN_INTERFACES, &out, err, sizeof(err)), -EINVAL);
		assert_null(out);
	}
}

static void test_ifupdown_ifstate(void **state)
{
	char *out = NULL, line[256];

	assert_int_equal(ifupdown_ifstate_drop("lo=lo\neth0=eth0\nxeth0=xeth0\n", "eth0", &out), 1);
	assert_string_equal(out, "lo=lo\nxeth0=xeth0\n");
	free(out);
	assert_int_equal(ifupdown_ifstate_drop("lo=lo\neth00=eth00", "eth0", &out), 0);
	assert_string_equal(out, "lo=lo\neth00=eth00\n");
	free(out);

	assert_int_equal(ifupdown_duid_line("default-duid \"\\000\\001\\000\\0012\";\nlease {\n}\n", line,
					    sizeof(line)),
			 0);
	assert_string_equal(line, "default-duid \"\\000\\001\\000\\0012\";\n");
	assert_int_equal(ifupdown_duid_line("default-duid \"a\\\"b\";\n", line, sizeof(line)), 0);
	assert_int_equal(ifupdown_duid_line("lease {\n}\n", line, sizeof(line)), -ENOENT);
	/* Anything after the string (a second statement) is not copied. */
	assert_int_equal(ifupdown_duid_line("default-duid \"a\"; option x;\n", line, sizeof(line)), -EINVAL);
	assert_int_equal(ifupdown_duid_line("default-duid \"a\" \"b\";\n", line, sizeof(line)), -EINVAL);
	assert_int_equal(ifupdown_duid_line("default-duid \"a\n\";\n", line, sizeof(line)), -EINVAL);
}

/* The driver on a root of our own: detect, release, take back, persist, restore. */
static void test_ifupdown_driver(void **state)
{
	struct mgr_ctx c = ctx();
	const struct mgr_driver *drv = NULL;
	char err[MGR_ERR_MAX] = "", *text;

	put("etc/network/interfaces", DEBIAN_INTERFACES);
	put("var/lib/dhcp/dhclient.eth0.leases", "default-duid \"\\000\\001\";\nlease {\n}\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), 0);
	assert_null(drv);
	put("run/network/ifstate", "lo=lo\neth0=eth0\n");
	put("run/network/ifstate.eth0", "eth0\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), 0);
	assert_ptr_equal(drv, &mgr_ifupdown);

	assert_int_equal(drv->release(&c, err, sizeof(err)), 0);
	assert_null(get("run/network/ifstate.eth0"));
	text = get("run/network/ifstate");
	assert_string_equal(text, "lo=lo\n");
	free(text);
	assert_int_equal(drv->persist(&c, err, sizeof(err)), 0);
	text = get("etc/network/interfaces");
	assert_int_equal(ifupdown_stanzas(text, "br0", "dhcp"), 1);
	free(text);
	text = get("var/lib/dhcp/dhclient.br0.leases");
	assert_string_equal(text, "default-duid \"\\000\\001\";\n");
	free(text);

	assert_int_equal(drv->restore(&c, err, sizeof(err)), 0);
	assert_int_equal(drv->take_back(&c, err, sizeof(err)), 0);
	text = get("etc/network/interfaces");
	assert_string_equal(text, DEBIAN_INTERFACES);
	free(text);
	assert_null(get("var/lib/dhcp/dhclient.br0.leases"));
	text = get("run/network/ifstate");
	assert_string_equal(text, "lo=lo\neth0=eth0\n");
	free(text);
	text = get("run/network/ifstate.eth0");
	assert_string_equal(text, "eth0\n");
	free(text);

	/* Configured by ifup, but no stanza netd can find: refused before anything changes. */
	put("etc/network/interfaces", "auto lo\niface lo inet loopback\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "have no 'iface eth0' stanza"));
	put("etc/network/interfaces", "mapping eth0\n\tscript /x\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "/etc/network/interfaces cannot be rewritten for 'br0'"));
	assert_int_equal(rm_rf(save), 0);
	unlink(strcat(strcpy(err, root), "/run/network/ifstate.eth0"));
	put("run/network/ifstate", "lo=lo\n");
}

/* ---- systemd-networkd ---- */

#define PORT_NETWORK \
	"[Match]\nName=eth0\n\n[Network]\nDHCP=yes\nIPv6AcceptRA=yes\n\n[DHCPv4]\nUseDomains=yes\n"

static void test_networkd_render(void **state)
{
	struct networkd_client_id duid = { .kind = NETWORKD_CLIENT_ID_DUID, .iaid = 0xfe123456 }, none = {};
	struct mac mac;
	char *out = NULL, err[256];

	mac_parse("52:54:00:12:34:56", &mac);
	assert_int_equal(networkd_render_hold("eth0", "br0", &out), 0);
	assert_golden("mgr/networkd-hold.network", out);
	free(out);
	assert_int_equal(networkd_render_netdev("br0", &mac, &out), 0);
	assert_golden("mgr/networkd-br0.netdev", out);
	free(out);
	assert_int_equal(networkd_render_port("eth0", "br0", &out), 0);
	assert_golden("mgr/networkd-port.network", out);
	free(out);
	assert_int_equal(networkd_render_bridge("br0", PORT_NETWORK, &duid, &out, err, sizeof(err)), 0);
	assert_golden("mgr/networkd-br0.network", out);
	/* The port's [Match] is gone: the only Name= is the bridge's. */
	assert_null(strstr(out, "Name=eth0"));
	free(out);
	out = NULL;
	assert_int_equal(networkd_render_bridge("br0", PORT_NETWORK "[Network]\nVLAN=eth0.5\n", &none, &out,
						err, sizeof(err)),
			 -EINVAL);
	assert_null(out);
	assert_non_null(strstr(err, "VLAN="));
}

static void test_networkd_hostile(void **state)
{
	static const char *const bad[] = { "br0\nName=*",	 "br 0", "br*",	 "br[0]",	  "",
					   "br0000000000000000", "../x", "br0/", "br0\n[Network]" };
	struct networkd_client_id none = {};
	struct mac mac = {};
	char *out = NULL, err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(networkd_render_hold("eth0", bad[i], &out), -EINVAL);
		assert_int_equal(networkd_render_hold(bad[i], "br0", &out), -EINVAL);
		assert_int_equal(networkd_render_netdev(bad[i], &mac, &out), -EINVAL);
		assert_int_equal(networkd_render_port(bad[i], "br0", &out), -EINVAL);
		assert_int_equal(networkd_render_bridge(bad[i], PORT_NETWORK, &none, &out, err, sizeof(err)),
				 -EINVAL);
		assert_null(out);
	}
}

static void test_networkd_state(void **state)
{
	struct networkd_client_id id;
	char buf[64];

	assert_int_equal(networkd_state_value("# x\nADMIN_STATE=configured\nNETWORK_FILE=/etc/a.network\n",
					      "NETWORK_FILE", buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "/etc/a.network");
	assert_int_equal(networkd_state_value("XADMIN_STATE=x\n", "ADMIN_STATE", buf, sizeof(buf)), -ENOENT);
	/* networkd's user writes its state: the file it names must be one of networkd's own. */
	assert_null(networkd_network_file_invalid_reason("/etc/systemd/network/50-eth0.network"));
	assert_null(networkd_network_file_invalid_reason("/run/systemd/network/10-netplan-eth0.network"));
	assert_null(networkd_network_file_invalid_reason("/usr/lib/systemd/network/80-container-host0.network"));
	assert_non_null(networkd_network_file_invalid_reason("/etc/shadow"));
	assert_non_null(networkd_network_file_invalid_reason("/etc/shadow.network"));
	assert_non_null(networkd_network_file_invalid_reason("/etc/systemd/network/../../shadow.network"));
	assert_non_null(networkd_network_file_invalid_reason("/etc/systemd/network/x/y.network"));
	assert_non_null(networkd_network_file_invalid_reason("/etc/systemd/network/.network"));
	assert_non_null(networkd_network_file_invalid_reason("/etc/systemd/network/a.netdev"));
	assert_int_equal(
		networkd_lease_client_id("ADDRESS=1.2.3.4\nCLIENTID=ffb6220feb00020000ab11aabbccdd\n", &id),
		0);
	assert_int_equal(id.kind, NETWORKD_CLIENT_ID_DUID);
	assert_int_equal(id.iaid, 0xb6220feb);
	assert_int_equal(networkd_lease_client_id("CLIENTID=01525400123456\n", &id), 0);
	assert_int_equal(id.kind, NETWORKD_CLIENT_ID_MAC);
	assert_int_equal(networkd_lease_client_id("CLIENTID=ff12\n", &id), -EINVAL);
	assert_int_equal(networkd_lease_client_id("CLIENTID=ffzz220feb00020000ab11aabbccdd\n", &id), -EINVAL);
	assert_int_equal(networkd_lease_client_id("ADDRESS=1.2.3.4\n", &id), -ENOENT);
}

static void test_networkd_detect(void **state)
{
	struct mgr_ctx c = ctx();
	const struct mgr_driver *drv = NULL;
	char err[MGR_ERR_MAX] = "", path[256];

	put("run/systemd/netif/links/7", "ADMIN_STATE=unmanaged\nOPER_STATE=carrier\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), 0);
	assert_null(drv);
	put("run/systemd/netif/links/7",
	    "ADMIN_STATE=configured\nNETWORK_FILE=/etc/systemd/network/50-eth0.network\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), 0);
	assert_ptr_equal(drv, &mgr_networkd);
	/* A file that sorts before netd's hold would still win: refused. */
	put("run/systemd/netif/links/7",
	    "ADMIN_STATE=configured\nNETWORK_FILE=/etc/systemd/network/00-0a.network\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "sorts before netd's own files"));
	/* A state file (networkd's user writes it) naming a file outside networkd's directories. */
	put("run/systemd/netif/links/7", "ADMIN_STATE=configured\nNETWORK_FILE=/root/secret.network\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "is not in one of systemd-networkd's directories"));
	put("run/systemd/netif/links/7", "ADMIN_STATE=configuring\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "names no .network file"));
	/* A drop-in of the port's .network (in any of networkd's directories) would not follow it. */
	put("run/systemd/netif/links/7",
	    "ADMIN_STATE=configured\nNETWORK_FILE=/etc/systemd/network/50-eth0.network\n");
	put("usr/lib/systemd/network/50-eth0.network.d/mtu.conf", "[Link]\nMTUBytes=9000\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "the drop-in /usr/lib/systemd/network/50-eth0.network.d/mtu.conf"));
	snprintf(path, sizeof(path), "%s/usr/lib/systemd/network/50-eth0.network.d/mtu.conf", root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), 0);
	assert_ptr_equal(drv, &mgr_networkd);
	put("run/systemd/netif/links/7", "ADMIN_STATE=unmanaged\n");
}

/* The driver on a root of our own (no networkd runs in this namespace: nothing to restart). */
static void test_networkd_driver(void **state)
{
	struct proc_fake *fake;
	struct proc_backend proc;
	struct mgr_ctx c = ctx();
	char err[MGR_ERR_MAX] = "", path[256], *text;

	assert_int_equal(proc_fake_new(&fake, &proc), 0);
	c.proc = &proc;
	put("etc/systemd/network/50-eth0.network", PORT_NETWORK);
	put("run/systemd/netif/links/7", "ADMIN_STATE=configured\nNETWORK_FILE=/etc/systemd/network/50-eth0.network\n");
	put("run/systemd/netif/leases/7", "ADDRESS=192.168.77.111\nCLIENTID=01525400123456\n");

	/* A .network file others may write is not copied into /etc. */
	snprintf(path, sizeof(path), "%s/etc/systemd/network/50-eth0.network", root);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(mgr_networkd.release(&c, err, sizeof(err)), -EPERM);
	assert_int_equal(chmod(path, 0644), 0);

	assert_int_equal(mgr_networkd.release(&c, err, sizeof(err)), 0);
	text = get("run/systemd/network/00-0netd-br0.network");
	assert_non_null(strstr(text, "Name=eth0 br0\n"));
	free(text);
	/* adopt: the bridge's files in /run, the hold gone */
	assert_int_equal(mgr_networkd.adopt(&c, err, sizeof(err)), 0);
	assert_null(get("run/systemd/network/00-0netd-br0.network"));
	text = get("run/systemd/network/00-netd-br0.network");
	assert_non_null(strstr(text, "Name=br0\n"));
	free(text);
	assert_non_null(text = get("run/systemd/network/00-netd-br0.netdev"));
	free(text);
	/* persist: the same in /etc, none left in /run */
	assert_int_equal(mgr_networkd.persist(&c, err, sizeof(err)), 0);
	assert_null(get("run/systemd/network/00-0netd-br0.network"));
	assert_null(get("run/systemd/network/00-netd-br0.network"));
	assert_null(get("run/systemd/network/00-netd-br0.netdev"));
	assert_null(get("run/systemd/network/00-netd-br0-port.network"));
	text = get("etc/systemd/network/00-netd-br0.network");
	assert_non_null(strstr(text, "Name=br0\n"));
	assert_non_null(strstr(text, "DHCP=yes\n"));
	assert_non_null(strstr(text, "ClientIdentifier=mac\n"));
	free(text);
	text = get("etc/systemd/network/00-netd-br0-port.network");
	assert_non_null(strstr(text, "Bridge=br0\n"));
	free(text);

	/* The revert: release (the hold back), restore (netd's files gone), take back (hold gone). */
	assert_int_equal(mgr_networkd.release(&c, err, sizeof(err)), 0);
	assert_int_equal(mgr_networkd.restore(&c, err, sizeof(err)), 0);
	assert_int_equal(mgr_networkd.take_back(&c, err, sizeof(err)), 0);
	assert_null(get("etc/systemd/network/00-netd-br0.network"));
	assert_null(get("etc/systemd/network/00-netd-br0.netdev"));
	assert_null(get("etc/systemd/network/00-netd-br0-port.network"));
	assert_null(get("run/systemd/network/00-0netd-br0.network"));
	text = get("etc/systemd/network/50-eth0.network");
	assert_string_equal(text, PORT_NETWORK);
	free(text);
	proc_fake_free(fake);
	assert_int_equal(rm_rf(save), 0);
	put("run/systemd/netif/links/7", "ADMIN_STATE=unmanaged\n");
}

/* ---- NetworkManager ---- */

/* A profile as nmcli saves it, with a link group, a firewall zone, comments and blanks. */
#define NM_UUID "6f1c2f3e-52a4-4c1e-9a0b-3d2f8e7c1a55"
#define NM_PROFILE                  \
	"[connection]\n"            \
	"id=uplink\n"               \
	"uuid=" NM_UUID "\n"        \
	"type=ethernet\n"           \
	"interface-name=eth0\n"     \
	"zone = public\n"           \
	"timestamp=1700000000\n"    \
	"\n"                        \
	"[ethernet]\n"              \
	"mtu=9000\n"                \
	"\n"                        \
	"[ipv4]\n"                  \
	"# the LAN's DHCP\n"        \
	"method=auto\n"             \
	"dns-search=example.org;\n" \
	"\n"                        \
	"[ipv6]\n"                  \
	"addr-gen-mode=eui64\n"     \
	"method=auto\n"             \
	"route-metric=50\n"         \
	"\n"                        \
	"[proxy]\n"

static const struct nm_names nm_names = {
	.port = "eth0",
	.bridge = "br0",
	.bridge_uuid = "0b2a3c4d-1111-4222-8333-444455556666",
	.port_uuid = "7e8f9a0b-1111-4222-8333-444455556666",
	.mac = { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } },
	.metric = "100",
};

static void test_nm_keyfile(void **state)
{
	char v[64];

	assert_int_equal(nm_keyfile_get(NM_PROFILE, "connection", "zone", v, sizeof(v)), 0);
	assert_string_equal(v, "public");
	assert_int_equal(nm_keyfile_get(NM_PROFILE, "ipv6", "method", v, sizeof(v)), 0);
	assert_string_equal(v, "auto");
	assert_int_equal(nm_keyfile_get(NM_PROFILE, "ipv4", "route-metric", v, sizeof(v)), -ENOENT);
	assert_int_equal(nm_keyfile_get(NM_PROFILE, "connection", "uuid", v, 8), -ENAMETOOLONG);
	assert_true(nm_uuid_valid(NM_UUID));
	assert_false(nm_uuid_valid("6f1c2f3e-52a4-4c1e-9a0b-3d2f8e7c1a5"));
	assert_false(nm_uuid_valid("6f1c2f3e-52a4-4c1e-9a0b-3d2f8e7c1a5g"));
	assert_false(nm_uuid_valid("6f1c2f3e552a4-4c1e-9a0b-3d2f8e7c1a55"));
	assert_null(nm_profile_invalid_reason(NM_PROFILE));
	assert_non_null(nm_profile_invalid_reason("[connection]\ntype=wifi\n"));
	assert_non_null(nm_profile_invalid_reason("[connection]\ntype=ethernet\nmaster=bond0\n"));
	assert_non_null(nm_profile_invalid_reason("[connection]\ntype=ethernet\ncontroller=bond0\n"));
	/* The state file of a device. */
	/* Read as GKeyFile reads it: blanks before a key or a group and after ']' ignored, CRLF, the
	 * last of a key counts. */
	assert_int_equal(nm_keyfile_get("  [connection]  \r\n\tuuid = a\r\nuuid=b\r\n", "connection", "uuid",
					v, sizeof(v)),
			 0);
	assert_string_equal(v, "b");
	assert_null(nm_profile_invalid_reason("[connection]\r\n type=ethernet\r\n # a comment\r\n"));
	assert_non_null(nm_profile_invalid_reason("[connection]\ntype=ethernet\n master = bond0\n"));
	assert_non_null(nm_profile_invalid_reason("[connection]\ntype=ethernet\nnot a key\n"));
	assert_non_null(nm_profile_invalid_reason("type=ethernet\n[connection]\ntype=ethernet\n"));
	assert_non_null(nm_profile_invalid_reason("[connection] x\ntype=ethernet\n"));
	assert_true(nm_device_managed("[device]\nmanaged=true\nconnection-uuid=" NM_UUID "\n\n[dhcp4]\n"));
	assert_false(nm_device_managed("[device]\nmanaged=false\n"));
	assert_false(nm_device_managed("[dhcp4]\nmanaged=true\n"));
}

static void test_nm_render(void **state)
{
	struct nm_names bad = nm_names;
	char *out = NULL, v[64];

	assert_int_equal(nm_render_bridge(&nm_names, NM_PROFILE, &out), 0);
	assert_golden("mgr/nm-br0.nmconnection", out);
	/* Read back: the bridge's identity, the port's IP groups, the port's metric where it had none. */
	assert_int_equal(nm_keyfile_get(out, "connection", "interface-name", v, sizeof(v)), 0);
	assert_string_equal(v, "br0");
	assert_int_equal(nm_keyfile_get(out, "connection", "zone", v, sizeof(v)), 0);
	assert_string_equal(v, "public");
	assert_int_equal(nm_keyfile_get(out, "connection", "timestamp", v, sizeof(v)), -ENOENT);
	assert_int_equal(nm_keyfile_get(out, "ipv4", "route-metric", v, sizeof(v)), 0);
	assert_string_equal(v, "100");
	assert_int_equal(nm_keyfile_get(out, "ipv6", "route-metric", v, sizeof(v)), 0);
	assert_string_equal(v, "50");
	assert_int_equal(nm_keyfile_get(out, "ipv4", "dns-search", v, sizeof(v)), 0);
	assert_string_equal(v, "example.org;");
	assert_null(strstr(out, "mtu="));
	free(out);
	assert_int_equal(nm_render_port(&nm_names, NM_PROFILE, &out), 0);
	assert_golden("mgr/nm-br0-port.nmconnection", out);
	assert_int_equal(nm_keyfile_get(out, "connection", "master", v, sizeof(v)), 0);
	assert_string_equal(v, "br0");
	assert_int_equal(nm_keyfile_get(out, "ethernet", "mtu", v, sizeof(v)), 0);
	assert_null(strstr(out, "[ipv4]"));
	assert_null(strstr(out, "zone"));
	free(out);
	/* A key written with blanks around it is the same key: the port's identity stays out. */
	assert_int_equal(
		nm_render_bridge(&nm_names, "[connection]\n\tuuid = " NM_UUID "\n type=ethernet\n", &out), 0);
	assert_int_equal(nm_keyfile_get(out, "connection", "uuid", v, sizeof(v)), 0);
	assert_string_equal(v, nm_names.bridge_uuid);
	assert_int_equal(nm_keyfile_get(out, "connection", "type", v, sizeof(v)), 0);
	assert_string_equal(v, "bridge");
	free(out);
	assert_int_equal(nm_render_no_autoconnect(NM_PROFILE, &out), 0);
	assert_int_equal(nm_keyfile_get(out, "connection", "autoconnect", v, sizeof(v)), 0);
	assert_string_equal(v, "false");
	assert_non_null(strstr(out, "\n[ethernet]\nmtu=9000\n"));
	free(out);
	assert_int_equal(
		nm_render_no_autoconnect("[connection]\nautoconnect=true\nid=a\nautoconnect=yes\n", &out), 0);
	assert_string_equal(out, "[connection]\nautoconnect=false\nid=a\n");
	free(out);
	/* Names netd would not write: refused, nothing rendered. */
	out = NULL;
	bad.bridge = "br0\n[x]";
	assert_int_equal(nm_render_bridge(&bad, NM_PROFILE, &out), -EINVAL);
	bad = nm_names;
	bad.port_uuid = "x\nmaster=evil";
	assert_int_equal(nm_render_port(&bad, NM_PROFILE, &out), -EINVAL);
	bad = nm_names;
	bad.metric = "1\n[ipv4]";
	assert_int_equal(nm_render_bridge(&bad, NM_PROFILE, &out), -EINVAL);
	assert_null(out);
}

static void test_nm_detect(void **state)
{
	struct mgr_ctx c = ctx();
	const struct mgr_driver *drv = NULL;
	char err[MGR_ERR_MAX] = "", path[256];

	put("run/NetworkManager/devices/8", "[device]\nmanaged=true\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), 0);
	/* What 'nmcli device set eth0 managed no' leaves (1.42): not NetworkManager's any more. */
	put("run/NetworkManager/devices/7", "[device]\nmanaged=false\nperm-hw-addr-fake=52:54:00:12:34:56\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), 0);
	put("run/NetworkManager/devices/7", "[device]\nmanaged=true\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "runs no profile on it"));
	put("run/NetworkManager/devices/7",
	    "[device]\nmanaged=true\nconnection-uuid=" NM_UUID "\n\n[dhcp4]\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "add uuid=" NM_UUID " to its [connection] group"));
	/* A keyfile others may write is not one NetworkManager loads, nor one netd copies. */
	put("etc/NetworkManager/system-connections/uplink.nmconnection", NM_PROFILE);
	snprintf(path, sizeof(path), "%s/etc/NetworkManager/system-connections/uplink.nmconnection", root);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), -EBUSY);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), 0);
	assert_ptr_equal(drv, &mgr_networkmanager);
	put("etc/NetworkManager/system-connections/uplink.nmconnection",
	    "[connection]\nuuid=" NM_UUID "\ntype=ethernet\nmaster=bond0\n");
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "port of another"));
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/run/NetworkManager/devices/7", root);
	assert_int_equal(unlink(path), 0);
	/* Without a root (netd outside the initial namespace) nothing is looked at. */
	c.root = NULL;
	assert_int_equal(mgr_detect(&c, &drv, err, sizeof(err)), 0);
	assert_null(drv);
}

/* The driver on a root of our own (no NetworkManager runs in this namespace: nothing to restart);
 * the bridge is "lo", a link that exists here (the state files are named by its ifindex). */
static void test_nm_driver(void **state)
{
	struct proc_fake *fake;
	struct proc_backend proc;
	struct mgr_ctx c = ctx();
	char err[MGR_ERR_MAX] = "", *text, lo_state[64];
	const char *port_state = "[device]\nmanaged=true\nconnection-uuid=" NM_UUID
				 "\nroute-metric-default-effective=100\n";
	const char *lease = "var/lib/NetworkManager/internal-" NM_UUID "-eth0.lease";

	assert_int_equal(proc_fake_new(&fake, &proc), 0);
	c.proc = &proc;
	c.bridge = "lo";
	snprintf(lo_state, sizeof(lo_state), "run/NetworkManager/devices/%u", if_nametoindex("lo"));
	put("etc/NetworkManager/system-connections/uplink.nmconnection", NM_PROFILE);
	put("run/NetworkManager/devices/7", port_state);
	put(lease, "ADDRESS=192.168.77.111\n");

	/* convert: release, then adopt (in-memory profiles, the lease copied, state naming them) */
	assert_int_equal(mgr_networkmanager.release(&c, err, sizeof(err)), 0);
	text = get("run/NetworkManager/devices/7");
	assert_string_equal(text, "[device]\nmanaged=false\n");
	free(text);
	assert_int_equal(mgr_networkmanager.adopt(&c, err, sizeof(err)), 0);
	text = get("run/NetworkManager/system-connections/netd-lo.nmconnection");
	assert_non_null(strstr(text, "type=bridge\n"));
	free(text);
	text = get("run/NetworkManager/system-connections/netd-lo-port.nmconnection");
	assert_non_null(strstr(text, "master=lo\n"));
	free(text);
	text = get(lo_state);
	assert_non_null(strstr(text, "managed=true\nconnection-uuid="));
	free(text);
	text = get("run/NetworkManager/devices/7");
	assert_non_null(strstr(text, "managed=true\nconnection-uuid="));
	assert_null(strstr(text, NM_UUID));
	free(text);
	/* confirm: the profiles in /etc, the old one no longer autoconnects, /run's gone */
	assert_int_equal(mgr_networkmanager.persist(&c, err, sizeof(err)), 0);
	text = get("etc/NetworkManager/system-connections/netd-lo.nmconnection");
	assert_non_null(strstr(text, "cloned-mac-address=52:54:00:12:34:56\n"));
	free(text);
	assert_non_null(text = get("etc/NetworkManager/system-connections/netd-lo-port.nmconnection"));
	free(text);
	assert_null(get("run/NetworkManager/system-connections/netd-lo.nmconnection"));
	text = get("etc/NetworkManager/system-connections/uplink.nmconnection");
	assert_non_null(strstr(text, "autoconnect=false\n"));
	free(text);

	/* The revert: release, restore (keyfiles as before), take back (state, /run, lease copy). */
	assert_int_equal(mgr_networkmanager.release(&c, err, sizeof(err)), 0);
	assert_int_equal(mgr_networkmanager.restore(&c, err, sizeof(err)), 0);
	assert_int_equal(mgr_networkmanager.take_back(&c, err, sizeof(err)), 0);
	assert_null(get("etc/NetworkManager/system-connections/netd-lo.nmconnection"));
	assert_null(get("etc/NetworkManager/system-connections/netd-lo-port.nmconnection"));
	assert_null(get("run/NetworkManager/system-connections/netd-lo-port.nmconnection"));
	/* The bridge's state stays as the release left it: NetworkManager drops it when it starts
	 * (the bridge is gone by then). */
	text = get(lo_state);
	assert_string_equal(text, "[device]\nmanaged=false\n");
	free(text);
	text = get("etc/NetworkManager/system-connections/uplink.nmconnection");
	assert_string_equal(text, NM_PROFILE);
	free(text);
	/* The port's state names its own profile again (what NetworkManager needs to assume it). */
	text = get("run/NetworkManager/devices/7");
	assert_string_equal(text, "[device]\nmanaged=true\nconnection-uuid=" NM_UUID "\n");
	free(text);
	proc_fake_free(fake);
	assert_int_equal(rm_rf(save), 0);
	put("run/NetworkManager/devices/7", "[device]\nmanaged=false\n");
}

/* ---- the originals ---- */

static void test_files(void **state)
{
	struct mgr_ctx c = ctx();
	char err[MGR_ERR_MAX] = "", *text, path[256];
	struct stat st;

	put("etc/a", "original\n");
	snprintf(path, sizeof(path), "%s/etc/a", root);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(mgr_file_write(&c, MGR_SET_CONFIG, "etc/a", "new\n", 4, 0644), 0);
	/* Saved once: a second write keeps the first original. */
	assert_int_equal(mgr_file_write(&c, MGR_SET_CONFIG, "etc/a", "newer\n", 6, 0644), 0);
	assert_int_equal(mgr_file_write(&c, MGR_SET_CONFIG, "etc/new", "x", 1, 0644), 0);
	assert_int_equal(mgr_file_remove(&c, MGR_SET_RUNTIME, "etc/a"), 0);
	assert_null(get("etc/a"));
	assert_int_equal(mgr_files_restore(&c, MGR_SET_RUNTIME, err, sizeof(err)), 0);
	text = get("etc/a");
	assert_string_equal(text, "newer\n");
	free(text);
	assert_int_equal(mgr_files_restore(&c, MGR_SET_CONFIG, err, sizeof(err)), 0);
	text = get("etc/a");
	assert_string_equal(text, "original\n");
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_null(get("etc/new"));
	/* Nothing but relative paths below the root. */
	assert_int_equal(mgr_file_save(&c, MGR_SET_CONFIG, "../etc/passwd"), -EINVAL);
	assert_int_equal(mgr_file_save(&c, MGR_SET_CONFIG, "/etc/passwd"), -EINVAL);
	/* A symbolic link would come back as a file: refused. */
	snprintf(path, sizeof(path), "%s/etc/link", root);
	assert_int_equal(symlink("a", path), 0);
	assert_int_equal(mgr_file_save(&c, MGR_SET_CONFIG, "etc/link"), -ELOOP);
	/* The driver's name and the persisted flag. */
	assert_int_equal(mgr_save_driver(save, &mgr_networkd), 0);
	assert_ptr_equal(mgr_saved_driver(save), &mgr_networkd);
	assert_false(mgr_persisted(save));
	assert_int_equal(mgr_set_persisted(save, true), 0);
	assert_true(mgr_persisted(save));
	assert_int_equal(rm_rf(save), 0);
	assert_null(mgr_saved_driver(save));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ifupdown_rewrite), cmocka_unit_test(test_ifupdown_refused),
		cmocka_unit_test(test_ifupdown_ifstate), cmocka_unit_test(test_ifupdown_driver),
		cmocka_unit_test(test_networkd_render),	 cmocka_unit_test(test_networkd_hostile),
		cmocka_unit_test(test_networkd_state),	 cmocka_unit_test(test_networkd_detect),
		cmocka_unit_test(test_networkd_driver),	 cmocka_unit_test(test_nm_keyfile),
		cmocka_unit_test(test_nm_render),	 cmocka_unit_test(test_nm_detect),
		cmocka_unit_test(test_nm_driver),	 cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
