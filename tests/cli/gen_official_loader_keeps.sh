#!/bin/bash
# A 300-episode-per-task export keeps every episode through the official loader: its maze
# wrapper's remove_duplicates (taken from the official file unchanged, by name) drops a maze
# whose path another maze of its grid size already has; every FROZENLAKE sequence is flattened.
# Skipped (77) without the reference data (MVOT_REFERENCE_DIR).
set -u
BIN=${MVOT_BIN:?}
REF=${MVOT_REFERENCE_DIR:-}
R="$REF/mvot-official/utils/processed_data_wrapper"
[ -n "$REF" ] && [ -f "$R/interleaved_maze.py" ] ||
    { echo "skip: no official loader in the reference data (MVOT_REFERENCE_DIR='$REF')"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$BIN" gen --task maze --episodes 300 --seed 5 --image-size 128 --png-level 0 --zstd-level 1 --out "$T/m" --quiet || exit 1
"$BIN" gen --task frozenlake --episodes 300 --seed 5 --image-size 128 --png-level 0 --zstd-level 1 --out "$T/f" --quiet || exit 1
"$BIN" export-mvot "$T/m" --out "$T/x" --quiet || exit 1
"$BIN" export-mvot "$T/f" --out "$T/x" --quiet || exit 1
/usr/bin/python3 - "$R/interleaved_maze.py" "$T/x" <<'PY'
import ast, glob, json, os, sys
src, X = sys.argv[1], sys.argv[2]
# Run only the official function definition: the module's imports (datasets, torch) are not
# needed for it.
tree = ast.parse(open(src).read())
fn = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "remove_duplicates"]
assert len(fn) == 1, "remove_duplicates not found in the official loader"
ns = {}
exec(compile(ast.Module(body=fn, type_ignores=[]), src, "exec"), ns)
kept = total = 0
for f in sorted(glob.glob(os.path.join(X, "maze", "grid*.json"))):
    data = json.load(open(f))
    k = len(ns["remove_duplicates"](data))
    if k != len(data):
        print(f"FAIL: {os.path.basename(f)}: the official loader keeps {k} of {len(data)}")
    kept += k; total += len(data)
seqs = 0
for f in glob.glob(os.path.join(X, "frozenlake", "level*", "data.json")):
    for env in json.load(open(f)).values():
        seqs += len(env["actions"])
print(f"maze: {kept} of {total} kept; frozenlake: {seqs} sequences")
sys.exit(0 if kept == total == 300 and seqs == 300 else 1)
PY
