#!/bin/bash
# gen benchmark: frames/s per core per task (512 and 256 px), PNG share, PNG options vs the
# zlib floor, and the Python peers (matplotlib maze, PIL/numpy FrozenLake) on one core at
# 512 px. Results go to BUILD_DIR/bench-gen/*.json; paste the summary into BENCHMARKS.md "## gen".
# usage: bench/gen_bench.sh [BUILD_DIR]   (default build-gen; needs mvot_gen + mvot_core built)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)

# Pair interface for bench/run-all.sh (bench/lib.sh): VARIANT is maze or frozenlake. Ours is
# the whole `mvot gen` command (render, PNG, records, archive); the peer is the whole Python
# process (imports included) drawing the same episodes from their export-mvot layout. 1 core.
. "$SRC/bench/lib.sh"
gen_pair_episodes() { bench_size 2 20; }
pair_prepare() {
    local b=$1 w=$2 n t
    n=$(gen_pair_episodes)
    rm -rf "$w"
    mkdir -p "$w"
    for t in maze frozenlake; do
        "$b/tools/mvot" gen --task $t --episodes "$n" --seed 3 --out "$w/eps_$t" --threads 1 --quiet
        "$b/tools/mvot" export-mvot "$w/eps_$t" --out "$w/official_$t" --quiet
    done
}
pair_ours() {
    exec "$1/tools/mvot" gen --task "$3" --episodes "$(gen_pair_episodes)" --seed 3 \
        --out "$2/run" --threads 1 --quiet
}
pair_peer() {
    case $3 in
    maze) exec /usr/bin/python3 "$SRC/bench/gen_peer_maze.py" "$2/official_maze" "$2/run" ;;
    *) exec /usr/bin/python3 "$SRC/bench/gen_peer_frozenlake.py" "$2/official_frozenlake" "$2/run" ;;
    esac
}
bench_pair "$@"
B=${1:-$SRC/build-gen}
OUT=$B/bench-gen
mkdir -p "$OUT"
MVOT=${MVOT_BIN:-$B/tools/mvot}
cmake --build "$B" --target mvot_gen mvot_core >/dev/null
bench_cc "$OUT/gen_bench" "$SRC/bench/gen_bench.c" "$B" gen/libmvot_gen.a core/libmvot_core.a
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PIN="taskset -c 0"
command -v taskset >/dev/null || PIN=""
N=${GEN_BENCH_EPISODES:-40}
echo "== frames/s per core (CPU time, one thread), $N episodes per task"
$PIN "$OUT/gen_bench" frames "$N" 512 | tee "$OUT/frames512.json"
$PIN "$OUT/gen_bench" frames "$N" 256 | tee "$OUT/frames256.json"
echo "== PNG options vs zlib on the same filtered rows (512 px)"
$PIN "$OUT/gen_bench" png 10 | tee "$OUT/png.json"
echo "== Python peers vs mvot gen at 512 px, one core"
# mvot refuses to write into a folder holding output that is not its own: start afresh
rm -rf "$OUT"/eps_* "$OUT"/official_* "$OUT"/peer_maze "$OUT"/peer_fl
$PIN "$MVOT" gen --task maze --episodes "$N" --seed 3 --out "$OUT/eps_maze" --threads 1 --quiet
$PIN "$MVOT" gen --task frozenlake --episodes "$N" --seed 3 --out "$OUT/eps_fl" --threads 1 --quiet
$PIN "$MVOT" export-mvot "$OUT/eps_maze" --out "$OUT/official_maze" --quiet
$PIN "$MVOT" export-mvot "$OUT/eps_fl" --out "$OUT/official_fl" --quiet
$PIN /usr/bin/python3 "$SRC/bench/gen_peer_maze.py" "$OUT/official_maze" "$OUT/peer_maze" | tee "$OUT/peer_maze.json"
$PIN /usr/bin/python3 "$SRC/bench/gen_peer_frozenlake.py" "$OUT/official_fl" "$OUT/peer_fl" | tee "$OUT/peer_fl.json"
# ours on the same episodes (render + PNG + record + archive), CPU time of the whole command
for t in maze frozenlake; do
    /usr/bin/time -f "%U %S" -o "$OUT/time_$t" $PIN "$MVOT" gen --task $t --episodes "$N" --seed 3 \
        --out "$OUT/eps_t_$t" --threads 1 --quiet
    frames=$(/usr/bin/python3 -c "import json;print(json.load(open('$OUT/eps_t_$t/manifest.json'))['frames'])")
    /usr/bin/python3 - "$t" "$frames" "$OUT/time_$t" <<'PY' | tee "$OUT/ours_$t.json"
import sys
t, frames, tf = sys.argv[1], int(sys.argv[2]), sys.argv[3]
u, s = map(float, open(tf).read().split()[:2])
print('{"task": "%s", "frames": %d, "cpu_s": %.3f, "fps": %.1f}' % (t, frames, u + s, frames / (u + s)))
PY
done
