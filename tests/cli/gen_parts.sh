#!/bin/bash
# mvot gen --part I/N + mvot merge (docs/cluster.md): N = 1, 2, 4 parts of one config merge to
# the exact bytes of a one-process gen; re-running a part reproduces its bytes; a missing, a
# duplicated or a foreign part is refused naming it; --part parsing and --part auto read the
# Slurm and Kubernetes variables and refuse bad or missing ones with exit 2.
set -u
. "$(dirname "$0")/lib.bash"
BIN=${MVOT_BIN:?}
T=$(t_tmp)
trap 'rm -rf "$T"' EXIT
args=(gen --task all --episodes 10 --seed 11 --image-size 128 --max-steps 6 --quiet)
"$BIN" "${args[@]}" --out "$T/one" || exit 1

for n in 1 2 4; do
    for ((i = 0; i < n; i++)); do
        "$BIN" "${args[@]}" --part "$i/$n" --out "$T/p$n" --threads 1 || fail "part $i/$n failed"
    done
    "$BIN" merge --quiet "$T/p$n"/part-* --out "$T/m$n" || fail "merge of $n parts failed"
    T_CHECKS=$((T_CHECKS + 2))
    cmp -s "$T/m$n/episodes.tar.zst" "$T/one/episodes.tar.zst" || fail "N=$n: merged archive differs"
    cmp -s "$T/m$n/manifest.json" "$T/one/manifest.json" || fail "N=$n: merged manifest differs"
done
# the part manifest's own fields are in its spec (docs/episode-format.md)
SPEC=${MVOT_SRC:-$(dirname "$0")/../..}/docs/episode-format.md
for k in $(/usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["format"], *m["part"])' \
    "$T/p2/part-00001-of-00002/manifest.json"); do
    T_CHECKS=$((T_CHECKS + 1))
    grep -q "\`\"\?$k\"\?\`" "$SPEC" || fail "part manifest field $k is not in docs/episode-format.md"
done
# parts given in any order merge the same
"$BIN" merge --quiet "$T/p4/part-00003-of-00004" "$T/p4/part-00001-of-00004" \
    "$T/p4/part-00000-of-00004" "$T/p4/part-00002-of-00004" --out "$T/m4r" || fail "reordered merge"
expect_eq "$(cmp -s "$T/m4r/episodes.tar.zst" "$T/one/episodes.tar.zst" && echo same)" same "reordered merge"

# a re-run part (another thread count, as a re-queued array task would be) reproduces its bytes
"$BIN" "${args[@]}" --part 2/4 --out "$T/rerun" --threads 2 || fail "re-run part failed"
for f in episodes.tar.zst manifest.json; do
    expect_eq "$(cmp -s "$T/rerun/part-00002-of-00004/$f" "$T/p4/part-00002-of-00004/$f" && echo same)" same "re-run part 2/4 $f"
done

# a re-queued task re-runs into its own earlier folder, a merge re-runs over its earlier output
cp "$T/p4/part-00002-of-00004/episodes.tar.zst" "$T/before.tar.zst"
"$BIN" "${args[@]}" --part 2/4 --out "$T/p4" || fail "re-run into the same part folder"
expect_eq "$(cmp -s "$T/p4/part-00002-of-00004/episodes.tar.zst" "$T/before.tar.zst" && echo same)" same "re-run in place"
"$BIN" merge --quiet "$T/p4"/part-* --out "$T/m4" || fail "merge re-run over its output"
expect_eq "$(cmp -s "$T/m4/episodes.tar.zst" "$T/one/episodes.tar.zst" && echo same)" same "merge re-run"

# refusals: missing, duplicated, foreign (another seed), corrupt archive
expect_refused() { # expect_refused WHAT PATTERN ARGS...: exit 2 or 1, one line matching PATTERN
    local what=$1 pat=$2 err rc
    shift 2
    T_CHECKS=$((T_CHECKS + 1))
    err=$("$BIN" merge "$@" 2>&1 >/dev/null); rc=$?
    { [ "$rc" = 1 ] || [ "$rc" = 2 ]; } || { fail "$what: exit $rc"; return; }
    printf '%s\n' "$err" | grep -q -- "$pat" || fail "$what: message '$err' lacks '$pat'"
    [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] || fail "$what: not one line: $err"
}
expect_refused "missing part" "part 2/4 is missing" --out "$T/x1" \
    "$T/p4/part-00000-of-00004" "$T/p4/part-00001-of-00004" "$T/p4/part-00003-of-00004"
expect_refused "duplicated part" "part 2/4 is given twice" --out "$T/x2" "$T/p4"/part-* \
    "$T/rerun/part-00002-of-00004" "$T/p4/part-00001-of-00004"
"$BIN" gen --task all --episodes 10 --seed 12 --image-size 128 --max-steps 6 --quiet \
    --part 1/2 --out "$T/other" || fail "foreign part"
expect_refused "foreign part" "not the same run" --out "$T/x3" "$T/p2/part-00000-of-00002" \
    "$T/other/part-00001-of-00002"
expect_refused "mixed N" "part of 4" --out "$T/x4" "$T/p2/part-00000-of-00002" "$T/p4/part-00001-of-00004"
expect_refused "not a part" "is not a part" --out "$T/x5" "$T/one"
cp -r "$T/p2" "$T/bad"
printf 'x' >>"$T/bad/part-00001-of-00002/episodes.tar.zst"
expect_refused "corrupt part" "re-run part 1" --out "$T/x6" "$T/bad"/part-*
expect_eq "$(ls "$T" | grep -c '^x')" 0 "refused merges leave no output folder"

# --part parsing: one place (tools/part.c), exit 2 with one line
g=("$BIN" gen --episodes 1 --image-size 128 --quiet --out "$T/u")
for bad in 4/4 -1/4 1/0 a/4 1/ /4 "1 /4" 1/4/4 1/100001 auto; do
    expect_usage_error env -u SLURM_ARRAY_TASK_ID -u JOB_COMPLETION_INDEX "${g[@]}" --part "$bad"
done
expect_usage_error env SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_TASK_COUNT=4 "${g[@]}" --part auto
expect_usage_error env SLURM_ARRAY_TASK_ID=x SLURM_ARRAY_TASK_COUNT=4 "${g[@]}" --part auto
expect_usage_error env -u SLURM_ARRAY_TASK_ID -u MVOT_PART_COUNT JOB_COMPLETION_INDEX=0 "${g[@]}" --part auto
expect_usage_error env -u SLURM_ARRAY_TASK_ID JOB_COMPLETION_INDEX=3 MVOT_PART_COUNT=3 "${g[@]}" --part auto
# auto resolves to the same folder as the explicit part: a Slurm array starting at 1, and k8s
env SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=4 \
    "$BIN" "${args[@]}" --part auto --out "$T/auto" || fail "--part auto (Slurm) failed"
env -u SLURM_ARRAY_TASK_ID JOB_COMPLETION_INDEX=3 MVOT_PART_COUNT=4 \
    "$BIN" "${args[@]}" --part auto --out "$T/auto" || fail "--part auto (Kubernetes) failed"
for p in part-00001-of-00004 part-00003-of-00004; do
    expect_eq "$(cmp -s "$T/auto/$p/episodes.tar.zst" "$T/p4/$p/episodes.tar.zst" && echo same)" same "--part auto $p"
done
finish
