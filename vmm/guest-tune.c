/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "guest-tune.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema.h"

/* A decimal number without sign or leading zero, below CPU_SETSIZE; the position after it. */
static const char *cpu_number(const char *s, unsigned *ret)
{
	unsigned long v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v >= CPU_SETSIZE)
			return NULL;
	}
	*ret = v;
	return p;
}

/* One "N" or "N-M" into set: the position after it, NULL when it is none. */
static const char *cpu_range(const char *s, cpu_set_t *set)
{
	unsigned a, b;
	const char *p = cpu_number(s, &a);

	if (!p)
		return NULL;
	b = a;
	if (*p == '-' && !(p = cpu_number(p + 1, &b)))
		return NULL;
	if (b < a)
		return NULL;
	for (unsigned c = a; c <= b; c++)
		CPU_SET(c, set);
	return p;
}

int guest_cpulist_parse(const char *s, cpu_set_t *ret)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (const char *p = s;;) {
		p = cpu_range(p, &set);
		if (!p)
			return -EINVAL;
		if (!*p)
			break;
		if (*p++ != ',')
			return -EINVAL;
	}
	*ret = set;
	return CPU_COUNT(&set);
}

const char *guest_cpulist_invalid_reason(const char *s)
{
	cpu_set_t set;

	return guest_cpulist_parse(s, &set) < 0 ? "expected CPU numbers and ranges like 2 or 0-3,6" : NULL;
}

void guest_cpulist_format(const cpu_set_t *set, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (unsigned c = 0; c < CPU_SETSIZE && len < size; c++) {
		unsigned end = c;

		if (!CPU_ISSET(c, set))
			continue;
		while (end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, set))
			end++;
		if (end == c)
			len += snprintf(buf + len, size - len, "%s%u", len ? "," : "", c);
		else
			len += snprintf(buf + len, size - len, "%s%u-%u", len ? "," : "", c, end);
		c = end;
	}
}

int guest_vcpu_pin_parse(const char *s, struct guest_vcpu_pin *ret, size_t max)
{
	size_t n = 0;

	for (const char *p = s;;) {
		struct guest_vcpu_pin pin;

		p = cpu_number(p, &pin.vcpu);
		if (!p || *p++ != ':' || pin.vcpu >= GUEST_VCPUS_MAX || n >= max)
			return -EINVAL;
		CPU_ZERO(&pin.cpus);
		p = cpu_range(p, &pin.cpus);
		if (!p)
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			if (ret[i].vcpu == pin.vcpu)
				return -EINVAL;
		ret[n++] = pin;
		if (!*p)
			return n;
		if (*p++ != ',')
			return -EINVAL;
	}
}

const char *guest_vcpu_pin_invalid_reason(const char *s)
{
	struct guest_vcpu_pin pins[GUEST_VCPUS_MAX];

	return guest_vcpu_pin_parse(s, pins, GUEST_VCPUS_MAX) < 0 ?
		       "expected VCPU:CPU pairs like 0:2,1:3 (a CPU may be a range, 0:2-3; each vCPU once)" :
		       NULL;
}

const char *guest_cpu_model_invalid_reason(const char *s)
{
	/* QEMU's help options ("?" fails the charset): QEMU would print its models and exit */
	if (!strcasecmp(s, "help"))
		return "--cpu help is no model (qemu-system-x86_64 -cpu help lists them)";
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return "expected host or a QEMU CPU model name (qemu-system-x86_64 -cpu help)";
	for (const char *p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
			return "expected host or a QEMU CPU model name (qemu-system-x86_64 -cpu help)";
	return NULL;
}

const char *guest_cpu_model_effective(const struct guest *g, bool kvm_only)
{
	if (!g->cpu[0])
		return NULL;
	if (!strcmp(g->cpu, "host") && !kvm_only)
		return "max";
	return g->cpu;
}

int guest_tune_validate(const struct guest *g, char *err, size_t errlen)
{
	struct guest_vcpu_pin pins[GUEST_VCPUS_MAX];
	const char *why;
	int n;

	/* Each row's own check too: a definition built in code has not been through the schema. */
	if (g->cpu[0] && (why = guest_cpu_model_invalid_reason(g->cpu)))
		return schema_invalid(err, errlen, "--cpu", g->cpu, why);
	if (g->emulator_pin[0] && (why = guest_cpulist_invalid_reason(g->emulator_pin)))
		return schema_invalid(err, errlen, "--emulator-pin", g->emulator_pin, why);
	if (g->io_threads > GUEST_IO_THREADS_MAX)
		return schema_error(err, errlen, "--io-threads is out of range (0-%d)", GUEST_IO_THREADS_MAX);
	if (!g->vcpu_pin[0])
		return 0;
	n = guest_vcpu_pin_parse(g->vcpu_pin, pins, GUEST_VCPUS_MAX);
	if (n < 0)
		return schema_invalid(err, errlen, "--vcpu-pin", g->vcpu_pin,
				      guest_vcpu_pin_invalid_reason(g->vcpu_pin));
	for (int i = 0; i < n; i++)
		if (pins[i].vcpu >= g->vcpus)
			return schema_error(err, errlen,
					    "--vcpu-pin names vCPU %u, but the guest has %u (0-%u)",
					    pins[i].vcpu, g->vcpus, g->vcpus - 1);
	return 0;
}

/* "Key:   value kB" of meminfo. */
static int meminfo_value(const char *text, const char *key, uint64_t *ret)
{
	size_t klen = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		char *end;

		if (strncmp(l, key, klen) || l[klen] != ':')
			continue;
		errno = 0;
		*ret = strtoull(l + klen + 1, &end, 10);
		return errno || end == l + klen + 1 ? -EBADMSG : 0;
	}
	return -ENODATA;
}

int guest_meminfo_hugepages(const char *meminfo, uint64_t *ret_free, uint64_t *ret_page_kb)
{
	uint64_t f, rsvd = 0, kb;
	int r = meminfo_value(meminfo, "HugePages_Free", &f);

	if (r >= 0)
		r = meminfo_value(meminfo, "Hugepagesize", &kb);
	if (r < 0)
		return r;
	if (kb == 0)
		return -ENODATA;
	/* Free pages include those promised to mappings made but not yet touched (HugePages_Rsvd):
	 * another guest's. */
	r = meminfo_value(meminfo, "HugePages_Rsvd", &rsvd);
	if (r < 0 && r != -ENODATA)
		return r;
	*ret_free = f > rsvd ? f - rsvd : 0;
	*ret_page_kb = kb;
	return 0;
}

int64_t guest_hugepages_needed(uint64_t memory_mib, uint64_t page_kb)
{
	if (page_kb == 0 || (memory_mib * 1024) % page_kb)
		return -EINVAL;
	return (int64_t)(memory_mib * 1024 / page_kb);
}
