#!/usr/bin/env bash
# mvot eval benchmark: predictions scored per second at 512 px with the patch decoder
# (10k single-step visualization predictions), against the official evaluator's approach
# in Python (decode codes, red-pixel thresholds on the agent cell; numpy + Pillow from
# /usr/bin/python3) on the same predictions. Results go in BENCHMARKS.md "## Eval".
#
#   bench/eval_bench.sh [BUILD_DIR] [THREADS] [EPISODES_PER_TASK] [PREDICTIONS] [K] [NAME]
#
# BUILD_DIR must hold built stage libraries and mvot_eval (cmake --build BUILD --target mvot).
# The data (gen -> codebook -> pack) is built once under BUILD_DIR/bench/NAME (default
# eval-data); K is the codebook size asked of k-means (default 8192).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)

# Pair interface for bench/run-all.sh (bench/lib.sh): whole processes scoring the same
# predictions: `mvot eval --threads T` vs bench/eval_peer.py (one Python process, as the
# official script). prepare builds the data with eval_bench (gen -> codebook -> pack ->
# predictions, exported for the peer) under WORK/data.
. "$src/bench/lib.sh"
eval_compile() { # OUTPUT BUILD
    bench_cc "$1" "$src/bench/eval_bench.c" "$2" tools/eval/libmvot_eval.a \
        shards/libmvot_shards.a tokenize/libmvot_tokenize.a codebook/libmvot_codebook.a \
        gen/libmvot_gen.a core/libmvot_core.a
}
pair_prepare() {
    local b=$1 w=$2
    rm -rf "$w"
    mkdir -p "$w"
    eval_compile "$w/eval_bench" "$b"
    "$w/eval_bench" --work "$w/data" --episodes "$(bench_size 3 100)" --threads 2 \
        --preds "$(bench_size 50 2000)" >"$w/inprocess.json"
}
pair_ours() {
    exec "$1/tools/mvot" eval --truth "$2/data/shards" --pred "$2/data/preds.jsonl" \
        --threads "$(bench_threads)" --quiet --json
}
pair_peer() { exec /usr/bin/python3 "$src/bench/eval_peer.py" "$2/data/peer"; }
bench_pair "$@"
build=${1:-$src/build}
threads=${2:-2}
episodes=${3:-500}
preds=${4:-10000}
K=${5:-8192}
name=${6:-eval-data}
out=$build/bench
mkdir -p "$out"
eval_compile "$out/eval_bench" "$build"
work=$out/$name
echo "# mvot eval (this build), $threads threads" >&2
"$out/eval_bench" --work "$work" --episodes "$episodes" --threads "$threads" --preds "$preds" --K "$K"
echo "# peer: official-style red-pixel evaluator, numpy + Pillow, 1 process" >&2
/usr/bin/python3 "$src/bench/eval_peer.py" "$work/peer"
