#!/bin/bash
# tools/python/mvot_reader.py (numpy + zstandard only) reads C-written shards, and every
# sample's key, input_ids and labels equal `mvot cat --json`; random access by key works;
# selection by split and task (from the index) equals filtering the samples' json; a split's
# folder opens that split; a swapped shard and an edited manifest are refused.
# (The torch Dataset wrapper has its own test, shards_torch.sh, labelled heavy.)
set -euo pipefail
PY=/usr/bin/python3
$PY -c 'import numpy, zstandard' 2>/dev/null || { echo "skip: python3-numpy/zstandard missing"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cat > "$T/cfg.json" <<'J'
{"gen": {"episodes": 4, "image_size": 128, "min_steps": 1, "max_steps": 4, "sizes": {"minibehavior": {"7": 1}},
         "split": {"train": 0.5, "dev": 0.25, "test": 0.25}},
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
got = list(open_shards(d, split=None))
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
import os
from mvot_reader import ShardError
for split in ("train", "dev", "test"):
    for tasks in (None, ["maze"], ["frozenlake", "minibehavior"]):
        want = [c["key"] for c in cat if c["meta"]["split"] == split and
                (tasks is None or c["meta"]["task"] in tasks)]
        sel = ShardSet(d, split=split, tasks=tasks)
        assert [sel.index_fields(i)[0] for i in range(len(sel))] == want, (split, tasks)
        assert [s["key"] for s in sel] == want
assert len(ShardSet(os.path.join(d, "train"))) == len(ShardSet(d, split="train")) > 0
print("python reader ok:", len(got), "samples")
P
# identity: a swapped shard, an edited manifest
PYTHONPATH="$MVOT_SRC/tools/python" $PY - "$D" <<'P'
import json, os, shutil, sys
from mvot_reader import ShardSet, ShardError
d = sys.argv[1]
a, b = (os.path.join(d, "train", "shard-%05d-000000.tar.zst" % i) for i in (0, 1))
os.rename(a, a + ".x"); os.rename(b, a); os.rename(a + ".x", b)
try:
    ShardSet(d, split=None)[0]
    raise SystemExit("swapped shard read")
except ShardError as e:
    assert "shard-00000-000000" in str(e), e
os.rename(a, a + ".x"); os.rename(b, a); os.rename(a + ".x", b)
m = os.path.join(d, "manifest.json")
shutil.copy(m, m + ".bak")
j = json.load(open(m)); j["totals"]["samples"] += 1
json.dump(j, open(m, "w"), indent=2, sort_keys=True)
try:
    ShardSet(d, split=None)
    raise SystemExit("edited manifest read")
except ShardError as e:
    assert "manifest_xxh3" in str(e), e
shutil.move(m + ".bak", m)
print("identity ok")
P
