/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: what a vm.create request and netdctl's --cloud-init bring for a cloud-init seed
 * (vmm/cloud-init.c): the spec, a host name, a key, the user's meta-data; and what netd renders
 * from what passed: meta-data whose first lines are netd's keys, a --ssh-key user-data.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud-init.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the line after l's first YAML line break (\n, \r, \r\n, NEL, U+2028, U+2029), or NULL */
static const char *yaml_next_line(const char *l)
{
	for (; *l; l++) {
		if (*l == '\n')
			return l + 1;
		if (*l == '\r')
			return l + 1 + (l[1] == '\n');
		if (!strncmp(l, "\xc2\x85", 2))
			return l + 2;
		if (!strncmp(l, "\xe2\x80\xa8", 3) || !strncmp(l, "\xe2\x80\xa9", 3))
			return l + 3;
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *paths[_CLOUD_INIT_FILE_MAX], err[512];

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (cloud_init_spec_parse(text, paths, err, sizeof(err)) == 0) {
		if (!paths[0] && !paths[1] && !paths[2])
			abort();
		for (int i = 0; i < _CLOUD_INIT_FILE_MAX; i++) {
			if (paths[i] && (!paths[i][0] || strchr(paths[i], ',')))
				abort();
			free(paths[i]);
		}
	}
	(void)cloud_init_text_invalid_reason(text, size);
	if (!cloud_init_hostname_invalid_reason(text)) {
		/* a valid host name needs no escape in meta-data's double quotes */
		if (strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") !=
		    strlen(text))
			abort();
		{
			char *m = cloud_init_meta_data_render("iid-0123456789abcdef0123456789abcdef", text,
							      NULL);

			if (m && strncmp(m, "instance-id: \"iid-", 18))
				abort();
			free(m);
		}
	}
	if (!cloud_init_meta_extra_invalid_reason(text)) {
		char *m = cloud_init_meta_data_render("iid-0123456789abcdef0123456789abcdef", "h", text);

		/* the user's part never sets netd's keys at the start of a line, whatever YAML breaks lines
		 * on */
		for (const char *l = m ? strchr(strchr(m, '\n') + 1, '\n') + 1 : NULL; l && *l;
		     l = yaml_next_line(l)) {
			if (!strncmp(l, "\xef\xbb\xbf", 3))
				l += 3;
			if (!strncmp(l, "instance-id:", 12) || !strncmp(l, "local-hostname:", 15))
				abort();
		}
		free(m);
	}
	if (!cloud_init_ssh_key_invalid_reason(text)) {
		char *key = strdup(text), *u;

		if (key) {
			cloud_init_ssh_key_trim(key);
			if (strchr(key, '\n'))
				abort();
			u = cloud_init_user_data_ssh(key);
			if (u && strncmp(u, "#cloud-config\nssh_authorized_keys:\n  - \"", 40))
				abort();
			free(u);
			free(key);
		}
	}
	free(text);
	return 0;
}
