/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disk pool's pure part: disk names and sizes, the qemu-img command lines netd runs, and the
 * reading of `qemu-img info --output=json`. netd/guest/disk.c runs them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.h"

#define DISK_SIZE_MAX (64ULL << 40) /* 64 TiB */
#define DISK_ARGV_MAX 16
#define DISK_SNAPSHOTS_MAX 64
#define DISK_CHAIN_MAX 16 /* layers of an overlay chain, the top one included */

/* NULL when name is a valid disk name ([A-Za-z0-9._-], 1..NAME_MAX, not starting with '.'), else
 * why not. */
const char *disk_name_invalid_reason(const char *name);

/* "10G", "512M", "1048576", "+5G" (only with allow_plus: *ret_grow tells). Binary suffixes K, M,
 * G, T; 1 byte .. DISK_SIZE_MAX. -EINVAL with err set ("invalid size '10X': ..."). */
int disk_size_parse(const char *s, bool allow_plus, uint64_t *ret, bool *ret_grow, char *err, size_t errlen);

/* The argv of qemu-img for a file netd passes as fd `fd` (the path is /dev/fd/N: qemu-img works on
 * that very file). buf holds the strings; the format is always explicit (-f): never probed. */
struct disk_argv {
	char *argv[DISK_ARGV_MAX];
	char path[32];
	char size[32];
	char opts[4096]; /* json: options of a chain (DISK_CHAIN_MAX layers: about 1.5 KB) */
};
void disk_argv_create(struct disk_argv *a, const char *qemu_img, enum disk_format f, int fd, uint64_t size);
/* A qcow2 image is named to resize and info by its json: options with "backing": null
 * (disk_chain_opts): qemu-img follows no name its header holds (a backing "nbd://HOST:PORT/x" or
 * "nbd+unix:///x?socket=PATH" an operator wrote there), whether or not netd recorded a backing. */
void disk_argv_resize(struct disk_argv *a, const char *qemu_img, enum disk_format f, int fd, uint64_t size);
void disk_argv_info(struct disk_argv *a, const char *qemu_img, enum disk_format f, int fd);
/* qemu-img create -f qcow2 -q -u -b BASE -F BASE_FORMAT /dev/fd/N SIZE: a thin overlay. -u: the
 * backing file is not opened (qemu-img would resolve the name as a path); the header gets the
 * name, which only a hand-run qemu-img in the pool folder would follow. */
void disk_argv_create_overlay(struct disk_argv *a, const char *qemu_img, int fd, const char *base,
			      enum disk_format base_format, uint64_t size);
/* The resize of an overlay: its json: options with "backing": null: growing a qcow2 reads no
 * layer below it, and no name in its header is followed. */
void disk_argv_resize_overlay(struct disk_argv *a, const char *qemu_img, int fd, uint64_t size);
/* The json: filename (blockdev options) of a chain whose layer i is fds[i] in formats[i] (0: the
 * top), each layer's backing given explicitly, a qcow2 bottom's as null: 'json:{"driver":"qcow2",
 * "file":{"driver":"file","filename":"/dev/fd/3"},"backing":{"driver":"raw",...}}'. Every driver
 * is named: nothing is probed. (qemu-img --image-opts' "backing=" for none is deprecated.) -E2BIG:
 * too deep or too long. */
int disk_chain_opts(char *buf, size_t size, const enum disk_format *formats, const int *fds, size_t n);
/* qemu-img convert -p -O FORMAT json:CHAIN /dev/fd/OUT: a flat copy of a chain (a single
 * disk is a chain of one). -p: progress on stdout ("    (12.50/100%)\r"). */
int disk_argv_convert(struct disk_argv *a, const char *qemu_img, const enum disk_format *formats,
		      const int *fds, size_t n, enum disk_format out_format, int out_fd);
/* The last complete progress value in qemu-img -p output (NUL-terminated; 0..100), or -1 when
 * there is none. */
double disk_progress_parse(const char *text);

