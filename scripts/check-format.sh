#!/usr/bin/env bash
# Fails if any of our C/CUDA sources differs from clang-format's output (.clang-format).
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' '*.cu' '*.cuh' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
[ -n "$files" ] || exit 0
clang-format --dry-run -Werror $files
echo "format: $(echo "$files" | wc -l) files clean"
