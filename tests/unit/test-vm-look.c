/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Looking at a guest (vmm/guest-look.c) and the QMP client's fd passing (add-fd for screendump). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "guest-look.h"
#include "qmp.h"
#include "vm.h"

static const uint8_t png_head[] = { 0x89, 'P', 'N', 'G',  '\r', '\n', 0x1a, '\n', 0, 0,
				    0,	  13,  'I', 'H',  'D',	'R',  0,    0,	  2, 0xd0,
				    0,	  0,   1,   0x90, 8,	2,    0,    0,	  0 };

static void test_png_size(void **state)
{
	uint8_t bad[sizeof(png_head)];
	uint32_t w = 0, h = 0;

	assert_int_equal(guest_png_size(png_head, sizeof(png_head), &w, &h), 0);
	assert_int_equal(w, 720);
	assert_int_equal(h, 400);
	assert_int_equal(guest_png_size(png_head, 23, &w, &h), -EBADMSG); /* cut short */
	memcpy(bad, png_head, sizeof(bad));
	bad[1] = 'X'; /* not the signature */
	assert_int_equal(guest_png_size(bad, sizeof(bad), &w, &h), -EBADMSG);
	memcpy(bad, png_head, sizeof(bad));
	bad[12] = 'i'; /* not IHDR first */
	assert_int_equal(guest_png_size(bad, sizeof(bad), &w, &h), -EBADMSG);
	memcpy(bad, png_head, sizeof(bad));
	memset(bad + 16, 0, 4); /* width 0 */
	assert_int_equal(guest_png_size(bad, sizeof(bad), &w, &h), -EBADMSG);
	/* a PPM, what screendump writes without format png */
	assert_int_equal(guest_png_size((const uint8_t *)"P6\n720 400\n255\n.........", 24, &w, &h),
			 -EBADMSG);
}

static void test_base64(void **state)
{
	static const struct {
		const char *plain, *b64;
	} cases[] = { { "", "" },
		      { "f", "Zg==" },
		      { "fo", "Zm8=" },
		      { "foo", "Zm9v" },
		      { "foob", "Zm9vYg==" },
		      { "fooba", "Zm9vYmE=" },
		      { "foobar", "Zm9vYmFy" } };
	static const char *const bad[] = { "Zg=", "Z===", "Zg==Zg==", "Zm9v!", "Zm 9", "=Zm9", "Zm=v" };
	uint8_t *out, all[256];
	size_t len;
	char *e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = guest_base64_encode((const uint8_t *)cases[i].plain, strlen(cases[i].plain));
		assert_string_equal(e, cases[i].b64);
		free(e);
		assert_int_equal(guest_base64_decode(cases[i].b64, &out, &len), 0);
		assert_int_equal(len, strlen(cases[i].plain));
		assert_memory_equal(out, cases[i].plain, len);
		free(out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(guest_base64_decode(bad[i], &out, &len), -EINVAL);
	for (int i = 0; i < 256; i++)
		all[i] = i;
	e = guest_base64_encode(all, sizeof(all));
	assert_int_equal(guest_base64_decode(e, &out, &len), 0);
	assert_int_equal(len, sizeof(all));
	assert_memory_equal(out, all, sizeof(all));
	free(out);
	free(e);
}

static void check_lines(const char *text, size_t max, const char *want)
{
	json_object *a = guest_console_lines(text, strlen(text), max);

	assert_string_equal(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN), want);
	json_object_put(a);
}

/* However much the log holds and whatever --lines asks, the reply is bounded: at most
 * GUEST_CONSOLE_LINES_MAX lines from the last GUEST_CONSOLE_TEXT_MAX bytes. */
static void check_console_bounds(void)
{
	size_t big = 8 * 1024 * 1024;
	char *text = malloc(big);
	json_object *a;

	assert_non_null(text);
	memset(text, '\n', big); /* 8 Mi empty lines */
	a = guest_console_lines(text, big, 0);
	assert_int_equal(json_object_array_length(a), GUEST_CONSOLE_LINES_MAX);
	json_object_put(a);
	a = guest_console_lines(text, big, 5);
	assert_int_equal(json_object_array_length(a), 5);
	json_object_put(a);
	/* one long line: its last GUEST_CONSOLE_TEXT_MAX bytes */
	memset(text, 'x', big);
	text[big - 1] = 'y';
	a = guest_console_lines(text, big, 0);
	assert_int_equal(json_object_array_length(a), 1);
	assert_int_equal(json_object_get_string_len(json_object_array_get_idx(a, 0)), GUEST_CONSOLE_TEXT_MAX);
	assert_int_equal(json_object_get_string(json_object_array_get_idx(a, 0))[GUEST_CONSOLE_TEXT_MAX - 1],
			 'y');
	json_object_put(a);
	/* a line cut by the bound is left out: the first line is a whole one */
	memset(text, 'x', big);
	memcpy(text + big - GUEST_CONSOLE_TEXT_MAX + 10, "\nfirst\n", 7);
	memcpy(text + big - 6, "\nlast", 5);
	text[big - 1] = '\n';
	a = guest_console_lines(text, big, 0);
	assert_int_equal(json_object_array_length(a), 3);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 0)), "first");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 2)), "last");
	json_object_put(a);
	free(text);
}

