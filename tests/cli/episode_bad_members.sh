#!/bin/bash
# The episode reader and export-mvot refuse archives that break the documented rules
# (docs/episode-format.md): a record member not named {key}.json (a path such as
# ../../x.json, an absolute name), an answer outside the task's letters, and export-mvot a
# truncated frame. Each is exit 1 with one line naming the problem; the intact archive passes.
set -uo pipefail
. "$MVOT_SRC/tests/cli/lib.bash"
PY=/usr/bin/python3
command -v zstd >/dev/null || { echo "skip: no zstd"; exit 77; }
T=$(t_tmp); trap 'rm -rf "$T"' EXIT
"$MVOT_BIN" gen --quiet --task maze --episodes 2 --image-size 128 --max-steps 3 --out "$T/g" ||
  { echo "gen failed"; exit 1; }
zstd -q -d "$T/g/episodes.tar.zst" -o "$T/g.tar"
# variant NAME EDIT: writes $T/NAME/episodes.tar.zst with the first episode edited by EDIT
variant() {
  mkdir -p "$T/$1"
  "$PY" - "$T/g.tar" "$T/$1/ep.tar" "$2" <<'P' || fail "python edit $2"
import io, json, sys, tarfile
src, dst, edit = sys.argv[1:]
with tarfile.open(src) as a, tarfile.open(dst, "w", format=tarfile.USTAR_FORMAT) as b:
    for i, m in enumerate(a.getmembers()):
        data = a.extractfile(m).read()
        if i == 0 and edit == "dotdot":
            m.name = "../../x.json"
        elif i == 0 and edit == "absolute":
            m.name = "/tmp/x.json"
        elif i == 0 and edit == "answer":
            r = json.loads(data); r["answer"] = "Z"; data = json.dumps(r).encode()
        elif i == 2 and edit == "truncated":
            data = data[:40]
        m.size = len(data)
        b.addfile(m, io.BytesIO(data))
P
  zstd -q "$T/$1/ep.tar" -o "$T/$1/episodes.tar.zst" && rm "$T/$1/ep.tar"
}
expect_fail() { # DIR PATTERN
  T_CHECKS=$((T_CHECKS + 1))
  local err rc
  err=$("$MVOT_BIN" export-mvot --quiet "$T/$1" --out "$T/out-$1" 2>&1 >/dev/null); rc=$?
  [ "$rc" = 1 ] || fail "$1: exit $rc, want 1 ($err)"
  case $err in *"$2"*) ;; *) fail "$1: message lacks '$2': $err" ;; esac
  [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] || fail "$1: not one line: $err"
}
variant same none
"$MVOT_BIN" export-mvot --quiet "$T/same" --out "$T/out-same"
expect_eq "$?" 0 "export of the unedited archive"
variant dotdot dotdot; expect_fail dotdot "want {key}.json"
variant absolute absolute; expect_fail absolute "want {key}.json"
variant answer answer; expect_fail answer 'answer "Z" is not one of A..D'
variant truncated truncated; expect_fail truncated "not a complete PNG"
finish
