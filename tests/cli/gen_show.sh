#!/bin/bash
# mvot show: a contact sheet PNG of one episode (by key and by index); a missing key fails.
set -u
BIN=${MVOT_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
"$BIN" gen --task frozenlake --episodes 3 --seed 1 --image-size 256 --out "$T/g" --quiet || exit 1
"$BIN" show "$T/g" --key frozenlake-000002 --out "$T/s.png" --quiet || { echo "FAIL: show by key"; fail=1; }
"$BIN" show "$T/g/episodes.tar.zst" --index 1 --thumb 128 --out "$T/t.png" --quiet || { echo "FAIL: show by index"; fail=1; }
head -c 8 "$T/s.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || { echo "FAIL: not a PNG"; fail=1; }
"$BIN" show "$T/g" --key maze-000000 --out "$T/u.png" 2>"$T/err"
[ $? -eq 1 ] || { echo "FAIL: missing key should exit 1"; fail=1; }
[ -e "$T/u.png" ] && { echo "FAIL: wrote a sheet for a missing key"; fail=1; }
"$BIN" show "$T/g" --key frozenlake-000000 --thumb 100 --out "$T/v.png" 2>/dev/null
[ $? -eq 2 ] || { echo "FAIL: --thumb not dividing the frame size should exit 2"; fail=1; }
exit $fail
