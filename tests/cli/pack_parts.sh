#!/bin/bash
# mvot pack --part I/N + mvot merge (docs/cluster.md): N = 1, 2, 3 and 7 parts merge to the
# exact bytes of a one-process pack, with shards rolled by bytes inside blocks and with
# samples dropped (whole blocks of them, whose statistics the merge carries to the next
# shard); re-running a part reproduces its bytes, in a new folder and in place; a merge
# re-runs over its output; missing, duplicated, foreign and damaged parts are refused with
# one line naming them, before anything is written; a merged set reads and verifies.
set -u
. "$(dirname "$0")/lib.bash"
BIN=${MVOT_BIN:?}
T=$(t_tmp)
trap 'rm -rf "$T"' EXIT
"$BIN" gen --task all --episodes 8 --seed 21 --image-size 128 --max-steps 6 --quiet \
    --out "$T/ep" || exit 1
"$BIN" bpe train --episodes "$T/ep/episodes.tar.zst" --out "$T/tok.json" --vocab-size 9000 \
    --quiet || exit 1
"$BIN" codebook train --episodes "$T/ep/episodes.tar.zst" --out "$T/cb.safetensors" --k 32 \
    --iters 2 --quiet || exit 1

same_tree() { # same_tree A B WHAT: every file of A and B byte-identical (the lock aside)
    T_CHECKS=$((T_CHECKS + 1))
    diff -r -x .mvot.lock "$1" "$2" >/dev/null || fail "$3: trees differ"
}
# two configs: byte-rolled shards; and samples dropped (max-length) with tiny blocks
cfgs=("--shard-samples 24 --shard-bytes 40000"
    "--shard-samples 5 --max-length 420")
for c in 0 1; do
    args=(pack --episodes "$T/ep" --tokenizer "$T/tok.json" --codebook "$T/cb.safetensors"
        --image-seq-length 64 ${cfgs[$c]} --quiet)
    "$BIN" "${args[@]}" --out "$T/one$c" || fail "one-process pack $c"
    for n in 1 2 3 7; do
        for ((i = n - 1; i >= 0; i--)); do # last part first: order does not matter
            "$BIN" "${args[@]}" --part "$i/$n" --threads $((1 + i % 2)) --out "$T/p$c-$n" ||
                fail "config $c: part $i/$n failed"
        done
        "$BIN" merge --quiet "$T/p$c-$n"/part-* --out "$T/m$c-$n" || fail "config $c: merge of $n"
        same_tree "$T/one$c" "$T/m$c-$n" "config $c, N=$n"
    done
done
# the configs really exercise what they claim
/usr/bin/python3 - "$T/one0/manifest.json" "$T/one1/manifest.json" <<'P' || fail "configs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert any(s["file"].endswith("-000001.tar.zst") for s in a["shards"]), "no byte roll in a block"
assert b["totals"]["dropped"] > 0, "nothing dropped"
blocks = {(s["split"], s["block"]) for s in b["shards"]}
assert len(blocks) == len(b["shards"]), "one shard per block expected"
assert max(s["block"] for s in b["shards"] if s["split"] == "train") + 1 > \
    len([s for s in b["shards"] if s["split"] == "train"]), "no block without a shard"
P
"$BIN" verify --quiet "$T/m1-7" || fail "verify of a merged set"
"$BIN" cat --quiet "$T/m0-3" 5 >/dev/null || fail "cat of a merged set"
# and the Python reader (its deps are in scripts/deps-apt.txt, so missing ones fail here)
n=$(/usr/bin/python3 "${MVOT_SRC:-$(dirname "$0")/../..}/tools/python/mvot_reader.py" "$T/m0-3" | wc -l)
expect_eq "$n" "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["samples"])' \
    "$T/m0-3/manifest.json")" "Python reader over a merged set"

# retokenize in parts: a part takes a contiguous range of the source's shards and keeps their
# names, also when it starts inside a block (config 0's blocks hold several shards)
"$BIN" bpe train --episodes "$T/ep/episodes.tar.zst" --out "$T/tok2.json" --vocab-size 9100 \
    --quiet || exit 1
"$BIN" retokenize "$T/one0" --tokenizer "$T/tok2.json" --quiet --out "$T/r1" || fail "retokenize"
for n in 2 5; do
    for ((i = 0; i < n; i++)); do
        "$BIN" retokenize "$T/one0" --tokenizer "$T/tok2.json" --quiet --part "$i/$n" \
            --out "$T/rp$n" || fail "retokenize part $i/$n"
    done
    "$BIN" merge --quiet "$T/rp$n"/part-* --out "$T/rm$n" || fail "merge of retokenize parts"
    same_tree "$T/r1" "$T/rm$n" "retokenize N=$n"
