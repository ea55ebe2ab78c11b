/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: what a QEMU (the guest's, so hostile) sends on its QMP socket. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What netd does with one message: the fields vm.c and qmp-client.c read. */
static void use(const struct qmp_message *m)
{
	const char *status;
	bool running;

	if (!qmp_message_type_to_string(m->type))
		abort();
	switch (m->type) {
	case QMP_MESSAGE_EVENT:
		if (!m->event || strlen(m->event) > strlen(json_object_to_json_string(m->root)))
			abort();
		break;
	case QMP_MESSAGE_ERROR:
		if (!m->error_class)
			abort();
		(void)strlen(m->error_desc ? m->error_desc : "");
		break;
	case QMP_MESSAGE_RETURN:
		if (qmp_status_parse(m->data, &status, &running) >= 0 && !status)
			abort();
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	/* Split at newlines the way qmp-client.c's reader does; the last piece has none. */
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct qmp_message m;

		if (qmp_message_parse(p, len, &m) >= 0) {
			use(&m);
			qmp_message_done(&m);
		}
		p += len + 1;
	}
	return 0;
}
