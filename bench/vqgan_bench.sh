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

# Pair interface for bench/run-all.sh (bench/lib.sh): one process per side loads the same
# full-width weights (ch 128) and encodes the same image once after a warm-up encode; the
# measure is each side's in-process wall time of that encode (encoder + quant_conv + code
# search), read from its JSON "seconds". Threads: MVOT_BENCH_THREADS (torch.set_num_threads
# on the peer). Quick mode uses ch 32 at 64 px.
. "$src/bench/lib.sh"
vq_pair_size() { bench_size 64 512; }
vq_compile() { # OUTPUT BUILD
    bench_cc "$1" "$src/bench/vqgan_bench.c" "$2" tokenize/libmvot_tokenize.a \
        codebook/libmvot_codebook.a core/libmvot_core.a
}
pair_prepare() {
    local ref
    ref=$2/ref-$(vq_pair_size)
    mkdir -p "$2"
    vq_compile "$2/vqgan_bench" "$1"
    [ -f "$ref/codes.npy" ] || /usr/bin/python3 "$src/tests/vqgan/ref.py" --out "$ref" \
        --ch "$(bench_size 32 128)" --size "$(vq_pair_size)" --seed 5 --encoder-only \
        --threads "$(bench_threads)"
}
pair_ours() {
    local ref
    ref=$2/ref-$(vq_pair_size)
    exec "$2/vqgan_bench" --weights "$ref/vq.safetensors" --size "$(vq_pair_size)" \
        --threads "$(bench_threads)" --iters 1 --ref "$ref" --no-peak
}
pair_peer() {
    exec /usr/bin/python3 "$src/tests/vqgan/ref.py" --bench 1 --seed 5 --size "$(vq_pair_size)" \
        --weights "$2/ref-$(vq_pair_size)/vq.safetensors" --threads "$(bench_threads)"
}
bench_pair "$@"
build=${1:-$src/build}
threads=${2:-2}
size=${3:-512}
iters=${4:-3}
out=$build/bench
mkdir -p "$out"
vq_compile "$out/vqgan_bench" "$build"
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
