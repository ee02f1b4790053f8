#!/usr/bin/env bash
# One call on a GPU machine (docs/cuda.md): fresh CUDA build, the cuda-labelled tests, the
# benchmarks, the PyTorch peer and an end-to-end gpucheck, in well under 10 minutes.
# Writes $OUT/device-check.log (everything) and $OUT/results.json (steps + benchmark
# objects); prints a short summary last. Every step is timed and may fail without
# stopping the next one.
#
#   bash tools/cuda/run-device-check.sh        (from the repo root; OUT defaults to ./devcheck-out)
#
# Dependencies: if pkg-config or any library of scripts/deps-apt.txt is missing there, the
# .deb files in .devcheck/debs (made here by tools/cuda/prepare-device-debs.sh and carried
# with the call) are unpacked into a private prefix; binaries get an RPATH to it, nothing
# is installed system-wide.
set -u
T0=$(date +%s)
OUT=${OUT:-$PWD/devcheck-out}
mkdir -p "$OUT"
LOG=$OUT/device-check.log
RES=$OUT/results.jsonl
: >"$LOG"
: >"$RES"
B=${MVOT_DEVCHECK_BUILD:-$PWD/build-devcheck}
W=${MVOT_DEVCHECK_WORK:-/tmp/mvot-devcheck}
BUDGET=${MVOT_DEVCHECK_BUDGET:-480} # seconds; optional steps are skipped past it
HARD=${MVOT_DEVCHECK_HARD:-560}     # no step runs past this (the call's limit is 600 s)
JOBS=${MVOT_DEVCHECK_JOBS:-16}
rm -rf "$W"
mkdir -p "$W"

say() { echo "[$(($(date +%s) - T0))s] $*" | tee -a "$LOG" >&2; }
elapsed() { echo $(($(date +%s) - T0)); }
# cap NAME TIMEOUT: prints the timeout cut to what is left before HARD (0: no time left).
cap() {
  local left=$((HARD - $(elapsed) - 10))
  [ "$left" -lt "$2" ] && echo $((left > 0 ? left : 0)) || echo "$2"
}
skipped() {
  say "== $1: skipped, no time left"
  printf '{"step":"%s","rc":-1,"seconds":0,"skipped":true}\n' "$1" >>"$RES"
  return 1
}
# step NAME TIMEOUT CMD...: runs with a timeout, logs output, records rc and seconds.
step() {
  local name=$1 tmo
  tmo=$(cap "$1" "$2")
  [ "$tmo" -gt 0 ] || { skipped "$name"; return 1; }
  shift 2
  local s rc
  s=$(date +%s)
  say "== $name (timeout ${tmo}s): $*"
  timeout -k 5 "$tmo" "$@" >>"$LOG" 2>&1
  rc=$?
  say "== $name: rc=$rc in $(($(date +%s) - s))s"
  printf '{"step":"%s","rc":%d,"seconds":%d}\n' "$name" "$rc" "$(($(date +%s) - s))" >>"$RES"
  return $rc
}
# bench NAME TIMEOUT CMD...: like step, but the command's stdout JSON lines go to results.
bench() {
  local name=$1 tmo
  tmo=$(cap "$1" "$2")
  [ "$tmo" -gt 0 ] || { skipped "$name"; return 1; }
  shift 2
  local s rc
  s=$(date +%s)
  say "== $name (timeout ${tmo}s): $*"
  timeout -k 5 "$tmo" "$@" 2>>"$LOG" | tee -a "$LOG" | grep '^{' >>"$RES"
  rc=${PIPESTATUS[0]}
  say "== $name: rc=$rc in $(($(date +%s) - s))s"
  printf '{"step":"%s","rc":%d,"seconds":%d}\n' "$name" "$rc" "$(($(date +%s) - s))" >>"$RES"
  return $rc
}
over_budget() { [ "$(elapsed)" -ge "$BUDGET" ]; }

# ---- 0. what is there ----------------------------------------------------------------
say "mvot device check in $PWD, OUT=$OUT"
{
  uname -a
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
  command -v nvcc && nvcc --version | tail -2
  ls -d /usr/local/cuda* 2>&1
  cmake --version | head -1
  gcc --version | head -1
  command -v ninja pkg-config python3
  python3 -c 'import torch, sys; print("torch", torch.__version__, torch.cuda.is_available())' 2>&1
  ls /usr/local/cuda/include/cudnn.h /usr/local/cuda/lib*/libcudnn.so* 2>&1
  ldconfig -p 2>/dev/null | grep libcudnn
  git log --oneline -1 2>/dev/null
} >>"$LOG" 2>&1
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)

