/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "qemu-argv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

static const char *const accel_names[_QEMU_ACCEL_MAX] = {
	[QEMU_ACCEL_KVM] = "kvm", [QEMU_ACCEL_TCG] = "tcg", [QEMU_ACCEL_KVM_TCG] = "kvm, tcg fallback",
};

const char *qemu_accel_to_string(enum qemu_accel a)
{
	return a < _QEMU_ACCEL_MAX ? accel_names[a] : NULL;
}

struct strv {
	char **v;
	size_t n;
	int r;
};

static void add(struct strv *s, const char *fmt, ...) _printf_(2, 3);
static void add(struct strv *s, const char *fmt, ...)
{
	char **v, *a;
	va_list ap;
	int r;

	if (s->r < 0)
		return;
	va_start(ap, fmt);
	r = vasprintf(&a, fmt, ap);
	va_end(ap);
	v = r < 0 ? NULL : realloc(s->v, (s->n + 2) * sizeof(char *));
	if (!v) {
		if (r >= 0)
			free(a);
		s->r = -ENOMEM;
		return;
	}
	s->v = v;
	s->v[s->n++] = a;
	s->v[s->n] = NULL;
}

void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int qemu_fds_layout(struct qemu_nic *nics, size_t n_nics)
{
	int fd = QEMU_FIRST_FD;

	for (size_t i = 0; i < n_nics; i++) {
		nics[i].first_fd = fd;
		fd += nics[i].queues * (nics[i].vhost ? 2 : 1);
	}
	return fd - QEMU_FIRST_FD;
}

/* "3" or "3:4:5" */
static void fd_list(char *buf, size_t size, int first, unsigned n)
{
	size_t len = 0;

	buf[0] = 0;
	for (unsigned q = 0; q < n && len < size; q++)
		len += snprintf(buf + len, size - len, "%s%d", q ? ":" : "", first + (int)q);
}

/* QEMU's option syntax: a comma inside a value is written twice. Caller frees. */
static char *escape(const char *s)
{
	char *e = malloc(2 * strlen(s) + 1), *p = e;

	if (!e)
		return NULL;
	for (; *s; s++) {
		if (*s == ',')
			*p++ = ',';
		*p++ = *s;
	}
	*p = 0;
	return e;
}

static void add_nic(struct strv *s, const struct qemu_nic *n, size_t i)
{
	char fds[128], vfds[128] = "", m[MAC_STRLEN];
	bool mq = n->queues > 1;

	fd_list(fds, sizeof(fds), n->first_fd, n->queues);
	if (n->vhost)
		fd_list(vfds, sizeof(vfds), n->first_fd + n->queues, n->queues);
	add(s, "-netdev");
	add(s, "tap,id=net%zu,%s=%s%s%s%s", i, mq ? "fds" : "fd", fds, n->vhost ? ",vhost=on," : ",vhost=off",
	    n->vhost ? (mq ? "vhostfds=" : "vhostfd=") : "", vfds);
	add(s, "-device");
	if (mq)
		add(s, "virtio-net-pci,id=nic%zu,netdev=net%zu,mac=%s,mq=on,vectors=%u", i, i,
		    mac_format(&n->mac, m, sizeof(m)), 2 * n->queues + 2);
	else
		add(s, "virtio-net-pci,id=nic%zu,netdev=net%zu,mac=%s", i, i, mac_format(&n->mac, m, sizeof(m)));
}

static void add_accel(struct strv *s, enum qemu_accel a)
{
	if (a == QEMU_ACCEL_KVM || a == QEMU_ACCEL_KVM_TCG) {
		add(s, "-accel");
		add(s, "kvm");
	}
	if (a == QEMU_ACCEL_TCG || a == QEMU_ACCEL_KVM_TCG) {
		add(s, "-accel");
		add(s, "tcg");
	}
}

static void add_fd(struct strv *s, int fd, int set)
{
	if (fd < 0)
		return;
	add(s, "-add-fd");
	add(s, "fd=%d,set=%d", fd, set);
}

