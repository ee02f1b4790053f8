#!/bin/bash
# import-mvot of the official samples, then export-mvot: the exported maze/grid3.json and
# frozenlake/level3/data.json equal the official ones, the frame file names match one for one,
# and the official loader's image opener (PIL) reads our .jpg-named PNG frames.
set -u
BIN=${MVOT_BIN:?}
: "${MVOT_SRC:?}"
S="${MVOT_REFERENCE_DIR:-}/mvot-data-samples"
[ -n "${MVOT_REFERENCE_DIR:-}" ] && [ -d "$S" ] ||
    { echo "skip: no mvot-data-samples in the reference data (MVOT_REFERENCE_DIR)"; exit 77; }
/usr/bin/python3 -c "import PIL" 2>/dev/null || { echo "skip: no python3-pil"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$BIN" import-mvot "$S" --out "$T/ep" --image-size 256 --quiet || exit 1
"$BIN" export-mvot "$T/ep" --out "$T/x" --quiet || exit 1
/usr/bin/python3 - "$S" "$T/x" <<'PY'
import json, os, sys
from PIL import Image
S, X = sys.argv[1], sys.argv[2]
ok = True
for rel in ("maze/grid3.json", "frozenlake/level3/data.json"):
    a = json.load(open(os.path.join(S, rel))); b = json.load(open(os.path.join(X, rel)))
    if a != b:
        print("FAIL: exported", rel, "differs from the official file"); ok = False
def files(root, sub):
    out = set()
    for d, _, fs in os.walk(os.path.join(root, sub)):
        for f in fs:
            if f.endswith((".jpg", ".png")): out.add(os.path.relpath(os.path.join(d, f), root))
    return out
for sub in ("maze/grid3", "frozenlake/level3"):
    if files(S, sub) != files(X, sub):
        print("FAIL: frame names differ under", sub, sorted(files(S, sub) ^ files(X, sub))[:5]); ok = False
im = Image.open(os.path.join(X, "maze/grid3/path_0_1.jpg"))
if im.format != "PNG" or im.size != (256, 256):
    print("FAIL: PIL read", im.format, im.size); ok = False
im.convert("RGB")
im = Image.open(os.path.join(X, "frozenlake/level3/6/2.png")); im.load()
sys.exit(0 if ok else 1)
PY
