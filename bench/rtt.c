/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Control request round trips: connect, send one request, read the reply; N times, print each
 * duration in microseconds, one per line. Usage: bench-rtt SOCKET N REQUEST-JSON */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int one(const char *path, const char *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[65536];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	if (write(fd, req, strlen(req)) < 0 || write(fd, "\n", 1) < 0) {
		close(fd);
		return -1;
	}
	/* Read until the reply line ends. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (memchr(buf, '\n', n))
			break;
	close(fd);
	return n > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	int n;

	if (argc != 4) {
		fprintf(stderr, "usage: bench-rtt SOCKET N REQUEST-JSON\n");
		return 2;
	}
	n = atoi(argv[2]);
	for (int i = 0; i < n; i++) {
		double t = now_us();
		if (one(argv[1], argv[3]) < 0) {
			perror("bench-rtt");
			return 1;
		}
		printf("%.1f\n", now_us() - t);
	}
	return 0;
}
