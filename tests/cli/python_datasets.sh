#!/bin/bash
# mvot_data (tools/python): the streaming and map-style datasets and the generic collate on a
# tiny build (tests/python/test_datasets.py: order, exact resume, ranks, DataLoader workers).
set -euo pipefail
PY=/usr/bin/python3
$PY -c 'import numpy, zstandard' 2>/dev/null || { echo "skip: python3-numpy/zstandard missing"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$MVOT_BIN" build --quiet --config "$MVOT_SRC/tests/python/tiny-build.json" --out "$T/b" --threads 2
PYTHONPATH="$MVOT_SRC/tools/python" $PY "$MVOT_SRC/tests/python/test_datasets.py" "$T/b/shards"
