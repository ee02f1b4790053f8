#!/usr/bin/env bash
# No include cycles between modules. A module is a .c/.h pair (its *_internal.h and a folder's
# internal.h belong to it); module A depends on B when any file of A includes B's header.
# A cycle means neither can be read, tested or reused without the other, and it is how a
# later stage ends up including an earlier stage's internals. A self-check first proves that
# the search finds a planted cycle.
set -u
. "$MVOT_SRC/tests/cli/lib.bash"
cd "$MVOT_SRC"

cycles() { # $1: root folder; prints one line per cycle, "a -> b -> a"
  python3 - "$1" <<'EOF'
import os, re, sys
root = sys.argv[1]
folders = ["core", "gen", "tokenize", "codebook", "shards", "tools", "tools/eval"]

def module(path):
    base = os.path.splitext(path)[0]
    if base.endswith("_internal"):
        base = base[: -len("_internal")]
    return base

deps = {}
for f in folders:
    d = os.path.join(root, f)
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d)):
        if not name.endswith((".c", ".h")):
            continue
        rel = f + "/" + name
        with open(os.path.join(root, rel), errors="replace") as fh:
            text = fh.read()
        for inc in re.findall(r'^#include "([^"]+)"', text, re.M):
            if not os.path.exists(os.path.join(root, inc)):
                continue
            a, b = module(rel), module(inc)
            # a folder's internal.h is shared by the folder, not a module of its own
            if a != b and not b.endswith("/internal") and not a.endswith("/internal"):
                deps.setdefault(a, set()).add(b)

found = set()
def walk(node, path, on_path):
    for nxt in sorted(deps.get(node, ())):
        if nxt in on_path:
            cyc = path[path.index(nxt):]
            k = cyc.index(min(cyc))
            found.add(tuple(cyc[k:] + cyc[:k]))
        elif len(path) < 16:
            on_path.add(nxt)
            walk(nxt, path + [nxt], on_path)
            on_path.discard(nxt)
for n in sorted(deps):
    walk(n, [n], {n})
for c in sorted(found):
    print(" -> ".join(c + (c[0],)))
EOF
}

command -v python3 >/dev/null || { echo "python3 not found: skipped"; exit 77; }

T_CHECKS=$((T_CHECKS + 1))
tmp=$(t_tmp)
mkdir -p "$tmp/core"
printf '#include "core/b.h"\n' >"$tmp/core/a.h"
printf '#include "core/a.h"\n' >"$tmp/core/b.c"
: >"$tmp/core/b.h"
got=$(cycles "$tmp")
[ "$got" = "core/a -> core/b -> core/a" ] || fail "the cycle search misses a planted cycle (got '$got')"
rm -rf "$tmp"

T_CHECKS=$((T_CHECKS + 1))
got=$(cycles .)
[ -z "$got" ] || fail "include cycles between modules:
$got"
finish
