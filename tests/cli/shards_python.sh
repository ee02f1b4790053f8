#!/bin/bash
# tools/python/mvot_reader.py (numpy + zstandard only) reads C-written shards, and every
# sample's key, input_ids and labels equal `mvot cat --json`; random access by key works.
# (The torch Dataset wrapper has its own test, shards_torch.sh, labelled heavy.)
set -euo pipefail
PY=/usr/bin/python3
$PY -c 'import numpy, zstandard' 2>/dev/null || { echo "skip: python3-numpy/zstandard missing"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cat > "$T/cfg.json" <<'J'
{"gen": {"episodes": 2, "image_size": 128, "min_steps": 1, "max_steps": 6, "sizes": {"minibehavior": {"7": 1}}},
 "codebook": {"K": 128, "max_iters": 2}, "pack": {"shard_samples": 5}}
J
"$MVOT_BIN" build --quiet --config "$T/cfg.json" --out "$T/b" --threads 2
D="$T/b/shards"
n=$($PY -c "import json;print(json.load(open('$D/manifest.json'))['totals']['samples'])")
[ "$n" -gt 10 ] || { echo "too few samples: $n"; exit 1; }
for ((i = 0; i < n; i++)); do "$MVOT_BIN" cat --json "$D" "$i"; done > "$T/cat.jsonl"
PYTHONPATH="$MVOT_SRC/tools/python" $PY - "$D" "$T/cat.jsonl" <<'P'
import json, sys
from mvot_reader import open_shards, ShardSet
d, catf = sys.argv[1], sys.argv[2]
cat = [json.loads(l) for l in open(catf)]
got = list(open_shards(d))
assert len(got) == len(cat), (len(got), len(cat))
for g, c in zip(got, cat):
    assert g["key"] == c["key"], (g["key"], c["key"])
    assert g["input_ids"].tolist() == c["input_ids"], g["key"]
    assert g["labels"].tolist() == c["labels"], g["key"]
    assert (g["labels"] == -100).sum() > 0 and (g["labels"] != -100).sum() > 0
    assert g["meta"] == c["meta"], g["key"]
ds = ShardSet(d)
for c in cat[::3]:
    s = ds.find(c["key"])
    assert s["input_ids"].tolist() == c["input_ids"]
assert ds[-1]["key"] == cat[-1]["key"]
print("python reader ok:", len(got), "samples")
P
