#!/usr/bin/env bash
# Scale-out benchmark (BENCHMARKS.md, "Scale-out"): what splitting a build into parts costs,
# measured against our own one-process run (there is no outside peer), and a model of a
# 10^6-episode build on many nodes from the measured rates.
#
#   bench/scaleout_bench.sh [BUILD] [OUT]
#
# BUILD (default build) must hold tools/mvot; OUT (default BUILD/bench-scaleout) receives
# scaleout.md (the tables, also printed), scaleout.json (every measurement) and work/ (the
# data, replaced on every run). Measures, with /usr/bin/time (CPU = user + sys):
#   1. overhead of splitting: gen and pack, one process vs N parts one after another, the
#      merge, and a pack part with an empty block range (what every pack part spends reading
#      and ordering the whole episode archive before packing its own blocks);
#   2. two parts at once vs one after another (wall; the machine's 1-minute load average
#      before each run is recorded, since other jobs may share the machine);
#   3. the gen plan at SCALEOUT_PLAN_EPISODES per task (10^6 episodes by default): a part
#      with ~10 episodes of its own vs one with ~1000 (1000 parts), time and peak memory;
#      pack's planning pass at two set sizes, extrapolated linearly to that size;
#   4. manifest sizes at that size and SCALEOUT_PLAN_PARTS parts (gen measured; pack
#      estimated from a measured per-shard record size);
#   5. a model of the wall time on SCALEOUT_NODES nodes of SCALEOUT_CORES cores.
# Sizes (environment; defaults finish in about 5 minutes on 2 idle cores, the 10^6-episode
# plan included; BENCH_QUICK=1, as `bench/run-all.sh --quick` sets it, picks tiny ones whose
# numbers mean nothing):
#   SCALEOUT_EPISODES (100 per task), SCALEOUT_PARTS (4), SCALEOUT_SHARD_SAMPLES (256),
#   SCALEOUT_REPS (3), SCALEOUT_BIG_EPISODES (1000 per task: the second size of pack's plan,
#   BPE and codebook), SCALEOUT_PLAN_EPISODES (333334 per task), SCALEOUT_PLAN_PARTS (1000),
#   SCALEOUT_NODES (100), SCALEOUT_CORES (32), SCALEOUT_VQGAN_CPU_S ("1.7 5.5": CPU-seconds
#   per 512-px VQGAN encode to model; see BENCHMARKS.md "VQGAN (CPU)").
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/bench/lib.sh"
B=$(cd "${1:-$SRC/build}" && pwd)
OUT=${2:-$B/bench-scaleout}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
MVOT=$B/tools/mvot
[ -x "$MVOT" ] || { echo "scaleout_bench: $MVOT not found (build the mvot target)" >&2; exit 2; }
E=${SCALEOUT_EPISODES:-$(bench_size 4 100)}
N=${SCALEOUT_PARTS:-4}
SS=${SCALEOUT_SHARD_SAMPLES:-$(bench_size 8 256)}
REPS=${SCALEOUT_REPS:-$(bench_size 1 3)}
BIG=${SCALEOUT_BIG_EPISODES:-$(bench_size 8 1000)}
PLAN_E=${SCALEOUT_PLAN_EPISODES:-$(bench_size 3334 333334)}
PLAN_N=${SCALEOUT_PLAN_PARTS:-1000}
NODES=${SCALEOUT_NODES:-100}
CORES=${SCALEOUT_CORES:-32}
VQGAN=${SCALEOUT_VQGAN_CPU_S:-1.7 5.5}
W=$OUT/work
rm -rf "$W"
mkdir -p "$W"
T=$W/times.tsv
: >"$T"
load() { cut -d' ' -f1 /proc/loadavg; }
# tm LABEL CMD...: one timed run; appends LABEL wall user sys maxrss_kb load1-before to $T.
tm() {
    local l=$1 ld
    shift
    ld=$(load)
    /usr/bin/time -f "%e %U %S %M" -o "$W/time.out" "$@"
    printf '%s %s %s\n' "$l" "$(tail -1 "$W/time.out")" "$ld" >>"$T"
}
echo "scaleout: commit $(git -C "$SRC" rev-parse --short=12 HEAD)," \
    "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "scaleout: $E episodes per task, $N parts, --shard-samples $SS, $REPS repetitions;" \
    "plan at $PLAN_E per task and $PLAN_N parts; second size $BIG per task"

