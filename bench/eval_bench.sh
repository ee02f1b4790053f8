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
pair_prepare() {
    local b=$1 w=$2 libs
    rm -rf "$w"
    mkdir -p "$w"
    libs=$(pkg-config --libs openblas jansson libpng libzstd libxxhash libpcre2-8 libutf8proc libarchive)
    cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$src" -o "$w/eval_bench" \
        "$src/bench/eval_bench.c" "$b/tools/eval/libmvot_eval.a" "$b/shards/libmvot_shards.a" \
        "$b/tokenize/libmvot_tokenize.a" "$b/codebook/libmvot_codebook.a" \
        "$b/gen/libmvot_gen.a" "$b/core/libmvot_core.a" $libs -lm -lpthread
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
libs=$(pkg-config --libs openblas jansson libpng libzstd libxxhash libpcre2-8 libutf8proc libarchive)
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$src" -o "$out/eval_bench" \
    "$src/bench/eval_bench.c" "$build/tools/eval/libmvot_eval.a" "$build/shards/libmvot_shards.a" \
    "$build/tokenize/libmvot_tokenize.a" "$build/codebook/libmvot_codebook.a" \
    "$build/gen/libmvot_gen.a" "$build/core/libmvot_core.a" $libs -lm -lpthread
work=$out/$name
echo "# mvot eval (this build), $threads threads" >&2
"$out/eval_bench" --work "$work" --episodes "$episodes" --threads "$threads" --preds "$preds" --K "$K"
echo "# peer: official-style red-pixel evaluator, numpy + Pillow, 1 process" >&2
/usr/bin/python3 "$src/bench/eval_peer.py" "$work/peer"
