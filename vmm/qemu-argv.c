/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "qemu-argv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest-tune.h"
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
		add(s, "virtio-net-pci,id=nic%zu,netdev=net%zu,bus=nic-port%zu,mac=%s,mq=on,vectors=%u", i, i,
		    i, mac_format(&n->mac, m, sizeof(m)), 2 * n->queues + 2);
	else
		add(s, "virtio-net-pci,id=nic%zu,netdev=net%zu,bus=nic-port%zu,mac=%s", i, i, i,
		    mac_format(&n->mac, m, sizeof(m)));
}

/* One PCIe root port per NIC slot, as for the disks (q35's pcie.0 takes no hotplug): NIC i's
 * virtio-net sits on nic-port<i>, where vm detach-nic can take it away and vm attach-nic put
 * another. */
static void add_nic_ports(struct strv *s)
{
	for (int i = 0; i < GUEST_NICS_MAX; i++) {
		add(s, "-device");
		add(s, "pcie-root-port,id=nic-port%d,bus=pcie.0,chassis=%d,addr=0x%x.%d%s", i,
		    QEMU_NIC_CHASSIS + i, QEMU_NIC_PORTS_SLOT, i, i == 0 ? ",multifunction=on" : "");
	}
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

void qemu_layer_node(char *buf, size_t size, unsigned slot, size_t layer, bool file)
{
	if (layer == 0)
		snprintf(buf, size, "disk%u%s", slot, file ? "-file" : "");
	else
		snprintf(buf, size, "disk%u-l%zu%s", slot, layer, file ? "-file" : "");
}

int qemu_layer_fdset(unsigned slot, size_t layer)
{
	return layer == 0 ? QEMU_FDSET_DISK0 + (int)slot : QEMU_FDSET_LAYER(slot, layer);
}

static int disk_cache(const struct guest_disk *d)
{
	return d->cache < 0 || d->cache >= _DISK_CACHE_MAX ? DISK_CACHE_NONE : (int)d->cache;
}

static void node_common(json_object *a, const struct guest_disk *d, size_t layer)
{
	json_object *cache = json_object_new_object();
	int c = disk_cache(d);

	json_object_object_add(cache, "direct", json_object_new_boolean(cache_modes[c].direct));
	json_object_object_add(cache, "no-flush", json_object_new_boolean(cache_modes[c].no_flush));
	json_object_object_add(a, "cache", cache);
	json_object_object_add(a, "read-only", json_object_new_boolean(d->readonly || layer > 0));
}

json_object *qemu_file_node(const struct guest_disk *d, unsigned slot, size_t layer)
{
	json_object *a = json_object_new_object();
	char name[48], fdset[32];

	qemu_layer_node(name, sizeof(name), slot, layer, true);
	snprintf(fdset, sizeof(fdset), "/dev/fdset/%d", qemu_layer_fdset(slot, layer));
	json_object_object_add(a, "driver", json_object_new_string("file"));
	json_object_object_add(a, "node-name", json_object_new_string(name));
	json_object_object_add(a, "filename", json_object_new_string(fdset));
	node_common(a, d, layer);
	return a;
}

json_object *qemu_format_node(const struct guest_disk *d, unsigned slot, size_t layer, enum disk_format f,
			      bool has_below)
{
	json_object *a = json_object_new_object();
	char name[48], file[48], below[48];

	qemu_layer_node(name, sizeof(name), slot, layer, false);
	qemu_layer_node(file, sizeof(file), slot, layer, true);
	json_object_object_add(a, "driver", json_object_new_string(disk_format_to_string(f)));
	json_object_object_add(a, "node-name", json_object_new_string(name));
	json_object_object_add(a, "file", json_object_new_string(file));
	node_common(a, d, layer);
	if (f == DISK_FORMAT_QCOW2) {
		qemu_layer_node(below, sizeof(below), slot, layer + 1, false);
		json_object_object_add(a, "backing", has_below ? json_object_new_string(below) : NULL);
	}
	return a;
}

/* A format node on the command line: keyval for raw (as it always was), JSON for qcow2 (the only
 * syntax that says "backing": null). */
static void add_format_node(struct strv *s, const struct guest_disk *d, size_t i, size_t layer,
			    enum disk_format f, bool has_below, const char *cache_opts)
{
	const char *ro = d->readonly || layer > 0 ? ",read-only=on" : "";
	char name[48], file[48];
	json_object *o;

	add(s, "-blockdev");
	if (f != DISK_FORMAT_QCOW2) {
		qemu_layer_node(name, sizeof(name), i, layer, false);
		qemu_layer_node(file, sizeof(file), i, layer, true);
		add(s, "driver=%s,node-name=%s,file=%s,%s%s", disk_format_to_string(f), name, file,
		    cache_opts, ro);
		return;
	}
	o = qemu_format_node(d, i, layer, f, has_below);
	add(s, "%s",
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* Disk i: its fd set, a file node "diskI-file" on it, the format node "diskI", the device. An
 * overlay's layers below it come first, bottom up: each its own fd set (100 + 16 i + k), file
 * node and read-only format node "diskI-lK", linked by backing= to the one below. */
const char *qemu_disk_iothread(size_t slot, unsigned io_threads)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "iothread%zu", io_threads ? slot % io_threads : 0);
	return buf;
}

static void add_disk(struct strv *s, const struct guest_disk *d, size_t i, const struct qemu_files *f,
		     int bootindex, int sata_port, unsigned io_threads)
{
	const char *ro = d->readonly ? ",read-only=on" : "";
	int set = QEMU_FDSET_DISK0 + (int)i, cache = disk_cache(d);
	size_t n = f->n_layers[i] < QEMU_LAYERS_MAX ? f->n_layers[i] : QEMU_LAYERS_MAX;
	char cache_opts[64], boot[32], iothread[32] = "";

	snprintf(cache_opts, sizeof(cache_opts), "cache.direct=%s,cache.no-flush=%s",
		 cache_modes[cache].direct ? "on" : "off", cache_modes[cache].no_flush ? "on" : "off");
	for (size_t k = n; k >= 1; k--) {
		add_fd(s, f->layers[i][k - 1], QEMU_FDSET_LAYER(i, k));
		add(s, "-blockdev");
		add(s, "driver=file,node-name=disk%zu-l%zu-file,filename=/dev/fdset/%d,%s,read-only=on", i, k,
		    QEMU_FDSET_LAYER(i, k), cache_opts);
		add_format_node(s, d, i, k, f->layer_formats[i][k - 1], k < n, cache_opts);
	}
	add_fd(s, f->disks[i], set);
	add_fd(s, f->disks_ro[i], set);
	add(s, "-blockdev");
	add(s, "driver=file,node-name=disk%zu-file,filename=/dev/fdset/%d,%s%s", i, set, cache_opts, ro);
	add_format_node(s, d, i, 0, d->format, n > 0, cache_opts);
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
		/* --io-threads N: virtio disk i is served by iothread (i mod N), not QEMU's main loop */
		if (io_threads)
			snprintf(iothread, sizeof(iothread), ",iothread=%s",
				 qemu_disk_iothread(i, io_threads));
		add(s, "virtio-blk-pci,bus=disk-port%zu,drive=disk%zu,id=disk%zu-dev,write-cache=%s%s%s", i,
		    i, i, cache_modes[cache].write_cache ? "on" : "off", iothread, boot);
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
		add_disk(s, &g->disks[i], i, f, order.disks[i], sata_port, g->io_threads);
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

/* The guest's memory from huge pages: a memfd backend (no hugetlbfs path to open) as the machine's
 * RAM. Its size is -m's. */
static void add_machine(struct strv *s, const struct guest *g)
{
	add(s, "-machine");
	if (!g->hugepages) {
		add(s, "q35");
		return;
	}
	add(s, "q35,memory-backend=ram0");
	add(s, "-object");
	add(s, "memory-backend-memfd,id=ram0,size=%" PRIu64 "M,hugetlb=on", guest_max_memory_mib(g));
}

/* --cpu and --io-threads. A virtio disk uses thread N with -device virtio-blk-pci,...,iothread=iothreadN. */
static void add_tuning(struct strv *s, const struct qemu_launch *l)
{
	const char *cpu = guest_cpu_model_effective(l->guest, l->accel == QEMU_ACCEL_KVM);

	if (cpu) {
		add(s, "-cpu");
		add(s, "%s", cpu);
	}
	for (unsigned i = 0; i < l->guest->io_threads; i++) {
		add(s, "-object");
		add(s, "iothread,id=iothread%u", i);
	}
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
	add_machine(&s, g);
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
	add_tuning(&s, l);
	add_boot(&s, g, f);
	add_nic_ports(&s);
	for (size_t i = 0; i < l->n_nics; i++)
		add_nic(&s, &l->nics[i], i);
	/* After the NICs: the other devices' PCI addresses stay what they were without a balloon. */
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
