#!/bin/bash
# Shards and build benchmarks (results go to BENCHMARKS.md, "## Shards and build").
#   bench/shards_bench.sh [BUILD_DIR] [EPISODES_1X]
# 1. pack throughput (samples/s, MB/s) and the writer alone vs `zstd -3` on the same tar bytes
# 2. random single-sample read latency
# 3. compression ratio vs uncompressed npy members and vs PNG-only storage
# 4. `mvot build` time and peak RSS at 1x and 10x episodes
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)

# Pair interface for bench/run-all.sh (bench/lib.sh), kept thin: the writer alone (tar +
# seekable zstd -3, 1 thread, in-process time printed by shards_bench) vs the `zstd -3 -T1`
# CLI on the same tar bytes (whole process). prepare also records, once, the shard size vs
# the episode archive and the random single-sample read latency in WORK/notes.txt.
. "$SRC/bench/lib.sh"
shards_compile() { # OUTPUT BUILD
    bench_cc "$1" "$SRC/bench/shards_bench.c" "$2" shards/libmvot_shards.a \
        tokenize/libmvot_tokenize.a codebook/libmvot_codebook.a gen/libmvot_gen.a core/libmvot_core.a
}
pair_prepare() {
    local b=$1 w=$2
    rm -rf "$w"
    mkdir -p "$w"
    shards_compile "$w/shards_bench" "$b"
    "$b/tools/mvot" build --quiet --out "$w/b" --episodes "$(bench_size 2 20)" --threads 2 >/dev/null
    cat "$w"/b/shards/shard-*.tar.zst | zstd -dc >"$w/all.tar"
    { "$w/shards_bench" "$w/b/shards" 1
      echo "shards: $(cat "$w"/b/shards/shard-*.tar.zst | wc -c) bytes; episode archive:" \
          "$(stat -c %s "$w/b/episodes/episodes.tar.zst") bytes; raw tar: $(stat -c %s "$w/all.tar") bytes"
    } >"$w/notes.txt"
}
pair_ours() { exec "$2/shards_bench" "$2/b/shards" 1; }
pair_peer() { exec zstd -3 -T1 -q -f "$2/all.tar" -o "$2/peer.tar.zst"; }
bench_pair "$@"
B=${1:-$SRC/build-shards}
E1=${2:-10}
MVOT=$B/tools/mvot
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

shards_compile "$T/shards_bench" "$B"

tm() { /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak RSS" "$@"; }

echo "== build 1x ($E1 episodes per task)"
tm "$MVOT" build --quiet --out "$T/b1" --episodes "$E1" --threads 2 --json > "$T/b1.json"
echo "== build 10x ($((E1 * 10)) episodes per task)"
tm "$MVOT" build --quiet --out "$T/b10" --episodes $((E1 * 10)) --threads 2 --json > "$T/b10.json"
/usr/bin/python3 - "$T/b1.json" "$T/b10.json" <<'P'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for n, x in (("1x", a), ("10x", b)):
    s = x["seconds"]
    print(f"{n}: {x['episodes']} episodes, {x['pack']['samples']} samples, stages " +
          ", ".join(f"{k} {v:.1f}" for k, v in s.items()))
print(f"time ratio 10x/1x: {b['seconds']['total'] / a['seconds']['total']:.2f}")
P

D=$T/b10/shards
P=(--episodes "$T/b10/episodes" --tokenizer "$T/b10/tokenizer.json" --codebook "$T/b10/codebook.safetensors" --quiet --json)
echo "== pack (threads 1, 2)"
for th in 1 2; do
  "$MVOT" pack "${P[@]}" --out "$T/p$th" --threads $th > "$T/p$th.json"
  /usr/bin/python3 -c "
import json; s = json.load(open('$T/p$th.json'))
print(f\"pack threads $th: {s['samples']} samples, {s['seconds']:.2f} s, {s['samples']/s['seconds']:.0f} samples/s, {s['raw_bytes']/1e6/s['seconds']:.1f} MB/s raw\")"
done
echo "== writer alone vs zstd -3 on the same tar bytes"
"$T/shards_bench" "$D" 1
"$T/shards_bench" "$D" 2 | head -1
cat "$D"/shard-*.tar.zst | zstd -dc > "$T/all.tar"
sz=$(stat -c %s "$T/all.tar")
best=999
for i in 1 2 3; do
  s=$( { /usr/bin/time -f "%e" zstd -3 -T1 -q -f "$T/all.tar" -o "$T/all.tar.zst"; } 2>&1 )
  best=$(/usr/bin/python3 -c "print(min($best, $s))")
done
echo "zstd -3 -T1: $(/usr/bin/python3 -c "print(f'{$sz/1e6:.1f} MB in $best s = {$sz/1e6/max($best,1e-3):.1f} MB/s')"), size $(stat -c %s "$T/all.tar.zst")"
echo "== compression"
"$MVOT" pack "${P[@]}" --out "$T/nof" --no-frames --threads 2 > /dev/null
/usr/bin/python3 - "$D" "$T/all.tar" "$T/b10/episodes/episodes.tar.zst" "$T/nof" <<'P'
import json, os, sys, tarfile
d, tarp, arch, nof = sys.argv[1:]
m = json.load(open(os.path.join(d, "manifest.json")))["totals"]
npy = png = js = 0
for x in tarfile.open(tarp):
    if x.name.endswith(".npy"): npy += x.size
    elif x.name.endswith(".png"): png += x.size
    elif x.name.endswith(".json"): js += x.size
mn = json.load(open(os.path.join(nof, "manifest.json")))["totals"]
print(f"shards: {m['compressed_bytes']/1e6:.2f} MB compressed, {m['raw_bytes']/1e6:.2f} MB raw tar (ratio {m['raw_bytes']/m['compressed_bytes']:.2f})")
print(f"members: npy {npy/1e6:.2f} MB, json {js/1e6:.2f} MB, png {png/1e6:.2f} MB")
print(f"without frames: {mn['compressed_bytes']/1e6:.2f} MB compressed vs {npy/1e6:.2f} MB uncompressed npy (ratio {npy/mn['compressed_bytes']:.2f})")
print(f"PNG-only storage (gen archive of the unique frames + text): {os.path.getsize(arch)/1e6:.2f} MB; shards/archive {m['compressed_bytes']/os.path.getsize(arch):.2f}x")
P
