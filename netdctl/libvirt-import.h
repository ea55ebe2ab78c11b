/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A libvirt network definition (virsh net-dumpxml) as a network.create request. Pure: text in,
 * JSON out, no file, no socket. Runs in netdctl (unprivileged), never in netd: the XML is parsed by
 * libxml2 without network access, DTDs or entities (a DOCTYPE is refused).
 */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* The largest definition read: libvirt's own are a few KiB; thousands of reservations fit. */
#define LIBVIRT_XML_MAX (1024 * 1024)
/* libxml2's nesting limit without XML_PARSE_HUGE; libvirt's network definitions have 4 levels */
#define LIBVIRT_XML_DEPTH 256

struct libvirt_import {
	json_object *params; /* network.create's parameters (netd's JSON names); no "mode" if none maps */
	json_object *dropped; /* strings: what netd cannot express, by element ("<bandwidth>") */
	json_object *ignored; /* strings: left out on purpose, with why ("<uuid>: ...") */
	const char *fatal; /* static: why nothing may be imported, not even with --partial; or NULL */
};

/* Map the XML text. On success *ret owns three objects (libvirt_import_done()); on an XML that is
 * malformed, too large, not UTF-8, nested too deep, has a DOCTYPE or is no <network>: negative
 * errno and a message in err (what of the file it quotes has no terminal controls). */
int libvirt_import_parse(const char *xml, size_t len, struct libvirt_import *ret, char *err, size_t errlen);
void libvirt_import_done(struct libvirt_import *imp);
