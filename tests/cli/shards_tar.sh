#!/bin/bash
# A shard is a plain .tar.zst: `zstd -d | tar t` lists WebDataset members in order with
# reproducible headers, and Python's tarfile reads the decompressed bytes. verify passes, and
# exits 1 naming the shard after a byte flip.
set -euo pipefail
command -v zstd >/dev/null && /usr/bin/python3 -c 'import numpy' 2>/dev/null ||
    { echo "skip: zstd or python3-numpy missing"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cat > "$T/cfg.json" <<'J'
{"gen": {"episodes": 1, "image_size": 128, "min_steps": 1, "max_steps": 6, "sizes": {"minibehavior": {"7": 1}}},
 "codebook": {"K": 64, "max_iters": 2}}
J
"$MVOT_BIN" build --quiet --config "$T/cfg.json" --out "$T/b"
D="$T/b/shards"
zstd -dc "$D/shard-000000.tar.zst" > "$T/s.tar"
tar tvf "$T/s.tar" > "$T/list"
sed -n 1,4p "$T/list"
grep -q ' 0/0 ' "$T/list"
grep -q '1970-01-01 00:00' "$T/list"
first=$(tar tf "$T/s.tar" | sed -n '1,3p' | sed 's/^[^.]*\.//' | tr '\n' ' ')
[ "$first" = "tokens.npy spans.npy json " ] || { echo "member order: $first"; exit 1; }
/usr/bin/python3 - "$T/s.tar" <<'P'
import io, json, sys, tarfile
import numpy as np
t = tarfile.open(sys.argv[1])
m = t.getmembers()
assert all(x.mtime == 0 and x.uid == 0 and x.gid == 0 and x.uname == "" and x.mode == 0o644 for x in m)
tok = np.load(io.BytesIO(t.extractfile(m[0]).read()))
assert tok.dtype == np.uint16 and tok[0] == 0, tok[:4]
meta = json.loads(t.extractfile(m[2]).read())
assert meta["key"] == m[0].name.split(".")[0]
print("tarfile ok:", len(m), "members")
P
"$MVOT_BIN" verify --quiet "$D"
# flip one byte in the middle of the shard: verify must fail and name the shard
size=$(stat -c %s "$D/shard-000000.tar.zst")
printf '\xff' | dd of="$D/shard-000000.tar.zst" bs=1 seek=$((size / 2)) conv=notrunc status=none
if "$MVOT_BIN" verify --quiet "$D" 2> "$T/err"; then echo "verify missed a flipped byte"; exit 1; fi
grep -q 'shard-000000.tar.zst' "$T/err"
echo "ok"
