/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shell completion (netdctl complete): what may come at a word of a netdctl command line, read off
 * netdctl's own verb table (its usage synopses and schema options), so that the completion cannot
 * drift from the commands; live names are asked from netd.
 */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>

#include "schema.h"

/* One row of netdctl's verb table, as far as completion reads it. */
struct complete_cmd {
	const char *noun;
	const char *verb; /* NULL: the noun is the whole command ("status") */
	const char *usage; /* --help's text: the synopsis lines, then the description */
	const struct schema *schema; /* its options; NULL: none */
	const char *tail; /* --help's text after the schema's options */
};

/* What a word may be besides the literal words written out. */
enum {
	COMPLETE_NETWORKS = 1 << 0,
	COMPLETE_GUESTS = 1 << 1,
	COMPLETE_DISKS = 1 << 2,
	COMPLETE_BRIDGES = 1 << 3,
	COMPLETE_INTERFACES = 1 << 4, /* the host's interfaces (/sys/class/net) */
	COMPLETE_FORWARDS = 1 << 5, /* forward IDs of the network arg names */
	COMPLETE_SNAPSHOTS = 1 << 6, /* snapshots of the guest arg names */
	COMPLETE_MODES = 1 << 7, /* the network modes */
	COMPLETE_FILES = 1 << 8,
	COMPLETE_DIRS = 1 << 9,
};

struct complete_what {
	unsigned kinds;
	const char *arg; /* for FORWARDS and SNAPSHOTS: the command line's first argument */
};

/* Word cword of words (words[0] is netdctl; cword may be n_words: a new word): its literal
 * candidates one a line into f, the other kinds into ret. Pure. */
void complete_line(const struct complete_cmd *cmds, size_t n_cmds, char **words, size_t n_words, size_t cword,
		   FILE *f, struct complete_what *ret);
/* The options of the command noun [verb words], one a line: 0, or -ENOENT for no such command. */
int complete_options(const struct complete_cmd *cmds, size_t n_cmds, char **words, size_t n_words, FILE *f);
/* The value of --socket on a command line being completed, or NULL. */
const char *complete_socket(char **words, size_t n_words);

typedef int (*complete_call_fn)(const char *method, json_object *params, json_object **ret_reply);

/* netdctl complete KIND [ARG...] (argv[0] is "complete"): 0, or 2 on a usage error (said on
 * stderr). Never says anything about netd: unreachable or refusing, it completes nothing. */
int complete_main(const struct complete_cmd *cmds, size_t n_cmds, int argc, char **argv,
		  complete_call_fn call, const char **socket);
