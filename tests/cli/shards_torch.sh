#!/bin/bash
# make_torch_dataset() of tools/python/mvot_reader.py: a map-style PyTorch Dataset over a
# C-written shard set whose items equal `mvot cat --json` (input_ids and labels as tensors).
# Needs python3-torch (heavy tier); exits 77 without it.
set -euo pipefail
PY=/usr/bin/python3
$PY -c 'import numpy, zstandard, torch' 2>/dev/null ||
    { echo "skip: python3-torch (or numpy/zstandard) missing"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cat > "$T/cfg.json" <<'J'
{"gen": {"episodes": 1, "image_size": 128, "min_steps": 1, "max_steps": 4, "sizes": {"minibehavior": {"7": 1}}},
 "codebook": {"K": 64, "max_iters": 2}}
J
"$MVOT_BIN" build --quiet --config "$T/cfg.json" --out "$T/b" --threads 2
D="$T/b/shards"
n=$($PY -c "import json;print(json.load(open('$D/manifest.json'))['totals']['samples'])")
for ((i = 0; i < n; i++)); do "$MVOT_BIN" cat --json "$D" "$i"; done > "$T/cat.jsonl"
PYTHONPATH="$MVOT_SRC/tools/python" $PY - "$D" "$T/cat.jsonl" <<'P'
import json, sys
from mvot_reader import make_torch_dataset
d, catf = sys.argv[1], sys.argv[2]
cat = [json.loads(l) for l in open(catf)]
td = make_torch_dataset(d)
assert len(td) == len(cat), (len(td), len(cat))
for i in (0, len(cat) - 1):
    x = td[i]
    assert x["input_ids"].tolist() == cat[i]["input_ids"], i
    assert x["labels"].tolist() == cat[i]["labels"], i
print("torch Dataset ok:", len(td), "samples")
P
