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
