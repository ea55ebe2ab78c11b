/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Does KVM run guests here? /dev/kvm can open and create VMs on a host that is itself a guest and
 * still hang (or crawl through) a real guest. The probe boots a 512-byte boot sector through the
 * firmware with -accel kvm: it writes "K" to the serial port and exits through isa-debug-exit.
 * QEMU must exit with code 99 within KVM_PROBE_USEC (TCG needs about 0.1 s for the same);
 * otherwise KVM counts as broken and 'auto' guests use TCG, with a warning. Never waits longer.
 * The probe runs as QEMU's user, as guests do, with its boot sector in a memfd: it tests what a
 * guest would get, /dev/kvm's permissions included.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "process.h"
#include "vm-files.h"
#include "vm.h"

#define KVM_PROBE_USEC (2 * 1000 * 1000)
#define KVM_PROBE_OK_EXIT 99 /* isa-debug-exit: (0x31 << 1) | 1 */

/* The boot sector in a memfd: fds[0] read-write, fds[1] read-only (QEMU opens a drive read-only
 * first; an IDE disk cannot stay read-only). */
static int boot_sector_fds(int fds[static 2])
{
	/* mov dx,0x3f8; mov al,'K'; out dx,al; mov dx,0xf4; mov al,0x31; out dx,al; hlt; jmp $-1 */
	static const unsigned char code[] = { 0xba, 0xf8, 0x03, 0xb0, 'K',  0xee, 0xba, 0xf4,
					      0x00, 0xb0, 0x31, 0xee, 0xf4, 0xeb, 0xfd };
	unsigned char sector[512] = {};
	_cleanup_close_ int fd = memfd_create("netd-kvm-probe", MFD_CLOEXEC);
	char proc[64];

	if (fd < 0)
		return -errno;
	memcpy(sector, code, sizeof(code));
	sector[510] = 0x55;
	sector[511] = 0xaa;
	if (write(fd, sector, sizeof(sector)) != sizeof(sector))
		return -EIO;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	fds[1] = open(proc, O_RDONLY | O_CLOEXEC);
	if (fds[1] < 0)
		return -errno;
	fds[0] = TAKE_FD(fd);
	return 0;
}

static void finish(struct daemon *d, bool ok, const char *fmt, ...) _printf_(3, 4);
static void finish(struct daemon *d, bool ok, const char *fmt, ...)
{
	va_list ap;

	d->kvm_probe_source = sd_event_source_disable_unref(d->kvm_probe_source);
	d->kvm_probe_timer = sd_event_source_disable_unref(d->kvm_probe_timer);
	d->kvm_probe_pid = 0;
	d->kvm_probe = ok ? KVM_PROBE_OK : KVM_PROBE_BROKEN;
	va_start(ap, fmt);
	vsnprintf(d->kvm_note, sizeof(d->kvm_note), fmt, ap);
	va_end(ap);
	if (ok)
		log_info("KVM probe: %s", d->kvm_note);
	else
		log_warning("KVM probe: %s; guests with --accel auto use TCG (slow)", d->kvm_note);
	vm_kvm_probe_done(d);
}

static int on_probe_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	int code = process_reap(&d->proc, d->kvm_probe_pid, fd);

	if (code == -EAGAIN)
		return 0;
	if (code == KVM_PROBE_OK_EXIT)
		finish(d, true, "KVM runs guests");
	else
		finish(d, false, "KVM cannot run a test guest (probe QEMU exited with %d)", code);
	return 0;
}

/* A probe killed after its time, reaped once it is gone. */
struct reaper {
	const struct proc_backend *proc;
	pid_t pid;
};

static int on_reaped(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct reaper *r = userdata;

	process_reap(r->proc, r->pid, fd);
	sd_event_source_set_enabled(s, SD_EVENT_OFF);
	close(fd);
	free(r);
	return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	_cleanup_free_ struct reaper *r = malloc(sizeof(*r));
	pid_t pid = d->kvm_probe_pid;
	int fd = process_pidfd(&d->proc, pid);

	d->proc.ops->kill(d->proc.userdata, pid, fd, SIGKILL);
	/* Reap it later, without holding anything up. */
	if (r && fd >= 0) {
		*r = (struct reaper){ &d->proc, pid };
		if (sd_event_add_io(d->event, NULL, fd, EPOLLIN, on_reaped, r) >= 0) {
			r = NULL;
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	finish(d, false, "KVM did not run a test guest within %d s (nested host?)", KVM_PROBE_USEC / 1000000);
	return 0;
}

int vm_kvm_probe_start(struct daemon *d)
{
	_cleanup_free_ char *log = path_join(d->paths.run_dir, "kvm-probe.log");
	_cleanup_close_ int log_fd = -1;
	int sector[2] = { -1, -1 };
	char *argv[] = { (char *)d->qemu_binary, "-nodefaults", "-no-user-config", "-machine", "pc", "-accel", "kvm",
			 "-m", "16", "-display", "none", "-serial", "none", "-device",
			 "isa-debug-exit,iobase=0xf4,iosize=1", "-add-fd", "fd=3,set=1", "-add-fd", "fd=4,set=1",
			 "-drive", "file=/dev/fdset/1,format=raw,if=ide", NULL };
	struct process_cred qemu;
	char err[256];
	int r, pidfd;

	if (d->kvm_probe != KVM_PROBE_UNKNOWN)
		return 0;
	if (vm_qemu_cred(d, &qemu, err, sizeof(err)) < 0 ||
	    !vm_qemu_may_use_kvm(&qemu, d->qemu_user, err, sizeof(err))) {
		finish(d, false, "%s", err);
		return 0;
	}
	if (!log)
		return -ENOMEM;
	r = vm_log_open(log, &log_fd);
	if (r >= 0)
		r = boot_sector_fds(sector);
	if (r >= 0)
		r = process_spawn(&d->proc, argv, sector, 2, log_fd, &qemu, &d->kvm_probe_pid);
	for (int i = 0; i < 2; i++)
		if (sector[i] >= 0)
			close(sector[i]);
	if (r < 0) {
		finish(d, false, "cannot start %s for the probe: %s", d->qemu_binary, strerror(-r));
		return 0;
	}
	pidfd = process_pidfd(&d->proc, d->kvm_probe_pid);
	if (pidfd < 0)
		return pidfd;
	d->kvm_probe = KVM_PROBE_RUNNING;
	sd_event_add_io(d->event, &d->kvm_probe_source, pidfd, EPOLLIN, on_probe_exit, d);
	sd_event_source_set_io_fd_own(d->kvm_probe_source, true);
	sd_event_add_time_relative(d->event, &d->kvm_probe_timer, CLOCK_MONOTONIC, KVM_PROBE_USEC, 0, on_timeout, d);
	log_info("KVM probe started (pid %d, at most %d s)", (int)d->kvm_probe_pid, KVM_PROBE_USEC / 1000000);
	return 0;
}
