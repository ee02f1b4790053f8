#!/bin/bash
# The official MVoT evaluator, run unchanged on our --style official ground-truth frames as
# if they were the model's sketches (tests/cli/official_eval.py): MAZE through the official
# loader on an export-mvot folder (640x480 frames) and from the archive's own 512x512 frames,
# MINIBEHAVIOR on the records directly (it has no official loader). Both must score overall visualization accuracy 1 and redundancy 0. The official
# samples' own frames go through the same harness first as a calibration of the harness: they
# must score what they are known to score (29 examples, 0.979885, redundancy 0).
# Skipped (77) without the reference data (MVOT_REFERENCE_DIR) or without torch, numpy and PIL.
set -u
BIN=${MVOT_BIN:?}
REF=${MVOT_REFERENCE_DIR:-}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
[ -n "$REF" ] && [ -f "$REF/mvot-official/utils/evaluator.py" ] ||
    { echo "skip: no official evaluator in the reference data (MVOT_REFERENCE_DIR='$REF')"; exit 77; }
"$PY" -c "import torch, numpy, PIL" 2>/dev/null || { echo "skip: no python3 torch/numpy/PIL"; exit 77; }
. "$HERE/lib.bash"
T=$(t_tmp)
trap 'rm -rf "$T"' EXIT

score() { "$PY" "$HERE/official_eval.py" "$REF" "$@" 2>"$T/py.err" || { cat "$T/py.err" >&2; echo '{}'; }; }
field() { "$PY" -c "import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))" "$1" "$2"; }

cal=$(score maze "$REF/mvot-data-samples")
echo "official samples: $cal"
expect_eq "$(field "$cal" examples)" 29 "calibration examples"
expect_eq "$(field "$cal" simulation_visualization_overall_acc)" 0.979885 "calibration accuracy"
expect_eq "$(field "$cal" simulation_visualization_redundancy)" 0.0 "calibration redundancy"

"$BIN" gen --task maze --episodes 40 --seed 11 --style official --out "$T/maze" --quiet || exit 1
# export-mvot draws official-style maze frames at 640x480, as the official data has them; the
# harness resizes them to 512 as the evaluator's box mapping assumes
"$BIN" export-mvot "$T/maze" --out "$T/maze-x" --quiet || exit 1
"$PY" -c "from PIL import Image; import sys; print(*Image.open(sys.argv[1]).size)" \
    "$T/maze-x/maze/grid3/path_0_1.jpg" >"$T/size" 2>/dev/null
expect_eq "$(cat "$T/size")" "640 480" "exported maze frame size"
m=$(score maze "$T/maze-x")
echo "maze, official style, exported 640x480 through the official loader: $m"
expect_eq "$(field "$m" simulation_visualization_overall_acc)" 1.0 "maze accuracy (export)"
expect_eq "$(field "$m" simulation_visualization_redundancy)" 0.0 "maze redundancy (export)"
[ "$(field "$m" examples)" -ge 100 ] 2>/dev/null || fail "maze: too few examples scored: $m"
# the archive's own S x S frames (what pack tokenizes) as the sketches, unresized
mkdir "$T/maze-a" && tar --zstd -xf "$T/maze/episodes.tar.zst" -C "$T/maze-a" || exit 1
a=$(score maze-archive "$T/maze-a")
echo "maze, official style, archive frames: $a"
expect_eq "$(field "$a" simulation_visualization_overall_acc)" 1.0 "maze accuracy (archive)"
expect_eq "$(field "$a" simulation_visualization_redundancy)" 0.0 "maze redundancy (archive)"
expect_eq "$(field "$a" examples)" "$(field "$m" examples)" "maze examples, archive vs loader"

"$BIN" gen --task minibehavior --episodes 30 --seed 11 --style official --out "$T/mb" --quiet || exit 1
mkdir "$T/mb-x" && tar --zstd -xf "$T/mb/episodes.tar.zst" -C "$T/mb-x" || exit 1
b=$(score minibehavior "$T/mb-x")
echo "minibehavior, official style: $b"
expect_eq "$(field "$b" simulation_visualization_overall_acc)" 1.0 "minibehavior accuracy"
expect_eq "$(field "$b" simulation_visualization_redundancy)" 0.0 "minibehavior redundancy"
[ "$(field "$b" examples)" -ge 100 ] 2>/dev/null || fail "minibehavior: too few examples scored: $b"
finish
