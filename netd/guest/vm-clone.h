/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vm clone (vm-clone.c): what the rest of netd asks of clones in the making. */
#pragma once

#include <stdbool.h>

struct daemon;

/* A vm clone --copy is copying the disks of guest name: it may not start (the copy would be torn). */
bool vm_clone_copying(const char *name);
/* A clone under way makes a guest of that name. */
bool vm_clone_making(const char *name);
/* At start: the disks of clones netd was killed in the middle of (<state>/clones/NEW, no
 * definition of NEW) removed. */
void vm_clone_recover(struct daemon *d);
