/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tuning a guest (vmm/guest-tune.c): CPU lists, vCPU pins, CPU models, huge pages, their schema
 * rows' messages, the definition file, and QEMU's command line (golden files). */
#include "golden.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest-config.h"
#include "guest-schema.h"
#include "guest-tune.h"
#include "macro.h"
#include "qemu-argv.h"
#include "qmp.h"
#include "vm.h"

static void test_cpulist(void **state)
{
	static const struct {
		const char *in, *out;
		int count;
	} good[] = { { "0", "0", 1 },	      { "3", "3", 1 },	       { "0-3", "0-3", 4 },
		     { "0,2-3", "0,2-3", 3 }, { "3,0,1", "0-1,3", 3 }, { "5-5", "5", 1 },
		     { "0-1,1-2", "0-2", 3 }, { "1023", "1023", 1 },   { "10,12,14-15", "10,12,14-15", 4 } };
	static const char *const bad[] = { "",	 "-1",	 "1-",	   "-",	 "1-0", "a",   "0,",  "0,,1", ",0",
					   "01", "1024", "0-1024", " 1", "1 ",	"1;2", "0x1", "1:2",  "+1" };
	cpu_set_t set;
	char buf[64];

	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		assert_int_equal(guest_cpulist_parse(good[i].in, &set), good[i].count);
		guest_cpulist_format(&set, buf, sizeof(buf));
		assert_string_equal(buf, good[i].out);
		assert_null(guest_cpulist_invalid_reason(good[i].in));
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		if (guest_cpulist_parse(bad[i], &set) != -EINVAL)
			fail_msg("CPU list '%s' was accepted", bad[i]);
		assert_non_null(guest_cpulist_invalid_reason(bad[i]));
	}
	CPU_ZERO(&set);
	guest_cpulist_format(&set, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void test_vcpu_pin(void **state)
{
	static const char *const bad[] = { "",	   "0",	    "0:",    ":1",    "0:1,",	 ",0:1",   "0:1,0:2",
					   "a:1",  "0:a",   "0-1:2", "0:1-0", "64:0",	 "0:1024", "0:1;1:2",
					   "0:1 ", "0:1,1", "00:1",  "0:1:2", "0:1,,1:2" };
	struct guest_vcpu_pin pins[GUEST_VCPUS_MAX];
	char buf[64];

	assert_int_equal(guest_vcpu_pin_parse("0:2,1:3", pins, GUEST_VCPUS_MAX), 2);
	assert_int_equal(pins[0].vcpu, 0);
	guest_cpulist_format(&pins[0].cpus, buf, sizeof(buf));
	assert_string_equal(buf, "2");
	assert_int_equal(pins[1].vcpu, 1);
	guest_cpulist_format(&pins[1].cpus, buf, sizeof(buf));
	assert_string_equal(buf, "3");
	assert_int_equal(guest_vcpu_pin_parse("3:0-1,63:5", pins, GUEST_VCPUS_MAX), 2);
	assert_int_equal(pins[1].vcpu, 63);
	guest_cpulist_format(&pins[0].cpus, buf, sizeof(buf));
	assert_string_equal(buf, "0-1");
	assert_int_equal(guest_vcpu_pin_parse("0:1,1:1", pins, 1), -EINVAL); /* more than max */
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		if (guest_vcpu_pin_parse(bad[i], pins, GUEST_VCPUS_MAX) != -EINVAL)
			fail_msg("vCPU pin '%s' was accepted", bad[i]);
		assert_non_null(guest_vcpu_pin_invalid_reason(bad[i]));
	}
}

