#!/usr/bin/env bash
# The mvot driver: --help lists every command, --version, and usage errors are one line on
# stderr with exit 2.
set -u
. "$MVOT_SRC/tests/cli/lib.bash"

out=$("$MVOT_BIN" --help); rc=$?
expect_eq "$rc" 0 "mvot --help exit"
for cmd in build gen export-mvot import-mvot show bpe codebook tokenize-image pack verify cat \
           inspect retokenize eval gpucheck; do
  line=$(printf '%s\n' "$out" | grep -E "^  $cmd +[A-Za-z]")
  [ -n "$line" ] || fail "mvot --help does not list '$cmd' with a description"
done

v=$("$MVOT_BIN" --version); expect_eq "$?" 0 "--version exit"
case "$v" in "mvot "[0-9]*) ;; *) fail "--version printed '$v'";; esac

expect_usage_error "$MVOT_BIN" frobnicate
expect_usage_error "$MVOT_BIN"
for cmd in build gen pack verify bpe codebook eval; do
  "$MVOT_BIN" $cmd --help >/dev/null || fail "mvot $cmd --help failed"
  expect_usage_error "$MVOT_BIN" $cmd --no-such-option
done
expect_usage_error "$MVOT_BIN" gen --threads 0
finish
