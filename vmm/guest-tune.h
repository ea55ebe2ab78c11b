/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tuning a guest (pure; netd/guest/vm-tune.c applies it): --cpu host|MODEL, --vcpu-pin
 * VCPU:CPUS[,VCPU:CPUS]..., --emulator-pin CPUS, --hugepages, --io-threads N. The definition keeps
 * the text as given; these parse it (every path: file, request, command line) and say why not.
 * CPUS is a Linux CPU list: "2", "2-3", "0,2-3" (in --vcpu-pin one CPU or one range per vCPU,
 * as commas separate the vCPUs there).
 */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.h"

#define GUEST_IO_THREADS_MAX 16

struct guest_vcpu_pin {
	unsigned vcpu;
	cpu_set_t cpus;
};

/* Why s is not a CPU list ("0-3,6"), NULL when it is one. */
const char *guest_cpulist_invalid_reason(const char *s);
int guest_cpulist_parse(const char *s, cpu_set_t *ret);
/* "0-3,6" of a set ("" for none). */
void guest_cpulist_format(const cpu_set_t *set, char *buf, size_t size);

/* Why s is not "VCPU:CPUS[,VCPU:CPUS]..." (each vCPU at most once), NULL when it is. */
const char *guest_vcpu_pin_invalid_reason(const char *s);
/* Into ret (at most max entries); the count, or -EINVAL. */
int guest_vcpu_pin_parse(const char *s, struct guest_vcpu_pin *ret, size_t max);

/* A QEMU CPU model name: letters, digits, '.', '_', '-' (no option can ride along); NULL when good. */
const char *guest_cpu_model_invalid_reason(const char *s);
/* The -cpu model a start uses: --cpu host needs KVM; under TCG (or a KVM that may fall back to
 * TCG) it is 'max', QEMU's every-feature model. NULL when the guest names none. */
const char *guest_cpu_model_effective(const struct guest *g, bool kvm_only);

/* Every tuning value (also of a definition built in code, not through the schema's checks), and
 * what depends on several settings: pinned vCPUs exist (< vcpus). */
int guest_tune_validate(const struct guest *g, char *err, size_t errlen);

/* From /proc/meminfo's text: the huge pages a new mapping can have (HugePages_Free minus
 * HugePages_Rsvd, those reserved by mappings not yet touched) and Hugepagesize (kB). -ENODATA
 * when it lacks HugePages_Free or Hugepagesize. */
int guest_meminfo_hugepages(const char *meminfo, uint64_t *ret_free, uint64_t *ret_page_kb);
/* Huge pages of page_kb a guest of memory_mib needs; -EINVAL when the memory is not a multiple of
 * the page size (QEMU refuses such a backend). */
int64_t guest_hugepages_needed(uint64_t memory_mib, uint64_t page_kb);
