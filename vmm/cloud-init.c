/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cloud-init.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

static const char *const file_table[_CLOUD_INIT_FILE_MAX] = {
	[CLOUD_INIT_USER_DATA] = "user-data",
	[CLOUD_INIT_META_DATA] = "meta-data",
	[CLOUD_INIT_NETWORK_CONFIG] = "network-config",
};

const char *cloud_init_file_to_string(enum cloud_init_file f)
{
	return f >= 0 && f < _CLOUD_INIT_FILE_MAX ? file_table[f] : NULL;
}

enum cloud_init_file cloud_init_file_from_string(const char *s)
{
	for (int i = 0; i < _CLOUD_INIT_FILE_MAX; i++)
		if (s && !strcmp(s, file_table[i]))
			return i;
	return _CLOUD_INIT_FILE_INVALID;
}

static void spec_free(char *ret[_CLOUD_INIT_FILE_MAX])
{
	for (int i = 0; i < _CLOUD_INIT_FILE_MAX; i++)
		free(TAKE_PTR(ret[i]));
}

int cloud_init_spec_parse(const char *spec, char *ret[_CLOUD_INIT_FILE_MAX], char *err, size_t errlen)
{
	_cleanup_free_ char *copy = strdup(spec);
	char *save = NULL;

	for (int i = 0; i < _CLOUD_INIT_FILE_MAX; i++)
		ret[i] = NULL;
	if (!copy)
		return -ENOMEM;
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		enum cloud_init_file f;

		if (eq)
			*eq = 0;
		f = cloud_init_file_from_string(item);
		if (f < 0 || !eq || !eq[1]) {
			snprintf(err, errlen,
				 "invalid --cloud-init '%.200s': expected user-data=FILE[,meta-data=FILE]"
				 "[,network-config=FILE]",
				 spec);
			goto fail;
		}
		if (ret[f]) {
			snprintf(err, errlen, "invalid --cloud-init '%.200s': %s given twice", spec, item);
			goto fail;
		}
		ret[f] = strdup(eq + 1);
		if (!ret[f]) {
			spec_free(ret);
			return -ENOMEM;
		}
	}
	if (!ret[CLOUD_INIT_USER_DATA] && !ret[CLOUD_INIT_META_DATA] && !ret[CLOUD_INIT_NETWORK_CONFIG]) {
		snprintf(err, errlen,
			 "invalid --cloud-init '%.200s': name at least one file (user-data=FILE)", spec);
		goto fail;
	}
	return 0;
fail:
	spec_free(ret);
	return -EINVAL;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

const char *cloud_init_hostname_invalid_reason(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0)
		return "is empty";
	if (len > CLOUD_INIT_HOSTNAME_MAX)
		return "is longer than 253 characters";
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];

		if (c == '.' || c == 0) {
			if (label == 0)
				return "has an empty label (a '.' at the start or end, or two in a row)";
			if (name[i - 1] == '-')
				return "has a label that ends with '-'";
			label = 0;
			continue;
		}
		if (!is_alnum(c) && c != '-')
			return "may hold letters, digits, '-' and '.' only";
		if (c == '-' && label == 0)
			return "has a label that starts with '-'";
		if (++label > 63)
			return "has a label longer than 63 characters";
	}
	return NULL;
}

const char *cloud_init_text_invalid_reason(const char *text, size_t len)
{
	if (len > CLOUD_INIT_FILE_MAX)
		return "is larger than 16 KiB";
	if (strlen(text) != len)
		return "holds a NUL byte";
	return NULL;
}

/* key at the start of line, plain or quoted, followed by optional blanks and ':' */
static bool line_sets(const char *line, const char *key)
{
	size_t n = strlen(key);
	char quote = *line == '"' || *line == '\'' ? *line++ : 0;

	if (strncmp(line, key, n))
		return false;
	line += n;
	if (quote && *line++ != quote)
		return false;
	line += strspn(line, " \t");
	return *line == ':';
}

/* "key: value" on this line, the value a plain scalar (which an indented next line cannot nest under) */
static bool has_plain_value(const char *line)
{
	const char *end = strchrnul(line, '\n'), *v;

	for (const char *c = line; c < end; c++) {
		if (*c != ':' || (c + 1 < end && c[1] != ' ' && c[1] != '\t' && c[1] != '\r'))
			continue;
		v = c + 1 + strspn(c + 1, " \t");
		return v < end && *v != '\r' && !strchr("\"'|>#[{&!*", *v);
	}
	return false;
}

/*
 * The user's meta-data is appended to netd's two keys, so it must not be able to set them again.
 * YAML breaks lines on \n, \r, NEL, U+2028 and U+2029, and skips a BOM: netd accepts only
 * printable ASCII and tabs, with \n or \r\n line ends, so that its line split is YAML's. A first
 * content line that is indented would continue netd's last key (the whole meta-data would not
 * parse), and a tab cannot indent YAML: both are refused with a clear reason.
 */
