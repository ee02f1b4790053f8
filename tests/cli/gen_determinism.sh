#!/bin/bash
# mvot gen: same seed + config => byte-identical archive and manifest for --threads 1 and 2;
# a different seed changes the bytes; the tar members are reproducible (mtime 0, uid/gid 0,
# member order = episode order: {key}.json then {key}.0.png ...).
set -u
BIN=${MVOT_BIN:?}
command -v zstd >/dev/null && command -v tar >/dev/null ||
    { echo "skip: the zstd and tar programs are needed to check the archive members"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
args=(gen --task all --episodes 12 --seed 7 --image-size 128 --quiet)
"$BIN" "${args[@]}" --out "$T/a" --threads 1 || exit 1
"$BIN" "${args[@]}" --out "$T/b" --threads 2 || exit 1
"$BIN" gen --task all --episodes 12 --seed 8 --image-size 128 --quiet --out "$T/c" || exit 1
cmp "$T/a/episodes.tar.zst" "$T/b/episodes.tar.zst" || { echo "FAIL: archives differ across --threads"; fail=1; }
cmp "$T/a/manifest.json" "$T/b/manifest.json" || { echo "FAIL: manifests differ across --threads"; fail=1; }
if cmp -s "$T/a/episodes.tar.zst" "$T/c/episodes.tar.zst"; then echo "FAIL: seed ignored"; fail=1; fi
{ # the archive is a plain tar.zst with reproducible members
    zstd -dq "$T/a/episodes.tar.zst" -o "$T/a.tar" || { echo "FAIL: zstd cannot read the archive"; fail=1; }
    tar --numeric-owner -tvf "$T/a.tar" >"$T/list" || { echo "FAIL: tar cannot list"; fail=1; }
    # every member: regular file, 0/0 owner, epoch mtime
    if grep -v '^-rw-r--r-- 0/0 ' "$T/list" | grep -q .; then echo "FAIL: member mode/owner"; head -3 "$T/list"; fail=1; fi
    if grep -v ' 1970-01-01 00:00 ' "$T/list" | grep -q .; then echo "FAIL: member mtime"; head -3 "$T/list"; fail=1; fi
    tar -tf "$T/a.tar" >"$T/names"
    /usr/bin/python3 - "$T/names" <<'PY' || fail=1
import sys, re
names = open(sys.argv[1]).read().split()
i = 0; keys = []
while i < len(names):
    m = re.fullmatch(r'(\w+-\d{6})\.json', names[i])
    if not m: print("FAIL: expected a .json member at", i, names[i]); sys.exit(1)
    key = m.group(1); keys.append(key); i += 1; k = 0
    while i < len(names) and names[i] == f"{key}.{k}.png": i += 1; k += 1
    if k < 2: print("FAIL: episode", key, "has", k, "frames"); sys.exit(1)
want = [f"{t}-{j:06d}" for t in ("maze", "frozenlake", "minibehavior") for j in range(12)]
if keys != want: print("FAIL: episode order", keys[:5]); sys.exit(1)
PY
}
exit $fail
