/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "golden.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "guest-config.h"
#include "guest-files.h"
#include "macro.h"
#include "guest.h"
#include "process.h"
#include "qemu-argv.h"
#include "qmp.h"
#include "tap.h"

static struct guest kernel_guest(void)
{
	struct guest g;

	guest_init(&g, "web");
	g.memory_mib = 512;
	snprintf(g.kernel, sizeof(g.kernel), "/boot/vmlinuz");
	snprintf(g.initrd, sizeof(g.initrd), "/var/lib/netd/initrd.img");
	snprintf(g.append, sizeof(g.append), "console=ttyS0 panic=-1");
	g.n_nics = 1;
	snprintf(g.nics[0].network, sizeof(g.nics[0].network), "lab");
	return g;
}

/* As vm.c passes them: NIC fds, then the sockets, the serial log, the guest's files. */
static struct qemu_launch launch(const struct guest *g, bool vhost)
{
	struct qemu_launch l = { .guest = g,
				 .binary = "/usr/bin/qemu-system-x86_64",
				 .uuid = "0b5e2f6a-93c1-4d2e-8f4a-5c6d7e8f9a0b",
				 .caps = { 7, 2, true },
				 .accel = QEMU_ACCEL_TCG,
				 .n_nics = g->n_nics };
	int fd;

	for (size_t i = 0; i < g->n_nics; i++) {
		snprintf(l.nics[i].tap, sizeof(l.nics[i].tap), "vm-%.8s-%u", g->name, (unsigned char)i);
		l.nics[i].mac = (struct mac){ { 0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + i) } };
		l.nics[i].queues = g->queues;
		l.nics[i].vhost = vhost;
	}
	fd = QEMU_FIRST_FD + qemu_fds_layout(l.nics, l.n_nics);
	l.files = QEMU_FILES_NONE;
	l.files.qmp = fd++;
	l.files.console = fd++;
	l.files.serial_log = fd++;
	for (size_t i = 0; i < g->n_disks; i++) {
		l.files.disks[i] = fd++;
		if (!g->disks[i].readonly)
			l.files.disks_ro[i] = fd++;
	}
	if (g->cdrom[0])
		l.files.cdrom = fd++;
	if (g->kernel[0])
		l.files.kernel = fd++;
	if (g->initrd[0])
		l.files.initrd = fd++;
	return l;
}

/* No path of the guest's (nor of netd's run dir) is on QEMU's command line. */
static void assert_no_paths(char **argv, const struct guest *g)
{
	const char *paths[5 + GUEST_DISKS_MAX] = { g->kernel, g->initrd, g->cdrom, "/run/netd", "/var/lib" };

	for (size_t i = 0; i < g->n_disks; i++)
		paths[5 + i] = g->disks[i].path;
	for (size_t i = 1; argv[i]; i++)
		for (size_t k = 0; k < 5 + g->n_disks; k++)
			if (paths[k][0] && strstr(argv[i], paths[k]))
				fail_msg("argument '%s' names %s", argv[i], paths[k]);
}

static void check_argv(const struct qemu_launch *l, const char *golden)
{
	char **argv = NULL, *text;

	assert_int_equal(qemu_argv_render(l, &argv), 0);
	assert_no_paths(argv, l->guest);
	text = qemu_argv_format(argv);
	assert_golden(golden, text);
	free(text);
	strv_free(argv);
}

static void test_argv_single_nic(void **state)
{
	struct guest g = kernel_guest();
	struct qemu_launch l = launch(&g, false);

	check_argv(&l, "qemu-single-nic.argv");
}

static void test_argv_two_nics_vhost(void **state)
{
	struct guest g = kernel_guest();
	struct qemu_launch l;

	g.n_nics = 2;
	snprintf(g.nics[1].network, sizeof(g.nics[1].network), "lan");
	l = launch(&g, true);
	l.accel = QEMU_ACCEL_KVM_TCG;
	assert_int_equal(l.nics[1].first_fd, 5);
	check_argv(&l, "qemu-two-nics-vhost.argv");
}

static void test_argv_multiqueue(void **state)
{
	struct guest g = kernel_guest();
	struct qemu_launch l;

	g.queues = 4;
	g.vcpus = 4;
	l = launch(&g, true);
	l.accel = QEMU_ACCEL_KVM;
	check_argv(&l, "qemu-multiqueue-vhost.argv");
	l = launch(&g, false);
	check_argv(&l, "qemu-multiqueue.argv");
}

static void test_argv_disk(void **state)
{
	struct guest g = kernel_guest();
	struct qemu_launch l;
	char err[256];

	g.kernel[0] = g.initrd[0] = g.append[0] = 0;
	g.n_disks = 1;
	assert_int_equal(guest_disk_parse(&g.disks[0],
					  "/var/lib/images/web.qcow2,format=qcow2,cache=writeback", err,
					  sizeof(err)),
			 0);
	snprintf(g.cdrom, sizeof(g.cdrom), "/srv/iso/debian.iso");
	snprintf(g.vnc, sizeof(g.vnc), "127.0.0.1:3");
	l = launch(&g, false);
	l.paused = true; /* an operator's qcow2: -S until netd saw what QEMU opened */
	check_argv(&l, "qemu-disk-vnc.argv");
	g.cdrom[0] = 0;
	l = launch(&g, false);
	l.caps = (struct qemu_caps){ 10, 0, false };
	g.disks[0].format = DISK_FORMAT_RAW;
	g.disks[0].cache = DISK_CACHE_NONE;
	snprintf(g.vnc, sizeof(g.vnc), "0.0.0.0:5");
	check_argv(&l, "qemu-disk-raw-vnc-password.argv");
}

/* disks from --disk specs, as the request gives them */
static void add_disks(struct guest *g, const char *const *specs)
{
	char err[256];

	for (g->n_disks = 0; specs[g->n_disks]; g->n_disks++)
		assert_int_equal(guest_disk_parse(&g->disks[g->n_disks], specs[g->n_disks], err, sizeof(err)),
				 0);
	assert_int_equal(guest_validate(g, err, sizeof(err)), 0);
}

/* Several disks on every bus, readonly ones, qcow2: -blockdev nodes and their devices. */
static void test_argv_disks(void **state)
{
	static const char *const specs[] = { "/var/lib/images/root.qcow2,format=qcow2",
					     "/var/lib/images/data.raw,bus=scsi,cache=writeback",
					     "/var/lib/images/logs.raw,bus=sata,cache=writethrough",
					     "/var/lib/images/ro.qcow2,format=qcow2,readonly,bus=scsi",
					     "/var/lib/images/sync.raw,cache=directsync,readonly",
					     "/var/lib/images/scratch.raw,cache=unsafe",
					     NULL };
	struct guest g = kernel_guest();
	struct qemu_launch l;

	g.kernel[0] = g.initrd[0] = g.append[0] = 0;
	add_disks(&g, specs);
	l = launch(&g, false);
	check_argv(&l, "qemu-disks-buses.argv");
}

/* An overlay of the pool: top.qcow2 -> mid.qcow2 -> base.raw from netd's record, each layer its
 * own fd set and nodes, linked by backing=, the qcow2 bottom with "backing": null; and disk 1 a
 * qcow2 on a qcow2 base. */
static void test_argv_overlay(void **state)
{
	static const char *const specs[] = { "/var/lib/netd/images/top.qcow2,format=qcow2",
					     "/var/lib/netd/images/o.qcow2,format=qcow2,bus=scsi,readonly",
					     NULL };
	struct guest g = kernel_guest();
	struct qemu_launch l;
	int fd = 60;

	add_disks(&g, specs);
	l = launch(&g, false);
	l.files.n_layers[0] = 2;
	l.files.layers[0][0] = fd++;
	l.files.layer_formats[0][0] = DISK_FORMAT_QCOW2;
	l.files.layers[0][1] = fd++;
	l.files.layer_formats[0][1] = DISK_FORMAT_RAW;
	l.files.n_layers[1] = 1;
	l.files.layers[1][0] = fd++;
	l.files.layer_formats[1][0] = DISK_FORMAT_QCOW2;
	check_argv(&l, "qemu-disk-overlay.argv");
}

/* The cdrom next to disks: first until the first reboot (auto), or an explicit order. */
static void test_argv_cdrom_disk_boot(void **state)
{
	static const char *const specs[] = { "/var/lib/images/root.qcow2,format=qcow2",
					     "/var/lib/images/b.raw,bus=sata", NULL };
	struct guest g = kernel_guest();
	struct qemu_boot_order order;
	struct qemu_launch l;

	g.kernel[0] = g.initrd[0] = g.append[0] = 0;
	snprintf(g.cdrom, sizeof(g.cdrom), "/var/lib/images/debian.iso");
	add_disks(&g, specs);
	qemu_boot_order(&g, false, &order);
	assert_int_equal(order.cdrom, 0);
	assert_int_equal(order.disks[0], 1);
	assert_int_equal(order.disks[1], 2);
	assert_true(order.cdrom_once);
	l = launch(&g, false);
	check_argv(&l, "qemu-cdrom-disks-auto.argv");
	g.boot = GUEST_BOOT_DISK_CDROM;
	qemu_boot_order(&g, false, &order);
	assert_int_equal(order.cdrom, 2);
	assert_int_equal(order.disks[0], 0);
	assert_false(order.cdrom_once);
	l = launch(&g, false);
	check_argv(&l, "qemu-cdrom-disks-disk-first.argv");
	g.boot = GUEST_BOOT_CDROM_DISK;
	qemu_boot_order(&g, false, &order);
	assert_int_equal(order.cdrom, 0);
	assert_false(order.cdrom_once);
}

/* A root filesystem image without a bootloader: -kernel boots, the disks get no bootindex. */
static void test_argv_kernel_disk(void **state)
{
	static const char *const specs[] = { "/var/lib/images/rootfs.raw",
					     "/var/lib/images/data.raw,readonly", NULL };
	struct guest g = kernel_guest();
	struct qemu_boot_order order;
	struct qemu_launch l;

	snprintf(g.append, sizeof(g.append), "console=ttyS0 root=/dev/vda");
	add_disks(&g, specs);
	qemu_boot_order(&g, true, &order);
	assert_int_equal(order.disks[0], -1);
	assert_false(order.cdrom_once);
	l = launch(&g, false);
	check_argv(&l, "qemu-kernel-disk.argv");
}

/* A cloud-init seed: read-only by fd, a virtio disk of its own on pcie.0 (node "cidata"), no
 * bootindex; beside a cdrom and a disk. */
