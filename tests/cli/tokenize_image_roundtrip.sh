#!/bin/bash
# mvot tokenize-image (fixed contract): PNG -> 1-D int64 .npy of (S/16)^2 codes in row-major
# grid order, and --decode back. With an exact codebook the round trip is lossless; codes
# match an independent numpy nearest-code search; bad inputs give one line and exit 2/1.
set -u
. "$MVOT_SRC/tests/cli/lib.bash"
BIN=${MVOT_BIN:?}
T=$(t_tmp)
trap 'rm -rf "$T"' EXIT
"$BIN" gen --task maze --episodes 3 --seed 1 --image-size 256 --quiet --out "$T/g" || exit 1
"$BIN" codebook train --episodes "$T/g/episodes.tar.zst" --out "$T/cb.safetensors" --quiet || exit 1
mkdir -p "$T/x" && tar --zstd -xf "$T/g/episodes.tar.zst" -C "$T/x" || exit 1
PNG=$(ls "$T"/x/*.png | head -1)
"$BIN" tokenize-image --codebook "$T/cb.safetensors" --in "$PNG" --out "$T/c.npy" --image-size 256 --quiet || fail encode
"$BIN" tokenize-image --codebook "$T/cb.safetensors" --decode --in "$T/c.npy" --out "$T/d.png" --image-size 256 --quiet || fail decode
# the 512 default on a 256 frame: resized by the Chameleon preprocessing, 1024 codes
"$BIN" tokenize-image --codebook "$T/cb.safetensors" --in "$PNG" --out "$T/c512.npy" --quiet || fail "encode at 512"
T_CHECKS=$((T_CHECKS + 1))
/usr/bin/python3 - "$PNG" "$T/d.png" "$T/c.npy" "$T/cb.safetensors" "$T/c512.npy" <<'PY' || fail "codes/pixels vs numpy"
import json, struct, sys
import numpy as np
from PIL import Image
a = np.asarray(Image.open(sys.argv[1]).convert("RGB")).astype(np.int64)
b = np.asarray(Image.open(sys.argv[2]).convert("RGB")).astype(np.int64)
assert a.shape == b.shape == (256, 256, 3)
assert (a == b).all(), "exact codebook round trip is not lossless"
c = np.load(sys.argv[3])
assert c.dtype == np.int64 and c.shape == (256,), (c.dtype, c.shape)
raw = open(sys.argv[4], "rb").read(); n = struct.unpack("<Q", raw[:8])[0]; h = json.loads(raw[8:8 + n])
t = h["codebook"]; o0, o1 = t["data_offsets"]
cb = np.frombuffer(raw[8 + n + o0:8 + n + o1], np.uint8).reshape(t["shape"]).astype(np.int64)
patches = a.reshape(16, 16, 16, 16, 3).transpose(0, 2, 1, 3, 4).reshape(256, -1)
d = (patches ** 2).sum(1)[:, None] + (cb ** 2).sum(1)[None, :] - 2 * patches @ cb.T
assert (np.argmin(d, axis=1) == c).all()
assert np.load(sys.argv[5]).shape == (1024,)
PY
expect_usage_error "$BIN" tokenize-image --codebook "$T/cb.safetensors" --in "$PNG"
expect_usage_error "$BIN" tokenize-image --in "$PNG" --out "$T/o.npy"
expect_usage_error "$BIN" tokenize-image --codebook "$T/cb.safetensors" --vqgan "$T/cb.safetensors" --in "$PNG" --out "$T/o.npy"
expect_usage_error "$BIN" tokenize-image --codebook "$T/cb.safetensors" --in "$PNG" --out "$T/o.npy" --image-size 300
expect_usage_error "$BIN" tokenize-image --vqgan "$T/cb.safetensors" --in "$PNG" --out "$T/o.npy"
# codes of the wrong length / out of range for --decode
/usr/bin/python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.zeros(10, np.int64)); np.save(sys.argv[2], np.full(256, 10**6, np.int64))" "$T/short.npy" "$T/big.npy"
expect_usage_error "$BIN" tokenize-image --codebook "$T/cb.safetensors" --decode --in "$T/short.npy" --out "$T/o.png" --image-size 256
expect_usage_error "$BIN" tokenize-image --codebook "$T/cb.safetensors" --decode --in "$T/big.npy" --out "$T/o.png" --image-size 256
T_CHECKS=$((T_CHECKS + 1))
echo "not a png" > "$T/bad.png"
err=$("$BIN" tokenize-image --codebook "$T/cb.safetensors" --in "$T/bad.png" --out "$T/o.npy" 2>&1 >/dev/null); rc=$?
[ "$rc" = 1 ] && [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] || fail "bad png: rc $rc, stderr: $err"
finish
