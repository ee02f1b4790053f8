#!/bin/bash
# MINIBEHAVIOR captions survive packing: in every packed sample (mvot and trajectory modes),
# every "<image>" of the input and the label is followed by "Carrying objects: None. " or
# "Carrying objects: printer_0. ".
set -euo pipefail
BIN=${MVOT_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat > "$T/cfg.json" <<'J'
{"gen": {"episodes": 2, "image_size": 128, "tasks": ["minibehavior"], "sizes": {"minibehavior": {"7": 1}}},
 "codebook": {"K": 64, "max_iters": 2}}
J
"$BIN" build --quiet --config "$T/cfg.json" --out "$T/b"
B="$T/b"
"$BIN" pack --quiet --episodes "$B/episodes" --tokenizer "$B/shards/tokenizer.json" \
  --codebook "$B/shards/codebook.safetensors" --image-seq-length 64 --mode trajectory --out "$T/t"
for d in "$B/shards" "$T/t"; do
  zstd -dc "$d/shard-000000.tar.zst" > "$T/s.tar"
  /usr/bin/python3 - "$T/s.tar" <<'P'
import json, re, sys, tarfile
t = tarfile.open(sys.argv[1])
n = 0
for m in t.getmembers():
    if not m.name.endswith(".json"):
        continue
    meta = json.loads(t.extractfile(m).read())
    for field in ("input_text", "label_text"):
        s = meta[field]
        imgs = s.count("<image>")
        caps = len(re.findall(r"<image>Carrying objects: (None|printer_0)\. ", s))
        assert imgs == caps, (m.name, field, s[-200:])
    n += 1
assert n > 0
print(n, "samples: every image carries its caption")
P
done