static void test_argv_cloud_init_seed(void **state)
{
	static const char *const specs[] = { "/var/lib/images/web.qcow2,format=qcow2", NULL };
	struct guest g = kernel_guest();
	struct qemu_launch l;

	g.kernel[0] = g.initrd[0] = g.append[0] = 0;
	snprintf(g.cdrom, sizeof(g.cdrom), "/srv/iso/debian.iso");
	add_disks(&g, specs);
	g.cloud_init = true;
	l = launch(&g, false);
	l.files.seed = 40;
	check_argv(&l, "qemu-cloud-init-seed.argv");
}

/* --max-vcpus: -smp cpus=N,maxcpus=M; --max-memory: -m is the maximum, and a balloon. */
static void test_argv_live(void **state)
{
	struct guest g = kernel_guest();
	struct qemu_launch l;
	char err[256];

	g.vcpus = 2;
	g.max_vcpus = 8;
	g.memory_mib = 1024;
	g.max_memory_mib = 2048;
	assert_int_equal(guest_validate(&g, err, sizeof(err)), 0);
	l = launch(&g, false);
	check_argv(&l, "qemu-live.argv");
	/* max-vcpus equal to vcpus: no free slot, the plain -smp N of a guest without it */
	g.max_vcpus = 2;
	g.max_memory_mib = 0;
	l = launch(&g, false);
	check_argv(&l, "qemu-live-none.argv");
}

static void test_vnc_parse(void **state)
{
	static const struct {
		const char *vnc, *host;
		unsigned port;
		bool local;
	} cases[] = {
		{ "0", "127.0.0.1", 5900, true },
		{ ":1", "127.0.0.1", 5901, true },
		{ "127.0.0.1:3", "127.0.0.1", 5903, true },
		{ "127.1.2.3:0", "127.1.2.3", 5900, true },
		{ "[::1]:2", "[::1]", 5902, true },
		{ "localhost:0", "localhost", 5900, true },
		{ "0.0.0.0:1", "0.0.0.0", 5901, false },
		{ "[::]:0", "[::]", 5900, false },
		{ "192.168.1.5:99", "192.168.1.5", 5999, false },
		{ "myhost:4", "myhost", 5904, false },
	};
	struct qemu_vnc v;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		assert_int_equal(qemu_vnc_parse(cases[i].vnc, &v), 0);
		assert_string_equal(v.host, cases[i].host);
		assert_int_equal(v.port, cases[i].port);
		assert_int_equal(v.local, cases[i].local);
	}
	assert_int_equal(qemu_vnc_parse("100", &v), -EINVAL);
	assert_int_equal(qemu_vnc_parse("x:", &v), -EINVAL);
	assert_int_equal(qemu_vnc_parse("1.2.3.4:-1", &v), -EINVAL);
}

static void test_file_check(void **state)
{
	static const char *const dirs[] = { "/var/lib/netd/images", "/srv/vm" };
	struct guest_file_rules user = { dirs, ELEMENTSOF(dirs), false },
				root = { dirs, ELEMENTSOF(dirs), true };
	static const struct {
		enum guest_file_kind k;
		mode_t mode;
		const char *path;
		enum guest_file_verdict user, root;
	} cases[] = {
		{ GUEST_FILE_DISK, S_IFREG, "/var/lib/netd/images/a.qcow2", GUEST_FILE_OK, GUEST_FILE_OK },
		{ GUEST_FILE_CDROM, S_IFREG, "/srv/vm/sub/x.iso", GUEST_FILE_OK, GUEST_FILE_OK },
		{ GUEST_FILE_KERNEL, S_IFREG, "/boot/vmlinuz", GUEST_FILE_OUTSIDE, GUEST_FILE_OK },
		{ GUEST_FILE_DISK, S_IFREG, "/var/lib/netd/images-evil/a", GUEST_FILE_OUTSIDE,
		  GUEST_FILE_OK },
		{ GUEST_FILE_DISK, S_IFREG, "/srv/vm", GUEST_FILE_OUTSIDE, GUEST_FILE_OK },
		{ GUEST_FILE_DISK, S_IFBLK, "/var/lib/netd/images/sda", GUEST_FILE_BLOCK_DEVICE,
		  GUEST_FILE_OK },
		{ GUEST_FILE_DISK, S_IFBLK, "/dev/sda", GUEST_FILE_BLOCK_DEVICE, GUEST_FILE_OK },
		{ GUEST_FILE_KERNEL, S_IFBLK, "/dev/sda", GUEST_FILE_NOT_REGULAR, GUEST_FILE_NOT_REGULAR },
		{ GUEST_FILE_DISK, S_IFCHR, "/var/lib/netd/images/mem", GUEST_FILE_NOT_REGULAR,
		  GUEST_FILE_NOT_REGULAR },
		{ GUEST_FILE_INITRD, S_IFDIR, "/srv/vm/d", GUEST_FILE_NOT_REGULAR, GUEST_FILE_NOT_REGULAR },
		{ GUEST_FILE_CDROM, S_IFIFO, "/srv/vm/f", GUEST_FILE_NOT_REGULAR, GUEST_FILE_NOT_REGULAR },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		assert_int_equal(guest_file_check(cases[i].k, cases[i].mode, cases[i].path, &user),
				 cases[i].user);
		assert_int_equal(guest_file_check(cases[i].k, cases[i].mode, cases[i].path, &root),
				 cases[i].root);
	}
	user = (struct guest_file_rules){ (const char *const[]){ "/" }, 1, false };
	assert_int_equal(guest_file_check(GUEST_FILE_DISK, S_IFREG, "/any/where", &user), GUEST_FILE_OK);
}

static void test_qcow2_refers(void **state)
{
	uint8_t h[104] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };

	assert_false(guest_qcow2_refers_to_files(h, sizeof(h)));
	h[15] = 0x70; /* backing_file_offset */
	assert_true(guest_qcow2_refers_to_files(h, sizeof(h)));
	assert_false(guest_qcow2_refers_to_files(h, 8));
	h[15] = 0;
	h[79] = 1 << 2; /* incompatible feature: external data file */
	assert_true(guest_qcow2_refers_to_files(h, sizeof(h)));
	h[7] = 2; /* version 2 has no feature bits */
	assert_false(guest_qcow2_refers_to_files(h, sizeof(h)));
	h[0] = 'X';
	h[15] = 0x70;
	assert_false(guest_qcow2_refers_to_files(h, sizeof(h)));
}

static void test_cred_may_access(void **state)
{
	struct process_cred c = { .uid = 1001, .gid = 1001, .groups = { 107 }, .n_groups = 1 };
	struct process_cred root = {};

	assert_true(process_cred_may_access(&c, 0660, 0, 107, R_OK | W_OK)); /* /dev/kvm root:kvm */
	assert_false(process_cred_may_access(&c, 0600, 0, 107, R_OK));
	assert_true(process_cred_may_access(&c, 0400, 1001, 0, R_OK));
	assert_false(process_cred_may_access(&c, 0400, 1001, 0, R_OK | W_OK));
	assert_false(process_cred_may_access(&c, 0066, 1001, 0, R_OK)); /* the owner's bits decide */
	assert_true(process_cred_may_access(&c, 0604, 0, 0, R_OK));
	assert_true(process_cred_may_access(&root, 0, 5, 5, R_OK | W_OK));
}

/* A scratch dir: images/ (the image dir) with a file, a root-only file, a symlink out; out/. */
static char scratch[64];

static void scratch_make(void)
{
	char p[128];

	snprintf(scratch, sizeof(scratch), "/tmp/netd-test-vmm.XXXXXX");
	assert_non_null(mkdtemp(scratch));
	assert_int_equal(chmod(scratch, 0755), 0);
	snprintf(p, sizeof(p), "%s/images", scratch);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/out", scratch);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/images/disk.img", scratch);
	assert_int_equal(write_file_atomic(p, "disk", 4, 0666), 0);
	assert_int_equal(chmod(p, 0666), 0); /* past the umask */
	snprintf(p, sizeof(p), "%s/images/secret", scratch);
	assert_int_equal(write_file_atomic(p, "secret", 6, 0600), 0);
	snprintf(p, sizeof(p), "%s/out/k", scratch);
	assert_int_equal(write_file_atomic(p, "kernel", 6, 0644), 0);
	snprintf(p, sizeof(p), "%s/images/link", scratch);
	assert_int_equal(symlink("../out/k", p), 0);
}

static int try_open(const struct process_cred *c, enum guest_file_kind k, const char *name, bool privileged,
		    char *err)
{
	char images[128], path[128], canonical[4096];
	const char *dirs[] = { canonical };
	struct guest_file_rules rules = { dirs, 1, privileged };
	int fd = -1, r;

	snprintf(images, sizeof(images), "%s/images", scratch);
	assert_non_null(realpath(images, canonical));
	snprintf(path, sizeof(path), "%s/%s", scratch, name);
	r = guest_file_open(c, k, path, &rules, &fd, err, 512);
	if (r >= 0) {
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, k == GUEST_FILE_DISK ? O_RDWR : O_RDONLY);
		close(fd);
	}
	return r;
}

