#!/bin/bash
# collate(preset="mvot") equals the official MVoT trainer's dataset + collator, run unchanged
# from the reference copy with stand-ins for the processor and VQ model
# (tests/python/test_official_layout.py). Skipped where the reference folder or torch is absent.
set -euo pipefail
PY=/usr/bin/python3
REF="${MVOT_REFERENCE_DIR:-}/mvot-official"
[ -n "${MVOT_REFERENCE_DIR:-}" ] && [ -f "$REF/utils/interleaved_tokenized_dataset.py" ] ||
  { echo "skip: no official MVoT code in the reference data (MVOT_REFERENCE_DIR)"; exit 77; }
$PY -c 'import numpy, zstandard, torch, PIL' 2>/dev/null || { echo "skip: python3-torch/pil missing"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$MVOT_BIN" build --quiet --config "$MVOT_SRC/tests/python/tiny-build.json" --out "$T/b" --threads 2
PYTHONPATH="$MVOT_SRC/tools/python" $PY "$MVOT_SRC/tests/python/test_official_layout.py" \
  "$T/b/shards" "$REF" "$T"