const char *cloud_init_meta_extra_invalid_reason(const char *text)
{
	bool content = false, plain_value = false;
	size_t indent = 0;

	for (const char *p = text; *p; p++) {
		unsigned char c = *p;

		if (c == '\r' && p[1] != '\n')
			return "has a carriage return that does not end a line (use \\n or \\r\\n line ends)";
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c >= 0x7f)
			return "holds a character that is not printable ASCII or a tab (YAML would read some as line "
			       "breaks)";
	}
	for (const char *line = text; *line; line = strchrnul(line, '\n'), line += *line == '\n') {
		const char *t = line + strspn(line, " \t");

		if (line[0] == '\t')
			return "indents a line with a tab, which YAML refuses";
		if (!content && *t && *t != '\n' && *t != '\r' && *t != '#') {
			if (t != line)
				return "starts with an indented line: it would continue netd's local-hostname and the "
				       "meta-data would not parse";
			content = true;
		}
		if (*t && *t != '\n' && *t != '\r' && *t != '#') {
			if (plain_value && (size_t)(t - line) > indent)
				return "indents a line under a key that already has a plain value (YAML would not parse "
				       "it: quote the value or nest under a key without one)";
			plain_value = has_plain_value(t);
			indent = t - line;
		}
		if (line_sets(line, "instance-id") || line_sets(line, "local-hostname"))
			return "sets instance-id or local-hostname, which netd writes itself (use --hostname)";
		if (!strncmp(line, "---", 3) || !strncmp(line, "...", 3) || line[0] == '%')
			return "starts a YAML document or directive: netd adds its keys to the one mapping";
		if (line[0] == '"' && memchr(line, '\\', strchrnul(line, '\n') - line))
			return "has a double-quoted key with an escape: write plain key: value lines";
		if (line[0] == '?' || line[0] == '&' || line[0] == '*' || line[0] == '!')
			return "starts a line with a YAML complex key, anchor, alias or tag: write plain key: value lines";
		if (line[0] == '{' || line[0] == '[' ||
		    (line[0] == '-' && (line[1] == ' ' || line[1] == '\n' || !line[1])))
			return "is not a block mapping (key: value lines): netd adds its keys to it";
	}
	return NULL;
}

void cloud_init_ssh_key_trim(char *key)
{
	size_t n = strlen(key);

	while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r' || key[n - 1] == ' '))
		key[--n] = 0;
}

const char *cloud_init_ssh_key_invalid_reason(const char *key)
{
	static const char *const types[] = { "ssh-ed25519 ",   "ssh-rsa ",
					     "ecdsa-sha2-",    "sk-ssh-ed25519@openssh.com ",
					     "sk-ecdsa-sha2-", "ssh-dss " };
	size_t len = strlen(key);
	bool known = false;

	while (len > 0 && (key[len - 1] == '\n' || key[len - 1] == '\r' || key[len - 1] == ' '))
		len--;
	if (len == 0)
		return "is empty";
	if (len > CLOUD_INIT_SSH_KEY_MAX)
		return "is longer than 8 KiB";
	for (size_t i = 0; i < ELEMENTSOF(types); i++)
		known |= !strncmp(key, types[i], strlen(types[i]));
	if (!known)
		return "is not an OpenSSH public key line (ssh-ed25519, ssh-rsa, ecdsa-sha2-..., sk-...: the .pub "
		       "file, not the private key)";
	for (size_t i = 0; i < len; i++)
		if (key[i] < 0x20 || key[i] > 0x7e)
			return key[i] == '\n' ? "holds more than one line (give one public key)" :
						"holds a character that is not printable ASCII";
	return NULL;
}

/* s in YAML double quotes: '"' and '\' escaped (the callers' strings are printable ASCII). */
static int append_quoted(char *buf, size_t size, size_t *len, const char *s)
{
	if (*len + 2 >= size)
		return -ENOBUFS;
	buf[(*len)++] = '"';
	for (; *s; s++) {
		if (*len + 3 >= size)
			return -ENOBUFS;
		if (*s == '"' || *s == '\\')
			buf[(*len)++] = '\\';
		buf[(*len)++] = *s;
	}
	buf[(*len)++] = '"';
	buf[*len] = 0;
	return 0;
}

char *cloud_init_meta_data_render(const char *instance_id, const char *hostname, const char *extra)
{
	size_t size = strlen(instance_id) + 2 * strlen(hostname) + (extra ? strlen(extra) : 0) + 64, len = 0;
	char *buf = malloc(size);

	if (!buf)
		return NULL;
	len = snprintf(buf, size, "instance-id: ");
	append_quoted(buf, size, &len, instance_id);
	len += snprintf(buf + len, size - len, "\nlocal-hostname: ");
	append_quoted(buf, size, &len, hostname);
	len += snprintf(buf + len, size - len, "\n%s", extra ?: "");
	if (extra && *extra && extra[strlen(extra) - 1] != '\n')
		snprintf(buf + len, size - len, "\n");
	return buf;
}

char *cloud_init_user_data_ssh(const char *key)
{
	size_t size = 2 * strlen(key) + 64, len = 0;
	char *buf = malloc(size);

	if (!buf)
		return NULL;
	len = snprintf(buf, size, "#cloud-config\nssh_authorized_keys:\n  - ");
	append_quoted(buf, size, &len, key);
	snprintf(buf + len, size - len, "\n");
	return buf;
}

void cloud_init_instance_id_format(const unsigned char bytes[16], char ret[CLOUD_INIT_INSTANCE_ID_LEN + 1])
{
	int n = snprintf(ret, CLOUD_INIT_INSTANCE_ID_LEN + 1, "iid-");

	for (int i = 0; i < 16; i++)
		n += snprintf(ret + n, CLOUD_INIT_INSTANCE_ID_LEN + 1 - n, "%02x", bytes[i]);
}

bool cloud_init_instance_id_valid(const char *id)
{
	if (strlen(id) != CLOUD_INIT_INSTANCE_ID_LEN || strncmp(id, "iid-", 4))
		return false;
	return strspn(id + 4, "0123456789abcdef") == 32;
}
