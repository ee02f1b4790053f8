#!/usr/bin/env bash
# Regenerates the seed corpora of the reader fuzz targets from real writer output: a tiny
# `mvot build` (one 3x3 maze episode, K=4 codebook, 2 samples per shard, with and without
# stored frames) gives the shard directories (fuzz_shard_read, fuzz_manifest, in the layout of
# fuzz_shard_dir.h), its samples' tar members (fuzz_shard_sample), their .npy members
# (fuzz_npy), stored PNG frames (fuzz_png) and the codebook (fuzz_safetensors).
# Usage: tests/fuzz/make-seeds.sh [MVOT_BIN]   (default build/tools/mvot)
# Rerun after a shard format change and commit the result. It writes only the seed_* files
# named below; regression inputs in the same folders are left alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/tools/mvot}
C=$root/tests/fuzz/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for frames in false true; do
    cat > "$T/cfg-$frames.json" <<J
{"gen": {"episodes": 1, "image_size": 128, "min_steps": 1, "max_steps": 6, "tasks": ["maze"],
         "sizes": {"maze": {"3": 1}}},
 "codebook": {"K": 4, "max_iters": 2},
 "pack": {"store_frames": $frames, "image_seq_length": 64, "shard_samples": 2}}
J
    "$bin" build --quiet --config "$T/cfg-$frames.json" --out "$T/b-$frames"
done
mkdir -p "$C/fuzz_shard_read" "$C/fuzz_manifest" "$C/fuzz_shard_sample" "$C/fuzz_npy" \
    "$C/fuzz_png" "$C/fuzz_safetensors"
python3 - "$T" "$C" <<'P'
import io, json, os, struct, subprocess, sys, tarfile
T, C = sys.argv[1], sys.argv[2]

def put(target, name, data):
    with open(os.path.join(C, target, name), "wb") as f:
        f.write(data)

def shard_dir(d, take):
    """fuzz_shard_dir.h layout: manifest, then one chunk per shards[] entry (empty if not taken)."""
    m = json.load(open(os.path.join(d, "manifest.json")))
    man = json.dumps(m, separators=(",", ":"), sort_keys=True).encode()
    out = struct.pack("<I", len(man)) + man
    last = max(take)
    for i, s in enumerate(m["shards"][: last + 1]):
        b = open(os.path.join(d, s["file"]), "rb").read() if i in take else b""
        out += struct.pack("<I", len(b)) + b
    return out

a, b = os.path.join(T, "b-false", "shards"), os.path.join(T, "b-true", "shards")
seeds = {
    "seed_2shards.bin": shard_dir(a, {0, 1}),
    "seed_frames_last_shard.bin": shard_dir(b, {4}),
}
full = seeds["seed_2shards.bin"]
mlen = struct.unpack("<I", full[:4])[0]
seeds["seed_manifest_only.bin"] = full[: 4 + mlen]
seeds["seed_truncated_shard.bin"] = full[:-40]
for t in ("fuzz_shard_read", "fuzz_manifest"):
    for k, v in seeds.items():
        put(t, k, v)

# one sample's members: the sample's tar bytes, as mvot_sample_parse_tar gets them
first = json.load(open(os.path.join(b, "manifest.json")))["shards"][0]["file"]
raw = subprocess.run(["zstd", "-dcq", os.path.join(b, first)], check=True,
                     capture_output=True).stdout
tf = tarfile.open(fileobj=io.BytesIO(raw))
members = tf.getmembers()
by_key = {}
for i, mem in enumerate(members):
    end = members[i + 1].offset if i + 1 < len(members) else mem.offset_data + (mem.size + 511) // 512 * 512
    by_key.setdefault(mem.name.split(".")[0], []).append((mem, raw[mem.offset:end]))
for n, (key, parts) in enumerate(sorted(by_key.items())):
    body = b"".join(p for _, p in parts)
    put("fuzz_shard_sample", "seed_%s_keyed" % key, b"\x01" + body)
    nopng = b"".join(p for m, p in parts if not m.name.endswith(".png"))
    put("fuzz_shard_sample", "seed_%s_nopng" % key, b"\x00" + nopng)
    if n == 0:
        for m, _ in parts:
            data = tf.extractfile(m).read()
            ext = m.name.split(".", 1)[1]
            if ext.endswith(".npy"):
                put("fuzz_npy", "seed_" + ext, data)
            elif ext.endswith(".png"):
                put("fuzz_png", "seed_frame" + ext, data)
put("fuzz_safetensors", "seed_codebook_patch.safetensors",
    open(os.path.join(a, "codebook.safetensors"), "rb").read())
P
echo "seeds written under $C"
