#!/bin/bash
# libmvot as an installed library: `cmake --install` into a temporary prefix, then the same C
# program built against it through pkg-config (shared and static) and through
# find_package(mvot) (shared, static, and a C++ program), each run on a real shard set; a
# Python ctypes smoke test against the installed libmvot.so; the installed mvot runs; the
# shared library exports exactly the functions of <mvot/mvot.h>.
# Needs MVOT_SRC, MVOT_BUILD, MVOT_BIN (set by ctest).
set -euo pipefail
: "${MVOT_SRC:?}" "${MVOT_BUILD:?}" "${MVOT_BIN:?}"
here="$MVOT_SRC/tests/install"
T=$(mktemp -d "${TMPDIR:-/tmp}/mvot-install-XXXXXX"); trap 'rm -rf "$T"' EXIT
P="$T/prefix"
cmake --install "$MVOT_BUILD" --prefix "$P" >"$T/install.log"
libdir=
for d in lib lib64 lib/*-linux-gnu; do
    if [ -e "$P/$d/libmvot.so" ]; then libdir=$d; break; fi
done
[ -n "$libdir" ] || { echo "FAIL: no libmvot.so under $P"; cat "$T/install.log"; exit 1; }
L="$P/$libdir"
for f in bin/mvot include/mvot/mvot.h include/mvot/status.h "$libdir/libmvot.a" \
         "$libdir/pkgconfig/mvot.pc" "$libdir/cmake/mvot/mvotConfig.cmake"; do
    [ -e "$P/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
"$P/bin/mvot" --version
# in CUDA builds the GPU module is installed, and the installed mvot finds it in ../<libdir>
if [ -e "$MVOT_BUILD/tools/cuda/libmvot-cuda.so" ]; then
    [ -e "$L/libmvot-cuda.so" ] || { echo "FAIL: libmvot-cuda.so not installed"; exit 1; }
    why=$("$P/bin/mvot" gpucheck "$T/none" 2>&1 >/dev/null || true)
    if grep -q "no libmvot-cuda.so" <<<"$why"; then echo "FAIL: installed mvot: $why"; exit 1; fi
    echo "installed GPU module found (gpucheck: $why)"
fi

# exported symbols == the functions declared MVOT_API in the public headers
nm -D --defined-only "$L/libmvot.so" | awk '$2 == "T" {print $3}' | sort >"$T/exported"
grep -hE '^MVOT_API ' "$MVOT_SRC"/include/mvot/*.h | grep -oE '[a-z_0-9]+\(' | head -n 100 |
    tr -d '(' | sort >"$T/declared"
diff "$T/declared" "$T/exported" || { echo "FAIL: exported symbols differ from the API (< declared, > exported)"; exit 1; }
[ "$(nm "$L/libmvot.a" | awk '$2 ~ /^[TDBRVW]$/' | wc -l)" = "$(wc -l <"$T/declared")" ] ||
    { echo "FAIL: libmvot.a has global symbols beyond the API:"; nm "$L/libmvot.a" | awk '$2 ~ /^[TDBRVW]$/' | grep -vwFf "$T/declared" | head; exit 1; }

# a small shard set made by the installed tool
cat >"$T/cfg.json" <<'J'
{"gen": {"episodes": 1, "image_size": 128, "min_steps": 2, "max_steps": 4},
 "codebook": {"K": 64, "max_iters": 2}}
J
"$P/bin/mvot" build --quiet --config "$T/cfg.json" --out "$T/b" --threads 2
D="$T/b/shards"

export PKG_CONFIG_PATH="$L/pkgconfig"
cc=${CC:-cc}
# shared, through pkg-config
$cc -std=c11 -Wall -Werror -o "$T/c_pc" "$here/consumer.c" $(pkg-config --cflags --libs mvot) -Wl,-rpath,"$L"
"$T/c_pc" "$T/b" "$T/w1"
# static, through pkg-config: libmvot.a, then the libraries mvot.pc names as private
# requirements (as shared libraries: `--static` would also ask for their own static deps)
$cc -std=c11 -Wall -Werror -o "$T/c_pc_static" "$here/consumer.c" $(pkg-config --cflags mvot) \
    "$L/libmvot.a" $(pkg-config --libs $(pkg-config --print-requires-private mvot)) -lpthread -lm
if ldd "$T/c_pc_static" | grep -q libmvot; then echo "FAIL: the static build links libmvot.so"; exit 1; fi
"$T/c_pc_static" "$T/b" "$T/w2"

# find_package(mvot): C shared, C static, C++
cmake -S "$here/project" -B "$T/proj" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_BUILD_RPATH="$L" >"$T/proj.log" || { cat "$T/proj.log"; exit 1; }
cmake --build "$T/proj" -j2 >>"$T/proj.log" || { cat "$T/proj.log"; exit 1; }
"$T/proj/consumer_c" "$T/b" "$T/w3"
"$T/proj/consumer_c_static" "$T/b" "$T/w4"
"$T/proj/consumer_cpp" "$D"

# the four packs above agree byte for byte (same inputs, same library)
for w in w2 w3 w4; do diff -r "$T/w1/shards" "$T/$w/shards" >/dev/null ||
    { echo "FAIL: $w/shards differs from w1/shards"; exit 1; }; done

# Python ctypes, against the installed shared library
n=$(/usr/bin/python3 -c "import json;print(json.load(open('$D/manifest.json'))['totals']['samples'])")
for ((i = 0; i < n; i++)); do "$P/bin/mvot" cat --json "$D" "$i"; done >"$T/cat.jsonl"
/usr/bin/python3 "$here/ctypes_smoke.py" "$L/libmvot.so" "$D" "$T/cat.jsonl"
echo "install consumers ok"
