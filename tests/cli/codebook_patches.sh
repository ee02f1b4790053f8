#!/bin/bash
# mvot codebook collect + train --patches (docs/patch-stats-format.md): the patch statistics
# of 3 gen parts train a codebook byte-identical to training on the one-process archive, in
# the exact case and in the subsampled k-means case, from the part files in any order and
# from one whole-set file; collect is deterministic across --threads and re-runs; a missing,
# duplicated or foreign part is exit 2 naming it; a corrupt or truncated file is exit 1
# naming it; --out never replaces a file that is not patch statistics (collect) or a codebook
# (train).
set -u
. "$(dirname "$0")/lib.bash"
BIN=${MVOT_BIN:?}
T=$(t_tmp)
trap 'rm -rf "$T"' EXIT
args=(gen --task all --episodes 4 --seed 3 --image-size 128 --max-steps 6 --quiet)
"$BIN" "${args[@]}" --out "$T/one" || exit 1
for i in 0 1 2; do
    "$BIN" "${args[@]}" --part "$i/3" --out "$T/p" || exit 1
    "$BIN" codebook collect --quiet --episodes "$T/p/part-0000$i-of-00003" --out "$T/s$i.mvps" --threads 1 \
        || fail "collect part $i"
done
"$BIN" codebook collect --quiet --episodes "$T/one/episodes.tar.zst" --out "$T/whole.mvps" || fail "collect whole"

# collect: the same bytes at another thread count, and again over its own earlier file
"$BIN" codebook collect --quiet --episodes "$T/p/part-00001-of-00003" --out "$T/s1b.mvps" --threads 2 || fail "collect --threads 2"
"$BIN" codebook collect --quiet --episodes "$T/p/part-00001-of-00003" --out "$T/s1b.mvps" || fail "collect over its own file"
expect_eq "$(cmp -s "$T/s1.mvps" "$T/s1b.mvps" && echo same)" same "collect across --threads and re-runs"
j=$("$BIN" codebook collect --quiet --json --episodes "$T/p/part-00002-of-00003" --out "$T/s2.mvps")
expect_eq "$(printf '%s' "$j" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["part"]["index"], j["part"]["count"], j["frames"] > 0)')" \
    "2 3 True" "collect --json names the part"

# training: exact (every distinct patch a code) and subsampled k-means (--max-patches below
# the distinct count), each from the archive, the 3 parts shuffled, and the whole-set file
for mode in exact km; do
    opt=()
    [ "$mode" = km ] && opt=(--k 8 --max-patches 16 --iters 3 --seed 9)
    "$BIN" codebook train --quiet "${opt[@]}" --episodes "$T/one/episodes.tar.zst" --out "$T/$mode-direct.safetensors" \
        || fail "$mode: train --episodes"
    "$BIN" codebook train --quiet "${opt[@]}" --patches "$T/s2.mvps" "$T/s0.mvps" "$T/s1.mvps" --out "$T/$mode-parts.safetensors" \
        || fail "$mode: train --patches (3 parts)"
    "$BIN" codebook train --quiet "${opt[@]}" --patches "$T/s1.mvps" --patches "$T/s0.mvps" --patches "$T/s2.mvps" \
        --out "$T/$mode-parts2.safetensors" || fail "$mode: train --patches repeated"
    "$BIN" codebook train --quiet "${opt[@]}" --patches "$T/whole.mvps" --out "$T/$mode-whole.safetensors" \
        || fail "$mode: train --patches (1 file)"
    "$BIN" codebook train --quiet "${opt[@]}" --threads 2 --patches "$T/s0.mvps" "$T/s1.mvps" "$T/s2.mvps" \
        --out "$T/$mode-threads.safetensors" || fail "$mode: train --patches --threads 2"
    for v in parts parts2 whole threads; do
        expect_eq "$(cmp -s "$T/$mode-direct.safetensors" "$T/$mode-$v.safetensors" && echo same)" same \
            "$mode: codebook from --patches ($v) vs --episodes"
    done
done
# the two modes really are the two paths
st=$("$BIN" codebook train --quiet --json --k 8 --max-patches 16 --iters 3 --seed 9 --patches "$T/s0.mvps" "$T/s1.mvps" "$T/s2.mvps" --out "$T/km-json.safetensors")
expect_eq "$(printf '%s' "$st" | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin)["stats"]; print(s["algorithm"], s["points"] < s["distinct"])')" \
    "kmeans True" "subsampled k-means path"
