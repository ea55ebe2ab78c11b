/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest's cloud-init NoCloud seed, its pure half: what a request may bring (user-data, meta-data,
 * network-config, --hostname, --ssh-key), checked, and the files netd writes itself (meta-data with
 * its instance-id and local-hostname; the user-data of --ssh-key). No processes, no files: the seed
 * image is made by netd/guest/cloud-init.c. vmm/DESIGN.md, "Cloud-init".
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* Each file at most this long: the three of them (escaped) fit in one 64 KiB request. */
#define CLOUD_INIT_FILE_MAX (16 * 1024)
#define CLOUD_INIT_HOSTNAME_MAX 253
#define CLOUD_INIT_SSH_KEY_MAX 8192
#define CLOUD_INIT_INSTANCE_ID_LEN 36 /* "iid-" and 32 hex digits */

enum cloud_init_file {
	CLOUD_INIT_USER_DATA,
	CLOUD_INIT_META_DATA,
	CLOUD_INIT_NETWORK_CONFIG,
	_CLOUD_INIT_FILE_MAX,
	_CLOUD_INIT_FILE_INVALID = -1,
};

const char *cloud_init_file_to_string(enum cloud_init_file f);
enum cloud_init_file cloud_init_file_from_string(const char *s);

/* netdctl's --cloud-init "user-data=FILE[,meta-data=FILE][,network-config=FILE]": the paths
 * (each strdup'ed, NULL where none), each name at most once, user-data or meta-data given. */
int cloud_init_spec_parse(const char *spec, char *ret[_CLOUD_INIT_FILE_MAX], char *err, size_t errlen);

/* NULL when valid, else why: a host name of RFC 1123 labels (letters, digits, '-', not at a label's
 * ends, 1..63 each, 253 in all). */
const char *cloud_init_hostname_invalid_reason(const char *name);
/* A file's text as the request brings it: at most CLOUD_INIT_FILE_MAX bytes, no NUL. */
const char *cloud_init_text_invalid_reason(const char *text, size_t len);
/* The user's meta-data, added after netd's keys: block-mapping lines that neither set instance-id or
 * local-hostname (netd's) nor start another document or a flow mapping. */
const char *cloud_init_meta_extra_invalid_reason(const char *text);
/* One public key line ("ssh-ed25519 AAAA... comment"), printable ASCII; a trailing newline is
 * allowed (netd drops it: cloud_init_ssh_key_trim). */
const char *cloud_init_ssh_key_invalid_reason(const char *key);
void cloud_init_ssh_key_trim(char *key);

/* meta-data: "instance-id: ...", "local-hostname: ..." (double-quoted: they read back as these
 * strings), then extra (may be NULL) as it is. Caller frees. */
char *cloud_init_meta_data_render(const char *instance_id, const char *hostname, const char *extra);
/* The user-data of --ssh-key: a #cloud-config with the key in ssh_authorized_keys. */
char *cloud_init_user_data_ssh(const char *key);
/* "iid-" and 32 hex digits from the 16 bytes given (netd's random ones). */
void cloud_init_instance_id_format(const unsigned char bytes[16], char ret[CLOUD_INIT_INSTANCE_ID_LEN + 1]);
bool cloud_init_instance_id_valid(const char *id);
