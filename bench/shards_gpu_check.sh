#!/bin/bash
# One device call: CUDA build of mvot, then `mvot pack --gpu` and `mvot retokenize --gpu`
# against the CPU on a small 512 px build; the shard files must be byte-identical (the GPU
# patch VQ is exact). Writes $OUT/shards-gpu.log. Library .debs: .devcheck/debs (from
# tools/cuda/prepare-device-debs.sh), unpacked into a private prefix like
# tools/cuda/run-device-check.sh does.
set -u
OUT=${OUT:-$PWD/shards-gpu-out}
mkdir -p "$OUT"
LOG=$OUT/shards-gpu.log
exec > >(tee -a "$LOG") 2>&1
T0=$(date +%s)
say() { echo "[$(($(date +%s) - T0))s] $*"; }
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
MODS="libpng libzstd libxxhash libarchive libpcre2-8 jansson libutf8proc openblas"
EXTRA=()
if ! { command -v pkg-config >/dev/null && pkg-config --exists $MODS; }; then
  DEPS=/tmp/mvot-deps
  rm -rf "$DEPS"
  mkdir -p "$DEPS/bin"
  for d in .devcheck/debs/*.deb; do dpkg-deb -x "$d" "$DEPS"; done
  LIBDIRS="$DEPS/usr/lib/x86_64-linux-gnu:$DEPS/lib/x86_64-linux-gnu:$DEPS/usr/lib/x86_64-linux-gnu/openblas-pthread"
  printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s/usr/bin/pkgconf "$@"\n' "$LIBDIRS" "$DEPS" >"$DEPS/bin/pkg-config"
  chmod +x "$DEPS/bin/pkg-config"
  export PATH="$DEPS/bin:$PATH"
  export PKG_CONFIG_LIBDIR="$DEPS/usr/lib/x86_64-linux-gnu/pkgconfig:$DEPS/usr/lib/x86_64-linux-gnu/openblas-pthread/pkgconfig:$DEPS/usr/share/pkgconfig"
  export PKG_CONFIG_SYSROOT_DIR="$DEPS" PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
  INC="-I$DEPS/usr/include -I$DEPS/usr/include/x86_64-linux-gnu"
  LNK="-Wl,--disable-new-dtags -Wl,-rpath,$LIBDIRS -Wl,-rpath-link,$LIBDIRS"
  EXTRA=("-DCMAKE_C_FLAGS=$INC" "-DCMAKE_CUDA_FLAGS=$INC" "-DCMAKE_EXE_LINKER_FLAGS=$LNK")
  say "unpacked the carried .debs"
fi
B=/tmp/mvot-shards-gpu-build
export PATH="$PATH:/usr/local/cuda/bin"
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DMVOT_CUDA=ON "${EXTRA[@]}" > "$OUT/cmake.log" 2>&1 || { say "configure failed"; tail -20 "$OUT/cmake.log"; exit 1; }
cmake --build "$B" -j 16 --target mvot > "$OUT/build.log" 2>&1 || { say "build failed"; grep -E "error" "$OUT/build.log" | head -20; exit 1; }
say "built"
M=$B/tools/mvot
W=/tmp/mvot-shards-gpu
rm -rf "$W"; mkdir -p "$W"
cat > "$W/cfg.json" <<'J'
{"gen": {"episodes": 8, "image_size": 512, "min_steps": 2, "max_steps": 6}, "codebook": {"K": 1024, "max_iters": 3}}
J
"$M" build --quiet --threads 16 --config "$W/cfg.json" --out "$W/b" || { say "mvot build failed"; exit 1; }
say "mvot build done"
PK=(--episodes "$W/b/episodes" --tokenizer "$W/b/tokenizer.json" --codebook "$W/b/codebook.safetensors" --quiet --json)
for th in 16 1; do
  "$M" pack "${PK[@]}" --threads $th --out "$W/cpu$th" > "$W/cpu$th.json"; say "cpu pack threads $th: $(cat "$W/cpu$th.json")"
done
"$M" pack "${PK[@]}" --threads 16 --gpu --out "$W/gpu" > "$W/gpu.json"; rc=$?
say "gpu pack rc=$rc: $(cat "$W/gpu.json")"
same=1
for f in "$W"/cpu16/*/shard-*.tar.zst; do cmp "$f" "$W/gpu/${f#"$W/cpu16/"}" || same=0; done
say "pack --gpu shards identical to CPU: $same"
grep -h '"image_encoder"' "$W/cpu16/manifest.json" "$W/gpu/manifest.json"
"$M" verify --quiet "$W/gpu" && say "verify gpu shards ok"
# retokenize with a new codebook, CPU vs GPU
jq_cfg='{"gen": {"episodes": 8, "image_size": 512, "min_steps": 2, "max_steps": 6}, "codebook": {"K": 256, "max_iters": 3}}'
echo "$jq_cfg" > "$W/cfg2.json"
"$M" build --quiet --threads 16 --config "$W/cfg2.json" --out "$W/b2" && say "second codebook built"
"$M" retokenize --quiet --threads 16 "$W/cpu16" --codebook "$W/b2/codebook.safetensors" --out "$W/rc"
"$M" retokenize --quiet --threads 16 --gpu "$W/cpu16" --codebook "$W/b2/codebook.safetensors" --out "$W/rg"; rc=$?
same=1
for f in "$W"/rc/*/shard-*.tar.zst; do cmp "$f" "$W/rg/${f#"$W/rc/"}" || same=0; done
say "retokenize --gpu rc=$rc, shards identical to CPU: $same"
say "done"
