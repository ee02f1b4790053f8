#!/usr/bin/env bash
# docs/cli.md must match what the binary's --help texts say (regenerate with
# scripts/gen-cli-doc.sh build/tools/mvot docs/cli.md).
set -u
. "$MVOT_SRC/tests/cli/lib.bash"
tmp=$(t_tmp); trap 'rm -rf "$tmp"' EXIT
bash "$MVOT_SRC/scripts/gen-cli-doc.sh" "$MVOT_BIN" "$tmp/cli.md"
T_CHECKS=$((T_CHECKS + 1))
diff -u "$MVOT_SRC/docs/cli.md" "$tmp/cli.md" >"$tmp/diff" || fail "docs/cli.md is stale; regenerate it:
$(head -40 "$tmp/diff")"
finish
