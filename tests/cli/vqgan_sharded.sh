#!/bin/bash
# --vqgan / codebook import on the Hugging Face sharded layout: a synthetic chameleon-style
# checkpoint (BF16 language-model tensors and FP32/BF16 model.vqmodel.* tensors over three
# shard files plus model.safetensors.index.json) imports the same codebook from the index file
# and from the folder as from one file; extract-vqgan writes exactly the model.vqmodel.*
# tensors; pack refuses a folder with one line naming extract-vqgan (exit 2); an index naming
# a missing shard fails with one line naming that shard (exit 1).
set -u
. "$MVOT_SRC/tests/cli/lib.bash"
BIN=${MVOT_BIN:?}
T=$(t_tmp)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$T" <<'PY' || exit 1
import json, os, struct, sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
def bf16(a):
    return (a.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
T = {  # name: (dtype, array, shard)
    "model.embed_tokens.weight": ("BF16", bf16(rng.standard_normal((64, 8))), 1),
    "model.layers.0.mlp.down_proj.weight": ("BF16", bf16(rng.standard_normal((8, 16))), 1),
    "model.vqmodel.encoder.conv_in.weight": ("F32", rng.standard_normal((32, 3, 3, 3)).astype(np.float32), 2),
    "model.vqmodel.quantize.embedding.weight": ("F32", rng.standard_normal((24, 8)).astype(np.float32), 2),
    "model.vqmodel.quant_conv.weight": ("BF16", bf16(rng.standard_normal((8, 8, 1, 1))), 3),
    "lm_head.weight": ("BF16", bf16(rng.standard_normal((64, 8))), 3),
}
def write(path, items):
    hdr, blobs, off = {}, [], 0
    for name, (dt, a, _) in items:
        raw = a.tobytes()
        hdr[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw); off += len(raw)
    h = json.dumps(hdr).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
os.makedirs(f"{d}/model")
wm = {}
for s in (1, 2, 3):
    f = f"model-{s:05d}-of-00003.safetensors"
    write(f"{d}/model/{f}", [(n, v) for n, v in sorted(T.items()) if v[2] == s])
    wm.update({n: f for n, v in T.items() if v[2] == s})
json.dump({"metadata": {"total_size": 0}, "weight_map": wm}, open(f"{d}/model/model.safetensors.index.json", "w"))
os.makedirs(f"{d}/one")
write(f"{d}/one/model.safetensors", sorted(T.items()))
os.makedirs(f"{d}/broken")
json.dump({"weight_map": {"model.vqmodel.quantize.embedding.weight": "model-00009-of-00009.safetensors"}},
          open(f"{d}/broken/model.safetensors.index.json", "w"))
PY
# the imported codebook's tensors (its metadata names the source, so the file hash differs)
hash_of() {
    "$BIN" codebook import --vqgan "$1" --out "$2" --quiet || return
    /usr/bin/python3 -c "
import hashlib, json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = {k: v for k, v in json.loads(b[8:8 + n]).items() if k != '__metadata__'}
print(hashlib.sha256(json.dumps(h, sort_keys=True).encode() + b[8 + n:]).hexdigest()[:16])" "$2"
}
h1=$(hash_of "$T/one/model.safetensors" "$T/cb1.safetensors")
h2=$(hash_of "$T/model/model.safetensors.index.json" "$T/cb2.safetensors")
h3=$(hash_of "$T/model" "$T/cb3.safetensors")
h4=$(hash_of "$T/model/" "$T/cb4.safetensors")
[ -n "$h1" ] || fail "no hash from the single file"
expect_eq "$h2" "$h1" "codebook from the index file"
expect_eq "$h3" "$h1" "codebook from the folder"
expect_eq "$h4" "$h1" "codebook from the folder with a trailing slash"

"$BIN" codebook extract-vqgan --vqgan "$T/model" --out "$T/vq.safetensors" --quiet
expect_eq "$?" 0 "extract-vqgan"
names=$(/usr/bin/python3 -c "
import json, struct, sys
b = open('$T/vq.safetensors', 'rb').read()
print(' '.join(sorted(k for k in json.loads(b[8:8 + struct.unpack('<Q', b[:8])[0]]) if k != '__metadata__')))")
expect_eq "$names" "model.vqmodel.encoder.conv_in.weight model.vqmodel.quant_conv.weight model.vqmodel.quantize.embedding.weight" "extracted names"
expect_eq "$(hash_of "$T/vq.safetensors" "$T/cb5.safetensors")" "$h1" "codebook from the extract"
expect_usage_error "$BIN" codebook extract-vqgan --vqgan "$T/model" --out "$T/vq.safetensors"

expect_usage_error "$BIN" pack --episodes "$T" --tokenizer "$T/t.json" --codebook "$T/model" --out "$T/p"
"$BIN" pack --episodes "$T" --tokenizer "$T/t.json" --codebook "$T/model" --out "$T/p" 2>&1 |
    grep -q "extract-vqgan" || fail "pack's message does not name extract-vqgan"
[ ! -e "$T/p" ] || fail "pack created its output before refusing"

"$BIN" codebook import --vqgan "$T/broken" --out "$T/cb6.safetensors" 2> "$T/err"
expect_eq "$?" 1 "index naming a missing shard"
expect_eq "$(grep -c . "$T/err")" 1 "one error line"
grep -q "broken/model-00009-of-00009.safetensors: missing" "$T/err" || fail "message: $(cat "$T/err")"
finish
