#!/bin/bash
# mvot codebook train/stats/distances on a small gen archive: byte-identical codebooks for
# --threads 1 and 2 (exact and k-means paths), the exact codebook reproduces every frame
# (stats PSNR null = lossless), the distance matrix matches a naive numpy double loop, and
# each bad input is one clear line with the right exit code.
set -u
. "$MVOT_SRC/tests/cli/lib.bash"
BIN=${MVOT_BIN:?}
T=$(t_tmp)
trap 'rm -rf "$T"' EXIT
"$BIN" gen --task all --episodes 4 --seed 3 --image-size 128 --quiet --out "$T/g" || exit 1
A="$T/g/episodes.tar.zst"
for th in 1 2; do
    "$BIN" codebook train --episodes "$A" --out "$T/exact$th.safetensors" --threads $th --quiet || fail "train exact --threads $th"
    "$BIN" codebook train --episodes "$A" --out "$T/km$th.safetensors" --k 24 --seed 5 --threads $th --quiet || fail "train k=24 --threads $th"
done
T_CHECKS=$((T_CHECKS + 2))
cmp -s "$T/exact1.safetensors" "$T/exact2.safetensors" || fail "exact codebooks differ across --threads"
cmp -s "$T/km1.safetensors" "$T/km2.safetensors" || fail "k-means codebooks differ across --threads"

st=$("$BIN" codebook stats --codebook "$T/exact1.safetensors" --episodes "$A" --atlas "$T/atlas.png" --histogram --json --quiet)
expect_eq "$(printf '%s' "$st" | /usr/bin/python3 -c 'import json,sys; u=json.load(sys.stdin)["usage"]; print(u["psnr_db"], u["dead_codes"], sum(u["histogram"]) == u["patches"])')" \
    "None 0 True" "exact codebook stats (psnr null, no dead codes, histogram sums)"
st=$("$BIN" codebook stats --codebook "$T/km1.safetensors" --episodes "$A" --json --quiet)
expect_eq "$(printf '%s' "$st" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["K"], j["usage"]["psnr_db"] > 15)')" \
    "24 True" "k-means codebook stats"
[ -s "$T/atlas.png" ] || fail "no atlas"

"$BIN" codebook distances --codebook "$T/km1.safetensors" --out "$T/d.npy" --quiet || fail "distances .npy"
"$BIN" codebook distances --codebook "$T/km1.safetensors" --out "$T/d.safetensors" --quiet || fail "distances .safetensors"
T_CHECKS=$((T_CHECKS + 1))
/usr/bin/python3 - "$T/km1.safetensors" "$T/d.npy" "$T/d.safetensors" <<'PY' || fail "distance matrix vs naive loop"
import json, struct, sys
import numpy as np
def st(path):
    b = open(path, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
    return h, b[8 + n:]
h, data = st(sys.argv[1])
t = h["codebook"]; a, e = t["data_offsets"]
cb = np.frombuffer(data[a:e], dtype=np.uint8).reshape(t["shape"]).astype(np.float64)
K = cb.shape[0]
ref = np.zeros((K, K))
for i in range(K):
    for j in range(K):
        ref[i, j] = np.sqrt(((cb[i] - cb[j]) ** 2).sum())
d = np.load(sys.argv[2])
assert d.dtype == np.float32 and d.shape == (K, K), (d.dtype, d.shape)
assert np.array_equal(d, ref.astype(np.float32)), np.abs(d - ref).max()
h2, data2 = st(sys.argv[3])
t2 = h2["distances"]; a, e = t2["data_offsets"]
assert np.array_equal(np.frombuffer(data2[a:e], dtype="<f4").reshape(K, K), d)
PY

# bad inputs: one line each
expect_usage_error "$BIN" codebook train --out "$T/x.safetensors"
expect_usage_error "$BIN" codebook train --episodes "$A" --out "$T/x.safetensors" --k 0
expect_usage_error "$BIN" codebook frobnicate
expect_usage_error "$BIN" codebook distances --codebook "$T/km1.safetensors" --out "$T/d.txt"
head -c 100 "$T/km1.safetensors" > "$T/trunc.safetensors"
T_CHECKS=$((T_CHECKS + 1))
err=$("$BIN" codebook stats --codebook "$T/trunc.safetensors" --atlas "$T/a2.png" 2>&1 >/dev/null); rc=$?
[ "$rc" = 1 ] && [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] && printf '%s' "$err" | grep -q trunc.safetensors \
    || fail "truncated codebook: rc $rc, stderr: $err"
T_CHECKS=$((T_CHECKS + 1))
err=$("$BIN" codebook train --episodes "$T/nope.tar.zst" --out "$T/x.safetensors" 2>&1 >/dev/null); rc=$?
[ "$rc" = 1 ] && [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] || fail "missing archive: rc $rc, stderr: $err"
finish