void qemu_boot_order(const struct guest *g, bool kernel, struct qemu_boot_order *ret)
{
	bool cdrom_first = g->boot != GUEST_BOOT_DISK_CDROM;
	int next = 0;

	*ret = (struct qemu_boot_order){ .cdrom = -1 };
	for (size_t i = 0; i < GUEST_DISKS_MAX; i++)
		ret->disks[i] = -1;
	if (kernel) /* the kernel boots; a bootindex would compete with linuxboot's option ROM */
		return;
	if (g->cdrom[0] && cdrom_first)
		ret->cdrom = next++;
	for (size_t i = 0; i < g->n_disks; i++)
		ret->disks[i] = next++;
	if (g->cdrom[0] && !cdrom_first)
		ret->cdrom = next++;
	ret->cdrom_once = g->boot == GUEST_BOOT_AUTO && g->cdrom[0] && g->n_disks > 0;
}

/* cache=MODE as QEMU's -drive spells it out: the nodes' O_DIRECT and flushes, the device's cache. */
static const struct {
	bool direct, no_flush, write_cache;
} cache_modes[_DISK_CACHE_MAX] = {
	[DISK_CACHE_NONE] = { true, false, true },	     [DISK_CACHE_WRITEBACK] = { false, false, true },
	[DISK_CACHE_WRITETHROUGH] = { false, false, false }, [DISK_CACHE_DIRECTSYNC] = { true, false, false },
	[DISK_CACHE_UNSAFE] = { false, true, true },
};

static void add_bootindex(char *buf, size_t size, int index)
{
	if (index >= 0)
		snprintf(buf, size, ",bootindex=%d", index);
	else
		buf[0] = 0;
}

/* Disk i: its fd set, a file node "diskI-file" on it, the format node "diskI", the device. */
static void add_disk(struct strv *s, const struct guest_disk *d, size_t i, const struct qemu_files *f,
		     int bootindex, int sata_port)
{
	const char *ro = d->readonly ? ",read-only=on" : "";
	int set = QEMU_FDSET_DISK0 + (int)i, cache = d->cache;
	char cache_opts[64], boot[32];

	if (cache < 0 || cache >= _DISK_CACHE_MAX)
		cache = DISK_CACHE_NONE;
	snprintf(cache_opts, sizeof(cache_opts), "cache.direct=%s,cache.no-flush=%s",
		 cache_modes[cache].direct ? "on" : "off", cache_modes[cache].no_flush ? "on" : "off");
	add_fd(s, f->disks[i], set);
	add_fd(s, f->disks_ro[i], set);
	add(s, "-blockdev");
	add(s, "driver=file,node-name=disk%zu-file,filename=/dev/fdset/%d,%s%s", i, set, cache_opts, ro);
	add(s, "-blockdev");
	add(s, "driver=%s,node-name=disk%zu,file=disk%zu-file,%s%s", disk_format_to_string(d->format), i, i,
	    cache_opts, ro);
	add_bootindex(boot, sizeof(boot), bootindex);
	add(s, "-device");
	switch (d->bus) {
	case DISK_BUS_SCSI:
		add(s,
		    "scsi-hd,bus=scsi0.0,channel=0,scsi-id=%zu,lun=0,drive=disk%zu,id=disk%zu-dev,write-cache=%s%s",
		    i, i, i, cache_modes[cache].write_cache ? "on" : "off", boot);
		break;
	case DISK_BUS_SATA:
		add(s, "ide-hd,bus=ide.%d,drive=disk%zu,id=disk%zu-dev,write-cache=%s%s", sata_port, i, i,
		    cache_modes[cache].write_cache ? "on" : "off", boot);
		break;
	default:
		add(s, "virtio-blk-pci,bus=disk-port%zu,drive=disk%zu,id=disk%zu-dev,write-cache=%s%s", i, i,
		    i, cache_modes[cache].write_cache ? "on" : "off", boot);
	}
}

/* One PCIe root port per disk slot (q35's pcie.0 takes no hotplug): disk i's virtio-blk sits on
 * disk-port<i>, where vm detach-disk can take it away and vm attach-disk put another. The eight
 * are the functions of one slot. */
