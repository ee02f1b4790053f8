#!/bin/bash
# Killing `mvot pack` (SIGKILL at a random moment, or the hidden --stop-after-shards hook) and
# rerunning gives a shard directory byte-identical to an uninterrupted run; --threads 1 and 2
# give identical bytes.
set -euo pipefail
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cat > "$T/cfg.json" <<'J'
{"gen": {"episodes": 3, "image_size": 128, "min_steps": 2, "max_steps": 6, "sizes": {"minibehavior": {"7": 1}}},
 "codebook": {"K": 128, "max_iters": 2}}
J
"$MVOT_BIN" build --quiet --config "$T/cfg.json" --out "$T/b"
P=(--episodes "$T/b/episodes" --tokenizer "$T/b/tokenizer.json" --codebook "$T/b/codebook.safetensors"
   --image-seq-length 64 --shard-samples 4 --quiet)
"$MVOT_BIN" pack "${P[@]}" --out "$T/ref" --threads 1
"$MVOT_BIN" pack "${P[@]}" --out "$T/t2" --threads 2
diff -r "$T/ref" "$T/t2"
"$MVOT_BIN" pack "${P[@]}" --out "$T/stop" --threads 2 --stop-after-shards 2
[ ! -e "$T/stop/manifest.json" ] || { echo "manifest written by a stopped run"; exit 1; }
"$MVOT_BIN" pack "${P[@]}" --out "$T/stop" --threads 2
diff -r "$T/ref" "$T/stop"
for delay in 0.05 0.2 0.5; do
  rm -rf "$T/kill"
  "$MVOT_BIN" pack "${P[@]}" --out "$T/kill" --threads 2 & pid=$!
  sleep $delay; kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
  "$MVOT_BIN" pack "${P[@]}" --out "$T/kill" --threads 2
  diff -r "$T/ref" "$T/kill"
done
echo "ok"
