#!/bin/bash
# Scale-out on a real (private, one-node) Slurm: `mvot gen --part auto` as a 4-task sbatch
# array, one task killed while running and re-queued by `scontrol requeue`, then `mvot merge`
# gives the exact bytes of a one-process `mvot gen`. Skipped (77) where Slurm cannot run here
# (tests/cli/slurm_env.bash says why). Heavy: it may install slurm-wlm and munge.
set -u
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/slurm_env.bash"
slurm_test_begin

args=(gen --task all --episodes 8 --seed 5 --image-size 128 --max-steps 6 --quiet --threads 1)
"$BIN" "${args[@]}" --out "$T/one" || exit 1

# Task 1 first parks in a sleep (its first run), so the test can kill and re-queue it while
# it runs; its second run finds the marker and does the work.
cat >"$T/job.sh" <<JOB
#!/bin/bash
if [ "\$SLURM_ARRAY_TASK_ID" = 1 ] && [ ! -e "$T/parked" ]; then
    touch "$T/parked"
    sleep 300
fi
exec "$BIN" ${args[*]} --part auto --out "$T/parts"
JOB
job=$(sbatch --parsable --array=0-3 --requeue --output="$T/task-%a.log" "$T/job.sh") ||
    { echo "FAIL: sbatch"; exit 1; }
T_CHECKS=$((T_CHECKS + 2))
why=$(slurm_env_requeue "${job}_1" "$T/parked") || fail "re-queue task 1: $why"
# wait for the whole array, re-queued task included
why=$(slurm_env_wait 300 "$job") || fail "array $job: $why"
expect_eq "$(scontrol show job "${job}_1" 2>&1 | grep -o 'Restarts=[0-9]*')" Restarts=1 "task 1 was re-queued once"
ls "$T/parts" >"$T/parts.list" 2>&1
expect_eq "$(grep -c '^part-0000[0-3]-of-00004$' "$T/parts.list")" 4 "parts written by the array"
"$BIN" merge --quiet "$T/parts"/part-* --out "$T/merged" || fail "merge"
for f in episodes.tar.zst manifest.json; do
    expect_eq "$(cmp -s "$T/merged/$f" "$T/one/$f" && echo same)" same "Slurm array merge: $f"
done
[ "$T_FAILS" = 0 ] || { tail -n 3 "$T"/task-*.log "$T/slurm/slurmctld.log"; }
finish