done

# export in parts: one output (one Megatron prefix) per part; the parts' JSON lines, in part
# order, are the whole set's; more parts than shards leaves some parts empty
"$BIN" export "$T/one1" --format jsonl --quiet --out "$T/j1" || fail "export"
for ((i = 0; i < 40; i++)); do
    "$BIN" export "$T/one1" --format jsonl --quiet --part "$i/40" --out "$T/j40" ||
        fail "export part $i/40"
done
for s in train dev test; do
    [ -e "$T/j1/$s.jsonl" ] || continue
    T_CHECKS=$((T_CHECKS + 1))
    cat "$T/j40"/part-*/"$s.jsonl" | cmp -s - "$T/j1/$s.jsonl" || fail "export parts: $s differs"
done
"$BIN" export "$T/one1" --format megatron --quiet --part 1/2 --out "$T/meg" || fail "megatron part"
expect_eq "$(ls "$T/meg/part-00001-of-00002" | grep -c '^train\(_labels\)\?\.\(bin\|idx\)$')" 4 \
    "megatron part: one train prefix of tokens and one of labels"

# the part manifest's own fields are in its spec
SPEC=${MVOT_SRC:-$(dirname "$0")/../..}/docs/cluster.md
for k in $(/usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["format"], *m["part"])' \
    "$T/p1-3/part-00001-of-00003/manifest.json"); do
    T_CHECKS=$((T_CHECKS + 1))
    grep -q "\`\"\?$k\"\?\`" "$SPEC" || fail "part manifest field $k is not in docs/cluster.md"
done

args=(pack --episodes "$T/ep" --tokenizer "$T/tok.json" --codebook "$T/cb.safetensors"
    --image-seq-length 64 ${cfgs[1]} --quiet)
# a re-run part reproduces its bytes: elsewhere, and in place (a re-queued array task)
"$BIN" "${args[@]}" --part 4/7 --threads 2 --out "$T/rerun" || fail "re-run part"
same_tree "$T/rerun/part-00004-of-00007" "$T/p1-7/part-00004-of-00007" "re-run part 4/7"
cp -r "$T/p1-7/part-00004-of-00007" "$T/before"
"$BIN" "${args[@]}" --part 4/7 --out "$T/p1-7" || fail "re-run in place"
same_tree "$T/before" "$T/p1-7/part-00004-of-00007" "re-run in place"
"$BIN" merge --quiet "$T/p1-7"/part-* --out "$T/m1-7" || fail "merge re-run over its output"
same_tree "$T/one1" "$T/m1-7" "merge re-run"

expect_refused() { # WHAT PATTERN ARGS...: exit 2 or 1, one line matching PATTERN
    local what=$1 pat=$2 err rc
    shift 2
    T_CHECKS=$((T_CHECKS + 1))
    err=$("$BIN" merge "$@" 2>&1 >/dev/null)
    rc=$?
    [ $rc = 2 ] || [ $rc = 1 ] || fail "$what: exit $rc, want 1 or 2"
    printf '%s\n' "$err" | grep -q -- "$pat" || fail "$what: message '$err' lacks '$pat'"
    [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] || fail "$what: not one line: $err"
}
expect_refused "missing part" "part 2/3 is missing" --out "$T/x1" \
    "$T/p1-3/part-00000-of-00003" "$T/p1-3/part-00001-of-00003"
expect_refused "duplicated part" "part 1/3 is given twice" --out "$T/x2" "$T/p1-3"/part-* \
    "$T/p1-3/part-00001-of-00003"
expect_refused "foreign part" "not the same run" --out "$T/x3" "$T/p1-3/part-00000-of-00003" \
    "$T/p1-3/part-00001-of-00003" "$T/p0-3/part-00002-of-00003"
expect_refused "mixed N" "part of 3" --out "$T/x4" "$T/p1-2/part-00000-of-00002" \
    "$T/p1-3/part-00001-of-00003"
cp -r "$T/p1-3" "$T/bad"
f=$(ls "$T/bad/part-00001-of-00003"/*/shard-*.tar.zst | head -1)
printf 'x' >>"$f"
expect_refused "damaged part" "re-run part 1" --out "$T/x5" "$T/bad"/part-*
expect_eq "$(ls "$T" | grep -c '^x')" 0 "refused merges leave no output folder"
# a merge never replaces what it did not make
mkdir -p "$T/y/train" && echo mine >"$T/y/train/notes.txt"
expect_refused "foreign file in --out" "notes.txt" --out "$T/y" "$T/p1-3"/part-*
expect_eq "$(cat "$T/y/train/notes.txt")" mine "foreign file kept"
finish
