#!/bin/bash
# tools/python/convert_vqgan_ckpt.py on synthetic Meta-style checkpoints made here with torch
# (a state_dict of encoder./decoder./quantize./quant_conv./post_quant_conv. tensors from
# tests/vqgan/ref.py's module tree, plus training-only loss.* tensors and Lightning fields):
# the output holds exactly the VQGAN tensors under model.vqmodel. with the checkpoint's
# values, mvot encodes and decodes with it, an encoder-only conversion is refused for decode
# and inspect with the no-decoder message (build packs with it, without preview), a pickle
# carrying code is refused without running it, and an existing output is never replaced.
# Exits 77 (skipped) without torch.
set -u
. "$MVOT_SRC/tests/cli/lib.bash"
BIN=${MVOT_BIN:?}
PY=/usr/bin/python3
CONV="$MVOT_SRC/tools/python/convert_vqgan_ckpt.py"
if ! "$PY" -c 'import torch, numpy' 2> /dev/null; then
    echo "SKIP: $PY with torch and numpy (Debian python3-torch) is required"
    exit 77
fi
T=$(t_tmp)
trap 'rm -rf "$T"' EXIT
"$PY" - "$MVOT_SRC" "$T" <<'PY' || exit 1
import os, sys
import torch
src, d = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "vqgan"))
import ref
m = ref.VQModel(32, 256, 64, decoder=True)
ref.init_weights(m, 5)
sd = {k: v.clone() for k, v in m.state_dict().items()}
sd["loss.discriminator.main.0.weight"] = torch.randn(8, 3, 4, 4)
sd["loss.logvar"] = torch.zeros(())
torch.save({"state_dict": sd, "epoch": 7, "global_step": 1000}, f"{d}/vqgan.ckpt")
enc = {k: v.to(torch.bfloat16) for k, v in sd.items() if not k.startswith("decoder.")}
torch.save({"state_dict": enc}, f"{d}/enc_bf16.ckpt")
class Evil:
    def __reduce__(self):
        return (os.system, (f"touch {d}/pwned",))
torch.save({"state_dict": sd, "hyper_parameters": Evil()}, f"{d}/evil.ckpt")
torch.save({"state_dict": {"foo.weight": torch.zeros(2)}}, f"{d}/notvq.ckpt")
PY
[ ! -e "$T/pwned" ] || { echo "the test's own torch.save ran the payload"; exit 1; }

"$PY" "$CONV" "$T/vqgan.ckpt" --out "$T/vq.safetensors" > "$T/out.txt"
expect_eq "$?" 0 "convert exit status"
grep -q "with decoder" "$T/out.txt" || fail "summary: $(cat "$T/out.txt")"
grep -q "2 dropped (loss.\*)" "$T/out.txt" || fail "summary: $(cat "$T/out.txt")"
# names and values: exactly the state_dict's VQGAN tensors, prefixed
"$PY" - "$T" <<'PY' || fail "tensor names or values differ"
import json, struct, sys
import numpy as np, torch
d = sys.argv[1]
sd = torch.load(f"{d}/vqgan.ckpt", weights_only=True)["state_dict"]
raw = open(f"{d}/vq.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n])
h.pop("__metadata__")
want = {"model.vqmodel." + k for k in sd if not k.startswith("loss.")}
assert set(h) == want, sorted(set(h) ^ want)[:5]
for k, info in h.items():
    b, e = info["data_offsets"]
    got = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=np.float32).reshape(info["shape"])
    assert info["dtype"] == "F32" and np.array_equal(got, sd[k[len("model.vqmodel."):]].numpy()), k
PY
"$BIN" codebook import --vqgan "$T/vq.safetensors" --out "$T/cb.safetensors" --quiet
expect_eq "$?" 0 "codebook import of the conversion"
"$PY" -c "
import numpy as np, struct, zlib, sys
S = 128
px = (np.indices((S, S)).sum(0) % 256).astype(np.uint8)
img = np.stack([px, px[::-1], px.T], -1)
raw = b''.join(b'\0' + img[y].tobytes() for y in range(S))
def chunk(t, b): return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b))
open('$T/in.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', S, S, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
"
"$BIN" tokenize-image --vqgan "$T/vq.safetensors" --image-size 128 --in "$T/in.png" \
    --out "$T/codes.npy" --quiet
expect_eq "$?" 0 "encode with the conversion"
"$BIN" tokenize-image --vqgan "$T/vq.safetensors" --image-size 128 --decode --in "$T/codes.npy" \
    --out "$T/dec.png" --quiet
expect_eq "$?" 0 "decode with the conversion"

# encoder-only, BF16 kept, no prefix: loads, decode says why it cannot
"$PY" "$CONV" "$T/enc_bf16.ckpt" --out "$T/enc.safetensors" --prefix none > "$T/out2.txt"
expect_eq "$?" 0 "convert encoder-only"
grep -q "encoder-only" "$T/out2.txt" || fail "summary: $(cat "$T/out2.txt")"
grep -q '"BF16"' "$T/enc.safetensors" || fail "dtype not kept"
"$BIN" tokenize-image --vqgan "$T/enc.safetensors" --image-size 128 --decode --in "$T/codes.npy" \
    --out "$T/dec2.png" 2> "$T/err"
expect_eq "$?" 2 "decode without decoder"
grep -q "no decoder.\* tensors (encoder-only, like the Hugging Face conversion of facebook/chameleon-7b)" "$T/err" ||
    fail "no-decoder message: $(cat "$T/err")"

# build packs with it but writes no preview (saying why); inspect then stops naming the file
cat > "$T/cfg.json" << 'J'
{"gen": {"episodes": 1, "image_size": 128, "min_steps": 1, "max_steps": 6, "tasks": ["maze"],
         "sizes": {"maze": {"3": 1}}},
 "pack": {"store_frames": false, "image_seq_length": 64}}
J
"$BIN" build --config "$T/cfg.json" --codebook "$T/enc.safetensors" --out "$T/b" 2> "$T/err" > /dev/null
expect_eq "$?" 0 "build with an encoder-only VQGAN"
[ ! -e "$T/b/preview.png" ] || fail "preview written without a decoder"
grep -q "no preview.png: .*enc.safetensors: this VQGAN checkpoint has no decoder" "$T/err" ||
    fail "build note: $(cat "$T/err")"
"$BIN" inspect "$T/b/shards" 0 --out "$T/insp" 2> "$T/err"
expect_eq "$?" 1 "inspect without a decoder"
grep -q "shards/vqgan.safetensors: this VQGAN checkpoint has no decoder" "$T/err" ||
    fail "inspect message: $(cat "$T/err")"

# a pickle with code in it is refused, and the code does not run
"$PY" "$CONV" "$T/evil.ckpt" --out "$T/evil.safetensors" 2> "$T/err"
expect_eq "$?" 1 "evil checkpoint"
grep -q "never unpickles code" "$T/err" || fail "evil message: $(cat "$T/err")"
[ ! -e "$T/pwned" ] || fail "the checkpoint's code ran"
[ ! -e "$T/evil.safetensors" ] || fail "output written for a refused checkpoint"
"$PY" "$CONV" "$T/notvq.ckpt" --out "$T/x.safetensors" 2> "$T/err"
expect_eq "$?" 1 "not a VQGAN"
grep -q "no encoder.conv_in.weight" "$T/err" || fail "not-VQGAN message: $(cat "$T/err")"
# never replaces a file
"$PY" "$CONV" "$T/vqgan.ckpt" --out "$T/vq.safetensors" 2> "$T/err"
expect_eq "$?" 2 "existing output"
finish