static void test_file_open(void **state)
{
	struct process_cred me = { .uid = geteuid(), .gid = getegid() },
			    nobody = { .uid = 65534, .gid = 65534 };
	char err[512] = "";

	scratch_make();
	assert_int_equal(try_open(&me, GUEST_FILE_DISK, "images/disk.img", false, err), 0);
	assert_int_equal(try_open(&me, GUEST_FILE_KERNEL, "out/k", false, err), -EPERM);
	assert_non_null(strstr(err, "/out/k is outside the image directories ("));
	assert_non_null(strstr(err, "); only root may use other paths"));
	assert_int_equal(try_open(&me, GUEST_FILE_KERNEL, "images/link", false, err), -EPERM);
	assert_non_null(strstr(err, "/images/link (really "));
	assert_int_equal(try_open(&me, GUEST_FILE_KERNEL, "out/k", true, err), 0);
	assert_int_equal(try_open(&me, GUEST_FILE_CDROM, "images/none", false, err), -ENOENT);
	assert_non_null(strstr(err, "/images/none: No such file or directory"));
	assert_int_equal(try_open(&me, GUEST_FILE_INITRD, "images", true, err), -EINVAL);
	assert_non_null(strstr(err, "/images is not a regular file"));
	assert_int_equal(guest_file_open(&me, GUEST_FILE_DISK, "rel/path", &(struct guest_file_rules){},
					 &(int){ -1 }, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "rel/path: the path must be absolute");
	if (geteuid() == 0) {
		/* Another user, through the forked child: its own rights, the same rules. */
		assert_int_equal(try_open(&nobody, GUEST_FILE_DISK, "images/disk.img", false, err), 0);
		assert_int_equal(try_open(&nobody, GUEST_FILE_CDROM, "images/secret", false, err), -EACCES);
		assert_non_null(strstr(err,
				       "/images/secret: permission denied for uid 65534 (the file must be "
				       "readable by the user who starts the guest)"));
		assert_int_equal(try_open(&nobody, GUEST_FILE_DISK, "images/secret", true, err), -EACCES);
		assert_non_null(strstr(err, "readable and writable"));
		assert_int_equal(try_open(&nobody, GUEST_FILE_KERNEL, "out/k", false, err), -EPERM);
		assert_non_null(strstr(err, "outside the image directories"));
	}
	rm_rf(scratch);
}

static void test_file_memfd(void **state)
{
	char path[] = "/tmp/netd-test-memfd.XXXXXX", buf[16] = "";
	int fd = mkstemp(path), mfd = -1, ro = -1;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "vmlinuz!", 8), 8);
	assert_int_equal(guest_file_memfd(fd, "netd-kernel", &mfd, &ro), 0);
	assert_int_equal(pread(ro, buf, sizeof(buf), 0), 8);
	assert_string_equal(buf, "vmlinuz!");
	assert_int_equal(fcntl(ro, F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_true(fcntl(mfd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(pwrite(mfd, "x", 1, 0), -1); /* sealed: nobody writes */
	assert_int_equal(ftruncate(mfd, 100), -1); /* nor grows it */
	assert_int_equal(ftruncate(mfd, 0), 0); /* the owner may empty it */
	assert_int_equal(pread(ro, buf, sizeof(buf), 0), 0);
	close(mfd);
	close(ro);
	close(fd);
	unlink(path);
}

static void test_disk_parse_bad(void **state)
{
	static const struct {
		const char *spec, *error;
	} bad[] = {
		{ "/a,format=vmdk",
		  "invalid disk option 'format=vmdk' in --disk /a: expected format=raw|qcow2, "
		  "cache=none|writeback|writethrough|directsync|unsafe, bus=virtio|scsi|sata or "
		  "readonly" },
		{ "/a,cache=fast",
		  "invalid disk option 'cache=fast' in --disk /a: expected format=raw|qcow2, "
		  "cache=none|writeback|writethrough|directsync|unsafe, bus=virtio|scsi|sata or "
		  "readonly" },
		{ "/a,bus=ide",
		  "invalid disk option 'bus=ide' in --disk /a: expected format=raw|qcow2, "
		  "cache=none|writeback|writethrough|directsync|unsafe, bus=virtio|scsi|sata or "
		  "readonly" },
		{ "/a,readonly=maybe",
		  "invalid disk option 'readonly=maybe' in --disk /a: expected "
		  "format=raw|qcow2, cache=none|writeback|writethrough|directsync|unsafe, "
		  "bus=virtio|scsi|sata or readonly" },
		{ ",", "invalid --disk ',': expected PATH or NAME[,format=raw|qcow2][,cache=MODE]"
		       "[,bus=virtio|scsi|sata][,readonly]" },
		{ ",format=raw", "invalid --disk ',format=raw': expected PATH or NAME[,format=raw|qcow2]"
				 "[,cache=MODE][,bus=virtio|scsi|sata][,readonly]" },
	};
	struct guest_disk d;
	char err[512];

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		assert_int_equal(guest_disk_parse(&d, bad[i].spec, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].error);
	}
	assert_int_equal(guest_disk_parse(&d, "web.qcow2,format=qcow2,readonly,bus=sata,cache=unsafe", err,
					  sizeof(err)),
			 0);
	assert_string_equal(d.path, "web.qcow2");
	assert_true(d.readonly && d.format_given);
	assert_int_equal(d.format, DISK_FORMAT_QCOW2);
	assert_int_equal(d.bus, DISK_BUS_SATA);
	assert_int_equal(d.cache, DISK_CACHE_UNSAFE);
	assert_int_equal(guest_disk_parse(&d, "/x", err, sizeof(err)), 0);
	assert_false(d.readonly || d.format_given);
	assert_int_equal(d.bus, DISK_BUS_VIRTIO);
}

static int counter_bytes(uint8_t *buf, size_t n)
{
	static uint8_t seq[] = { 0x12, 0x34, 0x56, 0x12, 0x34, 0x56, 0xab, 0xcd, 0xef };
	static size_t pos;

	for (size_t i = 0; i < n; i++)
		buf[i] = seq[pos++ % sizeof(seq)];
	return 0;
}

static int real_bytes(uint8_t *buf, size_t n)
{
	return getentropy(buf, n) < 0 ? -errno : 0;
}

static void test_mac_generate(void **state)
{
	struct mac taken[200], m;
	const char *why;
	char s[MAC_STRLEN];

	/* The second draw repeats the first: the generator must skip it. */
	assert_int_equal(guest_mac_generate(NULL, 0, counter_bytes, &m), 0);
	assert_string_equal(mac_format(&m, s, sizeof(s)), "52:54:00:12:34:56");
	taken[0] = m;
	assert_int_equal(guest_mac_generate(taken, 1, counter_bytes, &m), 0);
	assert_string_equal(mac_format(&m, s, sizeof(s)), "52:54:00:ab:cd:ef");
	for (size_t i = 1; i < ELEMENTSOF(taken); i++) {
		assert_int_equal(guest_mac_generate(taken, i, real_bytes, &taken[i]), 0);
		assert_true(guest_mac_valid(&taken[i], &why));
		assert_int_equal(taken[i].b[0], 0x52);
		for (size_t j = 0; j < i; j++)
			assert_false(mac_equal(&taken[i], &taken[j]));
	}
	guest_mac_host_side(&taken[0], &m);
	assert_string_equal(mac_format(&m, s, sizeof(s)), "fe:54:00:12:34:56");
}

static bool known_network(const char *name, void *userdata)
{
	return !strcmp(name, "lab") || !strcmp(name, "lan");
}

struct bad_guest {
	const char *what;
	void (*change)(struct guest *g);
	const char *error;
};

static void bad_memory_low(struct guest *g) { g->memory_mib = 16; }
static void bad_memory_high(struct guest *g) { g->memory_mib = 4ull * 1024 * 1024; }
static void bad_vcpus(struct guest *g) { g->vcpus = 0; }
static void bad_vcpus_high(struct guest *g) { g->vcpus = 1000; }
static void bad_queues(struct guest *g) { g->queues = 9; }
static void disk_at(struct guest *g, size_t i, const char *path, enum disk_bus bus)
{
	guest_disk_init(&g->disks[i]);
	snprintf(g->disks[i].path, sizeof(g->disks[i].path), "%s", path);
	g->disks[i].bus = bus;
	if (g->n_disks <= i)
		g->n_disks = i + 1;
}
static void bad_dup_disk(struct guest *g)
{
	disk_at(g, 0, "/x.img", DISK_BUS_VIRTIO);
	disk_at(g, 1, "/x.img", DISK_BUS_SCSI);
}
static void bad_disk_is_cdrom(struct guest *g)
{
	disk_at(g, 0, "/x.iso", DISK_BUS_VIRTIO);
	snprintf(g->cdrom, sizeof(g->cdrom), "/x.iso");
}
static void bad_disk_no_path(struct guest *g)
{
	disk_at(g, 1, "/y.img", DISK_BUS_VIRTIO);
}
static void bad_sata_ports(struct guest *g)
{
	char p[32];

	snprintf(g->cdrom, sizeof(g->cdrom), "/c.iso");
	for (size_t i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "/d%zu.img", i);
		disk_at(g, i, p, DISK_BUS_SATA);
	}
}
static void bad_disk_newline(struct guest *g)
{
	disk_at(g, 0, "/x\n[nic3]", DISK_BUS_VIRTIO);
	g->disks[0].path[2] = '\n';
}
static void bad_sata_readonly(struct guest *g)
{
	disk_at(g, 0, "/x.img", DISK_BUS_SATA);
	g->disks[0].readonly = true;
}
static void bad_boot_no_cdrom(struct guest *g)
{
	g->kernel[0] = 0;
	g->initrd[0] = 0;
	g->append[0] = 0;
	disk_at(g, 0, "/x.img", DISK_BUS_VIRTIO);
	g->boot = GUEST_BOOT_CDROM_DISK;
}
static void bad_boot_kernel(struct guest *g)
{
	disk_at(g, 0, "/x.img", DISK_BUS_VIRTIO);
	snprintf(g->cdrom, sizeof(g->cdrom), "/c.iso");
	g->boot = GUEST_BOOT_DISK_CDROM;
}
static void bad_no_boot(struct guest *g) { g->kernel[0] = 0; g->initrd[0] = 0; g->append[0] = 0; }
static void bad_no_nic(struct guest *g) { g->n_nics = 0; }
static void bad_mac_multicast(struct guest *g) { g->nics[0].has_mac = true; mac_parse("01:00:5e:00:00:01", &g->nics[0].mac); }
static void bad_mac_zero(struct guest *g) { g->nics[0].has_mac = true; g->nics[0].mac = (struct mac){}; }
static void bad_name(struct guest *g) { snprintf(g->name, sizeof(g->name), "-bad"); }
static void bad_network(struct guest *g) { snprintf(g->nics[0].network, sizeof(g->nics[0].network), "nope"); }
static void bad_dup_mac(struct guest *g) { g->nics[0].has_mac = true; mac_parse("52:54:00:00:00:01", &g->nics[0].mac); }
static void bad_dup_mac_self(struct guest *g)
{
	g->n_nics = 2;
	snprintf(g->nics[1].network, sizeof(g->nics[1].network), "lan");
	g->nics[0].has_mac = g->nics[1].has_mac = true;
	mac_parse("52:54:00:00:00:09", &g->nics[0].mac);
	g->nics[1].mac = g->nics[0].mac;
}
/* Issue 12, attack 10: a value that becomes a [nic1] of its own in the definition file. */
static void bad_kernel_newline(struct guest *g)
{
	snprintf(g->kernel, sizeof(g->kernel), "/boot/k\n[nic1]\nnetwork = b\n[guest]");
}
static void bad_kernel_comment(struct guest *g) { snprintf(g->kernel, sizeof(g->kernel), ";x"); }
static void bad_append_comment(struct guest *g) { snprintf(g->append, sizeof(g->append), "console=ttyS0 ;x"); }
static void bad_append_space(struct guest *g) { snprintf(g->append, sizeof(g->append), "quiet "); }
static void bad_initrd_tab(struct guest *g) { snprintf(g->initrd, sizeof(g->initrd), "/boot/i\tx"); }
static void bad_cdrom_space(struct guest *g) { snprintf(g->cdrom, sizeof(g->cdrom), " /x.iso"); }

static void bad_max_vcpus(struct guest *g)
{
	g->vcpus = 4;
	g->max_vcpus = 2;
}
static void bad_max_vcpus_high(struct guest *g)
{
	g->max_vcpus = 65;
}
static void bad_max_memory(struct guest *g)
{
	g->memory_mib = 1024;
	g->max_memory_mib = 512;
}
static void bad_max_memory_high(struct guest *g)
{
	g->max_memory_mib = 2048 * 1024;
}
static void bad_balloon_floor(struct guest *g)
{
	g->memory_mib = 64;
	g->max_memory_mib = 1024;
}

static void test_validation_table(void **state)
{
	static const struct bad_guest cases[] = {
		{ "memory too low", bad_memory_low, "memory 16M is out of range" },
		{ "memory too high", bad_memory_high, "is out of range (64M..1024G)" },
		{ "no vcpus", bad_vcpus, "vcpus 0 is out of range" },
		{ "too many vcpus", bad_vcpus_high, "vcpus 1000 is out of range" },
		{ "queues", bad_queues, "queues 9 is out of range (1..8)" },
		{ "no boot source", bad_no_boot,
		  "needs a boot source: --kernel PATH, --disk PATH or --cdrom ISO" },
		{ "a disk twice", bad_dup_disk, "disk /x.img is given twice (disks 0 and 1)" },
		{ "a disk that is the cdrom", bad_disk_is_cdrom, "/x.iso is both a disk and the cdrom" },
		{ "a disk without path", bad_disk_no_path, "disk 0 has no path" },
		{ "too many sata disks", bad_sata_ports,
		  "at most 5 SATA drives (the machine's AHCI has 6 ports, the cdrom takes one)" },
		{ "disk with a newline", bad_disk_newline,
		  "invalid --disk '/x\\n[nic3]': contains a control character (a definition file holds one value per "
		  "line)" },
		{ "readonly sata disk", bad_sata_readonly,
		  "disk /x.img: a SATA disk cannot be readonly (QEMU's ide-hd refuses it); use bus=virtio or bus=scsi" },
		{ "boot order without cdrom", bad_boot_no_cdrom,
		  "--boot cdrom,disk needs both --cdrom and --disk" },
		{ "boot order with kernel", bad_boot_kernel,
		  "--boot does not go with --kernel (QEMU boots the kernel)" },
		{ "max-vcpus below vcpus", bad_max_vcpus, "max-vcpus 2 is below vcpus 4" },
		{ "max-vcpus too high", bad_max_vcpus_high, "max-vcpus 65 is out of range (1..64)" },
		{ "max-memory below memory", bad_max_memory, "max-memory 512M is below memory 1024M" },
		{ "max-memory too high", bad_max_memory_high,
		  "max-memory 2097152M is out of range (..1024G)" },
		{ "memory below the balloon's floor", bad_balloon_floor,
		  "memory 64M is below the balloon's floor of 128M (an eighth of --max-memory, at least 64M" },
		{ "no nic", bad_no_nic, "has no network" },
		{ "multicast mac", bad_mac_multicast, "a multicast address" },
		{ "zero mac", bad_mac_zero, "the all-zero address" },
		{ "bad name", bad_name, "invalid guest name '-bad'" },
		{ "unknown network", bad_network, "unknown network 'nope'" },
		{ "duplicate mac on a network", bad_dup_mac,
		  "MAC 52:54:00:00:00:01 is already used on network 'lab' by guest 'db'" },
		{ "duplicate mac in a guest", bad_dup_mac_self, "MAC 52:54:00:00:00:09 is given twice" },
		{ "kernel with a newline", bad_kernel_newline,
		  "invalid --kernel '/boot/k\\n[nic1]\\nnetwork = b\\n[guest]': contains a control character (a "
		  "definition file holds one value per line)" },
		{ "kernel with a comment", bad_kernel_comment,
		  "invalid --kernel ';x': has a ';' at its start or after a space, which starts a comment in the "
		  "definition file" },
		{ "append with a comment", bad_append_comment,
		  "invalid --append 'console=ttyS0 ;x': has a ';'" },
		{ "append with a space at its end", bad_append_space,
		  "invalid --append 'quiet ': starts or ends with a space, which the definition file would drop" },
		{ "initrd with a tab", bad_initrd_tab,
		  "invalid --initrd '/boot/i\\x09x': contains a control character" },
		{ "cdrom with a space first", bad_cdrom_space,
		  "invalid --cdrom ' /x.iso': starts or ends with a space" },
	};
	struct guest other;
	const struct guest *others[] = { &other };
	struct guest_context ctx = { known_network, NULL, others, 1 };

	guest_init(&other, "db");
	other.n_nics = 1;
	snprintf(other.nics[0].network, sizeof(other.nics[0].network), "lab");
	mac_parse("52:54:00:00:00:01", &other.nics[0].mac);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct guest g = kernel_guest();
		char err[512] = "";
		int r;

		snprintf(g.kernel, sizeof(g.kernel), "/proc/self/status"); /* a readable file */
		g.initrd[0] = 0;
		cases[i].change(&g);
		r = guest_validate(&g, err, sizeof(err));
		if (r >= 0)
			r = guest_check_conflicts(&g, &ctx, err, sizeof(err));
		if (r >= 0 || !strstr(err, cases[i].error))
			fail_msg("case '%s': r=%d err='%s', expected '%s'", cases[i].what, r, err, cases[i].error);
	}
}