/* Internal snapshots (netdctl vm snapshot): names netd gives them. NULL when valid
 * ([A-Za-z0-9._-], 1..DISK_SNAPSHOT_NAME_MAX, not digits only, not starting with '-'), else why
 * not. */
#define DISK_SNAPSHOT_NAME_MAX 64
const char *disk_snapshot_name_invalid_reason(const char *name);
enum disk_snapshot_op {
	DISK_SNAPSHOT_CREATE, /* -c */
	DISK_SNAPSHOT_APPLY, /* -a: the disk goes back to it */
	DISK_SNAPSHOT_DELETE, /* -d */
};
/* qemu-img snapshot -q -c|-a|-d TAG json:{qcow2 on /dev/fd/N, "backing": null}: a stopped guest's
 * qcow2 disk, passed as fd. */
void disk_argv_snapshot(struct disk_argv *a, const char *qemu_img, enum disk_snapshot_op op, const char *tag,
			int fd);

struct disk_snapshot {
	char id[32];
	char name[128];
	uint64_t vm_state_size;
	int64_t date_sec;
};

struct disk_info {
	char format[16];
	uint64_t virtual_size;
	uint64_t actual_size;
	char backing_file[4096]; /* "" when none */
	bool dirty;
	struct disk_snapshot snapshots[DISK_SNAPSHOTS_MAX];
	size_t n_snapshots;
};

/* Parse qemu-img info's JSON; -EINVAL (err set) when it is not that. */
int disk_info_parse(const char *json, struct disk_info *ret, char *err, size_t errlen);

/* What netd checks in a qcow2 header (its first DISK_QCOW2_HEADER_LEN bytes; version 2 headers
 * have no feature fields: 0). */
#define DISK_QCOW2_HEADER_LEN 104
#define DISK_QCOW2_INCOMPAT_DATA_FILE (1ULL << 2)
struct disk_qcow2_header {
	uint32_t version;
	uint64_t backing_offset; /* 0: no backing file named */
	uint32_t backing_len;
	uint64_t virtual_size;
	uint64_t incompatible;
};
/* False when it is not a qcow2 header (or too short for its version). */
bool disk_qcow2_header_parse(const uint8_t *h, size_t len, struct disk_qcow2_header *ret);
/* Why netd refuses to give this header to qemu-img, or NULL: it names an external data file (netd
 * never makes one), or a backing file while netd recorded none for the disk (has_backing). A name
 * the header holds is never opened by path: netd passes every layer as an fd. */
const char *disk_qcow2_refuse_reason(const struct disk_qcow2_header *h, bool has_backing);
/* The same for a file whose first n bytes are start (n < DISK_QCOW2_HEADER_LEN: the file is that
 * short): read as QEMU reads it, zero-padded to the header's length, so that a file cut short of
 * its version's header is judged by the fields QEMU will see. NULL when it is not qcow2 at all. */
const char *disk_qcow2_file_refuse_reason(const uint8_t *start, size_t n, bool has_backing);

/* What netd knows of a disk it made, kept in the pool's root-only folder .netd/ (one file a disk,
 * "format=qcow2\nbacking=base.raw\ninode=1234\nborn=1796000000123456789\n"): the format qemu-img is
 * told, the base an overlay was made on, and the inode and birth time of the file it belongs to (a
 * file replaced by hand is not the disk netd made, even when it got the freed inode number). */
struct disk_record {
	enum disk_format format;
	char backing[256]; /* "" when none */
	uint64_t inode;
	uint64_t born_ns; /* the file's birth time (statx btime), 0 where the file system keeps none */
};
/* -EINVAL when text is not a record netd wrote (an unknown format, a bad backing name, no inode). */
int disk_record_parse(const char *text, struct disk_record *ret);
/* The record's text; -E2BIG when buf is too small. */
int disk_record_format(const struct disk_record *r, char *buf, size_t size);

/* The virtual size in a qcow2 header (its first 32 bytes at least); false when it is not one. */
bool disk_qcow2_virtual_size(const uint8_t *header, size_t len, uint64_t *ret);
