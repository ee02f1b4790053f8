#!/bin/bash
# `mvot build --slurm` without Slurm (docs/cluster.md): --dry-run writes the sbatch files and
# submit.sh in the documented shape; the `exec` line of each file, run by hand with the
# array variables Slurm would set (tasks in shuffled order, one task run twice, stages
# re-run), gives the exact bytes of a one-process `mvot build`; a missing part makes the
# merging stage fail with exit 2 naming it; a stage refuses a config other than its build's;
# and the submission itself (a stand-in sbatch on PATH) chains the jobs with afterok and
# prints their ids.
set -u
. "$(dirname "$0")/lib.bash"
BIN=${MVOT_BIN:?}
T=$(t_tmp)
trap 'rm -rf "$T"' EXIT
cat >"$T/cfg.json" <<'J'
{"gen": {"episodes": 6, "image_size": 128, "min_steps": 1, "max_steps": 5},
 "codebook": {"K": 32, "max_iters": 2}, "pack": {"shard_samples": 16}}
J
"$BIN" build --quiet --config "$T/cfg.json" --out "$T/one" --threads 2 || exit 1

# --- the files ---
O=$T/split
"$BIN" build --quiet --config "$T/cfg.json" --out "$O" --slurm --parts 3 --dry-run --threads 1 \
    --partition debug --time 00:20:00 || fail "--slurm --dry-run"
