#!/usr/bin/env bash
# README command 2 (and CI): install what is missing, then
#   1. a normal build with warnings as errors, and every ctest test (heavy ones included);
#   2. the format check of our sources;
#   3. an ASan+UBSan build (CPU code) and every test again except those labelled heavy
#      (torch, npm, large end-to-end runs: they test peers and scale, not our memory use).
# Timeouts: 120 s a test (MVOT_TEST_TIMEOUT; 300 s under the sanitizers), heavy tests their
# own (MVOT_HEAVY_TIMEOUT).
# Exits non-zero on the first failing stage.
set -eu
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
t0=$(date +%s)

echo "== normal build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMVOT_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest -j"$jobs" --output-on-failure --timeout 120)

echo "== format check"
bash scripts/check-format.sh

echo "== sanitizer build (address,undefined)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMVOT_WERROR=ON -DMVOT_CUDA=OFF \
      -DMVOT_SANITIZE=address,undefined -DMVOT_TEST_TIMEOUT=300 >/dev/null
cmake --build build-asan -j"$jobs"
# Share the npm packages fetched by the first build rather than downloading them twice.
export MVOT_NODE_CACHE=${MVOT_NODE_CACHE:-$PWD/build/hf-node}
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest -j"$jobs" --output-on-failure -LE heavy)
echo "== all stages passed in $(( $(date +%s) - t0 )) s"