static void test_console_lines(void **state)
{
	check_lines("", 0, "[]");
	check_lines("a\nb\nc\n", 0, "[\"a\",\"b\",\"c\"]");
	check_lines("a\nb\nc\n", 2, "[\"b\",\"c\"]");
	check_lines("a\nb\nc\n", 5, "[\"a\",\"b\",\"c\"]");
	check_lines("a\nb\nc", 1, "[\"c\"]"); /* a last line without its newline */
	check_lines("a\n\n\nb\n", 3, "[\"\",\"\",\"b\"]");
	check_lines("\n", 0, "[\"\"]");
	/* CR, ESC, BEL, DEL and C1 controls go; tabs and UTF-8 stay; other bytes show as '?' */
	check_lines("boot\r\n\x1b[31mred\x1b[0m\a\x7f\n", 0, "[\"boot\",\"[31mred[0m\"]");
	check_lines("tab\there \xc3\xa9t\xc3\xa9 \xe2\x82\xac\n", 0,
		    "[\"tab\\there \xc3\xa9t\xc3\xa9 \xe2\x82\xac\"]");
	check_console_bounds();
	/* lead bytes F5-FF begin no sequence: \xff\x80\x80 is not U+F000 (nor \xf8\xc2\x9b a way
	 * to smuggle a C1 CSI); 4-byte sequences are whole or nothing */
	check_lines("\xff\x80\x80|\xf5\x80\x80|\xf8\xc2\x9b|\xf0\x9f\x98\x80|\xf4\x90\x80\x80\n", 0,
		    "[\"???|???|???|\xf0\x9f\x98\x80|????\"]");
	check_lines("c1 \xc2\x9b"
		    "31m \xff \xc3 \xed\xa0\x80 \xc0\xaf\n",
		    0, "[\"c1 ??31m ? ? ??? ??\"]");
}

/* The serial log's rotation keeps only its tail, whatever size QEMU (which holds a write fd of it)
 * gave the file: a sparse terabyte is emptied without a copy, never read. */
static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : st.st_size;
}

/* The test's folder, removed by its teardown also when an assertion fails. */
static char serial_root[] = "/tmp/netd-test-serial.XXXXXX";

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static int serial_teardown(void **state)
{
	if (strcmp(serial_root + strlen(serial_root) - 6, "XXXXXX"))
		nftw(serial_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void test_serial_log_rotate(void **state)
{
	struct daemon d = {};
	char *root = serial_root, dir[128], log[160], old[160], buf[64];
	int fd;

	assert_non_null(mkdtemp(root));
	d.paths.run_dir = root;
	snprintf(dir, sizeof(dir), "%s/guests/g1", root);
	snprintf(log, sizeof(log), "%s/serial.log", dir);
	snprintf(old, sizeof(old), "%s/serial.log.1", dir);
	assert_int_equal(mkdir_p(dir, 0750), 0);
	/* no log yet, then a small one: nothing to do */
	assert_int_equal(vm_serial_log_rotate(&d, "g1"), 0);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "boot\n", 5), 5);
	assert_int_equal(vm_serial_log_rotate(&d, "g1"), 0);
	assert_int_equal(file_size(log), 5);
	/* 10 MiB, mostly a hole, then a last line: serial.log.1 gets at most the bound, ending in it */
	assert_int_equal(ftruncate(fd, 10 * 1024 * 1024), 0);
	assert_int_equal(write(fd, "x\nlast line\n", 12), 12);
	assert_int_equal(vm_serial_log_rotate(&d, "g1"), 1);
	assert_int_equal(file_size(log), 0);
	assert_true(file_size(old) > 0 && file_size(old) <= GUEST_SERIAL_LOG_MAX);
	{
		int o = open(old, O_RDONLY | O_CLOEXEC);
		off_t n = file_size(old);

		assert_true(o >= 0);
		assert_int_equal(pread(o, buf, 10, n - 10), 10);
		assert_memory_equal(buf, "last line\n", 10);
		close(o);
	}
	/* a line that starts in the copied range's first 4 KiB: the copy starts with it */
	assert_int_equal(ftruncate(fd, 3 * 1024 * 1024 - 100), 0);
	assert_int_equal(write(fd, "\nstart\n", 7), 7);
	assert_int_equal(ftruncate(fd, 3 * 1024 * 1024 - 200 + GUEST_SERIAL_LOG_MAX), 0);
	assert_int_equal(vm_serial_log_rotate(&d, "g1"), 1);
	{
		int o = open(old, O_RDONLY | O_CLOEXEC);

		assert_true(o >= 0);
		assert_int_equal(pread(o, buf, 6, 0), 6);
		assert_memory_equal(buf, "start\n", 6);
		close(o);
	}
	/* a terabyte of holes: emptied, serial.log.1 left as it was */
	off_t kept = file_size(old);
	assert_int_equal(ftruncate(fd, 1LL << 40), 0);
	assert_int_equal(vm_serial_log_rotate(&d, "g1"), 1);
	assert_int_equal(file_size(log), 0);
	assert_int_equal(file_size(old), kept);
	close(fd);
}