S=$O/slurm
expect_eq "$(cd "$S" && ls | tr '\n' ' ')" "1-plan.sbatch 2-render.sbatch 3-train.sbatch 4-pack.sbatch 5-finish.sbatch logs submit.sh " "files in OUT/slurm"
expect_eq "$(cmp -s "$O/build-config.json" "$T/one/build-config.json" && echo same)" same "build-config.json as the one-process build's"
for f in "$S"/*.sbatch; do
    st=$(basename "$f" .sbatch)
    st=${st#*-}
    for d in "--job-name=mvot-$st" --cpus-per-task=1 --time=00:20:00 --partition=debug --requeue \
        --kill-on-invalid-dep=yes; do
        expect_eq "$(grep -cx -- "#SBATCH $d" "$f")" 1 "$st: #SBATCH $d"
    done
    expect_eq "$(grep -c '^exec ' "$f")" 1 "$st: one exec line"
    expect_eq "$(grep -c -- "--stage $st " "$f")" 1 "$st: runs --stage $st"
    case $st in
    render | pack)
        expect_eq "$(grep -cx '#SBATCH --array=0-2' "$f")" 1 "$st: the array"
        expect_eq "$(grep -c -- '--part auto ' "$f")" 1 "$st: --part auto"
        expect_eq "$(grep -c -- "--output=$S/logs/%x-%A_%a.log" "$f")" 1 "$st: array log name" ;;
    *)
        expect_eq "$(grep -c '^#SBATCH --array' "$f")" 0 "$st: no array"
        expect_eq "$(grep -c -- "--output=$S/logs/%x-%j.log" "$f")" 1 "$st: log name" ;;
    esac
done
expect_eq "$(grep -c -- '--parts 3 ' "$S/3-train.sbatch" "$S/5-finish.sbatch" | tr '\n' ' ')" \
    "$S/3-train.sbatch:1 $S/5-finish.sbatch:1 " "merging stages take --parts 3"
# submit.sh: each job after the one before it
expect_eq "$(grep -o 'sbatch --parsable [^|]*' "$S/submit.sh" | sed "s|$S/||" | tr '\n' ';')" \
    'sbatch --parsable "$S/1-plan.sbatch" ;sbatch --parsable --dependency=afterok:"$plan" "$S/2-render.sbatch" ;sbatch --parsable --dependency=afterok:"$render" "$S/3-train.sbatch" ;sbatch --parsable --dependency=afterok:"$train" "$S/4-pack.sbatch" ;sbatch --parsable --dependency=afterok:"$pack" "$S/5-finish.sbatch" ;' \
    "submit.sh chain"

# --- the stages, run as Slurm would run the files ---
# run STAGE [TASK]: the file's exec line with the variables of array task TASK
run() {
    local line
    line=$(grep '^exec ' "$S"/*-"$1".sbatch)
    (
        export SLURM_CPUS_PER_TASK=1
        [ -n "${2:-}" ] && export SLURM_ARRAY_TASK_ID=$2 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=0
        eval "${line#exec } --quiet"
    )
}
run plan || fail "plan"
for i in 2 0 1; do run render "$i" || fail "render task $i"; done
P1=$O/parts/episodes/part-00001-of-00003
S1=$O/parts/patches/part-00001-of-00003.mvps
sum1=$(cat "$P1"/* "$S1" | md5sum)
run render 1 || fail "render task 1 again"
expect_eq "$(cat "$P1"/* "$S1" | md5sum)" "$sum1" "a re-run render task reproduces its bytes"
ls "$O/parts/episodes" "$O/parts/patches" >"$T/ls"
expect_eq "$(grep -c '^part-0000[0-2]-of-00003$' "$T/ls")" 3 "three render parts"
expect_eq "$(grep -c '^part-0000[0-2]-of-00003.mvps$' "$T/ls")" 3 "three patch statistics files"

# a missing part stops the merge with exit 2, naming it
mv "$P1" "$T/held"
err=$(run train 2>&1)
expect_eq "$?" 2 "train with a missing part: exit code"
expect_eq "$(grep -c "part-00001-of-00003: missing" <<<"$err")" 1 "train names the missing part ($err)"
mv "$T/held" "$P1"
mv "$S1" "$T/held"
err=$(run train 2>&1)
expect_eq "$?" 2 "train with a missing statistics file: exit code"
expect_eq "$(grep -c "part-00001-of-00003.mvps: missing" <<<"$err")" 1 "train names the missing file ($err)"
mv "$T/held" "$S1"

run train || fail "train"
run train || fail "train again" # a re-queued stage
for i in 1 2 0; do run pack "$i" || fail "pack task $i"; done
Q0=$O/parts/shards/part-00000-of-00003
find "$Q0" -type f ! -name .mvot.lock | sort | xargs cat | md5sum >"$T/q0"
run pack 0 || fail "pack task 0 again"
expect_eq "$(find "$Q0" -type f ! -name .mvot.lock | sort | xargs cat | md5sum)" "$(cat "$T/q0")" \
    "a re-run pack task reproduces its bytes"
run finish || fail "finish"
run finish || fail "finish again"

# --- byte identity with the one-process build ---
for f in episodes/episodes.tar.zst episodes/manifest.json codebook.safetensors tokenizer.json \
    README.md preview.png; do
    expect_eq "$(cmp -s "$O/$f" "$T/one/$f" && echo same)" same "$f"
done
T_CHECKS=$((T_CHECKS + 1))
diff -r -x .mvot.lock "$O/shards" "$T/one/shards" >"$T/diff" 2>&1 || fail "shards differ: $(head -5 "$T/diff")"

# --- a stage runs only on its build's config ---
expect_usage_error "$BIN" build --config "$O/build-config.json" --out "$O" --stage plan --seed 9
expect_usage_error "$BIN" build --config "$O/build-config.json" --out "$O" --stage render
expect_usage_error "$BIN" build --config "$O/build-config.json" --out "$O" --stage train
expect_usage_error "$BIN" build --config "$O/build-config.json" --out "$O" --stage nope
expect_usage_error "$BIN" build --out "$T/x" --slurm --stage plan
expect_usage_error "$BIN" build --out "$T/x" --dry-run
expect_usage_error "$BIN" build --out "$T/x y" --slurm --dry-run
# a split build does not replace a shard set of another config (the one-process build does)
expect_usage_error "$BIN" build --config "$T/cfg.json" --out "$T/one" --seed 9 --slurm --dry-run

# --- submission: a stand-in sbatch records its arguments and answers job ids 101, 102, ... ---
mkdir -p "$T/bin"
cat >"$T/bin/sbatch" <<'SB'
#!/bin/bash
n=$(( $(cat "$SBATCH_LOG" 2>/dev/null | wc -l) + 101 ))
echo "$*" >> "$SBATCH_LOG"
[ -n "${SBATCH_FAIL_AT:-}" ] && [ "$n" = "$SBATCH_FAIL_AT" ] && { echo "sbatch: error: refused" >&2; exit 1; }
echo "$n;cluster"
SB
chmod +x "$T/bin/sbatch"
out=$(PATH=$T/bin:$PATH SBATCH_LOG=$T/sbatch.log "$BIN" build --quiet --json --config "$T/cfg.json" \
    --out "$T/sub" --slurm --parts 2 --threads 1)
expect_eq "$?" 0 "submission exit code"
expect_eq "$(/usr/bin/python3 -c 'import json,sys; j=json.loads(sys.argv[1])["jobs"]; print(*[k+"="+j[k] for k in sorted(j)])' "$out")" \
    "finish=105 pack=104 plan=101 render=102 train=103" "job ids"
expect_eq "$(sed "s|$T/sub/slurm/||" "$T/sbatch.log" | tr '\n' ';')" \
    "--parsable 1-plan.sbatch;--parsable --dependency=afterok:101 2-render.sbatch;--parsable --dependency=afterok:102 3-train.sbatch;--parsable --dependency=afterok:103 4-pack.sbatch;--parsable --dependency=afterok:104 5-finish.sbatch;" \
    "sbatch calls"
rm -f "$T/sbatch.log"
PATH=$T/bin:$PATH SBATCH_LOG=$T/sbatch.log SBATCH_FAIL_AT=103 "$BIN" build --quiet \
    --config "$T/cfg.json" --out "$T/sub" --slurm --parts 2 --threads 1 2>"$T/err"
expect_eq "$?" 1 "a refused sbatch: exit code"
expect_eq "$(grep -c 'submit.sh failed' "$T/err")" 1 "a refused sbatch is reported"
finish
