#!/usr/bin/env bash
# Smoke-run one libFuzzer target over a copy of its seed corpus (the tree's corpus stays untouched).
# usage: run-fuzz.sh FUZZER CORPUS_DIR ARTIFACT_DIR [SECONDS]
set -euo pipefail

fuzzer=$1 corpus=$2 artifacts=$3 seconds=${4:-20}
name=$(basename "$fuzzer")
work=$(mktemp -d "${TMPDIR:-/tmp}/netd-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/corpus" "$artifacts"
cp -r "$corpus"/. "$work/corpus/"
log="$artifacts/$name.log"
rc=0
# libFuzzer exits 77 on a finding by default, which meson counts as a skip: make it a failure.
"$fuzzer" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-artifact_prefix="$artifacts/$name-" "$work/corpus" >"$log" 2>&1 || rc=$?
# The whole log is kept; its tail has the final stats or the crash report.
tail -n 60 "$log"
if ((rc != 0)); then
	echo "run-fuzz: $name failed (exit $rc); full log $log, reproducer $artifacts/$name-*" >&2
	echo "run-fuzz: replay with: $fuzzer $artifacts/$name-<crash-file>" >&2
fi
exit "$rc"