# both LABEL seq|conc DIR CMD...: parts 0/2 and 1/2 of CMD into DIR (emptied first), one after
# the other or both at once, timed as one run.
both() {
    local l=$1 mode=$2 d=$3
    shift 3
    rm -rf "$d"
    # shellcheck disable=SC2016 # the inner shell expands these
    if [ "$mode" = seq ]; then
        tm "$l" bash -c 'd=$1; shift; "$@" --part 0/2 --out "$d" && "$@" --part 1/2 --out "$d"' _ "$d" "$@"
    else
        tm "$l" bash -c 'd=$1; shift; "$@" --part 0/2 --out "$d" & a=$!
            "$@" --part 1/2 --out "$d" & b=$!; wait "$a" && wait "$b"' _ "$d" "$@"
    fi
}
G=(gen --task all --episodes "$E" --seed 3 --image-size 512 --quiet --threads 1)
cd "$W"
echo "== 1. gen: one process, $N parts one after another, merge"
for _ in $(seq "$REPS"); do
    rm -rf one parts merged
    tm gen_one "$MVOT" "${G[@]}" --out one
    for i in $(seq 0 $((N - 1))); do tm "gen_part$i" "$MVOT" "${G[@]}" --part "$i/$N" --out parts; done
    tm gen_merge "$MVOT" merge --quiet --threads 1 parts/part-* --out merged
    rm -rf empty
    tm gen_empty "$MVOT" "${G[@]}" --part 0/100000 --out empty
done
cmp one/episodes.tar.zst merged/episodes.tar.zst
cmp one/manifest.json merged/manifest.json

echo "== 1. tokenizer and codebook (once), patch statistics of the $N gen parts"
tm bpe_small "$MVOT" bpe train --quiet --threads 1 --episodes one/episodes.tar.zst --out tok.json
tm cb_small "$MVOT" codebook train --quiet --threads 1 --episodes one/episodes.tar.zst --out cb.safetensors
mkdir stats
for i in $(seq 0 $((N - 1))); do
    tm "collect$i" "$MVOT" codebook collect --quiet --threads 1 \
        --episodes "parts/part-$(printf %05d "$i")-of-$(printf %05d "$N")" --out "stats/s$i.mvps"
done
tm cb_patches "$MVOT" codebook train --quiet --threads 1 --patches stats/s*.mvps --out cb_patches.safetensors
cmp cb.safetensors cb_patches.safetensors

P=(pack --episodes one --tokenizer tok.json --codebook cb.safetensors --threads 1 --quiet
    --shard-samples "$SS")
echo "== 1. pack: one process, one part of 1, $N parts one after another, merge, an empty part"
for _ in $(seq "$REPS"); do
    rm -rf pone pparts pmerged pwhole pempty
    tm pack_one "$MVOT" "${P[@]}" --out pone
    for i in $(seq 0 $((N - 1))); do tm "pack_part$i" "$MVOT" "${P[@]}" --part "$i/$N" --out pparts; done
    tm pack_merge "$MVOT" merge --quiet --threads 1 pparts/part-* --out pmerged
    tm pack_whole "$MVOT" "${P[@]}" --part 0/1 --out pwhole
    tm pack_empty "$MVOT" "${P[@]}" --part 0/100000 --out pempty
