#!/bin/bash
# Shard format 2 from the command line:
# - a build of the default 40 episodes per task (128 px for speed) with 300-sample shards:
#   per-split folders, and the first train shard holds every task within 5 points of its
#   share of the train split;
# - a split's folder reads that split (cat ROOT/dev 0 == cat ROOT <first dev index>);
# - identity: with two shards swapped, cat, inspect, eval and retokenize exit 1 naming the
#   file; an edited manifest is refused (exit 1), and so is an unlisted shard-like file by
#   verify;
# - format 1 (tests/data/shards-v1): cat and verify read it with a warning, and retokenize
#   migrates it to format 2 with the same tokens and the source's shard boundaries.
set -euo pipefail
PY=/usr/bin/python3
$PY -c 'import numpy, zstandard' 2>/dev/null || { echo "skip: python3-numpy/zstandard missing"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
M=$MVOT_BIN
echo '{"gen": {"image_size": 128}, "codebook": {"K": 64, "max_iters": 1}, "pack": {"shard_samples": 300}}' > "$T/cfg.json"
"$M" build --quiet --config "$T/cfg.json" --out "$T/b" --threads 2
D=$T/b/shards
ls "$D/train/shard-00001-000000.tar.zst" "$D/dev/shard-00000-000000.tar.zst" \
   "$D/test/shard-00000-000000.tar.zst" > /dev/null
$PY - "$D/manifest.json" <<'P'
import json, sys
m = json.load(open(sys.argv[1]))
tot = m["splits"]["train"]["tasks"]
n = sum(v["train"] for v in tot.values())
first = m["shards"][0]
assert first["file"] == "train/shard-00000-000000.tar.zst", first["file"]
for task, v in tot.items():
    share = v["train"] / n
    got = first["stats"]["tasks"].get(task, {}).get("train", 0) / first["samples"]
    print(f"{task}: {100 * got:.1f}% of the first train shard, {100 * share:.1f}% of train")
    assert abs(got - share) <= 0.05, (task, got, share)
assert len(tot) == 3
P

# a split's folder
ntrain=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['splits']['train']['samples'])" "$D/manifest.json")
"$M" cat --json "$D/dev" 0 > "$T/a.json"
"$M" cat --json "$D" "$ntrain" > "$T/b.json"
$PY -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); assert a["key"]==b["key"] and a["input_ids"]==b["input_ids"] and a["meta"]["split"]=="dev"' "$T/a.json" "$T/b.json"

# identity: swap two train shards
"$M" cat --json "$D" 0 > "$T/s0.json"
$PY -c 'import json,sys; s=json.load(open(sys.argv[1])); print(json.dumps({"key": s["key"], "output_ids": [t for t,l in zip(s["input_ids"], s["labels"]) if l != -100]}))' "$T/s0.json" > "$T/pred.jsonl"
S0=$D/train/shard-00000-000000.tar.zst S1=$D/train/shard-00001-000000.tar.zst
mv "$S0" "$T/x"; mv "$S1" "$S0"; mv "$T/x" "$S1"
expect_fail() { # expect_fail NAME CMD...: exit 1 and a message naming shard 0
  local name=$1; shift
  set +e; "$@" > /dev/null 2> "$T/err"; local rc=$?; set -e
  [ $rc -eq 1 ] || { echo "$name: exit $rc, want 1"; cat "$T/err"; exit 1; }
  grep -q 'train/shard-00000-000000.tar.zst' "$T/err" || { echo "$name: error does not name the shard"; cat "$T/err"; exit 1; }
}
expect_fail cat "$M" cat "$D" 0
expect_fail inspect "$M" inspect "$D" 0 --out "$T/ins"
expect_fail eval "$M" eval --truth "$D" --pred "$T/pred.jsonl" --out "$T/ev" --quiet
expect_fail retokenize "$M" retokenize --quiet "$D" --tokenizer "$D/tokenizer.json" --out "$T/rt"
expect_fail verify "$M" verify --quiet "$D"
mv "$S0" "$T/x"; mv "$S1" "$S0"; mv "$T/x" "$S1"
"$M" verify --quiet "$D"
# an unlisted shard-like file
cp "$S0" "$D/dev/shard-00000-000007.tar.zst"
set +e; "$M" verify --quiet "$D" 2> "$T/err"; rc=$?; set -e
[ $rc -eq 1 ] && grep -q 'dev/shard-00000-000007.tar.zst: a shard-like file the manifest does not list' "$T/err" || { echo "unlisted shard: exit $rc"; cat "$T/err"; exit 1; }
rm "$D/dev/shard-00000-000007.tar.zst"
# an edited manifest (a count changed, still valid JSON)
cp "$D/manifest.json" "$T/m.bak"
$PY -c 'import json,sys; p=sys.argv[1]; m=json.load(open(p)); m["shards"][0]["stats"]["dropped"] += 1; json.dump(m, open(p,"w"), indent=2, sort_keys=True)' "$D/manifest.json"
for cmd in cat verify; do
  set +e
  if [ $cmd = cat ]; then "$M" cat "$D" 0 > /dev/null 2> "$T/err"; else "$M" verify --quiet "$D" 2> "$T/err"; fi
  rc=$?; set -e
  [ $rc -eq 1 ] && grep -q 'manifest_xxh3' "$T/err" || { echo "edited manifest, $cmd: exit $rc"; cat "$T/err"; exit 1; }
