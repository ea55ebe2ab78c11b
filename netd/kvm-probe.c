/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Does KVM run guests here? /dev/kvm can open and create VMs on a host that is itself a guest and
 * still hang (or crawl through) a real guest. The probe boots a 512-byte boot sector through the
 * firmware with -accel kvm: it writes "K" to the serial port and exits through isa-debug-exit.
 * QEMU must exit with code 99 within KVM_PROBE_USEC (TCG needs about 0.1 s for the same);
 * otherwise KVM counts as broken and 'auto' guests use TCG, with a warning. Never waits longer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "process.h"
#include "vm.h"

#define KVM_PROBE_USEC (2 * 1000 * 1000)
#define KVM_PROBE_OK_EXIT 99 /* isa-debug-exit: (0x31 << 1) | 1 */



static int write_boot_sector(const char *path)
{
	/* mov dx,0x3f8; mov al,'K'; out dx,al; mov dx,0xf4; mov al,0x31; out dx,al; hlt; jmp $-1 */
	static const unsigned char code[] = { 0xba, 0xf8, 0x03, 0xb0, 'K',  0xee, 0xba, 0xf4,
					      0x00, 0xb0, 0x31, 0xee, 0xf4, 0xeb, 0xfd };
	unsigned char sector[512] = {};

	memcpy(sector, code, sizeof(code));
	sector[510] = 0x55;
	sector[511] = 0xaa;
	return write_file_atomic(path, (const char *)sector, sizeof(sector), 0644);
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
	int code = process_reap(d->kvm_probe_pid);

	if (code == -EAGAIN)
		return 0;
	if (code == KVM_PROBE_OK_EXIT)
		finish(d, true, "KVM runs guests");
	else
		finish(d, false, "KVM cannot run a test guest (probe QEMU exited with %d)", code);
	return 0;
}

static int on_reaped(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	process_reap((pid_t)(intptr_t)userdata);
	sd_event_source_set_enabled(s, SD_EVENT_OFF);
	close(fd);
	return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	pid_t pid = d->kvm_probe_pid;
	int fd = process_pidfd(pid);

	kill(pid, SIGKILL);
	/* Reap it later, without holding anything up. */
	if (fd >= 0 && sd_event_add_io(d->event, NULL, fd, EPOLLIN, on_reaped, (void *)(intptr_t)pid) < 0)
		close(fd);
	finish(d, false, "KVM did not run a test guest within %d s (nested host?)", KVM_PROBE_USEC / 1000000);
	return 0;
}

int vm_kvm_probe_start(struct daemon *d)
{
	_cleanup_free_ char *img = path_join(d->paths.run_dir, "kvm-probe.img");
	_cleanup_free_ char *log = path_join(d->paths.run_dir, "kvm-probe.log");
	char drive[4200];
	char *argv[] = { (char *)d->qemu_binary, "-nodefaults", "-no-user-config", "-machine", "pc", "-accel", "kvm",
			 "-m", "16", "-display", "none", "-serial", "none", "-device",
			 "isa-debug-exit,iobase=0xf4,iosize=1", "-drive", drive, NULL };
	int r, pidfd;

	if (d->kvm_probe != KVM_PROBE_UNKNOWN)
		return 0;
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		finish(d, false, "/dev/kvm: %m");
		return 0;
	}
	if (!img || !log)
		return -ENOMEM;
	r = write_boot_sector(img);
	if (r < 0)
		return r;
	snprintf(drive, sizeof(drive), "file=%s,format=raw,if=ide", img);
	r = process_spawn(argv, NULL, 0, log, &d->kvm_probe_pid);
	if (r < 0) {
		finish(d, false, "cannot start %s: %s", d->qemu_binary, strerror(-r));
		return 0;
	}
	pidfd = process_pidfd(d->kvm_probe_pid);
	if (pidfd < 0)
		return pidfd;
	d->kvm_probe = KVM_PROBE_RUNNING;
	sd_event_add_io(d->event, &d->kvm_probe_source, pidfd, EPOLLIN, on_probe_exit, d);
	sd_event_source_set_io_fd_own(d->kvm_probe_source, true);
	sd_event_add_time_relative(d->event, &d->kvm_probe_timer, CLOCK_MONOTONIC, KVM_PROBE_USEC, 0, on_timeout, d);
	log_info("KVM probe started (pid %d, at most %d s)", (int)d->kvm_probe_pid, KVM_PROBE_USEC / 1000000);
	return 0;
}
