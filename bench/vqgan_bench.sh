#!/usr/bin/env bash
# VQGAN (CPU) benchmark: our encoder vs PyTorch CPU on the same full-width random weights
# (ch 128, the real Chameleon shapes) and thread count, plus the full-width correctness
# check against PyTorch on one image. Results go in BENCHMARKS.md "## VQGAN (CPU)".
#
#   bench/vqgan_bench.sh [BUILD_DIR] [THREADS] [SIZE] [ITERS]
#
# BUILD_DIR must hold a built mvot_tokenize (e.g. cmake --build build --target mvot_tokenize).
# The reference set (about 270 MB of weights + arrays) is generated once under
# BUILD_DIR/bench/vqgan-full-SIZE by tests/vqgan/ref.py, which also runs PyTorch's encode and
# decode at full width (a few minutes on 2 cores).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
threads=${2:-2}
size=${3:-512}
iters=${4:-3}
out=$build/bench
mkdir -p "$out"
libs=$(pkg-config --libs openblas jansson libpng libzstd libxxhash libpcre2-8 libutf8proc libarchive)
cc -O2 -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$src" -o "$out/vqgan_bench" \
    "$src/bench/vqgan_bench.c" "$build/tokenize/libmvot_tokenize.a" \
    "$build/codebook/libmvot_codebook.a" "$build/core/libmvot_core.a" $libs -lm -lpthread
ref=$out/vqgan-full-$size
if [ ! -f "$ref/decoded.npy" ]; then
    /usr/bin/python3 "$src/tests/vqgan/ref.py" --out "$ref" --ch 128 --size "$size" --seed 5 \
        --threads "$threads"
fi
echo "# mvot (this build), $threads threads, $size px" >&2
"$out/vqgan_bench" ${VQ_BENCH_FLAGS:-} --weights "$ref/vq.safetensors" --size "$size" --threads "$threads" \
    --iters "$iters" --ref "$ref" --decode
echo "# PyTorch CPU, same weights and threads" >&2
/usr/bin/python3 "$src/tests/vqgan/ref.py" --bench "$iters" --weights "$ref/vq.safetensors" \
    --size "$size" --threads "$threads" --seed 5