static void test_cpu_model(void **state)
{
	static const char *const good[] = { "host",    "max",	"qemu64", "Skylake-Server-v4",
					    "EPYC_v2", "kvm64", "486" };
	static const char *const bad[] = { "",	     "host,+vmx", "-host", "host ", "a=b",  "../x", "host\n",
					   "Ska;ke", ".max",	  "ho st", "help",  "HELP", "?" };
	struct guest g;

	for (size_t i = 0; i < ELEMENTSOF(good); i++)
		assert_null(guest_cpu_model_invalid_reason(good[i]));
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		if (!guest_cpu_model_invalid_reason(bad[i]))
			fail_msg("CPU model '%s' was accepted", bad[i]);
	guest_init(&g, "t");
	assert_null(guest_cpu_model_effective(&g, true));
	snprintf(g.cpu, sizeof(g.cpu), "host");
	assert_string_equal(guest_cpu_model_effective(&g, true), "host");
	assert_string_equal(guest_cpu_model_effective(&g, false), "max");
	snprintf(g.cpu, sizeof(g.cpu), "Skylake-Client");
	assert_string_equal(guest_cpu_model_effective(&g, false), "Skylake-Client");
}

static void test_hugepages(void **state)
{
	static const char meminfo[] = "MemTotal:        4026304 kB\n"
				      "HugePages_Total:     512\n"
				      "HugePages_Free:      300\n"
				      "HugePages_Rsvd:      100\n"
				      "Hugepagesize:       2048 kB\n"
				      "Hugetlb:          1048576 kB\n";
	uint64_t free_pages = 0, kb = 0;

	assert_int_equal(guest_meminfo_hugepages(meminfo, &free_pages, &kb), 0);
	assert_int_equal(free_pages, 200); /* 100 of the 300 free are reserved */
	assert_int_equal(kb, 2048);
	assert_int_equal(guest_meminfo_hugepages("HugePages_Free: 5\nHugePages_Rsvd: 9\n"
						 "Hugepagesize: 2048 kB\n",
						 &free_pages, &kb),
			 0);
	assert_int_equal(free_pages, 0);
	assert_int_equal(guest_meminfo_hugepages("HugePages_Free: 5\nHugepagesize: 2048 kB\n", &free_pages,
						 &kb),
			 0); /* no HugePages_Rsvd: none reserved */
	assert_int_equal(free_pages, 5);
	assert_int_equal(guest_meminfo_hugepages("MemTotal: 1 kB\n", &free_pages, &kb), -ENODATA);
	assert_int_equal(guest_meminfo_hugepages("HugePages_Free: x\nHugepagesize: 2048 kB\n", &free_pages,
						 &kb),
			 -EBADMSG);
	assert_int_equal(guest_meminfo_hugepages("HugePages_Free: 1\nHugepagesize: 0 kB\n", &free_pages, &kb),
			 -ENODATA);
	assert_int_equal(guest_hugepages_needed(512, 2048), 256);
	assert_int_equal(guest_hugepages_needed(2048, 1048576), 2);
	assert_int_equal(guest_hugepages_needed(513, 1048576), -EINVAL); /* not a multiple of 1 GiB */
	assert_int_equal(guest_hugepages_needed(1, 0), -EINVAL);
}

static struct guest tuned_guest(void)
{
	struct guest g;

	guest_init(&g, "fast");
	g.memory_mib = 1024;
	g.vcpus = 2;
	snprintf(g.kernel, sizeof(g.kernel), "/boot/vmlinuz");
	g.n_nics = 1;
	snprintf(g.nics[0].network, sizeof(g.nics[0].network), "lab");
	g.nics[0].has_mac = true;
	g.nics[0].mac = (struct mac){ { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } };
	snprintf(g.cpu, sizeof(g.cpu), "host");
	snprintf(g.vcpu_pin, sizeof(g.vcpu_pin), "0:2,1:3");
	snprintf(g.emulator_pin, sizeof(g.emulator_pin), "0-1");
	g.hugepages = true;
	g.io_threads = 2;
	return g;
}

