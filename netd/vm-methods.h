/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vm.* methods of the control socket (vm.c). */
#pragma once

#include <json-c/json.h>

struct daemon;
struct call;

int method_vm_create(struct daemon *d, struct call *c, json_object *params);
int method_vm_start(struct daemon *d, struct call *c, json_object *params);
int method_vm_shutdown(struct daemon *d, struct call *c, json_object *params);
int method_vm_destroy(struct daemon *d, struct call *c, json_object *params);
int method_vm_reboot(struct daemon *d, struct call *c, json_object *params);
int method_vm_suspend(struct daemon *d, struct call *c, json_object *params);
int method_vm_resume(struct daemon *d, struct call *c, json_object *params);
int method_vm_delete(struct daemon *d, struct call *c, json_object *params);
int method_vm_list(struct daemon *d, struct call *c, json_object *params);
int method_vm_show(struct daemon *d, struct call *c, json_object *params);
int method_vm_set_network(struct daemon *d, struct call *c, json_object *params);
