#!/bin/bash
# The official MVoT evaluator, run unchanged on our --style official ground-truth frames as
# if they were the model's sketches (tests/cli/official_eval.py): MAZE through the official
# loader on an export-mvot folder, MINIBEHAVIOR on the records directly (it has no official
# loader). Both must score overall visualization accuracy 1 and redundancy 0. The official
# samples' own frames go through the same harness first as a calibration of the harness: they
# must score what they are known to score (29 examples, 0.979885, redundancy 0).
# Skipped (77) without the reference folder or without torch, numpy and PIL.
set -u
BIN=${MVOT_BIN:?}
REF=${MVOT_REFERENCE:-${MVOT_SRC:?}/../shared/reference}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
[ -f "$REF/mvot-official/utils/evaluator.py" ] || { echo "skip: no reference folder at $REF"; exit 77; }
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
"$BIN" export-mvot "$T/maze" --out "$T/maze-x" --quiet || exit 1
m=$(score maze "$T/maze-x")
echo "maze, official style: $m"
expect_eq "$(field "$m" simulation_visualization_overall_acc)" 1.0 "maze accuracy"
expect_eq "$(field "$m" simulation_visualization_redundancy)" 0.0 "maze redundancy"
[ "$(field "$m" examples)" -ge 100 ] 2>/dev/null || fail "maze: too few examples scored: $m"

"$BIN" gen --task minibehavior --episodes 30 --seed 11 --style official --out "$T/mb" --quiet || exit 1
mkdir "$T/mb-x" && tar --zstd -xf "$T/mb/episodes.tar.zst" -C "$T/mb-x" || exit 1
b=$(score minibehavior "$T/mb-x")
echo "minibehavior, official style: $b"
expect_eq "$(field "$b" simulation_visualization_overall_acc)" 1.0 "minibehavior accuracy"
expect_eq "$(field "$b" simulation_visualization_redundancy)" 0.0 "minibehavior redundancy"
[ "$(field "$b" examples)" -ge 100 ] 2>/dev/null || fail "minibehavior: too few examples scored: $b"
finish