/* The client sends an fd with a command's bytes: the peer receives it with that line. The pair
 * (socket dir, listener, peer, client) is made by pair_setup and cleaned by pair_teardown, also
 * when an assertion fails. */
struct pair {
	int ready;
	char dir[32], path[64];
	int lfd, peer, memfd;
	sd_event *e;
	struct qmp_client *c;
	int replies;
};

static void ev(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
}

static void st(struct qmp_client *c, int error, void *userdata)
{
	((struct pair *)userdata)->ready += error == 0;
}

static void on_reply(struct qmp_client *c, const struct qmp_message *m, void *userdata)
{
	struct pair *p = userdata;

	assert_non_null(m);
	assert_int_equal(json_object_get_int(json_object_object_get(m->data, "fdset-id")), 7);
	p->replies++;
}

static int pair_setup(void **state)
{
	static const char greeting[] =
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
		"\"major\": 7}}, \"capabilities\": []}}\n{\"return\": {}, \"id\": 1}\n";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pair *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	*p = (struct pair){ .lfd = -1, .peer = -1, .memfd = -1 };
	*state = p;
	snprintf(p->dir, sizeof(p->dir), "/tmp/netd-test-qmp.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->path, sizeof(p->path), "%s/qmp.sock", p->dir);
	strcpy(sa.sun_path, p->path);
	p->memfd = memfd_create("t", MFD_CLOEXEC);
	assert_true(p->memfd >= 0);
	p->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(p->lfd, 1), 0);
	assert_int_equal(sd_event_new(&p->e), 0);
	assert_int_equal(qmp_client_new(p->e, p->path, 1000000, ev, st, p, &p->c), 0);
	p->peer = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(p->peer >= 0);
	assert_int_equal(write(p->peer, greeting, strlen(greeting)), (ssize_t)strlen(greeting));
	for (int i = 0; i < 50 && !p->ready; i++)
		assert_true(sd_event_run(p->e, 20000) >= 0);
	assert_int_equal(p->ready, 1);
	return 0;
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	if (!p)
		return 0;
	qmp_client_free(p->c);
	sd_event_unref(p->e);
	if (p->peer >= 0)
		close(p->peer);
	if (p->lfd >= 0)
		close(p->lfd);
	if (p->memfd >= 0)
		close(p->memfd);
	if (p->path[0])
		unlink(p->path);
	if (p->dir[0])
		rmdir(p->dir);
	free(p);
	return 0;
}

/* How many of this process's fds are the memfd. */
static int fds_of(int fd)
{
	struct stat want, st;
	char path[64];
	int n = 0;

	assert_int_equal(fstat(fd, &want), 0);
	for (int i = 0; i < 1024; i++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
		if (fstat(i, &st) == 0 && st.st_ino == want.st_ino && st.st_dev == want.st_dev)
			n++;
	}
	return n;
}

/* Read what the peer got (nonblocking, the client's loop running meanwhile) until buf holds
 * `lines` newlines; each fd that came along is counted and closed. */
