/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A BENCH STAND-IN for qemu-system-x86_64, never a QEMU: it runs no guest. bench/cases/guests.sh
 * starts netd with --qemu pointing at a root-owned copy of it, so that 1000 "guests" fit on a
 * 2-core machine without KVM. netd spawns it as it spawns QEMU (as netd-qemu, the fds at 3..).
 *
 * What it does: answers --version as QEMU 7.2 does; keeps every inherited fd open (the TAPs stay
 * up as long as it runs, as with QEMU); finds the QMP socket in '-chardev socket,id=qmp,fd=N' and
 * speaks as much QMP as netd uses (greeting, qmp_capabilities, query-status, query-block, stop,
 * cont, set_password, set_link, system_reset, system_powerdown, quit, announce-self: answered,
 * nothing sent), with the message shapes of
 * tests/data/qmp-session-lifecycle.txt; '-S' starts it in "prelaunch". One monitor client at a
 * time; a new one (a restarted netd) is accepted once the old one closed. Exits 0 on quit,
 * system_powerdown (the "guest" powers off at once) and SIGTERM, after a SHUTDOWN event.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char *status = "running";
static volatile sig_atomic_t terminate;

static void on_sigterm(int sig)
{
	terminate = sig;
}

static void say(int fd, const char *text)
{
	size_t len = strlen(text);

	if (fd >= 0 && write(fd, text, len) != (ssize_t)len)
		fprintf(stderr, "fake-qemu: QMP write: %m\n");
}

static void event(int fd, const char *name, const char *data)
{
	char line[512];
	struct timeval tv;

	gettimeofday(&tv, NULL);
	snprintf(line, sizeof(line),
		 "{\"timestamp\": {\"seconds\": %lld, \"microseconds\": %ld}, \"event\": \"%s\"%s%s}\n",
		 (long long)tv.tv_sec, (long)tv.tv_usec, name, data ? ", \"data\": " : "", data ? data : "");
	say(fd, line);
}

/* The string value of "key" in a compact JSON object, as netd's client writes it. */
static bool field(const char *line, const char *key, char *ret, size_t size)
{
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p == '"')
		p++;
	n = strcspn(p, "\",}");
	if (n >= size)
		return false;
	memcpy(ret, p, n);
	ret[n] = 0;
	return true;
}

/* One command: its answer, and whether the process ends after it. */
static bool command(int fd, const char *line)
{
	char cmd[64] = "", id[32] = "null", out[512], reply[640];
	const char *ret = "{}";
	bool end = false;

	field(line, "id", id, sizeof(id));
	if (!field(line, "execute", cmd, sizeof(cmd))) {
		snprintf(out, sizeof(out),
			 "{\"id\": %s, \"error\": {\"class\": \"GenericError\", \"desc\": "
			 "\"QMP input object member 'execute' is missing\"}}\n",
			 id);
		say(fd, out);
		return false;
	}
	if (!strcmp(cmd, "query-status")) {
		snprintf(out, sizeof(out), "{\"status\": \"%s\", \"singlestep\": false, \"running\": %s}",
			 status, strcmp(status, "running") ? "false" : "true");
		ret = out;
	} else if (!strcmp(cmd, "query-block")) {
		ret = "[]"; /* no disk: netd passes the kernel as a memfd */
	} else if (!strcmp(cmd, "stop")) {
		status = "paused";
		event(fd, "STOP", NULL);
	} else if (!strcmp(cmd, "cont")) {
		status = "running";
		event(fd, "RESUME", NULL);
	} else if (!strcmp(cmd, "system_reset")) {
		event(fd, "RESET", "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}");
	} else if (!strcmp(cmd, "system_powerdown")) {
		event(fd, "POWERDOWN", NULL);
		end = true;
	} else if (!strcmp(cmd, "quit")) {
		end = true;
	} else if (strcmp(cmd, "qmp_capabilities") && strcmp(cmd, "set_password") &&
		   strcmp(cmd, "set_link") && strcmp(cmd, "announce-self")) {
		snprintf(out, sizeof(out),
			 "{\"id\": %s, \"error\": {\"class\": \"CommandNotFound\", \"desc\": "
			 "\"The command %s has not been found\"}}\n",
			 id, cmd);
		say(fd, out);
		return false;
	}
	snprintf(reply, sizeof(reply), "{\"return\": %s, \"id\": %s}\n", ret, id);
	say(fd, reply);
	if (end)
		event(fd, "SHUTDOWN",
		      !strcmp(cmd, "quit") ? "{\"guest\": false, \"reason\": \"host-qmp-quit\"}" :
					     "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
	return end;
}

static int serve(int listen_fd)
{
	static const char greeting[] =
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": "
		"\"netd bench fake-qemu\"}, \"capabilities\": [\"oob\"]}}\n";
	char buf[65536];
	size_t len = 0;
	int client = -1;

	for (;;) {
		struct pollfd p = { client >= 0 ? client : listen_fd, POLLIN, 0 };
		char *nl;
		ssize_t n;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return 1;
		if (terminate) {
			fprintf(stderr, "qemu-system-x86_64: terminating on signal %d\n", (int)terminate);
			event(client, "SHUTDOWN", "{\"guest\": false, \"reason\": \"host-signal\"}");
			return 0;
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (client < 0) {
			client = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
			len = 0;
			say(client, greeting);
			continue;
		}
		n = read(client, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0) { /* netd went away (kill -9): wait for the next one */
			close(client);
			client = -1;
			continue;
		}
		len += n;
		buf[len] = 0;
		while ((nl = strchr(buf, '\n'))) {
			*nl = 0;
			if (command(client, buf))
				return 0;
			len -= nl + 1 - buf;
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof(buf) - 1)
			len = 0; /* a line longer than any of netd's: dropped */
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sigterm };
	int qmp = -1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("QEMU emulator version 7.2.22 (netd bench fake-qemu)\n"
			       "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n");
			return 0;
		}
		if (!strcmp(argv[i], "-S"))
			status = "prelaunch";
		if (!strcmp(argv[i], "-chardev") && i + 1 < argc &&
		    !strncmp(argv[i + 1], "socket,id=qmp,fd=", 17))
			qmp = atoi(argv[i + 1] + 17);
	}
	if (qmp < 3) {
		fprintf(stderr,
			"fake-qemu: no '-chardev socket,id=qmp,fd=N' (a bench stand-in runs only netd's guests)\n");
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return serve(qmp);
}
