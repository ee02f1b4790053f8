#!/bin/bash
# retokenize with a new codebook rebuilds shards from the stored frames and texts: text and
# special tokens stay byte-identical, image tokens equal a fresh pack with that codebook, the
# manifest records the old identities, verify passes; inspect renders the images.
set -euo pipefail
PY=/usr/bin/python3
$PY -c 'import numpy, zstandard' 2>/dev/null || { echo "skip: python3-numpy/zstandard missing"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
G='"gen": {"episodes": 2, "image_size": 128, "min_steps": 1, "max_steps": 5, "sizes": {"minibehavior": {"7": 1}}}'
echo "{$G, \"codebook\": {\"K\": 128, \"max_iters\": 2}}" > "$T/a.json"
echo "{$G, \"codebook\": {\"K\": 32, \"max_iters\": 2}}" > "$T/b.json"
"$MVOT_BIN" build --quiet --config "$T/a.json" --out "$T/a"
"$MVOT_BIN" build --quiet --config "$T/b.json" --out "$T/b"
cmp "$T/a/tokenizer.json" "$T/b/tokenizer.json"   # same texts, same BPE
"$MVOT_BIN" retokenize --quiet "$T/a/shards" --codebook "$T/b/codebook.safetensors" --out "$T/r"
"$MVOT_BIN" verify --quiet "$T/r"
grep -q '"retokenized_from"' "$T/r/manifest.json"
PYTHONPATH="$MVOT_SRC/tools/python" $PY - "$T/a/shards" "$T/b/shards" "$T/r" <<'P'
import sys
from mvot_reader import ShardSet
a, b, r = (ShardSet(d) for d in sys.argv[1:])
assert len(a) == len(b) == len(r) > 0
diff_img = 0
for x, y, z in zip(a, b, r):
    assert x["key"] == y["key"] == z["key"]
    assert (z["input_ids"] == y["input_ids"]).all(), z["key"]   # same as a fresh pack
    assert (z["labels"] == y["labels"]).all(), z["key"]
    assert len(x["input_ids"]) == len(z["input_ids"])
    for start, length, mod, loss in x["spans"]:
        s = slice(start, start + length)
        if mod != 1:
            assert (x["input_ids"][s] == z["input_ids"][s]).all(), x["key"]
        else:
            diff_img += int((x["input_ids"][s] != z["input_ids"][s]).any())
assert diff_img > 0, "new codebook changed no image"
m = r.manifest["retokenized_from"]
assert m["codebook"]["xxh3"] == a.manifest["codebook"]["xxh3"] != r.manifest["codebook"]["xxh3"]
print("retokenize ok:", len(r), "samples,", diff_img, "images re-encoded")
P
"$MVOT_BIN" inspect "$T/r" 0 --out "$T/ins" > "$T/ins.txt"
grep -q 'decoded.png' "$T/ins.txt"
grep -q 'sheet.png' "$T/ins.txt"
echo "ok"
