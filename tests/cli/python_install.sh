#!/bin/bash
# tools/python installs without PyPI on Debian 12, exactly as docs/training.md says: a venv
# with --system-site-packages, then pip --no-build-isolation --no-index. The installed
# packages (not the source tree) then read a tiny build, and the package version is the
# CMake project version.
set -euo pipefail
PY=/usr/bin/python3
$PY -c 'import numpy, zstandard, setuptools, wheel' 2>/dev/null ||
  { echo "skip: python3-numpy/zstandard/setuptools/wheel missing"; exit 77; }
$PY -m venv --help >/dev/null 2>&1 || { echo "skip: python3-venv missing"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# pip builds in the source folder it is given; build from a copy so the tree stays clean
cp -r "$MVOT_SRC/tools/python" "$T/src"
$PY -m venv --system-site-packages "$T/venv"
"$T/venv/bin/pip" install --quiet --no-build-isolation --no-index "$T/src"
rm -rf "$T/src"
"$MVOT_BIN" build --quiet --config "$MVOT_SRC/tests/python/tiny-build.json" --out "$T/b" --threads 2
want=$(sed -n 's/^project(mvot_data VERSION \([0-9.]*\).*/\1/p' "$MVOT_SRC/CMakeLists.txt")
cd "$T"
"$T/venv/bin/python" - "$T/b/shards" "$T/venv" "$want" <<'P'
import sys
from importlib.metadata import version
import mvot_data, mvot_reader
shards, venv, want = sys.argv[1:4]
for mod in (mvot_data, mvot_reader):
    assert mod.__file__.startswith(venv), mod.__file__
assert version("mvot-data") == want, (version("mvot-data"), want)
ds = mvot_data.MapDataset(shards)
b = mvot_data.collate([ds[0], ds[1]], return_tensors="np")
assert b["input_ids"].dtype.name == "int64" and b["input_ids"].shape[0] == 2
print("installed mvot-data", want, "reads", len(ds), "train samples")
P
