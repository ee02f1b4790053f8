#!/bin/bash
# `mvot gpucheck --cpu-reference` walks a packed shard set exactly as the GPU check does
# (stored frames, image spans mapped to codes through tokenizer.json) but encodes on the CPU:
# every stored code must be found again (agreement 1, exit 0), and a shard set whose codebook
# was swapped for another must fall below --min-agreement (exit 1). Needs no GPU; skipped in
# builds without CUDA, where gpucheck has no options at all.
set -u
source "$MVOT_SRC/tests/cli/lib.bash"
T=$(t_tmp); trap 'rm -rf "$T"' EXIT
if "$MVOT_BIN" gpucheck --cpu-reference "$T/none" 2>&1 | grep -q "CUDA support was not compiled in"; then
  echo "skip: CUDA support not compiled in"; exit 77
fi
cat >"$T/cfg.json" <<'J'
{"gen": {"episodes": 2, "image_size": 128, "min_steps": 2, "max_steps": 4},
 "codebook": {"K": 64, "max_iters": 2}}
J
"$MVOT_BIN" build --quiet --config "$T/cfg.json" --out "$T/a" || { echo "mvot build failed"; exit 1; }
out=$("$MVOT_BIN" gpucheck "$T/a/shards" --cpu-reference --json --quiet --min-agreement 1); rc=$?
expect_eq "$rc" 0 "gpucheck --cpu-reference exit"
T_CHECKS=$((T_CHECKS + 1))
grep -q '"agreement":1.0' <<<"$out" || fail "agreement not 1: $out"
T_CHECKS=$((T_CHECKS + 1))
grep -q '"images":0,' <<<"$out" && fail "no images checked: $out"
# Same frames and tokens, another codebook: most codes must disagree.
"$MVOT_BIN" build --quiet --config "$T/cfg.json" --seed 7 --out "$T/b" || { echo "mvot build failed"; exit 1; }
cp -r "$T/a/shards" "$T/swap"
cp "$T/b/codebook.safetensors" "$T/swap/codebook.safetensors"
"$MVOT_BIN" gpucheck "$T/swap" --cpu-reference --quiet --min-agreement 0.99 2>/dev/null; rc=$?
expect_eq "$rc" 1 "gpucheck with a swapped codebook"
finish