# ---- 1. dependencies ------------------------------------------------------------------
MODS="libpng libzstd libxxhash libarchive libpcre2-8 jansson libutf8proc openblas"
EXTRA=()
if [ -z "${MVOT_DEVCHECK_FORCE_DEBS:-}" ] && command -v pkg-config >/dev/null &&
  pkg-config --exists $MODS; then
  say "system has every library"
elif [ -d .devcheck/debs ]; then
  DEPS=/tmp/mvot-deps
  rm -rf "$DEPS"
  mkdir -p "$DEPS/bin"
  s=$(date +%s)
  for d in .devcheck/debs/*.deb; do
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$d" "$DEPS"
    else # ar + tar fallback for a non-Debian box
      (cd "$DEPS" && ar p "$OLDPWD/$d" "$(ar t "$OLDPWD/$d" | grep '^data.tar')" | tar -x -a -f - 2>/dev/null ||
        ar p "$OLDPWD/$d" data.tar.xz | tar -xJ)
    fi
  done
  LIBDIRS="$DEPS/usr/lib/x86_64-linux-gnu:$DEPS/lib/x86_64-linux-gnu:$DEPS/usr/lib/x86_64-linux-gnu/openblas-pthread"
  printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s/usr/bin/pkgconf "$@"\n' "$LIBDIRS" "$DEPS" >"$DEPS/bin/pkg-config"
  chmod +x "$DEPS/bin/pkg-config"
  export PATH="$DEPS/bin:$PATH"
  export PKG_CONFIG_LIBDIR="$DEPS/usr/lib/x86_64-linux-gnu/pkgconfig:$DEPS/usr/lib/x86_64-linux-gnu/openblas-pthread/pkgconfig:$DEPS/usr/share/pkgconfig"
  export PKG_CONFIG_SYSROOT_DIR="$DEPS" PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
  INC="-I$DEPS/usr/include -I$DEPS/usr/include/x86_64-linux-gnu"
  LNK="-Wl,--disable-new-dtags -Wl,-rpath,$LIBDIRS -Wl,-rpath-link,$LIBDIRS"
  EXTRA=("-DCMAKE_C_FLAGS=$INC" "-DCMAKE_CUDA_FLAGS=$INC" "-DCMAKE_EXE_LINKER_FLAGS=$LNK"
    "-DCMAKE_MODULE_LINKER_FLAGS=$LNK") # the GPU modules link core's libraries too
  say "unpacked $(ls .devcheck/debs/*.deb | wc -l) carried .debs into $DEPS in $(($(date +%s) - s))s"
  pkg-config --cflags --libs $MODS >>"$LOG" 2>&1 || say "pkg-config still misses a library"
else
  say "libraries missing and no .devcheck/debs carried: the build will fail"
fi

# ---- 1b. cuDNN (the VQGAN convolutions; libmvot-cuda.so dlopen()s it, nothing links it) --
# cudnn.h: the toolkit's, else the one of PyTorch's pip package (nvidia-cudnn-*). libcudnn:
# the loader's or the toolkit's (found by the module itself), else the pip package's, named
# by MVOT_CUDNN_LIB (its folder also goes on LD_LIBRARY_PATH for cuDNN's sub-libraries).
CUDNN_ARGS=()
ORIG_LD=${LD_LIBRARY_PATH-} # torch_compare keeps the loader path it had
PYCUDNN=$(python3 -c 'import os, nvidia.cudnn as m; print(os.path.dirname(m.__file__) if getattr(m, "__file__", None) else list(m.__path__)[0])' 2>/dev/null)
[ -n "$PYCUDNN" ] && say "pip cuDNN at $PYCUDNN"
CUDA_INC=$(dirname "$NVCC")/../include
if [ -e "$CUDA_INC/cudnn.h" ] || [ -e /usr/local/cuda/include/cudnn.h ] || [ -e /usr/include/cudnn.h ]; then
  say "cudnn.h: the system's"
elif [ -n "$PYCUDNN" ] && [ -e "$PYCUDNN/include/cudnn.h" ]; then
  CUDNN_ARGS=("-DMVOT_CUDNN_INCLUDE=$PYCUDNN/include")
  say "cudnn.h: $PYCUDNN/include"
else
  say "no cudnn.h anywhere: the cuDNN path is not compiled (im2col only)"
fi
if [ -n "${MVOT_CUDNN_LIB:-}" ]; then
  say "MVOT_CUDNN_LIB=$MVOT_CUDNN_LIB (given)"
elif ldconfig -p 2>/dev/null | grep -q 'libcudnn\.so\.9 '; then
  say "libcudnn.so.9: in the loader's path"
else
  for f in "$(dirname "$NVCC")"/../lib64/libcudnn.so.9 /usr/local/cuda/lib64/libcudnn.so.9 \
    /usr/local/cuda/lib/libcudnn.so.9 "${PYCUDNN:-/nonexistent}/lib/libcudnn.so.9"; do
    [ -e "$f" ] || continue
    f=$(readlink -f "$f")
    export MVOT_CUDNN_LIB=$f
    export LD_LIBRARY_PATH=$(dirname "$f")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    say "MVOT_CUDNN_LIB=$MVOT_CUDNN_LIB"
    break
  done
fi
if [ -z "${MVOT_CUDNN_LIB:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libcudnn\.so\.9 '; then
  say "no libcudnn.so.9 found: the VQGAN runs im2col only"
fi

# ---- 2. build -------------------------------------------------------------------------
rm -rf "$B"
GEN=()
KEEP=(-- -k)
command -v ninja >/dev/null && GEN=(-G Ninja) && KEEP=(-- -k 0)
CUDA_TARGETS="test_gpu_nearest test_gpu_patchvq test_gpu_vqgan test_cuda_refs mvot-gpubench mvot-vqgan-rand mvot-devicequery"
step configure 120 cmake -S . -B "$B" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DMVOT_CUDA=ON \
  -DMVOT_WERROR=OFF -DCMAKE_CUDA_COMPILER="$NVCC" -DCMAKE_CUDA_ARCHITECTURES=90 "${EXTRA[@]}" \
  "${CUDNN_ARGS[@]}"
# -k: a target broken by another stage's half-written code must not stop the others.
step build_cuda 240 cmake --build "$B" -j "$JOBS" --target $CUDA_TARGETS "${KEEP[@]}"
# The whole CLI (for gpucheck) and the modules it loads on demand (libmvot-cuda.so, and the
# CPU mock for cli_gpucheck_mock); other stages' code may break it, which only skips step 7.
step build_mvot 150 cmake --build "$B" -j "$JOBS" --target mvot mvot-cuda mvot-cuda-mock \
  mvot-gpumock "${KEEP[@]}"
X=$B/tools/cuda
step devicequery 30 "$X/mvot-devicequery"

# ---- 3. tests -------------------------------------------------------------------------
step ctest_cuda 240 ctest --test-dir "$B" -L cuda -V --timeout 200
step ctest_refs 60 ctest --test-dir "$B" -R 'cuda_refs_cpu|gpucheck' --output-on-failure

# ---- 4. kernels -----------------------------------------------------------------------
bench bench_nearest 120 "$X/mvot-gpubench" nearest --K 8192 --D 256 --images 16 --iters 20
bench bench_patchvq 120 "$X/mvot-gpubench" patchvq --K 8192 --S 512 --images 256

# ---- 5. VQGAN at 512 px, full width random weights -------------------------------------
step vqgan_weights 60 "$X/mvot-vqgan-rand" "$W/vq512.safetensors" --ch 128 --z 256 --K 8192 --D 256
mkdir -p "$W/dump"
bench bench_vqgan 240 "$X/mvot-gpubench" vqgan "$W/vq512.safetensors" --S 512 --images 32 \
  --cpu-check 1 --dump "$W/dump"

# ---- 6. PyTorch on the same GPU and weights --------------------------------------------
if over_budget; then
  say "skip torch_compare (over budget)"
elif python3 -c 'import torch; assert torch.cuda.is_available()' >>"$LOG" 2>&1; then
  step torch_compare 150 env LD_LIBRARY_PATH="$ORIG_LD" python3 tools/cuda/torch_compare.py --ckpt "$W/vq512.safetensors" \
    --dump "$W/dump" --out "$OUT/torch.json" --batch 16 --iters 5
  [ -s "$OUT/torch.json" ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["bench"]="torch"; print(json.dumps(d))' "$OUT/torch.json" >>"$RES"
else
  say "skip torch_compare: no torch with CUDA"
fi

# ---- 7. end to end: build a small set, pack on the CPU, gpucheck (and pack --gpu) -------
M=$B/tools/mvot
# mvot itself must not link CUDA (docs/cuda.md, "Loading"): gpucheck/--gpu dlopen the module.
[ -x "$M" ] && step mvot_links_no_cuda 10 bash -c "! ldd '$M' | grep -E 'libcudart|libcublas'"
if over_budget || [ ! -x "$M" ]; then
  say "skip gpucheck end-to-end (over budget or mvot not built)"
else
  cat >"$W/cfg.json" <<'J'
{"gen": {"episodes": 4, "image_size": 512, "min_steps": 2, "max_steps": 5},
 "codebook": {"K": 256, "max_iters": 3}}
J
  if step e2e_build 150 "$M" build --quiet --threads "$JOBS" --config "$W/cfg.json" --out "$W/b"; then
    PK=(--episodes "$W/b/episodes" --tokenizer "$W/b/tokenizer.json"
      --codebook "$W/b/codebook.safetensors" --image-seq-length 1024 --quiet --threads "$JOBS")
    step e2e_pack_cpu 120 "$M" pack "${PK[@]}" --out "$W/s_cpu"
    bench gpucheck 120 "$M" gpucheck "$W/s_cpu" --json --min-agreement 1.0
    if "$M" pack --help 2>/dev/null | grep -q -- '--gpu'; then
      step e2e_pack_gpu 120 "$M" pack "${PK[@]}" --gpu --out "$W/s_gpu"
      # identical shards apart from the manifest's image_encoder line
      step e2e_pack_identical 30 bash -c "cd '$W' && for f in s_cpu/*/shard-*.tar.zst; do cmp \"\$f\" \"s_gpu/\${f#s_cpu/}\" || exit 1; done"
    else
      say "pack has no --gpu flag in this tree: GPU pack not exercised"
    fi
  fi
