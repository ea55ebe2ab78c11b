# bash completion for netdctl                                  -*- shell-script -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What may come at a word is asked from netdctl itself: "netdctl complete line CWORD WORD..." reads
# its own command table (the one --help prints) and asks netd for live names (networks, guests,
# disks, bridges, forward IDs, snapshots), with the --socket on the command line being completed.
# So this file holds no list of commands or options that could drift from netdctl's.
# Candidates come one a line; "@file" and "@dir" ask for the shell's own file name completion.

_netdctl()
{
	local cur prev words cword split=false
	if declare -F _init_completion >/dev/null; then
		# -s: "--format=q" is completed as the value of --format; -n ':': a MAC is one word
		_init_completion -s -n : || return
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
	fi

	local -a args=("${words[@]:0:cword}")
	if [[ $split == true ]]; then
		args+=("$prev")
	fi
	args+=("$cur")

	local prog=${words[0]}
	[[ $prog == \~/* ]] && prog=$HOME/${prog#\~/}
	local -a out=()
	local c files=
	mapfile -t out < <("$prog" complete line "$((${#args[@]} - 1))" "${args[@]}" 2>/dev/null)

	COMPREPLY=()
	for c in "${out[@]}"; do
		case $c in
		@file) files=f ;;
		@dir) files=${files:-d} ;;
		*) [[ $c == "$cur"* ]] && COMPREPLY+=("$c") ;;
		esac
	done
	if [[ $files ]]; then
		if declare -F _filedir >/dev/null; then
			if [[ $files == d ]]; then _filedir -d; else _filedir; fi
		else
			compopt -o filenames 2>/dev/null
			mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -"$files" -- "$cur")
		fi
	fi
	if declare -F __ltrim_colon_completions >/dev/null; then
		__ltrim_colon_completions "$cur"
	fi
	return 0
}
complete -F _netdctl netdctl
