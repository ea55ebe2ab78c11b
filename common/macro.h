/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers used everywhere: cleanup attributes and ownership transfer. Keep it small. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

/* Hand a pointer or fd out of a cleanup scope. */
#define TAKE_PTR(p)                          \
	({                                   \
		typeof(p) _tmp_ = (p);       \
		(p) = NULL;                  \
		_tmp_;                       \
	})

#define TAKE_FD(fd)                          \
	({                                   \
		int _tmp_ = (fd);            \
		(fd) = -1;                   \
		_tmp_;                       \
	})

/* Returns -errno of the last failed libc call, never 0. */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* The value of a hex digit (either case), -1 for anything else. */
static inline int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline const char *strna(const char *s)
{
	return s ? s : "n/a";
}