static void test_config_roundtrip(void **state)
{
	struct guest g = kernel_guest(), back;
	char *text, *again, err[256];

	g.n_nics = 2;
	snprintf(g.nics[1].network, sizeof(g.nics[1].network), "lan");
	g.nics[1].has_mac = true;
	mac_parse("52:54:00:aa:bb:cc", &g.nics[1].mac);
	g.queues = 2;
	g.accel = GUEST_ACCEL_TCG;
	g.autostart = false;
	g.has_owner = true;
	g.owner = 1001;
	text = guest_config_render(&g);
	assert_golden("guest-web.conf", text);
	assert_int_equal(guest_config_parse("web", text, &back, err, sizeof(err)), 0);
	again = guest_config_render(&back);
	assert_string_equal(text, again);
	free(text);
	free(again);
	assert_int_equal(guest_config_parse("web", "[guest]\nmemory = lots\n", &back, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 2: invalid memory 'lots': expected a size like 512M or 2G");
	assert_int_equal(guest_config_parse("web", "[guest]\ncolour = red\n", &back, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 2: unknown key 'colour' in section [guest]");
	assert_int_equal(guest_config_parse("web", "[nic1]\nmac = 52:54:00:00:00:01\n", &back, err, sizeof(err)),
			 -EINVAL);
}

/* max-vcpus and max-memory are written when set, read back, and refused when bad. */
static void test_config_live(void **state)
{
	struct guest g = kernel_guest(), back;
	char *text, err[256];

	g.vcpus = 2;
	g.max_vcpus = 4;
	g.max_memory_mib = 1024;
	text = guest_config_render(&g);
	assert_golden("guest-live.conf", text);
	assert_int_equal(guest_config_parse("web", text, &back, err, sizeof(err)), 0);
	assert_int_equal(back.max_vcpus, 4);
	assert_int_equal(back.max_memory_mib, 1024);
	free(text);
	assert_int_equal(guest_config_parse("web", "[guest]\nmax-vcpus = 0\n", &back, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "line 2: max-vcpus is out of range (1-64)");
	assert_int_equal(guest_config_parse("web", "[guest]\nmax-memory = 0\n", &back, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "line 2: invalid max-memory '0': expected a size like 1G or 2048M");
	assert_int_equal(guest_config_parse("web", "[guest]\nmax-memory = lots\n", &back, err, sizeof(err)),
			 -EINVAL);
	g.memory_mib = 512;
	assert_int_equal(guest_balloon_check(&g, 1024, err, sizeof(err)), 0);
	assert_int_equal(guest_balloon_check(&g, 128, err, sizeof(err)), 0);
	assert_int_equal(guest_balloon_check(&g, 127, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err, "memory 127M is below the balloon's floor of 128M (an eighth of --max-memory, at least "
		     "64M: a guest left less cannot run its kernel)");
	assert_int_equal(guest_balloon_check(&g, 1025, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err, "memory 1025M is above the guest's maximum of 1024M (--max-memory: the memory QEMU "
		     "gave it at start)");
	g.max_memory_mib = 0;
	assert_int_equal(guest_balloon_check(&g, 256, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err, "guest 'web' has no balloon (it was made without --max-memory): its memory changes "
		     "with --config and a restart");
	assert_int_equal(guest_balloon_floor_mib(&(struct guest){ .memory_mib = 256, .max_memory_mib = 256 }),
			 64);
	assert_int_equal(
		guest_balloon_floor_mib(&(struct guest){ .memory_mib = 1024, .max_memory_mib = 8192 }), 1024);
}

/* A dump's identity (uuid, generated-mac): rendered when set, read back the same, checked. */
static void test_config_identity(void **state)
{
	struct guest g = kernel_guest(), back;
	char *text, *again, err[256];
	static const char *const bad_uuid[] = { "",
						"nope",
						"0123456789abcdef0123456789abcdef0123",
						"0123456-89ab-cdef-0123-456789abcdef",
						"0123456789-ab-cdef-0123-456789abcdef",
						"01234567-89AB-cdef-0123-456789abcdef",
						"01234567-89ab-cdef-0123-456789abcdef0" };

	assert_false(guest_has_identity(&g));
	text = guest_config_render(&g);
	assert_null(strstr(text, "uuid"));
	assert_null(strstr(text, "generated-mac"));
	free(text);
	snprintf(g.uuid, sizeof(g.uuid), "01234567-89ab-4def-8123-456789abcdef");
	g.nics[0].has_generated_mac = true;
	mac_parse("52:54:00:12:34:56", &g.nics[0].generated_mac);
	assert_true(guest_has_identity(&g));
	text = guest_config_render(&g);
	assert_non_null(strstr(text, "\nuuid = 01234567-89ab-4def-8123-456789abcdef\n"));
	assert_non_null(strstr(text, "\ngenerated-mac = 52:54:00:12:34:56\n"));
	assert_int_equal(guest_config_parse("web", text, &back, err, sizeof(err)), 0);
	assert_true(guest_has_identity(&back));
	assert_int_equal(guest_validate(&back, err, sizeof(err)), 0);
	again = guest_config_render(&back);
	assert_string_equal(text, again);
	free(text);
	free(again);
	for (size_t i = 0; i < ELEMENTSOF(bad_uuid); i++)
		assert_false(guest_uuid_valid(bad_uuid[i]));
	assert_true(guest_uuid_valid("01234567-89ab-cdef-0123-456789abcdef"));
	assert_int_equal(guest_config_parse("web", "[guest]\nuuid = X\n", &back, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 2: invalid uuid 'X': expected 8-4-4-4-12 lowercase hex digits");
	assert_int_equal(guest_config_parse("web", "[nic0]\nnetwork = a\ngenerated-mac = zz\n", &back, err,
					    sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "line 3: invalid generated-mac 'zz'"));
	/* A pinned MAC and a generated one on one NIC; a generated one that is no guest MAC. */
	g.nics[0].has_mac = true;
	mac_parse("52:54:00:12:34:57", &g.nics[0].mac);
	assert_int_equal(guest_validate(&g, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "[nic0] has both 'mac' and 'generated-mac': keep one");
	g.nics[0].has_mac = false;
	mac_parse("01:00:5e:00:00:01", &g.nics[0].generated_mac);
	assert_int_equal(guest_validate(&g, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid generated-mac 01:00:5e:00:00:01 for NIC 0"));
}

/* Values that inih reads back as they are written survive render -> parse; those that would not are
 * refused on both sides, a hand-written file with its line number. */
static void test_config_values(void **state)
{
	static const char *const kept[] = { "console=ttyS0 root=/dev/vda1 quiet;x a=b:c #y [z] \xc3\xa9",
					     "/srv/images/a;b", "/srv/images/#x", "/srv/[nic1]" };
	static const struct {
		const char *text, *err;
	} refused[] = {
		{ "[guest]\nkernel = ;x\n", "line 2: invalid --kernel '': is empty" },
		{ "[guest]\nkernel =;x\n",
		  "line 2: invalid --kernel ';x': has a ';' at its start or after a space, which starts a "
		  "comment in the definition file" },
		{ "[guest]\nmemory = 1G\nappend = a\x1b[2Jb\n",
		  "line 3: invalid --append 'a\\x1b[2Jb': contains a control character (a definition file "
		  "holds one value per line)" },
		{ "[guest]\nkernel = /k\r\x01\n", "line 2: invalid --kernel '/k\\x0d\\x01': contains a control" },
		{ "[nic0]\nnetwork =\n", "line 2: invalid network name '': must not be empty" },
		{ "[guest]\ncolour =\n", "line 2: unknown key 'colour' in section [guest]" },
		{ "[guest]\nkernel = /k\n  more\n", "line 3: syntax error" },
	};
	struct guest g = kernel_guest(), back;
	char *text, *again, err[256];

	for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
		snprintf(g.append, sizeof(g.append), "%s", kept[i]);
		snprintf(g.initrd, sizeof(g.initrd), "%s", kept[i]);
		assert_int_equal(guest_validate(&g, err, sizeof(err)), 0);
		text = guest_config_render(&g);
		assert_non_null(text);
		assert_int_equal(guest_config_parse("web", text, &back, err, sizeof(err)), 0);
		assert_string_equal(back.append, kept[i]);
		assert_string_equal(back.initrd, kept[i]);
		again = guest_config_render(&back);
		assert_string_equal(text, again);
		free(text);
		free(again);
	}
	for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
		err[0] = 0;
		assert_int_equal(guest_config_parse("web", refused[i].text, &back, err, sizeof(err)), -EINVAL);
		if (strncmp(err, refused[i].err, strlen(refused[i].err)))
			fail_msg("'%s': got '%s', expected '%s'", refused[i].text, err, refused[i].err);
	}
	/* The renderer does not write what would not read back, even past guest_validate. */
	snprintf(g.kernel, sizeof(g.kernel), "/boot/k\n[nic1]\nnetwork = b");
	errno = 0;
	assert_null(guest_config_render(&g));
	assert_int_equal(errno, EINVAL);
	/* The longest path fits on one line and reads back whole. */
	g = kernel_guest();
	memset(g.kernel, 'k', GUEST_PATH_MAX - 1);
	g.kernel[0] = '/';
	g.kernel[GUEST_PATH_MAX - 1] = 0;
	text = guest_config_render(&g);
	assert_int_equal(guest_config_parse("web", text, &back, err, sizeof(err)), 0);
	assert_string_equal(back.kernel, g.kernel);
	free(text);
}

/* [disk0] .. [disk7] read back as written; the single disk of older files in [guest] loads as disk 0
 * and is written back as [disk0]. */
static void test_config_disks(void **state)
{
	static const char *const specs[] = { "/srv/images/root.qcow2,format=qcow2,cache=writeback",
					     "/srv/images/data.raw,bus=scsi,readonly",
					     "/srv/images/c.raw,bus=sata,cache=unsafe", NULL };
	static const char legacy[] = "[guest]\nmemory = 1G\ndisk = /var/lib/netd/images/web.qcow2\n"
				     "disk-format = qcow2\ndisk-cache = writeback\n\n[nic0]\nnetwork = lab\n";
	static const struct {
		const char *text, *err;
	} refused[] = {
		{ "[guest]\ndisk = /a\n[disk0]\npath = /b\n",
		  "line 4: disk 0 is given twice ('disk' in [guest] and [disk0])" },
		{ "[guest]\ndisk-format = qcow2\n[disk0]\npath = /b\n",
		  "line 4: disk 0 is given twice ([guest]'s disk keys and [disk0])" },
		{ "[disk0]\npath = /b\n[guest]\ndisk-cache = unsafe\n",
		  "line 4: disk 0 is given twice ([guest]'s disk keys and [disk0])" },
		{ "[guest]\ndisk-cache = unsafe\n[disk0]\nformat = raw\npath = /b\n",
		  "line 4: disk 0 is given twice ([guest]'s disk keys and [disk0])" },
		{ "[disk0]\npath = /a\nbus = ide\n",
		  "line 3: invalid disk bus 'ide': expected virtio, scsi or sata" },
		{ "[disk0]\npath = /a\ncache = fast\n",
		  "line 3: invalid disk cache 'fast': expected none, writeback, writethrough, directsync or unsafe" },
		{ "[disk0]\npath = /a\nreadonly = maybe\n",
		  "line 3: invalid readonly 'maybe': expected yes or no" },
		{ "[disk8]\npath = /a\n", "line 2: unknown key 'path' in section [disk8]" },
		{ "[disk0]\npath = /a\npath = /b\n", "line 3: 'path' is given twice in [disk0]" },
		{ "[guest]\nboot = cdrom\n",
		  "line 2: invalid --boot 'cdrom': expected cdrom,disk or disk,cdrom" },
	};
	struct guest g = kernel_guest(), back;
	char *text, *again, err[256];

	add_disks(&g, specs);
	snprintf(g.cdrom, sizeof(g.cdrom), "/srv/images/x.iso");
	g.boot = GUEST_BOOT_DISK_CDROM;
	g.kernel[0] = g.initrd[0] = g.append[0] = 0;
	text = guest_config_render(&g);
	assert_golden("guest-disks.conf", text);
	assert_int_equal(guest_config_parse("web", text, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n_disks, 3);
	assert_true(back.disks[1].readonly);
	assert_int_equal(back.disks[2].bus, DISK_BUS_SATA);
	assert_int_equal(back.boot, GUEST_BOOT_DISK_CDROM);
	again = guest_config_render(&back);
	assert_string_equal(text, again);
	free(text);
	free(again);

	assert_int_equal(guest_config_parse("web", legacy, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n_disks, 1);
	assert_string_equal(back.disks[0].path, "/var/lib/netd/images/web.qcow2");
	assert_int_equal(back.disks[0].format, DISK_FORMAT_QCOW2);
	assert_int_equal(back.disks[0].cache, DISK_CACHE_WRITEBACK);
	assert_int_equal(back.disks[0].bus, DISK_BUS_VIRTIO);
	assert_int_equal(guest_validate(&back, err, sizeof(err)), 0);
	text = guest_config_render(&back);
	assert_string_equal(
		text,
		"# netd guest 'web'. Edit, then run 'netdctl reload'; changes apply at its next start.\n"
		"[guest]\nmemory = 1024M\nvcpus = 1\naccel = auto\nqueues = 1\nautostart = yes\n\n"
		"[nic0]\nnetwork = lab\n\n"
		"[disk0]\npath = /var/lib/netd/images/web.qcow2\nformat = qcow2\ncache = writeback\n"
		"bus = virtio\n");
	free(text);
	for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
		err[0] = 0;
		assert_int_equal(guest_config_parse("web", refused[i].text, &back, err, sizeof(err)),
				 -EINVAL);
		if (strncmp(err, refused[i].err, strlen(refused[i].err)))
			fail_msg("'%s': got '%s', expected '%s'", refused[i].text, err, refused[i].err);
	}
}

static void test_enums_roundtrip(void **state)
{
	for (int i = 0; i < _DISK_BUS_MAX; i++)
		assert_int_equal(disk_bus_from_string(disk_bus_to_string(i)), i);
	for (int i = 0; i < _GUEST_BOOT_MAX; i++)
		assert_int_equal(guest_boot_from_string(guest_boot_to_string(i)), i);
	for (int i = 0; i < _GUEST_ACCEL_MAX; i++)
		assert_int_equal(guest_accel_from_string(guest_accel_to_string(i)), i);
	for (int i = 0; i < _DISK_FORMAT_MAX; i++)
		assert_int_equal(disk_format_from_string(disk_format_to_string(i)), i);
	for (int i = 0; i < _DISK_CACHE_MAX; i++)
		assert_int_equal(disk_cache_from_string(disk_cache_to_string(i)), i);
	assert_int_equal(guest_accel_from_string("xen"), _GUEST_ACCEL_INVALID);
}

static void test_memory_parse(void **state)
{
	uint64_t m;

	assert_int_equal(guest_memory_parse("512M", &m), 0);
	assert_int_equal(m, 512);
	assert_int_equal(guest_memory_parse("2G", &m), 0);
	assert_int_equal(m, 2048);
	assert_int_equal(guest_memory_parse("1024", &m), 0);
	assert_int_equal(guest_memory_parse("1T", &m), -EINVAL);
	assert_int_equal(guest_memory_parse("-1M", &m), -EINVAL);
	assert_int_equal(guest_memory_parse("", &m), -EINVAL);
}

static bool held(const char *name, void *userdata)
{
	const char *const *names = userdata;

	for (size_t i = 0; names[i]; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

static void test_tap_name(void **state)
{
	struct guest g = kernel_guest();
	const char *none[] = { NULL }, *some[] = { "vm-web-0", "vnet0", NULL };
	char name[IFNAMSIZ];

	assert_int_equal(guest_tap_name(&g, 0, held, none, name, sizeof(name)), 0);
	assert_string_equal(name, "vm-web-0");
	assert_int_equal(guest_tap_name(&g, 0, held, some, name, sizeof(name)), 0);
	assert_string_equal(name, "vnet1");
	snprintf(g.name, sizeof(g.name), "a-very-long-guest-name");
	assert_int_equal(guest_tap_name(&g, 1, held, none, name, sizeof(name)), 0);
	assert_string_equal(name, "vnet0");
}

/* QEMU as the spawner is asked to start it, and the adoption check, on the recording fake. */
static void test_process_fake(void **state)
{
	struct process_cred qemu = { .uid = 107, .gid = 107, .groups = { 994 }, .n_groups = 1 };
	char *argv[] = { "/usr/bin/qemu-system-x86_64", "-name", "guest=web", "-uuid", "u-1", NULL };
	const char *ours[] = { "guest=web", "u-1", NULL }, *other[] = { "guest=web", "u-2", NULL };
	char bin[PATH_MAX];
	int fds[] = { 0, 1, 2 };
	struct proc_backend b;
	struct proc_fake *f;
	pid_t pid;

	assert_non_null(realpath("/bin/sh", bin)); /* a binary that exists, as QEMU's must */
	assert_int_equal(proc_fake_new(&f, &b), 0);
	assert_int_equal(process_spawn(&b, argv, fds, 3, 2, &qemu, &pid), 0);
	assert_string_equal(proc_fake_log(f),
			    "spawn /usr/bin/qemu-system-x86_64 -name guest=web -uuid u-1 [stdout=fd "
			    "stderr=fd fds=3@3 uid=107 gid=107 groups=1 nnp landlock session]\n");
	assert_int_equal(proc_fake_set_exe(f, pid, bin), 0);
	assert_true(process_is_qemu(&b, pid, "/bin/sh", ours));
	assert_false(process_is_qemu(&b, pid, "/bin/sh", other));
	assert_false(process_is_qemu(&b, pid, "/bin/true", ours));
	assert_int_equal(process_reap(&b, pid, -1), -EAGAIN);
	assert_int_equal(b.ops->kill(b.userdata, pid, -1, SIGKILL), 0);
	assert_int_equal(process_reap(&b, pid, -1), 128 + SIGKILL);
	assert_false(process_is_qemu(&b, pid, "/bin/sh", ours)); /* gone */
	proc_fake_free(f);
}

static void test_tap_fake(void **state)
{
	struct tap_fake *f;
	struct tap_backend b;
	int fds[4], ifindex;

	assert_int_equal(tap_fake_new(true, &f, &b), 0);
	assert_int_equal(b.ops->tap_open(b.userdata, "vm-web-0", 4, fds, &ifindex), 0);
	assert_int_equal(ifindex, 100);
	for (int i = 0; i < 4; i++) {
		assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
		close(fds[i]);
	}
	assert_int_equal(b.ops->vhost_open(b.userdata, 4, fds), 0);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	assert_int_equal(b.ops->tap_open(b.userdata, "vm-web-1", 1, fds, &ifindex), 0);
	close(fds[0]);
	tap_fake_fail_op(f, "tap_open", -EBUSY);
	assert_int_equal(b.ops->tap_open(b.userdata, "vm-web-2", 1, fds, &ifindex), -EBUSY);
	assert_string_equal(tap_fake_log(f), "tap_open name=vm-web-0 queues=4 flags=TAP|NO_PI|VNET_HDR|MULTI_QUEUE\n"
					     "vhost_open n=4\n"
					     "tap_open name=vm-web-1 queues=1 flags=TAP|NO_PI|VNET_HDR\n"
					     "tap_open name=vm-web-2 queues=1 flags=TAP|NO_PI|VNET_HDR -> fail\n");
	tap_fake_free(f);
	assert_int_equal(tap_fake_new(false, &f, &b), 0);
	assert_int_equal(b.ops->vhost_open(b.userdata, 1, fds), -ENOENT);
	assert_string_equal(tap_fake_log(f), "vhost_open n=1 -> no /dev/vhost-net\n");
	tap_fake_free(f);
}

/* A recorded session: "<- " lines from QEMU, "-> " lines we sent. Summarise what we parse. */
static void check_session(const char *file, const char *golden)
{
	char path[512], *text = NULL, *save = NULL, *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, file);
	assert_int_equal(read_file(path, &text, NULL), 0);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct qmp_message m;
		const char *status;
		bool running;

		if (strncmp(line, "<- ", 3))
			continue;
		if (qmp_message_parse(line + 3, strlen(line + 3), &m) < 0) {
			fprintf(out, "malformed\n");
			continue;
		}
		fprintf(out, "%s", qmp_message_type_to_string(m.type));
		if (m.has_id)
			fprintf(out, " id=%llu", (unsigned long long)m.id);
		if (m.type == QMP_MESSAGE_GREETING)
			fprintf(out, " qemu=%d.%d.%d", m.version_major, m.version_minor, m.version_micro);
		if (m.type == QMP_MESSAGE_EVENT)
			fprintf(out, " %s", m.event);
		if (m.type == QMP_MESSAGE_ERROR)
			fprintf(out, " %s: %s", m.error_class, strna(m.error_desc));
		if (m.type == QMP_MESSAGE_RETURN && qmp_status_parse(m.data, &status, &running) >= 0)
			fprintf(out, " status=%s running=%d", status, running);
		fprintf(out, "\n");
		qmp_message_done(&m);
	}
	fclose(out);
	assert_golden(golden, buf);
	free(buf);
	free(text);
}

/* query-block returns: what QEMU opened besides the fds netd passed. */
static void test_qmp_block_files(void **state)
{
	static const struct {
		const char *json;
		int want;
		const char *what;
	} cases[] = {
		{ "[{\"device\":\"\",\"qdev\":\"/machine/peripheral-anon/device[0]/virtio-backend\",\"inserted\":"
		  "{\"image\":{\"filename\":\"/dev/fdset/1\",\"format\":\"qcow2\",\"format-specific\":{\"type\":"
		  "\"qcow2\",\"data\":{\"compat\":\"1.1\"}}}}},{\"device\":\"floppy0\"}]",
		  0, "" },
		{ "[{\"device\":\"d0\",\"inserted\":{\"backing_file\":\"/etc/shadow\",\"image\":{\"filename\":"
		  "\"/dev/fdset/1\",\"backing-filename\":\"/etc/shadow\"}}}]",
		  1, "d0: a backing file (/etc/shadow)" },
		{ "[{\"device\":\"d0\",\"inserted\":{\"image\":{\"filename\":\"/dev/fdset/1\",\"format-specific\":"
		  "{\"type\":\"qcow2\",\"data\":{\"data-file\":\"/proc/1/fd/8\"}}}}}]",
		  1, "d0: a data file (/proc/1/fd/8)" },
		{ "[{\"device\":\"d0\",\"inserted\":{}}]", 1, "d0: no image information" },
		/* an overlay netd linked: the layers below are fd sets netd passed, whatever the header says
		 */
		{ "[{\"device\":\"d0\",\"inserted\":{\"backing_file\":\"/etc/shadow\",\"image\":{\"filename\":"
		  "\"/dev/fdset/10\",\"backing-filename\":\"/etc/shadow\",\"backing-image\":{\"filename\":"
		  "\"json:{\\\"backing\\\": {\\\"driver\\\": \\\"raw\\\", \\\"file\\\": {\\\"driver\\\": \\\"file\\\", "
		  "\\\"filename\\\": \\\"/dev/fdset/102\\\"}}, \\\"driver\\\": \\\"qcow2\\\", \\\"file\\\": "
		  "{\\\"driver\\\": \\\"file\\\", \\\"filename\\\": \\\"/dev/fdset/101\\\"}}\",\"backing-filename\":"
		  "\"/tmp/decoy\",\"backing-image\":{\"filename\":\"/dev/fdset/102\"}}}}}]",
		  0, "" },
		{ "[{\"device\":\"d0\",\"inserted\":{\"image\":{\"filename\":\"/dev/fdset/10\",\"backing-image\":"
		  "{\"filename\":\"/etc/shadow\"}}}}]",
		  1, "d0: a backing file (/etc/shadow)" },
		{ "[{\"device\":\"d0\",\"inserted\":{\"image\":{\"filename\":\"/dev/fdset/10\",\"backing-image\":"
		  "{\"filename\":\"/dev/fdset/11\"}}}}]",
		  1, "d0: a backing file (/dev/fdset/11)" },
		{ "[{\"device\":\"d0\",\"inserted\":{\"image\":{\"filename\":\"/dev/fdset/10\",\"backing-image\":"
		  "{\"filename\":\"json:{\\\"driver\\\": \\\"file\\\", \\\"filename\\\": \\\"/etc/shadow\\\"}\"}}}}]",
		  1, "d0: a backing file (json:{\"driver\": \"file\", \"filename\": \"/etc/shadow\"})" },
		{ "[{\"device\":\"d0\",\"inserted\":{\"image\":{\"filename\":\"/dev/fdset/10\",\"backing-image\":"
		  "{\"filename\":\"/dev/fdset/101\",\"backing-filename\":\"/etc/shadow\"}}}}]",
		  1, "d0: a backing file (/etc/shadow)" },
		{ "{\"device\":\"d0\"}", -EBADMSG, "" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		json_object *o = json_tokener_parse(cases[i].json);
		char what[128] = "";

		assert_non_null(o);
		assert_int_equal(qmp_block_external_files(o, what, sizeof(what)), cases[i].want);
		assert_string_equal(what, cases[i].what);
		json_object_put(o);
	}
}

/* What the live methods read of a recorded session: vCPU slots and the plan for a few targets,
 * the vCPUs present, the balloon's actual size. */
static void summarise_live(FILE *out, const struct qmp_message *m)
{
	struct qmp_cpu_slot slots[16];
	size_t n, idx[16];
	uint64_t actual;
	json_object *first;
	int k;

	if (m->type == QMP_MESSAGE_EVENT && !strcmp(m->event, "BALLOON_CHANGE") &&
	    qmp_balloon_actual(m->data, &actual) >= 0)
		fprintf(out, "  balloon actual %llu MiB\n", (unsigned long long)(actual >> 20));
	if (m->type != QMP_MESSAGE_RETURN)
		return;
	if (qmp_balloon_actual(m->data, &actual) >= 0)
		fprintf(out, "  balloon actual %llu MiB\n", (unsigned long long)(actual >> 20));
	first = json_object_is_type(m->data, json_type_array) ? json_object_array_get_idx(m->data, 0) : NULL;
	if (first && json_object_object_get_ex(first, "cpu-index", NULL))
		fprintf(out, "  vcpus present %d\n", qmp_cpus_count(m->data));
	if (!first || !json_object_object_get_ex(first, "vcpus-count", NULL))
		return;
	assert_int_equal(qmp_cpu_slots_parse(m->data, slots, 16, &n), 0);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  slot %zu %s%s", i, slots[i].type, slots[i].plugged ? " plugged" : "");
		for (size_t p = 0; p < slots[i].n_props; p++)
			fprintf(out, " %s=%lld", slots[i].props[p].name, (long long)slots[i].props[p].value);
		fprintf(out, "\n");
	}
	fprintf(out, "  present %u\n", qmp_cpu_slots_present(slots, n));
	for (unsigned want = 1; want <= 5; want++) {
		k = qmp_cpu_plan(slots, n, want, idx);
		fprintf(out, "  want %u:", want);
		if (k < 0)
			fprintf(out, " %s", k == -EBUSY ? "EBUSY" : k == -ERANGE ? "ERANGE" : "?");
		for (int i = 0; i < k; i++) {
			json_object *args = qmp_cpu_device_add_args(&slots[idx[i]], "vcpuN");

			fprintf(out, " %s", json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN));
			json_object_put(args);
		}
		fprintf(out, "\n");
	}
	assert_int_equal(qmp_cpu_slots_parse(m->data, slots, 2, &n), -E2BIG);
}

static void check_live_session(const char *file, const char *golden)
{
	char path[512], *text = NULL, *save = NULL, *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, file);
	assert_int_equal(read_file(path, &text, NULL), 0);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct qmp_message m;

		if (strncmp(line, "<- ", 3))
			continue;
		assert_int_equal(qmp_message_parse(line + 3, strlen(line + 3), &m), 0);
		fprintf(out, "%s", qmp_message_type_to_string(m.type));
		if (m.has_id)
			fprintf(out, " id=%llu", (unsigned long long)m.id);
		if (m.type == QMP_MESSAGE_EVENT)
			fprintf(out, " %s", m.event);
		if (m.type == QMP_MESSAGE_ERROR)
			fprintf(out, " %s: %s", m.error_class, strna(m.error_desc));
		fprintf(out, "\n");
		summarise_live(out, &m);
		qmp_message_done(&m);
	}
	fclose(out);
	assert_golden(golden, buf);
	free(buf);
	free(text);
}

/* Replies the live parsers must refuse rather than guess at. */
static void test_qmp_live_bad(void **state)
{
	static const char *const bad_slots[] = {
		"{}",
		"[{\"props\":{\"core-id\":0}}]", /* no type */
		"[{\"type\":\"x-cpu\"}]", /* no props */
		"[{\"type\":\"x-cpu\",\"props\":{\"core-id\":\"0\"}}]", /* a string */
		"[{\"type\":\"x-cpu\",\"props\":{\"core-id\":0},\"vcpus-count\":0}]", /* no vCPU */
		/* props that are not a vCPU's place: device_add's own arguments, anything else */
		"[{\"type\":\"x-cpu\",\"props\":{\"core-id\":0,\"driver\":1}}]",
		"[{\"type\":\"x-cpu\",\"props\":{\"core-id\":0,\"id\":1}}]",
		"[{\"type\":\"x-cpu\",\"props\":{\"core-id\":0,\"romfile\":1}}]",
		/* a type that is not a CPU's */
		"[{\"type\":\"virtio-net-pci\",\"props\":{\"core-id\":0}}]",
		"[{\"type\":\"X,Y-cpu\",\"props\":{\"core-id\":0}}]",
		/* two slots in one place */
		"[{\"type\":\"x-cpu\",\"props\":{\"core-id\":1,\"socket-id\":0}},{\"type\":\"x-cpu\",\"props\":{\"socket-id\":0,\"core-id\":1}}]",
	};
	static const char *const bad_balloon[] = { "{}", "{\"actual\":\"1\"}", "{\"actual\":-1}", "[]" };
	struct qmp_cpu_slot slots[4];
	uint64_t actual;
	size_t n;

	for (size_t i = 0; i < ELEMENTSOF(bad_slots); i++) {
		json_object *o = json_tokener_parse(bad_slots[i]);

		assert_non_null(o);
		if (qmp_cpu_slots_parse(o, slots, 4, &n) != -EBADMSG)
			fail_msg("query-hotpluggable-cpus '%s' was accepted", bad_slots[i]);
		json_object_put(o);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad_balloon); i++) {
		json_object *o = json_tokener_parse(bad_balloon[i]);

		assert_non_null(o);
		assert_int_equal(qmp_balloon_actual(o, &actual), -EBADMSG);
		json_object_put(o);
	}
	assert_int_equal(qmp_cpus_count(NULL), -EBADMSG);
}

/* What vm snapshot reads of a recorded session: each job's status changes, how query-jobs says
 * it ended, the snapshots on node disk0. */
static void summarise_snapshot(FILE *out, const struct qmp_message *m)
{
	struct disk_snapshot snaps[4];
	const char *id, *status;
	char st[32], err[256];
	size_t n;
	int r;

	if (qmp_job_event(m, &id, &status) >= 0)
		fprintf(out, "  job %s %s\n", id, status);
	if (m->type != QMP_MESSAGE_RETURN)
		return;
	for (int j = 0; j < 5; j++) {
		char jid[32];

		snprintf(jid, sizeof(jid), "netd-snap-%d", j);
		r = qmp_job_status(m->data, jid, st, sizeof(st), err, sizeof(err));
		if (r >= 0)
			fprintf(out, "  query-jobs %s: %s%s%s\n", jid, st, r ? ", error: " : "", err);
	}
	if (qmp_node_snapshots(m->data, "disk0", snaps, ELEMENTSOF(snaps), &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  disk0 snapshot id=%s name=%s vm-state-size=%llu date=%lld\n", snaps[i].id,
			snaps[i].name, (unsigned long long)snaps[i].vm_state_size,
			(long long)snaps[i].date_sec);
	assert_int_equal(qmp_node_snapshots(m->data, "disk0-file", snaps, ELEMENTSOF(snaps), &n), 0);
	assert_int_equal(qmp_node_snapshots(m->data, "disk9", snaps, ELEMENTSOF(snaps), &n), -ENOENT);
}

static void check_snapshot_session(const char *file, const char *golden)
{
	char path[512], *text = NULL, *save = NULL, *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, file);
	assert_int_equal(read_file(path, &text, NULL), 0);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct qmp_message m;

		if (strncmp(line, "<- ", 3))
			continue;
		assert_int_equal(qmp_message_parse(line + 3, strlen(line + 3), &m), 0);
		fprintf(out, "%s", qmp_message_type_to_string(m.type));
		if (m.has_id)
			fprintf(out, " id=%llu", (unsigned long long)m.id);
		if (m.type == QMP_MESSAGE_EVENT)
			fprintf(out, " %s", m.event);
		fprintf(out, "\n");
		summarise_snapshot(out, &m);
		qmp_message_done(&m);
	}
	fclose(out);
	assert_golden(golden, buf);
	free(buf);
	free(text);
}

/* Replies the snapshot parsers refuse. */
static void test_qmp_snapshot_bad(void **state)
{
	static const char *const bad_nodes[] = {
		"{}", "[{\"node-name\":\"disk0\"}]", /* no image */
		"[{\"node-name\":\"disk0\",\"image\":{\"snapshots\":{}}}]",
		"[{\"node-name\":\"disk0\",\"image\":{\"snapshots\":[{\"id\":\"1\"}]}}]", /* no name */
	};
	static const char *const bad_jobs[] = { "{}", "[{\"id\":\"j\"}]" };
	struct disk_snapshot snaps[1];
	char st[16], err[16];
	size_t n;
	json_object *o;

	for (size_t i = 0; i < ELEMENTSOF(bad_nodes); i++) {
		o = json_tokener_parse(bad_nodes[i]);
		assert_non_null(o);
		assert_int_equal(qmp_node_snapshots(o, "disk0", snaps, 1, &n), -EBADMSG);
		json_object_put(o);
	}
	o = json_tokener_parse(
		"[{\"node-name\":\"disk0\",\"image\":{\"snapshots\":[{\"id\":\"1\",\"name\":\"a\"},"
		"{\"id\":\"2\",\"name\":\"b\"}]}}]");
	assert_int_equal(qmp_node_snapshots(o, "disk0", snaps, 1, &n), -E2BIG);
	json_object_put(o);
	for (size_t i = 0; i < ELEMENTSOF(bad_jobs); i++) {
		o = json_tokener_parse(bad_jobs[i]);
		assert_non_null(o);
		assert_int_equal(qmp_job_status(o, "j", st, sizeof(st), err, sizeof(err)), -EBADMSG);
		json_object_put(o);
	}
	o = json_tokener_parse("[]");
	assert_int_equal(qmp_job_status(o, "j", st, sizeof(st), err, sizeof(err)), -ENOENT);
	json_object_put(o);
}

static void test_qmp_sessions(void **state)
{
	check_snapshot_session("qmp-session-snapshot.txt", "qmp-session-snapshot.parsed");
	check_live_session("qmp-session-live.txt", "qmp-session-live.parsed");
	check_session("qmp-session-lifecycle.txt", "qmp-session-lifecycle.parsed");
	check_session("qmp-session-garbage.txt", "qmp-session-garbage.parsed");
}

/* A QMP client connected to a listening socket the test holds the other end of (peer). */
struct qmp_burst {
	int ready, events;
	char dir[32], path[64];
	int lfd, peer;
	sd_event *e;
	struct qmp_client *c;
};

static void burst_event(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	((struct qmp_burst *)userdata)->events++;
}

static void burst_state(struct qmp_client *c, int error, void *userdata)
{
	assert_int_equal(error, 0);
	((struct qmp_burst *)userdata)->ready++;
}

static void qmp_pair_open(struct qmp_burst *b)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(b->dir, sizeof(b->dir), "/tmp/netd-test-qmp.XXXXXX");
	assert_non_null(mkdtemp(b->dir));
	snprintf(b->path, sizeof(b->path), "%s/qmp.sock", b->dir);
	strcpy(sa.sun_path, b->path);
	b->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(b->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(b->lfd, 1), 0);
	assert_int_equal(sd_event_new(&b->e), 0);
	assert_int_equal(qmp_client_new(b->e, b->path, 1000000, burst_event, burst_state, b, &b->c), 0);
	b->peer = accept4(b->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(b->peer >= 0);
}

static void qmp_pair_close(struct qmp_burst *b)
{
	qmp_client_free(b->c);
	sd_event_unref(b->e);
	close(b->peer);
	close(b->lfd);
	unlink(b->path);
	rmdir(b->dir);
}

/* The client's socket is edge-triggered: everything QEMU sent in one burst (more than one read's
 * 4096 bytes here) is handled without QEMU sending anything more. */
static void test_qmp_client_burst(void **state)
{
	char *burst = NULL, pad[9000];
	struct qmp_burst b = {};
	int len;

	qmp_pair_open(&b);
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	len = asprintf(
		&burst,
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, \"capabilities\": []}}\n"
		"{\"return\": {}, \"id\": 1}\n"
		"{\"event\": \"PAD\", \"data\": {\"pad\": \"%s\"}}\n"
		"{\"event\": \"STOP\"}\n",
		pad);
	assert_true(len > 2 * 4096);
	assert_int_equal(write(b.peer, burst, len), len);
	for (int i = 0; i < 50 && b.events < 2; i++)
		assert_true(sd_event_run(b.e, 20000) >= 0);
	assert_int_equal(b.ready, 1);
	assert_int_equal(b.events, 2);
	qmp_pair_close(&b);
	free(burst);
}

static void fd_reply(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	*(int *)userdata = m && m->type == QMP_MESSAGE_RETURN ? 1 : -1;
}

/* add-fd: the fd travels with the command's bytes (SCM_RIGHTS), a copy of the caller's. */
static void test_qmp_client_fd(void **state)
{
	static const char greeting[] =
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
		"\"major\": 7}}, \"capabilities\": []}}\n{\"return\": {}, \"id\": 1}\n";
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	char text[512] = "", answer[] = "{\"return\": {\"fdset-id\": 12, \"fd\": 40}, \"id\": 2}\n";
	struct iovec iov = { text, sizeof(text) - 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
	};
	struct qmp_burst b = {};
	struct cmsghdr *cm;
	struct stat a, got;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), passed = -1, reply = 0;
	json_object *args = json_object_new_object();
	ssize_t n;

	qmp_pair_open(&b);
	assert_int_equal(write(b.peer, greeting, strlen(greeting)), (ssize_t)strlen(greeting));
	for (int i = 0; i < 50 && !b.ready; i++)
		assert_true(sd_event_run(b.e, 20000) >= 0);
	assert_int_equal(b.ready, 1);
	n = read(b.peer, text, sizeof(text) - 1); /* qmp_capabilities */
	assert_true(n > 0);
	json_object_object_add(args, "fdset-id", json_object_new_int(12));
	assert_int_equal(qmp_client_command_fd(b.c, "add-fd", args, fd, fd_reply, &reply), 0);
	n = recvmsg(b.peer, &mh, MSG_CMSG_CLOEXEC);
	assert_true(n > 0);
	text[n] = 0;
	assert_non_null(strstr(text, "\"execute\":\"add-fd\""));
	cm = CMSG_FIRSTHDR(&mh);
	assert_non_null(cm);
	assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
	memcpy(&passed, CMSG_DATA(cm), sizeof(int));
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(fstat(passed, &got), 0);
	assert_true(a.st_ino == got.st_ino && a.st_dev == got.st_dev);
	assert_int_equal(fcntl(fd, F_GETFD) >= 0, 1); /* the caller's fd stays */
	assert_int_equal(write(b.peer, answer, strlen(answer)), (ssize_t)strlen(answer));
	for (int i = 0; i < 50 && !reply; i++)
		assert_true(sd_event_run(b.e, 20000) >= 0);
	assert_int_equal(reply, 1);
	close(passed);
	close(fd);
	qmp_pair_close(&b);
}

static int flood_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	*(bool *)userdata = true;
	return 0;
}

/* A burst of many reads' worth already in the socket is all handled though the client stops
 * after a few reads per turn (it arms its source again: no edge would come), and a QEMU that
 * writes without end (a guest took it over) does not keep the loop from its other sources. */
static void test_qmp_client_flood(void **state)
{
	static const char greeting[] =
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
		"\"major\": 7}}, \"capabilities\": []}}\n{\"return\": {}, \"id\": 1}\n";
	static const char event[] = "{\"event\": \"X\"}\n";
	sd_event_source *timer = NULL;
	struct qmp_burst b = {};
	bool fired = false;
	char *burst;
	pid_t writer;

	qmp_pair_open(&b);

	/* A burst of 6400 events (100 KiB, 25 reads) in the socket before the client reads any. */
	burst = malloc(6400 * strlen(event));
	assert_non_null(burst);
	for (int i = 0; i < 6400; i++)
		memcpy(burst + i * strlen(event), event, strlen(event));
	assert_int_equal(write(b.peer, greeting, strlen(greeting)), (ssize_t)strlen(greeting));
	assert_int_equal(write(b.peer, burst, 6400 * strlen(event)), (ssize_t)(6400 * strlen(event)));
	/* One turn of the loop reads at most 16 times (64 KiB), not all of it... */
	for (int i = 0; i < 100 && b.events == 0; i++)
		assert_true(sd_event_run(b.e, 20000) >= 0);
	assert_true(b.events > 0 && b.events < 6400);
	/* ...and the next turns the rest. */
	for (int i = 0; i < 100 && b.events < 6400; i++)
		assert_true(sd_event_run(b.e, 20000) >= 0);
	assert_int_equal(b.events, 6400);

	/* Then without end, in big writes: a 50 ms timer still fires. */
	writer = fork();
	assert_true(writer >= 0);
	if (writer == 0) {
		for (;;)
			if (write(b.peer, burst, 6400 * strlen(event)) < 0)
				_exit(0);
	}
	assert_int_equal(
		sd_event_add_time_relative(b.e, &timer, CLOCK_MONOTONIC, 50000, 0, flood_timer, &fired), 0);
	for (int i = 0; i < 200 && !fired; i++)
		assert_true(sd_event_run(b.e, 20000) >= 0);
	kill(writer, SIGKILL);
	assert_int_equal(waitpid(writer, NULL, 0), writer);
	assert_true(fired);
	assert_true(b.events > 6400);
	free(burst);
	sd_event_source_unref(timer);
	qmp_pair_close(&b);
}

static void count_reply(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	(*(int *)userdata)++;
}

/* A QEMU that answers nothing: past QMP_CLIENT_PENDING_MAX commands waiting, the next is refused
 * (-EBUSY) and the connection stays; once answers come, commands are taken again. */
static void test_qmp_client_pending_cap(void **state)
{
	static const char greeting[] =
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
		"\"major\": 7}}, \"capabilities\": []}}\n{\"return\": {}, \"id\": 1}\n";
	struct qmp_burst b = {};
	int replies = 0;
	char answer[64];
	int n;

	qmp_pair_open(&b);
	assert_int_equal(write(b.peer, greeting, strlen(greeting)), (ssize_t)strlen(greeting));
	for (int i = 0; i < 50 && !b.ready; i++)
		assert_true(sd_event_run(b.e, 20000) >= 0);
	assert_int_equal(b.ready, 1);
	for (int i = 0; i < QMP_CLIENT_PENDING_MAX; i++)
		assert_int_equal(qmp_client_command(b.c, "query-status", NULL, count_reply, &replies), 0);
	assert_int_equal(qmp_client_command(b.c, "query-status", json_object_new_object(), count_reply,
					    &replies),
			 -EBUSY);
	assert_true(qmp_client_ready(b.c));
	/* ids: 1 was qmp_capabilities, the commands are 2.. */
	n = snprintf(answer, sizeof(answer), "{\"return\": {}, \"id\": 2}\n");
	assert_int_equal(write(b.peer, answer, n), n);
	for (int i = 0; i < 50 && !replies; i++)
		assert_true(sd_event_run(b.e, 20000) >= 0);
	assert_int_equal(replies, 1);
	assert_int_equal(qmp_client_command(b.c, "query-status", NULL, count_reply, &replies), 0);
	qmp_client_free(TAKE_PTR(b.c));
	assert_int_equal(replies, 1);
	qmp_pair_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_single_nic),
		cmocka_unit_test(test_argv_two_nics_vhost),
		cmocka_unit_test(test_argv_multiqueue),
		cmocka_unit_test(test_argv_disk),
		cmocka_unit_test(test_disk_parse_bad),
		cmocka_unit_test(test_mac_generate),
		cmocka_unit_test(test_validation_table),
		cmocka_unit_test(test_config_roundtrip),
		cmocka_unit_test(test_config_values),
		cmocka_unit_test(test_enums_roundtrip),
		cmocka_unit_test(test_memory_parse),
		cmocka_unit_test(test_tap_name),
		cmocka_unit_test(test_tap_fake),
		cmocka_unit_test(test_qmp_sessions),
		cmocka_unit_test(test_argv_disks),
		cmocka_unit_test(test_argv_cdrom_disk_boot),
		cmocka_unit_test(test_argv_kernel_disk),
		cmocka_unit_test(test_vnc_parse),
		cmocka_unit_test(test_qmp_block_files),
		cmocka_unit_test(test_config_disks),
		cmocka_unit_test(test_file_check),
		cmocka_unit_test(test_qcow2_refers),
		cmocka_unit_test(test_cred_may_access),
		cmocka_unit_test(test_file_open),
		cmocka_unit_test(test_file_memfd),
		cmocka_unit_test(test_process_fake),
		cmocka_unit_test(test_qmp_client_burst),
		cmocka_unit_test(test_qmp_client_flood),
		cmocka_unit_test(test_qmp_client_pending_cap),
		cmocka_unit_test(test_qmp_client_fd),
		cmocka_unit_test(test_argv_live),
		cmocka_unit_test(test_qmp_live_bad),
		cmocka_unit_test(test_qmp_snapshot_bad),
		cmocka_unit_test(test_config_live),
		cmocka_unit_test(test_config_identity),
		cmocka_unit_test(test_argv_overlay),
		cmocka_unit_test(test_argv_cloud_init_seed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