static size_t peer_read(struct pair *p, char *buf, size_t size, int lines, int *ret_fds)
{
	size_t len = 0;
	int fds = 0;

	for (int i = 0; i < 500; i++) {
		char cbuf[CMSG_SPACE(4 * sizeof(int))];
		struct iovec iov = { .iov_base = buf + len, .iov_len = size - 1 - len };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)
		};
		int nl = 0;
		ssize_t n;

		assert_true(sd_event_run(p->e, 1000) >= 0);
		n = recvmsg(p->peer, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EAGAIN)
			continue;
		assert_true(n > 0);
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_type == SCM_RIGHTS)
				for (size_t k = 0; k < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
					int fd;

					memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
					fds++;
					close(fd);
				}
		len += n;
		buf[len] = 0;
		for (size_t k = 0; k < len; k++)
			nl += buf[k] == '\n';
		if (nl >= lines)
			break;
	}
	*ret_fds = fds;
	return len;
}

static void test_qmp_send_fd(void **state)
{
	struct pair *p = *state;
	char buf[512] = "", cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)
	};
	struct cmsghdr *cm;
	struct stat a, b;
	int got = -1;
	ssize_t n;

	assert_int_equal(qmp_client_command_fd(p->c, "add-fd", NULL, p->memfd, on_reply, p), 0);
	/* qmp_capabilities first (no fd), then add-fd with the fd */
	for (int i = 0; i < 2 && !strstr(buf, "add-fd"); i++) {
		size_t len = strlen(buf);

		iov.iov_base = buf + len;
		iov.iov_len = sizeof(buf) - 1 - len;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(p->peer, &mh, MSG_CMSG_CLOEXEC);
		assert_true(n > 0);
		buf[len + n] = 0;
		cm = CMSG_FIRSTHDR(&mh);
		if (cm && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&got, CMSG_DATA(cm), sizeof(int));
	}
	assert_non_null(strstr(buf, "{\"execute\":\"add-fd\",\"id\":2}\n"));
	assert_true(got >= 0);
	assert_int_equal(fstat(got, &a), 0);
	assert_int_equal(fstat(p->memfd, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	/* The caller's fd stays open, the client's copy is closed: the caller's and the received. */
	assert_true(fcntl(p->memfd, F_GETFD) >= 0);
	assert_int_equal(fds_of(p->memfd), 2);
	close(got);
	assert_int_equal(write(p->peer, "{\"return\": {\"fdset-id\": 7, \"fd\": 30}, \"id\": 2}\n", 47), 47);
	for (int i = 0; i < 50 && !p->replies; i++)
		assert_true(sd_event_run(p->e, 20000) >= 0);
	assert_int_equal(p->replies, 1);
	/* An fd that is not open is refused at once, and leaves no copy of anything. */
	assert_int_equal(qmp_client_command_fd(p->c, "add-fd", NULL, 1000000, NULL, NULL), -EBADF);
	assert_int_equal(fds_of(p->memfd), 1);
}

/* A command larger than the socket takes at once: the rest follows when there is room, the text
 * once, the fd once (with its first bytes), and the client keeps no copy of the fd. */
static void test_qmp_partial_send(void **state)
{
	struct pair *p = *state;
	size_t big = 4 * 1024 * 1024, len;
	char *pad = malloc(big + 1), *buf = malloc(big + 4096);
	json_object *args = json_object_new_object();
	int fds = 0, lines;

	assert_non_null(pad);
	assert_non_null(buf);
	memset(pad, 'x', big);
	pad[big] = 0;
	json_object_object_add(args, "pad", json_object_new_string(pad));
	free(pad);
	assert_int_equal(qmp_client_command_fd(p->c, "add-fd", args, p->memfd, on_reply, p), 0);
	/* then a small one after it, which must not overtake it */
	assert_int_equal(qmp_client_command(p->c, "query-status", NULL, NULL, NULL), 0);
	lines = 3; /* qmp_capabilities, add-fd, query-status */
	len = peer_read(p, buf, big + 4096, lines, &fds);
	assert_int_equal(fds, 1);
	assert_true(len > big);
	assert_int_equal(strncmp(buf, "{\"execute\":\"qmp_capabilities\",", 30), 0);
	assert_non_null(strstr(buf, "{\"execute\":\"add-fd\",\"arguments\":{\"pad\":\"xxx"));
	assert_null(strstr(strstr(buf, "add-fd") + 1, "add-fd")); /* not sent twice */
	assert_non_null(strstr(buf, "\"id\":2}\n{\"execute\":\"query-status\",\"id\":3}\n"));
	assert_int_equal(len, strlen(buf));
	assert_int_equal(fds_of(p->memfd), 1);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_png_size),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_console_lines),
		cmocka_unit_test_teardown(test_serial_log_rotate, serial_teardown),
		cmocka_unit_test_setup_teardown(test_qmp_send_fd, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_qmp_partial_send, pair_setup, pair_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
