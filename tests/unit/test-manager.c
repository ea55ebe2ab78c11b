/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who else manages an interface: the network managers' /run files under a fake root, and the
 * DHCP client command line a hand-over restarts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "manager.h"

/* No DHCP client on this machine names it. */
#define IFNAME "netdut0"
#define IFINDEX 7

static char root[64];

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/netd-unit-manager.XXXXXX");
	return mkdtemp(root) ? 0 : -1;
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

static int detect(char *err, size_t errlen, struct manager *m)
{
	err[0] = 0;
	return manager_detect(root, IFNAME, IFINDEX, m, err, errlen);
}

static void test_none(void **state)
{
	struct manager m = { .kind = MANAGER_DHCP_CLIENT };
	char err[512];

	assert_int_equal(detect(err, sizeof(err), &m), 0);
	assert_int_equal(m.kind, MANAGER_NONE);
	/* Without a root only DHCP client processes count, whatever /run says. */
	assert_int_equal(manager_detect(NULL, IFNAME, IFINDEX, &m, err, sizeof(err)), 0);
	assert_int_equal(m.kind, MANAGER_NONE);
}

static void test_networkd(void **state)
{
	struct manager m = {};
	char err[512];

	put("run/systemd/netif/links/7", "ADMIN_STATE=unmanaged\nOPER_STATE=carrier\n");
	assert_int_equal(detect(err, sizeof(err), &m), 0);
	put("run/systemd/netif/links/7", "ADMIN_STATE=configured\nOPER_STATE=routable\n");
	assert_int_equal(detect(err, sizeof(err), &m), -EBUSY);
	assert_non_null(strstr(err, "systemd-networkd manages '" IFNAME "'"));
	assert_non_null(strstr(err, "Unmanaged=yes"));
	put("run/systemd/netif/links/7", "ADMIN_STATE=unmanaged\n");
}

static void test_networkmanager(void **state)
{
	struct manager m = {};
	char err[512];

	put("run/NetworkManager/devices/8", "");
	assert_int_equal(detect(err, sizeof(err), &m), 0);
	put("run/NetworkManager/devices/7", "");
	assert_int_equal(detect(err, sizeof(err), &m), -EBUSY);
	assert_non_null(strstr(err, "nmcli device set " IFNAME " managed no"));
	assert_int_equal(unlink(strcat(strcpy(err, root), "/run/NetworkManager/devices/7")), 0);
}

static void test_ifupdown(void **state)
{
	struct manager m = {};
	char err[512];

	/* Another interface whose name ends in ours is not ours. */
	put("run/network/ifstate", "lo=lo\nx" IFNAME "=x" IFNAME "\n");
	assert_int_equal(detect(err, sizeof(err), &m), 0);
	put("run/network/ifstate", "lo=lo\n" IFNAME "=" IFNAME "\n");
	assert_int_equal(detect(err, sizeof(err), &m), -EBUSY);
	assert_non_null(strstr(err, "ifupdown configured '" IFNAME "'"));
	put("run/network/ifstate", "lo=lo\n");
}

static void retarget(const char *const *in, size_t n, const char *ip, const char *want)
{
	struct manager m = { .kind = MANAGER_DHCP_CLIENT };
	char out[MANAGER_ARGV_MAX], text[512];
	size_t len;

	for (size_t i = 0; i < n; i++) {
		memcpy(m.argv + m.argv_len, in[i], strlen(in[i]) + 1);
		m.argv_len += strlen(in[i]) + 1;
	}
	assert_int_equal(manager_argv_retarget(&m, "eth0", "br0", ip, out, sizeof(out), &len), 0);
	manager_argv_format(out, len, text, sizeof(text));
	assert_string_equal(text, want);
}

static void test_retarget(void **state)
{
	static const char *const udhcpc[] = { "busybox", "udhcpc", "-f", "-i", "eth0", "-s", "/x/eth0.script" };
	static const char *const udhcpc_r[] = { "udhcpc", "-ieth0", "-r", "10.0.0.9" };
	static const char *const dhclient[] = { "/sbin/dhclient", "-4", "-v", "eth0" };
	static const char *const dhcpcd[] = { "dhcpcd", "--interface=eth0" };

	/* udhcpc asks for the address it holds; a script path merely mentioning eth0 stays. */
	retarget(udhcpc, 7, "10.0.0.9", "busybox udhcpc -f -i br0 -s /x/eth0.script -r 10.0.0.9");
	retarget(udhcpc_r, 4, "10.0.0.9", "udhcpc -ibr0 -r 10.0.0.9");
	/* dhclient's -r would be a release: never added. */
	retarget(dhclient, 4, "10.0.0.9", "/sbin/dhclient -4 -v br0");
	retarget(dhcpcd, 2, NULL, "dhcpcd --interface=br0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),	 cmocka_unit_test(test_networkd), cmocka_unit_test(test_networkmanager),
		cmocka_unit_test(test_ifupdown), cmocka_unit_test(test_retarget),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
