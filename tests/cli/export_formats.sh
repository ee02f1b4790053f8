#!/bin/bash
# mvot export: megatron, jsonl (+ --prompts) and tar against `mvot cat --json`, Megatron-Core's
# own reader (from the reference folder, with stubs for its unrelated imports; the script
# exits 77 after the other checks when that folder is absent) and Python's tarfile; --prompts
# as the input of a generation run that mvot eval scores; the usage errors; an export never
# replaces a file and is byte-identical when repeated.
set -uo pipefail
source "$(dirname "$0")/lib.bash"
PY=/usr/bin/python3
$PY -c 'import numpy' 2>/dev/null || { echo "skip: python3-numpy missing"; exit 77; }
T=$(t_tmp); trap 'rm -rf "$T"' EXIT
"$MVOT_BIN" build --quiet --config "$MVOT_SRC/tests/python/tiny-build.json" --out "$T/b" --threads 2 || exit 1
S="$T/b/shards"; E="$T/e"
for f in megatron jsonl tar; do
  "$MVOT_BIN" export --quiet "$S" --format $f --out "$E/$f" --tar-samples 4
  expect_eq "$?" 0 "export --format $f"
done
"$MVOT_BIN" export --quiet "$S" --format jsonl --prompts --split test --out "$E/prompts"
expect_eq "$?" 0 "export --prompts"
"$MVOT_BIN" export --quiet "$S" --format megatron --out "$T/again" --tar-samples 4
expect_eq "$(cd "$T/again" && sha256sum ./* | sha256sum)" "$(cd "$E/megatron" && sha256sum ./* | sha256sum)" \
  "a repeated export is byte-identical"
# a split's folder (ROOT/test) exports that split only, as --split test does
"$MVOT_BIN" export --quiet "$S/test" --format jsonl --prompts --out "$T/folder"
expect_eq "$?" 0 "export of a split folder"
expect_eq "$(ls "$T/folder" | tr '\n' ' ')" "manifest.json test-prompts.jsonl " "split folder outputs"
T_CHECKS=$((T_CHECKS + 1))
cmp -s "$T/folder/test-prompts.jsonl" "$E/prompts/test-prompts.jsonl" || fail "split folder and --split differ"
n=$($PY -c "import json;print(json.load(open('$S/manifest.json'))['totals']['samples'])")
for ((i = 0; i < n; i++)); do "$MVOT_BIN" cat --json "$S" "$i"; done > "$T/cat.jsonl"

# usage errors: exit 2, one line
expect_usage_error "$MVOT_BIN" export "$S" --out "$T/x"
expect_usage_error "$MVOT_BIN" export "$S" --format parquet --out "$T/x"
expect_usage_error "$MVOT_BIN" export "$S" --format jsonl
expect_usage_error "$MVOT_BIN" export "$S" --format jsonl --split valid --out "$T/x"
expect_usage_error "$MVOT_BIN" export "$S" --format tar --prompts --out "$T/x"
expect_usage_error "$MVOT_BIN" export "$S" --format tar --tar-samples 0 --out "$T/x"
# an existing file is never replaced: exit 2 naming it, nothing written
before=$(sha256sum "$E/jsonl/train.jsonl")
expect_usage_error "$MVOT_BIN" export "$S" --format jsonl --out "$E/jsonl"
expect_eq "$(sha256sum "$E/jsonl/train.jsonl")" "$before" "existing output untouched"
err=$("$MVOT_BIN" export "$S" --format jsonl --out "$E/jsonl" 2>&1)
case "$err" in *"train.jsonl: exists"*) ;; *) fail "error does not name the file: $err" ;; esac
# not into the shard set it reads
expect_usage_error "$MVOT_BIN" export "$S" --format jsonl --out "$S/x"
[ -e "$S/x" ] && fail "export made a folder inside its input"
# a missing set: runtime failure, exit 1
"$MVOT_BIN" export "$T/none" --format jsonl --out "$T/y" 2>/dev/null
expect_eq "$?" 1 "missing shard set"

# --prompts feeds a generation run scored by key: a "model" that returns each prompt followed
# by the truth's label ids (as HF generate returns prompt + continuation) scores perfectly
$PY - "$E/prompts/test-prompts.jsonl" "$T/cat.jsonl" "$T/pred.jsonl" <<'P'
import json, sys
truth = {c["key"]: c for c in map(json.loads, open(sys.argv[2]))}
with open(sys.argv[3], "w") as out:
    for p in map(json.loads, open(sys.argv[1])):
        c = truth[p["key"]]
        label = [t for t, l in zip(c["input_ids"], c["labels"]) if l != -100]
        out.write(json.dumps({"key": p["key"], "output_ids": p["input_ids"] + label}) + "\n")
P
got=$("$MVOT_BIN" eval --truth "$S" --pred "$T/pred.jsonl" --json --quiet | $PY -c '
import json, sys
s = json.load(sys.stdin)
print(s["lines"] > 0 and s["scored"] == s["lines"], s["accuracy"], s["code_match"])')
expect_eq "$got" "True 1.0 1.0" "eval of the prompts' perfect continuations"

REF="${MVOT_REFERENCE_DIR:-}/megatron"
[ -n "${MVOT_REFERENCE_DIR:-}" ] && [ -f "$REF/megatron/core/datasets/indexed_dataset.py" ] &&
  $PY -c 'import torch' 2>/dev/null || REF=""
T_CHECKS=$((T_CHECKS + 1))
$PY "$MVOT_SRC/tests/python/test_exports.py" "$E" "$T/cat.jsonl" "$S" "$REF" "$T"
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 77 ] || fail "tests/python/test_exports.py exited $rc"
if [ "$T_FAILS" = 0 ] && [ "$rc" = 77 ]; then
  echo "skip: Megatron-Core's reader (MVOT_REFERENCE_DIR) or torch absent; the other checks passed"
  exit 77
fi
finish
