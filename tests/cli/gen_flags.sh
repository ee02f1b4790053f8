#!/bin/bash
# mvot gen / export-mvot / import-mvot / show: bad flags exit 2 with exactly one line on stderr
# (the --sizes parser and config checks are covered in depth by tests/test_gen_format.c).
set -u
BIN=${MVOT_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
expect_usage() {
    local want="$1"
    shift
    "$BIN" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    local lines
    lines=$(wc -l <"$T/err")
    if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -q -- "$want" "$T/err"; then
        echo "FAIL: mvot $* -> rc=$rc, $lines stderr lines (want 2, 1 line containing '$want'):"
        cat "$T/err"
        fail=1
    fi
}
expect_usage "outside 3..6" gen --task maze --sizes 2 --out "$T/o"
expect_usage "outside 7..10" gen --task minibehavior --sizes 6 --out "$T/o"
expect_usage "episodes" gen --episodes 0 --out "$T/o"
expect_usage "unknown task 'mazes'" gen --task mazes --out "$T/o"
expect_usage "512, 256 or 128" gen --image-size 300 --out "$T/o"
expect_usage "grid or official" gen --style pretty --out "$T/o"
expect_usage "sprites need the official style" gen --task frozenlake --sprites "$T" --out "$T/o"
expect_usage "out DIR is required" gen --task maze
expect_usage "sum to 1" gen --split 0.5,0.5,0.5 --out "$T/o"
expect_usage "max-steps" gen --max-steps 100 --out "$T/o"
expect_usage "above --max-steps" gen --min-steps 9 --max-steps 3 --out "$T/o"
expect_usage "unknown or malformed option" gen --frobnicate --out "$T/o"
expect_usage "seed" gen --seed -1 --out "$T/o"
expect_usage "EPISODE_DIR" export-mvot --out "$T/x"
expect_usage "SRC" import-mvot --out "$T/x"
expect_usage "512, 256 or 128" import-mvot "$T" --out "$T/x" --image-size 100
expect_usage "--key KEY or --index N" show "$T" --out "$T/s.png"
# a missing input is a runtime failure (1), also one line
"$BIN" export-mvot "$T/nonexistent" --out "$T/x" 2>"$T/err"
rc=$?
if [ $rc -ne 1 ] || [ "$(wc -l <"$T/err")" -ne 1 ]; then
    echo "FAIL: export of a missing dir: rc=$rc"; cat "$T/err"; fail=1
fi
# nothing was written for the rejected runs
if [ -e "$T/o" ]; then echo "FAIL: a rejected gen created its output dir"; fail=1; fi
# --help works and exits 0
# (each mvot start costs ~1.5 s on the dev machine, so only two --help checks)
for c in gen show; do
    "$BIN" $c --help >"$T/h" || { echo "FAIL: $c --help"; fail=1; }
    grep -q "usage: mvot $c" "$T/h" || { echo "FAIL: $c --help text"; fail=1; }
done
exit $fail