done
cp "$T/m.bak" "$D/manifest.json"

# format 1: read with a warning, migrated by retokenize
V1=$T/v1
cp -r "$MVOT_SRC/tests/data/shards-v1" "$V1"
want=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['tokenizer']['xxh3'])" "$V1/manifest.json")
got=$($PY -c "import sys; sys.path.insert(0, sys.argv[2]); import mvot_reader; print(mvot_reader.xxh3_hex(open(sys.argv[1],'rb').read()))" "$V1/tokenizer.json" "$MVOT_SRC/tools/python")
[ "$want" = "$got" ] || { echo "the v1 fixture's tokenizer.json does not match its manifest"; exit 1; }
"$M" cat --json "$V1" 0 > /dev/null 2> "$T/err"
grep -q 'warning: .*version 1 carries no identity' "$T/err" || { echo "no v1 warning from cat"; exit 1; }
"$M" verify --quiet "$V1" 2> "$T/err"
grep -q 'warning: .*version 1' "$T/err" || { echo "no v1 warning from verify"; exit 1; }
"$M" retokenize --quiet "$V1" --tokenizer "$V1/tokenizer.json" --out "$T/mig" 2> "$T/err"
grep -q 'warning' "$T/err" || { echo "no v1 warning from retokenize"; exit 1; }
"$M" verify --quiet "$T/mig"
PYTHONPATH="$MVOT_SRC/tools/python" $PY - "$V1" "$T/mig" <<'P'
import json, os, sys, warnings
from mvot_reader import ShardSet, Shard
v1, mig = sys.argv[1:]
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    a = ShardSet(v1)
    assert any("version 1" in str(x.message) for x in w)
b = ShardSet(mig)
assert b.version == 2 and a.version == 1
# same samples, same tokens (same tokenizer and codebook), same order within each split
src_shard = {}
for k, r in enumerate(a.records):
    for key in a._shard(k).keys:
        src_shard[key] = k
bykey = {s["key"]: s for s in a}
assert len(b) == len(a) > 0
for s in b:
    o = bykey[s["key"]]
    assert (s["input_ids"] == o["input_ids"]).all() and (s["labels"] == o["labels"]).all(), s["key"]
    assert s["meta"]["split"] == o["meta"]["split"]
# boundaries: every new shard holds one source shard's samples of one split
for k, r in enumerate(b.records):
    keys = b._shard(k).keys
    assert len({src_shard[x] for x in keys}) == 1, r["file"]
    assert all(bykey[x]["meta"]["split"] == r["split"] for x in keys), r["file"]
print("v1 migrated:", len(b), "samples in", len(b.records), "shards")
P
echo "ok"
