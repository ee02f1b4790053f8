#!/bin/bash
# mvot_data (tools/python): the streaming and map-style datasets and the generic collate on a
# tiny build (tests/python/test_datasets.py: order, exact resume, ranks, DataLoader workers).
set -euo pipefail
PY=/usr/bin/python3
$PY -c 'import numpy, zstandard' 2>/dev/null || { echo "skip: python3-numpy/zstandard missing"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$MVOT_BIN" build --quiet --config "$MVOT_SRC/tests/python/tiny-build.json" --out "$T/b" --threads 2
PYTHONPATH="$MVOT_SRC/tools/python" $PY "$MVOT_SRC/tests/python/test_datasets.py" "$T/b/shards"
# docs/training.md's input pipeline, as printed there, on this set
if $PY -c 'import torch' 2>/dev/null; then
  awk '/^## A PyTorch input pipeline/{f=1} f&&/^```python/{p=1;next} p&&/^```/{exit} p' \
    "$MVOT_SRC/docs/training.md" | sed "s|\"mvot-out/shards\"|\"$T/b/shards\"|" > "$T/pipeline.py"
  grep -q "StreamingDataset" "$T/pipeline.py" || { echo "pipeline block not found in docs/training.md"; exit 1; }
  [ "$(wc -l < "$T/pipeline.py")" -le 22 ] || { echo "the documented pipeline grew past 20 lines"; exit 1; }
  (cd "$T" && PYTHONPATH="$MVOT_SRC/tools/python" $PY pipeline.py && test -s data-state.pt)
  echo "docs/training.md pipeline ok"
fi
