#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job on the embedded
# default (all three tasks, patch VQ + trained BPE, packed into shards, then verified).
# Output: out/demo (override with MVOT_DEMO_OUT). Extra arguments go to `mvot build`.
set -eu
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$(nproc)" --target mvot
out=${MVOT_DEMO_OUT:-out/demo}
rm -rf "$out"
exec build-release/tools/mvot build --out "$out" "$@"
