# A private one-node Slurm cluster for tests (sourced; docs/cluster.md, "Testing with Slurm").
# slurm_env_start DIR: installs Debian's slurm-wlm and munge when missing (root + apt-get
# only), writes DIR/slurm.conf (exported as SLURM_CONF), starts munged with its own key and
# socket in DIR, then slurmctld and slurmd on localhost, all in the foreground of background
# jobs so they are stopped by pid (slurm_env_stop, which the caller puts in its EXIT trap).
# Nothing under /etc/slurm or /etc/munge is read or written. Returns 77 with a reason on
# stderr where Slurm cannot run here.
SLURM_ENV_PIDS=()

# slurm_test_begin: the start of a Slurm test (after sourcing lib.bash): BIN, the mvot under
# test by its absolute path; T, a temp folder removed at exit, after the daemons are stopped;
# and a running private Slurm. Exits with slurm_env_start's code (77: skipped) when Slurm
# cannot run here.
slurm_test_begin() {
    BIN=$(readlink -f "${MVOT_BIN:?}")
    T=$(t_tmp)
    chmod 755 "$T" # slurmd runs the jobs as us, but keep the folder readable like a shared one
    trap 'slurm_env_stop; rm -rf "$T"' EXIT
    slurm_env_start "$T/slurm" || exit $?
}

slurm_env_skip() { echo "skip: $*" >&2; return 77; }

slurm_env_install() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
        command -v sbatch >/dev/null && command -v munged >/dev/null && return 0
    [ "$(id -u)" = 0 ] || { slurm_env_skip "Slurm is not installed and installing it needs root"; return; }
    command -v apt-get >/dev/null || { slurm_env_skip "Slurm is not installed and apt-get is unavailable"; return; }
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends \
        slurm-wlm munge >/dev/null 2>&1 ||
        { slurm_env_skip "apt-get install slurm-wlm munge failed (offline?)"; return; }
}

slurm_env_start() {
    local d=$1 host cpus port rc
    slurm_env_install || return
    # slurmctld runs as SlurmUser = the current user; as non-root it could still work, but
    # slurmd must start jobs as their owner, which needs root.
    [ "$(id -u)" = 0 ] || { slurm_env_skip "slurmd needs root to run jobs"; return; }
    host=$(hostname -s)
    cpus=$(nproc)
    # ports from the pid so concurrent test runs on one machine do not collide
    port=$((20000 + ($$ % 20000) * 2))
    mkdir -p "$d/state" "$d/spool" "$d/munge"
    chmod 700 "$d/munge"
    dd if=/dev/urandom of="$d/munge/key" bs=1024 count=1 status=none
    chmod 400 "$d/munge/key"
    munged -F --force --key-file="$d/munge/key" --socket="$d/munge/sock" \
        --pid-file="$d/munge/pid" --log-file="$d/munge/log" --seed-file="$d/munge/seed" \
        >"$d/munge/out" 2>&1 &
    SLURM_ENV_PIDS+=($!)
    for _ in $(seq 50); do [ -S "$d/munge/sock" ] && break; sleep 0.1; done
    [ -S "$d/munge/sock" ] || { slurm_env_skip "munged did not start: $(tail -2 "$d/munge/log" 2>/dev/null)"; return; }
    cat >"$d/slurm.conf" <<CONF
ClusterName=mvottest
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$(id -un)
AuthType=auth/munge
AuthInfo=socket=$d/munge/sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd.log
ReturnToService=2
MailProg=/bin/true
NodeName=localhost NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF=$d/slurm.conf
    slurmctld -D -i -f "$SLURM_CONF" >"$d/slurmctld.out" 2>&1 &
    SLURM_ENV_PIDS+=($!)
    slurmd -D -N localhost -f "$SLURM_CONF" >"$d/slurmd.out" 2>&1 &
    SLURM_ENV_PIDS+=($!)
    for _ in $(seq 100); do
        [ "$(sinfo -h -n localhost -o %T 2>/dev/null)" = idle ] && return 0
        sleep 0.2
    done
    echo "slurm_env: the node did not come up idle; logs:" >&2
    tail -5 "$d/slurmctld.log" "$d/slurmd.log" "$d/slurmctld.out" "$d/slurmd.out" >&2 2>/dev/null
    return 1
}

# Stops the daemons this shell started, newest first, by pid.
slurm_env_stop() {
    local i
    for ((i = ${#SLURM_ENV_PIDS[@]} - 1; i >= 0; i--)); do
        kill "${SLURM_ENV_PIDS[$i]}" 2>/dev/null
    done
    for ((i = ${#SLURM_ENV_PIDS[@]} - 1; i >= 0; i--)); do
        wait "${SLURM_ENV_PIDS[$i]}" 2>/dev/null
    done
    SLURM_ENV_PIDS=()
}

# slurm_env_requeue TASK MARKER: waits (up to 60 s) for MARKER, the file a parked job task
# creates once it runs, then kills and re-queues TASK (JOBID_INDEX) with `scontrol requeue`.
# Slurm holds a re-queued job back (begin time about two minutes ahead) once the killed run
# has finished completing; this releases it at once. Prints the reason and returns 1 when a
# step fails.
slurm_env_requeue() {
    local task=$1 marker=$2
    for _ in $(seq 300); do [ -e "$marker" ] && break; sleep 0.2; done
    [ -e "$marker" ] || { echo "$task never started: $(squeue -h 2>&1)"; return 1; }
    scontrol requeue "$task" || { echo "scontrol requeue $task failed"; return 1; }
    for _ in $(seq 100); do
        [ "$(squeue -h -j "$task" -o %T 2>/dev/null)" = PENDING ] && break
        sleep 0.2
    done
    scontrol update JobId="$task" StartTime=now || { echo "cannot release $task"; return 1; }
}

# slurm_env_wait SECONDS [JOBID...]: waits until the jobs (all jobs when none given) have
# left the queue; prints what is still queued and returns 1 after SECONDS.
slurm_env_wait() {
    local limit=$1 i
    shift
    local ids=${*// /,}
    for ((i = 0; i < limit * 2; i++)); do
        [ -z "$(squeue -h ${ids:+-j "$ids"} 2>/dev/null)" ] && return 0
        sleep 0.5
    done
    echo "still queued after $limit s: $(squeue -h ${ids:+-j "$ids"} 2>&1)"
    return 1
}
