#!/usr/bin/env bash
# Patch VQ and codebooks benchmark (BENCHMARKS.md "## Patch VQ and codebooks"):
#  1. `mvot codebook train` wall/CPU time on gen archives of 40 (mvot build's default), 100
#     and 300 episodes per task at 512 px, plus a forced k-means run (--k 2048);
#  2. reconstruction PSNR on held-out frames (another gen seed) via `mvot codebook stats`;
#  3. patch-VQ encode frames/s at 512 px with K = 8192 (the exact codebook padded with noisy
#     copies), cached and uncached, vs numpy/scipy on the same frames and codebook;
#  4. k-means vs scipy.cluster.vq.kmeans2 on the patches of the same small frame set.
#
#   bench/patchvq_bench.sh [BUILD_DIR] [THREADS]
#
# BUILD_DIR must hold a built mvot (cmake --build BUILD --target mvot). Results: one JSON
# line per measurement on stdout; data under BUILD_DIR/bench-patchvq/.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)

# Pair interface for bench/run-all.sh (bench/lib.sh): patch-VQ encode of the same held-out
# 512 px frames with the same K = 8192 codebook (an exact codebook padded with noisy copies):
# ours is the cached encoder's first pass with an empty cache (patchvq_bench "cached_cold_s"),
# the peer numpy with np.unique over the frames first (patchvq_peer.py "numpy_unique.seconds",
# its cache also built from scratch); the warm-cache rate is in ours' JSON too. Both
# measures are in-process encode times, frame loading excluded; processes alternate.
# VARIANT kmeans: whole processes training K = 256 for 10 iterations on the patches of the
# same small frame set, `mvot codebook train` vs patchvq_kmeans_peer.py (scipy kmeans2); each
# also reports the reconstruction PSNR of its codebook.
. "$src/bench/lib.sh"
pvq_pair_frames() { bench_size 8 100; }
pvq_compile() { # OUTPUT BUILD
    bench_cc "$1" "$src/bench/patchvq_bench.c" "$2" tokenize/libmvot_tokenize.a \
        codebook/libmvot_codebook.a gen/libmvot_gen.a core/libmvot_core.a
}
pair_prepare() {
    local b=$1 w=$2
    rm -rf "$w"
    mkdir -p "$w"
    pvq_compile "$w/patchvq_bench" "$b"
    "$b/tools/mvot" gen --episodes "$(bench_size 3 40)" --seed 0 --out "$w/train" --quiet --threads 2
    "$b/tools/mvot" gen --episodes "$(bench_size 1 5)" --seed 1 --out "$w/heldout" --quiet --threads 2
    "$b/tools/mvot" codebook train --episodes "$w/train/episodes.tar.zst" --out "$w/cb.safetensors" \
        --threads 2 --quiet
    "$w/patchvq_bench" --codebook "$w/cb.safetensors" --episodes "$w/heldout/episodes.tar.zst" \
        --frames "$(pvq_pair_frames)" --nocache-frames 2 --pad-k 8192 --warm-reps 1 \
        --codebook-out "$w/cb8192.safetensors" --codes-out "$w/codes.npy" >/dev/null
    "$b/tools/mvot" gen --episodes "$(bench_size 1 2)" --seed 9 --out "$w/small" --quiet --threads 2
}
pair_ours() {
    [ "${3:-}" != kmeans ] || exec "$1/tools/mvot" codebook train --k 256 --iters 10 --quiet \
        --episodes "$2/small/episodes.tar.zst" --out "$2/kmeans.safetensors" --threads "$(bench_threads)"
    exec "$2/patchvq_bench" --codebook "$2/cb8192.safetensors" --frames "$(pvq_pair_frames)" \
        --episodes "$2/heldout/episodes.tar.zst" --threads "$(bench_threads)" \
        --nocache-frames 0 --warm-reps 1
}
pair_peer() {
    [ "${3:-}" != kmeans ] || exec /usr/bin/python3 "$src/bench/patchvq_kmeans_peer.py" \
        --episodes "$2/small/episodes.tar.zst" --k 256 --iters 10 --minit points
    exec /usr/bin/python3 "$src/bench/patchvq_peer.py" --codebook "$2/cb8192.safetensors" \
        --episodes "$2/heldout/episodes.tar.zst" --codes "$2/codes.npy" --only numpy_unique \
        --unique-frames "$(pvq_pair_frames)"
}
bench_pair "$@"
build=${1:-$src/build}
th=${2:-2}
bin=$build/tools/mvot
out=$build/bench-patchvq
mkdir -p "$out"
pvq_compile "$out/patchvq_bench" "$build"

