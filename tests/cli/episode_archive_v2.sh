#!/bin/bash
# The episode archive, version 2 (docs/episode-format.md, "Archive"): still a plain .tar.zst
# (`zstd -dc | tar tf` and Python's tarfile list {key}.json, {key}.0.png ... in episode
# order); a split pack reads only the index and its own episodes' frames (a damaged frame
# fails exactly the one part that holds it and the one-process pack, naming the archive);
# and a version 1 archive (one zstd stream, no index) still packs in parts to the
# one-process bytes.
set -u
. "$(dirname "$0")/lib.bash"
BIN=${MVOT_BIN:?}
T=$(t_tmp)
trap 'rm -rf "$T"' EXIT
"$BIN" gen --task all --episodes 4 --seed 7 --image-size 128 --max-steps 4 --quiet \
    --out "$T/ep" || exit 1
A=$T/ep/episodes.tar.zst

# plain tools read it: member names in order, as the records say
zstd -qdc "$A" >"$T/plain.tar" || fail "zstd -dc"
tar tf "$T/plain.tar" >"$T/names.txt" || fail "tar tf"
/usr/bin/python3 - "$T/plain.tar" "$T/names.txt" "$T/ep/manifest.json" <<'P' || fail "member order"
import json, sys, tarfile
names = [m.name for m in tarfile.open(sys.argv[1])]
assert names == open(sys.argv[2]).read().split(), "tar and Python's tarfile disagree"
want, t = [], tarfile.open(sys.argv[1])
for m in t:
    if m.name.endswith(".json"):
        rec = json.load(t.extractfile(m))
        want += [rec["key"] + ".json"] + ["%s.%d.png" % (rec["key"], k) for k in range(len(rec["frames"]) if isinstance(rec["frames"], list) else rec["frames"])]
assert names == want, (names[:6], want[:6])
man = json.load(open(sys.argv[3]))
assert len(want) == man["episodes"] + man["frames"], (len(want), man["episodes"], man["frames"])
assert man["archive_version"] == 2
P
T_CHECKS=$((T_CHECKS + 2))

"$BIN" bpe train --episodes "$A" --out "$T/tok.json" --vocab-size 9000 --quiet || exit 1
"$BIN" codebook train --episodes "$A" --out "$T/cb.safetensors" --k 16 --iters 1 --quiet || exit 1
pack=(pack --tokenizer "$T/tok.json" --codebook "$T/cb.safetensors" --image-seq-length 64
    --shard-samples 6 --threads 1 --quiet)

# a damaged frame (episode 5's): only the part that holds it reads it
mkdir -p "$T/bad" && cp "$T/ep/manifest.json" "$T/bad/" && cp "$A" "$T/bad/episodes.tar.zst"
/usr/bin/python3 - "$T/bad/episodes.tar.zst" <<'P' || fail "damaging a frame"
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
n = struct.unpack_from("<I", b, len(b) - 9)[0]
tab = len(b) - (8 + 12 * n + 9)
sizes = [struct.unpack_from("<I", b, tab + 8 + 12 * i)[0] for i in range(n)]
off = sum(sizes[:5])
b[off + sizes[5] // 2] ^= 0x55
open(sys.argv[1], "wb").write(b)
P
ok=0
failed=0
for i in 0 1 2 3; do
    if "$BIN" "${pack[@]}" --episodes "$T/bad" --part "$i/4" --out "$T/pb" 2>"$T/err$i"; then
        ok=$((ok + 1))
    else
        failed=$((failed + 1))
        T_CHECKS=$((T_CHECKS + 1))
        [ "$(grep -c . "$T/err$i")" = 1 ] || fail "part $i: not one line: $(cat "$T/err$i")"
        grep -q "episodes.tar.zst" "$T/err$i" || fail "part $i: the error does not name the archive"
    fi
done
expect_eq "$ok/$failed" "3/1" "parts of an archive with one damaged frame (ok/failed)"
"$BIN" "${pack[@]}" --episodes "$T/bad" --out "$T/onebad" 2>/dev/null &&
    fail "one-process pack read a damaged frame"
T_CHECKS=$((T_CHECKS + 1))

# version 1 (the same tar as one zstd stream): parts still merge to the one-process bytes
mkdir -p "$T/v1" && cp "$T/ep/manifest.json" "$T/v1/"
zstd -q -3 "$T/plain.tar" -o "$T/v1/episodes.tar.zst" || fail "zstd"
"$BIN" "${pack[@]}" --episodes "$T/v1" --out "$T/one1" || fail "one-process pack of v1"
for i in 0 1 2; do
    "$BIN" "${pack[@]}" --episodes "$T/v1" --part "$i/3" --out "$T/p1" || fail "v1 part $i"
done
"$BIN" merge --quiet "$T/p1"/part-* --out "$T/m1" || fail "merge of v1 parts"
T_CHECKS=$((T_CHECKS + 1))
diff -r -x .mvot.lock "$T/one1" "$T/m1" >/dev/null || fail "v1: merged parts differ from one process"
finish
