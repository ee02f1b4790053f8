#!/bin/bash
# `mvot build --slurm --parts 4` on a real (private, one-node) Slurm: mvot writes and submits
# the chain (plan, render array, train, pack array, finish); one render task is killed while
# it runs and re-queued by `scontrol requeue`; once the chain is done, every file of the set
# is byte-identical to a one-process `mvot build`. Skipped (77) where Slurm cannot run here
# (tests/cli/slurm_env.bash says why). Heavy: it may install slurm-wlm and munge.
set -u
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/slurm_env.bash"
slurm_test_begin
t0=$SECONDS

cat >"$T/cfg.json" <<'J'
{"gen": {"episodes": 6, "image_size": 128, "min_steps": 1, "max_steps": 5},
 "codebook": {"K": 64, "max_iters": 2}, "pack": {"shard_samples": 16}}
J
"$BIN" build --quiet --config "$T/cfg.json" --out "$T/one" --threads 1 || exit 1

# The jobs' bash reads BASH_ENV (Slurm passes our environment on): render task 1 parks in a
# sleep on its first run, so the test can kill and re-queue it while it runs; its second
# run finds the marker and does the work. The sbatch files stay as mvot wrote them.
cat >"$T/park.sh" <<PARK
if [ "\${SLURM_JOB_NAME:-}" = mvot-render ] && [ "\${SLURM_ARRAY_TASK_ID:-}" = 1 ] &&
    [ ! -e "$T/parked" ]; then
    touch "$T/parked"
    sleep 300
fi
PARK
out=$(BASH_ENV=$T/park.sh "$BIN" build --json --config "$T/cfg.json" --out "$T/split" --slurm \
    --parts 4 --threads 1 2>"$T/submit.err") || { cat "$T/submit.err"; echo "FAIL: mvot build --slurm"; exit 1; }
jobs=$(/usr/bin/python3 -c 'import json,sys; j=json.loads(sys.argv[1])["jobs"]; print(*[j[k] for k in ("plan","render","train","pack","finish")])' "$out")
read -r plan render train pack fin <<<"$jobs"
expect_eq "$(grep -c 'submitted' "$T/submit.err")" 5 "five jobs submitted ($jobs)"

T_CHECKS=$((T_CHECKS + 2))
why=$(slurm_env_requeue "${render}_1" "$T/parked") || fail "re-queue render task 1: $why"
why=$(slurm_env_wait 600) || fail "the chain: $why"
expect_eq "$(scontrol show job "${render}_1" 2>&1 | grep -o 'Restarts=[0-9]*')" Restarts=1 "render task 1 was re-queued once"
for j in "$plan" "$train" "$fin"; do
    expect_eq "$(scontrol show job "$j" 2>&1 | grep -o 'JobState=[A-Z]*')" JobState=COMPLETED "job $j"
done
for f in episodes/episodes.tar.zst episodes/manifest.json codebook.safetensors tokenizer.json \
    README.md preview.png; do
    expect_eq "$(cmp -s "$T/split/$f" "$T/one/$f" && echo same)" same "Slurm build: $f"
done
T_CHECKS=$((T_CHECKS + 1))
diff -r -x .mvot.lock "$T/split/shards" "$T/one/shards" >"$T/diff" 2>&1 ||
    fail "Slurm build: shards differ: $(head -5 "$T/diff")"
echo "slurm build: $((SECONDS - t0)) s from the one-process build to the checked set"
[ "$T_FAILS" = 0 ] || tail -n 5 "$T/split/slurm/logs/"*.log "$T/slurm/slurmctld.log"
finish