timed() { # label, command...: prints {"label":..,"wall_s":..,"cpu_s":..}
    local label=$1; shift
    /usr/bin/time -f "{\"label\":\"$label\",\"wall_s\":%e,\"cpu_s\":%U,\"sys_s\":%S,\"max_rss_kb\":%M}" \
        -o "$out/time.json" "$@" >/dev/null
    cat "$out/time.json"
}

for n in 40 100 300; do
    [ -f "$out/g$n/episodes.tar.zst" ] || "$bin" gen --episodes $n --seed 0 --out "$out/g$n" --quiet --threads "$th"
    timed "train_exact_${n}eps" "$bin" codebook train --episodes "$out/g$n/episodes.tar.zst" \
        --out "$out/cb$n.safetensors" --threads "$th" --quiet
    /usr/bin/python3 -c "import json,struct,sys; b=open(sys.argv[1],'rb').read(); n=struct.unpack('<Q',b[:8])[0]; s=json.loads(json.loads(b[8:8+n])['__metadata__']['stats']); s.pop('history',None); print(json.dumps({'label':'stats_${n}eps', **s}))" "$out/cb$n.safetensors"
done
timed train_kmeans_k2048_100eps "$bin" codebook train --episodes "$out/g100/episodes.tar.zst" \
    --out "$out/cb100_k2048.safetensors" --k 2048 --threads "$th" --quiet
[ -f "$out/h20/episodes.tar.zst" ] || "$bin" gen --episodes 20 --seed 1 --out "$out/h20" --quiet --threads "$th"
for cb in cb40 cb100 cb300 cb100_k2048; do
    echo "{\"label\":\"heldout_psnr_$cb\",\"usage\":$("$bin" codebook stats --codebook "$out/$cb.safetensors" \
        --episodes "$out/h20/episodes.tar.zst" --json --quiet --threads "$th" | /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["usage"]))')}"
done
"$out/patchvq_bench" --codebook "$out/cb100.safetensors" --episodes "$out/h20/episodes.tar.zst" \
    --frames 300 --threads "$th" --nocache-frames 4 --pad-k 8192 --codes-out "$out/codes.npy" \
    --codebook-out "$out/cb100_pad8192.safetensors"
OPENBLAS_NUM_THREADS=$th /usr/bin/python3 "$src/bench/patchvq_peer.py" --codebook "$out/cb100_pad8192.safetensors" \
    --episodes "$out/h20/episodes.tar.zst" --codes "$out/codes.npy" --frames 4 --unique-frames 300 --scipy-frames 1
[ -f "$out/s2/episodes.tar.zst" ] || "$bin" gen --episodes 2 --seed 9 --out "$out/s2" --quiet --threads "$th"
timed train_kmeans_k256_small "$bin" codebook train --episodes "$out/s2/episodes.tar.zst" \
    --out "$out/cbs.safetensors" --k 256 --iters 10 --threads "$th" --quiet
echo "{\"label\":\"small_psnr_mvot\",\"usage\":$("$bin" codebook stats --codebook "$out/cbs.safetensors" \
    --episodes "$out/s2/episodes.tar.zst" --json --quiet | /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["usage"]))')}"
OPENBLAS_NUM_THREADS=$th /usr/bin/python3 "$src/bench/patchvq_kmeans_peer.py" --episodes "$out/s2/episodes.tar.zst" --k 256 --iters 10 --minit points