static void add_disk_ports(struct strv *s)
{
	for (int i = 0; i < GUEST_DISKS_MAX; i++) {
		add(s, "-device");
		add(s, "pcie-root-port,id=disk-port%d,bus=pcie.0,chassis=%d,addr=0x%x.%d%s", i,
		    QEMU_DISK_CHASSIS + i, QEMU_DISK_PORTS_SLOT, i, i == 0 ? ",multifunction=on" : "");
	}
}

/* The files are fds; the format is always given (QEMU never probes what a file claims to be). */
static void add_boot(struct strv *s, const struct guest *g, const struct qemu_files *f)
{
	struct qemu_boot_order order;
	int sata_port = f->cdrom >= 0 ? 1 : 0;
	bool scsi = false;
	char boot[32];

	if (f->kernel >= 0) {
		add(s, "-kernel");
		add(s, "/proc/self/fd/%d", f->kernel);
	}
	if (f->initrd >= 0) {
		add(s, "-initrd");
		add(s, "/proc/self/fd/%d", f->initrd);
	}
	if (f->kernel >= 0 && g->append[0]) {
		add(s, "-append");
		add(s, "%s", g->append);
	}
	qemu_boot_order(g, f->kernel >= 0, &order);
	add_disk_ports(s);
	for (size_t i = 0; i < g->n_disks && i < GUEST_DISKS_MAX; i++)
		scsi |= g->disks[i].bus == DISK_BUS_SCSI;
	if (scsi) {
		add(s, "-device");
		add(s, "virtio-scsi-pci,id=scsi0");
	}
	/* ide.0 is the cdrom's when there is one; the SATA disks take the next ports in order */
	for (size_t i = 0; i < g->n_disks && i < GUEST_DISKS_MAX; i++) {
		if (f->disks[i] < 0)
			continue;
		add_disk(s, &g->disks[i], i, f, order.disks[i], sata_port);
		sata_port += g->disks[i].bus == DISK_BUS_SATA;
	}
	add_fd(s, f->cdrom, QEMU_FDSET_CDROM);
	if (f->cdrom >= 0) {
		add(s, "-blockdev");
		add(s, "driver=file,node-name=cdrom-file,filename=/dev/fdset/%d,read-only=on",
		    QEMU_FDSET_CDROM);
		add(s, "-blockdev");
		add(s, "driver=raw,node-name=cdrom,file=cdrom-file,read-only=on");
		add_bootindex(boot, sizeof(boot), order.cdrom);
		add(s, "-device");
		add(s, "ide-cd,bus=ide.0,drive=cdrom,id=cdrom%s", boot);
	}
	add_fd(s, f->seed, QEMU_FDSET_SEED);
	if (f->seed >= 0) {
		add(s, "-blockdev");
		add(s, "driver=file,node-name=cidata-file,filename=/dev/fdset/%d,read-only=on",
		    QEMU_FDSET_SEED);
		add(s, "-blockdev");
		add(s, "driver=raw,node-name=cidata,file=cidata-file,read-only=on");
		add(s, "-device");
		add(s, "virtio-blk-pci,bus=pcie.0,addr=%s,drive=cidata,id=cidata-dev", QEMU_SEED_ADDR);
	}
}

