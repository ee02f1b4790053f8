#!/bin/bash
# The GPU code paths of the CLI, run on the CPU mock of tools/cuda/gpu_vq.h (mvot-gpumock,
# built in CUDA builds): `gpucheck` through its GPU branch finds every stored code again
# (agreement 1), and `pack --gpu` (gpu_encoder.c) writes shards byte-identical to the CPU
# pack, with "cuda-patchvq" recorded as the manifest's image_encoder. The kernels themselves
# are covered by the cuda-labelled tests on a device.
set -u
source "$MVOT_SRC/tests/cli/lib.bash"
M=$MVOT_BUILD/tools/cuda/mvot-gpumock
[ -x "$M" ] || { echo "skip: no mvot-gpumock in this build (CUDA off)"; exit 77; }
T=$(t_tmp); trap 'rm -rf "$T"' EXIT
cat >"$T/cfg.json" <<'J'
{"gen": {"episodes": 2, "image_size": 128, "min_steps": 2, "max_steps": 4},
 "codebook": {"K": 64, "max_iters": 2}}
J
"$M" build --quiet --config "$T/cfg.json" --out "$T/a" || { echo "mvot build failed"; exit 1; }
out=$("$M" gpucheck "$T/a/shards" --json --quiet --min-agreement 1); rc=$?
expect_eq "$rc" 0 "gpucheck (mock GPU) exit"
T_CHECKS=$((T_CHECKS + 1))
grep -q '"agreement":1.0' <<<"$out" || fail "agreement not 1: $out"
P=(--episodes "$T/a/episodes" --tokenizer "$T/a/tokenizer.json" --codebook "$T/a/codebook.safetensors"
   --image-seq-length 64 --quiet)
"$M" pack "${P[@]}" --out "$T/cpu" || fail "pack (CPU)"
"$M" pack "${P[@]}" --gpu --out "$T/gpu" || fail "pack --gpu (mock)"
n=0
for f in "$T"/cpu/*/shard-*.tar.zst; do
  rel=${f#"$T/cpu/"}
  n=$((n + 1))
  T_CHECKS=$((T_CHECKS + 1))
  cmp -s "$f" "$T/gpu/$rel" || fail "$rel differs between CPU and --gpu"
done
T_CHECKS=$((T_CHECKS + 1))
[ "$n" -gt 0 ] || fail "no shards written"
T_CHECKS=$((T_CHECKS + 1))
grep -q '"image_encoder": "cuda-patchvq"' "$T/gpu/manifest.json" || fail "manifest image_encoder: $(grep image_encoder "$T/gpu/manifest.json")"
finish