/* The definition file keeps every setting and reads back the same; validation needs the vCPUs. */
static void test_tune_config(void **state)
{
	struct guest g = tuned_guest(), back;
	char err[256];
	char *text;

	assert_int_equal(guest_validate(&g, err, sizeof(err)), 0);
	text = guest_config_render(&g);
	assert_non_null(text);
	assert_golden("guest-tuned.conf", text);
	assert_int_equal(guest_config_parse("fast", text, &back, err, sizeof(err)), 0);
	assert_string_equal(back.cpu, "host");
	assert_string_equal(back.vcpu_pin, "0:2,1:3");
	assert_string_equal(back.emulator_pin, "0-1");
	assert_true(back.hugepages);
	assert_int_equal(back.io_threads, 2);
	free(text);
	g.vcpus = 1;
	assert_int_equal(guest_validate(&g, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--vcpu-pin names vCPU 1, but the guest has 1 (0-0)");
	/* A definition built in code, not through the schema: each value is checked all the same. */
	g = tuned_guest();
	snprintf(g.cpu, sizeof(g.cpu), "host,+vmx");
	assert_int_equal(guest_validate(&g, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid --cpu 'host,+vmx': expected host or a QEMU CPU model name "
				 "(qemu-system-x86_64 -cpu help)");
	snprintf(g.cpu, sizeof(g.cpu), "help");
	assert_int_equal(guest_validate(&g, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid --cpu 'help': --cpu help is no model (qemu-system-x86_64 -cpu "
				 "help lists them)");
	g = tuned_guest();
	snprintf(g.emulator_pin, sizeof(g.emulator_pin), "1-0");
	assert_int_equal(guest_validate(&g, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid --emulator-pin '1-0'"));
	g = tuned_guest();
	g.io_threads = GUEST_IO_THREADS_MAX + 1;
	assert_int_equal(guest_validate(&g, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--io-threads is out of range (0-16)");
	/* Through the schema, as a request gives them: the same messages as the command line's. */
	guest_init(&back, "fast");
	json_object *p = json_tokener_parse("{\"vcpu_pin\": \"0:2,0:3\"}");
	assert_int_equal(schema_json_parse(&guest_schema, &back, p, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err, "invalid --vcpu-pin '0:2,0:3': expected VCPU:CPU pairs like 0:2,1:3 (a CPU may be "
		     "a range, 0:2-3; each vCPU once)");
	json_object_put(p);
	p = json_tokener_parse("{\"io_threads\": 17}");
	assert_int_equal(schema_json_parse(&guest_schema, &back, p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--io-threads is out of range (0-16)");
	json_object_put(p);
	p = json_tokener_parse("{\"cpu\": \"host,+vmx\"}");
	assert_int_equal(schema_json_parse(&guest_schema, &back, p, err, sizeof(err)), -EINVAL);
	json_object_put(p);
}

static void check_argv(const struct qemu_launch *l, const char *golden)
{
	char **argv = NULL, *text;

	assert_int_equal(qemu_argv_render(l, &argv), 0);
	text = qemu_argv_format(argv);
	assert_golden(golden, text);
	free(text);
	strv_free(argv);
}

/* -cpu host under KVM, max under TCG; the RAM from a hugetlb memfd; the iothreads. Pinning is no
 * option of QEMU's (netd pins the threads). */
static void test_tune_argv(void **state)
{
	struct guest g = tuned_guest();
	struct qemu_launch l = { .guest = &g,
				 .binary = "/usr/bin/qemu-system-x86_64",
				 .uuid = "0b5e2f6a-93c1-4d2e-8f4a-5c6d7e8f9a0b",
				 .caps = { 7, 2, true },
				 .accel = QEMU_ACCEL_KVM,
				 .n_nics = 1 };
	int fd;

	snprintf(l.nics[0].tap, sizeof(l.nics[0].tap), "vm-fast-0");
	l.nics[0].mac = g.nics[0].mac;
	l.nics[0].queues = 1;
	fd = QEMU_FIRST_FD + qemu_fds_layout(l.nics, l.n_nics);
	l.files = QEMU_FILES_NONE;
	l.files.qmp = fd++;
	l.files.console = fd++;
	l.files.serial_log = fd++;
	l.files.kernel = fd++;
	/* three virtio disks on two iothreads (slot mod N), a SCSI one on none */
	for (size_t i = 0; i < 4; i++) {
		char err[256];

		snprintf(err, sizeof(err), "/var/lib/netd/images/d%zu.raw%s", i, i == 3 ? ",bus=scsi" : "");
		assert_int_equal(guest_disk_parse(&g.disks[i], err, err, sizeof(err)), 0);
		g.n_disks++;
		l.files.disks[i] = fd++;
		l.files.disks_ro[i] = fd++;
	}
	check_argv(&l, "qemu-tuning-kvm.argv");
	l.accel = QEMU_ACCEL_TCG;
	g.hugepages = false;
	g.io_threads = 0;
	check_argv(&l, "qemu-tuning-tcg.argv");
}

/* vm_tune_check on fake /sys and /proc files (vm_tune_cpus_online_path, vm_tune_meminfo_path):
 * pinned CPUs the host lacks, and huge pages free but reserved by others, refuse the start. */
static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char tune_dir[] = "/tmp/netd-test-tune.XXXXXX", tune_online[64], tune_meminfo[64];
static const char *saved_online, *saved_meminfo;

/* The fake files go and the real paths come back, also when an assertion failed. */
static int tune_teardown(void **state)
{
	vm_tune_cpus_online_path = saved_online;
	vm_tune_meminfo_path = saved_meminfo;
	unlink(tune_online);
	unlink(tune_meminfo);
	rmdir(tune_dir);
	return 0;
}

static void test_tune_check(void **state)
{
	char *online = tune_online, *meminfo = tune_meminfo, err[512];
	struct guest g = tuned_guest();

	saved_online = vm_tune_cpus_online_path;
	saved_meminfo = vm_tune_meminfo_path;
	assert_non_null(mkdtemp(tune_dir));
	snprintf(online, sizeof(tune_online), "%s/online", tune_dir);
	snprintf(meminfo, sizeof(tune_meminfo), "%s/meminfo", tune_dir);
	vm_tune_cpus_online_path = online;
	vm_tune_meminfo_path = meminfo;
	write_text(online, "0-3\n");
	/* 1024M of 2 MiB pages: 512; 600 free, 88 of them reserved (then 89) */
	write_text(meminfo, "HugePages_Total: 700\nHugePages_Free: 600\nHugePages_Rsvd: 88\n"
			    "Hugepagesize: 2048 kB\n");
	assert_int_equal(vm_tune_check(NULL, &g, true, err, sizeof(err)), 0);
	write_text(meminfo, "HugePages_Total: 700\nHugePages_Free: 600\nHugePages_Rsvd: 89\n"
			    "Hugepagesize: 2048 kB\n");
	assert_int_equal(vm_tune_check(NULL, &g, true, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "needs 512 huge pages of 2048 kB, but only 511 are free"));
	assert_int_equal(vm_tune_check(NULL, &g, false, err, sizeof(err)), 0); /* create: CPUs only */
	write_text(online, "0-1\n"); /* vCPU 0 is pinned to CPU 2 */
	assert_int_equal(vm_tune_check(NULL, &g, false, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "--vcpu-pin: vCPU 0 is pinned to CPU 2, which this host lacks (its CPUs: 0-1)");
	write_text(online, "0,2-3\n"); /* --emulator-pin 0-1 */
	assert_int_equal(vm_tune_check(NULL, &g, false, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--emulator-pin names CPU 1, which this host lacks (its CPUs: 0,2-3)");
	unlink(online);
	assert_int_equal(vm_tune_check(NULL, &g, false, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot read the host's CPUs"));
}

/* query-cpus-fast's thread-ids come from QEMU, which is not trusted: only its own threads are
 * recorded and pinned, never pid 1, netd's or another process's. A child plays QEMU. */
static pid_t fake_qemu(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void fake_qemu_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_on_cpus(void **state)
{
	static struct vm v; /* large: not on the stack */
	struct qmp_message m = { .type = QMP_MESSAGE_RETURN };
	cpu_set_t self_before, self_after, child;
	char reply[512], pin[64], list[64];
	int cpu = -1;

	assert_int_equal(sched_getaffinity(0, sizeof(self_before), &self_before), 0);
	for (int c = CPU_SETSIZE - 1; c >= 0; c--)
		if (CPU_ISSET(c, &self_before))
			cpu = c;
	guest_init(&v.def, "pinned");
	v.pid = fake_qemu();
	/* vCPU 0 names pid 1 (not pinned, whatever happens), 1 this test's process, 2 QEMU itself,
	 * 3 QEMU's pid past 32 bits (narrowed to pid_t it would be QEMU's), 4 a string */
	snprintf(pin, sizeof(pin), "1:%d,2:%d,3:%d,4:%d", cpu, cpu, cpu, cpu);
	snprintf(v.def.vcpu_pin, sizeof(v.def.vcpu_pin), "%s", pin);
	snprintf(reply, sizeof(reply),
		 "[{\"cpu-index\": 0, \"thread-id\": 1}, {\"cpu-index\": 1, \"thread-id\": %d},"
		 " {\"cpu-index\": 2, \"thread-id\": %d}, {\"cpu-index\": 3, \"thread-id\": %lld},"
		 " {\"cpu-index\": 4, \"thread-id\": \"%d\"}]",
		 (int)getpid(), (int)v.pid, (1LL << 32) + v.pid, (int)v.pid);
	m.data = json_tokener_parse(reply);
	assert_non_null(m.data);
	vm_tune_on_cpus(NULL, &m, &v);
	assert_int_equal(v.n_vcpu_tids, 5);
	assert_int_equal(v.vcpu_tids[0], 0);
	assert_int_equal(v.vcpu_tids[1], 0);
	assert_int_equal(v.vcpu_tids[2], v.pid);
	assert_int_equal(v.vcpu_tids[3], 0);
	assert_int_equal(v.vcpu_tids[4], 0);
	/* QEMU's own thread is pinned; this process's affinity is as it was */
	assert_int_equal(sched_getaffinity(v.pid, sizeof(child), &child), 0);
	guest_cpulist_format(&child, list, sizeof(list));
	snprintf(pin, sizeof(pin), "%d", cpu);
	assert_string_equal(list, pin);
	assert_int_equal(sched_getaffinity(0, sizeof(self_after), &self_after), 0);
	assert_true(CPU_EQUAL(&self_before, &self_after));
	/* no answer: nothing recorded changes */
	vm_tune_on_cpus(NULL, NULL, &v);
	assert_int_equal(v.vcpu_tids[2], v.pid);
	json_object_put(m.data);
	fake_qemu_reap(v.pid);
}

/* An adopted QEMU is asked which accelerator it uses: vm show's CPU model follows (--cpu host
 * under TCG runs max). */
static void test_on_kvm(void **state)
{
	static struct vm v;
	struct qmp_message m = { .type = QMP_MESSAGE_RETURN };
	json_object *o;

	guest_init(&v.def, "adopted");
	snprintf(v.def.cpu, sizeof(v.def.cpu), "host");
	v.pid = fake_qemu();
	v.accel = QEMU_ACCEL_KVM; /* what a struct vm starts with */
	m.data = json_tokener_parse("{\"enabled\": false, \"present\": true}");
	vm_tune_on_kvm(NULL, &m, &v);
	assert_int_equal(v.accel, QEMU_ACCEL_TCG);
	o = vm_tune_json(&v);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "cpu_model")), "max");
	json_object_put(o);
	json_object_put(m.data);
	m.data = json_tokener_parse("{\"enabled\": true, \"present\": true}");
	vm_tune_on_kvm(NULL, &m, &v);
	assert_int_equal(v.accel, QEMU_ACCEL_KVM);
	o = vm_tune_json(&v);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "cpu_model")), "host");
	json_object_put(o);
	json_object_put(m.data);
	/* an answer without "enabled" (or none) changes nothing */
	m.data = json_tokener_parse("{}");
	vm_tune_on_kvm(NULL, &m, &v);
	vm_tune_on_kvm(NULL, NULL, &v);
	assert_int_equal(v.accel, QEMU_ACCEL_KVM);
	json_object_put(m.data);
	fake_qemu_reap(v.pid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_vcpu_pin),
		cmocka_unit_test(test_cpu_model),
		cmocka_unit_test(test_hugepages),
		cmocka_unit_test(test_tune_config),
		cmocka_unit_test(test_tune_argv),
		cmocka_unit_test_teardown(test_tune_check, tune_teardown),
		cmocka_unit_test(test_on_cpus),
		cmocka_unit_test(test_on_kvm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