static bool vnc_host_local(const char *host)
{
	struct in_addr a;

	if (!strcmp(host, "localhost") || !strcmp(host, "[::1]"))
		return true;
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

int qemu_vnc_parse(const char *vnc, struct qemu_vnc *ret)
{
	const char *colon = strrchr(vnc, ':'), *disp = colon ? colon + 1 : vnc;
	size_t host_len = colon ? (size_t)(colon - vnc) : 0;
	struct qemu_vnc v = {};
	char *end;
	long d;

	d = strtol(disp, &end, 10);
	if (!*disp || *end || d < 0 || d > 99 || host_len >= sizeof(v.host))
		return -EINVAL;
	if (host_len == 0)
		snprintf(v.host, sizeof(v.host), "127.0.0.1");
	else
		snprintf(v.host, sizeof(v.host), "%.*s", (int)host_len, vnc);
	v.port = 5900 + (unsigned)d;
	v.local = vnc_host_local(v.host);
	*ret = v;
	return 0;
}

static void add_display(struct strv *s, const struct guest *g)
{
	struct qemu_vnc v;

	if (!g->vnc[0] || qemu_vnc_parse(g->vnc, &v) < 0) {
		add(s, "-display");
		add(s, "none");
		return;
	}
	add(s, "-vga");
	add(s, "std");
	add(s, "-vnc");
	/* QEMU refuses everyone until netd sets a password over QMP: on the loopback too, where every
	 * local user could connect. */
	add(s, "%s:%u,password=on", v.host, v.port - 5900);
}

int qemu_argv_render(const struct qemu_launch *l, char ***ret)
{
	const struct guest *g = l->guest;
	const struct qemu_files *f = &l->files;
	_cleanup_free_ char *name = escape(g->name);
	struct strv s = {};

	add(&s, "%s", l->binary);
	add(&s, "-name");
	add(&s, "guest=%s", strna(name));
	if (l->uuid) {
		add(&s, "-uuid");
		add(&s, "%s", l->uuid);
	}
	add(&s, "-nodefaults");
	add(&s, "-no-user-config");
	if (l->paused)
		add(&s, "-S");
	add(&s, "-machine");
	add(&s, "q35");
	add_accel(&s, l->accel);
	/* With a balloon, -m is the maximum and netd sets the balloon's target to the memory once QMP
	 * answers; vCPUs above vcpus are free slots that set-vcpus plugs in (device_add). */
	add(&s, "-m");
	add(&s, "%" PRIu64 "M", guest_max_memory_mib(g));
	add(&s, "-smp");
	if (guest_max_vcpus(g) > g->vcpus)
		add(&s, "cpus=%u,maxcpus=%u", g->vcpus, guest_max_vcpus(g));
	else
		add(&s, "%u", g->vcpus);
	add_boot(&s, g, f);
	for (size_t i = 0; i < l->n_nics; i++)
		add_nic(&s, &l->nics[i], i);
	/* After the NICs: their PCI addresses stay what they were without a balloon. */
	if (g->max_memory_mib) {
		add(&s, "-device");
		add(&s, "virtio-balloon-pci,id=" QEMU_BALLOON_ID);
	}
	add(&s, "-chardev");
	add(&s, "socket,id=qmp,fd=%d,server=on,wait=off", f->qmp);
	add(&s, "-mon");
	add(&s, "chardev=qmp,mode=control");
	/* The serial console goes to a log file and to a socket 'vm console' attaches to. */
	add_fd(&s, f->serial_log, QEMU_FDSET_SERIAL_LOG);
	add(&s, "-chardev");
	if (f->serial_log >= 0)
		add(&s, "socket,id=serial0,fd=%d,server=on,wait=off,logfile=/dev/fdset/%d,logappend=on",
		    f->console, QEMU_FDSET_SERIAL_LOG);
	else
		add(&s, "socket,id=serial0,fd=%d,server=on,wait=off", f->console);
	add(&s, "-serial");
	add(&s, "chardev:serial0");
	add_display(&s, g);
	if (l->caps.sandbox) {
		/* netd started QEMU as its user already: QEMU never needs to change it. */
		add(&s, "-sandbox");
		add(&s, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	}
	if (s.r < 0) {
		strv_free(s.v);
		return s.r;
	}
	*ret = s.v;
	return 0;
}

char *qemu_argv_format(char *const *argv)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; argv[i]; i++) {
		bool value_follows = argv[i][0] == '-' && argv[i + 1] && argv[i + 1][0] != '-';

		fprintf(f, "%s%s", argv[i], value_follows ? " " : "\n");
		if (!value_follows)
			continue;
		i++;
		fprintf(f, strchr(argv[i], ' ') ? "'%s'\n" : "%s\n", argv[i]);
	}
	fclose(f);
	return buf;
}
