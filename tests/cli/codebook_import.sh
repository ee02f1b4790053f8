#!/bin/bash
# mvot codebook import: a checkpoint's quantize.embedding.weight (F16 with the model.vqmodel.
# prefix, BF16 without) becomes a vqgan codebook with the same values; its distance matrix
# matches numpy within float32 rounding; a file without the tensor is one clear error (exit 1).
set -u
. "$MVOT_SRC/tests/cli/lib.bash"
BIN=${MVOT_BIN:?}
T=$(t_tmp)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$T" <<'PY' || exit 1
import json, struct, sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(4)
w = rng.standard_normal((40, 16)).astype(np.float32)
def write(path, name, arr, dtype):
    raw = arr.tobytes()
    h = json.dumps({name: {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [0, len(raw)]},
                    "encoder.conv_in.weight": {"dtype": "F32", "shape": [1], "data_offsets": [len(raw), len(raw) + 4]}}).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + raw + b"\0\0\0\0")
write(f"{d}/f16.safetensors", "model.vqmodel.quantize.embedding.weight", w.astype(np.float16), "F16")
bf = (w.view(np.uint32) >> 16).astype(np.uint16)  # truncation: exactly representable values below
write(f"{d}/bf16.safetensors", "quantize.embedding.weight", bf, "BF16")
np.save(f"{d}/w16.npy", w.astype(np.float16).astype(np.float32))
np.save(f"{d}/wbf.npy", (bf.astype(np.uint32) << 16).view(np.float32))
write(f"{d}/none.safetensors", "decoder.conv_out.weight", w, "F32")
PY
for k in f16 bf16; do
    "$BIN" codebook import --vqgan "$T/$k.safetensors" --out "$T/cb_$k.safetensors" --quiet || fail "import $k"
    "$BIN" codebook distances --codebook "$T/cb_$k.safetensors" --out "$T/d_$k.npy" --quiet || fail "distances $k"
done
T_CHECKS=$((T_CHECKS + 1))
/usr/bin/python3 - "$T" <<'PY' || fail "imported values / distances"
import json, struct, sys
import numpy as np
d = sys.argv[1]
for k, ref in (("f16", "w16"), ("bf16", "wbf")):
    raw = open(f"{d}/cb_{k}.safetensors", "rb").read(); n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n]); m = h["__metadata__"]
    assert m["kind"] == "vqgan" and m["K"] == "40" and m["D"] == "16" and m["patch"] == "0", m
    t = h["codebook"]; a, b = t["data_offsets"]
    assert t["dtype"] == "F32"
    got = np.frombuffer(raw[8 + n + a:8 + n + b], "<f4").reshape(40, 16)
    want = np.load(f"{d}/{ref}.npy")
    assert np.array_equal(got, want), k
    w = want.astype(np.float64)
    naive = np.sqrt(((w[:, None, :] - w[None, :, :]) ** 2).sum(-1))
    dm = np.load(f"{d}/d_{k}.npy")
    assert dm.dtype == np.float32 and (np.diag(dm) == 0).all() and (dm == dm.T).all()
    assert np.abs(dm - naive).max() <= 1e-5 * np.abs(w).max() * 4, np.abs(dm - naive).max()
PY
T_CHECKS=$((T_CHECKS + 1))
err=$("$BIN" codebook import --vqgan "$T/none.safetensors" --out "$T/x.safetensors" 2>&1 >/dev/null); rc=$?
[ "$rc" = 1 ] && [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] && printf '%s' "$err" | grep -q quantize.embedding.weight \
    || fail "missing tensor: rc $rc, stderr: $err"
expect_usage_error "$BIN" codebook import --out "$T/x.safetensors"
finish