fi

# ---- 8. compute-sanitizer memcheck on the small kernel tests (diagnostic, last) ---------
CS=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
if over_budget || [ ! -x "$CS" ]; then
  say "skip memcheck (over budget or no compute-sanitizer)"
else
  for t in test_gpu_patchvq test_gpu_vqgan; do
    [ -x "$X/$t" ] && (cd "$X" && step "memcheck_$t" 120 "$CS" --tool memcheck --error-exitcode 9 "./$t")
  done
fi

# ---- results --------------------------------------------------------------------------
say "total $(elapsed)s"
python3 - "$RES" "$OUT/results.json" <<'PY' 2>>"$LOG" || { echo "[" ; paste -sd, "$RES"; echo "]"; } >"$OUT/results.json"
import json, sys
rows = []
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{"):
        try:
            rows.append(json.loads(line))
        except ValueError:
            rows.append({"unparsed": line})
json.dump({"results": rows}, open(sys.argv[2], "w"), indent=1, sort_keys=True)
steps = [r for r in rows if "step" in r]
print("steps:", " ".join("%s=%s" % (r["step"], "ok" if r["rc"] == 0 else "rc%d" % r["rc"]) for r in steps))
for r in rows:
    b = r.get("bench")
    if b == "nearest":
        print("nearest %s chunk %5d: %.3f ms  %.1f TFLOP/s  %.0f%% of 1-GEMM peak (%.1f TFLOP/s)  cpu mismatches %d" % (
            r["precision"], r["chunk_rows"], r["search_ms"], r["search_tflops"], 100 * r["fraction_of_peak"],
            r["peak_gemm_tflops"], r["cpu_mismatch"]))
    elif b in ("patchvq", "vqgan", "vqgan_vs_cpu", "vqgan_tf32_vs_fp32", "vqgan_cudnn_vs_im2col"):
        print(b, {k: v for k, v in r.items() if k != "bench"})
    elif b == "torch":
        print("torch", {k: r.get(k) for k in ("peer", "vs_mvot_gpu_fp32", "torch_fp32", "torch_tf32", "torch_bf16", "error")})
    elif "agreement" in r and "device" in r:
        print("gpucheck", {k: r[k] for k in ("images", "agreement", "gpu_images_per_s", "h2d_ms", "compute_ms", "d2h_ms", "device")})
PY
say "wrote $OUT/results.json"
