/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: what the disk pool reads that others wrote. The first bytes of a pool file
 * (any operator may write its qcow2 header: disk_qcow2_header_parse, disk_qcow2_refuse_reason,
 * disk_qcow2_file_refuse_reason)
 * and qemu-img's output on that file (info's JSON, convert -p's progress: disk_info_parse,
 * disk_progress_parse); and netd's own records (disk_record_parse).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct disk_info info;
	struct disk_qcow2_header q;
	char *text, err[200];
	double pct;

	if (disk_qcow2_header_parse(data, size, &q)) {
		if (q.version >= 3 && size < DISK_QCOW2_HEADER_LEN)
			abort();
		(void)disk_qcow2_refuse_reason(&q, false);
		if ((q.incompatible & DISK_QCOW2_INCOMPAT_DATA_FILE) && !disk_qcow2_refuse_reason(&q, true))
			abort();
		if (q.backing_offset && !disk_qcow2_refuse_reason(&q, false))
			abort();
	}
	/* A file of any length, read as QEMU reads it: a qcow2 magic and a non-zero backing offset
	 * in the bytes there are is always refused, however short the file. */
	if (size >= 16 && !memcmp(data, "QFI\xfb", 4) &&
	    (data[8] | data[9] | data[10] | data[11] | data[12] | data[13] | data[14] | data[15]) &&
	    (data[4] | data[5] | data[6]) == 0 && (data[7] == 2 || data[7] == 3) &&
	    !disk_qcow2_file_refuse_reason(data, size, false))
		abort();
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	pct = disk_progress_parse(text);
	if (pct != -1 && (pct < 0 || pct > 100))
		abort();
	{
		struct disk_record r;
		char back[512];

		/* a record netd reads back (root's own files; parsed all the same) */
		if (disk_record_parse(text, &r) == 0 &&
		    (r.format < 0 || (r.backing[0] && disk_name_invalid_reason(r.backing)) ||
		     disk_record_format(&r, back, sizeof(back)) < 0))
			abort();
	}
	if (disk_info_parse(text, &info, err, sizeof(err)) == 0 &&
	    (!info.format[0] || info.n_snapshots > DISK_SNAPSHOTS_MAX))
		abort();
	free(text);
	return 0;
}