done
diff -r pone pmerged >/dev/null
# Where the parts' extra CPU goes, by symbol (perf, 999 samples per CPU-second), when perf runs
# here and SCALEOUT_PERF is not 0: each pack process starts with an empty patch VQ cache.
: >prof.tsv
if [ "${SCALEOUT_PERF:-1}" != 0 ] && perf stat -o /dev/null true 2>/dev/null; then
    echo "== 1. profile (perf): pack, one process vs the $N parts"
    rm -rf pone pparts
    prof() { # LABEL CMD...
        local l=$1
        shift
        perf record -q -F 999 -o "perf.$l" -- "$@"
        perf script -i "perf.$l" -F ip,sym 2>/dev/null | awk -v l="$l" '{ print l, $2 }' >>prof.tsv
    }
    prof one "$MVOT" "${P[@]}" --out pone
    for i in $(seq 0 $((N - 1))); do prof parts "$MVOT" "${P[@]}" --part "$i/$N" --out pparts; done
fi

echo "== 2. two parts at once vs one after another (gen and pack)"
for _ in $(seq "$REPS"); do
    both gen_seq2 seq c2 "$MVOT" "${G[@]}"
    both gen_conc2 conc c2 "$MVOT" "${G[@]}"
    both pack_seq2 seq d2 "$MVOT" "${P[@]}"
    both pack_conc2 conc d2 "$MVOT" "${P[@]}"
done

echo "== 3. gen plan at $PLAN_E episodes per task"
GP=(gen --task all --episodes "$PLAN_E" --seed 3 --image-size 512 --quiet)
tm plan_empty "$MVOT" "${GP[@]}" --threads 1 --part 0/100000 --out plan_empty
rm -rf plan_t2
tm plan_empty_t2 "$MVOT" "${GP[@]}" --threads 2 --part 0/100000 --out plan_t2
tm plan_part "$MVOT" "${GP[@]}" --threads 1 --part "0/$PLAN_N" --out plan_part

echo "== 3. a second set ($BIG per task): pack's planning pass, BPE, codebook"
tm gen_big "$MVOT" gen --task all --episodes "$BIG" --seed 3 --image-size 512 --quiet --threads 2 --out big
tm bpe_big "$MVOT" bpe train --quiet --threads 1 --episodes big/episodes.tar.zst --out tok_big.json
tm collect_big "$MVOT" codebook collect --quiet --threads 1 --episodes big --out big.mvps
tm cb_patches_big "$MVOT" codebook train --quiet --threads 1 --patches big.mvps --out cb_big.safetensors
PB=(pack --episodes big --tokenizer tok.json --codebook cb.safetensors --threads 1 --quiet)
for _ in $(seq "$REPS"); do
    rm -rf bempty
    tm pack_empty_big "$MVOT" "${PB[@]}" --shard-samples "$SS" --part 0/100000 --out bempty
done
# the floor of one planning pass: zstd alone decompressing the same archive
# shellcheck disable=SC2016 # the inner shell expands $1
for _ in $(seq "$REPS"); do tm zstd_big bash -c 'zstd -dc "$1" >/dev/null' _ big/episodes.tar.zst; done
echo "== 4. a pack part at the default --shard-samples (per-shard record size)"
# 8 parts of the second set: part 0 holds its first block(s), shards of ~4096 samples
tm pack_part_big "$MVOT" "${PB[@]}" --part 0/8 --out bpart

echo "== 5. model"
cd "$SRC"
/usr/bin/python3 - "$W" "$OUT" "$E" "$N" "$SS" "$BIG" "$PLAN_E" "$PLAN_N" "$NODES" "$CORES" \
    "$VQGAN" "$(git -C "$SRC" rev-parse --short=12 HEAD)" "$REPS" <<'PY'
import glob, json, math, os, statistics, sys, time

w, out = sys.argv[1:3]
E, N, SS, BIG, PLAN_E, PLAN_N, NODES, CORES = map(int, sys.argv[3:11])
vqgan = [float(x) for x in sys.argv[11].split()]
commit, reps = sys.argv[12], int(sys.argv[13])
rows = {}
for line in open(os.path.join(w, "times.tsv")):
    l, wall, u, s, rss, ld = line.split()
    rows.setdefault(l, []).append(dict(wall=float(wall), cpu=float(u) + float(s),
                                       rss_mb=int(rss) / 1024, load=float(ld)))
med = lambda l, k="cpu": statistics.median(r[k] for r in rows[l])
rng = lambda l, k="cpu": (min(r[k] for r in rows[l]), max(r[k] for r in rows[l]))
loads = lambda *ls: sorted(r["load"] for l in ls for r in rows[l])


