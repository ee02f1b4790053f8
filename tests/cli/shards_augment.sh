#!/bin/bash
# pack --augment: with a patch codebook a round trip gives back the same codes, so pack says so
# and does none (every sample's augment list is zeros); with an encoder-only VQGAN checkpoint
# (tests/vqgan/ref.py --encoder-only; skipped without python3-torch) it refuses with exit 2 and
# a message naming the file.
set -u
BIN=${MVOT_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat > "$T/cfg.json" <<'J'
{"gen": {"episodes": 1, "image_size": 128, "max_steps": 6, "tasks": ["maze"], "sizes": {"maze": {"3": 1}}},
 "codebook": {"K": 64, "max_iters": 2}}
J
"$BIN" build --quiet --config "$T/cfg.json" --out "$T/b" || exit 1
B="$T/b"
"$BIN" pack --episodes "$B/episodes" --tokenizer "$B/shards/tokenizer.json" \
  --codebook "$B/shards/codebook.safetensors" --image-seq-length 64 --augment 2 --out "$T/p" \
  2> "$T/err" || { cat "$T/err"; exit 1; }
grep -q "round trip gives back the same codes, so no augmentation was done" "$T/err" ||
  { echo "FAIL: no identity note"; cat "$T/err"; exit 1; }
zstd -dc "$T/p/shard-000000.tar.zst" | tar -xO --wildcards '*.json' | grep -o '"augment": *\[[^]]*\]' \
  > "$T/aug"
[ -s "$T/aug" ] || { echo "FAIL: no augment lists"; exit 1; }
if grep -q '[1-9]' "$T/aug"; then echo "FAIL: augmentation applied"; cat "$T/aug"; exit 1; fi
/usr/bin/python3 -c "import torch, numpy" 2>/dev/null || { echo "skip: no python3-torch"; exit 77; }
/usr/bin/python3 "${MVOT_SRC:?}/tests/vqgan/ref.py" --out "$T/vq" --ch 32 --size 128 \
  --encoder-only --seed 1 > /dev/null || exit 1
"$BIN" pack --episodes "$B/episodes" --tokenizer "$B/shards/tokenizer.json" \
  --codebook "$T/vq/vq.safetensors" --image-seq-length 64 --augment 2 --out "$T/q" 2> "$T/err2"
rc=$?
[ "$rc" -eq 2 ] || { echo "FAIL: exit $rc, want 2"; cat "$T/err2"; exit 1; }
grep -q "vq.safetensors: --augment 2 needs a decoder" "$T/err2" || { cat "$T/err2"; exit 1; }
[ ! -e "$T/q/manifest.json" ] || { echo "FAIL: a refused pack wrote a manifest"; exit 1; }
echo ok
