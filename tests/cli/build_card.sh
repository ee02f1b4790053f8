#!/bin/bash
# mvot build writes a dataset card (OUT/README.md) whose YAML front matter parses and follows
# the manifest: license, one config per split (or "all" for a set mixing splits) listing
# exactly the manifest's shard files (by their path from OUT), the citation. A second build
# into the same OUT replaces its own card.
set -euo pipefail
PY=/usr/bin/python3
$PY -c 'import yaml' 2>/dev/null || { echo "skip: python3-yaml missing"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$MVOT_BIN" build --quiet --config "$MVOT_SRC/tests/python/tiny-build.json" --out "$T/b" --threads 2
"$MVOT_BIN" build --quiet --config "$MVOT_SRC/tests/python/tiny-build.json" --out "$T/b" --threads 2
$PY - "$T/b" <<'P'
import json, os, sys
import yaml
out = sys.argv[1]
d = os.path.join(out, "shards")
m = json.load(open(os.path.join(d, "manifest.json")))
text = open(os.path.join(out, "README.md")).read()
assert text.startswith("---\n")
front = yaml.safe_load(text.split("---\n")[1])
assert front["license"] == "cc-by-4.0", front["license"]
files = ["shards/" + r["file"] for r in m["shards"]]
got = {c["config_name"]: c["data_files"] for c in front["configs"]}
if all("split" in r for r in m["shards"]):
    splits = {s for per in m["stats"]["tasks"].values() for s in per}
    assert set(got) == splits, (set(got), splits)
    for s, df in got.items():
        assert df == [{"split": s, "path": ["shards/" + r["file"] for r in m["shards"] if r["split"] == s]}]
else:
    assert got == {"all": [{"split": "all", "path": files}]}, got
    for f in files:
        assert os.path.exists(os.path.join(out, f)), f
assert [f["name"] for f in front["dataset_info"]["features"]][:2] == ["__key__", "tokens.npy"]
assert "arXiv:2501.07542" in text and "Meta's terms" in text
print("dataset card ok:", list(got))
P