def sum_med(prefix, n, k="cpu"):  # per repetition: the sum over the parts; then the median
    return statistics.median(sum(rows[f"{prefix}{i}"][r][k] for i in range(n))
                             for r in range(len(rows[f"{prefix}0"])))


def size(p):
    return os.path.getsize(os.path.join(w, p))


def manifest(p):
    return json.load(open(os.path.join(w, p)))


def ser(m):  # the writer's layout (2-space indent, sorted keys): checked against a file below
    return json.dumps(m, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


md = []
f = lambda x, d=2: f"{x:.{d}f}"
pct = lambda a, b: f"{100 * (a - b) / b:+.0f}%"
T = 3 * E
gm = manifest("one/manifest.json")
frames = gm["frames"]
pm = manifest("pone/manifest.json")
samples = pm["totals"]["samples"] if "totals" in pm else sum(s["samples"] for s in pm["shards"])
blocks = manifest(glob.glob(os.path.join(w, "pparts/part-*"))[0] + "/manifest.json")["part"]["total_blocks"]

md.append(f"Measured by `bench/scaleout_bench.sh` at commit {commit}, {time.strftime('%Y-%m-%d', time.gmtime())}, "
          f"{os.cpu_count()} CPUs; median of {reps} repetitions (CPU = user + sys, /usr/bin/time); "
          f"1-minute load average before the timed runs: {min(r['load'] for v in rows.values() for r in v):.2f}"
          f"–{max(r['load'] for v in rows.values() for r in v):.2f}.")
md.append("")
md.append(f"#### 1. Overhead of splitting ({T} episodes, 512 px, {frames} frames; pack: {samples} samples, "
          f"--shard-samples {SS}, {blocks} blocks; --threads 1)")
md.append("")
md.append("| stage | one process, CPU s | " + f"{N} parts one after another, CPU s | parts + merge, CPU s | merge alone | a part with no episodes / blocks |")
md.append("|---|---|---|---|---|---|")
def overhead(st, merge):  # per repetition (the runs of one repetition follow each other)
    r = [(sum(rows[f"{st}_part{i}"][k]["cpu"] for i in range(N)) + (rows[f"{st}_merge"][k]["cpu"] if merge else 0))
         / rows[f"{st}_one"][k]["cpu"] - 1 for k in range(len(rows[f"{st}_one"]))]
    return f"{100 * statistics.median(r):+.0f}% [{100 * min(r):+.0f}, {100 * max(r):+.0f}]"


for st in ("gen", "pack"):
    one, parts, merge, empty = med(f"{st}_one"), sum_med(f"{st}_part", N), med(f"{st}_merge"), med(f"{st}_empty")
    md.append(f"| {st} | {f(one)} | {f(parts)} ({overhead(st, False)}) | {f(parts + merge)} ({overhead(st, True)}) "
              f"| {f(merge)} | {f(empty)} ({f(100 * empty / one, 0)}% of one process) |")
md.append("")
md.append("In brackets: the overhead over the one process, median [min, max] of the per-repetition ratios.")
whole = med("pack_whole")
md.append("")
md.append(f"Pack `--part 0/1` (one part holding every block: the one-process work plus a part's "
          f"stripped planning pass): {f(whole)} CPU s ({pct(whole, med('pack_one'))} vs one process). "
          f"Every byte of the merged sets equals the one-process output (`cmp`, `diff -r`).")
prof = {}
for line in open(os.path.join(w, "prof.tsv")):
    l, sym = (line.split() + ["?"])[:2]
    k = ("patch VQ nearest-code search (cache misses)" if sym.startswith(("sgemm_", "mvot_cb_search_nearest", "mvot_patchvq_encode"))
         else "codebook loading (load_st, search set-up)" if sym in ("load_st", "mvot_cb_search_create", "mvot_patchvq_create")
         else "zstd, JSON, malloc and the rest")
    prof.setdefault(l, {}).setdefault(k, 0)
    prof[l][k] += 1
if prof:
    md.append("")
    md.append(f"Profile of pack (`perf record -F 999`, self samples / 999 = CPU s), one process vs the {N} parts:")
    md.append("")
    md.append("| symbols | one process | " + f"{N} parts | difference |")
    md.append("|---|---|---|---|")
    for k in sorted({k for v in prof.values() for k in v}):
        a, b = prof["one"].get(k, 0) / 999, prof["parts"].get(k, 0) / 999
        md.append(f"| {k} | {f(a)} | {f(b)} | {b - a:+.2f} |")
md.append("")
md.append("#### 2. Two parts at once vs one after another (wall s, --threads 1 each, "
          f"{T} episodes; median [min–max] of {reps})")
md.append("")
md.append("| stage | one after another | both at once | speed-up | load average before (all runs) |")
md.append("|---|---|---|---|---|")
for st in ("gen", "pack"):
    s, c = med(f"{st}_seq2", "wall"), med(f"{st}_conc2", "wall")
    a, b = rng(f"{st}_seq2", "wall"), rng(f"{st}_conc2", "wall")
    md.append(f"| {st} | {f(s)} [{f(a[0])}–{f(a[1])}] | {f(c)} [{f(b[0])}–{f(b[1])}] | {s / c:.2f}x "
              f"| {', '.join(f(x) for x in loads(f'{st}_seq2', f'{st}_conc2'))} |")

TP = 3 * PLAN_E
pe, pe2, pp = rows["plan_empty"][0], rows["plan_empty_t2"][0], rows["plan_part"][0]
ppm = manifest(glob.glob(os.path.join(w, "plan_part/part-*"))[0] + "/manifest.json")
own = ppm["part"]["episodes"]
render_cpu_ep = med("gen_one") / T
md.append("")
md.append(f"#### 3. Plan at {TP} episodes")
md.append("")
md.append("| run | wall s | CPU s | peak RSS MB |")
md.append("|---|---|---|---|")
md.append(f"| gen --part 0/100000 (plan + {manifest(glob.glob(os.path.join(w, 'plan_empty/part-*'))[0] + '/manifest.json')['part']['episodes']} episodes), --threads 1 "
          f"| {f(pe['wall'])} | {f(pe['cpu'])} | {f(pe['rss_mb'], 0)} |")
md.append(f"| same, --threads 2 | {f(pe2['wall'])} | {f(pe2['cpu'])} | {f(pe2['rss_mb'], 0)} |")
md.append(f"| gen --part 0/{PLAN_N} (plan + {own} episodes), --threads 1 | {f(pp['wall'])} | {f(pp['cpu'])} "
          f"| {f(pp['rss_mb'], 0)} |")
TB = 3 * BIG
e1, e2 = med("pack_empty"), med("pack_empty_big")
slope = (e2 - e1) / (TB - T)
fixed = e1 - slope * T
r1 = statistics.median(r["rss_mb"] for r in rows["pack_empty"])
r2 = statistics.median(r["rss_mb"] for r in rows["pack_empty_big"])
rslope = (r2 - r1) / (TB - T)
arch_ep = size("big/episodes.tar.zst") / TB
plan_pack = fixed + slope * TP
md.append(f"| pack --part 0/100000 (hashes the archive, orders it from its index, packs nothing), {T} episodes "
          f"| {f(med('pack_empty', 'wall'))} | {f(e1)} | {f(r1, 0)} |")
md.append(f"| same, {TB} episodes ({size('big/episodes.tar.zst') / 1e6:.0f} MB archive) "
          f"| {f(med('pack_empty_big', 'wall'))} | {f(e2)} | {f(r2, 0)} |")
md.append(f"| same, {TP} episodes: **extrapolated** ({f(fixed)} s + {slope * 1e3:.3f} ms/episode; "
          f"{arch_ep * TP / 1e9:.0f} GB archive) | | {f(plan_pack, 0)} | {f(r1 + rslope * (TP - T), 0)} |")
md.append(f"| `zstd -dc` of the {TB}-episode archive to /dev/null (one pass's decompression alone) "
          f"| {f(med('zstd_big', 'wall'))} | {f(med('zstd_big'))} | |")

# 4. manifests
gpart = size(glob.glob(os.path.join(w, "plan_part/part-*"))[0] + "/manifest.json")
gone = dict(ppm)
gone.pop("part")
gone["format"] = gm["format"]
# check the derivation on the small run: part 0's manifest made into a one-process one
small = manifest(glob.glob(os.path.join(w, "parts/part-00000-*"))[0] + "/manifest.json")
small.pop("part")
small["format"] = gm["format"]
small["archive_bytes"], small["archive_xxh3"] = gm["archive_bytes"], gm["archive_xxh3"]
assert ser(small) == open(os.path.join(w, "one/manifest.json")).read(), "gen manifest derivation"
gone["archive_bytes"] = int(arch_ep * TP)
gmerged = len(ser(gone).encode())
bp = manifest(glob.glob(os.path.join(w, "bpart/part-*"))[0] + "/manifest.json")
if not bp["shards"]:  # tiny sizes (--quick): part 0 got no block; take the small set's records
    bp = dict(pm, part=bp["part"])
nrec = len(bp["shards"])
bare = dict(bp, shards=[])
rec = (len(ser(bp).encode()) - len(ser(bare).encode())) / nrec
base_part = len(ser(bare).encode())
bare.pop("part")
base = len(ser(bare).encode())
rec_samples = statistics.mean(s["samples"] for s in bp["shards"])
sp_ep = samples / T
raw_sample = pm["totals"]["raw_bytes"] / samples
comp_sample = pm["totals"]["compressed_bytes"] / samples
per_shard = min(4096, (256 << 20) // raw_sample)
shards_T = math.ceil(sp_ep * TP / per_shard) + 2  # + up to one partial block per split
md.append("")
md.append(f"#### 4. Manifest sizes at {TP} episodes and {PLAN_N} parts")
md.append("")
md.append("| manifest | bytes | how |")
md.append("|---|---|---|")
md.append(f"| gen part | {gpart} | measured (item 3's `--part 0/{PLAN_N}`) |")
md.append(f"| gen merged | {gmerged} | the part manifest less its `part` object (checked byte for byte on item 1's set) |")
md.append(f"| pack part | {base_part + round(rec * max(1, shards_T / PLAN_N))} "
          f"| estimated: {base_part} bytes of set fields + {rec:.0f} bytes per shard record (measured, "
          f"records of {rec_samples:.0f} samples) × max(1, {shards_T} / {PLAN_N}) shards |")
md.append(f"| pack merged | {base + round(rec * shards_T)} | estimated: {base} + {rec:.0f} × {shards_T} shards "
          f"({sp_ep:.1f} samples/episode, {per_shard} samples per shard) |")

# 5. model
P_ = NODES  # one part per node, --threads CORES
cores = NODES * CORES
pack_cpu_sample = med("pack_one") / samples
enc_cpu_patch = 0.0
frames_T = ppm["frames"]
samples_T = sp_ep * TP
ep_merge = med("gen_merge") / T * TP
bpe_slope = (med("bpe_big") - med("bpe_small")) / (TB - T)
bpe_T = med("bpe_small") + bpe_slope * (TP - T)
collect_cpu_ep = sum_med("collect", N) / T
train_patches = med("cb_patches_big")
shard_merge = med("pack_merge") / (pm["totals"]["compressed_bytes"]) * comp_sample * samples_T
stages = [
    ("gen: plan (every part, one thread)", pe["cpu"], pe["cpu"], "serial in each part"),
    ("gen: render + PNG + archive", render_cpu_ep * TP, render_cpu_ep * TP / cores, "parallel"),
    ("codebook collect (per part)", collect_cpu_ep * TP, collect_cpu_ep * TP / cores, "parallel"),
    ("merge episodes (one zstd pass)", ep_merge, ep_merge, "serial, one process"),
    ("codebook train --patches", train_patches, train_patches, f"serial (measured at {TB} episodes)"),
    ("bpe train (reads the merged archive)", bpe_T, bpe_T, "serial, extrapolated"),
    ("pack: planning pass (every part)", plan_pack, plan_pack, "serial in each part, extrapolated"),
    ("pack: assemble + patch VQ + shards", pack_cpu_sample * samples_T, pack_cpu_sample * samples_T / cores, "parallel"),
    ("merge shards (hash every file)", shard_merge, shard_merge, "serial"),
]
md.append("")
md.append(f"#### 5. Model: {TP} episodes ({frames_T / 1e6:.2f} M frames, {samples_T / 1e6:.1f} M samples) on "
          f"{NODES} nodes × {CORES} cores, one part per node at --threads {CORES}")
md.append("")
md.append("| stage | work, CPU s | per-node wall s | how it runs |")
md.append("|---|---|---|---|")
g = lambda x: f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"
for name, cpu, wall, how in stages:
    md.append(f"| {name} | {g(cpu)} | {g(wall)} | {how} |")
crit = sum(s[2] for s in stages) - min(stages[4][2], stages[5][2])  # codebook and BPE overlap
md.append(f"| **critical path, patch codebook** (codebook training beside BPE) | | **{g(crit)}** "
          f"({crit / 3600:.2f} h) | |")
for v in vqgan:
    extra = frames_T * v
    md.append(f"| VQGAN encode at {v} CPU s per frame | {g(extra)} | {g(extra / cores)} | parallel |")
    md.append(f"| **critical path, VQGAN at {v} CPU s** | | **{g(crit + extra / cores)}** "
              f"({(crit + extra / cores) / 3600:.2f} h) | |")
md.append("")
md.append(f"Inputs: gen {render_cpu_ep * 1e3:.1f} ms CPU per episode and pack {pack_cpu_sample * 1e3:.2f} ms per "
          f"sample (item 1, one process); merge {med('gen_merge') / T * 1e3:.2f} ms per episode; collect "
          f"{collect_cpu_ep * 1e3:.1f} ms per episode; bpe train {f(med('bpe_small'))} s at {T} and "
          f"{f(med('bpe_big'))} s at {TB} episodes; train --patches {f(train_patches)} s; shard merge "
          f"{med('pack_merge'):.2f} s for {pm['totals']['compressed_bytes'] / 1e6:.1f} MB. Parallel stages "
          f"assume perfect scaling over {cores} cores; I/O is not modelled (each pack part reads the "
          f"{arch_ep * TP / 1e9:.0f} GB archive once to hash it, decompressing only its own episodes: "
          f"{arch_ep * TP * P_ / 1e12:.1f} TB read over {P_} parts).")
md.append("")
md.append(f"CPU that all N parts spend planning, as a share of the stage's own work, at {TP} episodes "
          f"(gen: the plan, {pe['cpu'] / TP * 1e6:.2f} µs per episode, vs {render_cpu_ep * 1e3:.1f} ms to render one; "
          f"pack: the extrapolated planning pass, {slope * 1e3:.4f} ms per episode, vs the pack work per episode):")
md.append("")
md.append("| N parts | gen | pack, patch codebook | " + " | ".join(f"pack, VQGAN {v} CPU s" for v in vqgan) + " |")
md.append("|---|---|---|" + "---|" * len(vqgan))
gen_work, pack_work = render_cpu_ep * TP, pack_cpu_sample * samples_T
for n in (4, 100, 1000):
    cells = [f"{100 * n * pe['cpu'] / gen_work:.1f}%", f"{100 * n * plan_pack / pack_work:.0f}%"]
    cells += [f"{100 * n * plan_pack / (pack_work + frames_T * v):.1f}%" for v in vqgan]
    md.append(f"| {n} | " + " | ".join(cells) + " |")
text = "\n".join(md) + "\n"
open(os.path.join(out, "scaleout.md"), "w").write(text)
json.dump({"commit": commit, "rows": rows, "sizes": {"episodes": T, "parts": N, "shard_samples": SS,
           "big": TB, "plan": TP, "plan_parts": PLAN_N}}, open(os.path.join(out, "scaleout.json"), "w"), indent=1)
print(text)
PY
