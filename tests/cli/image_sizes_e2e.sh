#!/bin/bash
# The three image sizes end to end: gen at S px, codebook and BPE training, pack with
# (S/16)^2 codes per image, verify, then eval of perfect predictions (the label ids of every
# sample) scores 100% with no diagnostics. Samples and manifest agree on the image size.
set -uo pipefail
. "$MVOT_SRC/tests/cli/lib.bash"
need_python
T=$(t_tmp); trap 'rm -rf "$T"' EXIT
M=$MVOT_BIN
for S in 128 256 512; do
  N=$(((S / 16) * (S / 16)))
  "$M" gen --quiet --task maze --episodes 2 --seed 4 --image-size $S --max-steps 3 --out "$T/g$S" ||
    { fail "$S: gen"; continue; }
  "$M" codebook train --quiet --episodes "$T/g$S/episodes.tar.zst" --out "$T/cb$S.safetensors" \
    --k 64 --iters 1 || { fail "$S: codebook train"; continue; }
  "$M" bpe train --quiet --episodes "$T/g$S/episodes.tar.zst" --out "$T/tok$S.json" \
    --vocab-size 9000 || { fail "$S: bpe train"; continue; }
  "$M" pack --quiet --episodes "$T/g$S" --tokenizer "$T/tok$S.json" --codebook "$T/cb$S.safetensors" \
    --image-seq-length $N --out "$T/s$S" || { fail "$S: pack"; continue; }
  "$M" verify --quiet "$T/s$S" || fail "$S: verify"
  n=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["samples"])' \
    "$T/s$S/manifest.json")
  for ((i = 0; i < n; i++)); do "$M" cat "$T/s$S" "$i" --json; done > "$T/cat$S.jsonl" || fail "$S: cat"
  got=$("$PY" - "$T/cat$S.jsonl" "$T/perfect$S.jsonl" "$T/s$S/manifest.json" <<'P'
import json, sys
sizes = set()
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as o:
    for line in f:
        s = json.loads(line)
        sizes.add(s["meta"]["image_size"])
        ids = [t for t, l in zip(s["input_ids"], s["labels"]) if l != -100]
        o.write(json.dumps({"key": s["key"], "output_ids": ids}) + "\n")
print(sorted(sizes), json.load(open(sys.argv[3]))["image_size"])
P
  )
  expect_eq "$got" "[$S] $S" "$S: image_size in samples and manifest"
  "$M" eval --quiet --json --truth "$T/s$S" --pred "$T/perfect$S.jsonl" > "$T/sum$S.json"
  expect_eq "$?" 0 "$S: eval exit"
  got=$("$PY" -c '
import json,sys
s=json.load(open(sys.argv[1]))
print(s["accuracy"], s["scored"] == s["lines"] > 0, sum(s["diagnostics"].values()))' "$T/sum$S.json")
  expect_eq "$got" "1.0 True 0" "$S: perfect predictions"
done
finish
