/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a guest definition file (/etc/netd/guests/NAME.conf), hand-written or netd's.
 * Whatever the parser accepts, netd must write back so that it reads back the same: render ->
 * parse -> render gives the same text and the same values (a value must not turn into a [nicN]
 * of its own, nor lose a part to a comment). The same bytes are also one value of one row of the
 * guest's schema table, through the file, a request and netdctl's options (schema-walk.h).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest-config.h"
#include "schema-kinds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_values(const struct guest *a, const struct guest *b)
{
	if (strcmp(a->kernel, b->kernel) || strcmp(a->initrd, b->initrd) || strcmp(a->append, b->append) ||
	    a->n_disks != b->n_disks || a->boot != b->boot || strcmp(a->cdrom, b->cdrom) ||
	    strcmp(a->vnc, b->vnc) || a->memory_mib != b->memory_mib || a->vcpus != b->vcpus ||
	    a->queues != b->queues || a->accel != b->accel || a->autostart != b->autostart ||
	    a->n_nics != b->n_nics ||
	    strcmp(a->uuid, b->uuid))
		return false;
	if (strcmp(a->cpu, b->cpu) || strcmp(a->vcpu_pin, b->vcpu_pin) ||
	    strcmp(a->emulator_pin, b->emulator_pin) || a->hugepages != b->hugepages ||
	    a->io_threads != b->io_threads)
		return false;
	for (size_t i = 0; i < a->n_disks; i++)
		if (strcmp(a->disks[i].path, b->disks[i].path) || a->disks[i].format != b->disks[i].format ||
		    a->disks[i].cache != b->disks[i].cache || a->disks[i].bus != b->disks[i].bus ||
		    a->disks[i].readonly != b->disks[i].readonly)
			return false;
	for (size_t i = 0; i < a->n_nics; i++)
		if (strcmp(a->nics[i].network, b->nics[i].network) ||
		    a->nics[i].has_mac != b->nics[i].has_mac ||
		    (a->nics[i].has_mac && !mac_equal(&a->nics[i].mac, &b->nics[i].mac)) ||
		    a->nics[i].has_generated_mac != b->nics[i].has_generated_mac ||
		    (a->nics[i].has_generated_mac &&
		     !mac_equal(&a->nics[i].generated_mac, &b->nics[i].generated_mac)))
			return false;
	return true;
}

/* The request path (attack 10 came that way): the input as a kernel path and as append. What
 * guest_validate lets through must be written so that it reads back the same. */
static void request_values(const uint8_t *data, size_t size)
{
	static struct guest g, back;
	char err[512], *rendered;
	size_t n = strnlen((const char *)data, size < GUEST_PATH_MAX - 1 ? size : GUEST_PATH_MAX - 1);

	guest_init(&g, "fuzz");
	g.n_nics = 1;
	snprintf(g.nics[0].network, sizeof(g.nics[0].network), "lab");
	memcpy(g.kernel, data, n);
	g.kernel[n] = 0;
	memcpy(g.append, data, n);
	g.append[n] = 0;
	if (!n || guest_validate(&g, err, sizeof(err)) < 0)
		return;
	rendered = guest_config_render(&g);
	if (!rendered || guest_config_parse("fuzz", rendered, &back, err, sizeof(err)) < 0 ||
	    !same_values(&g, &back))
		abort();
	free(rendered);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest g, back;
	char err[512], *text, *rendered, *again;

	request_values(data, size);
	walk_value(&guest_kind, data, size);

	/* Files are read as C strings: cut at the first NUL like the loader does. */
	text = strndup((const char *)data, size);
	if (!text)
		return 0;
	if (guest_config_parse("fuzz", text, &g, err, sizeof(err)) < 0) {
		free(text);
		return 0;
	}
	free(text);
	walk_roundtrip(&guest_kind, &g);
	/* The parser holds hand-written values to the renderer's rules: it can always write them. */
	rendered = guest_config_render(&g);
	if (!rendered)
		abort();
	if (guest_config_parse("fuzz", rendered, &back, err, sizeof(err)) < 0 || !same_values(&g, &back))
		abort();
	again = guest_config_render(&back);
	if (!again || strcmp(rendered, again))
		abort();
	free(again);
	free(rendered);
	return 0;
}