st=$("$BIN" codebook train --quiet --json --patches "$T/s0.mvps" "$T/s1.mvps" "$T/s2.mvps" --out "$T/exact-json.safetensors")
expect_eq "$(printf '%s' "$st" | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin)["stats"]; print(s["algorithm"], s["points"] == s["distinct"])')" \
    "exact True" "exact path"

# part checks: exit 2, one line, naming the part
expect_part_error() { # WANT CMD...
    local want=$1 err rc
    shift
    T_CHECKS=$((T_CHECKS + 1))
    err=$("$@" 2>&1 >/dev/null); rc=$?
    [ "$rc" = 2 ] && [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] && printf '%s' "$err" | grep -qF -- "$want" \
        || fail "'$*': rc $rc, want 2 and '$want'; stderr: $err"
}
expect_part_error "part 1/3 is missing" "$BIN" codebook train --patches "$T/s0.mvps" "$T/s2.mvps" --out "$T/x.safetensors"
expect_part_error "s1.mvps: part 1/3 is given twice" "$BIN" codebook train --patches "$T/s0.mvps" "$T/s1.mvps" "$T/s1.mvps" "$T/s2.mvps" --out "$T/x.safetensors"
expect_part_error "whole.mvps: is not a gen part" "$BIN" codebook train --patches "$T/s0.mvps" "$T/s1.mvps" "$T/s2.mvps" "$T/whole.mvps" --out "$T/x.safetensors"
"$BIN" gen --task all --episodes 4 --seed 4 --image-size 128 --max-steps 6 --quiet --part 1/3 --out "$T/q" || exit 1
"$BIN" codebook collect --quiet --episodes "$T/q/part-00001-of-00003" --out "$T/other1.mvps" || fail "collect other run"
expect_part_error "other1.mvps: not the same run" "$BIN" codebook train --patches "$T/s0.mvps" "$T/other1.mvps" "$T/s2.mvps" --out "$T/x.safetensors"
expect_usage_error "$BIN" codebook train --patches "$T/s0.mvps" --episodes "$T/one/episodes.tar.zst" --out "$T/x.safetensors"
expect_usage_error "$BIN" codebook collect --episodes "$T/one"
T_CHECKS=$((T_CHECKS + 1))
[ -e "$T/x.safetensors" ] && fail "a refused train wrote its --out"

# corrupt files: exit 1, one line, naming the file
expect_corrupt() { # FILE WHAT
    local err rc
    T_CHECKS=$((T_CHECKS + 1))
    err=$("$BIN" codebook train --patches "$T/s0.mvps" "$1" "$T/s2.mvps" --out "$T/x.safetensors" 2>&1 >/dev/null); rc=$?
    [ "$rc" = 1 ] && [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] && printf '%s' "$err" | grep -qF "$1: offset" \
        || fail "$2: rc $rc, want 1 naming $1 and an offset; stderr: $err"
}
size=$(stat -c %s "$T/s1.mvps")
for off in 40 500 $((size - 1)); do # a header count, a patch byte, the last count's top byte
    cp "$T/s1.mvps" "$T/flip$off.mvps"
    printf '\x5a' | dd of="$T/flip$off.mvps" bs=1 seek="$off" conv=notrunc status=none
    expect_corrupt "$T/flip$off.mvps" "byte $off flipped"
done
head -c $((size - 100)) "$T/s1.mvps" > "$T/trunc.mvps"
expect_corrupt "$T/trunc.mvps" "truncated payload"
head -c 64 "$T/s1.mvps" > "$T/trunc64.mvps"
expect_corrupt "$T/trunc64.mvps" "truncated header"

# --out: a file that is not patch statistics is never replaced (exit 2, untouched)
printf 'keep me\n' > "$T/mine.txt"
expect_usage_error "$BIN" codebook collect --episodes "$T/one" --out "$T/mine.txt"
expect_usage_error "$BIN" codebook train --patches "$T/whole.mvps" --out "$T/mine.txt"
# nor into the gen folder it reads (a re-run of gen there would refuse the foreign file)
expect_usage_error "$BIN" codebook collect --episodes "$T/p/part-00000-of-00003" --out "$T/p/part-00000-of-00003/s.mvps"
T_CHECKS=$((T_CHECKS + 1))
[ -e "$T/p/part-00000-of-00003/s.mvps" ] && fail "collect wrote into the part folder"
expect_eq "$(cat "$T/mine.txt")" "keep me" "foreign --out left untouched"
# an earlier codebook is ours to replace
"$BIN" codebook train --quiet --patches "$T/whole.mvps" --out "$T/exact-direct.safetensors" || fail "train over its own earlier codebook"
finish
